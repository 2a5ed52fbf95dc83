"""`adapterx report`: synthetic run folders (results.json + scores written by the run writer with
made-up per-example values) -> tables, statistics, files, plots; and one real tiny run end to end."""

from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from adapterx.api import direct, report, stack
from adapterx.cli import main
from adapterx.errors import AdapterxError, UnknownChoiceError
from adapterx.evaluation import EvalResult
from adapterx.report.results import write_predictions, write_results
from adapterx.tasks import get_task

N = 300  # examples per language


def make_run(root: Path, setup: str, inter: list[str], seed: int, correct: dict[str, np.ndarray],
             method: str = "bottleneck", target: str = "xcopa", scores: bool = True) -> Path:
    """A run folder as the target recipe writes it, from 0/1 correctness per example and language."""
    task = get_task(target)
    folder = root / target / f"{setup}-{'-'.join(inter)}-{method}-s{seed}"
    folder.mkdir(parents=True)
    examples, results, per_language = {}, {}, {}
    for lang, ok in correct.items():
        examples[lang] = [{"id": str(i), "label": i % 2} for i in range(len(ok))]
        preds = [ex["label"] if c else 1 - ex["label"] for ex, c in zip(examples[lang], ok)]
        acc = 100.0 * float(np.mean(ok))
        results[lang] = EvalResult({"accuracy": acc}, preds, len(ok), acc)
        per_language[lang] = acc
    write_predictions(folder, task, "test", results, examples)
    if not scores:  # a run written before per-example scores existed
        shutil.rmtree(folder / "scores")
    write_results(folder, {
        "target": target, "metric": "accuracy", "setup": setup, "inter": inter, "method": method,
        "model": "xlm-roberta-large", "quant": "none", "seed": seed, "per_language": per_language,
        "average": sum(per_language.values()) / len(per_language), "eval_split": "test",
        "n_examples": {lang: len(ok) for lang, ok in correct.items()}})
    return folder


def draws(p: float, seed: int, n: int = N) -> np.ndarray:
    """Reproducible 0/1 correctness with rate p."""
    return (np.random.default_rng(seed).random(n) < p).astype(int)


@pytest.fixture
def runs(tmp_path) -> Path:
    """xcopa: direct (2 seeds), stack siqa (clear gain, 2 seeds), stack copa (same predictions as
    direct), a full-stilts / full-direct pair, and an old run without scores."""
    root = tmp_path / "runs"
    for seed in (0, 1):
        base = {"et": draws(0.55, 10 + seed), "ht": draws(0.5, 20 + seed), "en": draws(0.7, 30 + seed)}
        make_run(root, "direct", [], seed, base)
        # siqa fixes 40% of the baseline's errors on every language: a real gain
        gain = {lang: np.maximum(v, draws(0.4, 40 + seed + i, len(v))) for i, (lang, v) in enumerate(base.items())}
        make_run(root, "stack", ["siqa"], seed, gain)
        make_run(root, "stack", ["copa"], seed, {lang: v.copy() for lang, v in base.items()})  # no gain
    make_run(root, "full-direct", [], 0, {"et": draws(0.6, 50), "ht": draws(0.5, 51)}, method="full")
    make_run(root, "full-stilts", ["siqa"], 0, {"et": draws(0.62, 52), "ht": draws(0.53, 53)}, method="full")
    make_run(root, "fuse", ["siqa", "copa"], 0, {"et": draws(0.6, 60), "ht": draws(0.5, 61), "en": draws(0.7, 62)},
             scores=False)
    return root


def by_label(rep: dict, label: str, method: str = "bottleneck", target: str = "xcopa") -> dict:
    (group,) = [g for g in rep["groups"] if g["label"] == label and g["method"] == method and g["target"] == target]
    return group


def test_seed_mean_std_delta_and_significance(runs):
    rep = report(runs, show=False)
    base, siqa, copa = by_label(rep, "baseline"), by_label(rep, "siqa"), by_label(rep, "copa")
    assert base["seeds"] == [0, 1] and len(siqa["runs"]) == 2
    per_seed = base["average"]["per_seed"]
    assert base["average"]["mean"] == pytest.approx(np.mean(per_seed))
    assert base["average"]["std"] == pytest.approx(np.std(per_seed, ddof=1))
    assert siqa["delta"]["average"] == pytest.approx(siqa["average"]["mean"] - base["average"]["mean"])
    assert siqa["delta"]["per_language"]["et"]["delta"] == pytest.approx(
        siqa["per_language"]["et"]["mean"] - base["per_language"]["et"]["mean"])
    # a clear gain is significant; identical predictions are not
    assert siqa["delta"]["p"] < 0.01 and siqa["delta"]["per_language"]["ht"]["p"] < 0.01
    assert copa["delta"]["average"] == pytest.approx(0.0) and copa["delta"]["p"] > 0.5
    # the 95% CI brackets the point estimate
    for group in (base, siqa, copa):
        for v in group["per_language"].values():
            assert v["ci"][0] <= v["mean"] <= v["ci"][1]
        assert group["average"]["ci"][0] <= group["average"]["mean"] <= group["average"]["ci"][1]


