"""Accuracy and throughput of the rep analysis against the simulator's ground truth.

Prints the figures docs/validation.md and docs/benchmarks.md record (it asserts nothing):

accuracy
    A simulated study (``--lifters`` x ``--loads``, squats by default, both
    facings, ``--fps``) whose true keypoints get Gaussian pixel noise
    (``--noise-px``, the synthetic backend's :func:`degrade_keypoints`). Per
    frame: trunk-angle RMSE against the trunk angle of the exact keypoints.
    Per video: rep count exact. Per rep (matched by rep number): sticking
    present/absent agreement, v_min time error in frames, the start, bottom,
    lockout, end and ascent-end times in frames, primary hip-lead index error. Targets:
    trunk RMSE <= 1.5 deg, rep count exact on 100 %, sticking agreement
    >= 95 %, v_min error <= 2 frames at 60 fps, events within 3 frames (the
    hand labels' tolerance) on >= 90 %, hip-lead error <= 2 deg.
mediapipe (``--mediapipe-videos N``, off by default: MediaPipe on CPU is slow)
    N rendered simulator videos (squats and deadlifts alternating, one per
    lifter, loads cycling 60-100 %1RM, facing alternating, ``--mp-fps``,
    ``--mp-reps`` reps), each encoded to H.264, run through the bundled
    MediaPipe model (:func:`hipdrive.pose.estimate_poses`) and analysed with
    the default :class:`AnalysisParams`. Per video: rep count exact. Per rep
    (matched by rep number): primary hip-lead index error. Targets:
    rep count exact on >= 98 % of videos, hip-lead error <= 5 deg. Keypoints
    are kept in ``--mp-dir`` when given, so the analysis can be re-run
    without MediaPipe.
throughput
    ``--throughput-videos`` (default 1,000) videos of ``--frames`` (600)
    frames, cycled from a pool of simulated clips with fresh noise, through
    cleaning + kinematics + reps + metrics + curves (:func:`analyze_frames`)
    in one process on one core; also timed including the long -> dense
    conversion (:func:`hipdrive.contracts.keypoints.long_to_frames`). Target >= 50,000
    keypoint frames/s per core, peak memory <= 1 GB (max RSS of the process).

Run::

    python benchmarks/bench_analysis.py                     # everything (~2-4 min on a laptop core)
    python benchmarks/bench_analysis.py --skip-throughput --lifters 10 --fps 30
    python benchmarks/bench_analysis.py --skip-accuracy --skip-throughput \
        --mediapipe-videos 24 --mp-dir /tmp/mp --jobs 2       # ~15 min on 2 cores
"""

# ruff: noqa: E402  (thread limits must be set before numpy is imported)
from __future__ import annotations

import os

# One core: the target is per core, so BLAS must not spread over threads.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse
import resource
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from hipdrive.analysis import AnalysisParams, analyze_frames, analyze_video
from hipdrive.contracts.keypoints import KEYPOINT_NAMES, long_to_frames, read_keypoints
from hipdrive.pose.synthetic import degrade_keypoints
from hipdrive.simulate import body_angles, simulate_video, study_manifest
from hipdrive.simulate.study import build_motion

#: Rep events timed against the truth (``<event>_s`` columns of the reps tables).
#: Rep events timed against the truth; "ascent end" is where the concentric phase
#: ends (bottom_s + ascent_duration_s), the bar stopped at the top.
EVENTS = ("start", "bottom", "lockout", "end", "ascent end")


def simulate(out: Path, *, lifters: int, loads: list[float], lift: str, fps: float, seed: int):
    manifest = study_manifest(n_lifters=lifters, loads_pct=loads, seed=seed, lifts=(lift,))
    for row in manifest.to_dict("records"):
        simulate_video(row, seed=seed, effect_slope_deg_per_10pct=1.5, fps=fps, n_reps=3,
                       video_path=None, truth_dir=out)  # fmt: skip
    return manifest


