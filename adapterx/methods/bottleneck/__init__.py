"""Bottleneck adapters and AdapterFusion through the `adapters` library.

Everything in adapterx that imports `adapters` lives in this subpackage, so its
transformers pin can move without touching the rest."""

from __future__ import annotations

from pathlib import Path

from adapterx.backbone import Backbone
from adapterx.composition import Composition
from adapterx.configs.methods import BottleneckSettings, FusionSettings
from adapterx.errors import AdapterxError


def _adapter_config(settings: BottleneckSettings):
    from adapters import DoubleSeqBnConfig, SeqBnConfig

    cls = SeqBnConfig if settings.architecture == "seq_bn" else DoubleSeqBnConfig
    return cls(reduction_factor=settings.reduction_factor, non_linearity=settings.non_linearity)


class BottleneckMethod:
    """seq_bn (Pfeiffer) or double_seq_bn (Houlsby) adapters; Stack and Fuse compositions."""

    name = "bottleneck"

    def prepare(self, bb: Backbone) -> None:
        """Add `adapters`' hooks to the transformers model (once)."""
        import adapters

        if not hasattr(bb.model, "adapters_config"):
            adapters.init(bb.model)

    def add(self, bb: Backbone, name: str, settings: BottleneckSettings) -> None:
        """Attach a fresh adapter in the base's compute dtype (a bf16 / 8-bit base needs that)."""
        bb.model.add_adapter(name, config=_adapter_config(settings))
        bb.model.adapter_to(name, device=bb.device, dtype=bb.dtype)

    def load(self, bb: Backbone, path: Path, name: str, trainable: bool = False) -> None:
        """Attach a saved adapter (frozen; compose() unfreezes it when it is the one that trains,
        as sequential's is)."""
        bb.model.load_adapter(str(path), load_as=name, with_head=False, use_safetensors=True)
        bb.model.adapter_to(name, device=bb.device, dtype=bb.dtype)

    def save(self, bb: Backbone, name: str, path: Path) -> None:
        """The folder `adapters`' load_adapter reads (adapter_config.json + safetensors)."""
        bb.model.save_adapter(str(path), name, with_head=False, use_safetensors=True)

    def compose(self, bb: Backbone, comp: Composition, train: str | None,
                settings: FusionSettings | None = None) -> None:
        """Activate the setup; train the target adapter (direct, stack) or the fusion layer (fuse)."""
        from adapters.composition import Fuse, Stack

        model = bb.model
        if comp.setup == "fuse":
            check_fusable(model, comp.inter)
            fuse = Fuse(*comp.inter)
            if train is not None:
                kind = settings.kind if settings else "dynamic"
                model.add_adapter_fusion(fuse, config=kind)
                model.adapter_fusion_to(fuse, device=bb.device, dtype=bb.dtype)
                model.train_adapter_fusion(fuse)
            model.set_active_adapters(fuse)
        else:
            names = list(comp.inter) + ([train] if train else [])
            if train is not None:
                model.train_adapter(train)
            else:
                model.freeze_model(True)
            model.set_active_adapters(Stack(*names) if len(names) > 1 else names[0])
        if train is None:
            model.requires_grad_(False)

    def save_composition(self, bb: Backbone, comp: Composition, path: Path) -> None:
        """AdapterFusion layers in adapters' own format."""
        if comp.setup == "fuse":
            from adapters.composition import Fuse

            bb.model.save_adapter_fusion(str(path), Fuse(*comp.inter), use_safetensors=True)

    def load_composition(self, bb: Backbone, comp: Composition, path: Path) -> None:
        """Read saved AdapterFusion layers (compose() activates them)."""
        if comp.setup == "fuse":
            from adapters.composition import Fuse

            bb.model.load_adapter_fusion(str(path), use_safetensors=True)
            bb.model.adapter_fusion_to(Fuse(*comp.inter), device=bb.device, dtype=bb.dtype)


def check_fusable(model, names: tuple[str, ...]) -> None:
    """AdapterFusion needs adapters of one structure (same places in each layer): say so clearly."""
    shapes = {}
    for name in names:
        cfg = model.adapters_config.get(name)
        if cfg is None:
            raise AdapterxError(f"adapter {name!r} is not loaded")
        shapes[name] = (bool(cfg["mh_adapter"]), bool(cfg["output_adapter"]))
    if len(set(shapes.values())) > 1:
        desc = ", ".join(f"{n}: mh_adapter={s[0]}, output_adapter={s[1]}" for n, s in shapes.items())
        raise AdapterxError(
            f"AdapterFusion needs adapters of the same structure; got {desc}",
            "train every intermediate module with the same bottleneck.architecture (seq_bn or double_seq_bn)")
