"""How intermediate modules are combined for a target, as plain data (to_dict / from_dict), and
the setups `compare` and `grid` can run (SETUP_RUNNERS: name -> SetupSpec, runners by import path)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from adapterx.errors import AdapterxError, UnknownChoiceError

if TYPE_CHECKING:
    from adapterx.configs import RunConfig

# The setups (which methods can run each is the method registry's: MethodSpec.setups).
SETUPS: dict[str, str] = {
    "direct": "the target module only",
    # the intermediate module itself (a copy) continues training on the target: the paper's recipe
    # with a frozen base
    "sequential": "one intermediate module continues training on the target",
    "stack": "intermediate modules + a new target module",
    "fuse": "a learned fusion of the intermediate modules (AdapterFusion / LoRA fusion)",
    "merge": "the intermediate modules merged into one, a target module on top",
    "multitask": "one module trained on all intermediate tasks, stacked",
}


def setup_methods(setup: str) -> tuple[str, ...]:
    """The registered methods that can run `setup`."""
    from adapterx.methods.registry import all_specs

    return tuple(spec.name for spec in all_specs() if spec.supports(setup))


def setup_name(method: str | None, setup: str) -> str:
    """The setup name results.json records (DESIGN.md): e.g. full + stack -> full-stilts; an
    unknown method (an older results file) keeps the plain name."""
    from adapterx.methods.registry import find_method

    spec = find_method(method)
    return spec.setup_name(setup) if spec else setup


def display_setup(name: str) -> tuple[str, str] | None:
    """(method, setup) of a method-specific setup name (full-stilts -> (full, stack)), else None."""
    from adapterx.methods.registry import all_specs

    return next(((spec.name, setup) for spec in all_specs() for setup, shown in spec.setup_names.items()
                 if shown == name), None)


def implied_method(name: str) -> str | None:
    """The method a setup name implies: the method it is named for (lora-fusion -> lora), or the
    only method that can run it (merge -> lora); None when the setup works with several."""
    shown = display_setup(name)
    if shown:
        return shown[0]
    able = setup_methods(name)
    return able[0] if len(able) == 1 else None


@dataclass(frozen=True)
class Composition:
    """A setup over named intermediate modules, plus the target module trained on top (if any)."""

    setup: str
    inter: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.setup not in SETUPS:
            raise UnknownChoiceError("setup", self.setup, SETUPS)
        if self.setup == "direct" and self.inter:
            raise AdapterxError("the direct setup uses no intermediate modules")
        if self.setup != "direct" and not self.inter:
            raise AdapterxError(f"the {self.setup} setup needs at least one intermediate task",
                                "pass --inter TASK[,TASK...]")
        if len(set(self.inter)) != len(self.inter):
            raise AdapterxError(f"an intermediate task is listed twice: {','.join(self.inter)}")
        if self.setup == "sequential" and len(self.inter) != 1:
            raise AdapterxError(f"sequential continues training one intermediate module; got {len(self.inter)}: "
                                f"{','.join(self.inter)}",
                                "pass one task to --inter (run one sequential per task), or combine several "
                                "with stack / fuse / multitask")
        if self.setup == "fuse" and len(self.inter) < 1:
            raise AdapterxError("fuse needs at least one intermediate module")

    def check_method(self, method: str) -> None:
        """Refuse setups a method cannot run, naming what works instead."""
        from adapterx.methods.registry import all_specs, method_spec

        spec = method_spec(method)
        able = setup_methods(self.setup)
        if not spec.supports(self.setup):
            if self.setup == "merge":
                fuse = [m for m in setup_methods("fuse") if m not in able]
                shown = " or ".join(method_spec(m).display() for m in able)
                raise AdapterxError(f"merging needs {shown} modules; --method {method} cannot merge",
                                    f"pass --method {' or '.join(able)}, or fuse "
                                    f"{' or '.join(fuse) or 'the'} modules with `adapterx fuse`")
            raise AdapterxError(f"--method {method} cannot run the {self.setup} setup "
                                f"({spec.display()} runs: {', '.join(spec.setups)})",
                                f"methods that can: {', '.join(able)}")
        if spec.single_inter and len(self.inter) > 1 and self.setup != "multitask":  # multitask: one model
            several = [s.name for s in all_specs() if not s.single_inter and s.supports("fuse")]
            raise AdapterxError(f"--method {method} continues from one intermediate model, not several",
                                f"pass one task to --inter, or use --method {several[0] if several else '...'} "
                                "to fuse modules")

    def name(self, method: str) -> str:
        """The setup name results.json records (DESIGN.md): e.g. full + stack -> full-stilts."""
        return setup_name(method, self.setup)

    def to_dict(self) -> dict:
        """Plain data for adapterx.json."""
        return {"setup": self.setup, "inter": list(self.inter)}

    @classmethod
    def from_dict(cls, data: dict) -> "Composition":
        """Inverse of to_dict."""
        return cls(setup=data["setup"], inter=tuple(data.get("inter", ())))


# (inter, target, cfg, command) -> the run's results.json dict
Runner = Callable[[list[str], str, "RunConfig", str], dict]


@dataclass(frozen=True)
class SetupSpec:
    """How `compare` and `grid` run one setup (a results.json `setup` name)."""

    # "package.module:function" with the Runner signature, imported on first run (so listing or
    # validating setups imports no recipe), or the function itself
    runner: str | Runner
    uses_inter: bool = True  # False: the setup runs without intermediate tasks (direct, full-direct)
    # the setup name whose method (composition.implied_method: the method registry's) this setup
    # runs with, overriding --method; asked on use, since methods register after this module
    method_of: str | None = None
    about: str = ""
    # one run (row `setup:task`) per intermediate task: full fine-tuning has no modules to stack,
    # so `--inter squad,mnli` means one full-stilts model per intermediate task
    per_inter: bool = False
    # one run over all intermediate tasks together (fuse, merge, ...); a grid gives the other
    # setups that use intermediate tasks one cell per task (the paper's matrix)
    combines: bool = False
    # trains one module on all intermediate tasks at once (multitask), not one per task
    joint_module: bool = False
    # reuses another setup's training and only evaluates anew (translate-test: the direct run's)
    reuses_training: bool = False

    @property
    def method(self) -> str | None:
        """The method the setup implies (full-stilts -> full), or None: --method decides."""
        return implied_method(self.method_of) if self.method_of else None

    def run(self, inter: list[str], target: str, cfg: RunConfig, command: str) -> dict:
        """Run the setup; returns the run's results.json dict."""
        from adapterx.methods.registry import resolve

        runner: Any = resolve(self.runner) if isinstance(self.runner, str) else self.runner
        return runner(inter, target, cfg, command)


