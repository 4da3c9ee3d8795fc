"""Bar-end tracking: find the near plate's hub beside the lifter's hands, follow it frame to frame.

The body proxies of the bar (shoulders, wrists) are poor where it matters:
the plate hides the shoulders in a back squat, and in a deadlift the wrists
rise before the plates leave the floor and move on after lockout. The bar
itself is easy to see from the side: the near plate is a large, rigid,
high-contrast disc whose hub lies on the bar's axis.

Method (two steps, both OpenCV):

1. **Find** the plate once, at the frame where the hands are lowest (the
   deadlift's set-up, the squat's bottom; the hands hold the bar in both lifts,
   so the wrists are a lift-agnostic anchor; where nothing found there moves
   with the hands, other low moments of their running median): a Hough circle transform
   (``cv2.HoughCircles``, ``HOUGH_GRADIENT_ALT``) in a window around the
   wrists, for radii of a weight plate scaled by the lifter's stature from the
   keypoints (:data:`PLATE_RADIUS_BH`). Each circle, nearest the wrists
   first, is tracked (step 2); the plate is the first whose track rises and
   falls with the hands, of the round ones if there are any: those found
   again as a circle of their own size in most of the frames they were
   tracked in (:func:`circle_persistence`). A plate is rigid and round in
   every frame, while an arm, a head or a knee that looked round in one frame
   is not; but a plate too close to the camera or cut by the picture's edge
   may not be found again, so roundness ranks the circles and does not veto them.
2. **Track** the hub forward and backward from there by template matching
   with normalised cross-correlation (``cv2.matchTemplate``,
   ``TM_CCOEFF_NORMED``; Lewis 1995) of a patch centred on the hub, in a search
   window around a constant-velocity prediction, with a sub-pixel peak (a
   parabola through the peak and its neighbours on each axis). The template
   is refreshed from each confidently matched frame so a slowly turning plate
   or changing light is followed, and re-anchored on the first frame's
   template where that still matches nearby, so refreshing does not drift
   (strategy 3 of Matthews et al. 2004). The distinct views of the plate
   met on the way are kept: where the last template matches weakly or not at
   all, a kept view that matches as well as a refresh asks takes over (the
   hub framed by the arms at a squat's bottom looks unlike the hub at the
   top, so a template from one matches poorly at the other). A frame whose
   best correlation is below ``min_score`` is lost (NaN); the search then
   widens until the plate is found again.

Frames are tracked on a grey, downscaled copy (the plate then spans about
:data:`WORK_PLATE_RADIUS_PX` pixels; the sub-pixel peak keeps the error well
under one full-resolution pixel), cropped to where the hands and shoulders go
(the bar's carriers), so memory stays small. A best match on the crop's or
the picture's edge is no match: the plate may lie beyond.

References
----------
Lewis JP (1995). Fast normalized cross-correlation. Vision Interface 95:120-123.

Matthews I, Ishikawa T, Baker S (2004). The template update problem. IEEE
Trans Pattern Anal Mach Intell 26:810-815. doi:10.1109/TPAMI.2004.16

Yuen HK, Princen J, Illingworth J, Kittler J (1990). Comparative study of
Hough transform methods for circle finding. Image Vis Comput 8:71-77.
doi:10.1016/0262-8856(90)90059-E
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

__all__ = [
    "BAR_POINT",
    "PLATE_RADIUS_BH",
    "BarTrack",
    "circle_persistence",
    "plate_candidates",
    "subpixel_peak",
    "track_bar",
    "track_template",
]

#: Keypoint name of the tracked bar end in the keypoint contract (track 0).
BAR_POINT = "bar_end"

#: Plate radius as a fraction of stature: a 450 mm competition plate
#: (IWF/IPF standard diameter) on a 1.55-1.95 m lifter gives 0.115-0.145;
#: the range is widened to 0.07-0.22 for smaller iron plates, for the error of
#: the stature estimate (about +-3 %, Drillis & Contini proportions,
#: :func:`hipdrive.body.body_height_px`) and for the near plate's
#: perspective on close cameras (it is nearer the camera than the body that
#: gives the scale).
PLATE_RADIUS_BH = (0.07, 0.22)

#: Plate radius in the working (downscaled) image, pixels.
WORK_PLATE_RADIUS_PX = 90.0


@dataclass(frozen=True)
class BarTrack:
    """A tracked bar end.

    Attributes
    ----------
    xy : ndarray, shape (n_frames, 2)
        Hub position in full-resolution image pixels, NaN where lost.
    score : ndarray, shape (n_frames,)
        Peak normalised cross-correlation (0..1, negatives clipped to 0); 0
        where lost.
    init_frame : int
        Frame at which the plate was found (-1 when it was not).
    radius_px : float
        Radius of the plate found, full-resolution pixels (NaN when none).
    point : {"sleeve_end", "hub", "none"}
        What was tracked (see :func:`track_bar`).
    """

    xy: np.ndarray
    score: np.ndarray
    init_frame: int
    radius_px: float
    point: str


def subpixel_peak(response: np.ndarray) -> tuple[float, float, float]:
    """Location (x, y) and value of the maximum of a 2-D response, to sub-pixel precision.

    A parabola through the peak and its two neighbours on each axis (the
    usual 3-point estimator for a correlation peak); at the border the
    integer location is kept.
    """
    iy, ix = np.unravel_index(int(np.argmax(response)), response.shape)
    peak = float(response[iy, ix])

    def offset(a: float, b: float, c: float) -> float:
        denom = a - 2.0 * b + c
        return 0.0 if denom >= 0 else float(np.clip(0.5 * (a - c) / denom, -0.5, 0.5))

    dx = offset(*response[iy, ix - 1 : ix + 2]) if 0 < ix < response.shape[1] - 1 else 0.0
    dy = offset(*response[iy - 1 : iy + 2, ix]) if 0 < iy < response.shape[0] - 1 else 0.0
    return ix + dx, iy + dy, peak


def _patch(image: np.ndarray, centre: np.ndarray, half: int) -> np.ndarray | None:
    """The (2 half + 1)^2 patch centred on ``centre`` (bilinear), None when it leaves the image."""
    import cv2

    x, y = float(centre[0]), float(centre[1])
    h, w = image.shape
    if x - half < 0 or y - half < 0 or x + half > w - 1 or y + half > h - 1:
        return None
    return cv2.getRectSubPix(image, (2 * half + 1, 2 * half + 1), (x, y))


def _match(
    image: np.ndarray, template: np.ndarray, centre: np.ndarray, reach: float
) -> tuple[np.ndarray, float]:
    """Best NCC match of ``template`` whose centre lies within ``reach`` px of ``centre``.

    A best match on the image's edge is no match: the template cannot be placed
    further out, so the patch it stands for may lie beyond (a plate leaving the
    picture would otherwise stay "found" at the edge while it moves on).
    """
    import cv2

    half = template.shape[0] // 2
    h, w = image.shape
    x0 = int(max(0, np.floor(centre[0] - reach - half)))
    y0 = int(max(0, np.floor(centre[1] - reach - half)))
    x1 = int(min(w, np.ceil(centre[0] + reach + half) + 1))
    y1 = int(min(h, np.ceil(centre[1] + reach + half) + 1))
    if x1 - x0 < template.shape[1] or y1 - y0 < template.shape[0]:
        return np.array([np.nan, np.nan]), 0.0
    response = cv2.matchTemplate(image[y0:y1, x0:x1], template, cv2.TM_CCOEFF_NORMED)
    response = np.nan_to_num(response, nan=-1.0)
    iy, ix = np.unravel_index(int(np.argmax(response)), response.shape)
    rh, rw = response.shape
    if (ix == 0 and x0 == 0 or ix == rw - 1 and x1 == w
            or iy == 0 and y0 == 0 or iy == rh - 1 and y1 == h):  # fmt: skip
        return np.array([np.nan, np.nan]), 0.0
    px, py, peak = subpixel_peak(response)
    return np.array([x0 + px + half, y0 + py + half]), peak


def track_template(
    images: list[np.ndarray],
    start: int,
    centre: np.ndarray,
    *,
    half: int,
    reach_px: float,
    min_score: float = 0.5,
    refresh_score: float = 0.8,
    anchor_score: float = 0.7,
    guide: np.ndarray | None = None,
    use_views: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """Follow the patch centred on ``centre`` in ``images[start]`` through the other images.

    Parameters
    ----------
    images : list of 2-D uint8 arrays
        Grey frames, all the same size.
    start : int
        Index of the frame the template comes from.
    centre : (2,) array
        Template centre in ``images[start]`` (x, y pixels).
    half : int
        Template half-size, pixels.
    reach_px : float
        Largest frame-to-frame displacement searched beyond the
        constant-velocity prediction; doubled after each lost frame.
    min_score : float
        NCC below which a frame is lost (NaN).
    refresh_score : float
        NCC at or above which the template is refreshed from that frame; a
        refreshed template unlike the views kept so far is kept as one more.
        Below it, a kept view that matches this well takes over
        (:func:`_best_view`).
    anchor_score : float
        NCC of the first template, matched within ``half / 4`` of the result,
        at or above which the result is re-anchored on it (drift guard).
    guide : (n, 2) array, optional
        A track of something rigidly carried with the patch (the plate hub):
        the prediction is the last position moved by the guide's motion,
        instead of a constant velocity, where the guide is known.
    use_views : bool
        Keep the patch's distinct views and fall back on them (above).

    Returns
    -------
    xy : (n, 2) array, NaN where lost; score : (n,) array of peak NCC (0 where lost).
    """
    n = len(images)
    xy = np.full((n, 2), np.nan)
    score = np.zeros(n)
    first = _patch(images[start], centre, half)
    if first is None:
        return xy, score
    xy[start], score[start] = centre, 1.0
    for leg in (range(start + 1, n), range(start - 1, -1, -1)):
        template, last, prev, reach = first, np.asarray(centre, float), None, reach_px
        last_i, views = start, [first]
        for i in leg:
            step = None if guide is None else guide[i] - guide[last_i]
            if step is not None and np.isfinite(step).all():
                guess = last + step
            else:
                guess = last if prev is None else last + (last - prev)
            pos, peak = _match(images[i], template, guess, reach)
            if use_views and peak < refresh_score:  # the patch may look as it did elsewhere
                others = [v for v in views if v is not template]  # the last one has been asked
                v_pos, v_peak, seen_as = _best_view(images[i], others, guess, reach, refresh_score)
                if seen_as is not None:
                    pos, peak, template = v_pos, v_peak, seen_as
            if peak >= min_score:
                anchored, a_peak = _match(images[i], first, pos, max(2.0, half / 4))
                if a_peak >= anchor_score:
                    pos = anchored
                xy[i], score[i] = pos, peak
                if peak >= refresh_score and (fresh := _patch(images[i], pos, half)) is not None:
                    template = fresh
                    if use_views:
                        _remember(views, fresh, refresh_score)
                prev, last, reach, last_i = last, pos, reach_px, i
            else:
                prev, reach = None, min(reach * 2.0, 8 * reach_px)
    return xy, score


#: Most views of a tracked patch kept to fall back on where the last template matches poorly.
MAX_VIEWS = 12


def _remember(views: list[np.ndarray], template: np.ndarray, same: float) -> None:
    """Keep ``template`` as a view of the patch unless a kept one already looks like
    it (NCC >= ``same``); the oldest after the first is dropped beyond :data:`MAX_VIEWS`."""
    import cv2

    for v in views:
        if float(cv2.matchTemplate(template, v, cv2.TM_CCOEFF_NORMED).max()) >= same:
            return
    views.append(template)
    if len(views) > MAX_VIEWS:
        del views[1]


def _best_view(
    image: np.ndarray, views: list[np.ndarray], guess: np.ndarray, reach: float, min_peak: float
) -> tuple[np.ndarray, float, np.ndarray | None]:
    """The best match of any kept view within ``reach`` of ``guess``, taken when it reaches
    ``min_peak``: (position, NCC, the view), or (NaN, 0, None).

    Why: a patch changes as it moves (a plate's hub framed by the arms at a
    squat's bottom, by the shoulders at the top). The last template, refreshed
    at one place, matches poorly or not at all at the other, and a lost patch
    would not be found again until it looked as it did when lost; the view it
    had when last seen there matches. A view must match with the confidence
    of a template refresh, not just of a tracked frame: nothing in the track
    vouches for the switch.
    """
    best: tuple[np.ndarray, float, np.ndarray | None] = (np.array([np.nan, np.nan]), 0.0, None)
    for view in views:
        pos, peak = _match(image, view, guess, reach)
        if peak >= min_peak and peak > best[1]:
            best = (pos, peak, view)
    return best


def hough_circles(image: np.ndarray, *, radius_range_px: tuple[float, float]) -> np.ndarray:
    """Circles ``(x, y, r)`` (rows, strongest first) found by ``cv2.HoughCircles`` (ALT method)."""
    import cv2

    r_min, r_max = radius_range_px
    blurred = cv2.GaussianBlur(image, (0, 0), max(1.0, r_min / 20))
    circles = cv2.HoughCircles(
        blurred, cv2.HOUGH_GRADIENT_ALT, dp=1.0 if r_min < 20 else 1.5, minDist=max(2.0, r_min / 4),
        param1=60, param2=0.6, minRadius=int(r_min), maxRadius=int(np.ceil(r_max)),
    )  # fmt: skip
    return np.empty((0, 3)) if circles is None else circles.reshape(-1, 3).astype(np.float64)


def plate_candidates(
    image: np.ndarray, anchor: np.ndarray, *, radius_range_px: tuple[float, float], n: int = 3
) -> np.ndarray:
    """Up to ``n`` Hough circles ``(x, y, r)`` whose centre lies within a maximum radius of
    ``anchor``, nearest first: the plates the hands may be holding."""
    c = hough_circles(image, radius_range_px=radius_range_px)
    d = np.hypot(c[:, 0] - anchor[0], c[:, 1] - anchor[1])
    near = np.flatnonzero(d <= radius_range_px[1])
    return c[near[np.argsort(d[near])][:n]]


def circle_persistence(
    images: list[np.ndarray],
    centre: np.ndarray,
    radius: float,
    *,
    radius_range_px: tuple[float, float],
    n_frames: int = 16,
) -> float:
    """Share of up to ``n_frames`` tracked frames, spread evenly, in which the finder
    (:func:`hough_circles` over ``radius_range_px``, as when the candidate was
    found) finds a circle of 0.8-1.25 times ``radius`` within a quarter radius of
    the tracked ``centre`` (rows per image, NaN where lost; 0 if never tracked).

    Why: the finder looks at one frame, where a bent arm, a head or a knee can
    pass for a circle as well as the plate. Only the plate, rigid and round,
    stays a circle: asking for it again in the other frames tells them apart.
    """
    tracked = np.flatnonzero(np.isfinite(centre).all(axis=1))
    if not len(tracked):
        return 0.0
    picks = tracked[np.unique(np.linspace(0, len(tracked) - 1, n_frames).round().astype(int))]
    reach = int(np.ceil(1.6 * radius_range_px[1]))
    found = 0
    for i in picks:
        h, w = images[i].shape
        x, y = centre[i]
        x0, y0 = max(0, int(x) - reach), max(0, int(y) - reach)
        window = images[i][y0 : min(h, int(y) + reach + 1), x0 : min(w, int(x) + reach + 1)]
        c = hough_circles(window, radius_range_px=radius_range_px)
        c = c[(c[:, 2] >= 0.8 * radius) & (c[:, 2] <= 1.25 * radius)]
        found += bool(len(c)) and np.hypot(c[:, 0] + x0 - x, c[:, 1] + y0 - y).min() <= radius / 4
    return found / len(picks)


#: Share of its tracked frames in which a candidate must be found again as a
#: circle (:func:`circle_persistence`) to count as round: most of them.
MIN_CIRCLE_PERSISTENCE = 0.5

#: Circles near the hands tried, nearest first.
MAX_CANDIDATES = 6


def _correlation(a: np.ndarray, b: np.ndarray) -> float:
    """Pearson correlation over the samples where both are finite (0 when undefined)."""
    ok = np.isfinite(a) & np.isfinite(b)
    if ok.sum() < 3 or np.std(a[ok]) == 0 or np.std(b[ok]) == 0:
        return 0.0
    return float(np.corrcoef(a[ok], b[ok])[0, 1])


#: Correlation between the vertical positions of a plate's track and of the
#: hands at or above which it is taken as the plate held without trying others.
MIN_HAND_CORRELATION = 0.8

#: Sleeve-end radius as a fraction of the plate radius: a 50 mm Olympic sleeve
#: in a 450 mm plate is 0.11; 0.06-0.2 allows for other plates and for the
#: end cap's rim.
SLEEVE_RADIUS_FRACTION = (0.06, 0.2)


def track_sleeve_end(
    images: list[np.ndarray],
    start: int,
    hub: np.ndarray,
    radius: float,
    *,
    min_score: float,
    search: np.ndarray | None = None,
    offset: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray] | None:
    """The sleeve end (the bar's tip), tracked with the hub's track as a guide; None if not seen.

    Why: the bar end protrudes towards the camera, so with a camera near the
    lifter its image moves more than the hub's (perspective: both lie on one
    line through the bar axis' vanishing point). Candidates are small Hough
    circles (:data:`SLEEVE_RADIUS_FRACTION`) inside the plate at ``start``;
    each is tracked, and the one that tracks well (median NCC >= 0.8), stays
    within half a plate radius of where it sits on the plate's face, and
    moves most relative to the hub is the sleeve end: print and collars on
    the plate move with it, the sleeve's tip does not. When no candidate
    moves by more than a working pixel (a distant camera) the tip coincides
    with the hub and None is returned. The circles are looked for in
    ``search`` (default ``images[start]``), whose origin lies at ``offset``
    in the tracked images. Each is followed without falling back on earlier
    views (:func:`track_template`): print on a plate that turns changes its
    look and should track badly, while the tip, the end of a cylinder, keeps
    its own.
    """
    lo, hi = (f * radius for f in SLEEVE_RADIUS_FRACTION)
    cands = hough_circles(
        images[start] if search is None else search, radius_range_px=(max(2.0, lo), hi)
    )
    if offset is not None:
        cands[:, :2] += offset
    inside = np.hypot(*(cands[:, :2] - hub[start]).T) <= 0.8 * radius
    best, best_spread = None, 1.0
    for x, y, r in cands[inside][:8]:
        half = max(3, int(round(0.9 * r)))
        xy, score = track_template(
            images, start, np.array([x, y]), half=half, reach_px=max(2.0, r), min_score=min_score,
            guide=hub, use_views=False,
        )  # fmt: skip
        seen = np.isfinite(hub).all(axis=1)
        rel = xy - hub
        rel = rel[np.isfinite(rel).all(axis=1)]
        if np.median(score[seen]) < 0.8 or len(rel) < 3:
            continue
        # The tip stays on the plate's face: something that leaves it is not the tip.
        if np.max(np.hypot(*(rel - np.median(rel, axis=0)).T)) > 0.5 * radius:
            continue
        spread = float(np.sqrt(np.sum(np.var(rel, axis=0))))
        if spread > best_spread:
            best, best_spread = (xy, score), spread
    return best


@dataclass(frozen=True)
class _Candidate:
    """A circle near the hands, tracked."""

    hub: np.ndarray
    score: np.ndarray
    radius: float
    hand_correlation: float
    round: bool  # found again as a circle in most frames (:func:`circle_persistence`)
    start: int  # the frame it was found in


def _candidates(
    images: list[np.ndarray],
    search: np.ndarray,
    start: int,
    anchor: np.ndarray,
    work_hands: np.ndarray,
    *,
    shift: np.ndarray,
    radius_range_px: tuple[float, float],
    min_score: float,
) -> list[_Candidate]:
    """The circles in ``search`` (frame ``start``) near the hands (``anchor``), nearest
    first, each tracked; the search stops at the first round one that rises and
    falls with the hands (it is the plate)."""
    out = []
    for x, y, radius in plate_candidates(
        search, anchor, radius_range_px=radius_range_px, n=MAX_CANDIDATES
    ):
        hub, score = track_template(
            images, start, np.array([x, y]) + shift, half=int(round(0.5 * radius)),
            reach_px=0.5 * radius, min_score=min_score,
        )  # fmt: skip
        persistence = circle_persistence(images, hub, radius, radius_range_px=radius_range_px)
        c = _Candidate(
            hub, score, float(radius), _correlation(hub[:, 1], work_hands[:, 1]),
            persistence >= MIN_CIRCLE_PERSISTENCE, start,
        )  # fmt: skip
        out.append(c)
        if c.round and c.hand_correlation >= MIN_HAND_CORRELATION:
            break
    return out


def _plate_held(candidates: list[_Candidate]) -> _Candidate | None:
    """The first candidate whose track rises and falls with the hands, else the one
    that does so most (a circle in the background stays put); None if there are none."""
    for c in candidates:
        if c.hand_correlation >= MIN_HAND_CORRELATION:
            return c
    return max(candidates, key=lambda c: c.hand_correlation, default=None)


#: Window of the running median that steadies the hands before their lowest
#: frames are looked for, seconds: a wrist misread for under half of it (a
#: detector that loses the arm behind the plate for a few frames) is ignored,
#: while a squat's bottom, where the hands stay within a few centimetres for a
#: few tenths of a second, still peaks at its own frames.
STEADY_HANDS_S = 0.5

#: Frames where the plate is looked for, at least this far apart, seconds, and
#: how many: the hands' lowest frame first; other low moments of their running
#: median (the deadlift's set-up and its put-down, another squat's bottom) only
#: where nothing found from the first moves with the hands.
START_APART_S = 1.0
MAX_STARTS = 3


def steady_hands(hands: np.ndarray, fs_hz: float) -> np.ndarray:
    """The hands' running median over :data:`STEADY_HANDS_S` (NaN where under half the window is seen)."""
    import pandas as pd

    w = max(3, int(round(STEADY_HANDS_S * fs_hz)) | 1)
    return pd.DataFrame(hands).rolling(w, center=True, min_periods=w // 2 + 1).median().to_numpy()


def low_frames(steady: np.ndarray, fs_hz: float, *, avoid: int) -> list[int]:
    """Up to :data:`MAX_STARTS` - 1 frames of the lowest steady hands (largest image y),
    lowest first, each :data:`START_APART_S` from the others and from ``avoid``.

    Why: a detector that misreads the wrist (the arm lost behind the plate)
    can put the lowest hands where the bar is not; another low moment of the
    same lift, where the hands are steadily low, then finds it.
    """
    y = np.where(np.isfinite(steady).all(axis=1), steady[:, 1], -np.inf)
    apart = max(1, int(round(START_APART_S * fs_hz)))
    starts: list[int] = [avoid]
    for i in np.argsort(-y, kind="stable"):
        if not np.isfinite(y[i]) or len(starts) == MAX_STARTS:
            break
        if all(abs(int(i) - s) >= apart for s in starts):
            starts.append(int(i))
    return starts[1:]


def track_bar(
    frames: Iterable[np.ndarray],
    hands: np.ndarray,
    *,
    body_height_px: float,
    shoulders: np.ndarray | None = None,
    min_score: float = 0.5,
    fs_hz: float = 30.0,
) -> BarTrack:
    """Find the near plate beside the hands and track the bar end through every frame.

    Parameters
    ----------
    frames : iterable of (H, W, 3) uint8 RGB arrays
        Every decoded frame, upright, in order (:func:`hipdrive.video.iter_frames`).
    hands : (n_frames, 2) array
        The lifter's mid-wrist (or the one wrist seen) per frame, pixels; NaN
        where unseen.
    body_height_px : float
        The lifter's stature in pixels (scales the plate radius and the search).
    shoulders : (n_frames, 2) array, optional
        The lifter's mid-shoulder per frame, NaN where unseen: a squat's bar
        rides there, so the search covers it where the hands go unseen.
    min_score : float
        NCC below which a frame is lost.
    fs_hz : float
        Frame rate (sizes the hands' running median, :func:`steady_hands`).

    Returns
    -------
    BarTrack
        The sleeve end where it is seen (:func:`track_sleeve_end`); elsewhere,
        and on clips where it is not found, the hub moved by the last known
        hub-to-tip offset (interpolated over time), so the path has no jumps.
    """
    import cv2

    hands = np.asarray(hands, dtype=np.float64)
    n = len(hands)
    seen = np.isfinite(hands).all(axis=1)
    empty = BarTrack(np.full((n, 2), np.nan), np.zeros(n), -1, float("nan"), "none")
    if not seen.any() or not np.isfinite(body_height_px) or body_height_px <= 0:
        return empty
    r_lo, r_hi = (f * body_height_px for f in PLATE_RADIUS_BH)
    scale = min(1.0, WORK_PLATE_RADIUS_PX / (0.5 * (r_lo + r_hi)))

    def crop(rgb: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
        grey = cv2.cvtColor(rgb[lo[1] : hi[1], lo[0] : hi[0]], cv2.COLOR_RGB2GRAY)
        return cv2.resize(grey, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)

    # The plate is looked for where the hands go, plus a plate's reach: the bar
    # is in the hands whenever it moves and rests where they take it up. It is
    # followed where the hands or the shoulders go: hands unseen at a squat's
    # bottom still have the shoulders the bar rides on.
    lo_h = np.floor(np.maximum(np.nanmin(hands[seen], axis=0) - 1.5 * r_hi, 0)).astype(int)
    hi_h = np.ceil(np.nanmax(hands[seen], axis=0) + 1.5 * r_hi).astype(int)
    carriers = hands if shoulders is None else np.concatenate([hands, shoulders])
    carriers = carriers[np.isfinite(carriers).all(axis=1)]
    lo = np.floor(np.maximum(carriers.min(axis=0) - 1.5 * r_hi, 0)).astype(int)  # <= lo_h
    hi = np.ceil(carriers.max(axis=0) + 1.5 * r_hi).astype(int)  # >= hi_h
    first = int(np.flatnonzero(seen)[np.argmax(hands[seen, 1])])  # hands lowest
    steady = steady_hands(hands, fs_hz)
    starts = [first, *low_frames(steady, fs_hz, avoid=first)]
    anchors = {first: hands[first]} | {s: steady[s] for s in starts[1:]}
    images, searches = [], {}
    for i, rgb in enumerate(frames):
        images.append(crop(rgb, lo, hi))
        if i in anchors:
            searches[i] = crop(rgb, lo_h, hi_h)
    if len(images) != n:
        raise ValueError(f"{len(images)} frames for {n} hand positions")
    work_hands = (hands - lo) * scale
    shift = (lo_h - lo) * scale  # the search image's origin in the tracked ones
    # The plate held: of the circles near the hands, round ones are preferred
    # (a plate stays a circle; a bent arm or a head that looked like one does
    # not), but a plate seen too close or cut by the picture's edge may not be
    # found again as a circle, so where none is round all are taken as they are.
    # Where nothing found at the lowest hands moves with them (a misread wrist
    # put them where the bar is not), other low moments are searched too; a
    # circle found there must stay round, as no hands vouch for it (a circle on
    # a squatter's back moves with the hands as well).
    found: list[_Candidate] = []
    for start in starts:
        tried = _candidates(
            images, searches[start], start, (anchors[start] - lo_h) * scale, work_hands,
            shift=shift, radius_range_px=(r_lo * scale, r_hi * scale), min_score=min_score,
        )  # fmt: skip
        found += tried if start == first else [c for c in tried if c.round]
        if any(c.hand_correlation >= MIN_HAND_CORRELATION for c in found):
            break
    best = _plate_held([c for c in found if c.round] or found)
    if best is None:
        return empty
    hub, score, radius, start = best.hub, best.score, best.radius, best.start
    search = searches[start]
    point = "hub"
    tip = track_sleeve_end(
        images, start, hub, radius, min_score=min_score, search=search, offset=shift
    )
    if tip is not None:
        point = "sleeve_end"
        tip_xy, tip_score = tip
        offset = tip_xy - hub
        ok = np.isfinite(offset).all(axis=1)
        t = np.arange(n)
        fill = np.column_stack([np.interp(t, t[ok], offset[ok, k]) for k in (0, 1)])
        use_tip = np.isfinite(tip_xy).all(axis=1)
        hub = np.where(use_tip[:, None], tip_xy, hub + fill)
        score = np.where(use_tip, tip_score, score)
    return BarTrack(hub / scale + lo, np.clip(score, 0.0, 1.0), start, radius / scale, point)
