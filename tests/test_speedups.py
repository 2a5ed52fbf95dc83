"""Speed-ups of the training / evaluation path, checked by behaviour (never by time): length-grouped
batches, optimizer choice, cached evaluation features, length-sorted evaluation batches, LoRA merged
for the final evaluation, SDPA attention; plus smoke runs of the cost benchmarks."""

from __future__ import annotations

import dataclasses
import functools
import json
from pathlib import Path

import pytest
import torch

from adapterx.backbone import load_backbone
from adapterx.composition import Composition
from adapterx.configs.methods import LoraSettings
from adapterx.data.features import Collator, tokenize
from adapterx.data.loading import load_examples
from adapterx.errors import UnknownChoiceError
from adapterx.methods import get_method
from adapterx.presets.tiny import TINY_DATA
from adapterx.recipes.common import build_model, eval_settings, learning_settings, train_settings
from adapterx.tasks import get_task
from adapterx.training import TrainSettings, _ModuleTrainer, train_model, training_arguments, with_lengths

CPU = torch.device("cpu")
BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def _settings(**kw) -> TrainSettings:
    base = dict(learning_rate=1e-3, epochs=1, batch_size=4, grad_accum=1, warmup_ratio=0.0, weight_decay=0.0,
                logging_steps=100, seed=0, save_checkpoints=False)
    return TrainSettings(**{**base, **kw})


def _lora_model(tiny_model, task_name: str = "mnli"):
    bb = load_backbone(str(tiny_model), device="cpu")
    method = get_method("lora")
    method.add(bb, "target", LoraSettings(r=4))
    method.compose(bb, Composition("direct"), "target")
    return bb, build_model(bb, get_task(task_name))


def _padding(loader) -> tuple[int, int]:
    """(padded positions, rows) over every batch of a loader."""
    padded = rows = 0
    for batch in loader:
        mask = batch["attention_mask"]
        padded += int(mask.numel() - mask.sum())
        rows += mask.shape[0]
    return padded, rows


# --- length-grouped training batches -------------------------------------------------------------

def test_group_by_length_pads_fewer_tokens_on_the_same_sample(tiny_model, tmp_path):
    task = get_task("siqa")  # multiple choice: the length must be the longest choice, not the choice count
    bb, model = _lora_model(tiny_model, "siqa")
    examples = load_examples(task, "train", "en", TINY_DATA)
    features = tokenize(task, examples, bb.tokenizer, 128, 32, train=True)
    result = {}
    for grouped in (False, True):
        args = training_arguments(_settings(group_by_length=grouped), tmp_path / str(grouped), CPU, torch.float32,
                                  progress=False)
        data = with_lengths(features) if grouped else features
        trainer = _ModuleTrainer(model=model, args=args, train_dataset=data,
                                 data_collator=Collator(bb.tokenizer, task.kind))
        result[grouped] = _padding(trainer.get_train_dataloader())
    assert result[True][1] == result[False][1] == len(features)  # every example once, either way
    assert result[True][0] < 0.75 * result[False][0]  # choices of one example still pad to each other


def test_with_lengths_counts_tokens_of_the_longest_choice(tiny_model):
    task = get_task("siqa")
    tok = load_backbone(str(tiny_model), device="cpu").tokenizer
    features = tokenize(task, load_examples(task, "train", "en", TINY_DATA)[:6], tok, 128, 32, train=True)
    lengths = with_lengths(features)["length"]
    assert lengths == [max(len(choice) for choice in row) for row in features["input_ids"]]


def test_train_model_runs_grouped_on_datasets_and_ignores_it_on_batch_lists(tiny_model, tmp_path, capsys):
    task = get_task("mnli")
    bb, model = _lora_model(tiny_model)
    features = tokenize(task, load_examples(task, "train", "en", TINY_DATA)[:16], bb.tokenizer, 64, 32, train=True)
    collator = Collator(bb.tokenizer, task.kind)
    out = train_model(model, features, collator, _settings(group_by_length=True), tmp_path / "a", CPU,
                      torch.float32, progress=False)
    assert out.steps == 4
    rows = features.to_list()  # not a datasets.Dataset (like multi-source batches): no grouping, no error
    out = train_model(model, rows, collator, _settings(group_by_length=True), tmp_path / "b", CPU,
                      torch.float32, progress=False)
    assert out.steps == 4
    assert "train_runtime" not in capsys.readouterr().out  # no bar and no raw log dicts either


# --- optimizer choice ---------------------------------------------------------------------------

