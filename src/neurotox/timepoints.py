"""Time order of timepoints: the one rule every statistic, table and figure uses.

A timepoint's order never comes from sorting its label as text. It comes from:

1. The protocol, when the assay knows it: the EndpointTable column ``time_order``
   (any increasing number; the zebrafish light/dark phases carry their place in
   the run, so ``acclimation_light < acclimation_dark < light1 < dark1 ...``).
   Labels with a ``time_order`` are ordered by it (:class:`TimeOrder`).
2. Otherwise the label, read as a time:

   a. Sessions before dosing named so (``pretest``, ``pre``, ``Pre dose``,
      ``pre_treatment``, ``pre-study``, ``baseline``, ``BL``, ``acclimation``,
      ``acclimatisation``, ``habituation`` ...: :data:`PRE_DOSE_NAMES`, compared
      without case, spaces and punctuation; also with a bin: ``pretest_bin03``)
      come first.
   b. Then every numbered label, by its parts: numbers compare as signed numbers
      (``day-1`` before ``day3``, ``-1`` before ``3``, ``bin2`` before ``bin10``).
      A count of hours, days or weeks compares in days, so ``day21`` comes before
      ``week4``, ``24hpf`` before ``5dpf``, and ``3`` ties ``day3``.
   c. Then sessions after dosing named so, in this order: ``post`` (``post-dose``
      ...), ``terminal`` / ``final`` / ``necropsy``, ``recovery``
      (:data:`POST_DOSE_WORDS`).
   d. Missing labels (``NA``, empty) and the all-timepoints row ``ALL`` last.

Two labels whose order would rest on comparing words (``light1`` and ``dark1``:
which comes first is the protocol's choice; ``week4`` and ``PND21``; an unknown
word such as ``session_a``) cannot be put in time order from their labels:
:func:`unordered` names them, and the statistics warn (their sort is kept total
and stable, but it is not a time order).

Ties (``Day3`` and ``day3``) are broken by the label itself, so the order is total
and the same on every run.

Labels that differ only in letter case, spaces, punctuation or leading zeros
(``Pretest``, ``pre-test``, ``pretest``; ``Day7``, ``day 7``, ``day07``) are one
session typed two ways: :func:`label_key` says so, and the EndpointTable refuses
such pairs within one assay (:func:`neurotox.endpoints.validate`). A minus sign
before a number is not punctuation (``day-1`` and ``day1`` are different days), nor
is a zero after a decimal point (``day1.05`` is not ``day1.5``).
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable, Mapping
from typing import Any

#: The spellings of a baseline session, the one list every reader, assay and report
#: uses, compared by :func:`label_key` (letter case, spaces, ``-`` and ``_`` aside):
#: ``baseline``, ``BL``, ``pre``, ``pretest``, ``pre-dose``, ``pre-treatment``,
#: ``pre-exposure``.
BASELINE_NAMES = ("baseline", "bl", "pre", "pretest", "predose", "pretreatment",
                  "preexposure")
#: Sessions recorded before the first dose, named as such: a baseline, ``acclimation``
#: (``acclimatisation``), ``habituation``, or another ``pre-`` session (``pre-study``,
#: ``pre-dosing``, ``pre-trial``, ``pre-bleed``).
PRE_DOSE_NAMES = (*BASELINE_NAMES, "acclimation", "acclimatisation", "acclimatization",
                  "habituation", "predosing", "prestudy", "pretrial", "prebleed")
#: Sessions after the dosing period named as such, with their place: after every
#: numbered session, ``post`` before ``terminal`` before ``recovery``.
POST_DOSE_WORDS = {"post": 0, "postdose": 0, "postdosing": 0, "posttreatment": 0,
                   "postexposure": 0, "poststudy": 0, "terminal": 1, "final": 1,
                   "necropsy": 1, "endofstudy": 1, "recovery": 2}

#: A bin, block or trial of a session (``pretest_bin03``, ``PND22_block1``,
#: ``acclimation_trial2``).
_PART = re.compile(r"^(.+?)[_ ]((?:bin|block|trial)\d+)$", re.I)

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
#: Leading zeros of a count (``day07``, ``D-01``, ``day021``), not a lone zero
#: (``day0``) nor zeros after a decimal point (``day1.05``).
_LEADING_ZEROS = re.compile(r"(?<![\d.])0+(?=\d)")


def label_key(label: object) -> str:
    """What a timepoint label says, without letter case, spaces, punctuation and padding.

    ``Pretest``, ``pre-test`` and ``PRE_TEST`` give ``pretest``; ``Day 7``,
    ``day07`` and ``day7`` give ``day7`` (a count's leading zeros are padding:
    ``day021`` is ``day21``); ``day-1`` stays ``day-1``. Full-width characters are
    read as ASCII (NFKC).
    """
    text = unicodedata.normalize("NFKC", str(label)).replace("\u2212", "-")
    return _LEADING_ZEROS.sub("", _IGNORED.sub("", text)).casefold()


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


def session_and_part(label: object) -> tuple[str, str]:
    """A timepoint label split into its session and its bin, block or trial.

    ``pretest_bin03`` → ``("pretest", "bin03")``; ``PND22_block1`` → ``("PND22",
    "block1")``; a label without one is its own session: ``week4`` → ``("week4", "")``.
    """
    text = str(label).strip()
    m = _PART.match(text)
    return (m.group(1), m.group(2)) if m else (text, "")


def session_of(label: object) -> str:
    """A timepoint label without its bin or block (``pretest_bin03``: ``pretest``)."""
    return session_and_part(label)[0]


def is_pre_dose(label: object) -> bool:
    """True for a session named as before dosing (:data:`PRE_DOSE_NAMES`, with a bin too).

    ``Pre``, ``pre dose``, ``BL``, ``acclimatisation``, ``pretest_bin03``; not
    ``acclimation_dark`` (a zebrafish light/dark phase: the larvae are exposed).
    Negative days are known to :func:`neurotox.report.labels.is_pre_dose`.
    """
    return label_key(session_of(label)) in PRE_DOSE_NAMES


def time_key(label: object, rank: float | None = None) -> tuple[Any, ...]:
    """Sort key putting timepoint labels in time order (see the module notes).

    Examples: ``pretest`` < ``day-1`` < ``day3`` < ``day21`` < ``week4`` < ``post``
    < ``terminal`` < ``recovery`` < ``NA``; ``-1`` < ``3`` < ``21``; ``bin2`` <
    ``bin10``; ``PND4`` < ``PND21``. ``rank`` is the protocol's ``time_order`` of
    the label, which then decides (within the numbered band).
    """
    if rank is not None and math.isfinite(rank):
        return (1, ((0, float(rank)),), str(label))
    if not isinstance(label, str) and label is not None and not isinstance(label, bool):
        try:
            x = float(label)  # type: ignore[arg-type]  (int, float, numpy numbers)
        except (TypeError, ValueError):
            x = None
        if x is not None:
            return (3, (), "NA") if math.isnan(x) else (1, ((0, x),), str(label))
    text = str(label).strip()
    if text.upper() in _LAST:
        return (3, (), text)
    if is_pre_dose(text):
        return (0, tuple(_parts(text)), text)
    post = POST_DOSE_WORDS.get(label_key(session_of(text)))
    if post is not None:
        return (2, ((0, float(post)), *_parts(text)[1:]), text)
    return (1, tuple(_parts(text)), text)


def time_order(labels: Iterable[object],
               ranks: Mapping[object, float] | None = None) -> list[object]:
    """The distinct labels in time order: the protocol's ``ranks``, else :func:`time_key`."""
    ranks = ranks or {}
    return sorted(set(labels), key=lambda v: time_key(v, ranks.get(v)))


