"""Per-bin tables written by analysis pipelines (Tanguay SARL, bmdrc, US EPA Padilla lab).

Layouts
-------
``tanguay-wide``
    SARL ``FOR_GUI`` tables: ``chemical.id, [bottle.id], conc, plate|plate.id, well,
    t0 … tN`` (one column per bin; bin width from the protocol, 6 s for LPR).
``tanguay-long``
    SARL per-second tables: ``well, plate.id, chemical.id, conc, starttime,
    vd_inadist, vd_smldist, vd_lardist …``.
``bmdrc-long``
    bmdrc LPR input: ``chemical.id, conc, plate.id, well, variable (t0 …), value``.
``epa-lightdark``
    US EPA (Padilla lab) xlsx, or the same table saved as csv: a header row with
    ``Removed due to developmental issues | Removed due to tracking issues/errors |
    Plate # | … | Well | Chemical | Concentration (μM) | 20-22 | 22-24 …`` (bins
    labelled in minutes, distance in cm per bin, converted here to mm); an ``X`` in
    a *Removed* column excludes the larva with that column's reason.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from neurotox.errors import FormatError
from neurotox.io.zebrafish._tables import (
    concentrations,
    load_sheets,
    normalise_columns,
    numeric,
    plate_id,
    refuse_sheet_repeats,
    row_where,
    unassigned_chemicals,
    wells,
)
from neurotox.io.zebrafish.base import (
    BIN_COLUMNS,
    Export,
    Reader,
    Source,
    norm,
    register_reader,
    require_columns,
)

_T_COL = re.compile(r"^t_?(\d+)$")
#: Bin width assumed for tables that carry bin numbers only (Tanguay LPR, bmdrc).
DEFAULT_BIN_S = 6.0


def _first_row(src: Source) -> list[str]:
    rows = src.first_rows()
    return [norm(c) for c in next((r for r in rows if any(r)), []) if c]


def _has_conc(cols) -> bool:
    """A ``conc`` column, or one that states a unit (``conc_nM``, refused by :func:`_conc_only`)."""
    return any(c == "conc" or c.startswith(("conc_", "concentration")) for c in cols)


def _conc_only(src: Source, cols: list[str]) -> None:
    """Refuse a concentration column stating a unit (``conc_nM``) where ``conc`` is expected.

    These tables write bare numbers under ``conc``, read in the run's
    ``concentration_unit``: a unit in the header is not converted, so that a
    number is never read in a unit other than the one the file states.
    """
    if "conc" in cols or not _has_conc(cols):
        return
    said = next(str(c).strip() for c in next(r for r in src.first_rows() if any(r))
                if c is not None and _has_conc([norm(c)]))
    unit = re.sub(r"^conc(?:entration)?[\s._]*[(\[]?\s*|\s*[)\]]$", "", said, flags=re.I)
    give = f" and give --param concentration_unit={unit}" if unit else ""
    raise FormatError(f"expected a column 'conc' (numbers in the run's concentration_unit, "
                      f"uM unless set), found {said!r}: rename it 'conc'{give}", path=src.path)


def _well_info(df: pd.DataFrame, plate: pd.Series, well: pd.Series, conc: str,
               chem: str | None, src: Source) -> pd.DataFrame:
    values = concentrations(df, conc, src)
    if note := unassigned_chemicals(df, values, chem, src):
        src.notes.append(note)
    info = pd.DataFrame({"plate": plate.to_numpy(), "well": well.to_numpy(),
                         "concentration": values.to_numpy()})
    if chem is not None:
        info["chemical"] = df[chem].astype(str).to_numpy()
    for column in info.columns[2:]:
        _one_per_larva(info, column, {"concentration": conc, "chemical": chem}[column], src)
    return info.drop_duplicates(["plate", "well"]).reset_index(drop=True)


def _one_per_larva(info: pd.DataFrame, column: str, header: str | None, src: Source) -> None:
    """FormatError when a larva's rows (one per bin) give it two concentrations or chemicals.

    A long table repeats each larva's concentration and chemical on every bin row; a
    row that differs is a typo or a row of another larva, and taking the first would
    put the larva in another group without a word.
    """
    shown = info[column].astype(str)
    kinds = shown.groupby([info["plate"], info["well"]], sort=False).nunique()
    if not (kinds > 1).any():
        return
    plate, well = kinds.index[(kinds > 1).argmax()]
    values = shown[(info["plate"] == plate) & (info["well"] == well)].value_counts()
    said = ", ".join(f"{v!r} on {n} row(s)" for v, n in values.items())
    raise FormatError(f"larva {plate}-{well} has more than one {column} in column {header!r} "
                      f"({said}); each row of a larva gives the same {column} "
                      f"({int((kinds > 1).sum())} larva(e) so)", path=src.path)


def _bins_frame(plate, well, bin_index, values, bin_s: float) -> pd.DataFrame:
    bin_index = np.asarray(bin_index, dtype=int)
    out = pd.DataFrame({"plate": np.asarray(plate, dtype=object).astype(str),
                        "well": np.asarray(well), "animal": np.asarray(well),
                        "bin": bin_index, "start_s": bin_index * bin_s,
                        "end_s": (bin_index + 1) * bin_s,
                        "distance": np.asarray(values, dtype=float)})
    return out[list(BIN_COLUMNS)].sort_values(["plate", "animal", "bin"]).reset_index(drop=True)


# ------------------------------------------------------------ tanguay wide


def _match_wide(src: Source) -> bool:
    cols = _first_row(src)
    return ("well" in cols and _has_conc(cols) and any(c in cols for c in ("plate", "plate_id"))
            and sum(bool(_T_COL.match(c)) for c in cols) >= 2)


def _read_wide(src: Source) -> Export:
    _conc_only(src, _first_row(src))
    df = normalise_columns(load_sheets(src, lambda h: {"well", "conc"} <= h, dtype=str),
                           src=src)
    cols = list(df.columns)
    pcol = "plate" if "plate" in cols else "plate_id"
    require_columns(cols, ["well", "conc", pcol], path=src.path)
    tcols = [c for c in cols if _T_COL.match(c)]
    numeric(df, tcols, src, nonnegative=True)   # distance per bin
    plate, well = plate_id(df[pcol]), wells(df["well"], src, "well")
    long = df[tcols].to_numpy().reshape(-1)
    bins = np.array([int(_T_COL.match(c).group(1)) for c in tcols])
    first = int(bins.min())
    n = len(df)
    out = _bins_frame(np.repeat(plate.to_numpy(), len(tcols)), np.repeat(well.to_numpy(),
                      len(tcols)), np.tile(bins - first, n), long, DEFAULT_BIN_S)
    chem = "chemical_id" if "chemical_id" in cols else None
    notes = [f"bin numbers only: assumed {DEFAULT_BIN_S:g}-s bins, t{first} = bin 0",
             "empty cells are wells removed by the lab (kept as missing)"]
    return Export("tanguay-wide", "bins", out, src.path, notes,
                  _well_info(df, plate, well, "conc", chem, src))


register_reader(Reader(
    "tanguay-wide",
    "Tanguay SARL wide per-bin table: chemical.id, conc, plate, well, t0 … tN",
    _match_wide, _read_wide))


# ------------------------------------------------------------ tanguay long


def _match_tlong(src: Source) -> bool:
    cols = _first_row(src)
    return {"well", "plate_id", "starttime", "vd_smldist"} <= set(cols) and _has_conc(cols)


def _read_tlong(src: Source) -> Export:
    _conc_only(src, _first_row(src))
    df = normalise_columns(load_sheets(src, lambda h: {"well", "conc", "starttime"} <= h,
                                       dtype={"plate.id": str, "well": str}), src=src)
    require_columns(list(df.columns), ["well", "plate_id", "conc", "starttime", "vd_smldist",
                                       "vd_lardist"], path=src.path)
    numeric(df, ["starttime"], src)
    numeric(df, ["vd_smldist", "vd_lardist"], src, nonnegative=True)
    plate, well = plate_id(df["plate_id"]), wells(df["well"], src, "well")
    starts = np.sort(df["starttime"].unique())
    width = float(np.median(np.diff(starts))) if len(starts) > 1 else 1.0
    out = pd.DataFrame({"plate": plate, "well": well, "animal": well,
                        "bin": np.searchsorted(starts, df["starttime"]),
                        "start_s": df["starttime"], "end_s": df["starttime"] + width,
                        "distance": df["vd_smldist"] + df["vd_lardist"]})
    out = out[list(BIN_COLUMNS)].sort_values(["plate", "animal", "bin"]).reset_index(drop=True)
    chem = "chemical_id" if "chemical_id" in df.columns else None
    return Export("tanguay-long", "bins", out, src.path,
                  ["distance per bin = vd_smldist + vd_lardist"],
                  _well_info(df, plate, well, "conc", chem, src))


register_reader(Reader(
    "tanguay-long",
    "Tanguay SARL long table: well, plate.id, conc, starttime, vd_smldist, vd_lardist",
    _match_tlong, _read_tlong))


# ------------------------------------------------------------ bmdrc long


def _match_bmdrc(src: Source) -> bool:
    cols = set(_first_row(src))
    return ({"well", "variable", "value"} <= cols and bool(cols & {"plate_id", "plate"})
            and _has_conc(cols))


def _read_bmdrc(src: Source) -> Export:
    _conc_only(src, _first_row(src))
    df = normalise_columns(load_sheets(src, lambda h: {"conc", "well", "variable", "value"}
                                       <= h, dtype=str), src=src)
    pcol = "plate_id" if "plate_id" in df.columns else "plate"
    require_columns(list(df.columns), ["conc", pcol, "well", "variable", "value"],
                    path=src.path)
    refuse_sheet_repeats(df, [pcol, "well", "variable"], src, "larva and bin")
    numeric(df, ["value"], src, nonnegative=True)   # distance per bin
    num = df["variable"].astype(str).str.extract(r"(\d+)", expand=False)
    if num.isna().any():
        bad = df["variable"][num.isna()].iloc[0]
        raise FormatError(f"expected time labels like 't12', found {bad!r}", path=src.path,
                          where="column 'variable'")
    plate, well = plate_id(df[pcol]), wells(df["well"], src, "well")
    out = _bins_frame(plate, well, num.astype(int).to_numpy(), df["value"], DEFAULT_BIN_S)
    chem = "chemical_id" if "chemical_id" in df.columns else None
    return Export("bmdrc-long", "bins", out, src.path,
                  [f"bin numbers only: assumed {DEFAULT_BIN_S:g}-s bins"],
                  _well_info(df, plate, well, "conc", chem, src))


register_reader(Reader(
    "bmdrc-long",
    "bmdrc LPR long format: chemical.id, conc, plate.id, well, variable, value",
    _match_bmdrc, _read_bmdrc))


# ------------------------------------------------------------ EPA light/dark xlsx

_MINUTES = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*-\s*(\d+(?:\.\d+)?)\s*$")


#: Words of the EPA's removal columns as labs spell them (*Removed due to tracking
#: issues/errors*, *Tracking error*, *Excluded (developmental)*), normalised. A bare
#: ``tracking issues/errors`` is the second row of a split header (refused), not one.
_REMOVAL_WORDS = ("removed", "excluded", "tracking_error")


def _is_removal(label: object) -> bool:
    return any(w in norm(label) for w in _REMOVAL_WORDS)


def _epa_header_row(rows: list[tuple]) -> int | None:
    for i, r in enumerate(rows[:10]):
        cells = [norm(c) for c in r if c is not None]
        if "well" in cells and "plate" in cells and any(map(_is_removal, cells)):
            return i
    return None


_BANNER_UNIT = re.compile(r"distance\s+moved\s*\(\s*([^)\s]*)\s*\)", re.IGNORECASE)
#: Millimetres per unit of the distance the EPA banner row states.
_MM_PER = {"mm": 1.0, "cm": 10.0, "m": 1000.0}


def _epa_unit(rows: list, hdr: int, src: Source, where: str | None) -> tuple[float, str]:
    """Millimetres per unit of the bins (from the banner row above the header) and the note.

    The EPA banner (``Data shown is distance moved (cm) in 2 minute intervals``) is
    the file's only statement of the unit; without one, cm (the EPA's) is assumed.
    """
    for row in rows[:hdr]:
        text = " ".join(str(c) for c in row if c is not None and str(c).strip())
        if m := _BANNER_UNIT.search(text):
            unit = m.group(1).lower()
            if unit not in _MM_PER:
                raise FormatError(f"the banner row {text.strip()!r} states the distance "
                                  f"unit {m.group(1)!r}; expected one of 'mm', 'cm', 'm'",
                                  path=src.path, where=where)
            how = ("kept in mm" if unit == "mm" else
                   f"converted from {unit} to mm (x{_MM_PER[unit]:g})")
            return _MM_PER[unit], f"distance {how}, the unit of the banner row {text.strip()!r}"
    return 10.0, ("distance converted from cm to mm (x10): no banner row states the unit "
                  "('Data shown is distance moved (cm) …'), the EPA's cm assumed")


_EPA_NEED = {"plate": "Plate #", "well": "Well", "concentration_m": "Concentration (μM)"}
_EPA_ALIASES = {"concentration_um": "concentration_m", "concentration_micromolar":
                "concentration_m", "plate_id": "plate", "plate_no": "plate"}


def _conc_hint(columns: list[str]) -> str:
    other = [c for c in columns if norm(c).startswith("conc")]
    if not other:
        return ""
    return (f": {other[0]!r} is not read as µM (the unit it states is not µM): give the "
            "concentrations in µM under 'Concentration (μM)'")


def _epa_tables(src: Source) -> dict[str | None, list]:
    """Sheets of a workbook, or the first rows of a csv/txt (key None)."""
    return src.sheets if src.container in ("xlsx", "xls") else {None: src.first_rows()}


def _epa_two_row_header(rows: list[tuple]) -> int | None:
    """The row of ``Plate #``/``Well`` below a row of ``Removed`` over merged cells, if any."""
    for i, r in enumerate(rows[1:10], start=1):
        cells = [norm(c) for c in r if c is not None]
        above = [norm(c) for c in rows[i - 1] if c is not None]
        if "well" in cells and "plate" in cells and any(map(_is_removal, above)):
            return i
    return None


