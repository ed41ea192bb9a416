"""Reader registry and the tidy structures every rodent-cognition reader returns.

A reader is registered under a format name with a ``match`` function (a cheap
check of the file's first lines, sheets or HDF5 keys) and a ``read`` function.
Auto-detection goes through the registry: the first reader whose ``match``
accepts the file reads it; when none does, :class:`~neurotox.errors.FormatError`
names every layout that was expected.

Output contract
---------------
Every reader returns a :class:`RodentData` whose ``kind`` says what it holds.
A file holds one trial (one animal's session) except where a format writes
several to one file: an EthoVision XT multi-arena workbook holds one track sheet
per arena and subject, each a trial of its own. :func:`read_rodent_trials` reads
any file into its list of trials (one for most formats) and is what the assays
use; :func:`read_rodent` returns the one trial of a file and refuses a file of
several. The trials of a multi-trial file carry the sheet they came from
(``sheet``; ``name`` = ``file.xlsx[sheet]`` in notes and sources).

Kinds:

``exploration``
    One row per subject × phase × object: ``subject``, ``phase`` (``training`` or
    ``test``), ``object`` (label as in the file, e.g. ``Left``), ``time_s``
    (exploration time), ``bouts`` (NaN if unknown), ``latency_s`` (first
    exploration, NaN if unknown), ``climbing_s`` (time taken out of the
    exploration because the animal's centre was on the object; NaN when the input
    cannot tell), ``source``.
``key``
    One row per subject: ``subject``, ``novel`` (side ``L``/``R`` or the label of the
    novel object), ``source``.
``flags``
    Technical flags that exclude a subject's phase: ``subject``, ``phase``,
    ``reason``, ``source``.
``zone_samples``
    One row per video sample (EthoVision raw data): ``time_s`` plus one 0/1 column
    per zone and body point named ``<point>:<zone>`` (``nose:round object left``);
    ``meta`` holds ``subject``, ``trial`` and ``start_time`` (one trial per
    file or, for EthoVision multi-arena workbooks, per track sheet).
``trials``
    Discrete T-maze trials: ``subject``, ``condition``, ``session``, ``trial``,
    ``sample``, ``choice`` (arm labels, ``NA`` when no choice), ``latency_s``,
    ``source``.
``entries``
    Arm-entry sequences: ``subject``, ``condition``, ``order``, ``arm``,
    ``enter_s``, ``exit_s``, ``source``.
``poses``
    :class:`Poses`: keypoint tracks (DeepLabCut, SLEAP).
``zone_bins``
    Zone statistics per time bin: ``subject``, ``timepoint``, ``phase``, ``bin``,
    ``zone`` (lower case), ``measure`` (``duration``, ``frequency``,
    ``latency to first``), ``value``, ``source``.
``objects``
    Per-video object layouts in pixels: ``video``, ``object``, ``kind``
    (``circle``/``polygon``), ``x``, ``y``, ``radius``, ``vertices``, ``px_per_cm``.
``zones``
    Zone definitions over landmark keypoints (DLCAnalyzer ``zoneinfo``):
    ``meta['zones']`` maps zone name → ordered list of point names.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from neurotox.delimited import decode, looks_like_decimal_comma, read_table
from neurotox.errors import FormatError, InputError, quoted
from neurotox.files import check_hdf5, check_input
from neurotox.io.registry import Registry
from neurotox.io.text import (
    check_distinct_columns,
    check_not_encrypted,
    check_nul,
    check_row_lengths,
    check_text,
    container,
    delimiter_name,
    guess_delimiter,
    guess_encoding,
    not_a_table,
    scan_text,
)

Kind = Literal["exploration", "key", "flags", "zone_samples", "trials", "entries", "poses",
               "zones", "objects", "zone_bins"]

EXPLORATION_COLUMNS = ("subject", "phase", "object", "time_s", "bouts", "latency_s",
                       "climbing_s", "source")
KEY_COLUMNS = ("subject", "novel", "source")
FLAG_COLUMNS = ("subject", "phase", "reason", "source")
TRIAL_COLUMNS = ("subject", "condition", "session", "trial", "sample", "choice", "latency_s",
                 "source")
ENTRY_COLUMNS = ("subject", "condition", "order", "arm", "enter_s", "exit_s", "source")

PHASES = ("training", "test")

#: Phase labels found in file and video names, mapped to ``training``/``test``.
PHASE_ALIASES = {
    "p1": "training", "t1": "training", "training": "training", "train": "training",
    "sample": "training", "familiarisation": "training", "familiarization": "training",
    "acquisition": "training", "habituation": "training",
    "p2": "test", "t2": "test", "test": "test", "choice": "test", "retention": "test",
    "recall": "test", "recognition": "test",
}

#: A ``phase_map`` value that leaves a stage out (a habituation stage without objects,
#: the other test of a two-test sheet); the readers note the rows so left out.
IGNORE_PHASE = "ignore"


@dataclass
class Poses:
    """Keypoint tracks of one video.

    Attributes
    ----------
    position
        Array (frames, individuals, keypoints, 2) of x, y in pixels (image
        columns, rows); NaN where the point is missing.
    confidence
        Array (frames, individuals, keypoints); NaN when the file has none
        (labelled frames).
    keypoints, individuals
        Names along axes 2 and 1.
    frame_labels
        Frame index or image path of each row, as in the file.
    frames
        Video frame number of each row (int array, strictly increasing; holes =
        dropped frames), None for labelled frames (image paths, no video).
    path
        The file the tracks were read from (named in errors).

    """

    position: np.ndarray
    confidence: np.ndarray
    keypoints: list[str]
    individuals: list[str]
    frame_labels: list[str] = field(default_factory=list)
    frames: np.ndarray | None = None
    path: Path | None = None

    def _index(self, name: str) -> int:
        if name not in self.keypoints:
            raise InputError(f"keypoint {name!r} not tracked; tracked: {quoted(self.keypoints)}",
                             path=self.path)
        return self.keypoints.index(name)

    def point(self, name: str, individual: int = 0) -> np.ndarray:
        """Positions (frames, 2) of keypoint ``name``; InputError naming the file if unknown."""
        return self.position[:, individual, self._index(name), :]

    def score(self, name: str, individual: int = 0) -> np.ndarray:
        """Confidence (frames,) of keypoint ``name``."""
        return self.confidence[:, individual, self._index(name)]

    def times(self, fps: float) -> np.ndarray:
        """Seconds of each row from its video frame number (row number if none)."""
        frames = self.frames if self.frames is not None else np.arange(len(self.position))
        return np.asarray(frames, float) / fps


@dataclass
class RodentData:
    """What a reader returns: one kind of content, its table or poses, and provenance."""

    kind: Kind
    path: Path
    fmt: str
    table: pd.DataFrame | None = None
    poses: Poses | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    sheet: str | None = None

    @property
    def name(self) -> str:
        """The file's name; ``file.xlsx[sheet]`` for one trial of a multi-trial workbook."""
        return f"{self.path.name}[{self.sheet}]" if self.sheet else self.path.name

    @property
    def where(self) -> Path:
        """The path, its file name as :attr:`name` (the sheet of a multi-trial workbook)."""
        return self.path.with_name(self.name)


