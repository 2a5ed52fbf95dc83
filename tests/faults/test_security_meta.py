"""A hostile or broken adapterx.json is refused with exit 2 and a clear message (never a
traceback), and head paths never lead outside the module folder."""

from __future__ import annotations

import json
import shutil

import pytest
from click.testing import CliRunner

from adapterx.cli import main
from adapterx.errors import ModuleMismatchError
from adapterx.module_meta import validate_meta
from adapterx.store import HEAD_FILE

from tests.faults._hostile import build_module, copy_module, eval_argv


@pytest.fixture(scope="module")
def template(tiny_model, tmp_path_factory):
    return build_module(tiny_model, tmp_path_factory.mktemp("templates"), "lora")


@pytest.fixture
def module(template, tmp_path):
    return copy_module(template, tmp_path / "modules")


def _meta(module) -> dict:
    return json.loads((module / "adapterx.json").read_text())


def _write(module, meta) -> None:
    text = meta if isinstance(meta, str) else json.dumps(meta)
    (module / "adapterx.json").write_text(text)


def _eval(module, tmp_path):
    result = CliRunner().invoke(main, eval_argv(module, tmp_path / "runs"))
    assert result.exit_code == 2, (result.output, result.exception)
    assert "Traceback" not in result.output and "fix:" in result.output
    return result.output


@pytest.mark.parametrize("edit,expected", [
    (lambda m: "{not json", "not valid JSON"),
    (lambda m: [m], "schema"),
    (lambda m: {**m, "task": 5}, "task"),
    (lambda m: {**m, "base_model": "xlm-roberta-large"}, "base_model"),
    (lambda m: {k: v for k, v in m.items() if k != "kind"}, "'kind' is a required property"),
    (lambda m: {k: v for k, v in m.items() if k != "head"}, "'head' is a required property"),
    (lambda m: {**m, "kind": "target"}, "'composition' is a required property"),
    (lambda m: {**m, "kind": "target", "composition": {"setup": "stack", "inter": "mnli"}, "modules": []},
     "composition/inter"),
    (lambda m: {**m, "schema_version": 99}, "upgrade adapterx"),
], ids=["bad-json", "a-list", "task-not-a-string", "base-model-not-an-object", "no-kind", "no-head",
        "target-without-composition", "inter-not-a-list", "newer-schema"])
def test_broken_metadata_is_a_clear_error(module, tmp_path, edit, expected):
    _write(module, edit(_meta(module)))
    assert expected in _eval(module, tmp_path)
    assert not (tmp_path / "runs").exists()


def _multitask_meta(module, name: str) -> dict:
    meta = _meta(module)
    spec = meta.pop("head")
    return {**meta, "tasks": ["mnli"], "heads": {name: spec}}


def test_a_head_path_with_dotdot_is_refused(module, tmp_path):
    """`heads: {"../../outside": ...}` would read modules/outside/adapterx_head.safetensors."""
    outside = module.parent.parent / "outside"
    outside.mkdir()
    shutil.copy(module / HEAD_FILE, outside / HEAD_FILE)
    _write(module, _multitask_meta(module, "../../outside"))
    assert "unsafe name '../../outside'" in _eval(module, tmp_path)


def test_a_head_folder_linked_outside_the_module_is_refused(module, tmp_path):
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    shutil.copy(module / HEAD_FILE, outside / HEAD_FILE)
    (module / "heads").mkdir()
    (module / "heads" / "mnli").symlink_to(outside, target_is_directory=True)
    _write(module, _multitask_meta(module, "mnli"))
    assert "outside the module folder" in _eval(module, tmp_path)


def test_a_missing_head_file_is_a_clear_error(module, tmp_path):
    (module / HEAD_FILE).unlink()
    output = _eval(module, tmp_path)
    assert HEAD_FILE in output and "missing" in output


def test_the_schema_accepts_what_adapterx_writes(module):
    meta = _meta(module)
    assert validate_meta(meta, "x") == meta
    with pytest.raises(ModuleMismatchError, match="schema"):
        validate_meta({**meta, "key": "../k"}, "x")
