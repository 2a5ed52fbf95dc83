"""How intermediate modules are combined for a target, as plain data (to_dict / from_dict)."""

from __future__ import annotations

from dataclasses import dataclass

from adapterx.errors import AdapterxError, UnknownChoiceError

# setup -> methods that can run it (the validation table; later setups extend it here)
SETUPS: dict[str, tuple[str, ...]] = {
    "direct": ("bottleneck", "lora", "full"),
    # the intermediate module itself (a copy) continues training on the target: the paper's recipe
    # with a frozen base; with full fine-tuning that is full-stilts (run_target maps it to stack)
    "sequential": ("bottleneck", "lora", "full"),
    "stack": ("bottleneck", "lora", "full"),
    "fuse": ("bottleneck", "lora"),  # AdapterFusion / LoRA fusion
    "merge": ("lora",),  # peft's weighted merge of the LoRA modules, a target LoRA on top
    "multitask": ("bottleneck", "lora", "full"),  # one module trained on all --inter tasks, stacked
}
# Names the run records in results.json when the method changes what a setup is called.
SETUP_NAMES = {("full", "direct"): "full-direct", ("full", "stack"): "full-stilts",
               ("lora", "fuse"): "lora-fusion"}


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
        if method not in SETUPS[self.setup]:
            if self.setup == "merge":
                raise AdapterxError(f"merging needs LoRA modules; --method {method} cannot merge",
                                    "pass --method lora, or fuse bottleneck modules with `adapterx fuse`")
            raise AdapterxError(f"--method {method} cannot run the {self.setup} setup",
                                f"methods that can: {', '.join(SETUPS[self.setup])}")
        if method == "full" and len(self.inter) > 1 and self.setup != "multitask":  # multitask: one model
            raise AdapterxError("full fine-tuning continues from one intermediate model, not several",
                                "pass one task to --inter, or use --method bottleneck to fuse modules")

    def name(self, method: str) -> str:
        """The setup name results.json records (DESIGN.md): e.g. full + stack -> full-stilts."""
        return SETUP_NAMES.get((method, self.setup), self.setup)

    def to_dict(self) -> dict:
        """Plain data for adapterx.json."""
        return {"setup": self.setup, "inter": list(self.inter)}

    @classmethod
    def from_dict(cls, data: dict) -> "Composition":
        """Inverse of to_dict."""
        return cls(setup=data["setup"], inter=tuple(data.get("inter", ())))
