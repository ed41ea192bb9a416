"""Reading xlsx workbooks safely: bounded, sparse, and strict about what a cell holds.

An xlsx file is a zip of XML parts. Before anything is unpacked the zip's
directory is checked against the unpacked-size limit
(:func:`neurotox.files.check_unpacked`), so that a small file holding
gigabytes of sheet XML fails at once. Sheets are then streamed cell by cell
(openpyxl's sheet parser, without its row padding): only cells that hold
something are kept, so one stray value at ``XFD1048576`` costs one cell, not a
grid of 17 billion. A table is built only when the cells fill a reasonable
part of their bounding box; a far-away stray cell is an error naming it.

A cell is an error, naming sheet and cell, when it

* holds a formula without a saved value (the workbook was written by a program
  that does not calculate, and its value would read as empty);
* holds a number that overflows to infinity or is not a number;
* holds text with a NUL character.

Spreadsheet error values (``#N/A``, ``#DIV/0!``) read as missing, as pandas
reads them.

Whole sheets (:func:`read_excel`, :func:`sheet_rows` without a small
``max_rows``) are read with python-calamine where it gives the same values and
is safe (see :mod:`neurotox.workbook_calamine`: about ten times faster); the
first rows of a sheet (format sniffing) and every other sheet stream through
openpyxl. ``engine="openpyxl"`` or the environment variable
``NEUROTOX_EXCEL_ENGINE=openpyxl`` always streams.
"""

from __future__ import annotations

import math
import os
import warnings
import zipfile
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any, NamedTuple

import pandas as pd

from neurotox.errors import FormatError, InputError
from neurotox.files import check_cell_magnitude, check_input, check_unpacked

#: A sheet's table is built only when its bounding box has at most this many cells,
#: or at most :data:`FILL_FACTOR` times as many cells as hold values.
MAX_GRID_CELLS = 1_000_000
FILL_FACTOR = 4
#: Most parts an xlsx zip may hold.
MAX_PARTS = 10_000

Cell = tuple[int, Any]   # (column, value), 1-based column

#: Environment variable choosing the reader of whole sheets: auto (default) or openpyxl.
ENV_ENGINE = "NEUROTOX_EXCEL_ENGINE"
ENGINES = ("auto", "openpyxl")
#: Reads of at most this many rows per sheet stream through openpyxl (it stops early).
STREAM_MAX_ROWS = 1000


def _engine(engine: str | None) -> str:
    name = (engine or os.environ.get(ENV_ENGINE, "") or "auto").strip().lower()
    if name not in ENGINES:
        raise InputError(f"expected one of {', '.join(ENGINES)}, found {name!r}",
                         where=ENV_ENGINE if engine is None else "engine")
    return name


def _fast_grids(path: Path, sheets: list[str] | None, max_rows: int | None,
                engine: str | None) -> dict[str, list[list[Any]]] | None:
    """Dense sheets read by calamine ("" for empty cells), or None to stream with openpyxl."""
    if _engine(engine) == "openpyxl" or (max_rows is not None and max_rows <= STREAM_MAX_ROWS):
        return None
    from neurotox.workbook_calamine import read_sheets

    check_xlsx(path)
    grids = read_sheets(path, sheets, max_grid=MAX_GRID_CELLS, fill_factor=FILL_FACTOR)
    if grids is not None and max_rows is not None:
        grids = {k: g[:max_rows] for k, g in grids.items()}
    return grids


def check_xlsx(path: Path) -> None:
    """Refuse a workbook that is not a regular file, not a zip, or unpacks too large."""
    check_input(path)
    try:
        with zipfile.ZipFile(path) as z:
            parts = z.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise FormatError(f"cannot open as an xlsx workbook: {exc}", path=path) from None
    if len(parts) > MAX_PARTS:
        raise FormatError(f"xlsx zip holds {len(parts)} parts, more than {MAX_PARTS}",
                          path=path)
    counts = Counter(p.filename for p in parts)
    twice = sorted(n for n, k in counts.items() if k > 1)
    if twice:   # which copy a spreadsheet program shows is undefined: refuse, not guess
        raise FormatError(f"the xlsx zip holds the part {twice[0]!r} twice (a damaged or "
                          "crafted workbook); open and save it again in a spreadsheet program",
                          path=path)
    check_unpacked(sum(p.file_size for p in parts), path, what="the workbook")


