"""`adapterx.load()` and `adapterx predict`: a trained run or module predicts what its own
evaluation wrote under predictions/, from Python and from the command line."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

import adapterx
from adapterx.api import direct, evaluate, train
from adapterx.cli import main
from adapterx.data.loading import load_eval_examples
from adapterx.errors import AdapterxError, DataError
from adapterx.predict import to_example
from adapterx.presets.tiny import TINY_DATA
from adapterx.tasks import get_task


def _only(folder: Path) -> Path:
    (found,) = [p for p in folder.iterdir() if not p.name.startswith(".")]
    return found


def _predict_cli(*args: str):
    return CliRunner().invoke(main, ["predict", "--device", "cpu", *args])


# `heavy` (over 4 s: a training each; deselected by default where pyproject registers the marker)
@pytest.mark.heavy
def test_run_predicts_its_own_predictions_from_python_and_cli(make_cfg, tmp_path):
    cfg = make_cfg(langs=["de"], eval_split="dev")
    direct("xnli", cfg=cfg)
    run = _only(Path(cfg.output) / "xnli")
    written = (run / "predictions" / "xnli" / "dev-de.tsv").read_text().split()
    examples = load_eval_examples(get_task("xnli"), "dev", "de", TINY_DATA, None)
    assert len(written) == len(examples)

    loaded = adapterx.load(run, device="cpu")
    assert loaded.task.name == "xnli" and loaded.tokenizer is loaded.backbone.tokenizer
    rows = loaded.predict([(ex["text_a"], ex["text_b"]) for ex in examples])
    assert [r["label"] for r in rows] == written  # what `direct` wrote when it evaluated
    for row in rows:
        assert set(row["probabilities"]) == {"entailment", "neutral", "contradiction"}
        assert sum(row["probabilities"].values()) == pytest.approx(1.0, abs=1e-5)
        assert row["label"] == max(row["probabilities"], key=row["probabilities"].get)

    txt = tmp_path / "pairs.txt"
    txt.write_text("".join(f"{ex['text_a']}\t{ex['text_b']}\n" for ex in examples), encoding="utf-8")
    result = _predict_cli("--run", str(run), "--input", str(txt))
    assert result.exit_code == 0, result.output
    assert [json.loads(line)["label"] for line in result.stdout.splitlines()] == written

    jsonl, out = tmp_path / "pairs.jsonl", tmp_path / "out" / "preds.jsonl"
    jsonl.write_text("".join(json.dumps({"id": f"x{i}", "text_a": ex["text_a"], "text_b": ex["text_b"]}) + "\n"
                             for i, ex in enumerate(examples)), encoding="utf-8")
    result = _predict_cli("--module", str(run / "module"), "--input", str(jsonl), "--output", str(out))
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["label"] for r in lines] == written and lines[0]["id"] == "x0"

    # bad input: exit 2 naming the file, the line and the fields a classification input has
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"text_a": "ok"}) + "\n" + json.dumps({"premise": "a", "hypothesis": "b"}) + "\n")
    result = _predict_cli("--run", str(run), "--input", str(bad))
    assert result.exit_code == 2 and "line 2" in result.output and "text_a" in result.output, result.output
    assert "Traceback" not in result.output
    result = _predict_cli("--run", str(run), "--input", str(tmp_path / "missing.txt"))
    assert result.exit_code == 2 and "does not exist" in result.output
    result = _predict_cli("--run", str(run), "--module", str(run / "module"), "--input", str(txt))
    assert result.exit_code == 2 and "one of --run DIR or --module DIR" in result.output


@pytest.mark.heavy
def test_module_predicts_what_eval_module_wrote(make_cfg, tmp_path):
    cfg = make_cfg(langs=["en"])
    module = train("squad", cfg=cfg)
    evaluate(module=str(module), target="xquad", cfg=cfg)
    written = json.loads((_only(Path(cfg.output) / "xquad") / "predictions" / "xquad" / "test-en.json").read_text())
    examples = load_eval_examples(get_task("xquad"), "test", "en", TINY_DATA, None)

    loaded = adapterx.load(module, device="cpu", target="xquad")
    rows = loaded.predict([{"id": ex["id"], "question": ex["question"], "context": ex["context"]}
                           for ex in examples])
    assert {r["id"]: r["answer"] for r in rows} == written
    assert all(r["answer"] in ex["context"] and isinstance(r["score"], float) for r, ex in zip(rows, examples))

    # a text file: question<TAB>context, answers in line order
    txt = tmp_path / "qa.txt"
    txt.write_text("".join(f"{ex['question']}\t{ex['context']}\n" for ex in examples[:3]), encoding="utf-8")
    result = _predict_cli("--module", str(module), "--input", str(txt), "--target", "xquad")
    assert result.exit_code == 0, result.output
    assert [json.loads(line)["answer"] for line in result.stdout.splitlines()] == [written[ex["id"]]
                                                                                  for ex in examples[:3]]
    one_field = tmp_path / "q.txt"
    one_field.write_text("where is it?\n")
    result = _predict_cli("--module", str(module), "--input", str(one_field))
    assert result.exit_code == 2 and "question<TAB>context" in result.output

    # sentence vectors: the representation the retrieval recipe scores (module active)
    vectors = adapterx.load(module, device="cpu", target="tatoeba").embed(["a cat", "the dog sleeps"])
    assert vectors.shape == (2, 64) and np.isfinite(vectors).all()


def test_base_model_moved_away_needs_model(make_cfg, tiny_model, tmp_path):
    import shutil

    moved = tmp_path / "moved-model"
    shutil.copytree(tiny_model, moved)
    cfg = make_cfg(model=str(moved), langs=["et"])
    module = train("copa", cfg=cfg)
    shutil.rmtree(moved)
    with pytest.raises(AdapterxError, match="not there any more") as err:
        adapterx.load(module, device="cpu")
    assert "model=DIR" in str(err.value)
    loaded = adapterx.load(module, device="cpu", model=str(tiny_model), target="xcopa")  # same weights elsewhere
    examples = load_eval_examples(get_task("xcopa"), "test", "et", TINY_DATA, None)
    rows = loaded.predict([{k: ex[k] for k in ("context", "question", "choices")} for ex in examples])
    assert all(r["choice"] in (0, 1) and sum(r["probabilities"]) == pytest.approx(1.0, abs=1e-5) for r in rows)


@pytest.mark.parametrize("kind,item,needle", [
    ("classification", {"premise": "a"}, "text_a"),
    ("multiple_choice", {"question": "q", "choices": ["a"]}, "exactly 2"),
    ("multiple_choice", {"question": "q"}, "choices"),
    ("qa", {"question": "q"}, "question and context"),
    ("tagging", [], "tokens"),
    ("tagging", ["a", 3], "tokens"),
    ("classification", ("a", 2), "text_b must be a string"),
])
def test_bad_inputs_name_the_expected_fields(kind, item, needle):
    with pytest.raises(DataError, match=needle):
        to_example(kind, item, 0, num_choices=2)


def test_inputs_become_task_examples():
    assert to_example("classification", "just one", 0)["text_b"] == ""
    assert to_example("classification", {"text_a": "a", "text_b": "b", "id": 7}, 0)["id"] == "7"
    assert to_example("tagging", "Paris is nice", 1) == {"id": "1", "tokens": ["Paris", "is", "nice"], "tags": []}
    assert to_example("multiple_choice", {"context": "c", "choices": ["x", "y"]}, 0, 2)["question"] == ""