def true_dip_prominences(row: dict, *, seed: int) -> list[float]:
    """Each simulated rep's sticking dip, bh/s: the prominence of the first local minimum
    of its exact ascent velocity (0 without one), as the analysis measures a dip."""
    from scipy.signal import find_peaks

    lifter, motion = build_motion(row, seed=seed, effect_slope_deg_per_10pct=1.5, n_reps=3)
    out = []
    for rep, shape in zip(motion.reps, motion.shapes, strict=True):
        _, props = find_peaks(-shape.w, prominence=0)
        scale = motion.path.rom_m / lifter.anthro.height_m / rep.ascent_s  # w -> bh/s
        out.append(float(props["prominences"][0]) * scale if len(props["prominences"]) else 0.0)
    return out


def accuracy(args: argparse.Namespace, work: Path) -> None:
    loads = [float(x) for x in args.loads.split(",")]
    manifest = simulate(
        work, lifters=args.lifters, loads=loads, lift=args.lift, fps=args.fps, seed=args.seed
    )
    params = AnalysisParams.from_mapping(eval_params(args.params))
    sq_err, count_ok, agree, vmin_err, lead_err, n_reps_true = [], [], [], [], [], 0
    mcv_err, false_dip, missed_dip, below_threshold, below_noise, n_present = [], 0, 0, 0, 0, 0
    event_err = {event: [] for event in EVENTS}
    for k, row in enumerate(manifest.to_dict("records")):
        vid = row["video_id"]
        truth_kp, meta = read_keypoints(work / f"{vid}.keypoints.parquet")
        truth = pd.read_parquet(work / f"{vid}.reps.parquet")
        noisy = degrade_keypoints(truth_kp, noise_px=args.noise_px, noise_corr_s=args.noise_corr_s,
                                  noise_motion_px=args.noise_motion_px, seed=args.seed + k)  # fmt: skip
        frames, t, xy, score = long_to_frames(noisy, KEYPOINT_NAMES)
        res = analyze_frames(frames, t, xy, score, meta, row, params)
        _, t_true, xy_true, _ = long_to_frames(truth_kp, KEYPOINT_NAMES)
        trunk_true = np.interp(
            res.kinematics.time_s, t_true, body_angles(xy_true, row["camera_side"])["trunk"]
        )
        sq_err.append((res.kinematics["trunk_angle_deg"] - trunk_true) ** 2)
        est = res.reps
        n_reps_true += len(truth)
        # true dips shallower than the depth this video's noise asks of a dip
        threshold = res.provenance["sticking_threshold_bh_s"]
        dips = np.array(true_dip_prominences(row, seed=args.seed))[: len(truth)]
        present = truth["sticking_present"].to_numpy(bool)
        n_present += int(present.sum())
        below_threshold += int((present & (dips < threshold)).sum())
        # one SD of the velocity noise in the search's band (the threshold is k of them)
        below_noise += int((present & (dips < threshold / params.sticking_noise_k)).sum())
        count_ok.append(len(est) == len(truth))
        m = truth.merge(est, on="rep", suffixes=("_t", "_e"))
        agree += list(m["sticking_present_t"] == m["sticking_present_e"])
        false_dip += int((~m["sticking_present_t"] & m["sticking_present_e"]).sum())
        missed_dip += int((m["sticking_present_t"] & ~m["sticking_present_e"]).sum())
        both = m[m["sticking_present_t"] & m["sticking_present_e"]]
        vmin_err += list(np.abs(both["v_min_s_e"] - both["v_min_s_t"]) * args.fps)
        lead_err += list(
            np.abs(m["hip_lead_trunk_change_deg_e"] - m["hip_lead_trunk_change_deg_t"])
        )
        mcv_t, mcv_e = m["mean_concentric_velocity_m_s_t"], m["mean_concentric_velocity_m_s_e"]
        mcv_err += list(100 * (mcv_e - mcv_t) / mcv_t)
        for part in ("_e", "_t"):
            m[f"ascent end_s{part}"] = m[f"bottom_s{part}"] + m[f"ascent_duration_s{part}"]
        for event in EVENTS:
            event_err[event] += list((m[f"{event}_s_e"] - m[f"{event}_s_t"]) * args.fps)
    sq = np.concatenate(sq_err)
    vmin_err, lead_err = np.array(vmin_err), np.array(lead_err)
    print(f"accuracy: {len(manifest)} simulated {args.lift} videos, {n_reps_true} true reps, "
          f"{args.fps:g} fps, noise {args.noise_px:g} px + {args.noise_motion_px:g} px in motion "
          f"(correlation time {args.noise_corr_s:g} s), "
          f"params {args.params}")  # fmt: skip
    print(f"  trunk-angle RMSE          {np.sqrt(np.nanmean(sq)):.2f} deg  (target <= 1.5)  "
          f"[{np.isnan(sq).mean():.1%} frames undefined]")  # fmt: skip
    print(f"  rep count exact           {np.mean(count_ok):.1%} of videos  (target 100%)")
    print(f"  sticking agreement        {np.mean(agree):.1%} of {len(agree)} reps  (target >= 95%; 97% at 2 px): "
          f"{false_dip} false regions, {missed_dip} missed")  # fmt: skip
    print(f"    true dips shallower than the video's dip threshold: {below_threshold} of "
          f"{n_present} present (ceiling of the agreement at that threshold: "
          f"{1 - below_threshold / max(n_reps_true, 1):.1%}); shallower than one SD of the "
          f"velocity noise: {below_noise} ({below_noise / max(n_reps_true, 1):.1%} of all reps)")  # fmt: skip
    if len(vmin_err):
        print(f"  v_min time error          median {np.median(vmin_err):.2f}, 90th pct "
              f"{np.percentile(vmin_err, 90):.2f}, max {vmin_err.max():.2f} frames; "
              f"{np.mean(vmin_err <= 2):.1%} within 2 frames  (target <= 2 frames)")  # fmt: skip
    mcv_err = np.array(mcv_err)
    print(
        f"  mean concentric velocity  error median {np.nanmedian(mcv_err):+.1f}%, median |error| "
        f"{np.nanmedian(np.abs(mcv_err)):.1f}% [{np.isnan(mcv_err).sum()} undefined] (over the "
        "ascent, to its end below)"
    )
    for event, err in event_err.items():
        err = np.array(err, dtype=float)
        print(f"  {event + ' time error':25s} median {np.nanmedian(err):+.1f}, median |error| "
              f"{np.nanmedian(np.abs(err)):.1f} frames; {np.mean(np.abs(err) <= 3):.1%} within 3 "
              f"frames  (target >= 90%)")  # fmt: skip
    print(f"  hip-lead (primary) error  median {np.median(lead_err):.2f}, 90th pct "
          f"{np.percentile(lead_err, 90):.2f}, RMSE {np.sqrt(np.mean(lead_err**2)):.2f} deg; "
          f"{np.mean(lead_err <= 2):.1%} within 2 deg  (target <= 2 deg)")  # fmt: skip


