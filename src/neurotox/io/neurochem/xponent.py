"""Luminex xPONENT CSV exports (xPONENT 3.1 to 4.3, LX100/LX200, FLEXMAP 3D, MAGPIX).

Layout: a header of ``Key,Value`` lines (Program, Build, Batch, SN …), then
``DataType:,<name>`` blocks, each with its own header line:

* per-well blocks (``Location,Sample,<analytes…>,Total Events``): Median, Net MFI,
  Count, Result, Range, % Recovery, Comments, Dilution Factor;
* per-reagent blocks (``Reagent,<analytes…>``): Standard Expected Concentration,
  Control Expected Concentration, Control Range - Low/High;
* per-analyte blocks (``Analyte:,<analytes…>`` then one row per item): Units,
  Analysis Types, Analysis Coefficients, R^2.

Vendor quirks handled (and noted):

* censored Results ``< 0.105…`` / ``> 3450``: xPONENT prints them where the Net
  MFI lies beyond an asymptote of its curve, with the lowest/highest standard's
  expected concentration as bound, **not** multiplied by the dilution factor;
* Results above the top standard are extrapolated and printed without a flag
  (only the Comments block says ``Extrapolated``);
* decimal points lost in the Standard Expected Concentration block (``215625`` for
  215.625) are repaired from the 2-fold series, or the file is refused
  (:func:`~neurotox.io.neurochem.base.check_series`);
* ``;``-delimited exports with decimal commas (European locales);
* an export without its ``-- CRC --`` trailer was cut and is refused; a sample
  whose ``Dilution Factor`` cell is empty is an error; an export without the
  block is read 1:1 with a warning (the shared rule,
  :func:`~neurotox.io.neurochem.base.resolve_dilutions`);
* an empty cell in a filled Net MFI (or Median) block leaves that replicate out
  with a warning naming the line, well and analyte (and the Median, which is not
  substituted).
"""

from __future__ import annotations

import csv
import io
import math
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from neurotox.delimited import uses_decimal_commas, with_points
from neurotox.errors import FormatError, quoted
from neurotox.io.neurochem.base import (
    CONTROL_COLUMNS,
    PlateExport,
    Reader,
    Source,
    VendorCurve,
    check_series,
    dilution_cell,
    number,
    parse_value,
    register_reader,
    repair_note,
    wells_frame,
)

NAME = "xponent"
_LOCATION = re.compile(r"^\s*(\d+)\s*\(\s*(\d+)\s*,\s*([A-Pa-p])\s*(\d{1,2})\s*\)\s*$")
_STANDARD = re.compile(r"^(standard|std|s)\s*(\d+)$", re.IGNORECASE)
_CONTROL = re.compile(r"^(control|ctrl|c)\s*(\d+)$", re.IGNORECASE)
_BLANK = re.compile(r"^(background|blank|bkgd?)\s*\d*$", re.IGNORECASE)
_PER_WELL = ("Median", "Net MFI", "Count", "Result", "Comments", "Dilution Factor")
_MODELS = {"logistic 5p": "5pl", "logistic 4p": "4pl", "linear": "linear"}


def match(src: Source) -> bool:
    """An xPONENT export starts with ``Program,xPONENT`` and has ``DataType:`` blocks."""
    first = next((ln for ln in src.lines if ln.strip()), "")
    cells = [c.strip().strip('"') for c in re.split(r"[,;\t]", first)]
    return src.container == "text" and len(cells) > 1 and cells[0] == "Program" \
        and cells[1].lower() == "xponent"


