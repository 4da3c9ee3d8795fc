"""Statistics on how hip drive changes with relative load (%1RM).

Turns the collected tables (``results/tables/reps.parquet`` and
``results/tables/curves.parquet``) into the numbers a paper reports:

* :func:`fit_models` -- one random-slope linear mixed model per metric
  (``metric ~ pct_1rm (+ lift/variant)``, lifter as group) and a
  population-averaged logistic model (GEE) for the presence of a sticking
  region; slopes are reported per 10 %1RM with 95% CIs, and every fit says
  whether it converged and which fallback was used.
* :func:`lifter_slopes` -- one ordinary least-squares slope per lifter, lift and
  metric (the per-lifter slopes table and the forest plot).
* :func:`always_shares` -- the "always" claims: share of lifters whose slope is
  positive and share of heavy reps in which the hips led, with cluster-bootstrap
  CIs (lifters are resampled, not reps).
* :func:`spm_slope_curves` -- statistical parametric mapping of the per-lifter
  regression-slope curves of the trunk angle through the ascent.
* :func:`run_stats` / :func:`write_stats` -- the whole stage, as the
  ``hipdrive fit-models`` command runs it.

This module is numeric only: it never imports plotting or pose libraries.
"""

from __future__ import annotations

import contextlib
import json
import warnings
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
from scipy import stats as sps

from hipdrive.contracts.curves import REQUIRED_CURVE_COLUMNS, curve_matrix
from hipdrive.contracts.files import atomic_write_bytes
from hipdrive.contracts.params import (
    ALPHA,
    HEAVY_PCT_1RM,
    MIN_LIFTERS,
    MIN_LIFTERS_SPM,
    N_BOOTSTRAP,
    SEED,
)
from hipdrive.contracts.reps import LIFTS, PRIMARY_METRIC, QUALITY_FLAGS, validate_reps
from hipdrive.contracts.results import PCT_STEP, provenance, write_csv
from hipdrive.errors import HipdriveError


@dataclass(frozen=True)
class MetricSpec:
    """One outcome analysed against load.

    Attributes
    ----------
    column : str
        Column of the per-rep table.
    family : {"gaussian", "binomial"}
        ``gaussian`` -> random-slope linear mixed model; ``binomial`` -> GEE
        logistic model with an exchangeable working correlation.
    lifts : tuple of str
        Subsets analysed: ``"squat"``, ``"deadlift"`` and/or ``"all"`` (both
        lifts together, with lift as a covariate).
    label : str
        Axis/table label with unit.
    """

    column: str
    family: Literal["gaussian", "binomial"]
    lifts: tuple[str, ...]
    label: str


METRICS: tuple[MetricSpec, ...] = (
    MetricSpec(
        PRIMARY_METRIC,
        "gaussian",
        ("squat", "deadlift", "all"),
        "Trunk-angle change bottom -> v_min (deg, + = hips lead)",
    ),
    MetricSpec(
        "hip_lead_rise_ratio",
        "gaussian",
        ("squat", "deadlift"),
        "Hip rise / shoulder rise, first 30% of ascent (ratio)",
    ),
    MetricSpec(
        "hip_lead_peak_velocity_lag_s",
        "gaussian",
        ("squat", "deadlift"),
        "Shoulder minus hip peak-velocity time (s, + = hips first)",
    ),
    MetricSpec(
        "sticking_present",
        "binomial",
        ("squat", "deadlift", "all"),
        "Sticking region present (log odds)",
    ),
    MetricSpec(
        "sticking_pct_ascent",
        "gaussian",
        ("squat", "deadlift"),
        "Sticking point (v_min) position (% of ascent time)",
    ),
    MetricSpec(
        "mean_concentric_velocity_bh_s",
        "gaussian",
        ("squat", "deadlift"),
        "Mean concentric velocity (body heights/s)",
    ),
    MetricSpec(
        "moment_arm_ratio_vmin",
        "gaussian",
        ("squat", "deadlift"),
        "Hip/knee moment-arm ratio at v_min (ratio)",
    ),
    MetricSpec(
        "hip_shoot_index",
        "gaussian",
        ("deadlift",),
        "Deadlift hip-shoot index (hip rise / shoulder rise)",
    ),
)
"""Metrics modelled against load, primary hip-lead index first.

Both lifts together (``"all"``, lift/variant as a fixed effect) only for the
primary index and sticking-region presence: the headline questions; the
secondary indices are analysed per lift.

Definitions (docs/definitions.md, ``hipdrive.metrics``): the primary hip-lead index is the
change in trunk angle from the bottom to the velocity minimum of the sticking
region (or to 30% of ascent time when there is none), positive when the trunk
becomes more horizontal, i.e. the hips rise first; the sticking region is
defined after van den Tillaar & Ettema (2009, doi:10.1123/ijspp.4.2.161) and
Larsen et al. (2021, doi:10.3389/fspor.2021.632356) as v_max1 -> v_min -> v_max2
of the upward bar velocity.
"""