def _match_epa(src: Source) -> bool:
    return any(_epa_header_row(rows) is not None or _epa_two_row_header(rows) is not None
               for rows in _epa_tables(src).values())


def _refuse_two_row_header(tables: dict[str | None, list], src: Source) -> None:
    if any(_epa_header_row(rows) is not None for rows in tables.values()):
        return
    name, rows = next((n, r) for n, r in tables.items() if _epa_two_row_header(r) is not None)
    i = _epa_two_row_header(rows)
    top = [str(c).strip() for c in rows[i - 1] if c is not None and str(c).strip()]
    raise FormatError(f"the EPA light/dark header is split over two rows (row {i}: "
                      f"{', '.join(map(repr, top))} over merged cells; row {i + 1}: 'Plate #', "
                      "'Well' …); expected one header row with 'Removed due to developmental "
                      "issues', 'Removed due to tracking issues/errors', 'Plate #', 'Well', "
                      "'Concentration (μM)' and the bins '20-22' …: unmerge the cells and put "
                      "each column's full name in one row", path=src.path,
                      where=None if name is None else f"sheet {name!r}")


def _epa_bins(labels: dict[str, object], banner: str, src: Source, where: str | None
              ) -> list[tuple[object, float, float]]:
    """The bin columns ``20-22`` (minutes): start and end in minutes, checked against the banner."""
    bins = [(c, _MINUTES.match(str(c))) for c in labels.values()]
    bins = [(c, float(m.group(1)), float(m.group(2))) for c, m in bins if m]
    if not bins:
        raise FormatError(f"expected bin columns like '20-22' (minutes), found "
                          f"{sorted(labels)}", path=src.path, where=where)
    width = bins[0][2] - bins[0][1]
    stated = re.search(r"in\s+(\d+(?:\.\d+)?)\s*-?\s*min", banner, re.IGNORECASE)
    if stated and width != float(stated.group(1)) or not stated and bins[-1][2] > 24 * 60:
        said = (f"the banner row says {stated.group(1)}-minute intervals" if stated else
                f"that would be a {bins[-1][2] / 60:g}-h recording")
        raise FormatError(f"the bin labels are read as minutes: {str(bins[0][0])!r} is a "
                          f"{width:g}-min bin, but {said} (labels in seconds?); expected bins "
                          "labelled in minutes ('20-22')", path=src.path, where=where)
    return bins


