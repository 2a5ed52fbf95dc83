"""IA3 and prefix tuning through peft: train -> save -> reload gives the run's own predictions,
sequential and (IA3) stack run, unsupported setups are refused before any training, the modules
are plain peft folders, bf16 bases train fp32 modules, and registering them moves no cache key."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner

from adapterx.api import build_config, direct, sequential, stack, train
from adapterx.cli import main
from adapterx.errors import AdapterxError, ModuleMismatchError
from adapterx.presets.tiny import TINY_DATA
from adapterx.store import read_meta, stable_hash

METHODS = ["ia3", "prefix"]


def _cli(cfg, *words: str):
    """Run the CLI on `cfg`'s tiny model, data and folders."""
    base = ["--model", cfg.model, "--data-dir", str(TINY_DATA), "--device", "cpu", "--output", cfg.output,
            "--modules-dir", cfg.modules_dir]
    return CliRunner().invoke(main, [words[0], *base, *words[1:]])


def _predictions(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted((folder / "predictions").rglob("*")) if p.is_file()}


def _run_dir(cfg, target: str, prefix: str) -> Path:
    return next(p for p in (Path(cfg.output) / target).iterdir() if p.name.startswith(prefix))


def _eval_dir(cfg, target: str) -> Path:
    return max((p for p in (Path(cfg.output) / target).iterdir() if p.name.startswith("eval-")),
               key=lambda p: p.stat().st_mtime)


@pytest.mark.parametrize("method", METHODS)
def test_direct_run_reloads_with_the_same_predictions(make_cfg, method):
    cfg = make_cfg(method=method, langs=["et"])
    results = direct("xcopa", cfg=cfg)
    assert (results["setup"], results["method"]) == ("direct", method)
    run = _run_dir(cfg, "xcopa", "direct-")
    saved = run / "module"
    assert json.loads((saved / "adapter_config.json").read_text())["peft_type"] == \
        {"ia3": "IA3", "prefix": "PREFIX_TUNING"}[method]
    assert (saved / "adapter_model.safetensors").is_file() and not list(saved.glob("*.bin"))
    out = _cli(cfg, "eval", "--run", str(run), "--langs", "et")
    assert out.exit_code == 0, out.output
    # the reloaded model predicts exactly what the in-memory model predicted
    assert _predictions(_eval_dir(cfg, "xcopa")) == _predictions(run) != {}


@pytest.mark.parametrize("method", METHODS)
def test_module_reloads_with_its_dev_score_and_loads_in_plain_peft(make_cfg, tiny_model, method):
    from adapterx.api import load

    # a large step, so that the trained module visibly changes the hidden states
    cfg = make_cfg(method=method, eval_split="dev", training__learning_rate=0.05)
    path = train("mnli", cfg=cfg)
    meta = read_meta(path)
    assert not list(path.glob("*.bin")) and (path / "adapter_model.safetensors").is_file()
    out = _cli(cfg, "eval", "--module", str(path), "--target", "mnli", "--eval-split", "dev")
    assert out.exit_code == 0, out.output
    scored = json.loads((_eval_dir(cfg, "mnli") / "results.json").read_text())
    assert scored["per_language"]["en"] == pytest.approx(meta["metrics"]["english_dev"]["accuracy"], abs=1e-9)

    texts = ["a short sentence", "another, somewhat longer one here"]
    loaded = load(path, device="cpu")
    batch = loaded.tokenizer(texts, return_tensors="pt", padding=True)
    with torch.no_grad():
        ours = loaded.backbone.model(input_ids=batch["input_ids"],
                                     attention_mask=batch["attention_mask"]).last_hidden_state
    # plain transformers + peft, nothing of adapterx in the model
    from peft import PeftModel
    from transformers import AutoModel

    plain = PeftModel.from_pretrained(AutoModel.from_pretrained(tiny_model), str(path)).eval()
    with torch.no_grad():
        theirs = plain(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).last_hidden_state
    base = AutoModel.from_pretrained(tiny_model).eval()(**batch).last_hidden_state
    assert (theirs - base).abs().max() > 1e-2  # the module does something ...
    torch.testing.assert_close(ours, theirs, atol=1e-5, rtol=0)  # ... the same in both


