"""ViewPoint ZebraLab / ZebraBox exports.

Layouts
-------
``zebralab-tracking``
    Tracking or quantization mode, one row per location × animal × time bin:
    ``location, animal, [an], start, end, inact, inadur, inadist, smlct, smldur,
    smldist, larct, lardur, lardist, emptyct, emptydur …`` (tracking) or
    ``… frect, fredur, midct, middur, burct, burdur …`` (quantization). Optional
    settings columns (``period``, ``vtename``, ``unit`` …) and French labels
    (``Fin de la tranche de temps``) are accepted. xlsx, real xls, or text (the
    ``.xls`` files ZebraLab writes are often TAB-separated text).
``zebralab-long``
    The long per-bin layout of the Tanguay lab database export:
    ``vd_samplecode, vd_start, vd_timebinid, vd_aname, vd_inadist, vd_smldist,
    vd_lardist, vp_locationcode`` (``vd_aname`` = ``A01-1``).
``zebralab-motiontab``
    EPR frame-level motion index: ``Plate ID, Chemical ID, DATE, frames_num,
    A01 … H12``.

Distance is the distance moved in the small plus large speed classes
(``smldist + lardist``), as the Tanguay lab computes its LPR value; the inactive
class distance (``inadist``, tracker jitter below the inactivity threshold) is
kept as a column but not counted.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from neurotox.errors import FormatError
from neurotox.io.zebrafish._tables import (
    bins_from_starts,
    header_sets,
    load_sheets,
    location_to_well,
    normalise_columns,
    numeric,
    plate_id,
    row_where,
    rows_where,
    wells,
)
from neurotox.io.zebrafish.base import (
    ACTIVITY_COLUMNS,
    BIN_COLUMNS,
    FRAME_COLUMNS,
    Export,
    Reader,
    Source,
    norm,
    register_reader,
    require_columns,
)

#: French (and older English) ZebraLab column labels → canonical names.
ZEBRALAB_ALIASES = {
    "emplacement": "location", "lieu": "location", "debut": "start", "d_but": "start",
    "fin": "end", "periode": "period", "p_riode": "period", "unite": "unit",
    "unit_": "unit", "type_de_donnees": "datatype",
}
_TRACKING_SIGNS = {"smldist", "lardist", "inadist"}
_QUANT_SIGNS = {"midct", "middur", "burct", "burdur", "frect", "fredur"}


def _any_header(src: Source, accept) -> bool:
    return any(accept(cols) for cols in header_sets(src, ZEBRALAB_ALIASES))


# ------------------------------------------------------------ tracking / quantization


def zebralab_header(cols: set[str], *, stimulus: bool) -> bool:
    """A ZebraLab tracking or quantization header, with stimulus rows or without.

    Newer exports carry the stimulus chronology (``endreason`` and ``stimuli_*``
    columns): they are ``zebralab-stimulus``; the others ``zebralab-tracking``.
    """
    chronology = "endreason" in cols and any(c.startswith("stimuli_") for c in cols)
    return {"location", "start", "end"} <= cols \
        and bool(cols & (_TRACKING_SIGNS | _QUANT_SIGNS)) and chronology == stimulus


def load_zebralab(src: Source, accept, required: list[str]) -> tuple[pd.DataFrame, list[str]]:
    """The export's rows under canonical column names, and the activity columns it has.

    ``location``, ``start``, ``end`` and ``required`` must be there; times and the
    activity columns (counts, durations, distances: >= 0) are made numbers.
    """
    df = normalise_columns(load_sheets(src, accept, aliases=ZEBRALAB_ALIASES),
                           ZEBRALAB_ALIASES, src=src)
    cols = list(df.columns)
    require_columns(cols, ["location", "start", "end", *required], path=src.path)
    measures = [c for c in ACTIVITY_COLUMNS if c in cols]
    numeric(df, ["start", "end"], src)
    numeric(df, measures, src, nonnegative=True)
    check_sheets_repeat(df, src)
    return df, measures


def check_sheets_repeat(df: pd.DataFrame, src: Source) -> None:
    """Refuse sheets that repeat each other's location and period, naming both sheets.

    Sheets with the export's header are read as one table split at the row limit
    (:func:`load_sheets`); a workbook with one plate per sheet repeats every
    location and period instead, and only a plate ID per row (``samplecode``)
    could tell the plates apart.
    """
    origin = df.attrs.get("origin")
    if not origin or origin[0] != "sheets":
        return
    keys = [c for c in ("samplecode", "location", "an", "start") if c in df.columns]
    starts = np.array([o[1] for o in origin[1]])   # (sheet, first row, rows above)
    sheet = pd.Series(np.searchsorted(starts, df.index.to_numpy(int), side="right") - 1,
                      index=df.index)
    grouped = sheet.groupby([df[k] for k in keys], sort=False, dropna=False)
    other = (sheet != grouped.transform("first")).to_numpy()
    if not other.any():
        return   # repeats within one sheet: the data check names them
    i = int(np.flatnonzero(other)[0])
    j = int(np.flatnonzero((grouped.ngroup() == grouped.ngroup().iloc[i]).to_numpy())[0])
    row, here, there = df.iloc[i], row_where(df, src, i), row_where(df, src, j)
    raise FormatError(
        f"location {row['location']!r} period {row['start']:g} s is in {there} and again "
        f"in {here}: the sheets repeat the same locations and times, as a workbook with one "
        "plate per sheet (or a copied sheet) does. Sheets are read as one export continued; "
        "give each plate as its own file (or a samplecode column naming the plate in every "
        "row)", path=src.path, where=here.split(" row ")[0])


def movement_distance(df: pd.DataFrame) -> pd.Series:
    """Distance per row: ``smldist + lardist`` (NaN without them: quantization mode)."""
    if "smldist" in df.columns and "lardist" in df.columns:
        return df["smldist"] + df["lardist"]
    return pd.Series(np.nan, index=df.index)


def _tracking_header(cols: set[str]) -> bool:
    return zebralab_header(cols, stimulus=False)


def _match_tracking(src: Source) -> bool:
    return _any_header(src, _tracking_header)


def _read_tracking(src: Source) -> Export:
    df, measures = load_zebralab(src, _tracking_header, [])
    cols = list(df.columns)
    check_periods(df, src)
    notes = []
    distances_to_mm(df, src, notes)
    if "an" in cols:
        numeric(df, ["an"], src)
        if (df["an"] == 0).any() and (df["an"] > 0).any():
            df = df[df["an"] > 0]
            notes.append("dropped the an=0 rows (location totals); kept animals an>=1")
    well, location = _tracking_wells(df, src, notes)
    n_animals = df.groupby(well)["an"].nunique() if "an" in df.columns else None
    animal = well.copy()
    if n_animals is not None and (n_animals > 1).any():
        animal = well + "-" + df["an"].astype(int).astype(str)
        shared = sorted(n_animals.index[n_animals > 1])
        notes.append(f"warning: {len(shared)} well(s) hold more than one animal (column 'an'): "
                     f"{', '.join(shared[:10])}{' ...' if len(shared) > 10 else ''}; each "
                     "animal is analysed as its own larva (well-an), while the design is one "
                     "larva per well")
    bin_index, _ = bins_from_starts(df["start"])
    out = pd.DataFrame({"plate": plate_ids(df, src, notes), "well": well, "animal": animal,
                        "bin": bin_index, "start_s": df["start"], "end_s": df["end"]})
    out["distance"] = movement_distance(df)
    if location is not None:   # the export's own location numbers, for c-code layouts
        out["location"] = location.to_numpy()
        out["location_row"] = rows_where(df, src)   # where each number is, for errors
        out["well_by_location"] = not _animal_wells(df)
    notes.append("distance per bin = smldist + lardist (inactive distance not counted)"
                 if "smldist" in cols and "lardist" in cols else
                 "quantization-mode export: no distance; activity durations only")
    for c in measures:
        out[c] = df[c].to_numpy()
    return Export("zebralab-tracking", "bins", _finish(out), src.path, notes)


def _animal_wells(df: pd.DataFrame) -> bool:
    return "animal" in df.columns and bool(df["animal"].astype(str).str.fullmatch(
        r"[A-Pa-p]\d{1,2}").all())


def _location_numbers(df: pd.DataFrame, src: Source, *, strict: bool) -> pd.Series | None:
    """The number of each row's ``location`` (``c01`` → 1); bad ones refused when ``strict``."""
    num = df["location"].astype(str).str.extract(r"(\d+)\s*$", expand=False)
    if num.isna().any():
        if not strict:
            return None
        i = int(np.flatnonzero(num.isna().to_numpy())[0])
        raise FormatError(f"expected a location like 'c01', found {df['location'].iloc[i]!r}",
                          path=src.path, where=f"{row_where(df, src, i)}, column 'location'")
    numbers = num.astype(int)
    bad = (numbers < 1) | (numbers > 384)
    if bad.any():
        if not strict:
            return None
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise FormatError(f"expected a location c01 to c384, found {df['location'].iloc[i]!r}",
                          path=src.path, where=f"{row_where(df, src, i)}, column 'location'")
    return numbers


