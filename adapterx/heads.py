"""Task heads (ours, not transformers' *For* classes: only the encoder is ever quantized) and the
model that joins encoder and head."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from adapterx.configs.head import POOLED_KINDS


def pool(hidden_states: torch.Tensor, attention_mask: torch.Tensor | None, how: str) -> torch.Tensor:
    """One vector per sequence: the first token's (`cls`), or the mean over real tokens (`mean`,
    special tokens included, as sentence encoders such as e5 are trained)."""
    if how == "cls":
        return hidden_states[:, 0]
    if attention_mask is None:
        return hidden_states.mean(1)
    mask = attention_mask.unsqueeze(-1).to(hidden_states.dtype)
    return (hidden_states * mask).sum(1) / mask.sum(1).clamp(min=1)


class ClassificationHead(nn.Module):
    """Sentence(-pair) classification from a pooled vector, RoBERTa-style (dense, tanh, out)."""

    def __init__(self, hidden: int, num_labels: int, dropout: float = 0.1) -> None:
        super().__init__()
        self.dense = nn.Linear(hidden, hidden)
        self.dropout = nn.Dropout(dropout)
        self.out_proj = nn.Linear(hidden, num_labels)

    def forward(self, pooled: torch.Tensor) -> torch.Tensor:
        x = self.dropout(pooled)
        return self.out_proj(self.dropout(torch.tanh(self.dense(x))))


class MultipleChoiceHead(nn.Module):
    """One score per (context, choice) sequence from its pooled vector."""

    def __init__(self, hidden: int, dropout: float = 0.1) -> None:
        super().__init__()
        self.dropout = nn.Dropout(dropout)
        self.score = nn.Linear(hidden, 1)

    def forward(self, pooled: torch.Tensor) -> torch.Tensor:
        return self.score(self.dropout(pooled)).squeeze(-1)


class SpanHead(nn.Module):
    """Start and end logits for every token (extractive QA)."""

    def __init__(self, hidden: int) -> None:
        super().__init__()
        self.qa_outputs = nn.Linear(hidden, 2)

    def forward(self, hidden_states: torch.Tensor) -> torch.Tensor:
        return self.qa_outputs(hidden_states)


class TaggingHead(nn.Module):
    """One label per token (only each word's first sub-word is trained and read)."""

    def __init__(self, hidden: int, num_labels: int, dropout: float = 0.1) -> None:
        super().__init__()
        self.dropout = nn.Dropout(dropout)
        self.classifier = nn.Linear(hidden, num_labels)

    def forward(self, hidden_states: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.dropout(hidden_states))


class NoHead(nn.Module):
    """Retrieval tasks score representations directly; a module's head is not used."""

    def forward(self, hidden_states: torch.Tensor) -> torch.Tensor:
        return hidden_states


def build_head(kind: str, hidden: int, num_labels: int = 0, dropout: float = 0.1) -> nn.Module:
    """The head for a task's kind (adapterx.tasks.HEAD_KINDS)."""
    if kind == "tagging":
        return TaggingHead(hidden, num_labels, dropout)
    if kind == "retrieval":
        return NoHead()
    if kind == "classification":
        return ClassificationHead(hidden, num_labels, dropout)
    if kind == "multiple_choice":
        return MultipleChoiceHead(hidden, dropout)
    if kind == "qa":
        return SpanHead(hidden)
    raise ValueError(f"no head for kind {kind!r}")


class TaskModel(nn.Module):
    """Encoder (frozen or not, with modules attached) + one head; returns a dict with the loss.

    Trainer-compatible: `forward` names its inputs, so the Trainer passes only model columns."""

    def __init__(self, encoder: nn.Module, head: nn.Module, kind: str, pooling: str = "cls") -> None:
        super().__init__()
        self.encoder = encoder
        self.head = head
        self.kind = kind
        self.pooling = pooling  # classification / multiple choice: how a sequence becomes one vector

    def gradient_checkpointing_enable(self, gradient_checkpointing_kwargs: dict | None = None) -> None:
        """Recompute encoder activations in backward (the Trainer calls this for
        `training.gradient_checkpointing`); with a frozen base the inputs must require grad."""
        base = self.encoder.get_base_model() if hasattr(self.encoder, "get_base_model") else self.encoder
        base.gradient_checkpointing_enable(gradient_checkpointing_kwargs=gradient_checkpointing_kwargs
                                           or {"use_reentrant": False})
        base.enable_input_require_grads()

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor | None = None,
                token_type_ids: torch.Tensor | None = None, labels: torch.Tensor | None = None,
                start_positions: torch.Tensor | None = None,
                end_positions: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        n_choices = input_ids.shape[1] if self.kind == "multiple_choice" else 0
        if n_choices:  # (batch, choices, length) -> one sequence per choice
            flat = lambda t: None if t is None else t.reshape(-1, t.shape[-1])  # noqa: E731
            input_ids, attention_mask, token_type_ids = map(flat, (input_ids, attention_mask, token_type_ids))
        inputs = {"input_ids": input_ids, "attention_mask": attention_mask}
        if token_type_ids is not None:
            inputs["token_type_ids"] = token_type_ids
        hidden = self.encoder(**inputs).last_hidden_state
        if self.kind in POOLED_KINDS:
            hidden = pool(hidden, attention_mask, self.pooling)
        head_dtype = next(self.head.parameters()).dtype
        logits = self.head(hidden.to(head_dtype)).float()  # loss in fp32 whatever the compute dtype
        out: dict[str, torch.Tensor] = {}
        if self.kind == "qa":
            start, end = logits[..., 0], logits[..., 1]
            if attention_mask is not None:  # padding can never be a span boundary
                start = start.masked_fill(attention_mask == 0, -1e4)
                end = end.masked_fill(attention_mask == 0, -1e4)
            out.update(start_logits=start, end_logits=end)
            if start_positions is not None and end_positions is not None:
                out["loss"] = (F.cross_entropy(start, start_positions) + F.cross_entropy(end, end_positions)) / 2
            return out
        if n_choices:
            logits = logits.view(-1, n_choices)
        out["logits"] = logits
        if labels is not None:
            # tagging: (batch, length, labels) against (batch, length), -100 on ignored sub-words
            out["loss"] = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), labels.reshape(-1),
                                          ignore_index=-100)
        return out
