"""The MMPose backend: real loading and inference code, random weights on CPU.

Tests marked ``mmpose`` need the heavy environment built by
``envs/install-pose-gpu.sh`` and run with ``.venv-gpu/bin/python -m pytest -m mmpose``;
no checkpoint can be downloaded, so they initialise the networks randomly
(``init_weights()``) and check the plumbing: batching, boxes, layouts, safe
loading, the keypoint contract. The unmarked tests run everywhere.
"""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

from hipdrive.errors import BackendUnavailableError, InputError
from hipdrive.pose.mmpose_backend import interpolate_boxes

RTMPOSE = "rtmpose-m_8xb256-420e_coco-256x192"
RTMO = "rtmo-s_8xb32-600e_coco-640x640"
RTMDET = "rtmdet_tiny_8xb32-300e_coco"


def test_interpolate_boxes_moves_matched_people_linearly():
    a = np.array([[0, 0, 10, 20], [100, 100, 110, 120]], dtype=float)
    b = np.array([[4, 0, 14, 20]], dtype=float)  # person 1 moved right by 4; person 2 left
    mid = interpolate_boxes(a, b, 3)
    assert len(mid) == 3
    np.testing.assert_allclose(mid[0][0], [1, 0, 11, 20])
    np.testing.assert_allclose(mid[2][0], [3, 0, 13, 20])
    assert len(mid[0]) == 2 and len(mid[2]) == 1  # the unmatched person is held until half-way
    assert interpolate_boxes(np.zeros((0, 4)), b, 2)[1].shape == (1, 4)


def test_module_imports_without_torch_and_says_how_to_install(pose_blocker, tmp_path):
    code = (
        "from hipdrive.pose import make_backend\n"
        "from hipdrive.errors import BackendUnavailableError\n"
        "try:\n"
        "    make_backend('mmpose', {'config': 'x', 'random_init': True})\n"
        "except BackendUnavailableError as exc:\n"
        "    print('refused:', exc)\n"
    )
    env = {
        **os.environ,
        "PYTHONPATH": f"{pose_blocker}{os.pathsep}{os.environ.get('PYTHONPATH', '')}",
    }
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    assert "refused: the mmpose backend needs torch" in proc.stdout
    assert "envs/install-pose-gpu.sh" in proc.stdout


# --- the heavy environment -----------------------------------------------------------------


@pytest.fixture(scope="module")
def mm():
    torch = pytest.importorskip("torch", reason="needs .venv-gpu (bash envs/install-pose-gpu.sh)")
    pytest.importorskip("mmpose", reason="needs .venv-gpu (bash envs/install-pose-gpu.sh)")
    torch.set_num_threads(2)
    return torch


def person_frames(n: int, *, height: int = 256, width: int = 192) -> list[np.ndarray]:
    rng = np.random.default_rng(0)
    frames = []
    for i in range(n):
        img = rng.integers(0, 60, size=(height, width, 3), dtype=np.uint8)
        img[40 + 4 * i : 220 + 4 * i, 70:120] = (200, 150, 120)  # a moving upright blob
        frames.append(img)
    return frames


@pytest.mark.mmpose
def test_batched_topdown_equals_mmpose_inference_topdown(mm):
    from mmpose.apis import inference_topdown

    from hipdrive.pose.mmpose_backend import MMPoseBackend

    mm.manual_seed(0)
    backend = MMPoseBackend(config=RTMPOSE, random_init=True, device="cpu", batch_size=4)
    frames = person_frames(6)
    ours = backend.predict(frames)
    for rgb, (xy, score) in zip(frames, ours, strict=True):
        ref = inference_topdown(backend.model, np.ascontiguousarray(rgb[..., ::-1]))[
            0
        ].pred_instances
        assert xy.shape == (1, 21, 2)
        np.testing.assert_allclose(xy[0, :17], ref.keypoints[0], atol=1e-2)
        np.testing.assert_allclose(score[0, :17], np.clip(ref.keypoint_scores[0], 0, 1), atol=1e-4)
        assert np.isnan(xy[0, 17:]).all()  # COCO-17 model: no feet
    backend.close()


@pytest.mark.mmpose
def test_estimate_poses_mmpose_writes_the_contract(mm, tmp_path):
    from hipdrive.keypoints import read_keypoints
    from hipdrive.pose import estimate_poses
    from hipdrive.video import write_video

    video = write_video(person_frames(5), tmp_path / "v.mp4", fps=25)
    opts = {"config": RTMPOSE, "random_init": True, "device": "cpu", "batch_size": 2}
    meta = estimate_poses(
        video, tmp_path / "kp.parquet", video_id="v", backend="mmpose", options=opts
    )
    table, read_meta = read_keypoints(tmp_path / "kp.parquet")
    assert read_meta["backend"] == "mmpose" and "RANDOM WEIGHTS" in read_meta["model"]
    assert read_meta["checkpoint_sha256"] is None and meta["n_frames"] == 5
    assert len(table) == 5 * 21 and table["score"].between(0, 1).all()


