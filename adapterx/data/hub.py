"""Load a task's split from the Hugging Face Hub as normalized examples (docs/SCHEMA.md).

Each task declares its source (dataset id, config, splits) on its definition (`Task.hub_source`);
`adapterx.data.hub_sources` adds the row converters. Every
failure a user can fix (Hub unreachable, script-based dataset, no such split or language, a task
the Hub cannot serve) raises an error naming the `--data-dir` files that replace the Hub.
"""

from __future__ import annotations

import os
from collections.abc import Iterable

from adapterx.data.hub_sources import HUB_SOURCES, HubSource, fill, hub_source
from adapterx.errors import DataError, HubUnreachableError, UnknownChoiceError
from adapterx.tasks import all_tasks

__all__ = ["HUB_SOURCES", "HubSource", "get_source", "load_hub_languages", "load_hub_split",
           "local_alternative"]


def get_source(task: str) -> HubSource:
    """The Hub source of `task`, or an error listing the known ones."""
    if task not in HUB_SOURCES:
        # a task registered after this module was imported: its source is on its definition
        found = next((t for t in all_tasks().values() if t.hub == task and t.hub_source is not None), None)
        if found is None:
            raise UnknownChoiceError("Hub task", task, HUB_SOURCES)
        return hub_source(found)
    return HUB_SOURCES[task]


def local_alternative(task: str, lang: str | None = None) -> str:
    """How to use local files instead of the Hub for `task` (the expected file names)."""
    source = get_source(task)
    files = source.local_files
    if lang is not None:
        code = (source.codes or {}).get(lang, "{code}")
        files = tuple(dict.fromkeys(fill(f, lang, code) for f in files))
    return "pass --data-dir DIR with " + ", ".join(f"DIR/{f}" for f in files)


_UNREACHABLE_TYPES = {"ConnectionError", "ConnectError", "Timeout", "TimeoutException",
                      "ConnectTimeout", "ReadTimeout", "OfflineModeIsEnabled",
                      "LocalEntryNotFoundError", "ProxyError", "NetworkError", "TimeoutError",
                      "MaxRetryError", "NewConnectionError"}
_UNREACHABLE_TEXT = ("couldn't reach", "could not reach", "offline mode", "connection error",
                     "connection refused", "connection reset", "max retries exceeded",
                     "failed to establish a new connection", "name or service not known",
                     "temporary failure in name resolution")


def _chain(exc: BaseException) -> Iterable[BaseException]:
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        yield exc
        exc = exc.__cause__ or exc.__context__


def is_unreachable(exc: BaseException) -> bool:
    for err in _chain(exc):
        if any(cls.__name__ in _UNREACHABLE_TYPES for cls in type(err).__mro__):
            return True
        if any(text in str(err).lower() for text in _UNREACHABLE_TEXT):
            return True
    return False


def _translate(exc: Exception, task: str, where: str, lang: str) -> Exception | None:
    """The user-facing error for a failed `load_dataset`, or None to let it propagate."""
    hint = local_alternative(task, lang)
    text = f"{type(exc).__name__}: {exc}"
    if "dataset scripts are no longer supported" in str(exc).lower():
        return HubUnreachableError(
            f"cannot load {where} from the Hugging Face Hub: it is a script-based dataset, "
            f"which datasets>=4 refuses to run ({text})", hint)
    from adapterx.hub_probe import check_hub

    offline = check_hub()
    if is_unreachable(exc) or (offline and isinstance(exc, OSError)):
        why = f"{offline}, and it is not in the local cache" if offline else text
        return HubUnreachableError(
            f"the Hugging Face Hub is unreachable for dataset {where}: {why}", hint)
    if type(exc).__name__ in {"DatasetNotFoundError", "DataFilesNotFoundError"}:
        return DataError(f"dataset {where} is not on the Hugging Face Hub any more: {text}",
                         hint=hint)
    if isinstance(exc, ValueError) and "split" in str(exc).lower():
        return DataError(f"dataset {where} has no such split: {text}", hint=hint)
    return None


def _check_labels(dataset: object, source: HubSource, where: str) -> None:
    """Fail loudly if the Hub's label encoding is not the one the converter assumes."""
    if source.label_names is None:
        return
    feature = (getattr(dataset, "features", None) or {}).get(source.label_column)
    # ClassLabel for a label, List/Sequence(ClassLabel) for per-token tags
    names = getattr(feature, "names", None) or getattr(getattr(feature, "feature", None),
                                                       "names", None)
    if names is not None and tuple(names) != source.label_names:
        raise DataError(f"dataset {where} encodes labels (column {source.label_column!r}) as "
                        f"{list(names)}, expected {list(source.label_names)}",
                        hint="update adapterx.data.hub_sources")


