"""Readers of the datasets' own formats: the shipped tiny data, malformed files, real samples."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from adapterx.data import readers as R
from adapterx.errors import DataError

TINY = Path(R.__file__).resolve().parents[1] / "presets" / "tiny_data"
SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
needs_shared = pytest.mark.skipif(not SHARED.is_dir(), reason="../shared/data not available")

XNLI_LANGS = {"ar", "bg", "de", "el", "en", "es", "fr", "hi", "ru", "sw", "th", "tr", "ur", "vi", "zh"}
XQUAD_LANGS = ["ar", "de", "el", "en", "es", "hi", "ro", "ru", "th", "tr", "vi", "zh"]
XCOPA_LANGS = ["et", "ht", "id", "it", "qu", "sw", "ta", "th", "tr", "vi", "zh"]
TYDIQA_LANGS = {"ar", "bn", "en", "fi", "id", "ko", "ru", "sw", "te"}


def assert_exact_answers(examples: list[dict]) -> None:
    """Every answer is the context's text at its offset (the contract the QA features rely on)."""
    for ex in examples:
        assert set(ex) == {"id", "title", "context", "question", "answers"}
        for text, start in zip(ex["answers"]["text"], ex["answers"]["answer_start"], strict=True):
            assert ex["context"][start:start + len(text)] == text, ex["id"]


def write(path: Path, text: str) -> Path:
    """Write a fixture file as UTF-8."""
    path.write_text(text, encoding="utf-8")
    return path


def squad_doc(context: str, answers: list[dict], **qa: object) -> dict:
    """A one-question SQuAD document."""
    return {"version": "1.1", "data": [{"title": "T", "paragraphs": [
        {"context": context, "qas": [{"id": "q1", "question": "Q?", "answers": answers, **qa}]}]}]}


# --------------------------------------------------------------------------- tiny data

def test_tiny_mnli() -> None:
    train = R.read_glue_nli_tsv(TINY / "mnli" / "train.tsv")
    dev = R.read_glue_nli_tsv(TINY / "mnli" / "dev_matched.tsv")
    assert (len(train), len(dev)) == (63, 15)
    assert {e["label"] for e in train} == set(R.NLI_LABELS)
    assert set(train[0]) == {"id", "text_a", "text_b", "label"}
    # ids come from pairID (promptID + e/n/c), and literal quotes survive (QUOTE_NONE)
    assert all(e["id"][-1] == e["label"][0] for e in train + dev)
    assert any('"' in e["text_b"] for e in train)


def test_tiny_xnli() -> None:
    for split in ("dev", "test"):
        by_lang = R.read_xnli_tsv(TINY / "xnli" / f"xnli.{split}.tsv")
        assert set(by_lang) == XNLI_LANGS
        assert all(len(v) == 6 for v in by_lang.values())
        assert [e["label"] for e in by_lang["sw"]] == [e["label"] for e in by_lang["zh"]]
    sub = R.read_xnli_tsv(TINY / "xnli" / "xnli.dev.tsv", languages=["de", "sw"])
    assert set(sub) == {"de", "sw"}
    # the tiny entailed hypotheses restate one premise sentence: a sanity check of the columns
    assert all(e["text_b"] in e["text_a"] for e in sub["de"] if e["label"] == "entailment")


def test_tiny_xnli_unknown_language() -> None:
    msg = r"no labelled rows for language\(s\) xx; languages present: ar, bg, de"
    with pytest.raises(DataError, match=msg):
        R.read_xnli_tsv(TINY / "xnli" / "xnli.dev.tsv", languages=["de", "xx"])


