"""Recipe: `adapterx grid EXPERIMENT.yaml` — the intermediate x target matrix, run so that nothing is
done twice and an interruption loses nothing.

* Intermediate modules train once (phase 1) and every cell reuses them from the module cache.
* A cell is done when the grid state (`<output>/grid-<name>/state.json`) records it as done with the
  same key (hash of its resolved config) and its results.json still exists; a changed config gives
  a new key, so the cell reruns. The run folders themselves are keyed and atomic too.
* A failing cell is recorded (status, error) and the grid goes on; the next invocation retries it.
* Executors: `local` (sequential, the default) or `submitit` (Slurm through the optional
  `adapterx[cluster]` extra; the module cache's per-entry locks keep concurrent jobs from training a
  module twice).
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
import traceback
from collections.abc import Iterator
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from adapterx.composition import SETUP_RUNNERS
from adapterx.configs import RunConfig
from adapterx.errors import AdapterxError, UnknownChoiceError
from adapterx.recipes.grid_cluster import run_with_submitit
from adapterx.recipes.grid_plan import (Cell, GridSpec, cell_config, cell_key, load_spec,
                                        module_trainings, plan_cells, restrict, results_path, run_cell)
from adapterx.report.console import console
from adapterx.store import entry_lock, write_json_atomic

log = logging.getLogger(__name__)
EXECUTORS = ("local", "submitit")


def state_path(cfg: RunConfig, spec: GridSpec) -> Path:
    """Where the grid keeps its per-cell record."""
    return Path(cfg.output) / f"grid-{spec.name}" / "state.json"


def read_state(path: Path) -> dict:
    """The recorded cells (an unreadable state file is reported and treated as empty)."""
    import json

    if not path.is_file():
        return {}
    try:
        return json.loads(path.read_text(encoding="utf-8")).get("cells", {})
    except (ValueError, AttributeError):
        console.print(f"[yellow]note[/]: {path} is unreadable; every cell is checked again")
        return {}


def save_cells(path: Path, name: str, outcomes: dict, spec_path: str | None = None) -> dict:
    """Merge `outcomes` into the state file under its lock and return the merged cells: two grid
    runs on one output (say, different --setups) each add their cells, neither loses the other's."""
    with entry_lock(path):
        cells = {**read_state(path), **outcomes}  # read again now: another run may have written
        data: dict = {"name": name, "cells": cells}
        if spec_path is not None:
            data["spec"] = spec_path
        write_json_atomic(path, data)
    return cells


def is_done(record: dict | None, key: str) -> bool:
    """Done = recorded as done, with this key, and its results.json still on disk."""
    return bool(record and record.get("status") == "done" and record.get("key") == key
                and record.get("results") and Path(record["results"]).is_file())


def plan_table(cells: list[Cell], keys: dict[Cell, str], state: dict) -> Table:
    """The plan as a table (one row per cell, with its status)."""
    table = Table(title=f"grid plan: {len(cells)} cells")
    for col in ("target", "setup", "intermediate", "method", "seed", "status"):
        table.add_column(col)
    for cell in cells:
        record = state.get(cell.label)
        status = ("done" if is_done(record, keys[cell]) else
                  "failed before" if record and record.get("status") == "failed" else "to run")
        table.add_row(cell.target, cell.setup, "+".join(cell.inter) or "-", cell.method, str(cell.seed), status)
    return table


