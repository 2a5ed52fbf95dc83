"""Settings of a Compacter adapter (RunConfig section `compacter`)."""

from __future__ import annotations

from dataclasses import dataclass, field

from adapterx.methods.bottleneck.settings import check_non_linearity

# compacter++: one adapter per layer, after the FFN (as seq_bn); compacter: two (as double_seq_bn)
COMPACTER_ARCHITECTURES = ("compacter++", "compacter")


@dataclass
class CompacterSettings:
    """A bottleneck adapter whose projections are sums of Kronecker products (PHM layers)."""

    architecture: str = field(default="compacter++", metadata={
        "help": "compacter++ (one adapter per layer, after the FFN) | compacter (two per layer)"})
    reduction_factor: int = field(default=32, metadata={"help": "hidden size / bottleneck size (the paper's 32)"})
    phm_dim: int = field(default=4, metadata={
        "help": "number of Kronecker products n; hidden size and bottleneck size must be multiples of it"})
    phm_rank: int = field(default=1, metadata={"help": "rank of the factorized PHM weights"})
    non_linearity: str = field(default="gelu", metadata={"help": "activation inside the bottleneck"})

    def __post_init__(self) -> None:
        if self.architecture not in COMPACTER_ARCHITECTURES:
            from adapterx.errors import UnknownChoiceError

            raise UnknownChoiceError("compacter.architecture", self.architecture, COMPACTER_ARCHITECTURES)
        for name in ("reduction_factor", "phm_dim", "phm_rank"):
            if getattr(self, name) < 1:
                raise ValueError(f"compacter.{name} must be >= 1, got {getattr(self, name)}")
        check_non_linearity("compacter.non_linearity", self.non_linearity)
