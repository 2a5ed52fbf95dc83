"""The method registry: one `MethodSpec` per method, registered by the method's own folder.

Everything outside `adapterx/methods/` asks the registry what a method can do (its setups, its
default learning rate, its model-card tags, ...) instead of testing method names. Implementations
are named by an import path and imported on first use, so listing or validating methods never
imports peft, `adapters` or bitsandbytes (peft's `register_peft_method` keeps the same split)."""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from adapterx.errors import UnknownChoiceError

LIBRARIES = ("peft", "adapters", "transformers")


@dataclass(frozen=True, eq=False)
class MethodSpec:
    """What adapterx knows about a method without importing its implementation."""

    name: str
    factory: str  # "package.module:Class"; the class is built with no arguments
    default_lr: float
    library: str  # peft | adapters | transformers: the library its modules load with
    setups: tuple[str, ...]  # the composition setups it can run (adapterx.composition.SETUPS)
    settings_cls: type | None = None  # its settings dataclass (RunConfig section `<name>`), None: none
    # results.json names where the method changes what a setup is called (stack -> full-stilts)
    setup_names: Mapping[str, str] = field(default_factory=dict)
    # setups that are another setup for this method (full: sequential is stack), run as that one
    setup_aliases: Mapping[str, str] = field(default_factory=dict)
    card_library: str = "transformers"  # model card `library_name`
    card_tags: tuple[str, ...] = ()  # model card tags; () : the method's name
    card_usage: str | None = None  # "module:function" writing the card's plain-library section
    single_inter: bool = False  # continues from one intermediate model only (no stack of several)
    retrieval: bool = True  # its modules can be scored on retrieval targets
    module_similarity: bool = False  # its module updates can be compared (adapterx suggest)
    # its RunConfig section counts in every run's config hash, not only in its own runs' (the first
    # methods' sections always did: keeping them keeps every earlier cache key)
    section_always_hashed: bool = False
    about: str = ""
    label: str = ""  # how messages name it ("LoRA"); "": its name

    def __post_init__(self) -> None:
        if self.library not in LIBRARIES:
            raise UnknownChoiceError("method library", self.library, LIBRARIES)
        # read-only views: a spec is shared by every caller
        object.__setattr__(self, "setup_names", MappingProxyType(dict(self.setup_names)))
        object.__setattr__(self, "setup_aliases", MappingProxyType(dict(self.setup_aliases)))

    def supports(self, setup: str) -> bool:
        """Whether the method can run `setup` (directly or as its alias)."""
        return setup in self.setups

    def setup_name(self, setup: str) -> str:
        """The name results.json records for `setup` run with this method."""
        return self.setup_names.get(setup, setup)

    def display(self) -> str:
        """The method's name in messages."""
        return self.label or self.name

    def tags(self) -> list[str]:
        """Model card tags of the method."""
        return list(self.card_tags or (self.name,))

    def build(self) -> Any:
        """A new instance of the implementation (imported now, not at registration)."""
        return resolve(self.factory)()


_REGISTRY: dict[str, MethodSpec] = {}


def resolve(path: str) -> Any:
    """The object an import path `package.module:attribute` names."""
    module, _, attr = path.partition(":")
    return getattr(importlib.import_module(module), attr)


def register_method(spec: MethodSpec) -> MethodSpec:
    """Make a method available to every command (one call per method)."""
    if spec.name in _REGISTRY:
        raise ValueError(f"method {spec.name!r} registered twice")
    _REGISTRY[spec.name] = spec
    return spec


def unregister_method(name: str) -> None:
    """Remove a registered method (tests register temporary ones)."""
    _REGISTRY.pop(name, None)


def method_names() -> tuple[str, ...]:
    """Every registered method, in registration order."""
    return tuple(_REGISTRY)


def method_spec(name: str) -> MethodSpec:
    """The spec of method `name`, or an error listing the valid ones."""
    if name not in _REGISTRY:
        raise UnknownChoiceError("method", name, method_names())
    return _REGISTRY[name]


def find_method(name: str | None) -> MethodSpec | None:
    """The spec of `name`, or None (results files may name methods this version lacks)."""
    return _REGISTRY.get(name) if name else None


def all_specs() -> tuple[MethodSpec, ...]:
    """Every registered spec, in registration order."""
    return tuple(_REGISTRY.values())