def _read_epa(src: Source) -> Export:
    tables = _epa_tables(src)
    _refuse_two_row_header(tables, src)
    df = load_sheets(src, lambda _: True, header_row=_epa_header_row,
                     dtype=None if src.sheets else str)
    read = df.attrs["sheets"]
    sheet, hdr = next(iter(read.items()))
    where = None if sheet is None else f"sheet {sheet!r}"
    df = df.loc[:, [c for c in df.columns if not str(c).startswith("Unnamed")]]
    labels = {str(c): c for c in df.columns}
    banner = " ".join(str(c) for r in tables[sheet][:hdr] for c in r if c is not None)
    bins = _epa_bins(labels, banner, src, where)
    key = {_EPA_ALIASES.get(norm(c), norm(c)): c for c in df.columns}
    missing = [name for k, name in _EPA_NEED.items() if k not in key]
    if missing:
        binned = {str(c) for c, _, _ in bins}
        others = sorted(n for n in labels if n not in binned)
        raise FormatError(f"expected columns {', '.join(map(repr, _EPA_NEED.values()))}; "
                          f"missing {', '.join(map(repr, missing))}; the header's other "
                          f"columns are {others} (and {len(bins)} bins "
                          f"{str(bins[0][0])!r} …){_conc_hint(others)}",
                          path=src.path, where=where)
    df = df[df[key["well"]].notna()].copy()
    refuse_sheet_repeats(df, [key["plate"], key["well"]], src, "larva")
    numeric(df, [c for c, _, _ in bins], src, nonnegative=True)   # cm per bin
    conc = concentrations(df, key["concentration_m"], src,
                          header=str(key["concentration_m"]).strip())
    chem = key.get("chemical")
    if note := unassigned_chemicals(df, conc, chem, src):
        src.notes.append(note)
    reasons = _epa_reasons(df, src)
    df, conc = df.reset_index(drop=True), conc.reset_index(drop=True)
    reasons = reasons.reset_index(drop=True)
    units = {n: _epa_unit(tables[n], at, src, f"sheet {n!r}" if n else None)
             for n, at in read.items()}
    mm_per, unit_note = units[sheet]
    if differ := [n for n in units if units[n][0] != mm_per]:
        raise FormatError(f"sheets {sheet!r} and {differ[0]!r} state different distance "
                          f"units in their banner rows ({units[sheet][1]}; "
                          f"{units[differ[0]][1]})", path=src.path)
    values = df[[c for c, _, _ in bins]].to_numpy(float) * mm_per
    n, k = values.shape
    plate = df[key["plate"]].astype(str).str.strip()
    well = wells(df[key["well"]], src, "Well")
    start = np.array([a for _, a, _ in bins]) * 60
    end = np.array([b for _, _, b in bins]) * 60
    out = pd.DataFrame({"plate": np.repeat(plate.to_numpy(), k),
                        "well": np.repeat(well.to_numpy(), k),
                        "animal": np.repeat(well.to_numpy(), k),
                        "bin": np.tile(np.arange(k), n), "start_s": np.tile(start, n),
                        "end_s": np.tile(end, n), "distance": values.reshape(-1)})
    info = pd.DataFrame({"plate": plate, "well": well, "concentration": conc})
    if chem is not None:
        info["chemical"] = df[chem].astype(str)
    info["exclusion_reason"] = reasons
    notes = [f"{'sheet ' + repr(sheet) + ', ' if sheet is not None else ''}header on row "
             f"{hdr + 1}" + (" (each sheet)" if len(read) > 1 else ""),
             unit_note,
             f"{int((info['exclusion_reason'] != '').sum())} larvae marked removed (X, 1, "
             "yes or true)"]
    if link := next((c for c in df.columns if norm(c).startswith("link")), None):
        notes.append(_link_note(df[link], plate, str(link).strip()))
    out = out.sort_values(["plate", "animal", "bin"]).reset_index(drop=True)
    return Export("epa-lightdark", "bins", out, src.path, notes, info)


