"""Bad input and faults, one stage at a time: exclusion records, timeouts, full disks.

The whole-workflow corpus (broken files, odd phones, a lifter walking out) is
in ``test_bad_input_workflow.py``; the decoder fuzz test in
``test_fuzz_video.py``.
"""

from __future__ import annotations

import os
import subprocess
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import hipdrive.pose.driver as pose_base
import hipdrive.video as video
from hipdrive.cli import main
from hipdrive.contracts.exclusions import VIDEO_STAGES, excluded_table, read_excluded
from hipdrive.contracts.files import atomic_write_table, read_provenance
from hipdrive.contracts.keypoints import read_keypoints
from hipdrive.errors import DecoderTimeoutError
from hipdrive.pose.driver import estimate_poses
from hipdrive.pose.interface import PoseBackend, no_people
from hipdrive.simulate import simulate_video
from hipdrive.video import iter_frames, probe_video, write_video

SHEET_COLUMNS = ["video_id", "path", "lifter_id", "lift", "variant", "load_kg", "one_rm_kg",
                 "height_m", "camera_side"]  # fmt: skip


@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> Path:
    frames = [np.full((48, 64, 3), 10 * i, np.uint8) for i in range(8)]
    return write_video(frames, tmp_path_factory.mktemp("v") / "clip.mp4", fps=25)


def _never(*_args, **_kwargs):
    """A decoder stuck inside C code: never yields, never returns."""
    threading.Event().wait()
    yield  # pragma: no cover


def test_stalled_decoder_times_out_with_the_file_named(clip, monkeypatch):
    monkeypatch.setattr(video, "_decode", _never)
    start = time.monotonic()
    with pytest.raises(
        DecoderTimeoutError,
        match=r"clip\.mp4: the decoder produced no frame for 0\.3 s after 0 frame",
    ):
        list(iter_frames(clip, timeout_s=0.3))
    assert time.monotonic() - start < 30  # returned at all (no hang); not a speed check


def test_stall_after_some_frames_names_how_far_it_got(clip, monkeypatch):
    real = video._decode

    def stall_after_two(path, *, threads):
        for n, item in enumerate(real(path, threads=threads)):
            if n == 2:
                threading.Event().wait()
            yield item

    monkeypatch.setattr(video, "_decode", stall_after_two)
    with pytest.raises(DecoderTimeoutError, match="after 2 frame"):
        list(iter_frames(clip, prefetch=4, timeout_s=0.3))


def test_stalled_probe_times_out(clip, monkeypatch):
    monkeypatch.setattr(video, "_probe", lambda path: threading.Event().wait())
    with pytest.raises(DecoderTimeoutError, match="clip.mp4"):
        probe_video(clip, timeout_s=0.3)
    monkeypatch.undo()
    assert probe_video(clip, timeout_s=30).n_frames == 8  # a healthy file is unaffected


def test_timeout_yields_the_same_frames_as_without(clip):
    plain = [(i, t, rgb.sum()) for i, t, rgb in iter_frames(clip)]
    timed = [(i, t, rgb.sum()) for i, t, rgb in iter_frames(clip, timeout_s=30)]
    assert plain == timed


class _Backend(PoseBackend):
    """One fixed person per frame; raises on batch ``fail_at`` (a backend dying mid-video)."""

    name = "test"
    batch_size = 2

    def __init__(self, fail_at: int | None = None):
        self.fail_at, self.calls = fail_at, 0

    def predict(self, frames):
        self.calls += 1
        if self.calls == self.fail_at:
            raise RuntimeError("CUDA error: an illegal memory access was encountered")
        xy = np.tile(np.linspace(5, 40, len(self.keypoint_names))[None, :, None], (1, 1, 2))
        return [(xy.astype(np.float32), np.ones((1, len(self.keypoint_names)), np.float32))] * len(
            frames
        )


def test_backend_failing_mid_video_leaves_nothing_then_rerun_recovers(clip, tmp_path, monkeypatch):
    out = tmp_path / "kp" / "clip.parquet"
    monkeypatch.setattr(pose_base, "make_backend", lambda name, options: _Backend(fail_at=3))
    with pytest.raises(RuntimeError, match="illegal memory access"):
        estimate_poses(clip, out, video_id="clip", backend="mediapipe")
    assert not out.exists()
    assert not out.parent.exists() or list(out.parent.iterdir()) == []  # no temp file either
    monkeypatch.setattr(pose_base, "make_backend", lambda name, options: _Backend())
    meta = estimate_poses(clip, out, video_id="clip", backend="mediapipe")
    table, _ = read_keypoints(out)
    assert meta["n_frames"] == 8 and table["frame"].nunique() == 8


