"""docx renderer: a paginated study report a study director can sign.

- A4 (or US Letter) pages; each table starts a section of its own, portrait when
  it fits, landscape when it needs the width, split by column groups (row
  labels repeated) when even landscape is too narrow.
- Every page: a header with the study number, the title and the table shown;
  a footer with "Page X of Y" (PAGE and NUMPAGES fields), the report date (the
  title page's), the software version and the run ID.
- Front matter: title page (study file), GLP compliance and QA statements with
  signature lines (GLP studies), a table of contents (static: every heading,
  linked, no field for Word to update), methods, deviations, exclusions.
- Tables are real Word tables ("Table Grid", 8 pt), header rows repeated on
  every page; figures embedded as 300 dpi PNG.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from xml.sax.saxutils import escape

from docx import Document
from docx.document import Document as DocxDocument
from docx.enum.section import WD_ORIENT, WD_SECTION
from docx.enum.text import WD_BREAK
from docx.oxml import OxmlElement, parse_xml
from docx.oxml.ns import nsdecls, qn
from docx.shared import Mm, Pt
from docx.text.paragraph import Paragraph

from neurotox.report.front import COMPLIANCE, DRAFT_TEXT, QA_TEXT, SIGN_LINE, traceability
from neurotox.report.materials import TITLE as MATERIALS_TITLE
from neurotox.report.model import Figure, Report, Row, Table, by_category
from neurotox.report.render._zip import freeze_zip, run_time
from neurotox.report.render.layout import MARGIN_MM, PAPER, Part, plan_parts, usable_width

FIXED = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def _clean(text: object) -> str:
    return escape(_CONTROL.sub("", str(text)))


# ------------------------------------------------------------------ paragraphs

def _small(paragraph, size: float = 8, bold: bool = False) -> None:
    for run in paragraph.runs:
        run.font.size = Pt(size)
        run.bold = bold


def _field(paragraph, instruction: str, cached: str = "1") -> None:
    """Append a complex field (``PAGE``, ``NUMPAGES``) with a cached result."""
    def char(kind: str) -> None:
        el = OxmlElement("w:fldChar")
        el.set(qn("w:fldCharType"), kind)
        paragraph.add_run()._r.append(el)

    char("begin")
    instr = OxmlElement("w:instrText")
    instr.set(qn("xml:space"), "preserve")
    instr.text = f" {instruction} "
    paragraph.add_run()._r.append(instr)
    char("separate")
    paragraph.add_run(cached)
    char("end")


def _page_setup(section, paper: str, landscape: bool) -> None:
    w, h = PAPER[paper]
    section.orientation = WD_ORIENT.LANDSCAPE if landscape else WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = (Mm(h), Mm(w)) if landscape else (Mm(w), Mm(h))
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, side, Mm(MARGIN_MM))
    section.header_distance = section.footer_distance = Mm(7)


def _header_text(report: Report, what: str) -> str:
    title = report.title if len(report.title) <= 70 else report.title[:68] + "…"
    return (("DRAFT  |  " if report.draft else "") + f"Study {report.study_id}  |  {title}"
            + (f"  |  {what}" if what else ""))


def _set_header(section, report: Report, what: str) -> None:
    section.header.is_linked_to_previous = False
    p = section.header.paragraphs[0]
    p.text = _header_text(report, what)
    _small(p, 7.5)


def _set_footer(section, report: Report) -> None:
    p = section.footer.paragraphs[0]
    p.add_run("Page ")
    _field(p, "PAGE")
    p.add_run(" of ")
    _field(p, "NUMPAGES")
    s = report.stamp
    tail = (f"  |  Report date {s.report_day}  |  {s.software}  |  Run ID {s.run_id}" if s
            else "  |  neurotox")
    p.add_run(tail)
    _small(p, 7.5)


def _new_section(doc: DocxDocument, report: Report, what: str, landscape: bool,
                 paper: str):
    section = doc.add_section(WD_SECTION.NEW_PAGE)
    _page_setup(section, paper, landscape)
    _set_header(section, report, what)
    return section


# ------------------------------------------------------------------ tables

def _cell_xml(text: str, width_twips: int, *, bold: bool = False, span: int = 1,
              left: bool = False) -> str:
    span_xml = f'<w:gridSpan w:val="{span}"/>' if span > 1 else ""
    jc = "left" if left else "center"
    lines = str(text).split("\n")
    runs = '<w:r><w:br/></w:r>'.join(
        f'<w:r><w:rPr>{"<w:b/>" if bold else ""}<w:sz w:val="16"/></w:rPr>'
        f'<w:t xml:space="preserve">{_clean(line)}</w:t></w:r>' for line in lines)
    return (f'<w:tc><w:tcPr><w:tcW w:w="{width_twips}" w:type="dxa"/>{span_xml}</w:tcPr>'
            f'<w:p><w:pPr><w:spacing w:before="0" w:after="0"/><w:jc w:val="{jc}"/></w:pPr>'
            f"{runs}</w:p></w:tc>")


def table_xml(part: Part, *, header: bool = True) -> str:
    """WordprocessingML of one printable part: header rows repeated, widths fixed."""
    t = part.table
    tw = [int(w / 25.4 * 1440) for w in part.widths]
    n_labels = len(t.row_header)
    rows = []
    head = '<w:trPr><w:cantSplit/><w:tblHeader/></w:trPr>'
    if t.column_groups:
        cells = [_cell_xml("", sum(tw[:n_labels]), span=n_labels)]
        j = n_labels
        for g in t.column_groups:
            cells.append(_cell_xml(g.label, sum(tw[j:j + g.span]), bold=True, span=g.span))
            j += g.span
        rows.append(f"<w:tr>{head}{''.join(cells)}</w:tr>")
    heads = list(t.row_header) + list(t.columns)
    if header:
        rows.append(f"<w:tr>{head}" + "".join(_cell_xml(h, tw[j], bold=True, left=j < n_labels)
                                              for j, h in enumerate(heads)) + "</w:tr>")
    for r in t.rows:
        texts = list(r.labels) + [c.text for c in r.cells]
        rows.append('<w:tr><w:trPr><w:cantSplit/></w:trPr>' + "".join(
            _cell_xml(x, tw[j], left=j < n_labels) for j, x in enumerate(texts)) + "</w:tr>")
    grid = "".join(f'<w:gridCol w:w="{w}"/>' for w in tw)
    return (f"<w:tbl {nsdecls('w')}><w:tblPr><w:tblStyle w:val=\"TableGrid\"/>"
            f'<w:tblW w:w="{sum(tw)}" w:type="dxa"/><w:tblLayout w:type="fixed"/>'
            '<w:tblCellMar><w:left w:w="45" w:type="dxa"/><w:right w:w="45" w:type="dxa"/>'
            f"</w:tblCellMar></w:tblPr><w:tblGrid>{grid}</w:tblGrid>{''.join(rows)}</w:tbl>")


def _append_xml(doc: DocxDocument, xml: str) -> None:
    body = doc.element.body
    body.insert(len(body) - 1, parse_xml(xml))  # before the final sectPr


def _caption(doc: DocxDocument, text: str) -> Paragraph:
    p = doc.add_paragraph(text, style="Heading 3")
    _small(p, 10, bold=True)
    return p


def add_table(doc: DocxDocument, report: Report, table: Table, paper: str,
              headings: tuple[tuple[str, int], ...] = ()) -> None:
    """A table in sections of its own: headings, caption, header, part(s), footnotes."""
    parts = plan_parts(table, paper)
    for part in parts:
        what = f"Table {table.number}" + (f" (part {part.index} of {part.count})"
                                          if part.count > 1 else "")
        _new_section(doc, report, what, part.landscape, paper)
        if part.index == 1:
            for text, level in headings:
                doc.add_heading(text, level=level)
            _caption(doc, table.caption)
            _small(doc.add_paragraph("; ".join(f"{k}: {v}" for k, v in table.header.items())),
                   7.5)
        else:
            _small(doc.add_paragraph(f"Table {table.number} (continued, part {part.index} of "
                                     f"{part.count})"), 9, bold=True)
        _append_xml(doc, table_xml(part))
        if part.index == part.count:
            for note in table.footnotes:
                _small(doc.add_paragraph(note), 7.5)


def add_figure(doc: DocxDocument, figure: Figure, width_mm: float) -> None:
    """A figure (300 dpi PNG) with its numbered caption below it, on the same page.

    The caption is a heading (for the table of contents), and headings keep
    with the paragraph after them: below a figure that tied each caption to
    the next figure across a page break. The picture keeps with its caption
    instead, and the caption with nothing.
    """
    doc.add_picture(io.BytesIO(figure.png), width=Mm(width_mm))
    doc.paragraphs[-1].paragraph_format.keep_with_next = True
    _caption(doc, figure.caption).paragraph_format.keep_with_next = False


# ------------------------------------------------------------------ front matter

def _key_value_table(rows: list[tuple[str, str]], widths: tuple[float, float]) -> str:
    t = Table(0, "", "kv", "kv", {}, ("", ""), (), [Row((k, v), ()) for k, v in rows])
    return table_xml(Part(t, False, widths), header=False)


def _title_page(doc: DocxDocument, report: Report, paper: str) -> None:
    if report.draft:
        _small(doc.add_paragraph(DRAFT_TEXT), 14, bold=True)
    doc.add_paragraph(report.title, style="Title")
    width = usable_width(paper, False)
    front = report.front
    rows = front.title_block if front else list(report.header.items())
    if rows:
        _append_xml(doc, _key_value_table(rows, (55.0, width - 55.0)))
    trace = traceability(report.stamp)
    if trace:
        doc.add_paragraph()
        _small(doc.add_paragraph("Traceability"), 10, bold=True)
        _append_xml(doc, _key_value_table(trace, (55.0, width - 55.0)))


def _signature(doc: DocxDocument, role: str, name: str) -> None:
    doc.add_paragraph()
    doc.add_paragraph(f"{role}: {name or '________________________'}")
    doc.add_paragraph(SIGN_LINE)


def _glp_pages(doc: DocxDocument, report: Report) -> None:
    front = report.front
    if front is None or not front.glp:
        return
    doc.add_paragraph().add_run().add_break(WD_BREAK.PAGE)
    doc.add_heading("Statement of compliance", level=1)
    for text in front.compliance or COMPLIANCE:
        doc.add_paragraph(text)
    _signature(doc, "Study director", front.study_director)
    doc.add_paragraph().add_run().add_break(WD_BREAK.PAGE)
    doc.add_heading("Quality assurance statement", level=1)
    doc.add_paragraph(front.qa_text or QA_TEXT)
    line = "____________"
    rows = [Row((phase or line, inspected or line, reported or line), ())
            for phase, inspected, reported in front.qa_inspections]
    t = Table(0, "", "qa", "qa", {}, ("Phase inspected", "Date of inspection",
                                      "Date reported to study director and management"), (),
              rows)
    _append_xml(doc, table_xml(Part(t, False, (70.0, 45.0, 65.0))))
    _signature(doc, "Quality Assurance", front.qa_name)


def _contents(doc: DocxDocument) -> Paragraph:
    """The "Contents" title; :func:`_fill_contents` adds the entries once every heading exists."""
    doc.add_paragraph().add_run().add_break(WD_BREAK.PAGE)
    title = doc.add_paragraph("Contents")
    _small(title, 14, bold=True)
    return title


def _heading_level(paragraph: Paragraph) -> int | None:
    name = paragraph.style.name if paragraph.style is not None else ""
    match = re.fullmatch(r"Heading ([1-3])", name)
    return int(match.group(1)) if match else None


def _bookmark(paragraph: Paragraph, name: str, number: int) -> None:
    """Wrap a paragraph's text in a bookmark (the target of a contents entry)."""
    start, end = OxmlElement("w:bookmarkStart"), OxmlElement("w:bookmarkEnd")
    start.set(qn("w:id"), str(number))
    start.set(qn("w:name"), name)
    end.set(qn("w:id"), str(number))
    p = paragraph._p
    if p.pPr is not None:
        p.pPr.addnext(start)
    else:
        p.insert(0, start)
    p.append(end)


