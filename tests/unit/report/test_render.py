import datetime as dt
import io
import json
import re
import zipfile

import pytest
from docx import Document
from openpyxl import load_workbook

from neurotox.report import build_report, parse_formats, rendered_files
from neurotox.report.render import render_csv, render_docx, render_html, render_xlsx
from neurotox.study import QaInspection

SOFTWARE = {"neurotox": "0.1.0", "python": "3.11", "numpy": "2.0", "scipy": "1.14"}


@pytest.fixture
def report(table, analysis, spec):
    results, decisions = analysis
    return build_report(spec, table, results, decisions, software=SOFTWARE,
                        deviations=["motor activity: 3 animals per sex instead of 10"],
                        exclusions=["fob, subject G2M4: animal moribund"], figures=False,
                        bmd=False)


def test_csv_results_match_golden(report, check_golden):
    files = render_csv(report)
    assert sorted(files) == ["csv/decisions.csv", "csv/endpoints.csv", "csv/results.csv"]
    check_golden("results_csv.json", files["csv/results.csv"].decode().splitlines())


def _sheet_values(data: bytes) -> dict[str, list[list[object]]]:
    wb = load_workbook(io.BytesIO(data))
    return {ws.title: [list(r) for r in ws.iter_rows(values_only=True)] for ws in wb}


def test_xlsx_content_matches_golden(report, check_golden):
    sheets = _sheet_values(render_xlsx(report))
    check_golden("xlsx.json", sheets)


def test_xlsx_numbers_are_numbers_and_header_frozen(report):
    wb = load_workbook(io.BytesIO(render_xlsx(report)))
    assert wb.sheetnames[:4] == ["Contents", "T01 findings", "T02 conclusions", "T03 summary"]
    ws = wb["T03 summary"]
    header_row = next(i for i, r in enumerate(ws.iter_rows(values_only=True), 1)
                      if r[0] == "Group")
    assert ws.freeze_panes == f"C{header_row + 1}"
    heads = [c.value for c in ws[header_row]]
    assert heads[2:] == ["Forelimb grip strength (g)", "Forelimb grip strength (g) | mean",
                         "Forelimb grip strength (g) | SD", "Forelimb grip strength (g) | n",
                         "Forelimb grip strength (g) | % of control",
                         "Forelimb grip strength (g) | p", "Forelimb grip strength (g) | flag"]
    high = [c.value for c in ws[header_row + 3]]
    assert high[2] == "805 ± 34 (4)**↓ [81%]"
    assert high[3] == pytest.approx(805.0) and isinstance(high[3], float | int)
    assert high[5] == 4 and high[7] == pytest.approx(0.004) and high[8] == "**↓"
    widths = [ws.column_dimensions[c].width for c in "ABCDEFGHI"]
    assert widths == [22, 22, 20, 10, 10, 10, 10, 10, 10]
    # full precision stored, shown with the table's decimals; p-values 0.000 / "< 0.001"
    formats = [c.number_format for c in ws[header_row + 3]][3:8]
    assert formats == ["0", "0", "0", "0", '[<0.001]"< 0.001";0.000']


def test_xlsx_sheets_print_on_a4_with_titles_and_fit_to_width(report):
    wb = load_workbook(io.BytesIO(render_xlsx(report)))
    ws = wb["T03 summary"]
    header_row = next(i for i, r in enumerate(ws.iter_rows(values_only=True), 1)
                      if r[0] == "Group")
    assert ws.print_title_rows == f"${header_row}:${header_row}"
    assert ws.print_title_cols == "$A:$B"
    assert ws.sheet_properties.pageSetUpPr.fitToPage
    assert (ws.page_setup.fitToWidth, ws.page_setup.fitToHeight) == (1, 0)
    assert ws.page_setup.paperSize == 9  # A4
    assert ws.oddFooter.left.text == "Page &P of &N"
    assert ws.oddHeader.left.text == "Study NTX-T-001"


