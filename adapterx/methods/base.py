"""What a method (LoRA, bottleneck adapter, full fine-tuning) must do; one class per method."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:  # the registry imports this module: no torch at import time
    from adapterx.backbone import Backbone
    from adapterx.composition import Composition


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


class MethodBase:
    """The optional parts of `Method`, for methods that do not need them."""

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
