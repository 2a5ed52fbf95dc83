"""Tokenizing a large set shows a progress bar, and tokenizing in chunks gives the features that
tokenizing everything at once gives."""

from __future__ import annotations

import pytest
from transformers import AutoTokenizer

from adapterx.data import features as feats
from adapterx.data.qa import prepare_eval_features
from adapterx.tasks import get_task


@pytest.fixture(scope="module")
def tokenizer(tiny_model):
    return AutoTokenizer.from_pretrained(tiny_model)


def _pairs(n: int, second_from: int = 0) -> list[dict]:
    return [{"id": str(i), "text_a": f"a sentence number {i}", "label": "neutral",
             "text_b": f"another one {i}" if i >= second_from else ""} for i in range(n)]


def test_large_sets_show_a_tokenizing_bar(tokenizer, capfd, monkeypatch):
    monkeypatch.setenv("ADAPTERX_PROGRESS", "1")
    task = get_task("xnli")
    feats.tokenize(task, _pairs(10), tokenizer, 64, 16, train=True)
    assert "tokenizing" not in capfd.readouterr().err  # a moment's work: no bar
    n = 2001  # more than 2,000 examples
    feats.tokenize(task, _pairs(n), tokenizer, 64, 16, train=True)
    err = capfd.readouterr().err
    assert f"tokenizing xnli ({n:,} examples)" in err


def test_chunks_give_the_features_of_one_call(tokenizer):
    task = get_task("xnli")
    # the first chunk has no second texts, later ones do: the set is still tokenized as pairs
    examples = _pairs(feats.CHUNK_EXAMPLES + 5, second_from=feats.CHUNK_EXAMPLES)
    got = feats.tokenize(task, examples, tokenizer, 64, 16, train=True)
    want = tokenizer([ex["text_a"] for ex in examples], [ex["text_b"] for ex in examples], truncation=True,
                     max_length=64)
    assert got["input_ids"] == want["input_ids"] and len(got) == len(examples)

    qa = get_task("xquad")
    context = " ".join(f"word{i}" for i in range(60))
    questions = [{"id": f"q{i}", "question": f"which word {i}?", "context": context,
                  "answers": {"text": [], "answer_start": []}} for i in range(feats.CHUNK_EXAMPLES + 3)]
    got = feats.tokenize(qa, questions, tokenizer, 32, 8, train=False)
    whole = prepare_eval_features({k: [q[k] for q in questions] for k in ("id", "question", "context", "answers")},
                                  tokenizer, 32, 8)
    assert got["example_id"] == whole["example_id"] and got["input_ids"] == whole["input_ids"]
    assert got["offset_mapping"] == whole["offset_mapping"]
