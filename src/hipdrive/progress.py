"""Progress lines for long steps (pose, simulation), readable in Snakemake logs.

One line every ``every_s`` seconds to stderr, not a redrawn bar: logs from
cluster jobs are files, and carriage returns make them unreadable.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")


def report_progress(
    items: Iterable[T], *, total: int | None, label: str, unit: str = "frames", every_s: float = 5.0
) -> Iterator[T]:
    """Yield ``items`` unchanged, printing ``label: n/total unit (rate/s)`` periodically."""
    start = last = time.monotonic()
    n = 0
    for n, item in enumerate(items, start=1):
        yield item
        now = time.monotonic()
        if now - last >= every_s:
            last = now
            _print(label, n, total, unit, now - start)
    _print(label, n, total, unit, time.monotonic() - start, done=True)


def _print(
    label: str, n: int, total: int | None, unit: str, elapsed: float, done: bool = False
) -> None:
    rate = n / elapsed if elapsed > 0 else float("nan")
    of = f"/{total}" if total else ""
    state = "done" if done else "..."
    print(
        f"{label}: {n}{of} {unit} ({rate:.1f} {unit}/s, {elapsed:.1f} s) {state}",
        file=sys.stderr,
        flush=True,
    )
