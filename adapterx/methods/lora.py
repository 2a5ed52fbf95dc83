"""LoRA modules through peft; saved as plain peft folders (adapter_config.json + safetensors)."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from adapterx.backbone import Backbone
from adapterx.composition import Composition
from adapterx.configs.methods import LoraSettings


class LoraMethod:
    """Low-rank updates of the frozen base's Linear layers (works on 8-bit / 4-bit bases too)."""

    name = "lora"

    def prepare(self, bb: Backbone) -> None:
        """Nothing to do: peft wraps the model on the first add/load."""

    def add(self, bb: Backbone, name: str, settings: LoraSettings) -> None:
        """Attach a fresh LoRA module."""
        from peft import LoraConfig, PeftModel, get_peft_model

        cfg = LoraConfig(r=settings.r, lora_alpha=settings.alpha, lora_dropout=settings.dropout,
                         target_modules=list(settings.target_modules), bias="none")
        if isinstance(bb.model, PeftModel):
            bb.model.add_adapter(name, cfg)
        else:
            bb.model = get_peft_model(bb.model, cfg, adapter_name=name)

    def load(self, bb: Backbone, path: Path, name: str) -> None:
        """Attach a saved LoRA module, frozen."""
        from peft import PeftModel

        if isinstance(bb.model, PeftModel):
            bb.model.load_adapter(str(path), adapter_name=name, is_trainable=False)
        else:
            bb.model = PeftModel.from_pretrained(bb.model, str(path), adapter_name=name, is_trainable=False)

    def save(self, bb: Backbone, name: str, path: Path) -> None:
        """Write adapter_config.json + adapter_model.safetensors directly into `path`."""
        with tempfile.TemporaryDirectory(dir=path) as tmp:
            bb.model.save_pretrained(tmp, selected_adapters=[name], safe_serialization=True)
            # peft puts every adapter but "default" in a sub-folder named after it
            src = Path(tmp) / name if (Path(tmp) / name).is_dir() else Path(tmp)
            for f in ("adapter_config.json", "adapter_model.safetensors"):
                shutil.move(str(src / f), str(path / f))

    def compose(self, bb: Backbone, comp: Composition, train: str | None, settings: object = None) -> None:
        """LoRA deltas add up, so `stack` activates every module together; only `train` learns."""
        active = list(comp.inter) + ([train] if train else [])
        bb.model.base_model.set_adapter(active)
        for pname, param in bb.model.named_parameters():
            param.requires_grad = bool(train) and "lora_" in pname and f".{train}." in pname

    def save_composition(self, bb: Backbone, comp: Composition, path: Path) -> None:
        """Stacked LoRA modules have no parameters of their own."""

    def load_composition(self, bb: Backbone, comp: Composition, path: Path) -> None:
        """Stacked LoRA modules have no parameters of their own."""