METRIC_BY_NAME = {m.column: m for m in METRICS}


# ---------------------------------------------------------------------------
# input


@contextlib.contextmanager
def single_threaded_blas() -> Iterator[None]:
    """Limit BLAS to one thread while fitting.

    The mixed-model likelihood solves hundreds of 2 x 2 systems per
    evaluation; a multi-threaded OpenBLAS spends ~1 ms synchronising each of
    them (measured 4x slower on 2 cores), so the statistics stage runs BLAS
    single-threaded and parallelises over models instead. Uses threadpoolctl
    when installed; otherwise does nothing.
    """
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # optional: only speed depends on it
        yield
        return
    with threadpool_limits(limits=1, user_api="blas"):
        yield


def _subset(reps: pd.DataFrame, metric: str, lift: str) -> pd.DataFrame:
    """Used reps of one lift (or ``"all"``) with a finite value of ``metric``."""
    if metric not in reps.columns:
        return reps.iloc[0:0]
    sel = reps["used"].to_numpy().copy()
    if lift != "all":
        sel &= (reps["lift"] == lift).to_numpy()
    y = pd.to_numeric(reps[metric], errors="coerce").astype(float)
    sel &= np.isfinite(y.to_numpy())
    out = reps.loc[sel].copy()
    out["y"] = y[sel].to_numpy()
    return out


# ---------------------------------------------------------------------------
# models


def _t_interval(est: float, se: float, df: float, alpha: float) -> tuple[float, float, float]:
    if not (np.isfinite(est) and np.isfinite(se) and se > 0 and df > 0):
        return np.nan, np.nan, np.nan
    q = sps.t.ppf(1 - alpha / 2, df)
    p = 2 * sps.t.sf(abs(est / se), df)
    return est - q * se, est + q * se, p


def _covariates(data: pd.DataFrame) -> tuple[str, int]:
    """Fixed-effect covariates: one combined lift:variant factor when it varies."""
    combo = data["lift"] + ":" + data["variant"]
    n = combo.nunique()
    if n > 1:
        data["lift_variant"] = combo
        return " + C(lift_variant)", n - 1
    return "", 0


def _warning_text(caught: list[warnings.WarningMessage]) -> str:
    seen: list[str] = []
    for w in caught:
        msg = f"{w.category.__name__}: {str(w.message).strip()}"
        if msg not in seen:
            seen.append(msg)
    return " | ".join(seen)


_FAILURE_MARKERS = (
    "mixedlm optimization failed",
    "gradient optimization failed",
    "not positive definite",
)


def _failure_warning(caught: list[warnings.WarningMessage]) -> bool:
    """True when statsmodels reported a failed optimisation or an unusable Hessian.

    A fit on the boundary of the parameter space (a random-effect variance
    estimated as 0) is a valid optimum, not a failure; its warning is kept in
    the ``warnings`` column. Warnings from optimisers that were retried
    successfully ("Maximum Likelihood optimization failed to converge" followed
    by "Retrying MixedLM optimization ...") do not count either. A Hessian that
    is not positive definite makes the standard errors unusable, so it counts.
    """
    from statsmodels.tools.sm_exceptions import ConvergenceWarning

    final = [str(w.message).lower() for w in caught if issubclass(w.category, ConvergenceWarning)]
    return any(m in msg for msg in final for m in _FAILURE_MARKERS)


