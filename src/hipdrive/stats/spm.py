"""Statistical parametric mapping of per-lifter trunk-angle slope curves through the ascent."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from hipdrive.contracts.curves import curve_matrix
from hipdrive.contracts.params import ALPHA, MIN_LIFTERS_SPM
from hipdrive.contracts.reps import LIFTS
from hipdrive.contracts.results import PCT_STEP


def lifter_slope_curves(
    index: pd.DataFrame, values: np.ndarray, *, min_loads: int = 2
) -> tuple[pd.DataFrame, np.ndarray]:
    """Per-lifter OLS slope of each curve node on %1RM (per 10 %1RM).

    Parameters
    ----------
    index : pandas.DataFrame
        From :func:`curve_matrix` (``lifter_id``, ``pct_1rm`` per row).
    values : numpy.ndarray
        ``(n_curves, Q)``.
    min_loads : int
        Lifters with fewer distinct loads are dropped.

    Returns
    -------
    lifters : pandas.DataFrame
        ``lifter_id, n_curves, n_loads`` of the lifters kept.
    slopes : numpy.ndarray
        ``(n_lifters, Q)``: ``sum_j (x_j - xbar)(y_jq - ybar_q) / sum_j (x_j - xbar)^2``.
    """
    x = index["pct_1rm"].to_numpy(float) / PCT_STEP
    codes, uniq = pd.factorize(index["lifter_id"])
    n = len(uniq)
    count = np.bincount(codes, minlength=n).astype(float)
    xbar = np.bincount(codes, weights=x, minlength=n) / np.maximum(count, 1)
    ybar = np.zeros((n, values.shape[1]))
    np.add.at(ybar, codes, values)
    ybar /= np.maximum(count, 1)[:, None]
    xc = x - xbar[codes]
    sxx = np.bincount(codes, weights=xc**2, minlength=n)
    sxy = np.zeros_like(ybar)
    np.add.at(sxy, codes, xc[:, None] * (values - ybar[codes]))
    n_loads = index.groupby(codes)["pct_1rm"].nunique().reindex(range(n)).to_numpy()
    keep = (n_loads >= min_loads) & (sxx > 0)
    lifters = pd.DataFrame({"lifter_id": uniq, "n_curves": count.astype(int), "n_loads": n_loads})
    return lifters[keep].reset_index(drop=True), sxy[keep] / sxx[keep, None]


def spm_slope_curves(
    curves: pd.DataFrame,
    reps: pd.DataFrame | None = None,
    *,
    variable: str = "trunk_angle_deg",
    phase: str = "ascent",
    alpha: float = ALPHA,
    min_lifters: int = MIN_LIFTERS_SPM,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """SPM one-sample t test of per-lifter slope curves, per lift.

    Parameters
    ----------
    curves : pandas.DataFrame
        Long curves table.
    reps : pandas.DataFrame, optional
        Validated reps table (restricts to the ``used`` reps).
    variable, phase : str
        Curve analysed (default: trunk angle through the ascent).
    alpha : float
        Family-wise error rate over the whole curve.
    min_lifters : int
        With fewer lifters (with >= 2 loads) no test is run and the rows say
        "too few lifters for SPM".

    Returns
    -------
    nodes : pandas.DataFrame
        One row per lift x node: ``lift, variable, phase, pct,
        mean_slope_per_10pct, sd_slope_per_10pct, t, t_critical, significant,
        n_lifters, status``.
    clusters : pandas.DataFrame
        Supra-threshold clusters: ``lift, cluster, start_pct, end_pct,
        centroid_pct, extent_pct, p_value, sign``.

    Notes
    -----
    Two-level analysis (Pataky 2010, doi:10.1016/j.jbiomech.2010.03.008;
    Pataky, Robinson & Vanrenterghem 2013, doi:10.1016/j.jbiomech.2013.07.031):
    per lifter, the trunk angle at each of the 101 time-normalised ascent nodes
    is regressed on %1RM (per 10 %1RM); the J x 101 slope curves are tested
    against zero with ``spm1d.stats.ttest(Y, 0).inference(alpha,
    two_tailed=True)``; the critical t comes from random field theory on the
    estimated smoothness, so nodes with ``|t| > t_critical`` mark where in the
    ascent load changes the back angle, at family-wise rate ``alpha``.
    """
    import spm1d

    index, values = curve_matrix(curves, variable=variable, phase=phase, reps=reps)
    node_rows = []
    cluster_rows = []
    pct = np.arange(values.shape[1]) if values.size else np.arange(101)
    lifts = [lift for lift in LIFTS if (index["lift"] == lift).any()]
    for lift in lifts:
        sel = (index["lift"] == lift).to_numpy()
        lifters, slopes = lifter_slope_curves(index[sel].reset_index(drop=True), values[sel])
        j = len(lifters)
        mean = slopes.mean(axis=0) if j else np.full(len(pct), np.nan)
        sd = slopes.std(axis=0, ddof=1) if j > 1 else np.full(len(pct), np.nan)
        t = np.full(len(pct), np.nan)
        tcrit = np.nan
        sig = np.zeros(len(pct), dtype=bool)
        if j < min_lifters:
            status = f"too few lifters for SPM ({j} with >= 2 loads, need {min_lifters})"
        elif not np.all(sd > 0):
            status = "slope curves have zero variance at some node; SPM not computed"
        else:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                ti = spm1d.stats.ttest(slopes, 0).inference(alpha, two_tailed=True)
            t = np.asarray(ti.z, dtype=float)
            tcrit = float(ti.zstar)
            sig = np.abs(t) > tcrit
            status = "ok"
            for k, cl in enumerate(ti.clusters, start=1):
                start, end = cl.endpoints
                cluster_rows.append(
                    {
                        "lift": lift,
                        "cluster": k,
                        "start_pct": float(start),
                        "end_pct": float(end),
                        "centroid_pct": float(cl.centroid[0]),
                        "extent_pct": float(cl.extent),
                        "p_value": float(cl.P),
                        "sign": "positive" if cl.csign > 0 else "negative",
                    }
                )
        node_rows.append(
            pd.DataFrame(
                {
                    "lift": lift,
                    "variable": variable,
                    "phase": phase,
                    "pct": pct.astype(int),
                    "mean_slope_per_10pct": mean,
                    "sd_slope_per_10pct": sd,
                    "t": t,
                    "t_critical": tcrit,
                    "significant": sig,
                    "n_lifters": j,
                    "status": status,
                }
            )
        )
    node_cols = [
        "lift",
        "variable",
        "phase",
        "pct",
        "mean_slope_per_10pct",
        "sd_slope_per_10pct",
        "t",
        "t_critical",
        "significant",
        "n_lifters",
        "status",
    ]
    nodes = (
        pd.concat(node_rows, ignore_index=True) if node_rows else pd.DataFrame(columns=node_cols)
    )
    clusters = pd.DataFrame(
        cluster_rows,
        columns=[
            "lift",
            "cluster",
            "start_pct",
            "end_pct",
            "centroid_pct",
            "extent_pct",
            "p_value",
            "sign",
        ],
    )
    return nodes, clusters
