"""Reading user text files (configs, data) as UTF-8, with decode errors that name file and line."""

from __future__ import annotations

from pathlib import Path

from adapterx.errors import DataError


def decode_error(path: Path | str, err: UnicodeDecodeError) -> DataError:
    """A DataError naming the file, the line and the byte where UTF-8 decoding failed."""
    raw = err.object if isinstance(err.object, (bytes, bytearray)) else b""
    line = raw[:err.start].count(b"\n") + 1 if raw else None
    return DataError(f"not valid UTF-8 text ({err.reason} at byte {err.start})", path, line,
                     hint="save the file as UTF-8 (e.g. iconv -f latin1 -t utf-8 FILE)")


def read_utf8(path: Path | str, encoding: str = "utf-8-sig") -> str:
    """The whole file as text (a BOM is tolerated); a decode error becomes a DataError."""
    try:
        return Path(path).read_text(encoding=encoding)
    except UnicodeDecodeError as err:
        raise decode_error(path, err) from None
