"""Compacter and UniPELT through `adapters`: train -> save -> reload -> evaluate, the setups the
library allows (and refusal of the others), fp32 weights on a bf16 base, plain-`adapters` loading."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from click.testing import CliRunner
from safetensors.torch import load_file

from adapterx.api import direct, evaluate, fuse, merge, sequential, stack, train
from adapterx.cli import main
from adapterx.errors import AdapterxError
from adapterx.store import read_meta

# small enough for the tiny model (hidden 64): compacter's bottleneck 64 / 4 = 16, a multiple of phm_dim 4
SETTINGS = {"compacter": {"compacter__reduction_factor": 4},
            "unipelt": {"unipelt__prefix_length": 4, "unipelt__prefix_bottleneck_size": 16,
                        "unipelt__lora_r": 4}}
METHODS = list(SETTINGS)


def _cfg(make_cfg, method: str, **extra):
    return make_cfg(method=method, **{"langs": ["et"], **SETTINGS[method], **extra})


def _weights(folder: Path) -> dict[str, torch.Tensor]:
    return load_file(str(folder / "adapter.safetensors"))


@pytest.mark.parametrize("method", METHODS)
def test_train_save_reload_evaluate(make_cfg, method):
    cfg = _cfg(make_cfg, method, eval_split="dev", langs=None)
    path = train("mnli", cfg=cfg)
    meta = read_meta(path)
    assert meta["method"] == method and (path / "adapter_config.json").is_file()
    assert not list(path.glob("*.bin")), "weights must be safetensors, not pickles"
    # what trains is the module and the head: exactly the tensors saved in the two files
    saved = sum(t.numel() for t in _weights(path).values())
    head = sum(t.numel() for t in load_file(str(path / "adapterx_head.safetensors")).values())
    assert meta["trainable_params"] == saved + head
    keys = " ".join(_weights(path))
    parts = {"compacter": ("phm_rule", "adapter_down"),
             "unipelt": ("prefix_tunings", "prefix_gates", "loras", "adapters", ".gate.")}[method]
    assert all(p in keys for p in parts), keys[:400]
    # `adapterx eval --module`: the reloaded module scores its English dev set as it did in memory
    result = CliRunner().invoke(main, ["eval", "--module", str(path), "--target", "mnli", "--eval-split", "dev",
                                       "--device", "cpu", "--data-dir", cfg.data_dir, "--output", cfg.output])
    assert result.exit_code == 0, result.output
    again = evaluate(module=str(path), target="mnli", cfg=cfg)
    assert again["per_language"]["en"] == pytest.approx(meta["metrics"]["english_dev"]["accuracy"], abs=1e-6)


@pytest.mark.heavy  # over 4 s: CI runs it in its second step
@pytest.mark.parametrize("method", METHODS)
def test_direct_sequential_stack_run_and_reload(make_cfg, method):
    cfg = _cfg(make_cfg, method)
    run = direct("xcopa", cfg=cfg)
    assert (run["setup"], run["method"]) == ("direct", method)
    run_dir = next((Path(cfg.output) / "xcopa").glob("direct-*"))
    assert evaluate(run=str(run_dir), cfg=cfg)["per_language"] == run["per_language"]  # same predictions
    continued = sequential("siqa", "xcopa", cfg=cfg)
    module = Path(continued["modules"][0]["path"])
    assert continued["setup"] == "sequential" and continued["trainable_params"] == read_meta(module)["trainable_params"]
    stacked = stack("siqa", "xcopa", cfg=cfg)
    assert stacked["setup"] == "stack" and stacked["modules"][0]["path"] == str(module)  # reused
    # the stack trains a new target module and head, as many weights as the direct run
    assert stacked["trainable_params"] == run["trainable_params"]
    stack_dir = next((Path(cfg.output) / "xcopa").glob("stack-*"))
    assert evaluate(run=str(stack_dir), cfg=cfg)["per_language"] == stacked["per_language"]


@pytest.mark.heavy  # over 4 s: CI runs it in its second step
def test_compacter_fuse_runs_and_reloads(make_cfg):
    cfg = _cfg(make_cfg, "compacter")
    fused = fuse(["siqa", "copa"], "xcopa", cfg=cfg)
    assert (fused["setup"], fused["inter"]) == ("fuse", ["siqa", "copa"])
    run_dir = next((Path(cfg.output) / "xcopa").glob("fuse-*"))
    assert evaluate(run=str(run_dir), cfg=cfg)["per_language"] == fused["per_language"]


def test_compacter_fuse_refuses_mixed_architectures(tiny_model):
    from adapterx.backbone import load_backbone
    from adapterx.composition import Composition
    from adapterx.methods import get_method
    from adapterx.methods.compacter.settings import CompacterSettings

    bb = load_backbone(str(tiny_model), "fp32", "none", "cpu")
    method = get_method("compacter")
    method.prepare(bb)
    method.add(bb, "a", CompacterSettings(reduction_factor=4))
    method.add(bb, "b", CompacterSettings(architecture="compacter", reduction_factor=4))
    with pytest.raises(AdapterxError, match="compacter.architecture"):
        method.compose(bb, Composition("fuse", ("a", "b")), "fusion")


@pytest.mark.parametrize("method,run", [("unipelt", fuse), ("unipelt", merge), ("compacter", merge)])
def test_unsupported_setups_are_refused_before_training(make_cfg, method, run):
    cfg = _cfg(make_cfg, method)
    with pytest.raises(AdapterxError, match=f"--method {method} cannot"):
        run(["siqa"], "xcopa", cfg=cfg)
    assert not Path(cfg.modules_dir).exists() and not Path(cfg.output).exists()  # nothing trained


def test_unsupported_setup_exits_2_at_the_cli(tiny_model, tmp_path):
    result = CliRunner().invoke(main, ["fuse", "--inter", "siqa", "--target", "xcopa", "--method", "unipelt",
                                       "--model", str(tiny_model), "--output", str(tmp_path)])
    assert result.exit_code == 2 and "cannot run the fuse setup" in " ".join(result.output.split())


def test_phm_dim_that_does_not_divide_the_bottleneck_is_a_clear_error(make_cfg):
    cfg = make_cfg(method="compacter")  # the defaults: 64 // 32 = 2, not a multiple of phm_dim 4
    with pytest.raises(AdapterxError, match="phm_dim=4 must divide"):
        train("mnli", cfg=cfg)
    assert not list(Path(cfg.modules_dir).rglob("adapter.safetensors"))


def _plain_hidden(base: Path, module: Path, batch: dict) -> torch.Tensor:
    """The module's hidden states computed by plain transformers + adapters code."""
    import adapters
    from transformers import AutoModel

    model = AutoModel.from_pretrained(base)
    adapters.init(model)
    name = model.load_adapter(str(module), with_head=False, use_safetensors=True)
    model.set_active_adapters(name)
    model.eval()
    with torch.no_grad():
        return model(**batch).last_hidden_state


