"""Readers of each dataset's own distribution format -> normalized examples (docs/SCHEMA.md).

Readers go by column / field names, never positions, so that a user can unpack the official
archives into ``--data-dir`` unchanged. Every malformed row raises ``DataError`` naming the file and
the line (or, for JSON documents, the JSON path such as ``data[3].paragraphs[2].qas[0]``).
Row-level checks run inside ``with bad_row(path, line):`` so that ``data.on_bad_row=skip`` can
leave a malformed row out (adapterx.data.bad_rows); file-level checks stay errors.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Collection, Iterator, Sequence
from pathlib import Path
from typing import Any

from adapterx.data.bad_rows import bad_row, skipped_in
from adapterx.errors import DataError

NLI_LABELS: tuple[str, ...] = ("entailment", "neutral", "contradiction")
COPA_QUESTIONS: dict[str, str] = {
    "cause": "What was the cause?",
    "effect": "What happened as a result?",
}
# TyDiQA ids start with the language's English name ("arabic-1234-0"); XTREME uses these codes.
TYDIQA_PREFIXES: dict[str, str] = {
    "arabic": "ar", "bengali": "bn", "english": "en", "finnish": "fi", "indonesian": "id",
    "korean": "ko", "russian": "ru", "swahili": "sw", "telugu": "te",
}

_LAYOUT_HINT = (
    "unpack the official archive into --data-dir DIR, one folder per dataset with the files "
    "named as published (e.g. DIR/squad/train-v1.1.json, DIR/xnli/xnli.dev.tsv); see the "
    "README, section 'Data'"
)


# ---------------------------------------------------------------------------------------------
# Generic helpers (shared with readers_more, readers_tagging and readers_retrieval)
# ---------------------------------------------------------------------------------------------

def check_file(path: str | Path) -> Path:
    """Return ``path`` as a Path, or raise DataError saying which file is missing and how to get it."""
    p = Path(path)
    if not p.is_file():
        what = "is a folder, not a file" if p.is_dir() else "not found"
        raise DataError(f"data file {p.name!r} {what} (expected at {p})", hint=_LAYOUT_HINT)
    return p


def read_text(path: Path) -> str:
    """Read a whole file as UTF-8 (a BOM is tolerated), turning decode errors into DataError."""
    from adapterx.textio import read_utf8

    return read_utf8(path)


def text_lines(text: str) -> list[str]:
    """Split text into lines at newline characters only, dropping a carriage return before each."""
    # str.splitlines() also breaks at U+2028 / U+0085, which JSON strings and TSV text may
    # legitimately contain; that would split a row and shift every later line number.
    lines = [line.removesuffix("\r") for line in text.split("\n")]
    if lines and not lines[-1]:
        lines.pop()
    return lines


def nonempty(examples: list, path: Path, what: str = "examples") -> list:
    """Raise DataError on an empty split: silently training on nothing hides a broken download."""
    if not examples:
        if skipped := skipped_in(path):
            raise DataError(f"no {what} left: all {skipped} rows were malformed and skipped "
                            "(data.on_bad_row=skip)", path)
        raise DataError(f"no {what} found; the file is empty or has only a header", path)
    return examples


def string_field(row: dict, name: str, path: Path, line: int | None, where: str = "") -> str:
    """Return the string field ``name`` of a row, or raise DataError naming the field."""
    value = row.get(name)
    if value is None:
        have = ", ".join(sorted(map(str, row))) or "none"
        raise DataError(f"{where}missing field {name!r} (fields present: {have})", path, line)
    if not isinstance(value, str):
        raise DataError(f"{where}field {name!r} must be a string, got {value!r}", path, line)
    return value


def iter_jsonl(path: str | Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield ``(line_number, object)`` for each non-blank line of a JSON-lines file."""
    p = check_file(path)
    for lineno, raw in enumerate(text_lines(read_text(p)), start=1):
        if not raw.strip():
            continue
        with bad_row(p, lineno) as row:
            try:
                obj = json.loads(raw)
            except json.JSONDecodeError as e:
                raise DataError(f"invalid JSON ({e.msg} at column {e.colno})", p, lineno) from None
            if not isinstance(obj, dict):
                raise DataError(f"expected a JSON object per line, got {type(obj).__name__}", p, lineno)
        if not row.skipped:
            yield lineno, obj


def read_jsonl(path: str | Path) -> list[dict[str, Any]]:
    """Read a JSON-lines file into a list of objects (blank lines skipped; empty file is an error)."""
    p = check_file(path)
    return nonempty([obj for _, obj in iter_jsonl(p)], p, "JSON lines")


