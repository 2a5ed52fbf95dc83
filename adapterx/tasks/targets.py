"""Zero-shot targets of XTREME / XTREME-R, one definition each with its language list."""

from __future__ import annotations

from pathlib import Path

from adapterx.data import readers, readers_more, readers_retrieval, readers_tagging
from adapterx.data.readers import NLI_LABELS, TYDIQA_PREFIXES
from adapterx.errors import DataError
from adapterx.tasks.base import HubData, Task, TranslateTest, register
from adapterx.tasks.files import from_lang_table, glob_files, split_file

XNLI_LANGS = ("ar", "bg", "de", "el", "en", "es", "fr", "hi", "ru", "sw", "th", "tr", "ur", "vi", "zh")
PAWSX_LANGS = ("de", "en", "es", "fr", "ja", "ko", "zh")
XCOPA_LANGS = ("et", "ht", "id", "it", "qu", "sw", "ta", "th", "tr", "vi", "zh")
XQUAD_LANGS = ("ar", "de", "el", "en", "es", "hi", "ro", "ru", "th", "tr", "vi", "zh")
MLQA_LANGS = ("ar", "de", "en", "es", "hi", "vi", "zh")
TYDIQA_LANGS = ("ar", "bn", "en", "fi", "id", "ko", "ru", "sw", "te")
UDPOS_LANGS = ("af", "ar", "bg", "de", "el", "en", "es", "et", "eu", "fa", "fi", "fr", "he", "hi", "hu",
               "id", "it", "ja", "kk", "ko", "mr", "nl", "pt", "ru", "ta", "te", "th", "tl", "tr", "ur",
               "vi", "wo", "yo", "zh")
PANX_LANGS = ("af", "ar", "bg", "bn", "de", "el", "en", "es", "et", "eu", "fa", "fi", "fr", "he", "hi",
              "hu", "id", "it", "ja", "jv", "ka", "kk", "ko", "ml", "mr", "ms", "my", "nl", "pt", "ru",
              "sw", "ta", "te", "th", "tl", "tr", "ur", "vi", "yo", "zh")
# Tatoeba files are named by ISO 639-3 codes (XTREME's 36 languages).
TATOEBA_CODES = {"af": "afr", "ar": "ara", "bg": "bul", "bn": "ben", "de": "deu", "el": "ell", "es": "spa",
                 "et": "est", "eu": "eus", "fa": "pes", "fi": "fin", "fr": "fra", "he": "heb", "hi": "hin",
                 "hu": "hun", "id": "ind", "it": "ita", "ja": "jpn", "jv": "jav", "ka": "kat", "kk": "kaz",
                 "ko": "kor", "ml": "mal", "mr": "mar", "nl": "nld", "pt": "por", "ru": "rus", "sw": "swh",
                 "ta": "tam", "te": "tel", "th": "tha", "tl": "tgl", "tr": "tur", "ur": "urd", "vi": "vie",
                 "zh": "cmn",
                 # XTREME-R's five additions (not in google/xtreme on the Hub: local files only)
                 "az": "aze", "lt": "lit", "pl": "pol", "ro": "ron", "uk": "ukr"}
TATOEBA_HUB_CODES = {lang: code for lang, code in TATOEBA_CODES.items() if lang not in ("az", "lt", "pl", "ro", "uk")}
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
BUCC_LANGS = ("de", "fr", "ru", "zh")
UPOS = ("ADJ", "ADP", "ADV", "AUX", "CCONJ", "DET", "INTJ", "NOUN", "NUM", "PART", "PRON", "PROPN",
        "PUNCT", "SCONJ", "SYM", "VERB", "X")
PANX_TAGS = ("O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC")
PAWSX_LABELS = ("0", "1")

XTREME = "google/xtreme"
XTREME_NOTE = "google/xtreme was converted to parquet (PR #9, one folder per config, Feb 2024); "

XNLI_FILES = {"dev": "xnli/xnli.dev.tsv", "test": "xnli/xnli.test.tsv"}


def _xnli(data_dir: Path, split: str, lang: str) -> list[dict]:
    path = split_file(data_dir, XNLI_FILES, "xnli", split)
    return from_lang_table(readers.read_xnli_tsv(path, [lang]), "xnli", lang, path)


PAWSX_FILES = {"train": "pawsx/en/train.tsv", "dev": "pawsx/{lang}/dev_2k.tsv", "test": "pawsx/{lang}/test_2k.tsv"}


def _pawsx(data_dir: Path, split: str, lang: str) -> list[dict]:
    if split == "train" and lang != "en":
        raise DataError("PAWS-X trains on English only (XTREME's zero-shot setting)")
    return readers_more.read_pawsx_tsv(split_file(data_dir, PAWSX_FILES, "pawsx", split, lang=lang))


