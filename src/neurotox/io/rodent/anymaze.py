"""ANY-maze per-sample zone exports (csv/txt or xlsx): one row per sample, one 0/1 column per zone.

Layout: a header row with a time column (``Time``: ``H:MM:SS.ss``, ``MM:SS.ss``
or seconds; ``Time (ms)`` or another unit in the header: numbers in that unit,
converted to seconds and noted) and zone columns ``In <zone>`` (the animal's centre in the zone) or
``<Head|Nose|Tail> in <zone>`` (that body point), each 0 or 1 per sample;
position columns (``Centre posn X`` ...) are ignored. ANY-maze writes a sample
when something changes, so samples are not evenly spaced: each sample lasts
until the next one (the last one a median step).

Identity: the subject comes from an ``Animal``/``Animal ID``/``Subject``
column and the trial from ``Test``/``Trial`` when the export has them (one value
per file); otherwise the file name's stem is the subject, said in the notes.
A ``subject`` given by the caller (the protocol's ``file_subjects``) wins.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from neurotox.errors import FormatError, quoted
from neurotox.io.clock import clock_seconds
from neurotox.io.rodent.base import (
    Reader,
    RodentData,
    find_column,
    identity,
    raw_rows,
    read_sheet,
    register_reader,
    to_float,
)
from neurotox.io.rodent.samples import (
    gap_steps,
    header_seconds_per,
    lost_per_point,
    samples_in_gaps,
    time_unit,
)

_ZONE = re.compile(r"^(?:(?P<point>head|nose|tail|centre|center|body)\s+)?in\s+(?P<zone>.+)$",
                   re.IGNORECASE)
_TIME = ("time", "time_s", "time_(s)", "trial_time", "test_time")
_ANIMAL = ("animal", "animal_id", "animal_no", "subject", "subject_id")
_TRIAL = ("test", "test_no", "trial", "trial_no", "trial_name")


def zone_columns(columns: list[str]) -> dict[str, str]:
    """``{column: '<point>:<zone>'}`` for the zone columns of a header (centre = ``center``)."""
    out = {}
    for c in columns:
        m = _ZONE.match(str(c).strip())
        if m and not m.group("zone").lower().startswith("zone("):   # EthoVision's In zone(...)
            point = (m.group("point") or "center").lower().replace("centre", "center")
            out[c] = f"{point}:{m.group('zone').strip()}"
    return out


def _time_column(columns: list[str]) -> str | None:
    """The time column, its unit in the header set aside (``Time (ms)`` is a time column)."""
    for c in columns:
        unit = time_unit(c)
        key = re.sub(r"[\s_\-]+", "_", (unit.base if unit else str(c)).strip().lower())
        if key in _TIME or re.sub(r"[\s_\-]+", "_", str(c).strip().lower()) in _TIME:
            return c
    return None


def _match(path: Path) -> bool:
    rows = raw_rows(path, max_rows=2)
    if not rows:
        return False
    head = [str(c).strip() for c in rows[0] if c is not None]
    return _time_column(head) is not None and len(zone_columns(head)) >= 1


def _sample_seconds(text: str) -> float | None:
    """Seconds of one time cell: a clock (``mm:ss`` too) or a number >= 0; None otherwise."""
    clock = clock_seconds(text, mm_ss=True)
    return clock if clock is not None else _sample_number(text)


def _sample_number(text: str) -> float | None:
    """A number >= 0 of one time cell; None otherwise."""
    try:
        v = float(text)
    except ValueError:
        return None
    return v if np.isfinite(v) and v >= 0 else None


def time_seconds(values: pd.Series, *, path: Path, column: str, scale: float = 1.0
                 ) -> np.ndarray:
    """Seconds from ``H:MM:SS.ss``, ``MM:SS.ss`` or plain numbers; FormatError naming the row.

    Clocks are read by :func:`neurotox.io.clock.clock_seconds`. With ``scale`` (s per
    unit of a unit in the header, 0.001 for ``Time (ms)``) only plain numbers are read.
    """
    s = values.astype(str).str.strip()
    out = np.full(len(s), np.nan)
    for i, text in enumerate(s):
        v = _sample_seconds(text) if scale == 1.0 else _sample_number(text)
        if v is None:
            wanted = "a time like '0:01:02.50' or seconds" if scale == 1.0 else \
                "a number in the header's unit"
            raise FormatError(f"expected {wanted}, found {text!r}",
                              path=path, where=f"row {i + 2}, column {column!r}")
        out[i] = v * scale
    back = np.flatnonzero(np.diff(out) < 0)
    if len(back):
        i = int(back[0]) + 1
        raise FormatError(f"time {s.iloc[i]!r} is earlier than the sample before it "
                          f"({s.iloc[i - 1]!r})", path=path,
                          where=f"row {i + 2}, column {column!r}")
    return out


def _flags(df: pd.DataFrame, zones: dict[str, str], path: Path
           ) -> tuple[dict[str, np.ndarray], int, dict[str, int]]:
    """0/1 zone flags (empty = 0), the number of empty cells, and lost samples per point.

    A sample is lost for a body point when every zone cell of that point is empty
    (the animal not found: ``-`` or nothing).
    """
    out, blanks, missing = {}, 0, []
    for c, name in zones.items():
        v = to_float(df[c], path=path, column=c)
        bad = v.notna() & ~v.isin([0.0, 1.0])
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            raise FormatError(f"expected 0 or 1 (zone membership), found {df[c].iloc[i]!r}",
                              path=path, where=f"row {i + 2}, column {c!r}")
        blanks += int(v.isna().sum())
        missing.append((name.split(":")[0], v.isna().to_numpy()))
        out[name] = v.fillna(0).to_numpy(float)
    return out, blanks, lost_per_point(missing, every=True)


#: A step between samples this many times the usual one (and over a second) is a gap:
#: the samples it should hold count as lost (ANY-maze logs every 0.1-0.2 s).
GAP_STEPS = 4.0


def _one_value(df: pd.DataFrame, aliases: tuple[str, ...], path: Path, what: str
               ) -> str | None:
    """The one value of the ``what`` column (animal, test), or None without the column.

    A second value is an error naming the row where the second ``what`` starts
    (two animals or tests exported into one file), before any check of the times,
    which start again there.
    """
    col = find_column(df, aliases, path=path, required=False)
    if col is None:
        return None
    given = df[col][df[col] != ""]
    values = sorted(set(given))
    if len(values) > 1:
        i = int(np.flatnonzero((given != given.iloc[0]).to_numpy())[0])
        raise FormatError(f"a second {what} ({given.iloc[i]!r}, after {given.iloc[0]!r}) starts "
                          f"here; expected one value in column {col!r} (one test per file), "
                          f"found {quoted(values)}: split the file by {what}", path=path,
                          where=f"row {given.index[i] + 2}, column {col!r}")
    return values[0] if values else None


def read_anymaze_samples(path: Path, *, subject: str | None = None, **_: Any) -> RodentData:
    """Read an ANY-maze per-sample zone export into zone flags (kind ``zone_samples``).

    Returns
    -------
    RodentData
        ``table``: ``time_s`` and one 0/1 column ``<point>:<zone>`` per zone
        column (``center:top`` for ``In top``, ``head:object 1`` for ``Head in
        object 1``); ``meta``: ``subject``, ``trial``, ``sample_interval_s`` (median
        step), ``sample_durations`` (s, each sample until the next) and ``start_time``.

    """
    df = read_sheet(path)
    tcol = _time_column(list(df.columns))
    if tcol is None:
        tcol = find_column(df, _TIME, path=path)
    scale = header_seconds_per(tcol, path)
    zones = zone_columns(list(df.columns))
    if not zones:
        raise FormatError(f"expected zone columns 'In <zone>' or 'Head in <zone>', found "
                          f"{quoted(df.columns)}", path=path)
    if df.empty:
        raise FormatError("anymaze-zone-samples: expected data rows below the header, found "
                          "none", path=path)
    found = _one_value(df, _ANIMAL, path, "animal")
    trial = _one_value(df, _TRIAL, path, "test") or path.stem
    times = time_seconds(df[tcol], path=path, column=tcol, scale=scale)
    flags, blanks, lost = _flags(df, zones, path)
    step = float(np.median(np.diff(times))) if len(times) > 1 else np.nan
    durations = np.diff(times, append=times[-1] + (step if np.isfinite(step) else 0.0))
    gap = gap_steps(durations, step, factor=GAP_STEPS, min_s=1.0)
    gap_samples = samples_in_gaps(durations, gap, step)
    durations[gap] = step     # the sample before a gap lasts one step: the gap is lost time
    subj, how = identity(found, subject, path, "subject")
    notes = [f"{path.name}: {how}; {len(times)} samples, {times[-1] - times[0]:.2f} s, zones "
             f"{', '.join(zones.values())}"]
    if scale != 1.0:
        notes.append(f"{path.name}: times converted to s from the unit in the header of "
                     f"{tcol!r} (x {scale:g})")
    if blanks:
        notes.append(f"{path.name}: {blanks} empty zone cell(s) read as 'not in the zone'")
    table = pd.DataFrame({"time_s": times, **flags})
    return RodentData("zone_samples", path, "anymaze-zone-samples", table=table,
                      meta={"subject": subj, "trial": trial, "start_time": "",
                            "sample_interval_s": round(step, 6) if np.isfinite(step) else step,
                            "sample_durations": durations, "missing_samples": lost,
                            "gap_samples": gap_samples,
                            "n_samples": len(times)}, notes=notes)


register_reader(Reader("anymaze-zone-samples", "zone_samples",
                       "ANY-maze zone samples csv/xlsx (Time + 'In <zone>' 0/1 columns per sample)",
                       _match, read_anymaze_samples))
