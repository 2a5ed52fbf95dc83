"""The grid priced: tokens, FLOPs and GPU-hours of every run an experiment file's grid makes.

The cells and the intermediate-module trainings come from adapterx's own grid planner
(adapterx.recipes.grid_plan: what `adapterx grid --dry-run` prints), so module reuse is counted
exactly as the grid does it: each intermediate module trains once per method and seed and every
target reuses it; retrieval targets (BUCC, Tatoeba) only encode. Each run's epochs, lengths, QA
stride, batch sizes and dev-set cap are the ones the cell's resolved config gives (the tasks'
defaults unless the file overrides them). Data sizes are the sets' published sizes
(benchmarks/grid_sizes.py); tokens per example are measured with adapterx's own tokenization on
the local samples (`--data-dir`, an XLM-R-vocabulary tokenizer `--tokenizer`), padding included
as adapterx batches them (training: random batches; evaluation: length-sorted), or estimated
where no sample exists (marked).

    python benchmarks/grid_cost.py configs/experiments/phang2020.yaml --tokenizer /tmp/e5 --data-dir ../shared/data
    python benchmarks/grid_cost.py ... --mfu 0.3                      # assumed MFU (default 0.40)
    python benchmarks/grid_cost.py ... --tokens-per-s 25000           # measured full fine-tuning tokens/s
    python benchmarks/grid_cost.py ... --from-json benchmarks/results/<gpu>-<date>-train_cost_32x256.json

FLOPs per computed position (padding included): 6N for full fine-tuning, 4N for a frozen base
(forward 2N + the backward through the activations 2N; weight gradients only for the module, left
out), 2N for evaluation (forward only: a third of a full training token), with N = XLM-R Large's
non-embedding parameters (the 250k x 1024 embedding matrix is a lookup, no matmul), and
attention's sequence-length term left out, as in train_cost.py's MFU.
"""

from __future__ import annotations

import argparse
import functools
import math
import random
import sys
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_common import GPU_PEAK_TFLOPS, RESULTS_DIR, XLMR_LARGE, _fmt, write_outputs  # noqa: E402
from grid_sizes import BUCC_NOTE, BUCC_SENTENCES, ESTIMATED_TOKENS, SIZES  # noqa: E402

GOAL_HOURS = 12.0
H100_BF16 = next(bf16 for name, bf16, _ in GPU_PEAK_TFLOPS if name == "H100")
# Local samples (task, split, language) measured for a task's training rows, its English dev set,
# and its zero-shot evaluation; a task missing here is estimated or borrows a measured proxy.
TRAIN_SAMPLES = {t: [(t, "train", "en")] for t in ("mnli", "siqa", "squad", "squad_v2", "cosmosqa", "udpos", "copa")}
DEV_SAMPLES = {t: [(t, "dev", "en")] for t in ("mnli", "siqa", "squad", "squad_v2", "cosmosqa", "udpos", "copa")}
EVAL_SAMPLES = {"xnli": [("xnli", "dev", lang) for lang in ("en", "sw")],
                "xquad": [("xquad", "test", lang) for lang in ("en", "de", "es")],
                "udpos": [("udpos", "dev", "de")],
                "xcopa": [("xcopa", "test", lang) for lang in ("et", "id", "sw", "zh")],
                "tatoeba": [("tatoeba", "test", lang) for lang in ("de", "fr", "es")]}
# Sets with no local sample that read like a measured one (marked as proxies in the output).
PROXIES = {("train", "tydiqa"): "squad", ("dev", "tydiqa"): "squad", ("eval", "mlqa"): "xquad",
           ("eval", "tydiqa"): "xquad"}


@dataclass
class Lengths:
    """Per example: real tokens, features (QA windows) and batch positions computed (padding in)."""

    tokens: float
    features: float
    positions: float
    source: str  # "measured: ..." / "proxy ..." / "estimate: ..."


