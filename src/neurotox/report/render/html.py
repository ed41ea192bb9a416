"""HTML renderer: one self-contained file (styles inline, figures as base64 PNG).

No scripts and no external resources, so the file opens anywhere, offline,
without console errors.
"""

from __future__ import annotations

import base64
import html as _html

from neurotox.report.front import COMPLIANCE, DRAFT_TEXT, QA_TEXT, traceability
from neurotox.report.materials import TITLE as MATERIALS_TITLE
from neurotox.report.model import Figure, Report, Table, by_category

CSS = """
body{font-family:Arial,Helvetica,sans-serif;font-size:13px;margin:24px;color:#111}
h1{font-size:20px}h2{font-size:16px;margin-top:28px;border-bottom:1px solid #999}
table.data{border-collapse:collapse;margin:6px 0}
table.data th,table.data td{border:1px solid #888;padding:2px 6px;text-align:center}
table.data th{background:#e8eef7}
table.data td.label{text-align:left}
table.files{border-collapse:collapse;margin:6px 0}
table.files th,table.files td{border:1px solid #888;padding:2px 6px;text-align:left}
table.files th{background:#e8eef7}
p.caption{font-weight:bold;margin:18px 0 2px}
p.head,p.fn{font-size:11px;margin:1px 0;color:#333}
figure{margin:12px 0}figcaption{font-weight:bold;font-size:12px}
figure img{width:900px;max-width:100%;height:auto}
dl.head dt{float:left;clear:left;width:190px;font-weight:bold}dl.head dd{margin-left:200px}
p.sign{margin-top:18px}
p.draft{font-size:18px;font-weight:bold;color:#a00;border:2px solid #a00;padding:4px 8px}
footer.stamp,header.stamp{font-size:11px;color:#444;border-top:1px solid #999;margin-top:24px}
header.stamp{border-top:none;border-bottom:1px solid #999;margin:0 0 12px}
@page{size:A4;margin:15mm}
@media print{thead{display:table-header-group}section.table{break-inside:auto}
tr{break-inside:avoid}}
"""


def esc(text: object) -> str:
    """HTML-escape text."""
    return _html.escape(str(text), quote=True)


def table_html(table: Table) -> str:
    """A table with its caption, header fields and footnotes."""
    out = [f'<section class="table" id="{esc(table.key)}">',
           f'<p class="caption">{esc(table.caption)}</p>',
           '<p class="head">' + "; ".join(f"{esc(k)}: {esc(v)}" for k, v in table.header.items())
           + "</p>", f'<table class="data" data-kind="{esc(table.kind)}"><thead>']
    if table.column_groups:
        out.append("<tr>" + f'<th colspan="{len(table.row_header)}"></th>'
                   + "".join(f'<th colspan="{g.span}">{esc(g.label)}</th>'
                             for g in table.column_groups) + "</tr>")
    out.append("<tr>" + "".join(f"<th>{esc(h)}</th>"
                                for h in (*table.row_header, *table.columns)) + "</tr>")
    out.append("</thead><tbody>")
    for row in table.rows:
        out.append("<tr>" + "".join(f'<td class="label">{esc(v)}</td>' for v in row.labels)
                   + "".join(f"<td>{esc(c.text)}</td>" for c in row.cells) + "</tr>")
    out.append("</tbody></table>")
    out += [f'<p class="fn">{esc(n)}</p>' for n in table.footnotes]
    out.append("</section>")
    return "\n".join(out)


def figure_html(figure: Figure) -> str:
    """A figure as an embedded PNG with its caption."""
    data = base64.b64encode(figure.png).decode("ascii")
    return (f'<figure id="{esc(figure.key)}"><img alt="{esc(figure.title)}" '
            f'src="data:image/png;base64,{data}">'
            f"<figcaption>{esc(figure.caption)}</figcaption></figure>")


def _stamp(report: Report) -> str:
    s = report.stamp
    draft = "DRAFT · " if report.draft else ""
    if s is None:
        return draft.removesuffix(" · ")
    return (f"{draft}Study {esc(report.study_id)} · report date {esc(s.report_day)} · "
            f"{esc(s.software)} · run ID {esc(s.run_id)}")


