"""Quality-control media: per-rep contact sheets and a per-video time-series plot.

These are for a person to look at: did the detector find the lifter, is the
skeleton on the body, did the segmentation put the events where a coach would?
They are made only by the workflow's QC rule (``hipdrive qc-media``); no
numeric module imports this one. It imports matplotlib (Agg) and OpenCV.

Contact sheet
    One row per repetition, five columns: the key frames of the rep. Squat:
    start of descent, bottom, ``v_max1``, ``v_min``, lockout. Deadlift:
    lift-off, ``v_max1``, ``v_min``, lockout, back on the floor. Each frame
    shows the cleaned skeleton (the side used for the kinematics drawn thick),
    the trunk line (mid-hip -> mid-shoulder of that side), a vertical
    reference through the hip and the trunk angle from vertical, as defined in
    :mod:`hipdrive.analysis.kinematics` (0 deg = upright), and what stood for the bar
    (the analysis' ``bar_proxy``): the tracked bar end (keypoint ``bar_end``)
    as a lime ring, else (or where the track was lost and the body carried
    it) the body proxy joint as a lime square; the title
    says which, and why the track was not used (:func:`bar_caption`). Frames
    are cropped to the lifter's bounding box over the whole clip. A video
    without reps gets one row of five evenly spaced frames, so a missed
    detection is still visible.
Time-series plot
    Bar height (the bar the analysis used; with a tracked bar end, the body
    proxy too, in grey, for comparison, and the frames where it carried the
    lost track highlighted), its vertical velocity and the trunk
    angle against time, reps shaded (start -> end), bottoms/lockouts as lines
    and the sticking events (``v_max1``, ``v_min``, ``v_max2``; van den
    Tillaar et al. 2014) as markers on the velocity.
Face blurring (privacy)
    Optional: the head (nose, eyes, ears) is covered by a strong Gaussian blur
    inside a circle around their mean of radius 1.6 x the largest distance
    between two of them (at least 8 % of the crop height), so sheets can be shared.

References
----------
van den Tillaar R, Andersen V, Saeterbakken AH (2014). The existence of a
sticking region in free weight squats. J Hum Kinet 42:63-71.
doi:10.2478/hukin-2014-0061
"""

from __future__ import annotations

import os
import textwrap
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from hipdrive.analysis import AnalysisParams, VideoAnalysis, analyze_frames
from hipdrive.analysis.bar_checks import MAX_SQUAT_BAR_BELOW_SHOULDERS_BH
from hipdrive.contracts.keypoints import (
    CONTRACT_NAMES,
    KEYPOINT_NAMES,
    long_to_frames,
    read_keypoints,
)
from hipdrive.errors import InputError

#: Skeleton segments drawn on the frames (pairs of keypoint-name suffixes).
SEGMENTS = (
    ("shoulder", "elbow"), ("elbow", "wrist"), ("shoulder", "hip"), ("hip", "knee"),
    ("knee", "ankle"), ("ankle", "heel"), ("heel", "big_toe"), ("ankle", "big_toe"),
)  # fmt: skip
HEAD_POINTS = ("nose", "left_eye", "right_eye", "left_ear", "right_ear")
#: Key-frame columns of the per-rep table, per lift, and their panel titles.
KEY_FRAMES = {
    "squat": (
        ("start_frame", "start"), ("bottom_frame", "bottom"), ("v_max1_frame", "v_max1"),
        ("v_min_frame", "v_min"), ("lockout_frame", "lockout"),
    ),
    "deadlift": (
        ("start_frame", "lift-off"), ("v_max1_frame", "v_max1"), ("v_min_frame", "v_min"),
        ("lockout_frame", "lockout"), ("end_frame", "floor"),
    ),
}  # fmt: skip
#: Colour of the bar marker (ring: tracked bar end; square: body proxy joint).
BAR_COLOUR = "#39ff14"
#: QC media switch: ``auto`` makes them for runs below this many videos.
AUTO_MAX_VIDEOS = 50


