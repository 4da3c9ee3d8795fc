"""Keypoint files in the formats other tools read: OpenSim TRC, DeepLabCut CSV, movement netCDF.

Researchers take hipdrive's keypoints on to musculoskeletal models (OpenSim),
to DeepLabCut-based tooling, or to movement's xarray analysis; each format is
written here once, from the keypoint contract, so nobody re-implements it.

Coordinates
-----------
DLC CSV and netCDF keep the source's image pixels, y down, exactly as pose
tools write them (and as DeepLabCut and movement expect). TRC is a lab-frame
format: X = image x, Y = image *up* (y negated), Z = 0, in metres when the
lifter's stature is known (scaled by the analysis' body height in pixels),
else in pixels. Missing points are NaN (DLC, netCDF) or empty fields (TRC).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from hipdrive.contracts.files import atomic_path, atomic_write_bytes
from hipdrive.contracts.keypoints import CONTRACT_NAMES, long_to_frames, read_keypoints
from hipdrive.errors import BackendUnavailableError, InputError

#: Format name -> file extension of its output.
FORMATS = {"trc": ".trc", "dlc-csv": ".csv", "netcdf": ".nc"}


@dataclass(frozen=True)
class Track:
    """One track of a keypoint file as dense arrays (image pixels, y down)."""

    source: Path
    metadata: dict[str, Any]
    track: int
    names: tuple[str, ...]
    frames: np.ndarray  # (n_frames,) int
    time_s: np.ndarray  # (n_frames,)
    xy: np.ndarray  # (n_frames, n_keypoints, 2), NaN where missing
    score: np.ndarray  # (n_frames, n_keypoints)

    @property
    def fps(self) -> float:
        fps = self.metadata.get("fps")
        if fps:
            return float(fps)
        dt = np.diff(self.time_s)  # fall back on the timestamps
        return float(1.0 / np.median(dt)) if len(dt) else float("nan")


def keypoint_files(paths: list[str | os.PathLike]) -> list[Path]:
    """The files named, with a folder standing for its ``*.parquet`` files (sorted)."""
    files: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            found = sorted(p.glob("*.parquet"))
            if not found:
                raise InputError(f"{p}: folder holds no keypoint files (*.parquet)")
            files += found
        elif p.is_file():
            files.append(p)
        else:
            raise InputError(f"{p}: no such file or folder")
    return files


def load_track(path: str | os.PathLike, track: int = 0) -> Track:
    """One track of a keypoint file; only the keypoints the file holds, in contract order."""
    table, metadata = read_keypoints(path)
    if not (table["track"] == track).any():
        held = sorted(int(t) for t in pd.unique(table["track"]))
        raise InputError(f"{path}: no track {track} (the file holds tracks {held})")
    present = set(table["keypoint"].astype(str))
    names = tuple(n for n in CONTRACT_NAMES if n in present)
    frames, time_s, xy, score = long_to_frames(table, names, track=track)
    return Track(Path(path), metadata, track, names, frames, time_s, xy, score)


def metres_per_pixel(track: Track, sample: dict[str, Any]) -> float | None:
    """``height_m / body height in pixels`` for the lifter of ``track``; None when unknown.

    The body height is the analysis' own estimator (:func:`hipdrive.body.body_height_px`
    on the side :func:`~hipdrive.analysis.kinematics.choose_side` picks, points below the analysis'
    score threshold left out), applied to the unfiltered points exported, so metres here
    and in the analysis rest on the same anthropometric model (within its filtering).
    """
    from hipdrive.analysis.kinematics import choose_side
    from hipdrive.analysis.params import AnalysisParams
    from hipdrive.body import body_height_px

    height_m = sample.get("height_m")
    if height_m is None or not math.isfinite(float(height_m)):
        return None
    camera_side = sample.get("camera_side")
    side = choose_side(track.score, track.names, camera_side=camera_side or None)
    seen = track.score >= AnalysisParams.score_threshold
    xy_up = np.where(seen[..., None], track.xy * [1.0, -1.0], np.nan)
    try:
        h_px = body_height_px(xy_up, track.names, side=side)
    except InputError as exc:
        raise InputError(f"{track.source}: {exc}") from exc
    return float(height_m) / h_px


def write_trc(track: Track, path: str | os.PathLike, *, metres_per_px: float | None = None) -> None:
    """OpenSim TRC: X = image x, Y = image up, Z = 0; metres when ``metres_per_px`` is given.

    Frame# is 1-based (the decoded frame index + 1) and Time is the presentation
    timestamp; missing points are empty fields, which OpenSim reads as gaps.
    """
    scale, units = (1.0, "px") if metres_per_px is None else (metres_per_px, "m")
    n, m = len(track.frames), len(track.names)
    fps = f"{track.fps:g}"
    first = int(track.frames[0]) + 1 if n else 1
    lines = [
        f"PathFileType\t4\t(X/Y/Z)\t{Path(path).name}",
        "DataRate\tCameraRate\tNumFrames\tNumMarkers\tUnits\tOrigDataRate"
        "\tOrigDataStartFrame\tOrigNumFrames",
        f"{fps}\t{fps}\t{n}\t{m}\t{units}\t{fps}\t{first}\t{n}",
        "Frame#\tTime\t" + "\t\t\t".join(track.names) + "\t\t",
        "\t\t" + "\t".join(f"X{i}\tY{i}\tZ{i}" for i in range(1, m + 1)),
        "",
    ]
    xyz = np.zeros((n, m, 3))
    xyz[..., 0] = track.xy[..., 0] * scale
    xyz[..., 1] = -track.xy[..., 1] * scale
    xyz[np.isnan(track.xy).any(axis=-1)] = np.nan
    for i in range(n):
        cells = ["" if np.isnan(v) else f"{v:.6f}" for v in xyz[i].ravel()]
        lines.append(f"{int(track.frames[i]) + 1}\t{track.time_s[i]:.6f}\t" + "\t".join(cells))
    atomic_write_bytes(("\n".join(lines) + "\n").encode("utf-8"), path)


def dlc_frame(track: Track) -> pd.DataFrame:
    """DeepLabCut's single-animal table: columns (scorer, bodyparts, coords), index = frame."""
    scorer = f"hipdrive_{track.metadata.get('backend') or 'unknown'}"
    columns = pd.MultiIndex.from_product(
        [[scorer], list(track.names), ["x", "y", "likelihood"]],
        names=["scorer", "bodyparts", "coords"],
    )
    values = np.concatenate([track.xy, track.score[..., None]], axis=-1)
    return pd.DataFrame(values.reshape(len(track.frames), -1), index=track.frames, columns=columns)


