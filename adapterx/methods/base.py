"""What a method (LoRA, bottleneck adapter, full fine-tuning) must do; one class per method."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from adapterx.composition import Composition

if TYPE_CHECKING:  # the registry imports this module: no torch at import time
    from adapterx.backbone import Backbone

TARGET_MODULE = "target"  # name of the module trained on the target task inside the model
FUSION = "fusion"  # what trains when a composition learns its own parameters (AdapterFusion, LoRA fusion)


@dataclass(frozen=True)
class Plan:
    """What one setup loads, adds, trains and activates with one method (Method.plan)."""

    load: tuple[str, ...]  # intermediate modules loaded frozen for training, by name
    continued: str | None  # the intermediate module loaded trainable as `module` (it continues)
    module: str | None  # the module that trains and is saved with the run; None: only the composition trains
    train: str  # what compose() trains: `module`, or FUSION
    train_active: Composition  # what compose() activates while training
    infer_load: tuple[str, ...]  # intermediate modules a saved run loads back for inference
    infer_active: Composition  # what compose() activates for inference of a saved run

    @property
    def adds_module(self) -> bool:
        """Whether a fresh module is added (not continued from an intermediate one)."""
        return self.module is not None and self.continued is None


class Method(Protocol):
    """Attach, load, save and compose modules of one kind on a Backbone (mutating `bb.model`)."""

    name: str

    def prepare(self, bb: Backbone) -> None:
        """Make the backbone able to hold modules of this kind."""

    def add(self, bb: Backbone, name: str, settings: object) -> None:
        """Attach a new, trainable module called `name`."""

    def load(self, bb: Backbone, path: Path, name: str, trainable: bool = False) -> None:
        """Attach a saved module as `name`: frozen, or (`trainable`) to continue training it
        (compose() then decides what trains); the folder is only read."""

    def save(self, bb: Backbone, name: str, path: Path) -> None:
        """Write module `name` into folder `path` in the method's native format."""

    def compose(self, bb: Backbone, comp: Composition, train: str | None, settings: object = None) -> None:
        """Activate `comp` (plus the target module `train`, if any) and set what trains."""

    def save_composition(self, bb: Backbone, comp: Composition, path: Path) -> None:
        """Write the trained composition parameters (e.g. AdapterFusion layers), if any."""

    def load_composition(self, bb: Backbone, comp: Composition, path: Path) -> None:
        """Read what save_composition wrote (compose() then activates it)."""

    def eval_context(self, bb: Backbone) -> contextlib.AbstractContextManager[bool]:
        """A context the final evaluation runs in (yields whether it changed the model)."""

    def export_auto_class(self, bb: Backbone, task_kind: str, n_labels: int, head: Any, path: Path) -> Any:
        """Make a saved module loadable on the task's AutoModelFor* class; its route, or None."""

    def plan(self, comp: Composition, modules: tuple[str, ...], module: str = TARGET_MODULE) -> Plan:
        """What `comp` over intermediate `modules` (their names in the model) loads, trains and
        activates, the trained module being called `module`."""

    def trains_jointly(self, comp: Composition) -> bool:
        """Whether the intermediate tasks train as one multi-task module (else one module each)."""

    def check_request(self, comp: Composition, cfg: Any) -> None:
        """Refuse settings `comp` cannot run with, before any module trains."""

    def composition_settings(self, comp: Composition, cfg: Any) -> object:
        """The RunConfig section compose() reads for `comp` (None: none)."""

    def key_settings(self, comp: Composition, cfg: Any) -> dict:
        """Settings of `comp` that enter a target run's cache key (beyond the method's own)."""


class MethodBase:
    """Default implementations of `Method`, driven by the Composition; methods override what differs."""

    def plan(self, comp: Composition, modules: tuple[str, ...], module: str = TARGET_MODULE) -> Plan:
        """direct / stack / merge / multitask: a new module on top of the frozen intermediate ones
        (multitask's one module is a stack of one); sequential: the intermediate module itself
        continues as `module`; fuse: only the fusion trains."""
        modules = tuple(modules)
        if comp.setup == "fuse":
            return Plan(load=modules, continued=None, module=None, train=FUSION, train_active=comp,
                        infer_load=modules, infer_active=comp)
        if comp.setup == "sequential":  # the run's module is the continued one: it replaces the intermediate
            return Plan(load=(), continued=modules[0], module=module, train=module,
                        train_active=Composition("direct"), infer_load=(),
                        infer_active=Composition("stack", (module,)))
        active = Composition("stack", modules) if comp.setup == "multitask" else comp
        return Plan(load=modules, continued=None, module=module, train=module, train_active=active,
                    infer_load=modules, infer_active=Composition("stack", modules + (module,)))

    def trains_jointly(self, comp: Composition) -> bool:
        """multitask: one module on all intermediate tasks."""
        return comp.setup == "multitask"

    def check_request(self, comp: Composition, cfg: Any) -> None:
        """Nothing to check."""

    def composition_settings(self, comp: Composition, cfg: Any) -> object:
        """fuse: the `fusion` section."""
        return cfg.fusion if comp.setup == "fuse" else None

    def key_settings(self, comp: Composition, cfg: Any) -> dict:
        """None beyond the method's (the `fusion` section is in every run's key)."""
        return {}

    @contextlib.contextmanager
    def eval_context(self, bb: Backbone) -> Iterator[bool]:
        """Evaluate the model as it is."""
        yield False

    def export_auto_class(self, bb: Backbone, task_kind: str, n_labels: int, head: Any, path: Path) -> Any:
        """No AutoModelFor* route: the module loads on the bare encoder only."""
        return None


def trainable_parameters(model) -> int:
    """Number of parameters that will receive gradients."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
