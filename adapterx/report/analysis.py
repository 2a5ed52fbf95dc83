"""The numbers of a report, as plain data: per group of seeds its scores (mean, std, bootstrap CI),
its delta vs the baseline with a paired-bootstrap p-value, and robustness figures; report.json holds
exactly this, and the markdown / CSV / terminal tables and the plots only format it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from adapterx.report import stats
from adapterx.report.collect import Group
from adapterx.report.resources import LOW_RESOURCE_GIB, resource_level


@dataclass(frozen=True)
class Settings:
    """Bootstrap settings (recorded in report.json)."""

    resamples: int = stats.DEFAULT_RESAMPLES
    seed: int = 0
    level: float = stats.CI_LEVEL
    alpha: float = stats.ALPHA


def lang_score(per_language: dict, lang: str, key: str = "f1") -> float | None:
    """A language's headline number from results.json (QA: F1, or `key`)."""
    value = per_language.get(lang)
    if isinstance(value, dict):
        return None if value.get(key) is None else float(value[key])
    return None if value is None else float(value)


class Analysis:
    """Summaries of groups, with a cache of bootstrap distributions shared by CIs and tests."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._boots: dict[tuple, stats.Boot] = {}

    def _files(self, group: Group, lang: str) -> list[dict] | None:
        files = [run.scores().get((group.key.split, lang)) for run in group.runs]
        return None if any(f is None for f in files) else files

    def _bootstrap(self, group: Group, lang: str, ids: list[str]) -> stats.Boot:
        key = (group.key, lang, len(ids), hash(tuple(ids)))
        if key not in self._boots:
            files = self._files(group, lang)
            self._boots[key] = stats.bootstrap(files[0]["aggregate"], files[0]["primary"], stats.aligned(files, ids),
                                               self.settings.resamples, self.settings.seed,
                                               f"{group.key.target}|{group.key.split}|{lang}", self.settings.level)
        return self._boots[key]

    def _boot(self, group: Group, lang: str, ids: list[str]) -> np.ndarray:
        return self._bootstrap(group, lang, ids).distribution

    def _ci(self, boot: np.ndarray | None) -> list[float] | None:
        return None if boot is None else list(stats.percentile_ci(boot, self.settings.level))

    def summarize(self, group: Group) -> dict:
        """One group's entry of report.json (without the delta; see `compare`)."""
        k, runs = group.key, group.runs
        notes: list[str] = []
        langs = sorted({lang for run in runs for lang in run.results["per_language"]})
        per_language, boots = {}, {}
        for lang in langs:
            values = [lang_score(r.results["per_language"], lang) for r in runs]
            present = [v for v in values if v is not None]
            if len(present) < len(values):
                notes.append(f"{lang}: evaluated in {len(present)} of {len(values)} seeds")
            mean, std = stats.seed_stats(present)
            entry = {"mean": mean, "std": std, "per_seed": values, "ci": None,
                     "n_examples": runs[0].results.get("n_examples", {}).get(lang)}
            if isinstance(runs[0].results["per_language"].get(lang), dict):  # QA: EM too (XTREME)
                entry["exact_match"] = stats.seed_stats(
                    [lang_score(r.results["per_language"], lang, "exact_match") for r in runs
                     if lang in r.results["per_language"]])[0]
            files = self._files(group, lang)
            ids = stats.common_ids(files) if files is not None else []
            if files is not None and len(ids) < max(len(f["ids"]) for f in files):
                # e.g. runs made when a subsampled evaluation set followed the run's seed
                notes.append(f"{lang}: the seeds scored different examples; intervals and tests use the "
                             f"{len(ids)} they share")
            if ids:
                boots[lang] = self._boot(group, lang, ids)
                entry["ci"] = list(self._bootstrap(group, lang, ids).ci)
            per_language[lang] = entry
        averages = [float(r.results["average"]) for r in runs]
        mean, std = stats.seed_stats(averages)
        has_all = bool(boots) and len(boots) == len(langs)
        if not boots:
            notes.append("no per-example scores (an older run, or BUCC, whose F1 is over mined pairs): "
                         "CIs and tests n/a")
        elif not has_all:
            notes.append("per-example scores for " + ", ".join(sorted(boots)) + " only")
        return {
            "target": k.target, "setup": k.setup, "inter": list(k.inter), "method": k.method, "model": k.model,
            "quant": k.quant, "eval_split": k.split, "label": k.label, "metric": runs[0].results.get("metric"),
            "seeds": group.seeds, "runs": [str(r.path) for r in runs],
            "average": {"mean": mean, "std": std, "per_seed": averages,
                        "ci": self._ci(np.mean(list(boots.values()), axis=0)) if has_all else None},
            "per_language": per_language, "per_example_scores": has_all,
            "baseline": None if group.baseline is None else group.baseline.key.label,
            "delta": None, "notes": notes,
        }

    def compare(self, group: Group, summary: dict, base_summary: dict) -> dict:
        """Delta vs the baseline (mean over the common languages) with paired-bootstrap p-values."""
        base = group.baseline
        langs = [lang for lang in summary["per_language"] if lang in base_summary["per_language"]]
        out: dict = {"average": None, "p": None, "per_language": {}, "languages": langs}
        if not langs:
            summary["notes"].append("no language in common with the baseline")
            return out
        if set(langs) != set(summary["per_language"]) or set(langs) != set(base_summary["per_language"]):
            summary["notes"].append("delta over the languages both evaluated: " + ", ".join(langs))
        boot_gains = []
        for lang in langs:
            delta = summary["per_language"][lang]["mean"] - base_summary["per_language"][lang]["mean"]
            p, gain = None, None
            mine, theirs = self._files(group, lang), self._files(base, lang)
            if mine is not None and theirs is not None and (ids := stats.common_ids(mine + theirs)):
                mine_boot, their_boot = self._boot(group, lang, ids), self._boot(base, lang, ids)
                p, gain = stats.paired_p_value(mine_boot, their_boot), mine_boot - their_boot
                if len(ids) < len(stats.common_ids(mine)):
                    summary["notes"].append(f"{lang}: paired on the {len(ids)} examples both runs scored")
            boot_gains.append(gain)
            out["per_language"][lang] = {"delta": delta, "p": p}
        out["average"] = float(np.mean([v["delta"] for v in out["per_language"].values()]))
        if all(g is not None for g in boot_gains):  # the gain in the average, resample by resample
            out["p"] = float(np.mean(np.mean(boot_gains, axis=0) <= 0.0))
        return out


