"""Report tables: the paper-style matrix (target x intermediate task) in the terminal and in
report.md, per-language tables, robustness and XTREME tables, and report.csv in long format."""

from __future__ import annotations

import csv
import io

from rich.console import Console
from rich.markup import escape
from rich.measure import Measurement
from rich.table import Table

from adapterx.report.analysis import short_model
from adapterx.report.collect import Group
from adapterx.report.console import console
from adapterx.report.stats import format_p

DASH = "—"
ROW_PARTS = ("method", "model", "quant", "eval_split")


def row_key(s: dict) -> tuple[str, ...]:
    """The table row of a summary: retrieval from the base and from modules share one row."""
    method = "retrieval" if s["setup"] == "retrieval" else s["method"]
    return (s["target"], method, s["model"], s["quant"], s["eval_split"])


def varying_parts(summaries: list[dict]) -> list[int]:
    """Positions of the row parts that differ between rows (the others go into the caption)."""
    keys = {row_key(s) for s in summaries}
    return [i for i in range(1, 5) if len({k[i] for k in keys}) > 1]


def row_parts(key: tuple[str, ...], varying: list[int]) -> list[str]:
    """The row parts that tell rows apart (method, model, quant, split), e.g. ['lora']."""
    return [short_model(key[i]) if i == 2 else key[i] for i in varying]


def row_name(key: tuple[str, ...], varying: list[int]) -> str:
    """'xcopa' or 'xcopa (lora, test)' when rows differ in method, model, quant or split."""
    parts = row_parts(key, varying)
    return key[0] + (f" ({', '.join(parts)})" if parts else "")


def columns(summaries: list[dict]) -> list[str]:
    """Baseline first, then the paper's columns (intermediate tasks), then other setups."""
    return sorted({s["label"] for s in summaries}, key=lambda c: (c != "baseline", ":" in c, c))


def mark(p: float | None, alpha: float) -> str:
    """'*' on a gain whose paired-bootstrap p-value is below alpha."""
    return "*" if p is not None and p < alpha else ""


def cell(s: dict, alpha: float) -> str:
    """'61.2 ± 0.8 (+2.1*)': seed mean, seed std (several seeds), delta vs baseline, significance."""
    avg = s["average"]
    text = f"{avg['mean']:.1f}" + (f" ± {avg['std']:.1f}" if avg["std"] is not None else "")
    delta = s.get("delta") or {}
    if delta.get("average") is not None:
        text += f" ({delta['average']:+.1f}{mark(delta.get('p'), alpha)})"
    return text


def main_grid(summaries: list[dict], alpha: float) -> tuple[list[str], list[list[str]], str]:
    """Header, rows and caption of the paper-style table."""
    cols, varying = columns(summaries), varying_parts(summaries)
    by_row: dict[tuple, dict[str, dict]] = {}
    for s in summaries:
        by_row.setdefault(row_key(s), {})[s["label"]] = s
    rows = [[row_name(key, varying), *(cell(cells[c], alpha) if c in cells else DASH for c in cols)]
            for key, cells in by_row.items()]
    fixed = sorted({(k[1], short_model(k[2]), k[3], k[4]) for k in by_row})
    caption = ("mean over seeds (± std when > 1 seed) of the average over languages; (Δ vs baseline: direct, "
               f"full-direct for full, the base model for retrieval); * = gain with paired-bootstrap p < {alpha}")
    if not varying and fixed:
        caption += f"; method {fixed[0][0]}, model {fixed[0][1]}, quant {fixed[0][2]}, split {fixed[0][3]}"
    return ["target", *cols], rows, caption


def _md(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join([":---"] + ["---:"] * (len(header) - 1)) + "|"]
    return lines + ["| " + " | ".join(c.replace("|", "\\|") for c in r) + " |" for r in rows]


def _num(value: float | None, fmt: str = ".1f") -> str:
    return DASH if value is None else format(value, fmt)


def per_language_tables(summaries: list[dict], target: str, alpha: float, resamples: int) -> list[str]:
    """Scores with 95% CIs, and deltas with p-values, one row per configuration of `target`."""
    mine = [s for s in summaries if s["target"] == target]
    langs = sorted({lang for s in mine for lang in s["per_language"]})
    varying = varying_parts(summaries)

    def name(s: dict) -> str:
        return f"{s['label']}" + (f" [{row_name(row_key(s), varying)}]" if varying else "")

    scores, deltas = [], []
    for s in mine:
        row = [name(s)]
        for lang in langs:
            v = s["per_language"].get(lang)
            ci = v and v["ci"]
            row.append(DASH if v is None else f"{v['mean']:.1f}" + (f" [{ci[0]:.1f}, {ci[1]:.1f}]" if ci else ""))
        scores.append(row + [f"{s['average']['mean']:.1f}"])
        if s.get("delta"):
            d = s["delta"]
            row = [name(s)]
            for lang in langs:
                x = d["per_language"].get(lang)
                row.append(DASH if x is None
                           else f"{x['delta']:+.1f}{mark(x['p'], alpha)} (p {format_p(x['p'], resamples)})")
            deltas.append(row + [f"{d['average']:+.1f}{mark(d['p'], alpha)} (p {format_p(d['p'], resamples)})"])
    out = [f"### {target}", "", "Score per language, mean over seeds [95% bootstrap CI over examples]:", ""]
    out += _md(["setup", *langs, "average"], scores)
    if deltas:
        out += ["", "Δ vs baseline per language (paired-bootstrap p-value of the gain):", ""]
        out += _md(["setup", *langs, "average"], deltas)
    return out + [""]


