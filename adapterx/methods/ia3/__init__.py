"""(IA)^3 through peft: its registry entry (peft is imported only when the method is used)."""

from adapterx.methods.ia3.settings import IA3Settings
from adapterx.methods.registry import MethodSpec, register_method

SPEC = register_method(MethodSpec(
    name="ia3", factory="adapterx.methods.ia3.method:IA3Method", settings_cls=IA3Settings,
    # Liu et al. 2022 (T-Few) train (IA)^3 at 3e-3: its vectors start at 1 and each scales a
    # whole channel, so they need larger steps than LoRA's low-rank matrices
    default_lr=3e-3,
    # peft's IA3 layers multiply the scales of every active adapter: several modules stack.
    # Not merge: peft's IA3 add_weighted_adapter is a linear sum only, and `merge` implies LoRA.
    library="peft", setups=("direct", "sequential", "stack"),
    card_library="peft", card_tags=("ia3",),
    about="learned scales of the base's keys, values and FFN activations (peft IA3)", label="IA3"))

__all__ = ["SPEC", "IA3Settings"]
