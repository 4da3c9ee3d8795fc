"""The ``synthetic`` backend: the simulator's ground truth, optionally degraded.

For simulation studies and tests the pose model is replaced by the exact
keypoints the simulator rendered (``truth_dir/{video_id}.keypoints.parquet``),
with optional Gaussian pixel noise and random dropouts, so the analysis and
statistics can be checked against a known truth without a pose model's error
(or with a controlled one). Outputs are labelled ``backend="synthetic"``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from hipdrive.contracts.files import sha256_file
from hipdrive.contracts.keypoints import KeypointFileError, read_keypoints
from hipdrive.errors import InputError

__all__ = ["degrade_keypoints", "synthetic_poses"]


def degrade_keypoints(
    table: pd.DataFrame,
    *,
    noise_px: float = 0.0,
    noise_corr_s: float = 0.0,
    noise_motion_px: float = 0.0,
    dropout_rate: float = 0.0,
    frame_dropout_rate: float = 0.0,
    seed: int = 0,
) -> pd.DataFrame:
    """Add pixel noise and dropouts to a long keypoint table (returns a copy).

    Parameters
    ----------
    table : DataFrame
        Long keypoint table (:mod:`hipdrive.contracts.keypoints` contract).
    noise_px : float, default 0
        Standard deviation in pixels of independent zero-mean Gaussian noise
        added to every ``x`` and ``y``.
    noise_corr_s : float, default 0
        Correlation time of that noise, seconds: 0 draws it afresh each frame;
        above 0 each coordinate's noise is a first-order autoregressive series
        (correlation ``exp(-dt / noise_corr_s)`` between frames ``dt`` apart, the
        same SD), the slow jitter of a pose tracker that smooths over time.
    noise_motion_px : float, default 0
        SD in pixels of further noise (correlated as above) that grows with the
        keypoint's speed: ``noise_motion_px`` at its fastest, none while still.
        A pose model that is steady on a still body and unsteady on a moving
        one (motion blur, a detector chasing the body).
    dropout_rate : float, default 0
        Probability (0..1) that a single keypoint in a frame is lost
        (NaN position, score 0), independently of the others.
    frame_dropout_rate : float, default 0
        Probability (0..1) that a whole frame is lost (a missed detection).
    seed : int, default 0
        Seed of :func:`numpy.random.default_rng`; the same seed gives the same
        degraded table.

    Returns
    -------
    DataFrame

    Examples
    --------
    >>> noisy = degrade_keypoints(truth, noise_px=2.0, seed=1)  # doctest: +SKIP
    """
    for label, rate in (("dropout_rate", dropout_rate), ("frame_dropout_rate", frame_dropout_rate)):
        if not 0.0 <= rate <= 1.0:
            raise InputError(f"synthetic backend: {label} must be in 0..1, got {rate!r}")
    for label, value in (("noise_px", noise_px), ("noise_corr_s", noise_corr_s),
                         ("noise_motion_px", noise_motion_px)):  # fmt: skip
        if not value >= 0.0:
            raise InputError(f"synthetic backend: {label} must be >= 0, got {value!r}")
    rng = np.random.default_rng(seed)
    out = table.copy()
    n = len(out)
    x = out["x"].to_numpy(dtype=np.float64)
    y = out["y"].to_numpy(dtype=np.float64)
    score = out["score"].to_numpy(dtype=np.float64).copy()
    if noise_px > 0:
        noise = rng.normal(0.0, noise_px, size=(2, n))
        if noise_corr_s > 0:
            noise = _autocorrelate(noise, out, noise_corr_s)
        x, y = x + noise[0], y + noise[1]
    if noise_motion_px > 0:
        noise = rng.normal(0.0, noise_motion_px, size=(2, n))
        if noise_corr_s > 0:
            noise = _autocorrelate(noise, out, noise_corr_s)
        noise *= _relative_speed(out)
        x, y = x + noise[0], y + noise[1]
    lost = rng.random(n) < dropout_rate
    if frame_dropout_rate > 0:
        frames, inverse = np.unique(out["frame"].to_numpy(), return_inverse=True)
        lost |= (rng.random(len(frames)) < frame_dropout_rate)[inverse]
    x[lost], y[lost], score[lost] = np.nan, np.nan, 0.0
    out["x"], out["y"] = x.astype(np.float32), y.astype(np.float32)
    out["score"] = score.astype(np.float32)
    return out


def _relative_speed(table: pd.DataFrame) -> np.ndarray:
    """Each row's keypoint speed over that keypoint's 99th-percentile speed (0..1)."""
    out = np.zeros(len(table))
    times = table["time_s"].to_numpy(dtype=np.float64)
    xy = table[["x", "y"]].to_numpy(dtype=np.float64)
    for rows in table.groupby(["track", "keypoint"], observed=True, sort=False).indices.values():
        rows = rows[np.argsort(times[rows], kind="stable")]
        if len(rows) < 2:
            continue
        step = np.gradient(xy[rows], times[rows], axis=0)
        speed = np.nan_to_num(np.hypot(step[:, 0], step[:, 1]))
        top = np.percentile(speed, 99)
        out[rows] = np.clip(speed / top, 0.0, 1.0) if top > 0 else 0.0
    return out


def _autocorrelate(white: np.ndarray, table: pd.DataFrame, corr_s: float) -> np.ndarray:
    """White noise (2, n) -> per-keypoint AR(1) series in time order, same SD.

    The frame interval is each keypoint's median one (the simulator's clips are
    evenly timed); the first value is kept, so every value has the same SD.
    """
    from scipy.signal import lfilter

    out = np.empty_like(white)
    times = table["time_s"].to_numpy(dtype=np.float64)
    for rows in table.groupby(["track", "keypoint"], observed=True, sort=False).indices.values():
        rows = rows[np.argsort(times[rows], kind="stable")]
        if len(rows) < 2:
            out[:, rows] = white[:, rows]
            continue
        a = float(np.exp(-np.median(np.diff(times[rows])) / corr_s))
        b = np.sqrt(1.0 - a * a)
        e = white[:, rows]
        # y_i = a y_(i-1) + b e_i with y_0 = e_0
        out[:, rows] = lfilter([b], [1.0, -a], e, axis=1, zi=(1.0 - b) * e[:, :1])[0]
    return out


def synthetic_poses(
    video_path: str | os.PathLike | None,
    *,
    video_id: str,
    truth_dir: str | os.PathLike,
    noise_px: float = 0.0,
    noise_corr_s: float = 0.0,
    dropout_rate: float = 0.0,
    frame_dropout_rate: float = 0.0,
    seed: int = 0,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Keypoints for a simulated video from its ground truth.

    Parameters
    ----------
    video_path : path-like or None
        The rendered video. Used only for its sha256 (provenance); when it
        does not exist the truth file's recorded ``video_sha256`` is kept.
    video_id : str
        Selects ``truth_dir/{video_id}.keypoints.parquet``.
    truth_dir : path-like
        Folder where the simulator wrote its ground truth.
    noise_px, noise_corr_s, dropout_rate, frame_dropout_rate, seed
        See :func:`degrade_keypoints`.

    Returns
    -------
    table : DataFrame
        Keypoints in the :mod:`hipdrive.contracts.keypoints` contract.
    metadata : dict
        The truth's geometry (width, height, rotation, fps, n_frames) with
        ``backend="synthetic"``, the truth file's sha256 as
        ``checkpoint_sha256`` and the degradation settings.

    Raises
    ------
    hipdrive.errors.InputError
        When the truth file is missing or unreadable.
    """
    truth_path = Path(truth_dir) / f"{video_id}.keypoints.parquet"
    if not truth_path.is_file():
        raise InputError(
            f"synthetic backend: no ground truth {truth_path} for video {video_id!r} "
            "(run `hipdrive simulate video` first, or check options.truth_dir)"
        )
    try:
        truth, truth_meta = read_keypoints(truth_path)
    except KeypointFileError as exc:
        raise InputError(f"synthetic backend: {exc}") from exc
    table = degrade_keypoints(
        truth,
        noise_px=noise_px,
        noise_corr_s=noise_corr_s,
        dropout_rate=dropout_rate,
        frame_dropout_rate=frame_dropout_rate,
        seed=seed,
    )
    if video_path is not None and Path(video_path).is_file():
        video_sha = sha256_file(video_path)
    else:
        video_sha = truth_meta.get("video_sha256")
    lifter = table[table["track"] == 0]
    per_frame = lifter.groupby("frame", observed=True)["score"].max()
    settings = {
        "noise_px": float(noise_px),
        "noise_corr_s": float(noise_corr_s),
        "dropout_rate": float(dropout_rate),
        "frame_dropout_rate": float(frame_dropout_rate),
        "seed": int(seed),
    }
    metadata = {
        **{k: truth_meta.get(k) for k in ("width", "height", "rotation", "fps", "n_frames")},
        "video_id": video_id,
        "video_sha256": video_sha,
        "backend": "synthetic",
        "model": "simulator ground truth"
        + (" + noise" if noise_px or dropout_rate or frame_dropout_rate else ""),
        "checkpoint_sha256": sha256_file(truth_path),
        "truth_path": str(truth_path),
        "n_frames_lost": int((per_frame <= 0).sum()),
        "options": {**settings, "truth_dir": str(truth_dir)},
        "backend_settings": settings,
    }
    return table, metadata
