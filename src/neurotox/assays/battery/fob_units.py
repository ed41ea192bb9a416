"""FOB measurement units: unit-bearing headers, species ranges and unit slips.

A grip or foot-splay trial column may carry its unit in brackets
(``grip_fore_1 (N)``, ``Foot splay 1 (cm)``): the values are converted to the
item's unit (g, mm) with a note, by the readers' shared
:func:`neurotox.io.header_units.unit_columns`. Without a unit the values are checked against
the study species' plausible range (:data:`~.fob_items.SPECIES_RANGES`) and the
usual range of healthy animals (:data:`~.fob_items.USUAL_RANGES`), and a value or
column that fits only once read in another unit is named with that unit.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from neurotox.assays.battery.common import slip_hint, slip_units, species_key
from neurotox.assays.battery.fob_items import (
    SLIP_UNITS,
    SPECIES_RANGES,
    USUAL_RANGES,
    FobItem,
    by_column,
)
from neurotox.errors import InputError
from neurotox.io import battery as io
from neurotox.io.header_units import Quantity, converted, header_unit, unit_columns
from neurotox.study import Study

_TRIAL = re.compile(r"^(?P<item>[a-z_]+?)_(?:t|trial)?\d+$")


def _item_of(name: str, aliases: dict[str, str]) -> FobItem | None:
    """The catalogue item a (base) column name stands for, if any."""
    known = by_column()
    name = aliases.get(name, name)
    m = _TRIAL.match(name)
    item = known.get(name) or (known.get(m.group("item")) if m else None)
    return item if item is not None and item.unit else None


#: Other spellings of an item's own unit in a header.
_SAME_UNIT = {"degC": ("°c", "c", "deg_c")}


def _quantity(item: FobItem, column: str) -> Quantity:
    """What a header with a unit gives for ``item``: ``column`` in the item's unit.

    Read in the item's unit and the units a slip names (:data:`SLIP_UNITS`;
    newtons for grips only).
    """
    slips = {u: f for u, f in SLIP_UNITS.get(item.unit, ())
             if u != "N" or item.column.startswith("grip")}
    units = {item.unit: 1.0, **slips}
    same = dict.fromkeys(_SAME_UNIT.get(item.unit, ()), 1.0)
    return Quantity(column, {**same, **{u.lower(): f for u, f in units.items()}}, item.unit,
                    " or ".join(units), name=f"item {item.column!r}")


def unit_headers(df: pd.DataFrame, aliases: dict[str, str]) -> tuple[pd.DataFrame, list[str]]:
    """Item columns whose header gives a unit in brackets read in the item's unit; the notes.

    ``grip_fore_1 (N)`` becomes ``grip_fore_1`` in g (:func:`~neurotox.io.header_units.\
unit_columns`); the frame's ``attrs['header_units']`` names the columns whose
    header stated the unit (:func:`check_usual_scale` takes them as stated).

    Raises
    ------
    InputError
        A unit the item cannot be read in, or two columns giving the same item column.

    """
    heads = [h for h in map(header_unit, df.columns) if h is not None and h.bracketed]
    items = {h.base: item for h in heads if (item := _item_of(h.base, aliases)) is not None}
    out = unit_columns(df, {base: _quantity(item, base) for base, item in items.items()})
    return out, converted(out, numbers=io.parse_numbers)


def check_species_ranges(df: pd.DataFrame, columns: dict[str, list[str]],
                         study: Study) -> None:
    """InputError at the first grip or foot-splay trial outside the species' range.

    The catalogue's bounds hold for any rodent; with the study's ``species`` known
    (rat, mouse) :data:`~neurotox.assays.battery.fob_items.SPECIES_RANGES` apply,
    so a rat's grip typed in kg (1.579) or its foot splay in cm (7.45) is refused
    with the unit it was likely written in.
    """
    ranges = SPECIES_RANGES.get(species_key(study.spec.species), {})
    bad = []
    for name, cols in columns.items():
        if name not in ranges:
            continue
        lo, hi = ranges[name]
        for col in cols:
            v = io.parse_numbers(df[col])
            out = (v < lo) | (v > hi)
            if name.startswith("grip"):
                out &= v != 0   # did not grip
            bad += [(int(df.at[i, "row"]), col, name, float(v[i])) for i in v.index[out]]
    if bad:
        row, col, name, v = min(bad)
        item = by_column()[name]
        lo, hi = ranges[name]
        raise InputError(f"value {v:g} of item {item.column!r} is outside the plausible range "
                         f"{lo:g}-{hi:g} {item.unit} (species {study.spec.species!r})"
                         f"{slip_hint(v, item.unit, (lo, hi), SLIP_UNITS[item.unit])}",
                         path=df.attrs["path"], where=f"row {row}, column {col!r}")


def check_usual_scale(df: pd.DataFrame, columns: dict[str, list[str]],
                      study: Study) -> list[str]:
    """Refuse a trial column written in another unit; warn of such a row. The warnings.

    A rat's grip in newtons (12.5-15.8) passes the plausible range (10-5000 g) but
    sits at about 1/100 of the usual range of a rat's grip in g
    (:data:`~neurotox.assays.battery.fob_items.USUAL_RANGES`). A column whose median
    (grips of 0 left out) is under the usual range and inside it once read in N
    (or kg) is an InputError naming the unit; one animal × occasion whose trials
    of an item average so (a lone row typed in N, or a very weak animal) is a warning.
    Columns whose header states the unit (:func:`unit_headers`) are taken as stated.
    """
    species = species_key(study.spec.species)
    usual = USUAL_RANGES.get(species, {})
    sheet = df.attrs.get("path", "")
    stated = df.attrs.get("header_units", {})
    warnings = []
    for name in sorted(set(columns) & set(usual)):
        item, (lo, hi) = by_column()[name], usual[name]
        values = pd.DataFrame({c: io.parse_numbers(df[c]) for c in columns[name]
                               if c not in stated})
        if values.empty:
            continue
        values = values.where(values != 0)
        for col in values.columns[values.notna().any()]:
            m = float(values[col].median())
            units = slip_units(m, (lo, hi), SLIP_UNITS[item.unit])
            if m < lo and units:
                raise InputError(f"the values of item {name!r} (median {m:g}, grips of 0 left "
                                 f"out) sit below the usual range {lo:g}-{hi:g} {item.unit} of a "
                                 f"{species}'s grip{slip_hint(m, item.unit, (lo, hi), units)}; "
                                 f"give the unit in the header ('{io.header_of(df, col)} "
                                 f"({units[0][0]})') or correct the values",
                                 path=sheet, where=f"column {col!r}")
        means = values.mean(axis=1)    # NaN for a row without a grip
        for i in means.index[means < lo]:
            mean = float(f"{means[i]:.4g}")
            hint = slip_hint(mean, item.unit, (lo, hi), SLIP_UNITS[item.unit])
            if hint:
                warnings.append(_row_warning(df, i, name, mean, (lo, hi), hint))
    return warnings


def _row_warning(df: pd.DataFrame, i: int, name: str, mean: float,
                 usual: tuple[float, float], hint: str) -> str:
    lo, hi = usual
    return (f"warning: {Path(df.attrs.get('path', '')).name}, row {int(df.at[i, 'row'])}: "
            f"{name} of {df.at[i, 'subject']} ({df.at[i, 'occasion']}) averages {mean:g} g, "
            f"below the usual range {lo:g}-{hi:g} g{hint}; analysed as written in g")