def run_grid(path: str, base: RunConfig, dry_run: bool = False, executor: str | None = None,
             command: str = "", seeds: list[int] | None = None, setups: list[str] | None = None,
             intermediate: list[str] | None = None, quiet: bool = False) -> dict:
    """Plan (and unless `dry_run`, run) the grid, or only its `seeds` / `setups` / `intermediate`
    tasks when given; returns the state dict written to state.json. `quiet`: one progress line and
    the final table, none of the cells' own output."""
    spec = restrict(load_spec(path), seeds, setups, intermediate)
    executor = executor or spec.executor
    if executor not in EXECUTORS:
        raise UnknownChoiceError("executor", executor, EXECUTORS)
    cells, notes = plan_cells(spec, base.module_seed)
    keys = {cell: cell_key(cell, cell_config(base, cell, spec)) for cell in cells}
    where = state_path(base, spec)
    state = read_state(where)
    todo = [c for c in cells if not is_done(state.get(c.label), keys[c])]
    modules = module_trainings(todo, base.module_seed)
    # translate-test reuses the direct run's training; retrieval targets are never trained
    trained_targets = [c for c in todo if _trains(c) and not SETUP_RUNNERS[c.setup].reuses_training]
    if not quiet:
        console.print(plan_table(cells, keys, state))
        for note in notes:
            console.print(f"[dim]{escape(note)}[/]")
    console.print(f"{len(cells)} cells, {len(cells) - len(todo)} done, {len(todo)} to run: "
                  f"at most {len(modules)} intermediate-module trainings (cached ones are reused) and "
                  f"{len(trained_targets)} target trainings")
    summary = {"name": spec.name, "spec": str(path), "cells": state, "planned": [c.label for c in cells]}
    if dry_run:
        return summary
    where.parent.mkdir(parents=True, exist_ok=True)
    if executor == "submitit":
        outcomes = run_with_submitit(spec, base, todo, sorted(modules), command)
    else:
        with _quiet_cells(quiet) as bar_console:
            outcomes = _run_local(todo, base, keys, state, where, spec, command, bar_console)
    state = save_cells(where, spec.name, outcomes, str(path))
    summary["cells"] = state
    failed = [label for label, r in state.items() if r.get("status") == "failed" and label in summary["planned"]]
    done = sum(1 for c in cells if is_done(state.get(c.label), keys[c]))
    console.print(f"grid {spec.name}: {done}/{len(cells)} cells done, {len(failed)} failed; state: {where}")
    for label in failed:
        console.print(f"  [red]failed[/] {label}: {escape(state[label].get('error', ''))}")
    if quiet:  # the one table a quiet grid prints
        from adapterx.cli_tables import print_rows

        rows = [{"cell": c.label, "status": state.get(c.label, {}).get("status", "not run"),
                 "average": _fmt(state.get(c.label, {}).get("average")),
                 "results": state.get(c.label, {}).get("results") or ""} for c in cells]
        print_rows(rows, ("cell", "status", "average", "results"), f"grid {spec.name}", None,
                   whole=("cell", "results"))
    return summary


def _fmt(value: float | None) -> str:
    return "" if value is None else f"{value:.1f}"


@contextlib.contextmanager
def _quiet_cells(quiet: bool) -> Iterator[Console]:
    """The console the progress line uses; with `quiet`, the cells' own output (tables, training
    bars, progress bars) is silenced meanwhile and the line goes to its own console."""
    if not quiet:
        yield console
        return
    from adapterx.progress import PROGRESS_ENV

    before = os.environ.get(PROGRESS_ENV)
    os.environ[PROGRESS_ENV] = "0"  # Trainer and evaluation bars off (adapterx.progress)
    console.quiet = True
    try:
        yield Console(stderr=True, highlight=False)
    finally:
        console.quiet = False
        if before is None:
            os.environ.pop(PROGRESS_ENV, None)
        else:
            os.environ[PROGRESS_ENV] = before


def _trains(cell: Cell) -> bool:
    from adapterx.tasks import get_task

    return get_task(cell.target).kind != "retrieval"


def _run_local(todo: list[Cell], base: RunConfig, keys: dict[Cell, str], state: dict, where: Path,
               spec: GridSpec, command: str, bar_console: Console | None = None) -> dict:
    """Sequential executor with a live progress line (done / failed / ETA); state saved per cell."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    outcomes: dict[str, dict] = {}
    failed = 0
    columns = (TextColumn("[bold]grid[/] {task.description}"), BarColumn(), MofNCompleteColumn(),
               TextColumn("failed: {task.fields[failed]}"), TimeRemainingColumn())
    with Progress(*columns, console=bar_console or console, transient=False) as progress:
        bar = progress.add_task(spec.name, total=len(todo), failed=0)
        for cell in todo:
            progress.update(bar, description=f"{spec.name}: running {cell.label}")
            cfg = cell_config(base, cell, spec)
            start = time.time()
            try:
                results = run_cell(cell, cfg, command)
                record = {"status": "done", "key": keys[cell], "results": results_path(cfg, results),
                          "average": results.get("average"), "seconds": round(time.time() - start, 1)}
            except KeyboardInterrupt:
                console.print(f"[yellow]interrupted[/] during {cell.label}; finished cells are recorded, "
                              "rerun the same command to go on")
                save_cells(where, spec.name, outcomes)
                raise
            except Exception as err:  # noqa: BLE001  (a failed cell must not stop the grid)
                failed += 1
                message = str(err) if isinstance(err, AdapterxError) else f"{type(err).__name__}: {err}"
                if not isinstance(err, AdapterxError):
                    log.warning("grid cell %s failed:\n%s", cell.label, traceback.format_exc())
                record = {"status": "failed", "key": keys[cell], "error": message,
                          "seconds": round(time.time() - start, 1)}
                (bar_console or console).print(f"[red]cell {cell.label} failed[/]: {escape(message)}")
            outcomes[cell.label] = record
            save_cells(where, spec.name, {cell.label: record})
            progress.update(bar, advance=1, failed=failed)
    return outcomes
