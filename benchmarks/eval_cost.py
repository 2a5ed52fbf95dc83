"""Zero-shot evaluation throughput of adapterx's setups: examples/s and tokens/s through its eval loop.

Each setup is built with adapterx's pieces (load_backbone, get_method(...).add / compose,
build_model) and scored through adapterx.evaluation's own batching (`_logits`: collation,
length-sorted batches, inference mode) on the same synthetic examples, in interleaved rounds
after a warm-up pass. Setups: the base alone, LoRA unmerged, LoRA merged into the base weights
(what adapterx does for a final fp32 evaluation, adapterx.methods.lora.eval_merge), a stack of 2
frozen LoRA modules + the target and a `merge` of 2 + the target (each unmerged and merged: every
active module in the base weights, one matmul per layer), a bottleneck adapter, AdapterFusion of 2
adapters and LoRA fusion of 2 LoRA modules. (`sequential` evaluates one LoRA module: `lora`.)

    python benchmarks/eval_cost.py --model /tmp/e5 --examples 256 --seq-len 128
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import sys
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_common import (base_parser, chosen_setups, default_output, machine, parameter_counts,  # noqa: E402,I001
                          resolve_model, sync, synthetic_rows, write_outputs)

SETUPS = ("base", "lora", "lora-merged", "lora-stack-2", "lora-stack-2-merged", "lora-merge-2", "lora-merge-2-merged",
          "bottleneck", "fusion-2", "lora-fusion-2")
DEFAULT_SETUPS = ("base", "lora", "lora-merged", "lora-stack-2", "lora-stack-2-merged", "lora-merge-2-merged",
                  "bottleneck", "fusion-2", "lora-fusion-2")
TASK = "mnli"


@dataclass
class EvalSetup:
    """One model under evaluation and its pass times."""

    name: str
    model: torch.nn.Module
    tokenizer: object
    device: torch.device
    merged: bool | None = None
    seconds: list[float] = field(default_factory=list)
    stack: contextlib.ExitStack = field(default_factory=contextlib.ExitStack)


def build_eval_setup(name: str, model_dir: Path, args: argparse.Namespace, device: torch.device) -> EvalSetup:
    """The model of setup `name`, frozen, as a finished run would evaluate it."""
    from adapterx.backbone import load_backbone
    from adapterx.composition import Composition
    from adapterx.configs.methods import BottleneckSettings, FusionSettings, LoraSettings, MergeSettings
    from adapterx.methods import get_method
    from adapterx.methods.lora.eval_merge import can_merge_for_eval, merged_for_eval
    from adapterx.recipes.common import build_model
    from adapterx.tasks import get_task

    bb = load_backbone(str(model_dir), args.dtype, "none", str(device))
    setup_stack = contextlib.ExitStack()
    merged = None
    if name != "base":
        method_name = "bottleneck" if name in ("bottleneck", "fusion-2") else "lora"
        method = get_method(method_name)
        method.prepare(bb)
        settings = LoraSettings() if method_name == "lora" else BottleneckSettings()
        core = name.removesuffix("-merged")
        names = ("inter0", "inter1")
        if "fusion" in name:
            for n in names:
                method.add(bb, n, settings)
            method.compose(bb, Composition("fuse", names), "fusion", FusionSettings())
        elif core in ("lora-stack-2", "lora-merge-2"):  # two frozen modules + the target
            for n in names:
                method.add(bb, n, settings)
            method.add(bb, "target", settings)
            setup = "stack" if core == "lora-stack-2" else "merge"
            method.compose(bb, Composition(setup, names), "target", MergeSettings())
        else:
            method.add(bb, "target", settings)
            method.compose(bb, Composition("direct"), "target")
        if method_name == "lora":
            for pname, param in bb.model.named_parameters():  # a trained module's B is not zero
                if "lora_B" in pname:
                    torch.nn.init.normal_(param, std=0.02)
        bb.model.requires_grad_(False)
        if name.endswith("-merged"):
            merged = can_merge_for_eval(bb)
            if merged:
                setup_stack.enter_context(merged_for_eval(bb))
            else:  # a bf16 base: adapterx would not merge; measure what merging would gain anyway
                bb.model.base_model.merge_adapter()
    model = build_model(bb, get_task(TASK))
    model.requires_grad_(False)
    model.eval()
    return EvalSetup(name, model, bb.tokenizer, device, merged=merged, stack=setup_stack)


def eval_pass(setup: EvalSetup, features, batch_size: int) -> float:
    """Seconds for one pass of adapterx's evaluation loop over `features`."""
    from adapterx.data.features import Collator
    from adapterx.evaluation import _logits

    collator = Collator(setup.tokenizer, "classification")
    sync(setup.device)
    start = time.perf_counter()
    _logits(setup.model, features, collator, batch_size, setup.device, ("logits",))
    sync(setup.device)
    return time.perf_counter() - start


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    p = base_parser(__doc__.splitlines()[0], SETUPS, DEFAULT_SETUPS, batch=64, seq_len=128, name="eval_cost")
    p.add_argument("--examples", type=int, default=256, help="synthetic examples per evaluation pass")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> dict:
    """Build the setups, warm up, time interleaved evaluation passes, print and save the table."""
    from datasets import Dataset
    from transformers import AutoConfig

    from adapterx.api import quiet_libraries
    from adapterx.backbone import resolve_device

    args = parse_args(argv)
    quiet_libraries()
    device = resolve_device(args.device)
    model_dir, label = resolve_model(args.model, args.shape, args.layers)
    names = chosen_setups(args.setups, SETUPS)
    vocab = AutoConfig.from_pretrained(str(model_dir)).vocab_size
    rows = synthetic_rows(args.examples, args.seq_len, args.pad_frac, args.batch, vocab, 3, args.seed)
    features = Dataset.from_list(rows)
    tokens = sum(len(r["input_ids"]) for r in rows)
    setups, skipped = [], {}
    for name in names:
        try:
            torch.manual_seed(args.seed)
            setup = build_eval_setup(name, model_dir, args, device)
            eval_pass(setup, features, args.batch)  # warm-up
            setups.append(setup)
            print(f"built {name}", flush=True)
        except Exception as err:  # noqa: BLE001  (reported, not fatal)
            skipped[name] = f"{type(err).__name__}: {err}".splitlines()[0][:300]
            traceback.print_exc()
    for r in range(args.rounds):
        for setup in setups:
            setup.seconds.append(eval_pass(setup, features, args.batch))
        print(f"round {r + 1}/{args.rounds} done", flush=True)
    table = []
    for s in setups:
        sec = statistics.median(s.seconds)
        table.append({"setup": s.name, "merged": s.merged, "params": parameter_counts(s.model)["nonembedding"],
                      "examples/s": len(rows) / sec, "tokens/s": tokens / sec, "pass s": sec})
        s.stack.close()
    ref = next((row for row in table if row["setup"] == "base"), table[0] if table else None)
    lora = next((row for row in table if row["setup"] == "lora"), None)
    for row in table:
        row["÷ base"] = row["tokens/s"] / ref["tokens/s"]
        row["÷ lora unmerged"] = row["tokens/s"] / lora["tokens/s"] if lora else None
    notes = [f"{args.examples} synthetic examples of up to {args.seq_len} tokens (padding fraction {args.pad_frac}), "
             f"eval batch {args.batch}; tokens/s counts non-padding tokens",
             "times: medians of whole passes of adapterx.evaluation._logits, interleaved rounds after a warm-up pass",
             "*-merged: adapterx.methods.lora.eval_merge.merged_for_eval (merged=true); merged=false means adapterx "
             "would not merge on this dtype and peft's merge_adapter was called directly to measure the gain"]
    notes += [f"skipped {k}: {v}" for k, v in skipped.items()]
    payload = {"benchmark": "eval_cost", "model": str(model_dir), "model_label": label, "device": str(device),
               "machine": machine(), "options": vars(args), "setups": table, "skipped": skipped, "notes": notes}
    write_outputs(default_output(device, "eval_cost", args.out), payload,
                  ["setup", "merged", "examples/s", "tokens/s", "÷ base", "÷ lora unmerged", "pass s"], table,
                  f"adapterx evaluation throughput: {label}, {device}, {args.examples} x {args.seq_len}")
    return payload


if __name__ == "__main__":
    main()
