"""Readers for the full task set -> normalized examples (docs/SCHEMA.md).

Classification (PAWS-X, ANLI, SNLI, QQP, SST-2), multiple choice (HellaSwag, CosmosQA,
CommonsenseQA) and MLQA live here; tagging readers are in ``readers_tagging`` and retrieval readers
in ``readers_retrieval``, re-exported below so that one import reaches every reader. As in
``readers``, fields are taken by name, never position, and a malformed row raises ``DataError``
naming the file and line.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

from adapterx.data.bad_rows import bad_row
from adapterx.data.readers import (
    NLI_LABELS, check_file, iter_jsonl, nli_label, nonempty, read_squad_json, read_text, read_tsv_dicts,
    string_field,
)
from adapterx.data.readers_retrieval import read_bucc, read_tatoeba
from adapterx.data.readers_tagging import UPOS_TAGS, read_ccg, read_conllu_upos, read_panx
from adapterx.errors import DataError

__all__ = [
    "ANLI_LABELS", "QQP_LABELS", "SST2_LABELS", "UPOS_TAGS",
    "read_anli_jsonl", "read_bucc", "read_ccg", "read_commonsenseqa_jsonl", "read_conllu_upos",
    "read_cosmosqa_csv", "read_hellaswag_jsonl", "read_mlqa_json", "read_panx", "read_pawsx_tsv",
    "read_qqp_tsv", "read_snli_jsonl", "read_sst2_tsv", "read_tatoeba",
]

ANLI_LABELS: dict[str, str] = {"e": "entailment", "n": "neutral", "c": "contradiction"}
QQP_LABELS: dict[str, str] = {"0": "not_duplicate", "1": "duplicate"}
SST2_LABELS: dict[str, str] = {"0": "negative", "1": "positive"}
CSQA_KEYS = ("A", "B", "C", "D", "E")


def _label_name(value: str, names: dict[str, str], column: str, path: Path, line: int) -> str:
    """Map a raw label value (``"0"`` / ``"1"`` / ``"e"`` ...) to its label name."""
    value = value.strip()
    if value not in names:
        raise DataError(f"bad {column} {value!r}; valid values: {', '.join(names)}", path, line)
    return names[value]


def _choice_index(value: Any, n_choices: int, path: Path, line: int | None, where: str = "") -> int:
    """Return a 0-based answer index from an int or a digit string (CSV / JSON labels)."""
    # bool is an int subclass; `true` in a label field is a broken file, not choice 1.
    index = int(value.strip()) if isinstance(value, str) and value.strip().isdigit() else value
    if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < n_choices:
        raise DataError(f"{where}bad label {value!r}; valid values: 0..{n_choices - 1}", path, line)
    return index


# ---------------------------------------------------------------------------------------------
# Classification
# ---------------------------------------------------------------------------------------------

def read_pawsx_tsv(path: str | Path) -> list[dict[str, Any]]:
    """Read a PAWS-X TSV (``x-final/<lang>/{translated_train,dev_2k,test_2k}.tsv``, en ``train.tsv``).

    Columns ``id``, ``sentence1``, ``sentence2``, ``label``; labels stay the names ``"0"`` (not a
    paraphrase) and ``"1"`` (paraphrase), as XTREME reports them.
    """
    p = check_file(path)
    examples = []
    for lineno, row in read_tsv_dicts(p, required=("id", "sentence1", "sentence2", "label")):
        with bad_row(p, lineno):
            examples.append({"id": row["id"], "text_a": row["sentence1"], "text_b": row["sentence2"],
                             "label": _label_name(row["label"], {"0": "0", "1": "1"}, "label", p, lineno)})
    return nonempty(examples, p)


def read_anli_jsonl(path: str | Path) -> list[dict[str, Any]]:
    """Read ANLI ``R{1,2,3}/{train,dev,test}.jsonl`` (``uid``, ``context``, ``hypothesis``, e/n/c)."""
    p = check_file(path)
    examples = []
    for lineno, row in iter_jsonl(p):
        with bad_row(p, lineno):
            examples.append({
                "id": string_field(row, "uid", p, lineno),
                "text_a": string_field(row, "context", p, lineno),
                "text_b": string_field(row, "hypothesis", p, lineno),
                "label": _label_name(string_field(row, "label", p, lineno), ANLI_LABELS, "label", p, lineno),
            })
    return nonempty(examples, p)


def read_snli_jsonl(path: str | Path) -> list[dict[str, Any]]:
    """Read SNLI 1.0 ``snli_1.0_{train,dev,test}.jsonl``; rows with gold_label '-' are skipped."""
    p = check_file(path)
    examples = []
    for n, (lineno, row) in enumerate(iter_jsonl(p)):
        with bad_row(p, lineno):
            string_field(row, "gold_label", p, lineno)  # present and a string, before nli_label reads it
            label = nli_label(row, "gold_label", NLI_LABELS, p, lineno)
            if label is None:  # no annotator consensus: not an example
                continue
            examples.append({
                "id": str(row.get("pairID", n)),
                "text_a": string_field(row, "sentence1", p, lineno),
                "text_b": string_field(row, "sentence2", p, lineno),
                "label": label,
            })
    return nonempty(examples, p)


def read_qqp_tsv(path: str | Path) -> list[dict[str, Any]]:
    """Read GLUE QQP ``qqp/{train,dev,test}.tsv``; ``is_duplicate`` 0/1 -> not_duplicate/duplicate.

    The GLUE test file has no ``is_duplicate`` column: its examples get ``label == ""``.
    """
    p = check_file(path)
    rows = read_tsv_dicts(p, required=("id", "question1", "question2"))
    examples = []
    for lineno, row in rows:
        with bad_row(p, lineno):
            label = ("" if "is_duplicate" not in row
                     else _label_name(row["is_duplicate"], QQP_LABELS, "is_duplicate", p, lineno))
            examples.append({"id": row["id"], "text_a": row["question1"], "text_b": row["question2"],
                             "label": label})
    return nonempty(examples, p)


def read_sst2_tsv(path: str | Path) -> list[dict[str, Any]]:
    """Read GLUE SST-2 ``sst2/{train,dev,test}.tsv`` (``sentence``, ``label`` 0/1 -> negative/positive).

    Single-sentence task: ``text_b`` is None. The test file (``index``, ``sentence``) is unlabelled.
    """
    p = check_file(path)
    examples = []
    for lineno, row in read_tsv_dicts(p, required=("sentence",)):
        with bad_row(p, lineno):
            label = "" if "label" not in row else _label_name(row["label"], SST2_LABELS, "label", p, lineno)
            examples.append({"id": row.get("index", str(lineno)), "text_a": row["sentence"],
                             "text_b": None, "label": label})
    return nonempty(examples, p)


# ---------------------------------------------------------------------------------------------
# Multiple choice
# ---------------------------------------------------------------------------------------------

def read_hellaswag_jsonl(path: str | Path) -> list[dict[str, Any]]:
    """Read HellaSwag ``hellaswag_{train,val,test}.jsonl``: context = ``ctx``, 4 ``endings``.

    HellaSwag has no question, so ``question`` is ``""``; the test file has no label (-> -1).
    """
    p = check_file(path)
    examples = []
    for n, (lineno, row) in enumerate(iter_jsonl(p)):
        with bad_row(p, lineno):
            endings = row.get("endings")
            if not (isinstance(endings, list) and len(endings) == 4
                    and all(isinstance(e, str) for e in endings)):
                raise DataError(f"field 'endings' must be a list of 4 strings, got {endings!r}",
                                p, lineno)
            label = row.get("label")
            examples.append({
                "id": str(row.get("ind", n)),
                "context": string_field(row, "ctx", p, lineno),
                "question": "",
                "choices": list(endings),
                "label": -1 if label is None else _choice_index(label, 4, p, lineno),
            })
    return nonempty(examples, p)


def read_cosmosqa_csv(path: str | Path) -> list[dict[str, Any]]:
    """Read CosmosQA ``cosmosqa/{train,valid}.csv`` by column names (``label`` 0..3; absent -> -1).

    CSV with quoting, so the csv module (not a TSV split) parses it; a quoted field may span lines,
    so each row is reported by the line it starts on.
    """
    p = check_file(path)
    reader = csv.reader(io.StringIO(read_text(p), newline=""), strict=True)
    answers = [f"answer{i}" for i in range(4)]
    try:
        header = [h.strip() for h in next(reader, [])]
        missing = [c for c in ("context", "question", *answers) if c not in header]
        if missing:
            have = ", ".join(header) or "none (empty file)"
            raise DataError(f"missing column(s) {', '.join(missing)} in the header; "
                            f"columns present: {have}", p, 1)
        examples = []
        start = reader.line_num + 1
        for fields in reader:
            lineno, start = start, reader.line_num + 1
            if not fields or not any(f.strip() for f in fields):
                continue
            with bad_row(p, lineno):
                if len(fields) != len(header):
                    raise DataError(f"expected {len(header)} comma-separated fields "
                                    f"({', '.join(header)}), found {len(fields)}", p, lineno)
                row = dict(zip(header, fields, strict=True))
                examples.append({
                    "id": row.get("id") or str(len(examples)),
                    "context": row["context"], "question": row["question"],
                    "choices": [row[a] for a in answers],
                    "label": _choice_index(row["label"], 4, p, lineno) if "label" in row else -1,
                })
    except csv.Error as e:  # e.g. a quote opened and never closed
        raise DataError(f"malformed CSV ({e})", p, reader.line_num) from None
    return nonempty(examples, p)


def read_commonsenseqa_jsonl(path: str | Path) -> list[dict[str, Any]]:
    """Read CommonsenseQA ``{train,dev,test}_rand_split.jsonl`` (no context -> ``context == ""``).

    The five choices are ordered by their labels A-E whatever their order in the file, and
    ``label`` is the index of ``answerKey`` (-1 in the unlabelled test file).
    """
    p = check_file(path)
    examples = []
    for lineno, row in iter_jsonl(p):
        with bad_row(p, lineno):
            question = row.get("question")
            if not isinstance(question, dict):
                raise DataError("field 'question' must be an object with 'stem' and 'choices'",
                                p, lineno)
            choices = question.get("choices")
            if not isinstance(choices, list) or not all(isinstance(c, dict) for c in choices):
                raise DataError("field 'question.choices' must be a list of {label, text} objects",
                                p, lineno)
            by_key = {string_field(c, "label", p, lineno, "question.choices: "):
                      string_field(c, "text", p, lineno, "question.choices: ") for c in choices}
            if sorted(by_key) != list(CSQA_KEYS) or len(choices) != len(CSQA_KEYS):
                raise DataError(f"expected 5 choices labelled A-E, got labels "
                                f"{[c.get('label') for c in choices]}", p, lineno)
            key = row.get("answerKey")
            if key is not None and key not in CSQA_KEYS:
                raise DataError(f"bad answerKey {key!r}; valid values: {', '.join(CSQA_KEYS)}",
                                p, lineno)
            examples.append({
                "id": string_field(row, "id", p, lineno),
                "context": "",
                "question": string_field(question, "stem", p, lineno, "question: "),
                "choices": [by_key[k] for k in CSQA_KEYS],
                "label": -1 if key is None else CSQA_KEYS.index(key),
            })
    return nonempty(examples, p)


# ---------------------------------------------------------------------------------------------
# Extractive QA
# ---------------------------------------------------------------------------------------------

def read_mlqa_json(path: str | Path) -> list[dict[str, Any]]:
    """Read one MLQA file ``mlqa/{dev,test}/{split}-context-<c>-question-<q>.json`` (SQuAD format).

    MLQA is SQuAD v1.1 JSON with the context in language ``c`` and questions in ``q``; XTREME
    evaluates the ``c == q`` files. Offsets are checked (and nudged when slightly off) as for SQuAD.
    """
    return read_squad_json(path)
