"""Model selection (`training.select`), the small-dev warning, the dev-set leakage warning, the
selection record in results.json, and `training.lr_scheduler`."""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner

from adapterx.api import build_config
from adapterx.cli import main
from adapterx.configs.run import LR_SCHEDULERS
from adapterx.data.loading import load_examples
from adapterx.errors import AdapterxError, UnknownChoiceError
from adapterx.leakage import LeakageGuard
from adapterx.presets.tiny import TINY_DATA
from adapterx.recipes.common import learning_settings, train_settings
from adapterx.store import stable_hash
from adapterx.tasks import get_task
from adapterx.training import (SMALL_DEV, TrainSettings, _ModuleTrainer, resolve_select, train_model, training_arguments,
                               warn_small_dev)

from .test_leakage import FAST, _leak_xnli_into_mnli

CPU = torch.device("cpu")


class _Toy(torch.nn.Module):
    """One weight vector pulled towards the labels: every step moves it."""

    def __init__(self) -> None:
        super().__init__()
        self.w = torch.nn.Parameter(torch.zeros(4))

    def forward(self, x, labels):
        return {"loss": ((self.w * x - labels) ** 2).sum()}


def _toy_run(tmp_path: Path, select: str, dev_size: int | None = None):
    model = _Toy()
    rows = [{"x": torch.ones(4), "labels": torch.full((4,), 1.0)} for _ in range(8)]
    snapshots, scores = [], iter([3.0, 2.0, 1.0])  # dev prefers the first epoch

    def score() -> float:
        snapshots.append(model.w.detach().clone())
        return next(scores)

    settings = TrainSettings(learning_rate=0.05, epochs=3, batch_size=4, grad_accum=1, warmup_ratio=0.0,
                             weight_decay=0.0, logging_steps=100, seed=0, save_checkpoints=False,
                             optim="adamw_torch", select=select)
    outcome = train_model(model, rows, None, settings, tmp_path / select, CPU, torch.float32, score_fn=score,
                          progress=False, dev_size=dev_size)
    return model, snapshots, outcome


def test_select_last_keeps_the_final_weights_best_the_best_epoch(tmp_path):
    best, snaps, out_best = _toy_run(tmp_path, "best")
    assert torch.equal(best.w, snaps[0]) and not torch.equal(snaps[0], snaps[-1])
    assert (out_best.select, out_best.best_dev, out_best.selected_dev) == ("best", 3.0, 3.0)
    last, snaps, out_last = _toy_run(tmp_path, "last")
    assert torch.equal(last.w, snaps[-1]) and not torch.equal(last.w, best.w)
    assert (out_last.select, out_last.best_dev, out_last.selected_dev) == ("last", 3.0, 1.0)
    assert [h["dev"] for h in out_last.dev_history] == [3.0, 2.0, 1.0]  # dev still scored every epoch


def test_small_dev_set_warns_once_and_only_when_it_picks_the_epoch(tmp_path, caplog):
    warn_small_dev.cache_clear()
    with caplog.at_level(logging.WARNING, logger="adapterx.training"):
        _toy_run(tmp_path / "a", "last", dev_size=20)
        _toy_run(tmp_path / "b", "best", dev_size=SMALL_DEV)
        assert not caplog.records
        _toy_run(tmp_path / "c", "best", dev_size=20)
        _toy_run(tmp_path / "d", "best", dev_size=20)
    assert len(caplog.records) == 1
    assert "20 English dev examples" in caplog.text and "training.select=last" in caplog.text


def test_dev_set_that_shares_a_paragraph_with_the_evaluation_is_warned_not_refused(capsys):
    xquad = get_task("xquad")
    evals = {"en": load_examples(xquad, "test", "en", TINY_DATA)}
    shared = evals["en"][0]["context"]
    n_sharing = sum(ex["context"] == shared for ex in evals["en"])
    dev = [{"id": "d1", "context": shared, "question": "A question not asked in XQuAD?",
            "answers": {"text": [shared[:5]], "answer_start": [0]}}]
    guard = LeakageGuard.for_eval("refuse", 0.0, "xquad", "test", "qa", evals)  # refuse: still only a warning
    guard.check_dev("squad English dev (model selection)", dev, "qa")
    assert guard.overlaps == [] and guard.dev_overlaps[0].per_language == {"en": n_sharing}
    assert guard.record()["dev_overlaps"][0]["source"] == "squad English dev (model selection)"
    out = " ".join(capsys.readouterr().out.split())
    assert "warning" in out and "it picks the epoch" in out
    off = LeakageGuard.for_eval("off", 0.0, "xquad", "test", "qa", evals)
    off.check_dev("squad dev", dev, "qa")
    assert off.dev_overlaps == []


