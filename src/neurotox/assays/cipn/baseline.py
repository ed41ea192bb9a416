"""The protocol's baseline session in a sheet: found however the lab spelt it, or said missing.

A protocol names its baseline session once (``baseline: day-1``, ``baseline:
baseline``); sheets spell it their way (a wide column ``D-1``, ``Day -1``, ``BL``,
``Pre-dose``). :func:`neurotox.timepoints.session_key` says which labels name one
session (every spelling of :data:`neurotox.timepoints.BASELINE_NAMES` is the
baseline; ``D-1`` is ``day-1``); that session is relabelled with the protocol's
name and the run notes say so. A test measured at several sessions none of which
is the baseline, or a latency test (%MPE), gets a warning naming the sessions
seen: its baseline covariate or %MPE is not computed, and the conventions do not
claim it.
"""

from __future__ import annotations

import re

import pandas as pd

from neurotox.errors import InputError
from neurotox.io.battery import header_of
from neurotox.timepoints import session_key, time_order

#: Latency tests whose %MPE needs the baseline (cold plate has no %MPE).
MPE_TESTS = ("hot_plate", "tail_flick", "hargreaves")


def session_labels(tp: pd.Series, prefix: str) -> tuple[pd.Series, dict[str, str]]:
    """Timepoint labels with the protocol's ``timepoint_prefix``, and the labels respelt.

    A bare count gets the prefix (``7`` → ``day7``); a count written with the
    prefix's unit another way (``D7``, ``Day 7``, ``D-1``) is spelt as the prefix
    spells it (``day7``, ``day-1``), so a wide sheet's sessions and a long table's
    are one session each. Returns the labels and ``{as written: label}`` of the
    respelt ones (for the run notes).
    """
    tp = tp.astype(str).str.strip()
    if not prefix:
        return tp, {}
    unit = re.escape(session_key(f"{prefix}1")[:-1])
    mapping, respelt = {}, {}
    for t in tp.unique():
        m = re.fullmatch(rf"(?:{unit})?(-?\d+(?:\.\d+)?)",
                         t if re.fullmatch(r"-?\d+(?:\.\d+)?", t) else session_key(t))
        mapping[t] = prefix + m.group(1) if m else t
        if m and not re.fullmatch(r"-?\d+(?:\.\d+)?", t) and mapping[t] != t:
            respelt[t] = mapping[t]
    return tp.map(mapping), respelt


def match_baseline(df: pd.DataFrame, baseline: str | None, name: str) -> str:
    """Relabel ``df``'s session that is ``baseline`` written another way; the note.

    Raises
    ------
    InputError
        Two sessions of the sheet are the baseline written two ways (``BL`` and
        ``pre``): which one is meant cannot be told.

    """
    labels = set(df["timepoint"])
    if baseline is None or baseline in labels:
        return ""
    same = sorted(t for t in labels if session_key(t) == session_key(baseline))
    if len(same) > 1:
        raise InputError(f"sessions {', '.join(map(repr, same))} are each the protocol's "
                         f"baseline session {baseline!r} written another way: rename one, or "
                         "name the baseline in the protocol parameter 'baseline'",
                         path=df.attrs.get("path"), where=_sessions_where(df))
    if not same:
        return ""
    df["timepoint"] = df["timepoint"].where(df["timepoint"] != same[0], baseline)
    return (f"{name}: session {same[0]!r} is the protocol's baseline session {baseline!r} "
            f"written another way, labelled {baseline!r}")


def _sessions_where(df: pd.DataFrame) -> str:
    """Where a sheet's sessions are: its timepoint column, or a wide sheet's header row."""
    if "timepoint" in df.attrs.get("headers", {}):
        return f"column {header_of(df, 'timepoint')!r}"
    return f"row {df.attrs.get('header_row', 1)} (session columns)"


def missing_baseline(df: pd.DataFrame, baseline: str | None, covariate: bool,
                     name: str) -> list[str]:
    """Warnings for the tests of a sheet that need the baseline session and lack it."""
    if baseline is None:
        return []
    out = []
    for test, part in df.groupby("test", sort=True):
        sessions = [str(t) for t in time_order(part["timepoint"])]
        if baseline in sessions:
            continue
        lost = [w for w, needed in (("no %MPE", test in MPE_TESTS),
                                    ("no baseline covariate (no ANCOVA on baseline)",
                                     covariate and len(sessions) > 1)) if needed]
        if lost:
            out.append(f"warning: {name}: the protocol's baseline session {baseline!r} is "
                       f"none of the {test} sessions ({', '.join(sessions)}): "
                       f"{'; '.join(lost)}; name the sheet's baseline session in the "
                       "protocol parameter 'baseline'")
    return out
