"""Video decoding with PyAV: upright RGB frames, container timestamps, metadata.

Three things a hand-written ``cv2.VideoCapture`` loop usually gets wrong, and
that this module gets right once for every backend:

* **Time** comes from each frame's presentation timestamp (``pts * time_base``),
  not ``index / fps``: phone and social-media clips often have a variable frame
  rate, and velocities computed from ``index / fps`` are then wrong.
* **Rotation**: phones store portrait video as landscape pixels plus a display
  matrix. Frames are rotated here so that keypoints are in the upright image a
  person sees, and the applied rotation is recorded.
* **Memory**: frames are streamed, never collected; :func:`iter_frames` can
  decode in a background thread into a bounded queue, so decoding overlaps with
  inference and memory does not grow with the length of the video.
"""

from __future__ import annotations

import math
import os
import queue
import threading
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np

from hipdrive.contracts.files import sha256_file
from hipdrive.errors import DecoderTimeoutError, VideoError

__all__ = [
    "VideoInfo",
    "frame_times",
    "iter_frames",
    "probe_video",
    "rotate_upright",
    "write_video",
]


@dataclass(frozen=True)
class VideoInfo:
    """What the container says about a video's first video stream.

    Attributes
    ----------
    path : Path
        The video file.
    width, height : int
        Size in pixels of the frames :func:`iter_frames` yields, i.e. *after*
        rotation (a portrait phone clip stored as 1920x1080 reports 1080x1920).
    rotation : int
        Counter-clockwise rotation in degrees (0, 90, 180 or 270) applied to
        the decoded pixels to make them upright, from the display matrix
        (FFmpeg's ``av_display_rotation_get``; ffprobe shows a phone portrait
        clip as ``rotation of -90``, stored here as 270).
    fps : float
        The stream's average frame rate (frames per second). Informative only:
        time comes from timestamps, never from ``fps``.
    n_frames : int
        Frame count from the container header, or from counting the packets
        when the header has none. The pose stage records the number of frames
        it actually decoded.
    duration_s : float
        Stream duration in seconds (NaN when the container does not say).
    codec : str
        Name of the video codec.
    """

    path: Path
    width: int
    height: int
    rotation: int
    fps: float
    n_frames: int
    duration_s: float
    codec: str
    coded_width: int = field(repr=False, default=0)
    coded_height: int = field(repr=False, default=0)

    @cached_property
    def sha256(self) -> str:
        """SHA-256 of the video file (computed on first access, streamed)."""
        return sha256_file(self.path)

    def metadata(self) -> dict:
        """The keypoint-file metadata fields that describe the video."""
        return {
            "video_sha256": self.sha256,
            "width": self.width,
            "height": self.height,
            "rotation": self.rotation,
            "fps": self.fps,
            "n_frames": self.n_frames,
        }


def _open(path: Path):
    import av

    if not path.is_file():
        raise VideoError(f"{path}: no such video file")
    if path.stat().st_size == 0:
        raise VideoError(f"{path}: empty file (0 bytes); the copy or upload did not finish?")
    try:
        container = av.open(str(path))
    except (av.error.FFmpegError, OSError, UnicodeDecodeError) as exc:
        raise VideoError(f"{path}: cannot open as a video ({exc})") from exc
    if not container.streams.video:
        container.close()
        raise VideoError(f"{path}: contains no video stream")
    return container


def _normalise_rotation(degrees: float | None) -> int:
    if degrees is None or not math.isfinite(degrees):
        return 0
    quarter = round(degrees / 90.0)
    if not math.isclose(degrees, 90.0 * quarter, abs_tol=1.0):
        raise ValueError(f"rotation {degrees} deg is not a multiple of 90")
    return int(quarter % 4) * 90


