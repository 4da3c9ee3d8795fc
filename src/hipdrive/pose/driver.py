"""The :func:`estimate_poses` driver: from a video and a backend name to a keypoints file.

A backend (:class:`hipdrive.pose.interface.PoseBackend`) has one job: a batch of
upright RGB frames in, every detected person's keypoints and scores out.
Everything around it is shared and lives here: decoding (with
:mod:`hipdrive.video`, overlapped with inference), batching, progress lines,
choosing the lifter among several people (:mod:`hipdrive.pose.lifter`),
provenance, and the atomic write through :mod:`hipdrive.contracts.keypoints`.

Backends are chosen by name in one place (:func:`make_backend`); no registry.
"""

from __future__ import annotations

import contextlib
import inspect
import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from itertools import islice
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from hipdrive import body
from hipdrive.contracts.keypoints import frames_to_long, write_keypoints
from hipdrive.errors import InputError, UnusableVideoError
from hipdrive.pose.interface import People, PoseBackend

__all__ = [
    "BACKENDS",
    "DRIVER_OPTIONS",
    "batched",
    "check_options",
    "estimate_or_exclude",
    "estimate_poses",
    "make_backend",
]

#: Backend names accepted by :func:`estimate_poses` (``--backend``).
BACKENDS = ("mediapipe", "mmpose", "synthetic")

#: Options the driver itself takes; every other key goes to the backend.
DRIVER_OPTIONS = {
    "prefetch": "frames decoded ahead in a background thread (default 16)",
    "keep_others": "also write people other than the lifter as tracks 1, 2, ... (default false)",
    "decode_timeout_s": "longest wait for the decoder's next frame before giving up (default 120)",
    "track_bar": "also track the bar end and write it as keypoint bar_end of track 0 (default false)",
}


def make_backend(name: str, options: Mapping[str, Any] | None = None) -> PoseBackend:
    """Construct a frame-based backend by name, validating its options.

    Parameters
    ----------
    name : {"mediapipe", "mmpose"}
        The backend (``synthetic`` reads ground truth and takes no frames; it
        is handled by :func:`estimate_poses` directly).
    options : mapping, optional
        Keyword arguments of the backend's constructor.

    Raises
    ------
    hipdrive.errors.InputError
        For an unknown backend name or option, listing the accepted ones.
    hipdrive.errors.BackendUnavailableError
        When the backend's packages or model files are not installed.
    """
    if name == "mediapipe":
        from hipdrive.pose.mediapipe_backend import MediaPipeBackend as cls
    elif name == "mmpose":
        from hipdrive.pose.mmpose_backend import MMPoseBackend as cls
    else:
        frame_based = [b for b in BACKENDS if b != "synthetic"]
        raise InputError(f"unknown frame-based pose backend {name!r}; choose one of {frame_based}")
    options = dict(options or {})
    check_options(cls, options, where=f"backend {name!r}")
    return cls(**options)


def check_options(
    target: Any, options: Mapping[str, Any], *, where: str, exclude: Iterable[str] = ()
) -> None:
    """Raise :class:`InputError` naming every option ``target`` does not accept.

    The accepted options are ``target``'s keyword-only parameters, less ``exclude``.
    """
    params = inspect.signature(target).parameters
    accepted = {p for p, v in params.items() if v.kind is inspect.Parameter.KEYWORD_ONLY}
    accepted -= set(exclude)
    unknown = sorted(set(options) - accepted)
    if unknown:
        raise InputError(f"{where}: unknown option(s) {unknown}; accepted: {sorted(accepted)}")


def batched(items: Iterable, size: int) -> Iterator[list]:
    """Consecutive lists of ``size`` items (the last one may be shorter)."""
    if size < 1:
        raise ValueError(f"batch size must be >= 1, got {size}")
    it = iter(items)
    while chunk := list(islice(it, size)):
        yield chunk


