"""Per-video analysis: keypoints -> cleaned kinematics -> reps -> per-rep table + curves.

:func:`analyze_video` is the one call the workflow's ``analyze_video`` rule
makes (through ``hipdrive analyze-video``); every tunable lives in
:class:`AnalysisParams`. The chain is :mod:`hipdrive.analysis.clean` ->
:mod:`hipdrive.analysis.kinematics` -> :mod:`hipdrive.analysis.segment` ->
:mod:`hipdrive.analysis.metrics`.
This module never imports a pose or plotting library.
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from hipdrive.analysis import bar_checks, clean, filters, kinematics, metrics, plausibility, segment
from hipdrive.analysis.params import (
    AnalysisParams,
    CleanParams,
    MetricParams,
    OrientParams,
    SegmentParams,
    step_params,
)
from hipdrive.body import PROPORTIONS, body_height_px, part_position
from hipdrive.contracts.keypoints import BAR_POINTS, CONTRACT_NAMES, KEYPOINT_NAMES, long_to_frames
from hipdrive.contracts.reps import view_of
from hipdrive.errors import InputError, UnusableVideoError


def frame_rate_hz(time_s: np.ndarray) -> float:
    """Nominal frame rate from presentation timestamps.

    The mean frame spacing, leaving out gaps longer than 1.5 median spacings
    (dropped frames). Not the median spacing alone: timestamps rounded to a
    1 ms time base alternate 16 and 17 ms at 60 fps, whose median (17 ms)
    would give 58.8 Hz.
    """
    dt = np.diff(np.asarray(time_s, dtype=np.float64))
    regular = dt[dt < 1.5 * np.median(dt)]
    return float(1.0 / np.mean(regular if len(regular) else dt))


def _opt_float(value: Any) -> float:
    try:
        out = float(value)
    except (TypeError, ValueError):
        return float("nan")
    return out


def _opt_str(value: Any) -> str | None:
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return None
    return str(value)


#: Joints whose quality decides a rep's flags (+ the wrists when they are the bar proxy).
_FLAG_PARTS = ("shoulder", "hip", "knee", "ankle")


@dataclass(frozen=True)
class VideoAnalysis:
    """Everything :func:`analyze_frames` computed for one video.

    Attributes
    ----------
    reps : pandas.DataFrame
        Per-rep table (:data:`hipdrive.contracts.reps.REP_COLUMNS`).
    curves : pandas.DataFrame
        Time-normalised curves (:data:`hipdrive.contracts.curves.CURVE_SCHEMA`).
    kinematics : hipdrive.analysis.kinematics.Kinematics
        Per-frame series.
    events : pandas.DataFrame
        Rep events in array positions (:func:`hipdrive.analysis.segment.segment_reps`).
    cleaned : hipdrive.analysis.clean.CleanResult
    frames : ndarray of int
        Decoded-frame number of each array position.
    provenance : dict
        Facing, side, cut-off, body height in pixels, noise, parameters.
    """

    reps: pd.DataFrame
    curves: pd.DataFrame
    kinematics: kinematics.Kinematics
    events: pd.DataFrame
    cleaned: clean.CleanResult
    frames: np.ndarray
    provenance: dict
    bar_xy: np.ndarray | None = None
    rejected_bar_height_bh: np.ndarray | None = None
    bar_filled: np.ndarray | None = None


def analyze_video(
    keypoints: pd.DataFrame,
    metadata: Mapping[str, Any],
    sample: Mapping[str, Any],
    params: AnalysisParams,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Reps and curves of one video.

    Parameters
    ----------
    keypoints : pandas.DataFrame
        The long keypoint table (:mod:`hipdrive.contracts.keypoints` contract).
    metadata : mapping
        The keypoint file's metadata (``video_id``, ``fps``, ``backend``...).
    sample : mapping
        The video's manifest row: ``lift`` (squat|deadlift), ``variant``,
        ``height_m`` and ``camera_side`` (both may be empty).
    params : AnalysisParams

    Returns
    -------
    reps : pandas.DataFrame
        One row per rep, columns :data:`hipdrive.contracts.reps.REP_COLUMNS`; zero
        rows when no rep was found. ``reps.attrs["hipdrive"]`` holds the
        per-video provenance (facing, side, cut-off, body height in pixels...).
    curves : pandas.DataFrame
        Long time-normalised curves (:data:`hipdrive.contracts.curves.CURVE_SCHEMA`).

    Raises
    ------
    InputError
        Unknown lift.
    UnusableVideoError
        Keypoints that cannot be analysed (too few frames, no timestamps, the
        lifter's legs or trunk never seen).
    """
    frames, time_s, xy, score = long_to_frames(keypoints, CONTRACT_NAMES)
    result = analyze_frames(
        frames, time_s, xy, score, metadata, sample, params, names=CONTRACT_NAMES
    )
    return result.reps, result.curves


