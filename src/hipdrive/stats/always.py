"""The "always" claims as shares, with CIs that treat lifters, not reps, as the units."""

from __future__ import annotations

from functools import partial

import numpy as np
import pandas as pd

from hipdrive.contracts.params import ALPHA, HEAVY_PCT_1RM, MIN_LIFTERS_BOOTSTRAP, N_BOOTSTRAP, SEED
from hipdrive.contracts.reps import LIFTS, PRIMARY_METRIC
from hipdrive.stats.outcomes import _subset
from hipdrive.stats.slopes import lifter_slopes


def clustered_share_interval(
    numerator: np.ndarray,
    denominator: np.ndarray,
    *,
    n_bootstrap: int = N_BOOTSTRAP,
    alpha: float = ALPHA,
    rng: np.random.Generator,
) -> tuple[float, float, float]:
    """A pooled share of reps ``sum(numerator) / sum(denominator)`` with a CI for clustered reps.

    ``numerator`` and ``denominator`` hold one value per cluster (lifter), e.g.
    heavy reps in which the hips led and heavy reps. The share's variance
    comes from the cluster bootstrap: lifters resampled with replacement, not
    reps, which keeps the correlation of reps within a lifter (Davison &
    Hinkley 1997, sec. 3.8; Field & Welsh 2007), each resample a vector of
    multinomial cluster counts so all are one matrix product;
    the interval is the Clopper-Pearson interval at the effective sample size
    that variance implies, with its degrees of freedom cut to ``lifters - 1``
    (Korn & Graubard 1998). With a dozen heterogeneous lifters the bootstrap's
    own percentile interval is too narrow (68% coverage of a 95% CI in
    ``benchmarks/bench_always.py``); this keeps its level and, at a share of
    1.0, still gives a lower bound below 1.
    """
    from scipy import stats as st
    from statsmodels.stats.proportion import proportion_confint

    numerator = np.asarray(numerator, dtype=float)
    denominator = np.asarray(denominator, dtype=float)
    n, total = len(numerator), float(denominator.sum())
    if n < 2 or total <= 0:
        est = numerator.sum() / total if total > 0 else np.nan
        return est, np.nan, np.nan
    est = float(numerator.sum() / total)
    counts = rng.multinomial(n, np.full(n, 1.0 / n), size=n_bootstrap).astype(float)
    den = counts @ denominator
    with np.errstate(invalid="ignore", divide="ignore"):
        boot = (counts @ numerator) / den
    var = float(np.var(boot[den > 0], ddof=1)) if (den > 0).sum() > 1 else 0.0
    n_eff = min(total, est * (1 - est) / var) if 0 < est < 1 and var > 0 else total
    n_eff *= (st.norm.ppf(1 - alpha / 2) / st.t.ppf(1 - alpha / 2, n - 1)) ** 2
    lo, hi = proportion_confint(est * n_eff, n_eff, alpha=alpha, method="beta")
    return est, float(min(lo, est)), float(max(hi, est))


def _share_row(quantity, num, den, *, lift, n_bootstrap, alpha, rng, n_lifters, n_reps, definition,
               per_lifter=False):  # fmt: skip
    """One row of the "always" table: a share num/den with its CI.

    ``per_lifter``: a share of lifters (each unit 0 or 1), with a Wilson score
    interval, which holds its level for a few lifters and for shares near 0 or 1
    where a percentile bootstrap collapses to [1, 1]. Otherwise a share of reps
    pooled over lifters, with the cluster bootstrap; below
    :data:`MIN_LIFTERS_BOOTSTRAP` lifters it has no CI, and the row says why.
    """
    num, den = np.asarray(num, float), np.asarray(den, float)
    if per_lifter:
        from statsmodels.stats.proportion import proportion_confint

        k, n = float(num.sum()), float(den.sum())
        est = k / n if n else np.nan
        lo, hi = proportion_confint(k, n, alpha=alpha, method="wilson") if n else (np.nan, np.nan)
        lo, hi = min(lo, est), max(hi, est)  # k = 0 or n: the bound is the estimate, not 1 - 1e-16
        return {"quantity": quantity, "lift": lift, "estimate": est, "ci_low": float(lo),
                "ci_high": float(hi), "n_lifters": n_lifters, "n_reps": n_reps,
                "definition": definition, "ci_method": "Wilson score, lifters", "ci_note": ""}  # fmt: skip
    est, lo, hi = clustered_share_interval(num, den, n_bootstrap=n_bootstrap, alpha=alpha, rng=rng)
    note = ""
    if n_lifters < MIN_LIFTERS_BOOTSTRAP:
        lo = hi = np.nan
        note = (f"no CI: {n_lifters} lifter(s); a cluster bootstrap needs at least "
                f"{MIN_LIFTERS_BOOTSTRAP} to give an interval")  # fmt: skip
    return {
        "quantity": quantity, "lift": lift, "estimate": est, "ci_low": lo, "ci_high": hi,
        "n_lifters": n_lifters, "n_reps": n_reps, "definition": definition,
        "ci_method": "Clopper-Pearson at the cluster-bootstrap effective size (Korn-Graubard)",
        "ci_note": note,
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
          in which *every* heavy rep had ``metric`` > 0;
        * ``share_lifters_mean_hip_lead`` -- share of lifters whose *mean*
          ``metric`` over their heavy reps is > 0: the same claim read so that
          one mismeasured rep does not turn a lifter (the "every rep" share
          loses a lifter to a single rep below 0).

        Columns ``quantity, lift, estimate, ci_low, ci_high, n_lifters, n_reps,
        heavy_pct_1rm, n_bootstrap, definition, ci_method, ci_note``. Shares of
        lifters have a Wilson score interval over lifter x lift units; the
        pooled share of reps :func:`clustered_share_interval`, with a lifter's
        squat and deadlift resampled together for ``"all"``.
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
                per_lifter=True,
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
                per_lifter=True,
            )
        )
        mean_lead = (
            heavy.groupby(["lifter_id", "lift"])["y"]
            .mean()
            .gt(0)
            .astype(float)
            .groupby("lifter_id")
        )
        rows.append(
            share(
                "share_lifters_mean_hip_lead",
                mean_lead.sum(),
                mean_lead.size(),
                n_lifters=len(by_lifter),
                n_reps=len(heavy),
                definition=f"share of lifters (x lift) whose mean {metric} over their reps at >= "
                f"{heavy_pct_1rm:g} %1RM is > 0",
                per_lifter=True,
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
            "ci_method",
            "ci_note",
        ],
    )
    out.insert(7, "heavy_pct_1rm", float(heavy_pct_1rm))
    out.insert(8, "n_bootstrap", int(n_bootstrap))
    return out
