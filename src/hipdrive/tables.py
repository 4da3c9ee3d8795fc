"""Aggregate tables: every per-video reps/curves file joined to the manifest, with %1RM.

:func:`collect_tables` reads only the small per-video tables written by
``hipdrive analyze-video`` (never keypoints): the reps through a
:mod:`pyarrow.dataset`, and the curves batch by batch into a streaming
Parquet writer, so memory stays flat however many videos there are.

Relative load
-------------
``pct_1rm = 100 x load_kg / 1RM``. The 1RM is the manifest's ``one_rm_kg``;
when a row lacks it, the same lifter's stated 1RM for the same lift and
variant is used; failing that, it is estimated from the lifter's
load-velocity profile (:func:`estimate_one_rm`) and ``one_rm_estimated`` is
True.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds

from hipdrive.contracts.curves import CURVE_SCHEMA, CURVES_TABLE_SCHEMA
from hipdrive.contracts.exclusions import (
    excluded_table,
    exclusion_of,
    record,
    video_notes,
    write_excluded,
)
from hipdrive.contracts.files import (
    atomic_parquet_writer,
    atomic_write_table,
    read_provenance,
    sha256_file,
    with_provenance,
)
from hipdrive.contracts.reps import MANIFEST_COLUMNS, REP_SCHEMA, REPS_TABLE_SCHEMA
from hipdrive.errors import InputError

#: Minimal velocity threshold (mean concentric velocity at 1RM), m/s, per lift.
#: Squat 0.30 m/s: the MVT used for the full squat by Gonzalez-Badillo &
#: Sanchez-Medina (2010) and Jidovtseff et al. (2011); deadlift 0.15 m/s, the
#: order of the mean velocity at 1RM reported for the conventional deadlift
#: (Ruf et al. 2018). Configurable through :func:`collect_tables`.
MINIMAL_VELOCITY_M_S = {"squat": 0.30, "deadlift": 0.15}


def estimate_one_rm(
    load_kg: np.ndarray, velocity_m_s: np.ndarray, *, minimal_velocity_m_s: float
) -> float:
    """1RM from a load-velocity profile: linear fit extrapolated to the MVT.

    The mean concentric velocity falls almost linearly with the load
    (Gonzalez-Badillo & Sanchez-Medina 2010, R^2 ~ 0.98 for the bench press;
    Jidovtseff et al. 2011). Fitting ``v = a + b * load`` by least squares over
    a lifter's sets and solving ``a + b * load = MVT`` gives the 1RM.

    Parameters
    ----------
    load_kg, velocity_m_s : ndarray
        One point per set (NaN points are ignored).
    minimal_velocity_m_s : float
        Mean velocity at 1RM (:data:`MINIMAL_VELOCITY_M_S`).

    Returns
    -------
    float
        The estimated 1RM in kg; NaN with fewer than two distinct loads, a
        non-negative slope, or an estimate below the heaviest load lifted.

    References
    ----------
    Gonzalez-Badillo JJ, Sanchez-Medina L (2010). Movement velocity as a measure
    of loading intensity in resistance training. Int J Sports Med 31:347-352.
    doi:10.1055/s-0030-1248333

    Jidovtseff B, Harris NK, Crielaard JM, Cronin JB (2011). Using the
    load-velocity relationship for 1RM prediction. J Strength Cond Res
    25:267-270. doi:10.1519/JSC.0b013e3181b62c5f

    Ruf L, Chery C, Taylor KL (2018). Validity and reliability of the
    load-velocity relationship to predict the one-repetition maximum in
    deadlift. J Strength Cond Res 32:681-689. doi:10.1519/JSC.0000000000002369
    """
    load = np.asarray(load_kg, dtype=np.float64)
    vel = np.asarray(velocity_m_s, dtype=np.float64)
    ok = np.isfinite(load) & np.isfinite(vel)
    load, vel = load[ok], vel[ok]
    if len(np.unique(load)) < 2:
        return float("nan")
    slope, intercept = np.polyfit(load, vel, 1)
    if slope >= 0:
        return float("nan")
    one_rm = (minimal_velocity_m_s - intercept) / slope
    return float(one_rm) if one_rm >= load.max() else float("nan")


def _reps_files(folder: str | os.PathLike, ids: list[str], what: str) -> list[Path]:
    folder = Path(folder)
    files = {p.stem: p for p in folder.glob("*.parquet")} if folder.is_dir() else {}
    missing = [v for v in ids if v not in files]
    if missing:
        shown = ", ".join(missing[:10]) + (
            f" and {len(missing) - 10} more" if len(missing) > 10 else ""
        )
        raise InputError(f"{folder}: no {what} file for video(s) {shown}")
    extra = sorted(set(files) - set(ids))
    if extra:
        print(f"collect-tables: ignoring {len(extra)} {what} file(s) not in the manifest "
              f"({', '.join(extra[:5])})", file=sys.stderr)  # fmt: skip
    return [files[v] for v in ids]


def _one_rm_per_video(
    sheet: pd.DataFrame, reps: pd.DataFrame, minimal_velocity_m_s: Mapping[str, float]
) -> pd.DataFrame:
    """Per video: the 1RM used and whether it was estimated."""
    out = sheet[["video_id", "lifter_id", "lift", "variant", "load_kg", "one_rm_kg"]].copy()
    out["one_rm_estimated"] = False
    key = ["lifter_id", "lift", "variant"]
    stated = out.groupby(key, dropna=False)["one_rm_kg"].transform("median")
    out["one_rm_kg"] = out["one_rm_kg"].fillna(stated)
    need = out["one_rm_kg"].isna()
    if not need.any():
        return out
    good = reps[reps["complete"] & ~reps["failed"]]
    # One point per set: its fastest rep (best effort at that load; Jidovtseff et al. 2011).
    best = good.groupby("video_id")["mean_concentric_velocity_m_s"].max()
    out["velocity_m_s"] = out["video_id"].map(best)
    for _, group in out[need].groupby(key, dropna=False):
        lift = str(group["lift"].iloc[0])
        members = out[
            (out["lifter_id"] == group["lifter_id"].iloc[0])
            & (out["lift"] == lift)
            & (out["variant"].fillna("") == str(group["variant"].fillna("").iloc[0]))
        ]
        est = estimate_one_rm(
            members["load_kg"].to_numpy(),
            members["velocity_m_s"].to_numpy(),
            minimal_velocity_m_s=minimal_velocity_m_s.get(lift, np.nan),
        )
        out.loc[group.index, "one_rm_kg"] = est
        out.loc[group.index, "one_rm_estimated"] = bool(np.isfinite(est))
    return out.drop(columns="velocity_m_s")


#: Per-video files opened as one dataset at a time. A dataset keeps every
#: fragment's Parquet footer (~0.2 MB for a reps file) until it is dropped, so
#: opening 10,000 files at once would hold ~2 GB; chunks keep memory flat.
DATASET_CHUNK = 200
#: Rows per row group of the aggregate curves file (~30 MB of buffered columns).
ROW_GROUP_ROWS = 250_000


def _chunks(files: list[Path]) -> list[list[str]]:
    paths = [str(p) for p in files]
    return [paths[i : i + DATASET_CHUNK] for i in range(0, len(paths), DATASET_CHUNK)] or [[]]


def _video_exclusions(
    ids: list[str], provenance: Mapping[str, Mapping], reps: pd.DataFrame
) -> dict[str, dict[str, str]]:
    """Video -> exclusion record: the stages' own records, and videos with no rep at all."""
    with_reps = set(reps["video_id"])
    out = {}
    for vid in ids:
        rec = exclusion_of(provenance.get(vid, {}))
        if rec is None and vid not in with_reps:
            rec = record(
                "analysis", "no repetition found (the bar proxy never travelled far enough)"
            )
        if rec is not None:
            out[vid] = rec
    return out


