"""Small helpers shared by the zebrafish readers: table loading and well names."""

from __future__ import annotations

import csv
import io
import re
import zlib
from collections.abc import Callable

import numpy as np
import pandas as pd

from neurotox.delimited import check_header_names, with_points
from neurotox.errors import FormatError
from neurotox.files import check_frame_magnitudes
from neurotox.io.text import (
    check_distinct_columns,
    check_line_end,
    check_row_lengths,
    delimiter_name,
)
from neurotox.io.zebrafish.base import Source, cell_rows, norm
from neurotox.study import normalise_well, number_to_well

_DECIMAL_COMMA = re.compile(r"^-?\d+,\d+$")
NA_VALUES = ["-", "", "NA", "NaN", "nan", "N/A"]


def decimal_mark(src: Source, skip: int = 0) -> str:
    """``,`` when the data lines use decimal commas (only with ``;``/tab delimiters)."""
    if src.delimiter == ",":
        return "."
    cells = [c for line in src.lines[skip:] for c in src.header_cells(line)]
    return "," if any(_DECIMAL_COMMA.match(c) for c in cells) else "."


def load_table(src: Source, *, skiprows: int | list[int] = 0, header: int | None = 0,
               dtype: dict | type | None = None, sheet: str | int = 0) -> pd.DataFrame:
    """Load a whole text or spreadsheet table with the sniffed dialect.

    Text files: delimiter, encoding and decimal mark come from :class:`Source`
    and are recorded in ``src.notes``; ``-`` and empty cells are missing.
    """
    if src.container == "xlsx":
        from neurotox.workbook import read_excel

        return _not_empty(read_excel(src.path, sheet_name=sheet, skiprows=skiprows,
                                     header=header, dtype=dtype, na_values=NA_VALUES), src,
                          _origin("sheet", skiprows, header))
    if src.container == "xls":
        try:
            df = pd.read_excel(src.path, sheet_name=sheet, skiprows=skiprows, header=header,
                               dtype=dtype, engine="xlrd", na_values=NA_VALUES)
        except Exception as exc:  # xlrd raises many types on corrupt workbooks
            raise FormatError(f"cannot open as an {src.container} workbook: "
                              f"{' '.join(str(exc).split())}", path=src.path) from None
        above = (skiprows if isinstance(skiprows, int) else 0) + (1 if header == 0 else 0)
        check_frame_magnitudes(df, src.path, first_row=above + 1)
        return _not_empty(df, src, _origin("sheet", skiprows, header))
    first = skiprows if isinstance(skiprows, int) else 0
    dec = decimal_mark(src, skip=first + 1)
    text = src.text
    end = ", the last line without a line end" if check_line_end(
        text, src.path, sep=src.delimiter, skiprows=first) else ""
    src.notes.append(f"read as text: encoding {src.encoding}, delimiter "
                     f"{delimiter_name(src.delimiter)}, decimal mark {dec!r}{end}")
    try:
        df = pd.read_csv(io.StringIO(text), sep=src.delimiter,
                         skiprows=skiprows, header=header, dtype=dtype, decimal=dec,
                         na_values=NA_VALUES, keep_default_na=False, low_memory=False)
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError, OSError, EOFError,
            zlib.error) as exc:
        raise FormatError(f"cannot parse as a delimited table: "
                          f"{' '.join(str(exc).split())}", path=src.path) from None
    if header == 0 and isinstance(skiprows, int):
        lines = text.splitlines()[skiprows:]
        at = next((n for n, line in enumerate(lines) if line.strip()), None)
        if at is not None:
            check_header_names(next(csv.reader([lines[at]], delimiter=src.delimiter)),
                               src.path, line=skiprows + at + 1)
        check_row_lengths(text, src.delimiter, src.path, skiprows)
    return _not_empty(df, src, _origin("text", skiprows, header))


def sheet_headers(src: Source) -> dict[str | None, list[str]]:
    """First non-empty row of every visible sheet (``None`` for a text file: its first line)."""
    if src.container not in ("xlsx", "xls"):
        first = next((r for r in src.first_rows() if any(r)), [])
        return {None: first}
    hidden = _hidden(src)
    out = {}
    for name, rows in src.sheets.items():
        if name in hidden:
            continue
        cells = cell_rows(rows)
        out[name] = next((r for r in cells if any(r)), [])
    return out


