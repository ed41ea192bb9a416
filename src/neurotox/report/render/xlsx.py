"""xlsx renderer: one sheet per table, ready for analysis and for printing.

Every text cell is written as text, never as a formula (:mod:`neurotox.io.xlsx`):
an animal ID or title beginning with ``=`` shows as typed.

Each data column of a table becomes its display text followed by one numeric
column per number field (mean, SD, n, % of control, p ...) and a text column
for its flag, so a spreadsheet user can both read and compute. Numbers are
stored at full precision and shown with number formats (the decimals of the
table, p-values as 0.000 and "< 0.001"); headers are frozen, and every sheet
prints with the study number, "Page X of Y", date, software and run ID in its
page header and footer; a table sheet with its header row and label columns
repeated, fitted to the page width when that prints at half size or more,
else at full size on pages across.
"""

from __future__ import annotations

import io
import math

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from neurotox.io.xlsx import header_text, text_cells
from neurotox.report.front import (
    BLANK,
    COMPLIANCE,
    DRAFT_TEXT,
    QA_TEXT,
    SIGN_LINE,
    traceability,
)
from neurotox.report.materials import TITLE as MATERIALS_TITLE
from neurotox.report.model import Report, Table
from neurotox.report.render._zip import freeze_zip, run_time
from neurotox.report.render.layout import plan_parts

BOLD = Font(bold=True)
DRAFT_FONT = Font(bold=True, size=14, color="AA0000")
#: Table kinds whose cells carry significance flags (own spreadsheet column).
FLAGGED = ("summary", "incidence", "severity", "findings", "pathology")
#: Number format of p-values: three decimals, "< 0.001" below.
P_FORMAT = '[<0.001]"< 0.001";0.000'
#: openpyxl paper sizes.
PAPER_SIZE = {"a4": 9, "letter": 1}
#: Sheet of the materials and methods of the analysis (after the tables).
MATERIALS_SHEET = "Materials and methods"
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


def number_format(field: str, decimals: int | None) -> str:
    """Excel number format of a number field."""
    if field == "p_value":
        return P_FORMAT
    if field in ("n", "n_affected", "n_examined", "percent_of_control", "incidence_pct"):
        return "0"
    if decimals is None:
        return "General"
    return "0" if decimals == 0 else "0." + "0" * decimals


def _formats(ws: Worksheet, table: Table, first_row: int) -> None:
    """Number formats of the numeric columns, from the decimals each cell was shown with."""
    n_labels = len(table.row_header)
    step = 1 + len(table.number_fields) + (table.kind in FLAGGED)
    for i, row in enumerate(table.rows):
        for j, cell in enumerate(row.cells):
            base = n_labels + j * step + 2  # 1-based column of the first number field
            for k, f in enumerate(table.number_fields):
                xl = ws.cell(row=first_row + i, column=base + k)
                if xl.value is not None:
                    xl.number_format = number_format(f, cell.decimals)


def _print_setup(ws: Worksheet, table: Table, head: int, report: Report) -> None:
    """Print titles, fit to the page width where legible, orientation, header and footer."""
    paper = report.front.paper if report.front else "a4"
    ws.print_title_rows = f"{head}:{head}"
    ws.print_title_cols = f"A:{get_column_letter(len(table.row_header))}"
    wide = any(p.landscape for p in plan_parts(table, paper)) or len(table.columns) > 4
    _page(ws, report, table.caption, landscape=wide)


#: Smallest print scale a sheet is fitted to its page width with: below it the
#: print would be unreadable (11 pt at 50 % prints as 5.5 pt), so the sheet prints
#: at full size on as many pages across as it needs, its header row and label
#: columns repeated on each.
MIN_FIT_SCALE = 0.5
#: Printable width of a page in inches (paper width less openpyxl's default margins
#: of 0.75 in each side), by paper and orientation.
PRINTABLE_IN = {("a4", False): 8.27 - 1.5, ("a4", True): 11.69 - 1.5,
                ("letter", False): 8.5 - 1.5, ("letter", True): 11.0 - 1.5}


def fit_scale(ws: Worksheet, paper: str, landscape: bool) -> float:
    """Scale at which the sheet's used columns fit the printable page width.

    A column ``width`` characters wide is ``7 * width + 5`` pixels at 96 dpi
    (Excel's default font, Calibri 11, is 7 pixels per character).
    """
    pixels = sum(7 * (ws.column_dimensions[get_column_letter(j)].width or 8.43) + 5
                 for j in range(1, ws.max_column + 1))
    return PRINTABLE_IN[paper, landscape] * 96 / pixels


def _page(ws: Worksheet, report: Report, what: str, *, landscape: bool) -> None:
    """Paper, orientation, fit to width (if legible), page header and footer of a sheet.

    A sheet too wide to print legibly on a portrait page prints landscape.
    """
    paper = report.front.paper if report.front else "a4"
    landscape = landscape or fit_scale(ws, paper, False) < MIN_FIT_SCALE
    ws.page_setup.paperSize = PAPER_SIZE[paper]
    ws.page_setup.orientation = "landscape" if landscape else "portrait"
    fits = fit_scale(ws, paper, landscape) >= MIN_FIT_SCALE
    ws.sheet_properties.pageSetUpPr.fitToPage = fits
    if fits:
        ws.page_setup.fitToWidth = 1
        ws.page_setup.fitToHeight = 0
    ws.oddHeader.left.text = header_text(f"Study {report.study_id}")
    if report.draft:
        ws.oddHeader.center.text = "DRAFT"
    ws.oddHeader.right.text = header_text(shorten(what, 80))
    stamp = report.stamp
    ws.oddFooter.left.text = "Page &P of &N"
    if stamp:
        ws.oddFooter.right.text = header_text(f"{stamp.report_day}  {stamp.software}  "
                                              f"Run {stamp.run_id}")


