"""`peer_xcopa.py --compare`: the plain script's conditions beside adapterx's matching commands, per
seed, and the table of SIQa -> XCOPA deltas.

adapterx runs only through its CLI (`python -m adapterx.cli ...` in a subprocess) and is read back
only through the results.json files it writes. Every finished condition is a line of
`<work>/records.jsonl` (runner, method, condition, seed, per_language, average, ...); a later
--compare reuses a line whose settings match instead of training again, and appends new ones.

Settings matched to the plain script: LoRA r 8, alpha 16, no dropout, on query and value; a linear
scorer (head.dropout=0) over the mean-pooled last hidden state (head.pooling=mean); AdamW, constant
learning rate without warmup, weight decay 0.01; batch 16, max length 96; SIQa: the first phase, 1
epoch on --siqa-items items; COPA: --copa-epochs epochs, the last epoch kept (training.select=last);
fp32. Differences left: which 3,000 SIQa items are drawn and the batch order (each side seeds its
own), and the Trainer leaves biases and LayerNorm weights out of weight decay.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LR = {"lora": 5e-4, "full": 2e-5}
PEER_CONDITIONS = ("target", "siqa")
# adapterx condition -> (command, method, uses the intermediate task)
ADAPTERX = {"direct": ("direct", "lora", False), "sequential": ("sequential", "lora", True),
            "stack": ("stack", "lora", True), "fuse": ("fuse", "lora", True),
            "full-direct": ("direct", "full", False), "full-stilts": ("stack", "full", True)}
# the setup name results.json records where it is not the condition's (fuse over LoRA modules)
RESULT_SETUP = {"fuse": "lora-fusion"}


def read_records(path: Path) -> list[dict]:
    """Every record of the work folder's records.jsonl (none yet: empty)."""
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def matches(record: dict, args: argparse.Namespace, runner: str, method: str, condition: str, seed: int) -> bool:
    """A record of this condition made with the settings of this comparison (records written
    before the settings were recorded are those of the full-size defaults)."""
    siqa_seed = seed if getattr(args, "siqa_seed", None) is None else args.siqa_seed
    return (record.get("runner"), record.get("method"), record.get("condition"), record.get("seed")) == \
        (runner, method, condition, seed) and sorted(record.get("per_language", {})) == sorted(args.langs) \
        and record.get("siqa_items", 3000) == args.siqa_items and record.get("copa_epochs", 5) == args.copa_epochs \
        and (condition in ("target", "direct", "full-direct") or record.get("siqa_seed", seed) == siqa_seed) \
        and (runner != "peer" or record.get("target_phase_seeded", False))


def recorded(path: Path, args, runner: str, method: str, condition: str, seed: int,
             make: Callable[[], dict]) -> dict:
    """The matching record of `path`, or a new one from `make()`, appended to `path`."""
    for record in read_records(path):
        if matches(record, args, runner, method, condition, seed):
            print(f"reusing {runner} {method} {condition} seed {seed}: {record['average']:.2f}")
            return record
    print(f"running {runner} {method} {condition} seed {seed}", flush=True)
    record = make()
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as f:
        f.write(json.dumps(record) + "\n")
    return record


def adapterx_command(args, condition: str, seed: int) -> tuple[list[str], Path]:
    """The CLI words of one adapterx condition with the peer's settings, and its runs folder."""
    command, method, uses_inter = ADAPTERX[condition]
    work = Path(args.work).resolve() / "adapterx"
    output = work / "runs" / f"{condition}-s{seed}"
    words = [sys.executable, "-m", "adapterx.cli", command, "--target", "xcopa",
             *(["--inter", "siqa"] if uses_inter else []), "--method", method,
             "--model", str(Path(args.model).resolve()) if Path(args.model).exists() else args.model,
             "--data-dir", str(Path(args.data_dir).resolve()), "--seed", str(seed), "--langs", ",".join(args.langs),
             "--modules-dir", str(work / "modules"), "--output", str(output), "--device", args.device,
             "--dtype", "fp32", "--eval-split", "test", "head.pooling=mean", "head.dropout=0"]
    if method == "lora":
        words += ["lora.r=8", "lora.alpha=16", "lora.dropout=0", "lora.target_modules=query,value"]
    for section in ("training", "inter"):
        words += [f"{section}.{k}={v}" for k, v in (
            ("learning_rate", LR[method]), ("lr_scheduler", "constant"), ("warmup_ratio", 0),
            ("batch_size", 16), ("max_seq_length", 96), ("weight_decay", 0.01), ("select", "last"),
            # the plain script draws batches in random order, not grouped by length
            ("group_by_length", "false"))]
    # with select=last the SIQa dev score chooses nothing: a 250-item sample only reports it
    words += [f"training.epochs={args.copa_epochs}", "inter.epochs=1",
              f"inter.max_train_examples={args.siqa_items}", "inter.max_dev_examples=250"]
    if getattr(args, "siqa_seed", None) is not None:  # the SIQa module of that seed, for every target seed
        words += [f"module_seed={args.siqa_seed}"]
    return words, output


