"""What the command line says for errors that are not adapterx's own: disk and file-system
errors become an `error:` with a `fix:` (exit 2); anything else is an internal error, reported in
one line with a log file that holds the traceback (exit 1)."""

from __future__ import annotations

import errno
import os
import shutil
import tempfile
import time
import traceback
from pathlib import Path

from adapterx.cache import human_size
from adapterx.errors import AdapterxError

INTERNAL_EXIT = 1
LOG_ENV = "ADAPTERX_LOG_DIR"  # where internal-error logs go [~/.cache/adapterx/logs]


def _existing_parent(path: Path) -> Path:
    for parent in (path, *path.parents):
        if parent.exists():
            return parent
    return Path(".")


def _free_space(path: Path) -> int | None:
    try:
        return shutil.disk_usage(_existing_parent(path)).free
    except OSError:
        return None


def os_error_message(err: OSError) -> AdapterxError:
    """An OSError as a user error: what failed, on which path, and what to do about it."""
    path = Path(err.filename) if err.filename else None
    where = f" ({path})" if path else ""
    reason = err.strerror or type(err).__name__
    if err.errno == errno.ENOSPC:
        written = getattr(err, "adapterx_written", None)
        free = _free_space(path) if path else None
        need = (f"the unfinished write ({human_size(written)} so far) was removed; free at least that much "
                "more" if written else "free some space")
        have = f" ({human_size(free)} free now)" if free is not None else ""
        return AdapterxError(f"no space left on the device{where}{have}",
                             f"{need}, or point --output / --modules-dir at a larger disk; finished "
                             "modules and runs are intact, rerun the same command to go on")
    if err.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
        return AdapterxError(f"cannot write{where}: {reason}",
                             "choose a writable folder with --output / --modules-dir")
    if err.errno in (errno.ENOTDIR, errno.EEXIST, errno.EISDIR):
        return AdapterxError(f"a file is in the way{where}: {reason}",
                             "move that file away, or choose another folder with --output / --modules-dir")
    if err.errno == errno.ENOENT:
        return AdapterxError(f"no such file or folder{where}", "check the path")
    if err.errno is None:  # not the file system: a network error (requests' and the Hub's are OSErrors)
        text = (str(err).splitlines() or [type(err).__name__])[0][:300]
        return AdapterxError(f"{type(err).__name__}: {text}",
                             "check the network connection (or work offline with --model DIR and --data-dir DIR), "
                             "then rerun the same command")
    return AdapterxError(f"{reason}{where}", "check the path and the disk, then rerun the same command")


def log_dir() -> Path:
    """The folder internal-error logs are written to (created on use)."""
    if os.environ.get(LOG_ENV):
        return Path(os.environ[LOG_ENV])
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "adapterx" / "logs"


def write_crash_log(err: BaseException, command: str) -> Path:
    """Write the traceback of an internal error to a log file and return its path (falls back
    to the temp folder when the cache folder is not writable)."""
    text = (f"adapterx internal error at {time.strftime('%Y-%m-%dT%H:%M:%S')}\ncommand: {command}\n\n"
            + "".join(traceback.format_exception(type(err), err, err.__traceback__)))
    name = f"crash-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}.log"
    for folder in (log_dir(), Path(tempfile.gettempdir())):
        try:
            folder.mkdir(parents=True, exist_ok=True)
            (folder / name).write_text(text, encoding="utf-8")
            return folder / name
        except OSError:
            continue
    return Path(tempfile.gettempdir()) / name  # unreachable in practice: both writes failed


def internal_error_message(err: BaseException, log_path: Path) -> str:
    """The short report of a bug: the exception in one line, the log file, please report."""
    summary = f"{type(err).__name__}: {err}".splitlines()[0][:300]
    return (f"error: internal error ({summary})\n  the traceback is in {log_path}\n"
            "  this is a bug in adapterx: please report it, with that file")
