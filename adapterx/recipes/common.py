"""Pieces the recipes share: resolved settings, head save/load, provenance."""

from __future__ import annotations

import dataclasses
import os
import platform
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from adapterx.backbone import Backbone, resolve_device
from adapterx.configs import HeadSettings, RunConfig
from adapterx.configs.run import LATER_TRAINING_DEFAULTS
from adapterx.methods import method_spec
from adapterx.errors import ModuleMismatchError
from adapterx.evaluation import EvalSettings
from adapterx.heads import TaskModel, build_head
from adapterx.store import HEAD_FILE
from adapterx.tasks import Task
from adapterx.training import TrainSettings, resolve_optim, resolve_select



def train_settings(task: Task, cfg: RunConfig, n_dev: int | None = None) -> TrainSettings:
    """Trainer hyperparameters: the config's values where set, else the task's defaults (`optim`
    auto resolved for the config's device; no length grouping with MLM batches, which are drawn
    per source, so the key says what ran; with `n_dev`, the English dev examples that pick the
    epoch, `select` auto resolved as the training will resolve it)."""
    t = cfg.training
    default_lr = task.learning_rate or method_spec(cfg.method).default_lr
    return TrainSettings(
        learning_rate=t.learning_rate or default_lr, epochs=t.epochs or task.epochs,
        batch_size=t.batch_size, grad_accum=t.grad_accum, warmup_ratio=t.warmup_ratio,
        weight_decay=t.weight_decay, logging_steps=t.logging_steps, seed=cfg.seed,
        save_checkpoints=t.save_checkpoints, gradient_checkpointing=t.gradient_checkpointing,
        optim=resolve_optim(t.optim, resolve_device(cfg.device)),
        group_by_length=t.group_by_length and not cfg.mlm.enabled, lr_scheduler=t.lr_scheduler,
        select=resolve_select(t.select, n_dev) if n_dev is not None else t.select,
        report_to=t.report_to, max_grad_norm=t.max_grad_norm)


def eval_settings(task: Task, cfg: RunConfig) -> EvalSettings:
    """Tokenization and decoding options for evaluation."""
    t = cfg.training
    return EvalSettings(max_seq_length=t.max_seq_length or task.max_seq_length,
                        doc_stride=t.doc_stride or task.doc_stride, batch_size=t.eval_batch_size,
                        n_best=t.n_best, max_answer_length=t.max_answer_length)


# Settings that change how often we log or save, or how fast, not what is learned: kept out of
# cache keys so that changing them reuses finished work.
TRAIN_NOT_IN_KEY = ("logging_steps", "save_checkpoints", "gradient_checkpointing", "report_to")
EVAL_NOT_IN_KEY = ("batch_size",)
# Later settings enter cache keys only when they differ from the value every run had before they
# existed, so those modules keep their keys. These are the *old* defaults: group_by_length became
# true and optim `auto` (fused AdamW on CUDA) on 2026-12-03, so default runs since then carry
# `group_by_length: true` (and on CUDA `optim: adamw_torch_fused`) in their keys, and a run with
# training.group_by_length=false on a CPU finds the modules of earlier default runs.
# Settings added after RunConfig.to_dict() keyed grids are left out of both at the same values.
TRAIN_KEY_ONLY_IF_CHANGED = {"optim": "adamw_torch", "group_by_length": False, "lr_scheduler": "linear",
                             "select": "best", **LATER_TRAINING_DEFAULTS}


def train_key(settings: TrainSettings) -> dict:
    """The part of the training settings that enters cache keys."""
    return {k: v for k, v in asdict(settings).items() if k not in TRAIN_NOT_IN_KEY
            and not (k in TRAIN_KEY_ONLY_IF_CHANGED and v == TRAIN_KEY_ONLY_IF_CHANGED[k])}


def learning_settings(task: Task, cfg: RunConfig, n_dev: int | None = None) -> dict:
    """The part of the training and evaluation settings that decides the result (for cache keys;
    `n_dev`: the English dev set's size, so that `select: auto` is keyed as what it runs)."""
    train = train_key(train_settings(task, cfg, n_dev))
    evals = {k: v for k, v in asdict(eval_settings(task, cfg)).items() if k not in EVAL_NOT_IN_KEY}
    head = cfg.head.key(task.kind)  # only when changed: keys made before head settings existed stay
    return {"train": train, "eval": evals, **({"head": head} if head else {})}


def train_features(task: Task, examples: list[dict], tokenizer, ev: EvalSettings, cfg: RunConfig):
    """Tokenized training features of `examples`, from the feature cache under the modules folder
    when `data.feature_cache` is on (adapterx.data.feature_cache)."""
    from adapterx.data.feature_cache import cached_tokenize

    return cached_tokenize(task, examples, tokenizer, ev.max_seq_length, ev.doc_stride, train=True,
                           cache_root=cfg.modules_dir if cfg.data.feature_cache else None)


def features_and_dev_score(model: TaskModel, bb: Backbone, task: Task, cfg: RunConfig, train_ex: list[dict],
                           dev_ex: list[dict]) -> tuple[Any, Callable[[], float]]:
    """What a training of `model` on `task` needs: its tokenized training features and the English
    dev score that selects the epoch (the task's primary metric on `dev_ex`)."""
    from adapterx.evaluation import evaluate

    ev = eval_settings(task, cfg)

    def dev_score() -> float:
        return evaluate(model, task, dev_ex, bb.tokenizer, ev, bb.device).primary

    return train_features(task, train_ex, bb.tokenizer, ev, cfg), dev_score


