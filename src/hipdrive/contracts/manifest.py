"""The manifest (sample sheet): one row per video, read and checked once.

The JSON schema (``config/schemas/samples.schema.yaml``) checks each row's
types and ranges; this module checks what a schema cannot: unique ids, files
that exist inside the data root, and load/1RM plausibility. Every message
names the manifest file, the row (1-based, header = row 1) and the cause, and
all problems are reported together so a user fixes the sheet in one pass.
"""

from __future__ import annotations

import io
import os
import re
from pathlib import Path

import numpy as np
import pandas as pd

from hipdrive.contracts.files import sha256_file
from hipdrive.errors import InputError

REQUIRED_COLUMNS = ("video_id", "lifter_id", "lift", "variant")
#: Where a row's keypoints come from: a video (``path``), another tool's keypoint file
#: (``keypoints`` in ``keypoints_format``; ``fps`` when there is no video), or both.
SOURCE_COLUMNS = ("path", "keypoints", "keypoints_format", "fps")
#: Keypoint files hipdrive imports (:mod:`hipdrive.pose.importers`); movement's netCDF
#: carries everything movement reads (SLEAP, DeepLabCut .h5, LightningPose, Anipose).
KEYPOINT_FORMATS = ("openpose", "mmpose-json", "coco17-csv", "dlc-csv", "movement-netcdf")
OPTIONAL_COLUMNS = ("load_kg", "one_rm_kg", "height_m", "camera_side")
#: The columns of a video manifest, in the order a generated one (the simulated study) writes them.
COLUMNS = ("video_id", "path", "lifter_id", "lift", "variant", *OPTIONAL_COLUMNS)
NUMERIC_COLUMNS = ("load_kg", "one_rm_kg", "height_m", "fps")
_TEXT_COLUMNS = ("video_id", "path", "lifter_id", "lift", "variant", "camera_side", "keypoints",
                 "keypoints_format")  # fmt: skip
#: A load more than this fraction above the stated 1RM is a typo, not a PR.
MAX_LOAD_OVER_1RM = 0.20


def read_manifest(path: str | os.PathLike) -> pd.DataFrame:
    """Read the TSV manifest with ids as strings and empty cells as NaN.

    Raises :class:`InputError` for an unreadable file, non-UTF-8 bytes (with
    the line number), missing required columns or non-numeric numbers.
    """
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(f"manifest {path}: cannot read ({exc.strerror})") from exc
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise InputError(f"manifest {path}: line {line} is not UTF-8 text ({exc.reason})") from exc
    # a comment is a whole line starting with '#': a '#' inside a file name is part of it
    lines = [ln for ln in raw.decode("utf-8").splitlines(keepends=True)
             if not ln.lstrip().startswith("#")]  # fmt: skip
    try:
        sheet = pd.read_csv(io.StringIO("".join(lines)), sep="\t",
                            dtype={c: "string" for c in _TEXT_COLUMNS})  # fmt: skip
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise InputError(f"manifest {path}: not a tab-separated table ({exc})") from exc
    missing = [c for c in REQUIRED_COLUMNS if c not in sheet.columns]
    if "path" not in sheet.columns and "keypoints" not in sheet.columns:
        missing.insert(1, "path (or keypoints)")
    if missing:
        seps = {sep: lines[0].count(sep) for sep in (",", ";", "|") if lines and sep in lines[0]}
        hint = (f" (its header is separated by {max(seps, key=seps.get)!r}; the manifest is "
                "tab-separated)") if seps and "\t" not in lines[0] else ""  # fmt: skip
        raise InputError(f"manifest {path}: missing column(s) {', '.join(missing)}{hint}")
    if sheet.empty:
        raise InputError(f"manifest {path}: no videos (a header and no rows)")
    for col in SOURCE_COLUMNS + OPTIONAL_COLUMNS:
        if col not in sheet.columns:
            sheet[col] = np.nan if col in NUMERIC_COLUMNS else pd.Series(pd.NA, index=sheet.index, dtype="string")
    problems = []
    for col in NUMERIC_COLUMNS:
        values = pd.to_numeric(sheet[col], errors="coerce")
        bad = values.isna() & sheet[col].notna()
        problems += [
            f"row {i + 2} ({sheet.at[i, 'video_id']}): {col} '{sheet.at[i, col]}' is not a number"
            for i in np.flatnonzero(bad)
        ]
        sheet[col] = values.astype("float64")
    if problems:
        raise InputError(f"manifest {path}:\n  " + "\n  ".join(problems))
    return sheet


