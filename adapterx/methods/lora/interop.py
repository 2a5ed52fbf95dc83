"""A LoRA module in the layout plain peft loads on the task's `AutoModelFor*` class, and back.

peft keys its weights by module path from the model it wrapped: adapterx wraps the bare encoder
(`AutoModel`), so `PeftModel.from_pretrained(AutoModelForSequenceClassification...)` would find
none of them (they lack the `roberta.` prefix) and silently leave every lora_B at zero. A module
whose head has an exact `AutoModelFor*` route (adapterx.interop) is therefore rewritten with that
prefix, `task_type` set and the head saved as peft's `modules_to_save`; adapterx reads it back onto
the bare encoder with peft's own `key_mapping`."""

from __future__ import annotations

import re
from pathlib import Path

import torch

from adapterx.interop import HeadRoute, head_route, hf_head_state

ADAPTER_FILE = "adapter_model.safetensors"
PEFT_PREFIX = "base_model.model."


def export_for_auto_class(encoder: torch.nn.Module, kind: str, num_labels: int,
                          head: torch.nn.Module, folder: Path) -> HeadRoute | None:
    """Rewrite the peft folder `folder` for the `AutoModelFor*` class of `kind`, head included;
    None (folder left in the `AutoModel` layout) when no transformers head equals adapterx's."""
    from peft import PeftConfig
    from safetensors.torch import load_file, save_file

    base = encoder.get_base_model() if hasattr(encoder, "get_base_model") else encoder
    route = head_route(kind, base.config, num_labels)
    if route is None:
        return None
    weights = load_file(str(folder / ADAPTER_FILE))
    out = {PEFT_PREFIX + route.prefix + "." + k.removeprefix(PEFT_PREFIX): v for k, v in weights.items()}
    head_state = {k: v.detach().float().contiguous().cpu() for k, v in head.state_dict().items()}
    # peft saves a modules_to_save copy under the module's own name (no adapter name in the key)
    out.update({PEFT_PREFIX + k: v for k, v in hf_head_state(kind, head_state).items()})
    save_file(out, str(folder / ADAPTER_FILE), metadata={"format": "pt"})
    config = PeftConfig.from_pretrained(str(folder))
    config.task_type = route.task_type
    config.modules_to_save = [route.module]
    config.save_pretrained(str(folder))
    return route


def bare_encoder_view(path: Path, encoder: torch.nn.Module):
    """(config, key_mapping) that load a module saved by export_for_auto_class onto the bare
    encoder adapterx uses; (None, None) for a module in the `AutoModel` layout (the earlier one)."""
    from peft import PeftConfig

    config = PeftConfig.from_pretrained(str(path))
    if not config.task_type:
        return None, None
    base = encoder.get_base_model() if hasattr(encoder, "get_base_model") else encoder
    # the head is adapterx's own (adapterx_head.safetensors); the encoder takes the LoRA weights only
    config.task_type, config.modules_to_save = None, None
    return config, {rf"^{re.escape(base.base_model_prefix)}\.": ""}
