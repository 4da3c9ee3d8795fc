"""The keypoint contract: one Parquet file per video, long format, with provenance.

Every pose backend, importer and the simulator's ground truth write through
:func:`write_keypoints`, and every downstream stage reads through
:func:`read_keypoints`, so the schema lives in exactly one place.

Layout (one row per frame x keypoint, every decoded frame present)::

    frame     int32    0-based index of the decoded frame (presentation order)
    time_s    float64  presentation timestamp in seconds (not frame / fps)
    track     int16    0 = the lifter; others only when asked for
    keypoint  dictionary<int8, string>  COCO-17 names (+ heels, big toes; + ``bar_end``
                                        where a bar tracker ran, :data:`BAR_POINTS`)
    x, y      float32  pixels in the upright (rotation-corrected) image, y down
    score     float32  0..1; a frame with no detection has x = y = NaN, score 0

File metadata: JSON under the key ``hipdrive`` (see :data:`REQUIRED_METADATA`).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from hipdrive.contracts.files import (
    METADATA_KEY,
    atomic_write_table,
    json_default,
    package_version,
)
from hipdrive.errors import InputError

SCHEMA_VERSION = 1

#: COCO-17 keypoint names in their canonical order.
COCO17 = (
    "nose", "left_eye", "right_eye", "left_ear", "right_ear",
    "left_shoulder", "right_shoulder", "left_elbow", "right_elbow",
    "left_wrist", "right_wrist", "left_hip", "right_hip",
    "left_knee", "right_knee", "left_ankle", "right_ankle",
)  # fmt: skip
#: Foot points that backends with more landmarks (MediaPipe, the simulator) add.
FOOT_POINTS = ("left_heel", "right_heel", "left_big_toe", "right_big_toe")
KEYPOINT_NAMES = COCO17 + FOOT_POINTS
#: Points on the barbell, not the body: the tracked bar end
#: (:mod:`hipdrive.pose.bar_tracker`), written as a keypoint of track 0 whose
#: score is the tracker's match score.
BAR_POINTS = ("bar_end",)
#: Every name a keypoint file may hold (the body's, then the bar's).
CONTRACT_NAMES = KEYPOINT_NAMES + BAR_POINTS

KEYPOINT_SCHEMA = pa.schema(
    [
        pa.field("frame", pa.int32(), nullable=False),
        pa.field("time_s", pa.float64(), nullable=False),
        pa.field("track", pa.int16(), nullable=False),
        pa.field("keypoint", pa.dictionary(pa.int8(), pa.string()), nullable=False),
        pa.field("x", pa.float32()),
        pa.field("y", pa.float32()),
        pa.field("score", pa.float32()),
    ]
)

#: Metadata every keypoint file carries (values may be null where unknown,
#: e.g. no checkpoint for MediaPipe's bundled model).
REQUIRED_METADATA = (
    "schema_version", "video_id", "video_sha256", "width", "height", "rotation",
    "fps", "n_frames", "backend", "model", "checkpoint_sha256", "package_version",
)  # fmt: skip


class KeypointFileError(InputError):
    """A keypoint file is missing, unreadable or breaks the contract."""


def frames_to_long(
    xy: np.ndarray,
    score: np.ndarray,
    time_s: np.ndarray,
    names: tuple[str, ...] | list[str] = KEYPOINT_NAMES,
    *,
    track: int = 0,
    frame: np.ndarray | None = None,
) -> pd.DataFrame:
    """Turn dense arrays into the long keypoint table.

    Parameters
    ----------
    xy : (n_frames, n_keypoints, 2) float array, pixels, y down; NaN where missing.
    score : (n_frames, n_keypoints) float array in 0..1.
    time_s : (n_frames,) presentation timestamps in seconds.
    names : keypoint names, one per column of ``xy``.
    """
    xy = np.asarray(xy, dtype=np.float32)
    score = np.asarray(score, dtype=np.float32)
    n_frames, n_kp = score.shape
    if xy.shape != (n_frames, n_kp, 2) or len(names) != n_kp or len(time_s) != n_frames:
        raise ValueError(
            f"shape mismatch: xy {xy.shape}, score {score.shape}, "
            f"{len(names)} names, {len(time_s)} timestamps"
        )
    frame = np.arange(n_frames, dtype=np.int32) if frame is None else np.asarray(frame, np.int32)
    codes = np.tile(np.arange(n_kp, dtype=np.int8), n_frames)
    return pd.DataFrame(
        {
            "frame": np.repeat(frame, n_kp),
            "time_s": np.repeat(np.asarray(time_s, dtype=np.float64), n_kp),
            "track": np.full(n_frames * n_kp, track, dtype=np.int16),
            "keypoint": pd.Categorical.from_codes(codes, categories=list(names)),
            "x": xy[..., 0].ravel(),
            "y": xy[..., 1].ravel(),
            "score": score.ravel(),
        }
    )


def long_to_frames(
    table: pd.DataFrame, names: tuple[str, ...] | list[str] = KEYPOINT_NAMES, *, track: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Dense ``(frame, time_s, xy, score)`` arrays for one track.

    Keypoints absent from the file come back as NaN with score 0, so the
    analysis can ask for heels on a COCO-17-only backend and get a clean gap.
    """
    sub = table[table["track"] == track]
    frames = np.unique(sub["frame"].to_numpy())
    n_f, n_k = len(frames), len(names)
    xy = np.full((n_f, n_k, 2), np.nan, dtype=np.float64)
    score = np.zeros((n_f, n_k), dtype=np.float64)
    time_s = np.full(n_f, np.nan)
    if n_f == 0:
        return frames.astype(np.int32), time_s, xy, score
    fi = np.searchsorted(frames, sub["frame"].to_numpy())
    time_s[fi] = sub["time_s"].to_numpy()
    name_index = {n: i for i, n in enumerate(names)}
    kp = sub["keypoint"]
    if not isinstance(kp.dtype, pd.CategoricalDtype):
        kp = kp.astype("category")
    # Map the few categories, not the many rows (a per-row lookup made this the hot spot).
    category_to_index = np.array([name_index.get(str(c), -1) for c in kp.cat.categories] + [-1])
    ki = category_to_index[kp.cat.codes.to_numpy()]  # code -1 (missing) hits the trailing -1
    keep = ki >= 0
    xy[fi[keep], ki[keep], 0] = sub["x"].to_numpy()[keep]
    xy[fi[keep], ki[keep], 1] = sub["y"].to_numpy()[keep]
    score[fi[keep], ki[keep]] = np.nan_to_num(sub["score"].to_numpy()[keep])
    return frames.astype(np.int32), time_s, xy, score


