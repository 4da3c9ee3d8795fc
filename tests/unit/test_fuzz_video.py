"""Fuzzing the video reader: mutated mp4s are read or refused with our own error.

A few hundred mutations of one small valid H.264 mp4 (byte flips, truncations,
overwritten and duplicated ranges; deterministic seed). Each must either
decode or raise :class:`hipdrive.errors.VideoError`: never another exception,
never a hang, never a crash of the interpreter. The cases run in one child
process that reports each case before trying it, so a segfault or a hang is
pinned to the case that caused it. Bounded: about 30 s here, 2 min at most.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np

from ..conftest import REPO

N_CASES = 300
SEED = 20261121
CHILD_TIMEOUT_S = 110


def mutate(data: bytes, rng: np.random.Generator) -> bytes:
    """One random corruption of ``data``: flips, a truncation, an overwrite or a duplicated range."""
    buf = bytearray(data)
    kind = rng.integers(4)
    if kind == 0:  # flip 1-20 random bytes
        for pos in rng.integers(0, len(buf), size=rng.integers(1, 21)):
            buf[pos] ^= int(rng.integers(1, 256))
    elif kind == 1:  # truncate anywhere
        del buf[int(rng.integers(0, len(buf))) :]
    elif kind == 2:  # overwrite a range with random bytes
        start = int(rng.integers(0, len(buf)))
        size = int(rng.integers(1, 512))
        buf[start : start + size] = rng.integers(0, 256, size=size, dtype=np.uint8).tobytes()
    else:  # duplicate a range somewhere else (box sizes and offsets go wrong)
        start, dest = (int(v) for v in rng.integers(0, len(buf), size=2))
        chunk = buf[start : start + int(rng.integers(1, 2048))]
        buf[dest:dest] = chunk
    return bytes(buf)


def fuzz_worker(base: str, out_dir: str, n_cases: int, seed: int) -> None:
    """Child process: try every case, printing ``case i: start`` before and the outcome after."""
    from hipdrive.errors import VideoError
    from hipdrive.video import iter_frames, probe_video

    data = Path(base).read_bytes()
    rng = np.random.default_rng(seed)
    for i in range(n_cases):
        path = Path(out_dir) / f"case{i:03d}.mp4"
        path.write_bytes(mutate(data, rng))
        print(f"case {i}: start", flush=True)
        try:
            probe_video(path, timeout_s=20)
            n = sum(1 for _ in iter_frames(path, prefetch=2, timeout_s=20))
            outcome = f"read {n} frames"
        except VideoError as exc:
            outcome = f"VideoError {str(exc).splitlines()[0][:150]}"
        except Exception as exc:  # what the test is looking for
            outcome = f"UNEXPECTED {type(exc).__module__}.{type(exc).__name__}: {exc}"
        print(f"case {i}: {outcome}", flush=True)
        path.unlink()
    print("done", flush=True)


def test_mutated_mp4s_are_read_or_refused_with_a_video_error(tmp_path):
    from hipdrive.video import write_video

    rng = np.random.default_rng(1)
    frames = [rng.integers(0, 256, (48, 64, 3), dtype=np.uint8) for _ in range(12)]
    base = write_video(frames, tmp_path / "base.mp4", fps=30)
    code = (
        "import sys; from tests.unit.test_fuzz_video import fuzz_worker; "
        f"fuzz_worker({str(base)!r}, {str(tmp_path)!r}, {N_CASES}, {SEED})"
    )
    try:
        proc = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True,
                              text=True, timeout=CHILD_TIMEOUT_S)  # fmt: skip
        out, returncode = proc.stdout, proc.returncode
    except subprocess.TimeoutExpired as exc:
        out = exc.stdout.decode() if isinstance(exc.stdout, bytes) else (exc.stdout or "")
        returncode = "timeout"
    lines = out.splitlines()
    last = next((ln for ln in reversed(lines) if ln.startswith("case ")), "no case started")
    assert returncode == 0 and lines[-1:] == ["done"], (
        f"the reader hung or crashed the interpreter (exit {returncode}) at: {last}\n"
        f"{proc.stderr[-2000:] if returncode != 'timeout' else ''}"
    )
    outcomes = [
        ln.split(": ", 1)[1]
        for ln in lines
        if ln.startswith("case ") and not ln.endswith(": start")
    ]
    assert len(outcomes) == N_CASES
    unexpected = [ln for ln in lines if "UNEXPECTED" in ln]
    assert not unexpected, "\n".join(unexpected[:10])
    # The corpus exercises both outcomes, so the test can fail either way.
    n_read = sum(o.startswith("read") for o in outcomes)
    assert 0 < n_read < N_CASES, f"{n_read} of {N_CASES} mutations decoded"
