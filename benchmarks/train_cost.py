"""Training cost of adapterx's setups side by side: memory, tokens/s, forward/backward/optimizer time, MFU.

Every setup is built with adapterx's own pieces (load_backbone, get_method(...).add / compose,
build_model, the Trainer's optimizer from adapterx's TrainingArguments) and trained on the same
fixed synthetic batches (random token ids, fixed lengths, `--pad-frac` of the positions padding).
After `--warmup` steps each, the setups run in interleaved rounds (A B C A B C ...), so that a
busy machine slows them alike and the ratios against full fine-tuning stay fair.

    python benchmarks/train_cost.py --model /tmp/e5 --batch 16 --seq-len 128
    python benchmarks/train_cost.py --shape reduced --setups full,lora,bottleneck
    python benchmarks/train_cost.py --shape xlmr-large --grad-checkpointing      # on a GPU

Memory: on a GPU, each setup's own peak = the bytes it holds between steps (weights, buffers,
optimizer state) + the largest rise of torch.cuda.memory_allocated during one of its steps (its
max_memory_allocated over the step, less what was allocated before). On a CPU torch keeps no
allocator statistics, so the same sum is taken with a tensor-accounting dispatch mode over one
extra (untimed) step (`tensor_peak_mb`), and `rss_delta_mb` is the process's resident memory
during the setup's warm-up less before it was built (after malloc_trim; noisier: includes the
allocator's and libraries' own overheads).
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_common import (TensorPeak, base_parser, chosen_setups, default_output, flops_per_token,  # noqa: E402
                          machine, parameter_counts, peak_tflops, release_memory, resolve_model, rss_bytes,
                          static_bytes, sync, synthetic_batch, synthetic_rows, write_outputs)

SETUPS = ("full", "full-bf16", "full-adam8bit", "lora", "lora-drop", "lora-nodrop", "lora-qv", "bottleneck",
          "lora-8bit", "lora-4bit", "fusion-2", "fusion-8", "lora-fusion-2", "multitask-2", "compacter", "unipelt")
# setups that are a registered method with its default settings
METHOD_SETUPS = ("compacter", "unipelt")
DEFAULT_SETUPS = SETUPS
TASK = "mnli"  # a 3-way classification head (sentence-pair classification, first token)
SECOND_TASK = "sst2"  # the multi-task setup's second head


@dataclass
class Setup:
    """One trained configuration and what was measured on it."""

    name: str
    model: torch.nn.Module
    optimizer: Any
    batches: list[dict]
    device: torch.device
    autocast: torch.dtype | None
    compute_dtype: torch.dtype
    optim: str
    counts: dict[str, int]
    times: dict[str, list[float]] = field(default_factory=lambda: {"forward": [], "backward": [], "optimizer": []})
    step_peak_bytes: int = 0  # largest rise in allocated bytes during one step (GPU)
    static: int = 0
    tensor_peak: int | None = None  # CPU: static + dispatch-mode peak of one step
    rss_delta: int | None = None
    n_steps: int = 0

    def batch(self) -> dict:
        """The next fixed batch (cycled)."""
        self.n_steps += 1
        return self.batches[self.n_steps % len(self.batches)]


def _settings(method: str, optim: str, batch: int, grad_ckpt: bool):
    from adapterx.configs.methods import DEFAULT_LEARNING_RATES
    from adapterx.training import TrainSettings

    return TrainSettings(learning_rate=DEFAULT_LEARNING_RATES[method], epochs=1, batch_size=batch, grad_accum=1,
                         warmup_ratio=0.0, weight_decay=0.01, logging_steps=10**6, seed=0, save_checkpoints=False,
                         gradient_checkpointing=grad_ckpt, optim=optim)


def build_setup(name: str, model_dir: Path, args: argparse.Namespace, device: torch.device,
                rows: list[dict], work: Path) -> Setup:
    """Build setup `name` the way adapterx's recipes do and create its optimizer."""
    from adapterx.backbone import load_backbone
    from adapterx.composition import Composition
    from adapterx.configs.methods import BottleneckSettings, FusionSettings, LoraSettings
    from adapterx.methods import get_method
    from adapterx.recipes.common import build_model
    from adapterx.tasks import get_task
    from adapterx.training import _ModuleTrainer, training_arguments

    task = get_task(TASK)
    quant = {"lora-8bit": "8bit", "lora-4bit": "4bit"}.get(name, "none")
    full = name.startswith("full")
    if name == "full-bf16" and device.type != "cuda":
        raise RuntimeError("bf16 autocast is measured on a GPU only")
    if quant != "none" and device.type == "cpu" and not args.cpu_quant:
        raise RuntimeError("8-bit / 4-bit bases on a CPU are skipped unless --cpu-quant")
    # full fine-tuning keeps fp32 weights (bf16 only through autocast); modules follow --dtype
    bb = load_backbone(str(model_dir), "fp32" if full else args.dtype, quant, str(device))
    method_name = "full" if full else ("lora" if "lora" in name or name.startswith("multitask") else "bottleneck")
    method_name = name if name in METHOD_SETUPS else method_name
    method = get_method(method_name)
    method.prepare(bb)
    # lora-nodrop: LoRA without the dropout on its input (peft then skips it), to show what that
    # dropout costs (each LoRA layer draws its own mask over its whole input); lora-qv: peft's own
    # defaults for this architecture (query and value only, no dropout), the cheapest LoRA
    # lora: adapterx's defaults (dropout 0 since 2026-12-03); lora-drop: the earlier default, 0.1
    lora = {"lora-nodrop": LoraSettings(dropout=0.0), "lora-drop": LoraSettings(dropout=0.1),
            "lora-qv": LoraSettings(dropout=0.0, target_modules=["query", "value"])}.get(name, LoraSettings())
    bottleneck = BottleneckSettings()
    settings = {"lora": lora, "bottleneck": bottleneck, "full": None}.get(method_name)
    if method_name in METHOD_SETUPS:
        from adapterx.methods import method_spec

        settings = method_spec(method_name).settings_cls()
    if name.startswith("fusion") or name.startswith("lora-fusion"):
        k = int(name.rsplit("-", 1)[1])
        names = tuple(f"inter{i}" for i in range(k))
        for n in names:  # stand-ins for loaded intermediate modules: same shapes, frozen by compose
            method.add(bb, n, settings)
        method.compose(bb, Composition("fuse", names), "fusion", FusionSettings())
    else:
        method.add(bb, "target", settings)
        method.compose(bb, Composition("direct"), "target")
    model = build_model(bb, task)
    n_labels = len(task.labels)
    if name.startswith("multitask"):
        from adapterx.multihead import MultiHeadModel

        second = get_task(SECOND_TASK)
        model = MultiHeadModel(bb.model, {task.name: model, second.name: build_model(bb, second)})
        n_labels = min(n_labels, len(second.labels))
    optim = "adamw_bnb_8bit" if name == "full-adam8bit" else args.optim
    train_settings = _settings(method_name, optim, args.batch, args.grad_checkpointing)
    targs = training_arguments(train_settings, work / name, device, bb.dtype, progress=False)
    trainer = _ModuleTrainer(model=model, args=targs)  # the optimizer adapterx's training would build
    optimizer = trainer.create_optimizer()
    if args.grad_checkpointing:
        model.gradient_checkpointing_enable()
    model.train()
    batches = []
    for i in range(args.n_batches):
        chunk = rows[i * args.batch:(i + 1) * args.batch]
        batch = synthetic_batch([dict(r, labels=r["labels"] % n_labels) for r in chunk], bb.tokenizer.pad_token_id, device)
        if name.startswith("multitask"):  # batches alternate between the two heads
            batch["task_id"] = torch.tensor([i % 2], device=device)
        batches.append(batch)
    autocast = torch.bfloat16 if (name == "full-bf16" or targs.bf16) else None
    return Setup(name=name, model=model, optimizer=optimizer, batches=batches, device=device, autocast=autocast,
                 compute_dtype=autocast or bb.dtype, optim=optim, counts=parameter_counts(model))