def read(src: Source, **_: Any) -> PlateExport:
    """Read an xPONENT CSV into a :class:`PlateExport`."""
    text = src.text()
    sep = src.delimiter if src.delimiter in (",", ";", "\t") else ","
    rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=sep))
    notes: list[str] = []
    # ';'-delimited, quoted ("862,5") or tab-delimited decimal commas; refused when mixed
    # with points
    comma_decimal = uses_decimal_commas(((f"line {i + 1}", c) for i, r in enumerate(rows)
                                         for c in r), src.path, least=6)
    if comma_decimal:
        rows = [[with_points(c) for c in r] for r in rows]
        notes.append(f"{src.path.name}: {_SEPARATORS[sep]}-delimited with decimal commas "
                     "(European locale)")
    header, blocks = _split_blocks(rows, src.path)
    _check_complete(rows, blocks, src.path)
    if "Median" not in blocks and "Net MFI" not in blocks:
        raise FormatError("expected a 'DataType:,Median' or 'DataType:,Net MFI' block, found "
                          f"{quoted(blocks) if blocks else 'no DataType blocks'}",
                          path=src.path)
    meta = {k: v for k, v in header.items() if v}
    plate = meta.get("Batch") or src.path.stem
    analytes, per_well = _per_well_blocks(blocks, src.path)
    expected, exp_notes = _expected(blocks, analytes, src.path)
    notes += exp_notes
    signal_block, signal_note = _signal_block(per_well, len(analytes), src.path)
    wells = _wells(per_well, signal_block, analytes, expected, plate, src.path, notes)
    _refuse_blank_standards(wells, blocks, src.path)
    if signal_block == "Median":
        wells, signal_note = _net_from_median(wells, signal_note)
    if "Dilution Factor" not in blocks:
        meta["dilution_warning"] = "the export has no 'DataType:,Dilution Factor' block"
    out = PlateExport(format=NAME, path=src.path, wells=wells, meta=meta, notes=notes,
                      curves=_curves(blocks, src.path), units=_units(blocks),
                      controls=_controls(blocks, src.path))
    if signal_note:
        out.notes.append(f"warning: {src.path.name}: {signal_note}")
    if any(out.wells["vendor_censoring"] != "none"):
        out.notes.append(f"{src.path.name}: censored Results ('< x', '> x') carry the "
                         "lowest/highest standard's concentration, not multiplied by the "
                         "dilution factor (xPONENT convention)")
    return out


_SEPARATORS = {",": "','", ";": "';'", "\t": "tab"}


def _split_blocks(rows: list[list[str]], path: Path) -> tuple[dict[str, str],
                                                               dict[str, list]]:
    """Header key/values and the ``DataType:`` blocks (name → (first line, rows))."""
    header: dict[str, str] = {}
    blocks: dict[str, list] = {}
    current: list | None = None
    for n, row in enumerate(rows, start=1):
        cells = [c.strip() for c in row]
        if cells and cells[0] == "DataType:":
            name = cells[1] if len(cells) > 1 else ""
            if name in blocks:
                raise FormatError(f"block 'DataType:,{name}' appears twice", path=path,
                                  where=f"line {n}")
            current = blocks[name] = []
            continue
        if cells and cells[0].startswith("-- CRC"):
            current = None
            continue
        if current is None:
            if len(cells) > 1 and cells[0] and not blocks:
                header.setdefault(cells[0], cells[1])
            continue
        if any(cells):
            current.append((n, cells))
    return header, blocks


def _per_well_blocks(blocks: dict[str, list], path: Path) -> tuple[list[str], dict]:
    """Analyte names and, per per-well block, location → (line, sample, cells)."""
    analytes: list[str] | None = None
    out: dict[str, dict] = {}
    for name in _PER_WELL:
        if name not in blocks:
            continue
        rows = blocks[name]
        if not rows or rows[0][1][:2] != ["Location", "Sample"]:
            raise FormatError(f"block {name!r}: expected a header 'Location,Sample,…'",
                              path=path, where=f"line {rows[0][0] if rows else '?'}")
        head = rows[0][1]
        if name != "Dilution Factor":
            names = [c for c in head[2:] if c and c != "Total Events"]
            if analytes is None:
                analytes = names
            elif names != analytes:
                raise FormatError(f"block {name!r}: analytes {quoted(names)} differ from "
                                  f"the Median/Net MFI block's", path=path,
                                  where=f"line {rows[0][0]}")
        out[name] = _location_rows(rows[1:], name, path)
    if not analytes:
        raise FormatError("expected analyte columns after 'Location,Sample'", path=path)
    dup = sorted({a for a in analytes if analytes.count(a) > 1})
    if dup:
        raise FormatError(f"analyte {dup[0]!r} appears twice in the header", path=path)
    return analytes, out


def _location_rows(rows: list, block: str, path: Path) -> dict[str, tuple]:
    out: dict[str, tuple] = {}
    for n, cells in rows:
        m = _LOCATION.match(cells[0])
        if not m:
            raise FormatError(f"block {block!r}: expected a location like '1(1,A1)', found "
                              f"{cells[0]!r}", path=path, where=f"line {n}")
        well = f"{m.group(3).upper()}{int(m.group(4)):02d}"
        key = f"{m.group(2)}:{well}"
        if key in out:
            raise FormatError(f"block {block!r}: well {well} appears twice", path=path,
                              where=f"line {n}")
        out[key] = (n, cells[1] if len(cells) > 1 else "", cells[2:])
    return out


