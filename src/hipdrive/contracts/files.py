"""How every stage puts a file on disk: atomically, mode 0644, with provenance.

One helper so that a killed job never leaves a truncated file a later run
would trust, and every output is readable by the people sharing the results.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

#: Key of the provenance JSON in the Parquet metadata of every hipdrive file.
METADATA_KEY = b"hipdrive"
#: Mode of every output: shared results, readable by all, writable by the owner.
FILE_MODE = 0o644


def package_version() -> str:
    from hipdrive import __version__

    return __version__


def sha256_file(path: str | os.PathLike, chunk_bytes: int = 1 << 20) -> str:
    """SHA-256 of a file, streamed (videos can be GBs)."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(chunk_bytes):
            digest.update(chunk)
    return digest.hexdigest()


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[str]:
    """A temp file beside ``path`` to write; renamed into place only if the block succeeds.

    A killed job, a full disk or an exception leaves at most a ``.tmp`` file,
    never a truncated file at the final path that a later run would trust.
    The file is synced, then made mode 0644 (``mkstemp`` makes 0600; outputs
    are shared files), then renamed.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        yield tmp
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.chmod(tmp, FILE_MODE)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_table(table: pa.Table, path: str | os.PathLike) -> None:
    """Write Parquet atomically (:func:`atomic_path`)."""
    with atomic_path(path) as tmp:
        pq.write_table(table, tmp, compression="zstd")


def atomic_write_bytes(data: bytes, path: str | os.PathLike) -> None:
    """Write a small text or binary file atomically (:func:`atomic_path`)."""
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        fh.write(data)


@contextlib.contextmanager
def atomic_parquet_writer(path: str | os.PathLike, schema: pa.Schema) -> Iterator[pq.ParquetWriter]:
    """A streaming Parquet writer whose file appears (atomically) only if the block succeeds."""
    with atomic_path(path) as tmp:
        writer = pq.ParquetWriter(tmp, schema, compression="zstd")
        try:
            yield writer
        finally:
            writer.close()


def to_arrow(frame: pd.DataFrame, schema: pa.Schema) -> pa.Table:
    """Column by column: half the cost of ``Table.from_pandas`` (whose pandas metadata
    :func:`with_provenance` drops anyway) for the many small tables of a large study."""
    return pa.Table.from_arrays(
        [pa.Array.from_pandas(frame[f.name], type=f.type) for f in schema], schema=schema
    )


def json_default(value: Any) -> Any:
    """JSON for the numpy scalars and paths that provenance dicts carry."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def with_provenance(table: pa.Table, provenance: Mapping[str, Any]) -> pa.Table:
    """``table`` with ``provenance`` (and the package version) as its ``hipdrive`` metadata."""
    meta = {"package_version": package_version(), **provenance}
    return table.replace_schema_metadata({METADATA_KEY: json.dumps(meta, default=json_default)})


def read_provenance(path: str | os.PathLike) -> dict[str, Any]:
    """The ``hipdrive`` metadata of a reps or curves file (``{}`` when absent)."""
    raw = pq.read_schema(path).metadata or {}
    return json.loads(raw[METADATA_KEY]) if METADATA_KEY in raw else {}
