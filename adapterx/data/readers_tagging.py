"""Readers of per-word tagging formats -> ``tagging`` examples (docs/SCHEMA.md).

Each example is ``{"id": str, "tokens": list[str], "tags": list[str]}`` with one tag per word, or
``tags == []`` for an unlabelled sentence. Malformed lines raise ``DataError`` naming file and line.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from adapterx.data.bad_rows import bad_row
from adapterx.data.readers import check_file, nonempty, read_text, text_lines
from adapterx.errors import DataError

# The 17 Universal POS tags of UD v2. Checking against them catches a file whose columns are
# shifted (XPOS or LEMMA in the UPOS slot) instead of silently training on the wrong labels.
UPOS_TAGS: frozenset[str] = frozenset(
    "ADJ ADP ADV AUX CCONJ DET INTJ NOUN NUM PART PRON PROPN PUNCT SCONJ SYM VERB X".split())
CONLLU_COLUMNS = ("ID", "FORM", "LEMMA", "UPOS", "XPOS", "FEATS", "HEAD", "DEPREL", "DEPS", "MISC")

_WORD_ID = re.compile(r"[1-9][0-9]*")
_RANGE_ID = re.compile(r"[1-9][0-9]*-[1-9][0-9]*")   # multi-word token, e.g. "3-4" for "don't"
_EMPTY_ID = re.compile(r"[0-9]+\.[1-9][0-9]*")        # empty node of enhanced UD, e.g. "5.1"
_SENT_ID = re.compile(r"#\s*sent_id\s*=\s*(.*\S)")
# The raw PAN-X release prefixes every token with its language ("de:Berlin"); XTREME strips it.
_PANX_PREFIX = re.compile(r"([a-z]{2,3}(?:-[a-z]+)*):(?=\S)")
_IOB_TAG = re.compile(r"O|[BI]-\S+")


def _example(path: Path, n: int, tokens: list[str], tags: list[str],
             sent_id: str | None = None) -> dict[str, Any]:
    """Build one tagging example; ids default to ``<file stem>-<sentence index>``."""
    return {"id": sent_id if sent_id is not None else f"{path.stem}-{n}",
            "tokens": tokens, "tags": tags}


# ---------------------------------------------------------------------------------------------
# UD-POS: CoNLL-U
# ---------------------------------------------------------------------------------------------

def read_conllu_upos(path: str | Path) -> list[dict[str, Any]]:
    """Read a UD CoNLL-U file into tagging examples: words from FORM, tags from UPOS.

    Comment lines are skipped (``# sent_id = ...`` becomes the example id). Multi-word token
    ranges (``3-4``) are skipped so that tags align with syntactic words, which is what UPOS
    annotates; empty nodes (``5.1``) are skipped because they have no surface form. A sentence whose
    UPOS column is all ``_`` is unlabelled (``tags == []``).
    """
    p = check_file(path)
    examples: list[dict[str, Any]] = []
    tokens: list[str] = []
    tags: list[str] = []
    sent_id: str | None = None
    bad = False  # a line of this sentence was malformed and skipped (data.on_bad_row=skip)

    def flush() -> None:
        nonlocal tokens, tags, sent_id, bad
        if tokens and not bad:  # a block of comments alone is not a sentence
            labelled = tags[0] != "_"
            examples.append(_example(p, len(examples), tokens, tags if labelled else [], sent_id))
        tokens, tags, sent_id, bad = [], [], None, False

    for lineno, raw in enumerate(text_lines(read_text(p)), start=1):
        if not raw.strip():
            flush()
            continue
        if raw.startswith("#"):
            if not tokens and (m := _SENT_ID.match(raw)):
                sent_id = m.group(1)
            continue
        if bad:  # the rest of a skipped sentence: its word IDs no longer line up
            continue
        with bad_row(p, lineno) as row:
            _conllu_word(raw, tokens, tags, p, lineno)
        bad = row.skipped
    flush()
    return nonempty(examples, p, "sentences")


def _conllu_word(raw: str, tokens: list[str], tags: list[str], p: Path, lineno: int) -> None:
    """Check one CoNLL-U word line and append its FORM and UPOS (ranges and empty nodes: nothing)."""
    fields = raw.split("\t")
    if len(fields) != len(CONLLU_COLUMNS):
        raise DataError(f"expected {len(CONLLU_COLUMNS)} tab-separated CoNLL-U columns "
                        f"({' '.join(CONLLU_COLUMNS)}), found {len(fields)}", p, lineno)
    tok_id, form, upos = fields[0], fields[1], fields[3]
    if _RANGE_ID.fullmatch(tok_id) or _EMPTY_ID.fullmatch(tok_id):
        return
    if not _WORD_ID.fullmatch(tok_id):
        raise DataError(f"bad word ID {tok_id!r}; expected an integer, a range like 3-4 or "
                        "an empty node like 5.1", p, lineno)
    if int(tok_id) != len(tokens) + 1:
        # Out-of-sequence IDs mean a missing blank line between sentences or a cut file.
        raise DataError(f"word ID {tok_id} out of sequence (expected {len(tokens) + 1}); "
                        "is a blank line between sentences missing?", p, lineno)
    if not form:
        raise DataError("empty FORM column", p, lineno)
    if upos != "_" and upos not in UPOS_TAGS:
        raise DataError(f"unknown UPOS tag {upos!r}; valid tags: {', '.join(sorted(UPOS_TAGS))} "
                        "(or '_' when unlabelled)", p, lineno)
    if tags and (upos == "_") != (tags[0] == "_"):
        raise DataError("UPOS '_' (unlabelled) mixed with real tags in one sentence", p, lineno)
    tokens.append(form)
    tags.append(upos)


# ---------------------------------------------------------------------------------------------
# PAN-X (WikiANN) NER as XTREME distributes it
# ---------------------------------------------------------------------------------------------

def read_panx(path: str | Path) -> list[dict[str, Any]]:
    """Read a PAN-X file (``panx/<lang>/{train,dev,test}``) into tagging examples.

    One ``token<TAB>tag`` per line, a blank line between sentences. The raw release writes tokens
    as ``de:Berlin``; XTREME's preprocessing strips that prefix and may drop the tags of test files.
    Both are accepted: the prefix is stripped only when *every* token of the file carries the same
    one, so that ordinary tokens containing a colon (``12:30``, ``http://...``) stay intact in
    already-processed files; a file without tag columns gives unlabelled examples (``tags == []``).
    """
    p = check_file(path)
    sentences: list[list[tuple[int, str, str | None]]] = [[]]
    labelled: bool | None = None
    bad: set[int] = set()  # sentences with a malformed line (data.on_bad_row=skip): left out
    for lineno, raw in enumerate(text_lines(read_text(p)), start=1):
        if not raw.strip():
            if sentences[-1] or len(sentences) - 1 in bad:
                sentences.append([])
            continue
        with bad_row(p, lineno) as row:
            fields = [f.strip() for f in raw.split("\t")]
            if len(fields) > 2:
                raise DataError(f"expected 'token<TAB>tag' (2 fields), found {len(fields)}", p, lineno)
            token, tag = fields[0], (fields[1] if len(fields) == 2 else None)
            if not token:
                raise DataError("empty token", p, lineno)
            if tag is None and " " in token and _IOB_TAG.fullmatch(token.rsplit(" ", 1)[1]):
                # 'Berlin B-LOC' with a space: reading it as an unlabelled token would lose the tags.
                raise DataError("token and tag separated by a space; PAN-X uses a tab", p, lineno)
            if tag is not None and not _IOB_TAG.fullmatch(tag):
                raise DataError(f"bad tag {tag!r}; expected O or B-/I-<type> (e.g. B-PER)", p, lineno)
            if labelled is None:
                labelled = tag is not None
            elif labelled != (tag is not None):
                raise DataError("a token line without a tag in a file with tags (or the reverse)",
                                p, lineno)
            sentences[-1].append((lineno, token, tag))
        if row.skipped:
            bad.add(len(sentences) - 1)
    if not sentences[-1]:
        sentences.pop()
    sentences = [sent for n, sent in enumerate(sentences) if n not in bad and sent]
    nonempty(sentences, p, "sentences")

    prefixes = {m.group(1) if (m := _PANX_PREFIX.match(tok)) else None
                for sent in sentences for _, tok, _ in sent}
    cut = len(prefixes.pop()) + 1 if len(prefixes) == 1 and None not in prefixes else 0
    return [_example(p, n, [tok[cut:] for _, tok, _ in sent],
                     [tag for _, _, tag in sent if tag is not None])
            for n, sent in enumerate(sentences)]


# ---------------------------------------------------------------------------------------------
# CCG supertagging
# ---------------------------------------------------------------------------------------------

def read_ccg(path: str | Path) -> list[dict[str, Any]]:
    """Read CCG supertags in the documented format: one sentence per line, ``token|tag`` items.

    Items are separated by single spaces (blank lines are ignored). A token may itself contain
    ``|`` (``a|b|N`` is the token ``a|b`` with tag ``N``), so each item is split on its *last*
    ``|``; CCG categories never contain ``|``. Three-part C&C items (``word|POS|supertag``) are not
    this format: they would read as token ``word|POS``.
    """
    p = check_file(path)
    examples: list[dict[str, Any]] = []
    for lineno, raw in enumerate(text_lines(read_text(p)), start=1):
        if not raw.strip():
            continue
        with bad_row(p, lineno):
            tokens: list[str] = []
            tags: list[str] = []
            # Split at spaces (and stray tabs) only, not str.split()'s Unicode whitespace: a no-break
            # space inside a token ("10\u00a0000") is part of the token.
            for item in (i for i in raw.replace("\t", " ").split(" ") if i):
                token, bar, tag = item.rpartition("|")
                if not bar or not token or not tag:
                    raise DataError(f"item {len(tokens) + 1} {item!r} is not 'token|tag'", p, lineno)
                tokens.append(token)
                tags.append(tag)
            examples.append(_example(p, len(examples), tokens, tags))
    return nonempty(examples, p, "sentences")