def test_results_record_the_selection_the_dev_subsample_and_the_dev_leak(tiny_model, tmp_path):
    data = Path(shutil.copytree(TINY_DATA, tmp_path / "data"))
    _leak_xnli_into_mnli(data, into="dev_matched.tsv")  # 15 + 2 dev rows, 16 of them kept below
    argv = ["direct", "--target", "xnli", "--langs", "en", "--model", str(tiny_model), "--data-dir", str(data),
            "--device", "cpu", "--output", str(tmp_path / "runs"), "--modules-dir", str(tmp_path / "modules"),
            *FAST, "training.max_dev_examples=16", "training.select=last"]
    result = CliRunner().invoke(main, argv)
    assert result.exit_code == 0, result.output
    assert "mnli English dev (model selection)" in " ".join(result.output.split())
    (path,) = (tmp_path / "runs" / "xnli").glob("*/results.json")
    results = json.loads(path.read_text())
    assert results["select"] == "last" and results["english_dev_n"] == 16
    assert results["english_dev_total"] == 17 and results["english_dev_subsampled"] is True
    assert results["english_dev"] == results["dev_history"][-1]["dev"]  # the kept (last) weights' score
    assert results["english_dev_best"] == max(h["dev"] for h in results["dev_history"])
    leak = results["leakage"]
    assert leak["overlaps"] == [] and 1 <= leak["dev_overlaps"][0]["examples"]["en"] <= 2


def test_lr_scheduler_reaches_training_arguments_and_the_trainer(make_cfg, tmp_path):
    task = get_task("mnli")
    settings = train_settings(task, make_cfg(training__lr_scheduler="constant", training__warmup_ratio=0))
    args = training_arguments(settings, tmp_path, CPU, torch.float32, progress=False)
    assert args.lr_scheduler_type.value == "constant"
    trainer = _ModuleTrainer(model=_Toy(), args=args)
    trainer.create_optimizer_and_scheduler(num_training_steps=10)
    for _ in range(9):
        trainer.optimizer.step()
        trainer.lr_scheduler.step()
    assert trainer.lr_scheduler.get_last_lr()[0] == pytest.approx(settings.learning_rate)  # linear would be ~0
    default = training_arguments(train_settings(task, make_cfg()), tmp_path, CPU, torch.float32)
    assert default.lr_scheduler_type.value == "linear"


def test_max_grad_norm_reaches_the_trainer_and_zero_turns_clipping_off(make_cfg, tmp_path):
    settings = train_settings(get_task("mnli"), make_cfg(inter__max_grad_norm=0.5, training__max_grad_norm=0))
    assert settings.max_grad_norm == 0
    assert training_arguments(settings, tmp_path, CPU, torch.float32).max_grad_norm == 0
    assert training_arguments(train_settings(get_task("mnli"), make_cfg()), tmp_path, CPU,
                              torch.float32).max_grad_norm == 1.0  # the Trainer's default stays ours

    def moved(max_grad_norm: float) -> float:
        model = _Toy()  # gradient norm 4 at the start; AdamW divides by |g| + 1e-8
        rows = [{"x": torch.ones(4), "labels": torch.full((4,), 1.0)} for _ in range(8)]
        run = TrainSettings(learning_rate=0.01, epochs=1, batch_size=4, grad_accum=1, warmup_ratio=0.0,
                            weight_decay=0.0, logging_steps=100, seed=0, save_checkpoints=False,
                            optim="adamw_torch", select="last", lr_scheduler="constant",
                            max_grad_norm=max_grad_norm)
        train_model(model, rows, None, run, tmp_path / str(max_grad_norm), CPU, torch.float32, progress=False)
        return float(model.w.detach().abs().max())

    # clipped to 1e-12 the gradient drowns in AdamW's eps: the weights barely move; unclipped they
    # take full steps (2 steps x lr 0.01)
    assert moved(0.0) == pytest.approx(0.02, rel=0.05)
    assert moved(1e-12) < 1e-5
    with pytest.raises(AdapterxError, match="max_grad_norm"):
        build_config(overrides={"training.max_grad_norm": -1})


