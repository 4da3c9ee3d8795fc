"""The MMPose backend: real loading and inference code, random weights on CPU.

Tests marked ``mmpose`` need the heavy environment built by
``envs/install-pose-gpu.sh`` and run with ``.venv-gpu/bin/python -m pytest -m mmpose``;
no checkpoint can be downloaded, so they initialise the networks randomly
(``init_weights()``) and check the plumbing: batching, boxes, layouts, safe
loading, the keypoint contract. The unmarked tests run everywhere.
"""

from __future__ import annotations

import contextlib
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


@contextlib.contextmanager
def stock_channels(model):
    """The model as MMPose built it (BGR in), for the duration of a reference call."""
    pre = model.data_preprocessor
    pre._channel_conversion = not pre._channel_conversion
    try:
        yield model
    finally:
        pre._channel_conversion = not pre._channel_conversion


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
        with stock_channels(backend.model):  # MMPose's own setting: BGR in
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
    from hipdrive.contracts.keypoints import read_keypoints
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

    from hipdrive.contracts.files import sha256_file
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
def test_batches_padded_to_one_shape_give_the_same_keypoints(mm, tmp_path):
    """The CUDA path pads short batches (pose and detector) to one shape; the
    padding must not reach the results. Forced here on the CPU."""
    from hipdrive.pose.mmpose_backend import MMPoseBackend, _init_detector

    mm.manual_seed(0)
    one_box = tmp_path / "rtmdet_one_box.py"  # a random detector's best box, however low
    base = _init_detector(RTMDET, None, "cpu", True).cfg.filename
    one_box.write_text(f"_base_ = {str(base)!r}\n"
                       "model = dict(bbox_head=dict(num_classes=1),"
                       " test_cfg=dict(score_thr=0.0, max_per_img=1))\n")  # fmt: skip
    backend = MMPoseBackend(
        config=RTMPOSE, random_init=True, device="cpu", detector_config=str(one_box), detect_every=2,
        min_box_score=0.0, max_people=1, batch_size=4,
    )  # fmt: skip
    frames = person_frames(7)  # 4 + 3: a short last batch, 3 and 2 marked frames
    plain = backend.predict(frames[:4]) + backend.predict(frames[4:])
    sizes = []
    collate = backend._collate
    backend._collate = lambda batch: sizes.append(len(batch)) or collate(batch)
    backend.reset()
    backend.device = "cuda"  # only the padding looks at this; the models stay on the CPU
    padded = backend.predict(frames[:4]) + backend.predict(frames[4:])
    assert set(sizes) == {4, 3}  # pose batches of 4, detector batches of ceil(4 / 2) + 1
    assert all(len(xy) == 1 for xy, _ in plain)
    for (xy, score), (xy_p, score_p) in zip(plain, padded, strict=True):
        np.testing.assert_allclose(xy_p, xy, atol=1e-3)
        np.testing.assert_allclose(score_p, score, atol=1e-5)


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


# --- mmcv without compiled ops (the GPU machine's install path) -------------------------------

#: Run in a child: mmcv's compiled extension made unimportable, as with mmcv-lite.
WITHOUT_EXT = """
import sys
sys.modules["mmcv._ext"] = None  # import fails, find_spec says absent: as with mmcv-lite
"""


@pytest.mark.mmpose
@pytest.mark.parametrize("n", [0, 1, 7, 300])
def test_torchvision_nms_equals_mmcv_compiled_nms(mm, n):
    from mmcv.ops import batched_nms as mmcv_batched_nms
    from mmcv.ops import nms as mmcv_nms

    from hipdrive.pose.mmcv_ops import batched_nms, nms

    g = mm.Generator().manual_seed(n)
    xy = mm.rand(n, 2, generator=g) * 600
    boxes = mm.cat([xy, xy + 20 + mm.rand(n, 2, generator=g) * 200], dim=1)
    scores = mm.rand(n, generator=g)
    labels = mm.randint(0, 3, (n,), generator=g)
    for kwargs in ({}, {"score_threshold": 0.3}, {"max_num": 5}):
        ours, ref = nms(boxes, scores, 0.5, **kwargs), mmcv_nms(boxes, scores, 0.5, **kwargs)
        assert mm.equal(ours[1], ref[1]) and mm.allclose(ours[0], ref[0])
    np_ours, np_ref = (
        nms(boxes.numpy(), scores.numpy(), 0.6),
        mmcv_nms(boxes.numpy(), scores.numpy(), 0.6),
    )
    np.testing.assert_array_equal(np_ours[1], np_ref[1])
    if n == 0:  # mmcv's batched_nms itself fails on no boxes (mmdet checks first); ours is empty
        assert batched_nms(boxes, scores, labels, {"iou_threshold": 0.5})[0].shape == (0, 5)
        return
    for cfg in ({"type": "nms", "iou_threshold": 0.6}, {"iou_threshold": 0.5, "split_thr": 10, "max_num": 4},
                {"iou_threshold": 0.5, "class_agnostic": True}, None):  # fmt: skip
        ours, ref = (
            batched_nms(boxes, scores, labels, cfg),
            mmcv_batched_nms(boxes, scores, labels, cfg),
        )
        assert mm.equal(ours[1], ref[1]) and mm.allclose(ours[0], ref[0])


