"""End to end: the Snakemake workflow on a tiny simulated study (2 lifters x 3 loads).

One real run (simulated videos -> MediaPipe on CPU -> reps -> stats -> figures
-> HTML report) shared by the tests below; each checks content, not only that
files exist. Marked slow: about 2-4 minutes on 2 cores.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from base64 import urlsafe_b64encode
from pathlib import Path

import pandas as pd
import pytest

from hipdrive.contracts.keypoints import read_keypoints

from ..conftest import REPO
from .conftest import BIN, planned_jobs, snakemake

pytestmark = pytest.mark.slow

LIFTERS = {"A1": (130.0, 1.78, "left"), "B2": (95.0, 1.62, "right")}
LOADS_PCT = (60, 75, 90)
N_REPS = 3


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Path:
    work = tmp_path_factory.mktemp("demo")
    rows = []
    for lifter, (one_rm, height, side) in LIFTERS.items():
        for pct in LOADS_PCT:
            vid = f"{lifter}_squat_{pct:03d}"
            load = round(one_rm * pct / 100 / 2.5) * 2.5
            rows.append([vid, f"results/demo/videos/{vid}.mp4", lifter, "squat", "high_bar", load, one_rm, height, side])
    cols = ["video_id", "path", "lifter_id", "lift", "variant", "load_kg", "one_rm_kg", "height_m", "camera_side"]
    pd.DataFrame(rows, columns=cols).to_csv(work / "samples.tsv", sep="\t", index=False)
    (work / "config.yaml").write_text(
        "samples: samples.tsv\n"
        # its own frame size, not the shipped demo's (config/config.yaml extends every config)
        f"simulate: {{seed: 7, effect_slope_deg_per_10pct: 2.0, fps: 30, n_reps: {N_REPS}, "
        "width: 540, height: 960}\n"
        "stats: {n_bootstrap: 200}\n"
    )
    snakemake(work)
    snakemake(work, "--report", "results/report.html")
    return work


def test_keypoints_follow_the_contract_and_find_the_lifter(demo):
    for path in sorted((demo / "results/keypoints").glob("*.parquet")):
        table, meta = read_keypoints(path)
        assert meta["backend"] == "mediapipe" and len(meta["video_sha256"]) == 64
        per_frame = table.groupby("frame")["score"].max()
        assert len(per_frame) == meta["n_frames"]
        assert (per_frame > 0).mean() >= 0.9, f"{path.name}: lifter found in too few frames"


def test_rep_table_has_every_video_and_the_true_rep_count(demo):
    reps = pd.read_parquet(demo / "results/tables/reps.parquet")
    assert set(reps["video_id"]) == {f"{lifter}_squat_{p:03d}" for lifter in LIFTERS for p in LOADS_PCT}
    counts = reps[reps["complete"]].groupby("video_id").size()
    assert (counts == N_REPS).all(), counts.to_dict()
    expected_pct = reps["load_kg"] / reps["one_rm_kg"] * 100
    pd.testing.assert_series_equal(reps["pct_1rm"], expected_pct, check_names=False)
    assert reps["trunk_angle_bottom_deg"].between(10, 80).all()
    truth = pd.concat(pd.read_parquet(p) for p in (demo / "results/demo/truth").glob("*.reps.parquet"))
    assert len(truth) == len(reps[reps["complete"]])


def test_stats_and_figures_are_made(demo):
    models = pd.read_csv(demo / "results/stats/models.csv")
    assert "hip_lead_trunk_change_deg" in set(models["metric"])
    for png in (demo / "results/figures").glob("*.png"):
        assert png.stat().st_size > 10_000, f"{png.name} looks empty"
    assert (demo / "results/figures/hip_lead_vs_load.png").exists()


def test_report_contains_the_figures_tables_and_provenance(demo):
    html = (demo / "results/report.html").read_text(errors="replace")
    for name in ("hip_lead_vs_load.png", "models.csv", "models.tex", "lifter_slopes.csv", "always.csv",
                 "qc_summary.csv", "provenance.json", "excluded.html", "answer.html"):  # fmt: skip
        assert name in html, f"{name} missing from the report"
    assert "1. Answer" in html
    answer = (demo / "results/report/answer.html").read_text()
    # the landing page opens with the findings (results/report/answer_summary.html)
    summary = (demo / "results/report/answer_summary.html").read_text()
    assert summary.startswith("<p class='finding'>") and summary in answer
    assert "load</h1>\\n" + summary[:60] in html
    assert answer.index("What this study found") < answer.index("Statistics tables")
    assert answer.index("Statistics tables") < answer.index("Configuration of this run")
    assert "n_bootstrap" in answer


def test_from_tables_alone_regenerates_stats_figures_and_report(demo, pose_blocker, tmp_path):
    """Only results/tables: no manifest, videos or keypoints; pose packages unimportable."""
    work = tmp_path / "tables_only"
    shutil.copytree(demo / "results/tables", work / "results/tables")
    (work / "config.yaml").write_text("from_tables: true\nstats: {n_bootstrap: 200}\n")
    env = {"PYTHONPATH": os.pathsep.join([str(pose_blocker), os.environ.get("PYTHONPATH", "")])}
    jobs = planned_jobs(work)
    assert jobs == {"fit_models": 1, "plot_figures": 1, "write_answer": 1, "all": 1}, jobs
    snakemake(work, env=env)
    snakemake(work, "--report", "results/report.html", env=env)
    pd.testing.assert_frame_equal(  # same tables, same models as the run from videos
        pd.read_csv(work / "results/stats/models.csv"), pd.read_csv(demo / "results/stats/models.csv")
    )
    assert (work / "results/figures/hip_lead_vs_load.png").stat().st_size > 10_000
    assert "models.csv" in (work / "results/report.html").read_text(errors="replace")
    proc = snakemake(work, "--config", "from_tables=yes", check=False)
    assert proc.returncode != 0 and "from_tables" in proc.stderr


def test_rerun_after_success_does_nothing(demo):
    assert planned_jobs(demo) == {}


def test_changing_one_video_reruns_only_its_chain_and_the_aggregates(demo, tmp_path):
    """A replaced video re-runs its own chain; a touch alone does not (same checksum)."""
    video = demo / "results/demo/videos/A1_squat_075.mp4"
    backup = tmp_path / video.name
    shutil.copy2(video, backup)
    try:
        os.utime(video)
        assert planned_jobs(demo) == {}, "a touch without new content re-runs nothing"
        with open(video, "ab") as fh:  # a new version of the file (trailing bytes, still decodable)
            fh.write(b"\0" * 16)
        jobs = planned_jobs(demo)
    finally:
        shutil.copy2(backup, video)
    assert jobs.get("estimate_poses") == 1 and jobs.get("analyze_video") == 1, jobs
    assert {"collect_tables", "fit_models", "plot_figures"} <= set(jobs), jobs
    assert "simulate_video" not in jobs
    assert planned_jobs(demo) == {}, "restoring the original leaves nothing to do"


def test_figures_regenerate_from_cached_tables_without_pose_packages(demo, pose_blocker, tmp_path):
    """The analysis side never imports torch/mmpose/mediapipe (they are made unimportable)."""
    cached = tmp_path / "cached"
    shutil.copytree(demo, cached, ignore=shutil.ignore_patterns("videos", ".snakemake"))
    for folder in ("tables", "stats", "figures"):
        shutil.rmtree(cached / "results" / folder)
    # Without the videos, only the cached keypoints remain: the user's "regenerate figures" case.
    shutil.rmtree(cached / "results/reps")
    env = {"PYTHONPATH": os.pathsep.join([str(pose_blocker), os.environ.get("PYTHONPATH", "")])}
    check = subprocess.run([sys.executable, "-c", "import mediapipe"], env={**os.environ, **env}, capture_output=True)
    assert check.returncode != 0, "the blocker must make mediapipe unimportable"
    targets = ["results/stats/models.csv", *(f"results/figures/{n}.png" for n in ("hip_lead_vs_load", "slope_forest"))]
    proc = snakemake(cached, *targets, "--allowed-rules", "analyze_video", "collect_tables", "fit_models",
                     "plot_figures", env=env)  # fmt: skip
    assert proc.returncode == 0
    assert (cached / "results/figures/hip_lead_vs_load.png").stat().st_size > 10_000
    regenerated = pd.read_parquet(cached / "results/tables/reps.parquet")
    original = pd.read_parquet(demo / "results/tables/reps.parquet")
    pd.testing.assert_frame_equal(regenerated, original)


def test_kill_minus_9_mid_pose_then_rerun_gives_identical_tables(demo, tmp_path):
    """A killed run leaves nothing a re-run would trust; finished videos are not redone."""
    work = tmp_path / "killed"
    work.mkdir()
    for name in ("config.yaml", "samples.tsv"):
        shutil.copy(demo / name, work / name)
    shutil.copytree(demo / "results/demo", work / "results/demo")  # same rendered videos
    cmd = [str(BIN / "snakemake"), "--snakefile", str(REPO / "Snakefile"), "--directory", str(work),
           "--configfile", str(work / "config.yaml"), "--cores", "2"]  # fmt: skip
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}
    proc = subprocess.Popen(cmd, cwd=work, env=env, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    keypoints = work / "results/keypoints"
    marked = work / ".snakemake/incomplete"

    def recorded_done() -> dict[Path, int]:
        """Keypoints of jobs Snakemake has recorded as complete; one killed between its
        rename and that record stays marked incomplete and is rightly redone."""
        return {
            p: p.stat().st_mtime_ns for p in keypoints.glob("*.parquet")
            if not (marked / urlsafe_b64encode(str(p.relative_to(work)).encode()).decode()).exists()
        }  # fmt: skip

    deadline = time.monotonic() + 600
    while time.monotonic() < deadline and not recorded_done():  # kill once one video is recorded done
        time.sleep(0.1)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    finished = recorded_done()
    assert finished, "no video had finished when the run was killed"
    assert len(finished) < len(LIFTERS) * len(LOADS_PCT), "the kill must land mid-pose"

    snakemake(work, "--unlock")  # a killed snakemake leaves its lock behind; the user unlocks
    snakemake(work, "--rerun-incomplete")
    for path, mtime in finished.items():
        assert path.stat().st_mtime_ns == mtime, f"{path.name} was recomputed"
    for table in ("reps", "curves"):
        ours = (work / f"results/tables/{table}.parquet").read_bytes()
        assert ours == (demo / f"results/tables/{table}.parquet").read_bytes(), f"{table}.parquet differs"