def train_step(setup: Setup, record: bool = True) -> None:
    """One forward / backward / optimizer step, each part timed (synchronised on a GPU)."""
    dev = setup.device
    batch = setup.batch()
    if dev.type == "cuda":
        sync(dev)
        before = torch.cuda.memory_allocated(dev)
        torch.cuda.reset_peak_memory_stats(dev)
    ctx = torch.autocast(dev.type, dtype=setup.autocast) if setup.autocast else contextlib.nullcontext()
    sync(dev)
    t0 = time.perf_counter()
    with ctx:
        loss = setup.model(**batch)["loss"]
    sync(dev)
    t1 = time.perf_counter()
    loss.backward()
    sync(dev)
    t2 = time.perf_counter()
    setup.optimizer.step()
    setup.optimizer.zero_grad(set_to_none=True)
    sync(dev)
    t3 = time.perf_counter()
    if dev.type == "cuda":
        setup.step_peak_bytes = max(setup.step_peak_bytes, torch.cuda.max_memory_allocated(dev) - before)
    if record:
        for key, seconds in zip(("forward", "backward", "optimizer"), (t1 - t0, t2 - t1, t3 - t2)):
            setup.times[key].append(seconds)


def tensor_peak_step(setup: Setup) -> int:
    """Static bytes + the peak of tensors allocated during one (untimed) step."""
    with TensorPeak() as tracker:
        train_step(setup, record=False)
    return setup.static + tracker.peak