@pytest.mark.mmpose
def test_safe_checkpoint_round_trip_and_refusal(mm, tmp_path):
    import argparse

    from hipdrive.keypoints import sha256_file
    from hipdrive.pose.mmpose_backend import (
        MMPoseBackend,
        load_checkpoint_safely,
        save_random_checkpoint,
    )

    path = save_random_checkpoint(RTMPOSE, tmp_path / "r.pth", seed=3)
    ckpt = load_checkpoint_safely(path)
    assert isinstance(ckpt["meta"]["dataset_meta"]["keypoint_colors"], np.ndarray)  # numpy allowed
    a = MMPoseBackend(config=RTMPOSE, checkpoint=str(path), device="cpu")
    b = MMPoseBackend(config=RTMPOSE, checkpoint=str(path), device="cpu", channels_last=False)
    frames = person_frames(2)
    np.testing.assert_allclose(a.predict(frames)[1][0], b.predict(frames)[1][0], atol=1e-2)
    assert a.provenance()["checkpoint_sha256"] == sha256_file(path)

    evil = tmp_path / "evil.pth"
    mm.save({"state_dict": {}, "meta": {"obj": argparse.Namespace(x=1)}}, evil)
    with pytest.raises(InputError, match=r"evil\.pth: cannot load the checkpoint safely"):
        load_checkpoint_safely(evil)
    wrong = tmp_path / "wrong.pth"
    mm.save({"state_dict": {"nothing": mm.zeros(1)}}, wrong)
    with pytest.raises(InputError, match=r"wrong\.pth: checkpoint does not match the config"):
        MMPoseBackend(config=RTMPOSE, checkpoint=str(wrong), device="cpu")


@pytest.mark.mmpose
def test_one_stage_rtmo_keeps_at_most_max_people(mm):
    from hipdrive.pose.mmpose_backend import MMPoseBackend

    mm.manual_seed(0)
    backend = MMPoseBackend(
        config=RTMO, random_init=True, device="cpu", min_box_score=0.0, max_people=3
    )
    assert backend.one_stage
    people = backend.predict(person_frames(2, height=320, width=240))
    assert len(people) == 2
    for xy, score in people:
        assert xy.shape[1:] == (21, 2) and len(xy) <= 3 and score.shape == xy.shape[:2]


@pytest.mark.mmpose
def test_detector_every_n_frames_with_interpolated_boxes(mm):
    from hipdrive.pose.mmpose_backend import MMPoseBackend

    mm.manual_seed(0)
    backend = MMPoseBackend(
        config=RTMPOSE, random_init=True, device="cpu", detector_config=RTMDET, detect_every=3,
        min_box_score=0.0, max_people=2, batch_size=4,
    )  # fmt: skip
    calls = []
    detect = backend._detect
    backend._detect = lambda images: calls.append(len(images)) or detect(images)
    frames = person_frames(8)
    people = backend.predict(frames[:4]) + backend.predict(frames[4:])
    assert len(people) == 8
    # frames 0, 3 (every 3rd) and 3 (batch end) -> 2 detections; then 6 and 7 -> 2 more
    assert calls == [2, 2]
    assert all(len(xy) <= 2 for xy, _ in people)


@pytest.mark.mmpose
@pytest.mark.parametrize(
    ("options", "error", "match"),
    [
        ({"config": RTMPOSE}, InputError, "needs options.checkpoint"),
        (
            {"config": RTMPOSE, "checkpoint": "nope.pth"},
            InputError,
            r"nope\.pth: checkpoint not found",
        ),
        (
            {"config": RTMPOSE, "random_init": True, "precision": "fp16", "device": "cpu"},
            InputError,
            "fp16 needs",
        ),
        (
            {"config": "no-such-config", "random_init": True},
            InputError,
            "neither a file nor a config name",
        ),
        (
            {"config": RTMPOSE, "random_init": True, "device": "cuda:7"},
            BackendUnavailableError,
            "CUDA",
        ),
    ],
)
def test_bad_options(mm, options, error, match):
    from hipdrive.pose import make_backend

    if "cuda" in options.get("device", "") and mm.cuda.is_available():
        pytest.skip("CUDA is available here, so cuda:7 may exist")
    with pytest.raises(error, match=match):
        make_backend("mmpose", options)