def analyze_frames(
    frames: np.ndarray,
    time_s: np.ndarray,
    xy: np.ndarray,
    score: np.ndarray,
    metadata: Mapping[str, Any],
    sample: Mapping[str, Any],
    params: AnalysisParams,
    *,
    names: tuple[str, ...] = KEYPOINT_NAMES,
) -> VideoAnalysis:
    """The analysis of :func:`analyze_video` on dense arrays, with every intermediate.

    Parameters
    ----------
    frames, time_s, xy, score
        As returned by :func:`hipdrive.contracts.keypoints.long_to_frames`. The analysis
        runs on a uniform time grid (:func:`hipdrive.analysis.clean.resample_uniform`);
        event frames are the nearest decoded frames.
    metadata, sample, params
        See :func:`analyze_video`.
    names : tuple of str
        Keypoint names of the columns of ``xy``; a ``bar_end`` column is the
        tracked bar (see ``AnalysisParams.bar_track``), the others the body.

    ``VideoAnalysis.bar_xy`` is the cleaned bar end in image pixels where it
    was used as the bar, else None; ``rejected_bar_height_bh`` is its height
    on the scale of ``bar_height_bh`` where a track exists but failed the
    checks (for the QC plot), else None; ``bar_filled`` marks the frames where
    a used track was lost and the body proxy carried it (for the QC media:
    there the bar is the proxy's motion), else None.
    """
    video_id = str(metadata.get("video_id") or sample.get("video_id") or "?")
    where = f"video {video_id}"
    lift = _opt_str(sample.get("lift"))
    if lift not in ("squat", "deadlift"):
        raise InputError(f"{where}: lift must be squat or deadlift, got {lift!r}")
    variant = (_opt_str(sample.get("variant")) or "").lower()
    height_m = _opt_float(sample.get("height_m"))
    clean_p = step_params(params, CleanParams)
    prep = _prepare(frames, time_s, xy, score, names, score_threshold=params.score_threshold,
                    where=where)  # fmt: skip
    cleaned = _clean(prep.xy, prep.score, prep.names, prep, clean_p)
    _require_upright(cleaned.xy, prep.names, where=where)
    yaw = kinematics.camera_yaw_deg(cleaned.xy, prep.names)
    misread = kinematics.misread_joints(cleaned.xy_unfiltered, prep.names, fs_hz=prep.fs_hz,
                                        yaw_deg=metrics.nanmedian(yaw))  # fmt: skip
    if misread.any():  # not the lifter's: dropped like undetected points
        prep = dataclasses.replace(prep, xy=np.where(misread[..., None], np.nan, prep.xy),
                                   score=np.where(misread, 0.0, prep.score))  # fmt: skip
        cleaned = _clean(prep.xy, prep.score, prep.names, prep, clean_p)
        yaw = kinematics.camera_yaw_deg(cleaned.xy, prep.names)
    try:
        view = _view(cleaned, prep, sample, lift, variant, step_params(params, OrientParams),
                     clean_p)  # fmt: skip
        kin = kinematics.compute_kinematics(
            view.up, prep.time_s, prep.names, side=view.side, bar_proxy=view.bar_proxy,
            height_m=height_m, bar_xy=view.bar_up,
        )  # fmt: skip
    except InputError as exc:  # the lifter's body is never seen well enough
        dropped = f" ({misread.any(axis=1).sum()} frames of misread pose dropped)" if misread.any() else ""
        raise UnusableVideoError(f"{where}: {exc}{dropped}") from exc
    # Velocity noise of the bar proxy -> the sticking threshold for this video.
    noise_bh = (
        filters.white_noise_sd(
            view.raw_h, view.filt_h, fs_hz=prep.fs_hz, cutoff_hz=cleaned.cutoff_hz
        )
        / kin.body_height_px
    )
    velocity_noise_bh_s = noise_bh * filters.velocity_noise_gain(
        fs_hz=prep.fs_hz, cutoff_hz=cleaned.cutoff_hz
    )
    height_noise_bh = noise_bh * filters.position_noise_gain(
        fs_hz=prep.fs_hz, cutoff_hz=cleaned.cutoff_hz
    )
    events = _segment(kin, prep.time_s, lift, view, prep.names, velocity_noise_bh_s,
                      height_noise_bh, step_params(params, SegmentParams))  # fmt: skip
    flags = _frame_flags(cleaned, view, prep)
    events, walked_out = segment.walked_out_reps(events, cleaned.lifter_lost, prep.time_s)
    not_reps = []
    if lift == "squat":
        feet_x = part_position(view.up, prep.names, "ankle", "mean")[:, 0] / kin.body_height_px
        events, stepped = stepped_reps(events, feet_x, prep.time_s)
        not_reps = [[float(prep.time_s[a]), float(prep.time_s[b]),
                     f"the feet moved {shift:.2f} body heights: a walk-out, re-rack or step, not a rep"]
                    for a, b, shift in stepped]  # fmt: skip
    lost_report = flags["lifter_lost"].copy()
    for start, end in walked_out:  # reported with the stretch the lifter was gone
        lost_report[start : end + 1] = True
    clip_yaw = metrics.nanmedian(yaw)
    size = kinematics.body_size_ratio(view.up, prep.names, side=view.side,
                                      body_height_px=kin.body_height_px)  # fmt: skip
    rep_table = metrics.rep_metrics(
        kin, events, video_id=video_id, lift=lift, facing=view.facing, side_used=view.side,
        frame_flags=flags, frame_index=prep.frames, bar_source=_bar_source(view, metadata),
        camera={"camera_yaw_deg": yaw, "body_size_ratio": size},
        seen_bar_height_bh=_rejected_bar_height(view, kin) if _the_bar_where_seen(view) else None,
        position_noise_bh=noise_bh if np.isfinite(noise_bh) else 0.0,
        fs_hz=prep.fs_hz, cutoff_hz=cleaned.cutoff_hz,
        **dataclasses.asdict(step_params(params, MetricParams)),
    )  # fmt: skip
    plausibility.check_plausibility(rep_table)
    curves = metrics.rep_curves(kin, events, video_id=video_id, lift=lift)
    provenance = {
        "video_id": video_id,
        "backend": metadata.get("backend"),
        "model": metadata.get("model"),
        "video_sha256": metadata.get("video_sha256"),
        "lift": lift,
        "facing": view.facing,
        "side_used": view.side,
        "camera_side_note": view.side_note,
        "view": view_of(clip_yaw),
        "camera_yaw_deg": clip_yaw,
        "bar_proxy": view.bar_proxy,
        "body_proxy": view.body_proxy,
        "bar_track": view.bar_check,
        "cutoff_hz": cleaned.cutoff_hz,
        "fs_hz": prep.fs_hz,
        "tilt_deg": view.tilt_deg,
        "body_height_px": kin.body_height_px,
        "position_noise_bh": noise_bh,
        "velocity_noise_bh_s": velocity_noise_bh_s,
        "sticking_threshold_bh_s": rep_table.attrs.pop("sticking_threshold_bh_s", None),
        "n_frames": len(prep.frames),
        "n_frames_decoded": metadata.get("n_frames"),
        "decoded_until_s": metadata.get("duration_s"),
        "duration_s_header": metadata.get("duration_s_header"),
        "lost_outside_reps_s": _lost_outside_reps(lost_report, events, prep.time_s),
        "not_reps": not_reps,
        "params": params.to_dict(),
    }
    rep_table.attrs["hipdrive"] = provenance
    return VideoAnalysis(
        reps=rep_table, curves=curves, kinematics=kin, events=events, cleaned=cleaned,
        frames=np.asarray(prep.frames), provenance=provenance,
        bar_xy=view.bar_clean.xy[:, 0] if view.bar_proxy == "bar_end" else None,
        rejected_bar_height_bh=_rejected_bar_height(view, kin), bar_filled=view.bar_filled,
    )  # fmt: skip


