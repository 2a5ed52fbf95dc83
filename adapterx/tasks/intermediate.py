"""English intermediate tasks (Phang et al. 2020, Table 1), one registration each."""

from __future__ import annotations

from pathlib import Path

from adapterx.data import readers, readers_more, readers_tagging
from adapterx.data.readers import NLI_LABELS
from adapterx.tasks.base import HubData, Task, register
from adapterx.tasks.files import only_english, split_file

PARQUET_EXPORT = "refs/convert/parquet"  # the Hub's parquet conversion of a script-based dataset


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
        MNLI_FILES, readers.read_glue_nli_tsv, labels=NLI_LABELS, epochs=2.0,
        hub_source=HubData(
            "nyu-mll/glue", "mnli", {"train": "train", "dev": "validation_matched"}, "nli",
            label_names=NLI_LABELS,
            note="GLUE MNLI (Williams et al. 2018); columns premise, hypothesis, label, idx; "
                 "test_* splits are unlabelled (-1)."))

SNLI_FILES = {"train": "snli/snli_1.0_train.jsonl", "dev": "snli/snli_1.0_dev.jsonl",
              "test": "snli/snli_1.0_test.jsonl"}
_simple("snli", "classification", "accuracy", "SNLI 1.0: English natural language inference",
        SNLI_FILES, readers_more.read_snli_jsonl, labels=NLI_LABELS, epochs=2.0,
        hub_source=HubData(
            "stanfordnlp/snli", "plain_text", {"train": "train", "dev": "validation", "test": "test"}, "snli",
            label_names=NLI_LABELS,
            note="SNLI 1.0 (Bowman et al. 2015), parquet since PR #6 (plain_text/*.parquet); columns "
                 "premise, hypothesis, label; rows without a gold label (-1) are skipped; no id "
                 "column (ids are row numbers)."))

ANLI_FILES = {"train": "anli/R{r}/train.jsonl", "dev": "anli/R{r}/dev.jsonl", "test": "anli/R{r}/test.jsonl"}


def _anli(data_dir: Path, split: str, lang: str) -> list[dict]:
    only_english("anli", lang)
    return [ex for r in (1, 2, 3)
            for ex in readers_more.read_anli_jsonl(split_file(data_dir, ANLI_FILES, "anli", split, r=str(r)))]


register(Task(
    name="anli", kind="classification", metric="accuracy", labels=NLI_LABELS,
    description="ANLI+ (the paper's): adversarial NLI rounds 1-3, trained together with MNLI and SNLI",
    local=_anli, local_files=ANLI_FILES, splits=("train", "dev", "test"), hub="anli",
    also_train_on=("mnli", "snli"), epochs=2.0,
    hub_source=HubData(
        "facebook/anli", "plain_text",
        {"train": ("train_r1", "train_r2", "train_r3"), "dev": ("dev_r1", "dev_r2", "dev_r3"),
         "test": ("test_r1", "test_r2", "test_r3")}, "anli",
        local_files=tuple(f"anli/R{r}/{s}.jsonl" for r in (1, 2, 3) for s in ("train", "dev", "test")),
        label_names=NLI_LABELS,
        note="ANLI v1.0 (Nie et al. 2020), parquet since PR #5 (plain_text/<split>-*.parquet); "
             "each of our splits concatenates rounds R1, R2, R3 in that order; columns uid, "
             "premise, hypothesis, label, reason.")))

QQP_FILES = {"train": "qqp/train.tsv", "dev": "qqp/dev.tsv"}
_simple("qqp", "classification", "accuracy", "Quora Question Pairs: paraphrase detection (GLUE)",
        QQP_FILES, readers_more.read_qqp_tsv, labels=tuple(readers_more.QQP_LABELS.values()), epochs=2.0,
        hub_source=HubData(
            "nyu-mll/glue", "qqp", {"train": "train", "dev": "validation"}, "qqp",
            label_names=tuple(readers_more.QQP_LABELS.values()),
            note="GLUE QQP; columns question1, question2, label (not_duplicate/duplicate), idx; the "
                 "test split is unlabelled (-1)."))

