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

from hipdrive.analysis import clean, filters, kinematics, metrics, segment
from hipdrive.body import part_position
from hipdrive.contracts.keypoints import BAR_POINTS, CONTRACT_NAMES, KEYPOINT_NAMES, long_to_frames
from hipdrive.errors import InputError, UnusableVideoError


@dataclass(frozen=True)
class AnalysisParams:
    """Every tunable of the per-video analysis, with its default.

    Build from config with :meth:`from_mapping` (unknown keys are refused).
    Lengths are in body heights (``_bh``) so that thresholds do not depend on
    camera distance or resolution.

    Attributes
    ----------
    score_threshold : float
        Detector score below which a point is dropped (0..1; default 0.3,
        MediaPipe's own ``min_tracking_confidence`` default is 0.5 and
        OpenPose users commonly gate at 0.1-0.3; a per-backend choice).
    max_gap_s : float
        Longest gap bridged by linear interpolation, s (default 0.2 s: about
        a sixth of a squat ascent; interpolation error grows quickly with gap
        length, Howarth & Callaghan 2010; longer gaps are flagged, never
        bridged).
    cutoff_hz : float
        Cut-off of the zero-lag 4th-order Butterworth low-pass, Hz (default 6:
        the usual choice for whole-body movement kinematics, Winter 2009
        sec. 3.4; it keeps the bar's velocity dip of a sticking region, whose
        Gaussian width is ~0.1-0.2 s).
    cutoff_method : {'fixed', 'residual'}
        ``fixed`` uses ``cutoff_hz``; ``residual`` picks it per video by
        Winter's residual analysis (:func:`hipdrive.analysis.filters.residual_cutoff`).
    outlier_threshold_frac : float
        Outlier distance, fraction of the lifter's size in pixels (default
        0.05 ~ 9 cm for a 1.75 m lifter, far beyond detector jitter).
    outlier_k_mad : float
        Outlier robust z threshold (default 6; Leys et al. 2013 suggest 2.5-3
        for "very conservative" screening of one sample; 6 because every
        frame of every keypoint is tested; :func:`hipdrive.analysis.clean.reject_outliers`).
    side : {'auto', 'auto_mean', 'left', 'right', 'mean'}
        Body side used for every joint; ``auto`` = the camera-facing side;
        ``auto_mean`` = the same, or the mean of both sides when both are
        confident (docs/definitions.md, "Body side"; :func:`hipdrive.analysis.kinematics.choose_side`
        says why it is not the default).
    both_sides_score : float
        Median score both sides need for ``auto_mean`` to use their mean (0.8).
    tilt_correction : bool
        Rotate by the floor tilt seen between heels and toes
        (:func:`hipdrive.analysis.kinematics.floor_tilt_deg`; default off).
    min_rep_displacement_bh : float
        Minimum bar-proxy travel of a rep, body heights (default 0.10: a
        parallel back squat moves the shoulders ~0.3 stature and a deadlift
        the wrists ~0.25, Drillis & Contini proportions; see
        :func:`hipdrive.analysis.segment.segment_reps`).
    min_rep_duration_s : float
        Minimum duration of a rep (start to end), s (default 0.5: even a
        light squat's ascent alone lasts ~0.5 s, ~0.5 m of travel at the
        ~1.1 m/s mean velocity of 20 %1RM in the squat load-velocity profile
        of :data:`hipdrive.simulate.LOAD_VELOCITY`).
    lockout_tolerance : float
        Fraction of a rep's travel within which the bar counts as back at the
        rest level (default 0.15); the exact lockout is then timed by the
        velocity (see ``still_noise_k``).
    pause_band_bh, min_pause_s : float
        A pause at the extreme: the bar stays within ``pause_band_bh`` (0.01
        ~ 2 cm) of it for at least ``min_pause_s`` (0.25 s; competition
        paused squats hold ~1 s).
    lockout_band_fraction : float
        Deadlift lockout = the bar's first stop within this fraction of the
        rep's ROM below its top (default 0.05; later drift such as a shrug is
        not part of the pull; see :func:`hipdrive.analysis.segment.segment_reps`).
    start_rom_fraction : float
        A rep starts (squat: descent; deadlift: lift-off) where the bar is this
        fraction of its range of motion away from its resting height (default
        0.01, the hand labels' rule; see :func:`hipdrive.analysis.segment._left_rest`).
    early_ascent_fraction : float
        "Early ascent" for the hip-lead indices (0.3 = first 30% of the time;
        docs/definitions.md, "Hip-lead indices": the v_min of a squat's
        sticking region lies at ~30-40% of the ascent, van den Tillaar et al.
        2014).
    sticking_prominence_bh_s : float
        Smallest dip of the upward bar velocity that counts as a sticking
        region, body heights/s (default 0.005 ~ 1 cm/s for a 1.75 m lifter).
    sticking_noise_k : float
        The dip must also exceed ``sticking_noise_k`` x the velocity noise SD
        estimated for this video (:func:`hipdrive.analysis.filters.white_noise_sd` x
        :func:`hipdrive.analysis.filters.velocity_noise_gain`), so noise alone rarely
        makes a sticking region (default 2; chosen on
        ``benchmarks/bench_analysis.py``: with the duration-matched smoothing
        of ``sticking_cutoff_cycles`` it gave no false sticking region in 420
        simulated reps at 1 px noise, while 3 misses more small true dips).
    still_noise_k : float
        The bar counts as still (rep start, lockout, return to rest) below
        this many SDs of the estimated velocity noise (default 0: the zero
        crossing of the velocity, unbiased on the simulator's lifts).
    pause_noise_k : float
        The same for the edges of a pause at the squat bottom or of the
        deadlift's hold (default 1: correlated filter noise would otherwise
        end a pause early).
    sticking_search_fraction : float
        v_min must lie in this first fraction of the ascent (default 0.8; the
        deceleration into lockout is not a sticking region).
    sticking_cutoff_cycles : float
        The ascent's bar height is low-passed again at this many cycles per
        ascent duration for the sticking region (default 5, i.e. 2.5 Hz for a
        2 s grinder, capped at ``cutoff_hz``; 0 = use the 6 Hz velocity; 5
        rather than 4 or 6 on ``benchmarks/bench_analysis.py``); see
        :func:`hipdrive.analysis.metrics.rep_metrics`.
    sticking_first_peak_fraction : float
        v_max1 must reach this fraction of the ascent's peak velocity (default
        0.4: in the simulator's ascent shapes with a sticking region the first
        peak is at least 64 % of the peak; a wiggle at lift-off is not one).
    chest_rise_threshold_deg : float
        Trunk-angle decrease early in the ascent that counts as "chest rose
        early" (default 2 deg, well above this pipeline's trunk-angle error on
        simulated keypoints, ``benchmarks/bench_analysis.py``; no published
        threshold exists, so it is a parameter).
    lockout_hip_angle_deg, lockout_knee_angle_deg : float
        Deadlift lockout needs hip and knee included angles at least this
        large (default 150 deg; full extension is ~170-180 deg).
    bar_track : bool
        Use the tracked bar end (keypoint ``bar_end``,
        :mod:`hipdrive.pose.bar_tracker`) as the bar where the keypoint file
        has one and it passes the two checks below; else the body proxy
        (default true; docs/definitions.md, "Bar proxy").
    bar_track_min_coverage : float
        Share of frames the bar end must be seen in (score at or above
        ``score_threshold``; default 0.9: gaps longer than ``max_gap_s`` are
        not bridged, so a patchy track would cut reps).
    bar_track_min_correlation : float
        Pearson correlation between the vertical positions of the bar end and
        of the body proxy that the bar end needs (default 0.8): the bar moves
        with the shoulders in a squat and with the hands in a deadlift, so a
        track that does not (a plate on the floor, a background circle) is
        not the lifter's bar.
    bar_still_fraction : float
        With the tracked bar, it counts as still (the motion onset from which
        a rep's start is measured, deadlift lockout, return to rest, the edges
        of a pause) below this fraction of its peak
        speed in the clip (default 0.05: the usual movement-onset threshold of
        5 % of peak velocity, cf. Teasdale et al. 1993), as well as below
        ``still_noise_k`` (``pause_noise_k``) SDs of its noise.

    References
    ----------
    Howarth SJ, Callaghan JP (2010). Quantitative assessment of the accuracy
    for three interpolation techniques in kinematic analysis of human
    movement. Comput Methods Biomech Biomed Engin 13:847-855.
    doi:10.1080/10255841003664701

    Leys C, Ley C, Klein O, Bernard P, Licata L (2013). Detecting outliers.
    J Exp Soc Psychol 49:764-766. doi:10.1016/j.jesp.2013.03.013

    Teasdale N, Bard C, Fleury M, Young DE, Proteau L (1993). Determining
    movement onsets from temporal series. J Mot Behav 25:97-106.
    doi:10.1080/00222895.1993.9941644

    van den Tillaar R, Andersen V, Saeterbakken AH (2014). The existence of a
    sticking region in free weight squats. J Hum Kinet 42:63-71.
    doi:10.2478/hukin-2014-0061

    Winter DA (2009). Biomechanics and Motor Control of Human Movement, 4th
    ed. Wiley. doi:10.1002/9780470549148
    """

    score_threshold: float = 0.3
    max_gap_s: float = 0.2
    cutoff_hz: float = 6.0
    cutoff_method: str = "fixed"
    outlier_threshold_frac: float = 0.05
    outlier_k_mad: float = 6.0
    side: str = "auto"
    both_sides_score: float = 0.8
    tilt_correction: bool = False
    min_rep_displacement_bh: float = 0.10
    min_rep_duration_s: float = 0.5
    lockout_tolerance: float = 0.15
    pause_band_bh: float = 0.01
    min_pause_s: float = 0.25
    lockout_band_fraction: float = 0.05
    start_rom_fraction: float = segment.START_ROM_FRACTION
    early_ascent_fraction: float = 0.3
    sticking_prominence_bh_s: float = 0.005
    sticking_noise_k: float = 2.0
    still_noise_k: float = 0.0
    pause_noise_k: float = 1.0
    sticking_search_fraction: float = 0.8
    sticking_first_peak_fraction: float = 0.4
    sticking_cutoff_cycles: float = 5.0
    chest_rise_threshold_deg: float = 2.0
    lockout_hip_angle_deg: float = 150.0
    lockout_knee_angle_deg: float = 150.0
    bar_track: bool = True
    bar_track_min_coverage: float = 0.9
    bar_track_min_correlation: float = 0.8
    bar_still_fraction: float = 0.05

    def __post_init__(self) -> None:
        problems = []
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if f.type in ("float", float):
                if isinstance(value, bool) or not isinstance(value, int | float):
                    problems.append(f"{f.name} must be a number, got {value!r}")
                elif not np.isfinite(value) or value < 0:
                    problems.append(f"{f.name} must be a finite number >= 0, got {value!r}")
        if self.cutoff_method not in ("fixed", "residual"):
            problems.append(
                f"cutoff_method must be 'fixed' or 'residual', got {self.cutoff_method!r}"
            )
        if self.side not in ("auto", "auto_mean", "left", "right", "mean"):
            problems.append(f"side must be auto, auto_mean, left, right or mean, got {self.side!r}")
        for name in ("tilt_correction", "bar_track"):
            if not isinstance(getattr(self, name), bool):
                problems.append(f"{name} must be true or false, got {getattr(self, name)!r}")
        for name in (
            "score_threshold",
            "both_sides_score",
            "early_ascent_fraction",
            "lockout_tolerance",
            "lockout_band_fraction",
            "start_rom_fraction",
            "sticking_search_fraction",
            "sticking_first_peak_fraction",
            "bar_track_min_coverage",
            "bar_track_min_correlation",
            "bar_still_fraction",
        ):
            value = getattr(self, name)
            if isinstance(value, int | float) and not 0 <= value <= 1:
                problems.append(f"{name} must be in 0..1, got {value!r}")
        for name in ("cutoff_hz", "min_rep_displacement_bh"):
            value = getattr(self, name)
            if isinstance(value, int | float) and value <= 0:
                problems.append(f"{name} must be > 0, got {value!r}")
        if problems:
            raise InputError("analysis parameters: " + "; ".join(problems))

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any] | None) -> AnalysisParams:
        """Parameters from a config mapping; unknown keys raise :class:`InputError`."""
        values = dict(values or {})
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise InputError(
                f"unknown analysis parameter(s): {', '.join(unknown)}; "
                f"known: {', '.join(sorted(known))}"
            )
        return cls(**values)

    def to_dict(self) -> dict[str, Any]:
        # every field is a scalar: no need for asdict's recursive deep copy
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}


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
    checks (for the QC plot), else None.
    """
    video_id = str(metadata.get("video_id") or sample.get("video_id") or "?")
    where = f"video {video_id}"
    lift = _opt_str(sample.get("lift"))
    if lift not in ("squat", "deadlift"):
        raise InputError(f"{where}: lift must be squat or deadlift, got {lift!r}")
    variant = (_opt_str(sample.get("variant")) or "").lower()
    height_m = _opt_float(sample.get("height_m"))
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
    ys = np.where(score >= params.score_threshold, xy[..., 1], np.nan)
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        extent = np.nanmax(ys, axis=1) - np.nanmin(ys, axis=1)
    if not np.isfinite(extent).any():
        raise UnusableVideoError(
            f"{where}: no keypoint above score {params.score_threshold} in any frame"
        )
    scale_px = float(np.nanmedian(extent))
    cleaned = clean.clean_keypoints(
        xy, score, time_s, names,
        fs_hz=fs_hz, score_threshold=params.score_threshold, max_gap_s=params.max_gap_s,
        cutoff_hz=params.cutoff_hz, cutoff_method=params.cutoff_method, scale_px=scale_px,
        outlier_threshold_frac=params.outlier_threshold_frac,
        outlier_k_mad=params.outlier_k_mad,
    )  # fmt: skip
    try:
        facing = kinematics.detect_facing(cleaned.xy, names)
        side = (
            kinematics.choose_side(
                cleaned.score, names,
                camera_side=_opt_str(sample.get("camera_side")),
                both_confident_score=params.both_sides_score if params.side == "auto_mean" else None,
            )
            if params.side in ("auto", "auto_mean")
            else params.side
        )  # fmt: skip
        up = kinematics.to_body_frame(cleaned.xy, facing=facing)
        tilt = kinematics.floor_tilt_deg(up, names) if params.tilt_correction else 0.0
        if tilt:
            up = kinematics.to_body_frame(cleaned.xy, facing=facing, tilt_deg=tilt)
        body_proxy = "shoulder" if lift == "squat" and "front" not in variant else "wrist"
        proxy_raw = kinematics.to_body_frame(cleaned.xy_unfiltered, facing=facing, tilt_deg=tilt)
        raw_h = part_position(proxy_raw, names, body_proxy, side)[:, 1]
        filt_h = part_position(up, names, body_proxy, side)[:, 1]
        bar_proxy, bar_check, bar_clean = body_proxy, None, None
        if bar_raw is not None and params.bar_track:
            bar_clean = clean.clean_keypoints(
                *bar_raw, time_s, BAR_POINTS[:1],
                fs_hz=fs_hz, score_threshold=params.score_threshold, max_gap_s=params.max_gap_s,
                cutoff_hz=cleaned.cutoff_hz, scale_px=scale_px,
                outlier_threshold_frac=params.outlier_threshold_frac,
                outlier_k_mad=params.outlier_k_mad,
            )  # fmt: skip
            bar_check = _bar_track_check(bar_raw[1][:, 0], bar_clean.xy[:, 0, 1], filt_h, params)
            if bar_check["used"]:
                bar_proxy = "bar_end"
        bar_up = None
        if bar_proxy == "bar_end":
            bar_up = kinematics.to_body_frame(bar_clean.xy[:, 0], facing=facing, tilt_deg=tilt)
            raw_h = kinematics.to_body_frame(
                bar_clean.xy_unfiltered[:, 0], facing=facing, tilt_deg=tilt
            )[:, 1]
            filt_h = bar_up[:, 1]
        kin = kinematics.compute_kinematics(
            up, time_s, names, side=side, bar_proxy=bar_proxy, height_m=height_m, bar_xy=bar_up
        )
    except InputError as exc:  # the lifter's body is never seen well enough
        raise UnusableVideoError(f"{where}: {exc}") from exc
    # A bar track that failed the checks, on the bar height's scale: for the QC
    # plot only, so a reader can see why it did not stand for the bar.
    rejected_bar_h = None
    if bar_clean is not None and bar_proxy != "bar_end":
        floor = np.nanmedian(filt_h / kin.body_height_px - kin["bar_height_bh"])
        rejected_up = kinematics.to_body_frame(bar_clean.xy[:, 0], facing=facing, tilt_deg=tilt)
        rejected_bar_h = rejected_up[:, 1] / kin.body_height_px - floor
    # Velocity noise of the bar proxy -> the sticking threshold for this video.
    noise_bh = (
        filters.white_noise_sd(raw_h, filt_h, fs_hz=fs_hz, cutoff_hz=cleaned.cutoff_hz)
        / kin.body_height_px
    )
    velocity_noise_bh_s = noise_bh * filters.velocity_noise_gain(
        fs_hz=fs_hz, cutoff_hz=cleaned.cutoff_hz
    )
    noise_v = velocity_noise_bh_s if np.isfinite(velocity_noise_bh_s) else 0.0
    # A tracked bar is nearly noiseless: its slow creep before a rep (a squat
    # settling, a deadlift taking up the slack) never crosses zero velocity,
    # so "still" needs a floor (body proxies cross zero on their own noise).
    still_floor = 0.0
    if bar_proxy == "bar_end" and np.isfinite(kin["bar_velocity_bh_s"]).any():
        peak_v = float(np.nanmax(np.abs(kin["bar_velocity_bh_s"])))
        still_floor = params.bar_still_fraction * peak_v
    # Deadlift lockout posture; unknown (a joint not seen) is no evidence of a
    # failed pull -- such reps carry the gap / lifter-lost flags instead.
    hip_a, knee_a = kin["hip_angle_deg"], kin["knee_angle_deg"]
    upright = ~((hip_a < params.lockout_hip_angle_deg) | (knee_a < params.lockout_knee_angle_deg))
    events = segment.segment_reps(
        kin["bar_height_bh"], time_s, lift=lift,
        min_rep_displacement_bh=params.min_rep_displacement_bh,
        min_rep_duration_s=params.min_rep_duration_s,
        lockout_tolerance=params.lockout_tolerance,
        pause_band_bh=params.pause_band_bh, min_pause_s=params.min_pause_s,
        lockout_band_fraction=params.lockout_band_fraction,
        start_rom_fraction=params.start_rom_fraction,
        upright=upright if lift == "deadlift" else None,
        still_velocity_bh_s=max(params.still_noise_k * noise_v, still_floor),
        pause_velocity_bh_s=max(params.pause_noise_k * noise_v, still_floor),
    )  # fmt: skip
    sides = ("left", "right") if side == "mean" else (side,)
    parts = _FLAG_PARTS + (("wrist",) if bar_proxy == "wrist" else ())
    cols = [names.index(f"{sd}_{p}") for sd in sides for p in parts]
    bar_low = bar_gap = np.zeros(len(frames), bool)
    if bar_proxy == "bar_end":
        bar_low, bar_gap = bar_clean.low_confidence[:, 0], bar_clean.long_gap[:, 0]
    flags = {
        "low_confidence": cleaned.low_confidence[:, cols].any(axis=1) | bar_low,
        "gap": cleaned.long_gap[:, cols].any(axis=1) | bar_gap,
        "swap": cleaned.swapped,
        # a lost frame or two is bridged like any short gap; longer is flagged
        "lifter_lost": cleaned.lifter_lost & cleaned.long_gap[:, cols].any(axis=1),
    }
    rep_table = metrics.rep_metrics(
        kin, events, video_id=video_id, lift=lift, facing=facing, side_used=side,
        frame_flags=flags, frame_index=frames,
        sticking_prominence_bh_s=params.sticking_prominence_bh_s,
        sticking_noise_k=params.sticking_noise_k,
        sticking_cutoff_cycles=params.sticking_cutoff_cycles,
        position_noise_bh=noise_bh if np.isfinite(noise_bh) else 0.0,
        fs_hz=fs_hz,
        cutoff_hz=cleaned.cutoff_hz,
        sticking_search_fraction=params.sticking_search_fraction,
        sticking_first_peak_fraction=params.sticking_first_peak_fraction,
        early_ascent_fraction=params.early_ascent_fraction,
        chest_rise_threshold_deg=params.chest_rise_threshold_deg,
    )  # fmt: skip
    curves = metrics.rep_curves(kin, events, video_id=video_id, lift=lift)
    provenance = {
        "video_id": video_id,
        "backend": metadata.get("backend"),
        "model": metadata.get("model"),
        "video_sha256": metadata.get("video_sha256"),
        "lift": lift,
        "facing": facing,
        "side_used": side,
        "bar_proxy": bar_proxy,
        "body_proxy": body_proxy,
        "bar_track": bar_check,
        "cutoff_hz": cleaned.cutoff_hz,
        "fs_hz": fs_hz,
        "tilt_deg": tilt,
        "body_height_px": kin.body_height_px,
        "position_noise_bh": noise_bh,
        "velocity_noise_bh_s": velocity_noise_bh_s,
        "n_frames": len(frames),
        "lost_outside_reps_s": _lost_outside_reps(flags["lifter_lost"], events, time_s),
        "params": params.to_dict(),
    }
    rep_table.attrs["hipdrive"] = provenance
    return VideoAnalysis(
        reps=rep_table, curves=curves, kinematics=kin, events=events, cleaned=cleaned,
        frames=np.asarray(frames), provenance=provenance,
        bar_xy=bar_clean.xy[:, 0] if bar_proxy == "bar_end" else None,
        rejected_bar_height_bh=rejected_bar_h,
    )  # fmt: skip


def _bar_track_check(
    score: np.ndarray, bar_y: np.ndarray, proxy_y: np.ndarray, params: AnalysisParams
) -> dict[str, Any]:
    """Whether the tracked bar end may stand for the bar (``AnalysisParams.bar_track``).

    ``coverage`` is the share of frames whose bar score reaches
    ``score_threshold``; ``correlation`` the Pearson correlation of the
    cleaned bar end's vertical position with the body proxy's, over frames
    where both are known. Both sign conventions agree only when the track
    follows the lifter, so a negative correlation fails too.
    """
    coverage = float(np.mean(score >= params.score_threshold)) if len(score) else 0.0
    ok = np.isfinite(bar_y) & np.isfinite(proxy_y)
    corr = 0.0
    if ok.sum() >= 3 and np.std(bar_y[ok]) > 0 and np.std(proxy_y[ok]) > 0:
        # image y (down) against body-frame height (up): the sign flips
        corr = float(-np.corrcoef(bar_y[ok], proxy_y[ok])[0, 1])
    used = coverage >= params.bar_track_min_coverage and corr >= params.bar_track_min_correlation
    return {"coverage": coverage, "correlation": corr, "used": bool(used)}


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
