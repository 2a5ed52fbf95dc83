"""Normalized examples -> tokenized features (datasets.Dataset) and the collators that pad them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from datasets import Dataset

from adapterx.errors import DataError
from adapterx.tasks import Task

MODEL_COLUMNS = ("input_ids", "attention_mask", "token_type_ids", "labels",
                 "start_positions", "end_positions")


def _label_ids(task: Task, examples: list[dict], labelled: bool) -> list[int]:
    if task.kind == "multiple_choice":
        ids = [int(ex["label"]) for ex in examples]
        bad = [i for i, x in enumerate(ids) if not (-1 <= x < task.num_choices)]
    else:
        index = {name: i for i, name in enumerate(task.labels)}
        ids = [index.get(ex["label"], -2) if ex["label"] != "" else -1 for ex in examples]
        bad = [i for i, x in enumerate(ids) if x == -2]
    if bad:
        ex = examples[bad[0]]
        valid = task.labels or tuple(range(task.num_choices))
        raise DataError(f"{len(bad)} {task.name} example(s) have a label outside the task's label set "
                        f"(first: id {ex['id']!r}, label {ex['label']!r}); valid: {list(valid)}")
    if labelled and any(x == -1 for x in ids):
        raise DataError(f"{task.name} training data has unlabelled examples",
                        hint="train on a labelled split (train / dev)")
    return ids


# Tokenization runs in chunks of this many examples (as datasets.map batches); a set larger than
# PROGRESS_MIN_EXAMPLES shows a bar over them (hundreds of thousands of MNLI / SQuAD examples
# take minutes to tokenize, which looked like a hang).
CHUNK_EXAMPLES = 1000
PROGRESS_MIN_EXAMPLES = 2000


def tokenize(task: Task, examples: list[dict], tokenizer, max_length: int, doc_stride: int,
             train: bool) -> Dataset:
    """Features for training (with labels / span positions) or evaluation (QA keeps offsets)."""
    labels = _label_ids(task, examples, labelled=train) if task.kind in ("classification", "multiple_choice") else None
    # one decision for the whole set: a pair task stays a pair task in every chunk
    pairs = task.kind == "classification" and any(ex["text_b"] for ex in examples)
    starts: Any = range(0, max(len(examples), 1), CHUNK_EXAMPLES)
    if len(examples) > PROGRESS_MIN_EXAMPLES:
        from adapterx.progress import bar

        starts = bar(starts, f"tokenizing {task.name} ({len(examples):,} examples)", total=len(starts), unit="chunk")
    data: dict[str, list] = {}
    for start in starts:
        chunk = examples[start:start + CHUNK_EXAMPLES]
        for key, values in _tokenize_chunk(task, chunk, tokenizer, max_length, doc_stride, train, pairs).items():
            data.setdefault(key, []).extend(values)
    if labels is not None:
        data["labels"] = labels
    return Dataset.from_dict(data)


def _tokenize_chunk(task: Task, examples: list[dict], tokenizer, max_length: int, doc_stride: int,
                    train: bool, pairs: bool) -> dict[str, list]:
    """Model inputs (and, for QA / tagging, their labels and bookkeeping) of some examples."""
    if task.kind == "qa":
        from adapterx.data import qa

        batch = {k: [ex[k] for ex in examples] for k in ("id", "question", "context", "answers")}
        fn = qa.prepare_train_features if train else qa.prepare_eval_features
        return fn(batch, tokenizer=tokenizer, max_length=max_length, doc_stride=doc_stride)
    if task.kind == "tagging":
        return _tokenize_tagging(task, examples, tokenizer, max_length, train)
    if task.kind == "classification":
        enc = tokenizer([ex["text_a"] for ex in examples], [ex["text_b"] or "" for ex in examples] if pairs else None,
                        truncation=True, max_length=max_length)
        return dict(enc)
    # multiple choice: one (context + question, choice) pair per choice
    n = task.num_choices
    firsts, seconds = [], []
    for ex in examples:
        if len(ex["choices"]) != n:
            raise DataError(f"{task.name} example {ex['id']!r} has {len(ex['choices'])} choices, expected {n}")
        prompt = f"{ex['context']} {ex['question']}".strip()
        firsts += [prompt] * n
        seconds += list(ex["choices"])
    enc = tokenizer(firsts, seconds, truncation=True, max_length=max_length)
    return {k: [v[i:i + n] for i in range(0, len(v), n)] for k, v in enc.items()}


def _tokenize_tagging(task: Task, examples: list[dict], tokenizer, max_length: int, train: bool) -> dict[str, list]:
    """Words -> sub-words; the first sub-word of each word carries its tag, the rest -100 (as XTREME)."""
    index = {name: i for i, name in enumerate(task.labels)}
    enc = tokenizer([ex["tokens"] for ex in examples], is_split_into_words=True, truncation=True,
                    max_length=max_length)
    labels, word_ids = [], []
    for i, ex in enumerate(examples):
        tags = ex["tags"]
        if train and len(tags) != len(ex["tokens"]):
            raise DataError(f"{task.name} example {ex['id']!r} has {len(ex['tokens'])} words but "
                            f"{len(tags)} tags")
        unknown = sorted({t for t in tags if t not in index})
        if unknown:
            raise DataError(f"{task.name} example {ex['id']!r} has tags outside the task's label set: "
                            f"{unknown[:5]}", hint=f"valid tags: {', '.join(task.labels)}")
        ids, row, previous = enc.word_ids(i), [], None
        for w in ids:
            row.append(index[tags[w]] if w is not None and w != previous and w < len(tags) else -100)
            previous = w
        labels.append(row)
        word_ids.append([-1 if w is None else w for w in ids])
    data: dict[str, Any] = dict(enc)
    data["labels"] = labels
    if not train:
        data["word_ids"] = word_ids
    return data


@dataclass
class Collator:
    """Dynamic padding to the longest sequence of the batch; multiple choice pads (B, C, L)."""

    tokenizer: Any
    kind: str

    def __call__(self, features: list[dict]) -> dict[str, torch.Tensor]:
        keep = [{k: f[k] for k in MODEL_COLUMNS if k in f and f[k] is not None} for f in features]
        if self.kind == "tagging" and "labels" in keep[0]:
            # tokenizer.pad leaves label lists alone: pad them to the batch length with -100
            labels = [f.pop("labels") for f in keep]
            batch = self.tokenizer.pad(keep, return_tensors="pt")
            width = batch["input_ids"].shape[1]
            batch["labels"] = torch.tensor([row + [-100] * (width - len(row)) for row in labels])
            return batch
        if self.kind != "multiple_choice":
            return self.tokenizer.pad(keep, return_tensors="pt")
        n = len(keep[0]["input_ids"])
        seq_keys = [k for k in ("input_ids", "attention_mask", "token_type_ids") if k in keep[0]]
        flat = [{k: f[k][c] for k in seq_keys} for f in keep for c in range(n)]
        batch = self.tokenizer.pad(flat, return_tensors="pt")
        out = {k: v.view(len(keep), n, -1) for k, v in batch.items()}
        if "labels" in keep[0]:
            out["labels"] = torch.tensor([f["labels"] for f in keep], dtype=torch.long)
        return out
