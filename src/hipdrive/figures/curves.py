"""Curves through the ascent by %1RM band: trunk angle (a) and moment-arm ratio (e)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from hipdrive.contracts.curves import curve_matrix
from hipdrive.figures.style import _band_colours, _band_labels, _empty_panel, _subplots, load_band
from hipdrive.figures.subsets import _counts, _lifts_present

CURVE_VARIABLES_USED = ("trunk_angle_deg", "moment_arm_ratio")
"""Curve variables the figures read (ascent phase)."""


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
                ax,
                f"no {lift} {variable} curves of usable reps\n(complete, quality OK, known %1RM)",
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
