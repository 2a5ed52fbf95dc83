"""What a module or run folder must be before any library reads it: an adapterx.json that fits the
versioned schema below, head folders inside the module folder, and weights in safetensors only
(a pickled weight file can run code when a library unpickles it, so its presence refuses the
whole folder)."""

from __future__ import annotations

import json
from pathlib import Path

from adapterx.errors import AdapterxError, ModuleMismatchError
from adapterx.store import SCHEMA_VERSION  # the newest adapterx.json layout this version reads

# Suffixes of the pickle-based formats torch, peft and adapters write or fall back to.
PICKLE_SUFFIXES = (".bin", ".pt", ".pth", ".pkl", ".pickle", ".ckpt", ".joblib")
HEADS_DIR = "heads"  # a multi-task module's heads: heads/<task>/adapterx_head.safetensors
NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.+-]*$"  # a task or head name: one path component, no ".."
CONVERT_HINT = ("adapterx reads safetensors only: convert the file in a trusted environment (load the "
                "state dict there, write it with safetensors.torch.save_file under the name the library "
                "expects, e.g. adapter_model.safetensors / adapter.safetensors) and delete the pickle, "
                "or delete the folder and train the module again")

_NAME = {"type": "string", "pattern": NAME_PATTERN}
_STR = {"type": "string", "minLength": 1}
_HEAD = {"type": "object", "required": ["kind"], "properties": {
    "kind": _STR, "labels": {"type": ["array", "null"], "items": {"type": "string"}}}}
_BASE = {"type": "object", "required": ["name", "fingerprint"], "properties": {
    "name": _STR, "fingerprint": {"type": "object"}, "quant": {"type": "string"}}}
_MODULE = {"required": ["task", "method", "key", "base_model"], "properties": {
    "task": _NAME, "method": _NAME, "key": _NAME, "base_model": _BASE, "head": _HEAD,
    "tasks": {"type": "array", "items": _NAME, "minItems": 1},
    "heads": {"type": "object", "propertyNames": _NAME, "additionalProperties": _HEAD, "minProperties": 1}},
    # a single-task module has one head; a multi-task module one per task, under heads/
    "if": {"required": ["heads"]}, "then": {"required": ["tasks"]}, "else": {"required": ["head"]}}
_TARGET = {"required": ["task", "method", "key", "base_model", "head", "composition", "modules"], "properties": {
    **_MODULE["properties"],
    "composition": {"type": "object", "required": ["setup", "inter"], "properties": {
        "setup": _STR, "inter": {"type": "array", "items": _NAME}}},
    "modules": {"type": "array", "items": {"type": "object", "required": ["task", "path", "key"],
                                           "properties": {"task": _NAME, "path": _STR, "key": _NAME}}}}}
# JSON Schema (draft 2020-12) of adapterx.json, version 1: every folder has a kind; the ones
# adapterx loads weights from (module, target) carry what loading them reads.
SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object", "required": ["kind"],
    "properties": {"kind": _STR, "schema_version": {"type": "integer", "minimum": 1}},
    "allOf": [
        {"if": {"required": ["kind"], "properties": {"kind": {"const": "module"}}}, "then": _MODULE},
        {"if": {"required": ["kind"], "properties": {"kind": {"const": "target"}}}, "then": _TARGET},
    ],
}


def validate_meta(meta: object, where: str) -> dict:
    """`meta` (parsed adapterx.json) if it fits the schema; a clear error naming `where` if not."""
    import jsonschema

    version = meta.get("schema_version", 1) if isinstance(meta, dict) else 1
    if isinstance(version, int) and not isinstance(version, bool) and version > SCHEMA_VERSION:
        raise ModuleMismatchError(f"{where} has schema_version {version}; this adapterx reads up to "
                                  f"{SCHEMA_VERSION}", "upgrade adapterx to load it")
    # the most specific problems first (a bad field before the "if/then" that contains it)
    errors = sorted(jsonschema.Draft202012Validator(SCHEMA).iter_errors(meta),
                    key=lambda e: (-len(e.absolute_path), e.message))
    if errors:
        problems = "; ".join(list(dict.fromkeys(_describe(e) for e in errors))[:3])
        raise ModuleMismatchError(f"{where} does not fit adapterx's schema (version {SCHEMA_VERSION}): "
                                  f"{problems}",
                                  "use a folder written by adapterx, or delete it and run the command again")
    return meta


def _describe(error) -> str:
    """One schema error as `where: what` (an unsafe name said as such)."""
    at = "/".join(str(p) for p in error.absolute_path) or "top level"
    if error.validator == "pattern" or error.validator == "propertyNames":
        return f"{at}: unsafe name {error.instance!r} (one folder name of letters, digits, _ . + -)"
    return f"{at}: {error.message}"


def read_meta_file(path: Path) -> dict:
    """Parse and validate an adapterx.json file."""
    try:
        meta = json.loads(Path(path).read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as err:
        raise ModuleMismatchError(f"{path} is not valid JSON ({err})",
                                  "delete the folder and run the command again; adapterx redoes it") from None
    return validate_meta(meta, str(path))


def pickled_files(folder: Path) -> list[Path]:
    """Files under `folder` in a pickle-based weight format."""
    return sorted(p for p in Path(folder).rglob("*") if p.suffix.lower() in PICKLE_SUFFIXES)


def refuse_pickles(folder: Path) -> None:
    """Refuse a folder that holds any pickled weight file, before a library can fall back to it."""
    found = pickled_files(folder)
    if found:
        raise ModuleMismatchError(f"{found[0]} is a pickled weight file"
                                  + (f" (and {len(found) - 1} more)" if len(found) > 1 else "")
                                  + f"; adapterx refuses {folder}, since unpickling can run code",
                                  CONVERT_HINT)


def require_safetensors(folder: Path, name: str) -> Path:
    """The safetensors weight file a library will read from `folder`; refuse the folder if it is
    missing or if a pickled file sits there that the library could fall back to."""
    refuse_pickles(folder)
    path = Path(folder) / name
    if not path.is_file():
        raise ModuleMismatchError(f"{folder} has no {name}", CONVERT_HINT)
    return path


def head_folder(folder: Path, name: str) -> Path:
    """Where a multi-task module keeps `name`'s head: `heads/<name>`, never outside `folder`."""
    import re

    root = Path(folder).resolve()
    where = (root / HEADS_DIR / name).resolve()
    if not re.match(NAME_PATTERN, name) or root not in where.parents:
        raise ModuleMismatchError(f"{folder}/adapterx.json names a head {name!r} outside the module folder",
                                  "use a module written by adapterx")
    return Path(folder) / HEADS_DIR / name


def check_folder(folder: Path, meta: dict) -> dict:
    """Every check a module or run folder passes before any weight in it is read."""
    if meta.get("kind") in ("module", "target"):
        refuse_pickles(folder)
        for name in meta.get("heads", {}):
            head_folder(folder, name)
    return meta


def missing_file(path: Path, what: str) -> AdapterxError:
    """The error for a weight file a complete module should hold and does not."""
    return ModuleMismatchError(f"{path} is missing: the module's {what} file",
                               "delete the module folder and train it again (or pull it again)")
