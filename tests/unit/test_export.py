"""``hipdrive export``: keypoints as OpenSim TRC, DeepLabCut CSV and movement netCDF.

Each format is read back with its consumer's own reader where one installs
here (pandas as DeepLabCut reads its CSVs, xarray for netCDF; a small TRC
parser, OpenSim itself being a conda-only C++ package) and compared with the
values put in.
"""

import sys

import numpy as np
import pandas as pd
import pytest

from hipdrive.body import CHAIN_FRACTION
from hipdrive.cli import main
from hipdrive.commands.export import FORMAT_NAMES
from hipdrive.contracts.keypoints import KEYPOINT_NAMES, frames_to_long, write_keypoints
from hipdrive.errors import BackendUnavailableError, InputError
from hipdrive.export import FORMATS, export_files

N_FRAMES, FPS = 6, 30.0
META = {
    "video_id": "v1", "video_sha256": "0" * 64, "width": 540, "height": 960, "rotation": 0,
    "fps": FPS, "n_frames": N_FRAMES, "backend": "synthetic", "model": None,
    "checkpoint_sha256": None,
}  # fmt: skip
#: Standing lifter, both sides alike: shank 200 px, thigh 190 px, trunk 230 px.
JOINTS_Y = {"ankle": 900.0, "knee": 700.0, "hip": 510.0, "shoulder": 280.0}
BODY_HEIGHT_PX = (200 + 190 + 230) / CHAIN_FRACTION
MISSING = (2, KEYPOINT_NAMES.index("left_wrist"))  # (frame, keypoint) not detected


def known_points():
    """(xy, score, time_s) with every point's position known and one point missing."""
    k = len(KEYPOINT_NAMES)
    xy = np.empty((N_FRAMES, k, 2))
    xy[..., 0] = 100.0 + np.arange(k) + 0.25 * np.arange(N_FRAMES)[:, None]
    xy[..., 1] = 50.0 + 10.0 * np.arange(k)
    for part, y in JOINTS_Y.items():
        for side in ("left", "right"):
            xy[:, KEYPOINT_NAMES.index(f"{side}_{part}"), :] = (120.0, y)
    score = np.full((N_FRAMES, k), 0.9)
    score[:, 0] = np.linspace(0.1, 0.6, N_FRAMES)
    xy[MISSING] = np.nan
    score[MISSING] = 0.0
    return xy, score, np.arange(N_FRAMES) / FPS


@pytest.fixture
def keypoint_file(tmp_path):
    xy, score, t = known_points()
    table = pd.concat([frames_to_long(xy, score, t), frames_to_long(xy + 1000, score, t, track=1)])
    path = tmp_path / "kp" / "v1.parquet"
    path.parent.mkdir()
    write_keypoints(table, path, META)
    return path


def manifest(tmp_path, height_m="1.80", video_id="v1"):
    path = tmp_path / "samples.tsv"
    path.write_text(
        "video_id\tpath\tlifter_id\tlift\tvariant\theight_m\n"
        f"{video_id}\tv1.mp4\tL1\tsquat\thigh_bar\t{height_m}\n"
    )
    return path


def read_trc(path):
    """Header fields, marker names and (frame#, time, xyz) of a TRC file; '' -> NaN."""
    lines = path.read_text().split("\n")
    header = dict(zip(lines[1].split("\t"), lines[2].split("\t"), strict=True))
    markers = [m for m in lines[3].split("\t")[2:] if m]
    assert lines[4].split("\t")[2:5] == ["X1", "Y1", "Z1"]
    rows = [[float(c) if c else np.nan for c in line.split("\t")] for line in lines[6:] if line]
    data = np.array(rows)
    return header, markers, data[:, 0], data[:, 1], data[:, 2:].reshape(len(rows), -1, 3)


