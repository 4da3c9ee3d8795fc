"""Throughput, overhead, memory and scaling of the pose stage (prints; asserts nothing).

Figures, on the same videos with the same model and device, one run each:

decode
    frames/s of :func:`hipdrive.video.iter_frames` alone (PyAV, upright RGB),
    in the caller's thread and with a background decode thread.
stage
    frames/s of :func:`hipdrive.pose.estimate_poses` end to end: decode
    (overlapped in a thread), inference, lifter selection, Parquet write.
reference
    frames/s of the loop a user would otherwise write: for ``mediapipe`` a
    plain per-frame ``Pose.process`` over OpenCV-decoded frames; for
    ``mmpose`` ``MMPoseInferencer`` called frame by frame.
    Printed as ratios; target (mediapipe): stage overhead over the bare model
    loop <= 15 %; (mmpose, GPU) stage >= 5x the per-frame inferencer.
flip test
    (mediapipe) the stage with ``flip_test`` on, as squats run by default, as a
    ratio to the stage without it (expected about 0.5x: two readings a frame).
memory
    peak RSS of one ``estimate_poses`` process on a short and a 4x longer
    video made of the same frames. Target: independent of video length.
scaling
    total frames/s of 1 and of 2 concurrent ``estimate_poses`` processes
    (parallelism = Snakemake jobs). Target: near-linear (ratio close to 2 on
    two free cores).

Run::

    python benchmarks/bench_pose.py                          # mediapipe on CPU (~3 min on 2 cores)
    python benchmarks/bench_pose.py --backend mmpose --device cuda \\
        --config rtmpose-m_8xb256-420e_coco-256x192 --checkpoint checkpoints/rtmpose-m.pth
    python benchmarks/bench_pose.py --backend mmpose --device cpu --config rtmpose-m_8xb256-420e_coco-256x192 \\
        --random-weights                                     # no checkpoint on this machine

Videos default to clips in ``../shared/real/videos`` (test material, never
copied into the repository); without that folder a synthetic clip is made.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from hipdrive.video import iter_frames, probe_video, write_video

REPO = Path(__file__).resolve().parents[1]
REAL = REPO.parent / "shared" / "real" / "videos"
DEFAULT_CLIPS = ("deadlift_bichraix_good001.mp4", "squat_risevbt_sample3.mp4")


def default_videos(tmp: Path) -> list[Path]:
    clips = [REAL / c for c in DEFAULT_CLIPS if (REAL / c).is_file()]
    if clips:
        return clips
    rng = np.random.default_rng(0)
    frames = rng.integers(0, 255, size=(90, 360, 640, 3), dtype=np.uint8)
    return [write_video(list(frames), tmp / "noise.mp4", fps=30)]


def bench_decode(videos: list[Path]) -> dict[str, float]:
    out = {}
    for prefetch in (0, 16):
        n, start = 0, time.perf_counter()
        for video in videos:
            for _ in iter_frames(video, prefetch=prefetch):
                n += 1
        out[f"prefetch={prefetch}"] = n / (time.perf_counter() - start)
    out["frames"] = n
    return out


def warm_imports(backend: str) -> None:
    """Import what both timed paths use, so neither pays the one-off imports (~2 s).

    The overhead target is per frame; a Snakemake job pays the imports once per
    video either way, and without this whichever path ran first would pay them alone.
    """
    import cv2  # noqa: F401

    import hipdrive.contracts.keypoints
    import hipdrive.pose.lifter  # noqa: F401

    if backend == "mediapipe":
        import mediapipe.python.solutions.pose  # noqa: F401


def bench_stage(videos: list[Path], backend: str, options: dict, tmp: Path) -> float:
    from hipdrive.pose import estimate_poses

    n, start = 0, time.perf_counter()
    for i, video in enumerate(videos):
        meta = estimate_poses(
            video, tmp / f"stage{i}.parquet", video_id=f"v{i}", backend=backend, options=options
        )
        n += meta["n_frames"]
    return n / (time.perf_counter() - start)


def bench_reference_mediapipe(videos: list[Path], options: dict) -> float:
    """The bare loop: OpenCV decode, BGR->RGB, Pose.process per frame, landmarks to a list."""
    import cv2
    import mediapipe as mp

    n, start = 0, time.perf_counter()
    for video in videos:
        cap = cv2.VideoCapture(str(video))
        rows = []
        with mp.solutions.pose.Pose(model_complexity=options.get("model_complexity", 1)) as pose:
            while True:
                ok, bgr = cap.read()
                if not ok:
                    break
                result = pose.process(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
                if result.pose_landmarks is not None:
                    rows.append([(p.x, p.y, p.visibility) for p in result.pose_landmarks.landmark])
                n += 1
        cap.release()
    return n / (time.perf_counter() - start)


def bench_reference_mmpose(videos: list[Path], options: dict) -> float:
    """``MMPoseInferencer`` frame by frame, as its documentation shows for videos."""
    from hipdrive.pose.mmpose_backend import reference_inferencer

    inferencer = reference_inferencer(options)
    n, start = 0, time.perf_counter()
    for video in videos:
        for _, _, rgb in iter_frames(video):
            next(inferencer(rgb[..., ::-1], show=False, return_vis=False))
            n += 1
    return n / (time.perf_counter() - start)


CHILD = """
import json, resource, sys, time
from hipdrive.pose import estimate_poses
video, out, backend, options = sys.argv[1], sys.argv[2], sys.argv[3], json.loads(sys.argv[4])
start = time.perf_counter()
meta = estimate_poses(video, out, video_id="bench", backend=backend, options=options)
print(json.dumps({"frames": meta["n_frames"], "seconds": time.perf_counter() - start,
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def run_children(videos: list[Path], backend: str, options: dict, tmp: Path) -> list[dict]:
    """Run one ``estimate_poses`` process per video, all at once; their reports."""
    env = {**os.environ, "GLOG_minloglevel": "2", "TF_CPP_MIN_LOG_LEVEL": "2"}
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-c",
                CHILD,
                str(v),
                str(tmp / f"child{i}.parquet"),
                backend,
                json.dumps(options),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            env=env,
        )
        for i, v in enumerate(videos)
    ]
    reports = []
    for p in procs:
        stdout, _ = p.communicate()
        if p.returncode != 0:
            raise RuntimeError(f"benchmark child failed with exit code {p.returncode}")
        reports.append(json.loads(stdout.strip().splitlines()[-1]))
    return reports


def long_video(src: Path, tmp: Path, *, n_frames: int, name: str) -> Path:
    """A clip of ``n_frames`` made by cycling the frames of ``src`` forwards and back."""
    frames = [rgb for _, _, rgb in iter_frames(src)]
    cycle = frames + frames[::-1]
    fps = probe_video(src).fps
    return write_video((cycle[i % len(cycle)] for i in range(n_frames)), tmp / name, fps=fps)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--videos", nargs="*", type=Path, help="videos to run on (default: two real clips)"
    )
    ap.add_argument("--backend", choices=("mediapipe", "mmpose"), default="mediapipe")
    ap.add_argument("--device", default="cpu", help="mmpose: cpu or cuda")
    ap.add_argument("--config", help="mmpose: config name or path")
    ap.add_argument("--checkpoint", help="mmpose: checkpoint path")
    ap.add_argument(
        "--random-weights", action="store_true", help="mmpose: random weights (no checkpoint)"
    )
    ap.add_argument("--batch-size", type=int, default=32, help="mmpose: frames per batch")
    ap.add_argument(
        "--memory-frames", type=int, default=150, help="short video length for the memory test"
    )
    ap.add_argument("--skip-memory", action="store_true")
    ap.add_argument("--skip-scaling", action="store_true")
    args = ap.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="bench_pose_") as tmp_name:
        tmp = Path(tmp_name)
        if args.backend == "mediapipe":
            options: dict = {"model_complexity": 1}
        else:
            checkpoint = args.checkpoint
            if args.random_weights:  # one random checkpoint, so both paths run the same weights
                from hipdrive.pose.mmpose_backend import save_random_checkpoint

                checkpoint = str(save_random_checkpoint(args.config, tmp / "random.pth"))
            options = {"config": args.config, "checkpoint": checkpoint, "device": args.device,
                       "batch_size": args.batch_size}  # fmt: skip
        videos = args.videos or default_videos(tmp)
        print(f"backend {args.backend} (device {args.device}); {len(videos)} videos:")
        for v in videos:
            info = probe_video(v)
            print(f"  {v.name}: {info.width}x{info.height}, {info.fps:.2f} fps")

        decode = bench_decode(videos)
        print(f"decode alone (PyAV -> upright RGB; {decode.pop('frames'):.0f} frames):")
        for label, fps in decode.items():
            print(f"  {label}: {fps:8.1f} frames/s")

        warm_imports(args.backend)
        stage = bench_stage(videos, args.backend, options, tmp)
        if args.backend == "mediapipe":
            reference = bench_reference_mediapipe(videos, options)
            ref_label = "bare per-frame MediaPipe loop over OpenCV frames"
        else:
            reference = bench_reference_mmpose(videos, options)
            ref_label = "MMPoseInferencer frame by frame"
        print(f"pose stage end to end (estimate_poses): {stage:8.1f} frames/s")
        print(f"reference ({ref_label}): {reference:8.1f} frames/s")
        print(
            f"  stage / reference = {stage / reference:.2f}x; overhead = {100 * (reference / stage - 1):+.1f} %"
        )
        if args.backend == "mediapipe":
            print("  target: overhead <= +15 %")
            # the squats' default: each frame and its mirror image
            flipped = bench_stage(videos, args.backend, {**options, "flip_test": True}, tmp)
            print(f"pose stage with flip_test: {flipped:8.1f} frames/s ({flipped / stage:.2f}x the stage)")
        else:
            print("  target (GPU): stage / reference >= 5x")

        small = min(videos, key=lambda v: probe_video(v).width * probe_video(v).height)
        if not args.skip_memory:
            short = long_video(small, tmp, n_frames=args.memory_frames, name="short.mp4")
            longer = long_video(small, tmp, n_frames=4 * args.memory_frames, name="long.mp4")
            (r_short,) = run_children([short], args.backend, options, tmp)
            (r_long,) = run_children([longer], args.backend, options, tmp)
            print("peak memory (one estimate_poses process, streamed decode):")
            for label, r in (("short", r_short), ("4x longer", r_long)):
                print(f"  {label}: {r['frames']:5d} frames -> peak RSS {r['peak_rss_mb']:7.1f} MB")
            growth = r_long["peak_rss_mb"] - r_short["peak_rss_mb"]
            extra = r_long["frames"] - r_short["frames"]
            print(f"  growth {growth:+.1f} MB for {extra} more frames ({1024 * growth / extra:+.1f} kB/frame); "
                  "target: independent of length")  # fmt: skip

        if not args.skip_scaling:
            clip = small
            (one,) = run_children([clip], args.backend, options, tmp)
            two = run_children([clip, clip], args.backend, options, tmp)
            rate1 = one["frames"] / one["seconds"]
            rate2 = sum(r["frames"] for r in two) / max(r["seconds"] for r in two)
            print(f"scaling ({os.cpu_count()} CPUs visible; other work on the machine counts too):")
            print(f"  1 process : {rate1:8.1f} frames/s")
            print(
                f"  2 processes: {rate2:8.1f} frames/s total -> speed-up {rate2 / rate1:.2f}x (ideal 2.00x)"
            )


if __name__ == "__main__":
    main()
