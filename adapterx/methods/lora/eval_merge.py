"""LoRA merged into the base weights for the final evaluation only (never while saving).

Unmerged, every adapted Linear layer runs its frozen weight and then the low-rank update as two
more matmuls; merged (W + scale * B A), it runs one. In evaluation mode (no dropout) both compute
the same function. Merging is done only where it is exact enough and undone afterwards:

* an fp32 base, not quantized: adding the update to bf16 or 8-bit / 4-bit weights rounds it, so
  predictions would change (and unmerging would not give the weights back);
* no LoRA fusion: it switches peft's LoRA addition off and adds the modules' updates itself;
* the model is a peft model with at least one LoRA module active.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch

from adapterx.backbone import Backbone


def can_merge_for_eval(bb: Backbone) -> bool:
    """Whether `bb`'s active LoRA modules can be merged for evaluation without changing results."""
    try:
        from peft import PeftModel, PeftType
    except ImportError:  # peft missing: there is no LoRA module to merge
        return False
    model = bb.model
    if not isinstance(model, PeftModel) or getattr(model, "lora_fusion", None) is not None:
        return False
    if bb.quant != "none" or bb.dtype != torch.float32:
        return False
    return model.peft_type == PeftType.LORA and bool(model.active_adapters)


@contextlib.contextmanager
def merged_for_eval(bb: Backbone) -> Iterator[bool]:
    """Merge the active LoRA modules into the base weights while the block runs (yields whether it
    merged); unmerge afterwards, also when the block fails."""
    if not can_merge_for_eval(bb):
        yield False
        return
    tuner = bb.model.base_model
    tuner.merge_adapter()
    try:
        yield True
    finally:
        tuner.unmerge_adapter()
