"""UniPELT (Mao et al. 2022) through the `adapters` library: the registry entry."""

from adapterx.methods.registry import MethodSpec, register_method
from adapterx.methods.unipelt.settings import UniPeltSettings

SPEC = register_method(MethodSpec(
    name="unipelt", factory="adapterx.methods.unipelt.method:UniPeltMethod", settings_cls=UniPeltSettings,
    default_lr=5e-4,  # LoRA's here: small gated modules on a frozen base; not tuned
    # no fuse: `adapters` fuses bottleneck layers only (its prefix tuning and LoRA layers refuse Fuse)
    library="adapters", setups=("direct", "sequential", "stack"),
    card_library="adapter-transformers", card_tags=("adapters", "unipelt"),
    card_usage="adapterx.methods.bottleneck.card:plain_usage",
    about="gated prefix tuning + bottleneck adapter + LoRA in one module (adapters)", label="UniPELT"))

__all__ = ["SPEC", "UniPeltSettings"]
