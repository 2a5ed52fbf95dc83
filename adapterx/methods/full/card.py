"""The model card's plain-transformers section for fully fine-tuned models."""

from __future__ import annotations


def plain_usage(meta: dict, *, dl: str, base: str, repo: str, rev: str, note: str) -> list[str]:
    """The model card's "with plain transformers" section (the whole model is the module)."""
    return ["### With plain transformers", "", "```python", "from transformers import AutoModel", "",
            f'model = AutoModel.from_pretrained("{repo}"{rev})', "```", "", note, ""]
