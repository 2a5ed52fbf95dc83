"""Fault probes: the CLI run in-process on the tiny model, with fast training settings."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from adapterx.cli import main
from adapterx.presets.tiny import TINY_DATA, TINY_OVERRIDES

FAST = [f"{k}={v}" for k, v in TINY_OVERRIDES.items()] + [
    f"{section}.{key}" for section in ("training", "inter")
    for key in ("epochs=1", "max_train_examples=24", "save_checkpoints=false", "max_dev_examples=8")]
RUN_COMMANDS = ("train", "fuse", "stack", "merge", "direct", "eval", "compare", "multitask")


@pytest.fixture
def cli(tiny_model, tmp_path, monkeypatch):
    """Run `adapterx ...` in-process; training commands get the tiny model, sample data and
    folders under tmp_path (unless the words name their own)."""
    monkeypatch.setenv("ADAPTERX_LOG_DIR", str(tmp_path / "logs"))

    def run(*args: str, model: Path | str | None = None):
        words = list(args)
        if words and words[0] in RUN_COMMANDS:
            base = {"--model": str(model or tiny_model), "--data-dir": str(TINY_DATA), "--device": "cpu",
                    "--output": str(tmp_path / "runs"), "--modules-dir": str(tmp_path / "modules")}
            extra = [w for k, v in base.items() if k not in words for w in (k, v)]
            words = words[:1] + extra + FAST + words[1:]  # the test's own overrides win
        return CliRunner().invoke(main, words)
    return run


def fails_cleanly(result, *needles: str) -> None:
    """Exit 2, an `error:` line and a `fix:` line, the needles, and no traceback."""
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output, result.output
    assert "error:" in result.output and "fix:" in result.output, result.output
    for needle in needles:
        assert needle in result.output, result.output
    assert not isinstance(result.exception, Exception) or isinstance(result.exception, SystemExit)