def run_adapterx(args, condition: str, seed: int) -> dict:
    """One adapterx condition through its CLI; the record from the results.json it wrote."""
    words, output = adapterx_command(args, condition, seed)
    print("  " + " ".join(words[1:]), flush=True)
    subprocess.run(words, cwd=ROOT, check=True)
    method = ADAPTERX[condition][1]
    found = [json.loads(p.read_text(encoding="utf-8")) for p in sorted((output / "xcopa").glob("*/results.json"))]
    # the condition names are the setup names results.json records (full + stack: full-stilts)
    found = [r for r in found if r["seed"] == seed and r["setup"] == RESULT_SETUP.get(condition, condition)]
    if len(found) != 1:
        raise SystemExit(f"expected one results.json of {condition} seed {seed} under {output}, found {len(found)}")
    r = found[0]
    return {"runner": "adapterx", "method": method, "condition": condition, "seed": seed,
            "per_language": r["per_language"], "average": r["average"], "english_dev": r["english_dev"],
            "train_seconds": r["train_seconds"], "trainable_params": r["trainable_params"],
            "head_init": r.get("head_init"), "config_hash": r["config_hash"], "siqa_items": args.siqa_items,
            "copa_epochs": args.copa_epochs, "command": " ".join(words[1:]),
            "siqa_seed": seed if getattr(args, "siqa_seed", None) is None else args.siqa_seed}


def table(records: dict, seeds: list[int], methods: tuple[str, ...] | list[str] = ("lora", "full")) -> list[dict]:
    """Rows per seed and their mean: peer and adapterx averages, deltas, and the gaps between deltas
    (the columns of `methods` only)."""
    rows = []
    for seed in seeds:
        def avg(runner: str, method: str, condition: str) -> float:
            return records[(runner, method, condition, seed)]["average"]

        row = {"seed": str(seed)}
        for method, peer_label in (("lora", "LoRA"), ("full", "full")):
            if method in methods:
                t, s = avg("peer", method, "target"), avg("peer", method, "siqa")
                row.update({f"peer {peer_label} target": t, f"peer {peer_label} siqa": s,
                            f"peer {peer_label} delta": s - t})
        if "lora" in methods:
            d = avg("adapterx", "lora", "direct")
            row["ax direct"] = d
            for name in ("sequential", "stack", "fuse"):
                if ("adapterx", "lora", name, seed) not in records:
                    continue
                row[f"ax {name}"] = avg("adapterx", "lora", name)
                row[f"ax {name} delta"] = row[f"ax {name}"] - d
                row[f"gap {name}"] = row[f"ax {name} delta"] - row["peer LoRA delta"]
        if "full" in methods:
            fd, fs = avg("adapterx", "full", "full-direct"), avg("adapterx", "full", "full-stilts")
            row.update({"ax full-direct": fd, "ax full-stilts": fs, "ax full delta": fs - fd,
                        "gap full": (fs - fd) - row["peer full delta"]})
        rows.append(row)
    mean = {"seed": "mean"}
    for key in rows[0]:
        if key != "seed":
            mean[key] = statistics.fmean(r[key] for r in rows)
    if len(rows) > 1:
        for key in ("peer LoRA delta", "ax sequential delta", "ax stack delta", "ax fuse delta", "peer full delta",
                    "ax full delta"):
            if key in rows[0]:
                mean[f"{key} sd"] = statistics.stdev(r[key] for r in rows)
    # differences of averages over 2,750 items: float noise past the 6th decimal (a gap of 1e-14) is 0
    return [{k: round(v, 6) if isinstance(v, float) else v for k, v in row.items()} for row in rows + [mean]]


