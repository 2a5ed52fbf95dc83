"""The plain-script reference for SIQa -> XCOPA: PyTorch + peft, no adapterx import.

What it does (the acceptance test of adapterx's results, see the README's "Results you can trust"):
multilingual encoder + LoRA (r 8, alpha 16, no dropout, on `query` and `value`) + a linear scorer
over the mean-pooled last hidden state of each (premise + question, choice) pair; AdamW, constant
learning rate 5e-4, batch 16 items, max length 96. Condition `target`: the 80 English COPA items x
5 epochs, last epoch kept. Condition `siqa`: first 3,000 SIQa training items x 1 epoch, then the
same COPA training continuing the same LoRA weights and scorer (the paper's sequential recipe).
Both are scored zero-shot on XCOPA's languages. `--full` trains every weight (lr 2e-5) instead.

    python benchmarks/peer_xcopa.py --model /tmp/e5 --data-dir DATA --seed 0 [--full]
    python benchmarks/peer_xcopa.py --compare --model /tmp/e5 --data-dir DATA --seeds 0,1,2

`--compare` runs this script's conditions and adapterx's matching commands (`direct`,
`sequential`, `stack`, `full-direct`, `full-stilts`) for every seed and writes a table of the
deltas (SIQa -> XCOPA minus target-only) to benchmarks/results/.

`--siqa-seed N` pins the SIQa stage to seed N (item sample, order, initial weights) for every
target seed, and `--siqa-cache DIR` keeps that stage's trained weights (safetensors) so later seeds
continue from them instead of training again: the seeds then measure the spread of target training,
as adapterx's `module_seed` does (3,000 SIQa items take ~30 min per pass on a 2-core CPU).
"""

from __future__ import annotations

import argparse
import json
import random
import time
from pathlib import Path

import torch
from torch import nn
from transformers import AutoModel, AutoTokenizer

COPA_QUESTIONS = {"cause": "What was the cause?", "effect": "What happened as a result?"}
XCOPA_LANGS = ("et", "ht", "id", "it", "qu", "sw", "ta", "th", "tr", "vi", "zh")
LORA_LR, FULL_LR = 5e-4, 2e-5
BATCH, MAX_LEN, SIQA_ITEMS, COPA_EPOCHS = 16, 96, 3000, 5


def read_jsonl(path: Path) -> list[dict]:
    """One JSON object per non-empty line."""
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def copa_items(path: Path) -> list[tuple[str, list[str], int]]:
    """COPA / XCOPA rows as (premise + question, [choice1, choice2], label)."""
    return [(f"{r['premise']} {COPA_QUESTIONS[r['question']]}", [r["choice1"], r["choice2"]], int(r["label"]))
            for r in read_jsonl(path)]


def siqa_items(data_dir: Path, n: int, seed: int) -> list[tuple[str, list[str], int]]:
    """A seeded sample of n SocialIQA training items (labels 1-3 in the .lst file)."""
    rows = read_jsonl(data_dir / "siqa" / "train.jsonl")
    labels = (data_dir / "siqa" / "train-labels.lst").read_text().split()
    items = [(f"{r['context']} {r['question']}", [r["answerA"], r["answerB"], r["answerC"]], int(y) - 1)
             for r, y in zip(rows, labels)]
    return random.Random(seed).sample(items, min(n, len(items)))


class Scorer(nn.Module):
    """Encoder + a linear score of each (context, choice) pair's mean-pooled last hidden state."""

    def __init__(self, encoder: nn.Module) -> None:
        super().__init__()
        self.encoder = encoder
        self.score = nn.Linear(encoder.config.hidden_size, 1)

    def forward(self, input_ids, attention_mask, n_choices: int) -> torch.Tensor:
        hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
        pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1)
        return self.score(pooled).view(-1, n_choices)


def encode(tokenizer, batch: list[tuple[str, list[str], int]]) -> dict[str, torch.Tensor]:
    """Tokenize every (context, choice) pair of the batch, padded to the batch's longest."""
    firsts = [ctx for ctx, choices, _ in batch for _ in choices]
    seconds = [c for _, choices, _ in batch for c in choices]
    enc = tokenizer(firsts, seconds, truncation=True, max_length=MAX_LEN, padding=True, return_tensors="pt")
    return {"input_ids": enc["input_ids"], "attention_mask": enc["attention_mask"]}


def train_epochs(model: Scorer, tokenizer, items, epochs: int, optimizer, seed: int) -> None:
    """Shuffled mini-batches, cross-entropy over the choices, constant learning rate."""
    model.train()
    order_rng = random.Random(seed)
    for _ in range(epochs):
        order = list(range(len(items)))
        order_rng.shuffle(order)
        for start in range(0, len(order), BATCH):
            batch = [items[i] for i in order[start:start + BATCH]]
            logits = model(**encode(tokenizer, batch), n_choices=len(batch[0][1]))
            loss = nn.functional.cross_entropy(logits, torch.tensor([y for _, _, y in batch]))
            loss.backward()
            optimizer.step()
            optimizer.zero_grad()


@torch.no_grad()
def accuracy(model: Scorer, tokenizer, items) -> float:
    """Percentage of items whose gold choice scores highest."""
    model.eval()
    correct = 0
    for start in range(0, len(items), 64):
        batch = items[start:start + 64]
        logits = model(**encode(tokenizer, batch), n_choices=len(batch[0][1]))
        correct += int((logits.argmax(-1) == torch.tensor([y for _, _, y in batch])).sum())
    return 100.0 * correct / len(items)


