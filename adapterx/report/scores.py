"""Per-example scores of a run: `scores/<split>-<lang>.json`, written beside predictions/, so the
report can bootstrap confidence intervals and paired tests by resampling examples.

One file per evaluated language::

    {"schema_version": 1, "task": "xcopa", "metric": "accuracy", "lang": "et", "split": "test",
     "aggregate": "mean", "primary": "correct", "ids": ["0", "1", ...],
     "values": {"correct": [1, 0, ...]}, "score": 60.0, "reported": 60.0}

What a value is, by metric (`aggregate` says how a set of examples becomes the corpus score):

* accuracy (classification, XCOPA): `correct` 0/1 per example; `mean` x 100.
* squad / mlqa / squad_v2 (QA): per question `f1` and `exact_match` in 0..1, the best over its gold
  answers with the official normalisation (MLQA: the answer language's); an unanswered question
  scores 0 (v2: the empty answer). `mean` x 100 of `f1` is the reported F1.
* seqeval (UD-POS, PAN-X): per sentence `tp`, `n_pred`, `n_gold` entity counts; `f1_counts` gives
  the corpus micro F1 = 2 tp / (pred + gold), recomputed exactly for any resample of sentences. It
  equals seqeval's corpus F1 whenever no chunk crosses a sentence boundary, which holds for BIO tags
  (PAN-X). seqeval joins the sentences of a corpus with "O", and for UD-POS its chunk quirk lets a
  run of the one-letter tag "X" (chunk type "_", the type "O" also has) continue across that "O", so
  there the sentence counts can differ from the reported F1 in the last digits; `score` (recomputed)
  and `reported` (results.json's) are both kept so the difference is visible.
* tag_accuracy (CCG): per sentence `correct` tokens and `tokens`; `ratio` x 100.

Ids are the examples' own ids in input order (QA: question ids); where they are missing or repeated,
positions ("#0", "#1", ...) stand in, so the report pairs runs by position. Retrieval runs (Tatoeba,
BUCC) have no per-example scores: a sentence pair is scored against a whole mined set.
"""

from __future__ import annotations

import json
import logging
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from adapterx.evaluation import EvalResult
from adapterx.metrics.mlqa import exact_match_score as mlqa_em
from adapterx.metrics.mlqa import f1_score as mlqa_f1
from adapterx.metrics.squad import exact_match_score, f1_score, normalize_answer
# by name: the package re-exports the functions `mlqa` and `squad_v2` over their modules
from adapterx.metrics.squad_v2 import exact as v2_exact
from adapterx.metrics.squad_v2 import f1 as v2_f1
from adapterx.tasks import Task

log = logging.getLogger(__name__)
SCHEMA_VERSION = 1


def _ids(examples: list[dict]) -> list[str]:
    ids = [str(ex.get("id", "")) for ex in examples]
    if any(not i for i in ids) or len(set(ids)) != len(ids):
        return [f"#{i}" for i in range(len(examples))]  # pair by position instead
    return ids


def _qa_values(task: Task, preds: dict, examples: list[dict], lang: str) -> dict[str, list[float]]:
    """Per question F1 and EM (0..1), as the task's official script scores one question."""
    if task.metric == "squad_v2":
        em_fn: Callable[[str, str], float] = lambda p, g: v2_exact(g, p)  # noqa: E731
        f1_fn: Callable[[str, str], float] = lambda p, g: v2_f1(g, p)  # noqa: E731
    elif task.metric == "mlqa":
        em_fn = lambda p, g: float(mlqa_em(p, g, lang))  # noqa: E731
        f1_fn = lambda p, g: mlqa_f1(p, g, lang)  # noqa: E731
    else:
        em_fn = lambda p, g: float(exact_match_score(p, g))  # noqa: E731
        f1_fn = f1_score
    f1s, ems = [], []
    for ex in examples:
        golds = list(ex["answers"]["text"])
        if task.metric == "squad_v2":  # the v2 script's rule for unanswerable questions
            golds = [g for g in golds if normalize_answer(g)] or [""]
        elif ex["id"] not in preds:  # v1 / MLQA: an unanswered question scores 0
            f1s.append(0.0)
            ems.append(0.0)
            continue
        pred = preds.get(ex["id"], "")
        f1s.append(max(f1_fn(pred, g) for g in golds))
        ems.append(max(em_fn(pred, g) for g in golds))
    return {"f1": f1s, "exact_match": ems}