COLUMNS = ["seed", "peer LoRA target", "peer LoRA siqa", "peer LoRA delta", "ax direct", "ax sequential",
           "ax stack", "ax fuse", "ax sequential delta", "ax stack delta", "ax fuse delta", "gap sequential",
           "gap stack", "gap fuse",
           "peer full target", "peer full siqa", "peer full delta", "ax full-direct", "ax full-stilts",
           "ax full delta", "gap full"]


def compare(args: argparse.Namespace, run_condition: Callable[[argparse.Namespace, str, int], dict]) -> dict:
    """Run (or reuse) every condition of both runners for every seed; write and print the table."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from bench_common import RESULTS_DIR, machine, write_outputs

    seeds = [int(s) for s in str(args.seeds).split(",") if s.strip()]
    args.copa_epochs = getattr(args, "copa_epochs", 5)
    path = Path(args.work) / "records.jsonl"
    records: dict = {}
    if getattr(args, "siqa_seed", None) is not None and not getattr(args, "siqa_cache", None):
        args.siqa_cache = str(Path(args.work) / "peer-siqa")
    methods = [m for m in str(getattr(args, "methods", "lora,full")).split(",") if m]
    for method in methods:  # every seed of one method before the next: LoRA's table first
        for seed in seeds:
            peer_args = argparse.Namespace(**{**vars(args), "full": method == "full"})
            for condition in PEER_CONDITIONS:
                records[("peer", method, condition, seed)] = recorded(
                    path, args, "peer", method, condition, seed,
                    lambda: run_condition(peer_args, condition, seed))  # noqa: B023  (called at once)
            for condition in (c for c, (_, m, _) in ADAPTERX.items() if m == method):
                records[("adapterx", method, condition, seed)] = recorded(
                    path, args, "adapterx", method, condition, seed,
                    lambda: run_adapterx(args, condition, seed))  # noqa: B023  (called at once)
    rows = table(records, seeds, methods)
    name = "peer_xcopa" if (args.siqa_items, args.copa_epochs, len(args.langs)) == (3000, 5, 11) else "peer_xcopa_quick"
    name += "" if set(methods) == {"lora", "full"} else "_" + "_".join(methods)
    out = RESULTS_DIR / f"{args.device.split(':')[0]}-{time.strftime('%Y-%m-%d')}-{name}.json"
    payload = {
        "benchmark": "peer_xcopa", "model": args.model, "seeds": seeds, "langs": args.langs,
        "siqa_items": args.siqa_items, "copa_epochs": args.copa_epochs, "adapterx_device": args.device,
        "siqa_seed": getattr(args, "siqa_seed", None), "methods": methods,
        "machine": machine(), "rows": rows, "records": list(records.values()),
        "notes": ["XCOPA average accuracy (%) over the languages; delta = SIQa -> XCOPA minus target-only; "
                  "gap = adapterx's delta minus the plain script's delta (same seed)",
                  "ax sequential: the SIQa LoRA module and head continue on COPA (the plain script's recipe); "
                  "ax stack: a new COPA LoRA over the frozen SIQa module (head from SIQa's); "
                  "ax fuse: LoRA fusion (adapterx's learned per-layer attention over modules) over the one frozen "
                  "SIQa module, with the fusion layers and head training; "
                  "full: every weight trains (lr 2e-5)",
                  "not matched: which SIQa items are drawn and the batch order (each side seeds its own); "
                  "the Trainer leaves biases and LayerNorm weights out of weight decay and clips the gradient "
                  "norm at 1.0 (training.max_grad_norm; the plain script does not clip)",
                  *(["SIQa stage pinned to seed %d for every seed (plain script: its weights kept in --siqa-cache; "
                     "adapterx: module_seed): the seeds vary the target training only" % args.siqa_seed]
                    if getattr(args, "siqa_seed", None) is not None else [])],
    }
    write_outputs(out, payload, [c for c in COLUMNS if c in rows[0]], rows, f"SIQa -> XCOPA: plain script vs adapterx ({Path(args.model).name})")
    return payload
