"""Task-head settings: how a sentence vector is read from the encoder, and the head's dropout."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

# cls: the first token's hidden state (XLM-R / RoBERTa heads); mean: the mean over real tokens
# (encoders trained with mean pooling, e.g. multilingual-e5, need it).
POOLINGS = ("cls", "mean")
# The head kinds that read one vector per sequence (the others read every token).
POOLED_KINDS = ("classification", "multiple_choice")
# The head kinds with a dropout layer.
DROPOUT_KINDS = ("classification", "multiple_choice", "tagging")


@dataclass
class HeadSettings:
    """Classification and multiple-choice heads: pooling and dropout (tagging heads: dropout)."""

    pooling: str = field(default="cls", metadata={
        "help": "cls: the first token (XLM-R's heads) | mean: the mean of the last hidden states over "
                "real tokens (encoders trained with mean pooling, e.g. e5)"})
    dropout: float = field(default=0.1, metadata={"help": "dropout inside the head (0: a plain linear scorer)"})

    def __post_init__(self) -> None:
        if self.pooling not in POOLINGS:
            from adapterx.errors import UnknownChoiceError

            raise UnknownChoiceError("head.pooling", self.pooling, POOLINGS)
        if not (math.isfinite(self.dropout) and 0.0 <= self.dropout < 1.0):
            raise ValueError(f"head.dropout must be in [0, 1), got {self.dropout}")

    def is_default(self) -> bool:
        """Whether every setting is today's default (then it enters no cache key)."""
        return asdict(self) == asdict(HeadSettings())

    def key(self, kind: str) -> dict:
        """The settings that change what a head of `kind` learns and differ from the default:
        the part of cache keys (empty at the defaults, so earlier keys stay valid)."""
        default = HeadSettings()
        out = {}
        if kind in POOLED_KINDS and self.pooling != default.pooling:
            out["pooling"] = self.pooling
        if kind in DROPOUT_KINDS and self.dropout != default.dropout:
            out["dropout"] = self.dropout
        return out

    def spec(self, kind: str) -> dict:
        """What adapterx.json records beside the head, so a reload rebuilds the same head."""
        return {"pooling": self.pooling if kind in POOLED_KINDS else "cls", "dropout": self.dropout}

    @classmethod
    def from_spec(cls, spec: dict) -> "HeadSettings":
        """The settings a saved head was built with (heads saved before these settings: defaults)."""
        return cls(pooling=spec.get("pooling", "cls"), dropout=spec.get("dropout", 0.1))
