"""Full fine-tuning: every base weight trains; a "module" is a whole transformers model folder."""

from __future__ import annotations

from pathlib import Path

from adapterx.backbone import Backbone
from adapterx.composition import Composition
from adapterx.errors import AdapterxError, ModuleMismatchError
from adapterx.methods.base import MethodBase


class FullMethod(MethodBase):
    """The paper's own method (X-STILTs): the baseline adapterx's modules are measured against."""

    name = "full"

    def prepare(self, bb: Backbone) -> None:
        """Refuse quantized bases: their int8 / 4-bit weights cannot be trained."""
        if bb.quant != "none":
            raise AdapterxError("full fine-tuning cannot train an 8-bit / 4-bit base",
                                "use --quant none, or --method lora / bottleneck on a quantized base")

    def add(self, bb: Backbone, name: str, settings: object = None) -> None:
        """Unfreeze the whole encoder."""
        _train_in_fp32(bb)

    def load(self, bb: Backbone, path: Path, name: str, trainable: bool = False) -> None:
        """Replace the base weights with a fine-tuned model's (same architecture)."""
        from safetensors.torch import load_file

        weights = Path(path) / "model.safetensors"
        if not weights.is_file():
            raise ModuleMismatchError(f"{path} holds no model.safetensors: not a full fine-tuning module",
                                      "train it with --method full, or pick the method it was trained with")
        missing, unexpected = bb.model.load_state_dict(load_file(str(weights)), strict=False)
        if unexpected or len(missing) > 0:
            raise ModuleMismatchError(f"{path} does not match the base model's architecture "
                                      f"({len(missing)} missing, {len(unexpected)} unexpected weights)")
        bb.model.requires_grad_(False)

    def save(self, bb: Backbone, name: str, path: Path) -> None:
        """A plain transformers folder (usable as --model DIR) with its tokenizer."""
        bb.model.save_pretrained(str(path), safe_serialization=True)
        bb.tokenizer.save_pretrained(str(path))

    def compose(self, bb: Backbone, comp: Composition, train: str | None, settings: object = None) -> None:
        """Stack = continue from the loaded intermediate model; train everything when training."""
        if train:
            _train_in_fp32(bb)
        else:
            bb.model.requires_grad_(False)

    def save_composition(self, bb: Backbone, comp: Composition, path: Path) -> None:
        """Nothing beyond the saved model."""

    def load_composition(self, bb: Backbone, comp: Composition, path: Path) -> None:
        """Nothing beyond the saved model."""


def _train_in_fp32(bb: Backbone) -> None:
    """Make every weight trainable, as fp32 master weights: on a bf16 base most steps of
    lr * update (1e-5 here) are below a bf16 weight's rounding step and would be lost. The
    Trainer's bf16 autocast (on a GPU) still computes in bf16."""
    bb.model.float()
    bb.model.requires_grad_(True)
