"""Each method x head kind trains, saves in its native format, reloads and is reused."""

from __future__ import annotations

import json

import pytest
import torch

from adapterx.api import evaluate, train
from adapterx.store import META_FILE, is_complete, read_meta

KINDS = {"classification": "mnli", "multiple_choice": "copa", "qa": "squad"}


@pytest.mark.parametrize("method", ["bottleneck", "lora"])
@pytest.mark.parametrize("kind", list(KINDS))
def test_train_save_reload_reuse(make_cfg, method, kind, capsys):
    task = KINDS[kind]
    cfg = make_cfg(method=method, eval_split="dev")
    path = train(task, cfg=cfg)
    assert is_complete(path)
    meta = read_meta(path)
    assert meta["task"] == task and meta["method"] == method and meta["head"]["kind"] == kind
    assert meta["base_model"]["fingerprint"]["hidden_size"] == 64
    native = {"lora": "adapter_model.safetensors", "bottleneck": "adapter.safetensors"}[method]
    assert (path / native).is_file() and (path / "adapter_config.json").is_file()
    assert not list(path.glob("*.bin")), "weights must be safetensors, not pickles"

    # the reloaded module scores its English dev set exactly as it did right after training
    results = evaluate(module=str(path), target=task, cfg=cfg)
    saved = meta["metrics"]["english_dev"]
    primary = "f1" if kind == "qa" else "accuracy"
    got = results["per_language"]["en"]
    assert (got["f1"] if kind == "qa" else got) == pytest.approx(saved[primary], abs=1e-6)

    # a second call trains nothing and says so
    capsys.readouterr()
    again = train(task, cfg=cfg)
    assert again == path
    assert "reusing" in capsys.readouterr().out


def test_changed_hyperparameter_gets_a_new_module(make_cfg):
    first = train("mnli", cfg=make_cfg(method="lora"))
    second = train("mnli", cfg=make_cfg(method="lora", **{"lora__r": 2}))
    assert first != second


def test_native_formats_load_with_plain_libraries(make_cfg, tiny_model):
    from transformers import AutoModel

    lora_dir = train("mnli", cfg=make_cfg(method="lora"))
    from peft import PeftModel

    peft_model = PeftModel.from_pretrained(AutoModel.from_pretrained(tiny_model), str(lora_dir))
    assert any("lora_A" in n for n, _ in peft_model.named_parameters())

    import adapters

    bn_dir = train("mnli", cfg=make_cfg(method="bottleneck"))
    plain = AutoModel.from_pretrained(tiny_model)
    adapters.init(plain)
    name = plain.load_adapter(str(bn_dir), use_safetensors=True)
    assert name in plain.adapters_config.adapters


def test_double_seq_bn_and_full(make_cfg):
    houlsby = read_meta(train("mnli", cfg=make_cfg(**{"bottleneck__architecture": "double_seq_bn"})))
    config = json.loads((houlsby and (train("mnli", cfg=make_cfg(**{"bottleneck__architecture": "double_seq_bn"}))
                                      / "adapter_config.json")).read_text())
    assert config["config"]["mh_adapter"] is True  # Houlsby adds one after attention too
    full = train("mnli", cfg=make_cfg(method="full"))
    assert (full / "model.safetensors").is_file() and (full / META_FILE).is_file()
    assert read_meta(full)["trainable_params"] > houlsby["trainable_params"]


@pytest.mark.bnb
@pytest.mark.parametrize("quant,method,checkpointing", [("8bit", "lora", True), ("4bit", "bottleneck", False)])
def test_quantized_bases_train(make_cfg, quant, method, checkpointing):
    cfg = make_cfg(method=method, quant=quant, **{"training__max_train_examples": 8,
                                                  "training__gradient_checkpointing": checkpointing})
    path = train("copa", cfg=cfg)
    meta = read_meta(path)
    assert meta["base_model"]["quant"] == quant and meta["base_model"]["dtype"] == "bfloat16"
    assert torch.isfinite(torch.tensor(meta["metrics"]["english_dev"]["accuracy"]))


def test_same_seed_same_module(make_cfg, tmp_path):
    from safetensors.torch import load_file

    a = train("copa", cfg=make_cfg(modules_dir=str(tmp_path / "a")))
    b = train("copa", cfg=make_cfg(modules_dir=str(tmp_path / "b")))
    wa, wb = load_file(str(a / "adapterx_head.safetensors")), load_file(str(b / "adapterx_head.safetensors"))
    assert all(torch.equal(wa[k], wb[k]) for k in wa)
    assert read_meta(a)["metrics"] == read_meta(b)["metrics"]