def _entity_counts(pred: list[str], gold: list[str]) -> tuple[int, int, int]:
    from seqeval.metrics.sequence_labeling import get_entities

    with warnings.catch_warnings():  # "NOUN seems not to be NE tag": POS tags, as in tagging_f1
        warnings.simplefilter("ignore", UserWarning)
        # a one-sentence nested list, as seqeval sees each sentence of a corpus
        p, g = set(get_entities([list(pred)])), set(get_entities([list(gold)]))
    return len(p & g), len(p), len(g)


def example_values(task: Task, result: EvalResult, examples: list[dict],
                   lang: str) -> tuple[str, str, dict[str, list]] | None:
    """(aggregate, primary key, per-example values) for one language; None when there is no gold."""
    preds = result.predictions
    if task.kind == "qa":
        return "mean", "f1", _qa_values(task, preds, examples, lang)
    if task.kind == "tagging":
        golds = [list(ex.get("tags") or []) for ex in examples]
        if not any(golds):  # an unlabelled split: predictions only
            return None
        if task.metric == "tag_accuracy":
            return "ratio", "correct", {"correct": [sum(a == b for a, b in zip(p, g)) for p, g in zip(preds, golds)],
                                        "tokens": [len(g) for g in golds]}
        counts = np.array([_entity_counts(p, g) for p, g in zip(preds, golds)], dtype=np.int64).reshape(-1, 3)
        return "f1_counts", "f1", {"tp": counts[:, 0].tolist(), "n_pred": counts[:, 1].tolist(),
                                   "n_gold": counts[:, 2].tolist()}
    if task.kind in ("classification", "multiple_choice"):
        if any(ex.get("label") in (None, "") for ex in examples):
            return None
        cast = int if task.kind == "multiple_choice" else (lambda v: v)  # noqa: E731
        return "mean", "correct", {"correct": [int(p == cast(ex["label"])) for p, ex in zip(preds, examples)]}
    if task.metric == "tatoeba":  # pair i is correct when sentence i's nearest neighbour is its own translation
        return "mean", "correct", {"correct": [int(int(p) == i) for i, p in enumerate(preds)]}
    return None  # BUCC: F1 over the pairs mined from a whole corpus, not a sum over examples


def corpus_score(aggregate: str, primary: str, values: dict[str, Any]) -> float:
    """The corpus score (0-100) of a set of examples' values, as the task's metric computes it."""
    if aggregate == "f1_counts":
        tp, n_pred, n_gold = (float(np.sum(values[k])) for k in ("tp", "n_pred", "n_gold"))
        return 200.0 * tp / (n_pred + n_gold) if n_pred + n_gold else 0.0
    if aggregate == "ratio":
        total = float(np.sum(values["tokens"]))
        return 100.0 * float(np.sum(values["correct"])) / total if total else 0.0
    return 100.0 * float(np.mean(values[primary]))


def write_scores(run_dir: Path, task: Task, split: str, results: dict[str, EvalResult],
                 examples: dict[str, list[dict]], score_lang: str | None = None) -> list[Path]:
    """scores/<split>-<lang>.json for every language with gold labels; `score_lang` overrides the
    answer language MLQA normalises by (translate-test scores English text)."""
    folder = run_dir / "scores"
    written = []
    for lang, result in results.items():
        if lang not in examples or len(examples[lang]) != result.n_examples:
            continue
        found = example_values(task, result, examples[lang], score_lang or lang)
        if found is None:
            continue
        aggregate, primary, values = found
        score = corpus_score(aggregate, primary, values)
        reported = float(result.primary)
        if abs(score - reported) > 1e-6:
            log.warning("%s %s-%s: per-example scores give %.4f, the metric reported %.4f",
                        task.name, split, lang, score, reported)
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{split}-{lang}.json"
        data = {"schema_version": SCHEMA_VERSION, "task": task.name, "metric": task.metric, "lang": lang,
                "split": split, "aggregate": aggregate, "primary": primary, "ids": _ids(examples[lang]),
                "values": values, "score": score, "reported": reported}
        # compact: one value per example and language, and run folders are written atomically anyway
        path.write_text(json.dumps(data, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")
        written.append(path)
    return written


def read_scores(run_dir: Path) -> dict[tuple[str, str], dict]:
    """{(split, lang): scores file} of a run; unreadable files are skipped (the report says n/a)."""
    out: dict[tuple[str, str], dict] = {}
    for path in sorted((Path(run_dir) / "scores").glob("*.json")):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            data["values"] = {k: np.asarray(v, dtype=np.float64) for k, v in data["values"].items()}
            out[(data["split"], data["lang"])] = data
        except (ValueError, KeyError, TypeError) as err:
            log.warning("skipping %s: %s", path, err)
    return out
