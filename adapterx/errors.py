"""Errors that reach the user: each names the problem and the fix."""

from __future__ import annotations

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


class UnknownChoiceError(AdapterxError):
    """An unknown task, language, method, setup or option value."""

    def __init__(self, what: str, value: str, choices: Iterable[str], hint: str | None = None) -> None:
        self.choices = sorted(choices)
        super().__init__(
            f"unknown {what} {value!r}; valid choices: {', '.join(self.choices)}",
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
