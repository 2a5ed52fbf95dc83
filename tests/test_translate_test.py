"""translate-test: the English-trained target model on test sets machine-translated into English."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from adapterx.api import translate_test
from adapterx.data.readers import read_copa_jsonl
from adapterx.errors import DataError, UnknownChoiceError
from adapterx.presets.tiny import TINY_DATA
from adapterx.recipes import translate_test as tt_recipe
from adapterx.recipes.translate_test import supported_targets, translated_files

TT_DIR = TINY_DATA / "xcopa-translate-test"


def test_stacked_model_is_scored_on_the_english_files(make_cfg, monkeypatch):
    evaluated: list[str] = []  # every text the translate-test evaluation scored
    real_evaluate = tt_recipe.evaluate

    def spy(model, task, examples, tokenizer, settings, device, lang="en"):
        evaluated.extend(ex["context"] for ex in examples)
        assert lang == "en"  # translated texts are scored as English
        return real_evaluate(model, task, examples, tokenizer, settings, device, lang)

    monkeypatch.setattr(tt_recipe, "evaluate", spy)
    cfg = make_cfg(langs=["et", "zh"])
    results = translate_test("xcopa", inter="siqa", cfg=cfg, command="adapterx translate-test ...")

    assert results["setup"] == "translate-test" and results["trained_setup"] == "stack"
    assert results["inter"] == ["siqa"] and set(results["per_language"]) == {"et", "zh"}
    for lang in ("et", "zh"):
        english = [ex["context"] for ex in read_copa_jsonl(TT_DIR / f"test.{lang}.jsonl")]
        original = [ex["context"] for ex in read_copa_jsonl(TINY_DATA / "xcopa" / f"test.{lang}.jsonl")]
        assert set(english) <= set(evaluated)  # the translations were scored ...
        assert not set(original) & set(evaluated)  # ... and never the original-language texts

    assert results["eval_files"]["et"] == str(TT_DIR / "test.et.jsonl")
    (folder,) = [p for p in (Path(cfg.output) / "xcopa").glob("translate-test-*") if p.is_dir()]
    on_disk = json.loads((folder / "results.json").read_text())
    assert on_disk["setup"] == "translate-test" and on_disk["per_language"] == results["per_language"]
    gold = read_copa_jsonl(TT_DIR / "test.et.jsonl")
    rows = [json.loads(line) for line in (folder / "predictions" / "xcopa" / "test-et.jsonl").read_text().splitlines()]
    assert [r["idx"] for r in rows] == [int(ex["id"]) for ex in gold]
    accuracy = 100 * sum(r["label"] == ex["label"] for r, ex in zip(rows, gold)) / len(gold)
    assert accuracy == pytest.approx(results["per_language"]["et"])
    # the trained model is the stack run itself, reused on a second call (no new training)
    assert Path(results["trained_run"]).name.startswith("stack-siqa-")
    again = translate_test("xcopa", inter=["siqa"], cfg=cfg)
    assert again["config_hash"] == results["config_hash"]


def test_languages_without_a_translation_are_skipped(tmp_path, capsys):
    from adapterx.api import build_config

    _, files = translated_files("xcopa", build_config(data_dir=str(TINY_DATA)))
    assert "qu" not in files and files["et"] == TT_DIR / "test.et.jsonl"
    assert "no translated test file for qu" in capsys.readouterr().out
    with pytest.raises(DataError, match="qu") as err:  # asked for by name: an error naming the file
        translated_files("xcopa", build_config(data_dir=str(TINY_DATA), langs=["et", "qu"]))
    assert "test.qu.jsonl" in str(err.value)


def test_other_targets_read_their_own_format(tmp_path):
    from adapterx.api import build_config

    (tmp_path / "xnli-translate-test").mkdir()
    (tmp_path / "xnli-translate-test" / "test.de.tsv").write_text(
        "language\tgold_label\tsentence1\tsentence2\n"
        "de\tentailment\tJonas lives in Bremen.\tJonas lives in a city.\n", encoding="utf-8")
    task, files = translated_files("xnli", build_config(data_dir=str(tmp_path), langs=["de", "en"]))
    assert files["en"] is None  # English is scored on its own test set, which needs no translation
    assert task.translate_test.read(files["de"])[0]["text_a"] == "Jonas lives in Bremen."

    shutil.copytree(TINY_DATA / "squad", tmp_path / "squad")
    (tmp_path / "tydiqa-translate-test").mkdir()
    shutil.copy(TINY_DATA / "squad" / "dev-v1.1.json", tmp_path / "tydiqa-translate-test" / "test.ar.json")
    task, files = translated_files("tydiqa", build_config(data_dir=str(tmp_path), langs=["ar"]))
    assert task.translate_test.read(files["ar"])[0]["answers"]["text"]


def test_clear_errors():
    from adapterx.api import build_config

    assert {"xcopa", "xnli", "pawsx", "xquad", "mlqa", "tydiqa"} <= set(supported_targets())
    with pytest.raises(UnknownChoiceError, match="xcopa") as err:
        translated_files("udpos", build_config(data_dir=str(TINY_DATA)))
    assert "word-level labels" in str(err.value)
    with pytest.raises(DataError, match="--data-dir"):
        translated_files("xcopa", build_config())
    with pytest.raises(DataError, match="xquad-translate-test"):
        translated_files("xquad", build_config(data_dir=str(TINY_DATA)))
    with pytest.raises(Exception, match="eval-split"):
        translated_files("xcopa", build_config(data_dir=str(TINY_DATA), eval_split="dev"))
