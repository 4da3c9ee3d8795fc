"""Readable names of the per-rep metrics, shared by the statistics tables and the figures.

Kept in the contracts so that ``hipdrive.stats`` (``models.tex``) and
``hipdrive.figures`` (axis labels) print the same words without importing each
other; the column names in the CSV files stay the machine names.
"""

from __future__ import annotations

from types import MappingProxyType

METRIC_LABELS = MappingProxyType(
    {
        "hip_lead_trunk_change_deg": "Hip-lead: trunk change (deg)",
        "hip_lead_rise_ratio": "Hip-lead: hip/shoulder rise (ratio)",
        "hip_lead_peak_velocity_lag_s": "Hip-lead: peak-velocity lag (s)",
        "sticking_present": "Sticking region present",
        "sticking_pct_ascent": "Sticking point (% of ascent)",
        "mean_concentric_velocity_bh_s": "Mean concentric velocity (body heights/s)",
        "mean_concentric_velocity_m_s": "Mean concentric velocity (m/s)",
        "moment_arm_ratio_vmin": "Hip/knee moment-arm ratio at v_min",
        "hip_shoot_index": "Deadlift hip-shoot index (ratio)",
        "trunk_angle_deg": "Trunk angle from vertical (deg)",
        "moment_arm_ratio": "Hip/knee moment-arm ratio",
    }
)
"""Metric column -> short name with unit, as tables and axes print it."""


def metric_label(column: str) -> str:
    """The readable name of ``column``, or the column itself when it has none."""
    return METRIC_LABELS.get(column, column)
