"""Importers: OpenPose JSON, MMPose JSON and COCO-17 CSV into the keypoint contract."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from hipdrive.contracts.keypoints import COCO17, KEYPOINT_NAMES, long_to_frames, read_keypoints
from hipdrive.errors import InputError
from hipdrive.pose.importers import (
    OPENPOSE_BODY25,
    import_keypoints,
    read_coco17_csv,
    read_mmpose_json,
    read_openpose,
)
from hipdrive.video import frame_times, write_video

IDX = {n: i for i, n in enumerate(KEYPOINT_NAMES)}


def body25_person(offset: float, n_missing: int = 0) -> list[float]:
    """BODY_25 values where point j is at (10 j + offset, 5 j + offset), confidence 0.5 + j / 100."""
    flat = []
    for j in range(25):
        flat += (
            [10 * j + offset, 5 * j + offset, 0.5 + j / 100] if j >= n_missing else [0.0, 0.0, 0.0]
        )
    return flat


def write_openpose(folder, frames: dict[int, list[list[float]]]):
    folder.mkdir(parents=True, exist_ok=True)
    for f, persons in frames.items():
        data = {
            "version": 1.3,
            "people": [{"person_id": [-1], "pose_keypoints_2d": p} for p in persons],
        }
        (folder / f"clip_{f:012d}_keypoints.json").write_text(json.dumps(data))


def test_openpose_body25_maps_to_coco_names(tmp_path):
    write_openpose(
        tmp_path / "op", {0: [body25_person(0, n_missing=1)], 1: [], 2: [body25_person(1)]}
    )
    frames, people = read_openpose(tmp_path / "op")
    np.testing.assert_array_equal(frames, [0, 1, 2])
    xy, score = people[2]
    for name, j in OPENPOSE_BODY25.items():
        np.testing.assert_allclose(xy[0, IDX[name]], [10 * j + 1, 5 * j + 1])
        assert score[0, IDX[name]] == pytest.approx(0.5 + j / 100)
    # "(0, 0, 0)" is OpenPose for "not detected": nose (index 0) missing in frame 0
    assert np.isnan(people[0][0][0, IDX["nose"]]).all() and people[0][1][0, IDX["nose"]] == 0
    assert people[1][0].shape == (0, len(KEYPOINT_NAMES), 2)


def test_openpose_import_end_to_end_with_fps(tmp_path):
    write_openpose(tmp_path / "op", {f: [body25_person(f)] for f in range(5) if f != 3})
    out = tmp_path / "kp.parquet"
    meta = import_keypoints(tmp_path / "op", out, fmt="openpose", video_id="op", fps=25)
    table, read_meta = read_keypoints(out)
    frame, time_s, xy, score = long_to_frames(table)
    np.testing.assert_array_equal(frame, np.arange(5))
    np.testing.assert_allclose(time_s, np.arange(5) / 25)
    assert np.isnan(xy[3]).all() and meta["n_frames_lost"] == 1
    assert read_meta["backend"] == "import:openpose" and read_meta["width"] is None


def test_mmpose_video_json(tmp_path):
    rng = np.random.default_rng(0)
    kp = rng.uniform(0, 500, size=(3, 17, 2))
    preds = [
        {"frame_id": i, "instances": [{"keypoints": kp[i].tolist(), "keypoint_scores": [0.9] * 17,
                                        "bbox": [[0, 0, 500, 500]], "bbox_score": 0.99}]}
        for i in range(3)
    ]  # fmt: skip
    preds[1]["instances"] = []
    src = tmp_path / "clip.json"
    src.write_text(json.dumps(preds))
    frames, people = read_mmpose_json(src)
    np.testing.assert_array_equal(frames, [0, 1, 2])
    np.testing.assert_allclose(people[2][0][0, :17], kp[2], rtol=1e-6)
    assert np.isnan(people[2][0][0, 17:]).all()  # COCO-17 layout has no feet
    meta = import_keypoints(src, tmp_path / "kp.parquet", fmt="mmpose-json", video_id="c", fps=30)
    assert meta["n_frames"] == 3 and meta["n_frames_lost"] == 1


def test_mmpose_halpe26_feet(tmp_path):
    kp = np.arange(26 * 2, dtype=float).reshape(26, 2)
    (tmp_path / "img").mkdir()
    (tmp_path / "img" / "frame_7.json").write_text(
        json.dumps([{"keypoints": kp.tolist(), "keypoint_scores": [0.8] * 26}])
    )
    frames, people = read_mmpose_json(tmp_path / "img")
    assert frames.tolist() == [7]
    np.testing.assert_allclose(people[0][0][0, IDX["left_heel"]], kp[24])
    np.testing.assert_allclose(people[0][0][0, IDX["right_big_toe"]], kp[21])


def coco_csv(path, n=6, *, drop=()):
    cols = {"frame_id": np.arange(n)}
    for j, name in enumerate(COCO17):
        cols[f"{name}_x"] = 100.0 + j + np.arange(n)
        cols[f"{name}_y"] = 200.0 + 2 * j
    table = pd.DataFrame(cols)
    for row, name in drop:
        table.loc[row, [f"{name}_x", f"{name}_y"]] = np.nan
    table.to_csv(path, index=False)
    return path


def test_coco17_csv_missing_cells_are_nan_score_zero(tmp_path):
    frames, people = read_coco17_csv(coco_csv(tmp_path / "k.csv", drop=[(2, "right_ear")]))
    np.testing.assert_array_equal(frames, np.arange(6))
    xy, score = people[2]
    assert np.isnan(xy[0, IDX["right_ear"]]).all() and score[0, IDX["right_ear"]] == 0
    assert score[0, IDX["nose"]] == 1.0
    np.testing.assert_allclose(xy[0, IDX["left_hip"]], [100 + 11 + 2, 200 + 22])


def test_import_with_video_takes_its_timestamps_and_size(tmp_path):
    times = np.array([0, 0.04, 0.1, 0.13, 0.2, 0.21])  # variable frame rate
    video = write_video(
        [np.zeros((64, 96, 3), np.uint8)] * 6, tmp_path / "v.mp4", fps=30, time_s=times
    )
    out = tmp_path / "kp.parquet"
    meta = import_keypoints(
        coco_csv(tmp_path / "k.csv", n=5), out, fmt="coco17-csv", video_id="v", video=video
    )
    assert (meta["width"], meta["height"], meta["n_frames"], meta["n_frames_lost"]) == (
        96,
        64,
        6,
        1,
    )
    _, time_s, xy, _ = long_to_frames(read_keypoints(out)[0])
    np.testing.assert_allclose(time_s, frame_times(video))
    np.testing.assert_allclose(time_s, times, atol=1e-3)
    assert np.isnan(xy[5]).all()  # the CSV stops one frame short: a NaN row, not a dropped frame


def test_real_yolopose_csv_against_its_video(real_dir, tmp_path):
    csv = real_dir / "keypoints" / "deadlift_bichraix_bad003_joints_yolopose_coco17.csv"
    video = real_dir / "videos" / "deadlift_bichraix_bad003.mp4"
    out = tmp_path / "kp.parquet"
    meta = import_keypoints(csv, out, fmt="coco17-csv", video_id="bad003", video=video)
    table, _ = read_keypoints(out)
    raw = pd.read_csv(csv)
    assert meta["n_frames"] == len(raw) == 28 and meta["n_frames_lost"] == 0
    _, _, xy, score = long_to_frames(table)
    np.testing.assert_allclose(xy[:, IDX["left_hip"], 0], raw["left_hip_x"])
    assert (score[:, IDX["right_ear"]] == 0).mean() == pytest.approx(
        raw["right_ear_x"].isna().mean()
    )
    assert (meta["width"], meta["height"]) == (1280, 720)


def _text(text):
    def make(path):
        path.write_text(text)
        return path

    return make


def _repeated_frame(path):
    coco_csv(path)
    path.write_text(path.read_text().replace("\n1,", "\n0,", 1))
    return path


BAD_INSTANCE = json.dumps([{"keypoints": [[0, 0]] * 5, "keypoint_scores": [1] * 5}])


@pytest.mark.parametrize(
    ("fmt", "make", "match"),
    [
        (
            "coco17-csv",
            _text("frame_id,nose_x\n0,1\n"),
            r"src\.csv: not a COCO-17 CSV; missing column\(s\)",
        ),
        ("coco17-csv", _repeated_frame, r"src\.csv: row 3: frame_id 0 does not increase"),
        ("mmpose-json", _text("{not json"), r"src\.csv: not readable JSON"),
        ("mmpose-json", _text(BAD_INSTANCE), "5 keypoints per instance; known layouts"),
        ("mmpose-json", _text('{"a": 1}'), "neither a list of frames"),
        ("openpose", lambda p: p, "expects the folder"),
    ],
)
def test_bad_sources_name_the_file_and_cause(tmp_path, fmt, make, match):
    src = make(tmp_path / "src.csv")
    with pytest.raises(InputError, match=match):
        import_keypoints(src, tmp_path / "kp.parquet", fmt=fmt, video_id="x", fps=30)


def test_needs_video_or_fps_and_frames_within_the_video(tmp_path):
    csv = coco_csv(tmp_path / "k.csv", n=6)
    with pytest.raises(InputError, match=r"--video\) or a frame rate"):
        import_keypoints(csv, tmp_path / "kp.parquet", fmt="coco17-csv", video_id="x")
    video = write_video([np.zeros((16, 16, 3), np.uint8)] * 3, tmp_path / "v.mp4")
    with pytest.raises(InputError, match=r"frame 5 is beyond the 3 frames decoded"):
        import_keypoints(csv, tmp_path / "kp.parquet", fmt="coco17-csv", video_id="x", video=video)
    with pytest.raises(InputError, match="unknown keypoint format 'dlc'"):
        import_keypoints(csv, tmp_path / "kp.parquet", fmt="dlc", video_id="x", fps=30)


def test_openpose_with_a_bystander_keeps_the_lifter_as_track_0(tmp_path):
    # a lifter squatting mid-frame (listed second) and a taller walker crossing the left edge
    n, u = 60, np.linspace(0, 1, len(KEYPOINT_NAMES))[:, None]
    top = 120 + 30 * (1 - np.cos(2 * np.pi * np.arange(n) / 30))
    truth = np.stack([np.hstack([320 + (u - 0.5) * 100, t + u * 300]) for t in top])
    walker = np.stack([np.hstack([20 + f + (u - 0.5) * 110, 60 + u * 330]) for f in range(n)])
    frames = {}
    for f in range(n):
        persons = []
        for xy in (walker[f], truth[f]):
            flat = np.zeros((25, 3))
            for name, j in OPENPOSE_BODY25.items():
                flat[j] = [*xy[IDX[name]], 0.9]
            persons.append(flat.ravel().tolist())
        frames[f] = persons
    write_openpose(tmp_path / "op", frames)
    out = tmp_path / "kp.parquet"
    meta = import_keypoints(
        tmp_path / "op", out, fmt="openpose", video_id="op", fps=30, keep_others=True
    )
    table, _ = read_keypoints(out)
    assert sorted(table["track"].unique()) == [0, 1] and meta["n_tracks"] == 2
    xy0 = long_to_frames(table, track=0)[2]
    names = list(OPENPOSE_BODY25)
    cols = [IDX[n] for n in names]
    np.testing.assert_allclose(xy0[:, cols], truth[:, cols], atol=1e-3)


def test_coco17_csv_readers_are_tolerant_where_it_is_safe(tmp_path):
    """Semicolons, another frame-column name, no face points, 1-based frames: all read;
    a file without body points still names what is missing."""
    base = pd.read_csv(coco_csv(tmp_path / "k.csv", n=6))
    face = [f"{n}_{a}" for n in ("nose", "left_eye", "right_eye", "left_ear", "right_ear") for a in "xy"]
    odd = base.drop(columns=face).rename(columns={"frame_id": "Frame"})
    odd["Frame"] += 1  # 1..6
    odd.to_csv(tmp_path / "odd.csv", sep=";", index=False)
    meta = import_keypoints(tmp_path / "odd.csv", tmp_path / "kp.parquet", fmt="coco17-csv",
                            video_id="v", fps=30.0)  # fmt: skip
    assert meta["frame_numbering"].startswith("1-based") and meta["n_frames"] == 6
    table, _ = read_keypoints(tmp_path / "kp.parquet")
    frames, _, xy, _ = long_to_frames(table, KEYPOINT_NAMES)
    np.testing.assert_array_equal(frames, np.arange(6))  # no empty frame 0 added
    assert xy[0, IDX["left_shoulder"], 0] == pytest.approx(105.0)  # frame 1 of the file
    assert np.isnan(xy[:, IDX["nose"]]).all()
    # 0-based with a skipped first frame (no person seen): not shifted
    gaps = base.iloc[[1, 2, 4]]
    gaps.to_csv(tmp_path / "gaps.csv", index=False)
    meta = import_keypoints(tmp_path / "gaps.csv", tmp_path / "kp2.parquet", fmt="coco17-csv",
                            video_id="v", fps=30.0)  # fmt: skip
    assert meta["frame_numbering"] == "0-based"
    base.drop(columns=["left_hip_x"]).to_csv(tmp_path / "nohip.csv", sep=";", index=False)
    with pytest.raises(InputError, match=r"missing column\(s\) \['left_hip_x'\]; found: frame_id"):
        read_coco17_csv(tmp_path / "nohip.csv")


def _exported(tmp_path, fmt):
    """A keypoint file with known points (the export tests' lifter) and its export in ``fmt``."""
    from hipdrive.contracts.keypoints import frames_to_long, write_keypoints
    from hipdrive.export import export_files

    rng = np.random.default_rng(3)
    xy = rng.uniform(0, 500, size=(8, len(KEYPOINT_NAMES), 2))
    score = rng.uniform(0.3, 1.0, size=(8, len(KEYPOINT_NAMES)))
    xy[2, IDX["left_wrist"]], score[2, IDX["left_wrist"]] = np.nan, 0.0
    src = tmp_path / "src" / "v1.parquet"
    src.parent.mkdir()
    meta = {"video_id": "v1", "video_sha256": None, "fps": 50.0, "n_frames": 8, "width": 540,
            "height": 960, "rotation": 0, "backend": "synthetic", "model": None,
            "checkpoint_sha256": None}  # fmt: skip
    write_keypoints(frames_to_long(xy, score, np.arange(8) / 50.0), src, meta)
    [(out, _)] = export_files([src], fmt, tmp_path / "out")
    return out, xy, score


@pytest.mark.parametrize("fmt", ["dlc-csv", "movement-netcdf"])
def test_deeplabcut_and_movement_files_round_trip(tmp_path, fmt):
    """What `hipdrive export` writes for DeepLabCut and movement imports back unchanged."""
    out, xy, score = _exported(tmp_path, "dlc-csv" if fmt == "dlc-csv" else "netcdf")
    fps = 50.0 if fmt == "dlc-csv" else None  # movement's dataset carries its own fps
    meta = import_keypoints(out, tmp_path / "kp.parquet", fmt=fmt, video_id="v1", fps=fps)
    table, _ = read_keypoints(tmp_path / "kp.parquet")
    frames, time_s, got_xy, got_score = long_to_frames(table, KEYPOINT_NAMES)
    np.testing.assert_array_equal(frames, np.arange(8))
    np.testing.assert_allclose(time_s, np.arange(8) / 50.0)
    np.testing.assert_allclose(got_xy, xy, atol=1e-3)  # netCDF keeps float32
    np.testing.assert_allclose(got_score, score, atol=1e-6)
    assert meta["backend"] == f"import:{fmt}" and meta["keypoints_not_used"] == []


def test_multi_animal_deeplabcut_csv_keeps_the_lifter(tmp_path):
    """A four-row header (individuals): each individual is a person; other names are listed."""
    n, names = 40, ["left_shoulder", "left_hip", "left_knee", "left_ankle", "tailbase"]
    top = 100 + 40 * (1 - np.cos(2 * np.pi * np.arange(n) / 20))
    lifter = {nm: (300.0 + 5 * j, top + 90 * j) for j, nm in enumerate(names)}
    walker = {nm: (30.0 + 3 * np.arange(n), 20 + 60.0 * j + 0 * top) for j, nm in enumerate(names)}
    cols = pd.MultiIndex.from_product([["DLC_net"], ["walker", "lifter"], names, ["x", "y", "likelihood"]],
                                      names=["scorer", "individuals", "bodyparts", "coords"])  # fmt: skip
    rows = []
    for f in range(n):
        row = []
        for who in (walker, lifter):
            for nm in names:
                x, y = who[nm]
                row += [np.broadcast_to(x, n)[f], np.broadcast_to(y, n)[f], 0.95]
        rows.append(row)
    pd.DataFrame(rows, columns=cols).to_csv(tmp_path / "ma.csv")
    meta = import_keypoints(tmp_path / "ma.csv", tmp_path / "kp.parquet", fmt="dlc-csv",
                            video_id="ma", fps=30)  # fmt: skip
    assert meta["keypoints_not_used"] == ["tailbase"]
    table, _ = read_keypoints(tmp_path / "kp.parquet")
    got = long_to_frames(table, KEYPOINT_NAMES, track=0)[2]
    np.testing.assert_allclose(got[:, IDX["left_hip"], 1], top + 90, atol=1e-3)


def test_movement_dataset_in_frames_with_other_dimension_order(tmp_path):
    """movement's older (time, individuals, keypoints, space) order and time in frames."""
    import xarray as xr

    pos = np.random.default_rng(1).uniform(0, 400, size=(5, 1, 3, 2))
    ds = xr.Dataset(
        {"position": (("time", "individuals", "keypoints", "space"), pos)},
        coords={"time": np.arange(5), "individuals": ["id_0"], "space": ["x", "y"],
                "keypoints": ["left_hip", "left_knee", "snout"]},
        attrs={"time_unit": "frames"},
    )  # fmt: skip
    ds.to_netcdf(tmp_path / "m.nc", engine="scipy")
    with pytest.raises(InputError, match=r"--video\) or a frame rate"):
        import_keypoints(tmp_path / "m.nc", tmp_path / "kp.parquet", fmt="movement-netcdf",
                         video_id="m")  # fmt: skip
    meta = import_keypoints(tmp_path / "m.nc", tmp_path / "kp.parquet", fmt="movement-netcdf",
                            video_id="m", fps=25)  # fmt: skip
    table, _ = read_keypoints(tmp_path / "kp.parquet")
    _, _, xy, score = long_to_frames(table, KEYPOINT_NAMES)
    np.testing.assert_allclose(xy[:, IDX["left_knee"]], pos[:, 0, 1], atol=1e-6)
    assert (score[:, IDX["left_knee"]] == 1).all() and meta["keypoints_not_used"] == ["snout"]


def test_keypoint_names_of_another_project_are_refused_with_the_names(tmp_path):
    cols = pd.MultiIndex.from_product([["DLC"], ["snout", "tailbase"], ["x", "y", "likelihood"]])
    pd.DataFrame(np.ones((3, 6)), columns=cols).to_csv(tmp_path / "mouse.csv")
    with pytest.raises(InputError, match=r"mouse\.csv: none of its keypoints \(snout, tailbase\)"):
        import_keypoints(tmp_path / "mouse.csv", tmp_path / "kp.parquet", fmt="dlc-csv",
                         video_id="m", fps=30)  # fmt: skip


def test_a_whole_study_is_imported_from_its_manifest(tmp_path, capsys):
    """--manifest: every keypoints row; a broken file is named by row and the rest go on."""
    from hipdrive.cli import main
    from hipdrive.contracts.exclusions import exclusion_of

    (tmp_path / "kp").mkdir()
    coco_csv(tmp_path / "kp" / "good.csv", n=6)
    (tmp_path / "kp" / "broken.csv").write_text("frame_id,nose_x\n0,1\n")
    (tmp_path / "s.tsv").write_text(
        "video_id\tpath\tlifter_id\tlift\tvariant\tkeypoints\tkeypoints_format\tfps\n"
        "good\t\tL1\tsquat\thigh_bar\tkp/good.csv\tcoco17-csv\t25\n"
        "video\tv.mp4\tL1\tsquat\thigh_bar\t\t\t\n"
        "broken\t\tL1\tsquat\thigh_bar\tkp/broken.csv\tcoco17-csv\t25\n"
    )
    args = ["import-keypoints", "--manifest", str(tmp_path / "s.tsv"), "--data-root", str(tmp_path),
            "--out-dir", str(tmp_path / "out")]  # fmt: skip
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "s.tsv: row 4 (broken): " in err and "not a COCO-17 CSV" in err
    assert "1 imported, 0 excluded, 1 failed" in err
    table, meta = read_keypoints(tmp_path / "out" / "good.parquet")
    np.testing.assert_allclose(np.sort(table["time_s"].unique()), np.arange(6) / 25)
    assert not (tmp_path / "out" / "video.parquet").exists()  # a video row is pose's work
    assert main([*args, "--on-bad-video", "exclude"]) == 0
    _, meta = read_keypoints(tmp_path / "out" / "broken.parquet")
    assert "not a COCO-17 CSV" in exclusion_of(meta)["reason"]
