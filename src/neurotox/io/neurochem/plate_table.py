"""The plain plate table: one row per well, for any reader or hand-made layout.

A CSV/TSV (``,``, ``;`` or tab; UTF-8, UTF-16 or Windows-1252) or the first sheet
of an xlsx workbook whose header row holds (case, spaces, ``_`` and ``-``
ignored; aliases in brackets):

``well`` (required)
    ``A1`` or ``A01``.
``signal`` (required for a plate export) [od, absorbance, abs, net mfi, mfi, fi,
fi - bkgd, rfu, rlu, response, value, rate]
    The signal the curve is fitted on: blank-corrected OD, Net MFI, ΔOD/min …
``type`` [well type, sample type, role, kind]
    ``standard`` (std, cal, calibrator, s), ``blank`` (blk, background, bkg,
    buffer, zero, b), ``control`` (ctl, ctrl, qc, c), ``sample`` (unknown, spl, x,
    u, test); ``empty`` rows are skipped. Without this column the type follows
    from the sample ID (``STD3``, ``S3``, ``Standard 3``, ``CAL3`` → standard,
    ``Blank``/``BLK`` → blank, ``QC1``/``CTL1`` → control), noted.
``expected`` [expected concentration, exp conc, nominal, standard concentration,
concentration, conc]
    Concentration of standards and controls.
``sample`` [sample id, id, name, description]; ``dilution`` [dilution factor,
df]; ``analyte`` [target, marker]; ``plate`` [plate id, batch, run];
``level`` [standard level]; ``result`` [calculated concentration, obs conc,
concentration result] — the reader software's own concentration, if any;
``unit`` [units, concentration unit, conc unit] — the concentration unit of
``expected`` and ``result`` (``pg/mL``, ``ng/mL`` …), one per analyte. A unit in
the header of those columns (``expected (ng/mL)``, ``conc [pg/mL]``) is read
the same way; two units for one analyte are an error naming the rows. A
``unit`` cell that is no mass concentration (``OD``, ``MFI``: the signal's unit)
is noted and not used.

Decimal commas are read when the delimiter is ``;``; every guess (delimiter,
encoding, decimal comma, inferred types) is noted. Without an ``analyte``
column the file holds one analyte, named by ``options['analyte']`` or left for
the assay protocol to name.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from neurotox.delimited import check_header_names, read_table
from neurotox.errors import FormatError, InputError, did_you_mean, quoted
from neurotox.io.neurochem.base import (
    PlateExport,
    Reader,
    Source,
    cell_text,
    check_wells,
    dilution_cell,
    format_errors,
    normalise_well,
    number,
    parse_value,
    register_reader,
    resolve_dilutions,
    wells_frame,
)
from neurotox.io.text import check_distinct_columns, check_row_lengths

NAME = "plate-table"

ALIASES: dict[str, tuple[str, ...]] = {
    "well": ("well", "well id", "well position", "position", "wells"),
    "signal": ("signal", "od", "absorbance", "abs", "net mfi", "mfi", "fi", "fi - bkgd",
               "fi-bkgd", "rfu", "rlu", "response", "value", "rate", "delta od/min"),
    "type": ("type", "well type", "sample type", "role", "kind", "content"),
    "expected": ("expected", "expected concentration", "exp conc", "nominal",
                 "standard concentration", "concentration", "conc", "nominal concentration",
                 "expected conc"),
    "sample": ("sample", "sample id", "id", "name", "description", "sample name"),
    "dilution": ("dilution", "dilution factor", "df"),
    "analyte": ("analyte", "target", "marker", "assay"),
    "plate": ("plate", "plate id", "batch", "run"),
    "level": ("level", "standard level"),
    "result": ("result", "calculated concentration", "obs conc", "concentration result",
               "calc conc"),
    "unit": ("unit", "units", "concentration unit", "conc unit", "conc. unit"),
}
#: A mass concentration (``pg/mL``, ``ng/ml``, ``µg/L``): what ``unit`` may say.
_MASS_UNIT = re.compile(r"^[fpnuµμm]?g\s*/\s*[mµμud]?l$", re.I)
#: A unit at the end of a header cell: ``expected (ng/mL)``, ``conc [pg/mL]``,
#: ``expected_ng_ml``, ``conc pg per ml``.
_HEADER_UNIT = re.compile(r"^(.*?)\s*[(\[]\s*([^()\[\]]+?)\s*[)\]]\s*$"
                          r"|^(.*?)[\s_]+([fpnuµμm]?g)[\s_]+(?:per[\s_]+)?([mµμu]?l)$", re.I)
TYPES = {**dict.fromkeys(("standard", "std", "cal", "calibrator", "s", "standards"), "standard"),
         **dict.fromkeys(("blank", "blk", "background", "bkg", "buffer", "zero", "b"), "blank"),
         **dict.fromkeys(("control", "ctl", "ctrl", "qc", "c", "controls"), "control"),
         **dict.fromkeys(("sample", "unknown", "spl", "x", "u", "test", "unk", "samples"),
                         "sample")}
_ID_TYPES = ((re.compile(r"^(std|standard|s|cal|calibrator)[\s_-]*\d+$", re.I), "standard"),
             (re.compile(r"^(blank|blk|bkg|background|buffer)[\s_-]*\d*$", re.I), "blank"),
             (re.compile(r"^(ctl|ctrl|control|qc)[\s_-]*\w*$", re.I), "control"))


def _key(name: object) -> str:
    return re.sub(r"[\s_]+", " ", str(name).strip().lower()).replace(" - ", "-").strip()


#: An absorbance read named by its wavelength: ``OD450``, ``Abs 450``, ``A450``,
#: ``450 nm``, ``OD 450-570`` (a reference-corrected read): the signal.
_WAVELENGTH = re.compile(r"^(?:od|abs|absorbance|a)?\s*\d{3}(?:\s*nm)?"
                         r"(?:\s*[-/]\s*\d{3}(?:\s*nm)?)?$")


class _Lookup(dict):
    """Header key → canonical column; an absorbance wavelength is the signal."""

    def get(self, key: str, default: str | None = None) -> str | None:  # noqa: D102
        hit = super().get(key)
        if hit is None and _WAVELENGTH.match(key):
            return "signal"
        return default if hit is None else hit


_LOOKUP = _Lookup({_key(a): canon for canon, names in ALIASES.items() for a in names})


def _split_unit(cell: object) -> tuple[str, str]:
    """A header cell's name and the mass-concentration unit at its end (``''`` if none)."""
    m = _HEADER_UNIT.match(str(cell).strip())
    if m is None:
        return str(cell), ""
    name, unit = ((m.group(1), m.group(2)) if m.group(1) is not None
                  else (m.group(3), f"{m.group(4)}/{m.group(5)}"))
    if _MASS_UNIT.match(unit) and _LOOKUP.get(_key(name)) in ("expected", "result"):
        return name, unit
    return str(cell), ""


