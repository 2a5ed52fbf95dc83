"""Every CLI command as a documented Python function (`from adapterx import fuse`)."""

from __future__ import annotations

import logging
import os
import warnings
from pathlib import Path
from typing import Any

from adapterx.configs import RunConfig, apply_overrides, load_yaml_config

PRESETS = ("tiny",)


def quiet_libraries() -> None:
    """Silence the per-call warnings of libraries (bitsandbytes on CPU warns on every matmul)."""
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    warnings.filterwarnings("ignore", message=".*MatMul8bitLt.*")
    warnings.filterwarnings("ignore", message=".*inputs will be cast from.*")
    warnings.filterwarnings("ignore", message=".*`torch_dtype` is deprecated.*")
    warnings.filterwarnings("ignore", message=".*There are adapters available but none are activated.*")
    for name in ("bitsandbytes", "adapters", "transformers.modeling_utils", "peft", "datasets"):
        logging.getLogger(name).setLevel(logging.ERROR)
    try:
        import datasets

        datasets.disable_progress_bars()  # per-language tokenization bars drown the tables
        from transformers.utils import logging as hf_logging

        hf_logging.set_verbosity_error()
    except ImportError:
        pass


def build_config(preset: str | None = None, config_file: str | None = None,
                 overrides: dict[str, Any] | None = None, **options: Any) -> RunConfig:
    """Defaults <- preset <- YAML file <- explicit options <- key=value overrides."""
    from adapterx.errors import UnknownChoiceError

    cfg = RunConfig()
    if preset:
        if preset not in PRESETS:
            raise UnknownChoiceError("preset", preset, PRESETS)
        from adapterx.presets.tiny import TINY_DATA, TINY_OVERRIDES, tiny_model_dir

        apply_overrides(cfg, {"model": str(tiny_model_dir()), "data_dir": str(TINY_DATA),
                              "device": "cpu", **TINY_OVERRIDES})
    if config_file:
        apply_overrides(cfg, load_yaml_config(config_file))
    apply_overrides(cfg, {k: v for k, v in options.items() if v is not None})
    if overrides:
        apply_overrides(cfg, overrides)
    from adapterx.methods import METHOD_NAMES

    if cfg.method not in METHOD_NAMES:
        raise UnknownChoiceError("method", cfg.method, METHOD_NAMES)
    if cfg.data_dir and not Path(cfg.data_dir).is_dir():
        from adapterx.errors import DataError

        raise DataError(f"--data-dir {cfg.data_dir} is not a folder",
                        hint="pass the folder you unpacked the datasets into (layout in the README)")
    return cfg


def _cfg(cfg: RunConfig | None, options: dict[str, Any]) -> RunConfig:
    quiet_libraries()
    return cfg if cfg is not None else build_config(**options)


def train(task: str, cfg: RunConfig | None = None, **options: Any) -> Path:
    """Train one English intermediate module (or reuse the cached one); return its folder.

    `options` are RunConfig fields (model=, method=, quant=, ...), `preset=`, `config_file=`,
    `overrides={key: value}`."""
    from adapterx.recipes.train_module import train_module

    return train_module(task, _cfg(cfg, options)).path


def _target(setup: str, inter: list[str] | str, target: str, cfg: RunConfig | None,
            command: str, options: dict[str, Any]) -> dict:
    from adapterx.recipes.target import run_target

    names = [t.strip() for t in inter.split(",")] if isinstance(inter, str) else list(inter)
    return run_target(setup, [n for n in names if n], target, _cfg(cfg, options), command)


def fuse(inter: list[str] | str, target: str, cfg: RunConfig | None = None, command: str = "",
         **options: Any) -> dict:
    """AdapterFusion of the intermediate modules, trained on the target's English data, then
    zero-shot evaluation on every target language; returns the results.json dict."""
    return _target("fuse", inter, target, cfg, command, options)


def stack(inter: list[str] | str, target: str, cfg: RunConfig | None = None, command: str = "",
          **options: Any) -> dict:
    """Intermediate modules (frozen) with a new target module stacked on top; zero-shot table."""
    return _target("stack", inter, target, cfg, command, options)


def direct(target: str, cfg: RunConfig | None = None, command: str = "", **options: Any) -> dict:
    """Baseline: the target module alone, no intermediate task."""
    return _target("direct", [], target, cfg, command, options)


def evaluate(run: str | None = None, module: str | None = None, target: str | None = None,
             cfg: RunConfig | None = None, command: str = "", model: str | None = None,
             **options: Any) -> dict:
    """Zero-shot evaluation of a finished run (`run=`) or a module (`module=`, `target=`); the base
    is the one the module was trained on unless `model=` names another."""
    from adapterx.recipes.evaluate import evaluate_path

    return evaluate_path(_cfg(cfg, options), run=run, module=module, target=target, command=command,
                         model=model)


def tasks(kind: str | None = None) -> list[dict]:
    """The registered tasks (optionally one head kind) as plain data."""
    from adapterx.errors import UnknownChoiceError
    from adapterx.tasks import HEAD_KINDS, all_tasks

    if kind is not None and kind not in HEAD_KINDS:
        raise UnknownChoiceError("task kind", kind, HEAD_KINDS)
    rows = []
    for task in all_tasks().values():
        if kind is None or task.kind == kind:
            rows.append({"name": task.name, "kind": task.kind, "metric": task.metric,
                         "role": "target" if task.is_target else "intermediate",
                         "languages": list(task.languages), "train_from": task.train_task,
                         "local_files": dict(task.local_files), "hub": task.hub,
                         "description": task.description})
    return rows