def mediapipe_rows(n_videos: int, *, seed: int) -> list[dict]:
    """Manifest rows for the MediaPipe check: lifts alternate, one clip per lifter,
    loads cycling 60..100 %1RM, facing alternating (as ``check_detection``)."""
    loads = [60.0, 70.0, 80.0, 90.0, 100.0]
    n_lifters = (n_videos + 1) // 2
    manifest = study_manifest(
        n_lifters=n_lifters, loads_pct=loads, seed=seed, lifts=("squat", "deadlift")
    )
    rows = []
    for k, (_, g) in enumerate(manifest.groupby("lifter_id", sort=True)):
        for j, lift in enumerate(("squat", "deadlift")):
            m = g[g["lift"] == lift]
            row = m.iloc[(k + 2 * j) % len(m)].to_dict()
            row["camera_side"] = "right" if (k + j) % 2 == 0 else "left"
            rows.append(row)
    return rows[:n_videos]


def _render_and_detect(job: tuple[dict, str, int, float, int, dict]) -> str:
    """Render one clip and run MediaPipe on it (each skipped when its output exists)."""
    from hipdrive.pose import estimate_poses

    row, out_dir, seed, fps, n_reps, options = job
    out, vid = Path(out_dir), row["video_id"]
    kp_path = out / f"{vid}.mediapipe.parquet"
    video = out / f"{vid}.mp4"
    if not (video.exists() and (out / f"{vid}.reps.parquet").exists()):
        simulate_video(row, seed=seed, effect_slope_deg_per_10pct=1.5, fps=fps, n_reps=n_reps,
                       video_path=video, truth_dir=out)  # fmt: skip
    if not kp_path.exists():
        estimate_poses(video, kp_path, video_id=vid, backend="mediapipe", options=options)
    return vid


