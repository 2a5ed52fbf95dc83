"""Compacter adapters (Karimi Mahabadi et al. 2021) through the `adapters` library: the registry entry."""

from adapterx.methods.compacter.settings import CompacterSettings
from adapterx.methods.registry import MethodSpec, register_method

SPEC = register_method(MethodSpec(
    name="compacter", factory="adapterx.methods.compacter.method:CompacterMethod",
    settings_cls=CompacterSettings,
    default_lr=3e-4,  # in the Compacter paper's search range {3e-5, 3e-4, 3e-3}; not tuned here
    library="adapters", setups=("direct", "sequential", "stack", "fuse"),
    card_library="adapter-transformers", card_tags=("adapters", "compacter"),
    card_usage="adapterx.methods.bottleneck.card:plain_usage",
    about="Compacter++ or Compacter (PHM bottleneck adapters) and AdapterFusion (adapters)"))

__all__ = ["SPEC", "CompacterSettings"]
