"""The module cache on disk (`<modules dir>/<task>/<method>-<key>/`, default_modules_dir): where a module belongs, what is
there (`adapterx cache ls`) and removing what is no longer wanted (`adapterx cache prune`)."""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from adapterx.errors import AdapterxError
from adapterx.store import DONE_MARKER, META_FILE, is_complete

WORK_DIR = ".work"  # training checkpoints of modules being trained (see recipes.train_module)
# adapterx.data.feature_cache's folder, repeated for the same reason as MULTITASK_DIR
FEATURES_DIR = ".features"
# recipes.multitask's folder, repeated (a test keeps them equal) so that `cache ls` need not
# import the training stack (transformers) just to list folders
MULTITASK_DIR = "multitask"
# atomic_dir's temporary folders and pull's staging folders carry the writer's pid
TEMP_RE = re.compile(r"^\.(?P<entry>.+)\.tmp-(?P<pid>\d+)-[0-9a-f]+$")
PULL_RE = re.compile(r"^\.pull-(?P<pid>\d+)-.+$")
SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.+-]*$")


def default_modules_dir() -> str:
    """The module cache every command shares unless told otherwise: `$ADAPTERX_HOME/modules`, else
    `$XDG_CACHE_HOME/adapterx/modules`, else `~/.cache/adapterx/modules` (as the HF stack places
    its caches), so a module trained from one folder is reused from any other."""
    home = os.environ.get("ADAPTERX_HOME")
    if not home:
        home = os.path.join(os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"),
                            "adapterx")
    return os.path.join(home, "modules")


@dataclass
class CacheEntry:
    """One thing under the modules folder: a module, a temp folder, a training checkpoint or a
    set of tokenized training features."""

    path: Path
    kind: str  # module | temp | work | features
    task: str
    method: str
    key: str
    complete: bool
    in_use: bool  # locked by a running process (or a temp folder whose writer still runs)
    size: int = 0
    created: float = 0.0  # seconds since the epoch
    base_model: str = ""
    dev: float | None = None

    @property
    def status(self) -> str:
        """complete / incomplete, and whether a running process holds it."""
        state = "complete" if self.complete else "incomplete"
        return f"{state} (in use)" if self.in_use else state

    def as_dict(self) -> dict:
        """Plain data for the API and JSON output."""
        return {"path": str(self.path), "kind": self.kind, "task": self.task, "method": self.method,
                "key": self.key, "base_model": self.base_model, "size": self.size,
                "created": time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(self.created)),
                "dev": self.dev, "status": self.status}


def module_relpath(meta: dict) -> Path:
    """Where a module belongs under the modules folder, from its adapterx.json (the layout that
    train / multitask write); refuses names that could point outside it."""
    method, key = str(meta.get("method", "")), str(meta.get("key", ""))
    parts = [str(t) for t in meta["tasks"]] if meta.get("tasks") else [str(meta.get("task", ""))]
    for value in (method, key, *parts):
        if not SAFE_NAME.match(value):
            raise AdapterxError(f"adapterx.json names an unsafe task, method or key: {value!r}",
                                "only modules written by adapterx can be placed in the cache")
    if meta.get("tasks"):
        return Path(MULTITASK_DIR) / "+".join(parts) / f"{method}-{key}"
    return Path(parts[0]) / f"{method}-{key}"


def folder_size(path: Path) -> int:
    """Bytes of the files under `path` (links not followed)."""
    total = 0
    for root, _, files in os.walk(path):
        for name in files:
            with contextlib.suppress(OSError):
                total += os.lstat(os.path.join(root, name)).st_size
    return total


def human_size(n: float) -> str:
    """1536 -> '1.5 KB'."""
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GB"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: alive
        return True
    return True


@contextlib.contextmanager
def try_lock(lock_path: Path) -> Iterator[bool]:
    """Take an entry's lock (store.entry_lock's file) without waiting; yield whether we hold it.
    Holding it while deleting keeps a writer from starting on the entry meanwhile."""
    from filelock import FileLock, Timeout

    if not os.access(lock_path.parent, os.W_OK) or (lock_path.exists() and not os.access(lock_path, os.W_OK)):
        raise PermissionError(f"{lock_path} cannot be locked: read-only")  # filelock would wait on it
    lock = FileLock(lock_path, thread_local=False)
    try:
        lock.acquire(blocking=False)
    except Timeout:
        yield False
        return
    try:
        yield True
    finally:
        lock.release()


def lock_of(path: Path) -> Path:
    """The lock file store.entry_lock uses for entry `path`."""
    return path.parent / f".{path.name}.lock"


