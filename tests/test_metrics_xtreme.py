"""Tests for the XTREME metrics: MLQA, seqeval tagging F1, Tatoeba/BUCC retrieval, XTREME score."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from adapterx.errors import UnknownChoiceError
from adapterx.metrics import METRICS, compute_metric, primary_score
from adapterx.metrics import squad
from adapterx.metrics.mlqa import exact_match_score, f1_score, mlqa, normalize_answer
from adapterx.metrics.retrieval import (
    best_threshold,
    bucc,
    bucc_f1,
    margin_scores,
    mine_pairs,
    nearest_neighbours,
    tatoeba_accuracy,
)
from adapterx.metrics.tagging import tagging_f1
from adapterx.metrics.xtreme_score import task_score, xtreme_score

# ---------------------------------------------------------------- MLQA


@pytest.mark.parametrize(
    ("raw", "lang", "normalized"),
    [
        ("Los Ángeles", "es", "ángeles"),           # Spanish articles only for es
        ("Los Ángeles", "en", "los ángeles"),
        ("The Beatles", "es", "the beatles"),
        ("The Beatles", "en", "beatles"),
        ("Die Mauer und das Tor", "de", "mauer und tor"),
        ("Die Mauer", "en", "die mauer"),
        ("cái bàn của tôi", "vi", "bàn tôi"),
        ("The Taj Mahal", "hi", "the taj mahal"),   # Hindi: no article table
        ("الكتاب", "ar", "كتاب"),                   # "ال" removed as prefix...
        ("مال", "ar", "م"),                         # ...and anywhere inside a word (official regex)
        ("الكتاب", "en", "الكتاب"),
        ("«París»", "es", "parís"),                 # Unicode punctuation goes (SQuAD keeps it)
        ("“Hello” ¿qué?", "es", "hello qué"),
        ("北京、上海。", "zh", "北 京 上 海"),         # 、 。 removed; CJK split per character
        ("iPhone手机", "zh", "iphone 手 机"),        # mixed segmentation
        ("iPhone手机", "en", "iphone手机"),
        ("$100 + 5", "en", "100 5"),                 # ASCII symbols are in the set too
        ("€5", "en", "€5"),                          # ...but non-ASCII symbols (Sc) are not
        ("a.b", "en", "ab"),
        ("", "zh", ""),
    ],
)
def test_mlqa_normalize_answer(raw: str, lang: str, normalized: str) -> None:
    assert normalize_answer(raw, lang) == normalized


def test_mlqa_differs_from_squad_on_unicode_punctuation() -> None:
    assert squad.exact_match_score("«Paris»", "Paris") is False
    assert exact_match_score("«Paris»", "Paris", "en") is True


def test_mlqa_f1_by_hand() -> None:
    # zh: [北, 京, 大, 学] vs [北, 京] -> P = 1/2, R = 1 -> 2/3 (whitespace tokens: no overlap).
    assert f1_score("北京大学", "北京", "zh") == pytest.approx(2 / 3)
    assert f1_score("北京大学", "北京", "en") == 0.0
    # es drops "unas": [estructuras, en] vs [estructuras, en, forma, de, abanico] -> P 1, R 2/5.
    assert f1_score("unas estructuras en", "unas estructuras en forma de abanico", "es") == pytest.approx(
        2 * 0.4 / 1.4)
    # en keeps "unas": 3 of 6 -> P 1, R 1/2 -> 2/3.
    assert f1_score("unas estructuras en", "unas estructuras en forma de abanico", "en") == pytest.approx(2 / 3)
    # Both normalise to "": EM is a match but F1 is 0 (official quirk, as in SQuAD).
    assert exact_match_score("the", "a", "en") is True
    assert f1_score("the", "a", "en") == 0.0


def test_mlqa_aggregate_and_missing() -> None:
    references = {
        "q1": ["3050 und 3350 Meter"],                    # EM 0, F1: P 1, R 3/4 -> 6/7
        "q2": {"text": ["Den Haag", "Haag"], "answer_start": [0, 4]},  # schema form; EM 1
        "q3": ["Berlin"],                                 # no prediction -> 0 / 0
    }
    predictions = {"q1": "3050 und 3350", "q2": "haag!", "extra": "ignored"}
    with pytest.warns(UserWarning, match="1 of 3"):
        scores = mlqa(predictions, references, "de")
    assert scores["exact_match"] == pytest.approx(100 / 3)
    assert scores["f1"] == pytest.approx(100 * (6 / 7 + 1) / 3)


def test_mlqa_errors() -> None:
    with pytest.raises(UnknownChoiceError, match="fr"):
        normalize_answer("x", "fr")
    with pytest.raises(UnknownChoiceError):
        mlqa({"q": "x"}, {"q": ["x"]}, "ja")
    with pytest.raises(ValueError):
        mlqa({}, {}, "en")
    with pytest.raises(ValueError):
        mlqa({"q": "x"}, {"q": []}, "en")


# ---------------------------------------------------------------- tagging


def test_tagging_f1_ner_by_hand() -> None:
    refs = [["B-PER", "I-PER", "O", "B-LOC"], ["O", "B-ORG"]]
    preds = [["B-PER", "I-PER", "O", "O"], ["O", "B-LOC"]]
    # gold: PER, LOC, ORG; predicted: PER, LOC(wrong place) -> 1 correct: P 1/2, R 1/3, F1 0.4
    scores = tagging_f1(preds, refs)
    assert scores == {"f1": pytest.approx(40.0), "precision": pytest.approx(50.0), "recall": pytest.approx(100 / 3)}


def test_tagging_f1_pos_quirk_merges_runs() -> None:
    # seqeval reads NOUN as chunk "OUN": the gold run NOUN NOUN is ONE chunk, so getting only its
    # first word right scores nothing although 2 of 3 tokens are right (as in XTREME's POS F1).
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the "seems not to be NE tag" noise is filtered
        assert tagging_f1([["NOUN", "VERB", "VERB"]], [["NOUN", "NOUN", "VERB"]])["f1"] == 0.0
    assert tagging_f1([["DET", "NOUN", "VERB"]], [["DET", "NOUN", "VERB"]])["f1"] == 100.0
    # Runs never cross sentence boundaries: two one-word chunks, one right -> P = R = 1/2.
    assert tagging_f1([["NOUN"], ["VERB"]], [["NOUN"], ["NOUN"]])["f1"] == pytest.approx(50.0)


def test_tagging_f1_errors_name_the_sentence() -> None:
    with pytest.raises(ValueError, match="sentence 1 has 1 predicted tags but 2"):
        tagging_f1([["O"], ["O"]], [["O"], ["O", "O"]])
    with pytest.raises(ValueError, match="2 predicted sentences but 1"):
        tagging_f1([["O"], ["O"]], [["O"]])
    with pytest.raises(ValueError):
        tagging_f1([], [])
    with pytest.raises(ValueError, match="sentence 0"):
        tagging_f1(["O"], ["O"])


def test_tagging_f1_unlabelled_split_scores_zero() -> None:
    # XTREME test data ship without tags (tags == []): predictions are still written, scores 0.
    with pytest.warns(UserWarning, match="unlabelled"):
        assert tagging_f1([["B-PER", "O"], ["O"]], [[], []]) == {"f1": 0.0, "precision": 0.0, "recall": 0.0}


# ---------------------------------------------------------------- Tatoeba


def test_tatoeba_queries_are_the_english_side() -> None:
    targets = np.array([[1.0, 0.0], [0.0, 1.0]])
    sources = np.array([[1.0, 0.1], [1.0, 0.2]]) * np.array([[3.0], [0.5]])  # scale is irrelevant
    # English t0 -> s0, t1 -> s1 (XTREME's direction): all right. The other way both s -> t0.
    assert nearest_neighbours(sources, targets).tolist() == [0, 1]
    assert tatoeba_accuracy(sources, targets) == {"accuracy": 100.0}
    assert tatoeba_accuracy(targets, sources) == {"accuracy": 50.0}


def test_tatoeba_planted_pairs_and_errors() -> None:
    rng = np.random.default_rng(0)
    src = rng.normal(size=(1500, 64)).astype(np.float32)
    tgt = src + 0.3 * rng.normal(size=src.shape).astype(np.float32)
    tgt[:3] = tgt[[1, 2, 0]]  # three English rows shuffled -> 3 errors
    assert tatoeba_accuracy(src, tgt)["accuracy"] == pytest.approx(100 * 1497 / 1500)
    with pytest.raises(ValueError):
        tatoeba_accuracy(src, tgt[:10])
    with pytest.raises(ValueError):
        tatoeba_accuracy(np.zeros((0, 4)), np.zeros((0, 4)))


# ---------------------------------------------------------------- BUCC


def test_margin_scores_by_hand_fixes_a_hub() -> None:
    x = np.array([[1.0, 0.0], [0.6, 0.8]])
    y = np.array([[0.8, 0.6], [0.28, 0.96]])
    # cos: x0.y0 .8, x0.y1 .28, x1.y0 .96, x1.y1 .936 -> y0 is the cosine NN of both sources.
    # k=2 means: x0 .54, x1 .948, y0 .88, y1 .608. Margins: x0->y0 .8/.71, x1->y0 .96/.914,
    # x1->y1 .936/.778 (> .96/.914): the margin sends x1 to y1.
    mined = margin_scores(x, y, k=2, src_ids=["s0", "s1"], tgt_ids=["t0", "t1"])
    assert [(a, b) for a, b, _ in mined] == [("s1", "t1"), ("s0", "t0")]
    assert [s for *_, s in mined] == pytest.approx([0.936 / 0.778, 0.8 / 0.71], rel=1e-5)


def test_mine_pairs_recovers_planted_pairs_among_distractors() -> None:
    rng = np.random.default_rng(1)
    src = rng.normal(size=(40, 32))
    tgt = np.concatenate([src[:25] + 0.2 * rng.normal(size=(25, 32)), rng.normal(size=(30, 32))])
    perm = rng.permutation(len(tgt))
    tgt = tgt[perm]
    tgt_ids = [f"en-{i}" for i in range(len(tgt))]
    position = {int(p): i for i, p in enumerate(perm)}
    gold = [(f"fr-{i}", f"en-{position[i]}") for i in range(25)]
    mined = mine_pairs(src, tgt, [f"fr-{i}" for i in range(40)], tgt_ids)
    scores = [s for *_, s in mined]
    assert scores == sorted(scores, reverse=True)
    assert {(a, b) for a, b, _ in mined[:25]} == set(gold)  # the true pairs outscore the rest
    assert len({a for a, _, _ in mined}) == len(mined)      # one target per source at most
    threshold = best_threshold(mined, gold)
    assert mined[25][2] < threshold < mined[24][2]
    assert bucc_f1(mined, gold, threshold) == {"f1": 100.0, "precision": 100.0, "recall": 100.0}


def test_margin_scores_drops_repeated_texts() -> None:
    x = np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    y = np.array([[1.0, 0.1], [0.1, 1.0]])
    plain = margin_scores(x, y, k=1)
    assert {(a, b) for a, b, _ in plain} == {(0, 0), (2, 1)}
    # "a" occurs twice: embedded once, and (like XTREME's sent2id) never reported.
    deduped = margin_scores(x, y, k=1, src_texts=["a", "a", "b"])
    assert [(a, b) for a, b, _ in deduped] == [(2, 1)]


def test_best_threshold_by_hand() -> None:
    pairs = [("a", "A", 3.0), ("b", "B", 2.0), ("c", "X", 1.5), ("d", "D", 1.0)]
    # F1 along the list: .5, .8, .667, .571 -> best after "b": midpoint of 2.0 and 1.5.
    gold = [("a", "A"), ("b", "B"), ("e", "E")]
    assert best_threshold(pairs, gold) == 1.75
    assert bucc_f1(pairs, gold, 1.75) == {"f1": pytest.approx(80.0), "precision": 100.0,
                                          "recall": pytest.approx(200 / 3)}
    # Best F1 at the very last candidate (6/7): keep everything (official code would crash).
    assert best_threshold(pairs, [("a", "A"), ("b", "B"), ("d", "D")]) == 1.0
    assert best_threshold(pairs, [("z", "Z")]) == 0.0  # nothing correct
    # A mapping {(src, tgt): score} works too; ties keep their order.
    assert best_threshold({("a", "A"): 2.0, ("b", "B"): 2.0, ("c", "C"): 1.0}, [("a", "A")]) == 2.0


def test_bucc_f1_forms_and_errors() -> None:
    # evaluate.py form: unscored predicted pairs; ids compared as strings like its TSV lines.
    assert bucc_f1([(1, 7), ("2", "9")], [("1", "7"), ("3", "3")]) == {"f1": 50.0, "precision": 50.0,
                                                                       "recall": 50.0}
    assert bucc_f1([("x", "y", 5.0)], [("a", "b")], 0.0) == {"f1": 0.0, "precision": 0.0, "recall": 0.0}
    with pytest.raises(ValueError):
        bucc_f1([("a", "b")], [("a", "b")], 0.5)  # a threshold needs scores
    # Unlabelled test split: evaluate.py reports 0; a threshold cannot be fitted to no gold.
    with pytest.warns(UserWarning, match="no gold"):
        assert bucc_f1([("a", "b", 1.0)], [], 0.5)["f1"] == 0.0
    with pytest.raises(ValueError, match="no gold"):
        best_threshold([("a", "b", 1.0)], [])


def test_bucc_threshold_from_dev_applied_to_test() -> None:
    rng = np.random.default_rng(2)

    def split(n_pairs: int, n_extra: int) -> tuple[np.ndarray, np.ndarray, list[tuple[int, int]]]:
        src = rng.normal(size=(n_pairs + n_extra, 48))
        tgt = np.concatenate([src[:n_pairs] + 0.25 * rng.normal(size=(n_pairs, 48)),
                              rng.normal(size=(n_extra, 48))])
        return src, tgt, [(i, i) for i in range(n_pairs)]

    dev, test = split(30, 30), split(40, 20)
    result = bucc(*dev, *test)
    assert result["f1"] == 100.0
    assert result["threshold"] == best_threshold(margin_scores(dev[0], dev[1]), dev[2])


# ---------------------------------------------------------------- XTREME score

XTREME_TABLE = {"pawsx": 80.0, "xnli": 70.0, "udpos": 75.0, "panx": 60.0, "xquad": 65.0,
                "mlqa": 55.0, "tydiqa": 45.0, "bucc": 50.0, "tatoeba": 40.0}


def test_task_score_qa_and_classification() -> None:
    qa = {"en": {"exact_match": 60.0, "f1": 80.0}, "de": {"exact_match": 40.0, "f1": 60.0}}
    assert task_score("xquad", qa) == 60.0  # (mean EM 50 + mean F1 70) / 2
    assert task_score("xnli", {"en": {"accuracy": 80.0}, "de": 70.0}) == 75.0
    assert task_score("panx", {"en": {"f1": 50.0, "precision": 90.0, "recall": 40.0}}) == 50.0
    with pytest.raises(ValueError, match="EM"):
        task_score("mlqa", {"en": 80.0})  # one number per language is ambiguous for QA


def test_task_score_uses_official_languages() -> None:
    per_language = {lang: {"exact_match": 50.0, "f1": 70.0} for lang in
                    ("en", "es", "de", "el", "ru", "tr", "ar", "vi", "th", "zh", "hi")}
    per_language["ro"] = {"exact_match": 0.0, "f1": 0.0}  # XTREME-R only
    assert task_score("xquad", per_language, benchmark="xtreme") == 60.0
    assert task_score("xquad", per_language, benchmark="xtreme-r") == pytest.approx(60.0 * 11 / 12)
    with pytest.raises(ValueError, match="bn, fi"):
        task_score("tydiqa", {"en": {"exact_match": 1.0, "f1": 1.0}}, benchmark="xtreme")
    partial = task_score("tydiqa", {"en": {"exact_match": 1.0, "f1": 3.0}}, benchmark="xtreme",
                         allow_partial=True)
    assert partial == 2.0


def test_xtreme_score_is_a_mean_over_tasks() -> None:
    result = xtreme_score(XTREME_TABLE)
    assert result["score"] == 60.0  # 540 / 9; the mean of the category means would be 60.625
    assert result["by_category"] == {"classification": 75.0, "tagging": 67.5, "qa": 55.0, "retrieval": 45.0}
    assert result["missing"] == [] and result["ignored"] == []


def test_xtreme_score_missing_tasks() -> None:
    table = {k: v for k, v in XTREME_TABLE.items() if k != "tatoeba"}
    with pytest.raises(ValueError, match="missing: tatoeba"):
        xtreme_score(table)
    result = xtreme_score(table, allow_partial=True)
    assert result["score"] == 62.5  # 500 / 8
    assert result["missing"] == ["tatoeba"]
    assert "retrieval" not in result["by_category"]
    with pytest.raises(ValueError):
        xtreme_score({}, allow_partial=True)


def test_xtreme_r_score() -> None:
    table = {"xnli": 70.0, "xcopa": 60.0, "udpos": 75.0, "panx": 60.0, "xquad": 65.0, "mlqa": 55.0,
             "tydiqa": 45.0, "tatoeba": 40.0, "mewsli-x": 30.0, "lareqa": 20.0, "pawsx": 99.0}
    result = xtreme_score(table, benchmark="xtreme-r")
    assert result["score"] == 52.0  # 520 / 10
    assert result["ignored"] == ["pawsx"]
    assert result["by_category"]["classification"] == 65.0
    assert result["by_category"]["retrieval"] == 35.0  # tatoeba + mewslix, as in evaluate.py
    with pytest.raises(ValueError, match="missing: .*bucc2018"):
        xtreme_score(table)  # as XTREME: no bucc2018
    with pytest.raises(UnknownChoiceError):
        xtreme_score(table, benchmark="glue")


# ---------------------------------------------------------------- registry


def test_registry_new_metrics() -> None:
    assert {"mlqa", "seqeval", "tatoeba", "bucc", "squad_v2", "tag_accuracy"} <= set(METRICS)
    assert primary_score("tag_accuracy", compute_metric("tag_accuracy", [["N"]], [["N"]])) == 100.0
    scores = compute_metric("mlqa", {"q": "los gatos"}, {"q": ["gatos"]}, lang="es")
    assert scores == {"exact_match": 100.0, "f1": 100.0}
    assert primary_score("mlqa", scores) == 100.0
    tags = compute_metric("seqeval", [["B-PER", "O"]], [["B-PER", "O"]])
    assert primary_score("seqeval", tags) == 100.0
    emb = np.eye(3)
    assert primary_score("tatoeba", compute_metric("tatoeba", emb, emb)) == 100.0
    bucc_scores = compute_metric("bucc", [("a", "A", 2.0), ("b", "X", 1.0)], [("a", "A")], threshold=1.5)
    assert primary_score("bucc", bucc_scores) == 100.0
    with pytest.raises(TypeError):
        compute_metric("mlqa", {"q": "x"}, {"q": ["x"]})  # lang is required
