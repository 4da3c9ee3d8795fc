"""Per-rep metrics: sticking region, hip-lead indices, moment arms, knee travel.

The per-rep table has exactly the columns of
:data:`~hipdrive.contracts.reps.REP_COLUMNS` (the contract shared with the
simulator's truth tables), typed by :data:`~hipdrive.contracts.reps.REP_SCHEMA`.
Columns that do not apply to a lift are NaN / False, never dropped.

Definitions
-----------
Sticking region (van den Tillaar & Ettema 2009; van den Tillaar et al. 2014;
Larsen et al. 2021)
    In the ascent (bottom -> the bar stopped at the top: the concentric phase,
    see :func:`hipdrive.analysis.segment.segment_reps`) the upward bar velocity typically rises
    to a first peak ``v_max1``, dips to a local minimum ``v_min`` and rises to
    a second peak ``v_max2``; v_max1 -> v_min is the sticking region. It is
    *present* when the dip is at least ``prominence_bh_s`` deep relative to
    the lower of its neighbouring peaks (the topographic prominence computed
    by :func:`scipy.signal.find_peaks`); absent is a valid result.
Hip-lead indices (none is standard; all three are reported; (1) is primary)
    (1) ``hip_lead_trunk_change_deg``: trunk angle at v_min (or at 30% of the
    ascent time when there is no sticking region) minus the trunk angle at the
    bottom; positive = the trunk became more horizontal = the hips rose
    first ("hip drive"; Rippetoe 2011; cf. Kompf & Arandjelovic 2016).
    (2) ``hip_lead_rise_ratio``: hip rise / shoulder rise over the first 30%
    of the ascent time; > 1 = hips lead.
    (3) ``hip_lead_peak_velocity_lag_s``: time of peak upward shoulder velocity
    minus time of peak upward hip velocity in the ascent; > 0 = hips peak first.
Chest rose early
    ``hip_lead_trunk_change_deg <= -chest_rise_threshold_deg``: the trunk became
    more upright early in the ascent (the "chest up" cue), which shifts the
    moment from the hips to the knees (Swinton et al. 2011).
Mean / peak concentric velocity
    Bar-proxy displacement / time over the ascent (bottom to where the bar
    stops at the top, the whole concentric phase), and the highest upward
    velocity in it (Gonzalez-Badillo & Sanchez-Medina 2010).

References
----------
van den Tillaar R, Ettema G (2009). A comparison of successful and
unsuccessful attempts in maximal bench pressing. Med Sci Sports Exerc
41:2056-2063. doi:10.1249/MSS.0b013e3181a8c360

van den Tillaar R, Andersen V, Saeterbakken AH (2014). The existence of a
sticking region in free weight squats. J Hum Kinet 42:63-71.
doi:10.2478/hukin-2014-0061

Larsen S, Kristiansen E, van den Tillaar R (2021). New insights about the
sticking region in back squats: an analysis of kinematics, kinetics, and
myoelectric activity. Front Sports Act Living 3:691459.
doi:10.3389/fspor.2021.691459

Gonzalez-Badillo JJ, Sanchez-Medina L (2010). Movement velocity as a measure
of loading intensity in resistance training. Int J Sports Med 31:347-352.
doi:10.1055/s-0030-1248333

Kompf J, Arandjelovic O (2016). Understanding and overcoming the sticking point
in resistance exercise. Sports Med 46:751-762. doi:10.1007/s40279-015-0460-2

Rippetoe M (2011). Starting Strength: Basic Barbell Training, 3rd ed. The
Aasgaard Company.

Swinton PA, Lloyd R, Keogh JWL, Agouris I, Stewart AD (2011). A biomechanical
comparison of the traditional squat, powerlifting squat, and box squat. J
Strength Cond Res 26:1805-1816. doi:10.1519/JSC.0b013e3182577067
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import NamedTuple

import numpy as np
import pandas as pd
from scipy import signal, stats

from hipdrive.analysis.kinematics import Kinematics
from hipdrive.contracts.curves import CURVE_POINTS, CURVE_VARIABLES, empty_curves
from hipdrive.contracts.reps import typed_reps, view_of


class _Event(NamedTuple):
    start_frame: int
    bottom_frame: int
    lockout_frame: int
    end_frame: int
    complete: bool
    failed: bool
    hold_start_frame: int | None
    hold_end_frame: int | None
    ascent_end_frame: int | None
    settled_frame: int | None


def _ascent_end(ev: _Event) -> int:
    """Where the rep's concentric phase ends: the bar stopped at the top
    (:func:`hipdrive.analysis.segment.segment_reps`), else its lockout."""
    return ev.lockout_frame if ev.ascent_end_frame is None else ev.ascent_end_frame


def _event_rows(events: pd.DataFrame) -> list[_Event]:
    """Rows of a :func:`hipdrive.analysis.segment.segment_reps` table as plain Python values."""
    if events.empty:
        return []
    # One object array for the whole table: a column lookup per field costs
    # more than the rest of a short video's rep metrics.
    table = events.to_numpy(dtype=object).tolist()
    where = {c: i for i, c in enumerate(events.columns)}
    pick = [where.get(f) for f in _Event._fields]
    return [_Event(*(None if i is None else row[i] for i in pick)) for row in table]


def find_sticking_region(
    velocity_bh_s: np.ndarray,
    *,
    prominence_bh_s: float,
    search_fraction: float = 0.8,
    min_first_peak_fraction: float = 0.0,
) -> tuple[bool, int | None, int | None, int | None]:
    """v_max1, v_min and v_max2 in one ascent's upward velocity.

    Parameters
    ----------
    velocity_bh_s : ndarray
        Upward bar velocity from the bottom to lockout (inclusive), body
        heights/s.
    prominence_bh_s : float
        Minimum depth of the dip below the lower of its neighbouring peaks.
    search_fraction : float
        ``v_min`` must lie in this first fraction of the ascent (default 0.8):
        the bar's deceleration into lockout is the lifter stopping the bar,
        not a sticking region, and a noise wiggle there must not count.
    min_first_peak_fraction : float
        ``v_max1`` must reach this fraction of the ascent's peak velocity: a
        sticking region follows the initial acceleration out of the bottom
        (van den Tillaar et al. 2014), so a wiggle while the bar is still
        slow (lift-off, leaving a pause) is not one; later dips are tried.

    Returns
    -------
    present : bool
    i_max1, i_min, i_max2 : int or None
        Positions in ``velocity_bh_s`` (None when absent): ``i_min`` is the
        first local minimum with at least ``prominence_bh_s`` prominence,
        ``i_max1`` the highest velocity before it, ``i_max2`` the highest
        velocity after it up to the next such minimum.
    """
    v = np.asarray(velocity_bh_s, dtype=np.float64)
    if len(v) < 5 or not np.isfinite(v).all():
        return False, None, None, None
    dips, _ = signal.find_peaks(-v, prominence=prominence_bh_s)
    dips = dips[dips <= search_fraction * (len(v) - 1)]
    if min_first_peak_fraction > 0 and len(dips):
        running_max = np.maximum.accumulate(v)
        dips = dips[running_max[dips] >= min_first_peak_fraction * v.max()]
    if len(dips) == 0:
        return False, None, None, None
    i_min = int(dips[0])
    stop = int(dips[1]) if len(dips) > 1 else len(v)
    i_max1 = int(np.argmax(v[:i_min]))
    i_max2 = i_min + int(np.argmax(v[i_min:stop]))
    return True, i_max1, i_min, i_max2


def _sticking_velocity(
    kin: Kinematics,
    *,
    fs_hz: float | None,
    cutoff_hz: float,
    max_cutoff_hz: float,
    position_noise_bh: float,
) -> tuple[np.ndarray, float, float]:
    """Upward bar velocity for the sticking region, its cut-off and its white-noise SD.

    The bar height is low-passed again at ``cutoff_hz`` (at most
    ``max_cutoff_hz``, rounded to 0.1 Hz so filter designs and noise gains are
    cached) when ``fs_hz`` is known; otherwise the 6 Hz velocity is used. The
    noise SD is what white position noise of SD ``position_noise_bh`` leaves
    after that filter (see :func:`rep_metrics`).
    """
    from hipdrive.analysis.filters import butter_lowpass, velocity_noise_gain

    fc = round(max(min(cutoff_hz, max_cutoff_hz), 0.5), 1) if fs_hz and cutoff_hz > 0 else 0.0
    if fs_hz and 0 < fc < 0.45 * fs_hz and len(kin.time_s) >= 8:
        h = butter_lowpass(kin["bar_height_bh"], fs_hz=fs_hz, cutoff_hz=fc)
        v = np.gradient(h, kin.time_s)
        return v, fc, position_noise_bh * velocity_noise_gain(fs_hz=fs_hz, cutoff_hz=fc)
    if fs_hz and np.isfinite(max_cutoff_hz):
        noise = position_noise_bh * velocity_noise_gain(fs_hz=fs_hz, cutoff_hz=max_cutoff_hz)
        return kin["bar_velocity_bh_s"], float(max_cutoff_hz), noise
    return kin["bar_velocity_bh_s"], 0.0, 0.0


#: Still time needed to measure the velocity noise, in periods of the sticking
#: filter's cut-off: a low-pass at fc leaves about 2 fc independent values per
#: second, so 5 periods give about 10.
STILL_NOISE_MIN_PERIODS = 5.0


def still_velocity_sd(
    velocity: np.ndarray, time_s: np.ndarray, rep_spans: Sequence[tuple[float, float]], *, cutoff_hz: float
) -> float:
    """Robust SD of the velocity while no rep is under way (NaN when too little is still).

    A pose model's jitter is often slow (it smooths over frames), so the
    residual above the 6 Hz cut-off under-reads the noise in the sticking
    filter's band; the bar proxy's velocity between reps is that band's noise
    as measured, sway included. Frames within one filter period (``1 /
    cutoff_hz``) of a rep are left out, where the filter spreads the rep's
    motion; at least :data:`STILL_NOISE_MIN_PERIODS` periods of still frames
    are needed.
    """
    v, t = np.asarray(velocity, dtype=np.float64), np.asarray(time_s, dtype=np.float64)
    if not cutoff_hz > 0 or len(t) < 2:
        return np.nan
    period = 1.0 / cutoff_hz
    still = np.isfinite(v)
    for start, end in rep_spans:
        still &= (t < start - period) | (t > end + period)
    dt = float(np.median(np.diff(t)))
    if still.sum() * dt < STILL_NOISE_MIN_PERIODS * period:
        return np.nan
    return float(stats.median_abs_deviation(v[still], scale="normal"))


def _vertex_time(t: np.ndarray, y: np.ndarray, j: int | None, half_width: int = 1) -> float:
    """Sub-frame time of the extremum found at frame ``j``.

    Least-squares parabola through frames ``j - half_width .. j + half_width``
    and its vertex (for ``half_width = 1`` the classic three-point peak
    interpolation). A wider window averages the noise that otherwise moves a
    broad, shallow minimum by several frames. Falls back to ``t[j]`` when the
    fit is flat, curves the wrong way or puts the vertex outside the window.
    """
    if j is None:
        return np.nan
    lo, hi = max(0, j - half_width), min(len(y), j + half_width + 1)
    if hi - lo < 3 or not np.isfinite(y[lo:hi]).all():
        return float(t[j])
    tt = t[lo:hi] - t[j]
    # normal equations of y = c0 + c1 t + c2 t^2 (3 x 3; cheaper than np.polyfit)
    powers = np.stack((np.ones_like(tt), tt, tt * tt), axis=1)  # np.vander(tt, 3, increasing)
    try:
        _, c1, c2 = np.linalg.solve(powers.T @ powers, powers.T @ y[lo:hi])
    except np.linalg.LinAlgError:
        return float(t[j])
    if c2 == 0:
        return float(t[j])
    vertex = -c1 / (2 * c2)
    if not tt[0] <= vertex <= tt[-1]:
        return float(t[j])
    return float(t[j] + vertex)


def _at(t_query: float, t: np.ndarray, y: np.ndarray) -> float:
    """Linear interpolation of ``y(t)`` at one time (NaN where y is NaN nearby)."""
    if not np.isfinite(t_query):
        return np.nan
    i = min(max(int(np.searchsorted(t, t_query)), 1), len(t) - 1)  # np.clip: slow on scalars
    w = (t_query - t[i - 1]) / (t[i] - t[i - 1]) if t[i] > t[i - 1] else 0.0
    return float(y[i - 1] * (1 - w) + y[i] * w)


def nanmedian(x: np.ndarray) -> float:
    """Median of the finite values; NaN (without a warning) when there are none."""
    x = x[np.isfinite(x)]
    return float(np.median(x)) if len(x) else np.nan


def furthest_from_one(*ratios: float) -> float:
    """The ratio furthest from 1 on a log scale (a sign flip counts as furthest; NaN ignored)."""
    known = [r for r in ratios if np.isfinite(r)]
    return float(max(known, key=lambda r: abs(np.log(r)) if r > 0 else np.inf)) if known else np.nan


def _shoulder_bar_travel_ratio(
    s: Mapping[str, np.ndarray], a: int, b: int, top: int, e: int, *, lift: str, min_den: float
) -> float:
    """The shoulders' vertical travel over the bar's, in the ascent (bottom -> the top,
    frame ``top``) and the descent (a squat's start -> bottom, a pull's top -> bar on the floor),
    whichever is further from 1 (docs/definitions.md, "Plausibility").

    The bar rests on the shoulders (squat) or hangs from straight arms (pull), so
    both travel alike; a bar proxy that leaves the bar, or a lifter standing while
    the "bar" is at the floor, breaks that.
    """
    sh, bar = s["shoulder_height_bh"], s["bar_height_bh"]
    up = _ratio(sh[top] - sh[b], bar[top] - bar[b], min_den=min_den)
    high, low = (a, b) if lift == "squat" else (top, e)
    down = _ratio(sh[high] - sh[low], bar[high] - bar[low], min_den=min_den)
    return furthest_from_one(up, down)


def _hands_up_at_bar_floor(s: Mapping[str, np.ndarray], a: int, e: int) -> float:
    """How far up their range in the pull the wrists are when the bar is on the floor
    (lift-off and landing), whichever is higher: 0 = at their lowest, 1 = at lockout
    (docs/definitions.md, "Plausibility"). Only for a pull that starts and ends on
    the floor in the clip (complete or failed).

    The hands hold the bar, so a bar that lifts off or lands while the hands are
    well up is a track that left the bar for part of the rep.
    """
    w = s["wrist_height_bh"][a : e + 1]
    ends = w[[0, -1]]
    if not np.isfinite(ends).any():
        return np.nan  # the hands unseen at lift-off and landing: no evidence
    low, high = np.nanmin(w), np.nanmax(w)
    if high - low <= 0:
        return np.nan
    return float(np.nanmax(ends - low) / (high - low))


def _ratio(num: float, den: float, *, min_den: float) -> float:
    return float(num / den) if np.isfinite(den) and abs(den) >= min_den else np.nan


def _sources(bar_source: str | np.ndarray, frames: slice) -> str:
    """A rep's bar sources: the track first, ``+`` the body that carried it through its gaps."""
    if isinstance(bar_source, str):
        return bar_source
    return "+".join(sorted(set(bar_source[frames]), key=lambda s: not s.startswith("track:")))


