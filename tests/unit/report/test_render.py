import io
import json
import re
import zipfile

import pytest
from docx import Document
from openpyxl import load_workbook

from neurotox.report import build_report, parse_formats, rendered_files
from neurotox.report.render import render_csv, render_docx, render_html, render_xlsx

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
    assert wb.sheetnames[:3] == ["Contents", "T01 overview", "T02 summary"]
    ws = wb["T02 summary"]
    header_row = next(i for i, r in enumerate(ws.iter_rows(values_only=True), 1)
                      if r[0] == "Group")
    assert ws.freeze_panes == f"C{header_row + 1}"
    heads = [c.value for c in ws[header_row]]
    assert heads[2:] == ["Forelimb grip strength (g)", "Forelimb grip strength (g) | mean",
                         "Forelimb grip strength (g) | SD", "Forelimb grip strength (g) | n",
                         "Forelimb grip strength (g) | % of control",
                         "Forelimb grip strength (g) | p", "Forelimb grip strength (g) | flag"]
    high = [c.value for c in ws[header_row + 3]]
    assert high[2] == "805 ± 34 (4)**↓ [80%]"
    assert high[3] == pytest.approx(805.0) and isinstance(high[3], float | int)
    assert high[5] == 4 and high[7] == pytest.approx(0.004) and high[8] == "**↓"
    widths = [ws.column_dimensions[c].width for c in "ABCDEFGHI"]
    assert widths == [22, 22, 20, 10, 10, 10, 10, 10, 10]


def test_docx_has_real_tables_with_titles(report):
    doc = Document(io.BytesIO(render_docx(report)))
    assert len(doc.tables) == len(report.tables)
    texts = [p.text for p in doc.paragraphs]
    for t in report.tables:
        assert t.caption in texts
    first = doc.tables[1]  # tables[0] is the overview
    assert [c.text for c in first.rows[0].cells] == ["Group", "Dose",
                                                     "Forelimb grip strength (g)"]
    assert first.rows[3].cells[2].text == "805 ± 34 (4)**↓ [80%]"
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
    assert top[3:] == ["Motor activity counts (count)"] * 3


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
    assert html.count('<table class="data"') == len(report_with_figures.tables)
    assert html.count("data:image/png;base64,") == len(report_with_figures.figures) == 8
    assert "<script" not in html and "http" not in html
    for t in report_with_figures.tables:
        assert f'href="#{t.key}"' in html


def test_figures_have_no_timestamps(report_with_figures):
    files = rendered_files(report_with_figures, ["csv"])
    svgs = [v.decode() for k, v in files.items() if k.endswith(".svg")]
    pngs = [v for k, v in files.items() if k.endswith(".png")]
    assert len(svgs) == len(pngs) == 8
    assert not any("<dc:date>" in s for s in svgs)
    assert not any(b"tEXtSoftware" in p or b"tIME" in p for p in pngs)


def test_parse_formats():
    assert parse_formats("html, xlsx") == ["xlsx", "html"]
    with pytest.raises(ValueError, match=r"unknown report format\(s\) 'pdf'; expected some"):
        parse_formats("xlsx,pdf")


def test_methods_mention_paths_taken(report):
    text = "\n".join(report.methods)
    assert "Shapiro-Wilk" in text and "Levene" in text
    assert "Fisher exact" in text and "linear mixed model" in text
    assert "Software: neurotox 0.1.0, python 3.11, numpy 2.0, scipy 1.14." in text
    json.dumps(report.methods)


def test_wide_tables_continue_in_further_word_tables(report):
    from neurotox.report.render.docx import chunks

    listing = report.tables[-1]
    parts = chunks(listing, width=2)
    assert [p.columns for p in parts] == [("bin1", "bin2"), ("bin10",)]
    assert [[(g.label, g.span) for g in p.column_groups] for p in parts] == \
        [[("Motor activity counts (count)", 2)], [("Motor activity counts (count)", 1)]]
    assert all(len(p.rows) == len(listing.rows) for p in parts)
    assert [c.text for c in parts[1].rows[0].cells] == [listing.rows[0].cells[2].text]


def test_tables_and_figures_are_grouped_under_category_headings(report_with_figures):
    html = render_html(report_with_figures).decode()
    assert html.count("<h3>Neurobehavioral</h3>") == 2  # tables, figures
    doc = Document(io.BytesIO(render_docx(report_with_figures)))
    heads = [p.text for p in doc.paragraphs if p.style.name.startswith("Heading")]
    assert heads == ["Statistical methods", "Guideline deviations", "Exclusions",
                     "Summary tables", "Neurobehavioral", "Figures", "Neurobehavioral",
                     "Individual listings"]
