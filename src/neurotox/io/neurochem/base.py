"""Reader registry, value parsing and the tidy structure every plate-assay reader returns.

Readers of multiplex-bead and ELISA plate-reader exports (Luminex xPONENT,
Bio-Rad Bio-Plex Manager, BioTek/Agilent Gen5, a plain plate table) register
under a format name with a cheap ``match`` and a ``read``; :func:`read_export`
detects the format through the registry.

Output contract
---------------
:class:`PlateExport.wells` has one row per well (or per replicate group, when
the vendor exported group means) and analyte, with the columns
:data:`WELL_COLUMNS`:

``plate``
    Plate or batch name.
``analyte``
    Analyte name as the export spells it (``IL6``, ``Hu IL-6 (19)``).
``well``
    ``A01``; several wells joined by ``,`` for a replicate-group row.
``sample``
    Sample ID or description as in the export.
``type``
    ``standard``, ``blank``, ``control`` or ``sample``.
``level``
    Standard or control name (``Standard5``, ``S3``, ``STD2``, ``Control1``); empty
    for samples and blanks.
``expected``
    Expected concentration of a standard or control in the export's unit (NaN
    otherwise).
``dilution``
    Dilution factor of the sample, >= 1 (see :func:`resolve_dilutions`: fractions
    below 1 are read as 1:N; empty only when no sample of the file has one).
``signal``
    The signal the vendor fits the curve on: Net MFI (xPONENT), FI − Bkgd
    (Bio-Plex), the blank-corrected OD or the kinetic mean rate (Gen5), or the
    plain table's signal column.
``raw``
    The uncorrected signal (Median MFI, FI, OD); NaN when not exported.
``replicates``
    Wells behind the row (1 for per-well data).
``count``
    Bead count (NaN when not exported).
``vendor_value``
    The vendor's concentration; for a censored string (``< 0.105``, ``OOR >``)
    its bound (NaN when the string gives none).
``vendor_censoring``
    ``none``, ``left`` or ``right``.
``vendor_flag``
    The vendor's own marker, verbatim: ``*``, ``OOR <``, ``OOR >``, ``---``,
    ``***``, ``Extrapolated``, ``?????``, ``OVRFLW``, ``MISSED``, ``#Sat``, ``Range?``,
    ``Masked``; empty when none. A read beyond the
    reader's range is marked with one of :data:`SATURATED` (its ``signal`` is NaN).
``vendor_excluded``
    The vendor designated the value an outlier (``---``, Outlier = 1).
``source``
    File and line, or sheet and row, the row came from.

:class:`VendorCurve` holds the curve the vendor printed or exported per
analyte; ``controls`` the expected ranges of controls.
"""

from __future__ import annotations

import csv
import functools
import io
import math
import re
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from neurotox.errors import FormatError, InputError, quoted
from neurotox.files import check_frame_magnitudes, check_text
from neurotox.io.registry import Registry
from neurotox.io.text import not_a_table
from neurotox.io.zebrafish.base import Source as ZebrafishSource

WELL_COLUMNS = ("plate", "analyte", "well", "sample", "type", "level", "expected", "dilution",
                "signal", "raw", "replicates", "count", "vendor_value", "vendor_censoring",
                "vendor_flag", "vendor_excluded", "source")
CONTROL_COLUMNS = ("analyte", "level", "expected", "low", "high")
WELL_TYPES = ("standard", "blank", "control", "sample")
#: Vendor markers of a read beyond the reader's range (the signal is higher than any
#: number the reader gives): the sample lies at the high-signal end of the curve.
#: Gen5 prints ``OVRFLW``, SoftMax Pro ``#Sat``.
SATURATED = frozenset({"OVRFLW", "#Sat"})


