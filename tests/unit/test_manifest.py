"""Manifest checks: every problem named by file, row and cause, all at once."""

import pytest

from hipdrive.contracts.manifest import check_manifest, manifest_problems, read_manifest, sample_row
from hipdrive.errors import InputError

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
    path = write(
        tmp_path,
        "a\tv/a.mp4\tL1\tsquat\t100\n",
        header="video_id\tpath\tlifter_id\tlift\tload_kg\n",
    )
    with pytest.raises(InputError, match=r"samples.tsv: missing column\(s\) variant"):
        read_manifest(path)


def test_non_utf8_bytes_name_the_line(tmp_path):
    path = write(
        tmp_path,
        b"a\tv/a.mp4\tL1\tsquat\thigh_bar\t100\t\t\t\nb\tv/\xff.mp4\tL1\tsquat\thigh_bar\t90\t\t\t\n",
    )
    with pytest.raises(InputError, match="line 3 is not UTF-8"):
        read_manifest(path)


def test_non_numeric_load_is_named(tmp_path):
    path = write(tmp_path, "a\tv/a.mp4\tL1\tsquat\thigh_bar\theavy\t\t\t\n")
    with pytest.raises(InputError, match=r"row 2 \(a\): load_kg 'heavy' is not a number"):
        read_manifest(path)


def test_check_lists_every_problem_with_its_row(tmp_path):
    (tmp_path / "v").mkdir()
    for name in ("ok", "dup", "neg", "typo"):  # one video file per id (else: "the same file")
        (tmp_path / "v" / f"{name}.mp4").write_bytes(name.encode())
    body = (
        "ok\tv/ok.mp4\tL1\tsquat\thigh_bar\t100\t120\t\t\n"
        "dup\tv/dup.mp4\tL1\tsquat\thigh_bar\t100\t120\t\t\n"
        "dup\tv/dup.mp4\tL1\tsquat\thigh_bar\t100\t120\t\t\n"
        "gone\tv/missing.mp4\tL1\tsquat\thigh_bar\t100\t120\t\t\n"
        "evil\t../../etc/passwd\tL1\tsquat\thigh_bar\t100\t120\t\t\n"
        "neg\tv/neg.mp4\tL1\tsquat\thigh_bar\t-5\t120\t\t\n"
        "typo\tv/typo.mp4\tL1\tsquat\thigh_bar\t150\t120\t\t\n"
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


def test_a_header_without_rows_is_refused(tmp_path):
    with pytest.raises(InputError, match=r"samples.tsv: no videos \(a header and no rows\)"):
        read_manifest(write(tmp_path, ""))


def test_hash_in_a_file_name_is_part_of_it_and_comment_lines_are_skipped(tmp_path):
    path = write(tmp_path, "# set 1\na\tv/a#1.mp4\tL1\tsquat\thigh_bar\t100\t\t\t\n  # note\n")
    sheet = read_manifest(path)
    assert sheet["path"].tolist() == ["v/a#1.mp4"] and len(sheet) == 1


def test_a_comma_or_semicolon_separated_file_is_named_as_such(tmp_path):
    path = write(
        tmp_path, "a;v/a.mp4;L1;squat;high_bar\n", header="video_id;path;lifter_id;lift;variant\n"
    )
    with pytest.raises(InputError, match=r"separated by ';'; the manifest is tab-separated"):
        read_manifest(path)


def test_a_symlink_out_of_the_data_root_is_named_a_symlink(tmp_path):
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "a.mp4").write_bytes(b"video")
    root = tmp_path / "data"
    root.mkdir()
    (root / "v").symlink_to(outside)
    sheet = read_manifest(write(tmp_path, "a\tv/a.mp4\tL1\tsquat\thigh_bar\t100\t\t\t\n"))
    problems = check_manifest(sheet, manifest="m.tsv", data_root=root)
    assert len(problems) == 1
    assert f"path 'v/a.mp4' is a symbolic link ({root / 'v'} -> {outside})" in problems[0]
    assert "leading outside the data root" in problems[0]


def test_the_same_file_under_two_ids_names_both_rows(tmp_path):
    root = tmp_path / "data"
    root.mkdir()
    (root / "a.mp4").write_bytes(b"same bytes")
    (root / "copy.mp4").write_bytes(b"same bytes")
    (root / "other.mp4").write_bytes(b"diff bytes")  # same size, other content: fine
    body = "".join(f"{v}\t{p}\tL1\tsquat\thigh_bar\t100\t\t\t\n"
                   for v, p in (("a", "a.mp4"), ("b", "other.mp4"), ("c", "copy.mp4")))  # fmt: skip
    problems = check_manifest(
        read_manifest(write(tmp_path, body)), manifest="m.tsv", data_root=root
    )
    assert len(problems) == 1
    assert problems[0].startswith("m.tsv: row 4 (c): the same file as row 2 (a)")


def test_keypoint_rows_need_a_format_and_a_frame_rate_without_a_video(tmp_path):
    """A row may name another tool's keypoints instead of a video; what it then needs is named."""
    (tmp_path / "kp").mkdir()
    for name in ("a", "b", "c"):
        (tmp_path / "kp" / f"{name}.csv").write_text(name)
    header = "video_id\tlifter_id\tlift\tvariant\tkeypoints\tkeypoints_format\tfps\n"  # no path column
    body = (
        "a\tL1\tsquat\thigh_bar\tkp/a.csv\tdlc-csv\t30\n"
        "b\tL1\tsquat\thigh_bar\tkp/b.csv\t\t30\n"
        "c\tL1\tsquat\thigh_bar\tkp/c.csv\tcoco17-csv\t\n"
        "d\tL1\tsquat\thigh_bar\t\t\t\n"
        "e\tL1\tsquat\thigh_bar\tkp/e.csv\tyolo\t30\n"
        "f\tL1\tsquat\thigh_bar\t../outside.csv\tdlc-csv\t30\n"
    )
    path = write(tmp_path, body, header=header)
    sheet = read_manifest(path)
    problems = "\n".join(manifest_problems(sheet, manifest=path, schema=SCHEMA, data_root=tmp_path))
    assert "row 2 (a)" not in problems
    assert "row 3 (b): keypoints 'kp/b.csv' needs keypoints_format (one of openpose" in problems
    assert "row 4 (c): keypoints without a video need fps (the frame rate)" in problems
    assert "row 5 (d): neither a video (path) nor a keypoint file (keypoints)" in problems
    assert "row 6 (e): keypoints_format 'yolo' must be one of openpose, mmpose-json" in problems
    assert "row 6 (e): keypoint file 'kp/e.csv' does not exist under" in problems
    assert "row 7 (f): keypoints '../outside.csv' lies outside the data root" in problems


def test_a_manifest_needs_a_path_or_a_keypoints_column(tmp_path):
    path = write(tmp_path, "a\tL1\tsquat\thigh_bar\n", header="video_id\tlifter_id\tlift\tvariant\n")
    with pytest.raises(InputError, match=r"missing column\(s\) path \(or keypoints\)"):
        read_manifest(path)


def test_the_schema_and_the_contract_list_the_same_keypoint_formats():
    import yaml

    from hipdrive.contracts.manifest import KEYPOINT_FORMATS

    spec = yaml.safe_load(SCHEMA.read_text())["properties"]["keypoints_format"]["enum"]
    assert tuple(v for v in spec if v is not None) == KEYPOINT_FORMATS
