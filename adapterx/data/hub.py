"""Hugging Face Hub sources of each task, converted to the normalized schema (docs/SCHEMA.md).

Every id below is script-free (parquet data files named by `configs:` in the dataset card), because
datasets>=4 refuses loading scripts. When the Hub cannot be reached the error names the
`--data-dir` files that replace it.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from adapterx.errors import DataError, HubUnreachableError, UnknownChoiceError

# One definition of these, shared with the local-file readers.
from adapterx.data.readers import COPA_QUESTIONS, NLI_LABELS, TYDIQA_PREFIXES  # noqa: E402


@dataclass(frozen=True)
class HubSource:
    """Where one task lives on the Hub and how one of its rows becomes a normalized example."""

    dataset_id: str
    config: str | None  # may contain "{lang}"
    splits: dict[str, str]  # our split (train/dev/test) -> Hub split
    languages: tuple[str, ...]
    convert: Callable[[dict], dict]
    local_files: tuple[str, ...]  # the --data-dir alternative, relative to DIR; may contain {lang}
    note: str = ""
    label_names: tuple[str, ...] | None = None  # expected ClassLabel names of column `label`
    lang_of: Callable[[dict], str] | None = None  # language of a row when one config holds all
    train_languages: tuple[str, ...] = ("en",)  # XTREME trains on English only


def _nli(row: dict) -> dict:
    label = int(row["label"])
    return {"id": str(row.get("idx", "")), "text_a": str(row["premise"]),
            "text_b": str(row["hypothesis"]), "label": NLI_LABELS[label] if label >= 0 else ""}


def _copa(row: dict) -> dict:
    question = str(row["question"])
    if question not in COPA_QUESTIONS:
        raise ValueError(f"question must be 'cause' or 'effect', got {question!r}")
    return {"id": str(row["idx"]), "context": str(row["premise"]),
            "question": COPA_QUESTIONS[question],
            "choices": [str(row["choice1"]), str(row["choice2"])], "label": int(row["label"])}


def _siqa(row: dict) -> dict:
    raw = str(row.get("label") or "").strip()  # "1".."3" as in the original -labels.lst files
    return {"id": "", "context": str(row["context"]), "question": str(row["question"]),
            "choices": [str(row["answerA"]), str(row["answerB"]), str(row["answerC"])],
            "label": int(raw) - 1 if raw else -1}


def _squad(row: dict) -> dict:
    answers = row["answers"]
    texts = [str(t) for t in answers["text"]]
    starts = [int(s) for s in answers["answer_start"]]
    if len(texts) != len(starts):
        raise ValueError(f"{len(texts)} answer texts but {len(starts)} answer_start offsets")
    return {"id": str(row["id"]), "title": str(row.get("title") or ""),
            "context": str(row["context"]), "question": str(row["question"]),
            "answers": {"text": texts, "answer_start": starts}}


def _tydiqa_lang(row: dict) -> str:
    prefix = str(row["id"]).split("-", 1)[0]
    if prefix not in TYDIQA_PREFIXES:
        raise ValueError(f"id {row['id']!r} does not start with a known language name")
    return TYDIQA_PREFIXES[prefix]


HUB_SOURCES: dict[str, HubSource] = {
    "mnli": HubSource(
        "nyu-mll/glue", "mnli", {"train": "train", "dev": "validation_matched"}, ("en",), _nli,
        ("mnli/train.tsv", "mnli/dev_matched.tsv"), label_names=NLI_LABELS,
        note="GLUE MNLI (Williams et al. 2018); columns premise, hypothesis, label, idx; "
             "test_* splits are unlabelled (-1)."),
    "xnli": HubSource(
        "facebook/xnli", "{lang}", {"dev": "validation", "test": "test"},
        ("ar", "bg", "de", "el", "en", "es", "fr", "hi", "ru", "sw", "th", "tr", "ur", "vi",
         "zh"), _nli, ("xnli/xnli.dev.tsv", "xnli/xnli.test.tsv"), label_names=NLI_LABELS,
        note="XNLI 1.0 (Conneau et al. 2018); one config per language; columns premise, "
             "hypothesis, label; no id column (ids are row numbers)."),
    "siqa": HubSource(
        "lighteval/siqa", None, {"train": "train", "dev": "validation"}, ("en",), _siqa,
        ("siqa/train.jsonl", "siqa/train-labels.lst", "siqa/dev.jsonl", "siqa/dev-labels.lst"),
        note="Social IQa (Sap et al. 2019). allenai/social_i_qa is script-based; lighteval/siqa is "
             "its parquet copy (same 33,410/1,954 rows, checked by hash in lm-evaluation-harness "
             "PR #3943); columns context, question, answerA-C, label ('1'-'3')."),
    "copa": HubSource(
        "aps/super_glue", "copa", {"train": "train", "dev": "validation", "test": "test"},
        ("en",), _copa, ("copa/train.jsonl", "copa/val.jsonl", "copa/test.jsonl"),
        label_names=("choice1", "choice2"),
        note="SuperGLUE COPA (Roemmele et al. 2011); columns premise, choice1, choice2, question, "
             "idx, label; test labels are -1."),
    "xcopa": HubSource(
        "cambridgeltl/xcopa", "{lang}", {"dev": "validation", "test": "test"},
        ("et", "ht", "id", "it", "qu", "sw", "ta", "th", "tr", "vi", "zh"), _copa,
        ("xcopa/val.{lang}.jsonl", "xcopa/test.{lang}.jsonl"),
        note="XCOPA 1.1 (Ponti et al. 2020); one config per language; columns premise, choice1, "
             "choice2, question, label, idx, changed."),
    "squad": HubSource(
        "rajpurkar/squad", "plain_text", {"train": "train", "dev": "validation"}, ("en",), _squad,
        ("squad/train-v1.1.json", "squad/dev-v1.1.json"),
        note="SQuAD 1.1 (Rajpurkar et al. 2016); columns id, title, context, question, "
             "answers{text, answer_start}."),
    "xquad": HubSource(
        "google/xquad", "xquad.{lang}", {"test": "validation"},
        ("ar", "de", "el", "en", "es", "hi", "ro", "ru", "th", "tr", "vi", "zh"), _squad,
        ("xquad/xquad.{lang}.json",),
        note="XQuAD (Artetxe et al. 2020); its only split, validation, is XTREME's test set; "
             "columns id, context, question, answers (no title)."),
    "tydiqa": HubSource(
        "google-research-datasets/tydiqa", "secondary_task",
        {"train": "train", "dev": "validation"},
        tuple(sorted(TYDIQA_PREFIXES.values())), _squad,
        ("tydiqa/tydiqa-goldp-v1.1-train.json", "tydiqa/tydiqa-goldp-v1.1-dev.json"),
        lang_of=_tydiqa_lang,
        note="TyDiQA-GoldP (Clark et al. 2020) = config secondary_task; columns id, title, "
             "context, question, answers; language from the id prefix ('arabic-...'); XTREME "
             "trains on the English rows and scores the dev set as its test set."),
}


def get_source(task: str) -> HubSource:
    """The Hub source of `task`, or an error listing the known ones."""
    if task not in HUB_SOURCES:
        raise UnknownChoiceError("Hub task", task, HUB_SOURCES)
    return HUB_SOURCES[task]


def local_alternative(task: str, lang: str | None = None) -> str:
    """How to use local files instead of the Hub for `task` (the expected file names)."""
    files = get_source(task).local_files
    if lang is not None:
        files = tuple(dict.fromkeys(f.format(lang=lang) for f in files))
    return "pass --data-dir DIR with " + ", ".join(f"DIR/{f}" for f in files)


def _offline_env() -> str | None:
    for name in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE"):
        if os.environ.get(name, "").strip().lower() in {"1", "true", "yes", "on"}:
            return name
    return None


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


def _is_unreachable(exc: BaseException) -> bool:
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
    offline = _offline_env()
    if _is_unreachable(exc) or (offline and isinstance(exc, OSError)):
        why = f"offline mode is on ({offline}=1) and it is not cached" if offline else text
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
    feature = (getattr(dataset, "features", None) or {}).get("label")
    names = getattr(feature, "names", None)
    if names is not None and tuple(names) != source.label_names:
        raise DataError(f"dataset {where} encodes labels as {list(names)}, expected "
                        f"{list(source.label_names)}", hint="update adapterx.data.hub")


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
        if not example["id"]:
            example["id"] = f"{split}-{i}"
        out.setdefault(row_lang, []).append(example)
    return out


def _resolve(task: str, split: str, lang: str | None) -> tuple[HubSource, str]:
    source = get_source(task)
    if split not in source.splits:
        raise UnknownChoiceError(f"split of Hub task {task}", split, source.splits)
    allowed = source.train_languages if split == "train" else source.languages
    if lang is not None and lang not in allowed:
        raise UnknownChoiceError(f"language of {task} {split}", lang, allowed)
    return source, source.splits[split]


def _load(task: str, split: str, lang: str | None, cache_dir: str | os.PathLike | None
          ) -> dict[str, list[dict]]:
    source, hub_split = _resolve(task, split, lang)
    config = source.config.format(lang=lang) if source.config and lang else source.config
    where = f"{source.dataset_id!r} (config {config!r}, split {hub_split!r})"
    try:
        import datasets  # imported late: heavy, and only needed when reading from the Hub

        dataset = datasets.load_dataset(source.dataset_id, config, split=hub_split,
                                        cache_dir=None if cache_dir is None else str(cache_dir))
    except Exception as e:  # noqa: BLE001  (translated when recognised, re-raised otherwise)
        translated = _translate(e, task, where, lang or "{lang}")
        if translated is None:
            raise
        raise translated from e
    _check_labels(dataset, source, where)
    rows = dataset.to_list() if hasattr(dataset, "to_list") else list(dataset)
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
