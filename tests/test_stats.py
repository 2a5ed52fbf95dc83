"""Report statistics: seed mean/std, bootstrap CIs, the paired test, and per-example scores that
reproduce each metric's corpus score exactly (so a resample's score is the metric's own)."""

from __future__ import annotations

import random
import warnings

import numpy as np
import pytest

from adapterx.evaluation import EvalResult
from adapterx.metrics import compute_metric, primary_score
from adapterx.report import stats
from adapterx.report.resources import CC100_GIB, resource_level
from adapterx.report.scores import corpus_score, example_values, read_scores, write_scores
from adapterx.tasks import all_tasks, get_task


def _result(task, preds, refs, **kw) -> EvalResult:
    scores = compute_metric(task.metric, preds, refs, **kw)
    return EvalResult(scores, preds, len(refs), primary_score(task.metric, scores))


def test_seed_stats():
    assert stats.seed_stats([60.0]) == (60.0, None)
    mean, std = stats.seed_stats([60.0, 62.0, 64.0])
    assert mean == pytest.approx(62.0) and std == pytest.approx(2.0)  # sample std (ddof 1)


def _boot(seeds, salt="xcopa|test|et", seed=0, resamples=1000, aggregate="mean"):
    return stats.bootstrap(aggregate, "correct", seeds, resamples, seed, salt)


def test_resamples_are_seeded_and_shared():
    rng = np.random.default_rng(5)
    a, b = {"correct": (rng.random(50) < 0.5) * 1.0}, {"correct": (rng.random(50) < 0.7) * 1.0}
    boot = _boot([a], resamples=200)
    assert boot.distribution.shape == (200,)
    assert np.array_equal(boot.distribution, _boot([a], resamples=200).distribution)
    assert not np.array_equal(boot.distribution, _boot([a], seed=1, resamples=200).distribution)
    assert not np.array_equal(boot.distribution, _boot([a], salt="xcopa|test|ht", resamples=200).distribution)
    # paired: two configurations get the same resamples, so the gain on each resample is the
    # mean of the per-example differences on that resample
    diff = {"correct": a["correct"] - b["correct"]}
    assert np.allclose(_boot([a]).distribution - _boot([b]).distribution, _boot([diff]).distribution)


def test_ci_contains_point_and_paired_p_values():
    rng = np.random.default_rng(0)
    base = {"correct": (rng.random(500) < 0.55).astype(float)}
    better = {"correct": np.maximum(base["correct"], rng.random(500) < 0.3).astype(float)}  # flips some 0 -> 1
    same = {"correct": base["correct"].copy()}
    noisy = {"correct": base["correct"].copy()}
    ones, zeros = np.flatnonzero(base["correct"] == 1), np.flatnonzero(base["correct"] == 0)
    noisy["correct"][ones[:30]], noisy["correct"][zeros[:30]] = 0, 1  # 30 wins, 30 losses: no real gain
    boot = {k: _boot([v], salt="t") for k, v in {"base": base, "better": better, "same": same, "noisy": noisy}.items()}
    point = stats.point_score("mean", "correct", [base])
    low, high = boot["base"].ci
    assert low < point < high and point == pytest.approx(100 * base["correct"].mean())
    # scipy's percentile interval is the percentiles of its distribution
    assert (low, high) == pytest.approx(stats.percentile_ci(boot["base"].distribution))
    dist = {k: b.distribution for k, b in boot.items()}
    assert stats.paired_p_value(dist["better"], dist["base"]) < 0.01
    assert stats.paired_p_value(dist["same"], dist["base"]) == 1.0  # no gain at all: gain <= 0 everywhere
    assert 0.3 < stats.paired_p_value(dist["noisy"], dist["base"]) < 0.7
    assert stats.format_p(0.0, 1000) == "< 0.001" and stats.format_p(None, 1000) == "n/a"


def test_one_example_has_a_point_interval():
    boot = _boot([{"correct": np.array([1.0])}], resamples=10)
    assert boot.ci == (100.0, 100.0) and boot.distribution.tolist() == [100.0] * 10


def test_seeds_average_per_resample():
    idx = np.random.default_rng(0).integers(0, 4, size=(3, 4))
    one, two = {"correct": np.array([1.0, 0, 0, 0])}, {"correct": np.array([1.0, 1, 1, 0])}
    boot = stats.boot_scores("mean", "correct", [one, two], idx)
    expected = (100 * one["correct"][idx].mean(1) + 100 * two["correct"][idx].mean(1)) / 2
    assert np.allclose(boot, expected)
    assert stats.point_score("mean", "correct", [one, two]) == pytest.approx(50.0)
    # the bootstrap resamples the seeds' examples together: the mean of each seed's own score
    both = _boot([one, two], resamples=50).distribution
    assert np.allclose(both, (_boot([one], resamples=50).distribution + _boot([two], resamples=50).distribution) / 2)


