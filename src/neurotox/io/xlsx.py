"""Writing xlsx workbooks: every text cell is written as text, never as a formula.

openpyxl stores a string beginning with ``=`` as a formula (data type ``f``)
and one such as ``#N/A`` as an error value: an animal ID ``=1+1`` from a
subjects file would show as 2 in a listing, a study title
``=HYPERLINK(...)`` as a live link. Every workbook neurotox writes (the
report, simulated instrument sheets) passes its sheets through
:func:`text_cells`, which gives every text cell the data type ``s`` (the file
then says "string") and, for text beginning with a character that starts a
formula in a spreadsheet (``=``, ``+``, ``-``, ``@``, tab, carriage return),
the quote prefix, so that it stays text when a user edits the cell.

Header and footer texts of a sheet are codes (``&P`` is the page number):
:func:`header_text` doubles every ``&`` of text put there.

References
----------
OWASP, "CSV Injection" (formula injection into spreadsheet files).

"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pandas as pd

#: Characters that make a spreadsheet read the text after them as a formula.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def text_cells(ws: Any) -> None:
    """Make every text cell of an openpyxl worksheet a string cell (never a formula).

    Text beginning with one of :data:`FORMULA_START` also gets the quote prefix.
    """
    for row in ws.iter_rows():
        for cell in row:
            if isinstance(cell.value, str):
                cell.data_type = "s"
                if cell.value.startswith(FORMULA_START):
                    cell.quotePrefix = True


def header_text(text: str) -> str:
    """Text for a sheet's header or footer: ``&`` doubled so it is no control code."""
    return text.replace("&", "&&")


def _value(v: Any) -> Any:
    """A DataFrame value as openpyxl writes it: missing as empty, numpy scalars as Python."""
    if v is None or v is pd.NaT or v is pd.NA or (isinstance(v, float) and math.isnan(v)):
        return None
    if isinstance(v, pd.Timestamp):
        return v.to_pydatetime()
    if hasattr(v, "item") and not isinstance(v, str):
        v = v.item()
        return None if isinstance(v, float) and math.isnan(v) else v
    return v


def write_frame(df: pd.DataFrame, path: str | Path, *, sheet: str = "Sheet1") -> None:
    """Write a DataFrame as a one-sheet workbook: a header row, then one row per row.

    Like ``DataFrame.to_excel(path, index=False)``, but text cells are text
    (:func:`text_cells`) and missing values are empty cells.
    """
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = sheet
    ws.append([str(c) for c in df.columns])
    for row in df.itertuples(index=False, name=None):
        ws.append([_value(v) for v in row])
    text_cells(ws)
    wb.save(path)
