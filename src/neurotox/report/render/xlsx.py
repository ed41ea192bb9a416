"""xlsx renderer: one sheet per table, frozen header, numbers stored as numbers.

Each data column of a table becomes its display text followed by one numeric
column per number field (mean, SD, n, % of control, p ...) and its flag, so a
spreadsheet user can both read and compute.
"""

from __future__ import annotations

import io
import math

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from neurotox.report.model import Report, Table
from neurotox.report.render._zip import freeze_zip

BOLD = Font(bold=True)
#: Table kinds whose cells carry significance flags (own spreadsheet column).
FLAGGED = ("summary", "incidence", "severity", "overview")
FIELD_LABELS = {"mean": "mean", "sd": "SD", "n": "n", "percent_of_control": "% of control",
                "p_value": "p", "n_affected": "n affected", "n_examined": "n examined",
                "incidence_pct": "%", "value": "value"}


def sheet_name(table: Table) -> str:
    """Sheet name of a table: ``T03 summary`` (unique, at most 31 characters)."""
    return f"T{table.number:02d} {table.kind}"[:31]


def expanded_columns(table: Table) -> list[str]:
    """Spreadsheet column headings: labels, then per data column text, numbers, flag."""
    cols = list(table.row_header)
    for c in _qualified(table):
        cols.append(c)
        cols += [f"{c} | {FIELD_LABELS.get(f, f)}" for f in table.number_fields]
        if table.kind in FLAGGED:
            cols.append(f"{c} | flag")
    return cols


def _qualified(table: Table) -> list[str]:
    """Column headings prefixed with their column group (``Tremors | week4``)."""
    groups = [g.label for g in table.column_groups for _ in range(g.span)]
    if len(groups) != len(table.columns):
        return list(table.columns)
    return [f"{g} | {c}" if g else c for g, c in zip(groups, table.columns, strict=True)]


def expanded_row(table: Table, row_index: int) -> list[object]:
    """Spreadsheet values of one row, numbers as floats, NaN as empty."""
    row = table.rows[row_index]
    out: list[object] = list(row.labels)
    for cell in row.cells:
        out.append(cell.text)
        out += [_number(cell.numbers.get(f)) for f in table.number_fields]
        if table.kind in FLAGGED:
            out.append(cell.flag + {"up": "↑", "down": "↓"}.get(cell.direction, "")
                       if cell.flag else "")
    return out


def _number(v: float | None) -> float | int | None:
    if v is None or not math.isfinite(v):
        return None
    return int(v) if float(v).is_integer() else float(v)


def _write_table(ws: Worksheet, table: Table) -> None:
    ws.append([table.caption])
    ws.cell(row=1, column=1).font = BOLD
    for k, v in table.header.items():
        ws.append([k, v])
    ws.append([])
    ws.append(expanded_columns(table))
    head = ws.max_row
    for cell in ws[head]:
        cell.font = BOLD
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    for i in range(len(table.rows)):
        ws.append(expanded_row(table, i))
    ws.append([])
    for note in table.footnotes:
        ws.append([note])
    ws.freeze_panes = ws.cell(row=head + 1, column=len(table.row_header) + 1)
    _widths(ws, table)


def _widths(ws: Worksheet, table: Table) -> None:
    """Label columns wide, display-text columns medium, number and flag columns narrow."""
    n_labels = len(table.row_header)
    step = 1 + len(table.number_fields) + (table.kind in FLAGGED)
    for j in range(1, len(expanded_columns(table)) + 1):
        text_col = j > n_labels and (j - n_labels - 1) % step == 0
        width = 22 if j <= n_labels else 20 if text_col else 10
        ws.column_dimensions[get_column_letter(j)].width = width


def _write_contents(ws: Worksheet, report: Report) -> None:
    ws.append([f"{report.study_id}: {report.title}"])
    ws.cell(row=1, column=1).font = BOLD
    for k, v in report.header.items():
        ws.append([k, v])
    ws.append([])
    ws.append(["Sheet", "Table"])
    for cell in ws[ws.max_row]:
        cell.font = BOLD
    for t in report.tables:
        ws.append([sheet_name(t), t.caption])
    for title, lines in (("Statistical methods", report.methods),
                         ("Guideline deviations", report.deviations),
                         ("Exclusions", report.exclusions)):
        ws.append([])
        ws.append([title])
        ws.cell(row=ws.max_row, column=1).font = BOLD
        for line in lines or ["None."]:
            ws.append([line])
    ws.column_dimensions["A"].width = 24
    ws.column_dimensions["B"].width = 90


def render_xlsx(report: Report) -> bytes:
    """The workbook as bytes: a contents sheet, then one sheet per table."""
    wb = Workbook()
    ws = wb.active
    ws.title = "Contents"
    _write_contents(ws, report)
    for table in report.tables:
        _write_table(wb.create_sheet(sheet_name(table)), table)
    wb.properties.creator = "neurotox"
    wb.properties.title = f"{report.study_id} report"
    buf = io.BytesIO()
    wb.save(buf)
    return freeze_zip(buf.getvalue())
