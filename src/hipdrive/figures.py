"""The report figures: one seaborn style, colour-blind-safe, PNG + PDF.

Eight figures, each drawn by a ``plot_<name>`` function that takes tables and
returns ``(figure, counts)``; :func:`plot_all` draws them all from the
collected tables and the ``fit-models`` output folder, as the
``hipdrive plot-figures`` command does:

====================== ===========================================================
name                   content
====================== ===========================================================
trunk_curves_by_load   mean trunk-angle curves over the ascent by %1RM band, 95% CI
hip_lead_vs_load       primary hip-lead index vs %1RM, per-lifter lines, model fit
sticking_vs_load       sticking-region presence and position vs load
load_velocity          load-velocity profile per lifter
moment_arm_ratio_curves hip/knee moment-arm ratio through the ascent by load band
spm_trunk_angle        SPM{t} of the per-lifter trunk-angle slope curves
deadlift_hip_shoot     deadlift hip-shoot index vs load
slope_forest           per-lifter slopes of the primary index (forest plot)
====================== ===========================================================

Captions: the Snakemake report uses the static RST captions in
``workflow/report/{name}.rst``; each includes ``{name}.counts.rst``, a one-line
RST paragraph with the numbers of lifters and reps that this module writes next
to the figure (the same numbers are in ``figure_counts.json``).

Every figure degrades to a panel that says why it is empty (no deadlifts, too
few lifters for SPM, no curves) instead of failing.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd

from hipdrive.contracts.curves import curve_matrix
from hipdrive.contracts.files import atomic_path, atomic_write_bytes
from hipdrive.contracts.params import HEAVY_PCT_1RM
from hipdrive.contracts.reps import LIFTS, PRIMARY_METRIC, validate_reps
from hipdrive.contracts.results import PCT_STEP, read_stats_table
from hipdrive.errors import InputError

FIGURES = (
    "trunk_curves_by_load",
    "hip_lead_vs_load",
    "sticking_vs_load",
    "load_velocity",
    "moment_arm_ratio_curves",
    "spm_trunk_angle",
    "deadlift_hip_shoot",
    "slope_forest",
)
"""Figure names, in report order; files are ``{name}.png`` / ``{name}.pdf``."""

CURVE_VARIABLES_USED = ("trunk_angle_deg", "moment_arm_ratio")
"""Curve variables the figures read (ascent phase)."""

LOAD_BANDS = (0.0, 70.0, 80.0, 90.0, np.inf)
"""Edges of the %1RM bands of the curve figures: <70, 70-79, 80-89, >=90."""

PALETTE = "colorblind"
"""seaborn's colour-blind-safe palette for lifts (after Wong 2011, doi:10.1038/nmeth.1618);
ordered load bands use viridis (perceptually uniform, colour-blind safe)."""

LIFT_COLOURS = {"squat": 0, "deadlift": 1}

MAX_FOREST_LABELS = 40
"""Above this many lifters the forest plot drops the lifter labels."""


@contextmanager
def figure_style() -> Iterator[None]:
    """The one style of every hipdrive figure (seaborn ``ticks``, paper context)."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt
    import seaborn as sns

    rc = {
        **sns.axes_style("ticks"),
        **sns.plotting_context("paper", font_scale=1.1),
        "axes.prop_cycle": matplotlib.cycler(color=sns.color_palette(PALETTE)),
        "figure.dpi": 100,
        "savefig.dpi": 150,
        "axes.spines.top": False,
        "axes.spines.right": False,
    }
    with plt.rc_context(rc):
        yield


def _colours(n: int | None = None) -> list:
    import seaborn as sns

    return sns.color_palette(PALETTE, n)


def _band_colours() -> list:
    """Ordinal colours for the load bands: viridis, perceptually uniform and colour-blind safe."""
    import seaborn as sns

    return sns.color_palette("viridis", len(LOAD_BANDS) - 1)


def _band_labels() -> list[str]:
    labels = []
    for lo, hi in zip(LOAD_BANDS[:-1], LOAD_BANDS[1:], strict=True):
        if lo == 0:
            labels.append(f"<{hi:g}%")
        elif np.isinf(hi):
            labels.append(f">={lo:g}%")
        else:
            labels.append(f"{lo:g}-{hi - 1:g}%")
    return labels


