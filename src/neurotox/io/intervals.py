"""Interval column headers of wide activity exports (``0-10 min``, ``00:00-10:00``, ``int01``).

A wide motor-activity export has one column per time interval. Two header kinds
are read:

Ranges
    Start and end of the interval with a unit: ``0-10 min``, ``0 - 10 min``,
    ``0–10 min`` (en or em dash, minus sign), ``0 to 10 minutes``, ``0-10 mins``,
    ``0-600 s``, ``0-600 sec``, ``0-1 h``; clock ranges ``00:00-10:00`` (mm:ss)
    and ``00:00:00-00:10:00`` (hh:mm:ss). A range without a unit (``0-10``) is
    refused: minutes or seconds?
Numbers
    ``int01``, ``interval_1``, ``bin_2``, ``Bin 3``: the interval's position, no
    length.

The header is parsed as the file writes it (before the reader lower-cases it and
turns spaces and dots into ``_``), so ``0.5-1 min`` keeps its decimal point.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from neurotox.io.clock import clock_seconds

#: Characters read as the dash of a range: hyphen-minus, hyphen, non-breaking hyphen,
#: figure dash, en dash, em dash, horizontal bar, minus sign.
DASHES = "-\u2010\u2011\u2012\u2013\u2014\u2015\u2212"

_NUM = r"\d+(?:[.,]\d+)?"
_CLOCK = r"\d{1,2}:\d{2}(?::\d{2})?"
_UNITS = {"min": 1.0, "mins": 1.0, "minute": 1.0, "minutes": 1.0, "m": 1.0,
          "s": 1 / 60, "sec": 1 / 60, "secs": 1 / 60, "second": 1 / 60, "seconds": 1 / 60,
          "h": 60.0, "hr": 60.0, "hrs": 60.0, "hour": 60.0, "hours": 60.0}
_UNIT = r"(?:minutes|minute|mins|min|m|seconds|second|secs|sec|s|hours|hour|hrs|hr|h)"
_RANGE = re.compile(
    rf"^\(?\s*(?P<a>{_NUM}|{_CLOCK})\s*(?P<ua>{_UNIT})?\.?\s*"
    rf"(?:[{DASHES}]|to)\s*(?P<b>{_NUM}|{_CLOCK})\s*\(?\s*(?P<ub>{_UNIT})?\.?\s*\)?$")
_NUMBERED = re.compile(r"^(?:int|interval|bin|i|b)[\s_.#-]*0*(?P<k>\d+)$")


class IntervalHeaderError(ValueError):
    """A header that looks like an interval but cannot be read (the message says why)."""


@dataclass(frozen=True)
class Interval:
    """One interval column: start and end in minutes (ranges), or its number only."""

    start: float = math.nan
    end: float = math.nan
    number: int | None = None

    @property
    def minutes(self) -> float:
        """Length in minutes (NaN for a numbered column)."""
        return self.end - self.start


def _clock_minutes(text: str) -> float:
    """Minutes of ``mm:ss`` (elapsed time in a session) or ``hh:mm:ss``."""
    seconds = clock_seconds(text, mm_ss=True)
    if seconds is None:
        raise IntervalHeaderError(f"{text!r} is not a clock time (minutes and seconds < 60)")
    return seconds / 60


def _bound(text: str, unit: float) -> float:
    if ":" in text:
        return _clock_minutes(text)
    return float(text.replace(",", ".")) * unit


def parse_interval(header: str) -> Interval | None:
    """The interval a column header names, or None when it names no interval.

    Raises
    ------
    IntervalHeaderError
        A range without a unit, with two different units, or ending before it starts.

    """
    text = " ".join(str(header).split()).lower()
    m = _NUMBERED.match(text)
    if m:
        return Interval(number=int(m.group("k")))
    m = _RANGE.match(text)
    if m is None:
        return None
    a, b, ua, ub = m.group("a"), m.group("b"), m.group("ua"), m.group("ub")
    clock = ":" in a or ":" in b
    if clock and (":" not in a or ":" not in b or a.count(":") != b.count(":")):
        raise IntervalHeaderError("write both ends of a clock range the same way "
                                  "('00:00-10:00' or '00:00:00-00:10:00')")
    if not clock and ub is None:
        raise IntervalHeaderError("the range has no unit: write '0-10 min' or '0-600 s'")
    if ua is not None and ub is not None and _UNITS[ua] != _UNITS[ub]:
        raise IntervalHeaderError("the two ends of the range have different units")
    unit = _UNITS[ub or ua] if (ub or ua) else 1.0
    start, end = _bound(a, unit), _bound(b, unit)
    if not end > start:
        raise IntervalHeaderError("the range ends before it starts")
    return Interval(start=start, end=end)