@dataclass
class Cost:
    """Positions one run computes, by kind."""

    train: float = 0.0  # training positions x epochs
    dev: float = 0.0  # English dev scoring after every epoch (forward only)
    evals: float = 0.0  # zero-shot evaluation / retrieval encoding (forward only)
    full: bool = False  # full fine-tuning (6N) rather than a frozen base (4N)


class Profiler:
    """Tokens per example of each set: measured on local samples with adapterx's tokenization,
    else a measured proxy, else the stated estimate (padding from the measured sets' average)."""

    def __init__(self, tokenizer_dir: str | None, data_dir: str | None, limit: int, seed: int) -> None:
        self.tokenizer = None
        if tokenizer_dir and (Path(tokenizer_dir) / "tokenizer.json").is_file():
            from transformers import AutoTokenizer

            self.tokenizer = AutoTokenizer.from_pretrained(tokenizer_dir)
        self.data_dir = Path(data_dir) if data_dir and Path(data_dir).is_dir() else None
        self.limit, self.seed = limit, seed
        self.table: dict[str, dict] = {}

    @functools.lru_cache(maxsize=None)
    def _measure(self, task: str, split: str, lang: str, max_len: int, stride: int, train: bool,
                 batch: int) -> tuple[int, int, int, int] | None:
        """(examples, features, real tokens, padded positions) of one local sample, or None."""
        from adapterx.data.features import tokenize
        from adapterx.errors import AdapterxError
        from adapterx.tasks import get_task

        if self.tokenizer is None or self.data_dir is None:
            return None
        t = get_task(task)
        try:
            rows = t.local(self.data_dir, split, lang)
        except (AdapterxError, OSError):
            return None
        rows = random.Random(self.seed).sample(rows, min(self.limit, len(rows)))
        if t.kind == "retrieval":  # both sides of every pair, as the encoder sees them
            texts = [r[k] for r in rows for k in ("source", "target")]
            lengths = [len(ids) for ids in self.tokenizer(texts, truncation=True, max_length=max_len)["input_ids"]]
            return len(rows), len(lengths), sum(lengths), _positions(lengths, 1, batch, False, self.seed)
        feats = tokenize(t, rows, self.tokenizer, max_len, stride, train=train)
        ids = feats["input_ids"]
        if t.kind == "multiple_choice":
            lengths, choices = [max(len(c) for c in row) for row in ids], len(ids[0])
            real = sum(len(c) for row in ids for c in row)
        else:
            lengths, choices = [len(row) for row in ids], 1
            real = sum(lengths)
        return len(rows), len(ids), real, _positions(lengths, choices, batch, train, self.seed)

    def lengths(self, role: str, task: str, max_len: int, stride: int, batch: int) -> Lengths:
        """Per-example lengths of `task`'s set in `role` (train / dev / eval)."""
        samples = {"train": TRAIN_SAMPLES, "dev": DEV_SAMPLES, "eval": EVAL_SAMPLES}[role].get(task, [])
        source_task = PROXIES.get((role, task), task)
        if not samples and source_task != task:
            samples = {"train": TRAIN_SAMPLES, "dev": DEV_SAMPLES, "eval": EVAL_SAMPLES}[role].get(source_task, [])
        kind = "train" if role == "train" else "eval"
        found = [m for m in (self._measure(*s, max_len, stride, role == "train", batch) for s in samples) if m]
        if found:
            n, feats, real, pos = (sum(col) for col in zip(*found))
            where = ", ".join(f"{s[0]} {s[1]} {s[2]}" for s in samples)
            label = f"measured ({where}; {n} examples)" if source_task == task else \
                f"proxy: {source_task} measured ({where})"
            out = Lengths(real / n, feats / n, pos / n, label)
        else:
            if task not in ESTIMATED_TOKENS:
                raise SystemExit(f"no local sample of {role} {task} under --data-dir and no estimate for it in "
                                 "benchmarks/grid_sizes.py ESTIMATED_TOKENS")
            tokens, feats, why = ESTIMATED_TOKENS[task]
            tokens = min(tokens, max_len * max(1, _choices(task)))
            out = Lengths(tokens, feats, tokens * self.pad_factor(kind, batch), f"estimate: {why}")
        self.table[f"{role} {task}"] = {"set": f"{role} {task}", "max_len": max_len, "tokens/example": out.tokens,
                                        "features/example": out.features, "positions/example": out.positions,
                                        "source": out.source}
        return out

    @functools.lru_cache(maxsize=None)
    def pad_factor(self, kind: str, batch: int) -> float:
        """Positions per real token over every local sample of this kind (train: random batches,
        eval: length-sorted), at the tasks' default lengths; without samples, padding.md's figures."""
        from adapterx.tasks import get_task

        samples = [s for table in ((TRAIN_SAMPLES,) if kind == "train" else (DEV_SAMPLES, EVAL_SAMPLES))
                   for group in table.values() for s in group]
        found = [m for m in (self._measure(*s, get_task(s[0]).max_seq_length, get_task(s[0]).doc_stride,
                                           kind == "train", batch) for s in samples) if m]
        if not found:
            return {"train": 1.55, "eval": 1.07}[kind]  # benchmarks/results/padding.md: 35% / 6% padding
        return sum(m[3] for m in found) / sum(m[2] for m in found)


