"""The synthetic lifter: planar kinematics, load behaviour, rendering, ground truth.

Public API used by the workflow::

    from hipdrive.simulate import simulate_video, simulate_study
"""

from hipdrive.simulate.anthropometry import Anthropometry
from hipdrive.simulate.motion import LOAD_VELOCITY, LifterMotion, LiftStyle, solve_pose
from hipdrive.simulate.study import (
    Lifter,
    Population,
    build_motion,
    make_lifter,
    simulate_study,
    simulate_video,
    study_manifest,
)
from hipdrive.simulate.truth import (
    REP_COLUMNS,
    CameraView,
    body_angles,
    project_keypoints,
    truth_rep_table,
)

__all__ = [
    "LOAD_VELOCITY", "REP_COLUMNS", "Anthropometry", "CameraView", "Lifter", "LifterMotion", "LiftStyle",
    "Population", "body_angles", "build_motion", "make_lifter", "project_keypoints", "simulate_study",
    "simulate_video", "solve_pose", "study_manifest", "truth_rep_table",
]  # fmt: skip
