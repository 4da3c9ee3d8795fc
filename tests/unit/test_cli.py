"""The command line: every pipeline step is a sub-command, and --help is light."""

import subprocess
import sys

from hipdrive.cli import build_parser

STEPS = ("simulate", "estimate-poses", "import-keypoints", "analyze-video", "collect-tables",
         "fit-models", "plot-figures", "power")  # fmt: skip


def test_help_lists_every_step():
    text = build_parser().format_help()
    for step in STEPS:
        assert step in text


def test_help_imports_no_heavy_package():
    code = (
        "import sys; from hipdrive.cli import build_parser; build_parser().format_help();"
        "heavy = {'mediapipe', 'torch', 'mmpose', 'cv2', 'statsmodels', 'matplotlib'} & set(sys.modules);"
        "print(sorted(heavy)); sys.exit(bool(heavy))"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_user_errors_are_one_line_not_a_traceback(tmp_path):
    missing = tmp_path / "nope.parquet"
    proc = subprocess.run(
        [sys.executable, "-m", "hipdrive", "analyze-video", str(missing), "--sample-sheet", str(tmp_path / "s.tsv"),
         "--video-id", "x", "--reps-out", str(tmp_path / "r.parquet"), "--curves-out", str(tmp_path / "c.parquet")],
        capture_output=True, text=True,
    )  # fmt: skip
    assert proc.returncode == 2
    assert proc.stderr.startswith("error: ") and "Traceback" not in proc.stderr


def test_the_command_exits_with_its_code_and_flushed_output(tmp_path):
    """``hipdrive`` leaves with os._exit after the work (pyarrow's pools may abort a
    normal shutdown): the output must be complete and the code the command's."""
    (tmp_path / "stats").mkdir()
    out = tmp_path / "answer.html"
    proc = subprocess.run(
        [sys.executable, "-m", "hipdrive", "write-answer", "--stats-dir", str(tmp_path / "stats"),
         "--out", str(out)],
        capture_output=True, text=True,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.strip().endswith(f"write-answer: -> {out}")
    assert "No model could be fitted" in out.read_text()
