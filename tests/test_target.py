"""End to end: compose -> target training -> zero-shot table, results.json, predictions/, eval."""

from __future__ import annotations

import json

import pytest

from adapterx.api import direct, evaluate, fuse, stack, train
from adapterx.data.readers import read_copa_jsonl, read_tydiqa_goldp_json, read_xnli_tsv
from adapterx.metrics import squad
from adapterx.presets.tiny import TINY_DATA

RESULT_KEYS = {"target", "metric", "setup", "inter", "method", "model", "quant", "seed", "per_language",
               "average", "english_dev", "eval_split", "n_examples", "train_seconds", "peak_memory_mb",
               "trainable_params", "config_hash", "command", "hardware", "schema_version", "versions"}


def _run_dir(cfg, target):
    (folder,) = [p for p in (cfg.output and __import__("pathlib").Path(cfg.output) / target).iterdir()
                 if not p.name.startswith(".")]
    return folder


def test_fuse_tydiqa_end_to_end(make_cfg, capsys):
    cfg = make_cfg(langs=["en", "ar", "sw"])
    results = fuse("squad,mnli", "tydiqa", cfg=cfg, command="adapterx fuse ...")
    assert RESULT_KEYS <= set(results)
    assert results["setup"] == "fuse" and results["inter"] == ["squad", "mnli"]
    assert results["head_init"] == "squad"  # the span head continues from SQuAD's; MNLI's can't serve
    assert set(results["per_language"]) == {"en", "ar", "sw"}
    assert results["average_em_f1"] == pytest.approx(
        (results["average"] + results["average_em"]) / 2)
    out = capsys.readouterr().out
    assert "tydiqa zero-shot" in out and "average" in out

    run = _run_dir(cfg, "tydiqa")
    on_disk = json.loads((run / "results.json").read_text())
    assert on_disk["per_language"] == results["per_language"]
    gold = read_tydiqa_goldp_json(TINY_DATA / "tydiqa" / "tydiqa-goldp-v1.1-dev.json")
    for lang in ("en", "ar", "sw"):
        preds = json.loads((run / "predictions" / "tydiqa" / f"test-{lang}.json").read_text())
        refs = {ex["id"]: ex["answers"]["text"] for ex in gold[lang]}
        # the official metric over the written predictions gives the reported numbers
        assert squad.squad_v1(preds, refs)["f1"] == pytest.approx(results["per_language"][lang]["f1"])

    # the same command again does nothing new
    again = fuse("squad,mnli", "tydiqa", cfg=cfg)
    assert again["config_hash"] == results["config_hash"]
    assert "already done" in capsys.readouterr().out

    # eval --run reloads fusion + modules + head and reproduces the table
    re_eval = evaluate(run=str(run), cfg=make_cfg(langs=["en", "ar", "sw"]))
    for lang, score in results["per_language"].items():
        assert re_eval["per_language"][lang]["f1"] == pytest.approx(score["f1"], abs=1e-6)


def test_stack_lora_xcopa_predictions_layout(make_cfg):
    cfg = make_cfg(method="lora", langs=["et", "zh"])
    results = stack("copa", "xcopa", cfg=cfg)
    assert results["head_init"] == "copa"
    run = _run_dir(cfg, "xcopa")
    rows = [json.loads(l) for l in (run / "predictions" / "xcopa" / "test-et.jsonl").read_text().splitlines()]
    gold = read_copa_jsonl(TINY_DATA / "xcopa" / "test.et.jsonl")
    assert [r["idx"] for r in rows] == [int(ex["id"]) for ex in gold]
    acc = 100 * sum(r["label"] == ex["label"] for r, ex in zip(rows, gold)) / len(gold)
    assert acc == pytest.approx(results["per_language"]["et"])
    re_eval = evaluate(run=str(run), cfg=make_cfg(langs=["et", "zh"]))
    assert re_eval["per_language"] == pytest.approx(results["per_language"])


