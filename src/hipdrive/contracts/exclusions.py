"""Exclusion records: a video that cannot give data is recorded, never fatal, never silent.

Why: one corrupt phone clip must not sink a 10,000-video run, and a video
missing from the results must say why. A stage that meets
:class:`~hipdrive.errors.UnusableVideoError` (run with ``--on-bad-video
exclude``, as the workflow does) still writes its output file(s), with zero
rows and an ``excluded`` entry ``{"stage": ..., "reason": ...}`` in the file's
``hipdrive`` metadata. Later stages pass the record on; ``collect-tables``
lists every excluded video, and every rep kept out of the models, in
``results/qc/excluded.tsv`` (and an HTML copy shown in the report).

A record holds no data, so nothing partial is ever trusted. Replacing the
video changes its checksum, and Snakemake re-runs its chain.
"""

from __future__ import annotations

import html
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from hipdrive.contracts.files import atomic_write_bytes
from hipdrive.contracts.keypoints import KEYPOINT_SCHEMA, REQUIRED_METADATA, write_keypoints

#: Columns of ``results/qc/excluded.tsv``; ``rep`` is empty for a whole video.
EXCLUDED_COLUMNS = ("video_id", "rep", "stage", "reason")

#: Stages that exclude a whole video (``rep`` empty).
VIDEO_STAGES = ("pose", "analysis")
#: Stage of a stretch of video where the lifter was lost outside every counted rep.
LOST_STAGE = "lifter lost"
#: Stage of a video that decoded to fewer frames than its header declares.
TRUNCATED_STAGE = "truncated video"
#: Stage of a video whose manifest camera_side the picture contradicts (kept, side corrected).
CAMERA_SIDE_STAGE = "camera side"
#: Stage of a stretch the bar moved like a rep but that was no rep (the lifter walked).
NOT_A_REP_STAGE = "not a rep"
#: Stages of notes on a video that stays in the results.
NOTE_STAGES = (TRUNCATED_STAGE, CAMERA_SIDE_STAGE, NOT_A_REP_STAGE)

#: Rep flags that keep a rep out of the models (:func:`hipdrive.contracts.reps.validate_reps`),
#: in the order their reasons are listed.
REP_REASONS = (
    ("failed", True, "failed"),  # with what was judged, per lift (FAILED_BECAUSE)
    ("complete", False, "incomplete: the clip starts or ends inside the rep"),
    ("flag_lifter_lost", True, "lifter lost (out of frame, undetected, or another shape read as the lifter) during the rep"),
    ("flag_gap", True, "keypoint gap (unseen, or a misread pose dropped) longer than max_gap_s during the rep"),
    ("flag_swap", True, "left/right limb swap during the rep"),
    ("flag_low_confidence", True, "low keypoint confidence in over 20% of the rep's frames"),
    ("flag_implausible", True, "implausible"),  # with the checks it failed (implausible_reason)
)


#: What a failed rep failed at (docs/definitions.md, "Failed and incomplete reps").
FAILED_BECAUSE = {
    "squat": "the bar never came back to the top",
    "deadlift": "never upright at the top (hips or knees short of the lockout angles on both legs)",
}


def record(stage: str, reason: str) -> dict[str, str]:
    """The ``excluded`` metadata entry of a stage's output."""
    return {"stage": stage, "reason": str(reason)}


def video_notes(provenance: Mapping[str, Any]) -> list[tuple[str, str]]:
    """``(stage, reason)`` notes on a video that stays in the results, from its reps' provenance."""
    notes = []
    if why := truncation_of(provenance):
        notes.append((TRUNCATED_STAGE, why))
    if side := provenance.get("camera_side_note"):
        notes.append((CAMERA_SIDE_STAGE, str(side)))
    for start_s, end_s, why in provenance.get("not_reps") or ():
        notes.append((NOT_A_REP_STAGE, f"{start_s:.2f}-{end_s:.2f} s: {why}"))
    return notes


def truncation_of(provenance: Mapping[str, Any]) -> str | None:
    """Why a video looks truncated (decoding stops well before the header's duration), or None.

    Time, not frame counts: variable-rate phone clips often declare more
    frames than they hold while their timestamps span the whole duration.
    The last frame starts one frame interval before the end, so a shortfall
    counts from 0.1 s plus 2% of the duration.
    """
    until, declared = provenance.get("decoded_until_s"), provenance.get("duration_s_header")
    if until is None or declared is None or not np.isfinite([until, declared]).all():
        return None
    if until >= declared - (0.1 + 0.02 * declared):
        return None
    frames = provenance.get("n_frames_decoded")
    return (
        f"decoded {until:.2f} s{f' ({int(frames)} frames)' if frames else ''} of the {declared:.2f} s "
        "its header declares: the file is truncated or damaged, and no rep after that is in the results"
    )


def exclusion_of(metadata: Mapping[str, Any]) -> dict[str, str] | None:
    """The exclusion record in a file's metadata, or None for a normal file."""
    found = metadata.get("excluded")
    return dict(found) if found else None


def write_excluded_keypoints(
    path: str | os.PathLike, *, video_id: str, reason: str, extra: Mapping[str, Any] = ()
) -> dict[str, Any]:
    """Write a zero-row keypoint file that records why the pose stage excluded the video."""
    metadata = {
        **dict.fromkeys(set(REQUIRED_METADATA) - {"schema_version", "package_version"}),
        "n_frames": 0,
        **dict(extra),
        "video_id": video_id,
        "excluded": record("pose", reason),
    }
    write_keypoints(KEYPOINT_SCHEMA.empty_table().to_pandas(), path, metadata)
    return metadata


