"""One encoder with a head per task (and optionally a masked-LM head): the model of multi-task and
MLM-mixed intermediate training. Each batch names its source in `task_id`."""

from __future__ import annotations

import logging

import torch
from torch import nn
from torch.nn import functional as F

from adapterx.heads import TaskModel

log = logging.getLogger(__name__)
MLM = "mlm"  # the source name of masked-LM batches


class FreshMLMHead(nn.Module):
    """dense -> GELU -> LayerNorm -> the (frozen) input embeddings as output layer, + a bias:
    for checkpoints without an MLM head. Tying to the embeddings keeps it small (no vocab x hidden
    matrix to learn) and reads hidden states where the model's own vocabulary lives."""

    def __init__(self, embeddings: nn.Embedding, eps: float = 1e-5) -> None:
        super().__init__()
        hidden = embeddings.weight.shape[1]
        self.dense = nn.Linear(hidden, hidden)
        self.layer_norm = nn.LayerNorm(hidden, eps=eps)
        self.bias = nn.Parameter(torch.zeros(embeddings.weight.shape[0]))
        self._embeddings = [embeddings]  # a list: not registered, so the encoder keeps owning it

    def forward(self, hidden_states: torch.Tensor) -> torch.Tensor:
        x = self.layer_norm(F.gelu(self.dense(hidden_states)))
        weight = self._embeddings[0].weight
        return F.linear(x.to(weight.dtype), weight, self.bias.to(weight.dtype))


def build_mlm_head(bb) -> tuple[nn.Module, str]:
    """The checkpoint's own MLM head (frozen; returns "pretrained") when it has one, else a fresh
    head that trains ("fresh"). Its output layer is the backbone's input embedding matrix."""
    from transformers import AutoModelForMaskedLM

    embeddings = bb.model.get_input_embeddings()
    head, how = None, "fresh"
    try:
        lm, info = AutoModelForMaskedLM.from_pretrained(bb.name, output_loading_info=True, dtype=torch.float32,
                                                        use_safetensors=True)  # never unpickle weights
        children = [(n, m) for n, m in lm.named_children() if n != lm.base_model_prefix]
        missing = [k for k in info["missing_keys"] if not k.startswith(lm.base_model_prefix + ".")]
        out = lm.get_output_embeddings()
        if len(children) == 1 and not missing and out is not None and out.weight.shape == embeddings.weight.shape:
            head, how = children[0][1], "pretrained"
            out.weight = embeddings.weight  # the encoder's copy: no second vocab x hidden matrix
            head.requires_grad_(False)  # MLM then shapes only the module: it must stay readable here
        del lm
    except (OSError, ValueError, KeyError) as err:  # no masked-LM class for this architecture
        log.info("no pretrained MLM head for %s (%s): using a fresh one", bb.name, err)
    if head is None:  # it trains: fp32 weights (a bf16 one would round most optimizer steps away)
        return FreshMLMHead(embeddings).to(device=bb.device, dtype=torch.float32), how
    return head.to(device=bb.device, dtype=embeddings.weight.dtype), how


class MultiHeadModel(nn.Module):
    """Encoder + one head per task (+ an optional MLM head); `forward` routes on `task_id`.

    Every head reuses TaskModel's loss code through a per-task view sharing the encoder."""

    def __init__(self, encoder: nn.Module, models: dict[str, TaskModel],
                 mlm_head: nn.Module | None = None) -> None:
        super().__init__()
        self.encoder = encoder
        self.heads = nn.ModuleDict({name: m.head for name, m in models.items()})
        self.mlm_head = mlm_head
        self.sources = list(models) + ([MLM] if mlm_head is not None else [])
        # plain dict: the views share the encoder and heads registered above, not new parameters
        self.views = {name: TaskModel(encoder, m.head, m.kind, m.pooling) for name, m in models.items()}
        for m in models.values():
            if hasattr(m, "quantization_method"):  # the Trainer must not move a bitsandbytes model
                self.quantization_method = m.quantization_method

    def gradient_checkpointing_enable(self, gradient_checkpointing_kwargs: dict | None = None) -> None:
        """Same as TaskModel's (all views share one encoder)."""
        next(iter(self.views.values())).gradient_checkpointing_enable(gradient_checkpointing_kwargs)

    def forward(self, task_id: torch.Tensor, input_ids: torch.Tensor,
                attention_mask: torch.Tensor | None = None, token_type_ids: torch.Tensor | None = None,
                labels: torch.Tensor | None = None, start_positions: torch.Tensor | None = None,
                end_positions: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        source = self.sources[int(task_id.reshape(-1)[0])]  # batches hold one source each
        if source == MLM:
            return self._mlm(input_ids, attention_mask, labels)
        return self.views[source](input_ids=input_ids, attention_mask=attention_mask,
                                  token_type_ids=token_type_ids, labels=labels,
                                  start_positions=start_positions, end_positions=end_positions)

    def _mlm(self, input_ids: torch.Tensor, attention_mask: torch.Tensor | None,
             labels: torch.Tensor) -> dict[str, torch.Tensor]:
        hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        masked = labels != -100
        # only masked positions go through the head: vocab-sized logits for every token of a
        # 250k-word model would dwarf everything else in memory
        dtype = next(self.mlm_head.parameters()).dtype
        logits = self.mlm_head(hidden[masked].to(dtype)).float()
        if logits.shape[0] == 0:  # nothing masked in this batch (tiny texts): no signal, no NaN
            return {"loss": hidden.sum() * 0.0}
        return {"loss": F.cross_entropy(logits, labels[masked])}
