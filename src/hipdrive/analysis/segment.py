"""Repetition and phase segmentation on the bar proxy's vertical position.

A squat repetition is top -> bottom -> top of the bar proxy; a deadlift
repetition is floor -> top -> floor. Both are the same problem on a signal
``g`` that rests at a high level and makes excursions down: ``g`` is the bar
height for the squat and minus the bar height for the deadlift. Pauses at the
rest level between reps belong to no rep (docs/definitions.md "Reps").

Algorithm (:func:`segment_reps`)
--------------------------------
1. Candidate extremes are the local minima of ``g``
   (:func:`scipy.signal.find_peaks` on ``-g``); one qualifies when ``g`` fell
   at least ``min_rep_displacement_bh`` to it from the highest point before it
   (scipy's left base: the threshold is a fraction of stature, so it does not
   depend on the camera distance).
2. Consecutive qualifying minima without a return to the rest level between
   them (within ``lockout_tolerance`` of the rep's displacement) are one rep:
   a wobble in a pause, or a failed ascent that sinks back.
3. Events are refined with the vertical velocity (zero crossings of the
   filtered signal's derivative, the definition of a turning point, or a
   noise-sized speed given by ``still_velocity_bh_s`` /
   ``pause_velocity_bh_s``): the bar starts moving after the last frame
   before the descent where it was not yet moving away from rest, and the rep
   starts where it is 1 % of its range of motion from its resting height
   (:func:`_left_rest`: a displacement, as a visible lift-off is); the extreme is
   the lowest point of the first visit to the bottom level (:func:`_first_bottom`),
   or the end of a pause there (squat: the ascent starts when the pause
   ends) or the start of the hold (deadlift: lockout is where the bar comes
   within 2 % of its ROM of the top of the pull, taken at its first stop
   there: later drift such as a shrug is not part of it, as in the hand
   labels' rule, :func:`_arrived_at_top`); the rep returns where the bar is
   back within 1 % of its ROM of the level it settles at (:func:`_back_at_rest`).
4. Reps shorter than ``min_rep_duration_s`` are discarded as noise.

A rep whose bar never gets back to the rest level is kept and flagged
``failed`` (squat); a deadlift never upright while held at the top is
``failed`` too (see :func:`segment_reps`). ``complete`` is False when an
event lies on the clip's edge or the rep failed.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd
from scipy import signal

#: Columns of the frame-event table returned by :func:`segment_reps`.
EVENT_COLUMNS = (
    "start_frame", "bottom_frame", "lockout_frame", "end_frame", "complete", "failed", "paused",
    "hold_start_frame", "hold_end_frame", "ascent_end_frame", "settled_frame",
)  # fmt: skip
_INT_EVENTS = ("start_frame", "bottom_frame", "lockout_frame", "end_frame", "hold_start_frame",
               "hold_end_frame", "ascent_end_frame", "settled_frame")  # fmt: skip


def _fill_for_segmentation(y: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Linear fill of NaN so extrema can be found (reps touching gaps are flagged)."""
    ok = np.isfinite(y)
    if ok.all():
        return y
    return np.interp(t, t[ok], y[ok])


def _first_true(mask: np.ndarray, default: int) -> int:
    idx = np.flatnonzero(mask)
    return int(idx[0]) if len(idx) else default


def _last_true(mask: np.ndarray, default: int) -> int:
    idx = np.flatnonzero(mask)
    return int(idx[-1]) if len(idx) else default


def _first_bottom(g: np.ndarray, minima: np.ndarray, band: float) -> tuple[int, int]:
    """The rep's extreme among its local minima: the lowest point of the first
    visit to the bottom level, and the visit's first minimum.

    Minima with no rise of more than ``band`` between them are one visit (noise
    in a pause); the first visit that comes within ``band`` of the deepest
    point is the bottom, so a failed ascent that sinks back and stays down is
    timed from its first arrival, not from the last wobble.
    """
    if len(minima) == 1:
        return int(minima[0]), int(minima[0])
    between = np.array([g[a : b + 1].max() for a, b in zip(minima[:-1], minima[1:], strict=True)])
    rise = between - np.maximum(g[minima[:-1]], g[minima[1:]])
    visit = np.concatenate(([0], np.cumsum(rise > band)))
    deepest = g[minima].min()
    first_visit = visit[np.flatnonzero(g[minima] <= deepest + band)[0]]
    members = minima[visit == first_visit]
    return int(members[np.argmin(g[members])]), int(members[0])


