"""Leakage guard: refuse a run whose training data contains the texts it is evaluated on.

The identifying texts of every evaluation example (table below) are normalised (Unicode NFKC,
casefold, punctuation removed, whitespace collapsed) and hashed to 64 bits, and compared with the
same hashes of everything the run trains on: the target's English training data and the training
data of each intermediate module (stored as `train_hashes.npy` in the module folder when it is
trained). Exact copies are caught, whatever the casing, spacing or punctuation; translations and
paraphrases are not (XCOPA's items are translations of COPA's val / test items, XQuAD's of SQuAD
dev): such splits must be kept apart by the data itself, as the official train splits are.

Texts hashed per head kind ("item" = the example's text fields together):

    classification   item (sentence 1 + sentence 2): a premise seen in training with another
                     hypothesis is not the evaluated item
    multiple_choice  context (premise / story), item (context + question + choices)
    qa               context (a passage read in training is leaked, whatever its questions), item
                     (context + question); a question alone is not hashed ("Where does Anna
                     live?" recurs across unrelated passages)
    tagging          the sentence (tokens joined by spaces)
    retrieval        not checked: nothing is trained on the target

Texts shorter than MIN_CHARS after normalisation are skipped (they carry no item-specific
information). A run is refused when, in some language, more than `data.leakage_tolerance` of the
evaluation examples (default 1%) have a text in the training data; smaller overlaps (a boilerplate
line or a quotation found in two documents, as in UD English-EWT) are reported as a warning. Both are
recorded in results.json (`leakage`).
"""

from __future__ import annotations

import functools
import hashlib
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from adapterx.errors import AdapterxError, UnknownChoiceError

MODES = ("refuse", "warn", "off")
HASHES_FILE = "train_hashes.npy"
MIN_CHARS = 20
N_EXAMPLES_SHOWN = 3
_JOIN = "\x1f"  # between the normalised parts of an item (normalisation cannot produce it)


@functools.cache
def _punctuation_table() -> dict[int, None]:
    """str.translate table deleting every Unicode punctuation character (categories P*)."""
    # Planes 0-1 hold every punctuation character in use (planes 2-3 are CJK ideographs, 14 tags,
    # 15-16 private use); scanning 128k code points instead of 1.1M keeps start-up at ~20 ms.
    return {cp: None for cp in range(0x20000) if unicodedata.category(chr(cp))[0] == "P"}


@functools.cache
def _ascii_punctuation() -> bytes:
    return bytes(cp for cp in _punctuation_table() if cp < 128)


def normalise(text: str) -> str:
    """NFKC, casefold, punctuation removed, whitespace collapsed: the form that is hashed."""
    if text.isascii():  # the common case, 5x faster, same result (ASCII is NFKC-stable)
        text = text.lower().encode("ascii").translate(None, _ascii_punctuation()).decode("ascii")
    else:
        text = unicodedata.normalize("NFKC", text).casefold().translate(_punctuation_table())
    return " ".join(text.split())


def _digest(text: str) -> int:
    return int.from_bytes(hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest(), "little")


def example_texts(example: dict, kind: str) -> list[tuple[str, tuple[str, ...]]]:
    """(label, raw text parts) of the texts that identify `example` (module docstring)."""
    def text(name: str) -> str:
        value = example.get(name)
        return value if isinstance(value, str) else ""

    if kind == "classification":
        return [("item", tuple(t for t in (text("text_a"), text("text_b")) if t))]
    if kind == "multiple_choice":
        choices = tuple(c for c in example.get("choices") or () if isinstance(c, str))
        item = (text("context"), text("question"), *choices)
        return [("context", (text("context"),)), ("item", item)] if text("context") else [("item", item)]
    if kind == "qa":
        return [("context", (text("context"),)), ("item", (text("context"), text("question")))]
    if kind == "tagging":
        tokens = example.get("tokens") or []
        return [("sentence", (" ".join(t for t in tokens if isinstance(t, str)),))]
    return []


def hash_parts(parts: tuple[str, ...]) -> int | None:
    """The 64-bit hash of a text's normalised parts, or None when it is too short to count."""
    norm = _JOIN.join(normalise(p) for p in parts)
    return _digest(norm) if len(norm) >= MIN_CHARS else None


def examples_hashes(examples: Iterable[dict], kind: str) -> np.ndarray:
    """Sorted unique hashes of every identifying text of `examples` (uint64)."""
    # Each distinct text is normalised once (SQuAD repeats a context for every question).
    raw = {parts for ex in examples for _, parts in example_texts(ex, kind)}
    hashes = {h for h in map(hash_parts, raw) if h is not None}
    return np.array(sorted(hashes), dtype=np.uint64)


def sources_hashes(sources: Iterable[tuple[list[dict], str]]) -> np.ndarray:
    """Union of `examples_hashes` over (examples, head kind) pairs (a multi-task module's tasks)."""
    arrays = [examples_hashes(examples, kind) for examples, kind in sources]
    return np.unique(np.concatenate(arrays)) if arrays else np.zeros(0, dtype=np.uint64)