def test_optim_key_reaches_training_arguments_and_the_optimizer(make_cfg, tiny_model, tmp_path):
    task = get_task("mnli")
    cfg = make_cfg(training__optim="adamw_torch_fused", training__group_by_length=True)
    settings = train_settings(task, cfg)
    assert (settings.optim, settings.group_by_length) == ("adamw_torch_fused", True)
    args = training_arguments(settings, tmp_path, CPU, torch.float32, progress=False)
    assert args.optim.value == "adamw_torch_fused" and args.group_by_length
    _, model = _lora_model(tiny_model)
    optimizer = _ModuleTrainer(model=model, args=args).create_optimizer()
    assert isinstance(optimizer, torch.optim.AdamW) and optimizer.defaults["fused"]
    default_args = training_arguments(train_settings(task, make_cfg()), tmp_path, CPU, torch.float32)
    # the defaults: length-grouped batches; optim auto = foreach AdamW on a CPU
    assert default_args.optim.value == "adamw_torch" and default_args.group_by_length


def test_optim_auto_is_fused_adamw_on_cuda_only(make_cfg, tmp_path):
    from adapterx.training import resolve_optim

    assert make_cfg().training.optim == "auto"
    assert resolve_optim("auto", torch.device("cuda")) == "adamw_torch_fused"
    assert resolve_optim("auto", CPU) == "adamw_torch"
    assert resolve_optim("adamw_bnb_8bit", torch.device("cuda")) == "adamw_bnb_8bit"  # a named one stays
    args = training_arguments(_settings(optim="auto"), tmp_path, CPU, torch.float32, progress=False)
    assert args.optim.value == "adamw_torch"  # TrainSettings built by hand with `auto` resolve too
    assert train_settings(get_task("mnli"), make_cfg()).optim == "adamw_torch"  # what results.json records


def test_lora_default_dropout_is_peft_default(tiny_model):
    from peft import LoraConfig

    from adapterx.configs.methods import LoraSettings

    assert LoraSettings().dropout == LoraConfig().lora_dropout == 0.0
    _, model = _lora_model(tiny_model)  # with dropout 0 peft puts no dropout on the LoRA input
    kinds = {type(m).__name__ for n, m in model.named_modules() if n.endswith("lora_dropout.target")}
    assert kinds == {"Identity"}


def test_8bit_optimizer_is_bitsandbytes(make_cfg, tiny_model, tmp_path):
    pytest.importorskip("bitsandbytes")
    settings = train_settings(get_task("mnli"), make_cfg(training__optim="adamw_bnb_8bit"))
    args = training_arguments(settings, tmp_path, CPU, torch.float32, progress=False)
    _, model = _lora_model(tiny_model)
    optimizer = _ModuleTrainer(model=model, args=args).create_optimizer()
    assert type(optimizer).__module__.startswith("bitsandbytes") and optimizer.args.optim_bits == 8


def test_unknown_optim_is_refused(make_cfg):
    with pytest.raises(UnknownChoiceError, match="adamw_torch_fused"):
        make_cfg(training__optim="sgd")


def test_new_settings_enter_cache_keys_only_when_changed(make_cfg):
    task = get_task("mnli")
    before = learning_settings(task, make_cfg(training__group_by_length=False))["train"]
    assert "optim" not in before and "group_by_length" not in before  # earlier modules keep their keys
    default = learning_settings(task, make_cfg())["train"]
    # grouping changes the batch order, hence the weights: default runs since it became the
    # default have their own keys (on a CPU optim auto is the old adamw_torch: not in the key)
    assert default["group_by_length"] is True and "optim" not in default
    changed = learning_settings(task, make_cfg(training__optim="adamw_bnb_8bit", training__group_by_length=True))
    assert changed["train"]["optim"] == "adamw_bnb_8bit" and changed["train"]["group_by_length"] is True


def test_multi_source_training_is_not_grouped_nor_keyed_as_grouped(make_cfg):
    from adapterx.recipes.multitask import multitask_settings

    tasks = [get_task("mnli"), get_task("siqa")]
    grouped = {"training.group_by_length": True}
    settings = multitask_settings(tasks, [10, 20], make_cfg(**grouped))  # batches drawn per source
    assert settings.group_by_length is False
    mlm = make_cfg(**grouped, **{"mlm.ratio": 0.5, "mlm.langs": ["en"]})
    assert mlm.mlm.enabled and train_settings(tasks[0], mlm).group_by_length is False
    assert "group_by_length" not in learning_settings(tasks[0], mlm)["train"]


# --- evaluation: cached features, length-sorted batches ------------------------------------------

