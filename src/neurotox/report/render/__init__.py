"""Renderers: lay out a :class:`~neurotox.report.model.Report` as files.

Each renderer returns bytes (or a dict of relative path → bytes for csv) and
never computes a statistic. :data:`RENDERERS` maps a format name to its writer;
``pdf`` converts the docx (rendered once) through LibreOffice.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from neurotox.report.model import Report

#: Renderer function → its module (imported when first used: openpyxl, python-docx
#: and the html templates load only for the formats a run writes).
_WHERE = {"render_csv": "csv", "render_docx": "docx", "render_html": "html",
          "render_xlsx": "xlsx"}


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module 'neurotox.report.render' has no attribute {name!r}")
    return getattr(importlib.import_module(f"neurotox.report.render.{_WHERE[name]}"), name)


def _render(fmt: str, r: Report) -> dict[str, bytes]:
    out = __getattr__(f"render_{fmt}")(r)
    return out if isinstance(out, dict) else {f"report.{fmt}": out}


#: Format name → function returning {relative path: bytes} (pdf: see rendered_files).
RENDERERS: dict[str, Callable[[Report], dict[str, bytes]]] = {
    fmt: (lambda r, fmt=fmt: _render(fmt, r)) for fmt in ("xlsx", "docx", "html", "csv")
}

FORMATS = ("xlsx", "docx", "pdf", "html", "csv")

__all__ = ["FORMATS", "RENDERERS", "render_csv", "render_docx", "render_html", "render_xlsx"]
