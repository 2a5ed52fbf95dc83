"""The registered tasks, one definition each with its language list (no per-language copies)."""

from __future__ import annotations

from pathlib import Path

from adapterx.data import readers
from adapterx.data.readers import NLI_LABELS
from adapterx.errors import DataError
from adapterx.tasks.base import Task, register

XNLI_LANGS = ("ar", "bg", "de", "el", "en", "es", "fr", "hi", "ru", "sw", "th", "tr", "ur", "vi", "zh")
XCOPA_LANGS = ("et", "ht", "id", "it", "qu", "sw", "ta", "th", "tr", "vi", "zh")
XQUAD_LANGS = ("ar", "de", "el", "en", "es", "hi", "ro", "ru", "th", "tr", "vi", "zh")
TYDIQA_LANGS = ("ar", "bn", "en", "fi", "id", "ko", "ru", "sw", "te")


def _only_english(task: str, lang: str) -> None:
    if lang != "en":
        raise DataError(f"{task} is an English task; it has no {lang!r} data")


def _file(data_dir: Path, rel: str) -> Path:
    return Path(data_dir) / rel


def _split_file(files: dict[str, str], task: str, split: str) -> str:
    if split not in files:
        raise DataError(f"{task} has no {split!r} split; it has: {', '.join(files)}")
    return files[split]


def _from_lang_table(table: dict[str, list[dict]], task: str, lang: str, path: Path) -> list[dict]:
    rows = table.get(lang, [])
    if not rows:
        raise DataError(f"no {task} rows for language {lang!r}", path,
                        hint=f"the file has: {', '.join(sorted(table)) or 'nothing'}")
    return rows


MNLI_FILES = {"train": "mnli/train.tsv", "dev": "mnli/dev_matched.tsv"}


def _mnli(data_dir: Path, split: str, lang: str) -> list[dict]:
    _only_english("mnli", lang)
    return readers.read_glue_nli_tsv(_file(data_dir, _split_file(MNLI_FILES, "mnli", split)))


XNLI_FILES = {"dev": "xnli/xnli.dev.tsv", "test": "xnli/xnli.test.tsv"}


def _xnli(data_dir: Path, split: str, lang: str) -> list[dict]:
    path = _file(data_dir, _split_file(XNLI_FILES, "xnli", split))
    return _from_lang_table(readers.read_xnli_tsv(path, [lang]), "xnli", lang, path)


SIQA_FILES = {"train": "siqa/train.jsonl", "dev": "siqa/dev.jsonl"}


def _siqa(data_dir: Path, split: str, lang: str) -> list[dict]:
    _only_english("siqa", lang)
    rel = _split_file(SIQA_FILES, "siqa", split)
    return readers.read_siqa(_file(data_dir, rel), _file(data_dir, f"siqa/{split}-labels.lst"))


COPA_FILES = {"train": "copa/train.jsonl", "dev": "copa/val.jsonl", "test": "copa/test.jsonl"}


def _copa(data_dir: Path, split: str, lang: str) -> list[dict]:
    _only_english("copa", lang)
    return readers.read_copa_jsonl(_file(data_dir, _split_file(COPA_FILES, "copa", split)))


XCOPA_FILES = {"dev": "xcopa/val.{lang}.jsonl", "test": "xcopa/test.{lang}.jsonl"}


def _xcopa(data_dir: Path, split: str, lang: str) -> list[dict]:
    rel = _split_file(XCOPA_FILES, "xcopa", split).format(lang=lang)
    return readers.read_copa_jsonl(_file(data_dir, rel))


SQUAD_FILES = {"train": "squad/train-v1.1.json", "dev": "squad/dev-v1.1.json"}


def _squad(data_dir: Path, split: str, lang: str) -> list[dict]:
    _only_english("squad", lang)
    return readers.read_squad_json(_file(data_dir, _split_file(SQUAD_FILES, "squad", split)))


XQUAD_FILES = {"test": "xquad/xquad.{lang}.json"}


def _xquad(data_dir: Path, split: str, lang: str) -> list[dict]:
    rel = _split_file(XQUAD_FILES, "xquad", split).format(lang=lang)
    return readers.read_squad_json(_file(data_dir, rel))


TYDIQA_FILES = {"train": "tydiqa/tydiqa-goldp-v1.1-train.json",
                "dev": "tydiqa/tydiqa-goldp-v1.1-dev.json"}


def _tydiqa(data_dir: Path, split: str, lang: str) -> list[dict]:
    path = _file(data_dir, _split_file(TYDIQA_FILES, "tydiqa", split))
    return _from_lang_table(readers.read_tydiqa_goldp_json(path, [lang]), "tydiqa", lang, path)


register(Task(
    name="mnli", kind="classification", metric="accuracy", labels=NLI_LABELS,
    description="MultiNLI, English natural language inference (GLUE format)",
    local=_mnli, local_files=MNLI_FILES, hub="mnli", max_seq_length=256, epochs=2.0))
register(Task(
    name="xnli", kind="classification", metric="accuracy", labels=NLI_LABELS,
    description="XNLI: NLI in 15 languages; trained on English MNLI",
    local=_xnli, local_files=XNLI_FILES, languages=XNLI_LANGS, splits=("dev", "test"),
    train_from="mnli", xtreme_name="xnli", hub="xnli", max_seq_length=256, epochs=2.0))
register(Task(
    name="siqa", kind="multiple_choice", metric="accuracy", num_choices=3,
    description="SocialIQA: commonsense about social situations (3 answers)",
    local=_siqa, local_files=SIQA_FILES, hub="siqa", max_seq_length=128, epochs=3.0))
register(Task(
    name="copa", kind="multiple_choice", metric="accuracy", num_choices=2,
    description="COPA: choice of plausible alternatives (SuperGLUE format)",
    local=_copa, local_files=COPA_FILES, splits=("train", "dev", "test"), hub="copa",
    max_seq_length=128, epochs=10.0))
register(Task(
    name="xcopa", kind="multiple_choice", metric="accuracy", num_choices=2,
    description="XCOPA: COPA in 11 languages; trained on English COPA",
    local=_xcopa, local_files=XCOPA_FILES, languages=XCOPA_LANGS, splits=("dev", "test"),
    train_from="copa", xtreme_name="xcopa", hub="xcopa", max_seq_length=128, epochs=10.0))
register(Task(
    name="squad", kind="qa", metric="squad",
    description="SQuAD v1.1: English extractive question answering",
    local=_squad, local_files=SQUAD_FILES, hub="squad", max_seq_length=384, epochs=2.0))
register(Task(
    name="xquad", kind="qa", metric="squad",
    description="XQuAD: SQuAD dev translated into 11 languages (+ro); trained on SQuAD v1.1",
    local=_xquad, local_files=XQUAD_FILES, languages=XQUAD_LANGS, splits=("test",),
    train_from="squad", xtreme_name="xquad", hub="xquad", max_seq_length=384, epochs=2.0))
register(Task(
    name="tydiqa", kind="qa", metric="squad",
    description="TyDiQA-GoldP: QA in 9 typologically diverse languages; English train split",
    local=_tydiqa, local_files=TYDIQA_FILES, languages=TYDIQA_LANGS,
    splits=("train", "dev", "test"), split_alias={"test": "dev"}, dev_holdout=0.1,
    xtreme_name="tydiqa", hub="tydiqa", max_seq_length=384, epochs=3.0))
