"""Metrics against %1RM with per-lifter lines: hip lead (b), load-velocity (d), hip shoot (g)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from hipdrive.contracts.reps import PRIMARY_METRIC
from hipdrive.contracts.results import PCT_STEP
from hipdrive.figures.style import LIFT_COLOURS, _colours, _empty_panel, _subplots
from hipdrive.figures.subsets import _counts, _lifts_present, _used


def _per_lifter_lines(ax, d: pd.DataFrame, colour, *, markers: bool = False) -> None:
    """Per-lifter mean at each load, joined by a thin line (one artist for all lifters)."""
    from matplotlib.collections import LineCollection

    m = d.groupby(["lifter_id", "pct_1rm"], sort=True)["value"].mean().reset_index()
    xy = m[["pct_1rm", "value"]].to_numpy()
    starts = np.flatnonzero(
        np.r_[True, m["lifter_id"].to_numpy()[1:] != m["lifter_id"].to_numpy()[:-1]]
    )
    segments = np.split(xy, starts[1:])
    ax.add_collection(LineCollection(segments, colors=[colour], alpha=0.4, linewidths=0.8))
    if markers:
        ax.scatter(xy[:, 0], xy[:, 1], s=6, color=colour, alpha=0.6, lw=0)
    ax.autoscale_view()


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
    empty_message: str,
):
    fig, axes = _subplots(len(lifts), sharey=False)
    d_all = _used(reps, metric)
    d_all = d_all[d_all["lift"].isin(lifts)]
    colours = _colours()
    for ax, lift in zip(axes[0], lifts, strict=True):
        d = d_all[d_all["lift"] == lift]
        if d.empty:
            _empty_panel(ax, empty_message.format(lift=lift))
            continue
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
        title = lift
        if r is not None:
            title += (
                f"\nslope {r['slope_per_10pct']:+.3g} per 10 %1RM "
                f"(95% CI {r['ci_low']:+.3g} to {r['ci_high']:+.3g})"
            )
        ax.set_title(title, fontsize=9.5)
        ax.set_xlabel("load (%1RM)")
        if ax is axes[0, 0]:
            ax.set_ylabel(ylabel)
        ax.legend(frameon=False, fontsize=8, loc="upper left")
    return fig, _counts(d_all)


def plot_hip_lead_vs_load(reps: pd.DataFrame, models: pd.DataFrame | None = None):
    """(b) Primary hip-lead index vs %1RM: reps, per-lifter lines and the model fit.

    The primary index is the change in trunk angle from the bottom to v_min (or
    30% of ascent time without a sticking region); positive = hips lead
    (docs/definitions.md, "Hip-lead indices"). The black line is the fixed
    effect of the random-slope mixed model of
    :func:`hipdrive.stats.fit_mixed_model`, the band the 95% CI of its
    slope around the centre load.
    """
    lifts = _lifts_present(reps[reps["used"]])
    fig, counts = _scatter_metric_vs_load(
        reps,
        models,
        metric=PRIMARY_METRIC,
        lifts=lifts,
        ylabel="trunk-angle change bottom -> v_min (deg)\n+ = hips lead",
        zero_line=True,
        empty_message="no {lift} reps with a hip-lead index",
    )
    fig.suptitle("Hip lead vs load")
    return fig, counts


def plot_deadlift_hip_shoot(reps: pd.DataFrame, models: pd.DataFrame | None = None):
    """(g) Deadlift hip-shoot index vs %1RM.

    Hip-shoot index = hip rise / shoulder rise from lift-off until the bar
    passes the knee; > 1 = the hips rise faster than the shoulders ("hips shoot
    up"), the classic deadlift fault (docs/definitions.md, "Deadlift"). With no deadlift reps the
    panel says so.
    """
    fig, counts = _scatter_metric_vs_load(
        reps,
        models,
        metric="hip_shoot_index",
        lifts=["deadlift"],
        ylabel="hip rise / shoulder rise to knee (ratio)",
        zero_line=False,
        empty_message="no deadlift reps in this study",
    )
    ax = fig.axes[0]
    if counts["n_reps"]:
        ax.axhline(1, color="0.4", lw=0.8, ls="--")
    fig.suptitle("Deadlift: do the hips shoot up with load?")
    return fig, counts


def plot_load_velocity(reps: pd.DataFrame):
    """(d) Load-velocity profile: mean concentric velocity vs %1RM, one line per lifter.

    Mean concentric velocity of the bar proxy from bottom to lockout in body
    heights per second; its near-linear fall with relative load is the
    load-velocity profile (Gonzalez-Badillo & Sanchez-Medina 2010,
    doi:10.1055/s-0030-1248333). The dashed line is an ordinary least-squares
    fit over all reps of the lift.
    """
    d_all = _used(reps, "mean_concentric_velocity_bh_s")
    lifts = _lifts_present(reps[reps["used"]])
    fig, axes = _subplots(len(lifts), sharey=True)
    colours = _colours()
    for ax, lift in zip(axes[0], lifts, strict=True):
        d = d_all[d_all["lift"] == lift]
        if d.empty:
            _empty_panel(ax, f"no {lift} velocities")
            continue
        c = colours[LIFT_COLOURS[lift]]
        _per_lifter_lines(ax, d, c, markers=True)
        if d["pct_1rm"].nunique() >= 2:
            b, a = np.polyfit(d["pct_1rm"], d["value"], 1)
            xs = np.array([d["pct_1rm"].min(), d["pct_1rm"].max()])
            ax.plot(
                xs, a + b * xs, "k--", lw=1.8, label=f"all reps: {b * PCT_STEP:+.3f} per 10 %1RM"
            )
            ax.legend(frameon=False, fontsize=8, loc="upper right")
        ax.set_title(lift)
        ax.set_xlabel("load (%1RM)")
        ax.set_ylabel("mean concentric velocity (body heights/s)")
    fig.suptitle("Load-velocity profiles (one line per lifter)")
    return fig, _counts(d_all)
