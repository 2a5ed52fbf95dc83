"""Single-source batches for training one module on several sources (tasks, MLM text) through the
Hugging Face Trainer.

Each item of `SourceBatches` is a whole batch of one source, so the Trainer runs with a batch size
of 1 item and its own shuffling, accumulation, checkpoints and resume stay as they are. The batch
plan of an epoch (which source each batch comes from, which rows it holds) is drawn from a seed
and the epoch number, so a resumed run sees the batches the interrupted one would have."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from transformers import TrainerCallback

from adapterx.errors import UnknownChoiceError
from adapterx.configs.multitask import SAMPLING_SCHEMES

TASK_ID = "task_id"  # the batch column that tells the multi-head model which head to use


def task_probabilities(sizes: list[int], scheme: str, temperature: float = 2.0) -> list[float]:
    """p_i of each task: proportional (n_i), temperature (n_i^(1/T)) or uniform (1/K)."""
    if scheme not in SAMPLING_SCHEMES:
        raise UnknownChoiceError("multitask.sampling", scheme, SAMPLING_SCHEMES)
    sizes_arr = np.asarray(sizes, dtype=np.float64)
    if scheme == "uniform":
        weights = np.ones_like(sizes_arr)
    elif scheme == "proportional":
        weights = sizes_arr
    else:
        # in log space: n^(1/T) overflows to inf (and p to nan) for small T; T -> 0 picks the largest
        logs = np.log(np.maximum(sizes_arr, 1e-300)) / temperature
        weights = np.exp(logs - logs.max())
    return (weights / weights.sum()).tolist()


def source_probabilities(sizes: list[int], scheme: str, temperature: float,
                         mlm_ratio: float | None) -> list[float]:
    """The tasks' p_i scaled to leave `mlm_ratio` of the batches to MLM (the last source)."""
    probs = task_probabilities(sizes, scheme, temperature)
    if mlm_ratio is None:
        return probs
    return [p * (1.0 - mlm_ratio) for p in probs] + [mlm_ratio]


def batches_per_epoch(task_sizes: list[int], batch_size: int, mlm_ratio: float | None) -> int:
    """One epoch = as many task batches as one pass over every task's data would take, plus the
    MLM batches that make up `mlm_ratio` of the total."""
    n = sum(math.ceil(size / batch_size) for size in task_sizes)
    return math.ceil(n / (1.0 - mlm_ratio)) if mlm_ratio else n


def draw_plan(sizes: list[int], probs: list[float], batch_size: int, n_batches: int,
              seed: int, epoch: int) -> list[tuple[int, list[int]]]:
    """`n_batches` batches as (source index, row indices): each batch's source drawn from `probs`;
    a source's rows come from reshuffled passes over it, so every row is used before any repeats."""
    rng = np.random.default_rng([seed, epoch])
    sources = rng.choice(len(sizes), size=n_batches, p=np.asarray(probs) / np.sum(probs))
    streams: dict[int, list[int]] = {}
    plan = []
    for s in sources.tolist():
        width = min(batch_size, sizes[s])  # a source smaller than a batch fills it once
        stream = streams.setdefault(s, [])
        while len(stream) < width:
            stream.extend(rng.permutation(sizes[s]).tolist())
        plan.append((s, stream[:width]))
        del stream[:width]
    return plan


class SourceBatches(torch.utils.data.Dataset):
    """A map-style dataset whose items are whole single-source batches (the epoch's plan)."""

    def __init__(self, sources: list[Any], probs: list[float], batch_size: int, n_batches: int,
                 seed: int) -> None:
        self.sources, self.probs = sources, probs
        self.batch_size, self.n_batches, self.seed = batch_size, n_batches, seed
        self.sizes = [len(s) for s in sources]
        self.set_epoch(0)

    def set_epoch(self, epoch: int) -> None:
        """Draw the plan of `epoch` (the same seed and epoch always give the same plan)."""
        if getattr(self, "epoch", None) == epoch:  # accelerate and EpochPlan may both call this
            return
        self.epoch = epoch
        self.plan = draw_plan(self.sizes, self.probs, self.batch_size, self.n_batches, self.seed, epoch)

    def __len__(self) -> int:
        return self.n_batches

    def __getitem__(self, index: int) -> dict[str, Any]:
        source, rows = self.plan[index]
        columns = self.sources[source][rows]  # datasets.Dataset: one call for the whole batch
        return {"source": source, "rows": [dict(zip(columns, values)) for values in zip(*columns.values())]}


class EpochPlan(TrainerCallback):
    """Tell the dataset which epoch begins, so each epoch draws a new plan (on resume too)."""

    def __init__(self, dataset: SourceBatches) -> None:
        self.dataset = dataset

    def on_epoch_begin(self, args, state, control, **kwargs):
        self.dataset.set_epoch(int(round(state.epoch or 0)))
        return control


@dataclass
class SourceCollator:
    """Pads one single-source batch with that source's collator and adds its `task_id`."""

    collators: list[Any]

    def __call__(self, items: list[dict]) -> dict[str, torch.Tensor]:
        (item,) = items  # the Trainer runs with one item (= one whole batch) per step
        batch = dict(self.collators[item["source"]](item["rows"]))
        batch[TASK_ID] = torch.full((len(item["rows"]),), item["source"], dtype=torch.long)
        return batch
