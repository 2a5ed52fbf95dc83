"""Readers of sentence-retrieval data (Tatoeba, BUCC 2018) -> ``retrieval`` data (docs/SCHEMA.md).

Retrieval targets have no training data; these files are only embedded and matched, so the readers
check what would silently corrupt a score: parallel files of different lengths, duplicate ids, and
gold pairs naming sentences that are not in the files.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from adapterx.data.bad_rows import bad_row
from adapterx.data.readers import check_file, nonempty, read_text, text_lines
from adapterx.errors import DataError


def _sentence_lines(path: Path) -> list[tuple[int, str]]:
    """Return ``(line_number, stripped_text)`` for each line; a blank line inside is an error."""
    out = []
    for lineno, raw in enumerate(text_lines(read_text(path)), start=1):
        text = raw.strip()
        if not text:
            # A blank line shifts the pairing of every later sentence (gold = same index).
            raise DataError("blank line: expected one sentence per line", path, lineno)
        out.append((lineno, text))
    return nonempty(out, path, "sentences")


def read_tatoeba(src_path: str | Path, eng_path: str | Path) -> list[dict[str, Any]]:
    """Read a Tatoeba pair (``tatoeba.<xxx>-eng.<xxx>`` + ``.eng``): line i of one translates line i.

    Returns one example per pair in file order: ``{"id": "<i>", "source": ..., "target": ...}``.
    """
    sp, ep = check_file(src_path), check_file(eng_path)
    src, eng = _sentence_lines(sp), _sentence_lines(ep)
    if len(src) != len(eng):
        raise DataError(f"{sp.name} has {len(src)} lines but {ep.name} has {len(eng)}; the files "
                        f"must be line-parallel ({sp} vs {ep})", ep)
    return [{"id": str(i), "source": s, "target": e}
            for i, ((_, s), (_, e)) in enumerate(zip(src, eng, strict=True))]


def _find(folder: Path, name: str, pair: str) -> Path:
    """Locate ``name`` in ``folder`` or in the release's per-pair subfolder ``folder/<pair>/``."""
    for candidate in (folder / name, folder / pair / name):
        if candidate.is_file():
            return candidate
    return folder / name


def _id_text_map(path: Path) -> dict[str, str]:
    """Read BUCC sentence lines ``id<TAB>sentence`` into an id -> text map (ids must be unique)."""
    sentences: dict[str, str] = {}
    for lineno, raw in enumerate(text_lines(read_text(check_file(path))), start=1):
        if not raw.strip():
            continue
        with bad_row(path, lineno):
            fields = raw.split("\t")
            if len(fields) != 2:
                raise DataError(f"expected 'id<TAB>sentence' (2 fields), found {len(fields)}", path, lineno)
            if not fields[0].strip() or not fields[1].strip():
                raise DataError("empty sentence id or text in 'id<TAB>sentence'", path, lineno)
            sent_id = fields[0].strip()
            if sent_id in sentences:
                raise DataError(f"duplicate sentence id {sent_id!r}", path, lineno)
            sentences[sent_id] = fields[1].strip()
    nonempty(list(sentences), path, "sentences")
    return sentences


def read_bucc(folder: str | Path, src_lang: str, split: str) -> dict[str, Any]:
    """Read one BUCC 2018 language pair and split, as the release names its files.

    Files ``<src>-en.<split>.<src>`` and ``<src>-en.<split>.en`` (lines ``id<TAB>sentence``) and
    ``<src>-en.<split>.gold`` (lines ``src_id<TAB>en_id``), either directly in ``folder`` (XTREME's
    flattened ``bucc2018/`` folder, splits ``dev`` / ``test``) or in ``folder/<src>-en/`` (the
    release archives, splits ``sample`` / ``training`` / ``test``).

    Returns ``{"source": {id: text}, "target": {id: text}, "gold": [(src_id, en_id), ...],
    "note": str}``. The test split's gold alignments are not public (XTREME deletes
    ``*.test.gold``), so a missing gold file for ``test`` gives ``gold == []`` and a ``note`` saying
    so (score such a split with an external scorer, not by F1 against ``[]``); for any other split a
    missing gold file is an error, since thresholds are tuned on it. ``note`` is ``""`` otherwise.
    """
    base = Path(folder)
    pair = f"{src_lang}-en"
    source = _id_text_map(check_file(_find(base, f"{pair}.{split}.{src_lang}", pair)))
    target = _id_text_map(check_file(_find(base, f"{pair}.{split}.en", pair)))
    gold_path = _find(base, f"{pair}.{split}.gold", pair)
    if not gold_path.is_file():
        if split != "test":
            check_file(gold_path)  # raises, naming the expected gold file
        note = (f"no gold file {gold_path.name} (the BUCC 2018 test alignments are not public); "
                "gold is empty")
        return {"source": source, "target": target, "gold": [], "note": note}
    gold: list[tuple[str, str]] = []
    for lineno, raw in enumerate(text_lines(read_text(gold_path)), start=1):
        if not raw.strip():
            continue
        with bad_row(gold_path, lineno):
            fields = [f.strip() for f in raw.split("\t")]
            if len(fields) != 2:
                raise DataError(f"expected 'src_id<TAB>en_id' (2 fields), found {len(fields)}",
                                gold_path, lineno)
            src_id, en_id = fields
            # A gold id absent from the sentence files means files from different splits or pairs.
            for sid, sents, lang in ((src_id, source, src_lang), (en_id, target, "en")):
                if sid not in sents:
                    raise DataError(f"gold id {sid!r} is not in the {lang} sentence file "
                                    f"{pair}.{split}.{lang}", gold_path, lineno)
            gold.append((src_id, en_id))
    return {"source": source, "target": target, "gold": gold, "note": ""}
