"""Stack and fuse: forward + backward with gradients only where they belong."""

from __future__ import annotations

import pytest
import torch

from adapterx.api import train
from adapterx.backbone import load_backbone
from adapterx.composition import Composition
from adapterx.data.features import Collator, tokenize
from adapterx.data.loading import load_examples
from adapterx.errors import AdapterxError, ModuleMismatchError
from adapterx.methods import get_method
from adapterx.recipes.common import build_model
from adapterx.recipes.target import TARGET_MODULE, attach_modules
from adapterx.recipes.train_module import ModuleRecord
from adapterx.tasks import get_task


def _batch(bb, task_name, cfg, n=4):
    task = get_task(task_name)
    source = get_task(task.train_task)
    examples = load_examples(source, "train", "en", cfg.data_dir)[:n]
    feats = tokenize(task, examples, bb.tokenizer, 64, 32, train=True)
    return Collator(bb.tokenizer, task.kind)([feats[i] for i in range(len(feats))])


def _setup(cfg, method, inter, setup):
    records = [ModuleRecord(t, train(t, cfg=cfg), "", True) for t in inter]
    bb = load_backbone(cfg.model, device="cpu")
    m = get_method(method)
    m.prepare(bb)
    attach_modules(bb, cfg, records)
    comp = Composition(setup, tuple(inter))
    if setup != "fuse":
        m.add(bb, TARGET_MODULE, cfg.lora if method == "lora" else cfg.bottleneck)
    m.compose(bb, comp, TARGET_MODULE if setup != "fuse" else "fusion", cfg.fusion)
    return bb


def _grad_report(model):
    model.zero_grad(set_to_none=True)
    return {n: p for n, p in model.named_parameters()}


@pytest.mark.parametrize("method,setup,trainable_mark", [
    ("bottleneck", "fuse", "adapter_fusion_layer"),
    ("bottleneck", "stack", f"adapters.{TARGET_MODULE}."),
    ("lora", "stack", f".{TARGET_MODULE}."),
    ("lora", "fuse", "lora_fusion."),
])
def test_gradients_reach_only_composition_and_head(make_cfg, method, setup, trainable_mark):
    cfg = make_cfg(method=method)
    bb = _setup(cfg, method, ["mnli", "copa"], setup)
    model = build_model(bb, get_task("xnli"))
    params = dict(model.named_parameters())
    model(**_batch(bb, "xnli", cfg))["loss"].backward()
    reached = {n for n, p in params.items() if p.grad is not None and p.grad.abs().sum() > 0}
    assert reached, "no gradient at all"
    for name in reached:
        assert name.startswith("head.") or trainable_mark in name, f"gradient leaked into {name}"
    assert any(trainable_mark in n for n in reached)
    assert any(n.startswith("head.") for n in reached)
    for name, p in params.items():
        if ".mnli." in name or ".copa." in name or "adapters.mnli" in name or "adapters.copa" in name:
            assert not p.requires_grad, f"intermediate module weight {name} is trainable"


@pytest.mark.parametrize("method", ["bottleneck", "lora"])
def test_stack_uses_the_intermediate_modules(make_cfg, method):
    """Changing an intermediate module's weights changes the stacked model's output."""
    cfg = make_cfg(method=method)
    bb = _setup(cfg, method, ["mnli"], "stack")
    model = build_model(bb, get_task("xnli")).eval()
    batch = _batch(bb, "xnli", cfg)
    batch.pop("labels")
    with torch.no_grad():
        before = model(**batch)["logits"].clone()
        for name, p in model.named_parameters():
            if ("adapters.mnli" in name or ".mnli." in name) and p.dim() == 2:
                p.add_(torch.randn_like(p))
        after = model(**batch)["logits"]
    assert not torch.allclose(before, after)


def test_fuse_refuses_adapters_of_different_structure(make_cfg):
    a = train("mnli", cfg=make_cfg())
    b = train("copa", cfg=make_cfg(**{"bottleneck__architecture": "double_seq_bn"}))
    cfg = make_cfg()
    bb = load_backbone(cfg.model, device="cpu")
    m = get_method("bottleneck")
    m.prepare(bb)
    attach_modules(bb, cfg, [ModuleRecord("mnli", a, "", True), ModuleRecord("copa", b, "", True)])
    with pytest.raises(AdapterxError, match="same structure"):
        m.compose(bb, Composition("fuse", ("mnli", "copa")), "fusion", cfg.fusion)


def test_module_from_another_base_is_refused(make_cfg, other_tiny_model):
    path = train("mnli", cfg=make_cfg())
    cfg = make_cfg(model=str(other_tiny_model))
    bb = load_backbone(cfg.model, device="cpu")
    get_method("bottleneck").prepare(bb)
    with pytest.raises(ModuleMismatchError, match="trained on base model"):
        attach_modules(bb, cfg, [ModuleRecord("mnli", path, "", True)])


def test_composition_validation():
    with pytest.raises(AdapterxError, match="valid choices"):
        Composition("blend", ("a",))
    Composition("fuse", ("a", "b")).check_method("lora")  # LoRA fusion
    assert Composition("fuse", ("a", "b")).name("lora") == "lora-fusion"
    with pytest.raises(AdapterxError, match="cannot merge"):
        Composition("merge", ("a", "b")).check_method("full")
    with pytest.raises(AdapterxError, match="one intermediate"):
        Composition("stack", ("a", "b")).check_method("full")
    assert Composition("stack", ("squad",)).name("full") == "full-stilts"
    assert Composition.from_dict(Composition("fuse", ("a", "b")).to_dict()) == Composition("fuse", ("a", "b"))
