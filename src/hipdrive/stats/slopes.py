"""One ordinary least-squares slope per lifter, lift and outcome (table and forest plot)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats as sps

from hipdrive.contracts.params import ALPHA
from hipdrive.contracts.results import PCT_STEP
from hipdrive.stats.outcomes import METRICS, _subset


def lifter_slopes(
    reps: pd.DataFrame,
    *,
    metrics: Sequence[str] | None = None,
    alpha: float = ALPHA,
) -> pd.DataFrame:
    """Ordinary least-squares slope of each metric on %1RM, per lifter and lift.

    Parameters
    ----------
    reps : pandas.DataFrame
        Output of :func:`validate_reps` (``used`` reps only).
    metrics : sequence of str, optional
        Gaussian metrics of :data:`METRICS` present in ``reps`` by default.
    alpha : float
        1 - confidence level of the per-lifter t interval.

    Returns
    -------
    pandas.DataFrame
        ``lifter_id, lift, metric, n_reps, n_loads, pct_1rm_min, pct_1rm_max,
        slope_per_10pct, se, ci_low, ci_high``. The slope is
        ``sum((x - xbar)(y - ybar)) / sum((x - xbar)^2)`` with ``x`` in units of
        10 %1RM; its SE is ``sqrt(s^2 / Sxx)`` with ``s^2`` the residual variance
        on ``n - 2`` df (any regression text, e.g. Draper & Smith 1998). Lifters
        with fewer than two distinct loads get NaN (a slope needs two loads);
        with exactly two reps the CI is NaN.
    """
    if metrics is None:
        metrics = [m.column for m in METRICS if m.family == "gaussian" and m.column in reps]
    frames = []
    keys = ["lifter_id", "lift"]
    for metric in metrics:
        d = _subset(reps, metric, "all")
        if d.empty:
            continue
        d["x"] = d["pct_1rm"] / PCT_STEP
        g = d.groupby(keys, sort=True)
        d["xc"] = d["x"] - g["x"].transform("mean")
        d["yc"] = d["y"] - g["y"].transform("mean")
        d["sxy"] = d["xc"] * d["yc"]
        d["sxx"] = d["xc"] ** 2
        d["syy"] = d["yc"] ** 2
        s = d.groupby(keys, sort=True).agg(
            n_reps=("y", "size"),
            n_loads=("pct_1rm", "nunique"),
            pct_1rm_min=("pct_1rm", "min"),
            pct_1rm_max=("pct_1rm", "max"),
            sxy=("sxy", "sum"),
            sxx=("sxx", "sum"),
            syy=("syy", "sum"),
        )
        valid = (s["n_loads"] >= 2) & (s["sxx"] > 0)
        slope = np.where(valid, s["sxy"] / s["sxx"].where(valid, 1.0), np.nan)
        dof = s["n_reps"] - 2
        rss = np.clip(s["syy"] - slope * s["sxy"], 0, None)
        with np.errstate(invalid="ignore", divide="ignore"):
            se = np.where(valid & (dof > 0), np.sqrt(rss / dof.clip(lower=1) / s["sxx"]), np.nan)
            q = np.where(dof > 0, sps.t.ppf(1 - alpha / 2, dof.clip(lower=1)), np.nan)
        s["slope_per_10pct"] = slope
        s["se"] = se
        s["ci_low"] = slope - q * se
        s["ci_high"] = slope + q * se
        s["metric"] = metric
        frames.append(s.drop(columns=["sxy", "sxx", "syy"]).reset_index())
    cols = [
        "lifter_id",
        "lift",
        "metric",
        "n_reps",
        "n_loads",
        "pct_1rm_min",
        "pct_1rm_max",
        "slope_per_10pct",
        "se",
        "ci_low",
        "ci_high",
    ]
    if not frames:
        empty = pd.DataFrame(columns=cols)
        numeric = cols[3:]
        return empty.astype({c: float for c in numeric})
    return pd.concat(frames, ignore_index=True)[cols]