def test_docx_has_real_tables_with_titles(report):
    doc = Document(io.BytesIO(render_docx(report)))
    # the title block and the QA statement (GLP study) are tables too
    assert len(doc.tables) == len(report.tables) + 2
    texts = [p.text for p in doc.paragraphs]
    for t in report.tables:
        assert t.caption in texts
    first = next(t for t in doc.tables if t.rows[0].cells[0].text == "Group")
    assert [c.text for c in first.rows[0].cells] == ["Group", "Dose",
                                                     "Forelimb grip strength (g)"]
    assert first.rows[3].cells[2].text == "805 ± 34 (4)**↓ [81%]"
    assert "Statistical methods" in texts
    assert any("Dunnett" in p for p in texts)
    assert doc.core_properties.created.year == 2000
    # header rows repeat on every page
    assert "<w:tblHeader" in first.rows[0]._tr.xml
    assert "<w:tblHeader" not in first.rows[1]._tr.xml


def test_docx_listing_merges_column_group(report):
    doc = Document(io.BytesIO(render_docx(report)))
    listing = doc.tables[-1]  # motor activity: counts over bins
    top = [c.text for c in listing.rows[0].cells]
    assert top[3:] == ["Motor activity counts"] * 3


@pytest.mark.parametrize("render", [render_xlsx, render_docx, render_html])
def test_rendering_is_byte_reproducible(report, render):
    assert render(report) == render(report)


def test_office_files_carry_no_run_timestamp(report):
    for data in (render_xlsx(report), render_docx(report)):
        z = zipfile.ZipFile(io.BytesIO(data))
        assert {i.date_time for i in z.infolist()} == {(2000, 1, 1, 0, 0, 0)}
        core = z.read("docProps/core.xml").decode()
        assert set(re.findall(r"<dcterms:\w+[^>]*>([^<]*)<", core)) == {"2000-01-01T00:00:00Z"}


def test_html_is_self_contained(report_with_figures):
    html = render_html(report_with_figures).decode()
    # every report table and the QA statement's inspection table (GLP study)
    assert html.count('<table class="data"') == len(report_with_figures.tables) + 1
    assert html.count("data:image/png;base64,") == len(report_with_figures.figures) == 8
    assert "<script" not in html and "http" not in html
    for t in report_with_figures.tables:
        assert f'href="#{t.key}"' in html


def test_figures_are_written_only_for_formats_that_show_them(report_with_figures):
    assert not any(k.startswith("figures/") for k in rendered_files(report_with_figures,
                                                                     ["csv", "xlsx"]))


def test_figures_have_no_timestamps(report_with_figures):
    files = rendered_files(report_with_figures, ["html"])
    svgs = [v.decode() for k, v in files.items() if k.endswith(".svg")]
    pngs = [v for k, v in files.items() if k.endswith(".png")]
    assert len(svgs) == len(pngs) == 8
    assert not any("<dc:date>" in s for s in svgs)
    assert not any(b"tEXtSoftware" in p or b"tIME" in p for p in pngs)


def test_parse_formats():
    assert parse_formats("html, xlsx") == ["xlsx", "html"]
    assert parse_formats("pdf,docx") == ["docx", "pdf"]
    with pytest.raises(ValueError, match=r"unknown report format\(s\) 'pfd' \(did you mean "
                                         r"'pdf'\?\); expected some"):
        parse_formats("xlsx,pfd")


def test_methods_mention_paths_taken(report):
    text = "\n".join(report.methods)
    assert "Shapiro-Wilk" in text and "Levene" in text
    assert "Fisher exact" in text and "linear mixed model" in text
    assert "Software: neurotox 0.1.0, python 3.11, numpy 2.0, scipy 1.14." in text
    json.dumps(report.methods)


def _wide(n_endpoints: int, n_timepoints: int):
    from neurotox.report.model import Cell, ColumnGroup, Row, Table

    cols = tuple(f"Week {k + 1}" for _ in range(n_endpoints) for k in range(n_timepoints))
    groups = tuple(ColumnGroup(f"Endpoint {e} (unit)", n_timepoints) for e in range(n_endpoints))
    rows = [Row((f"A{i:02d}", "G1", "M"), tuple(Cell("123.45") for _ in cols)) for i in range(5)]
    return Table(1, "Individual values", "listing", "listing-x", {}, ("Subject", "Group", "Sex"),
                 cols, rows, column_groups=groups)


