"""How well the bundled MediaPipe model sees the rendered lifter, per phase.

Renders simulated clips, runs :class:`hipdrive.pose.mediapipe_backend.MediaPipeBackend`
on the encoded mp4 (decoded by :func:`hipdrive.video.iter_frames`) and compares
with the true keypoints frame by frame: detection rate, keypoint error in
pixels (near-side shoulder, elbow, wrist, hip, knee, ankle: the side facing the
camera) and trunk-angle error in degrees (mid-hip -> mid-shoulder from vertical,
docs/definitions.md, "Trunk angle"), per phase of the lift. Targets: detection >= 98 % of
frames and median trunk-angle error <= 5 deg in every phase.
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from hipdrive.contracts.keypoints import KEYPOINT_NAMES, long_to_frames, read_keypoints
from hipdrive.simulate.motion import LifterMotion
from hipdrive.simulate.study import build_motion, simulate_video, study_manifest
from hipdrive.simulate.truth import body_angles

PHASES = ("standing", "descent", "bottom", "ascent")
_NEAR_PARTS = ("shoulder", "elbow", "wrist", "hip", "knee", "ankle")


def phase_labels(
    motion: LifterMotion, time_s: np.ndarray, *, bottom_window_s: float = 0.2
) -> np.ndarray:
    """Phase of each frame: standing, descent, bottom or ascent.

    Squat: ``bottom`` = within ``bottom_window_s`` of the lowest point (or the
    pause), ``descent`` / ``ascent`` the moving phases outside it, ``standing``
    the rest. Deadlift: ``bottom`` = bar on the floor (set-up), ``ascent`` =
    the pull, ``standing`` = the lockout, ``descent`` = lowering.
    """
    t = np.asarray(time_s, float)
    lab = np.full(t.shape, "standing" if motion.lift == "squat" else "bottom", dtype=object)
    for r in motion.reps:
        tb, tl = motion.bottom_time(r), motion.ascent_end_time(r)
        if motion.lift == "squat":
            lab[(t >= r.t_start) & (t < tb)] = "descent"
            lab[(t >= tb) & (t <= tl)] = "ascent"
            lab[(t >= r.t_start + r.descent_s - bottom_window_s) & (t <= tb + bottom_window_s)] = (
                "bottom"
            )
        else:
            lab[(t >= tb) & (t <= tl)] = "ascent"
            lab[(t > tl) & (t < tl + r.hold_s)] = "standing"
            lab[(t >= tl + r.hold_s) & (t < motion.end_time(r))] = "descent"
    return lab.astype(str)


def score_frames(
    pred_xy: np.ndarray,
    pred_score: np.ndarray,
    true_xy: np.ndarray,
    *,
    facing: str,
    min_score: float = 0.0,
) -> pd.DataFrame:
    """Per-frame detection, near-side keypoint error (px) and trunk-angle error (deg).

    A frame counts as detected when the model returned a person (finite
    keypoints with a score above ``min_score`` at both hips and shoulders).
    """
    idx = {n: i for i, n in enumerate(KEYPOINT_NAMES)}
    core = [idx[f"{s}_{p}"] for s in ("left", "right") for p in ("shoulder", "hip")]
    finite = np.all(np.isfinite(pred_xy[:, core]), axis=(1, 2)) & np.all(
        pred_score[:, core] > min_score, axis=1
    )
    near = [idx[f"{facing}_{p}"] for p in _NEAR_PARTS]
    err = np.linalg.norm(pred_xy[:, near] - true_xy[:, near], axis=2)
    trunk_pred = body_angles(pred_xy, facing)["trunk"]
    trunk_true = body_angles(true_xy, facing)["trunk"]

    def near_trunk(xy):
        sh, hp = xy[:, idx[f"{facing}_shoulder"]], xy[:, idx[f"{facing}_hip"]]
        sign = 1.0 if facing == "right" else -1.0
        return np.degrees(np.arctan2(sign * (sh[:, 0] - hp[:, 0]), hp[:, 1] - sh[:, 1]))

    return pd.DataFrame({
        "detected": finite,
        "kp_err_px": np.where(finite, np.median(err, axis=1), np.nan),
        "trunk_err_deg": np.where(finite, trunk_pred - trunk_true, np.nan),
        "trunk_err_near_deg": np.where(finite, near_trunk(pred_xy) - near_trunk(true_xy), np.nan),
        "trunk_true_deg": trunk_true,
    })  # fmt: skip


def check_detection(
    *,
    n_videos: int = 2,
    lifts: Sequence[str] = ("squat",),
    seed: int = 2026,
    fps: float = 30.0,
    n_reps: int = 2,
    out_dir: str | Path | None = None,
    effect_slope_deg_per_10pct: float = 1.5,
    smooth_landmarks: bool = True,
    static_image_mode: bool = False,
    min_tracking_confidence: float = 0.5,
    recheck_every: int = 0,
    samples: pd.DataFrame | None = None,
    **render_options: Any,
) -> pd.DataFrame:
    """Render ``n_videos`` clips, run MediaPipe, return one row per frame.

    Columns: ``video_id, lift, facing, pct_1rm, frame, phase`` plus those of
    :func:`score_frames`. Lifters, loads (60..100 %1RM) and facing vary across
    clips. With ``samples`` (manifest rows, e.g. the demo study's
    ``config/samples.tsv``) exactly those videos are rendered, as the
    workflow's ``simulate_video`` rule renders them, and ``n_videos`` and
    ``lifts`` are ignored.

    ``smooth_landmarks``, ``static_image_mode``, ``min_tracking_confidence``
    and ``recheck_every`` (defaults as the backend's) are passed to
    :class:`~hipdrive.pose.mediapipe_backend.MediaPipeBackend`: with tracking
    (the default) MediaPipe can keep a wrong, upright trunk after the plate hid
    the hips at a deadlift lockout; running its detector on every frame
    (``static_image_mode=True``) recovers. A track dropped at a squat bottom
    (plate over the head) is re-detected only once the lifter stands up; a
    lower ``min_tracking_confidence`` keeps it (measured figures in docs/validation.md).
    """
    from hipdrive.pose.mediapipe_backend import MediaPipeBackend
    from hipdrive.video import iter_frames

    tmp = None
    if out_dir is None:
        tmp = tempfile.TemporaryDirectory(prefix="hipdrive-detect-")
        out_dir = tmp.name
    out = Path(out_dir)
    rows = _default_rows(n_videos, lifts, seed) if samples is None else samples.to_dict("records")
    tables = []
    try:
        for row in rows:
            vid = row["video_id"]
            simulate_video(row, seed=seed, effect_slope_deg_per_10pct=effect_slope_deg_per_10pct, fps=fps,
                           n_reps=n_reps, video_path=out / f"{vid}.mp4", truth_dir=out, **render_options)  # fmt: skip
            _, motion = build_motion(row, seed=seed, effect_slope_deg_per_10pct=effect_slope_deg_per_10pct,
                                     n_reps=n_reps)  # fmt: skip
            table, _ = read_keypoints(out / f"{vid}.keypoints.parquet")
            _, time_s, true_xy, _ = long_to_frames(table)
            pred_xy = np.full_like(true_xy, np.nan)
            pred_score = np.zeros(true_xy.shape[:2])
            with MediaPipeBackend(
                smooth_landmarks=smooth_landmarks,
                static_image_mode=static_image_mode,
                min_tracking_confidence=min_tracking_confidence,
                recheck_every=recheck_every,
            ) as backend:
                for i, _t, rgb in iter_frames(out / f"{vid}.mp4"):
                    xy, sc = backend.predict([rgb])[0]
                    if len(xy):
                        pred_xy[i], pred_score[i] = xy[0], sc[0]
            df = score_frames(pred_xy, pred_score, true_xy, facing=row["camera_side"])
            df.insert(0, "phase", phase_labels(motion, time_s))
            df.insert(0, "frame", np.arange(len(df)))
            df.insert(0, "pct_1rm", 100.0 * row["load_kg"] / row["one_rm_kg"])
            df.insert(0, "facing", row["camera_side"])
            df.insert(0, "lift", row["lift"])
            df.insert(0, "video_id", vid)
            tables.append(df)
    finally:
        if tmp is not None:
            tmp.cleanup()
    return pd.concat(tables, ignore_index=True)


def _default_rows(n_videos: int, lifts: Sequence[str], seed: int) -> list[dict]:
    """One clip per lifter of a simulated study, loads cycling, both facings."""
    loads = [60.0, 70.0, 80.0, 90.0, 100.0]
    per_lift = max(1, int(np.ceil(n_videos / len(lifts))))
    manifest = study_manifest(n_lifters=per_lift, loads_pct=loads, seed=seed, lifts=lifts)
    rows = []
    for lift in lifts:
        m = manifest[manifest["lift"] == lift]
        for k, (_, g) in enumerate(m.groupby("lifter_id", sort=True)):
            row = g.iloc[k % len(g)].to_dict()
            row["camera_side"] = "right" if k % 2 == 0 else "left"
            rows.append(row)
    return rows[:n_videos]


def summarise_videos(table: pd.DataFrame) -> pd.DataFrame:
    """Per video: frames, detection rate, and the phase with the lowest rate."""
    out = []
    for vid, g in table.groupby("video_id", sort=True):
        by_phase = 100.0 * g.groupby("phase")["detected"].mean()
        out.append({
            "video_id": vid, "facing": g["facing"].iloc[0], "frames": len(g),
            "detected_pct": 100.0 * g["detected"].mean(), "worst_phase": by_phase.idxmin(),
            "worst_phase_detected_pct": by_phase.min(),
            "trunk_err_near_median_deg": g["trunk_err_near_deg"].abs().median(),
        })  # fmt: skip
    return pd.DataFrame(out)


def summarise_detection(table: pd.DataFrame) -> pd.DataFrame:
    """Per lift and phase (plus ``all``): detection rate and error quantiles."""
    out = []
    for (lift, phase), g in list(table.groupby(["lift", "phase"])) + [(("all", "all"), table)]:
        out.append({
            "lift": lift, "phase": phase, "frames": len(g),
            "detected_pct": 100.0 * g["detected"].mean(),
            "kp_err_median_px": g["kp_err_px"].median(), "kp_err_p95_px": g["kp_err_px"].quantile(0.95),
            "trunk_err_median_deg": g["trunk_err_deg"].abs().median(),
            "trunk_err_p95_deg": g["trunk_err_deg"].abs().quantile(0.95),
            "trunk_bias_deg": g["trunk_err_deg"].median(),
            "trunk_err_near_median_deg": g["trunk_err_near_deg"].abs().median(),
        })  # fmt: skip
    return pd.DataFrame(out)


def format_detection_report(table: pd.DataFrame, *, per_video: bool = False) -> str:
    """The summary as a fixed-width text table (see docs/validation.md); per video on request."""
    fmt = lambda v: f"{v:.1f}"  # noqa: E731
    s = summarise_detection(table)
    n_vid = table["video_id"].nunique()
    head = f"MediaPipe (model_complexity=1) on {n_vid} rendered clip(s), {len(table)} frames\n"
    text = head + s.to_string(index=False, float_format=fmt)
    if per_video:
        text += "\n\nper video:\n" + summarise_videos(table).to_string(
            index=False, float_format=fmt
        )
    return text
