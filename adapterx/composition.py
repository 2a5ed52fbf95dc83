"""How intermediate modules are combined for a target, as plain data (to_dict / from_dict)."""

from __future__ import annotations

from dataclasses import dataclass

from adapterx.errors import AdapterxError, UnknownChoiceError

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
