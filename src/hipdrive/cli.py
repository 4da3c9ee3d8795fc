"""The ``hipdrive`` command: one sub-command per pipeline step.

Each stage keeps its sub-commands in ``hipdrive/commands/<stage>.py`` (an
``add_commands(subparsers)`` function); heavy imports (mediapipe, torch,
statsmodels) happen inside the command, so ``hipdrive --help`` is instant and
the analysis commands never import a pose library.
"""

from __future__ import annotations

import argparse
import errno
import os
import sys

from hipdrive import __version__
from hipdrive.commands import analyze, export, pose, qc, run, simulate, stats
from hipdrive.errors import HipdriveError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hipdrive",
        description="Hip drive vs load from barbell squat and deadlift videos. "
        "Each sub-command is one pipeline step; the Snakemake workflow chains them.",
    )
    parser.add_argument("--version", action="version", version=f"hipdrive {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    run.add_commands(sub)  # the whole workflow
    for stage in (simulate, pose, analyze, stats, qc):  # in data-flow order
        stage.add_commands(sub)
    export.add_commands(sub)  # keypoints out to other tools
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except HipdriveError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # disk full, permissions, stale mounts: the machine, not a bug
        if os.environ.get("HIPDRIVE_DEBUG"):
            raise
        where = f"{exc.filename}: " if exc.filename else ""
        name = errno.errorcode.get(exc.errno, "OSError") if exc.errno else type(exc).__name__
        print(f"error: {where}{exc.strerror or exc} ({name}); fix the cause and re-run "
              "(HIPDRIVE_DEBUG=1 shows the traceback)", file=sys.stderr)  # fmt: skip
        return 1


def entry_point() -> None:
    """The ``hipdrive`` command: :func:`main`, then an immediate exit with its code.

    pyarrow's thread pools can abort the interpreter's shutdown after the work
    is done ("terminate called without an active exception", SIGABRT;
    apache/arrow#34314), which Snakemake or a shell reads as a failed step.
    Every output is written and closed before :func:`main` returns, so the
    process leaves without that native teardown.
    """
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    entry_point()
