"""Recipe: `adapterx compare` — run several setups on one target through their own recipes (cached
modules and finished runs are reused), then one table with deltas against `direct`, written to
`<output>/<target>/compare-<hash>/compare.{json,md}`.

The setups and their runners are adapterx.composition's SETUP_RUNNERS."""

from __future__ import annotations

import dataclasses
import logging
import time
from pathlib import Path

from rich.markup import escape

# the setup registry lives in adapterx.composition; its names stay importable from here
from adapterx.composition import (DEFAULT_SETUPS, DESIGN_SETUPS, REFERENCE, SETUP_RUNNERS,  # noqa: F401
                                  SetupSpec, check_setup, register_setup)
from adapterx.configs import RunConfig
from adapterx.errors import AdapterxError, UnknownChoiceError
from adapterx.report.console import console
from adapterx.store import stable_hash, write_json_atomic
from adapterx.tasks import all_tasks, check_languages, get_task

log = logging.getLogger(__name__)

def _names(value: list[str] | str | None) -> list[str]:
    if value is None:
        return []
    items = value.split(",") if isinstance(value, str) else value
    return [n.strip() for n in items if n and n.strip()]


def resolve_setups(setups: list[str] | str | None, inter: list[str]) -> list[str]:
    """The setups to run: `direct` first (the reference), then the chosen ones once each."""
    names = _names(setups) or list(DEFAULT_SETUPS)
    for name in names:
        check_setup(name)
    ordered = list(dict.fromkeys([REFERENCE, *names]))
    need = [n for n in ordered if SETUP_RUNNERS[n].uses_inter]
    if need and not inter:
        free = [n for n in SETUP_RUNNERS if not SETUP_RUNNERS[n].uses_inter]
        raise AdapterxError(f"setup(s) {', '.join(need)} need intermediate tasks",
                            f"pass --inter TASK[,TASK...], or choose among {', '.join(free)}")
    return ordered


def _score(value: float | dict) -> float:
    """A language's headline number (F1 for QA, whose per_language entries hold F1 and EM)."""
    return float(value["f1"]) if isinstance(value, dict) else float(value)


def _row(name: str, cfg: RunConfig, inter: list[str], results: dict | None, error: str | None) -> dict:
    row = {"setup": name, "status": "ok" if error is None else "failed", "method": cfg.method,
           "inter": inter, "run_setup": None, "per_language": {}, "average": None, "delta": None,
           "trainable_params": None, "train_seconds": None, "peak_memory_mb": None,
           "config_hash": None, "error": error}
    if results is not None:
        row.update(run_setup=results.get("setup"), method=results.get("method", cfg.method),
                   per_language={lang: _score(v) for lang, v in results["per_language"].items()},
                   average=float(results["average"]), config_hash=results.get("config_hash"),
                   **{k: results.get(k) for k in ("trainable_params", "train_seconds", "peak_memory_mb")})
    return row


def _message(error: BaseException) -> str:
    return str(error) if isinstance(error, AdapterxError) else f"{type(error).__name__}: {error}"


def _runs(names: list[str], inter: list[str]) -> list[tuple[str, list[str]]]:
    """(row name, intermediate tasks) of each run: a `per_inter` setup over several intermediate
    tasks runs once per task, as `setup:task`."""
    runs: list[tuple[str, list[str]]] = []
    for name in names:
        spec = SETUP_RUNNERS[name]
        if spec.per_inter and len(inter) > 1:
            runs += [(f"{name}:{task}", [task]) for task in inter]
        else:
            runs.append((name, list(inter) if spec.uses_inter else []))
    return runs


def run_compare(inter: list[str], target: str, setups: list[str] | str | None, cfg: RunConfig,
                command: str = "") -> dict:
    """Run each setup (direct always), print one table, write compare.json + compare.md; returns
    compare.json's dict. A setup that fails is recorded with its error and the others still run."""
    from adapterx.recipes.train_module import trainable_task
    from adapterx.report.compare import compare_markdown, print_compare

    task = get_task(target)
    if not task.is_target:
        targets = sorted(n for n, t in all_tasks().items() if t.is_target)
        raise UnknownChoiceError("target task", target, targets)
    check_languages(task, cfg.langs)
    inter = _names(inter)
    for name in inter:
        trainable_task(name)
    names = resolve_setups(setups, inter)
    rows = []
    for name, run_inter in _runs(names, inter):
        spec = SETUP_RUNNERS[name.partition(":")[0]]
        run_cfg = dataclasses.replace(cfg, method=spec.method) if spec.method else cfg
        console.rule(f"compare {task.name}: {name}")
        try:
            results, error = spec.run(run_inter, task.name, run_cfg, command), None
        except Exception as err:  # noqa: BLE001  (one failing setup must not cost the others' runs)
            # keep only the message: the exception's traceback holds the failed run's model (and
            # its GPU memory) alive while the next setups run
            results, error = None, _message(err)
            if not isinstance(err, AdapterxError):  # an unexpected failure: show its traceback
                log.warning("compare: setup %s failed", name, exc_info=True)
            console.print(f"[red]{name} failed[/]: {escape(error)}")
        rows.append(_row(name, run_cfg, run_inter, results, error))
    reference = next(r for r in rows if r["setup"] == REFERENCE)
    for row in rows:
        if row["average"] is not None and reference["average"] is not None:
            row["delta"] = row["average"] - reference["average"]
    langs = list(dict.fromkeys(lang for row in rows for lang in row["per_language"]))
    key = stable_hash({"target": task.name, "inter": inter, "setups": names, "config": cfg.to_dict()})
    folder = Path(cfg.output) / task.name / f"compare-{key[:12]}"
    comparison = {
        "target": task.name, "metric": "f1" if task.kind in ("qa", "tagging") else task.metric,
        "inter": inter, "reference": REFERENCE, "setups": names, "languages": langs, "rows": rows,
        "eval_split": cfg.eval_split, "model": cfg.model, "seed": cfg.seed, "command": command,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S"), "folder": str(folder), "schema_version": 1,
    }
    folder.mkdir(parents=True, exist_ok=True)
    write_json_atomic(folder / "compare.json", comparison)
    tmp = folder / ".compare.md.tmp"
    tmp.write_text(compare_markdown(comparison), encoding="utf-8")
    tmp.replace(folder / "compare.md")
    print_compare(comparison)
    console.print(f"comparison: {folder / 'compare.json'} and compare.md")
    return comparison
