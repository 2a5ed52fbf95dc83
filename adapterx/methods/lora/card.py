"""The model card's plain-peft section for LoRA modules and compositions."""

from __future__ import annotations


def plain_usage(meta: dict, *, dl: str, base: str, repo: str, rev: str, note: str) -> list[str]:
    """The model card's "with plain peft" section: `dl` fetches the folder into `path`, `base`
    is the base model, `note` says what the task head is."""
    setup = (meta.get("composition") or {}).get("setup")
    inter = (meta.get("composition") or {}).get("inter", [])
    auto_class = meta.get("transformers_class")
    if auto_class and meta.get("kind") == "module":
        return ["### With plain peft", "", "```python", *_auto_class_code(meta, auto_class, dl, base), "```", "",
                f"The task head is in the module (peft `modules_to_save`, as `{auto_class}` names it), so "
                "the model above gives adapterx's logits. On the bare encoder (`AutoModel`), pass "
                f"`key_mapping={{r\"^{meta.get('transformers_prefix', 'roberta')}\\.\": \"\"}}` to "
                "`PeftModel.from_pretrained`.", ""]
    if setup != "fuse":
        code = ["from huggingface_hub import snapshot_download", "from peft import PeftModel",
                "from transformers import AutoModel", "", dl,
                # adapterx's encoder has no pooler (its heads pool): LoRA targets must match that model
                f'base = AutoModel.from_pretrained("{base}", add_pooling_layer=False)']
        if meta.get("kind") == "module":
            code += ["model = PeftModel.from_pretrained(base, path)"]
        else:
            parts = ["merged"] if setup == "merge" else inter
            where = {"merged": 'f"{path}/merged"'} | {t: f'f"{{path}}/parts/{t}"' for t in inter}
            code += [f'model = PeftModel.from_pretrained(base, {where[parts[0]]}, adapter_name="{parts[0]}")']
            code += [f'model.load_adapter({where[t]}, adapter_name="{t}")' for t in parts[1:]]
            code += ['model.load_adapter(path, adapter_name="target")',
                     f"model.base_model.set_adapter({[*parts, 'target']!r})  # LoRA updates add up"]
        return ["### With plain peft", "", "```python", *code, "```", "", note, ""]
    # LoRA fusion: a learned combination only adapterx implements
    return ["LoRA fusion (`lora-fusion`) is adapterx's own; load it with adapterx as above.", ""]


def _auto_class_code(meta: dict, auto_class: str, dl: str, base: str) -> list[str]:
    """Plain peft on the task's AutoModelFor* class (a LoRA module saved by interop.py)."""
    labels = (meta.get("head") or {}).get("labels") or []
    kwargs = f", num_labels={len(labels)}" if auto_class != "AutoModelForQuestionAnswering" else ""
    imports = ["from peft import PeftModel", f"from transformers import {auto_class}", ""]
    if not dl.startswith("path = \""):
        imports.insert(0, "from huggingface_hub import snapshot_download")
    return [*imports, dl, f'base = {auto_class}.from_pretrained("{base}"{kwargs})',
            "model = PeftModel.from_pretrained(base, path).eval()",
            *([f"labels = {labels!r}  # logits columns in this order"] if labels else [])]
