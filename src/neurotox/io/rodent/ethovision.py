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
from neurotox.errors import FormatError, quoted
from neurotox.files import check_nul, read_bytes
from neurotox.io.rodent.base import (
    Reader,
    RodentData,
    identity,
    is_excel,
    register_reader,
    sniff_lines,
)
from neurotox.io.text import check_row_lengths

_MAGIC = "number of header lines:"
_ZONE = re.compile(r"^In zone\((?P<zone>.+?) / (?P<point>[A-Za-z]+)-point\)$")
# "Subject ID" is EthoVision's subject slot in the arena (0, 1, ...), never an animal
_SUBJECT_KEYS = ("mouse id", "animal id", "rat id", "animal", "subject")
#: Units EthoVision may write for a time column, as seconds per unit.
TIME_UNITS = {"s": 1.0, "sec": 1.0, "ms": 1e-3, "min": 60.0, "h": 3600.0}
_TIME_COLUMNS = ("Trial time", "Recording time")
_MISSING = ("-", "", "nan", "None")
#: Samples the data may end away from the header's duration (EthoVision ends one sample short).
DURATION_TOLERANCE_SAMPLES = 3


def _first_rows_xlsx(path: Path, n: int) -> list[tuple]:
    from neurotox.workbook import sheet_rows

    sheets = list(sheet_rows(path, max_rows=n).values())
    return sheets[0] if sheets else []


def _match(path: Path) -> bool:
    if is_excel(path):
        first = _first_rows_xlsx(path, 1)
        return bool(first) and str(first[0][0]).strip().lower() == _MAGIC
    lines = sniff_lines(path, 1)
    return bool(lines) and lines[0].strip('"').lower().startswith(_MAGIC)


def _header_count(first: list | tuple, path: Path) -> int:
    try:
        n = int(str(first[1]).strip())
    except (IndexError, ValueError, TypeError):
        raise FormatError("expected 'Number of header lines:' followed by an integer in "
                          "row 1", path=path) from None
    if n < 3:
        raise FormatError(f"'Number of header lines:' says {n}; expected at least 3 (metadata, "
                          "column names, units)", path=path, where="row 1")
    return n


def _cell(c: object) -> str:
    return "" if c is None else str(c).strip()


def _is_track(rows: list[tuple]) -> bool:
    """A sheet of samples with zone columns (not the ``Trial Control`` event sheet)."""
    if not rows or len(rows[0]) < 2 or _cell(rows[0][0]).lower() != _MAGIC:
        return False
    try:
        names = rows[int(_cell(rows[0][1])) - 2]
    except (ValueError, IndexError):
        return False
    return any(_ZONE.match(_cell(c)) for c in names)


def _track_sheet(path: Path) -> list[tuple]:
    """Rows of the workbook's one track sheet; FormatError when it holds several.

    A multi-arena export has a ``Track-Arena N-Subject M`` sheet per arena and
    subject: each is a trial of its own, which one file cannot stand for here.
    """
    from neurotox.workbook import sheet_rows

    sheets = sheet_rows(path)
    tracks = [name for name, rows in sheets.items() if _is_track(rows)]
    if len(tracks) > 1:
        raise FormatError(f"the workbook holds {len(tracks)} track sheets ({quoted(tracks)}), "
                          "one per arena or subject; give each trial in a file of its own "
                          "(export per arena, or save each sheet as a workbook)", path=path)
    return sheets[tracks[0]] if tracks else next(iter(sheets.values()), [])


def _xlsx_parts(path: Path) -> tuple[int, list[tuple], list[str], list[str], pd.DataFrame]:
    rows = _track_sheet(path)
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
    m = re.fullmatch(r"\+?\s*(\d+):(\d{1,2}):(\d{1,2}(?:[.,]\d+)?)", (text or "").strip())
    if not m:
        return None
    h, mi, s = m.groups()
    return int(h) * 3600 + int(mi) * 60 + float(s.replace(",", "."))


