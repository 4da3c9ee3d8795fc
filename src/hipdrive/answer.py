"""The report's first page: what the study found, in words and numbers, before any figure.

A reader opening the report should learn the answer without reading a table:
per lift, the primary hip-lead index's change per 10 %1RM with its CI, how many
lifters and reps it rests on, the "always" shares with their CIs, what could
not be estimated and why, and what was excluded. The statistics tables follow,
rendered inline (a browser shows a CSV link as a download), and the run's
configuration and provenance come last. Reads only the files the earlier
stages wrote (:mod:`hipdrive.contracts`).
"""

from __future__ import annotations

import html
import json
import os
from pathlib import Path

import numpy as np
import pandas as pd

from hipdrive.contracts.exclusions import read_excluded
from hipdrive.contracts.labels import metric_label
from hipdrive.contracts.reps import PRIMARY_METRIC
from hipdrive.contracts.results import read_stats_table

#: Readable names of the "always" shares (always.csv ``quantity``).
SHARE_NAMES = {
    "share_lifters_positive_slope": "lifters whose own slope is positive",
    "share_heavy_reps_hip_lead": "heavy reps in which the hips led",
    "share_lifters_always_hip_lead": "lifters whose hips led in every heavy rep",
    "share_lifters_mean_hip_lead": "lifters whose hips led on average over their heavy reps",
}

_STYLE = (
    "body{font-family:sans-serif;max-width:60em;margin:1em auto;line-height:1.45}"
    "table{border-collapse:collapse;font-size:90%;margin:.5em 0 1.5em}"
    "td,th{padding:2px 8px;border-bottom:1px solid #ccc;text-align:left}"
    ".finding{font-size:115%;margin:.3em 0}.none{color:#555}"
)


def _num(x, fmt: str = "{:+.2f}") -> str:
    return "n/a" if x is None or not np.isfinite(x) else fmt.format(x)


def _ci(row, fmt: str = "{:.2f}") -> str:
    lo, hi = row.get("ci_low"), row.get("ci_high")
    if lo is None or hi is None or not (np.isfinite(lo) and np.isfinite(hi)):
        note = row.get("ci_note")
        if isinstance(note, str) and note:
            return note if note.startswith("no CI") else f"no CI ({note})"
        return "no CI"
    return f"95% CI {fmt.format(lo)} to {fmt.format(hi)}"


def _primary_sentence(lift: str, row: pd.Series | None) -> str:
    """One sentence on the primary hip-lead index of one lift."""
    name = metric_label(PRIMARY_METRIC)
    if row is None:
        return f"{lift.capitalize()}: no model of {name}."
    if not np.isfinite(row.get("slope_per_10pct", np.nan)):
        why = str(row.get("conclusion", "")).removeprefix("not estimable: ")
        return (f"{lift.capitalize()}: {name} was not estimated ({html.escape(why)}; "
                f"{int(row.get('n_lifters', 0))} lifters, {int(row.get('n_reps', 0))} reps).")  # fmt: skip
    p = row.get("p_value", np.nan)
    return (
        f"{lift.capitalize()}: {name} changed by <b>{_num(row['slope_per_10pct'])} deg per 10 %1RM</b> "
        f"({_ci(row, '{:+.2f}')}, p = {_num(p, '{:.3g}')}), from {int(row['n_lifters'])} lifters and "
        f"{int(row['n_reps'])} reps: {html.escape(str(row.get('conclusion', '')))}."
    )


def _shares(always: pd.DataFrame | None, lift: str) -> str:
    if always is None or not len(always):
        return ""
    rows = always[always["lift"] == lift]
    items = [
        f"<li>{html.escape(SHARE_NAMES.get(r.quantity, r.quantity))}: <b>{_num(r.estimate, '{:.2f}')}</b> "
        f"({html.escape(_ci(r._asdict()))}; {int(r.n_lifters)} lifters)</li>"
        for r in rows.itertuples()
    ]
    return f"<ul>{''.join(items)}</ul>" if items else ""


def _table(df: pd.DataFrame | None, title: str) -> str:
    if df is None:
        return f"<h3>{html.escape(title)}</h3><p class='none'>not written by this run</p>"
    if not len(df):
        return f"<h3>{html.escape(title)}</h3><p class='none'>no rows</p>"
    body = df.to_html(index=False, na_rep="", escape=True, border=0, float_format=lambda v: f"{v:.4g}")
    return f"<h3>{html.escape(title)}</h3><div style='overflow-x:auto'>{body}</div>"


def _truth_sentence(row: pd.Series | None, simulated_slope: float) -> str:
    """The simulated study's true slope beside its estimate: does the CI recover it?"""
    truth = f"The videos are simulated with a true slope of <b>{simulated_slope:+.2f} deg per 10 %1RM</b>"
    if row is None or not np.isfinite(row.get("ci_low", np.nan)):
        return f"{truth}; no interval was estimated to compare with it."
    lo, hi = float(row["ci_low"]), float(row["ci_high"])
    covers = "contains" if lo <= simulated_slope <= hi else "does <b>not</b> contain"
    zero = "excludes" if lo > 0 or hi < 0 else "does not exclude"
    return f"{truth}: the 95% CI {covers} it and {zero} zero."


