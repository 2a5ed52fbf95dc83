"""The method registry: `get_method("lora")` (the `adapters`-backed one is imported lazily)."""

from __future__ import annotations

from adapterx.errors import UnknownChoiceError
from adapterx.methods.base import Method, trainable_parameters

METHOD_NAMES = ("bottleneck", "lora", "full")


def get_method(name: str) -> Method:
    """The method called `name`, or an error listing the valid ones."""
    if name == "lora":
        from adapterx.methods.lora import LoraMethod

        return LoraMethod()
    if name == "full":
        from adapterx.methods.full import FullMethod

        return FullMethod()
    if name == "bottleneck":
        from adapterx.methods.bottleneck import BottleneckMethod

        return BottleneckMethod()
    raise UnknownChoiceError("method", name, METHOD_NAMES)


def method_settings(method: str, cfg) -> object:
    """The settings block of a RunConfig that belongs to `method`."""
    return {"bottleneck": cfg.bottleneck, "lora": cfg.lora, "full": None}[method]


__all__ = ["METHOD_NAMES", "Method", "get_method", "method_settings", "trainable_parameters"]
