"""Pose estimation: video frames -> per-frame keypoints in the Parquet contract.

One small interface (:class:`~hipdrive.pose.interface.PoseBackend`: a batch of
frames in, keypoints and scores out) with one module per backend:

* :mod:`~hipdrive.pose.mediapipe_backend` -- CPU default, model bundled in the wheel;
* :mod:`~hipdrive.pose.mmpose_backend` -- RTMPose / RTMO on a GPU from a config
  and checkpoint;
* :mod:`~hipdrive.pose.synthetic` -- the simulator's ground truth (+ noise);
* :mod:`~hipdrive.pose.importers` -- keypoints made elsewhere (OpenPose JSON,
  MMPose JSON, COCO-17 CSV).

:func:`estimate_poses` (:mod:`~hipdrive.pose.driver`) is what the workflow calls.
Imports run one way: backends import only :mod:`~hipdrive.pose.interface`, the
driver imports the backends. Importing this package imports no pose library;
each backend imports its own when constructed.
"""

from hipdrive.pose.driver import BACKENDS, estimate_poses, make_backend
from hipdrive.pose.interface import People, PoseBackend

#: The heavy packages only the pose stage may import: statistics, figures and
#: the report must run without them (tests and bench_stats block them).
POSE_PACKAGES = ("torch", "torchvision", "mmpose", "mmcv", "mmdet", "mmengine", "mediapipe")

__all__ = ["BACKENDS", "POSE_PACKAGES", "People", "PoseBackend", "estimate_poses", "make_backend"]
