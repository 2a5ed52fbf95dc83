"""Classification accuracy, reported on the 0-100 scale used throughout adapterx."""

from __future__ import annotations

from collections.abc import Sequence


def accuracy(predictions: Sequence, references: Sequence) -> dict[str, float]:
    """Return ``{"accuracy": percent}`` of positions where prediction equals reference."""
    n_pred, n_ref = len(predictions), len(references)
    if n_pred != n_ref:
        # A silent zip() would truncate and report a score for the wrong examples.
        raise ValueError(f"accuracy: {n_pred} predictions but {n_ref} references")
    if n_ref == 0:
        # 0/0 has no meaningful value; reporting 0 or 100 would hide an empty split.
        raise ValueError("accuracy: no predictions to score (empty input)")
    # bool() so numpy element comparisons (np.bool_) add up like Python bools.
    correct = sum(bool(p == r) for p, r in zip(predictions, references))
    return {"accuracy": 100.0 * correct / n_ref}
