"""Per-sample tracking exports: time units and gaps in time, shared by the rodent readers.

EthoVision XT raw data (:mod:`.ethovision`), ANY-maze zone samples
(:mod:`.anymaze`) and ANY-maze results sheets (:mod:`.tables`, a unit in a
column's header, split off by :mod:`neurotox.io.header_units` as the battery and
CIPN sheets' are) read their time units from one table, and the two per-sample
readers find and count the samples absent from the time column (a gap) with one
rule, parameterised by how regular each tracker's sampling is, and count the
samples a body point was lost in (:func:`lost_per_point`).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np

from neurotox.errors import FormatError
from neurotox.io.header_units import HeaderUnit, header_unit

#: Time units a tracking export may write (units row, or ``(ms)`` in a header), as s per unit.
TIME_UNITS = {"s": 1.0, "sec": 1.0, "secs": 1.0, "second": 1.0, "seconds": 1.0,
              "ms": 1e-3, "msec": 1e-3, "millisecond": 1e-3, "milliseconds": 1e-3,
              "min": 60.0, "mins": 60.0, "minute": 60.0, "minutes": 60.0,
              "h": 3600.0}
#: The units named in error messages (the other keys are spellings of these).
TIME_UNIT_NAMES = "s, ms, min or h"


def seconds_per(unit: str) -> float | None:
    """Seconds per ``unit`` (case-blind, stripped; '' = seconds); None when unknown."""
    u = unit.strip().lower()
    return 1.0 if not u else TIME_UNITS.get(u)


def time_unit(column: str) -> HeaderUnit | None:
    """The time unit of a column header (:func:`neurotox.io.header_units.header_unit`).

    In brackets (``Time (ms)``, ``Object 1 : time [min]``) whatever it says; after
    an underscore only when it is a time unit (``time_ms``, not ``trial_time``).
    """
    unit = header_unit(column)
    if unit is None or (not unit.bracketed and unit.key not in TIME_UNITS):
        return None
    return unit


def header_seconds_per(column: str, path: Path) -> float:
    """Seconds per unit of a time column from the unit in its header (none: seconds).

    An unknown unit in brackets (``Time (frames)``) is a FormatError naming the column
    and the unit.
    """
    unit = time_unit(column)
    if unit is None:
        return 1.0
    scale = TIME_UNITS.get(unit.key)
    if scale is None:
        raise FormatError(f"unknown time unit {unit.unit!r} in the header (expected "
                          f"{TIME_UNIT_NAMES})", path=path, where=f"column {column!r}")
    return scale


def gap_steps(steps: np.ndarray, interval: float, *, factor: float,
              min_s: float = 0.0) -> np.ndarray:
    """Which steps between samples are gaps: over ``factor`` sample intervals and ``min_s``.

    No step is a gap when the interval is unknown (NaN) or not positive.
    """
    steps = np.asarray(steps, float)
    if not np.isfinite(interval) or interval <= 0:
        return np.zeros(len(steps), bool)
    return (steps > factor * interval) & (steps > min_s)


def samples_in_gaps(steps: np.ndarray, gaps: np.ndarray, interval: float) -> int:
    """Samples absent from the gap steps: each gap's length in ``interval`` rounded, less one.

    The sample before a gap is in the export; the rest of the gap is lost.
    """
    steps, gaps = np.asarray(steps, float), np.asarray(gaps, bool)
    if not gaps.any():
        return 0
    return int(np.round(steps[gaps] / interval).sum() - gaps.sum())


def lost_per_point(missing: Iterable[tuple[str, np.ndarray]], *, every: bool) -> dict[str, int]:
    """Samples each body point was lost in, from (point, missing mask) of its zone columns.

    ``every=False``: lost when any zone column of the point is missing (EthoVision
    writes ``-`` in every zone column of a point it did not find, so one ``-`` is
    a lost sample); ``every=True``: lost only when every zone column of the point
    is empty (ANY-maze leaves a cell empty for other reasons too).
    """
    lost: dict[str, np.ndarray] = {}
    for point, mask in missing:
        mask = np.asarray(mask, bool)
        if point not in lost:
            lost[point] = mask.copy()
        else:
            lost[point] = lost[point] & mask if every else lost[point] | mask
    return {p: int(m.sum()) for p, m in lost.items()}