def _fill_contents(doc: DocxDocument, title: Paragraph) -> None:
    """A static table of contents below ``title``: every heading of levels 1–3, linked.

    The headings are known when the document is written, so the entries are
    plain paragraphs (each a link to its heading), not a TOC field: Word has
    nothing to update when the file is opened (no ``updateFields``), the
    document is not changed before it is signed, and the PDF converted from it
    shows the same contents. Page numbers are left out: only the program that
    lays the pages out knows them (every page header names its table instead).
    """
    entries = []
    for number, paragraph in enumerate(doc.paragraphs):
        level = _heading_level(paragraph)
        if level is not None and paragraph.text.strip():
            name = f"_Toc{number:06d}"
            _bookmark(paragraph, name, number)
            entries.append((level, paragraph.text, name))
    after = title._p
    for level, text, name in entries:
        bold = "<w:b/>" if level == 1 else ""
        entry = parse_xml(
            f"<w:p {nsdecls('w')}><w:pPr><w:spacing w:before=\"0\" w:after=\"0\"/>"
            f'<w:ind w:left="{(level - 1) * 284}"/></w:pPr>'
            f'<w:hyperlink w:anchor="{name}" w:history="1"><w:r><w:rPr>{bold}'
            f'<w:sz w:val="{18 if level < 3 else 16}"/></w:rPr>'
            f'<w:t xml:space="preserve">{_clean(text)}</w:t></w:r></w:hyperlink></w:p>')
        after.addnext(entry)
        after = entry