def test_second_evaluation_of_the_same_set_does_not_retokenize(make_cfg, tiny_model, monkeypatch):
    import adapterx.evaluation as evaluation

    calls = []
    original = evaluation.tokenize

    def counting(*args, **kwargs):
        calls.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(evaluation, "tokenize", counting)
    evaluation.clear_feature_cache()
    task = get_task("mnli")
    bb, model = _lora_model(tiny_model)
    examples = load_examples(task, "dev", "en", TINY_DATA)
    ev = eval_settings(task, make_cfg())
    first = evaluation.evaluate(model, task, examples, bb.tokenizer, ev, CPU)
    second = evaluation.evaluate(model, task, examples, bb.tokenizer, ev, CPU)
    assert len(calls) == 1 and first.predictions == second.predictions
    fresh_tokenizer = load_backbone(str(tiny_model), device="cpu").tokenizer  # same files, another object
    evaluation.evaluate(model, task, examples, fresh_tokenizer, ev, CPU)
    assert len(calls) == 1
    evaluation.evaluate(model, task, examples, bb.tokenizer, dataclasses.replace(ev, max_seq_length=32), CPU)
    assert len(calls) == 2  # other settings: tokenized again
    evaluation.evaluate(model, task, examples[:-1], bb.tokenizer, ev, CPU)
    assert len(calls) == 3  # other examples: tokenized again
    evaluation.clear_feature_cache()


def test_length_sorted_eval_batches_pad_less_and_predict_the_same(tiny_model):
    from adapterx.evaluation import _logits

    task = get_task("mnli")
    bb, model = _lora_model(tiny_model)
    model.eval()
    features = tokenize(task, load_examples(task, "train", "en", TINY_DATA), bb.tokenizer, 128, 32, train=False)
    padding = {}

    class Counting(Collator):
        def __call__(self, rows):
            batch = super().__call__(rows)
            padding[self.kind] = padding.get(self.kind, 0) + int((batch["attention_mask"] == 0).sum())
            return batch

    outs = {}
    for by_length in (False, True):
        padding.clear()
        (outs[by_length],) = _logits(model, features, Counting(bb.tokenizer, task.kind), 8, CPU, ("logits",),
                                     by_length=by_length)
        outs[f"pad{by_length}"] = padding[task.kind]
    assert outs["padTrue"] < outs["padFalse"]
    assert len(outs[True]) == len(features)
    assert all(torch.allclose(torch.tensor(a), torch.tensor(b), atol=1e-5) for a, b in zip(outs[True], outs[False]))


def test_qa_predictions_do_not_depend_on_length_sorting(make_cfg, tiny_model, monkeypatch):
    import adapterx.evaluation as evaluation

    task = get_task("squad")
    bb = load_backbone(str(tiny_model), device="cpu")
    model = build_model(bb, task)
    examples = load_examples(task, "dev", "en", TINY_DATA)
    ev = dataclasses.replace(eval_settings(task, make_cfg()), batch_size=2)
    sorted_run = evaluation.evaluate(model, task, examples, bb.tokenizer, ev, CPU)
    monkeypatch.setattr(evaluation, "_logits", functools.partial(evaluation._logits, by_length=False))
    plain_run = evaluation.evaluate(model, task, examples, bb.tokenizer, ev, CPU)
    assert sorted_run.predictions == plain_run.predictions and sorted_run.scores == plain_run.scores


# --- LoRA merged for the final evaluation -------------------------------------------------------

def test_lora_merged_for_eval_predicts_the_same_and_is_undone(tiny_model):
    from peft.tuners.lora import LoraLayer

    from adapterx.methods.lora.eval_merge import can_merge_for_eval, merged_for_eval

    bb, model = _lora_model(tiny_model)
    for name, param in bb.model.named_parameters():
        if "lora_B" in name:  # a trained module: B is no longer zero
            torch.nn.init.normal_(param, std=0.05)
    model.eval()
    layers = [m for m in bb.model.modules() if isinstance(m, LoraLayer)]
    weights = {id(m): m.get_base_layer().weight.detach().clone() for m in layers}
    batch = {"input_ids": torch.randint(5, 100, (3, 12)), "attention_mask": torch.ones(3, 12, dtype=torch.long)}
    with torch.no_grad():
        unmerged = model(**batch)["logits"]
        with merged_for_eval(bb) as merged:
            assert merged and all(m.merged for m in layers)
            merged_logits = model(**batch)["logits"]
    assert torch.allclose(merged_logits, unmerged, atol=1e-5)
    assert not any(m.merged for m in layers)
    assert all(torch.allclose(m.get_base_layer().weight, weights[id(m)], atol=1e-6) for m in layers)
    assert not can_merge_for_eval(dataclasses.replace(bb, dtype=torch.bfloat16))  # rounding would change results
    assert not can_merge_for_eval(dataclasses.replace(bb, quant="8bit"))
    bb.model.lora_fusion = torch.nn.Module()  # LoRA fusion adds the updates itself: never merged
    assert not can_merge_for_eval(bb)