def _choices(task: str) -> int:
    from adapterx.tasks import get_task

    return get_task(task).num_choices or 1


def _positions(lengths: list[int], choices: int, batch: int, shuffle: bool, seed: int) -> int:
    """Positions the batches compute: each batch padded to its longest feature (x choices)."""
    order = list(range(len(lengths)))
    if shuffle:  # the Trainer's random sampler
        random.Random(seed).shuffle(order)
    else:  # adapterx's evaluation sorts by length
        order.sort(key=lengths.__getitem__)
    return sum(max(lengths[i] for i in order[s:s + batch]) * len(order[s:s + batch]) * choices
               for s in range(0, len(order), batch))


def nonembedding_params() -> int:
    """XLM-R Large's non-embedding parameters, from its config (built on the meta device)."""
    import torch
    from transformers import XLMRobertaConfig, XLMRobertaModel

    from bench_common import parameter_counts

    with torch.device("meta"):
        model = XLMRobertaModel(XLMRobertaConfig(**XLMR_LARGE), add_pooling_layer=False)
    return parameter_counts(model)["nonembedding"]


def _n(task: str, split: str) -> int:
    size = SIZES[task]
    return getattr(size, split) or 0


def training_cost(task_name: str, cfg, prof: Profiler, full: bool) -> Cost:
    """One training of `task_name`'s English data under `cfg` (epochs, dev scoring per epoch)."""
    from adapterx.tasks import get_task

    task = get_task(task_name)
    source = get_task(task.train_task)
    t = cfg.training
    max_len, stride = t.max_seq_length or task.max_seq_length, t.doc_stride or task.doc_stride
    epochs = t.epochs or task.epochs
    n_train = _n(source.name, "train") + sum(_n(o, "train") for o in source.also_train_on)
    if source.dev_holdout:
        n_dev = max(1, int(n_train * source.dev_holdout))
        n_train -= n_dev
    else:
        n_dev = _n(source.name, "dev")
    if t.max_train_examples:
        n_train = min(n_train, t.max_train_examples)
    if t.max_dev_examples:
        n_dev = min(n_dev, t.max_dev_examples)
    train = prof.lengths("train", source.name, max_len, stride, t.batch_size)
    train_pos = train.positions * n_train
    for other in source.also_train_on:  # ANLI+: the other sets' rows at their own lengths
        extra = prof.lengths("train", other, max_len, stride, t.batch_size)
        train_pos += (extra.positions - train.positions) * _n(other, "train")
    dev = prof.lengths("dev", source.name, max_len, stride, t.eval_batch_size)
    return Cost(train=train_pos * epochs, dev=dev.positions * n_dev * math.ceil(epochs), full=full)


