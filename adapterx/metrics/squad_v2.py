"""SQuAD 2.0 exact match / F1 as the official v2.0 evaluation script defines them (no-answer aware)."""

from __future__ import annotations

import collections
from collections.abc import Mapping, Sequence

from adapterx.metrics.squad import normalize_answer


def _tokens(text: str) -> list[str]:
    return normalize_answer(text).split() if text else []


def exact(gold: str, pred: str) -> int:
    """1 when the normalised strings are equal (an empty gold matches only an empty prediction)."""
    return int(normalize_answer(gold) == normalize_answer(pred))


def f1(gold: str, pred: str) -> float:
    """Token F1; when either side is empty (no answer) it is 1 only if both are."""
    gold_toks, pred_toks = _tokens(gold), _tokens(pred)
    if not gold_toks or not pred_toks:
        return float(gold_toks == pred_toks)
    common = collections.Counter(gold_toks) & collections.Counter(pred_toks)
    same = sum(common.values())
    if same == 0:
        return 0.0
    precision, recall = same / len(pred_toks), same / len(gold_toks)
    return 2 * precision * recall / (precision + recall)


def squad_v2(predictions: Mapping[str, str], references: Mapping[str, Sequence[str]]) -> dict[str, float]:
    """{"exact_match", "f1", "has_answer_f1", "no_answer_f1"} in 0-100 over the reference ids; a
    missing prediction counts as the empty answer, gold answers that normalise to "" are dropped
    and an unanswerable question's gold is [""] (the official script's rules)."""
    if not references:
        raise ValueError("no references to score")
    totals = {"em": 0.0, "f1": 0.0}
    split = {True: [], False: []}
    for qid, answers in references.items():
        golds = [a for a in answers if normalize_answer(a)] or [""]
        pred = predictions.get(qid, "")
        em_score = max(exact(g, pred) for g in golds)
        f1_score = max(f1(g, pred) for g in golds)
        totals["em"] += em_score
        totals["f1"] += f1_score
        split[golds != [""]].append(f1_score)
    n = len(references)
    out = {"exact_match": 100.0 * totals["em"] / n, "f1": 100.0 * totals["f1"] / n}
    for has, name in ((True, "has_answer_f1"), (False, "no_answer_f1")):
        if split[has]:
            out[name] = 100.0 * sum(split[has]) / len(split[has])
    return out