def qc_media_enabled(
    mode: str | bool, n_videos: int, *, auto_max_videos: int = AUTO_MAX_VIDEOS
) -> bool:
    """Whether a run makes QC media: ``on``, ``off``, or ``auto`` (< ``auto_max_videos`` videos).

    YAML 1.1 reads an unquoted ``on``/``off`` as a boolean, so ``True`` and
    ``False`` mean ``on`` and ``off``.

    Raises
    ------
    InputError
        For any other mode.
    """
    if isinstance(mode, bool):
        return mode
    if mode not in ("auto", "on", "off"):
        raise InputError(f"qc media mode must be auto, on or off, got {mode!r}")
    return mode == "on" or (mode == "auto" and n_videos < auto_max_videos)


def load_analysis(
    keypoints_path: str | os.PathLike, sample: Mapping[str, Any], params: AnalysisParams
) -> tuple[VideoAnalysis, dict[str, Any]]:
    """Re-run the per-video analysis on a keypoint file, keeping every intermediate.

    Returns
    -------
    analysis : hipdrive.analysis.VideoAnalysis
    metadata : dict
        The keypoint file's metadata (width, height, fps...).
    """
    table, metadata = read_keypoints(keypoints_path)
    frames, time_s, xy, score = long_to_frames(table, CONTRACT_NAMES)
    analysis = analyze_frames(
        frames, time_s, xy, score, metadata, sample, params, names=CONTRACT_NAMES
    )
    return analysis, metadata


def read_frames(video: str | os.PathLike, indices: np.ndarray) -> dict[int, np.ndarray]:
    """Decode the upright RGB frames with the given 0-based decoded-frame indices.

    Decodes sequentially and stops after the last wanted frame (clips are
    short; seeking is not frame-exact in every container).
    """
    from hipdrive.video import iter_frames

    wanted = {int(i) for i in np.asarray(indices).ravel() if i >= 0}
    out: dict[int, np.ndarray] = {}
    if not wanted:
        return out
    last = max(wanted)
    for index, _t, rgb in iter_frames(video):
        if index in wanted:
            out[index] = rgb
        if index >= last:
            break
    missing = sorted(wanted - set(out))
    if missing:
        raise InputError(f"{video}: frames {missing[:5]} not decoded (the clip has fewer frames)")
    return out