def eval_cost(target: str, cfg, prof: Profiler) -> Cost:
    """Zero-shot evaluation (or retrieval encoding) of every language the cell scores."""
    from adapterx.tasks import check_languages, get_task

    task = get_task(target)
    langs = check_languages(task, cfg.langs)
    if task.kind == "retrieval":
        per = prof.lengths("eval", target, cfg.retrieval.max_seq_length, 0, cfg.retrieval.batch_size)
        if target == "bucc":  # sentences, not pairs
            return Cost(evals=per.positions * sum(BUCC_SENTENCES[lang] for lang in langs))
        return Cost(evals=per.positions * sum(SIZES[target].evals[lang] for lang in langs))
    t = cfg.training
    per = prof.lengths("eval", target, t.max_seq_length or task.max_seq_length, t.doc_stride or task.doc_stride,
                       t.eval_batch_size)
    n = sum(SIZES[target].evals[lang] for lang in langs)
    if t.max_eval_examples:
        n = sum(min(SIZES[target].evals[lang], t.max_eval_examples) for lang in langs)
    return Cost(evals=per.positions * n)


@dataclass
class Record:
    """One priced run: which phase and setup it belongs to, its positions, FLOPs and hours."""

    phase: str
    setup: str
    key: str  # the module (task/method) or the cell label
    cost: Cost
    eflop: float = 0.0
    hours: float = 0.0


def plan(experiment: str, prof: Profiler) -> tuple[list[Record], list, list, list[str]]:
    """Every training and evaluation the experiment's grid runs, through adapterx's grid planner:
    the records, the module trainings, the cells and the planner's notes."""
    from adapterx.api import build_config
    from adapterx.recipes.grid_plan import cell_config, load_spec, module_config, module_trainings, plan_cells
    from adapterx.tasks import get_task

    spec = load_spec(experiment)
    base = build_config(preset=spec.preset, overrides=dict(spec.config))
    cells, notes = plan_cells(spec, base.module_seed)
    modules = sorted(module_trainings(cells, base.module_seed))
    records = []
    for tasks, method, seed in modules:
        cfg = module_config(base, method, seed, spec).for_intermediate()
        for task in tasks.split("+"):  # a multi-task module: its tasks' rows, trained together
            records.append(Record("intermediate modules", "full-stilts" if method == "full" else "stack",
                                  f"{task}/{method}/s{seed}", training_cost(task, cfg, prof, full=method == "full")))
    for cell in cells:
        cfg = cell_config(base, cell, spec)
        if get_task(cell.target).kind != "retrieval":
            records.append(Record("target trainings", cell.setup, cell.label,
                                  training_cost(cell.target, cfg, prof, full=cell.method == "full")))
        records.append(Record("zero-shot evaluations", cell.setup, cell.label, eval_cost(cell.target, cfg, prof)))
    return records, modules, cells, notes


def mfus(args: argparse.Namespace, n_params: int) -> tuple[dict[str, float], str]:
    """MFU per kind of work (full training, frozen-base training, forward only) and its origin."""
    if args.from_json:
        import json

        rows = {r["setup"]: r for r in json.loads(Path(args.from_json).read_text())["setups"]}
        full = rows.get("full-bf16") or rows.get("full")
        module = rows.get(args.module_setup)
        if not full or not module or full.get("MFU %") is None or module.get("MFU %") is None:
            raise SystemExit(f"{args.from_json} lacks MFU for full(-bf16) and {args.module_setup}")
        origin = (f"MFU measured by train_cost.py ({Path(args.from_json).name}): full {full['MFU %']:.1f}%, "
                  f"{args.module_setup} {module['MFU %']:.1f}% (forward-only work at the module's MFU)")
        return {"full": full["MFU %"] / 100, "module": module["MFU %"] / 100, "eval": module["MFU %"] / 100}, origin
    if args.tokens_per_s:
        mfu = args.tokens_per_s * 6 * n_params / (args.peak_tflops * 1e12)
        return dict.fromkeys(("full", "module", "eval"), mfu), \
            (f"measured full fine-tuning {args.tokens_per_s:,.0f} tokens/s = {100 * mfu:.1f}% MFU, applied to "
             "every kind of work")
    return dict.fromkeys(("full", "module", "eval"), args.mfu), f"ASSUMED {100 * args.mfu:.0f}% MFU (not measured)"