def _conclusion(lo: float, hi: float) -> str:
    if not (np.isfinite(lo) and np.isfinite(hi)):
        return "not estimable"
    if lo > 0:
        return "increases with load"
    if hi < 0:
        return "decreases with load"
    return "no evidence of a load effect"


def _empty_row(metric: str, lift: str, model: str, reason: str, data: pd.DataFrame) -> dict:
    return {
        "metric": metric,
        "lift": lift,
        "model": model,
        "effect": "",
        "intercept": np.nan,
        "slope_per_10pct": np.nan,
        "se": np.nan,
        "df": np.nan,
        "ci_low": np.nan,
        "ci_high": np.nan,
        "p_value": np.nan,
        "slope_sd_between_lifters": np.nan,
        "n_lifters": int(data["lifter_id"].nunique()) if len(data) else 0,
        "n_reps": len(data),
        "pct_1rm_centre": np.nan,
        "formula": "",
        "re_structure": "",
        "converged": False,
        "fallback": "",
        "warnings": "",
        "conclusion": f"not estimable: {reason}",
    }


def fit_mixed_model(
    reps: pd.DataFrame,
    metric: str = PRIMARY_METRIC,
    *,
    lift: str = "all",
    alpha: float = ALPHA,
    min_lifters: int = MIN_LIFTERS,
) -> dict:
    """Random-slope linear mixed model ``metric ~ pct_1rm`` with lifter as group.

    Parameters
    ----------
    reps : pandas.DataFrame
        Output of :func:`validate_reps` (uses the ``used`` reps only).
    metric : str
        Column to model.
    lift : {"squat", "deadlift", "all"}
        Subset; with ``"all"`` (and whenever several lift/variant combinations
        are present) a ``C(lift_variant)`` fixed effect is added.
    alpha : float
        1 - confidence level of the interval.
    min_lifters : int
        Fewer lifters than this -> a "not estimable" row (no fit attempted).

    Returns
    -------
    dict
        One row of the models table: ``slope_per_10pct`` (fixed-effect change in
        ``metric`` per 10 %1RM), ``se``, ``df``, ``ci_low``, ``ci_high``,
        ``p_value``, ``slope_sd_between_lifters``, counts, ``formula``,
        ``re_structure`` (``"intercept+slope"``, ``"intercept"`` or
        ``"none (OLS, lifter-clustered SE)"``),
        ``converged``, ``fallback``, ``warnings`` and ``conclusion``.

    Notes
    -----
    The model is ``y_ij = b0 + b1 x_ij + u0_i + u1_i x_ij + e_ij`` with
    ``x = (pct_1rm - centre) / 10``, the centre being the mean %1RM of the
    analysed reps (centring decorrelates intercept and slope and makes the
    fit better conditioned; dividing by 10 makes ``b1`` the change per
    10 %1RM). It is fitted by REML with ``statsmodels.formula.api.mixedlm``
    (``re_formula="~x"``; Laird & Ware 1982, doi:10.2307/2529876), trying
    L-BFGS first (the fastest here), then BFGS and Powell only if it fails:
    in simulation the random-intercept fallback covered the true slope in
    only ~81% of the studies where it was used (it ignores the between-lifter
    slope variance), while BFGS/Powell mostly converge where L-BFGS stops
    early. Each optimiser starts afresh: statsmodels' own retry list starts
    the next optimiser from the failed one's end point, and in one of 500
    simulated studies that "converged" to a singular random-effects matrix
    with a slope SE of 1.5e7 (Powell from the default start: SE 0.21). The outcome is standardised before
    fitting (the model is equivariant under ``y -> (y - m) / s``; slope, SE and
    intercept are scaled back exactly), because the optimiser fails on
    tiny-variance outcomes such as velocities in body heights/s. With a
    ``C(lift_variant)`` covariate the intercept is that of the reference level.

    The CI and p value use a t distribution with ``n_lifters - 1 - p`` degrees of
    freedom (``p`` = number of covariate columns) instead of the Wald z: with
    random slopes, the fixed slope of a balanced design is exactly a
    one-sample t test of the per-lifter slopes with ``n_lifters - 1`` df, and
    Wald z tests with few groups reject too often (Luke 2017,
    doi:10.3758/s13428-016-0809-y). Calibration is checked by simulation in
    :mod:`hipdrive.power`.

    When the random-slope fit does not converge (statsmodels reports a failed
    optimisation or a Hessian that is not positive definite, ``converged`` is
    False, or the standard error is not finite; see :func:`_failure_warning`),
    the model is refitted with a random intercept only; the row then
    says so in ``fallback`` and keeps the warnings of both fits. If that fails
    too, ordinary least squares with lifter-clustered standard errors is
    reported instead (see :func:`_ols_cluster_fallback`), again saying so; only
    if even that fails is ``converged`` False.
    """
    import statsmodels.formula.api as smf

    data = _subset(reps, metric, lift)
    model_name = "mixedlm"
    if data["lifter_id"].nunique() < min_lifters if len(data) else True:
        return _empty_row(metric, lift, model_name, f"fewer than {min_lifters} lifters", data)
    if data["pct_1rm"].nunique() < 2:
        return _empty_row(metric, lift, model_name, "only one load", data)
    if np.nanstd(data["y"].to_numpy()) == 0:
        return _empty_row(metric, lift, model_name, "metric is constant", data)
    centre = float(data["pct_1rm"].mean())
    data["x"] = (data["pct_1rm"] - centre) / PCT_STEP
    covars, n_cov = _covariates(data)
    formula = f"y ~ x{covars}"
    n_lifters = int(data["lifter_id"].nunique())
    df = n_lifters - 1 - n_cov

    # standardised outcome: see Notes
    y_mean, y_sd = float(data["y"].mean()), float(data["y"].std())
    data["y"] = (data["y"] - y_mean) / y_sd
    # one optimiser per fit, each from statsmodels' default start: given a
    # list, statsmodels starts each retry where the failed optimiser stopped,
    # which can end at a singular "converged" point with an absurd SE (see Notes)
    attempts = [("intercept+slope", "~x", m) for m in ("lbfgs", "bfgs", "powell")]
    attempts += [("intercept", "1", m) for m in ("lbfgs", "bfgs")]
    all_warnings: list[str] = []
    row = None
    for structure, re_formula, method in attempts:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                model = smf.mixedlm(formula, data, groups=data["lifter_id"], re_formula=re_formula)
                res = model.fit(reml=True, method=method)
                est = float(res.fe_params["x"]) * y_sd
                intercept = y_mean + float(res.fe_params["Intercept"]) * y_sd
                se = float(res.bse_fe["x"]) * y_sd
                ok = bool(res.converged)
                cov_re = np.asarray(res.cov_re)
                slope_sd = (
                    float(np.sqrt(max(cov_re[1, 1], 0.0))) * y_sd if cov_re.shape[0] > 1 else 0.0
                )
            except (np.linalg.LinAlgError, ValueError) as exc:
                est = se = slope_sd = intercept = np.nan
                ok = False
                all_warnings.append(f"{structure} ({method}): {type(exc).__name__}: {exc}")
        text = _warning_text(caught)
        converged = ok and np.isfinite(se) and se > 0 and not _failure_warning(caught)
        if text:
            all_warnings.append(f"{structure} ({method}): {text}")
        lo, hi, p = _t_interval(est, se, df, alpha)
        row = {
            "metric": metric,
            "lift": lift,
            "model": model_name,
            "effect": f"difference in {metric} per {PCT_STEP:g} %1RM",
            "intercept": intercept,
            "slope_per_10pct": est,
            "se": se,
            "df": float(df),
            "ci_low": lo,
            "ci_high": hi,
            "p_value": p,
            "slope_sd_between_lifters": slope_sd,
            "n_lifters": n_lifters,
            "n_reps": len(data),
            "pct_1rm_centre": centre,
            "formula": f"{formula}, groups=lifter_id, re_formula={re_formula}",
            "re_structure": structure,
            "converged": bool(converged),
            "fallback": ""
            if structure == "intercept+slope"
            else "random-slope model did not converge; random intercept only",
            "warnings": "",
            "conclusion": _conclusion(lo, hi),
        }
        if converged:
            break
    assert row is not None
    if not row["converged"]:
        row = _ols_cluster_fallback(data, formula, df, alpha, y_mean, y_sd, row)
    row["warnings"] = " || ".join(all_warnings)
    return row


