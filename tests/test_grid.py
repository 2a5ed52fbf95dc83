"""`adapterx grid`: planning, skipping finished cells, rerunning changed ones, failures, interruption."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from adapterx import api
from adapterx.cli import main
from adapterx.errors import AdapterxError
from adapterx.recipes import grid as grid_mod
from adapterx.recipes.grid_plan import Cell, load_spec, module_trainings, plan_cells

REPO = Path(__file__).resolve().parents[1]


def _spec(tmp_path: Path, **fields) -> Path:
    data = {"name": "t", "intermediate": ["copa"], "targets": ["xcopa"], "setups": ["direct", "stack"],
            "seeds": [0], "config": {"langs": ["et"], "training.max_eval_examples": 4}}
    data.update(fields)
    path = tmp_path / "grid.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def test_plan_expands_the_matrix_and_counts_module_trainings(tmp_path):
    spec = load_spec(_spec(tmp_path, intermediate=["siqa", "mnli"], targets=["xcopa", "tatoeba"],
                           setups=["direct", "stack", "fuse", "full-stilts"], seeds=[0, 1]))
    cells, notes = plan_cells(spec)
    xcopa = [c for c in cells if c.target == "xcopa"]
    # direct 2 seeds + stack 2 inter x 2 seeds + fuse (all inter) 2 seeds + full-stilts 2 x 2
    assert len(xcopa) == 2 + 4 + 2 + 4
    assert Cell("xcopa", "fuse", ("siqa", "mnli"), "bottleneck", 1) in cells
    assert Cell("xcopa", "full-stilts", ("mnli",), "full", 0) in cells
    tatoeba = {(c.setup, c.inter) for c in cells if c.target == "tatoeba"}
    assert tatoeba == {("direct", ()), ("stack", ("siqa",)), ("stack", ("mnli",))}
    assert any("tatoeba: fuse left out" in n for n in notes)
    # modules: (siqa, mnli) x (bottleneck, full) x 2 seeds, each once whatever the targets
    assert len(module_trainings(cells)) == 8


def test_bad_grid_files_are_clear_errors(tmp_path):
    with pytest.raises(AdapterxError, match="valid choices.*intermediate"):
        load_spec(_spec(tmp_path, epochs=3))
    with pytest.raises(AdapterxError, match="unknown setup 'stak'"):
        load_spec(_spec(tmp_path, setups=["stak"]))
    with pytest.raises(AdapterxError, match="unknown target task 'squad'"):
        load_spec(_spec(tmp_path, targets=["squad"]))
    result = CliRunner().invoke(main, ["grid", str(_spec(tmp_path, methods=["qlora"]))])
    assert result.exit_code == 2 and "bottleneck" in result.output and "Traceback" not in result.output


def test_shipped_experiment_files_plan(tmp_path):
    for name in ("tiny", "phang2020"):
        cells, _ = plan_cells(load_spec(REPO / "configs" / "experiments" / f"{name}.yaml"))
        assert cells
    tiny = load_spec(REPO / "configs" / "experiments" / "tiny.yaml")
    assert len(tiny.intermediate) == 2 and len(tiny.targets) == 2 and len(tiny.seeds) == 2


def test_grid_skips_done_cells_reruns_changed_ones_and_records_failures(make_cfg, tmp_path, monkeypatch):
    path = _spec(tmp_path)
    cfg = make_cfg(langs=["et"])
    calls: list[str] = []
    real = grid_mod.run_cell

    def counting(cell, c, command=""):
        calls.append(cell.label)
        return real(cell, c, command)

    monkeypatch.setattr(grid_mod, "run_cell", counting)
    state = api.grid(str(path), cfg=cfg)["cells"]
    assert sorted(calls) == ["xcopa/direct/bottleneck/s0", "xcopa/stack(copa)/bottleneck/s0"]
    assert all(r["status"] == "done" and Path(r["results"]).is_file() for r in state.values())

    calls.clear()
    api.grid(str(path), cfg=cfg)
    assert calls == []  # nothing to redo

    calls.clear()
    plan = api.grid(str(path), cfg=make_cfg(langs=["et"], **{"training__learning_rate": 1e-3}),
                    dry_run=True)
    assert calls == [] and plan["planned"]  # a dry run runs nothing
    api.grid(str(path), cfg=make_cfg(langs=["et"], **{"training__learning_rate": 1e-3}))
    assert len(calls) == 2  # a changed config reruns its cells

    def failing(cell, c, command=""):
        if cell.setup == "stack":
            raise AdapterxError("boom in stack")
        return real(cell, c, command)

    monkeypatch.setattr(grid_mod, "run_cell", failing)
    state = api.grid(str(path), cfg=make_cfg(langs=["et"], **{"training__learning_rate": 5e-4}))["cells"]
    assert state["xcopa/stack(copa)/bottleneck/s0"]["status"] == "failed"
    assert "boom" in state["xcopa/stack(copa)/bottleneck/s0"]["error"]
    assert state["xcopa/direct/bottleneck/s0"]["status"] == "done"  # the grid went on


@pytest.mark.heavy  # over 4 s: CI runs it in its second step
def test_interrupted_grid_keeps_finished_cells(make_cfg, tmp_path, monkeypatch):
    path = _spec(tmp_path, seeds=[0, 1])
    cfg = make_cfg(langs=["et"])
    real = grid_mod.run_cell
    done: list[str] = []

    def interrupt_third(cell, c, command=""):
        if len(done) == 2:
            raise KeyboardInterrupt
        done.append(cell.label)
        return real(cell, c, command)

    monkeypatch.setattr(grid_mod, "run_cell", interrupt_third)
    with pytest.raises(KeyboardInterrupt):
        api.grid(str(path), cfg=cfg)
    saved = json.loads((Path(cfg.output) / "grid-t" / "state.json").read_text())["cells"]
    assert sorted(saved) == sorted(done)

    rerun: list[str] = []

    def counting(cell, c, command=""):
        rerun.append(cell.label)
        return real(cell, c, command)

    monkeypatch.setattr(grid_mod, "run_cell", counting)
    api.grid(str(path), cfg=cfg)
    assert len(rerun) == 2 and not set(rerun) & set(done)  # only the two unfinished cells


def test_submitit_executor_runs_modules_then_cells(make_cfg, tmp_path, monkeypatch):
    pytest.importorskip("submitit")
    monkeypatch.setenv("ADAPTERX_SUBMITIT_CLUSTER", "debug")  # same code path, in-process
    state = api.grid(str(_spec(tmp_path)), cfg=make_cfg(langs=["et"]), executor="submitit")["cells"]
    assert {r["status"] for r in state.values()} == {"done"}


def test_pinned_module_seed_trains_each_module_once_and_scores_retrieval_once(tmp_path):
    spec = load_spec(_spec(tmp_path, intermediate=["siqa", "mnli"], targets=["xcopa", "tatoeba"],
                           setups=["direct", "stack"], seeds=[0, 1, 2]))
    per_seed, _ = plan_cells(spec)
    pinned, notes = plan_cells(spec, module_seed=0)
    assert module_trainings(per_seed) == {(t, "bottleneck", s) for t in ("siqa", "mnli") for s in (0, 1, 2)}
    assert module_trainings(pinned, module_seed=0) == {("siqa", "bottleneck", 0), ("mnli", "bottleneck", 0)}
    # the base's retrieval scores never depend on the seed; a pinned module's neither
    assert sum(c.target == "tatoeba" and c.setup == "direct" for c in per_seed) == 1
    assert sum(c.target == "tatoeba" for c in per_seed) == 1 + 2 * 3
    assert sum(c.target == "tatoeba" for c in pinned) == 1 + 2
    assert sum(c.target == "xcopa" for c in pinned) == 3 * (1 + 2)  # trained targets keep every seed
    assert any("scored once" in n for n in notes)


def test_module_seed_keys_modules_apart_from_the_run_seed(make_cfg):
    cfg = make_cfg(seed=2, module_seed=0)
    assert cfg.for_intermediate().seed == 0 and cfg.seed == 2
    assert make_cfg(seed=2).for_intermediate().seed == 2
    with pytest.raises(AdapterxError, match="module_seed"):
        make_cfg(module_seed=-1)


def test_target_config_overrides_one_target_and_is_checked_early(tmp_path, make_cfg):
    from adapterx.recipes.grid_plan import cell_config

    path = _spec(tmp_path, targets=["xcopa", "tatoeba"],
                 target_config={"tatoeba": {"langs": ["de", "fr"], "retrieval.batch_size": 8}})
    spec = load_spec(path)
    base = make_cfg(langs=["et"])
    cells, _ = plan_cells(spec)
    by_target = {c.target: cell_config(base, c, spec) for c in cells}
    assert by_target["tatoeba"].langs == ["de", "fr"] and by_target["tatoeba"].retrieval.batch_size == 8
    assert by_target["xcopa"].langs == ["et"] and base.langs == ["et"]  # the base is not touched
    with pytest.raises(AdapterxError, match="target_config entry 'xnli'"):
        load_spec(_spec(tmp_path, target_config={"xnli": {"langs": ["sw"]}}))
    with pytest.raises(AdapterxError, match="unknown config key"):
        load_spec(_spec(tmp_path, target_config={"xcopa": {"trainig.epochs": 2}}))
    with pytest.raises(AdapterxError, match="must map names"):
        load_spec(_spec(tmp_path, target_config=["xcopa"]))


def test_method_config_sets_full_fine_tuning_apart_and_seeds_setups_restrict(tmp_path, make_cfg):
    from adapterx.recipes.grid_plan import cell_config, restrict

    path = _spec(tmp_path, setups=["direct", "stack", "full-direct"], seeds=[0, 1],
                 method_config={"full": {"training.learning_rate": 2e-5}},
                 target_config={"xcopa": {"training.learning_rate": 7e-4}})
    spec = load_spec(path)
    cells, _ = plan_cells(spec)
    lrs = {c.method: cell_config(make_cfg(), c, spec).training.learning_rate for c in cells}
    assert lrs == {"bottleneck": 7e-4, "full": 2e-5}  # the method's entry applies last
    with pytest.raises(AdapterxError, match="method_config entry 'qlora'"):
        load_spec(_spec(tmp_path, method_config={"qlora": {"seed": 1}}))
    cheap = restrict(spec, seeds=[1], setups=["direct"])
    assert [c.label for c in plan_cells(cheap)[0]] == ["xcopa/direct/bottleneck/s1"]
    with pytest.raises(AdapterxError, match="seed of this grid"):
        restrict(spec, seeds=[5])
    path = _spec(tmp_path, setups=["direct", "stack"])  # (the file above was overwritten)
    result = CliRunner().invoke(main, ["grid", str(path), "--dry-run", "--setups", "stak"])
    assert result.exit_code == 2 and "direct" in result.output and "Traceback" not in result.output
