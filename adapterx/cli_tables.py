"""Listings the command line prints (tasks, cache, config keys): a table on a terminal, aligned
plain text when piped, JSON for scripts. Nothing is ever cut short: names and paths stay whole,
so `adapterx tasks | grep commonsenseqa` finds the task."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from typing import Any

from adapterx.errors import UnknownChoiceError

FORMATS = ("table", "plain", "json")
FORMAT_HELP = "table | plain (aligned text, whole values) | json [table on a terminal, plain when piped]"


def resolve_format(fmt: str | None) -> str:
    """The format asked for, or the default: a table on a terminal, plain text in a pipe."""
    if fmt is None:
        return "table" if sys.stdout.isatty() else "plain"
    if fmt not in FORMATS:
        raise UnknownChoiceError("--format", fmt, FORMATS)
    return fmt


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def plain_lines(rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> list[str]:
    """Header and rows, columns padded to their widest value; the last column is never padded."""
    cells = [list(columns)] + [[_text(r.get(c)) for c in columns] for r in rows]
    widths = [max(len(line[i]) for line in cells) for i in range(len(columns))]
    return ["  ".join(v.ljust(w) for v, w in zip(line[:-1], widths[:-1])) + ("  " if len(line) > 1 else "")
            + line[-1] for line in cells]


def print_rows(rows: Sequence[dict[str, Any]], columns: Sequence[str], title: str, fmt: str | None,
               whole: Sequence[str] = ()) -> None:
    """Print `rows` (dicts keyed by column) as a table, plain text or JSON; the `whole` columns
    (names, paths) are never wrapped nor shortened, the others fold onto more lines."""
    fmt = resolve_format(fmt)
    if fmt == "json":
        sys.stdout.write(json.dumps([{c: r.get(c) for c in columns} for r in rows], indent=1, default=str) + "\n")
        return
    if fmt == "plain":
        sys.stderr.write(f"{title}:\n")  # stdout stays rows only, for grep and cut
        sys.stdout.write("".join(line.rstrip() + "\n" for line in plain_lines(rows, columns)))
        return
    from rich.table import Table

    from adapterx.report.console import console

    table = Table(title=title)
    for col in columns:
        if col in whole:
            width = max([len(col)] + [len(_text(r.get(col))) for r in rows])
            table.add_column(col, no_wrap=True, min_width=width)
        else:
            table.add_column(col, overflow="fold")
    for r in rows:
        table.add_row(*(_text(r.get(c)) for c in columns))
    console.print(table)
