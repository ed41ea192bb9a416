"""Imports in src/neurotox: layers import downward only, and no module imports itself round.

Every ``import`` statement counts, wherever it stands: at module level, inside a
function (a lazy import is still a dependency) or under ``if TYPE_CHECKING``.

Layers (DESIGN.md), top to bottom; a module may import its own layer and the
layers below it, never one above:

    cli, __main__ → pipeline → simulate → report / stats / assays / hcd
    → imaging / io / parallel → study / endpoints / protocols / guidelines
    → errors / vocab / yamlio / timepoints (and the package root, for ``__version__``)

plus the rules within a layer: ``stats`` never imports ``assays``, ``io``,
``imaging``, ``report`` or ``hcd``; ``assays`` never imports ``report``; ``io``
never imports ``imaging``; ``imaging`` never imports ``assays``; ``assays`` never
imports ``simulate`` (the layer order already says so).

Circles are checked on the graph of modules (files), with lazy imports as edges
too: a circle closed only by a function-level import still means two modules
that cannot be understood, tested or moved apart. ``from pkg import name`` is an
edge to ``pkg.name`` when that is a module, else to ``pkg``. The implicit import
of a parent package when a submodule is imported is not an edge (otherwise every
package whose ``__init__`` imports its own modules would be a circle).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[3] / "src" / "neurotox"

#: Top-level package or module → layer (higher imports lower, never the reverse).
LAYERS = {
    "neurotox": 0, "errors": 0, "vocab": 0, "files": 0, "cachedirs": 0,
    "yamlio": 0, "timepoints": 0, "delimited": 0, "workbook": 0, "workbook_calamine": 0,
    "sidetables": 0, "logs": 0,
    "study": 1, "endpoints": 1, "protocols": 1, "guidelines": 1,
    "imaging": 2, "io": 2, "parallel": 2,
    "report": 3, "stats": 3, "assays": 3, "hcd": 3,
    "simulate": 4,
    "pipeline": 5,
    "cli": 6, "__main__": 6,
}
#: Imports forbidden within a layer (or spelled out from DESIGN.md for clarity).
FORBIDDEN = {
    "stats": {"assays", "io", "imaging", "report", "hcd"},
    "assays": {"report", "simulate"},
    "io": {"imaging"},
    "imaging": {"assays"},
    "report": {"hcd"},
    "hcd": {"report", "assays", "stats", "imaging"},
}


def module_name(path: Path, root: Path = SRC) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules(root: Path = SRC) -> dict[str, Path]:
    return {module_name(p, root): p for p in sorted(root.rglob("*.py"))}


MODULES = modules()


def imported(path: Path, root: Path = SRC, known: dict[str, Path] = MODULES) -> set[str]:
    """The neurotox modules (or packages) that ``path`` imports, anywhere in the file."""
    name = module_name(path, root)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[:len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                out.add(sub if sub in known else base)
    return {m for m in out if m == "neurotox" or m.startswith("neurotox.")}


GRAPH = {name: {m for m in imported(p) if m in MODULES and m != name}
         for name, p in MODULES.items()}


def top(module: str) -> str:
    return module.split(".")[1] if "." in module else "neurotox"


@pytest.mark.parametrize("name", sorted(MODULES))
def test_module_imports_only_downward(name):
    mine = top(name)
    assert mine in LAYERS, (f"{name}: top-level package {mine!r} has no layer; add it to LAYERS "
                            "in this test (and to DESIGN.md)")
    bad = sorted(f"{m} ({top(m)})" for m in imported(MODULES[name])
                 if top(m) != mine and (LAYERS.get(top(m), 99) > LAYERS[mine]
                                        or top(m) in FORBIDDEN.get(mine, ())))
    assert not bad, f"{name} (layer {mine}) imports upward or forbidden: {', '.join(bad)}"


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan), sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return sorted(found)


def cycle_in(component: list[str], graph: dict[str, set[str]]) -> list[str]:
    """One import path that goes round inside ``component`` (for the failure message)."""
    members = set(component)
    path = [component[0]]
    while True:
        nxt = min(graph[path[-1]] & members)
        if nxt in path:
            return path[path.index(nxt):] + [nxt]
        path.append(nxt)


def test_no_import_circles():
    found = [" → ".join(cycle_in(c, GRAPH)) for c in circles(GRAPH)]
    assert not found, "import circles:\n" + "\n".join(found)


@pytest.mark.parametrize(("graph", "expected"), [
    ({"a": {"b"}, "b": {"c"}, "c": set()}, []),
    ({"a": {"b"}, "b": {"a"}, "c": {"a"}}, [["a", "b"]]),
    ({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"d"}}, [["a", "b", "c"]]),
])
def test_circle_finder(graph, expected):
    assert circles(graph) == expected


def test_lazy_relative_and_type_checking_imports_are_seen(tmp_path):
    root = tmp_path / "neurotox"
    for name in ("__init__", "assays/__init__", "assays/x", "assays/y", "io/__init__",
                 "io/text", "simulate/__init__", "simulate/base", "study"):
        (root / f"{name}.py").parent.mkdir(parents=True, exist_ok=True)
        (root / f"{name}.py").touch()
    (root / "assays" / "x.py").write_text(
        "from typing import TYPE_CHECKING\n"
        "import numpy\n"
        "from . import y\n"
        "from ..io import text\n"
        "if TYPE_CHECKING:\n    from neurotox.study import Study\n"
        "def f():\n    from neurotox.simulate import base\n")
    known = modules(root)
    got = imported(root / "assays" / "x.py", root, known)
    assert got == {"neurotox.assays.y", "neurotox.io.text", "neurotox.study",
                   "neurotox.simulate.base"}
