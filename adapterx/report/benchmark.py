"""XTREME / XTREME-R scores of each setup over the targets it was run on (adapterx.metrics.xtreme_score).

A setup's entry gathers, per target, the seed-averaged per-language scores of the same setup,
intermediate task(s), method, model, quantization and split. Retrieval targets are never trained:
their scores join the entry of the setup they stand for, `stack` (full: `full-stilts`) over the same
intermediate task(s) when scored with modules, and every `direct` / `full-direct` entry when scored
from the base model, as the paper scores BUCC and Tatoeba from each intermediate model.

A score is marked partial when tasks of the benchmark are missing (it is then the mean over the
present ones, not comparable with published totals) or when a task lacks some official languages
(its task score averages the present ones); both are listed.
"""

from __future__ import annotations

from adapterx.composition import setup_name
from adapterx.metrics.xtreme_score import (BENCHMARK_LANGUAGES, QA_TASKS, canonical_task, task_score,
                                           xtreme_score)

Key = tuple[str, tuple[str, ...], str, str, str, str]


def _key(s: dict, setup: str | None = None, inter: tuple[str, ...] | None = None) -> Key:
    return (setup or s["setup"], tuple(s["inter"]) if inter is None else inter, s["method"], s["model"],
            s["quant"], s["eval_split"])


def _entries(summaries: list[dict]) -> dict[Key, dict[str, dict]]:
    entries: dict[Key, dict[str, dict]] = {}
    for s in summaries:
        if s["setup"] != "retrieval":
            entries.setdefault(_key(s), {})[s["target"]] = s
    for s in summaries:
        if s["setup"] != "retrieval":
            continue
        if s["inter"]:
            keys = [_key(s, setup_name(s["method"], "stack"))]
        else:  # the base model's retrieval scores serve every direct baseline on that model
            keys = [k for k in entries if k[0] in ("direct", "full-direct") and k[3:] == _key(s)[3:]]
            keys = keys or [_key(s, "direct")]
        for key in keys:
            entries.setdefault(key, {}).setdefault(s["target"], s)
    return entries


def _task_input(summary: dict) -> dict:
    name = canonical_task(summary["target"])
    if name in QA_TASKS:
        return {lang: {"f1": v["mean"], "exact_match": v.get("exact_match", v["mean"])}
                for lang, v in summary["per_language"].items()}
    return {lang: v["mean"] for lang, v in summary["per_language"].items()}


def _score(targets: dict[str, dict], benchmark: str) -> dict | None:
    langs = BENCHMARK_LANGUAGES[benchmark]
    present = {canonical_task(t): s for t, s in targets.items() if canonical_task(t) in langs}
    if not present:
        return None
    task_scores, missing_langs, unscored = {}, {}, []
    for name, summary in sorted(present.items()):
        try:
            task_scores[name] = task_score(name, _task_input(summary), benchmark, allow_partial=True)
        except ValueError:  # none of the task's official languages was evaluated
            unscored.append(name)
            continue
        absent = [lang for lang in langs[name] if lang not in summary["per_language"]]
        if absent:
            missing_langs[name] = absent
    if not task_scores:
        return None
    total = xtreme_score(task_scores, benchmark, allow_partial=True)
    return {"benchmark": benchmark, "score": total["score"], "tasks": task_scores,
            "by_category": total["by_category"], "missing_tasks": total["missing"],
            "missing_languages": missing_langs, "unscored_tasks": unscored,
            "partial": bool(total["missing"] or missing_langs or unscored)}


def xtreme_scores(summaries: list[dict]) -> list[dict]:
    """One entry per setup and benchmark with at least one of its tasks; with the delta vs the
    baseline's entry when both cover the same tasks and languages."""
    entries = _entries(summaries)
    scored: dict[tuple[Key, str], dict] = {}
    for key, targets in entries.items():
        setup, inter, method, model, quant, split = key
        label = setup if not inter else f"{setup}:{'+'.join(inter)}"
        for benchmark in BENCHMARK_LANGUAGES:
            result = _score(targets, benchmark)
            if result is not None:
                scored[(key, benchmark)] = {"label": label, "setup": setup, "inter": list(inter), "method": method,
                                            "model": model, "quant": quant, "eval_split": split, **result,
                                            "delta": None}
    for (key, benchmark), entry in scored.items():
        if entry["setup"] in ("direct", "full-direct"):
            continue
        base_setup = setup_name(entry["method"], "direct")
        base = scored.get(((base_setup, (), *key[2:]), benchmark))
        same = base and base["tasks"].keys() == entry["tasks"].keys() \
            and base["missing_languages"] == entry["missing_languages"]
        if same:
            entry["delta"] = entry["score"] - base["score"]
    return list(scored.values())
