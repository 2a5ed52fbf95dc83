"""Data for the paper's two alternatives to plain English intermediate training: translated
training files mixed into the English data, and plain multilingual text for masked-language
modelling.

Layout under `--data-dir DIR`:

    DIR/translated/<lang>/   a data dir of its own, laid out like DIR (e.g. translated/de/mnli/train.tsv,
                             translated/fr/squad/train-v1.1.json), files in the task's own format
    DIR/mlm/<lang>.txt       one passage per line (blank lines skipped)
"""

from __future__ import annotations

import random
from pathlib import Path

from datasets import Dataset

from adapterx.errors import AdapterxError, DataError
from adapterx.tasks import Task
from adapterx.textio import read_utf8

TRANSLATED_DIR = "translated"
MLM_DIR = "mlm"


def _need_data_dir(data_dir: str | Path | None, what: str, key: str) -> Path:
    if data_dir is None:
        raise AdapterxError(f"{what} is read from local files, but no --data-dir was given",
                            f"pass --data-dir DIR holding {key} (layout in the README), or drop the "
                            f"{key.split('/')[0]} settings")
    return Path(data_dir)


def translated_train(task: Task, data_dir: str | Path | None, lang: str) -> list[dict]:
    """The translated training split of `task` in `lang`, read with the task's own reader."""
    from adapterx.data.loading import load_examples

    pattern = task.local_files.get("train", f"{task.name}/...")
    root = _need_data_dir(data_dir, f"translated {task.name} data", f"{TRANSLATED_DIR}/<lang>/{pattern}")
    lang_dir = root / TRANSLATED_DIR / lang
    expected = lang_dir / pattern
    # Check the file ourselves first: the reader's own message would not say where mix.* looks.
    if "{" not in pattern and not expected.is_file():
        raise DataError(f"no {lang} translation of the {task.name} training data: {expected} is missing",
                        hint=f"put the {lang} translation there in the same format as {root / pattern}, "
                             f"or remove {lang} from mix.langs")
    try:  # the translated folder is a data dir of its own: the task reads it as if it were English
        examples = load_examples(task, "train", "en", lang_dir)
    except DataError as err:
        raise DataError(f"translated {task.name} data ({lang}): {err.message}",
                        hint=err.hint or f"or remove {lang} from mix.langs") from None
    return [dict(ex, id=f"{lang}:{ex.get('id', i)}") for i, ex in enumerate(examples)]


def mix_translated(task: Task, english: list[dict], data_dir: str | Path | None, langs: list[str],
                   ratio: float, seed: int) -> tuple[list[dict], dict[str, int]]:
    """English examples with a `ratio` share replaced by translated ones (evenly over `langs`).

    The total stays len(english) so a mixed module costs what a plain one does; a language with
    fewer translated examples than its share gives all it has. Returns the mixed list (English
    first, in a stable order) and the number of examples taken per language."""
    rng = random.Random(seed)
    pools = {lang: translated_train(task, data_dir, lang) for lang in langs}
    n_translated = round(ratio * len(english))
    shares = [n_translated // len(langs) + (i < n_translated % len(langs)) for i in range(len(langs))]
    taken: dict[str, int] = {}
    mixed_translated: list[dict] = []
    for lang, share in zip(langs, shares):
        pool = pools[lang]
        picked = sorted(rng.sample(range(len(pool)), min(share, len(pool))))
        mixed_translated.extend(pool[i] for i in picked)
        taken[lang] = len(picked)
    keep = sorted(rng.sample(range(len(english)), len(english) - n_translated))
    return [english[i] for i in keep] + mixed_translated, taken


def read_mlm_lines(data_dir: str | Path | None, langs: list[str], max_lines: int | None,
                   seed: int) -> dict[str, list[str]]:
    """Plain-text passages per language for MLM; a seeded subsample of `max_lines` per language."""
    root = _need_data_dir(data_dir, "MLM text", f"{MLM_DIR}/<lang>.txt")
    out = {}
    for lang in langs:
        path = root / MLM_DIR / f"{lang}.txt"
        if not path.is_file():
            raise DataError(f"no MLM text for {lang}: {path} is missing",
                            hint=f"put {lang} plain text there (one passage per line), or remove {lang} "
                                 "from mlm.langs")
        lines = [line.strip() for line in read_utf8(path).splitlines() if line.strip()]
        if not lines:
            raise DataError(f"the MLM text for {lang} is empty", path, hint="one passage per line")
        if max_lines and len(lines) > max_lines:
            lines = [lines[i] for i in sorted(random.Random(seed).sample(range(len(lines)), max_lines))]
        out[lang] = lines
    return out


def tokenize_mlm(lines: dict[str, list[str]], tokenizer, max_length: int) -> Dataset:
    """Token ids of every passage (cut to `max_length`); the MLM collator pads and masks them."""
    if tokenizer.mask_token_id is None:
        raise AdapterxError("the model's tokenizer has no mask token, so it cannot do masked-language modelling",
                            "use a masked-LM encoder (XLM-R, mBERT, ...) or drop the mlm.* settings")
    texts = [text for lang in sorted(lines) for text in lines[lang]]
    enc = tokenizer(texts, truncation=True, max_length=max_length, return_special_tokens_mask=True)
    return Dataset.from_dict(dict(enc))
