"""LoRA through peft: its registry entry (peft is imported only when the method is used)."""

from adapterx.methods.lora.settings import LoraSettings
from adapterx.methods.registry import MethodSpec, register_method

SPEC = register_method(MethodSpec(
    section_always_hashed=True,  # in every config hash since the first release
    name="lora", factory="adapterx.methods.lora.method:LoraMethod", settings_cls=LoraSettings,
    default_lr=5e-4,  # small new modules on a frozen base need large steps; LoRA usually 5e-4
    library="peft", setups=("direct", "sequential", "stack", "fuse", "merge", "multitask"),
    setup_names={"fuse": "lora-fusion"}, card_library="peft", card_tags=("lora",),
    card_usage="adapterx.methods.lora.card:plain_usage", module_similarity=True,
    about="low-rank updates of the base's Linear layers (peft)", label="LoRA"))

__all__ = ["SPEC", "LoraSettings"]
