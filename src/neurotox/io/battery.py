"""Readers for the neurotoxicity screening battery sheets (csv or xlsx).

Every reader checks the file before parsing it and returns a tidy frame of the
sheet's content with a ``row`` column holding the spreadsheet row number
(header = row 1), so assay modules can name file, row and column in errors.
Readers check layout only (columns, numbers, identifiers); scoring against the
FOB catalogue or the neuropathology terminology happens in the assay modules.

Layouts
-------
FOB
    One row per animal × occasion, ``subject``, ``occasion`` and one column per
    item (trial columns ``grip_fore_1``, ``grip_fore_2`` ...).
Motor activity
    Long: ``subject``, ``session``, ``interval``, ``counts``; or wide: ``subject``,
    ``session`` and one column per interval (``int01``, ``bin_2``, ``0-10 min``).
    An optional ``total`` column (session total) must equal the sum of the intervals.
Auditory startle
    One row per trial: ``subject``, ``session``, ``block``, ``trial``,
    ``trial_type`` (``pulse``, ``prepulse``, ``no_stimulus``), ``prepulse_db``,
    ``amplitude``, ``latency``.
Organ weights
    ``subject``, ``body_weight``, ``brain_weight``, optional ``timepoint`` and
    morphometry columns.
Neuropathology findings
    One row per animal × tissue × lesion: ``subject``, ``tissue``, ``lesion``,
    ``grade``; animals examined without findings appear with lesion ``NAD``.
Developmental landmarks
    ``subject``, ``landmark``, ``age`` (postnatal day) and optional ``body_weight``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from neurotox.delimited import check_header_names, decode, read_table
from neurotox.errors import FormatError, InputError, did_you_mean, quoted
from neurotox.files import check_frame_magnitudes, check_input, read_bytes
from neurotox.io.header_units import Quantity, converted, unit_columns
from neurotox.io.intervals import IntervalHeaderError, parse_interval
from neurotox.io.output import note
from neurotox.io.text import (
    check_distinct_columns,
    check_not_encrypted,
    check_nul,
    check_row_lengths,
    container,
    guess_delimiter,
    not_a_table,
)

SheetReader = Callable[[Path, str | None], pd.DataFrame]
_READERS: dict[str, SheetReader] = {}


def register_reader(*containers: str) -> Callable[[SheetReader], SheetReader]:
    """Register a sheet reader for file containers (``text``, ``xlsx``, ``ole2``).

    The container is what :func:`neurotox.io.text.container` finds in the bytes,
    whatever the name says.
    """
    def deco(fn: SheetReader) -> SheetReader:
        for s in containers:
            _READERS[s] = fn
        return fn
    return deco


@register_reader("text")
def _read_text(path: Path, sheet: str | None) -> pd.DataFrame:
    raw = read_bytes(path)
    if not raw.strip():
        raise FormatError("file is empty", path=path)
    text, encoding = decode(raw, path)
    lines = [line for line in text.splitlines() if line.strip()]
    sep = "\t" if path.suffix.lower() == ".tsv" else guess_delimiter(lines[0] if lines else "")
    check_nul(text, path, sep=sep)
    check_row_lengths(text, sep, path)
    table = read_table(path, text=text, encoding=encoding, sep=sep)
    note(f"{path.name}: read as text: {table.describe()}")
    return table.data


def _holds_data(frame: pd.DataFrame) -> bool:
    return bool(len(frame.columns) and (frame.shape[0] or any(
        not str(c).startswith("Unnamed:") for c in frame.columns)))


def data_sheets(path: str | Path) -> list[str]:
    """The sheets of a workbook that hold a cell, in order (``[]`` for a text table).

    The first of them is the one :func:`read_sheet` reads when no sheet is named.
    """
    path = Path(path)
    check_input(path)   # a regular file within the size limit (never a FIFO)
    kind = container(path)
    if kind not in ("xlsx", "ole2"):
        return []
    book = _xlsx_book(path) if kind == "xlsx" else _xls_book(path)
    return [name for name, frame in book.items() if _holds_data(frame)]


def _first_sheet_with_data(book: dict[str, pd.DataFrame], path: Path) -> str:
    """The first sheet holding a cell (a workbook may open on an empty or notes sheet)."""
    for name, frame in book.items():
        if _holds_data(frame):
            if name != next(iter(book)):
                note(f"{path.name}: sheet {name!r} read (the sheets before it are empty)")
            return name
    raise FormatError(f"every sheet is empty ({quoted(book)})", path=path)


@register_reader("xlsx")
def _read_excel(path: Path, sheet: str | None) -> pd.DataFrame:
    return _pick_sheet(_xlsx_book(path), sheet, path)


def _xlsx_book(path: Path) -> dict[str, pd.DataFrame]:
    from neurotox.workbook import read_excel

    return read_excel(path, sheet_name=None, dtype=str, header_cells=True)


@register_reader("ole2")
def _read_xls(path: Path, sheet: str | None) -> pd.DataFrame:
    return _pick_sheet(_xls_book(path), sheet, path)


def _xls_book(path: Path) -> dict[str, pd.DataFrame]:
    check_not_encrypted(path)
    try:
        book = pd.read_excel(path, sheet_name=None, dtype=str, engine="xlrd")
    except Exception as exc:  # xlrd raises its own error types on damaged files
        if isinstance(exc, MemoryError):
            raise
        raise FormatError(f"cannot open as an xls (BIFF) workbook: "
                          f"{' '.join(str(exc).split()) or type(exc).__name__}",
                          path=path) from None
    check_frame_magnitudes(book, path)
    return book


def _pick_sheet(book: dict[str, pd.DataFrame], sheet: str | None, path: Path) -> pd.DataFrame:
    if sheet is None:
        sheet = _first_sheet_with_data(book, path)
    if sheet not in book:
        raise FormatError(f"expected sheet {sheet!r}, found {quoted(book)}", path=path)
    return _below_title_rows(book[sheet].fillna(""), path)


def _below_title_rows(df: pd.DataFrame, path: Path) -> pd.DataFrame:
    """The table under title rows (``attrs['header_row']``: the header's row number).

    A sheet whose first rows hold one cell each (a study title, often merged across
    the table) has its header on the first row with two or more cells.
    """
    header_row = 1
    names = [str(c) for c in df.columns]
    if sum(1 for c in names if c.strip() and not c.startswith("Unnamed:")) <= 1 < len(names):
        filled = (df.astype(str).apply(lambda s: s.str.strip()) != "").sum(axis=1)
        at = next((i for i, n in enumerate(filled.head(20)) if n >= 2), None)
        if at is not None:
            header_row = at + 2
            df = df.iloc[at + 1:].set_axis([str(c).strip() for c in df.iloc[at]], axis=1)
            note(f"{path.name}: header on row {header_row}, below {header_row - 1} title "
                 "row(s)")
    written = df.attrs.pop("header_cells", None)   # pandas renames a repeated name
    written = written if header_row == 1 else None
    check_header_names(written or list(df.columns), path, line=header_row)
    df.attrs["header_row"] = header_row
    return df


def read_sheet(path: str | Path, *, sheet: str | None = None) -> pd.DataFrame:
    """Read a csv/xlsx sheet as strings with a ``row`` column (spreadsheet row number).

    Column names are stripped and lower-cased with spaces replaced by ``_``,
    and common export spellings are renamed (:data:`ALIASES`: ``Animal ID`` →
    ``subject``, ``Severity`` → ``grade`` ...); cells are stripped; fully empty
    rows are dropped.

    Raises
    ------
    InputError
        File missing, unknown format, unreadable, or no data rows.

    """
    path = Path(path)
    check_input(path)   # a regular file within the size limit
    if (what := not_a_table(path)) is not None:
        raise FormatError(f"{what}; expected a CSV/TSV text table or an xlsx/xls workbook",
                          path=path)
    kind = container(path)
    reader = _READERS.get(kind)
    if reader is None:
        raise FormatError(f"expected a CSV/TSV text table or an xlsx/xls workbook, found a "
                          f"{kind} file", path=path)
    df = reader(path, sheet)
    header_row = df.attrs.get("header_row", 1)
    header = list(df.columns)
    df.columns = [_column_name(c) for c in df.columns]
    df = _apply_aliases(df)
    check_distinct_columns(header, list(df.columns), path)
    df = df.astype(str).apply(lambda s: s.str.strip())
    df["row"] = np.arange(len(df)) + header_row + 1
    df = df[(df.drop(columns="row") != "").any(axis=1)].reset_index(drop=True)
    if df.empty:
        raise InputError("sheet has no data rows", path=path)
    df.attrs["path"] = str(path)
    df.attrs["header_row"] = int(header_row)
    df.attrs["headers"] = {c: str(h).strip() for c, h in zip(df.columns, header, strict=False)}
    return df


def _column_name(c: object) -> str:
    return "_".join(str(c).strip().lower().replace(".", " ").split())


#: Header spellings of instrument and LIMS exports → the reader's column names.
ALIASES = {"animal": "subject", "animal_id": "subject", "animal_no": "subject",
           "subject_id": "subject", "rat": "subject", "organ": "tissue",
           "finding": "lesion", "diagnosis": "lesion", "severity": "grade",
           "severity_grade": "grade", "day": "age", "pnd": "age", "bw": "body_weight",
           "body_weight_g": "body_weight", "brain_weight_g": "brain_weight"}


def _apply_aliases(df: pd.DataFrame) -> pd.DataFrame:
    renames = {c: ALIASES[c] for c in df.columns
               if c in ALIASES and ALIASES[c] not in df.columns}
    return df.rename(columns=renames)


def require_columns(df: pd.DataFrame, required: Iterable[str], *, what: str) -> None:
    """Raise FormatError naming the missing columns and the ones found."""
    missing = [c for c in required if c not in df.columns]
    if missing:
        found = [c for c in df.columns if c != "row"]
        raise FormatError(f"expected {what} column(s) {quoted(missing)}, found {quoted(found)}",
                          path=df.attrs.get("path"))


#: Columns any battery sheet may carry beside its data (never read): who, when, remarks.
NOTE_COLUMNS = ("group", "sex", "cohort", "litter", "observer", "date", "time", "comment",
                "comments", "notes", "remark", "remarks")


def header_of(df: pd.DataFrame, column: str) -> str:
    """A column's header as the file writes it (``'0–10 min'`` for ``0–10_min``)."""
    return df.attrs.get("headers", {}).get(column, column)


def refuse_unknown_columns(df: pd.DataFrame, columns: Iterable[str], *, known: Iterable[str],
                           what: str, ignore: Iterable[str] = ()) -> None:
    """Raise InputError at the first of ``columns`` that the reader does not know.

    A column the reader would not read must not be dropped silently: a misspelt
    header (``latncy``) or an interval the reader cannot parse would change the
    results without a word. :data:`NOTE_COLUMNS` and ``ignore`` are allowed.
    """
    known = sorted(set(known))
    allowed = set(known) | set(NOTE_COLUMNS) | set(ignore) | {"row"}
    for c in columns:
        if c not in allowed:
            head = header_of(df, c)
            hint = did_you_mean(c, [*known, *NOTE_COLUMNS])
            raise InputError(f"unknown {what} column {head!r}{hint}; "
                             f"expected {quoted(known)} (or list it in the parameter "
                             "'ignore_columns')", path=df.attrs.get("path"),
                             where=f"row {df.attrs.get('header_row', 1)}, column {head!r}")


def where(df: pd.DataFrame, i: int, column: str) -> str:
    """Location string ``row N, column 'c'`` of the i-th data row."""
    return f"row {int(df['row'].iloc[i])}, column {column!r}"


_COMMA_IN_NUMBER = re.compile(r"^[+-]?\d[\d.]*,[\d.,]*\d$")


def parse_numbers(raw: pd.Series) -> pd.Series:
    """The number parser of every battery and CIPN sheet: text → float, NaN if not a number.

    Plain decimal notation with a point (``1150``, ``1.15``, ``-2e3``). A comma is
    never read here: ``;``/tab files have their decimal commas converted by
    :func:`neurotox.delimited.read_table` before, and in a ``,`` file a quoted
    ``"1,150"`` (thousands separator? decimal comma?) is not a number.
    """
    text = raw.astype(str).str.strip()
    return pd.to_numeric(text.where(text != ""), errors="coerce").astype(float)


def parse_number(text: str) -> float:
    """One cell through :func:`parse_numbers` (NaN if not a number)."""
    return float(parse_numbers(pd.Series([text], dtype=object)).iloc[0])


def comma_hint(text: str) -> str:
    """Advice for a number written with a comma (``'1,150'``), else ``""``."""
    text = str(text).strip()
    if not _COMMA_IN_NUMBER.match(text):
        return ""
    say = (f"write {text.replace(',', '')} or {text.replace(',', '.')}"
           if text.count(",") == 1 and "." not in text else "write it without the comma")
    return (" (a comma inside a number is no thousands separator, and a decimal comma "
            "only in a ';'- or tab-delimited file whose column has no decimal points: "
            f"{say})")


def numbers(df: pd.DataFrame, column: str, *, allow_empty: bool = False,
            lower: float | None = None, upper: float | None = None,
            lower_open: bool = False) -> pd.Series:
    """Parse a column as floats (:func:`parse_numbers`); InputError naming the first bad cell.

    Empty cells become NaN when ``allow_empty``; otherwise they are errors. With
    ``lower_open`` the lower bound is exclusive (``> 0`` for a weight).
    """
    raw = df[column].astype(str)
    num = parse_numbers(raw)
    bad = (num.isna() & ((raw != "") | (not allow_empty))) | ~np.isfinite(num.fillna(0))
    if lower is not None:
        bad |= (num <= lower) if lower_open else (num < lower)
    if upper is not None:
        bad |= num > upper
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        ge, op = (">", "(") if lower_open else (">=", "[")
        rng = ("" if lower is None and upper is None else f" {ge} {lower:g}" if upper is None
               else f" <= {upper:g}" if lower is None else f" in {op}{lower:g}, {upper:g}]")
        cell = df[column].iloc[i]
        raise InputError(f"expected a number{rng}, found {cell!r}{comma_hint(cell)}",
                         path=df.attrs.get("path"), where=where(df, i, column))
    return num


def check_subjects(df: pd.DataFrame, known: Iterable[str], *, column: str = "subject") -> None:
    """Raise InputError for the first animal that is not in the study's subjects."""
    known = set(known)
    empty = df[column] == ""
    if empty.any():
        i = int(np.flatnonzero(empty.to_numpy())[0])
        raise InputError("subject is empty", path=df.attrs.get("path"), where=where(df, i, column))
    unknown = ~df[column].isin(known)
    if unknown.any():
        i = int(np.flatnonzero(unknown.to_numpy())[0])
        raise InputError(f"animal {df[column].iloc[i]!r} is not in the study's subjects file",
                         path=df.attrs.get("path"), where=where(df, i, column))


def check_unique(df: pd.DataFrame, key: list[str], *, what: str) -> None:
    """Raise InputError at the first repeated key."""
    dup = df.duplicated(key)
    if dup.any():
        i = int(np.flatnonzero(dup.to_numpy())[0])
        vals = ", ".join(f"{k}={str(df[k].iloc[i])!r}" for k in key)
        raise InputError(f"{what} {vals} appears twice", path=df.attrs.get("path"),
                         where=where(df, i, key[-1]))


# ------------------------------------------------------------------------ FOB

#: Identifying columns of a FOB sheet that are not items.
FOB_ID_COLUMNS = ("subject", "occasion", "group", "sex", "observer", "date", "time",
                  "comment", "comments", "notes", "row")


def read_fob(path: str | Path, *, sheet: str | None = None) -> pd.DataFrame:
    """Read a FOB scoring sheet (one row per animal × occasion).

    Returns
    -------
    pandas.DataFrame
        The sheet with ``subject`` and ``occasion`` (``NA`` when the sheet has no
        occasion column); item columns untouched, as strings.

    """
    df = read_sheet(path, sheet=sheet)
    require_columns(df, ["subject"], what="FOB")
    if "occasion" not in df.columns:
        df["occasion"] = "NA"
    df["occasion"] = df["occasion"].replace("", "NA")
    check_unique(df, ["subject", "occasion"], what="animal × occasion")
    return df


def fob_item_columns(df: pd.DataFrame) -> list[str]:
    """Columns of a FOB sheet holding items (everything but identifying columns)."""
    return [c for c in df.columns if c not in FOB_ID_COLUMNS]


# -------------------------------------------------------------- motor activity

def read_motor_activity(path: str | Path, *, interval_minutes: float | None = None,
                        sheet: str | None = None,
                        ignore_columns: Iterable[str] = ()) -> pd.DataFrame:
    """Read a motor-activity export, long or wide, into one row per interval.

    Parameters
    ----------
    path
        The export.
    interval_minutes
        Interval length when the file does not give it (an ``interval_min``
        column in long files; ``0-10 min`` headers in wide files).
    sheet
        Worksheet of an xlsx export (default: the first).
    ignore_columns
        Further columns (lower-case, ``_`` for spaces) that hold no counts.

    Returns
    -------
    pandas.DataFrame
        ``subject``, ``session``, ``interval`` (1-based int), ``counts``,
        ``minutes`` (interval length, NaN if unknown), ``start`` (minute the
        interval starts, from range headers; NaN otherwise), ``row``, ``column``.

    Raises
    ------
    InputError
        A column that is neither an identifying column, a total, nor an interval
        (:func:`neurotox.io.intervals.parse_interval`); interval ranges with a gap
        or an overlap; numbered intervals with a gap; bad counts.

    """
    df = read_sheet(path, sheet=sheet)
    require_columns(df, ["subject"], what="motor activity")
    if "session" not in df.columns:
        df["session"] = "NA"
    df["session"] = df["session"].replace("", "NA")
    if {"interval", "counts"} <= set(df.columns):
        refuse_unknown_columns(df, df.columns, known=_MOTOR_LONG, what="motor activity",
                               ignore=ignore_columns)
        out = _motor_long(df, interval_minutes)
    else:
        out = _motor_wide(df, interval_minutes, ignore_columns)
    out.attrs["path"] = df.attrs["path"]
    check_unique(out, ["subject", "session", "interval"], what="animal × session × interval")
    total = next((c for c in TOTAL_COLUMNS if c in df.columns), None)
    if total is not None:
        check_totals(df, out, total)
    return out


#: Header spellings of the session-total column of a motor-activity export.
TOTAL_COLUMNS = ("total", "total_counts", "session_total", "sum")
#: Columns of a long motor-activity export.
_MOTOR_LONG = ("subject", "session", "interval", "counts", "interval_min", *TOTAL_COLUMNS)


def check_totals(df: pd.DataFrame, out: pd.DataFrame, column: str) -> None:
    """Raise InputError at the first row whose stated total is not the sum of its intervals.

    Parameters
    ----------
    df
        The sheet as read (one row per animal × session when wide, per interval when long).
    out
        The tidy intervals returned by :func:`read_motor_activity`.
    column
        The total column of ``df``.

    Notes
    -----
    In a long export every row of an animal × session repeats the session total.
    Empty total cells are not checked. Counts are compared with a tolerance of
    1e-6 of the total (exports may write totals as floats).

    """
    stated = numbers(df, column, allow_empty=True, lower=0)
    keys = pd.MultiIndex.from_frame(df[["subject", "session"]])
    sums = out.groupby(["subject", "session"], sort=False)["counts"].sum()
    expected = sums.reindex(keys).to_numpy(float)
    with np.errstate(invalid="ignore"):
        bad = np.abs(stated.to_numpy() - expected) > 1e-6 * np.maximum(1.0, expected)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise InputError(f"total {df[column].iloc[i]!r} of animal {df['subject'].iloc[i]!r} "
                         f"session {df['session'].iloc[i]!r} is not the sum of its intervals "
                         f"({expected[i]:g})", path=df.attrs.get("path"),
                         where=where(df, i, column))


def _motor_long(df: pd.DataFrame, interval_minutes: float | None) -> pd.DataFrame:
    interval = numbers(df, "interval", lower=1)
    if (interval % 1 != 0).any():
        i = int(np.flatnonzero((interval % 1 != 0).to_numpy())[0])
        raise InputError(f"expected an interval number, found {df['interval'].iloc[i]!r}",
                         path=df.attrs["path"], where=where(df, i, "interval"))
    minutes = (numbers(df, "interval_min", lower=0) if "interval_min" in df.columns
               else pd.Series(np.nan if interval_minutes is None else interval_minutes,
                              index=df.index, dtype=float))
    return pd.DataFrame({"subject": df["subject"], "session": df["session"],
                         "interval": interval.astype(int), "counts": numbers(df, "counts", lower=0),
                         "minutes": minutes, "start": np.nan, "row": df["row"],
                         "column": "counts"})


def _wide_columns(df: pd.DataFrame,
                  ignore: Iterable[str]) -> list[tuple[str, int, float, float]]:
    """(column, number, minutes, start minute) of the interval columns of a wide export."""
    skip = {"subject", "session", "row", *TOTAL_COLUMNS, *NOTE_COLUMNS, *ignore}
    ranged, numbered, unknown = [], [], []
    for c in (c for c in df.columns if c not in skip):
        try:
            iv = parse_interval(header_of(df, c))
        except IntervalHeaderError as exc:
            raise InputError(f"cannot read interval column {header_of(df, c)!r}: {exc}",
                             path=df.attrs.get("path"),
                             where=f"row {df.attrs.get('header_row', 1)}, "
                                   f"column {header_of(df, c)!r}") from None
        (unknown if iv is None else numbered if iv.number is not None else ranged).append(
            (c, iv))
    if not ranged and not numbered:
        found = [c for c in df.columns if c != "row"]
        raise FormatError("expected long columns 'interval', 'counts' or wide interval "
                          f"columns like 'int01' or '0-10 min', found {quoted(found)}",
                          path=df.attrs["path"])
    _refuse_wide_unknown(df, [c for c, _ in unknown], ignore)
    if ranged and numbered:
        raise _header_error(df, numbered[0][0], "mixes interval ranges ('0-10 min') and "
                            f"numbered intervals ({header_of(df, ranged[0][0])!r} and this "
                            "one); name every interval one way")
    if ranged:
        return _ranges_in_order(df, ranged)
    return _numbers_in_order(df, numbered)


def _header_error(df: pd.DataFrame, column: str, message: str) -> InputError:
    head = header_of(df, column)
    return InputError(f"column {head!r} {message}", path=df.attrs.get("path"),
                      where=f"row {df.attrs.get('header_row', 1)}, column {head!r}")


def _refuse_wide_unknown(df: pd.DataFrame, unknown: list[str],
                         ignore: Iterable[str]) -> None:
    known = ["subject", "session", "total"]
    try:
        refuse_unknown_columns(df, unknown, known=known, what="motor activity",
                               ignore=ignore)
    except InputError as exc:
        raise InputError(f"{exc.detail}; interval columns are ranges with a unit "
                         "('0-10 min', '0-600 s', '00:00-10:00') or numbered ('int01', "
                         "'bin_1')", path=exc.path, where=exc.where) from None


def _ranges_in_order(df: pd.DataFrame, ranged: list) -> list[tuple[str, int, float, float]]:
    """Ranges sorted by start; a gap or an overlap between neighbours is an error."""
    ranged = sorted(ranged, key=lambda t: t[1].start)
    for (c0, a), (c1, b) in zip(ranged, ranged[1:], strict=False):
        if not np.isclose(b.start, a.end, rtol=0, atol=1e-6):
            how = "overlaps" if b.start < a.end else "leaves a gap after"
            raise _header_error(df, c1, f"{how} the interval {header_of(df, c0)!r}: "
                                "intervals must follow each other (is an interval column "
                                "missing or misspelt?)")
    return [(c, k + 1, iv.minutes, iv.start) for k, (c, iv) in enumerate(ranged)]


def _numbers_in_order(df: pd.DataFrame, numbered: list) -> list[tuple[str, int, float, float]]:
    """Numbered intervals in order; a repeated or skipped number is an error."""
    numbered = sorted(numbered, key=lambda t: t[1].number)
    for (c0, a), (c1, b) in zip(numbered, numbered[1:], strict=False):
        if b.number != a.number + 1:
            what = "repeats" if b.number == a.number else "skips from"
            raise _header_error(df, c1, f"{what} interval number {a.number} of column "
                                f"{header_of(df, c0)!r}" + (f" to {b.number}" if
                                                            what != "repeats" else ""))
    return [(c, iv.number, np.nan, np.nan) for c, iv in numbered]


def _motor_wide(df: pd.DataFrame, interval_minutes: float | None,
                ignore: Iterable[str]) -> pd.DataFrame:
    cols = _wide_columns(df, ignore)
    parts = []
    for col, k, minutes, start in cols:
        if np.isnan(minutes) and interval_minutes is not None:
            minutes = interval_minutes
        parts.append(pd.DataFrame({"subject": df["subject"], "session": df["session"],
                                   "interval": k,
                                   "counts": numbers(df, col, lower=0, allow_empty=True),
                                   "minutes": minutes, "start": start, "row": df["row"],
                                   "column": col}))
    out = pd.concat(parts, ignore_index=True)
    # an empty cell is an interval not recorded (the monitor stopped), as a missing
    # row of the long layout: the assay excludes the session's totals as incomplete
    return out[out["counts"].notna()].sort_values(
        ["subject", "session", "interval"], kind="stable").reset_index(drop=True)


# --------------------------------------------------------------------- startle

TRIAL_TYPES = {"pulse": "pulse", "pulse_alone": "pulse", "p": "pulse", "startle": "pulse",
               "prepulse": "prepulse", "prepulse_pulse": "prepulse", "pp": "prepulse",
               "prepulse+pulse": "prepulse", "no_stimulus": "no_stimulus",
               "null": "no_stimulus", "nostim": "no_stimulus", "background": "no_stimulus"}


#: Columns of a startle export.
STARTLE_COLUMNS = ("subject", "session", "block", "trial", "trial_type", "prepulse_db",
                   "amplitude", "latency")


def read_startle(path: str | Path, *, sheet: str | None = None,
                 ignore_columns: Iterable[str] = ()) -> pd.DataFrame:
    """Read per-trial acoustic startle data.

    Any column other than :data:`STARTLE_COLUMNS`, :data:`NOTE_COLUMNS` and
    ``ignore_columns`` is an error (a misspelt ``latency`` or ``prepulse_db``
    would otherwise be dropped without a word).

    Returns
    -------
    pandas.DataFrame
        ``subject``, ``session``, ``block`` (int), ``trial`` (int), ``trial_type``
        (``pulse``/``prepulse``/``no_stimulus``), ``prepulse_db`` (NaN unless
        prepulse), ``amplitude``, ``latency`` (NaN when absent), ``row``.

    """
    df = read_sheet(path, sheet=sheet)
    require_columns(df, ["subject", "block", "trial", "amplitude"], what="startle")
    refuse_unknown_columns(df, df.columns, known=STARTLE_COLUMNS, what="startle",
                           ignore=ignore_columns)
    if "session" not in df.columns:
        df["session"] = "NA"
    if "trial_type" not in df.columns:
        df["trial_type"] = "pulse"
    types = df["trial_type"].str.lower().str.replace(" ", "_").map(TRIAL_TYPES)
    if types.isna().any():
        i = int(np.flatnonzero(types.isna().to_numpy())[0])
        raise InputError(f"unknown trial type {df['trial_type'].iloc[i]!r}; expected one of "
                         f"{quoted(TRIAL_TYPES)}", path=df.attrs["path"],
                         where=where(df, i, "trial_type"))
    out = pd.DataFrame({
        "subject": df["subject"], "session": df["session"].replace("", "NA"),
        "block": numbers(df, "block", lower=1).astype(int),
        "trial": numbers(df, "trial", lower=1).astype(int), "trial_type": types,
        "prepulse_db": (numbers(df, "prepulse_db", allow_empty=True)
                        if "prepulse_db" in df.columns else np.nan),
        "amplitude": numbers(df, "amplitude"),
        "latency": (numbers(df, "latency", allow_empty=True, lower=0)
                    if "latency" in df.columns else np.nan),
        "row": df["row"]})
    out.attrs["path"] = df.attrs["path"]
    check_unique(out, ["subject", "session", "trial"], what="animal × session × trial")
    return out


# --------------------------------------------------------------- organ weights

def read_organ_weights(path: str | Path, *, sheet: str | None = None) -> pd.DataFrame:
    """Read a necropsy weight sheet: ``subject``, ``body_weight``, ``brain_weight``.

    Other columns are returned as they are (morphometry, comments); empty brain
    or body weights become NaN (an animal found dead, a damaged brain); a weight must
    be > 0 (the assay checks the species' plausible range). An
    optional ``timepoint`` column names the necropsy (``PND22``, ``PND70``) when a
    sheet holds several; it is ``NA`` otherwise. Weight headers may carry their unit
    (:data:`WEIGHT_UNITS`: ``Body weight (kg)``, ``Brain weight [mg]``): read in g, noted.
    """
    df = unit_columns(read_sheet(path, sheet=sheet), WEIGHT_UNITS)
    require_columns(df, ["subject", "body_weight", "brain_weight"], what="organ weight")
    if "timepoint" not in df.columns:
        df["timepoint"] = "NA"
    df["timepoint"] = df["timepoint"].replace("", "NA")
    check_unique(df, ["subject", "timepoint"], what="animal × timepoint")
    for col in ("body_weight", "brain_weight"):
        df[col] = numbers(df, col, allow_empty=True, lower=0, lower_open=True)
    for text in converted(df):   # a weight in kg or mg, to g
        note(text)
    return df


#: Grams in one unit of weight: the one table of the weight headers read here
#: (:data:`WEIGHT_UNITS`) and of the units the battery assays name for a weight or a
#: grip out of range (:data:`neurotox.assays.battery.common.WEIGHT_SLIPS`,
#: :data:`neurotox.assays.battery.fob_items.SLIP_UNITS`).
GRAMS = {"mg": 0.001, "g": 1.0, "kg": 1000.0}
#: Weight headers carrying their unit: ``Brain weight (g)``, ``BW (kg)``, ``body_weight_kg``.
WEIGHT_UNITS = {base: Quantity(column, GRAMS, "g", "mg, g or kg")
                for base, column in (("body_weight", "body_weight"), ("bw", "body_weight"),
                                     ("brain_weight", "brain_weight"))}


# -------------------------------------------------------------- neuropathology

def read_findings(path: str | Path, *, sheet: str | None = None) -> pd.DataFrame:
    """Read a neuropathology findings list (animal × tissue × lesion × grade).

    ``grade`` may be empty for lesions recorded without a grade and for ``NAD``
    rows; it is returned as text and interpreted by the assay.
    """
    df = read_sheet(path, sheet=sheet)
    require_columns(df, ["subject", "tissue", "lesion"], what="neuropathology findings")
    if "grade" not in df.columns:
        df["grade"] = ""
    return df


# ---------------------------------------------------- developmental landmarks

def read_landmarks(path: str | Path, *, sheet: str | None = None) -> pd.DataFrame:
    """Read developmental landmarks: ``subject``, ``landmark``, ``age`` [, ``body_weight``].

    An empty ``age`` means the landmark was not attained by the end of observation.
    """
    df = read_sheet(path, sheet=sheet)
    require_columns(df, ["subject", "landmark", "age"], what="landmark")
    df["age"] = numbers(df, "age", allow_empty=True, lower=0, upper=200)
    df["body_weight"] = (numbers(df, "body_weight", allow_empty=True, lower=0,
                                 lower_open=True)
                         if "body_weight" in df.columns else np.nan)
    df["landmark"] = df["landmark"].str.lower().str.replace(" ", "_")
    check_unique(df, ["subject", "landmark"], what="animal × landmark")
    return df