def _ols_cluster_fallback(
    data: pd.DataFrame,
    formula: str,
    df: int,
    alpha: float,
    y_mean: float,
    y_sd: float,
    row: dict,
) -> dict:
    """Last resort when both mixed models fail: OLS with lifter-clustered SEs.

    Both mixed models fail mostly when the between-lifter variances are
    estimated as 0, where the mixed model reduces to ordinary least squares.
    The SE is the cluster-robust sandwich with lifters as clusters and the
    small-sample factor ``G/(G-1) (N-1)/(N-K)`` (CR1; Cameron & Miller 2015,
    doi:10.3368/jhr.50.2.317), on the same t distribution as the mixed model.
    """
    import statsmodels.formula.api as smf

    groups = pd.factorize(data["lifter_id"])[0]
    try:
        res = smf.ols(formula, data).fit(cov_type="cluster", cov_kwds={"groups": groups})
        est = float(res.params["x"]) * y_sd
        se = float(res.bse["x"]) * y_sd
        intercept = y_mean + float(res.params["Intercept"]) * y_sd
    except (np.linalg.LinAlgError, ValueError):
        return row
    lo, hi, p = _t_interval(est, se, df, alpha)
    converged = bool(np.isfinite(se) and se > 0)
    return {
        **row,
        "intercept": intercept,
        "slope_per_10pct": est,
        "se": se,
        "ci_low": lo,
        "ci_high": hi,
        "p_value": p,
        "slope_sd_between_lifters": np.nan,
        "formula": f"{formula}, OLS, SE clustered by lifter_id (CR1)",
        "re_structure": "none (OLS, lifter-clustered SE)",
        "converged": converged,
        "fallback": "mixed models did not converge (random-effect variances at 0?); "
        "OLS with lifter-clustered SEs",
        "conclusion": _conclusion(lo, hi),
    }


