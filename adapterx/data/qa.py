"""Extractive QA: sliding-window features for fast tokenizers and span post-processing.

Examples follow the ``qa`` schema of docs/SCHEMA.md. Contexts longer than ``max_length``
are split into overlapping windows ("features"); training labels each window with the
answer's token span (or CLS when the answer is not fully inside), and evaluation maps
the best-scoring span of any window back to characters of the original context.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from adapterx.errors import DataError

__all__ = ["prepare_eval_features", "prepare_train_features", "postprocess_predictions", "postprocess_with_scores"]

# Keys a model's forward() accepts; everything else the tokenizer returns is bookkeeping.
_MODEL_INPUT_KEYS = ("input_ids", "attention_mask", "token_type_ids")
# With the question first, the context is the second sequence of each pair.
_CONTEXT_SEQ_ID = 1

_Offsets = Sequence[Sequence[int] | None]


def _tokenize_windows(examples: dict[str, list], tokenizer: Any, max_length: int,
                      doc_stride: int) -> Any:
    """Tokenize (question, context) pairs into overlapping windows with offsets."""
    if not getattr(tokenizer, "is_fast", False):
        # Offset mappings and sequence_ids() only exist on Rust-backed tokenizers.
        raise ValueError(
            f"extractive QA needs a fast tokenizer (got {type(tokenizer).__name__}); "
            "load it with use_fast=True"
        )
    if not 0 <= doc_stride < max_length:
        # a config error (e.g. training.max_seq_length=64 under a task's doc_stride of 128), not a bug
        raise DataError(f"doc_stride ({doc_stride}) must be >= 0 and < max_length ({max_length})",
                        hint="set training.doc_stride below training.max_seq_length")
    # Some datasets (e.g. TyDiQA, MLQA) have questions with long runs of leading spaces
    # that waste window room and can make truncation of the context impossible.
    questions = [q.lstrip() for q in examples["question"]]
    try:
        return tokenizer(
            questions,
            examples["context"],
            truncation="only_second",
            max_length=max_length,
            stride=doc_stride,
            return_overflowing_tokens=True,
            return_offsets_mapping=True,
            padding=False,  # the collator pads each batch to its own longest feature
        )
    except Exception as exc:  # tokenizers raises a bare Exception for this case
        if "truncat" not in str(exc).lower():
            raise
        raise DataError(
            f"a question is too long to leave room for its context in a window of "
            f"{max_length} tokens with doc_stride {doc_stride} ({exc})",
            hint="raise --max-length or lower --doc-stride",
        ) from exc


def _model_inputs(encoded: Any) -> dict[str, list]:
    """The forward() inputs present in a tokenizer output (XLM-R has no token_type_ids)."""
    return {key: encoded[key] for key in _MODEL_INPUT_KEYS if key in encoded}


def _answer_char_span(context: str, answers: dict[str, list]) -> tuple[int, int] | None:
    """Character span [start, end) of the first answer, trimmed of whitespace; None if none."""
    texts, starts = answers.get("text") or [], answers.get("answer_start") or []
    if not texts or not starts:
        return None
    start = int(starts[0])
    end = start + len(texts[0])
    # Annotations in several datasets carry stray spaces at either end; tokens never
    # start or end inside whitespace, so untrimmed spans could look "not in window".
    while start < end and context[start].isspace():
        start += 1
    while end > start and context[end - 1].isspace():
        end -= 1
    return (start, end) if end > start else None


def _token_span(offsets: Sequence[Sequence[int]], sequence_ids: Sequence[int | None],
                start_char: int, end_char: int) -> tuple[int, int] | None:
    """Token indices of the first/last context tokens covering [start_char, end_char)."""
    context_tokens = [k for k, sid in enumerate(sequence_ids) if sid == _CONTEXT_SEQ_ID]
    if not context_tokens:
        return None
    if offsets[context_tokens[0]][0] > start_char or offsets[context_tokens[-1]][1] < end_char:
        return None  # answer (partly) outside this window
    # Written without assuming offsets exclude leading spaces: SentencePiece-style
    # tokenizers may give "▁word" the span of " word", so we compare token *ends* with
    # the answer start and token *starts* with the answer end.
    start_token = next(k for k in context_tokens if offsets[k][1] > start_char)
    end_token = next(k for k in reversed(context_tokens) if offsets[k][0] < end_char)
    if end_token < start_token:
        return None
    return start_token, end_token


def prepare_train_features(examples: dict[str, list], tokenizer: Any, max_length: int,
                           doc_stride: int) -> dict[str, list]:
    """Batched ``datasets.map`` function: windows with start/end token labels (CLS if absent)."""
    # One example can produce several rows, so callers must map with
    # remove_columns=dataset.column_names.
    encoded = _tokenize_windows(examples, tokenizer, max_length, doc_stride)
    sample_map = encoded["overflow_to_sample_mapping"]
    cls_id = getattr(tokenizer, "cls_token_id", None)
    start_positions: list[int] = []
    end_positions: list[int] = []
    for i, offsets in enumerate(encoded["offset_mapping"]):
        input_ids = encoded["input_ids"][i]
        cls_index = input_ids.index(cls_id) if cls_id is not None and cls_id in input_ids else 0
        sample = sample_map[i]
        context = examples["context"][sample]
        char_span = _answer_char_span(context, examples["answers"][sample])
        token_span = None
        if char_span is not None:
            token_span = _token_span(offsets, encoded.sequence_ids(i), *char_span)
        if token_span is None:
            # Pointing at CLS teaches the model "no answer in this window".
            token_span = (cls_index, cls_index)
        start_positions.append(token_span[0])
        end_positions.append(token_span[1])
    features = _model_inputs(encoded)
    features["start_positions"] = start_positions
    features["end_positions"] = end_positions
    return features


def prepare_eval_features(examples: dict[str, list], tokenizer: Any, max_length: int,
                          doc_stride: int) -> dict[str, list]:
    """Batched ``datasets.map`` function: windows plus ``example_id`` and context-only offsets."""
    encoded = _tokenize_windows(examples, tokenizer, max_length, doc_stride)
    sample_map = encoded["overflow_to_sample_mapping"]
    example_ids: list[str] = []
    offset_mapping: list[list[list[int] | None]] = []
    for i, offsets in enumerate(encoded["offset_mapping"]):
        example_ids.append(examples["id"][sample_map[i]])
        sequence_ids = encoded.sequence_ids(i)
        # None marks question/special tokens so post-processing can never pick them.
        offset_mapping.append([
            list(offset) if sid == _CONTEXT_SEQ_ID else None
            for offset, sid in zip(offsets, sequence_ids)
        ])
    features = _model_inputs(encoded)
    features["example_id"] = example_ids
    features["offset_mapping"] = offset_mapping
    return features


def _column(data: Any, name: str) -> list:
    """One column as a list, from a ``datasets.Dataset`` or a list of row dicts."""
    if isinstance(data, (list, tuple)):
        return [row[name] for row in data]
    # Column access is one Arrow read instead of materializing every row dict.
    return list(data[name])


def _best_span(offsets: _Offsets, start_row: Any, end_row: Any, n_best: int,
               max_answer_length: int) -> tuple[float, int, int] | None:
    """(score, start, end) of the best valid span in one feature, or None."""
    n = len(offsets)
    start_scores = np.asarray(start_row, dtype=np.float64).reshape(-1)
    end_scores = np.asarray(end_row, dtype=np.float64).reshape(-1)
    if start_scores.shape[0] < n or end_scores.shape[0] < n:
        raise ValueError(
            f"logits have {min(start_scores.shape[0], end_scores.shape[0])} positions but "
            f"the feature has {n} tokens; are logits and features in the same order?"
        )
    # Positions >= n are batch padding; positions without offsets are question/special.
    valid = np.fromiter((o is not None for o in offsets), dtype=bool, count=n)
    n_valid = int(valid.sum())
    if n_valid == 0:
        return None
    start_scores = np.where(valid, start_scores[:n], -np.inf)
    end_scores = np.where(valid, end_scores[:n], -np.inf)
    # Masking before taking the top-k means a window whose largest logits sit on CLS or
    # the question still offers its best context spans.
    k = min(n_best, n_valid)
    top_starts = np.argsort(-start_scores, kind="stable")[:k]
    top_ends = np.argsort(-end_scores, kind="stable")[:k]
    # k x k candidate grid, all pairs scored at once.
    scores = start_scores[top_starts][:, None] + end_scores[top_ends][None, :]
    lengths = top_ends[None, :] - top_starts[:, None] + 1
    scores = np.where((lengths >= 1) & (lengths <= max_answer_length), scores, -np.inf)
    flat = int(np.argmax(scores))  # NaN logits would win argmax; isfinite rejects them
    best = float(scores.flat[flat])
    if not np.isfinite(best):
        return None
    i, j = divmod(flat, k)
    return best, int(top_starts[i]), int(top_ends[j])


def postprocess_predictions(examples: Any, features: Any, start_logits: np.ndarray,
                            end_logits: np.ndarray, n_best: int = 20,
                            max_answer_length: int = 30, allow_no_answer: bool = False) -> dict[str, str]:
    """Map per-window logits to one answer string per example id ("" when no valid span).

    With `allow_no_answer` (SQuAD 2.0) an example answers "" when its no-answer score (start and
    end on the first token, the smallest over its windows) beats its best span."""
    spans = postprocess_with_scores(examples, features, start_logits, end_logits, n_best,
                                    max_answer_length, allow_no_answer)
    return {example_id: text for example_id, (text, _) in spans.items()}


def postprocess_with_scores(examples: Any, features: Any, start_logits: np.ndarray,
                            end_logits: np.ndarray, n_best: int = 20, max_answer_length: int = 30,
                            allow_no_answer: bool = False) -> dict[str, tuple[str, float | None]]:
    """`postprocess_predictions` with each answer's score: start + end logit of the chosen span
    (of the no-answer position when "" wins; None when no window had a valid span)."""
    if n_best < 1 or max_answer_length < 1:
        raise ValueError(
            f"n_best ({n_best}) and max_answer_length ({max_answer_length}) must be >= 1"
        )
    feature_example_ids = _column(features, "example_id")
    feature_offsets = _column(features, "offset_mapping")
    if len(start_logits) != len(feature_offsets) or len(end_logits) != len(feature_offsets):
        raise ValueError(
            f"got {len(start_logits)} start / {len(end_logits)} end logit rows for "
            f"{len(feature_offsets)} features"
        )
    # example id -> (score, feature index, start token, end token) of the best window so far
    best: dict[str, tuple[float, int, int, int]] = {}
    null: dict[str, float] = {}
    for index, (example_id, offsets) in enumerate(zip(feature_example_ids, feature_offsets)):
        if allow_no_answer:
            score = float(start_logits[index][0]) + float(end_logits[index][0])
            null[example_id] = min(score, null.get(example_id, score))
        span = _best_span(offsets, start_logits[index], end_logits[index], n_best,
                          max_answer_length)
        if span is None:
            continue
        if example_id not in best or span[0] > best[example_id][0]:
            best[example_id] = (span[0], index, span[1], span[2])

    predictions: dict[str, tuple[str, float | None]] = {}
    for example_id, context in zip(_column(examples, "id"), _column(examples, "context")):
        if example_id not in best or (example_id in null and null[example_id] > best[example_id][0]):
            predictions[example_id] = ("", null.get(example_id))
            continue
        score, index, start, end = best[example_id]
        offsets = feature_offsets[index]
        # Slicing the original context keeps its casing, accents and spacing, which
        # decoding token ids would not (lower-casing, [UNK], normalization).
        predictions[example_id] = (context[offsets[start][0]:offsets[end][1]], score)
    return predictions