def test_every_lr_scheduler_choice_is_a_transformers_schedule():
    from transformers import SchedulerType

    assert set(LR_SCHEDULERS) <= {s.value for s in SchedulerType}


@pytest.mark.parametrize("setting,choice", [("training.lr_scheduler=cosine_annealing", "constant_with_warmup"),
                                            ("training.select=median", "last")])
def test_bad_choice_exits_2_listing_the_choices(tiny_model, tmp_path, setting, choice):
    result = CliRunner().invoke(main, ["direct", "--target", "xnli", "--model", str(tiny_model),
                                       "--data-dir", str(TINY_DATA), "--output", str(tmp_path), setting])
    assert result.exit_code == 2, result.output
    out = " ".join(result.output.split())
    assert setting.split("=")[0] in out and choice in out and "Traceback" not in out
    with pytest.raises(UnknownChoiceError):
        build_config(overrides={setting.split("=")[0]: setting.split("=")[1]})


# learning_settings hashes computed by adapterx before lr_scheduler and select existed: modules and
# runs trained then keep their cache keys (with that time's other defaults, which later changed
# on purpose: lora.dropout 0.1, group_by_length off)
OLD_DEFAULTS = {"lora.dropout": 0.1, "training.group_by_length": False}
KEYS_BEFORE = {("mnli", "lora"): "e9ae9f3a5b8870b0", ("xcopa", "bottleneck"): "b31f9e4ca6af2b3f",
               ("xquad", "lora"): "e6eb47f026c8c21a"}


def test_new_settings_at_their_defaults_keep_existing_cache_keys():
    for (task, method), key in KEYS_BEFORE.items():
        cfg = build_config(overrides={"method": method, "training.lr_scheduler": "linear", "training.select": "best",
                                      **OLD_DEFAULTS})
        assert stable_hash(learning_settings(get_task(task), cfg)) == key
    for setting in ({"training.lr_scheduler": "cosine"}, {"training.select": "last"}, {"training.max_grad_norm": 0.0}):
        cfg = build_config(overrides={"method": "lora", **OLD_DEFAULTS, **setting})
        changed = learning_settings(get_task("mnli"), cfg)
        assert stable_hash(changed) != KEYS_BEFORE[("mnli", "lora")]
        assert changed["train"][next(iter(setting)).split(".")[1]] == next(iter(setting.values()))


def test_auto_keeps_the_last_epoch_on_a_small_dev_set_and_the_best_on_a_large_one(tmp_path, caplog):
    warn_small_dev.cache_clear()
    with caplog.at_level(logging.WARNING, logger="adapterx.training"):
        small, snaps, out_small = _toy_run(tmp_path / "s", "auto", dev_size=20)
    assert torch.equal(small.w, snaps[-1]) and out_small.select == "last" and out_small.selected_dev == 1.0
    assert not caplog.records  # auto chose `last` itself: nothing to warn about
    large, snaps, out_large = _toy_run(tmp_path / "l", "auto", dev_size=SMALL_DEV)
    assert torch.equal(large.w, snaps[0]) and out_large.select == "best" and out_large.selected_dev == 3.0
    assert resolve_select("auto", None) == "last" and resolve_select("best", 5) == "best"


def test_auto_is_keyed_as_the_choice_it_runs():
    # a large dev set: the key of `best` (every module trained before `auto` keeps its key); a small
    # one: the key of `last` (a run that kept the best epoch is not taken for it)
    task = get_task("xcopa")
    cfg_of = {s: build_config(overrides={"method": "lora", "training.select": s}) for s in ("auto", "best", "last")}
    key = {s: stable_hash(learning_settings(task, cfg_of[s], 20)) for s in ("best", "last")}
    assert stable_hash(learning_settings(task, cfg_of["auto"], SMALL_DEV)) == stable_hash(learning_settings(task, cfg_of["best"]))
    assert stable_hash(learning_settings(task, cfg_of["auto"], 20)) == key["last"] != key["best"]
    assert build_config().training.select == "auto"
