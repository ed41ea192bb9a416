"""US EPA ``lmr0`` wide tables: one row per larva of a whole light/dark screen.

Layout
------
``srcf, acid, cpid, apid, rowi, coli, wllt, wllq, conc, vt1 … vtN`` and optionally
an experimental-group ID (``egid``), as the EPA's tcpl-style level-0 tables (and
the ``gabi`` R package) hold them; csv or csv.gz.

* ``cpid`` chemical (kept as text: ``725`` stays ``"725"``), ``apid`` plate,
  ``rowi``/``coli`` 1-based row and column of the well;
* ``wllt`` well type (``t`` test, ``v`` vehicle control), ``wllq`` well quality
  (1 usable, 0 removed by the lab; the larva is excluded with that reason);
* ``conc`` concentration (µM; vehicle wells 0);
* ``vt1 … vtN`` distance moved per interval in cm (EPA light/dark data),
  converted here to mm (x10) like the EPA light/dark xlsx.

The interval width comes from the assay ID ``acid`` when it names the phase
lengths in minutes (``ZFlmrALD-20-40-40``: 100 min over 50 intervals = 2 min);
otherwise the EPA's 2-min bins are assumed. Either is recorded in the notes.

References
----------
Hunter DL et al. (2020) and Rowson ZR (gabi package, US EPA): DNT-60 larval
light/dark data in lmr0 format.

"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from neurotox.errors import FormatError
from neurotox.io.zebrafish._tables import (
    load_table,
    normalise_columns,
    numeric,
    plate_id,
    row_where,
)
from neurotox.io.zebrafish.base import (
    BIN_COLUMNS,
    Export,
    Reader,
    Source,
    norm,
    register_reader,
    require_columns,
)

_VT = re.compile(r"^vt_?(\d+)$")
_ACID_MINUTES = re.compile(r"(?:^|-)(\d+(?:\.\d+)?)(?=-|$)")
#: Interval width assumed when the assay ID does not give the phase lengths.
DEFAULT_INTERVAL_S = 120.0
#: Column names accepted for the experimental-group ID.
EGID_ALIASES = {"egid": "egid", "exp_group": "egid", "experimental_group": "egid",
                "expgrp": "egid"}
REQUIRED = ["cpid", "apid", "rowi", "coli", "wllq", "conc"]
WLLQ_REASON = "removed by the lab (wllq = 0)"


def _first_row(src: Source) -> list[str]:
    rows = src.first_rows()
    return [norm(c) for c in next((r for r in rows if any(r)), []) if c]


def _match(src: Source) -> bool:
    cols = set(_first_row(src))
    return {"apid", "rowi", "coli", "wllq"} <= cols and any(_VT.match(c) for c in cols)


def interval_seconds(acids: pd.Series, n_intervals: int) -> tuple[float, str]:
    """Interval width from the assay ID (``…-20-40-40`` minutes) and how it was found."""
    uniq = sorted({str(a).strip() for a in acids.dropna()} - {""})
    if len(uniq) == 1:
        minutes = [float(m) for m in _ACID_MINUTES.findall(uniq[0])]
        if len(minutes) >= 2:
            width = sum(minutes) * 60 / n_intervals
            return width, (f"interval width {width:g} s from assay ID {uniq[0]!r} "
                           f"({'+'.join(f'{m:g}' for m in minutes)} min over {n_intervals} "
                           "intervals)")
    return DEFAULT_INTERVAL_S, (f"interval width not given by the assay ID; assumed "
                                f"{DEFAULT_INTERVAL_S:g} s (EPA 2-min bins)")


def _num(v: float) -> str:
    return "blank" if np.isnan(v) else f"{float(v):g}"


def _wells(df: pd.DataFrame, src: Source) -> pd.Series:
    numeric(df, ["rowi", "coli"], src)
    for col, top in (("rowi", 16), ("coli", 24)):
        v = df[col]
        bad = v.isna() | (v < 1) | (v > top) | (v != v.round())
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            raise FormatError(f"expected a whole number 1-{top}, found {_num(v.iloc[i])}",
                              path=src.path, where=f"{row_where(df, src, i)}, column {col!r}")
    rows = df["rowi"].astype(int).map(lambda r: chr(64 + r))
    return rows + df["coli"].astype(int).map(lambda c: f"{c:02d}")


def _quality(df: pd.DataFrame, src: Source) -> pd.Series:
    numeric(df, ["wllq"], src)
    q = df["wllq"]
    bad = ~q.isin([0.0, 1.0])
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise FormatError(f"expected well quality 0 or 1, found {_num(q.iloc[i])}", path=src.path,
                          where=f"{row_where(df, src, i)}, column 'wllq'")
    return q.astype(int)


def _text(df: pd.DataFrame, col: str) -> pd.Series:
    return df[col].fillna("").astype(str).str.strip()


def _read(src: Source) -> Export:
    df = normalise_columns(load_table(src, dtype=str), EGID_ALIASES, src=src)
    cols = list(df.columns)
    require_columns(cols, REQUIRED, path=src.path)
    vts = sorted((c for c in cols if _VT.match(c)), key=lambda c: int(_VT.match(c).group(1)))
    numeric(df, vts, src, nonnegative=True)   # distance per bin
    numeric(df, ["conc"], src, nonnegative=True)
    well, quality = _wells(df, src), _quality(df, src)
    plate = plate_id(_text(df, "apid"))
    wllt = _text(df, "wllt").str.lower() if "wllt" in cols else pd.Series("", index=df.index)
    vehicle = wllt.eq("v") if "wllt" in cols else df["conc"].fillna(0).eq(0)
    conc = df["conc"].mask(vehicle & df["conc"].isna(), 0.0)
    width, how = interval_seconds(df["acid"] if "acid" in cols else pd.Series(dtype=str),
                                  len(vts))
    with np.errstate(over="ignore"):   # 1e308 cm → inf mm: refused as not finite below
        values = df[vts].to_numpy(float) * 10.0
    n, k = values.shape
    idx = np.tile(np.arange(k), n)
    data = pd.DataFrame({"plate": np.repeat(plate.to_numpy(), k),
                         "well": np.repeat(well.to_numpy(), k),
                         "animal": np.repeat(well.to_numpy(), k), "bin": idx,
                         "start_s": idx * width, "end_s": (idx + 1) * width,
                         "distance": values.reshape(-1)})
    info = pd.DataFrame({"plate": plate, "well": well, "concentration": conc,
                         "chemical": _text(df, "cpid"), "vehicle": vehicle.to_numpy(),
                         "wllt": wllt, "wllq": quality,
                         "exclusion_reason": np.where(quality == 0, WLLQ_REASON, "")})
    if "egid" in cols:
        info["experimental_group"] = _text(df, "egid")
    notes = [how, "distance converted from cm to mm (x10)",
             f"{int((quality == 0).sum())} of {n} larvae have wllq = 0 (excluded)"]
    data = data[list(BIN_COLUMNS)].sort_values(["plate", "animal", "bin"]).reset_index(drop=True)
    return Export("epa-lmr0", "bins", data, src.path, notes, info)


register_reader(Reader(
    "epa-lmr0",
    "US EPA lmr0 wide table (csv or csv.gz): cpid, apid, rowi, coli, wllt, wllq, conc, "
    "vt1 … vtN [, egid]",
    _match, _read))
