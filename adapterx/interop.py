"""Where an adapterx head fits a transformers `AutoModelFor*` head exactly, so that a LoRA module can
be saved in the layout plain peft loads on that class (`task_type`, key prefix, head as
`modules_to_save`).

adapterx's heads are its own (adapterx.heads): a task kind has an `AutoModelFor*` route only when
that class's head holds the same parameters under one sub-module and reads the same token(s), which
is checked on the base's own architecture (on the meta device: nothing is allocated)."""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class HeadRoute:
    """The transformers class, peft task type and head sub-module for one task kind."""

    auto_class: str  # e.g. AutoModelForSequenceClassification
    task_type: str  # peft TaskType value
    module: str  # the head's sub-module in auto_class (peft's modules_to_save)
    prefix: str  # the encoder's attribute in auto_class (its base_model_prefix), e.g. "roberta"


# Kinds whose transformers head reads what adapterx's does: classification (RoBERTa-style dense,
# tanh, out_proj on the first token), span QA (qa_outputs on every token), tagging (classifier on
# every token). Multiple choice is absent on purpose: every AutoModelForMultipleChoice head goes
# through the encoder's pooler (a dense + tanh that adapterx's head does not have), so no module
# loads there exactly; retrieval has no head.
ROUTES = {"classification": ("AutoModelForSequenceClassification", "SEQ_CLS", "classifier"),
          "qa": ("AutoModelForQuestionAnswering", "QUESTION_ANS", "qa_outputs"),
          "tagging": ("AutoModelForTokenClassification", "TOKEN_CLS", "classifier")}


def hf_head_state(kind: str, head_state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """adapterx head weights under the names the `AutoModelFor*` class of `kind` uses."""
    if kind == "classification":  # ClassificationHead's dense / out_proj sit under `classifier`
        return {f"classifier.{k}": v for k, v in head_state.items()}
    return dict(head_state)  # SpanHead's qa_outputs.*, TaggingHead's classifier.* already match


def head_route(kind: str, config, num_labels: int) -> HeadRoute | None:
    """The exact `AutoModelFor*` route of `kind` on the architecture of `config`, or None."""
    if kind not in ROUTES:
        return None
    import copy

    import transformers

    auto_class, task_type, module = ROUTES[kind]
    cfg = copy.deepcopy(config)
    cfg.num_labels = 2 if kind == "qa" else num_labels  # a QA head: start and end
    try:
        with torch.device("meta"):
            model = getattr(transformers, auto_class).from_config(cfg)
    except (ValueError, KeyError):  # the architecture has no such class
        return None
    prefix = getattr(model, "base_model_prefix", "")
    if not prefix or not hasattr(model, prefix) or not hasattr(model, module):
        return None
    theirs = {f"{module}.{n}": tuple(p.shape) for n, p in getattr(model, module).named_parameters()}
    from adapterx.heads import build_head

    ours = {k: tuple(v.shape) for k, v in hf_head_state(
        kind, build_head(kind, config.hidden_size, num_labels).state_dict()).items()}
    # e.g. BERT's sequence classifier is one Linear over the pooler: other names, no route
    return HeadRoute(auto_class, task_type, module, prefix) if theirs == ours else None