def test_tiny_siqa() -> None:
    for split, n in (("train", 48), ("dev", 12)):
        ex = R.read_siqa(TINY / "siqa" / f"{split}.jsonl", TINY / "siqa" / f"{split}-labels.lst")
        assert len(ex) == n
        assert {e["label"] for e in ex} == {0, 1, 2}
        assert all(len(e["choices"]) == 3 for e in ex)
        assert len({e["id"] for e in ex}) == n
    # labels file holds 1..3; examples hold the 0-based index
    first = (TINY / "siqa" / "train-labels.lst").read_text().split()[0]
    assert R.read_siqa(TINY / "siqa" / "train.jsonl", TINY / "siqa" / "train-labels.lst")[0]["label"] \
        == int(first) - 1


def test_tiny_copa_and_xcopa() -> None:
    counts = {s: len(R.read_copa_jsonl(TINY / "copa" / f"{s}.jsonl")) for s in ("train", "val", "test")}
    assert counts == {"train": 40, "val": 10, "test": 10}
    val = R.read_copa_jsonl(TINY / "copa" / "val.jsonl")
    assert {e["question"] for e in val} <= set(R.COPA_QUESTIONS.values())
    assert [e["id"] for e in val] == [str(i) for i in range(10)]
    assert {e["label"] for e in val} <= {0, 1}
    assert {e["label"] for e in R.read_copa_jsonl(TINY / "copa" / "test.jsonl")} == {-1}
    for lang in XCOPA_LANGS:
        for split in ("val", "test"):
            ex = R.read_copa_jsonl(TINY / "xcopa" / f"{split}.{lang}.jsonl")
            assert len(ex) == 6 and all(len(e["choices"]) == 2 for e in ex)


def test_tiny_squad_and_xquad() -> None:
    train = R.read_squad_json(TINY / "squad" / "train-v1.1.json")
    dev = R.read_squad_json(TINY / "squad" / "dev-v1.1.json")
    assert (len(train), len(dev)) == (64, 16)
    assert_exact_answers(train + dev)
    ids = None
    for lang in XQUAD_LANGS:
        ex = R.read_squad_json(TINY / "xquad" / f"xquad.{lang}.json")
        assert len(ex) == 6
        assert_exact_answers(ex)
        # XQuAD is parallel: the same question ids in every language
        assert ids is None or [e["id"] for e in ex] == ids
        ids = [e["id"] for e in ex]


def test_tiny_tydiqa() -> None:
    train = R.read_tydiqa_goldp_json(TINY / "tydiqa" / "tydiqa-goldp-v1.1-train.json")
    assert set(train) == {"en"} and len(train["en"]) == 64
    dev = R.read_tydiqa_goldp_json(TINY / "tydiqa" / "tydiqa-goldp-v1.1-dev.json")
    assert set(dev) == TYDIQA_LANGS and all(len(v) == 6 for v in dev.values())
    assert all(e["id"].startswith("telugu-") for e in dev["te"])
    for v in (*train.values(), *dev.values()):
        assert_exact_answers(v)
    sub = R.read_tydiqa_goldp_json(TINY / "tydiqa" / "tydiqa-goldp-v1.1-dev.json", languages={"ko"})
    assert list(sub) == ["ko"]
    with pytest.raises(DataError, match=r"no questions for language\(s\) de; languages present: en$"):
        R.read_tydiqa_goldp_json(TINY / "tydiqa" / "tydiqa-goldp-v1.1-train.json", languages=["de"])


def test_tiny_data_size() -> None:
    assert sum(f.stat().st_size for f in TINY.rglob("*") if f.is_file()) < 400 * 1024


# --------------------------------------------------------------------------- malformed files

def test_missing_file_names_expected_file(tmp_path: Path) -> None:
    with pytest.raises(DataError) as e:
        R.read_squad_json(tmp_path / "squad" / "train-v1.1.json")
    msg = str(e.value)
    assert "train-v1.1.json" in msg and "--data-dir" in msg and "unpack" in msg