def fit_gee_logistic(
    reps: pd.DataFrame,
    metric: str = "sticking_present",
    *,
    lift: str = "all",
    alpha: float = ALPHA,
    min_lifters: int = MIN_LIFTERS,
) -> dict:
    """Population-averaged logistic model (GEE) of a yes/no metric on %1RM.

    Parameters
    ----------
    reps : pandas.DataFrame
        Output of :func:`validate_reps`.
    metric : str
        Boolean column (default ``sticking_present``).
    lift : {"squat", "deadlift", "all"}
        Subset, as in :func:`fit_mixed_model`.
    alpha : float
        1 - confidence level.
    min_lifters : int
        Fewer lifters -> "not estimable".

    Returns
    -------
    dict
        Models-table row; ``slope_per_10pct`` is the log odds ratio per
        10 %1RM (``exp`` of it is the odds ratio).

    Notes
    -----
    Generalised estimating equations (Liang & Zeger 1986,
    doi:10.1093/biomet/73.1.13) with a binomial family, logit link and an
    exchangeable working correlation within lifter. Standard errors use the
    bias-reduced sandwich of Mancl & DeRouen (2001,
    doi:10.1111/j.0006-341X.2001.00126.x) and the interval a t distribution
    with ``n_lifters - 1 - p`` df, because the plain robust sandwich is
    anti-conservative with few clusters. When the exchangeable fit does not
    converge, the model is refitted with an independence working correlation
    (still valid for the mean model, with robust SEs) and ``fallback`` says so.
    """
    import statsmodels.api as sm
    import statsmodels.formula.api as smf
    from statsmodels.tools.sm_exceptions import ConvergenceWarning

    data = _subset(reps, metric, lift)
    model_name = "gee-binomial-exchangeable"
    if data["lifter_id"].nunique() < min_lifters if len(data) else True:
        return _empty_row(metric, lift, model_name, f"fewer than {min_lifters} lifters", data)
    if data["pct_1rm"].nunique() < 2:
        return _empty_row(metric, lift, model_name, "only one load", data)
    data["y"] = data["y"].astype(float)
    share = data["y"].mean()
    if share in (0.0, 1.0):
        return _empty_row(
            metric, lift, model_name, f"{metric} is {'always' if share else 'never'} true", data
        )
    centre = float(data["pct_1rm"].mean())
    data["x"] = (data["pct_1rm"] - centre) / PCT_STEP
    covars, n_cov = _covariates(data)
    formula = f"y ~ x{covars}"
    n_lifters = int(data["lifter_id"].nunique())
    df = n_lifters - 1 - n_cov
    attempts = (
        ("exchangeable", sm.cov_struct.Exchangeable),
        ("independence", sm.cov_struct.Independence),
    )
    all_warnings: list[str] = []
    for structure, cov_struct in attempts:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                model = smf.gee(
                    formula,
                    groups="lifter_id",
                    data=data,
                    family=sm.families.Binomial(),
                    cov_struct=cov_struct(),
                )
                res = model.fit(cov_type="bias_reduced")
                est = float(res.params["x"])
                intercept = float(res.params["Intercept"])
                se = float(res.bse["x"])
                ok = bool(getattr(res, "converged", True))
            except (np.linalg.LinAlgError, ValueError, ZeroDivisionError) as exc:
                est = se = intercept = np.nan
                ok = False
                all_warnings.append(f"{structure}: {type(exc).__name__}: {exc}")
        bad_warn = any(issubclass(w.category, ConvergenceWarning) for w in caught)
        converged = ok and not bad_warn and np.isfinite(se) and se > 0
        text = _warning_text(caught)
        if text:
            all_warnings.append(f"{structure}: {text}")
        if converged:
            break
    lo, hi, p = _t_interval(est, se, df, alpha)
    return {
        "metric": metric,
        "lift": lift,
        "model": model_name,
        "effect": f"log odds ratio of {metric} per {PCT_STEP:g} %1RM",
        "intercept": intercept,
        "slope_per_10pct": est,
        "se": se,
        "df": float(df),
        "ci_low": lo,
        "ci_high": hi,
        "p_value": p,
        "slope_sd_between_lifters": np.nan,
        "n_lifters": n_lifters,
        "n_reps": len(data),
        "pct_1rm_centre": centre,
        "formula": f"{formula}, groups=lifter_id, binomial/logit, {structure}",
        "re_structure": "none (population-averaged)",
        "converged": bool(converged),
        "fallback": ""
        if structure == "exchangeable"
        else "exchangeable GEE did not converge; independence working correlation",
        "warnings": " || ".join(all_warnings),
        "conclusion": _conclusion(lo, hi),
    }