#: Default rest threshold: a rep leaves rest (squat descent, deadlift lift-off)
#: and is back at rest (squat standing, bar back on the floor) where the bar is
#: this fraction of its range of motion from its resting height
#: (:func:`_left_rest`, :func:`_back_at_rest`); the simulator's truth uses the
#: same value.
REST_ROM_FRACTION = 0.01
#: Default lockout threshold of a pull: locked out where the bar is within this
#: fraction of its range of motion of the top of its path (:func:`_arrived_at_top`).
LOCKOUT_ROM_FRACTION = 0.02

#: Stretch before a rep's onset in which the bar's resting height is taken (s):
#: about a minimal pause (``min_pause_s``), long enough to reach back past a slow
#: creep into the rep, short enough to stay at rest.
REST_BASELINE_S = 0.3
#: How far below its highest point noise puts a still bar, in noise SDs: the
#: resting level is the median of the baseline frames within this reach (or
#: within the start's own threshold, the larger).
REST_NOISE_K = 2.0


def _stop_beyond_turn_s(
    g: np.ndarray, t: np.ndarray, lowest: int, band: float, lo: int, hi: int
) -> float:
    """Time the bar spends within ``band`` of its extreme beyond what a turn at the
    rep's own pace would spend there, s (NaN when a band edge is not crossed).

    Near the extreme a smooth turn is a parabola, h = a t**2 / 2: it spends
    sqrt(2 band / a) on each side within ``band`` of the extreme, and as long
    again going from 4 ``band`` to ``band``. So the bar's own times between
    4 ``band`` and ``band`` on the way in and out predict the time a turn
    without a stop stays in the band, whatever the rep's speed; a pause is
    what the bar stays on top of that. (The wide outer level keeps the
    low-pass filter's rounding of a pause's corners small against it.)
    """
    bottom = g[lowest]

    def crossing(level: float, before: bool) -> float:
        # first arrival within ``level`` on the way down, last frame within it on
        # the way up: a wobble inside a pause does not cut it short
        inside = g[lo : lowest + 1] <= bottom + level if before else g[lowest:hi] <= bottom + level
        if before:
            j = lo + int(np.flatnonzero(inside)[0])
            i = j - 1
        else:
            i = lowest + int(np.flatnonzero(inside)[-1])
            j = i + 1
        if i < lo or j >= hi:
            return np.nan  # the bar was already (or still) there at the window's edge
        w = (bottom + level - g[i]) / (g[j] - g[i])
        return float(t[i] + w * (t[j] - t[i]))

    t_in1, t_in4 = crossing(band, True), crossing(4 * band, True)
    t_out1, t_out4 = crossing(band, False), crossing(4 * band, False)
    turn = (t_in1 - t_in4) + (t_out4 - t_out1)
    return float(t_out1 - t_in1 - turn)


def _resting_level(values: np.ndarray, rom_reach: float, noise_sd: float) -> float:
    """The height a bar at rest sits at: the median of ``values`` within reach of
    the highest one.

    Noise puts the highest point above the level by its peaks, which would time
    every arrival late and every departure early; the median of the frames
    within ``rom_reach`` (the event's own threshold) or ``REST_NOISE_K`` noise
    SDs (``noise_sd``), the larger, of that point is the level, and frames
    still on their way (hands coming down to grip, the last of an ascent) lie
    out of reach.
    """
    top = values.max()
    reach = max(REST_NOISE_K * noise_sd, rom_reach)
    return float(np.median(values[values >= top - reach]))


