"""Task similarity: how close is each intermediate task to a target, before and after training?

* **Representation similarity** (needs only the base model and data, so it can rank tasks before any
  training): embed a sample of each task's texts with the frozen base (mean-pooled last layer), take
  each task's centroid, subtract the mean of all centroids considered (raw centroids of one encoder
  are nearly parallel, which would make every cosine ~1), and score cos(intermediate, target).
  This is the "domain similarity" family of Vu et al. 2020 (task embeddings), in its simplest form.
* **Module similarity** (after training, LoRA modules): cosine between the modules' weight updates
  (scale * B @ A of every adapted layer, concatenated); comparable across modules because the
  updates, unlike bottleneck-adapter weights, do not carry their random initialisation.
* **Rank correlation** of either with the transfer deltas measured in a runs folder (Spearman,
  through scipy.stats.spearmanr), which says whether similarity predicts what helps.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch

from adapterx.backbone import Backbone
from adapterx.configs import RunConfig
from adapterx.data.loading import load_examples
from adapterx.errors import AdapterxError
from adapterx.tasks import Task, get_task


def example_text(example: dict, kind: str) -> str:
    """The text of one normalised example that says what the task is about."""
    if kind == "classification":
        return " ".join(t for t in (example.get("text_a"), example.get("text_b")) if t)
    if kind == "multiple_choice":
        return " ".join([example.get("context") or "", example.get("question") or "",
                         *example.get("choices", [])]).strip()
    if kind == "qa":
        return f"{example.get('question', '')} {example.get('context', '')}".strip()
    if kind == "tagging":
        return " ".join(example.get("tokens", []))
    if kind == "retrieval":
        return example.get("source") or ""
    raise AdapterxError(f"no text extraction for task kind {kind!r}")


def task_texts(task: Task, cfg: RunConfig, n: int, langs: list[str] | None = None) -> list[str]:
    """Up to `n` texts of `task`: its English training data, or (targets without their own training
    split, e.g. retrieval) its evaluation data in `langs`, seeded."""
    if task.kind == "retrieval":
        split = task.splits[0]
        langs = [lang for lang in (langs or task.languages) if lang != "en"][:3]
        per_lang = max(1, n // max(1, len(langs)))
        examples = [ex for lang in langs
                    for ex in load_examples(task, split, lang, cfg.data_dir, per_lang, cfg.seed)]
        return [example_text(ex, task.kind) for ex in examples if example_text(ex, task.kind)]
    train = load_examples(get_task(task.train_task), "train", "en", cfg.data_dir, n, cfg.seed)
    return [t for t in (example_text(ex, task.kind) for ex in train) if t]


@torch.inference_mode()
def centroid(bb: Backbone, texts: list[str], max_length: int = 256, batch_size: int = 16) -> np.ndarray:
    """Mean over texts of the mean-pooled last hidden state (padding excluded)."""
    if not texts:
        raise AdapterxError("no texts to embed", "check the task's data")
    bb.model.eval()
    total, count = None, 0
    for start in range(0, len(texts), batch_size):
        enc = bb.tokenizer(texts[start:start + batch_size], padding=True, truncation=True,
                           max_length=max_length, return_tensors="pt").to(bb.device)
        hidden = bb.model(input_ids=enc["input_ids"], attention_mask=enc["attention_mask"]).last_hidden_state
        mask = enc["attention_mask"].unsqueeze(-1).to(hidden.dtype)
        pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1)
        batch_sum = pooled.float().sum(0).cpu().numpy()
        total = batch_sum if total is None else total + batch_sum
        count += pooled.shape[0]
    return total / count


def centred_cosines(target: np.ndarray, candidates: dict[str, np.ndarray]) -> dict[str, float]:
    """cos(candidate - mean, target - mean), the mean taken over target and candidates."""
    mean = np.mean([target, *candidates.values()], axis=0)
    t = target - mean
    out = {}
    for name, vec in candidates.items():
        v = vec - mean
        denom = float(np.linalg.norm(t) * np.linalg.norm(v))
        out[name] = float(t @ v / denom) if denom > 0 else 0.0
    return out


def lora_update(path: Path) -> torch.Tensor:
    """All of a saved LoRA module's updates scale * B @ A, flattened in a fixed layer order."""
    from safetensors.torch import load_file

    if not (path / "adapter_model.safetensors").is_file():
        raise AdapterxError(f"{path} is not a LoRA module folder (no adapter_model.safetensors)",
                            "module similarity compares LoRA modules (--method lora)")
    config = json.loads((path / "adapter_config.json").read_text(encoding="utf-8"))
    scale = float(config["lora_alpha"]) / float(config["r"])
    weights = load_file(str(path / "adapter_model.safetensors"))
    parts = []
    for key in sorted(k for k in weights if "lora_A" in k):
        b = weights[key.replace("lora_A", "lora_B")]
        parts.append((scale * b.float() @ weights[key].float()).flatten())
    if not parts:
        raise AdapterxError(f"{path} holds no LoRA weights", "module similarity needs LoRA modules")
    return torch.cat(parts)


def module_similarity(a: Path, b: Path) -> float:
    """Cosine between two LoRA modules' updates (same base and targets; else an error)."""
    ua, ub = lora_update(Path(a)), lora_update(Path(b))
    if ua.shape != ub.shape:
        raise AdapterxError(f"LoRA modules {a} and {b} adapt different layers or shapes",
                            "compare modules trained with the same lora.target_modules on one base")
    return float(torch.nn.functional.cosine_similarity(ua, ub, dim=0))


def spearman(x: list[float], y: list[float]) -> float | None:
    """Spearman's rank correlation (None with fewer than 3 pairs or a constant side)."""
    from scipy.stats import spearmanr

    if len(x) < 3 or len(set(x)) < 2 or len(set(y)) < 2:
        return None
    value = spearmanr(x, y).statistic  # ties share their mean rank
    return None if value != value else float(value)  # NaN: a constant side
