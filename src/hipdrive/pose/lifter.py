"""Choose the lifter among the people a multi-person backend detects.

Gym footage often shows spotters, coaches or passers-by. The pose stage runs
headless, so the lifter is chosen by rules a person would use:

1. **Link** detections into tracks from frame to frame (Hungarian assignment
   on box overlap, :func:`scipy.optimize.linear_sum_assignment`).
2. **Join** tracks that continue one another after a detection gap longer
   than the linking window (disjoint in time, close in space).
3. **Score** each track (:func:`track_features`): the lifter is in view most
   of the time, large, near the centre of the picture, and moves up and down
   (a squat or deadlift moves the shoulders by roughly a third of the body's
   height; people walking past move sideways).

The lifter is written as ``track`` 0; others (if asked for) as 1, 2, ... in
order of their score. There is no standard for this choice; the rule and its
features are recorded in the metadata (``lifter_selection``) so a user can see
why a track was chosen.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy.optimize import linear_sum_assignment

from hipdrive.pose.interface import People

__all__ = ["box_iou", "link_tracks", "select_lifter", "track_features"]

#: Keypoints above this score count when drawing a person's box.
MIN_KEYPOINT_SCORE = 0.3


def person_boxes(
    xy: np.ndarray, score: np.ndarray, *, min_score: float = MIN_KEYPOINT_SCORE
) -> np.ndarray:
    """Boxes ``(x0, y0, x1, y1)`` around each person's confident keypoints.

    Parameters
    ----------
    xy : (n_people, n_keypoints, 2) array
    score : (n_people, n_keypoints) array

    Returns
    -------
    (n_people, 4) array
        NaN for a person without any keypoint scoring ``>= min_score``.
    """
    ok = (score >= min_score) & np.isfinite(xy).all(axis=-1)
    x = np.where(ok, xy[..., 0], np.nan)
    y = np.where(ok, xy[..., 1], np.nan)
    with np.errstate(invalid="ignore"), _quiet_nan():
        return np.stack(
            [
                np.nanmin(x, axis=1),
                np.nanmin(y, axis=1),
                np.nanmax(x, axis=1),
                np.nanmax(y, axis=1),
            ],
            axis=-1,
        )


class _quiet_nan:
    """Silence numpy's "All-NaN slice" warnings (an undetected person is expected)."""

    def __enter__(self):
        import warnings

        self._ctx = warnings.catch_warnings()
        self._ctx.__enter__()
        warnings.simplefilter("ignore", RuntimeWarning)

    def __exit__(self, *exc):
        self._ctx.__exit__(*exc)


