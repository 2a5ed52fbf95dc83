"""Bottleneck adapters and AdapterFusion through the `adapters` library (imported on use)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import torch

from adapterx.backbone import Backbone
from adapterx.composition import Composition
from adapterx.configs.methods import FusionSettings
from adapterx.errors import AdapterxError
from adapterx.methods.base import MethodBase
from adapterx.methods.bottleneck.fusion_file import add_base_prefix, add_shared_parameters, save_with_shared_tensors
from adapterx.methods.bottleneck.settings import BottleneckSettings
from adapterx.module_meta import require_safetensors


def _adapter_config(settings: BottleneckSettings):
    from adapters import DoubleSeqBnConfig, SeqBnConfig

    cls = SeqBnConfig if settings.architecture == "seq_bn" else DoubleSeqBnConfig
    return cls(reduction_factor=settings.reduction_factor, non_linearity=settings.non_linearity)


class BottleneckMethod(MethodBase):
    """seq_bn (Pfeiffer) or double_seq_bn (Houlsby) adapters; Stack and Fuse compositions.

    Other `adapters` methods (Compacter, UniPELT, prefix tuning) are this class with another
    `adapter_config`: the library runs them all through one add / load / save / compose API."""

    name = "bottleneck"
    # what check_fusable tells a user whose intermediate adapters differ in structure
    fuse_hint = "train every intermediate module with the same bottleneck.architecture (seq_bn or double_seq_bn)"
    shares_tensors = False  # its modules hold one tensor under several names (prefix tuning's pool)

    def adapter_config(self, bb: Backbone, settings):
        """The `adapters` config of a new module (checked against the base's shape, if need be)."""
        return _adapter_config(settings)

    def prepare(self, bb: Backbone) -> None:
        """Add `adapters`' hooks to the transformers model (once)."""
        import adapters

        if not hasattr(bb.model, "adapters_config"):
            adapters.init(bb.model)

    # Set by compose() when the fusion it trains asks for adapters' value-matrix regularization;
    # the recipe passes it to the Trainer, which adds it to the loss.
    regularizer: Callable[[], torch.Tensor | None] | None = None

    def add(self, bb: Backbone, name: str, settings: BottleneckSettings) -> None:
        """Attach a fresh adapter with fp32 weights whatever the base's dtype (see keep_fp32)."""
        bb.model.add_adapter(name, config=self.adapter_config(bb, settings))
        to_fp32(bb, name)

    def load(self, bb: Backbone, path: Path, name: str, trainable: bool = False) -> None:
        """Attach a saved adapter (frozen; compose() unfreezes it when it is the one that trains,
        as sequential's is)."""
        from adapters.utils import SAFE_WEIGHTS_NAME

        # `adapters` falls back to unpickling pytorch_adapter.bin, even with use_safetensors=True
        require_safetensors(path, SAFE_WEIGHTS_NAME)
        bb.model.load_adapter(str(path), load_as=name, with_head=False, use_safetensors=True)
        to_fp32(bb, name)

    def save(self, bb: Backbone, name: str, path: Path) -> None:
        """The folder `adapters`' load_adapter reads (adapter_config.json + safetensors)."""
        if self.shares_tensors:
            save_with_shared_tensors(bb.model, name, path)
        else:
            bb.model.save_adapter(str(path), name, with_head=False, use_safetensors=True)
        add_shared_parameters(bb.model, name, path)  # which `adapters` leaves out on a bare encoder

    def compose(self, bb: Backbone, comp: Composition, train: str | None,
                settings: FusionSettings | None = None) -> None:
        """Activate the setup; train the target adapter (direct, stack) or the fusion layer (fuse)."""
        from adapters.composition import Fuse, Stack

        model = bb.model
        if comp.setup == "fuse":
            check_fusable(model, comp.inter, self.fuse_hint)
            fuse = Fuse(*comp.inter)
            if train is not None:
                kind = settings.kind if settings else "dynamic"
                model.add_adapter_fusion(fuse, config=kind)
                model.adapter_fusion_to(fuse, device=bb.device, dtype=torch.float32)
                keep_fp32(bb)
                model.train_adapter_fusion(fuse)
                self.regularizer = fusion_regularizer(model, fuse)
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
            add_base_prefix(bb.model, path)  # so that AutoAdapterModel loads it too

    def load_composition(self, bb: Backbone, comp: Composition, path: Path) -> None:
        """Read saved AdapterFusion layers (compose() activates them)."""
        if comp.setup == "fuse":
            from adapters.composition import Fuse
            from adapters.utils import SAFE_ADAPTERFUSION_WEIGHTS_NAME

            require_safetensors(path, SAFE_ADAPTERFUSION_WEIGHTS_NAME)
            bb.model.load_adapter_fusion(str(path), use_safetensors=True)
            bb.model.adapter_fusion_to(Fuse(*comp.inter), device=bb.device, dtype=torch.float32)
            keep_fp32(bb)


def fusion_regularizer(model, fuse) -> Callable[[], torch.Tensor | None] | None:
    """The term adapters' own AdapterTrainer adds for a fusion config with `regularization`
    (the dynamic one): 0.01 * ||I - V||^2 summed over the value matrices V that train. The plain
    Trainer never adds it, so adapterx's does (training.py); None when the config has none."""
    config, _ = model.adapters_config.get_fusion(fuse.name)
    return model.get_fusion_regularization_loss if config and config["regularization"] else None


def to_fp32(bb: Backbone, name: str) -> None:
    """Module `name` (its shared parameters too, e.g. Compacter's PHM rule) in fp32 on the base's
    device, with the casts keep_fp32 adds."""
    bb.model.adapter_to(name, device=bb.device, dtype=torch.float32)
    keep_fp32(bb)


def keep_fp32(bb: Backbone) -> None:
    """Adapters and fusion layers keep fp32 weights on a bf16 / 8-bit / 4-bit base: an optimizer
    step of lr * update on a bf16 weight is mostly rounded away, so many weights would never
    change. As peft does for LoRA, their inputs are cast to fp32 and their outputs back to the
    base's dtype (a hook pair on each; none is needed on an fp32 base)."""
    if bb.dtype == torch.float32:
        return
    for module in _module_roots(bb.model):
        if not getattr(module, "_adapterx_casts", False):
            module.register_forward_pre_hook(_inputs_to_own_dtype, with_kwargs=True)
            module.register_forward_hook(_outputs_to_input_dtype)
            module._adapterx_casts = True
            # a prefix generator gets no float input: its output goes back in the base's dtype
            module._adapterx_base_dtype = bb.dtype


def _module_roots(model: torch.nn.Module):
    """The outermost modules of `adapters`' methods whose weights adapterx trains: bottleneck
    adapters (Compacter's PHM layers inside them), fusion layers, LoRA (UniPELT's, with its gate),
    prefix generators and the prefix gates beside them."""
    from adapters.methods.lora import LoRA
    from adapters.methods.modeling import Adapter, BertFusion
    from adapters.methods.prefix_tuning import FlatPrefixTuning, PrefixTuning, PrefixTuningLayer

    for module in model.modules():
        if isinstance(module, (Adapter, BertFusion, LoRA, PrefixTuning, FlatPrefixTuning)):
            yield module
        elif isinstance(module, PrefixTuningLayer):
            yield from module.prefix_gates.values()


def _cast(value, dtype: torch.dtype):
    if isinstance(value, torch.Tensor) and value.is_floating_point():
        return value.to(dtype)
    if isinstance(value, tuple):
        return tuple(_cast(v, dtype) for v in value)
    return value


def _inputs_to_own_dtype(module: torch.nn.Module, args: tuple, kwargs: dict):
    own = next(module.parameters()).dtype
    first = next((a for a in args if isinstance(a, torch.Tensor) and a.is_floating_point()), None)
    module._adapterx_io_dtype = first.dtype if first is not None else module._adapterx_base_dtype
    return _cast(args, own), {k: _cast(v, own) for k, v in kwargs.items()}


def _outputs_to_input_dtype(module: torch.nn.Module, args: tuple, output):
    return _cast(output, module._adapterx_io_dtype)


def check_fusable(model, names: tuple[str, ...], hint: str = BottleneckMethod.fuse_hint) -> None:
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
            hint)
