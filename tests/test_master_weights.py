"""Trainable weights stay fp32 on a bf16 / 8-bit / 4-bit base, and a short training moves every
one of them (bf16 weights would round most lr * update steps away); AdapterFusion's value-matrix
regularization is part of the training loss."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from transformers import set_seed

from adapterx.backbone import load_backbone
from adapterx.composition import Composition
from adapterx.configs.methods import BottleneckSettings, FusionSettings, LoraSettings
from adapterx.data.features import Collator, tokenize
from adapterx.data.loading import english_train_dev
from adapterx.methods import get_method
from adapterx.presets.tiny import TINY_DATA
from adapterx.recipes.common import build_model
from adapterx.tasks import get_task
from adapterx.training import TrainSettings, _ModuleTrainer, train_model

TASK = "mnli"
# tanh, not relu: a relu unit that is negative on every token of a tiny batch gets no gradient
# in fp32 either, which would hide what this measures
SETTINGS = {"bottleneck": BottleneckSettings(reduction_factor=4, non_linearity="tanh"), "lora": LoraSettings(r=4)}


def _composed(model_dir: Path, method_name: str, setup: str, dtype: str, quant: str = "none"):
    """A tiny base with a trainable composition: the target module (direct) or a fusion of two
    frozen modules with non-zero weights (a fresh LoRA's B is zero: nothing to fuse)."""
    bb = load_backbone(str(model_dir), dtype, quant, "cpu")
    set_seed(0)
    method = get_method(method_name)
    method.prepare(bb)
    if setup == "direct":
        method.add(bb, "target", SETTINGS[method_name])
        method.compose(bb, Composition("direct"), "target")
    else:
        for name in ("m1", "m2"):
            method.add(bb, name, SETTINGS[method_name])
        with torch.no_grad():
            for pname, p in bb.model.named_parameters():
                if "lora_B" in pname:
                    p.normal_(std=0.05)
        method.compose(bb, Composition("fuse", ("m1", "m2")), "fusion", FusionSettings())
    return bb, method, build_model(bb, get_task(TASK))


def _features(bb, n: int = 8):
    task = get_task(TASK)
    train_ex, _ = english_train_dev(task, str(TINY_DATA), n, 4, 0)
    return tokenize(task, train_ex, bb.tokenizer, 48, 16, train=True), Collator(bb.tokenizer, task.kind)


def _train(bb, model, work: Path, regularizer=None, lr: float = 1e-4) -> None:
    """Four optimizer steps at the adapter papers' learning rate."""
    features, collator = _features(bb)
    settings = TrainSettings(learning_rate=lr, epochs=2, batch_size=4, grad_accum=1, warmup_ratio=0.0,
                             weight_decay=0.0, logging_steps=1, seed=0, save_checkpoints=False)
    extra = {"regularizer": regularizer} if regularizer is not None else {}
    train_model(model, features, collator, settings, work, bb.device, bb.dtype, progress=False, **extra)


def _changed_fraction(model, run) -> tuple[float, dict[str, float], set[torch.dtype]]:
    """Run `run()`; the fraction of trainable elements it changed (overall and per tensor)."""
    trainable = {n: p for n, p in model.named_parameters() if p.requires_grad}
    before = {n: p.detach().clone() for n, p in trainable.items()}
    run()
    per = {n: (p.detach() != before[n]).float().mean().item() for n, p in trainable.items()}
    total = sum(p.numel() for p in trainable.values())
    changed = sum((p.detach() != before[n]).sum().item() for n, p in trainable.items())
    return changed / total, per, {p.dtype for p in trainable.values()}


@pytest.mark.parametrize("method_name,setup", [("bottleneck", "direct"), ("bottleneck", "fuse"),
                                               ("lora", "direct"), ("lora", "fuse")])
@pytest.mark.parametrize("dtype", ["fp32", "bf16"])
def test_training_moves_every_trainable_weight_in_fp32_and_bf16(tiny_model, tmp_path, method_name, setup, dtype):
    bb, method, model = _composed(tiny_model, method_name, setup, dtype)
    assert bb.dtype == {"fp32": torch.float32, "bf16": torch.bfloat16}[dtype]
    if dtype == "bf16":  # the frozen base stays in the compute dtype: only what trains is fp32
        assert bb.model.get_input_embeddings().weight.dtype == torch.bfloat16
    fraction, per, dtypes = _changed_fraction(
        model, lambda: _train(bb, model, tmp_path / "work", getattr(method, "regularizer", None)))
    stuck = {n: round(f, 3) for n, f in per.items() if f < 0.9}
    assert fraction >= 0.99 and not stuck, (fraction, stuck)
    assert dtypes == {torch.float32}


def test_bf16_evaluation_matches_fp32_modules_closely(tiny_model):
    """fp32 adapters inside a bf16 base compute the same function as in an fp32 base, up to bf16
    rounding (inputs go in as fp32, outputs come back in bf16)."""
    outs = {}
    for dtype in ("fp32", "bf16"):
        bb, _, model = _composed(tiny_model, "bottleneck", "fuse", dtype)
        model.eval()
        batch = bb.tokenizer(["a short sentence", "another one here"], return_tensors="pt", padding=True)
        with torch.no_grad():
            outs[dtype] = model(**batch)["logits"]
        assert outs[dtype].dtype == torch.float32
    assert torch.allclose(outs["fp32"], outs["bf16"], atol=0.05), (outs["fp32"] - outs["bf16"]).abs().max()


@pytest.mark.bnb
@pytest.mark.parametrize("quant", ["8bit", "4bit"])
def test_quantized_base_trains_fp32_adapters(tiny_model, tmp_path, quant):
    bb, method, model = _composed(tiny_model, "bottleneck", "fuse", "auto", quant)
    assert bb.dtype == torch.bfloat16
    fraction, per, dtypes = _changed_fraction(
        model, lambda: _train(bb, model, tmp_path / "work", method.regularizer))
    assert fraction >= 0.99, (fraction, {n: f for n, f in per.items() if f < 0.9})
    assert dtypes == {torch.float32}


def test_fresh_mlm_head_trains_in_fp32(tiny_model):
    from adapterx.multihead import FreshMLMHead, build_mlm_head

    bb = load_backbone(str(tiny_model), "bf16", "none", "cpu")
    head, how = build_mlm_head(bb)  # the tiny checkpoint has no MLM head: a fresh one
    assert how == "fresh" and isinstance(head, FreshMLMHead)
    assert {p.dtype for p in head.parameters()} == {torch.float32}
    logits = head(torch.randn(3, bb.hidden_size))
    assert logits.shape == (3, bb.model.config.vocab_size)


def test_full_fine_tuning_trains_fp32_master_weights(tiny_model, tmp_path):
    bb = load_backbone(str(tiny_model), "bf16", "none", "cpu")
    method = get_method("full")
    method.add(bb, "target")
    method.compose(bb, Composition("direct"), "target")
    model = build_model(bb, get_task(TASK))
    # the paper's 1e-5: below a bf16 weight's rounding step for nearly every weight
    _, per, dtypes = _changed_fraction(model, lambda: _train(bb, model, tmp_path / "work", lr=1e-5))
    # every weight matrix of the layers moves (embedding rows of unseen tokens cannot)
    layers = {n: round(f, 3) for n, f in per.items() if ".layer." in n and n.endswith("dense.weight")}
    assert layers and min(layers.values()) >= 0.99, layers
    assert dtypes == {torch.float32}


def _library_term(model) -> torch.Tensor:
    """adapters' own value-matrix regularization, as its AdapterTrainer computes it."""
    return model.encoder.get_fusion_regularization_loss()


def test_fusion_regularization_is_in_the_training_loss(tiny_model, tmp_path):
    bb, method, model = _composed(tiny_model, "bottleneck", "fuse", "fp32")
    assert method.regularizer is not None  # the default (dynamic) fusion asks for it
    with torch.no_grad():  # move V away from the identity so that the term is not ~0
        for name, p in model.named_parameters():
            if ".value." in name and p.requires_grad:
                p.add_(torch.randn_like(p) * 0.1)
    features, collator = _features(bb, n=8)
    batch = collator([features[i] for i in range(4)])
    model.eval()  # no dropout: both losses see the same forward pass
    trainer = _ModuleTrainer(model=model, args=_args(tmp_path), data_collator=collator)
    plain = trainer.compute_loss(model, dict(batch))
    trainer.regularizer = method.regularizer
    with_term = trainer.compute_loss(model, dict(batch))
    term = _library_term(model)
    assert term.item() > 0.1
    assert with_term.item() == pytest.approx(plain.item() + term.item(), rel=1e-5)


def test_fusion_regularization_is_logged(tiny_model, tmp_path):
    bb, method, model = _composed(tiny_model, "bottleneck", "fuse", "fp32")
    with torch.no_grad():
        for name, p in model.named_parameters():
            if ".value." in name and p.requires_grad:
                p.add_(torch.randn_like(p) * 0.1)
    first = _library_term(model).item()
    logged: list[dict] = []
    original_log = _ModuleTrainer.log

    def spy(self, logs, *args, **kwargs):
        original_log(self, logs, *args, **kwargs)
        logged.append(dict(logs))

    _ModuleTrainer.log = spy
    try:
        _train(bb, model, tmp_path / "work", method.regularizer)
    finally:
        _ModuleTrainer.log = original_log
    values = [d["fusion_regularization"] for d in logged if "fusion_regularization" in d]
    assert len(values) == 4  # logging_steps=1: one per step
    assert values[0] == pytest.approx(first, rel=1e-3)  # the first step saw the initial weights


def test_static_fusion_has_no_regularizer(tiny_model):
    bb = load_backbone(str(tiny_model), "fp32", "none", "cpu")
    method = get_method("bottleneck")
    method.prepare(bb)
    for name in ("m1", "m2"):
        method.add(bb, name, SETTINGS["bottleneck"])
    method.compose(bb, Composition("fuse", ("m1", "m2")), "fusion", FusionSettings(kind="static"))
    assert method.regularizer is None


def _args(tmp_path: Path):
    from adapterx.training import training_arguments

    settings = TrainSettings(learning_rate=1e-4, epochs=1, batch_size=4, grad_accum=1, warmup_ratio=0.0,
                             weight_decay=0.0, logging_steps=1, seed=0, save_checkpoints=False)
    return training_arguments(settings, tmp_path / "args", torch.device("cpu"), torch.float32, progress=False)
