"""Reader registry, file sniffing and the tidy structures every zebrafish reader returns.

A reader is registered under a format name with a ``match`` function (a cheap
check of the file's first lines or sheets) and a ``read`` function. Format
auto-detection goes through the registry: the first reader whose ``match``
accepts the file reads it; when none does, :class:`~neurotox.errors.FormatError`
names every layout that was expected and what the file holds.

Output contract
---------------
Every reader returns an :class:`Export` whose ``data`` is one of

``bins``
    One row per animal × time bin: ``plate``, ``well`` (``A01``), ``animal``,
    ``bin`` (0-based int), ``start_s``, ``end_s`` (seconds from the start of the
    recording; NaN when the file has no times), ``distance`` (mm; NaN when the
    export has no distance, e.g. ZebraLab quantization mode) and, where exported,
    activity columns (:data:`ACTIVITY_COLUMNS`).
``track``
    One row per frame: ``plate``, ``well``, ``animal``, ``time_s``, ``x``, ``y``
    (mm, NaN when the tracker lost the animal).
``frames``
    One row per frame: ``plate``, ``well``, ``animal``, ``frame`` (1-based),
    ``activity`` (a motion index, e.g. ZebraLab EPR ``MotionTab``).

``wells`` optionally carries per-well information found in the file itself
(``concentration``, ``chemical``, ``exclusion_reason``).

``events`` optionally carries stimulus presentations measured by the instrument
(ZebraLab stimulus rows): one row per animal × stimulus, :data:`EVENT_COLUMNS`
plus the exported activity columns.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from neurotox.errors import FormatError, InputError, quoted
from neurotox.files import check_first_line, check_input
from neurotox.io.registry import Registry
from neurotox.io.text import (
    check_not_encrypted,
    check_text,
    guess_delimiter,
    guess_encoding,
    not_a_table,
    read_gzip,
    scan_text,
)

#: Activity/inactivity columns of ZebraLab tracking and quantization exports.
ACTIVITY_COLUMNS = ("inact", "inadur", "inadist", "smlct", "smldur", "smldist", "larct",
                    "lardur", "lardist", "emptyct", "emptydur", "frect", "fredur", "midct",
                    "middur", "burct", "burdur")

BIN_COLUMNS = ("plate", "well", "animal", "bin", "start_s", "end_s", "distance")
TRACK_COLUMNS = ("plate", "well", "animal", "time_s", "x", "y")
FRAME_COLUMNS = ("plate", "well", "animal", "frame", "activity")
EVENT_COLUMNS = ("plate", "well", "animal", "event", "stimulus", "start_s", "end_s",
                 "distance")

Kind = Literal["bins", "track", "frames"]

_PREVIEW_LINES = 60
_OLE2 = b"\xd0\xcf\x11\xe0"
_ZIP = b"PK\x03\x04"
_GZIP = b"\x1f\x8b"


@dataclass
class Export:
    """What a reader returns: tidy data plus what it found out about the file.

    Attributes
    ----------
    format
        Registry name of the reader that read it.
    kind
        ``bins``, ``track`` or ``frames`` (see the module docstring).
    data
        The tidy table.
    path
        File read.
    notes
        Decisions taken while reading (encoding, delimiter, unit conversion ...).
    wells
        Per-well information carried by the file (may be None).
    events
        Stimulus presentations measured in the file (may be None).

    """

    format: str
    kind: Kind
    data: pd.DataFrame
    path: Path
    notes: list[str] = field(default_factory=list)
    wells: pd.DataFrame | None = None
    events: pd.DataFrame | None = None


class Source:
    """A file opened for sniffing: container type, decoded text lines or sheet previews."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        check_input(self.path)   # a regular file within the size limit
        self.notes: list[str] = []

    @cached_property
    def head(self) -> bytes:
        """First 64 KiB of the file."""
        with open(self.path, "rb") as f:
            return f.read(1 << 16)

    @cached_property
    def container(self) -> str:
        """``xlsx``, ``xls`` (BIFF), ``gzip`` or ``text`` (from the bytes, not the name)."""
        if self.head.startswith(_ZIP):
            return "xlsx"
        if self.head.startswith(_OLE2):
            check_not_encrypted(self.path)   # a password-protected xlsx is an OLE2 file too
            return "xls"
        if self.head.startswith(_GZIP):
            return "gzip"
        return "text"

    @cached_property
    def encoding(self) -> str:
        """Text encoding guessed from the BOM or the byte pattern."""
        return guess_encoding(self._raw_head())

    def _raw_head(self) -> bytes:
        if self.container == "gzip":
            return read_gzip(self.path, limit=1 << 16)
        return self.head

    @cached_property
    def lines(self) -> list[str]:
        """First lines of a text file, decoded (empty for spreadsheets)."""
        if self.container in ("xlsx", "xls"):
            return []
        text = self._raw_head().decode(self.encoding, errors="replace")
        return text.splitlines()[:_PREVIEW_LINES]

    @cached_property
    def text(self) -> str:
        """The whole decoded text (gzip unpacked within the limit), NUL characters refused.

        Read once: the table and the row labels of its messages both come from it.
        """
        raw = read_gzip(self.path) if self.container == "gzip" else self.path.read_bytes()
        check_first_line(raw, self.path)
        try:
            text = raw.decode(self.encoding)
        except UnicodeDecodeError as exc:
            raise FormatError(f"cannot decode as {self.encoding} text (byte {exc.start})",
                              path=self.path) from None
        check_text(text, self.path, sep=self.delimiter)
        return text

    @cached_property
    def delimiter(self) -> str:
        """Field delimiter of a text file: the most frequent of tab, ``;`` and ``,``."""
        return guess_delimiter("\n".join(self.lines[:_PREVIEW_LINES]), ("\t", ";", ","))

    def header_cells(self, line: str) -> list[str]:
        """Split one line with the file's delimiter, strip quotes and blanks."""
        return [c.strip().strip('"').strip() for c in line.split(self.delimiter)]

    @cached_property
    def sheets(self) -> dict[str, list[tuple]]:
        """First rows of every sheet of a workbook (empty for text files)."""
        if self.container == "xlsx":
            from neurotox.workbook import sheet_rows

            return sheet_rows(self.path, max_rows=40)
        if self.container == "xls":
            try:
                frames = pd.read_excel(self.path, sheet_name=None, header=None, nrows=40,
                                       engine="xlrd")
            except Exception as exc:  # xlrd raises its own error types on corrupt files
                raise FormatError(f"cannot open as an xls (BIFF) workbook: {exc}",
                                  path=self.path) from None
            return {k: [tuple(r) for r in v.itertuples(index=False)] for k, v in frames.items()}
        return {}

    def first_rows(self) -> list[list[str]]:
        """First rows of the file as lists of cell strings (first sheet for workbooks)."""
        if self.sheets:
            rows = next(iter(self.sheets.values()))
            return cell_rows(rows)
        return [self.header_cells(line) for line in self.lines]

    def describe(self) -> str:
        """Short description of what the file holds, for error messages."""
        kind = {"xlsx": "an xlsx workbook", "xls": "an xls workbook"}.get(self.container,
                                                                         "text")
        if not self.sheets:
            return f"{kind}, first row: {_first_cells(self.first_rows())}"
        tried = [f"sheet {name!r} first row: {_first_cells(cell_rows(rows))}"
                 for name, rows in list(self.sheets.items())[:5]]
        more = f"; and {len(self.sheets) - 5} more sheet(s)" if len(self.sheets) > 5 else ""
        return f"{kind}, {'; '.join(tried)}{more}"


