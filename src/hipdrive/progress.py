"""Progress of long steps (pose, simulation), with rate and ETA from tqdm.

At a terminal: tqdm's bar. In a log file (Snakemake and cluster jobs): one of
tqdm's status lines every ``every_s`` seconds, since a redrawn bar's carriage
returns make a log unreadable.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterable, Iterator
from typing import TypeVar

from tqdm import tqdm

T = TypeVar("T")


def report_progress(
    items: Iterable[T], *, total: int | None, label: str, unit: str = "frames", every_s: float = 5.0
) -> Iterator[T]:
    """Yield ``items`` unchanged while showing ``label: n/total unit [elapsed<ETA, rate]``."""
    if sys.stderr.isatty():
        yield from tqdm(items, total=total, desc=label, unit=f" {unit}", mininterval=0.5)
        return
    start = last = time.monotonic()
    n = 0
    for n, item in enumerate(items, start=1):
        yield item
        now = time.monotonic()
        if now - last >= every_s:
            last = now
            _line(label, n, total, unit, now - start)
    _line(label, n, total, unit, time.monotonic() - start, done=True)


def _line(
    label: str, n: int, total: int | None, unit: str, elapsed: float, done: bool = False
) -> None:
    meter = tqdm.format_meter(n, total, elapsed, prefix=label, unit=f" {unit}", ncols=0)
    print(f"{meter}{' done' if done else ''}", file=sys.stderr, flush=True)