def _link_note(link: pd.Series, plate: pd.Series, name: str) -> str:
    """The note that the EPA's *Link plates tested together* column is not read."""
    letters = link.astype("string").str.strip().replace("", pd.NA)
    n, plates = letters.nunique(), plate[letters.notna().to_numpy()].nunique()
    return (f"column {name!r} ({n} sets of plates tested together, {plates} plates) not read: "
            "the experimental groups are the plates (a chemical is compared with the vehicle "
            "wells of the plates it was tested on; the vehicle check is per plate)")


#: Marks of a *Removed due to …* cell: removed, and kept (an empty cell keeps the larva too).
REMOVED_MARKS = frozenset({"x", "1", "yes", "y", "true", "removed"})
KEPT_MARKS = frozenset({"", "0", "no", "n", "false", "-"})


def _epa_reasons(df: pd.DataFrame, src: Source) -> pd.Series:
    """Each larva's removal reasons: the *Removed* columns marked ``X`` (or 1, yes, true).

    A removal column is any spelling of the EPA's two (``Removed due to …``,
    ``Tracking error``, ``Excluded (developmental)``); its header is the reason.

    Any other mark is an error naming the row and column: which larvae the lab
    removed cannot be guessed.
    """
    reasons = pd.Series("", index=df.index, dtype=object)
    for col in [c for c in df.columns if _is_removal(c)]:
        mark = df[col].map(_mark_text)
        bad = ~mark.isin(REMOVED_MARKS | KEPT_MARKS)
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            raise FormatError(f"expected X (removed) or an empty cell, found "
                              f"{df[col].iloc[i]!r}; also read: 1, yes, true (removed) and "
                              "0, no, false (kept)", path=src.path,
                              where=f"{row_where(df, src, i)}, column {str(col).strip()!r}")
        marked = mark.isin(REMOVED_MARKS)
        label = str(col).strip()
        reasons = reasons.where(~marked, reasons.where(reasons == "", reasons + "; ") + label)
    return reasons


def _mark_text(value) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int | float) and float(value) in (0.0, 1.0):
        return str(int(value))
    return str(value).strip().lower()


register_reader(Reader(
    "epa-lightdark",
    "US EPA light/dark xlsx or csv: header row with 'Removed due to …', 'Plate #', 'Well', "
    "'Concentration (μM)' and bins '20-22' (min)",
    _match_epa, _read_epa))
