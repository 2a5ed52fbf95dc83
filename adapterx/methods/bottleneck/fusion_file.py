"""AdapterFusion weights in the layout both `adapters` routes load.

`adapters` saves fusion keys as the wrapped model names them: from the bare encoder adapterx uses
(`adapters.init(AutoModel)`) that is `encoder.layer...`, and `AutoAdapterModel` (whose encoder sits
under its base_model_prefix, e.g. `roberta.`) then matches none of them, silently: its fusion
loader, unlike its adapter loader, does not add the prefix. Keys saved with the prefix load through
both, since the loader strips it on a model without that attribute."""

from __future__ import annotations

from pathlib import Path

import torch


def add_base_prefix(model: torch.nn.Module, path: Path) -> None:
    """Rewrite the fusion weights saved in `path` with the base model prefix on every key."""
    from adapters.utils import SAFE_ADAPTERFUSION_WEIGHTS_NAME
    from safetensors.torch import load_file, save_file

    prefix = getattr(model, "base_model_prefix", "")
    weights_file = Path(path) / SAFE_ADAPTERFUSION_WEIGHTS_NAME
    if not prefix or hasattr(model, prefix) or not weights_file.is_file():
        return  # a model that has the prefix attribute already saved prefixed keys
    weights = load_file(str(weights_file))
    renamed = {k if k.startswith(prefix + ".") else f"{prefix}.{k}": v for k, v in weights.items()}
    save_file(renamed, str(weights_file), metadata={"format": "pt"})
