"""The per-rep contract: one row per repetition, per video and aggregated with the manifest.

``hipdrive analyze-video`` writes one per-rep file per video
(:data:`REP_SCHEMA`); ``collect-tables`` joins them to the manifest into
``results/tables/reps.parquet`` (:data:`REPS_TABLE_SCHEMA`); the statistics,
the figures and the simulator's truth tables use the same columns, declared
here once.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from hipdrive.contracts.files import atomic_write_table, to_arrow, with_provenance
from hipdrive.errors import InputError

#: Per-rep table: the agreed columns, in order, with their Arrow types.
REP_SCHEMA = pa.schema(
    [
        ("video_id", pa.string()), ("rep", pa.int16()), ("lift", pa.string()),
        ("start_frame", pa.int32()), ("bottom_frame", pa.int32()),
        ("lockout_frame", pa.int32()), ("end_frame", pa.int32()),
        ("start_s", pa.float64()), ("bottom_s", pa.float64()),
        ("lockout_s", pa.float64()), ("end_s", pa.float64()),
        ("descent_duration_s", pa.float64()), ("ascent_duration_s", pa.float64()),
        ("complete", pa.bool_()), ("failed", pa.bool_()),
        ("sticking_present", pa.bool_()),
        ("v_max1_frame", pa.int32()), ("v_min_frame", pa.int32()), ("v_max2_frame", pa.int32()),
        ("v_max1_s", pa.float64()), ("v_min_s", pa.float64()), ("v_max2_s", pa.float64()),
        ("sticking_pct_ascent", pa.float64()),
        ("hip_angle_vmin_deg", pa.float64()), ("knee_angle_vmin_deg", pa.float64()),
        ("hip_lead_trunk_change_deg", pa.float64()), ("hip_lead_rise_ratio", pa.float64()),
        ("hip_lead_peak_velocity_lag_s", pa.float64()),
        ("trunk_angle_bottom_deg", pa.float64()), ("trunk_angle_vmax1_deg", pa.float64()),
        ("trunk_angle_vmin_deg", pa.float64()), ("trunk_angle_lockout_deg", pa.float64()),
        ("mean_concentric_velocity_bh_s", pa.float64()),
        ("peak_concentric_velocity_bh_s", pa.float64()),
        ("mean_concentric_velocity_m_s", pa.float64()),
        ("peak_concentric_velocity_m_s", pa.float64()),
        ("shoulder_bar_travel_ratio", pa.float64()),
        ("hands_up_at_bar_floor", pa.float64()),
        ("moment_arm_ratio_bottom", pa.float64()), ("moment_arm_ratio_vmin", pa.float64()),
        ("chest_rose_early", pa.bool_()),
        ("knee_forward_pct_descent", pa.float64()), ("knee_travel_after_max_bh", pa.float64()),
        ("hip_shoot_index", pa.float64()), ("shin_angle_liftoff_deg", pa.float64()),
        ("trunk_angle_liftoff_deg", pa.float64()), ("trunk_angle_at_knee_deg", pa.float64()),
        ("facing", pa.string()), ("side_used", pa.string()), ("bar_source", pa.string()),
        ("view", pa.string()), ("camera_yaw_deg", pa.float64()), ("body_size_ratio", pa.float64()),
        ("flag_low_confidence", pa.bool_()), ("flag_gap", pa.bool_()),
        ("flag_swap", pa.bool_()), ("flag_lifter_lost", pa.bool_()),
        ("flag_implausible", pa.bool_()), ("implausible_reason", pa.string()),
        ("quality_ok", pa.bool_()),
    ]
)  # fmt: skip
REP_COLUMNS: tuple[str, ...] = tuple(REP_SCHEMA.names)

PANDAS_DTYPES = {
    pa.string(): object, pa.int16(): "int16", pa.int32(): "int32",
    pa.float64(): "float64", pa.bool_(): bool,
}  # fmt: skip
#: Event frames that are missing when there is no sticking region (nullable).
NULLABLE_INT_COLUMNS = ("v_max1_frame", "v_min_frame", "v_max2_frame")

#: Manifest columns copied into the aggregate reps table.
MANIFEST_COLUMNS = ("lifter_id", "variant", "load_kg", "one_rm_kg", "height_m", "camera_side")

REPS_TABLE_SCHEMA = pa.schema(
    list(REP_SCHEMA)
    + [
        pa.field("lifter_id", pa.string()), pa.field("variant", pa.string()),
        pa.field("load_kg", pa.float64()), pa.field("one_rm_kg", pa.float64()),
        pa.field("height_m", pa.float64()), pa.field("camera_side", pa.string()),
        pa.field("pct_1rm", pa.float64()), pa.field("one_rm_estimated", pa.bool_()),
        pa.field("backend", pa.string()),
    ]
)  # fmt: skip

PRIMARY_METRIC = "hip_lead_trunk_change_deg"
"""The primary hip-lead index (:data:`hipdrive.analysis.metrics.METRICS`; docs/definitions.md, "Hip-lead indices")."""

QUALITY_FLAGS = (
    "flag_low_confidence", "flag_gap", "flag_swap", "flag_lifter_lost", "flag_implausible",
)  # fmt: skip
"""Per-rep quality flags written by ``hipdrive.analysis`` (True = problem)."""

BAR_SOURCES = ("track:sleeve_end", "track:hub", "track:bar_end", "body:shoulder", "body:wrist")
"""``bar_source``: ``track:sleeve_end`` / ``track:hub`` (the tracked plate's point; ``track:bar_end``
where imported keypoints do not say) or ``body:<joint>`` (docs/definitions.md, "Bar proxy");
``track:<point>+body:<joint>`` where the body carried a used track through its gaps in the rep."""

VIEWS = ("side", "oblique", "front", "rear")
"""``view``: how the camera sees the lifter, from ``camera_yaw_deg`` (docs/definitions.md, "View")."""

#: The camera's turn from the side view (either way) up to which a sagittal angle
#: seen in 2-D is off by at most :data:`VIEW_ANGLE_TOLERANCE_DEG`: a turn of yaw shortens
#: horizontal lengths by cos(yaw), so tan(seen) = cos(yaw) tan(true), worst near 45 deg
#: of true angle (docs/definitions.md, "View").
VIEW_ANGLE_TOLERANCE_DEG = 5.0
_TOL = np.tan(np.radians(VIEW_ANGLE_TOLERANCE_DEG))
#: 32.9 deg: cos(yaw) = s**2 where (1 - s**2) / (2 s) = tan(tolerance).
MAX_SIDE_VIEW_YAW_DEG = float(np.degrees(np.arccos((np.sqrt(_TOL**2 + 1) - _TOL) ** 2)))
#: Beyond this turn the camera faces the lifter's front or back more than their side.
MIN_FRONT_VIEW_YAW_DEG = 60.0


def view_of(yaw_deg: float) -> str:
    """The :data:`VIEWS` name of a camera turn
    (:func:`hipdrive.analysis.kinematics.camera_yaw_deg`); ``""`` when unknown."""
    if not np.isfinite(yaw_deg):
        return ""
    if abs(yaw_deg) <= MAX_SIDE_VIEW_YAW_DEG:
        return "side"
    if abs(yaw_deg) < MIN_FRONT_VIEW_YAW_DEG:
        return "oblique"
    return "front" if yaw_deg > 0 else "rear"


LIFTS = ("squat", "deadlift")

REQUIRED_REP_COLUMNS = ("video_id", "rep", "lift", "lifter_id", "pct_1rm")


def empty_reps() -> pd.DataFrame:
    """A zero-row per-rep table with the right columns and dtypes."""
    return typed_reps([])


def typed_reps(rows: list[dict]) -> pd.DataFrame:
    """Rows (dicts keyed by :data:`REP_COLUMNS`) -> a DataFrame with the contract's dtypes.

    Every column is a fresh array in :data:`REP_COLUMNS` order, so pandas is
    told neither to copy nor to reorder: with ~50 columns and a few rows, those
    two steps cost more than the rep analysis itself.
    """
    out = {}
    for f in REP_SCHEMA:
        values = [r[f.name] for r in rows]
        if f.name in NULLABLE_INT_COLUMNS:
            missing = np.array([v is None or v is pd.NA for v in values], dtype=bool)
            data = np.array([0 if m else v for v, m in zip(values, missing, strict=True)], np.int32)
            out[f.name] = pd.arrays.IntegerArray(data, missing)
        else:
            out[f.name] = np.array(values, dtype=PANDAS_DTYPES[f.type])
    return pd.DataFrame(out, copy=False)


def write_reps(reps_table: pd.DataFrame, path: str | os.PathLike) -> None:
    """Write a per-rep table atomically with :data:`REP_SCHEMA`.

    The provenance in ``reps_table.attrs["hipdrive"]`` (backend, facing,
    parameters...) goes into the file's metadata under ``hipdrive``.
    """
    arrow = to_arrow(reps_table, REP_SCHEMA)
    atomic_write_table(with_provenance(arrow, reps_table.attrs.get("hipdrive", {})), path)


def require_columns(df: pd.DataFrame, columns: Sequence[str], source: str) -> None:
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise InputError(f"{source}: missing column(s) {', '.join(missing)}")


def validate_reps(reps: pd.DataFrame, *, source: str = "reps table") -> pd.DataFrame:
    """Check the collected per-rep table and return a copy ready for modelling.

    Parameters
    ----------
    reps : pandas.DataFrame
        ``results/tables/reps.parquet`` (per-rep columns + manifest + ``pct_1rm``).
    source : str
        Name used in error messages (usually the file path).

    Returns
    -------
    pandas.DataFrame
        Copy with ``lift``/``lifter_id``/``variant`` as str, ``pct_1rm`` float,
        and a ``used`` column: True for reps that enter the models
        (``quality_ok`` and ``complete`` and not ``failed`` where those columns
        exist, finite ``pct_1rm``).

    Raises
    ------
    InputError
        A required column is missing or ``lift`` holds an unknown value.
    """
    require_columns(reps, REQUIRED_REP_COLUMNS, source)
    out = reps.copy()
    out["lift"] = out["lift"].astype(str)
    out["lifter_id"] = out["lifter_id"].astype(str)
    if "variant" not in out.columns:
        out["variant"] = ""
    out["variant"] = out["variant"].fillna("").astype(str)
    bad = sorted(set(out["lift"]) - set(LIFTS))
    if bad:
        row = int(np.flatnonzero(out["lift"].isin(bad).to_numpy())[0])
        raise InputError(
            f"{source}: row {row} (video {out['video_id'].iloc[row]}): lift {bad[0]!r} "
            f"is not one of {', '.join(LIFTS)}"
        )
    out["pct_1rm"] = pd.to_numeric(out["pct_1rm"], errors="coerce").astype(float)
    used = np.isfinite(out["pct_1rm"].to_numpy())
    for col, good in (("quality_ok", True), ("complete", True), ("failed", False)):
        if col in out.columns:
            used &= out[col].fillna(not good).astype(bool).to_numpy() == good
    out["used"] = used
    return out


def read_reps(path: str | Path) -> pd.DataFrame:
    """Read and validate ``results/tables/reps.parquet`` (see :func:`validate_reps`)."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: reps table not found")
    return validate_reps(pd.read_parquet(path), source=str(path))
