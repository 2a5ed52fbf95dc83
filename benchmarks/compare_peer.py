"""adapterx's LoRA training against the plain Trainer + peft peer (peer_lora.py), in one process.

Both train the same model on the same synthetic examples with the same LoRA and optimizer
settings, one epoch of `--steps` steps per round, in alternating rounds (adapterx, peer, adapterx,
peer, ...; the first `--warmup-rounds` are not counted). adapterx goes through its own training
entry point, adapterx.training.train_model (its Trainer subclass, collator, memory sampling), on a
model from load_backbone + get_method("lora").add / compose + build_model. Prints the step times,
tokens/s and adapterx tokens/s / peer tokens/s, and writes JSON.

    python benchmarks/compare_peer.py --model /tmp/e5 --batch 16 --seq-len 128
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


def build_adapterx(model_dir: str, device: str):
    """adapterx's LoRA setup (base frozen, `target` LoRA module, mnli-style 3-way head)."""
    from adapterx.backbone import load_backbone
    from adapterx.composition import Composition
    from adapterx.configs.methods import LoraSettings
    from adapterx.methods import get_method
    from adapterx.recipes.common import build_model
    from adapterx.tasks import get_task

    bb = load_backbone(model_dir, "auto", "none", device)
    method = get_method("lora")
    method.add(bb, "target", LoraSettings())
    method.compose(bb, Composition("direct"), "target")
    return bb, build_model(bb, get_task("mnli"))


def main(argv: list[str] | None = None) -> dict:
    """Alternate adapterx and peer epochs; report the tokens/s ratio."""
    from transformers import AutoTokenizer

    from adapterx.api import quiet_libraries
    from adapterx.data.features import Collator
    from adapterx.training import TrainSettings, train_model

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    src = p.add_mutually_exclusive_group()
    src.add_argument("--model")
    src.add_argument("--shape", choices=("xlmr-large", "reduced"))
    p.add_argument("--layers", type=int, default=None)
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--seq-len", type=int, default=128)
    p.add_argument("--pad-frac", type=float, default=0.0)
    p.add_argument("--steps", type=int, default=4, help="steps per round (one epoch)")
    p.add_argument("--rounds", type=int, default=4)
    p.add_argument("--warmup-rounds", type=int, default=1)
    p.add_argument("--device", default="auto")
    p.add_argument("--out", default=None)
    args = p.parse_args(argv)
    quiet_libraries()
    model_dir, label = resolve_model(args.model, args.shape, args.layers)
    data = synthetic_dataset(str(model_dir), args.steps * args.batch, args.seq_len, args.pad_frac, args.batch)
    tokens_per_step = sum(sum(m) for m in data["attention_mask"]) / args.steps
    bb, ax_model = build_adapterx(str(model_dir), args.device)
    peer_model = build_peer_model(str(model_dir))
    tokenizer = AutoTokenizer.from_pretrained(str(model_dir))
    settings = TrainSettings(learning_rate=LEARNING_RATE, epochs=1, batch_size=args.batch, grad_accum=1,
                             warmup_ratio=0.1, weight_decay=0.01, logging_steps=10**6, seed=0, save_checkpoints=False)
    # one timer per side per round: each counted round gives a paired ratio (the two epochs ran
    # back to back, so a slower spell of the machine hits both), whose spread shows the noise
    rounds: dict[str, list[StepTimer]] = {"adapterx": [], "peer": []}
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(args.rounds):
            counted = r >= args.warmup_rounds
            ax_timer, peer_timer = StepTimer(), StepTimer()
            train_model(ax_model, data, Collator(bb.tokenizer, "classification"), settings, Path(tmp) / f"ax{r}",
                        bb.device, bb.dtype, progress=False, callbacks=[ax_timer])
            peer_trainer(peer_model, tokenizer, data, args.batch, str(Path(tmp) / f"peer{r}"), [peer_timer]).train()
            if counted:
                rounds["adapterx"].append(ax_timer)
                rounds["peer"].append(peer_timer)
            print(f"round {r + 1}/{args.rounds} done{'' if counted else ' (warm-up)'}", flush=True)
    if not rounds["peer"] or not all(t.times for t in rounds["adapterx"] + rounds["peer"]):
        raise SystemExit("no measured steps: use --rounds > --warmup-rounds and --steps >= 2")
    per_round = [statistics.median(p.times) / statistics.median(a.times)
                 for a, p in zip(rounds["adapterx"], rounds["peer"])]
    ratio = statistics.median(per_round)
    rows = []
    for name, model in (("adapterx", ax_model), ("peer", peer_model)):
        times = [t for timer in rounds[name] for t in timer.times]
        step = statistics.median(times)
        rows.append({"setup": name, "steps timed": len(times), "step ms": step * 1e3,
                     "tokens/s": tokens_per_step / step,
                     "trainable": sum(p.numel() for p in model.parameters() if p.requires_grad)})
    for row in rows:
        row["÷ peer"] = row["tokens/s"] / rows[1]["tokens/s"]
    device = bb.device
    notes = [f"adapterx tokens/s / peer tokens/s = {ratio:.3f}: median of {len(per_round)} per-round paired ratios "
             f"(range {min(per_round):.3f}-{max(per_round):.3f}); the table's ÷ peer pools all steps",
             f"batch {args.batch} x {args.seq_len}, padding fraction {args.pad_frac}, {args.steps} steps per round, "
             f"{args.rounds - args.warmup_rounds} counted rounds; median wall time between optimizer steps",
             "peer: AutoModelForSequenceClassification + peft LoRA (its pooler and classifier), fp32 weights "
             "(bf16 autocast on GPU); adapterx: encoder without pooler + its own head, base in its compute dtype"]
    payload = {"benchmark": "compare_peer", "model": str(model_dir), "model_label": label, "device": str(device),
               "machine": machine(), "options": vars(args), "ratio_adapterx_over_peer": ratio,
               "per_round_ratios": per_round, "setups": rows,
               "notes": notes}
    write_outputs(default_output(torch.device(device), "compare_peer", args.out), payload, list(rows[0]), rows,
                  f"adapterx LoRA vs plain Trainer + peft: {label}, {device}")
    print(f"adapterx tokens/s / peer tokens/s = {ratio:.3f} (per round {min(per_round):.3f}-{max(per_round):.3f})")
    return payload


if __name__ == "__main__":
    main()