def columns_of(header: list[object]) -> dict[str, int]:
    """Canonical column → position for the recognised cells of a header row."""
    out: dict[str, int] = {}
    for k, cell in enumerate(header):
        canon = _LOOKUP.get(_key(_split_unit(cell)[0]))
        if canon is not None and canon not in out:
            out[canon] = k
    return out


#: Lines a reader writes above a plate table's header (reader name, date, wavelength,
#: an MSD plate-name line) that are skipped, and noted, to find the header.
MAX_ABOVE = 15


def _rows(src: Source) -> list[list[str]]:
    """The first rows of the first sheet or the text file, as cell texts."""
    if src.container == "xlsx":
        try:
            first = next(iter(src.workbook.values()))
        except (FormatError, StopIteration):
            return []
        return [[cell_text(c) for c in row] for row in
                first.iloc[:MAX_ABOVE + 1].itertuples(index=False)]
    if src.container != "text":
        return []
    return [[c.strip().strip('"') for c in line.split(src.delimiter)]
            for line in src.lines[:MAX_ABOVE + 1]]


def _header_at(rows: list[list[str]]) -> int:
    """Row of the header: the first non-empty one, or a later one holding well and signal.

    A block of reader metadata above the table (``Plate reader,Synergy H1``) is
    skipped when a row below it, within :data:`MAX_ABOVE`, is a plate table's header.
    """
    filled = [k for k, cells in enumerate(rows) if any(cells)]
    for k in filled:
        cols = columns_of(rows[k])
        if "well" in cols and "signal" in cols:
            return k
    return filled[0] if filled else 0


