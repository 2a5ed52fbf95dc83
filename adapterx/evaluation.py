"""Predict and score one task split: logits -> labels / answers -> the task's official metric."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader

from adapterx.data.feature_cache import features_key
from adapterx.data.features import MODEL_COLUMNS, Collator, tokenize
from adapterx.metrics import compute_metric, primary_score
from adapterx.tasks import Task


@dataclass
class EvalSettings:
    """Resolved evaluation options."""

    max_seq_length: int
    doc_stride: int
    batch_size: int = 64
    n_best: int = 20
    max_answer_length: int = 30


@dataclass
class EvalResult:
    """Scores (e.g. {"f1": .., "exact_match": ..}) and predictions in input order / by id."""

    scores: dict[str, float]
    predictions: Any  # list of labels, list of choice indices, or {qid: answer text}
    n_examples: int
    primary: float  # the number tables show and model selection maximises (accuracy, QA F1)
    truncated_words: int = 0  # tagging: words cut off by max_seq_length, given the neutral tag


def neutral_tag(task: Task) -> str:
    """The tag of words the model never saw (cut off by max_seq_length)."""
    return task.neutral_label or ("O" if "O" in task.labels else task.labels[0])


def word_predictions(task: Task, examples: list[dict], word_ids: list[list[int]],
                     logits: list[np.ndarray]) -> tuple[list[list[str]], int]:
    """Each word's tag from its first sub-word, and how many words had none: those cut off by
    max_seq_length get the task's neutral tag (`neutral_tag`) so every sentence keeps its
    length. (XTREME's preprocessing splits long sentences instead, so it has no such words.)"""
    fallback = neutral_tag(task)
    out, truncated = [], 0
    for ex, ids, rows in zip(examples, word_ids, logits):
        tags = [fallback] * len(ex["tokens"])
        seen = set()
        for position, word in enumerate(ids):
            if word >= 0 and word not in seen and position < len(rows):
                seen.add(word)
                tags[word] = task.labels[int(np.argmax(rows[position]))]
        truncated += len(tags) - len(seen)
        out.append(tags)
    return out, truncated


# Tokenized evaluation features of this process, keyed by task, tokenizer, settings and the
# examples themselves: the English dev set scored after every epoch, and the same test sets
# evaluated by several setups (compare, grid), are tokenized once.
_FEATURES: OrderedDict[str, Any] = OrderedDict()
FEATURE_CACHE_SIZE = 32


def eval_features(task: Task, examples: list[dict], tokenizer, settings: EvalSettings):
    """`tokenize(..., train=False)`, from this process's cache when the same examples were
    tokenized the same way before (callers only read the features)."""
    key = features_key(task, examples, tokenizer, settings.max_seq_length, settings.doc_stride, train=False)
    if key in _FEATURES:
        _FEATURES.move_to_end(key)
        return _FEATURES[key]
    features = tokenize(task, examples, tokenizer, settings.max_seq_length, settings.doc_stride, train=False)
    _FEATURES[key] = features
    while len(_FEATURES) > FEATURE_CACHE_SIZE:
        _FEATURES.popitem(last=False)
    return features


def clear_feature_cache() -> None:
    """Forget every cached evaluation feature set."""
    _FEATURES.clear()


@torch.inference_mode()
def _logits(model, features, collator: Collator, batch_size: int, device: torch.device,
            keys: tuple[str, ...], by_length: bool = True) -> list[list[np.ndarray]]:
    """Model outputs `keys` per feature, in the features' order. `by_length`: batches are cut
    from the features sorted by length (far less padding; each row's outputs are the same, as
    padding is masked), and the rows are put back in order."""
    cols = [c for c in features.column_names if c in MODEL_COLUMNS and c not in
            ("labels", "start_positions", "end_positions")]
    data = features.select_columns(cols)
    order = list(range(len(data)))
    if by_length and len(data) > batch_size:
        from adapterx.training import sequence_length

        lengths = [sequence_length(ids) for ids in data["input_ids"]]
        order = sorted(order, key=lambda i: -lengths[i])  # longest first: a too-large batch fails early
        data = data.select(order)
    loader = DataLoader(data, batch_size=batch_size, collate_fn=collator)
    outs: list[list[np.ndarray]] = [[] for _ in keys]
    from adapterx.progress import bar

    for batch in bar(loader, "evaluating", total=len(loader)):
        batch = {k: v.to(device) for k, v in batch.items()}
        result = model(**batch)
        for i, key in enumerate(keys):
            outs[i].extend(result[key].float().cpu().numpy())
    if order != sorted(order):
        back = np.argsort(order)
        outs = [[rows[j] for j in back] for rows in outs]
    return outs


@dataclass
class Predictions:
    """Model predictions of `examples` in input order (QA: by id) and how sure the model was."""

    predictions: Any  # list of labels, list of choice indices, {qid: answer text}, or tag lists
    # per example: class / choice probabilities (classification, multiple choice), {qid: span
    # score} (QA: start + end logit), None (tagging)
    confidence: Any = None
    truncated_words: int = 0  # tagging: words cut off by max_seq_length, given the neutral tag


def _softmax(rows: list[np.ndarray]) -> list[np.ndarray]:
    return [np.exp(r - r.max()) / np.exp(r - r.max()).sum() for r in rows]


def predict(model, task: Task, examples: list[dict], tokenizer, settings: EvalSettings,
            device: torch.device) -> Predictions:
    """Predictions for `examples` (labels not needed): the step `evaluate` scores, and what
    `adapterx predict` writes."""
    was_training = model.training
    model.eval()
    try:
        features = eval_features(task, examples, tokenizer, settings)
        collator = Collator(tokenizer, task.kind)
        if task.kind == "qa":
            from adapterx.data.qa import postprocess_with_scores

            starts, ends = _logits(model, features, collator, settings.batch_size, device,
                                   ("start_logits", "end_logits"))
            width = max(len(x) for x in starts)
            pad = lambda rows: np.stack([np.pad(r, (0, width - len(r)), constant_values=-1e4) for r in rows])  # noqa: E731
            spans = postprocess_with_scores(examples, features, pad(starts), pad(ends), n_best=settings.n_best,
                                            max_answer_length=settings.max_answer_length,
                                            allow_no_answer=task.no_answer)
            return Predictions({k: text for k, (text, _) in spans.items()},
                               {k: score for k, (_, score) in spans.items()})
        (logits,) = _logits(model, features, collator, settings.batch_size, device, ("logits",))
        if task.kind == "tagging":
            preds, truncated = word_predictions(task, examples, features["word_ids"], logits)
            return Predictions(preds, None, truncated)
        choice = [int(np.argmax(row)) for row in logits]
        preds = [task.labels[i] for i in choice] if task.kind == "classification" else choice
        return Predictions(preds, _softmax(logits))
    finally:
        model.train(was_training)


def evaluate(model, task: Task, examples: list[dict], tokenizer, settings: EvalSettings,
             device: torch.device, lang: str = "en") -> EvalResult:
    """Zero-shot (or English dev) predictions and the task's metric on `examples` (in `lang`)."""
    out = predict(model, task, examples, tokenizer, settings, device)
    preds = out.predictions
    if task.kind == "qa":
        refs = {ex["id"]: list(ex["answers"]["text"]) for ex in examples}
        # MLQA normalises answers by language (articles, punctuation, CJK characters)
        extra = {"lang": lang} if task.metric == "mlqa" else {}
        scores = compute_metric(task.metric, preds, refs, **extra)
    elif task.kind == "tagging":
        scores = compute_metric(task.metric, preds, [ex["tags"] for ex in examples])
    elif task.kind == "classification":
        scores = compute_metric(task.metric, preds, [ex["label"] for ex in examples])
    else:
        scores = compute_metric(task.metric, preds, [int(ex["label"]) for ex in examples])
    return EvalResult(scores=scores, predictions=preds, n_examples=len(examples),
                      primary=primary_score(task.metric, scores),
                      truncated_words=out.truncated_words)
