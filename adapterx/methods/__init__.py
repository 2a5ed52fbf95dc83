"""Methods: one folder each (lora/, bottleneck/, full/, ia3/, prefix/, compacter/, unipelt/), registered in `adapterx.methods.registry`.

Importing this package registers the built-in methods without importing peft or `adapters`:
each folder's `__init__` holds only its spec and settings; the implementation loads on use."""

from __future__ import annotations

import importlib

from adapterx.methods.base import Method, MethodBase, trainable_parameters
from adapterx.methods.registry import (MethodSpec, all_specs, find_method, method_names, method_spec,
                                       register_method, unregister_method)

# Each folder registers itself on import; this order is the order methods are listed in.
BUILTIN = ("bottleneck", "lora", "full", "ia3", "prefix", "compacter", "unipelt")
# every command's default (DESIGN.md), so that `train` then `fuse` reuse the same modules
DEFAULT_METHOD = BUILTIN[0]
for _name in BUILTIN:
    importlib.import_module(f"adapterx.methods.{_name}")


def get_method(name: str) -> Method:
    """A new instance of the method called `name`, or an error listing the valid ones."""
    return method_spec(name).build()


def method_settings(method: str, cfg) -> object:
    """The settings block of a RunConfig that belongs to `method` (None: it has no settings).

    A method registered without a RunConfig section runs with its settings' defaults."""
    spec = method_spec(method)
    if spec.settings_cls is None:
        return None
    section = getattr(cfg, spec.name, None)
    return section if isinstance(section, spec.settings_cls) else spec.settings_cls()


def __getattr__(name: str):
    """METHOD_NAMES: the registered methods at the time of the lookup."""
    if name == "METHOD_NAMES":
        return method_names()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["DEFAULT_METHOD", "METHOD_NAMES", "Method", "MethodBase", "MethodSpec", "all_specs", "find_method", "get_method",
           "method_names", "method_settings", "method_spec", "register_method", "trainable_parameters",
           "unregister_method"]
