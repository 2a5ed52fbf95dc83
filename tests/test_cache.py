"""The module cache: `cache ls` sees modules, leftovers and checkpoints; `cache prune` removes
only what it lists, never what a running process holds, never a complete module unasked."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from adapterx import api
from adapterx.cache import module_relpath, scan, select
from adapterx.cli import main
from adapterx.errors import AdapterxError
from adapterx.store import atomic_dir, entry_lock, write_json_atomic

KEY_OLD, KEY_NEW, KEY_HALF, KEY_WORK, KEY_BUSY = (f"{c * 16}" for c in "abcde")


def days_ago(days: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(time.time() - days * 86400))


def module(root: Path, rel: str, meta: dict, complete: bool = True) -> Path:
    path = root / rel
    if complete:
        with atomic_dir(path) as tmp:
            (tmp / "adapter_model.safetensors").write_bytes(b"x" * 2048)
            write_json_atomic(tmp / "adapterx.json", meta)
    else:  # as a writer from before atomic folders, or a copy interrupted halfway, leaves it
        path.mkdir(parents=True)
        write_json_atomic(path / "adapterx.json", meta)
    return path


def dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


@pytest.fixture
def cache(tmp_path) -> Path:
    """A modules folder with one of everything."""
    root = tmp_path / "modules"
    base = {"kind": "module", "method": "lora", "base_model": {"name": "xlm-roberta-large"}}
    module(root, f"mnli/lora-{KEY_OLD}", {**base, "task": "mnli", "key": KEY_OLD, "created": days_ago(60),
                                          "metrics": {"english_dev": {"accuracy": 80.5}}})
    module(root, f"squad/lora-{KEY_NEW}", {**base, "task": "squad", "key": KEY_NEW, "created": days_ago(1),
                                           "metrics": {"english_dev": {"f1": 70.0, "exact_match": 60.0}}})
    module(root, f"multitask/mnli+squad/lora-{KEY_BUSY}",
           {**base, "task": "multitask-mnli+squad", "tasks": ["mnli", "squad"], "key": KEY_BUSY,
            "created": days_ago(90), "metrics": {"english_dev_mean": 75.0}})
    module(root, f"mnli/lora-{KEY_HALF}", {**base, "task": "mnli", "key": KEY_HALF}, complete=False)
    (root / "mnli" / f".lora-{KEY_HALF}.tmp-{dead_pid()}-abc123").mkdir()  # a killed writer's temp folder
    (root / "mnli" / f".lora-{KEY_HALF}.tmp-{os.getpid()}-def456").mkdir()  # a live writer's
    (root / f".pull-{dead_pid()}-aaaaaa").mkdir()
    (root / ".work" / f"mnli-lora-{KEY_WORK}" / "checkpoint-10").mkdir(parents=True)
    (root / ".work" / f"squad-lora-{KEY_NEW}").mkdir(parents=True)
    return root


def rel(root: Path, rows: list[dict]) -> set[str]:
    return {Path(r["path"]).relative_to(root).as_posix() for r in rows}


def test_ls_lists_every_entry_with_its_facts(cache):
    rows = {Path(r["path"]).relative_to(cache).as_posix(): r for r in api.cache_ls(cache)}
    old = rows[f"mnli/lora-{KEY_OLD}"]
    assert (old["task"], old["method"], old["key"], old["status"]) == ("mnli", "lora", KEY_OLD, "complete")
    assert old["base_model"] == "xlm-roberta-large" and old["dev"] == 80.5 and old["size"] > 2048
    assert rows[f"squad/lora-{KEY_NEW}"]["dev"] == 70.0  # QA: F1, the headline
    multi = rows[f"multitask/mnli+squad/lora-{KEY_BUSY}"]
    assert multi["task"] == "mnli+squad" and multi["dev"] == 75.0
    assert rows[f"mnli/lora-{KEY_HALF}"]["status"] == "incomplete"
    temps = [r for p, r in rows.items() if ".tmp-" in p]
    assert sorted(r["status"] for r in temps) == ["incomplete", "incomplete (in use)"]
    assert rows[f".work/mnli-lora-{KEY_WORK}"]["kind"] == "work"
    assert len(rows) == 9 and api.cache_ls(cache.parent / "none") == []

    out = CliRunner().invoke(main, ["cache", "ls", "--modules-dir", str(cache)], env={"COLUMNS": "200"})
    assert out.exit_code == 0 and KEY_OLD in out.output and "incomplete" in out.output and "80.5" in out.output


def test_prune_incomplete_spares_complete_modules_and_live_writers(cache):
    with entry_lock(cache / "squad" / f"lora-{KEY_NEW}"):  # squad is being (re)trained right now
        dry = api.cache_prune(cache, incomplete=True, dry_run=True)
        listed = rel(cache, dry["removed"])
        assert {f"mnli/lora-{KEY_HALF}", f".work/mnli-lora-{KEY_WORK}"} <= listed
        assert len([p for p in listed if ".tmp-" in p or ".pull-" in p]) == 2  # the dead writers' leftovers
        assert f".work/squad-lora-{KEY_NEW}" not in listed  # its trainer holds the lock
        assert not any(f"-{os.getpid()}-" in p for p in listed)  # our own temp folder: writer alive
        assert all((cache / p).exists() for p in listed)  # a dry run removes nothing
        done = api.cache_prune(cache, incomplete=True)
    assert rel(cache, done["removed"]) == listed and not any((cache / p).exists() for p in listed)
    left = {Path(r["path"]).relative_to(cache).as_posix() for r in api.cache_ls(cache)}
    assert {f"mnli/lora-{KEY_OLD}", f"squad/lora-{KEY_NEW}", f".work/squad-lora-{KEY_NEW}"} <= left
    assert rel(cache, api.cache_prune(cache, incomplete=True)["removed"]) == {f".work/squad-lora-{KEY_NEW}"}


def test_prune_complete_modules_only_when_asked_by_age_or_task(cache):
    with pytest.raises(AdapterxError, match="say what to prune"):
        api.cache_prune(cache)
    old = api.cache_prune(cache, older_than=30, dry_run=True)
    assert {f"mnli/lora-{KEY_OLD}", f"multitask/mnli+squad/lora-{KEY_BUSY}"} <= rel(cache, old["removed"])
    assert f"squad/lora-{KEY_NEW}" not in rel(cache, old["removed"])
    with entry_lock(cache / "multitask" / "mnli+squad" / f"lora-{KEY_BUSY}"):  # in use: never listed
        mnli = api.cache_prune(cache, task="mnli", older_than=30)
    assert rel(cache, mnli["removed"]) == {f"mnli/lora-{KEY_OLD}"}
    assert not (cache / "mnli" / f"lora-{KEY_OLD}").exists()
    assert (cache / "multitask" / "mnli+squad" / f"lora-{KEY_BUSY}").is_dir()
    assert (cache / "squad" / f"lora-{KEY_NEW}").is_dir()


def test_select_skips_entries_taken_between_scan_and_delete(cache):
    entries = [e for e in select(scan(cache), task="squad") if e.kind == "module"]
    with entry_lock(entries[0].path):
        from adapterx.cache import remove

        assert remove(entries[0]) is False and entries[0].path.is_dir()
    assert remove(entries[0]) is True and not entries[0].path.exists()


def test_cli_prune_dry_run_and_exit_codes(cache):
    runner = CliRunner()
    out = runner.invoke(main, ["cache", "prune", "--modules-dir", str(cache), "--incomplete", "--dry-run"],
                        env={"COLUMNS": "200"})
    assert out.exit_code == 0 and "would remove" in out.output and KEY_HALF in out.output
    assert (cache / "mnli" / f"lora-{KEY_HALF}").is_dir()
    out = runner.invoke(main, ["cache", "prune", "--modules-dir", str(cache)])
    assert out.exit_code == 2 and "--incomplete" in out.output


def test_module_relpath_follows_the_cache_layout():
    from adapterx import cache
    from adapterx.recipes import multitask

    assert cache.MULTITASK_DIR == multitask.MULTITASK_DIR
    assert module_relpath({"task": "mnli", "method": "lora", "key": "k1"}) == Path("mnli/lora-k1")
    multi = {"task": "multitask-mnli+squad", "tasks": ["mnli", "squad"], "method": "bottleneck", "key": "k2"}
    assert module_relpath(multi) == Path("multitask/mnli+squad/bottleneck-k2")
    for bad in ({"task": "..", "method": "lora", "key": "k"}, {"task": "a/b", "method": "lora", "key": "k"},
                {"task": "mnli", "method": "lora", "key": ""}):
        with pytest.raises(AdapterxError, match="unsafe"):
            module_relpath(bad)