def _glp(report: Report) -> str:
    front = report.front
    if front is None or not front.glp:
        return ""
    sign = ('<p class="sign">{role}: {name}<br>Signature: ________________________ '
            "Date: ______________</p>")
    rows = "".join(f"<tr><td>{esc(a) or '&nbsp;'}</td><td>{esc(b)}</td><td>{esc(c)}</td></tr>"
                   for a, b, c in front.qa_inspections)
    return ('<h2 id="compliance">Statement of compliance</h2>'
            + _paragraphs(list(front.compliance or COMPLIANCE))
            + sign.format(role="Study director",
                          name=esc(front.study_director) or "________________________")
            + '<h2 id="qa">Quality assurance statement</h2>'
            + f"<p>{esc(front.qa_text or QA_TEXT)}</p>"
            + '<table class="data"><thead><tr><th>Phase inspected</th><th>Date of inspection'
            "</th><th>Date reported to study director and management</th></tr></thead>"
            f"<tbody>{rows}</tbody></table>"
            + sign.format(role="Quality Assurance",
                          name=esc(front.qa_name) or "________________________"))


def _contents(report: Report) -> str:
    items = ([f'<li><a href="#materials">{esc(MATERIALS_TITLE)}</a></li>'] if report.materials
             else [])
    items += ['<li><a href="#methods">Statistical methods</a></li>',
             '<li><a href="#deviations">Guideline deviations and exclusions</a></li>',
             '<li><a href="#appendix">Appendix: messages of the software</a></li>']
    items += [f'<li><a href="#{esc(t.key)}">{esc(t.caption)}</a></li>' for t in report.tables]
    items += [f'<li><a href="#{esc(f.key)}">{esc(f.caption)}</a></li>' for f in report.figures]
    return '<nav id="contents"><h2>Contents</h2><ul>' + "".join(items) + "</ul></nav>"


def _paragraphs(lines: list[str]) -> str:
    return "".join(f"<p>{esc(line)}</p>" for line in (lines or ["None."]))


def _by_category(items: list, render) -> list[str]:
    out = []
    for label, run in by_category(items):
        if label:
            out.append(f"<h3>{esc(label)}</h3>")
        out += [render(i) for i in run]
    return out


def _definitions(rows: list[tuple[str, str]]) -> str:
    return '<dl class="head">' + "".join(f"<dt>{esc(k)}</dt><dd>{esc(v)}</dd>"
                                         for k, v in rows) + "</dl>"


def _materials(report: Report) -> str:
    """Materials and methods of the analysis: a sub-heading per block, its text and files."""
    if not report.materials:
        return ""
    out = [f'<h2 id="materials">{esc(MATERIALS_TITLE)}</h2>']
    for block in report.materials:
        out.append(f"<h3>{esc(block.heading)}</h3>{_paragraphs(block.paragraphs)}")
        if block.files:
            rows = "".join(f"<tr><td>{esc(name)}</td><td><code>{esc(sha)}</code></td></tr>"
                           for name, sha in block.files)
            out.append('<table class="files"><thead><tr><th>File</th><th>SHA-256</th></tr>'
                       f"</thead><tbody>{rows}</tbody></table>")
    return "".join(out)


def _links(report: Report) -> str:
    if not report.links:
        return ""
    items = "".join(f'<li><a href="{esc(path)}">{esc(label)}</a></li>'
                    for label, path in report.links)
    return f'<h2 id="links">Further outputs</h2><ul>{items}</ul>'


def render_html(report: Report) -> bytes:
    """The report as one UTF-8 HTML file."""
    rows = report.front.title_block if report.front else list(report.header.items())
    trace = traceability(report.stamp)
    stamp = _stamp(report)
    parts = [
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{esc(report.study_id)} report</title><style>{CSS}</style></head><body>",
        f'<header class="stamp">{stamp}</header>' if stamp else "",
        f'<p class="draft">{esc(DRAFT_TEXT)}</p>' if report.draft else "",
        f"<h1>{esc(report.study_id)}: {esc(report.title)}</h1>",
        _definitions(rows),
        (f"<h2>Traceability</h2>{_definitions(trace)}" if trace else ""),
        _glp(report), _contents(report), _materials(report),
        f'<h2 id="methods">Statistical methods</h2>{_paragraphs(report.methods)}',
        '<h2 id="deviations">Guideline deviations and exclusions</h2>'
        f"<h3>Deviations</h3>{_paragraphs(report.deviations)}"
        f"<h3>Exclusions</h3>{_paragraphs(report.exclusions)}",
        "<h2>Summary tables</h2>",
        *_by_category([t for t in report.tables if t.kind != "listing"], table_html),
        "<h2>Figures</h2>", *_by_category(report.figures, figure_html),
        "<h2>Individual listings</h2>",
        *(table_html(t) for t in report.tables if t.kind == "listing"),
        '<h2 id="appendix">Appendix: messages of the software</h2>',
        _paragraphs(report.appendix or ["None: no convergence or fit warning was raised."]),
        _links(report),
        f'<footer class="stamp">{stamp}</footer>' if stamp else "",
        "</body></html>", ""]
    return "\n".join(parts).encode("utf-8")