def robustness_rows(summaries: list[dict]) -> list[list[str]]:
    """One row per group: spread, worst language, transfer gap, low- / high-resource score and gain."""
    rows, varying = [], varying_parts(summaries)
    for s in summaries:
        r = s["robustness"]
        rows.append([row_name(row_key(s), varying), s["label"], f"{s['average']['mean']:.1f}",
                     _num(r["std_over_languages"]), f"{r['worst_language']} {r['worst_score']:.1f}",
                     _num(r["transfer_gap"]), _num(r["low"]["mean"]), _num(r["low"]["gain"], "+.1f"),
                     _num(r["high"]["mean"]), _num(r["high"]["gain"], "+.1f")])
    return rows


ROBUSTNESS_HEADER = ["target", "setup", "average", "std over langs", "worst language", "transfer gap",
                     "low-res score", "low-res Δ", "high-res score", "high-res Δ"]


def xtreme_rows(entries: list[dict]) -> list[list[str]]:
    """One row per setup and benchmark; partial scores say what is missing."""
    rows = []
    for e in entries:
        missing = []
        if e["missing_tasks"]:
            missing.append(f"{len(e['tasks'])}/{len(e['tasks']) + len(e['missing_tasks'])} tasks")
        missing += [f"{t}: no {','.join(langs)}" for t, langs in e["missing_languages"].items()]
        missing += [f"{t}: no official language" for t in e["unscored_tasks"]]
        score = f"{e['score']:.1f}" + (" (partial)" if e["partial"] else "")
        rows.append([e["label"], e["method"], e["eval_split"], e["benchmark"], score, _num(e["delta"], "+.1f"),
                     ", ".join(f"{t} {v:.1f}" for t, v in e["tasks"].items()), "; ".join(missing)])
    return rows


XTREME_HEADER = ["setup", "method", "split", "benchmark", "score", "Δ vs baseline", "task scores", "missing"]


def markdown(report: dict) -> str:
    """report.md: main table, per-language tables per target, robustness, XTREME, notes."""
    s, alpha, resamples = report["groups"], report["settings"]["alpha"], report["settings"]["resamples"]
    header, rows, caption = main_grid(s, alpha)
    out = [f"# adapterx report: {report['runs_dir']}", "",
           f"{report['n_runs']} runs in {len(s)} groups. {caption}.", ""]
    out += _md(header, rows) + ["", "## Per-language scores", ""]
    for target in sorted({g["target"] for g in s}):
        out += per_language_tables(s, target, alpha, resamples)
    out += ["## Robustness", "", f"Std over languages: population std of the per-language means. Transfer gap: "
            f"English minus the mean of the other languages. Low-resource: less than "
            f"{report['settings']['low_resource_gib']:g} GiB of XLM-R pretraining data (CC-100, Conneau et al. 2020); "
            "English is in neither group; Δ: mean gain vs baseline.", ""]
    out += _md(ROBUSTNESS_HEADER, robustness_rows(s))
    if report["xtreme"]:
        out += ["", "## XTREME scores", "", "Computed like google-research/xtreme evaluate.py; partial scores "
                "average the tasks / languages present and are not comparable with published totals.", ""]
        out += _md(XTREME_HEADER, xtreme_rows(report["xtreme"]))
    notes = [f"- {g['target']} {g['label']} ({g['method']}): {n}" for g in s for n in g["notes"]]
    notes += [f"- skipped {x['path']}: {x['reason']}" for x in report["skipped"]]
    if notes:
        out += ["", "## Notes", "", *notes]
    return "\n".join(out) + "\n"


CSV_HEADER = ["target", "setup", "inter", "method", "model", "quant", "eval_split", "seed", "language", "metric",
              "score", "run"]


def long_csv(groups: list[Group]) -> str:
    """report.csv: one row per target / setup / inter / method / seed / language / metric score,
    as each run's results.json has it (QA: an F1 and an exact-match row)."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    for g in groups:
        k = g.key
        for run in g.runs:
            for lang, value in run.results["per_language"].items():
                pairs = value.items() if isinstance(value, dict) else [(run.results.get("metric", "score"), value)]
                for metric, score in pairs:
                    writer.writerow([k.target, k.setup, "+".join(k.inter), k.method, k.model, k.quant, k.split,
                                     run.seed, lang, metric, score, str(run.path)])
    return buf.getvalue()


def print_main(report: dict) -> None:
    """The paper-style table (and XTREME lines) in the terminal."""
    header, rows, caption = main_grid(report["groups"], report["settings"]["alpha"])
    table = Table(title=f"adapterx report ({report['n_runs']} runs)", caption=caption)
    for i, name in enumerate(header):
        table.add_column(escape(name), justify="left" if i == 0 else "right")
    for row in rows:
        table.add_row(*(escape(c) for c in row))
    # one column per intermediate task is wider than most terminals: print it whole (the terminal
    # wraps) rather than let rich squeeze each cell to "58…", as the compare table does
    needed = Measurement.get(console, console.options.update(max_width=10_000), table).maximum
    Console(file=console.file, width=max(console.width, needed), highlight=False, force_terminal=console.is_terminal,
            color_system=console.color_system).print(table, crop=False)
    for row in xtreme_rows(report["xtreme"]):
        console.print(f"{row[3]} score, {escape(row[0])} ({row[1]}, {row[2]}): {row[4]}"
                      + (f"  Δ {row[5]}" if row[5] != DASH else "") + (f"  [{escape(row[7])}]" if row[7] else ""))