def box_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Intersection over union of every box in ``a`` (n, 4) with every box in ``b`` (m, 4)."""
    a = np.asarray(a, dtype=np.float64)[:, None, :]
    b = np.asarray(b, dtype=np.float64)[None, :, :]
    w = np.clip(np.minimum(a[..., 2], b[..., 2]) - np.maximum(a[..., 0], b[..., 0]), 0, None)
    h = np.clip(np.minimum(a[..., 3], b[..., 3]) - np.maximum(a[..., 1], b[..., 1]), 0, None)
    inter = w * h
    area = lambda z: (z[..., 2] - z[..., 0]) * (z[..., 3] - z[..., 1])  # noqa: E731
    union = area(a) + area(b) - inter
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.nan_to_num(inter / union)


def link_tracks(
    people: Sequence[People], *, min_iou: float = 0.2, max_gap_frames: int = 30
) -> list[dict[int, int]]:
    """Link per-frame detections into tracks by box overlap.

    Parameters
    ----------
    people : sequence of People
        Per-frame detections.
    min_iou : float, default 0.2
        Smallest box overlap that continues a track.
    max_gap_frames : int, default 30
        A track unseen for longer than this is closed.

    Returns
    -------
    list of dict
        One ``{frame: detection index}`` per track, in order of first appearance.
    """
    tracks: list[dict[int, int]] = []
    last_box: list[np.ndarray] = []
    last_seen: list[int] = []
    for f, (xy, score) in enumerate(people):
        if len(score) == 0:
            continue
        boxes = person_boxes(xy, score)
        valid = np.flatnonzero(np.isfinite(boxes).all(axis=1))
        open_ids = [t for t in range(len(tracks)) if f - last_seen[t] <= max_gap_frames]
        assigned: set[int] = set()
        if open_ids and len(valid):
            iou = box_iou(np.array([last_box[t] for t in open_ids]), boxes[valid])
            rows, cols = linear_sum_assignment(-iou)
            for r, c in zip(rows, cols, strict=True):
                if iou[r, c] >= min_iou:
                    t, d = open_ids[r], int(valid[c])
                    tracks[t][f] = d
                    last_box[t], last_seen[t] = boxes[d], f
                    assigned.add(d)
        for d in valid:
            if int(d) not in assigned:
                tracks.append({f: int(d)})
                last_box.append(boxes[d])
                last_seen.append(f)
    return tracks


def _dense(
    people: Sequence[People], track: dict[int, int], n_kp: int
) -> tuple[np.ndarray, np.ndarray]:
    n = len(people)
    xy = np.full((n, n_kp, 2), np.nan, dtype=np.float32)
    score = np.zeros((n, n_kp), dtype=np.float32)
    for f, d in track.items():
        xy[f] = people[f][0][d]
        score[f] = people[f][1][d]
    return xy, score


def track_features(
    xy: np.ndarray, score: np.ndarray, *, width: int, height: int
) -> dict[str, float]:
    """Features of one track that tell a lifter from a bystander.

    Parameters
    ----------
    xy : (n_frames, n_keypoints, 2) array
        The track's keypoints (NaN where it is not detected).
    score : (n_frames, n_keypoints) array
    width, height : int
        Image size in pixels.

    Returns
    -------
    dict
        ``presence`` (fraction of frames detected), ``size`` (median box
        height / image height), ``centrality`` (1 - median distance of the box
        centre from the image centre / half the image diagonal), ``vertical``
        (5th-95th percentile range of the box top, in median box heights: the
        head and shoulders move down and up in a squat or deadlift) and their
        product ``score``, used to rank tracks. The weights are heuristic: no
        published rule exists for picking the lifter.
    """
    boxes = person_boxes(xy, score)
    seen = np.isfinite(boxes).all(axis=1)
    presence = float(seen.mean()) if len(seen) else 0.0
    if not seen.any():
        return {"presence": 0.0, "size": 0.0, "centrality": 0.0, "vertical": 0.0, "score": 0.0}
    b = boxes[seen]
    box_h = np.median(b[:, 3] - b[:, 1])
    size = float(box_h / height)
    centre = np.column_stack(
        [(b[:, 0] + b[:, 2]) / 2 - width / 2, (b[:, 1] + b[:, 3]) / 2 - height / 2]
    )
    centrality = float(
        1 - np.median(np.hypot(centre[:, 0], centre[:, 1])) / (np.hypot(width, height) / 2)
    )
    top = b[:, 1]
    vertical = float(np.subtract(*np.percentile(top, [95, 5])) / box_h) if box_h > 0 else 0.0
    score_ = presence * size * (0.5 + centrality) * (0.25 + min(vertical, 1.0))
    return {
        "presence": round(presence, 4),
        "size": round(size, 4),
        "centrality": round(centrality, 4),
        "vertical": round(vertical, 4),
        "score": round(score_, 6),
    }


def _continues(a: np.ndarray, b: np.ndarray, score_a: np.ndarray, score_b: np.ndarray) -> bool:
    """Whether track ``b`` (disjoint in time) continues track ``a`` across a gap."""
    seen_a = np.flatnonzero(score_a.max(axis=1) > 0)
    seen_b = np.flatnonzero(score_b.max(axis=1) > 0)
    if not len(seen_a) or not len(seen_b):
        return False
    if seen_a[-1] < seen_b[0]:
        fa, fb = seen_a[-1], seen_b[0]
    elif seen_b[-1] < seen_a[0]:
        fa, fb = seen_a[0], seen_b[-1]
    else:
        return False  # overlapping in time: two different people
    box_a = person_boxes(a[fa : fa + 1], score_a[fa : fa + 1])[0]
    box_b = person_boxes(b[fb : fb + 1], score_b[fb : fb + 1])[0]
    if not (np.isfinite(box_a).all() and np.isfinite(box_b).all()):
        return False
    ha = box_a[3] - box_a[1]
    shift = np.hypot(*((box_a[:2] + box_a[2:]) / 2 - (box_b[:2] + box_b[2:]) / 2))
    return bool(shift <= 0.5 * ha)


def _merge_fragments(
    tracks: list[tuple[np.ndarray, np.ndarray]],
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Join tracks that continue one another after a detection gap.

    ``tracks`` are in order of first appearance; each is appended to the
    earlier merged track it continues (disjoint in time, box centre within
    half a box height across the gap), else kept as a new person.
    """
    merged: list[tuple[np.ndarray, np.ndarray]] = []
    for xy, score in tracks:
        for m_xy, m_score in merged:
            if _continues(m_xy, xy, m_score, score):
                seen = score.max(axis=1) > 0
                m_xy[seen], m_score[seen] = xy[seen], score[seen]
                break
        else:
            merged.append((xy, score))
    return merged


