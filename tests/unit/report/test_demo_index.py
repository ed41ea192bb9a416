from neurotox.pipeline import demo_index


def test_demo_index_links_each_report(report_with_figures):
    html = demo_index([("oecd-424", "Screen <battery>", report_with_figures)],
                      ["xlsx", "docx", "html", "csv"])
    assert html.startswith("<!DOCTYPE html>")
    assert '<a href="reports/oecd-424/report.docx">report.docx</a>' in html
    assert '<a href="reports/oecd-424/csv/results.csv">' in html
    assert "Screen &lt;battery&gt; — 13 tables, 8 figures" in html