def unordered(labels: Iterable[object],
              ranks: Mapping[object, float] | None = None) -> list[str]:
    """Labels whose place in time cannot be read (sorted); ``[]`` when all can.

    Two labels are in time order when the protocol ranks them, when they fall in
    different bands (before dosing, numbered, after dosing) or when the first part
    in which they differ is a number in both. Otherwise their order would come from
    comparing words (``dark1``/``light1``, ``week4``/``PND21``, ``session_a``/``day3``):
    both are named.
    """
    ranks = ranks or {}
    keys = sorted((time_key(v, ranks.get(v)), str(v)) for v in set(labels)
                  if str(v).strip().upper() not in _LAST)
    if all(_in_time_order(a, la, b, lb) for (a, la), (b, lb) in zip(keys, keys[1:],
                                                                     strict=False)):
        return []     # neighbours in order: all are (numbers compare transitively)
    bad: set[str] = set()
    for i, (a, la) in enumerate(keys):
        for b, lb in keys[i + 1:]:
            if not _in_time_order(a, la, b, lb):
                bad |= {la, lb}
    return sorted(bad)


def _in_time_order(a: tuple, la: str, b: tuple, lb: str) -> bool:
    """True when keys ``a`` and ``b`` are ordered by time, not by comparing words."""
    if a[0] != b[0] or a[1] == b[1] or session_of(la) == session_of(lb):
        return True   # another band, one time typed two ways, a session and its bins
    diff = next(((x, y) for x, y in zip(a[1], b[1], strict=False) if x != y), None)
    return diff is None or (diff[0][0] == 0 and diff[1][0] == 0)


