"""Sticking region vs load (c): how often, and where in the ascent."""

from __future__ import annotations

import numpy as np
import pandas as pd

from hipdrive.contracts.params import HEAVY_PCT_1RM
from hipdrive.contracts.reps import LIFTS
from hipdrive.figures.style import (
    LIFT_COLOURS,
    MIN_LIFTERS_BAND,
    _colours,
    _fitting_legend,
    _message_figure,
    _subplots,
    _suptitle,
    _title,
    pct_bin,
)
from hipdrive.figures.subsets import _counts, _used

TITLE = "Sticking region vs load"
N_BOOT = 500
"""Lifter resamples of the bootstrap CI of the share (a figure, not a test: 500 suffice)."""


def _bin_means(d: pd.DataFrame, keys: list[str], column: str) -> pd.DataFrame:
    """Mean load and ``column`` per ``keys`` x 5-%1RM bin, ordered by load."""
    return (
        d.assign(bin=pct_bin(d["pct_1rm"]))
        .groupby([*keys, "bin"], sort=True)[["pct_1rm", column]]
        .mean()
        .reset_index()
    )


def _bootstrap_ci(values: np.ndarray, rng: np.random.Generator) -> tuple[float, float]:
    """95% percentile CI of the mean, lifters resampled."""
    idx = rng.integers(0, len(values), (N_BOOT, len(values)))
    return tuple(np.percentile(values[idx].mean(axis=1), [2.5, 97.5]))


def _share_panel(ax, per_lifter: pd.DataFrame, colour) -> str:
    """Mean share over lifters per bin, with a bootstrap CI or, from few lifters, each lifter."""
    per_bin = per_lifter.groupby("bin", sort=True)
    x = per_bin["pct_1rm"].mean().to_numpy()
    y = per_bin["present"].mean().to_numpy()
    if per_lifter["lifter_id"].nunique() < MIN_LIFTERS_BAND:
        for _, one in per_lifter.groupby("lifter_id"):
            ax.plot(one["pct_1rm"], one["present"], color=colour, lw=0.7, alpha=0.6)
        kind = "lifters"
    else:
        rng = np.random.default_rng(0)
        ci = np.array([_bootstrap_ci(g["present"].to_numpy(), rng) for _, g in per_bin])
        ax.fill_between(x, ci[:, 0], ci[:, 1], color=colour, alpha=0.2, lw=0)
        kind = "ci"
    ax.plot(x, y, color=colour, lw=2, marker="o", ms=4)
    return kind


def plot_sticking_vs_load(reps: pd.DataFrame, *, heavy_pct_1rm: float = HEAVY_PCT_1RM):
    """(c) Sticking region vs load: share of reps with one, and where it falls.

    Left: per 5 %1RM bin, the share of a lifter's reps with a sticking region
    (v_max1 -> v_min -> v_max2 of upward bar velocity; van den Tillaar &
    Ettema 2009, doi:10.1123/ijspp.4.2.161; Larsen et al. 2021,
    doi:10.3389/fspor.2021.632356), mean over lifters with a bootstrap 95% CI
    over lifters, or each lifter's line below
    :data:`~hipdrive.figures.style.MIN_LIFTERS_BAND` lifters. Right: time of
    v_min as % of the ascent, reps with a sticking region only, and their mean
    per bin. The dotted line marks the heavy threshold.
    """
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    used = reps[reps["used"]]
    counts = _counts(used)
    if "sticking_present" not in used.columns or used.empty:
        fig, _ = _message_figure("No sticking-region data in this study.", TITLE)
        return fig, counts
    lifts = [lift for lift in LIFTS if (used["lift"] == lift).any()]
    colours = {lift: _colours()[LIFT_COLOURS[lift]] for lift in lifts}
    fig, axes = _subplots(2, width=4.6)
    share, where = axes[0]
    pres = used.assign(present=used["sticking_present"].fillna(False).astype(float))
    per_lifter = _bin_means(pres, ["lift", "lifter_id"], "present")
    kinds = {
        _share_panel(share, per_lifter[per_lifter["lift"] == lift], colours[lift]) for lift in lifts
    }
    share.set_ylim(-0.02, 1.02)
    share.set_ylabel("reps with a sticking region (share)")
    _title(share, "How often")
    pos = _used(reps, "sticking_pct_ascent")
    if pos.empty:
        where.text(0.5, 0.5, "no reps with a sticking region", ha="center", va="center",
                   transform=where.transAxes, color="0.3")  # fmt: skip
    jitter = np.random.default_rng(0).uniform(-0.8, 0.8, len(pos))
    for k, lift in enumerate(lifts):
        d = pos[pos["lift"] == lift]
        if d.empty:
            continue
        shift = (k - (len(lifts) - 1) / 2) * 0.8  # side by side when both lifts share a bin
        where.scatter(d["pct_1rm"] + shift + jitter[pos["lift"].to_numpy() == lift], d["value"],
                      s=6, color=colours[lift], alpha=0.35, lw=0, rasterized=True)  # fmt: skip
        m = _bin_means(d, [], "value")
        where.plot(m["pct_1rm"] + shift, m["value"], color=colours[lift], lw=2, marker="D", ms=5)
    where.set_ylim(0, 100)
    where.set_ylabel("v_min (% of ascent time)")
    _title(where, "Where in the ascent (reps with one)")
    for ax in axes[0]:
        ax.set_xlabel("load (%1RM)")
        ax.axvline(heavy_pct_1rm, color="0.5", ls=":", lw=1)
    handles = [
        Line2D([], [], color=colours[lift], lw=2, marker="o", ms=4, label=lift) for lift in lifts
    ]
    if "ci" in kinds:
        handles.append(Patch(color="0.6", alpha=0.4, lw=0, label="95% CI over lifters"))
    if "lifters" in kinds:
        text = f"one lifter (< {MIN_LIFTERS_BAND} lifters)"
        handles.append(Line2D([], [], color="0.4", lw=0.7, alpha=0.7, label=text))
    handles.append(
        Line2D([], [], color="0.5", ls=":", lw=1, label=f"heavy ({heavy_pct_1rm:g} %1RM)")
    )
    _fitting_legend(fig, handles, [h.get_label() for h in handles], ncols=len(handles))
    _suptitle(fig, TITLE)
    return fig, counts
