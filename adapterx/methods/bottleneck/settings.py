"""Settings of a bottleneck adapter (RunConfig section `bottleneck`)."""

from __future__ import annotations

from dataclasses import dataclass, field

BOTTLENECK_ARCHITECTURES = ("seq_bn", "double_seq_bn")


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
        check_non_linearity("bottleneck.non_linearity", self.non_linearity)


def check_non_linearity(key: str, value: str) -> None:
    """An activation `adapters` can build, or an error listing those it can (`key`: the setting)."""
    from transformers.activations import ACT2FN  # what `adapters` builds the activation from

    valid = sorted({*ACT2FN, "leakyrelu"})  # adapters maps "leakyrelu" to nn.LeakyReLU itself
    if value.lower() not in valid:
        from adapterx.errors import UnknownChoiceError

        raise UnknownChoiceError(key, value, valid)
