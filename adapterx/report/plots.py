"""`report --plot`: PNG figures under <out>/plots/.

* `deltas_heatmap.png`: delta vs baseline of every configuration (target row x intermediate-task
  column), diverging colours centred at 0, values written in the cells, `*` and a black frame on
  gains with paired-bootstrap p < alpha.
* `per_language_<target>.png`: one bar per configuration and language, configurations side by side,
  95% bootstrap CIs as error bars where per-example scores exist.

Figures are drawn on matplotlib's Agg canvas directly (no pyplot), so a report made from a notebook or
a headless server neither needs a display nor switches the caller's backend.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from adapterx.errors import AdapterxError
from adapterx.report.tables import columns, mark, row_key, row_name, row_parts, varying_parts

if TYPE_CHECKING:
    from matplotlib.figure import Figure
    from matplotlib.patches import Rectangle


def _figure(width: float, height: float) -> Figure:
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError as err:  # a dependency, but an install may have skipped it
        raise AdapterxError("--plot needs matplotlib", "pip install matplotlib") from err
    fig = Figure(figsize=(width, height), dpi=120)
    FigureCanvasAgg(fig)
    return fig


def heatmap(summaries: list[dict], path: Path, alpha: float) -> Path | None:
    """The deltas heatmap; None when no configuration has a baseline to compare with."""
    compared = [s for s in summaries if s.get("delta") and s["delta"]["average"] is not None]
    if not compared:
        return None
    from matplotlib.colors import TwoSlopeNorm

    cols = [c for c in columns(compared) if c != "baseline"]
    varying = varying_parts(summaries)
    rows = sorted({row_key(s) for s in compared})
    grid = np.full((len(rows), len(cols)), np.nan)
    labels = [["" for _ in cols] for _ in rows]
    significant = []
    for s in compared:
        i, j = rows.index(row_key(s)), cols.index(s["label"])
        d = s["delta"]
        grid[i, j] = d["average"]
        labels[i][j] = f"{d['average']:+.1f}{mark(d['p'], alpha)}"
        if mark(d["p"], alpha):
            significant.append((i, j))
    span = max(float(np.nanmax(np.abs(grid))), 1e-6)
    fig = _figure(max(6.0, 2.8 + 1.1 * len(cols)), max(3.2, 2.0 + 0.5 * len(rows)))
    ax = fig.add_subplot()
    image = ax.imshow(np.ma.masked_invalid(grid), cmap="RdBu", norm=TwoSlopeNorm(0.0, -span, span), aspect="auto")
    ax.set_facecolor("#dddddd")  # configurations not run
    ax.set_xticks(range(len(cols)), cols, rotation=40, ha="right")
    ax.set_yticks(range(len(rows)), [row_name(r, varying) for r in rows])
    for i, row in enumerate(labels):
        for j, text in enumerate(row):
            if text:  # dark text on light cells, white on the saturated ends
                light = abs(grid[i, j]) < 0.6 * span
                ax.text(j, i, text, ha="center", va="center", fontsize=8, color="black" if light else "white")
    for i, j in significant:
        ax.add_patch(_frame(i, j))
    fig.colorbar(image, ax=ax, label="Δ vs baseline (points)")
    ax.set_title(f"Δ vs baseline (* and frame: gain with paired-bootstrap p < {alpha})", fontsize=10)
    fig.tight_layout()
    fig.savefig(path)
    return path


def _frame(i: int, j: int) -> Rectangle:
    from matplotlib.patches import Rectangle

    return Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, edgecolor="black", linewidth=1.6)


def chance_level(target: str) -> float | None:
    """The score of a uniform guess for accuracy targets (100 / choices or labels); None for F1
    and retrieval metrics, where guessing scores about 0."""
    from adapterx.errors import AdapterxError
    from adapterx.tasks import get_task

    try:
        task = get_task(target)
    except AdapterxError:
        return None
    if task.metric != "accuracy" or task.kind not in ("classification", "multiple_choice"):
        return None
    n = task.num_choices if task.kind == "multiple_choice" else len(task.labels)
    return 100.0 / n if n > 1 else None


def y_top(top: float, chance: float | None) -> float:
    """Upper y limit: a quarter of head room above the highest bar (and the chance line) for the
    legend, capped near 100 (scores are percentages: the old top * 1.2 drew up to 120), never an
    empty range."""
    high = max([t for t in (top, chance or 0.0) if math.isfinite(t)] or [0.0])
    return min(115.0, high * 1.25) if high > 0 else 1.0


def language_bars(summaries: list[dict], target: str, path: Path) -> Path:
    """Per-language bars of every configuration of `target`, with CI error bars when known."""
    mine = [s for s in summaries if s["target"] == target]
    langs = sorted({lang for s in mine for lang in s["per_language"]})
    varying = varying_parts(summaries)
    width = 0.8 / len(mine)
    fig = _figure(max(6.0, 0.5 + len(langs) * (0.35 + 0.18 * len(mine))), 4.2)
    ax = fig.add_subplot()
    x = np.arange(len(langs))
    top = 0.0
    for k, s in enumerate(mine):
        means, low, high = [], [], []
        for lang in langs:
            v = s["per_language"].get(lang)
            means.append(math.nan if v is None else v["mean"])
            ci = v["ci"] if v else None
            low.append(max(v["mean"] - ci[0], 0.0) if ci else 0.0)
            high.append(max(ci[1] - v["mean"], 0.0) if ci else 0.0)
        has_ci = any(low) or any(high)
        top = max(top, float(np.nanmax(np.array(means) + np.array(high))))
        parts = row_parts(row_key(s), varying)
        name = s["label"] + (f" ({', '.join(parts)})" if parts else "")
        ax.bar(x + (k - (len(mine) - 1) / 2) * width, means, width, label=name,
               yerr=np.array([low, high]) if has_ci else None, capsize=2 if has_ci else 0)
    ax.set_xticks(x, langs)
    ax.set_ylabel(mine[0]["metric"] or "score")
    chance = chance_level(target)
    if chance is not None:  # what guessing scores: bars near it learned nothing
        ax.axhline(chance, color="grey", linestyle="--", linewidth=1, label=f"chance ({chance:.0f})")
    ax.set_ylim(0, y_top(top, chance))
    ax.set_title(f"{target}: zero-shot score per language (error bars: 95% bootstrap CI)", fontsize=10)
    ax.legend(fontsize=7, ncol=min(4, len(mine)), loc="upper center")
    fig.tight_layout()
    fig.savefig(path)
    return path


def write_plots(report: dict, out: Path) -> list[Path]:
    """Every figure of the report; returns the files written."""
    folder = out / "plots"
    folder.mkdir(parents=True, exist_ok=True)
    alpha = report["settings"]["alpha"]
    written = [p for p in [heatmap(report["groups"], folder / "deltas_heatmap.png", alpha)] if p]
    for target in sorted({s["target"] for s in report["groups"]}):
        written.append(language_bars(report["groups"], target, folder / f"per_language_{target}.png"))
    return written
