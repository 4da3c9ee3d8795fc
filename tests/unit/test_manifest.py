"""Manifest checks: every problem named by file, row and cause, all at once."""

import pytest

from hipdrive.errors import InputError
from hipdrive.manifest import check_manifest, manifest_problems, read_manifest, sample_row

from ..conftest import REPO

SCHEMA = REPO / "config/schemas/samples.schema.yaml"

HEADER = "video_id\tpath\tlifter_id\tlift\tvariant\tload_kg\tone_rm_kg\theight_m\tcamera_side\n"


def write(tmp_path, body, header=HEADER):
    path = tmp_path / "samples.tsv"
    path.write_bytes((header + body).encode() if isinstance(body, str) else header.encode() + body)
    return path


def test_reads_ids_as_text_and_empty_cells_as_missing(tmp_path):
    path = write(tmp_path, "007\tv/a.mp4\t01\tsquat\thigh_bar\t100\t\t\t\n")
    sheet = read_manifest(path)
    assert sheet.at[0, "video_id"] == "007" and sheet.at[0, "lifter_id"] == "01"
    row = sample_row(sheet, "007")
    assert row["one_rm_kg"] is None and row["height_m"] is None and row["load_kg"] == 100.0


def test_missing_column_is_named(tmp_path):
    path = write(tmp_path, "a\tv/a.mp4\tL1\tsquat\t100\n", header="video_id\tpath\tlifter_id\tlift\tload_kg\n")
    with pytest.raises(InputError, match=r"samples.tsv: missing column\(s\) variant"):
        read_manifest(path)


def test_non_utf8_bytes_name_the_line(tmp_path):
    path = write(tmp_path, b"a\tv/a.mp4\tL1\tsquat\thigh_bar\t100\t\t\t\nb\tv/\xff.mp4\tL1\tsquat\thigh_bar\t90\t\t\t\n")
    with pytest.raises(InputError, match="line 3 is not UTF-8"):
        read_manifest(path)


def test_non_numeric_load_is_named(tmp_path):
    path = write(tmp_path, "a\tv/a.mp4\tL1\tsquat\thigh_bar\theavy\t\t\t\n")
    with pytest.raises(InputError, match=r"row 2 \(a\): load_kg 'heavy' is not a number"):
        read_manifest(path)


def test_check_lists_every_problem_with_its_row(tmp_path):
    (tmp_path / "v").mkdir()
    (tmp_path / "v" / "ok.mp4").write_bytes(b"x")
    body = (
        "ok\tv/ok.mp4\tL1\tsquat\thigh_bar\t100\t120\t\t\n"
        "dup\tv/ok.mp4\tL1\tsquat\thigh_bar\t100\t120\t\t\n"
        "dup\tv/ok.mp4\tL1\tsquat\thigh_bar\t100\t120\t\t\n"
        "gone\tv/missing.mp4\tL1\tsquat\thigh_bar\t100\t120\t\t\n"
        "evil\t../../etc/passwd\tL1\tsquat\thigh_bar\t100\t120\t\t\n"
        "neg\tv/ok.mp4\tL1\tsquat\thigh_bar\t-5\t120\t\t\n"
        "typo\tv/ok.mp4\tL1\tsquat\thigh_bar\t150\t120\t\t\n"
    )
    path = write(tmp_path, body)
    problems = manifest_problems(
        read_manifest(path), manifest=path, schema=SCHEMA, data_root=tmp_path
    )
    text = "\n".join(problems)
    assert "row 3 (dup): duplicate video_id" in text and "row 4 (dup): duplicate video_id" in text
    assert "row 5 (gone): video 'v/missing.mp4' does not exist" in text
    assert "row 6 (evil): path '../../etc/passwd' lies outside the data root" in text
    assert "row 7 (neg): load_kg -5.0 must be > 0" in text
    assert "row 8 (typo): load_kg 150 exceeds one_rm_kg 120 by more than 20%" in text
    assert not any("row 2 (ok)" in p for p in problems)
    rows = [int(p.split(": row ")[1].split()[0]) for p in problems]
    assert rows == sorted(rows)  # in the sheet's order, schema and other checks merged
    assert check_manifest(read_manifest(path), manifest=path, data_root=tmp_path) == [
        p for p in problems if "must be >" not in p
    ]
