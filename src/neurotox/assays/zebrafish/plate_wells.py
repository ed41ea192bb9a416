"""Wells of larvae that an export numbers (ZebraLab ``c01`` …, EthoVision ``Arena N``).

An export that numbers its larvae instead of naming their wells is read
row-major on a 96-well plate (384 above number 96); here the numbers are
renumbered for the plate's format: the ``plate_format`` parameter, else the
smallest standard plate that holds the highest number and every well of the
plate's layout (when the layout names wells), else — for a set of numbers
that is not one whole plate and no layout naming wells — a 96-well plate.
Each row keeps the well its number gives (``location_well``), so that a name
given by the export (ZebraLab ``animal``) that disagrees can be refused where it
would matter (:func:`neurotox.assays.zebrafish.design.design`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from neurotox.errors import InputError

#: Standard plates: wells → (rows, columns), numbered row-major.
PLATE_FORMATS = {6: (2, 3), 12: (3, 4), 24: (4, 6), 48: (6, 8), 96: (8, 12), 384: (16, 24)}


def number_to_well(numbers: np.ndarray, n_columns: int) -> np.ndarray:
    """Row-major well names of 1-based numbers (``1`` → ``A01``; 13 → ``B01`` at 12 columns)."""
    k = np.asarray(numbers, int) - 1
    return np.array([f"{chr(65 + r)}{c + 1:02d}" for r, c in zip(k // n_columns,
                                                                  k % n_columns, strict=True)],
                    dtype=object)


def layout_extent(layouts: dict[str, pd.DataFrame] | None, plate: str
                  ) -> tuple[int, int] | None:
    """Highest row and column of the wells a layout names for ``plate`` (None: no such layout).

    A layout given in location codes (a ``location`` column) names no wells.
    """
    lay = (layouts or {}).get(plate)
    if lay is None and len(layouts or {}) == 1:
        lay = next(iter(layouts.values()))
    if lay is None or lay.empty or "location" in lay.columns:
        return None
    wells = lay["well"].astype(str)
    return int(wells.str[0].map(ord).max() - 64), int(wells.str[1:].astype(int).max())


def plate_format(numbers: np.ndarray, extent: tuple[int, int] | None,
                 given: int | None) -> tuple[int, str]:
    """Wells of the plate and why (for the notes); see the module docstring."""
    top = int(np.max(numbers))
    if given is not None:
        if top > given:
            raise InputError(f"the export numbers a larva {top}, beyond plate_format {given}")
        return given, "as given (plate_format)"
    fits = [n for n, (r, c) in PLATE_FORMATS.items()
            if n >= top and (extent is None or (r >= extent[0] and c >= extent[1]))]
    default = 96 if top <= 96 else 384
    if extent is not None and fits:
        return fits[0], f"the smallest plate holding number {top} and the layout's wells"
    if extent is None and top in PLATE_FORMATS and set(np.unique(numbers)) == \
            set(range(1, top + 1)):
        return top, f"numbers 1 to {top}, one whole plate"
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
        n, why = plate_format(numbers, layout_extent(layouts, str(plate)), given)
        cols = PLATE_FORMATS[n][1]
        wells = number_to_well(numbers, cols)
        bins.loc[rows, "location_well"] = wells
        moved = by_number.loc[rows].to_numpy()
        if not moved.any():
            continue
        old = bins.loc[rows, "well"].astype(str).to_numpy()
        animal = bins.loc[rows, "animal"].astype(str).to_numpy()
        new_animal = [w + a[len(o):] if a.startswith(o) else a
                      for w, a, o in zip(wells, animal, old, strict=True)]
        bins.loc[rows[moved], "well"] = wells[moved]
        bins.loc[rows[moved], "animal"] = np.asarray(new_animal, dtype=object)[moved]
        if n != 96 or why != "default":
            notes.append(f"plate {plate!r}: larvae numbered by the export placed on a {n}-well "
                         f"plate ({PLATE_FORMATS[n][0]} x {cols}, row-major: 1 = A01, "
                         f"{cols + 1} = B01), {why}")
    return bins