def robustness(summary: dict, base_summary: dict | None) -> dict:
    """Spread over languages (population std), the worst language, the transfer gap (English minus
    the mean of the others; only when English is evaluated), and mean score and gain on low- vs
    high-resource languages (report.resources; English, the training language, is in neither)."""
    scores = {lang: v["mean"] for lang, v in summary["per_language"].items()}
    values = np.array(list(scores.values()))
    worst = min(scores, key=scores.get)
    others = [v for lang, v in scores.items() if lang != "en"]
    out = {"std_over_languages": float(values.std()), "worst_language": worst, "worst_score": scores[worst],
           "transfer_gap": float(scores["en"] - np.mean(others)) if "en" in scores and others else None,
           "low_resource_gib": LOW_RESOURCE_GIB, "unknown_resource": []}
    delta = (summary.get("delta") or {}).get("per_language", {})
    for level in ("low", "high"):
        langs = [lang for lang in scores if lang != "en" and resource_level(lang) == level]
        gains = [delta[lang]["delta"] for lang in langs if lang in delta]
        out[level] = {"languages": langs, "mean": float(np.mean([scores[x] for x in langs])) if langs else None,
                      "gain": float(np.mean(gains)) if gains and base_summary is not None else None}
    out["unknown_resource"] = [lang for lang in scores if lang != "en" and resource_level(lang) is None]
    return out


def analyse(groups: list[Group], settings: Settings) -> list[dict]:
    """Every group's summary, delta and robustness, in table order."""
    analysis = Analysis(settings)
    summaries = {g.key: analysis.summarize(g) for g in groups}
    for group in groups:
        summary = summaries[group.key]
        base = summaries.get(group.baseline.key) if group.baseline is not None else None
        if base is not None:
            summary["delta"] = analysis.compare(group, summary, base)
        elif not group.key.is_baseline:
            summary["notes"].append("no baseline run (direct of the same method and model) to compare with")
        summary["robustness"] = robustness(summary, base)
    return [summaries[g.key] for g in groups]


def short_model(model: str) -> str:
    """A model name for tables: a local folder by its last part."""
    return Path(model).name if ("/" in model and Path(model).exists()) or model.startswith("/") else model