def _tracking_wells(df: pd.DataFrame, src: Source, notes: list[str]
                    ) -> tuple[pd.Series, pd.Series | None]:
    """Each row's well, and its location number (None when locations are not numbered).

    Wells are the ``animal`` names when they are well names; else the location
    numbers row-major on a 96-well (384 above c96) plate, which the assay
    renumbers for the plate format (``plate_format``, or inferred).
    """
    named = _animal_wells(df)
    loc = df["location"].astype(str).str.strip()
    if not named and loc.str.fullmatch(r"[A-Pa-p]\d{1,2}").all() \
            and not loc.str[0].isin(["c", "C"]).all():   # locations saved as well names
        notes.append("wells from the location column (well names)")
        return wells(loc, src, "location"), None
    numbers = _location_numbers(df, src, strict=not named)
    if named:
        return wells(df["animal"], src, "animal"), numbers
    ncol = 24 if int(numbers.max()) > 96 else 12
    notes.append(f"wells from ZebraLab locations, row-major (c01 = A01), on a "
                 f"{8 * ncol}-well plate unless a note below places them on another")
    return location_to_well(df["location"], n_columns=ncol), numbers


#: ZebraLab distance units → factor to mm. Columns naming the unit of the distances.
MM_PER_UNIT = {"mm": 1.0, "cm": 10.0, "m": 1000.0, "um": 0.001, "\u00b5m": 0.001}
UNIT_COLUMNS = ("unit", "scaleunit")
#: Duration columns (s within one integration period).
DURATION_COLUMNS = ("inadur", "smldur", "lardur", "emptydur", "fredur", "middur", "burdur")