def _first_cells(rows: list[list[str]]) -> str:
    first = next((r for r in rows if any(r)), [])
    cells = [c for c in first if c][:12]
    return quoted(cells) if cells else "empty"


def cell_rows(rows: list[tuple]) -> list[list[str]]:
    """Spreadsheet rows as lists of stripped cell text (a blank or NaN cell is ``""``)."""
    return [["" if c is None or (isinstance(c, float) and c != c) else str(c).strip()
             for c in r] for r in rows]


def norm(name: object) -> str:
    """Normalise a column label for matching: lower case, separators to ``_``."""
    return re.sub(r"[^0-9a-z]+", "_", str(name).strip().lower()).strip("_")


@dataclass(frozen=True)
class Reader:
    """A registered export format.

    Attributes
    ----------
    name
        Format name (``zebralab-tracking`` ...), used with ``--format``.
    description
        What the layout looks like; shown when no reader matches.
    match
        ``match(source) -> bool``: cheap check of the first lines/sheets.
    read
        ``read(source) -> Export``: validates the layout, then parses.

    """

    name: str
    description: str
    match: Callable[[Source], bool]
    read: Callable[[Source], Export]


_REGISTRY: Registry[Reader] = Registry("zebrafish export")
#: Add a format (at import of its module; detection order = registration order).
register_reader = _REGISTRY.register
#: Registered formats in detection order.
list_formats = _REGISTRY.readers


def detect_format(path: str | Path) -> Reader:
    """The reader whose layout check accepts ``path``.

    Raises
    ------
    FormatError
        No reader matches; the message lists the expected layouts and what was found.

    """
    src = Source(path)
    reader = _REGISTRY.detect(src)
    if reader is None and (what := not_a_table(src.path)) is not None:
        raise FormatError(f"{what}; expected a zebrafish tracking export", path=src.path)
    if reader is None:
        raise FormatError(f"unknown zebrafish export layout. Expected one of: "
                          f"{_REGISTRY.expected()}. Found: {src.describe()}", path=src.path)
    return reader