def _header_cells(src: Source) -> list[str]:
    rows = _rows(src)
    return rows[_header_at(rows)] if rows else []


def match(src: Source) -> bool:
    """A table whose header has a ``well`` and a signal column."""
    cols = columns_of(_header_cells(src))
    return "well" in cols and "signal" in cols


def load_table(src: Source) -> tuple[pd.DataFrame, list[str]]:
    """The table as strings (header = first non-empty row) and the reading notes."""
    notes = []
    at = _header_at(_rows(src))
    if src.container == "xlsx":
        df = next(iter(src.workbook.values()))
        above = df.iloc[:at]
        df = df.iloc[at:].dropna(how="all").reset_index(drop=True)
        if df.empty:
            raise FormatError("expected a header row, found an empty sheet", path=src.path)
        header = [cell_text(c) for c in df.iloc[0].tolist()]
        check_header_names(header, src.path, line=at + 1)
        body = df.iloc[1:].map(cell_text)
        body.columns = header
        body.index = range(at + 2, len(body) + at + 2)
        table = body
        skipped = [" ".join(filter(None, map(cell_text, r))) for r in above.itertuples(index=False)]
    elif src.container == "text":
        whole = src.text()
        check_row_lengths(whole, src.delimiter, src.path, skiprows=at)
        lines = whole.splitlines()
        skipped = [ln.replace(src.delimiter, " ").strip() for ln in lines[:at]]
        text = "\n".join(lines[at:])
        read = read_table(src.path, text=text, encoding=src.encoding, sep=src.delimiter)
        table = read.data
        table.index = range(at + 2, len(table) + at + 2)
        notes.append(f"{src.path.name}: read as text, {read.describe()}")
    else:
        raise FormatError(f"expected a CSV/TSV table or an xlsx workbook, found an "
                          f"{src.container} file", path=src.path)
    if any(skipped):
        notes.append(f"{src.path.name}: {at} line(s) above the table's header skipped: "
                     f"{quoted([t for t in skipped if t], limit=4)}")
    cols = list(table.columns)
    check_distinct_columns(cols, [_LOOKUP.get(_key(c), "") for c in cols], src.path)
    return table, notes


def _type_of(value: str, sample: str, has_expected: bool, where: str, path: Path) -> str | None:
    if value:
        kind = TYPES.get(value.strip().lower())
        if kind is None and value.strip().lower() != "empty":
            raise FormatError(f"expected a well type among 'standard', 'blank', 'control', "
                              f"'sample' (or 'empty'), found {value!r}", path=path,
                              where=where)
        return kind
    for pattern, kind in _ID_TYPES:
        if pattern.match(sample.strip()):
            return kind
    return "standard" if has_expected and not sample else "sample"


def table_rows(table: pd.DataFrame, cols: dict[str, str], path: Path, *,
               need_signal: bool) -> tuple[list[dict[str, Any]], list[str]]:
    """Parsed rows (well, type, sample, level, expected, dilution, signal, result …).

    Each row carries ``line``, its row in the table (the file's row number), which
    :func:`wells_frame` leaves out of the wells.
    """
    rows, notes, inferred = [], [], False
    for line, r in table.iterrows():
        get = {c: str(r[name]) if name in r.index else "" for c, name in cols.items()}
        if not any(get.values()):
            continue
        where = f"row {line}"
        well = normalise_well(get.get("well", ""))
        if well is None:
            raise FormatError(f"expected a well like 'A1' or 'A01', found {get.get('well')!r}",
                              path=path, where=f"{where}, column {cols['well']!r}")
        expected = number(get.get("expected", ""), path=path, where=f"{where}, expected")
        kind = _type_of(get.get("type", ""), get.get("sample", ""), math.isfinite(expected),
                        f"{where}, column {cols.get('type', 'type')!r}", path)
        inferred |= "type" not in cols
        if kind is None:
            continue
        signal = number(get.get("signal", ""), path=path,
                        where=f"{where}, column {cols.get('signal', 'signal')!r}")
        if need_signal and not math.isfinite(signal) and kind != "blank":
            notes.append(f"{path.name} {where}: well {well} has no signal, skipped")
            continue
        rows.append({**_row(get, well, kind, expected, signal, where, path), "line": line})
    if inferred:
        notes.append(f"{path.name}: no 'type' column; well types inferred from the sample IDs "
                     "(STDn/Sn/CALn standard, BLK/Blank blank, QC/CTL control, else sample)")
    return rows, notes