def test_full_stilts_compares_with_full_direct_and_old_runs_get_na(runs):
    rep = report(runs, show=False)
    stilts, full_direct = by_label(rep, "siqa", "full"), by_label(rep, "baseline", "full")
    assert stilts["setup"] == "full-stilts" and stilts["baseline"] == "baseline"
    assert stilts["delta"]["average"] == pytest.approx(stilts["average"]["mean"] - full_direct["average"]["mean"])
    fuse = by_label(rep, "fuse:siqa+copa")
    assert fuse["per_example_scores"] is False and fuse["average"]["ci"] is None
    assert fuse["per_language"]["et"]["ci"] is None and fuse["delta"]["p"] is None
    assert fuse["delta"]["average"] is not None  # the delta itself needs no per-example scores
    assert any("no per-example scores" in n for n in fuse["notes"])


def test_robustness_figures(runs):
    rep = report(runs, show=False)
    siqa = by_label(rep, "siqa")
    r, scores = siqa["robustness"], {k: v["mean"] for k, v in siqa["per_language"].items()}
    assert r["transfer_gap"] == pytest.approx(scores["en"] - np.mean([scores["et"], scores["ht"]]))
    assert r["worst_language"] == min(scores, key=scores.get)
    assert r["std_over_languages"] == pytest.approx(np.std(list(scores.values())))
    assert r["low"]["languages"] == ["et", "ht"] and r["high"]["languages"] == []  # en is in neither
    assert r["low"]["gain"] == pytest.approx(np.mean([siqa["delta"]["per_language"][x]["delta"] for x in ("et", "ht")]))
    assert by_label(rep, "siqa", "full")["robustness"]["transfer_gap"] is None  # no English evaluated


def test_report_files(runs, tmp_path):
    out = tmp_path / "out"
    rep = report(runs, out=out, plot=True, show=False)
    md = (out / "report.md").read_text()
    assert "| target | baseline | copa | siqa |" in md
    siqa = by_label(rep, "siqa")
    assert f"{siqa['average']['mean']:.1f} ± {siqa['average']['std']:.1f} ({siqa['delta']['average']:+.1f}*)" in md
    assert "xcopa (full)" in md and "## Robustness" in md and "## XTREME scores" in md and "(partial)" in md
    rows = list(csv.DictReader(io.StringIO((out / "report.csv").read_text())))
    assert len(rows) == 3 * 2 * 3 + 2 * 2 + 3  # direct/siqa/copa x 2 seeds x 3 languages, full x 2, fuse
    row = next(r for r in rows if (r["setup"], r["inter"], r["seed"], r["language"]) == ("stack", "siqa", "1", "et"))
    assert float(row["score"]) == pytest.approx(siqa["per_language"]["et"]["per_seed"][1])
    on_disk = json.loads((out / "report.json").read_text())
    assert on_disk["n_runs"] == 9 and on_disk["settings"]["resamples"] == 1000
    assert {e["benchmark"] for e in on_disk["xtreme"]} == {"xtreme-r"}  # xcopa is an XTREME-R task only
    pngs = [out / "plots" / "deltas_heatmap.png", out / "plots" / "per_language_xcopa.png"]
    for png in pngs:
        assert png.stat().st_size > 1000 and png.read_bytes()[:4] == b"\x89PNG"
    assert sorted(rep["files"]["plots"]) == sorted(map(str, pngs))


def test_formats_and_default_out(runs, capsys):
    report(runs, formats="json")
    assert sorted(p.name for p in (runs / "report").iterdir()) == ["report.json"]
    assert "adapterx report" in capsys.readouterr().out
    again = report(runs, show=False)  # the report folder itself is not a run
    assert again["n_runs"] == 9