@dataclass(frozen=True)
class Reader:
    """A registered format: name, what it yields, a cheap matcher and the parser.

    ``read`` returns the file's one trial; ``read_all``, for formats that may hold
    several trials in one file, returns them all (None: the file is one trial).
    ``near_miss`` says what a file almost in this layout lacks.
    """

    name: str
    kind: Kind
    description: str
    match: Callable[[Path], bool]
    read: Callable[..., RodentData]
    read_all: Callable[..., list[RodentData]] | None = None
    #: What a file close to this layout lacks ("needs a choice column ...; found ..."),
    #: or None: said when no reader accepts the file.
    near_miss: Callable[[Path], str | None] | None = None


_REGISTRY: Registry[Reader] = Registry("rodent")
#: Add a reader to the registry (detection order = registration order).
register_reader = _REGISTRY.register
#: Registered readers in detection order.
list_readers = _REGISTRY.readers


def detect(path: str | Path) -> Reader:
    """Return the reader for ``path``; FormatError naming the expected layouts otherwise."""
    path = Path(path)
    check_input(path)   # a regular file within the size limit
    if container(path) == "ole2":
        check_not_encrypted(path)
        raise FormatError("an old-format Excel workbook (.xls, BIFF); save it as .xlsx or "
                          "CSV", path=path)
    if is_excel(path):
        from neurotox.workbook import check_xlsx

        check_xlsx(path)
    reader = _REGISTRY.detect(path, not_this_layout=_not_this_layout)
    if reader is None and (what := not_a_table(path)) is not None:
        raise FormatError(f"{what}; expected a rodent-cognition export or scoring sheet",
                          path=path)
    if reader is None:
        for r in list_readers():
            if r.near_miss is not None and (lack := r.near_miss(path)):
                raise FormatError(f"not a recognised rodent-cognition file: {lack}",
                                  path=path)
        raise FormatError("not a recognised rodent-cognition file; expected one of "
                          f"{quoted(r.description for r in list_readers())}; found a first "
                          f"row of {quoted(_first_row(path), limit=12)}", path=path)
    return reader


