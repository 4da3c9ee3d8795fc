"""The outcomes analysed against load, and the reps each is fitted on."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from hipdrive.contracts.labels import metric_label
from hipdrive.contracts.reps import PRIMARY_METRIC


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
    """

    column: str
    family: Literal["gaussian", "binomial"]
    lifts: tuple[str, ...]

    @property
    def label(self) -> str:
        """Table/axis name with unit (:data:`~hipdrive.contracts.labels.METRIC_LABELS`)."""
        return metric_label(self.column)


METRICS: tuple[MetricSpec, ...] = (
    MetricSpec(PRIMARY_METRIC, "gaussian", ("squat", "deadlift", "all")),
    MetricSpec("hip_lead_rise_ratio", "gaussian", ("squat", "deadlift")),
    MetricSpec("hip_lead_peak_velocity_lag_s", "gaussian", ("squat", "deadlift")),
    MetricSpec("sticking_present", "binomial", ("squat", "deadlift", "all")),
    MetricSpec("sticking_pct_ascent", "gaussian", ("squat", "deadlift")),
    MetricSpec("mean_concentric_velocity_bh_s", "gaussian", ("squat", "deadlift")),
    MetricSpec("moment_arm_ratio_vmin", "gaussian", ("squat", "deadlift")),
    MetricSpec("hip_shoot_index", "gaussian", ("deadlift",)),
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