XCOPA_FILES = {"dev": "xcopa/val.{lang}.jsonl", "test": "xcopa/test.{lang}.jsonl"}


def _xcopa(data_dir: Path, split: str, lang: str) -> list[dict]:
    return readers.read_copa_jsonl(split_file(data_dir, XCOPA_FILES, "xcopa", split, lang=lang))


XQUAD_FILES = {"test": "xquad/xquad.{lang}.json"}


def _xquad(data_dir: Path, split: str, lang: str) -> list[dict]:
    return readers.read_squad_json(split_file(data_dir, XQUAD_FILES, "xquad", split, lang=lang))


MLQA_FILES = {"dev": "mlqa/dev/dev-context-{lang}-question-{lang}.json",
              "test": "mlqa/test/test-context-{lang}-question-{lang}.json"}


def _mlqa(data_dir: Path, split: str, lang: str) -> list[dict]:
    # XTREME evaluates MLQA with context and question in the same language
    return readers_more.read_mlqa_json(split_file(data_dir, MLQA_FILES, "mlqa", split, lang=lang))


TYDIQA_FILES = {"train": "tydiqa/tydiqa-goldp-v1.1-train.json", "dev": "tydiqa/tydiqa-goldp-v1.1-dev.json"}


def _tydiqa(data_dir: Path, split: str, lang: str) -> list[dict]:
    path = split_file(data_dir, TYDIQA_FILES, "tydiqa", split)
    return from_lang_table(readers.read_tydiqa_goldp_json(path, [lang]), "tydiqa", lang, path)


UDPOS_FILES = {"train": "udpos/en_*-ud-train.conllu", "dev": "udpos/{lang}_*-ud-dev.conllu",
               "test": "udpos/{lang}_*-ud-test.conllu"}


def _udpos(data_dir: Path, split: str, lang: str) -> list[dict]:
    # XTREME concatenates every treebank of a language (English training = all English treebanks)
    if split not in UDPOS_FILES:
        raise DataError(f"udpos has no {split!r} split; it has: {', '.join(UDPOS_FILES)}")
    pattern = UDPOS_FILES[split].format(lang=lang)
    return [ex for path in glob_files(data_dir, pattern, "udpos") for ex in readers_tagging.read_conllu_upos(path)]


PANX_FILES = {"train": "panx/{lang}/train", "dev": "panx/{lang}/dev", "test": "panx/{lang}/test"}


def _panx(data_dir: Path, split: str, lang: str) -> list[dict]:
    return readers_tagging.read_panx(split_file(data_dir, PANX_FILES, "panx", split, lang=lang))


TATOEBA_FILES = {"test": "tatoeba/tatoeba.{xxx}-eng.{xxx} + tatoeba/tatoeba.{xxx}-eng.eng"}


def _tatoeba(data_dir: Path, split: str, lang: str) -> list[dict]:
    if split != "test":
        raise DataError(f"tatoeba has only a test split, not {split!r}")
    xxx = TATOEBA_CODES[lang]
    base = Path(data_dir) / "tatoeba" / f"tatoeba.{xxx}-eng"
    return readers_retrieval.read_tatoeba(base.with_name(base.name + f".{xxx}"), base.with_name(base.name + ".eng"))


# XTREME's flattened names first (dev / test), then the BUCC 2018 release's (sample / training).
BUCC_SPLITS = {"dev": ("dev", "sample"), "test": ("test", "training")}
BUCC_FILES = {"dev": "bucc/{lang}-en.dev.{lang,en,gold} (or the release's .sample.*)",
              "test": "bucc/{lang}-en.test.{lang,en,gold} (or the release's .training.*)"}


def _bucc(data_dir: Path, split: str, lang: str) -> dict:
    if split not in BUCC_SPLITS:
        raise DataError(f"bucc has no {split!r} split; it has: dev, test")
    folder = Path(data_dir) / "bucc"
    names = BUCC_SPLITS[split]
    for name in names:
        if any((where / f"{lang}-en.{name}.en").is_file() for where in (folder, folder / f"{lang}-en")):
            return readers_retrieval.read_bucc(folder, lang, name)
    return readers_retrieval.read_bucc(folder, lang, names[0])  # raises, naming the expected files


# translate-test files (`<task>-translate-test/test.{lang}.<ext>`) are read with the task's own
# one-file reader: XNLI rows by their sentence1 / sentence2 / gold_label columns (XNLI-1.0 or GLUE
# layout), QA files as SQuAD v1.1 JSON with English contexts and answers (TyDiQA's language
# prefix in ids is not needed there).
def _target(**fields) -> Task:
    return register(Task(hub=fields["name"], **fields))


