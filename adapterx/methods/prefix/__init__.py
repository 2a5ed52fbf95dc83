"""Prefix tuning through peft: its registry entry (peft is imported only when the method is used)."""

from adapterx.methods.prefix.settings import PrefixSettings
from adapterx.methods.registry import MethodSpec, register_method

SPEC = register_method(MethodSpec(
    name="prefix", factory="adapterx.methods.prefix.method:PrefixMethod", settings_cls=PrefixSettings,
    # P-tuning v2 (Liu et al. 2022), prefix tuning of BERT / RoBERTa encoders for NLU, searched
    # 5e-3 to 1e-2: a few free vectors with no reparametrization need large steps
    default_lr=5e-3,
    # peft runs one prompt-learning adapter at a time (set_adapter takes one name) and cannot merge
    # them: no stack, fuse, merge or multitask
    library="peft", setups=("direct", "sequential"),
    card_library="peft", card_tags=("prefix-tuning",),
    # retrieval encodes up to 512 tokens, which the prefix's shifted positions overflow on XLM-R
    retrieval=False,
    about="learned key/value prefixes in every attention layer (peft prefix tuning)", label="prefix tuning"))

__all__ = ["SPEC", "PrefixSettings"]