def _left_rest(
    g: np.ndarray,
    t: np.ndarray,
    onset: int,
    rest_from: int,
    extreme: int,
    fraction: float,
    noise_sd: float,
) -> int:
    """First frame from ``onset`` on at which ``g`` is ``fraction`` of the ROM below rest.

    The bar cannot move before it leaves the floor (deadlift) and a squat's
    descent is a gradual start, so the onset of the filtered velocity (the
    last still frame, ``onset``) runs ahead of any visible motion: the
    zero-phase low-pass spreads the first movement backwards in time. The
    start is therefore a displacement threshold, as in the hand labels of
    ``../shared/real`` (their README: "at least about 1 % of that rep's
    vertical range of motion" past the resting height), the operational
    form of barbell lift-off (LO, Escamilla et al. 2001, Med Sci Sports Exerc
    33:1345-1353).

    Rest height = the level the bar sat at in the ``REST_BASELINE_S`` before
    the onset (not before ``rest_from``; :func:`_resting_level`: squat, the
    stance; deadlift, the floor), ROM = rest height minus ``g`` at the rep's
    extreme (frame ``extreme``). The simulator's truth uses the same
    definition (:func:`hipdrive.simulate.truth.truth_rep_table`).
    """
    if fraction <= 0:
        return onset
    first = max(rest_from, int(np.searchsorted(t, t[onset] - REST_BASELINE_S)))
    base = g[first : onset + 1]
    rest = _resting_level(base, fraction * (base.max() - g[extreme]), noise_sd)
    moved = g[onset : extreme + 1] <= rest - fraction * (rest - g[extreme])
    return onset + _first_true(moved, default=0)


def _level_after_stop(
    h: np.ndarray,
    t: np.ndarray,
    stop: int,
    limit: int,
    extreme: float,
    fraction: float,
    noise_sd: float,
    held_s: float = 0.0,
) -> tuple[float, int]:
    """The level ``h`` comes to rest at from frame ``stop``, and the end of the
    stretch it is taken over.

    The stretch is the ``REST_BASELINE_S`` from ``stop`` (not past ``limit``), up
    to where ``h`` moves on beyond the reach of its first frame (``fraction`` of
    the ROM from ``extreme`` or ``REST_NOISE_K`` noise SDs): a dropped bar that
    lands and sinks as it settles, a pull's shrug after its first stop. A bar
    that rises beyond reach sooner than ``held_s`` after the stop without
    having turned back first (by ``REST_NOISE_K`` noise SDs) is still arriving,
    not moving on: the stretch starts again there. Its level is
    :func:`_resting_level`.
    """
    while True:
        last = min(limit, int(np.searchsorted(t, t[stop] + REST_BASELINE_S, side="right")))
        last = max(last, stop + 1)
        base = h[stop:last]
        reach = max(REST_NOISE_K * noise_sd, fraction * (base[0] - extreme))
        on = _first_true(base > base[0] + reach, default=len(base))
        turned = base[:on].min() < base[0] - REST_NOISE_K * noise_sd
        if on == len(base) or turned or t[stop + on] - t[stop] >= held_s:
            break
        stop += on
    base = base[:on]
    return _resting_level(base, fraction * (base.max() - extreme), noise_sd), last


def _back_at_rest(
    g: np.ndarray,
    t: np.ndarray,
    extreme: int,
    settled: int,
    window_end: int,
    fraction: float,
    noise_sd: float,
) -> int:
    """First frame after ``extreme`` at which ``g`` is back within ``fraction`` of
    the ROM of the level it comes to rest at (squat: standing; deadlift: the floor).

    The mirror of :func:`_left_rest`, as the hand labels time a return ("within
    about 1 % of ROM of the standing level"; the bar "back within about 1 % of
    ROM of its rest height"). The level is the one the bar stops at from
    ``settled``, the first frame the filtered velocity calls still
    (:func:`_level_after_stop`: a dropped bar lands, then sinks as it settles;
    the landing is the return). A displacement, not that velocity: a lifter
    slows into the top, and with noisy keypoints a noise-sized "still" speed is
    reached anywhere in the slow last per cent of the range.
    """
    level, last = _level_after_stop(g, t, settled, window_end, g[extreme], fraction, noise_sd)
    back = g[extreme:last] >= level - fraction * (level - g[extreme])
    return extreme + _first_true(back, default=settled - extreme)


def _arrived_at_top(
    g: np.ndarray,
    t: np.ndarray,
    rise_from: int,
    stopped: int,
    hold_end: int,
    rest: float,
    fraction: float,
    noise_sd: float,
    held_s: float,
) -> int:
    """Deadlift lockout: the first frame from ``rise_from`` at which ``g`` is within
    ``fraction`` of the ROM of the top of the pull (``g`` = minus the bar height).

    The hand labels' rule ("within 2 % of ROM of its highest point in that
    rep"), with the top the level of the bar's first stop or turn near it,
    ``stopped`` (:func:`_level_after_stop`, not past ``hold_end``, where the
    lowering starts): a later shrug or lean back is not part of the pull. A
    stop must hold ``held_s`` (the shortest pause) to be one: a pull that
    creeps on into lockout slower than the clip's noise lets the velocity
    see has not stopped yet. ROM = ``rest`` (the floor level) minus the top.
    """
    level, last = _level_after_stop(-g, t, stopped, hold_end + 1, -rest, fraction, noise_sd,
                                    held_s)  # fmt: skip
    top = -level
    there = g[rise_from:last] <= top + fraction * (rest - top)
    return rise_from + _first_true(there, default=stopped - rise_from)