@dataclass(frozen=True)
class _Prepared:
    """One video's keypoints on a uniform time grid, the bar apart from the body."""

    frames: np.ndarray
    time_s: np.ndarray
    xy: np.ndarray
    score: np.ndarray
    names: tuple[str, ...]
    bar_raw: tuple[np.ndarray, np.ndarray] | None
    fs_hz: float
    scale_px: float


def _prepare(
    frames: np.ndarray,
    time_s: np.ndarray,
    xy: np.ndarray,
    score: np.ndarray,
    names: tuple[str, ...],
    *,
    score_threshold: float,
    where: str,
) -> _Prepared:
    """Resample to uniform time, split off the bar end, and size the lifter in pixels.

    The size (median vertical extent of the confident points) scales the
    outlier and swap thresholds, so they do not depend on resolution.
    """
    if len(frames) < 10:
        raise UnusableVideoError(f"{where}: only {len(frames)} frames of keypoints (10 needed)")
    if not np.all(np.isfinite(time_s)) or np.any(np.diff(time_s) <= 0):
        raise UnusableVideoError(f"{where}: time_s is missing or not increasing")
    fs_hz = frame_rate_hz(time_s)
    time_s, xy, score, source = clean.resample_uniform(xy, score, time_s, fs_hz=fs_hz)
    frames = np.asarray(frames)[source]
    body = [i for i, n in enumerate(names) if n not in BAR_POINTS]
    bar_col = names.index(BAR_POINTS[0]) if BAR_POINTS[0] in names else None
    bar_raw = None if bar_col is None else (xy[:, [bar_col]], score[:, [bar_col]])
    names, xy, score = tuple(names[i] for i in body), xy[:, body], score[:, body]
    ys = np.where(score >= score_threshold, xy[..., 1], np.nan)
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        extent = np.nanmax(ys, axis=1) - np.nanmin(ys, axis=1)
    if not np.isfinite(extent).any():
        raise UnusableVideoError(f"{where}: no keypoint above score {score_threshold} in any frame")
    return _Prepared(frames=frames, time_s=time_s, xy=xy, score=score, names=names,
                     bar_raw=bar_raw, fs_hz=fs_hz, scale_px=float(np.nanmedian(extent)))  # fmt: skip


