"""Token-level tag accuracy (CCG supertagging is scored per token, not by spans)."""

from __future__ import annotations

from collections.abc import Sequence


def tag_accuracy(predictions: Sequence[Sequence[str]], references: Sequence[Sequence[str]]) -> dict[str, float]:
    """{"accuracy": 0-100} over every reference token; sentences must have equal lengths."""
    if len(predictions) != len(references):
        raise ValueError(f"{len(predictions)} predicted sentences for {len(references)} references")
    total = correct = 0
    for i, (pred, gold) in enumerate(zip(predictions, references)):
        if len(pred) != len(gold):
            raise ValueError(f"sentence {i}: {len(pred)} predicted tags for {len(gold)} words")
        total += len(gold)
        correct += sum(p == g for p, g in zip(pred, gold))
    if total == 0:
        raise ValueError("no tokens to score")
    return {"accuracy": 100.0 * correct / total}
