"""The workflow on a real SLURM controller, through Snakemake's SLURM executor plugin.

Starts a single-node cluster on this host (munged, slurmctld, slurmd; 2 CPUs;
``tests/integration/slurm/cluster.sh`` installs Debian's slurm-wlm and munge when missing),
runs a small simulated study with the cluster profile, cancels one running pose
job with ``scancel`` and checks that a re-run finishes that video without
redoing the completed jobs. Marked slow (a few minutes).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from ..conftest import REPO, parse_job_table

pytestmark = pytest.mark.slow

BIN = Path(sys.executable).parent
CLUSTER = REPO / "tests" / "integration" / "slurm" / "cluster.sh"
VIDEOS = [f"{lifter}_squat_{pct:03d}" for lifter in ("S1", "S2") for pct in (60, 90)]


@pytest.fixture(scope="module")
def slurm_env(tmp_path_factory):
    can_install = os.geteuid() == 0 and shutil.which("apt-get")
    if not (can_install or shutil.which("slurmctld")):
        pytest.skip("the SLURM test starts daemons: run it as root on Debian/Ubuntu (CI does)")
    state = tmp_path_factory.mktemp("slurm")
    subprocess.run(["bash", str(CLUSTER), "start", str(state)], check=True, timeout=600)
    env = {**os.environ, "SLURM_CONF": str(state / "slurm.conf"), "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}
    yield env
    subprocess.run(["bash", str(CLUSTER), "stop", str(state)], check=False, timeout=60)


def write_study(work: Path) -> None:
    rows = [
        [vid, f"results/demo/videos/{vid}.mp4", vid[:2], "squat", "high_bar", 100 * int(vid[-3:]) / 100, 100.0, 1.75, "left"]
        for vid in VIDEOS
    ]
    cols = ["video_id", "path", "lifter_id", "lift", "variant", "load_kg", "one_rm_kg", "height_m", "camera_side"]
    pd.DataFrame(rows, columns=cols).to_csv(work / "samples.tsv", sep="\t", index=False)
    (work / "config.yaml").write_text(
        "samples: samples.tsv\nsimulate: {seed: 3, n_reps: 2, fps: 30}\nstats: {n_bootstrap: 100}\n"
    )


def snakemake_cmd(work: Path, *extra: str) -> list[str]:
    return [
        str(BIN / "snakemake"), "--snakefile", str(REPO / "Snakefile"), "--directory", str(work),
        "--configfile", str(work / "config.yaml"), "--profile", str(REPO / "workflow/profiles/slurm"),
        # this test cluster is one 2-CPU node: small jobs, no retries (a cancelled job must stay failed)
        "--jobs", "2", "--retries", "0", "--latency-wait", "5",
        "--default-resources", "mem_mb=1000", "runtime=30", "cpus_per_task=1",
        "--set-resources", "estimate_poses:mem_mb=1500", "estimate_poses:cpus_per_task=1",
        "--set-threads", "estimate_poses=1", *extra,
    ]  # fmt: skip


def running_pose_jobs(env) -> list[str]:
    out = subprocess.run(["squeue", "-h", "-t", "RUNNING", "-o", "%i %k"], env=env, capture_output=True, text=True)
    return [line.split()[0] for line in out.stdout.splitlines() if "rule_estimate_poses" in line]


def test_slurm_run_cancel_and_resume(slurm_env, tmp_path):
    work = tmp_path
    write_study(work)
    proc = subprocess.Popen(snakemake_cmd(work), cwd=work, env=slurm_env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)  # fmt: skip
    cancelled = None
    deadline = time.monotonic() + 900
    while proc.poll() is None and time.monotonic() < deadline:
        if cancelled is None and (jobs := running_pose_jobs(slurm_env)):
            cancelled = jobs[0]
            subprocess.run(["scancel", cancelled], env=slurm_env, check=True)
        time.sleep(1)
    output = proc.communicate(timeout=60)[0]
    assert cancelled is not None, f"no pose job was ever seen running:\n{output[-4000:]}"
    assert proc.returncode != 0, "the run with a cancelled job must report failure"

    done = {p.stem for p in (work / "results/keypoints").glob("*.parquet")}
    assert len(done) == len(VIDEOS) - 1, f"expected exactly one video unfinished, have {sorted(done)}"
    missing = (set(VIDEOS) - done).pop()
    before = {p: p.stat().st_mtime_ns for p in (work / "results").rglob("*.parquet")}

    dry_run = subprocess.run(snakemake_cmd(work, "--dry-run", "--quiet", "rules"), cwd=work, env=slurm_env,
                             capture_output=True, text=True, check=True)  # fmt: skip
    dry = dry_run.stdout + dry_run.stderr  # snakemake logs to stderr
    planned = parse_job_table(dry)
    assert planned.get("estimate_poses") == 1 and planned.get("analyze_video") == 1, dry
    assert "simulate_video" not in planned, dry

    rerun = subprocess.run(snakemake_cmd(work), cwd=work, env=slurm_env, capture_output=True, text=True, timeout=900)
    assert rerun.returncode == 0, rerun.stdout[-4000:] + rerun.stderr[-4000:]
    assert (work / f"results/keypoints/{missing}.parquet").exists()
    for path, mtime in before.items():
        if "tables" not in path.parts:
            assert path.stat().st_mtime_ns == mtime, f"{path} was redone"
    reps = pd.read_parquet(work / "results/tables/reps.parquet")
    assert set(reps["video_id"]) == set(VIDEOS)
    per_video = pd.concat(pd.read_parquet(work / f"results/reps/{v}.parquet") for v in VIDEOS)
    assert len(reps) == len(per_video) and reps["complete"].any()
    # (rep-count accuracy is the end-to-end test's business; this one is about the cluster)
