"""Hostile files for the security tests: pickles whose unpickling creates a marker file, and
module folders built in-process on the tiny model (no training)."""

from __future__ import annotations

import shutil
from pathlib import Path

import torch

from adapterx.backbone import load_backbone
from adapterx.configs.methods import BottleneckSettings, LoraSettings
from adapterx.methods import get_method
from adapterx.presets.tiny import TINY_DATA
from adapterx.recipes.common import build_model, head_spec, save_head
from adapterx.store import atomic_dir, write_json_atomic
from adapterx.tasks import get_task

KEY = "0123456789abcdef"


class Payload:
    """Unpickling this object opens (creates) the marker file: code ran."""

    def __init__(self, marker: Path) -> None:
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def write_pickle(path: Path, marker: Path) -> Path:
    """A torch.save file whose unpickling creates `marker`."""
    torch.save({"weight": Payload(marker)}, path)
    return path


def build_module(tiny_model: Path, root: Path, method: str, task_name: str = "mnli") -> Path:
    """A complete module folder as `adapterx train` writes it (untrained weights)."""
    bb = load_backbone(str(tiny_model), device="cpu")
    m = get_method(method)
    m.prepare(bb)
    m.add(bb, task_name, LoraSettings(r=4) if method == "lora" else BottleneckSettings(reduction_factor=4))
    task = get_task(task_name)
    model = build_model(bb, task)
    path = root / task_name / f"{method}-{KEY}"
    with atomic_dir(path) as tmp:
        m.save(bb, task_name, tmp)
        save_head(model, tmp)
        write_json_atomic(tmp / "adapterx.json", {
            "schema_version": 1, "kind": "module", "task": task_name, "method": method, "key": KEY,
            "head": head_spec(task),
            "base_model": {"name": str(tiny_model), "fingerprint": bb.fingerprint, "quant": "none"}})
    return path


def copy_module(template: Path, dest_root: Path) -> Path:
    """A private copy of a template module (same relative layout)."""
    dest = dest_root / template.parent.name / template.name
    shutil.copytree(template, dest)
    return dest


def eval_argv(module: Path, out: Path, target: str = "xnli") -> list[str]:
    """`adapterx eval --module` on the sample data, one language."""
    return ["eval", "--module", str(module), "--target", target, "--langs", "de", "--data-dir", str(TINY_DATA),
            "--device", "cpu", "--output", str(out), "--max-eval-examples", "8"]
