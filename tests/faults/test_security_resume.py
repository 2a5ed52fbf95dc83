"""Resuming a training never unpickles a checkpoint file: the training state is written as
safetensors + JSON, pickles planted in a checkpoint are never read, and a damaged checkpoint is
dropped with a warning (training goes on) instead of a traceback on every rerun."""

from __future__ import annotations

import inspect
import logging

import pytest
import torch
from transformers import Trainer, TrainerCallback

from adapterx.module_meta import PICKLE_SUFFIXES
from adapterx.store import DONE_MARKER
from adapterx.training import TrainSettings, _ModuleTrainer, train_model

from tests.faults._hostile import write_pickle

CPU = torch.device("cpu")
STEPS_PER_EPOCH, EPOCHS = 4, 3


class Toy(torch.nn.Module):
    """A linear classifier with dropout, so a resume must restore the RNG to match."""

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.lin = torch.nn.Linear(4, 2)
        self.drop = torch.nn.Dropout(0.3)

    def forward(self, x, labels):
        return {"loss": torch.nn.functional.cross_entropy(self.lin(self.drop(x)), labels)}


def _data() -> list[dict]:
    g = torch.Generator().manual_seed(1)
    xs = torch.randn(8 * STEPS_PER_EPOCH, 4, generator=g)
    return [{"x": x, "labels": int(x.sum() > 0)} for x in xs]


def _collate(rows):
    return {"x": torch.stack([r["x"] for r in rows]), "labels": torch.tensor([r["labels"] for r in rows])}


class _CountSteps(TrainerCallback):
    """Optimizer steps this process ran (a resumed run runs only the remaining ones)."""

    def __init__(self) -> None:
        self.steps = 0

    def on_step_end(self, args, state, control, **kwargs):
        self.steps += 1


class _KillAfterFirstSave(TrainerCallback):
    """Stands for a kill right after the first checkpoint was completed."""

    def on_save(self, args, state, control, **kwargs):
        raise KeyboardInterrupt


def _train(work, callbacks=None):
    model = Toy()
    settings = TrainSettings(learning_rate=5e-2, epochs=EPOCHS, batch_size=8, grad_accum=1, warmup_ratio=0.25,
                             weight_decay=0.01, logging_steps=100, seed=0)
    outcome = train_model(model, _data(), _collate, settings, work, CPU, torch.float32, progress=False,
                          callbacks=callbacks)
    return model, outcome


def _interrupted(work):
    with pytest.raises(KeyboardInterrupt):
        _train(work, [_KillAfterFirstSave()])
    (ckpt,) = work.glob("checkpoint-*")
    assert (ckpt / DONE_MARKER).is_file()
    return ckpt


def test_checkpoints_hold_no_pickles_and_resume_matches_an_uninterrupted_run(tmp_path):
    clean, _ = _train(tmp_path / "clean")
    ckpt = _interrupted(tmp_path / "killed")
    assert not [p.name for p in ckpt.iterdir() if p.suffix in PICKLE_SUFFIXES]
    counter = _CountSteps()
    resumed, outcome = _train(tmp_path / "killed", [counter])
    assert outcome.steps == STEPS_PER_EPOCH * EPOCHS and counter.steps == STEPS_PER_EPOCH * (EPOCHS - 1)
    for a, b in zip(clean.state_dict().values(), resumed.state_dict().values()):
        assert torch.equal(a, b)  # optimizer, scheduler and RNG state all came back


@pytest.mark.parametrize("name", ["rng_state.pth", "optimizer.pt", "scheduler.pt", "scaler.pt"])
def test_pickles_planted_in_a_checkpoint_are_never_unpickled(tmp_path, monkeypatch, name):
    monkeypatch.setenv("TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD", "1")  # torch.load then unpickles anything
    ckpt = _interrupted(tmp_path / "work")
    marker = tmp_path / "unpickled"
    write_pickle(ckpt / name, marker)
    counter = _CountSteps()
    _, outcome = _train(tmp_path / "work", [counter])
    assert not marker.exists()
    assert outcome.steps == STEPS_PER_EPOCH * EPOCHS and counter.steps < outcome.steps  # it did resume


def test_a_truncated_optimizer_state_falls_back_with_a_warning(tmp_path, caplog):
    ckpt = _interrupted(tmp_path / "work")
    (state,) = ckpt.glob("optimizer.*")
    state.write_bytes(state.read_bytes()[:40])
    caplog.set_level(logging.WARNING)
    counter = _CountSteps()
    model, outcome = _train(tmp_path / "work", [counter])
    assert outcome.steps == counter.steps == STEPS_PER_EPOCH * EPOCHS  # started afresh, finished
    assert f"checkpoint {ckpt} is damaged" in caplog.text and state.name in caplog.text
    clean, _ = _train(tmp_path / "clean")
    for a, b in zip(clean.state_dict().values(), model.state_dict().values()):
        assert torch.equal(a, b)  # a fresh start is an uninterrupted run
    caplog.clear()
    _train(tmp_path / "work")  # a rerun meets no damaged checkpoint again
    assert "damaged" not in caplog.text


def test_every_trainer_method_that_can_unpickle_is_replaced():
    """The Trainer's own resume paths call torch.load; the adapterx Trainer overrides each one."""
    unpickling = [name for name, fn in inspect.getmembers(Trainer, inspect.isfunction)
                  if "torch.load(" in inspect.getsource(fn)]
    assert {"_load_rng_state", "_load_optimizer_and_scheduler", "_load_from_checkpoint"} <= set(unpickling)
    inherited = [name for name in unpickling if getattr(_ModuleTrainer, name) is getattr(Trainer, name)]
    assert inherited == []
