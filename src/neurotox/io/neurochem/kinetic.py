"""Kinetic plate reads (absorbance over time per well) for enzyme assays such as Ellman's.

Accepted layouts:

* a Gen5 text export with a kinetic table (``Time<TAB>T° …<TAB>A1 …``) and its
  ``Layout`` grid (see :mod:`neurotox.io.neurochem.gen5`);
* a wide table: a time column (``time``, ``time_s``, ``time (min)``; seconds unless
  the header says minutes; a bare ``time`` of numbers is seconds only when its reads
  are 10 or more apart, else refused as a likely minutes column; ``h:mm:ss``
  accepted) and one column per well (``A1``,
  ``A01``);
* a long table: ``well``, ``time`` and a signal column (``od``, ``absorbance``,
  ``value``).

Without a Gen5 layout the wells are described by a plate map (the plain plate
table without a signal: :func:`~neurotox.io.neurochem.plate_table.read_plate_map`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from neurotox.errors import FormatError, quoted
from neurotox.io.clock import clock_seconds
from neurotox.io.neurochem import gen5
from neurotox.io.neurochem.base import (
    Source,
    format_errors,
    normalise_well,
    number,
)
from neurotox.io.neurochem.plate_table import columns_of, load_table

READ_COLUMNS = ("plate", "well", "time_s", "value")
_TIME_NAMES = ("time", "time s", "time_s", "time (s)", "time [s]", "seconds", "time (min)",
               "time [min]", "time min", "minutes", "min")


@dataclass
class KineticReads:
    """Kinetic reads of one file.

    Attributes
    ----------
    path
        File read.
    reads
        ``plate, well, time_s, value`` (one row per well and read).
    layout
        Per plate: well → ``type``, ``sample``, ``dilution`` (empty unless the file
        carries a layout).
    notes
        What was read and decided.

    """

    path: Path
    reads: pd.DataFrame
    layout: dict[str, dict[str, dict]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def _time_column(columns: list[str]) -> str | None:
    for c in columns:
        if re.sub(r"\s+", " ", c.strip().lower()) in _TIME_NAMES:
            return c
    return None


def is_kinetic_table(path: str | Path) -> bool:
    """True for a Gen5 export with a kinetic table or a table with a time column."""
    src = Source(path)
    if gen5.match(src):
        return any(ln.split("\t")[0].strip() == "Time" for ln in src.text().splitlines())
    try:
        table, _ = load_table(src)
    except FormatError:
        return _header_has_time(src)
    return _time_column(list(table.columns)) is not None


def _header_has_time(src: Source) -> bool:
    """A damaged table (cut line, repeated column) whose header names a time column.

    Such a file is still a kinetic table: :func:`read_kinetic` then reports the damage
    (line, "truncated", "appears twice") instead of a layout mismatch.
    """
    if src.container in ("xls", "xlsx"):
        return False
    try:
        first = next((ln for ln in src.text().splitlines() if ln.strip()), "")
    except FormatError:
        return False
    return _time_column(re.split(r"[,;\t]", first)) is not None


def _seconds(text: str, minutes: bool, path: Path, where: str) -> float:
    clock = clock_seconds(text)
    if clock is not None:
        return clock
    v = number(text, path=path, where=where, allow_missing=False)
    return v * 60 if minutes else v


@format_errors
def read_kinetic(path: str | Path) -> KineticReads:
    """Read kinetic plate reads (see the module docstring).

    Raises
    ------
    FormatError
        No time column, unreadable times or values, times that do not increase,
        fewer than three reads per well.

    """
    src = Source(path)
    if gen5.match(src):
        reads, layouts, notes = gen5.kinetic_reads(src)
        out = KineticReads(src.path, reads, layouts, notes)
    else:
        out = _read_table(src)
    _check(out)
    return out


def _read_table(src: Source) -> KineticReads:
    table, notes = load_table(src)
    cols = list(table.columns)
    tcol = _time_column(cols)
    if tcol is None:
        raise FormatError(f"expected a time column ({quoted(_TIME_NAMES)}), found "
                          f"{quoted(cols)}", path=src.path)
    minutes = "min" in tcol.lower()
    pos = columns_of(cols)
    if "well" in pos and "signal" in pos:
        well_col, sig_col = cols[pos["well"]], cols[pos["signal"]]
        rows = [(normalise_well(r[well_col]), r[tcol], r[sig_col], line)
                for line, r in table.iterrows()]
    else:
        wells = {c: normalise_well(c) for c in cols if normalise_well(c)}
        if not wells:
            raise FormatError(f"expected well columns (A1, A2 …) or 'well' and 'od' columns, "
                              f"found {quoted(cols)}", path=src.path)
        rows = [(w, r[tcol], r[c], line) for line, r in table.iterrows()
                for c, w in wells.items()]
    data = []
    for well, t, v, line in rows:
        if well is None:
            raise FormatError("expected a well like 'A1'", path=src.path, where=f"row {line}")
        where = f"row {line}"
        data.append({"plate": src.path.stem, "well": well,
                     "time_s": _seconds(t, minutes, src.path, f"{where}, column {tcol!r}"),
                     "value": number(v, path=src.path, where=f"{where}, well {well}")})
    reads = pd.DataFrame(data, columns=list(READ_COLUMNS))
    if _bare(tcol) and not all(clock_seconds(str(t)) is not None for t in table[tcol]):
        notes.append(_bare_time_note(reads, tcol, src.path))
    else:
        notes.append(f"{src.path.name}: kinetic table, time in "
                     f"{'minutes' if minutes else 'seconds'}")
    return KineticReads(src.path, reads, {}, notes + _spacing_warning(reads, tcol, src.path))


#: Plate reads closer than this (s) are implausible: a plate read takes several seconds.
MIN_READ_INTERVAL_S = 3.0
#: Ellman kinetic reads are 10 s – 2 min apart: a time column without a unit is taken
#: as seconds only when its reads are at least this far apart (as minutes: 10 min).
BARE_TIME_MIN_STEP = 10.0


def _bare(tcol: str) -> bool:
    return re.sub(r"\s+", " ", tcol.strip().lower()) == "time"


def _median_step(reads: pd.DataFrame) -> float:
    steps = reads.sort_values("time_s").groupby(["plate", "well"])["time_s"].diff().dropna()
    return float(steps.median()) if len(steps) else float("nan")


def _bare_time_note(reads: pd.DataFrame, tcol: str, path: Path) -> str:
    """The unit of a time column that names none, from its spacing; refused when unclear.

    Reads at least :data:`BARE_TIME_MIN_STEP` apart are seconds (as minutes they
    would be 10 min or more apart, beyond an Ellman read interval); closer reads
    (``0, 1, 2 …`` written by a reader set to 1-min intervals) would give rates
    60× too high if they were minutes, so the unit must be named.
    """
    step = _median_step(reads)
    if not step >= BARE_TIME_MIN_STEP:
        raise FormatError(f"column {tcol!r} names no time unit and its reads are {step:g} "
                          "apart (median): minutes? (Ellman reads are 10 s – 2 min apart; "
                          f"read as seconds every rate would be 60× too high); name it "
                          "'time (min)' or 'time (s)'", path=path)
    return (f"{path.name}: kinetic table, column {tcol!r} names no time unit; its reads "
            f"{step:g} apart (median) taken as seconds (as minutes they would be beyond the "
            "10 s – 2 min of Ellman reads)")


def _spacing_warning(reads: pd.DataFrame, tcol: str, path: Path) -> list[str]:
    """A warning when the reads of a well are under 3 s apart (minutes read as seconds?)."""
    step = _median_step(reads)
    if not step < MIN_READ_INTERVAL_S:
        return []
    return [f"warning: {path.name}, column {tcol!r}: reads are {step:g} s apart (median), "
            f"under {MIN_READ_INTERVAL_S:g} s, which no plate reader does: minutes in a column "
            "read as seconds? Name it 'time (min)' (rates would be 60× too high)"]


def _check(out: KineticReads) -> None:
    r = out.reads
    if r.empty:
        raise FormatError("expected kinetic reads, found none", path=out.path)
    if not np.all(np.isfinite(r["time_s"])) or (r["time_s"] < 0).any():
        raise FormatError("expected read times >= 0", path=out.path)
    dup = r.duplicated(["plate", "well", "time_s"])
    if dup.any():
        w = r[dup].iloc[0]
        raise FormatError(f"well {w['well']} has two reads at {w['time_s']:g} s", path=out.path)
    n = r.groupby(["plate", "well"])["time_s"].nunique()
    if (n < 3).any():
        raise FormatError(f"well {n.idxmin()[1]} has {n.min()} read(s); a rate needs at least 3",
                          path=out.path)


def rates(reads: pd.DataFrame, window: tuple[float, float] | None = None) -> pd.DataFrame:
    """Least-squares rate of every well (signal per minute) over a time window.

    Parameters
    ----------
    reads
        ``plate, well, time_s, value``.
    window
        ``(start, end)`` seconds; None for every read.

    Returns
    -------
    pandas.DataFrame
        ``plate, well, rate_per_min, r2, n`` (NaN rate where fewer than three finite
        reads fall in the window).

    """
    r = reads
    if window is not None:
        r = r[(r["time_s"] >= window[0]) & (r["time_s"] <= window[1])]
    r = r[np.isfinite(r["value"])]
    t = r["time_s"] / 60.0
    g = r.assign(t=t, y=r["value"], tt=t * t, ty=t * r["value"],
                 yy=r["value"] ** 2).groupby(["plate", "well"], sort=False)
    s = g[["t", "y", "tt", "ty", "yy"]].sum()
    n = g.size()
    sxx = s["tt"] - s["t"] ** 2 / n
    sxy = s["ty"] - s["t"] * s["y"] / n
    syy = s["yy"] - s["y"] ** 2 / n
    with np.errstate(all="ignore"):
        slope = np.where((n >= 3) & (sxx > 0), sxy / sxx, np.nan)
        r2 = np.where(syy > 0, sxy ** 2 / (sxx * syy), 1.0)
    out = pd.DataFrame({"rate_per_min": slope, "r2": r2, "n": n}, index=s.index)
    return out.reset_index()


def layout_frame(layout: dict[str, dict[str, dict]]) -> pd.DataFrame:
    """A Gen5 layout (plate → well → info) as a plate-map frame."""
    rows = [{"plate": plate, "well": well, "type": info["type"], "sample": info["sample"],
             "dilution": info["dilution"]}
            for plate, wells in layout.items() for well, info in wells.items()]
    return pd.DataFrame(rows, columns=["plate", "well", "type", "sample", "dilution"])
