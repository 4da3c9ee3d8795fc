"""MMPose on a GPU: RTMPose (top-down) and RTMO (one-stage) from a config + checkpoint.

What it does that ``MMPoseInferencer`` called frame by frame does not:

* **Batches across frames**: crops (top-down) or whole frames (RTMO) of many
  frames go through the network together, so a GPU is kept busy; decoding
  runs in a background thread meanwhile (:func:`hipdrive.video.iter_frames`).
* **Detects people only every** ``detect_every`` **frames** (top-down with a
  detector) and interpolates each person's box between two detections, so
  the detector costs a fraction of the pose model. Without a detector
  (``detector=None``) the whole frame is the box, which suits clips where
  the lifter fills much of the picture.
* **Half precision** (``precision="fp16"`` or ``"bf16"``) through
  :func:`torch.autocast`, and ``channels_last`` memory layout for convolutions.
* **Safe checkpoint loading**: ``torch.load(..., weights_only=True)`` with
  only the numpy types release checkpoints keep in their ``meta`` allowed
  (:func:`torch.serialization.safe_globals`); pickle protection stays on.

Imports of torch / mmpose / mmdet happen only when a backend is constructed,
so this module imports anywhere; without them it raises
:class:`~hipdrive.errors.BackendUnavailableError` with the install command.

Checkpoints are never downloaded here. Get them once, e.g.::

    mim download mmpose --config rtmpose-m_8xb256-420e_coco-256x192 --dest checkpoints/

and set ``config`` (a config name shipped with mmpose, or a path) and
``checkpoint`` (the ``.pth`` file) in the workflow's ``pose.options``.

References
----------
Jiang, T., Lu, P., Zhang, L., Ma, N., Han, R., Lyu, C., Li, Y., & Chen, K.
(2023). RTMPose: Real-time multi-person pose estimation based on MMPose.
arXiv:2303.07399. https://doi.org/10.48550/arXiv.2303.07399

Lu, P., Jiang, T., Li, Y., Li, X., Chen, K., & Yang, W. (2024). RTMO: Towards
high-performance one-stage real-time multi-person pose estimation. CVPR 2024,
1491-1500. https://doi.org/10.1109/CVPR52733.2024.00148
"""

from __future__ import annotations

import contextlib
import copy
import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from hipdrive.contracts.files import sha256_file
from hipdrive.contracts.keypoints import KEYPOINT_NAMES
from hipdrive.errors import BackendUnavailableError, InputError
from hipdrive.pose.interface import MMPOSE_LAYOUTS, People, PoseBackend, no_people, remap_people
from hipdrive.pose.lifter import box_iou
from hipdrive.pose.mmcv_ops import ensure_mmcv_ops

__all__ = [
    "MMPoseBackend",
    "interpolate_boxes",
    "load_checkpoint_safely",
    "reference_inferencer",
    "resolve_config",
    "save_random_checkpoint",
]

INSTALL_HINT = (
    "the mmpose backend needs torch, mmcv (with ops), mmdet and mmpose: build the "
    "environment with `bash envs/install-pose-gpu.sh` (creates .venv-gpu) and run "
    "hipdrive from it"
)
PRECISIONS = ("fp32", "fp16", "bf16")
#: Where ``mmcv.ops`` came from once a backend was built: "compiled" or "torchvision".
MMCV_OPS: str | None = None


def _import_torch():
    """torch, with ``mmcv.ops`` importable (compiled, or the torchvision stand-in)."""
    global MMCV_OPS
    try:
        import torch

        MMCV_OPS = ensure_mmcv_ops()
    except ImportError as exc:
        raise BackendUnavailableError(f"{INSTALL_HINT} ({exc})") from exc
    return torch


def _numpy_safe_globals() -> list:
    """The numpy objects release checkpoints pickle into ``meta`` (arrays, dtypes, scalars)."""
    try:  # numpy >= 2 moved the core module
        from numpy._core.multiarray import _reconstruct, scalar
    except ImportError:  # numpy 1.x
        from numpy.core.multiarray import _reconstruct, scalar
    dtypes = [type(np.dtype(t)) for t in (np.bool_, np.uint8, np.int8, np.int16, np.int32, np.int64,
                                         np.float16, np.float32, np.float64, np.str_)]  # fmt: skip
    return [_reconstruct, scalar, np.ndarray, np.dtype, *dtypes]


