"""Bottleneck adapters and AdapterFusion through the `adapters` library: the registry entry.

Everything in adapterx that imports `adapters` lives in this subpackage (imported only when the
method is used), so its transformers pin can move without touching the rest."""

from adapterx.methods.bottleneck.settings import BottleneckSettings
from adapterx.methods.registry import MethodSpec, register_method

SPEC = register_method(MethodSpec(
    section_always_hashed=True,  # in every config hash since the first release
    name="bottleneck", factory="adapterx.methods.bottleneck.method:BottleneckMethod",
    settings_cls=BottleneckSettings,
    default_lr=1e-4,  # the adapter papers' choice for new modules on a frozen base
    library="adapters", setups=("direct", "sequential", "stack", "fuse", "multitask"),
    card_library="adapter-transformers", card_tags=("adapters", "bottleneck-adapter"),
    card_usage="adapterx.methods.bottleneck.card:plain_usage",
    about="bottleneck adapters and AdapterFusion (adapters)"))

__all__ = ["SPEC", "BottleneckSettings"]
