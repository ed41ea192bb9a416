"""Molecular Devices SoftMax Pro text exports (``##BLOCKS=``), plate and time format.

SoftMax Pro (5.x–7.x) writes a tab-delimited text file that starts ``##BLOCKS= N``
and holds N blocks, each ending with a ``~End`` line. A ``Plate:`` block starts
with a header row of settings — ``Plate:``, plate name, export version (``1.3``),
``PlateFormat`` or ``TimeFormat``, read type (``Endpoint``, ``Kinetic``,
``Spectrum``, ``Well Scan``), read mode (``Absorbance``, ``Fluorescence``,
``Luminescence``; fluorescence adds a scan-position field), ``Raw`` or
``Reduced``, the pre-read flag, the number of kinetic points, …, the number of
wavelengths and the wavelengths (``450 570``), the first column, the number of
columns and of wells.

* **PlateFormat**: a column row ``[Time] Temperature(°C) 1 … 12`` (one ``1 … 12``
  run per wavelength, side by side, separated by an empty column), then one
  line per plate row *without* a row letter (the first line carries the
  temperature); a second grid below a blank line is the reduced data
  (e.g. 450 − 570 nm, or the blank-subtracted values).
* **TimeFormat**: a column row ``Time Temperature(°C) A1 A2 … H12``, then per
  wavelength one line per read (one for an endpoint read), blocks separated by
  blank lines; a further column row and line are the reduced data.

Endpoint reads are read; a kinetic or spectrum read is read through its reduced
data (Vmax, …) when the export has it, and refused otherwise. ``Group:`` and
``Note:`` blocks are skipped (noted): the plate layout comes from a plate map
among the inputs, as for a plate grid without a layout. The signal is the reduced
grid when exported, else the only wavelength; with several wavelengths and no
reduced data, ``signal=`` must name one (``450``), as the notes and the error say.
Decimal commas (a European Windows export) are read and noted.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

from neurotox.delimited import uses_decimal_commas, with_points
from neurotox.errors import FormatError, quoted
from neurotox.io.neurochem.base import (
    PlateExport,
    Reader,
    Source,
    marker_note,
    normalise_well,
    parse_value,
    register_reader,
    wells_frame,
)

NAME = "softmax"
_BLOCKS = re.compile(r"^##BLOCKS=\s*(\d+)\s*$")
_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
#: SoftMax Pro's markers in a read cell: canonical spelling and meaning (``#Sat`` is
#: one of :data:`base.SATURATED`).
MARKERS = {"#SAT": ("#Sat", "saturated: above the reader's range"),
           "RANGE?": ("Range?", "no value: outside the range SoftMax Pro reports"),
           "MASKED": ("Masked", "masked by the user in SoftMax Pro")}


@dataclass
class Plate:
    """One ``Plate:`` block: its settings and the grids read from it."""

    name: str
    line: int
    export: str
    read_type: str
    mode: str
    kinetic_points: int
    wavelengths: list[str]
    columns: int
    wells: int
    grids: dict[str, dict[str, str]] = field(default_factory=dict)
    lines: dict[str, dict[str, int]] = field(default_factory=dict)


def match(src: Source) -> bool:
    """A text file whose first line is ``##BLOCKS= N``."""
    if src.container != "text":
        return False
    first = next((ln.strip().lstrip("\ufeff") for ln in src.lines if ln.strip()), "")
    return bool(_BLOCKS.match(first))


def _blocks(lines: list[str], src: Source) -> list[tuple[int, list[str]]]:
    """(first line number, lines) of the N blocks ``##BLOCKS= N`` announces.

    Each block ends with a ``~End`` line; the text after the last one (``Original
    Filename: …; Date Last Saved: …``) is not a block. Fewer complete blocks than
    announced is an error: the file was cut.
    """
    first = next(i for i, ln in enumerate(lines) if ln.strip())
    announced = int(_BLOCKS.match(lines[first].strip().lstrip("\ufeff")).group(1))
    out, start, cur = [], None, []
    for i, line in enumerate(lines[first + 1:], start=first + 2):
        if len(out) == announced:
            break
        if line.strip() == "~End":
            out.append((start or i, cur))
            start, cur = None, []
        elif start is None and line.strip():
            start, cur = i, [line]
        elif start is not None:
            cur.append(line)
    if len(out) < announced:
        raise FormatError(f"the export announces {announced} block(s) ('##BLOCKS= "
                          f"{announced}') but {len(out)} end with '~End': the file looks cut; "
                          "export it again", path=src.path,
                          where=f"line {start}" if start else "")
    return out


def _int(text: str, what: str, src: Source, line: int) -> int:
    try:
        return int(float(text))
    except ValueError:
        raise FormatError(f"expected the {what} in the Plate: header, found {text!r}",
                          path=src.path, where=f"line {line}") from None


