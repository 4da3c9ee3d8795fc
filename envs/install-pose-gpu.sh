#!/usr/bin/env bash
# Build the heavy MMPose environment for the GPU pose backend (hipdrive.pose.mmpose_backend).
#
# Usage:  bash envs/install-pose-gpu.sh [ENV_DIR]      (default: .venv-gpu in the repo root)
#
# ENV_DIR that does not exist yet is created as a venv with $PYTHON (default
# python3.11); an existing environment with bin/python (a venv, or a conda
# prefix made from envs/pose-gpu.yaml) is installed into.
#
# A pinned pip recipe rather than a conda solve: it was seen working from an
# empty Python 3.11 venv on a 2-core CPU machine in about 11 minutes (5.4 GB),
# nine of them spent compiling mmcv's ops. Every pin has a reason:
#   * setuptools 80.9: torch needs >= 77; mmengine and mmcv's setup.py import
#     pkg_resources, which is gone in setuptools >= 81.
#   * torch "===2.13.0": three '=' match the exact version string, so pip takes
#     the registry's CUDA build (which also runs on CPU) and not a local "+cpu"
#     wheel; torchvision 0.28.0 from the registry is a CUDA build whose ops only
#     load under the matching CUDA torch ("torchvision::nms does not exist").
#   * opencv-python 4.11: >= 4.12 needs numpy >= 2 (and hipdrive pins numpy < 2).
#   * mmcv 2.1.0 built WITH ops: mmpose imports mmcv.ops when its models load;
#     mmdet 3.3.0 refuses mmcv >= 2.2.0.
#   * --no-deps for mmcv/mmdet/mmpose/xtcocotools: their declared requirements
#     pull chumpy (not needed for inference, does not build) and unpinned
#     upgrades; the runtime requirements are listed explicitly instead.
# Checkpoints are not downloaded here (see README: `mim download mmpose ...`).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="${1:-$here/.venv-gpu}"
python="${PYTHON:-python3.11}"
jobs="${MAX_JOBS:-2}"

if [[ -x "$venv/bin/python" ]]; then
    echo "[install-pose-gpu] installing into the existing environment $venv"
else
    echo "[install-pose-gpu] creating $venv with $($python --version)"
    "$python" -m venv "$venv"
fi
pip="$venv/bin/pip"
wheel_dir="$(mktemp -d)"
trap 'rm -rf "$wheel_dir"' EXIT
# Later steps must never move these (pandas/scipy/opencv would happily upgrade numpy).
printf 'numpy==1.26.4\nsetuptools==80.9.0\n' > "$wheel_dir/constraints.txt"
export PIP_CONSTRAINT="$wheel_dir/constraints.txt"

echo "[install-pose-gpu] 1/6 build tools"
"$pip" install setuptools==80.9.0 wheel ninja numpy==1.26.4

echo "[install-pose-gpu] 2/6 torch + torchvision (registry CUDA builds; run on CPU too)"
"$pip" install "torch===2.13.0" torchvision==0.28.0

echo "[install-pose-gpu] 3/6 mmengine + opencv"
"$pip" install mmengine==0.10.7 opencv-python==4.11.0.86

echo "[install-pose-gpu] 4/6 mmcv 2.1.0 with ops (slow: compiles C++/CUDA ops)"
MMCV_WITH_OPS=1 MAX_JOBS="$jobs" "$pip" wheel --no-build-isolation --no-deps \
    -w "$wheel_dir" mmcv==2.1.0

echo "[install-pose-gpu] 5/6 mmcv wheel, mmdet, mmpose (no deps) + runtime requirements"
"$pip" install --no-deps "$wheel_dir"/mmcv-2.1.0-*.whl \
    mmdet==3.3.0 mmpose==1.3.2 xtcocotools==1.14.3
"$pip" install scipy six json-tricks munkres shapely terminaltables pycocotools tqdm

echo "[install-pose-gpu] 6/6 hipdrive itself (editable, no deps: numpy/torch stay as pinned)"
"$pip" install --no-deps -e "$here"
"$pip" install "pandas>=2.2,<3" "pyarrow>=17,<21" "av>=12" pyyaml jsonschema "threadpoolctl>=3" pytest

"$venv/bin/python" - <<'EOF'
import mmcv, mmdet, mmpose, torch
from mmcv.ops import nms  # noqa: F401  (the ops build is what mmpose needs)
print(f"[install-pose-gpu] ok: torch {torch.__version__} (cuda available: "
      f"{torch.cuda.is_available()}), mmcv {mmcv.__version__}, mmdet {mmdet.__version__}, "
      f"mmpose {mmpose.__version__}")
EOF
