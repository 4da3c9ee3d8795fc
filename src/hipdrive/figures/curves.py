"""Curves through the ascent by %1RM band: trunk angle (a) and moment-arm ratio (e)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from hipdrive.contracts.curves import curve_matrix
from hipdrive.contracts.labels import METRIC_LABELS
from hipdrive.contracts.reps import LIFTS
from hipdrive.figures.style import (
    MIN_LIFTERS_BAND,
    _band_colours,
    _band_labels,
    _fitting_legend,
    _message_figure,
    _subplots,
    _suptitle,
    _title,
    load_band,
)
from hipdrive.figures.subsets import _counts

CURVE_VARIABLES_USED = ("trunk_angle_deg", "moment_arm_ratio")
"""Curve variables the figures read (ascent phase)."""

ASCENT_LABEL = "ascent (% of time, bottom to lockout)"


def _lifter_band_curves(index: pd.DataFrame, values: np.ndarray) -> pd.DataFrame:
    """Each lifter's mean curve per lift x load band (NaN nodes skipped), one row per lifter."""
    df = pd.DataFrame(values)
    df["lift"] = index["lift"].to_numpy()
    df["band"] = load_band(index["pct_1rm"])
    df["lifter_id"] = index["lifter_id"].to_numpy()
    return df.groupby(["lift", "band", "lifter_id"], observed=True).mean()


def _band_curve_summary(per_lifter: pd.DataFrame) -> pd.DataFrame:
    """Mean curve per lift x load band over lifters, with a t-CI from enough lifters.

    Missing nodes (NaN) are skipped node by node, so a curve with a gap still
    counts where it has values; the CI at a node uses the lifters with a value
    there. Bands with fewer than :data:`MIN_LIFTERS_BAND` lifters get no CI
    (``lo``/``hi`` NaN): the figure draws their lifters instead.
    """
    from scipy import stats as sps

    g = per_lifter.groupby(level=["lift", "band"], observed=True)
    mean, sd = g.mean(), g.std(ddof=1)
    n_node = g.count().to_numpy().astype(float)
    n = g.size()
    with np.errstate(invalid="ignore", divide="ignore"):
        q = sps.t.ppf(0.975, np.maximum(n_node - 1, 1))
        half = sd.to_numpy() * q / np.sqrt(n_node)
    half[n_node < 2] = np.nan
    half[n.to_numpy() < MIN_LIFTERS_BAND] = np.nan
    rows = []
    for k, (lift, band) in enumerate(mean.index):
        rows.append(
            pd.DataFrame(
                {
                    "lift": lift,
                    "band": band,
                    "pct": np.arange(per_lifter.shape[1]),
                    "mean": mean.to_numpy()[k],
                    "lo": mean.to_numpy()[k] - half[k],
                    "hi": mean.to_numpy()[k] + half[k],
                    "n_lifters": int(n.to_numpy()[k]),
                }
            )
        )
    return pd.concat(rows, ignore_index=True) if rows else pd.DataFrame()


def _plain_log_ticks(ax) -> None:
    """Log-axis labels as plain numbers (1.4, not 1.4 x 10^0); minor ones only within a decade."""
    from matplotlib.ticker import FormatStrFormatter, NullFormatter

    lo, hi = ax.get_ylim()
    ax.yaxis.set_major_formatter(FormatStrFormatter("%g"))
    ax.yaxis.set_minor_formatter(FormatStrFormatter("%g") if hi / lo < 10 else NullFormatter())


def _band_legend(fig, bands: list[str], lifter_lines: bool, ci: bool) -> None:
    """One legend below the panels: the load bands and what lines and shading mean."""
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    colours = dict(zip(_band_labels(), _band_colours(), strict=True))
    handles = [Line2D([], [], color=colours[b], lw=2, label=f"{b} 1RM") for b in bands]
    if ci:
        handles.append(Patch(color="0.6", alpha=0.4, lw=0, label="95% CI over lifters"))
    if lifter_lines:
        text = f"one lifter (band with < {MIN_LIFTERS_BAND} lifters)"
        handles.append(Line2D([], [], color="0.4", lw=0.7, alpha=0.7, label=text))
    _fitting_legend(fig, handles, [h.get_label() for h in handles], ncols=3)