def rep_metrics(
    kin: Kinematics,
    events: pd.DataFrame,
    *,
    video_id: str,
    lift: str,
    facing: str,
    side_used: str,
    frame_flags: Mapping[str, np.ndarray],
    frame_index: np.ndarray | None = None,
    bar_source: str | np.ndarray = "",
    camera: Mapping[str, np.ndarray] | None = None,
    seen_bar_height_bh: np.ndarray | None = None,
    sticking_prominence_bh_s: float = 0.005,
    sticking_search_fraction: float = 0.8,
    sticking_first_peak_fraction: float = 0.4,
    sticking_cutoff_cycles: float = 0.0,
    sticking_noise_k: float = 2.0,
    position_noise_bh: float = 0.0,
    fs_hz: float | None = None,
    cutoff_hz: float = np.inf,
    early_ascent_fraction: float = 0.3,
    chest_rise_threshold_deg: float = 2.0,
    min_rise_bh: float = 0.005,
    vertex_window_fraction: float = 0.06,
) -> pd.DataFrame:
    """The per-rep table (:data:`~hipdrive.contracts.reps.REP_COLUMNS`) of one video.

    Parameters
    ----------
    kin : Kinematics
        Per-frame series of the video.
    events : pandas.DataFrame
        From :func:`hipdrive.analysis.segment.segment_reps` (array positions).
    video_id, lift, facing, side_used : str
        Identity and orientation written into every row.
    frame_flags : mapping of str -> ndarray of bool, shape (n_frames,)
        Per-frame quality: keys ``low_confidence``, ``gap``, ``swap``,
        ``lifter_lost``; a rep gets a flag when any of its frames
        (start..end) has it (``low_confidence``: more than 20% of them).
    frame_index : ndarray of int, optional
        Decoded-frame number of each array position (default: the position).
    bar_source : str or ndarray of str, shape (n_frames,)
        What stood for the bar, for the whole video or per frame; a rep with
        more than one gets them joined by ``+``, the track first.
    camera : mapping of str -> ndarray, shape (n_frames,), optional
        How the camera sees the lifter, per frame: ``camera_yaw_deg``
        (:func:`~hipdrive.analysis.kinematics.camera_yaw_deg`) and
        ``body_size_ratio`` (:func:`~hipdrive.analysis.kinematics.body_size_ratio`).
        Each rep gets their medians over its frames and the ``view`` the turn
        means (unknown without them).
    seen_bar_height_bh : ndarray, shape (n_frames,), optional
        A tracked bar that failed only the coverage or rest-drift checks (seen
        too rarely, or slipping on the plate between reps), NaN where unseen:
        where seen it moved with the bar. The two sources are then checked
        against each other: ``shoulder_bar_travel_ratio`` is also taken over
        this bar's travel (the value further from 1 is kept), so a proxy that
        travels unlike the bar is flagged rather than kept on whichever source
        an encoding happened to give.
    sticking_prominence_bh_s, sticking_search_fraction, sticking_first_peak_fraction : float
        See :func:`find_sticking_region` (``prominence_bh_s`` is the floor of
        the threshold, ``search_fraction``, ``min_first_peak_fraction``).
    sticking_cutoff_cycles : float
        When > 0 (and ``fs_hz`` is given), the bar height is low-passed again
        at ``sticking_cutoff_cycles / median ascent duration`` Hz (one cut-off
        per video, at most ``cutoff_hz``) before differentiating for the
        sticking region: a dip of
        the sticking region is a fixed fraction of the ascent wide (Gaussian SD
        ~8 % of it in the simulator; van den Tillaar et al. 2014 report the
        region over ~20-40 % of the ascent), so a slow ascent can be smoothed
        much harder than the 6 Hz positions, cutting velocity noise by
        ``(cutoff ratio)**1.5`` without flattening the dip.
    sticking_noise_k, position_noise_bh : float
        The dip must also exceed ``sticking_noise_k`` x the velocity noise SD:
        the larger of what white position noise of SD ``position_noise_bh``
        (body heights) leaves after that filter
        (:func:`hipdrive.analysis.filters.velocity_noise_gain`) and the spread
        of that velocity between reps (:func:`still_velocity_sd`).
    fs_hz, cutoff_hz : float
        Frame rate and the cut-off the positions were filtered with.
    early_ascent_fraction : float
        Share of the ascent time that defines "early" (0.3 = 30%) for hip-lead
        indices (1) without a sticking region and (2).
    chest_rise_threshold_deg : float
        Trunk-angle decrease early in the ascent that counts as the chest
        rising early.
    min_rise_bh : float
        Smallest shoulder rise (body heights) for which a rise ratio is defined.
    vertex_window_fraction : float
        Half-width, as a fraction of the ascent's frames, of the least-squares
        parabola that times v_max1, v_min and v_max2 between frames.
    """
    t = kin.time_s
    n = len(t)
    fidx = np.arange(n) if frame_index is None else np.asarray(frame_index)
    s = kin.series
    rows = []
    rows_ev = _event_rows(events)
    camera = {k: np.asarray(v, float) for k, v in (camera or {}).items()}
    unknown = np.full(n, np.nan)
    # Sticking region on a velocity smoothed for the set's ascent duration (one
    # cut-off per video: the median ascent of its reps).
    ascents = [t[_ascent_end(ev)] - t[ev.bottom_frame] for ev in rows_ev]
    median_ascent = float(np.median(ascents)) if ascents else 0.0
    vb, fc, white_sd = _sticking_velocity(
        kin, fs_hz=fs_hz,
        cutoff_hz=sticking_cutoff_cycles / median_ascent if median_ascent > 0 else 0.0,
        max_cutoff_hz=cutoff_hz, position_noise_bh=position_noise_bh,
    )  # fmt: skip
    # The velocity noise: the white-noise model, or what the bar shows between
    # reps in the same band when that is larger (a smoothing tracker's slow jitter).
    # a rep is under way until the bar is still again (a little after its end)
    spans = [(t[ev.start_frame], t[max(ev.end_frame, ev.settled_frame or 0)]) for ev in rows_ev]
    still_sd = still_velocity_sd(vb, t, spans, cutoff_hz=fc)
    noise_sd = max(white_sd, still_sd) if np.isfinite(still_sd) else white_sd
    threshold = max(sticking_prominence_bh_s, sticking_noise_k * noise_sd)
    for r, ev in enumerate(rows_ev, start=1):
        a, b, lk, e = ev.start_frame, ev.bottom_frame, ev.lockout_frame, ev.end_frame
        top = _ascent_end(ev)  # the concentric phase: bottom -> the bar stopped at the top
        asc = slice(b, top + 1)
        hold0 = (
            ev.hold_start_frame if ev.hold_start_frame is not None else b if lift == "squat" else lk
        )
        hold1 = ev.hold_end_frame if ev.hold_end_frame is not None else b if lift == "squat" else lk
        hw = max(1, round(vertex_window_fraction * (top - b)))
        # An unpaused squat's bottom is the bar's turning point, timed within the
        # frame as v_min is (bottom_frame is its lowest frame); a pause ends at a frame.
        turn = lift == "squat" and hold0 == hold1 == b
        t_b = _vertex_time(t, s["bar_height_bh"], b, hw) if turn else t[b]
        ascent = t[top] - t_b
        # The pause at the bottom (squat) or the hold at lockout (deadlift) is
        # part of neither the descent nor the ascent.
        descent = (t_b if turn else t[hold0]) - t[a] if lift == "squat" else t[e] - t[hold1]
        v_bar = s["bar_velocity_bh_s"][asc]
        present, i1, im, i2 = find_sticking_region(
            vb[asc],
            prominence_bh_s=threshold,
            search_fraction=sticking_search_fraction,
            min_first_peak_fraction=sticking_first_peak_fraction,
        )
        j1, jm, j2 = ((b + i) if i is not None else None for i in (i1, im, i2))
        t_early = t_b + early_ascent_fraction * ascent
        tv1, tvm, tv2 = (_vertex_time(t, vb, j, hw) for j in (j1, jm, j2))
        t_ref = tvm if present else t_early
        trunk = s["trunk_angle_deg"]

        hip_rise = _at(t_early, t, s["hip_height_bh"]) - s["hip_height_bh"][b]
        sh_rise = _at(t_early, t, s["shoulder_height_bh"]) - s["shoulder_height_bh"][b]
        hv, sv = s["hip_velocity_bh_s"][asc], s["shoulder_velocity_bh_s"][asc]
        lag = (
            _vertex_time(t, s["shoulder_velocity_bh_s"], b + int(np.nanargmax(sv)))
            - _vertex_time(t, s["hip_velocity_bh_s"], b + int(np.nanargmax(hv)))
            if np.isfinite(hv).any() and np.isfinite(sv).any() and top > b
            else np.nan
        )
        # the trunk at the turning point (the frame's where a neighbour's is unknown)
        trunk_bottom = _at(t_b, t, trunk) if turn else trunk[b]
        if not np.isfinite(trunk_bottom):
            trunk_bottom = trunk[b]
        trunk_change = _at(t_ref, t, trunk) - trunk_bottom
        disp = s["bar_height_bh"][top] - s["bar_height_bh"][b]
        mean_v = disp / ascent if ascent > 0 else np.nan
        peak_v = float(np.nanmax(v_bar)) if np.isfinite(v_bar).any() else np.nan
        row = {
            "video_id": video_id, "rep": r, "lift": lift,
            "start_frame": fidx[a], "bottom_frame": fidx[b],
            "lockout_frame": fidx[lk], "end_frame": fidx[e],
            "start_s": t[a], "bottom_s": t_b, "lockout_s": t[lk], "end_s": t[e],
            "descent_duration_s": descent, "ascent_duration_s": ascent,
            "complete": bool(ev.complete), "failed": bool(ev.failed),
            "sticking_present": present,
            "v_max1_frame": None if j1 is None else fidx[j1],
            "v_min_frame": None if jm is None else fidx[jm],
            "v_max2_frame": None if j2 is None else fidx[j2],
            "v_max1_s": tv1, "v_min_s": tvm, "v_max2_s": tv2,
            "sticking_pct_ascent": 100.0 * (tvm - t_b) / ascent if present and ascent > 0 else np.nan,
            "hip_angle_vmin_deg": _at(tvm, t, s["hip_angle_deg"]),
            "knee_angle_vmin_deg": _at(tvm, t, s["knee_angle_deg"]),
            "hip_lead_trunk_change_deg": trunk_change,
            "hip_lead_rise_ratio": _ratio(hip_rise, sh_rise, min_den=min_rise_bh),
            "hip_lead_peak_velocity_lag_s": lag,
            "trunk_angle_bottom_deg": trunk_bottom, "trunk_angle_vmax1_deg": _at(tv1, t, trunk),
            "trunk_angle_vmin_deg": _at(tvm, t, trunk), "trunk_angle_lockout_deg": trunk[lk],
            "mean_concentric_velocity_bh_s": mean_v, "peak_concentric_velocity_bh_s": peak_v,
            "mean_concentric_velocity_m_s": mean_v * kin.height_m,
            "peak_concentric_velocity_m_s": peak_v * kin.height_m,
            "shoulder_bar_travel_ratio": furthest_from_one(
                _shoulder_bar_travel_ratio(s, a, b, top, e, lift=lift, min_den=min_rise_bh),
                np.nan if seen_bar_height_bh is None else _shoulder_bar_travel_ratio(
                    {**s, "bar_height_bh": seen_bar_height_bh}, a, b, top, e, lift=lift,
                    min_den=min_rise_bh,
                ),
            ),  # fmt: skip
            "hands_up_at_bar_floor": (
                _hands_up_at_bar_floor(s, a, e)
                if lift == "deadlift" and (ev.complete or ev.failed)
                else np.nan
            ),
            "moment_arm_ratio_bottom": s["moment_arm_ratio"][b],
            "moment_arm_ratio_vmin": _at(tvm, t, s["moment_arm_ratio"]),
            "chest_rose_early": bool(trunk_change <= -chest_rise_threshold_deg),
        }  # fmt: skip
        row |= _squat_knee_travel(kin, a, hold0) if lift == "squat" else _squat_knee_travel_nan()
        row |= _deadlift_metrics(kin, b, top, min_rise_bh) if lift == "deadlift" else _deadlift_nan()
        rep_frames = slice(a, e + 1)
        rep_camera = {k: nanmedian(camera.get(k, unknown)[rep_frames])
                      for k in ("camera_yaw_deg", "body_size_ratio")}  # fmt: skip
        flags = {
            "flag_low_confidence": bool(np.mean(frame_flags["low_confidence"][rep_frames]) > 0.2),
            "flag_gap": bool(np.any(frame_flags["gap"][rep_frames])),
            "flag_swap": bool(np.any(frame_flags["swap"][rep_frames])),
            "flag_lifter_lost": bool(np.any(frame_flags["lifter_lost"][rep_frames])),
        }
        row |= {"facing": facing, "side_used": side_used, "bar_source": _sources(bar_source, rep_frames),
                "view": view_of(rep_camera["camera_yaw_deg"])} | rep_camera | flags  # fmt: skip
        row |= {"flag_implausible": False, "implausible_reason": ""}  # analysis.plausibility
        row["quality_ok"] = bool(ev.complete) and not any(flags.values())
        rows.append(row)
    table = typed_reps(rows)
    # the depth a dip needed in this video: how clear "absent" is, for QC and benchmarks
    table.attrs["sticking_threshold_bh_s"] = float(threshold)
    return table


