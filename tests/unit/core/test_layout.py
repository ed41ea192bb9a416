"""Package shape (issue 13): every module says what it holds; assay modules stay small."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[3] / "src" / "neurotox"
#: An assay module longer than this holds more than one concern: split it.
MAX_ASSAY_LINES = 400


@pytest.mark.parametrize("path", sorted(SRC.rglob("*.py")), ids=lambda p: str(p.relative_to(SRC)))
def test_module_docstring_says_what_it_holds(path):
    doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8")))
    assert doc and doc.splitlines()[0].strip(), f"{path.relative_to(SRC)} has no docstring"


@pytest.mark.parametrize("path", sorted((SRC / "assays").rglob("*.py")),
                         ids=lambda p: str(p.relative_to(SRC)))
def test_assay_modules_hold_one_concern(path):
    n = len(path.read_text(encoding="utf-8").splitlines())
    assert n <= MAX_ASSAY_LINES, (f"{path.relative_to(SRC)} has {n} lines (> {MAX_ASSAY_LINES}): "
                                  "split it by concern")