def segment_reps(
    bar_height_bh: np.ndarray,
    time_s: np.ndarray,
    *,
    lift: Literal["squat", "deadlift"],
    min_rep_displacement_bh: float = 0.10,
    min_rep_duration_s: float = 0.5,
    lockout_tolerance: float = 0.15,
    pause_band_bh: float = 0.01,
    min_pause_s: float = 0.25,
    upright: np.ndarray | None = None,
    still_velocity_bh_s: float = 0.0,
    pause_velocity_bh_s: float = 0.0,
    lockout_band_fraction: float = 0.05,
    rest_rom_fraction: float = REST_ROM_FRACTION,
    lockout_rom_fraction: float = LOCKOUT_ROM_FRACTION,
    height_noise_bh: float = 0.0,
) -> pd.DataFrame:
    """Find repetitions and their events in one video.

    Parameters
    ----------
    bar_height_bh : ndarray, shape (n_frames,)
        Bar-proxy height above the ankles in body heights (filtered; NaN in
        long gaps).
    time_s : ndarray, shape (n_frames,)
        Timestamps, s.
    lift : {'squat', 'deadlift'}
    min_rep_displacement_bh : float
        Minimum bar travel (rest level -> extreme), body heights. A parallel
        back squat moves the shoulders ~0.3 stature and a deadlift moves the
        wrists ~0.25, so the default 0.10 separates reps from set-up shuffles.
    min_rep_duration_s : float
        Minimum start -> return time, s.
    lockout_tolerance : float
        Fraction of the rep's displacement below the starting level that still
        counts as back at the top (squat) / back on the floor (deadlift).
    pause_band_bh : float
        Height band (body heights) above the lowest point within which the bar
        counts as paused.
    min_pause_s : float
        Minimum time in that band for a paused rep; then the squat bottom is
        the end of the pause (start of the ascent).
    still_velocity_bh_s : float
        Speed (body heights/s) that counts as still when timing the start and
        the return to rest: 0 takes the zero crossing of the velocity; with
        noisy keypoints, about one SD of the velocity noise (estimated per
        video by :func:`hipdrive.analysis.analyze_frames`) avoids timing the
        slow approach to lockout by a noise wiggle.
    pause_velocity_bh_s : float
        The same for the edges of a pause at the extreme (squat bottom; start
        of the deadlift's lowering), where the bar sits still for long enough
        that correlated filter noise would otherwise end the pause early.
    lockout_band_fraction : float
        Deadlift: a bar that turns (velocity zero, a local top) within this
        fraction of the rep's range of motion below its highest point and only
        drifts higher later (a shrug, leaning back: 1.5-4.3 % of ROM on the
        real clips) is locked out where it turned, as the hand labels' rule
        says (default 0.05); a turn lower down is a sticking point or a
        hitch, not a lockout.
    rest_rom_fraction : float
        The rep starts (squat: the descent; deadlift: lift-off) at the first
        frame the bar is this fraction of the rep's range of motion away from
        its resting height, and ends (squat: standing; deadlift: on the floor)
        at the first frame it is back within it (default 0.01; see
        :func:`_left_rest`, :func:`_back_at_rest`; 0: the velocity onset and
        the first still frame).
    lockout_rom_fraction : float
        Deadlift: locked out at the first frame the bar is within this fraction
        of the rep's range of motion of the top of its path (default 0.02; see
        :func:`_arrived_at_top`; 0: the first stop or turn near the top).
    height_noise_bh : float
        SD of the noise left in ``bar_height_bh`` (body heights): a resting
        height is the median of the still bar's frames within ``REST_NOISE_K``
        of these, or the event's own threshold, of the highest point.
    upright : ndarray of bool, shape (n_frames,), optional
        Deadlift only: frames with hips and knees extended; a pull not upright
        in any frame of its hold at the top (lockout to the start of the
        lowering) is ``failed`` (no lockout).

    Returns
    -------
    pandas.DataFrame
        One row per rep with :data:`EVENT_COLUMNS` (frames are positions in
        the arrays). Squat: start = descent begins, bottom = lowest point (end
        of a pause), lockout = end = back at the top. Deadlift: start = bottom
        = lift-off, lockout = top of the pull, end = back on the floor.
        ``hold_start_frame`` .. ``hold_end_frame`` is the pause at the extreme
        (squat: at the bottom, the descent ends at its start; deadlift: the
        hold at lockout, the lowering starts at its end); both equal the
        extreme when there is no pause of at least ``min_pause_s``.
        ``ascent_end_frame`` is where the concentric phase ends, the bar
        stopped at the top by its velocity (squat: the first still frame back
        near standing; deadlift: the first stop or turn near the top): a
        phase's mean velocity is over its whole travel, as velocity-based
        training measures it, while the lockout is a displacement milestone
        just before it. ``settled_frame``: where the rep's motion is over,
        the bar still again after its return to rest (by its velocity; not
        before ``end_frame``).
    """
    if lift not in ("squat", "deadlift"):
        raise ValueError(f"lift must be 'squat' or 'deadlift', got {lift!r}")
    if min_rep_displacement_bh <= 0 or min_rep_duration_s < 0:
        raise ValueError("min_rep_displacement_bh must be > 0 and min_rep_duration_s >= 0")
    for name, value in (("rest_rom_fraction", rest_rom_fraction),
                        ("lockout_rom_fraction", lockout_rom_fraction)):  # fmt: skip
        if not 0 <= value < 1:
            raise ValueError(f"{name} must be in [0, 1), got {value!r}")
    if not 0 <= lockout_band_fraction < 1:
        raise ValueError(f"lockout_band_fraction must be in [0, 1), got {lockout_band_fraction!r}")
    t = np.asarray(time_s, dtype=np.float64)
    h = np.asarray(bar_height_bh, dtype=np.float64)
    n = len(h)
    if n < 5 or np.isfinite(h).sum() < 5:
        return _events_frame([])
    sign = 1.0 if lift == "squat" else -1.0
    g = sign * _fill_for_segmentation(h, t)
    v = np.gradient(g, t)
    minima, props = signal.find_peaks(-g, prominence=(None, None))
    left_top = g[props["left_bases"]] if len(minima) else np.array([])
    deep = minima[(left_top - g[minima]) >= min_rep_displacement_bh] if len(minima) else minima
    # The standing (squat) / floor (deadlift) level typical of this clip: the
    # median of the heights each descent started from. A rep's own reference
    # is the highest point before it, but never above this: a lifter who stood
    # taller once (set-up, a detector glitch) must not make every later rep
    # look unfinished.
    if len(deep):
        tops = [g[: deep[0] + 1].max()]
        for a, b in zip(deep[:-1], deep[1:], strict=True):
            top = g[a : b + 1].max()
            if top - max(g[a], g[b]) >= 0.5 * min_rep_displacement_bh:  # a real top
                tops.append(top)
        typical_rest = float(np.median(tops))
    else:
        typical_rest = np.inf
    rows = []
    rest_from = 0  # first frame after the previous rep
    k = 0
    while k < len(deep):
        first = deep[k]
        if first < rest_from:
            k += 1
            continue
        top_level = min(g[rest_from : first + 1].max(), typical_rest)
        # Merge following deep minima until the bar gets back to the top.
        group = [first]
        k += 1
        while k < len(deep):
            depth = top_level - g[group].min()
            back = g[group[-1] : deep[k] + 1].max() >= top_level - lockout_tolerance * depth
            if back:
                break
            group.append(deep[k])
            k += 1
        nxt = deep[k] if k < len(deep) else n
        depth = top_level - g[group].min()
        if depth < min_rep_displacement_bh:
            continue  # a dip from an unusually high start, not below the usual rest
        window_end = nxt
        rest_level = top_level - lockout_tolerance * depth
        # Extreme: the lowest point; the bar is "at the extreme" from the first
        # frame where it stops going down (enter) to the last frame before it
        # goes up for good (leave) -- one frame apart without a pause.
        lowest, visit_first = _first_bottom(g, np.asarray(group), pause_band_bh)
        after = g[lowest:window_end]
        returned = after >= rest_level
        ret_idx = lowest + _first_true(returned, default=window_end - lowest)
        band = g[lowest] + pause_band_bh
        rising = lowest + _first_true(g[lowest:ret_idx] > band, default=ret_idx - 1 - lowest)
        leave = lowest + _last_true(v[lowest : rising + 1] <= pause_velocity_bh_s, default=0)
        # From the bar's first arrival within ``band`` of the extreme: a pull
        # that stops at the top and drifts up later (a shrug, leaning back) is
        # locked out at its first stop (labels-dev README: "later small bar
        # drift is ignored"); a pause is timed from its first arrival.
        approach = rest_from + _last_true(g[rest_from : visit_first + 1] > band, default=0)
        falling = approach + _first_true(g[approach : lowest + 1] <= band, default=0)
        falling = max(falling - 1, rest_from)
        # deadlift lockout = the bar stops rising (same rule as the squat's return)
        enter_v = still_velocity_bh_s if lift == "deadlift" else pause_velocity_bh_s
        enter = falling + _first_true(v[falling : lowest + 1] >= -enter_v, default=lowest - falling)
        if lift == "deadlift":
            # ... or earlier, where the bar turns (a local top: its velocity
            # reaches zero) within ``lockout_band_fraction`` of the ROM below
            # the top, then drifts higher: a slow grind that keeps rising is
            # not a stop, the narrow band above times it.
            near = g[lowest] + max(pause_band_bh, lockout_band_fraction * depth)
            wide_from = rest_from + _last_true(g[rest_from : visit_first + 1] > near, default=0)
            turned = (v[wide_from : lowest + 1] >= 0) & (g[wide_from : lowest + 1] <= near)
            enter = min(enter, wide_from + _first_true(turned, default=lowest - wide_from))
        paused = t[leave] - t[enter] >= min_pause_s
        if paused and lift == "squat":
            # ... and still for that long beyond a turn at the rep's own pace
            # (a slow, heavy rep turns slowly enough to sit in the band)
            excess = _stop_beyond_turn_s(g, t, lowest, pause_band_bh, rest_from, ret_idx)
            paused = not excess < min_pause_s  # NaN (band edges not seen): no evidence
        if not paused and lift == "squat":
            # A squat bottom without a pause is the lowest point. A deadlift
            # always holds the lockout a moment: lockout = the bar stops rising.
            enter = leave = lowest
        extreme = leave if lift == "squat" else enter
        # Squat that never gets back to the top: failed; its "lockout" is the
        # highest point of the attempt. A deadlift not put down before the clip
        # ends simply ends at the last frame (failure is judged by posture).
        failed = lift == "squat" and not returned.any()
        # The clip ends with the bar at the attempt's highest point: still rising
        # (or held) when filming stopped, so nothing says it failed; a failed
        # squat sinks back. Cut by the clip: it runs to the clip's end, incomplete.
        if failed and window_end == n and g[n - 1] >= g[extreme:n].max() - pause_band_bh:
            failed = False
        if failed:
            lock = settled = extreme + int(np.argmax(g[extreme:window_end]))
        elif not returned.any():
            lock = settled = window_end - 1
        else:
            # Back near the rest level, then forward until the bar stops rising;
            # the return itself is where it came within reach of where it settled.
            stopped = v[ret_idx:window_end] <= still_velocity_bh_s
            lock = settled = ret_idx + _first_true(stopped, default=window_end - 1 - ret_idx)
            if rest_rom_fraction > 0:
                lock = _back_at_rest(
                    g, t, leave, settled, window_end, rest_rom_fraction, height_noise_bh
                )
        # Start: last frame at the rest level before the extreme, then back to
        # where the bar was not yet going down.
        above = g[rest_from : enter + 1] >= rest_level
        left_rest = rest_from + _last_true(above, default=0)
        still = v[rest_from : left_rest + 1] >= -still_velocity_bh_s
        # no still frame: the clip begins mid-descent, the start is unseen
        # (after an earlier rep, its lockout was a stop at the top: touch-and-go)
        start_seen = (bool(still.any()) or rest_from > 0) and g[
            rest_from : enter + 1
        ].max() >= rest_level
        onset = rest_from + _last_true(still, default=0)
        # ... or the clip starts within a few frames of it (filter edge): unseen
        start_seen = start_seen and t[onset] - t[0] >= 0.1
        if lift == "deadlift" and rest_from == 0 and returned.any() and not start_seen:
            # ... unless the bar in the first frame is no higher than where it lands:
            # the plates cannot sink below the floor, so it had not left it yet and
            # the lift-off (1 % of the ROM up) is in the clip
            start_seen = bool(g[0] >= g[settled] - rest_rom_fraction * depth)
        # an unseen start stays on the clip's edge: there is no rest to measure from
        start = _left_rest(
            g, t, onset, rest_from, lowest, rest_rom_fraction if start_seen else 0.0,
            noise_sd=height_noise_bh,
        )  # fmt: skip
        # the concentric phase ends where the bar stops at the top (velocity)
        top_stop = settled if lift == "squat" else enter
        if lift == "deadlift" and lockout_rom_fraction > 0:
            # the hold at the top starts at the lockout
            enter = extreme = _arrived_at_top(
                g, t, start, enter, leave, top_level, lockout_rom_fraction, height_noise_bh,
                min_pause_s,
            )  # fmt: skip
            paused = t[leave] - t[enter] >= min_pause_s
        rows.append(
            (start, extreme, lock, failed, paused, enter, leave, start_seen, top_stop, settled)
        )
        rest_from = max(settled, extreme) + 1
    out = []
    for start, extreme, lock, failed, paused, enter, leave, start_seen, top_stop, settled in rows:
        if lift == "squat":
            start_f, bottom_f, lockout_f, end_f = start, extreme, lock, lock
        else:
            start_f = bottom_f = start
            lockout_f, end_f = extreme, lock
            if upright is not None and not failed:
                # upright at some point of the hold: the knees and hips often
                # finish extending after the bar's first stop
                failed = not bool(np.asarray(upright)[extreme : max(leave, extreme) + 1].any())
        if t[end_f] - t[start_f] < min_rep_duration_s:
            continue
        complete = start_seen and (start_f > 0) and (end_f < n - 1) and not failed
        out.append((start_f, bottom_f, lockout_f, end_f, complete, failed, paused, enter, leave,
                    top_stop, max(settled, end_f)))  # fmt: skip
    return _events_frame(out)


