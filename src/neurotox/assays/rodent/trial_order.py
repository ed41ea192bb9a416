"""Order of each subject's trials from their start times, read with one date convention per run.

EthoVision writes ``Start time`` in the acquisition PC's locale: ``10/03/2025``
is 3 October on a month-first PC and 10 March on a day-first one. Reading each
file with whichever convention happens to parse it would mix the two and swap a
subject's training and test. Here every start time of a run is read the same way:

* the convention (month-first or day-first) that reads every start time, when
  only one does (``30/09/2025`` is day-first);
* when both do and they give the same order of every subject's trials, that
  order (month-first, as EthoVision's US default);
* when both do but disagree for a subject, the convention whose order follows
  the trial numbers (``Trial 1`` before ``Trial 2``), said as a warning; when
  neither follows them, an error naming the subject and files;
* start times in both conventions (``30/09/2025`` and ``10/13/2025``): an error.

ISO dates (``2025-10-03``) read the same either way; trials without a readable
start time are ordered by their trial number, as before.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from neurotox.errors import InputError

_CONVENTIONS = {"month-first": "%m/%d/%Y %H:%M:%S.%f", "day-first": "%d/%m/%Y %H:%M:%S.%f"}
_ISO = "%Y-%m-%d %H:%M:%S.%f"

Key = tuple[int, Any]


def _read(text: str, fmt: str) -> dt.datetime | None:
    for f in (_ISO, fmt):
        try:
            return dt.datetime.strptime(text.strip(), f)
        except ValueError:
            continue
    return None


def trial_number(meta: dict[str, Any]) -> int:
    """The last number of the trial name (``Trial     2`` -> 2); 0 without one."""
    num = re.findall(r"\d+", str(meta.get("trial", "")))
    return int(num[-1]) if num else 0


def _keys(metas: Sequence[dict[str, Any]], fmt: str | None) -> list[Key]:
    out: list[Key] = []
    for m in metas:
        when = _read(m.get("start_time", ""), fmt) if fmt else None
        out.append((0, when) if when is not None else (1, trial_number(m)))
    return out


def _orders(subjects: Sequence[str], keys: Sequence[Key]) -> dict[str, list[int]]:
    """Per subject, the indices of its trials in the order ``keys`` give."""
    out: dict[str, list[int]] = {}
    for i in sorted(range(len(keys)), key=lambda i: keys[i]):
        out.setdefault(subjects[i], []).append(i)
    return out


def start_keys(metas: Sequence[dict[str, Any]], paths: Sequence[Path],
               notes: list[str]) -> list[Key]:
    """One sort key per trial (``meta``: ``subject``, ``start_time``, ``trial``); see the module."""
    texts = [str(m.get("start_time", "")).strip() for m in metas]
    dated = [i for i, t in enumerate(texts) if t]
    fits = {c: [i for i in dated if _read(texts[i], f) is not None]
            for c, f in _CONVENTIONS.items()}
    valid = [c for c, ok in fits.items() if ok and len(ok) == len(dated)]
    if not dated or not any(fits.values()):
        return _keys(metas, None)
    only = {c: next(i for i in fits[c] if i not in fits[o])
            for c, o in (("month-first", "day-first"), ("day-first", "month-first"))
            if set(fits[c]) - set(fits[o])}
    if not valid and len(only) < 2:    # some start times unreadable: those go by trial number
        return _keys(metas, _CONVENTIONS[max(fits, key=lambda c: len(fits[c]))])
    if not valid:
        said = "; ".join(f"{texts[i]!r} in {paths[i].name} reads only {c}"
                         for c, i in only.items())
        raise InputError(f"start times written in two date conventions ({said}); the order of "
                         "training and test cannot be told: export every trial with one date "
                         "setting", path=paths[dated[0]])
    if len(valid) == 1:
        return _keys(metas, _CONVENTIONS[valid[0]])
    return _both_readable(metas, paths, notes)


def _both_readable(metas: Sequence[dict[str, Any]], paths: Sequence[Path],
                   notes: list[str]) -> list[Key]:
    subjects = [str(m["subject"]) for m in metas]
    keys = {c: _keys(metas, f) for c, f in _CONVENTIONS.items()}
    orders = {c: _orders(subjects, k) for c, k in keys.items()}
    differ = sorted(s for s in orders["month-first"]
                    if orders["month-first"][s] != orders["day-first"][s])
    if not differ:
        return keys["month-first"]
    by_number = _orders(subjects, [(0, trial_number(m)) for m in metas])
    follow = [c for c in _CONVENTIONS if all(orders[c][s] == by_number[s] for s in differ)]
    files = ", ".join(paths[i].name for i in orders["month-first"][differ[0]])
    if len(follow) != 1:
        raise InputError(f"subject {differ[0]!r}: the start times of its trials ({files}) read "
                         "month-first and day-first give different orders, and the trial "
                         "numbers do not tell which is right; export the trials with one date "
                         "setting", path=paths[orders["month-first"][differ[0]][0]])
    example = metas[orders[follow[0]][differ[0]][0]].get("start_time")
    notes.append(f"warning: start dates such as {example!r} read month-first and day-first "
                 f"give different trial orders for subject(s) {', '.join(differ)}; the "
                 f"{follow[0]} reading follows the trial numbers and is used for every file")
    return keys[follow[0]]


def number_order_warnings(subject: str, ordered: Sequence[dict[str, Any]],
                          paths: Sequence[Path]) -> list[str]:
    """A warning when a subject's trials ordered by start time run against their numbers."""
    nums = [trial_number(m) for m in ordered]
    if len(nums) < 2 or 0 in nums or nums == sorted(nums):
        return []
    return [f"warning: subject {subject}: by start time {paths[0].name} "
            f"({ordered[0].get('trial')}) comes before {paths[1].name} "
            f"({ordered[1].get('trial')}), against the trial numbers; the start times decide "
            "the phases"]