def test_trc_in_pixels_has_the_opensim_header_y_up_and_gaps(tmp_path, keypoint_file):
    [(out, units)] = export_files([keypoint_file], "trc", tmp_path / "out")
    assert out == tmp_path / "out" / "v1.trc" and units == "px"
    assert out.read_text().startswith("PathFileType\t4\t(X/Y/Z)\tv1.trc\n")
    header, markers, frame, time, xyz = read_trc(out)
    assert header == {
        "DataRate": "30", "CameraRate": "30", "NumFrames": str(N_FRAMES),
        "NumMarkers": str(len(KEYPOINT_NAMES)), "Units": "px", "OrigDataRate": "30",
        "OrigDataStartFrame": "1", "OrigNumFrames": str(N_FRAMES),
    }  # fmt: skip
    assert markers == list(KEYPOINT_NAMES)
    xy, _, t = known_points()
    np.testing.assert_array_equal(frame, np.arange(1, N_FRAMES + 1))
    np.testing.assert_allclose(time, t, atol=1e-6)
    np.testing.assert_allclose(xyz[..., 0], xy[..., 0], atol=1e-4)
    np.testing.assert_allclose(xyz[..., 1], -xy[..., 1], atol=1e-4)
    assert np.isnan(xyz[MISSING]).all()  # all three fields empty
    assert (np.delete(xyz[..., 2].ravel(), np.ravel_multi_index(MISSING, xy.shape[:2])) == 0).all()


def test_trc_in_metres_scales_by_the_analysis_body_height(tmp_path, keypoint_file):
    [(out, units)] = export_files(
        [keypoint_file], "trc", tmp_path / "out", sample_sheet=manifest(tmp_path)
    )
    assert units == "m"
    header, _, _, _, xyz = read_trc(out)
    assert header["Units"] == "m"
    xy, _, _ = known_points()
    m_per_px = 1.80 / BODY_HEIGHT_PX
    np.testing.assert_allclose(xyz[..., 0], xy[..., 0] * m_per_px, atol=2e-6)
    np.testing.assert_allclose(xyz[..., 1], -xy[..., 1] * m_per_px, atol=2e-6)
    ankle, shoulder = KEYPOINT_NAMES.index("left_ankle"), KEYPOINT_NAMES.index("left_shoulder")
    # ankle -> shoulder is 0.779 of stature (the anthropometric chain)
    assert xyz[0, shoulder, 1] - xyz[0, ankle, 1] == pytest.approx(CHAIN_FRACTION * 1.80, abs=1e-5)


def test_trc_stays_in_pixels_when_the_manifest_has_no_height(tmp_path, keypoint_file):
    [(out, units)] = export_files(
        [keypoint_file], "trc", tmp_path / "out", sample_sheet=manifest(tmp_path, height_m="")
    )
    assert units == "px" and read_trc(out)[0]["Units"] == "px"


def test_dlc_csv_reads_back_as_deeplabcut_reads_it(tmp_path, keypoint_file):
    [(out, _)] = export_files([keypoint_file], "dlc-csv", tmp_path / "out")
    assert out.name == "v1.csv"
    df = pd.read_csv(out, header=[0, 1, 2], index_col=0)
    assert df.columns.names == ["scorer", "bodyparts", "coords"]
    assert set(df.columns.get_level_values("scorer")) == {"hipdrive_synthetic"}
    assert list(df.columns.get_level_values("bodyparts").unique()) == list(KEYPOINT_NAMES)
    assert list(df.columns.get_level_values("coords")[:3]) == ["x", "y", "likelihood"]
    np.testing.assert_array_equal(df.index, np.arange(N_FRAMES))
    xy, score, _ = known_points()
    values = df.to_numpy().reshape(N_FRAMES, len(KEYPOINT_NAMES), 3)
    np.testing.assert_allclose(values[..., :2], xy, rtol=1e-6)  # pixels, y down, NaN kept
    np.testing.assert_allclose(values[..., 2], score, rtol=1e-6)