def hidden_sheets(path: Path) -> set[str]:
    """Names of the worksheets a spreadsheet program hides (state hidden or veryHidden)."""
    from xml.etree import ElementTree

    check_xlsx(path)
    try:
        with zipfile.ZipFile(path) as z:
            book = ElementTree.fromstring(z.read("xl/workbook.xml"))
    except (KeyError, ElementTree.ParseError, zipfile.BadZipFile, OSError):
        return set()     # the sheet reader names what is wrong with the workbook
    return {el.get("name", "") for el in book.iter() if el.tag.endswith("}sheet")
            and el.get("state", "visible") != "visible"}


def _parser_class() -> type:
    from openpyxl.worksheet._reader import FORMULA_TAG, WorkSheetParser

    class Parser(WorkSheetParser):
        """openpyxl's streaming sheet parser, marking formulas without a saved value."""

        def parse_cell(self, element: Any) -> dict:
            coordinate = element.get("r")
            try:
                cell = super().parse_cell(element)
            except (ValueError, IndexError, TypeError, KeyError) as exc:
                raise _CellError(coordinate, f"cannot read the cell: {exc}") from None
            if cell["value"] is None and element.find(FORMULA_TAG) is not None:
                cell["no_cached_value"] = True
            cell["coordinate"] = coordinate
            return cell

    return Parser


class _CellError(Exception):
    def __init__(self, coordinate: str | None, message: str):
        super().__init__(message)
        self.coordinate = coordinate
        self.message = message


def _cell_name(row: int, col: int) -> str:
    from openpyxl.utils import get_column_letter

    try:
        return f"{get_column_letter(col)}{row}"
    except ValueError:
        return f"row {row}, column {col}"


def _check_value(value: Any, name: str, sheet: str, path: Path) -> Any:
    where = f"sheet {sheet!r}, cell {name}"
    if isinstance(value, float) and not math.isfinite(value):
        raise InputError(f"number {value} is not finite (overflow?)", path=path, where=where)
    check_cell_magnitude(value, path, where)
    if isinstance(value, str) and "\x00" in value:
        raise InputError("text holds a NUL character", path=path, where=where)
    return value


def _cells(sheet: _Sheet, wb: Any, path: Path,
           max_rows: int | None) -> Iterator[tuple[int, list[Cell]]]:
    """Rows of one worksheet as (row number, [(column, value), ...])."""
    parser = _parser_class()(wb._archive.open(sheet.part), sheet.shared_strings,
                             data_only=True, epoch=wb.epoch, date_formats=wb._date_formats,
                             timedelta_formats=wb._timedelta_formats)
    try:
        for r, row in parser.parse():
            if max_rows is not None and r > max_rows:
                break
            out = []
            for c in row:
                name = c["coordinate"] or _cell_name(r, c["column"])
                if c.get("no_cached_value"):
                    raise InputError("formula without a saved value (the workbook was "
                                      "never calculated); open and save it in a spreadsheet "
                                      "program, or paste the values", path=path,
                                      where=f"sheet {sheet.title!r}, cell {name}")
                value = c["value"]
                if value is None:
                    continue
                if c["data_type"] == "e":
                    value = math.nan
                else:
                    value = _check_value(value, name, sheet.title, path)
                out.append((c["column"], value))
            yield r, out
    except _CellError as exc:
        raise InputError(exc.message, path=path,
                          where=f"sheet {sheet.title!r}, cell {exc.coordinate or '?'}") from None
    finally:
        parser.source.close()


class _Sheet(NamedTuple):
    title: str
    part: str
    shared_strings: list


