#!/usr/bin/env bash
# Make the wheels device_check.sh carries to the GPU machine (Python 3.12, x86-64).
#
#   bash benchmarks/gpu/build_wheels.sh [DIR]       (default: .whl in the repo root)
#
# Downloads the pinned wheels of benchmarks/gpu/wheels.txt for CPython 3.12 and
# builds the two that have none: mmcv-lite (mmcv 2.1.0 with MMCV_WITH_OPS=0, pure
# Python) and xtcocotools (compiled against numpy 2, as the device has). Needs a
# Python 3.12 here ($PYTHON312, default python3.12) for the xtcocotools build.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
dest="$(mkdir -p "${1:-$repo/.whl}" && cd "${1:-$repo/.whl}" && pwd)"
py312="${PYTHON312:-python3.12}"
build="$(mktemp -d)"
trap 'rm -rf "$build"' EXIT

platforms=()
for p in manylinux_2_28_x86_64 manylinux_2_24_x86_64 manylinux_2_17_x86_64 manylinux2014_x86_64; do
    platforms+=(--platform "$p")
done
grep -vE '^\s*(#|$)' "$here/wheels.txt" | grep -vE '^(mmcv-lite|xtcocotools)==' |
    xargs python3 -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 \
        --implementation cp "${platforms[@]}" -d "$dest"

"$py312" -m venv "$build/venv"
"$build/venv/bin/pip" install -q "numpy>=2" "setuptools<81" wheel cython
"$build/venv/bin/pip" download -q --no-deps --no-binary :all: --no-build-isolation \
    -d "$build" mmcv==2.1.0
tar -xzf "$build"/mmcv-2.1.0.tar.gz -C "$build"
# without ops mmcv's setup.py names the distribution mmcv-lite and needs no torch
(cd "$build/mmcv-2.1.0" && MMCV_WITH_OPS=0 "$build/venv/bin/pip" wheel -q --no-deps \
    --no-build-isolation -w "$dest" .)
"$build/venv/bin/pip" wheel -q --no-deps --no-build-isolation -w "$dest" xtcocotools==1.14.3
ls -l "$dest"
