"""Tokenized training features on disk: written once, read back identical by later runs on the same
data, tokenizer and lengths, rebuilt when any of them changes or the entry is damaged, never a
reason for a run to fail, and listed / pruned by `adapterx cache`."""

from __future__ import annotations

import dataclasses
import json
import warnings
from pathlib import Path

import pytest
from click.testing import CliRunner

import adapterx.data.features as features_mod
from adapterx import api
from adapterx.backbone import load_backbone
from adapterx import cache
from adapterx.cache import scan
from adapterx.cli import main
from adapterx.data import feature_cache
from adapterx.data.feature_cache import FEATURES_DIR, cached_tokenize, features_key, features_path
from adapterx.data.loading import load_examples
from adapterx.presets.tiny import TINY_DATA
from adapterx.recipes.grid_plan import Cell, cell_key
from adapterx.store import is_complete
from adapterx.tasks import get_task


@pytest.fixture
def counted(monkeypatch) -> list[int]:
    """Counts the tokenizer passes that make training features (what this cache saves; evaluation
    sets have their own in-process cache, adapterx.evaluation.eval_features)."""
    calls: list[int] = []
    original = features_mod.tokenize

    def counting(task, examples, tokenizer, max_length, doc_stride, train):
        if train:
            calls.append(1)
        return original(task, examples, tokenizer, max_length, doc_stride, train)

    monkeypatch.setattr(features_mod, "tokenize", counting)
    return calls


@pytest.fixture(scope="module")
def tokenizer(tiny_model):
    return load_backbone(str(tiny_model), device="cpu").tokenizer


def _rows(ds) -> list[dict]:
    return [dict(r) for r in ds]


@pytest.mark.parametrize("task_name", ["mnli", "squad", "copa"])
def test_second_call_reads_the_same_features_from_disk(task_name, tokenizer, tmp_path, counted):
    task = get_task(task_name)
    examples = load_examples(task, "train", "en", TINY_DATA)
    first = cached_tokenize(task, examples, tokenizer, 96, 32, True, tmp_path)
    second = cached_tokenize(task, examples, tokenizer, 96, 32, True, tmp_path)
    assert len(counted) == 1
    entry = features_path(tmp_path, task, features_key(task, examples, tokenizer, 96, 32, True))
    assert is_complete(entry)
    # both come memory-mapped from the entry, and hold exactly what tokenizing in memory gives
    assert all(str(entry) in f["filename"] for f in second.cache_files)
    reference = cached_tokenize(task, examples, tokenizer, 96, 32, True, None)  # no cache: in memory
    assert _rows(first) == _rows(second) == _rows(reference)
    meta = json.loads((entry / "adapterx.json").read_text())
    assert meta["task"] == task_name and meta["rows"] == len(examples) and meta["features"] == len(reference)


def test_any_change_of_what_decides_the_features_is_a_new_entry(tokenizer, tmp_path, counted):
    task = get_task("mnli")
    examples = load_examples(task, "train", "en", TINY_DATA)
    cached_tokenize(task, examples, tokenizer, 96, 32, True, tmp_path)
    cached_tokenize(task, examples[:-1], tokenizer, 96, 32, True, tmp_path)  # other data
    changed = [dict(examples[0], text_a=examples[0]["text_a"] + " x"), *examples[1:]]
    cached_tokenize(task, changed, tokenizer, 96, 32, True, tmp_path)  # one text edited
    cached_tokenize(task, examples, tokenizer, 64, 32, True, tmp_path)  # other length
    cached_tokenize(task, examples, tokenizer, 80, 32, True, tmp_path)  # other length again
    cached_tokenize(get_task("xnli"), examples, tokenizer, 96, 32, True, tmp_path)  # other task, same labels
    assert len(counted) == 6
    assert len(list((tmp_path / FEATURES_DIR).iterdir())) == 6 + 6  # entries + their lock files
    cached_tokenize(task, examples[:-1], tokenizer, 96, 32, True, tmp_path)
    assert len(counted) == 6


def test_another_tokenizer_is_a_new_entry(tokenizer, tiny_model, tmp_path, counted):
    from transformers import AutoTokenizer

    task = get_task("mnli")
    examples = load_examples(task, "train", "en", TINY_DATA)
    cached_tokenize(task, examples, tokenizer, 96, 32, True, tmp_path)
    same_files = AutoTokenizer.from_pretrained(str(tiny_model))
    cached_tokenize(task, examples, same_files, 96, 32, True, tmp_path)
    assert len(counted) == 1  # another object of the same tokenizer: the same entry
    lower = AutoTokenizer.from_pretrained(str(tiny_model))
    lower.truncation_side = "left"
    cached_tokenize(task, examples, lower, 96, 32, True, tmp_path)
    assert len(counted) == 2


