"""Seed statistics and the example bootstrap: percentile confidence intervals and paired tests.

The bootstrap resamples a language's evaluation examples with replacement (1,000 times by default)
and recomputes the corpus score on each resample with the metric's own aggregation (see
report.scores.corpus_score): mean accuracy / F1 / EM, or micro F1 from summed entity counts. With
several seeds the resampled score is the mean over the seeds' scores on the same resample, so the
interval is for the seed-averaged number the tables show.

Resamples are drawn from a generator seeded by (report seed, target, split, language, n): every
configuration evaluated on the same examples gets the same resamples, which makes the comparison of
two configurations a paired bootstrap (Koehn 2004; Berg-Kirkpatrick et al. 2012): the p-value of a
gain is the share of resamples on which it is <= 0. With 1,000 resamples the smallest p-value that
can be told apart is 0.001 ("< 0.001" when no resample disagrees).
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence

import numpy as np

DEFAULT_RESAMPLES = 1000
CI_LEVEL = 0.95
ALPHA = 0.05  # a gain is marked significant when its paired-bootstrap p-value is below this


def seed_stats(values: Sequence[float]) -> tuple[float, float | None]:
    """Mean over seeds and the sample standard deviation (ddof 1; None with a single seed)."""
    arr = np.asarray(values, dtype=np.float64)
    return float(arr.mean()), (float(arr.std(ddof=1)) if arr.size > 1 else None)


def resample_indices(n: int, resamples: int, seed: int, salt: str) -> np.ndarray:
    """(resamples, n) example indices drawn with replacement, the same for the same salt and n."""
    rng = np.random.default_rng([seed, zlib.crc32(f"{salt}|{n}".encode())])
    return rng.integers(0, n, size=(resamples, n), dtype=np.int32 if n < 2**31 else np.int64)


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


def _score_rows(aggregate: str, primary: str, values: dict[str, np.ndarray], idx: np.ndarray) -> np.ndarray:
    """The corpus score of each resample (rows of idx) of one seed's values."""
    if aggregate == "f1_counts":
        tp, n_pred, n_gold = (values[k][idx].sum(axis=1) for k in ("tp", "n_pred", "n_gold"))
        denom = n_pred + n_gold
        return np.divide(200.0 * tp, denom, out=np.zeros_like(denom, dtype=np.float64), where=denom > 0)
    if aggregate == "ratio":
        total = values["tokens"][idx].sum(axis=1)
        return np.divide(100.0 * values["correct"][idx].sum(axis=1), total,
                         out=np.zeros_like(total, dtype=np.float64), where=total > 0)
    return 100.0 * values[primary][idx].mean(axis=1)


def point_score(aggregate: str, primary: str, seeds: Sequence[dict[str, np.ndarray]]) -> float:
    """Mean over seeds of the corpus score on all the (aligned) examples."""
    n = len(next(iter(seeds[0].values())))
    whole = np.arange(n)[None, :]
    return float(np.mean([_score_rows(aggregate, primary, v, whole)[0] for v in seeds]))


def boot_scores(aggregate: str, primary: str, seeds: Sequence[dict[str, np.ndarray]],
                idx: np.ndarray) -> np.ndarray:
    """Seed-averaged score on each resample: shape (resamples,)."""
    return np.mean([_score_rows(aggregate, primary, v, idx) for v in seeds], axis=0)


def percentile_ci(boot: np.ndarray, level: float = CI_LEVEL) -> tuple[float, float]:
    """The percentile interval of a bootstrap distribution."""
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