def read_export(path: str | Path, *, format: str | None = None) -> Export:
    """Read a tracking export, detecting its format unless ``format`` is given.

    Parameters
    ----------
    path
        Export file.
    format
        Registry name; None to auto-detect.

    Returns
    -------
    Export
        Tidy data; ``notes`` records the detected format and every guess.

    """
    if format is None:
        reader = detect_format(path)
        how = "detected"
    else:
        reader = _REGISTRY.named(format)
        how = "given"
    src = Source(path)
    if format is not None and not reader.match(src):
        raise FormatError(f"not in the {reader.name} layout ({reader.description}); found: "
                          f"{src.describe()}", path=src.path)
    if src.container in ("text", "gzip"):   # NUL characters, gzip bombs: before the parser
        scan_text(src.path, src.encoding, gzip=src.container == "gzip", sep=src.delimiter)
    try:
        out = reader.read(src)
    except (ValueError, KeyError, TypeError, IndexError, UnicodeError) as exc:
        if isinstance(exc, InputError):
            raise
        # A variant of the layout the reader does not anticipate: say so in one line.
        raise FormatError(f"looks like {reader.name} but cannot be read: "
                          f"{' '.join(str(exc).split()) or type(exc).__name__}",
                          path=src.path) from None
    if out.data.empty:
        raise FormatError(f"{reader.name}: expected data rows, found none", path=src.path)
    check_data(out)
    out.notes.insert(0, f"{src.path.name}: format {reader.name} ({how})")
    out.notes[1:1] = [n if n.startswith("warning: ") else f"{src.path.name}: {n}"
                      for n in src.notes]   # a warning names its file itself
    return out


def require_columns(columns: list[str], required: list[str], *, path: Path,
                    where: str | None = None) -> None:
    """Raise FormatError naming the missing columns and the ones found."""
    missing = [c for c in required if c not in columns]
    if missing:
        raise FormatError(f"expected column(s) {quoted(missing)}, found {quoted(columns)}",
                          path=path, where=where)


def _first_bad(out: Export, mask: pd.Series, message: str, column: str) -> None:
    """Raise FormatError for the first row of ``out.data`` where ``mask`` is true."""
    if not mask.any():
        return
    row = out.data[mask.to_numpy()].iloc[0]
    key = f"larva {row['animal']!s} (plate {row['plate']!s})"
    if "bin" in out.data.columns:
        key += f", bin {int(row['bin'])}"
    value = row[column]
    shown = f"{float(value):g}" if isinstance(value, int | float | np.number) else repr(value)
    raise FormatError(f"{message}, found {shown}", path=out.path,
                      where=f"{key}, column {column!r}")


def _non_finite(s: pd.Series) -> pd.Series:
    return s.notna() & ~np.isfinite(s.to_numpy(dtype=float))


def check_data(out: Export) -> None:
    """Check the tidy data of any reader: times, distances and keys.

    Raises
    ------
    FormatError
        Negative or infinite times, end before start, partly missing times,
        negative or infinite distances or coordinates, duplicated larva/bin keys,
        or frame times that do not increase within a larva. The message names the
        file, the larva (and bin) and the column.

    """
    if out.kind == "bins":
        _check_bins(out)
    elif out.kind == "track":
        _check_track(out)


def _check_bins(out: Export) -> None:
    d = out.data
    start = d["start_s"].astype(float)
    if start.notna().any():
        _first_bad(out, start.isna(), "expected a start time in every row", "start_s")
    for col in ("start_s", "end_s", "distance"):
        v = d[col].astype(float)
        _first_bad(out, _non_finite(v), "expected a finite number", col)
        _first_bad(out, v < 0, "expected a value >= 0", col)
    _first_bad(out, d["end_s"].astype(float) <= start, "expected end > start", "end_s")
    dup = d.duplicated(["plate", "animal", "bin"], keep="first")
    _first_bad(out, dup, "expected each larva and bin once; this bin appears again",
               "start_s")


def _check_track(out: Export) -> None:
    d = out.data
    t = pd.Series(np.asarray(d["time_s"], dtype=float))
    for col in ("time_s", "x", "y"):
        _first_bad(out, _non_finite(pd.Series(np.asarray(d[col], dtype=float))),
                   "expected a finite number", col)
    _first_bad(out, t < 0, "expected a time >= 0", "time_s")
    keys = pd.Series(d.groupby(["plate", "animal"], sort=False, observed=True,
                               dropna=False).ngroup().to_numpy())
    same = keys.eq(keys.shift())
    _first_bad(out, same & (t.diff() <= 0),
               "expected frame times to increase within each larva", "time_s")