def _canvas_shape(pts: np.ndarray) -> tuple[int, int]:
    """(height, width) of a blank frame holding every point (imported keypoints, no video)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        peak = np.nanmax(pts, axis=0)
    w, h = (int(np.ceil(v * 1.05)) + 1 if np.isfinite(v) else 2 for v in peak)
    return h, w


def blur_faces(rgb: np.ndarray, head_xy: np.ndarray, *, min_radius_px: float) -> np.ndarray:
    """A copy of ``rgb`` with the head region blurred (privacy).

    Parameters
    ----------
    rgb : ndarray, shape (H, W, 3), uint8
    head_xy : ndarray, shape (n_points, 2)
        Image pixels of nose, eyes and ears (NaN where unseen). Nothing is
        blurred when none is seen.
    min_radius_px : float
        Smallest blur radius, pixels.
    """
    import cv2

    pts = head_xy[np.isfinite(head_xy).all(axis=1)]
    if len(pts) == 0:
        return rgb
    centre = pts.mean(axis=0)
    spread = float(np.max(np.linalg.norm(pts[:, None] - pts[None], axis=-1)))
    radius = max(1.6 * spread, min_radius_px)
    h, w = rgb.shape[:2]
    k = int(radius) | 1
    blurred = cv2.GaussianBlur(rgb, (2 * k + 1, 2 * k + 1), sigmaX=radius / 2)
    yy, xx = np.ogrid[:h, :w]
    mask = (xx - centre[0]) ** 2 + (yy - centre[1]) ** 2 <= radius**2
    out = rgb.copy()
    out[mask] = blurred[mask]
    return out


def lifter_box(xy: np.ndarray, *, shape: tuple[int, int], pad_frac: float = 0.15) -> tuple:
    """Crop box ``(x0, y0, x1, y1)`` around every keypoint of the clip, padded, clipped."""
    h, w = shape
    finite = xy[np.isfinite(xy).all(axis=-1)]
    if len(finite) == 0:
        return 0, 0, w, h
    (x0, y0), (x1, y1) = np.percentile(finite, [0.5, 99.5], axis=0)
    pad = pad_frac * max(x1 - x0, y1 - y0)
    return (
        int(max(0, x0 - pad)), int(max(0, y0 - pad)),
        int(min(w, x1 + pad)), int(min(h, y1 + pad)),
    )  # fmt: skip


def bar_caption(provenance: Mapping[str, Any]) -> str:
    """What stood for the bar in the analysis, and why, for a QC title.

    The tracked bar end is used where it passes the analysis' check
    (``bar_track`` in the provenance: coverage, correlation with the body
    proxy, the drift of its resting level and, in a squat, its level below the
    shoulders; :class:`hipdrive.analysis.AnalysisParams`); otherwise the body
    proxy, and the caption gives the check's figures against its thresholds.
    """
    proxy = provenance.get("bar_proxy")
    check = provenance.get("bar_track")
    figures = "" if not check else f"coverage {check['coverage']:.0%}, r {check['correlation']:.2f}"
    drift = (check or {}).get("rest_drift")
    if drift is not None and np.isfinite(drift):
        figures += f", rest drift {drift:.0%}"
    below = (check or {}).get("bar_below_shoulders_bh")
    if below is not None and np.isfinite(below):
        figures += f", {below:.2f} H below the shoulders"
    if proxy == "bar_end":
        return f"bar: tracked bar end ({figures})" if figures else "bar: tracked bar end"
    if not check:
        return f"bar: body proxy ({proxy}); no bar track"
    if check["coverage"] == 0:
        if str(provenance.get("backend", "")).startswith("import:"):
            return f"bar: body proxy ({proxy}); imported keypoints carry no bar track"
        return f"bar: body proxy ({proxy}); the bar tracker found no plate"
    params = provenance.get("params") or {}
    need = (
        f"; needs >= {params['bar_track_min_coverage']:.0%}, "
        f">= {params['bar_track_min_correlation']:.2f}"
        if "bar_track_min_coverage" in params and "bar_track_min_correlation" in params
        else ""
    )
    if need and "lockout_tolerance" in params and ", rest drift" in figures:
        need += f", <= {params['lockout_tolerance']:.0%}"
    if need and " below the shoulders" in figures:
        need += f", <= {MAX_SQUAT_BAR_BELOW_SHOULDERS_BH:.2f} H"
    return f"bar: body proxy ({proxy}); bar track not used ({figures}{need})"


def _point(xy_frame: np.ndarray, name: str) -> np.ndarray:
    return xy_frame[KEYPOINT_NAMES.index(name)]


def _carried(analysis: VideoAnalysis) -> np.ndarray:
    """Per frame: the used bar track was lost and the body proxy carried it."""
    if analysis.bar_filled is None:
        return np.zeros(len(analysis.frames), bool)
    return np.asarray(analysis.bar_filled, bool)


def _bar_point(analysis: VideoAnalysis, pos: int) -> tuple[np.ndarray, str]:
    """Image position of what stood for the bar at array position ``pos``, and its marker.

    Where a used track was lost and the body proxy carried it, the proxy joint
    (a square), since its motion is what the analysis used there.
    """
    carried = analysis.bar_filled is not None and bool(analysis.bar_filled[pos])
    if analysis.bar_xy is not None and not carried:
        return analysis.bar_xy[pos], "o"
    prov = analysis.provenance
    side = prov["side_used"]
    sides = ("left", "right") if side == "mean" else (side,)
    joint = prov["bar_proxy"] if analysis.bar_xy is None else prov["body_proxy"]
    pts = [_point(analysis.cleaned.xy[pos], f"{sd}_{joint}") for sd in sides]
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmean(pts, axis=0), "s"


def _draw_frame(
    ax, rgb, xy_frame, *, side: str, trunk_deg: float, box, title: str, bar=None
) -> None:
    x0, y0, x1, y1 = box
    ax.imshow(rgb[y0:y1, x0:x1], extent=(x0, x1, y1, y0))
    sides = ("left", "right")
    used = sides if side == "mean" else (side,)
    for sd in sides:
        thick = sd in used
        for a, b in SEGMENTS:
            p, q = _point(xy_frame, f"{sd}_{a}"), _point(xy_frame, f"{sd}_{b}")
            if np.isfinite(p).all() and np.isfinite(q).all():
                ax.plot(
                    [p[0], q[0]], [p[1], q[1]], "-", color="#00e5ff" if thick else "#ffb000",
                    lw=2.2 if thick else 1.0, alpha=1.0 if thick else 0.7,
                )  # fmt: skip
    hip = np.nanmean([_point(xy_frame, f"{sd}_hip") for sd in used], axis=0)
    sho = np.nanmean([_point(xy_frame, f"{sd}_shoulder") for sd in used], axis=0)
    if np.isfinite(hip).all() and np.isfinite(sho).all():
        length = np.linalg.norm(sho - hip)
        ax.plot([hip[0], sho[0]], [hip[1], sho[1]], "-", color="#ff2d55", lw=3)
        ax.plot([hip[0], hip[0]], [hip[1], hip[1] - length], "--", color="white", lw=1.2)
        ax.plot(*hip, "o", color="#ff2d55", ms=4)
        ax.text(
            hip[0], hip[1] + 0.08 * (y1 - y0), f"trunk {trunk_deg:.0f}\u00b0",
            color="white", fontsize=8, ha="center", va="top",
            bbox={"facecolor": "black", "alpha": 0.6, "pad": 1.5, "lw": 0},
        )  # fmt: skip
    if bar is not None and np.isfinite(bar[0]).all():
        (bx, by), marker = bar
        on_top = {"zorder": 5}  # above the trunk label, which may sit on the bar
        ax.plot(bx, by, marker, ms=9, mfc="none", mec="black", mew=3.2, **on_top)  # halo
        ax.plot(bx, by, marker, ms=9, mfc="none", mec=BAR_COLOUR, mew=1.8, **on_top)
        ax.plot(bx, by, "+", ms=5, color=BAR_COLOUR, mew=1.2, **on_top)
    ax.set_xlim(x0, x1)
    ax.set_ylim(y1, y0)
    ax.set_title(title, fontsize=7, linespacing=1.1)
    ax.set_axis_off()


def _frame_rows(reps_table: pd.DataFrame, lift: str, frames: np.ndarray) -> list[list]:
    """(decoded frame or None, title) per panel, one list per rep (or one list without reps)."""
    if len(reps_table) == 0:
        picks = np.linspace(0, len(frames) - 1, 5).round().astype(int)
        return [[(int(frames[p]), f"no rep\nframe {int(frames[p])}") for p in picks]]
    rows = []
    for _, rep in reps_table.iterrows():
        row = []
        for col, label in KEY_FRAMES[lift]:
            value = rep[col]
            if pd.isna(value):
                row.append((None, f"rep {int(rep['rep'])}\nno {label}"))
            else:
                row.append((int(value), f"rep {int(rep['rep'])}: {label}\nframe {int(value)}"))
        rows.append(row)
    return rows


def contact_sheet(
    video: str | os.PathLike | None,
    analysis: VideoAnalysis,
    reps_table: pd.DataFrame,
    out: str | os.PathLike,
    *,
    blur: bool = True,
    panel_in: float = 2.2,
) -> Path:
    """Write the contact sheet of one video (one row of key frames per rep).

    Parameters
    ----------
    video : path or None
        The video the keypoints came from; None (keypoints imported without
        their video) draws the skeletons on a blank background.
    analysis : hipdrive.analysis.VideoAnalysis
        From :func:`load_analysis` (cleaned keypoints, kinematics, frames).
    reps_table : pandas.DataFrame
        The video's per-rep table (decoded-frame event columns).
    out : path
        Image file to write (PNG or JPEG, by suffix).
    blur : bool
        Blur faces (:func:`blur_faces`).
    panel_in : float
        Height of one panel, inches.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    lift = analysis.provenance["lift"]
    side = analysis.provenance["side_used"]
    frames = analysis.frames
    xy = analysis.cleaned.xy
    trunk = analysis.kinematics["trunk_angle_deg"]
    rows = _frame_rows(reps_table, lift, frames)
    wanted = np.array([f for row in rows for f, _ in row if f is not None], dtype=int)
    # the bar end may stick out beyond the body (a long sleeve): keep it in the crop
    extent = (
        xy.reshape(-1, 2)
        if analysis.bar_xy is None
        else np.vstack([xy.reshape(-1, 2), analysis.bar_xy])
    )
    if video is None:
        blank = np.full((*_canvas_shape(extent), 3), 48, np.uint8)
        images, blur = dict.fromkeys(wanted.tolist(), blank), False
    else:
        images = read_frames(video, wanted)
    shape = next(iter(images.values())).shape[:2] if images else (1, 1)
    box = lifter_box(extent, shape=shape)
    aspect = (box[2] - box[0]) / max(box[3] - box[1], 1)
    fig, axes = plt.subplots(
        len(rows), 5, figsize=(5 * panel_in * aspect + 0.2, len(rows) * (panel_in + 0.3)),
        squeeze=False,
    )  # fmt: skip
    head = [KEYPOINT_NAMES.index(n) for n in HEAD_POINTS]
    for r, row in enumerate(rows):
        for c, (frame, title) in enumerate(row):
            ax = axes[r, c]
            if frame is None:
                ax.text(0.5, 0.5, title, ha="center", va="center", fontsize=8)
                ax.set_axis_off()
                continue
            pos = int(np.clip(np.searchsorted(frames, frame), 0, len(frames) - 1))
            rgb = images[frame]
            if blur:
                rgb = blur_faces(rgb, xy[pos, head], min_radius_px=0.08 * (box[3] - box[1]))
            _draw_frame(ax, rgb, xy[pos], side=side, trunk_deg=trunk[pos], box=box, title=title,
                        bar=_bar_point(analysis, pos))  # fmt: skip
    marker = "lime ring" if analysis.bar_xy is not None else "lime square"
    if _carried(analysis).any():
        marker += (f" (a lime square on the {analysis.provenance['body_proxy']} where the track "
                   "was lost and the body carried it)")  # fmt: skip
    caption = textwrap.fill(  # a narrow sheet (one tall lifter) must not clip the line
        f"{bar_caption(analysis.provenance)}; marked as a {marker}",
        width=max(40, int(fig.get_figwidth() * 15)),
    )
    no_video = "; no video: skeletons on a blank background" if video is None else ""
    title = textwrap.fill(
        f"{analysis.provenance['video_id']} ({lift}; facing {analysis.provenance['facing']}, "
        f"side {side}; {len(reps_table)} rep(s){no_video})",
        width=max(40, int(fig.get_figwidth() * 15)),
    )
    fig.suptitle(
        f"{title}\n{caption}",
        fontsize=9,
    )
    fig.tight_layout()
    return _save(fig, out, dpi=110)