def schema_problems(
    sheet: pd.DataFrame, *, manifest: str | os.PathLike, schema: str | os.PathLike
) -> list[str]:
    """Every row's JSON-schema violations, one message per row and field.

    Why not Snakemake's ``validate``: it stops at the first bad row and prints
    the schema; a user fixing a 10,000-row sheet needs every row at once. Each
    column's distinct values are validated once against the column's own
    schema (a 10,000-row sheet has few distinct loads, lifts and variants), so
    this stays well under a second for the 60-s planning budget.
    """
    import jsonschema
    import yaml

    with open(schema, encoding="utf-8") as fh:
        spec = yaml.safe_load(fh)
    required = set(spec.get("required", ()))
    problems = []
    for col, sub in spec.get("properties", {}).items():
        if col not in sheet.columns:
            continue  # read_manifest reports missing required columns
        validator = jsonschema.Draft202012Validator(sub)
        cells = [None if _missing(v) else v for v in sheet[col].tolist()]
        verdict: dict[object, str | None] = {}
        for i, value in enumerate(cells):
            if value not in verdict:
                if value is None and col in required:
                    verdict[value] = "is empty"
                else:
                    err = next(iter(validator.iter_errors(value)), None)
                    verdict[value] = None if err is None else _say(err)
            if verdict[value] is not None:
                shown = "" if value is None else f" {value!r}"
                problems.append(
                    f"{manifest}: row {i + 2} ({sheet['video_id'].iat[i]}): {col}{shown} {verdict[value]}"
                )
    return problems


def _say(err) -> str:
    """A schema violation in words, without the JSON-schema jargon."""
    rule, limit = err.validator, err.validator_value
    if rule == "enum":
        return "must be one of " + ", ".join(str(v) for v in limit if v is not None)
    if rule == "type":
        return f"must be {' or '.join(limit) if isinstance(limit, list) else limit}"
    words = {
        "exclusiveMinimum": "must be >",
        "minimum": "must be >=",
        "maximum": "must be <=",
        "pattern": "must match",
    }
    return f"{words[rule]} {limit}" if rule in words else err.message


def sort_by_row(problems: list[str]) -> list[str]:
    """Manifest problems ordered by their row number (messages without one first)."""
    row = re.compile(r": row (\d+) ")
    return sorted(problems, key=lambda p: int(m.group(1)) if (m := row.search(p)) else 0)


def _missing(value: object) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value))


def check_manifest(
    sheet: pd.DataFrame,
    *,
    manifest: str | os.PathLike,
    data_root: str | os.PathLike,
    require_files: bool = True,
) -> list[str]:
    """Problems the schema cannot see, one message per row and cause.

    Parameters
    ----------
    sheet : the manifest as read by :func:`read_manifest`.
    manifest : its path (only for messages).
    data_root : folder the ``path`` column is relative to; a path resolving
        outside it (``../../etc/passwd``) is refused.
    require_files : check that each video exists (off when the video is
        produced by the workflow itself, e.g. the simulated demo).
    """
    root = Path(data_root).resolve()
    problems: list[str] = []
    where = [f"{manifest}: row {i + 2} ({vid})" for i, vid in enumerate(sheet["video_id"])]
    dup = sheet["video_id"].duplicated(keep=False)
    for i in np.flatnonzero(dup):
        problems.append(f"{where[i]}: duplicate video_id")
    paths, keypoints = _cells(sheet, "path"), _cells(sheet, "keypoints")
    for i in range(len(sheet)):
        if paths[i] is None and keypoints[i] is None:
            problems.append(f"{where[i]}: neither a video (path) nor a keypoint file (keypoints)")
        if keypoints[i] is not None:
            if _missing(sheet["keypoints_format"].iat[i]):
                problems.append(f"{where[i]}: keypoints '{keypoints[i]}' needs keypoints_format "
                                f"(one of {', '.join(KEYPOINT_FORMATS)})")  # fmt: skip
            if paths[i] is None and not sheet["fps"].iat[i] > 0:
                problems.append(f"{where[i]}: keypoints without a video need fps (the frame rate)")
    for col, cells, what in (("path", paths, "video"), ("keypoints", keypoints, "keypoint file")):
        for i, rel in enumerate(cells):
            if rel is None:
                continue
            full = (root / rel).resolve()
            if not full.is_relative_to(root):
                link = _symlink_on_the_way(root, rel)
                problems.append(
                    f"{where[i]}: {col} '{rel}' is a symbolic link ({link} -> {link.resolve()}) "
                    f"leading outside the data root {root}"
                    if link is not None
                    else f"{where[i]}: {col} '{rel}' lies outside the data root {root}"
                )
            elif require_files and not full.exists():
                problems.append(f"{where[i]}: {what} '{rel}' does not exist under {root}")
        problems += _same_content(sheet, cells, root, where, what)
    load, orm = sheet["load_kg"].to_numpy(), sheet["one_rm_kg"].to_numpy()
    over = np.flatnonzero(load > orm * (1 + MAX_LOAD_OVER_1RM))
    for i in over:
        problems.append(
            f"{where[i]}: load_kg {load[i]:g} exceeds one_rm_kg {orm[i]:g} by more than "
            f"{MAX_LOAD_OVER_1RM:.0%} (typo?)"
        )
    return problems


