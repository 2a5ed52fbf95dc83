"""The method registry: a method registered from here runs direct and stack with no other file edited;
nothing outside adapterx/methods/ tests method names; listing methods imports no method library."""

from __future__ import annotations

import dataclasses
import json
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from adapterx import api
from adapterx.composition import Composition, implied_method, setup_methods, setup_name
from adapterx.configs import RunConfig
from adapterx.errors import AdapterxError, UnknownChoiceError
from adapterx.methods import (METHOD_NAMES, MethodSpec, get_method, method_names, method_settings, method_spec,
                              register_method, unregister_method)
from adapterx.methods.lora.method import LoraMethod

PACKAGE = Path(__file__).resolve().parents[1] / "adapterx"


@dataclass
class ToySettings:
    """A LoRA of rank 2 on the attention queries and values only: settings no RunConfig section holds."""

    r: int = 2
    alpha: int = 4
    dropout: float = 0.0
    target_modules: list[str] = field(default_factory=lambda: ["query", "value"])


class ToyMethod(LoraMethod):
    """LoRA's implementation under another name (peft modules, its own settings)."""

    name = "toy"


@pytest.fixture
def toy():
    spec = register_method(MethodSpec(name="toy", factory=f"{__name__}:ToyMethod", settings_cls=ToySettings,
                                      default_lr=3e-3, library="peft", setups=("direct", "stack"),
                                      card_tags=("toy-lora",)))
    yield spec
    unregister_method("toy")


def test_registered_method_runs_direct_and_stack(toy, make_cfg):
    cfg = make_cfg(method="toy", langs=["et"])
    assert isinstance(get_method("toy"), ToyMethod) and method_settings("toy", cfg) == ToySettings()
    direct = api.direct("xcopa", cfg=cfg)
    assert (direct["setup"], direct["method"]) == ("direct", "toy") and set(direct["per_language"]) == {"et"}
    stacked = api.stack("siqa", "xcopa", cfg=cfg)
    assert (stacked["setup"], stacked["method"], stacked["inter"]) == ("stack", "toy", ["siqa"])
    module = Path(stacked["modules"][0]["path"])
    assert module.parent.name == "siqa" and module.name.startswith("toy-")
    peft_config = json.loads((module / "adapter_config.json").read_text())
    assert peft_config["r"] == 2 and set(peft_config["target_modules"]) == {"query", "value"}
    meta = json.loads((module / "adapterx.json").read_text())
    assert meta["method_settings"] == dataclasses.asdict(ToySettings())
    assert meta["method"] == "toy"


def test_registered_method_default_learning_rate(toy):
    from adapterx.recipes.common import train_settings
    from adapterx.tasks import get_task

    task = dataclasses.replace(get_task("siqa"), learning_rate=None)  # no task default: the method's
    assert train_settings(task, RunConfig(method="toy")).learning_rate == pytest.approx(3e-3)


def test_registered_method_setups_come_from_its_spec(toy):
    assert "toy" in method_names() and "toy" in setup_methods("stack") and "toy" not in setup_methods("fuse")
    with pytest.raises(AdapterxError, match="methods that can"):
        Composition("fuse", ("siqa",)).check_method("toy")
    Composition("stack", ("siqa", "mnli")).check_method("toy")  # stacks several: no single_inter
    assert setup_name("toy", "stack") == "stack" and toy.tags() == ["toy-lora"]


def test_unregistered_method_is_refused(make_cfg):
    with pytest.raises(UnknownChoiceError, match="bottleneck"):
        make_cfg(method="toy")
    with pytest.raises(ValueError, match="twice"):
        register_method(method_spec("lora"))


def test_builtin_specs_match_runconfig_sections_and_names():
    # RunConfig's method sections are made from the registry (configs.run.method_sections): one per
    # method with settings, of its settings class.
    fields = {f.name: f.type for f in dataclasses.fields(RunConfig)}
    for name in METHOD_NAMES:
        spec = method_spec(name)
        if spec.settings_cls is not None:
            assert fields[name] is spec.settings_cls
            assert type(method_settings(name, RunConfig())) is spec.settings_cls
    assert METHOD_NAMES == ("bottleneck", "lora", "full", "ia3", "prefix", "compacter", "unipelt")
    assert RunConfig().method == "bottleneck"
    assert setup_name("full", "stack") == "full-stilts" and setup_name("full", "direct") == "full-direct"
    assert Composition("fuse", ("siqa",)).name("lora") == "lora-fusion" and setup_name("none", "stack") == "stack"
    assert implied_method("merge") == "lora" and implied_method("full-stilts") == "full"
    assert implied_method("stack") is None
    from adapterx.configs.methods import DEFAULT_LEARNING_RATES

    assert DEFAULT_LEARNING_RATES == {"bottleneck": 1e-4, "lora": 5e-4, "full": 1e-5, "ia3": 3e-3, "prefix": 5e-3,
                                      "compacter": 3e-4, "unipelt": 5e-4}


def test_registry_imports_no_method_library():
    code = ("import sys; import adapterx.configs, adapterx.methods, adapterx.composition, adapterx.model_card; "
            "from adapterx.methods import METHOD_NAMES, method_spec; [method_spec(m) for m in METHOD_NAMES]; "
            "print(sorted(m for m in ('peft', 'adapters', 'bitsandbytes') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=PACKAGE.parent).stdout
    assert out.strip() == "[]"


def test_no_method_name_tests_outside_methods():
    """A new method needs no edit outside its folder: only CLI help text may name a method."""
    pattern = re.compile(r'"(lora|bottleneck)"')  # the grep: quoted as a string
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if "methods" in path.relative_to(PACKAGE).parts:
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if pattern.search(line) and not re.search(r"\bhelp=", line):
                found.append(f"{path.relative_to(PACKAGE.parent)}:{number}: {line.strip()}")
    assert found == []
