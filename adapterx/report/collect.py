"""Find the runs under a folder and group them over seeds.

A run is a folder with a complete results.json (parseable, with `target`, `setup`, `per_language`
and `average`). What is not a run:

* `eval-*` folders (`adapterx eval`): re-scores of a run that is already counted, whose `seed` is
  the evaluation's, not the training's; counting them would add a fake seed. They are skipped and
  listed (their results.json has `evaluated`).
* `compare-*` folders and `grid-*` state: tables over runs, no results.json of their own.
* anything under a dot-folder (`.work/`, unfinished atomic writes) and the report's own output.

Runs are grouped by (target, setup, inter, method, model, quant, eval split); the split is in the
key because test and dev scores must not be averaged together. Two runs of one group with the same
seed are two configs that differ elsewhere (epochs, rank, ...): the newest is kept and the others
are listed as skipped, so a group's spread is over seeds only.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from adapterx.composition import setup_name
from adapterx.errors import AdapterxError
from adapterx.report.scores import read_scores

REQUIRED = ("target", "setup", "per_language", "average")


@dataclass
class Run:
    """One run folder: its results.json and (lazily) its per-example scores."""

    path: Path
    results: dict
    mtime: float
    _scores: dict | None = None

    @property
    def seed(self) -> int | None:
        """The training seed recorded in results.json."""
        return self.results.get("seed")

    def scores(self) -> dict[tuple[str, str], dict]:
        """{(split, lang): per-example scores} (empty for runs written before scores/ existed)."""
        if self._scores is None:
            self._scores = read_scores(self.path)
        return self._scores


@dataclass(frozen=True)
class GroupKey:
    """What a group of seeds shares."""

    target: str
    setup: str
    inter: tuple[str, ...]
    method: str
    model: str
    quant: str
    split: str

    @property
    def is_baseline(self) -> bool:
        """direct / full-direct, and retrieval scored from the base model (no intermediate task)."""
        return self.setup in ("direct", "full-direct") or (self.setup == "retrieval" and not self.inter)

    @property
    def label(self) -> str:
        """The column name in the paper-style table: the intermediate task(s) for stack and
        full-stilts (the paper's matrix), `setup:inter` for other setups, `baseline` for the reference."""
        inter = "+".join(self.inter)
        if self.is_baseline:
            return "baseline"
        if self.setup in ("stack", "full-stilts", "retrieval") and inter:
            return inter
        return f"{self.setup}:{inter}" if inter else self.setup

    @property
    def row(self) -> tuple[str, str, str, str, str]:
        """The table row a group sits in: target, method, model, quant, split."""
        method = "retrieval" if self.setup == "retrieval" else self.method  # base and modules share a row
        return (self.target, method, self.model, self.quant, self.split)


@dataclass
class Group:
    """Runs of one configuration over seeds."""

    key: GroupKey
    runs: list[Run] = field(default_factory=list)
    baseline: Group | None = None

    @property
    def seeds(self) -> list:
        """The seeds, in run order."""
        return [r.seed for r in self.runs]


def _complete(results: object) -> bool:
    return isinstance(results, dict) and all(k in results for k in REQUIRED) and bool(results["per_language"])


def collect_runs(runs_dir: Path, exclude: Path | None = None) -> tuple[list[Run], list[dict]]:
    """Every run under `runs_dir` and the folders skipped, each with its reason."""
    root = Path(runs_dir)
    if not root.is_dir():
        raise AdapterxError(f"{root} is not a folder", "pass the runs folder your commands wrote to "
                            "(their --output, default runs/)")
    runs, skipped = [], []
    for path in sorted(root.rglob("results.json")):
        folder = path.parent
        rel = folder.relative_to(root)
        if any(part.startswith(".") for part in rel.parts):
            continue
        if exclude is not None and folder.resolve().is_relative_to(exclude.resolve()):
            continue
        try:
            results = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            skipped.append({"path": str(folder), "reason": "results.json is not valid JSON (interrupted write?)"})
            continue
        if not _complete(results):
            skipped.append({"path": str(folder), "reason": f"results.json lacks one of {', '.join(REQUIRED)}"})
        elif results.get("evaluated") or results.get("setup") == "module":
            skipped.append({"path": str(folder), "reason": "an `adapterx eval` re-score, not a training run"})
        else:
            runs.append(Run(folder, results, path.stat().st_mtime))
    if not runs:
        raise AdapterxError(f"{root} has no runs (no folder with a complete results.json)",
                            "point RUNS_DIR at the --output of fuse / stack / direct / grid runs, e.g. runs/")
    return runs, skipped


def group_key(results: dict) -> GroupKey:
    """The group a run's results.json belongs to."""
    return GroupKey(target=results["target"], setup=results["setup"], inter=tuple(results.get("inter") or ()),
                    method=str(results.get("method", "")), model=str(results.get("model", "")),
                    quant=str(results.get("quant", "none")), split=str(results.get("eval_split", "test")))


def group_runs(runs: list[Run]) -> tuple[list[Group], list[dict]]:
    """Groups over seeds (newest run per seed), each linked to its baseline group; and the
    runs dropped as same-seed duplicates."""
    by_key: dict[GroupKey, dict] = {}
    skipped = []
    for run in sorted(runs, key=lambda r: r.mtime, reverse=True):
        seeds = by_key.setdefault(group_key(run.results), {})
        if run.seed in seeds:
            skipped.append({"path": str(run.path),
                            "reason": f"same group and seed as the newer {seeds[run.seed].path}"})
        else:
            seeds[run.seed] = run
    groups = {key: Group(key, sorted(seeds.values(), key=lambda r: (str(r.seed), str(r.path))))
              for key, seeds in by_key.items()}
    for key, group in groups.items():
        group.baseline = groups.get(baseline_key(key)) if not key.is_baseline else None
    order = sorted(groups.values(), key=lambda g: (g.key.row, not g.key.is_baseline, g.key.setup != "stack",
                                                   g.key.label))
    return order, skipped


def baseline_key(key: GroupKey) -> GroupKey:
    """The key of the group `key` is compared with: direct of the same method (full-direct for
    full-stilts), the base model for retrieval."""
    if key.setup == "retrieval":
        return GroupKey(key.target, "retrieval", (), "none", key.model, key.quant, key.split)
    setup = setup_name(key.method, "direct")  # e.g. full-stilts is compared with full-direct
    return GroupKey(key.target, setup, (), key.method, key.model, key.quant, key.split)