def _load_workbook(path: Path) -> tuple[Any, list[_Sheet]]:
    """The read-only openpyxl workbook and its worksheets, without sizing each sheet.

    ``openpyxl.load_workbook(read_only=True)`` reads every sheet without a
    ``<dimension>`` element whole just to size it (seconds for a tracking
    export); the sheets are listed here instead and streamed when read.
    """
    from openpyxl.reader.excel import ExcelReader

    class Reader(ExcelReader):
        sheets: list[_Sheet]

        def read_worksheets(self) -> None:
            self.sheets = []
            for sheet, rel in self.parser.find_sheets():
                if rel.target in self.valid_files and "chartsheet" not in rel.Type:
                    self.sheets.append(_Sheet(sheet.name, rel.target, self.shared_strings))
                # a stand-in that takes the sheet's defined names (print areas ...)
                self.wb._sheets.append(SimpleNamespace(title=sheet.name, defined_names={}))

    with open(path, "rb") as f:   # a file object: openpyxl goes by the name's extension
        reader = Reader(f, read_only=True, data_only=True, keep_links=False)
        reader.archive.close()       # (a workbook saved as .csv is still a workbook)
    reader.archive = zipfile.ZipFile(path)
    try:
        reader.read()
    except BaseException:
        reader.archive.close()
        raise
    return reader.wb, reader.sheets


def read_cells(path: str | Path, *, max_rows: int | None = None,
               sheets: list[str] | None = None) -> dict[str, dict[int, list[Cell]]]:
    """The cells holding values, by sheet and row number (1-based), without padding.

    Parameters
    ----------
    path
        The workbook.
    max_rows
        Stop each sheet after this row (for sniffing the first rows).
    sheets
        Only these sheets (default: every worksheet, in workbook order).

    Raises
    ------
    InputError
        Not a readable workbook, too large unpacked, or a bad cell (see module notes).

    """
    path = Path(path)
    check_xlsx(path)
    try:
        wb, worksheets = _load_workbook(path)
    except InputError:
        raise
    except Exception as exc:  # openpyxl raises many types on corrupt files
        raise FormatError(f"cannot open as an xlsx workbook: {' '.join(str(exc).split())}",
                          path=path) from None
    try:
        return {ws.title: _read_sheet_cells(ws, wb, path, max_rows) for ws in worksheets
                if sheets is None or ws.title in sheets}
    finally:
        wb.close()


def _read_sheet_cells(ws: _Sheet, wb: Any, path: Path, max_rows: int | None
                      ) -> dict[int, list[Cell]]:
    rows: dict[int, list[Cell]] = {}
    try:
        with warnings.catch_warnings():
            # openpyxl warns about date cells outside the calendar; they read as errors
            warnings.filterwarnings("ignore", message=".*outside the limits for dates.*")
            # print headers/footers are not data
            warnings.filterwarnings("ignore", message="Cannot parse header or footer")
            for r, cells in _cells(ws, wb, path, max_rows):
                if cells:
                    rows.setdefault(r, []).extend(cells)
    except InputError:
        raise
    except Exception as exc:  # broken XML, bad row numbers ...
        raise FormatError(f"cannot read sheet {ws.title!r}: {' '.join(str(exc).split())}",
                          path=path) from None
    return rows


def pandas_value(value: Any) -> Any:
    """A cell value as pandas' openpyxl reader returns it (whole floats as int)."""
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return int(value)
    return value


def dense_rows(rows: dict[int, list[Cell]], *, sheet: str, path: Path,
               fill: Any = "", convert: bool = True) -> list[list[Any]]:
    """The sheet as a list of equally long rows from row 1 and column A.

    With ``convert``, whole floats become int (as pandas reads them); otherwise
    values are as openpyxl reads them.

    Raises
    ------
    InputError
        The cells' bounding box is both larger than :data:`MAX_GRID_CELLS` and more
        than :data:`FILL_FACTOR` times the number of cells holding values: a stray
        value far from the table. The message names it.

    """
    if not rows:
        return []
    n_cells = sum(len(c) for c in rows.values())
    n_rows = max(rows)
    n_cols = max(col for cells in rows.values() for col, _ in cells)
    if n_rows * n_cols > max(MAX_GRID_CELLS, FILL_FACTOR * n_cells):
        raise _stray_cell(rows, sheet, path)
    grid = [[fill] * n_cols for _ in range(n_rows)]
    for r, cells in rows.items():
        for col, value in cells:
            grid[r - 1][col - 1] = pandas_value(value) if convert else value
    return grid