def _hidden(src: Source) -> set[str]:
    if src.container != "xlsx":
        return set()
    from neurotox.workbook import hidden_sheets

    return hidden_sheets(src.path)


def header_sets(src: Source, aliases: dict[str, str] | None = None) -> list[set[str]]:
    """The normalised header of every sheet (one for a text file), for layout checks."""
    aliases = aliases or {}
    return [{aliases.get(norm(c), norm(c)) for c in head if c}
            for head in sheet_headers(src).values()]


def load_sheets(src: Source, accept: Callable[[set[str]], bool], *,
                aliases: dict[str, str] | None = None,
                header_row: Callable[[list], int | None] | None = None,
                **kwargs) -> pd.DataFrame:
    """:func:`load_table` of every sheet holding the export, as one table.

    A workbook may carry the export on several sheets with the same header (a
    table split at the spreadsheet's row limit, or by plate): their rows are
    read in sheet order, as one table (duplicated larva/bin rows are refused
    afterwards, as in one sheet). Sheets whose header ``accept`` refuses (notes,
    settings) are not read, and said; a sheet with another export header is
    refused, naming both sheets. ``header_row`` finds the header among a sheet's
    first rows (below banner rows; the first non-empty row without it). Text
    files: :func:`load_table` (below ``header_row``'s row when given). The
    sheets read and the rows above each header are in ``attrs["sheets"]``.
    """
    aliases = aliases or {}
    if src.container not in ("xlsx", "xls"):
        skip = header_row(src.first_rows()) if header_row else None
        df = load_table(src, **({"skiprows": skip} if skip else {}), **kwargs)
        df.attrs["sheets"] = {None: skip or 0}
        return df
    heads = _sheet_heads(src, header_row)
    ok = {n: (at, h) for n, (at, h) in heads.items() if at is not None
          and accept({aliases.get(norm(c), norm(c)) for c in h if c})}
    if not ok:
        raise FormatError("no sheet holds this export's header", path=src.path)
    first = next(iter(ok))
    other = [n for n in ok if ok[n][1] != ok[first][1]]
    if other:
        raise FormatError(f"sheets {first!r} and {other[0]!r} both hold this export with "
                          "different headers; cannot tell whether one continues the other "
                          "(keep one sheet, or give them the same header)", path=src.path,
                          where=f"sheet {other[0]!r}")
    skipped = [n for n in heads if n not in ok]
    if skipped:
        src.notes.append(f"sheet(s) {', '.join(map(repr, skipped))} not read: their first "
                         "row is not the export's header")
    if header_row is None:    # the first non-empty row, as load_table finds it
        ok = {n: (0, h) for n, (_, h) in ok.items()}
    frames = [load_table(src, sheet=n, skiprows=ok[n][0], **kwargs) for n in ok]
    sizes = ", ".join(f"{n!r} ({len(f)} rows)" for n, f in zip(ok, frames, strict=True))
    if len(frames) == 1:
        if len(heads) > 1:
            src.notes.append(f"read sheet {sizes}")
        frames[0].attrs["sheets"] = {first: ok[first][0]}
        return frames[0]
    src.notes.append(f"read sheets {sizes} as one table (the same header)")
    offsets, parts, at = [], [], 0
    for name, f in zip(ok, frames, strict=True):
        offsets.append((name, at, ok[name][0]))
        parts.append(f.set_axis(np.arange(at, at + len(f))))
        at += len(f)
    df = pd.concat(parts)
    df.attrs["origin"] = ("sheets", offsets)
    df.attrs["sheets"] = {n: ok[n][0] for n in ok}
    return df


