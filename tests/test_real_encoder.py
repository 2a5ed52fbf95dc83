"""Integration on the real multilingual e5-small encoder and real data samples (marker: slow).

Needs `python ../shared/tools/build_e5_small.py DIR` once and ADAPTERX_E5_DIR=DIR; run with
`python -m pytest -m slow`."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from adapterx.api import build_config, direct, stack, train

from .conftest import SHARED_DATA

E5 = os.environ.get("ADAPTERX_E5_DIR")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not E5 or not Path(E5, "config.json").is_file(), reason="set ADAPTERX_E5_DIR"),
    pytest.mark.skipif(not SHARED_DATA.is_dir(), reason="../shared/data is absent"),
]


def test_siqa_stack_for_xcopa_runs_on_real_data(tmp_path):
    common = {"model": E5, "data_dir": str(SHARED_DATA), "modules_dir": str(tmp_path / "m"),
              "output": str(tmp_path / "r"), "langs": ["et", "sw"], "training.max_eval_examples": 50,
              "training.learning_rate": 3e-4}
    module = train("siqa", cfg=build_config(overrides={**common, "training.max_train_examples": 200,
                                                      "training.epochs": 1, "training.max_dev_examples": 100}))
    cfg = build_config(overrides={**common, "training.epochs": 2})
    base, stacked = direct("xcopa", cfg=cfg), stack(["siqa"], "xcopa", cfg=cfg)
    assert module.is_dir()
    for result in (base, stacked):
        assert set(result["per_language"]) == {"et", "sw"}
        assert all(0 <= v <= 100 for v in result["per_language"].values())
        assert result["n_examples"] == {"et": 50, "sw": 50}
    assert stacked["trainable_params"] == base["trainable_params"]  # same target module + head
