"""Settings of intermediate training beyond one English task: several tasks at once (`multitask.*`),
translated training data mixed in (`mix.*`), and continued masked-language modelling (`mlm.*`)."""

from __future__ import annotations

from dataclasses import dataclass, field

from adapterx.errors import AdapterxError, UnknownChoiceError

SAMPLING_SCHEMES = ("proportional", "temperature", "uniform")


@dataclass
class MultitaskSettings:
    """How a multi-task module picks the task of each batch (p_i over the tasks' sizes n_i)."""

    sampling: str = field(default="proportional", metadata={
        "help": "proportional (p_i ~ n_i) | temperature (p_i ~ n_i^(1/T)) | uniform (p_i = 1/K)"})
    temperature: float = field(default=2.0, metadata={"help": "T of temperature sampling (1 = proportional)"})

    def __post_init__(self) -> None:
        if self.sampling not in SAMPLING_SCHEMES:
            raise UnknownChoiceError("multitask.sampling", self.sampling, SAMPLING_SCHEMES)
        if not (self.temperature > 0 and self.temperature < float("inf")):  # nan passes `<= 0`
            raise AdapterxError(f"multitask.temperature must be > 0, got {self.temperature}",
                                "use e.g. multitask.temperature=2.0")


@dataclass
class MixSettings:
    """Translated training data mixed into an intermediate task's English data.

    Files are read from `<data-dir>/translated/<lang>/`, laid out like `--data-dir` itself (e.g.
    `translated/de/mnli/train.tsv`), in the task's own format."""

    langs: list[str] | None = field(default=None, metadata={
        "help": "languages of the translated training files; None: no mixing"})
    ratio: float = field(default=0.5, metadata={
        "help": "fraction of the training examples that are translated (split evenly over the "
                "languages); the total stays the English size, so compute matches a plain module"})

    def __post_init__(self) -> None:
        if not 0.0 <= self.ratio <= 1.0:
            raise AdapterxError(f"mix.ratio must be in [0, 1], got {self.ratio}",
                                "it is the fraction of translated examples, e.g. mix.ratio=0.5")
        _check_langs("mix", self.langs)

    @property
    def enabled(self) -> bool:
        """Whether translated data is mixed in at all."""
        return bool(self.langs) and self.ratio > 0


@dataclass
class MlmSettings:
    """Masked-language modelling on plain text (`<data-dir>/mlm/<lang>.txt`, one passage a line),
    interleaved with the task batches during intermediate training."""

    langs: list[str] | None = field(default=None, metadata={"help": "languages of the MLM text; None: no MLM"})
    ratio: float = field(default=0.2, metadata={"help": "fraction of training batches that are MLM batches"})
    probability: float = field(default=0.15, metadata={"help": "fraction of tokens masked"})
    max_seq_length: int = field(default=128, metadata={"help": "passages are cut to this many tokens"})
    max_lines: int | None = field(default=None, metadata={"help": "per language (a seeded subsample)"})

    def __post_init__(self) -> None:
        if not 0.0 < self.ratio < 1.0:
            raise AdapterxError(f"mlm.ratio must be in (0, 1), got {self.ratio}",
                                "it is the fraction of batches that are MLM batches, e.g. mlm.ratio=0.2")
        if not 0.0 < self.probability < 1.0:
            raise AdapterxError(f"mlm.probability must be in (0, 1), got {self.probability}")
        if self.max_seq_length < 8:
            raise AdapterxError(f"mlm.max_seq_length must be >= 8, got {self.max_seq_length}")
        if self.max_lines is not None and self.max_lines < 1:
            raise AdapterxError(f"mlm.max_lines must be >= 1, got {self.max_lines}")
        _check_langs("mlm", self.langs)

    @property
    def enabled(self) -> bool:
        """Whether MLM batches are mixed in at all."""
        return bool(self.langs)


def _check_langs(section: str, langs: list[str] | None) -> None:
    if langs and any(not lang.strip() for lang in langs):
        raise AdapterxError(f"{section}.langs has an empty language: {','.join(langs)!r}",
                            f"give language codes, e.g. {section}.langs=de,fr (or {section}.langs=none)")
    if langs and len(set(langs)) != len(langs):
        raise AdapterxError(f"{section}.langs lists a language twice: {','.join(langs)}",
                            f"list each language once, e.g. {section}.langs=de,fr")
