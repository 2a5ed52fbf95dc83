"""Per-method hyperparameters, with the defaults every command uses."""

from __future__ import annotations

from dataclasses import dataclass, field

BOTTLENECK_ARCHITECTURES = ("seq_bn", "double_seq_bn")
# Per-method default learning rates: the paper's 1e-5 for full fine-tuning; small new modules on
# a frozen base need much larger steps (1e-4 is the adapter papers' choice; LoRA usually 5e-4).
DEFAULT_LEARNING_RATES = {"full": 1e-5, "bottleneck": 1e-4, "lora": 5e-4}


@dataclass
class BottleneckSettings:
    """Bottleneck adapter: `seq_bn` (Pfeiffer, after the FFN) or `double_seq_bn` (Houlsby, two per layer)."""

    architecture: str = field(default="seq_bn", metadata={"help": "seq_bn | double_seq_bn"})
    reduction_factor: int = field(default=16, metadata={"help": "hidden size / bottleneck size"})
    non_linearity: str = field(default="relu", metadata={"help": "activation inside the bottleneck"})

    def __post_init__(self) -> None:
        if self.architecture not in BOTTLENECK_ARCHITECTURES:
            from adapterx.errors import UnknownChoiceError

            raise UnknownChoiceError("bottleneck.architecture", self.architecture, BOTTLENECK_ARCHITECTURES)
        if self.reduction_factor < 1:
            raise ValueError("bottleneck.reduction_factor must be >= 1")


@dataclass
class LoraSettings:
    """LoRA through peft."""

    r: int = field(default=8, metadata={"help": "rank of the update"})
    alpha: int = field(default=16, metadata={"help": "scaling numerator (scale = alpha / r)"})
    dropout: float = field(default=0.1, metadata={"help": "dropout on the LoRA input"})
    target_modules: list[str] = field(
        default_factory=lambda: ["query", "key", "value", "dense"],
        metadata={"help": "names of the Linear layers that get LoRA (attention and FFN by default)"})

    def __post_init__(self) -> None:
        if self.r < 1:
            raise ValueError("lora.r must be >= 1")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError("lora.dropout must be in [0, 1)")


@dataclass
class FusionSettings:
    """AdapterFusion (bottleneck modules)."""

    kind: str = field(default="dynamic", metadata={"help": "adapters' fusion config: dynamic | static"})

    def __post_init__(self) -> None:
        if self.kind not in ("dynamic", "static"):
            from adapterx.errors import UnknownChoiceError

            raise UnknownChoiceError("fusion.kind", self.kind, ("dynamic", "static"))