def _first_row(path: Path) -> list[str]:
    """The non-empty cells of the file's first row, each cut to 40 characters (for a message)."""
    try:
        rows = raw_rows(path, max_rows=1)
    except (OSError, ValueError, zipfile.BadZipFile):
        return []
    return [str(c).strip()[:40] for c in (rows[0] if rows else []) if c is not None
            and str(c).strip()]


def _not_this_layout(exc: Exception) -> bool:
    """Whether a layout check's exception means only "not this layout".

    A bad cell or a NUL character (InputError) is wrong whatever the format.
    """
    if isinstance(exc, InputError):
        return isinstance(exc, FormatError)
    return isinstance(exc, (OSError, ValueError, KeyError, zipfile.BadZipFile))


#: Kinds whose table must hold at least one data row.
_NEEDS_ROWS = ("exploration", "trials", "entries", "zone_bins", "zone_samples")


def read_rodent(path: str | Path, *, fmt: str | None = None, **options: Any) -> RodentData:
    """Read a rodent-cognition input holding one trial, detecting its format unless ``fmt``.

    The detected format and, for text files, the guessed encoding and delimiter
    are appended to the returned ``notes``. A file of several trials (an
    EthoVision multi-arena workbook) is refused naming them: read it with
    :func:`read_rodent_trials`.
    """
    trials = read_rodent_trials(path, fmt=fmt, **options)
    if len(trials) > 1:
        raise FormatError(f"the file holds {len(trials)} trials "
                          f"({quoted(d.sheet for d in trials)}); read it with "
                          "read_rodent_trials", path=path)
    return trials[0]


def read_rodent_trials(path: str | Path, *, fmt: str | None = None, **options: Any
                       ) -> list[RodentData]:
    """Read a rodent-cognition input into its trials (one for most formats).

    As :func:`read_rodent`, for files that may hold several trials: an EthoVision
    XT multi-arena workbook gives one :class:`RodentData` per track sheet, each
    with the checks a one-trial file gets. The format note goes to the first
    trial's ``notes``.
    """
    path = Path(path)
    check_input(path)
    if fmt is None:
        reader, how = detect(path), "detected"
    else:
        reader, how = _REGISTRY.named(fmt), "given"
    _check_content(path)   # NUL characters, oversized HDF5: before the parser
    try:
        trials = reader.read_all(path, **options) if reader.read_all is not None \
            else [reader.read(path, **options)]
    except InputError:
        raise
    except (ValueError, KeyError, TypeError, IndexError, UnicodeError, OSError,
            zipfile.BadZipFile) as exc:
        # A variant of the layout the reader does not anticipate: say so in one line.
        raise FormatError(f"looks like {reader.name} but cannot be read: "
                          f"{' '.join(str(exc).split()) or type(exc).__name__}",
                          path=path) from None
    for data in trials:
        if data.kind in _NEEDS_ROWS and data.table is not None and data.table.empty:
            raise FormatError(f"{reader.name}: expected data rows below the header, found "
                              "none", path=path,
                              where=f"sheet {data.sheet!r}" if data.sheet else None)
    dialect = text_dialect(path)
    trials[0].notes.append(f"{path.name}: format {reader.name} ({how})"
                           + (f"; read as text: {dialect}" if dialect else ""))
    return trials