def load_band(pct_1rm: pd.Series | np.ndarray) -> pd.Categorical:
    """%1RM bands of :data:`LOAD_BANDS` as an ordered categorical."""
    return pd.cut(np.asarray(pct_1rm, float), list(LOAD_BANDS), right=False, labels=_band_labels())


def _empty_panel(ax, message: str) -> None:
    ax.text(
        0.5,
        0.5,
        message,
        ha="center",
        va="center",
        transform=ax.transAxes,
        wrap=True,
        fontsize=11,
        color="0.3",
    )
    ax.set_xticks([])
    ax.set_yticks([])
    for s in ax.spines.values():
        s.set_visible(False)


def _counts(d: pd.DataFrame) -> dict:
    by_lift = {
        lift: {
            "n_lifters": int(d.loc[d["lift"] == lift, "lifter_id"].nunique()),
            "n_reps": int((d["lift"] == lift).sum()),
        }
        for lift in LIFTS
        if (d["lift"] == lift).any()
    }
    return {"n_lifters": int(d["lifter_id"].nunique()), "n_reps": len(d), "by_lift": by_lift}


def _lifts_present(d: pd.DataFrame) -> list[str]:
    present = [lift for lift in LIFTS if (d["lift"] == lift).any()]
    return present or ["squat"]


def _subplots(n: int, *, width: float = 4.2, height: float = 3.4, nrows: int = 1, sharey=False):
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(
        nrows,
        n,
        figsize=(width * n, height * nrows),
        squeeze=False,
        sharey=sharey,
        layout="constrained",
    )
    return fig, axes


def _used(reps: pd.DataFrame, column: str) -> pd.DataFrame:
    if column not in reps.columns:
        return reps.iloc[0:0]
    v = pd.to_numeric(reps[column], errors="coerce").astype(float)
    keep = reps["used"] & np.isfinite(v)
    # v[keep], not v: a column from a longer Series turns an empty frame into NaN rows
    return reps[keep].assign(value=v[keep])


# ---------------------------------------------------------------------------
# curve figures (a, e)


def _band_curve_summary(index: pd.DataFrame, values: np.ndarray) -> pd.DataFrame:
    """Mean curve per lift x load band: lifter means first, then mean and t-CI over lifters.

    Missing nodes (NaN) are skipped node by node, so a curve with a gap still
    counts where it has values; the CI at a node uses the lifters with a value
    there.
    """
    from scipy import stats as sps

    df = pd.DataFrame(values)
    df["lift"] = index["lift"].to_numpy()
    df["band"] = load_band(index["pct_1rm"])
    df["lifter_id"] = index["lifter_id"].to_numpy()
    per_lifter = df.groupby(["lift", "band", "lifter_id"], observed=True).mean()
    g = per_lifter.groupby(level=["lift", "band"], observed=True)
    mean, sd = g.mean(), g.std(ddof=1)
    n_node = g.count().to_numpy().astype(float)
    n = g.size()
    with np.errstate(invalid="ignore", divide="ignore"):
        q = sps.t.ppf(0.975, np.maximum(n_node - 1, 1))
        half = sd.to_numpy() * q / np.sqrt(n_node)
    half[n_node < 2] = np.nan
    rows = []
    for k, (lift, band) in enumerate(mean.index):
        rows.append(
            pd.DataFrame(
                {
                    "lift": lift,
                    "band": band,
                    "pct": np.arange(values.shape[1]),
                    "mean": mean.to_numpy()[k],
                    "lo": mean.to_numpy()[k] - half[k],
                    "hi": mean.to_numpy()[k] + half[k],
                    "n_lifters": int(n.to_numpy()[k]),
                }
            )
        )
    return pd.concat(rows, ignore_index=True) if rows else pd.DataFrame()