def findings(stats_dir: str | os.PathLike, excluded: str | os.PathLike | None = None,
             simulated_slope: float | None = None) -> str:  # fmt: skip
    """The answer as an HTML fragment: per lift, the primary index, the truth of a
    simulated study, the "always" shares, and what was not estimated and why.

    The report's landing page shows this fragment; :func:`answer_page` opens with it.
    """
    stats_dir = Path(stats_dir)
    models = read_stats_table(stats_dir / "models.csv")
    always = read_stats_table(stats_dir / "always.csv")
    parts = []
    lifts = sorted(set(models["lift"])) if models is not None and len(models) else []
    if not lifts:
        parts.append(f"<p class='finding'>No model could be fitted: {_why_no_model(excluded)}.</p>")
    for lift in lifts:
        m = models[(models["lift"] == lift) & (models["metric"] == PRIMARY_METRIC)]
        row = m.iloc[0] if len(m) else None
        parts.append(f"<p class='finding'>{_primary_sentence(lift, row)}</p>")
        if simulated_slope is not None:
            parts.append(f"<p class='finding'>{_truth_sentence(row, simulated_slope)}</p>")
        parts.append(_shares(always, lift))
    if models is not None and len(models):
        missing = models[~np.isfinite(models["slope_per_10pct"].astype(float))]
        if len(missing):
            items = "".join(
                f"<li>{html.escape(metric_label(r.metric))}, {r.lift}: "
                f"{html.escape(str(r.conclusion).removeprefix('not estimable: '))}</li>"
                for r in missing.itertuples()
            )
            parts.append(f"<h2>Not estimated</h2><ul>{items}</ul>")
    return "".join(parts)


def _why_no_model(excluded: str | os.PathLike | None) -> str:
    """Why no rep entered the models, from what ``excluded.tsv`` says of the reps."""
    table = read_excluded(excluded) if excluded is not None and Path(excluded).is_file() else None
    if table is None or not len(table):
        return "no rep entered the models"
    reps = table[table["stage"] == "rep quality"]
    if len(reps) and reps["reason"].str.contains("no %1RM", regex=False).all():
        return ("no rep has a %1RM (the manifest gives no load_kg with one_rm_kg, and no lifter "
                "has several loads from which to estimate a 1RM)")  # fmt: skip
    return f"no rep entered the models ({len(table)} videos and reps excluded, listed below)"


def answer_page(stats_dir: str | os.PathLike, excluded: str | os.PathLike | None = None,
                config: dict | None = None, simulated_slope: float | None = None) -> str:  # fmt: skip
    """The first page of the report as one self-contained HTML document.

    ``simulated_slope``: the true population slope of a simulated study (the
    demo), stated beside each lift's estimate.
    """
    stats_dir = Path(stats_dir)
    models = read_stats_table(stats_dir / "models.csv")
    parts = ["<h1>What this study found</h1>", findings(stats_dir, excluded, simulated_slope)]
    parts.append(_exclusions(excluded))
    parts.append("<h2>Statistics tables</h2>")
    shown = None
    if models is not None:
        cols = ["metric", "lift", "slope_per_10pct", "ci_low", "ci_high", "p_value", "n_lifters",
                "n_reps", "conclusion"]  # fmt: skip
        shown = models[[c for c in cols if c in models.columns]].assign(
            metric=models["metric"].map(metric_label)
        )
    for name, title in (
        (None, "Models: change per 10 %1RM, per metric and lift (every column: models.csv)"),
        ("always.csv", '"Always" shares'),
        ("lifter_slopes.csv", "Per-lifter slopes"),
        ("spm_clusters.csv", "SPM clusters"),
        ("qc_summary.csv", "Reps per lifter and quality flags"),
    ):
        parts.append(_table(shown if name is None else read_stats_table(stats_dir / name), title))
    prov = stats_dir / "provenance.json"
    parts.append("<h2>Configuration and provenance</h2>")
    if config is not None:
        parts.append("<details><summary>Configuration of this run</summary><pre>"
                     f"{html.escape(json.dumps(config, indent=2, default=str))}</pre></details>")  # fmt: skip
    if prov.is_file():
        parts.append("<details><summary>Software versions, parameters, inputs</summary><pre>"
                     f"{html.escape(prov.read_text())}</pre></details>")  # fmt: skip
    return (
        "<!DOCTYPE html><html><head><meta charset='utf-8'><title>What this study found</title>"
        f"<style>{_STYLE}</style></head><body>{''.join(parts)}</body></html>"
    )


def _exclusions(path: str | os.PathLike | None) -> str:
    """What was excluded, counted by stage, with the most common reasons."""
    if path is None or not Path(path).is_file():
        return ""
    table = read_excluded(path)
    if not len(table):
        return "<h2>Excluded</h2><p>Nothing: every video gave data and every rep entered the models.</p>"
    by_stage = table.groupby("stage", sort=False).size()
    items = "".join(f"<li>{html.escape(str(stage))}: {n}</li>" for stage, n in by_stage.items())
    reasons = table["reason"].str.split(":").str[0].value_counts().head(5)
    common = "".join(f"<li>{html.escape(str(r))}: {n}</li>" for r, n in reasons.items())
    return (f"<h2>Excluded</h2><p>Per stage (videos, or reps under 'rep quality'):</p><ul>{items}</ul>"
            f"<p>Most common reasons:</p><ul>{common}</ul><p>Every entry: Quality control, "
            "'Excluded videos and reps'.</p>")  # fmt: skip