# ------------------------------------------------------------------ helpers

def _check_content(path: Path) -> None:
    """NUL characters in text, oversized HDF5 datasets: refused before any parser runs."""
    head = _head(path)
    if head.startswith(b"\x89HDF"):
        check_hdf5(path)
    elif not is_excel(path) and not _binary(head):
        lines = sniff_lines(path, 1)
        scan_text(path, text_encoding(path), sep=guess_delimiter(lines[0]) if lines else None)


def _head(path: Path) -> bytes:
    with open(path, "rb") as f:
        return f.read(8192)


def _binary(head: bytes) -> bool:
    return head.startswith((b"PK\x03\x04", b"\x89HDF", b"\xd0\xcf\x11\xe0"))


def text_encoding(path: Path) -> str:
    """Encoding of a text file (see :func:`neurotox.io.text.guess_encoding`)."""
    return guess_encoding(_head(path))


def text_dialect(path: Path) -> str | None:
    """``'encoding utf-8, delimiter ','`` for text tables; None for workbooks and HDF5."""
    if is_excel(path) or _binary(_head(path)):
        return None
    lines = sniff_lines(path, 200)
    sep = guess_delimiter(lines[0]) if lines else ","
    comma = sep != "," and any(looks_like_decimal_comma(c.strip().strip('"'))
                               for line in lines[1:] for c in line.split(sep))
    return (f"encoding {text_encoding(path)}, delimiter {delimiter_name(sep)}"
            + (", decimal commas read as decimal points" if comma else ""))


def sniff_lines(path: Path, n: int = 5) -> list[str]:
    """First ``n`` lines of a text file ('' list for binary or undecodable files)."""
    head = _head(path)
    if _binary(head):
        return []
    text = head.decode(text_encoding(path), errors="replace").lstrip("\ufeff")
    return text.splitlines()[:n]


def header_cells(path: Path) -> list[str]:
    """Normalised cells of the first line of a CSV file (lower case, stripped)."""
    lines = sniff_lines(path, 1)
    if not lines:
        return []
    sep = guess_delimiter(lines[0])
    return [c.strip().strip('"').strip().lower() for c in lines[0].split(sep)]


def is_excel(path: Path) -> bool:
    """True for xlsx/xlsm workbooks: from the bytes (a zip), whatever the name says."""
    return container(path) == "xlsx"


def read_sheet(path: Path, *, skiprows: int = 0) -> pd.DataFrame:
    """Read a CSV or a workbook's table sheet as strings, columns stripped.

    ``skiprows``: rows above the header (a title block); the index then counts
    from it, so that ``index + 2`` is the row number in the file.

    Workbooks: the first visible sheet holding values (:func:`neurotox.workbook.data_sheet`).

    Text files: encoding from the BOM (UTF-8, UTF-16) else UTF-8/cp1252, delimiter
    the most frequent of ``,``, ``;`` and tab in the header line (see
    :func:`text_dialect`); a data line with fewer cells than the header
    (a truncated file) is an error.
    """
    try:
        if is_excel(path):
            from neurotox.workbook import data_sheet, read_excel

            df = read_excel(path, data_sheet(path) or 0, dtype=str, keep_default_na=False,
                            skiprows=skiprows or None)
        else:
            text, encoding = decode(path.read_bytes(), path)
            lines = text.splitlines()
            sep = guess_delimiter(lines[min(skiprows, len(lines) - 1)]) if lines else ","
            check_nul(text, path, sep=sep)
            check_row_lengths(text, sep, path, skiprows=skiprows)
            df = read_table(path, text=text, encoding=encoding, sep=sep, skiprows=skiprows).data
    except (ValueError, OSError, UnicodeError, pd.errors.ParserError,
            zipfile.BadZipFile) as exc:
        if isinstance(exc, InputError):
            raise
        raise FormatError(f"cannot read as a table: {' '.join(str(exc).split())}",
                          path=path) from None
    df.columns = [str(c).strip() for c in df.columns]
    df.index = pd.RangeIndex(skiprows, skiprows + len(df))
    check_distinct_columns(list(df.columns), [_column_key(c) for c in df.columns], path)
    return df.apply(lambda s: s.astype(str).str.strip())


