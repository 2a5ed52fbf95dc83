"""Saved modules load with plain peft / adapters code (no adapterx import in the loading code) and
give the logits adapterx gives."""

from __future__ import annotations

import json
import os
import stat
import warnings
from pathlib import Path

import pytest
import torch

from adapterx.api import train
from adapterx.recipes.evaluate import load_trained
from adapterx.store import read_meta
from adapterx.tasks import get_task

PAIRS = [("A man is eating.", "Someone eats."), ("The cat sleeps on the mat.", "A dog runs."),
         ("It rains today in the city", "The weather is dry.")]


def _inputs(tiny_model):
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tiny_model)
    return dict(tok([a for a, _ in PAIRS], [b for _, b in PAIRS], padding=True, return_tensors="pt"))


def _adapterx_out(path, task_name: str, cfg, inputs) -> dict:
    """What adapterx's own loading computes for `inputs`."""
    meta = read_meta(path)
    model, *_ = load_trained(path, meta, get_task(task_name), cfg, cfg.model)
    model.eval()
    with torch.no_grad():
        return model(**inputs)


def _peft_load(auto_class, tiny_model, path, **kwargs):
    """PeftModel.from_pretrained onto a transformers class, failing on peft's missing-keys warning."""
    from peft import PeftModel

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = PeftModel.from_pretrained(auto_class.from_pretrained(tiny_model, **kwargs), str(path))
    missing = [str(w.message) for w in caught if "missing adapter keys" in str(w.message)]
    assert not missing, missing
    return model.eval()


def test_lora_classification_loads_on_auto_model_for_sequence_classification(make_cfg, tiny_model):
    from peft import AutoPeftModelForSequenceClassification
    from transformers import AutoModelForSequenceClassification

    cfg = make_cfg(method="lora")
    path = train("mnli", cfg=cfg)
    config = json.loads((path / "adapter_config.json").read_text())
    assert config["task_type"] == "SEQ_CLS" and "classifier" in config["modules_to_save"]
    inputs = _inputs(tiny_model)
    ours = _adapterx_out(path, "mnli", cfg, inputs)["logits"]

    plain = _peft_load(AutoModelForSequenceClassification, tiny_model, path, num_labels=3)
    # the module really acts: its lora_B are the trained ones, not peft's zero init
    assert any(p.abs().sum() > 0 for n, p in plain.named_parameters() if "lora_B" in n)
    with torch.no_grad():
        theirs = plain(**inputs).logits
    torch.testing.assert_close(theirs, ours, atol=1e-5, rtol=1e-5)

    # task_type set: AutoPeftModel picks the classification class by itself
    auto = AutoPeftModelForSequenceClassification.from_pretrained(str(path), num_labels=3).eval()
    with torch.no_grad():
        torch.testing.assert_close(auto(**inputs).logits, ours, atol=1e-5, rtol=1e-5)
    assert (path / "README.md").is_file() and "peft" in (path / "README.md").read_text()


