"""The GPU pose check: decode, MMPoseInferencer, the batched path, agreement, RTMO.

Run by ``benchmarks/gpu/device_check.sh`` after it has installed the carried
wheels; prints each figure as it is measured and rewrites ``--out`` (JSON)
after every section, so a run stopped at its time limit still leaves what it
measured. Asserts nothing: the targets are printed beside the figures.

Weights are random (nothing can be downloaded on the device): throughput does
not depend on them, and both paths load the same checkpoint files, so their
keypoints must agree. A random detector scores nobody, so both paths use the
same detector config with ``score_thr=0`` and ``max_per_img=1``: exactly one
box per frame, the work a single lifter's clip makes.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

POSE_CONFIG = "rtmpose-m_8xb256-420e_coco-256x192"
RTMO_CONFIG = "rtmo-m_16xb16-600e_body7-640x640"
DETECTOR = "rtmdet_m_640-8xb32_coco-person"  # the person detector mmpose pairs with RTMPose
TARGETS = {
    "speedup_vs_inferencer": 5.0,
    "frames_per_s_1080p_rtmpose_m": 3000.0,
    "fraction_of_decode_only": 0.5,
}


class Report:
    """Figures by section, printed as measured and written to JSON after each section."""

    def __init__(self, path: Path, budget_s: float) -> None:
        self.path, self.start, self.budget_s = path, time.perf_counter(), budget_s
        self.data: dict = {"targets": TARGETS, "sections": {}, "errors": {}}

    def left_s(self) -> float:
        return self.budget_s - (time.perf_counter() - self.start)

    def section(self, name: str, fn, *args, need_s: float = 0.0):
        if self.left_s() < need_s:
            print(f"[{name}] skipped: {self.left_s():.0f} s left, needs about {need_s:.0f} s")
            self.data["errors"][name] = f"skipped: {self.left_s():.0f} s left"
            self.save()
            return None
        t0 = time.perf_counter()
        print(f"[{name}] ...", flush=True)
        try:
            out = fn(*args)
        except Exception as exc:  # a failed section is reported; the others still run
            import traceback

            traceback.print_exc()
            self.data["errors"][name] = f"{type(exc).__name__}: {exc}"
            out = None
        else:
            self.data["sections"][name] = out
            print(f"[{name}] {json.dumps(out, default=float)}", flush=True)
        self.data.setdefault("section_seconds", {})[name] = round(time.perf_counter() - t0, 1)
        self.save()
        return out

    def save(self) -> None:
        self.data["elapsed_s"] = round(time.perf_counter() - self.start, 1)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.data, indent=1, default=float))
        os.replace(tmp, self.path)


def environment(device: str) -> dict:
    import torch

    from hipdrive.pose import mmpose_backend

    mmpose_backend._import_torch()
    import mmcv
    import mmdet
    import mmengine
    import mmpose

    info = {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "numpy": np.__version__,
        "mmcv": mmcv.__version__,
        "mmcv_ops": mmpose_backend.MMCV_OPS,
        "mmengine": mmengine.__version__,
        "mmdet": mmdet.__version__,
        "mmpose": mmpose.__version__,
        "device": device,
        "cpu_count": os.cpu_count(),
    }
    if device.startswith("cuda"):
        info["gpu"] = torch.cuda.get_device_name(0)
        info["gpu_memory_gib"] = round(torch.cuda.get_device_properties(0).total_memory / 2**30, 1)
    return info


def render_clip(path: Path, width: int, height: int, reps: int) -> dict:
    """A simulated squat set rendered and encoded as H.264 (no real clip travels)."""
    from hipdrive.simulate import simulate_video
    from hipdrive.video import probe_video

    sample = {"video_id": "gpu_check", "lifter_id": "L01", "lift": "squat", "variant": "high_bar",
              "load_kg": 120.0, "one_rm_kg": 150.0, "height_m": 1.8, "camera_side": "left"}  # fmt: skip
    t0 = time.perf_counter()
    simulate_video(sample, seed=7, effect_slope_deg_per_10pct=1.5, fps=30.0, n_reps=reps,
                   video_path=path, truth_dir=path.parent / "truth", orientation="landscape",
                   width=width, height=height)  # fmt: skip
    info = probe_video(path)
    return {"width": info.width, "height": info.height, "frames": info.n_frames,
            "fps": info.fps, "render_s": round(time.perf_counter() - t0, 1)}  # fmt: skip


CHILD = r"""
import json, sys, time
from hipdrive.pose.mmpose_backend import MMPoseBackend
from hipdrive.pose import estimate_poses
video, out, options, repeat = sys.argv[1], sys.argv[2], json.loads(sys.argv[3]), int(sys.argv[4])
cprofile = options.pop("cprofile", False)
model = MMPoseBackend(**options)
import torch
if model.device.startswith("cuda"):
    torch.cuda.reset_peak_memory_stats()
