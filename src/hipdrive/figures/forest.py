"""Forest plot of per-lifter slopes of the primary hip-lead index (h)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from hipdrive.contracts.reps import LIFTS, PRIMARY_METRIC
from hipdrive.figures.style import (
    LIFT_COLOURS,
    _colours,
    _legend_below,
    _message_figure,
    _subplots,
    _suptitle,
    _title,
)

MAX_FOREST_LABELS = 40
"""Above this many lifters the forest plot drops the lifter labels."""


def plot_slope_forest(slopes: pd.DataFrame | None, models: pd.DataFrame | None = None):
    """(h) Forest plot of per-lifter OLS slopes of the primary hip-lead index.

    Each row is one lifter: slope of the primary index on %1RM (deg per
    10 %1RM) with its 95% t interval (:func:`hipdrive.stats.lifter_slopes`);
    the shaded band is the mixed-model fixed slope with its 95% CI.
    """
    s_all = pd.DataFrame() if slopes is None or slopes.empty else slopes
    if len(s_all):
        s_all = s_all[(s_all["metric"] == PRIMARY_METRIC) & np.isfinite(s_all["slope_per_10pct"])]
    counts = {"n_lifters": 0, "n_reps": 0, "by_lift": {}}
    title = "Per-lifter slopes of the primary hip-lead index"
    if s_all.empty:
        fig, _ = _message_figure("No lifter was recorded at two or more loads.", title)
        return fig, counts
    lifts = sorted(s_all["lift"].unique(), key=LIFTS.index)
    n_rows = max((s_all["lift"] == lift).sum() for lift in lifts)
    height = max(2.8, 0.22 * min(n_rows, MAX_FOREST_LABELS) + 1.6)  # + legend below
    fig, axes = _subplots(len(lifts), width=4.2, height=height)
    colours = _colours()
    for ax, lift in zip(axes[0], lifts, strict=True):
        s = s_all[s_all["lift"] == lift].sort_values("slope_per_10pct")
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
        _title(ax, lift)
        ax.set_xlabel("hip-lead slope (deg per 10 %1RM)")
        if ax is axes[0, 0]:
            ax.set_ylabel("lifter (sorted by slope)")
    _legend_below(fig, ncols=2)
    _suptitle(fig, title)
    return fig, counts