def _convert_rows(rows: list[dict], source: HubSource, split: str, where: str,
                  lang: str | None) -> dict[str, list[dict]]:
    """Convert Hub rows, grouped by language when the config holds several."""
    out: dict[str, list[dict]] = {}
    for i, row in enumerate(rows):
        try:
            row_lang = source.lang_of(row) if source.lang_of else lang
            if source.lang_of and lang is not None and row_lang != lang:
                continue
            example = source.convert(row)
        except (KeyError, ValueError, TypeError, IndexError) as e:
            raise DataError(f"malformed row {i}: {type(e).__name__}: {e}", path=where,
                            hint="the Hub dataset changed; use --data-dir with local files") from e
        if example is None:  # not an example (SNLI pairs without a gold label)
            continue
        if not example["id"]:
            example["id"] = f"{split}-{i}"
        out.setdefault(row_lang, []).append(example)
    return out


def _resolve(task: str, split: str, lang: str | None) -> tuple[HubSource, tuple[str, ...]]:
    source = get_source(task)
    if split not in source.splits:
        raise UnknownChoiceError(f"split of Hub task {task}", split, source.splits)
    allowed = source.train_languages if split == "train" else source.languages
    if lang is not None and lang not in allowed:
        raise UnknownChoiceError(f"language of {task} {split} on the Hub ({source.dataset_id})", lang,
                                 allowed, hint=f"for other languages pass --data-dir DIR with the task's "
                                               "local files (`adapterx tasks` lists their names)")
    hub_splits = source.splits[split]
    return source, (hub_splits,) if isinstance(hub_splits, str) else tuple(hub_splits)


def _config(source: HubSource, task: str, lang: str | None) -> str | None:
    """The Hub config of `lang`, or a DataError when the Hub dataset has none for it."""
    if source.config is None or lang is None:
        return source.config
    code = lang
    if source.codes is not None:
        if lang not in source.codes:
            raise DataError(f"dataset {source.dataset_id!r} has no {task} config for language "
                            f"{lang!r} (it has: {', '.join(sorted(source.codes))})",
                            hint=f"{local_alternative(task, lang)}; or leave {lang} out of --langs")
        code = source.codes[lang]
    return fill(source.config, lang, code)


def _read_split(source: HubSource, task: str, config: str | None, hub_split: str, lang: str,
                cache_dir: str | os.PathLike | None) -> object:
    """One Hub split as a `datasets.Dataset`, with failures translated for the user."""
    where = f"{source.dataset_id!r} (config {config!r}, split {hub_split!r})"
    kwargs: dict = {"cache_dir": None if cache_dir is None else str(cache_dir)}
    if source.revision is not None:
        kwargs["revision"] = source.revision
    from adapterx.hub_probe import check_hub

    check_hub()  # an unreachable Hub: offline mode (the cache still serves), no minute of retries
    try:
        import datasets  # imported late: heavy, and only needed when reading from the Hub

        dataset = datasets.load_dataset(source.dataset_id, config, split=hub_split, **kwargs)
    except Exception as e:  # noqa: BLE001  (translated when recognised, re-raised otherwise)
        translated = _translate(e, task, where, lang)
        if translated is None:
            raise
        raise translated from e
    _check_labels(dataset, source, where)
    return dataset


def _load(task: str, split: str, lang: str | None, cache_dir: str | os.PathLike | None
          ) -> dict[str, list[dict]]:
    source, hub_splits = _resolve(task, split, lang)
    if source.unavailable:
        raise DataError(f"{task} cannot be read from the Hugging Face Hub: {source.unavailable}",
                        hint=local_alternative(task, lang))
    config = _config(source, task, lang)
    rows: list[dict] = []
    for hub_split in hub_splits:  # ANLI: rounds R1, R2, R3 read one after the other
        dataset = _read_split(source, task, config, hub_split, lang or "{lang}", cache_dir)
        rows.extend(dataset.to_list() if hasattr(dataset, "to_list") else list(dataset))
    where = (f"{source.dataset_id!r} (config {config!r}, split "
             f"{'+'.join(hub_splits)!r})")
    return _convert_rows(rows, source, split, where, lang)


def load_hub_split(task: str, split: str, lang: str = "en",
                   cache_dir: str | os.PathLike | None = None) -> list[dict]:
    """Normalized examples of one split and language of `task`, read from the Hub."""
    return _load(task, split, lang, cache_dir).get(lang, [])


def load_hub_languages(task: str, split: str, langs: Iterable[str] | None = None,
                       cache_dir: str | os.PathLike | None = None) -> dict[str, list[dict]]:
    """Normalized examples per language (all of the task's languages when `langs` is None)."""
    source = get_source(task)
    wanted = list(langs) if langs is not None else list(
        source.train_languages if split == "train" else source.languages)
    if source.lang_of is None:
        return {lang: load_hub_split(task, split, lang, cache_dir) for lang in wanted}
    for lang in wanted:
        _resolve(task, split, lang)
    grouped = _load(task, split, None, cache_dir)  # one download, split by language
    return {lang: grouped.get(lang, []) for lang in wanted}
