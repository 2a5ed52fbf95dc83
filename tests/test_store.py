"""On-disk safety: atomic folders, done markers, complete checkpoints, base checks, config keys."""

from __future__ import annotations

import threading
import time

import pytest

from adapterx.configs import RunConfig, apply_overrides
from adapterx.errors import AdapterxError, ModuleMismatchError
from adapterx.store import (DONE_MARKER, atomic_dir, check_base, entry_lock, is_complete, read_meta,
                            stable_hash, write_json_atomic)
from adapterx.training import TRAINABLE_FILE, last_complete_checkpoint


def test_atomic_dir_commits_or_leaves_nothing(tmp_path):
    final = tmp_path / "mod"
    with pytest.raises(RuntimeError):
        with atomic_dir(final) as tmp:
            (tmp / "adapterx.json").write_text("{}")
            raise RuntimeError("killed halfway")
    assert not final.exists() and list(tmp_path.iterdir()) == []
    with atomic_dir(final) as tmp:
        write_json_atomic(tmp / "adapterx.json", {"kind": "eval", "task": "x"})
    assert is_complete(final) and read_meta(final) == {"kind": "eval", "task": "x"}


def test_incomplete_folder_is_reported_not_loaded(tmp_path):
    half = tmp_path / "half"
    half.mkdir()
    (half / "adapterx.json").write_text("{}")
    assert not is_complete(half)
    with pytest.raises(ModuleMismatchError, match="incomplete"):
        read_meta(half)
    with atomic_dir(half) as tmp:  # redone over the leftover
        write_json_atomic(tmp / "adapterx.json", {"kind": "eval", "ok": True})
    assert read_meta(half) == {"kind": "eval", "ok": True}


def test_last_complete_checkpoint_skips_interrupted_saves(tmp_path):
    for step, done in ((10, True), (20, True), (30, False)):
        ckpt = tmp_path / f"checkpoint-{step}"
        ckpt.mkdir()
        (ckpt / TRAINABLE_FILE).write_bytes(b"x")
        if done:
            (ckpt / DONE_MARKER).write_text("ok")
    assert last_complete_checkpoint(tmp_path).endswith("checkpoint-20")
    assert last_complete_checkpoint(tmp_path / "missing") is None


def test_entry_lock_serialises_writers(tmp_path):
    order = []

    def worker(name):
        with entry_lock(tmp_path / "entry"):
            order.append(f"{name}-in")
            time.sleep(0.2)
            order.append(f"{name}-out")

    threads = [threading.Thread(target=worker, args=(n,)) for n in "ab"]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert order[0][2:] == "in" and order[1][2:] == "out" and order[0][0] == order[1][0]


def test_check_base_names_the_right_model(tmp_path):
    meta = {"base_model": {"name": "xlm-roberta-large", "fingerprint": {"hidden_size": 1024}}}
    check_base(meta, {"hidden_size": 1024}, "xlm-roberta-large", tmp_path)
    with pytest.raises(ModuleMismatchError, match="--model xlm-roberta-large"):
        check_base(meta, {"hidden_size": 768}, "xlm-roberta-base", tmp_path)


def test_stable_hash_ignores_key_order():
    assert stable_hash({"a": 1, "b": [1, 2]}) == stable_hash({"b": [1, 2], "a": 1})
    assert stable_hash({"a": 1}) != stable_hash({"a": 2})


def test_config_overrides_are_typed_and_checked():
    cfg = apply_overrides(RunConfig(), {"learning_rate": "3e-4", "lora.target_modules": "query,value",
                                        "langs": "de,sw", "training.max_train_examples": "none"})
    assert cfg.training.learning_rate == 3e-4 and cfg.lora.target_modules == ["query", "value"]
    assert cfg.langs == ["de", "sw"] and cfg.training.max_train_examples is None
    with pytest.raises(AdapterxError, match="valid keys"):
        apply_overrides(RunConfig(), {"learning-rat": 1})
    with pytest.raises(AdapterxError, match="expected int"):
        apply_overrides(RunConfig(), {"training.batch_size": 1.5})
    with pytest.raises(AdapterxError, match="must be >= 1"):
        apply_overrides(RunConfig(), {"training.batch_size": 0})
    with pytest.raises(AdapterxError, match="valid choices"):
        apply_overrides(RunConfig(), {"bottleneck.architecture": "prefix"})


def test_a_finished_run_made_by_other_code_says_so(tmp_path, capsys):
    # the cache key covers the settings, not the code: reusing a run made by another commit or
    # version is allowed, and said
    from adapterx.recipes.common import finished_results, provenance
    from adapterx.report.results import write_results

    now = provenance()["versions"]
    (tmp_path / "same").mkdir()
    (tmp_path / "old").mkdir()
    write_results(tmp_path / "same", {"average": 1.0, "versions": now})
    write_results(tmp_path / "old", {"average": 2.0, "versions": {**now, "git_commit": "004afad0"}})
    assert finished_results(tmp_path / "same")["average"] == 1.0
    out = " ".join(capsys.readouterr().out.split())
    assert "already done" in out and "made by" not in out
    assert finished_results(tmp_path / "old")["average"] == 2.0
    out = " ".join(capsys.readouterr().out.split())
    assert "made by git_commit 004afad0" in out and "another --output" in out
