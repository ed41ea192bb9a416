"""Layers import downward only (DESIGN.md): cli → report/stats/assays → imaging/io → core."""

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[3] / "src" / "neurotox"

#: package → packages it must never import
FORBIDDEN = {
    "stats": {"assays", "io", "imaging", "report", "cli", "pipeline", "simulate"},
    "imaging": {"assays", "stats", "report", "cli", "pipeline"},
    "io": {"assays", "stats", "report", "cli", "pipeline", "imaging"},
    "report": {"cli", "hcd"},
    "hcd": {"cli", "pipeline", "report", "assays", "stats", "imaging", "simulate"},
    "assays": {"cli", "report", "pipeline"},
    "endpoints": {"assays", "stats", "io", "imaging", "report", "cli", "pipeline", "study"},
    "study": {"assays", "stats", "io", "imaging", "report", "cli", "pipeline"},
    "protocols": {"assays", "stats", "io", "imaging", "report", "cli", "pipeline"},
}


def imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.add(node.module)
        elif isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
    return {m.split(".")[1] for m in out if m.startswith("neurotox.") and m.count(".") >= 1}


def layer_of(path: Path) -> str:
    rel = path.relative_to(SRC)
    return rel.parts[0].removesuffix(".py")


@pytest.mark.parametrize("path", sorted(SRC.rglob("*.py")), ids=lambda p: str(p.relative_to(SRC)))
def test_module_imports_only_downward(path):
    bad = imports(path) & FORBIDDEN.get(layer_of(path), set())
    assert not bad, f"{path.relative_to(SRC)} imports {sorted(bad)}"
