"""Predict and score one task split: logits -> labels / answers -> the task's official metric."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader

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


def word_predictions(task: Task, examples: list[dict], word_ids: list[list[int]],
                     logits: list[np.ndarray]) -> list[list[str]]:
    """Each word's tag from its first sub-word; words cut off by max_seq_length get the task's
    outside tag ("O", or the first label) so every sentence keeps its length."""
    fallback = "O" if "O" in task.labels else task.labels[0]
    out = []
    for ex, ids, rows in zip(examples, word_ids, logits):
        tags = [fallback] * len(ex["tokens"])
        seen = set()
        for position, word in enumerate(ids):
            if word >= 0 and word not in seen and position < len(rows):
                seen.add(word)
                tags[word] = task.labels[int(np.argmax(rows[position]))]
        out.append(tags)
    return out


@torch.inference_mode()
def _logits(model, features, collator: Collator, batch_size: int, device: torch.device,
            keys: tuple[str, ...]) -> list[list[np.ndarray]]:
    cols = [c for c in features.column_names if c in MODEL_COLUMNS and c not in
            ("labels", "start_positions", "end_positions")]
    loader = DataLoader(features.select_columns(cols), batch_size=batch_size, collate_fn=collator)
    outs: list[list[np.ndarray]] = [[] for _ in keys]
    for batch in loader:
        batch = {k: v.to(device) for k, v in batch.items()}
        result = model(**batch)
        for i, key in enumerate(keys):
            outs[i].extend(result[key].float().cpu().numpy())
    return outs


def evaluate(model, task: Task, examples: list[dict], tokenizer, settings: EvalSettings,
             device: torch.device, lang: str = "en") -> EvalResult:
    """Zero-shot (or English dev) predictions and the task's metric on `examples` (in `lang`)."""
    was_training = model.training
    model.eval()
    try:
        features = tokenize(task, examples, tokenizer, settings.max_seq_length, settings.doc_stride, train=False)
        collator = Collator(tokenizer, task.kind)
        if task.kind == "qa":
            from adapterx.data.qa import postprocess_predictions

            starts, ends = _logits(model, features, collator, settings.batch_size, device,
                                   ("start_logits", "end_logits"))
            width = max(len(x) for x in starts)
            pad = lambda rows: np.stack([np.pad(r, (0, width - len(r)), constant_values=-1e4) for r in rows])  # noqa: E731
            preds = postprocess_predictions(examples, features, pad(starts), pad(ends),
                                            n_best=settings.n_best, max_answer_length=settings.max_answer_length,
                                            allow_no_answer=task.no_answer)
            refs = {ex["id"]: list(ex["answers"]["text"]) for ex in examples}
            # MLQA normalises answers by language (articles, punctuation, CJK characters)
            extra = {"lang": lang} if task.metric == "mlqa" else {}
            scores = compute_metric(task.metric, preds, refs, **extra)
        elif task.kind == "tagging":
            (logits,) = _logits(model, features, collator, settings.batch_size, device, ("logits",))
            preds = word_predictions(task, examples, features["word_ids"], logits)
            scores = compute_metric(task.metric, preds, [ex["tags"] for ex in examples])
        else:
            (logits,) = _logits(model, features, collator, settings.batch_size, device, ("logits",))
            choice = [int(np.argmax(row)) for row in logits]
            if task.kind == "classification":
                preds = [task.labels[i] for i in choice]
                scores = compute_metric(task.metric, preds, [ex["label"] for ex in examples])
            else:
                preds = choice
                scores = compute_metric(task.metric, preds, [int(ex["label"]) for ex in examples])
    finally:
        model.train(was_training)
    return EvalResult(scores=scores, predictions=preds, n_examples=len(examples),
                      primary=primary_score(task.metric, scores))
