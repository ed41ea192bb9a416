"""docx renderer: real Word tables with titles and footnotes, figures embedded.

This is the file study directors paste into reports, so every table is a Word
table in one consistent style ("Table Grid", 8 pt), preceded by its numbered
title and header fields and followed by its footnotes.
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import replace

from docx import Document
from docx.document import Document as DocxDocument
from docx.enum.section import WD_ORIENT
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Inches, Pt

from neurotox.report.model import ColumnGroup, Figure, Report, Row, Table, by_category
from neurotox.report.render._zip import freeze_zip

FIXED = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
#: Most data columns in one Word table; wider tables continue below.
MAX_COLUMNS = 12


def _style(doc: DocxDocument) -> None:
    doc.styles["Normal"].font.name = "Arial"
    doc.styles["Normal"].font.size = Pt(9)
    section = doc.sections[0]
    section.orientation = WD_ORIENT.LANDSCAPE
    section.page_width, section.page_height = section.page_height, section.page_width
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, side, Inches(0.7))


def _small(paragraph, size: float = 8, bold: bool = False) -> None:
    for run in paragraph.runs:
        run.font.size = Pt(size)
        run.bold = bold


def _header_rows(table: Table) -> list[list[str]]:
    rows = []
    if table.column_groups:
        row = [""] * len(table.row_header)
        for g in table.column_groups:
            row += [g.label] * g.span
        rows.append(row)
    rows.append(list(table.row_header) + list(table.columns))
    return rows


def _merge_groups(wt, table: Table) -> None:
    if not table.column_groups:
        return
    cells = wt.rows[0].cells
    j = len(table.row_header)
    for g in table.column_groups:
        if g.span > 1:
            cells[j].merge(cells[j + g.span - 1])
            cells[j].text = g.label
        j += g.span


def chunks(table: Table, width: int = MAX_COLUMNS) -> list[Table]:
    """Split a wide table into tables of at most ``width`` data columns (same rows)."""
    n = len(table.columns)
    if n <= width:
        return [table]
    groups = [g.label for g in table.column_groups for _ in range(g.span)]
    out = []
    for start in range(0, n, width):
        sl = slice(start, min(start + width, n))
        labels = groups[sl] if len(groups) == n else []
        spans = [ColumnGroup(k, sum(1 for x in labels if x == k))
                 for k in dict.fromkeys(labels)]
        rows = [Row(r.labels, r.cells[sl]) for r in table.rows]
        out.append(replace(table, columns=table.columns[sl], column_groups=tuple(spans),
                           rows=rows))
    return out


def add_table(doc: DocxDocument, table: Table) -> None:
    """Append a numbered title, header fields, the Word table(s) and the footnotes.

    Tables wider than :data:`MAX_COLUMNS` data columns continue in further Word
    tables under a "(continued)" title, so that they fit a landscape page.
    """
    _small(doc.add_paragraph(table.caption), 10, bold=True)
    _small(doc.add_paragraph("; ".join(f"{k}: {v}" for k, v in table.header.items())))
    for k, part in enumerate(chunks(table)):
        if k:
            _small(doc.add_paragraph(f"Table {table.number} (continued)"), 9, bold=True)
        _word_table(doc, part)
    for note in table.footnotes:
        _small(doc.add_paragraph(note), 7.5)


def _word_table(doc: DocxDocument, table: Table) -> None:
    heads = _header_rows(table)
    body = [list(r.labels) + [c.text for c in r.cells] for r in table.rows]
    wt = doc.add_table(rows=len(heads) + len(body), cols=len(heads[-1]))
    wt.style = "Table Grid"
    for i, values in enumerate(heads + body):
        cells = wt.rows[i].cells
        for j, text in enumerate(values):
            cells[j].text = text
            _small(cells[j].paragraphs[0], 8, bold=i < len(heads))
    _merge_groups(wt, table)
    for row in wt.rows[:len(heads)]:
        _repeat_as_header(row)


def _repeat_as_header(row) -> None:
    """Mark a Word table row as a header row, repeated at the top of each page."""
    flag = OxmlElement("w:tblHeader")
    flag.set(qn("w:val"), "true")
    row._tr.get_or_add_trPr().append(flag)


def add_figure(doc: DocxDocument, figure: Figure) -> None:
    """Append a figure (PNG) with its numbered caption."""
    doc.add_picture(io.BytesIO(figure.png), width=Inches(5.5))
    _small(doc.add_paragraph(figure.caption), 9, bold=True)


def _section(doc: DocxDocument, title: str, lines: list[str]) -> None:
    doc.add_heading(title, level=1)
    for line in lines or ["None."]:
        doc.add_paragraph(line)


def render_docx(report: Report) -> bytes:
    """The Word document as bytes (reproducible: constant dates)."""
    doc = Document()
    _style(doc)
    doc.add_heading(f"{report.study_id}: {report.title}", level=0)
    for k, v in report.header.items():
        doc.add_paragraph(f"{k}: {v}")
    _section(doc, "Statistical methods", report.methods)
    _section(doc, "Guideline deviations", report.deviations)
    _section(doc, "Exclusions", report.exclusions)
    doc.add_heading("Summary tables", level=1)
    for label, run in by_category([t for t in report.tables if t.kind != "listing"]):
        if label:
            doc.add_heading(label, level=2)
        for table in run:
            add_table(doc, table)
    doc.add_heading("Figures", level=1)
    for label, run in by_category(report.figures):
        if label:
            doc.add_heading(label, level=2)
        for figure in run:
            add_figure(doc, figure)
    doc.add_heading("Individual listings", level=1)
    for table in (t for t in report.tables if t.kind == "listing"):
        add_table(doc, table)
    props = doc.core_properties
    props.created = props.modified = props.last_printed = FIXED
    props.author = props.last_modified_by = "neurotox"
    props.title = f"{report.study_id} report"
    props.revision = 1
    buf = io.BytesIO()
    doc.save(buf)
    return freeze_zip(buf.getvalue())