def _plot_band_curves(
    reps: pd.DataFrame,
    curves: pd.DataFrame | None,
    *,
    variable: str,
    ylabel: str,
    title: str,
    geometric: bool = False,
):
    lifts = _lifts_present(reps[reps["used"]])
    fig, axes = _subplots(len(lifts), sharey=False)
    counts = {"n_lifters": 0, "n_reps": 0, "by_lift": {}}
    if curves is None or curves.empty:
        for ax in axes[0]:
            _empty_panel(ax, "no curves table given")
        return fig, counts
    index, values = curve_matrix(
        curves, variable=variable, phase="ascent", reps=reps, complete=False
    )
    counts = _counts(index)
    finite = values[np.isfinite(values)]
    log = geometric and finite.size > 0 and bool(np.all(finite > 0))
    if log:
        values = np.log(values)
    summary = _band_curve_summary(index, values) if len(index) else pd.DataFrame()
    if log and len(summary):
        summary[["mean", "lo", "hi"]] = np.exp(summary[["mean", "lo", "hi"]])
    colours = dict(zip(_band_labels(), _band_colours(), strict=True))
    for ax, lift in zip(axes[0], lifts, strict=True):
        s = summary[summary["lift"] == lift] if len(summary) else summary
        if s.empty:
            _empty_panel(  # say why: load bands need %1RM, and only model-ready reps count
                ax, f"no {lift} {variable} curves of usable reps\n(complete, quality OK, known %1RM)"
            )
            continue
        for band in _band_labels():
            b = s[s["band"] == band]
            if b.empty:
                continue
            ax.plot(
                b["pct"],
                b["mean"],
                color=colours[band],
                label=f"{band} (n={b['n_lifters'].iloc[0]})",
            )
            ax.fill_between(b["pct"], b["lo"], b["hi"], color=colours[band], alpha=0.2, lw=0)
        # robust limits: a ratio with a near-zero denominator (moment arms) can
        # spike at single nodes and would flatten everything else
        lims = np.nanpercentile(s[["mean", "lo", "hi"]].to_numpy(float), [1, 99])
        if log:
            ax.set_yscale("log")
            if np.all(np.isfinite(lims)) and lims[1] > lims[0]:
                ax.set_ylim(lims[0] / 1.15, lims[1] * 1.15)
        elif np.all(np.isfinite(lims)) and lims[1] > lims[0]:
            pad = 0.08 * (lims[1] - lims[0])
            ax.set_ylim(lims[0] - pad, lims[1] + pad)
        ax.set_title(f"{lift}")
        ax.set_xlabel("ascent (% of time, bottom -> lockout)")
        if ax is axes[0, 0]:
            ax.set_ylabel(ylabel)
        ax.set_xlim(0, 100)
        ax.legend(title="%1RM band (lifters)", frameon=False, fontsize=8, loc="upper right")
    fig.suptitle(title)
    return fig, counts


def plot_trunk_curves_by_load(reps: pd.DataFrame, curves: pd.DataFrame | None):
    """(a) Mean trunk-angle curve through the ascent per %1RM band, 95% CI over lifters.

    Parameters
    ----------
    reps : pandas.DataFrame
        Validated reps table (only ``used`` reps are drawn).
    curves : pandas.DataFrame or None
        Long curves table (``trunk_angle_deg``, ascent).

    Returns
    -------
    figure : matplotlib.figure.Figure
    counts : dict
        ``n_lifters``, ``n_reps`` (curves drawn) and the same per lift.

    Notes
    -----
    Trunk angle = mid-hip -> mid-shoulder segment from vertical, 0 = upright
    (docs/definitions.md, "Trunk angle"); time normalised to 101 nodes from the
    bottom to lockout. Each lifter's curves are averaged within a band first, so the CI
    (``mean +/- t_{0.975, n-1} sd / sqrt(n)``) is over lifters, not reps.
    """
    return _plot_band_curves(
        reps,
        curves,
        variable="trunk_angle_deg",
        ylabel="trunk angle from vertical (deg)",
        title="Trunk angle through the ascent by load",
    )


