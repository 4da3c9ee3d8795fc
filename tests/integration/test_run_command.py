"""``hipdrive run``: a manifest to a report in one command, without an activated venv."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

BIN = Path(sys.executable).parent


def keypoints_instead_of_video(study: Path, video_id: str) -> None:
    """Make one manifest row a keypoints-only row: its truth exported as DeepLabCut's CSV."""
    subprocess.run(
        [BIN / "hipdrive", "export", study / "truth" / f"{video_id}.keypoints.parquet",
         "--format", "dlc-csv", "--out", study / "dlc"],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    lines = (study / "samples.tsv").read_text().splitlines()
    rows = [lines[0] + "\tkeypoints\tkeypoints_format\tfps"]
    for line in lines[1:]:
        cells = line.split("\t")
        if cells[0] == video_id:  # no video: the keypoints and their frame rate
            cells[1] = ""
            cells += [f"dlc/{video_id}.keypoints.csv", "dlc-csv", "30"]
        rows.append("\t".join(cells + [""] * (12 - len(cells))))
    (study / "samples.tsv").write_text("\n".join(rows) + "\n")


@pytest.mark.slow
def test_run_from_another_folder_with_a_bare_path(tmp_path):
    """A video row and a row of another tool's keypoints (no video) in one study."""
    study = tmp_path / "my study"  # a space in every path the workflow is given
    subprocess.run(
        [BIN / "hipdrive", "simulate", "study", "--lifters", "1", "--loads", "70,90", "--reps", "1",
         "--seed", "3", "--effect-slope", "1.5", "--out", study, "--width", "180", "--height", "320"],
        check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    keypoints_instead_of_video(study, "L01_squat_090")
    elsewhere = tmp_path / "cwd"
    elsewhere.mkdir()
    env = {"HOME": os.environ.get("HOME", "/root"), "PATH": "/usr/bin:/bin"}  # no venv on PATH
    proc = subprocess.run(
        [BIN / "hipdrive", "run", study / "samples.tsv", "--out", tmp_path / "out", "--cores", "2"],
        cwd=elsewhere, env=env, capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    results = tmp_path / "out" / "results"
    report = results / "report.html"
    assert f"Report: {report}" in proc.stdout
    assert "2 videos: 0 excluded," in proc.stdout and "\nmodels: " in proc.stdout  # the summary
    assert report.stat().st_size > 10_000
    assert not (elsewhere / "results").exists()  # nothing written where it was called from
    import pandas as pd

    from hipdrive.contracts.keypoints import read_keypoints

    reps = pd.read_parquet(results / "tables" / "reps.parquet")
    assert (reps["video_id"] == "L01_squat_090").sum() == 1  # the imported keypoints' rep
    assert read_keypoints(results / "keypoints" / "L01_squat_090.parquet")[1]["backend"] == "import:dlc-csv"
    assert (results / "qc" / "L01_squat_090.sheet.png").is_file()  # skeletons without frames


def test_run_refuses_a_missing_manifest_or_data_root(tmp_path):
    for args, message in (
        ([tmp_path / "nope.tsv"], "nope.tsv: manifest not found"),
        ([__file__, "--data-root", tmp_path / "no-dir"], "--data-root is not a folder"),
    ):
        proc = subprocess.run([BIN / "hipdrive", "run", *map(str, args)], capture_output=True,
                              text=True, timeout=60)  # fmt: skip
        assert proc.returncode == 2 and message in proc.stderr, proc.stderr


def test_a_missing_video_is_excluded_by_row_and_the_plan_goes_on(tmp_path):
    (tmp_path / "v").mkdir()
    (tmp_path / "v" / "a #1.mp4").write_bytes(b"not decoded in a dry run")
    (tmp_path / "s.tsv").write_text(
        "video_id\tpath\tlifter_id\tlift\tvariant\n"
        "A\tv/a #1.mp4\tL1\tsquat\thigh_bar\nB\tv/b.mp4\tL1\tsquat\thigh_bar\n"
    )
    run = [BIN / "hipdrive", "run", tmp_path / "s.tsv", "--out", tmp_path / "out", "--dry-run"]
    proc = subprocess.run(run, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "row 3 (B): video 'v/b.mp4' does not exist under" in proc.stderr
    assert "excluded (on_bad_video: exclude)" in proc.stderr
    (tmp_path / "fail.yaml").write_text("on_bad_video: fail\n")
    proc = subprocess.run([*run, "--configfile", tmp_path / "fail.yaml"], capture_output=True,
                          text=True, timeout=300)  # fmt: skip
    assert proc.returncode != 0
    assert "row 3 (B): video 'v/b.mp4' does not exist under" in proc.stdout + proc.stderr