def test_netcdf_is_a_movement_poses_dataset(tmp_path, keypoint_file):
    import xarray as xr  # a dependency, for this format alone: imported where it is used

    [(out, _)] = export_files([keypoint_file], "netcdf", tmp_path / "out", track=1)
    assert out.name == "v1.nc"
    with xr.open_dataset(out) as ds:
        assert ds["position"].dims == ("time", "space", "keypoints", "individuals")
        assert ds["confidence"].dims == ("time", "keypoints", "individuals")
        assert list(ds["space"].values) == ["x", "y"]
        assert list(ds["keypoints"].values) == list(KEYPOINT_NAMES)
        assert list(ds["individuals"].values) == ["track_1"]
        assert ds.attrs["ds_type"] == "poses" and ds.attrs["time_unit"] == "seconds"
        assert ds.attrs["fps"] == FPS and ds.attrs["source_software"] == "hipdrive (synthetic)"
        xy, score, t = known_points()
        np.testing.assert_allclose(ds["time"].values, t)
        position = ds["position"].transpose("time", "keypoints", "space", "individuals").values
        np.testing.assert_allclose(position[..., 0], xy + 1000, rtol=1e-6)
        np.testing.assert_allclose(ds["confidence"].values[..., 0], score, rtol=1e-6)


def test_netcdf_without_xarray_says_what_to_install(tmp_path, keypoint_file, monkeypatch):
    monkeypatch.setitem(sys.modules, "xarray", None)  # an environment made before xarray
    with pytest.raises(BackendUnavailableError, match=r"v1\.nc: netCDF export needs xarray"):
        export_files([keypoint_file], "netcdf", tmp_path / "out")


def test_the_cli_exports_a_folder_one_output_per_file(tmp_path, keypoint_file, capsys):
    second = keypoint_file.with_name("v2.parquet")
    second.write_bytes(keypoint_file.read_bytes())
    argv = [
        "export",
        str(keypoint_file.parent),
        "--format",
        "dlc-csv",
        "--out",
        str(tmp_path / "o"),
    ]
    assert main(argv) == 0
    assert sorted(p.name for p in (tmp_path / "o").iterdir()) == ["v1.csv", "v2.csv"]
    assert "v2.csv (px)" in capsys.readouterr().out


def test_cli_format_names_match_the_module():
    assert FORMAT_NAMES == tuple(FORMATS)


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        ("not_parquet", r"notes\.txt: not a readable Parquet file"),
        ("foreign_parquet", r"other\.parquet: no 'hipdrive' metadata; not a hipdrive keypoint"),
        ("absent", r"nowhere\.parquet: no such file or folder"),
        ("empty_folder", r"empty: folder holds no keypoint files"),
        ("no_track", r"v1\.parquet: no track 5 \(the file holds tracks \[0, 1\]\)"),
        ("not_in_manifest", r"v1\.parquet: video_id 'v1' is not in .*samples\.tsv"),
        ("unknown_format", r"unknown format 'c3d'; choose one of trc, dlc-csv, netcdf"),
    ],
)
def test_errors_name_the_file_and_the_cause(tmp_path, keypoint_file, setup, message):
    kwargs = {}
    fmt, inputs = "trc", [keypoint_file]
    if setup == "not_parquet":
        inputs = [tmp_path / "notes.txt"]
        inputs[0].write_text("squat day")
    elif setup == "foreign_parquet":
        inputs = [tmp_path / "other.parquet"]
        pd.DataFrame({"a": [1]}).to_parquet(inputs[0])
    elif setup == "absent":
        inputs = [tmp_path / "nowhere.parquet"]
    elif setup == "empty_folder":
        inputs = [tmp_path / "empty"]
        inputs[0].mkdir()
    elif setup == "no_track":
        kwargs["track"] = 5
    elif setup == "not_in_manifest":
        kwargs["sample_sheet"] = manifest(tmp_path, video_id="v9")
    elif setup == "unknown_format":
        fmt = "c3d"
    with pytest.raises(InputError, match=message):
        export_files(inputs, fmt, tmp_path / "out", **kwargs)
    assert not (tmp_path / "out").exists()  # nothing half-written


def test_cli_reports_an_error_as_one_line(tmp_path, capsys):
    absent = tmp_path / "x.parquet"
    assert main(["export", str(absent), "--format", "trc", "--out", str(tmp_path)]) == 2
    assert capsys.readouterr().err.strip() == f"error: {absent}: no such file or folder"
