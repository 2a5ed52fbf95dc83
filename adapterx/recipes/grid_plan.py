"""`adapterx grid` plans: the experiment YAML -> the list of cells (target x setup x intermediate(s)
x method x seed), each with its resolved config and the key that decides whether it is done.

Setups that compose *one* intermediate module with the target (stack, full-stilts) get one cell per
intermediate task: that is the paper's matrix. Setups that combine modules (fuse, lora-fusion,
merge, multitask) get one cell over all intermediate tasks. direct / full-direct / translate-test
take none. Retrieval targets (BUCC, Tatoeba) have no training data: they are scored from the base
(direct) and from each intermediate module's representations (stack), never trained."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from adapterx.configs import RunConfig
from adapterx.errors import AdapterxError, UnknownChoiceError
from adapterx.store import stable_hash

PER_INTERMEDIATE = ("stack", "full-stilts")
COMBINED = ("fuse", "lora-fusion", "merge", "multitask")
RETRIEVAL_SETUPS = ("direct", "stack")
SPEC_KEYS = {"name", "intermediate", "targets", "setups", "methods", "seeds", "config", "preset",
             "executor", "description"}


@dataclass(frozen=True)
class Cell:
    """One run of the grid."""

    target: str
    setup: str
    inter: tuple[str, ...]
    method: str
    seed: int

    @property
    def label(self) -> str:
        """Human-readable id, e.g. `xcopa/stack(siqa)/bottleneck/s0`."""
        inter = f"({'+'.join(self.inter)})" if self.inter else ""
        return f"{self.target}/{self.setup}{inter}/{self.method}/s{self.seed}"


@dataclass
class GridSpec:
    """The experiment file, validated."""

    name: str
    intermediate: list[str]
    targets: list[str]
    setups: list[str]
    methods: list[str] = field(default_factory=lambda: ["bottleneck"])
    seeds: list[int] = field(default_factory=lambda: [0])
    config: dict[str, Any] = field(default_factory=dict)
    preset: str | None = None
    executor: str = "local"
    description: str = ""


def _as_list(value: Any, key: str, path: Path) -> list:
    if value is None:
        return []
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    if not isinstance(value, list):
        raise AdapterxError(f"{path}: `{key}` must be a list (or a comma string), got {value!r}")
    return value


def load_spec(path: str | Path) -> GridSpec:
    """Read and validate an experiment YAML (unknown keys, tasks, setups and methods are errors)."""
    from adapterx.configs import load_yaml_config
    from adapterx.methods import METHOD_NAMES
    from adapterx.recipes.compare import SETUP_RUNNERS
    from adapterx.recipes.train_module import trainable_task
    from adapterx.tasks import all_tasks, get_task

    path = Path(path)
    data = load_yaml_config(path)
    unknown = sorted(set(data) - SPEC_KEYS)
    if unknown:
        raise UnknownChoiceError("grid file key", unknown[0], sorted(SPEC_KEYS),
                                 hint="run settings go under `config:` (e.g. config: {training.epochs: 2})")
    spec = GridSpec(name=str(data.get("name") or path.stem),
                    intermediate=[str(t) for t in _as_list(data.get("intermediate"), "intermediate", path)],
                    targets=[str(t) for t in _as_list(data.get("targets"), "targets", path)],
                    setups=[str(s) for s in _as_list(data.get("setups"), "setups", path)] or ["direct", "stack"],
                    methods=[str(m) for m in _as_list(data.get("methods"), "methods", path)] or ["bottleneck"],
                    seeds=[int(s) for s in _as_list(data.get("seeds"), "seeds", path)] or [0],
                    config=dict(data.get("config") or {}), preset=data.get("preset"),
                    executor=str(data.get("executor") or "local"), description=str(data.get("description") or ""))
    if not spec.targets:
        raise AdapterxError(f"{path}: no `targets`", "list target tasks, e.g. targets: [xcopa, xnli]")
    for name in spec.intermediate:
        trainable_task(name)
    targets = sorted(n for n, t in all_tasks().items() if t.is_target)
    for name in spec.targets:
        if not get_task(name).is_target:
            raise UnknownChoiceError("target task", name, targets)
    for setup in spec.setups:
        if setup not in SETUP_RUNNERS:
            raise UnknownChoiceError("setup", setup, SETUP_RUNNERS)
    for method in spec.methods:
        if method not in METHOD_NAMES:
            raise UnknownChoiceError("method", method, METHOD_NAMES)
    if any(s in PER_INTERMEDIATE + COMBINED for s in spec.setups) and not spec.intermediate:
        raise AdapterxError(f"{path}: setups {spec.setups} need `intermediate` tasks")
    return spec


def plan_cells(spec: GridSpec) -> tuple[list[Cell], list[str]]:
    """Every cell of the matrix, plus notes on the combinations left out (and why)."""
    from adapterx.recipes.compare import SETUP_RUNNERS
    from adapterx.tasks import get_task

    cells: dict[Cell, None] = {}
    notes: list[str] = []
    for target in spec.targets:
        retrieval = get_task(target).kind == "retrieval"
        for setup in spec.setups:
            if retrieval and setup not in RETRIEVAL_SETUPS:
                notes.append(f"{target}: {setup} left out (retrieval targets have no training data; "
                             "they are scored from the base and from each module)")
                continue
            forced = SETUP_RUNNERS[setup].method
            if setup in PER_INTERMEDIATE:
                groups = [(t,) for t in spec.intermediate]
            elif setup in COMBINED:
                groups = [tuple(spec.intermediate)]
            else:
                groups = [()]
            for method in ([forced] if forced else spec.methods):
                if retrieval and method == "full":
                    notes.append(f"{target}: full-model retrieval left out (use the module methods)")
                    continue
                if setup == "fuse" and method == "full":
                    continue  # full fine-tuning has nothing to fuse; full-stilts is its own setup
                for inter in groups:
                    for seed in spec.seeds:
                        cells[Cell(target, setup, inter, method, int(seed))] = None
    return list(cells), list(dict.fromkeys(notes))


def cell_config(base: RunConfig, cell: Cell) -> RunConfig:
    """The cell's resolved config: the grid's config with the cell's method and seed."""
    return dataclasses.replace(base, method=cell.method, seed=cell.seed)


def cell_key(cell: Cell, cfg: RunConfig) -> str:
    """The hash that decides whether a finished cell is still valid (any config change reruns it)."""
    return stable_hash({"cell": dataclasses.asdict(cell), "config": cfg.to_dict()})


def module_trainings(cells: list[Cell]) -> set[tuple[str, str, int]]:
    """Distinct intermediate modules the cells need: (task(s), method, seed); each trains once."""
    need: set[tuple[str, str, int]] = set()
    for cell in cells:
        if cell.setup == "multitask":
            need.add(("+".join(cell.inter), cell.method, cell.seed))
        else:
            need.update((t, cell.method, cell.seed) for t in cell.inter)
    return need
