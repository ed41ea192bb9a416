"""Whole xlsx sheets read fast with python-calamine, where it gives openpyxl's values.

calamine (Rust) reads a sheet about ten times faster than openpyxl, but it
builds a dense grid from the first to the last cell: one stray value at
``XFD1048576`` would ask for 17 billion cells and end the process. And it
reads a few things differently from openpyxl: a formula without a saved value
and an error value (``#N/A``) read as empty text. So each worksheet's XML is
scanned first (plain byte searches, no parsing), and calamine is used only when

* the sheet XML holds no formula and no error value;
* every cell has a reference, no cell lies beyond the first and last cells'
  rows or the columns seen, and the grid from A1 to the last cell is no larger
  than :data:`neurotox.workbook.MAX_GRID_CELLS` or
  :data:`neurotox.workbook.FILL_FACTOR` times the number of cells;
* the sheet XML unpacks to at most :data:`MAX_SHEET_XML` bytes (it is held in
  memory while scanned).

Otherwise :func:`read_sheets` returns None and the caller streams the sheet
through openpyxl (:func:`neurotox.workbook.read_cells`), which reads anything
within the size limits and names a stray cell, a formula without a value or a
bad number exactly.

Values are those of openpyxl's reader, with two differences that no neurotox
reader sees (every reader strips cell text): text that a workbook stores with
spaces around it but without ``xml:space="preserve"`` is read trimmed (as
SpreadsheetML defines it; openpyxl keeps the spaces), and an empty text cell
reads as empty. Numbers stored as whole numbers read as ``int`` (openpyxl
does so for ``5``, not for ``5.0``), dates as :class:`datetime.datetime`.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import zipfile
import zlib
from pathlib import Path, PurePosixPath
from typing import Any
from xml.etree import ElementTree

from neurotox.errors import InputError
from neurotox.files import MAX_VALUE, check_cell_magnitude, too_large_message

#: Largest sheet XML (unpacked bytes) scanned and read through calamine.
MAX_SHEET_XML = 256 * 2**20

_NS_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_NS_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_NS_PKG = "{http://schemas.openxmlformats.org/package/2006/relationships}"
_REF = re.compile(rb' r="([A-Z]{1,3})([0-9]{1,7})"')
_DIMENSION = re.compile(rb'<dimension ref="(?:[A-Z]+[0-9]+:)?([A-Z]{1,3})([0-9]{1,7})"')
#: Bytes at the start and end of a sheet whose cells give the expected width.
_EDGE = 1 << 16


def worksheet_parts(z: zipfile.ZipFile) -> dict[str, str]:
    """Worksheet name → zip part, in workbook order (chart sheets left out)."""
    book = ElementTree.fromstring(z.read("xl/workbook.xml"))
    rels = ElementTree.fromstring(z.read("xl/_rels/workbook.xml.rels"))
    targets = {r.get("Id"): r.get("Target", "") for r in rels.iter(f"{_NS_PKG}Relationship")}
    out = {}
    for sheet in book.iter(f"{_NS_MAIN}sheet"):
        target = targets.get(sheet.get(f"{_NS_REL}id"), "")
        part = target.lstrip("/") if target.startswith("/") else str(PurePosixPath("xl", target))
        if "/worksheets/" in f"/{part}":
            out[sheet.get("name", "")] = part
    return out


def _column(letters: bytes) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ch - 64
    return n


def _letters(col: int) -> bytes:
    out = b""
    while col:
        col, rem = divmod(col - 1, 26)
        out = bytes([65 + rem]) + out
    return out


def _greater(value: bytes, low: int, high: int, max_len: int) -> bytes:
    """Regex for strings of bytes in ``low..high`` that sort after ``value`` as numbers do.

    Longer strings are greater, and among strings of one length the bytewise
    greater one (decimal numbers without leading zeros, column letters).
    """
    k = len(value)
    alts = []
    if k < max_len:
        first = b"1" if low == ord("0") else bytes([low])   # no leading zero
        alts.append(b"[%s-%s][%s-%s]{%d,%d}" % (first, bytes([high]), bytes([low]),
                                                  bytes([high]), k, max_len - 1))
    for i, ch in enumerate(value):
        if ch < high:
            alts.append(re.escape(value[:i]) + b"[%s-%s]" % (bytes([ch + 1]), bytes([high]))
                        + (b"[%s-%s]{%d}" % (bytes([low]), bytes([high]), k - i - 1)))
    return b"(?:" + b"|".join(alts) + b")" if alts else b"(?!)"


def _beyond(last_col: int, last_row: int) -> re.Pattern[bytes]:
    """Cell references right of ``last_col`` or below ``last_row``."""
    col = _greater(_letters(last_col), ord("A"), ord("Z"), 3)
    row = _greater(str(last_row).encode(), ord("0"), ord("9"), 7)
    return re.compile(rb' r="(?:[A-Z]{1,3}' + row + rb'|' + col + rb'[0-9]{1,7})"')


def safe_sheet(data: bytes, max_grid: int, fill_factor: int) -> bool:
    """True when calamine reads the sheet XML ``data`` exactly as openpyxl and cheaply."""
    if b"<worksheet" not in data[:4096] or b"<c>" in data:
        return False                    # prefixed namespace, or a cell without reference
    if b"<f>" in data or b"<f " in data or b"<f/>" in data or b't="e"' in data:
        return False                    # formulas (saved value?) and error values
    first = _REF.search(data, data.find(b"<sheetData"))
    ends = list(_REF.finditer(data, max(0, len(data) - _EDGE)))
    if first is None or not ends:
        return b"<c " not in data       # no cell at all: empty sheet
    dim = _DIMENSION.search(data, 0, data.find(b"<sheetData"))
    cols = [_column(m.group(1)) for m in _REF.finditer(data, 0, _EDGE)]
    cols += [_column(m.group(1)) for m in ends]
    last_col = max(cols + ([_column(dim.group(1))] if dim else []))
    first_row, last_row = int(first.group(2)), int(ends[-1].group(2))
    n_cells = data.count(b"<c ")
    if last_row * last_col > max(max_grid, fill_factor * n_cells):
        return False
    if first_row > 1 and (first_row > 100 or _above(first_row).search(data)):
        return False                    # a cell above the first one (calamine needs order)
    return _beyond(last_col, last_row).search(data) is None


def _above(row: int) -> re.Pattern[bytes]:
    """Cell references in a row before ``row`` (a small number)."""
    return re.compile(rb' r="[A-Z]{1,3}(?:%s)"' % b"|".join(str(r).encode()
                                                           for r in range(1, row)))


def _sheet_xml(z: zipfile.ZipFile, part: str) -> bytes | None:
    try:
        info = z.getinfo(part)
    except KeyError:
        return None
    if info.file_size > MAX_SHEET_XML:
        return None
    with z.open(info) as f:
        return f.read(MAX_SHEET_XML + 1)


def read_sheets(path: Path, sheets: list[str] | None, *, max_grid: int,
                fill_factor: int) -> dict[str, list[list[Any]]] | None:
    """Every (or the named) worksheet as dense rows from A1, or None where calamine is unsafe.

    Empty cells are ``""``; values are checked and converted (module notes).
    Calamine's own failures also return None (the caller then reads with openpyxl,
    which names the problem).
    """
    try:
        with zipfile.ZipFile(path) as z:
            parts = worksheet_parts(z)
            wanted = [n for n in parts if sheets is None or n in sheets]
            if sheets is not None and len(wanted) < len(sheets):
                return None             # openpyxl names the missing sheet
            for name in wanted:
                data = _sheet_xml(z, parts[name])
                if data is None or not safe_sheet(data, max_grid, fill_factor):
                    return None
    except (zipfile.BadZipFile, OSError, KeyError, ValueError, EOFError, zlib.error,
            ElementTree.ParseError):   # corrupt parts: openpyxl's path names the problem
        return None
    try:
        return _calamine(path, wanted)
    except InputError:
        raise
    except BaseException as exc:   # pyo3 turns a Rust panic into a BaseException
        if not isinstance(exc, Exception) and type(exc).__name__ != "PanicException":
            raise
        return None


def _calamine(path: Path, names: list[str]) -> dict[str, list[list[Any]]]:
    from python_calamine import CalamineWorkbook

    out = {}
    with CalamineWorkbook.from_path(str(path)) as wb:
        for name in names:
            grid = wb.get_sheet_by_name(name).to_python(skip_empty_area=False)
            out[name] = _checked(grid, name, path)
    return out


def _checked(grid: list[list[Any]], sheet: str, path: Path) -> list[list[Any]]:
    """Convert values in place as openpyxl reads them; refuse NaN, infinity and NUL."""
    for r, row in enumerate(grid):
        for c, v in enumerate(row):
            t = type(v)
            if t is float:
                if math.isfinite(v) and abs(v) > MAX_VALUE:
                    _bad(path, sheet, r, c, too_large_message(v))
                if v.is_integer():
                    row[c] = int(v)
                elif not math.isfinite(v):
                    _bad(path, sheet, r, c, f"number {v} is not finite (overflow?)"
                         if v == v else "cannot read the cell: not a number")
            elif t is str:
                if "\x00" in v:
                    _bad(path, sheet, r, c, "text holds a NUL character")
                try:
                    check_cell_magnitude(v, path, "")
                except InputError as exc:
                    _bad(path, sheet, r, c, exc.detail)
            elif t is dt.date:
                row[c] = dt.datetime(v.year, v.month, v.day)
    return grid


def _bad(path: Path, sheet: str, r: int, c: int, message: str) -> None:
    where = f"sheet {sheet!r}, cell {_letters(c + 1).decode()}{r + 1}"
    raise InputError(message, path=path, where=where)
