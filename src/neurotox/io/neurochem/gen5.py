"""BioTek/Agilent Gen5 text exports (tab-delimited "default export" of a plate).

Layout (one section per plate, each starting ``Plate Number<TAB>Plate 1``):

* a ``Layout`` grid: a header line of column numbers (``<TAB>1<TAB>2 … 12``), then
  per plate row a line ``A<TAB>STD1 … <TAB>Well ID`` and a continuation line
  ``<TAB>2000 … <TAB>Conc/Dil`` (the standard's concentration or the sample's
  dilution);
* data grids in the same shape, each line ending with its label
  (``630nmAbsRead:630``, ``Blank 630nmAbsRead:630``, ``[Concentration]``,
  ``Mean V [420]``), either together under ``Results`` (continuation lines start
  with a tab) or as separate blocks under a title line;
* kinetic reads: a ``Time<TAB>T° …<TAB>A1<TAB>A2 …`` table, one line per read;
* ``Curve Fitting Results``: ``Curve Name, Curve Formula, A, B, C, D, R2, Fit F
  Prob``.

Well IDs: ``STDn`` standards, ``BLK`` blanks, ``CTLn``/``CTRLn`` controls,
``SPLn`` or ``SPLn:k`` samples (``:k`` = the k-th dilution of the sample); any
other ID is a sample of that name.

Choices made (and noted): the curve signal is the blank-corrected read
(``Blank …``) when exported, else a reference-wavelength-corrected read (a label
with ``Delta`` or ``Corrected``), else a kinetic rate (``Mean V``/``Max V``),
else the first read; ``options['signal']`` names another label. A sample's ``Conc/Dil``
below 1 is a fraction (0.25 = 1:4) and becomes the dilution factor 4. Gen5's
concentration markers ``<22.500``, ``>40.000`` (censored) and ``?????`` (not
computable) are carried as vendor values. A read marked ``OVRFLW`` (saturated),
``MISSED`` or ``?????`` (not computable; any other text read as missing likewise)
leaves that well without a signal (flagged, with a warning naming the file, plate,
grid, wells and marker); the rest of the plate is analysed, and a sample with a saturated well
is censored at the high-signal end of the range (:data:`base.SATURATED`). A
Gen5 plate measures one analyte: ``options['analyte']`` names it (otherwise the
analyte is left empty for the assay to fill in from its protocol).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from neurotox.delimited import uses_decimal_commas, with_points
from neurotox.errors import FormatError, quoted
from neurotox.io.clock import clock_seconds
from neurotox.io.neurochem.base import (
    PlateExport,
    Reader,
    Source,
    VendorCurve,
    dilution_cell,
    marker_note,
    number,
    parse_value,
    register_reader,
    resolve_dilutions,
    wells_frame,
)

NAME = "gen5"
_ROW = re.compile(r"^[A-P]$")
_ID = re.compile(r"^(STD|SPL|CTL|CTRL|BLK)(\d*)(?::(\d+))?$", re.IGNORECASE)
_CONC_LABELS = ("[concentration]", "conc", "concentration", "[conc]")
_LAYOUT_LABELS = ("well id", "conc/dil", "conc/dil.", "dilution", "name")


def match(src: Source) -> bool:
    """A Gen5 export is tab-delimited and starts with ``Software Version``."""
    first = next((ln for ln in src.lines if ln.strip()), "")
    return src.container == "text" and first.split("\t")[0].strip() == "Software Version"


@dataclass
class Gen5Plate:
    """One plate section: labelled grids, kinetic reads, curve fits and header fields."""

    name: str
    grids: dict[str, dict[str, str]] = field(default_factory=dict)
    kinetic: pd.DataFrame | None = None
    curves: list[dict[str, str]] = field(default_factory=list)
    info: dict[str, str] = field(default_factory=dict)
    lines: dict[str, int] = field(default_factory=dict)


def parse_plates(src: Source, notes: list[str] | None = None) -> list[Gen5Plate]:
    """Split a Gen5 export into plate sections and parse their grids and tables.

    Decimal commas (a European locale's export) are read as points, noted in
    ``notes``; a file mixing both separators is refused.
    """
    lines = src.text().splitlines()
    cells = ((f"line {i + 1}", c) for i, ln in enumerate(lines) for c in ln.split("\t"))
    if uses_decimal_commas(cells, src.path):
        lines = ["\t".join(with_points(c) for c in ln.split("\t")) for ln in lines]
        if notes is not None:
            notes.append(f"{src.path.name}: decimal commas (European locale) read as decimal "
                         "points")
    starts = [i for i, ln in enumerate(lines) if ln.split("\t")[0].strip() == "Plate Number"]
    if not starts:
        starts = [0]
    plates = []
    for k, start in enumerate(starts):
        end = starts[k + 1] if k + 1 < len(starts) else len(lines)
        cells = lines[start].split("\t")
        name = cells[1].strip() if len(cells) > 1 and cells[1].strip() else f"Plate {k + 1}"
        plates.append(_parse_section(lines, start, end, name, src.path))
    names = [p.name for p in plates]
    if len(set(names)) != len(names):
        raise FormatError(f"plate names repeat: {quoted(names)}", path=src.path)
    return plates


def _cells(line: str) -> list[str]:
    return [c.strip() for c in line.split("\t")]


def _is_grid_header(cells: list[str]) -> bool:
    nums = [c for c in cells[1:] if c]
    return (len(cells) > 2 and cells[0] == "" and len(nums) >= 2
            and nums == [str(i) for i in range(1, len(nums) + 1)])


def _parse_section(lines: list[str], start: int, end: int, name: str, path: Path) -> Gen5Plate:
    plate = Gen5Plate(name)
    i = start
    while i < end:
        cells = _cells(lines[i])
        if _is_grid_header(cells):
            i = _parse_grid(lines, i, end, plate, path)
            continue
        if cells[0] == "Time" and len(cells) > 2:
            i = _parse_kinetic(lines, i, end, plate, path)
            continue
        if cells[:2] == ["Curve Name", "Curve Formula"]:
            i = _parse_curves(lines, i, end, plate)
            continue
        if len(cells) >= 2 and cells[0] and cells[1] and not plate.grids:
            plate.info.setdefault(cells[0].rstrip(":"), cells[1])
        i += 1
    return plate


def _parse_grid(lines: list[str], i: int, end: int, plate: Gen5Plate, path: Path) -> int:
    header = _cells(lines[i])
    ncol = len([c for c in header[1:] if c])
    row = None
    i += 1
    while i < end:
        cells = _cells(lines[i])
        if not any(cells) or _is_grid_header(cells):
            break
        if _ROW.match(cells[0]):
            row = cells[0]
        elif cells[0] != "" or row is None:
            break
        if len(cells) < ncol + 2:
            raise FormatError(f"expected {ncol} wells and a label on this grid line, found "
                              f"{len(cells) - 1} cells", path=path, where=f"line {i + 1}")
        label = cells[ncol + 1]
        grid = plate.grids.setdefault(label, {})
        plate.lines.setdefault(label, i + 1)
        for col in range(1, ncol + 1):
            well = f"{row}{col:02d}"
            if well in grid and grid[well] != cells[col]:
                raise FormatError(f"well {well} has two values for {label!r}", path=path,
                                  where=f"line {i + 1}")
            grid[well] = cells[col]
        i += 1
    return i


def _seconds(text: str) -> float:
    t = clock_seconds(text)
    if t is None:
        raise ValueError(f"expected a time like 0:02:30 or 2:30.00, found {text!r}")
    return t


def _parse_kinetic(lines: list[str], i: int, end: int, plate: Gen5Plate, path: Path) -> int:
    header = _cells(lines[i])
    wells = {k: w for k, w in enumerate(header) if re.match(r"^[A-P]\d{1,2}$", w)}
    if not wells:
        raise FormatError("kinetic table: expected well columns (A1, A2 …) after 'Time'",
                          path=path, where=f"line {i + 1}")
    rows = []
    i += 1
    while i < end:
        cells = _cells(lines[i])
        if not any(cells) or clock_seconds(cells[0]) is None:
            break
        t = _seconds(cells[0])
        for k, w in wells.items():
            v, mark = _read(cells[k] if k < len(cells) else "", path=path,
                            where=f"line {i + 1}, well {w}")
            rows.append({"well": f"{w[0]}{int(w[1:]):02d}", "time_s": t, "value": v,
                         "marker": mark})
        i += 1
    if plate.kinetic is not None:
        raise FormatError("expected one kinetic table per plate, found a second", path=path,
                          where=f"line {i + 1}")
    plate.kinetic = pd.DataFrame(rows, columns=["well", "time_s", "value", "marker"])
    return i


def _parse_curves(lines: list[str], i: int, end: int, plate: Gen5Plate) -> int:
    header = _cells(lines[i])
    i += 1
    while i < end and any(_cells(lines[i])):
        plate.curves.append(dict(zip(header, _cells(lines[i]), strict=False)))
        i += 1
    return i


# ------------------------------------------------------------------ endpoint plates

def _layout(plate: Gen5Plate, path: Path) -> dict[str, dict[str, Any]]:
    ids = plate.grids.get("Well ID")
    if ids is None:
        raise FormatError(f"plate {plate.name!r}: expected a 'Layout' grid with 'Well ID' "
                          "lines", path=path)
    conc = plate.grids.get("Conc/Dil", {})
    out = {}
    for well, wid in ids.items():
        if not wid:
            continue
        m = _ID.match(wid)
        kind = {"STD": "standard", "SPL": "sample", "CTL": "control", "CTRL": "control",
                "BLK": "blank"}[m.group(1).upper()] if m else "sample"
        where = f"plate {plate.name!r}, Layout, well {well}, 'Conc/Dil'"
        value = dilution_cell(conc.get(well, ""), path=path, where=where) \
            if kind == "sample" else number(conc.get(well, ""), path=path, where=where)
        sample = f"{m.group(1).upper()}{m.group(2)}" if m else wid
        out[well] = {"type": kind, "sample": sample, "id": wid,
                     "level": sample if kind in ("standard", "control") else "",
                     "expected": value if kind in ("standard", "control") else math.nan,
                     "dilution": value if kind == "sample" else 1.0}
    return out


def check_layout_dilutions(layouts: dict[str, dict[str, dict]], path: Path) -> None:
    """The shared dilution rule on the Layout grids, naming the 'Conc/Dil' cell."""
    rows = [{**info, "well": well,
             "source": f"plate {plate!r}, Layout, well {well}, 'Conc/Dil'"}
            for plate, layout in layouts.items() for well, info in layout.items()]
    if rows:
        resolve_dilutions(pd.DataFrame(rows), path)


def _pick_signal(plate: Gen5Plate, wanted: str | None, path: Path) -> str:
    data = [k for k in plate.grids if k.lower() not in _CONC_LABELS + _LAYOUT_LABELS
            and k not in ("Well ID", "Conc/Dil")]
    if wanted is not None:
        if wanted not in plate.grids:
            raise FormatError(f"plate {plate.name!r}: no data labelled {wanted!r}; found "
                              f"{quoted(data)}", path=path)
        return wanted
    for rule in (lambda k: k.lower().startswith("blank "),
                 lambda k: "delta" in k.lower() or "corrected" in k.lower(),
                 lambda k: k.lower().startswith(("mean v", "max v")), lambda k: True):
        hit = [k for k in data if rule(k)]
        if hit:
            return hit[0]
    raise FormatError(f"plate {plate.name!r}: expected a grid of reads (e.g. "
                      "'450nmAbsRead:450'), found none", path=path)


def _raw_label(plate: Gen5Plate, signal: str) -> str | None:
    raw = signal[len("Blank "):] if signal.lower().startswith("blank ") else None
    return raw if raw in plate.grids else None


def _curve(plate: Gen5Plate, path: Path) -> VendorCurve | None:
    for row in plate.curves:
        formula = re.sub(r"\s+", "", row.get("Curve Formula", ""))
        params = {k: number(v, path=path, where=f"plate {plate.name!r}, curve fit, {k}")
                  for k, v in row.items() if re.fullmatch(r"[A-G]", k) and v}
        r2 = number(row.get("R2", ""), path=path, where=f"plate {plate.name!r}, curve R2")
        if formula == "Y=(A-D)/(1+(X/C)^B)+D":
            return VendorCurve("4pl", params, "gen5", r2, row.get("Curve Formula", ""))
        if formula == "Y=A*X+B":
            return VendorCurve("linear", params, "linear-ax+b", r2, row.get("Curve Formula", ""))
        return VendorCurve("other", params, "text", r2, row.get("Curve Formula", ""))
    return None


def read(src: Source, *, analyte: str | None = None, signal: str | None = None,
         **_: Any) -> PlateExport:
    """Read the endpoint (or kinetic-rate) plates of a Gen5 export into a PlateExport."""
    notes: list[str] = []
    plates = parse_plates(src, notes)
    frames, curves = [], {}
    name = analyte or ""
    check_layout_dilutions({p.name: _layout(p, src.path) for p in plates}, src.path)
    for plate in plates:
        layout = _layout(plate, src.path)
        label = _pick_signal(plate, signal, src.path)
        notes.append(f"{src.path.name}, plate {plate.name!r}: curve signal = {label!r}")
        frame, marks = _plate_wells(plate, layout, label, name, src.path)
        frames.append(frame)
        notes += marks
        curve = _curve(plate, src.path)
        if curve is not None:
            curves[name] = curve
    wells = pd.concat(frames, ignore_index=True)
    if len(plates) > 1 and curves:
        notes.append(f"{src.path.name}: several plates; the vendor curve of the last one kept")
    return PlateExport(format=NAME, path=src.path, wells=wells, curves=curves, notes=notes,
                       meta={"plates": [p.name for p in plates], **plates[0].info})


#: Gen5's markers for a read that has no value, and what they mean.
READ_MARKERS = {"OVRFLW": "over the reader's range (saturated)",  # one of SATURATED
                "MISSED": "not read (the read failed)",
                "?????": "no value: Gen5 could not compute it"}


def _read(cell: object, *, path: Path, where: str) -> tuple[float, str]:
    """A read's value, or NaN and Gen5's marker (``OVRFLW``, ``MISSED``, ``?????``).

    Other text read as missing (``---``, ``N/A``) is its own marker: never unnoted.
    """
    text = str(cell).strip()
    if text.upper() in READ_MARKERS:
        return math.nan, text.upper()
    value = number(cell, path=path, where=where)
    return value, text if text and math.isnan(value) else ""


def _plate_wells(plate: Gen5Plate, layout: dict, label: str, analyte: str,
                 path: Path) -> tuple[pd.DataFrame, list[str]]:
    raw_label = _raw_label(plate, label)
    conc = next((plate.grids[k] for k in plate.grids if k.lower() in _CONC_LABELS), {})
    rows, marked, empty = [], {}, []
    for well, info in layout.items():
        where = f"plate {plate.name!r}, well {well}"
        signal, mark = _read(plate.grids[label].get(well, ""), path=path,
                             where=f"{where}, {label!r}")
        raw, raw_mark = _read(plate.grids[raw_label].get(well, ""), path=path, where=where) \
            if raw_label else (math.nan, "")
        try:
            vendor = parse_value(conc.get(well, ""))
        except ValueError as exc:
            raise FormatError(str(exc), path=path, where=f"{where}, concentration") from None
        if mark:
            marked.setdefault((label, mark), []).append(well)
        elif math.isnan(signal):
            empty.append(well)
        if raw_mark:
            marked.setdefault((raw_label, raw_mark), []).append(well)
        rows.append({
            "plate": plate.name, "analyte": analyte, "well": well, "sample": info["sample"],
            "type": info["type"], "level": info["level"], "expected": info["expected"],
            "dilution": info["dilution"], "signal": signal, "raw": raw,
            "replicates": 1, "count": math.nan, "vendor_value": vendor.value,
            "vendor_censoring": vendor.censoring, "vendor_flag": mark or vendor.flag,
            "vendor_excluded": False,
            "source": f"{path.name} line {plate.lines.get(label, 0)} ({plate.name}, {well})"})
    if not rows:
        raise FormatError(f"plate {plate.name!r}: the Layout names no wells", path=path)
    notes = [_marker_note(path, plate.name, grid, mark, wells, grid == label)
             for (grid, mark), wells in sorted(marked.items())]
    if empty:
        notes.append(f"warning: {path.name}, plate {plate.name!r}, {label!r}: well(s) "
                     f"{', '.join(empty)} of the Layout have an empty cell (grid from line "
                     f"{plate.lines.get(label, 0)}): no signal, left out of the curve and of "
                     "their sample's mean (recorded in neurochem_wells)")
    return wells_frame(rows), notes


def _marker_note(path: Path, plate: str, grid: str, mark: str, wells: list[str],
                 signal: bool) -> str:
    head = f"{path.name}, plate {plate!r}, {grid!r}: well(s) {', '.join(wells)} read {mark!r} " \
           f"({READ_MARKERS.get(mark, 'no value')})"
    if signal:
        return marker_note(head, mark)
    return f"{head}: the uncorrected read only; the curve signal is another grid"


def kinetic_reads(src: Source) -> tuple[pd.DataFrame, dict[str, dict[str, Any]], list[str]]:
    """Kinetic reads of every plate: (``plate, well, time_s, value``), layouts, notes."""
    frames, layouts, notes = [], {}, []
    for plate in parse_plates(src, notes):
        if plate.kinetic is None or plate.kinetic.empty:
            continue
        marked = plate.kinetic[plate.kinetic["marker"] != ""]
        notes += [f"{src.path.name}, plate {plate.name!r}: {len(part)} kinetic read(s) of "
                  f"well(s) {', '.join(sorted(set(part['well'])))} marked {mark!r} "
                  f"({READ_MARKERS.get(mark, 'no value')}): left out of the rates"
                  for mark, part in marked.groupby("marker", sort=True)]
        frames.append(plate.kinetic.drop(columns="marker").assign(plate=plate.name))
        layouts[plate.name] = _layout(plate, src.path)
        times = np.unique(plate.kinetic["time_s"])
        notes.append(f"{src.path.name}, plate {plate.name!r}: {len(times)} kinetic reads, "
                     f"{times[0]:g}-{times[-1]:g} s")
    if not frames:
        raise FormatError("expected a kinetic table ('Time' line followed by reads), found "
                          "none", path=src.path)
    check_layout_dilutions(layouts, src.path)
    return pd.concat(frames, ignore_index=True), layouts, notes


register_reader(Reader(NAME, "BioTek/Agilent Gen5 text export: 'Software Version' header, "
                             "'Layout' grid with 'Well ID', labelled read grids", match, read))