def _header(cells: list[str], src: Source, line: int) -> Plate:
    """The settings of a ``Plate:`` header row (field positions as SoftMax writes them)."""
    cells = [c.strip() for c in cells] + [""] * 24
    off = 0 if cells[6] in ("Raw", "Reduced") else 1          # fluorescence: scan position
    if cells[3] not in ("PlateFormat", "TimeFormat"):
        raise FormatError(f"expected 'PlateFormat' or 'TimeFormat' in the Plate: header, "
                          f"found {cells[3]!r}", path=src.path, where=f"line {line}")
    wavelengths = cells[15 + off].split() or [""]
    return Plate(name=cells[1], line=line, export=cells[3], read_type=cells[4],
                 mode=cells[5], kinetic_points=_int(cells[8 + off] or "1", "number of reads",
                                                    src, line),
                 wavelengths=wavelengths,
                 columns=_int(cells[17 + off], "number of columns", src, line),
                 wells=_int(cells[18 + off], "number of wells", src, line))


Row = tuple[int, list[str]]   # (line number, cells)


def _sections(rows: list[Row]) -> list[list[Row]]:
    """Runs of non-blank rows."""
    out, cur = [], []
    for r in rows:
        if any(c.strip() for c in r[1]):
            cur.append(r)
        elif cur:
            out.append(cur)
            cur = []
    return [*out, cur] if cur else out


def _plate_format(plate: Plate, rows: list[Row], src: Source) -> None:
    """Grids of a PlateFormat block: a section per read, then the reduced grid."""
    nrow = plate.wells // plate.columns
    sections = _sections(rows)
    reads, rest = sections[:plate.kinetic_points], sections[plate.kinetic_points:]
    grids = [(_wl(w), reads[0], k) for k, w in enumerate(plate.wavelengths)] \
        if plate.kinetic_points == 1 and reads else []
    grids += [("reduced", rest[0], 0)] if rest else []
    for name, sec, k in grids:
        body = [r for r in sec if not _is_column_row(r[1])]
        if len(body) != nrow:
            raise FormatError(f"plate {plate.name!r}, read {name!r}: expected {nrow} grid "
                              f"rows ({plate.wells} wells in {plate.columns} columns), found "
                              f"{len(body)} (lines {sec[0][0]}-{sec[-1][0]}): the grid looks "
                              "damaged or cut; export it again", path=src.path,
                              where=f"line {sec[0][0]}")
        first = 2 + k * (plate.columns + 1)
        plate.grids[name], plate.lines[name] = {}, {}
        for i, (line, r) in enumerate(body):
            for c in range(plate.columns):
                well = f"{_LETTERS[i]}{c + 1:02d}"
                plate.grids[name][well] = r[first + c].strip() if first + c < len(r) else ""
                plate.lines[name][well] = line


def _time_format(plate: Plate, rows: list[Row], src: Source) -> None:
    """Grids of a TimeFormat block: a line per read and wavelength, then the reduced line."""
    data, head = [], None
    for line, r in rows:
        if _is_column_row(r):
            head = r
        elif head is not None and any(c.strip() for c in r):
            data.append((head, line, r))
    n = plate.kinetic_points * len(plate.wavelengths)
    lines = list(zip(map(_wl, plate.wavelengths), data[:n], strict=False)) \
        if plate.kinetic_points == 1 else []
    lines += [("reduced", data[n])] if len(data) > n else []
    for name, (head, line, r) in lines:
        cells = [*r[2:], *[""] * max(0, len(head) - len(r))]   # a cut line: empty cells
        plate.grids[name] = {w: v.strip() for h, v in zip(head[2:], cells, strict=False)
                             if (w := normalise_well(h.strip()))}
        plate.lines[name] = dict.fromkeys(plate.grids[name], line)


def _is_column_row(r: list[str]) -> bool:
    return any(c.strip().startswith("Temperature") for c in r[:3])


def _wl(w: str) -> str:
    return f"{w} nm" if w else "read"


def _plates(src: Source) -> tuple[list[Plate], list[str]]:
    lines = src.text().splitlines()
    plates, skipped = [], []
    for start, block in _blocks(lines, src):
        if not block:
            continue
        cells = block[0].split("\t")
        if not cells[0].strip().startswith("Plate:"):
            skipped.append(" ".join(c.strip() for c in cells if c.strip())[:60])
            continue
        plate = _header(cells, src, start)
        rows = [(start + 1 + i, ln.split("\t")) for i, ln in enumerate(block[1:])]
        (_plate_format if plate.export == "PlateFormat" else _time_format)(plate, rows, src)
        if plate.read_type != "Endpoint" and "reduced" not in plate.grids:
            raise FormatError(f"plate {plate.name!r} is a {plate.read_type} read without "
                              "reduced data; SoftMax Pro exports are read for Endpoint reads "
                              "(or a read exported with its reduced values, e.g. Vmax)",
                              path=src.path, where=f"line {start}")
        plate.grids = {k: v for k, v in plate.grids.items()
                       if plate.read_type == "Endpoint" or k == "reduced"}
        plates.append(plate)
    if not plates:
        raise FormatError(f"expected a 'Plate:' block, found {quoted(skipped) or 'none'}",
                          path=src.path)
    return plates, skipped


