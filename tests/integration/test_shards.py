"""Shards (cluster mode): many videos per pose / analysis job, stable membership, a pose cache.

The workflow part uses the synthetic backend (the simulator's truth + noise) so
it needs no model; the cache and the shard driver are the same for every backend.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

import pandas as pd
import pytest

from hipdrive.pose.shard import plan_shards, shard_of
from hipdrive.simulate import simulate_video

from .conftest import planned_jobs, snakemake

COLUMNS = ["video_id", "path", "lifter_id", "lift", "variant", "load_kg", "one_rm_kg",
           "height_m", "camera_side"]  # fmt: skip


def test_membership_is_stable_when_videos_are_added():
    ids = [f"L{i // 10:03d}_squat_{i % 10}" for i in range(1000)]
    before = plan_shards(ids, 64)
    assert len(before) == 16 and max(map(len, before.values())) <= 2 * 64
    after = plan_shards([*ids, "new_video"], 64)
    changed = [s for s in after if after[s] != before.get(s)]
    assert changed == [f"shard{shard_of('new_video', 16):02d}of16"]
    assert plan_shards(ids[:3], 64) == {"shard0of1": ids[:3]}
    with pytest.raises(ValueError, match="shard_size"):
        plan_shards(ids, 0)


def _row(vid: str, load: float) -> list:
    return [vid, f"data/{vid}.mp4", "A", "squat", "high_bar", load, 125.0, 1.75, "left"]


@pytest.mark.slow
def test_shard_jobs_and_adding_a_video_runs_the_model_on_it_only(tmp_path):
    work = tmp_path
    rows = [_row(f"v{i}", 60.0 + 5 * i) for i in range(6)]

    def add_video(row):
        (work / "data").mkdir(exist_ok=True)
        (work / row[1]).write_bytes(
            row[0].encode()
        )  # the synthetic backend reads truth, not pixels
        simulate_video(dict(zip(COLUMNS, row, strict=True)), seed=4, effect_slope_deg_per_10pct=1.0,
                       n_reps=2, video_path=None, truth_dir=work / "results/demo/truth")  # fmt: skip

    for row in rows:
        add_video(row)
    pd.DataFrame(rows, columns=COLUMNS).to_csv(work / "samples.tsv", sep="\t", index=False)
    (work / "config.yaml").write_text(
        "samples: samples.tsv\nshard_size: 2\npose: {backend: synthetic, synthetic: {noise_px: 1.0}}\n"
    )
    shards = plan_shards([r[0] for r in rows], 2)
    jobs = planned_jobs(work)
    assert {k: v for k, v in jobs.items() if k.startswith("estimate_poses")} == {
        f"estimate_poses_{s}": 1 for s in shards
    }
    assert sum(v for k, v in jobs.items() if k.startswith("analyze_")) == len(shards)
    snakemake(work, "results/tables/reps.parquet")
    reps = pd.read_parquet(work / "results/tables/reps.parquet")
    assert reps.groupby("video_id").size().to_dict() == {r[0]: 2 for r in rows}

    # A seventh video: only its shard re-runs, and the model runs on that video alone.
    kp = work / "results/keypoints"
    stamp = {p.name: (p.stat().st_ino, p.stat().st_mtime_ns) for p in kp.glob("*.parquet")}
    new = _row("v6", 90.0)
    add_video(new)
    pd.DataFrame([*rows, new], columns=COLUMNS).to_csv(work / "samples.tsv", sep="\t", index=False)
    home = [s for s, ids in plan_shards([*(r[0] for r in rows), "v6"], 2).items() if "v6" in ids][0]
    jobs = planned_jobs(work)
    assert [k for k in jobs if k.startswith("estimate_poses")] == [f"estimate_poses_{home}"]
    snakemake(work, "results/tables/reps.parquet")
    log = (work / f"results/logs/estimate_poses/{home}.log").read_text()
    mates = len(plan_shards([*(r[0] for r in rows), "v6"], 2)[home]) - 1
    assert f"1 estimated, {mates} from the cache, 0 excluded" in log, log
    home_ids = plan_shards([*(r[0] for r in rows), "v6"], 2)[home]
    for name, (ino, mtime) in stamp.items():  # the same file (a cache link), not a re-estimate
        st = os.stat(kp / name)
        assert st.st_ino == ino, name
        if name.removesuffix(".parquet") not in home_ids:  # other shards untouched altogether
            assert st.st_mtime_ns == mtime, name
    reps = pd.read_parquet(work / "results/tables/reps.parquet")
    assert reps.groupby("video_id").size().to_dict() == {r[0]: 2 for r in [*rows, new]}


def test_cache_refuses_a_changed_video(tmp_path):
    from hipdrive.pose.shard import estimate_poses_shard

    root = Path(tmp_path)
    row = _row("v0", 80.0)
    (root / "data").mkdir()
    (root / row[1]).write_bytes(b"first")
    simulate_video(dict(zip(COLUMNS, row, strict=True)), seed=4, effect_slope_deg_per_10pct=1.0, n_reps=1,
                   video_path=None, truth_dir=root / "truth")  # fmt: skip
    job = [{"video": str(root / row[1]), "video_id": "v0", "out": str(root / "kp/v0.parquet")}]
    opts = {"truth_dir": str(root / "truth")}

    def run():
        return estimate_poses_shard(
            job, backend="synthetic", options=opts, cache_dir=root / "cache"
        )

    assert run() == {"estimated": 1, "cached": 0, "excluded": 0}
    assert run() == {"estimated": 0, "cached": 1, "excluded": 0}
    (root / row[1]).write_bytes(b"second")  # same name, new content
    assert run() == {"estimated": 1, "cached": 0, "excluded": 0}


def test_track_bar_is_part_of_the_pose_cache_key(tmp_path, monkeypatch):
    """Turning the bar tracker on must not reuse keypoints made without it (no bar_end)."""
    import numpy as np

    import hipdrive.pose.driver as base
    from hipdrive.contracts.keypoints import KEYPOINT_NAMES, frames_to_long, write_keypoints
    from hipdrive.pose.shard import cache_key, estimate_poses_shard

    opts = {"model_complexity": 1, "track_bar": False}
    assert cache_key("abc", "mediapipe", opts) != cache_key(
        "abc", "mediapipe", {**opts, "track_bar": True}
    )

    runs = []

    def fake_estimate(video, out, *, video_id, options, extra_metadata, **_):
        runs.append(options["track_bar"])
        n = len(KEYPOINT_NAMES)
        table = frames_to_long(np.zeros((1, n, 2)), np.ones((1, n)), np.zeros(1))
        meta = {"video_id": video_id, "video_sha256": "-", "width": 1, "height": 1,
                "rotation": 0, "fps": 30.0, "n_frames": 1, "backend": "mediapipe", "model": "-",
                "checkpoint_sha256": "-", **extra_metadata}  # fmt: skip
        write_keypoints(table, out, meta)
        return meta

    monkeypatch.setattr(base, "make_backend", lambda *a, **k: contextlib.nullcontext())
    monkeypatch.setattr(base, "estimate_or_exclude", fake_estimate)
    (tmp_path / "v.mp4").write_bytes(b"video")
    out = str(tmp_path / "kp" / "v.parquet")
    job = [{"video": str(tmp_path / "v.mp4"), "video_id": "v", "out": out}]

    def run(track_bar):
        return estimate_poses_shard(job, backend="mediapipe", cache_dir=tmp_path / "cache",
                                    options={**opts, "track_bar": track_bar})  # fmt: skip

    assert run(False)["estimated"] == 1 and run(False)["cached"] == 1
    assert run(True)["estimated"] == 1 and run(True)["cached"] == 1
    assert runs == [False, True]


@pytest.mark.parametrize("shard_size", [1, 2])
def test_by_lift_pose_options_reach_each_video_and_shards_hold_one_lift(tmp_path, shard_size):
    """pose.mediapipe.by_lift: squats get their override, deadlifts the common options."""
    import json
    import re

    rows = [
        [f"{lift}{i}", f"results/demo/videos/{lift}{i}.mp4", "A", lift,
         "high_bar" if lift == "squat" else "conventional", 100.0, 125.0, 1.75, "left"]
        for lift in ("squat", "deadlift") for i in range(2)
    ]  # fmt: skip
    pd.DataFrame(rows, columns=COLUMNS).to_csv(tmp_path / "samples.tsv", sep="\t", index=False)
    (tmp_path / "config.yaml").write_text(
        f"samples: samples.tsv\nshard_size: {shard_size}\npose: {{backend: mediapipe, mediapipe: "
        "{model_complexity: 1, by_lift: {squat: {min_tracking_confidence: 0.1}}}}\n"
    )
    proc = snakemake(tmp_path, "--dry-run", "--printshellcmds",
                     *(f"results/keypoints/{r[0]}.parquet" for r in rows))  # fmt: skip
    text = proc.stdout + proc.stderr
    commands = re.findall(r"hipdrive estimate-poses\S* (.*?--options '([^']*)')", text)
    assert commands, text[-2000:]
    for command, options in commands:
        tracking = json.loads(options).get("min_tracking_confidence")
        lifts = set(re.findall(r"(squat|deadlift)\d", command))
        assert len(lifts) == 1, f"a pose job mixes lifts: {command[:300]}"
        assert tracking == (0.1 if lifts == {"squat"} else None), command[:300]
    assert len(commands) == (4 if shard_size == 1 else 2)


@pytest.mark.parametrize("shard_size", [1, 2])
def test_keypoint_rows_are_imported_and_never_sent_to_pose(tmp_path, shard_size):
    """Rows naming another tool's keypoints get an import job; pose jobs hold only videos."""
    import re

    (tmp_path / "kp").mkdir()
    rows = [[f"v{i}", f"results/demo/videos/v{i}.mp4", "A", "squat", "high_bar", 100.0, 125.0, 1.75,
             "left", "", "", ""] for i in range(2)]  # fmt: skip
    for i in range(2):
        (tmp_path / "kp" / f"k{i}.csv").write_text(f"made by another tool {i}")
        rows.append([f"k{i}", "", "A", "squat", "high_bar", 100.0, 125.0, 1.75, "left",
                     f"kp/k{i}.csv", "coco17-csv", 30.0])  # fmt: skip
    columns = [*COLUMNS, "keypoints", "keypoints_format", "fps"]
    pd.DataFrame(rows, columns=columns).to_csv(tmp_path / "samples.tsv", sep="\t", index=False)
    (tmp_path / "config.yaml").write_text(
        f"samples: samples.tsv\nshard_size: {shard_size}\npose: {{backend: mediapipe}}\n"
    )
    proc = snakemake(tmp_path, "--dry-run", "--printshellcmds",
                     *(f"results/reps/{r[0]}.parquet" for r in rows))  # fmt: skip
    text = proc.stdout + proc.stderr
    imports = re.findall(r"hipdrive import-keypoints (\S+) --format coco17-csv --fps 30.0", text)
    assert sorted(imports) == ["kp/k0.csv", "kp/k1.csv"], text[-3000:]
    pose = re.findall(r"hipdrive estimate-poses\S* (.*?)(?: > |$)", text, re.M)
    assert pose and all("k0" not in c and "k1" not in c for c in pose), pose
    assert len(re.findall(r"results/videos|demo/videos/v\d", " ".join(pose))) >= 2
