"""The bundled MediaPipe model on rendered lifters (slow: renders and runs pose).

Targets: detection >= 98 % of frames and median trunk-angle error
<= 5 deg in every phase. Measured (``benchmarks/bench_detection.py``): met with
the camera-side (near) trunk angle for every squat phase; for the deadlift with
MediaPipe's tracking (its default) NOT while the bar is lowered, where it keeps
the trunk upright after the plate hid the hips at lockout, but the trunk target
is met in every phase when its detector runs on every frame
(``static_image_mode``), whose misses are short stretches near the floor. This
test pins what is met, so a rendering change that loses it fails here.
"""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip(
    "mediapipe", reason="the detection check needs mediapipe 0.10.21 (pose-cpu environment)"
)

from hipdrive.analysis.clean import fill_short_gaps
from hipdrive.analysis.params import AnalysisParams
from hipdrive.simulate.detection import check_detection, summarise_detection

PHASES = ("standing", "descent", "bottom", "ascent")


@pytest.mark.slow
def test_mediapipe_sees_the_rendered_squat(tmp_path):
    table = check_detection(n_videos=2, lifts=("squat",), seed=2026, n_reps=1, out_dir=tmp_path)
    assert table["detected"].mean() >= 0.98
    s = summarise_detection(table).set_index(["lift", "phase"])
    for phase in PHASES:
        assert s.loc[("squat", phase), "trunk_err_near_median_deg"] <= 5.0, phase


@pytest.mark.slow
def test_mediapipe_sees_the_rendered_deadlift_frame_by_frame(tmp_path):
    fps = 30.0
    table = check_detection(n_videos=2, lifts=("deadlift",), seed=2026, n_reps=1, out_dir=tmp_path,
                            static_image_mode=True, fps=fps)  # fmt: skip
    # Frame-by-frame detection at the deadlift's floor positions is marginal: re-encoding the
    # same rendered frames (x264 CRF 10-23, with or without macroblock-tree) moves it between
    # 93 % and 99 % of these 224 frames. What the analysis needs is that every stretch the
    # detector misses is short enough to be bridged (max_gap_s), and a high rate overall.
    assert table["detected"].mean() >= 0.9
    max_gap_s = AnalysisParams().max_gap_s
    for vid, g in table.groupby("video_id"):
        seen = np.where(g["detected"].to_numpy(), 0.0, np.nan)
        _, long_gap = fill_short_gaps(seen, g["frame"].to_numpy() / fps, max_gap_s=max_gap_s)
        assert not long_gap.any(), f"{vid}: a lost stretch longer than {max_gap_s} s"
    s = summarise_detection(table).set_index(["lift", "phase"])
    for phase in PHASES:
        assert s.loc[("deadlift", phase), "trunk_err_near_median_deg"] <= 5.0, phase
        assert s.loc[("deadlift", phase), "trunk_err_median_deg"] <= 5.0, phase