def test_nobody_in_any_frame_is_an_unusable_video(clip, tmp_path, monkeypatch):
    class Empty(_Backend):
        def predict(self, frames):
            return [no_people(len(self.keypoint_names)) for _ in frames]

    monkeypatch.setattr(pose_base, "make_backend", lambda name, options: Empty())
    with pytest.raises(Exception, match=r"clip\.mp4: no person detected in any of its 8 frames"):
        estimate_poses(clip, tmp_path / "k.parquet", video_id="clip", backend="mediapipe")


@pytest.fixture
def study(tmp_path) -> dict:
    """One good simulated video (truth keypoints only) and one zero-byte 'video'."""
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "empty.mp4").write_bytes(b"")
    good = dict(
        zip(
            SHEET_COLUMNS,
            ["good", "data/good.mp4", "L1", "squat", "high_bar", 100.0, 125.0, 1.75, "left"],
            strict=True,
        )
    )
    bad = {**good, "video_id": "empty", "path": "data/empty.mp4"}
    simulate_video(good, seed=3, effect_slope_deg_per_10pct=1.0, n_reps=2, video_path=None,
                   truth_dir=tmp_path / "truth")  # fmt: skip
    pd.DataFrame([good, bad]).to_csv(tmp_path / "samples.tsv", sep="\t", index=False)
    return {"root": tmp_path, "sheet": str(tmp_path / "samples.tsv")}


def _pose(root: Path, vid: str, *extra: str) -> int:
    """The pose stage: simulator truth for the good video; the real decoder path for the bad one
    (it fails while probing, before any model is loaded)."""
    options = f'{{"truth_dir": "{root / "truth"}", "noise_px": 1}}' if vid == "good" else "{}"
    return main([
        "estimate-poses", str(root / f"data/{vid}.mp4"), "--video-id", vid,
        "--out", str(root / f"kp/{vid}.parquet"),
        "--backend", "synthetic" if vid == "good" else "mediapipe", "--options", options, *extra,
    ])  # fmt: skip


def _analyze(root: Path, sheet: str, vid: str, *extra: str) -> int:
    return main([
        "analyze-video", str(root / f"kp/{vid}.parquet"), "--sample-sheet", sheet, "--video-id", vid,
        "--reps-out", str(root / f"reps/{vid}.parquet"), "--curves-out", str(root / f"curves/{vid}.parquet"),
        *extra,
    ])  # fmt: skip


def test_stages_fail_by_default_with_one_line_naming_the_file(study, capsys):
    root = study["root"]
    assert _pose(root, "empty") == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        f"error: {root / 'data/empty.mp4'}: empty file (0 bytes); the copy or upload did not finish?"
    ]
    assert not (root / "kp/empty.parquet").exists()


def test_excluded_video_travels_to_excluded_tsv_and_the_good_one_finishes(study, capsys):
    root, sheet = study["root"], study["sheet"]
    assert _pose(root, "empty", "--on-bad-video", "exclude") == 0
    assert "EXCLUDED" in capsys.readouterr().err
    table, meta = read_keypoints(root / "kp/empty.parquet")
    assert len(table) == 0 and meta["excluded"]["stage"] == "pose"
    assert "empty file (0 bytes)" in meta["excluded"]["reason"]
    # Downstream refuses the record unless told to pass it on; then writes empty tables with it.
    assert _analyze(root, sheet, "empty") == 2
    assert "was excluded at the pose stage" in capsys.readouterr().err
    assert _analyze(root, sheet, "empty", "--on-bad-video", "exclude") == 0
    assert read_provenance(root / "reps/empty.parquet")["excluded"]["stage"] == "pose"
    assert pd.read_parquet(root / "reps/empty.parquet").empty

    assert _pose(root, "good") == 0 and _analyze(root, sheet, "good") == 0
    assert main([
        "collect-tables", "--sample-sheet", sheet, "--reps-dir", str(root / "reps"),
        "--curves-dir", str(root / "curves"), "--reps-out", str(root / "t/reps.parquet"),
        "--curves-out", str(root / "t/curves.parquet"), "--excluded-out", str(root / "qc/excluded.tsv"),
    ]) == 0  # fmt: skip
    err = capsys.readouterr().err
    assert "1 video(s) excluded" in err and "excluded empty (pose): " in err
    reps = pd.read_parquet(root / "t/reps.parquet")
    assert set(reps["video_id"]) == {"good"} and len(reps) == 2
    excluded = read_excluded(root / "qc/excluded.tsv")
    videos = excluded[excluded["stage"].isin(VIDEO_STAGES)]
    assert videos["video_id"].tolist() == ["empty"] and videos["stage"].tolist() == ["pose"]
    assert "empty file (0 bytes)" in videos["reason"].iloc[0]
    html = (root / "qc/excluded.html").read_text()
    assert "empty file (0 bytes)" in html and "1 video(s) excluded" in html