SETUP_RUNNERS: dict[str, SetupSpec] = {}
REFERENCE = "direct"  # compare always runs it; every delta is against it
# direct + the two cheap parameter-efficient compositions. full-stilts is left out of the default:
# it fine-tunes every weight of the model on the intermediate task and again on the target (hours
# and ~3x the memory for XLM-R large); ask for it with --setups.
DEFAULT_SETUPS = ("direct", "stack", "fuse")
# Setup names DESIGN.md defines; a name here without a runner is "not available yet", not unknown.
DESIGN_SETUPS = ("direct", "sequential", "stack", "fuse", "lora-fusion", "merge", "multitask", "full-stilts",
                 "full-direct", "translate-test")


def register_setup(name: str, spec: SetupSpec) -> SetupSpec:
    """Make a setup available to `compare` and `grid` (one call per setup)."""
    if name in SETUP_RUNNERS:
        raise ValueError(f"setup {name!r} registered twice")
    SETUP_RUNNERS[name] = spec
    return spec


def check_setup(name: str) -> SetupSpec:
    """The spec of setup `name`, or an error listing the registered ones."""
    if name not in SETUP_RUNNERS:
        hint = f"{name} is not available in this version of adapterx yet" if name in DESIGN_SETUPS else None
        raise UnknownChoiceError("setup", name, SETUP_RUNNERS, hint=hint)
    return SETUP_RUNNERS[name]


# Runners go through adapterx.api, the same functions the commands call, so compare and grid run
# exactly what `adapterx <setup>` would.
_RUNS = "adapterx.recipes.setups:"
register_setup("direct", SetupSpec(_RUNS + "direct", uses_inter=False, about="target module only"))
register_setup("stack", SetupSpec(_RUNS + "stack", about="intermediate modules + a new target module"))
register_setup("sequential", SetupSpec(_RUNS + "sequential",
                                       about="one intermediate module continues training on the target"))
register_setup("fuse", SetupSpec(_RUNS + "fuse", combines=True, about="AdapterFusion (LoRA fusion with --method lora)"))
# The method a setup implies comes from the method registry, asked when the setup runs: the method
# whose own name for a setup this is (lora-fusion is lora's fuse), or the one method that can run it
# (merge). Not here at import: methods.base imports this module before the methods register.
register_setup("lora-fusion", SetupSpec(_RUNS + "fuse", method_of="lora-fusion", combines=True,
                                        about="fuse over LoRA modules"))
register_setup("merge", SetupSpec(_RUNS + "merge", method_of="merge", combines=True,
                                  about="LoRA modules merged, target LoRA on top"))
register_setup("full-stilts", SetupSpec(_RUNS + "finetune", method_of="full-stilts", per_inter=True,
                                        about="full fine-tuning: intermediate task, then target"))
register_setup("full-direct", SetupSpec(_RUNS + "finetune", uses_inter=False, method_of="full-direct",
                                        about="full fine-tuning on the target only"))
# translate-test of the direct model: the classic baseline, and its training is the direct run's
# (reused), so it costs only evaluation. `adapterx translate-test --inter ...` gives the stacked one.
register_setup("translate-test", SetupSpec(_RUNS + "translate_test", uses_inter=False, reuses_training=True,
                                           about="direct model on English MT of the test sets"))
register_setup("multitask", SetupSpec(_RUNS + "multitask", combines=True, joint_module=True,
                                      about="one module trained on all --inter tasks, target on top"))
