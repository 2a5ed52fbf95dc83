"""`adapterx grid` plans: the experiment YAML -> the list of cells (target x setup x intermediate(s)
x method x seed), each with its resolved config and the key that decides whether it is done.

Setups that compose *one* intermediate module with the target (stack, sequential, full-stilts) get one cell per
intermediate task: that is the paper's matrix. Setups that combine modules (fuse, lora-fusion,
merge, multitask) get one cell over all intermediate tasks. direct / full-direct / translate-test
take none. Retrieval targets (BUCC, Tatoeba) have no training data: they are scored from the base
(direct) and from each intermediate module's representations (stack), never trained; the base's
scores do not depend on the seed, so they are computed for the first seed only (the modules' too when
`module_seed` pins the intermediate modules' seed).

`target_config` holds per-target overrides on top of `config` (e.g. `tatoeba: {langs: [de, fr]}`,
`xnli: {eval_split: dev}`): one grid can then mix targets whose languages or splits differ.
`method_config` does the same per method (e.g. `full: {training.learning_rate: 2e-5}`), since full
fine-tuning and modules want different learning rates; the method's entry applies last."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from adapterx.composition import SETUP_RUNNERS, SETUPS, check_setup
from adapterx.configs import RunConfig
from adapterx.errors import AdapterxError, UnknownChoiceError
from adapterx.methods import DEFAULT_METHOD
from adapterx.store import stable_hash

RETRIEVAL_SETUPS = ("direct", "stack")
SPEC_KEYS = {"name", "intermediate", "targets", "setups", "methods", "seeds", "config", "target_config",
             "method_config", "preset", "executor", "description"}


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
    methods: list[str] = field(default_factory=lambda: [DEFAULT_METHOD])
    seeds: list[int] = field(default_factory=lambda: [0])
    config: dict[str, Any] = field(default_factory=dict)
    target_config: dict[str, dict[str, Any]] = field(default_factory=dict)
    method_config: dict[str, dict[str, Any]] = field(default_factory=dict)
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


def _seeds(value: object, path: Path) -> list[int]:
    """`seeds:` as integers in numpy's seed range, or an error naming the bad entry."""
    out = []
    for item in _as_list(value, "seeds", path):
        if isinstance(item, bool) or not isinstance(item, (int, str)) or not str(item).strip().isdigit():
            raise AdapterxError(f"{path}: `seeds` takes integers, got {item!r}", "e.g. seeds: [0, 1, 2]")
        if not 0 <= int(item) < 2**32:
            raise AdapterxError(f"{path}: seed {item} is outside [0, 2**32)", "e.g. seeds: [0, 1, 2]")
        out.append(int(item))
    return out


def load_spec(path: str | Path) -> GridSpec:
    """Read and validate an experiment YAML (unknown keys, tasks, setups and methods are errors)."""
    from adapterx.configs import load_yaml_config
    from adapterx.methods import method_names
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
                    methods=[str(m) for m in _as_list(data.get("methods"), "methods", path)] or [DEFAULT_METHOD],
                    seeds=_seeds(data.get("seeds"), path) or [0],
                    config=dict(data.get("config") or {}),
                    target_config=_per_name(data.get("target_config"), "target_config", path),
                    method_config=_per_name(data.get("method_config"), "method_config", path),
                    preset=data.get("preset"),
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
        check_setup(setup)
    for method in spec.methods:
        if method not in method_names():
            raise UnknownChoiceError("method", method, method_names())
    if any(SETUP_RUNNERS[s].uses_inter for s in spec.setups) and not spec.intermediate:
        raise AdapterxError(f"{path}: setups {spec.setups} need `intermediate` tasks")
    for section, names in (("target_config", spec.targets), ("method_config", method_names())):
        for name, overrides in getattr(spec, section).items():
            if name not in names:
                raise UnknownChoiceError(f"{section} entry", name, names,
                                         hint=f"{section} keys are {section.split('_')[0]} names")
            _apply(RunConfig(), overrides)  # unknown keys and bad values fail here, not mid-grid
    return spec


def restrict(spec: GridSpec, seeds: list[int] | None = None, setups: list[str] | None = None,
             intermediate: list[str] | None = None) -> GridSpec:
    """The spec limited to some of its seeds / setups / intermediate tasks (e.g. the cheap setups
    first, or one seed of the expensive ones): cells keep their keys, so a later run of the whole
    spec redoes nothing (a combined cell such as fuse over fewer tasks is another cell)."""
    for name, chosen, allowed in (("seed", seeds, spec.seeds), ("setup", setups, spec.setups),
                                  ("intermediate task", intermediate, spec.intermediate)):
        for value in chosen or ():
            if value not in allowed:
                raise UnknownChoiceError(f"{name} of this grid", str(value), [str(a) for a in allowed],
                                         hint=f"pick among the experiment file's {name}s")
    return dataclasses.replace(spec, seeds=list(seeds or spec.seeds), setups=list(setups or spec.setups),
                               intermediate=list(intermediate or spec.intermediate))


def _per_name(value: Any, key: str, path: Path) -> dict[str, dict[str, Any]]:
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(isinstance(v, dict) for v in value.values()):
        raise AdapterxError(f"{path}: `{key}` must map names to config keys",
                            "e.g. target_config: {tatoeba: {langs: [de, fr, es]}} or "
                            "method_config: {full: {training.learning_rate: 2e-5}}")
    return {str(k): dict(v) for k, v in value.items()}


