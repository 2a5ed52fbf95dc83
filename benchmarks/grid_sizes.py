"""Published sizes of the paper's data sets (examples per split and language) and the mean lengths
grid_cost.py assumes where no local sample can be measured. Nothing here is read by adapterx.

Sources, per row: GLUE / SuperGLUE / the data sets' papers for the English sets; the Hugging Face
`google/xtreme` dataset card (its dataset_info `num_examples`) for XTREME's per-language splits.
`estimate` names what in a row is not a published count."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Sizes:
    """Examples of one task: English train and dev, and per language the split a grid scores."""

    train: int | None
    dev: int | None
    evals: dict[str, int] = field(default_factory=dict)
    source: str = ""
    estimate: str = ""  # what in this row is an estimate ("" = every number is published)


def _each(langs: str, n: int) -> dict[str, int]:
    return dict.fromkeys(langs.split(), n)


_HF = "HF google/xtreme dataset card"
SIZES: dict[str, Sizes] = {
    # English intermediate tasks (train / dev the task's model selection reads)
    "mnli": Sizes(392_702, 9_815, source="GLUE MNLI train / dev-matched"),
    "snli": Sizes(549_367, 9_842, source="SNLI 1.0, 550,152 / 10,000 less the no-consensus ('-') rows the reader skips"),
    "anli": Sizes(162_865, 3_200, source="ANLI R1+R2+R3: 16,946 + 45,460 + 100,459 train, 1,000 + 1,000 + 1,200 dev "
                  "(ANLI+ trains with MNLI and SNLI too: added from their rows)"),
    "qqp": Sizes(363_846, 40_430, source="GLUE QQP"),
    "sst2": Sizes(67_349, 872, source="GLUE SST-2"),
    "squad": Sizes(87_599, 10_570, source="SQuAD v1.1 (also " + _HF + ")"),
    "squad_v2": Sizes(130_319, 11_873, source="SQuAD 2.0"),
    "hellaswag": Sizes(39_905, 10_042, source="HellaSwag train / val"),
    "ccg": Sizes(39_604, 1_913, source="CCGbank sections 02-21 / 00 (sentences)"),
    "cosmosqa": Sizes(25_262, 2_985, source="CosmosQA train / dev"),
    "commonsenseqa": Sizes(9_741, 1_221, source="CommonsenseQA random split train / dev"),
    "siqa": Sizes(33_410, 1_954, source="SocialIQA train / dev"),
    "copa": Sizes(400, 100, source="SuperGLUE COPA train / val"),
    # zero-shot targets: train / dev of the English set they train on, evals per language
    "xnli": Sizes(None, None, _each("ar bg de el en es fr hi ru sw th tr ur vi zh", 5_010),
                  source="XNLI test, 5,010 per language (" + _HF + ": 75,150); trains on MNLI"),
    "pawsx": Sizes(49_401, 2_000, {**_each("de en es fr ja zh", 2_000), "ko": 1_999},
                   source="PAWS-X: XTREME's English train (49,401 rows; the HF en config keeps 49,175), "
                          "test per language from " + _HF),
    "xcopa": Sizes(None, None, _each("et ht id it qu sw ta th tr vi zh", 500), source="XCOPA test; trains on COPA"),
    "udpos": Sizes(21_253, 3_974, {
        "af": 425, "ar": 1_680, "bg": 1_116, "de": 22_458, "el": 2_809, "en": 5_440, "es": 3_147, "et": 3_760,
        "eu": 1_799, "fa": 600, "fi": 4_422, "fr": 9_465, "he": 491, "hi": 2_684, "hu": 449, "id": 1_557,
        "it": 3_518, "ja": 2_372, "kk": 1_047, "ko": 4_276, "mr": 47, "nl": 1_471, "pt": 2_681, "ru": 11_336,
        "ta": 120, "te": 146, "th": 1_000, "tl": 55, "tr": 4_785, "ur": 535, "vi": 800, "wo": 470, "yo": 100,
        "zh": 5_528}, source="UD v2.5 as XTREME concatenates it (" + _HF + ", sentences)",
        estimate="wo (XTREME-R's Wolof, not in the card): 470 assumed"),
    "panx": Sizes(20_000, 10_000, {
        **_each("ar bg de el en es et eu fa fi fr he hu id it ja ka ko nl pt ru th tr vi zh", 10_000),
        **_each("af bn hi kk ml mr ms sw ta te tl ur", 1_000), **_each("jv my yo", 100)},
        source="WikiANN as XTREME splits it (" + _HF + ")"),
    "xquad": Sizes(None, None, _each("ar de el en es hi ro ru th tr vi zh", 1_190),
                   source="XQuAD, 1,190 questions per language (" + _HF + "); trains on SQuAD"),
    "mlqa": Sizes(None, None, {"ar": 5_335, "de": 4_517, "en": 11_590, "es": 5_253, "hi": 4_918, "vi": 5_495,
                               "zh": 5_137}, source="MLQA test, context and question in one language (" + _HF + ")"),
    "tydiqa": Sizes(3_696, None, {"ar": 921, "bn": 113, "en": 440, "fi": 782, "id": 565, "ko": 276, "ru": 812,
                                  "sw": 499, "te": 669},
                    source="TyDiQA-GoldP: English train 3,696; XTREME's test = the dev file, 5,077 in all (" + _HF
                           + "); model selection on 10% of the English train (adapterx's dev_holdout)"),
    # retrieval: sentence PAIRS per language (both sides are encoded)
    "tatoeba": Sizes(None, None, {**_each("af ar bg bn de el es et eu fa fi fr he hi hu id it ja ko mr nl pt ru tl "
                                          "tr ur vi zh", 1_000),
                                  "jv": 205, "ka": 746, "kk": 575, "ml": 687, "sw": 390, "ta": 307, "te": 234,
                                  "th": 548, **_each("az lt pl ro uk", 1_000)},
                     source="Tatoeba (LASER v1) pairs per language (" + _HF + ")",
                     estimate="az lt pl ro uk (XTREME-R, not in the card): 1,000 assumed (the cap of the others)"),
}

# BUCC 2018: sentences to encode per language (both sides), for the dev ("sample") split that
# chooses the threshold plus the test ("training") split; the published gold pairs are 9,580 de,
# 9,086 fr, 14,435 ru, 1,899 zh (HF card), but the mining encodes every sentence of both corpora.
BUCC_SENTENCES: dict[str, int] = {
    "de": 32_593 + 40_354 + 413_869 + 399_337,
    "fr": 21_497 + 38_069 + 271_874 + 369_810,
    "ru": 45_646 + 58_988 + 460_853 + 558_401,
    "zh": 8_624 + 8_515 + 94_637 + 88_860,
}
BUCC_NOTE = ("BUCC 2018 corpus sizes (sample + training release, foreign + English sentences) as recalled "
             "from the shared task's overview paper: an estimate")

# Tokens per example (XLM-R SentencePiece, specials included, before truncation to the task's
# max_seq_length; multiple choice: all choices), and QA windows per example, for sets without a
# local sample. Every one is an estimate from the sets' described lengths (words x ~1.3).
ESTIMATED_TOKENS: dict[str, tuple[float, float, str]] = {
    # task: (tokens per example, features per example, why)
    "snli": (28, 1, "image captions: premise ~14 words, hypothesis ~8"),
    "anli": (100, 1, "Wikipedia-paragraph premises ~60 words + hypothesis ~10"),
    "qqp": (32, 1, "two questions of ~11 words"),
    "sst2": (14, 1, "GLUE SST-2 train rows are phrases, ~9 words"),
    "hellaswag": (4 * 70, 1, "4 x (context ~40 words + ending ~15)"),
    "ccg": (36, 1, "WSJ sentences, ~24 words"),
    "commonsenseqa": (5 * 22, 1, "5 x (question ~13 words + a 1-2 word answer)"),
    "pawsx": (60, 1, "two Wikipedia sentences of ~20 words"),
    "panx": (16, 1, "WikiANN rows are short sentence fragments, ~8-10 words"),
    "bucc": (40, 1, "news / Wikipedia sentences, ~25-30 words"),
}
