"""Consistency on disk: module keys follow the base's weights, grid state merged under a lock,
leftovers of killed runs pruned."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from adapterx.errors import ModuleMismatchError
from adapterx.store import check_base, is_complete
from tests.faults.conftest import FAST


def _trained(result) -> Path:
    assert result.exit_code == 0, result.output
    return Path(result.output.strip().splitlines()[-1])


def test_module_keys_follow_the_weights_not_the_path(cli, tiny_model, other_tiny_model, tmp_path):
    base = tmp_path / "base"
    shutil.copytree(tiny_model, base)
    first = _trained(cli("train", "--task", "mnli", model=base))

    shutil.rmtree(base)  # another model put at the same path
    shutil.copytree(other_tiny_model, base)
    second = cli("train", "--task", "mnli", model=base)
    assert "nothing to do" not in second.output
    assert _trained(second) != first

    elsewhere = tmp_path / "moved" / "same-weights"  # the first weights, at another path
    shutil.copytree(tiny_model, elsewhere)
    again = cli("train", "--task", "mnli", model=elsewhere)
    assert "reusing" in again.output and _trained(again) == first and is_complete(first)


def test_a_changed_base_at_the_same_path_says_so():
    meta = {"base_model": {"name": "/models/base", "fingerprint": {"hidden_size": 64, "embedding_hash": "aa"}}}
    with pytest.raises(ModuleMismatchError, match="the base model at '/models/base' changed since") as info:
        check_base(meta, {"hidden_size": 64, "embedding_hash": "bb"}, "/models/base", Path("m"))
    assert "embedding_hash" in str(info.value) and "not on" not in str(info.value)


def test_two_grid_runs_on_one_output_keep_every_cell(tmp_path, monkeypatch):
    """The second run starts and finishes while the first one runs its cell: both cells stay."""
    from adapterx.api import build_config
    from adapterx.presets.tiny import TINY_DATA
    from adapterx.recipes import grid

    spec = tmp_path / "exp.yaml"
    spec.write_text("name: exp\nintermediate: [mnli]\ntargets: [xnli]\nsetups: [direct, stack]\n",
                    encoding="utf-8")
    cfg = build_config(overrides={"data_dir": str(TINY_DATA), "output": str(tmp_path / "runs"), "device": "cpu"})
    nested = []

    def fake_cell(cell, cell_cfg, command=""):
        if cell.setup == "direct" and not nested:  # the other run, meanwhile
            nested.append(grid.run_grid(str(spec), cfg, setups=["stack"]))
        return {"target": cell.target, "average": 1.0}

    monkeypatch.setattr(grid, "run_cell", fake_cell)
    grid.run_grid(str(spec), cfg, setups=["direct"])
    cells = json.loads((tmp_path / "runs" / "grid-exp" / "state.json").read_text(encoding="utf-8"))["cells"]
    assert len(cells) == 2, cells  # the direct cell and the stack cell
    assert {r["status"] for r in cells.values()} == {"done"}


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_prune_incomplete_clears_leftovers_of_killed_runs(cli, tmp_path):
    runs = tmp_path / "runs"
    leftover = runs / "xnli" / f".stack-mnli-bottleneck-s0-0123abcd.tmp-{_dead_pid()}-abc123"
    leftover.mkdir(parents=True)
    (leftover / "results.json").write_text("{", encoding="utf-8")
    work = runs / ".work" / "0123abcd0123abcd0123"
    work.mkdir(parents=True)
    finished = runs / "xnli" / "direct-bottleneck-s0-89abcdef"
    finished.mkdir()
    (finished / "results.json").write_text("{}", encoding="utf-8")
    (finished / ".complete").write_text("", encoding="utf-8")
    running = runs / "xnli" / f".direct-bottleneck-s0-fedcba98.tmp-{os.getpid()}-def456"  # writer alive
    running.mkdir()

    result = cli("cache", "prune", "--incomplete", "--modules-dir", str(tmp_path / "modules"), "--output", str(runs))
    assert result.exit_code == 0, result.output
    assert not leftover.exists() and not work.exists()
    assert finished.is_dir() and running.is_dir()


@pytest.mark.faults
def test_killed_while_saving_leaves_no_module_and_resumes(tiny_model, tmp_path):
    """SIGKILL in the middle of a module's save: no module folder, only a temp folder that
    `cache prune --incomplete` removes; the rerun trains and saves the module."""
    from adapterx.presets.tiny import TINY_DATA

    repo = Path(__file__).resolve().parents[2]
    args = ["train", "--task", "mnli", "--model", str(tiny_model), "--data-dir", str(TINY_DATA), "--device", "cpu",
            "--modules-dir", str(tmp_path / "modules"), "--output", str(tmp_path / "runs"), *FAST]
    kill_during_save = (
        "import os, signal, sys\n"
        "import adapterx.recipes.train_module as t\n"
        "def killed(*a, **k):\n    os.kill(os.getpid(), signal.SIGKILL)\n"
        "t.save_head = killed\n"
        "from adapterx.cli import main\n"
        f"sys.argv = ['adapterx', *{args!r}]\nmain()\n")
    proc = subprocess.run([sys.executable, "-c", kill_during_save], cwd=repo, capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == -signal.SIGKILL
    modules = tmp_path / "modules" / "mnli"
    assert [p for p in modules.iterdir() if not p.name.startswith(".")] == []
    assert any(".tmp-" in p.name for p in modules.iterdir())

    pruned = subprocess.run([sys.executable, "-m", "adapterx.cli", "cache", "prune", "--incomplete",
                             "--modules-dir", str(tmp_path / "modules"), "--output", str(tmp_path / "runs")],
                            cwd=repo, capture_output=True, text=True, timeout=300)
    assert pruned.returncode == 0, pruned.stderr
    assert not any(".tmp-" in p.name for p in modules.iterdir())
    again = subprocess.run([sys.executable, "-m", "adapterx.cli", *args], cwd=repo, capture_output=True,
                           text=True, timeout=600)
    assert again.returncode == 0, again.stderr
    assert is_complete(Path(again.stdout.strip().splitlines()[-1]))
