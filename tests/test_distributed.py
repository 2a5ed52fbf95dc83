"""Data-parallel training under a multi-process launcher (torchrun, which `accelerate launch`
uses on GPUs): both ranks train one module together, only the main rank writes and locks, and
the launch neither deadlocks on the cache lock nor leaves a second copy."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from adapterx.presets.tiny import TINY_DATA


def test_two_rank_launch_trains_one_module_and_writes_it_once(tiny_model, tmp_path):
    modules = tmp_path / "modules"
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_port", "29533",
           "-m", "adapterx.cli", "train", "--task", "mnli", "--model", str(tiny_model), "--data-dir",
           str(TINY_DATA), "--device", "cpu", "--modules-dir", str(modules), "training.epochs=2",
           "training.max_seq_length=64", "training.batch_size=8"]
    done = subprocess.run(cmd, env=dict(os.environ, OMP_NUM_THREADS="1", PYTHONWARNINGS="ignore"),
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    folders = [p for p in (modules / "mnli").iterdir() if not p.name.startswith(".")]
    assert len(folders) == 1 and (folders[0] / ".complete").is_file()
    assert not [p for p in (modules / "mnli").iterdir() if ".tmp-" in p.name]
    assert done.stdout.count(str(folders[0])) >= 2  # each rank prints the module it ended with
    meta = json.loads((folders[0] / "adapterx.json").read_text())
    # 63 tiny MNLI examples, batch 8, 2 epochs: 16 steps on one process, 8 per rank on two
    assert len(meta["metrics"]["dev_history"]) == 2  # dev-scored after each of the 2 epochs
    progress = done.stdout + done.stderr
    assert "8/8" in progress and "16/16" not in progress  # the ranks split the batches