def read_tsv_dicts(path: str | Path, required: Sequence[str] = ()) -> list[tuple[int, dict[str, str]]]:
    """Read a TSV with a header row into ``(line_number, {column: value})`` pairs.

    Quotes are literal text in GLUE / XNLI files, so quoting is off (``csv.QUOTE_NONE``).
    """
    p = check_file(path)
    text = read_text(p)
    reader = csv.reader(text_lines(text), delimiter="\t", quoting=csv.QUOTE_NONE)
    header = next(reader, None)
    if not header or not any(h.strip() for h in header):
        raise DataError("empty file: expected a header row of tab-separated column names", p, 1)
    header = [h.strip() for h in header]
    missing = [c for c in required if c not in header]
    if missing:
        raise DataError(f"missing column(s) {', '.join(map(repr, missing))} in the header; "
                        f"columns present: {', '.join(header)}", p, 1)
    rows: list[tuple[int, dict[str, str]]] = []
    for lineno, fields in enumerate(reader, start=2):
        if not any(f.strip() for f in fields):
            continue
        # Trailing empty fields (a stray tab at the end of a line) are harmless; anything else
        # means a tab inside a text field or a truncated row, and the columns would be shifted.
        while len(fields) > len(header) and not fields[-1]:
            fields = fields[:-1]
        with bad_row(p, lineno):
            if len(fields) != len(header):
                raise DataError(f"expected {len(header)} tab-separated fields ({', '.join(header)}), "
                                f"found {len(fields)}", p, lineno)
            rows.append((lineno, dict(zip(header, fields, strict=True))))
    return rows


# ---------------------------------------------------------------------------------------------
# Classification: GLUE MNLI-style TSV, XNLI
# ---------------------------------------------------------------------------------------------

def nli_label(row: dict[str, str], column: str | None, labels: Collection[str],
               path: Path, line: int) -> str | None:
    """Return the row's label name, ``""`` when the file has no label column, None to skip it."""
    if column is None:
        return ""
    value = row[column].strip()
    if value == "-":  # annotators reached no consensus (SNLI / MNLI); not an example
        return None
    if value not in labels:
        raise DataError(f"unknown {column} {value!r}; valid values: {', '.join(labels)} "
                        "(or '-' for rows without a consensus label)", path, line)
    return value


def read_glue_nli_tsv(path: str | Path, labels: Collection[str] = NLI_LABELS) -> list[dict[str, Any]]:
    """Read a GLUE MNLI-style TSV (``sentence1``, ``sentence2``, ``gold_label``) as classification."""
    p = check_file(path)
    rows = read_tsv_dicts(p, required=("sentence1", "sentence2"))
    header = set(rows[0][1]) if rows else set()
    label_col = "gold_label" if "gold_label" in header else "label" if "label" in header else None
    id_col = "pairID" if "pairID" in header else "index" if "index" in header else None
    examples = []
    for lineno, row in rows:
        with bad_row(p, lineno):
            label = nli_label(row, label_col, labels, p, lineno)
            if label is None:
                continue
            examples.append({
                "id": row[id_col] if id_col else str(lineno),
                "text_a": row["sentence1"], "text_b": row["sentence2"], "label": label,
            })
    return nonempty(examples, p)


def read_xnli_tsv(path: str | Path, languages: Collection[str] | None = None,
                  labels: Collection[str] = NLI_LABELS) -> dict[str, list[dict[str, Any]]]:
    """Read XNLI-1.0 ``xnli.{dev,test}.tsv`` (all languages in one file) into per-language examples."""
    p = check_file(path)
    rows = read_tsv_dicts(p, required=("language", "gold_label", "sentence1", "sentence2"))
    has_pair_id = bool(rows) and "pairID" in rows[0][1]
    wanted = set(languages) if languages is not None else None
    by_lang: dict[str, list[dict[str, Any]]] = {}
    present: set[str] = set()
    for lineno, row in rows:
        with bad_row(p, lineno):
            lang = row["language"].strip()
            if not lang:
                raise DataError("empty 'language' field", p, lineno)
            present.add(lang)
            if wanted is not None and lang not in wanted:
                continue
            label = nli_label(row, "gold_label", labels, p, lineno)
            if label is None:
                continue
            examples = by_lang.setdefault(lang, [])
            examples.append({
                "id": row["pairID"] if has_pair_id else f"{lang}-{len(examples)}",
                "text_a": row["sentence1"], "text_b": row["sentence2"], "label": label,
            })
    nonempty(rows, p, "XNLI rows")
    if absent := sorted((wanted if wanted is not None else present) - set(by_lang)):
        raise DataError(f"no labelled rows for language(s) {', '.join(absent)}; "
                        f"languages present: {', '.join(sorted(present))}", p)
    return by_lang


# ---------------------------------------------------------------------------------------------
# Multiple choice: SocialIQA, COPA / XCOPA
# ---------------------------------------------------------------------------------------------

