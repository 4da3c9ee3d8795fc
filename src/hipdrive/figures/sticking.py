"""Sticking region vs load (c): how often, and where in the ascent."""

from __future__ import annotations

import pandas as pd

from hipdrive.contracts.params import HEAVY_PCT_1RM
from hipdrive.figures.style import LIFT_COLOURS, _colours, _empty_panel, _subplots
from hipdrive.figures.subsets import _counts, _lifts_present, _used


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