def mediapipe_accuracy(args: argparse.Namespace, work: Path) -> None:
    from concurrent.futures import ProcessPoolExecutor

    out = Path(args.mp_dir) if args.mp_dir else work / "mediapipe"
    out.mkdir(parents=True, exist_ok=True)
    rows = mediapipe_rows(args.mediapipe_videos, seed=args.seed)
    options = eval_params(args.mp_pose_options)
    jobs = [(row, str(out), args.seed, args.mp_fps, args.mp_reps, options) for row in rows]
    t0 = time.perf_counter()
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        list(pool.map(_render_and_detect, jobs))
    t_detect = time.perf_counter() - t0
    params = AnalysisParams.from_mapping(eval_params(args.mp_params))
    count_ok, per_rep, per_video, n_true = [], [], [], 0
    for row in rows:
        vid = row["video_id"]
        kp, meta = read_keypoints(out / f"{vid}.mediapipe.parquet")
        truth = pd.read_parquet(out / f"{vid}.reps.parquet")
        est, _ = analyze_video(kp, meta, row, params)
        n_true += len(truth)
        count_ok.append(len(est) == len(truth))
        m = truth.merge(est, on="rep", suffixes=("_t", "_e"))
        m["err"] = np.abs(m["hip_lead_trunk_change_deg_e"] - m["hip_lead_trunk_change_deg_t"])
        m["lift"] = row["lift"]
        m["quality_ok"] = m["quality_ok_e"]
        per_rep.append(m[["lift", "err", "quality_ok", "sticking_present_t", "sticking_present_e"]])
        per_video.append((vid, row["camera_side"], len(truth), len(est), m["err"].max()))
    reps_df = pd.concat(per_rep, ignore_index=True)
    print(f"mediapipe: {len(rows)} rendered videos ({args.mp_fps:g} fps, {args.mp_reps} reps each), "
          f"{n_true} true reps, params {args.mp_params}, pose options {args.mp_pose_options}; render + MediaPipe {t_detect:.0f} s wall")  # fmt: skip
    print(f"  rep count exact           {np.mean(count_ok):.1%} of videos  (target >= 98%)")
    subsets = [("all", reps_df)] + [(lift, g) for lift, g in reps_df.groupby("lift")]
    subsets.append(("quality_ok", reps_df[reps_df["quality_ok"]]))
    for name, g in subsets:
        err = g["err"].to_numpy(dtype=float)
        fin = err[np.isfinite(err)]
        if not len(fin):
            continue
        agree = np.mean(g["sticking_present_t"] == g["sticking_present_e"])
        print(f"  hip-lead (primary) error, {name + ':':11s} median {np.median(fin):.2f}, 90th pct "
              f"{np.percentile(fin, 90):.2f} deg; {np.mean(fin <= 5):.1%} of {len(fin)} reps within "
              f"5 deg [{len(err) - len(fin)} undefined]; sticking agreement {agree:.0%}")  # fmt: skip
    print("  (target: hip-lead error <= 5 deg)")
    worst = sorted(per_video, key=lambda r: (r[2] == r[3], -np.nan_to_num(r[4], nan=np.inf)))
    print("  worst videos (video, facing, true reps, found reps, max hip-lead error deg):")
    for vid, facing, nt, ne, e in worst[:5]:
        print(f"    {vid:20s} {facing:5s} {nt} {ne} {e:.1f}")


