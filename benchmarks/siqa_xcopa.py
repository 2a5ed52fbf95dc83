"""Real-encoder check of the foundation: XCOPA zero-shot with and without a SIQa module.

Runs adapterx's own commands (train siqa -> direct xcopa -> stack siqa xcopa) on a real
multilingual encoder and local data, prints a per-language comparison and writes JSON.

    python ../shared/tools/build_e5_small.py /tmp/e5
    python benchmarks/siqa_xcopa.py --model /tmp/e5 --data-dir ../shared/data
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from adapterx.api import build_config, direct, quiet_libraries, stack, train
from adapterx.report.console import console


def main() -> None:
    """Parse options, run the three steps, print and save the comparison."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True)
    parser.add_argument("--data-dir", required=True)
    parser.add_argument("--method", default="bottleneck")
    parser.add_argument("--siqa-examples", type=int, default=3000)
    parser.add_argument("--siqa-epochs", type=float, default=2)
    parser.add_argument("--learning-rate", type=float, default=3e-4)
    parser.add_argument("--copa-epochs", type=float, default=10)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--work", default="bench-runs", help="modules and runs go here")
    parser.add_argument("--out", default="benchmarks/results/siqa_xcopa.json")
    args = parser.parse_args()
    quiet_libraries()
    common = {"model": args.model, "data_dir": args.data_dir, "method": args.method, "seed": args.seed,
              "modules_dir": f"{args.work}/modules", "output": f"{args.work}/runs",
              "training.learning_rate": args.learning_rate}
    timings = {}
    start = time.perf_counter()
    siqa_cfg = build_config(overrides={**common, "training.max_train_examples": args.siqa_examples,
                                       "training.epochs": args.siqa_epochs, "training.max_dev_examples": 500,
                                       "training.max_seq_length": 128})
    module = train("siqa", cfg=siqa_cfg)
    timings["train_siqa_s"] = time.perf_counter() - start
    target_cfg = build_config(overrides={**common, "training.epochs": args.copa_epochs})
    start = time.perf_counter()
    base = direct("xcopa", cfg=target_cfg)
    timings["direct_s"] = time.perf_counter() - start
    start = time.perf_counter()
    with_siqa = stack(["siqa"], "xcopa", cfg=target_cfg)
    timings["stack_s"] = time.perf_counter() - start

    from rich.table import Table

    table = Table(title=f"XCOPA accuracy, {args.method} on {Path(args.model).name}: direct vs SIQa stack")
    for col in ("language", "direct", "stack siqa", "delta"):
        table.add_column(col, justify="right")
    for lang, acc in base["per_language"].items():
        other = with_siqa["per_language"][lang]
        table.add_row(lang, f"{acc:.1f}", f"{other:.1f}", f"{other - acc:+.1f}")
    table.add_section()
    table.add_row("average", f"{base['average']:.1f}", f"{with_siqa['average']:.1f}",
                  f"{with_siqa['average'] - base['average']:+.1f}")
    console.print(table)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    siqa_meta = json.loads((module / "adapterx.json").read_text())
    out.write_text(json.dumps({
        "model": args.model, "method": args.method, "seed": args.seed, "siqa_examples": args.siqa_examples,
        "siqa_english_dev": siqa_meta["metrics"]["english_dev"], "direct": base["per_language"],
        "stack_siqa": with_siqa["per_language"], "direct_average": base["average"],
        "stack_average": with_siqa["average"], "delta": with_siqa["average"] - base["average"],
        "timings_s": timings, "hardware": base["hardware"], "date": time.strftime("%Y-%m-%d"),
    }, indent=2) + "\n")
    console.print(f"wrote {out}")


if __name__ == "__main__":
    main()
