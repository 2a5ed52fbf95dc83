"""Malformed rows: an error naming file and line by default; with data.on_bad_row=skip they are left
out, counted, summarised and recorded, for every reader family (one mechanism: bad_rows.bad_row)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from adapterx.cli import main
from adapterx.data import readers, readers_more, readers_retrieval, readers_tagging
from adapterx.data.bad_rows import bad_row_policy
from adapterx.data.loading import load_examples
from adapterx.errors import DataError
from adapterx.presets.tiny import TINY_DATA

FAST = ["training.epochs=1", "training.max_seq_length=64", "training.save_checkpoints=false",
        "training.max_dev_examples=8", "bottleneck.reduction_factor=4"]


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def _corrupt_copa(data: Path) -> Path:
    """Lines 4 (not JSON) and 8 (bad question) of COPA's training file broken."""
    path = data / "copa" / "train.jsonl"
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[3] = '{"premise": "cut off'
    lines[7] = json.dumps({"premise": "p", "choice1": "a", "choice2": "b", "question": "why", "label": 0})
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def data(tmp_path) -> Path:
    return Path(shutil.copytree(TINY_DATA, tmp_path / "data"))


def test_default_is_an_error_with_file_and_line(data):
    path = _corrupt_copa(data)
    with pytest.raises(DataError, match=rf"{path}, line 4: invalid JSON"):
        load_examples("copa", "train", "en", data)


def test_skip_counts_and_summarises(data, capsys):
    path = _corrupt_copa(data)
    with bad_row_policy("skip") as log:
        examples = load_examples("copa", "train", "en", data)
        load_examples("copa", "train", "en", data)  # read twice: counted and printed once
    assert len(examples) == 38
    assert log.summary() == {"policy": "skip", "skipped": 2,
                             "files": {str(path): {"count": 2, "first": [4, 8]}}}
    out = " ".join(capsys.readouterr().out.split())
    assert out.count("skipped 2 malformed row(s)") == 1 and "lines 4, 8" in out and "invalid JSON" in out


def test_every_reader_family_skips_rows(tmp_path):
    """JSONL, TSV, CSV, SQuAD JSON paths, SIQa (labels stay aligned), CoNLL-U and PAN-X (the bad
    sentence goes, the others stay), CCG, BUCC."""
    d = tmp_path
    tsv = _write(d / "m.tsv", "sentence1\tsentence2\tgold_label\na b\tc d\tneutral\nbad row\n"
                              "e f\tg h\tmaybe\ni j\tk l\tentailment\n")
    csv_ = _write(d / "c.csv", "context,question,answer0,answer1,answer2,answer3,label\n"
                               "c,q,a,b,c,d,1\nc,q,a,b,c,d,9\nc,q,a,b\n")
    squad = _write(d / "s.json", json.dumps({"data": [{"title": "t", "paragraphs": [
        {"context": "Anna lives in Oslo.", "qas": [
            {"id": "1", "question": "Where?", "answers": [{"text": "Oslo", "answer_start": 14}]},
            {"id": "2", "question": "Who?", "answers": [{"text": "Bob", "answer_start": 0}]}]},
        {"qas": []}]}]}))
    siqa = _write(d / "train.jsonl", '{"context": "c1", "question": "q", "answerA": "a", "answerB": "b", '
                                     '"answerC": "c"}\n{oops\n{"context": "c3", "question": "q", '
                                     '"answerA": "a", "answerB": "b", "answerC": "c"}\n')
    labels = _write(d / "train-labels.lst", "1\n2\n3\n")
    conllu = _write(d / "u.conllu", "1\tA\ta\tDET\t_\t_\t0\t_\t_\t_\n\n1\tB\tb\tNOPE\t_\t_\t0\t_\t_\t_\n"
                                    "2\tC\tc\tNOUN\t_\t_\t0\t_\t_\t_\n\n1\tD\td\tNOUN\t_\t_\t0\t_\t_\t_\n")
    panx = _write(d / "p.txt", "Berlin\tB-LOC\n\nx\tBAD\ny\tO\n\nOslo\tB-LOC\n")
    ccg = _write(d / "ccg.txt", "a|N b|V\nbroken\nc|N\n")
    bucc = d / "bucc"
    _write(bucc / "de-en.dev.de", "de-1\tHallo Welt\nno tab here\n")
    _write(bucc / "de-en.dev.en", "en-1\tHello world\n")
    _write(bucc / "de-en.dev.gold", "de-1\ten-1\nde-9\ten-1\n")
    with bad_row_policy("skip") as log:
        assert [ex["label"] for ex in readers.read_glue_nli_tsv(tsv)] == ["neutral", "entailment"]
        assert len(readers_more.read_cosmosqa_csv(csv_)) == 1
        assert [ex["id"] for ex in readers.read_squad_json(squad)] == ["1"]
        siqa_ex = readers.read_siqa(siqa, labels)
        assert [(ex["context"], ex["label"]) for ex in siqa_ex] == [("c1", 0), ("c3", 2)]
        assert [ex["tokens"] for ex in readers_tagging.read_conllu_upos(conllu)] == [["A"], ["D"]]
        assert [ex["tokens"] for ex in readers_tagging.read_panx(panx)] == [["Berlin"], ["Oslo"]]
        assert [ex["tokens"] for ex in readers_tagging.read_ccg(ccg)] == [["a", "b"], ["c"]]
        assert readers_retrieval.read_bucc(bucc, "de", "dev")["gold"] == [("de-1", "en-1")]
    counts = {Path(p).name: f["count"] for p, f in log.summary()["files"].items()}
    assert counts == {"m.tsv": 2, "c.csv": 2, "s.json": 2, "train.jsonl": 1, "u.conllu": 1, "p.txt": 1,
                      "ccg.txt": 1, "de-en.dev.de": 1, "de-en.dev.gold": 1}
    squad_where = log.summary()["files"][str(squad)]["first"]
    assert squad_where == ["data[0].paragraphs[0].qas[1]", "data[0].paragraphs[1]"]


