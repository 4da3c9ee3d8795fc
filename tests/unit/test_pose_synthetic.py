"""The synthetic backend: simulator truth in, same contract out, controlled noise."""

from __future__ import annotations

import numpy as np
import pytest

from hipdrive.contracts.keypoints import (
    KEYPOINT_NAMES,
    REQUIRED_METADATA,
    frames_to_long,
    long_to_frames,
    read_keypoints,
    write_keypoints,
)
from hipdrive.errors import InputError
from hipdrive.pose import estimate_poses
from hipdrive.pose.synthetic import degrade_keypoints
from hipdrive.video import write_video

N_FRAMES, N_KP = 120, len(KEYPOINT_NAMES)


def truth_arrays() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    base = rng.uniform(100, 500, size=(1, N_KP, 2))
    wave = 40 * np.sin(np.linspace(0, 4 * np.pi, N_FRAMES))[:, None, None] * np.array([0, 1])
    return base + wave, np.ones((N_FRAMES, N_KP)), np.arange(N_FRAMES) / 30


@pytest.fixture
def truth_dir(tmp_path):
    xy, score, time_s = truth_arrays()
    meta = {k: None for k in REQUIRED_METADATA} | {
        "video_id": "sim01",
        "video_sha256": "0" * 64,
        "width": 640,
        "height": 480,
        "rotation": 0,
        "fps": 30.0,
        "n_frames": N_FRAMES,
        "backend": "simulator",
    }
    del meta["schema_version"], meta["package_version"]
    write_keypoints(
        frames_to_long(xy, score, time_s), tmp_path / "truth" / "sim01.keypoints.parquet", meta
    )
    return tmp_path / "truth"


def test_without_noise_the_truth_comes_back_exactly(tmp_path, truth_dir):
    out = tmp_path / "kp.parquet"
    meta = estimate_poses(
        tmp_path / "absent.mp4",
        out,
        video_id="sim01",
        backend="synthetic",
        options={"truth_dir": str(truth_dir)},
    )
    table, read_meta = read_keypoints(out)
    assert read_meta == {
        **meta,
        "schema_version": 1,
        "package_version": read_meta["package_version"],
    }
    assert meta["backend"] == "synthetic" and meta["model"] == "simulator ground truth"
    assert (meta["width"], meta["height"], meta["n_frames"], meta["n_frames_lost"]) == (
        640,
        480,
        N_FRAMES,
        0,
    )
    assert meta["video_sha256"] == "0" * 64  # no video: the truth's record is kept
    _, time_s, xy, score = long_to_frames(table)
    want_xy, _, want_t = truth_arrays()
    np.testing.assert_allclose(xy, want_xy, rtol=1e-6)
    np.testing.assert_allclose(time_s, want_t)


def test_noise_has_the_requested_spread_and_is_seeded(tmp_path, truth_dir):
    opts = {"truth_dir": str(truth_dir), "noise_px": 3.0, "seed": 7}
    a, b, c = (tmp_path / f"{n}.parquet" for n in "abc")
    estimate_poses(None, a, video_id="sim01", backend="synthetic", options=opts)
    estimate_poses(None, b, video_id="sim01", backend="synthetic", options=opts)
    estimate_poses(None, c, video_id="sim01", backend="synthetic", options={**opts, "seed": 8})
    xa = long_to_frames(read_keypoints(a)[0])[2]
    xb = long_to_frames(read_keypoints(b)[0])[2]
    xc = long_to_frames(read_keypoints(c)[0])[2]
    np.testing.assert_array_equal(xa, xb)
    assert not np.allclose(xa, xc)
    err = (xa - truth_arrays()[0]).ravel()
    # 120 x 21 x 2 = 5040 draws: the sample SD is within 3 % of 3 px with overwhelming probability
    assert err.std() == pytest.approx(3.0, rel=0.03)
    assert abs(err.mean()) < 0.15