def _well_type(sample: str) -> tuple[str, str]:
    s = sample.strip()
    if _STANDARD.match(s):
        return "standard", f"Standard{int(_STANDARD.match(s).group(2))}"
    if _CONTROL.match(s):
        return "control", f"Control{int(_CONTROL.match(s).group(2))}"
    if _BLANK.match(s):
        return "blank", ""
    return "sample", ""


def _reagent_table(blocks: dict[str, list], name: str, path: Path) -> dict[str, dict]:
    """Reagent → analyte → cell of a per-reagent block."""
    rows = blocks.get(name, [])
    if not rows:
        return {}
    head = rows[0][1]
    if head[0] != "Reagent":
        raise FormatError(f"block {name!r}: expected a header 'Reagent,…'", path=path,
                          where=f"line {rows[0][0]}")
    names = [c for c in head[1:] if c]
    out: dict[str, dict] = {}
    for n, cells in rows[1:]:
        if not cells[0]:
            continue
        entry = {"_line": n, **dict(zip(names, cells[1:], strict=False))}
        old = out.get(cells[0])
        if old is not None and {k: v for k, v in old.items() if k != "_line"} != \
                {k: v for k, v in entry.items() if k != "_line"}:
            raise FormatError(f"block {name!r}: {cells[0]!r} is listed twice with different "
                              f"values (lines {old['_line']} and {n})", path=path,
                              where=f"line {n}")
        out.setdefault(cells[0], entry)
    return out


def _expected(blocks: dict[str, list], analytes: list[str],
              path: Path) -> tuple[dict[tuple[str, str], float], list[str]]:
    """(analyte, StandardN) → expected concentration, decimal damage repaired."""
    table = _reagent_table(blocks, "Standard Expected Concentration", path)
    levels = sorted((k for k in table if _STANDARD.match(k)),
                    key=lambda k: int(_STANDARD.match(k).group(2)))
    out, notes = {}, []
    for a in analytes:
        values = [number(table[lv].get(a, ""), path=path,
                         where=f"line {table[lv]['_line']}, analyte {a!r}") for lv in levels]
        fixed, n = check_series(levels, values, what=a, path=path)
        notes += n
        out.update({(a, f"Standard{int(_STANDARD.match(lv).group(2))}"): v
                    for lv, v in zip(levels, fixed, strict=True)})
    return out, repair_note(path, notes)


def _refuse_blank_standards(wells: pd.DataFrame, blocks: dict[str, list], path: Path) -> None:
    """A standard well whose level has no expected concentration: refused naming both."""
    std = wells[(wells["type"] == "standard") & ~np.isfinite(wells["expected"].astype(float))]
    if std.empty:
        return
    r = std.iloc[0]
    table = _reagent_table(blocks, "Standard Expected Concentration", path)
    row = next((v for k, v in table.items() if _STANDARD.match(k) and
                f"Standard{int(_STANDARD.match(k).group(2))}" == r["level"]), None)
    others = sorted(set(std["analyte"]) - {r["analyte"]})
    more = f" (also {quoted(others, limit=4)})" if others else ""
    raise FormatError(f"block 'Standard Expected Concentration': standard {r['level']!r} of "
                      f"analyte {r['analyte']!r}{more} has no expected concentration"
                      + ("" if row else f" (the block has no {r['level']!r} line)"),
                      path=path, where=f"line {row['_line']}" if row else None)


def _check_complete(rows: list[list[str]], blocks: dict[str, list], path: Path) -> None:
    """A cut export (no ``-- CRC --`` trailer) is refused, naming its last block."""
    if any(r and r[0].strip().startswith("-- CRC") for r in rows):
        return
    last = next(reversed(blocks), "")
    raise FormatError(f"truncated xPONENT export: expected the '-- CRC --' trailer after the "
                      f"last block, found the file ending in block {last!r} (line "
                      f"{len(rows)}); export the batch again", path=path)


def _dilution(block: dict | None, key: str, kind: str, path: Path) -> float:
    """The well's Dilution Factor cell; a sample without one (block present) is an error."""
    well = key.split(":")[1]
    if block is None:
        return math.nan
    if key not in block:
        if kind != "sample":
            return math.nan
        raise FormatError(f"block 'Dilution Factor': expected a row for sample well {well}, "
                          "found none", path=path)
    line, _, cells = block[key]
    value = dilution_cell(cells[0] if cells else "", path=path,
                          where=f"line {line} (block 'Dilution Factor', well {well})")
    if kind == "sample" and not math.isfinite(value):
        found = repr(cells[0]) if cells and cells[0] else "an empty cell"
        raise FormatError(f"block 'Dilution Factor': expected a dilution factor for sample "
                          f"well {well}, found {found}", path=path, where=f"line {line}")
    return value