def select_lifter(
    people: Sequence[People],
    *,
    width: int,
    height: int,
    keep_others: bool = False,
) -> tuple[list[tuple[np.ndarray, np.ndarray]], dict[str, Any]]:
    """Pick the lifter's track among every person detected in a video.

    Parameters
    ----------
    people : sequence of People
        Per-frame detections from :meth:`PoseBackend.predict`.
    width, height : int
        Image size in pixels (upright).
    keep_others : bool, default False
        Return the other tracks too (ranked by :func:`track_features` score).

    Returns
    -------
    tracks : list of (xy, score)
        Dense ``(n_frames, n_keypoints, 2)`` and ``(n_frames, n_keypoints)``
        arrays; element 0 is the lifter. Frames without the lifter have NaN
        coordinates and score 0.
    info : dict
        ``n_frames_lost`` (frames without the lifter), ``n_tracks`` (people
        tracks found) and ``lifter_selection`` (the rule and the chosen
        track's features) for the metadata.
    """
    n = len(people)
    n_kp = people[0][1].shape[1] if n else 0
    max_people = max((len(s) for _, s in people), default=0)
    if max_people <= 1:
        # Single-person backend (MediaPipe) or a lone lifter: no tracking needed.
        ranked = [_dense(people, {f: 0 for f in range(n) if len(people[f][1])}, n_kp)]
        rule = "single person per frame"
    else:
        dense = _merge_fragments([_dense(people, t, n_kp) for t in link_tracks(people)])
        feats = [track_features(xy, s, width=width, height=height) for xy, s in dense]
        order = np.argsort([-f["score"] for f in feats], kind="stable")
        ranked = [dense[i] for i in order]
        rule = "max presence x size x centrality x vertical motion"
    if not ranked:
        ranked = [(np.full((n, n_kp, 2), np.nan, np.float32), np.zeros((n, n_kp), np.float32))]
    lifter_xy, lifter_score = ranked[0]
    lost = int(np.sum(lifter_score.max(axis=1, initial=0.0) <= 0)) if n else 0
    info = {
        "n_frames_lost": lost,
        "n_tracks": len(ranked) if max_people else 0,
        "lifter_selection": {
            "rule": rule,
            **track_features(lifter_xy, lifter_score, width=width, height=height),
        },
    }
    return (ranked if keep_others else ranked[:1]), info
