"""Units written in column headers (``Distance (cm)``, ``Body weight (kg)``): read, converted.

One reader for the lab-sheet readers of :mod:`neurotox.io` (the battery's organ
weights, the CIPN sheets; the rodent readers' time columns split their headers
with :func:`header_unit`). A header that names a quantity the reader knows, with
its unit in brackets (``Distance (cm)``, ``Brain weight [mg]``; read by
:func:`neurotox.io.battery.read_sheet` as ``distance_(cm)``) or after an
underscore (``body_weight_kg``), becomes the reader's column
(:func:`unit_columns`); once the cells are numbers, :func:`converted` brings
them to the column's unit, each conversion in a note. A unit in brackets that
the quantity is not read in (``Temperature (°F)``, ``Body weight (lb)``) is
refused naming the column and the unit; a word after an underscore that is no
unit of the quantity (``body_weight_day7``) leaves the header alone.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

import pandas as pd

from neurotox.errors import InputError

#: A header with its unit: ``distance_(mm)``, ``brain_weight_[mg]`` or ``body_weight_kg``
#: (empty brackets too: a unit no reader knows).
HEADER_UNIT = re.compile(r"^(?P<base>.+?)(?:[\s_]*[(\[]\s*(?P<unit>[^()\[\]]*?)\s*[)\]]"
                         r"|_(?P<bare>[a-zµ°]+))$", re.IGNORECASE)


class HeaderUnit(NamedTuple):
    """A header split at its unit: ``Time (ms)`` → ``('Time', 'ms', True)``."""

    #: The header without its unit (``Time``, ``Object 1 : time``, ``time``).
    base: str
    #: The unit as written (``ms``, ``MS``, ``µV``).
    unit: str
    #: True for a unit in brackets; False after an underscore (``time_ms``), where the
    #: word may be no unit at all (``trial_time``): the reader decides.
    bracketed: bool

    @property
    def key(self) -> str:
        """The unit to look up: lower case, no spaces (``Mill isec`` → ``millisec``)."""
        return self.unit.replace(" ", "").lower()


def header_unit(header: str) -> HeaderUnit | None:
    """The unit at the end of a header (:data:`HEADER_UNIT`), None without one.

    ``Time (ms)``, ``Object 1 : time [s]``, ``brain_weight_[mg]`` and ``time_ms``
    have one; so has ``Time ()``, an empty one (no unit a reader knows); ``Time``
    has none.
    """
    m = HEADER_UNIT.match(str(header).strip())
    if m is None:
        return None
    bracketed = m["unit"] is not None
    return HeaderUnit(m["base"], m["unit"] if bracketed else m["bare"], bracketed)


@dataclass(frozen=True)
class Quantity:
    """What a header names: the reader's column and the units it is read in.

    Attributes
    ----------
    column
        The reader's column.
    units
        Header unit (lower case, no spaces) → factor to :attr:`unit`.
    unit
        The column's unit, as notes show it.
    expected
        The units read, as an error shows them (``mm, cm or µm``).
    elsewhere
        Header units read as written into another column (a thermal test's
        ``Latency (s)`` is its ``value``).
    name
        What an error calls the quantity (``item 'grip_fore'``); default: the
        header's base (``distance``, ``body weight``).

    """

    column: str
    units: Mapping[str, float]
    unit: str
    expected: str
    elsewhere: Mapping[str, str] = field(default_factory=dict)
    name: str = ""


def unit_columns(df: pd.DataFrame, quantities: Mapping[str, Quantity]) -> pd.DataFrame:
    """Headers with a unit as the reader's columns; the conversions kept for :func:`converted`.

    ``quantities``: a header's base name (``distance``, ``body_weight``) → :class:`Quantity`.
    The frame returned has ``attrs['scales']`` (column → factor, header, unit) for
    the columns to convert and ``attrs['header_units']`` (column → header unit,
    header) for every column renamed.

    Raises
    ------
    InputError
        A unit in brackets the quantity is not read in, naming the column and the
        unit; two headers giving one column.

    """
    renames: dict[str, str] = {}
    scales = dict(df.attrs.get("scales", {}))
    written = dict(df.attrs.get("header_units", {}))
    headers = df.attrs.get("headers", {})
    for col in df.columns:
        h = header_unit(col)
        q = quantities.get(h.base) if h else None
        if q is None:
            continue
        unit = h.key
        head = headers.get(col, col)
        target = q.elsewhere.get(unit, q.column)
        factor = 1.0 if unit in q.elsewhere else q.units.get(unit)
        if factor is None and not h.bracketed:
            continue
        if factor is None:
            shown = (header_unit(head) or h).unit
            raise InputError(f"column {head!r}: unit {shown!r} is not one neurotox reads for "
                             f"{q.name or h.base.replace('_', ' ')}; expected {q.expected}",
                             path=df.attrs.get("path"),
                             where=f"row {df.attrs.get('header_row', 1)}")
        if target == col:
            continue
        if target in df.columns or target in renames.values():
            other = next((o for o, n in renames.items() if n == target), target)
            raise InputError(f"columns {head!r} and {headers.get(other, other)!r} both give "
                             f"{target!r}; keep one", path=df.attrs.get("path"))
        renames[col] = target
        written[target] = (unit, head)
        if factor != 1.0:
            scales[target] = (factor, head, q.unit)
    out = df.rename(columns=renames)
    out.attrs["headers"] = {**headers, **{new: headers.get(old, old)
                                          for old, new in renames.items()}}
    out.attrs["scales"] = scales
    out.attrs["header_units"] = written
    return out


def converted(df: pd.DataFrame, *,
              numbers: Callable[[pd.Series], pd.Series] | None = None) -> list[str]:
    """Bring the columns of ``attrs['scales']`` to their unit, in place.

    The columns are numbers by now; or text, read with ``numbers`` (NaN where a
    cell is no number): the numbers are converted and written back as text
    (``1426.6``), other cells left for the reader's own checks.
    Returns a note per column converted: ``w.csv: column 'BW (kg)' converted to g (× 1000)``.
    """
    name = Path(df.attrs.get("path", "")).name
    notes = []
    for col, (factor, head, unit) in df.attrs.get("scales", {}).items():
        if numbers is None:
            df[col] = df[col] * factor
        else:
            v = numbers(df[col])
            df[col] = df[col].where(v.isna(), (v * factor).map(lambda x: f"{x:.10g}"))
        notes.append(f"{name}: column {head!r} converted to {unit} (× {factor:g})")
    return notes