SST2_FILES = {"train": "sst2/train.tsv", "dev": "sst2/dev.tsv"}
_simple("sst2", "classification", "accuracy", "SST-2: binary sentiment of movie-review sentences (GLUE)",
        SST2_FILES, readers_more.read_sst2_tsv, labels=tuple(readers_more.SST2_LABELS.values()), epochs=3.0,
        hub_source=HubData(
            "nyu-mll/glue", "sst2", {"train": "train", "dev": "validation"}, "sst2",
            label_names=tuple(readers_more.SST2_LABELS.values()),
            note="GLUE SST-2 (Socher et al. 2013); columns sentence, label (negative/positive), idx; "
                 "one text, so text_b is None."))

SIQA_FILES = {"train": "siqa/train.jsonl", "dev": "siqa/dev.jsonl"}


def _siqa(data_dir: Path, split: str, lang: str) -> list[dict]:
    only_english("siqa", lang)
    return readers.read_siqa(split_file(data_dir, SIQA_FILES, "siqa", split),
                             Path(data_dir) / f"siqa/{split}-labels.lst")


register(Task(
    name="siqa", kind="multiple_choice", metric="accuracy", num_choices=3,
    description="SocialIQA: commonsense about social situations (3 answers)",
    local=_siqa, local_files=SIQA_FILES, hub="siqa", max_seq_length=128, epochs=3.0,
    hub_source=HubData(
        "lighteval/siqa", None, {"train": "train", "dev": "validation"}, "siqa",
        local_files=("siqa/train.jsonl", "siqa/train-labels.lst", "siqa/dev.jsonl", "siqa/dev-labels.lst"),
        note="Social IQa (Sap et al. 2019). allenai/social_i_qa is script-based; lighteval/siqa is "
             "its parquet copy (same 33,410/1,954 rows, checked by hash in lm-evaluation-harness "
             "PR #3943); columns context, question, answerA-C, label ('1'-'3').")))

COPA_FILES = {"train": "copa/train.jsonl", "dev": "copa/val.jsonl", "test": "copa/test.jsonl"}
_simple("copa", "multiple_choice", "accuracy", "COPA: choice of plausible alternatives (SuperGLUE)",
        COPA_FILES, readers.read_copa_jsonl, num_choices=2, max_seq_length=128, epochs=10.0,
        hub_source=HubData(
            "aps/super_glue", "copa", {"train": "train", "dev": "validation", "test": "test"}, "copa",
            label_names=("choice1", "choice2"),
            note="SuperGLUE COPA (Roemmele et al. 2011); columns premise, choice1, choice2, question, "
                 "idx, label; test labels are -1."))

HELLASWAG_FILES = {"train": "hellaswag/hellaswag_train.jsonl", "dev": "hellaswag/hellaswag_val.jsonl"}
_simple("hellaswag", "multiple_choice", "accuracy", "HellaSwag: commonsense sentence completion (4 endings)",
        HELLASWAG_FILES, readers_more.read_hellaswag_jsonl, num_choices=4, epochs=2.0,
        hub_source=HubData(
            "Rowan/hellaswag", None, {"train": "train", "dev": "validation"}, "hellaswag",
            revision=PARQUET_EXPORT,
            note="HellaSwag (Zellers et al. 2019). The main branch of Rowan/hellaswag still has "
                 "hellaswag.py (its parquet PR #7 was not merged when checked), so this reads the "
                 "Hub's parquet export (refs/convert/parquet: default/{train,validation,test}/"
                 "0000.parquet); columns ind, activity_label, ctx_a, ctx_b, ctx, endings, source_id, "
                 "split, split_type, label ('0'-'3'; '' in test)."))