def timeseries_plot(
    analysis: VideoAnalysis, reps_table: pd.DataFrame, out: str | os.PathLike
) -> Path:
    """Write the per-video plot: bar-proxy height, velocity and trunk angle vs time.

    A bar track the analysis rejected is drawn dashed beside the body proxy
    that stood for the bar; where a used track was lost and the body proxy
    carried it, the bar's height and velocity are highlighted. Reps are
    shaded from start to end; bottom (squat) / lift-off (deadlift) and
    lockout lines; the sticking events ``v_max1`` (triangle up), ``v_min`` (triangle down) and
    ``v_max2`` (square) marked on the velocity.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    kin = analysis.kinematics
    t = kin.time_s
    frames = analysis.frames
    prov = analysis.provenance
    fig, axes = plt.subplots(3, 1, figsize=(8, 6), sharex=True)
    series = (
        ("bar_height_bh", "bar height (bh)"),
        ("bar_velocity_bh_s", "bar velocity (bh/s)"),
        ("trunk_angle_deg", "trunk angle (deg)"),
    )
    for ax, (name, label) in zip(axes, series, strict=True):
        ax.plot(t, kin[name], color="black", lw=1.2)
        ax.set_ylabel(label, fontsize=8)
        ax.grid(alpha=0.3)
    axes[1].axhline(0, color="grey", lw=0.8)
    used = (
        "tracked bar end" if prov["bar_proxy"] == "bar_end" else f"body proxy ({prov['bar_proxy']})"
    )
    axes[0].lines[0].set_label(f"{used}: used")
    body = prov.get("body_proxy")
    carried = _carried(analysis)
    if prov["bar_proxy"] == "bar_end" and body and f"{body}_height_bh" in kin.series:
        role = "carries the lost track" if carried.any() else "not used"
        axes[0].plot(t, kin[f"{body}_height_bh"], color="grey", lw=1.0, ls="--",
                     label=f"body proxy ({body}): {role}")  # fmt: skip
    if carried.any():  # there the bar moved as the body proxy did, with its error
        for ax, name in zip(axes[:2], ("bar_height_bh", "bar_velocity_bh_s"), strict=True):
            ax.plot(t, np.where(carried, kin[name], np.nan), color="tab:cyan", lw=4, alpha=0.6,
                    solid_capstyle="butt", zorder=1.5,
                    label=f"track lost: the {body}'s motion used")  # fmt: skip
    if analysis.rejected_bar_height_bh is not None:
        axes[0].plot(t, analysis.rejected_bar_height_bh, color="tab:orange", lw=1.0, ls="--",
                     label="tracked bar end: not used (see the title)")  # fmt: skip
    axes[0].legend(fontsize=7, loc="best", framealpha=0.8)

    def time_of(frame) -> float:
        pos = int(np.clip(np.searchsorted(frames, int(frame)), 0, len(frames) - 1))
        return float(t[pos])

    markers = (("v_max1_frame", "^", "v_max1"), ("v_min_frame", "v", "v_min"),
               ("v_max2_frame", "s", "v_max2"))  # fmt: skip
    labelled = set()
    for _, rep in reps_table.iterrows():
        t0, t1 = time_of(rep["start_frame"]), time_of(rep["end_frame"])
        for ax in axes:
            ax.axvspan(t0, t1, color="tab:blue", alpha=0.12)
            ax.axvline(time_of(rep["bottom_frame"]), color="tab:green", lw=0.9, ls="--")
            ax.axvline(time_of(rep["lockout_frame"]), color="tab:purple", lw=0.9, ls=":")
        axes[0].text(t0, 1.0, f" rep {int(rep['rep'])}", transform=axes[0].get_xaxis_transform(),
                     va="top", fontsize=7)  # fmt: skip
        for col, marker, label in markers:
            if not pd.isna(rep[col]):
                tm = time_of(rep[col])
                pos = int(np.clip(np.searchsorted(t, tm), 0, len(t) - 1))
                axes[1].plot(tm, kin["bar_velocity_bh_s"][pos], marker, color="tab:red",
                             label=None if label in labelled else label)  # fmt: skip
                labelled.add(label)
    if labelled or carried.any():
        axes[1].legend(fontsize=7, loc="best", ncol=4, framealpha=0.8)
    axes[-1].set_xlabel("time (s)")
    fig.suptitle(
        f"{prov['video_id']}: {len(reps_table)} rep(s); shaded = rep, dashed = "
        f"{'bottom' if prov['lift'] == 'squat' else 'lift-off'}, dotted = lockout\n"
        f"{bar_caption(prov)}",
        fontsize=9,
    )
    fig.tight_layout()
    return _save(fig, out, dpi=100)


def excluded_notice(video_id: str, excluded: Mapping[str, str], out: str | os.PathLike) -> Path:
    """A small image saying that (and why) a video was excluded, in place of its QC media.

    Why: the QC folder then has one entry per manifest video, and a reviewer
    leafing through it sees the reason where the contact sheet would be.
    """

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig = plt.figure(figsize=(8, 2.2))
    text = textwrap.fill(f"{excluded['reason']}", width=95)
    fig.text(0.02, 0.85, f"{video_id}: EXCLUDED at the {excluded['stage']} stage", fontsize=11,
             weight="bold", va="top")  # fmt: skip
    fig.text(0.02, 0.6, text, fontsize=8, va="top", family="monospace")
    return _save(fig, out, dpi=100)


def _save(fig, out: str | os.PathLike, *, dpi: int) -> Path:
    """Write a figure (folders created) and free it."""
    import matplotlib.pyplot as plt

    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=dpi)
    plt.close(fig)
    return out
