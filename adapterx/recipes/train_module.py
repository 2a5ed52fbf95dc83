"""Recipe: train one English intermediate module, or reuse the cached one with the same key."""

from __future__ import annotations

import dataclasses
import logging
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from adapterx.assemble import Assembled, assemble
from adapterx.backbone import base_id
from adapterx.configs import RunConfig
from adapterx.data.bad_rows import applies_policy
from adapterx.data.bad_rows import record as bad_rows_record
from adapterx.data.features import Collator
from adapterx.data.loading import english_train_dev
from adapterx.errors import AdapterxError
from adapterx.evaluation import evaluate
from adapterx.leakage import LeakageGuard, save_train_hashes
from adapterx.methods import method_settings, trainable_parameters
from adapterx.model_card import write_module_card
from adapterx.module_meta import read_meta_file
from adapterx.recipes.common import (asdict, eval_settings, head_spec, learning_settings, provenance,
                                     features_and_dev_score, save_head, train_settings)
from adapterx.recipes.sources import auxiliary_settings, mixed_train, train_on_sources, uses_sources
from adapterx.report.console import console
from adapterx.store import atomic_dir, entry_lock, is_complete, stable_hash, write_meta
from adapterx.tasks import Task, get_task
from adapterx.training import TrainOutcome, train_model

log = logging.getLogger(__name__)


@dataclass
class ModuleRecord:
    """A trained module on disk."""

    task: str
    path: Path
    key: str
    reused: bool


def model_id(name: str) -> str:
    """A model's identity for cache keys: a digest of a local folder's weights (not its path:
    a folder replaced at the same path is another base), else the Hub name."""
    return base_id(name)


def trainable_task(name: str) -> Task:
    """An intermediate task must have English training data of its own."""
    task = get_task(name)
    if "train" not in task.splits or task.train_from:
        raise AdapterxError(
            f"{name} has no English training split of its own (it is a zero-shot evaluation target)",
            f"train on its English source task instead: --task {task.train_task}")
    return task


def module_key(task: Task, cfg: RunConfig, data_hash: str, n_dev: int | None = None) -> tuple[str, dict]:
    """The cache key: model + task + method + hyperparameters + data (+ seed), and the `mix` /
    `mlm` settings when they are on (so a mixed module is never taken for a plain one)."""
    payload = {
        "task": task.name, "model": model_id(cfg.model), "quant": cfg.quant, "dtype": cfg.dtype,
        "method": cfg.method, "method_settings": asdict(method_settings(cfg.method, cfg)),
        **learning_settings(task, cfg, n_dev), "data": data_hash, **auxiliary_settings(cfg),
    }
    return stable_hash(payload), payload


def task_data(task: Task, cfg: RunConfig) -> tuple[Task, list[dict], list[dict], dict[str, int]]:
    """English training examples (with translated ones mixed in per `mix.*`) and English dev
    examples; also how many translated examples each language gave."""
    train_ex, dev_ex = english_train_dev(task, cfg.data_dir, cfg.training.max_train_examples,
                                         cfg.training.max_dev_examples, cfg.seed)
    train_ex, taken = mixed_train(task, train_ex, cfg)
    if task.labels_from_data:  # e.g. CCG supertags: the training data defines the tag set
        tags = sorted({t for ex in train_ex for t in ex["tags"]})
        task = dataclasses.replace(task, labels=tuple(tags))
        dev_ex = [ex for ex in dev_ex if set(ex["tags"]) <= set(tags)]  # unseen tags can't be scored
    return task, train_ex, dev_ex, taken


@applies_policy
def train_module(task_name: str, cfg: RunConfig, guard: LeakageGuard | None = None) -> ModuleRecord:
    """Train a module on `task_name`'s English data (or reuse the cached one) and return its folder;
    `guard` (a target run's) checks its training data against the evaluation sets first."""
    task = trainable_task(task_name)
    task, train_ex, dev_ex, taken = task_data(task, cfg)
    key, payload = module_key(task, cfg, stable_hash([train_ex, dev_ex]), len(dev_ex))
    if taken:  # recorded in adapterx.json (the data hash already covers it in the key)
        payload["mix"]["n_translated"] = taken
    path = Path(cfg.modules_dir) / task.name / f"{cfg.method}-{key}"
    if guard is not None:  # before training or reusing it
        guard.check_module(f"{task.name} train (intermediate module)", path, [(train_ex, task.kind)])
    if not is_complete(path):
        mention_other_settings(path)
    if is_complete(path):
        console.print(f"[green]reusing[/] {task.name} {cfg.method} module {path} (trained before; nothing to do)")
        return ModuleRecord(task.name, path, key, reused=True)
    with entry_lock(path):
        if is_complete(path):  # another process finished it while we waited for the lock
            console.print(f"[green]reusing[/] {task.name} module {path} (trained by another process)")
            return ModuleRecord(task.name, path, key, reused=True)
        console.print(f"[bold]training[/] {task.name} {cfg.method} module on {len(train_ex)} English examples")
        _train_and_save(task, cfg, train_ex, dev_ex, key, payload, path)
    console.print(f"saved {task.name} module to {path}")
    return ModuleRecord(task.name, path, key, reused=False)


