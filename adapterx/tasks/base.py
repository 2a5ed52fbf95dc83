"""What a task is: its head kind, metric, languages and where its data comes from."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

# A local loader reads one split of one language from a `--data-dir` and returns normalized
# examples (docs/SCHEMA.md); it raises DataError naming the expected file when it is missing.
LocalLoader = Callable[[Path, str, str], list[dict]]

HEAD_KINDS = ("classification", "multiple_choice", "qa", "tagging", "retrieval")


@dataclass(frozen=True)
class TranslateTest:
    """A target's test sets machine-translated into English, one file per language at
    `<data-dir>/<task>-translate-test/test.{lang}.<ext>`, in the task's own test-file format."""

    ext: str  # file extension, e.g. "jsonl"
    read: Callable[[Path], list[dict]]  # one such file -> normalized examples

    def path(self, data_dir: str | Path, task: str, lang: str) -> Path:
        """Where language `lang`'s translated test file lives."""
        return Path(data_dir) / f"{task}-translate-test" / f"test.{lang}.{self.ext}"


@dataclass(frozen=True)
class HubData:
    """Where a task's data lives on the Hugging Face Hub (adapterx.data.hub_sources reads it)."""

    dataset_id: str
    config: str | None  # may contain "{lang}" (ISO code) or "{code}" (the dataset's own code)
    # our split (train/dev/test) -> Hub split, or several Hub splits read one after the other
    splits: dict[str, str | tuple[str, ...]]
    row: str  # how a row becomes an example: a converter of adapterx.data.hub_sources.ROWS
    note: str  # how the source was checked
    languages: tuple[str, ...] | None = None  # the ones the Hub copy has; None: all of the task's
    local_files: tuple[str, ...] = ()  # the --data-dir alternative in messages; (): the task's local_files
    label_names: tuple[str, ...] | None = None  # expected ClassLabel names of `label_column`
    label_column: str = "label"  # a Sequence(ClassLabel) column for tagging tasks
    lang_of: str | None = None  # rows of all languages in one config: how a row's language is read
    codes: dict[str, str] | None = None  # ISO code -> the dataset's code, for "{code}"
    revision: str | None = None  # a Hub revision (branch) other than main
    unavailable: str = ""  # why the Hub cannot serve this task: loading refuses, naming the files


@dataclass(frozen=True)
class Task:
    """One task: an English intermediate task, a zero-shot target, or both."""

    name: str
    kind: str  # one of HEAD_KINDS: which head the model gets
    metric: str  # key of adapterx.metrics.METRICS
    description: str
    local: LocalLoader
    local_files: dict[str, str]  # split -> file pattern under --data-dir (for messages and docs)
    languages: tuple[str, ...] = ("en",)  # evaluation languages
    labels: tuple[str, ...] = ()  # classification label names, in head output order
    num_choices: int = 0  # multiple choice only
    splits: tuple[str, ...] = ("train", "dev")
    # Targets train on the English data of another task (XNLI on MNLI, XQuAD on SQuAD); None
    # means the task's own English train split.
    train_from: str | None = None
    # When the only English dev data is also an evaluation set (TyDiQA-GoldP), model selection
    # uses this fraction of the English train split instead, held out deterministically.
    dev_holdout: float = 0.0
    # Tasks whose train split joins this one's (the paper's ANLI+ = ANLI + MNLI + SNLI).
    also_train_on: tuple[str, ...] = ()
    # Tag sets too large to list (CCG supertags): read from the training data, saved with the head.
    labels_from_data: bool = False
    no_answer: bool = False  # QA with unanswerable questions (SQuAD 2.0)
    xtreme_name: str | None = None  # name in XTREME's predictions layout; None for non-targets
    # Many XTREME test sets are released as one split; XTREME scores the dev file as "test".
    split_alias: dict[str, str] = field(default_factory=dict)
    hub: str = ""  # Hub source key in adapterx.data.hub.HUB_SOURCES
    hub_source: HubData | None = None  # where the task's data lives on the Hub
    # None: no translate-test (tagging: translation breaks the word-level labels; retrieval
    # already pairs every language with English).
    translate_test: TranslateTest | None = None
    # Tagging: the tag of words cut off by max_seq_length (no sub-word reaches the model); None:
    # "O" when the tag set has it (outside any entity: no span predicted), else the first label.
    neutral_label: str | None = None
    max_seq_length: int = 256
    doc_stride: int = 128  # QA only
    epochs: float = 3.0
    # None: the method's default (its registry entry's `default_lr`)
    learning_rate: float | None = None

    @property
    def is_target(self) -> bool:
        """Whether the task has non-English evaluation languages (a zero-shot target)."""
        return self.xtreme_name is not None

    @property
    def train_task(self) -> str:
        """Name of the task whose English train split trains this one."""
        return self.train_from or self.name

    def resolve_split(self, split: str) -> str:
        """Map a requested split to the one the data really has (XTREME's test = TyDiQA dev)."""
        return self.split_alias.get(split, split)


_REGISTRY: dict[str, Task] = {}


def register(task: Task) -> Task:
    """Add a task to the registry (the one list of tasks; later tasks extend it here)."""
    if task.kind not in HEAD_KINDS:
        raise ValueError(f"task {task.name}: unknown head kind {task.kind!r}")
    if task.name in _REGISTRY:
        raise ValueError(f"task {task.name!r} registered twice")
    _REGISTRY[task.name] = task
    return task


def all_tasks() -> dict[str, Task]:
    """Every registered task by name."""
    from adapterx.tasks import definitions  # noqa: F401  (registers on first import)

    return dict(_REGISTRY)


def get_task(name: str) -> Task:
    """The task called `name`, or an error listing the valid names."""
    from adapterx.errors import UnknownChoiceError

    tasks = all_tasks()
    if name not in tasks:
        raise UnknownChoiceError("task", name, tasks, hint="`adapterx tasks` lists them")
    return tasks[name]


def check_languages(task: Task, langs: list[str] | None) -> list[str]:
    """Validate a --langs list against the task's languages (None = all of them)."""
    from adapterx.errors import UnknownChoiceError

    if not langs:
        return list(task.languages)
    for lang in langs:
        if lang not in task.languages:
            raise UnknownChoiceError(f"language for task {task.name}", lang, task.languages)
    return list(langs)
