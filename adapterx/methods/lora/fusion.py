"""LoRA fusion: a learned, AdapterFusion-style combination of several frozen LoRA modules.

Neither peft nor `adapters` can fuse LoRA modules (`adapters`' Fuse takes bottleneck adapters
only), so this is adapterx's own block. At every Linear layer that the modules adapt, peft's own
LoRA addition is switched off and a forward hook adds instead

    h + sum_i softmax_i(q(h) . k(delta_i) / (sqrt(d) * T)) * delta_i,
    delta_i = scale_i * B_i A_i dropout(x)

where h is the frozen layer's output for input x: the layer's output asks, through a small
query/key attention, how much of each module's update it wants, token by token. The query starts
at zero, so training starts from the plain average of the updates; with one module the weight is
exactly 1 and the layer reproduces that module. Only `query` and `key` (and the target head)
train; the modules stay frozen in their own peft folders, and the fusion weights are saved as
`lora_fusion.safetensors` + `lora_fusion.json`.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import torch
from torch import nn

from adapterx.errors import AdapterxError

WEIGHTS_FILE = "lora_fusion.safetensors"
CONFIG_FILE = "lora_fusion.json"


class FusionBlock(nn.Module):
    """Attention over the module updates of one adapted layer."""

    def __init__(self, dim: int, attn_dim: int, temperature: float) -> None:
        super().__init__()
        self.query = nn.Linear(dim, attn_dim, bias=False)
        self.key = nn.Linear(dim, attn_dim, bias=False)
        # zero query: equal weights at the start; a random key so the query gets gradients
        nn.init.zeros_(self.query.weight)
        nn.init.normal_(self.key.weight, std=0.02)
        self.scale = 1.0 / (math.sqrt(attn_dim) * temperature)

    def weights(self, hidden: torch.Tensor, deltas: torch.Tensor) -> torch.Tensor:
        """Per-token module weights, shape (n_modules, *hidden.shape[:-1]); they sum to 1."""
        scores = (self.key(deltas) * self.query(hidden).unsqueeze(0)).sum(-1) * self.scale
        return torch.softmax(scores, dim=0)

    def forward(self, hidden: torch.Tensor, deltas: torch.Tensor) -> torch.Tensor:
        """`hidden` (..., dim) plus the weighted sum of `deltas` (n_modules, ..., dim)."""
        return hidden + (self.weights(hidden, deltas).unsqueeze(-1) * deltas).sum(0)


def _block_key(layer_name: str) -> str:
    # ModuleDict keys cannot contain dots
    return layer_name.replace(".", "__")


def lora_layers(model: nn.Module, modules: tuple[str, ...]) -> dict[str, nn.Module]:
    """peft LoRA layers of `model` that hold at least one of `modules`, by qualified name."""
    from peft.tuners.lora import LoraLayer

    return {name: layer for name, layer in model.named_modules()
            if isinstance(layer, LoraLayer) and any(m in layer.lora_A for m in modules)}


class LoraFusion(nn.Module):
    """One FusionBlock per adapted layer, plus the hooks that route the layers through them."""

    def __init__(self, modules: tuple[str, ...], layers: dict[str, int], attn_dim: int,
                 temperature: float) -> None:
        super().__init__()
        self.module_names = tuple(modules)
        self.layer_dims = dict(layers)
        self.attn_dim, self.temperature = attn_dim, temperature
        self.blocks = nn.ModuleDict({_block_key(n): FusionBlock(d, attn_dim, temperature)
                                     for n, d in layers.items()})
        self._hooks: list = []

    @classmethod
    def for_model(cls, model: nn.Module, modules: tuple[str, ...], attn_dim: int,
                  temperature: float) -> "LoraFusion":
        """A fresh fusion over every layer that the (loaded) LoRA modules adapt."""
        layers = lora_layers(model, modules)
        if not layers:
            raise AdapterxError(f"the LoRA modules {', '.join(modules)} adapt no layer of this model",
                                "check that they were trained on this base model")
        return cls(modules, {n: _out_features(layer) for n, layer in layers.items()}, attn_dim, temperature)

    def attach(self, model: nn.Module) -> None:
        """Switch off peft's own LoRA addition on the fused layers and hook the fusion in."""
        self.detach()
        layers = lora_layers(model, self.module_names)
        missing = sorted(set(self.layer_dims) - set(layers))
        if missing:
            raise AdapterxError(f"LoRA fusion weights expect LoRA layers the loaded modules lack "
                                f"(e.g. {missing[0]})", "load the same modules the fusion was trained with")
        for name, layer in layers.items():
            present = [m for m in self.module_names if m in layer.lora_A]
            layer.enable_adapters(False)  # the layer now returns only the frozen base output
            block = self.blocks[_block_key(name)]
            self._hooks.append(layer.register_forward_hook(_fusion_hook(block, present)))

    def detach(self) -> None:
        """Remove the hooks (peft's layers stay switched off until set_adapter is called again)."""
        for handle in self._hooks:
            handle.remove()
        self._hooks = []

    def save(self, path: Path) -> None:
        """Write lora_fusion.safetensors + lora_fusion.json into `path`."""
        from safetensors.torch import save_file

        state = {k: v.detach().cpu().contiguous() for k, v in self.blocks.state_dict().items()}
        save_file(state, str(path / WEIGHTS_FILE))
        (path / CONFIG_FILE).write_text(json.dumps({
            "modules": list(self.module_names), "layers": self.layer_dims, "attn_dim": self.attn_dim,
            "temperature": self.temperature}, indent=2), encoding="utf-8")

    @classmethod
    def load(cls, path: Path, modules: tuple[str, ...]) -> "LoraFusion":
        """Read what save() wrote; the module list must match the run's."""
        from safetensors.torch import load_file

        if not (path / CONFIG_FILE).is_file():
            raise AdapterxError(f"{path} has no {CONFIG_FILE}", "is this a lora-fusion run folder?")
        spec = json.loads((path / CONFIG_FILE).read_text(encoding="utf-8"))
        if tuple(spec["modules"]) != tuple(modules):
            raise AdapterxError(f"the LoRA fusion in {path} fuses {spec['modules']}, not {list(modules)}")
        fusion = cls(tuple(spec["modules"]), spec["layers"], spec["attn_dim"], spec["temperature"])
        fusion.blocks.load_state_dict(load_file(str(path / WEIGHTS_FILE)))
        return fusion


def _out_features(layer: nn.Module) -> int:
    base = layer.get_base_layer()
    return int(getattr(base, "out_features", None) or base.weight.shape[0])


def _fusion_hook(block: FusionBlock, present: list[str]):
    """Forward hook: the layer's base output plus the fused updates of the `present` modules."""
    def hook(layer: nn.Module, args: tuple, output: torch.Tensor) -> torch.Tensor:
        x = args[0]
        deltas = []
        for name in present:
            lora_a, lora_b = layer.lora_A[name], layer.lora_B[name]
            xa = layer.lora_dropout[name](x.to(lora_a.weight.dtype))
            deltas.append(lora_b(lora_a(xa)) * layer.scaling[name])
        dtype = block.query.weight.dtype
        fused = block(output.to(dtype), torch.stack(deltas).to(dtype))
        return fused.to(output.dtype)
    return hook
