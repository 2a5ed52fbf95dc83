"""results.json, XTREME-layout predictions/, and the per-language table in the terminal."""

from __future__ import annotations

import json
from pathlib import Path

from rich.table import Table

from adapterx.evaluation import EvalResult
from adapterx.report.console import console
from adapterx.report.scores import write_scores
from adapterx.store import write_json_atomic
from adapterx.tasks import Task

RESULTS_FILE = "results.json"  # one per run folder, written by write_results only


def per_language_scores(task: Task, results: dict[str, EvalResult]) -> tuple[dict, float, dict]:
    """`per_language`, `average` (mean of F1 for QA) and extra entries (QA averages, tagging's
    truncated words per language), as results.json has them."""
    extra: dict[str, float] = {}
    if task.kind == "qa":
        per = {lang: {"f1": r.scores["f1"], "exact_match": r.scores["exact_match"]} for lang, r in results.items()}
        avg = sum(v["f1"] for v in per.values()) / len(per)
        extra["average_em"] = sum(v["exact_match"] for v in per.values()) / len(per)
        extra["average_em_f1"] = (avg + extra["average_em"]) / 2  # XTREME's QA score
    else:
        per = {lang: r.primary for lang, r in results.items()}
        avg = sum(per.values()) / len(per)
    if task.kind == "tagging":  # words past max_seq_length, scored with the neutral tag
        extra["truncated_words"] = {lang: r.truncated_words for lang, r in results.items()}
    return per, avg, extra


def write_predictions(run_dir: Path, task: Task, split: str, results: dict[str, EvalResult],
                      examples: dict[str, list[dict]], score_lang: str | None = None) -> Path:
    """predictions/<xtreme task>/<split>-<lang>.<ext> in the formats XTREME's evaluate.py reads,
    and scores/<split>-<lang>.json, the per-example scores the report resamples (report.scores;
    `score_lang`: the answer language MLQA normalises by, when it is not the evaluated one)."""
    folder = run_dir / "predictions" / (task.xtreme_name or task.name)
    folder.mkdir(parents=True, exist_ok=True)
    for lang, result in results.items():
        stem = folder / f"{split}-{lang}"
        if task.kind == "qa":
            stem.with_suffix(".json").write_text(json.dumps(result.predictions, ensure_ascii=False), encoding="utf-8")
        elif task.kind == "tagging":  # one tag per line, a blank line after each sentence
            blocks = ["\n".join(tags) + "\n" for tags in result.predictions]
            stem.with_suffix(".tsv").write_text("\n".join(blocks), encoding="utf-8")
        elif task.kind == "multiple_choice":
            lines = [json.dumps({"idx": _idx(ex["id"]), "label": int(p)})
                     for ex, p in zip(examples[lang], result.predictions)]
            stem.with_suffix(".jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
        else:
            stem.with_suffix(".tsv").write_text("\n".join(result.predictions) + "\n", encoding="utf-8")
    # here, so every writer of predictions (target, eval, translate-test) also leaves the scores
    write_scores(run_dir, task, split, results, examples, score_lang)
    return folder


def _idx(example_id: str) -> int | str:
    return int(example_id) if str(example_id).lstrip("-").isdigit() else example_id


def write_results(run_dir: Path, results: dict) -> Path:
    """The one writer of results.json (atomically)."""
    path = Path(run_dir) / RESULTS_FILE
    write_json_atomic(path, results)
    return path


def print_table(results: dict, title: str | None = None) -> None:
    """Per-language table: one row per language, the average last."""
    qa = any(isinstance(v, dict) for v in results["per_language"].values())
    inter = "+".join(results.get("inter") or []) or "none"
    table = Table(title=title or f"{results['target']} zero-shot ({results['setup']}, inter: {inter}, "
                  f"{results['method']}, {results['eval_split']})")
    table.add_column("language")
    if qa:
        table.add_column("F1", justify="right")
        table.add_column("EM", justify="right")
    else:
        table.add_column(results.get("metric", "score"), justify="right")
    table.add_column("n", justify="right")
    for lang, score in results["per_language"].items():
        n = str(results.get("n_examples", {}).get(lang, ""))
        if qa:
            table.add_row(lang, f"{score['f1']:.1f}", f"{score['exact_match']:.1f}", n)
        else:
            table.add_row(lang, f"{score:.1f}", n)
    table.add_section()
    if qa:
        table.add_row("average", f"{results['average']:.1f}", f"{results.get('average_em', 0):.1f}", "")
    else:
        table.add_row("average", f"{results['average']:.1f}", "")
    console.print(table)
    if results.get("english_dev") is not None:
        console.print(f"English dev (model selection): {results['english_dev']:.1f}")