def fit_models(
    reps: pd.DataFrame,
    *,
    metrics: Sequence[MetricSpec] = METRICS,
    alpha: float = ALPHA,
    min_lifters: int = MIN_LIFTERS,
    workers: int = 1,
) -> pd.DataFrame:
    """Fit every metric x lift subset that has data; one row each.

    Parameters
    ----------
    reps : pandas.DataFrame
        Output of :func:`validate_reps`.
    metrics : sequence of MetricSpec
        What to model (default :data:`METRICS`, primary first).
    alpha : float
        1 - confidence level.
    min_lifters : int
        Minimum number of lifters for a fit.
    workers : int
        Processes fitting models in parallel (1 = in this process).

    Returns
    -------
    pandas.DataFrame
        The models table (columns as in :func:`fit_mixed_model`). Subsets with
        no reps at all (e.g. no deadlifts in the study) are left out; subsets
        with too few lifters appear as "not estimable" rows. ``"all"`` is only
        fitted when both lifts are present.
    """
    present = set(reps.loc[reps["used"], "lift"])
    tasks = []
    for spec in metrics:
        for lift in spec.lifts:
            if lift == "all" and len(present) < 2:
                continue
            if lift != "all" and lift not in present:
                continue
            tasks.append((spec.column, spec.family, lift, alpha, min_lifters))
    if workers > 1 and len(tasks) > 1:
        # largest subsets ("all") first, so the two workers finish together
        order = sorted(range(len(tasks)), key=lambda k: tasks[k][2] != "all")
        with ProcessPoolExecutor(
            max_workers=workers, initializer=_init_worker, initargs=(reps,)
        ) as pool:
            futures = {k: pool.submit(_fit_task, tasks[k]) for k in order}
            rows = [futures[k].result() for k in range(len(tasks))]
    else:
        with single_threaded_blas():
            rows = [_fit_task(t, reps) for t in tasks]
    columns = list(_empty_row("", "", "", "", reps.iloc[0:0]).keys())
    return pd.DataFrame(rows, columns=columns)


