"""Replication benchmark: Phang et al. 2020's procedure at small scale, through adapterx's own grid.

Three experiment files beside this script (xcopa.yaml, xnli.yaml, xquad.yaml) hold the tasks,
setups, seeds and learning rates; this script adds the budget (what is subsampled), runs every
cell once (first seed) before full fine-tuning and before the other seeds (so a run cut short has
the whole matrix), then
writes the report (tables, bootstrap intervals, heatmap) and the similarity ranking for XCOPA.

    python ../shared/tools/build_e5_small.py /tmp/e5
    python benchmarks/replication/run.py --model /tmp/e5 --data-dir ../shared/data --budget cpu --jobs 2
    python benchmarks/replication/run.py --model xlm-roberta-large --budget full      # GPU, Hub data

Rerunning the same command redoes nothing that finished (every cell is keyed by its config).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
FAMILIES = ("xcopa", "xnli", "xquad")
MODULE_SETUPS = ["direct", "sequential", "stack", "fuse"]
TARGET_LANGS = {"tatoeba": {"langs": ["de", "fr", "es"]}}  # the languages the local data has
RELATIVE_COST = {"xcopa": 3.0, "xnli": 1.0, "xquad": 1.5}  # rough CPU time of each family, for --jobs
FULL_SETUPS = ["full-direct", "full-stilts"]

# What `--budget cpu` subsamples so the whole benchmark fits in about two hours on a 2-core CPU
# with multilingual-e5-small; `--budget full` keeps every example and the tasks' default lengths.
CPU_BUDGET: dict[str, dict] = {
    # 3,000 SIQa / CosmosQA examples x 1 epoch (xcopa.yaml): enough to resolve a 5-point effect.
    # dtype fp32 is what `auto` runs on a CPU; named, because cache keys hold the dtype as given and
    # benchmarks/peer_xcopa.py --compare passes --dtype fp32: so the two share their SIQa modules
    "xcopa": {"inter.max_train_examples": 3000, "inter.max_dev_examples": 250, "dtype": "fp32"},
    "xnli": {"inter.max_train_examples": 600, "inter.epochs": 2, "inter.max_seq_length": 128,
             "inter.max_dev_examples": 200, "training.max_train_examples": 600, "training.epochs": 2,
             "training.max_seq_length": 128, "training.max_dev_examples": 200},
    "xquad": {"inter.max_train_examples": 400, "inter.epochs": 1, "inter.max_seq_length": 256,
              "inter.doc_stride": 128, "inter.max_dev_examples": 150, "training.max_train_examples": 300,
              "training.epochs": 1, "training.max_seq_length": 256, "training.doc_stride": 128,
              "training.max_dev_examples": 150, "training.max_eval_examples": 150},
}
# Full fine-tuning under `--budget cpu`: one seed, XCOPA only, SIQa only (a full SQuAD model on a
# CPU takes hours, the full CosmosQA model alone about 15 minutes, and on XNLI full-stilts would
# fine-tune twice on the same MNLI data).
CPU_FULL: dict[str, dict] = {"xcopa": {"intermediate": ["siqa"]}}
# Module setups that `--budget cpu` runs for the first seed only (none: every XCOPA setup gets its
# three seeds since the 2026-12-03 rerun).
CPU_ONE_SEED: dict[str, list[str]] = {}


def phases(budget: str, families: list[str], seeds: list[int], full_seeds: list[int]) -> list[dict]:
    """The grid invocations, cheapest information first, so that a run cut short still covers
    every cell once: the module setups of every family for the first seed, then full fine-tuning,
    then the module setups' other seeds (`--budget cpu` runs CPU_ONE_SEED setups for one seed)."""
    first, full, rest = [], [], []
    for fam in families:
        setups = [s for s in MODULE_SETUPS if fam == "xcopa" or s not in ("fuse", "sequential")]
        one_seed = CPU_ONE_SEED.get(fam, []) if budget == "cpu" else []
        first.append({"family": fam, "setups": setups, "seeds": seeds[:1]})
        if seeds[1:]:
            rest.append({"family": fam, "setups": [s for s in setups if s not in one_seed], "seeds": seeds[1:]})
        if budget == "cpu" and fam not in CPU_FULL:
            continue
        extra = CPU_FULL.get(fam, {}) if budget == "cpu" else {}
        full.append({"family": fam, "setups": extra.get("setups", FULL_SETUPS), "seeds": full_seeds,
                     "intermediate": extra.get("intermediate")})
    return first + full + rest


def overrides(args: argparse.Namespace, family: str) -> dict:
    """Config keys this invocation adds on top of the experiment file."""
    out = {"model": args.model, "output": args.out, "modules_dir": args.modules_dir or f"{args.out}/modules"}
    if args.data_dir:
        out["data_dir"] = args.data_dir
    if args.budget == "cpu":
        out.update(CPU_BUDGET[family])
    return out