def test_table_orientation_follows_its_width():
    from neurotox.report.render.layout import plan_parts

    narrow, medium = _wide(1, 3), _wide(4, 4)
    assert [p.landscape for p in plan_parts(narrow)] == [False]
    assert [p.landscape for p in plan_parts(medium)] == [True]
    assert sum(plan_parts(medium)[0].widths) <= 297 - 30


def test_capitals_get_the_width_they_print_with():
    """stranger30 L2: the QC table's analyte 'EOTAXIN' printed as 'EOTAXI' / 'N' in the PDF
    (widths assumed 1.6 mm per character; capitals of 8 pt Arial are about 2 mm)."""
    from neurotox.report.model import Cell, Row, Table
    from neurotox.report.render.layout import column_widths

    t = Table(1, "QC", "qc", "qc", {}, ("Plate", "Analyte"), ("Unit",),
              [Row(("plate_1", "EOTAXIN"), (Cell("pg/mL"),)),
               Row(("plate_1", "IL17"), (Cell("pg/mL"),))])
    plate, analyte, unit = column_widths(t)
    assert analyte == pytest.approx(7 * 2.0 + 2.6)  # "EOTAXIN", not 7 x 1.6 + 2.6
    assert plate == pytest.approx(7 * 1.6 + 2.6)  # "plate_1"
    assert unit == pytest.approx(4 * 1.6 + 2.0 + 2.6)  # "pg/mL": one capital


def test_wide_tables_split_by_column_groups_keeping_row_labels():
    from neurotox.report.render.layout import plan_parts

    wide = _wide(6, 5)  # 30 data columns: too wide even for landscape A4
    parts = plan_parts(wide)
    assert len(parts) > 1 and all(p.landscape for p in parts)
    assert [p.index for p in parts] == list(range(1, len(parts) + 1))
    for p in parts:  # whole endpoints per part, every row with its labels
        assert all(g.span == 5 for g in p.table.column_groups)
        assert [r.labels for r in p.table.rows] == [r.labels for r in wide.rows]
    assert sum(len(p.table.columns) for p in parts) == 30
    letter = plan_parts(wide, "letter")
    assert sum(p.widths[0] for p in letter) > 0


def test_a_part_of_a_split_table_leaves_out_an_empty_comparison_row():
    """stranger37 #13: part 2 printed an empty "Comparison with control" row."""
    from dataclasses import replace

    from neurotox.report.model import Cell, Row
    from neurotox.report.render.layout import plan_parts

    wide = _wide(6, 5)
    said = [Cell("n.t.") if j < 5 else Cell("") for j in range(30)]
    wide = replace(wide, rows=[*wide.rows, Row(("Comparison with control", ""), tuple(said),
                                               optional=True)])
    parts = plan_parts(wide)
    assert [r.labels[0] for r in parts[0].table.rows][-1] == "Comparison with control"
    assert all(len(p.table.rows) == 5 for p in parts[1:])
    assert parts[0].table.rows[-1].cells[0].text == "n.t."


def test_tables_and_figures_are_grouped_under_category_headings(report_with_figures):
    html = render_html(report_with_figures).decode()
    assert html.count("<h3>Neurobehavioral</h3>") == 2  # tables, figures
    doc = Document(io.BytesIO(render_docx(report_with_figures)))
    heads = [p.text for p in doc.paragraphs if p.style.name in ("Heading 1", "Heading 2")]
    assert heads == ["Statement of compliance", "Quality assurance statement",
                     "Statistical methods", "Guideline deviations", "Exclusions",
                     "Summary tables", "Neurobehavioral", "Figures", "Neurobehavioral",
                     "Individual listings", "Appendix: messages of the software"]


@pytest.fixture
def stamped(table, analysis, spec):
    from neurotox.report import RunStamp

    results, decisions = analysis
    stamp = RunStamp(run_id="20260101T120000Z-0badc0de", date="2026-01-01", time="12:00:00 UTC",
                     command="neurotox report study.yaml -o out", software="neurotox 0.1.0",
                     record_sha256="ab" * 32)
    return build_report(spec, table, results, decisions, software=SOFTWARE, figures=False,
                        bmd=False, stamp=stamp)