def rotate_upright(rgb: np.ndarray, rotation: int) -> np.ndarray:
    """Rotate decoded pixels counter-clockwise by ``rotation`` degrees.

    Parameters
    ----------
    rgb : (H, W, 3) array
        Pixels as stored in the file.
    rotation : int
        0, 90, 180 or 270 (counter-clockwise), as in :attr:`VideoInfo.rotation`.

    Returns
    -------
    (H', W', 3) array
        A C-contiguous copy when a rotation is applied, ``rgb`` itself at 0.

    Notes
    -----
    FFmpeg's display matrix gives the counter-clockwise angle by which the
    decoded frame must be rotated for display; ``np.rot90`` with positive ``k``
    also rotates counter-clockwise, so ``k = rotation / 90``. Mirroring in the
    display matrix (front cameras of some apps) is not applied; phones write
    pure rotations.
    """
    k = (rotation // 90) % 4
    if k == 0:
        return rgb
    return np.ascontiguousarray(np.rot90(rgb, k=k))


def probe_video(path: str | os.PathLike, *, timeout_s: float | None = None) -> VideoInfo:
    """Read a video's geometry, rotation, rate and length without decoding it all.

    Decodes only the first frame (the display matrix travels with frames).

    Parameters
    ----------
    path : str or path-like
        Any container/codec FFmpeg can decode.
    timeout_s : float, optional
        Give up with :class:`DecoderTimeoutError` when probing takes longer
        (probing runs in a background thread then).

    Returns
    -------
    VideoInfo

    Raises
    ------
    hipdrive.errors.VideoError
        When the file is missing, not a video, or has no decodable frame.
    """
    path = Path(path)
    if timeout_s is None:
        return _probe(path)
    probe = (_probe(path) for _ in range(1))  # evaluated in the worker thread
    return list(_threaded(probe, maxsize=1, timeout_s=timeout_s, what=path))[0]


def _probe(path: Path) -> VideoInfo:
    import av

    container = _open(path)
    try:
        stream = container.streams.video[0]
        try:
            first = next(container.decode(stream), None)
        except av.error.FFmpegError as exc:
            raise VideoError(f"{path}: cannot decode the first frame ({exc})") from exc
        if first is None:
            raise VideoError(f"{path}: the video stream has no decodable frame")
        try:
            rotation = _normalise_rotation(first.rotation)
        except ValueError as exc:
            raise VideoError(f"{path}: {exc}; only quarter turns are supported") from exc
        coded_w, coded_h = first.width, first.height
        width, height = (coded_h, coded_w) if rotation in (90, 270) else (coded_w, coded_h)
        rate = stream.average_rate or stream.guessed_rate or stream.base_rate
        fps = float(rate) if rate else float("nan")
        if stream.duration is not None and stream.time_base is not None:
            duration_s = float(stream.duration * stream.time_base)
        elif container.duration is not None:
            duration_s = container.duration / 1e6
        else:
            duration_s = float("nan")
        n_frames = int(stream.frames or 0)
        codec = stream.codec_context.name
    finally:
        container.close()
    if n_frames <= 0:
        n_frames = _count_packets(path)
    return VideoInfo(
        path=path,
        width=int(width),
        height=int(height),
        rotation=rotation,
        fps=fps,
        n_frames=n_frames,
        duration_s=duration_s,
        codec=codec,
        coded_width=int(coded_w),
        coded_height=int(coded_h),
    )


def _count_packets(path: Path) -> int:
    """Count video packets by demuxing only (no decoding): one per frame."""
    container = _open(path)
    try:
        stream = container.streams.video[0]
        return sum(1 for p in container.demux(stream) if p.size > 0)
    finally:
        container.close()


def frame_times(path: str | os.PathLike) -> np.ndarray:
    """Presentation time in seconds of every decoded frame (as :func:`iter_frames`).

    Decodes without converting pixels, for importers that need a video's
    timestamps but not its images. Counting decoded frames, not packets,
    matters: some files hold more packets than frames (and headers lie).
    """
    import av

    path = Path(path)
    container = _open(path)
    times = []
    try:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        try:
            for frame in container.decode(stream):
                if frame.pts is None:
                    raise VideoError(f"{path}: frame {len(times)} has no presentation timestamp")
                times.append(frame.pts * frame.time_base)
        except av.error.FFmpegError as exc:
            raise VideoError(
                f"{path}: decoding failed after frame {len(times) - 1} ({exc})"
            ) from exc
    finally:
        container.close()
    if not times:
        raise VideoError(f"{path}: the video stream has no decodable frame")
    return np.array([float(t - times[0]) for t in times])


def _decode(path: Path, *, threads: int) -> Iterator[tuple[int, float, np.ndarray]]:
    import av

    container = _open(path)
    try:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        stream.codec_context.thread_count = threads
        t0: float | None = None
        index = -1
        rotation = 0
        try:
            for frame in container.decode(stream):
                index += 1
                if index == 0:
                    rotation = _normalise_rotation(frame.rotation)
                if frame.pts is None or frame.time_base is None:
                    raise VideoError(
                        f"{path}: frame {index} has no presentation timestamp; "
                        "remux the file (e.g. ffmpeg -i in -c copy out.mp4)"
                    )
                t = float(frame.pts * frame.time_base)
                if t0 is None:
                    t0 = t
                rgb = rotate_upright(frame.to_ndarray(format="rgb24"), rotation)
                yield index, t - t0, rgb
        except av.error.FFmpegError as exc:
            raise VideoError(f"{path}: decoding failed after frame {index} ({exc})") from exc
        except ValueError as exc:
            raise VideoError(f"{path}: frame {index}: {exc}") from exc
        if index < 0:
            raise VideoError(f"{path}: the video stream has no decodable frame")
    finally:
        container.close()


_END = object()


def iter_frames(
    path: str | os.PathLike,
    *,
    prefetch: int = 0,
    threads: int = 0,
    timeout_s: float | None = None,
) -> Iterator[tuple[int, float, np.ndarray]]:
    """Decode a video into upright RGB frames with their timestamps.

    Parameters
    ----------
    path : str or path-like
        The video.
    prefetch : int, default 0
        0 decodes in the caller's thread. ``n > 0`` decodes in a background
        thread into a queue of at most ``n`` frames, so decoding overlaps with
        whatever the caller does with each frame (FFmpeg and most inference
        runtimes release the GIL) while memory stays bounded by ``n`` frames
        whatever the video's length.
    threads : int, default 0
        FFmpeg decoder threads; 0 lets FFmpeg choose.
    timeout_s : float, optional
        Longest wait for the decoder to hand over the next frame; a stalled
        decoder (a pathological file) raises :class:`DecoderTimeoutError`
        instead of hanging the job forever. Decodes in a background thread
        (at least one frame ahead) when set.

    Yields
    ------
    index : int
        0-based index of the decoded frame in presentation order.
    time_s : float
        Presentation time in seconds, ``(pts - pts_0) * time_base`` with
        ``pts_0`` the first frame's timestamp, so the first frame is at 0 and
        variable frame rates are preserved.
    rgb : (H, W, 3) uint8 array
        The frame, rotated upright (see :func:`rotate_upright`).

    Raises
    ------
    hipdrive.errors.VideoError
        When the file cannot be opened or decoded, naming the file and the
        last good frame (:class:`DecoderTimeoutError` when it stalls).

    Examples
    --------
    >>> for index, time_s, rgb in iter_frames("clip.mp4", prefetch=8):  # doctest: +SKIP
    ...     keypoints = model(rgb)
    """
    if prefetch < 0 or threads < 0:
        raise ValueError(f"prefetch ({prefetch}) and threads ({threads}) must be >= 0")
    path = Path(path)
    if prefetch == 0 and timeout_s is None:
        yield from _decode(path, threads=threads)
        return
    yield from _threaded(
        _decode(path, threads=threads), maxsize=max(prefetch, 1), timeout_s=timeout_s, what=path
    )


def _threaded(
    source: Iterator, *, maxsize: int, timeout_s: float | None = None, what: object = "source"
) -> Iterator:
    """Run ``source`` in a daemon thread, handing items over a bounded queue.

    Exceptions in the producer are re-raised in the consumer; when the consumer
    stops early the producer is told to stop and its thread is joined. When no
    item arrives within ``timeout_s`` the consumer raises
    :class:`DecoderTimeoutError` and leaves the stuck daemon thread behind
    (C code cannot be interrupted; the process exits without waiting for it).
    """
    buffer: queue.Queue = queue.Queue(maxsize=maxsize)
    stop = threading.Event()

    def put(item) -> bool:
        while not stop.is_set():
            try:
                buffer.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in source:
                if not put(item):
                    break
        except BaseException as exc:  # re-raised in the consumer's thread
            put(exc)
        else:
            put(_END)
        finally:
            close = getattr(source, "close", None)
            if close is not None:
                close()

    worker = threading.Thread(target=produce, name="hipdrive-decode", daemon=True)
    worker.start()
    stuck = False
    received = 0
    try:
        while True:
            try:
                item = buffer.get(timeout=timeout_s)
            except queue.Empty:
                stuck = True
                raise DecoderTimeoutError(
                    f"{what}: the decoder produced no frame for {timeout_s:g} s after "
                    f"{received} frame(s); the file is pathological or the disk is stalled"
                ) from None
            if item is _END:
                return
            if isinstance(item, BaseException):
                raise item
            received += 1
            yield item
    finally:
        stop.set()
        worker.join(timeout=1.0 if stuck else None)


#: With x264's macroblock-tree rate control the same frames gave different files
#: from run to run at widths such as 360 and 540 (it depends on memory left over
#: from earlier work); without it an encode is a function of its frames and options.
X264_OPTIONS = {"x264-params": "mbtree=0"}


def write_video(
    frames: Iterable[np.ndarray],
    path: str | os.PathLike,
    *,
    fps: float = 30.0,
    time_s: Sequence[float] | None = None,
    rotation: int = 0,
    crf: int = 18,
) -> Path:
    """Encode RGB frames as an H.264 MP4 (for the simulator, tests and benchmarks).

    Parameters
    ----------
    frames : iterable of (H, W, 3) uint8 arrays
        Pixels as they should be *stored* (before any display rotation); H
        and W must be even (yuv420p).
    path : path-like
        Output file; parent folders are created.
    fps : float, default 30
        Nominal frame rate (written as the stream rate).
    time_s : sequence of float, optional
        Presentation time of each frame in seconds, for variable-frame-rate
        files; default ``index / fps``. Rounded to 1 ms (the stream's time base).
    rotation : int, default 0
        Counter-clockwise display rotation to store in the display matrix
        (0, 90, 180, 270), as phones do for portrait clips.
    crf : int, default 18
        x264 constant rate factor (lower = better quality, larger file).
        The same frames and arguments always give the same bytes.

    Returns
    -------
    Path
        ``path``.
    """
    import fractions

    import av

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    time_base = fractions.Fraction(1, 1000)
    with av.open(str(path), "w") as container:
        stream = None
        for i, rgb in enumerate(frames):
            if stream is None:
                stream = container.add_stream(
                    "libx264", rate=fractions.Fraction(fps).limit_denominator(1001)
                )
                stream.height, stream.width = rgb.shape[:2]
                stream.pix_fmt = "yuv420p"
                stream.codec_context.time_base = time_base
                stream.options = {"crf": str(crf), **X264_OPTIONS}
                if rotation:
                    stream.set_display_rotation(rotation)
            frame = av.VideoFrame.from_ndarray(
                np.ascontiguousarray(rgb, dtype=np.uint8), format="rgb24"
            )
            t = time_s[i] if time_s is not None else i / fps
            frame.pts = round(t / time_base)
            frame.time_base = time_base
            container.mux(stream.encode(frame))
        if stream is None:
            raise ValueError(f"{path}: no frames to write")
        container.mux(stream.encode())
    return path