def marker_note(head: str, marker: str, *, masked: bool = False) -> str:
    """The note on wells a vendor's marker left without a signal number.

    ``head`` names the file, plate, grid, wells and the marker with its meaning.
    A saturated read (:data:`SATURATED`) is censored through its sample; a masked
    well (the user's own exclusion) is a note; any other is a warning.
    """
    if marker in SATURATED:
        return (f"warning: {head}: no number; left out of the curve, and a sample with a "
                "saturated well is censored at the high-signal end of the range (recorded in "
                "neurochem_wells)")
    if masked:
        return (f"{head}: left out of the curve and of their sample's mean, as masked "
                "(recorded in neurochem_wells)")
    return (f"warning: {head}: no signal, left out of the curve and of their sample's mean "
            "(recorded in neurochem_wells)")



@dataclass(frozen=True)
class VendorCurve:
    """A standard curve as the vendor printed or exported it.

    Attributes
    ----------
    model
        ``5pl``, ``4pl``, ``linear`` or ``other`` (printed but not recognised).
    params
        Coefficients by the vendor's letters (``A``…``F``/``E``/``G``).
    form
        ``logistic`` (``A + (B - A)/(1 + (x/C)^D)^F``), ``gen5`` (``(A - D)/(1 +
        (X/C)^B) + D``), ``linear-ax+b`` (Gen5 ``Y = A*X + B``) or ``text``.
    r2
        Coefficient of determination the vendor reported (NaN when none).
    text
        The equation or model name as printed.

    """

    model: str
    params: dict[str, float]
    form: str
    r2: float = math.nan
    text: str = ""


@dataclass
class PlateExport:
    """What a plate-assay reader returns.

    Attributes
    ----------
    format
        Registry name of the reader.
    path
        File read.
    wells
        Tidy table with :data:`WELL_COLUMNS` (see the module docstring).
    curves
        Vendor curve per analyte (may be empty).
    units
        Concentration unit per analyte as exported (``pg/mL``); missing when the
        export gives none.
    controls
        Expected concentration and acceptance range of controls
        (:data:`CONTROL_COLUMNS`); empty when the export gives none.
    notes
        Decisions and repairs made while reading (named quirks of the vendor).
    meta
        Instrument, software and batch fields found in the header.

    """

    format: str
    path: Path
    wells: pd.DataFrame
    curves: dict[str, VendorCurve] = field(default_factory=dict)
    units: dict[str, str] = field(default_factory=dict)
    controls: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(
        columns=list(CONTROL_COLUMNS)))
    notes: list[str] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def analytes(self) -> list[str]:
        """Analytes in export order."""
        return list(dict.fromkeys(self.wells["analyte"]))


# ------------------------------------------------------------------ sniffing

class Source(ZebrafishSource):
    """A file opened for sniffing (see :class:`neurotox.io.zebrafish.base.Source`).

    Adds the whole decoded text and the sheets of a workbook, read once.
    """

    def text(self) -> str:
        """The whole file decoded (text files only); NUL and absurd numbers refused."""
        return self._text

    @cached_property
    def _text(self) -> str:
        """:meth:`text`, read and checked once (the sniffer and the reader both ask)."""
        try:
            text = self.path.read_bytes().decode(self.encoding).lstrip("\ufeff")
        except UnicodeDecodeError as exc:
            raise FormatError(f"cannot decode as {self.encoding} text (byte {exc.start})",
                              path=self.path) from None
        check_text(text, self.path, sep=self.delimiter)
        return text

    @cached_property
    def workbook(self) -> dict[str, pd.DataFrame]:
        """Every sheet as a frame of raw cells (workbooks only; read once)."""
        return read_workbook(self.path, self.container)


#: Text exports that labs also keep as workbooks (the software's "Export to Excel", or
#: the text file opened and saved as xlsx): the first sheet holds the text's cells.
TEXT_EXPORTS = ("xponent", "gen5", "softmax")


