"""Whether a tracked bar end may stand for the bar (docs/definitions.md, "Bar proxy").

A plate track is used only where it behaves like the lifter's bar: seen in
most frames, moving with the body proxy, setting off from one resting level
and, in a squat, sitting at the shoulders.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from hipdrive.analysis import filters
from hipdrive.analysis.params import OrientParams

__all__ = ["MAX_SQUAT_BAR_BELOW_SHOULDERS_BH", "rest_drift", "squat_bar_level", "track_check"]


def track_check(
    score: np.ndarray,
    bar_y: np.ndarray,
    proxy_y: np.ndarray,
    time_s: np.ndarray,
    params: OrientParams,
    *,
    lift: str,
) -> dict[str, Any]:
    """Whether the tracked bar end may stand for the bar (``AnalysisParams.bar_track``).

    ``failed`` names the checks it failed (``used`` when none).
    ``coverage`` is the share of frames whose bar score reaches
    ``score_threshold``; ``correlation`` the Pearson correlation of the
    cleaned bar end's vertical position with the body proxy's, over frames
    where both are known. Both sign conventions agree only when the track
    follows the lifter, so a negative correlation fails too. ``rest_drift``
    (:func:`rest_drift`) may not exceed the segmentation's
    ``lockout_tolerance``: a track that lands higher after each rep never
    "returns to rest".
    """
    coverage = float(np.mean(score >= params.score_threshold)) if len(score) else 0.0
    ok = np.isfinite(bar_y) & np.isfinite(proxy_y)
    corr = 0.0
    if ok.sum() >= 3 and np.std(bar_y[ok]) > 0 and np.std(proxy_y[ok]) > 0:
        # image y (down) against body-frame height (up): the sign flips
        corr = float(-np.corrcoef(bar_y[ok], proxy_y[ok])[0, 1])
    drift = rest_drift(-bar_y, time_s, lift=lift, still_fraction=params.bar_still_fraction)
    failed = [name for name, bad in (
        ("coverage", coverage < params.bar_track_min_coverage),
        ("correlation", corr < params.bar_track_min_correlation),
        ("rest_drift", drift > params.lockout_tolerance),  # NaN: no rest seen, no evidence
    ) if bad]  # fmt: skip
    return {"coverage": coverage, "correlation": corr, "rest_drift": drift,
            "used": not failed, "failed": failed}  # fmt: skip


#: How far below the shoulder joints (statures) a squat's tracked bar may sit over the
#: clip: the bar rests about level with them or above (a low bar, across the posterior
#: deltoids, up to about 0.03 lower; Wretenberg et al. 1996), and the near plate, closer
#: to the camera than the shoulders, is drawn up to 1.4 times as far from the picture's
#: centre (its travel against the shoulders' on the shared clips), which puts it up to
#: 0.4 x 0.2 = 0.08 lower for shoulders 0.2 statures below the centre (a camera framed high)
#: (docs/definitions.md, "Bar proxy").
MAX_SQUAT_BAR_BELOW_SHOULDERS_BH = 0.03 + 0.4 * 0.2


def squat_bar_level(
    check: dict[str, Any], bar_h: np.ndarray, shoulder_h: np.ndarray, height_px: float
) -> dict[str, Any]:
    """``check`` with the squat's bar-level check added: the tracked point sits at the shoulders.

    Why: a tracked circle on the lifter's back rises and falls with the
    shoulders, so coverage and correlation pass, but it sits below them and
    travels less than the bar. ``bar_below_shoulders_bh`` is the median height
    of the shoulders above the tracked point (both body-frame heights, pixels),
    in statures; NaN (no evidence) where the shoulders or the stature are unknown.
    """
    gap = shoulder_h - bar_h
    below = float(np.nanmedian(gap) / height_px) if np.isfinite(gap).any() else np.nan
    failed = check["failed"] + (["level"] if below > MAX_SQUAT_BAR_BELOW_SHOULDERS_BH else [])
    return check | {"bar_below_shoulders_bh": below, "used": not failed, "failed": failed}


def rest_drift(bar_h: np.ndarray, time_s: np.ndarray, *, lift: str, still_fraction: float) -> float:
    """How far the bar's level moves between the rests it sets off from, over its range of motion.

    A loaded bar sets off from one height: the floor (deadlift) or the
    shoulders of a lifter standing tall (squat). Rests are the stretches of at
    least 0.2 s where the tracked bar is still (below ``still_fraction`` of the
    95th percentile of its speed, so that a dropped bar's fall does not loosen
    it) in the resting half of its range and from which it moves again before
    the clip ends; the drift is the spread of their median heights. NaN with
    fewer than two such rests (a single rep gives no evidence).
    """
    ok = np.isfinite(bar_h)
    if ok.sum() < 10:
        return np.nan
    lo, hi = np.percentile(bar_h[ok], [2, 98])
    rom = hi - lo
    if rom <= 0:
        return np.nan
    v = np.gradient(np.where(ok, bar_h, np.interp(time_s, time_s[ok], bar_h[ok])), time_s)
    still = np.abs(v) <= still_fraction * np.percentile(np.abs(v), 95)
    half = bar_h <= lo + 0.5 * rom if lift == "deadlift" else bar_h >= hi - 0.5 * rom
    last_moving = int(np.flatnonzero(~still)[-1]) if (~still).any() else -1
    levels = [
        float(np.median(bar_h[a:b]))
        for a, b in zip(*filters.true_runs(still & half & ok), strict=True)
        if time_s[b - 1] - time_s[a] >= 0.2 and b <= last_moving
    ]
    return float((max(levels) - min(levels)) / rom) if len(levels) >= 2 else np.nan