def _stray_cell(rows: dict[int, list[Cell]], sheet: str, path: Path) -> InputError:
    cells = sorted(((r, c) for r, cs in rows.items() for c, _ in cs),
                   key=lambda rc: rc[0] * rc[1], reverse=True)
    far = cells[0]
    rest = cells[1:]
    end = _cell_name(max(r for r, _ in rest), max(c for _, c in rest)) if rest else None
    table = f"the other cells end at {end}" if end else "no other cell"
    return InputError(f"cell {_cell_name(*far)} lies far outside the table ({table}); "
                       "delete it (a stray value?)", path=path,
                       where=f"sheet {sheet!r}, cell {_cell_name(*far)}")


def sheet_rows(path: str | Path, *, max_rows: int | None = None,
               sheets: list[str] | None = None, engine: str | None = None
               ) -> dict[str, list[tuple]]:
    """Rows of every sheet as tuples of values (None for empty cells).

    Like openpyxl's ``iter_rows(values_only=True)``, but never padded beyond the
    cells that hold values. ``engine``: see the module notes.
    """
    path = Path(path)
    grids = _fast_grids(path, sheets, max_rows, engine)
    if grids is not None:
        return {name: _none_for_empty(grid) for name, grid in grids.items()}
    out = {}
    for name, rows in read_cells(path, max_rows=max_rows, sheets=sheets).items():
        out[name] = [tuple(r) for r in dense_rows(rows, sheet=name, path=path, fill=None,
                                                  convert=False)]
    return out


def table_sheets(path: str | Path) -> list[str]:
    """The visible worksheets holding the table: the first one with values, then its twins.

    A twin is another visible sheet with the same header row (the first row of
    three or more cells, below any banner rows; a banner line such as
    EthoVision's ``Number of header lines:`` is not a header), e.g. a sheet per
    group. Hidden sheets are never read (a spreadsheet program does not show
    them: an old version kept hidden must not replace the table the user sees).
    The first sheet alone for a workbook without values; empty without worksheets.
    """
    path = Path(path)
    hidden = hidden_sheets(path)
    rows_of = {name: rows for name, rows in sheet_rows(path, max_rows=30).items()
               if name not in hidden}
    filled = [name for name, rows in rows_of.items()
              if any(v is not None for r in rows for v in r)]
    if not filled:
        return list(rows_of)[:1]
    # the header: the first row of three or more cells (banner rows above it are skipped)
    heads = {name: next((r for r in rows_of[name] if sum(v is not None for v in r) >= 3), None)
             for name in filled}
    first = heads[filled[0]]
    return [filled[0]] + [name for name in filled[1:] if first is not None
                          and heads[name] == first]


def data_sheet(path: str | Path) -> str | None:
    """The sheet a one-table reader takes: the first visible worksheet holding values.

    Another visible sheet with the same header row (:func:`table_sheets`) holds
    a second part or version of the table; a one-table reader cannot tell which
    is meant, so that is an error naming both sheets and the ways out. None for a
    workbook without worksheets.
    """
    names = table_sheets(path)
    if len(names) > 1:
        raise InputError(f"sheets {names[0]!r} and {names[1]!r} both hold a table with the "
                         "same header, and this format is read from one sheet: if they hold "
                         "different animals (a sheet per group), save each sheet as its own "
                         "file and give every file (or put the rows in one sheet); if one is "
                         "an old version, delete it", path=Path(path))
    return names[0] if names else None