@pytest.mark.mmpose
def test_without_compiled_ops_rtmpose_and_rtmdet_run_on_torchvision_nms(mm, tmp_path):
    """RTMPose + RTMDet on mmcv-lite: NMS comes from torchvision, every frame gets its people.

    (Keypoints against compiled ops are not compared end to end: a random detector gives
    many boxes of exactly equal score, and two correct NMS kernels may keep different ones
    of a tie. The kernels themselves agree exactly on untied boxes: the test above.)
    """
    frames = np.stack(person_frames(4, height=320, width=240))
    np.save(tmp_path / "frames.npy", frames)
    run = (
        "import sys, numpy as np, torch\n"
        "torch.manual_seed(0); torch.set_num_threads(2)\n"
        "from hipdrive.pose.mmpose_backend import MMPoseBackend\n"
        "import hipdrive.pose.mmpose_backend as mb, mmpose, pathlib\n"
        # a random person detector scores nobody: keep its two best boxes, however low
        "base = pathlib.Path(mmpose.__file__).parent / '.mim/demo/mmdetection_cfg' / "
        "'rtmdet_nano_320-8xb32_coco-person.py'\n"
        f"det = pathlib.Path({str(tmp_path)!r}) / 'det.py'\n"
        "det.write_text(f'_base_ = {str(base)!r}\\nmodel = dict(test_cfg=dict(score_thr=0.0, "
        "max_per_img=2, min_bbox_size=-1))\\n')\n"
        f"b = MMPoseBackend(config={RTMPOSE!r}, random_init=True, device='cpu', "
        "detector_config=str(det), detect_every=2, min_box_score=0.0, max_people=2)\n"
        f"people = b.predict(list(np.load({str(tmp_path / 'frames.npy')!r})))\n"
        "print([p[0].shape for p in people])\n"
        "print(mb.MMCV_OPS, b.provenance()['mmcv_ops'])\n"
    )
    proc = subprocess.run([sys.executable, "-c", WITHOUT_EXT + run], capture_output=True,
                          text=True, timeout=300)  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    shapes, modes = proc.stdout.splitlines()[-2:]  # mmengine logs above them
    assert modes.split() == ["torchvision", "torchvision"]
    assert shapes == str([(2, 21, 2)] * 4)


@pytest.mark.mmpose
def test_without_compiled_ops_other_ops_say_what_is_missing(mm):
    proc = subprocess.run(
        [sys.executable, "-c", WITHOUT_EXT + (
            "from hipdrive.pose.mmcv_ops import ensure_mmcv_ops\n"
            "print(ensure_mmcv_ops())\n"
            "from mmcv.ops import DeformConv2d\n"
            "from mmcv.ops.roi_align import roi_align\n"
            "class Sub(DeformConv2d):\n"
            "    pass\n"
            "try:\n"
            "    Sub(1, 1, 3)\n"
            "except Exception as exc:\n"
            "    print(type(exc).__name__, exc)\n"
        )],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    first, second = proc.stdout.splitlines()[-2:]
    assert first == "torchvision"
    assert second.startswith("BackendUnavailableError mmcv.ops.DeformConv2d needs mmcv built")


@pytest.mark.mmpose
def test_batched_detector_equals_mmdet_inference_detector(mm):
    """One forward pass for all detection frames gives mmdet's per-image boxes."""
    from mmdet.apis import inference_detector
    from mmengine.registry import DefaultScope

    from hipdrive.pose.mmpose_backend import MMPoseBackend

    mm.manual_seed(0)
    backend = MMPoseBackend(
        config=RTMPOSE, random_init=True, device="cpu", detector_config=RTMDET,
        min_box_score=0.0, max_people=3,
    )  # fmt: skip
    images = person_frames(3, height=240, width=320)
    ours = backend._detect(images)
    bgr = [np.ascontiguousarray(f[..., ::-1]) for f in images]
    with DefaultScope.overwrite_default_scope("mmdet"), stock_channels(backend.detector):
        refs = inference_detector(backend.detector, bgr)
    for boxes, ref in zip(ours, refs, strict=True):
        inst = ref.pred_instances
        keep = np.flatnonzero(inst.labels.numpy() == 0)
        keep = keep[np.argsort(-inst.scores.numpy()[keep], kind="stable")][:3]
        assert boxes.shape == (len(keep), 4)
        np.testing.assert_allclose(boxes, inst.bboxes.numpy()[keep], atol=1e-2)
