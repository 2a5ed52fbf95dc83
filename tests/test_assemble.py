"""One builder of models (adapterx.assemble), setups decided by the methods (Method.plan), and one
writer each of results.json and adapterx.json."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from adapterx.composition import Composition
from adapterx.errors import ModuleMismatchError
from adapterx.methods.base import FUSION, TARGET_MODULE, MethodBase
from adapterx.store import META_FILE, write_meta

PACKAGE = Path(__file__).resolve().parents[1] / "adapterx"
# the recipes that build models: none of them loads a backbone or tests a setup's name
MODEL_RECIPES = ("train_module", "multitask", "target", "common", "evaluate", "retrieval", "translate_test",
                 "suggest")
FILE_NAMES = ('"results.json"', '"adapterx.json"', "META_FILE", "RESULTS_FILE")
WRITE_CALLS = {"write_json_atomic", "write_text", "write_bytes", "dump", "save_file", "copy", "copy2", "move"}
SINGLE_WRITERS = {("store.py", "write_meta"), (str(Path("report", "results.py")), "write_results")}


def _called(node: ast.Call) -> str:
    func = node.func
    return func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")


def _writers(path: Path, root: Path = PACKAGE) -> list[str]:
    """Lines of `path` that write results.json / adapterx.json outside the two single writers: a
    write call whose target names the file, or a variable assigned from an expression naming it."""
    source = path.read_text(encoding="utf-8")
    found = []
    for func in [n for n in ast.walk(ast.parse(source)) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]:
        if (str(path.relative_to(root)), func.name) in SINGLE_WRITERS:
            continue
        names_file = lambda expr: any(f in (ast.get_source_segment(source, expr) or "") for f in FILE_NAMES)  # noqa: E731
        aliases = {t.id for n in ast.walk(func) if isinstance(n, ast.Assign) and names_file(n.value)
                   for t in n.targets if isinstance(t, ast.Name)}
        for call in [n for n in ast.walk(func) if isinstance(n, ast.Call) and _called(n) in WRITE_CALLS]:
            parts = [*call.args, *(k.value for k in call.keywords)]
            if isinstance(call.func, ast.Attribute):
                parts.append(call.func.value)  # (folder / "results.json").write_text(...)
            if any(names_file(p) or (isinstance(p, ast.Name) and p.id in aliases) for p in parts):
                found.append(f"{path.relative_to(root)}:{call.lineno}: "
                             f"{ast.get_source_segment(source, call).splitlines()[0]}")
    return found


def test_results_and_meta_have_one_writer_each():
    """results.json only through report.results.write_results, adapterx.json only through
    store.write_meta (which checks it against the schema first)."""
    found = [line for path in sorted(PACKAGE.rglob("*.py")) for line in _writers(path)]
    assert found == []


def test_the_grep_finds_a_second_writer(tmp_path):
    """The check above is not vacuous: a write of either file outside its writer is found."""
    sample = tmp_path / "store.py"  # the single writers' file, other functions
    sample.write_text('def save(tmp, data):\n    path = tmp / "results.json"\n    write_json_atomic(path, data)\n'
                      'def meta(tmp):\n    (tmp / META_FILE).write_text("{}")\n', encoding="utf-8")
    assert len(_writers(sample, tmp_path)) == 2


def test_models_are_built_in_assemble_only():
    calls = sorted(str(p.relative_to(PACKAGE)) for p in PACKAGE.rglob("*.py")
                   if "load_backbone(" in p.read_text(encoding="utf-8"))
    assert calls == ["assemble.py", "backbone.py"]


def test_recipes_and_assemble_test_no_setup_names():
    """What a setup loads, trains and activates is the method's (Method.plan), not the recipes'."""
    branch = re.compile(r"""\.?setup\s*(==|!=|in\s*\(|not\s+in\s*\()""")
    # every recipe (grid and compare plan cells from SetupSpec flags, not from names)
    files = [PACKAGE / "assemble.py", *sorted((PACKAGE / "recipes").glob("*.py"))]
    found = [f"{p.name}:{i}: {line.strip()}" for p in files
             for i, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1) if branch.search(line)]
    assert found == []
    assembly = (PACKAGE / "assemble.py").read_text(encoding="utf-8")
    assert not re.search(r"adapterx\.methods\.(?!base\b|registry\b)\w+", assembly)  # no method folder


def test_write_meta_refuses_what_read_meta_would(tmp_path):
    with pytest.raises(ModuleMismatchError, match="unsafe name"):
        write_meta(tmp_path, {"kind": "module", "task": "../../etc", "method": "lora", "key": "k",
                              "base_model": {"name": "m", "fingerprint": {}}, "head": {"kind": "classification"}})
    assert not (tmp_path / META_FILE).exists()
    write_meta(tmp_path, {"kind": "run", "key": "k", "config": {"output": tmp_path}})  # a Path is stored as text
    assert (tmp_path / META_FILE).read_text().count(str(tmp_path)) == 1


@pytest.mark.parametrize("setup, load, continued, module, train, train_active, infer_active", [
    ("direct", (), None, TARGET_MODULE, TARGET_MODULE, ("direct", ()), ("stack", (TARGET_MODULE,))),
    ("stack", ("a", "b"), None, TARGET_MODULE, TARGET_MODULE, ("stack", ("a", "b")),
     ("stack", ("a", "b", TARGET_MODULE))),
    ("sequential", (), "a", TARGET_MODULE, TARGET_MODULE, ("direct", ()), ("stack", (TARGET_MODULE,))),
    ("fuse", ("a", "b"), None, None, FUSION, ("fuse", ("a", "b")), ("fuse", ("a", "b"))),
])
def test_default_plan_per_setup(setup, load, continued, module, train, train_active, infer_active):
    inter = () if setup == "direct" else ("a",) if setup == "sequential" else ("a", "b")
    plan = MethodBase().plan(Composition(setup, inter), inter)
    assert (plan.load, plan.continued, plan.module, plan.train) == (load, continued, module, train)
    assert plan.train_active == Composition(*train_active) and plan.infer_active == Composition(*infer_active)
    assert plan.adds_module == (module is not None and continued is None)


def test_multitask_plan_stacks_its_one_module_and_lora_merge_infers_with_the_merged_one():
    plan = MethodBase().plan(Composition("multitask", ("mnli", "squad")), ("multitask-mnli+squad",))
    assert plan.train_active == Composition("stack", ("multitask-mnli+squad",))
    assert plan.infer_active == Composition("stack", ("multitask-mnli+squad", TARGET_MODULE))
    assert MethodBase().trains_jointly(Composition("multitask", ("mnli", "squad")))
    from adapterx.methods.lora.merge import MERGED
    from adapterx.methods.lora.method import LoraMethod

    merge = LoraMethod().plan(Composition("merge", ("a", "b")), ("a", "b"))
    assert merge.infer_active == Composition("stack", (MERGED, TARGET_MODULE)) and merge.load == ("a", "b")


@pytest.mark.heavy  # over 4 s: CI runs it in its second step
def test_eval_module_runs_in_the_modules_own_eval_context(make_cfg, monkeypatch):
    # `eval --module` of a LoRA module with the command's default --method: LoRA's evaluation
    # context (merged for the final pass) must be the one entered, not the default method's
    from adapterx.api import evaluate as evaluate_run, train
    from adapterx.methods import method_spec

    cfg = make_cfg(method="lora")
    path = train("copa", cfg=cfg)
    entered = []
    for name in ("lora", "bottleneck"):
        cls = type(method_spec(name).build())
        original = cls.eval_context

        def spy(self, bb, _name=name, _original=original):
            entered.append(_name)
            return _original(self, bb)

        monkeypatch.setattr(cls, "eval_context", spy)
    evaluate_run(module=str(path), target="xcopa", cfg=make_cfg(langs=["et"]))
    assert entered == ["lora"]
