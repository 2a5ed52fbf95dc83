"""AdapterFusion weights (and shared adapter weights) in the layout both `adapters` routes load.

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


def add_shared_parameters(model: torch.nn.Module, name: str, path: Path) -> None:
    """Add adapter `name`'s shared weights (Compacter's PHM rule, trained with the rest) to the file
    saved in `path`: from the bare encoder `adapters` drops them, since its save filter wants
    `.shared_parameters.<name>.` and they are named `shared_parameters.<name>....` there. Every key
    then carries the base model prefix (the loader reads a file's keys all with it or all without:
    mixed, the unprefixed ones would silently not load), which both routes load."""
    from adapters.utils import SAFE_WEIGHTS_NAME
    from safetensors.torch import load_file, save_file

    shared = getattr(model, "shared_parameters", {})
    prefix = getattr(model, "base_model_prefix", "")
    weights_file = Path(path) / SAFE_WEIGHTS_NAME
    if name not in shared or not prefix or hasattr(model, prefix) or not weights_file.is_file():
        return  # nothing shared, or a model whose names already carry the prefix (saved as they are)
    weights = {f"shared_parameters.{name}.{key}": value.detach().cpu().contiguous()
               for key, value in shared[name].items()}
    weights.update(load_file(str(weights_file)))
    renamed = {k if k.startswith(prefix + ".") else f"{prefix}.{k}": v for k, v in weights.items()}
    save_file(renamed, str(weights_file), metadata={"format": "pt"})


def save_with_shared_tensors(model: torch.nn.Module, name: str, path: Path) -> None:
    """Save adapter `name` as safetensors when some of its tensors sit under several names: prefix
    tuning's pool is a submodule of every layer, so `adapters`' own safetensors save fails ("Some
    tensors share memory"). The same steps as its AdapterLoader.save (pre-save hook, full config,
    the adapter's filtered state dict), with each tensor stored once, under its shortest name (the
    pool's own), which its loader matches and loads into the pool. No pickle is written or read."""
    from adapters.loading import AdapterLoader, build_full_config
    from adapters.utils import SAFE_WEIGHTS_NAME
    from safetensors.torch import save_file

    loader = AdapterLoader(model, use_safetensors=True)
    model.apply_to_adapter_layers(lambda _, layer: layer.pre_save_adapters())
    config = build_full_config(model.adapters_config.get(name), model.config, model_name=model.model_name,
                               name=name, model_class=model.__class__.__name__)
    Path(path).mkdir(parents=True, exist_ok=True)
    loader.weights_helper.save_weights_config(str(path), config)
    weights = loader.weights_helper.state_dict(loader.filter_func(name))
    kept: dict[tuple, str] = {}
    for key in sorted(weights, key=lambda k: (len(k), k)):
        tensor = weights[key]
        kept.setdefault((tensor.untyped_storage().data_ptr(), tensor.storage_offset(), tuple(tensor.shape)), key)
    save_file({key: weights[key].contiguous() for key in kept.values()}, str(Path(path) / SAFE_WEIGHTS_NAME),
              metadata={"format": "pt"})