def shorten(text: str, limit: int) -> str:
    """``text`` cut at a word boundary to at most ``limit`` characters, "…" marking the cut."""
    if len(text) <= limit:
        return text
    cut = text[:limit - 1]
    return (cut.rsplit(" ", 1)[0] if " " in cut else cut).rstrip(" ,;:—-") + "…"


def _number(v: float | None) -> float | int | None:
    if v is None or not math.isfinite(v):
        return None
    return int(v) if float(v).is_integer() else float(v)


def _write_table(ws: Worksheet, table: Table, report: Report) -> None:
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
    _formats(ws, table, head + 1)
    ws.append([])
    for note in table.footnotes:
        ws.append([note])
    ws.freeze_panes = ws.cell(row=head + 1, column=len(table.row_header) + 1)
    _widths(ws, table)
    _print_setup(ws, table, head, report)


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
    if report.draft:
        ws.append([DRAFT_TEXT])
        ws.cell(row=2, column=1).font = DRAFT_FONT
    rows = report.front.title_block if report.front else list(report.header.items())
    for k, v in [*rows, *traceability(report.stamp)]:
        ws.append([k, v])
    _glp_statements(ws, report)
    ws.append([])
    ws.append(["Sheet", "Table"])
    for cell in ws[ws.max_row]:
        cell.font = BOLD
    for t in report.tables:
        ws.append([sheet_name(t), t.caption])
    if report.materials:
        ws.append([MATERIALS_SHEET, MATERIALS_TITLE])
    for title, lines in (("Statistical methods", report.methods),
                         ("Guideline deviations", report.deviations),
                         ("Exclusions", report.exclusions),
                         ("Appendix: messages of the software", report.appendix)):
        _heading(ws, title)
        for line in lines or ["None."]:
            ws.append([line])
    ws.column_dimensions["A"].width = 24
    ws.column_dimensions["B"].width = 90
    ws.column_dimensions["C"].width = 24
    ws.freeze_panes = "A2"
    ws.print_title_rows = "1:1"
    _page(ws, report, "Contents", landscape=True)


def _heading(ws: Worksheet, text: str) -> None:
    ws.append([])
    ws.append([text])
    ws.cell(row=ws.max_row, column=1).font = BOLD


def _glp_statements(ws: Worksheet, report: Report) -> None:
    """The statement of compliance and the QA statement, as the docx/pdf/html print them."""
    front = report.front
    if front is None or not front.glp:
        return
    _heading(ws, "Statement of compliance")
    for text in front.compliance or COMPLIANCE:
        ws.append([text])
    ws.append(["Study director", front.study_director or BLANK])
    ws.append([SIGN_LINE])
    _heading(ws, "Quality assurance statement")
    ws.append([front.qa_text or QA_TEXT])
    ws.append(["Phase inspected", "Date of inspection",
               "Date reported to study director and management"])
    for cell in ws[ws.max_row]:
        cell.font = BOLD
    line = "____________"
    for phase, inspected, reported in front.qa_inspections:
        ws.append([phase or line, inspected or line, reported or line])
    ws.append(["Quality Assurance", front.qa_name or BLANK])
    ws.append([SIGN_LINE])


def _write_materials(ws: Worksheet, report: Report) -> None:
    """Materials and methods of the analysis: a heading per block, its text, its files."""
    ws.append([MATERIALS_TITLE])
    ws.cell(row=1, column=1).font = BOLD
    for block in report.materials:
        ws.append([])
        ws.append([block.heading])
        ws.cell(row=ws.max_row, column=1).font = BOLD
        for line in block.paragraphs:
            ws.append([line])
            ws.cell(row=ws.max_row, column=1).alignment = Alignment(wrap_text=True,
                                                                     vertical="top")
        if block.files:
            ws.append(["File", "SHA-256"])
            for cell in ws[ws.max_row]:
                cell.font = BOLD
            for name, sha in block.files:
                ws.append([name, sha])
    ws.column_dimensions["A"].width = 90
    ws.column_dimensions["B"].width = 68
    _page(ws, report, MATERIALS_TITLE, landscape=True)


def render_xlsx(report: Report) -> bytes:
    """The workbook as bytes: a contents sheet, then one sheet per table."""
    wb = Workbook()
    ws = wb.active
    ws.title = "Contents"
    _write_contents(ws, report)
    for table in report.tables:
        _write_table(wb.create_sheet(sheet_name(table)), table, report)
    if report.materials:
        _write_materials(wb.create_sheet(MATERIALS_SHEET), report)
    for sheet in wb.worksheets:  # every sheet, whoever wrote it: text is never a formula
        text_cells(sheet)
    wb.properties.creator = "neurotox"
    wb.properties.title = f"{report.study_id} report"
    buf = io.BytesIO()
    wb.save(buf)
    return freeze_zip(buf.getvalue(), run_time(report.stamp))
