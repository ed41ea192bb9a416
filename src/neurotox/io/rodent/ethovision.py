"""EthoVision XT "Export raw data" files (xlsx, or the text export).

Layout: row 1 ``Number of header lines:``, N; then key/value metadata rows
(Experiment, Trial name, Start time, Trial duration, Recording duration, ...,
user-defined independent variables such as ``mouse ID``), a column-name row and a
units row (rows N-1 and N), then one row per video sample. Missing samples are
the string ``-``. Zone membership is exported per body point as
``In zone(<zone> / <Point>-point)`` 0/1 columns.

The text export is read by the package's delimited-text reader
(:func:`neurotox.delimited.read_table`: UTF-8, UTF-16 with BOM or Windows-1252;
``,``, ``;`` or tab; quoted cells; decimal commas in ``;``/tab files). Checked
before any number is used: the units of ``Trial time``/``Recording time``
(seconds; ms, min and h converted), time strictly increasing (a step back or a
repeated time is refused naming the line), zone cells 0, 1 or ``-``, every line
as long as the header, and the last sample against the header's
``Recording duration`` (``Trial duration``): a cut export is refused.

A multi-arena workbook holds one ``Track-Arena N-Subject M`` sheet per arena
and subject: each is a trial of its own, read with the same checks, its subject
from its own header block (:func:`read_ethovision_trials`). Hidden sheets are
not read (said in the notes); ``Trial Control`` event sheets are not tracks.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from neurotox.delimited import decode, guess_delimiter, read_table
from neurotox.errors import FormatError, InputError, quoted
from neurotox.files import check_nul, read_bytes
from neurotox.io.clock import clock_seconds
from neurotox.io.ethovision_blocks import column_names, header_count, opens_block, track_sheets
from neurotox.io.rodent.base import (
    Reader,
    RodentData,
    identity,
    is_excel,
    register_reader,
    sniff_lines,
)
from neurotox.io.rodent.samples import (
    TIME_UNIT_NAMES,
    gap_steps,
    lost_per_point,
    samples_in_gaps,
    seconds_per,
)
from neurotox.io.text import check_row_lengths

_ZONE = re.compile(r"^In zone\((?P<zone>.+?) / (?P<point>[A-Za-z]+)-point\)$")
# "Subject ID" is EthoVision's subject slot in the arena (0, 1, ...), never an animal
_SUBJECT_KEYS = ("mouse id", "animal id", "rat id", "animal", "subject")
_TIME_COLUMNS = ("Trial time", "Recording time")
_MISSING = ("-", "", "nan", "None")
#: Samples the data may end away from the header's duration (EthoVision ends one sample short).
DURATION_TOLERANCE_SAMPLES = 3


def _first_rows_xlsx(path: Path, n: int) -> list[tuple]:
    from neurotox.workbook import sheet_rows

    sheets = list(sheet_rows(path, max_rows=n).values())
    return sheets[0] if sheets else []


def _match(path: Path) -> bool:
    """A1 (a text file's first line) opens an EthoVision header block (folded, as read)."""
    if is_excel(path):
        first = _first_rows_xlsx(path, 1)
        return bool(first) and bool(first[0]) and opens_block(first[0][0])
    lines = sniff_lines(path, 1)
    return bool(lines) and opens_block(lines[0])


def _header_count(first: list | tuple, path: Path) -> int:
    n = header_count(first)
    if n is None:
        raise FormatError("expected 'Number of header lines:' followed by an integer in "
                          "row 1", path=path)
    if n < 3:
        raise FormatError(f"'Number of header lines:' says {n}; expected at least 3 (metadata, "
                          "column names, units)", path=path, where="row 1")
    return n


def _cell(c: object) -> str:
    return "" if c is None else str(c).strip()


def _track_sheets(path: Path) -> tuple[dict[str, list[tuple]], list[str]]:
    """The workbook's track sheets (name -> rows, in workbook order) and notes.

    A track sheet opens with an EthoVision header block and has zone columns (a
    ``Trial Control`` event sheet has the block but no zones). Hidden track sheets
    are not read, said in the notes. Without any track sheet, the first sheet is
    returned so that the checks name what it lacks.
    """
    from neurotox.workbook import hidden_sheets, sheet_rows

    sheets = sheet_rows(path)
    tracks = {name: sheets[name] for name, n in track_sheets(sheets).items()
              if any(_ZONE.match(c) for c in column_names(sheets[name], n))}
    hidden = sorted(set(tracks) & hidden_sheets(path))
    notes = [f"warning: {path.name}: hidden track sheet(s) {quoted(hidden)} not read (unhide "
             "them to analyse their trials)"] if hidden else []
    tracks = {name: rows for name, rows in tracks.items() if name not in hidden}
    if not tracks:
        first = next(iter(sheets), "")
        tracks = {first: sheets.get(first, [])}
    return tracks, notes


def _xlsx_parts(rows: list[tuple], path: Path
                ) -> tuple[int, list[tuple], list[str], list[str], pd.DataFrame]:
    n = _header_count(rows[0] if rows else (), path)
    if len(rows) <= n:
        raise FormatError(f"header says {n} header lines but the sheet has {len(rows)} rows",
                          path=path)
    names = [_cell(c) for c in rows[n - 2]]
    units = [_cell(c) for c in rows[n - 1]] + [""] * len(names)
    data = pd.DataFrame([r[:len(names)] for r in rows[n:]], columns=names)
    return n, rows[1:n - 2], names, units[:len(names)], data


def _text_parts(path: Path) -> tuple[int, list[list[str]], list[str], list[str], pd.DataFrame]:
    text, encoding = decode(read_bytes(path), path)
    lines = text.splitlines()
    sep = guess_delimiter(lines[0]) if lines else ","
    check_nul(text, path, sep=sep)
    n = _header_count(next(csv.reader(lines[:1], delimiter=sep), []), path)
    if len(lines) <= n:
        raise FormatError(f"header says {n} header lines but the file has {len(lines)} "
                          "lines", path=path)
    head = list(csv.reader(io.StringIO("\n".join(lines[1:n - 2])), delimiter=sep))
    names = next(csv.reader(lines[n - 2:n - 1], delimiter=sep), [])
    if "Trial time" not in [c.strip() for c in names]:
        raise FormatError(f"expected the column names ('Trial time' ...) on line {n - 1}, as "
                          f"'Number of header lines: {n}' says; found {lines[n - 2][:40]!r}",
                          path=path, where=f"line {n - 1}")
    check_row_lengths(text, sep, path, skiprows=n - 2)   # a cut last line is refused here
    table = read_table(path, text=text, encoding=encoding, sep=sep, skiprows=n - 2).data
    names = [str(c) for c in table.columns]
    units = [str(u).strip() for u in table.iloc[0]] if len(table) else [""] * len(names)
    return n, head, names, units, table.iloc[1:].reset_index(drop=True)


def _metadata(rows: list) -> dict[str, str]:
    meta = {}
    for r in rows:
        if r and r[0] is not None and len(r) > 1 and r[1] is not None:
            meta[str(r[0]).strip()] = str(r[1]).strip()
    return meta


def _subject(meta: dict[str, str]) -> str | None:
    lower = {k.lower(): v for k, v in meta.items()}
    return next((lower[k] for k in _SUBJECT_KEYS if lower.get(k)), None)


def _duration_s(text: str | None) -> float | None:
    """Seconds of a header duration such as ``+ 00:03:04.665``; None when absent or unreadable."""
    return clock_seconds(text or "")


def _time_seconds(data: pd.DataFrame, column: str, unit: str, first: int,
                  path: Path, notes: list[str]) -> np.ndarray:
    """A time column in seconds: unit from the units row, numbers checked, strictly increasing."""
    u = unit.strip()
    scale = seconds_per(u)
    if scale is None:
        raise FormatError(f"column {column!r} is in {u!r} (units row); expected a time in "
                          f"{TIME_UNIT_NAMES}", path=path, where=f"row {first - 1}")
    values = pd.to_numeric(data[column], errors="coerce").to_numpy(float)
    bad = np.flatnonzero(~np.isfinite(values))
    if len(bad):
        raise FormatError(f"expected a time, found {_cell(data[column].iloc[bad[0]])!r}",
                          path=path, where=f"row {first + bad[0]}, column {column!r}")
    if scale != 1.0:
        notes.append(f"{path.name}: column {column!r} in {u} converted to s")
    values = values * scale
    step = np.diff(values)
    back = np.flatnonzero(step <= 0)
    if len(back):
        i = int(back[0]) + 1
        what = ("repeats the sample before it (duplicated frames?)" if step[i - 1] == 0 else
                f"is earlier than the sample before it ({values[i - 1]:g} s)")
        raise FormatError(f"time {values[i]:g} s {what}; {column!r} must increase from sample "
                          "to sample", path=path, where=f"row {first + i}, column {column!r}")
    return values


def _zone_flags(data: pd.DataFrame, column: str, first: int, path: Path
                ) -> tuple[np.ndarray, np.ndarray]:
    """(0/1 flags with missing samples as 0, missing mask); other values refused."""
    cells = data[column]
    num = pd.to_numeric(cells, errors="coerce").to_numpy(float)
    missing = np.isnan(num) & (cells.isna() | cells.isin(_MISSING)).to_numpy(bool)
    bad = np.flatnonzero(~missing & ~np.isin(num, (0.0, 1.0)))
    if len(bad):
        raise FormatError(f"expected 0, 1 or '-' (zone membership), found "
                          f"{_cell(cells.iloc[bad[0]])!r}", path=path,
                          where=f"row {first + bad[0]}, column {column!r}")
    return np.where(missing, 0.0, num), missing


def _check_duration(times: dict[str, np.ndarray], dt: float, meta: dict[str, str],
                    path: Path) -> None:
    """FormatError when the samples end away from the header's recording (trial) duration."""
    for column, key in (("Recording time", "Recording duration"), ("Trial time",
                                                                    "Trial duration")):
        t, expected = times.get(column), _duration_s(meta.get(key))
        if t is None or expected is None or not np.isfinite(dt):
            continue
        end = float(t[-1]) + dt    # the last sample lasts one interval
        if abs(end - expected) > DURATION_TOLERANCE_SAMPLES * dt:
            what = "the export is cut short (truncated file?)" if end < expected else \
                "the samples run past it (header edited, or two exports joined?)"
            raise FormatError(f"the samples end at {end:.3f} s ({column!r} of the last sample "
                              f"plus one sample) but the header's {key} is {expected:.3f} s: "
                              f"{what}", path=path)
        return


def _samples(names: list[str], units: list[str], data: pd.DataFrame, first: int,
             path: Path, notes: list[str]) -> tuple[pd.DataFrame, dict[str, np.ndarray],
                                                    dict[str, int]]:
    if "Trial time" not in names:
        raise FormatError(f"expected column 'Trial time' in header row {first - 2}, found "
                          f"{quoted(c for c in names if c)}", path=path)
    zones = {c: m for c in names if (m := _ZONE.match(c))}
    if not zones:
        raise FormatError("expected 'In zone(<zone> / <Point>-point)' columns, found none",
                          path=path)
    unit = dict(zip(names, units, strict=False))
    times = {c: _time_seconds(data, c, unit.get(c, ""), first, path, notes)
             for c in _TIME_COLUMNS if c in names}
    out = {"time_s": times["Trial time"]}
    missing = []
    for c, m in zones.items():
        point = m.group("point").lower()
        out[f"{point}:{m.group('zone')}"], miss = _zone_flags(data, c, first, path)
        missing.append((point, miss))
    return pd.DataFrame(out), times, lost_per_point(missing, every=False)


def _gap_samples(t: np.ndarray, dt: float) -> int:
    """Samples absent from the time column: steps longer than 1.5 intervals.

    Counted in the mean of the regular steps (``dt`` is their median, which
    EthoVision's times rounded to the ms bias: 0.033 s at 30 Hz).
    """
    steps = np.diff(t)
    gaps = gap_steps(steps, dt, factor=1.5)
    regular = float(steps[~gaps].mean()) if (~gaps).any() else dt
    return samples_in_gaps(steps, gaps, regular)


def read_ethovision(path: Path, *, subject: str | None = None, **_: Any) -> RodentData:
    """Read an EthoVision XT raw-data export holding one trial (see :func:`read_ethovision_trials`).

    A workbook with several track sheets is refused, naming them.
    """
    trials = read_ethovision_trials(path, subject=subject)
    if len(trials) > 1:
        raise FormatError(f"the workbook holds {len(trials)} track sheets "
                          f"({quoted(d.sheet for d in trials)}), one trial each; read it with "
                          "read_rodent_trials", path=path)
    return trials[0]


def read_ethovision_trials(path: Path, *, subject: str | None = None, **_: Any
                           ) -> list[RodentData]:
    """Read an EthoVision XT raw-data export: one trial per track sheet (text: one trial).

    Returns
    -------
    list of RodentData
        kind ``zone_samples``, one per trial: ``time_s`` and one 0/1 column
        ``<point>:<zone>`` per exported zone (missing samples ``-`` count as
        outside); ``meta`` holds ``subject`` (user-defined variable such as
        ``mouse ID``; else the ``subject`` given by the caller, else the file
        name, said in the notes), ``trial``, ``start_time``,
        ``sample_interval_s``, the tracking losses (``missing_samples``: per body
        point, samples with ``-`` in its zone columns; ``gap_samples``: samples
        absent from the time column; ``n_samples``) and the full header. The
        trials of a multi-arena workbook carry their sheet name (``sheet``).

    Notes
    -----
    In a workbook with several track sheets every sheet must name its animal
    (``mouse ID`` ...): the file name or one ``subject`` given for the file
    cannot stand for several animals.

    """
    if not is_excel(path):
        return [_trial(path, _text_parts(path), subject, None)]
    tracks, notes = _track_sheets(path)
    several = len(tracks) > 1
    if several and subject is not None:
        raise InputError(f"file_subjects gives one subject ({subject!r}) for a workbook of "
                         f"{len(tracks)} track sheets ({quoted(tracks)}); each sheet names its "
                         "own animal: remove the file from file_subjects", path=path)
    out = []
    for name, rows in tracks.items():
        try:
            out.append(_trial(path, _xlsx_parts(rows, path), subject, name if several else None))
        except FormatError as exc:
            if not several:
                raise
            where = ", ".join(w for w in (f"sheet {name!r}", exc.where) if w)
            raise FormatError(exc.detail, path=path, where=where) from None
    out[0].notes[:0] = notes
    return out


def _trial(path: Path, parts: tuple, subject: str | None, sheet: str | None) -> RodentData:
    """One trial from the parts of its header block and samples (``sheet``: of several)."""
    n_header, head, names, units, data = parts
    meta = _metadata(head)
    notes: list[str] = []
    samples, times, missing = _samples(names, units, data, n_header + 1, path, notes)
    # sample times are exported to the ms: round away floating-point noise of the median step
    dt = round(float(np.median(np.diff(samples["time_s"]))), 6) if len(samples) > 1 else np.nan
    _check_duration(times, dt, meta, path)
    gaps = _gap_samples(samples["time_s"].to_numpy(), dt)
    found = _subject(meta)
    if sheet is not None and found is None:
        raise FormatError(f"no animal named in the header block (expected one of "
                          f"{quoted(_SUBJECT_KEYS)}); a workbook with several track sheets "
                          "needs the animal of each", path=path)
    subj, how = identity(found, subject, path, "subject")
    info = {"subject": subj,
            "trial": re.sub(r"\s+", " ", meta.get("Trial name", path.stem)),
            "start_time": meta.get("Start time", ""), "sample_interval_s": dt,
            "missing_samples": missing, "gap_samples": gaps, "n_samples": len(samples),
            "header": meta}
    data = RodentData("zone_samples", path, "ethovision-raw", table=samples, meta=info,
                      sheet=sheet)
    data.notes = [f"{data.name}: {how}; trial {info['trial']!r}",
                  *(n.replace(f"{path.name}:", f"{data.name}:", 1) for n in notes)]
    return data


register_reader(Reader("ethovision-raw", "zone_samples",
                       "EthoVision XT raw-data export ('Number of header lines:' in A1)",
                       _match, read_ethovision, read_ethovision_trials))
