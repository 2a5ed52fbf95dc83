"""The XTREME / XTREME-R benchmark score, computed as google-research/xtreme ``evaluate.py`` does.

Per task: the mean over the task's official languages of each metric; QA tasks (xquad, mlqa,
tydiqa) then take (avg EM + avg F1) / 2, other tasks their F1 (udpos, panx, bucc2018), accuracy
(xnli, pawsx, xcopa, tatoeba) or, for the XTREME-R retrieval tasks, mAP@20 (mewslix, lareqa).
Overall: the plain mean over ALL tasks of the benchmark (``all_task`` in evaluate.py), not a mean
of category means; category scores are reported beside it, each only when all its tasks are in.

Task sets (evaluate.py ``XTREME_*_TASK2LANGS`` / ``*_GROUP2TASK``):

* XTREME (9): pawsx xnli | udpos panx | xquad mlqa tydiqa | bucc2018 tatoeba.
* XTREME-R (10): xnli xcopa | udpos panx | xquad mlqa tydiqa | tatoeba mewslix lareqa. PAWS-X and
  BUCC are dropped; udpos, panx, tatoeba and xquad gain languages (xquad adds ro). Officially
  xcopa is also listed as group "multi_choice" and lareqa belongs to no group; we keep that.
  The official script would crash on mewslix/lareqa (no "avg_metric" for map@20); we use mAP@20.

adapterx coverage: metrics exist here for every task except Mewsli-X and LAReQA (mAP@20 over a
multilingual candidate pool is not implemented), so a full XTREME-R score needs those two task
scores from elsewhere; otherwise use ``allow_partial=True`` and read ``missing``.
"""

from __future__ import annotations

from collections.abc import Mapping

from adapterx.errors import UnknownChoiceError

_XTREME_LANGS: dict[str, tuple[str, ...]] = {
    "pawsx": ("de", "en", "es", "fr", "ja", "ko", "zh"),
    "xnli": ("ar", "bg", "de", "el", "en", "es", "fr", "hi", "ru", "sw", "th", "tr", "ur", "vi", "zh"),
    "panx": tuple("ar he vi id jv ms tl eu ml ta te af nl en de el bn hi mr ur fa fr it pt es bg ru ja "
                  "ka ko th sw yo my zh kk tr et fi hu".split()),
    "udpos": tuple("af ar bg de el en es et eu fa fi fr he hi hu id it ja kk ko mr nl pt ru ta te th tl "
                   "tr ur vi yo zh".split()),
    "bucc2018": ("de", "fr", "ru", "zh"),
    "tatoeba": tuple("ar he vi id jv tl eu ml ta te af nl de el bn hi mr ur fa fr it pt es bg ru ja ka "
                     "ko th sw zh kk tr et fi hu".split()),
    "xquad": ("en", "es", "de", "el", "ru", "tr", "ar", "vi", "th", "zh", "hi"),
    "mlqa": ("en", "es", "de", "ar", "hi", "vi", "zh"),
    "tydiqa": ("en", "ar", "bn", "fi", "id", "ko", "ru", "sw", "te"),
}

_XTREME_R_LANGS: dict[str, tuple[str, ...]] = {
    "xnli": _XTREME_LANGS["xnli"],
    "panx": _XTREME_LANGS["panx"] + ("qu", "pl", "uk", "az", "lt", "pa", "gu", "ro"),
    "udpos": _XTREME_LANGS["udpos"] + ("lt", "pl", "uk", "wo", "ro"),
    "tatoeba": _XTREME_LANGS["tatoeba"] + ("az", "lt", "pl", "uk", "ro"),
    "xcopa": ("et", "ht", "id", "it", "qu", "sw", "ta", "th", "tr", "vi", "zh"),
    # Officially an empty list: LAReQA is scored over its pooled multilingual candidates.
    "lareqa": (),
    "mewslix": ("ar", "de", "en", "es", "fa", "ja", "pl", "ro", "ta", "tr", "uk"),
    "xquad": _XTREME_LANGS["xquad"] + ("ro",),
    "mlqa": _XTREME_LANGS["mlqa"],
    "tydiqa": _XTREME_LANGS["tydiqa"],
}

BENCHMARK_LANGUAGES: dict[str, dict[str, tuple[str, ...]]] = {"xtreme": _XTREME_LANGS, "xtreme-r": _XTREME_R_LANGS}

BENCHMARK_CATEGORIES: dict[str, dict[str, tuple[str, ...]]] = {
    "xtreme": {
        "classification": ("pawsx", "xnli"),
        "tagging": ("udpos", "panx"),  # "structured prediction" in the paper
        "qa": ("xquad", "mlqa", "tydiqa"),
        "retrieval": ("bucc2018", "tatoeba"),
    },
    "xtreme-r": {
        "classification": ("xnli", "xcopa"),
        "tagging": ("udpos", "panx"),
        "qa": ("xquad", "mlqa", "tydiqa"),
        "retrieval": ("tatoeba", "mewslix"),
        "multi_choice": ("xcopa",),
    },
}

QA_TASKS = frozenset({"xquad", "mlqa", "tydiqa"})

# The metric averaged for non-QA tasks (evaluate.py picks f1, else accuracy; XTREME-R adds map@20).
TASK_METRIC: dict[str, str] = {
    "udpos": "f1", "panx": "f1", "bucc2018": "f1",
    "pawsx": "accuracy", "xnli": "accuracy", "xcopa": "accuracy", "tatoeba": "accuracy",
    "mewslix": "map@20", "lareqa": "map@20",
}