def head_spec(task: Task, settings: HeadSettings | None = None) -> dict:
    """What a saved head is, so a loader can check it fits the task it is used for (and, with
    `settings`, rebuild it with the same pooling and dropout)."""
    spec = {"kind": task.kind, "labels": list(task.labels), "num_choices": task.num_choices}
    return {**spec, **settings.spec(task.kind)} if settings is not None else spec


def build_model(bb: Backbone, task: Task, settings: HeadSettings | None = None) -> TaskModel:
    """Encoder + a fresh fp32 head for `task` (`settings`: pooling and dropout; None: the
    defaults), on the backbone's device."""
    settings = settings or HeadSettings()
    head = build_head(task.kind, bb.hidden_size, len(task.labels), settings.dropout)
    # fp32 whatever the base computes in (bf16 weights would round most optimizer steps away):
    # TaskModel casts the hidden states to the head's dtype.
    head.to(device=bb.device, dtype=torch.float32)
    model = TaskModel(bb.model, head, task.kind, settings.pooling)
    if bb.quant != "none":
        # The Trainer must not `.to(device)` a bitsandbytes model (it is placed at load time);
        # it reads this attribute to know.
        from transformers.utils.quantization_config import QuantizationMethod

        model.quantization_method = QuantizationMethod.BITS_AND_BYTES
    return model


def save_head(model: TaskModel, folder: Path) -> None:
    """The head's weights as safetensors."""
    from safetensors.torch import save_file

    save_file({k: v.detach().contiguous().cpu() for k, v in model.head.state_dict().items()},
              str(folder / HEAD_FILE))


def head_fits(saved_spec: dict, task: Task, pooling: str | None = None) -> bool:
    """Whether a saved head can serve `task`: same kind and, for classification, same labels (and,
    given `pooling`, a head trained on vectors pooled that way)."""
    want = head_spec(task)
    same_pooling = pooling is None or HeadSettings.from_spec(saved_spec).spec(task.kind)["pooling"] == \
        HeadSettings(pooling=pooling).spec(task.kind)["pooling"]
    return saved_spec.get("kind") == want["kind"] and same_pooling and (
        want["kind"] != "classification" or saved_spec.get("labels") == want["labels"])


def load_head(model: TaskModel, folder: Path, saved_spec: dict, task: Task) -> None:
    """Load a saved head after checking it was made for this kind of task and label set."""
    from safetensors.torch import load_file

    want = head_spec(task)
    if not head_fits(saved_spec, task):
        raise ModuleMismatchError(
            f"the head saved in {folder} is a {saved_spec.get('kind')} head with labels "
            f"{saved_spec.get('labels')}; task {task.name} needs {want['kind']} with {want['labels']}",
            "evaluate it on a task of the same kind (e.g. an mnli module on xnli, a squad module on xquad)")
    if not (folder / HEAD_FILE).is_file():
        from adapterx.module_meta import missing_file

        raise missing_file(folder / HEAD_FILE, "head weights")
    model.head.load_state_dict(load_file(str(folder / HEAD_FILE)))


def provenance() -> dict:
    """Library versions, git commit and hardware of this process."""
    import adapterx
    import transformers

    versions = {"adapterx": adapterx.__version__, "transformers": transformers.__version__,
                "torch": torch.__version__}
    for mod in ("peft", "adapters", "datasets", "bitsandbytes"):
        try:
            versions[mod] = __import__(mod).__version__
        except Exception:  # noqa: BLE001  (an optional library may be missing or fail to import)
            pass
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5,
                                cwd=Path(adapterx.__file__).parent).stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        commit = None
    versions["git_commit"] = commit
    if torch.cuda.is_available():
        hardware = torch.cuda.get_device_name(0)
    else:
        hardware = f"cpu: {platform.processor() or platform.machine()}, {os.cpu_count()} cores"
    return {"versions": versions, "hardware": hardware}


def asdict(obj) -> dict:
    """dataclasses.asdict for config blocks that may be None."""
    return dataclasses.asdict(obj) if obj is not None else {}


def finished_results(run_dir: Path, same: str = "same config") -> dict:
    """The results.json of a finished run that a command asks for again, said so; and when the
    run was made by another adapterx version or commit, that too (the cache key covers the
    settings, not the code: a rerun in a fresh --output reproduces it with this code)."""
    import json

    from adapterx.report.console import console
    from adapterx.report.results import RESULTS_FILE

    console.print(f"[green]already done[/]: {run_dir} ({same}); showing its results")
    results = json.loads((Path(run_dir) / RESULTS_FILE).read_text(encoding="utf-8"))
    made, now = results.get("versions") or {}, provenance()["versions"]
    differs = [f"{k} {made.get(k)}" for k in ("adapterx", "git_commit") if made.get(k) and made.get(k) != now.get(k)]
    if differs:
        this = " ".join(str(now[k]) for k in ("adapterx", "git_commit") if now.get(k))
        console.print(f"[yellow]note[/]: that run was made by {', '.join(differs)} (this is {this}); "
                      "pass another --output to redo it with this code")
    return results
