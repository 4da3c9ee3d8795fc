"""Sagittal-plane kinematics from cleaned 2-D keypoints: angles, heights, moment arms.

Coordinates
-----------
Image ``y`` points down. Before any angle the points are put in a *body
frame* (:func:`to_body_frame`): ``y`` flipped so up is positive, ``x`` mirrored
when the lifter faces image-left so that ``+x`` is always the lifter's
forward direction, and optionally rotated by the floor tilt seen at the feet.
Angles are therefore identical for a lifter filmed facing left or right.

Definitions (all degrees; docs/definitions.md "Kinematics")
-----------------------------------------------------------
trunk angle
    angle of the hip -> shoulder segment from vertical, 0 = upright, positive
    = shoulders forward of the hips (trunk inclination; Schoenfeld 2010,
    Fry et al. 2003).
hip angle
    included angle shoulder-hip-knee, 180 = fully extended.
knee angle
    included angle hip-knee-ankle, 180 = fully extended.
shin angle
    angle of the ankle -> knee segment from vertical, positive = knee forward
    of the ankle.
heights
    vertical position above the ankle level (median ankle height over the
    clip), in pixels and body heights (``_bh``) and metres (``_m``) when the
    lifter's stature is known.
moment arms
    horizontal distance from the bar line (the vertical through the bar proxy)
    to the hip (positive = hip behind the bar) and to the knee (positive =
    knee in front of the bar); the ratio of their magnitudes |hip|/|knee|
    describes how the external moment is shared between the hip and the knee
    extensors (NaN where the knee is within :data:`MIN_KNEE_ARM_BH` of the bar
    line: the ratio is ill-conditioned there) (the seed's
    "moment = weight x moment arm"; Fry et al. 2003; Swinton et al. 2011).

References
----------
Winter DA (2009). Biomechanics and Motor Control of Human Movement, 4th ed.
Wiley. doi:10.1002/9780470549148 (ch. 4, anthropometry after Drillis &
Contini 1966).

Fry AC, Smith JC, Schilling BK (2003). Effect of knee position on hip and knee
torques during the barbell squat. J Strength Cond Res 17:629-633.

Schoenfeld BJ (2010). Squatting kinematics and kinetics and their application
to exercise performance. J Strength Cond Res 24:3497-3506.
doi:10.1519/JSC.0b013e3181bac2d7

Swinton PA, Lloyd R, Keogh JWL, Agouris I, Stewart AD (2011). A biomechanical
comparison of the traditional squat, powerlifting squat, and box squat. J
Strength Cond Res 26:1805-1816. doi:10.1519/JSC.0b013e3182577067
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from hipdrive.body import (
    CHAIN_FRACTION,
    PROPORTIONS,
    Side,
    chain_height_px,
    chain_segment_lengths,
    keypoint_index,
    part_position,
)
from hipdrive.contracts.reps import MAX_SIDE_VIEW_YAW_DEG
from hipdrive.errors import InputError

#: Knee-arm magnitude (body heights) below which the hip/knee moment-arm ratio
#: is undefined (NaN): near lockout the knee sits on the bar line.
MIN_KNEE_ARM_BH = 0.005


def detect_facing(xy: np.ndarray, names: tuple[str, ...] | list[str]) -> Literal["left", "right"]:
    """Which way the lifter faces in the image (``right`` = towards +x).

    Three cues, each the median over the clip of a horizontal offset in image
    pixels, vote by sign: toes in front of heels, nose in front of the ears,
    and knees in front of the ankles in the most flexed third of the frames
    (in both lifts the knees travel forward of the ankles, never behind). The
    foot cue counts twice when present (it does not depend on head posture).

    Parameters
    ----------
    xy : ndarray, shape (n_frames, n_keypoints, 2)
        Image-pixel positions (y down), NaN for missing points.
    names : sequence of str

    Raises
    ------
    InputError
        When no cue is available (no feet, no head, no knees).
    """
    votes = facing_votes(xy, names)
    if not votes:
        raise InputError("cannot tell which way the lifter faces: no feet, head or knee points")
    return (
        "right"
        if np.sum(votes) > 0
        else "left"
        if np.sum(votes) < 0
        else ("right" if votes[0] > 0 else "left")
    )


def facing_votes(xy: np.ndarray, names: tuple[str, ...] | list[str]) -> list[float]:
    """The cues of :func:`detect_facing`, each +1 (faces image-right) or -1 (image-left)."""
    votes = []
    with np.errstate(invalid="ignore"):
        toe = (
            part_position(xy, names, "big_toe", "mean")[:, 0]
            - part_position(xy, names, "heel", "mean")[:, 0]
        )
        if np.isfinite(toe).any():
            votes += [np.sign(np.nanmedian(toe))] * 2
        idx = keypoint_index(names)
        if "nose" in idx:
            ear = part_position(xy, names, "ear", "mean")[:, 0]
            face = xy[:, idx["nose"], 0] - ear
            if np.isfinite(face).any():
                votes.append(np.sign(np.nanmedian(face)))
        knee = part_position(xy, names, "knee", "mean")
        ankle = part_position(xy, names, "ankle", "mean")
        hip = part_position(xy, names, "hip", "mean")
        if np.isfinite(knee - ankle).any():
            # Most flexed frames: hips lowest relative to the ankle span.
            depth = hip[:, 1] - ankle[:, 1]  # image y down: larger = hips lower
            depth = np.where(np.isfinite(depth), depth, -np.inf)
            k = max(1, len(depth) // 3)
            flexed = np.argpartition(depth, len(depth) - k)[-k:]
            offset = (knee[flexed, 0] - ankle[flexed, 0])[np.isfinite(depth[flexed])]
            if np.isfinite(offset).any():
                votes.append(np.sign(np.nanmedian(offset)))
    return [float(v) for v in votes if v != 0 and np.isfinite(v)]


def camera_yaw_deg(xy: np.ndarray, names: tuple[str, ...] | list[str]) -> np.ndarray:
    """Per frame, how far the camera is turned from the lifter's side, degrees.

    Seen exactly from the side, the two shoulders overlap; turned by ``yaw``
    they are ``sin(yaw)`` x shoulder width apart horizontally, the biacromial
    breadth being 0.259 of stature (Winter 2009, Fig. 4.1). Stature here comes
    from the ankle -> shoulder chain at its longest (each segment's 90th
    percentile length over the clip): a turned camera shortens a segment
    except while it is vertical, as shins, thighs and trunk are when the
    lifter stands. Positive = towards the lifter's front (their right
    shoulder left of their left shoulder in the image, whichever way they
    face), negative = towards their back. NaN where a shoulder is missing.

    Parameters
    ----------
    xy : ndarray, shape (n_frames, n_keypoints, 2)
        Image pixels (not the mirrored body frame: the sign is read in the image).
    """
    pts = {p: part_position(xy, names, p, "mean") for p in ("ankle", "knee", "hip", "shoulder")}
    seen = [length[np.isfinite(length)] for length in chain_segment_lengths(pts)]
    longest = [np.percentile(x, 90) if len(x) else np.nan for x in seen]  # nanpercentile is slow
    stature_px = float(np.sum(longest)) / CHAIN_FRACTION
    spread = (
        part_position(xy, names, "shoulder", "left")[:, 0]
        - part_position(xy, names, "shoulder", "right")[:, 0]
    )
    with np.errstate(invalid="ignore"):
        sin_yaw = np.clip(spread / (PROPORTIONS["shoulder_width"] * stature_px), -1.0, 1.0)
    return np.degrees(np.arcsin(sin_yaw))


def body_size_ratio(
    xy_up: np.ndarray, names: tuple[str, ...] | list[str], *, side: Side, body_height_px: float
) -> np.ndarray:
    """Per frame, the ankle -> knee -> hip -> shoulder chain's length over the clip's.

    Seen from the side the three segments keep their lengths whatever the
    posture (:func:`hipdrive.body.body_height_px` sizes the lifter from their
    medians), so the chain is the same length in every frame. A camera that
    zooms or moves closer, or a pose model that jumps to another person,
    changes it. NaN where a joint is missing.
    """
    pts = {p: part_position(xy_up, names, p, side) for p in ("ankle", "knee", "hip", "shoulder")}
    return sum(chain_segment_lengths(pts)) / (CHAIN_FRACTION * body_height_px)


#: Least share of its longest length nearby (90th percentile within
#: :data:`SIZE_WINDOW_S`) that a lifter's ankle -> knee -> hip -> shoulder chain keeps
#: in any frame of a side view: within the side view's turn
#: (:data:`hipdrive.contracts.reps.MAX_SIDE_VIEW_YAW_DEG`) every segment keeps
#: cos(32.9 deg) = 0.84 of its length in any posture (docs/definitions.md, "Misread pose").
SIDE_CHAIN_SHARE = 0.84
#: A chain under this share (or over its inverse) is not the lifter's body: another shape
#: read as the lifter (a skeleton squeezed onto a plate that hides the body) or a nearer
#: person. A pose model's own error on a real body stays above it: MediaPipe on rendered
#: squats with exact truth draws the chain as short as 0.59 in a deep bottom.
MISREAD_CHAIN_SHARE = 0.5
#: Width (s) of the window the chain's longest length is taken over: a zoom or the lifter
#: stepping nearer changes their size over seconds, a misread in a frame; 4 s holds a
#: misread through a 2 s lockout hold with good frames on either side.
SIZE_WINDOW_S = 4.0
#: A pose model locks onto a misread and off it again over a few frames, whose points
#: are half the lifter's and half the misread's: this long (s) on either side of a
#: misread stretch is dropped with it.
MISREAD_MARGIN_S = 0.1
#: Rate (Hz) that longest length is taken at, interpolated between: 20 samples a window.
SIZE_SAMPLE_HZ = 5.0
#: The joints a misread leg drags along; the rest hang from the trunk.
LEG_PARTS = ("knee", "ankle", "heel", "big_toe")


def misread_joints(
    xy: np.ndarray, names: tuple[str, ...] | list[str], *, fs_hz: float, yaw_deg: float
) -> np.ndarray:
    """Keypoints, per frame, that cannot be the lifter's body seen from the side.

    A frame is misread where the ankle -> shoulder chain's share of its
    longest length nearby (over the segments seen in the frame) passes
    :data:`MISREAD_CHAIN_SHARE`, and so is every frame joined to it by frames
    beyond :data:`SIDE_CHAIN_SHARE` (frames with the chain unseen are passed
    over, neither joining nor breaking a run): a misread skeleton's size
    jitters, and a frame of it that happens to come near the body's size is
    still outside what the side view allows. Where the trunk keeps its length
    only the legs are misread (:data:`LEG_PARTS`); otherwise the whole
    skeleton is; either with :data:`MISREAD_MARGIN_S` on each side. For side
    views only: seen from the front, thighs and trunk pointing at the camera
    legitimately shorten the chain to about half. Lengths are the mean of the
    two sides' where both are seen. A misread is an episode against the body's
    usual size: where it would cover most of the frames the body is seen in,
    that size is in doubt (a cut between shots, a zoom) and nothing is
    returned; ``body_size_ratio`` still flags the reps.

    Parameters
    ----------
    yaw_deg : float
        The clip's median :func:`camera_yaw_deg`: nothing is misread unless it
        is a side view (NaN: unknown, nothing either).

    Returns
    -------
    ndarray of bool, shape (n_frames, n_keypoints)
    """
    out = np.zeros(xy.shape[:2], dtype=bool)
    if not abs(yaw_deg) <= MAX_SIDE_VIEW_YAW_DEG:
        return out
    left, right = (
        np.vstack(chain_segment_lengths({p: part_position(xy, names, p, side)
                                         for p in ("ankle", "knee", "hip", "shoulder")}))
        for side in ("left", "right")
    )  # fmt: skip  (shank, thigh, trunk)
    lengths = np.where(np.isnan(left), right, np.where(np.isnan(right), left, 0.5 * (left + right)))
    longest = _nearby_longest(lengths, fs_hz)
    seen = np.isfinite(lengths)
    if not seen.any():
        return out
    with np.errstate(invalid="ignore", divide="ignore"):  # the chain of the segments seen
        chain_off = np.abs(np.log(np.where(seen, lengths, 0).sum(0) / np.where(seen, longest, 0).sum(0)))
        trunk_off = np.abs(np.log(lengths[2] / longest[2]))
    known = np.flatnonzero(seen.any(axis=0))  # runs are judged over these frames
    sure = chain_off[known] > -np.log(MISREAD_CHAIN_SHARE)
    outside = chain_off[known] > -np.log(SIDE_CHAIN_SHARE)
    run = np.cumsum(np.r_[True, outside[1:] != outside[:-1]]) - 1  # runs in or out
    frames = np.zeros(len(xy), dtype=bool)
    frames[known] = outside & (np.bincount(run, weights=sure)[run] > 0)
    if frames.sum() > 0.5 * len(known):  # the size itself is in doubt (a cut, a zoom)
        return out
    whole = frames & ~(trunk_off <= -np.log(SIDE_CHAIN_SHARE))  # the trunk misread or unseen
    margin = np.ones(2 * int(round(MISREAD_MARGIN_S * fs_hz)) + 1)
    frames, whole = (np.convolve(m, margin, mode="same") > 0 for m in (frames, whole))
    legs = [i for i, n in enumerate(names) if n.split("_", 1)[-1] in LEG_PARTS]
    out[whole] = True
    out[np.ix_(frames & ~whole, legs)] = True
    return out


def _nearby_longest(lengths: np.ndarray, fs_hz: float) -> np.ndarray:
    """Per row and frame, the 90th percentile of the row within :data:`SIZE_WINDOW_S`
    around the frame, leaving unseen (NaN) frames out. It changes over seconds, so it
    is taken at :data:`SIZE_SAMPLE_HZ` and interpolated between."""
    step = max(1, int(round(fs_hz / SIZE_SAMPLE_HZ)))
    half = max(1, int(round(0.5 * SIZE_WINDOW_S * fs_hz / step)))
    sampled = np.pad(lengths[:, ::step], ((0, 0), (half, half)), constant_values=np.nan)
    windows = np.sort(sliding_window_view(sampled, 2 * half + 1, axis=1), axis=-1)  # NaN last
    count = np.isfinite(windows).sum(axis=-1)
    rank = 0.9 * np.maximum(count - 1, 0)  # NumPy's linear percentile over the seen
    below = np.floor(rank).astype(int)
    low, high = (np.take_along_axis(windows, i[..., None], axis=-1)[..., 0]
                 for i in (below, np.minimum(below + 1, np.maximum(count - 1, 0))))  # fmt: skip
    q90 = np.where(count > 0, low + (rank - below) * (high - low), np.nan)
    at, frames = np.arange(0, lengths.shape[1], step), np.arange(lengths.shape[1])
    return np.vstack([
        np.interp(frames, at[ok], row[ok]) if ok.any() else np.full(len(frames), np.nan)
        for row, ok in zip(q90, np.isfinite(q90), strict=True)
    ])  # fmt: skip


def choose_side(
    score: np.ndarray,
    names: tuple[str, ...] | list[str],
    *,
    camera_side: str | None = None,
    both_confident_score: float | None = None,
) -> Side:
    """The body side whose keypoints define the analysis, fixed for the video.

    The side facing the camera is the one the detector sees: the manifest's
    ``camera_side`` when given, else the side with the higher median score of
    shoulder, hip, knee and ankle over the clip. Only when ``both_confident_score``
    is given and both sides reach that median score is their mean used
    (docs/definitions.md, "Body side"). It is
    off by default: on rendered lifters with exact truth, MediaPipe's far-side
    points pulled the two-side trunk angle upright at the squat bottom (median
    error 10.4 deg vs 1.5 deg for the near side; ``benchmarks/bench_detection.py``).
    One choice per video, never per frame: a per-frame choice would jump
    between two slightly different projections.

    Returns
    -------
    {'left', 'right', 'mean'}
    """
    idx = keypoint_index(names)
    parts = ("shoulder", "hip", "knee", "ankle")
    med = {}
    for side in ("left", "right"):
        cols = [idx[f"{side}_{p}"] for p in parts if f"{side}_{p}" in idx]
        med[side] = float(np.median(score[:, cols])) if cols and len(score) else 0.0
    if both_confident_score is not None and min(med.values()) >= both_confident_score:
        return "mean"
    if camera_side in ("left", "right"):
        return camera_side  # type: ignore[return-value]
    if camera_side not in (None, "", "auto"):
        raise InputError(f"camera_side must be left, right or empty, got {camera_side!r}")
    return "left" if med["left"] >= med["right"] else "right"


def floor_tilt_deg(xy_up: np.ndarray, names: tuple[str, ...] | list[str]) -> float:
    """Camera roll estimated from the feet: angle of the heel -> toe line.

    With flat feet on a level floor the heel and big toe are at the same
    height, so the median angle of heel -> toe (in a y-up, forward-+x frame)
    over the clip is the camera's roll. Returns 0.0 when the backend has no
    foot points.
    """
    heel = part_position(xy_up, names, "heel", "mean")
    toe = part_position(xy_up, names, "big_toe", "mean")
    d = toe - heel
    ok = np.isfinite(d).all(axis=1) & (np.abs(d[:, 0]) > 0)
    if not ok.any():
        return 0.0
    return float(np.degrees(np.median(np.arctan2(d[ok, 1], np.abs(d[ok, 0])) * np.sign(d[ok, 0]))))


def to_body_frame(xy: np.ndarray, *, facing: str, tilt_deg: float = 0.0) -> np.ndarray:
    """Image pixels -> body frame: y up, +x = the lifter's forward, tilt removed.

    Parameters
    ----------
    xy : ndarray, shape (..., 2)
        Image pixels, y down.
    facing : {'left', 'right'}
        From :func:`detect_facing`.
    tilt_deg : float
        Floor tilt in the y-up forward frame (from :func:`floor_tilt_deg`);
        points are rotated by ``-tilt_deg``.
    """
    if facing not in ("left", "right"):
        raise ValueError(f"facing must be 'left' or 'right', got {facing!r}")
    out = np.array(xy, dtype=np.float64, copy=True)
    out[..., 1] = -out[..., 1]
    if facing == "left":
        out[..., 0] = -out[..., 0]
    if tilt_deg:
        c, s = np.cos(np.radians(-tilt_deg)), np.sin(np.radians(-tilt_deg))
        x, y = out[..., 0].copy(), out[..., 1].copy()
        out[..., 0], out[..., 1] = c * x - s * y, s * x + c * y
    return out


#: Beyond this, a trunk or shin would point downwards: no squat or deadlift posture
#: does that, so such a frame is a keypoint glitch (e.g. shoulder and hip confused).
MAX_SEGMENT_ANGLE_DEG = 120.0


def angle_from_vertical_deg(lower: np.ndarray, upper: np.ndarray) -> np.ndarray:
    """Angle of ``lower -> upper`` from vertical (y-up frame), + = upper is forward (+x).

    Trunk (hip -> shoulder) and shin (ankle -> knee) always point upwards in a
    lift; angles beyond +-:data:`MAX_SEGMENT_ANGLE_DEG` are returned as NaN rather
    than wrapped, so a glitch frame becomes a gap (flagged downstream) instead
    of a 300-degree "hip lead".
    """
    d = upper - lower
    angle = np.degrees(np.arctan2(d[..., 0], d[..., 1]))
    return np.where(np.abs(angle) > MAX_SEGMENT_ANGLE_DEG, np.nan, angle)


def included_angle_deg(a: np.ndarray, vertex: np.ndarray, c: np.ndarray) -> np.ndarray:
    """Included angle a-vertex-c in degrees (0..180; 180 = straight line)."""
    u, v = a - vertex, c - vertex
    cross = u[..., 0] * v[..., 1] - u[..., 1] * v[..., 0]
    dot = u[..., 0] * v[..., 0] + u[..., 1] * v[..., 1]  # not .sum(axis=-1): slow on 2
    return np.degrees(np.abs(np.arctan2(cross, dot)))


#: Per-frame series every video gets (see the module docstring for definitions).
SERIES = (
    "trunk_angle_deg", "hip_angle_deg", "knee_angle_deg", "shin_angle_deg",
    "bar_height_bh", "bar_velocity_bh_s", "hip_height_bh", "hip_velocity_bh_s",
    "shoulder_height_bh", "shoulder_velocity_bh_s", "wrist_height_bh",
    "knee_height_bh", "hip_x_bh", "knee_x_bh", "ankle_x_bh", "bar_x_bh",
    "hip_moment_arm_bh", "knee_moment_arm_bh", "moment_arm_ratio",
)  # fmt: skip


@dataclass(frozen=True)
class Kinematics:
    """Per-frame kinematics of one video.

    Attributes
    ----------
    time_s : ndarray, shape (n_frames,)
    series : dict of str -> ndarray
        Every name in :data:`SERIES`, in the units its name states; add the
        ``_px`` and ``_m`` variants with :meth:`in_units`.
    body_height_px : float
        Stature in pixels (:func:`hipdrive.body.body_height_px`).
    height_m : float
        Stature in metres, NaN when unknown.
    """

    time_s: np.ndarray
    series: dict[str, np.ndarray]
    body_height_px: float
    height_m: float

    def __getitem__(self, name: str) -> np.ndarray:
        return self.series[name]

    def in_units(self, name: str, unit: Literal["px", "m", "bh"]) -> np.ndarray:
        """A ``_bh`` (or ``_bh_s``) series converted to pixels or metres."""
        if "_bh" not in name:
            raise ValueError(f"{name} is not in body heights")
        scale = {"bh": 1.0, "px": self.body_height_px, "m": self.height_m}[unit]
        return self.series[name] * scale


def compute_kinematics(
    xy_up: np.ndarray,
    time_s: np.ndarray,
    names: tuple[str, ...] | list[str],
    *,
    side: Side,
    bar_proxy: Literal["shoulder", "wrist", "bar_end"],
    height_m: float = float("nan"),
    body_height_px_override: float | None = None,
    bar_xy: np.ndarray | None = None,
) -> Kinematics:
    """All per-frame series of :data:`SERIES` from body-frame positions.

    Parameters
    ----------
    xy_up : ndarray, shape (n_frames, n_keypoints, 2)
        Filtered positions in the body frame (:func:`to_body_frame`), pixels.
    time_s : ndarray, shape (n_frames,)
        Timestamps; velocities are central differences in time
        (:func:`numpy.gradient`, second-order accurate, uneven spacing allowed)
        of the *filtered* positions.
    names : sequence of str
    side : {'left', 'right', 'mean'}
        From :func:`choose_side`; used for every joint.
    bar_proxy : {'shoulder', 'wrist', 'bar_end'}
        Point standing in for the bar: shoulders for a back squat, wrists for
        a front squat and the deadlift (docs/definitions.md, "Bar proxy"); ``bar_end`` = the tracked
        bar itself, given as ``bar_xy``.
    height_m : float
        Stature in metres (NaN when unknown).
    body_height_px_override : float, optional
        Stature in pixels when known otherwise (e.g. a calibration).
    bar_xy : ndarray, shape (n_frames, 2), optional
        The tracked bar end in the body frame, pixels (``bar_proxy="bar_end"``).
    """
    if bar_proxy not in ("shoulder", "wrist", "bar_end"):
        raise ValueError(f"bar_proxy must be 'shoulder', 'wrist' or 'bar_end', got {bar_proxy!r}")
    if (bar_proxy == "bar_end") != (bar_xy is not None):
        raise ValueError("bar_xy is needed for, and only for, bar_proxy='bar_end'")
    t = np.asarray(time_s, dtype=np.float64)
    if len(t) != xy_up.shape[0]:
        raise ValueError(f"{len(t)} timestamps for {xy_up.shape[0]} frames")
    px = {
        k: part_position(xy_up, names, k, side)
        for k in ("shoulder", "hip", "knee", "ankle", "wrist")
    }
    h_px = (
        chain_height_px(px) if body_height_px_override is None else float(body_height_px_override)
    )
    p = {k: v / h_px for k, v in px.items()}
    floor = np.nanmedian(p["ankle"][:, 1]) if np.isfinite(p["ankle"][:, 1]).any() else 0.0
    bar = p[bar_proxy] if bar_xy is None else np.asarray(bar_xy, dtype=np.float64) / h_px
    s: dict[str, np.ndarray] = {}
    s["trunk_angle_deg"] = angle_from_vertical_deg(p["hip"], p["shoulder"])
    s["hip_angle_deg"] = included_angle_deg(p["shoulder"], p["hip"], p["knee"])
    s["knee_angle_deg"] = included_angle_deg(p["hip"], p["knee"], p["ankle"])
    s["shin_angle_deg"] = angle_from_vertical_deg(p["ankle"], p["knee"])
    heights = np.stack([bar[:, 1], p["hip"][:, 1], p["shoulder"][:, 1]]) - floor
    # one np.gradient call for all three rows: the same numbers, a third of the overhead
    velocities = np.gradient(heights, t, axis=1) if len(t) >= 3 else np.full_like(heights, np.nan)
    for k, name in enumerate(("bar", "hip", "shoulder")):
        s[f"{name}_height_bh"] = heights[k]
        s[f"{name}_velocity_bh_s"] = velocities[k]
    s["wrist_height_bh"] = p["wrist"][:, 1] - floor
    s["knee_height_bh"] = p["knee"][:, 1] - floor
    for k in ("hip", "knee", "ankle"):
        s[f"{k}_x_bh"] = p[k][:, 0]
    s["bar_x_bh"] = bar[:, 0]
    s["hip_moment_arm_bh"] = bar[:, 0] - p["hip"][:, 0]
    s["knee_moment_arm_bh"] = p["knee"][:, 0] - bar[:, 0]
    with np.errstate(invalid="ignore", divide="ignore"):
        s["moment_arm_ratio"] = np.where(
            np.abs(s["knee_moment_arm_bh"]) >= MIN_KNEE_ARM_BH,
            np.abs(s["hip_moment_arm_bh"]) / np.abs(s["knee_moment_arm_bh"]),
            np.nan,
        )
    return Kinematics(time_s=t, series=s, body_height_px=h_px, height_m=float(height_m))