def _row(get: dict[str, str], well: str, kind: str, expected: float, signal: float,
         where: str, path: Path) -> dict[str, Any]:
    sample = get.get("sample", "") or (get.get("level", "") if kind != "sample" else "")
    try:
        result = parse_value(get.get("result", ""))
    except ValueError as exc:
        raise FormatError(str(exc), path=path, where=f"{where}, result") from None
    dilution = dilution_cell(get.get("dilution", ""), path=path, where=where)
    level = get.get("level", "") or (sample if kind in ("standard", "control") else "")
    if kind == "standard" and not level:
        level = f"{expected:g}"
    return {"plate": get.get("plate", ""), "analyte": get.get("analyte", ""), "well": well,
            "sample": sample or well, "type": kind, "level": level, "expected": expected,
            "dilution": dilution, "signal": signal,
            "raw": math.nan, "replicates": 1, "count": math.nan,
            "vendor_value": result.value, "vendor_censoring": result.censoring,
            "vendor_flag": result.flag, "vendor_excluded": False,
            "source": f"{path.name} {where}"}


def read(src: Source, *, analyte: str | None = None, **_: Any) -> PlateExport:
    """Read a plain plate table into a :class:`PlateExport`."""
    table, notes = load_table(src)
    pos = columns_of(list(table.columns))
    cols = {c: table.columns[k] for c, k in pos.items()}
    if "well" not in cols or "signal" not in cols:
        raise FormatError(f"expected columns 'well' and 'signal' (or od, net mfi …), found "
                          f"{quoted(table.columns)}", path=src.path)
    rows, more = table_rows(table, cols, src.path, need_signal=True)
    notes += more
    wells = wells_frame(rows)
    if wells.empty:
        raise FormatError("expected well rows below the header, found none", path=src.path)
    wells.loc[wells["plate"] == "", "plate"] = src.path.stem
    if analyte:
        wells.loc[wells["analyte"] == "", "analyte"] = analyte
    unused = [c for c in table.columns if c not in cols.values() and c]
    if unused:
        notes.append(f"{src.path.name}: columns not used: {quoted(unused)}")
    _check_standards(wells, src.path, inferred="type" not in cols)
    units, more = _units(table, cols, wells, [r["line"] for r in rows], src.path)
    return PlateExport(format=NAME, path=src.path, wells=wells, units=units,
                       notes=notes + more)


def _units(table: pd.DataFrame, cols: dict[str, str], wells: pd.DataFrame, lines: list[int],
           path: Path) -> tuple[dict[str, str], list[str]]:
    """Concentration unit per analyte from the ``unit`` column and the column headers.

    ``wells`` are the rows read, ``lines`` their rows in ``table``: rows skipped as
    empty have no say. Two units for one analyte are an error naming a row of
    each; a ``unit`` value without a ``/`` (``OD``, ``MFI``: the signal's unit) is
    noted, not used; any other (``pmol/L``, ``IU/mL``) is the stated unit, which
    the assay converts or refuses by name (never taken as pg/mL).
    """
    header = {c: u for c in (cols.get("expected"), cols.get("result"))
              if c and (u := _split_unit(c)[1])}
    if len(set(map(str.lower, header.values()))) > 1:
        raise FormatError(f"columns {quoted(header)} state different concentration units "
                          f"({quoted(header.values())}); give both in one unit", path=path)
    head = next(iter(header.values()), "")
    stated = (table.loc[lines, cols["unit"]].astype(str).str.strip().to_numpy()
              if "unit" in cols else np.full(len(wells), ""))
    found = pd.DataFrame({"analyte": wells["analyte"].to_numpy(), "row": lines,
                          "unit": stated})
    per_volume = found["unit"].str.contains("/", regex=False)
    other = found[(found["unit"] != "") & ~per_volume]
    notes = ([f"{path.name}: column {cols['unit']!r} says {quoted(other['unit'].unique())}, "
              "not a concentration (the signal's unit?): not used as the "
              "concentration unit"] if len(other) else [])
    found = found[per_volume]
    if head:
        found = pd.concat([found, pd.DataFrame({"analyte": wells["analyte"].unique(),
                                                "row": 1, "unit": head})])
    units = {}
    for analyte, part in found.groupby("analyte", sort=False):
        spelled = part.assign(key=part["unit"].str.lower().str.replace(" ", "")
                              .str.replace("μ", "µ")).drop_duplicates("key")
        if len(spelled) > 1:
            a, b = spelled.iloc[0], spelled.iloc[1]
            raise FormatError(f"analyte {analyte!r} is given in two concentration units: "
                              f"{a['unit']!r} (row {a['row']}) and {b['unit']!r} (row "
                              f"{b['row']}); give one unit per analyte", path=path)
        units[str(analyte)] = str(spelled["unit"].iloc[0]).replace(" ", "")
        notes.append(f"{path.name}: analyte {analyte!r}: concentrations in "
                     f"{units[str(analyte)]} as the table states")
    return units, notes


