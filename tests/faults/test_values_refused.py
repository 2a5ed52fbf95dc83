"""Values that must be refused, and refused before any work: prune ages and tasks, merge
weights, evaluation splits, quantization, dtype and device."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from adapterx.api import build_config
from adapterx.errors import AdapterxError
from adapterx.store import DONE_MARKER, META_FILE
from tests.faults.conftest import fails_cleanly


def _complete_module(root: Path) -> Path:
    path = root / "mnli" / "bottleneck-0123456789abcdef"
    path.mkdir(parents=True)
    (path / META_FILE).write_text(json.dumps({"task": "mnli", "method": "bottleneck", "key": "0123456789abcdef",
                                              "created": "2020-01-01T00:00:00"}), encoding="utf-8")
    (path / DONE_MARKER).write_text("2020-01-01T00:00:00", encoding="utf-8")
    return path


@pytest.mark.parametrize("age", ["-5", "nan", "-inf", "inf"])
def test_prune_refuses_a_negative_or_nan_age(cli, tmp_path, age):
    module = _complete_module(tmp_path / "modules")
    result = cli("cache", "prune", "--modules-dir", str(tmp_path / "modules"), f"--older-than={age}")
    fails_cleanly(result, "--older-than")
    assert module.is_dir() and (module / DONE_MARKER).is_file()


def test_prune_refuses_an_unknown_task(cli, tmp_path):
    _complete_module(tmp_path / "modules")
    fails_cleanly(cli("cache", "prune", "--modules-dir", str(tmp_path / "modules"), "--task", "nosuch"),
                  "unknown task 'nosuch'", "mnli")


@pytest.mark.parametrize("weights, needle", [("nan,1", "finite"), ("1,inf", "finite"),
                                             ("1,2,3", "3 values for 2 modules")])
def test_merge_weights_refused_before_any_training(cli, tmp_path, weights, needle):
    result = cli("merge", "--inter", "mnli,siqa", "--target", "xnli", "--weights", weights)
    assert result.exit_code == 2 and needle in result.output and "Traceback" not in result.output, result.output
    assert "training" not in result.output
    assert not (tmp_path / "modules").exists() or not any((tmp_path / "modules").rglob(META_FILE))


def test_eval_split_train_is_refused(cli):
    result = cli("train", "--task", "mnli", "--eval-split", "train")
    assert result.exit_code == 2 and "unknown --eval-split 'train'" in result.output, result.output
    assert "training mnli" not in result.output


@pytest.mark.parametrize("option, value, needle", [
    ("--quant", "3bit", "unknown --quant '3bit'"),
    ("--dtype", "fp8", "unknown --dtype 'fp8'"),
    ("--device", "gpu0", "invalid --device 'gpu0'"),
    ("--device", "cuda:x", "invalid --device 'cuda:x'"),
])
def test_backbone_options_checked_at_config_build(cli, option, value, needle):
    result = cli("train", "--task", "mnli", option, value)
    assert result.exit_code == 2 and needle in result.output, result.output
    assert "English examples" not in result.output  # before the data loaded
    with pytest.raises(AdapterxError, match=needle.split(" '")[0]):
        build_config(overrides={option.lstrip("-"): value})


def test_config_names_match_the_backbone():
    from adapterx import backbone
    from adapterx.configs import run

    assert run.QUANTS == backbone.QUANTS and run.DTYPES == backbone.DTYPES
    for ok in ("auto", "cpu", "cuda", "cuda:1", "mps"):
        assert build_config(overrides={"device": ok}).device == ok