def _signal(plate: Plate, signal: str | None, src: Source) -> str:
    names = list(plate.grids)
    if signal is not None:
        hit = [n for n in names if signal.strip() in (n, n.removesuffix(" nm"))]
        if not hit:
            raise FormatError(f"plate {plate.name!r} has no read {signal!r}; found "
                              f"{quoted(names)}", path=src.path, where=f"line {plate.line}")
        return hit[0]
    if "reduced" in names:
        return "reduced"
    if len(names) == 1:
        return names[0]
    raise FormatError(f"plate {plate.name!r} has {len(names)} wavelengths ({quoted(names)}) "
                      "and no reduced data: name the signal with parameter 'signal' "
                      f"(e.g. signal='{names[0]}')", path=src.path,
                      where=f"line {plate.line}")


def read(src: Source, *, analyte: str | None = None, signal: str | None = None,
         **_: Any) -> PlateExport:
    """Read the Plate: blocks of a SoftMax Pro text export into a :class:`PlateExport`."""
    plates, skipped = _plates(src)
    comma = _decimal_comma(plates, src)
    rows, notes = [], []
    for plate in plates:
        chosen = _signal(plate, signal, src)
        notes.append(f"{src.path.name}: plate {plate.name!r} ({plate.export}, "
                     f"{plate.read_type} {plate.mode}): reads {quoted(plate.grids)}; signal = "
                     f"{chosen!r}; no layout in the export (a plate map is needed)")
        marked: dict[str, list[str]] = {}
        for well, text in plate.grids[chosen].items():
            where = f"line {plate.lines[chosen][well]}, plate {plate.name!r}, read " \
                    f"{chosen!r}, well {well}"
            value, flag = _cell(with_points(text) if comma else text, src, where)
            if flag:
                marked.setdefault(flag, []).append(well)
            rows.append({"plate": plate.name or src.path.stem, "analyte": analyte or "",
                         "well": well, "sample": well, "type": "sample", "level": "",
                         "expected": math.nan, "dilution": math.nan, "signal": value,
                         "raw": math.nan, "replicates": 1, "count": math.nan,
                         "vendor_value": math.nan, "vendor_censoring": "none",
                         "vendor_flag": flag, "vendor_excluded": flag == "Masked",
                         "source": f"{src.path.name} {where}"})
        notes += [_marker_note(src, plate.name, chosen, flag, wells)
                  for flag, wells in sorted(marked.items())]
    if not any(math.isfinite(r["signal"]) for r in rows):
        raise FormatError("the export holds no well with a read", path=src.path)
    if comma:
        notes.append(f"{src.path.name}: decimal commas read as decimal points")
    if skipped:
        notes.append(f"{src.path.name}: blocks other than plates skipped: {quoted(skipped)}")
    return PlateExport(format=NAME, path=src.path, wells=wells_frame(rows), notes=notes,
                       meta={"layout": False, "needs_map": True,
                             "plates": [p.name for p in plates]})


def _cell(text: str, src: Source, where: str) -> tuple[float, str]:
    """A read cell: (value, '') for a number, (NaN, marker) for a marker, (NaN, '') if empty."""
    if not text:
        return math.nan, ""
    if text.upper() in MARKERS:
        return math.nan, MARKERS[text.upper()][0]
    try:
        p = parse_value(text)
    except ValueError:
        p = None
    if p is None or p.censoring != "none" or p.flag or not math.isfinite(p.value):
        raise FormatError(f"expected a read (a number) or one of SoftMax Pro's markers "
                          f"{quoted(m for m, _ in MARKERS.values())}, found {text!r}",
                          path=src.path, where=where)
    return p.value, ""


def _marker_note(src: Source, plate: str, grid: str, flag: str, wells: list[str]) -> str:
    meaning = next(m for c, m in MARKERS.values() if c == flag)
    head = f"{src.path.name}, plate {plate!r}, read {grid!r}: well(s) {', '.join(wells)} " \
           f"read {flag!r} ({meaning})"
    return marker_note(head, flag, masked=flag == "Masked")


def _decimal_comma(plates: list[Plate], src: Source) -> bool:
    """True when the reads use decimal commas; a file mixing ``,`` and ``.`` is refused."""
    return uses_decimal_commas(((f"line {p.lines[name][well]}, plate {p.name!r}, read {name!r}, "
                                 f"well {well}", v)
                                for p in plates for name, grid in p.grids.items()
                                for well, v in grid.items()), src.path)


register_reader(Reader(NAME, "Molecular Devices SoftMax Pro text export ('##BLOCKS= N', "
                             "'Plate:' blocks in PlateFormat or TimeFormat, endpoint reads or "
                             "reduced data)", match, read))