def read_siqa(jsonl_path: str | Path, labels_path: str | Path) -> list[dict[str, Any]]:
    """Read the original SocialIQA release (``{split}.jsonl`` + ``{split}-labels.lst``, labels 1..3)."""
    jp, lp = check_file(jsonl_path), check_file(labels_path)
    records = list(iter_jsonl(jp))
    label_lines = text_lines(read_text(lp))
    while label_lines and not label_lines[-1].strip():  # a trailing newline is not a label
        label_lines.pop()
    nonempty(records, jp, "SocialIQA questions")
    # Labels pair with the non-blank lines of the .jsonl by position, counting lines that
    # data.on_bad_row=skip left out, so that one bad line does not shift every later label.
    position = {lineno: n for n, lineno in enumerate(
        i for i, raw in enumerate(text_lines(read_text(jp)), start=1) if raw.strip())}
    if len(position) != len(label_lines):
        raise DataError(f"{jp.name} has {len(position)} questions but {lp.name} has "
                        f"{len(label_lines)} labels; the files must have one label per question "
                        f"({jp} vs {lp})", lp)
    examples = []
    split = jp.name.removesuffix(".jsonl")
    for lineno, row in records:
        n = position[lineno]
        with bad_row(jp, lineno):
            label = label_lines[n].strip()
            if label not in ("1", "2", "3"):
                raise DataError(f"bad label {label!r}; valid values: 1, 2, 3", lp, n + 1)
            examples.append({
                "id": str(row["id"]) if "id" in row else f"{split}-{n}",
                "context": string_field(row, "context", jp, lineno),
                "question": string_field(row, "question", jp, lineno),
                "choices": [string_field(row, k, jp, lineno) for k in ("answerA", "answerB", "answerC")],
                "label": int(label) - 1,
            })
    return nonempty(examples, jp, "SocialIQA questions")


def read_copa_jsonl(path: str | Path) -> list[dict[str, Any]]:
    """Read SuperGLUE COPA / XCOPA jsonl into multiple-choice examples (label absent -> -1)."""
    p = check_file(path)
    examples = []
    for n, (lineno, row) in enumerate(iter_jsonl(p)):
        with bad_row(p, lineno):
            kind = string_field(row, "question", p, lineno)
            if kind not in COPA_QUESTIONS:
                raise DataError(f"bad question {kind!r}; valid values: {', '.join(COPA_QUESTIONS)}",
                                p, lineno)
            label = row.get("label", -1)
            # bool is an int subclass; `true` in a label field is a broken file, not choice 1.
            if label is None:
                label = -1
            if isinstance(label, bool) or not isinstance(label, int) or label not in (-1, 0, 1):
                raise DataError(f"bad label {label!r}; valid values: 0, 1 (or absent / -1 when "
                                "unlabelled)", p, lineno)
            examples.append({
                # idx is what XTREME's XCOPA predictions are keyed by; files without it count lines.
                "id": str(row.get("idx", n)),
                "context": string_field(row, "premise", p, lineno),
                "question": COPA_QUESTIONS[kind],
                "choices": [string_field(row, "choice1", p, lineno), string_field(row, "choice2", p, lineno)],
                "label": label,
            })
    return nonempty(examples, p)


# ---------------------------------------------------------------------------------------------
# Extractive QA: SQuAD v1.1 / v2.0, XQuAD, TyDiQA-GoldP
# ---------------------------------------------------------------------------------------------

def _load_json(path: Path) -> Any:
    """Parse a whole JSON document, reporting syntax errors with their line."""
    text = read_text(path)
    if not text.strip():
        raise DataError("empty file: expected a JSON document", path)
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise DataError(f"invalid JSON ({e.msg} at column {e.colno})", path, e.lineno) from None


def _as_list(value: Any, where: str, path: Path) -> list:
    """Return ``value`` if it is a JSON array, else raise DataError naming the JSON path."""
    if not isinstance(value, list):
        raise DataError(f"{where}: expected a list, got {type(value).__name__}", path)
    return value


def _fix_answer_start(context: str, text: str, start: Any, where: str, path: Path) -> int:
    """Return a verified character offset of ``text`` in ``context``.

    XQuAD and TyDiQA have some answers whose offsets are a few characters off; when the text does
    occur in the context we take the occurrence nearest to the stated offset rather than failing.
    """
    if isinstance(start, bool) or not isinstance(start, int):
        raise DataError(f"{where}: answer_start must be an integer, got {start!r}", path)
    if not text:
        raise DataError(f"{where}: empty answer text", path)
    if context[start:start + len(text)] == text:
        return start
    hits, i = [], context.find(text)
    while i != -1:
        hits.append(i)
        i = context.find(text, i + 1)
    if not hits:
        raise DataError(f"{where}: answer text {text!r} does not occur in the context "
                        f"(answer_start {start})", path)
    return min(hits, key=lambda h: (abs(h - start), h))


