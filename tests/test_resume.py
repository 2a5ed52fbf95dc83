"""A training killed with SIGKILL resumes from its last complete checkpoint and ends where an
uninterrupted run ends."""

from __future__ import annotations

import pytest

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from adapterx.presets.tiny import TINY_DATA


def _command(model: Path, modules: Path) -> list[str]:
    return [sys.executable, "-m", "adapterx.cli", "train", "--task", "mnli", "--model", str(model),
            "--data-dir", str(TINY_DATA), "--device", "cpu", "--modules-dir", str(modules),
            "training.epochs=12", "training.batch_size=8", "training.learning_rate=2e-3",
            "training.max_seq_length=64", "bottleneck.reduction_factor=4"]


def _env() -> dict:
    return dict(os.environ, OMP_NUM_THREADS="1", PYTHONWARNINGS="ignore")


def _meta(modules: Path) -> dict:
    (folder,) = [p for p in (modules / "mnli").iterdir() if not p.name.startswith(".")]
    return json.loads((folder / "adapterx.json").read_text())


@pytest.mark.heavy  # over 4 s: CI runs it in its second step
def test_sigkill_then_resume_matches_uninterrupted(tiny_model, tmp_path):
    clean = tmp_path / "clean"
    subprocess.run(_command(tiny_model, clean), check=True, env=_env(), capture_output=True)

    killed = tmp_path / "killed"
    proc = subprocess.Popen(_command(tiny_model, killed), env=_env(), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while time.time() < deadline:  # kill once a complete checkpoint exists, mid-training
        done = list((killed / ".work").glob("*/checkpoint-*/.complete")) if (killed / ".work").is_dir() else []
        if len(done) >= 1:
            break
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert done, "no checkpoint was completed before the deadline"
    assert not (killed / "mnli").exists() or not any(
        p for p in (killed / "mnli").iterdir() if not p.name.startswith(".")), "killed run left a module"

    resumed = subprocess.run(_command(tiny_model, killed), check=True, env=_env(), capture_output=True,
                             text=True)
    assert "resuming from" in resumed.stdout
    a, b = _meta(clean), _meta(killed)
    assert a["key"] == b["key"]
    assert b["metrics"]["dev_history"] == a["metrics"]["dev_history"]
    assert b["metrics"]["english_dev"] == a["metrics"]["english_dev"]
