"""Cleaning of per-frame keypoints: score gating, outliers, gaps, limb swaps.

Every function takes dense arrays (``xy``: ``(n_frames, n_keypoints, 2)``
pixels, ``score``: ``(n_frames, n_keypoints)``, ``time_s``: ``(n_frames,)``)
as produced by :func:`hipdrive.contracts.keypoints.long_to_frames`, and returns new
arrays; nothing is modified in place.

The order of operations (applied by :func:`clean_keypoints`) is the usual one
for marker-less motion capture (Winter 2009, ch. 3; Needham et al. 2021):

1. score gating (:func:`gate_by_score`): low-confidence points become NaN;
2. left/right consistency (:func:`fix_limb_swaps`): label swaps are undone
   and flagged;
3. short gaps are interpolated, long gaps are left NaN and flagged
   (:func:`fill_short_gaps`) -- never silently bridged;
4. a zero-lag Butterworth low-pass on the positions
   (:func:`hipdrive.analysis.filters.butter_lowpass`), cut-off fixed or chosen
   per video by Winter's residual analysis
   (:func:`hipdrive.analysis.filters.residual_cutoff`). Positions are filtered
   *before* any derivative;
5. outlier rejection (:func:`reject_outliers`): points far from the
   low-passed track are dropped, gaps re-filled and the filter run again.

References
----------
Winter DA (2009). Biomechanics and Motor Control of Human Movement, 4th ed.
Wiley. doi:10.1002/9780470549148 (ch. 3: filtering, residual analysis).

Needham L, Evans M, Cosker DP, et al. (2021). The accuracy of several pose
estimation methods for 3D joint centre localisation. Sci Rep 11:20673.
doi:10.1038/s41598-021-00212-x
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Literal

import numpy as np

from hipdrive.analysis.filters import (
    WINTER_TWO_PASS_CORRECTION,
    butter_lowpass,
    residual_cutoff,
    true_runs,
)
from hipdrive.errors import InputError


def gate_by_score(xy: np.ndarray, score: np.ndarray, *, score_threshold: float) -> np.ndarray:
    """Set points whose detector score is below ``score_threshold`` to NaN.

    Parameters
    ----------
    xy : ndarray, shape (n_frames, n_keypoints, 2)
        Pixel positions.
    score : ndarray, shape (n_frames, n_keypoints)
        Detector confidence, 0..1. What a score means differs between backends
        (MediaPipe's ``visibility`` vs. a heat-map peak for MMPose), so the
        threshold is a per-backend choice; 0.3 is a common default.
    score_threshold : float
        Points with ``score < score_threshold`` are dropped.

    Returns
    -------
    ndarray
        A copy of ``xy`` with gated points set to NaN.
    """
    if not 0.0 <= score_threshold <= 1.0:
        raise ValueError(f"score_threshold must be in 0..1, got {score_threshold}")
    out = np.array(xy, dtype=np.float64, copy=True)
    out[np.asarray(score) < score_threshold] = np.nan
    return out


def resample_uniform(
    xy: np.ndarray, score: np.ndarray, time_s: np.ndarray, *, fs_hz: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Put keypoints on a uniform time grid (linear interpolation in time).

    Digital filters and finite differences assume equal sample spacing, but
    presentation timestamps are not equal: containers round them (1 ms time
    bases), and phones record with a variable frame rate. Filtering samples
    taken at jittered times as if they were uniform turns the jitter into
    velocity noise, so positions are first interpolated to ``t0 + k / fs_hz``
    (Winter 2009, sec. 2.2: interpolation before filtering).

    A grid sample with a missing (NaN) neighbour is missing; its score is the
    lower of its two neighbours' (a gated neighbour gates it).

    Parameters
    ----------
    xy : ndarray, shape (n_frames, n_keypoints, 2)
    score : ndarray, shape (n_frames, n_keypoints)
    time_s : ndarray, shape (n_frames,)
        Increasing timestamps, s.
    fs_hz : float
        Rate of the grid (the clip's median frame rate).

    Returns
    -------
    time_s, xy, score : ndarray
        On the uniform grid (the inputs themselves when already uniform to
        1 microsecond).
    source : ndarray of int
        For each grid sample, the index of the nearest original frame (to
        report events as decoded-frame numbers).
    """
    t = np.asarray(time_s, dtype=np.float64)
    n_u = int(np.floor((t[-1] - t[0]) * fs_hz + 1e-6)) + 1
    t_u = t[0] + np.arange(n_u) / fs_hz
    if n_u == len(t) and np.max(np.abs(t - t_u)) < 1e-6:
        return (
            t,
            np.asarray(xy, dtype=np.float64),
            np.asarray(score, dtype=np.float64),
            np.arange(len(t)),
        )
    j = np.clip(np.searchsorted(t, t_u, side="right") - 1, 0, len(t) - 2)
    w = np.clip((t_u - t[j]) / (t[j + 1] - t[j]), 0.0, 1.0)
    xy_u = xy[j] * (1.0 - w)[:, None, None] + xy[j + 1] * w[:, None, None]
    score_u = np.minimum(score[j], score[j + 1])
    source = np.where(w < 0.5, j, j + 1)
    return t_u, xy_u, score_u, source


def fill_short_gaps(
    xy: np.ndarray, time_s: np.ndarray, *, max_gap_s: float
) -> tuple[np.ndarray, np.ndarray]:
    """Linearly interpolate interior gaps up to ``max_gap_s``; leave longer ones NaN.

    A gap is a run of NaN frames for one keypoint coordinate. Gaps at the start
    or end of the clip are never filled (no extrapolation). Gaps longer than
    ``max_gap_s`` (time between the last good frame before and the first good
    frame after) stay NaN and are returned as a mask so the caller can flag the
    reps they touch.

    Parameters
    ----------
    xy : ndarray, shape (n_frames, ...)
        Positions with NaN for missing points; any trailing shape.
    time_s : ndarray, shape (n_frames,)
        Timestamps (may be uneven: interpolation is in time, not frames).
    max_gap_s : float
        Longest gap, in seconds, that is bridged.

    Returns
    -------
    filled : ndarray
        Copy of ``xy`` with short gaps interpolated.
    long_gap : ndarray of bool, shape like ``xy``
        True where a point is missing inside a gap longer than ``max_gap_s``
        (interior or at the clip edges).
    """
    if max_gap_s < 0:
        raise ValueError(f"max_gap_s must be >= 0, got {max_gap_s}")
    xy = np.asarray(xy, dtype=np.float64)
    time_s = np.asarray(time_s, dtype=np.float64)
    n = xy.shape[0]
    flat = xy.reshape(n, -1).copy()
    long_gap = np.zeros_like(flat, dtype=bool)
    for j in np.flatnonzero(np.isnan(flat).any(axis=0)):  # loop over columns, not frames
        col = flat[:, j]
        good = np.isfinite(col)
        if not good.any():
            long_gap[:, j] = True
            continue
        starts, stops = true_runs(~good)
        interior = (starts > 0) & (stops < n)
        span = np.full(len(starts), np.inf)
        span[interior] = time_s[stops[interior]] - time_s[starts[interior] - 1]
        fill = interior & (span <= max_gap_s + 1e-9)
        idx = np.flatnonzero(good)
        interp = np.interp(time_s, time_s[idx], col[idx])
        lengths = stops - starts
        run_id = np.repeat(np.arange(len(starts)), lengths)
        rows = np.concatenate([np.arange(a, b) for a, b in zip(starts, stops, strict=True)])
        fill_rows = rows[fill[run_id]]
        col[fill_rows] = interp[fill_rows]
        long_gap[rows[~fill[run_id]], j] = True
    return flat.reshape(xy.shape), long_gap.reshape(xy.shape)


def fill_from_donor(target: np.ndarray, donor: np.ndarray) -> np.ndarray:
    """Fill a trajectory's interior gaps with the shape of a point that moves with it.

    Where ``target`` is NaN between two known frames, it follows ``donor``'s
    displacement scaled by their regression slope over the frames both are
    known, plus the straight line that makes it meet ``target`` at both ends
    of the gap (the "pattern fill" of marker-based motion capture). A bar lost
    for a few frames of a rep moves with the body that carries it, so its fill
    keeps the rep's shape where a straight line would start the descent at the
    gap's first frame. A gap at an edge is anchored at its one known end; one
    where the donor is unknown stays NaN.

    Parameters
    ----------
    target, donor : ndarray, shape (n_frames,) or (n_frames, k)
        One coordinate per column; the slope is fitted per column.
    """
    target = np.asarray(target, dtype=np.float64)
    donor = np.asarray(donor, dtype=np.float64)
    out = target.copy()
    flat_t, flat_d, flat_o = (a.reshape(len(a), -1) for a in (target, donor, out))
    n = len(out)
    for j in range(flat_t.shape[1]):
        tg, dn = flat_t[:, j], flat_d[:, j]
        both = np.isfinite(tg) & np.isfinite(dn)
        if both.sum() < 3 or np.std(dn[both]) == 0:
            continue
        slope = np.polyfit(dn[both], tg[both], 1)[0]
        for a, b in zip(*true_runs(~np.isfinite(tg)), strict=True):
            lo, hi = max(a - 1, 0), min(b, n - 1)
            if not np.isfinite(dn[lo : hi + 1]).all():
                continue
            if a == 0:  # at an edge, anchored at its one known end
                flat_o[:b, j] = tg[b] + slope * (dn[:b] - dn[b]) if b < n else np.nan
                continue
            shape = tg[a - 1] + slope * (dn[a - 1 : hi + 1] - dn[a - 1])
            if b == n:
                flat_o[a:, j] = shape[1:]
                continue
            miss = tg[b] - shape[-1]  # closed by a straight line over the gap
            flat_o[a:b, j] = (shape + miss * np.linspace(0.0, 1.0, b - a + 2))[1:-1]
    return out


def _far_from(raw: np.ndarray, smooth: np.ndarray, threshold_px: float, k_mad: float) -> np.ndarray:
    d = raw - smooth
    dist = np.sqrt(d[..., 0] ** 2 + d[..., 1] ** 2)
    with np.errstate(invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # keypoints never seen (all NaN)
        far = dist > threshold_px
        if not far.any():  # the usual case: no robust statistics needed
            return far
        if np.isnan(dist).any():
            med = np.nanmedian(dist, axis=0)
            mad = np.nanmedian(np.abs(dist - med), axis=0) * 1.4826
        else:
            med = np.median(dist, axis=0)
            mad = np.median(np.abs(dist - med), axis=0) * 1.4826
        return (dist > threshold_px) & (dist > med + k_mad * mad)


def reject_outliers(
    xy: np.ndarray,
    time_s: np.ndarray,
    *,
    fs_hz: float,
    cutoff_hz: float,
    threshold_px: float,
    k_mad: float = 6.0,
    smooth: np.ndarray | None = None,
) -> np.ndarray:
    """Mask of detector jumps: points far from their own low-passed trajectory.

    A point is an outlier when its distance from the low-passed trajectory
    (:func:`butter_lowpass` of the gap-bridged positions) exceeds both
    ``threshold_px`` and ``k_mad`` robust standard deviations of that distance
    for its keypoint over the clip (1.4826 x median absolute deviation; Leys et
    al. 2013). A jump drags the low-pass towards itself and so makes its
    neighbours look far too; the test is therefore repeated once against the
    low-pass of the data without the first pass's outliers, and only what is
    still far then is an outlier. This is the residual test of Winter's
    filtering chapter applied per point, at the cost of one or two filter
    passes instead of a running median.

    Parameters
    ----------
    xy : ndarray, shape (n_frames, n_keypoints, 2)
        Positions, pixels (NaN allowed; NaN are never outliers).
    time_s : ndarray, shape (n_frames,)
    fs_hz, cutoff_hz : float
        The low-pass (see :func:`butter_lowpass`).
    threshold_px : float
        Minimum distance, pixels, to count as an outlier (guards against
        flagging good points in a near-noise-free track where the MAD is ~0).
    k_mad : float
        Robust z threshold.
    smooth : ndarray, optional
        The low-pass of ``xy`` with its gaps bridged, when the caller has it.

    Returns
    -------
    ndarray of bool, shape (n_frames, n_keypoints)

    References
    ----------
    Leys C, Ley C, Klein O, Bernard P, Licata L (2013). Detecting outliers: do
    not use standard deviation around the mean, use absolute deviation around
    the median. J Exp Soc Psychol 49:764-766. doi:10.1016/j.jesp.2013.03.013
    """
    xy = np.asarray(xy, dtype=np.float64)
    if smooth is None:
        bridged, _ = fill_short_gaps(xy, time_s, max_gap_s=np.inf)
        smooth = butter_lowpass(bridged, fs_hz=fs_hz, cutoff_hz=cutoff_hz)
    first = _far_from(xy, smooth, threshold_px, k_mad)
    if not first.any():
        return first
    without = xy.copy()
    without[first] = np.nan
    bridged, _ = fill_short_gaps(without, time_s, max_gap_s=np.inf)
    refined = butter_lowpass(bridged, fs_hz=fs_hz, cutoff_hz=cutoff_hz)
    return _far_from(xy, refined, threshold_px, k_mad)


def left_right_pairs(names: tuple[str, ...] | list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Column indices of matching ``left_*`` and ``right_*`` keypoints."""
    index = {n: i for i, n in enumerate(names)}
    left = [index[n] for n in names if n.startswith("left_") and "right_" + n[5:] in index]
    right = [index["right_" + names[i][5:]] for i in left]
    return np.array(left, dtype=int), np.array(right, dtype=int)


def fix_limb_swaps(
    xy: np.ndarray,
    score: np.ndarray,
    names: tuple[str, ...] | list[str],
    *,
    min_separation_px: float,
    margin: float = 0.5,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Undo left/right label swaps by frame-to-frame continuity; flag them.

    In a side view a detector may label the near leg as the far one for a few
    frames. For every frame ``t`` and every left/right pair (hip, knee, ankle,
    ...), the straight cost ``|L_t - L_{t-1}| + |R_t - R_{t-1}|`` is compared
    with the crossed cost ``|L_t - R_{t-1}| + |R_t - L_{t-1}|``, summed over the
    pairs of the leg (hip, knee, ankle, heel, toe) and of the arm (shoulder,
    elbow, wrist) separately. A frame toggles the swap state of a limb group
    when the crossed cost is below ``margin`` x the straight cost and the two
    sides were at least ``min_separation_px`` apart (when they overlap, a swap
    is harmless and undetectable). The running parity of toggles says which
    frames are swapped; those are swapped back. This is the continuity
    criterion of multi-object tracking (Hungarian assignment with two objects)
    applied to limb labels.

    Parameters
    ----------
    xy : ndarray, shape (n_frames, n_keypoints, 2)
    score : ndarray, shape (n_frames, n_keypoints)
    names : sequence of str
        Keypoint names (columns of ``xy``).
    min_separation_px : float
        Minimum left-right distance for a swap decision.
    margin : float
        Crossed cost must be below ``margin`` x straight cost.

    Returns
    -------
    xy, score : ndarray
        Copies with swapped frames put right.
    swapped : ndarray of bool, shape (n_frames,)
        True for frames that were swapped back (any limb group).
    """
    xy = np.array(xy, dtype=np.float64, copy=True)
    score = np.array(score, dtype=np.float64, copy=True)
    n = xy.shape[0]
    swapped_any = np.zeros(n, dtype=bool)
    left, right = left_right_pairs(names)
    if n < 2 or len(left) == 0:
        return xy, score, swapped_any
    groups = {
        "leg": ("hip", "knee", "ankle", "heel", "big_toe"),
        "arm": ("shoulder", "elbow", "wrist"),
    }
    for parts in groups.values():
        sel = np.array([names[li][5:] in parts for li in left])
        if not sel.any():
            continue
        lg, rg = left[sel], right[sel]
        # Forward-fill NaN so a one-frame dropout does not hide a swap.
        L, R = _ffill(xy[:, lg]), _ffill(xy[:, rg])

        def dist(a, b):
            d = a - b
            return np.sqrt(d[..., 0] ** 2 + d[..., 1] ** 2)

        straight = dist(L[1:], L[:-1]) + dist(R[1:], R[:-1])
        crossed = dist(L[1:], R[:-1]) + dist(R[1:], L[:-1])
        straight, crossed = _nansum_rows(straight), _nansum_rows(crossed)
        toggle = crossed < margin * straight
        if toggle.any():  # separation only where a swap is suspected
            rows = np.flatnonzero(toggle)
            separation = _nanmedian_rows(dist(L[rows], R[rows]))
            toggle[rows] = separation >= min_separation_px
        state = np.concatenate(([0], np.cumsum(toggle) % 2)).astype(bool)
        # Keep the majority labelling: the detector is right most of the time.
        if state.mean() > 0.5:
            state = ~state
        if state.any():
            rows = np.flatnonzero(state)
            both, crossed_cols = np.r_[lg, rg], np.r_[rg, lg]
            xy[np.ix_(rows, both)] = xy[np.ix_(rows, crossed_cols)]
            score[np.ix_(rows, both)] = score[np.ix_(rows, crossed_cols)]
            swapped_any |= state
    return xy, score, swapped_any


def _nansum_rows(a: np.ndarray) -> np.ndarray:
    """``np.nansum(a, axis=1)`` of a few columns, summed column by column.

    NumPy reduces a short row axis slowly; below 8 columns its sum is this
    same left-to-right sum, so the values are identical.
    """
    if a.shape[1] >= 8:
        return np.nansum(a, axis=1)
    a = np.where(np.isnan(a), 0.0, a)
    out = np.zeros(a.shape[0]) if a.shape[1] == 0 else a[:, 0].copy()
    for j in range(1, a.shape[1]):
        out += a[:, j]
    return out


def _nanmedian_rows(a: np.ndarray) -> np.ndarray:
    """``np.nanmedian(a, axis=1)`` of a 2-D array, by one sort (NaN for all-NaN rows).

    NumPy's nanmedian takes a masked-array path for short rows that cost more
    than the rest of the swap check; a sort puts NaN last, so the median sits
    at the count of the other values (the mean of the two middle ones when
    even, as NumPy computes it).
    """
    ordered = np.sort(a, axis=1)
    n = (~np.isnan(a)).sum(axis=1)
    low = np.take_along_axis(ordered, (np.maximum(n, 1) - 1)[:, None] // 2, axis=1)[:, 0]
    high = np.take_along_axis(ordered, (n // 2)[:, None], axis=1)[:, 0]
    return (low + high) / 2


def _ffill(a: np.ndarray) -> np.ndarray:
    """Forward-fill NaN along axis 0 (leading NaN stay NaN)."""
    nan = np.isnan(a)
    if not nan.any():
        return a
    idx = np.where(~nan, np.arange(a.shape[0]).reshape((-1,) + (1,) * (a.ndim - 1)), 0)
    np.maximum.accumulate(idx, axis=0, out=idx)
    out = np.take_along_axis(a, idx, axis=0)
    return out


def _either_coordinate(mask: np.ndarray) -> np.ndarray:
    """``mask.any(axis=-1)`` over the (x, y) axis: NumPy reduces a length-2 last
    axis ~20x slower than it ORs the two slices."""
    return mask[..., 0] | mask[..., 1]


@dataclass(frozen=True)
class CleanResult:
    """Cleaned keypoints and what cleaning did, frame by frame.

    Attributes
    ----------
    xy : ndarray, shape (n_frames, n_keypoints, 2)
        Filtered positions (pixels, image orientation unchanged).
    score : ndarray, shape (n_frames, n_keypoints)
        Scores (swapped back together with positions).
    low_confidence : ndarray of bool, shape (n_frames, n_keypoints)
        Points dropped by score gating or outlier rejection (before filling).
    long_gap : ndarray of bool, shape (n_frames, n_keypoints)
        Points still missing after gap filling (NaN in ``xy``).
    swapped : ndarray of bool, shape (n_frames,)
        Frames whose left/right labels were swapped back.
    lifter_lost : ndarray of bool, shape (n_frames,)
        Frames without any detection (every score 0 or NaN position).
    cutoff_hz : float
        Cut-off used (fixed or from residual analysis).
    xy_unfiltered : ndarray, shape (n_frames, n_keypoints, 2)
        Positions after gating, swap repair, outlier rejection and gap
        filling, before the low-pass (for noise estimates).
    """

    xy: np.ndarray
    score: np.ndarray
    low_confidence: np.ndarray
    long_gap: np.ndarray
    swapped: np.ndarray
    lifter_lost: np.ndarray
    cutoff_hz: float
    xy_unfiltered: np.ndarray | None = None


def clean_keypoints(
    xy: np.ndarray,
    score: np.ndarray,
    time_s: np.ndarray,
    names: tuple[str, ...] | list[str],
    *,
    fs_hz: float,
    score_threshold: float,
    max_gap_s: float,
    cutoff_hz: float,
    cutoff_method: Literal["fixed", "residual"] = "fixed",
    scale_px: float,
    outlier_threshold_frac: float = 0.05,
    outlier_k_mad: float = 6.0,
    swap_min_separation_frac: float = 0.01,
) -> CleanResult:
    """Run the whole cleaning chain on one video (see the module docstring).

    Parameters
    ----------
    xy, score, time_s, names
        Dense keypoints of one track, as from
        :func:`hipdrive.contracts.keypoints.long_to_frames`.
    fs_hz : float
        Frame rate, Hz.
    score_threshold, max_gap_s, cutoff_hz, cutoff_method
        See :class:`hipdrive.analysis.AnalysisParams`.
    scale_px : float
        A rough body size in pixels (e.g. the person's bounding-box height);
        the outlier and swap thresholds are fractions of it so they do not
        depend on image resolution.
    outlier_threshold_frac : float
        Outlier distance threshold as a fraction of ``scale_px``.
    outlier_k_mad : float
        Robust z threshold of :func:`reject_outliers`.
    swap_min_separation_frac : float
        Minimum left-right separation for a swap decision, fraction of
        ``scale_px``.
    """
    xy = np.asarray(xy, dtype=np.float64)
    score = np.asarray(score, dtype=np.float64)
    if xy.ndim != 3 or xy.shape[:2] != score.shape or xy.shape[0] != len(time_s):
        raise InputError(
            f"keypoint arrays disagree: xy {xy.shape}, score {score.shape}, {len(time_s)} times"
        )
    lifter_lost = ~(score > 0).any(axis=1) | np.isnan(xy).all(axis=(1, 2))
    gated = gate_by_score(xy, score, score_threshold=score_threshold)
    swapped_xy, swapped_score, swapped = fix_limb_swaps(
        gated, score, names, min_separation_px=swap_min_separation_frac * scale_px
    )
    dropped = _either_coordinate(np.isnan(swapped_xy))
    filled, long_gap = fill_short_gaps(swapped_xy, time_s, max_gap_s=max_gap_s)
    if cutoff_method == "residual":
        usable = filled[:, ~_either_coordinate(long_gap).all(axis=0)]
        cutoff_hz = residual_cutoff(usable.reshape(len(filled), -1), fs_hz=fs_hz)
    elif cutoff_method != "fixed":
        raise ValueError(f"cutoff_method must be 'fixed' or 'residual', got {cutoff_method!r}")
    cutoff_hz = min(cutoff_hz, 0.45 * fs_hz * WINTER_TWO_PASS_CORRECTION)
    filtered = butter_lowpass(filled, fs_hz=fs_hz, cutoff_hz=cutoff_hz)
    outliers = reject_outliers(
        filled, time_s, fs_hz=fs_hz, cutoff_hz=cutoff_hz,
        threshold_px=outlier_threshold_frac * scale_px, k_mad=outlier_k_mad, smooth=filtered,
    )  # fmt: skip
    if outliers.any():
        # Drop the jumps, bridge them like any gap, and filter again.
        cleaned = swapped_xy.copy()
        cleaned[outliers] = np.nan
        dropped |= outliers
        filled, long_gap = fill_short_gaps(cleaned, time_s, max_gap_s=max_gap_s)
        filtered = butter_lowpass(filled, fs_hz=fs_hz, cutoff_hz=cutoff_hz)
    long_gap = _either_coordinate(long_gap)
    low_conf = dropped
    return CleanResult(
        xy=filtered,
        score=swapped_score,
        low_confidence=low_conf & ~lifter_lost[:, None],
        long_gap=long_gap,
        swapped=swapped,
        lifter_lost=lifter_lost,
        cutoff_hz=float(cutoff_hz),
        xy_unfiltered=filled,
    )
