"""Readers for peripheral-neuropathy lab sheets (von Frey, thermal, cold, NCV, IENFD).

Two layouts, csv or xlsx (:func:`read_cipn`):

Long
    One row per subject × timepoint × test × trial: ``subject``, ``timepoint``
    (or ``day``/``session``), optional ``test`` and ``trial``, and the columns
    of the test (:data:`TEST_COLUMNS`): ``series`` + ``filament`` (up-down),
    ``filament`` + ``response`` (SUDO), ``value`` (latencies, forces, counts,
    acetone scores), ``distance_mm`` + ``latency_ms`` or
    ``proximal_latency_ms`` + ``distal_latency_ms`` + ``amplitude`` (+
    ``temperature_c``) for nerve conduction, ``section`` + ``fibres`` +
    ``length_mm`` for IENFD.
Wide (lab sheet)
    One row per animal: ``subject`` and one column per session (``D-1``,
    ``day 7`` ...). Numbers for value tests; for up-down the X/O string with the
    last filament in a ``<session> filament`` column or in the cell itself
    (``oxooxx/5``, ``oxooxx (5)``). Columns ``<session>_trial<N>`` hold trials.

The reader checks layout (columns, numbers, empty cells) and returns a tidy
frame with a ``row`` column (spreadsheet row, header = 1); series letters,
filaments and cut-offs are checked by the assay, which knows the protocol.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from neurotox.errors import FormatError, InputError, quoted
from neurotox.io.battery import NOTE_COLUMNS, header_of, numbers, read_sheet, require_columns, where
from neurotox.io.header_units import Quantity, converted, unit_columns
from neurotox.timepoints import PRE_DOSE_NAMES, label_key

#: Tests a sheet can hold, and the columns each needs (long layout).
TEST_COLUMNS: dict[str, tuple[str, ...]] = {
    "von_frey_updown": ("series", "filament"),
    "von_frey_sudo": ("filament", "response"),
    "electronic_von_frey": ("value",),
    "hot_plate": ("value",),
    "tail_flick": ("value",),
    "hargreaves": ("value",),
    "cold_plate": ("value",),
    "acetone": ("value",),
    "ncv_motor": ("distance_mm", "proximal_latency_ms", "distal_latency_ms"),
    "ncv_sensory": ("distance_mm", "latency_ms"),
    "ncv_caudal": ("distance_mm", "latency_ms"),
    "ienfd": ("fibres", "length_mm"),
}

#: Numeric columns parsed when present (empty cells allowed: not every test uses them).
NUMERIC = ("value", "distance_mm", "latency_ms", "proximal_latency_ms", "distal_latency_ms",
           "amplitude", "temperature_c", "fibres", "length_mm")

#: Header spellings seen in lab sheets → the reader's names (after lower-casing).
ALIASES = {"mouse": "subject", "id": "subject", "animal_number": "subject",
           "day": "timepoint", "session": "timepoint", "time": "timepoint",
           "timepoint_sni_day": "timepoint", "visit": "timepoint",
           "xo_series": "series", "responses": "series", "pattern": "series",
           "xo": "series", "last_filament": "filament", "final_filament": "filament",
           "latency": "value", "threshold": "value", "score": "value", "count": "value",
           "distance": "distance_mm", "temperature": "temperature_c",
           "fibers": "fibres", "fibre_count": "fibres", "fiber_count": "fibres",
           "length": "length_mm", "rep": "trial", "replicate": "trial", "age": "timepoint"}

#: Columns of a wide sheet that are not sessions.
WIDE_ID = ("subject", "group", "sex", "test", "comment", "comments", "notes", "cohort",
           "row")

#: A timepoint label: an optional word, then a whole or decimal count and an optional
#: unit (``day7``, ``D-1``, ``day 14``, ``week4``, ``PND22``, ``-1``, ``24h``) ...
_TIMEPOINT = re.compile(r"^[a-z]{0,12}[\s_.-]*[-\u2212+]?\d{1,4}(?:\.\d+)?(?:\s*[a-z]{1,5})?$",
                        re.I)
#: ... or a session named without a number.
#: (the baseline spellings are :data:`neurotox.timepoints.BASELINE_NAMES`; compared by
#: :func:`neurotox.timepoints.label_key`, so ``Pre-dose`` and ``pre_dose`` are ``predose``).
NAMED_SESSIONS = (*PRE_DOSE_NAMES, "post", "terminal", "final", "recovery")
#: A trial: a whole number, optionally after ``t``/``trial``/``rep`` (``1``, ``T2``).
_TRIAL_LABEL = re.compile(r"^(?:t|trial|rep)?[\s_.-]*\d{1,3}$", re.I)

#: An up-down cell: the series (X/O, 0/1 or +/-) and its last filament (``oxooxx/5``).
_IN_CELL = re.compile(r"^\s*([XxOo01+\-\u2212\u2013\s]+?)\s*(?:/|\(|@|;|,|\s)\s*"
                      r"([^\s()/@;,]+(?:\s*g)?)\s*\)?\s*$", re.I)
_TRIAL = re.compile(r"^(.+?)_(?:trial|t|rep)_?(\d+)$")


def found(df: pd.DataFrame, i: int, column: str) -> str:
    """The i-th cell of a parsed column as an error message shows it (``'2.5'``, ``empty``)."""
    v = df[column].iloc[i]
    if isinstance(v, float | np.floating):
        return "an empty cell" if np.isnan(v) else f"'{v:g}'"
    return repr(str(v))


def fail_first(df: pd.DataFrame, bad: np.ndarray | pd.Series, column: str, what: str) -> None:
    """Raise InputError ``"<what>, found <cell>"`` at the first row where ``bad`` holds."""
    bad = np.asarray(bad, dtype=bool)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise InputError(f"{what}, found {found(df, i, column)}", path=df.attrs.get("path"),
                         where=where(df, i, column))


_LENGTHS = {"mm": 1.0, "cm": 10.0, "µm": 1e-3, "um": 1e-3}
_TIMES_MS = {"ms": 1.0, "s": 1e3, "sec": 1e3, "µs": 1e-3, "us": 1e-3}
#: Amplitude header units → factor to µV (converted per test: :data:`AMPLITUDE_UNITS`).
_TO_UV = {"mv": 1e3, "µv": 1.0, "uv": 1.0}
_LENGTH = Quantity("length_mm", _LENGTHS, "mm", "mm, cm or µm")
_LATENCY = Quantity("latency_ms", _TIMES_MS, "ms", "ms, s or µs")
_TEMPERATURE = Quantity("temperature_c", {"°c": 1.0, "c": 1.0, "degc": 1.0, "deg_c": 1.0},
                        "°C", "°C")
_FORCE = Quantity("value", {"g": 1.0}, "g", "g")
#: Base name of a header with a unit (``Distance (mm)``) → what it is read as
#: (:func:`neurotox.io.header_units.unit_columns`).
UNIT_COLUMNS: dict[str, Quantity] = {
    "distance": Quantity("distance_mm", _LENGTHS, "mm", "mm, cm or µm"),
    "length": _LENGTH, "epidermis_length": _LENGTH,
    # a thermal test's 'Latency (s)' is its value (an NCV sheet's: its onset latency)
    "latency": Quantity("latency_ms", _TIMES_MS, "ms", "ms, s or µs",
                        elsewhere={"s": "value", "sec": "value"}),
    "onset_latency": _LATENCY,
    "proximal_latency": Quantity("proximal_latency_ms", _TIMES_MS, "ms", "ms, s or µs"),
    "distal_latency": Quantity("distal_latency_ms", _TIMES_MS, "ms", "ms, s or µs"),
    "temperature": _TEMPERATURE, "temp": _TEMPERATURE,
    "amplitude": Quantity("amplitude", dict.fromkeys(_TO_UV, 1.0), "mV or µV", "mV or µV"),
    "force": _FORCE, "threshold": _FORCE}
#: The unit of each NCV test's amplitude (its endpoint's: CMAP in mV, SNAP and caudal
#: nerve action potential in µV), factor to µV.
AMPLITUDE_UNITS = {"ncv_motor": ("mV", 1e3), "ncv_sensory": ("µV", 1.0),
                   "ncv_caudal": ("µV", 1.0)}
#: Tests whose ``value`` is a latency in s (read from a latency column in ms when needed).
_LATENCY_VALUE = ("hot_plate", "tail_flick", "hargreaves", "cold_plate")
#: A latency written as at the cut-off: ``>20``, ``>=20``, ``≥20``, ``20+``, ``20*``,
#: ``cut-off`` (``cutoff``, ``cut off``); the number, if any, in ``a`` or ``b``.
_CUTOFF_MARK = re.compile(r"(?:>=?|\u2265)\s*(?P<a>\d+(?:\.\d+)?)|(?P<b>\d+(?:\.\d+)?)\s*[+*]"
                          r"|cut[\s_-]?off", re.I)


def _cutoff_marks(df: pd.DataFrame) -> None:
    """Move latency cells written as at the cut-off (:data:`_CUTOFF_MARK`) aside.

    The text goes to ``cutoff_mark``, its number (empty for ``cut-off``) stays in
    ``value``; the assay reads them as the protocol's cut-off.
    """
    if "value" not in df.columns:
        return
    raw = df["value"].astype(str).str.strip()
    marked = raw.str.fullmatch(_CUTOFF_MARK) & df["test"].isin(_LATENCY_VALUE)
    if marked.any():
        parts = raw.str.extract(_CUTOFF_MARK)
        df["cutoff_mark"] = raw.where(marked, "")
        number = parts["a"].where(parts["a"].notna(), parts["b"]).astype(object)
        df.loc[marked, "value"] = number.where(number.notna(), "")[marked]


def _scaled(df: pd.DataFrame) -> list[str]:
    """Convert the columns of ``attrs['scales']``, the amplitudes and the thermal latencies.

    A latency column in ms (``latency_ms``, ``Latency (ms)``) of a latency test
    without a ``value`` becomes its value in s. Returns the notes.
    """
    notes = converted(df) + _amplitudes(df)
    if df.attrs.get("value_from_ms"):
        thermal = df["test"].isin(_LATENCY_VALUE).to_numpy()
        df.loc[thermal, "value"] = df.loc[thermal, "latency_ms"] / 1000.0
        notes.append(f"{Path(df.attrs.get('path', '')).name}: column "
                     f"{header_of(df, 'latency_ms')!r} read as the latency of the thermal "
                     "tests, converted from ms to s (÷ 1000)")
    return notes


def _amplitudes(df: pd.DataFrame) -> list[str]:
    """Amplitudes under a header with a unit (``Amplitude (mV)``) in their test's unit.

    One column may hold the CMAP (mV) of ``ncv_motor`` rows and the SNAP (µV) of
    ``ncv_sensory`` rows: each test's rows are converted to its own unit, noted.
    An amplitude header without a unit is read as recorded.
    """
    unit, head = df.attrs.get("header_units", {}).get("amplitude", ("", ""))
    if unit not in _TO_UV:
        return []
    notes = []
    name = Path(df.attrs.get("path", "")).name
    for test, (shown, to_uv) in AMPLITUDE_UNITS.items():
        rows = (df["test"] == test).to_numpy()
        factor = _TO_UV[unit] / to_uv
        if factor != 1.0 and rows.any():
            df.loc[rows, "amplitude"] = df.loc[rows, "amplitude"] * factor
            notes.append(f"{name}: column {head!r} converted to {shown} for {test} "
                         f"(× {factor:g})")
    return notes


def _ncv_latency_in_s(df: pd.DataFrame) -> None:
    """An NCV sheet's ``Latency (s)``, first read as a thermal value, as its onset latency.

    Only when no test of the sheet reads a ``value``: else the column stays the
    thermal tests' latency and an NCV test's missing onset latency is refused.
    """
    unit, head = df.attrs.get("header_units", {}).get("value", ("", ""))
    tests = set(df["test"])
    if (unit not in _LATENCY.units or "latency_ms" in df.columns
            or any("value" in TEST_COLUMNS.get(t, ()) for t in tests)):
        return
    df.rename(columns={"value": "latency_ms"}, inplace=True)
    df.attrs["headers"] = {**df.attrs.get("headers", {}), "latency_ms": head}
    df.attrs["scales"] = {**df.attrs.get("scales", {}),
                          "latency_ms": (_TIMES_MS[unit], head, "ms")}


def _value_from_ms(df: pd.DataFrame) -> None:
    """A thermal-test sheet whose latency column is in ms and that has no ``value``."""
    if "value" in df.columns or "latency_ms" not in df.columns:
        return
    if df["test"].isin(_LATENCY_VALUE).all():
        df["value"] = ""
        df.attrs["value_from_ms"] = True


def _aliased(df: pd.DataFrame) -> pd.DataFrame:
    renames = {c: ALIASES[c] for c in df.columns if c in ALIASES and ALIASES[c] not in df}
    out = df.rename(columns=renames)
    headers = dict(df.attrs.get("headers", {}))
    out.attrs["headers"] = {**headers, **{new: headers.get(old, old)
                                          for old, new in renames.items()}}
    return out


def read_cipn(path: str | Path, *, test: str | None = None,
              sheet: str | None = None) -> pd.DataFrame:
    """Read a long or wide CIPN sheet into one tidy frame.

    Parameters
    ----------
    path
        csv or xlsx file.
    test
        Test of sheets without a ``test`` column and of blank ``test`` cells (wide
        sheets without a ``test`` column need it).
    sheet
        Worksheet of an xlsx workbook (default: the first).

    Returns
    -------
    pandas.DataFrame
        ``row, subject, timepoint, test, trial`` and the test columns present
        (strings for ``series``/``filament``/``response``/``section``, floats for
        :data:`NUMERIC`).

    Raises
    ------
    InputError
        Unknown test, missing column, bad number, empty subject or timepoint.

    """
    df = _aliased(unit_columns(read_sheet(path, sheet=sheet), UNIT_COLUMNS))
    require_columns(df, ["subject"], what="subject")
    long = "timepoint" in df.columns
    if not long:
        df = _wide_to_long(df, test)
    if "test" not in df.columns or (df["test"] == "").all():
        if test is None:
            raise FormatError("the sheet has no 'test' column: give the test (protocol "
                              "parameter 'test')", path=df.attrs.get("path"))
        df["test"] = test
    elif test is not None:  # blank test cells take the protocol's test
        df["test"] = df["test"].where(df["test"] != "", test)
    df["test"] = df["test"].str.strip().str.lower().str.replace(r"[\s\-]+", "_", regex=True)
    _ncv_latency_in_s(df)
    _value_from_ms(df)
    _check_tests(df)
    for col in ("subject", "timepoint"):
        empty = df[col] == ""
        if empty.any():
            i = int(np.flatnonzero(empty.to_numpy())[0])
            raise InputError(f"{col} is empty", path=df.attrs.get("path"),
                             where=f"row {int(df['row'].iloc[i])}, column "
                                   f"{header_of(df, col)!r}")
    check_timepoints(df)
    if "trial" not in df.columns:
        df["trial"] = "1"
    fail_first(df, ~df["trial"].str.fullmatch(_TRIAL_LABEL), "trial",
               "expected a trial number (1, 2 ... or T1, T2 ...)")
    if "section" in df.columns:  # IENFD: one row per section (any section ID)
        df["trial"] = df["section"].where(df["section"] != "", df["trial"])
    _cutoff_marks(df)
    for col in NUMERIC:
        if col in df.columns:
            df[col] = numbers(df, col, allow_empty=True)
    df.attrs["unit_notes"] = _scaled(df)
    return df.reset_index(drop=True)


def check_timepoints(df: pd.DataFrame) -> None:
    """InputError at the first ``timepoint`` that is not a timepoint label.

    A label is a count with an optional word and unit (``day7``, ``D-1``, ``7``,
    ``week 4``, ``PND22``, ``24h``) or a session named without a number
    (:data:`NAMED_SESSIONS`). Anything else (``abc``, ``nan``, ``1e308``, a
    misspelt wide-sheet column) would otherwise become a session of its own.
    """
    ok = df["timepoint"].astype(str).map(is_timepoint).to_numpy(bool)
    if not ok.all():
        i = int(np.flatnonzero(~ok)[0])
        raise InputError(f"{_EXPECTED_TIMEPOINT}, found {df['timepoint'].iloc[i]!r}",
                         path=df.attrs.get("path"),
                         where=f"row {int(df['row'].iloc[i])}, column "
                               f"{header_of(df, 'timepoint')!r}")


_EXPECTED_TIMEPOINT = ("expected a timepoint label: a count with an optional word and unit "
                       "('day7', 'D-1', '7', 'week 4', 'PND22') or a session name "
                       "('baseline', 'pretest', 'pre-dose', 'terminal', 'recovery' ...)")


def is_timepoint(text: str) -> bool:
    """True for a timepoint label (see :func:`check_timepoints`)."""
    text = text.strip()
    return bool(_TIMEPOINT.fullmatch(text)) or label_key(text) in NAMED_SESSIONS


def _check_tests(df: pd.DataFrame) -> None:
    unknown = ~df["test"].isin(TEST_COLUMNS)
    if unknown.any():
        i = int(np.flatnonzero(unknown.to_numpy())[0])
        raise InputError(f"unknown test {df['test'].iloc[i]!r}; known: "
                         f"{', '.join(sorted(TEST_COLUMNS))}", path=df.attrs.get("path"),
                         where=where(df, i, "test"))
    headers = df.attrs.get("headers", {})
    for t in sorted(set(df["test"])):
        missing = [c for c in TEST_COLUMNS[t] if c not in df.columns]
        if missing:
            found = quoted(headers[c] for c in df.columns if c in headers and c != "row")
            raise FormatError(f"expected {t} column(s) {_spelt(missing)}, found {found}"
                              f"{_read_as_value(df, missing)}", path=df.attrs.get("path"))


def _spelt(columns: list[str]) -> str:
    """``'latency_ms' (or 'Latency (ms)', 'Onset latency (ms)')``: a column and its headers."""
    out = []
    for c in columns:
        heads = sorted(f"{b.replace('_', ' ').capitalize()} ({q.unit})"
                       for b, q in UNIT_COLUMNS.items() if q.column == c and c != "value")
        out.append(f"{c!r}" + (f" (or {quoted(heads)})" if heads else ""))
    return ", ".join(out)


def _read_as_value(df: pd.DataFrame, missing: list[str]) -> str:
    """Why a ``Latency (s)`` header is not an NCV test's onset latency, when it is missing."""
    unit, head = df.attrs.get("header_units", {}).get("value", ("", ""))
    if "latency_ms" not in missing or unit not in _LATENCY.units:
        return ""
    tests = sorted(t for t in set(df["test"]) if "value" in TEST_COLUMNS.get(t, ()))
    return (f"; {head!r} is read as the latency in s ('value') of the sheet's "
            f"{', '.join(tests)} rows: give the NCV onset latency a column of its own")


