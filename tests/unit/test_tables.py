"""Aggregate tables: manifest join, %1RM, load-velocity 1RM estimates, streaming curves."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from hipdrive.contracts.curves import (
    CURVE_POINTS,
    CURVE_VARIABLES,
    CURVES_TABLE_SCHEMA,
    write_curves,
)
from hipdrive.contracts.reps import REP_COLUMNS, REPS_TABLE_SCHEMA, empty_reps, write_reps
from hipdrive.errors import InputError
from hipdrive.tables import collect_tables, estimate_one_rm


def test_estimate_one_rm_extrapolates_the_line_to_the_mvt():
    load = np.array([60.0, 80.0, 100.0])
    v = 1.5 - 0.01 * load  # v = 0.3 m/s at 120 kg
    assert estimate_one_rm(load, v, minimal_velocity_m_s=0.3) == pytest.approx(120.0)
    assert np.isnan(estimate_one_rm([80.0, 80.0], [0.6, 0.5], minimal_velocity_m_s=0.3))  # one load
    assert np.isnan(estimate_one_rm(load, 0.2 + 0.001 * load, minimal_velocity_m_s=0.3))  # rising
    assert np.isnan(
        estimate_one_rm([60.0, 100.0, np.nan], [0.9, np.nan, 0.5], minimal_velocity_m_s=0.3)
    )


def fake_reps(video_id, *, n, velocity_m_s, lift="squat"):
    reps = empty_reps()
    rows = []
    for r in range(1, n + 1):
        row = {c: np.nan for c in REP_COLUMNS}
        row.update(video_id=video_id, rep=r, lift=lift, start_frame=10 * r, bottom_frame=10 * r + 3,
                   lockout_frame=10 * r + 6, end_frame=10 * r + 6, complete=True, failed=False,
                   sticking_present=False, v_max1_frame=None, v_min_frame=None, v_max2_frame=None,
                   chest_rose_early=False, facing="left", side_used="mean", bar_source="body:shoulder",
                   flag_low_confidence=False, flag_gap=False, flag_swap=False, flag_lifter_lost=False,
                   flag_implausible=False, implausible_reason="", quality_ok=True,
                   mean_concentric_velocity_m_s=velocity_m_s - 0.02 * (r - 1))  # fmt: skip
        rows.append(row)
    reps = pd.concat([reps, pd.DataFrame(rows)], ignore_index=True) if rows else reps
    reps = reps.astype({"rep": "int16", "start_frame": "int32", "bottom_frame": "int32",
                        "lockout_frame": "int32", "end_frame": "int32"})  # fmt: skip
    for c in ("v_max1_frame", "v_min_frame", "v_max2_frame"):
        reps[c] = pd.array(reps[c], dtype="Int32")
    for c in ("complete", "failed", "sticking_present", "chest_rose_early", "flag_low_confidence",
              "flag_gap", "flag_swap", "flag_lifter_lost", "flag_implausible", "quality_ok"):  # fmt: skip
        reps[c] = reps[c].astype(bool)
    reps.attrs["hipdrive"] = {"backend": "synthetic", "video_id": video_id}
    return reps


def fake_curves(video_id, n_reps):
    k = len(CURVE_VARIABLES) * CURVE_POINTS * 2
    return pd.DataFrame(
        {
            "video_id": [video_id] * (k * n_reps),
            "rep": np.repeat(np.arange(1, n_reps + 1, dtype=np.int16), k),
            "phase": np.tile(np.repeat(["descent", "ascent"], k // 2), n_reps),
            "pct": np.tile(
                np.arange(CURVE_POINTS, dtype=np.int16), len(CURVE_VARIABLES) * 2 * n_reps
            ),
            "variable": np.tile(np.repeat(CURVE_VARIABLES, CURVE_POINTS), 2 * n_reps),
            "value": np.arange(k * n_reps, dtype=float),
        }
    )


@pytest.fixture
def study(tmp_path):
    """A: 1RM stated on one of two rows. B: no 1RM, three loads on a clean load-velocity
    line. C: one video without reps and without a 1RM."""
    rows = []
    for load, v in ((100.0, 0.8), (120.0, 0.6), (140.0, 0.4)):
        rows.append({"video_id": f"B_{int(load)}", "path": "x.mp4", "lifter_id": "B", "lift": "squat",
                     "variant": "high_bar", "load_kg": load, "one_rm_kg": np.nan, "height_m": 1.8,
                     "camera_side": "left", "_v": v})  # fmt: skip
    rows.append({"video_id": "A_90", "path": "x.mp4", "lifter_id": "A", "lift": "squat", "variant": "high_bar",
                 "load_kg": 90.0, "one_rm_kg": 120.0, "height_m": np.nan, "camera_side": None, "_v": 0.7})  # fmt: skip
    rows.append({"video_id": "A_empty", "path": "x.mp4", "lifter_id": "A", "lift": "squat",
                 "variant": "high_bar", "load_kg": 100.0, "one_rm_kg": np.nan, "height_m": np.nan,
                 "camera_side": None, "_v": 0.65})  # fmt: skip
    rows.append({"video_id": "C_none", "path": "x.mp4", "lifter_id": "C", "lift": "squat",
                 "variant": "high_bar", "load_kg": 80.0, "one_rm_kg": np.nan, "height_m": np.nan,
                 "camera_side": None, "_v": None})  # fmt: skip
    sheet = pd.DataFrame(rows)
    for row in rows:
        n = 0 if row["_v"] is None else 3
        write_reps(
            fake_reps(row["video_id"], n=n, velocity_m_s=row["_v"] or 0.0),
            tmp_path / "reps" / f"{row['video_id']}.parquet",
        )
        write_curves(
            fake_curves(row["video_id"], n), tmp_path / "curves" / f"{row['video_id']}.parquet"
        )
    return sheet.drop(columns="_v"), tmp_path


def collect(sheet, tmp_path):
    collect_tables(sheet, reps_dir=tmp_path / "reps", curves_dir=tmp_path / "curves",
                   reps_out=tmp_path / "t" / "reps.parquet", curves_out=tmp_path / "t" / "curves.parquet")  # fmt: skip
    return pq.read_table(tmp_path / "t" / "reps.parquet"), pq.read_table(
        tmp_path / "t" / "curves.parquet"
    )


def test_reps_table_joins_the_manifest_with_pct_1rm(study):
    sheet, tmp = study
    reps, _ = collect(sheet, tmp)
    assert reps.schema.equals(REPS_TABLE_SCHEMA)
    df = reps.to_pandas()
    assert len(df) == 5 * 3  # C_none has no reps
    a = df[df.video_id == "A_90"]
    assert (a["pct_1rm"] == 75.0).all() and not a["one_rm_estimated"].any()
    assert (a["backend"] == "synthetic").all() and a["camera_side"].isna().all()
    # lifter B: best set velocities 0.8, 0.6, 0.4 m/s at 100, 120, 140 kg -> 0.3 m/s at 150 kg
    b = df[df.lifter_id == "B"]
    assert b["one_rm_kg"].to_numpy() == pytest.approx(150.0)
    assert b["one_rm_estimated"].all()
    np.testing.assert_allclose(b["pct_1rm"], 100 * b["load_kg"] / 150.0)


def test_a_stated_1rm_of_the_same_lifter_fills_a_missing_one(study):
    sheet, tmp = study
    reps, curves = collect(sheet, tmp)
    df = reps.to_pandas()
    a = df[df.video_id == "A_empty"]
    assert a["one_rm_kg"].to_numpy() == pytest.approx(120.0) and not a["one_rm_estimated"].any()
    assert a["pct_1rm"].to_numpy() == pytest.approx(100 * 100 / 120)
    assert curves.to_pandas().query("video_id == 'C_none'").empty


def test_curves_table_streams_every_video_with_lifter_and_load(study):
    sheet, tmp = study
    _, curves = collect(sheet, tmp)
    assert curves.schema.equals(CURVES_TABLE_SCHEMA)
    df = curves.to_pandas()
    assert len(df) == 5 * 3 * 2 * CURVE_POINTS * len(CURVE_VARIABLES)
    b120 = df[df.video_id == "B_120"]
    assert (b120["lifter_id"] == "B").all() and b120["pct_1rm"].to_numpy() == pytest.approx(80.0)
    assert not list((tmp / "t").glob("*.tmp"))


def test_aggregate_tables_are_0644_whatever_the_umask(study):
    """Shared results: the streamed curves file too, not only what atomic_write_table writes."""
    sheet, tmp = study
    old = os.umask(0o077)
    try:
        collect_tables(sheet, reps_dir=tmp / "reps", curves_dir=tmp / "curves",
                       reps_out=tmp / "t" / "reps.parquet", curves_out=tmp / "t" / "curves.parquet",
                       excluded_out=tmp / "t" / "excluded.tsv")  # fmt: skip
    finally:
        os.umask(old)
    modes = {p.name: p.stat().st_mode & 0o777 for p in (tmp / "t").iterdir()}
    assert modes == dict.fromkeys(
        ("reps.parquet", "curves.parquet", "excluded.tsv", "excluded.html"), 0o644
    )


def test_off_schema_curves_file_leaves_no_aggregate_curves(study):
    sheet, tmp = study
    pd.DataFrame({"video_id": ["B_120"], "pct": ["one"]}).to_parquet(
        tmp / "curves" / "B_120.parquet"
    )
    with pytest.raises(InputError, match="unreadable or off-schema"):
        collect(sheet, tmp)
    assert not (tmp / "t" / "curves.parquet").exists() and not list((tmp / "t").glob(".*.tmp"))


def test_missing_per_video_file_is_a_user_error(study):
    sheet, tmp = study
    (tmp / "reps" / "B_120.parquet").unlink()
    with pytest.raises(InputError, match=r"no reps file for video\(s\) B_120"):
        collect(sheet, tmp)
    assert not (tmp / "t" / "reps.parquet").exists()


def test_off_schema_file_is_a_user_error(study):
    sheet, tmp = study
    pd.DataFrame({"video_id": ["B_120"], "rep": ["one"]}).to_parquet(tmp / "reps" / "B_120.parquet")
    with pytest.raises(InputError, match="unreadable or off-schema"):
        collect(sheet, tmp)


def test_cli_collect_tables(study, capsys):
    from hipdrive.cli import main

    sheet, tmp = study
    sheet.assign(
        one_rm_kg=sheet["one_rm_kg"].astype(object).where(sheet["one_rm_kg"].notna(), "")
    ).to_csv(tmp / "samples.tsv", sep="\t", index=False)
    rc = main(["collect-tables", "--sample-sheet", str(tmp / "samples.tsv"), "--reps-dir", str(tmp / "reps"),
               "--curves-dir", str(tmp / "curves"), "--reps-out", str(tmp / "o" / "reps.parquet"),
               "--curves-out", str(tmp / "o" / "curves.parquet")])  # fmt: skip
    assert rc == 0
    err = capsys.readouterr().err
    assert "6 videos, 15 reps (9 with an estimated 1RM" in err
    assert pq.read_table(tmp / "o" / "reps.parquet").num_rows == 15


def test_aggregate_tables_carry_their_inputs_and_parameters(study):
    """Each aggregate table says what it was made from (sha256 per input file, MVT, versions)."""
    from hipdrive.contracts.files import read_provenance, sha256_file

    sheet, tmp = study
    collect(sheet, tmp)
    for name in ("reps", "curves"):
        meta = read_provenance(tmp / "t" / f"{name}.parquet")
        files = sorted((tmp / name).glob("*.parquet"))
        assert files and meta["inputs_sha256"] == {p.stem: sha256_file(p) for p in files}
        assert meta["params"]["minimal_velocity_m_s"]["squat"] > 0
        assert {"numpy", "pandas", "pyarrow"} <= set(meta["software"]) and meta["package_version"]


def test_notes_on_kept_videos_reach_the_qc_table(study, capsys):
    """A video decoded short of its header, and one whose camera_side was corrected
    and whose lifter walked the bar back to the rack."""
    from hipdrive.cli import main
    from hipdrive.contracts.exclusions import (
        CAMERA_SIDE_STAGE,
        NOT_A_REP_STAGE,
        TRUNCATED_STAGE,
        read_excluded,
        truncation_of,
    )

    # a variable-rate phone clip: fewer frames than declared, timestamps to the end
    assert truncation_of({"n_frames_decoded": 102, "decoded_until_s": 3.367, "duration_s_header": 3.392}) is None
    assert truncation_of({"decoded_until_s": 4.0, "duration_s_header": None}) is None
    sheet, tmp = study
    reps = fake_reps("A_90", n=3, velocity_m_s=0.7)
    reps.attrs["hipdrive"] |= {"n_frames_decoded": 31, "decoded_until_s": 1.0, "duration_s_header": 3.0}
    write_reps(reps, tmp / "reps" / "A_90.parquet")
    other = fake_reps("B_100", n=3, velocity_m_s=0.8)
    other.attrs["hipdrive"] |= {"camera_side_note": "camera_side 'right' declared, but ...",
                                "not_reps": [[14.15, 15.58, "the feet moved 0.19 body heights: ..."]]}
    write_reps(other, tmp / "reps" / "B_100.parquet")
    sheet.to_csv(tmp / "samples.tsv", sep="\t", index=False)
    rc = main(["collect-tables", "--sample-sheet", str(tmp / "samples.tsv"), "--reps-dir", str(tmp / "reps"),
               "--curves-dir", str(tmp / "curves"), "--reps-out", str(tmp / "o" / "reps.parquet"),
               "--curves-out", str(tmp / "o" / "curves.parquet"),
               "--excluded-out", str(tmp / "o" / "excluded.tsv")])  # fmt: skip
    assert rc == 0
    excluded = read_excluded(tmp / "o" / "excluded.tsv")
    short = excluded[excluded["stage"] == TRUNCATED_STAGE]
    assert short["video_id"].tolist() == ["A_90"]
    assert "decoded 1.00 s (31 frames) of the 3.00 s its header declares" in short["reason"].iloc[0]
    side = excluded[excluded["stage"] == CAMERA_SIDE_STAGE]
    assert side["video_id"].tolist() == ["B_100"] and side["rep"].isna().all()
    walk = excluded[excluded["stage"] == NOT_A_REP_STAGE]
    assert walk["video_id"].tolist() == ["B_100"] and walk["rep"].isna().all()
    assert walk["reason"].iloc[0].startswith("14.15-15.58 s: the feet moved 0.19 body heights")
    assert "1 truncated, 1 with camera_side corrected, 1 walk(s) not counted as reps" in capsys.readouterr().err
