"""Plate grids: 8 × 12 (or 16 × 24) blocks of values as most readers export them "as plate".

SoftMax Pro, Tecan Magellan/i-control, BMG MARS, PerkinElmer and hand-made sheets
write each read as a grid: a header row of column numbers ``1 … 12`` and one
row per plate row ``A … H``. This reader takes every such block of a CSV/TSV or
of the first sheet of an xlsx workbook, names it by the cell in the grid's corner
or the nearest text line above it, and decides what each block is:

* a grid of text is the **layout** (well IDs: ``STD1``/``S1``/``CAL1`` standards,
  ``BLK``/``Blank`` blanks, ``QC1``/``CTL1`` controls, anything else a sample;
  ``SPL2:1`` = sample 2, first dilution);
* a numeric grid whose name says ``conc``/``expected``/``standard`` holds the
  standards' **expected concentrations**, one saying ``dilution``/``dil`` the
  **dilution factors**;
* of the other numeric grids the one whose name says ``blank`` (blank-corrected)
  is the **signal**, else any; of several candidates the one whose values span
  the widest range (the measured wavelength: a reference wavelength reads flat;
  equal spans: the shorter wavelength), with a warning naming them
  (``options['signal']`` names another). Two text grids that disagree are
  warned about, naming both and the layout used.

A grid used with fewer rows than the export's fullest grid is refused as damaged;
a laid-out sample well with an empty read cell is kept without a signal and
named in a warning.

Without a layout grid, every well is a sample named by its well and the assay
needs a plate map (the plain plate table without a signal) to say which wells
are standards, blanks and samples. Every choice is noted.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from neurotox.errors import FormatError, quoted
from neurotox.io.neurochem.base import (
    PlateExport,
    Reader,
    Source,
    cell_text,
    dilution_cell,
    normalise_well,
    parse_value,
    register_reader,
    wells_frame,
)
from neurotox.io.neurochem.plate_table import _ID_TYPES

NAME = "plate-grid"
_LETTERS = "ABCDEFGHIJKLMNOP"
_EXPECTED = re.compile(r"conc|expected|standard|nominal", re.I)
_DILUTION = re.compile(r"dilution|\bdil\b|\bdf\b", re.I)
_BLANKED = re.compile(r"blank", re.I)
_LAYOUT = re.compile(r"layout|well ?id|content|sample|name|map", re.I)
_NM = re.compile(r"(\d{3})\s*nm", re.I)
_SPL = re.compile(r"^(SPL|SMP|SAMPLE)\s*(\d+)(?::(\d+))?$", re.I)


@dataclass
class Grid:
    """One block: its name, the line it starts on and its cells by well."""

    name: str
    line: int
    cells: dict[str, str] = field(default_factory=dict)

    @property
    def numeric(self) -> bool:
        """True when at least half of the filled cells are numbers."""
        filled = [c for c in self.cells.values() if c]
        nums = sum(1 for c in filled if _is_number(c))
        return bool(filled) and nums >= len(filled) / 2


def _is_number(text: str) -> bool:
    try:
        return math.isfinite(parse_value(text).value) or parse_value(text).censoring != "none"
    except ValueError:
        return False


def _rows(src: Source) -> list[list[str]]:
    if src.container == "xlsx":
        sheet = next(iter(src.workbook.values()))
        return [[cell_text(c) for c in r] for r in sheet.itertuples(index=False)]
    if src.container != "text":
        return []
    sep = src.delimiter
    return [[c.strip().strip('"') for c in line.split(sep)] for line in src.text().splitlines()]


def _header_at(cells: list[str]) -> int | None:
    """Index of the cell holding column 1 when the row is ``[label] 1 2 … 12``."""
    nums = [re.sub(r"\.0$", "", c) for c in cells]
    for k in range(min(len(nums), 4)):
        run = nums[k:k + 12]
        if run == [str(i) for i in range(1, 13)]:
            return k
    return None


def find_grids(rows: list[list[str]]) -> list[Grid]:
    """Every grid block of the rows (see the module docstring)."""
    grids, i = [], 0
    while i < len(rows):
        k = _header_at(rows[i])
        if k is None:
            i += 1
            continue
        ncol = 24 if rows[i][k:k + 24] == [str(c) for c in range(1, 25)] else 12
        grid = Grid(_grid_name(rows, i, k), i + 1)
        j = i + 1
        while j < len(rows) and len(rows[j]) > max(k - 1, 0) and k >= 1 \
                and rows[j][k - 1].upper() == _LETTERS[j - i - 1: j - i]:
            for c in range(ncol):
                value = rows[j][k + c] if k + c < len(rows[j]) else ""
                grid.cells[f"{_LETTERS[j - i - 1]}{c + 1:02d}"] = value
            j += 1
        if grid.cells:
            grids.append(grid)
        i = max(j, i + 1)
    return grids


def _grid_name(rows: list[list[str]], i: int, k: int) -> str:
    corner = rows[i][k - 1] if k >= 1 else ""
    if corner and corner not in ("<>", "#"):
        return corner
    for back in range(i - 1, max(i - 4, -1), -1):
        text = " ".join(c for c in rows[back] if c).strip()
        if text:
            return text
    return f"grid at line {i + 1}"


def match(src: Source) -> bool:
    """A CSV/TSV or xlsx holding at least one 8-row grid under a ``1 … 12`` header."""
    if src.container == "xlsx":
        try:
            first = next(iter(src.workbook.values()))
        except (FormatError, StopIteration):
            return False
        rows = [[cell_text(c) for c in r] for r in first.head(200).itertuples(index=False)]
    elif src.container == "text":
        rows = [[c.strip().strip('"') for c in ln.split(src.delimiter)] for ln in src.lines]
    else:
        return False
    return any(len(g.cells) >= 96 for g in find_grids(rows))


def _roles(grids: list[Grid], signal: str | None, path: Path) -> dict[str, Grid | None]:
    text = [g for g in grids if not g.numeric]
    num = [g for g in grids if g.numeric]
    roles: dict[str, Grid | None] = {
        "layout": next((g for g in text if _LAYOUT.search(g.name)), text[0] if text else None),
        "expected": next((g for g in num if _EXPECTED.search(g.name)), None),
        "dilution": next((g for g in num if _DILUTION.search(g.name)), None)}
    rest = _reads(grids, roles)
    if signal is not None:
        hit = [g for g in grids if g.name == signal]
        if not hit:
            raise FormatError(f"no grid named {signal!r}; found {quoted(g.name for g in grids)}",
                              path=path)
        roles["signal"] = hit[0]
    else:
        blanked = [g for g in rest if _BLANKED.search(g.name)]
        roles["signal"] = _widest(blanked or rest) if rest else None
    if roles["signal"] is None:
        raise FormatError(f"expected a grid of numbers (the reads), found only "
                          f"{quoted(g.name for g in grids)}", path=path)
    return roles


def _span(grid: Grid) -> tuple[float, float]:
    """Lowest and highest number of a grid (NaN, NaN when it holds none)."""
    values = [parse_value(c).value for c in grid.cells.values() if _is_number(c)]
    values = [v for v in values if math.isfinite(v)]
    return (min(values), max(values)) if values else (math.nan, math.nan)


def _wavelength(grid: Grid) -> float:
    m = _NM.search(grid.name)
    return float(m.group(1)) if m else math.inf


def _widest(pool: list[Grid]) -> Grid:
    """The candidate read whose values span the widest range (the measured wavelength).

    A reference wavelength (570, 620, 630 nm) reads flat, blank-corrected or not;
    of equal spans the shorter wavelength is taken (the reference is the longer
    one in colorimetric assays), then the first.
    """
    def key(g: Grid) -> tuple[float, float]:
        lo, hi = _span(g)
        return (hi - lo if math.isfinite(hi - lo) else -1.0, -_wavelength(g))
    return max(pool, key=key)


def _choice_note(path: Path, pool: list[Grid], chosen: Grid, blanked: bool) -> str:
    spans = "; ".join(f"{g.name!r} (line {g.line}) {lo + 0.0:g} to {hi + 0.0:g}"
                      for g in sorted(pool, key=lambda g: (g.name, g.line))
                      for lo, hi in [_span(g)])
    kind = "blank-corrected grids" if blanked else "grids, none blank-corrected,"
    return (f"warning: {path.name}: {len(pool)} {kind} could each be the signal "
            f"({quoted(g.name for g in pool)}); {chosen.name!r} (line {chosen.line}) is used, "
            "its values span the "
            f"widest range ({spans}: a reference wavelength reads flat): give --param "
            "signal=NAME to choose")


def _layout_note(path: Path, grids: list[Grid], chosen: Grid | None) -> list[str]:
    """A warning when another text grid disagrees with the layout used."""
    if chosen is None:
        return []
    out = []
    for g in grids:
        if g is chosen or g.numeric:
            continue
        diff = sorted(w for w in set(chosen.cells) | set(g.cells)
                      if chosen.cells.get(w, "").strip() != g.cells.get(w, "").strip())
        if diff:
            w = diff[0]
            out.append(f"warning: {path.name}: layout grids {chosen.name!r} and {g.name!r} "
                       f"disagree in {len(diff)} well(s) (well {w}: "
                       f"{chosen.cells.get(w, '')!r} vs {g.cells.get(w, '')!r}); "
                       f"{chosen.name!r} is used: remove the other from the export or give a "
                       "plate map")
    return out


def _check_rows(grids: list[Grid], roles: dict[str, Grid | None], path: Path) -> None:
    """Every grid used has as many rows as the export's fullest grid (else damaged)."""
    nrow = max(len(g.cells) // _ncol(g) for g in grids)
    for g in (r for r in roles.values() if r is not None):
        rows = len(g.cells) // _ncol(g)
        if rows < nrow:
            raise FormatError(f"grid {g.name!r} has {rows} row(s) (A-{_LETTERS[rows - 1]}) "
                              f"where the export's other grids have {nrow}: the grid looks "
                              "damaged or cut; export it again", path=path,
                              where=f"line {g.line}")


def _ncol(g: Grid) -> int:
    return 24 if any(w.endswith("24") for w in g.cells) else 12


def _reads(grids: list[Grid], roles: dict[str, Grid | None]) -> list[Grid]:
    """The numeric grids that are neither concentrations nor dilutions: candidate reads."""
    return [g for g in grids if g.numeric and g is not roles["expected"]
            and g is not roles["dilution"]]


def _kind(wid: str) -> tuple[str | None, str, str]:
    """(type, sample, level) of a layout ID; type None for an empty well."""
    wid = wid.strip()
    if not wid or wid.lower() in ("empty", "-", "x"):
        return None, "", ""
    m = _SPL.match(wid)
    if m:
        return "sample", f"{m.group(1).upper()}{m.group(2)}", ""
    for pattern, kind in _ID_TYPES:
        if pattern.match(wid):
            return kind, wid, wid if kind in ("standard", "control") else ""
    return "sample", wid, ""


def read(src: Source, *, analyte: str | None = None, signal: str | None = None,
         **_: Any) -> PlateExport:
    """Read the grids of a plate export into a :class:`PlateExport`."""
    grids = find_grids(_rows(src))
    if not grids:
        raise FormatError("expected plate grids (a row '1 … 12' then rows 'A … H'), found none",
                          path=src.path)
    roles = _roles(grids, signal, src.path)
    _check_rows(grids, roles, src.path)
    notes = [f"{src.path.name}: grids {quoted(g.name for g in grids)}; signal = "
             f"{roles['signal'].name!r}, layout = "
             f"{roles['layout'].name if roles['layout'] else 'none (a plate map is needed)'!r}"]
    reads = _reads(grids, roles)
    blanked = [g for g in reads if _BLANKED.search(g.name)]
    pool = blanked or reads
    if signal is None and len(pool) > 1:
        # e.g. a reference-wavelength grid exported before the measured one
        notes.append(_choice_note(src.path, pool, roles["signal"], bool(blanked)))
    notes += _layout_note(src.path, grids, roles["layout"])
    rows = []
    for well, value in roles["signal"].cells.items():
        row = _row(well, value, roles, analyte or "", src.path)
        if row is not None:
            rows.append(row)
    wells = wells_frame(rows)
    if not np.isfinite(wells["signal"]).any():
        raise FormatError("the layout names no well with a read", path=src.path)
    std = wells["type"] == "standard"
    needs_map = roles["layout"] is None or bool((std & wells["expected"].isna()).any())
    empty = wells.loc[~np.isfinite(wells["signal"]), "well"].tolist()
    if empty and not needs_map:      # with a plate map, apply_plate_map names them
        notes.append(f"warning: {src.path.name}: sample well(s) {', '.join(empty)} of the "
                     f"layout have an empty cell in grid {roles['signal'].name!r} (line "
                     f"{roles['signal'].line}): no signal, left out of their sample's mean "
                     "(recorded in neurochem_wells)")
    return PlateExport(format=NAME, path=src.path, wells=wells, notes=notes,
                       meta={"layout": roles["layout"] is not None, "needs_map": needs_map,
                             "grids": [g.name for g in grids]})


def _row(well: str, value: str, roles: dict[str, Grid | None], analyte: str,
         path: Path) -> dict[str, Any] | None:
    layout, where = roles["layout"], f"grid {roles['signal'].name!r}, well {well}"
    kind, sample, level = _kind(layout.cells.get(well, "")) if layout else ("sample", well, "")
    if kind is None:
        return None
    try:
        signal = parse_value(value)
    except ValueError as exc:
        raise FormatError(str(exc), path=path, where=where) from None
    if (signal.censoring != "none" or not math.isfinite(signal.value)) \
            and (kind != "sample" or value):
        raise FormatError(f"expected a read, found {value!r}", path=path, where=where)
    expected = _number(roles["expected"], well, path)
    grid = roles["dilution"]
    dilution = math.nan if grid is None else dilution_cell(
        grid.cells.get(well, ""), path=path, where=f"grid {grid.name!r}, well {well}")
    return {"plate": path.stem, "analyte": analyte, "well": normalise_well(well) or well,
            "sample": sample, "type": kind, "level": level,
            "expected": expected if kind in ("standard", "control") else math.nan,
            "dilution": dilution,
            "signal": signal.value, "raw": math.nan, "replicates": 1, "count": math.nan,
            "vendor_value": math.nan, "vendor_censoring": "none", "vendor_flag": "",
            "vendor_excluded": False, "source": f"{path.name} {where}"}


def _number(grid: Grid | None, well: str, path: Path) -> float:
    if grid is None:
        return math.nan
    try:
        p = parse_value(grid.cells.get(well, ""))
    except ValueError as exc:
        raise FormatError(str(exc), path=path, where=f"grid {grid.name!r}, well {well}") from None
    return p.value if p.censoring == "none" else math.nan


register_reader(Reader(NAME, "plate grids (CSV/TSV/xlsx): a header row '1 … 12' and rows "
                             "'A … H' per read, optionally a layout grid of well IDs and grids "
                             "of concentrations or dilutions", match, read))
