"""SPM{t} of the per-lifter trunk-angle slope curves (f), read from ``spm.csv``."""

from __future__ import annotations

import numpy as np
import pandas as pd

from hipdrive.contracts.reps import LIFTS
from hipdrive.figures.style import (
    LIFT_COLOURS,
    _colours,
    _empty_panel,
    _message_figure,
    _subplots,
    _suptitle,
    _title,
)


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
    counts = {"n_lifters": 0, "n_reps": 0, "by_lift": {}}
    title = "Where in the ascent does load change the back angle? (SPM)"
    if not lifts:
        fig, _ = _message_figure("No trunk-angle curves for SPM in this study.", title)
        return fig, counts
    fig, axes = _subplots(len(lifts), nrows=2, height=2.9)
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
            _title(top, f"{lift} (n = {j} lifters)")
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
        bottom.set_xlabel("ascent (% of time, bottom to lockout)")
        if k == 0:
            bottom.set_ylabel("SPM{t}")
        bottom.set_xlim(0, 100)
        bottom.legend(frameon=False, fontsize=8, loc="best")
    _suptitle(fig, title)
    return fig, counts
