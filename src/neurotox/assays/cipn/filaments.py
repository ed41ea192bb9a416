"""How a sheet names its von Frey filaments: by number or by marking, decided per sheet.

Labs write the last filament of a session as its number in the set (``5``, 1 =
weakest) or as the marking printed on it (``0.4``, ``0.4 g``; for sets marked
with evaluator sizes, also the nominal grams). Where a marking is itself a
whole number (the mouse set's ``1``, ``2``, ``6``; the rat set's ``1``, ``2``,
``4``, ``6``, ``8`` g), one cell cannot tell: ``2`` is filament 2 (0.023 g) or
the 2 g filament (2.041 g). The whole filament column of a sheet decides
(:func:`column_reading`): a cell that can only be a marking (``0.4``) makes the
column markings, one that can only be a number (``5``) makes it numbers; a
column whose every cell can be read both ways is refused unless the protocol
parameter ``filament_labels`` says which. A column with both kinds is an error.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from neurotox.assays.cipn.updown import MARKING, NUMBER, FilamentSet
from neurotox.errors import InputError
from neurotox.io.battery import header_of


def _cell(df: pd.DataFrame, i: int) -> str:
    """``'2' (row 5, session day-1)``."""
    return (f"{df['filament'].iloc[i]!r} (row {int(df['row'].iloc[i])}, session "
            f"{df['timepoint'].iloc[i]})")


def column_reading(df: pd.DataFrame, fs: FilamentSet, setting: str) -> tuple[str | None, str]:
    """How the ``filament`` column of one sheet names filaments, and why.

    Parameters
    ----------
    df
        One test's rows of one sheet (``filament``, ``row``, ``timepoint``).
    fs
        The protocol's filament set.
    setting
        ``auto``, ``number`` or ``marking`` (protocol parameter ``filament_labels``).

    Returns
    -------
    tuple
        ``number`` or ``marking`` (None when the column has no filament in the
        set: the cells' own errors follow), and a sentence for the run notes.

    Raises
    ------
    InputError
        ``auto`` and the column holds cells that can only be numbers and cells that
        can only be markings, or only cells that can be either (naming file,
        column, a cell and its two readings).

    """
    column = (header_of(df, "filament") if "filament" in df.attrs.get("headers", {})
              else "filament (session cells)")
    if setting != "auto":
        return setting, f"filaments in column {column!r} read as {setting}s (filament_labels)"
    cells = df["filament"].astype(str).str.strip()
    kinds = [frozenset(fs.readings(c)) if c else frozenset() for c in cells]
    only = {k: np.flatnonzero([r == {k} for r in kinds]) for k in (NUMBER, MARKING)}
    path = df.attrs.get("path")
    if len(only[NUMBER]) and len(only[MARKING]):
        i, j = int(only[NUMBER][0]), int(only[MARKING][0])
        raise InputError(f"column {column!r} names filaments by number ({_cell(df, i)}) and by "
                         f"marking ({_cell(df, j)}): write one or the other (or set the "
                         "protocol parameter filament_labels)", path=path,
                         where=f"row {int(df['row'].iloc[j])}, column {column!r}")
    for kind in (NUMBER, MARKING):
        if len(only[kind]):
            i = int(only[kind][0])
            return kind, (f"filaments in column {column!r} read as {kind}s: "
                          f"{_cell(df, i)} can only be a filament {kind}")
    both = [i for i, r in enumerate(kinds) if len(r) == 2]
    if not both:
        return None, ""
    i = both[0]
    values = ", ".join(sorted({cells.iloc[k] for k in both}, key=float))
    raise InputError(f"every filament in column {column!r} ({values}) is both a filament "
                     "number and a marking, so the column can be read two ways: "
                     f"{_cell(df, i)} is {fs.both(cells.iloc[i])}; set the protocol "
                     "parameter filament_labels to 'number' or 'marking'", path=path,
                     where=f"row {int(df['row'].iloc[i])}, column {column!r}")