def summarize(setup: Setup, args: argparse.Namespace, tokens_per_step: float) -> dict:
    """One table row: medians of the measured steps, memory, FLOPs, MFU."""
    med = {k: statistics.median(v) for k, v in setup.times.items()}
    step = sum(med.values())
    tps = tokens_per_step / step
    fpt = flops_per_token(setup.counts)
    peak, source = peak_tflops(setup.device, setup.compute_dtype == torch.bfloat16, args.peak_tflops)
    mib = 2**20
    row = {"setup": setup.name, "optim": setup.optim, "compute": str(setup.compute_dtype).replace("torch.", ""),
           "trainable": setup.counts["trainable"], "N (non-emb)": setup.counts["nonembedding"],
           "fwd ms": med["forward"] * 1e3, "bwd ms": med["backward"] * 1e3, "opt ms": med["optimizer"] * 1e3,
           "step ms": step * 1e3, "step ms (mean)": sum(statistics.mean(v) for v in setup.times.values()) * 1e3,
           "tokens/s": tps, "flops/token": fpt,
           "TFLOP/s": fpt * tps / 1e12, "MFU %": (100 * fpt * tps / (peak * 1e12)) if peak else None,
           "peak_source": source, "peak TFLOP/s": peak, "measured_steps": len(setup.times["forward"]),
           "static_mb": setup.static / mib}
    if setup.device.type == "cuda":
        row["peak mem MB"] = (setup.static + setup.step_peak_bytes) / mib
        row["memory_kind"] = "cuda: static + max allocated rise in a step"
    else:
        row["peak mem MB"] = setup.tensor_peak / mib if setup.tensor_peak is not None else None
        row["RSS delta MB"] = setup.rss_delta / mib if setup.rss_delta is not None else None
        row["memory_kind"] = "cpu: static + dispatch-mode tensor peak of a step"
    return row


