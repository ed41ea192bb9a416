"""Single-file tables written by ``neurotox hcd export`` and ``hcd ranges -o FILE``.

The format follows the file name (``.csv`` or ``.parquet``; anything else is
refused), and ``--force`` replaces only a file the same command wrote before
and nobody changed since: a CSV whose first line is the header the command
writes, or a Parquet file whose schema carries the :data:`MARKER` key naming the
command, whose SHA-256 is still the one in the checksum file written beside it
(``FILE.sha256``, ``sha256sum`` format: ``sha256sum -c FILE.sha256`` checks it),
as an output folder's ``manifest.json`` vouches for its files. Any other file (a
subjects file, a study file, a table of another tool, an export edited by hand)
is left alone, so a mistyped ``-o`` cannot destroy an input nor ``--force`` an
analyst's edits.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from neurotox.delimited import csv_safe
from neurotox.errors import InputError, OutputExistsError
from neurotox.files import output_committed, sha256_file
from neurotox.io.output import file_above, input_conflict

#: Key of the Parquet schema metadata naming the neurotox command that wrote the file.
MARKER = b"neurotox.output"
SUFFIXES = (".csv", ".parquet")
#: A ``sha256sum`` line: 64 hex digits, two spaces (or space and ``*``), the file name.
_CHECKSUM_LINE = re.compile(r"([0-9a-f]{64}) [ *](.+)")


def checksum_path(path: Path) -> Path:
    """The checksum file written beside ``path`` (``out.csv`` -> ``out.csv.sha256``)."""
    return path.with_name(f"{path.name}.sha256")


def _recorded(path: Path) -> str | None:
    """The SHA-256 that ``path``'s checksum file records for it (None: none readable)."""
    sidecar = checksum_path(path)
    if sidecar.is_symlink() or not sidecar.is_file() or sidecar.stat().st_size > 4096:
        return None
    try:
        lines = sidecar.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return None
    match = _CHECKSUM_LINE.fullmatch(lines[0]) if len(lines) == 1 else None
    return match.group(1) if match and match.group(2) == path.name else None


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
    for p in (path, checksum_path(path)):
        conflict = input_conflict(p, list(protected))
        if conflict:
            raise OutputExistsError(f"{p}: refusing to write there: {conflict} (the database)")
    parent = file_above(path)
    if parent is not None:
        raise OutputExistsError(f"{path}: cannot write there: {parent} is a file, not a folder")
    for p in (path, checksum_path(path)):
        if os.path.lexists(p) and not force:
            raise OutputExistsError(f"{p}: exists; use --force to replace it")


def check_replaceable(path: Path, *, command: str, columns: Sequence[str],
                      earlier: Sequence[Sequence[str]] = ()) -> None:
    """Refuse to replace an existing ``path`` unless ``neurotox {command}`` wrote it.

    A CSV file is recognised by its header: ``columns``, or one of the ``earlier``
    headers the command wrote before its table gained columns.

    Raises
    ------
    OutputExistsError
        ``path`` is not a regular file, or is not recognisably this command's
        output (CSV header, Parquet marker).

    """
    sidecar = checksum_path(path)
    if not os.path.lexists(path):
        if os.path.lexists(sidecar) and _recorded(path) is None:
            raise OutputExistsError(f"{sidecar}: not replaced: it is not the checksum file of "
                                    f"{path.name!r}; remove it yourself or choose another name")
        return
    if path.is_symlink() or not path.is_file():
        raise OutputExistsError(f"{path}: not replaced: it is not a regular file")
    why = _not_written_by(path, command, [columns, *earlier])
    if why:
        raise OutputExistsError(f"{path}: not replaced: --force replaces only a file "
                                f"'neurotox {command}' wrote, and {why}; remove it yourself "
                                "or choose another name")


def _not_written_by(path: Path, command: str,
                    headers: Sequence[Sequence[str]]) -> str | None:
    why = _not_marked(path, command, headers)
    if why:
        return why
    recorded = _recorded(path)
    if recorded is None:
        return (f"there is no checksum file {checksum_path(path).name!r} beside it to show "
                "it unchanged since")
    if recorded != sha256_file(path):
        return (f"it changed after it was written (SHA-256 differs from "
                f"{checksum_path(path).name!r})")
    return None


def _not_marked(path: Path, command: str, headers: Sequence[Sequence[str]]) -> str | None:
    if path.suffix.lower() == ".csv":
        with open(path, "rb") as f:
            first = f.readline(64 * 1024).rstrip(b"\r\n")
        if first in {",".join(columns).encode() for columns in headers}:
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
    """Write ``df`` atomically to ``path`` (format from the suffix), marked as ``command``'s.

    Its checksum file (:func:`checksum_path`) is written after it, so that a later
    ``--force`` can tell the file is unchanged.
    """
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
        digest = sha256_file(tmp)
        os.replace(tmp, path)
        tmp.write_text(f"{digest}  {path.name}\n", encoding="utf-8")
        os.replace(tmp, checksum_path(path))
    finally:
        tmp.unlink(missing_ok=True)
    output_committed(f"file {path}")