_WORKER_REPS: pd.DataFrame | None = None


def _init_worker(reps: pd.DataFrame) -> None:
    global _WORKER_REPS
    _WORKER_REPS = reps


def _fit_task(task: tuple, reps: pd.DataFrame | None = None) -> dict:
    column, family, lift, alpha, min_lifters = task
    reps = _WORKER_REPS if reps is None else reps
    fit = fit_gee_logistic if family == "binomial" else fit_mixed_model
    with single_threaded_blas():
        return fit(reps, column, lift=lift, alpha=alpha, min_lifters=min_lifters)


# ---------------------------------------------------------------------------
# per-lifter slopes and "always"


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
    """One row of the "always" table: a lifter-bootstrapped share num/den."""
    est, lo, hi = cluster_bootstrap_ratio(
        np.asarray(num, float), np.asarray(den, float),
        n_bootstrap=n_bootstrap, alpha=alpha, rng=rng,
    )  # fmt: skip
    return {
        "quantity": quantity, "lift": lift, "estimate": est, "ci_low": lo, "ci_high": hi,
        "n_lifters": n_lifters, "n_reps": n_reps, "definition": definition,
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
        ],
    )
    out.insert(7, "heavy_pct_1rm", float(heavy_pct_1rm))
    out.insert(8, "n_bootstrap", int(n_bootstrap))
    return out


# ---------------------------------------------------------------------------
# SPM


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


# ---------------------------------------------------------------------------
# QC, provenance, whole stage


def qc_summary(reps: pd.DataFrame) -> pd.DataFrame:
    """Reps per lifter and lift, with how many each quality flag removed.

    Returns
    -------
    pandas.DataFrame
        ``lifter_id, lift, n_reps, n_complete, n_failed, n_<flag>...,
        n_quality_ok, n_used`` (flags that are not in the table count 0).
    """
    d = reps.copy()
    agg = {"n_reps": ("rep", "size"), "n_used": ("used", "sum")}
    for col, name in (
        ("complete", "n_complete"),
        ("failed", "n_failed"),
        ("quality_ok", "n_quality_ok"),
    ):
        if col in d.columns:
            d[col] = d[col].fillna(False).astype(bool)
            agg[name] = (col, "sum")
    for flag in QUALITY_FLAGS:
        if flag in d.columns:
            d[flag] = d[flag].fillna(False).astype(bool)
            agg[f"n_{flag}"] = (flag, "sum")
    out = d.groupby(["lifter_id", "lift"], sort=True).agg(**agg).reset_index()
    return out.astype({c: int for c in out.columns if c.startswith("n_")})


@dataclass
class StatsResult:
    """Everything :func:`run_stats` computes; :func:`write_stats` writes it."""

    models: pd.DataFrame
    lifter_slopes: pd.DataFrame
    always: pd.DataFrame
    spm: pd.DataFrame
    spm_clusters: pd.DataFrame
    qc: pd.DataFrame
    provenance: dict = field(default_factory=dict)