def test_empty_files(tmp_path: Path) -> None:
    for name, reader in (("a.jsonl", R.read_copa_jsonl), ("b.json", R.read_squad_json),
                         ("c.tsv", R.read_glue_nli_tsv)):
        with pytest.raises(DataError, match="empty"):
            reader(write(tmp_path / name, ""))
    header_only = write(tmp_path / "h.tsv", "index\tsentence1\tsentence2\tgold_label\n")
    with pytest.raises(DataError, match="no examples"):
        R.read_glue_nli_tsv(header_only)


def test_bad_json_line(tmp_path: Path) -> None:
    good = json.dumps({"premise": "P.", "choice1": "A.", "choice2": "B.", "question": "cause",
                       "label": 0, "idx": 0})
    f = write(tmp_path / "val.jsonl", good + "\n{not json\n")
    with pytest.raises(DataError, match=r"val\.jsonl, line 2: invalid JSON"):
        R.read_copa_jsonl(f)


def test_copa_missing_field_and_bad_values(tmp_path: Path) -> None:
    row = {"premise": "P.", "choice1": "A.", "question": "cause", "label": 0, "idx": 0}
    f = write(tmp_path / "c.jsonl", json.dumps(row) + "\n")
    with pytest.raises(DataError, match=r"c\.jsonl, line 1: missing field 'choice2'"):
        R.read_copa_jsonl(f)
    row["choice2"] = "B."
    f = write(tmp_path / "c.jsonl", json.dumps({**row, "question": "why"}) + "\n")
    with pytest.raises(DataError, match=r"line 1: bad question 'why'; valid values: cause, effect"):
        R.read_copa_jsonl(f)
    f = write(tmp_path / "c.jsonl", json.dumps(row) + "\n" + json.dumps({**row, "label": 2}) + "\n")
    with pytest.raises(DataError, match=r"line 2: bad label 2; valid values: 0, 1"):
        R.read_copa_jsonl(f)


def test_copa_unlabelled_and_line_separator(tmp_path: Path) -> None:
    # U+2028 is legal inside a JSON string and must not split the line
    row = {"premise": "P\u2028Q.", "choice1": "A.", "choice2": "B.", "question": "effect", "idx": 7}
    ex = R.read_copa_jsonl(write(tmp_path / "t.jsonl", json.dumps(row, ensure_ascii=False) + "\n"))
    assert ex == [{"id": "7", "context": "P\u2028Q.", "question": "What happened as a result?",
                   "choices": ["A.", "B."], "label": -1}]


def test_glue_tsv_labels(tmp_path: Path) -> None:
    head = "index\tpairID\tsentence1\tsentence2\tgold_label\n"
    f = write(tmp_path / "train.tsv", head + '0\t1e\tHe said "hi.\tHe spoke.\tentailment\n'
              "1\t1n\tA.\tB.\t-\n2\t1c\tA.\tC.\tcontradiction\n")
    ex = R.read_glue_nli_tsv(f)
    assert [e["id"] for e in ex] == ["1e", "1c"]  # '-' (no consensus) skipped
    assert ex[0]["text_a"] == 'He said "hi.'
    f = write(tmp_path / "bad.tsv", head + "0\t1e\tA.\tB.\tentailment\n1\t1x\tA.\tB.\tmaybe\n")
    with pytest.raises(DataError, match=r"bad\.tsv, line 3: unknown gold_label 'maybe'; "
                                        r"valid values: entailment, neutral, contradiction"):
        R.read_glue_nli_tsv(f)


def test_glue_tsv_label_fallbacks_and_ids(tmp_path: Path) -> None:
    f = write(tmp_path / "l.tsv", "index\tsentence1\tsentence2\tlabel\n5\tA.\tB.\tneutral\n")
    assert R.read_glue_nli_tsv(f) == [{"id": "5", "text_a": "A.", "text_b": "B.", "label": "neutral"}]
    f = write(tmp_path / "t.tsv", "sentence2\tsentence1\nB.\tA.\n")  # columns by name, no label
    assert R.read_glue_nli_tsv(f) == [{"id": "2", "text_a": "A.", "text_b": "B.", "label": ""}]