def refuse_sheet_repeats(df: pd.DataFrame, keys: list[str], src: Source, what: str) -> None:
    """Refuse sheets (read as one table by :func:`load_sheets`) that repeat each other's rows.

    A copied sheet, or a sheet per plate without the plate in its rows, repeats
    the same ``keys`` (plate, well, bin …): read as one export continued it
    would hold every larva twice. The error names both sheets and rows.
    """
    origin = df.attrs.get("origin")
    if not origin or origin[0] != "sheets":
        return
    starts = np.array([o[1] for o in origin[1]])
    sheet = np.searchsorted(starts, df.index.to_numpy(int), side="right") - 1
    first = pd.Series(sheet, index=df.index).groupby([df[k] for k in keys], sort=False,
                                                     dropna=False).transform("first")
    other = np.flatnonzero(sheet != first.to_numpy())
    if not len(other):
        return
    i = int(other[0])
    same = (df[keys] == df[keys].iloc[i]).all(axis=1).to_numpy()
    j = int(np.flatnonzero(same)[0])
    here, there = row_where(df, src, i), row_where(df, src, j)
    found = ", ".join(f"{k} {df[k].iloc[i]!r}" for k in keys)
    raise FormatError(f"{what} ({found}) is in {there} and again in {here}: the sheets repeat "
                      "the same rows (a copied sheet?); sheets with one header are read as one "
                      "table continued: delete the copy, or give each sheet as its own file",
                      path=src.path, where=here.split(" row ")[0])


def _sheet_heads(src: Source, header_row: Callable[[list], int | None] | None
                 ) -> dict[str, tuple[int | None, list[str]]]:
    """Each visible sheet's header: its row (rows above it) and cells, trailing blanks cut."""
    hidden = _hidden(src)
    out = {}
    for name, rows in src.sheets.items():
        if name in hidden:
            continue
        cells = cell_rows(rows)
        at = header_row(rows) if header_row else \
            next((i for i, r in enumerate(cells) if any(r)), None)
        head = cells[at] if at is not None else []
        while head and not head[-1]:
            head = head[:-1]
        out[name] = (at, head)
    return out


def _not_empty(df: pd.DataFrame, src: Source, origin: tuple[str, int] | None = None
               ) -> pd.DataFrame:
    if df.empty:
        raise FormatError("expected data rows below the header, found none", path=src.path)
    if origin is not None:
        df.attrs["origin"] = origin   # for row_where: text or sheet, lines skipped
    return df


def _origin(kind: str, skiprows: int | list[int], header: int | None) -> tuple[str, int] | None:
    """How to find a data row in the file again: only for one header line below ``skiprows``."""
    return (kind, skiprows) if header == 0 and isinstance(skiprows, int) else None


def row_where(df: pd.DataFrame, src: Source, i: int) -> str:
    """Where the row at position ``i`` of a :func:`load_table` table is in the file.

    ``line N`` of a text file (blank lines counted as pandas skips them), ``row N``
    of a sheet (the header is row 1 unless rows were skipped above it); ``data
    row N`` when the table was not read below one header line. Rows dropped
    after loading do not shift the answer: the row's index label, the data row
    as loaded, is used.
    """
    return rows_where(df.iloc[[i]], src, first=i)[0]


def rows_where(df: pd.DataFrame, src: Source, *, first: int = 0) -> list[str]:
    """:func:`row_where` of every row of ``df`` (a :func:`load_table` table or rows of one).

    The file is split into lines once. ``first`` is the position of ``df``'s first
    row in the loaded table, used for ``data row N`` when lines cannot be told.
    """
    origin = df.attrs.get("origin")
    labels = list(df.index)
    if origin is None or not all(isinstance(v, int | np.integer) for v in labels):
        return [f"data row {first + k + 1}" for k in range(len(labels))]
    kind, skip = origin
    if kind == "sheets":      # several sheets read as one (load_sheets): skip = offsets
        out = []
        for v in map(int, labels):
            name, at, above = next(o for o in reversed(skip) if o[1] <= v)
            out.append(f"sheet {name!r} row {v - at + 2 + above}")
        return out
    if kind == "sheet":
        return [f"row {skip + 2 + int(v)}" for v in labels]
    lines = re.split(r"\r\n|\n|\r", src.text)
    filled = [n for n in range(skip, len(lines))
              if lines[n].replace(src.delimiter, "x").strip()]
    return [f"line {filled[int(v) + 1] + 1}" if int(v) + 1 < len(filled) else
            f"data row {int(v) + 1}" for v in labels]