def test_docx_properties_name_the_study_the_run_and_neurotox(stamped, spec):
    data = render_docx(stamped)
    assert render_docx(stamped) == data  # the same run: the same bytes
    z = zipfile.ZipFile(io.BytesIO(data))
    app = z.read("docProps/app.xml").decode()
    assert re.findall(r"<(\w+)>([^<]*)</", app) == [("Application", "neurotox 0.1.0"),
                                                   ("DocSecurity", "0")]
    assert "Macintosh" not in app and "<Pages>" not in app
    assert "docProps/thumbnail.jpeg" not in z.namelist()
    assert "thumbnail" not in z.read("_rels/.rels").decode()
    props = Document(io.BytesIO(data)).core_properties
    assert (props.title, props.subject, props.author) == ("Test study", "NTX-T-001", "")
    assert props.comments == "Run ID 20260101T120000Z-0badc0de; neurotox 0.1.0"
    assert props.last_modified_by == "neurotox 0.1.0"
    assert props.created == props.modified == dt.datetime(2026, 1, 1, 12, 0, tzinfo=dt.UTC)
    assert props.last_printed is None
    assert "python-docx" not in z.read("docProps/core.xml").decode()


def test_an_unsealed_run_says_it_is_not_sealed(stamped):
    doc = Document(io.BytesIO(render_docx(stamped)))
    rows = {r.cells[0].text: r.cells[1].text for t in doc.tables[:2] for r in t.rows}
    assert rows["Integrity seal"] == "not sealed: manifest.json carries no keyed seal"


def test_docx_author_is_the_study_director(table, analysis, spec):

    spec = spec.model_copy(update={"study_director": "Dr. Émile Müller"})
    results, decisions = analysis
    rep = build_report(spec, table, results, decisions, software=SOFTWARE, figures=False,
                       bmd=False)
    props = Document(io.BytesIO(render_docx(rep))).core_properties
    assert props.author == "Dr. Émile Müller"
    assert props.comments == "neurotox 0.1.0"
    assert props.created == dt.datetime(2000, 1, 1, tzinfo=dt.UTC)


def _parts(data: bytes, prefix: str) -> list[str]:
    z = zipfile.ZipFile(io.BytesIO(data))
    return [z.read(n).decode() for n in sorted(z.namelist()) if n.startswith(prefix)]


def test_docx_paginates_on_a4_with_page_fields_stamp_and_a_toc(stamped):
    from docx.shared import Mm

    data = render_docx(stamped)
    doc = Document(io.BytesIO(data))
    for s in doc.sections:  # A4, portrait or landscape
        assert sorted((round(s.page_width / Mm(1)), round(s.page_height / Mm(1)))) == [210, 297]
    assert doc.sections[0].page_width < doc.sections[0].page_height  # title page: portrait
    footers = _parts(data, "word/footer")
    assert any("> PAGE <" in f and "> NUMPAGES <" in f for f in footers)
    footer_text = "".join(re.findall(r"<w:t[^>]*>([^<]*)</w:t>", footers[0]))
    assert "Report date 2026-01-01" in footer_text and "neurotox 0.1.0" in footer_text
    assert "Run ID 20260101T120000Z-0badc0de" in footer_text
    headers = "".join(_parts(data, "word/header"))
    assert "Study NTX-T-001" in headers
    for t in stamped.tables:  # each table's section names it in the page header
        assert f"| Table {t.number}<" in headers.replace("  ", " ")
    body = _parts(data, "word/document.xml")[0]
    # a static table of contents: no field for Word to update, nothing asked on opening
    assert "TOC \\o" not in body
    assert "<w:updateFields" not in _parts(data, "word/settings.xml")[0]
    texts = "\n".join(p.text for p in doc.paragraphs)
    assert "Statement of compliance" in texts and "Quality assurance statement" in texts
    title = next(t for t in doc.tables if t.rows[0].cells[0].text == "Study number")
    trace = {r.cells[0].text: r.cells[1].text for t in doc.tables[:2] for r in t.rows}
    assert trace["Run ID"] == "20260101T120000Z-0badc0de"
    assert trace["Command"] == "neurotox report study.yaml -o out"
    assert trace["run.json SHA-256"] == "ab" * 32
    assert title.rows[0].cells[1].text == "NTX-T-001"


_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


