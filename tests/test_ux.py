"""Usability: fast failure without the Hub, did-you-mean, `config --list`, plain/json tables,
quiet training logs, report_to."""

from __future__ import annotations

import json
import socket
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from adapterx import hub_probe
from adapterx.cli import main
from adapterx.errors import HubUnreachableError


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def unreachable_hub(monkeypatch, tmp_path):
    """The Hub at a closed local port, probing on, every library's offline flag restored afterwards."""
    import datasets.config
    import huggingface_hub.constants
    import transformers.utils.hub

    url = f"http://127.0.0.1:{_closed_port()}"
    monkeypatch.setenv("HF_ENDPOINT", url)
    monkeypatch.setenv(hub_probe.PROBE_ENV, "1")
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    for name in ("HF_DATASETS_OFFLINE", "TRANSFORMERS_OFFLINE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(huggingface_hub.constants, "ENDPOINT", url)
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(datasets.config, "HF_ENDPOINT", url)
    monkeypatch.setattr(datasets.config, "HUB_DATASETS_URL", url + "/datasets/{repo_id}/resolve/{revision}/{path}")
    monkeypatch.setattr(datasets.config, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(transformers.utils.hub, "_is_offline_mode", False)
    monkeypatch.setattr(datasets.config, "HF_DATASETS_CACHE", tmp_path / "datasets")
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path / "hub"))
    return url


def test_unreachable_hub_fails_within_seconds_with_the_data_dir_hint(unreachable_hub):
    from adapterx.data.hub import load_hub_split

    start = time.monotonic()
    with pytest.raises(HubUnreachableError) as info:
        load_hub_split("squad", "train")
    assert time.monotonic() - start < 8  # the retries alone took ~35 s
    assert "--data-dir DIR" in str(info.value) and "did not answer" in str(info.value)
    assert info.value.exit_code == 2


def test_unreachable_hub_model_fails_fast_with_the_model_hint(unreachable_hub):
    from adapterx.backbone import load_backbone

    start = time.monotonic()
    with pytest.raises(HubUnreachableError, match="--model DIR"):
        load_backbone("xlm-roberta-base", device="cpu")
    assert time.monotonic() - start < 8


def test_hf_hub_offline_skips_the_probe(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(hub_probe.socket, "create_connection", lambda *a, **k: pytest.fail("probed"))
    assert hub_probe.check_hub() == "offline mode is on (HF_HUB_OFFLINE=1)"


def _run(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_unknown_config_key_suggests_close_keys_not_all():
    out = _run("config", "lerning_rate=1e-4")
    assert out.exit_code == 2
    assert "did you mean training.learning_rate" in out.output
    assert "config --list" in out.output
    assert "lora.r," not in out.output and "retrieval.pool" not in out.output  # not the whole list


def test_unknown_task_and_language_suggest_the_close_choice():
    from adapterx.errors import UnknownChoiceError
    from adapterx.tasks import get_task

    with pytest.raises(UnknownChoiceError, match="did you mean 'commonsenseqa'"):
        get_task("comonsenseqa")
    err = UnknownChoiceError("language of xnli", "sx", ["sw", "de", "zh"])
    assert err.suggestions == ["sw"] and "valid choices: de, sw, zh" in str(err)
    assert "did you mean" not in str(UnknownChoiceError("method", "qqqqq", ["lora", "full"]))


def test_tasks_piped_are_whole_lines_grep_finds():
    out = _run("tasks")
    assert out.exit_code == 0
    lines = [ln for ln in out.output.splitlines() if "commonsenseqa" in ln]
    assert lines and lines[0].split()[0] == "commonsenseqa"
    assert "…" not in out.output
    assert "commonsenseqa/train_rand_split.jsonl" in lines[0]


def test_tasks_json_for_scripts():
    rows = json.loads(_run("tasks", "--format", "json").output)
    squad = next(r for r in rows if r["name"] == "squad")
    assert squad["languages"] == ["en"] and squad["kind"] == "qa"
    assert _run("tasks", "--format", "csv").exit_code == 2


def test_config_list_has_every_key_default_and_help():
    from adapterx.configs.run import RunConfig

    rows = json.loads(_run("config", "--list", "--format", "json").output)
    keys = {r["key"]: r for r in rows}
    assert keys["training.learning_rate"]["help"] and keys["lora.r"]["default"] == RunConfig().lora.r
    assert all(r["help"] for r in rows), [r["key"] for r in rows if not r["help"]]
    assert keys["training.report_to"]["default"] == "none"
    resolved = json.loads(_run("config", "lora.r=4", "--format", "json").output)
    assert {"key": "lora.r", "value": 4} in resolved


def test_help_explains_overrides():
    out = _run("fuse", "--help").output
    assert "KEY=VALUE" in out and "training.learning_rate=3e-4" in out and "adapterx config --list" in out


def test_training_shows_dev_per_epoch_and_no_raw_log_dicts(make_cfg, capfd, monkeypatch):
    from adapterx import api

    monkeypatch.setenv("ADAPTERX_PROGRESS", "1")  # bars as on a terminal

    api.train("mnli", cfg=make_cfg(training__epochs=2, training__logging_steps=1))
    err = capfd.readouterr().err
    assert "epoch 1.00: English dev" in err and "epoch 2.00: English dev" in err
    assert "{'loss'" not in err and "'grad_norm'" not in err
    assert "evaluating" in err  # the dev set's bar


def test_report_to_is_checked_and_reaches_the_trainer(make_cfg, monkeypatch, tmp_path):
    import importlib.util

    from adapterx.errors import AdapterxError, UnknownChoiceError
    from adapterx.recipes.common import train_settings
    from adapterx.tasks import get_task
    from adapterx.training import training_arguments

    with pytest.raises(UnknownChoiceError, match="did you mean 'wandb'"):
        make_cfg(training__report_to="wandbb")
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name.startswith("tensorboard") else real(name, *a))
    with pytest.raises(AdapterxError, match="pip install tensorboard"):
        make_cfg(training__report_to="tensorboard")
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: object() if name.startswith("tensorboard") else real(name, *a))
    cfg = make_cfg(training__report_to="tensorboard")
    import torch

    args = training_arguments(train_settings(get_task("mnli"), cfg), tmp_path / "runs" / ".work" / "k1",
                              torch.device("cpu"), torch.float32)
    assert args.report_to == ["tensorboard"] and args.logging_dir == str(tmp_path / "runs" / ".logs" / "k1")
    assert training_arguments(train_settings(get_task("mnli"), make_cfg()), tmp_path / "w" / "k",
                              torch.device("cpu"), torch.float32).report_to == []