def normalise_columns(df: pd.DataFrame, aliases: dict[str, str] | None = None, *,
                      src: Source) -> pd.DataFrame:
    """Rename columns to their normalised form (:func:`norm`), then apply ``aliases``.

    Two header cells that end up with the same name (``Start`` and ``début``,
    ``plate.id`` and ``plate_id``) are an error: which one holds the data
    cannot be guessed.
    """
    aliases = aliases or {}
    names = [aliases.get(n, n) for n in (norm(c) for c in df.columns)]
    check_distinct_columns(list(df.columns), names, src.path)
    df.columns = names
    return df


def numeric(df: pd.DataFrame, columns: list[str], src: Source, *,
            nonnegative: bool = False) -> pd.DataFrame:
    """Coerce columns to float, refusing what is not a finite number or a missing marker.

    With ``nonnegative`` (distances, counts, durations), negative numbers are
    refused too. A decimal comma is read where the file's cells are not
    comma-separated; in a comma-separated file a number holding a comma (quoted
    ``"1,150"``: a thousands separator or a decimal comma?) is refused. The
    error names the file's line (or sheet row) and the column.
    """
    for col in columns:
        s = df[col]
        if s.dtype.kind in "fiub":
            num, shown = s.astype(float), None
            text_bad = pd.Series(False, index=s.index)
        else:
            raw = s.astype("string").str.strip()
            text = raw.str.replace(",", ".", regex=False)
            blank = text.isna() | text.isin(NA_VALUES)
            num = pd.to_numeric(text.where(~blank), errors="coerce").astype(float)
            text_bad, shown = num.isna() & ~blank, s
            if src.container in ("text", "gzip") and src.delimiter == ",":
                # a quoted "1,150" in a comma-separated file: thousands or decimal comma?
                text_bad |= raw.str.contains(",", regex=False).fillna(False).astype(bool)
        infinite = num.notna() & ~np.isfinite(num.to_numpy())
        negative = num < 0 if nonnegative else pd.Series(False, index=s.index)
        for bad, expected in ((text_bad, "a number"), (infinite | negative, "a finite number"
                                                       + (" >= 0" if nonnegative else ""))):
            if bad.any():
                i = int(np.flatnonzero(bad.to_numpy())[0])
                found = repr(shown.iloc[i]) if shown is not None else f"{num.iloc[i]:g}"
                raise FormatError(f"expected {expected}, found {found}", path=src.path,
                                  where=f"{row_where(df, src, i)}, column {col!r}")
        df[col] = num
    return df


#: Concentration units a cell may repeat after its number when the header states the same.
_MICROMOLAR = r"(?:µM|μM|uM)"


def concentrations(df: pd.DataFrame, col: str, src: Source, *,
                   header: str | None = None) -> pd.Series:
    """A concentration column as numbers; blank cells (empty wells) stay missing.

    Decimal commas are read as in the file's other numbers (``;``/tab text files
    and workbooks: ``2,16`` is 2.16); a number followed by the unit the header
    states (``0.1 uM`` under ``Concentration (µM)``) is the number. Any other cell
    (``0.1 mM``, ``high``, a negative number) is refused naming its row and the
    column ``header`` (the file's own header text): a larva whose concentration
    cannot be read is never dropped as an empty well.
    """
    s = df[col]
    if s.dtype.kind in "fiub":
        num = s.astype(float)
        text = shown = None
    else:
        shown = s
        text = s.astype("string").str.strip().fillna("")
        if header is not None and re.search(_MICROMOLAR + r"\)?\s*$", header):
            text = text.str.replace(r"\s*" + _MICROMOLAR + r"$", "", regex=True)
        if not (src.container in ("text", "gzip") and src.delimiter == ","):
            text = text.map(with_points)
        blank = text.isin(NA_VALUES)
        num = pd.to_numeric(text.where(~blank), errors="coerce").astype(float)
    bad = (num.isna() & ~blank) if text is not None else pd.Series(False, index=s.index)
    bad |= num.notna() & ~(np.isfinite(num.to_numpy()) & (num.to_numpy() >= 0))
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        found = repr(shown.iloc[i]) if shown is not None else f"{num.iloc[i]:g}"
        raise FormatError(f"expected a concentration (a number >= 0, or an empty cell for an "
                          f"empty well), found {found}; {int(bad.sum())} such cell(s)",
                          path=src.path,
                          where=f"{row_where(df, src, i)}, column {header or col!r}")
    return num


