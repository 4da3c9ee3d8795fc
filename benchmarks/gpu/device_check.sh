#!/usr/bin/env bash
# The GPU pose check, for a bare GPU machine with no network (one prepared run).
#
#   bash benchmarks/gpu/device_check.sh [--device cuda|cpu] [--dry-run] [--wheels DIR]
#                                       [--python PY] [--out DIR] [-- device_check.py options]
#
# Installs only the wheels it carries (benchmarks/gpu/wheels.txt, made here by
# benchmarks/gpu/build_wheels.sh into .whl/) on top of what the machine has
# (Python 3.12, torch 2.11 + CUDA 13, torchvision 0.26, numpy 2, OpenCV, pandas,
# pyarrow, scipy), then runs benchmarks/gpu/device_check.py: decode-only
# throughput of a rendered 1080p H.264 squat clip, MMPoseInferencer frames/s
# (RTMPose-m + RTMDet-m), the batched path end to end at 1, 2 and 4 videos in
# flight (--in-flight) with per-stage times, GPU memory and the rate after each
# job's first video, keypoint agreement between the two, and RTMO-m. Figures go to $OUT/device_check.json (or --out) and stdout.
#
# Install path, decided: mmcv WITHOUT its compiled ops (mmcv-lite 2.1.0, a pure
# Python wheel built here with MMCV_WITH_OPS=0). Building the ops on the device
# is a ~9 min CPU compile on 2 cores plus CUDA kernels, for one torch/CUDA pair,
# which the 8-minute budget cannot hold. The only ops RTMPose, RTMO and RTMDet
# inference call are nms and batched_nms; hipdrive.pose.mmcv_ops serves them
# from torchvision.ops (which the device has, with CUDA) and turns every other
# op into an error naming mmcv's full build. numpy 2 and torch 2.11 are used as
# the device has them; xtcocotools is built here against numpy 2 for cp312.
#
# --dry-run checks that the carried set is complete (every wheel in wheels.txt
# present, every requirement they declare either carried or on the machine)
# and that the machine's own packages import, then stops.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
device=cuda
dry_run=0
wheels="$repo/.whl"
python="${PYTHON:-python3}"
out="${OUT:-$repo/benchmarks/out}"
extra=()
while [[ $# -gt 0 ]]; do
    case "$1" in
        --device) device="$2"; shift 2 ;;
        --dry-run) dry_run=1; shift ;;
        --wheels) wheels="$2"; shift 2 ;;
        --python) python="$2"; shift 2 ;;
        --out) out="$2"; shift 2 ;;
        --) shift; extra=("$@"); break ;;
        *) echo "device_check: unknown argument $1" >&2; exit 2 ;;
    esac
done
t0=$(date +%s)
step() { echo "[device_check +$(( $(date +%s) - t0 ))s] $*"; }

step "check the carried wheels in $wheels against $here/wheels.txt"
"$python" "$here/carried.py" --wheels "$wheels" --list "$here/wheels.txt"
if [[ $dry_run == 1 ]]; then
    step "dry run: the carried set is complete"
    exit 0
fi

site="$(mktemp -d /tmp/hipdrive-site.XXXX)"
step "install the carried wheels into $site (no index, no dependencies resolved)"
"$python" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir \
    --target "$site" "$wheels"/*.whl
export PYTHONPATH="$site:$repo/src${PYTHONPATH:+:$PYTHONPATH}"
export PYTHONUNBUFFERED=1 PYTHONWARNINGS=ignore
mkdir -p "$out"
step "run device_check.py on $device"
"$python" "$here/device_check.py" --device "$device" --out "$out/device_check.json" \
    --work "$(mktemp -d /tmp/hipdrive-check.XXXX)" "${extra[@]}"
step "done"
