"""`sequential`: the intermediate module itself (a copy) and its head continue training on the
target; head.pooling / head.dropout."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner
from safetensors.torch import load_file

from adapterx.api import evaluate, sequential, train
from adapterx.cli import main
from adapterx.configs import HeadSettings
from adapterx.heads import MultipleChoiceHead, TaskModel
from adapterx.recipes.common import learning_settings
from adapterx.store import read_meta
from adapterx.tasks import get_task


def _digests(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir()) if p.is_file()}


def _weights(folder: Path, name: str) -> dict[str, torch.Tensor]:
    """The module's weights (head excluded), keyed without the adapter's name."""
    out = {}
    for f in folder.glob("*.safetensors"):
        if "head" not in f.name:
            out.update({k.replace(f".{name}.", ".X."): v for k, v in load_file(str(f)).items()})
    return out


@pytest.mark.parametrize("method,extra", [
    ("lora", {"head__pooling": "mean", "head__dropout": 0.0}),
    ("bottleneck", {}),
])
def test_sequential_continues_the_module_and_leaves_the_cache_alone(make_cfg, method, extra):
    cfg = make_cfg(method=method, langs=["et"], **extra)
    module = train("siqa", cfg=cfg)  # `training.*` == `inter.*` in make_cfg: the module sequential reuses
    before = _digests(module)
    results = sequential("siqa", "xcopa", cfg=cfg)
    assert results["setup"] == "sequential" and results["inter"] == ["siqa"]
    assert results["modules"][0]["path"] == str(module)  # the cached module was reused, not retrained
    assert _digests(module) == before  # ... and never written to
    # no new module: what trains is the intermediate module + its head (siqa's and xcopa's are one shape)
    assert results["head_init"] == "siqa"
    assert results["trainable_params"] == read_meta(module)["trainable_params"]
    run = next(p for p in (Path(cfg.output) / "xcopa").iterdir() if p.name.startswith("sequential-siqa"))
    saved = run / "module"
    meta = read_meta(saved)
    assert meta["composition"] == {"setup": "sequential", "inter": ["siqa"]}
    assert meta["head"]["pooling"] == ("mean" if extra else "cls")
    start, end = _weights(module, "siqa"), _weights(saved, "target")
    assert start.keys() == end.keys() and start  # the same module, in its native format
    assert any(not torch.equal(start[k], end[k]) for k in start)  # ... whose weights trained on
    # eval --run reloads the continued module alone (not the cached one under it) with its head
    again = evaluate(run=str(run), cfg=make_cfg(langs=["et"]))
    assert again["per_language"] == results["per_language"] and again["setup"] == "sequential"


def test_sequential_reload_builds_the_saved_pooling(make_cfg):
    from adapterx.recipes.evaluate import load_trained

    cfg = make_cfg(method="lora", langs=["et"], head__pooling="mean")
    sequential("siqa", "xcopa", cfg=cfg)
    run = next(p for p in (Path(cfg.output) / "xcopa").iterdir() if p.name.startswith("sequential-siqa"))
    model, bb, comp, inter = load_trained(run / "module", read_meta(run / "module"), get_task("xcopa"),
                                          make_cfg(), cfg.model)
    assert model.pooling == "mean"  # from adapterx.json, not from the (default) config of the eval
    # the continued module alone: the cached siqa module it started from must not sit under it
    assert set(bb.model.peft_config) == {"target"} and comp.setup == "sequential" and inter == ["siqa"]


def test_sequential_takes_exactly_one_intermediate_task():
    out = CliRunner().invoke(main, ["sequential", "--inter", "siqa,copa", "--target", "xcopa", "--preset", "tiny"])
    assert out.exit_code == 2 and "one intermediate module" in out.output and "--inter" in out.output


def test_mean_pooling_reads_only_real_tokens():
    torch.manual_seed(0)
    hidden = torch.randn(2, 5, 8)
    mask = torch.tensor([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]])

    class Encoder(torch.nn.Module):
        def forward(self, input_ids, attention_mask):
            return type("Out", (), {"last_hidden_state": hidden})()

    head = MultipleChoiceHead(8, dropout=0.0)
    model = TaskModel(Encoder(), head, "multiple_choice", pooling="mean")
    logits = model(input_ids=torch.zeros(1, 2, 5, dtype=torch.long), attention_mask=mask.view(1, 2, 5))["logits"]
    want = head(torch.stack([hidden[0, :3].mean(0), hidden[1].mean(0)])).view(1, 2)
    assert torch.allclose(logits, want)
    cls = TaskModel(Encoder(), head, "multiple_choice")(input_ids=torch.zeros(1, 2, 5, dtype=torch.long),
                                                         attention_mask=mask.view(1, 2, 5))["logits"]
    assert torch.allclose(cls, head(hidden[:, 0]).view(1, 2))


def test_head_settings_leave_keys_unchanged_at_their_defaults(make_cfg):
    cfg = make_cfg()
    task = get_task("xcopa")
    assert "head" not in cfg.to_dict() and "head" not in learning_settings(task, cfg)
    mean = make_cfg(head__pooling="mean")
    assert learning_settings(task, mean)["head"] == {"pooling": "mean"} and mean.to_dict()["head"]["pooling"] == "mean"
    assert "head" not in learning_settings(get_task("squad"), mean)  # a span head pools nothing
    assert learning_settings(task, make_cfg(head__dropout=0.0))["head"] == {"dropout": 0.0}


def test_head_settings_are_checked():
    from adapterx.errors import AdapterxError

    with pytest.raises(AdapterxError, match="cls"):
        HeadSettings(pooling="max")
    with pytest.raises(ValueError, match="head.dropout"):
        HeadSettings(dropout=1.0)


def test_grid_plans_sequential_per_intermediate_task_and_full_once():
    from adapterx.recipes.grid_plan import GridSpec, plan_cells

    spec = GridSpec(name="g", intermediate=["siqa", "copa"], targets=["xcopa"], setups=["sequential", "stack"],
                    methods=["lora", "full"])
    cells, notes = plan_cells(spec)
    seq = sorted((c.inter, c.method) for c in cells if c.setup == "sequential")
    assert seq == [(("copa",), "lora"), (("siqa",), "lora")]  # full's is the stack cell (full-stilts)
    assert any("sequential with method full" in n for n in notes)
    assert {c.inter for c in cells if c.setup == "stack" and c.method == "full"} == {("siqa",), ("copa",)}


def test_compare_runs_sequential():
    from adapterx.recipes.compare import SETUP_RUNNERS, resolve_setups

    assert SETUP_RUNNERS["sequential"].uses_inter and SETUP_RUNNERS["sequential"].method is None
    assert resolve_setups("sequential", ["siqa"]) == ["direct", "sequential"]


def test_sequential_with_full_fine_tuning_is_the_full_stilts_run(make_cfg, capsys):
    from adapterx.api import stack

    cfg = make_cfg(method="full", langs=["et"])
    results = sequential("siqa", "xcopa", cfg=cfg)
    assert results["setup"] == "full-stilts" and "is full-stilts" in capsys.readouterr().out
    again = stack("siqa", "xcopa", cfg=cfg)
    assert again["config_hash"] == results["config_hash"] and "already done" in capsys.readouterr().out