def _apply(cfg: RunConfig, overrides: dict[str, Any]) -> RunConfig:
    from adapterx.configs.run import apply_overrides

    return apply_overrides(cfg, overrides)


def plan_cells(spec: GridSpec, module_seed: int | None = None) -> tuple[list[Cell], list[str]]:
    """Every cell of the matrix, plus notes on the combinations left out (and why); `module_seed`
    is the config's (pinned intermediate-module seed, or None)."""
    from adapterx.methods import method_spec
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
            about_setup = SETUP_RUNNERS[setup]
            forced = about_setup.method
            # the setup registry says how a setup uses intermediate tasks: one cell over all of
            # them (fuse, merge, ...) or one cell per task (the paper's matrix)
            if about_setup.combines:
                groups = [tuple(spec.intermediate)]
            elif about_setup.uses_inter:
                groups = [(t,) for t in spec.intermediate]
            else:
                groups = [()]
            for method in ([forced] if forced else spec.methods):
                about = method_spec(method)
                if retrieval and not about.retrieval:
                    notes.append(f"{target}: {method}-model retrieval left out (use the module methods)")
                    continue
                if setup in SETUPS and not about.supports(setup):
                    continue  # e.g. full fine-tuning has nothing to fuse; full-stilts is its own setup
                alias = about.setup_aliases.get(setup)
                if alias and alias in spec.setups:
                    notes.append(f"{target}: {setup} with method {method} left out (it is "
                                 f"{about.setup_name(alias)}, the {alias} cell of method {method})")
                    continue
                seeds = spec.seeds
                if retrieval and len(seeds) > 1 and (not SETUP_RUNNERS[setup].uses_inter or module_seed is not None):
                    seeds = seeds[:1]  # nothing trains for it: every seed would give the same scores
                    notes.append(f"{target}: {setup} scored once (seed {seeds[0]}): it trains nothing, "
                                 "so its scores do not depend on the seed")
                for inter in groups:
                    for seed in seeds:
                        cells[Cell(target, setup, inter, method, int(seed))] = None
    return list(cells), list(dict.fromkeys(notes))


def _resolved(base: RunConfig, overrides: dict[str, Any], method: str, seed: int) -> RunConfig:
    """`base` (untouched) with `overrides` applied, and `method` and `seed` set."""
    import copy

    cfg = _apply(copy.deepcopy(base), overrides) if overrides else base
    return dataclasses.replace(cfg, method=method, seed=seed)


def cell_config(base: RunConfig, cell: Cell, spec: GridSpec | None = None) -> RunConfig:
    """The cell's resolved config: the grid's config, the spec's `target_config` for the cell's
    target and `method_config` for its method, and the cell's method and seed."""
    overrides = {**spec.target_config.get(cell.target, {}), **spec.method_config.get(cell.method, {})} \
        if spec else {}
    return _resolved(base, overrides, cell.method, cell.seed)


# Settings that change how fast a cell runs, never what it computes: left out of its key, so that
# turning them on or off (or adding one in a new release) keeps the grid's finished cells.
CELL_KEY_IGNORES = (("data", "feature_cache"),)


def cell_key(cell: Cell, cfg: RunConfig) -> str:
    """The hash that decides whether a finished cell is still valid (any config change that can
    change its result reruns it)."""
    from adapterx.data.loading import eval_sample_key

    config = cfg.to_dict()
    for section, name in CELL_KEY_IGNORES:
        config[section].pop(name, None)
    # cells that evaluated another subset before evaluation subsets stopped following the seed
    config.update(eval_sample_key(cfg.training.max_eval_examples, cfg.seed))
    return stable_hash({"cell": dataclasses.asdict(cell), "config": config})


def run_cell(cell: Cell, cfg: RunConfig, command: str = "") -> dict:
    """Run one cell through the setup's own recipe; returns its results.json dict."""
    return SETUP_RUNNERS[cell.setup].run(list(cell.inter), cell.target, cfg, command)


def results_path(cfg: RunConfig, results: dict) -> str | None:
    """The results.json a run wrote (found by its config hash under <output>/<target>/)."""
    key = results.get("config_hash")
    folder = Path(cfg.output) / results["target"]
    for path in folder.glob("*/results.json") if key else ():
        if path.parent.name.endswith(str(key)[:8]):
            return str(path)
    return None


def module_config(base: RunConfig, method: str, seed: int, spec: GridSpec) -> RunConfig:
    """The config an intermediate module of `method` trains under in this grid (its method_config)."""
    return _resolved(base, spec.method_config.get(method, {}), method, seed)


def module_trainings(cells: list[Cell], module_seed: int | None = None) -> set[tuple[str, str, int]]:
    """Distinct intermediate modules the cells need: (task(s), method, seed); each trains once
    (one per task and method when `module_seed` pins the modules' seed)."""
    need: set[tuple[str, str, int]] = set()
    for cell in cells:
        seed = cell.seed if module_seed is None else module_seed
        if cell.setup in SETUP_RUNNERS and SETUP_RUNNERS[cell.setup].joint_module:
            need.add(("+".join(cell.inter), cell.method, seed))
        else:
            need.update((t, cell.method, seed) for t in cell.inter)
    return need
