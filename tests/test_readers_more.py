"""Readers of the full task set: own fixtures in each real format, malformed rows, real samples."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from adapterx.data import readers_more as M
from adapterx.data.readers import read_squad_json
from adapterx.errors import DataError

FIX = Path(__file__).resolve().parent / "fixtures"
SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
needs_shared = pytest.mark.skipif(not SHARED.is_dir(), reason="../shared/data not available")

CLS_KEYS = {"id", "text_a", "text_b", "label"}
MC_KEYS = {"id", "context", "question", "choices", "label"}
TAG_KEYS = {"id", "tokens", "tags"}


def write(path: Path, text: str) -> Path:
    """Write a test file as UTF-8 (parents created), keeping newlines as given."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode("utf-8"))
    return path


def raises_at(name: str, line: int | None, match: str = ""):
    """pytest.raises(DataError) whose message names the file and (when given) the line."""
    where = f"{name}, line {line}: " if line is not None else f"{name}"
    return pytest.raises(DataError, match=f"{where}.*{match}" if match else where)


# --------------------------------------------------------------------------- tagging

def test_conllu_upos_fixture() -> None:
    ex = M.read_conllu_upos(FIX / "udpos" / "en_ewt-ud-train.conllu")
    assert len(ex) == 3 and all(set(e) == TAG_KEYS for e in ex)
    assert [e["id"] for e in ex] == ["fx-0001", "fx-0002", "en_ewt-ud-train-2"]  # no sent_id -> index
    # the multi-word token "doesn't" (5-6) and the empty node 5.1 are skipped: words only
    assert ex[1]["tokens"] == ["Kim", "paints", "and", "Lee", "does", "n't", "."]
    assert ex[1]["tags"] == ["PROPN", "VERB", "CCONJ", "PROPN", "AUX", "PART", "PUNCT"]
    assert all(len(e["tokens"]) == len(e["tags"]) for e in ex)
    de = M.read_conllu_upos(FIX / "udpos" / "de_gsd-ud-dev.conllu")
    assert de[0]["tokens"] == ["Wir", "gehen", "zu", "dem", "Markt", "."]  # "zum" = zu + dem


def test_conllu_unlabelled_and_malformed(tmp_path: Path) -> None:
    row = "\t".join
    ok = [row(["1", "Hi", "hi", "_", "_", "_", "0", "root", "_", "_"]),
          row(["2", "!", "!", "_", "_", "_", "1", "punct", "_", "_"])]
    f = write(tmp_path / "x-ud-test.conllu", "\n".join(ok) + "\n")  # no trailing blank line
    assert M.read_conllu_upos(f) == [{"id": "x-ud-test-0", "tokens": ["Hi", "!"], "tags": []}]
    bad = {
        "9 columns": (row(["1", "Hi", "hi", "INTJ", "_", "_", "0", "root", "_"]), r"expected 10"),
        "xpos in upos": (row(["1", "Hi", "hi", "UH", "_", "_", "0", "root", "_", "_"]),
                         r"unknown UPOS tag 'UH'"),
        "bad id": (row(["a", "Hi", "hi", "INTJ", "_", "_", "0", "root", "_", "_"]), r"bad word ID"),
    }
    for name, (line, match) in bad.items():
        f = write(tmp_path / "bad.conllu", f"# sent_id = s1\n{line}\n\n")
        with raises_at("bad.conllu", 2, match):
            M.read_conllu_upos(f)
    # a missing blank line between sentences shows up as an out-of-sequence word ID
    f = write(tmp_path / "bad.conllu", "\n".join([*ok, ok[0]]) + "\n")
    with raises_at("bad.conllu", 3, "out of sequence"):
        M.read_conllu_upos(f)
    mixed = ok[0] + "\n" + row(["2", "!", "!", "PUNCT", "_", "_", "1", "punct", "_", "_"]) + "\n"
    with raises_at("bad.conllu", 2, "mixed"):
        M.read_conllu_upos(write(tmp_path / "bad.conllu", mixed))


