"""Wells of larvae that an export numbers (ZebraLab ``c01`` …, EthoVision ``Arena N``).

An export that numbers its larvae instead of naming their wells is read
row-major on a 96-well plate (384 above number 96); here the numbers are
renumbered for the plate's format: the ``plate_format`` parameter, else the
standard plate whose wells the layout lists, all of them (blank ones
included), else a 96-well plate (384 above number 96). Numbers 1 … 48 do not
tell a 48-well plate from half a 96-well one, nor does a partial layout: the
smallest plate that fits would be a guess that silently places larvae.
Each row keeps the well its number gives (``location_well``), so that a name
given by the export (ZebraLab ``animal``) that disagrees can be refused where it
would matter (:func:`neurotox.assays.zebrafish.design.design`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from neurotox.errors import InputError
from neurotox.study import PLATE_FORMATS, number_to_well


def layout_wells(layouts: dict[str, pd.DataFrame] | None, plate: str) -> set[str] | None:
    """The wells a layout names for ``plate`` (None: no such layout, or one in location codes)."""
    lay = (layouts or {}).get(plate)
    if lay is None and len(layouts or {}) == 1:
        lay = next(iter(layouts.values()))
    if lay is None or lay.empty or "location" in lay.columns:
        return None
    return set(lay["well"].astype(str))


def _whole_plate(numbers: set[int] | set[str], n: int) -> bool:
    if all(isinstance(x, str) for x in numbers):
        return numbers == set(number_to_well(range(1, n + 1), PLATE_FORMATS[n][1]))
    return numbers == set(range(1, n + 1))


def plate_format(numbers: np.ndarray, wells: set[str] | None,
                 given: int | None) -> tuple[int, str]:
    """Wells of the plate and why (for the notes); see the module docstring.

    Only a whole plate tells its format: the layout's wells all the wells of a
    standard plate (blank ones listed), or the export's numbers 1 … N of one.
    """
    top = int(np.max(numbers))
    if given is not None:
        if top > given:
            raise InputError(f"the export numbers a larva {top}, beyond plate_format {given}: "
                             f"set plate_format to the plate the export is from")
        return given, "as given (plate_format)"
    for n in PLATE_FORMATS:
        if n >= top and wells is not None and _whole_plate(wells, n):
            return n, f"the layout lists the {n} wells of a whole plate"
    default = 96 if top <= 96 else 384
    if top in PLATE_FORMATS and top < default and _whole_plate(set(np.unique(numbers).tolist()),
                                                              top):
        return default, (f"the default; the export numbers 1 to {top} as a whole {top}-well "
                         f"plate would: set plate_format {top} if it is one")
    return default, "default"


def place_wells(bins: pd.DataFrame, layouts: dict[str, pd.DataFrame] | None,
                given: int | None, notes: list[str]) -> pd.DataFrame:
    """Renumber wells the export numbers for the plate format; add ``location_well``."""
    if "location" not in bins.columns:
        return bins
    bins = bins.copy()
    bins["location_well"] = pd.Series(pd.NA, index=bins.index, dtype=object)
    by_number = bins.get("well_by_location", pd.Series(False, index=bins.index))
    by_number = by_number.astype("boolean").fillna(False).astype(bool)
    for plate, rows in bins.groupby("plate", sort=True).groups.items():
        nums = bins.loc[rows, "location"]
        rows = nums.index[nums.notna()]
        if not len(rows):
            continue
        numbers = bins.loc[rows, "location"].to_numpy(int)
        try:
            n, why = plate_format(numbers, layout_wells(layouts, str(plate)), given)
        except InputError as err:
            raise _where(err, bins.loc[rows[np.argmax(numbers)]]) from None
        cols = PLATE_FORMATS[n][1]
        wells = number_to_well(numbers, cols)
        bins.loc[rows, "location_well"] = wells
        bins.loc[rows, "plate_format"] = n
        moved = by_number.loc[rows].to_numpy()
        if not moved.any():
            continue
        old = bins.loc[rows, "well"].astype(str).to_numpy()
        animal = bins.loc[rows, "animal"].astype(str).to_numpy()
        new_animal = [w + a[len(o):] if a.startswith(o) else a
                      for w, a, o in zip(wells, animal, old, strict=True)]
        bins.loc[rows[moved], "well"] = wells[moved]
        bins.loc[rows[moved], "animal"] = np.asarray(new_animal, dtype=object)[moved]
        if why != "default":
            notes.append(f"plate {plate!r}: larvae numbered by the export placed on a {n}-well "
                         f"plate ({PLATE_FORMATS[n][0]} x {cols}, row-major: 1 = A01, "
                         f"{cols + 1} = B01), {why}")
    return bins.drop(columns="location_row", errors="ignore")


def _where(err: InputError, row: pd.Series) -> InputError:
    """``err`` naming the export and where the larva's number is in it (row and column)."""
    path = row.get("export_file", row.get("source"))
    at = row.get("location_row")
    where = (f"{at}, column 'location'" if isinstance(at, str) else
             f"larva {row['animal']!r} (numbered by its arena)")
    return InputError(err.detail, path=None if pd.isna(path) else path, where=where)