def distances_to_mm(df: pd.DataFrame, src: Source, notes: list[str]) -> None:
    """Convert the ``*dist`` columns to mm from the export's own unit column, in place.

    ZebraLab writes the distance unit of every row (``unit`` with ``scalex``/``scaley``
    in tracking exports, ``scaleunit`` with ``xscale``/``yscale`` in newer ones).
    ``mm`` is kept, ``cm``/``m``/``um`` are converted (said in the notes); a pixel or
    unknown unit, or a blank cell among filled ones, is refused naming the row and
    column. A unit column left blank in every row is taken as mm, and said.
    """
    col = next((c for c in UNIT_COLUMNS if c in df.columns), None)
    dist = [c for c in df.columns if c in ACTIVITY_COLUMNS and c.endswith("dist")]
    if col is None or not dist:
        return
    unit = df[col].astype("string").str.strip().str.lower().fillna("")
    if unit.eq("").all():
        notes.append(f"column {col!r} is empty: distances taken as mm (ZebraLab's default)")
        return
    bad = ~unit.isin(list(MM_PER_UNIT))
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise FormatError(f"expected a distance unit {', '.join(MM_PER_UNIT)}, found "
                          f"{df[col].iloc[i]!r} (pixel or unknown units cannot be converted "
                          "to mm)", path=src.path, where=f"{row_where(df, src, i)}, column {col!r}")
    factor = unit.map(MM_PER_UNIT).astype(float)
    for c in dist:
        df[c] = df[c] * factor.to_numpy()
    scale = next((c for c in ("scalex", "xscale") if c in df.columns), None)
    shown = f", {scale} {df[scale].iloc[0]:g}" if scale else ""
    for u in sorted(set(unit)):
        how = "kept" if u == "mm" else f"converted to mm (x{MM_PER_UNIT[u]:g})"
        notes.append(f"distances in {u} (column {col!r}{shown}): {how}")


