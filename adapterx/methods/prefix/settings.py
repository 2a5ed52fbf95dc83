"""Settings of a prefix-tuning module (RunConfig section `prefix`)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class PrefixSettings:
    """Prefix tuning through peft: learned key/value vectors prepended in every attention layer."""

    num_virtual_tokens: int = field(default=20, metadata={
        "help": "prefix length: learned key/value positions per layer (they also shift the real "
                "tokens' position ids, so max_seq_length + this must fit the base's positions)"})
    prefix_projection: bool = field(default=False, metadata={
        "help": "reparametrize the prefix through a 2-layer MLP (Li & Liang 2021)"})
    encoder_hidden_size: int | None = field(default=None, metadata={
        "help": "hidden size of that MLP; None: the base's hidden size"})

    def __post_init__(self) -> None:
        if self.num_virtual_tokens < 1:
            raise ValueError("prefix.num_virtual_tokens must be >= 1")
        if self.encoder_hidden_size is not None and self.encoder_hidden_size < 1:
            raise ValueError("prefix.encoder_hidden_size must be >= 1 (or none: the base's hidden size)")