def plot_moment_arm_ratio_curves(reps: pd.DataFrame, curves: pd.DataFrame | None):
    """(e) Hip/knee moment-arm ratio through the ascent per %1RM band, 95% CI over lifters.

    The moment arm of a joint is the horizontal distance from the bar line to
    the joint (body heights); their ratio > 1 means the hips carry the longer
    lever (docs/definitions.md, "Moment arms": moment = weight x moment arm). Summaries as in
    :func:`plot_trunk_curves_by_load`, but on the log scale (geometric means
    and their CIs, log y axis) when every value is positive: a ratio is
    right-skewed and explodes when the knee moment arm nears 0, so an
    arithmetic mean would be dominated by a few nodes.
    """
    return _plot_band_curves(
        reps,
        curves,
        variable="moment_arm_ratio",
        ylabel="hip / knee moment arm\n(ratio, geometric mean)",
        title="Moment-arm ratio through the ascent by load",
        geometric=True,
    )


# ---------------------------------------------------------------------------
# hip lead, deadlift hip shoot, velocity (b, d, g)


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


# ---------------------------------------------------------------------------
# sticking region (c)


def plot_sticking_vs_load(reps: pd.DataFrame, *, heavy_pct_1rm: float = HEAVY_PCT_1RM):
    """(c) Sticking region vs load: share of reps with one, and where it falls.

    Left: per load, the share of a lifter's reps with a sticking region
    (v_max1 -> v_min -> v_max2 of upward bar velocity; van den Tillaar &
    Ettema 2009, doi:10.1123/ijspp.4.2.161; Larsen et al. 2021,
    doi:10.3389/fspor.2021.632356), mean over lifters with a 95% CI over
    lifters. Right: time of v_min as % of the ascent, reps with a sticking
    region only. The dotted line marks the heavy threshold.
    """
    import seaborn as sns

    lifts = _lifts_present(reps[reps["used"]])
    fig, axes = _subplots(2, width=4.6)
    pres = reps[reps["used"]].copy()
    counts = _counts(pres)
    if "sticking_present" not in pres.columns or pres.empty:
        _empty_panel(axes[0, 0], "no sticking-region data")
        _empty_panel(axes[0, 1], "no sticking-region data")
        return fig, counts
    pres["present"] = pres["sticking_present"].fillna(False).astype(float)
    per_lifter = (
        pres.groupby(["lift", "lifter_id", "pct_1rm"], sort=True)["present"].mean().reset_index()
    )
    palette = {lift: _colours()[LIFT_COLOURS[lift]] for lift in lifts}
    sns.lineplot(
        per_lifter,
        x="pct_1rm",
        y="present",
        hue="lift",
        hue_order=lifts,
        palette=palette,
        errorbar=("ci", 95),
        n_boot=500,
        seed=0,
        marker="o",
        ax=axes[0, 0],
    )
    axes[0, 0].set_ylim(-0.02, 1.02)
    axes[0, 0].set_xlabel("load (%1RM)")
    axes[0, 0].set_ylabel("reps with a sticking region (share)")
    axes[0, 0].axvline(heavy_pct_1rm, color="0.5", ls=":", lw=1)
    pos = _used(reps, "sticking_pct_ascent")
    if pos.empty:
        _empty_panel(axes[0, 1], "no reps with a sticking region")
    else:
        sns.stripplot(
            pos,
            x="pct_1rm",
            y="value",
            hue="lift",
            hue_order=lifts,
            palette=palette,
            dodge=len(lifts) > 1,
            alpha=0.35,
            size=2.5,
            native_scale=True,
            legend=False,
            rasterized=True,
            ax=axes[0, 1],
        )
        sns.pointplot(
            pos,
            x="pct_1rm",
            y="value",
            hue="lift",
            hue_order=lifts,
            palette=palette,
            dodge=0.4 if len(lifts) > 1 else False,
            native_scale=True,
            errorbar=None,
            markers="D",
            linestyles="-",
            ax=axes[0, 1],
        )
        axes[0, 1].set_xlabel("load (%1RM)")
        axes[0, 1].set_ylabel("sticking point, v_min (% of ascent time)")
        axes[0, 1].set_ylim(0, 100)
    fig.suptitle("Sticking region vs load")
    return fig, counts


# ---------------------------------------------------------------------------
# SPM (f) and forest (h)