COSMOSQA_FILES = {"train": "cosmosqa/train.csv", "dev": "cosmosqa/valid.csv"}
_simple("cosmosqa", "multiple_choice", "accuracy", "CosmosQA: commonsense reading comprehension (4 answers)",
        COSMOSQA_FILES, readers_more.read_cosmosqa_csv, num_choices=4, epochs=3.0,
        hub_source=HubData(
            "Samsoup/cosmos_qa", None, {"train": "train", "dev": "validation"}, "cosmosqa",
            note="CosmosQA (Huang et al. 2019). allenai/cosmos_qa is script-based (cosmos_qa.py); "
                 "Samsoup/cosmos_qa is a parquet copy (data/{train,validation,test}-*.parquet) with "
                 "the original schema and split sizes 25,262 / 2,985 / 6,963; a third-party mirror, "
                 "so --data-dir with the official CSVs is the reference; columns id, context, "
                 "question, answer0-3, label (int)."))

CSQA_FILES = {"train": "commonsenseqa/train_rand_split.jsonl", "dev": "commonsenseqa/dev_rand_split.jsonl"}
_simple("commonsenseqa", "multiple_choice", "accuracy", "CommonsenseQA: 5-way commonsense questions",
        CSQA_FILES, readers_more.read_commonsenseqa_jsonl, num_choices=5, max_seq_length=128, epochs=3.0,
        hub_source=HubData(
            "tau/commonsense_qa", None, {"train": "train", "dev": "validation"}, "commonsenseqa",
            note="CommonsenseQA 1.11 random split (Talmor et al. 2019), parquet since PR #4 "
                 "(data/*.parquet); columns id, question, question_concept, choices{label, text}, "
                 "answerKey ('' in test); no context, so context is ''."))

SQUAD_FILES = {"train": "squad/train-v1.1.json", "dev": "squad/dev-v1.1.json"}
_simple("squad", "qa", "squad", "SQuAD v1.1: English extractive question answering",
        SQUAD_FILES, readers.read_squad_json, max_seq_length=384, epochs=2.0,
        hub_source=HubData(
            "rajpurkar/squad", "plain_text", {"train": "train", "dev": "validation"}, "squad",
            note="SQuAD 1.1 (Rajpurkar et al. 2016); columns id, title, context, question, "
                 "answers{text, answer_start}."))

SQUAD2_FILES = {"train": "squad_v2/train-v2.0.json", "dev": "squad_v2/dev-v2.0.json"}
_simple("squad_v2", "qa", "squad_v2", "SQuAD 2.0: extractive QA with unanswerable questions (no-answer "
        "= the first token; predicted when its score beats the best span; official v2.0 EM/F1)",
        SQUAD2_FILES, readers.read_squad_json, max_seq_length=384, epochs=2.0, no_answer=True,
        hub_source=HubData(
            "rajpurkar/squad_v2", "squad_v2", {"train": "train", "dev": "validation"}, "squad",
            note="SQuAD 2.0 (Rajpurkar et al. 2018), parquet since PR #6 (squad_v2/*.parquet); same "
                 "columns as SQuAD 1.1; unanswerable questions have empty answer lists."))

CCG_FILES = {"train": "ccg/train.txt", "dev": "ccg/dev.txt", "test": "ccg/test.txt"}
_simple("ccg", "tagging", "tag_accuracy", "CCG supertagging (CCGbank, LDC): one sentence per line of "
        "space-separated token|tag; the tag set is read from the training data",
        CCG_FILES, readers_tagging.read_ccg, labels_from_data=True, epochs=3.0,
        hub_source=HubData(
            "", None, {"train": "train", "dev": "validation", "test": "test"}, "tagging", label_column="tags",
            unavailable="CCGbank (Hockenmaier & Steedman 2007) is licensed by the LDC (LDC2005T13) and "
                        "has no public Hub copy; export sections 02-21 / 00 / 23 as one sentence per "
                        "line of space-separated token|tag items",
            note="No Hub source (searched the Hub and GitHub for a CCGbank copy: none public). The "
                 "converter reads `tokens` + `tags` string columns, should a licensed copy be "
                 "pointed at."))
