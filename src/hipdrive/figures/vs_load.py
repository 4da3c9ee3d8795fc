"""Metrics against %1RM with per-lifter lines: hip lead (b), load-velocity (d), hip shoot (g)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from hipdrive.contracts.labels import METRIC_LABELS
from hipdrive.contracts.reps import LIFTS, PRIMARY_METRIC
from hipdrive.contracts.results import PCT_STEP
from hipdrive.figures.style import (
    LIFT_COLOURS,
    _colours,
    _legend_below,
    _message_figure,
    _subplots,
    _suptitle,
    _title,
    pct_bin,
)
from hipdrive.figures.subsets import _counts, _used

LOAD_LABEL = "load (%1RM)"


def _lifter_bin_means(d: pd.DataFrame) -> pd.DataFrame:
    """Each lifter's mean load and value per %1RM bin (:data:`~hipdrive.figures.style.PCT_BIN`)."""
    return (
        d.assign(bin=pct_bin(d["pct_1rm"]))
        .groupby(["lifter_id", "bin"], sort=True)[["pct_1rm", "value"]]
        .mean()
        .reset_index()
    )


def _per_lifter_lines(ax, d: pd.DataFrame, colour, *, markers: bool = False) -> None:
    """Per-lifter mean per %1RM bin, joined by a thin line (one artist for all lifters)."""
    from matplotlib.collections import LineCollection

    m = _lifter_bin_means(d)
    xy = m[["pct_1rm", "value"]].to_numpy()
    starts = np.flatnonzero(
        np.r_[True, m["lifter_id"].to_numpy()[1:] != m["lifter_id"].to_numpy()[:-1]]
    )
    segments = np.split(xy, starts[1:])
    ax.add_collection(
        LineCollection(
            segments, colors=[colour], alpha=0.5, linewidths=0.9, label="lifters (5 %1RM bins)"
        )
    )
    if markers:
        ax.scatter(xy[:, 0], xy[:, 1], s=8, color=colour, alpha=0.7, lw=0)
    ax.autoscale_view()


def _lifts_with(d: pd.DataFrame) -> list[str]:
    """Lifts with at least one row in ``d``: a lift the study lacks gets no panel."""
    return [lift for lift in LIFTS if (d["lift"] == lift).any()]


def _model_line(ax, models: pd.DataFrame | None, metric: str, lift: str, x: np.ndarray, colour):
    if models is None or models.empty:
        return None
    row = models[(models["metric"] == metric) & (models["lift"] == lift)]
    if row.empty or not np.isfinite(row["slope_per_10pct"].iloc[0]):
        return None
    r = row.iloc[0]
    if "intercept" not in r or not np.isfinite(r["intercept"]):
        return None
    xs = np.linspace(np.nanmin(x), np.nanmax(x), 50)
    dx = (xs - r["pct_1rm_centre"]) / PCT_STEP
    ax.plot(xs, r["intercept"] + r["slope_per_10pct"] * dx, color="k", lw=2.2, label="model fit")
    if np.isfinite(r["ci_low"]):
        lo = r["intercept"] + np.minimum(r["ci_low"] * dx, r["ci_high"] * dx)
        hi = r["intercept"] + np.maximum(r["ci_low"] * dx, r["ci_high"] * dx)
        ax.fill_between(xs, lo, hi, color="k", alpha=0.12, lw=0, label="95% CI of slope")
    return r


def _scatter_metric_vs_load(
    reps: pd.DataFrame,
    models: pd.DataFrame | None,
    *,
    metric: str,
    lifts: list[str],
    ylabel: str,
    zero_line: bool,
    title: str,
    empty_message: str,
):
    d_all = _used(reps, metric)
    d_all = d_all[d_all["lift"].isin(lifts)]
    lifts = _lifts_with(d_all)
    if not lifts:
        fig, _ = _message_figure(empty_message, title)
        return fig, _counts(d_all)
    fig, axes = _subplots(len(lifts), sharey=False)
    colours = _colours()
    for ax, lift in zip(axes[0], lifts, strict=True):
        d = d_all[d_all["lift"] == lift]
        c = colours[LIFT_COLOURS[lift]]
        jitter = np.random.default_rng(0).uniform(-0.8, 0.8, len(d))
        ax.scatter(
            d["pct_1rm"] + jitter,
            d["value"],
            s=8,
            color=c,
            alpha=0.35,
            lw=0,
            label="reps",
            rasterized=True,
        )
        _per_lifter_lines(ax, d, c)
        r = _model_line(ax, models, metric, lift, d["pct_1rm"].to_numpy(), c)
        if zero_line:
            ax.axhline(0, color="0.4", lw=0.8, ls="--")
        text = lift
        if r is not None:
            text += (
                f"\nslope {r['slope_per_10pct']:+.3g} per 10 %1RM"
                f"\n(95% CI {r['ci_low']:+.3g} to {r['ci_high']:+.3g})"
            )
        _title(ax, text, fontsize=9.5)
        ax.set_xlabel(LOAD_LABEL)
        if ax is axes[0, 0]:
            ax.set_ylabel(ylabel)
    _legend_below(fig, ncols=4)
    _suptitle(fig, title)
    return fig, _counts(d_all)


