"""Grid cells on a cluster through submitit (Slurm; `pip install adapterx[cluster]`).

Two waves of jobs: first one job per intermediate module (so each trains exactly once), then one
job per cell, which finds its modules in the shared cache. Slurm parameters come from the
environment (ADAPTERX_SLURM_PARTITION, ADAPTERX_SLURM_GPUS, ADAPTERX_SLURM_TIMEOUT_MIN) so the
experiment file stays portable. `ADAPTERX_SUBMITIT_CLUSTER=debug|local` runs the same path
in-process / as local processes (what the tests use)."""

from __future__ import annotations

import os
import time
from pathlib import Path

from adapterx.configs import RunConfig
from adapterx.errors import AdapterxError
from adapterx.recipes.grid_plan import (Cell, GridSpec, cell_config, cell_key, module_config, results_path,
                                        run_cell)
from adapterx.report.console import console


def _executor(folder: Path):
    try:
        import submitit
    except ImportError:
        raise AdapterxError("the submitit executor needs the submitit package",
                            "pip install 'adapterx[cluster]', or use --executor local") from None
    cluster = os.environ.get("ADAPTERX_SUBMITIT_CLUSTER")  # None: auto (Slurm when available)
    executor = submitit.AutoExecutor(folder=str(folder), cluster=cluster)
    params = {"timeout_min": int(os.environ.get("ADAPTERX_SLURM_TIMEOUT_MIN", "1440"))}
    if executor.cluster == "slurm":
        params["gpus_per_node"] = int(os.environ.get("ADAPTERX_SLURM_GPUS", "1"))
        if os.environ.get("ADAPTERX_SLURM_PARTITION"):
            params["slurm_partition"] = os.environ["ADAPTERX_SLURM_PARTITION"]
    executor.update_parameters(**params)
    return executor


def _train_module(task: str, cfg: RunConfig) -> str:
    from adapterx.recipes.train_module import train_module

    return str(train_module(task, cfg.for_intermediate()).path)


def run_with_submitit(spec: GridSpec, base: RunConfig, todo: list[Cell],
                      modules: list[tuple[str, str, int]], command: str) -> dict[str, dict]:
    """Submit module jobs, wait, then cell jobs; returns the per-cell records."""
    folder = Path(base.output) / f"grid-{spec.name}" / "submitit"
    executor = _executor(folder)
    wave = []
    for task, method, seed in modules:
        if "+" in task:  # a multi-task module trains inside its cell's job
            continue
        cfg = module_config(base, method, seed, spec)
        wave.append((task, executor.submit(_train_module, task, cfg)))
    for task, job in wave:
        try:
            job.result()
        except Exception as err:  # noqa: BLE001  (the cells that need it will report it)
            console.print(f"[red]module job {task} failed[/]: {err}")
    jobs = [(cell, time.time(), executor.submit(run_cell, cell, cell_config(base, cell, spec), command))
            for cell in todo]
    outcomes = {}
    for cell, start, job in jobs:
        key = cell_key(cell, cell_config(base, cell, spec))
        try:
            results = job.result()
            outcomes[cell.label] = {"status": "done", "key": key, "job": job.job_id,
                                    "results": results_path(cell_config(base, cell, spec), results),
                                    "average": results.get("average"),
                                    "seconds": round(time.time() - start, 1)}
        except Exception as err:  # noqa: BLE001  (a failed cell is recorded; the others go on)
            outcomes[cell.label] = {"status": "failed", "key": key, "job": job.job_id, "error": str(err)}
    return outcomes