def _squat_knee_travel(kin: Kinematics, a: int, b: int) -> dict[str, float]:
    """Knee travel in the descent (docs/definitions.md "Knee travel").

    ``knee_forward_pct_descent``: when the knee (horizontal position relative
    to the ankle, body heights) reaches its forward-most point, in % of the
    descent time; ``knee_travel_after_max_bh``: how far it moves back from
    there to the bottom (>= 0).
    """
    fwd = kin["knee_x_bh"][a : b + 1] - kin["ankle_x_bh"][a : b + 1]
    t = kin.time_s
    if b <= a or not np.isfinite(fwd).any():
        return _squat_knee_travel_nan()
    i = int(np.nanargmax(fwd))
    return {
        "knee_forward_pct_descent": 100.0 * (t[a + i] - t[a]) / (t[b] - t[a]),
        "knee_travel_after_max_bh": float(fwd[i] - fwd[-1]),
    }


def _squat_knee_travel_nan() -> dict[str, float]:
    return {"knee_forward_pct_descent": np.nan, "knee_travel_after_max_bh": np.nan}


def _deadlift_metrics(kin: Kinematics, b: int, lk: int, min_rise_bh: float) -> dict[str, float]:
    """Deadlift set-up and "hips shoot up" (docs/definitions.md "Deadlift").

    The bar passes the knee at the first ascent frame where the wrists are at
    or above knee height. ``hip_shoot_index`` = hip rise / shoulder rise from
    lift-off to that frame (> 1 = hips rise faster than the chest; Hales 2010).

    References
    ----------
    Hales M (2010). Improving the deadlift: understanding biomechanical
    constraints and physiological adaptations to resistance exercise. Strength
    Cond J 32(4):44-51. doi:10.1519/SSC.0b013e3181e5e300
    """
    s = kin.series
    passed = s["wrist_height_bh"][b : lk + 1] >= s["knee_height_bh"][b : lk + 1]
    k = b + int(np.argmax(passed)) if passed.any() else None
    out = {
        "shin_angle_liftoff_deg": float(s["shin_angle_deg"][b]),
        "trunk_angle_liftoff_deg": float(s["trunk_angle_deg"][b]),
        "trunk_angle_at_knee_deg": np.nan,
        "hip_shoot_index": np.nan,
    }
    if k is not None:
        out["trunk_angle_at_knee_deg"] = float(s["trunk_angle_deg"][k])
        out["hip_shoot_index"] = _ratio(
            s["hip_height_bh"][k] - s["hip_height_bh"][b],
            s["shoulder_height_bh"][k] - s["shoulder_height_bh"][b],
            min_den=min_rise_bh,
        )
    return out