def _locked(lock_path: Path) -> bool:
    if not lock_path.is_file():
        return False
    try:
        with try_lock(lock_path) as held:
            return not held
    except OSError:  # a read-only cache: nobody can be writing into it through this lock
        return False


def _created(path: Path, meta: dict) -> float:
    stamp = meta.get("created") or ""
    if not stamp and (path / DONE_MARKER).is_file():  # atomic_dir writes its time into the marker
        stamp = (path / DONE_MARKER).read_text(encoding="utf-8", errors="replace").strip()
    with contextlib.suppress(ValueError):
        return time.mktime(time.strptime(stamp, "%Y-%m-%dT%H:%M:%S"))
    return path.stat().st_mtime


def dev_score(meta: dict) -> float | None:
    """The module's headline English dev score (multi-task: the mean over its tasks)."""
    metrics = meta.get("metrics") or {}
    if "english_dev_mean" in metrics:
        return float(metrics["english_dev_mean"])
    scores = metrics.get("english_dev")
    if isinstance(scores, (int, float)):
        return float(scores)
    if isinstance(scores, dict) and scores:
        # QA and tagging report f1 first (their headline); other metrics have one score
        value = scores.get("f1", next(iter(scores.values())))
        return float(value) if isinstance(value, (int, float)) else None
    return None


def _module_entry(path: Path) -> CacheEntry:
    meta: dict = {}
    with contextlib.suppress(OSError, ValueError):
        meta = json.loads((path / META_FILE).read_text(encoding="utf-8"))
    meta = meta if isinstance(meta, dict) else {}  # a listing shows a broken adapterx.json, loading refuses it
    method, _, key = path.name.partition("-")
    task = "+".join(meta["tasks"]) if meta.get("tasks") else meta.get("task") or path.parent.name
    return CacheEntry(path, "module", task, meta.get("method", method), meta.get("key", key),
                      complete=is_complete(path), in_use=_locked(lock_of(path)), size=folder_size(path),
                      created=_created(path, meta), base_model=(meta.get("base_model") or {}).get("name", ""),
                      dev=dev_score(meta))


def _temp_entry(path: Path) -> CacheEntry:
    match = TEMP_RE.match(path.name) or PULL_RE.match(path.name)
    entry = match.groupdict().get("entry") or ""
    method, _, key = entry.partition("-")
    # its writer's pid still running, or the entry's lock held: someone is writing it now
    in_use = _pid_alive(int(match["pid"])) or (bool(entry) and _locked(path.parent / f".{entry}.lock"))
    return CacheEntry(path, "temp", path.parent.name if entry else "(pull)", method, key, complete=False,
                      in_use=in_use, size=folder_size(path), created=path.stat().st_mtime)


def _work_entry(path: Path) -> CacheEntry:
    root = path.parent.parent
    prefix, method, key = (path.name.rsplit("-", 2) + ["", ""])[:3]
    # the module being trained holds the lock of its final folder; the key names it uniquely
    locks = list(root.glob(f"*/.{method}-{key}.lock")) + list(root.glob(f"*/*/.{method}-{key}.lock"))
    return CacheEntry(path, "work", prefix, method, key, complete=False,
                      in_use=any(_locked(lock) for lock in locks), size=folder_size(path),
                      created=path.stat().st_mtime)


def _features_entry(path: Path) -> CacheEntry:
    meta: dict = {}
    with contextlib.suppress(OSError, ValueError):
        meta = json.loads((path / META_FILE).read_text(encoding="utf-8"))
    task, _, key = path.name.rpartition("-")
    form = "train" if meta.get("train", True) else "eval"
    return CacheEntry(path, "features", meta.get("task", task), f"tokens:{form}", meta.get("key", key),
                      complete=is_complete(path), in_use=_locked(lock_of(path)), size=folder_size(path),
                      created=_created(path, meta))


def examine(path: Path, kind: str) -> CacheEntry:
    """One cache entry of `kind` (module / temp / work / features) as it is on disk now."""
    return {"module": _module_entry, "temp": _temp_entry, "work": _work_entry,
            "features": _features_entry}[kind](path)


def _entry_dirs(root: Path) -> Iterator[Path]:
    """Folders that hold entries: modules/<task>/ and modules/multitask/<tasks>/."""
    for task_dir in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        if task_dir.name == MULTITASK_DIR:
            yield from sorted(p for p in task_dir.iterdir() if p.is_dir() and not p.name.startswith("."))
        else:
            yield task_dir