def _provenance(files: list[Path], mvt: Mapping[str, float]) -> dict:
    """What an aggregate table was made from: each per-video file's sha256, the parameters.

    No clock time: the same inputs give the same bytes (a re-run after a kill is
    checked that way).
    """
    import importlib.metadata as md

    return {
        "inputs_sha256": {p.stem: sha256_file(p) for p in files},
        "params": {"minimal_velocity_m_s": dict(mvt)},
        "software": {pkg: md.version(pkg) for pkg in ("numpy", "pandas", "pyarrow")},
    }


def collect_tables(
    sample_sheet: pd.DataFrame,
    *,
    reps_dir: str | os.PathLike,
    curves_dir: str | os.PathLike,
    reps_out: str | os.PathLike,
    curves_out: str | os.PathLike,
    minimal_velocity_m_s: Mapping[str, float] | None = None,
    excluded_out: str | os.PathLike | None = None,
) -> None:
    """Write ``reps_out`` and ``curves_out`` for every video of the manifest.

    Parameters
    ----------
    sample_sheet : pandas.DataFrame
        The manifest (:func:`hipdrive.contracts.manifest.read_manifest`).
    reps_dir, curves_dir : path
        Folders with ``{video_id}.parquet`` per-video tables.
    reps_out : path
        Aggregate reps: :data:`REPS_TABLE_SCHEMA` (the per-rep columns + the
        manifest columns + ``pct_1rm``, ``one_rm_estimated``, ``backend``).
    curves_out : path
        Aggregate curves: :data:`CURVES_TABLE_SCHEMA`.
    minimal_velocity_m_s : mapping, optional
        MVT per lift for 1RM estimation (default :data:`MINIMAL_VELOCITY_M_S`).
    excluded_out : path, optional
        ``results/qc/excluded.tsv``: every video excluded by an earlier stage
        or without a rep, and every rep kept out of the models, with the
        reason (:func:`hipdrive.contracts.exclusions.excluded_table`); an HTML copy for
        the report goes beside it (same name, ``.html``).

    Raises
    ------
    InputError
        A manifest video without its per-video file, or a file that is not a
        per-rep / curves table.
    """
    mvt = {**MINIMAL_VELOCITY_M_S, **(minimal_velocity_m_s or {})}
    sheet = sample_sheet.copy()
    sheet["video_id"] = sheet["video_id"].astype(str)
    for col in MANIFEST_COLUMNS:
        if col not in sheet.columns:
            sheet[col] = np.nan
    ids = sheet["video_id"].tolist()
    rep_files = _reps_files(reps_dir, ids, "reps")
    curve_files = _reps_files(curves_dir, ids, "curves")
    try:
        reps_arrow = pa.concat_tables(
            ds.dataset(chunk, schema=REP_SCHEMA, format="parquet").to_table()
            for chunk in _chunks(rep_files)
        )
    except (pa.ArrowInvalid, pa.ArrowTypeError, OSError) as exc:
        raise InputError(
            f"{reps_dir}: a per-video reps file is unreadable or off-schema ({exc})"
        ) from exc
    reps = reps_arrow.to_pandas()
    provenance = {str(p.stem): read_provenance(p) for p in rep_files}
    backend = {vid: prov.get("backend") for vid, prov in provenance.items()}
    orm = _one_rm_per_video(sheet, reps, mvt).set_index("video_id")
    manifest = sheet.set_index("video_id")
    vid = reps["video_id"]
    for col in MANIFEST_COLUMNS:
        reps[col] = vid.map(orm[col] if col == "one_rm_kg" else manifest[col]).to_numpy()
    reps["pct_1rm"] = 100.0 * reps["load_kg"].astype(float) / reps["one_rm_kg"].astype(float)
    reps["one_rm_estimated"] = vid.map(orm["one_rm_estimated"]).astype(bool).to_numpy()
    reps["backend"] = vid.map(backend).to_numpy()
    for col in ("lifter_id", "variant", "camera_side", "backend"):
        reps[col] = reps[col].astype(object).where(reps[col].notna(), None)
    table = pa.Table.from_pandas(
        reps[list(REPS_TABLE_SCHEMA.names)], schema=REPS_TABLE_SCHEMA, preserve_index=False
    )
    atomic_write_table(with_provenance(table, _provenance(rep_files, mvt)), reps_out)
    if excluded_out is not None:
        write_excluded(
            excluded_table(
                reps,
                _video_exclusions(ids, provenance, reps),
                {
                    v: p["lost_outside_reps_s"]
                    for v, p in provenance.items()
                    if p.get("lost_outside_reps_s")
                },
                {v: found for v, p in provenance.items() if (found := video_notes(p))},
            ),
            excluded_out,
            Path(excluded_out).with_suffix(".html"),
        )

    per_video = pd.DataFrame(
        {
            "video_id": ids,
            "lifter_id": manifest["lifter_id"].astype(object).to_numpy(),
            "lift": manifest["lift"].astype(object).to_numpy(),
            "variant": manifest["variant"].astype(object).to_numpy(),
            "pct_1rm": 100.0
            * manifest["load_kg"].to_numpy(float)
            / orm["one_rm_kg"].to_numpy(float),
        }
    )
    lookup = pa.Table.from_pandas(per_video, preserve_index=False).combine_chunks()
    curves_schema = with_provenance(
        CURVES_TABLE_SCHEMA.empty_table(), _provenance(curve_files, mvt)
    )
    with atomic_parquet_writer(curves_out, curves_schema.schema) as writer:
        try:
            batches = (
                batch
                for chunk in _chunks(curve_files)
                for batch in ds.dataset(chunk, schema=CURVE_SCHEMA, format="parquet").to_batches()
            )
            # One row group per ~ROW_GROUP_ROWS rows, not one per video: 10,000 tiny row
            # groups made a slow file and a writer holding their metadata (935 MB at 10k videos).
            pending: list[pa.Table] = []
            n_pending = 0
            for batch in batches:
                if batch.num_rows == 0:
                    continue
                row = pc.index_in(
                    batch.column("video_id"), value_set=lookup.column("video_id").chunk(0)
                )
                cols = [batch.column(n) for n in CURVE_SCHEMA.names]
                cols += [
                    pc.take(lookup.column(n).chunk(0), row)
                    for n in ("lifter_id", "lift", "variant", "pct_1rm")
                ]
                pending.append(pa.Table.from_arrays(cols, schema=CURVES_TABLE_SCHEMA))
                n_pending += batch.num_rows
                if n_pending >= ROW_GROUP_ROWS:
                    writer.write_table(pa.concat_tables(pending), row_group_size=ROW_GROUP_ROWS)
                    pending, n_pending = [], 0
            if pending:
                writer.write_table(pa.concat_tables(pending), row_group_size=ROW_GROUP_ROWS)
        except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
            raise InputError(
                f"{curves_dir}: a per-video curves file is unreadable or off-schema ({exc})"
            ) from exc
