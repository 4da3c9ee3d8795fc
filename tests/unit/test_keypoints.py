"""The keypoint Parquet contract: schema, metadata, atomic writes, dense<->long."""

import json

import numpy as np
import pyarrow.parquet as pq
import pytest

from hipdrive.contracts.keypoints import (
    KEYPOINT_NAMES,
    KEYPOINT_SCHEMA,
    REQUIRED_METADATA,
    KeypointFileError,
    atomic_write_table,
    frames_to_long,
    long_to_frames,
    read_keypoints,
    read_metadata,
    write_keypoints,
)

META = {
    "video_id": "v1", "video_sha256": "0" * 64, "width": 540, "height": 960, "rotation": 0,
    "fps": 30.0, "n_frames": 4, "backend": "test", "model": None, "checkpoint_sha256": None,
}  # fmt: skip


def dense(n_frames=4, seed=0):
    rng = np.random.default_rng(seed)
    xy = rng.uniform(0, 500, size=(n_frames, len(KEYPOINT_NAMES), 2))
    score = rng.uniform(0, 1, size=(n_frames, len(KEYPOINT_NAMES)))
    xy[2] = np.nan  # a frame where the lifter was not found
    score[2] = 0
    return xy, score, np.arange(n_frames) / 30.0


def test_round_trip_keeps_values_schema_and_metadata(tmp_path):
    xy, score, t = dense()
    path = tmp_path / "kp.parquet"
    write_keypoints(frames_to_long(xy, score, t), path, META)

    assert pq.read_schema(path).remove_metadata().equals(KEYPOINT_SCHEMA)
    table, meta = read_keypoints(path)
    assert set(REQUIRED_METADATA) <= set(meta)
    assert meta["video_id"] == "v1" and meta["schema_version"] == 1
    frames, time_s, xy2, score2 = long_to_frames(table)
    np.testing.assert_array_equal(frames, np.arange(4))
    np.testing.assert_allclose(time_s, t)
    np.testing.assert_allclose(xy2, xy.astype(np.float32), equal_nan=True)
    np.testing.assert_allclose(score2, score.astype(np.float32), rtol=1e-6)
    assert len(table) == 4 * len(KEYPOINT_NAMES)


def test_coco_only_file_gives_nan_feet():
    coco = KEYPOINT_NAMES[:17]
    xy = np.ones((3, 17, 2))
    table = frames_to_long(xy, np.ones((3, 17)), np.arange(3.0), coco)
    _, _, xy_all, score_all = long_to_frames(table)
    assert np.isnan(xy_all[:, 17:]).all() and (score_all[:, 17:] == 0).all()
    assert np.isfinite(xy_all[:, :17]).all()


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda t, m: m.pop("video_sha256"), "metadata lacks video_sha256"),
        (lambda t, m: t.__setitem__("score", 1.5), "scores outside 0..1"),
    ],
)
def test_contract_violations_are_refused(tmp_path, mutate, message):
    xy, score, t = dense()
    table, meta = frames_to_long(xy, score, t), dict(META)
    mutate(table, meta)
    with pytest.raises(KeypointFileError, match=message):
        write_keypoints(table, tmp_path / "bad.parquet", meta)
    assert not list(tmp_path.iterdir()), "nothing may be left behind"


def test_unknown_keypoint_name_is_refused(tmp_path):
    table = frames_to_long(np.ones((1, 1, 2)), np.ones((1, 1)), [0.0], ["left_tail"])
    with pytest.raises(KeypointFileError, match="unknown keypoint names"):
        write_keypoints(table, tmp_path / "bad.parquet", META)


def test_truncated_or_foreign_files_are_not_trusted(tmp_path):
    xy, score, t = dense()
    good = tmp_path / "kp.parquet"
    write_keypoints(frames_to_long(xy, score, t), good, META)
    truncated = tmp_path / "truncated.parquet"
    truncated.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    with pytest.raises(KeypointFileError, match="truncated.parquet: not a readable Parquet"):
        read_keypoints(truncated)
    foreign = tmp_path / "foreign.parquet"
    pq.write_table(pq.read_table(good).replace_schema_metadata({}), foreign)
    with pytest.raises(KeypointFileError, match="not a hipdrive keypoint file"):
        read_metadata(foreign)


def test_atomic_write_leaves_no_partial_file_when_the_writer_fails(tmp_path, monkeypatch):
    xy, score, t = dense()
    target = tmp_path / "kp.parquet"

    def disk_full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(pq, "write_table", disk_full)
    with pytest.raises(OSError, match="No space left"):
        write_keypoints(frames_to_long(xy, score, t), target, META)
    assert list(tmp_path.iterdir()) == []


def test_metadata_is_json_under_one_key(tmp_path):
    xy, score, t = dense()
    path = tmp_path / "kp.parquet"
    write_keypoints(frames_to_long(xy, score, t), path, {**META, "fps": np.float64(29.97)})
    raw = pq.read_schema(path).metadata[b"hipdrive"]
    assert json.loads(raw)["fps"] == pytest.approx(29.97)


def test_atomic_write_table_replaces_existing_file(tmp_path):
    import pyarrow as pa

    path = tmp_path / "t.parquet"
    atomic_write_table(pa.table({"a": [1]}), path)
    atomic_write_table(pa.table({"a": [2, 3]}), path)
    assert pq.read_table(path).column("a").to_pylist() == [2, 3]