def test_compare_runs_full_stilts_once_per_intermediate_task(make_cfg, monkeypatch):
    from adapterx import api
    from adapterx.recipes import compare as compare_recipe

    calls = []

    def fake(name):
        def run(target, inter=None, cfg=None, command="", **_):
            calls.append((name, list(inter or []), cfg.method))
            if name == "finetune" and len(inter or []) > 1:
                raise AssertionError("full fine-tuning cannot stack two tasks")
            return {"setup": name, "per_language": {"et": 50.0}, "average": 50.0, "method": cfg.method}
        return run

    monkeypatch.setattr(api, "direct", lambda target, cfg=None, command="": fake("direct")(target, cfg=cfg))
    monkeypatch.setattr(api, "finetune", fake("finetune"))
    out = compare_recipe.run_compare(["siqa", "copa"], "xcopa", "full-stilts", make_cfg(langs="et"))
    assert [r["setup"] for r in out["rows"]] == ["direct", "full-stilts:siqa", "full-stilts:copa"]
    assert all(r["status"] == "ok" for r in out["rows"])
    assert ("finetune", ["siqa"], "full") in calls and ("finetune", ["copa"], "full") in calls
    assert [r["inter"] for r in out["rows"][1:]] == [["siqa"], ["copa"]]


def test_tiny_preset_computes_on_one_thread(monkeypatch):
    import torch

    from adapterx.api import build_config

    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    before = torch.get_num_threads()
    try:
        torch.set_num_threads(2)
        build_config(preset="tiny")
        assert torch.get_num_threads() == 1  # 2 threads made the demo 2-4x slower on a busy CPU
        torch.set_num_threads(2)
        monkeypatch.setenv("OMP_NUM_THREADS", "2")
        build_config(preset="tiny")
        assert torch.get_num_threads() == 2  # the user's setting wins
    finally:
        torch.set_num_threads(before)


def test_eval_scores_a_base_model_on_a_retrieval_target(tiny_model, tmp_path, monkeypatch, capfd):
    from adapterx.errors import AdapterxError

    monkeypatch.setenv("ADAPTERX_PROGRESS", "1")

    fixtures = Path(__file__).parent / "fixtures"
    out = _run("eval", "--model", str(tiny_model), "--target", "tatoeba", "--data-dir", str(fixtures),
               "--langs", "de", "--device", "cpu", "--output", str(tmp_path / "runs"))
    assert out.exit_code == 0, out.output
    (results,) = (tmp_path / "runs" / "tatoeba").glob("retrieval-base-*/results.json")
    data = json.loads(results.read_text())
    assert data["setup"] == "retrieval" and data["inter"] == [] and 0 <= data["per_language"]["de"] <= 100
    assert "embedding" in out.output + capfd.readouterr().err  # the retrieval embedding has a bar
    bad = _run("eval", "--model", str(tiny_model), "--target", "xnli", "--device", "cpu")
    assert bad.exit_code == 2 and "adapterx direct --target xnli" in bad.output
    with pytest.raises(AdapterxError, match="not both"):
        from adapterx.api import evaluate

        evaluate(run="a", module="b")


