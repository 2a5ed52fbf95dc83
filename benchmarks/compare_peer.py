"""adapterx's default LoRA recipe against a plain Trainer + peft script (peer_lora.py), in one process.

Both train the same model on the same examples, one epoch of `--steps` steps per round, in
alternating rounds (adapterx, [adapterx as before 2026-12-03,] peer, adapterx, ...; the first
`--warmup-rounds` are not counted). adapterx goes through its own training entry point,
adapterx.training.train_model (its Trainer subclass, collator, length grouping, memory sampling), on
a model from load_backbone + get_method("lora").add / compose + build_model, with its defaults
(LoraSettings(), TrainingConfig()). The peer (`--peer defaults`) is what a plain script gets from
peft's LoraConfig() and the Trainer's TrainingArguments() defaults; `--peer matched` writes
adapterx's earlier LoRA settings out instead. `--data mnli` trains on real MNLI rows (variable
lengths: padding and length grouping count), `--data synthetic` on fixed random rows.
tokens/s = real (non-padding) tokens of the epoch / its wall time; prints adapterx ÷ peer, writes JSON.

    python benchmarks/compare_peer.py --model /tmp/e5 --data mnli --data-dir ../shared/data --with-before
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_common import default_output, machine, resolve_model, write_outputs  # noqa: E402
from peer_lora import LEARNING_RATE, StepTimer, build_peer_model, peer_trainer, synthetic_dataset  # noqa: E402

# adapterx's LoRA and training defaults before 2026-12-03 (lora.dropout 0.1, no length grouping,
# foreach AdamW everywhere): the `adapterx-before` runner of --with-before
BEFORE = {"lora": {"dropout": 0.1}, "group_by_length": False, "optim": "adamw_torch"}


def build_adapterx(model_dir: str, device: str, lora: dict | None = None):
    """adapterx's LoRA setup (base frozen, `target` LoRA module, mnli-style 3-way head); `lora`:
    LoraSettings overrides (None: adapterx's defaults)."""
    from adapterx.backbone import load_backbone
    from adapterx.composition import Composition
    from adapterx.configs.methods import LoraSettings
    from adapterx.methods import get_method
    from adapterx.recipes.common import build_model
    from adapterx.tasks import get_task

    bb = load_backbone(model_dir, "auto", "none", device)
    method = get_method("lora")
    method.add(bb, "target", LoraSettings(**(lora or {})))
    method.compose(bb, Composition("direct"), "target")
    return bb, build_model(bb, get_task("mnli"))


def adapterx_settings(batch: int, device: torch.device, before: bool = False):
    """adapterx's TrainSettings for this comparison: its config defaults (TrainingConfig()), the
    LoRA learning rate; `before`: the earlier defaults (BEFORE)."""
    from adapterx.configs.methods import DEFAULT_LEARNING_RATES
    from adapterx.configs.run import TrainingConfig
    from adapterx.training import TrainSettings, resolve_optim

    t = TrainingConfig()
    grouped, optim = (BEFORE["group_by_length"], BEFORE["optim"]) if before else (t.group_by_length, t.optim)
    return TrainSettings(learning_rate=DEFAULT_LEARNING_RATES["lora"], epochs=1, batch_size=batch,
                         grad_accum=t.grad_accum, warmup_ratio=t.warmup_ratio, weight_decay=t.weight_decay,
                         logging_steps=10**6, seed=0, save_checkpoints=False, optim=resolve_optim(optim, device),
                         group_by_length=grouped, lr_scheduler=t.lr_scheduler)


def real_dataset(data_dir: str, tokenizer, n: int, seq_len: int, seed: int = 0):
    """`n` English MNLI training rows tokenized by adapterx (truncated to `seq_len`): what both sides train on."""
    from adapterx.data.features import tokenize
    from adapterx.data.loading import load_examples
    from adapterx.tasks import get_task

    task = get_task("mnli")
    return tokenize(task, load_examples(task, "train", "en", data_dir, n, seed), tokenizer, seq_len, 32, train=True)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Command-line options."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    src = p.add_mutually_exclusive_group()
    src.add_argument("--model")
    src.add_argument("--shape", choices=("xlmr-large", "reduced"))
    p.add_argument("--layers", type=int, default=None)
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--seq-len", type=int, default=128, help="synthetic row length / real rows' max length")
    p.add_argument("--pad-frac", type=float, default=0.0, help="synthetic rows only")
    p.add_argument("--data", choices=("synthetic", "mnli"), default="synthetic")
    p.add_argument("--data-dir", default=None, help="--data mnli: the folder holding mnli/")
    p.add_argument("--peer", choices=("defaults", "matched"), default="defaults")
    p.add_argument("--with-before", action="store_true", help="also time adapterx with its earlier defaults")
    p.add_argument("--steps", type=int, default=4, help="steps per round (one epoch)")
    p.add_argument("--rounds", type=int, default=4)
    p.add_argument("--warmup-rounds", type=int, default=1)
    p.add_argument("--device", default="auto")
    p.add_argument("--out", default=None)
    args = p.parse_args(argv)
    if args.data == "mnli" and not args.data_dir:
        p.error("--data mnli needs --data-dir")
    return args


def main(argv: list[str] | None = None) -> dict:
    """Alternate adapterx and peer epochs; report the tokens/s ratio."""
    from transformers import AutoTokenizer

    from adapterx.api import quiet_libraries
    from adapterx.data.features import Collator
    from adapterx.training import train_model

    args = parse_args(argv)
    quiet_libraries()
    model_dir, label = resolve_model(args.model, args.shape, args.layers)
    tokenizer = AutoTokenizer.from_pretrained(str(model_dir))
    n = args.steps * args.batch
    data = (real_dataset(args.data_dir, tokenizer, n, args.seq_len) if args.data == "mnli"
            else synthetic_dataset(str(model_dir), n, args.seq_len, args.pad_frac, args.batch))
    tokens = sum(sum(m) for m in data["attention_mask"])  # real tokens per epoch, the same for every runner
    runners: dict[str, tuple] = {}
    bb, ax_model = build_adapterx(str(model_dir), args.device)
    device = bb.device
    runners["adapterx"] = (ax_model, adapterx_settings(args.batch, device))
    if args.with_before:
        _, before_model = build_adapterx(str(model_dir), args.device, BEFORE["lora"])
        runners["adapterx-before"] = (before_model, adapterx_settings(args.batch, device, before=True))
    peer_model = build_peer_model(str(model_dir), peer=args.peer)
    runners["peer"] = (peer_model, None)
    # one timer per runner per round: each counted round gives paired ratios (the epochs ran back
    # to back, so a slower spell of the machine hits all), whose spread shows the noise
    rounds: dict[str, list[StepTimer]] = {name: [] for name in runners}
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(args.rounds):
            for name, (model, settings) in runners.items():
                timer = StepTimer()
                work = str(Path(tmp) / f"{name}{r}")
                if settings is None:
                    peer_trainer(model, tokenizer, data, args.batch, work, [timer], peer=args.peer).train()
                else:
                    train_model(model, data, Collator(bb.tokenizer, "classification"), settings, Path(work),
                                device, bb.dtype, progress=False, callbacks=[timer])
                if r >= args.warmup_rounds:
                    rounds[name].append(timer)
            print(f"round {r + 1}/{args.rounds} done{'' if r >= args.warmup_rounds else ' (warm-up)'}", flush=True)
    if not rounds["peer"] or not all(t.epoch_seconds > 0 for ts in rounds.values() for t in ts):
        raise SystemExit("no measured epochs: use --rounds > --warmup-rounds and --steps >= 2")

    def paired(a: str, b: str) -> list[float]:  # tokens/s of a ÷ tokens/s of b, per round
        return [tb.epoch_seconds / ta.epoch_seconds for ta, tb in zip(rounds[a], rounds[b])]

    per_round = paired("adapterx", "peer")
    ratio = statistics.median(per_round)
    rows = []
    for name, (model, settings) in runners.items():
        seconds = statistics.median(t.epoch_seconds for t in rounds[name])
        rows.append({"setup": name, "epochs timed": len(rounds[name]), "epoch s": seconds,
                     "step ms (median)": 1e3 * statistics.median(x for t in rounds[name] for x in t.times),
                     "tokens/s": tokens / seconds, "÷ peer (paired median)": statistics.median(paired(name, "peer")),
                     "trainable": sum(p.numel() for p in model.parameters() if p.requires_grad)})
    optim = runners["adapterx"][1].optim
    notes = [f"adapterx tokens/s / peer tokens/s = {ratio:.3f}: median of {len(per_round)} per-round paired ratios "
             f"(range {min(per_round):.3f}-{max(per_round):.3f})",
             f"data {args.data}: {n} rows ({tokens} real tokens), batch {args.batch}, "
             f"{'max length' if args.data == 'mnli' else 'length'} {args.seq_len}, {args.steps} steps per round, "
             f"{args.rounds - args.warmup_rounds} counted rounds; epoch wall time, first step included",
             f"adapterx: its defaults (LoraSettings(), TrainingConfig(): group_by_length "
             f"{runners['adapterx'][1].group_by_length}, optim {optim}), encoder without pooler + its own head",
             f"peer ({args.peer}): AutoModelForSequenceClassification + peft LoRA "
             + ("from LoraConfig() defaults (query, value; alpha 8; dropout 0) and TrainingArguments() defaults"
                if args.peer == "defaults" else "with adapterx's earlier LoRA and optimizer settings")]
    if args.with_before:
        before = paired("adapterx", "adapterx-before")
        notes.append(f"adapterx defaults ÷ adapterx before 2026-12-03 ({BEFORE}): {statistics.median(before):.3f} "
                     f"(per round {min(before):.3f}-{max(before):.3f})")
    payload = {"benchmark": "compare_peer", "model": str(model_dir), "model_label": label, "device": str(device),
               "machine": machine(), "options": vars(args), "ratio_adapterx_over_peer": ratio,
               "per_round_ratios": per_round, "setups": rows, "notes": notes,
               "epoch_seconds": {name: [t.epoch_seconds for t in timers] for name, timers in rounds.items()},
               **({"ratio_defaults_over_before": statistics.median(before), "per_round_before": before}
                  if args.with_before else {})}
    write_outputs(default_output(torch.device(device), "compare_peer", args.out), payload, list(rows[0]), rows,
                  f"adapterx LoRA (defaults) vs plain Trainer + peft ({args.peer}): {label}, {device}, {args.data}")
    print(f"adapterx tokens/s / peer tokens/s = {ratio:.3f} (per round {min(per_round):.3f}-{max(per_round):.3f})")
    return payload


if __name__ == "__main__":
    main()
