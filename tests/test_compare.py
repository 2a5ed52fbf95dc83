"""`compare` (setups side by side, deltas vs direct) and the `finetune` baseline."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from adapterx.api import build_config, compare, finetune
from adapterx.cli import main
from adapterx.errors import AdapterxError, UnknownChoiceError
from adapterx.presets.tiny import TINY_DATA, TINY_OVERRIDES
from adapterx.recipes import compare as compare_recipe
from adapterx.recipes.compare import SETUP_RUNNERS, SetupSpec, resolve_setups

DELTA = "Δ vs direct"


def _broken(inter, target, cfg, command):
    raise AdapterxError("this setup cannot run here", "nothing to fix: a test stand-in")


@pytest.fixture(scope="module")
def cfg(tiny_model, tmp_path_factory):
    """One run folder for the module: later tests reuse the runs the first compare made."""
    root = tmp_path_factory.mktemp("compare")
    overrides = {"model": str(tiny_model), "data_dir": str(TINY_DATA), "device": "cpu",
                 "output": str(root / "runs"), "modules_dir": str(root / "modules"), "langs": "et,zh",
                 **TINY_OVERRIDES}
    for section in ("training", "inter"):  # plumbing, not accuracy
        overrides.update({f"{section}.epochs": 1, f"{section}.max_train_examples": 24,
                          f"{section}.save_checkpoints": False})
    return build_config(overrides=overrides)


@pytest.fixture(scope="module")
def comparison(cfg):
    # a failing setup in the middle: compare must record it and go on with the ones after it
    with pytest.MonkeyPatch.context() as mp:
        mp.setitem(SETUP_RUNNERS, "broken", SetupSpec(_broken, uses_inter=False))
        return compare("siqa", "xcopa", setups="stack,broken,fuse,full-stilts,translate-test", cfg=cfg,
                       command="adapterx compare ...")


@pytest.mark.heavy  # over 4 s: CI runs it in its second step
def test_rows_and_deltas_against_direct(comparison):
    rows = {row["setup"]: row for row in comparison["rows"]}
    assert [r["setup"] for r in comparison["rows"]] == ["direct", "stack", "broken", "fuse", "full-stilts",
                                                        "translate-test"]
    ok = [r for r in comparison["rows"] if r["status"] == "ok"]
    assert len(ok) == 5 and comparison["languages"] == ["et", "zh"]
    reference = rows["direct"]["average"]
    for row in ok:
        assert row["delta"] == pytest.approx(row["average"] - reference)
        assert row["average"] == pytest.approx(sum(row["per_language"].values()) / len(row["per_language"]))
        assert row["trainable_params"] > 0 and row["train_seconds"] is not None
    assert rows["direct"]["delta"] == 0
    assert rows["full-stilts"]["method"] == "full" and rows["full-stilts"]["run_setup"] == "full-stilts"
    assert rows["full-stilts"]["trainable_params"] > rows["fuse"]["trainable_params"] >= rows["stack"]["trainable_params"]
    assert rows["translate-test"]["run_setup"] == "translate-test" and rows["translate-test"]["inter"] == []

    folder = Path(comparison["folder"])
    assert folder.parent.name == "xcopa" and folder.name.startswith("compare-")
    assert json.loads((folder / "compare.json").read_text())["rows"] == json.loads(json.dumps(comparison["rows"]))


def test_failed_setup_is_reported_and_the_rest_ran(comparison):
    broken = next(r for r in comparison["rows"] if r["setup"] == "broken")
    assert broken["status"] == "failed" and "this setup cannot run here" in broken["error"]
    assert broken["average"] is None and broken["delta"] is None
    md = (Path(comparison["folder"]) / "compare.md").read_text()
    line = next(l for l in md.splitlines() if l.startswith("| broken "))
    assert "failed" in line and "this setup cannot run here" in line


def test_markdown_delta_column(comparison):
    lines = [l for l in (Path(comparison["folder"]) / "compare.md").read_text().splitlines() if l.startswith("|")]
    head = [c.strip() for c in lines[0].strip("|").split("|")]
    assert head[:3] == ["setup", "et", "zh"] and DELTA in head and "trainable params" in head
    table = {cells[0]: cells for cells in ([c.strip() for c in l.strip("|").split("|")] for l in lines[2:])}
    reference = float(table["direct"][head.index("average")])
    for row in comparison["rows"]:
        if row["status"] == "ok":
            cells = table[row["setup"]]
            assert cells[head.index("average")] == f"{row['average']:.1f}"
            assert cells[head.index(DELTA)] == f"{row['average'] - comparison['rows'][0]['average']:+.1f}"
            assert float(cells[head.index(DELTA)]) == pytest.approx(float(cells[head.index("average")]) - reference,
                                                                   abs=0.11)


def test_terminal_table(comparison, cfg, capsys):
    # everything is reused now: no training, and one table with every setup
    again = compare(["siqa"], "xcopa", setups="fuse", cfg=cfg)
    out = capsys.readouterr().out
    assert "already done" in out and "setups compared" in out and DELTA in out
    assert [r["config_hash"] for r in again["rows"]] == [comparison["rows"][0]["config_hash"],
                                                         comparison["rows"][3]["config_hash"]]


def test_full_stilts_over_two_tasks_runs_one_full_model_per_task(cfg):
    # full fine-tuning continues from one intermediate model, so two tasks are two full-stilts rows
    result = compare("siqa,copa", "xcopa", setups="full-stilts", cfg=cfg)
    assert [r["setup"] for r in result["rows"]] == ["direct", "full-stilts:siqa", "full-stilts:copa"]
    assert all(r["status"] == "ok" and r["run_setup"] in ("direct", "full-stilts") for r in result["rows"])
    assert [r["inter"] for r in result["rows"]] == [[], ["siqa"], ["copa"]]


def test_finetune_is_full_stilts_or_full_direct(comparison, cfg):
    stilts = finetune("xcopa", inter="siqa", cfg=cfg)  # the run compare made, reused
    assert stilts["setup"] == "full-stilts" and stilts["method"] == "full" and stilts["inter"] == ["siqa"]
    assert stilts["config_hash"] == next(r for r in comparison["rows"] if r["setup"] == "full-stilts")["config_hash"]
    alone = finetune("xcopa", cfg=build_config(**{**cfg.to_dict(), "method": "lora", "langs": ["et"]}))
    assert alone["setup"] == "full-direct" and alone["method"] == "full" and alone["inter"] == []


def test_setup_registry_choices():
    assert resolve_setups(None, ["siqa"]) == ["direct", "stack", "fuse"]
    assert resolve_setups("fuse,direct,fuse", ["siqa"]) == ["direct", "fuse"]
    assert resolve_setups(["translate-test", "full-direct"], []) == ["direct", "translate-test", "full-direct"]
    with pytest.raises(UnknownChoiceError, match="fuse") as err:
        resolve_setups("fusion", ["siqa"])
    assert "translate-test" in str(err.value)
    with pytest.raises(AdapterxError, match="--inter"):
        resolve_setups("stack", [])
    assert SETUP_RUNNERS["full-stilts"].method == "full" and SETUP_RUNNERS["lora-fusion"].method == "lora"
    assert compare_recipe.DEFAULT_SETUPS[0] == "direct"


@pytest.mark.parametrize("args, needles", [
    (["compare", "--target", "xcopa", "--inter", "siqa", "--setups", "stack,nonsense"], ["unknown setup", "fuse"]),
    (["compare", "--target", "xcopa"], ["need intermediate tasks", "--inter"]),
    (["compare", "--target", "siqa", "--inter", "copa"], ["unknown target task 'siqa'", "xcopa"]),
    (["compare", "--target", "xcopa", "--inter", "xnli"], ["--task mnli"]),
    (["compare", "--target", "xcopa", "--inter", "siqa", "--langs", "de"], ["unknown language", "et"]),
    (["finetune", "--target", "xcopa", "--method", "lora"], ["full fine-tuning", "--method"]),
    (["finetune", "--target", "xcopa", "--method", "prefix"], ["full fine-tuning"]),
    (["translate-test", "--target", "udpos"], ["translate-test target", "xcopa"]),
    (["translate-test", "--target", "xcopa", "--eval-split", "dev"], ["translated test sets only"]),
    (["translate-test", "--target", "xcopa", "--langs", "qu"], ["test.qu.jsonl"]),
])
def test_cli_bad_input_exits_2(args, needles, tmp_path):
    words = args[:1] + ["--model", "unused", "--data-dir", str(TINY_DATA), "--output", str(tmp_path)] + args[1:]
    result = CliRunner().invoke(main, words)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    for needle in needles:
        assert needle in result.output, result.output


def test_translate_test_needs_data_dir():
    result = CliRunner().invoke(main, ["translate-test", "--target", "xcopa", "--model", "unused"])
    assert result.exit_code == 2 and "--data-dir" in result.output
