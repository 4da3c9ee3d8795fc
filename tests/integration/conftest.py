"""Helpers of the workflow-run tests: Snakemake on a working directory, its dry-run job table."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from ..conftest import REPO, parse_job_table

BIN = Path(sys.executable).parent


def snakemake(workdir: Path, *args: str, env: dict | None = None, check: bool = True):
    cmd = [
        str(BIN / "snakemake"), "--snakefile", str(REPO / "Snakefile"), "--directory", str(workdir),
        "--configfile", str(workdir / "config.yaml"), "--cores", "2",
        "--max-checksum-file-size", "1000000000",  # as workflow/profiles/*: touched videos re-run nothing
        *args,
    ]  # fmt: skip
    run_env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}", **(env or {})}
    proc = subprocess.run(cmd, cwd=workdir, env=run_env, capture_output=True, text=True, timeout=1800)
    if check and proc.returncode != 0:
        logs = "\n".join(
            f"--- {p}\n{p.read_text()[-3000:]}" for p in sorted((workdir / "results/logs").rglob("*.log"))
        ) if (workdir / "results/logs").exists() else ""
        pytest.fail(f"snakemake {' '.join(args)} failed:\n{proc.stderr[-6000:]}\n{logs}")
    return proc


def planned_jobs(workdir: Path) -> dict[str, int]:
    """Rule -> job count of a dry run (empty when nothing is to be done)."""
    proc = snakemake(workdir, "--dry-run", "--quiet", "rules")
    return parse_job_table(proc.stdout + proc.stderr)  # snakemake logs to stderr
