"""Intermediate training on more than one English task's batches: several tasks (multi-task
modules), translated data mixed in (`mix.*`) and masked-LM batches (`mlm.*`). Shared by
train_module (one task) and multitask (several)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

from adapterx.backbone import Backbone
from adapterx.configs import RunConfig
from adapterx.data.features import Collator
from adapterx.heads import TaskModel
from adapterx.recipes.common import asdict
from adapterx.report.console import console
from adapterx.store import stable_hash
from adapterx.tasks import Task
from adapterx.training import TrainOutcome, TrainSettings, train_model


@lru_cache(maxsize=8)
def _mlm_lines(data_dir: str | None, langs: tuple[str, ...], max_lines: int | None,
               seed: int) -> dict[str, list[str]]:
    from adapterx.data.mixing import read_mlm_lines

    return read_mlm_lines(data_dir, list(langs), max_lines, seed)


def mlm_lines(cfg: RunConfig) -> dict[str, list[str]]:
    """The MLM passages per language `mlm.*` asks for (read once per process)."""
    return _mlm_lines(cfg.data_dir, tuple(cfg.mlm.langs or ()), cfg.mlm.max_lines, cfg.seed)


def auxiliary_settings(cfg: RunConfig) -> dict:
    """The `mix` / `mlm` settings that decide a module, for its cache key and adapterx.json; empty
    when both are off, so plain modules keep the keys they always had."""
    out: dict = {}
    if cfg.mix.enabled:
        out["mix"] = {"langs": list(cfg.mix.langs), "ratio": cfg.mix.ratio}
    if cfg.mlm.enabled:
        lines = mlm_lines(cfg)
        out["mlm"] = {**asdict(cfg.mlm), "data": stable_hash(lines),
                      "n_lines": {lang: len(v) for lang, v in lines.items()}}
    return out


def mixed_train(task: Task, train_ex: list[dict], cfg: RunConfig) -> tuple[list[dict], dict[str, int]]:
    """English training examples with translated ones mixed in per `mix.*` (as is when off)."""
    if not cfg.mix.enabled:
        return train_ex, {}
    from adapterx.data.mixing import mix_translated

    mixed, taken = mix_translated(task, train_ex, cfg.data_dir, list(cfg.mix.langs), cfg.mix.ratio, cfg.seed)
    desc = ", ".join(f"{n} {lang}" for lang, n in taken.items())
    console.print(f"{task.name}: {len(mixed) - sum(taken.values())} English + translated ({desc}) training examples")
    return mixed, taken


def uses_sources(cfg: RunConfig) -> bool:
    """Whether a single-task module needs the multi-source training path (MLM batches)."""
    return cfg.mlm.enabled


def train_on_sources(bb: Backbone, models: dict[str, TaskModel], features: dict, cfg: RunConfig,
                     settings: TrainSettings, work: Path,
                     score_fn: Callable[[], float] | None) -> tuple[TrainOutcome, dict, object]:
    """Train the module every model in `models` shares on single-source batches: each task's
    features, plus MLM text when `mlm.*` is on, the source of each batch drawn by
    `multitask.sampling`. Returns the outcome, what was sampled how, and the multi-head model."""
    from transformers import DataCollatorForLanguageModeling

    from adapterx.data.multitask import (EpochPlan, SourceBatches, SourceCollator, batches_per_epoch,
                                         source_probabilities)
    from adapterx.multihead import MultiHeadModel, build_mlm_head

    sources = [features[name] for name in models]
    collators: list = [Collator(bb.tokenizer, m.kind) for m in models.values()]
    mlm_head, info = None, {}
    if cfg.mlm.enabled:
        from adapterx.data.mixing import tokenize_mlm

        mlm_data = tokenize_mlm(mlm_lines(cfg), bb.tokenizer, cfg.mlm.max_seq_length)
        mlm_head, how = build_mlm_head(bb)
        console.print(f"masked-LM batches ({cfg.mlm.ratio:.0%}) on {len(mlm_data)} passages in "
                      f"{','.join(cfg.mlm.langs)}; MLM head: {how}")
        sources.append(mlm_data)
        collators.append(DataCollatorForLanguageModeling(bb.tokenizer, mlm=True,
                                                         mlm_probability=cfg.mlm.probability))
        info["mlm_head"] = how
    model = MultiHeadModel(next(iter(models.values())).encoder, models, mlm_head)
    sizes = [len(s) for s in sources]
    ratio = cfg.mlm.ratio if cfg.mlm.enabled else None
    probs = source_probabilities(sizes[:len(models)], cfg.multitask.sampling, cfg.multitask.temperature, ratio)
    n_batches = batches_per_epoch(sizes[:len(models)], settings.batch_size, ratio)
    info["sampling"] = {"scheme": cfg.multitask.sampling, "temperature": cfg.multitask.temperature,
                        "probabilities": dict(zip(model.sources, [round(p, 6) for p in probs])),
                        "sizes": dict(zip(model.sources, sizes)), "batches_per_epoch": n_batches}
    dataset = SourceBatches(sources, probs, settings.batch_size, n_batches, settings.seed)
    # One dataset item is one whole batch, so the Trainer's own batch size is 1.
    outcome = train_model(model, dataset, SourceCollator(collators), dataclasses.replace(settings, batch_size=1),
                          work, bb.device, bb.dtype, score_fn=score_fn, callbacks=[EpochPlan(dataset)])
    return outcome, info, model