def plot_spm_trunk_angle(spm: pd.DataFrame | None):
    """(f) SPM{t} of per-lifter trunk-angle slope curves, with the RFT threshold.

    Top: mean (+/- SD over lifters) slope of the trunk angle on load at each
    ascent node (deg per 10 %1RM). Bottom: the SPM t statistic and the critical
    t (dashed) from random field theory; shaded where ``|t|`` exceeds it, i.e.
    where in the ascent load changes the back angle (Pataky 2010,
    doi:10.1016/j.jbiomech.2010.03.008). Lifts whose status is not "ok" show
    the reason (e.g. "too few lifters for SPM").
    """
    lifts = sorted(spm["lift"].unique(), key=LIFTS.index) if spm is not None and len(spm) else []
    n = max(len(lifts), 1)
    fig, axes = _subplots(n, nrows=2, height=2.9)
    counts = {"n_lifters": 0, "n_reps": 0, "by_lift": {}}
    if not lifts:
        for ax in axes[:, 0]:
            _empty_panel(ax, "no trunk-angle curves for SPM")
        return fig, counts
    colours = _colours()
    for k, lift in enumerate(lifts):
        s = spm[spm["lift"] == lift].sort_values("pct")
        status = str(s["status"].iloc[0])
        j = int(s["n_lifters"].iloc[0])
        counts["by_lift"][lift] = {"n_lifters": j}
        counts["n_lifters"] += j
        top, bottom = axes[0, k], axes[1, k]
        c = colours[LIFT_COLOURS[lift]]
        if np.isfinite(s["mean_slope_per_10pct"]).any():
            top.plot(s["pct"], s["mean_slope_per_10pct"], color=c)
            sd = s["sd_slope_per_10pct"].fillna(0)
            top.fill_between(
                s["pct"],
                s["mean_slope_per_10pct"] - sd,
                s["mean_slope_per_10pct"] + sd,
                color=c,
                alpha=0.2,
                lw=0,
            )
            top.axhline(0, color="0.4", lw=0.8, ls="--")
            if k == 0:
                top.set_ylabel("trunk-angle slope\n(deg per 10 %1RM)")
            top.set_title(f"{lift} (n = {j} lifters)")
            top.set_xlim(0, 100)
        else:
            _empty_panel(top, f"{lift}: no lifter with >= 2 loads")
        if status != "ok":
            _empty_panel(bottom, f"{lift}: {status}")
            continue
        t, tc = s["t"].to_numpy(), float(s["t_critical"].iloc[0])
        bottom.plot(s["pct"], t, color="k")
        bottom.axhline(tc, color="C3", ls="--", lw=1, label=f"critical t = +/-{tc:.2f}")
        bottom.axhline(-tc, color="C3", ls="--", lw=1)
        bottom.fill_between(
            s["pct"], t, np.sign(t) * tc, where=np.abs(t) > tc, color="C3", alpha=0.3, lw=0
        )
        bottom.set_xlabel("ascent (% of time, bottom -> lockout)")
        if k == 0:
            bottom.set_ylabel("SPM{t}")
        bottom.set_xlim(0, 100)
        bottom.legend(frameon=False, fontsize=8, loc="upper right")
    fig.suptitle("Where in the ascent does load change the back angle? (SPM)")
    return fig, counts