def _check_standards(wells: pd.DataFrame, path: Path, *, inferred: bool) -> None:
    std = wells[wells["type"] == "standard"]
    bad = std[~np.isfinite(std["expected"])]
    if len(bad):
        r = bad.iloc[0]
        why = (f" (the table has no 'type' column: sample ID {r['sample']!r} was read as a "
               "standard, as STDn/Sn/CALn are; add a 'type' column (standard, blank, control, "
               "sample) naming each well's type)") if inferred else ""
        raise FormatError(f"standard well {r['well']} has no expected concentration{why}",
                          path=path, where=r["source"].removeprefix(path.name).strip())


def is_plate_map(path: str | Path) -> bool:
    """True for a table with a ``well`` column and no signal column (a plate map)."""
    src = Source(path)
    if src.container not in ("text", "xlsx"):
        return False
    try:
        cols = columns_of(_header_cells(src))
    except FormatError:
        return False
    return "well" in cols and "signal" not in cols


def apply_plate_map(export: PlateExport, plate_map: pd.DataFrame) -> PlateExport:
    """Types, samples, levels, expected concentrations and dilutions from a plate map.

    Map rows with an empty ``plate`` apply to every plate of the export, others to
    the plate of that name. Wells the map lists take the columns the map gives
    (``type``, ``sample``, ``level``, ``expected``, ``dilution``); wells it does not
    list are dropped when the export has no layout of its own (``meta['layout']``
    false) and kept otherwise; an empty ``dilution`` cell of the map keeps the export's
    dilution. The result is checked like any reader's output.
    """
    w = export.wells
    given = plate_map.attrs.get("given", {"type", "sample", "level", "expected", "dilution"})
    keys = [k for k in ("type", "sample", "level", "expected", "dilution") if k in given]
    if {"type", "sample"} & set(keys):
        keys.append("level")
    keys = list(dict.fromkeys(keys))
    own = plate_map[plate_map["plate"] != ""].set_index(["plate", "well"])[keys]
    generic = plate_map[plate_map["plate"] == ""].set_index("well")[keys]
    has_layout = export.meta.get("layout", True)
    rows, dropped, mapped = [], 0, 0
    for r in w.to_dict("records"):
        key = (r["plate"], r["well"])
        hit = own.loc[key] if key in own.index else (
            generic.loc[r["well"]] if r["well"] in generic.index else None)
        if hit is None:
            dropped += not has_layout
            if has_layout:
                rows.append(r)
            continue
        mapped += 1
        given_here = {k: v for k, v in hit.to_dict().items()
                      if k != "dilution" or pd.notna(v)}  # an empty map cell keeps the export's
        rows.append({**r, **given_here, "source": r["source"]})
    wells = wells_frame(rows)
    out = PlateExport(format=export.format, path=export.path, wells=wells,
                      curves=export.curves, units=export.units, controls=export.controls,
                      notes=[*export.notes, f"{export.path.name}: plate map applied to {mapped} "
                             f"well(s)" + (f"; {dropped} well(s) not in the map left out"
                                           if dropped else ""),
                             *_unread_map_wells(export, plate_map, wells)],
                      meta={**export.meta, "needs_map": False})
    check_wells(out)
    return out