def save_train_hashes(folder: Path, sources: Iterable[tuple[list[dict], str]]) -> None:
    """Write the hashes of a module's training texts beside it (8 bytes per distinct text), so
    that later runs reusing the module can check it without its data."""
    np.save(Path(folder) / HASHES_FILE, sources_hashes(sources), allow_pickle=False)


def load_train_hashes(folder: Path) -> np.ndarray | None:
    """A module's stored training-text hashes; None for modules saved before they existed."""
    path = Path(folder) / HASHES_FILE
    if not path.is_file():
        return None
    try:
        return np.load(path, allow_pickle=False).astype(np.uint64, copy=False)
    except (OSError, ValueError):  # cut short or not ours: hash the data instead, when it is at hand
        return None


def check_settings(mode: str, tolerance: float) -> None:
    """`data.leakage` must be one of MODES and `data.leakage_tolerance` a fraction in [0, 1)."""
    if mode not in MODES:
        raise UnknownChoiceError("data.leakage", mode, MODES)
    if not 0 <= tolerance < 1:
        raise AdapterxError(f"data.leakage_tolerance must be in [0, 1), got {tolerance}",
                            "e.g. data.leakage_tolerance=0.01 (1% of a language's examples)")


@dataclass
class Overlap:
    """Evaluation examples whose texts one training source also contains."""

    source: str
    n_texts: int
    per_language: dict[str, int]  # evaluation examples affected, per language
    shown: list[str]


@dataclass
class LeakageGuard:
    """The evaluation texts of one target run, checked against each training source in turn."""

    mode: str
    tolerance: float
    target: str
    split: str
    kind: str
    sizes: dict[str, int] = field(default_factory=dict)  # evaluation examples per language
    overlaps: list[Overlap] = field(default_factory=list)
    checked: list[str] = field(default_factory=list)
    not_covered: list[str] = field(default_factory=list)
    # overlaps of the English dev set that picks the epoch: warned about, never refused
    dev_overlaps: list[Overlap] = field(default_factory=list)
    _hashes: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.uint64), repr=False)
    _where: list[tuple[str, int, str, tuple[str, ...]]] = field(default_factory=list, repr=False)

    @classmethod
    def for_eval(cls, mode: str, tolerance: float, target: str, split: str, kind: str,
                 eval_sets: dict[str, list[dict]]) -> "LeakageGuard":
        """Index the evaluation texts of every language (`eval_sets`: lang -> examples)."""
        check_settings(mode, tolerance)
        guard = cls(mode, tolerance, target, split, kind, {k: len(v) for k, v in eval_sets.items()})
        if mode == "off":
            return guard
        memo: dict[tuple[str, ...], int | None] = {}
        hashes = []
        for lang, examples in eval_sets.items():
            for i, ex in enumerate(examples):
                for label, parts in example_texts(ex, kind):
                    if parts not in memo:
                        memo[parts] = hash_parts(parts)
                    if memo[parts] is not None:
                        hashes.append(memo[parts])
                        guard._where.append((lang, i, label, parts))
        guard._hashes = np.array(hashes, dtype=np.uint64)
        return guard

    @property
    def active(self) -> bool:
        """Whether checks run at all (`data.leakage` is not off)."""
        return self.mode != "off"

    def check_examples(self, source: str, examples: list[dict], kind: str) -> None:
        """Check the training examples of `source` (e.g. "mnli train (target training data)")."""
        if self.active:
            self._check(source, examples_hashes(examples, kind))

    def check_module(self, source: str, folder: Path,
                     data: list[tuple[list[dict], str]] | None = None) -> None:
        """Check a module's training data: its stored hashes when it is saved with them, else
        `data` ((examples, head kind) pairs, when loaded), else say the check could not cover it."""
        if not self.active:
            return
        stored = load_train_hashes(folder) if Path(folder).is_dir() else None
        if stored is not None:
            self._check(source, stored)
        elif data is not None:
            self._check(source, sources_hashes(data))
        else:
            self.not_covered.append(f"{source}: {folder} has no {HASHES_FILE} (saved by an older adapterx)")
            from rich.markup import escape

            from adapterx.report.console import console

            console.print(f"[yellow]note[/]: the leakage check could not cover {escape(source)}: "
                          f"{escape(str(folder))} has no {HASHES_FILE} (modules saved by an older adapterx)",
                          highlight=False)

    def check_dev(self, source: str, examples: list[dict], kind: str) -> None:
        """Check the English dev set that selects the epoch: nothing trains on it, but picking
        weights by their score on evaluation texts still favours them, so an overlap is warned
        about (whatever `data.leakage` says, unless off) and recorded, never refused."""
        if not self.active:
            return
        self.checked.append(source)
        overlap = self._overlap(source, examples_hashes(examples, kind))
        if overlap is None:
            return
        self.dev_overlaps.append(overlap)
        from rich.markup import escape

        from adapterx.report.console import console

        console.print(f"[yellow]warning[/]: {escape(self.describe(overlap))} (it picks the epoch, it is not "
                      f"trained on, so the run goes on; training.select=last keeps the final weights "
                      f"instead)", highlight=False)

    def _check(self, source: str, train_hashes: np.ndarray) -> None:
        self.checked.append(source)
        overlap = self._overlap(source, train_hashes)
        if overlap is not None:
            self.overlaps.append(overlap)
            self._enforce(overlap)

    def _overlap(self, source: str, hashes: np.ndarray) -> Overlap | None:
        """The evaluation examples whose texts `hashes` contain, or None."""
        hit = np.flatnonzero(np.isin(self._hashes, hashes))
        if not hit.size:
            return None
        where = [self._where[i] for i in hit]
        affected: dict[str, set[int]] = {}
        for lang, idx, _, _ in where:
            affected.setdefault(lang, set()).add(idx)
        shown = [f"{lang} {label}: {_clip(' / '.join(parts))}"
                 for lang, _, label, parts in where[:N_EXAMPLES_SHOWN]]
        return Overlap(source, len(where), {k: len(v) for k, v in sorted(affected.items())}, shown)

    def _enforce(self, overlap: Overlap) -> None:
        """Refuse (AdapterxError) or warn, as the mode and the tolerance say."""
        over = {lang: n for lang, n in overlap.per_language.items()
                if n > self.tolerance * self.sizes.get(lang, 0)}
        text = self.describe(overlap)
        if self.mode == "refuse" and over:
            raise AdapterxError(
                text, "remove those items from the training data (or evaluate on a split they are "
                      "not in); to run anyway pass leakage=warn (data.leakage=off skips the check)")
        from rich.markup import escape

        from adapterx.report.console import console

        within = "" if over else f" (within data.leakage_tolerance={self.tolerance:g}, so the run goes on)"
        console.print(f"[yellow]warning[/]: {escape(text)}{within}", highlight=False)

    def describe(self, overlap: Overlap) -> str:
        """Counts and a few examples of an overlap, for the user."""
        langs = ", ".join(f"{k}: {v} of {self.sizes.get(k, '?')}" for k, v in overlap.per_language.items())
        lines = [f"{overlap.source} contains {overlap.n_texts} text(s) of the {self.target} {self.split} "
                 f"evaluation examples (examples affected per language: {langs})"]
        lines.extend(f"  e.g. {s}" for s in overlap.shown)
        return "\n".join(lines)

    def record(self) -> dict:
        """What results.json keeps about the check."""
        return {"mode": self.mode, "tolerance": self.tolerance, "min_chars": MIN_CHARS,
                "checked": self.checked, "not_covered": self.not_covered,
                "overlaps": [{"source": o.source, "texts": o.n_texts, "examples": o.per_language}
                             for o in self.overlaps],
                "dev_overlaps": [{"source": o.source, "texts": o.n_texts, "examples": o.per_language}
                                 for o in self.dev_overlaps]}