def plot_slope_forest(slopes: pd.DataFrame | None, models: pd.DataFrame | None = None):
    """(h) Forest plot of per-lifter OLS slopes of the primary hip-lead index.

    Each row is one lifter: slope of the primary index on %1RM (deg per
    10 %1RM) with its 95% t interval (:func:`hipdrive.stats.lifter_slopes`);
    the shaded band is the mixed-model fixed slope with its 95% CI.
    """
    s_all = pd.DataFrame() if slopes is None or slopes.empty else slopes
    if len(s_all):
        s_all = s_all[(s_all["metric"] == PRIMARY_METRIC) & np.isfinite(s_all["slope_per_10pct"])]
    lifts = sorted(s_all["lift"].unique(), key=LIFTS.index) if len(s_all) else ["squat"]
    n_rows = max((s_all["lift"] == lift).sum() for lift in lifts) if len(s_all) else 1
    height = max(2.5, 0.22 * min(n_rows, MAX_FOREST_LABELS) + 1.2)
    fig, axes = _subplots(len(lifts), width=4.2, height=height)
    colours = _colours()
    counts = {"n_lifters": 0, "n_reps": 0, "by_lift": {}}
    for ax, lift in zip(axes[0], lifts, strict=True):
        s = s_all[s_all["lift"] == lift].sort_values("slope_per_10pct") if len(s_all) else s_all
        if s.empty:
            _empty_panel(ax, "no lifter with two or more loads")
            continue
        counts["by_lift"][lift] = {"n_lifters": len(s), "n_reps": int(s["n_reps"].sum())}
        counts["n_lifters"] += len(s)
        counts["n_reps"] += int(s["n_reps"].sum())
        y = np.arange(len(s))
        c = colours[LIFT_COLOURS[lift]]
        ax.hlines(y, s["ci_low"], s["ci_high"], color=c, lw=1)
        ax.scatter(s["slope_per_10pct"], y, color=c, s=14, zorder=3)
        if len(s) <= MAX_FOREST_LABELS:
            ax.set_yticks(y, s["lifter_id"].astype(str), fontsize=7 if len(s) > 25 else 9)
        else:
            ax.set_yticks([])
        ax.axvline(0, color="0.4", lw=0.8, ls="--")
        if models is not None and len(models):
            r = models[(models["metric"] == PRIMARY_METRIC) & (models["lift"] == lift)]
            if len(r) and np.isfinite(r["slope_per_10pct"].iloc[0]):
                r = r.iloc[0]
                ax.axvspan(
                    r["ci_low"],
                    r["ci_high"],
                    color="k",
                    alpha=0.12,
                    lw=0,
                    label="mixed model 95% CI",
                )
                ax.axvline(r["slope_per_10pct"], color="k", lw=1.5, label="mixed model")
                ax.legend(frameon=False, fontsize=8, loc="lower right")
        ax.set_title(lift)
        ax.set_xlabel("hip-lead slope (deg per 10 %1RM)")
        ax.set_ylabel("lifter (sorted by slope)")
    fig.suptitle("Per-lifter slopes of the primary hip-lead index")
    return fig, counts


# ---------------------------------------------------------------------------
# all figures


def counts_rst(name: str, counts: dict) -> str:
    """One RST paragraph naming the lifters and reps a figure rests on."""
    parts = [f"**{counts.get('n_lifters', 0)} lifters**"]
    if counts.get("n_reps"):
        parts.append(f"**{counts['n_reps']} reps**")
    text = "This figure rests on " + " and ".join(parts)
    by = counts.get("by_lift") or {}
    if by:
        detail = "; ".join(
            f"{lift}: {v.get('n_lifters', 0)} lifters"
            + (f", {v['n_reps']} reps" if v.get("n_reps") else "")
            for lift, v in by.items()
        )
        text += f" ({detail})"
    note = counts.get("note")
    return text + "." + (f" {note}" if note else "") + "\n"


def save_figure(fig, out_dir: Path, name: str) -> list[Path]:
    """Write ``{name}.png`` and ``{name}.pdf`` (atomically) and close the figure."""
    import matplotlib.pyplot as plt

    paths = []
    for ext in ("png", "pdf"):
        path = out_dir / f"{name}.{ext}"
        with atomic_path(path) as tmp:
            fig.savefig(tmp, format=ext)
        paths.append(path)
    plt.close(fig)
    return paths