def test_a_damaged_entry_is_rebuilt_with_a_warning(tokenizer, tmp_path, counted):
    task = get_task("mnli")
    examples = load_examples(task, "train", "en", TINY_DATA)
    first = _rows(cached_tokenize(task, examples, tokenizer, 96, 32, True, tmp_path))
    (entry,) = [p for p in (tmp_path / FEATURES_DIR).iterdir() if p.is_dir()]
    for arrow in (entry / "data").glob("*.arrow"):
        arrow.write_bytes(b"not arrow")
    with pytest.warns(UserWarning, match="could not be read"):
        again = cached_tokenize(task, examples, tokenizer, 96, 32, True, tmp_path)
    assert _rows(again) == first and len(counted) == 2
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the rewritten entry reads cleanly
        assert _rows(cached_tokenize(task, examples, tokenizer, 96, 32, True, tmp_path)) == first
    assert len(counted) == 2


def test_an_unwritable_cache_only_warns(tokenizer, tmp_path, counted):
    task = get_task("mnli")
    examples = load_examples(task, "train", "en", TINY_DATA)
    (tmp_path / FEATURES_DIR).write_text("a file where the folder should be")
    with pytest.warns(UserWarning, match="could not cache tokenized features"):
        ds = cached_tokenize(task, examples, tokenizer, 96, 32, True, tmp_path)
    assert len(ds) == len(examples) and len(counted) == 1


def test_an_interrupted_write_leaves_no_entry(tokenizer, tmp_path, monkeypatch):
    task = get_task("mnli")
    examples = load_examples(task, "train", "en", TINY_DATA)

    def killed(self, *args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr("datasets.Dataset.save_to_disk", killed)
    with pytest.raises(KeyboardInterrupt):
        cached_tokenize(task, examples, tokenizer, 96, 32, True, tmp_path)
    assert not [p for p in (tmp_path / FEATURES_DIR).iterdir() if p.is_dir()]  # no entry, no temp folder
    monkeypatch.undo()
    ds = cached_tokenize(task, examples, tokenizer, 96, 32, True, tmp_path)
    assert len(ds) == len(examples)


def test_training_twice_tokenizes_once_and_the_switch_turns_it_off(make_cfg, counted):
    cfg = make_cfg()
    api.train("mnli", cfg=cfg)
    assert len(counted) == 1
    # another learning rate: a new module, the same features
    api.train("mnli", cfg=make_cfg(training__learning_rate=2e-3))
    assert len(counted) == 1
    off = make_cfg(training__learning_rate=3e-3, data__feature_cache=False)
    api.train("mnli", cfg=off)
    assert len(counted) == 2
    (entry,) = [e for e in scan(cfg.modules_dir) if e.kind == "features"]
    assert entry.task == "mnli" and entry.complete


def test_cache_ls_lists_features_and_prune_features_keeps_modules(make_cfg):
    cfg = make_cfg()
    module = api.train("copa", cfg=cfg)
    kinds = sorted(e["kind"] for e in api.cache_ls(cfg.modules_dir))
    assert kinds == ["features", "module"]
    listing = CliRunner().invoke(main, ["cache", "ls", "--modules-dir", cfg.modules_dir], env={"COLUMNS": "250"})
    assert listing.exit_code == 0 and "features" in listing.output and "tokens:train" in listing.output
    dry = api.cache_prune(cfg.modules_dir, features=True, dry_run=True)
    assert [r["kind"] for r in dry["removed"]] == ["features"]
    out = CliRunner().invoke(main, ["cache", "prune", "--features", "--modules-dir", cfg.modules_dir])
    assert out.exit_code == 0, out.output
    assert [e["kind"] for e in api.cache_ls(cfg.modules_dir)] == ["module"] and Path(module).is_dir()
    assert not [p for p in (Path(cfg.modules_dir) / FEATURES_DIR).iterdir() if p.is_dir()]


def test_the_switch_is_not_part_of_a_grid_cell_key(make_cfg):
    cell = Cell(target="xcopa", setup="direct", inter=(), method="bottleneck", seed=0)
    on, off = make_cfg(), make_cfg(data__feature_cache=False)
    assert cell_key(cell, on) == cell_key(cell, off)
    assert cell_key(cell, on) != cell_key(cell, dataclasses.replace(on, seed=1))
    assert feature_cache.FEATURES_DIR == cache.FEATURES_DIR  # cache ls looks where features are written