def _deadlift_nan() -> dict[str, float]:
    return dict.fromkeys(
        ("hip_shoot_index", "shin_angle_liftoff_deg", "trunk_angle_liftoff_deg",
         "trunk_angle_at_knee_deg"),
        np.nan,
    )  # fmt: skip


def time_normalise(
    y: np.ndarray, t: np.ndarray, start: int, stop: int, *, n_points: int = CURVE_POINTS
) -> np.ndarray:
    """Resample columns of ``y`` between frames ``start`` and ``stop`` to ``n_points``.

    Linear interpolation in time (0..100% of the phase), all columns at once;
    NaN propagate to the neighbouring grid points.

    Parameters
    ----------
    y : ndarray, shape (n_frames, n_vars)
    t : ndarray, shape (n_frames,)
        Non-decreasing times.
    start, stop : int
        First and last frame of the phase (inclusive), ``stop > start``.

    Returns
    -------
    ndarray, shape (n_points, n_vars)
    """
    return _time_normalise_spans(y, t, np.array([start]), np.array([stop]), n_points)[0]


def _time_normalise_spans(
    y: np.ndarray, t: np.ndarray, start: np.ndarray, stop: np.ndarray, n_points: int = CURVE_POINTS
) -> np.ndarray:
    """:func:`time_normalise` of many phases at once, shape (n_phases, n_points, n_vars).

    One search over the whole clip instead of one per phase (a short clip's
    curves cost more in per-phase overhead than in arithmetic). The frame
    found for a grid time is clipped into its own phase, so for sorted ``t``
    it is the frame a search within the phase alone would find.
    """
    grid = np.linspace(t[start], t[stop], n_points, axis=1)
    i = np.clip(np.searchsorted(t, grid, side="right"), start[:, None] + 1, stop[:, None])
    dt = t[i] - t[i - 1]
    w = np.where(dt > 0, (grid - t[i - 1]) / np.where(dt > 0, dt, 1.0), 0.0)[..., None]
    return y[i - 1] * (1 - w) + y[i] * w