def test_panx_fixture() -> None:
    raw = M.read_panx(FIX / "panx" / "de" / "dev")  # release form: every token "de:..."
    assert [len(e["tokens"]) for e in raw] == [6, 5, 3] and all(set(e) == TAG_KEYS for e in raw)
    assert raw[0]["tokens"][:2] == ["Anna", "Weber"] and raw[0]["tags"][:2] == ["B-PER", "I-PER"]
    assert raw[2]["tokens"] == ["Termin", "um", "9:30"]  # only the language prefix goes
    assert raw[1]["id"] == "dev-1"
    done = M.read_panx(FIX / "panx" / "en" / "train")  # processed form: no prefix to strip
    assert len(done) == 2  # two blank lines are one boundary
    assert done[0]["tokens"] == ["Visit", "http://example.org", "at", "10:15"]
    assert done[1]["tags"] == ["B-PER", "I-PER", "O", "B-ORG", "I-ORG"]
    test = M.read_panx(FIX / "panx" / "de" / "test")  # tokens only: unlabelled
    assert [e["tokens"] for e in test] == [["Peter", "fuhr", "nach", "Seestadt"], ["Danke", "!"]]
    assert all(e["tags"] == [] for e in test)


@pytest.mark.parametrize("text, line, match", [
    ("a\tO\nb\tO\tX\n", 2, "2 fields"),
    ("a\tO\nb\n", 2, "without a tag"),
    ("a\tO\nb\tPER\n", 2, "bad tag 'PER'"),
    ("Berlin B-LOC\n", 1, "separated by a space"),
    ("a\tO\n\tO\n", 2, "empty token"),
])
def test_panx_malformed(tmp_path: Path, text: str, line: int, match: str) -> None:
    with raises_at("dev", line, match):
        M.read_panx(write(tmp_path / "panx" / "xx" / "dev", text))


def test_ccg_fixture(tmp_path: Path) -> None:
    ex = M.read_ccg(FIX / "ccg" / "train.txt")
    assert len(ex) == 3 and all(set(e) == TAG_KEYS for e in ex)  # the blank line is no sentence
    assert ex[0]["tags"] == ["NP[nb]/N", "N", "S[dcl]\\NP", "."]
    # tokens containing '|' are split on the last '|'
    assert ex[1]["tokens"] == ["Use", "a||b", "as", "separator"]
    assert ex[1]["tags"][1] == "N"
    assert ex[2]["tokens"] == ["|", "again"] and ex[2]["tags"] == ["SYM", "S\\S"]
    for text, match in (("ok|N bad\n", "item 2 'bad'"), ("ok|N |N\n", "item 2"),
                        ("ok|N word|\n", "item 2 'word|'")):
        with raises_at("c.txt", 1, match):
            M.read_ccg(write(tmp_path / "c.txt", text))


# --------------------------------------------------------------------------- classification

def test_pawsx_fixture(tmp_path: Path) -> None:
    en = M.read_pawsx_tsv(FIX / "pawsx" / "en" / "train.tsv")
    assert [e["label"] for e in en] == ["1", "0", "1"] and all(set(e) == CLS_KEYS for e in en)
    assert en[2]["text_a"] == 'The "old" mill burned down twice .'  # quotes are literal text
    assert [e["id"] for e in M.read_pawsx_tsv(FIX / "pawsx" / "de" / "dev_2k.tsv")] == ["1", "2"]
    assert len(M.read_pawsx_tsv(FIX / "pawsx" / "de" / "test_2k.tsv")) == 1
    f = write(tmp_path / "dev_2k.tsv", "id\tsentence1\tsentence2\tlabel\n1\ta\tb\t0\n2\ta\tb\tyes\n")
    with raises_at("dev_2k.tsv", 3, "bad label 'yes'"):
        M.read_pawsx_tsv(f)
    with raises_at("dev_2k.tsv", 2, "expected 4 tab-separated"):
        M.read_pawsx_tsv(write(tmp_path / "dev_2k.tsv", "id\tsentence1\tsentence2\tlabel\n1\ta\t0\n"))


def test_anli_and_snli(tmp_path: Path) -> None:
    anli = M.read_anli_jsonl(FIX / "anli" / "R1" / "dev.jsonl")
    assert [e["label"] for e in anli] == ["entailment", "neutral", "contradiction"]
    assert anli[0]["id"] == "fx-a1" and all(set(e) == CLS_KEYS for e in anli)
    snli = M.read_snli_jsonl(FIX / "snli" / "snli_1.0_dev.jsonl")
    assert [e["id"] for e in snli] == ["c1r1n", "c2r1c", "c2r1e"]  # gold_label '-' skipped
    assert [e["label"] for e in snli] == ["neutral", "contradiction", "entailment"]
    good = json.dumps({"uid": "u", "context": "c", "hypothesis": "h", "label": "e"})
    f = write(tmp_path / "R1" / "train.jsonl", good + "\n" + good.replace('"e"', '"entailment"') + "\n")
    with raises_at("train.jsonl", 2, "bad label 'entailment'; valid values: e, n, c"):
        M.read_anli_jsonl(f)
    f = write(tmp_path / "snli_1.0_train.jsonl", '{"gold_label": "neutral", "sentence1": "a"}\n')
    with raises_at("snli_1.0_train.jsonl", 1, "missing field 'sentence2'"):
        M.read_snli_jsonl(f)