def run_stats(
    reps: pd.DataFrame,
    curves: pd.DataFrame | None,
    *,
    heavy_pct_1rm: float = HEAVY_PCT_1RM,
    n_bootstrap: int = N_BOOTSTRAP,
    seed: int = SEED,
    alpha: float = ALPHA,
    min_lifters: int = MIN_LIFTERS,
    min_lifters_spm: int = MIN_LIFTERS_SPM,
    workers: int = 2,
) -> StatsResult:
    """The whole statistics stage on in-memory tables.

    Parameters
    ----------
    reps : pandas.DataFrame
        Validated reps table (:func:`validate_reps`).
    curves : pandas.DataFrame or None
        Long curves table (the trunk-angle ascent rows suffice); ``None`` ->
        empty SPM tables.
    heavy_pct_1rm, n_bootstrap, seed, alpha :
        See :func:`always_shares`.
    min_lifters, min_lifters_spm : int
        Minimum lifters for a model / for SPM.
    workers : int
        Processes for the model fits (see :func:`fit_models`).

    Returns
    -------
    StatsResult
    """
    if "used" not in reps.columns:
        reps = validate_reps(reps)
    models = fit_models(reps, alpha=alpha, min_lifters=min_lifters, workers=workers)
    with single_threaded_blas():
        slopes = lifter_slopes(reps, alpha=alpha)
    always = always_shares(
        reps, slopes, heavy_pct_1rm=heavy_pct_1rm, n_bootstrap=n_bootstrap, alpha=alpha, seed=seed
    )
    if curves is not None and len(curves):
        spm, clusters = spm_slope_curves(curves, reps, alpha=alpha, min_lifters=min_lifters_spm)
    else:
        spm, clusters = spm_slope_curves(
            pd.DataFrame(columns=list(REQUIRED_CURVE_COLUMNS) + ["pct_1rm"]), None
        )
    params = {
        "heavy_pct_1rm": heavy_pct_1rm,
        "n_bootstrap": n_bootstrap,
        "seed": seed,
        "alpha": alpha,
        "min_lifters": min_lifters,
        "min_lifters_spm": min_lifters_spm,
    }
    backends = sorted(reps["backend"].dropna().astype(str).unique()) if "backend" in reps else []
    prov = provenance(params)
    prov["data"] = {
        "n_reps": len(reps),
        "n_reps_used": int(reps["used"].sum()),
        "n_lifters": int(reps["lifter_id"].nunique()),
        "n_videos": int(reps["video_id"].nunique()),
        "backends": backends,
    }
    return StatsResult(models, slopes, always, spm, clusters, qc_summary(reps), prov)


def models_to_latex(models: pd.DataFrame) -> str:
    """A compact LaTeX table of the models (needs jinja2, via pandas ``to_latex``).

    Raises
    ------
    HipdriveError
        jinja2 is not installed.
    """
    try:
        import jinja2  # noqa: F401  (pandas' Styler, behind to_latex, needs it)
    except ImportError as exc:
        raise HipdriveError(
            "writing models.tex needs jinja2 (pandas to_latex): pip install jinja2"
        ) from exc
    t = models[
        [
            "metric",
            "lift",
            "slope_per_10pct",
            "ci_low",
            "ci_high",
            "p_value",
            "n_lifters",
            "n_reps",
            "re_structure",
            "converged",
        ]
    ].copy()
    t["metric"] = t["metric"].str.replace("_", r"\_", regex=False)
    t["re_structure"] = t["re_structure"].str.replace("_", r"\_", regex=False)
    t.columns = [
        "Metric",
        "Lift",
        "Slope / 10\\%1RM",
        "CI low",
        "CI high",
        "p",
        "Lifters",
        "Reps",
        "Random effects",
        "Converged",
    ]
    return t.to_latex(
        index=False,
        float_format="%.3g",
        na_rep="--",
        caption="Change per 10\\%1RM (mixed models; GEE log odds ratio for binary outcomes), "
        "95\\% CI.",
        label="tab:hipdrive-models",
    )


def write_stats(result: StatsResult, out_dir: str | Path) -> list[Path]:
    """Write :data:`STATS_FILES` into ``out_dir`` (created) and return their paths."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, frame in (
        ("models.csv", result.models),
        ("lifter_slopes.csv", result.lifter_slopes),
        ("always.csv", result.always),
        ("spm.csv", result.spm),
        ("spm_clusters.csv", result.spm_clusters),
        ("qc_summary.csv", result.qc),
    ):
        path = out / name
        write_csv(frame, path)
        written.append(path)
    tex = out / "models.tex"
    atomic_write_bytes(models_to_latex(result.models).encode(), tex)
    written.append(tex)
    prov = out / "provenance.json"
    atomic_write_bytes(json.dumps(result.provenance, indent=2, default=str).encode(), prov)
    written.append(prov)
    return written