def _section_text(doc: DocxDocument, title: str, lines: list[str]) -> None:
    doc.add_heading(title, level=1)
    for line in lines or ["None."]:
        doc.add_paragraph(line)


def _materials(doc: DocxDocument, report: Report, paper: str) -> None:
    """Materials and methods of the analysis: a sub-heading per block, its text and files."""
    if not report.materials:
        return
    doc.add_heading(MATERIALS_TITLE, level=1)
    width = usable_width(paper, False)
    for block in report.materials:
        doc.add_heading(block.heading, level=2)
        for line in block.paragraphs:
            doc.add_paragraph(line)
        if block.files:
            _append_xml(doc, _key_value_table(block.files, (width - 110.0, 110.0)))


def _style(doc: DocxDocument) -> None:
    doc.styles["Normal"].font.name = "Arial"
    doc.styles["Normal"].font.size = Pt(9)
    doc.styles["Normal"].paragraph_format.space_after = Pt(3)


# ------------------------------------------------------------------ document

def render_docx(report: Report) -> bytes:
    """The Word document as bytes (reproducible for the same run: constant dates)."""
    paper = report.front.paper if report.front else "a4"
    doc = Document()
    _style(doc)
    first = doc.sections[0]
    _page_setup(first, paper, False)
    _set_header(first, report, "")
    _set_footer(first, report)
    _title_page(doc, report, paper)
    _glp_pages(doc, report)
    contents = _contents(doc)
    _new_section(doc, report, "Methods", False, paper)
    _materials(doc, report, paper)
    _section_text(doc, "Statistical methods", report.methods)
    _section_text(doc, "Guideline deviations", report.deviations)
    _section_text(doc, "Exclusions", report.exclusions)
    _tables(doc, report, [t for t in report.tables if t.kind != "listing"], paper,
            "Summary tables")
    _figures(doc, report, paper)
    _tables(doc, report, [t for t in report.tables if t.kind == "listing"], paper,
            "Individual listings")
    _new_section(doc, report, "Appendix", False, paper)
    _section_text(doc, "Appendix: messages of the software", report.appendix or [
        "None: no convergence or fit warning was raised."])
    if report.links:
        _section_text(doc, "Further outputs", [f"{label}: {path}" for label, path in
                                               report.links])
    _fill_contents(doc, contents)
    software = _properties(doc, report)
    buf = io.BytesIO()
    doc.save(buf)
    return freeze_zip(buf.getvalue(), run_time(report.stamp),
                      parts={"docProps/app.xml": app_properties(software)})


