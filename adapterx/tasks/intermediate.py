"""English intermediate tasks (Phang et al. 2020, Table 1), one registration each."""

from __future__ import annotations

from pathlib import Path

from adapterx.data import readers, readers_more, readers_tagging
from adapterx.data.readers import NLI_LABELS
from adapterx.tasks.base import Task, register
from adapterx.tasks.files import only_english, split_file


def _reader(name: str, files: dict[str, str], read):
    """A local loader reading one English file per split with `read(path)`."""
    def load(data_dir: Path, split: str, lang: str) -> list[dict]:
        only_english(name, lang)
        return read(split_file(data_dir, files, name, split))
    return load


def _simple(name: str, kind: str, metric: str, description: str, files: dict[str, str], read,
            **fields) -> Task:
    return register(Task(name=name, kind=kind, metric=metric, description=description,
                         local=_reader(name, files, read), local_files=files, hub=name,
                         splits=tuple(files), **fields))


MNLI_FILES = {"train": "mnli/train.tsv", "dev": "mnli/dev_matched.tsv"}
_simple("mnli", "classification", "accuracy", "MultiNLI: English natural language inference (GLUE)",
        MNLI_FILES, readers.read_glue_nli_tsv, labels=NLI_LABELS, epochs=2.0)

SNLI_FILES = {"train": "snli/snli_1.0_train.jsonl", "dev": "snli/snli_1.0_dev.jsonl",
              "test": "snli/snli_1.0_test.jsonl"}
_simple("snli", "classification", "accuracy", "SNLI 1.0: English natural language inference",
        SNLI_FILES, readers_more.read_snli_jsonl, labels=NLI_LABELS, epochs=2.0)

ANLI_FILES = {"train": "anli/R{r}/train.jsonl", "dev": "anli/R{r}/dev.jsonl", "test": "anli/R{r}/test.jsonl"}


def _anli(data_dir: Path, split: str, lang: str) -> list[dict]:
    only_english("anli", lang)
    return [ex for r in (1, 2, 3)
            for ex in readers_more.read_anli_jsonl(split_file(data_dir, ANLI_FILES, "anli", split, r=str(r)))]


register(Task(
    name="anli", kind="classification", metric="accuracy", labels=NLI_LABELS,
    description="ANLI+ (the paper's): adversarial NLI rounds 1-3, trained together with MNLI and SNLI",
    local=_anli, local_files=ANLI_FILES, splits=("train", "dev", "test"), hub="anli",
    also_train_on=("mnli", "snli"), epochs=2.0))

QQP_FILES = {"train": "qqp/train.tsv", "dev": "qqp/dev.tsv"}
_simple("qqp", "classification", "accuracy", "Quora Question Pairs: paraphrase detection (GLUE)",
        QQP_FILES, readers_more.read_qqp_tsv, labels=tuple(readers_more.QQP_LABELS.values()), epochs=2.0)

SST2_FILES = {"train": "sst2/train.tsv", "dev": "sst2/dev.tsv"}
_simple("sst2", "classification", "accuracy", "SST-2: binary sentiment of movie-review sentences (GLUE)",
        SST2_FILES, readers_more.read_sst2_tsv, labels=tuple(readers_more.SST2_LABELS.values()), epochs=3.0)

SIQA_FILES = {"train": "siqa/train.jsonl", "dev": "siqa/dev.jsonl"}


def _siqa(data_dir: Path, split: str, lang: str) -> list[dict]:
    only_english("siqa", lang)
    return readers.read_siqa(split_file(data_dir, SIQA_FILES, "siqa", split),
                             Path(data_dir) / f"siqa/{split}-labels.lst")


register(Task(
    name="siqa", kind="multiple_choice", metric="accuracy", num_choices=3,
    description="SocialIQA: commonsense about social situations (3 answers)",
    local=_siqa, local_files=SIQA_FILES, hub="siqa", max_seq_length=128, epochs=3.0))

COPA_FILES = {"train": "copa/train.jsonl", "dev": "copa/val.jsonl", "test": "copa/test.jsonl"}
_simple("copa", "multiple_choice", "accuracy", "COPA: choice of plausible alternatives (SuperGLUE)",
        COPA_FILES, readers.read_copa_jsonl, num_choices=2, max_seq_length=128, epochs=10.0)

HELLASWAG_FILES = {"train": "hellaswag/hellaswag_train.jsonl", "dev": "hellaswag/hellaswag_val.jsonl"}
_simple("hellaswag", "multiple_choice", "accuracy", "HellaSwag: commonsense sentence completion (4 endings)",
        HELLASWAG_FILES, readers_more.read_hellaswag_jsonl, num_choices=4, epochs=2.0)

COSMOSQA_FILES = {"train": "cosmosqa/train.csv", "dev": "cosmosqa/valid.csv"}
_simple("cosmosqa", "multiple_choice", "accuracy", "CosmosQA: commonsense reading comprehension (4 answers)",
        COSMOSQA_FILES, readers_more.read_cosmosqa_csv, num_choices=4, epochs=3.0)

CSQA_FILES = {"train": "commonsenseqa/train_rand_split.jsonl", "dev": "commonsenseqa/dev_rand_split.jsonl"}
_simple("commonsenseqa", "multiple_choice", "accuracy", "CommonsenseQA: 5-way commonsense questions",
        CSQA_FILES, readers_more.read_commonsenseqa_jsonl, num_choices=5, max_seq_length=128, epochs=3.0)

SQUAD_FILES = {"train": "squad/train-v1.1.json", "dev": "squad/dev-v1.1.json"}
_simple("squad", "qa", "squad", "SQuAD v1.1: English extractive question answering",
        SQUAD_FILES, readers.read_squad_json, max_seq_length=384, epochs=2.0)

SQUAD2_FILES = {"train": "squad_v2/train-v2.0.json", "dev": "squad_v2/dev-v2.0.json"}
_simple("squad_v2", "qa", "squad_v2", "SQuAD 2.0: extractive QA with unanswerable questions (no-answer "
        "= the first token; predicted when its score beats the best span; official v2.0 EM/F1)",
        SQUAD2_FILES, readers.read_squad_json, max_seq_length=384, epochs=2.0, no_answer=True)

CCG_FILES = {"train": "ccg/train.txt", "dev": "ccg/dev.txt", "test": "ccg/test.txt"}
_simple("ccg", "tagging", "tag_accuracy", "CCG supertagging (CCGbank, LDC): one sentence per line of "
        "space-separated token|tag; the tag set is read from the training data",
        CCG_FILES, readers_tagging.read_ccg, labels_from_data=True, epochs=3.0)