def unused_map_plates(plate_map: pd.DataFrame | None, plates: set[str]) -> list[str]:
    """Warnings for plate-map plates that name no plate of the run's exports.

    Their wells would be left out without a word (a map written ``Plate 2`` for the
    export's ``Plate2``): a name close to an export plate that the map does not map
    is an error naming both; another (a map listing more plates than were read, such
    as the Ellman map of a cortex and an RBC plate run with the cortex plate only) a
    warning.

    Raises
    ------
    InputError
        A map plate name is a near miss of an export plate.

    """
    if plate_map is None:
        return []
    notes = []
    listed = plate_map[plate_map["plate"] != ""]
    for name, rows in listed.groupby("plate", sort=True):
        if name in plates:
            continue
        text = (f"{rows['source'].iloc[0]}: plate {name!r} of the plate map is no plate of the "
                f"exports ({quoted(sorted(plates))})")
        hint = did_you_mean(name, plates - set(listed["plate"]))   # not a plate it maps
        if hint:
            raise InputError(f"{text}{hint}; its {len(rows)} well(s) would be left out")
        notes.append(f"warning: {text}: its {len(rows)} well(s) left unused")
    return notes


def _unread_map_wells(export: PlateExport, plate_map: pd.DataFrame,
                      wells: pd.DataFrame) -> list[str]:
    """Warnings for wells the map places but the export gives no read for.

    A well of the map that the export lacks, or whose read cell is empty (no number
    and no vendor marker), would otherwise leave its standard, blank or sample
    without a replicate and no trace in the notes.
    """
    notes = []
    name = export.path.name
    for plate in dict.fromkeys(export.wells["plate"]):
        placed = plate_map[plate_map["plate"].isin(["", plate])]
        have = set(export.wells.loc[export.wells["plate"] == plate, "well"])
        absent = sorted(set(placed["well"]) - have)
        if absent:
            notes.append(f"warning: {name}, plate {plate!r}: {len(absent)} well(s) of the plate "
                         f"map are not in the export ({_listed(absent)}): left out")
        mine = wells[(wells["plate"] == plate) & ~np.isfinite(wells["signal"])
                     & (wells["vendor_flag"] == "")]
        if len(mine):
            notes.append(f"warning: {name}, plate {plate!r}: well(s) {_listed(mine['well'])} "
                         f"have an empty read cell ({mine['source'].iloc[0]}"
                         f"{' …' if len(mine) > 1 else ''}): no signal, left out of the curve "
                         "and of their sample's mean (recorded in neurochem_wells)")
    return notes


def _listed(wells: Any) -> str:
    wells = list(wells)
    return ", ".join(wells[:12]) + (f" and {len(wells) - 12} more" if len(wells) > 12 else "")


@format_errors
def read_plate_map(path: str | Path) -> pd.DataFrame:
    """A plate map (the plain table without a signal): wells, types, samples, dilutions.

    Returns
    -------
    pandas.DataFrame
        ``plate, well, type, sample, level, expected, dilution, source``.

    """
    src = Source(path)
    table, _ = load_table(src)
    pos = columns_of(list(table.columns))
    cols = {c: table.columns[k] for c, k in pos.items()}
    if "well" not in cols:
        raise FormatError(f"expected a 'well' column, found {quoted(table.columns)}",
                          path=src.path)
    rows, _ = table_rows(table, cols, src.path, need_signal=False)
    if not rows:
        raise FormatError("expected well rows below the header, found none", path=src.path)
    out = wells_frame(rows)[["plate", "well", "type", "sample", "level", "expected",
                             "dilution", "source"]]
    out.attrs["given"] = set(cols)
    resolve_dilutions(out, src.path)      # a sample without a dilution among filled: error
    dup = out.duplicated(["plate", "well"])
    if dup.any():
        r = out[dup].iloc[0]
        raise FormatError(f"well {r['well']} appears twice", path=src.path,
                          where=r["source"].removeprefix(src.path.name).strip())
    return out


register_reader(Reader(NAME, "plain plate table (CSV/TSV/xlsx) with columns 'well' and "
                             "'signal' (or od, net mfi …), optional type, expected, sample, "
                             "dilution, analyte, plate", match, read))