@pytest.mark.parametrize("method", METHODS)
def test_trainable_params_match_peft(tiny_model, method):
    from adapterx.backbone import load_backbone
    from adapterx.composition import Composition
    from adapterx.methods import get_method, method_spec, trainable_parameters

    bb = load_backbone(str(tiny_model), "fp32", "none", "cpu")
    impl = get_method(method)
    impl.add(bb, "frozen", method_spec(method).settings_cls())
    impl.add(bb, "target", method_spec(method).settings_cls())
    impl.compose(bb, Composition("direct"), "target")
    peft_trainable, _ = bb.model.get_nb_trainable_parameters()
    # by hand: IA3 scales key and value outputs (64 each), the attention output's input (64) and
    # the FFN output's input (128) per layer; a prefix is 20 tokens x 2 layers x (key, value) x 64
    expected = {"ia3": 2 * (64 + 64 + 64 + 128), "prefix": 20 * 2 * 2 * 64}[method]
    if method == "ia3":  # several modules stack, only the target trains
        impl.compose(bb, Composition("stack", ("frozen",)), "target")
    assert trainable_parameters(bb.model) == peft_trainable == expected


@pytest.mark.parametrize("method", METHODS)
def test_sequential_continues_the_module(make_cfg, method):
    from safetensors.torch import load_file

    cfg = make_cfg(method=method, langs=["et"])
    module = train("siqa", cfg=cfg)
    results = sequential("siqa", "xcopa", cfg=cfg)
    assert results["setup"] == "sequential" and results["modules"][0]["path"] == str(module)
    run = _run_dir(cfg, "xcopa", "sequential-siqa")
    start = load_file(str(module / "adapter_model.safetensors"))
    end = load_file(str(run / "module" / "adapter_model.safetensors"))
    assert start.keys() == end.keys() and any(not torch.equal(start[k], end[k]) for k in start)
    out = _cli(cfg, "eval", "--run", str(run), "--langs", "et")
    assert out.exit_code == 0, out.output
    assert _predictions(_eval_dir(cfg, "xcopa")) == _predictions(run)


def test_ia3_stacks_modules(make_cfg):
    cfg = make_cfg(method="ia3", langs=["et"])
    results = stack(["siqa", "copa"], "xcopa", cfg=cfg)
    assert (results["setup"], results["inter"]) == ("stack", ["siqa", "copa"])
    from adapterx.recipes.evaluate import load_trained
    from adapterx.tasks import get_task

    run = _run_dir(cfg, "xcopa", "stack-")
    _, bb, _, _ = load_trained(run / "module", read_meta(run / "module"), get_task("xcopa"), cfg, cfg.model)
    assert set(bb.model.base_model.active_adapters) == {"siqa", "copa", "target"}
    out = _cli(cfg, "eval", "--run", str(run), "--langs", "et")
    assert out.exit_code == 0 and _predictions(_eval_dir(cfg, "xcopa")) == _predictions(run)


@pytest.mark.parametrize("method,setup", [("prefix", "stack"), ("prefix", "fuse"), ("prefix", "multitask"),
                                          ("ia3", "fuse"), ("ia3", "multitask")])
def test_unsupported_setups_are_refused_before_training(make_cfg, method, setup):
    cfg = make_cfg(method=method, langs=["et"])
    out = _cli(cfg, setup, "--method", method, "--inter", "siqa", "--target", "xcopa")
    assert out.exit_code == 2 and "Traceback" not in out.output, out.output
    text = " ".join(out.output.split())
    runs = {"ia3": "direct, sequential, stack", "prefix": "direct, sequential"}[method]
    assert f"--method {method} cannot run the {setup} setup" in text and f"runs: {runs}" in text
    assert not Path(cfg.modules_dir).exists() or not list(Path(cfg.modules_dir).rglob("adapterx.json"))


def test_merge_is_lora_only(make_cfg):
    out = _cli(make_cfg(), "merge", "--method", "ia3", "--inter", "siqa,copa", "--target", "xcopa")
    assert out.exit_code == 2 and "cannot merge" in out.output


def test_loaders_refuse_pickles_and_other_kinds(make_cfg, tiny_model, tmp_path):
    from adapterx.backbone import load_backbone
    from adapterx.methods import get_method

    path = train("mnli", cfg=make_cfg(method="ia3"))
    copy = tmp_path / "copy"
    shutil.copytree(path, copy)
    (copy / "adapter_model.bin").write_bytes(b"not read")
    for method in METHODS:
        with pytest.raises(ModuleMismatchError, match="pickled"):
            get_method(method).load(load_backbone(str(tiny_model), "fp32", "none", "cpu"), copy, "m")
    with pytest.raises(ModuleMismatchError, match="IA3 module, not PREFIX_TUNING"):
        get_method("prefix").load(load_backbone(str(tiny_model), "fp32", "none", "cpu"), path, "m")