def _column_key(name: str) -> str:
    """Column name as :func:`find_column` compares it (case, spaces, '_' and '-' folded)."""
    return re.sub(r"[\s_\-]+", "_", name.lower()).strip("_")


#: Subject (animal) column names, as :func:`column_key` gives them: one list for every
#: rodent sheet (NOR, T-maze, arm entries, keys and hand-scored maze sheets).
SUBJECT_ALIASES = ("subject", "subject_id", "subject_no", "animal", "animal_id", "animal_no",
                   "ratid", "rat", "rat_id", "mouse", "mouse_id", "mouseid", "id")


def column_key(name: str) -> str:
    """Loose column key: lower case, every run of non-alphanumerics one ``_``.

    ``Subject #`` → ``subject``, ``Animal ID`` → ``animal_id``, ``Latency (s)`` →
    ``latency_s``.
    """
    return re.sub(r"[^0-9a-z]+", "_", str(name).lower()).strip("_")


def find_column(df: pd.DataFrame, aliases: tuple[str, ...], *, path: Path,
                required: bool = True) -> str | None:
    """The first column whose normalised name is one of ``aliases``.

    Names are compared as :func:`_column_key` folds them, then as :func:`column_key`
    does (punctuation such as ``#`` or brackets ignored).
    """
    norm = {_column_key(c): c for c in df.columns}
    loose = {}
    for c in df.columns:
        loose.setdefault(column_key(c), c)
    for a in aliases:
        if a in norm:
            return norm[a]
        if a in loose:
            return loose[a]
    if required:
        raise FormatError(f"expected a column named one of {quoted(aliases)}, found "
                          f"{quoted(df.columns)}", path=path)
    return None


def to_float(values: pd.Series, *, path: Path, column: str,
             nonnegative: bool = False) -> pd.Series:
    """Numbers from strings; '', '-', 'NA' → NaN; FormatError naming the first bad cell.

    Infinite numbers (``inf``, ``1e309``) are errors; with ``nonnegative``, negative
    numbers (times, counts) too.
    """
    s = values.astype(str).str.strip()
    blank = s.str.lower().isin(["", "-", "na", "nan", "none"])
    num = pd.to_numeric(s.where(~blank), errors="coerce")
    bad = (num.isna() & ~blank) | (num.notna() & ~np.isfinite(num.astype(float)))
    expected = "a number"
    if nonnegative:
        bad |= num.notna() & (num < 0)
        expected = "a finite number >= 0"
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        label = values.index[i]
        row = int(label) + 2 if isinstance(label, int | np.integer) else i + 2
        raise FormatError(f"expected {expected}, found {s.iloc[i]!r}", path=path,
                          where=f"row {row}, column {column!r}")
    return num.astype(float)


def side_of(label: str) -> str | None:
    """``L``/``R`` for labels naming a side (``Left``, ``round object left``, ``R``)."""
    text = re.sub(r"[_\-.]+", " ", str(label)).strip().lower()
    if text in {"l", "left"} or re.search(r"\bleft\b", text):
        return "L"
    if text in {"r", "right"} or re.search(r"\bright\b", text):
        return "R"
    return None


