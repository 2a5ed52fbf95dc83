"""Settings of a LoRA module (RunConfig section `lora`)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class LoraSettings:
    """LoRA through peft."""

    r: int = field(default=8, metadata={"help": "rank of the update"})
    alpha: int = field(default=16, metadata={"help": "scaling numerator (scale = alpha / r)"})
    # 0, peft's own default: peft draws a dropout mask over the whole input of every LoRA layer,
    # 23-35% of a CPU training step (benchmarks/results/cpu-2026-12-03-compare_peer_mnli.md)
    dropout: float = field(default=0.0, metadata={"help": "dropout on the LoRA input (0.1: the default of "
                                                          "modules trained before 2026-12-03)"})
    target_modules: list[str] = field(
        default_factory=lambda: ["query", "key", "value", "dense"],
        metadata={"help": "names of the Linear layers that get LoRA (attention and FFN by default)"})

    def __post_init__(self) -> None:
        if self.r < 1:
            raise ValueError("lora.r must be >= 1")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError("lora.dropout must be in [0, 1)")