def excluded_table(
    reps: pd.DataFrame,
    video_records: Mapping[str, Mapping[str, Any]],
    lost_spans: Mapping[str, list] | None = None,
    notes: Mapping[str, list[tuple[str, str]]] | None = None,
) -> pd.DataFrame:
    """Every excluded video and every rep kept out of the models, with the reason.

    Parameters
    ----------
    reps : pandas.DataFrame
        The aggregate reps table (``video_id``, ``rep``, the quality columns,
        ``pct_1rm``).
    video_records : mapping
        ``video_id -> exclusion record`` for the videos whose per-video files
        carry one (:func:`exclusion_of`).
    lost_spans : mapping, optional
        ``video_id -> [[start_s, end_s], ...]``: stretches where the lifter
        was lost outside every counted rep (stage :data:`LOST_STAGE`).
    notes : mapping, optional
        ``video_id -> [(stage, reason), ...]`` on videos that stay in the results
        (:func:`video_notes`: decoded short of the header, camera side corrected).

    Returns
    -------
    pandas.DataFrame
        :data:`EXCLUDED_COLUMNS`, videos first (in manifest order as given),
        then reps; several reasons of one rep are joined with ``"; "``.
    """
    rows = [
        {"video_id": vid, "rep": pd.NA, "stage": rec["stage"], "reason": rec["reason"]}
        for vid, rec in video_records.items()
    ]
    rows += [
        {"video_id": vid, "rep": pd.NA, "stage": stage, "reason": why}
        for vid, found in (notes or {}).items()
        for stage, why in found
    ]
    for vid, spans in (lost_spans or {}).items():
        rows += [
            {"video_id": vid, "rep": pd.NA, "stage": LOST_STAGE,
             "reason": f"lifter lost from {a:.2f} s to {b:.2f} s, outside every counted rep: "
                       "a rep there (e.g. the lifter walked out of it) is not in the results"}
            for a, b in spans
        ]  # fmt: skip
    if len(reps):
        reasons = [[] for _ in range(len(reps))]
        for col, bad, text in REP_REASONS:
            if col in reps.columns:
                hit = reps[col].fillna(bad).astype(bool).to_numpy() == bad
                detail = reps.get(f"{col.removeprefix('flag_')}_reason")
                if col == "failed" and "lift" in reps.columns:
                    detail = reps["lift"].map(FAILED_BECAUSE)
                for i in np.flatnonzero(hit):
                    why = "" if detail is None or pd.isna(detail.iloc[i]) else str(detail.iloc[i])
                    reasons[i].append(f"{text}: {why}" if why else text)
        if "pct_1rm" in reps.columns:
            for i in np.flatnonzero(~np.isfinite(reps["pct_1rm"].to_numpy(dtype=float))):
                reasons[i].append("no %1RM: load or 1RM missing and no estimate possible")
        for i in (i for i, r in enumerate(reasons) if r):
            rows.append(
                {
                    "video_id": reps["video_id"].iloc[i],
                    "rep": int(reps["rep"].iloc[i]),
                    "stage": "rep quality",
                    "reason": "; ".join(reasons[i]),
                }
            )
    table = pd.DataFrame(rows, columns=list(EXCLUDED_COLUMNS))
    table["rep"] = table["rep"].astype("Int64")
    return table


def write_excluded(
    table: pd.DataFrame, tsv_path: str | os.PathLike, html_path: str | os.PathLike
) -> None:
    """Write the QC table as TSV (for scripts) and as a small HTML page (for the report)."""
    atomic_write_bytes(table.to_csv(sep="\t", index=False).encode(), tsv_path)
    n_videos = int(table["stage"].isin(VIDEO_STAGES).sum())
    n_lost = int((table["stage"] == LOST_STAGE).sum())
    n_short = int((table["stage"] == TRUNCATED_STAGE).sum())
    n_side = int((table["stage"] == CAMERA_SIDE_STAGE).sum())
    n_reps = int(table["rep"].notna().sum())
    summary = (
        f"{n_videos} video(s) excluded, {n_short} truncated, {n_side} with camera_side "
        f"corrected, {n_reps} rep(s) kept out of the models, {n_lost} stretch(es) where "
        "the lifter was lost outside every counted rep."
        if len(table)
        else "Nothing was excluded: every video gave data and every rep entered the models."
    )
    body = table.to_html(index=False, na_rep="", escape=True, border=0, classes="excluded")
    page = (
        "<!DOCTYPE html><html><head><meta charset='utf-8'><title>Excluded videos and reps</title>"
        "<style>body{font-family:sans-serif}table{border-collapse:collapse}"
        "td,th{padding:2px 8px;border-bottom:1px solid #ccc;text-align:left}</style></head><body>"
        f"<h2>Excluded videos and reps</h2><p>{html.escape(summary)}</p>{body}</body></html>"
    )
    atomic_write_bytes(page.encode(), html_path)


def read_excluded(path: str | os.PathLike) -> pd.DataFrame:
    """Read ``excluded.tsv`` back (ids as text, ``rep`` as nullable int)."""
    table = pd.read_csv(Path(path), sep="\t", dtype={"video_id": str, "stage": str, "reason": str})
    table["rep"] = table["rep"].astype("Int64")
    return table
