"""No traceback on any input: disk errors, undecodable files, overflowing values and bugs."""

from __future__ import annotations

import errno
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from adapterx.presets.tiny import TINY_DATA
from adapterx.store import is_complete
from tests.faults.conftest import fails_cleanly


def _leftovers(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if ".tmp-" in p.name] if root.exists() else []


def test_a_file_where_the_modules_folder_must_go(cli, tmp_path):
    (tmp_path / "modules").write_text("not a folder")
    fails_cleanly(cli("train", "--task", "mnli"), "a file is in the way", "modules")


def test_a_file_where_the_output_folder_must_go(cli, tmp_path):
    (tmp_path / "runs").write_text("not a folder")
    fails_cleanly(cli("grid", str(_grid_file(tmp_path, "seeds: [0]")), "--preset", "tiny",
                      "--output", str(tmp_path / "runs")), "a file is in the way")


def test_read_only_modules_folder(cli, tmp_path, monkeypatch):
    # root ignores chmod: the read-only file system is simulated where the folder is made
    real_mkdir = Path.mkdir

    def mkdir(self, *args, **kwargs):
        if str(self).startswith(str(tmp_path / "modules")):
            raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(self))
        return real_mkdir(self, *args, **kwargs)

    monkeypatch.setattr(Path, "mkdir", mkdir)
    fails_cleanly(cli("train", "--task", "mnli"), "cannot write", "Read-only file system", "--modules-dir")


def test_disk_full_while_saving_a_module(cli, tmp_path, monkeypatch):
    """ENOSPC in the middle of a module's save: the half-written folder goes, the message says how
    much had been written, a module finished before stays complete and the rerun goes on."""
    first = cli("train", "--task", "mnli")
    assert first.exit_code == 0, first.output
    finished = Path(first.output.strip().splitlines()[-1])
    assert is_complete(finished)

    import adapterx.recipes.train_module as train_module

    real = train_module.save_train_hashes

    def full_disk(folder, *args, **kwargs):
        (Path(folder) / "partial.bin").write_bytes(b"x" * 4096)
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(Path(folder) / "train_hashes"))

    monkeypatch.setattr(train_module, "save_train_hashes", full_disk)
    result = cli("train", "--task", "mnli", "seed=1")
    fails_cleanly(result, "no space left on the device", "free at least", "so far")
    assert "4.0 KB" in result.output or "KB so far" in result.output
    assert _leftovers(tmp_path / "modules") == []
    assert is_complete(finished)
    assert not any(is_complete(p) for p in finished.parent.iterdir() if p != finished and p.is_dir())

    monkeypatch.setattr(train_module, "save_train_hashes", real)
    again = cli("train", "--task", "mnli", "seed=1")
    assert again.exit_code == 0 and is_complete(Path(again.output.strip().splitlines()[-1]))


def test_yaml_config_that_is_not_utf8(cli, tmp_path):
    config = tmp_path / "bad.yaml"
    config.write_bytes(b"training:\n  epochs: 1\n  learning_rate: \"\xff\xfe\"\n")
    fails_cleanly(cli("train", "--task", "mnli", "--config", str(config)), f"{config}, line 3", "UTF-8")


def test_data_file_that_is_not_utf8(cli, tmp_path):
    data = tmp_path / "data"
    shutil.copytree(TINY_DATA, data)
    train = data / "mnli" / "train.tsv"
    lines = train.read_bytes().split(b"\n")
    lines[4] = lines[4].replace(b"Clara", b"Cl\xe9ra", 1) if b"Clara" in lines[4] else lines[4] + b"\xe9"
    train.write_bytes(b"\n".join(lines))
    fails_cleanly(cli("train", "--task", "mnli", "--data-dir", str(data)), "train.tsv, line 5", "UTF-8")


