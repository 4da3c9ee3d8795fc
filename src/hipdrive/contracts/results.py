"""The statistics stage's outputs: the CSV tables, their slope unit and their provenance.

``hipdrive fit-models`` writes them into ``results/stats/``; the figures and
the report read them back by name.
"""

from __future__ import annotations

import os
import platform
import sys
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from hipdrive.contracts.files import atomic_write_bytes, sha256_file

PCT_STEP = 10.0
"""Slopes are reported per this many percentage points of 1RM."""

STATS_FILES = (
    "models.csv",
    "models.tex",
    "lifter_slopes.csv",
    "always.csv",
    "spm.csv",
    "spm_clusters.csv",
    "qc_summary.csv",
    "provenance.json",
)
"""Files :func:`hipdrive.stats.write_stats` writes into its output folder."""


def write_csv(frame: pd.DataFrame, path: str | os.PathLike) -> None:
    """Write one statistics table as CSV, atomically."""
    atomic_write_bytes(frame.to_csv(index=False).encode(), path)


def read_stats_table(path: str | os.PathLike) -> pd.DataFrame | None:
    """A table :func:`write_csv` wrote; None when the file is absent, empty when it has no rows."""
    path = Path(path)
    if not path.is_file():
        return None
    try:
        return pd.read_csv(path)
    except pd.errors.EmptyDataError:
        return pd.DataFrame()


def provenance(params: dict, inputs: dict[str, str | Path] | None = None) -> dict:
    """Software versions, parameters and input checksums for the report."""
    import importlib.metadata as md

    versions = {"python": sys.version.split()[0], "platform": platform.platform()}
    for pkg in ("hipdrive", "numpy", "pandas", "pyarrow", "scipy", "statsmodels", "spm1d"):
        try:
            versions[pkg] = md.version(pkg)
        except md.PackageNotFoundError:
            versions[pkg] = "not installed"
    files = {}
    for name, p in (inputs or {}).items():
        p = Path(p)
        files[name] = {"path": str(p), "sha256": sha256_file(p) if p.is_file() else None}
    return {
        "created_utc": datetime.now(UTC).isoformat(timespec="seconds"),
        "software": versions,
        "params": params,
        "inputs": files,
    }
