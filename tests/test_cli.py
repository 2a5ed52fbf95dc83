"""The command line: exit codes and messages for bad input (2, choices listed, no traceback)."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from adapterx.cli import main
from adapterx.presets.tiny import TINY_DATA


@pytest.fixture
def run_cli(tiny_model, tmp_path):
    def run(*args: str, env: dict | None = None):
        base = ["--model", str(tiny_model), "--data-dir", str(TINY_DATA), "--device", "cpu",
                "--output", str(tmp_path / "runs"), "--modules-dir", str(tmp_path / "modules")]
        words = list(args)
        if words and words[0] in ("train", "fuse", "stack", "direct", "eval") and "--model" not in words:
            words = words[:1] + base + words[1:]
        return CliRunner().invoke(main, words, env=env)
    return run


def _fails_cleanly(result, *needles: str) -> None:
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    for needle in needles:
        assert needle in result.output, result.output


def test_tasks_lists_the_registry(run_cli):
    result = run_cli("tasks")
    assert result.exit_code == 0 and "tydiqa" in result.output and "xcopa" in result.output


def test_unknown_task(run_cli):
    _fails_cleanly(run_cli("train", "--task", "sqaud"), "unknown task 'sqaud'", "squad", "mnli")


def test_target_is_not_trainable_as_intermediate(run_cli):
    _fails_cleanly(run_cli("train", "--task", "xnli"), "--task mnli")


def test_unknown_language(run_cli):
    _fails_cleanly(run_cli("fuse", "--inter", "squad", "--target", "tydiqa", "--langs", "de"),
                   "unknown language", "'de'", "sw", "te")


def test_unknown_method_and_option(run_cli):
    _fails_cleanly(run_cli("train", "--task", "mnli", "--method", "bitfit"), "bottleneck", "full", "lora")
    _fails_cleanly(run_cli("train", "--task", "mnli", "--lr", "1"), "No such option")
    _fails_cleanly(run_cli("train", "--task", "mnli", "lr=1"), "unknown config key", "training.learning_rate")
    _fails_cleanly(run_cli("train", "--task", "mnli", "training.batch_size=zero"), "expected int")


def test_full_fuse_names_what_works(run_cli):
    _fails_cleanly(run_cli("fuse", "--inter", "squad,mnli", "--target", "tydiqa", "--method", "full"),
                   "cannot run the fuse setup", "bottleneck, lora")


def test_missing_local_file_names_it(run_cli, tmp_path):
    (tmp_path / "empty").mkdir()
    result = run_cli("train", "--task", "squad", "--model", "x", "--data-dir", str(tmp_path / "empty"))
    _fails_cleanly(result, "train-v1.1.json")


def test_module_from_another_base(run_cli, other_tiny_model, tmp_path):
    trained = run_cli("train", "--task", "mnli", "training.epochs=1", "training.max_train_examples=8")
    assert trained.exit_code == 0, trained.output
    module = trained.output.strip().splitlines()[-1]
    result = run_cli("eval", "--module", module, "--target", "xnli", "--model", str(other_tiny_model),
                     "--eval-split", "dev", "--langs", "de")
    _fails_cleanly(result, "trained on base model", "--model")


@pytest.mark.heavy  # over 4 s: CI runs it in its second step
def test_hub_unreachable_names_local_alternatives(run_cli, tiny_model, tmp_path):
    offline = {"HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"}
    result = CliRunner().invoke(main, ["train", "--task", "mnli", "--model", str(tiny_model), "--device", "cpu",
                                       "--modules-dir", str(tmp_path / "m")], env=offline)
    _fails_cleanly(result, "--data-dir")
    result = CliRunner().invoke(main, ["train", "--task", "mnli", "--model", "nobody/no-such-model",
                                       "--data-dir", str(TINY_DATA), "--modules-dir", str(tmp_path / "m")],
                                env=offline)
    _fails_cleanly(result, "--model DIR")
