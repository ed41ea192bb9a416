"""Page layout of tables: estimated column widths, orientation, column-group splits.

A printed table must fit its page. Widths are estimated from the text (8 pt
Arial); a table that fits a portrait page is printed portrait, one that fits a
landscape page landscape, and a wider one is split into parts by column
groups (an endpoint's timepoints stay together), each part repeating the row
labels — never into slices that separate a value from its subject.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from neurotox.report.model import ColumnGroup, Row, Table

#: Page sizes (width, height) in mm, portrait.
PAPER = {"a4": (210.0, 297.0), "letter": (215.9, 279.4)}
MARGIN_MM = 15.0
CHAR_MM = 1.6      # mean width of a character at 8 pt Arial
UPPER_MM = 2.0     # capitals are wider (Arial ~0.7 em at 8 pt): "EOTAXIN" broke mid-word
PAD_MM = 2.6       # cell padding and borders
MAX_CELL_MM = 48.0  # longer texts wrap


@dataclass(frozen=True)
class Part:
    """A printable part of a table.

    Attributes
    ----------
    table
        The part (row labels and the columns of this part).
    landscape
        Print it on a landscape page.
    widths
        Column widths in mm, labels first.
    index, count
        Which part of how many.

    """

    table: Table
    landscape: bool
    widths: tuple[float, ...]
    index: int = 1
    count: int = 1


def usable_width(paper: str, landscape: bool) -> float:
    """Text width of a page in mm."""
    w, h = PAPER[paper]
    return (h if landscape else w) - 2 * MARGIN_MM


def _chars_mm(text: str) -> float:
    """Estimated printed width of text at 8 pt Arial, capitals wider than the rest."""
    upper = sum(c.isupper() for c in text)
    return upper * UPPER_MM + (len(text) - upper) * CHAR_MM


def _text_mm(text: str, *, wrap: bool) -> float:
    if not text:
        return 0.0
    if wrap and len(text) > 14:  # long headers wrap between words, never inside one
        longest = max(_chars_mm(w) for w in text.split())
        return min(max(longest, _chars_mm(text) / 3), _chars_mm(text))
    return _chars_mm(text)


def column_widths(table: Table) -> list[float]:
    """Estimated width (mm) of every column, the label columns first."""
    n_labels = len(table.row_header)
    heads = list(table.row_header) + list(table.columns)
    widths = [_text_mm(h, wrap=True) for h in heads]
    for row in table.rows:
        texts = list(row.labels) + [c.text for c in row.cells]
        for j, t in enumerate(texts[:len(widths)]):
            widths[j] = max(widths[j], _text_mm(t, wrap=len(t) > 30))
    groups = [g for g in table.column_groups for _ in range(g.span)]
    for j, g in enumerate(groups):  # a group heading is shared by its columns
        share = _text_mm(g.label, wrap=True) / g.span
        widths[n_labels + j] = max(widths[n_labels + j], share)
    return [min(w + PAD_MM, MAX_CELL_MM) for w in widths]


def _units(table: Table) -> list[list[int]]:
    """Column indexes that must stay together: one list per column group."""
    if not table.column_groups:
        return [[j] for j in range(len(table.columns))]
    out, j = [], 0
    for g in table.column_groups:
        out.append(list(range(j, j + g.span)))
        j += g.span
    return out


def _pack(units: list[list[int]], widths: list[float], room: float) -> list[list[int]]:
    parts: list[list[int]] = [[]]
    used = 0.0
    for unit in units:
        w = sum(widths[j] for j in unit)
        if w > room:  # a group too wide for a page: split it by columns
            for j in unit:
                if parts[-1] and used + widths[j] > room:
                    parts.append([])
                    used = 0.0
                parts[-1].append(j)
                used += widths[j]
            continue
        if parts[-1] and used + w > room:
            parts.append([])
            used = 0.0
        parts[-1] += unit
        used += w
    return [p for p in parts if p]


def _subset(table: Table, cols: list[int]) -> Table:
    groups = [g.label for g in table.column_groups for _ in range(g.span)]
    labels = [groups[j] for j in cols] if groups else []
    spans = [ColumnGroup(k, labels.count(k)) for k in dict.fromkeys(labels)]
    rows = [Row(r.labels, tuple(r.cells[j] for j in cols), r.optional) for r in table.rows]
    rows = [r for r in rows if not r.optional or any(c.text for c in r.cells)]
    return replace(table, columns=tuple(table.columns[j] for j in cols),
                   column_groups=tuple(spans), rows=rows)


def plan_parts(table: Table, paper: str = "a4") -> list[Part]:
    """The parts a table is printed in, each with its orientation and column widths."""
    widths = column_widths(table)
    n_labels = len(table.row_header)
    total = sum(widths)
    if total <= usable_width(paper, False):
        return [Part(table, False, tuple(widths))]
    room = usable_width(paper, True)
    if total <= room or not table.columns:
        return [Part(table, True, tuple(_fit(widths, room)))]
    label_w = sum(widths[:n_labels])
    parts = _pack(_units(table), widths[n_labels:], room - label_w)
    out = []
    for k, cols in enumerate(parts, start=1):
        w = widths[:n_labels] + [widths[n_labels + j] for j in cols]
        out.append(Part(_subset(table, cols), True, tuple(_fit(w, room)), k, len(parts)))
    return out


def _fit(widths: list[float], room: float) -> list[float]:
    total = sum(widths)
    return widths if total <= room else [w * room / total for w in widths]