@pytest.mark.parametrize("override, needle", [
    ("training.epochs=1e308", "training.epochs must be at most"),
    ("training.learning_rate=1e300", "training.learning_rate must be at most"),
    ("training.batch_size=100000000000000000000", "training.batch_size must be at most"),
])
def test_huge_values_are_bounded(cli, override, needle):
    result = cli("train", "--task", "mnli", override)
    assert result.exit_code == 2 and needle in result.output and "Traceback" not in result.output, result.output
    assert "training mnli" not in result.output  # refused before any training


def _grid_file(tmp_path: Path, seeds: str) -> Path:
    path = tmp_path / "exp.yaml"
    path.write_text(f"name: exp\nintermediate: [mnli]\ntargets: [xnli]\nsetups: [direct]\n{seeds}\n",
                    encoding="utf-8")
    return path


@pytest.mark.parametrize("seeds", ["seeds: [a]", "seeds: [1.5]", "seeds: [-1]", "seeds: [99999999999]"])
def test_grid_seeds_must_be_integers(cli, tmp_path, seeds):
    result = cli("grid", str(_grid_file(tmp_path, seeds)), "--dry-run", "--output", str(tmp_path / "runs"))
    fails_cleanly(result, "seed")


def test_an_internal_bug_is_reported_with_a_log(cli, tmp_path, monkeypatch):
    import adapterx.api as api

    def broken(*args, **kwargs):
        raise ZeroDivisionError("something adapterx got wrong")

    monkeypatch.setattr(api, "train", broken)
    result = cli("train", "--task", "mnli")
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    assert "error: internal error (ZeroDivisionError: something adapterx got wrong)" in result.output
    assert "please report" in result.output
    logs = list((tmp_path / "logs").glob("crash-*.log"))
    assert len(logs) == 1 and str(logs[0]) in result.output
    text = logs[0].read_text(encoding="utf-8")
    assert "Traceback" in text and "ZeroDivisionError" in text and "command: adapterx" in text


@pytest.mark.faults
def test_tiny_disk_fills_up(tiny_model, tmp_path):
    """A real 64 KB tmpfs as the modules folder: the module does not fit; exit 2, no leftovers."""
    mount = tmp_path / "tiny-disk"
    mount.mkdir()
    made = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mount)],
                          capture_output=True, text=True)
    if made.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {made.stderr.strip()}")
    try:
        from tests.faults.conftest import FAST

        result = subprocess.run(
            [sys.executable, "-m", "adapterx.cli", "train", "--task", "mnli", "--model", str(tiny_model),
             "--data-dir", str(TINY_DATA), "--device", "cpu", "--modules-dir", str(mount),
             "--output", str(tmp_path / "runs"), *FAST],
            capture_output=True, text=True, cwd=Path(__file__).resolve().parents[2], timeout=600)
        out = result.stdout + result.stderr
        assert result.returncode == 2, out
        assert "no space left on the device" in out and "fix:" in out and "Traceback" not in out
        assert _leftovers(mount) == []
    finally:
        subprocess.run(["umount", str(mount)], check=False)


def test_disk_full_while_saving_a_checkpoint(cli, tmp_path, monkeypatch):
    """ENOSPC while the Trainer writes a checkpoint: the unmarked checkpoint is removed."""
    import safetensors.torch

    def full_disk(tensors, filename, *args, **kwargs):
        Path(filename).write_bytes(b"x" * 2048)
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), filename)

    monkeypatch.setattr(safetensors.torch, "save_file", full_disk)
    result = cli("train", "--task", "mnli", "training.save_checkpoints=true")
    fails_cleanly(result, "no space left on the device", "2.0 KB so far")
    work = tmp_path / "modules" / ".work"
    assert not work.exists() or not list(work.rglob("checkpoint-*"))


def test_network_errors_are_not_internal_errors(cli, monkeypatch):
    import adapterx.api as api

    def offline(*args, **kwargs):
        raise ConnectionError("Max retries exceeded with url: /api/datasets/nyu-mll/glue")

    monkeypatch.setattr(api, "train", offline)
    fails_cleanly(cli("train", "--task", "mnli"), "ConnectionError: Max retries", "network connection")
