"""Times written as clocks (``0:02:30``, ``2:30.00``, ``+ 00:03:04.665``): one parser.

Every reader that meets elapsed times written as a clock reads them here:

* ``H:MM:SS`` and ``H:MM:SS.ss`` — Gen5 kinetic tables (``0:02:30``), ANY-maze
  time columns (``0:00:00.25``), EthoVision header durations
  (``+ 00:03:04.665``, with a ``+`` and, in a European export, a decimal comma),
  interval headers (``00:00:00-00:10:00``);
* ``M:SS.ss`` — two parts with a decimal fraction: Gen5 for some readers
  (``2:30.00``, ``0:00.210``), ANY-maze (``01:02.50``); the minutes may pass 59
  (``75:30.00``);
* ``M:SS`` — two parts without a fraction, only where the reader knows the time
  is elapsed minutes and seconds (``mm_ss=True``: interval headers ``00:00-10:00``,
  ANY-maze time columns). Elsewhere ``2:30`` could be hours and minutes and is not
  read as a clock.

Seconds are below 60, and so are minutes after hours: ``0:00:75`` is not a clock.
"""

from __future__ import annotations

import re

_CLOCK = re.compile(r"^\+?\s*(?:(?P<h>\d+):(?=\d{1,2}:))?(?P<m>\d+):"
                    r"(?P<s>\d{1,2})(?P<frac>[.,]\d+)?$")


def clock_seconds(text: object, *, mm_ss: bool = False) -> float | None:
    """Seconds of a time written as a clock; None when ``text`` is not one.

    Parameters
    ----------
    text
        The cell or header text (surrounding spaces are ignored).
    mm_ss
        Read two parts without a decimal fraction (``2:30``) as minutes and
        seconds; by default they are not a clock (hours and minutes?).

    Returns
    -------
    float or None
        ``H * 3600 + M * 60 + S``; None for text that is not a clock (a plain
        number, a word, four parts, seconds of 60 or more, minutes of 60 or more
        after hours).

    """
    m = _CLOCK.match(str(text).strip())
    if m is None or (m["h"] is None and m["frac"] is None and not mm_ss):
        return None
    hours = int(m["h"]) if m["h"] is not None else 0
    minutes, seconds = int(m["m"]), float(m["s"] + (m["frac"] or "").replace(",", "."))
    if seconds >= 60 or (m["h"] is not None and minutes >= 60):
        return None
    return hours * 3600 + minutes * 60 + seconds
