"""The leakage guard: evaluation texts found in training data refuse a run (or warn), with counts
and examples, before anything trains; module folders carry hashes of their training texts."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from adapterx.api import build_config
from adapterx.cli import main
from adapterx.data.loading import english_train_dev, load_examples
from adapterx.errors import AdapterxError
from adapterx.leakage import (HASHES_FILE, LeakageGuard, examples_hashes, guard_for_run, normalise,
                              save_train_hashes)
from adapterx.presets.tiny import TINY_DATA
from adapterx.tasks import get_task

from .conftest import SHARED_DATA

FAST = ["training.epochs=1", "training.max_seq_length=64", "training.save_checkpoints=false",
        "training.max_dev_examples=8", "inter.epochs=1", "inter.max_seq_length=64",
        "inter.save_checkpoints=false", "bottleneck.reduction_factor=4"]


@pytest.fixture
def data(tmp_path) -> Path:
    """A writable copy of the tiny sample data."""
    return Path(shutil.copytree(TINY_DATA, tmp_path / "data"))


def _cli(tiny_model, tmp_path, data, *args: str):
    argv = [*args, "--model", str(tiny_model), "--data-dir", str(data), "--device", "cpu",
            "--output", str(tmp_path / "runs"), "--modules-dir", str(tmp_path / "modules"), *FAST]
    return CliRunner().invoke(main, argv)


def _leak_xnli_into_mnli(data: Path, n: int = 2, into: str = "train.tsv") -> None:
    """Append the first `n` English XNLI test rows to an MNLI file (as MNLI rows; `into`: train.tsv
    or dev_matched.tsv)."""
    header, *rows = (data / "xnli" / "xnli.test.tsv").read_text(encoding="utf-8").splitlines()
    cols = header.split("\t")
    english = [dict(zip(cols, r.split("\t"))) for r in rows if r.startswith("en\t")][:n]
    mnli = data / "mnli" / into
    mnli_cols = mnli.read_text(encoding="utf-8").splitlines()[0].split("\t")
    extra = ["\t".join({"index": str(900 + i), "gold_label": r["gold_label"], "label1": r["gold_label"],
                        "sentence1": r["sentence1"].upper(), "sentence2": r["sentence2"] + "  !"}.get(c, "x")
                       for c in mnli_cols) for i, r in enumerate(english)]
    with open(mnli, "a", encoding="utf-8") as f:
        f.write("\n".join(extra) + "\n")


def test_normalise_ignores_case_width_punctuation_and_spacing():
    assert normalise("  Hello,\tWORLD!! “quoted” ") == "hello world quoted"
    assert normalise("ＦＵＬＬ\u00a0width") == normalise("full width")  # NFKC
    assert normalise("Straße") == normalise("STRASSE")  # casefold
    assert normalise("¿Dónde vive Pablo?") == "dónde vive pablo"


def test_hashing_is_fast():
    rng = np.random.default_rng(0)
    words = np.array("the a man woman dog ran walked quickly park house city river".split())
    examples = [{"text_a": " ".join(rng.choice(words, 20)) + ".", "text_b": f"Sentence {i} is here."}
                for i in range(60_000)]
    start = time.perf_counter()
    hashes = examples_hashes(examples, "classification")
    assert time.perf_counter() - start < 6  # ~0.6 s here; 300k pairs take about 3 s
    assert hashes.dtype == np.uint64 and len(hashes) == 60_000


def test_tiny_sample_data_is_leak_free():
    """The shipped demo data passes the guard for every target, with every intermediate task."""
    for target, inter in (("xnli", ["mnli", "squad"]), ("xcopa", ["siqa", "copa"]),
                          ("tydiqa", ["squad", "mnli"]), ("xquad", ["squad", "mnli"])):
        task = get_task(target)
        for split in task.splits:
            if split == "train":
                continue
            train, _ = english_train_dev(task, TINY_DATA, None, None, 0)
            cfg = build_config(overrides={"data_dir": str(TINY_DATA), "data.leakage_tolerance": 0})
            guard = guard_for_run(task, cfg, split, list(task.languages), train)
            for name in inter:
                source = get_task(name)
                guard.check_examples(name, load_examples(source, "train", "en", TINY_DATA), source.kind)
            assert guard.overlaps == [], (target, split)


def test_target_training_data_leak_is_refused_before_training(tiny_model, tmp_path, data):
    _leak_xnli_into_mnli(data)
    result = _cli(tiny_model, tmp_path, data, "direct", "--target", "xnli", "--langs", "en,de")
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    out = " ".join(result.output.split())
    assert "examples affected per language: en: 2 of 6" in out, out
    assert "e.g. en item:" in out and "leakage=warn" in out
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").rglob("results.json"))


def test_intermediate_module_leak_is_refused_before_it_trains(tiny_model, tmp_path, data):
    item = json.loads((data / "xcopa" / "test.it.jsonl").read_text(encoding="utf-8").splitlines()[1])
    with open(data / "siqa" / "train.jsonl", "a", encoding="utf-8") as f:
        f.write(json.dumps({"context": item["premise"], "question": "Why?", "answerA": "a b",
                            "answerB": "c d", "answerC": "e f"}) + "\n")
    with open(data / "siqa" / "train-labels.lst", "a", encoding="utf-8") as f:
        f.write("1\n")
    result = _cli(tiny_model, tmp_path, data, "stack", "--inter", "siqa", "--target", "xcopa",
                  "--langs", "it,et")
    assert result.exit_code == 2, result.output
    out = " ".join(result.output.split())
    assert "siqa train (intermediate module)" in out and "it: 1 of 6" in out, out
    assert "Andrea" in out
    assert not list((tmp_path / "modules").glob("siqa/*/adapterx.json"))  # refused before training


def test_warn_runs_and_records_the_overlap(tiny_model, tmp_path, data):
    _leak_xnli_into_mnli(data)
    result = _cli(tiny_model, tmp_path, data, "direct", "--target", "xnli", "--langs", "en",
                  "training.max_eval_examples=6", "leakage=warn")
    assert result.exit_code == 0, result.output
    assert "warning" in result.output
    (path,) = (tmp_path / "runs" / "xnli").glob("*/results.json")
    record = json.loads(path.read_text())["leakage"]
    assert record["mode"] == "warn"
    assert record["overlaps"][0]["examples"] == {"en": 2}
    assert (path.parent / "module" / HASHES_FILE).is_file()


def test_stored_hashes_cover_reused_modules_and_old_ones_are_named(tmp_path):
    xnli = get_task("xnli")
    evals = {"en": load_examples(xnli, "test", "en", TINY_DATA)}
    module = tmp_path / "mnli-module"
    module.mkdir()
    save_train_hashes(module, [(evals["en"][:3], "classification")])  # a module trained on 3 of them
    guard = LeakageGuard.for_eval("warn", 0.0, "xnli", "test", "classification", evals)
    guard.check_module("mnli train (intermediate module)", module)  # no data given: the stored hashes
    assert guard.overlaps[0].per_language == {"en": 3}
    old = tmp_path / "old-module"
    old.mkdir()
    guard.check_module("squad train (intermediate module)", old)
    assert guard.not_covered and "has no train_hashes.npy" in guard.not_covered[0]
    refuse = LeakageGuard.for_eval("refuse", 0.4, "xnli", "test", "classification", evals)
    with pytest.raises(AdapterxError, match="3 of 6"):
        refuse.check_module("mnli", module)
    more = {"en": evals["en"] + load_examples(xnli, "dev", "en", TINY_DATA)}
    tolerant = LeakageGuard.for_eval("refuse", 0.4, "xnli", "test", "classification", more)  # 3 of 12
    tolerant.check_module("mnli", module)
    assert tolerant.overlaps


def test_bad_leakage_settings_exit_2(tiny_model, tmp_path, data):
    for setting in ("leakage=sometimes", "data.leakage_tolerance=2"):
        result = _cli(tiny_model, tmp_path, data, "direct", "--target", "xnli", setting)
        assert result.exit_code == 2 and "data.leakage" in result.output, result.output


@pytest.mark.skipif(not SHARED_DATA.is_dir(), reason="../shared/data is absent")
def test_real_leak_free_samples_pass():
    """MANIFEST.md's re-splits are leak-free: no overlap for XNLI / XQuAD / XCOPA; UD English-EWT's
    dev and test files share 5 boilerplate / quoted lines (0.2%), within the default tolerance."""
    for target, split, langs, sources in (("xnli", "dev", ["en", "sw"], ["mnli"]),
                                          ("xquad", "test", ["en", "de", "es"], ["squad"]),
                                          ("xcopa", "test", ["it", "et", "zh"], ["copa", "siqa", "cosmosqa"]),
                                          ("udpos", "dev", ["en", "de"], ["udpos"])):
        task = get_task(target)
        evals = {lang: load_examples(task, split, lang, SHARED_DATA) for lang in langs}
        guard = LeakageGuard.for_eval("refuse", 0.01, target, split, task.kind, evals)
        for name in sources:
            source = get_task(name)
            guard.check_examples(name, load_examples(source, "train", "en", SHARED_DATA), source.kind)
        assert sum(sum(o.per_language.values()) for o in guard.overlaps) <= (5 if target == "udpos" else 0)
