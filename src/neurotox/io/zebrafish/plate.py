"""Plate maps with morphology and mortality calls (Tanguay SARL layouts).

Layouts
-------
Single tab file
    ``plate_id, …, chemical_id, chemical_name, row_id, col_id, value, units, …``
    followed by 0/1 morphology columns (``MO24, DP24, SM24, NC24, MORT, YSE_,
    AXIS, EYE_ …``, ``DNC_``).
Morphology table
    ``chemical.id, [bottle.id], conc, plate|plate.id, well, …`` with the same
    0/1 columns.

Wells without chemical and concentration in a single tab file are vehicle
(media) controls: concentration 0.

Calls: ``MO24`` (dead at 24 hpf) and ``MORT`` (dead at 120 hpf) mark dead
larvae; ``DNC_`` marks wells not to count; any other endpoint scored 1 marks a
malformed larva. Blank scores are not findings. A well listed more than once on
the same plate (a vehicle well shared by the plate's chemicals) is one well when
the rows agree, an error naming both rows when they do not.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from neurotox.errors import InputError
from neurotox.io.zebrafish._tables import (
    load_table,
    normalise_columns,
    numeric,
    plate_id,
)
from neurotox.io.zebrafish.base import Source, norm
from neurotox.io.zebrafish.morphology import merge_shared_wells, well_columns
from neurotox.study import file_row

#: Plate-layout call columns, matched by part of their name (``mortality_24h``):
#: yes/no calls, and findings that may also be named (``pericardial edema``).
LAYOUT_DEATH_COLUMNS = ("mortality", "mort", "dead", "death", "dnc", "affected")
LAYOUT_FINDING_COLUMNS = ("morphology", "malformed", "malformation", "exclude")
#: A layout call cell that calls nothing, and one that calls (case ignored).
NO_CALL = frozenset({"", "0", "0.0", "no", "n", "false", "alive", "none", "normal", "ok"})
YES_CALL = frozenset({"1", "1.0", "yes", "y", "true", "dead", "x"})
_VOCABULARY = "1/0, dead/alive, yes/no, x or empty"

DEATH_CALLS = ("mo24", "mort")
DISCARD_CALLS = ("dnc",)
#: Columns of a plate map that are not morphology calls.
_NOT_CALLS = {"plate_id", "plate", "media_map", "solvent_map", "bottle_id", "chemical_id",
              "chemical_name", "casrn", "row_id", "col_id", "value", "units",
              "date_of_plate", "date", "comment", "conc", "well"}


def read_plate_map(path: str | Path) -> pd.DataFrame:
    """Read a Tanguay plate map / morphology table.

    Returns
    -------
    pandas.DataFrame
        ``plate``, ``well``, ``concentration``, ``chemical``, ``dead``,
        ``malformed``, ``discard`` (bool) and ``calls`` (the endpoints scored 1).

    """
    src = Source(path)
    df = normalise_columns(load_table(src, dtype=str), src=src)
    cols = list(df.columns)
    well, pcol, conc_col = well_columns(df, src, "plate map")
    calls = [c for c in cols if c not in _NOT_CALLS]
    conc = pd.to_numeric(df[conc_col], errors="coerce")
    if "chemical_id" in cols:  # SARL: media-only wells have no chemical and no value
        conc = conc.mask(conc.isna() & df["chemical_id"].fillna("").str.strip().eq(""), 0.0)
    raw = numeric(df, calls, src)[calls]
    frame = pd.DataFrame({"plate": plate_id(df[pcol]).to_numpy(), "well": well.to_numpy(),
                          "concentration": conc.to_numpy(),
                          "chemical": df.get("chemical_id", pd.Series("", index=df.index))
                          .fillna("").to_numpy(), "source_row": range(1, len(df) + 1)})
    frame[calls] = raw.to_numpy(float)
    frame, merged = merge_shared_wells(frame, ["concentration", *calls], src.path)
    scores = frame[calls].fillna(0) > 0
    out = frame[["plate", "well", "concentration", "chemical"]].copy()
    out["dead"] = scores[[c for c in calls if c in DEATH_CALLS]].any(axis=1)
    out["discard"] = scores[[c for c in calls if c in DISCARD_CALLS]].any(axis=1)
    out["malformed"] = scores[[c for c in calls
                               if c not in DEATH_CALLS + DISCARD_CALLS]].any(axis=1)
    out["calls"] = scores.apply(lambda r: ", ".join(c.upper() for c in calls if r[c]), axis=1)
    out.attrs["notes"] = [f"{src.path.name}: {n}" for n in merged]
    return out


def morphology_columns(columns: list[str]) -> list[str]:
    """Names among ``columns`` that are morphology/mortality calls."""
    return [c for c in columns if norm(c) not in _NOT_CALLS]


def layout_call_kind(column: str) -> str | None:
    """``death`` (a yes/no call), ``finding`` (yes/no or the finding's name) or None."""
    name = str(column).lower()
    if any(k in name for k in LAYOUT_DEATH_COLUMNS):
        return "death"
    return "finding" if any(k in name for k in LAYOUT_FINDING_COLUMNS) else None


def check_layout_calls(layout: pd.DataFrame) -> None:
    """Refuse a call cell of a plate layout that says neither yes nor no.

    Yes/no columns (``mortality``, ``dead``, ``DNC`` …) hold 1/0, dead/alive,
    yes/no, true/false, x or nothing (also ``none``, ``normal``, ``ok``); finding
    columns (``morphology``, ``malformed``, ``exclude``) may also name the finding
    (text with a letter). A dash, a question mark or another number could mean
    "none" or "not scored": guessing either would keep a dead larva or drop a
    living one. Blank wells are not read.

    Raises
    ------
    InputError
        Naming the layout file, row and column.

    """
    blank = layout["blank"] if "blank" in layout.columns else pd.Series(False, layout.index)
    for col in [c for c in layout.columns if layout_call_kind(c)]:
        text = layout[col].fillna("").astype(str).str.strip()
        low = text.str.lower()
        ok = low.isin(NO_CALL | YES_CALL)
        if layout_call_kind(col) == "finding":
            ok |= low.str.contains(r"[^\W\d_]", regex=True)   # a named finding
        bad = ~ok & ~blank.astype(bool)
        if bad.any():
            i = int(bad.to_numpy().nonzero()[0][0])
            named = " or the finding's name" if layout_call_kind(col) == "finding" else ""
            raise InputError(f"expected a call: {_VOCABULARY}{named}, found {text.iloc[i]!r}",
                             path=layout.attrs.get("path"),
                             where=f"row {file_row(layout, i)}, column {col!r}")


def read_plate_layouts(path: str | Path) -> dict[str, pd.DataFrame]:
    """Plate layout CSV for zebrafish runs, by plate.

    Without a ``plate`` column the layout applies to every plate (key ``*``);
    with one, each plate gets its own rows. Columns as
    :func:`neurotox.study.read_layout` (``well``, ``group`` and/or
    ``concentration``, optional call columns such as ``mortality``); a study's
    ``plate_layouts`` file is read the same way. Every well of a group must give
    the same concentration (a zebrafish group is one concentration), and every
    call cell must say yes or no (:func:`check_layout_calls`).
    """
    from neurotox.study import read_layout, split_plates

    layout = read_layout(Path(path), multi_plate=True, one_concentration=True)
    check_layout_calls(layout)
    return split_plates(layout)