def _toc_entries(doc) -> list[tuple[int, str, str]]:
    """(indent in twips, text, bookmark) of each linked paragraph after "Contents"."""
    paras = doc.paragraphs
    start = next(i for i, p in enumerate(paras) if p.text == "Contents")
    out = []
    for p in paras[start + 1:]:
        link = p._p.find(f"{_W}hyperlink")
        if link is None:
            break
        ind = p._p.find(f"{_W}pPr/{_W}ind")
        out.append((int(ind.get(f"{_W}left")), p.text, link.get(f"{_W}anchor")))
    return out


def test_docx_contents_list_every_heading_linked_to_it(stamped):
    doc = Document(io.BytesIO(render_docx(stamped)))
    entries = _toc_entries(doc)
    levels = {"Heading 1": 0, "Heading 2": 284, "Heading 3": 568}
    heads = [(levels[p.style.name], p.text) for p in doc.paragraphs if p.style.name in levels]
    assert [(indent, text) for indent, text, _ in entries] == heads
    assert heads[:2] == [(0, "Statement of compliance"), (0, "Quality assurance statement")]
    assert [text for indent, text in heads if indent == 568][:3] == [
        t.caption for t in stamped.tables[:3]]   # captions of tables (and figures): level 3
    # each entry links to a bookmark that wraps its own heading
    marks = {m.get(f"{_W}name"): p.text for p in doc.paragraphs
             for m in p._p.findall(f"{_W}bookmarkStart")}
    assert [marks[anchor] for _, _, anchor in entries] == [text for _, text in heads]


def test_docx_and_footers_print_the_study_files_report_date(table, analysis, spec):
    from neurotox.report import RunStamp

    results, decisions = analysis
    stamp = RunStamp(run_id="20261205T120000Z-0badc0de", date="2026-12-05", time="12:00:00 UTC",
                     command="neurotox report study.yaml -o out", software="neurotox 0.1.0",
                     report_date="2027-01-15", key_id="0123456789abcdef")
    spec = spec.model_copy(update={"dates": spec.dates.model_copy(
        update={"report": dt.date(2027, 1, 15)})})
    rep = build_report(spec, table, results, decisions, software=SOFTWARE, figures=False,
                       bmd=False, stamp=stamp)
    data = render_docx(rep)
    doc = Document(io.BytesIO(data))
    rows = {r.cells[0].text: r.cells[1].text for t in doc.tables[:2] for r in t.rows}
    assert rows["Report date"] == "2027-01-15"
    assert rows["Report generated"] == "2026-12-05 12:00:00 UTC"   # the run, labelled so
    seal = ("sealed: manifest.json, which lists every file of the report folder with its "
            "SHA-256, carries an HMAC-SHA256 made with the key of key ID 0123456789abcdef. A "
            "keyed integrity seal of the folder, not a personal or electronic signature: "
            "approval is signed on the signature lines. Check with: neurotox verify FOLDER "
            "--key KEYFILE")
    assert rows["Integrity seal"] == seal and "Signature" not in rows
    footers = "".join(_parts(data, "word/footer"))
    assert "Report date 2027-01-15" in footers and "2026-12-05" not in footers
    html = render_html(rep).decode()
    assert "report date 2027-01-15" in html and "report date 2026-12-05" not in html
    assert f"<dt>Integrity seal</dt><dd>{seal}</dd>" in html
    wb = load_workbook(io.BytesIO(render_xlsx(rep)))
    footer = wb.worksheets[1].oddFooter.right.text
    assert footer.startswith("2027-01-15")
    contents = {r[0]: r[1] for r in wb["Contents"].iter_rows(values_only=True) if r and r[0]}
    assert contents["Integrity seal"] == seal and "Signature" not in contents


def test_docx_on_letter_paper(stamped):
    from dataclasses import replace

    from docx.shared import Inches

    stamped.front = replace(stamped.front, paper="letter")
    doc = Document(io.BytesIO(render_docx(stamped)))
    for s in doc.sections:
        assert sorted((round(s.page_width / Inches(0.1)), round(s.page_height / Inches(0.1)))) \
            == [85, 110]


