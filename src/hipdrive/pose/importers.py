"""Import keypoints made by other tools into the hipdrive keypoint contract.

So a user can re-analyse footage already run through another pose tool
without re-running pose estimation. Three formats:

``openpose``
    A folder of per-frame ``*_keypoints.json`` files as written by OpenPose's
    ``--write_json`` (BODY_25 or COCO-18 model). The frame number is the last
    integer in the file name (``clip_000000000012_keypoints.json`` -> 12).
``mmpose-json``
    The prediction JSON of ``MMPoseInferencer(..., pred_out_dir=...)``: for a
    video, one file holding ``[{"frame_id": i, "instances": [...]}, ...]``; for
    images, a folder of files each holding a list of instances. Each instance
    has ``keypoints`` ([[x, y], ...]) and ``keypoint_scores``. COCO-17,
    Halpe-26 and COCO-WholeBody-133 layouts are recognised by their length.
``coco17-csv``
    One row per frame: ``frame_id`` then ``<name>_x, <name>_y`` for the 17
    COCO names (optionally ``<name>_score``), an empty cell for a missing
    point, as in ``deadlift_bichraix_*_joints_yolopose_coco17.csv``.
``dlc-csv``
    DeepLabCut's CSV (``save_as_csv=True``): three header rows (scorer,
    bodyparts, coords) or four for multi-animal projects (with individuals),
    one row per frame, read by pandas as DeepLabCut writes it.
``movement-netcdf``
    A `movement <https://movement.neuroinformatics.dev>`_ poses dataset saved
    with ``ds.to_netcdf(...)``: the way in for everything movement loads
    (SLEAP, DeepLabCut .h5, LightningPose, Anipose), without its dependencies
    here.

DeepLabCut and movement name keypoints as their project does: the names that
are hipdrive's (COCO-17 and the feet: ``left_shoulder``, ``right_heel``...)
are taken, the others are listed in the metadata (``keypoints_not_used``).

All keep the lifter as ``track`` 0 (:func:`hipdrive.pose.lifter.select_lifter`
when a frame holds several people) and write through
:func:`hipdrive.contracts.keypoints.write_keypoints`. Timestamps come from the video's
presentation timestamps when ``video`` is given, else from ``frame / fps``.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from hipdrive.contracts.files import sha256_file
from hipdrive.contracts.keypoints import COCO17, KEYPOINT_NAMES, frames_to_long, write_keypoints
from hipdrive.contracts.manifest import KEYPOINT_FORMATS
from hipdrive.errors import InputError
from hipdrive.pose.interface import MMPOSE_LAYOUTS, People, remap_people

__all__ = [
    "IMPORT_FORMATS",
    "import_keypoints",
    "import_or_exclude",
    "import_study",
    "read_coco17_csv",
    "read_dlc_csv",
    "read_mmpose_json",
    "read_movement_netcdf",
    "read_openpose",
]

IMPORT_FORMATS = KEYPOINT_FORMATS

_K = len(KEYPOINT_NAMES)

#: OpenPose BODY_25 index of each hipdrive keypoint (OpenPose's ``Neck`` and
#: ``MidHip`` and the small toes have no hipdrive counterpart and are dropped).
OPENPOSE_BODY25 = {
    "nose": 0, "right_shoulder": 2, "right_elbow": 3, "right_wrist": 4,
    "left_shoulder": 5, "left_elbow": 6, "left_wrist": 7, "right_hip": 9,
    "right_knee": 10, "right_ankle": 11, "left_hip": 12, "left_knee": 13,
    "left_ankle": 14, "right_eye": 15, "left_eye": 16, "right_ear": 17,
    "left_ear": 18, "left_big_toe": 19, "left_heel": 21, "right_big_toe": 22,
    "right_heel": 24,
}  # fmt: skip
#: OpenPose COCO-18 (the older ``--model_pose COCO``): no feet.
OPENPOSE_COCO18 = {
    "nose": 0, "right_shoulder": 2, "right_elbow": 3, "right_wrist": 4,
    "left_shoulder": 5, "left_elbow": 6, "left_wrist": 7, "right_hip": 8,
    "right_knee": 9, "right_ankle": 10, "left_hip": 11, "left_knee": 12,
    "left_ankle": 13, "right_eye": 14, "left_eye": 15, "right_ear": 16,
    "left_ear": 17,
}  # fmt: skip


def _frame_number(path: Path) -> int:
    numbers = re.findall(r"\d+", path.name)
    if not numbers:
        raise InputError(f"{path}: no frame number in the file name")
    return int(numbers[-1])


def _load_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"{path}: not readable JSON ({exc})") from exc


def read_openpose(src: str | os.PathLike) -> tuple[np.ndarray, list[People]]:
    """Read a folder of OpenPose ``*_keypoints.json`` files.

    Parameters
    ----------
    src : path-like
        The folder given to OpenPose's ``--write_json``.

    Returns
    -------
    frames : (n,) int array
        Frame numbers from the file names, ascending.
    people : list of People
        Per file, every person's keypoints in hipdrive order; OpenPose's
        ``(0, 0, 0)`` for an undetected point becomes NaN with score 0.

    Notes
    -----
    OpenPose's third value per point is its part-confidence-map peak
    (0..1; Cao et al. 2021), used as the score.

    References
    ----------
    Cao, Z., Hidalgo, G., Simon, T., Wei, S.-E., & Sheikh, Y. (2021).
    OpenPose: Realtime multi-person 2D pose estimation using part affinity
    fields. IEEE TPAMI 43(1), 172-186. https://doi.org/10.1109/TPAMI.2019.2929257
    """
    folder = Path(src)
    if not folder.is_dir():
        raise InputError(f"{folder}: OpenPose import expects the folder of *_keypoints.json files")
    files = sorted(folder.glob("*_keypoints.json"), key=_frame_number)
    if not files:
        raise InputError(f"{folder}: no *_keypoints.json files (OpenPose --write_json output)")
    frames, people = [], []
    for path in files:
        data = _load_json(path)
        persons = data.get("people") if isinstance(data, dict) else None
        if persons is None:
            raise InputError(f"{path}: no 'people' list; not an OpenPose keypoint file")
        flat = [p.get("pose_keypoints_2d") or [] for p in persons]
        sizes = {len(f) for f in flat}
        if not flat:
            arr = np.zeros((0, 25, 3))
        elif sizes == {75} or sizes == {54}:
            arr = np.asarray(flat, dtype=np.float64).reshape(len(flat), -1, 3)
        else:
            raise InputError(
                f"{path}: pose_keypoints_2d has {sorted(sizes)} values per person; "
                "expected 75 (BODY_25) or 54 (COCO-18)"
            )
        mapping = OPENPOSE_BODY25 if arr.shape[1] == 25 else OPENPOSE_COCO18
        people.append(remap_people(arr[..., :2], arr[..., 2], mapping))
        frames.append(_frame_number(path))
    frames_arr = np.array(frames)
    if np.any(np.diff(frames_arr) == 0):
        dup = frames_arr[np.flatnonzero(np.diff(frames_arr) == 0)[0]]
        raise InputError(f"{folder}: two files for frame {dup}")
    return frames_arr, people


def _mmpose_instances(instances: Any, where: str) -> People:
    if not isinstance(instances, list):
        raise InputError(f"{where}: expected a list of instances")
    if not instances:
        return np.zeros((0, _K, 2), np.float32), np.zeros((0, _K), np.float32)
    try:
        xy = np.asarray([inst["keypoints"] for inst in instances], dtype=np.float64)
        score = np.asarray([inst["keypoint_scores"] for inst in instances], dtype=np.float64)
    except (KeyError, TypeError, ValueError) as exc:
        raise InputError(
            f"{where}: instances need 'keypoints' and 'keypoint_scores' ({exc})"
        ) from exc
    if xy.ndim != 3 or xy.shape[-1] != 2 or score.shape != xy.shape[:2]:
        raise InputError(
            f"{where}: keypoints of shape {xy.shape} and scores of shape {score.shape}"
        )
    layout = MMPOSE_LAYOUTS.get(xy.shape[1])
    if layout is None:
        raise InputError(
            f"{where}: {xy.shape[1]} keypoints per instance; known layouts: "
            "17 (COCO), 26 (Halpe), 133 (COCO-WholeBody)"
        )
    return remap_people(xy, score, layout)


def read_mmpose_json(src: str | os.PathLike) -> tuple[np.ndarray, list[People]]:
    """Read MMPose's prediction JSON (video file, or a folder of per-image files).

    Parameters
    ----------
    src : path-like
        ``MMPoseInferencer``'s ``pred_out_dir`` output: the ``<video>.json``
        file, or the folder of per-image JSON files (frame number = last
        integer in each name).

    Returns
    -------
    frames : (n,) int array
    people : list of People

    Notes
    -----
    Scores are MMPose's ``keypoint_scores`` (for RTMPose, the SimCC
    classification maximum; for heat-map models, the heat-map peak; Jiang et
    al. 2023). They are clipped to 0..1.

    References
    ----------
    Jiang, T., Lu, P., Zhang, L., Ma, N., Han, R., Lyu, C., Li, Y., & Chen, K.
    (2023). RTMPose: Real-time multi-person pose estimation based on MMPose.
    arXiv:2303.07399. https://doi.org/10.48550/arXiv.2303.07399
    """
    src = Path(src)
    if src.is_dir():
        files = sorted(src.glob("*.json"), key=_frame_number)
        if not files:
            raise InputError(f"{src}: no .json files (MMPoseInferencer pred_out_dir output)")
        frames = np.array([_frame_number(f) for f in files])
        return frames, [_mmpose_instances(_load_json(f), str(f)) for f in files]
    if not src.is_file():
        raise InputError(f"{src}: no such file or folder")
    data = _load_json(src)
    if isinstance(data, list) and data and isinstance(data[0], dict) and "instances" in data[0]:
        frames = np.array([int(d.get("frame_id", i)) for i, d in enumerate(data)])
        people = [
            _mmpose_instances(d["instances"], f"{src} frame_id {f}")
            for d, f in zip(data, frames, strict=True)
        ]
        order = np.argsort(frames, kind="stable")
        return frames[order], [people[i] for i in order]
    if isinstance(data, list):  # a single image's prediction
        return np.array([0]), [_mmpose_instances(data, str(src))]
    raise InputError(f"{src}: neither a list of frames with 'instances' nor a list of instances")


#: Names a frame-number column goes by in other tools' CSV exports.
FRAME_COLUMNS = ("frame_id", "frame", "frame_idx", "frame_index", "frame_number", "frame_no")
#: COCO-17 points a CSV may leave out: the face (many exports drop it); the body must be there.
OPTIONAL_COCO17 = ("nose", "left_eye", "right_eye", "left_ear", "right_ear")


def read_coco17_csv(src: str | os.PathLike) -> tuple[np.ndarray, list[People]]:
    """Read a COCO-17 CSV (``frame_id, <name>_x, <name>_y[, <name>_score]``).

    Tolerant where that is safe: the separator is detected (comma, semicolon,
    tab...), the frame column may be any of :data:`FRAME_COLUMNS`, and the
    face points (:data:`OPTIONAL_COCO17`) may be absent (missing points).

    Returns
    -------
    frames : (n,) int array
    people : list of People
        One person per row; empty cells are missing points (NaN, score 0).

    Notes
    -----
    Files without ``<name>_score`` columns (such as YOLO-pose exports that
    keep only points above the tool's own confidence threshold) give score 1
    to every present point: "kept by the source tool", not a calibrated
    confidence. Score gating downstream then only removes missing points.
    """
    src = Path(src)
    try:
        table = pd.read_csv(src, sep=None, engine="python")  # csv.Sniffer finds the separator
    except (OSError, ValueError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise InputError(f"{src}: not a readable CSV ({exc})") from exc
    table.columns = [str(c).strip().lower() for c in table.columns]
    frame_col = next((c for c in FRAME_COLUMNS if c in table.columns), None)
    for name in OPTIONAL_COCO17:
        for axis in "xy":
            if f"{name}_{axis}" not in table.columns:
                table[f"{name}_{axis}"] = np.nan
    needed = [f"{n}_{a}" for n in COCO17 for a in "xy"]
    missing = [c for c in needed if c not in table.columns]
    if frame_col is None or missing:
        found = ", ".join(map(str, table.columns[:6])) + (" ..." if len(table.columns) > 6 else "")
        raise InputError(
            f"{src}: not a COCO-17 CSV; missing column(s) "
            f"{(['frame_id (or ' + ', '.join(FRAME_COLUMNS[1:]) + ')'] if frame_col is None else []) + missing}"
            f"; found: {found}"
        )
    try:
        values = table[needed].to_numpy(dtype=np.float64).reshape(len(table), len(COCO17), 2)
        frames = table[frame_col].to_numpy(dtype=np.int64)
    except ValueError as exc:
        raise InputError(f"{src}: non-numeric coordinates or frame numbers ({exc})") from exc
    score_cols = [f"{n}_score" for n in COCO17]
    present = np.isfinite(values).all(axis=-1)
    if all(c in table.columns for c in score_cols if c.removesuffix("_score") not in OPTIONAL_COCO17):
        for c in score_cols:
            if c not in table.columns:
                table[c] = 0.0
        score = table[score_cols].to_numpy(dtype=np.float64)
    else:
        score = present.astype(np.float64)
    coco = {n: i for i, n in enumerate(COCO17)}
    xy, sc = remap_people(values, np.where(present, score, 0.0), coco)
    if np.any(np.diff(frames) <= 0):
        bad = int(np.flatnonzero(np.diff(frames) <= 0)[0]) + 1
        raise InputError(f"{src}: row {bad + 2}: frame_id {frames[bad]} does not increase")
    return frames, [(xy[i : i + 1], sc[i : i + 1]) for i in range(len(frames))]


def _by_name(names: list[str], src: Path) -> tuple[dict[str, int], list[str]]:
    """hipdrive name -> source index for the names that are hipdrive's; the rest."""
    known = {n: i for i, n in enumerate(names) if n in KEYPOINT_NAMES}
    if not known:
        raise InputError(
            f"{src}: none of its keypoints ({', '.join(names[:8])}{' ...' if len(names) > 8 else ''}) "
            f"is a hipdrive keypoint; rename them to {', '.join(KEYPOINT_NAMES[5:13])} ..."
        )
    return known, [n for n in names if n not in known]


def _per_frame(xy: np.ndarray, score: np.ndarray, known: dict[str, int]) -> list[People]:
    """(frames, people, keypoints, 2) and (..., keypoints) source arrays -> People per frame,
    remapped to hipdrive's keypoints in one call."""
    n, p = xy.shape[:2]
    out_xy, out_s = remap_people(xy.reshape(n * p, *xy.shape[2:]), score.reshape(n * p, -1), known)
    out_xy, out_s = out_xy.reshape(n, p, *out_xy.shape[1:]), out_s.reshape(n, p, -1)
    return [(out_xy[t], out_s[t]) for t in range(n)]


def read_dlc_csv(src: str | os.PathLike) -> tuple[np.ndarray, list[People], dict[str, Any]]:
    """Read DeepLabCut's CSV (single- or multi-animal); ``likelihood`` is the score.

    Returns frames, people (one per DeepLabCut individual) and ``keypoints_not_used``.
    """
    src = Path(src)
    try:
        with open(src, encoding="utf-8") as fh:
            head = [fh.readline().split(",")[0].strip() for _ in range(4)]
        levels = 4 if head[1] == "individuals" else 3
        table = pd.read_csv(src, header=list(range(levels)), index_col=0)
    except (OSError, ValueError, UnicodeDecodeError, IndexError, pd.errors.ParserError) as exc:
        raise InputError(f"{src}: not a readable DeepLabCut CSV ({exc})") from exc
    cols = table.columns
    if cols.nlevels != levels or list(cols.get_level_values(-1).unique()) != ["x", "y", "likelihood"]:
        raise InputError(f"{src}: not a DeepLabCut CSV (header rows scorer, [individuals,] "
                         "bodyparts, coords with x, y, likelihood)")  # fmt: skip
    try:
        frames = table.index.to_numpy(dtype=np.int64)
    except (TypeError, ValueError) as exc:
        raise InputError(f"{src}: the first column must be frame numbers ({exc})") from exc
    individuals = list(cols.get_level_values(1).unique()) if levels == 4 else [None]
    names = list(cols.get_level_values(-2).unique())
    known, unused = _by_name(names, src)
    arrays = []
    for ind in individuals:
        sub = table.xs(ind, axis=1, level=1) if ind is not None else table
        sub = sub.droplevel(0, axis=1).reindex(
            pd.MultiIndex.from_product([names, ["x", "y", "likelihood"]]), axis=1
        )
        arrays.append(sub.to_numpy(dtype=np.float64).reshape(len(table), len(names), 3))
    values = np.stack(arrays, axis=1)  # (frames, individuals, keypoints, 3)
    people = _per_frame(values[..., :2], np.nan_to_num(values[..., 2]), known)
    return frames, people, {"keypoints_not_used": unused}


def read_movement_netcdf(
    src: str | os.PathLike,
) -> tuple[np.ndarray, list[People], dict[str, Any]]:
    """Read a movement poses dataset (netCDF): ``position`` and ``confidence``.

    Dimensions are taken by name, so either dimension order movement has used
    reads. Returns frames, people (one per individual) and the file's ``fps``
    and ``keypoints_not_used``.
    """
    import xarray as xr

    src = Path(src)
    try:
        ds = xr.open_dataset(src)
    except (OSError, ValueError) as exc:
        raise InputError(f"{src}: not a readable netCDF file ({exc})") from exc
    with ds:
        if "position" not in ds:
            raise InputError(f"{src}: no 'position' variable; not a movement poses dataset")
        names = [str(k) for k in ds["keypoints"].values]
        known, unused = _by_name(names, src)
        xy = ds["position"].transpose("time", "individuals", "keypoints", "space")
        xy = xy.sel(space=["x", "y"]).to_numpy().astype(np.float64)
        if "confidence" in ds:
            conf = ds["confidence"].transpose("time", "individuals", "keypoints").to_numpy()
            conf = np.where(np.isnan(conf), 1.0, conf)  # movement's NaN = "no confidence given"
        else:
            conf = np.ones(xy.shape[:3])
        fps = float(ds.attrs["fps"]) if ds.attrs.get("fps") else None
        time = ds["time"].to_numpy().astype(np.float64)
        in_seconds = str(ds.attrs.get("time_unit", "frames")) == "seconds"
    if in_seconds and fps is None:
        raise InputError(f"{src}: time in seconds but no fps attribute to number the frames")
    frames = np.round(time * fps).astype(np.int64) if in_seconds else time.astype(np.int64)
    return frames, _per_frame(xy, conf, known), {"fps": fps, "keypoints_not_used": unused}


_READERS = {
    "openpose": read_openpose,
    "mmpose-json": read_mmpose_json,
    "coco17-csv": read_coco17_csv,
    "dlc-csv": read_dlc_csv,
    "movement-netcdf": read_movement_netcdf,
}


def import_keypoints(
    src: str | os.PathLike,
    out_path: str | os.PathLike,
    *,
    fmt: str,
    video_id: str,
    video: str | os.PathLike | None = None,
    fps: float | None = None,
    keep_others: bool = False,
) -> dict[str, Any]:
    """Convert another tool's keypoints into a hipdrive keypoint file.

    Parameters
    ----------
    src : path-like
        The file or folder to import (see the module docstring per format).
    out_path : path-like
        Destination Parquet (written atomically).
    fmt : one of :data:`IMPORT_FORMATS`
        Source format.
    video_id : str
        Identifier recorded in the metadata.
    video : path-like, optional
        The video the keypoints were made from: supplies presentation
        timestamps, width/height/rotation/fps and its sha256, and the decoded
        frame count (frames absent from the source become NaN rows).
    fps : float, optional
        Frame rate for ``time_s = frame / fps`` when no ``video`` is given
        (a movement dataset's own ``fps`` otherwise).
    keep_others : bool, default False
        Also write people other than the lifter (tracks 1, 2, ...).

    Returns
    -------
    dict
        The metadata written (``backend = "import:<fmt>"``).

    Raises
    ------
    hipdrive.errors.InputError
        For an unreadable source, a frame number beyond the video's frames,
        or neither ``video`` nor ``fps``.
    """
    from hipdrive.pose.lifter import select_lifter

    if fmt not in _READERS:
        raise InputError(f"unknown keypoint format {fmt!r}; choose one of {list(IMPORT_FORMATS)}")
    frames, people, *extra = _READERS[fmt](src)
    found: dict[str, Any] = extra[0] if extra else {}  # what the source says of itself
    source_fps = found.pop("fps", None)
    fps = fps or source_fps
    if video is None and not (fps and fps > 0):
        raise InputError(
            f"{src}: give the source video (--video) or a frame rate (--fps) for timestamps"
        )
    if len(frames) and frames.min() < 0:
        raise InputError(f"{src}: negative frame number {frames.min()}")

    geometry: dict[str, Any] = {"width": None, "height": None, "rotation": None, "fps": fps}
    time_s = None
    if video is not None:
        from hipdrive.video import frame_times

        time_s = frame_times(video)
    one_based = _one_based(frames, None if time_s is None else len(time_s))
    if one_based:
        frames = frames - 1
    if video is not None:
        from hipdrive.video import probe_video

        info = probe_video(video)
        n_frames = len(time_s)
        if len(frames) and frames.max() >= n_frames:
            raise InputError(
                f"{src}: frame {frames.max()} is beyond the {n_frames} frames decoded from {video}"
            )
        geometry = {
            "width": info.width,
            "height": info.height,
            "rotation": info.rotation,
            "fps": info.fps,
            "video_sha256": info.sha256,
        }
    else:
        n_frames = int(frames.max()) + 1 if len(frames) else 0
        time_s = np.arange(n_frames) / float(fps)

    empty: People = (np.zeros((0, _K, 2), np.float32), np.zeros((0, _K), np.float32))
    dense: list[People] = [empty] * n_frames
    for f, p in zip(frames, people, strict=True):
        dense[f] = p
    width = geometry["width"] or _extent(people, 0)
    height = geometry["height"] or _extent(people, 1)
    tracks, selection = select_lifter(dense, width=width, height=height, keep_others=keep_others)
    table = pd.concat(
        [
            frames_to_long(xy, s, time_s, KEYPOINT_NAMES, track=k)
            for k, (xy, s) in enumerate(tracks)
        ],
        ignore_index=True,
    )
    src_path = Path(src)
    metadata = {
        "video_id": video_id,
        "video_sha256": None,
        **geometry,
        "n_frames": n_frames,
        "backend": f"import:{fmt}",
        "model": f"imported {fmt} from {src_path.name}",
        "checkpoint_sha256": sha256_file(src_path) if src_path.is_file() else None,
        "source_path": str(src_path),
        "time_source": "video presentation timestamps"
        if video is not None
        else f"frame / {fps} fps",
        "n_frames_in_source": len(frames),
        "frame_numbering": "1-based in the source, shifted to 0-based" if one_based else "0-based",
        **found,
        **selection,
    }
    write_keypoints(table, out_path, metadata)
    return metadata


def _one_based(frames: np.ndarray, n_video_frames: int | None) -> bool:
    """Whether the source numbers frames from 1 (MATLAB, many spreadsheets).

    Only when nothing else fits: with the video, the last frame is one past
    its decoded frames; without it, the frames run 1..N with none missing (a
    0-based source that skips frames without a person can start at 1 too, but
    then also skips later).
    """
    if not len(frames) or frames.min() != 1:
        return False
    if n_video_frames is not None:
        return int(frames.max()) == n_video_frames
    return bool(np.array_equal(frames, np.arange(1, len(frames) + 1)))


def _extent(people: list[People], axis: int) -> int:
    """Largest finite coordinate along ``axis`` (a stand-in for an unknown image size)."""
    values = [xy[..., axis] for xy, _ in people if xy.size]
    if not values:
        return 1
    peak = np.nanmax(np.concatenate([v.ravel() for v in values]), initial=1.0)
    return int(np.ceil(peak)) if np.isfinite(peak) else 1


def import_or_exclude(
    src: str | os.PathLike, out_path: str | os.PathLike, *, on_bad_video: str = "fail", **kwargs
) -> dict[str, Any]:
    """:func:`import_keypoints`, or with ``on_bad_video="exclude"`` an exclusion record
    (as the pose stage writes for an unusable video) when the source cannot be imported."""
    from hipdrive.contracts.exclusions import write_excluded_keypoints

    try:
        return import_keypoints(src, out_path, **kwargs)
    except InputError as exc:
        if on_bad_video != "exclude":
            raise
        extra = {"backend": f"import:{kwargs.get('fmt')}", "source_path": str(src)}
        return write_excluded_keypoints(
            out_path, video_id=kwargs["video_id"], reason=str(exc), extra=extra
        )


def import_study(
    manifest: str | os.PathLike,
    out_dir: str | os.PathLike,
    *,
    data_root: str | os.PathLike = ".",
    on_bad_video: str = "fail",
) -> dict[str, list[str]]:
    """Import every manifest row that names a ``keypoints`` file, one Parquet per row.

    The row's video (``path``), when given, supplies the timestamps; else its
    ``fps``. Every row is tried: problems are collected, not raised one by one.

    Returns
    -------
    dict
        ``imported`` and ``excluded`` video ids, and ``failed``: one message per
        row that could not be imported (with ``on_bad_video="fail"``).
    """
    from hipdrive.contracts.manifest import read_manifest
    from hipdrive.progress import report_progress

    sheet = read_manifest(manifest)
    rows = sheet[sheet["keypoints"].notna()]
    if rows.empty:
        raise InputError(f"manifest {manifest}: no row names a keypoints file")
    root = Path(data_root)
    done: dict[str, list[str]] = {"imported": [], "excluded": [], "failed": []}
    for i, row in report_progress(rows.iterrows(), total=len(rows), label="import", unit="files"):
        video_id = str(row["video_id"])
        try:
            if pd.isna(row["keypoints_format"]):
                raise InputError(f"keypoints_format is empty (one of {', '.join(IMPORT_FORMATS)})")
            meta = import_or_exclude(
                root / str(row["keypoints"]), Path(out_dir) / f"{video_id}.parquet",
                on_bad_video=on_bad_video, fmt=str(row["keypoints_format"]), video_id=video_id,
                video=None if pd.isna(row["path"]) else root / str(row["path"]),
                fps=None if pd.isna(row["fps"]) else float(row["fps"]),
            )  # fmt: skip
        except InputError as exc:
            done["failed"].append(f"{manifest}: row {i + 2} ({video_id}): {exc}")
            continue
        done["excluded" if "excluded" in meta else "imported"].append(video_id)
    return done
