"""Shared fixtures: paths, the real-footage folder, and a pose-package blocker.

Layout: ``tests/unit`` holds the quick tests (no workflow run, no whole real clip through a
model); ``tests/integration`` the modules built around workflow runs, real footage, SLURM
and long simulations, marked ``slow``, with the few quick checks of their own helpers
left unmarked beside them. The markers, not the folders, select what a Makefile target
runs: ``-m "not slow and not mmpose"`` (test-fast), ``-m "not mmpose"`` (test-main, on
parallel workers that take a whole test file each, ``-n 2 --dist loadfile``, so a module's
workflow run happens once, the longest files first).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

from hipdrive.pose import POSE_PACKAGES

REPO = Path(__file__).resolve().parents[1]
REAL = REPO.parent / "shared" / "real"


#: The test files that take longest (minutes each), longest first. They are collected
#: first and, with ``--no-loadscope-reorder`` (xdist otherwise orders files by their
#: number of tests), handed out first, so parallel workers start on them at once rather
#: than one of them ending the run alone on a long file picked up last.
LONGEST_FIRST = (
    "test_real_footage.py",
    "test_slurm.py",
    "test_workflow.py",
    "test_bad_input_workflow.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    rank = {name: i for i, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))  # stable: the rest as found


def other_side(name: str) -> str:
    """A keypoint's name on the body's other side (``left_knee`` -> ``right_knee``): what
    a mirror image calls it."""
    return name.replace("left", "@").replace("right", "left").replace("@", "right")


def load_benchmark(name: str) -> ModuleType:
    """A script from ``benchmarks/`` as a module (they are scripts, not a package)."""
    spec = importlib.util.spec_from_file_location(name, REPO / "benchmarks" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def parse_job_table(text: str) -> dict[str, int]:
    """Rule -> job count from a ``snakemake --dry-run --quiet rules`` log ({} if nothing to do)."""
    if "Nothing to be done" in text:
        return {}
    counts = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[1].isdigit() and parts[0] not in ("total", "job"):
            counts[parts[0]] = int(parts[1])
    assert counts, f"could not read the dry run's job table:\n{text[-3000:]}"
    return counts


@pytest.fixture
def real_dir() -> Path:
    """``../shared/real``; skips with a message when a user's clone lacks it."""
    if not REAL.is_dir():
        pytest.skip(f"real footage folder {REAL} is absent (it exists only on the project's machines)")
    return REAL


@pytest.fixture
def pose_blocker(tmp_path: Path) -> Path:
    """A folder to put first on PYTHONPATH that makes every pose package unimportable."""
    root = tmp_path / "blocked"
    for name in POSE_PACKAGES:
        pkg = root / name
        pkg.mkdir(parents=True)
        (pkg / "__init__.py").write_text(
            f"raise ImportError('{name} is blocked: the analysis side must not import pose packages')\n"
        )
    return root
