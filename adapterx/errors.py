"""Errors that reach the user: each names the problem and the fix."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class AdapterxError(Exception):
    """Base class of errors that are the user's to fix (the CLI exits with code 2, no traceback)."""

    exit_code = 2

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message if not self.hint else f"{self.message}\n  fix: {self.hint}"


def close_matches(value: str, choices: Iterable[str], n: int = 3) -> list[str]:
    """Up to `n` choices that look like a typo of `value` (closest first; case ignored)."""
    by_lower: dict[str, str] = {}
    for choice in choices:
        by_lower.setdefault(str(choice).lower(), str(choice))
    # one wrong letter of a 2-letter language code scores 0.5: short values get a lower bar
    cutoff = 0.5 if len(str(value)) <= 3 else 0.6
    found = difflib.get_close_matches(str(value).lower(), list(by_lower), n=n, cutoff=cutoff)
    return [by_lower[f] for f in found]


def did_you_mean(value: str, choices: Iterable[str]) -> str:
    """ "did you mean 'x'? " (or '' when nothing is close), to put in front of a hint."""
    found = close_matches(value, choices)
    return f"did you mean {' or '.join(repr(f) for f in found)}? " if found else ""


class UnknownChoiceError(AdapterxError):
    """An unknown task, language, method, setup or option value."""

    def __init__(self, what: str, value: str, choices: Iterable[str], hint: str | None = None) -> None:
        self.choices = sorted(choices)
        self.suggestions = close_matches(value, self.choices)
        guess = did_you_mean(value, self.choices)
        super().__init__(
            f"unknown {what} {value!r}; {guess}valid choices: {', '.join(self.choices)}",
            hint or f"pass one of the valid choices as the {what}",
        )


class DataError(AdapterxError):
    """Missing, empty or malformed data; names the file and (when known) the line."""

    def __init__(self, message: str, path: object | None = None, line: int | None = None,
                 hint: str | None = None) -> None:
        where = ""
        if path is not None:
            where = f"{path}" + (f", line {line}" if line is not None else "") + ": "
        self.path, self.line = path, line
        super().__init__(where + message, hint)


class ModuleMismatchError(AdapterxError):
    """A saved module does not fit the model or task it is being loaded for."""


class HubUnreachableError(AdapterxError):
    """The Hugging Face Hub could not be reached (or offline mode is on)."""