class SheetText(Source):
    """The first sheet of a workbook seen as the lines of a text export.

    One row per line, its cells (as :func:`cell_text` writes them: ``2000``,
    ``666.67``) joined by tabs up to the last non-empty one, so the text reader
    reads it as it reads the exported text. ``others`` names the sheets not read.
    """

    def __init__(self, book: Source):
        super().__init__(book.path)
        (name, frame), *rest = book.workbook.items()
        buf = io.StringIO()
        writer = csv.writer(buf, delimiter="\t", lineterminator="\n")
        for row in frame.itertuples(index=False):
            cells = [" ".join(cell_text(c).splitlines()) for c in row]
            writer.writerow(cells[:max((i + 1 for i, c in enumerate(cells) if c), default=0)])
        text = buf.getvalue()
        self.sheet = str(name)
        self.others = [str(n) for n, f in rest if f.notna().to_numpy().any()]
        self.__dict__.update(container="text", encoding="utf-8", _text=text, delimiter="\t",
                             lines=text.splitlines()[:60])

    def note(self, reader: str) -> str:
        """Run note naming the sheet read (a warning when other sheets hold cells)."""
        said = (f"{self.path.name}: sheet {self.sheet!r} read as the lines of the {reader} "
                "text export it holds (cells joined by tabs)")
        if not self.others:
            return said
        return (f"warning: {said}; sheet(s) {quoted(self.others)} not read: give each as "
                "its own file (the text export, or one sheet per workbook)")


def read_workbook(path: Path, container: str) -> dict[str, pd.DataFrame]:
    """Every sheet of an xls/xlsx workbook as a frame of raw cells (no header).

    xlsx goes through :func:`neurotox.workbook.read_excel` (bounded unpacking,
    stray far cells and formula cells without a value named).
    """
    if container != "xls":
        from neurotox.workbook import read_excel

        return read_excel(path, sheet_name=None, header=None, dtype=object)
    try:
        book = pd.read_excel(path, sheet_name=None, header=None, dtype=object, engine="xlrd")
    except Exception as exc:  # the engines raise many types on damaged files
        if isinstance(exc, MemoryError):
            raise
        raise FormatError(f"cannot open as an {container} workbook: "
                          f"{' '.join(str(exc).split()) or type(exc).__name__}",
                          path=path) from None
    check_frame_magnitudes(book, path, first_row=1)
    return book


# ------------------------------------------------------------------ values

_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
_THOUSANDS = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$")
_CENSORED = re.compile(r"^(OOR\s*)?([<>])\s*([+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?)?$",
                       re.IGNORECASE)
_MISSING = {"", "nan", "n/a", "na", "none", "***", "?????", "---", "-", "#n/a"}


@dataclass(frozen=True)
class Parsed:
    """A vendor cell read as a value: number, censoring, flag."""

    value: float
    censoring: str = "none"
    flag: str = ""


def cell_text(c: object) -> str:
    """A cell as stripped text; '' for empty and NaN cells."""
    if c is None or (isinstance(c, float) and math.isnan(c)):
        return ""
    if isinstance(c, float) and c.is_integer() and abs(c) < 1e15:
        return str(int(c))
    return str(c).strip()


def parse_value(cell: object) -> Parsed:
    """Read a vendor concentration or signal cell.

    Numbers are numbers (a thousands separator ``1,303.5`` is accepted);
    ``< 0.105``, ``<0.105``, ``OOR <`` are left-censored, ``> 3450``, ``OOR >``
    right-censored with the printed bound (NaN when none is printed); ``*1.55``
    is 1.55 flagged ``*`` (extrapolated); ``---``, ``***``, ``?????``, ``NaN``,
    ``N/A`` and empty cells are missing with the text as flag.

    Raises
    ------
    ValueError
        Text that is none of these.

    """
    if isinstance(cell, int | float | np.integer | np.floating) and not isinstance(cell, bool):
        v = float(cell)
        return Parsed(v) if math.isfinite(v) else Parsed(math.nan, flag="" if v != v else "inf")
    text = cell_text(cell)
    if text.lower() in _MISSING:
        return Parsed(math.nan, flag=text if text.lower() not in {"", "nan", "none"} else "")
    flag = ""
    if text.startswith("*") and len(text) > 1:
        flag, text = "*", text[1:].strip()
    if _NUMBER.match(text):
        return Parsed(float(text), flag=flag)
    if _THOUSANDS.match(text):
        return Parsed(float(text.replace(",", "")), flag=flag)
    m = _CENSORED.match(text)
    if m:
        bound = float(m.group(3)) if m.group(3) else math.nan
        return Parsed(bound, "left" if m.group(2) == "<" else "right", cell_text(cell))
    raise ValueError(f"expected a number or a vendor marker, found {cell_text(cell)!r}")


