"""Tests for adapterx.data.qa with tiny offline fast tokenizers (BERT- and XLM-R-like)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from datasets import Dataset
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors
from transformers import BertTokenizerFast, PreTrainedTokenizerFast

from adapterx.data.qa import (
    postprocess_predictions,
    prepare_eval_features,
    prepare_train_features,
)
from adapterx.errors import DataError

WORDS = (
    "the cat sat on mat what is tower eiffel in paris built when was it a dog ran "
    "to park and big red"
).split()
FILLER = "The cat sat on the mat. A dog ran to the park. "
ANSWER = "Eiffel Tower"
CONTEXT = FILLER * 3 + f"The big tower is the {ANSWER} in Paris. " + FILLER * 2
QUESTION = "What is the big tower?"
MAX_LENGTH, STRIDE = 32, 8


def _bert(tmp_path_factory: pytest.TempPathFactory) -> BertTokenizerFast:
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", ".", "?", ",", *WORDS]
    path = tmp_path_factory.mktemp("bert") / "vocab.txt"
    path.write_text("\n".join(vocab) + "\n", encoding="utf-8")
    return BertTokenizerFast(vocab_file=str(path), do_lower_case=True)


def _xlmr_like() -> PreTrainedTokenizerFast:
    # SentencePiece-style: "▁word" pieces whose offsets include the preceding space,
    # <s> A </s></s> B </s> pairs and no token_type_ids, like XLM-R.
    cased = {w.capitalize() for w in WORDS} | set(WORDS)
    vocab = [("<s>", 0.0), ("<pad>", 0.0), ("</s>", 0.0), ("<unk>", 0.0)]
    vocab += [("▁" + w, -2.0) for w in sorted(cased)]
    vocab += [(c, -6.0) for c in "abcdefghijklmnopqrstuvwxyzACDEFPTW.?,▁"]
    tok = Tokenizer(models.Unigram(vocab, unk_id=3))
    tok.pre_tokenizer = pre_tokenizers.Metaspace()
    tok.decoder = decoders.Metaspace()
    tok.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>", pair="<s> $A </s> </s> $B </s>",
        special_tokens=[("<s>", 0), ("</s>", 2)],
    )
    return PreTrainedTokenizerFast(
        tokenizer_object=tok, bos_token="<s>", eos_token="</s>", cls_token="<s>",
        sep_token="</s>", pad_token="<pad>", unk_token="<unk>",
        model_input_names=["input_ids", "attention_mask"],
    )


@pytest.fixture(scope="module", params=["bert", "xlmr"])
def tokenizer(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Any:
    return _bert(tmp_path_factory) if request.param == "bert" else _xlmr_like()


def _example(id_: str = "ex0", context: str = CONTEXT, answer: str | None = ANSWER,
             question: str = QUESTION) -> dict:
    answers = {"text": [], "answer_start": []}
    if answer is not None:
        answers = {"text": [answer], "answer_start": [context.index(answer)]}
    return {"id": id_, "title": "t", "context": context, "question": question, "answers": answers}


def _batch(examples: list[dict]) -> dict[str, list]:
    return {key: [ex[key] for ex in examples] for key in examples[0]}


def _token_span(offsets: list, start_char: int, end_char: int) -> tuple[int, int] | None:
    """Context tokens covering [start_char, end_char) in one eval feature, if all inside."""
    ctx = [k for k, o in enumerate(offsets) if o is not None]
    if offsets[ctx[0]][0] > start_char or offsets[ctx[-1]][1] < end_char:
        return None
    start = next(k for k in ctx if offsets[k][1] > start_char)
    end = next(k for k in reversed(ctx) if offsets[k][0] < end_char)
    return start, end


def test_long_context_gives_overlapping_windows(tokenizer: Any) -> None:
    feats = prepare_eval_features(_batch([_example()]), tokenizer, MAX_LENGTH, STRIDE)
    n = len(feats["input_ids"])
    assert n >= 3
    assert feats["example_id"] == ["ex0"] * n
    assert all(len(ids) <= MAX_LENGTH for ids in feats["input_ids"])
    assert len({len(ids) for ids in feats["input_ids"][:-1]}) == 1  # full windows, no padding
    context_ids = []
    for ids, offsets in zip(feats["input_ids"], feats["offset_mapping"]):
        context_ids.append([t for t, o in zip(ids, offsets) if o is not None])
    for prev, nxt in zip(context_ids, context_ids[1:]):
        assert prev[-STRIDE:] == nxt[:STRIDE]  # consecutive windows share `stride` tokens
    # Offsets are only kept for context tokens and point into the original context.
    for offsets in feats["offset_mapping"]:
        assert offsets[0] is None and offsets[-1] is None
        assert all(0 <= o[0] <= o[1] <= len(CONTEXT) for o in offsets if o is not None)


def test_train_labels_point_at_answer_or_cls(tokenizer: Any) -> None:
    batch = _batch([_example()])
    train = prepare_train_features(batch, tokenizer, MAX_LENGTH, STRIDE)
    evals = prepare_eval_features(batch, tokenizer, MAX_LENGTH, STRIDE)
    expected_keys = {"input_ids", "attention_mask", "start_positions", "end_positions"}
    if "token_type_ids" in tokenizer.model_input_names:
        expected_keys.add("token_type_ids")
    assert set(train) == expected_keys
    start_char = CONTEXT.index(ANSWER)
    hits = 0
    for i, offsets in enumerate(evals["offset_mapping"]):
        start, end = train["start_positions"][i], train["end_positions"][i]
        span = _token_span(offsets, start_char, start_char + len(ANSWER))
        if span is None:
            assert (start, end) == (0, 0)
            continue
        hits += 1
        assert (start, end) == span
        decoded = tokenizer.decode(train["input_ids"][i][start:end + 1]).strip()
        assert decoded.lower() == ANSWER.lower()
        assert CONTEXT[offsets[start][0]:offsets[end][1]].strip() == ANSWER
    assert 1 <= hits < len(train["input_ids"])


def test_unanswerable_and_whitespace_question(tokenizer: Any) -> None:
    examples = [_example(answer=None), _example(id_="ex1", question="      " + QUESTION)]
    train = prepare_train_features(_batch(examples), tokenizer, MAX_LENGTH, STRIDE)
    evals = prepare_eval_features(_batch(examples), tokenizer, MAX_LENGTH, STRIDE)
    n0 = evals["example_id"].count("ex0")
    assert train["start_positions"][:n0] == [0] * n0 == train["end_positions"][:n0]
    # Leading spaces are stripped, so both questions give identical windows.
    assert train["input_ids"][:n0] == train["input_ids"][n0:]


def test_works_with_datasets_map(tokenizer: Any) -> None:
    ds = Dataset.from_list([_example(), _example(id_="ex1", answer="Paris")])
    kwargs = {"tokenizer": tokenizer, "max_length": MAX_LENGTH, "doc_stride": STRIDE}
    train = ds.map(prepare_train_features, batched=True, remove_columns=ds.column_names,
                   fn_kwargs=kwargs)
    evals = ds.map(prepare_eval_features, batched=True, remove_columns=ds.column_names,
                   fn_kwargs=kwargs)
    assert len(train) == len(evals) > 2
    assert sum(1 for s in train["start_positions"] if s != 0) >= 2
    offsets = evals[0]["offset_mapping"]
    assert offsets[0] is None and any(o is not None for o in offsets)


def test_too_long_question_is_a_data_error(tokenizer: Any) -> None:
    batch = _batch([_example(question=" ".join(["what"] * 40))])
    with pytest.raises(DataError, match="max-length"):
        prepare_train_features(batch, tokenizer, MAX_LENGTH, STRIDE)


def _peaked_logits(features: Any, width: int, peaks: dict[int, list[tuple[int, int, float]]]
                   ) -> tuple[np.ndarray, np.ndarray]:
    """Logits padded to `width` with low noise and (start, end, value) peaks per feature."""
    rng = np.random.default_rng(0)
    n = len(features["offset_mapping"]) if isinstance(features, dict) else len(features)
    start = rng.normal(0, 0.1, (n, width))
    end = rng.normal(0, 0.1, (n, width))
    for index, spans in peaks.items():
        for s, e, value in spans:
            start[index, s] += value
            end[index, e] += value
    return start, end


def test_postprocess_returns_original_substring(tmp_path_factory: pytest.TempPathFactory) -> None:
    tokenizer = _bert(tmp_path_factory)  # lower-cases, so decoding would lose casing
    context = "Built when?  The big tower is the EIFFEL   Tower,  in paris."
    example = _example(context=context, answer="EIFFEL   Tower")
    ds = Dataset.from_list([example])
    feats = ds.map(prepare_eval_features, batched=True, remove_columns=ds.column_names,
                   fn_kwargs={"tokenizer": tokenizer, "max_length": 64, "doc_stride": 16})
    assert len(feats) == 1
    offsets = feats[0]["offset_mapping"]
    start_char = context.index("EIFFEL")
    s, e = _token_span(offsets, start_char, start_char + len("EIFFEL   Tower"))
    start, end = _peaked_logits(feats, 80, {0: [(s, e, 10.0)]})
    # Huge values on CLS, the question and batch padding must all be ignored.
    start[0, 0] = end[0, 0] = 50.0
    start[0, 2] = end[0, 3] = 40.0
    start[0, len(offsets):] = end[0, len(offsets):] = 99.0
    preds = postprocess_predictions(ds, feats, start, end)
    assert preds == {"ex0": "EIFFEL   Tower"}
    # Lists of row dicts work the same as Datasets.
    assert postprocess_predictions([example], list(feats), start, end) == preds


def test_postprocess_max_answer_length(tokenizer: Any) -> None:
    example = _example()
    feats = prepare_eval_features(_batch([example]), tokenizer, 64, 16)
    offsets = feats["offset_mapping"][0]
    ctx = [k for k, o in enumerate(offsets) if o is not None]
    a = ctx[2]
    start, end = _peaked_logits(feats, 64, {0: [(a, a + 5, 10.0)]})
    end[0, a + 1] += 6.0  # runner-up end: a two-token span
    long_span = CONTEXT[offsets[a][0]:offsets[a + 5][1]]
    short_span = CONTEXT[offsets[a][0]:offsets[a + 1][1]]
    assert postprocess_predictions([example], feats_rows(feats), start, end) == {"ex0": long_span}
    got = postprocess_predictions([example], feats_rows(feats), start, end, max_answer_length=5)
    assert got == {"ex0": short_span}
    # Ends that come before every top start are invalid: nothing left -> "".
    start, end = _peaked_logits(feats, 64, {0: [(ctx[-1], ctx[0], 10.0)]})
    only_first = feats_rows(feats)[:1]  # other windows would offer valid spans
    got = postprocess_predictions([example], only_first, start[:1], end[:1], n_best=1)
    assert got == {"ex0": ""}


def feats_rows(features: dict[str, list]) -> list[dict]:
    """Turn a batched feature dict into a list of row dicts."""
    return [dict(zip(features, values)) for values in zip(*features.values())]


def test_postprocess_picks_best_window(tokenizer: Any) -> None:
    examples = [_example(), _example(id_="ex1", answer="Paris"), _example(id_="none")]
    feats = prepare_eval_features(_batch(examples), tokenizer, MAX_LENGTH, STRIDE)
    rows = feats_rows(feats)
    rows = [r for r in rows if r["example_id"] != "none"]  # "none" has no features at all
    ids = [r["example_id"] for r in rows]
    first0, last0 = ids.index("ex0"), len(ids) - 1 - ids[::-1].index("ex0")
    answer_char = CONTEXT.index(ANSWER)
    answer_feature = next(
        i for i, r in enumerate(rows)
        if r["example_id"] == "ex0"
        and _token_span(r["offset_mapping"], answer_char, answer_char + len(ANSWER))
    )
    s, e = _token_span(rows[answer_feature]["offset_mapping"], answer_char,
                       answer_char + len(ANSWER))
    assert first0 != last0
    decoy = first0 if answer_feature != first0 else last0
    decoy_offsets = rows[decoy]["offset_mapping"]
    d = next(k for k, o in enumerate(decoy_offsets) if o is not None)
    width = max(len(r["input_ids"]) for r in rows) + 3
    start, end = _peaked_logits(rows, width, {decoy: [(d, d, 7.0)], answer_feature: [(s, e, 8.0)]})
    preds = postprocess_predictions(examples, rows, start, end)
    assert set(preds) == {"ex0", "ex1", "none"}
    assert preds["ex0"].strip() == ANSWER
    assert preds["none"] == ""
    # Swapping the strengths makes the decoy window win instead.
    start, end = _peaked_logits(rows, width, {decoy: [(d, d, 9.0)], answer_feature: [(s, e, 8.0)]})
    preds = postprocess_predictions(examples, rows, start, end)
    assert preds["ex0"] == CONTEXT[decoy_offsets[d][0]:decoy_offsets[d][1]]


def test_postprocess_rejects_misaligned_logits(tokenizer: Any) -> None:
    feats = feats_rows(prepare_eval_features(_batch([_example()]), tokenizer, MAX_LENGTH, STRIDE))
    with pytest.raises(ValueError, match="logit rows"):
        postprocess_predictions([_example()], feats, np.zeros((1, 40)), np.zeros((1, 40)))
    with pytest.raises(ValueError, match="positions"):
        postprocess_predictions([_example()], feats, np.zeros((len(feats), 4)),
                                np.zeros((len(feats), 4)))