def _validate(table: pd.DataFrame, metadata: Mapping[str, Any], where: str) -> None:
    missing = [k for k in REQUIRED_METADATA if k not in metadata]
    if missing:
        raise KeypointFileError(f"{where}: metadata lacks {', '.join(missing)}")
    cols = [f.name for f in KEYPOINT_SCHEMA]
    absent = [c for c in cols if c not in table.columns]
    if absent:
        raise KeypointFileError(f"{where}: columns missing: {', '.join(absent)}")
    unknown = set(map(str, pd.unique(table["keypoint"].astype(str)))) - set(CONTRACT_NAMES)
    if unknown:
        raise KeypointFileError(f"{where}: unknown keypoint names {sorted(unknown)}")
    s = table["score"].to_numpy(dtype=np.float64)
    if np.any((s < 0) | (s > 1)):
        raise KeypointFileError(f"{where}: scores outside 0..1")


def write_keypoints(
    table: pd.DataFrame, path: str | os.PathLike, metadata: Mapping[str, Any]
) -> None:
    """Validate ``table`` against the contract and write it atomically."""
    meta = {"schema_version": SCHEMA_VERSION, "package_version": package_version(), **metadata}
    _validate(table, meta, str(path))
    frame = table[[f.name for f in KEYPOINT_SCHEMA]].copy()
    frame["keypoint"] = pd.Categorical(
        frame["keypoint"].astype(str), categories=list(CONTRACT_NAMES)
    )
    arrow = pa.Table.from_pandas(frame, schema=KEYPOINT_SCHEMA, preserve_index=False)
    arrow = arrow.replace_schema_metadata({METADATA_KEY: json.dumps(meta, default=json_default)})
    atomic_write_table(arrow, path)


def read_metadata(path: str | os.PathLike) -> dict[str, Any]:
    """Only the provenance of a keypoint file (cheap: reads the footer)."""
    try:
        raw = pq.read_schema(path).metadata or {}
    except (OSError, pa.ArrowInvalid) as exc:
        raise KeypointFileError(f"{path}: not a readable Parquet file ({exc})") from exc
    if METADATA_KEY not in raw:
        raise KeypointFileError(
            f"{path}: no '{METADATA_KEY.decode()}' metadata; not a hipdrive keypoint file"
        )
    return json.loads(raw[METADATA_KEY])


def read_keypoints(path: str | os.PathLike) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Read and validate one keypoint file: ``(table, metadata)``."""
    metadata = read_metadata(path)
    if metadata.get("schema_version") != SCHEMA_VERSION:
        raise KeypointFileError(
            f"{path}: schema version {metadata.get('schema_version')} != {SCHEMA_VERSION}"
        )
    try:
        table = pq.read_table(path).to_pandas()
    except (OSError, pa.ArrowInvalid) as exc:
        raise KeypointFileError(f"{path}: unreadable ({exc})") from exc
    _validate(table, metadata, str(path))
    return table, metadata