def test_pdf_pages_show_study_number_and_page_n_of_m(stamped, tmp_path):
    import shutil
    import subprocess

    from neurotox.report.render.pdf import available, docx_to_pdf

    if not available() or shutil.which("pdftotext") is None:
        pytest.skip("LibreOffice or pdftotext (poppler-utils) is not installed")
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(docx_to_pdf(render_docx(stamped)))
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True,
                          text=True, check=True).stdout
    pages = [p for p in text.split("\f") if p.strip()]
    assert len(pages) >= len(stamped.tables)
    for n, page in enumerate(pages, start=1):
        assert "Study NTX-T-001" in page, n
        assert f"Page {n} of {len(pages)}" in page, n
        assert "Run ID 20260101T120000Z-0badc0de" in page, n
    # the PDF prints the docx's own table of contents, entry for entry
    toc = next(p for p in pages if "Contents" in p)
    entries = _toc_entries(Document(io.BytesIO(render_docx(stamped))))
    assert stamped.tables[2].caption in [text for _, text, _ in entries]
    flat = " ".join(toc.split())
    for _, text, _ in entries[:8]:
        assert " ".join(text.split()) in flat, text
    _assert_pdfa_tagged(pdf)


def _assert_pdfa_tagged(pdf):
    """PDF/A-2b (what archives ask for) and tagged, as pdfinfo reads them."""
    import shutil
    import subprocess

    if shutil.which("pdfinfo") is None:
        pytest.skip("pdfinfo (poppler-utils) is not installed")
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True,
                          check=True).stdout
    meta = subprocess.run(["pdfinfo", "-meta", str(pdf)], capture_output=True, text=True,
                          check=True).stdout
    assert re.search(r"^Tagged:\s+yes$", info, re.M)
    assert "<pdfaid:part>2</pdfaid:part>" in meta
    assert "<pdfaid:conformance>B</pdfaid:conformance>" in meta


def test_pdf_by_soffice_alone_is_pdfa_and_tagged_too(stamped, tmp_path, monkeypatch):
    import neurotox.report.render.pdf as pdf_module

    if not pdf_module.available():
        pytest.skip("LibreOffice is not installed")
    monkeypatch.setattr(pdf_module, "uno_python", lambda: None)  # the --convert-to path
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(pdf_module.docx_to_pdf(render_docx(stamped)))
    _assert_pdfa_tagged(pdf)


def test_docx_figure_keeps_with_its_own_caption_not_the_next_figure(report_with_figures):
    # captions sit below their figure and are headings (for the contents); a heading
    # keeps with the next paragraph, so each caption used to be pulled onto the page
    # of the NEXT figure (seen in a DRG report: "Figure 2" above figure 3's plot)
    doc = Document(io.BytesIO(render_docx(report_with_figures)))
    paras = doc.paragraphs
    pictures = [i for i, p in enumerate(paras) if p._p.xpath(".//pic:pic")]
    assert len(pictures) >= 2
    for i in pictures:
        caption = paras[i + 1]
        assert caption.text.startswith("Figure ")
        assert paras[i].paragraph_format.keep_with_next is True
        assert caption.paragraph_format.keep_with_next is False


def test_xlsx_writes_text_from_the_study_as_text_never_as_a_formula(table, analysis):
    """stranger29 F6: a title '=HYPERLINK(...)' became a live link in 'Contents' and an
    animal '=1+1' showed as 2 in the listing (openpyxl stores '=...' as a formula)."""
    from .conftest import make_spec

    results, decisions = analysis
    spec = make_spec().model_copy(update={"title": '=HYPERLINK("http://evil","click")',
                                          "test_item": "@SUM(A1) & R&D"})
    swap = {"G2M1": "=1+1", "G2M2": "+1", "G2M3": "-G2", "G3M1": "#N/A"}
    report = build_report(spec, table.replace({"subject": swap}), results, decisions,
                          software=SOFTWARE, figures=False, bmd=False)
    wb = load_workbook(io.BytesIO(render_xlsx(report)))
    kinds = {c.data_type for ws in wb for row in ws.iter_rows() for c in row
             if c.value is not None}
    assert "f" not in kinds and "e" not in kinds
    contents = wb["Contents"]
    assert contents["A1"].value == 'NTX-T-001: =HYPERLINK("http://evil","click")'
    title = next(r for r in contents.iter_rows() if r[0].value == "Study title")[1]
    assert (title.value, title.data_type, title.quotePrefix) == (
        '=HYPERLINK("http://evil","click")', "s", True)
    listing = next(wb[n] for n in wb.sheetnames if n.endswith("listing") and
                   any(c.value == "=1+1" for r in wb[n].iter_rows() for c in r))
    ids = {c.value: (c.data_type, c.quotePrefix) for c in listing["A"] if c.value in
           {"=1+1", "+1", "-G2", "#N/A", "G2M4"}}
    assert ids == {"=1+1": ("s", True), "+1": ("s", True), "-G2": ("s", True),
                   "#N/A": ("s", False), "G2M4": ("s", False)}


