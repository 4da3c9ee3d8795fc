"""Accuracy of the whole pipeline on real footage (``../shared/real``).

Reads the outputs of a finished workflow run on ``config/real-test.yaml``
(``tests/integration/test_real_footage.py`` makes one; or run it yourself, see below) and
PRINTS the figures the "Real footage" section of docs/validation.md
records; it asserts nothing (the test asserts thresholds on the same numbers):

detection
    Per clip, the share of decoded frames in which the pose backend found the
    lifter (any keypoint of track 0).
rep count
    Reps found vs ``n_reps`` of ``labels-dev.tsv``, and vs exactly one rep on
    each of the 20 single-rep mattiolato deadlift clips and the two stynes
    squats (the "clean side-view" set; target: exact on >= 95 %).
event frames
    Per labelled rep, detected minus labelled frame of the start (squat:
    descent begins; deadlift: lift-off), the squat bottom / deadlift lockout,
    and the end (target: lift-off and lockout within 3 frames). Squat bottoms
    are also scored against the acceptable window the labels' notes give per
    rep (0 inside, else frames to the nearer edge; the label's single frame
    where no window is given): the labels' README asks evaluators to accept
    any frame in it. Deadlift lift-off and lockout are also timed by the
    filtered velocity's onset and stop, and by the labels' lockout rule with the
    plain highest point, on the pipeline's bar height
    (:func:`deadlift_rule_diagnosis`), to tell a definition difference from a
    tracking error.
facing
    The analysis' facing against the labels' ``facing``.
bar path
    The bar the analysis used (the tracked bar end, keypoint ``bar_end``,
    where it passed the analysis' checks, else the squat's shoulder on the
    side used; cleaned and low-passed) against the hand-marked bar end of
    ``squat_stynes_small-squat_stabilised.mp4``: mean Euclidean pixel error as
    is, and after removing the constant offset between the two (the
    path-shape error); the body proxy's figures too, for comparison. Target:
    mean error <= 10 px.
COCO-17 agreement
    Median absolute difference per clip between the trunk angle from the
    bundled MediaPipe keypoints and from the YOLO-pose COCO-17 keypoints the
    bichraix clips ship with (both: mid-hip -> mid-shoulder from vertical,
    mean of both sides, frames where both tools saw both hips and shoulders).
load-velocity
    Mean concentric velocity of the real squats (body heights/s x an assumed
    stature) against the 52-person back-squat load-velocity table and the
    simulator's population profile :data:`hipdrive.simulate.LOAD_VELOCITY`.

Run::

    PATH=/tmp/venvA/bin:$PATH snakemake -s Snakefile -d /tmp/real --configfile config/real-test.yaml \\
        -c2 --keep-going all qc_media   # with absolute samples/data_root paths
    python benchmarks/bench_real.py /tmp/real [--real-dir ../shared/real]
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import numpy as np
import pandas as pd

from hipdrive.contracts.keypoints import KEYPOINT_NAMES, long_to_frames, read_keypoints

REPO = Path(__file__).resolve().parents[1]
#: The clean side-view clips: the two stynes squats and the 20 mattiolato deadlifts, 1 rep each.
CLEAN_SIDE = ("squat_stynes_small-squat_stabilised", "squat_stynes_squat-left-good") + tuple(
    f"deadlift_mattiolato_{g}_{i:06d}" for g in ("Good", "Bad") for i in range(1, 11)
)
BAR_CLIP = "squat_stynes_small-squat_stabilised"
BAR_FILE = "bar/squat_stynes_small-squat_bar_manual_annotation.txt"
#: Stature assumed for the real squatters (unknown): the mean height of the 52
#: people of the load-velocity table (computed in :func:`load_velocity_check`).
LV_FREEWEIGHT = "bar/squat_loadvelocity_silvhua_data_freeweight.csv"


def video_id_of(path: str) -> str:
    return Path(path).stem


#: Facing in labels-dev.tsv that the frames contradict: in these clips the
#: lifter's head, chest and toes point to the image's left (checked by eye on
#: the lift-off frames, 2026-11-21; e.g. Good_000004 frame 50: head at x~300,
#: hips at x~900 of 1920, hips behind the bar), but the labels say right.
FACING_CORRECTIONS = {
    **{f"deadlift_mattiolato_Good_{i:06d}": "left" for i in range(1, 6)},
    "deadlift_mattiolato_Bad_000002": "left",
    "deadlift_mattiolato_Bad_000003": "left",
}


def load_labels(real_dir: Path) -> pd.DataFrame:
    """labels-dev.tsv with a ``video_id`` column (one row per labelled rep).

    ``facing`` is corrected where the frames contradict it
    (:data:`FACING_CORRECTIONS`); the file's value is kept in ``facing_label``.
    """
    labels = pd.read_csv(real_dir / "labels-dev.tsv", sep="\t")
    labels["video_id"] = labels["file"].map(video_id_of)
    labels["facing_label"] = labels["facing"]
    labels["facing"] = labels["video_id"].map(FACING_CORRECTIONS).fillna(labels["facing"])
    return labels


def read_reps(workdir: Path, video_id: str) -> pd.DataFrame | None:
    """The per-rep table of one video, or None when the analysis produced none."""
    path = workdir / "results" / "reps" / f"{video_id}.parquet"
    return pd.read_parquet(path) if path.is_file() else None


def expected_reps(labels: pd.DataFrame) -> dict[str, int]:
    """Complete reps per clip: labels-dev.tsv, plus 1 for every clean side-view clip."""
    expected = {vid: 1 for vid in CLEAN_SIDE}
    expected.update(labels.groupby("video_id")["n_reps"].first().astype(int).to_dict())
    return expected


def detection_table(workdir: Path, video_ids: list[str]) -> pd.DataFrame:
    """Per clip: decoded frames, frames with the lifter, and the rate (NaN rate = no keypoints)."""
    rows = []
    for vid in video_ids:
        path = workdir / "results" / "keypoints" / f"{vid}.parquet"
        if not path.is_file():
            rows.append((vid, 0, 0, np.nan))
            continue
        table, _ = read_keypoints(path)
        _, _, xy, score = long_to_frames(table, KEYPOINT_NAMES)
        seen = (np.isfinite(xy).all(axis=-1) & (score > 0)).any(axis=1)
        rows.append((vid, len(seen), int(seen.sum()), float(seen.mean()) if len(seen) else np.nan))
    return pd.DataFrame(rows, columns=["video_id", "n_frames", "n_detected", "detection_rate"])


def rep_count_table(workdir: Path, expected: dict[str, int]) -> pd.DataFrame:
    """Per clip with a known rep count: expected, found (NaN = no reps file), exact."""
    rows = []
    for vid, n in sorted(expected.items()):
        reps = read_reps(workdir, vid)
        # A rep counts when the analysis saw it through (complete) or judged it
        # failed; reps cut by the clip's edges (start or end unseen) do not,
        # as in the labels (n_reps = complete reps).
        found = np.nan if reps is None else int((reps["complete"] | reps["failed"]).sum())
        rows.append((vid, n, found, found == n, vid in CLEAN_SIDE))
    return pd.DataFrame(rows, columns=["video_id", "expected", "found", "exact", "clean_side"])


#: Per-rep bottom windows in a labels-dev.tsv note: "r1 55-60, r2 ~125-128" (the
#: rep index, then the first and last frame; "~" = approximate edge).
_REP_WINDOW = re.compile(r"\br(\d+)\s+~?(\d+)\s*-\s*~?(\d+)")
#: One window for a one-rep clip: "window 119-134".
_ONE_WINDOW = re.compile(r"\bwindow\s+~?(\d+)\s*-\s*~?(\d+)")


def bottom_windows(note: str | float, n_reps: int) -> dict[int, tuple[int, int]]:
    """Rep index -> (first, last) frame of its acceptable squat bottom, from a label note.

    labels-dev.tsv gives the bottom as the lowest hip and, for slow or paused
    bottoms, the window in which "an evaluator should accept any frame"
    (``../shared/real/README.md``). Per-rep windows ("r1 A-B, r2 C-D") win; a
    lone "window A-B" is taken only for a one-rep clip. Reps without a
    window are absent (score them on the single frame).
    """
    note = note if isinstance(note, str) else ""  # pandas reads an empty note as NaN
    found = {int(r): (int(a), int(b)) for r, a, b in _REP_WINDOW.findall(note)}
    if not found and n_reps == 1:
        one = _ONE_WINDOW.search(note)
        if one:
            found = {1: (int(one[1]), int(one[2]))}
    return found


def window_error(frame: float, window: tuple[int, int]) -> float:
    """Signed frames outside a window: 0 inside, else to the nearer edge (negative = early)."""
    lo, hi = window
    return float(min(frame - lo, 0) + max(frame - hi, 0))


def event_errors(workdir: Path, labels: pd.DataFrame) -> pd.DataFrame:
    """Detected minus labelled event frames, per labelled rep.

    Detected reps are matched to labelled ones by the nearest key event
    (squat bottom, deadlift lockout). Squat: start, bottom, end; deadlift:
    lift-off (``start_frame``), lockout, end (back on the floor).
    ``key_window_err`` scores squat bottoms against the labels' window
    (:func:`bottom_windows`, :func:`window_error`) and equals ``key_err``
    where there is none (and for deadlifts); ``key_window`` says which.
    """
    rows = []
    for vid, lab in labels.groupby("video_id"):
        reps = read_reps(workdir, vid)
        lift = lab["lift"].iloc[0]
        key_col = "bottom_frame" if lift == "squat" else "lockout_frame"
        windows = bottom_windows(lab["notes"].iloc[0], len(lab)) if lift == "squat" else {}
        for _, lr in lab.iterrows():
            err = {"start": np.nan, "key": np.nan, "end": np.nan, "window": np.nan}
            window = windows.get(int(lr["rep_index"]))
            if reps is not None and len(reps):
                i = int(np.argmin(np.abs(reps[key_col].to_numpy() - lr["bottom_or_lockout_frame"])))
                det = reps.iloc[i]
                err = {
                    "start": det["start_frame"] - lr["start_frame"],
                    "key": det[key_col] - lr["bottom_or_lockout_frame"],
                    "end": det["end_frame"] - lr["end_frame"],
                }
                err["window"] = err["key"] if window is None else window_error(det[key_col], window)
            rows.append(
                (vid, lift, int(lr["rep_index"]), lr["verified"], err["start"], err["key"],
                 err["end"], "-" if window is None else f"{window[0]}-{window[1]}", err["window"])
            )  # fmt: skip
    cols = ["video_id", "lift", "rep", "verified", "start_err", "key_err", "end_err",
            "key_window", "key_window_err"]  # fmt: skip
    return pd.DataFrame(rows, columns=cols)


def deadlift_rule_diagnosis(
    workdir: Path, labels: pd.DataFrame, *, lockout_frac: float = 0.02
) -> pd.DataFrame:
    """Deadlift lift-off and lockout: the analysis' frames vs other rules on the same track.

    Lift-off: the analysis times it where the bar is 1 % of its ROM above its
    rest height (the labels' rule; :func:`hipdrive.analysis.segment._left_rest`); the
    onset of the filtered velocity (``rest_rom_fraction`` 0) shows what the
    filter's spread costs. Lockout: the labels take the first frame within
    ``lockout_frac`` (2 %) of the ROM below the highest point, the analysis the
    same of the level of the bar's first stop near the top
    (:func:`hipdrive.analysis.segment._arrived_at_top`); the velocity's stop
    (``lockout_rom_fraction`` 0) shows what the slow approach to the top costs. All on the
    pipeline's own bar height (tracked bar end, else the wrists), so a
    definition difference is told apart from a tracking error.
    """
    from hipdrive.analysis import AnalysisParams
    from hipdrive.contracts.manifest import read_manifest, sample_row
    from hipdrive.qc_media import load_analysis

    sheet = read_manifest(REPO / "config" / "real-samples.tsv")
    rows = []
    for vid, lab in labels[labels["lift"] == "deadlift"].groupby("video_id"):
        reps = read_reps(workdir, vid)
        if reps is None or len(reps) != 1 or len(lab) != 1:
            continue
        kp = workdir / "results" / "keypoints" / f"{vid}.parquet"
        velocity = AnalysisParams(rest_rom_fraction=0.0, lockout_rom_fraction=0.0)
        onset, _ = load_analysis(kp, sample_row(sheet, vid), velocity)
        frames, h = onset.frames, onset.kinematics["bar_height_bh"]
        rep = reps.iloc[0]
        a, b = np.searchsorted(frames, [rep["start_frame"], rep["end_frame"]])
        seg = h[a : b + 1]
        top, low = np.nanmax(seg), np.nanmin(seg[: np.nanargmax(seg) + 1])
        lock = a + int(np.argmax(seg >= top - lockout_frac * (top - low)))
        on, stop = (
            (onset.reps["start_frame"].iloc[0], onset.reps["lockout_frame"].iloc[0])
            if len(onset.reps) == 1
            else (np.nan, np.nan)
        )
        start, key = lab["start_frame"].iloc[0], lab["bottom_or_lockout_frame"].iloc[0]
        rows.append((
            vid, start, int(rep["start_frame"]) - start, on - start,
            key, int(rep["lockout_frame"]) - key, stop - key, int(frames[lock]) - key,
        ))  # fmt: skip
    cols = ["video_id", "liftoff_label", "liftoff_err", "velocity_onset_err",
            "lockout_label", "lockout_err", "velocity_stop_err", "rule_2pct_rom_err"]  # fmt: skip
    return pd.DataFrame(rows, columns=cols)


def failed_deadlifts(workdir: Path) -> pd.Series:
    """Per mattiolato clip: whether the analysis marked its (completed) deadlift failed."""
    out = {}
    for vid in CLEAN_SIDE:
        if vid.startswith("deadlift_mattiolato"):
            reps = read_reps(workdir, vid)
            out[vid] = bool(reps is not None and reps["failed"].any())
    return pd.Series(out, name="failed")


def facing_table(workdir: Path, labels: pd.DataFrame) -> pd.DataFrame:
    """Detected facing (of the first rep) against the labelled one."""
    rows = []
    for vid, lab in labels.groupby("video_id"):
        reps = read_reps(workdir, vid)
        det = None if reps is None or reps.empty else reps["facing"].iloc[0]
        truth = lab["facing"].iloc[0]
        rows.append((vid, lab["facing_label"].iloc[0], truth, det, det == truth))
    return pd.DataFrame(rows, columns=["video_id", "label_file", "truth", "detected", "agree"])


def bar_path_error(workdir: Path, real_dir: Path) -> dict[str, float | str]:
    """The bar the analysis used vs the hand-marked bar end (pixels, image frame).

    Returns
    -------
    dict
        ``bar`` what stood for the bar (``bar_end`` or the body part);
        ``mean_px`` mean Euclidean error per frame; ``offset_x_px``/
        ``offset_y_px`` the mean bar - mark difference; ``shape_mean_px`` mean
        Euclidean error after removing that offset; ``vertical_shape_mean_px``
        the same for the vertical coordinate alone; ``n_frames`` frames
        compared; ``body_*`` the same three errors of the body proxy
        (shoulder).
    """
    from hipdrive.analysis import AnalysisParams
    from hipdrive.contracts.manifest import read_manifest, sample_row
    from hipdrive.qc_media import load_analysis

    sheet = read_manifest(REPO / "config" / "real-samples.tsv")
    analysis, _ = load_analysis(
        workdir / "results" / "keypoints" / f"{BAR_CLIP}.parquet",
        sample_row(sheet, BAR_CLIP),
        AnalysisParams(),
    )
    side = analysis.provenance["side_used"]
    sides = ("left", "right") if side == "mean" else (side,)
    idx = [KEYPOINT_NAMES.index(f"{s}_shoulder") for s in sides]
    shoulder = analysis.cleaned.xy[:, idx].mean(axis=1)
    marks = np.loadtxt(real_dir / BAR_FILE, delimiter=",")
    n = min(len(marks), len(analysis.frames))
    frames = analysis.frames[:n]

    def errors(path: np.ndarray) -> dict[str, float]:
        diff = path[:n] - marks[frames]
        ok = np.isfinite(diff).all(axis=1)
        diff = diff[ok]
        offset = diff.mean(axis=0)
        return {
            "mean_px": float(np.linalg.norm(diff, axis=1).mean()),
            "offset_x_px": float(offset[0]),
            "offset_y_px": float(offset[1]),
            "shape_mean_px": float(np.linalg.norm(diff - offset, axis=1).mean()),
            "vertical_shape_mean_px": float(np.abs(diff[:, 1] - offset[1]).mean()),
            "n_frames": int(ok.sum()),
        }

    bar = shoulder if analysis.bar_xy is None else analysis.bar_xy
    body = errors(shoulder)
    return {
        "bar": analysis.provenance["bar_proxy"],
        **errors(bar),
        **{f"body_{k}": body[k] for k in ("mean_px", "shape_mean_px", "vertical_shape_mean_px")},
    }


def _trunk_deg_image(hip: np.ndarray, shoulder: np.ndarray) -> np.ndarray:
    """Trunk angle from vertical in the image (y down), signed by image x, degrees."""
    d = shoulder - hip
    return np.degrees(np.arctan2(d[..., 0], -d[..., 1]))


def coco_agreement(workdir: Path, real_dir: Path, *, score_threshold: float = 0.3) -> pd.DataFrame:
    """Median |trunk-angle difference| MediaPipe vs shipped COCO-17, per bichraix clip."""
    rows = []
    for csv in sorted(
        (real_dir / "keypoints").glob("deadlift_bichraix_*_joints_yolopose_coco17.csv")
    ):
        vid = csv.name.replace("_joints_yolopose_coco17.csv", "")
        kp = workdir / "results" / "keypoints" / f"{vid}.parquet"
        if not kp.is_file():
            continue
        coco = pd.read_csv(csv).set_index("frame_id")
        table, _ = read_keypoints(kp)
        frames, _, xy, score = long_to_frames(table, KEYPOINT_NAMES)
        xy = np.where((score >= score_threshold)[..., None], xy, np.nan)

        c = coco.reindex(frames)
        mp_mid = {
            part: (
                xy[:, KEYPOINT_NAMES.index(f"left_{part}")]
                + xy[:, KEYPOINT_NAMES.index(f"right_{part}")]
            )
            / 2
            for part in ("hip", "shoulder")
        }
        co_mid = {
            part: (
                c[[f"left_{part}_x", f"left_{part}_y"]].to_numpy(float)
                + c[[f"right_{part}_x", f"right_{part}_y"]].to_numpy(float)
            )
            / 2
            for part in ("hip", "shoulder")
        }
        mp_trunk = _trunk_deg_image(mp_mid["hip"], mp_mid["shoulder"])
        co_trunk = _trunk_deg_image(co_mid["hip"], co_mid["shoulder"])
        d = np.abs((mp_trunk - co_trunk + 180) % 360 - 180)
        d = d[np.isfinite(d)]
        rows.append((vid, len(d), float(np.median(d)) if len(d) else np.nan))
    return pd.DataFrame(rows, columns=["video_id", "n_frames_both", "median_abs_diff_deg"])


def load_velocity_check(workdir: Path, real_dir: Path) -> dict[str, float]:
    """Real squats' mean concentric velocity vs the load-velocity table and the simulator.

    Stature is unknown for the real squatters: assumed = the mean height of
    the 52 people of the table. Velocities are the bar proxy's (shoulder),
    which for a back squat moves with the bar.
    """
    from hipdrive.simulate import LOAD_VELOCITY

    table = pd.read_csv(real_dir / LV_FREEWEIGHT)
    pct = np.array([20, 40, 60, 80, 90, 100])
    mv_cols = [c for c in table.columns if re.search(r"MV$", c)]
    mv = table[mv_cols].to_numpy(float)
    height_m = float(table["Height"].mean()) / 100.0
    sim = LOAD_VELOCITY["intercept_m_s"] + LOAD_VELOCITY["slope_m_s_per_pct"] * pct
    out = {
        "assumed_height_m": height_m,
        "table_mv_20pct_m_s": float(mv[:, 0].mean()),
        "table_mv_100pct_m_s": float(mv[:, -1].mean()),
        "table_mv_min_m_s": float(np.nanmin(mv)),
        "table_mv_max_m_s": float(np.nanmax(mv)),
        "sim_mv_20pct_m_s": float(sim[0]),
        "sim_mv_100pct_m_s": float(sim[-1]),
        "sim_max_abs_dev_from_table_mean_m_s": float(np.max(np.abs(sim - np.nanmean(mv, axis=0)))),
    }
    for vid in ("squat_stynes_small-squat_stabilised", "squat_stynes_squat-left-good"):
        reps = read_reps(workdir, vid)
        v = (
            np.nan
            if reps is None or reps.empty
            else float(reps["mean_concentric_velocity_bh_s"].mean())
        )
        mv_m_s = v * height_m
        out[f"{vid}_mv_m_s"] = mv_m_s
        out[f"{vid}_implied_pct_1rm"] = float(
            (mv_m_s - LOAD_VELOCITY["intercept_m_s"]) / LOAD_VELOCITY["slope_m_s_per_pct"]
        )
    return out


def summary(workdir: Path, real_dir: Path) -> dict:
    """Every figure, as tables and scalars."""
    labels = load_labels(real_dir)
    sheet = pd.read_csv(REPO / "config" / "real-samples.tsv", sep="\t")
    video_ids = list(sheet["video_id"])
    det = detection_table(workdir, video_ids)
    counts = rep_count_table(workdir, expected_reps(labels))
    events = event_errors(workdir, labels)
    facing = facing_table(workdir, labels)
    analysed = [vid for vid in video_ids if read_reps(workdir, vid) is not None]
    return {
        "detection": det,
        "analysed_share": len(analysed) / len(video_ids),
        "counts": counts,
        "events": events,
        "facing": facing,
        "deadlift_rules": deadlift_rule_diagnosis(workdir, labels),
        "failed_deadlifts": failed_deadlifts(workdir),
        "bar_path": bar_path_error(workdir, real_dir),
        "coco": coco_agreement(workdir, real_dir),
        "load_velocity": load_velocity_check(workdir, real_dir),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("workdir", type=Path, help="working directory of a finished real-test run")
    parser.add_argument("--real-dir", type=Path, default=REPO.parent / "shared" / "real")
    args = parser.parse_args(argv)
    s = summary(args.workdir, args.real_dir)
    pd.set_option("display.width", 160)
    det = s["detection"]
    print(f"clips analysed (reps file written): {s['analysed_share']:.1%}")
    print(
        f"detection rate: median {det['detection_rate'].median():.1%}, "
        f"min {det['detection_rate'].min():.1%} ({det.loc[det['detection_rate'].idxmin(), 'video_id']}), "
        f"frames {det['n_detected'].sum()}/{det['n_frames'].sum()}"
    )
    c = s["counts"]
    clean = c[c["clean_side"]]
    print(f"rep count exact, clean side-view clips: {clean['exact'].sum()}/{len(clean)} "
          f"({clean['exact'].mean():.1%}; target >= 95 %)")  # fmt: skip
    print(f"rep count exact, all clips with a known count: {c['exact'].sum()}/{len(c)}")
    print(c[~c["exact"]].to_string(index=False))
    failed = s["failed_deadlifts"]
    print(
        f"mattiolato deadlifts marked failed (every one was locked out): {failed.sum()}/{len(failed)}"
    )
    ev = s["events"]
    for lift in ("squat", "deadlift"):
        e = ev[ev["lift"] == lift]
        names = ("start", "bottom", "end") if lift == "squat" else ("lift-off", "lockout", "end")
        for col, name in zip(("start_err", "key_err", "end_err"), names, strict=True):
            a = e[col].dropna().abs()
            print(f"{lift} {name}: |error| median {a.median():.1f} frames, mean {a.mean():.1f}, "
                  f"within 3 frames {(a <= 3).sum()}/{len(a)}")  # fmt: skip
    sq = ev[ev["lift"] == "squat"]
    win = sq["key_window_err"].dropna().abs()
    print(f"squat bottom, scored against the labels' windows (any frame inside = 0; "
          f"{(sq['key_window'] != '-').sum()}/{len(sq)} reps have one): |error| median "
          f"{win.median():.1f} frames, mean {win.mean():.1f}, inside {(win == 0).sum()}/{len(win)}, "
          f"within 3 frames {(win <= 3).sum()}/{len(win)}")  # fmt: skip
    print(ev.to_string(index=False))
    dr = s["deadlift_rules"]
    print(
        "deadlift lift-off and lockout, frames from the label: the analysis vs the velocity's onset "
        "and stop and the labels' lockout rule (2 % ROM from the highest point) on the same bar track"
    )
    for col in ("liftoff_err", "velocity_onset_err", "lockout_err", "velocity_stop_err",
                "rule_2pct_rom_err"):  # fmt: skip
        a = dr[col].dropna().abs()
        print(f"  {col}: within 3 frames {(a <= 3).sum()}/{len(a)}, median |error| {a.median():.1f}")  # fmt: skip
    print(dr.to_string(index=False))
    f = s["facing"]
    print(
        f"facing agrees with the (corrected) labels: {f['agree'].sum()}/{len(f)}; "
        f"with labels-dev.tsv as written: {(f['detected'] == f['label_file']).sum()}/{len(f)}"
    )
    print(f.to_string(index=False))
    bp = s["bar_path"]
    print(
        f"bar path ({BAR_CLIP}, {bp['n_frames']} frames, bar = {bp['bar']}): mean error "
        f"{bp['mean_px']:.1f} px (target <= 10); constant offset bar - marked bar end "
        f"({bp['offset_x_px']:.1f}, {bp['offset_y_px']:.1f}) px; after removing it "
        f"{bp['shape_mean_px']:.1f} px (vertical alone {bp['vertical_shape_mean_px']:.1f} px); "
        f"body proxy (shoulder): {bp['body_mean_px']:.1f} px, shape {bp['body_shape_mean_px']:.1f} px"
    )
    co = s["coco"]
    print(f"MediaPipe vs COCO-17 trunk angle, median |diff| per clip: median {co['median_abs_diff_deg'].median():.1f} "
          f"deg, max {co['median_abs_diff_deg'].max():.1f} deg over {len(co)} clips")  # fmt: skip
    print(co.to_string(index=False))
    for k, v in s["load_velocity"].items():
        print(f"load-velocity {k}: {v:.3f}")


if __name__ == "__main__":
    main()