def load_checkpoint_safely(path: str | os.PathLike) -> dict:
    """Load a checkpoint with ``weights_only=True``, allowing only numpy's types.

    Parameters
    ----------
    path : path-like
        An MMPose/MMDetection ``.pth`` checkpoint.

    Returns
    -------
    dict
        The checkpoint (``state_dict`` and ``meta`` for release checkpoints).

    Raises
    ------
    hipdrive.errors.InputError
        When the file is missing or holds other pickled objects (torch's
        message names the global that was refused).
    """
    torch = _import_torch()
    path = Path(path)
    if not path.is_file():
        raise InputError(
            f"{path}: checkpoint not found; download it once with e.g. "
            "`mim download mmpose --config rtmpose-m_8xb256-420e_coco-256x192 --dest checkpoints/`"
        )
    try:
        with torch.serialization.safe_globals(_numpy_safe_globals()):
            return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises UnpicklingError / RuntimeError / EOFError
        raise InputError(
            f"{path}: cannot load the checkpoint safely ({type(exc).__name__}: {exc})"
        ) from exc


def resolve_config(config: str | os.PathLike) -> Path:
    """A config path, or the file of a config name shipped inside the mmpose package.

    ``"rtmpose-m_8xb256-420e_coco-256x192"`` resolves to
    ``mmpose/.mim/configs/body_2d_keypoint/rtmpose/coco/rtmpose-m_8xb256-420e_coco-256x192.py``.
    """
    path = Path(config)
    if path.is_file():
        return path
    try:
        import mmpose
    except ImportError as exc:
        raise BackendUnavailableError(f"{INSTALL_HINT} ({exc})") from exc
    root = Path(mmpose.__file__).parent / ".mim" / "configs"
    name = path.name if path.suffix == ".py" else f"{path.name}.py"
    found = sorted(root.rglob(name))
    if not found:
        raise InputError(
            f"mmpose config {config!r} is neither a file nor a config name under {root}"
        )
    return found[0]


def interpolate_boxes(
    boxes_a: np.ndarray, boxes_b: np.ndarray, n_between: int, *, min_iou: float = 0.1
) -> list[np.ndarray]:
    """Boxes for the frames between two detections.

    Parameters
    ----------
    boxes_a, boxes_b : (n, 4) and (m, 4) arrays
        ``x0, y0, x1, y1`` boxes detected at frames ``i`` and ``i + n_between + 1``.
    n_between : int
        Frames strictly between the two detections.
    min_iou : float, default 0.1
        Least overlap for a box in ``a`` and one in ``b`` to be the same person
        (pairs chosen by :func:`scipy.optimize.linear_sum_assignment`).

    Returns
    -------
    list of (k, 4) arrays
        Per in-between frame: matched people moved linearly from their box in
        ``a`` to their box in ``b``; unmatched people held at their box in the
        nearer detection frame.
    """
    from scipy.optimize import linear_sum_assignment

    pairs: list[tuple[int, int]] = []
    if len(boxes_a) and len(boxes_b):
        iou = box_iou(boxes_a, boxes_b)
        rows, cols = linear_sum_assignment(-iou)
        pairs = [(r, c) for r, c in zip(rows, cols, strict=True) if iou[r, c] >= min_iou]
    only_a = sorted(set(range(len(boxes_a))) - {r for r, _ in pairs})
    only_b = sorted(set(range(len(boxes_b))) - {c for _, c in pairs})
    ia = np.array([r for r, _ in pairs], dtype=int)
    ib = np.array([c for _, c in pairs], dtype=int)
    out = []
    for k in range(1, n_between + 1):
        w = k / (n_between + 1)
        moved = (1 - w) * boxes_a[ia] + w * boxes_b[ib] if len(pairs) else np.zeros((0, 4))
        held = boxes_a[only_a] if w <= 0.5 else boxes_b[only_b]
        out.append(np.concatenate([moved, held.reshape(-1, 4)]).astype(np.float32))
    return out