def unassigned_chemicals(df: pd.DataFrame, conc: pd.Series, chem: str | None,
                         src: Source) -> str | None:
    """The warning for larvae whose chemical is named but whose concentration cell is empty."""
    if chem is None:
        return None
    named = df[chem].astype("string").str.strip().fillna("")
    gap = conc.isna() & ~named.isin(NA_VALUES)
    if not gap.any():
        return None
    rows = rows_where(df[gap.to_numpy()].head(3), src)
    more = ", …" if gap.sum() > 3 else ""
    first = named[gap].iloc[0]
    return (f"warning: {src.path.name}: {int(gap.sum())} larva(e) with a chemical but an empty "
            f"concentration cell ({', '.join(rows)}{more}; e.g. {first!r}) are not analysed "
            "unless the chemical is the vehicle: write 0 for vehicle wells and the "
            "concentration for treated ones")


def wells(values: pd.Series, src: Source, column: str) -> pd.Series:
    """Normalise well names (``A1`` → ``A01``), naming the first bad value."""
    uniq = pd.unique(values.astype(str))
    mapping = {}
    for v in uniq:
        try:
            mapping[v] = normalise_well(v)
        except ValueError as exc:
            raise FormatError(str(exc), path=src.path, where=f"column {column!r}") from None
    return values.astype(str).map(mapping)


def location_to_well(values: pd.Series, *, n_columns: int = 12) -> pd.Series:
    """ZebraLab location ``c01`` … ``c96`` → well, row-major (c01 = A01, c13 = B01)."""
    num = values.astype(str).str.extract(r"(\d+)\s*$", expand=False).astype(int)
    return pd.Series(number_to_well(num, n_columns), index=values.index, dtype=object)


def plate_id(values: pd.Series) -> pd.Series:
    """Plate identifiers as strings without zero padding (``000018103`` → ``18103``)."""
    s = values.astype(str).str.strip()
    stripped = s.str.lstrip("0")
    return stripped.where(s.str.fullmatch(r"\d+") & (stripped != ""), s)


def grid_index(starts: pd.Series) -> tuple[np.ndarray, float] | None:
    """Place of each start on the grid ``first + k * width``, and the width; None off-grid.

    The width is the most common step between distinct starts; every start must
    lie on the grid within 1 % of a bin (missing starts are not allowed).
    """
    values = starts.to_numpy(dtype=float)
    uniq = np.unique(values)
    if len(uniq) < 2 or not np.isfinite(values).all():
        return None
    steps, counts = np.unique(np.round(np.diff(uniq), 6), return_counts=True)
    width = float(steps[np.argmax(counts)])
    k = (values - uniq[0]) / width
    if np.abs(k - np.round(k)).max() > 0.01:
        return None
    return np.round(k).astype(int), width


def bins_from_starts(starts: pd.Series) -> tuple[pd.Series, float]:
    """0-based bin index from bin start times and the bin width in s.

    When every start lies on one time grid (:func:`grid_index`), the index is the
    place on the grid: a bin missing for every larva (a hole in the time grid)
    keeps its index free, so it becomes a missing value downstream instead of
    the later bins moving up. Irregular starts are numbered in order.
    """
    grid = grid_index(starts)
    if grid is not None:
        return pd.Series(grid[0], index=starts.index), grid[1]
    uniq = np.sort(starts.dropna().unique())
    width = float(np.median(np.diff(uniq))) if len(uniq) > 1 else float("nan")
    index = pd.Series(np.searchsorted(uniq, starts.to_numpy()), index=starts.index)
    return index, width