@pytest.mark.parametrize("setup", ["stack", "merge", "sequential"])
def test_composed_lora_modules_run_merged_for_eval_with_the_same_logits(tiny_model, setup):
    from peft.tuners.lora import LoraLayer

    from adapterx.configs.methods import MergeSettings
    from adapterx.methods.lora.eval_merge import merged_for_eval

    bb = load_backbone(str(tiny_model), device="cpu")
    method = get_method("lora")
    inter = ("inter0", "inter1")
    torch.manual_seed(0)
    if setup == "sequential":  # the continued module, trainable, is the only one: named target
        method.add(bb, "target", LoraSettings(r=4))
        method.compose(bb, Composition("direct"), "target")
    else:
        for name in inter:
            method.add(bb, name, LoraSettings(r=4))
        for pname, param in bb.model.named_parameters():
            if "lora_B" in pname:  # trained modules: B is not zero (before a merge builds its module)
                torch.nn.init.normal_(param, std=0.05)
        method.add(bb, "target", LoraSettings(r=4))
        method.compose(bb, Composition(setup, inter), "target", MergeSettings())
    for pname, param in bb.model.named_parameters():
        if "lora_B" in pname and ".target." in pname:
            torch.nn.init.normal_(param, std=0.05)
    model = build_model(bb, get_task("mnli"))
    model.eval()
    active = set(bb.model.active_adapters)
    assert active == {"target", *({"stack": inter, "merge": ("merged",)}.get(setup, ()))}
    layers = [m for m in bb.model.modules() if isinstance(m, LoraLayer)]
    batch = {"input_ids": torch.randint(5, 100, (3, 12)), "attention_mask": torch.ones(3, 12, dtype=torch.long)}
    with torch.no_grad():
        unmerged = model(**batch)["logits"]
        with merged_for_eval(bb) as merged:
            assert merged and all(set(m.merged_adapters) == active for m in layers)  # every active module
            merged_logits = model(**batch)["logits"]
        again = model(**batch)["logits"]
    assert torch.allclose(merged_logits, unmerged, atol=1e-5)
    assert not any(m.merged for m in layers) and torch.allclose(again, unmerged, atol=1e-5)


def test_merge_for_eval_leaves_bottleneck_models_alone(tiny_model):
    from adapterx.configs.methods import BottleneckSettings
    from adapterx.methods.lora.eval_merge import merged_for_eval

    bb = load_backbone(str(tiny_model), device="cpu")
    method = get_method("bottleneck")
    method.prepare(bb)
    method.add(bb, "target", BottleneckSettings(reduction_factor=4))
    with merged_for_eval(bb) as merged:
        assert merged is False


# --- SDPA attention ------------------------------------------------------------------------------

def test_backbone_uses_sdpa_attention_also_with_adapters(tiny_model):
    from adapterx.configs.methods import BottleneckSettings

    bb = load_backbone(str(tiny_model), device="cpu")
    assert bb.model.config._attn_implementation == "sdpa"
    method = get_method("bottleneck")
    method.prepare(bb)
    method.add(bb, "target", BottleneckSettings(reduction_factor=4))
    assert bb.model.config._attn_implementation == "sdpa"
    assert "Sdpa" in type(bb.model.encoder.layer[0].attention.self).__name__


# --- the cost benchmarks run -----------------------------------------------------------------------

@pytest.fixture
def benchmarks_path(monkeypatch):
    monkeypatch.syspath_prepend(str(BENCHMARKS))


def test_train_cost_smoke(tiny_model, tmp_path, benchmarks_path):
    import train_cost

    out = tmp_path / "train.json"
    payload = train_cost.main(["--model", str(tiny_model), "--setups", "full,lora,fusion-2", "--batch", "2",
                               "--seq-len", "16", "--pad-frac", "0.25", "--warmup", "1", "--rounds", "1",
                               "--steps", "1", "--out", str(out)])
    rows = {r["setup"]: r for r in payload["setups"]}
    assert set(rows) == {"full", "lora", "fusion-2"} and rows["full"]["tokens/s ÷ full"] == 1.0
    assert rows["lora"]["trainable"] < rows["full"]["trainable"]
    assert rows["lora"]["peak mem MB"] < rows["full"]["peak mem MB"]
    # a CPU has no spec-sheet peak: MFU against its own measured GEMM rate
    assert rows["full"]["peak_source"].startswith("measured") and 0 < rows["full"]["MFU %"] < 100
    assert json.loads(out.read_text())["benchmark"] == "train_cost" and out.with_suffix(".md").is_file()


