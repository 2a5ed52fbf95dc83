"""Usability: fast failure without the Hub, did-you-mean, `config --list`, plain/json tables,
quiet training logs, report_to."""

from __future__ import annotations

import json
import socket
import sys
import time

import pytest
from click.testing import CliRunner

from adapterx import hub_probe
from adapterx.cli import main
from adapterx.errors import HubUnreachableError


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def unreachable_hub(monkeypatch, tmp_path):
    """The Hub at a closed local port, probing on, every library's offline flag restored afterwards."""
    import datasets.config
    import huggingface_hub.constants
    import transformers.utils.hub

    url = f"http://127.0.0.1:{_closed_port()}"
    monkeypatch.setenv("HF_ENDPOINT", url)
    monkeypatch.setenv(hub_probe.PROBE_ENV, "1")
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    for name in ("HF_DATASETS_OFFLINE", "TRANSFORMERS_OFFLINE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(huggingface_hub.constants, "ENDPOINT", url)
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(datasets.config, "HF_ENDPOINT", url)
    monkeypatch.setattr(datasets.config, "HUB_DATASETS_URL", url + "/datasets/{repo_id}/resolve/{revision}/{path}")
    monkeypatch.setattr(datasets.config, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(transformers.utils.hub, "_is_offline_mode", False)
    monkeypatch.setattr(datasets.config, "HF_DATASETS_CACHE", tmp_path / "datasets")
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path / "hub"))
    return url


def test_unreachable_hub_fails_within_seconds_with_the_data_dir_hint(unreachable_hub):
    from adapterx.data.hub import load_hub_split

    start = time.monotonic()
    with pytest.raises(HubUnreachableError) as info:
        load_hub_split("squad", "train")
    assert time.monotonic() - start < 8  # the retries alone took ~35 s
    assert "--data-dir DIR" in str(info.value) and "did not answer" in str(info.value)
    assert info.value.exit_code == 2


def test_unreachable_hub_model_fails_fast_with_the_model_hint(unreachable_hub):
    from adapterx.backbone import load_backbone

    start = time.monotonic()
    with pytest.raises(HubUnreachableError, match="--model DIR"):
        load_backbone("xlm-roberta-base", device="cpu")
    assert time.monotonic() - start < 8


def test_hf_hub_offline_skips_the_probe(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(hub_probe.socket, "create_connection", lambda *a, **k: pytest.fail("probed"))
    assert hub_probe.check_hub() == "offline mode is on (HF_HUB_OFFLINE=1)"