def number(cell: object, *, path: Path, where: str, allow_missing: bool = True) -> float:
    """A plain number from a cell; FormatError naming the place otherwise."""
    try:
        p = parse_value(cell)
    except ValueError as exc:
        raise FormatError(str(exc), path=path, where=where) from None
    if p.censoring != "none" or p.flag == "*":
        raise FormatError(f"expected a number, found {cell_text(cell)!r}", path=path,
                          where=where)
    if not allow_missing and not math.isfinite(p.value):
        raise FormatError(f"expected a number, found {cell_text(cell) or 'an empty cell'!r}",
                          path=path, where=where)
    return p.value


_WELL = re.compile(r"^\s*([A-Pa-p])\s*0*(\d{1,2})\s*$")


def normalise_well(text: str) -> str | None:
    """``A01`` for ``A1``/``a01``; None when not a well of a 96/384 plate."""
    m = _WELL.match(str(text))
    if not m or not 1 <= int(m.group(2)) <= 24:
        return None
    return f"{m.group(1).upper()}{int(m.group(2)):02d}"


def normalise_wells(text: str, *, path: Path, where: str) -> str:
    """``A01,A02`` for ``A1,A2`` (Bio-Plex replicate groups); FormatError otherwise."""
    parts = [p for p in re.split(r"[,;\s]+", str(text).strip()) if p]
    wells = [normalise_well(p) for p in parts]
    if not wells or any(w is None for w in wells):
        raise FormatError(f"expected well names like 'A1' or 'A1,A2', found {text!r}",
                          path=path, where=where)
    return ",".join(wells)


# ------------------------------------------------------------------ standard series

def check_series(levels: Sequence[str], values: Sequence[float], *, what: str,
                 path: Path) -> tuple[list[float], list[str]]:
    """Check an expected-concentration series in level order; repair decimal damage.

    Parameters
    ----------
    levels
        Level names in dilution order (``Standard1`` … ``Standard16``).
    values
        Expected concentrations in the same order.
    what
        Analyte (and plate) named in notes and errors.
    path
        Export named in errors.

    Returns
    -------
    values, repairs
        The series with repaired values, and one ``"<what> <level> <old> → <new>"``
        per repair (see :func:`repair_note`).

    Raises
    ------
    FormatError
        The series is not monotone and cannot be repaired.

    Notes
    -----
    A serial dilution is monotone with a constant fold. When most neighbours
    share one fold, a value off the series is repaired if the value times a
    power of ten (a lost decimal point or a thousands separator read as a
    decimal) equals the one the series predicts to 1e-6 relative; every repair
    is noted. A series that is still not monotone is an error: a damaged
    standard is never used silently. (A damaged value that keeps a series
    without a constant fold monotone cannot be recognised.)

    """
    v = np.array(values, dtype=float)
    ok = np.isfinite(v) & (v > 0)
    if ok.sum() < 3:
        return list(v), []
    fold = _fold(v, ok)
    notes = []
    if fold is not None:
        anchor = _anchor(v, ok, fold)
        for i in np.flatnonzero(ok):
            predicted = v[anchor] * fold ** (i - anchor)
            if math.isclose(v[i], predicted, rel_tol=1e-6):
                continue
            k = round(math.log10(predicted / v[i]))
            if k != 0 and math.isclose(v[i] * 10.0 ** k, predicted, rel_tol=1e-6):
                notes.append(f"{what} {levels[i]} {v[i]:.10g} → {v[i] * 10.0 ** k:.10g}")
                v[i] = v[i] * 10.0 ** k
    if not _monotone(v[ok]):
        shown = ", ".join(f"{lv}={x:g}" for lv, x in zip(levels, values, strict=True))
        raise FormatError(f"{what}: expected concentrations of the standards are not "
                          f"monotone and cannot be repaired ({shown}); correct the export",
                          path=path)
    return list(v), notes


