"""Metric registry: compute a named metric and pick the score used for model selection."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from adapterx.errors import UnknownChoiceError
from adapterx.metrics.accuracy import accuracy
from adapterx.metrics.mlqa import mlqa
from adapterx.metrics.retrieval import bucc_f1, tatoeba_accuracy
from adapterx.metrics.squad import squad_v1
from adapterx.metrics.squad_v2 import squad_v2
from adapterx.metrics.tagging import tagging_f1
from adapterx.metrics.tagging_accuracy import tag_accuracy

__all__ = [
    "METRICS", "PRIMARY_KEYS", "accuracy", "bucc_f1", "compute_metric", "mlqa", "primary_score",
    "squad_v1", "squad_v2", "tag_accuracy", "tagging_f1", "tatoeba_accuracy",
]

# Each takes (predictions, references, **options):
#   accuracy  labels vs labels                 squad    {qid: answer} vs {qid: [answers]}
#   mlqa      as squad, plus lang="es" etc.    seqeval  [[tag, ...], ...] per sentence
#   tatoeba   source vs target embeddings      bucc     mined (src, tgt, score) vs gold pairs,
#             (rows paired by index)                    plus threshold= (or unscored pairs)
#   squad_v2  as squad, unanswerable gold = []      tag_accuracy  per-token tag accuracy (CCG)
METRICS: dict[str, Callable[..., dict[str, float]]] = {
    "accuracy": accuracy,
    "squad": squad_v1,
    "mlqa": mlqa,
    "seqeval": tagging_f1,
    "tatoeba": tatoeba_accuracy,
    "bucc": bucc_f1,
    "squad_v2": squad_v2,
    "tag_accuracy": tag_accuracy,
}

# The single number used for early stopping / reporting; F1 is the usual headline for QA.
PRIMARY_KEYS: dict[str, str] = {
    "accuracy": "accuracy",
    "squad": "f1",
    "mlqa": "f1",
    "seqeval": "f1",
    "tatoeba": "accuracy",
    "bucc": "f1",
    "squad_v2": "f1",
    "tag_accuracy": "accuracy",
}


def compute_metric(name: str, predictions: Any, references: Any, **kwargs: Any) -> dict[str, float]:
    """Compute metric ``name`` on predictions vs references; ``kwargs`` go to it (mlqa: ``lang``)."""
    if name not in METRICS:
        raise UnknownChoiceError("metric", name, METRICS)
    return METRICS[name](predictions, references, **kwargs)


def primary_score(name: str, scores: dict[str, float]) -> float:
    """The headline number of metric ``name`` from its score dict (squad -> f1)."""
    if name not in PRIMARY_KEYS:
        raise UnknownChoiceError("metric", name, PRIMARY_KEYS)
    return float(scores[PRIMARY_KEYS[name]])
