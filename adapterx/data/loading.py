"""Examples for a (task, split, language): from `--data-dir` files or the Hugging Face Hub."""

from __future__ import annotations

import random
from pathlib import Path

from adapterx.data.bad_rows import active_log
from adapterx.errors import DataError
from adapterx.tasks import Task, get_task


def load_examples(task: Task | str, split: str, lang: str = "en", data_dir: str | Path | None = None,
                  max_examples: int | None = None, seed: int = 0) -> list[dict]:
    """Normalized examples of one split and language; a seeded subsample when `max_examples`."""
    task = get_task(task) if isinstance(task, str) else task
    real_split = task.resolve_split(split)
    if data_dir is not None:
        examples = task.local(Path(data_dir), real_split, lang)
    else:
        from adapterx.data.hub import load_hub_split

        examples = load_hub_split(task.hub or task.name, real_split, lang)
    if (log := active_log()) is not None:  # rows data.on_bad_row=skip left out: say so once per file
        log.announce()
    if not examples:
        raise DataError(f"the {task.name} {split} split for {lang!r} is empty",
                        hint="check the data files or the Hub dataset")
    if real_split == "train" and task.also_train_on:  # e.g. ANLI+ = ANLI + MNLI + SNLI
        examples = list(examples)
        for other in task.also_train_on:
            examples.extend(load_examples(other, "train", lang, data_dir))
    if isinstance(examples, dict):  # BUCC: one document-level mapping, nothing to subsample
        return examples
    return subsample(examples, max_examples, seed)


# Evaluation subsets (`--max-eval-examples`) are drawn with this seed, whatever the run's seed:
# every seed and every setup of an experiment then scores the same items, so seeds average over
# training randomness only and two setups can be compared item by item (paired bootstrap).
EVAL_SAMPLE_SEED = 0


def load_eval_examples(task: Task | str, split: str, lang: str, data_dir: str | Path | None,
                       max_examples: int | None) -> list[dict]:
    """The evaluation examples of one language: all of them, or the fixed subsample of `max_examples`."""
    return load_examples(task, split, lang, data_dir, max_examples, EVAL_SAMPLE_SEED)


def eval_sample_key(max_examples: int | None, seed: int) -> dict:
    """Cache-key entry of runs whose evaluation subset changed when it stopped following the run's
    seed (subsampled evaluation with seed != EVAL_SAMPLE_SEED); empty for every other run, whose
    key stays as it was."""
    return {"eval_sample_seed": EVAL_SAMPLE_SEED} if max_examples is not None and seed != EVAL_SAMPLE_SEED else {}


def subsample(examples: list[dict], max_examples: int | None, seed: int) -> list[dict]:
    """A seeded random subset that keeps the original order (so predictions stay in input order)."""
    if not max_examples or max_examples >= len(examples):
        return examples
    keep = sorted(random.Random(seed).sample(range(len(examples)), max_examples))
    return [examples[i] for i in keep]


def english_train_dev(task: Task, data_dir: str | Path | None, max_train: int | None,
                      max_dev: int | None, seed: int) -> tuple[list[dict], list[dict]]:
    """English training data and the English dev set used for model selection."""
    train, dev, _ = english_train_dev_total(task, data_dir, max_train, max_dev, seed)
    return train, dev


def english_train_dev_total(task: Task, data_dir: str | Path | None, max_train: int | None,
                            max_dev: int | None, seed: int) -> tuple[list[dict], list[dict], int]:
    """`english_train_dev` and the size of the whole dev set before `max_dev` subsampled it."""
    source = get_task(task.train_task)
    train = load_examples(source, "train", "en", data_dir)
    if source.dev_holdout:
        # The task's dev file is its evaluation set: select models on held-out train rows instead.
        order = list(range(len(train)))
        random.Random(1234).shuffle(order)
        n_dev = max(1, int(len(train) * source.dev_holdout))
        dev_ids = set(order[:n_dev])
        dev = [ex for i, ex in enumerate(train) if i in dev_ids]
        train = [ex for i, ex in enumerate(train) if i not in dev_ids]
    else:
        dev = load_examples(source, "dev", "en", data_dir)
    return subsample(train, max_train, seed), subsample(dev, max_dev, seed), len(dev)