def _cell(block: dict | None, key: str, k: int) -> str:
    if block is None or key not in block:
        return ""
    cells = block[key][2]
    return cells[k] if k < len(cells) else ""


def _signal_block(per_well: dict, n: int, path: Path) -> tuple[str, str]:
    """The block the curve is fitted on: Net MFI, or Median when Net MFI was not exported.

    The exported DataTypes are the user's choice, and xPONENT 4.3 with analysis
    off writes a Net MFI block with empty cells: both count as not exported.
    """
    net = per_well.get("Net MFI")
    if net and any(c.strip() for _, _, cells in net.values() for c in cells[:n]):
        return "Net MFI", ""
    if "Median" not in per_well:
        raise FormatError("block 'Net MFI' has no values and there is no 'DataType:,Median' "
                          "block: expected one of them with the wells' signal", path=path)
    why = "block 'Net MFI' is empty (not exported)" if net is not None else \
        "no 'DataType:,Net MFI' block"
    return "Median", why


def _net_from_median(wells: pd.DataFrame, why: str) -> tuple[pd.DataFrame, str]:
    """Median − mean Median of the plate's background wells (xPONENT's Net MFI)."""
    blank = wells[(wells["type"] == "blank") & wells["signal"].notna()]
    bg = blank.groupby(["plate", "analyte"])["signal"].mean()
    keys = pd.MultiIndex.from_frame(wells[["plate", "analyte"]])
    if blank.empty or not keys.isin(bg.index).all():
        return wells, (f"{why}; the curve signal is block 'Median', NOT background-"
                       "subtracted (no background wells on every plate to compute the Net "
                       "MFI from)")
    out = wells.assign(signal=wells["signal"].to_numpy(float) - bg.reindex(keys).to_numpy())
    return out, (f"{why}; the curve signal is block 'Median' minus the mean Median of the "
                 f"{blank['well'].nunique()} background well(s) "
                 f"{quoted(sorted(blank['well'].unique()))} (xPONENT's Net MFI)")


def _wells(per_well: dict, signal_block: str, analytes: list[str], expected: dict,
           plate: str, path: Path, notes: list[str]) -> pd.DataFrame:
    block = per_well[signal_block]
    plates = {key.split(":")[0] for key in block}
    rows = []
    for key, (line, sample, _) in block.items():
        kind, level = _well_type(sample)
        dil = _dilution(per_well.get("Dilution Factor"), key, kind, path)
        for k, a in enumerate(analytes):
            rows.append(_row(per_well, signal_block, key, k, a, line, sample, kind, level,
                             dil, expected,
                             plate if len(plates) == 1 else f"{plate}-{key.split(':')[0]}",
                             path))
    notes += _empty_signal_note(rows, signal_block, path)
    if not any(r["type"] == "standard" for r in rows):
        notes.append(f"{path.name}: no standard wells (xPONENT analysis off?)")
    return wells_frame(rows)


def _empty_signal_note(rows: list[dict[str, Any]], block: str, path: Path) -> list[str]:
    """A warning naming the wells whose cell in the (present) signal block has no value.

    Such a replicate (an empty or ``NaN`` cell: xPONENT writes NaN where it counted
    no bead) is left out of the curve and of its sample's mean. The Median is
    named but not substituted: xPONENT computes the Net MFI with its own
    background setting, and one empty cell in a filled block is a value it did
    not give (or a damaged file), not a block left unexported.
    """
    empty = [r for r in rows if not math.isfinite(r["signal"])]
    if not empty:
        return []
    shown = [f"{r['source'].removeprefix(path.name).strip()} well {r['well']} analyte "
             f"{r['analyte']!r}{_also(r, block)}" for r in empty[:8]]
    more = f" and {len(empty) - 8} more" if len(empty) > 8 else ""
    return [f"warning: {path.name}: {len(empty)} cell(s) without a value (empty or NaN) in "
            f"block {block!r}: {'; '.join(shown)}{more}: no signal, left out of the curve and "
            "of their sample's mean (recorded in neurochem_wells)"
            + ("; the Median is not substituted for xPONENT's Net MFI" if block != "Median"
               else "")]