def repair_note(path: Path, repairs: list[str]) -> list[str]:
    """One note for every repair :func:`check_series` made in a file.

    A repair changes a value read from the raw export, so the note is a warning
    (an error under ``--warnings-as-errors``) and a deviation of the run
    (``DEVIATION``, listed with the guideline deviations) with the count.
    """
    if not repairs:
        return []
    return [f"warning: DEVIATION {path.name}: raw values changed: {len(repairs)} expected "
            f"concentration(s) of standards whose decimal point or thousands separator was "
            f"lost, repaired from the constant-fold dilution series: " + "; ".join(repairs)]


def _monotone(v: np.ndarray) -> bool:
    d = np.diff(v)
    return bool(np.all(d < 0) or np.all(d > 0))


def _fold(v: np.ndarray, ok: np.ndarray) -> float | None:
    """The series' constant ratio between neighbours, when most neighbours share it."""
    idx = np.flatnonzero(ok)
    ratios = [v[j] / v[i] for i, j in zip(idx[:-1], idx[1:], strict=True) if j == i + 1]
    if len(ratios) < 2:
        return None
    fold = float(np.median(ratios))
    agree = sum(math.isclose(r, fold, rel_tol=1e-6) for r in ratios)
    return fold if agree >= max(2, len(ratios) // 2) else None


def _anchor(v: np.ndarray, ok: np.ndarray, fold: float) -> int:
    """Index of a value whose neighbour agrees with the fold (a trustworthy anchor)."""
    for i in np.flatnonzero(ok)[:-1]:
        if ok[i + 1] and math.isclose(v[i + 1] / v[i], fold, rel_tol=1e-6):
            return int(i)
    return int(np.flatnonzero(ok)[0])


# ------------------------------------------------------------------ registry

@dataclass(frozen=True)
class Reader:
    """A registered export format.

    Attributes
    ----------
    name
        Format name (``xponent``, ``bioplex``, ``gen5``, ``plate-table``).
    description
        What the layout looks like; listed when no reader matches.
    match
        ``match(source) -> bool``: cheap check of the first lines or the container.
    read
        ``read(source, **options) -> PlateExport``.

    """

    name: str
    description: str
    match: Callable[[Source], bool]
    read: Callable[..., PlateExport]


_REGISTRY: Registry[Reader] = Registry("plate-assay export")
#: Add a format to the registry (detection order = registration order).
register_reader = _REGISTRY.register
#: Registered formats in detection order.
list_formats = _REGISTRY.readers


def detect_format(path: str | Path) -> Reader:
    """The reader whose layout check accepts ``path``; FormatError listing them otherwise."""
    return _detect(Source(path))[0]


def _detect(src: Source) -> tuple[Reader, Source]:
    """Reader and the source it reads: a workbook's first sheet as text for :data:`TEXT_EXPORTS`."""
    reader = _REGISTRY.detect(src)
    if reader is None and src.container in ("xlsx", "xls"):
        view = SheetText(src)
        found = _REGISTRY.detect(view)
        if found is not None and found.name in TEXT_EXPORTS:
            return found, view
    if reader is None and (what := not_a_table(src.path)) is not None:
        raise FormatError(f"{what}; expected a plate-reader or multiplex export",
                          path=src.path)
    if reader is None:
        raise FormatError(f"unknown plate-assay export layout. Expected one of: "
                          f"{_REGISTRY.expected()}. Found: {src.describe()}", path=src.path)
    return reader, src


def read_export(path: str | Path, *, format: str | None = None, **options: Any) -> PlateExport:
    """Read a multiplex or ELISA export, detecting its format unless ``format`` is given.

    Parameters
    ----------
    path
        Export file.
    format
        Registry name; None to auto-detect.
    **options
        Passed to the reader (``analyte`` for single-analyte plain tables,
        ``signal`` for Gen5 …).

    Returns
    -------
    PlateExport
        Checked tidy wells; ``notes`` starts with the format and how it was chosen.

    Notes
    -----
    A workbook holding a text export (:data:`TEXT_EXPORTS`) in its first sheet is
    read as that text (:class:`SheetText`), and noted.

    """
    src = Source(path)
    if format is None:
        (reader, src), how = _detect(src), "detected"
    else:
        reader, how = _REGISTRY.named(format), "given"
        if (reader.name in TEXT_EXPORTS and src.container in ("xlsx", "xls")
                and not reader.match(src)):
            src = SheetText(src)
    if how == "given" and not reader.match(src):
        raise FormatError(f"not in the {reader.name} layout ({reader.description}); found: "
                          f"{src.describe()}", path=src.path)
    try:
        out = reader.read(src, **options)
    except InputError:
        raise
    except _UNEXPECTED as exc:
        raise FormatError(f"looks like {reader.name} but cannot be read: "
                          f"{' '.join(str(exc).split()) or type(exc).__name__}",
                          path=src.path) from None
    if not out.meta.get("needs_map"):
        check_wells(out)
    if isinstance(src, SheetText):
        out.notes.insert(0, src.note(reader.name))
    out.notes.insert(0, f"{src.path.name}: format {reader.name} ({how})")
    return out


_UNEXPECTED = (ValueError, KeyError, TypeError, IndexError, UnicodeError, OSError,
               zipfile.BadZipFile)


def format_errors(read: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap a reader taking a path first: unanticipated layouts become FormatError.

    An unanticipated variant of the layout becomes one
    :class:`~neurotox.errors.FormatError` naming the file, not a traceback.
    """

    @functools.wraps(read)
    def wrapper(path: str | Path, *args: Any, **kwargs: Any) -> Any:
        try:
            return read(path, *args, **kwargs)
        except InputError:
            raise
        except _UNEXPECTED as exc:
            raise FormatError(f"cannot be read: {' '.join(str(exc).split()) or type(exc).__name__}",
                              path=Path(path)) from None
    return wrapper


def wells_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """A wells table with exactly :data:`WELL_COLUMNS` and their dtypes."""
    df = pd.DataFrame(rows, columns=list(WELL_COLUMNS))
    for col in ("expected", "dilution", "signal", "raw", "count", "vendor_value"):
        df[col] = pd.to_numeric(df[col], errors="coerce").astype(float)
    df["replicates"] = df["replicates"].fillna(1).astype(int)
    df["vendor_excluded"] = df["vendor_excluded"].fillna(False).astype(bool)
    for col in ("plate", "analyte", "well", "sample", "type", "level", "vendor_censoring",
                "vendor_flag", "source"):
        df[col] = df[col].fillna("").astype(str)
    df.loc[df["vendor_censoring"] == "", "vendor_censoring"] = "none"
    return df


def check_wells(out: PlateExport) -> None:
    """Check the tidy wells of any reader and settle their dilutions.

    Dilutions follow :func:`resolve_dilutions` (one rule for every reader); the
    resolved factors replace the column and its notes are added to ``out.notes``.

    Raises
    ------
    FormatError
        No rows, an unknown well type, a standard without a positive finite expected
        concentration, one standard level with two expected concentrations, a sample
        without a dilution among samples with one, an infinite signal, or one well
        listed twice for one analyte.

    """
    w = out.wells
    if w.empty:
        raise FormatError(f"{out.format}: expected well rows, found none", path=out.path)

    def fail(mask: pd.Series, message: str, column: str) -> None:
        if mask.any():
            r = w[mask.to_numpy()].iloc[0]
            raise FormatError(f"{message}, found {shown(r[column])}", path=out.path,
                              where=f"{_place(r, out.path)} (analyte {r['analyte']!r}, "
                                    f"column {column!r})")

    fail(~w["type"].isin(WELL_TYPES), f"expected a well type among {quoted(WELL_TYPES)}",
         "type")
    std = w["type"] == "standard"
    fail(std & ~(np.isfinite(w["expected"]) & (w["expected"] >= 0)),
         "expected a standard concentration >= 0", "expected")
    check_levels(w, out.path)
    w["dilution"], notes = resolve_dilutions(w, out.path,
                                             missing_warning=out.meta.pop("dilution_warning", None))
    out.notes += notes
    fail(w["signal"].abs() == np.inf, "expected a finite signal", "signal")
    dup = w.duplicated(["plate", "analyte", "well"], keep="first") & (w["well"] != "")
    fail(dup, "expected each well once per analyte; this well appears again", "well")


# ------------------------------------------------------------------ dilutions and levels

def shown(value: object) -> str:
    """A cell value for a message: ``0``, ``2.5``, ``an empty cell`` (NaN), quoted text."""
    if isinstance(value, int | float | np.integer | np.floating) and not isinstance(value, bool):
        return f"{float(value):g}" if math.isfinite(value) or math.isinf(value) \
            else "an empty cell"
    return repr(value)


def _place(r: pd.Series, path: Path) -> str:
    """Where a wells row came from, without the file name the error already gives."""
    src = str(r.get("source", "")).removeprefix(path.name).strip(" ,") if r.get("source") \
        else ""
    return src or f"well {r['well']}"


def dilution_cell(cell: object, *, path: Path, where: str) -> float:
    """A dilution factor as written in an export cell; NaN for an empty cell.

    Raises
    ------
    FormatError
        Text that is not a number, or a number <= 0 (named with the cell's place).

    Notes
    -----
    The value is returned as written; :func:`resolve_dilutions` turns fractions
    into factors and settles empty cells for the whole file, one rule for every reader.

    """
    value = number(cell, path=path, where=f"{where}, column 'dilution'")
    if math.isfinite(value) and value <= 0:
        raise FormatError(f"expected a dilution factor > 0, found {value:g}", path=path,
                          where=f"{where}, column 'dilution'")
    return value


#: A dilution written at the end of a sample ID: ``S1 1:10``, ``S1_1/10``, ``S1 (x10)``,
#: ``S1 10x`` (the token set off by a space, ``_`` or a bracket).
_NAME_DILUTION = re.compile(
    r"^(?P<id>.*?[^\s_(\[])(?:[\s_]+|(?=[(\[]))[(\[]?\s*(?:1\s*[:/]\s*(?P<a>\d+(?:\.\d+)?)"
    r"|[x×]\s*(?P<b>\d+(?:\.\d+)?)|(?P<c>\d+(?:\.\d+)?)\s*[x×])\s*[)\]]?\s*$", re.I)


def name_dilution(sample: str) -> tuple[str, float] | None:
    """``(ID, factor)`` of a sample ID that ends in a dilution (``'S1 1:10'``), else None."""
    m = _NAME_DILUTION.match(str(sample))
    if not m:
        return None
    factor = float(m.group("a") or m.group("b") or m.group("c"))
    return (m.group("id"), factor) if factor >= 1 else None


def _dilutions_from_names(wells: pd.DataFrame, blank: np.ndarray, path: Path,
                          d: pd.Series) -> tuple[pd.Series, list[str]]:
    """Dilutions written in the IDs of samples that have none (noted; a warning if mixed)."""
    found = {s: f for s in wells.loc[blank, "sample"].astype(str).unique()
             if (f := (name_dilution(s) or (None, None))[1]) is not None}
    if not found:
        return d, []
    take = blank & wells["sample"].astype(str).isin(found).to_numpy()
    d = d.copy()
    d[take] = wells.loc[take, "sample"].astype(str).map(found).to_numpy(float)
    items = sorted(found.items())
    shown_ = ", ".join(f"{s!r} 1:{f:g}" for s, f in items[:4]) + (
        f" and {len(items) - 4} more" if len(items) > 4 else "")
    text = (f"{path.name}: no dilution column or value; the dilution written in "
            f"{len(found)} sample ID(s) is read: {shown_} (a sample-sheet dilution overrides)")
    rest = blank & ~take
    if rest.any():
        text = (f"warning: {text}; {len(set(wells.loc[rest, 'sample']))} other sample(s) "
                f"carry none and are taken as undiluted (1:1): "
                f"{quoted(sorted(set(wells.loc[rest, 'sample'].astype(str))), limit=4)}")
    return d, [text]


def resolve_dilutions(wells: pd.DataFrame, path: Path, *,
                      missing_warning: str | None = None) -> tuple[pd.Series, list[str]]:
    """Dilution factors of a wells (or layout) table, one rule for every neurochem reader.

    Parameters
    ----------
    wells
        Rows with ``type``, ``well``, ``sample``, ``dilution`` (as written, NaN when the
        cell is empty) and ``source``.
    path
        File named in errors and notes.
    missing_warning
        When no sample has a dilution, this text is added as a ``warning:`` note (the
        file should have had dilutions, e.g. an xPONENT export without its
        'Dilution Factor' block) instead of the plain note.

    Returns
    -------
    dilution, notes
        Factors >= 1 and the notes of the choices made.

    Raises
    ------
    FormatError
        A sample with an empty dilution while other samples of the file have one
        (naming the row/line and well), or a dilution that is not > 0.

    Notes
    -----
    The rule: a factor >= 1 is 1:N; a value between 0 and 1 is the fraction of
    sample in the well (Gen5's ``Conc/Dil`` convention, 0.25 = 1:4) and becomes
    1/value; standards, controls and blanks without a dilution are 1:1; samples
    without one are 1:1 only when no sample of the file has one (noted).

    """
    d = pd.to_numeric(wells["dilution"], errors="coerce").astype(float)
    smp = (wells["type"] == "sample").to_numpy()
    bad = np.isfinite(d) & (d <= 0)
    if bad.any():
        r = wells[bad.to_numpy()].iloc[0]
        raise FormatError(f"expected a dilution factor > 0, found {shown(d[bad].iloc[0])}",
                          path=path, where=f"{_place(r, path)}, column 'dilution'")
    blank = smp & ~np.isfinite(d).to_numpy()
    notes = []
    if blank.any() and (smp & ~blank).any():
        r = wells[blank].iloc[0]
        raise FormatError(f"sample {r['sample']!r} (well {r['well']}) has no dilution factor "
                          f"while {int((smp & ~blank).sum())} other sample well(s) have one; "
                          "fill it (1 for an undiluted sample)", path=path,
                          where=f"{_place(r, path)}, column 'dilution'")
    if blank.any():
        d, notes = _dilutions_from_names(wells, blank, path, d)
        blank = blank & ~np.isfinite(d).to_numpy()
    if blank.any() and not notes:
        text = (f"{path.name}: no dilution factor given for any sample; every sample taken "
                "as undiluted (1:1) unless the sample sheet gives a dilution")
        notes.append(f"warning: {text}; {missing_warning}" if missing_warning else text)
    frac = np.isfinite(d) & (d < 1)
    if frac.any():
        listed = sorted(set(wells.loc[frac.to_numpy(), "well"].astype(str)))
        more = f" and {len(listed) - 8} more" if len(listed) > 8 else ""
        notes.append(f"{path.name}: dilution values below 1 read as the fraction of sample in "
                     f"the well (0.25 = 1:4), wells {', '.join(listed[:8])}{more}")
    d = d.where(~frac, 1.0 / d).fillna(1.0)
    return d, notes


def check_levels(wells: pd.DataFrame, path: Path) -> None:
    """One expected concentration per standard level (per plate and analyte).

    Raises
    ------
    FormatError
        A level whose wells carry two different expected concentrations, naming the
        level and the two rows/lines.

    """
    std = wells[wells["type"] == "standard"]
    for (_, analyte, level), g in std.groupby(["plate", "analyte", "level"], sort=False):
        values = g["expected"].dropna()
        if values.nunique() > 1:
            a = g[g["expected"] == values.iloc[0]].iloc[0]
            b = g[g["expected"] != values.iloc[0]].iloc[0]
            what = f" of analyte {analyte!r}" if analyte else ""
            raise FormatError(f"standard level {level!r}{what} has two expected "
                              f"concentrations: {shown(a['expected'])} ({_place(a, path)}) and "
                              f"{shown(b['expected'])} ({_place(b, path)})", path=path)