def estimate_poses(
    video_path: str | os.PathLike,
    out_path: str | os.PathLike,
    *,
    video_id: str,
    backend: str = "mediapipe",
    options: Mapping[str, Any] | None = None,
    model: PoseBackend | None = None,
    extra_metadata: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Run a pose backend over every frame of a video and write the keypoint file.

    Parameters
    ----------
    video_path : str or path-like
        The video. For ``backend="synthetic"`` it is used for provenance only
        and may be absent (then the ground truth's metadata is used).
    out_path : str or path-like
        Destination Parquet file (the :mod:`hipdrive.contracts.keypoints` contract),
        written atomically.
    video_id : str
        Identifier recorded in the metadata (the manifest's ``video_id``).
    backend : {"mediapipe", "mmpose", "synthetic"}, default "mediapipe"
        ``mediapipe``: CPU, bundled model (:mod:`hipdrive.pose.mediapipe_backend`);
        ``mmpose``: RTMPose / RTMO from a config and checkpoint, GPU
        (:mod:`hipdrive.pose.mmpose_backend`); ``synthetic``: the simulator's
        ground truth with optional noise (:mod:`hipdrive.pose.synthetic`).
    options : mapping, optional
        Backend options (its keyword-only constructor arguments), plus
        ``prefetch`` (frames decoded ahead in a thread, default 16) and
        ``keep_others`` (also write other people as tracks 1, 2, ...) and
        ``decode_timeout_s`` (longest wait for the next decoded frame, default
        120 s: a pathological file fails instead of hanging the job) and
        ``track_bar`` (default false: also track the bar end beside the
        lifter's hands, :mod:`hipdrive.pose.bar_tracker`, and write it as the
        keypoint ``bar_end`` of track 0; the frames are decoded a second time
        for it, because the plate is found from the whole clip's keypoints).
    model : PoseBackend, optional
        An open backend built from the same ``backend`` and ``options``, to
        reuse across the videos of a shard (:mod:`hipdrive.pose.shard`: the
        model is loaded once); by default one is built and closed here.
    extra_metadata : mapping, optional
        More metadata to write with the file (the shard cache's key).

    Returns
    -------
    dict
        The metadata written with the file: provenance (backend, model,
        checkpoint and video sha256, package version), the video geometry
        (width and height after rotation, rotation, fps, decoded frame count),
        ``n_frames_lost`` (frames without the lifter, written as NaN rows with
        score 0) and the backend's options.

    Raises
    ------
    hipdrive.errors.VideoError
        When the video cannot be decoded.
    hipdrive.errors.UnusableVideoError
        When nobody is detected in any frame.
    hipdrive.errors.InputError
        For an unknown backend or option.
    hipdrive.errors.BackendUnavailableError
        When the backend is not installed here.
    """
    from hipdrive.progress import report_progress
    from hipdrive.video import iter_frames, probe_video

    options = dict(options or {})
    if backend == "synthetic":
        from hipdrive.pose.synthetic import synthetic_poses

        check_options(synthetic_poses, options, where="backend 'synthetic'", exclude=["video_id"])
        if "truth_dir" not in options:
            raise InputError(
                "backend 'synthetic' needs options.truth_dir (the simulator's truth folder)"
            )
        table, metadata = synthetic_poses(video_path, video_id=video_id, **options)
        metadata = {**metadata, **(extra_metadata or {})}
        write_keypoints(table, out_path, metadata)
        return metadata
    if backend not in BACKENDS:
        raise InputError(f"unknown pose backend {backend!r}; choose one of {list(BACKENDS)}")

    prefetch = int(options.pop("prefetch", 16))
    keep_others = bool(options.pop("keep_others", False))
    timeout_s = float(options.pop("decode_timeout_s", 120.0))
    track_bar = bool(options.pop("track_bar", False))
    info = probe_video(video_path, timeout_s=timeout_s)
    with contextlib.ExitStack() as stack:
        if model is None:
            model = stack.enter_context(make_backend(backend, options))
        else:
            model.reset()
        names = model.keypoint_names
        frames = iter_frames(info.path, prefetch=prefetch, timeout_s=timeout_s)
        frames = report_progress(
            frames, total=info.n_frames, label=f"estimate-poses {video_id} [{backend}]"
        )
        times: list[float] = []
        people: list[People] = []
        for batch in batched(frames, model.batch_size):
            times.extend(t for _, t, _ in batch)
            people.extend(model.predict([rgb for _, _, rgb in batch]))
        provenance = model.provenance()

    from hipdrive.pose.lifter import select_lifter

    tracks, selection = select_lifter(
        people, width=info.width, height=info.height, keep_others=keep_others
    )
    if times and selection["n_frames_lost"] == len(times):
        raise UnusableVideoError(
            f"{video_path}: no person detected in any of its {len(times)} frames ({backend})"
        )
    time_s = np.asarray(times, dtype=np.float64)
    parts = [
        frames_to_long(xy, score, time_s, names, track=k) for k, (xy, score) in enumerate(tracks)
    ]
    bar_meta = None
    if track_bar:
        bar_table, bar_meta = _track_bar(info.path, tracks[0], names, time_s, timeout_s=timeout_s)
        parts.append(bar_table)
    table = pd.concat(parts, ignore_index=True)
    metadata = {
        "video_id": video_id,
        **info.metadata(),
        "n_frames": len(times),
        "n_frames_header": info.n_frames,
        "duration_s": float(time_s[-1]) if len(time_s) else 0.0,
        "duration_s_header": info.duration_s,
        "backend": backend,
        **provenance,
        **selection,
        "video_path": str(Path(video_path)),
        "options": {
            **options,
            "prefetch": prefetch,
            "keep_others": keep_others,
            "decode_timeout_s": timeout_s,
            "track_bar": track_bar,
        },
        **({"bar_track": bar_meta} if bar_meta is not None else {}),
        **(extra_metadata or {}),
    }
    write_keypoints(table, out_path, metadata)
    return metadata


def _track_bar(
    video_path: Path,
    lifter: People,
    names: Sequence[str],
    time_s: np.ndarray,
    *,
    timeout_s: float,
    score_threshold: float = 0.3,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The bar end tracked beside the lifter's hands: its long table (track 0) and a summary.

    The hands (and shoulders) are the mean of the wrists (shoulders) seen with a
    score of at least ``score_threshold`` (the analysis' default gate); the stature from the
    same keypoints (:func:`hipdrive.body.body_height_px`) scales the
    plate search.
    """
    from hipdrive.contracts.keypoints import BAR_POINTS
    from hipdrive.pose.bar_tracker import track_bar
    from hipdrive.video import iter_frames

    xy, score = lifter
    gated = np.where((score >= score_threshold)[..., None], xy, np.nan).astype(np.float64)
    hands = body.part_position(gated, names, "wrist", "mean")
    shoulders = body.part_position(gated, names, "shoulder", "mean")
    try:
        height_px = body.body_height_px(gated, names, side="mean")
    except InputError:  # legs or trunk never seen: no scale, no plate search
        height_px = float("nan")
    frames = (rgb for _, _, rgb in iter_frames(video_path, prefetch=4, timeout_s=timeout_s))
    dt = np.diff(np.asarray(time_s, dtype=np.float64))
    fs_hz = 1.0 / float(np.median(dt)) if len(dt) and np.median(dt) > 0 else 30.0
    track = track_bar(frames, hands, body_height_px=height_px, shoulders=shoulders, fs_hz=fs_hz)
    table = frames_to_long(track.xy[:, None, :], track.score[:, None], time_s, BAR_POINTS)
    summary = {
        "point": track.point,
        "init_frame": track.init_frame,
        "plate_radius_px": track.radius_px,
        "n_frames_tracked": int(np.isfinite(track.xy).all(axis=1).sum()),
    }
    return table, summary


def estimate_or_exclude(
    video_path: str | os.PathLike,
    out_path: str | os.PathLike,
    *,
    video_id: str,
    backend: str,
    options: Mapping[str, Any],
    on_bad_video: str = "fail",
    model: PoseBackend | None = None,
    extra_metadata: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """:func:`estimate_poses`, or with ``on_bad_video="exclude"`` an exclusion record
    (:mod:`hipdrive.contracts.exclusions`) when the video is unusable; the one place that decides.

    Returns the metadata written; an exclusion has an ``excluded`` entry.
    """
    from hipdrive.contracts.exclusions import write_excluded_keypoints

    try:
        return estimate_poses(video_path, out_path, video_id=video_id, backend=backend,
                              options=options, model=model, extra_metadata=extra_metadata)  # fmt: skip
    except UnusableVideoError as exc:
        if on_bad_video != "exclude":
            raise
        extra = {"backend": backend, "video_path": str(video_path), **(extra_metadata or {})}
        return write_excluded_keypoints(out_path, video_id=video_id, reason=str(exc), extra=extra)