def check_periods(df: pd.DataFrame, src: Source, rows: np.ndarray | None = None) -> None:
    """Refuse a period without a start or end time, ending at or before its start, or too short.

    Too short: a duration column (``inadur`` …) longer than ``end - start``.

    ``rows`` limits the check to the regular integration periods (stimulus rows
    may be instants). A duration may exceed ``end - start`` by 0.1 s plus 1 %
    (ZebraLab counts whole frames). The error names the row and column.
    """
    mask = np.ones(len(df), bool) if rows is None else np.asarray(rows, bool)
    start, end = df["start"].to_numpy(float), df["end"].to_numpy(float)
    width = end - start
    missing = [(c, mask & np.isnan(v), lambda i, c=c: f"expected the period's {c} time in s, "
                "found no number (an empty cell, '-', 'NA' or 'nan')")
               for c, v in (("start", start), ("end", end))]
    checks = [*missing, ("end", mask & (width <= 0), lambda i: f"expected end > start "
                         f"({start[i]:g} s), found {end[i]:g}")]
    for c in (c for c in DURATION_COLUMNS if c in df.columns):
        v = df[c].to_numpy(float)
        checks.append((c, mask & (v > width + 0.1 + 0.01 * np.abs(width)),
                       lambda i, v=v: f"expected a duration <= the period's {width[i]:g} s "
                       f"(end - start), found {v[i]:g}"))
    for col, bad, message in checks:
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise FormatError(message(i), path=src.path,
                              where=f"{row_where(df, src, i)}, column {col!r}")


def plate_ids(df: pd.DataFrame, src: Source, notes: list[str]) -> pd.Series:
    """Plate ID per row: ``samplecode`` when filled in, else the file name (said)."""
    if "samplecode" in df.columns:
        codes = df["samplecode"].astype("string").str.strip()
        if codes.notna().all() and codes.ne("").all():
            notes.append(f"plate ID(s) {sorted(set(plate_id(codes.astype(str))))} from the "
                         "export's samplecode column")
            return plate_id(codes.astype(str))
        if codes.notna().any() and codes.ne("").any():
            i = int(np.flatnonzero((codes.isna() | codes.eq("")).to_numpy())[0])
            raise FormatError("expected a samplecode (plate ID) in every row or in none, "
                              "found an empty one", path=src.path,
                              where=f"{row_where(df, src, i)}, column 'samplecode'")
    name = _plate_name(src)
    why = "samplecode is empty" if "samplecode" in df.columns else "no samplecode column"
    notes.append(f"plate ID {name!r} taken from the file name ({why}); override with "
                 "--plate-id or the study's plate_ids")
    return pd.Series(name, index=df.index)


def _plate_name(src: Source) -> str:
    return re.sub(r"\s+", "_", src.path.stem.strip())


def _finish(out: pd.DataFrame) -> pd.DataFrame:
    extra = [c for c in out.columns if c not in BIN_COLUMNS]
    out = out[[*BIN_COLUMNS, *extra]].sort_values(["plate", "animal", "bin"], kind="stable")
    out["plate"] = out["plate"].astype(str)
    return out.reset_index(drop=True)


register_reader(Reader(
    "zebralab-tracking",
    "ZebraLab tracking/quantization: columns location, animal, start, end and "
    "smldist/lardist or midct/burct",
    _match_tracking, _read_tracking))


# ------------------------------------------------------------ Tanguay long (vd_*)

_LONG_REQUIRED = ["vd_samplecode", "vd_start", "vd_aname", "vd_smldist", "vd_lardist"]


def _long_header(cols: set[str]) -> bool:
    return {"vd_start", "vd_aname"} <= cols


def _match_long(src: Source) -> bool:
    return _any_header(src, _long_header)


