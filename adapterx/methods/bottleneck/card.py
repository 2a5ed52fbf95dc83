"""The model card's plain-`adapters` section for bottleneck modules, stacks and AdapterFusion."""

from __future__ import annotations


def plain_usage(meta: dict, *, dl: str, base: str, repo: str, rev: str, note: str) -> list[str]:
    """The model card's "with plain adapters" section: `dl` fetches the folder into `path`, `base`
    is the base model, `note` says what the task head is."""
    setup = (meta.get("composition") or {}).get("setup")
    inter = (meta.get("composition") or {}).get("inter", [])
    code = ["import adapters", "from huggingface_hub import snapshot_download",
            "from transformers import AutoModel", "", dl, f'model = AutoModel.from_pretrained("{base}")',
            "adapters.init(model)"]
    if meta.get("kind") == "module":
        code += ["name = model.load_adapter(path, with_head=False, use_safetensors=True)",
                 "model.set_active_adapters(name)"]
    else:
        code += [f'model.load_adapter(f"{{path}}/parts/{t}", load_as="{t}", with_head=False, '
                 "use_safetensors=True)" for t in inter]
        if setup == "fuse":
            code += ["from adapters.composition import Fuse",
                     "model.load_adapter_fusion(path, use_safetensors=True)",
                     f"model.set_active_adapters(Fuse(*{inter!r}))"]
        else:
            code += ["from adapters.composition import Stack",
                     'model.load_adapter(path, load_as="target", with_head=False, use_safetensors=True)',
                     f"model.set_active_adapters(Stack(*{[*inter, 'target']!r}))"]
    return ["### With plain adapters", "", "```python", *code, "```", "", note, ""]