def _clip(text: str, width: int = 100) -> str:
    text = " ".join(text.split())
    return repr(text if len(text) <= width else text[:width - 1] + "…")


def guard_for_run(task, cfg, split: str, langs: list[str], train_ex: list[dict] | None,
                  dev_ex: list[dict] | None = None) -> LeakageGuard:
    """Index a target run's evaluation sets (as evaluated: `--langs`, `--eval-split`,
    `--max-eval-examples`) and check the target's English training data (when given) against them,
    and the English dev set that selects its epoch (warned about only)."""
    from adapterx.data.loading import load_eval_examples

    mode, tolerance = cfg.data.leakage, cfg.data.leakage_tolerance
    eval_sets = {} if mode == "off" or task.kind == "retrieval" else {
        lang: load_eval_examples(task, split, lang, cfg.data_dir, cfg.training.max_eval_examples)
        for lang in langs}
    guard = LeakageGuard.for_eval(mode, tolerance, task.name, split, task.kind, eval_sets)
    if train_ex is not None:
        guard.check_examples(f"{task.train_task} train (the target's training data)", train_ex, task.kind)
    if dev_ex is not None:
        guard.check_dev(f"{task.train_task} English dev (model selection)", dev_ex, task.kind)
    return guard


def check_saved(task, cfg, split: str, langs: list[str], folder: Path, meta: dict) -> dict:
    """`adapterx eval` of a saved module or run: check what it was trained on, from the hashes
    saved beside it (and beside each intermediate module it uses); returns the record."""
    guard = guard_for_run(task, cfg, split, langs, None)
    what = "the run's target training data" if meta.get("kind") == "target" else "module"
    guard.check_module(f"{meta.get('task')} train ({what}, {folder})", folder)
    for record in meta.get("modules", []):
        guard.check_module(f"{record.get('task')} train (intermediate module)", Path(record.get("path", "")))
    return guard.record()