def test_xlsx_header_and_footer_double_ampersands():
    from neurotox.io.xlsx import header_text

    assert header_text("Study R&D-1 &P") == "Study R&&D-1 &&P"


def test_write_frame_writes_text_as_text_and_missing_as_empty(tmp_path):
    """The simulated instrument sheets are written the same way (no formula, no NaN)."""
    import numpy as np
    import pandas as pd

    from neurotox.io.xlsx import write_frame

    df = pd.DataFrame({"Animal": ["=1+1", "R2"], "DI": [np.float64(0.25), np.nan],
                       "n": np.array([3, 4], dtype=np.int64)})
    write_frame(df, tmp_path / "s.xlsx")
    ws = load_workbook(tmp_path / "s.xlsx")["Sheet1"]
    assert [[c.value for c in r] for r in ws.iter_rows()] == [
        ["Animal", "DI", "n"], ["=1+1", 0.25, 3], ["R2", None, 4]]
    assert (ws["A2"].data_type, ws["A2"].quotePrefix) == ("s", True)
    assert pd.read_excel(tmp_path / "s.xlsx")["Animal"].tolist() == ["=1+1", "R2"]


def test_xlsx_contents_carry_the_glp_statements_of_the_other_formats(table, analysis):
    """stranger45 3: the workbook had no compliance, exceptions, archive or QA statement."""
    from neurotox.report.front import QA_TEXT, SIGN_LINE

    from .conftest import make_spec

    results, decisions = analysis
    spec = make_spec().model_copy(update={"study_director": "Dr. A. Director"})
    spec = spec.model_copy(update={"report": spec.report.model_copy(update={
        "glp_exceptions": ("Dose formulations were not analysed.",
                           "Room temperature missing on day 3."),
        "archive": "Archive room B12", "qa_name": "B. Auditor",
        "qa_inspections": (QaInspection(phase="Draft report", inspected=dt.date(2026, 1, 14),
                                        reported=dt.date(2026, 1, 15)),)})})
    report = build_report(spec, table, results, decisions, software=SOFTWARE,
                          figures=False, bmd=False)
    rows = [list(r) for r in load_workbook(io.BytesIO(render_xlsx(report)))[
        "Contents"].iter_rows(values_only=True)]
    start = rows.index(["Statement of compliance", None, None])
    end = rows.index(["Sheet", "Table", None])
    assert rows[start + 1][0] == report.front.compliance[0]
    assert [r[0] for r in rows[start + 2:start + 6]] == [
        "Exceptions:", "1. Dose formulations were not analysed.",
        "2. Room temperature missing on day 3.",
        "Archive (location of the study plan, samples of the test item, specimens, raw data "
        "and the final report): Archive room B12"]
    assert rows[start + 6:end - 1] == [
        ["Study director", "Dr. A. Director", None], [SIGN_LINE, None, None],
        [None, None, None], ["Quality assurance statement", None, None],
        [QA_TEXT, None, None],
        ["Phase inspected", "Date of inspection",
         "Date reported to study director and management"],
        ["Draft report", "2026-01-14", "2026-01-15"],
        ["Quality Assurance", "B. Auditor", None], [SIGN_LINE, None, None]]
    # the docx prints the same statements
    texts = [p.text for p in Document(io.BytesIO(render_docx(report))).paragraphs]
    assert report.front.compliance[1] in texts and QA_TEXT in texts


