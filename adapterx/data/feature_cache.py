"""Tokenized training features on disk, shared by every run that trains on the same data:
`<modules_dir>/.features/<task>-<key>/`.

Tokenizing SQuAD (with its sliding windows) or MNLI for XLM-R takes minutes, and every
intermediate module, target training and seed of a grid would repeat it. An entry's key hashes
everything that decides the features: the task's head and labels, the tokenizer (its vocabulary,
normalizer and templates, see `tokenizer_fingerprint`), the tokenizers library's version, the
lengths, training or evaluation form, and the examples themselves, so a changed file, subsample
or tokenizer gets a new entry and a stale one is never read. Entries are written like modules:
in a temporary folder renamed after its done marker, under the entry's lock (a second process
waits and reads the first one's entry); `adapterx cache ls` lists them and `adapterx cache prune
--features` removes them (they are rebuilt on demand). The cache is only a speed-up: a
read-only or full disk, or an unreadable entry, falls back to tokenizing in memory.
"""

from __future__ import annotations

import hashlib
import json
import time
import warnings
from pathlib import Path

from datasets import Dataset, load_from_disk

from adapterx.store import atomic_dir, entry_lock, is_complete, stable_hash, write_meta
from adapterx.tasks import Task

FEATURES_DIR = ".features"
DATA_SUBDIR = "data"
# Bump when adapterx.data.features.tokenize changes what it produces for the same inputs:
# entries of the old format are then never read again (`cache prune --features` removes them).
FORMAT_VERSION = 1


def tokenizer_fingerprint(tokenizer) -> str:
    """Hash of what decides a fast tokenizer's output (vocabulary, normalizer, templates), computed
    once per tokenizer object; the backend's truncation / padding state is left out."""
    cached = getattr(tokenizer, "_adapterx_fingerprint", None)
    if cached is None:
        spec = json.loads(tokenizer.backend_tokenizer.to_str())
        spec.pop("truncation", None)
        spec.pop("padding", None)
        spec["class"], spec["sides"] = type(tokenizer).__name__, [tokenizer.truncation_side, tokenizer.padding_side]
        cached = hashlib.sha256(json.dumps(spec, sort_keys=True).encode("utf-8")).hexdigest()
        tokenizer._adapterx_fingerprint = cached
    return cached


def features_key(task: Task, examples: list[dict], tokenizer, max_length: int, doc_stride: int,
                 train: bool) -> str:
    """The cache key of `tokenize(task, examples, tokenizer, max_length, doc_stride, train)`."""
    import tokenizers

    return stable_hash({"format": FORMAT_VERSION, "tokenizers": tokenizers.__version__,
                        "task": [task.name, task.kind, list(task.labels), task.num_choices],
                        "tokenizer": tokenizer_fingerprint(tokenizer), "max_length": max_length,
                        "doc_stride": doc_stride, "train": train, "examples": stable_hash(examples, length=64)},
                       length=16)


def features_path(cache_root: str | Path, task: Task, key: str) -> Path:
    """Where the entry of `task` with `key` lives under the modules folder."""
    return Path(cache_root) / FEATURES_DIR / f"{task.name}-{key}"


def _load(path: Path) -> Dataset | None:
    try:
        return load_from_disk(str(path / DATA_SUBDIR))  # memory-mapped Arrow: no copy in RAM
    except Exception as err:  # noqa: BLE001  (a damaged entry: rebuild it rather than fail the run)
        warnings.warn(f"tokenized features at {path} could not be read ({type(err).__name__}: {err}); "
                      "tokenizing again", stacklevel=3)
        return None


def cached_tokenize(task: Task, examples: list[dict], tokenizer, max_length: int, doc_stride: int,
                    train: bool, cache_root: str | Path | None) -> Dataset:
    """`tokenize(...)` read from, or written to, the feature cache under `cache_root` (None: no
    cache). Under a multi-process launch only the main process writes; the others read an entry
    that is already complete, else tokenize for themselves (no rank waits on another here)."""
    from adapterx.data.features import tokenize
    from adapterx.distributed import is_main_process

    def fresh() -> Dataset:
        return tokenize(task, examples, tokenizer, max_length, doc_stride, train)

    if cache_root is None:
        return fresh()
    key = features_key(task, examples, tokenizer, max_length, doc_stride, train)
    path = features_path(cache_root, task, key)
    if is_complete(path) and (found := _load(path)) is not None:
        return found
    if not is_main_process():
        return fresh()
    features: Dataset | None = None
    try:
        with entry_lock(path):
            if is_complete(path) and (found := _load(path)) is not None:  # another process wrote it meanwhile
                return found
            features = fresh()
            with atomic_dir(path, collective=False) as tmp:
                features.save_to_disk(str(tmp / DATA_SUBDIR))
                write_meta(tmp, {
                    "kind": "features", "task": task.name, "key": key, "rows": len(examples),
                    "features": len(features), "train": train, "max_seq_length": max_length,
                    "doc_stride": doc_stride, "format": FORMAT_VERSION,
                    "created": time.strftime("%Y-%m-%dT%H:%M:%S")})
    except OSError as err:  # read-only or full disk: the cache is a speed-up, not a requirement
        warnings.warn(f"could not cache tokenized features under {path.parent} ({err}); continuing without",
                      stacklevel=2)
        return features if features is not None else fresh()
    found = _load(path)  # the memory-mapped copy: training then holds no second copy in RAM
    return found if found is not None else features
