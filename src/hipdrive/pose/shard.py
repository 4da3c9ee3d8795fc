"""Shards: many videos per pose job, so a GPU job loads its model once and stays busy.

Membership is a stable hash: video ``v`` goes to shard
``int(sha1(v)[:8], 16) % n`` with ``n`` the smallest power of two giving at most
about ``shard_size`` videos per shard (:func:`plan_shards`). Adding videos
changes only the shards they land in until the collection doubles, when
``n`` doubles too.

A shard job re-runs as a whole when one of its videos is added or replaced
(Snakemake's unit is the job), so every finished video is also kept in a
content-addressed cache (``results/cache/keypoints``): a key of the video's
SHA-256, the backend, its options and the package version. A re-run shard
links cached files into place and runs the model only on new or changed
videos, and a shard killed halfway resumes where it stopped. Cached files are
hard links of the outputs (same inode, same mtime), so the analysis
downstream sees unchanged inputs.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
import sys
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

__all__ = ["cache_key", "estimate_poses_shard", "plan_shards", "shard_of"]


def shard_of(video_id: str, n_shards: int) -> int:
    """The shard of one video among ``n_shards`` (stable across runs and machines)."""
    return int(hashlib.sha1(video_id.encode()).hexdigest()[:8], 16) % n_shards


def plan_shards(video_ids: Sequence[str], shard_size: int) -> dict[str, list[str]]:
    """Shard name -> its video ids (manifest order); empty shards are left out.

    ``n`` is the smallest power of two with ``len(video_ids) / n <= shard_size``,
    so the mean shard holds between ``shard_size / 2`` and ``shard_size`` videos.
    """
    if shard_size < 1:
        raise ValueError(f"shard_size must be >= 1, got {shard_size}")
    n = 1 << max(0, math.ceil(math.log2(max(1, len(video_ids)) / shard_size)))
    width = len(str(n - 1))
    shards: dict[str, list[str]] = {}
    for vid in video_ids:
        shards.setdefault(f"shard{shard_of(vid, n):0{width}d}of{n}", []).append(vid)
    return dict(sorted(shards.items()))


def cache_key(video_sha256: str, backend: str, options: Mapping[str, Any]) -> str:
    """What makes two pose runs interchangeable: same bytes, same model, same code."""
    from hipdrive.contracts.files import package_version

    blob = json.dumps(
        {"video": video_sha256, "backend": backend, "options": dict(options),
         "package": package_version()},
        sort_keys=True,
    )  # fmt: skip
    return hashlib.sha256(blob.encode()).hexdigest()


def _link_atomically(src: Path, dst: Path) -> None:
    """Hard-link ``src`` to ``dst`` (copy across file systems), replacing ``dst`` atomically."""
    import shutil

    dst.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{dst.name}.", suffix=".tmp", dir=dst.parent)
    os.close(fd)
    os.unlink(tmp)
    try:
        try:
            os.link(src, tmp)
        except OSError:
            shutil.copy2(src, tmp)
        os.replace(tmp, dst)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _cached(cache: Path, key: str) -> bool:
    from hipdrive.contracts.keypoints import KeypointFileError, read_metadata

    try:
        return cache.is_file() and read_metadata(cache).get("cache_key") == key
    except KeypointFileError:
        return False


def estimate_poses_shard(
    jobs: Sequence[Mapping[str, str]],
    *,
    backend: str,
    options: Mapping[str, Any],
    cache_dir: str | os.PathLike,
    on_bad_video: str = "fail",
) -> dict[str, int]:
    """Run one backend over the videos of a shard, loading the model once.

    Parameters
    ----------
    jobs : sequence of mappings
        ``{"video": path, "video_id": id, "out": keypoint path}`` per video.
    backend, options
        As for :func:`hipdrive.pose.estimate_poses`.
    cache_dir : path
        The pose cache (see the module docstring).
    on_bad_video : {"fail", "exclude"}
        ``exclude`` writes an exclusion record for an unusable video and goes
        on (:mod:`hipdrive.contracts.exclusions`); ``fail`` raises.

    Returns
    -------
    dict
        Counts: ``estimated``, ``cached``, ``excluded``.
    """
    from hipdrive.contracts.files import sha256_file
    from hipdrive.pose.driver import DRIVER_OPTIONS, estimate_or_exclude, make_backend

    cache_dir = Path(cache_dir)
    counts = {"estimated": 0, "cached": 0, "excluded": 0}
    todo = []
    for job in jobs:
        video, out = Path(job["video"]), Path(job["out"])
        sha = sha256_file(video) if video.is_file() else f"missing:{video}"
        key = cache_key(sha, backend, options)
        cache = cache_dir / f"{job['video_id']}.parquet"
        if _cached(cache, key):
            _link_atomically(cache, out)
            counts["cached"] += 1
        else:
            todo.append((job, key, cache))
    print(f"estimate-poses-shard: {len(jobs)} videos, {counts['cached']} from the cache, "
          f"{len(todo)} to run", file=sys.stderr)  # fmt: skip
    if not todo:
        return counts
    model_options = {k: v for k, v in options.items() if k not in DRIVER_OPTIONS}
    model_context = (
        make_backend(backend, model_options) if backend != "synthetic" else contextlib.nullcontext()
    )
    with model_context as model:
        for job, key, cache in todo:
            meta = estimate_or_exclude(
                job["video"], job["out"], video_id=job["video_id"], backend=backend,
                options=options, on_bad_video=on_bad_video, model=model,
                extra_metadata={"cache_key": key},
            )  # fmt: skip
            if "excluded" in meta:
                print(f"estimate-poses-shard {job['video_id']}: EXCLUDED: "
                      f"{meta['excluded']['reason']}", file=sys.stderr)  # fmt: skip
            counts["excluded" if "excluded" in meta else "estimated"] += 1
            _link_atomically(Path(job["out"]), cache)
    return counts
