"""Recipe: `adapterx suggest --target T [--runs DIR]` — rank intermediate tasks by their similarity
to the target before any training; with a runs folder, also how well similarity predicted the
measured transfer deltas (Spearman), for representations and, for LoRA runs, module updates."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

from rich.table import Table

from adapterx.analysis.similarity import centred_cosines, centroid, module_similarity, spearman, task_texts
from adapterx.assemble import assemble
from adapterx.configs import RunConfig
from adapterx.data.bad_rows import applies_policy
from adapterx.errors import AdapterxError, DataError, UnknownChoiceError
from adapterx.methods import find_method
from adapterx.report.console import console
from adapterx.store import write_json_atomic
from adapterx.tasks import all_tasks, get_task


def measured_deltas(runs_dir: Path, target: str) -> dict[str, dict]:
    """Per intermediate task: the mean delta over seeds of its single-module `stack` runs vs `direct`
    of the same method and model, or, for a retrieval target (no training), of the scores from its
    module vs the base encoder's; and the module folders (for module similarity)."""
    runs = []
    for path in sorted(Path(runs_dir).rglob("results.json")):
        try:
            results = json.loads(path.read_text(encoding="utf-8"))
        except ValueError:
            continue
        if results.get("target") == target and results.get("average") is not None:
            runs.append((path.parent, results))
    reference = defaultdict(list)  # (method, model) -> direct runs; ("retrieval", model) -> base scores
    for folder, r in runs:
        if r.get("setup") == "direct":
            reference[(r.get("method"), r.get("model"))].append((folder, float(r["average"])))
        elif r.get("setup") == "retrieval" and not r.get("inter"):
            reference[("retrieval", r.get("model"))].append((folder, float(r["average"])))
    out: dict[str, dict] = {}
    for folder, r in runs:
        if r.get("setup") not in ("stack", "retrieval") or len(r.get("inter", [])) != 1:
            continue
        retrieval = r["setup"] == "retrieval"
        base = reference.get(("retrieval" if retrieval else r.get("method"), r.get("model")))
        if not base:
            continue
        ref = sum(a for _, a in base) / len(base)
        entry = out.setdefault(r["inter"][0], {"deltas": [], "method": r.get("method"),
                                               "module": None, "target_module": None})
        entry["deltas"].append(float(r["average"]) - ref)
        spec = find_method(r.get("method"))
        if spec and spec.module_similarity and r.get("modules") and not retrieval:
            entry["module"] = r["modules"][0]["path"]
            entry["target_module"] = str(base[0][0] / "module")
    for entry in out.values():
        entry["delta"] = sum(entry["deltas"]) / len(entry["deltas"])
    return out


@applies_policy
def run_suggest(target: str, inter: list[str] | None, cfg: RunConfig, runs_dir: str | None = None,
                n_examples: int = 200) -> dict:
    """Rank `inter` (default: every intermediate task with data) for `target`; returns suggest.json."""
    task = get_task(target)
    if not task.is_target:
        raise UnknownChoiceError("target task", target, sorted(n for n, t in all_tasks().items() if t.is_target))
    # the target's own English training task (COPA for XCOPA) would trivially rank first
    names = inter or sorted(n for n, t in all_tasks().items() if not t.is_target and n != task.train_task)
    bb = assemble(cfg).bb  # the base encoder alone
    with console.status(f"embedding {n_examples} {target} examples"):
        target_vec = centroid(bb, task_texts(task, cfg, n_examples, cfg.langs))
    vectors, skipped = {}, {}
    for name in names:
        try:
            with console.status(f"embedding {n_examples} {name} examples"):
                vectors[name] = centroid(bb, task_texts(get_task(name), cfg, n_examples))
        except (DataError, AdapterxError) as err:  # no data for this task here: say so, go on
            skipped[name] = str(err).splitlines()[0]
    if not vectors:
        raise AdapterxError(f"none of {', '.join(names)} has data to embed",
                            "pass --data-dir with the intermediate tasks' files, or --inter")
    sims = centred_cosines(target_vec, vectors)
    ranking = sorted(sims, key=sims.get, reverse=True)
    rows = [{"task": n, "similarity": sims[n], "rank": i + 1} for i, n in enumerate(ranking)]
    result = {"target": target, "model": cfg.model, "n_examples": n_examples, "ranking": rows,
              "skipped": skipped, "method": "centred centroid cosine (mean-pooled last layer)"}
    if runs_dir:
        result["measured"] = _correlate(rows, measured_deltas(Path(runs_dir), target))
    _print(result)
    out = Path(cfg.output) / target / "suggest.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    write_json_atomic(out, result)
    console.print(f"suggestion: {out}")
    return result


def _correlate(rows: list[dict], measured: dict[str, dict]) -> dict:
    """Add measured deltas (and LoRA module similarity) to `rows`; Spearman of each with the deltas."""
    for row in rows:
        entry = measured.get(row["task"])
        row["delta"] = entry["delta"] if entry else None
        row["module_similarity"] = None
        if entry and entry["module"] and Path(entry["target_module"], "adapter_config.json").is_file():
            row["module_similarity"] = module_similarity(Path(entry["module"]), Path(entry["target_module"]))
    have = [r for r in rows if r["delta"] is not None]
    with_module = [r for r in have if r["module_similarity"] is not None]
    return {"n_tasks": len(have),
            "spearman_representation": spearman([r["similarity"] for r in have], [r["delta"] for r in have]),
            "spearman_module": spearman([r["module_similarity"] for r in with_module],
                                        [r["delta"] for r in with_module])}


def _print(result: dict) -> None:
    measured = "measured" in result
    table = Table(title=f"intermediate tasks for {result['target']} (most similar first)")
    for col in ("rank", "task", "similarity") + (("measured delta", "module similarity") if measured else ()):
        table.add_column(col, justify="right" if col != "task" else "left")
    fmt = lambda v: "-" if v is None else f"{v:+.2f}" if isinstance(v, float) else str(v)  # noqa: E731
    for row in result["ranking"]:
        cells = [str(row["rank"]), row["task"], f"{row['similarity']:.3f}"]
        if measured:
            cells += [fmt(row.get("delta")), fmt(row.get("module_similarity"))]
        table.add_row(*cells)
    console.print(table)
    for name, why in result["skipped"].items():
        console.print(f"[dim]skipped {name}: {why}[/]")
    if measured:
        m = result["measured"]
        console.print(f"Spearman with measured deltas over {m['n_tasks']} tasks: representation "
                      f"{fmt(m['spearman_representation'])}, module {fmt(m['spearman_module'])}")
