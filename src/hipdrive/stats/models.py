"""Load-effect models per outcome: random-slope mixed models, GEE logistic, fallbacks.

Every fit reports whether it converged and which fallback it used, so a
table row never hides a failed optimisation.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pandas as pd
from scipy import stats as sps

from hipdrive.contracts.params import ALPHA, MIN_LIFTERS
from hipdrive.contracts.reps import PRIMARY_METRIC
from hipdrive.contracts.results import PCT_STEP
from hipdrive.stats.outcomes import METRICS, MetricSpec, _subset


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
    :mod:`hipdrive.stats.power`.

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
