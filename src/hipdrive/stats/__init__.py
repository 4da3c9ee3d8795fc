"""Statistics on how hip drive changes with relative load (%1RM).

Turns the collected tables (``results/tables/reps.parquet`` and
``results/tables/curves.parquet``) into the numbers a paper reports. One module
per job:

* :mod:`~hipdrive.stats.outcomes` -- the outcomes analysed (:data:`METRICS`).
* :mod:`~hipdrive.stats.models` -- :func:`fit_models`: one random-slope linear
  mixed model per metric (``metric ~ pct_1rm (+ lift/variant)``, lifter as
  group) and a population-averaged logistic model (GEE) for the presence of a
  sticking region; slopes per 10 %1RM with 95% CIs, and every fit says whether
  it converged and which fallback was used.
* :mod:`~hipdrive.stats.slopes` -- :func:`lifter_slopes`: one OLS slope per
  lifter, lift and metric (the per-lifter slopes table and the forest plot).
* :mod:`~hipdrive.stats.always` -- :func:`always_shares`: the "always" claims,
  share of lifters whose slope is positive and share of heavy reps in which the
  hips led, with cluster-bootstrap CIs (lifters are resampled, not reps).
* :mod:`~hipdrive.stats.spm` -- :func:`spm_slope_curves`: statistical
  parametric mapping of the per-lifter trunk-angle slope curves of the ascent.
* :mod:`~hipdrive.stats.stage` -- :func:`run_stats` / :func:`write_stats`: the
  whole stage, as the ``hipdrive fit-models`` command runs it.
* :mod:`~hipdrive.stats.power` -- false-positive rate, CI coverage and
  statistical power of the load-effect test by simulation (``hipdrive power``);
  not imported here, as it pulls in the simulator.

Numeric only: never imports plotting or pose libraries.
"""

from hipdrive.contracts.reps import LIFTS, PRIMARY_METRIC, validate_reps
from hipdrive.stats.always import always_shares, clustered_share_interval
from hipdrive.stats.models import (
    fit_gee_logistic,
    fit_mixed_model,
    fit_models,
    single_threaded_blas,
)
from hipdrive.stats.outcomes import METRIC_BY_NAME, METRICS, MetricSpec
from hipdrive.stats.slopes import lifter_slopes
from hipdrive.stats.spm import lifter_slope_curves, spm_slope_curves
from hipdrive.stats.stage import (
    StatsResult,
    models_to_latex,
    qc_summary,
    run_stats,
    write_stats,
)

__all__ = [
    "LIFTS",
    "METRICS",
    "METRIC_BY_NAME",
    "PRIMARY_METRIC",
    "MetricSpec",
    "StatsResult",
    "always_shares",
    "clustered_share_interval",
    "fit_gee_logistic",
    "fit_mixed_model",
    "fit_models",
    "lifter_slope_curves",
    "lifter_slopes",
    "models_to_latex",
    "qc_summary",
    "run_stats",
    "single_threaded_blas",
    "spm_slope_curves",
    "validate_reps",
    "write_stats",
]
