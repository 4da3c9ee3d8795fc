"""hipdrive.video: timestamps from the container, rotation, metadata, streaming."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from hipdrive.errors import VideoError
from hipdrive.video import iter_frames, probe_video, rotate_upright, write_video


def marker_frames(n: int, *, height: int = 48, width: int = 64) -> list[np.ndarray]:
    """Frames with a white square in the top-left corner and brightness = 4 x index."""
    frames = []
    for i in range(n):
        rgb = np.full((height, width, 3), 4 * i, dtype=np.uint8)
        rgb[:8, :8] = 255
        frames.append(rgb)
    return frames


def marker_centre(rgb: np.ndarray) -> tuple[float, float]:
    ys, xs = np.nonzero(rgb.mean(axis=2) > 200)
    return float(ys.mean()), float(xs.mean())


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    return write_video(marker_frames(12), tmp_path_factory.mktemp("v") / "clip.mp4", fps=25)


def test_probe_reports_geometry_rate_and_length(clip):
    info = probe_video(clip)
    assert (info.width, info.height, info.rotation) == (64, 48, 0)
    assert info.fps == pytest.approx(25.0)
    assert info.n_frames == 12
    assert info.duration_s == pytest.approx(12 / 25, abs=0.05)
    assert info.codec == "h264"
    assert len(info.sha256) == 64 and info.metadata()["video_sha256"] == info.sha256


def test_frames_in_order_with_timestamps(clip):
    got = list(iter_frames(clip))
    assert [i for i, _, _ in got] == list(range(12))
    np.testing.assert_allclose([t for _, t, _ in got], np.arange(12) / 25, atol=1e-3)
    brightness = [float(np.median(rgb)) for _, _, rgb in got]
    np.testing.assert_allclose(brightness, 4 * np.arange(12), atol=3)
    assert got[0][2].shape == (48, 64, 3) and got[0][2].dtype == np.uint8


def test_variable_frame_rate_uses_pts_not_index_over_fps(tmp_path):
    # 8 frames 1/60 s apart, then 7 gaps of 1/15 s (a phone slowing down in low light):
    # index / fps is wrong by up to ~0.15 s whichever rate one picks
    gaps = np.r_[np.full(8, 1 / 60), np.full(7, 1 / 15)]
    times = np.round(np.concatenate([[0.0], np.cumsum(gaps)]), 3)
    path = write_video(marker_frames(16), tmp_path / "vfr.mp4", fps=30, time_s=times)
    got = np.array([t for _, t, _ in iter_frames(path)])
    np.testing.assert_allclose(got, times, atol=1e-3)
    assert np.abs(got - np.arange(16) / probe_video(path).fps).max() > 0.05


@pytest.mark.parametrize(
    ("rotation", "shape", "centre"),
    [
        # the stored top-left marker ends where a counter-clockwise turn puts it
        (90, (64, 48), (60.5, 3.5)),  # -> bottom-left
        (180, (48, 64), (44.5, 60.5)),  # -> bottom-right
        (270, (64, 48), (3.5, 44.5)),  # -> top-right (phone portrait, ffprobe "-90")
    ],
)
def test_rotation_metadata_is_applied(tmp_path, rotation, shape, centre):
    path = write_video(marker_frames(3), tmp_path / f"rot{rotation}.mp4", rotation=rotation)
    info = probe_video(path)
    assert info.rotation == rotation
    assert (info.height, info.width) == shape
    for _, _, rgb in iter_frames(path):
        assert rgb.shape[:2] == shape
        assert marker_centre(rgb) == pytest.approx(centre, abs=1.0)


def test_rotate_upright_matches_numpy_rot90():
    img = np.arange(2 * 3 * 3, dtype=np.uint8).reshape(2, 3, 3)
    assert rotate_upright(img, 0) is img
    np.testing.assert_array_equal(rotate_upright(img, 90), np.rot90(img, 1))
    assert rotate_upright(img, 270).flags.c_contiguous


def test_threaded_decoding_yields_the_same_frames(clip):
    plain = list(iter_frames(clip))
    threaded = list(iter_frames(clip, prefetch=2))
    assert [(i, t) for i, t, _ in plain] == [(i, t) for i, t, _ in threaded]
    for (_, _, a), (_, _, b) in zip(plain, threaded, strict=True):
        np.testing.assert_array_equal(a, b)


def test_threaded_decoding_stops_its_thread_when_abandoned(clip):
    before = threading.active_count()
    frames = iter_frames(clip, prefetch=1)
    next(frames)
    frames.close()
    assert threading.active_count() == before


def test_missing_file_names_it(tmp_path):
    with pytest.raises(VideoError, match=r"nothere\.mp4: no such video file"):
        probe_video(tmp_path / "nothere.mp4")


def test_not_a_video_names_file_and_cause(tmp_path):
    bad = tmp_path / "notes.mp4"
    bad.write_text("this is not a video\n" * 50)
    with pytest.raises(VideoError, match=r"notes\.mp4: cannot open as a video"):
        probe_video(bad)
    with pytest.raises(VideoError, match=r"notes\.mp4"):
        list(iter_frames(bad, prefetch=2))


def test_truncated_video_raises_video_error(clip, tmp_path):
    data = clip.read_bytes()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: len(data) // 3])
    with pytest.raises(VideoError, match=r"cut\.mp4"):
        probe_video(cut)
        list(iter_frames(cut))


def test_bad_arguments():
    with pytest.raises(ValueError, match="prefetch"):
        next(iter_frames("x.mp4", prefetch=-1))


def test_real_clip_header_count_differs_from_decoded(real_dir):
    # the container header says 427 frames, but 282 decode (as OpenCV also finds);
    # the pose stage records the decoded count
    path = real_dir / "videos" / "squat_risevbt_sample3.mp4"
    info = probe_video(path)
    assert (info.width, info.height, info.rotation) == (640, 360, 0)
    times = np.array([t for _, t, _ in iter_frames(path, prefetch=4)])
    assert len(times) == 282
    assert np.all(np.diff(times) > 0)


def test_a_video_cut_inside_its_frames_decodes_short_of_its_header(tmp_path):
    """moov first (faststart), then the cut: the frames before it decode, and the header
    still declares them all; the pose stage records both (duration_s, duration_s_header)."""
    import av

    path = tmp_path / "faststart.mp4"
    with av.open(str(path), "w", options={"movflags": "faststart"}) as out:
        stream = out.add_stream("libx264", rate=30)
        stream.width, stream.height, stream.pix_fmt = 160, 120, "yuv420p"
        for i in range(90):
            frame = av.VideoFrame.from_ndarray(np.full((120, 160, 3), 2 * i, np.uint8), format="rgb24")
            out.mux(stream.encode(frame))
        out.mux(stream.encode())
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(path.read_bytes()[: path.stat().st_size * 6 // 10])
    decoded = [t for _, t, _ in iter_frames(cut)]
    assert probe_video(cut).duration_s == pytest.approx(3.0) and 0 < decoded[-1] < 2.5