def _clean(
    xy: np.ndarray,
    score: np.ndarray,
    names: tuple[str, ...],
    prep: _Prepared,
    p: CleanParams,
    **override: Any,
) -> clean.CleanResult:
    """:func:`hipdrive.analysis.clean.clean_keypoints` with this video's rate and size."""
    return clean.clean_keypoints(xy, score, prep.time_s, names, fs_hz=prep.fs_hz,
                                 scale_px=prep.scale_px, **(dataclasses.asdict(p) | override))  # fmt: skip


@dataclass(frozen=True)
class _View:
    """How the lifter is seen: facing, side, body frame, and what stands for the bar.

    ``raw_h`` and ``filt_h`` are the bar's height before and after the
    low-pass, for this video's noise estimate.
    """

    facing: str
    side: str
    side_note: str
    tilt_deg: float
    up: np.ndarray
    body_proxy: str
    bar_proxy: str
    raw_h: np.ndarray
    filt_h: np.ndarray
    bar_check: dict[str, Any] | None
    bar_clean: clean.CleanResult | None
    bar_up: np.ndarray | None
    bar_filled: np.ndarray | None


def _view(
    cleaned: clean.CleanResult,
    prep: _Prepared,
    sample: Mapping[str, Any],
    lift: str,
    variant: str,
    p: OrientParams,
    clean_p: CleanParams,
) -> _View:
    """Facing, side and body frame; the tracked bar end where it passes its checks."""
    names = prep.names
    facing = kinematics.detect_facing(cleaned.xy, names)
    declared, side_note = _opt_str(sample.get("camera_side")), ""
    votes = kinematics.facing_votes(cleaned.xy, names)
    unanimous = len(set(votes)) == 1
    if declared in ("left", "right") and declared != facing and unanimous:
        # Seen from the side, a lifter facing image-left shows the camera their
        # left side (docs/definitions.md, "Body side"): when every cue of the
        # picture agrees, it outranks the manifest row.
        side_note = (f"camera_side '{declared}' declared, but the lifter faces image-{facing}, "
                     f"so their {facing} side faces the camera: {facing} used")  # fmt: skip
        declared = facing
    side = (
        kinematics.choose_side(
            cleaned.score, names,
            camera_side=declared,
            both_confident_score=p.both_sides_score if p.side == "auto_mean" else None,
        )
        if p.side in ("auto", "auto_mean")
        else p.side
    )  # fmt: skip
    up = kinematics.to_body_frame(cleaned.xy, facing=facing)
    tilt = kinematics.floor_tilt_deg(up, names) if p.tilt_correction else 0.0
    if tilt:
        up = kinematics.to_body_frame(cleaned.xy, facing=facing, tilt_deg=tilt)
    body_proxy = "shoulder" if lift == "squat" and "front" not in variant else "wrist"
    proxy_raw = kinematics.to_body_frame(cleaned.xy_unfiltered, facing=facing, tilt_deg=tilt)
    raw_h = part_position(proxy_raw, names, body_proxy, side)[:, 1]
    filt_h = part_position(up, names, body_proxy, side)[:, 1]
    bar_proxy, bar_check, bar_clean, bar_up, bar_filled = body_proxy, None, None, None, None
    if prep.bar_raw is not None and p.bar_track:
        bar_clean = _clean(*prep.bar_raw, BAR_POINTS[:1], prep, clean_p,
                           cutoff_hz=cleaned.cutoff_hz, cutoff_method="fixed")  # fmt: skip
        bar_check = bar_checks.track_check(prep.bar_raw[1][:, 0], bar_clean.xy[:, 0, 1], filt_h,
                                           prep.time_s, p, lift=lift)  # fmt: skip
        bar_up = kinematics.to_body_frame(bar_clean.xy[:, 0], facing=facing, tilt_deg=tilt)
        if lift == "squat":
            bar_check = bar_checks.squat_bar_level(
                bar_check, bar_up[:, 1], part_position(up, names, "shoulder", side)[:, 1],
                _stature_px(up, names, side),
            )  # fmt: skip
        if bar_check["used"]:
            bar_proxy = "bar_end"  # its long gaps move with the body that carries it
            bar_up = clean.fill_from_donor(bar_up, part_position(up, names, body_proxy, side))
            bar_filled = bar_clean.long_gap[:, 0] & np.isfinite(bar_up[:, 1])
    if bar_proxy != "bar_end":
        bar_up = None
    else:
        raw_h = kinematics.to_body_frame(
            bar_clean.xy_unfiltered[:, 0], facing=facing, tilt_deg=tilt
        )[:, 1]
        filt_h = bar_up[:, 1]
    return _View(facing=facing, side=side, side_note=side_note, tilt_deg=tilt, up=up, body_proxy=body_proxy,
                 bar_proxy=bar_proxy, raw_h=raw_h, filt_h=filt_h, bar_check=bar_check,
                 bar_clean=bar_clean, bar_up=bar_up, bar_filled=bar_filled)  # fmt: skip


