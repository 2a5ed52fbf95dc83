"""The `compare` table: one row per setup, one column per language, average, delta vs direct,
cost columns; as a rich table in the terminal and as markdown in compare.md."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.measure import Measurement
from rich.table import Table

from adapterx.report.console import console

DASH = "—"
COST_COLUMNS = ("trainable params", "train time", "peak memory")
NOTE_WIDTH = 40  # terminal only; compare.md keeps whole messages


def _number(value: float | None, fmt: str) -> str:
    return DASH if value is None else format(value, fmt)


def header(comparison: dict) -> list[str]:
    """Column names: setup, each language, average, delta vs the reference, costs, note."""
    return ["setup", *comparison["languages"], "average", f"Δ vs {comparison['reference']}",
            *COST_COLUMNS, "note"]


def cells(row: dict, langs: list[str], full_errors: bool = True) -> list[str]:
    """One row's cells, in `header` order; a failed setup says so and why."""
    scores = [_number(row["per_language"].get(lang), ".1f") for lang in langs]
    label = row["setup"] if row.get("run_setup") in (None, row["setup"]) else f"{row['setup']} ({row['run_setup']})"
    if row["status"] != "ok":
        error = row["error"] or ""
        note = error if full_errors else error.splitlines()[0][:100]
        return [label, *scores, "failed", DASH, DASH, DASH, DASH, note]
    notes = []
    if row["per_language"] and set(row["per_language"]) != set(langs):
        notes.append(f"average over {len(row['per_language'])} languages")
    seconds, memory = row.get("train_seconds"), row.get("peak_memory_mb")
    return [label, *scores, _number(row["average"], ".1f"), _number(row["delta"], "+.1f"),
            DASH if row.get("trainable_params") is None else f"{int(row['trainable_params']):,}", DASH if seconds is None else f"{seconds:.1f} s",
            DASH if memory is None else f"{memory:,.0f} MB", "; ".join(notes)]


def _title(comparison: dict) -> str:
    inter = "+".join(comparison["inter"]) or "none"
    return (f"{comparison['target']} zero-shot, setups compared (inter: {inter}; "
            f"{comparison['metric']}, {comparison['eval_split']})")


def _grid(comparison: dict, full_errors: bool) -> tuple[list[str], list[list[str]]]:
    """Header and rows; the note column only when some row has a note."""
    names = header(comparison)
    rows = [cells(row, comparison["languages"], full_errors) for row in comparison["rows"]]
    if not any(r[-1] for r in rows):
        return names[:-1], [r[:-1] for r in rows]
    return names, rows


def print_compare(comparison: dict) -> None:
    """The comparison as one rich table, failed setups' full errors below it."""
    table = Table(title=_title(comparison))
    names, rows = _grid(comparison, full_errors=False)
    for i, name in enumerate(names):
        note = name == "note"
        table.add_column(name, justify="left" if i == 0 or note else "right", no_wrap=not note,
                         max_width=NOTE_WIDTH if note else None)
    for row, row_cells in zip(comparison["rows"], rows):
        style = "red" if row["status"] != "ok" else ("bold" if row["setup"] == comparison["reference"] else None)
        table.add_row(*(escape(c) for c in row_cells), style=style)  # errors may hold [brackets]
    # A row per setup with a column per language is wider than most terminals: print it whole
    # (the terminal wraps long lines) rather than let rich squeeze every number to "5…".
    needed = Measurement.get(console, console.options.update(max_width=10_000), table).maximum
    wide = Console(file=console.file, width=max(console.width, needed), highlight=False,
                   force_terminal=console.is_terminal, color_system=console.color_system)
    wide.print(table, crop=False)
    for row in comparison["rows"]:
        if row["status"] != "ok":
            console.print(f"[red]{row['setup']} failed[/]: {escape(row['error'])}")


def compare_markdown(comparison: dict) -> str:
    """compare.md: a title line and a markdown table with the same columns as the terminal's."""
    names, rows = _grid(comparison, full_errors=True)
    lines = [f"# {_title(comparison)}", "",
             "| " + " | ".join(names) + " |",
             "|" + "|".join(":---" if i == 0 or n == "note" else "---:" for i, n in enumerate(names)) + "|"]
    for row_cells in rows:
        lines.append("| " + " | ".join(c.replace("|", "\\|").replace("\n", " ") for c in row_cells) + " |")
    if comparison.get("command"):
        lines += ["", f"Command: `{comparison['command']}`"]
    return "\n".join(lines) + "\n"
