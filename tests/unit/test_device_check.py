"""The GPU check's dry run: is the carried wheel set complete? (no GPU, no wheels needed)."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

from ..conftest import REPO

GPU = REPO / "benchmarks" / "gpu"


def fake_wheel(folder: Path, name: str, version: str, requires: list[str] = ()) -> Path:
    """A wheel with only its METADATA: enough for the dry run, which reads nothing else."""
    path = folder / f"{name.replace('-', '_')}-{version}-py3-none-any.whl"
    meta = [f"Name: {name}", f"Version: {version}", *(f"Requires-Dist: {r}" for r in requires)]
    with zipfile.ZipFile(path, "w") as z:
        z.writestr(f"{name.replace('-', '_')}-{version}.dist-info/METADATA", "\n".join(meta) + "\n")
    return path


def dry_run(wheels: Path, pins: str, *extra: str) -> subprocess.CompletedProcess:
    (wheels.parent / "wheels.txt").write_text(pins)
    cmd = [sys.executable, str(GPU / "carried.py"), "--wheels", str(wheels),
           "--list", str(wheels.parent / "wheels.txt"), *extra]  # fmt: skip
    return subprocess.run(cmd, capture_output=True, text=True, timeout=60)


def test_a_complete_set_passes(tmp_path):
    wheels = tmp_path / "whl"
    wheels.mkdir()
    fake_wheel(wheels, "mmpose", "1.3.2", ["json-tricks", "chumpy", "numpy", "pywin32; sys_platform == 'win32'",
                                           "pytest; extra == 'tests'"])  # fmt: skip
    fake_wheel(wheels, "json-tricks", "3.17.3")
    proc = dry_run(wheels, "mmpose==1.3.2\njson_tricks==3.17.3\n", "--expect", "numpy")
    assert proc.returncode == 0, proc.stdout
    assert "2 carried wheels, every requirement met" in proc.stdout


def test_missing_wheels_and_requirements_are_named(tmp_path):
    wheels = tmp_path / "whl"
    wheels.mkdir()
    fake_wheel(wheels, "mmpose", "1.3.1", ["munkres", "xtcocotools"])
    fake_wheel(wheels, "xtcocotools", "1.14.3")
    proc = dry_run(wheels, "mmpose==1.3.2\nav==18.1.0\nxtcocotools==1.14.3\n", "--expect",
                   "no_such_module_here")  # fmt: skip
    assert proc.returncode == 1
    out = proc.stdout
    assert "version 1.3.1, wheels.txt pins 1.3.2" in out
    assert "av==18.1.0: no wheel in" in out
    assert "needs 'munkres': neither carried nor on this machine" in out
    assert "this machine lacks no_such_module_here" in out
    assert "xtcocotools" not in out  # carried and pinned: no complaint


def test_the_shipped_pins_name_every_wheel_the_check_installs():
    """wheels.txt and build_wheels.sh agree: the two built wheels are pinned, the rest downloaded."""
    pins = [ln.split("==")[0] for ln in (GPU / "wheels.txt").read_text().splitlines()
            if ln.strip() and not ln.startswith("#")]  # fmt: skip
    script = (GPU / "build_wheels.sh").read_text()
    assert {"mmcv-lite", "xtcocotools", "mmpose", "mmdet", "mmengine", "av"} <= set(pins)
    assert "mmcv-lite|xtcocotools" in script and "MMCV_WITH_OPS=0" in script