def write_dlc_csv(track: Track, path: str | os.PathLike) -> None:
    """The CSV DeepLabCut writes beside its ``.h5`` (three header rows, then one row per frame)."""
    atomic_write_bytes(dlc_frame(track).to_csv().encode("utf-8"), path)


def write_netcdf(track: Track, path: str | os.PathLike) -> None:
    """A movement poses dataset (``position``, ``confidence``) as netCDF.

    Written with scipy's netCDF-3 engine (scipy is already a dependency, no HDF5
    library needed); ``xarray.open_dataset`` and movement's netCDF loader read it.
    """
    try:
        import xarray as xr
    except ImportError as exc:  # an environment made before xarray became a dependency
        raise BackendUnavailableError(
            f"{path}: netCDF export needs xarray; reinstall hipdrive (pip install -e .)"
        ) from exc

    individual = f"track_{track.track}"
    position = np.transpose(track.xy, (0, 2, 1))[..., None].astype(np.float32)
    attrs = {
        "fps": track.fps,
        "time_unit": "seconds",
        "source_software": f"hipdrive ({track.metadata.get('backend')})",
        "source_file": str(track.source),
        "ds_type": "poses",
        "video_id": str(track.metadata.get("video_id")),
    }
    ds = xr.Dataset(
        {
            "position": (("time", "space", "keypoints", "individuals"), position),
            "confidence": (
                ("time", "keypoints", "individuals"),
                track.score[..., None].astype(np.float32),
            ),
        },
        coords={
            "time": track.time_s,
            "space": ["x", "y"],
            "keypoints": list(track.names),
            "individuals": [individual],
        },
        attrs=attrs,
    )
    with atomic_path(path) as tmp:
        ds.to_netcdf(tmp, engine="scipy")


def export_files(
    paths: list[str | os.PathLike],
    fmt: str,
    out_dir: str | os.PathLike,
    *,
    sample_sheet: str | os.PathLike | None = None,
    track: int = 0,
) -> list[tuple[Path, str]]:
    """Write each keypoint file (folders: their ``*.parquet``) in ``fmt``: ``[(output, units)]``.

    One output per input, ``out_dir/<input stem><ext>``. ``sample_sheet`` (the
    manifest) gives each video's ``height_m`` and ``camera_side`` for TRC in metres;
    every video must then be in it, so a typo never silently yields pixels.
    """
    if fmt not in FORMATS:
        raise InputError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
    files = keypoint_files(paths)
    stems: dict[str, Path] = {}
    for f in files:
        if f.stem in stems:
            raise InputError(
                f"{f} and {stems[f.stem]} would both be written as {f.stem}{FORMATS[fmt]}"
            )
        stems[f.stem] = f
    sheet = None
    if sample_sheet is not None:
        from hipdrive.contracts.manifest import read_manifest, sample_row

        sheet = read_manifest(sample_sheet)
    written = []
    for f in files:
        data = load_track(f, track)
        sample = None
        if sheet is not None:
            video_id = str(data.metadata.get("video_id"))
            try:
                sample = sample_row(sheet, video_id)
            except InputError as exc:
                raise InputError(f"{f}: video_id '{video_id}' is not in {sample_sheet}") from exc
        written.append(_export(data, fmt, Path(out_dir) / (f.stem + FORMATS[fmt]), sample))
    return written


def _export(data: Track, fmt: str, out: Path, sample: dict[str, Any] | None) -> tuple[Path, str]:
    if fmt == "trc":
        scale = metres_per_pixel(data, sample) if sample else None
        write_trc(data, out, metres_per_px=scale)
        return out, "px" if scale is None else "m"
    if fmt == "dlc-csv":
        write_dlc_csv(data, out)
    else:
        write_netcdf(data, out)
    return out, "px"
