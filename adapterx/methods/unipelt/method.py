"""UniPELT through the `adapters` library: the bottleneck method with a UniPELTConfig."""

from __future__ import annotations

from adapterx.backbone import Backbone
from adapterx.methods.bottleneck.method import BottleneckMethod
from adapterx.methods.unipelt.settings import UniPeltSettings


class UniPeltMethod(BottleneckMethod):
    """UniPELTConfig modules: `adapters` adds, saves, loads and stacks their three gated parts as one."""

    name = "unipelt"
    shares_tensors = True  # its prefix tuning pool sits in every layer

    def adapter_config(self, bb: Backbone, settings: UniPeltSettings):
        """The library's UniPELTConfig with these settings (it turns each part's gate on itself)."""
        from adapters import LoRAConfig, PrefixTuningConfig, SeqBnConfig, UniPELTConfig

        return UniPELTConfig(
            prefix_tuning=PrefixTuningConfig(prefix_length=settings.prefix_length,
                                             bottleneck_size=settings.prefix_bottleneck_size),
            adapter=SeqBnConfig(reduction_factor=settings.reduction_factor),
            lora=LoRAConfig(r=settings.lora_r, alpha=settings.lora_alpha))