def _read_long(src: Source) -> Export:
    df = normalise_columns(load_sheets(src, _long_header, aliases=ZEBRALAB_ALIASES,
                                       dtype={"vd_samplecode": str}), src=src)
    require_columns(list(df.columns), _LONG_REQUIRED, path=src.path)
    measures = [c for c in ("vd_inadist", "vd_smldist", "vd_lardist") if c in df.columns]
    numeric(df, ["vd_start"], src)
    numeric(df, measures, src, nonnegative=True)
    aname = df["vd_aname"].astype(str).str.strip()
    parts = aname.str.extract(r"^([A-Pa-p]\d{1,2})(?:-(\d+))?$")
    if parts[0].isna().any():
        bad = aname[parts[0].isna()].iloc[0]
        raise FormatError(f"expected animal names like 'A01-1', found {bad!r}",
                          path=src.path, where="column 'vd_aname'")
    well = wells(parts[0], src, "vd_aname")
    animal = well if parts[1].fillna("1").nunique() == 1 else well + "-" + parts[1].fillna("1")
    bin_index, width = bins_from_starts(df["vd_start"])
    out = pd.DataFrame({"plate": plate_id(df["vd_samplecode"]), "well": well,
                        "animal": animal, "bin": bin_index, "start_s": df["vd_start"],
                        "end_s": df["vd_start"] + width,
                        "distance": df["vd_smldist"] + df["vd_lardist"]})
    for c in measures:
        out[c[3:]] = df[c].to_numpy()
    notes = [f"bin width {width:g} s from vd_start",
             "distance per bin = vd_smldist + vd_lardist (inactive distance not counted)"]
    return Export("zebralab-long", "bins", _finish(out), src.path, notes)


register_reader(Reader(
    "zebralab-long",
    "ZebraLab long per-bin database export: vd_samplecode, vd_start, vd_aname, "
    "vd_smldist, vd_lardist",
    _match_long, _read_long))


# ------------------------------------------------------------ MotionTab (EPR frames)


def _motiontab_header(cols: set[str]) -> bool:
    return "frames_num" in cols and "plate_id" in cols


def _match_motiontab(src: Source) -> bool:
    return _any_header(src, _motiontab_header)


def _read_motiontab(src: Source) -> Export:
    df = load_sheets(src, _motiontab_header, aliases=ZEBRALAB_ALIASES, dtype={"Plate ID": str})
    df.columns = [str(c).strip() for c in df.columns]
    norm_cols = [norm(c) for c in df.columns]
    require_columns(norm_cols, ["plate_id", "frames_num"], path=src.path)
    plate_col = df.columns[norm_cols.index("plate_id")]
    frame_col = df.columns[norm_cols.index("frames_num")]
    well_cols = [c for c in df.columns if re.fullmatch(r"[A-Pa-p]\d{1,2}", c)]
    if not well_cols:
        raise FormatError(f"expected well columns A01 … H12, found {sorted(df.columns)}",
                          path=src.path)
    numeric(df, [frame_col, *well_cols], src, nonnegative=True)   # frames, motion index
    for col, what, blank in (
            (plate_col, "a plate ID", df[plate_col].astype("string").str.strip().fillna("")
             .eq("")),
            (frame_col, "a frame number", df[frame_col].isna())):
        if blank.any():   # a row without its plate (or frame) cannot be placed: never dropped
            i = int(np.flatnonzero(blank.to_numpy())[0])
            raise FormatError(f"expected {what} in every row, found an empty cell "
                              f"({int(blank.sum())} row(s))", path=src.path,
                              where=f"{row_where(df, src, i)}, column {col!r}")
    long = df.melt(id_vars=[plate_col, frame_col], value_vars=well_cols, var_name="well",
                   value_name="activity")
    well = wells(long["well"], src, "well columns")
    out = pd.DataFrame({"plate": plate_id(long[plate_col]), "well": well, "animal": well,
                        "frame": long[frame_col].astype(int), "activity": long["activity"]})
    out = out[list(FRAME_COLUMNS)].sort_values(["plate", "well", "frame"]).reset_index(drop=True)
    return Export("zebralab-motiontab", "frames", out, src.path,
                  ["EPR motion index per frame and well"])


register_reader(Reader(
    "zebralab-motiontab",
    "ZebraLab EPR MotionTab: Plate ID, frames_num, A01 … H12",
    _match_motiontab, _read_motiontab))
