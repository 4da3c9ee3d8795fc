"""The whole statistics stage as ``hipdrive fit-models`` runs it: QC, all fits, files."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from hipdrive.contracts.curves import REQUIRED_CURVE_COLUMNS
from hipdrive.contracts.files import atomic_write_bytes
from hipdrive.contracts.labels import metric_label
from hipdrive.contracts.params import (
    ALPHA,
    HEAVY_PCT_1RM,
    MIN_LIFTERS,
    MIN_LIFTERS_SPM,
    N_BOOTSTRAP,
    SEED,
)
from hipdrive.contracts.reps import QUALITY_FLAGS, validate_reps
from hipdrive.contracts.results import provenance, write_csv
from hipdrive.errors import HipdriveError
from hipdrive.stats.always import always_shares
from hipdrive.stats.models import fit_models, single_threaded_blas
from hipdrive.stats.slopes import lifter_slopes
from hipdrive.stats.spm import spm_slope_curves


def qc_summary(reps: pd.DataFrame) -> pd.DataFrame:
    """Reps per lifter and lift, with how many each quality flag removed.

    Returns
    -------
    pandas.DataFrame
        ``lifter_id, lift, n_reps, n_complete, n_failed, n_<flag>...,
        n_quality_ok, n_used, bar_sources`` (flags that are not in the table
        count 0; ``bar_sources``: each ``bar_source`` with its number of reps).
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
    out = out.astype({c: int for c in out.columns if c.startswith("n_")})
    if "bar_source" in d.columns:
        sources = d.groupby(["lifter_id", "lift"], sort=True)["bar_source"].agg(_count_sources)
        out["bar_sources"] = sources.to_numpy()
    return out


def _count_sources(s: pd.Series) -> str:
    """``"track:sleeve_end 3, body:shoulder 1"``: what stood for the bar, with its reps."""
    counts = s.fillna("unknown").value_counts()
    return ", ".join(f"{name} {n}" for name, n in sorted(counts.items()))


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


_LATEX_SPECIAL = str.maketrans({c: "\\" + c for c in "&%$#_{}"})


def _latex_escape(text: str) -> str:
    """Escape LaTeX's special characters (labels hold ``%`` and ``_``)."""
    return text.translate(_LATEX_SPECIAL)


def models_to_latex(models: pd.DataFrame) -> str:
    """A compact LaTeX table of the models (needs jinja2, via pandas ``to_latex``).

    Metrics are named as :data:`~hipdrive.contracts.labels.METRIC_LABELS` has
    them (a reader of the paper does not know the column names); ``models.csv``
    keeps the column names.

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
    t["metric"] = t["metric"].map(metric_label).map(_latex_escape)
    t["re_structure"] = t["re_structure"].map(
        lambda v: _latex_escape(v) if isinstance(v, str) else v
    )
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
