"""SQuAD v1.1 exact match and F1, behaving exactly like the official evaluation script.

Scores from papers and leaderboards (XQuAD, MLQA, TyDiQA-GoldP) are computed with
these definitions, so any deviation (e.g. also stripping unicode punctuation) would
make our numbers incomparable; keep the quirks.
"""

from __future__ import annotations

import re
import string
import warnings
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from typing import Any

# Only ASCII punctuation: the v1.1 script leaves e.g. «, », ¿, 。 in place.
_PUNCTUATION = frozenset(string.punctuation)
_ARTICLES = re.compile(r"\b(a|an|the)\b")


def _lower(text: str) -> str:
    return text.lower()


def _remove_punc(text: str) -> str:
    return "".join(ch for ch in text if ch not in _PUNCTUATION)


def _remove_articles(text: str) -> str:
    # Replaced by a space (not deleted) exactly as the official script does.
    return _ARTICLES.sub(" ", text)


def _white_space_fix(text: str) -> str:
    return " ".join(text.split())


def normalize_answer(s: str) -> str:
    """Lower-case, drop ASCII punctuation, drop English articles, collapse whitespace."""
    # The order matters: punctuation goes before articles, so "the-end" -> "theend"
    # keeps its "the", while "(a)" -> "a" -> "" loses it.
    return _white_space_fix(_remove_articles(_remove_punc(_lower(s))))


def exact_match_score(prediction: str, ground_truth: str) -> bool:
    """Whether prediction and ground truth are equal after ``normalize_answer``."""
    return normalize_answer(prediction) == normalize_answer(ground_truth)


def f1_score(prediction: str, ground_truth: str) -> float:
    """Token-level F1 between normalized prediction and ground truth (0 when no overlap)."""
    prediction_tokens = normalize_answer(prediction).split()
    ground_truth_tokens = normalize_answer(ground_truth).split()
    # Multiset intersection: a token counts as often as it occurs in both.
    common = Counter(prediction_tokens) & Counter(ground_truth_tokens)
    num_same = sum(common.values())
    if num_same == 0:
        # Also covers empty strings, which would otherwise divide by zero.
        return 0.0
    precision = num_same / len(prediction_tokens)
    recall = num_same / len(ground_truth_tokens)
    return (2 * precision * recall) / (precision + recall)


def metric_max_over_ground_truths(
    metric_fn: Callable[[str, str], Any], prediction: str, ground_truths: Iterable[str]
) -> Any:
    """Best score of ``metric_fn(prediction, gt)`` over all acceptable ground truths."""
    scores = [metric_fn(prediction, ground_truth) for ground_truth in ground_truths]
    if not scores:
        # max([]) would raise an unhelpful "empty sequence" error deep in the loop.
        raise ValueError("metric_max_over_ground_truths: no ground truths given")
    return max(scores)


def answer_texts(value: Any) -> list[str]:
    # References may be plain lists or the schema's {"text": [...], "answer_start": [...]}.
    if isinstance(value, Mapping):
        value = value["text"]
    if isinstance(value, str):
        # A bare string would otherwise be iterated character by character.
        return [value]
    return list(value)


def squad_v1(predictions: Mapping[str, str], references: Mapping[str, Any]) -> dict[str, float]:
    """Return ``{"exact_match", "f1"}`` (0-100) over the reference ids, like the v1.1 script."""
    if not references:
        raise ValueError("squad_v1: no references to score (empty input)")
    total_em = 0.0
    total_f1 = 0.0
    missing = 0
    for qid, answers in references.items():
        ground_truths = answer_texts(answers)
        if not ground_truths:
            raise ValueError(
                f"squad_v1: reference {qid!r} has no answer texts; SQuAD v1.1 scoring "
                "needs at least one ground truth per question"
            )
        if qid not in predictions:
            # The official script counts an unanswered question as 0 (and only prints).
            missing += 1
            continue
        prediction = predictions[qid]
        total_em += metric_max_over_ground_truths(exact_match_score, prediction, ground_truths)
        total_f1 += metric_max_over_ground_truths(f1_score, prediction, ground_truths)
    if missing:
        warnings.warn(
            f"squad_v1: {missing} of {len(references)} questions have no prediction "
            "and score 0",
            stacklevel=2,
        )
    total = len(references)
    # Ids only in predictions are ignored, as in the official script.
    return {"exact_match": 100.0 * total_em / total, "f1": 100.0 * total_f1 / total}
