"""Renderers: lay out a :class:`~neurotox.report.model.Report` as files.

Each renderer returns bytes (or a dict of relative path → bytes for csv) and
never computes a statistic. :data:`RENDERERS` maps a format name to its writer;
``pdf`` converts the docx (rendered once) through LibreOffice.
"""

from __future__ import annotations

from collections.abc import Callable

from neurotox.report.model import Report
from neurotox.report.render.csv import render_csv
from neurotox.report.render.docx import render_docx
from neurotox.report.render.html import render_html
from neurotox.report.render.xlsx import render_xlsx

#: Format name → function returning {relative path: bytes} (pdf: see rendered_files).
RENDERERS: dict[str, Callable[[Report], dict[str, bytes]]] = {
    "xlsx": lambda r: {"report.xlsx": render_xlsx(r)},
    "docx": lambda r: {"report.docx": render_docx(r)},
    "html": lambda r: {"report.html": render_html(r)},
    "csv": render_csv,
}

FORMATS = ("xlsx", "docx", "pdf", "html", "csv")

__all__ = ["FORMATS", "RENDERERS", "render_csv", "render_docx", "render_html", "render_xlsx"]