def test_direct_and_full_stilts_xnli(make_cfg):
    cfg = make_cfg(langs=["de", "sw"], eval_split="dev")
    results = direct("xnli", cfg=cfg)
    assert results["setup"] == "direct" and results["inter"] == [] and results["head_init"] == "fresh"
    run = _run_dir(cfg, "xnli")
    labels = (run / "predictions" / "xnli" / "dev-sw.tsv").read_text().split()
    gold = read_xnli_tsv(TINY_DATA / "xnli" / "xnli.dev.tsv", ["sw"])["sw"]
    assert len(labels) == len(gold)
    assert set(labels) <= {"entailment", "neutral", "contradiction"}

    full_cfg = make_cfg(method="full", langs=["de"], eval_split="dev", output=str(cfg.output) + "-full")
    full = stack("mnli", "xnli", cfg=full_cfg)
    assert full["setup"] == "full-stilts" and full["head_init"] == "mnli"
    assert full["trainable_params"] > results["trainable_params"] * 10


@pytest.mark.heavy  # over 4 s: CI runs it in its second step
def test_stack_reuses_the_module_train_made(make_cfg, capsys):
    cfg = make_cfg(langs=["et"])
    path = train("copa", cfg=cfg)  # `training.*` settings == the `inter.*` settings of make_cfg
    capsys.readouterr()
    stack("copa", "xcopa", cfg=cfg)
    out = capsys.readouterr().out
    assert "reusing" in out and str(path) in out.replace("\n", "")
    # other intermediate settings: a new module, and a note on how to reuse the old one
    stack("copa", "xcopa", cfg=make_cfg(langs=["et"], **{"inter__learning_rate": 1e-3}))
    assert "trained with other settings" in capsys.readouterr().out


def test_fresh_head_option(make_cfg):
    results = stack("copa", "xcopa", cfg=make_cfg(langs=["et"], head_init="fresh"))
    assert results["head_init"] == "fresh"


def test_every_seed_scores_the_same_evaluation_subset(make_cfg):
    """A subsampled evaluation set (--max-eval-examples) is fixed, not drawn by the run's seed: seeds
    then differ in training only, and setups can be paired item by item."""
    import dataclasses
    import pathlib

    from adapterx.api import report
    from adapterx.store import stable_hash
    from adapterx.data.loading import eval_sample_key
    from adapterx.recipes.grid_plan import Cell, cell_key

    ids = {}
    for seed in (0, 1):
        cfg = make_cfg(langs=["de"], eval_split="dev", seed=seed, training__max_eval_examples=5)
        results = direct("xnli", cfg=cfg)
        (scores,) = pathlib.Path(cfg.output).glob(f"xnli/*-s{seed}-{results['config_hash'][:8]}/scores/dev-de.json")
        ids[seed] = json.loads(scores.read_text())["ids"]
        assert len(ids[seed]) == 5
    assert ids[0] == ids[1]
    # keys: only runs whose subset changed (seed != 0 with a subsample) get a new one
    assert eval_sample_key(None, 1) == eval_sample_key(5, 0) == {} and eval_sample_key(5, 1)
    def key_before(cell, cfg):  # a grid cell's key before evaluation subsets were fixed
        config = cfg.to_dict()
        config["data"].pop("feature_cache")
        return stable_hash({"cell": dataclasses.asdict(cell), "config": config})

    for seed, max_eval, kept in ((1, None, True), (0, 5, True), (1, 5, False)):
        cell = Cell(target="xnli", setup="direct", inter=(), method="bottleneck", seed=seed)
        grid_cfg = make_cfg(seed=seed, training__max_eval_examples=max_eval)
        assert (cell_key(cell, grid_cfg) == key_before(cell, grid_cfg)) is kept
    # a report over runs that did score different items (made before the fix) says so
    (scores,) = pathlib.Path(cfg.output).glob("xnli/*-s1-*/scores/dev-de.json")
    data = json.loads(scores.read_text())
    data["ids"] = [f"other-{i}" for i in data["ids"][:2]] + data["ids"][2:]
    scores.write_text(json.dumps(data))
    rep = report(cfg.output, show=False)
    (group,) = [g for g in rep["groups"] if g["target"] == "xnli"]
    assert any("scored different examples" in n and "the 3 they share" in n for n in group["notes"])
