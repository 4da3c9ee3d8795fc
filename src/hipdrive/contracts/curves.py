"""The curves contract: time-normalised trajectories per rep, long format.

``hipdrive analyze-video`` writes one curves file per video
(:data:`CURVE_SCHEMA`); ``collect-tables`` streams them, with the lifter, lift
and %1RM of each video, into ``results/tables/curves.parquet``
(:data:`CURVES_TABLE_SCHEMA`), which the statistics and figures read.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from hipdrive.contracts.files import atomic_write_table, to_arrow, with_provenance
from hipdrive.contracts.reps import PANDAS_DTYPES, require_columns
from hipdrive.errors import InputError

#: Curves: variables time-normalised per phase (agreed contract).
CURVE_VARIABLES = (
    "trunk_angle_deg", "hip_angle_deg", "knee_angle_deg", "shin_angle_deg", "bar_height_bh",
    "bar_velocity_bh_s", "hip_height_bh", "shoulder_height_bh", "moment_arm_ratio",
)  # fmt: skip
CURVE_SCHEMA = pa.schema(
    [
        ("video_id", pa.string()), ("rep", pa.int16()), ("phase", pa.string()),
        ("pct", pa.int16()), ("variable", pa.string()), ("value", pa.float64()),
    ]
)  # fmt: skip
#: Points per phase in the time-normalised curves (0, 1, ..., 100 % of the phase).
CURVE_POINTS = 101

CURVES_TABLE_SCHEMA = pa.schema(
    list(CURVE_SCHEMA)
    + [
        pa.field("lifter_id", pa.string()), pa.field("lift", pa.string()),
        pa.field("variant", pa.string()), pa.field("pct_1rm", pa.float64()),
    ]
)  # fmt: skip

REQUIRED_CURVE_COLUMNS = (
    "video_id",
    "rep",
    "phase",
    "pct",
    "variable",
    "value",
    "lifter_id",
    "lift",
)


def empty_curves() -> pd.DataFrame:
    """A zero-row curves table with the right columns and dtypes."""
    return pd.DataFrame({f.name: pd.Series(dtype=PANDAS_DTYPES[f.type]) for f in CURVE_SCHEMA})


def write_curves(
    curves: pd.DataFrame, path: str | os.PathLike, provenance: Mapping[str, Any] | None = None
) -> None:
    """Write a curves table atomically with :data:`CURVE_SCHEMA`."""
    arrow = to_arrow(curves, CURVE_SCHEMA)
    atomic_write_table(with_provenance(arrow, provenance or {}), path)


def read_curves(
    path: str | Path,
    *,
    variables: Sequence[str] | None = None,
    phase: str | None = None,
) -> pd.DataFrame:
    """Read ``results/tables/curves.parquet``, only the rows needed.

    Parameters
    ----------
    path : str or Path
        Long curves table (``video_id, rep, phase, pct, variable, value`` +
        ``lifter_id, lift, variant, pct_1rm``).
    variables : sequence of str, optional
        Keep only these curve variables (pushed down into the Parquet reader).
    phase : str, optional
        Keep only this phase (``"ascent"`` or ``"descent"``).

    Returns
    -------
    pandas.DataFrame
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: curves table not found")
    filters = []
    if variables is not None:
        filters.append(("variable", "in", list(variables)))
    if phase is not None:
        filters.append(("phase", "=", phase))
    curves = pd.read_parquet(path, filters=filters or None)
    require_columns(curves, REQUIRED_CURVE_COLUMNS, str(path))
    for col in ("video_id", "phase", "variable", "lifter_id", "lift"):
        curves[col] = curves[col].astype(str)
    return curves


def curve_matrix(
    curves: pd.DataFrame,
    *,
    variable: str = "trunk_angle_deg",
    phase: str = "ascent",
    reps: pd.DataFrame | None = None,
    complete: bool = True,
) -> tuple[pd.DataFrame, np.ndarray]:
    """Stack one variable's time-normalised curves into a reps x 101 matrix.

    Parameters
    ----------
    curves : pandas.DataFrame
        Long curves table.
    variable, phase : str
        Which curve.
    reps : pandas.DataFrame, optional
        Validated reps table; when given, only its ``used`` reps are kept and
        ``pct_1rm``/``lifter_id``/``lift`` come from it.
    complete : bool
        Drop curves with any missing (NaN) node (SPM needs complete curves);
        False keeps them, with NaN where a node is missing, as long as one
        node has a value.

    Returns
    -------
    index : pandas.DataFrame
        One row per curve: ``video_id, rep, lifter_id, lift, pct_1rm``.
    values : numpy.ndarray
        ``(n_curves, 101)``.
    """
    c = curves[(curves["variable"] == variable) & (curves["phase"] == phase)]
    if c.empty:
        empty = pd.DataFrame(
            {
                "video_id": pd.Series(dtype=str),
                "rep": pd.Series(dtype=int),
                "lifter_id": pd.Series(dtype=str),
                "lift": pd.Series(dtype=str),
                "pct_1rm": pd.Series(dtype=float),
            }
        )
        return empty, np.zeros((0, 101))
    pct = c["pct"].to_numpy()
    if len(pct) and (pct.min() < 0 or pct.max() > 100):
        raise InputError(f"curves table: pct of {variable} outside 0..100")
    # one integer key per (video, rep): factorising tuples is ~20x slower
    vcodes, videos = pd.factorize(c["video_id"])
    rep = c["rep"].to_numpy(np.int64)
    base = int(rep.max()) + 1
    codes, keys = pd.factorize(vcodes.astype(np.int64) * base + rep)
    wide = np.full((len(keys), 101), np.nan)
    wide[codes, pct.astype(int)] = c["value"].to_numpy(float)
    keep = np.isfinite(wide).all(axis=1) if complete else np.isfinite(wide).any(axis=1)
    idx = pd.DataFrame({"video_id": np.asarray(videos)[keys // base], "rep": keys % base})
    idx = idx[keep].reset_index(drop=True)
    wide = wide[keep]
    if reps is not None:
        meta = reps.loc[reps["used"], ["video_id", "rep", "lifter_id", "lift", "pct_1rm"]].copy()
        meta = meta.drop_duplicates(["video_id", "rep"])
        meta["rep"] = meta["rep"].astype(int)
        idx = idx.merge(meta, on=["video_id", "rep"], how="left", indicator=False)
    else:
        meta = (
            c.drop_duplicates(["video_id", "rep"])
            .loc[:, ["video_id", "rep", "lifter_id", "lift", "pct_1rm"]]
            .astype({"rep": int})
        )
        idx = idx.merge(meta, on=["video_id", "rep"], how="left")
    ok = idx["lifter_id"].notna().to_numpy() & np.isfinite(idx["pct_1rm"].astype(float)).to_numpy()
    return idx[ok].reset_index(drop=True), wide[ok]