def test_eval_run_reads_the_runs_own_data_not_the_hub(make_cfg, tmp_path, monkeypatch):
    import datasets

    from adapterx import api
    from adapterx.presets.tiny import TINY_DATA

    cfg = make_cfg(langs="et")
    results = api.direct("xcopa", cfg=cfg)
    (run,) = [p.parent for p in Path(cfg.output).glob("xcopa/*/results.json")]
    monkeypatch.setattr(datasets, "load_dataset", lambda *a, **k: pytest.fail("the Hub was used"))
    again = api.evaluate(run=str(run), cfg=api.build_config(overrides={
        "device": "cpu", "output": str(tmp_path / "eval"), "langs": "et"}))
    assert again["per_language"] == results["per_language"]
    assert str(TINY_DATA) == json.loads((run / "module" / "adapterx.json").read_text())["config"]["data_dir"]


def test_push_dry_run_writes_the_card_locally_without_token(make_cfg, tmp_path, monkeypatch):
    import huggingface_hub

    from adapterx import api

    monkeypatch.delenv("HF_TOKEN", raising=False)
    monkeypatch.setattr(huggingface_hub.HfApi, "upload_folder", lambda *a, **k: pytest.fail("uploaded"))
    module = api.train("mnli", cfg=make_cfg())
    out = _run("push", str(module), "--repo", "alice/mnli-bn", "--dry-run", "--out", str(tmp_path / "prev"),
               "--license", "mit")
    assert out.exit_code == 0, out.output
    assert "nothing uploaded" in out.output
    card = (tmp_path / "prev" / "README.md").read_text()
    assert "alice/mnli-bn" in card and "license: mit" in card
    assert (tmp_path / "prev" / "adapterx.json").is_file()
    again = _run("push", str(module), "--repo", "alice/mnli-bn", "--dry-run", "--out", str(tmp_path / "prev"))
    assert again.exit_code == 0 and "license: mit" not in (tmp_path / "prev" / "README.md").read_text()


def test_language_bars_draw_a_chance_line_and_sensible_limits(tmp_path, monkeypatch):
    from matplotlib.figure import Figure

    from adapterx.report import plots

    figures = []
    monkeypatch.setattr(Figure, "savefig", lambda self, *a, **k: figures.append(self))
    summary = {"target": "xcopa", "metric": "accuracy", "label": "siqa", "setup": "stack", "method": "bottleneck",
               "model": "m", "quant": "none", "eval_split": "test",
               "per_language": {"et": {"mean": 58.0, "ci": None}, "ht": {"mean": 51.0, "ci": None}}}
    plots.language_bars([summary], "xcopa", tmp_path / "x.png")
    (ax,) = figures[0].axes
    assert [line.get_ydata()[0] for line in ax.get_lines()] == [50.0]  # XCOPA: 2 choices
    assert ax.get_ylim() == (0.0, pytest.approx(58.0 * 1.25))
    assert plots.chance_level("xnli") == pytest.approx(100 / 3) and plots.chance_level("tydiqa") is None
    assert plots.y_top(99.0, None) == 115.0 and plots.y_top(0.0, None) == 1.0


def test_quiet_grid_prints_one_progress_line_and_the_final_table(make_cfg, tmp_path, monkeypatch, capsys):
    import yaml

    from adapterx import api
    from adapterx.progress import enabled
    from adapterx.recipes import grid as grid_mod
    from adapterx.report.console import console

    path = tmp_path / "grid.yaml"
    path.write_text(yaml.safe_dump({"name": "q", "intermediate": ["copa"], "targets": ["xcopa"],
                                    "setups": ["direct", "stack"], "seeds": [0]}), encoding="utf-8")
    seen = []

    def noisy(cell, cfg, command=""):
        console.print("CELL NOISE")  # what a recipe prints: tables, training lines
        seen.append(enabled())
        return {"target": "xcopa", "average": 55.0 if cell.setup == "direct" else 60.0}

    monkeypatch.setattr(grid_mod, "run_cell", noisy)
    api.grid(str(path), cfg=make_cfg(langs=["et"]), quiet=True)
    out = capsys.readouterr()
    assert "CELL NOISE" not in out.out + out.err and seen == [False, False]  # cells silenced, bars off
    rows = {line.split()[0]: line.split()[1:] for line in out.out.splitlines() if line.startswith("xcopa/")}
    assert rows["xcopa/direct/bottleneck/s0"] == ["done", "55.0"] and rows["xcopa/stack(copa)/bottleneck/s0"][1] == "60.0"
    assert out.err.count("2/2") == 1  # the one progress line
    assert "Δ" not in out.out  # no plan table
    console.print("back")
    assert "back" in capsys.readouterr().out and enabled() is None  # restored afterwards