def _stature_px(up: np.ndarray, names: tuple[str, ...], side: str) -> float:
    """:func:`hipdrive.body.body_height_px`, NaN where the legs or trunk are never seen."""
    try:
        return body_height_px(up, names, side=side)
    except InputError:
        return float("nan")


#: Largest median angle (deg) of the ankle -> shoulder line from image-up for a video
#: to count as upright: half-way between an upright body (near 0) and a quarter turn.
MAX_BODY_AXIS_TILT_DEG = 45.0
#: Least agreement of that line's direction between frames (mean resultant length) to
#: read it as a turned picture: a circular spread under about 45 deg, what one lifter's
#: line spans in a lift. Below it the body points disagree (a misread pose, not a turn).
MIN_BODY_AXIS_AGREEMENT = 0.7


def _require_upright(xy: np.ndarray, names: tuple[str, ...], *, where: str) -> None:
    """Refuse a video whose lifter is not upright in the picture.

    In a squat or a pull the shoulders stay above the feet (the bar over
    mid-foot), so the ankle -> shoulder line points up the image in nearly
    every frame. If it points sideways or down over the clip, the pixels are
    rotated against what the file says (a phone clip whose rotation tag was
    lost or is wrong); every angle would be off by the turn
    (docs/definitions.md, "Plausibility").
    """
    axis = part_position(xy, names, "shoulder", "mean") - part_position(xy, names, "ankle", "mean")
    ok = np.isfinite(axis).all(axis=1)
    if not ok.any():
        return  # no ankles: nothing to judge by; the rep checks still apply
    tilt = np.arctan2(axis[ok, 0], -axis[ok, 1])  # 0 = up the image
    median = float(np.degrees(np.arctan2(np.median(np.sin(tilt)), np.median(np.cos(tilt)))))
    agreement = float(np.hypot(np.mean(np.sin(tilt)), np.mean(np.cos(tilt))))
    if abs(median) > MAX_BODY_AXIS_TILT_DEG and agreement >= MIN_BODY_AXIS_AGREEMENT:
        turn = 90 * round(median / 90)
        raise UnusableVideoError(
            f"{where}: the lifter is not upright in the picture (feet -> shoulders {median:+.0f} deg "
            f"from image-up): the video's rotation looks wrong by about {turn:+d} deg; rotate it "
            "(e.g. ffmpeg -display_rotation) and run again"
        )


