"""Tests for adapterx.metrics: SQuAD v1.1 quirks, accuracy and the registry."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from adapterx.errors import UnknownChoiceError
from adapterx.metrics import METRICS, compute_metric, primary_score
from adapterx.metrics.accuracy import accuracy
from adapterx.metrics.squad import (
    exact_match_score,
    f1_score,
    metric_max_over_ground_truths,
    normalize_answer,
    squad_v1,
)


@pytest.mark.parametrize(
    ("raw", "normalized"),
    [
        ("The Cat", "cat"),
        ("THE CAT", "cat"),                     # lower-cased before articles go
        ("an apple a day", "apple day"),
        ("another theory", "another theory"),   # articles only as whole words
        ("theatre, anarchy", "theatre anarchy"),
        ("the-end", "theend"),                  # punctuation first glues "the" to "end"
        ("(a) b", "b"),                         # ...and frees "a" from its brackets
        ("a.b", "ab"),
        ("  lots   of\tspace\n", "lots of space"),
        ("Paris\u00a0France", "paris france"),  # str.split() treats NBSP as whitespace
        ("«Paris»", "«paris»"),                 # unicode punctuation is NOT removed
        ("¿Qué?", "¿qué"),
        ("thé", "thé"),                         # \b is unicode-aware: no boundary in "thé"
        ("it's 3.5%", "its 35"),
        ("", ""),
    ],
)
def test_normalize_answer(raw: str, normalized: str) -> None:
    assert normalize_answer(raw) == normalized


def test_exact_match() -> None:
    assert exact_match_score("The Eiffel Tower!", "eiffel  tower") is True
    assert exact_match_score("«Paris»", "Paris") is False
    assert exact_match_score("Paris", "Paris, France") is False
    # Both normalize to "": the official script calls this a match.
    assert exact_match_score("the", "a") is True


def test_f1_partial_overlap_by_hand() -> None:
    # [big, red, cat] vs [red, cat, sat]: 2 common, P = R = 2/3.
    assert f1_score("the big red cat", "a red cat sat") == pytest.approx(2 / 3)
    # [paris] vs [city, of, paris]: P = 1, R = 1/3 -> 2 * (1/3) / (4/3) = 0.5
    assert f1_score("Paris", "the city of Paris") == pytest.approx(0.5)


def test_f1_counts_tokens_as_multiset() -> None:
    # "cat" is shared once, not three times: P = 1/3, R = 1 -> F1 = 0.5.
    assert f1_score("cat cat cat", "cat") == pytest.approx(0.5)
    assert f1_score("cat cat", "cat cat") == pytest.approx(1.0)


def test_f1_zero_cases() -> None:
    assert f1_score("dog", "cat") == 0
    assert f1_score("", "cat") == 0
    # EM says match but F1 is 0 when both sides normalize to nothing (official quirk).
    assert f1_score("the", "a") == 0
    assert f1_score("«Paris»", "Paris") == 0


def test_metric_max_over_ground_truths() -> None:
    truths = ["Paris", "the city of Paris"]
    # vs "Paris": P = 1/2, R = 1 -> 2/3; vs [city, of, paris]: P = 1, R = 2/3 -> 0.8
    assert metric_max_over_ground_truths(f1_score, "Paris city", truths) == pytest.approx(0.8)
    assert metric_max_over_ground_truths(exact_match_score, "paris.", truths) is True
    with pytest.raises(ValueError):
        metric_max_over_ground_truths(f1_score, "x", [])


def test_squad_v1_scores_and_missing_prediction() -> None:
    references = {
        "q1": ["Eiffel Tower", "the Eiffel Tower"],
        "q2": ["red cat sat"],
        "q3": ["Paris"],
        "q4": ["1889"],
    }
    predictions = {
        "q1": "The Eiffel Tower.",      # EM 1, F1 1
        "q2": "big red cat",            # EM 0, F1: P = R = 2/3 -> 2/3
        "q3": "«Paris»",                # EM 0, F1 0 (« » stay)
        # q4 missing -> 0 / 0
        "extra": "ignored",
    }
    with pytest.warns(UserWarning, match="1 of 4"):
        scores = squad_v1(predictions, references)
    assert scores["exact_match"] == pytest.approx(100.0 * 1 / 4)
    assert scores["f1"] == pytest.approx(100.0 * (1 + 2 / 3) / 4)
    assert set(scores) == {"exact_match", "f1"}


def test_squad_v1_not_rounded_and_no_warning_when_complete() -> None:
    references = {"a": ["x"], "b": ["y"], "c": ["z"]}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        scores = squad_v1({"a": "x", "b": "n", "c": "n"}, references)
    assert scores["exact_match"] == 100.0 / 3  # no rounding
    assert scores["f1"] == 100.0 / 3


def test_squad_v1_accepts_schema_answers_and_rejects_empty() -> None:
    references = {"q": {"text": ["Paris", "paris france"], "answer_start": [0, 0]}}
    assert squad_v1({"q": "Paris"}, references) == {"exact_match": 100.0, "f1": 100.0}
    with pytest.raises(ValueError):
        squad_v1({}, {})
    with pytest.raises(ValueError):
        squad_v1({"q": "x"}, {"q": []})


def test_accuracy() -> None:
    assert accuracy([1, 0, 1], [1, 1, 1]) == {"accuracy": pytest.approx(200 / 3)}
    assert accuracy(np.array([2, 2]), np.array([2, 2])) == {"accuracy": 100.0}
    assert accuracy(["entailment"], ["neutral"]) == {"accuracy": 0.0}
    with pytest.raises(ValueError):
        accuracy([1, 2], [1])
    with pytest.raises(ValueError):
        accuracy([], [])


def test_registry_and_primary_score() -> None:
    assert {"accuracy", "squad", "squad_v2", "mlqa", "seqeval", "tatoeba", "bucc"} <= set(METRICS)
    assert compute_metric("accuracy", [1], [1]) == {"accuracy": 100.0}
    squad = compute_metric("squad", {"q": "x b"}, {"q": ["b"]})
    assert squad == {"exact_match": 0.0, "f1": pytest.approx(100 * 2 / 3)}
    assert primary_score("squad", squad) == pytest.approx(100 * 2 / 3)
    assert primary_score("accuracy", {"accuracy": 50.0}) == 50.0
    with pytest.raises(UnknownChoiceError, match="unknown metric 'bleu'"):
        compute_metric("bleu", [], [])
    with pytest.raises(UnknownChoiceError):
        primary_score("bleu", {})
