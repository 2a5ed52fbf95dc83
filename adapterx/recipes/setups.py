"""The runners that adapterx.composition.SETUP_RUNNERS names: one per setup, each with the
Runner signature (inter, target, cfg, command) -> results.json dict, each through adapterx.api
(the functions the commands call)."""

from __future__ import annotations

from adapterx import api
from adapterx.configs import RunConfig


def direct(inter: list[str], target: str, cfg: RunConfig, command: str) -> dict:
    """The target module only (`inter` is unused)."""
    return api.direct(target, cfg=cfg, command=command)


def stack(inter: list[str], target: str, cfg: RunConfig, command: str) -> dict:
    """Intermediate modules + a new target module."""
    return api.stack(inter, target, cfg=cfg, command=command)


def sequential(inter: list[str], target: str, cfg: RunConfig, command: str) -> dict:
    """One intermediate module continues training on the target."""
    return api.sequential(inter, target, cfg=cfg, command=command)


def fuse(inter: list[str], target: str, cfg: RunConfig, command: str) -> dict:
    """AdapterFusion / LoRA fusion of the intermediate modules."""
    return api.fuse(inter, target, cfg=cfg, command=command)


def merge(inter: list[str], target: str, cfg: RunConfig, command: str) -> dict:
    """The intermediate modules merged into one, a target module on top."""
    return api.merge(inter, target, cfg=cfg, command=command)


def multitask(inter: list[str], target: str, cfg: RunConfig, command: str) -> dict:
    """One module trained on all intermediate tasks, a target module on top."""
    return api.multitask(inter, target, cfg=cfg, command=command)


def finetune(inter: list[str], target: str, cfg: RunConfig, command: str) -> dict:
    """Full fine-tuning: full-stilts over `inter`, full-direct without."""
    return api.finetune(target, inter=inter, cfg=cfg, command=command)


def translate_test(inter: list[str], target: str, cfg: RunConfig, command: str) -> dict:
    """The target model on English machine translations of the test sets."""
    return api.translate_test(target, inter=inter, cfg=cfg, command=command)
