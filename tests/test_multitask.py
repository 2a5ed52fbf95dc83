"""Multi-task intermediate modules: task sampling, one module with a head per task (of different
kinds), save / load / reuse, the `multitask` target setup, and bad input at the CLI."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from click.testing import CliRunner

from adapterx.api import evaluate, multitask, train
from adapterx.cli import main
from adapterx.data.multitask import batches_per_epoch, draw_plan, source_probabilities, task_probabilities
from adapterx.errors import UnknownChoiceError
from adapterx.presets.tiny import TINY_DATA
from adapterx.store import HEAD_FILE, read_meta


def test_sampling_probabilities():
    sizes = [900, 100]
    assert task_probabilities(sizes, "proportional") == pytest.approx([0.9, 0.1])
    assert task_probabilities(sizes, "uniform") == pytest.approx([0.5, 0.5])
    # T = 2: p_i ~ sqrt(n_i) -> 30 : 10
    assert task_probabilities(sizes, "temperature", 2.0) == pytest.approx([0.75, 0.25])
    assert task_probabilities(sizes, "temperature", 1.0) == pytest.approx([0.9, 0.1])
    # MLM takes its ratio off the top; the tasks keep their relative weights
    assert source_probabilities(sizes, "proportional", 2.0, 0.2) == pytest.approx([0.72, 0.08, 0.2])
    assert batches_per_epoch([900, 100], 10, None) == 100
    assert batches_per_epoch([900, 100], 10, 0.2) == 125
    with pytest.raises(UnknownChoiceError, match="proportional"):
        task_probabilities(sizes, "annealed")


@pytest.mark.parametrize("scheme", ["proportional", "temperature", "uniform"])
def test_drawn_batches_follow_the_scheme(scheme):
    sizes = [600, 150, 50]
    probs = task_probabilities(sizes, scheme, 2.0)
    n = 20000
    plan = draw_plan(sizes, probs, batch_size=4, n_batches=n, seed=0, epoch=0)
    counts = Counter(source for source, _ in plan)
    for i, p in enumerate(probs):  # binomial sd <= 0.0035 at n = 20000: 0.015 is > 4 sd
        assert counts[i] / n == pytest.approx(p, abs=0.015)
    # a source's rows: every row once before any repeats; the same seed and epoch, the same plan
    first_pass = [r for source, rows in plan if source == 2 for r in rows][:50]
    assert sorted(first_pass) == list(range(50))
    assert draw_plan(sizes, probs, 4, n, 0, 0) == plan
    assert draw_plan(sizes, probs, 4, n, 0, 1) != plan  # each epoch draws its own plan


def test_multitask_module_heads_of_two_kinds_save_load_reuse(make_cfg, capsys):
    small = {"training__max_train_examples": 12, "training__max_dev_examples": 8}
    cfg = make_cfg(**small)
    path = train("squad,mnli,siqa", cfg=cfg)  # span QA + classification + multiple choice
    meta = read_meta(path)
    assert meta["kind"] == "module" and meta["task"] == "multitask-mnli+siqa+squad"
    assert meta["tasks"] == ["mnli", "siqa", "squad"]
    assert {k: v["kind"] for k, v in meta["heads"].items()} == {
        "mnli": "classification", "siqa": "multiple_choice", "squad": "qa"}
    assert set(meta["metrics"]["english_dev"]) == {"mnli", "siqa", "squad"}
    assert "f1" in meta["metrics"]["english_dev"]["squad"]
    assert meta["multitask"]["scheme"] == "proportional"
    assert sum(meta["multitask"]["probabilities"].values()) == pytest.approx(1.0, abs=1e-5)
    assert meta["base_model"]["fingerprint"]["hidden_size"] == 64
    assert (path / "adapter_config.json").is_file()  # the module in its native (adapters) format
    for task in meta["tasks"]:
        assert (path / "heads" / task / HEAD_FILE).is_file()
    assert path.parent.name == "mnli+siqa+squad" and path.parent.parent.name == "multitask"

    # the same tasks in another order, same settings: reused, not retrained
    capsys.readouterr()
    assert train(["mnli", "siqa", "squad"], cfg=cfg) == path
    assert "reusing" in capsys.readouterr().out
    # another sampling scheme: another module
    other = train("squad,mnli,siqa", cfg=make_cfg(**small, **{"multitask__sampling": "temperature",
                                                             "multitask__temperature": 3.0}))
    assert other != path and read_meta(other)["multitask"]["scheme"] == "temperature"

    # loads: zero-shot XNLI through the MNLI head of the multi-task module
    results = evaluate(module=str(path), target="xnli", cfg=make_cfg(langs=["de"], eval_split="dev"))
    assert set(results["per_language"]) == {"de"}


def test_multitask_target_run(make_cfg, capsys):
    cfg = make_cfg(method="lora", langs=["de", "sw"], eval_split="dev")
    results = multitask("mnli,siqa", "xnli", cfg=cfg, command="adapterx multitask ...")
    assert results["setup"] == "multitask" and results["inter"] == ["mnli", "siqa"]
    assert results["head_init"] == "mnli"  # the MNLI head of the multi-task module fits XNLI
    assert results["modules"][0]["task"] == "multitask-mnli+siqa"
    (run,) = [p for p in (Path(cfg.output) / "xnli").iterdir() if not p.name.startswith(".")]
    assert run.name.startswith("multitask-mnli-siqa-lora")
    on_disk = json.loads((run / "results.json").read_text())
    assert on_disk["setup"] == "multitask"
    assert (run / "predictions" / "xnli" / "dev-sw.tsv").is_file()
    # the run reloads (multi-task module + target module + head) and scores the same
    again = evaluate(run=str(run), cfg=make_cfg(langs=["de", "sw"], eval_split="dev"))
    assert again["per_language"] == pytest.approx(results["per_language"])
    # a second multitask run with the same intermediate settings reuses the module
    capsys.readouterr()
    multitask(["siqa", "mnli"], "xnli", cfg=make_cfg(method="lora", langs=["de"], eval_split="dev"))
    assert "reusing" in capsys.readouterr().out


@pytest.fixture
def cli(tiny_model, tmp_path):
    def run(*args: str):
        base = ["--model", str(tiny_model), "--data-dir", str(TINY_DATA), "--device", "cpu",
                "--output", str(tmp_path / "runs"), "--modules-dir", str(tmp_path / "modules")]
        return CliRunner().invoke(main, [args[0], *base, *args[1:]])
    return run


@pytest.mark.parametrize("args, needles", [
    (("train", "--task", "mnli,siqa,mnli"), ("listed twice", "mnli")),
    (("multitask", "--inter", "mnli,mnli", "--target", "xnli"), ("listed twice",)),
    (("train", "--task", "mnli,xnli"), ("xnli has no English training split", "--task mnli")),
    (("multitask", "--inter", "squad,tydiqa", "--target", "tydiqa"), ("tydiqa is the target task", "--inter squad")),
    (("multitask", "--inter", "mnli", "--target", "xnli"), ("at least two tasks", "adapterx stack")),
    (("train", "--task", "mnli,siqa", "multitask.sampling=annealed"),
     ("unknown multitask.sampling 'annealed'", "proportional", "temperature", "uniform")),
    (("train", "--task", "mnli,siqa", "multitask.temperature=0"), ("multitask.temperature must be > 0",)),
])
def test_bad_multitask_input_exits_2(cli, args, needles):
    result = cli(*args)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    for needle in needles:
        assert needle in result.output, result.output