def _prime(device: torch.device) -> None:
    """Import the method libraries and run one throwaway training step, so that one-off costs
    (imports, thread pools, kernel caches) are not charged to the first setup's RSS delta."""
    for mod in ("peft", "adapters", "bitsandbytes"):
        try:
            __import__(mod)
        except Exception:  # noqa: BLE001  (optional: the setups needing it are skipped later)
            pass
    layer = torch.nn.Sequential(torch.nn.Linear(64, 256), torch.nn.GELU(), torch.nn.Linear(256, 64)).to(device)
    opt = torch.optim.AdamW(layer.parameters())
    layer(torch.randn(32, 64, device=device)).square().mean().backward()
    opt.step()


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    p = base_parser(__doc__.splitlines()[0], SETUPS, DEFAULT_SETUPS, batch=4, seq_len=256, name="train_cost")
    p.add_argument("--n-batches", type=int, default=2, help="distinct fixed batches, cycled")
    p.add_argument("--warmup", type=int, default=2, help="untimed steps per setup before the rounds")
    p.add_argument("--steps", type=int, default=2, help="timed steps per setup per round")
    p.add_argument("--grad-checkpointing", action="store_true")
    p.add_argument("--optim", default="adamw_torch", help="optimizer of every setup but full-adam8bit")
    p.add_argument("--cpu-quant", action="store_true", help="also run 8-bit / 4-bit bases on a CPU (slow)")
    p.add_argument("--peak-tflops", type=float, default=None,
                   help="peak TFLOP/s for MFU (default: the GPU's spec sheet; on a CPU its measured GEMM rate)")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> dict:
    """Build every setup, warm up, run interleaved rounds, print and save the table."""
    from adapterx.api import quiet_libraries
    from adapterx.backbone import resolve_device

    args = parse_args(argv)
    quiet_libraries()
    device = resolve_device(args.device)
    model_dir, label = resolve_model(args.model, args.shape, args.layers)
    names = chosen_setups(args.setups, SETUPS)
    from transformers import AutoConfig

    vocab = AutoConfig.from_pretrained(str(model_dir)).vocab_size
    rows = synthetic_rows(args.batch * args.n_batches, args.seq_len, args.pad_frac, args.batch, vocab, 3, args.seed)
    tokens_per_step = sum(len(r["input_ids"]) for r in rows) / args.n_batches
    setups: list[Setup] = []
    skipped: dict[str, str] = {}
    _prime(device)
    with tempfile.TemporaryDirectory() as tmp:
        for name in names:
            release_memory()
            rss0 = rss_bytes()
            try:
                torch.manual_seed(args.seed)
                setup = build_setup(name, model_dir, args, device, rows, Path(tmp))
                from adapterx.training import PeakRSS

                with PeakRSS(interval=0.02) as rss:
                    for _ in range(args.warmup):
                        train_step(setup, record=False)
                setup.rss_delta = max(rss.peak, rss_bytes()) - rss0
                setup.static = static_bytes(setup.model, setup.optimizer)
                if device.type == "cpu":
                    setup.tensor_peak = tensor_peak_step(setup)
                setups.append(setup)
                print(f"built {name}: {setup.counts['trainable']:,} trainable parameters", flush=True)
            except Exception as err:  # noqa: BLE001  (a setup this machine cannot run is reported, not fatal)
                skipped[name] = f"{type(err).__name__}: {err}".splitlines()[0][:300]
                if not isinstance(err, RuntimeError):
                    traceback.print_exc()
                print(f"skipped {name}: {skipped[name]}", flush=True)
        for r in range(args.rounds):
            for setup in setups:
                for _ in range(args.steps):
                    train_step(setup)
            print(f"round {r + 1}/{args.rounds} done", flush=True)
    table = [summarize(s, args, tokens_per_step) for s in setups]
    ref = next((row for row in table if row["setup"] == "full"), table[0] if table else None)
    for row in table:
        row["mem ÷ full"] = row["peak mem MB"] / ref["peak mem MB"] if row["peak mem MB"] and ref["peak mem MB"] else None
        row["tokens/s ÷ full"] = row["tokens/s"] / ref["tokens/s"]
        if row.get("RSS delta MB") is not None and ref.get("RSS delta MB"):
            row["RSS ÷ full"] = row["RSS delta MB"] / ref["RSS delta MB"]
    columns = ["setup", "trainable", "tokens/s", "tokens/s ÷ full", "peak mem MB", "mem ÷ full"]
    columns += ["RSS delta MB", "RSS ÷ full"] if device.type == "cpu" else []
    columns += ["fwd ms", "bwd ms", "opt ms", "step ms", "MFU %"]
    notes = [f"reference for the ratios: {ref['setup'] if ref else '-'}",
             f"batch {args.batch} x {args.seq_len}, padding fraction {args.pad_frac}; tokens/s counts non-padding tokens",
             "times: medians over the timed steps of interleaved rounds after warm-up",
             "peak mem: " + ("static + largest rise of cuda max_memory_allocated in a step" if device.type == "cuda"
                             else "static bytes + tensor-accounting peak of one step (torch has no CPU "
                                  "allocator stats); RSS delta: resident memory in warm-up less before build"),
             "MFU: (4N + 2 x trainable non-embedding) FLOPs per token (6N full fine-tuning) x tokens/s / peak ("
             + "; ".join(sorted({f"{r['peak_source']}: {r['peak TFLOP/s']:.3g} TFLOP/s" for r in table
                                 if r["peak TFLOP/s"]})) + ")"]
    notes += [f"skipped {k}: {v}" for k, v in skipped.items()]
    payload = {"benchmark": "train_cost", "model": str(model_dir), "model_label": label, "device": str(device),
               "machine": machine(), "options": vars(args), "tokens_per_step": tokens_per_step,
               "setups": table, "skipped": skipped, "notes": notes}
    out = default_output(device, "train_cost", args.out)
    write_outputs(out, payload, columns, table,
                  f"adapterx training cost: {label}, {device}, batch {args.batch} x {args.seq_len}")
    return payload


if __name__ == "__main__":
    main()