def _time_seconds(data: pd.DataFrame, column: str, unit: str, first: int,
                  path: Path, notes: list[str]) -> np.ndarray:
    """A time column in seconds: unit from the units row, numbers checked, strictly increasing."""
    u = unit.strip()
    if u and u.lower() not in TIME_UNITS:
        raise FormatError(f"column {column!r} is in {u!r} (units row); expected a time in "
                          f"{', '.join(TIME_UNITS)}", path=path, where=f"row {first - 1}")
    values = pd.to_numeric(data[column], errors="coerce").to_numpy(float)
    bad = np.flatnonzero(~np.isfinite(values))
    if len(bad):
        raise FormatError(f"expected a time, found {_cell(data[column].iloc[bad[0]])!r}",
                          path=path, where=f"row {first + bad[0]}, column {column!r}")
    scale = TIME_UNITS.get(u.lower(), 1.0)
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
    lost: dict[str, np.ndarray] = {}
    for c, m in zones.items():
        point = m.group("point").lower()
        out[f"{point}:{m.group('zone')}"], miss = _zone_flags(data, c, first, path)
        lost[point] = lost.get(point, np.zeros(len(data), bool)) | miss
    return pd.DataFrame(out), times, {p: int(v.sum()) for p, v in lost.items()}


def _gap_samples(t: np.ndarray, dt: float) -> int:
    """Samples absent from the time column: steps longer than 1.5 intervals.

    Counted in the mean of the regular steps (``dt`` is their median, which
    EthoVision's times rounded to the ms bias: 0.033 s at 30 Hz).
    """
    if len(t) < 2 or not np.isfinite(dt) or dt <= 0:
        return 0
    steps = np.diff(t)
    long = steps > 1.5 * dt
    if not long.any():
        return 0
    regular = float(steps[~long].mean()) if (~long).any() else dt
    return int(np.round(steps[long] / regular).sum() - long.sum())


def read_ethovision(path: Path, *, subject: str | None = None, **_: Any) -> RodentData:
    """Read an EthoVision XT raw-data export into per-sample zone flags.

    Returns
    -------
    RodentData
        kind ``zone_samples``: ``time_s`` and one 0/1 column ``<point>:<zone>``
        per exported zone (missing samples ``-`` count as outside); ``meta`` holds
        ``subject`` (user-defined variable such as ``mouse ID``; else the
        ``subject`` given by the caller, else the file name, said in the notes),
        ``trial``, ``start_time``, ``sample_interval_s``, the tracking losses
        (``missing_samples``: per body point, samples with ``-`` in its zone
        columns; ``gap_samples``: samples absent from the time column;
        ``n_samples``) and the full header.

    """
    n_header, head, names, units, data = (_xlsx_parts if is_excel(path) else _text_parts)(path)
    meta = _metadata(head)
    notes: list[str] = []
    samples, times, missing = _samples(names, units, data, n_header + 1, path, notes)
    # sample times are exported to the ms: round away floating-point noise of the median step
    dt = round(float(np.median(np.diff(samples["time_s"]))), 6) if len(samples) > 1 else np.nan
    _check_duration(times, dt, meta, path)
    gaps = _gap_samples(samples["time_s"].to_numpy(), dt)
    subj, how = identity(_subject(meta), subject, path, "subject")
    info = {"subject": subj,
            "trial": re.sub(r"\s+", " ", meta.get("Trial name", path.stem)),
            "start_time": meta.get("Start time", ""), "sample_interval_s": dt,
            "missing_samples": missing, "gap_samples": gaps, "n_samples": len(samples),
            "header": meta}
    return RodentData("zone_samples", path, "ethovision-raw", table=samples, meta=info,
                      notes=[f"{path.name}: {how}; trial {info['trial']!r}", *notes])


register_reader(Reader("ethovision-raw", "zone_samples",
                       "EthoVision XT raw-data export ('Number of header lines:' in A1)",
                       _match, read_ethovision))
