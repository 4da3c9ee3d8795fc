"""The analysis stage: one keypoints file -> per-rep table + curves.

Callers need only :class:`AnalysisParams` and :func:`analyze_video` (or
:func:`analyze_frames` for the intermediate results); the steps live in
:mod:`~hipdrive.analysis.clean`, :mod:`~hipdrive.analysis.filters`,
:mod:`~hipdrive.analysis.kinematics`, :mod:`~hipdrive.analysis.bar_checks`,
:mod:`~hipdrive.analysis.segment` and :mod:`~hipdrive.analysis.metrics`.
"""

from hipdrive.analysis.analyze import VideoAnalysis, analyze_frames, analyze_video
from hipdrive.analysis.params import AnalysisParams

__all__ = ["AnalysisParams", "VideoAnalysis", "analyze_frames", "analyze_video"]
