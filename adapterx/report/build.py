"""`adapterx report RUNS_DIR`: collect runs -> group over seeds -> statistics -> report.md /
report.csv / report.json (+ PNGs with --plot) under the out folder, and the main table in the terminal."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from adapterx.errors import AdapterxError, UnknownChoiceError
from adapterx.report.analysis import Settings, analyse
from adapterx.report.benchmark import xtreme_scores
from adapterx.report.collect import collect_runs, group_runs
from adapterx.report.console import console
from adapterx.report.resources import LOW_RESOURCE_GIB
from adapterx.report.tables import long_csv, markdown, print_main
from adapterx.store import write_json_atomic

FORMATS = ("md", "csv", "json")
SCHEMA_VERSION = 1


def parse_formats(formats: str | Iterable[str]) -> list[str]:
    """'md,csv' or a list -> checked format names."""
    names = [f.strip().lower() for f in (formats.split(",") if isinstance(formats, str) else formats) if f.strip()]
    for name in names:
        if name not in FORMATS:
            raise UnknownChoiceError("report format", name, FORMATS, hint="e.g. --format md,csv,json")
    return names


def build_report(runs_dir: str | Path, settings: Settings, out: Path | None = None) -> tuple[dict, list]:
    """report.json's dict and the groups it was made from."""
    runs, skipped = collect_runs(Path(runs_dir), exclude=out)
    groups, duplicates = group_runs(runs)
    summaries = analyse(groups, settings)
    report = {
        "schema_version": SCHEMA_VERSION, "runs_dir": str(runs_dir), "n_runs": len(runs) - len(duplicates),
        "settings": {"resamples": settings.resamples, "seed": settings.seed, "ci_level": settings.level,
                     "alpha": settings.alpha, "low_resource_gib": LOW_RESOURCE_GIB,
                     "test": "paired bootstrap over examples; p = share of resamples with gain <= 0"},
        "groups": summaries, "xtreme": xtreme_scores(summaries), "skipped": skipped + duplicates, "files": {},
    }
    return report, groups


def run_report(runs_dir: str | Path, out: str | Path | None = None, formats: str | Iterable[str] = FORMATS,
               plot: bool = False, resamples: int = 1000, seed: int = 0, show: bool = True) -> dict:
    """Write the report of every run under `runs_dir` to `out` (default <runs_dir>/report/) and
    return report.json's dict (its `files` lists what was written)."""
    names = parse_formats(formats)
    if resamples < 1:
        raise AdapterxError(f"--resamples must be at least 1, got {resamples}", "the default, 1000, suits most uses")
    folder = Path(out) if out else Path(runs_dir) / "report"
    report, groups = build_report(runs_dir, Settings(resamples=resamples, seed=seed), folder)
    folder.mkdir(parents=True, exist_ok=True)
    files: dict[str, str] = report["files"]
    if "md" in names:
        (folder / "report.md").write_text(markdown(report), encoding="utf-8")
        files["md"] = str(folder / "report.md")
    if "csv" in names:
        (folder / "report.csv").write_text(long_csv(groups), encoding="utf-8")
        files["csv"] = str(folder / "report.csv")
    if plot:
        from adapterx.report.plots import write_plots

        files["plots"] = [str(p) for p in write_plots(report, folder)]
    if "json" in names:
        files["json"] = str(folder / "report.json")
        write_json_atomic(folder / "report.json", report)
    if show:
        print_main(report)
        console.print(f"report: {folder}")
    return report
