"""What a pose backend is: the interface and the per-frame detections it returns.

Also the one mapping of a foreign keypoint layout onto hipdrive's columns
(:func:`remap_people`), which the MMPose backend and the importers share.

Kept below the backends and the driver so that a backend imports only this and
the driver (:mod:`hipdrive.pose.driver`) imports the backends: one way, no loop.
"""

from __future__ import annotations

import abc
from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np

from hipdrive.contracts.keypoints import COCO17, KEYPOINT_NAMES

__all__ = ["MMPOSE_LAYOUTS", "People", "PoseBackend", "no_people", "remap_people"]

#: One frame's detections: ``xy`` (n_people, n_keypoints, 2) pixels in the
#: upright image (y down) and ``score`` (n_people, n_keypoints) in 0..1.
People = tuple[np.ndarray, np.ndarray]

#: MMPose layouts by keypoint count: COCO-17, Halpe-26 (feet at 20-25) and
#: COCO-WholeBody-133 (body = COCO-17, feet at 17-22).
MMPOSE_LAYOUTS = {
    17: {n: i for i, n in enumerate(COCO17)},
    26: {n: i for i, n in enumerate(COCO17)}
    | {"left_big_toe": 20, "right_big_toe": 21, "left_heel": 24, "right_heel": 25},
    133: {n: i for i, n in enumerate(COCO17)}
    | {"left_big_toe": 17, "left_heel": 19, "right_big_toe": 20, "right_heel": 22},
}


def _take(mapping: dict[str, int]) -> tuple[np.ndarray, np.ndarray]:
    """Source indices and hipdrive columns for a name -> source-index mapping."""
    cols = np.array([KEYPOINT_NAMES.index(n) for n in mapping])
    return np.array(list(mapping.values())), cols


def remap_people(xy: np.ndarray, score: np.ndarray, mapping: dict[str, int]) -> People:
    """(P, n_src, 2/1) source arrays -> (P, 21) hipdrive arrays; absent points NaN, score 0."""
    src, cols = _take(mapping)
    out_xy = np.full((xy.shape[0], len(KEYPOINT_NAMES), 2), np.nan, np.float32)
    out_s = np.zeros((xy.shape[0], len(KEYPOINT_NAMES)), np.float32)
    out_xy[:, cols] = xy[:, src]
    out_s[:, cols] = score[:, src]
    missing = ~(out_s > 0) | ~np.isfinite(out_xy).all(axis=-1)
    out_xy[missing] = np.nan
    out_s[missing] = 0.0
    return out_xy, np.clip(out_s, 0.0, 1.0)


def no_people(n_keypoints: int) -> People:
    """The detections of a frame in which nobody was found."""
    return np.empty((0, n_keypoints, 2), np.float32), np.empty((0, n_keypoints), np.float32)


class PoseBackend(abc.ABC):
    """Frames in (batched), keypoints and scores out.

    Subclasses set :attr:`name`, :attr:`keypoint_names` and :attr:`batch_size`,
    take their options as keyword-only constructor arguments, and implement
    :meth:`predict`. Use as a context manager so model resources are freed.
    """

    #: Backend name written to the ``backend`` metadata field.
    name: ClassVar[str]
    #: Names of the keypoints :meth:`predict` returns, in column order; a
    #: subset of :data:`hipdrive.contracts.keypoints.KEYPOINT_NAMES`.
    keypoint_names: tuple[str, ...] = KEYPOINT_NAMES
    #: Frames per :meth:`predict` call.
    batch_size: int = 1

    @abc.abstractmethod
    def predict(self, frames: Sequence[np.ndarray]) -> list[People]:
        """Detect people in a batch of upright RGB frames.

        Parameters
        ----------
        frames : sequence of (H, W, 3) uint8 arrays
            Consecutive frames of one video, in presentation order (backends
            that track between frames rely on that).

        Returns
        -------
        list of People
            One ``(xy, score)`` pair per frame; a frame without detections
            has zero rows (see :func:`no_people`).
        """

    def provenance(self) -> dict[str, Any]:
        """Metadata describing the model: at least ``model`` and ``checkpoint_sha256``."""
        return {"model": None, "checkpoint_sha256": None}

    def reset(self) -> None:  # noqa: B027  (optional hook, default does nothing)
        """Forget tracking state before the next video (a shard reuses one backend)."""

    def close(self) -> None:  # noqa: B027  (optional hook, default does nothing)
        """Free model resources."""

    def __enter__(self) -> PoseBackend:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