def test_too_short_keypoints_are_excluded_at_analysis(study, capsys):
    root, sheet = study["root"], study["sheet"]
    assert _pose(root, "good") == 0
    table, meta = read_keypoints(root / "kp/good.parquet")
    from hipdrive.contracts.keypoints import write_keypoints

    write_keypoints(table[table["frame"] < 2], root / "kp/good.parquet", {**meta, "n_frames": 2})
    assert _analyze(root, sheet, "good", "--on-bad-video", "exclude") == 0
    rec = read_provenance(root / "reps/good.parquet")["excluded"]
    assert rec == {
        "stage": "analysis",
        "reason": "video good: only 2 frames of keypoints (10 needed)",
    }


def test_excluded_table_gives_each_kept_out_rep_its_reasons():
    reps = pd.DataFrame({
        "video_id": ["a", "a", "b", "c"], "rep": [1, 2, 1, 1],
        "complete": [True, False, True, True], "failed": [False, False, True, False],
        "flag_lifter_lost": [False, True, False, False], "flag_gap": [False, False, False, False],
        "flag_swap": [False, False, False, False], "flag_low_confidence": [False, False, False, True],
        "pct_1rm": [80.0, 80.0, 90.0, np.nan],
    })  # fmt: skip
    table = excluded_table(reps, {"z": {"stage": "pose", "reason": "broken"}})
    assert table["video_id"].tolist() == ["z", "a", "b", "c"]
    assert pd.isna(table["rep"].iloc[0]) and table["rep"].iloc[1:].tolist() == [2, 1, 1]
    assert table["reason"].iloc[1] == (
        "incomplete: the clip starts or ends inside the rep; "
        "lifter lost (out of frame, undetected, or another shape read as the lifter) during the rep"
    )
    assert table["reason"].iloc[2].startswith("failed")
    assert (
        "low keypoint confidence" in table["reason"].iloc[3]
        and "no %1RM" in table["reason"].iloc[3]
    )


@pytest.fixture
def tiny_disk(tmp_path):
    """A real 256 KiB tmpfs (needs root, as on CI); skips with the reason where mounting is refused."""
    mount = tmp_path / "tiny"
    mount.mkdir()
    proc = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(mount)],
                          capture_output=True, text=True)  # fmt: skip
    if proc.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs to fill a disk here ({proc.stderr.strip()}); "
                    "test_keypoints covers the failing writer with a patched one")  # fmt: skip
    yield mount
    subprocess.run(["umount", str(mount)], check=False)


def test_disk_full_leaves_no_partial_file_and_says_so(tiny_disk, study, capsys):
    import pyarrow as pa

    noise = np.random.default_rng(0).random(200_000)  # ~1.6 MB, incompressible
    with pytest.raises(OSError) as info:
        atomic_write_table(pa.table({"x": noise}), tiny_disk / "big.parquet")
    assert info.value.errno is not None
    assert os.listdir(tiny_disk) == []  # neither the file nor its temp file
    # Through the CLI: one line naming the cause, no traceback, nothing left behind.
    root = study["root"]
    (root / "kp").mkdir()
    filler = tiny_disk / "filler"
    with open(filler, "wb") as fh:  # leave ~no room
        try:
            fh.write(b"\0" * 300_000)
        except OSError:
            pass
    code = main([
        "estimate-poses", str(root / "data/good.mp4"), "--video-id", "good",
        "--out", str(tiny_disk / "good.parquet"), "--backend", "synthetic",
        "--options", f'{{"truth_dir": "{root / "truth"}"}}',
    ])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 1 and err.startswith("error: ") and "ENOSPC" in err, err
    assert "Traceback" not in err
    assert sorted(os.listdir(tiny_disk)) == ["filler"]
