"""Sub-command ``export``: keypoint files as OpenSim TRC, DeepLabCut CSV or movement netCDF.

Argument parsing only; the work is in :mod:`hipdrive.export`.
"""

from __future__ import annotations

import argparse
from pathlib import Path

#: ``hipdrive.export.FORMATS``' names, spelled out so that ``hipdrive --help`` need not
#: import pandas (a test checks the two agree).
FORMAT_NAMES = ("trc", "dlc-csv", "netcdf")


def add_commands(subparsers: argparse._SubParsersAction) -> None:
    """Register ``export``."""
    p = subparsers.add_parser(
        "export",
        help="keypoints -> OpenSim TRC, DeepLabCut CSV or movement netCDF",
        description="Write each keypoint file in a format other tools read: trc (OpenSim; "
        "X = image x, Y = image up, Z = 0; metres when the manifest gives the lifter's "
        "height_m, else pixels), dlc-csv (DeepLabCut's CSV: image pixels, y down) or netcdf "
        "(a movement poses dataset: image pixels, y down). One output per input, named after "
        "it, in --out.",
    )
    p.add_argument(
        "keypoints", nargs="+", type=Path, help="keypoint Parquet files, or folders of them"
    )
    p.add_argument("--format", required=True, choices=FORMAT_NAMES, dest="fmt")
    p.add_argument("--out", required=True, type=Path, help="output folder")
    p.add_argument(
        "--sample-sheet",
        type=Path,
        help="the manifest TSV: each video's height_m (and camera_side) for TRC in metres",
    )
    p.add_argument("--track", type=int, default=0, help="track to export (default 0, the lifter)")
    p.set_defaults(func=_export)


def _export(args: argparse.Namespace) -> int:
    from hipdrive.export import export_files

    written = export_files(
        args.keypoints, args.fmt, args.out, sample_sheet=args.sample_sheet, track=args.track
    )
    for path, units in written:
        print(f"{path} ({units})")
    return 0