def _also(r: dict[str, Any], block: str) -> str:
    """`` (Median 412.2, Count 48)`` for a message: what the other blocks say of the well."""
    parts = [f"Median {r['raw']:g}"] if block != "Median" and math.isfinite(r["raw"]) else []
    parts += [f"Count {r['count']:g}"] if math.isfinite(r["count"]) else []
    return f" ({', '.join(parts)})" if parts else ""


def _row(per_well: dict, signal_block: str, key: str, k: int, analyte: str, line: int,
         sample: str, kind: str, level: str, dil: float, expected: dict, plate: str,
         path: Path) -> dict[str, Any]:
    well = key.split(":")[1]
    where = f"line {line}, analyte {analyte!r}"
    try:
        result = parse_value(_cell(per_well.get("Result"), key, k))
    except ValueError as exc:
        raise FormatError(f"block 'Result': {exc}", path=path, where=f"well {well}, "
                          f"analyte {analyte!r}") from None
    comment = _cell(per_well.get("Comments"), key, k)
    return {
        "plate": plate, "analyte": analyte, "well": well, "sample": sample, "type": kind,
        "level": level, "expected": expected.get((analyte, level), math.nan),
        "dilution": dil,
        "signal": number(_cell(per_well[signal_block], key, k), path=path, where=where),
        "raw": number(_cell(per_well.get("Median"), key, k), path=path, where=where),
        "replicates": 1,
        "count": number(_cell(per_well.get("Count"), key, k), path=path, where=where),
        "vendor_value": result.value, "vendor_censoring": result.censoring,
        "vendor_flag": result.flag or ("Extrapolated" if comment == "Extrapolated" else ""),
        "vendor_excluded": False, "source": f"{path.name} line {line}"}


def _analyte_rows(blocks: dict[str, list], name: str) -> tuple[list[str], list[list[str]]]:
    rows = blocks.get(name, [])
    if not rows or rows[0][1][0] not in ("Analyte:", "Analyte"):
        return [], []
    head = [c for c in rows[0][1][1:] if c]
    return head, [cells for _, cells in rows[1:]]


def _units(blocks: dict[str, list]) -> dict[str, str]:
    names, rows = _analyte_rows(blocks, "Units")
    for cells in rows:
        if cells[0] == "Units:":
            return {a: u for a, u in zip(names, cells[1:], strict=False) if u}
    return {}


def _curves(blocks: dict[str, list], path: Path) -> dict[str, VendorCurve]:
    names, types = _analyte_rows(blocks, "Analysis Types")
    kinds = dict(zip(names, types[0][1:], strict=False)) if types else {}
    cnames, coef_rows = _analyte_rows(blocks, "Analysis Coefficients")
    coefs: dict[str, dict[str, float]] = {a: {} for a in cnames}
    for cells in coef_rows:
        m = re.match(r"^Coefficient\s+([A-Z])$", cells[0])
        if not m:
            continue
        for a, v in zip(cnames, cells[1:], strict=False):
            coefs[a][m.group(1)] = number(v, path=path,
                                          where=f"block 'Analysis Coefficients', analyte {a!r}")
    rnames, r2rows = _analyte_rows(blocks, "R^2")
    r2 = {a: number(v, path=path, where=f"block 'R^2', analyte {a!r}")
          for a, v in zip(rnames, r2rows[0][1:], strict=False)} if r2rows else {}
    out = {}
    for a, kind in kinds.items():
        model = _MODELS.get(kind.strip().lower())
        if model is None or not coefs.get(a):
            continue
        out[a] = VendorCurve(model=model, params=coefs[a], form="logistic",
                             r2=r2.get(a, math.nan), text=kind)
    return out


def _controls(blocks: dict[str, list], path: Path) -> pd.DataFrame:
    tables = {k: _reagent_table(blocks, f"Control {k}", path)
              for k in ("Expected Concentration", "Range - Low", "Range - High")}
    rows = []
    for level, cells in tables["Expected Concentration"].items():
        for a in (k for k in cells if k != "_line"):
            def value(k: str, level: str = level, a: str = a) -> float:
                c = tables[k].get(level, {})
                return number(c.get(a, ""), path=path,
                              where=f"block 'Control {k}', {level}, analyte {a!r}")
            rows.append({"analyte": a, "level": level, "expected": value("Expected "
                                                                         "Concentration"),
                         "low": value("Range - Low"), "high": value("Range - High")})
    return pd.DataFrame(rows, columns=list(CONTROL_COLUMNS))


register_reader(Reader(NAME, "Luminex xPONENT CSV: 'Program,xPONENT' header and "
                             "'DataType:' blocks (Median, Net MFI, Result …)", match, read))
