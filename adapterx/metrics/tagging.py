"""Span F1 for word tagging (UD-POS, PAN-X / WikiANN NER), scored exactly as XTREME does.

XTREME's ``evaluate.py`` scores both tasks with ``seqeval.metrics`` ``f1_score``,
``precision_score`` and ``recall_score`` at their defaults (micro average, conlleval-style
chunking, no strict scheme) and multiplies by 100. For NER that is ordinary entity F1. For
UD-POS it is a known quirk: a tag such as ``NOUN`` is read as chunk tag ``N`` + type ``OUN``,
so a run of identical POS tags becomes ONE chunk and only whole runs count as correct.
Published XTREME POS numbers include this effect, so we keep it rather than use token accuracy.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

from seqeval.metrics import f1_score, precision_score, recall_score


def _check_shapes(predictions: Sequence[Sequence[str]], references: Sequence[Sequence[str]]) -> None:
    if len(predictions) != len(references):
        raise ValueError(
            f"tagging_f1: {len(predictions)} predicted sentences but {len(references)} reference sentences"
        )
    if not references:
        # seqeval would report 0 with a warning; an empty split is a data problem, not a score.
        raise ValueError("tagging_f1: no sentences to score (empty input)")
    for index, (pred, ref) in enumerate(zip(predictions, references)):
        if isinstance(pred, str) or isinstance(ref, str):
            # A bare string would be split into characters and silently scored as tags.
            raise ValueError(f"tagging_f1: sentence {index} must be a list of tags, not a string")
        if len(pred) != len(ref):
            raise ValueError(
                f"tagging_f1: sentence {index} has {len(pred)} predicted tags but "
                f"{len(ref)} reference tags; every word needs exactly one predicted tag"
            )


def tagging_f1(predictions: Sequence[Sequence[str]], references: Sequence[Sequence[str]]) -> dict[str, float]:
    """Return ``{"f1", "precision", "recall"}`` (0-100) via seqeval's defaults, as XTREME's evaluate.py.

    References that are ALL empty mean an unlabelled split (``tags: []``, e.g. XTREME test data):
    the scores are then 0 with a warning, so that predictions can still be written.
    """
    if references and len(predictions) == len(references) and not any(len(ref) for ref in references):
        warnings.warn("tagging_f1: the references have no tags (unlabelled split?); scores are 0",
                      stacklevel=2)
        return {"f1": 0.0, "precision": 0.0, "recall": 0.0}
    _check_shapes(predictions, references)
    y_pred = [list(sentence) for sentence in predictions]
    y_true = [list(sentence) for sentence in references]
    with warnings.catch_warnings():
        # seqeval warns "<TAG> seems not to be NE tag." for every POS tag; the score is unaffected
        # (XTREME sees the same warnings), so keep logs readable.
        warnings.filterwarnings("ignore", message=r".* seems not to be NE tag\.", category=UserWarning)
        f1 = f1_score(y_true, y_pred)
        precision = precision_score(y_true, y_pred)
        recall = recall_score(y_true, y_pred)
    # float(): seqeval may hand back numpy scalars, which JSON writers reject.
    return {"f1": 100.0 * float(f1), "precision": 100.0 * float(precision), "recall": 100.0 * float(recall)}
