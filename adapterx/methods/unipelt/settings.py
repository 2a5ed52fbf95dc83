"""Settings of a UniPELT module (RunConfig section `unipelt`)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class UniPeltSettings:
    """Gated prefix tuning + gated bottleneck adapter + gated LoRA in every layer (UniPELTConfig)."""

    prefix_length: int = field(default=10, metadata={"help": "prefix tuning: prefix length (UniPELT's 10)"})
    prefix_bottleneck_size: int = field(default=512, metadata={
        "help": "prefix tuning: size of its reparametrization MLP"})
    reduction_factor: int = field(default=16, metadata={"help": "adapter: hidden size / bottleneck size"})
    lora_r: int = field(default=8, metadata={"help": "LoRA rank (on the attention queries and values)"})
    lora_alpha: int = field(default=2, metadata={"help": "LoRA alpha (UniPELT's 2)"})

    def __post_init__(self) -> None:
        for name in ("prefix_length", "prefix_bottleneck_size", "reduction_factor", "lora_r", "lora_alpha"):
            if getattr(self, name) < 1:
                raise ValueError(f"unipelt.{name} must be >= 1, got {getattr(self, name)}")
