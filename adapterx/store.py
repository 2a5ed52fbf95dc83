"""Modules and runs on disk: cache keys, atomic folder writes with done markers, per-entry locks,
and the adapterx.json that travels beside every module."""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import shutil
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from adapterx.errors import AdapterxError, ModuleMismatchError

META_FILE = "adapterx.json"
DONE_MARKER = ".complete"
HEAD_FILE = "adapterx_head.safetensors"
SCHEMA_VERSION = 1


def stable_hash(payload: Any, length: int = 16) -> str:
    """Hash of JSON-able data, independent of dict order."""
    text = json.dumps(payload, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:length]


def is_complete(path: Path) -> bool:
    """A folder is usable only once its done marker exists (written last, after every file)."""
    return (Path(path) / DONE_MARKER).is_file() and (Path(path) / META_FILE).is_file()


@contextlib.contextmanager
def atomic_dir(final: Path, collective: bool = True) -> Iterator[Path]:
    """Yield a temporary sibling folder; on success mark it complete and rename it to `final`.

    A crash leaves only a `.tmp-*` folder, never a half-written `final`. Under a multi-process
    launch only the main process writes `final`; the others write to a scratch folder that is
    dropped, and every rank leaves only once `final` is complete. `collective=False`: a write the
    main process alone makes (its caller keeps the other ranks out), with no barrier."""
    from adapterx.distributed import barrier, is_main_process

    if collective and not is_main_process():
        import tempfile

        scratch = Path(tempfile.mkdtemp(prefix="adapterx-rank-"))
        try:
            yield scratch
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        barrier()
        return
    final = Path(final)
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = final.parent / f".{final.name}.tmp-{os.getpid()}-{uuid.uuid4().hex[:6]}"
    tmp.mkdir()
    try:
        yield tmp
        follow_umask(tmp)
        (tmp / DONE_MARKER).write_text(time.strftime("%Y-%m-%dT%H:%M:%S"), encoding="utf-8")
        if final.exists():  # an incomplete leftover (complete ones are never rewritten)
            shutil.rmtree(final)
        os.replace(tmp, final)
    except BaseException as err:
        if isinstance(err, OSError) and err.errno == errno.ENOSPC:
            from adapterx.cache import folder_size

            # what the write needed at least: the CLI says so after the folder is gone
            err.adapterx_written = folder_size(tmp)  # type: ignore[attr-defined]
            err.filename = err.filename or str(final)
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if collective:
        barrier()


def follow_umask(folder: Path) -> None:
    """Give every file under `folder` the mode the user's umask gives new files: safetensors and
    tempfile write 0600, which other users of a shared cache could not read."""
    mask = os.umask(0)
    os.umask(mask)
    for root, _, files in os.walk(folder):
        for name in files:
            path = os.path.join(root, name)
            if not os.path.islink(path):
                os.chmod(path, 0o666 & ~mask)


@contextlib.contextmanager
def entry_lock(path: Path) -> Iterator[None]:
    """An exclusive lock per cache entry: a second process waits, then finds the entry done. The
    ranks of one multi-process launch are one writer: only the main process locks."""
    from adapterx.distributed import is_main_process

    if not is_main_process():
        yield
        return
    from filelock import FileLock

    lock_path = Path(path).parent / f".{Path(path).name}.lock"
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    # filelock: an OS lock (flock on POSIX, msvcrt on Windows) that a killed holder releases
    with FileLock(lock_path, thread_local=False):
        yield


def write_json_atomic(path: Path, data: Any) -> None:
    """Write JSON to a temp file and rename it over `path`."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        tmp.write_text(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8")
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)  # a full disk or a kill: no half-written temp file stays
        raise


def read_meta(path: Path) -> dict:
    """adapterx.json of a complete module or run folder, checked (schema, head paths, no pickled
    weights: adapterx.module_meta) before anything reads the folder's weights; clear errors for
    anything else."""
    from adapterx.module_meta import check_folder, read_meta_file

    path = Path(path)
    if not path.is_dir():
        raise AdapterxError(f"{path} is not a folder", "pass the folder `adapterx train` printed")
    if not (path / META_FILE).is_file():
        raise ModuleMismatchError(f"{path} has no {META_FILE}: not an adapterx module or run",
                                  "pass a folder written by adapterx train / fuse / stack")
    if not is_complete(path):
        raise ModuleMismatchError(f"{path} is incomplete (its writer was interrupted)",
                                  "delete it and run the command again; adapterx redoes it")
    return check_folder(path, read_meta_file(path / META_FILE))


def write_meta(folder: Path, meta: dict) -> Path:
    """The one writer of adapterx.json: `meta`, as JSON stores it, checked against adapterx's schema
    (adapterx.module_meta) first, so no folder is written that read_meta would refuse."""
    from adapterx.module_meta import validate_meta

    path = Path(folder) / META_FILE
    data = json.loads(json.dumps(meta, ensure_ascii=False, default=str))  # what the file will hold
    write_json_atomic(path, validate_meta(data, str(path)))
    return path


def check_base(meta: dict, fingerprint: dict, model_name: str, where: Path) -> None:
    """Refuse to load a module onto a base model other than the one it was trained on."""
    saved = meta.get("base_model", {}).get("fingerprint", {})
    diffs = [f"{k}: module {saved.get(k)!r} vs base {fingerprint.get(k)!r}"
             for k in sorted(set(saved) | set(fingerprint)) if saved.get(k) != fingerprint.get(k)]
    if diffs:
        trained_on = meta.get("base_model", {}).get("name", "?")
        if trained_on == model_name:  # same name or path, other weights: say that, not "X, not X"
            raise ModuleMismatchError(
                f"the base model at {model_name!r} changed since module {where} was trained on it "
                f"({'; '.join(diffs)})",
                "retrain the module on this base (adapterx train does so: its cache key follows the "
                "weights, not the path), or put the original weights back at that path")
        raise ModuleMismatchError(
            f"module {where} was trained on base model {trained_on!r}, not on {model_name!r} "
            f"({'; '.join(diffs)})",
            f"pass --model {trained_on}, or retrain the module on this base")
