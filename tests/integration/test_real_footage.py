"""The whole workflow on real lifting clips (``../shared/real``), with accuracy checks.

(The first tests are fast unit tests of :mod:`hipdrive.qc_media`; every test
that needs the real clips is marked slow.)

One run of ``config/real-test.yaml`` (63 clips, MediaPipe on CPU on every
frame, no subsampling, bar tracker on; 14-21 minutes on 2 shared cores) shared by the tests
below. The figures are computed by ``benchmarks/bench_real.py`` (which prints
them); each test asserts one against a threshold: the target where it is met,
otherwise the level measured on 2026-11-21 minus a margin so that a regression
fails (docs/validation.md, "Real footage" and "Known limits", says which
targets are not met and why).

Set ``HIPDRIVE_REAL_WORKDIR`` to the working directory of a finished run to
check its outputs without re-running the workflow (developer shortcut; the
default runs it). Skips only when ``../shared/real`` is absent.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from ..conftest import REPO, load_benchmark

BIN = Path(sys.executable).parent


bench = load_benchmark("bench_real")


def test_qc_media_switch():
    from hipdrive.errors import InputError
    from hipdrive.qc_media import qc_media_enabled

    assert qc_media_enabled("auto", 49) and not qc_media_enabled("auto", 50)
    assert qc_media_enabled("on", 10_000) and not qc_media_enabled("off", 1)
    assert qc_media_enabled(True, 10_000) and not qc_media_enabled(False, 1)  # YAML 1.1 on/off
    with pytest.raises(InputError, match="auto, on or off, got 'yes'"):
        qc_media_enabled("yes", 1)


def test_blur_faces_blurs_the_head_only():
    from hipdrive.qc_media import blur_faces

    rng = np.random.default_rng(0)
    rgb = rng.integers(0, 256, size=(200, 300, 3), dtype=np.uint8)
    head = np.array([[100.0, 50.0], [110.0, 45.0], [np.nan, np.nan], [90.0, 48.0], [115.0, 52.0]])
    out = blur_faces(rgb, head, min_radius_px=10)
    changed = np.any(out != rgb, axis=-1)
    ys, xs = np.nonzero(changed)
    # radius 1.6 x the largest distance between two head points (25.5 px): ~41 px
    assert np.hypot(xs - 103.75, ys - 48.75).max() <= 1.6 * np.hypot(25, 4) + 1
    assert changed[49, 104] and not changed[150, 250]
    assert out[30:70, 85:125].std() < 0.5 * rgb[30:70, 85:125].std()  # noise blurred away
    unseen = np.full((5, 2), np.nan)
    assert blur_faces(rgb, unseen, min_radius_px=10) is rgb


def test_lifter_box_pads_and_clips():
    from hipdrive.qc_media import lifter_box

    xy = np.array([[[100.0, 200.0], [300.0, 600.0]], [[np.nan, np.nan], [150.0, 250.0]]])
    x0, y0, x1, y1 = lifter_box(xy, shape=(620, 1000), pad_frac=0.1)
    assert x0 < 100 and y0 < 200 and x1 > 300 and y1 == 620  # padded; clipped at the bottom
    assert lifter_box(np.full((2, 3, 2), np.nan), shape=(10, 20)) == (0, 0, 20, 10)


def test_bar_caption_says_what_stood_for_the_bar():
    from hipdrive.analysis import AnalysisParams
    from hipdrive.qc_media import bar_caption

    params = AnalysisParams().to_dict()
    used = {"bar_proxy": "bar_end", "bar_track": {"coverage": 0.99, "correlation": 0.97}}
    assert bar_caption(used) == "bar: tracked bar end (coverage 99%, r 0.97)"
    rejected = {"bar_proxy": "wrist", "params": params,
                "bar_track": {"coverage": 0.96, "correlation": 0.70, "used": False}}  # fmt: skip
    assert bar_caption(rejected) == (
        "bar: body proxy (wrist); bar track not used (coverage 96%, r 0.70; needs >= 50%, >= 0.80)"
    )
    drifted = {"bar_proxy": "wrist", "params": params,
               "bar_track": {"coverage": 1.0, "correlation": 0.96, "rest_drift": 0.18, "used": False}}  # fmt: skip
    assert bar_caption(drifted) == (
        "bar: body proxy (wrist); bar track not used "
        "(coverage 100%, r 0.96, rest drift 18%; needs >= 50%, >= 0.80, <= 15%)"
    )
    on_the_back = {"bar_proxy": "shoulder", "params": params,
                   "bar_track": {"coverage": 1.0, "correlation": 0.99, "rest_drift": float("nan"),
                                 "bar_below_shoulders_bh": 0.14, "used": False}}  # fmt: skip
    assert bar_caption(on_the_back) == (
        "bar: body proxy (shoulder); bar track not used "
        "(coverage 100%, r 0.99, 0.14 H below the shoulders; needs >= 50%, >= 0.80, <= 0.11 H)"
    )
    none = {"bar_proxy": "shoulder", "bar_track": {"coverage": 0.0, "correlation": 0.0}}
    assert bar_caption(none) == "bar: body proxy (shoulder); the bar tracker found no plate"
    assert bar_caption({"bar_proxy": "shoulder", "bar_track": None}).endswith("no bar track")


def test_qc_media_command_parses():
    import argparse

    from hipdrive.commands import qc

    parser = argparse.ArgumentParser()
    qc.add_commands(parser.add_subparsers(dest="command"))
    args = parser.parse_args(
        ["qc-media", "k.parquet", "--video", "v.mp4", "--reps", "r.parquet", "--sample-sheet",
         "s.tsv", "--video-id", "v", "--sheet-out", "a.png", "--plot-out", "b.png",
         "--no-blur-faces"]
    )  # fmt: skip
    assert args.func is not None and args.blur_faces is False and args.params == "{}"


def test_bottom_windows_are_parsed_from_label_notes():
    # the notes' two forms (made-up frames): per-rep windows, one window for one rep
    note = "bottoms on the hip (windows: r1 10-14, r2 ~40-45, r3 70 - 72)."
    assert bench.bottom_windows(note, 3) == {1: (10, 14), 2: (40, 45), 3: (70, 72)}
    one = "slow bottom, at depth ~90-130; lowest hip 120, window 115-125 (bar 121)"
    assert bench.bottom_windows(one, 1) == {1: (115, 125)}
    assert bench.bottom_windows(one, 2) == {}  # whose window? score on the frame
    assert bench.bottom_windows("lowest hip ~54 [47-61], not counted; r12", 1) == {}
    assert bench.bottom_windows(float("nan"), 1) == {}  # a row without notes
    assert [bench.window_error(f, (10, 14)) for f in (7, 10, 12, 14, 16)] == [-3, 0, 0, 0, 2]


#: One workflow run and its figures per test session (the fixtures below are
#: function-scoped because ``real_dir`` is; the run itself happens once).
_CACHE: dict[str, object] = {}


@pytest.fixture
def real_run(real_dir, tmp_path_factory) -> Path:
    """Working directory of a finished workflow run on every real clip."""
    if "error" in _CACHE:  # a failed run fails every test without running it again
        pytest.fail(str(_CACHE["error"]))
    if "run" not in _CACHE:
        reuse = os.environ.get("HIPDRIVE_REAL_WORKDIR")
        try:
            _CACHE["run"] = Path(reuse) if reuse else _run_workflow(real_dir, tmp_path_factory)
        except RuntimeError as exc:
            _CACHE["error"] = exc
            raise
    return _CACHE["run"]


def _run_workflow(real: Path, tmp_path_factory) -> Path:
    work = tmp_path_factory.mktemp("real")
    config = yaml.safe_load((REPO / "config" / "real-test.yaml").read_text())
    config["samples"] = str(REPO / config["samples"])
    config["data_root"] = str(real)  # the config's ../shared/real, made absolute
    (work / "config.yaml").write_text(yaml.safe_dump(config))
    cmd = [
        str(BIN / "snakemake"), "--snakefile", str(REPO / "Snakefile"), "--directory", str(work),
        "--configfile", str(work / "config.yaml"), "--cores", "2", "--keep-going", "all", "qc_media",
    ]  # fmt: skip
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}
    proc = subprocess.run(cmd, cwd=work, env=env, capture_output=True, text=True, timeout=1800)
    if proc.returncode != 0:
        logs = "\n".join(
            f"--- {p}\n{p.read_text()[-1500:]}"
            for p in sorted((work / "results" / "logs").rglob("*.log"))
            if "rror" in p.read_text()
        )
        raise RuntimeError(
            f"the workflow failed on the real clips:\n{proc.stderr[-4000:]}\n{logs[-8000:]}"
        )
    return work


@pytest.fixture
def figures(real_run, real_dir) -> dict:
    if "figures" not in _CACHE:
        _CACHE["figures"] = bench.summary(real_run, real_dir)
    return _CACHE["figures"]


@pytest.mark.slow
def test_every_clip_is_analysed_and_tabled(real_run):
    sheet = pd.read_csv(REPO / "config" / "real-samples.tsv", sep="\t")
    reps = pd.read_parquet(real_run / "results" / "tables" / "reps.parquet")
    missing = [
        v for v in sheet["video_id"] if not (real_run / f"results/reps/{v}.parquet").is_file()
    ]
    assert missing == []
    assert set(reps["video_id"]) <= set(sheet["video_id"])
    assert reps["pct_1rm"].isna().all()  # no loads on real clips: kinematics only


@pytest.mark.slow
def test_qc_media_for_every_clip(real_run):
    from PIL import Image

    from hipdrive.contracts.exclusions import exclusion_of
    from hipdrive.contracts.files import read_provenance

    sheet = pd.read_csv(REPO / "config" / "real-samples.tsv", sep="\t")
    reps = pd.read_parquet(real_run / "results" / "tables" / "reps.parquet")
    per_video = reps.groupby("video_id").size()
    notices = []
    for vid in sheet["video_id"]:
        sheet_png = real_run / "results" / "qc" / f"{vid}.sheet.png"
        plot_png = real_run / "results" / "qc" / f"{vid}.plot.png"
        if exclusion_of(read_provenance(real_run / "results" / "reps" / f"{vid}.parquet")):
            notices.append(vid)  # not analysable: the reason, where the sheet and plot would be
            for png in (sheet_png, plot_png):
                with Image.open(png) as im:
                    assert im.size[0] > 500 and np.asarray(im.convert("L")).std() > 10
            continue
        with Image.open(sheet_png) as im:
            w, h = im.size
            pixels = np.asarray(im.convert("L"))
        assert w > 500 and pixels.std() > 10  # frames drawn, not a blank canvas
        # one row of five key frames per rep (one row when there is none)
        rows = max(int(per_video.get(vid, 0)), 1)
        assert 150 * rows < h < 400 * rows + 100
        with Image.open(plot_png) as im:
            assert im.size == (800, 600)
    # measured: one clip whose whole lockout is a skeleton drawn on the plate and whose
    # shins hide behind it at the floor, so the lifter cannot be sized (misread pose)
    assert len(notices) <= 1, notices


@pytest.mark.slow
def test_lifter_detected_in_nearly_every_frame(figures):
    det = figures["detection"]
    assert det["detection_rate"].notna().all()
    # measured: median 99.4 %; worst clean side-view clip 70 % (mattiolato
    # Bad_000007: the lifter's upper body leaves the frame at lockout)
    assert det["detection_rate"].median() >= 0.97
    clean = det[det["video_id"].isin(bench.CLEAN_SIDE)]
    assert clean["detection_rate"].min() >= 0.65, clean.to_string()


@pytest.mark.slow
def test_rep_count_on_clean_side_view_clips(figures):
    counts = figures["counts"]
    clean = counts[counts["clean_side"]]
    assert len(clean) == 22
    # target met: 22/22 at min_tracking_confidence 0.5 (mattiolato Bad_000009 lifts off
    # 2 frames into the clip: seen, since its bar starts no higher than it lands);
    # docs/validation.md, "Settings compared", for 0.1 on deadlifts too
    assert clean["exact"].mean() >= 0.95, clean[~clean["exact"]].to_string()


@pytest.mark.slow
def test_single_rep_deadlifts_have_one_rep(figures):
    counts = figures["counts"]
    dl = counts[counts["video_id"].str.startswith("deadlift_mattiolato")]
    assert len(dl) == 20
    assert (dl["found"] == 1).mean() >= 0.95, dl[dl["found"] != 1].to_string()


@pytest.mark.slow
def test_completed_deadlifts_marked_failed(figures):
    failed = figures["failed_deadlifts"]
    assert len(failed) == 20
    # Every one of these lifts was locked out. On the near leg alone 3/20 read
    # bent (Bad_000002/3/8: the near plate hides it at lockout); the far leg
    # reads straight (docs/validation.md, "A lockout seen on either leg").
    assert failed.sum() == 0, failed[failed].index.tolist()


def _mattiolato(events):
    return events[events["video_id"].str.startswith("deadlift_mattiolato")]


@pytest.mark.slow
def test_deadlift_liftoff_against_labels(figures):
    ev = figures["events"]
    dl = ev[(ev["lift"] == "deadlift") & ev["start_err"].notna()]
    # Target (within 3 frames) met on all 12 labelled lift-offs: 9 mattiolato
    # (-2..+3) and the orbiting-camera bichraix good001-003 (-2, -3, +2), with
    # lift-off = the bar 1 % of its ROM up. The velocity onset (the rule before)
    # was 2-3 frames earlier: good001 -6, good002 -4, 10/12.
    assert len(dl) == 12 and dl["video_id"].str.startswith("deadlift_bichraix").sum() == 3
    assert (dl["start_err"].abs() <= 3).all(), dl.to_string()


@pytest.mark.slow
def test_deadlift_lockout_against_labels(figures):
    dl = _mattiolato(figures["events"])
    err = dl["key_err"].dropna().abs()
    assert len(err) == 10
    # Target (within 3 frames) met on 10/10 with the tracked bar, -2..+3
    # (the wrists: median 10). Lockout is the first stop at the top: Good_000003's
    # shrug creeps on afterwards.
    assert (err <= 3).all(), dl.to_string()
    bichraix = figures["events"]
    bichraix = bichraix[bichraix["video_id"].str.startswith("deadlift_bichraix_good00")]
    # orbiting camera (image heights include its motion): measured +2, +2, +2
    assert len(bichraix) == 3
    assert (bichraix["key_err"].abs() <= 3).all(), bichraix.to_string()


@pytest.mark.slow
def test_squat_events_against_labels(figures):
    ev = figures["events"]
    sq = ev[ev["lift"] == "squat"]
    assert len(sq) == 10
    # measured with the tracked bar: bottom within 3 frames of the labels' frame
    # (the lowest hip) on 6/10 reps (9/10 on the shoulders: the bar's lowest
    # point comes 2-8 frames earlier on slow bottoms); start median |error| 1.5
    # frames, 7/10 within 3 (4.5 and 3/10 when the start was the velocity onset,
    # which a 6 Hz filter spreads backwards), end 10/10
    assert (sq["key_err"].abs() <= 3).mean() >= 0.5, sq.to_string()
    # Scored as the labels ask, against the window of acceptable bottoms that
    # every squat rep has: 7/10 inside, 9/10 within 3 frames (stynes left-good:
    # 13 frames before its window, the bar bottoms out 6 px lower before the
    # pause than in it)
    assert (sq["key_window"] != "-").all(), sq.to_string()
    win = sq["key_window_err"].abs()
    assert (win == 0).sum() >= 6 and (win <= 3).sum() >= 8, sq.to_string()
    start = sq["start_err"].abs()
    assert start.median() <= 2 and (start <= 3).sum() >= 6, sq.to_string()
    assert sq["end_err"].abs().median() <= 3, sq.to_string()


@pytest.mark.slow
def test_facing_matches_labels(figures):
    f = figures["facing"]
    assert len(f) == 16 and f["detected"].notna().all()
    # every clip, against labels-dev.tsv with its 7 mirrored entries corrected
    assert f["agree"].all(), f.to_string()


@pytest.mark.slow
def test_bar_proxy_path_against_hand_marked_bar(figures):
    bp = figures["bar_path"]
    assert bp["n_frames"] == 263
    # Target (<= 10 px) met by the tracked bar end: measured mean 2.9 px, 1.9 px
    # after removing the constant offset (the body proxy: 123 px; the plate
    # hides the shoulders and MediaPipe guesses them).
    assert bp["bar"] == "bar_end", bp
    assert bp["mean_px"] <= 10, bp
    assert bp["shape_mean_px"] <= 5, bp


@pytest.mark.slow
def test_mediapipe_agrees_with_shipped_coco17_keypoints(figures):
    co = figures["coco"]
    assert len(co) == 35
    # measured: median over clips 4.7 deg; 34/35 clips <= 9 deg (bad016: 82 deg,
    # the two tools follow different people / a front view)
    assert co["median_abs_diff_deg"].median() <= 6.0, co.to_string()
    assert (co["median_abs_diff_deg"] <= 10).sum() >= 33, co.to_string()


@pytest.mark.slow
def test_load_velocity_sanity(figures):
    lv = figures["load_velocity"]
    # the simulator's population profile reproduces the table's means (measured 0.025 m/s)
    assert lv["sim_max_abs_dev_from_table_mean_m_s"] <= 0.05
    assert lv["sim_mv_20pct_m_s"] == pytest.approx(lv["table_mv_20pct_m_s"], abs=0.05)
    assert lv["sim_mv_100pct_m_s"] == pytest.approx(lv["table_mv_100pct_m_s"], abs=0.05)
    # the real squats move at a possible squat velocity (measured on the tracked
    # bar 0.91 and 0.63 m/s with a 1.74 m stature assumed: ~39 and ~67 %1RM on
    # the population profile; the bar end is nearer the camera than the body
    # that sets the scale, so metres are overestimated on close cameras)
    for vid in ("squat_stynes_small-squat_stabilised", "squat_stynes_squat-left-good"):
        assert lv["table_mv_min_m_s"] <= lv[f"{vid}_mv_m_s"] <= lv["table_mv_max_m_s"]
        assert 20 <= lv[f"{vid}_implied_pct_1rm"] <= 100