def build(model_dir: str, full: bool, seed: int) -> tuple[Scorer, list[nn.Parameter]]:
    """The encoder (LoRA-wrapped unless full) and its scorer; returns the trainable parameters."""
    torch.manual_seed(seed)
    encoder = AutoModel.from_pretrained(model_dir, add_pooling_layer=False)
    if not full:
        from peft import LoraConfig, get_peft_model

        encoder = get_peft_model(encoder, LoraConfig(r=8, lora_alpha=16, lora_dropout=0.0,
                                                     target_modules=["query", "value"]))
    model = Scorer(encoder)
    return model, [p for p in model.parameters() if p.requires_grad]


def siqa_stage(args, model: Scorer, tokenizer, params: list[nn.Parameter], siqa_seed: int) -> None:
    """The SIQa epoch on `model` (weights from `siqa_seed`), or its saved result from --siqa-cache."""
    from safetensors.torch import load_file, save_file

    cache = getattr(args, "siqa_cache", None)
    path = Path(cache) / f"peer-{'full' if args.full else 'lora'}-siqa-s{siqa_seed}-n{args.siqa_items}.safetensors" \
        if cache else None
    if path is not None and path.is_file():
        model.load_state_dict(load_file(str(path)), strict=False)
        print(f"  SIQa stage from {path}", flush=True)
        return
    optimizer = torch.optim.AdamW(params, lr=FULL_LR if args.full else LORA_LR, weight_decay=0.01)
    train_epochs(model, tokenizer, siqa_items(Path(args.data_dir), args.siqa_items, siqa_seed), 1, optimizer,
                 siqa_seed)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        save_file({n: p.detach().contiguous() for n, p in model.named_parameters() if p.requires_grad},
                  str(path.with_suffix(".tmp")))
        path.with_suffix(".tmp").replace(path)  # a complete file or none


def run_condition(args, condition: str, seed: int) -> dict:
    """Train one condition (`target` or `siqa`) with one seed and score XCOPA; returns the record."""
    data = Path(args.data_dir)
    tokenizer = AutoTokenizer.from_pretrained(args.model)
    siqa_seed = seed if getattr(args, "siqa_seed", None) is None else args.siqa_seed
    # siqa: the encoder, LoRA and scorer start from the SIQa stage's seed (they are that stage's weights)
    model, params = build(args.model, args.full, siqa_seed if condition == "siqa" else seed)
    start = time.perf_counter()
    if condition == "siqa":
        siqa_stage(args, model, tokenizer, params, siqa_seed)
    # the target phase: a new optimizer, as a second fine-tuning run would start one, and its own
    # random stream (dropout), whether the SIQa stage ran here or came from the cache
    torch.manual_seed(seed + 1)
    optimizer = torch.optim.AdamW(params, lr=FULL_LR if args.full else LORA_LR, weight_decay=0.01)
    epochs = getattr(args, "copa_epochs", COPA_EPOCHS)
    train_epochs(model, tokenizer, copa_items(data / "copa" / "train.jsonl"), epochs, optimizer, seed + 1)
    train_s = time.perf_counter() - start
    per_lang = {lang: accuracy(model, tokenizer, copa_items(data / "xcopa" / f"test.{lang}.jsonl"))
                for lang in args.langs}
    return {"runner": "peer", "method": "full" if args.full else "lora", "condition": condition, "seed": seed,
            "per_language": per_lang, "average": sum(per_lang.values()) / len(per_lang),
            "english_dev": accuracy(model, tokenizer, copa_items(data / "copa" / "val.jsonl")),
            "train_seconds": round(train_s, 1), "siqa_items": args.siqa_items, "copa_epochs": epochs,
            "siqa_seed": siqa_seed, "target_phase_seeded": True}


def main() -> None:
    """Run one seed's conditions, or the whole comparison with --compare."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True)
    parser.add_argument("--data-dir", required=True)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--full", action="store_true", help="train every weight (lr 2e-5) instead of LoRA")
    parser.add_argument("--conditions", default="target,siqa")
    parser.add_argument("--siqa-items", type=int, default=SIQA_ITEMS)
    parser.add_argument("--langs", default=",".join(XCOPA_LANGS))
    parser.add_argument("--copa-epochs", type=int, default=COPA_EPOCHS, help="target epochs (fewer: a quick check)")
    parser.add_argument("--out", default=None, help="append each record to this JSONL file")
    parser.add_argument("--compare", action="store_true", help="peer and adapterx, every seed (see peer_compare.py)")
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--work", default="peer-xcopa-work",
                        help="--compare: records.jsonl (reused per runner, method, condition, seed), adapterx modules and runs")
    parser.add_argument("--device", default="cpu", help="--compare: adapterx's --device (the peer runs on the CPU)")
    parser.add_argument("--siqa-seed", type=int, default=None,
                        help="seed of the SIQa stage for every seed (adapterx: module_seed); default: each seed's own")
    parser.add_argument("--siqa-cache", default=None,
                        help="keep / reuse the SIQa stage's weights here (--compare: <work>/peer-siqa)")
    parser.add_argument("--methods", default="lora,full", help="--compare: lora, full or both")
    args = parser.parse_args()
    args.langs = args.langs.split(",")
    if args.compare:
        from peer_compare import compare  # adapterx is only ever driven through its CLI, in subprocesses

        compare(args, run_condition)
        return
    torch.set_num_threads(max(1, torch.get_num_threads()))
    for condition in args.conditions.split(","):
        record = run_condition(args, condition, args.seed)
        print(json.dumps(record))
        if args.out:
            with open(args.out, "a", encoding="utf-8") as f:
                f.write(json.dumps(record) + "\n")


if __name__ == "__main__":
    main()
