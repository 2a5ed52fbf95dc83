"""Recipe: re-evaluate a finished run, or evaluate a module zero-shot on a target, any languages."""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

from adapterx.assemble import load_trained, resolve_task
from adapterx.configs import RunConfig
from adapterx.data.bad_rows import applies_policy
from adapterx.errors import AdapterxError
from adapterx.leakage import check_saved
from adapterx.recipes.common import provenance
from adapterx.recipes.target import check_eval_split, evaluate_languages
from adapterx.recipes.train_module import ModuleRecord
from adapterx.report.results import per_language_scores, print_table, write_predictions, write_results
from adapterx.store import atomic_dir, read_meta, write_meta
from adapterx.tasks import check_languages, get_task

__all__ = ["as_the_run_was", "evaluate_path", "load_trained"]  # load_trained lives in adapterx.assemble


def _evaluate_base(cfg: RunConfig, target: str | None, command: str, model: str | None) -> dict:
    """`adapterx eval --model X --target T` with no module: the base encoder itself, which only a
    retrieval target can score (the others need a trained head)."""
    if target is None:
        raise AdapterxError("pass --run DIR, --module DIR, or --target T (with --model) to score a base model")
    task = get_task(target)
    if task.kind != "retrieval":
        raise AdapterxError(f"{task.name} needs a trained head: a base model alone scores retrieval targets only "
                            "(bucc, tatoeba)", f"train one with `adapterx direct --target {task.name}`, or pass "
                                               "--module DIR / --run DIR")
    from adapterx.recipes.retrieval import run_retrieval

    return run_retrieval([], task, dataclasses.replace(cfg, model=model or cfg.model), command, modules=[])


def as_the_run_was(cfg: RunConfig, saved: dict) -> RunConfig:
    """`cfg` with the run's own data folder and sequence settings where the command gave none: a run
    trained on local files (or --preset tiny) is evaluated on the same data, not on the Hub."""
    from adapterx.report.console import console

    changes: dict = {}
    data_dir = saved.get("data_dir")
    if cfg.data_dir is None and data_dir and Path(data_dir).is_dir():
        changes["data_dir"] = data_dir
        console.print(f"data: {data_dir} (the run's --data-dir; pass --data-dir to use another)")
    trained = saved.get("training") or {}
    seq = {k: trained[k] for k in ("max_seq_length", "doc_stride")
           if getattr(cfg.training, k) is None and trained.get(k) is not None}
    if seq:
        changes["training"] = dataclasses.replace(cfg.training, **seq)
    return dataclasses.replace(cfg, **changes) if changes else cfg


@applies_policy
def evaluate_path(cfg: RunConfig, run: str | None = None, module: str | None = None,
                  target: str | None = None, command: str = "", model: str | None = None) -> dict:
    """`adapterx eval --run DIR` or `--module DIR --target T`: zero-shot table + results.json.

    The base model is the one the module was trained on, unless `model` names another (which is
    then checked against the module's fingerprint)."""
    if run and module:
        raise AdapterxError("pass one of --run DIR or --module DIR, not both")
    if not run and not module:
        return _evaluate_base(cfg, target, command, model)
    folder = Path(run) / "module" if run else Path(module)
    meta = read_meta(folder)
    if run and meta.get("config"):
        cfg = as_the_run_was(cfg, meta["config"])
    task = resolve_task(meta, target, folder)
    langs = check_languages(task, cfg.langs)
    split = check_eval_split(task, cfg.eval_split)
    model_name = model or meta["base_model"]["name"]
    if task.kind == "retrieval":  # no head: score the module's representations
        if meta["kind"] != "module":
            raise AdapterxError("retrieval targets are scored from intermediate modules, not target runs",
                                "pass --module DIR of a module trained with `adapterx train`")
        from adapterx.recipes.retrieval import run_retrieval

        record = ModuleRecord(meta["task"], folder, meta["key"], reused=True)
        run_cfg = dataclasses.replace(cfg, model=model_name, method=meta["method"],
                                      quant=meta["base_model"].get("quant", "none"))
        return run_retrieval([meta["task"]], task, run_cfg, command, modules=[record])
    quant = meta["base_model"].get("quant", "none")
    # the module must fit the base first (a clear, cheap error), then the evaluation data is checked
    model, bb, comp, inter = load_trained(folder, meta, task, cfg, model_name)
    leakage = check_saved(task, cfg, split, langs, folder, meta)
    # the module's own method evaluates it (a LoRA module merged for the final pass, ...), whatever
    # the command's --method default says
    cfg_eval = dataclasses.replace(cfg, method=meta["method"])
    per_lang, examples = evaluate_languages(model, task, bb, cfg_eval, split, langs)
    per_language, average, extra = per_language_scores(task, per_lang)
    results = {
        "target": task.name, "metric": "f1" if task.kind in ("qa", "tagging") else task.metric,
        "setup": comp.name(meta["method"]) if meta["kind"] != "module" else "module",
        "inter": inter, "method": meta["method"], "model": model_name, "quant": quant, "seed": cfg.seed,
        "per_language": per_language, "average": average, **extra, "english_dev": None,
        "eval_split": split, "n_examples": {lang: r.n_examples for lang, r in per_lang.items()},
        "evaluated": str(folder), "command": command, "schema_version": 1, **provenance(),
        "leakage": leakage,
    }
    out = Path(cfg.output) / task.name / f"eval-{folder.resolve().parent.name}-{folder.name}-{time.strftime('%Y%m%d-%H%M%S')}"
    with atomic_dir(out) as tmp:
        write_predictions(tmp, task, split, per_lang, examples)
        write_results(tmp, results)
        write_meta(tmp, {"kind": "eval"})
    print_table(results)
    return results

