"""MediaPipe Pose (BlazePose GHUM 3D), the CPU default that needs no download.

mediapipe 0.10.21 is the last release with the legacy ``mp.solutions.pose``
API and ships the full landmark model (``pose_landmark_full.tflite``,
``model_complexity=1``) inside the wheel; complexities 0 (lite) and 2 (heavy)
download their model at run time and so fail offline.

The model finds one person per frame and tracks them between frames (the
detector runs again only when tracking is lost), so frames must arrive in
order, one video per backend instance (and per process: parallelism comes from
running several Snakemake jobs).

References
----------
Bazarevsky, V., Grishchenko, I., Raveendran, K., Zhu, T., Zhang, F., &
Grundmann, M. (2020). BlazePose: On-device real-time body pose tracking.
arXiv:2006.10204. https://doi.org/10.48550/arXiv.2006.10204
Xiao, B., Wu, H., & Wei, Y. (2018). Simple baselines for human pose estimation
and tracking. ECCV 2018, 466-481 (the flip test: the prediction on the
mirrored image, mirrored back and averaged). https://doi.org/10.1007/978-3-030-01231-1_29
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from hipdrive.contracts.keypoints import KEYPOINT_NAMES
from hipdrive.errors import BackendUnavailableError, InputError
from hipdrive.pose.interface import People, PoseBackend, no_people

__all__ = ["MEDIAPIPE_INDEX", "MediaPipeBackend", "landmarks_to_keypoints"]

#: MediaPipe's 33 landmark indices for each hipdrive keypoint (COCO-17 order,
#: then heels and big toes). MediaPipe's ``left``/``right`` are the person's own
#: sides, as in COCO. MediaPipe's ``foot_index`` (29-32 are heel, heel,
#: foot_index, foot_index) is the tip of the big toe region, mapped to
#: ``*_big_toe``.
MEDIAPIPE_INDEX = {
    "nose": 0, "left_eye": 2, "right_eye": 5, "left_ear": 7, "right_ear": 8,
    "left_shoulder": 11, "right_shoulder": 12, "left_elbow": 13, "right_elbow": 14,
    "left_wrist": 15, "right_wrist": 16, "left_hip": 23, "right_hip": 24,
    "left_knee": 25, "right_knee": 26, "left_ankle": 27, "right_ankle": 28,
    "left_heel": 29, "right_heel": 30, "left_big_toe": 31, "right_big_toe": 32,
}  # fmt: skip
_TAKE = np.array([MEDIAPIPE_INDEX[n] for n in KEYPOINT_NAMES])

_MODEL_FILES = {
    0: "pose_landmark_lite.tflite",
    1: "pose_landmark_full.tflite",
    2: "pose_landmark_heavy.tflite",
}


def landmarks_to_keypoints(landmarks: np.ndarray, *, width: int, height: int) -> People:
    """Map MediaPipe's 33 normalised landmarks to hipdrive keypoints in pixels.

    Parameters
    ----------
    landmarks : (n_people, 33, 3) array
        ``x``, ``y`` normalised to the image width and height (0..1, may fall
        outside when a point is off-screen) and ``visibility``.
    width, height : int
        Image size in pixels.

    Returns
    -------
    People
        ``xy`` (n_people, 21, 2) in pixels and ``score`` (n_people, 21).

    Notes
    -----
    The score is MediaPipe's landmark *visibility*: the model's estimate
    (after a sigmoid) of the probability that the landmark is present in the
    image and not occluded (Bazarevsky et al. 2020). It is the closest thing
    MediaPipe offers to a per-keypoint confidence; it is *not* calibrated like
    a heat-map peak from RTMPose/ViTPose, so a score threshold tuned for one
    backend does not transfer to the other. Occluded far-side limbs in a side
    view get low visibility even when their position is plausible.
    """
    landmarks = np.asarray(landmarks, dtype=np.float32)
    picked = landmarks[:, _TAKE, :]
    xy = picked[..., :2] * np.array([width, height], dtype=np.float32)
    score = np.clip(picked[..., 2], 0.0, 1.0)
    return xy, score


#: Track restart rule of :class:`MediaPipeBackend` (``recheck_every``): the
#: detector's person must overlap the tracked one this much (box IoU) ...
RECHECK_MIN_IOU = 0.3
#: ... and its hips, shoulders and knees lie this many torso lengths (mid-hip
#: to mid-shoulder) from the tracked ones on average.
RECHECK_MAX_SHIFT = 0.25
_RECHECK_POINTS = np.array([11, 12, 23, 24, 25, 26])  # shoulders, hips, knees (MediaPipe indices)


def _landmarks(result) -> np.ndarray | None:
    """(1, 33, 3) normalised x, y, visibility of a MediaPipe result, or None."""
    if result.pose_landmarks is None:
        return None
    return np.array(
        [[(p.x, p.y, p.visibility) for p in result.pose_landmarks.landmark]], dtype=np.float32
    )


def _iou_and_shift(a: np.ndarray, b: np.ndarray, size: tuple[int, int]) -> tuple[float, float]:
    """Two readings of one frame (``size`` = w, h): their boxes' IoU, and how far apart
    their hips, shoulders and knees lie on average, in torso lengths (mid-hip to
    mid-shoulder of ``b``; NaN without a torso)."""
    scale = np.array(size, dtype=np.float32)
    pa, pb = a[0, :, :2] * scale, b[0, :, :2] * scale
    lo, hi = np.maximum(pa.min(0), pb.min(0)), np.minimum(pa.max(0), pb.max(0))
    inter = np.prod(np.clip(hi - lo, 0, None))
    union = np.prod(pa.max(0) - pa.min(0)) + np.prod(pb.max(0) - pb.min(0)) - inter
    iou = float(inter / union) if union > 0 else 0.0
    torso = np.linalg.norm(pb[[11, 12]].mean(0) - pb[[23, 24]].mean(0))
    shift = np.linalg.norm(pa[_RECHECK_POINTS] - pb[_RECHECK_POINTS], axis=1).mean()
    return iou, float(shift / torso) if torso > 0 else np.nan


def _other_pose(tracked: np.ndarray, fresh: np.ndarray, size: tuple[int, int]) -> bool:
    """Same person (boxes overlap), different pose: see ``recheck_every`` (``size`` = w, h)."""
    iou, shift = _iou_and_shift(tracked, fresh, size)
    return iou >= RECHECK_MIN_IOU and shift >= RECHECK_MAX_SHIFT


#: MediaPipe's 33 landmarks seen in a mirror: each index's counterpart (left <-> right).
MIRRORED_INDEX = np.array(
    [0, 4, 5, 6, 1, 2, 3, 8, 7, 10, 9, 12, 11, 14, 13, 16, 15, 18, 17, 20, 19, 22, 21,
     24, 23, 26, 25, 28, 27, 30, 29, 32, 31]
)  # fmt: skip


def unmirror(landmarks: np.ndarray | None) -> np.ndarray | None:
    """Landmarks read on a left-right mirrored frame, in the frame itself: x mirrored
    back and each side's landmarks under the other side's index."""
    if landmarks is None:
        return None
    out = landmarks[:, MIRRORED_INDEX].copy()
    out[..., 0] = 1.0 - out[..., 0]
    return out


def _agree(a: np.ndarray, b: np.ndarray, size: tuple[int, int]) -> bool:
    """Two readings of one frame show the same pose: boxes overlapping (IoU >=
    :data:`RECHECK_MIN_IOU`) and hips, shoulders and knees less than
    :data:`RECHECK_MAX_SHIFT` torso lengths apart on average."""
    return all(
        iou >= RECHECK_MIN_IOU and shift < RECHECK_MAX_SHIFT
        for iou, shift in (_iou_and_shift(a, b, size), _iou_and_shift(b, a, size))
    )  # both ways: each reading's torso sets the scale once, so the order does not matter


class MediaPipeBackend(PoseBackend):
    """MediaPipe Pose, legacy ``solutions`` API, one person, tracked across frames.

    Parameters
    ----------
    model_complexity : {1, 0, 2}, default 1
        1 = BlazePose GHUM full (bundled); 0 and 2 need a download and are
        refused offline with :class:`~hipdrive.errors.BackendUnavailableError`.
    smooth_landmarks : bool, default True
        MediaPipe's own temporal filter across frames. The analysis stage
        filters again with a zero-lag Butterworth; turn this off to give it
        raw positions (turning it off changed little on simulated clips).
    min_detection_confidence : float, default 0.5
        MediaPipe's threshold (0..1) for a detection.
    min_tracking_confidence : float, default 0.5
        Threshold (0..1) of the landmark model's presence score below which
        MediaPipe drops the track and runs its detector again (MediaPipe's
        default). The workflow's config lowers it to 0.1 for squats
        (``pose.mediapipe.by_lift``): BlazePose's detector finds a person by
        the face (Bazarevsky et al. 2020, arXiv:2006.10204), and a plate hides
        the head at the squat bottom, so a dropped track is found again only
        when the lifter stands up; at 0.1 the simulated demo study is detected
        on 99.1 % of frames (95.4 % at 0.5; squat bottoms 93.8 vs 82.6 %). Not
        for deadlifts: there a kept track carries wrong hips through the
        lowering (see ``recheck_every``), and on the real single-rep deadlift
        clips 0.1 cost one exact rep count and marked more completed lifts as
        failed (docs/validation.md, "Settings compared").
    static_image_mode : bool, default False
        Run the detector on every frame instead of tracking (slower).
    recheck_every : int, default 0
        Every this many frames (0 = never, the default) a second, detect-only MediaPipe
        instance looks at the frame too; where it finds the same person (boxes
        overlapping, IoU >= :data:`RECHECK_MIN_IOU`) in a different pose (hips,
        shoulders and knees :data:`RECHECK_MAX_SHIFT` torso lengths or more
        apart on average), the track is restarted from a fresh detection. A
        kept track can go wrong and stay wrong at full confidence: after a
        deadlift lockout, with the plate over the hips, MediaPipe carried
        upright hips through the lowering into the next set-up (trunk 40 deg
        off with ``min_tracking_confidence`` 0.1); the detector, whenever it
        finds the lifter, does not. Where it finds no one (a plate over the
        head), the track is kept. Costs one extra inference per
        ``recheck_every`` frames. Measured on simulated clips only (docs/validation.md,
        "Detection on rendered lifters"), so off by default.
    flip_test : bool, default False
        Also run a second, independently tracking instance on the mirrored
        frame, mirror its landmarks back (left and right swapped) and average
        the two where they agree (:func:`_agree`); where they do not, keep the
        one nearer the previous frame's pose. The model reads a lifter filmed
        from the left and from the right differently; averaging both readings
        makes the keypoints the same for a clip and its mirror image (the
        flip test of MMPose and of Xiao et al. 2018). Doubles the cost. The
        workflow's config turns it on for squats: on 24 rendered videos with
        exact truth the squats' hip-lead error fell from a median of 7.0 to
        3.3 deg (no rep left undefined instead of 8 of 36), and a mirrored
        squat's trunk angles stay within encoding noise. Not for deadlifts:
        the two readings of a pull's set-up and lowering disagree on 45-190
        of its ~400 frames, and the pulls' error rose from 3.5 to 6.0 deg
        (docs/validation.md, "Flip test").
    """

    name = "mediapipe"
    keypoint_names = KEYPOINT_NAMES
    batch_size = 1

    def __init__(
        self,
        *,
        model_complexity: int = 1,
        smooth_landmarks: bool = True,
        min_detection_confidence: float = 0.5,
        min_tracking_confidence: float = 0.5,
        static_image_mode: bool = False,
        recheck_every: int = 0,
        flip_test: bool = False,
    ) -> None:
        try:
            import mediapipe as mp
            from mediapipe.python.solutions import pose as mp_pose
        except ImportError as exc:
            raise BackendUnavailableError(
                "the mediapipe backend needs mediapipe 0.10.21 (the last release with "
                "mp.solutions.pose): pip install --no-deps mediapipe==0.10.21 absl-py attrs "
                f"flatbuffers 'protobuf>=4,<5' opencv-python-headless ({exc})"
            ) from exc
        if model_complexity not in _MODEL_FILES:
            raise InputError(
                f"backend 'mediapipe': model_complexity must be 0, 1 or 2, got {model_complexity!r}"
            )
        for label, value in (
            ("min_detection_confidence", min_detection_confidence),
            ("min_tracking_confidence", min_tracking_confidence),
        ):
            if not 0.0 <= value <= 1.0:
                raise InputError(f"backend 'mediapipe': {label} must be in 0..1, got {value!r}")
        model_file = (
            Path(mp.__file__).parent / "modules" / "pose_landmark" / _MODEL_FILES[model_complexity]
        )
        if not model_file.is_file():
            raise BackendUnavailableError(
                f"MediaPipe model_complexity={model_complexity} needs {model_file.name}, "
                "which is not in the wheel and is downloaded at run time; this machine "
                "cannot. Use model_complexity=1 (bundled) or place the file at "
                f"{model_file}"
            )
        self.model_file = model_file
        self.settings = {
            "model_complexity": model_complexity,
            "smooth_landmarks": smooth_landmarks,
            "min_detection_confidence": min_detection_confidence,
            "min_tracking_confidence": min_tracking_confidence,
            "static_image_mode": static_image_mode,
        }
        if not (isinstance(recheck_every, int) and recheck_every >= 0):
            raise InputError(
                f"backend 'mediapipe': recheck_every must be an integer >= 0, got {recheck_every!r}"
            )
        self.recheck_every = 0 if static_image_mode else recheck_every
        self._pose = mp_pose.Pose(enable_segmentation=False, **self.settings)
        self.flip_test = bool(flip_test)
        self._mirrored = (
            mp_pose.Pose(enable_segmentation=False, **self.settings) if self.flip_test else None
        )
        self._previous: np.ndarray | None = None
        self.n_flip_disagreements = 0
        self._detector = None
        if self.recheck_every:
            self._detector = mp_pose.Pose(
                enable_segmentation=False, **{**self.settings, "static_image_mode": True}
            )
        self._frame = 0
        self.n_restarts = 0
        self._version = mp.__version__

    def predict(self, frames: Sequence[np.ndarray]) -> list[People]:
        """Run the landmark model on each frame in turn (MediaPipe tracks between them)."""
        out: list[People] = []
        for rgb in frames:
            size = (rgb.shape[1], rgb.shape[0])
            recheck = bool(self.recheck_every) and self._frame % self.recheck_every == 0
            lm = self._track(self._pose, rgb, size, recheck)
            if self._mirrored is not None:
                mirrored = np.ascontiguousarray(rgb[:, ::-1])
                lm = self._combine(lm, unmirror(self._track(self._mirrored, mirrored, size, recheck)),
                                   size)  # fmt: skip
            self._previous = lm
            self._frame += 1
            if lm is None:
                out.append(no_people(len(KEYPOINT_NAMES)))
                continue
            out.append(landmarks_to_keypoints(lm, width=rgb.shape[1], height=rgb.shape[0]))
        return out

    def _track(
        self, graph, rgb: np.ndarray, size: tuple[int, int], recheck: bool
    ) -> np.ndarray | None:
        """One tracking graph's landmarks, restarted where ``recheck_every`` finds another pose."""
        lm = _landmarks(graph.process(rgb))
        if recheck and lm is not None:
            fresh = _landmarks(self._detector.process(rgb))
            if fresh is not None and _other_pose(lm, fresh, size):
                graph.reset()  # the next process() detects afresh
                lm = _landmarks(graph.process(rgb))
                self.n_restarts += 1
        return lm

    def _combine(
        self, direct: np.ndarray | None, mirrored: np.ndarray | None, size: tuple[int, int]
    ) -> np.ndarray | None:
        """The flip test's landmarks: the mean of both readings where they agree; else the
        reading nearer the previous frame's pose (the more visible one without it)."""
        if direct is None or mirrored is None:
            return direct if mirrored is None else mirrored
        if _agree(direct, mirrored, size):
            return 0.5 * (direct + mirrored)
        self.n_flip_disagreements += 1
        if self._previous is not None:
            scale = np.array(size, dtype=np.float32)
            near = [
                np.linalg.norm((r[0, _RECHECK_POINTS, :2] - self._previous[0, _RECHECK_POINTS, :2])
                               * scale, axis=1).mean()
                for r in (direct, mirrored)
            ]  # fmt: skip
            return direct if near[0] <= near[1] else mirrored
        return direct if direct[0, :, 2].mean() >= mirrored[0, :, 2].mean() else mirrored

    def reset(self) -> None:
        """A fresh graph: MediaPipe tracks the last video's person into the next one otherwise."""
        self._pose.reset()
        if self._mirrored is not None:
            self._mirrored.reset()
        self._frame = 0
        self._previous = None

    def provenance(self) -> dict[str, Any]:
        """Model name, the bundled model file's sha256 and mediapipe's version."""
        from hipdrive.contracts.files import sha256_file

        return {
            "model": f"mediapipe-pose {self.model_file.stem} (BlazePose GHUM)",
            "checkpoint_sha256": sha256_file(self.model_file),
            "backend_version": self._version,
            "backend_settings": {
                **self.settings,
                "recheck_every": self.recheck_every,
                "flip_test": self.flip_test,
            },
            "track_restarts": self.n_restarts,
            "flip_test_disagreements": self.n_flip_disagreements,
            "score_meaning": "MediaPipe landmark visibility",
        }

    def close(self) -> None:
        """Release the MediaPipe graphs."""
        for attr in ("_pose", "_mirrored", "_detector"):
            graph = getattr(self, attr, None)
            setattr(self, attr, None)
            if graph is not None:
                graph.close()
