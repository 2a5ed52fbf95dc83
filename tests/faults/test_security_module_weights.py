"""Pickled module weights are refused (exit 2, the file and the fix named) before peft or adapters
can fall back to unpickling them: through `eval --module`, module reuse, and `pull`."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from adapterx.backbone import load_backbone
from adapterx.cli import main
from adapterx.configs import RunConfig
from adapterx.errors import AdapterxError
from adapterx.methods import get_method
from adapterx.recipes.target import attach_modules
from adapterx.recipes.train_module import ModuleRecord

from tests.faults._hostile import KEY, build_module, copy_module, eval_argv, write_pickle

# (method, the safetensors file it saves, the pickle its library falls back to)
FALLBACKS = [("lora", "adapter_model.safetensors", "adapter_model.bin"),
             ("bottleneck", "adapter.safetensors", "pytorch_adapter.bin")]


@pytest.fixture(scope="module")
def templates(tiny_model, tmp_path_factory):
    root = tmp_path_factory.mktemp("templates")
    return {method: build_module(tiny_model, root, method) for method, _, _ in FALLBACKS}


@pytest.fixture(autouse=True)
def force_unpickling(monkeypatch):
    """The setting under which torch.load unpickles anything (unless a caller says weights_only)."""
    monkeypatch.setenv("TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD", "1")


def _swap_to_pickle(module, safe: str, pickled: str, marker):
    (module / safe).unlink()
    return write_pickle(module / pickled, marker)


def test_an_intact_module_evaluates(templates, tmp_path):
    """The control: the folders these tests corrupt are loadable modules."""
    module = copy_module(templates["lora"], tmp_path / "modules")
    result = CliRunner().invoke(main, eval_argv(module, tmp_path / "runs"))
    assert result.exit_code == 0, result.output
    assert list((tmp_path / "runs").rglob("results.json"))


@pytest.mark.parametrize("method,safe,pickled", FALLBACKS)
def test_eval_refuses_a_module_with_pickled_weights(templates, tmp_path, method, safe, pickled):
    module = copy_module(templates[method], tmp_path / "modules")
    marker = tmp_path / "unpickled"
    _swap_to_pickle(module, safe, pickled, marker)
    result = CliRunner().invoke(main, eval_argv(module, tmp_path / "runs"))
    assert not marker.exists()
    assert result.exit_code == 2, result.output
    assert pickled in result.output and "safetensors" in result.output and "fix:" in result.output
    assert not (tmp_path / "runs").exists()


@pytest.mark.parametrize("method,safe,pickled", FALLBACKS)
def test_a_pickle_beside_the_safetensors_is_refused_too(templates, tmp_path, method, safe, pickled):
    module = copy_module(templates[method], tmp_path / "modules")
    marker = tmp_path / "unpickled"
    write_pickle(module / pickled, marker)
    result = CliRunner().invoke(main, eval_argv(module, tmp_path / "runs"))
    assert not marker.exists() and result.exit_code == 2, result.output
    assert pickled in result.output


@pytest.mark.parametrize("method,safe,pickled", FALLBACKS)
def test_module_reuse_refuses_pickled_weights(templates, tiny_model, tmp_path, method, safe, pickled):
    """stack / fuse reuse a cached module through attach_modules: refused before the library loads."""
    module = copy_module(templates[method], tmp_path / "modules")
    marker = tmp_path / "unpickled"
    _swap_to_pickle(module, safe, pickled, marker)
    bb = load_backbone(str(tiny_model), device="cpu")
    get_method(method).prepare(bb)
    cfg = RunConfig(model=str(tiny_model), method=method, device="cpu")
    with pytest.raises(AdapterxError, match=pickled) as err:
        attach_modules(bb, cfg, [ModuleRecord("mnli", module, KEY, reused=True)])
    assert not marker.exists() and err.value.exit_code == 2 and "safetensors" in str(err.value)


@pytest.mark.parametrize("method,safe,pickled", FALLBACKS)
def test_the_method_loader_itself_refuses_a_pickle_fallback(templates, tiny_model, tmp_path, method, safe,
                                                             pickled):
    """Even a caller that skipped adapterx.json gets no unpickling from method.load."""
    module = copy_module(templates[method], tmp_path / "modules")
    marker = tmp_path / "unpickled"
    _swap_to_pickle(module, safe, pickled, marker)
    bb = load_backbone(str(tiny_model), device="cpu")
    loader = get_method(method)
    loader.prepare(bb)
    with pytest.raises(AdapterxError, match=pickled):
        loader.load(bb, module, "mnli")
    assert not marker.exists()
