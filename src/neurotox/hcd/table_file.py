"""Single-file tables written by ``neurotox hcd export`` and ``hcd ranges -o FILE``.

The format follows the file name (``.csv`` or ``.parquet``; anything else is
refused), and ``--force`` replaces only a file the same command wrote before:
a CSV whose first line is the header the command writes, or a Parquet file
whose schema carries the :data:`MARKER` key naming the command. Any other file
(a subjects file, a study file, a table of another tool) is left alone, so a
mistyped ``-o`` cannot destroy an input.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from neurotox.delimited import csv_safe
from neurotox.errors import InputError, OutputExistsError
from neurotox.files import output_committed
from neurotox.io.output import file_above, input_conflict

#: Key of the Parquet schema metadata naming the neurotox command that wrote the file.
MARKER = b"neurotox.output"
SUFFIXES = (".csv", ".parquet")


def check_name(path: Path) -> None:
    """Refuse a file name whose format is not known from its suffix."""
    if path.suffix.lower() not in SUFFIXES:
        raise InputError(f"expected a .csv or .parquet file name (the format follows the "
                         f"name), found {path.name!r}", where="-o/--output")


def check_target(path: Path, *, force: bool, protected: Sequence[Path] = ()) -> None:
    """Refuse ``path`` before any work: a bad name, a protected file, an existing file.

    An existing file is refused unless ``force`` (then see :func:`check_replaceable`).

    ``protected``: files never written over (the SQLite database read).
    """
    check_name(path)
    conflict = input_conflict(path, list(protected))
    if conflict:
        raise OutputExistsError(f"{path}: refusing to write there: {conflict} (the database)")
    parent = file_above(path)
    if parent is not None:
        raise OutputExistsError(f"{path}: cannot write there: {parent} is a file, not a folder")
    if os.path.lexists(path) and not force:
        raise OutputExistsError(f"{path}: exists; use --force to replace it")


def check_replaceable(path: Path, *, command: str, columns: Sequence[str]) -> None:
    """Refuse to replace an existing ``path`` unless ``neurotox {command}`` wrote it.

    Raises
    ------
    OutputExistsError
        ``path`` is not a regular file, or is not recognisably this command's
        output (CSV header, Parquet marker).

    """
    if not os.path.lexists(path):
        return
    if path.is_symlink() or not path.is_file():
        raise OutputExistsError(f"{path}: not replaced: it is not a regular file")
    why = _not_written_by(path, command, columns)
    if why:
        raise OutputExistsError(f"{path}: not replaced: --force replaces only a file "
                                f"'neurotox {command}' wrote, and {why}; remove it yourself "
                                "or choose another name")


def _not_written_by(path: Path, command: str, columns: Sequence[str]) -> str | None:
    if path.suffix.lower() == ".csv":
        with open(path, "rb") as f:
            first = f.readline(64 * 1024).rstrip(b"\r\n")
        if first == ",".join(columns).encode():
            return None
        return "its first line is not that table's header"
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        meta = pq.read_schema(path).metadata or {}
    except (pa.ArrowException, OSError):
        return "it is not a Parquet file"
    if meta.get(MARKER) == command.encode():
        return None
    return f"it does not carry the {MARKER.decode()!r} mark of that command"


def write(df: pd.DataFrame, path: Path, *, command: str) -> None:
    """Write ``df`` atomically to ``path`` (format from the suffix), marked as ``command``'s."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    check_name(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.part{os.getpid()}")
    try:
        if path.suffix.lower() == ".csv":
            csv_safe(df).to_csv(tmp, index=False, lineterminator="\n")
        else:
            table = pa.Table.from_pandas(df, preserve_index=False)
            meta = {**(table.schema.metadata or {}), MARKER: command.encode()}
            pq.write_table(table.replace_schema_metadata(meta), tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    output_committed(f"file {path}")