def _bar_source(view: _View, metadata: Mapping[str, Any]) -> str | np.ndarray:
    """``bar_source``: ``track:<point>`` or ``body:<joint>`` (docs/definitions.md, "Bar proxy").

    The point is what the bar tracker followed (``sleeve_end`` or ``hub``, from
    the keypoint file's ``bar_track``); ``track:bar_end`` where the file does not
    say (keypoints imported with a bar end). Per frame where a used track's gaps
    follow the body proxy, so each rep can say it.
    """
    if view.bar_proxy != "bar_end":
        return f"body:{view.body_proxy}"
    point = (metadata.get("bar_track") or {}).get("point")
    track = f"track:{point}" if point in ("sleeve_end", "hub") else "track:bar_end"
    if not view.bar_filled.any():
        return track
    return np.where(view.bar_filled, f"body:{view.body_proxy}", track).astype(object)


#: Checks a track can fail and still be the plate where seen: it was lost too
#: often, or it slipped on the plate between reps. A track that failed another
#: check (it did not follow the lifter, or sat below a squat's shoulders) may
#: be something else.
_CHECKS_OF_A_PLATE_HELD_BADLY = frozenset({"coverage", "rest_drift"})


def _the_bar_where_seen(view: _View) -> bool:
    """The bar track failed only checks that a plate held badly fails: where seen, it moved with the bar."""
    failed = set(view.bar_check["failed"]) if view.bar_check is not None else set()
    return bool(failed) and failed <= _CHECKS_OF_A_PLATE_HELD_BADLY


def _rejected_bar_height(view: _View, kin: kinematics.Kinematics) -> np.ndarray | None:
    """A bar track that failed the checks, on the bar height's scale.

    For the QC plot, so a reader can see why it did not stand for the bar, and,
    when it still moved with the bar where seen, to check the body proxy against it.
    """
    if view.bar_clean is None or view.bar_proxy == "bar_end":
        return None
    floor = np.nanmedian(view.filt_h / kin.body_height_px - kin["bar_height_bh"])
    rejected_up = kinematics.to_body_frame(
        view.bar_clean.xy[:, 0], facing=view.facing, tilt_deg=view.tilt_deg
    )
    return rejected_up[:, 1] / kin.body_height_px - floor