def test_train_cost_lora_variants(tiny_model, tmp_path, benchmarks_path):
    import train_cost
    from bench_common import synthetic_rows

    args = train_cost.parse_args(["--model", str(tiny_model), "--batch", "2", "--seq-len", "8", "--n-batches", "1"])
    rows = synthetic_rows(2, 8, 0.0, 2, 100, 3)
    kinds = {}
    targets = {}
    for name in ("lora", "lora-drop", "lora-nodrop", "lora-qv"):
        setup = train_cost.build_setup(name, tiny_model, args, torch.device("cpu"), rows, tmp_path)
        kinds[name] = {type(m).__name__ for n, m in setup.model.named_modules()
                       if "lora_dropout." in n and not list(m.children())}
        targets[name] = {n.rsplit(".", 1)[-1] for n, m in setup.model.named_modules() if hasattr(m, "lora_A")}
        hidden_dropout = [m for n, m in setup.model.named_modules()
                          if isinstance(m, torch.nn.Dropout) and "lora_" not in n]
        assert hidden_dropout and all(m.p > 0 for m in hidden_dropout)  # the model's own dropout stays
    assert kinds == {"lora": {"Identity"}, "lora-drop": {"Dropout"}, "lora-nodrop": {"Identity"},
                     "lora-qv": {"Identity"}}
    assert targets["lora"] == targets["lora-drop"] == targets["lora-nodrop"] == {"query", "key", "value", "dense"}
    assert targets["lora-qv"] == {"query", "value"}


@pytest.mark.heavy  # over 4 s: CI runs it in its second step
def test_compare_peer_reports_paired_round_ratios(tiny_model, tmp_path, benchmarks_path):
    import compare_peer

    out = tmp_path / "peer.json"
    payload = compare_peer.main(["--model", str(tiny_model), "--batch", "2", "--seq-len", "32", "--steps", "3",
                                 "--rounds", "3", "--warmup-rounds", "1", "--data", "mnli", "--data-dir",
                                 str(TINY_DATA), "--with-before", "--out", str(out)])
    assert len(payload["per_round_ratios"]) == 2 and all(r > 0 for r in payload["per_round_ratios"])
    assert min(payload["per_round_ratios"]) <= payload["ratio_adapterx_over_peer"] <= max(payload["per_round_ratios"])
    assert len(payload["per_round_before"]) == 2
    rows = {r["setup"]: r for r in payload["setups"]}
    assert set(rows) == {"adapterx", "adapterx-before", "peer"}
    assert all(row["epochs timed"] == 2 and row["tokens/s"] > 0 for row in rows.values())
    # the peer with peft's defaults adapts query and value only: fewer trainable weights than adapterx
    assert rows["peer"]["trainable"] < rows["adapterx"]["trainable"] == rows["adapterx-before"]["trainable"]
    assert json.loads(out.read_text())["benchmark"] == "compare_peer"


def test_eval_cost_smoke(tiny_model, tmp_path, benchmarks_path):
    import eval_cost

    payload = eval_cost.main(["--model", str(tiny_model), "--setups",
                              "base,lora,lora-merged,lora-stack-2,lora-stack-2-merged,lora-merge-2-merged",
                              "--examples", "16", "--batch", "8", "--seq-len", "16", "--rounds", "1",
                              "--out", str(tmp_path / "e.json")])
    rows = {r["setup"]: r for r in payload["setups"]}
    assert not payload["skipped"] and rows["base"]["÷ base"] == 1.0
    assert all(rows[name]["merged"] is True for name in ("lora-merged", "lora-stack-2-merged", "lora-merge-2-merged"))
    assert rows["lora-stack-2"]["merged"] is None


def test_synthetic_lengths_hit_the_padding_fraction(benchmarks_path):
    from bench_common import synthetic_lengths

    lengths = synthetic_lengths(16, 128, 0.25)
    assert max(lengths) == 128 and len(lengths) == 16
    assert abs(1 - sum(lengths) / (16 * 128) - 0.25) < 0.01
    assert synthetic_lengths(4, 64, 0.0) == [64] * 4