_target(name="xnli", kind="classification", metric="accuracy", labels=NLI_LABELS,
        description="XNLI: NLI in 15 languages; trained on English MNLI", local=_xnli,
        local_files=XNLI_FILES, languages=XNLI_LANGS, splits=("dev", "test"), train_from="mnli",
        xtreme_name="xnli", epochs=2.0, translate_test=TranslateTest("tsv", readers.read_glue_nli_tsv),
        hub_source=HubData(
            "facebook/xnli", "{lang}", {"dev": "validation", "test": "test"}, "nli", label_names=NLI_LABELS,
            note="XNLI 1.0 (Conneau et al. 2018); one config per language; columns premise, "
                 "hypothesis, label; no id column (ids are row numbers)."))
_target(name="pawsx", kind="classification", metric="accuracy", labels=PAWSX_LABELS,
        description="PAWS-X: adversarial paraphrase identification in 7 languages", local=_pawsx,
        local_files=PAWSX_FILES, languages=PAWSX_LANGS, splits=("train", "dev", "test"),
        xtreme_name="pawsx", epochs=5.0, translate_test=TranslateTest("tsv", readers_more.read_pawsx_tsv),
        hub_source=HubData(
            "google-research-datasets/paws-x", "{lang}", {"train": "train", "dev": "validation", "test": "test"},
            "pawsx", label_names=PAWSX_LABELS,
            note="PAWS-X (Yang et al. 2019); parquet, one config per language (train 49,401 / "
                 "validation 2,000 / test 2,000); non-English train splits are machine translated, "
                 "so only English is trained on; columns id, sentence1, sentence2, label (names "
                 "'0'/'1'). Fallback: google/xtreme PAWS-X.<lang>."))
_target(name="xcopa", kind="multiple_choice", metric="accuracy", num_choices=2,
        description="XCOPA: COPA in 11 languages; trained on English COPA", local=_xcopa,
        local_files=XCOPA_FILES, languages=XCOPA_LANGS, splits=("dev", "test"), train_from="copa",
        xtreme_name="xcopa", max_seq_length=128, epochs=10.0,
        translate_test=TranslateTest("jsonl", readers.read_copa_jsonl),
        hub_source=HubData(
            "cambridgeltl/xcopa", "{lang}", {"dev": "validation", "test": "test"}, "copa",
            note="XCOPA 1.1 (Ponti et al. 2020); one config per language; columns premise, choice1, "
                 "choice2, question, label, idx, changed."))
_target(name="udpos", kind="tagging", metric="seqeval", labels=UPOS,
        description="UD-POS: universal part-of-speech tags (XTREME's languages; all treebanks)",
        local=_udpos, local_files=UDPOS_FILES, languages=UDPOS_LANGS, splits=("train", "dev", "test"),
        xtreme_name="udpos", epochs=10.0,
        neutral_label="NOUN",  # the most frequent UPOS tag (17% of EWT train, 18% of German GSD dev)
        hub_source=HubData(
            XTREME, "udpos.{code}", {"train": "train", "dev": "validation", "test": "test"}, "tagging",
            label_names=UPOS, label_column="pos_tags", codes=UDPOS_CONFIGS,
            note=XTREME_NOTE + "UD 2.5 as XTREME uses it, every treebank of a language "
                 "concatenated, configs udpos.<English name>; columns tokens, pos_tags "
                 "(ClassLabel UPOS). Kazakh has no validation split and Tagalog, Thai, Yoruba only "
                 "test; Wolof (XTREME-R) is not there (use --data-dir)."))
_target(name="panx", kind="tagging", metric="seqeval", labels=PANX_TAGS,
        description="PAN-X / WikiANN named entities in 40 languages", local=_panx,
        local_files=PANX_FILES, languages=PANX_LANGS, splits=("train", "dev", "test"),
        xtreme_name="panx", epochs=10.0,
        hub_source=HubData(
            XTREME, "PAN-X.{lang}", {"train": "train", "dev": "validation", "test": "test"}, "tagging",
            label_names=PANX_TAGS, label_column="ner_tags",
            note=XTREME_NOTE + "PAN-X = WikiANN with the Rahimi et al. (2019) splits, configs "
                 "PAN-X.<lang>; columns tokens, ner_tags (ClassLabel O B-PER I-PER B-ORG I-ORG B-LOC "
                 "I-LOC), langs. unimelb-nlp/wikiann holds the same splits."))
