"""The sample sheet: which study subject, matrix and time point each sample ID is.

A CSV/TSV or xlsx table with the columns (case, spaces and ``_`` ignored;
aliases in brackets):

``sample`` (required) [sample id, id]
    The sample ID exactly as the plate export writes it (``B_sid_13_CSP``, ``SPL4``).
``subject`` (required) [animal, animal id]
    Study subject.
``matrix`` [tissue, specimen]
    ``serum``, ``plasma``, ``csf``, ``rbc``, ``blood`` or a brain region
    (``cortex``, ``hippocampus``, ``brain``).
``timepoint`` [time, day, occasion]
    Sampling occasion (``day7``); the EndpointTable timepoint is
    ``<matrix>_<timepoint>`` (or either alone).
``plate``
    Only this plate's sample of that ID (when IDs repeat across plates).
``dilution`` [dilution factor]
    Overrides the export's dilution factor.
``protein_mg_ml`` [protein, total protein, protein mg/ml]
    Total protein of a homogenate (mg/mL), for per-protein normalisation.
``tissue_mg`` [tissue weight mg, wet weight mg], ``homogenate_ml`` [homogenate volume ml]
    Wet tissue weight and homogenate volume, for per-g-tissue normalisation.
``comment`` [comments, note, notes]
    Free text, not read.

Any other column is an error naming the close column (a misspelt ``matrix``
would otherwise turn homogenates into body fluids), and so are two columns
for one field (``matrix`` and ``tissue``).
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import pandas as pd

from neurotox.errors import FormatError, closest, quoted
from neurotox.io.neurochem.base import Source, format_errors, number
from neurotox.io.neurochem.plate_table import load_table

SHEET_COLUMNS = ("sample", "subject", "matrix", "timepoint", "plate", "dilution",
                 "protein_mg_ml", "tissue_mg", "homogenate_ml", "source")
_ALIASES = {
    "sample": ("sample", "sample id", "id", "sample name"),
    "subject": ("subject", "animal", "animal id", "subject id"),
    "matrix": ("matrix", "tissue", "specimen", "region"),
    "timepoint": ("timepoint", "time", "day", "occasion", "time point"),
    "plate": ("plate", "plate id"),
    "dilution": ("dilution", "dilution factor"),
    "protein_mg_ml": ("protein mg ml", "protein", "total protein", "protein mg/ml",
                      "protein (mg/ml)"),
    "tissue_mg": ("tissue mg", "tissue weight mg", "wet weight mg", "tissue weight (mg)"),
    "homogenate_ml": ("homogenate ml", "homogenate volume ml", "homogenate volume (ml)"),
}


#: Free-text columns: allowed, never read.
FREE_COLUMNS = ("comment", "comments", "note", "notes")


def _key(name: object) -> str:
    return re.sub(r"[\s_]+", " ", str(name).strip().lower()).strip()


_LOOKUP = {_key(a): canon for canon, names in _ALIASES.items() for a in names}


def is_sample_sheet(path: str | Path) -> bool:
    """True when the file's header has ``sample`` and ``subject`` columns and no ``well``."""
    src = Source(path)
    try:
        table, _ = load_table(src)
    except FormatError:
        return False
    canon = {_LOOKUP.get(_key(c)) for c in table.columns}
    return {"sample", "subject"} <= canon and "well" not in {_key(c) for c in table.columns}


def label(text: str) -> str:
    """A matrix or time point as used in time point labels (lower case, ``_`` for spaces)."""
    return re.sub(r"[^0-9a-z]+", "_", text.strip().lower()).strip("_")


@format_errors
def read_sample_sheet(path: str | Path) -> pd.DataFrame:
    """Read and check a sample sheet (see the module docstring).

    Returns
    -------
    pandas.DataFrame
        :data:`SHEET_COLUMNS`; numbers NaN where not given, matrix and time point
        normalised with :func:`label`.

    Raises
    ------
    FormatError
        Missing ``sample``/``subject`` columns, an empty sample or subject, a sample
        listed twice (for one plate), or a number that is not a finite positive value.

    """
    src = Source(path)
    table, _ = load_table(src)
    found = {_LOOKUP.get(_key(c)) for c in table.columns}
    missing = [c for c in ("sample", "subject") if c not in found]
    if missing:
        raise FormatError(f"sample sheet: expected column(s) {quoted(missing)}, found "
                          f"{quoted(table.columns)}", path=src.path)
    cols = _columns(table.columns, src.path)
    rows = []
    for line, r in table.iterrows():
        get = {c: str(r[name]).strip() for c, name in cols.items()}
        if not any(get.values()):
            continue
        rows.append(_row(get, line, cols, src.path))
    if not rows:
        raise FormatError("sample sheet: expected rows below the header, found none",
                          path=src.path)
    out = pd.DataFrame(rows, columns=list(SHEET_COLUMNS))
    dup = out.duplicated(["plate", "sample"])
    if dup.any():
        r = out[dup].iloc[0]
        raise FormatError(f"sample {r['sample']!r} is listed twice (give a 'plate' column "
                          "when sample IDs repeat across plates)", path=src.path,
                          where=r["source"])
    return out


def _columns(names: pd.Index, path: Path) -> dict[str, object]:
    """Canonical field → header; an unknown header or a field given twice is an error."""
    cols: dict[str, object] = {}
    for c in names:
        canon = _LOOKUP.get(_key(c))
        if canon is None and _key(c) not in FREE_COLUMNS:
            hit = closest(_key(c), list(_LOOKUP))
            hint = f" (did you mean {_LOOKUP[hit]!r}?)" if hit else ""
            if _key(c) in ("group", "sex", "dose"):
                hint = f" (the study's subjects file gives each subject's {_key(c)})"
            raise FormatError(f"sample sheet: unknown column {str(c)!r}{hint}; expected "
                              f"{', '.join(_ALIASES)} (aliases in the docs) and free text in "
                              "'comment'", path=path, where=f"column {str(c)!r}")
        if canon in cols:
            raise FormatError(f"sample sheet: columns {cols[canon]!r} and {str(c)!r} both "
                              f"give the {canon}; keep one", path=path,
                              where=f"column {str(c)!r}")
        if canon is not None:
            cols[canon] = c
    return cols


def _row(get: dict[str, str], line: int, cols: dict[str, str], path: Path) -> dict:
    where = f"row {line}"
    for col in ("sample", "subject"):
        if not get.get(col):
            raise FormatError(f"{col} is empty", path=path, where=f"{where}, column "
                                                                  f"{cols[col]!r}")
    out = {"sample": get["sample"], "subject": get["subject"],
           "matrix": label(get.get("matrix", "")), "timepoint": label(get.get("timepoint", "")),
           "plate": get.get("plate", ""), "source": where}
    for col in ("dilution", "protein_mg_ml", "tissue_mg", "homogenate_ml"):
        v = number(get.get(col, ""), path=path, where=f"{where}, column {cols.get(col, col)!r}")
        if math.isfinite(v) and v <= 0:
            raise FormatError(f"expected a positive number, found {get.get(col)!r}", path=path,
                              where=f"{where}, column {cols[col]!r}")
        out[col] = v
    return out
