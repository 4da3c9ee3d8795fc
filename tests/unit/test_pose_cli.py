"""The pose stage's sub-commands: estimate-poses and import-keypoints."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from hipdrive.commands import pose as pose_commands
from hipdrive.contracts.keypoints import (
    COCO17,
    KEYPOINT_NAMES,
    frames_to_long,
    read_keypoints,
    write_keypoints,
)
from hipdrive.errors import InputError


def run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="hipdrive")
    pose_commands.add_commands(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return args.func(args)


@pytest.fixture
def truth_dir(tmp_path):
    n, k = 10, len(KEYPOINT_NAMES)
    xy = np.tile(np.linspace(50, 250, k)[None, :, None], (n, 1, 2))
    meta = {
        "video_id": "s1", "video_sha256": None, "width": 320, "height": 240, "rotation": 0,
        "fps": 30.0, "n_frames": n, "backend": "simulator", "model": None, "checkpoint_sha256": None,
    }  # fmt: skip
    write_keypoints(
        frames_to_long(xy, np.ones((n, k)), np.arange(n) / 30),
        tmp_path / "t" / "s1.keypoints.parquet",
        meta,
    )
    return tmp_path / "t"


def test_estimate_poses_synthetic_writes_the_contract_and_reports(tmp_path, truth_dir, capsys):
    out = tmp_path / "kp" / "s1.parquet"
    opts = json.dumps({"truth_dir": str(truth_dir), "noise_px": 1.0, "seed": 2})
    assert (
        run(
            [
                "estimate-poses",
                "none.mp4",
                "--video-id",
                "s1",
                "--out",
                str(out),
                "--backend",
                "synthetic",
                "--options",
                opts,
            ]
        )
        == 0
    )
    table, meta = read_keypoints(out)
    assert meta["backend"] == "synthetic" and meta["backend_settings"]["noise_px"] == 1.0
    assert len(table) == 10 * len(KEYPOINT_NAMES)
    assert "estimate-poses s1: 10 frames, 0 without the lifter" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("text", "match"), [("{bad", "--options is not valid JSON"), ("[1]", "must be a JSON object")]
)
def test_bad_options_json(tmp_path, text, match):
    with pytest.raises(InputError, match=match):
        run(
            [
                "estimate-poses",
                "v.mp4",
                "--video-id",
                "v",
                "--out",
                str(tmp_path / "o.parquet"),
                "--options",
                text,
            ]
        )


def test_import_keypoints_csv(tmp_path, capsys):
    cols = {"frame_id": np.arange(4)} | {
        f"{n}_{a}": np.full(4, 10.0 + j) for j, n in enumerate(COCO17) for a in "xy"
    }
    pd.DataFrame(cols).to_csv(tmp_path / "k.csv", index=False)
    out = tmp_path / "kp.parquet"
    argv = [
        "import-keypoints",
        str(tmp_path / "k.csv"),
        "--format",
        "coco17-csv",
        "--video-id",
        "k",
        "--out",
        str(out),
        "--fps",
        "50",
    ]
    assert run(argv) == 0
    table, meta = read_keypoints(out)
    assert meta["backend"] == "import:coco17-csv" and meta["fps"] == 50
    np.testing.assert_allclose(np.unique(table["time_s"]), np.arange(4) / 50)
    assert "import-keypoints k: 4 frames from coco17-csv" in capsys.readouterr().err


def test_cli_error_is_one_line_and_help_imports_no_pose_library(tmp_path):
    code = (
        "import sys; from hipdrive.cli import main; rc = main(sys.argv[1:]); "
        "bad = [m for m in ('mediapipe', 'torch', 'mmpose', 'cv2') if m in sys.modules]; "
        "print('imported:', bad); sys.exit(rc)"
    )
    argv = [
        "estimate-poses",
        str(tmp_path / "missing.mp4"),
        "--video-id",
        "m",
        "--out",
        str(tmp_path / "o.parquet"),
    ]
    proc = subprocess.run(
        [sys.executable, "-c", code, *argv], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().endswith("missing.mp4: no such video file")
    assert "imported: []" in proc.stdout  # the video is checked before the backend is loaded