_target(name="xquad", kind="qa", metric="squad",
        description="XQuAD: SQuAD dev translated into 11 languages (+ro, XTREME-R); trained on SQuAD v1.1",
        local=_xquad, local_files=XQUAD_FILES, languages=XQUAD_LANGS, splits=("test",),
        train_from="squad", xtreme_name="xquad", max_seq_length=384, epochs=2.0,
        translate_test=TranslateTest("json", readers.read_squad_json),
        hub_source=HubData(
            "google/xquad", "xquad.{lang}", {"test": "validation"}, "squad",
            note="XQuAD (Artetxe et al. 2020); its only split, validation, is XTREME's test set; "
                 "columns id, context, question, answers (no title)."))
_target(name="mlqa", kind="qa", metric="mlqa",
        description="MLQA: extractive QA in 7 languages (context and question in one language); trained on SQuAD",
        local=_mlqa, local_files=MLQA_FILES, languages=MLQA_LANGS, splits=("dev", "test"),
        train_from="squad", xtreme_name="mlqa", max_seq_length=384, epochs=2.0,
        translate_test=TranslateTest("json", readers_more.read_mlqa_json),
        hub_source=HubData(
            XTREME, "MLQA.{lang}.{lang}", {"dev": "validation", "test": "test"}, "squad",
            note=XTREME_NOTE + "MLQA v1 (Lewis et al. 2020), configs MLQA.<context>.<question>; "
                 "XTREME uses context and question in the same language; columns id, title, "
                 "context, question, answers. (facebook/mlqa is script-based; its parquet PR #5 was "
                 "not confirmed merged.)"))
_target(name="tydiqa", kind="qa", metric="squad",
        description="TyDiQA-GoldP: QA in 9 typologically diverse languages; English train split",
        local=_tydiqa, local_files=TYDIQA_FILES, languages=TYDIQA_LANGS, splits=("train", "dev", "test"),
        split_alias={"test": "dev"}, dev_holdout=0.1, xtreme_name="tydiqa", max_seq_length=384, epochs=3.0,
        translate_test=TranslateTest("json", readers.read_squad_json),
        hub_source=HubData(
            "google-research-datasets/tydiqa", "secondary_task", {"train": "train", "dev": "validation"}, "squad",
            languages=tuple(sorted(TYDIQA_PREFIXES.values())), lang_of="tydiqa_id",
            note="TyDiQA-GoldP (Clark et al. 2020) = config secondary_task; columns id, title, "
                 "context, question, answers; language from the id prefix ('arabic-...'); XTREME "
                 "trains on the English rows and scores the dev set as its test set."))
_target(name="tatoeba", kind="retrieval", metric="tatoeba",
        description="Tatoeba: sentence retrieval against English in XTREME's 36 languages (no training)",
        local=_tatoeba, local_files=TATOEBA_FILES, languages=tuple(TATOEBA_CODES), splits=("test",),
        xtreme_name="tatoeba", max_seq_length=512, epochs=0.0,
        hub_source=HubData(
            XTREME, "tatoeba.{code}", {"test": "validation"}, "pair", languages=tuple(sorted(TATOEBA_HUB_CODES)),
            local_files=("tatoeba/tatoeba.{code}-eng.{code}", "tatoeba/tatoeba.{code}-eng.eng"),
            codes=TATOEBA_HUB_CODES,
            note=XTREME_NOTE + "Tatoeba as XTREME uses it (LASER v1 test pairs, 1,000 per "
                 "language), configs tatoeba.<ISO 639-3>, one split (validation); columns "
                 "source_sentence (the non-English one), target_sentence (English), source_lang, "
                 "target_lang; one example per pair, gold = same index."))
_target(name="bucc", kind="retrieval", metric="bucc",
        description="BUCC 2018: parallel-sentence mining (threshold on dev, F1 on test; no training)",
        local=_bucc, local_files=BUCC_FILES, languages=BUCC_LANGS, splits=("dev", "test"),
        xtreme_name="bucc2018", max_seq_length=512, epochs=0.0,
        hub_source=HubData(
            XTREME, "bucc18.{lang}", {"dev": "validation", "test": "test"}, "pair",
            local_files=tuple(f"bucc/{{lang}}-en.{s}.{ext}" for s in ("dev", "test")
                              for ext in ("{lang}", "en", "gold")),
            unavailable="google/xtreme's bucc18 configs hold only the gold sentence pairs "
                        "(source_sentence, target_sentence), not the full id-tagged sentence pools "
                        "that BUCC mining and its F1 need; unpack the BUCC 2018 release (sample = "
                        "dev, training = test) into DIR/bucc/",
            note=XTREME_NOTE + "but its bucc18.<lang> configs (validation = sample gold pairs, "
                 "test = training gold pairs) lack the non-parallel sentences, so BUCC is "
                 "--data-dir only; the row converter is the Tatoeba one for the gold pairs."))
