"""How much of each batch is padding: training batches random vs length-grouped, evaluation batches
in input order vs length-sorted, on real data through adapterx's own tokenization and batching.

Training batches come from the Trainer's dataloader exactly as adapterx.training sets it up
(training_arguments + with_lengths, training.group_by_length=false / true); evaluation batches are
adapterx.evaluation's (input order vs its length-sorted order). Padding fraction = padded
positions / all positions of the padded batches (multiple choice: choices x length per example).

    python benchmarks/padding.py --model /tmp/e5 --data-dir ../shared/data
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_common import RESULTS_DIR, machine, write_outputs  # noqa: E402


def pad_fraction(batches) -> tuple[float, int]:
    """(padding fraction, number of batches) over an iterable of collated batches."""
    padded = total = n = 0
    for batch in batches:
        mask = batch["attention_mask"]
        padded += int((mask == 0).sum())
        total += mask.numel()
        n += 1
    return padded / total, n


def train_padding(features, collator, batch: int, grouped: bool, seed: int) -> tuple[float, int]:
    """Padding of one epoch of training batches, random or length-grouped (adapterx's Trainer setup)."""
    from adapterx.training import TrainSettings, _ModuleTrainer, training_arguments, with_lengths

    settings = TrainSettings(learning_rate=1e-4, epochs=1, batch_size=batch, grad_accum=1, warmup_ratio=0.0,
                             weight_decay=0.0, logging_steps=10**6, seed=seed, save_checkpoints=False,
                             group_by_length=grouped)
    with tempfile.TemporaryDirectory() as tmp:
        args = training_arguments(settings, Path(tmp), torch.device("cpu"), torch.float32, progress=False)
        trainer = _ModuleTrainer(model=torch.nn.Linear(1, 1), args=args,
                                 train_dataset=with_lengths(features) if grouped else features, data_collator=collator)
        return pad_fraction(trainer.get_train_dataloader())


def eval_padding(features, collator, batch: int, by_length: bool) -> tuple[float, int]:
    """Padding of evaluation batches in input order or adapterx's length-sorted order."""
    from torch.utils.data import DataLoader

    from adapterx.training import sequence_length

    data = features.select_columns([c for c in ("input_ids", "attention_mask", "token_type_ids")
                                    if c in features.column_names])
    if by_length:
        lengths = [sequence_length(ids) for ids in data["input_ids"]]
        data = data.select(sorted(range(len(data)), key=lambda i: -lengths[i]))
    return pad_fraction(DataLoader(data, batch_size=batch, collate_fn=collator))


def main(argv: list[str] | None = None) -> dict:
    """Measure and print the padding table; write JSON + markdown."""
    from transformers import AutoTokenizer

    from adapterx.api import quiet_libraries
    from adapterx.data.features import Collator, tokenize
    from adapterx.data.loading import load_examples
    from adapterx.tasks import get_task

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", required=True, help="its tokenizer is used")
    p.add_argument("--data-dir", required=True)
    p.add_argument("--tasks", default="siqa:train,mnli:train,xnli:dev", help="task:split pairs")
    p.add_argument("--examples", type=int, default=3000)
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--eval-batch", type=int, default=64)
    p.add_argument("--max-seq-length", type=int, default=128)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default=str(RESULTS_DIR / "padding.json"))
    args = p.parse_args(argv)
    quiet_libraries()
    tokenizer = AutoTokenizer.from_pretrained(args.model)
    rows = []
    for spec in args.tasks.split(","):
        name, split = spec.split(":")
        task = get_task(name)
        examples = load_examples(task, split, "en", args.data_dir, args.examples, args.seed)
        collator = Collator(tokenizer, task.kind)
        train_feats = tokenize(task, examples, tokenizer, args.max_seq_length, 32, train=True)
        eval_feats = tokenize(task, examples, tokenizer, args.max_seq_length, 32, train=False)
        random_pad, n_batches = train_padding(train_feats, collator, args.batch, False, args.seed)
        grouped_pad, _ = train_padding(train_feats, collator, args.batch, True, args.seed)
        plain_eval, _ = eval_padding(eval_feats, collator, args.eval_batch, False)
        sorted_eval, _ = eval_padding(eval_feats, collator, args.eval_batch, True)
        rows.append({"data": f"{name} {split} (en)", "examples": len(examples), "train batches": n_batches,
                     "train random": random_pad, "train grouped": grouped_pad,
                     "positions grouped÷random": (1 - random_pad) / (1 - grouped_pad),
                     "eval in order": plain_eval, "eval sorted": sorted_eval,
                     "positions sorted÷order": (1 - plain_eval) / (1 - sorted_eval)})
    notes = [f"tokenizer of {args.model}, max_seq_length {args.max_seq_length}, train batch {args.batch}, "
             f"eval batch {args.eval_batch}, first {args.examples} examples (seeded sample)",
             "train/eval columns are padding fractions; 'positions A÷B' = batch positions (real + padding) "
             "computed with A over those with B for the same real tokens: the share of the work that is left"]
    payload = {"benchmark": "padding", "model": args.model, "machine": machine(), "options": vars(args),
               "rows": rows, "notes": notes}
    write_outputs(Path(args.out), payload, list(rows[0]), rows, "padding fraction of adapterx batches")
    return payload


if __name__ == "__main__":
    main()
