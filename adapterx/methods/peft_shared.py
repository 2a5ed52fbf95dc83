"""What the peft methods (LoRA, IA3, prefix tuning) share: a module is a plain peft folder
(adapter_config.json + adapter_model.safetensors) added to, loaded into and saved from one
`PeftModel` that wraps the frozen base."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from adapterx.backbone import Backbone
from adapterx.composition import Composition
from adapterx.errors import AdapterxError, ModuleMismatchError, UnknownChoiceError
from adapterx.methods.base import MethodBase
from adapterx.module_meta import require_safetensors

PEFT_FILES = ("adapter_config.json", "adapter_model.safetensors")


def save_peft_module(model, name: str, path: Path) -> None:
    """Write peft module `name` of `model` directly into folder `path` (safetensors only)."""
    with tempfile.TemporaryDirectory(dir=path) as tmp:
        model.save_pretrained(tmp, selected_adapters=[name], safe_serialization=True)
        # peft puts every adapter but "default" in a sub-folder named after it
        src = Path(tmp) / name if (Path(tmp) / name).is_dir() else Path(tmp)
        for f in PEFT_FILES:
            shutil.move(str(src / f), str(path / f))


def check_linear_targets(bb: Backbone, targets: list[str], key: str) -> None:
    """Refuse a `key` list (e.g. ia3.target_modules) naming no Linear layer of the base, listing the
    names it has (peft would raise a bare error deep inside)."""
    import torch

    linear = [n for n, m in bb.model.named_modules()
              if isinstance(m, torch.nn.Linear) or type(m).__name__.startswith("Linear")]
    # peft matches a target against the end of a module's dotted name ("dense", "output.dense")
    missing = [t for t in targets if not any(n == t or n.endswith("." + t) for n in linear)]
    if missing or not targets:
        names = {n.rsplit(".", 1)[-1] for n in linear}
        raise UnknownChoiceError(f"{key} entry", ",".join(missing) or "(empty)", names,
                                 hint=f"name Linear layers of the base, e.g. {key}=key,value")


class PeftMethod(MethodBase):
    """A method whose modules are peft adapters of one `peft_type` on the bare encoder."""

    name = ""
    peft_type = ""  # peft's PeftType value of the modules ("IA3", "PREFIX_TUNING")

    def peft_config(self, bb: Backbone, settings: object):
        """The peft config of a new module with `settings` on `bb`."""
        raise NotImplementedError

    def owns(self, param_name: str, module: str) -> bool:
        """Whether parameter `param_name` belongs to module `module`."""
        raise NotImplementedError

    def activate(self, bb: Backbone, names: list[str]) -> None:
        """Make `names` the active modules (their effects combine as peft combines them)."""
        bb.model.base_model.set_adapter(names)

    def prepare(self, bb: Backbone) -> None:
        """Nothing to do: peft wraps the model on the first add/load."""

    def add(self, bb: Backbone, name: str, settings: object) -> None:
        """Attach a fresh module."""
        from peft import PeftModel, get_peft_model

        cfg = self.peft_config(bb, settings)
        if isinstance(bb.model, PeftModel):
            bb.model.add_adapter(name, cfg)
        else:
            bb.model = get_peft_model(bb.model, cfg, adapter_name=name)

    def load(self, bb: Backbone, path: Path, name: str, trainable: bool = False) -> None:
        """Attach a saved module, frozen unless `trainable` (sequential continues it)."""
        from peft import PeftModel

        self.saved_config(path)
        if isinstance(bb.model, PeftModel):
            bb.model.load_adapter(str(path), adapter_name=name, is_trainable=trainable)
        else:
            bb.model = PeftModel.from_pretrained(bb.model, str(path), adapter_name=name, is_trainable=trainable)

    def saved_config(self, path: Path):
        """The peft config of the module in `path`, after checking that its weights are
        safetensors and that it is a module of this method."""
        from peft import PeftConfig
        from peft.utils import SAFETENSORS_WEIGHTS_NAME

        # peft falls back to unpickling adapter_model.bin when the safetensors file is missing
        require_safetensors(path, SAFETENSORS_WEIGHTS_NAME)
        config = PeftConfig.from_pretrained(str(path))
        kind = str(getattr(config.peft_type, "value", ""))
        if kind != self.peft_type:
            raise ModuleMismatchError(f"{path} holds a peft {kind} module, not {self.peft_type} ({self.name})",
                                      "pass the --method the module was trained with (see its adapterx.json)")
        return config

    def save(self, bb: Backbone, name: str, path: Path) -> None:
        """Write adapter_config.json + adapter_model.safetensors directly into `path`."""
        save_peft_module(bb.model, name, path)

    def compose(self, bb: Backbone, comp: Composition, train: str | None, settings: object = None) -> None:
        """direct / sequential / stack: the listed modules and `train` active; only `train` learns."""
        if comp.setup not in ("direct", "sequential", "stack"):  # the spec refuses these before any work
            raise AdapterxError(f"--method {self.name} cannot run the {comp.setup} setup")
        self.activate(bb, list(comp.inter) + ([train] if train else []))
        for pname, param in bb.model.named_parameters():
            param.requires_grad = bool(train) and self.owns(pname, train)

    def save_composition(self, bb: Backbone, comp: Composition, path: Path) -> None:
        """Nothing beyond the modules: direct / sequential / stack learn no composition."""

    def load_composition(self, bb: Backbone, comp: Composition, path: Path) -> None:
        """Nothing to read (see save_composition)."""
