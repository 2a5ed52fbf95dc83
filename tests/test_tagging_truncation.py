"""Tagging words cut off by max_seq_length: the task's neutral tag, and counted."""

from __future__ import annotations

import numpy as np

from adapterx.evaluation import EvalResult, word_predictions
from adapterx.report.results import per_language_scores
from adapterx.tasks import get_task


def _one_hot(task, tags: list[str]) -> np.ndarray:
    rows = np.zeros((len(tags), len(task.labels)))
    for i, tag in enumerate(tags):
        rows[i, task.labels.index(tag)] = 1.0
    return rows


def test_cut_off_words_get_the_neutral_tag_and_are_counted() -> None:
    examples = [{"tokens": ["a", "b", "c", "d"]}, {"tokens": ["e", "f"]}]
    # sentence 1: <s> a b b' </s> (c, d cut off); sentence 2 whole: <s> e f </s>
    word_ids = [[-1, 0, 1, 1, -1], [-1, 0, 1, -1]]
    for name, neutral, seen in (("udpos", "NOUN", "VERB"), ("panx", "O", "B-PER")):
        task = get_task(name)
        logits = [_one_hot(task, [seen] * 5), _one_hot(task, [seen] * 4)]
        tags, truncated = word_predictions(task, examples, word_ids, logits)
        assert tags == [[seen, seen, neutral, neutral], [seen, seen]]
        assert truncated == 2


def test_results_json_counts_truncated_words_per_language() -> None:
    results = {"de": EvalResult({"f1": 50.0}, [], 3, 50.0, truncated_words=7),
               "fr": EvalResult({"f1": 70.0}, [], 2, 70.0)}
    _, average, extra = per_language_scores(get_task("udpos"), results)
    assert average == 60.0 and extra["truncated_words"] == {"de": 7, "fr": 0}
    assert "truncated_words" not in per_language_scores(get_task("xnli"), {"de": results["de"]})[2]