def test_every_xlsx_sheet_prints_legibly_with_header_and_footer(table, analysis, spec):
    """stranger45 4, 5: Contents and Materials had no page header/footer; wide sheets were
    fitted to one page width at 6 % scale; the right header was cut mid-word."""
    from neurotox.report.model import MethodsBlock, RunStamp
    from neurotox.report.render.xlsx import fit_scale, shorten

    results, decisions = analysis
    stamp = RunStamp(run_id="20260101T120000Z-0badc0de", date="2026-01-01", time="12:00:00 UTC",
                     command="neurotox report", software="neurotox 0.1.0")
    report = build_report(spec, table, results, decisions, software=SOFTWARE, figures=False,
                          bmd=False, stamp=stamp,
                          materials=[MethodsBlock("Assay fob", ["Protocol fob-standard."],
                                                  [("fob.csv", "ab" * 32)])])
    wb = load_workbook(io.BytesIO(render_xlsx(report)))
    for ws in wb:
        assert ws.oddHeader.left.text == "Study NTX-T-001", ws.title
        assert ws.oddFooter.left.text == "Page &P of &N", ws.title
        assert ws.oddFooter.right.text == ("2026-01-01  neurotox 0.1.0  "
                                           "Run 20260101T120000Z-0badc0de"), ws.title
    assert wb["Contents"].oddHeader.right.text == "Contents"
    assert wb["Materials and methods"].oddHeader.right.text == \
        "Materials and methods of the analysis"
    assert wb["T02 conclusions"].oddHeader.right.text == (
        "Table 2. NOAEL and LOAEL: study director's conclusions and the statistical…")
    # 23 columns (motor activity, 3 bins x 7): 47 % of a landscape A4 page: not fitted,
    # printed at full size across pages with the header row and the labels repeated
    wide = wb["T05 summary"]
    assert round(fit_scale(wide, "a4", True), 2) == 0.47
    assert not wide.sheet_properties.pageSetUpPr.fitToPage
    assert wide.page_setup.orientation == "landscape"
    assert wide.print_title_cols == "$A:$B" and wide.print_title_rows.startswith("$")
    # 9 columns: 71 % of a portrait A4 page: fitted to the width
    narrow = wb["T03 summary"]
    assert round(fit_scale(narrow, "a4", False), 2) == 0.71
    assert narrow.sheet_properties.pageSetUpPr.fitToPage
    assert narrow.page_setup.orientation == "portrait"
    assert shorten("Table 9. Brain weight relative, Terminal sacrifice", 40) == \
        "Table 9. Brain weight relative…"


@pytest.mark.parametrize(("glp", "key_id", "draft"), [(True, "", True), (True, "c830100e139f6d99",
                                                                         False),
                                                      (False, "", False)])
def test_an_unsigned_glp_report_is_marked_draft_on_every_page(table, analysis, spec, glp,
                                                              key_id, draft):
    """stranger45 6: an unsigned GLP report said "not signed" only in its traceability block."""
    from neurotox.report.front import DRAFT_TEXT
    from neurotox.report.model import RunStamp

    results, decisions = analysis
    stamp = RunStamp(run_id="20260101T120000Z-0badc0de", date="2026-01-01", time="12:00:00 UTC",
                     command="neurotox report", software="neurotox 0.1.0", key_id=key_id)
    report = build_report(spec.model_copy(update={"glp": glp}), table, results, decisions,
                          software=SOFTWARE, figures=False, bmd=False, stamp=stamp)
    assert report.draft is draft
    data = render_docx(report)
    doc = Document(io.BytesIO(data))
    assert (doc.paragraphs[0].text == DRAFT_TEXT) is draft
    headers = ["".join(re.findall(r"<w:t[^>]*>([^<]*)</w:t>", h))
               for h in _parts(data, "word/header")]
    assert all(h.startswith("DRAFT  |  Study NTX-T-001  |  Test study") is draft
               for h in headers)
    html = render_html(report).decode()
    assert (f'<p class="draft">{DRAFT_TEXT}</p>' in html) is draft
    assert html.count("DRAFT · Study NTX-T-001 · report date 2026-01-01") == (2 if draft else 0)
    wb = load_workbook(io.BytesIO(render_xlsx(report)))
    assert (wb["Contents"]["A2"].value == DRAFT_TEXT) is draft
    assert {ws.oddHeader.center.text for ws in wb} == ({"DRAFT"} if draft else {None})