#: Above this many ranked labels :func:`contradicted` checks neighbours only.
_MAX_PAIRS = 400


def contradicted(ranks: Mapping[object, float]) -> list[tuple[str, str]]:
    """Pairs of labels whose protocol ranks reverse the time their labels say.

    ``(earlier, later)`` by the labels (``day7``, ``day21``: read as times, the
    first part in which they differ a number in both) where ``ranks`` (the
    ``time_order``) puts ``later`` first. Labels whose order would rest on words
    (``light1``, ``dark1``) are the protocol's to order and never contradict it.
    In the labels' order; ``[]`` when the ranks agree with every such pair.
    """
    have = sorted((time_key(v), str(v), float(r)) for v, r in ranks.items()
                  if r is not None and math.isfinite(r))
    if len(have) > _MAX_PAIRS:   # long runs of bins: neighbours in rank order only
        by_rank = sorted(have, key=lambda h: h[2])
        pairs = [(b, a) if a > b else (a, b) for a, b in zip(by_rank, by_rank[1:],
                                                               strict=False)]
    else:
        pairs = [(a, b) for i, a in enumerate(have) for b in have[i + 1:]]
    return [(a[1], b[1]) for a, b in pairs if a[2] > b[2] and _by_number(a[0], b[0])]


def _by_number(a: tuple, b: tuple) -> bool:
    """True when keys ``a`` < ``b`` are in one band and first differ in a number in both."""
    if a[0] != b[0] or a[0] == 3:
        return False
    diff = next(((x, y) for x, y in zip(a[1], b[1], strict=False) if x != y), None)
    return diff is not None and diff[0][0] == 0 and diff[1][0] == 0


class TimeOrder:
    """Time order of an EndpointTable's timepoints: the protocol's, else the labels'.

    Built from the table's ``time_order`` column (:meth:`of`): a label with a
    number there is placed by it, any other by :func:`time_key`. The statistics,
    tables and figures sort timepoints with one such object.
    """

    def __init__(self, ranks: Mapping[object, float] | None = None):
        self.ranks: dict[object, float] = dict(ranks or {})

    @classmethod
    def of(cls, table: Any, time: str = "timepoint") -> TimeOrder:
        """The protocol's ranks in ``table`` (columns ``time`` and ``time_order``)."""
        if table is None or "time_order" not in getattr(table, "columns", ()):
            return cls()
        have = table.loc[table["time_order"].notna(), [time, "time_order"]]
        have = have.drop_duplicates(time)
        return cls(dict(zip(have[time], have["time_order"].astype(float), strict=True)))

    def key(self, label: object) -> tuple[Any, ...]:
        """Sort key of one label (:func:`time_key` with the protocol's rank)."""
        return time_key(label, self.ranks.get(label))

    def order(self, labels: Iterable[object]) -> list[object]:
        """The distinct labels in time order."""
        return time_order(labels, self.ranks)

    def unordered(self, labels: Iterable[object]) -> list[str]:
        """Labels that cannot be put in time order (:func:`unordered`)."""
        return unordered(labels, self.ranks)

    def contradicted(self, labels: Iterable[object]) -> list[tuple[str, str]]:
        """Pairs of ``labels`` whose ranks reverse their labels' times (:func:`contradicted`)."""
        return contradicted({v: self.ranks[v] for v in set(labels) if v in self.ranks})
