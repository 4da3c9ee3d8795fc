"""The body model both sides share: Winter's segment fractions, stature, body parts.

The simulator draws a lifter from these fractions and the analysis sizes the
filmed lifter with them, so they live below both; this module imports nothing
from hipdrive but :mod:`hipdrive.errors`.

References
----------
Drillis R, Contini R (1966). Body segment parameters. Report 1166-03,
Office of Vocational Rehabilitation, New York University.
Winter DA (2009). Biomechanics and Motor Control of Human Movement, 4th ed.,
Wiley, ch. 4, Fig. 4.1. doi:10.1002/9780470549148
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from hipdrive.errors import InputError

Side = Literal["left", "right", "mean"]

#: Drillis & Contini (1966) segment lengths as fractions of stature H, from
#: Winter (2009, Fig. 4.1): shank = knee height 0.285 H - ankle height 0.039 H;
#: thigh = hip (greater trochanter) 0.530 H - knee 0.285 H; trunk = shoulder
#: (acromion) 0.818 H - hip 0.530 H.
SHANK_FRACTION = 0.285 - 0.039
THIGH_FRACTION = 0.530 - 0.285
TRUNK_FRACTION = 0.818 - 0.530
#: Shank + thigh + trunk = 0.779 H: the ankle -> shoulder chain length.
CHAIN_FRACTION = SHANK_FRACTION + THIGH_FRACTION + TRUNK_FRACTION

#: Segment lengths of the simulated lifter as fractions of standing height H
#: (Winter 2009, Fig. 4.1; joint heights: ankle 0.039 H, knee 0.285 H, hip
#: 0.530 H, shoulder 0.818 H, eye 0.936 H, vertex 1.000 H). Rounded to three
#: places, so ``shank`` is 0.246, not the float ``SHANK_FRACTION``.
PROPORTIONS: dict[str, float] = {
    "ankle_height": 0.039,  # floor -> lateral malleolus
    "foot_length": 0.152,  # heel -> toe tip
    "heel_behind_ankle": 0.035,  # heel back edge behind the ankle joint (foot length x ~0.23)
    "shank": 0.246,  # knee -> ankle (0.285 - 0.039)
    "thigh": 0.245,  # hip -> knee (0.530 - 0.285)
    "trunk": 0.288,  # hip -> shoulder (0.818 - 0.530)
    "shoulder_to_ear": 0.118,  # shoulder -> tragion (0.936 - 0.818)
    "head_radius": 0.062,  # half the head length (glabella-opisthocranion ~0.125 H)
    "upper_arm": 0.186,  # shoulder -> elbow
    "forearm": 0.146,  # elbow -> wrist
    "hand": 0.108,  # wrist -> fingertip
    "shoulder_width": 0.259,  # biacromial breadth
    "hip_width": 0.191,
    "trunk_depth": 0.110,  # antero-posterior chest depth (approximate, used for drawing)
}


def keypoint_index(names: tuple[str, ...] | list[str]) -> dict[str, int]:
    """Keypoint name -> its position in ``names``."""
    return {n: i for i, n in enumerate(names)}


def part_position(xy: np.ndarray, names, part: str, side: Side) -> np.ndarray:
    """(n_frames, 2) positions of ``part`` (e.g. ``"hip"``) on ``side``.

    ``side="mean"`` averages left and right where both exist and takes the one
    that exists otherwise.
    """
    idx = keypoint_index(names)
    left, right = idx.get(f"left_{part}"), idx.get(f"right_{part}")
    lp = xy[:, left] if left is not None else np.full((xy.shape[0], 2), np.nan)
    rp = xy[:, right] if right is not None else np.full((xy.shape[0], 2), np.nan)
    if side == "left":
        return lp
    if side == "right":
        return rp
    mean = 0.5 * (lp + rp)
    lost = np.isnan(mean)
    if lost.any():  # one side missing: take the other
        mean[lost] = np.where(np.isnan(lp[lost]), rp[lost], lp[lost])
    return mean


def body_height_px(xy_up: np.ndarray, names: tuple[str, ...] | list[str], *, side: Side) -> float:
    """Stature in pixels from the ankle -> knee -> hip -> shoulder chain.

    The three segment lengths are posture-invariant in a sagittal view, so
    every frame counts (not only standing ones, which a clip may lack, and
    unlike the nose, which a deadlifter tucks). Their medians over the clip are
    summed and divided by :data:`CHAIN_FRACTION` (0.779 of stature; Drillis &
    Contini 1966 via Winter 2009, Fig. 4.1). Accuracy is that of the
    anthropometric model: about +-3% for an individual lifter.

    Raises
    ------
    InputError
        When a segment is never visible.
    """
    pts = {p: part_position(xy_up, names, p, side) for p in ("ankle", "knee", "hip", "shoulder")}
    return chain_height_px(pts)


CHAIN_SEGMENTS = (("ankle", "knee"), ("knee", "hip"), ("hip", "shoulder"))


def chain_segment_lengths(pts: dict[str, np.ndarray]) -> list[np.ndarray]:
    """Per-frame lengths of shank, thigh and trunk (:data:`CHAIN_SEGMENTS`), NaN where unseen."""
    return [np.hypot(*(pts[b] - pts[a]).T) for a, b in CHAIN_SEGMENTS]


def chain_height_px(pts: dict[str, np.ndarray]) -> float:
    """:func:`body_height_px` from the ankle, knee, hip and shoulder positions."""
    total = 0.0
    for (a, b), length in zip(CHAIN_SEGMENTS, chain_segment_lengths(pts), strict=True):
        if not np.isfinite(length).any():
            raise InputError(f"cannot size the lifter: the {a}-{b} segment is never visible")
        total += float(np.nanmedian(length))
    return total / CHAIN_FRACTION
