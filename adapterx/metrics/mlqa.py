"""MLQA exact match and F1 with per-language answer normalisation (official MLQA v1 script).

Reproduces ``mlqa_evaluation_v1.py`` (facebookresearch/MLQA), which XTREME runs unchanged as
``third_party/evaluate_mlqa.py``. It differs from SQuAD v1.1 (``adapterx.metrics.squad``) in:

* punctuation: every Unicode character whose category starts with "P" (« » “ ” 、 。 ¿ ...) plus
  ASCII ``string.punctuation`` (which adds symbols such as ``$ + < = > ^ ` | ~``);
* articles: a per-language table, applied only for that language (Spanish "los" survives in en);
* tokens: whitespace split, except zh where each CJK ideograph (U+4E00-U+9FA5, the script's
  exact range) is its own token, so Chinese F1 is character-level.

The order is the script's: lower-case, drop punctuation, drop articles, re-tokenise.
"""

from __future__ import annotations

import re
import string
import unicodedata
import warnings
from collections import Counter
from collections.abc import Mapping
from typing import Any

from adapterx.errors import UnknownChoiceError
from adapterx.metrics.squad import answer_texts

_ASCII_PUNCTUATION = frozenset(string.punctuation)

# Articles replaced by a space, per answer language. hi and zh have none ("no formal articles").
_ARTICLES: dict[str, re.Pattern[str] | None] = {
    "en": re.compile(r"\b(a|an|the)\b"),
    "es": re.compile(r"\b(un|una|unos|unas|el|la|los|las)\b"),
    "de": re.compile(r"\b(ein|eine|einen|einem|eines|einer|der|die|das|den|dem|des)\b"),
    "vi": re.compile(r"\b(của|là|cái|chiếc|những)\b"),
    # The official pattern is '\sال^|ال': its first branch can never match ('^' after text), so
    # in effect EVERY occurrence of "ال" is replaced, at word starts and inside words alike.
    "ar": re.compile(r"\sال^|ال"),
    "hi": None,
    "zh": None,
}
MLQA_LANGUAGES: tuple[str, ...] = tuple(_ARTICLES)

_MIXED_SEGMENTATION = frozenset({"zh"})


def _is_punctuation(ch: str) -> bool:
    # Same set as the script's precomputed PUNCT (all code points with a P* category, plus
    # ASCII punctuation), tested per character so importing adapterx does not scan 1.1M code points.
    return ch in _ASCII_PUNCTUATION or unicodedata.category(ch).startswith("P")


def _is_cjk(ch: str) -> bool:
    # The script tests re.search(r'[\u4e00-\u9fa5]', char); keep its (narrower than Unicode) range.
    return "\u4e00" <= ch <= "\u9fa5"


def _mixed_segmentation(text: str) -> list[str]:
    tokens: list[str] = []
    pending = ""
    for ch in text:
        if _is_cjk(ch) or _is_punctuation(ch):
            tokens.extend(pending.split())
            pending = ""
            tokens.append(ch)
        else:
            pending += ch
    tokens.extend(pending.split())
    return tokens


def _check_lang(lang: str) -> None:
    if lang not in _ARTICLES:
        raise UnknownChoiceError(
            "MLQA answer language", lang, MLQA_LANGUAGES,
            hint="pass the language of the answers/context (the official script knows only these)",
        )


def normalize_answer(s: str, lang: str) -> str:
    """Lower-case, drop Unicode punctuation and ``lang``'s articles, re-tokenise (zh: per character)."""
    _check_lang(lang)
    text = "".join(ch for ch in s.lower() if not _is_punctuation(ch))
    articles = _ARTICLES[lang]
    if articles is not None:
        text = articles.sub(" ", text)
    tokens = _mixed_segmentation(text) if lang in _MIXED_SEGMENTATION else text.split()
    return " ".join(token for token in tokens if token.strip())


def exact_match_score(prediction: str, ground_truth: str, lang: str) -> bool:
    """Whether prediction and ground truth are equal after ``normalize_answer(., lang)``."""
    return normalize_answer(prediction, lang) == normalize_answer(ground_truth, lang)


def f1_score(prediction: str, ground_truth: str, lang: str) -> float:
    """Token F1 after ``normalize_answer(., lang)``; for zh each CJK character is a token."""
    prediction_tokens = normalize_answer(prediction, lang).split()
    ground_truth_tokens = normalize_answer(ground_truth, lang).split()
    common = Counter(prediction_tokens) & Counter(ground_truth_tokens)
    num_same = sum(common.values())
    if num_same == 0:
        # Also covers answers that normalise to nothing (no division by zero).
        return 0.0
    precision = num_same / len(prediction_tokens)
    recall = num_same / len(ground_truth_tokens)
    return (2 * precision * recall) / (precision + recall)


def mlqa(predictions: Mapping[str, str], references: Mapping[str, Any], lang: str) -> dict[str, float]:
    """Return ``{"exact_match", "f1"}`` (0-100, unrounded) for answers in language ``lang``."""
    _check_lang(lang)
    if not references:
        raise ValueError("mlqa: no references to score (empty input)")
    total_em = 0.0
    total_f1 = 0.0
    missing = 0
    for qid, answers in references.items():
        ground_truths = answer_texts(answers)
        if not ground_truths:
            raise ValueError(f"mlqa: reference {qid!r} has no answer texts; MLQA needs at least one")
        if qid not in predictions:
            # Official behaviour: an unanswered question scores 0 and is only reported.
            missing += 1
            continue
        prediction = predictions[qid]
        total_em += max(float(exact_match_score(prediction, gt, lang)) for gt in ground_truths)
        total_f1 += max(f1_score(prediction, gt, lang) for gt in ground_truths)
    if missing:
        warnings.warn(f"mlqa: {missing} of {len(references)} questions have no prediction and score 0",
                      stacklevel=2)
    total = len(references)
    return {"exact_match": 100.0 * total_em / total, "f1": 100.0 * total_f1 / total}