def mention_other_settings(path: Path) -> None:
    """When modules of this task exist under other settings, say how to reuse them instead."""
    others = [p for p in path.parent.glob(f"{path.name.split('-')[0]}-*") if is_complete(p)] \
        if path.parent.is_dir() else []
    if others:
        console.print(f"[yellow]note[/]: {len(others)} {path.parent.name} module(s) in {path.parent} were "
                      "trained with other settings, so a new one is trained; to reuse one, pass the same "
                      "settings (for fuse / stack: inter.<key>=..., e.g. inter.epochs=2)")


def _train_and_save(task: Task, cfg: RunConfig, train_ex: list[dict], dev_ex: list[dict],
                    key: str, payload: dict, path: Path) -> None:
    built = assemble(cfg, train=task.name, heads=[task])  # a new module, alone, with a fresh head
    work = Path(cfg.modules_dir) / ".work" / f"{task.name}-{cfg.method}-{key}"
    outcome, extra = _train(built, task, cfg, train_ex, dev_ex, work)
    dev = evaluate(built.model, task, dev_ex, built.bb.tokenizer, eval_settings(task, cfg), built.bb.device)
    _save(built, task, cfg, path, train_ex, {
        "schema_version": 1, "kind": "module", "task": task.name, "method": cfg.method,
        "head": head_spec(task, cfg.head), "key": key,
        "base_model": {"name": cfg.model, "fingerprint": built.bb.fingerprint, "quant": cfg.quant,
                       "dtype": str(built.bb.dtype).replace("torch.", "")},
        "method_settings": payload["method_settings"], "training": asdict(train_settings(task, cfg)),
        "n_train_examples": len(train_ex), "n_dev_examples": len(dev_ex),
        "metrics": {"english_dev": dev.scores, "dev_history": outcome.dev_history},
        "train_seconds": round(outcome.train_seconds, 2), "peak_memory_mb": round(outcome.peak_memory_mb, 1),
        "trainable_params": trainable_parameters(built.model), "seed": cfg.seed,
        **{k: payload[k] for k in ("mix", "mlm") if k in payload},
        **({"mlm_head": extra["mlm_head"]} if "mlm_head" in extra else {}),
        "created": time.strftime("%Y-%m-%dT%H:%M:%S"), **provenance(), "bad_rows": bad_rows_record()})
    shutil.rmtree(work, ignore_errors=True)


def _train(built: Assembled, task: Task, cfg: RunConfig, train_ex: list[dict], dev_ex: list[dict],
           work: Path) -> tuple[TrainOutcome, dict]:
    """Train the module and its head on the task's English data, selecting on English dev."""
    bb, model = built.bb, built.model
    features, dev_score = features_and_dev_score(model, bb, task, cfg, train_ex, dev_ex)
    if uses_sources(cfg):  # MLM batches between the task's: the multi-source path
        outcome, extra, _ = train_on_sources(bb, {task.name: model}, {task.name: features}, cfg,
                                             train_settings(task, cfg), work, dev_score)
        return outcome, extra
    outcome = train_model(model, features, Collator(bb.tokenizer, task.kind), train_settings(task, cfg),
                          work, bb.device, bb.dtype, score_fn=dev_score, dev_size=len(dev_ex))
    return outcome, {}


def _save(built: Assembled, task: Task, cfg: RunConfig, path: Path, train_ex: list[dict], meta: dict) -> None:
    """The module folder: the module in its native format, its head, adapterx.json and a model card."""
    bb, method = built.bb, built.method
    with atomic_dir(path) as tmp:
        method.save(bb, task.name, tmp)
        save_head(built.model, tmp)
        # where the method can, plain libraries load it on the task's AutoModelFor* class
        route = method.export_auto_class(bb, task.kind, len(task.labels), built.model.head, tmp)
        save_train_hashes(tmp, [(train_ex, task.kind)])  # later target runs check leakage with it
        if route:
            meta = {**meta, "transformers_class": route.auto_class, "transformers_prefix": route.prefix}
        write_module_card(tmp, read_meta_file(write_meta(tmp, meta)), path)
