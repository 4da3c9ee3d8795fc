"""The "always" claims as shares, with cluster-bootstrap CIs (lifters resampled, not reps)."""

from __future__ import annotations

from functools import partial

import numpy as np
import pandas as pd

from hipdrive.contracts.params import ALPHA, HEAVY_PCT_1RM, MIN_LIFTERS_BOOTSTRAP, N_BOOTSTRAP, SEED
from hipdrive.contracts.reps import LIFTS, PRIMARY_METRIC
from hipdrive.stats.outcomes import _subset
from hipdrive.stats.slopes import lifter_slopes


def cluster_bootstrap_ratio(
    numerator: np.ndarray,
    denominator: np.ndarray,
    *,
    n_bootstrap: int = N_BOOTSTRAP,
    alpha: float = ALPHA,
    rng: np.random.Generator,
) -> tuple[float, float, float]:
    """Ratio ``sum(numerator) / sum(denominator)`` with a cluster-bootstrap CI.

    Parameters
    ----------
    numerator, denominator : numpy.ndarray
        One value per cluster (lifter), e.g. number of heavy reps in which the
        hips led and number of heavy reps.
    n_bootstrap : int
        Bootstrap resamples.
    alpha : float
        1 - confidence level of the percentile interval.
    rng : numpy.random.Generator
        Source of randomness (seeded by the caller).

    Returns
    -------
    estimate, ci_low, ci_high : float

    Notes
    -----
    Clusters are resampled with replacement (the first stage of the cluster
    bootstrap; Davison & Hinkley 1997, sec. 3.8, doi:10.1017/CBO9780511802843;
    Field & Welsh 2007, doi:10.1111/j.1467-9868.2007.00593.x), which keeps the
    correlation of reps within a lifter. Each resample is drawn as a vector of
    multinomial cluster counts, so all resamples are one matrix product. The
    interval is the percentile interval.
    """
    numerator = np.asarray(numerator, dtype=float)
    denominator = np.asarray(denominator, dtype=float)
    n = len(numerator)
    if n == 0 or denominator.sum() <= 0:
        return np.nan, np.nan, np.nan
    est = numerator.sum() / denominator.sum()
    if n < 2:
        return est, np.nan, np.nan
    counts = rng.multinomial(n, np.full(n, 1.0 / n), size=n_bootstrap).astype(float)
    den = counts @ denominator
    with np.errstate(invalid="ignore", divide="ignore"):
        boot = (counts @ numerator) / den
    boot = boot[den > 0]
    lo, hi = np.quantile(boot, [alpha / 2, 1 - alpha / 2])
    return float(est), float(lo), float(hi)


def _share_row(quantity, num, den, *, lift, n_bootstrap, alpha, rng, n_lifters, n_reps, definition):
    """One row of the "always" table: a lifter-bootstrapped share num/den.

    Below :data:`MIN_LIFTERS_BOOTSTRAP` lifters the share has no CI, and the row says why.
    """
    est, lo, hi = cluster_bootstrap_ratio(
        np.asarray(num, float), np.asarray(den, float),
        n_bootstrap=n_bootstrap, alpha=alpha, rng=rng,
    )  # fmt: skip
    note = ""
    if n_lifters < MIN_LIFTERS_BOOTSTRAP:
        lo = hi = np.nan
        note = (f"no CI: {n_lifters} lifter(s); a cluster bootstrap needs at least "
                f"{MIN_LIFTERS_BOOTSTRAP} to give an interval")  # fmt: skip
    return {
        "quantity": quantity, "lift": lift, "estimate": est, "ci_low": lo, "ci_high": hi,
        "n_lifters": n_lifters, "n_reps": n_reps, "definition": definition, "ci_note": note,
    }  # fmt: skip