@pytest.mark.parametrize("method", METHODS)
def test_module_loads_in_plain_adapters_with_the_same_hidden_states(make_cfg, tiny_model, method):
    from adapterx.api import load

    # a large learning rate: the module (Compacter's up projection starts near 0) moves far from the base
    path = train("mnli", cfg=_cfg(make_cfg, method, training__learning_rate=0.05))
    loaded = load(path, device="cpu", dtype="fp32")
    tokenizer = loaded.backbone.tokenizer
    batch = dict(tokenizer(["a short sentence", "and another, longer one here"], return_tensors="pt", padding=True))
    encoder = loaded.backbone.model
    encoder.eval()
    with torch.no_grad():
        ours = encoder(**batch).last_hidden_state
    plain = _plain_hidden(tiny_model, path, batch)
    base = _plain_hidden_base(tiny_model, batch)
    assert not torch.allclose(plain, base, atol=1e-3)  # the module changes the states...
    torch.testing.assert_close(plain, ours, atol=1e-5, rtol=0)  # ... as adapterx applies it


def _plain_hidden_base(base: Path, batch: dict) -> torch.Tensor:
    from transformers import AutoModel

    with torch.no_grad():
        return AutoModel.from_pretrained(base).eval()(**batch).last_hidden_state


@pytest.mark.parametrize("name", METHODS)
def test_bf16_base_trains_every_fp32_weight(tiny_model, tmp_path, name):
    from transformers import set_seed

    from adapterx.api import build_config
    from adapterx.backbone import load_backbone
    from adapterx.composition import Composition
    from adapterx.methods import get_method, method_settings
    from adapterx.recipes.common import build_model
    from adapterx.tasks import get_task
    from tests.test_master_weights import TASK, _changed_fraction, _train

    overrides = {k.replace("__", "."): v for k, v in SETTINGS[name].items()}
    settings = method_settings(name, build_config(overrides=overrides))
    changed = {}
    for dtype in ("fp32", "bf16"):
        bb = load_backbone(str(tiny_model), dtype, "none", "cpu")
        set_seed(0)
        method = get_method(name)
        method.prepare(bb)
        method.add(bb, "target", settings)
        method.compose(bb, Composition("direct"), "target")
        model = build_model(bb, get_task(TASK))
        fraction, changed[dtype], dtypes = _changed_fraction(
            model, lambda: _train(bb, model, tmp_path / dtype, lr=1e-3))
        assert dtypes == {torch.float32}
    assert bb.model.get_input_embeddings().weight.dtype == torch.bfloat16  # the frozen base stays bf16
    # every weight an fp32 base moves moves on a bf16 base too (a relu unit dead on the whole tiny
    # batch moves on neither, so the bar is fp32's, not 100%)
    assert fraction >= 0.95
    lost = {n: (round(f, 3), round(changed["fp32"][n], 3)) for n, f in changed["bf16"].items()
            if f < changed["fp32"][n] - 0.05}
    assert not lost, lost


def test_train_help_lists_the_registered_methods():
    out = " ".join(CliRunner().invoke(main, ["train", "--help"]).output.split())
    from adapterx.methods import method_spec

    for name in ("bottleneck", "lora", "full", "compacter", "unipelt"):
        assert f"{name}: {method_spec(name).about}" in out


def test_new_sections_leave_other_runs_hashes_alone():
    from adapterx.configs import RunConfig

    for method in ("bottleneck", "lora"):
        assert not {"compacter", "unipelt"} & set(RunConfig(method=method).to_dict())
    assert "compacter" in RunConfig(method="compacter").to_dict()