def test_skips_evals_incomplete_and_same_seed_duplicates(runs):
    (runs / "xcopa" / "eval-x").mkdir()
    src = json.loads(next((runs / "xcopa").glob("direct-*s0*/results.json")).read_text())
    (runs / "xcopa" / "eval-x" / "results.json").write_text(json.dumps({**src, "evaluated": "somewhere"}))
    (runs / "xcopa" / "broken").mkdir()
    (runs / "xcopa" / "broken" / "results.json").write_text("{")
    make_run(runs / "newer", "direct", [], 0, {"et": draws(0.9, 1)})
    rep = report(runs, show=False)
    reasons = " ".join(s["reason"] for s in rep["skipped"])
    assert "adapterx eval" in reasons and "not valid JSON" in reasons and "same group and seed" in reasons
    assert by_label(rep, "baseline")["seeds"] == [0, 1]


def test_qa_xtreme_score_and_retrieval_without_scores(tmp_path):
    root = tmp_path / "runs"
    for setup, inter, f1 in (("direct", [], 60.0), ("stack", ["squad"], 64.0)):
        folder = root / "tydiqa" / f"{setup}-run"
        folder.mkdir(parents=True)
        write_results(folder, {"target": "tydiqa", "metric": "f1", "setup": setup, "inter": inter,
                               "method": "bottleneck", "model": "m", "quant": "none", "seed": 0, "eval_split": "test",
                               "per_language": {"en": {"f1": f1 + 10, "exact_match": f1},
                                                "sw": {"f1": f1, "exact_match": f1 - 10}},
                               "average": f1 + 5})
    for inter, acc in (([], 40.0), (["squad"], 45.0)):
        folder = root / "tatoeba" / f"retrieval-{len(inter)}"
        folder.mkdir(parents=True)
        write_results(folder, {"target": "tatoeba", "metric": "accuracy", "setup": "retrieval", "inter": inter,
                               "method": "bottleneck" if inter else "none", "model": "m", "quant": "none", "seed": 0,
                               "eval_split": "test", "per_language": {"de": acc, "sw": acc - 10}, "average": acc - 5})
    rep = report(root, show=False)
    stacked = next(e for e in rep["xtreme"] if e["benchmark"] == "xtreme" and e["label"] == "stack:squad")
    assert stacked["tasks"]["tydiqa"] == pytest.approx(((74 + 64) / 2 + (64 + 54) / 2) / 2)  # (EM + F1) / 2
    assert stacked["tasks"]["tatoeba"] == pytest.approx(40.0) and stacked["partial"]
    assert "tydiqa" in stacked["missing_languages"] and "pawsx" in stacked["missing_tasks"]
    base = next(e for e in rep["xtreme"] if e["benchmark"] == "xtreme" and e["label"] == "direct")
    assert stacked["delta"] == pytest.approx(stacked["score"] - base["score"])
    retrieval = by_label(rep, "squad", target="tatoeba")
    assert retrieval["setup"] == "retrieval" and retrieval["delta"]["average"] == pytest.approx(5.0)
    assert retrieval["delta"]["p"] is None and retrieval["average"]["ci"] is None


def test_errors_name_the_fix(tmp_path, runs):
    (tmp_path / "empty").mkdir()
    with pytest.raises(AdapterxError, match="has no runs") as err:
        report(tmp_path / "empty", show=False)
    assert "fix:" in str(err.value)
    with pytest.raises(AdapterxError, match="not a folder"):
        report(tmp_path / "missing", show=False)
    with pytest.raises(UnknownChoiceError, match="valid choices: csv, json, md"):
        report(runs, formats="md,pdf", show=False)
    result = CliRunner().invoke(main, ["report", str(tmp_path / "empty")])
    assert result.exit_code == 2 and "has no runs" in result.output and "Traceback" not in result.output
    ok = CliRunner().invoke(main, ["report", str(runs), "--format", "md", "--out", str(tmp_path / "cli"),
                                   "--resamples", "200"])
    assert ok.exit_code == 0, ok.output
    assert (tmp_path / "cli" / "report.md").exists()


def test_real_tiny_runs_write_scores_the_report_reads(make_cfg):
    cfg = make_cfg(langs=["et"])
    direct("xcopa", cfg=cfg)
    stack("copa", "xcopa", cfg=cfg)
    folders = [p for p in (Path(cfg.output) / "xcopa").iterdir() if not p.name.startswith(".")]
    assert len(folders) == 2
    for folder in folders:
        data = json.loads((folder / "scores" / "test-et.json").read_text())
        results = json.loads((folder / "results.json").read_text())
        assert data["aggregate"] == "mean" and len(data["ids"]) == results["n_examples"]["et"]
        assert data["score"] == pytest.approx(results["per_language"]["et"])
    rep = report(cfg.output, show=False, resamples=200)
    copa = by_label(rep, "copa")
    assert copa["per_example_scores"] and copa["per_language"]["et"]["ci"] is not None
    assert copa["delta"]["p"] is not None