def test_alignment_by_ids():
    a = {"ids": ["b", "a", "c"], "values": {"correct": np.array([1.0, 0.0, 1.0])}}
    b = {"ids": ["a", "b"], "values": {"correct": np.array([1.0, 0.0])}}
    ids = stats.common_ids([a, b])
    assert ids == ["a", "b"]
    va, vb = stats.aligned([a, b], ids)
    assert va["correct"].tolist() == [0.0, 1.0] and vb["correct"].tolist() == [1.0, 0.0]


def _bio(rnd: random.Random, n: int) -> list[str]:
    tags, out = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC", "B-ORG"], []
    return [rnd.choice(tags) for _ in range(n)] if n else out


def test_tagging_counts_give_seqeval_f1_on_any_resample():
    task, rnd = get_task("panx"), random.Random(0)
    gold = [_bio(rnd, rnd.randint(1, 9)) for _ in range(60)]
    pred = [[rnd.choice(["O", "B-PER", "I-PER", "B-LOC"]) if rnd.random() < 0.4 else t for t in s] for s in gold]
    result = _result(task, pred, gold)
    aggregate, primary, values = example_values(task, result, [{"id": "", "tokens": g, "tags": g} for g in gold], "en")
    assert aggregate == "f1_counts"
    assert corpus_score(aggregate, primary, values) == pytest.approx(result.primary, abs=1e-9)
    idx = np.random.default_rng(0).integers(0, len(gold), size=(5, len(gold)))
    arrays = {k: np.asarray(v, dtype=float) for k, v in values.items()}
    boot = stats.boot_scores(aggregate, primary, [arrays], idx)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for row, value in zip(idx, boot):  # the resampled corpus, scored by seqeval itself
            expected = compute_metric("seqeval", [pred[i] for i in row], [gold[i] for i in row])["f1"]
            assert value == pytest.approx(expected, abs=1e-9)
    # scipy's paired bootstrap draws its example indices from the seeded generator alone (what
    # makes two configurations' resamples the same), and scores them with the same aggregation
    drawn = stats.resample_rng(len(gold), 0, "t").integers(0, len(gold), size=(20, len(gold)))
    scipy_boot = stats.bootstrap(aggregate, primary, [arrays], 20, 0, "t").distribution
    assert np.allclose(scipy_boot, stats.boot_scores(aggregate, primary, [arrays], drawn))


@pytest.mark.parametrize("name,lang", [("xquad", "de"), ("mlqa", "es"), ("tydiqa", "sw")])
def test_qa_per_question_scores_average_to_the_metric(name, lang):
    task = get_task(name)
    examples = [{"id": f"q{i}", "answers": {"text": [t], "answer_start": [0]}}
                for i, t in enumerate(["the cat", "los perros", "42", "Berlin, Germany", "una casa", "x"])]
    preds = {"q0": "a cat", "q1": "perros", "q2": "42", "q3": "Berlin", "q4": "casa grande"}  # q5 unanswered
    kw = {"lang": lang} if task.metric == "mlqa" else {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = _result(task, preds, {ex["id"]: ex["answers"]["text"] for ex in examples}, **kw)
    aggregate, primary, values = example_values(task, result, examples, lang)
    assert values["f1"][5] == 0.0 and values["exact_match"][2] == 1.0
    assert corpus_score(aggregate, "f1", values) == pytest.approx(result.scores["f1"])
    assert corpus_score(aggregate, "exact_match", values) == pytest.approx(result.scores["exact_match"])


def test_write_and_read_scores(tmp_path):
    task = get_task("xnli")
    examples = {"de": [{"id": f"d{i}", "label": lab} for i, lab in enumerate(["entailment", "neutral", "neutral"])],
                "sw": [{"id": "", "label": "contradiction"}, {"id": "", "label": "neutral"}]}  # no ids: positions
    results = {"de": _result(task, ["entailment", "neutral", "contradiction"], [e["label"] for e in examples["de"]]),
               "sw": _result(task, ["contradiction", "neutral"], [e["label"] for e in examples["sw"]])}
    paths = write_scores(tmp_path, task, "test", results, examples)
    assert [p.name for p in paths] == ["test-de.json", "test-sw.json"]
    loaded = read_scores(tmp_path)
    assert loaded[("test", "de")]["values"]["correct"].tolist() == [1, 1, 0]
    assert loaded[("test", "de")]["score"] == pytest.approx(results["de"].primary)
    assert loaded[("test", "sw")]["ids"] == ["#0", "#1"]


def test_unlabelled_tagging_split_writes_no_scores(tmp_path):
    task = get_task("udpos")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = _result(task, [["NOUN", "VERB"]], [[]])
    examples = {"en": [{"id": "s", "tokens": ["a", "b"], "tags": []}]}
    assert write_scores(tmp_path, task, "test", {"en": result}, examples) == []


def test_resource_levels_cover_every_target_language():
    langs = {lang for t in all_tasks().values() if t.is_target for lang in t.languages}
    assert langs <= set(CC100_GIB)
    assert resource_level("sw") == "low" and resource_level("qu") == "low" and resource_level("de") == "high"
    assert resource_level("xx") is None