def price(record: Record, n_params: int, mfu: dict[str, float], peak_tflops: float) -> Record:
    """Fill in the record's FLOPs and hours."""
    c = record.cost
    flops_train = c.train * (6 if c.full else 4) * n_params
    flops_fwd = (c.dev + c.evals) * 2 * n_params
    record.eflop = (flops_train + flops_fwd) / 1e18
    record.hours = (flops_train / mfu["full" if c.full else "module"] + flops_fwd / mfu["eval"]) \
        / (peak_tflops * 1e12) / 3600
    return record


def summed(name: str, records: list[Record]) -> dict:
    """One table row: the records' positions (millions), EFLOP and hours added up."""
    return {"row": name, "runs": len(records), "train Mtok": sum(r.cost.train for r in records) / 1e6,
            "dev Mtok": sum(r.cost.dev for r in records) / 1e6, "eval Mtok": sum(r.cost.evals for r in records) / 1e6,
            "EFLOP": sum(r.eflop for r in records), "hours": sum(r.hours for r in records)}


def without_reuse(records: list[Record], cells: list) -> float:
    """Hours the grid would add if every stack / full-stilts cell trained its own intermediate module."""
    module_hours = {r.key.rsplit("/s", 1)[0]: r.hours for r in records if r.phase == "intermediate modules"}
    needed = sum(module_hours.get(f"{t}/{c.method}", 0.0) for c in cells for t in c.inter)
    return needed - sum(module_hours.values())


