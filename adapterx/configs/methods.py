"""Per-method hyperparameters, with the defaults every command uses."""

from __future__ import annotations

import math
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
        from transformers.activations import ACT2FN  # what `adapters` builds the activation from

        valid = sorted({*ACT2FN, "leakyrelu"})  # adapters maps "leakyrelu" to nn.LeakyReLU itself
        if self.non_linearity.lower() not in valid:
            from adapterx.errors import UnknownChoiceError

            raise UnknownChoiceError("bottleneck.non_linearity", self.non_linearity, valid)


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


@dataclass
class FusionSettings:
    """Learned fusion of intermediate modules: AdapterFusion (bottleneck) or LoRA fusion (lora)."""

    kind: str = field(default="dynamic", metadata={"help": "adapters' fusion config: dynamic | static"})
    attn_dim: int = field(default=64, metadata={"help": "LoRA fusion: query/key size of each layer's attention"})
    temperature: float = field(default=1.0, metadata={"help": "LoRA fusion: softmax temperature"})

    def __post_init__(self) -> None:
        if self.kind not in ("dynamic", "static"):
            from adapterx.errors import UnknownChoiceError

            raise UnknownChoiceError("fusion.kind", self.kind, ("dynamic", "static"))
        if self.attn_dim < 1:
            raise ValueError("fusion.attn_dim must be >= 1")
        if not (self.temperature > 0 and self.temperature < float("inf")):  # nan passes `<= 0`
            raise ValueError("fusion.temperature must be a finite number > 0")


# How `--how` maps onto peft's add_weighted_adapter. adapterx merges the modules' *deltas*
# (scale * B @ A): `linear` is peft's exact `cat`, the sparsifying kinds are peft's `*_svd` variants.
MERGE_KINDS = ("linear", "cat", "svd", "ties", "dare_linear", "dare_ties", "magnitude_prune")
# Kinds whose result is a (disjoint) mean of the modules: their natural weight is 1 per module;
# the others sum the modules, so their default weights are 1/N (an average).
MEAN_MERGE_KINDS = ("ties", "dare_ties")


@dataclass
class MergeSettings:
    """LoRA merging through peft's add_weighted_adapter (`adapterx merge`)."""

    how: str = field(default="linear", metadata={"help": " | ".join(MERGE_KINDS)})
    weights: list[float] | None = field(default=None, metadata={
        "help": "one weight per module; None: 1/N each (1 each for ties, dare_ties)"})
    density: float = field(default=0.5, metadata={"help": "ties / dare / magnitude_prune: fraction kept"})
    svd_rank: int | None = field(default=None, metadata={
        "help": "rank of svd-based merges; None: sum of the modules' ranks (lossless for svd)"})
    majority_sign: str = field(default="total", metadata={"help": "ties: total | frequency"})
    space: str = field(default="delta", metadata={
        "help": "delta: merge scale*B@A (exact); ab: peft's merge of A and B separately (equal ranks "
                "only; not the merge of the deltas)"})

    def __post_init__(self) -> None:
        from adapterx.errors import UnknownChoiceError

        if self.how not in MERGE_KINDS:
            raise UnknownChoiceError("merge kind (--how)", self.how, MERGE_KINDS)
        if self.space not in ("delta", "ab"):
            raise UnknownChoiceError("merge.space", self.space, ("delta", "ab"))
        if self.majority_sign not in ("total", "frequency"):
            raise UnknownChoiceError("merge.majority_sign", self.majority_sign, ("total", "frequency"))
        if not 0.0 < self.density <= 1.0:
            raise ValueError("merge.density must be in (0, 1]")
        if self.svd_rank is not None and self.svd_rank < 1:
            raise ValueError("merge.svd_rank must be >= 1")
        if self.weights is not None and not all(math.isfinite(w) for w in self.weights):
            # nan / inf weights would train and record a merge of nan weights
            raise ValueError(f"merge.weights (--weights) must be finite numbers, got {self.weights}")

    def weights_for(self, n_modules: int) -> list[float]:
        """The weights to use for `n_modules` modules (defaults filled in, count checked)."""
        from adapterx.errors import AdapterxError

        if self.weights is None:
            return [1.0 if self.how in MEAN_MERGE_KINDS else 1.0 / n_modules] * n_modules
        if len(self.weights) != n_modules:
            raise AdapterxError(f"--weights has {len(self.weights)} values for {n_modules} modules",
                                "give one weight per --inter task, in the same order")
        return [float(w) for w in self.weights]