def test_qqp_and_sst2(tmp_path: Path) -> None:
    qqp = M.read_qqp_tsv(FIX / "qqp" / "dev.tsv")
    assert [e["label"] for e in qqp] == ["duplicate", "not_duplicate", "duplicate"]
    assert qqp[0]["id"] == "501" and qqp[2]["text_a"] == 'Is "decaf" coffee healthy?'
    test = write(tmp_path / "test.tsv", "id\tquestion1\tquestion2\n7\tA?\tB?\n")
    assert M.read_qqp_tsv(test)[0]["label"] == ""
    sst = M.read_sst2_tsv(FIX / "sst2" / "dev.tsv")
    assert [e["label"] for e in sst] == ["positive", "negative", "negative"]
    assert all(e["text_b"] is None and set(e) == CLS_KEYS for e in sst)
    f = write(tmp_path / "dev.tsv", "sentence\tlabel\ngood .\t1\nbad .\t2\n")
    with raises_at("dev.tsv", 3, "bad label '2'; valid values: 0, 1"):
        M.read_sst2_tsv(f)
    f = write(tmp_path / "train.tsv", "id\tqid1\tqid2\tquestion1\tquestion2\tis_duplicate\n1\t1\t2\tA?\tB?\n")
    with raises_at("train.tsv", 2, "expected 6 tab-separated"):
        M.read_qqp_tsv(f)


# --------------------------------------------------------------------------- multiple choice

def test_hellaswag(tmp_path: Path) -> None:
    ex = M.read_hellaswag_jsonl(FIX / "hellaswag" / "hellaswag_val.jsonl")
    assert [e["id"] for e in ex] == ["24", "92"] and [e["label"] for e in ex] == [2, 0]
    assert ex[0]["context"] == "A man pours flour into a bowl. he" and ex[0]["question"] == ""
    assert all(len(e["choices"]) == 4 and set(e) == MC_KEYS for e in ex)
    row = {"ind": 1, "ctx": "c", "endings": ["a", "b", "c", "d"]}
    assert M.read_hellaswag_jsonl(write(tmp_path / "hellaswag_test.jsonl", json.dumps(row)))[0]["label"] == -1
    f = write(tmp_path / "h.jsonl", json.dumps(row) + "\n" + json.dumps({**row, "endings": ["a"]}))
    with raises_at("h.jsonl", 2, "list of 4 strings"):
        M.read_hellaswag_jsonl(f)
    with raises_at("h.jsonl", 1, "bad label 4"):
        M.read_hellaswag_jsonl(write(tmp_path / "h.jsonl", json.dumps({**row, "label": 4})))


def test_cosmosqa(tmp_path: Path) -> None:
    ex = M.read_cosmosqa_csv(FIX / "cosmosqa" / "valid.csv")
    assert [e["id"] for e in ex] == ["fx-c1", "fx-c2", "fx-c3"] and [e["label"] for e in ex] == [0, 0, 1]
    assert all(len(e["choices"]) == 4 and set(e) == MC_KEYS for e in ex)
    assert ex[1]["context"].startswith('My neighbour said "it will be fine" , but')  # CSV quoting
    assert "\n" in ex[1]["context"]  # a quoted line break stays inside the field
    head = "id,context,question,answer0,answer1,answer2,answer3,label\n"
    f = write(tmp_path / "train.csv", head + 'a,"two\nlines",q,0,1,2,3,0\nb,c,q,0,1,2,3\n')
    with raises_at("train.csv", 4, "expected 8 comma-separated fields"):  # row 2 starts on line 4
        M.read_cosmosqa_csv(f)
    with raises_at("train.csv", 2, "bad label '7'"):
        M.read_cosmosqa_csv(write(tmp_path / "train.csv", head + "a,c,q,0,1,2,3,7\n"))
    with raises_at("train.csv", 1, "missing column.*answer3"):
        M.read_cosmosqa_csv(write(tmp_path / "train.csv", "id,context,question,answer0,label\n"))
    with raises_at("train.csv", 2, "malformed CSV"):
        M.read_cosmosqa_csv(write(tmp_path / "train.csv", head + 'a,"never closed,q,0,1,2,3,0\n'))


