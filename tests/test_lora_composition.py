"""LoRA fusion and LoRA merging: exactness at initialisation, gradients, traps, save/load/eval."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner

from adapterx.api import evaluate, fuse, merge, train
from adapterx.backbone import load_backbone
from adapterx.cli import main
from adapterx.composition import Composition
from adapterx.configs.methods import MergeSettings
from adapterx.errors import AdapterxError
from adapterx.methods import get_method
from adapterx.methods.lora.fusion import FusionBlock
from adapterx.methods.lora.merge import MERGED, merge_modules, peft_combination
from adapterx.recipes.target import attach_modules
from adapterx.recipes.train_module import ModuleRecord


def _loaded(cfg, tasks_and_cfgs):
    """A tiny backbone with the LoRA modules of each (task, cfg) loaded, frozen."""
    records = [ModuleRecord(t, train(t, cfg=c), "", True) for t, c in tasks_and_cfgs]
    bb = load_backbone(cfg.model, device="cpu")
    method = get_method("lora")
    attach_modules(bb, cfg, records)
    return bb, method


def _hidden(bb) -> torch.Tensor:
    ids = bb.tokenizer(["a short sentence", "another one here"], return_tensors="pt", padding=True)
    bb.model.eval()
    with torch.no_grad():
        return bb.model(**ids).last_hidden_state.clone()


def test_fusion_block_weights_sum_to_one_and_start_uniform():
    block = FusionBlock(dim=8, attn_dim=4, temperature=1.0)
    hidden, deltas = torch.randn(2, 3, 8), torch.randn(3, 2, 3, 8)
    w = block.weights(hidden, deltas)
    assert w.shape == (3, 2, 3)
    assert torch.allclose(w, torch.full_like(w, 1 / 3))  # zero query: plain average at the start
    with torch.no_grad():
        block.query.weight.normal_()
    w = block.weights(hidden, deltas)
    assert torch.allclose(w.sum(0), torch.ones(2, 3))
    assert not torch.allclose(w, torch.full_like(w, 1 / 3))


def test_lora_fusion_of_one_module_reproduces_it(make_cfg):
    cfg = make_cfg(method="lora")
    bb, method = _loaded(cfg, [("mnli", cfg)])
    method.compose(bb, Composition("stack", ("mnli",)), None)
    alone = _hidden(bb)
    method.compose(bb, Composition("fuse", ("mnli",)), "fusion", cfg.fusion)
    with torch.no_grad():  # whatever the fusion weights, one module gets weight exactly 1
        for p in bb.model.lora_fusion.parameters():
            p.normal_()
    fused = _hidden(bb)
    assert torch.allclose(alone, fused, atol=1e-5)
    bb.model.lora_fusion.detach()  # without the fusion hooks the layers give the bare base
    assert not torch.allclose(_hidden(bb), alone, atol=1e-4)


def test_lora_fusion_at_init_equals_the_average_merge(make_cfg):
    """Two independent implementations agree: fusion at init = merge linear 0.5/0.5 (peft cat)."""
    cfg = make_cfg(method="lora")
    bb, method = _loaded(cfg, [("mnli", cfg), ("copa", cfg)])
    method.compose(bb, Composition("fuse", ("mnli", "copa")), "fusion", cfg.fusion)
    fused = _hidden(bb)
    bb.model.lora_fusion.detach()
    merge_modules(bb.model, ("mnli", "copa"), MergeSettings(how="linear", weights=[0.5, 0.5]))
    bb.model.base_model.set_adapter([MERGED])
    for _, layer in bb.model.named_modules():
        if hasattr(layer, "enable_adapters") and hasattr(layer, "lora_A"):
            layer.enable_adapters(True)
    merged = _hidden(bb)
    assert torch.allclose(fused, merged, atol=1e-5)


def test_lora_fusion_gradients_reach_only_fusion_and_head(make_cfg):
    from adapterx.recipes.common import build_model
    from adapterx.tasks import get_task

    cfg = make_cfg(method="lora")
    bb, method = _loaded(cfg, [("mnli", cfg), ("copa", cfg)])
    method.compose(bb, Composition("fuse", ("mnli", "copa")), "fusion", cfg.fusion)
    model = build_model(bb, get_task("xnli"))
    trainable = {n for n, p in model.named_parameters() if p.requires_grad}
    assert trainable and all(n.startswith(("head.", "encoder.lora_fusion.")) for n in trainable)
    ids = bb.tokenizer(["premise one", "premise two"], return_tensors="pt", padding=True)
    out = model(input_ids=ids["input_ids"], attention_mask=ids["attention_mask"],
                labels=torch.tensor([0, 2]))
    out["loss"].backward()
    reached = {n for n, p in model.named_parameters() if p.grad is not None and p.grad.abs().sum() > 0}
    assert any("lora_fusion" in n and "query" in n for n in reached)
    assert reached <= trainable


@pytest.mark.heavy  # over 4 s: CI runs it in its second step
def test_lora_fusion_run_saves_loads_and_re_evaluates(make_cfg):
    cfg = make_cfg(method="lora", langs=["de", "sw"], eval_split="dev")
    results = fuse("mnli,copa", "xnli", cfg=cfg)
    assert results["setup"] == "lora-fusion" and results["inter"] == ["mnli", "copa"]
    run = next(p for p in (Path(cfg.output) / "xnli").iterdir() if p.name.startswith("lora-fusion"))
    assert {"lora_fusion.safetensors", "lora_fusion.json"} <= {p.name for p in (run / "module").iterdir()}
    spec = json.loads((run / "module" / "lora_fusion.json").read_text())
    assert spec["modules"] == ["mnli", "copa"] and spec["layers"]
    again = evaluate(run=str(run), cfg=make_cfg(langs=["de", "sw"], eval_split="dev"))
    assert again["per_language"] == results["per_language"]


def test_merge_linear_is_the_exact_weighted_sum_of_updates_for_any_ranks(make_cfg):
    cfg = make_cfg(method="lora")
    wide = make_cfg(method="lora", **{"lora__r": 6})
    bb, _ = _loaded(cfg, [("mnli", cfg), ("copa", wide)])
    report = merge_modules(bb.model, ("mnli", "copa"), MergeSettings(how="linear", weights=[0.7, -0.3]))
    assert report["peft_combination"] == "cat" and report["ranks"] == [4, 6]
    checked = 0
    for _, layer in bb.model.named_modules():
        if hasattr(layer, "get_delta_weight") and MERGED in getattr(layer, "lora_A", {}):
            want = 0.7 * layer.get_delta_weight("mnli") - 0.3 * layer.get_delta_weight("copa")
            assert torch.allclose(layer.get_delta_weight(MERGED), want, atol=1e-6)
            checked += 1
    assert checked > 0


def test_merge_traps_are_refused_with_a_fix(make_cfg):
    assert peft_combination(MergeSettings(how="ties"), [4, 4]) == ("ties_svd", 8)
    assert peft_combination(MergeSettings(how="svd", svd_rank=3), [4, 6]) == ("svd", 3)
    with pytest.raises(AdapterxError, match="(?s)one rank.*merge.space=delta"):
        peft_combination(MergeSettings(how="linear", space="ab"), [4, 6])
    assert peft_combination(MergeSettings(how="ties", space="ab"), [4, 4]) == ("ties", None)
    with pytest.raises(AdapterxError, match="2 values for 3 modules"):
        MergeSettings(weights=[1.0, 2.0]).weights_for(3)
    assert MergeSettings(how="ties").weights_for(2) == [1.0, 1.0]
    assert MergeSettings(how="linear").weights_for(4) == [0.25] * 4
    with pytest.raises(AdapterxError, match="valid choices"):
        MergeSettings(how="average")
    with pytest.raises(AdapterxError, match="needs LoRA modules"):
        Composition("merge", ("a", "b")).check_method("bottleneck")


@pytest.mark.parametrize("how", ["ties", "dare_linear", "magnitude_prune"])
def test_sparsifying_merges_run_on_the_updates(make_cfg, how):
    cfg = make_cfg(method="lora")
    bb, _ = _loaded(cfg, [("mnli", cfg), ("copa", cfg)])
    torch.manual_seed(0)
    report = merge_modules(bb.model, ("mnli", "copa"), MergeSettings(how=how, density=0.5))
    assert report["peft_combination"] == f"{how}_svd" and report["svd_rank"] == 8
    layer = next(m for _, m in bb.model.named_modules() if MERGED in getattr(m, "lora_A", {}))
    delta = layer.get_delta_weight(MERGED)
    assert torch.isfinite(delta).all() and delta.abs().sum() > 0


@pytest.mark.heavy  # over 4 s: CI runs it in its second step
def test_merge_run_records_how_and_re_evaluates(make_cfg):
    cfg = make_cfg(method="lora", langs=["de"], eval_split="dev",
                   **{"merge__how": "ties", "merge__weights": "0.7,0.3"})
    results = merge("mnli,copa", "xnli", cfg=cfg)
    assert results["setup"] == "merge" and results["merge"]["weights"] == [0.7, 0.3]
    assert results["merge"]["peft_combination"] == "ties_svd"
    run = next(p for p in (Path(cfg.output) / "xnli").iterdir() if p.name.startswith("merge"))
    assert (run / "module" / MERGED / "adapter_model.safetensors").is_file()
    again = evaluate(run=str(run), cfg=make_cfg(langs=["de"], eval_split="dev"))
    assert again["per_language"] == results["per_language"]


def test_merge_cli_errors_exit_2(make_cfg):
    runner = CliRunner()
    out = runner.invoke(main, ["merge", "--inter", "mnli,copa", "--target", "xnli", "--how", "mean",
                               "--preset", "tiny"])
    assert out.exit_code == 2 and "linear" in out.output and "ties" in out.output
    out = runner.invoke(main, ["merge", "--inter", "mnli,copa", "--target", "xnli", "--method",
                               "bottleneck", "--preset", "tiny"])
    assert out.exit_code == 2 and "needs LoRA modules" in out.output