class MMPoseBackend(PoseBackend):
    """RTMPose (top-down) or RTMO (one-stage) through MMPose, batched across frames.

    Parameters
    ----------
    config : str
        Path of an MMPose config, or the name of one shipped with mmpose
        (e.g. ``"rtmpose-m_8xb256-420e_coco-256x192"``,
        ``"rtmo-m_16xb16-600e_body7-640x640"``). The keypoint layout (COCO-17,
        Halpe-26, COCO-WholeBody-133) is mapped to hipdrive's names.
    checkpoint : str, optional
        The matching ``.pth`` file. Required unless ``random_init``.
    device : str, default "auto"
        ``"cuda"``, ``"cuda:1"``, ``"cpu"``, or ``"auto"`` (CUDA when available).
    batch_size : int, default 32
        Frames decoded per batch; top-down crops go through the network in
        chunks of this size too.
    precision : {"fp32", "fp16", "bf16"}, default "fp32"
        Autocast dtype. fp16 is for CUDA only; bf16 works on recent GPUs and CPUs.
    channels_last : bool, default True
        Convert the network to channels-last memory layout (faster convolutions).
    flip_test : bool, default False
        MMPose's flip test (averages the prediction on the mirrored image;
        doubles the cost). The RTMPose configs switch it on; the pipeline
        filters keypoints later, so it is off by default.
    detector_config, detector_checkpoint : str, optional
        An MMDetection person detector (e.g. RTMDet) for top-down models.
        Without one, the whole frame is the person box.
    detect_every : int, default 5
        Run the detector on every n-th frame (and the last of each batch);
        boxes between are interpolated (:func:`interpolate_boxes`).
    min_box_score : float, default 0.5
        Least detector (or RTMO instance) score for a person.
    max_people : int, default 5
        People kept per frame (highest scores first).
    random_init : bool, default False
        Use randomly initialised weights (``init_weights()``) instead of a
        checkpoint: for tests and benchmarks on machines without checkpoints.
        Keypoints are then meaningless and the metadata says so.
    profile : bool, default False
        Wait for the GPU at each stage boundary so that :attr:`stage_seconds`
        (detect, preprocess, forward) are exact; costs some overlap.
    cpu_threads : int, optional
        Threads for OpenCV and torch's CPU ops in this process. The CPU work
        of a GPU job is per-crop pre-processing, which gains nothing from a
        thread pool, and several pose jobs on one machine each with a pool as
        large as the machine slow each other down (4 jobs on a 16-core H200
        machine: 61 frames/s uncapped, 200 capped; docs/benchmarks.md).
        Default: 1 on a CUDA device, left as it is on the CPU.
    """

    name = "mmpose"
    keypoint_names = KEYPOINT_NAMES

    def __init__(
        self,
        *,
        config: str,
        checkpoint: str | None = None,
        device: str = "auto",
        batch_size: int = 32,
        precision: str = "fp32",
        channels_last: bool = True,
        flip_test: bool = False,
        detector_config: str | None = None,
        detector_checkpoint: str | None = None,
        detect_every: int = 5,
        min_box_score: float = 0.5,
        max_people: int = 5,
        random_init: bool = False,
        profile: bool = False,
        cpu_threads: int | None = None,
    ) -> None:
        torch = _import_torch()
        try:
            import mmpose
            from mmengine.dataset import Compose, pseudo_collate
            from mmpose.apis import init_model
        except ImportError as exc:
            raise BackendUnavailableError(f"{INSTALL_HINT} ({exc})") from exc
        if precision not in PRECISIONS:
            raise InputError(
                f"backend 'mmpose': precision must be one of {PRECISIONS}, got {precision!r}"
            )
        if batch_size < 1 or detect_every < 1 or max_people < 1:
            raise InputError(
                "backend 'mmpose': batch_size, detect_every and max_people must be >= 1"
            )
        if checkpoint is None and not random_init:
            raise InputError(
                "backend 'mmpose' needs options.checkpoint (a .pth file; get one with `mim download "
                "mmpose --config <config> --dest checkpoints/`), or random_init=true for tests"
            )
        if device == "auto":
            device = "cuda" if torch.cuda.is_available() else "cpu"
        if device.startswith("cuda") and not torch.cuda.is_available():
            raise BackendUnavailableError(
                f"backend 'mmpose': device {device!r} asked for, but CUDA is not available"
            )
        if precision == "fp16" and not device.startswith("cuda"):
            raise InputError("backend 'mmpose': fp16 needs a CUDA device; use bf16 or fp32 on CPU")
        if cpu_threads is None and device.startswith("cuda"):
            cpu_threads = 1
        if cpu_threads is not None:
            import cv2

            cv2.setNumThreads(int(cpu_threads))
            torch.set_num_threads(max(1, int(cpu_threads)))
        self.cpu_threads = cpu_threads

        self._torch = torch
        self.config_path = resolve_config(config)
        self.device = device
        self.batch_size = int(batch_size)
        self.precision = precision
        self.detect_every = int(detect_every)
        self.min_box_score = float(min_box_score)
        self.max_people = int(max_people)
        self.random_init = bool(random_init)
        self.checkpoint = None if checkpoint is None else Path(checkpoint)
        self._collate = pseudo_collate
        self._mmpose_version = mmpose.__version__

        from mmengine.config import Config

        cfg = Config.fromfile(str(self.config_path))
        if cfg.model.type != "BottomupPoseEstimator" and "test_cfg" in cfg.model:
            cfg.model.test_cfg.flip_test = bool(flip_test)
        self.flip_test = bool(flip_test)
        model = init_model(cfg, checkpoint=None, device="cpu")
        if self.checkpoint is not None:
            ckpt = load_checkpoint_safely(self.checkpoint)
            _load_state(model, ckpt, self.checkpoint)
            meta = ckpt.get("meta", {}) if isinstance(ckpt, dict) else {}
            if "dataset_meta" in meta:
                model.dataset_meta = meta["dataset_meta"]
        else:
            model.init_weights()
        if channels_last:
            model = model.to(memory_format=torch.channels_last)
        self.channels_last = bool(channels_last)
        self.model = _take_rgb(model.to(device).eval())
        self.one_stage = cfg.model.type == "BottomupPoseEstimator"
        self._pipeline = Compose(cfg.test_dataloader.dataset.pipeline)
        n_kp = int(model.dataset_meta["num_keypoints"])
        if n_kp not in MMPOSE_LAYOUTS:
            raise InputError(
                f"{self.config_path}: {n_kp} keypoints; hipdrive maps COCO-17, Halpe-26 and COCO-WholeBody-133"
            )
        self._layout = MMPOSE_LAYOUTS[n_kp]

        self.detector = None
        self._det_pipeline = None
        self.detector_config = detector_config
        if detector_config is not None and not self.one_stage:
            self.detector = _init_detector(
                detector_config, detector_checkpoint, device, random_init
            )
        self._frame_index = 0
        self._last_detection: np.ndarray | None = None
        self.profile = bool(profile)
        #: Wall seconds spent per stage (detector, pose pre-processing, pose network).
        self.stage_seconds = {"detect": 0.0, "preprocess": 0.0, "forward": 0.0}

    @contextlib.contextmanager
    def _timed(self, stage: str):
        start = time.perf_counter()
        try:
            yield
        finally:
            if self.profile and self.device.startswith("cuda"):
                self._torch.cuda.synchronize(self.device)
            self.stage_seconds[stage] += time.perf_counter() - start

    def reset(self) -> None:
        """Start the next video with a detection (no box carried over from the last one)."""
        self._frame_index = 0
        self._last_detection = None

    # --- inference -------------------------------------------------------------------------

    def _autocast(self):
        torch = self._torch
        if self.precision == "fp32":
            return contextlib.nullcontext()
        dtype = torch.float16 if self.precision == "fp16" else torch.bfloat16
        return torch.autocast(device_type=self.device.split(":")[0], dtype=dtype)

    def _run(self, data_list: list[dict]) -> list:
        """Forward pre-processed samples in chunks of ``batch_size``."""
        results = []
        for start in range(0, len(data_list), self.batch_size):
            chunk = data_list[start : start + self.batch_size]
            batch = self._collate(self._fixed_shape(chunk, self.batch_size))
            with self._timed("forward"), self._torch.inference_mode(), self._autocast():
                results.extend(self.model.test_step(batch)[: len(chunk)])
        return results

    def _fixed_shape(self, chunk: list[dict], size: int) -> list[dict]:
        """On CUDA, ``chunk`` padded to ``size`` with copies of its last sample.

        cuDNN plans its kernels once per input shape, about a second for each
        new batch size of these networks; a video's last, short batch and the
        detector's varying number of marked frames would pay it again for each
        video of another length. One shape per network pays it once per job.
        """
        if not self.device.startswith("cuda") or not chunk or len(chunk) >= size:
            return chunk
        return chunk + [copy.deepcopy(chunk[-1]) for _ in range(size - len(chunk))]

    def predict(self, frames: Sequence[np.ndarray]) -> list[People]:
        """Keypoints of every person in a batch of consecutive upright RGB frames."""
        images = list(frames)  # RGB: the models' preprocessors swap channels (``_take_rgb``)
        meta = self.model.dataset_meta
        if self.one_stage:
            with self._timed("preprocess"):
                data = [self._pipeline({"img": img, **meta}) for img in images]
            samples = self._run(data)
            people = [self._instances(s, min_score=self.min_box_score) for s in samples]
        else:
            with self._timed("detect"):
                boxes = self._boxes(images)
            data, owner = [], []
            with self._timed("preprocess"):
                for f, (img, frame_boxes) in enumerate(zip(images, boxes, strict=True)):
                    for box in frame_boxes:
                        info = {
                            "img": img,
                            "bbox": box[None, :4],
                            "bbox_score": np.ones(1, np.float32),
                            **meta,
                        }
                        data.append(self._pipeline(info))
                        owner.append(f)
            samples = self._run(data)
            per_frame: list[list] = [[] for _ in frames]
            for f, s in zip(owner, samples, strict=True):
                per_frame[f].append(s)
            people = [self._merge(s) for s in per_frame]
        self._frame_index += len(frames)
        return people

    def _instances(self, sample, *, min_score: float) -> People:
        inst = sample.pred_instances
        xy = _numpy(inst.keypoints)
        score = _numpy(inst.keypoint_scores)
        if "bbox_scores" in inst and len(xy):
            box_score = _numpy(inst.bbox_scores)
            keep = np.flatnonzero(box_score >= min_score)
            keep = keep[np.argsort(-box_score[keep], kind="stable")][: self.max_people]
            xy, score = xy[keep], score[keep]
        if not len(xy):
            return no_people(len(KEYPOINT_NAMES))
        return remap_people(xy, score, self._layout)

    def _merge(self, samples: list) -> People:
        if not samples:
            return no_people(len(KEYPOINT_NAMES))
        parts = [self._instances(s, min_score=0.0) for s in samples]
        return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])

    def _boxes(self, images: list[np.ndarray]) -> list[np.ndarray]:
        """Person boxes per frame: whole frame, or detections every n frames + interpolation."""
        if self.detector is None:
            return [np.array([[0, 0, img.shape[1], img.shape[0]]], np.float32) for img in images]
        n = len(images)
        start = self._frame_index
        marks = [i for i in range(n) if (start + i) % self.detect_every == 0]
        if n - 1 not in marks:
            marks.append(n - 1)  # every batch ends on a detection: the next batch starts bracketed
        detected = dict(zip(marks, self._detect([images[i] for i in marks]), strict=True))
        boxes: list[np.ndarray | None] = [detected.get(i) for i in range(n)]
        left_i, left = -1, self._last_detection
        for i in marks:
            if left is None:  # the video's first frames before the first detection
                for j in range(left_i + 1, i):
                    boxes[j] = detected[i]
            elif i - left_i > 1:
                for j, b in enumerate(
                    interpolate_boxes(left, detected[i], i - left_i - 1), start=left_i + 1
                ):
                    boxes[j] = b
            left_i, left = i, detected[i]
        self._last_detection = left
        return [b if b is not None else np.zeros((0, 4), np.float32) for b in boxes]

    def _detect(self, images: list[np.ndarray]) -> list[np.ndarray]:
        """Person boxes of RGB images (see :func:`_take_rgb`), all in one forward pass.

        ``mmdet.apis.inference_detector`` runs its model once per image; the
        same test pipeline and one batched ``test_step`` give the same boxes.
        """
        from mmengine.registry import DefaultScope

        # mmdet's test pipeline is built from names in its own registry scope
        with DefaultScope.overwrite_default_scope("mmdet"):
            if self._det_pipeline is None:
                from mmdet.utils import get_test_pipeline_cfg

                steps = get_test_pipeline_cfg(self.detector.cfg.copy())
                steps[0].type = "mmdet.LoadImageFromNDArray"
                from mmengine.dataset import Compose

                self._det_pipeline = Compose(steps)
            data = [self._det_pipeline({"img": img, "img_id": 0}) for img in images]
            size = -(-self.batch_size // self.detect_every) + 1  # most marks in one batch
            results = []
            for start in range(0, len(data), size):
                chunk = data[start : start + size]
                with self._torch.inference_mode(), self._autocast():
                    batch = self._collate(self._fixed_shape(chunk, size))
                    results.extend(self.detector.test_step(batch)[: len(chunk)])
        out = []
        for r in results:
            inst = r.pred_instances
            bboxes = inst.bboxes.float().cpu().numpy()
            scores = inst.scores.float().cpu().numpy()
            labels = inst.labels.cpu().numpy()
            keep = np.flatnonzero((labels == 0) & (scores >= self.min_box_score))
            keep = keep[np.argsort(-scores[keep], kind="stable")][: self.max_people]
            out.append(bboxes[keep].astype(np.float32))
        return out

    # --- provenance ------------------------------------------------------------------------

    def provenance(self) -> dict[str, Any]:
        """Config, checkpoint sha256 (None with random weights), versions, device, precision."""
        torch = self._torch
        return {
            "model": f"mmpose {self.config_path.stem}"
            + (" (RANDOM WEIGHTS)" if self.random_init else ""),
            "checkpoint_sha256": None if self.checkpoint is None else sha256_file(self.checkpoint),
            "checkpoint_path": None if self.checkpoint is None else str(self.checkpoint),
            "config_path": str(self.config_path),
            "backend_version": self._mmpose_version,
            "torch_version": torch.__version__,
            "mmcv_ops": MMCV_OPS,
            "backend_settings": {
                "device": self.device,
                "precision": self.precision,
                "batch_size": self.batch_size,
                "channels_last": self.channels_last,
                "flip_test": self.flip_test,
                "one_stage": self.one_stage,
                "detector_config": self.detector_config,
                "detect_every": self.detect_every,
                "min_box_score": self.min_box_score,
                "max_people": self.max_people,
                "random_init": self.random_init,
                "cpu_threads": self.cpu_threads,
            },
            "score_meaning": "MMPose keypoint_scores, clipped to 0..1",
        }

    def close(self) -> None:
        """Drop the model and free cached GPU memory."""
        self.model = None
        self.detector = None
        torch = getattr(self, "_torch", None)
        if torch is not None and torch.cuda.is_available():
            torch.cuda.empty_cache()


def _take_rgb(model):
    """Make a model that expects BGR images take RGB ones, swapping channels on its device.

    MMPose and MMDetection configs are written for OpenCV's BGR images; the
    decoder gives RGB. Inverting the data preprocessor's channel swap gives
    the network the same tensor as a BGR copy would, without copying every
    full frame on the CPU (about 4 ms per 1080p frame, a third of the CPU
    time of a GPU job). Every test-time transform before it (resize, pad,
    affine crop) treats channels alike.
    """
    pre = model.data_preprocessor
    pre._channel_conversion = not pre._channel_conversion
    return model


def _numpy(value: Any) -> np.ndarray:
    """A float64 numpy copy of an array or (possibly CUDA, possibly half) tensor."""
    if hasattr(value, "detach"):
        value = value.detach().float().cpu().numpy()
    return np.asarray(value, dtype=np.float64)


def _load_state(model, ckpt: Any, path: Path) -> None:
    """Load a checkpoint's weights, refusing one that does not fit the config."""
    state = ckpt.get("state_dict", ckpt) if isinstance(ckpt, dict) else None
    if not isinstance(state, dict):
        raise InputError(f"{path}: no state_dict in the checkpoint")
    state = {k.removeprefix("module."): v for k, v in state.items()}
    missing, unexpected = model.load_state_dict(state, strict=False)
    if missing:
        raise InputError(
            f"{path}: checkpoint does not match the config: {len(missing)} weights missing "
            f"(e.g. {missing[:3]}), {len(unexpected)} unexpected"
        )


def _init_detector(config: str, checkpoint: str | None, device: str, random_init: bool):
    try:
        from mmdet.apis import init_detector
    except ImportError as exc:
        raise BackendUnavailableError(f"{INSTALL_HINT} ({exc})") from exc
    path = Path(config)
    if not path.is_file():
        import mmdet
        import mmpose

        # mmdet's own configs, then the person detectors mmpose ships for top-down demos
        roots = [Path(mmdet.__file__).parent / ".mim" / "configs",
                 Path(mmpose.__file__).parent / ".mim" / "demo" / "mmdetection_cfg"]  # fmt: skip
        found = [p for root in roots for p in sorted(root.rglob(f"{path.stem}.py"))]
        if not found:
            raise InputError(
                f"mmdet config {config!r} is neither a file nor a config name shipped with "
                "mmdet or mmpose's demo detectors"
            )
        path = found[0]
    if checkpoint is None and not random_init:
        raise InputError(
            "backend 'mmpose': detector_config needs detector_checkpoint (or random_init)"
        )
    from mmengine.config import Config

    cfg = Config.fromfile(str(path))
    if "init_cfg" in cfg.model.get("backbone", {}):
        cfg.model.backbone.init_cfg = None
    detector = init_detector(cfg, checkpoint=None, device="cpu")
    if checkpoint is not None:
        _load_state(detector, load_checkpoint_safely(checkpoint), Path(checkpoint))
    else:
        detector.init_weights()
    return _take_rgb(detector.to(device).eval())


def save_random_checkpoint(config: str, path: str | os.PathLike, *, seed: int = 0) -> Path:
    """Write a randomly initialised checkpoint for ``config`` in the release format.

    The file holds ``state_dict`` and a ``meta`` with ``dataset_meta`` (numpy
    arrays included, as release checkpoints have), so the safe loader and the
    reference inferencer can be exercised without downloading anything.
    """
    torch = _import_torch()
    from mmengine.config import Config
    from mmpose.apis import init_model

    torch.manual_seed(seed)
    model = init_model(Config.fromfile(str(resolve_config(config))), checkpoint=None, device="cpu")
    model.init_weights()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(
        {"state_dict": model.state_dict(), "meta": {"dataset_meta": model.dataset_meta}}, path
    )
    return path


def reference_inferencer(options: dict[str, Any]):
    """``MMPoseInferencer`` for the same config, weights and device (the benchmark's baseline).

    It runs one frame at a time with the config's own test settings (flip
    test as the config says); ``det_model="whole_image"`` for top-down models
    unless ``detector_config`` and ``detector_checkpoint`` name the detector
    (the offline choice: the default detector would be downloaded).
    """
    torch = _import_torch()
    from mmpose.apis import MMPoseInferencer

    torch.serialization.add_safe_globals(_numpy_safe_globals())
    device = options.get("device", "auto")
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    inferencer = MMPoseInferencer(
        pose2d=str(resolve_config(options["config"])),
        pose2d_weights=options.get("checkpoint"),
        device=device,
        det_model=options.get("detector_config") or "whole_image",
        det_weights=options.get("detector_checkpoint"),
        det_cat_ids=(0,),
    )

    def run(bgr: np.ndarray, **kwargs):
        return inferencer(bgr, **kwargs)

    return run