def scan(modules_dir: str | Path | None = None) -> list[CacheEntry]:
    """Everything in the module cache: modules (complete or not), leftover temp folders, training
    checkpoints and tokenized features, each with its size and whether a running process holds it."""
    root = Path(modules_dir or default_modules_dir())
    if not root.is_dir():
        return []
    found = []
    for parent in _entry_dirs(root):
        for path in sorted(p for p in parent.iterdir() if p.is_dir()):
            if TEMP_RE.match(path.name):
                found.append((path, "temp"))
            elif not path.name.startswith("."):
                found.append((path, "module"))
    found += [(p, "temp") for p in sorted(root.iterdir()) if p.is_dir() and PULL_RE.match(p.name)]
    if (root / WORK_DIR).is_dir():
        found += [(p, "work") for p in sorted((root / WORK_DIR).iterdir()) if p.is_dir()]
    if (root / FEATURES_DIR).is_dir():
        found += [(p, "temp" if TEMP_RE.match(p.name) else "features")
                  for p in sorted((root / FEATURES_DIR).iterdir()) if p.is_dir()]
    return [examine(path, kind) for path, kind in found]


def _run_work_entry(path: Path) -> CacheEntry:
    # a target run trains under <runs>/.work/<key> holding the lock of its run folder, whose
    # name ends with the key's first 8 characters
    locks = list(path.parent.parent.glob(f"*/.*-{path.name[:8]}.lock"))
    task = locks[0].parent.name if locks else "(run)"
    return CacheEntry(path, "work", task, "run", path.name[:16], complete=False,
                      in_use=any(_locked(lock) for lock in locks), size=folder_size(path),
                      created=path.stat().st_mtime)


def scan_runs(runs_dir: str | Path = "runs") -> list[CacheEntry]:
    """Leftovers of interrupted runs under a runs folder: `<target>/.<run>.tmp-*` folders and
    `.work/<key>` checkpoints (finished run folders are never listed: prune leaves them alone)."""
    root = Path(runs_dir)
    if not root.is_dir():
        return []
    found = [_temp_entry(p) for target in sorted(root.iterdir()) if target.is_dir() and not target.name.startswith(".")
             for p in sorted(target.iterdir()) if p.is_dir() and TEMP_RE.match(p.name)]
    if (root / WORK_DIR).is_dir():
        found += [_run_work_entry(p) for p in sorted((root / WORK_DIR).iterdir()) if p.is_dir()]
    return found


def select(entries: list[CacheEntry], incomplete: bool = False, older_than: float | None = None,
           task: str | None = None, now: float | None = None, features: bool = False) -> list[CacheEntry]:
    """What prune would remove: entries matching every filter given, never one in use; complete
    modules only when asked for by age or task (`incomplete` keeps to unfinished things;
    `features` to tokenized features, which are rebuilt when needed)."""
    if not (incomplete or older_than is not None or task or features):
        raise AdapterxError("say what to prune", "pass --incomplete, --features, --older-than DAYS and/or "
                            "--task T (add --dry-run to see the list first)")
    now = time.time() if now is None else now
    chosen = []
    for entry in entries:
        if entry.in_use or (incomplete and entry.complete):
            continue
        if features and entry.kind != "features":
            continue
        if older_than is not None and now - entry.created < older_than * 86400:
            continue
        if task and task not in (entry.task, *entry.task.split("+")):
            continue
        chosen.append(entry)
    return chosen


def remove(entry: CacheEntry) -> bool:
    """Delete one entry unless a process took it since the scan; a module's lock is held while
    it is deleted, so no writer starts on it meanwhile."""
    if not entry.path.is_dir():
        return False
    if entry.kind in ("module", "features"):
        with try_lock(lock_of(entry.path)) as held:
            if held:
                shutil.rmtree(entry.path, ignore_errors=True)
            return held
    if examine(entry.path, entry.kind).in_use:
        return False
    shutil.rmtree(entry.path, ignore_errors=True)
    return True


def prune(modules_dir: str | Path | None = None, incomplete: bool = False, older_than: float | None = None,
          task: str | None = None, dry_run: bool = False,
          features: bool = False, runs_dir: str | Path | None = None) -> tuple[list[CacheEntry], list[CacheEntry]]:
    """Select entries (see `select`) and, unless `dry_run`, delete them, the leftovers of
    interrupted runs under `runs_dir` included; returns (removed or to be removed, skipped
    because a process took them meanwhile)."""
    entries = scan(modules_dir) + (scan_runs(runs_dir) if runs_dir is not None else [])
    chosen = select(entries, incomplete, older_than, task, features=features)
    if dry_run:
        return chosen, []
    done, skipped = [], []
    for entry in chosen:
        (done if remove(entry) else skipped).append(entry)
    return done, skipped