def always_shares(
    reps: pd.DataFrame,
    slopes: pd.DataFrame | None = None,
    *,
    metric: str = PRIMARY_METRIC,
    heavy_pct_1rm: float = HEAVY_PCT_1RM,
    n_bootstrap: int = N_BOOTSTRAP,
    alpha: float = ALPHA,
    seed: int = SEED,
) -> pd.DataFrame:
    """Test the "always" claim: every lifter, every heavy rep.

    Parameters
    ----------
    reps : pandas.DataFrame
        Output of :func:`validate_reps`.
    slopes : pandas.DataFrame, optional
        Output of :func:`lifter_slopes` (computed when not given).
    metric : str
        Hip-lead index; positive = hips led.
    heavy_pct_1rm : float
        Reps at or above this %1RM are "heavy".
    n_bootstrap : int
        Cluster-bootstrap resamples.
    alpha : float
        1 - confidence level.
    seed : int
        Seed of the bootstrap.

    Returns
    -------
    pandas.DataFrame
        One row per ``quantity`` x ``lift`` (``squat``, ``deadlift``, ``all``):

        * ``share_lifters_positive_slope`` -- share of lifters whose per-lifter
          slope of ``metric`` on %1RM is > 0;
        * ``share_heavy_reps_hip_lead`` -- share of reps at >= ``heavy_pct_1rm``
          with ``metric`` > 0 (pooled over lifters);
        * ``share_lifters_always_hip_lead`` -- share of lifters with heavy reps
          in which *every* heavy rep had ``metric`` > 0.

        Columns ``quantity, lift, estimate, ci_low, ci_high, n_lifters, n_reps,
        heavy_pct_1rm, n_bootstrap, definition``. All CIs come from
        :func:`cluster_bootstrap_ratio` with lifters as clusters: for ``"all"``
        a lifter's squat and deadlift (slopes, heavy reps) are resampled
        together, and the shares are over lifter x lift units.
    """
    rng = np.random.default_rng(seed)
    if slopes is None:
        slopes = lifter_slopes(reps, metrics=[metric], alpha=alpha)
    rows = []
    for lift in (*LIFTS, "all"):
        finite = np.isfinite(slopes["slope_per_10pct"].astype(float))
        s = slopes[(slopes["metric"] == metric) & finite]
        if lift != "all":
            s = s[s["lift"] == lift]
        d = _subset(reps, metric, lift)
        if s.empty and d.empty:
            continue
        # units are lifter x lift; the bootstrap clusters are lifters (for "all" a
        # lifter's squat and deadlift units are resampled together)
        pos = s.assign(pos=(s["slope_per_10pct"] > 0).astype(float)).groupby("lifter_id")
        share = partial(_share_row, lift=lift, n_bootstrap=n_bootstrap, alpha=alpha, rng=rng)
        rows.append(
            share(
                "share_lifters_positive_slope",
                pos["pos"].sum().to_numpy(),
                pos["pos"].size().to_numpy(),
                n_lifters=pos.ngroups,
                n_reps=int(s["n_reps"].sum()) if len(s) else 0,
                definition=f"share of lifters (x lift) whose OLS slope of {metric} on %1RM is > 0",
            )
        )
        heavy = d[d["pct_1rm"] >= heavy_pct_1rm]
        per = (
            heavy.assign(lead=heavy["y"] > 0)
            .groupby(["lifter_id", "lift"])["lead"]
            .agg(["sum", "size"])
            .reset_index()
        )
        by_lifter = per.groupby("lifter_id")[["sum", "size"]].sum()
        rows.append(
            share(
                "share_heavy_reps_hip_lead",
                by_lifter["sum"],
                by_lifter["size"],
                n_lifters=len(by_lifter),
                n_reps=len(heavy),
                definition=f"share of reps at >= {heavy_pct_1rm:g} %1RM with {metric} > 0",
            )
        )
        always = per.assign(always=(per["sum"] == per["size"]).astype(float)).groupby("lifter_id")
        rows.append(
            share(
                "share_lifters_always_hip_lead",
                always["always"].sum(),
                always["always"].size(),
                n_lifters=len(by_lifter),
                n_reps=len(heavy),
                definition=f"share of lifters (x lift) in whom every rep at >= "
                f"{heavy_pct_1rm:g} %1RM had {metric} > 0",
            )
        )
    out = pd.DataFrame(
        rows,
        columns=[
            "quantity",
            "lift",
            "estimate",
            "ci_low",
            "ci_high",
            "n_lifters",
            "n_reps",
            "definition",
            "ci_note",
        ],
    )
    out.insert(7, "heavy_pct_1rm", float(heavy_pct_1rm))
    out.insert(8, "n_bootstrap", int(n_bootstrap))
    return out
