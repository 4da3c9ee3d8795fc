"""The MediaPipe backend end to end: video -> keypoint Parquet in the contract."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip(
    "mediapipe", reason="the mediapipe backend needs mediapipe 0.10.21 (envs/pose-cpu.yaml)"
)

from hipdrive.contracts.keypoints import (
    COCO17,
    KEYPOINT_NAMES,
    REQUIRED_METADATA,
    long_to_frames,
    read_keypoints,
)
from hipdrive.errors import BackendUnavailableError, InputError, UnusableVideoError
from hipdrive.pose import estimate_poses
from hipdrive.pose.mediapipe_backend import MEDIAPIPE_INDEX, landmarks_to_keypoints
from hipdrive.video import iter_frames, write_video

from ..conftest import other_side


def test_landmark_mapping_by_hand():
    lm = np.zeros((1, 33, 3), np.float32)
    lm[0, :, 0] = np.arange(33) / 100  # x encodes the landmark index
    lm[0, :, 1] = 0.5
    lm[0, :, 2] = np.linspace(0, 1, 33)
    xy, score = landmarks_to_keypoints(lm, width=200, height=100)
    want = np.array([MEDIAPIPE_INDEX[n] for n in KEYPOINT_NAMES])
    np.testing.assert_allclose(xy[0, :, 0], 2 * want, rtol=1e-6)
    np.testing.assert_allclose(xy[0, :, 1], 50.0)
    np.testing.assert_allclose(score[0], want / 32, rtol=1e-6)
    assert [
        MEDIAPIPE_INDEX[n] for n in ("left_hip", "right_hip", "left_heel", "right_big_toe")
    ] == [23, 24, 29, 32]
    assert set(COCO17) < set(MEDIAPIPE_INDEX)


def test_blank_video_is_unusable_not_a_table_of_nans(tmp_path):
    """Nobody in any frame: an UnusableVideoError (the workflow's exclusion record), no file.
    Frames lost among found ones stay NaN rows with score 0 (tests/integration/test_bad_input_workflow.py)."""
    video = write_video([np.full((96, 128, 3), 90, np.uint8)] * 6, tmp_path / "empty.mp4", fps=10)
    out = tmp_path / "kp.parquet"
    with pytest.raises(
        UnusableVideoError, match=r"empty\.mp4: no person detected in any of its 6 frames"
    ):
        estimate_poses(video, out, video_id="empty")
    assert not out.exists()


def test_real_deadlift_clip(real_dir, tmp_path):
    video = real_dir / "videos" / "deadlift_bichraix_bad003.mp4"
    out = tmp_path / "bad003.parquet"
    meta = estimate_poses(
        video, out, video_id="bad003", backend="mediapipe", options={"model_complexity": 1}
    )
    table, read_meta = read_keypoints(out)
    assert set(REQUIRED_METADATA) <= set(read_meta)
    assert read_meta["backend"] == "mediapipe" and len(read_meta["checkpoint_sha256"]) == 64
    assert (meta["width"], meta["height"], meta["rotation"], meta["n_frames"]) == (1280, 720, 0, 28)
    assert meta["n_frames_lost"] == 0  # the source's MANIFEST: detected in 28/28 frames
    frame, time_s, xy, score = long_to_frames(table)
    np.testing.assert_allclose(time_s, [t for _, t, _ in iter_frames(video)])
    hips = xy[:, [KEYPOINT_NAMES.index("left_hip"), KEYPOINT_NAMES.index("right_hip")]]
    shoulders = xy[
        :, [KEYPOINT_NAMES.index("left_shoulder"), KEYPOINT_NAMES.index("right_shoulder")]
    ]
    assert np.all((xy[..., 0] > -50) & (xy[..., 0] < 1330))
    assert np.all(
        shoulders[..., 1].mean(axis=1) < hips[..., 1].mean(axis=1)
    )  # y down: shoulders above hips
    assert np.median(score[:, : len(COCO17)]) > 0.5


def test_rotated_storage_gives_upright_keypoints(real_dir, tmp_path):
    """A clip stored sideways with a display matrix gives the same keypoints as upright."""
    src = real_dir / "videos" / "deadlift_bichraix_bad003.mp4"
    frames = [rgb[::2, ::2] for i, _, rgb in iter_frames(src) if i < 10]  # 640 x 360
    upright = write_video(frames, tmp_path / "upright.mp4", fps=30)
    # stored turned 90 deg clockwise, with a display matrix saying "turn 90 counter-clockwise"
    sideways = write_video(
        [np.rot90(f, -1) for f in frames], tmp_path / "sideways.mp4", fps=30, rotation=90
    )
    a = estimate_poses(upright, tmp_path / "a.parquet", video_id="a")
    b = estimate_poses(sideways, tmp_path / "b.parquet", video_id="b")
    assert (a["width"], a["height"]) == (b["width"], b["height"]) == (640, 360)
    assert (a["rotation"], b["rotation"]) == (0, 90)
    xy_a = long_to_frames(read_keypoints(tmp_path / "a.parquet")[0])[2][:, : len(COCO17)]
    xy_b = long_to_frames(read_keypoints(tmp_path / "b.parquet")[0])[2][:, : len(COCO17)]
    # same pixels up to re-encoding: within a few px (a missed rotation would be hundreds off)
    assert np.nanmedian(np.abs(xy_a - xy_b)) < 3.0


def test_model_without_bundled_weights_is_refused(tmp_path):
    video = write_video([np.zeros((16, 16, 3), np.uint8)], tmp_path / "v.mp4")
    with pytest.raises(
        BackendUnavailableError, match="model_complexity=2 needs pose_landmark_heavy.tflite"
    ):
        estimate_poses(
            video, tmp_path / "kp.parquet", video_id="v", options={"model_complexity": 2}
        )


@pytest.mark.parametrize(
    ("options", "error", "match"),
    [
        (
            {"complexity": 1},
            InputError,
            r"backend 'mediapipe': unknown option\(s\) \['complexity'\]",
        ),
        ({"min_detection_confidence": 2}, InputError, "min_detection_confidence must be in 0..1"),
        ({"model_complexity": 3}, InputError, "model_complexity must be 0, 1 or 2"),
    ],
)
def test_bad_options(tmp_path, options, error, match):
    video = write_video([np.zeros((16, 16, 3), np.uint8)], tmp_path / "v.mp4")
    with pytest.raises(error, match=match):
        estimate_poses(video, tmp_path / "kp.parquet", video_id="v", options=options)


def test_unknown_backend(tmp_path):
    with pytest.raises(InputError, match="unknown pose backend 'openpose'"):
        estimate_poses(
            tmp_path / "v.mp4", tmp_path / "kp.parquet", video_id="v", backend="openpose"
        )


def _person(dx=0.0, hip_dy=0.0):
    """A standing person's 33 normalised landmarks (1, 33, 3); hips and knees moved by hip_dy."""
    lm = np.zeros((1, 33, 3), dtype=np.float32)
    lm[0, :, 0], lm[0, :, 1], lm[0, :, 2] = np.linspace(0.4, 0.6, 33), np.linspace(0.2, 0.9, 33), 1.0
    lm[0, 11:13, 1], lm[0, 23:25, 1], lm[0, 25:27, 1] = 0.35, 0.55, 0.72
    lm[0, 23:27, 1] += hip_dy
    lm[0, :, 0] += dx
    return lm


def test_track_restart_rule_same_person_other_pose_only():
    from hipdrive.pose.mediapipe_backend import _other_pose

    size = (640, 480)
    assert not _other_pose(_person(), _person(), size)
    # hips and knees 96 px off (4 of 6 points: mean 64 px) with a fresh torso of 192 px:
    # 0.33 torso lengths >= 0.25 (the deadlift-lowering case): restart
    assert _other_pose(_person(), _person(hip_dy=0.2), size)
    # 9.6 px of jitter (mean 6.4 px, 0.06 torso lengths): keep the track
    assert not _other_pose(_person(), _person(hip_dy=0.02), size)
    # somebody else beside the lifter (boxes do not overlap, e.g. a spotter): never a restart
    assert not _other_pose(_person(), _person(dx=0.45), size)


def test_recheck_every_is_validated(tmp_path):
    video = write_video([np.zeros((16, 16, 3), np.uint8)], tmp_path / "v.mp4")
    with pytest.raises(InputError, match="recheck_every must be an integer >= 0"):
        estimate_poses(video, tmp_path / "kp.parquet", video_id="v", options={"recheck_every": -1})


def test_mirrored_landmarks_swap_sides_and_mirror_x():
    from hipdrive.pose.mediapipe_backend import MIRRORED_INDEX, unmirror

    assert (MIRRORED_INDEX[MIRRORED_INDEX] == np.arange(33)).all()  # a mirror twice is none
    for name, i in MEDIAPIPE_INDEX.items():
        assert MIRRORED_INDEX[i] == MEDIAPIPE_INDEX[other_side(name)], name
    lm = np.random.default_rng(0).uniform(0, 1, (1, 33, 3)).astype(np.float32)
    back = unmirror(lm)
    left, right = MEDIAPIPE_INDEX["left_knee"], MEDIAPIPE_INDEX["right_knee"]
    np.testing.assert_allclose(back[0, left], [1 - lm[0, right, 0], lm[0, right, 1], lm[0, right, 2]])
    assert unmirror(None) is None


def test_flip_test_averages_agreeing_readings_and_keeps_the_nearer_of_two_that_disagree():
    from hipdrive.pose.mediapipe_backend import MediaPipeBackend

    backend = MediaPipeBackend(flip_test=True)
    size = (640, 480)
    try:
        a, b = _person(), _person(hip_dy=0.02)  # jitter: the same pose
        np.testing.assert_allclose(backend._combine(a, b, size), 0.5 * (a + b))
        assert backend._combine(None, b, size) is b and backend._combine(a, None, size) is a
        # one reading put the hips elsewhere: the one nearer the last frame's pose is kept
        backend._previous = _person(hip_dy=0.19)
        assert backend._combine(a, _person(hip_dy=0.2), size)[0, 23, 1] == _person(hip_dy=0.2)[0, 23, 1]
        backend._previous = _person()
        assert backend._combine(_person(hip_dy=0.2), a, size) is a
        assert backend.provenance()["flip_test_disagreements"] == 2
        assert backend.provenance()["backend_settings"]["flip_test"] is True
    finally:
        backend.close()