def test_tsv_missing_column_and_bad_row(tmp_path: Path) -> None:
    f = write(tmp_path / "x.tsv", "index\tsentence1\tgold_label\n0\tA.\tneutral\n")
    with pytest.raises(DataError, match=r"x\.tsv, line 1: missing column\(s\) 'sentence2'"):
        R.read_glue_nli_tsv(f)
    f = write(tmp_path / "y.tsv", "sentence1\tsentence2\tgold_label\nA.\tB.\tneutral\nA.\tneutral\n")
    with pytest.raises(DataError, match=r"y\.tsv, line 3: expected 3 tab-separated fields"):
        R.read_glue_nli_tsv(f)


def test_xnli_ids_without_pair_id(tmp_path: Path) -> None:
    f = write(tmp_path / "xnli.dev.tsv", "language\tgold_label\tsentence1\tsentence2\n"
              "de\tneutral\tA.\tB.\nsw\tentailment\tC.\tD.\nde\tcontradiction\tE.\tF.\n")
    by_lang = R.read_xnli_tsv(f)
    assert [e["id"] for e in by_lang["de"]] == ["de-0", "de-1"]
    assert by_lang["sw"][0]["label"] == "entailment"


def test_siqa_errors(tmp_path: Path) -> None:
    row = json.dumps({"context": "C.", "question": "Q?", "answerA": "a", "answerB": "b", "answerC": "c"})
    jl = write(tmp_path / "dev.jsonl", row + "\n" + row + "\n")
    with pytest.raises(DataError) as e:
        R.read_siqa(jl, write(tmp_path / "dev-labels.lst", "1\n"))
    assert "dev.jsonl" in str(e.value) and "dev-labels.lst" in str(e.value)
    assert "2 questions" in str(e.value) and "1 labels" in str(e.value)
    with pytest.raises(DataError, match=r"dev-labels\.lst, line 2: bad label '4'; valid values: 1, 2, 3"):
        R.read_siqa(jl, write(tmp_path / "dev-labels.lst", "1\n4\n"))
    ex = R.read_siqa(jl, write(tmp_path / "dev-labels.lst", "3\n1\n\n"))  # trailing blank line ok
    assert [e["label"] for e in ex] == [2, 0] and ex[0]["id"] == "dev-0"
    bad = write(tmp_path / "x.jsonl", row + "\n" + json.dumps({"context": "C.", "question": "Q?"}) + "\n")
    with pytest.raises(DataError, match=r"x\.jsonl, line 2: missing field 'answerA'"):
        R.read_siqa(bad, write(tmp_path / "x-labels.lst", "1\n2\n"))


def test_squad_answer_not_in_context(tmp_path: Path) -> None:
    doc = squad_doc("Anna lives in Paris.", [{"text": "Rome", "answer_start": 14}])
    doc["data"][0]["paragraphs"].insert(0, {"context": "x", "qas": []})
    f = write(tmp_path / "dev-v1.1.json", json.dumps(doc))
    with pytest.raises(DataError) as e:
        R.read_squad_json(f)
    msg = str(e.value)
    assert "dev-v1.1.json" in msg and "data[0].paragraphs[1].qas[0]" in msg and "q1" in msg
    assert "'Rome'" in msg


def test_squad_offset_fixup(tmp_path: Path) -> None:
    context = "Paris is big. Anna lives in Paris. Paris is old."
    doc = squad_doc(context, [{"text": "Paris", "answer_start": 26}])  # true offset 28
    ex = R.read_squad_json(write(tmp_path / "xquad.en.json", json.dumps(doc)))
    assert ex[0]["answers"] == {"text": ["Paris"], "answer_start": [28]}