def _iter_squad(doc: Any, path: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    """Yield ``(json_path, example)`` for a SQuAD-format document, checking structure and offsets."""
    if not isinstance(doc, dict) or "data" not in doc:
        raise DataError("not a SQuAD-format file: expected a JSON object with a 'data' list", path)
    for a, article in enumerate(_as_list(doc["data"], "data", path)):
        art_where = f"data[{a}]"
        with bad_row(path, art_where) as row:
            if not isinstance(article, dict):
                raise DataError(f"{art_where}: expected an object with 'paragraphs'", path)
            title = article.get("title", "")
            paragraphs = _as_list(article.get("paragraphs"), f"{art_where}.paragraphs", path)
        if row.skipped:
            continue
        for pi, para in enumerate(paragraphs):
            p_where = f"{art_where}.paragraphs[{pi}]"
            with bad_row(path, p_where) as row:
                if not isinstance(para, dict):
                    raise DataError(f"{p_where}: expected an object with 'context' and 'qas'", path)
                context = string_field(para, "context", path, None, f"{p_where}: ")
                qas = _as_list(para.get("qas"), f"{p_where}.qas", path)
            if row.skipped:
                continue
            for qi, qa in enumerate(qas):
                example = None
                with bad_row(path, f"{p_where}.qas[{qi}]"):
                    where, example = _squad_question(qa, context, title, f"{p_where}.qas[{qi}]", path)
                if example is not None:
                    yield where, example


def _squad_question(qa: Any, context: str, title: Any, where: str, path: Path) -> tuple[str, dict[str, Any]]:
    """One SQuAD question object -> (json path with id, example), checking answers and offsets."""
    if not isinstance(qa, dict):
        raise DataError(f"{where}: expected an object with 'id' and 'question'", path)
    qid = qa.get("id")
    if not isinstance(qid, (str, int)) or isinstance(qid, bool):
        raise DataError(f"{where}: missing or invalid field 'id'", path)
    where = f"{where} (id {qid})"
    question = string_field(qa, "question", path, None, f"{where}: ")
    texts: list[str] = []
    starts: list[int] = []
    # v2.0 unanswerable questions keep 'plausible_answers' only; they have no answer.
    if not qa.get("is_impossible", False):
        for ai, ans in enumerate(_as_list(qa.get("answers", []), f"{where}.answers", path)):
            a_where = f"{where}.answers[{ai}]"
            if not isinstance(ans, dict):
                raise DataError(f"{a_where}: expected an object", path)
            text = string_field(ans, "text", path, None, f"{a_where}: ")
            if "answer_start" not in ans:
                raise DataError(f"{a_where}: missing field 'answer_start'", path)
            starts.append(_fix_answer_start(context, text, ans["answer_start"], a_where, path))
            texts.append(text)
    return where, {"id": str(qid), "title": str(title or ""), "context": context,
                   "question": question, "answers": {"text": texts, "answer_start": starts}}


def read_squad_json(path: str | Path) -> list[dict[str, Any]]:
    """Read a SQuAD v1.1 / v2.0 (or XQuAD / MLQA) JSON file into QA examples."""
    p = check_file(path)
    return nonempty([ex for _, ex in _iter_squad(_load_json(p), p)], p, "questions")


def read_tydiqa_goldp_json(path: str | Path, languages: Collection[str] | None = None
                           ) -> dict[str, list[dict[str, Any]]]:
    """Read TyDiQA-GoldP v1.1 (one SQuAD-format file) split by the language prefix of each id."""
    p = check_file(path)
    wanted = set(languages) if languages is not None else None
    by_lang: dict[str, list[dict[str, Any]]] = {}
    present: set[str] = set()
    for where, ex in nonempty(list(_iter_squad(_load_json(p), p)), p, "questions"):
        with bad_row(p, where) as row:
            lang = TYDIQA_PREFIXES.get(ex["id"].split("-", 1)[0])
            if lang is None:
                raise DataError(f"{where}: id {ex['id']!r} has no known language prefix; "
                                f"valid prefixes: {', '.join(TYDIQA_PREFIXES)}", p)
        if row.skipped:
            continue
        present.add(lang)
        if wanted is None or lang in wanted:
            by_lang.setdefault(lang, []).append(ex)
    if wanted is not None and (absent := sorted(wanted - present)):
        raise DataError(f"no questions for language(s) {', '.join(absent)}; "
                        f"languages present: {', '.join(sorted(present))}", p)
    return by_lang
