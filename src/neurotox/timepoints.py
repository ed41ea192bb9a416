"""Time order of timepoint labels: the one rule every statistic, table and figure uses.

Timepoints are labels in the EndpointTable (``day-1``, ``pretest_bin03``,
``PND21``, ``week4``, ``-1``), so their order must be read from the label:

1. Sessions before dosing named so (:data:`PRE_DOSE_NAMES`: ``pretest``,
   ``pre-dose``, ``baseline``, ``BL``, ``acclimation`` ..., also with a bin:
   ``pretest_bin03``) come first.
2. Then every other label, by its parts: numbers compare as signed numbers
   (``day-1`` before ``day3``, ``-1`` before ``3``, ``bin2`` before ``bin10``),
   text alphabetically (case-insensitive). A count of hours, days or weeks
   compares in days, so ``day21`` comes before ``week4``, ``24hpf`` before
   ``5dpf``, and ``3`` ties ``day3``.
3. Missing labels (``NA``, empty) and the all-timepoints row ``ALL`` come last.

Ties (``Day3`` and ``day3``) are broken by the label itself, so the order is total
and the same on every run.

Labels that differ only in letter case, spaces or punctuation (``Pretest``,
``pre-test``, ``pretest``; ``Day7``, ``day 7``) are one session typed two ways:
:func:`label_key` says so, and the EndpointTable refuses such pairs within one
assay (:func:`neurotox.endpoints.validate`). A minus sign before a number is not
punctuation (``day-1`` and ``day1`` are different days).
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable
from typing import Any

#: The spellings of a baseline session, the one list every reader, assay and report
#: uses, compared by :func:`label_key` (letter case, spaces, ``-`` and ``_`` aside):
#: ``baseline``, ``BL``, ``pre``, ``pretest``, ``pre-dose``, ``pre-treatment``,
#: ``pre-exposure``.
BASELINE_NAMES = ("baseline", "bl", "pre", "pretest", "predose", "pretreatment",
                  "preexposure")
#: Sessions recorded before the first dose, named as such: a baseline or ``acclimation``.
PRE_DOSE_NAMES = (*BASELINE_NAMES, "acclimation")

#: A number; a minus sign belongs to it at the start or after a letter, space or
#: underscore (``day-1``, ``day -1``, ``-1``), not after a digit (``1-2`` is a range).
_NUMBER = re.compile(r"((?:(?:^|(?<=[A-Za-z_ ]))[-−])?\d+(?:\.\d+)?)")

#: Units converted to days, so counts in different units compare: before the
#: number (``day3``, ``week 4``) or after it (``24h``, ``5dpf``).
_DAYS = {"h": 1 / 24, "hr": 1 / 24, "hour": 1 / 24, "d": 1.0, "day": 1.0, "w": 7.0,
         "wk": 7.0, "week": 7.0}
_DAYS_AFTER = {**_DAYS, "min": 1 / 1440, "hpf": 1 / 24, "dpf": 1.0}

_LAST = {"", "NA", "NAN", "NONE", "ALL"}

#: Spaces and punctuation that do not tell two labels apart: any but a dash before
#: a digit (a minus sign: ``pre-test`` ~ ``pretest``, but ``day-1`` is not ``day1``)
#: and any between two digits (``day1.5`` is not ``day15``).
_IGNORED = re.compile(r"[\s_.,;:/\\'\"()\[\]](?!\d)|(?<!\d)[\s_.,;:/\\'\"()\[\]]"
                      r"|[-\u2010-\u2015](?!\s*\d)")


def label_key(label: object) -> str:
    """What a timepoint label says, without letter case, spaces and punctuation.

    ``Pretest``, ``pre-test`` and ``PRE_TEST`` give ``pretest``; ``Day 7`` and
    ``day7`` give ``day7``; ``day-1`` stays ``day-1``. Full-width characters are
    read as ASCII (NFKC).
    """
    text = unicodedata.normalize("NFKC", str(label)).replace("\u2212", "-")
    return _IGNORED.sub("", text).casefold()


def is_pre_dose_name(label: object) -> bool:
    """True for a session named as before dosing (:data:`PRE_DOSE_NAMES`): ``BL``, ``Pre-test``."""
    return label_key(label) in PRE_DOSE_NAMES


#: Words before a count that name its unit, to one spelling (``D-1`` is ``day-1``).
_UNIT_WORDS = {"d": "day", "day": "day", "days": "day", "w": "week", "wk": "week",
               "week": "week", "weeks": "week", "h": "hour", "hr": "hour", "hour": "hour",
               "hours": "hour"}


def session_key(label: object) -> str:
    """What session a label names, whatever its spelling.

    :func:`label_key`, with every baseline spelling (:data:`BASELINE_NAMES`) as
    ``baseline`` and a unit word spelled one way: ``BL``, ``Pre-dose`` and
    ``baseline`` give ``baseline``; ``D-1``, ``Day -1`` and
    ``day-1`` give ``day-1``; ``W4`` gives ``week4``. ``day-1`` and ``baseline`` stay
    apart (a numbered session is not known to be the baseline).
    """
    key = label_key(label)
    if key in BASELINE_NAMES:
        return "baseline"
    m = re.fullmatch(r"([a-z]+)(-?\d.*)", key)
    if m and m.group(1) in _UNIT_WORDS:
        return _UNIT_WORDS[m.group(1)] + m.group(2)
    return key


def _parts(text: str) -> list[tuple[int, Any]]:
    """``day-1_bin02`` → [(0, -1.0), (1, '_bin'), (0, 2.0)]: numbers (0, x), text (1, s)."""
    parts: list[tuple[int, Any]] = []
    for piece in _NUMBER.split(text):
        if not piece:
            continue
        if _NUMBER.fullmatch(piece):
            parts.append((0, float(piece.replace("−", "-"))))
        else:
            parts.append((1, piece.lower()))
    if len(parts) >= 2 and parts[0][0] == 1 and parts[1][0] == 0:
        scale = _DAYS.get(parts[0][1].strip(" _").rstrip("s"))
        if scale is not None:  # day3, week 4, h24: a count of days
            parts[:2] = [(0, parts[1][1] * scale)]
    elif len(parts) == 2 and parts[0][0] == 0 and parts[1][0] == 1:
        scale = _DAYS_AFTER.get(parts[1][1].strip(" _").rstrip("s"))
        if scale is not None:  # 24h, 5dpf, 30 min: days, the unit breaks ties
            parts[0] = (0, parts[0][1] * scale)
    return parts


def time_key(label: object) -> tuple[Any, ...]:
    """Sort key putting timepoint labels in time order (see the module notes).

    Examples: ``pretest`` < ``day-1`` < ``day3`` < ``day21`` < ``week4`` < ``NA``;
    ``-1`` < ``3`` < ``21``; ``bin2`` < ``bin10``; ``PND4`` < ``PND21``.
    """
    if not isinstance(label, str) and label is not None and not isinstance(label, bool):
        try:
            x = float(label)  # type: ignore[arg-type]  (int, float, numpy numbers)
        except (TypeError, ValueError):
            x = None
        if x is not None:
            return (2, (), "NA") if math.isnan(x) else (1, ((0, x),), str(label))
    text = str(label).strip()
    if text.upper() in _LAST:
        return (2, (), text)
    rank = 0 if is_pre_dose_name(text) or is_pre_dose_name(text.split("_")[0]) else 1
    return (rank, tuple(_parts(text)), text)


def time_order(labels: Iterable[object]) -> list[object]:
    """The distinct labels in time order (:func:`time_key`)."""
    return sorted(set(labels), key=time_key)
