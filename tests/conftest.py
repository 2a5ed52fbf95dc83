"""Shared fixtures: a tiny random XLM-R built in-process and configs that write under tmp_path."""

from __future__ import annotations

from pathlib import Path

import pytest

from adapterx.api import build_config, quiet_libraries
from adapterx.presets.tiny import TINY_DATA, TINY_OVERRIDES, build_tiny_model

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


@pytest.fixture(scope="session", autouse=True)
def _quiet() -> None:
    quiet_libraries()


@pytest.fixture(autouse=True)
def _no_hub_probe(monkeypatch) -> None:
    """Tests never probe the network; each starts with no remembered probe result."""
    from adapterx import hub_probe

    monkeypatch.setenv(hub_probe.PROBE_ENV, "0")
    monkeypatch.setattr(hub_probe, "_state", {})


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory) -> Path:
    """A tiny XLM-R (2 layers, hidden 64) with a tokenizer trained on the shipped sample data."""
    return build_tiny_model(tmp_path_factory.mktemp("models") / "tiny-xlmr", seed=0)


@pytest.fixture(scope="session")
def other_tiny_model(tmp_path_factory) -> Path:
    """Same shape, different random weights: stands for 'another base model'."""
    return build_tiny_model(tmp_path_factory.mktemp("models") / "tiny-xlmr-other", seed=1)


@pytest.fixture
def make_cfg(tiny_model, tmp_path):
    """RunConfig on the tiny model and sample data, writing under tmp_path; overrides as kwargs."""
    def make(**overrides):
        base = {"model": str(tiny_model), "data_dir": str(TINY_DATA), "device": "cpu",
                "output": str(tmp_path / "runs"), "modules_dir": str(tmp_path / "modules"),
                **TINY_OVERRIDES}
        for section in ("training", "inter"):  # one epoch on 24 examples: plumbing, not accuracy
            base.update({f"{section}.epochs": 1, f"{section}.max_train_examples": 24,
                         f"{section}.save_checkpoints": False})
        base.update({k.replace("__", "."): v for k, v in overrides.items()})
        return build_config(overrides=base)
    return make
