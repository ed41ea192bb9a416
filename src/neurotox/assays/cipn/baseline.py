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
from pathlib import Path

import numpy as np
import pandas as pd

from neurotox.errors import InputError
from neurotox.io.battery import header_of
from neurotox.timepoints import label_key, session_key, time_order

#: Latency tests whose %MPE needs the baseline (cold plate has no %MPE).
MPE_TESTS = ("hot_plate", "tail_flick", "hargreaves")


def session_labels(tp: pd.Series, prefix: str) -> tuple[pd.Series, dict[str, str]]:
    """Timepoint labels with the protocol's ``timepoint_prefix``, and the labels respelt.

    A bare count gets the prefix (``7`` → ``day7``); a count written with the
    prefix's unit another way (``D7``, ``Day 7``, ``D-1``) or zero-padded
    (``day07``, ``D07``, ``day021``, ``07``) is spelt as the prefix spells it
    (``day7``, ``day-1``, ``day21``), so a wide sheet's sessions and a long
    table's are one session each. Returns the labels and ``{as written: label}`` of the
    respelt ones (for the run notes).
    """
    tp = tp.astype(str).str.strip()
    if not prefix:
        return tp, {}
    unit = re.escape(session_key(f"{prefix}1")[:-1])
    mapping, respelt = {}, {}
    for t in tp.unique():
        m = re.fullmatch(rf"(?:{unit})?(-?\d+(?:\.\d+)?)", session_key(t))
        mapping[t] = prefix + m.group(1) if m else t
        if mapping[t] not in (t, prefix + t):  # not a bare count (7 → day7)
            respelt[t] = mapping[t]
    return tp.map(mapping), respelt


def check_session_columns(df: pd.DataFrame, prefix: str) -> None:
    """Refuse two session columns of a wide sheet that are one session (and trial).

    ``Day 7`` beside ``day7`` (or ``day07``, ``D7``) would be one animal's session
    read twice. Keeps ``attrs['session_headers']`` (session → headers as written)
    for later messages.

    Raises
    ------
    InputError
        Naming both headers as the file writes them.

    """
    cols = df.attrs.get("session_columns")
    if not cols:
        return
    labels, _ = session_labels(pd.Series([tp for _, tp, _ in cols], dtype=object), prefix)
    heads: dict[str, list[str]] = {}
    seen: dict[tuple[str, str], str] = {}
    for (head, _, trial), label in zip(cols, labels, strict=True):
        heads.setdefault(label, []).append(head)
        key = (label_key(label), trial)
        if key in seen:
            raise InputError(f"columns {seen[key]!r} and {head!r} are one session "
                             f"({label!r}{'' if trial == '1' else f', trial {trial}'}) "
                             "written two ways: keep one column per session",
                             path=df.attrs.get("path"),
                             where=f"row {df.attrs.get('header_row', 1)}, columns "
                                   f"{seen[key]!r} and {head!r}")
        seen[key] = head
    df.attrs["session_headers"] = heads


def check_repeats(df: pd.DataFrame, written: pd.Series) -> None:
    """Refuse an animal's test measured twice at one session (and trial), naming both rows.

    ``written``: the sheet's timepoint labels before respelling, so a long table's
    ``day7`` and ``Day 07`` of one animal are named as the file writes them. A wide
    sheet's repeat is an animal's row written twice (its column ``subject``).
    """
    key = ["test", "subject", "timepoint", "trial"]
    dup = df.duplicated(key).to_numpy()
    if not dup.any():
        return
    i = int(np.flatnonzero(dup)[0])
    j = int(np.flatnonzero((df[key] == df[key].iloc[i]).all(axis=1).to_numpy())[0])
    test, subject, tp, trial = (str(df[k].iloc[i]) for k in key)
    rows = f"rows {int(df['row'].iloc[j])} and {int(df['row'].iloc[i])}"
    trial = f", trial {trial}" if "trial" in df.attrs.get("headers", {}) else ""
    wide = bool(df.attrs.get("session_columns"))
    spelt = "" if wide or written.iloc[i] == written.iloc[j] else \
        f" (written {written.iloc[j]!r} and {written.iloc[i]!r})"
    column = header_of(df, "subject" if wide else "timepoint")
    raise InputError(f"{test} measurement of animal {subject!r} at session {tp!r}{trial} "
                     f"appears twice: {rows}{spelt}", path=df.attrs.get("path"),
                     where=f"row {int(df['row'].iloc[i])}, column {column!r}")


