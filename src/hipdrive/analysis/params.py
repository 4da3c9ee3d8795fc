"""Every tunable of the per-video analysis, and its grouping per step.

:class:`AnalysisParams` is the flat mapping users write in the config
(``analysis:``); :func:`step_params` hands each step of
:func:`hipdrive.analysis.analyze_frames` its own group.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np

from hipdrive.analysis import segment
from hipdrive.errors import InputError

T = TypeVar("T")


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
        rest level (default 0.15); the exact return is then timed by
        ``rest_rom_fraction``.
    pause_band_bh, min_pause_s : float
        A pause at the extreme: the bar stays within ``pause_band_bh`` (0.01
        ~ 2 cm) of it for at least ``min_pause_s`` (0.25 s; competition
        paused squats hold ~1 s).
    lockout_band_fraction : float
        Deadlift: the top of the pull is the bar's first stop within this
        fraction of the rep's ROM below its highest point (default 0.05; later
        drift such as a shrug is not part of the pull; see
        :func:`hipdrive.analysis.segment.segment_reps`).
    rest_rom_fraction : float
        A rep starts (squat: descent; deadlift: lift-off) where the bar is this
        fraction of its range of motion away from its resting height, and ends
        (squat: standing; deadlift: on the floor) where it is back within it
        (default 0.01, the hand labels' rule; see
        :func:`hipdrive.analysis.segment._left_rest`).
    lockout_rom_fraction : float
        Deadlift lockout: where the bar is within this fraction of its range of
        motion of the top of the pull (default 0.02, the hand labels' rule; see
        :func:`hipdrive.analysis.segment._arrived_at_top`).
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
        :func:`hipdrive.analysis.filters.velocity_noise_gain`, or the bar's velocity
        spread between reps when larger: :func:`hipdrive.analysis.metrics.still_velocity_sd`),
        so noise alone rarely
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
        ``score_threshold``; default 0.5). Where it is lost, its path follows
        the body proxy (:func:`hipdrive.analysis.clean.fill_from_donor`), and
        the reps there name both in ``bar_source`` and are flagged only where
        the proxy was lost too, so a patchy track cuts no rep; the other
        checks are measured on the frames it is seen in, which must be most
        of the clip.
    bar_track_min_correlation : float
        Pearson correlation between the vertical positions of the bar end and
        of the body proxy that the bar end needs (default 0.8): the bar moves
        with the shoulders in a squat and with the hands in a deadlift, so a
        track that does not (a plate on the floor, a background circle) is
        not the lifter's bar. A third check uses ``lockout_tolerance``: the
        track's resting level (a deadlift on the floor, a squat standing) may
        not move between rests by more than that share of its range of
        motion, or it could not tell a return to rest.
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
    rest_rom_fraction: float = segment.REST_ROM_FRACTION
    lockout_rom_fraction: float = segment.LOCKOUT_ROM_FRACTION
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
    bar_track_min_coverage: float = 0.5
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
            "rest_rom_fraction",
            "lockout_rom_fraction",
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


@dataclass(frozen=True)
class CleanParams:
    """Options of the cleaning step (:func:`hipdrive.analysis.clean.clean_keypoints`)."""

    score_threshold: float
    max_gap_s: float
    cutoff_hz: float
    cutoff_method: str
    outlier_threshold_frac: float
    outlier_k_mad: float


@dataclass(frozen=True)
class OrientParams:
    """Options of the step that picks the side, the body frame and the bar."""

    side: str
    both_sides_score: float
    tilt_correction: bool
    score_threshold: float
    bar_track: bool
    bar_track_min_coverage: float
    bar_track_min_correlation: float
    lockout_tolerance: float
    bar_still_fraction: float


@dataclass(frozen=True)
class SegmentParams:
    """Options of rep segmentation (:func:`hipdrive.analysis.segment.segment_reps`)."""

    min_rep_displacement_bh: float
    min_rep_duration_s: float
    lockout_tolerance: float
    pause_band_bh: float
    min_pause_s: float
    lockout_band_fraction: float
    rest_rom_fraction: float
    lockout_rom_fraction: float
    still_noise_k: float
    pause_noise_k: float
    bar_still_fraction: float
    lockout_hip_angle_deg: float
    lockout_knee_angle_deg: float


@dataclass(frozen=True)
class MetricParams:
    """Options of the per-rep metrics, passed to :func:`hipdrive.analysis.metrics.rep_metrics`."""

    sticking_prominence_bh_s: float
    sticking_noise_k: float
    sticking_cutoff_cycles: float
    sticking_search_fraction: float
    sticking_first_peak_fraction: float
    early_ascent_fraction: float
    chest_rise_threshold_deg: float


def step_params(params: AnalysisParams, group: type[T]) -> T:
    """The fields of one step's group, read from the flat :class:`AnalysisParams`.

    The config stays one flat mapping (its keys are the user's); each step
    sees only its own options.
    """
    return group(**{f.name: getattr(params, f.name) for f in dataclasses.fields(group)})
