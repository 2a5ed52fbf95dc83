"""Full fine-tuning (the paper's X-STILTs baseline): its registry entry."""

from adapterx.methods.registry import MethodSpec, register_method

SPEC = register_method(MethodSpec(
    name="full", factory="adapterx.methods.full.method:FullMethod",
    default_lr=1e-5,  # the paper's
    library="transformers", setups=("direct", "sequential", "stack", "multitask"),
    # full fine-tuning has no module apart from the model: continuing the intermediate model is
    # what full-stilts (stack) does, so sequential runs as stack
    setup_names={"direct": "full-direct", "stack": "full-stilts"}, setup_aliases={"sequential": "stack"},
    card_library="transformers", card_tags=("full-fine-tuning",),
    card_usage="adapterx.methods.full.card:plain_usage", single_inter=True, retrieval=False,
    about="every weight of the model trains (transformers)"))

__all__ = ["SPEC"]