def test_commonsenseqa(tmp_path: Path) -> None:
    ex = M.read_commonsenseqa_jsonl(FIX / "commonsenseqa" / "dev_rand_split.jsonl")
    assert all(set(e) == MC_KEYS and e["context"] == "" for e in ex)
    assert ex[0]["choices"][ex[0]["label"]] == "rain" and ex[0]["label"] == 2
    # choices come in file order A, C, B, D, E: reordered by label, answerKey B -> index 1
    assert ex[1]["choices"] == ["boat", "kitchen", "forest", "library", "garage"]
    assert ex[1]["label"] == 1 and ex[1]["question"] == "Where is a fridge usually kept?"
    q = {"stem": "s", "choices": [{"label": k, "text": k.lower()} for k in "ABCDE"]}
    assert M.read_commonsenseqa_jsonl(write(tmp_path / "test_rand_split.jsonl",
                                            json.dumps({"id": "t", "question": q})))[0]["label"] == -1
    f = write(tmp_path / "c.jsonl", json.dumps({"id": "t", "answerKey": "F", "question": q}))
    with raises_at("c.jsonl", 1, "bad answerKey 'F'"):
        M.read_commonsenseqa_jsonl(f)
    four = {**q, "choices": q["choices"][:4]}
    f = write(tmp_path / "c.jsonl", json.dumps({"id": "t", "answerKey": "A", "question": four}))
    with raises_at("c.jsonl", 1, "5 choices labelled A-E"):
        M.read_commonsenseqa_jsonl(f)


# --------------------------------------------------------------------------- QA and retrieval

def test_mlqa() -> None:
    ex = M.read_mlqa_json(FIX / "mlqa" / "dev" / "dev-context-de-question-de.json")
    assert [e["id"] for e in ex] == ["m1", "m2"]
    for e in ex:
        (text,), (start,) = e["answers"]["text"], e["answers"]["answer_start"]
        assert e["context"][start:start + len(text)] == text
    en = M.read_mlqa_json(FIX / "mlqa" / "dev" / "dev-context-de-question-en.json")
    assert en[0]["question"] == "When was the bridge built?" and en[0]["context"] == ex[0]["context"]


def test_tatoeba(tmp_path: Path) -> None:
    ex = M.read_tatoeba(FIX / "tatoeba" / "tatoeba.deu-eng.deu", FIX / "tatoeba" / "tatoeba.deu-eng.eng")
    assert [e["id"] for e in ex] == ["0", "1", "2"]
    assert ex[1] == {"id": "1", "source": "Wo ist der Bahnhof?", "target": "Where is the station?"}
    src = write(tmp_path / "tatoeba.fra-eng.fra", "Bonjour.\nMerci.\n")
    with pytest.raises(DataError, match=r"tatoeba.fra-eng.fra has 2 lines but tatoeba.fra-eng.eng has 1"):
        M.read_tatoeba(src, write(tmp_path / "tatoeba.fra-eng.eng", "Hello.\n"))
    with raises_at("tatoeba.fra-eng.eng", 2, "blank line"):
        M.read_tatoeba(src, write(tmp_path / "tatoeba.fra-eng.eng", "Hello.\n\nThanks.\n"))