def run_lane(args: argparse.Namespace, lane: list[dict]) -> None:
    """Run some phases in this process, one after the other."""
    from adapterx import api

    for phase in lane:
        start = time.time()
        print(f"== {phase['family']}: {', '.join(phase['setups'])} seeds {phase['seeds']}", flush=True)
        api.grid(str(HERE / f"{phase['family']}.yaml"), overrides=overrides(args, phase["family"]),
                 seeds=phase["seeds"], setups=phase["setups"], intermediate=phase.get("intermediate"),
                 command=" ".join(sys.argv))
        print(f"== {phase['family']} {phase['setups']} took {time.time() - start:.0f} s", flush=True)


def main() -> None:
    """Parse options; run the phases (in `--jobs` parallel lanes); write the report."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True, help="model folder or Hub id (e.g. xlm-roberta-large)")
    parser.add_argument("--data-dir", help="local data (the layout of ../shared/data); none: the Hub")
    parser.add_argument("--budget", choices=("cpu", "full"), default="cpu",
                        help="cpu: subsample to fit ~2 h on 2 cores (see CPU_BUDGET); full: all data")
    parser.add_argument("--seeds", default="0,1,2", help="target-training seeds of the module setups")
    parser.add_argument("--full-seeds", help="seeds of the full fine-tuning setups [cpu: 0; full: --seeds]")
    parser.add_argument("--families", default=",".join(FAMILIES), help="comma list of xcopa, xnli, xquad")
    parser.add_argument("--jobs", type=int, default=1, help="parallel lanes (processes sharing the cores)")
    parser.add_argument("--out", default="runs/replication", help="runs and module cache")
    parser.add_argument("--modules-dir", default=None,
                        help="module cache [--out/modules]; e.g. peer_xcopa.py --compare's, to reuse its SIQa modules")
    parser.add_argument("--report-dir", default=str(HERE / "results"), help="where the report goes")
    parser.add_argument("--report-only", action="store_true", help="write the report of what finished; run nothing")
    parser.add_argument("--lane", help=argparse.SUPPRESS)  # internal: the phases of one lane, as JSON
    args = parser.parse_args()

    if args.lane:
        run_lane(args, json.loads(args.lane))
        return
    seeds = [int(s) for s in args.seeds.split(",")]
    full_seeds = [int(s) for s in args.full_seeds.split(",")] if args.full_seeds else (
        [seeds[0]] if args.budget == "cpu" else seeds)
    families = [f for f in args.families.split(",") if f]
    unknown = set(families) - set(FAMILIES)
    if unknown:
        parser.error(f"unknown families {sorted(unknown)}; choose from {', '.join(FAMILIES)}")
    plan = phases(args.budget, families, seeds, full_seeds)
    start = time.time()
    if args.report_only:  # nothing runs; run.json still records the plan the runs were made by
        report(args, 0.0, plan)
        return
    if args.jobs <= 1:
        run_lane(args, plan)
    else:  # lanes by family (a family's phases stay in order, its module cache entries in one lane)
        lanes: list[list[dict]] = [[] for _ in range(args.jobs)]
        load = [0.0] * args.jobs
        for fam in sorted(families, key=lambda f: -RELATIVE_COST[f]):  # heaviest first, to the lightest lane
            lane = load.index(min(load))
            lanes[lane].extend(p for p in plan if p["family"] == fam)
            load[lane] += RELATIVE_COST[fam]
        threads = max(1, (os.cpu_count() or 1) // args.jobs)
        env = {**os.environ, "OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads)}
        procs = [subprocess.Popen([sys.executable, __file__, *sys.argv[1:], "--lane", json.dumps(lane)], env=env)
                 for lane in lanes if lane]
        codes = [p.wait() for p in procs]
        if any(codes):
            print(f"lanes exited with {codes}; rerun the same command to finish (finished cells are kept)")
    seconds = time.time() - start
    report(args, seconds, plan)


def report(args: argparse.Namespace, seconds: float, plan: list[dict]) -> None:
    """The grid report (tables, CIs, heatmap) and XCOPA's similarity ranking, into --report-dir."""
    from adapterx import api

    out = Path(args.report_dir)
    api.report(args.out, out=out, plot=True)
    cfg_keys = {k: v for k, v in overrides(args, "xcopa").items() if not k.startswith(("inter.", "training."))}
    for target in ("xcopa", "tatoeba"):  # Tatoeba: a measured delta for every intermediate task
        suggestion = api.suggest(target, inter=["siqa", "cosmosqa", "squad", "mnli"], runs=args.out,
                                 cfg=api.build_config(overrides={**cfg_keys, **TARGET_LANGS.get(target, {})}))
        (out / f"suggest_{target}.json").write_text(json.dumps(suggestion, indent=2, default=str), encoding="utf-8")
    meta = {"model": args.model, "data_dir": args.data_dir, "budget": args.budget,
            "cpu_budget": CPU_BUDGET if args.budget == "cpu" else None,
            "cpu_full": CPU_FULL if args.budget == "cpu" else None, "phases": plan,
            "wall_seconds": round(seconds, 1), "command": " ".join(sys.argv)}
    (out / "run.json").write_text(json.dumps(meta, indent=2), encoding="utf-8")
    print(f"report in {out}; {seconds / 60:.1f} min")


if __name__ == "__main__":
    main()
