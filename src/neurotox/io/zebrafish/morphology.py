"""Developmental morphology tables (Tanguay 22-endpoint and EPA PFAS layouts, bmdrc inputs).

Layouts
-------
Single tab file (SARL)
    ``plate_id, …, chemical_id, …, row_id, col_id, value, units, …`` then 0/1 call
    columns (``MO24, DP24, SM24, NC24, MORT, YSE_, AXIS …, DNC_``). Wells without a
    chemical and a concentration are vehicle (media) wells: concentration 0.
Morphology table (wide)
    ``chemical.id, [bottle.id], conc, plate.id|plate, well, [date]`` then the calls.
bmdrc long
    ``chemical.id, conc, plate.id, well, endpoint, value``.

Shared vehicle wells
--------------------
A vehicle well shared by every chemical of its plate is listed once under each
of them. Rows with the same plate and well are one well when they agree on
concentration and every call (the chemicals are kept as a list and the merge is
noted); rows that disagree are an error naming both rows and the column.

Calls are 0 (normal), 1 (affected) or blank (not scored).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from neurotox.errors import FormatError
from neurotox.io.zebrafish._tables import (
    load_table,
    normalise_columns,
    numeric,
    plate_id,
    row_where,
    wells,
)
from neurotox.io.zebrafish.base import Source

#: Columns of a plate map / morphology table that are not calls.
NOT_CALLS = frozenset({"plate_id", "plate", "media_map", "solvent_map", "bottle_id",
                       "chemical_id", "chemical_name", "casrn", "row_id", "col_id", "value",
                       "units", "date_of_plate", "date", "comment", "conc", "well", "notes"})
ALIASES = {"concentration": "conc", "chemical": "chemical_id"}


@dataclass
class MorphologyTable:
    """Calls per well.

    Attributes
    ----------
    calls
        One row per plate and well: ``plate``, ``well``, ``chemical`` (the first
        chemical the well is listed under), ``chemicals`` (all of them, ``; ``-joined),
        ``concentration``, ``source_row`` (1-based data row of the first listing) and
        one float column (0/1/NaN) per call, named by the lab code (``MO24``, ``YSE_``).
    call_columns
        The call column names, in file order.
    path
        File read.
    notes
        Decisions taken while reading (shared wells merged ...).

    """

    calls: pd.DataFrame
    call_columns: list[str]
    path: Path
    notes: list[str] = field(default_factory=list)


def _lab_code(name: str) -> str:
    """Lab call code from a normalised column name (``yse`` → ``YSE_``, ``mo24`` → ``MO24``)."""
    code = name.upper()
    return code + "_" * (4 - len(code)) if len(code) < 4 else code


def read_morphology(path: str | Path) -> MorphologyTable:
    """Read a morphology table (any layout above), merging shared vehicle wells.

    Raises
    ------
    FormatError
        Unknown layout, a call other than 0/1/blank, or two rows of the same plate and
        well that disagree (the message names both rows and the column).

    """
    src = Source(path)
    df = normalise_columns(load_table(src, dtype=str), ALIASES, src=src)
    if {"endpoint", "value"} <= set(df.columns) and "row_id" not in df.columns:
        df = _widen_long(df, src)
    frame, calls = _frame(df, src)
    merged, notes = merge_shared_wells(frame, ["concentration", *calls], src.path)
    return MorphologyTable(merged.reset_index(drop=True), calls, src.path,
                           [f"{src.path.name}: {n}" for n in (*src.notes, *notes)])


def _widen_long(df: pd.DataFrame, src: Source) -> pd.DataFrame:
    pcol = next((c for c in ("plate_id", "plate") if c in df.columns), "plate_id")
    keys = [c for c in ("chemical_id", "conc", pcol, "well") if c in df.columns]
    if len(keys) < 3:
        raise FormatError(f"expected columns 'chemical.id', 'conc', 'plate.id', 'well', "
                          f"'endpoint', 'value', found {sorted(df.columns)}", path=src.path)
    dup = df.duplicated([*keys, "endpoint"])
    if dup.any():
        i = int(np.flatnonzero(dup.to_numpy())[0])
        r = df.iloc[i]
        raise FormatError(f"endpoint {r['endpoint']!r} appears twice for well {r['well']!r} "
                          f"of plate {r[pcol]!r}, concentration {r.get('conc')!r}",
                          path=src.path, where=f"data row {i + 1}")
    wide = df.pivot(index=keys, columns="endpoint", values="value").reset_index()
    wide.columns.name = None
    wide.attrs.pop("origin", None)   # rows are wells now, not lines of the file
    return normalise_columns(wide, src=src)


def well_columns(df: pd.DataFrame, src: Source,
                 what: str = "morphology") -> tuple[pd.Series, str, str]:
    """Well names, plate column and concentration column of a plate map / morphology table.

    SARL single tab files give the well as ``row_id`` + ``col_id`` and the
    concentration as ``value``; the other tables ``well`` and ``conc``.
    """
    cols = list(df.columns)
    if {"row_id", "col_id"} <= set(cols):
        well = wells(df["row_id"].str.strip() + df["col_id"].str.strip(), src, "row_id/col_id")
        conc_col = "value"
    elif "well" in cols:
        well, conc_col = wells(df["well"], src, "well"), "conc"
    else:
        raise FormatError(f"expected {what} columns 'row_id', 'col_id' or 'well', found "
                          f"{sorted(cols)}", path=src.path)
    pcol = next((c for c in ("plate_id", "plate") if c in cols), None)
    if pcol is None or conc_col not in cols:
        raise FormatError(f"expected columns 'plate_id'/'plate' and {conc_col!r}, found "
                          f"{sorted(cols)}", path=src.path)
    return well, pcol, conc_col


def _frame(df: pd.DataFrame, src: Source) -> tuple[pd.DataFrame, list[str]]:
    cols = list(df.columns)
    well, pcol, conc_col = well_columns(df, src)
    calls = [c for c in cols if c not in NOT_CALLS]
    if not calls:
        raise FormatError(f"expected morphology call columns (MO24, MORT, …), found "
                          f"{sorted(cols)}", path=src.path)
    chem = df["chemical_id"].fillna("").str.strip() if "chemical_id" in cols \
        else pd.Series("", index=df.index)
    numeric(df, [conc_col, *calls], src)
    conc = df[conc_col].mask(df[conc_col].isna() & chem.eq(""), 0.0)
    _check_calls(df, calls, src)
    out = pd.DataFrame({"plate": plate_id(df[pcol]).to_numpy(), "well": well.to_numpy(),
                        "chemical": chem.to_numpy(), "concentration": conc.to_numpy(),
                        "source_row": np.arange(1, len(df) + 1)})
    codes = [_lab_code(c) for c in calls]
    for c, code in zip(calls, codes, strict=True):
        out[code] = df[c].to_numpy(float)
    return out, codes


def _check_calls(df: pd.DataFrame, calls: list[str], src: Source) -> None:
    values = df[calls].to_numpy(float)
    bad = ~np.isnan(values) & (values != 0) & (values != 1)
    if bad.any():
        i, j = (int(x[0]) for x in np.nonzero(bad))
        raise FormatError(f"expected a call 0, 1 or blank, found {values[i, j]:g}",
                          path=src.path, where=f"{row_where(df, src, i)}, column "
                                               f"{_lab_code(calls[j])!r}")


def merge_shared_wells(frame: pd.DataFrame, compare: list[str],
                       path: Path) -> tuple[pd.DataFrame, list[str]]:
    """One row per plate and well; identical repeats merged, conflicting ones an error.

    Parameters
    ----------
    frame
        ``plate``, ``well``, ``chemical``, ``source_row`` and the ``compare`` columns.
    compare
        Columns that must agree between the rows of one well (NaN equals NaN).
    path
        The file, for messages.

    Returns
    -------
    (pandas.DataFrame, list of str)
        The merged rows (``chemicals`` lists every chemical of the well) and notes.

    """
    frame = frame.assign(chemicals=frame["chemical"])
    dup = frame.duplicated(["plate", "well"], keep=False).to_numpy()
    if not dup.any():
        return frame, []
    rep = frame[dup]
    _check_agree(rep, compare, path)
    chems = rep.groupby(["plate", "well"], sort=False)["chemical"].agg(
        lambda s: "; ".join(dict.fromkeys(c for c in s if c)))
    first = rep.drop_duplicates(["plate", "well"]).set_index(["plate", "well"])
    first["chemicals"] = chems
    merged = pd.concat([frame[~dup], first.reset_index()], ignore_index=True)
    merged = merged.sort_values("source_row", kind="stable").reset_index(drop=True)
    n_wells = len(first)
    note = (f"{n_wells} well(s) listed more than once with identical calls (shared vehicle "
            f"wells, {int(dup.sum()) - n_wells} repeated row(s)) counted once each")
    return merged, [note]


def _check_agree(rep: pd.DataFrame, compare: list[str], path: Path) -> None:
    for col in compare:
        filled = rep[col].astype(float).fillna(-1.0)
        first = filled.groupby([rep["plate"], rep["well"]]).transform("first")
        bad = (filled != first).to_numpy()
        if bad.any():
            row = rep[bad].iloc[0]
            other = rep[(rep["plate"] == row["plate"]) & (rep["well"] == row["well"])].iloc[0]
            raise FormatError(
                f"well {row['well']!r} of plate {row['plate']!r} is listed in data rows "
                f"{int(other['source_row'])} and {int(row['source_row'])} with different "
                f"{col!r} ({_shown(other[col])} vs {_shown(row[col])})", path=path)


def _shown(v: object) -> str:
    return "blank" if pd.isna(v) else f"{float(v):g}"