def test_bucc(tmp_path: Path) -> None:
    dev = M.read_bucc(FIX / "bucc", "de", "dev")
    assert (len(dev["source"]), len(dev["target"])) == (3, 4)
    assert dev["gold"] == [("de-000001", "en-000003"), ("de-000002", "en-000001")]
    assert dev["source"]["de-000002"] == "Die Stadt hat drei Museen." and dev["note"] == ""
    test = M.read_bucc(FIX / "bucc", "de", "test")  # no public gold for test
    assert test["gold"] == [] and "not public" in test["note"] and len(test["target"]) == 3
    # the release archives keep each pair in its own folder: <folder>/de-en/de-en.<split>.*
    for name in ("de-en.dev.de", "de-en.dev.en"):
        write(tmp_path / "de-en" / name, (FIX / "bucc" / name).read_text(encoding="utf-8"))
    with pytest.raises(DataError, match=r"'de-en.dev.gold' not found"):  # gold required off test
        M.read_bucc(tmp_path, "de", "dev")
    write(tmp_path / "de-en" / "de-en.dev.gold", "de-000001\ten-000009\n")
    with raises_at("de-en.dev.gold", 1, "gold id 'en-000009' is not in the en sentence file"):
        M.read_bucc(tmp_path, "de", "dev")
    write(tmp_path / "de-en" / "de-en.dev.de", "de-1\tEins.\nde-1\tZwei.\n")
    with raises_at("de-en.dev.de", 2, "duplicate sentence id 'de-1'"):
        M.read_bucc(tmp_path, "de", "dev")
    write(tmp_path / "de-en" / "de-en.dev.de", "de-1 Eins.\n")
    with raises_at("de-en.dev.de", 1, "id<TAB>sentence"):
        M.read_bucc(tmp_path, "de", "dev")
    with pytest.raises(DataError, match=r"'fr-en.dev.fr' not found"):
        M.read_bucc(tmp_path, "fr", "dev")


def test_missing_files_name_the_expected_file(tmp_path: Path) -> None:
    calls = {
        "dev_2k.tsv": lambda: M.read_pawsx_tsv(tmp_path / "pawsx" / "de" / "dev_2k.tsv"),
        "en_ewt-ud-dev.conllu": lambda: M.read_conllu_upos(tmp_path / "udpos" / "en_ewt-ud-dev.conllu"),
        "'test'": lambda: M.read_panx(tmp_path / "panx" / "sw" / "test"),
        "valid.csv": lambda: M.read_cosmosqa_csv(tmp_path / "cosmosqa" / "valid.csv"),
        "train_rand_split.jsonl": lambda: M.read_commonsenseqa_jsonl(tmp_path / "train_rand_split.jsonl"),
        "tatoeba.spa-eng.spa": lambda: M.read_tatoeba(tmp_path / "tatoeba.spa-eng.spa", FIX / "x"),
    }
    for name, call in calls.items():
        with pytest.raises(DataError, match=f"{name}.*not found") as e:
            call()
        assert "--data-dir" in str(e.value)


def test_fixtures_are_small() -> None:
    assert sum(f.stat().st_size for f in FIX.rglob("*") if f.is_file()) < 100 * 1024


# --------------------------------------------------------------------------- real samples

@needs_shared
@pytest.mark.parametrize("name, n", [("en_ewt-ud-train.conllu", 2001), ("en_ewt-ud-dev.conllu", 2077),
                                     ("de_gsd-ud-dev.conllu", 799)])
def test_real_udpos(name: str, n: int) -> None:
    ex = M.read_conllu_upos(SHARED / "udpos" / name)
    assert len(ex) == n and len({e["id"] for e in ex}) == n  # ids from '# sent_id'
    assert all(e["tags"] and len(e["tags"]) == len(e["tokens"]) for e in ex)
    assert {t for e in ex for t in e["tags"]} <= M.UPOS_TAGS


@needs_shared
@pytest.mark.parametrize("lang", ["deu", "fra", "spa"])
def test_real_tatoeba(lang: str) -> None:
    folder = SHARED / "tatoeba"
    ex = M.read_tatoeba(folder / f"tatoeba.{lang}-eng.{lang}", folder / f"tatoeba.{lang}-eng.eng")
    assert len(ex) == 1000 and all(e["source"] and e["target"] for e in ex)


@needs_shared
def test_real_cosmosqa() -> None:
    # MANIFEST's 2,475 / 512 are the files' line counts; each has a header, hence one row fewer
    # (2,474 + 511 = 2,985 = the official validation set).
    counts = {}
    for split in ("train", "valid"):
        ex = M.read_cosmosqa_csv(SHARED / "cosmosqa" / f"{split}.csv")
        assert {e["label"] for e in ex} == {0, 1, 2, 3} and all(len(e["choices"]) == 4 for e in ex)
        counts[split] = len(ex)
    assert counts == {"train": 2474, "valid": 511}


@needs_shared
def test_real_squad_v2_resplit() -> None:
    for split, n in (("train", 4214), ("dev", 1135)):
        ex = read_squad_json(SHARED / "squad_v2" / f"{split}-v2.0.json")
        assert len(ex) == n
        unanswerable = [e for e in ex if not e["answers"]["text"]]
        assert 0 < len(unanswerable) < n
        assert all(e["answers"]["answer_start"] == [] for e in unanswerable)