def _plot_band_curves(
    reps: pd.DataFrame,
    curves: pd.DataFrame | None,
    *,
    variable: str,
    ylabel: str,
    title: str,
    geometric: bool = False,
):
    counts = {"n_lifters": 0, "n_reps": 0, "by_lift": {}}
    if curves is None or curves.empty:
        fig, _ = _message_figure("No curves table was given.", title)
        return fig, counts
    index, values = curve_matrix(
        curves, variable=variable, phase="ascent", reps=reps, complete=False
    )
    counts = _counts(index)
    finite = values[np.isfinite(values)]
    log = geometric and finite.size > 0 and bool(np.all(finite > 0))
    if log:
        values = np.log(values)
    per_lifter = _lifter_band_curves(index, values) if len(index) else None
    summary = _band_curve_summary(per_lifter) if per_lifter is not None else pd.DataFrame()
    lifts = [lift for lift in LIFTS if len(summary) and (summary["lift"] == lift).any()]
    if not lifts:  # load bands need %1RM, and only model-ready reps count
        message = f"No {variable} curves of usable reps (complete, quality OK, known %1RM)."
        fig, _ = _message_figure(message, title)
        return fig, counts
    back = np.exp if log else (lambda v: v)
    summary[["mean", "lo", "hi"]] = back(summary[["mean", "lo", "hi"]])
    colours = dict(zip(_band_labels(), _band_colours(), strict=True))
    fig, axes = _subplots(len(lifts), sharey=False)
    drawn, lifter_lines, ci = [], False, False
    for ax, lift in zip(axes[0], lifts, strict=True):
        s = summary[summary["lift"] == lift]
        shown = [s[["mean", "lo", "hi"]].to_numpy(float).ravel()]
        for band in _band_labels():
            b = s[s["band"] == band]
            if b.empty:
                continue
            drawn.append(band)
            if b["n_lifters"].iloc[0] < MIN_LIFTERS_BAND:
                lines = back(per_lifter.loc[(lift, band)].to_numpy(float))
                ax.plot(b["pct"], lines.T, color=colours[band], lw=0.7, alpha=0.7)
                shown.append(lines.ravel())
                lifter_lines = True
            else:
                ax.fill_between(b["pct"], b["lo"], b["hi"], color=colours[band], alpha=0.2, lw=0)
                ci = True
            ax.plot(b["pct"], b["mean"], color=colours[band], lw=2)
        # robust limits: a ratio with a near-zero denominator (moment arms) can
        # spike at single nodes and would flatten everything else
        lims = np.nanpercentile(np.concatenate(shown), [1, 99])
        if log:
            ax.set_yscale("log")
            if np.all(np.isfinite(lims)) and lims[1] > lims[0]:
                ax.set_ylim(lims[0] / 1.15, lims[1] * 1.15)
            _plain_log_ticks(ax)
        elif np.all(np.isfinite(lims)) and lims[1] > lims[0]:
            pad = 0.08 * (lims[1] - lims[0])
            ax.set_ylim(lims[0] - pad, lims[1] + pad)
        _title(ax, f"{lift} ({counts['by_lift'][lift]['n_lifters']} lifters)")
        ax.set_xlabel(ASCENT_LABEL)
        if ax is axes[0, 0]:
            ax.set_ylabel(ylabel)
        ax.set_xlim(0, 100)
    _band_legend(fig, [b for b in _band_labels() if b in drawn], lifter_lines, ci)
    _suptitle(fig, title)
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
    (``mean +/- t_{0.975, n-1} sd / sqrt(n)``) is over lifters, not reps; a band
    with fewer than :data:`~hipdrive.figures.style.MIN_LIFTERS_BAND` lifters
    shows each lifter's curve instead. One panel per lift with curves.
    """
    return _plot_band_curves(
        reps,
        curves,
        variable="trunk_angle_deg",
        ylabel=METRIC_LABELS["trunk_angle_deg"],
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
        ylabel=f"{METRIC_LABELS['moment_arm_ratio']}\n(geometric mean)",
        title="Moment-arm ratio through the ascent by load",
        geometric=True,
    )
