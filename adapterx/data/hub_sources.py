"""How each task's Hub rows become normalized examples, and the task's Hub source as one object.

Where a task lives on the Hub (dataset id, config, splits, languages, label names, codes) is
declared with the task itself (`Task.hub_source`, adapterx/tasks); this module adds the loading
logic: one row converter per source kind (ROWS) and the HubSource that `adapterx.data.hub` reads.
Every id is script-free (parquet data files named by `configs:` in the dataset card, or the Hub's
own parquet export `refs/convert/parquet`), because datasets>=4 refuses loading scripts. How each
was checked is in its `note`. The loading and error handling is in `adapterx.data.hub`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

# One definition of these, shared with the local-file readers and the task definitions.
from adapterx.data.readers import COPA_QUESTIONS, NLI_LABELS, TYDIQA_PREFIXES
from adapterx.data.readers_more import CSQA_KEYS, QQP_LABELS, SST2_LABELS
from adapterx.tasks import HubData, Task, all_tasks
from adapterx.tasks.targets import PAWSX_LABELS

# ClassLabel names as the Hub datasets declare them (checked at load time by hub._check_labels).
QQP_NAMES = tuple(QQP_LABELS.values())  # not_duplicate, duplicate
SST2_NAMES = tuple(SST2_LABELS.values())  # negative, positive


@dataclass(frozen=True)
class HubSource:
    """Where one task lives on the Hub and how one of its rows becomes a normalized example."""

    dataset_id: str
    config: str | None  # may contain "{lang}" (ISO code) or "{code}" (the dataset's own code)
    # our split (train/dev/test) -> Hub split, or several Hub splits read one after the other
    splits: dict[str, str | tuple[str, ...]]
    languages: tuple[str, ...]
    convert: Callable[[dict], dict | None]  # None: the row is not an example (skipped)
    local_files: tuple[str, ...]  # the --data-dir alternative, relative to DIR; {lang} / {code}
    note: str = ""
    label_names: tuple[str, ...] | None = None  # expected ClassLabel names of `label_column`
    label_column: str = "label"  # a Sequence(ClassLabel) column for tagging tasks
    lang_of: Callable[[dict], str] | None = None  # language of a row when one config holds all
    train_languages: tuple[str, ...] = ("en",)  # XTREME trains on English only
    codes: dict[str, str] | None = None  # ISO code -> the dataset's code, for "{code}"
    revision: str | None = None  # a Hub revision (branch) other than main
    unavailable: str = ""  # why the Hub cannot serve this task: loading refuses, naming the files


def fill(template: str, lang: str, code: str) -> str:
    """`template` with "{lang}" and "{code}" replaced; other braces stay (file patterns)."""
    return template.replace("{lang}", lang).replace("{code}", code)


# --- converters: one Hub row -> one normalized example (docs/SCHEMA.md) ------------------------

def _name(value: object, names: tuple[str, ...]) -> str:
    """The label name of a ClassLabel id (or of the name itself); "" when unlabelled (-1)."""
    if isinstance(value, str):
        if value not in names:
            raise ValueError(f"unknown label {value!r}; expected one of {list(names)}")
        return value
    index = int(value)  # type: ignore[arg-type]
    if index < 0:
        return ""
    return names[index]


def _choice(raw: object, n: int) -> int:
    """A 0-based answer index from an int or a numeric string; -1 when unlabelled."""
    text = "" if raw is None else str(raw).strip()
    index = int(text) if text else -1
    if not -1 <= index < n:
        raise ValueError(f"answer index {index} is not in 0..{n - 1}")
    return index


def _nli(row: dict) -> dict:
    return {"id": str(row.get("idx", "")), "text_a": str(row["premise"]),
            "text_b": str(row["hypothesis"]), "label": _name(row["label"], NLI_LABELS)}


def _anli(row: dict) -> dict:
    return {**_nli(row), "id": str(row["uid"])}


def _snli(row: dict) -> dict | None:
    example = _nli(row)
    return example if example["label"] else None  # -1: no annotator consensus, not an example


def _qqp(row: dict) -> dict:
    return {"id": str(row["idx"]), "text_a": str(row["question1"]),
            "text_b": str(row["question2"]), "label": _name(row["label"], QQP_NAMES)}


def _sst2(row: dict) -> dict:
    return {"id": str(row["idx"]), "text_a": str(row["sentence"]), "text_b": None,
            "label": _name(row["label"], SST2_NAMES)}


def _pawsx(row: dict) -> dict:
    return {"id": str(row["id"]), "text_a": str(row["sentence1"]),
            "text_b": str(row["sentence2"]), "label": _name(row["label"], PAWSX_LABELS)}


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


def _hellaswag(row: dict) -> dict:
    endings = [str(e) for e in row["endings"]]
    if len(endings) != 4:
        raise ValueError(f"expected 4 endings, got {len(endings)}")
    # HellaSwag has no question: the context (ctx = ctx_a + ctx_b) is completed by an ending.
    return {"id": str(row.get("ind", "")), "context": str(row["ctx"]), "question": "",
            "choices": endings, "label": _choice(row.get("label"), 4)}


def _cosmosqa(row: dict) -> dict:
    return {"id": str(row.get("id") or ""), "context": str(row["context"]),
            "question": str(row["question"]),
            "choices": [str(row[f"answer{i}"]) for i in range(4)],
            "label": _choice(row.get("label"), 4)}


def _commonsenseqa(row: dict) -> dict:
    choices = row["choices"]
    by_key = dict(zip((str(k) for k in choices["label"]), (str(t) for t in choices["text"]),
                      strict=True))
    if sorted(by_key) != list(CSQA_KEYS):
        raise ValueError(f"expected 5 choices labelled A-E, got {list(choices['label'])}")
    key = str(row.get("answerKey") or "").strip()  # "" in the unlabelled test split
    return {"id": str(row["id"]), "context": "", "question": str(row["question"]),
            "choices": [by_key[k] for k in CSQA_KEYS],
            "label": CSQA_KEYS.index(key) if key else -1}


def _squad(row: dict) -> dict:
    answers = row["answers"]
    texts = [str(t) for t in answers["text"]]
    starts = [int(s) for s in answers["answer_start"]]
    if len(texts) != len(starts):
        raise ValueError(f"{len(texts)} answer texts but {len(starts)} answer_start offsets")
    return {"id": str(row["id"]), "title": str(row.get("title") or ""),
            "context": str(row["context"]), "question": str(row["question"]),
            "answers": {"text": texts, "answer_start": starts}}


def _tagging(column: str, names: tuple[str, ...] | None) -> Callable[[dict], dict]:
    """A converter of `tokens` + the tag column (ClassLabel ids, or names when `names` is None)."""
    def convert(row: dict) -> dict:
        tokens = [str(t) for t in row["tokens"]]
        tags = [str(t) if names is None else _name(t, names) for t in row[column]]
        if tags and len(tags) != len(tokens):
            raise ValueError(f"{len(tokens)} tokens but {len(tags)} tags")
        return {"id": "", "tokens": tokens, "tags": tags}
    return convert


def _pair(row: dict) -> dict:
    # google/xtreme's Tatoeba/BUCC rows keep the source files' line ends: strip them.
    return {"id": "", "source": str(row["source_sentence"]).strip(),
            "target": str(row["target_sentence"]).strip()}


def _tydiqa_lang(row: dict) -> str:
    prefix = str(row["id"]).split("-", 1)[0]
    if prefix not in TYDIQA_PREFIXES:
        raise ValueError(f"id {row['id']!r} does not start with a known language name")
    return TYDIQA_PREFIXES[prefix]


# HubData.row -> converter ("tagging" is built per task from its label column and names)
ROWS: dict[str, Callable[[dict], dict | None]] = {
    "nli": _nli, "anli": _anli, "snli": _snli, "qqp": _qqp, "sst2": _sst2, "pawsx": _pawsx, "copa": _copa,
    "siqa": _siqa, "hellaswag": _hellaswag, "cosmosqa": _cosmosqa, "commonsenseqa": _commonsenseqa,
    "squad": _squad, "pair": _pair}
# HubData.lang_of -> how a row's language is read when one config holds every language
LANG_OF: dict[str, Callable[[dict], str]] = {"tydiqa_id": _tydiqa_lang}


def _converter(hub: HubData) -> Callable[[dict], dict | None]:
    if hub.row == "tagging":
        return _tagging(hub.label_column, hub.label_names)
    return ROWS[hub.row]


def hub_source(task: Task) -> HubSource:
    """The Hub source `task` declares (Task.hub_source), with its row converter."""
    hub = task.hub_source
    if hub is None:
        raise ValueError(f"task {task.name} declares no Hub source")
    return HubSource(hub.dataset_id, hub.config, dict(hub.splits), hub.languages or task.languages,
                     _converter(hub), hub.local_files or tuple(task.local_files.values()), note=hub.note,
                     label_names=hub.label_names, label_column=hub.label_column,
                     lang_of=LANG_OF[hub.lang_of] if hub.lang_of else None, codes=hub.codes,
                     revision=hub.revision, unavailable=hub.unavailable)


# Keyed by the task registry's `Task.hub`: every registered task with a Hub source has an entry.
HUB_SOURCES: dict[str, HubSource] = {task.hub: hub_source(task) for task in all_tasks().values()
                                     if task.hub_source is not None}
