"""Seed statistics and the example bootstrap: percentile confidence intervals and paired tests.

The bootstrap (scipy.stats.bootstrap, paired over a run's per-example arrays) resamples a language's
evaluation examples with replacement (1,000 times by default) and recomputes the corpus score on
each resample with the metric's own aggregation (see report.scores.corpus_score): mean accuracy /
F1 / EM, or micro F1 from summed entity counts. With several seeds the resampled score is the mean
over the seeds' scores on the same resample, so the interval is for the seed-averaged number the
tables show.

Resamples are drawn from a generator seeded by (report seed, target, split, language, n): every
configuration evaluated on the same examples gets the same resamples (scipy draws a paired
bootstrap's example indices from the generator alone), which makes the comparison of two
configurations a paired bootstrap (Koehn 2004; Berg-Kirkpatrick et al. 2012): the p-value of a
gain is the share of resamples on which it is <= 0. With 1,000 resamples the smallest p-value that
can be told apart is 0.001 ("< 0.001" when no resample disagrees).
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

DEFAULT_RESAMPLES = 1000
CI_LEVEL = 0.95
ALPHA = 0.05  # a gain is marked significant when its paired-bootstrap p-value is below this


def seed_stats(values: Sequence[float]) -> tuple[float, float | None]:
    """Mean over seeds and the sample standard deviation (ddof 1; None with a single seed)."""
    arr = np.asarray(values, dtype=np.float64)
    return float(arr.mean()), (float(arr.std(ddof=1)) if arr.size > 1 else None)


def resample_rng(n: int, seed: int, salt: str) -> np.random.Generator:
    """The generator of a bootstrap: the same for the same seed, salt and n, so that two
    configurations scored on the same examples are resampled alike (paired)."""
    return np.random.default_rng([seed, zlib.crc32(f"{salt}|{n}".encode())])


def common_ids(files: Sequence[dict]) -> list[str]:
    """The example ids every scores file has, sorted (ids, not input order, align two runs)."""
    common = set(files[0]["ids"])
    for f in files[1:]:
        common &= set(f["ids"])
    return sorted(common)


def aligned(files: Sequence[dict], ids: Sequence[str]) -> list[dict[str, np.ndarray]]:
    """Each file's per-example values, restricted to `ids` and in their order."""
    out = []
    for f in files:
        where = {i: k for k, i in enumerate(f["ids"])}
        pick = np.fromiter((where[i] for i in ids), dtype=np.int64, count=len(ids))
        out.append({name: np.asarray(v)[pick] for name, v in f["values"].items()})
    return out


def _corpus(aggregate: str, primary: str, values: dict[str, np.ndarray]) -> np.ndarray:
    """The corpus score of per-example arrays, aggregated over their last axis (each row a
    resample)."""
    if aggregate == "f1_counts":
        tp, n_pred, n_gold = (values[k].sum(axis=-1) for k in ("tp", "n_pred", "n_gold"))
        denom = n_pred + n_gold
        return np.divide(200.0 * tp, denom, out=np.zeros_like(denom, dtype=np.float64), where=denom > 0)
    if aggregate == "ratio":
        total = values["tokens"].sum(axis=-1)
        return np.divide(100.0 * values["correct"].sum(axis=-1), total,
                         out=np.zeros_like(total, dtype=np.float64), where=total > 0)
    return 100.0 * values[primary].mean(axis=-1)


def point_score(aggregate: str, primary: str, seeds: Sequence[dict[str, np.ndarray]]) -> float:
    """Mean over seeds of the corpus score on all the (aligned) examples."""
    return float(np.mean([_corpus(aggregate, primary, v) for v in seeds]))


def boot_scores(aggregate: str, primary: str, seeds: Sequence[dict[str, np.ndarray]],
                idx: np.ndarray) -> np.ndarray:
    """Seed-averaged score on each given resample (rows of example indices): shape (resamples,)."""
    return np.mean([_corpus(aggregate, primary, {k: np.asarray(a)[idx] for k, a in v.items()})
                    for v in seeds], axis=0)


@dataclass(frozen=True)
class Boot:
    """A bootstrap distribution of the seed-averaged score and its percentile interval."""

    distribution: np.ndarray  # (resamples,)
    ci: tuple[float, float]


def bootstrap(aggregate: str, primary: str, seeds: Sequence[dict[str, np.ndarray]], resamples: int,
              seed: int, salt: str, level: float = CI_LEVEL) -> Boot:
    """Paired example bootstrap of the seed-averaged corpus score (scipy.stats.bootstrap over every
    seed's per-example arrays, resampled together), with generator `resample_rng(n, seed, salt)`."""
    from scipy.stats import bootstrap as scipy_bootstrap

    keys = [list(v) for v in seeds]
    arrays = tuple(np.asarray(v[k], dtype=np.float64) for v, names in zip(seeds, keys) for k in names)
    n = arrays[0].shape[-1]
    if n < 2:  # one example: every resample is that example (scipy refuses a sample of one)
        point = point_score(aggregate, primary, seeds)
        return Boot(np.full(resamples, point), (point, point))

    def statistic(*resampled: np.ndarray, axis: int = -1) -> np.ndarray:
        it = iter(resampled)
        return np.mean([_corpus(aggregate, primary, {k: next(it) for k in names}) for names in keys], axis=0)

    result = scipy_bootstrap(arrays, statistic, n_resamples=resamples, paired=True, vectorized=True,
                             confidence_level=level, method="percentile", rng=resample_rng(n, seed, salt))
    low, high = result.confidence_interval
    return Boot(result.bootstrap_distribution, (float(low), float(high)))


def percentile_ci(boot: np.ndarray, level: float = CI_LEVEL) -> tuple[float, float]:
    """The percentile interval of a combined bootstrap distribution (the average over languages,
    resample by resample; one language's interval comes from `bootstrap`)."""
    tail = 100.0 * (1.0 - level) / 2.0
    low, high = np.percentile(boot, [tail, 100.0 - tail])
    return float(low), float(high)


def paired_p_value(boot_a: np.ndarray, boot_b: np.ndarray) -> float:
    """Share of paired resamples on which A's gain over B is <= 0 (small: A really is better)."""
    return float(np.mean((boot_a - boot_b) <= 0.0))


def format_p(p: float | None, resamples: int) -> str:
    """'0.012', '< 0.001' (no resample disagreed), or 'n/a'."""
    if p is None:
        return "n/a"
    return f"< {1.0 / resamples:.3g}" if p == 0.0 else f"{p:.3f}"