# adapterx / common spellings -> evaluate.py task names.
TASK_ALIASES: dict[str, str] = {
    "bucc": "bucc2018", "paws-x": "pawsx", "ud-pos": "udpos", "pos": "udpos", "pan-x": "panx",
    "wikiann": "panx", "ner": "panx", "mewsli-x": "mewslix", "tydiqa-goldp": "tydiqa",
}


def canonical_task(task: str) -> str:
    """The evaluate.py name of ``task`` (e.g. "bucc" -> "bucc2018")."""
    name = task.lower()
    return TASK_ALIASES.get(name, name)


def _benchmark(name: str) -> str:
    key = name.lower()
    if key not in BENCHMARK_LANGUAGES:
        raise UnknownChoiceError("benchmark", name, BENCHMARK_LANGUAGES)
    return key


def _metric_of(task: str, scores: Mapping[str, float] | float, metric: str | None) -> dict[str, float]:
    if isinstance(scores, Mapping):
        return {str(k): float(v) for k, v in scores.items()}
    if task in QA_TASKS or metric is None:
        # One number per language is ambiguous for QA (results tables keep F1 only).
        raise ValueError(f"{task}: give a score dict per language (QA: {{'exact_match', 'f1'}}); "
                         "the XTREME QA score is (EM + F1) / 2")
    return {metric: float(scores)}


def task_score(task: str, per_language: Mapping[str, Mapping[str, float] | float],
               benchmark: str | None = None, allow_partial: bool = False) -> float:
    """A task's XTREME number from per-language scores (QA: (avg EM + avg F1) / 2, else avg primary).

    ``per_language`` maps language -> score dict (or a bare number for non-QA tasks). With a
    ``benchmark`` only its official languages are averaged (extra ones, e.g. xquad "ro" for XTREME,
    are ignored) and missing ones raise ``ValueError`` unless ``allow_partial``.
    """
    name = canonical_task(task)
    langs = list(per_language)
    if benchmark is not None:
        official = BENCHMARK_LANGUAGES[_benchmark(benchmark)].get(name)
        if official is None:
            raise UnknownChoiceError(f"{benchmark} task", task, BENCHMARK_LANGUAGES[_benchmark(benchmark)])
        if official:  # lareqa has no per-language list: take what is given
            absent = [lang for lang in official if lang not in per_language]
            if absent and not allow_partial:
                raise ValueError(f"{name}: no scores for official {benchmark} languages {', '.join(absent)}; "
                                 "pass allow_partial=True to average the others")
            langs = [lang for lang in official if lang in per_language]
    if not langs:
        raise ValueError(f"{name}: no per-language scores to average")
    table = {lang: _metric_of(name, per_language[lang], TASK_METRIC.get(name)) for lang in langs}

    def avg(metric: str) -> float:
        values = [scores[metric] for scores in table.values() if metric in scores]
        if len(values) != len(table):
            raise ValueError(f"{name}: metric {metric!r} missing for some languages")
        return sum(values) / len(values)

    if name in QA_TASKS:
        return (avg("exact_match") + avg("f1")) / 2
    if name in TASK_METRIC:
        return avg(TASK_METRIC[name])
    # A task outside both benchmarks: evaluate.py's preference order, f1 then accuracy.
    first = next(iter(table.values()))
    for metric in ("f1", "accuracy", "map@20"):
        if metric in first:
            return avg(metric)
    raise ValueError(f"{name}: no f1/accuracy/map@20 in scores {sorted(first)}")


def xtreme_score(task_scores: Mapping[str, float], benchmark: str = "xtreme",
                 allow_partial: bool = False) -> dict:
    """Overall score = mean over the benchmark's tasks; ``{"score", "by_category", "missing", "ignored"}``.

    ``task_scores`` holds one ``task_score`` per task. Missing tasks raise ``ValueError`` naming
    them unless ``allow_partial`` (then the mean is over the present ones and they are listed in
    ``missing``). Tasks outside the benchmark are left out and listed in ``ignored``.
    """
    key = _benchmark(benchmark)
    tasks = BENCHMARK_LANGUAGES[key]
    scores: dict[str, float] = {}
    ignored: list[str] = []
    for task, value in task_scores.items():
        name = canonical_task(task)
        if name in tasks:
            scores[name] = float(value)
        else:
            ignored.append(task)
    missing = [task for task in tasks if task not in scores]
    if missing and not allow_partial:
        raise ValueError(f"{benchmark} score needs all {len(tasks)} tasks; missing: {', '.join(missing)} "
                         "(pass allow_partial=True for a mean over the present tasks)")
    if not scores:
        raise ValueError(f"no {benchmark} task scores given (tasks: {', '.join(tasks)})")
    by_category = {
        group: sum(scores[t] for t in members) / len(members)
        for group, members in BENCHMARK_CATEGORIES[key].items()
        if all(t in scores for t in members)  # evaluate.py shows a group only when complete
    }
    present = [task for task in tasks if task in scores]
    return {
        "score": sum(scores[t] for t in present) / len(present),
        "by_category": by_category,
        "missing": missing,
        "ignored": sorted(ignored),
    }
