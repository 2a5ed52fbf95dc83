"""Metric registry: compute a named metric and pick the score used for model selection."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from adapterx.errors import UnknownChoiceError
from adapterx.metrics.accuracy import accuracy
from adapterx.metrics.squad import squad_v1

__all__ = ["METRICS", "PRIMARY_KEYS", "accuracy", "compute_metric", "primary_score", "squad_v1"]

METRICS: dict[str, Callable[..., dict[str, float]]] = {
    "accuracy": accuracy,
    "squad": squad_v1,
}

# The single number used for early stopping / reporting; F1 is the usual headline for QA.
PRIMARY_KEYS: dict[str, str] = {
    "accuracy": "accuracy",
    "squad": "f1",
}


def compute_metric(name: str, predictions: Any, references: Any) -> dict[str, float]:
    """Compute metric ``name`` ("accuracy" or "squad") on predictions vs references."""
    if name not in METRICS:
        raise UnknownChoiceError("metric", name, METRICS)
    return METRICS[name](predictions, references)


def primary_score(name: str, scores: dict[str, float]) -> float:
    """The headline number of metric ``name`` from its score dict (squad -> f1)."""
    if name not in PRIMARY_KEYS:
        raise UnknownChoiceError("metric", name, PRIMARY_KEYS)
    return float(scores[PRIMARY_KEYS[name]])