def _symlink_on_the_way(root: Path, rel: str) -> Path | None:
    """The first symbolic link on the way from ``root`` to ``rel`` (None if there is none)."""
    here = root
    for part in Path(rel).parts:
        here = here / part
        if here.is_symlink():
            return here
    return None


def _cells(sheet: pd.DataFrame, col: str) -> list[str | None]:
    """A text column's cells, None where empty."""
    return [None if _missing(v) or not str(v).strip() else str(v) for v in sheet[col].tolist()]


def _same_content(
    sheet: pd.DataFrame, cells: list[str | None], root: Path, where: list[str], what: str
) -> list[str]:
    """Rows whose file is byte for byte another row's: one set counted twice.

    Only files of equal size are hashed, so a 10,000-video manifest costs a
    ``stat`` per file.
    """
    by_size: dict[int, list[int]] = {}
    dup_id = sheet["video_id"].duplicated(keep="first").to_numpy()  # reported as duplicate ids
    for i, rel in enumerate(cells):
        if dup_id[i] or rel is None:
            continue
        full = (root / rel).resolve()
        size = full.stat().st_size if full.is_relative_to(root) and full.is_file() else 0
        if size:  # an empty file is no video: its pose job excludes it as such
            by_size.setdefault(size, []).append(i)
    problems = []
    for rows in (r for r in by_size.values() if len(r) > 1):
        first: dict[str, int] = {}
        for i in rows:
            digest = sha256_file(root / str(cells[i]))
            if digest in first:
                j = first[digest]
                problems.append(
                    f"{where[i]}: the same file as row {j + 2} ({sheet['video_id'].iat[j]}) "
                    f"(sha256 {digest[:12]}...): one {what} listed under two ids"
                )
            else:
                first[digest] = i
    return problems


def manifest_problems(
    sheet: pd.DataFrame,
    *,
    manifest: str | os.PathLike,
    schema: str | os.PathLike,
    data_root: str | os.PathLike,
    require_files: bool = True,
) -> list[str]:
    """All problems of a manifest, schema and beyond, sorted by row (what the workflow shows)."""
    problems = schema_problems(sheet, manifest=manifest, schema=schema)
    problems += check_manifest(
        sheet, manifest=manifest, data_root=data_root, require_files=require_files
    )
    return sort_by_row(problems)


def sample_row(sheet: pd.DataFrame, video_id: str) -> dict:
    """One manifest row as a plain dict (NaN -> None), e.g. for JSON params."""
    row = sheet.loc[sheet["video_id"] == video_id]
    if row.empty:
        raise InputError(f"video_id '{video_id}' is not in the manifest")
    rec = row.iloc[0].to_dict()
    return {
        k: (None if (v is pd.NA or (isinstance(v, float) and np.isnan(v))) else v)
        for k, v in rec.items()
    }
