"""hipdrive.workflow: the config checks and option merging the Snakemake workflow runs first."""

from __future__ import annotations

import yaml

from hipdrive.workflow import config_problems, pose_options

from ..conftest import REPO

SCHEMA = yaml.safe_load((REPO / "config/schemas/config.schema.yaml").read_text())
SHIPPED = yaml.safe_load((REPO / "config/config.yaml").read_text())


def test_the_shipped_config_has_no_problems():
    assert config_problems(SHIPPED, SCHEMA) == []


def test_each_typo_is_one_line_with_the_nearest_key():
    config = {
        **SHIPPED,
        "sampels": "x.tsv",
        "pose": {
            "backend": "mmpose",
            "trak_bar": True,
            "mmpose": {"batchsize": 8, "by_lift": {"deadlift": {"detect_evry": 3}, "bench": {}}},
            "mediapipe": {"model_complexity": 1},
        },  # fmt: skip
        "analysis": {"cutoff_hz": 6, "max_gap": 0.3},
        "stats": {"alpha": 2, "heavy_pct_1rm": 85},
        "on_bad_video": "skip",
    }
    problems = config_problems(config, SCHEMA)
    assert "unknown key 'sampels'; did you mean 'samples'?" in problems
    assert "unknown key 'pose.trak_bar'; did you mean 'pose.track_bar'?" in problems
    assert "unknown key 'pose.mmpose.batchsize'; did you mean 'pose.mmpose.batch_size'?" in problems
    assert ("unknown key 'pose.mmpose.by_lift.deadlift.detect_evry'; "
            "did you mean 'pose.mmpose.by_lift.deadlift.detect_every'?") in problems  # fmt: skip
    assert any(p.startswith("unknown key 'pose.mmpose.by_lift.bench'") for p in problems)
    assert "unknown key 'analysis.max_gap'; did you mean 'analysis.max_gap_s'?" in problems
    assert any(p.startswith("'stats.alpha': 2 ") for p in problems)
    assert "'on_bad_video': 'skip' must be one of ['exclude', 'fail']" in problems
    assert len(problems) == 8 and all("\n" not in p for p in problems)


def test_driver_options_are_valid_under_every_backend():
    config = {
        **SHIPPED,
        "pose": {"backend": "mediapipe", "mediapipe": {"prefetch": 8, "keep_others": True}},
    }
    assert config_problems(config, SCHEMA) == []


def test_pose_options_for_a_lift_take_its_by_lift_entry():
    pose = {"backend": "mediapipe", "track_bar": False,
            "mediapipe": {"model_complexity": 1, "by_lift": {"squat": {"min_tracking_confidence": 0.1}}}}  # fmt: skip
    assert pose_options(pose, "squat", truth_dir="t") == {
        "model_complexity": 1, "min_tracking_confidence": 0.1, "track_bar": False}  # fmt: skip
    assert pose_options(pose, "deadlift", truth_dir="t") == {
        "model_complexity": 1,
        "track_bar": False,
    }
    synthetic = {"backend": "synthetic", "synthetic": {"noise_px": 2.0}}
    assert pose_options(synthetic, None, truth_dir="t") == {"noise_px": 2.0, "truth_dir": "t"}
    assert "by_lift" in pose["mediapipe"]  # the config itself is not changed