def rep_curves(kin: Kinematics, events: pd.DataFrame, *, video_id: str, lift: str) -> pd.DataFrame:
    """Time-normalised curves (long format, :data:`~hipdrive.contracts.curves.CURVE_SCHEMA`).

    Phases: squat descent = start -> bottom, ascent = bottom -> the bar
    stopped at the top (the concentric phase; the lockout is a displacement
    milestone just before it); deadlift ascent = lift-off -> the top, descent =
    the top -> back on the floor. A phase of zero length (e.g. a deadlift not put down in the clip)
    is left out. Each phase of every rep is resampled to 101 points (0..100 %) with
    :func:`time_normalise` for every variable of :data:`CURVE_VARIABLES`.
    """
    n_var = len(CURVE_VARIABLES)
    reps, phases, p0, p1 = [], [], [], []
    for r, ev in enumerate(_event_rows(events), start=1):
        if lift == "squat":
            spans = {
                "descent": (ev.start_frame, ev.bottom_frame),
                "ascent": (ev.bottom_frame, _ascent_end(ev)),
            }
        else:
            spans = {
                "ascent": (ev.bottom_frame, _ascent_end(ev)),
                "descent": (_ascent_end(ev), ev.end_frame),
            }
        for phase, (a, b) in spans.items():
            if b > a:
                reps.append(r)
                phases.append(phase)
                p0.append(a)
                p1.append(b)
    if not reps:
        return empty_curves()
    y = np.column_stack([kin[v] for v in CURVE_VARIABLES])
    values = _time_normalise_spans(y, kin.time_s, np.array(p0), np.array(p1))
    nb = len(reps)
    return pd.DataFrame(  # fresh arrays: no copy (consolidating them cost more than the curves)
        {
            "video_id": np.array([video_id], dtype=object).repeat(nb * CURVE_POINTS * n_var),
            "rep": np.repeat(np.asarray(reps, dtype=np.int16), CURVE_POINTS * n_var),
            "phase": np.repeat(np.asarray(phases, dtype=object), CURVE_POINTS * n_var),
            "pct": np.tile(np.repeat(np.arange(CURVE_POINTS, dtype=np.int16), n_var), nb),
            "variable": np.tile(np.asarray(CURVE_VARIABLES, dtype=object), nb * CURVE_POINTS),
            "value": values.reshape(-1).astype(np.float64),
        },
        copy=False,
    )