def _properties(doc: DocxDocument, report: Report) -> str:
    """Core properties of the report (what a document system lists); returns the software.

    Title = study title, subject = study number, author = the study director
    (empty when the study file names none), comments = run ID and software;
    created and modified are set by :func:`freeze_zip` (the run's time).
    The template's thumbnail (a picture of another document) is dropped.
    """
    stamp = report.stamp
    software = stamp.software if stamp else " ".join(
        ("neurotox", report.software.get("neurotox", ""))).strip()
    props = doc.core_properties
    props.created = props.modified = FIXED
    props.title = report.title or f"{report.study_id} report"
    props.subject = report.study_id
    props.author = report.front.study_director if report.front else ""
    props.last_modified_by = software
    props.comments = (f"Run ID {stamp.run_id}; {software}" if stamp else software)
    props.keywords = props.category = ""
    props.revision = 1
    package = doc.part.package
    for rid, rel in list(package.rels.items()):
        if rel.reltype.endswith("/metadata/thumbnail"):
            package.rels.pop(rid)
    return software


def app_properties(software: str) -> bytes:
    """``docProps/app.xml`` naming the application that wrote the file, nothing else.

    Page and word counts are left out (Word computes them when it opens the
    file; a count written here would be a guess).
    """
    return ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/'
            'extended-properties" xmlns:vt="http://schemas.openxmlformats.org/officeDocument/'
            f'2006/docPropsVTypes"><Application>{escape(software)}</Application>'
            '<DocSecurity>0</DocSecurity></Properties>').encode()


def _tables(doc: DocxDocument, report: Report, tables: list[Table], paper: str,
            heading: str) -> None:
    """Tables under a level-1 heading, with a level-2 heading per category."""
    first = True
    for label, run in by_category(tables):
        for k, table in enumerate(run):
            headings = ((heading, 1),) if first else ()
            if k == 0 and label:
                headings += ((label, 2),)
            add_table(doc, report, table, paper, headings)
            first = False


def _figures(doc: DocxDocument, report: Report, paper: str) -> None:
    if not report.figures:
        return
    _new_section(doc, report, "Figures", False, paper)
    doc.add_heading("Figures", level=1)
    width = min(usable_width(paper, False), 165.0)
    for label, run in by_category(report.figures):
        if label:
            doc.add_heading(label, level=2)
        for figure in run:
            add_figure(doc, figure, width)
