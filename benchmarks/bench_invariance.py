"""Invariance of the per-rep numbers to how a video was encoded, framed or oriented.

The same lift, re-encoded or transformed in ways that carry no information about
the lifter, must give the same reps and the same numbers. For each source clip
this makes variants, runs pose (MediaPipe, the bar tracker on, as shipped) and
the analysis on each, and PRINTS per variant the change against the original:

rep count      share of clips with the same number of reps (target: all)
events         median |change| of start, bottom / lift-off, lockout, end, in frames
               of the original's rate
hip-lead       primary index (``hip_lead_trunk_change_deg``): median and 90th
               percentile |change| (targets 1.5 deg and 4 deg)
trunk bottom   ``trunk_angle_bottom_deg``: median |change| (target 2 deg)
velocity       ``mean_concentric_velocity_bh_s``: median relative |change| (target 5%)
bar source     share of clips whose ``bar_source`` differs from the original's
ok_*           the same figures over the reps ``quality_ok`` in both the original and the
               variant (those the models would use); ``ok_in_one_only`` counts reps that
               a flag keeps out in one of the two

Variants (each from the decoded, upright original):

crf12 / crf35  re-encoded at high / low quality (x264 CRF 12 / 35)
yuv444         4:4:4 chroma instead of 4:2:0
half           half resolution
fps_half       every other frame (sources at 50 fps or more)
mirror         mirrored left-right (``camera_side`` mirrored too, as a user would declare it)
pad            a black border of 1/8 of each side (letterbox and pillarbox)
rotated        pixels stored turned 90 deg with a display rotation that turns them back

Sources: the labelled real clips of ``../shared/real/labels-dev.tsv`` (skipped when
that folder is absent) and rendered simulator videos (``--simulated N``).
Rep matching is by order; a clip whose variant finds another rep count adds to
the rep-count figure only. It asserts nothing.

Run::

    python benchmarks/bench_invariance.py WORKDIR [--real-dir ../shared/real]
        [--clips N] [--simulated N] [--variants crf35,mirror,...] [--out FILE.csv]
        [--reuse]

``--reuse`` keeps the variant videos and keypoints already in WORKDIR and re-runs only
the analysis: the way to re-measure a change of the analysis (MediaPipe on every
variant is most of the ~20 minutes).
"""

from __future__ import annotations

import argparse
import fractions
import json
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd

from hipdrive.analysis import AnalysisParams, analyze_video
from hipdrive.contracts.keypoints import read_keypoints
from hipdrive.pose import estimate_poses
from hipdrive.video import X264_OPTIONS, iter_frames, probe_video

REPO = Path(__file__).resolve().parents[1]
VARIANTS = ("crf12", "crf35", "yuv444", "half", "fps_half", "mirror", "pad", "rotated")
EVENTS = ("start_s", "bottom_s", "lockout_s", "end_s")
TARGETS = {"hip_lead_median_deg": 1.5, "hip_lead_p90_deg": 4.0, "trunk_bottom_median_deg": 2.0,
           "velocity_median_pct": 5.0}  # fmt: skip
#: Pose options as shipped (config/config.yaml): MediaPipe's bundled model, the plate tracker.
POSE_OPTIONS = {"squat": {"min_tracking_confidence": 0.1, "flip_test": True, "track_bar": True},
                "deadlift": {"track_bar": True}}  # fmt: skip


def _encode(frames: Iterator[tuple[np.ndarray, float]], path: Path, *, fps: float, crf: int = 18,
            pix_fmt: str = "yuv420p", rotation: int = 0) -> Path:  # fmt: skip
    """Frames with their times -> an H.264 mp4 (a variant; the times are kept)."""
    import av

    time_base = fractions.Fraction(1, 1000)
    with av.open(str(path), "w") as out:
        stream = None
        for rgb, t in frames:
            if stream is None:
                stream = out.add_stream(
                    "libx264", rate=fractions.Fraction(fps).limit_denominator(1001)
                )
                stream.height, stream.width = rgb.shape[:2]
                stream.pix_fmt = pix_fmt
                stream.codec_context.time_base = time_base
                stream.options = {"crf": str(crf), **X264_OPTIONS}
                if rotation:
                    stream.set_display_rotation(rotation)
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24")
            frame.pts, frame.time_base = round(t / time_base), time_base
            out.mux(stream.encode(frame))
        out.mux(stream.encode())
    return path


def _even(rgb: np.ndarray) -> np.ndarray:
    h, w = rgb.shape[:2]
    return rgb[: h - h % 2, : w - w % 2]