def test_prefix_beyond_the_base_positions_is_a_clear_error(tiny_model):
    from adapterx.backbone import load_backbone
    from adapterx.composition import Composition
    from adapterx.methods import get_method
    from adapterx.methods.prefix import PrefixSettings

    bb = load_backbone(str(tiny_model), "fp32", "none", "cpu")
    method = get_method("prefix")
    method.add(bb, "target", PrefixSettings(num_virtual_tokens=20))
    method.compose(bb, Composition("direct"), "target")
    fits = torch.full((1, 512 - 20), 5)  # the tiny base has XLM-R's 514 positions, 2 before the first
    assert bb.model(input_ids=fits, attention_mask=torch.ones_like(fits)).last_hidden_state.shape[1] == 492
    with pytest.raises(AdapterxError, match="at most 492"):
        bb.model(input_ids=torch.full((1, 493), 5), attention_mask=torch.ones(1, 493, dtype=torch.long))


@pytest.mark.parametrize("method", METHODS)
def test_bf16_base_trains_fp32_module_weights(tiny_model, tmp_path, method):
    from transformers import set_seed

    from adapterx.backbone import load_backbone
    from adapterx.composition import Composition
    from adapterx.data.features import Collator, tokenize
    from adapterx.data.loading import english_train_dev
    from adapterx.methods import get_method, method_spec
    from adapterx.recipes.common import build_model
    from adapterx.tasks import get_task
    from adapterx.training import TrainSettings, train_model

    bb = load_backbone(str(tiny_model), "bf16", "none", "cpu")
    set_seed(0)
    impl = get_method(method)
    impl.add(bb, "target", method_spec(method).settings_cls())
    impl.compose(bb, Composition("direct"), "target")
    task = get_task("mnli")
    model = build_model(bb, task)
    assert bb.model.get_base_model().get_input_embeddings().weight.dtype == torch.bfloat16
    module = {n: p for n, p in bb.model.named_parameters() if p.requires_grad}
    assert module and {p.dtype for p in module.values()} == {torch.float32}
    before = {n: p.detach().clone() for n, p in module.items()}
    train_ex, _ = english_train_dev(task, str(TINY_DATA), 8, 4, 0)
    features = tokenize(task, train_ex, bb.tokenizer, 48, 16, train=True)
    settings = TrainSettings(learning_rate=method_spec(method).default_lr, epochs=2, batch_size=4, grad_accum=1,
                             warmup_ratio=0.0, weight_decay=0.0, logging_steps=1, seed=0, save_checkpoints=False)
    train_model(model, features, Collator(bb.tokenizer, task.kind), settings, tmp_path / "work", bb.device,
                bb.dtype, progress=False)
    changed = {n: (p.detach() != before[n]).float().mean().item() for n, p in module.items()}
    assert {p.dtype for p in module.values()} == {torch.float32}
    assert min(changed.values()) >= 0.9, changed


def test_train_help_lists_the_registered_methods():
    from adapterx.methods import all_specs

    out = CliRunner().invoke(main, ["train", "--help"])
    text = " ".join(out.output.split())
    for spec in all_specs():
        assert f"{spec.name}: {spec.about}" in text
    assert {"ia3", "prefix"} <= {spec.name for spec in all_specs()}


# stable_hash(cfg.to_dict()) of default runs before ia3 / prefix were registered (what `compare`
# and grid cells key on), computed at 3e2121a (training.select default `auto`): their sections count
# only in their own runs
PINNED = {"bottleneck": "f460cb371badfc2f", "lora": "2defa7eb7aeac9bc"}


def test_registration_keeps_default_config_hashes():
    for method, key in PINNED.items():
        cfg = build_config(overrides={"method": method, "modules_dir": "/cache/modules", "output": "runs"})
        data = cfg.to_dict()
        assert "ia3" not in data and "prefix" not in data
        assert stable_hash(data) == key
    ia3 = build_config(overrides={"method": "ia3", "modules_dir": "/cache/modules", "output": "runs"}).to_dict()
    assert ia3["ia3"]["target_modules"] == ["key", "value", "output.dense"] and "prefix" not in ia3