def _none_for_empty(grid: list[list[Any]]) -> list[tuple]:
    """Dense calamine rows as :func:`sheet_rows` gives them (None, trimmed to the cells)."""
    rows = [tuple(None if v == "" else v for v in row) for row in grid]
    width = 0
    for row in rows:
        end = len(row)
        while end > width and row[end - 1] is None:
            end -= 1
        width = max(width, end)
    while rows and all(v is None for v in rows[-1]):
        rows.pop()
    return [row[:width] for row in rows]


def read_excel(path: str | Path, sheet_name: str | int | None = 0, *,
               header: int | None = 0, skiprows: int | list[int] | None = None,
               nrows: int | None = None, dtype: Any = None, na_values: Any = None,
               keep_default_na: bool = True, engine: str | None = None,
               header_cells: bool = False) -> pd.DataFrame | dict[str, pd.DataFrame]:
    """``pandas.read_excel`` for xlsx with the safety of :func:`read_cells`.

    Same results as pandas' openpyxl engine for the arguments supported here:
    ``sheet_name`` (name, index, or None for a dict of every sheet), ``header``,
    ``skiprows``, ``nrows``, ``dtype``, ``na_values``, ``keep_default_na``.
    ``engine``: see the module notes. With ``header_cells`` (and ``header`` a row,
    no ``skiprows``) each frame's ``attrs['header_cells']`` holds the header row as
    written: pandas renames a repeated name (``day7``, ``day7.1``).
    """
    from pandas.errors import EmptyDataError
    from pandas.io.parsers import TextParser

    path = Path(path)
    only = [sheet_name] if isinstance(sheet_name, str) else None
    max_rows = _rows_needed(header, skiprows, nrows)
    grids = _fast_grids(path, only, max_rows, engine)
    if grids is None:
        cells = read_cells(path, sheets=only, max_rows=max_rows)
        grids = {name: dense_rows(rows, sheet=name, path=path) for name, rows in cells.items()}
    names = list(grids)
    if sheet_name is None:
        wanted = names
    elif isinstance(sheet_name, int):
        if not 0 <= sheet_name < len(names):
            raise FormatError(f"expected at least {sheet_name + 1} sheet(s), found "
                              f"{len(names)}", path=path)
        wanted = [names[sheet_name]]
    elif sheet_name in grids:
        wanted = [sheet_name]
    else:
        raise FormatError(f"expected a sheet {sheet_name!r}, found {names}", path=path)
    out = {}
    for name in wanted:
        data = _trimmed(grids[name])
        if not data:
            out[name] = pd.DataFrame()
            continue
        try:
            out[name] = TextParser(data, header=header, skiprows=skiprows, nrows=nrows,
                                   dtype=dtype, na_values=na_values,
                                   keep_default_na=keep_default_na,
                                   skip_blank_lines=False).read(nrows=nrows)
        except EmptyDataError:
            out[name] = pd.DataFrame()
            continue
        if header_cells and isinstance(header, int) and skiprows is None \
                and header < len(data):
            out[name].attrs["header_cells"] = ["" if c is None else str(c)
                                               for c in data[header]]
    return out if sheet_name is None else out[wanted[0]]


def _rows_needed(header: int | None, skiprows: int | list[int] | None,
                 nrows: int | None) -> int | None:
    """Sheet rows to read for ``nrows`` data rows (as pandas computes it)."""
    if nrows is None:
        return None
    header_rows = 1 if header is None else 1 + header
    if skiprows is None:
        return header_rows + nrows
    if isinstance(skiprows, int):
        return header_rows + nrows + skiprows
    return header_rows + nrows + len(skiprows)


def _trimmed(grid: list[list[Any]]) -> list[list[Any]]:
    """Rows with trailing empty cells and trailing empty rows removed, then padded (pandas)."""
    rows = []
    for row in grid:
        end = len(row)
        while end and row[end - 1] == "":
            end -= 1
        rows.append(row[:end])
    while rows and not rows[-1]:
        rows.pop()
    width = max((len(r) for r in rows), default=0)
    return [r + [""] * (width - len(r)) for r in rows]