def test_an_empty_split_after_skipping_is_still_an_error(tmp_path):
    path = _write(tmp_path / "copa.jsonl", "{bad\n[1, 2]\n")
    with bad_row_policy("skip"), pytest.raises(DataError, match="all 2 rows were malformed and skipped"):
        readers.read_copa_jsonl(path)
    header_only = _write(tmp_path / "m.tsv", "sentence1\tsentence2\tgold_label\n")
    with bad_row_policy("skip"), pytest.raises(DataError, match="empty or has only a header"):
        readers.read_glue_nli_tsv(header_only)


def test_file_level_problems_stay_errors(tmp_path):
    path = _write(tmp_path / "m.tsv", "sentence1\tlabel\na\tb\n")  # a required column is missing
    with bad_row_policy("skip"), pytest.raises(DataError, match="missing column"):
        readers.read_glue_nli_tsv(path)


def test_runs_record_skipped_rows(tiny_model, tmp_path, data):
    """`train` and a target run with data.on_bad_row=skip: exit 0, counts in adapterx.json and
    results.json; without it, exit 2 naming file and line."""
    path = _corrupt_copa(data)
    base = ["--model", str(tiny_model), "--data-dir", str(data), "--device", "cpu",
            "--output", str(tmp_path / "runs"), "--modules-dir", str(tmp_path / "modules"), *FAST]
    failed = CliRunner().invoke(main, ["direct", "--target", "xcopa", "--langs", "it", *base])
    assert failed.exit_code == 2 and f"{path}, line 4" in " ".join(failed.output.split())
    result = CliRunner().invoke(main, ["direct", "--target", "xcopa", "--langs", "it", *base,
                                       "data.on_bad_row=skip"])
    assert result.exit_code == 0, result.output
    assert "skipped 2 malformed row(s)" in " ".join(result.output.split())
    (results,) = (tmp_path / "runs" / "xcopa").glob("*/results.json")
    record = json.loads(results.read_text())["bad_rows"]
    assert record["skipped"] == 2 and record["files"][str(path)]["first"] == [4, 8]
    trained = CliRunner().invoke(main, ["train", "--task", "copa", *base, "on_bad_row=skip"])
    assert trained.exit_code == 0, trained.output
    meta = json.loads((Path(trained.output.strip().splitlines()[-1]) / "adapterx.json").read_text())
    assert meta["bad_rows"]["skipped"] == 2