print("READY", flush=True)
sys.stdin.readline()  # all children start timing together
if cprofile:
    import cProfile
    prof = cProfile.Profile()
    prof.enable()
start, frames, ends = time.time(), 0, []
for _ in range(repeat):  # one shard of `repeat` videos, the model loaded once
    model.reset()
    frames += estimate_poses(video, out, video_id="bench", backend="mmpose", options=options,
                             model=model)["n_frames"]
    ends.append(time.time())
end = time.time()
top = []
if cprofile:
    import pstats
    prof.disable()
    stats = pstats.Stats(prof).stats
    rows = sorted(stats.items(), key=lambda kv: -kv[1][2])[:25]  # by own time, all threads
    top = [[f"{k[0].split('site-packages/')[-1].split('/src/')[-1]}:{k[1]}:{k[2]}", round(v[2], 3),
            round(v[3], 3), v[1]] for k, v in rows]
peak = torch.cuda.max_memory_allocated() / 2**20 if model.device.startswith("cuda") else None
print("RESULT " + json.dumps({"frames": frames, "start": start, "end": end, "video_ends": ends,
      "stage_seconds": model.stage_seconds, "gpu_peak_mib": peak, "top_own_s": top}), flush=True)
"""


def run_in_flight(video: Path, options: dict, n: int, tmp: Path, repeat: int) -> dict:
    """``n`` pose processes at once (as ``n`` Snakemake jobs), each a shard of
    ``repeat`` videos; total frames/s from the first start to the last end."""
    procs = []
    for i in range(n):
        out = tmp / f"kp_{n}_{i}.parquet"
        procs.append(subprocess.Popen([sys.executable, "-c", CHILD, str(video), str(out),
                                       json.dumps(options), str(repeat)], stdin=subprocess.PIPE,
                                      stdout=subprocess.PIPE, text=True))  # fmt: skip
    for p in procs:  # wait until every model is built, then start them together
        for line in p.stdout:
            if line.startswith("READY"):
                break
    for p in procs:
        p.stdin.write("go\n")
        p.stdin.flush()
    results = []
    for p in procs:
        out, _ = p.communicate()
        lines = [ln for ln in out.splitlines() if ln.startswith("RESULT ")]
        if p.returncode or not lines:
            raise RuntimeError(f"child exited {p.returncode}: {out[-2000:]}")
        results.append(json.loads(lines[-1][7:]))
    frames = sum(r["frames"] for r in results)
    wall = max(r["end"] for r in results) - min(r["start"] for r in results)
    stages = {k: round(sum(r["stage_seconds"][k] for r in results) / n, 2)
              for k in results[0]["stage_seconds"]}  # fmt: skip
    top = results[0]["top_own_s"]
    # After each job's first video: the rate of a long shard, without the one-time
    # start-up (CUDA kernels loaded, cuDNN plans made) that the first video pays.
    steady = None
    if repeat > 1:
        steady = sum((r["frames"] * (repeat - 1) / repeat) / (r["end"] - r["video_ends"][0])
                     for r in results)  # fmt: skip
    return {"in_flight": n, "frames": frames, "wall_s": round(wall, 2), **({"top_own_s": top} if top else {}),
            "frames_per_s": round(frames / wall, 1),
            "steady_frames_per_s": None if steady is None else round(steady, 1),
            "first_video_s": [round(r["video_ends"][0] - r["start"], 2) for r in results],
            "per_process_stage_seconds": stages,
            "gpu_peak_mib_per_process": [r["gpu_peak_mib"] for r in results]}  # fmt: skip


def decode_only(video: Path, in_flight: list[int], repeat: int) -> dict:
    """Frames/s of hipdrive.video.iter_frames alone (PyAV, upright RGB), 1 and n processes."""
    code = ("import sys,time;from hipdrive.video import iter_frames;s=time.time();"
            "n=sum(1 for _ in range(int(sys.argv[2])) for _ in iter_frames(sys.argv[1], prefetch=16));"
            "print(n, s, time.time())")  # fmt: skip
    out = {}
    for n in in_flight:
        procs = [subprocess.Popen([sys.executable, "-c", code, str(video), str(repeat)],
                                  stdout=subprocess.PIPE, text=True) for _ in range(n)]  # fmt: skip
        rows = [list(map(float, p.communicate()[0].split())) for p in procs]
        frames = sum(r[0] for r in rows)
        wall = max(r[2] for r in rows) - min(r[1] for r in rows)
        out[f"in_flight_{n}"] = round(frames / wall, 1)
    return out


def random_checkpoints(tmp: Path) -> dict:
    """Random pose (RTMPose-m, RTMO-m) and detector checkpoints, saved in the release format."""
    import torch
    from mmengine.config import Config

    from hipdrive.pose.mmpose_backend import _init_detector, resolve_config, save_random_checkpoint

    pose = save_random_checkpoint(POSE_CONFIG, tmp / "rtmpose-m.pth")
    rtmo = save_random_checkpoint(RTMO_CONFIG, tmp / "rtmo-m.pth")
    torch.manual_seed(0)
    detector = _init_detector(DETECTOR, None, "cpu", True)
    det_ckpt = tmp / "rtmdet-m-person.pth"
    torch.save({"state_dict": detector.state_dict(), "meta": {}}, det_ckpt)
    # one box per frame from a random detector: keep its best-scoring box, however low
    base = Path(detector.cfg.filename)
    det_cfg = tmp / "rtmdet_m_person_one_box.py"
    det_cfg.write_text(f"_base_ = {str(base)!r}\n"
                       "model = dict(test_cfg=dict(score_thr=0.0, max_per_img=1))\n")  # fmt: skip
    # RTMO's own score threshold likewise: a random head scores nobody above it
    rtmo_cfg = tmp / "rtmo_m_one_person.py"
    rtmo_cfg.write_text(f"_base_ = {str(resolve_config(RTMO_CONFIG))!r}\n"
                        "model = dict(test_cfg=dict(score_thr=0.0, nms_pre=5))\n")  # fmt: skip
    for cfg in (det_cfg, rtmo_cfg):
        Config.fromfile(str(cfg))  # fails here, not in a child, if a config is wrong
    return {"pose": str(pose), "rtmo": str(rtmo), "detector": str(det_ckpt),
            "detector_config": str(det_cfg), "rtmo_config": str(rtmo_cfg)}  # fmt: skip


def first_frames(video: Path, n: int) -> list[np.ndarray]:
    from hipdrive.video import iter_frames

    frames = []
    for _, _, rgb in iter_frames(video):
        frames.append(rgb)
        if len(frames) == n:
            break
    return frames


def inferencer_fps(frames: list[np.ndarray], options: dict) -> dict:
    """MMPoseInferencer called frame by frame, as its documentation shows for videos."""
    from hipdrive.pose.mmpose_backend import reference_inferencer

    run = reference_inferencer(options)
    for rgb in frames[:3]:  # warm-up: CUDA context, cudnn autotuning
        next(run(rgb[..., ::-1], show=False, return_vis=False, bbox_thr=0.0))
    sync(options["device"])
    t0 = time.perf_counter()
    for rgb in frames:
        next(run(rgb[..., ::-1], show=False, return_vis=False, bbox_thr=0.0))
    sync(options["device"])
    return {
        "frames": len(frames),
        "frames_per_s": round(len(frames) / (time.perf_counter() - t0), 1),
    }


def agreement(frames: list[np.ndarray], options: dict) -> dict:
    """Keypoints of the batched path vs the inferencer on the same frames and weights.

    The batched path runs in fp32 with the detector on every frame and the
    config's flip test, as the inferencer does; pixels differ only by
    floating-point order.
    """
    from hipdrive.pose.interface import MMPOSE_LAYOUTS, remap_people
    from hipdrive.pose.mmpose_backend import MMPoseBackend, reference_inferencer

    ours = MMPoseBackend(**{**options, "precision": "fp32", "detect_every": 1, "flip_test": True})
    mine = ours.predict(frames)
    run = reference_inferencer(options)
    diffs, missing = [], 0
    for rgb, (xy, _score) in zip(frames, mine, strict=True):
        result = next(run(rgb[..., ::-1], show=False, return_vis=False, bbox_thr=0.0,
                          return_datasamples=True))  # fmt: skip
        inst = result["predictions"][0].pred_instances
        ref_xy = np.asarray(inst.keypoints, dtype=np.float64)
        if not len(xy) or not len(ref_xy):
            missing += 1
            continue
        layout = MMPOSE_LAYOUTS[ref_xy.shape[1]]
        ref = remap_people(ref_xy[:1], np.ones(ref_xy[:1].shape[:2]), layout)[0][0]
        d = np.linalg.norm(xy[0] - ref, axis=-1)
        diffs.append(d[np.isfinite(d)])
    d = np.concatenate(diffs) if diffs else np.array([np.nan])
    return {"frames": len(frames), "frames_without_a_person": missing,
            "median_px": round(float(np.median(d)), 4), "p99_px": round(float(np.percentile(d, 99)), 4),
            "max_px": round(float(np.max(d)), 4), "within_1px": round(float(np.mean(d <= 1.0)), 4)}  # fmt: skip


def sync(device: str) -> None:
    if device.startswith("cuda"):
        import torch

        torch.cuda.synchronize()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--out", type=Path, required=True, help="JSON file for the figures")
    ap.add_argument("--work", type=Path, required=True, help="scratch folder (clip, checkpoints)")
    ap.add_argument(
        "--budget-s", type=float, default=420.0, help="stop starting sections after this"
    )
    ap.add_argument("--width", type=int, default=1920)
    ap.add_argument("--height", type=int, default=1080)
    ap.add_argument("--reps", type=int, default=3, help="reps in the rendered clip")
    ap.add_argument("--ref-frames", type=int, default=60, help="frames for the inferencer")
    ap.add_argument("--in-flight", default="1,2,4", help="concurrent processes to try")
    ap.add_argument("--repeat", type=int, default=4, help="videos per process (copies of the clip)")
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--detect-every", type=int, default=5)
    ap.add_argument("--precision", default=None, help="default: fp16 on CUDA, fp32 on CPU")
    ap.add_argument(
        "--cpu-threads", type=int, default=None, help="per pose process (default: as is)"
    )
    ap.add_argument("--sections", default="all",
                    help="comma-separated: decode,inferencer,batched,profiled,agreement,rtmo")  # fmt: skip
    args = ap.parse_args(argv)
    cuda = args.device.startswith("cuda")
    precision = args.precision or ("fp16" if cuda else "fp32")
    in_flight = [int(x) for x in args.in_flight.split(",")]
    args.work.mkdir(parents=True, exist_ok=True)
    report = Report(args.out, args.budget_s)

    report.section("environment", environment, args.device)
    video = args.work / "squat_1080p.mp4"
    clip = report.section("render", render_clip, video, args.width, args.height, args.reps)
    if clip is None:
        return 1
    want = set(args.sections.split(",")) if args.sections != "all" else None

    def wanted(name: str) -> bool:
        return want is None or name in want

    decode = ref = None
    if wanted("decode"):
        decode = report.section(
            "decode_only", decode_only, video, in_flight, args.repeat, need_s=10
        )
    ckpt = report.section("checkpoints", random_checkpoints, args.work)
    if ckpt is None:
        return 1
    common = {"config": POSE_CONFIG, "checkpoint": ckpt["pose"], "device": args.device,
              "detector_config": ckpt["detector_config"], "detector_checkpoint": ckpt["detector"],
              "min_box_score": 0.0, "max_people": 1}  # fmt: skip
    batched = {**common, "precision": precision, "batch_size": args.batch_size,
               "detect_every": args.detect_every, "profile": False, "cpu_threads": args.cpu_threads}  # fmt: skip
    frames = first_frames(video, args.ref_frames)
    if wanted("inferencer"):
        ref = report.section("inferencer", inferencer_fps, frames, common, need_s=30)
    paths = {}
    for n in in_flight if wanted("batched") else ():
        paths[n] = report.section(f"batched_{n}_in_flight", run_in_flight, video, batched, n,
                                  args.work, args.repeat, need_s=20 + 4 * n)  # fmt: skip
    if wanted("profiled"):  # stage times with the GPU waited for, and Python's own-time profile
        report.section("batched_profiled", run_in_flight, video,
                       {**batched, "profile": True, "cprofile": True}, 1, args.work, 1, need_s=30)  # fmt: skip
    if wanted("agreement"):
        report.section("agreement", agreement, frames[:16], common, need_s=30)
    rtmo = {"config": ckpt["rtmo_config"], "checkpoint": ckpt["rtmo"], "device": args.device,
            "precision": precision, "batch_size": args.batch_size, "min_box_score": 0.0,
            "max_people": 1, "cpu_threads": args.cpu_threads}  # fmt: skip
    if wanted("rtmo"):
        report.section("rtmo", run_in_flight, video, rtmo, 1, args.work, 1, need_s=40)

    best = max((p for p in paths.values() if p), key=lambda p: p["frames_per_s"], default=None)
    if best:
        summary = {
            "best_batched_frames_per_s": best["frames_per_s"],
            "best_in_flight": best["in_flight"],
        }
        if ref:
            summary["speedup_vs_inferencer"] = round(best["frames_per_s"] / ref["frames_per_s"], 2)
        if decode:
            dec = decode.get(f"in_flight_{best['in_flight']}")
            if dec:
                summary["fraction_of_decode_only"] = round(best["frames_per_s"] / dec, 3)
        steady = max((p for p in paths.values() if p and p.get("steady_frames_per_s")),
                     key=lambda p: p["steady_frames_per_s"], default=None)  # fmt: skip
        if steady:
            summary["best_steady_frames_per_s"] = steady["steady_frames_per_s"]
            summary["best_steady_in_flight"] = steady["in_flight"]
            dec = (decode or {}).get(f"in_flight_{steady['in_flight']}")
            if dec:
                summary["steady_fraction_of_decode_only"] = round(
                    steady["steady_frames_per_s"] / dec, 3
                )
        summary["meets"] = {
            "speedup_vs_inferencer": summary.get("speedup_vs_inferencer", 0) >= TARGETS["speedup_vs_inferencer"],
            "frames_per_s_1080p_rtmpose_m": best["frames_per_s"] >= TARGETS["frames_per_s_1080p_rtmpose_m"],
            "fraction_of_decode_only": summary.get("fraction_of_decode_only", 0) >= TARGETS["fraction_of_decode_only"],
        }  # fmt: skip
        report.data["summary"] = summary
        print("[summary]", json.dumps(summary), flush=True)
    report.save()
    shutil.rmtree(args.work / "truth", ignore_errors=True)
    return 0 if not report.data["errors"] else 2


if __name__ == "__main__":
    sys.exit(main())