def test_dropouts_are_nan_with_score_zero_and_counted(tmp_path, truth_dir):
    out = tmp_path / "kp.parquet"
    meta = estimate_poses(
        None,
        out,
        video_id="sim01",
        backend="synthetic",
        options={
            "truth_dir": str(truth_dir),
            "dropout_rate": 0.2,
            "frame_dropout_rate": 0.1,
            "seed": 3,
        },
    )
    _, _, xy, score = long_to_frames(read_keypoints(out)[0])
    lost_points = score == 0
    assert np.isnan(xy[lost_points]).all() and np.isfinite(xy[~lost_points]).all()
    whole_frames = lost_points.all(axis=1)
    assert meta["n_frames_lost"] == whole_frames.sum()
    assert 3 <= whole_frames.sum() <= 25  # Binomial(120, 0.1 + 0.9 * 0.2**21)
    # points lost outside whole-frame dropouts: Binomial(n, 0.2)
    assert lost_points[~whole_frames].mean() == pytest.approx(0.2, abs=0.03)


def test_video_sha256_is_taken_from_the_video_when_present(tmp_path, truth_dir):
    video = write_video([np.zeros((16, 16, 3), np.uint8)] * 2, tmp_path / "sim01.mp4")
    meta = estimate_poses(
        video,
        tmp_path / "kp.parquet",
        video_id="sim01",
        backend="synthetic",
        options={"truth_dir": str(truth_dir)},
    )
    from hipdrive.contracts.files import sha256_file

    assert meta["video_sha256"] == sha256_file(video)


@pytest.mark.parametrize(
    ("options", "match"),
    [
        ({}, "needs options.truth_dir"),
        ({"truth_dir": "nowhere"}, r"no ground truth nowhere/sim01\.keypoints\.parquet"),
        ({"truth_dir": "x", "noise": 2}, r"unknown option\(s\) \['noise'\]"),
        ({"truth_dir": "x", "video_id": "y"}, r"unknown option\(s\) \['video_id'\]"),
    ],
)
def test_bad_options(tmp_path, options, match):
    with pytest.raises(InputError, match=match):
        estimate_poses(
            None, tmp_path / "kp.parquet", video_id="sim01", backend="synthetic", options=options
        )


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"noise_px": -1.0}, "noise_px must be >= 0"),
        ({"noise_px": 1.0, "noise_corr_s": -0.1}, "noise_corr_s must be >= 0"),
        ({"noise_motion_px": -2.0}, "noise_motion_px must be >= 0"),
        ({"dropout_rate": 1.5}, "dropout_rate must be in 0..1"),
    ],
)
def test_degrade_rejects_bad_settings(kwargs, match):
    xy, score, t = truth_arrays()
    with pytest.raises(InputError, match=match):
        degrade_keypoints(frames_to_long(xy, score, t), **kwargs)


@pytest.mark.parametrize("corr_s", [0.0, 0.1])
def test_correlated_noise_keeps_its_sd_and_has_the_asked_correlation(corr_s):
    """A smoothing tracker's slow jitter: lag-1 correlation exp(-dt / corr_s), same SD."""
    n = 3000
    time_s = np.arange(n) / 30
    xy = np.zeros((n, N_KP, 2))
    table = frames_to_long(xy, np.ones((n, N_KP)), time_s)
    _, _, noisy, _ = long_to_frames(
        degrade_keypoints(table, noise_px=2.0, noise_corr_s=corr_s, seed=4), KEYPOINT_NAMES
    )
    e = noisy[:, :, 1]
    lag1 = np.mean([np.corrcoef(e[:-1, k], e[1:, k])[0, 1] for k in range(N_KP)])
    assert np.std(e) == pytest.approx(2.0, rel=0.05)
    assert lag1 == pytest.approx(np.exp(-1 / 30 / corr_s) if corr_s else 0.0, abs=0.03)


def test_motion_noise_is_none_while_still_and_grows_with_speed():
    n = 600
    time_s = np.arange(n) / 30
    moving = np.abs(np.sin(np.pi * time_s / 10)) * (time_s > 10)  # still for 10 s, then moving
    xy = np.zeros((n, N_KP, 2))
    xy[:, :, 1] = 200 * np.cumsum(moving)[:, None] / 30
    table = frames_to_long(xy, np.ones((n, N_KP)), time_s)
    _, _, noisy, _ = long_to_frames(degrade_keypoints(table, noise_motion_px=3.0, seed=2), KEYPOINT_NAMES)
    err = noisy[:, :, 0]
    assert np.all(err[time_s < 9.9] == 0)
    fast = (time_s > 14.5) & (time_s < 15.5)  # near the keypoint's fastest
    slow = (time_s > 10.2) & (time_s < 10.6)  # just set off
    assert np.std(err[fast]) == pytest.approx(3.0, rel=0.15)
    assert np.std(err[slow]) < 0.5 * np.std(err[fast])
