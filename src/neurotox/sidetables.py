"""Side tables: a key given twice, and rows naming something that matches nothing.

A side table (a novel-object key, an exclusion list, an object layout, a SimBA
or LIMS summary) is keyed: one row per subject, video or video × measure. Two
faults pass a reader unseen and change numbers silently:

* the same key in two rows (a SimBA re-run appending to its summary, a LIMS
  export run twice into one file, an animal keyed twice): taking the last row
  or adding them up changes the value. Identical repeats are merged with a
  note; repeats that differ are an error naming the file and both rows
  (:func:`merge_repeats`).
* a row naming a subject or video that is not among the study's subjects or
  the run's inputs (a typo): the row is never applied. :func:`unknown_names`
  refuses it with a did-you-mean, or, for tables that normally list more than
  one study (a lab-wide key, a layout of every video), returns it for a
  warning unless it is a likely typo.

Every table here has a ``source`` column ``"<file>:row <n>[, …]"``, which
names the rows in messages.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from neurotox.errors import InputError, closest, did_you_mean


def _where(source: object) -> tuple[str, str]:
    """(file name, location) of a ``source`` cell ``"file:row 3, column 'x'"``."""
    name, _, where = str(source).partition(":")
    return name, where.split(",")[0].strip()


def _key_text(keys: Sequence[str], values: Sequence[object]) -> str:
    return ", ".join(f"{k} {_show(v)}" for k, v in zip(keys, values, strict=True))


def merge_repeats(table: pd.DataFrame, keys: Sequence[str], *, what: str,
                  compare: Sequence[str] | None = None,
                  files: Iterable[Path] = ()) -> tuple[pd.DataFrame, list[str]]:
    """Merge rows repeating a key identically; refuse rows repeating it with other values.

    Parameters
    ----------
    table
        A side table with a ``source`` column (``"<file>:row <n>"``).
    keys
        Columns that identify one row (e.g. ``subject``, or ``video``,
        ``classifier``, ``measurement``).
    what
        What one row is, for messages (``"novel-object key"``).
    compare
        Columns that must agree between repeats (default: all but ``keys``
        and ``source``). Compared as text, so ``nan`` equals ``nan``.
    files
        The input files, to name a row's file by its full path.

    Returns
    -------
    table, notes
        The table with later identical repeats dropped, and one note per
        file that had some (naming the first repeated row).

    Raises
    ------
    InputError
        Two rows with one key and different values, naming the file and both
        rows (a re-run appended, a typo): neither row can be taken.

    """
    if not len(table):
        return table, []
    keys = list(keys)
    cols = list(compare) if compare is not None else [
        c for c in table.columns if c not in (*keys, "source")]
    text = table[[*keys, *cols]].astype(str).reset_index(drop=True)
    if not text.duplicated(keys).any():
        return table, []
    first = text.groupby(keys, sort=False).cumcount() == 0
    origin = dict(zip(map(tuple, text.loc[first, keys].to_numpy()),
                      first[first].index, strict=True))
    distinct = text.drop_duplicates()
    clash = distinct.duplicated(keys)
    if clash.any():
        i = int(clash[clash].index[0])
        raise _conflict(table, keys, cols, what, origin[tuple(text.loc[i, keys])], i, files)
    drop = text.duplicated()
    notes = []
    sources = table["source"].reset_index(drop=True)
    for name, rows in drop[drop].groupby(sources[drop].map(lambda v: _where(v)[0]),
                                         sort=False):
        i = int(rows.index[0])
        j = origin[tuple(text.loc[i, keys])]
        notes.append(f"{name}: {len(rows)} {what} row(s) repeating an earlier row with the "
                     f"same values merged (first: {_where(sources[i])[1]} repeats "
                     f"{_where(sources[j])[1]}; {_key_text(keys, table[keys].iloc[i])})")
    return table[~drop.to_numpy()], notes


def _show(value: object) -> str:
    """A cell for a message: text quoted, numbers plain (``13.708``, not ``np.float64``)."""
    if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
        return f"{value:g}"
    return repr(str(value))


def _conflict(table: pd.DataFrame, keys: Sequence[str], cols: Sequence[str], what: str,
              j: int, i: int, files: Iterable[Path]) -> InputError:
    a, b = table.iloc[j], table.iloc[i]
    name_a, where_a = _where(a["source"])
    name_b, where_b = _where(b["source"])
    differ = [c for c in cols if str(a[c]) != str(b[c])]
    values = "; ".join(f"{c} {_show(a[c])} vs {_show(b[c])}" for c in differ)
    first = where_a if name_a == name_b else f"{name_a}, {where_a}"
    path = {p.name: p for p in files}.get(name_b, name_b)
    return InputError(f"{_key_text(keys, [b[k] for k in keys])}: {what} given twice with "
                      f"different values ({values}; the first at {first}): correct or remove "
                      "one row (a re-run appended to the file?)", path=path or None,
                      where=where_b or None)


def unknown_names(table: pd.DataFrame, column: str, known: Iterable[str], *, what: str,
                  among: str, strict: bool, spare: Iterable[str] = (),
                  files: Iterable[Path] = ()) -> list[str]:
    """Rows of a side table whose ``column`` names nothing in ``known``.

    Parameters
    ----------
    table
        The side table, with ``column`` and ``source`` (``"<file>:row <n>"``).
    column
        The column naming a subject or video.
    known
        The names a row may use (the study's subjects, the input videos).
    what, among
        For messages: ``"exclusion"`` / ``"the study's subjects file"``.
    strict
        Every unknown name is an error (an exclusion that is never applied).
        Otherwise an unknown name is an error only when it is a likely typo:
        close (:func:`~neurotox.errors.closest`) to a name of ``spare``.
    spare
        Known names left without a row of their own (a subject without a key
        entry, a video scored with the protocol's objects): the ones a typo
        would have been meant for.
    files
        The input files, to name a row's file by its full path.

    Returns
    -------
    list of str
        ``"'name' (file, row n)"`` for each unknown name that is not an error,
        for a warning.

    Raises
    ------
    InputError
        Naming the file, the row, the name and the closest known name.

    """
    known = {str(k) for k in known}
    paths = {p.name: p for p in files}
    spare = sorted({str(s) for s in spare})
    bad = table[~table[column].astype(str).isin(known)]
    out = []
    for name, source in zip(bad[column].astype(str), bad["source"], strict=True):
        file, where = _where(source)
        if strict or closest(name, spare) is not None:
            hint = did_you_mean(name, spare if not strict else sorted(known))
            raise InputError(f"{what} for {column} {name!r}: {name!r} is not in {among}{hint}; "
                             "correct the name or remove the row",
                             path=paths.get(file, file) or None, where=where or None)
        out.append(f"{name!r} ({file}, {where})")
    return out


def unknown_note(names: list[str], message: str) -> list[str]:
    """``["<n> <message>: <names>"]`` for :func:`unknown_names` leftovers, [] if none.

    A note, not a warning: names far from every study name are another study's
    (a lab's key of several cohorts); close ones were refused as typos already.
    """
    if not names:
        return []
    shown = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
    return [f"{len(names)} {message}: {shown}"]
