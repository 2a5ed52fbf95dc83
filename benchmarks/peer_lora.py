"""The peer: adapterx's LoRA training written as a plain transformers Trainer + peft script.

No adapterx code is used here: AutoModelForSequenceClassification + peft's get_peft_model with
the same LoRA settings as adapterx's defaults (r 8, alpha 16, dropout 0.1, query/key/value/dense),
the same optimizer settings (AdamW, lr 5e-4, linear schedule, 10% warm-up, weight decay 0.01),
DataCollatorWithPadding, fp32 weights with bf16 autocast on a GPU. Run alone it trains one epoch
on synthetic examples and reports tokens/s; benchmarks/compare_peer.py runs it beside adapterx.

    python benchmarks/peer_lora.py --model /tmp/e5 --batch 16 --seq-len 128 --steps 6
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch
from transformers import (AutoModelForSequenceClassification, AutoTokenizer, DataCollatorWithPadding, Trainer,
                          TrainerCallback, TrainingArguments)

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_common import default_output, machine, synthetic_rows, write_outputs  # noqa: E402

# `matched`: adapterx's LoRA before 2026-12-03 written out (r 8, alpha 16, dropout 0.1, every linear
# layer); `defaults`: what a plain script gets from peft's LoraConfig() (r 8, alpha 8, dropout 0,
# target_modules from peft's per-architecture table: query, value for BERT / XLM-R).
LORA = {"r": 8, "lora_alpha": 16, "lora_dropout": 0.1, "target_modules": ["query", "key", "value", "dense"]}
PEER_LORA = {"matched": LORA, "defaults": {}}
LEARNING_RATE = 5e-4


class StepTimer(TrainerCallback):
    """Wall time between consecutive optimizer steps (the first step of each train() call, which
    includes the data loader's start, is not a measured step)."""

    def __init__(self) -> None:
        self.times: list[float] = []
        self._last: float | None = None
        self.began: float | None = None

    def on_train_begin(self, args, state, control, **kwargs):
        self._last = None
        self.began = time.perf_counter()

    def on_step_end(self, args, state, control, **kwargs):
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        now = time.perf_counter()
        if self._last is not None:
            self.times.append(now - self._last)
        self._last = now

    @property
    def epoch_seconds(self) -> float:
        """From the start of training to the end of the last step: every step, the first included
        (length-grouped batches differ in length, so no single step stands for the epoch)."""
        return (self._last or 0.0) - (self.began or 0.0)


def build_peer_model(model_dir: str, num_labels: int = 3, peer: str = "matched"):
    """The peer model: a transformers sequence classifier with peft LoRA (classifier trained too);
    `peer` picks the LoRA settings (PEER_LORA)."""
    from peft import LoraConfig, TaskType, get_peft_model

    model = AutoModelForSequenceClassification.from_pretrained(model_dir, num_labels=num_labels)
    return get_peft_model(model, LoraConfig(task_type=TaskType.SEQ_CLS, bias="none", **PEER_LORA[peer]))


def peer_trainer(model, tokenizer, dataset, batch: int, out_dir: str, callbacks: list | None = None,
                 seed: int = 0, peer: str = "matched") -> Trainer:
    """A plain Trainer for one epoch over `dataset` (no checkpoints, no logging). `matched`: adapterx's
    optimizer settings written out; `defaults`: the Trainer's own (its default optim, no length
    grouping), only the batch size, seed and output switches set."""
    cuda = torch.cuda.is_available()
    common = dict(output_dir=out_dir, per_device_train_batch_size=batch, num_train_epochs=1, logging_steps=10**6,
                  save_strategy="no", report_to=[], disable_tqdm=True, use_cpu=not cuda,
                  bf16=cuda and torch.cuda.is_bf16_supported(), seed=seed, data_seed=seed)
    if peer == "matched":
        common.update(learning_rate=LEARNING_RATE, lr_scheduler_type="linear", warmup_ratio=0.1, weight_decay=0.01,
                      dataloader_num_workers=0, optim="adamw_torch")
    return Trainer(model=model, args=TrainingArguments(**common), train_dataset=dataset,
                   data_collator=DataCollatorWithPadding(tokenizer), callbacks=callbacks)


def synthetic_dataset(model_dir: str, n: int, seq_len: int, pad_frac: float, batch: int, seed: int = 0):
    """`n` random-token examples (datasets.Dataset: input_ids, attention_mask, labels) for this model."""
    from datasets import Dataset
    from transformers import AutoConfig

    vocab = AutoConfig.from_pretrained(model_dir).vocab_size
    return Dataset.from_list(synthetic_rows(n, seq_len, pad_frac, batch, vocab, 3, seed))


def main(argv: list[str] | None = None) -> dict:
    """Train the peer for one epoch of `--steps` steps and report its tokens/s."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", required=True)
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--seq-len", type=int, default=128)
    p.add_argument("--pad-frac", type=float, default=0.0)
    p.add_argument("--steps", type=int, default=6)
    p.add_argument("--out", default=None)
    args = p.parse_args(argv)
    data = synthetic_dataset(args.model, args.steps * args.batch, args.seq_len, args.pad_frac, args.batch)
    tokens_per_step = sum(data["attention_mask"][i].count(1) for i in range(len(data))) / args.steps
    tokenizer = AutoTokenizer.from_pretrained(args.model)
    model = build_peer_model(args.model)
    timer = StepTimer()
    with tempfile.TemporaryDirectory() as tmp:
        peer_trainer(model, tokenizer, data, args.batch, tmp, [timer]).train()
    step = statistics.median(timer.times)
    row = {"setup": "peer (Trainer + peft)", "steps timed": len(timer.times), "step ms": step * 1e3,
           "tokens/s": tokens_per_step / step,
           "trainable": sum(p.numel() for p in model.parameters() if p.requires_grad)}
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    payload = {"benchmark": "peer_lora", "model": args.model, "machine": machine(), "options": vars(args),
               "setups": [row], "notes": ["median wall time between optimizer steps (first step of the epoch left out)"]}
    write_outputs(default_output(device, "peer_lora", args.out), payload, list(row), [row],
                  f"peer LoRA (transformers Trainer + peft): {Path(args.model).name}")
    return payload


if __name__ == "__main__":
    main()
