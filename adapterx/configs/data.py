"""How data is read and checked (`data.*`): malformed rows and train/eval leakage."""

from __future__ import annotations

from dataclasses import dataclass, field

from adapterx.errors import UnknownChoiceError

BAD_ROW_POLICIES = ("error", "skip")


@dataclass
class DataSettings:
    """Data checks and the tokenized-feature cache; none of these settings changes what a finished
    run or module computed, so none is part of a module or run key (skipped rows change the data,
    and the data is in the key)."""

    on_bad_row: str = field(default="error", metadata={
        "help": "error: a malformed row stops the run, naming file and line | skip: leave it out, "
                "count it, print a summary and record it in results.json / adapterx.json"})
    leakage: str = field(default="refuse", metadata={
        "help": "refuse | warn | off: what to do when training texts occur in the evaluation "
                "sets (adapterx.leakage)"})
    leakage_tolerance: float = field(default=0.01, metadata={
        "help": "overlaps up to this fraction of a language's evaluation examples only warn"})
    feature_cache: bool = field(default=True, metadata={
        "help": "keep tokenized training features under <modules_dir>/.features and reuse them in "
                "later runs on the same data, tokenizer and lengths (adapterx.data.feature_cache)"})

    def __post_init__(self) -> None:
        from adapterx.leakage import check_settings

        if self.on_bad_row not in BAD_ROW_POLICIES:
            raise UnknownChoiceError("data.on_bad_row", self.on_bad_row, BAD_ROW_POLICIES)
        check_settings(self.leakage, self.leakage_tolerance)