def test_lora_qa_loads_on_auto_model_for_question_answering(make_cfg, tiny_model):
    from transformers import AutoModelForQuestionAnswering

    cfg = make_cfg(method="lora")
    path = train("squad", cfg=cfg)
    assert json.loads((path / "adapter_config.json").read_text())["task_type"] == "QUESTION_ANS"
    inputs = _inputs(tiny_model)
    ours = _adapterx_out(path, "squad", cfg, inputs)
    plain = _peft_load(AutoModelForQuestionAnswering, tiny_model, path)
    with torch.no_grad():
        theirs = plain(**inputs)
    real = inputs["attention_mask"].bool()  # adapterx masks padding out of the span search
    torch.testing.assert_close(theirs.start_logits[real], ours["start_logits"][real], atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(theirs.end_logits[real], ours["end_logits"][real], atol=1e-5, rtol=1e-5)


def test_lora_multiple_choice_loads_on_auto_model_with_its_head(make_cfg, tiny_model):
    """No AutoModelForMultipleChoice head equals adapterx's (theirs adds the pooler): the module
    stays in the AutoModel layout and its head is one Linear over the first token."""
    from safetensors.torch import load_file
    from transformers import AutoModel

    cfg = make_cfg(method="lora")
    path = train("copa", cfg=cfg)
    assert not json.loads((path / "adapter_config.json").read_text()).get("task_type")
    inputs = {k: v.unsqueeze(0) for k, v in _inputs(tiny_model).items()}  # one example, 3 choices
    ours = _adapterx_out(path, "copa", cfg, inputs)["logits"]
    plain = _peft_load(AutoModel, tiny_model, path, add_pooling_layer=False)  # as adapterx loads it
    head = load_file(str(path / "adapterx_head.safetensors"))
    with torch.no_grad():
        first = plain(**{k: v[0] for k, v in inputs.items()}).last_hidden_state[:, 0]
    theirs = (first @ head["score.weight"].T + head["score.bias"]).view(1, -1)
    torch.testing.assert_close(theirs, ours, atol=1e-5, rtol=1e-5)


def test_module_files_follow_the_umask(make_cfg):
    old = os.umask(0o022)
    try:
        path = train("mnli", cfg=make_cfg(method="lora"))
    finally:
        os.umask(old)
    for name in ("adapter_model.safetensors", "adapterx_head.safetensors", "adapter_config.json"):
        assert stat.S_IMODE((path / name).stat().st_mode) == 0o644, name


def _classification_head(hidden: torch.Tensor, head: dict) -> torch.Tensor:
    """adapterx's ClassificationHead (dense, tanh, out_proj on the first token) in plain torch."""
    x = torch.tanh(hidden[:, 0] @ head["dense.weight"].T + head["dense.bias"])
    return x @ head["out_proj.weight"].T + head["out_proj.bias"]


def test_bottleneck_module_loads_with_plain_adapters(make_cfg, tiny_model):
    import adapters
    from safetensors.torch import load_file
    from transformers import AutoModel

    cfg = make_cfg(method="bottleneck")
    path = train("mnli", cfg=cfg)
    inputs = _inputs(tiny_model)
    ours = _adapterx_out(path, "mnli", cfg, inputs)["logits"]
    plain = AutoModel.from_pretrained(tiny_model, add_pooling_layer=False)
    adapters.init(plain)
    name = plain.load_adapter(str(path), with_head=False, use_safetensors=True)
    plain.set_active_adapters(name)
    with torch.no_grad():
        hidden = plain.eval()(**inputs).last_hidden_state
    theirs = _classification_head(hidden, load_file(str(path / "adapterx_head.safetensors")))
    torch.testing.assert_close(theirs, ours, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("route", ["adapters.init(AutoModel)", "AutoAdapterModel"])
def test_adapter_fusion_loads_through_both_adapters_routes(make_cfg, tiny_model, route):
    import adapters
    from adapters import AutoAdapterModel
    from adapters.composition import Fuse
    from safetensors.torch import load_file
    from transformers import AutoModel

    cfg = make_cfg(method="bottleneck", langs="de")
    from adapterx.api import fuse

    fuse(["mnli", "squad"], "xnli", cfg=cfg)
    run = next((Path(cfg.output) / "xnli").glob("*/module"))
    meta = read_meta(run)
    inputs = _inputs(tiny_model)
    ours = _adapterx_out(run, "xnli", cfg, inputs)["logits"]

    if route == "AutoAdapterModel":
        plain = AutoAdapterModel.from_pretrained(tiny_model)
    else:
        plain = AutoModel.from_pretrained(tiny_model, add_pooling_layer=False)
        adapters.init(plain)
    for part in meta["modules"]:
        plain.load_adapter(part["path"], load_as=part["task"], with_head=False, use_safetensors=True)
    info: dict = {}
    plain.load_adapter_fusion(str(run), use_safetensors=True, loading_info=info)
    fusion = Fuse(*meta["composition"]["inter"])
    plain.set_active_adapters(fusion)
    # every fusion tensor in the file landed in the model (none left at its fresh init)
    assert not [k for k in info.get("unexpected_keys", []) if "fusion" in k], info
    assert not [k for k in info.get("missing_keys", []) if "fusion" in k], info
    with torch.no_grad():
        out = plain.eval()(**inputs)
    theirs = _classification_head(out[0], load_file(str(run / "adapterx_head.safetensors")))
    torch.testing.assert_close(theirs, ours, atol=1e-5, rtol=1e-5)


def test_module_cache_defaults_to_a_user_cache(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from adapterx.api import build_config
    from adapterx.cli import main

    monkeypatch.chdir(tmp_path)  # the folder a command runs in no longer decides where modules go
    monkeypatch.delenv("ADAPTERX_HOME", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert build_config().modules_dir == str(tmp_path / "xdg" / "adapterx" / "modules")
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert build_config().modules_dir == str(tmp_path / "home" / ".cache" / "adapterx" / "modules")
    monkeypatch.setenv("ADAPTERX_HOME", str(tmp_path / "ax"))
    assert build_config().modules_dir == str(tmp_path / "ax" / "modules")
    assert build_config(overrides={"modules_dir": "elsewhere"}).modules_dir == "elsewhere"
    out = CliRunner().invoke(main, ["cache", "ls"], env={"COLUMNS": "200"})
    assert out.exit_code == 0 and f"module cache: {tmp_path / 'ax' / 'modules'}" in out.output