def plot_hip_lead_vs_load(reps: pd.DataFrame, models: pd.DataFrame | None = None):
    """(b) Primary hip-lead index vs %1RM: reps, per-lifter lines and the model fit.

    The primary index is the change in trunk angle from the bottom to v_min (or
    30% of ascent time without a sticking region); positive = hips lead
    (docs/definitions.md, "Hip-lead indices"). Thin lines join each lifter's
    mean per 5 %1RM bin. The black line is the fixed effect of the
    random-slope mixed model of :func:`hipdrive.stats.fit_mixed_model`, the
    band the 95% CI of its slope around the centre load. One panel per lift
    with data.
    """
    return _scatter_metric_vs_load(
        reps,
        models,
        metric=PRIMARY_METRIC,
        lifts=list(LIFTS),
        ylabel=f"{METRIC_LABELS[PRIMARY_METRIC]}\n+ = hips lead",
        zero_line=True,
        title="Hip lead vs load",
        empty_message="No reps with a hip-lead index in this study.",
    )


def plot_deadlift_hip_shoot(reps: pd.DataFrame, models: pd.DataFrame | None = None):
    """(g) Deadlift hip-shoot index vs %1RM.

    Hip-shoot index = hip rise / shoulder rise from lift-off until the bar
    passes the knee; > 1 = the hips rise faster than the shoulders ("hips shoot
    up"), the classic deadlift fault (docs/definitions.md, "Deadlift"). With no
    deadlift reps the figure is one panel that says so.
    """
    fig, counts = _scatter_metric_vs_load(
        reps,
        models,
        metric="hip_shoot_index",
        lifts=["deadlift"],
        ylabel=f"{METRIC_LABELS['hip_shoot_index']}\n> 1 = hips rise faster",
        zero_line=False,
        title="Deadlift: do the hips shoot up with load?",
        empty_message="There are no deadlift reps in this study.",
    )
    if counts["n_reps"]:
        fig.axes[0].axhline(1, color="0.4", lw=0.8, ls="--")
    return fig, counts


def velocity_column(reps: pd.DataFrame) -> str:
    """The mean-velocity column to draw: m/s when every velocity has one, else body heights/s.

    Metres per second need the lifter's height; one figure mixes no units, so
    a single lifter without a height puts the whole figure in body heights/s.
    """
    ms, bh = "mean_concentric_velocity_m_s", "mean_concentric_velocity_bh_s"
    used = reps[reps["used"]]
    if ms not in used.columns:
        return bh
    has_ms = np.isfinite(pd.to_numeric(used[ms], errors="coerce").astype(float))
    has_bh = np.isfinite(pd.to_numeric(used[bh], errors="coerce").astype(float))
    return ms if has_ms.any() and not (has_bh & ~has_ms).any() else bh


def plot_load_velocity(reps: pd.DataFrame):
    """(d) Load-velocity profile: mean concentric velocity vs %1RM, one line per lifter.

    Mean concentric velocity of the bar proxy from bottom to lockout, in m/s
    when every lifter's height is known (:func:`velocity_column`), else in
    body heights per second; its near-linear fall with relative load is the
    load-velocity profile (Gonzalez-Badillo & Sanchez-Medina 2010,
    doi:10.1055/s-0030-1248333). Lines join each lifter's mean per 5 %1RM
    bin; the dashed line is an ordinary least-squares fit over all reps of the
    lift.
    """
    column = velocity_column(reps)
    unit = "m/s" if column.endswith("_m_s") else "body heights/s"
    d_all = _used(reps, column)
    lifts = _lifts_with(d_all)
    title = "Load-velocity profiles (one line per lifter)"
    if not lifts:
        fig, _ = _message_figure("No bar velocities in this study.", title)
        return fig, _counts(d_all)
    fig, axes = _subplots(len(lifts), sharey=True)
    colours = _colours()
    for ax, lift in zip(axes[0], lifts, strict=True):
        d = d_all[d_all["lift"] == lift]
        c = colours[LIFT_COLOURS[lift]]
        _per_lifter_lines(ax, d, c, markers=True)
        if d["pct_1rm"].nunique() >= 2:
            b, a = np.polyfit(d["pct_1rm"], d["value"], 1)
            xs = np.array([d["pct_1rm"].min(), d["pct_1rm"].max()])
            ax.plot(xs, a + b * xs, "k--", lw=1.8, label="all reps (least squares)")
            text = f"{lift}\nall reps: {b * PCT_STEP:+.3f} {unit} per 10 %1RM"
        else:
            text = lift
        _title(ax, text, fontsize=9.5)
        ax.set_xlabel(LOAD_LABEL)
        if ax is axes[0, 0]:
            ax.set_ylabel(METRIC_LABELS[column])
    _legend_below(fig)
    _suptitle(fig, title)
    return fig, _counts(d_all)
