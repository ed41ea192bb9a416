"""EthoVision XT "Export raw data" files (xlsx, or the text export).

Layout: row 1 ``Number of header lines:``, N; then key/value metadata rows
(Experiment, Trial name, Start time, ..., user-defined independent variables such
as ``mouse ID``), a column-name row and a units row (rows N-1 and N), then one
row per video sample. Missing samples are the string ``-``. Zone membership is
exported per body point as ``In zone(<zone> / <Point>-point)`` 0/1 columns.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from neurotox.errors import FormatError, quoted
from neurotox.files import check_text
from neurotox.io.rodent.base import (
    Reader,
    RodentData,
    identity,
    is_excel,
    register_reader,
    sniff_lines,
)

_MAGIC = "number of header lines:"
_ZONE = re.compile(r"^In zone\((?P<zone>.+?) / (?P<point>[A-Za-z]+)-point\)$")
_SUBJECT_KEYS = ("mouse id", "animal id", "rat id", "subject id", "animal", "subject")


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


def _all_rows(path: Path) -> list[tuple]:
    if is_excel(path):
        return _first_rows_xlsx(path, 10**9)
    raw = path.read_text(encoding="utf-8-sig", errors="replace")
    check_text(raw, path)
    text = raw.splitlines()
    sep = ";" if text[0].count(";") > text[0].count(",") else ","
    return [tuple(c.strip().strip('"') for c in line.split(sep)) for line in text]


def _metadata(rows: list[tuple]) -> dict[str, str]:
    meta = {}
    for r in rows:
        if r and r[0] is not None and len(r) > 1 and r[1] is not None:
            meta[str(r[0]).strip()] = str(r[1]).strip()
    return meta


def _subject(meta: dict[str, str]) -> str | None:
    lower = {k.lower(): v for k, v in meta.items()}
    return next((lower[k] for k in _SUBJECT_KEYS if lower.get(k)), None)


def _samples(rows: list[tuple], n_header: int, path: Path) -> pd.DataFrame:
    names = [str(c).strip() if c is not None else "" for c in rows[n_header - 2]]
    data = pd.DataFrame([r[:len(names)] for r in rows[n_header:]], columns=names)
    if "Trial time" not in data.columns:
        raise FormatError(f"expected column 'Trial time' in header row {n_header - 1}, found "
                          f"{quoted(c for c in names if c)}", path=path)
    zones = {c: m for c in names if (m := _ZONE.match(c))}
    if not zones:
        raise FormatError("expected 'In zone(<zone> / <Point>-point)' columns, found none",
                          path=path)
    out = {"time_s": pd.to_numeric(data["Trial time"], errors="coerce").to_numpy(float)}
    for c, m in zones.items():
        col = pd.to_numeric(data[c], errors="coerce")  # "-" (missing sample) -> NaN
        out[f"{m.group('point').lower()}:{m.group('zone')}"] = col.fillna(0).to_numpy(float)
    return pd.DataFrame(out)


def read_ethovision(path: Path, *, subject: str | None = None, **_: Any) -> RodentData:
    """Read an EthoVision XT raw-data export into per-sample zone flags.

    Returns
    -------
    RodentData
        kind ``zone_samples``: ``time_s`` and one 0/1 column ``<point>:<zone>``
        per exported zone (missing samples count as outside); ``meta`` holds
        ``subject`` (user-defined variable such as ``mouse ID``; else the
        ``subject`` given by the caller, else the file name, said in the notes),
        ``trial``, ``start_time``, ``sample_interval_s`` and the full header.

    """
    rows = _all_rows(path)
    try:
        n_header = int(str(rows[0][1]).strip())
    except (IndexError, ValueError, TypeError):
        raise FormatError("expected 'Number of header lines:' followed by an integer in "
                          "row 1", path=path) from None
    if len(rows) <= n_header:
        raise FormatError(f"header says {n_header} header lines but the sheet has "
                          f"{len(rows)} rows", path=path)
    meta = _metadata(rows[1:n_header - 2])
    samples = _samples(rows, n_header, path)
    # sample times are exported to the ms: round away floating-point noise of the median step
    dt = round(float(np.nanmedian(np.diff(samples["time_s"]))), 6) if len(samples) > 1 else np.nan
    subj, how = identity(_subject(meta), subject, path, "subject")
    info = {"subject": subj,
            "trial": re.sub(r"\s+", " ", meta.get("Trial name", path.stem)),
            "start_time": meta.get("Start time", ""), "sample_interval_s": dt, "header": meta}
    return RodentData("zone_samples", path, "ethovision-raw", table=samples, meta=info,
                      notes=[f"{path.name}: {how}; trial {info['trial']!r}"])


register_reader(Reader("ethovision-raw", "zone_samples",
                       "EthoVision XT raw-data export ('Number of header lines:' in A1)",
                       _match, read_ethovision))