def _upright(
    kin: kinematics.Kinematics, view: _View, names: tuple[str, ...], p: SegmentParams
) -> np.ndarray:
    """Per frame, is the deadlifter upright: hips and knees straight on the side
    used, or on the other side.

    At lockout the near plate hides the near leg and the pose model guesses its
    hip and knee. A guessed joint bends the chain (three points fall on one line
    only by chance), so one straight side is the evidence of a lockout, and a
    failed pull reads bent on both. On the side used, unknown (a joint not
    seen) is no evidence of a failed pull: such reps carry the gap /
    lifter-lost flags instead; on the other side only a seen straight leg counts.
    """
    hip_a, knee_a = kin["hip_angle_deg"], kin["knee_angle_deg"]
    upright = ~((hip_a < p.lockout_hip_angle_deg) | (knee_a < p.lockout_knee_angle_deg))
    if view.side in ("left", "right"):
        other = "right" if view.side == "left" else "left"
        pt = {k: part_position(view.up, names, k, other) for k in ("shoulder", "hip", "knee", "ankle")}
        hip_o = kinematics.included_angle_deg(pt["shoulder"], pt["hip"], pt["knee"])
        knee_o = kinematics.included_angle_deg(pt["hip"], pt["knee"], pt["ankle"])
        upright |= (hip_o >= p.lockout_hip_angle_deg) & (knee_o >= p.lockout_knee_angle_deg)
    return upright


def _segment(
    kin: kinematics.Kinematics,
    time_s: np.ndarray,
    lift: str,
    view: _View,
    names: tuple[str, ...],
    velocity_noise_bh_s: float,
    height_noise_bh: float,
    p: SegmentParams,
) -> pd.DataFrame:
    """Rep events, with "still" thresholds and the resting level's noise from this video's noise."""
    noise_v = velocity_noise_bh_s if np.isfinite(velocity_noise_bh_s) else 0.0
    # A tracked bar is nearly noiseless: its slow creep before a rep (a squat
    # settling, a deadlift taking up the slack) never crosses zero velocity,
    # so "still" needs a floor (body proxies cross zero on their own noise).
    still_floor = 0.0
    if view.bar_proxy == "bar_end" and np.isfinite(kin["bar_velocity_bh_s"]).any():
        peak_v = float(np.nanmax(np.abs(kin["bar_velocity_bh_s"])))
        still_floor = p.bar_still_fraction * peak_v
    upright = _upright(kin, view, names, p) if lift == "deadlift" else None
    return segment.segment_reps(
        kin["bar_height_bh"], time_s, lift=lift,
        min_rep_displacement_bh=p.min_rep_displacement_bh,
        min_rep_duration_s=p.min_rep_duration_s,
        lockout_tolerance=p.lockout_tolerance,
        pause_band_bh=p.pause_band_bh, min_pause_s=p.min_pause_s,
        lockout_band_fraction=p.lockout_band_fraction,
        rest_rom_fraction=p.rest_rom_fraction,
        lockout_rom_fraction=p.lockout_rom_fraction,
        height_noise_bh=height_noise_bh if np.isfinite(height_noise_bh) else 0.0,
        upright=upright,
        still_velocity_bh_s=max(p.still_noise_k * noise_v, still_floor),
        pause_velocity_bh_s=max(p.pause_noise_k * noise_v, still_floor),
    )  # fmt: skip


