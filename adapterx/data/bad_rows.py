"""The one place readers report malformed rows through (`data.on_bad_row=error|skip`).

A reader wraps the handling of each row in ``with bad_row(path, line):``. A DataError raised inside
propagates unchanged under the default policy (`error`); under `skip` it is recorded in the active
log (file, line, message) and the row is left out. File-level problems (a missing file or column,
an empty split) are raised outside such blocks and stay errors whatever the policy, so skipping
can never turn a broken file into an empty training set.

The policy is set per command by `applies_policy(fn)`, a decorator of the recipes that read data:
it takes `cfg.data.on_bad_row` from the call's `cfg` argument. Nested recipes (a target run that
trains its intermediate modules) each get their own log; a row skipped inside a nested one is also
counted by every enclosing log, so results.json counts every skipped row the run read.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import inspect
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from adapterx.errors import DataError

N_LINES_SHOWN = 5
F = TypeVar("F", bound=Callable[..., Any])


@dataclass
class BadRowLog:
    """Rows skipped while one command (or a nested recipe of it) read its data."""

    policy: str = "error"
    parent: "BadRowLog | None" = None
    rows: dict[str, dict[int | str, str]] = field(default_factory=dict)  # file -> where -> message
    announced: dict[str, int] = field(default_factory=dict)  # file -> rows already printed

    def add(self, path: str, where: int | str, message: str) -> None:
        """Record one skipped row here and in every enclosing log (the same row counts once)."""
        log: BadRowLog | None = self
        while log is not None:
            log.rows.setdefault(path, {}).setdefault(where, message)
            log = log.parent

    @property
    def total(self) -> int:
        """Skipped rows over all files."""
        return sum(len(r) for r in self.rows.values())

    def summary(self) -> dict:
        """What results.json / adapterx.json record: the policy, the total and per-file counts with
        the first few lines."""
        return {"policy": self.policy, "skipped": self.total,
                "files": {path: {"count": len(rows), "first": list(rows)[:N_LINES_SHOWN]}
                          for path, rows in sorted(self.rows.items())}}

    def announce(self) -> None:
        """Print a line for each file with rows skipped since the last announcement."""
        root = self
        while root.parent is not None:  # print once per process-level command, not per nesting
            root = root.parent
        for path, rows in sorted(self.rows.items()):
            if len(rows) <= root.announced.get(path, 0):
                continue
            root.announced[path] = len(rows)
            wheres = list(rows)
            first_msg = rows[wheres[0]].removeprefix(f"{path}, line {wheres[0]}: ").removeprefix(f"{path}: ")
            from rich.markup import escape

            from adapterx.report.console import console

            console.print(f"[yellow]skipped[/] {len(rows)} malformed row(s) of {escape(path)} "
                          f"(data.on_bad_row=skip) at {escape(_wheres(wheres))}; first: {escape(first_msg)}",
                          highlight=False)


def _wheres(wheres: list[int | str]) -> str:
    """'lines 4, 8' (or JSON paths), the first N_LINES_SHOWN of them."""
    shown = ", ".join(map(str, wheres[:N_LINES_SHOWN]))
    more = f" and {len(wheres) - N_LINES_SHOWN} more" if len(wheres) > N_LINES_SHOWN else ""
    if all(isinstance(w, int) for w in wheres):
        return ("line " if len(wheres) == 1 else "lines ") + shown + more
    return shown + more


_ACTIVE: contextvars.ContextVar[BadRowLog | None] = contextvars.ContextVar("adapterx_bad_rows", default=None)


def active_log() -> BadRowLog | None:
    """The log of the innermost recipe now reading data (None outside any)."""
    return _ACTIVE.get()


@contextlib.contextmanager
def bad_row_policy(policy: str) -> Iterator[BadRowLog]:
    """Apply `policy` to the rows read inside the block; yields the block's log."""
    log = BadRowLog(policy, parent=_ACTIVE.get())
    token = _ACTIVE.set(log)
    try:
        yield log
    finally:
        _ACTIVE.reset(token)


def applies_policy(fn: F) -> F:
    """Decorate a recipe taking `cfg`: the rows it reads follow `cfg.data.on_bad_row`."""
    signature = inspect.signature(fn)

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        cfg = signature.bind_partial(*args, **kwargs).arguments.get("cfg")
        policy = getattr(getattr(cfg, "data", None), "on_bad_row", "error")
        with bad_row_policy(policy):
            return fn(*args, **kwargs)
    return wrapper  # type: ignore[return-value]


class RowScope:
    """Yielded by `bad_row`: whether the block's row was skipped."""

    skipped: bool = False


@contextlib.contextmanager
def bad_row(path: Path | str, where: int | str | None = None) -> Iterator[RowScope]:
    """Handle one row: a DataError inside is raised (policy `error`) or recorded and the row
    skipped (policy `skip`)."""
    scope = RowScope()
    try:
        yield scope
    except DataError as err:
        log = _ACTIVE.get()
        if log is None or log.policy != "skip":
            raise
        scope.skipped = True
        location = err.line if err.line is not None else where
        log.add(str(err.path if err.path is not None else path), location if location is not None else "?",
                err.message)


def skipped_in(path: Path | str) -> int:
    """Rows of `path` skipped so far in the active log (for 'all rows were malformed' messages)."""
    log = _ACTIVE.get()
    return len(log.rows.get(str(path), {})) if log is not None else 0


def record() -> dict | None:
    """The active log's summary for results.json / adapterx.json (None outside any recipe)."""
    log = _ACTIVE.get()
    return log.summary() if log is not None else None
