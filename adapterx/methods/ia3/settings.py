"""Settings of an IA3 module (RunConfig section `ia3`)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class IA3Settings:
    """(IA)^3 through peft: learned vectors that rescale activations of the base's Linear layers."""

    # peft's own defaults for XLM-R / BERT / RoBERTa (TRANSFORMERS_MODELS_TO_IA3_*_MAPPING): the
    # paper's keys, values and FFN; `output.dense` also matches the attention output projection
    target_modules: list[str] = field(
        default_factory=lambda: ["key", "value", "output.dense"],
        metadata={"help": "names of the Linear layers whose activations get a learned scale"})
    feedforward_modules: list[str] = field(
        default_factory=lambda: ["output.dense"],
        metadata={"help": "which of target_modules scale their input (the paper's FFN) instead of their output"})

    def __post_init__(self) -> None:
        if not self.target_modules:
            raise ValueError("ia3.target_modules must name at least one Linear layer")
        extra = sorted(set(self.feedforward_modules) - set(self.target_modules))
        if extra:
            raise ValueError(f"ia3.feedforward_modules must be among ia3.target_modules; not there: {','.join(extra)}")