def phase_of(label: str, phase_map: dict[str, str] | None = None) -> str | None:
    """``training``/``test`` for a phase label (case-insensitive), None if unknown.

    ``phase_map`` (label → ``training``, ``test`` or ``ignore``) comes first; a
    label ``<alias> phase`` (``Sample phase``, ``Test phase``) is its alias.
    ``ignore`` (:data:`IGNORE_PHASE`) is returned as is: the caller leaves the row out.
    """
    mapping = {**PHASE_ALIASES, **{" ".join(k.split()).lower(): v
                                   for k, v in (phase_map or {}).items()}}
    text = " ".join(str(label).split()).lower()
    return mapping.get(text) or mapping.get(re.sub(r"\s+phase$", "", text))


def yaml_key(label: object) -> str:
    """A label as a key of a ``--param`` YAML mapping, quoted when it must be.

    YAML would not read ``1``, ``yes`` or ``a: b`` back as this text.
    """
    text = str(label).strip()
    plain = re.fullmatch(r"[A-Za-z_][\w .()-]*", text) and text.lower() not in {
        "yes", "no", "on", "off", "true", "false", "null", "y", "n"}
    return text if plain else "'" + text.replace("'", "''") + "'"


def phase_hint(label: str) -> str:
    """How to map an unknown phase label: the ``phase_map`` parameter, spelled out."""
    words = re.findall(r"[a-z0-9]+", str(label).lower())
    guess = next((PHASE_ALIASES[w] for w in words if w in PHASE_ALIASES), "training")
    other = "test" if guess == "training" else "training"
    return (f"map it with --param \"phase_map={{{yaml_key(label)}: {guess}}}\" (or {other}; ignore "
            "leaves the stage out)")


def raw_rows(path: Path, max_rows: int | None = None, *, sheet: str | None = None
             ) -> list[list[Any]]:
    """Rows of a csv/txt file or of a workbook's table sheet, cells as read (banner rows too).

    With ``max_rows`` (sniffing a format), at most that many rows from the first
    64 kB, cut at a NUL character; a full read refuses NUL characters. ``sheet``
    names the worksheet (default: :func:`neurotox.workbook.data_sheet`; when
    sniffing, the first of :func:`neurotox.workbook.table_sheets`).
    """
    if is_excel(path):
        from neurotox.workbook import data_sheet, sheet_rows, table_sheets

        if sheet is None:   # sniffing looks at the first sheet of a table kept on several
            sheet = (table_sheets(path) or [None])[0] if max_rows else data_sheet(path)
        name = sheet
        if name is None:
            return []
        return [list(r) for r in sheet_rows(path, max_rows=max_rows, sheets=[name])[name]]
    with open(path, "rb") as f:
        raw = f.read() if max_rows is None else f.read(65536)
    text = raw.decode(text_encoding(path), errors="replace" if max_rows else "strict")
    text = text.lstrip("\ufeff")
    if max_rows:   # sniffing: the rows before a NUL (the full read names it)
        text = text.split("\x00", 1)[0]
    lines = text.splitlines()[:max_rows] if max_rows else text.splitlines()
    sep = guess_delimiter("\n".join(lines[:30]))
    check_text(text, path, sep=sep)
    return [[c.strip() for c in row] for row in csv.reader(io.StringIO("\n".join(lines)),
                                                            delimiter=sep)]


def identity(found: str | None, given: str | None, path: Path, what: str) -> tuple[str, str]:
    """(subject, how it was obtained) from the file, the caller, or the file name."""
    if given is not None:
        note = f"{what} {given!r} given by the protocol's file_subjects" + (
            f" (the file says {found!r})" if found and found != given else "")
        return given, note
    if found:
        return found, f"{what} {found!r} read from the file"
    return path.stem, (f"{what} {path.stem!r} taken from the file name (the export has no "
                       f"{what} field; set file_subjects in the protocol to override)")


def frame(rows: list[dict[str, Any]], columns: tuple[str, ...]) -> pd.DataFrame:
    """A DataFrame with exactly ``columns`` (empty when there are no rows)."""
    return pd.DataFrame(rows, columns=list(columns))