def main(argv: list[str] | None = None) -> dict:
    """Plan the grid, count its tokens, price them, print and save."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("experiment", nargs="?", default="configs/experiments/phang2020.yaml")
    p.add_argument("--tokenizer", default="/tmp/e5", help="an XLM-R-vocabulary tokenizer folder (e5-small's)")
    p.add_argument("--data-dir", default="../shared/data", help="local samples to measure lengths on")
    p.add_argument("--sample", type=int, default=2000, help="examples measured per local file")
    p.add_argument("--mfu", type=float, default=0.40, help="assumed model FLOPs utilisation")
    p.add_argument("--tokens-per-s", type=float, default=None, help="measured full fine-tuning tokens/s")
    p.add_argument("--from-json", default=None, help="a train_cost.py JSON measured on the GPU")
    p.add_argument("--module-setup", default="bottleneck", help="the train_cost row the modules run at")
    p.add_argument("--peak-tflops", type=float, default=H100_BF16, help="GPU peak (default H100 SXM bf16 dense)")
    p.add_argument("--gpu", default="H100", help="the GPU's name in the output")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default=None)
    args = p.parse_args(argv)
    if not 0 < args.mfu <= 1:
        raise SystemExit("--mfu is a fraction in (0, 1], e.g. 0.4")
    from adapterx.api import quiet_libraries

    quiet_libraries()
    prof = Profiler(args.tokenizer, args.data_dir, args.sample, args.seed)
    if prof.tokenizer is None or prof.data_dir is None:
        raise SystemExit("lengths are measured on local samples: pass --tokenizer (an XLM-R-vocabulary tokenizer "
                         "folder, e.g. python ../shared/tools/build_e5_small.py /tmp/e5) and --data-dir "
                         "(e.g. ../shared/data)")
    n_params = nonembedding_params()
    records, modules, cells, plan_notes = plan(args.experiment, prof)
    mfu, origin = mfus(args, n_params)
    for r in records:
        price(r, n_params, mfu, args.peak_tflops)
    phases = list(dict.fromkeys(r.phase for r in records))
    setups = list(dict.fromkeys(c.setup for c in cells))
    total = sum(r.hours for r in records)
    meets = total <= GOAL_HOURS
    table = [summed(f"phase: {ph}", [r for r in records if r.phase == ph]) for ph in phases]
    table += [summed(f"setup: {s}", [r for r in records if r.setup == s]) for s in setups]
    table.append({**summed(f"TOTAL on one {args.gpu}", records), "meets 12 h": meets})
    extra = without_reuse(records, cells)
    notes = [f"throughput: {origin}; peak {args.peak_tflops:g} TFLOP/s ({args.gpu} bf16 dense)",
             f"N = {n_params:,} non-embedding parameters (XLM-R Large); FLOPs per position: 6N full training, "
             "4N frozen-base training, 2N forward only (dev scoring, zero-shot evaluation, retrieval encoding); "
             "attention's sequence-length term left out",
             "Mtok = millions of positions computed (padding included: random training batches, length-sorted "
             "evaluation batches, as adapterx batches them); train = x epochs; dev = English dev scoring after "
             "every epoch (capped at training.max_dev_examples)",
             "setup rows: stack holds the bottleneck intermediate modules, full-stilts the fully fine-tuned "
             "intermediate models, each trained once and reused by every target",
             f"module reuse: {len(modules)} intermediate trainings for {len(cells)} cells; training each "
             f"stack / full-stilts cell's module itself would add {extra:,.1f} h",
             f"goal: the whole grid on one {args.gpu} in <= {GOAL_HOURS:g} h: {'met' if meets else 'NOT met'} "
             f"({total:,.1f} h); it is met at any MFU >= "
             f"{100 * sum(r.eflop for r in records) * 1e18 / (GOAL_HOURS * 3600 * args.peak_tflops * 1e12):.1f}% "
             "over the whole grid", BUCC_NOTE, *plan_notes]
    payload = {"benchmark": "grid_cost", "experiment": args.experiment, "options": vars(args),
               "nonembedding_params": n_params, "mfu": mfu, "throughput": origin, "total_hours": total,
               "meets_goal": meets, "goal_hours": GOAL_HOURS, "hours_without_module_reuse": total + extra,
               "rows": table, "lengths": list(prof.table.values()),
               "runs": [{"phase": r.phase, "setup": r.setup, "run": r.key, "full": r.cost.full,
                         "train_positions": r.cost.train, "dev_positions": r.cost.dev,
                         "eval_positions": r.cost.evals, "eflop": r.eflop, "hours": r.hours} for r in records],
               "sizes": {k: vars(v) for k, v in SIZES.items()}, "notes": notes, "date": time.strftime("%Y-%m-%d")}
    label = "measured" if (args.from_json or args.tokens_per_s) else f"assumed-mfu{round(100 * args.mfu)}"
    out = Path(args.out) if args.out else \
        RESULTS_DIR / f"{args.gpu.lower()}-projected-{time.strftime('%Y-%m-%d')}-grid_cost-{label}.json"
    columns = ["row", "runs", "train Mtok", "dev Mtok", "eval Mtok", "EFLOP", "hours", "meets 12 h"]
    write_outputs(out, payload, columns, table, f"{Path(args.experiment).stem} grid on one {args.gpu}: {origin}")
    _append_lengths(out.with_suffix(".md"), list(prof.table.values()))
    return payload


def _append_lengths(md: Path, rows: list[dict]) -> None:
    """The per-set lengths under the main table of the Markdown file."""
    cols = ["set", "max_len", "tokens/example", "features/example", "positions/example", "source"]
    lines = ["", "## Tokens per example", "", "| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    lines += ["| " + " | ".join(_fmt(r.get(c)) for c in cols) + " |" for r in rows]
    md.write_text(md.read_text(encoding="utf-8") + "\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