def _wide_to_long(df: pd.DataFrame, test: str | None) -> pd.DataFrame:
    """One row per animal × session column (× trial) from a wide lab sheet.

    ``attrs['session_columns']``: ``(header as written, timepoint, trial)`` of each
    session column, for messages naming the file's own headers.
    """
    sessions = [c for c in df.columns if c not in WIDE_ID and c not in NOTE_COLUMNS
                and not c.endswith("_filament")]
    if not sessions:
        raise FormatError("expected a 'timepoint' column (long layout) or one column per "
                          "session (wide layout), found neither", path=df.attrs.get("path"))
    kind = test or (df["test"].iloc[0] if "test" in df.columns else "")
    parts, columns = [], []
    for col in sessions:
        m = _TRIAL.match(col)
        tp, trial = (m.group(1), m.group(2)) if m else (col, "1")
        columns.append((header_of(df, col), tp, trial))
        if not is_timepoint(tp.replace("_", " ")):
            head = header_of(df, col)
            raise InputError(f"column {head!r} is not a session of the wide layout: "
                             f"{_EXPECTED_TIMEPOINT}", path=df.attrs.get("path"),
                             where=f"row {df.attrs.get('header_row', 1)}, column {head!r}")
        part = pd.DataFrame({"row": df["row"], "subject": df["subject"], "timepoint": tp,
                             "trial": trial, "_column": col})
        if "test" in df.columns:
            part["test"] = df["test"]
        cell = df[col]
        if kind == "von_frey_updown":
            part["series"], part["filament"] = _split_updown(df, col)
        else:
            part["value"] = cell
        parts.append(part[cell != ""])
    out = pd.concat(parts, ignore_index=True).sort_values(["row", "_column"], kind="stable")
    out.attrs = {**df.attrs, "session_columns": columns}
    return out.drop(columns="_column").reset_index(drop=True)


def _split_updown(df: pd.DataFrame, col: str) -> tuple[pd.Series, pd.Series]:
    """Series and last filament of one session column (cell ``oxooxx/5`` or a column pair)."""
    pair = f"{col}_filament"
    if pair in df.columns:
        return df[col], df[pair]
    series, filament = [], []
    for i, text in enumerate(df[col]):
        m = _IN_CELL.match(text)
        if text and not m:
            raise InputError(f"expected a response series with its last filament "
                             f"('oxooxx/5') or a column {pair!r}, found {text!r}",
                             path=df.attrs.get("path"), where=where(df, i, col))
        series.append(m.group(1) if m else "")
        filament.append(m.group(2) if m else "")
    return pd.Series(series, index=df.index), pd.Series(filament, index=df.index)