def _events_frame(rows: list[tuple]) -> pd.DataFrame:
    """The event table (:data:`EVENT_COLUMNS`) from row tuples, typed even when empty."""
    cols = list(zip(*rows, strict=True)) if rows else [()] * len(EVENT_COLUMNS)
    return pd.DataFrame(
        {
            c: np.asarray(v, dtype=np.int64 if c in _INT_EVENTS else bool)
            for c, v in zip(EVENT_COLUMNS, cols, strict=True)
        },
        copy=False,
    )


def walked_out_reps(
    events: pd.DataFrame,
    lost: np.ndarray,
    time_s: np.ndarray,
    *,
    within_s: float = 0.25,
    min_lost_share: float = 0.8,
    min_gone_s: float = 0.5,
) -> tuple[pd.DataFrame, list[tuple[int, int]]]:
    """Drop the reps the lifter walked out of; return the kept events and the dropped spans.

    The lifter has left when, from some frame to the clip's end (at least
    ``min_gone_s``), they are lost in at least ``min_lost_share`` of the
    frames. A rep that is not complete and during which they leave (or
    within ``within_s`` of its last frame) was neither completed nor failed:
    nobody saw how it ended. Counting it as a failed rep depended on how many
    frames the pose model still caught. Its frames are reported with the
    lost stretch instead.
    """
    lost = np.asarray(lost, bool)
    n = len(lost)
    # the earliest frame from which the lifter stays (mostly) lost to the end
    share_to_end = np.cumsum(lost[::-1])[::-1] / np.arange(n, 0, -1) if n else np.zeros(0)
    gone = np.flatnonzero(lost & (share_to_end >= min_lost_share))
    left = int(gone[0]) if len(gone) and time_s[-1] - time_s[gone[0]] >= min_gone_s else None
    keep, dropped = [], []
    for i, ev in enumerate(events.itertuples(index=False)):
        start, end = int(ev.start_frame), int(ev.end_frame)
        if left is not None and not ev.complete and start <= left <= n - 1:
            if time_s[left] <= time_s[end] + within_s:
                dropped.append((start, end))
                continue
        keep.append(i)
    return events.iloc[keep].reset_index(drop=True), dropped