def match_baseline(df: pd.DataFrame, baseline: str | None, name: str) -> str:
    """Relabel ``df``'s session that is ``baseline`` written another way; the note.

    A session is the baseline written another way when :func:`session_key` reads
    both as one (``D-1`` and ``day-1``) or when it is a baseline spelling
    (:data:`neurotox.timepoints.BASELINE_NAMES`: ``BL``, ``Pre``, ``pre-dose`` ...),
    whatever the protocol calls its baseline (``day-1``).

    Raises
    ------
    InputError
        Two sessions of the sheet are the baseline (``BL`` and ``pre``, ``BL`` and
        ``day-1``): which one is meant cannot be told.

    """
    if baseline is None:
        return ""
    keys = {session_key(baseline), "baseline"}
    same = sorted({t for t in df["timepoint"] if session_key(t) in keys})
    if len(same) > 1:
        written, where = _sessions_written(df, same)
        raise InputError(f"sessions {' and '.join(written)} are each the protocol's baseline "
                         f"session {baseline!r} (a baseline spelling, or {baseline!r} written "
                         "another way): keep one, or name another session in the protocol "
                         "parameter 'baseline'", path=df.attrs.get("path"), where=where)
    if not same or same[0] == baseline:
        return ""
    written = _sessions_written(df, same)[0][0]
    df["timepoint"] = df["timepoint"].where(df["timepoint"] != same[0], baseline)
    return (f"{name}: session {written} is the protocol's baseline session {baseline!r} "
            f"written another way, labelled {baseline!r}")


def _sessions_written(df: pd.DataFrame, labels: list[str]) -> tuple[list[str], str]:
    """Sessions as the file writes them, and where: a wide sheet's headers, or rows."""
    heads = df.attrs.get("session_headers")
    if heads:   # in the sheet's column order
        written = [repr(h) for t in heads if t in labels for h in heads[t]]
        return written, (f"row {df.attrs.get('header_row', 1)}, columns "
                         f"{', '.join(written)}")
    rows = sorted((int(df.loc[df["timepoint"] == t, "row"].min()), t) for t in labels)
    written = [f"{t!r} (row {r})" for r, t in rows]
    return written, f"column {header_of(df, 'timepoint')!r}"


def missing_baseline(parts: list[tuple[Path, pd.DataFrame]], baseline: str | None,
                     covariate: bool) -> list[str]:
    """Notes for the tests of each sheet that need the baseline session and lack it.

    The baseline belongs to the animal, not the sheet: when another file of the
    run holds the test's baseline session (von Frey day -1 in one workbook, days
    14 and 21 in the next), the animals' baselines are taken from there and the
    note says so, naming the animals none of the files has a baseline for. A
    test whose baseline no file of the run holds gets a warning.
    """
    if baseline is None:
        return []
    held: dict[str, list[str]] = {}
    based: dict[str, set[str]] = {}
    for path, df in parts:
        at = df[df["timepoint"] == baseline]
        for test, part in at.groupby("test", sort=True):
            held.setdefault(str(test), []).append(path.name)
            based.setdefault(str(test), set()).update(part["subject"].astype(str))
    out = []
    for path, df in parts:
        for test, part in df.groupby("test", sort=True):
            sessions = [str(t) for t in time_order(part["timepoint"])]
            lost = [w for w, needed in (("no %MPE", test in MPE_TESTS),
                                        ("no baseline covariate (no ANCOVA on baseline)",
                                         covariate and (len(sessions) > 1
                                                        or str(test) in held))) if needed]
            if baseline in sessions or not lost:
                continue
            animals = sorted(set(part["subject"].astype(str)))
            none = [a for a in animals if a not in based.get(str(test), set())]
            head = f"{path.name}: the protocol's baseline session {baseline!r} is none of " \
                   f"the {test} sessions ({', '.join(sessions)})"
            if len(none) == len(animals):
                advice = (f"the baseline sessions in {', '.join(held[str(test)])} are of "
                          "other animals" if str(test) in held else
                          "name the sheet's baseline session in the protocol parameter "
                          "'baseline', or give the file that holds it in the same run")
                out.append(f"warning: {head}: {'; '.join(lost)}; {advice}")
                continue
            out.append(f"{head}: each animal's baseline is taken from "
                       f"{', '.join(held[str(test)])} (the same animal IDs; the baseline "
                       "belongs to the animal, not the sheet)")
            if none:
                out.append(f"warning: {head}: {len(none)} of {len(animals)} animal(s) have "
                           f"no baseline session in any file of the run ({', '.join(none)}): "
                           f"{'; '.join(lost)} for them")
    return out


def censored_baseline_note(base: pd.DataFrame, baseline: str) -> list[str]:
    """A note naming the animals whose baseline threshold is censored (its bound is the covariate).

    A naive animal that withdraws from no filament (all-O series) has a
    threshold above the set's strongest filament: its baseline is that bound,
    as its threshold is in the tables; the ANCOVA takes the bound as the value
    rather than leaving the animal out (which it did, silently).
    """
    cens = base[base["censoring"] != "none"]
    if cens.empty:
        return []
    shown = ", ".join(f"{r.subject} {r.endpoint} {r.value:g}"
                      for r in cens.head(6).itertuples())
    return [f"{len(cens)} baseline value(s) at {baseline} are censored (beyond the test's "
            f"range: {shown}{' …' if len(cens) > 6 else ''}); as the baseline covariate each is "
            "taken at its bound"]
