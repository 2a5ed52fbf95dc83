"""Every config key with its type, default and help, read from the config dataclasses' fields
(their `help` metadata): the one source `adapterx config --list` prints."""

from __future__ import annotations

import dataclasses
import typing
from typing import Any

from adapterx.configs.run import RunConfig


def _type_name(annotation: Any) -> str:
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    if typing.get_origin(annotation) is list:
        return f"list[{_type_name(args[0]) if args else 'str'}]"
    if args:  # X | None
        return " | ".join(_type_name(a) for a in args) + (" | none" if type(None) in typing.get_args(annotation) else "")
    return getattr(annotation, "__name__", str(annotation))


def config_keys(cfg: Any = None, prefix: str = "", fallback_help: dict[str, str] | None = None) -> list[dict]:
    """[{key, type, default, help}] of every settable key, sections flattened as `section.key`;
    `fallback_help` (e.g. the CLI options' help) fills keys whose field has none."""
    cfg = RunConfig() if cfg is None else cfg
    hints = typing.get_type_hints(type(cfg))
    rows: list[dict] = []
    for f in dataclasses.fields(cfg):
        value = getattr(cfg, f.name)
        if dataclasses.is_dataclass(value):
            rows += config_keys(value, f"{prefix}{f.name}.", fallback_help)
            continue
        key = f"{prefix}{f.name}"
        help_text = f.metadata.get("help") or (fallback_help or {}).get(key, "")
        rows.append({"key": key, "type": _type_name(hints[f.name]), "default": value, "help": help_text})
    return rows