def plot_all(
    reps: pd.DataFrame,
    curves: pd.DataFrame | None,
    *,
    stats_dir: str | Path,
    out_dir: str | Path,
    heavy_pct_1rm: float = HEAVY_PCT_1RM,
    workers: int = 2,
) -> dict[str, dict]:
    """Draw the eight figures; write PNG, PDF and ``.counts.rst`` for each.

    Parameters
    ----------
    reps : pandas.DataFrame
        Collected reps table (validated here if needed).
    curves : pandas.DataFrame or None
        Long curves table (ascent rows of :data:`CURVE_VARIABLES_USED` suffice).
    stats_dir : str or Path
        Output folder of ``hipdrive fit-models`` (``models.csv``,
        ``lifter_slopes.csv``, ``spm.csv``); missing files give empty panels.
    out_dir : str or Path
        Where to write ``{name}.png``, ``{name}.pdf``, ``{name}.counts.rst`` and
        ``figure_counts.json``.
    heavy_pct_1rm : float
        Heavy threshold marked in the sticking figure.
    workers : int
        Processes drawing figures in parallel (forked, so the tables are not
        copied; 1 = in this process).

    Returns
    -------
    dict
        Counts per figure name (as in ``figure_counts.json``).
    """
    if "used" not in reps.columns:
        reps = validate_reps(reps)
    stats_dir, out = Path(stats_dir), Path(out_dir)
    if not stats_dir.is_dir():
        raise InputError(f"{stats_dir}: fit-models output folder not found")
    out.mkdir(parents=True, exist_ok=True)
    models = read_stats_table(stats_dir / "models.csv")
    slopes = read_stats_table(stats_dir / "lifter_slopes.csv")
    spm = read_stats_table(stats_dir / "spm.csv")
    if slopes is not None and len(slopes):
        slopes["lifter_id"] = slopes["lifter_id"].astype(str)
    drawers = {
        "trunk_curves_by_load": lambda: plot_trunk_curves_by_load(reps, curves),
        "hip_lead_vs_load": lambda: plot_hip_lead_vs_load(reps, models),
        "sticking_vs_load": lambda: plot_sticking_vs_load(reps, heavy_pct_1rm=heavy_pct_1rm),
        "load_velocity": lambda: plot_load_velocity(reps),
        "moment_arm_ratio_curves": lambda: plot_moment_arm_ratio_curves(reps, curves),
        "spm_trunk_angle": lambda: plot_spm_trunk_angle(spm),
        "deadlift_hip_shoot": lambda: plot_deadlift_hip_shoot(reps, models),
        "slope_forest": lambda: plot_slope_forest(slopes, models),
    }
    state = {"drawers": drawers, "out": out, "spm": spm}
    if workers > 1 and hasattr(os, "fork"):
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        # fork: the workers inherit the tables; only figure names travel
        _FIGURE_STATE.update(state)
        try:
            ctx = multiprocessing.get_context("fork")
            with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
                done = dict(pool.map(_draw_and_save, _HEAVY_FIRST))
        finally:
            _FIGURE_STATE.clear()
    else:
        done = dict(_draw_and_save(name, state) for name in FIGURES)
    all_counts = {name: done[name] for name in FIGURES}
    atomic_write_bytes(json.dumps(all_counts, indent=2).encode(), out / "figure_counts.json")
    return all_counts


_FIGURE_STATE: dict = {}
_HEAVY_FIRST = (
    "sticking_vs_load",
    "trunk_curves_by_load",
    "moment_arm_ratio_curves",
    "slope_forest",
    "hip_lead_vs_load",
    "load_velocity",
    "deadlift_hip_shoot",
    "spm_trunk_angle",
)


def _draw_and_save(name: str, state: dict | None = None) -> tuple[str, dict]:
    """Draw one figure, save PNG + PDF + counts caption; return ``(name, counts)``."""
    state = _FIGURE_STATE if state is None else state
    out, spm = state["out"], state["spm"]
    with figure_style():
        fig, counts = state["drawers"][name]()
        save_figure(fig, out, name)
    if name == "spm_trunk_angle" and spm is not None and len(spm):
        statuses = spm.groupby("lift")["status"].first()
        bad = [f"{lift}: {st}" for lift, st in statuses.items() if st != "ok"]
        if bad:
            counts["note"] = "Not tested: " + "; ".join(bad) + "."
    if name == "deadlift_hip_shoot" and not counts["n_reps"]:
        counts["note"] = "There are no deadlift reps in this study."
    atomic_write_bytes(counts_rst(name, counts).encode(), out / f"{name}.counts.rst")
    return name, counts