def test_squad_v2_and_structure_errors(tmp_path: Path) -> None:
    doc = squad_doc("Anna lives in Paris.", [], is_impossible=True,
                    plausible_answers=[{"text": "Paris", "answer_start": 14}])
    ex = R.read_squad_json(write(tmp_path / "dev-v2.0.json", json.dumps(doc)))
    assert ex[0]["answers"] == {"text": [], "answer_start": []} and ex[0]["title"] == "T"
    doc = squad_doc("Anna.", [{"text": "Anna"}])
    with pytest.raises(DataError, match=r"qas\[0\] \(id q1\)\.answers\[0\]: missing field 'answer_start'"):
        R.read_squad_json(write(tmp_path / "a.json", json.dumps(doc)))
    with pytest.raises(DataError, match=r"b\.json, line 2: invalid JSON"):
        R.read_squad_json(write(tmp_path / "b.json", '{"data":\n [}'))
    with pytest.raises(DataError, match="not a SQuAD-format file"):
        R.read_squad_json(write(tmp_path / "c.json", "[]"))


def test_tydiqa_unknown_prefix(tmp_path: Path) -> None:
    doc = squad_doc("Anna lives in Paris.", [{"text": "Paris", "answer_start": 14}])
    doc["data"][0]["paragraphs"][0]["qas"][0]["id"] = "klingon-123-0"
    with pytest.raises(DataError, match=r"data\[0\]\.paragraphs\[0\]\.qas\[0\].*valid prefixes: arabic"):
        R.read_tydiqa_goldp_json(write(tmp_path / "tydiqa-goldp-v1.1-dev.json", json.dumps(doc)))


# --------------------------------------------------------------------------- real samples

@needs_shared
def test_real_xcopa_and_copa() -> None:
    for lang in XCOPA_LANGS:
        ex = R.read_copa_jsonl(SHARED / "xcopa" / f"test.{lang}.jsonl")
        assert len(ex) == 250 and {e["label"] for e in ex} == {0, 1}
    assert len(R.read_copa_jsonl(SHARED / "xcopa-translate-test" / "test.et.jsonl")) == 250
    assert [len(R.read_copa_jsonl(SHARED / "copa" / f"{s}.jsonl")) for s in ("train", "val")] == [80, 20]


@needs_shared
def test_real_siqa() -> None:
    train = R.read_siqa(SHARED / "siqa" / "train.jsonl", SHARED / "siqa" / "train-labels.lst")
    dev = R.read_siqa(SHARED / "siqa" / "dev.jsonl", SHARED / "siqa" / "dev-labels.lst")
    assert (len(train), len(dev)) == (33410, 1954)
    assert {e["label"] for e in dev} == {0, 1, 2}


@needs_shared
def test_real_squad_and_xquad() -> None:
    train = R.read_squad_json(SHARED / "squad" / "train-v1.1.json")
    dev = R.read_squad_json(SHARED / "squad" / "dev-v1.1.json")
    assert (len(train), len(dev)) == (2019, 556)
    assert_exact_answers(train + dev)
    v2 = R.read_squad_json(SHARED / "squad_v2" / "dev-v2.0.json")
    assert len(v2) == 1135 and any(not e["answers"]["text"] for e in v2)
    for lang in ("en", "de", "es"):
        ex = R.read_squad_json(SHARED / "xquad" / f"xquad.{lang}.json")
        assert len(ex) == 1190
        assert_exact_answers(ex)


@needs_shared
def test_real_mnli_and_xnli() -> None:
    # MANIFEST's 997 / 250 count the header line too: the files hold 996 / 249 pairs
    train = R.read_glue_nli_tsv(SHARED / "mnli" / "train.tsv")
    dev = R.read_glue_nli_tsv(SHARED / "mnli" / "dev_matched.tsv")
    assert (len(train), len(dev)) == (996, 249)
    assert {e["label"] for e in train} == set(R.NLI_LABELS)
    xnli = R.read_xnli_tsv(SHARED / "xnli" / "xnli.dev.tsv")
    assert {k: len(v) for k, v in xnli.items()} == {"en": 1245, "sw": 1245}
    assert xnli["sw"][0]["id"] == "sw-0"
