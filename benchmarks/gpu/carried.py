"""Is the carried wheel set complete? (device_check.sh's dry run).

Every pin in ``wheels.txt`` must have its wheel in the folder, and every
requirement those wheels declare must be carried too or already installed on
the machine running this (the GPU machine, or the rehearsal's scratch venv).
Exits 1 naming what is missing.
"""

from __future__ import annotations

import argparse
import re
import sys
import zipfile
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement

#: Declared requirements inference never imports, or that another distribution provides.
NOT_NEEDED = {
    "chumpy": "mmpose's SMPL utilities only; does not build on Python 3.12",
    "opencv-python": "provided by opencv-python-headless (same cv2 module)",
    "mmcv": "provided by mmcv-lite (same mmcv module, without compiled ops)",
}
#: Packages the device check imports from the machine itself (never carried).
MACHINE = ("torch", "torchvision", "numpy", "cv2", "pandas", "pyarrow", "scipy", "yaml")


def norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pins(path: Path) -> dict[str, str]:
    out = {}
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, _, version = line.partition("==")
            out[norm(name)] = version
    return out


def wheel_meta(path: Path) -> tuple[str, str, list[str]]:
    with zipfile.ZipFile(path) as z:
        name = next(n for n in z.namelist() if n.endswith(".dist-info/METADATA"))
        text = z.read(name).decode()
    head = dict(re.findall(r"^(Name|Version): (.+)$", text, re.M))
    reqs = re.findall(r"^Requires-Dist: (.+)$", text, re.M)
    return norm(head["Name"]), head["Version"], reqs


def applies(requirement: str) -> bool:
    """Whether a declared requirement applies here (no extra asked for; markers evaluated)."""
    req = Requirement(requirement)
    return req.marker is None or req.marker.evaluate({"extra": ""})


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--wheels", type=Path, required=True)
    ap.add_argument("--list", type=Path, required=True)
    ap.add_argument("--expect", default=",".join(MACHINE),
                    help="comma-separated modules the machine itself must have")  # fmt: skip
    args = ap.parse_args(argv)
    wanted = pins(args.list)
    problems = []
    found: dict[str, Path] = {}
    for whl in sorted(args.wheels.glob("*.whl")) if args.wheels.is_dir() else []:
        name, version, _ = wheel_meta(whl)
        if name in found:
            problems.append(f"two wheels of {name}: {found[name].name}, {whl.name}")
        found[name] = whl
        if name not in wanted:
            problems.append(f"{whl.name}: not in {args.list.name}")
        elif wanted[name] != version:
            problems.append(f"{whl.name}: version {version}, {args.list.name} pins {wanted[name]}")
    for name in wanted:
        if name not in found:
            problems.append(f"{name}=={wanted[name]}: no wheel in {args.wheels}")
    for whl in found.values():
        for req in wheel_meta(whl)[2]:
            if not applies(req):
                continue
            dep = norm(Requirement(req).name)
            if dep in found or dep in NOT_NEEDED:
                continue
            try:
                metadata.distribution(dep)
            except metadata.PackageNotFoundError:
                problems.append(f"{whl.name} needs {req!r}: neither carried nor on this machine")
    for module in filter(None, args.expect.split(",")):
        try:
            __import__(module)
        except ImportError as exc:
            problems.append(f"this machine lacks {module} ({exc}); the check expects it installed")
    if problems:
        print("device_check: the carried set is not complete:", *problems, sep="\n  ")
        print(f"  (rebuild with: bash benchmarks/gpu/build_wheels.sh {args.wheels})")
        return 1
    print(f"device_check: {len(found)} carried wheels, every requirement met")
    return 0


if __name__ == "__main__":
    sys.exit(main())
