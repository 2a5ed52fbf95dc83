"""Interruptions and concurrency with real processes: a target run killed mid-training or in the
middle of a checkpoint save resumes and ends with the uninterrupted run's results.json; two
processes that need the same module train it once."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from adapterx.presets.tiny import TINY_DATA

# Dies (like SIGKILL: no cleanup, no atexit) at the second checkpoint save, at the stage named by
# ADAPTERX_TEST_DIE_AT: "weights" right after the trainable weights are written, "marker" after the
# Trainer's whole save (and its rotation of old checkpoints) but before adapterx marks it complete.
_DYING = textwrap.dedent("""
    import os, sys
    import adapterx.training as t
    stage, calls = os.environ["ADAPTERX_TEST_DIE_AT"], {"n": 0}
    if stage == "weights":
        real = t._ModuleTrainer._save
        def patched(self, output_dir=None, state_dict=None):
            real(self, output_dir, state_dict)
            if output_dir and "checkpoint-" in str(output_dir):
                calls["n"] += 1
                if calls["n"] == 2:
                    os._exit(137)
        t._ModuleTrainer._save = patched
    else:
        real = t._SelectOnDev.save
        def patched(self, ckpt):
            calls["n"] += 1
            if calls["n"] == 2:
                os._exit(137)
            real(self, ckpt)
        t._SelectOnDev.save = patched
    from adapterx.cli import main
    sys.argv = ["adapterx", *sys.argv[1:]]
    main()
""")


def _direct(model: Path, root: Path) -> list[str]:
    return ["direct", "--target", "xcopa", "--langs", "et,ht", "--model", str(model), "--data-dir", str(TINY_DATA),
            "--device", "cpu", "--output", str(root / "runs"), "--modules-dir", str(root / "modules"),
            "training.epochs=3", "training.batch_size=4", "training.learning_rate=2e-3",
            "training.max_seq_length=64", "bottleneck.reduction_factor=4"]


def _env() -> dict:
    return dict(os.environ, OMP_NUM_THREADS="1", PYTHONWARNINGS="ignore")


def _results(root: Path) -> dict:
    (path,) = (root / "runs" / "xcopa").glob("*/results.json")
    return json.loads(path.read_text())


def _same_outcome(a: dict, b: dict) -> None:
    assert a["config_hash"] == b["config_hash"]
    for key in ("per_language", "average", "english_dev", "dev_history"):
        assert a[key] == b[key], key


@pytest.fixture(scope="module")
def clean_results(tiny_model, tmp_path_factory) -> dict:
    """The uninterrupted run every interrupted one must reproduce (run once for the module)."""
    root = tmp_path_factory.mktemp("clean")
    subprocess.run([sys.executable, "-m", "adapterx.cli", *_direct(tiny_model, root)], check=True, env=_env(),
                   capture_output=True)
    return _results(root)


def test_target_run_killed_mid_training_resumes_to_the_same_results(tiny_model, tmp_path, clean_results):
    root = tmp_path / "killed"
    proc = subprocess.Popen([sys.executable, "-m", "adapterx.cli", *_direct(tiny_model, root)], env=_env(),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    work = root / "runs" / ".work"
    deadline, done = time.time() + 180, []
    while time.time() < deadline and proc.poll() is None:  # kill once a checkpoint is complete
        done = list(work.glob("*/checkpoint-*/.complete")) if work.is_dir() else []
        if done:
            break
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert done, "no checkpoint was completed before the deadline"
    assert not list((root / "runs").glob("xcopa/*/results.json")), "a killed run left results behind"
    resumed = subprocess.run([sys.executable, "-m", "adapterx.cli", *_direct(tiny_model, root)], check=True,
                             env=_env(), capture_output=True, text=True)
    assert "resuming from" in resumed.stdout
    _same_outcome(_results(root), clean_results)


@pytest.mark.parametrize("stage", ["weights", "marker"])
def test_killed_during_a_checkpoint_save_resumes_from_the_last_complete_one(tiny_model, tmp_path, clean_results,
                                                                           stage):
    root = tmp_path / stage
    dying = subprocess.run([sys.executable, "-c", _DYING, *_direct(tiny_model, root)], env={
        **_env(), "ADAPTERX_TEST_DIE_AT": stage}, capture_output=True, text=True)
    assert dying.returncode == 137, dying.stderr[-2000:]
    (work,) = (root / "runs" / ".work").iterdir()
    checkpoints = sorted(work.glob("checkpoint-*"), key=lambda p: int(p.name.split("-")[1]))
    # the first checkpoint is complete and still there; the second, cut short, is not marked
    assert [(p / ".complete").is_file() for p in checkpoints] == [True, False]
    resumed = subprocess.run([sys.executable, "-m", "adapterx.cli", *_direct(tiny_model, root)], check=True,
                             env=_env(), capture_output=True, text=True)
    # (the console wraps long paths: compare without whitespace)
    assert f"resumingfrom{checkpoints[0]}" in "".join(resumed.stdout.split())
    _same_outcome(_results(root), clean_results)


@pytest.mark.heavy  # over 4 s: CI runs it in its second step
def test_two_processes_needing_one_module_train_it_once(tiny_model, tmp_path):
    cmd = [sys.executable, "-m", "adapterx.cli", "train", "--task", "mnli", "--model", str(tiny_model),
           "--data-dir", str(TINY_DATA), "--device", "cpu", "--modules-dir", str(tmp_path / "modules"),
           "training.epochs=3", "training.max_seq_length=64"]
    procs = [subprocess.Popen(cmd, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
             for _ in range(2)]
    outputs = [p.communicate(timeout=300)[0] for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outputs
    joined = [" ".join(o.split()) for o in outputs]
    assert sum("training mnli" in o for o in joined) == 1, joined  # one trained ...
    assert sum("reusing mnli" in o for o in joined) == 1, joined  # ... the other waited and reused it
    modules = [p for p in (tmp_path / "modules" / "mnli").iterdir() if not p.name.startswith(".")]
    assert len(modules) == 1 and (modules[0] / ".complete").is_file()
    printed = {o.strip().splitlines()[-1] for o in outputs}  # both print the same module folder
    assert printed == {str(modules[0])}