def throughput(args: argparse.Namespace, work: Path) -> None:
    pool_dir = work / "pool"
    manifest = simulate(
        pool_dir, lifters=4, loads=[60.0, 90.0], lift=args.lift, fps=60.0, seed=args.seed + 1
    )
    pool = []
    for k, row in enumerate(manifest.to_dict("records")):
        kp, meta = read_keypoints(pool_dir / f"{row['video_id']}.keypoints.parquet")
        for j in range(3):
            noisy = degrade_keypoints(
                kp[kp["frame"] < args.frames], noise_px=args.noise_px, seed=100 * k + j
            )
            pool.append((noisy, long_to_frames(noisy, KEYPOINT_NAMES), meta, row))
    params = AnalysisParams(
        side="auto_mean"
    )  # exact keypoints: the truth's midline (see choose_side)
    n_frames = 0
    t0, c0 = time.perf_counter(), time.process_time()
    for i in range(args.throughput_videos):
        _, dense, meta, row = pool[i % len(pool)]
        analyze_frames(*dense, meta, row, params)
        n_frames += len(dense[0])
    dt, cpu = time.perf_counter() - t0, time.process_time() - c0
    n_long = max(1, args.throughput_videos // 5)
    t1 = time.perf_counter()
    frames_long = 0
    for i in range(n_long):
        table, _, meta, row = pool[i % len(pool)]
        dense = long_to_frames(table, KEYPOINT_NAMES)
        analyze_frames(*dense, meta, row, params)
        frames_long += len(dense[0])
    dt_long = time.perf_counter() - t1
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"throughput: {args.throughput_videos} videos x {args.frames} frames, one process")
    print(f"  clean + kinematics + reps + metrics + curves   {n_frames / cpu:,.0f} keypoint frames per "
          f"CPU-second ({cpu:.1f} s CPU, {n_frames / dt:,.0f}/s wall; target >= 50,000 per core)")  # fmt: skip
    print(
        f"  ... including long_to_frames ({n_long} videos)  {frames_long / dt_long:,.0f} keypoint frames/s"
    )
    print(f"  peak memory (max RSS)                          {rss_mb:,.0f} MB (target <= 1,024)")


def eval_params(text: str) -> dict:
    import json

    return json.loads(text)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--lifters", type=int, default=20)
    ap.add_argument("--loads", default="60,70,80,85,90,95,100", help="comma-separated %%1RM")
    ap.add_argument("--lift", default="squat", choices=("squat", "deadlift"))
    ap.add_argument("--fps", type=float, default=60.0)
    ap.add_argument(
        "--noise-px", type=float, default=1.0, help="Gaussian keypoint noise SD, pixels"
    )
    ap.add_argument(
        "--noise-corr-s", type=float, default=0.0,
        help="correlation time of that noise, s (0: white; a smoothing pose tracker: ~0.05-0.2)",
    )  # fmt: skip
    ap.add_argument(
        "--noise-motion-px", type=float, default=0.0,
        help="further noise SD at a keypoint's fastest, none while still (pixels)",
    )  # fmt: skip
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument(
        "--params", default='{"side": "auto_mean"}', help="AnalysisParams overrides as JSON"
    )
    ap.add_argument("--throughput-videos", type=int, default=1000)
    ap.add_argument("--frames", type=int, default=600)
    ap.add_argument("--mediapipe-videos", type=int, default=0, help="0 = no MediaPipe check")
    ap.add_argument("--mp-fps", type=float, default=30.0)
    ap.add_argument("--mp-reps", type=int, default=3)
    ap.add_argument("--mp-dir", help="keep rendered videos and MediaPipe keypoints here")
    ap.add_argument("--mp-params", default="{}", help="AnalysisParams overrides (MediaPipe check)")
    ap.add_argument("--mp-pose-options", default="{}",
                    help='MediaPipe backend options as JSON, e.g. \'{"flip_test": true}\' '
                         "(use another --mp-dir: keypoints there are reused)")  # fmt: skip
    ap.add_argument("--jobs", type=int, default=1, help="parallel render + MediaPipe processes")
    ap.add_argument("--skip-accuracy", action="store_true")
    ap.add_argument("--skip-throughput", action="store_true")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench_analysis_") as tmp:
        work = Path(tmp)
        if not args.skip_accuracy:
            accuracy(args, work)
        if args.mediapipe_videos:
            mediapipe_accuracy(args, work)
        if not args.skip_throughput:
            throughput(args, work)


if __name__ == "__main__":
    main()
