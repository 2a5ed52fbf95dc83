"""Where each task lives on the Hugging Face Hub and how its rows become normalized examples.

Every id below is script-free (parquet data files named by `configs:` in the dataset card, or the
Hub's own parquet export `refs/convert/parquet`), because datasets>=4 refuses loading scripts.
How each was checked is in its `note`. The loading and error handling is in `adapterx.data.hub`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

# One definition of these, shared with the local-file readers.
from adapterx.data.readers import COPA_QUESTIONS, NLI_LABELS, TYDIQA_PREFIXES
from adapterx.data.readers_more import CSQA_KEYS, QQP_LABELS, SST2_LABELS

PARQUET_EXPORT = "refs/convert/parquet"  # the Hub's parquet conversion of a script-based dataset

# ClassLabel names as the Hub datasets declare them (checked at load time by hub._check_labels).
QQP_NAMES = tuple(QQP_LABELS.values())  # not_duplicate, duplicate
SST2_NAMES = tuple(SST2_LABELS.values())  # negative, positive
PAWSX_NAMES = ("0", "1")
UPOS_NAMES = ("ADJ", "ADP", "ADV", "AUX", "CCONJ", "DET", "INTJ", "NOUN", "NUM", "PART", "PRON",
              "PROPN", "PUNCT", "SCONJ", "SYM", "VERB", "X")
PANX_NAMES = ("O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC")

# google/xtreme names its UD-POS configs by English language name (`udpos.German`). Wolof (XTREME-R)
# is in the task's languages but not in google/xtreme: it is --data-dir only.
UDPOS_CONFIGS = {
    "af": "Afrikaans", "ar": "Arabic", "bg": "Bulgarian", "de": "German", "el": "Greek",
    "en": "English", "es": "Spanish", "et": "Estonian", "eu": "Basque", "fa": "Persian",
    "fi": "Finnish", "fr": "French", "he": "Hebrew", "hi": "Hindi", "hu": "Hungarian",
    "id": "Indonesian", "it": "Italian", "ja": "Japanese", "kk": "Kazakh", "ko": "Korean",
    "mr": "Marathi", "nl": "Dutch", "pt": "Portuguese", "ru": "Russian", "ta": "Tamil",
    "te": "Telugu", "th": "Thai", "tl": "Tagalog", "tr": "Turkish", "ur": "Urdu",
    "vi": "Vietnamese", "yo": "Yoruba", "zh": "Chinese"}
UDPOS_LANGS = tuple(sorted([*UDPOS_CONFIGS, "wo"]))
# Tatoeba configs and files are named by ISO 639-3 codes (`tatoeba.deu`, tatoeba.deu-eng.deu).
TATOEBA_CODES = {
    "af": "afr", "ar": "ara", "bg": "bul", "bn": "ben", "de": "deu", "el": "ell", "es": "spa",
    "et": "est", "eu": "eus", "fa": "pes", "fi": "fin", "fr": "fra", "he": "heb", "hi": "hin",
    "hu": "hun", "id": "ind", "it": "ita", "ja": "jpn", "jv": "jav", "ka": "kat", "kk": "kaz",
    "ko": "kor", "ml": "mal", "mr": "mar", "nl": "nld", "pt": "por", "ru": "rus", "sw": "swh",
    "ta": "tam", "te": "tel", "th": "tha", "tl": "tgl", "tr": "tur", "ur": "urd", "vi": "vie",
    "zh": "cmn"}
PANX_LANGS = ("af", "ar", "bg", "bn", "de", "el", "en", "es", "et", "eu", "fa", "fi", "fr", "he",
              "hi", "hu", "id", "it", "ja", "jv", "ka", "kk", "ko", "ml", "mr", "ms", "my", "nl",
              "pt", "ru", "sw", "ta", "te", "th", "tl", "tr", "ur", "vi", "yo", "zh")


@dataclass(frozen=True)
class HubSource:
    """Where one task lives on the Hub and how one of its rows becomes a normalized example."""

    dataset_id: str
    config: str | None  # may contain "{lang}" (ISO code) or "{code}" (the dataset's own code)
    # our split (train/dev/test) -> Hub split, or several Hub splits read one after the other
    splits: dict[str, str | tuple[str, ...]]
    languages: tuple[str, ...]
    convert: Callable[[dict], dict | None]  # None: the row is not an example (skipped)
    local_files: tuple[str, ...]  # the --data-dir alternative, relative to DIR; {lang} / {code}
    note: str = ""
    label_names: tuple[str, ...] | None = None  # expected ClassLabel names of `label_column`
    label_column: str = "label"  # a Sequence(ClassLabel) column for tagging tasks
    lang_of: Callable[[dict], str] | None = None  # language of a row when one config holds all
    train_languages: tuple[str, ...] = ("en",)  # XTREME trains on English only
    codes: dict[str, str] | None = None  # ISO code -> the dataset's code, for "{code}"
    revision: str | None = None  # a Hub revision (branch) other than main
    unavailable: str = ""  # why the Hub cannot serve this task: loading refuses, naming the files


def fill(template: str, lang: str, code: str) -> str:
    """`template` with "{lang}" and "{code}" replaced; other braces stay (file patterns)."""
    return template.replace("{lang}", lang).replace("{code}", code)


# --- converters: one Hub row -> one normalized example (docs/SCHEMA.md) ------------------------

def _name(value: object, names: tuple[str, ...]) -> str:
    """The label name of a ClassLabel id (or of the name itself); "" when unlabelled (-1)."""
    if isinstance(value, str):
        if value not in names:
            raise ValueError(f"unknown label {value!r}; expected one of {list(names)}")
        return value
    index = int(value)  # type: ignore[arg-type]
    if index < 0:
        return ""
    return names[index]


def _choice(raw: object, n: int) -> int:
    """A 0-based answer index from an int or a numeric string; -1 when unlabelled."""
    text = "" if raw is None else str(raw).strip()
    index = int(text) if text else -1
    if not -1 <= index < n:
        raise ValueError(f"answer index {index} is not in 0..{n - 1}")
    return index


def _nli(row: dict) -> dict:
    return {"id": str(row.get("idx", "")), "text_a": str(row["premise"]),
            "text_b": str(row["hypothesis"]), "label": _name(row["label"], NLI_LABELS)}


def _anli(row: dict) -> dict:
    return {**_nli(row), "id": str(row["uid"])}


def _snli(row: dict) -> dict | None:
    example = _nli(row)
    return example if example["label"] else None  # -1: no annotator consensus, not an example


def _qqp(row: dict) -> dict:
    return {"id": str(row["idx"]), "text_a": str(row["question1"]),
            "text_b": str(row["question2"]), "label": _name(row["label"], QQP_NAMES)}


def _sst2(row: dict) -> dict:
    return {"id": str(row["idx"]), "text_a": str(row["sentence"]), "text_b": None,
            "label": _name(row["label"], SST2_NAMES)}


def _pawsx(row: dict) -> dict:
    return {"id": str(row["id"]), "text_a": str(row["sentence1"]),
            "text_b": str(row["sentence2"]), "label": _name(row["label"], PAWSX_NAMES)}


def _copa(row: dict) -> dict:
    question = str(row["question"])
    if question not in COPA_QUESTIONS:
        raise ValueError(f"question must be 'cause' or 'effect', got {question!r}")
    return {"id": str(row["idx"]), "context": str(row["premise"]),
            "question": COPA_QUESTIONS[question],
            "choices": [str(row["choice1"]), str(row["choice2"])], "label": int(row["label"])}


def _siqa(row: dict) -> dict:
    raw = str(row.get("label") or "").strip()  # "1".."3" as in the original -labels.lst files
    return {"id": "", "context": str(row["context"]), "question": str(row["question"]),
            "choices": [str(row["answerA"]), str(row["answerB"]), str(row["answerC"])],
            "label": int(raw) - 1 if raw else -1}


def _hellaswag(row: dict) -> dict:
    endings = [str(e) for e in row["endings"]]
    if len(endings) != 4:
        raise ValueError(f"expected 4 endings, got {len(endings)}")
    # HellaSwag has no question: the context (ctx = ctx_a + ctx_b) is completed by an ending.
    return {"id": str(row.get("ind", "")), "context": str(row["ctx"]), "question": "",
            "choices": endings, "label": _choice(row.get("label"), 4)}


def _cosmosqa(row: dict) -> dict:
    return {"id": str(row.get("id") or ""), "context": str(row["context"]),
            "question": str(row["question"]),
            "choices": [str(row[f"answer{i}"]) for i in range(4)],
            "label": _choice(row.get("label"), 4)}


def _commonsenseqa(row: dict) -> dict:
    choices = row["choices"]
    by_key = dict(zip((str(k) for k in choices["label"]), (str(t) for t in choices["text"]),
                      strict=True))
    if sorted(by_key) != list(CSQA_KEYS):
        raise ValueError(f"expected 5 choices labelled A-E, got {list(choices['label'])}")
    key = str(row.get("answerKey") or "").strip()  # "" in the unlabelled test split
    return {"id": str(row["id"]), "context": "", "question": str(row["question"]),
            "choices": [by_key[k] for k in CSQA_KEYS],
            "label": CSQA_KEYS.index(key) if key else -1}


def _squad(row: dict) -> dict:
    answers = row["answers"]
    texts = [str(t) for t in answers["text"]]
    starts = [int(s) for s in answers["answer_start"]]
    if len(texts) != len(starts):
        raise ValueError(f"{len(texts)} answer texts but {len(starts)} answer_start offsets")
    return {"id": str(row["id"]), "title": str(row.get("title") or ""),
            "context": str(row["context"]), "question": str(row["question"]),
            "answers": {"text": texts, "answer_start": starts}}


def _tagging(column: str, names: tuple[str, ...] | None) -> Callable[[dict], dict]:
    """A converter of `tokens` + the tag column (ClassLabel ids, or names when `names` is None)."""
    def convert(row: dict) -> dict:
        tokens = [str(t) for t in row["tokens"]]
        tags = [str(t) if names is None else _name(t, names) for t in row[column]]
        if tags and len(tags) != len(tokens):
            raise ValueError(f"{len(tokens)} tokens but {len(tags)} tags")
        return {"id": "", "tokens": tokens, "tags": tags}
    return convert


def _pair(row: dict) -> dict:
    # google/xtreme's Tatoeba/BUCC rows keep the source files' line ends: strip them.
    return {"id": "", "source": str(row["source_sentence"]).strip(),
            "target": str(row["target_sentence"]).strip()}


def _tydiqa_lang(row: dict) -> str:
    prefix = str(row["id"]).split("-", 1)[0]
    if prefix not in TYDIQA_PREFIXES:
        raise ValueError(f"id {row['id']!r} does not start with a known language name")
    return TYDIQA_PREFIXES[prefix]


def _per_split(folder: str, names: dict[str, str], ext: str) -> tuple[str, ...]:
    return tuple(f"{folder}/{name}{ext}" for name in names.values())


_XTREME = "google/xtreme"
_XTREME_NOTE = ("google/xtreme was converted to parquet (PR #9, one folder per config, "
                "Feb 2024); ")

# Keyed by the task registry's `Task.hub` (adapterx/tasks): every registered task has an entry.
HUB_SOURCES: dict[str, HubSource] = {
    # --- English intermediate tasks --------------------------------------------------------
    "mnli": HubSource(
        "nyu-mll/glue", "mnli", {"train": "train", "dev": "validation_matched"}, ("en",), _nli,
        ("mnli/train.tsv", "mnli/dev_matched.tsv"), label_names=NLI_LABELS,
        note="GLUE MNLI (Williams et al. 2018); columns premise, hypothesis, label, idx; "
             "test_* splits are unlabelled (-1)."),
    "snli": HubSource(
        "stanfordnlp/snli", "plain_text", {"train": "train", "dev": "validation", "test": "test"},
        ("en",), _snli, ("snli/snli_1.0_train.jsonl", "snli/snli_1.0_dev.jsonl",
                         "snli/snli_1.0_test.jsonl"), label_names=NLI_LABELS,
        note="SNLI 1.0 (Bowman et al. 2015), parquet since PR #6 (plain_text/*.parquet); columns "
             "premise, hypothesis, label; rows without a gold label (-1) are skipped; no id "
             "column (ids are row numbers)."),
    "anli": HubSource(
        "facebook/anli", "plain_text",
        {"train": ("train_r1", "train_r2", "train_r3"), "dev": ("dev_r1", "dev_r2", "dev_r3"),
         "test": ("test_r1", "test_r2", "test_r3")}, ("en",), _anli,
        tuple(f"anli/R{r}/{s}.jsonl" for r in (1, 2, 3) for s in ("train", "dev", "test")),
        label_names=NLI_LABELS,
        note="ANLI v1.0 (Nie et al. 2020), parquet since PR #5 (plain_text/<split>-*.parquet); "
             "each of our splits concatenates rounds R1, R2, R3 in that order; columns uid, "
             "premise, hypothesis, label, reason."),
    "qqp": HubSource(
        "nyu-mll/glue", "qqp", {"train": "train", "dev": "validation"}, ("en",), _qqp,
        ("qqp/train.tsv", "qqp/dev.tsv"), label_names=QQP_NAMES,
        note="GLUE QQP; columns question1, question2, label (not_duplicate/duplicate), idx; the "
             "test split is unlabelled (-1)."),
    "sst2": HubSource(
        "nyu-mll/glue", "sst2", {"train": "train", "dev": "validation"}, ("en",), _sst2,
        ("sst2/train.tsv", "sst2/dev.tsv"), label_names=SST2_NAMES,
        note="GLUE SST-2 (Socher et al. 2013); columns sentence, label (negative/positive), idx; "
             "one text, so text_b is None."),
    "siqa": HubSource(
        "lighteval/siqa", None, {"train": "train", "dev": "validation"}, ("en",), _siqa,
        ("siqa/train.jsonl", "siqa/train-labels.lst", "siqa/dev.jsonl", "siqa/dev-labels.lst"),
        note="Social IQa (Sap et al. 2019). allenai/social_i_qa is script-based; lighteval/siqa is "
             "its parquet copy (same 33,410/1,954 rows, checked by hash in lm-evaluation-harness "
             "PR #3943); columns context, question, answerA-C, label ('1'-'3')."),
    "copa": HubSource(
        "aps/super_glue", "copa", {"train": "train", "dev": "validation", "test": "test"},
        ("en",), _copa, ("copa/train.jsonl", "copa/val.jsonl", "copa/test.jsonl"),
        label_names=("choice1", "choice2"),
        note="SuperGLUE COPA (Roemmele et al. 2011); columns premise, choice1, choice2, question, "
             "idx, label; test labels are -1."),
    "hellaswag": HubSource(
        "Rowan/hellaswag", None, {"train": "train", "dev": "validation"}, ("en",), _hellaswag,
        ("hellaswag/hellaswag_train.jsonl", "hellaswag/hellaswag_val.jsonl"),
        revision=PARQUET_EXPORT,
        note="HellaSwag (Zellers et al. 2019). The main branch of Rowan/hellaswag still has "
             "hellaswag.py (its parquet PR #7 was not merged when checked), so this reads the "
             "Hub's parquet export (refs/convert/parquet: default/{train,validation,test}/"
             "0000.parquet); columns ind, activity_label, ctx_a, ctx_b, ctx, endings, source_id, "
             "split, split_type, label ('0'-'3'; '' in test)."),
    "cosmosqa": HubSource(
        "Samsoup/cosmos_qa", None, {"train": "train", "dev": "validation"}, ("en",), _cosmosqa,
        ("cosmosqa/train.csv", "cosmosqa/valid.csv"),
        note="CosmosQA (Huang et al. 2019). allenai/cosmos_qa is script-based (cosmos_qa.py); "
             "Samsoup/cosmos_qa is a parquet copy (data/{train,validation,test}-*.parquet) with "
             "the original schema and split sizes 25,262 / 2,985 / 6,963; a third-party mirror, "
             "so --data-dir with the official CSVs is the reference; columns id, context, "
             "question, answer0-3, label (int)."),
    "commonsenseqa": HubSource(
        "tau/commonsense_qa", None, {"train": "train", "dev": "validation"}, ("en",),
        _commonsenseqa,
        ("commonsenseqa/train_rand_split.jsonl", "commonsenseqa/dev_rand_split.jsonl"),
        note="CommonsenseQA 1.11 random split (Talmor et al. 2019), parquet since PR #4 "
             "(data/*.parquet); columns id, question, question_concept, choices{label, text}, "
             "answerKey ('' in test); no context, so context is ''."),
    "squad": HubSource(
        "rajpurkar/squad", "plain_text", {"train": "train", "dev": "validation"}, ("en",), _squad,
        ("squad/train-v1.1.json", "squad/dev-v1.1.json"),
        note="SQuAD 1.1 (Rajpurkar et al. 2016); columns id, title, context, question, "
             "answers{text, answer_start}."),
    "squad_v2": HubSource(
        "rajpurkar/squad_v2", "squad_v2", {"train": "train", "dev": "validation"}, ("en",),
        _squad, ("squad_v2/train-v2.0.json", "squad_v2/dev-v2.0.json"),
        note="SQuAD 2.0 (Rajpurkar et al. 2018), parquet since PR #6 (squad_v2/*.parquet); same "
             "columns as SQuAD 1.1; unanswerable questions have empty answer lists."),
    "ccg": HubSource(
        "", None, {"train": "train", "dev": "validation", "test": "test"}, ("en",),
        _tagging("tags", None), ("ccg/train.txt", "ccg/dev.txt", "ccg/test.txt"),
        unavailable="CCGbank (Hockenmaier & Steedman 2007) is licensed by the LDC (LDC2005T13) and "
                    "has no public Hub copy; export sections 02-21 / 00 / 23 as one sentence per "
                    "line of space-separated token|tag items",
        note="No Hub source (searched the Hub and GitHub for a CCGbank copy: none public). The "
             "converter reads `tokens` + `tags` string columns, should a licensed copy be "
             "pointed at."),
    # --- zero-shot targets -------------------------------------------------------------------
    "xnli": HubSource(
        "facebook/xnli", "{lang}", {"dev": "validation", "test": "test"},
        ("ar", "bg", "de", "el", "en", "es", "fr", "hi", "ru", "sw", "th", "tr", "ur", "vi",
         "zh"), _nli, ("xnli/xnli.dev.tsv", "xnli/xnli.test.tsv"), label_names=NLI_LABELS,
        note="XNLI 1.0 (Conneau et al. 2018); one config per language; columns premise, "
             "hypothesis, label; no id column (ids are row numbers)."),
    "pawsx": HubSource(
        "google-research-datasets/paws-x", "{lang}",
        {"train": "train", "dev": "validation", "test": "test"},
        ("de", "en", "es", "fr", "ja", "ko", "zh"), _pawsx,
        ("pawsx/en/train.tsv", "pawsx/{lang}/dev_2k.tsv", "pawsx/{lang}/test_2k.tsv"),
        label_names=PAWSX_NAMES,
        note="PAWS-X (Yang et al. 2019); parquet, one config per language (train 49,401 / "
             "validation 2,000 / test 2,000); non-English train splits are machine translated, "
             "so only English is trained on; columns id, sentence1, sentence2, label (names "
             "'0'/'1'). Fallback: google/xtreme PAWS-X.<lang>."),
    "xcopa": HubSource(
        "cambridgeltl/xcopa", "{lang}", {"dev": "validation", "test": "test"},
        ("et", "ht", "id", "it", "qu", "sw", "ta", "th", "tr", "vi", "zh"), _copa,
        ("xcopa/val.{lang}.jsonl", "xcopa/test.{lang}.jsonl"),
        note="XCOPA 1.1 (Ponti et al. 2020); one config per language; columns premise, choice1, "
             "choice2, question, label, idx, changed."),
    "udpos": HubSource(
        _XTREME, "udpos.{code}", {"train": "train", "dev": "validation", "test": "test"},
        UDPOS_LANGS, _tagging("pos_tags", UPOS_NAMES),
        ("udpos/en_*-ud-train.conllu", "udpos/{lang}_*-ud-dev.conllu",
         "udpos/{lang}_*-ud-test.conllu"),
        label_names=UPOS_NAMES, label_column="pos_tags", codes=UDPOS_CONFIGS,
        note=_XTREME_NOTE + "UD 2.5 as XTREME uses it, every treebank of a language "
             "concatenated, configs udpos.<English name>; columns tokens, pos_tags "
             "(ClassLabel UPOS). Kazakh has no validation split and Tagalog, Thai, Yoruba only "
             "test; Wolof (XTREME-R) is not there (use --data-dir)."),
    "panx": HubSource(
        _XTREME, "PAN-X.{lang}", {"train": "train", "dev": "validation", "test": "test"},
        PANX_LANGS, _tagging("ner_tags", PANX_NAMES),
        ("panx/{lang}/train", "panx/{lang}/dev", "panx/{lang}/test"),
        label_names=PANX_NAMES, label_column="ner_tags",
        note=_XTREME_NOTE + "PAN-X = WikiANN with the Rahimi et al. (2019) splits, configs "
             "PAN-X.<lang>; columns tokens, ner_tags (ClassLabel O B-PER I-PER B-ORG I-ORG B-LOC "
             "I-LOC), langs. unimelb-nlp/wikiann holds the same splits."),
    "xquad": HubSource(
        "google/xquad", "xquad.{lang}", {"test": "validation"},
        ("ar", "de", "el", "en", "es", "hi", "ro", "ru", "th", "tr", "vi", "zh"), _squad,
        ("xquad/xquad.{lang}.json",),
        note="XQuAD (Artetxe et al. 2020); its only split, validation, is XTREME's test set; "
             "columns id, context, question, answers (no title)."),
    "mlqa": HubSource(
        _XTREME, "MLQA.{lang}.{lang}", {"dev": "validation", "test": "test"},
        ("ar", "de", "en", "es", "hi", "vi", "zh"), _squad,
        ("mlqa/dev/dev-context-{lang}-question-{lang}.json",
         "mlqa/test/test-context-{lang}-question-{lang}.json"),
        note=_XTREME_NOTE + "MLQA v1 (Lewis et al. 2020), configs MLQA.<context>.<question>; "
             "XTREME uses context and question in the same language; columns id, title, "
             "context, question, answers. (facebook/mlqa is script-based; its parquet PR #5 was "
             "not confirmed merged.)"),
    "tydiqa": HubSource(
        "google-research-datasets/tydiqa", "secondary_task",
        {"train": "train", "dev": "validation"},
        tuple(sorted(TYDIQA_PREFIXES.values())), _squad,
        ("tydiqa/tydiqa-goldp-v1.1-train.json", "tydiqa/tydiqa-goldp-v1.1-dev.json"),
        lang_of=_tydiqa_lang,
        note="TyDiQA-GoldP (Clark et al. 2020) = config secondary_task; columns id, title, "
             "context, question, answers; language from the id prefix ('arabic-...'); XTREME "
             "trains on the English rows and scores the dev set as its test set."),
    "tatoeba": HubSource(
        _XTREME, "tatoeba.{code}", {"test": "validation"}, tuple(sorted(TATOEBA_CODES)), _pair,
        ("tatoeba/tatoeba.{code}-eng.{code}", "tatoeba/tatoeba.{code}-eng.eng"),
        codes=TATOEBA_CODES,
        note=_XTREME_NOTE + "Tatoeba as XTREME uses it (LASER v1 test pairs, 1,000 per "
             "language), configs tatoeba.<ISO 639-3>, one split (validation); columns "
             "source_sentence (the non-English one), target_sentence (English), source_lang, "
             "target_lang; one example per pair, gold = same index."),
    "bucc": HubSource(
        _XTREME, "bucc18.{lang}", {"dev": "validation", "test": "test"},
        ("de", "fr", "ru", "zh"), _pair,
        tuple(f"bucc/{{lang}}-en.{s}.{ext}" for s in ("dev", "test")
              for ext in ("{lang}", "en", "gold")),
        unavailable="google/xtreme's bucc18 configs hold only the gold sentence pairs "
                    "(source_sentence, target_sentence), not the full id-tagged sentence pools "
                    "that BUCC mining and its F1 need; unpack the BUCC 2018 release (sample = "
                    "dev, training = test) into DIR/bucc/",
        note=_XTREME_NOTE + "but its bucc18.<lang> configs (validation = sample gold pairs, "
             "test = training gold pairs) lack the non-parallel sentences, so BUCC is "
             "--data-dir only; the row converter is the Tatoeba one for the gold pairs."),
}