def make_variant(source: Path, name: str, out: Path) -> Path | None:
    """Write variant ``name`` of ``source`` to ``out`` (None where it does not apply)."""
    import cv2

    info = probe_video(source)
    frames = ((rgb, t) for _, t, rgb in iter_frames(source))
    fps = info.fps
    if name == "fps_half":
        if fps < 50:
            return None
        frames = (f for i, f in enumerate(frames) if i % 2 == 0)
        fps = fps / 2
    transform = {
        "half": lambda im: _even(
            cv2.resize(im, (im.shape[1] // 2, im.shape[0] // 2), interpolation=cv2.INTER_AREA)
        ),  # fmt: skip
        "mirror": lambda im: im[:, ::-1],
        "pad": lambda im: _even(
            cv2.copyMakeBorder(
                im,
                im.shape[0] // 8,
                im.shape[0] // 8,
                im.shape[1] // 8,
                im.shape[1] // 8,
                cv2.BORDER_CONSTANT,
                value=(0, 0, 0),
            )
        ),  # fmt: skip
        "rotated": lambda im: np.rot90(im, k=-1),  # stored turned clockwise ...
    }.get(name, lambda im: im)
    frames = (
        (_even(transform(rgb)) if name != "yuv444" else transform(rgb), t) for rgb, t in frames
    )
    return _encode(frames, out, fps=fps,
                   crf={"crf12": 12, "crf35": 35}.get(name, 18),
                   pix_fmt="yuv444p" if name == "yuv444" else "yuv420p",
                   rotation=90 if name == "rotated" else 0)  # ... shown turned back  # fmt: skip


def analyse(
    video: Path, sample: dict, work: Path, *, reuse: bool = False, options: dict | None = None
) -> pd.DataFrame:
    """Pose + analysis of one video, as the workflow runs them; reps with provenance."""
    kp_path = work / f"{video.stem}.keypoints.parquet"
    if not (reuse and kp_path.exists()):
        estimate_poses(video, kp_path, video_id=video.stem, backend="mediapipe",
                       options={**POSE_OPTIONS[sample["lift"]], **(options or {})})  # fmt: skip
    table, meta = read_keypoints(kp_path)
    reps, _ = analyze_video(table, meta, sample, AnalysisParams())
    return reps


def compare(original: pd.DataFrame, variant: pd.DataFrame, fps: float) -> dict:
    """One clip's changes, variant minus original (reps matched by order)."""
    row = {"reps_original": len(original), "reps_variant": len(variant),
           "same_count": len(original) == len(variant),
           "bar_source_changed": set(original.get("bar_source", [])) != set(variant.get("bar_source", []))}  # fmt: skip
    if not row["same_count"] or not len(original):
        return row
    for ev in EVENTS:
        row[f"{ev[:-2]}_frames"] = list(
            np.abs(variant[ev].to_numpy() - original[ev].to_numpy()) * fps
        )
    row["hip_lead_deg"] = list(np.abs(variant["hip_lead_trunk_change_deg"].to_numpy()
                                      - original["hip_lead_trunk_change_deg"].to_numpy()))  # fmt: skip
    row["trunk_bottom_deg"] = list(np.abs(variant["trunk_angle_bottom_deg"].to_numpy()
                                          - original["trunk_angle_bottom_deg"].to_numpy()))  # fmt: skip
    row["both_ok"] = list(original["quality_ok"].to_numpy(bool) & variant["quality_ok"].to_numpy(bool))
    row["one_ok"] = list(original["quality_ok"].to_numpy(bool) != variant["quality_ok"].to_numpy(bool))
    v0 = original["mean_concentric_velocity_bh_s"].to_numpy()
    row["velocity_pct"] = list(
        100 * np.abs(variant["mean_concentric_velocity_bh_s"].to_numpy() - v0) / np.abs(v0)
    )
    return row


def sources(
    real_dir: Path, n_clips: int | None, n_simulated: int, work: Path
) -> list[tuple[Path, dict]]:
    """(video, manifest row) of each source clip."""
    out = []
    labels = real_dir / "labels-dev.tsv"
    if labels.is_file():
        table = pd.read_csv(labels, sep="\t")
        clips = table.drop_duplicates("file")[["file", "lift"]].to_numpy()[: n_clips or None]
        for file, lift in clips:
            out.append((real_dir / file, {"video_id": Path(file).stem, "lift": lift, "variant": "",
                                          "height_m": None, "camera_side": None}))  # fmt: skip
    else:
        print(f"{real_dir}: not found; real clips skipped")
    if n_simulated:
        from hipdrive.simulate import simulate_video

        for i in range(n_simulated):
            lift = "deadlift" if i % 3 == 2 else "squat"
            vid = f"sim{i:02d}_{lift}"
            row = {"video_id": vid, "lifter_id": f"S{i:02d}", "lift": lift,
                   "variant": "high_bar" if lift == "squat" else "conventional", "load_kg": 80.0 + 5 * i,
                   "one_rm_kg": 100.0, "height_m": 1.78, "camera_side": "left" if i % 2 else "right"}  # fmt: skip
            path = work / "simulated" / f"{vid}.mp4"
            if not path.is_file():
                simulate_video(row, seed=2026 + i, effect_slope_deg_per_10pct=1.5, n_reps=3,
                               fps=60.0 if i % 2 == 0 else 30.0, video_path=path,
                               truth_dir=work / "simulated" / "truth", orientation="landscape")  # fmt: skip
            out.append((path, row))
    return out


def summarise(rows: pd.DataFrame) -> pd.DataFrame:
    """Per variant: the figures the targets name."""

    def pooled(paired: pd.DataFrame, col: str, q: float, *, ok_only: bool = False) -> float:
        """Percentile ``q`` of one figure over every matched rep of these clips (or over
        those ``quality_ok`` in both the original and the variant)."""
        if not len(paired):
            return np.nan
        vals = np.concatenate([np.asarray(v, float) for v in paired[col]])
        if ok_only:
            vals = vals[np.concatenate([np.asarray(v, bool) for v in paired["both_ok"]])]
        vals = vals[np.isfinite(vals)]
        return float(np.percentile(vals, q)) if len(vals) else np.nan

    out = []
    for name, g in rows.groupby("variant", sort=False):
        paired = g[g["same_count"] & (g["reps_original"] > 0)]
        out.append({
            "variant": name, "clips": len(g), "same_rep_count": f"{int(g['same_count'].sum())}/{len(g)}",
            "events_median_frames": np.nanmedian([pooled(paired, f"{e[:-2]}_frames", 50) for e in EVENTS]),
            "hip_lead_median_deg": pooled(paired, "hip_lead_deg", 50),
            "hip_lead_p90_deg": pooled(paired, "hip_lead_deg", 90),
            "trunk_bottom_median_deg": pooled(paired, "trunk_bottom_deg", 50),
            "velocity_median_pct": pooled(paired, "velocity_pct", 50),
            "bar_source_changed": f"{int(g['bar_source_changed'].sum())}/{len(g)}",
            # the reps the models would use: quality_ok in both
            "ok_in_both": f"{sum(map(sum, paired['both_ok']))}/{sum(map(len, paired['both_ok']))}",
            "ok_in_one_only": int(sum(map(sum, paired["one_ok"]))),
            "ok_hip_lead_median_deg": pooled(paired, "hip_lead_deg", 50, ok_only=True),
            "ok_hip_lead_p90_deg": pooled(paired, "hip_lead_deg", 90, ok_only=True),
            "ok_velocity_median_pct": pooled(paired, "velocity_pct", 50, ok_only=True),
        })  # fmt: skip
    return pd.DataFrame(out)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("workdir", type=Path)
    ap.add_argument("--real-dir", type=Path, default=REPO.parent / "shared" / "real")
    ap.add_argument("--clips", type=int, default=None, help="first N labelled clips (default all)")
    ap.add_argument("--simulated", type=int, default=3, help="rendered simulator videos")
    ap.add_argument("--variants", default=",".join(VARIANTS))
    ap.add_argument("--out", type=Path, help="per-clip rows as CSV")
    ap.add_argument("--reuse", action="store_true",
                    help="reuse variant videos and keypoints already in WORKDIR")
    ap.add_argument("--pose-options", type=json.loads, default={},
                    help='MediaPipe options over the shipped ones, as JSON, e.g. \'{"flip_test": false}\'')  # fmt: skip
    args = ap.parse_args(argv)
    work = args.workdir
    work.mkdir(parents=True, exist_ok=True)
    rows = []
    for video, sample in sources(args.real_dir, args.clips, args.simulated, work):
        t0 = time.time()
        fps = probe_video(video).fps
        clip_dir = work / sample["video_id"]
        clip_dir.mkdir(exist_ok=True)
        original = analyse(video, sample, clip_dir, reuse=args.reuse, options=args.pose_options)
        for name in args.variants.split(","):
            path = clip_dir / f"{sample['video_id']}.{name}.mp4"
            if not (args.reuse and path.exists()):
                path = make_variant(video, name, path)
            if path is None:
                continue
            mirrored = {"left": "right", "right": "left"}.get(sample.get("camera_side"))
            row = {**sample, "camera_side": mirrored} if name == "mirror" else sample
            try:
                reps = analyse(path, row, clip_dir, reuse=args.reuse, options=args.pose_options)
            except Exception as exc:  # a variant the pipeline refuses is a finding, not a crash
                print(f"  {sample['video_id']} {name}: {type(exc).__name__}: {exc}")
                reps = original.iloc[:0]
            rows.append(
                {"clip": sample["video_id"], "variant": name, **compare(original, reps, fps)}
            )
        print(f"{sample['video_id']}: {len(original)} reps, {time.time() - t0:.0f} s", flush=True)
    table = pd.DataFrame(rows)
    if args.out:
        table.to_csv(args.out, index=False)
    summary = summarise(table)
    with pd.option_context("display.width", 200, "display.max_columns", 20, "display.precision", 2):
        print(summary.to_string(index=False))
    print("targets: identical rep counts; " + ", ".join(f"{k} <= {v}" for k, v in TARGETS.items()))


if __name__ == "__main__":
    main()
