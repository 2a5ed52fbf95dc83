"""Small helpers the task definitions share to find a split's local files."""

from __future__ import annotations

from pathlib import Path

from adapterx.errors import DataError


def only_english(task: str, lang: str) -> None:
    """English intermediate tasks have no other language."""
    if lang != "en":
        raise DataError(f"{task} is an English task; it has no {lang!r} data")


def split_file(data_dir: Path, files: dict[str, str], task: str, split: str, **fmt: str) -> Path:
    """`data_dir / files[split]` with `{lang}`-style fields filled; unknown split names the valid ones."""
    if split not in files:
        raise DataError(f"{task} has no {split!r} split; it has: {', '.join(files)}")
    return Path(data_dir) / files[split].format(**fmt)


def from_lang_table(table: dict[str, list[dict]], task: str, lang: str, path: Path) -> list[dict]:
    """One language's rows of a multilingual file, or an error listing the languages it has."""
    rows = table.get(lang, [])
    if not rows:
        raise DataError(f"no {task} rows for language {lang!r}", path,
                        hint=f"the file has: {', '.join(sorted(table)) or 'nothing'}")
    return rows


def glob_files(data_dir: Path, pattern: str, task: str) -> list[Path]:
    """Every file matching `pattern` (e.g. all UD treebanks of a language), or a clear error."""
    found = sorted(Path(data_dir).glob(pattern))
    if not found:
        raise DataError(f"no {task} file matches {Path(data_dir) / pattern}",
                        hint="unpack the official release into --data-dir (layout in the README)")
    return found
