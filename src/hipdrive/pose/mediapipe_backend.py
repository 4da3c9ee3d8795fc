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


def _other_pose(tracked: np.ndarray, fresh: np.ndarray, size: tuple[int, int]) -> bool:
    """Same person (boxes overlap), different pose: see ``recheck_every`` (``size`` = w, h)."""
    scale = np.array(size, dtype=np.float32)
    a, b = tracked[0, :, :2] * scale, fresh[0, :, :2] * scale
    lo, hi = np.maximum(a.min(0), b.min(0)), np.minimum(a.max(0), b.max(0))
    inter = np.prod(np.clip(hi - lo, 0, None))
    union = np.prod(a.max(0) - a.min(0)) + np.prod(b.max(0) - b.min(0)) - inter
    if union <= 0 or inter / union < RECHECK_MIN_IOU:
        return False
    torso = np.linalg.norm(b[[11, 12]].mean(0) - b[[23, 24]].mean(0))
    shift = np.linalg.norm(a[_RECHECK_POINTS] - b[_RECHECK_POINTS], axis=1).mean()
    return bool(torso > 0 and shift >= RECHECK_MAX_SHIFT * torso)


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
            lm = _landmarks(self._pose.process(rgb))
            if self.recheck_every and self._frame % self.recheck_every == 0:
                fresh = _landmarks(self._detector.process(rgb))
                if (
                    lm is not None
                    and fresh is not None
                    and _other_pose(lm, fresh, (rgb.shape[1], rgb.shape[0]))
                ):
                    self._pose.reset()  # the next process() detects afresh
                    lm = _landmarks(self._pose.process(rgb))
                    self.n_restarts += 1
            self._frame += 1
            if lm is None:
                out.append(no_people(len(KEYPOINT_NAMES)))
                continue
            out.append(landmarks_to_keypoints(lm, width=rgb.shape[1], height=rgb.shape[0]))
        return out

    def reset(self) -> None:
        """A fresh graph: MediaPipe tracks the last video's person into the next one otherwise."""
        self._pose.reset()
        self._frame = 0

    def provenance(self) -> dict[str, Any]:
        """Model name, the bundled model file's sha256 and mediapipe's version."""
        from hipdrive.contracts.files import sha256_file

        return {
            "model": f"mediapipe-pose {self.model_file.stem} (BlazePose GHUM)",
            "checkpoint_sha256": sha256_file(self.model_file),
            "backend_version": self._version,
            "backend_settings": {**self.settings, "recheck_every": self.recheck_every},
            "track_restarts": self.n_restarts,
            "score_meaning": "MediaPipe landmark visibility",
        }

    def close(self) -> None:
        """Release the MediaPipe graphs."""
        for attr in ("_pose", "_detector"):
            graph = getattr(self, attr, None)
            setattr(self, attr, None)
            if graph is not None:
                graph.close()