def _frame_flags(cleaned: clean.CleanResult, view: _View, prep: _Prepared) -> dict[str, np.ndarray]:
    """Per-frame quality of the joints (and bar) the metrics use.

    Where a used bar track was lost and its path follows the body proxy, the
    proxy's confidence counts there, as it would if it stood for the bar (where
    the proxy was lost too the bar stays unfilled, a gap).
    """
    sides = ("left", "right") if view.side == "mean" else (view.side,)

    def bad(parts: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
        cols = [prep.names.index(f"{sd}_{p}") for sd in sides for p in parts]
        return cleaned.low_confidence[:, cols].any(axis=1), cleaned.long_gap[:, cols].any(axis=1)

    low, gap = bad(_FLAG_PARTS + (("wrist",) if view.bar_proxy == "wrist" else ()))
    lost = cleaned.lifter_lost & gap  # a lost frame or two is bridged like any short gap
    if view.bar_proxy == "bar_end":
        filled = view.bar_filled
        proxy_low = bad((view.body_proxy,))[0]
        low = low | view.bar_clean.low_confidence[:, 0] & ~filled | proxy_low & filled
        gap = gap | view.bar_clean.long_gap[:, 0] & ~filled
    return {"low_confidence": low, "gap": gap, "swap": cleaned.swapped, "lifter_lost": lost}


def stepped_reps(
    events: pd.DataFrame,
    feet_x_bh: np.ndarray,
    time_s: np.ndarray,
    *,
    max_shift_bh: float = PROPORTIONS["foot_length"],
    edge_s: float = 0.2,
) -> tuple[pd.DataFrame, list[tuple[int, int, float]]]:
    """Drop the squat "reps" the lifter walked in; return the kept events and
    ``(start, end, shift)`` of each dropped one.

    A set of squats is lifted from one stance, and a lifter cannot move the
    feet (the mid-ankle, body heights along the floor) by more than a foot
    length (Winter 2009, Fig. 4.1) without stepping. So an excursion is no rep
    when the feet stand that much further along at its end than at its start
    (stepping out from under the bar), or, for one not completed, when its
    feet stand that far from the completed reps' stance (un-racking before a
    walk-out, lowering the bar onto the hooks after walking it back). Positions
    are medians: over ``edge_s`` at each end of an excursion, and over all
    frames of the completed reps and of the one judged. Unseen ankles are no
    evidence; the rep is kept.
    """
    n_edge = max(1, int(round(edge_s / np.median(np.diff(time_s))))) if len(time_s) > 1 else 1
    spans = [(int(a), int(b)) for a, b in zip(events["start_frame"], events["end_frame"], strict=True)]
    done = events["complete"].to_numpy(bool)
    in_done = np.zeros(len(feet_x_bh), bool)
    for (a, b), ok in zip(spans, done, strict=True):
        in_done[a : b + 1] |= ok
    stance = metrics.nanmedian(feet_x_bh[in_done])
    keep, dropped = [], []
    for i, (start, end) in enumerate(spans):
        first = feet_x_bh[start : min(start + n_edge, end + 1)]
        last = feet_x_bh[max(end + 1 - n_edge, start) : end + 1]
        shift = abs(metrics.nanmedian(last) - metrics.nanmedian(first))
        if not done[i]:  # fmax: the larger, ignoring an unknown one
            shift = np.fmax(shift, abs(metrics.nanmedian(feet_x_bh[start : end + 1]) - stance))
        if shift > max_shift_bh:  # NaN (ankles unseen): kept
            dropped.append((start, end, float(shift)))
            continue
        keep.append(i)
    return events.iloc[keep].reset_index(drop=True), dropped


def _lost_outside_reps(
    lost: np.ndarray, events: pd.DataFrame, time_s: np.ndarray
) -> list[list[float]]:
    """``[start_s, end_s]`` of every stretch the lifter was lost outside any counted rep.

    Why: a rep the lifter walks out of (or that is hidden) is never segmented,
    so no rep flag can report it; these stretches go to ``excluded.tsv``.
    """
    outside = np.asarray(lost, bool).copy()
    for start, end in zip(events["start_frame"], events["end_frame"], strict=True):
        outside[int(start) : int(end) + 1] = False
    edges = np.diff(np.concatenate(([0], outside.astype(np.int8), [0])))
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1) - 1
    pairs = zip(starts, ends, strict=True)
    return [[round(float(time_s[a]), 3), round(float(time_s[b]), 3)] for a, b in pairs]
