"""Bio-Rad Bio-Plex Manager workbook exports (xls or xlsx, one sheet per analyte).

Each analyte sheet has a header block (``File Name:``, ``Analyte:``, ``Plate ID:``
…), a table whose header row starts ``Analyte, Type, Well`` (columns FI,
``FI - Bkgd``, Std Dev, %CV, Obs Conc, Exp Conc, ``(Obs/Exp) * 100``, optional
Outlier, Conc in Range, Bead Count, Dilution …) and a footer with the
regression type and the fitted equation, e.g.
``Std. Curve: FI = -0.128163 + (8826.82 + 0.128163) / ((1 + (Conc / 5853.63)^-1.83191))^0.612373``.
Sheets without that table (``Project Template``) are skipped and noted. A report
that stacks every analyte's table on one sheet (each with its header block and
footer, one below the other) is read table by table; one table whose rows name
several analytes under a single footer is refused (its curve belongs to no one
analyte).

``Exp Conc`` 0 on a control row is what Bio-Plex Manager writes for a control
entered without a nominal concentration: it is read as none (NaN) and noted. A
sheet without a ``Dilution`` column takes every sample as 1:1 with a warning (as
an xPONENT export without its ``Dilution Factor`` block).

Type codes: ``B`` blank (background), ``S1``… standards, ``C1``… controls,
``X1``… unknowns. Markers carried through verbatim in ``vendor_flag``: ``*``
(extrapolated beyond the standards), ``OOR <`` / ``OOR >`` (out of range, below
or above: censored without a printed bound), ``---`` (designated an outlier:
``vendor_excluded``), ``***`` (value not available; in Conc in Range: outside
the range of standards recovering 70-130 %).
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

import pandas as pd

from neurotox.errors import FormatError, quoted
from neurotox.io.neurochem.base import (
    PlateExport,
    Reader,
    Source,
    VendorCurve,
    cell_text,
    check_series,
    dilution_cell,
    normalise_wells,
    number,
    parse_value,
    register_reader,
    repair_note,
    wells_frame,
)

NAME = "bioplex"
_NUM = r"([+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)"
_EQUATION = re.compile(
    rf"FI\s*=\s*{_NUM}\s*\+\s*\(\s*{_NUM}\s*([+-])\s*{_NUM}\s*\)\s*/\s*\(*\s*1\s*\+\s*"
    rf"\(\s*Conc\s*/\s*{_NUM}\s*\)\s*\^\s*{_NUM}\s*\)*(?:\s*\^\s*{_NUM})?", re.IGNORECASE)
_TYPE = re.compile(r"^(B|S|C|X|E)(\d*)$", re.IGNORECASE)
_KINDS = {"B": "blank", "S": "standard", "C": "control", "X": "sample", "E": "control"}
_REQUIRED = ("Analyte", "Type", "Well", "FI", "FI - Bkgd", "Obs Conc")


def _norm(c: object) -> str:
    return re.sub(r"\s+", " ", cell_text(c)).strip()


def match(src: Source) -> bool:
    """A workbook whose sheets hold an ``Analyte, Type, Well`` table (checked on open)."""
    if src.container not in ("xls", "xlsx"):
        return False
    try:
        sheets = src.workbook
    except FormatError:
        return False
    return any(_header_rows(df, limit=40) for df in sheets.values())


def _header_rows(df: pd.DataFrame, limit: int | None = None) -> list[int]:
    """Rows starting ``Analyte, Type, Well``: every table of the sheet (first ``limit`` rows)."""
    end = len(df) if limit is None else min(len(df), limit)
    first = df.iloc[:end, :3].map(_norm) if df.shape[1] >= 3 else None
    if first is None:
        return []
    hit = (first.iloc[:, 0] == "Analyte") & (first.iloc[:, 1] == "Type") & \
        (first.iloc[:, 2] == "Well")
    return [int(i) for i in range(end) if hit.iloc[i]]


def read(src: Source, **_: Any) -> PlateExport:
    """Read every analyte sheet of a Bio-Plex Manager workbook."""
    sheets = src.workbook
    frames, curves, notes, skipped, meta = [], {}, [], [], {}
    seen: dict[str, str] = {}
    zero: list[str] = []
    no_dilution = False
    for name, df in sheets.items():
        heads = _header_rows(df)
        if not heads:
            skipped.append(name)
            continue
        tables, views = _tables(df, heads, name, src.path)
        for head, start, stop in tables:
            wells, curve, info, sheet_notes = _read_sheet(df.iloc[:stop], head, name,
                                                          src.path, start=start, zero=zero)
            no_dilution |= "Dilution" not in (_norm(c) for c in df.iloc[head].tolist())
            analyte = wells["analyte"].iloc[0]
            where = f"sheet {name!r}, row {head + 1}"
            if analyte in seen:
                raise FormatError(f"analyte {analyte!r} has two tables ({seen[analyte]} and "
                                  f"{where})", path=src.path, where=where)
            seen[analyte] = where
            frames.append(wells)
            if curve is not None:
                curves[analyte] = curve
            notes += sheet_notes
            meta.update({k: v for k, v in info.items() if v})
        meta.setdefault("sheets", []).append(name)
        if len(tables) > 1:
            notes.append(f"{src.path.name}: sheet {name!r} holds {len(tables)} analyte tables "
                         f"one below the other; each read with its own header and footer")
        notes += [f"{src.path.name}: sheet {name!r}: the table at row {b + 1} repeats the "
                  f"wells of the table at row {a + 1} (one row per well under the summary, "
                  "one footer for both); the first table read" for a, b in views]
    if not frames:
        raise FormatError("expected analyte sheets with a table starting 'Analyte, Type, "
                          f"Well', found sheets {quoted(sheets)}", path=src.path)
    if skipped:
        notes.append(f"{src.path.name}: sheets without an analyte table skipped: "
                     f"{quoted(skipped)}")
    wells = pd.concat(frames, ignore_index=True)
    notes += _control_notes(zero, src.path)
    if no_dilution:
        meta["dilution_warning"] = "the Bio-Plex table has no 'Dilution' column"
    unit = next((u for name in skipped if (u := _template_unit(sheets[name]))), "")
    units = dict.fromkeys(wells["analyte"].unique(), unit) if unit else {}
    if unit:
        notes.append(f"{src.path.name}: concentration unit {unit!r} from the project template")
    return PlateExport(format=NAME, path=src.path, wells=wells, curves=curves, units=units,
                       notes=notes, meta=meta)


def _template_unit(df: pd.DataFrame) -> str:
    """``Units of Concentration`` of a Bio-Plex project-template sheet ('' if absent).

    The template's ``VALUE`` column when it has one (an empty cell there is no unit,
    not the ``Length`` beside it), else the last filled cell of the row.
    """
    value_col = None
    for row in df.itertuples(index=False):
        cells = [cell_text(c) for c in row]
        if value_col is None and "VALUE" in (c.upper() for c in cells):
            value_col = [c.upper() for c in cells].index("VALUE")
        if "Units of Concentration" in cells:
            if value_col is not None:
                return cells[value_col] if value_col < len(cells) else ""
            value = [c for c in cells[cells.index("Units of Concentration") + 1:] if c]
            return value[-1] if value else ""
    return ""


def _info(df: pd.DataFrame, head: int, start: int = 0) -> dict[str, str]:
    out = {}
    for i in range(start, head):
        text = _norm(df.iat[i, 0])
        key, sep, value = text.partition(":")
        if sep:
            out[key.strip()] = value.strip()
    return out


def _plate_name(info: dict[str, str], path: Path) -> str:
    if info.get("Plate ID"):
        return info["Plate ID"]
    file_name = info.get("File Name", "")
    stem = re.split(r"[\\/]", file_name)[-1].rsplit(".", 1)[0] if file_name else ""
    return stem or path.stem


def _tables(df: pd.DataFrame, heads: list[int], sheet: str,
            path: Path) -> tuple[list[tuple[int, int, int]], list[tuple[int, int]]]:
    """The analyte tables of a sheet, and the pairs of tables showing the same wells.

    Tables are (header row, header block start, stop); a pair is (summary table,
    per-well table of the same analyte below it).

    A table followed by another header with no footer line between them is the
    summary of a raw-and-summary report when the next table names the same analyte
    (the footer below the second serves both); otherwise the sheet is cut.
    """
    tables: list[tuple[int, int, int]] = []
    views: list[tuple[int, int]] = []
    for n, head in enumerate(heads):
        stop = heads[n + 1] if n + 1 < len(heads) else len(df)
        if tables and not _has_footer(df, tables[-1][0], head):
            first, start, _ = tables[-1]
            if _analyte_below(df, head) != _analyte_below(df, first):
                raise FormatError(f"the table at row {first + 1} has no footer (legend, "
                                  "'Regression Type', 'Std. Curve') before the next table at "
                                  f"row {head + 1}, which names another analyte", path=path,
                                  where=f"sheet {sheet!r}")
            tables[-1] = (first, start, stop)
            views.append((first, head))
            continue
        start = 0 if n == 0 else _block_start(df, tables[-1][0], head)
        tables.append((head, start, stop))
    return tables, views


def _analyte_below(df: pd.DataFrame, head: int) -> str:
    return _norm(df.iat[head + 1, 0]) if head + 1 < len(df) else ""


def _has_footer(df: pd.DataFrame, previous: int, head: int) -> bool:
    """True when text lies between the end of the table at ``previous`` and row ``head``."""
    end = _end_of(df, previous, head)
    return any(_norm(c) for i in range(end, head) for c in df.iloc[i].tolist())


def _end_of(df: pd.DataFrame, head: int, limit: int) -> int:
    columns = [_norm(c) for c in df.iloc[head].tolist()]
    t, w = columns.index("Type"), columns.index("Well")
    end = head + 1
    while end < limit and (_norm(df.iat[end, t]) or _norm(df.iat[end, w])):
        end += 1
    return end


def _block_start(df: pd.DataFrame, previous: int, head: int) -> int:
    """First row of the header block of a stacked table (its ``File Name:`` line).

    Between the previous table (header at ``previous``) and this one's header at
    ``head`` lie the previous footer and this header block; without a ``File Name:``
    line the block is taken to start below the previous table.
    """
    end = _end_of(df, previous, head)
    return next((i for i in range(end, head) if _norm(df.iat[i, 0]).startswith("File Name:")),
                end)


def _read_sheet(df: pd.DataFrame, head: int, sheet: str, path: Path, *, start: int = 0,
                zero: list[str] | None = None,
                ) -> tuple[pd.DataFrame, VendorCurve | None, dict, list[str]]:
    """Read one analyte table (header at ``head``, header block from ``start``).

    The rows of ``df`` below the table are its footer; the levels of controls with
    Exp Conc 0 are added to ``zero``.
    """
    columns = [_norm(c) for c in df.iloc[head].tolist()]
    missing = [c for c in _REQUIRED if c not in columns]
    if missing:
        raise FormatError(f"expected column(s) {quoted(missing)}, found "
                          f"{quoted(c for c in columns if c)}", path=path,
                          where=f"sheet {sheet!r}, row {head + 1}")
    col = {c: columns.index(c) for c in columns if c}
    info = _info(df, head, start)
    plate = _plate_name(info, path)
    end = _table_end(df, head, col, sheet, path)
    rows = [_row(df.iloc[i].tolist(), col, sheet, i + 1, plate, path)
            for i in range(head + 1, end)]
    if not rows:
        raise FormatError("expected data rows below the header, found none", path=path,
                          where=f"sheet {sheet!r}, row {head + 2}")
    _check_descriptions(df, range(head + 1, end), col, sheet, path)
    for r in rows:
        if r["type"] == "control" and r["expected"] == 0:
            r["expected"] = math.nan
            if zero is not None:
                zero.append(r["level"])
    wells = wells_frame(rows)
    _one_analyte(wells, sheet, head, path)
    notes = _standard_series(wells, sheet, path)
    footer = [_norm(df.iat[i, 0]) for i in range(end, len(df))]
    if not any(footer):
        raise FormatError(f"the table ends at the last row ({end}) with no footer (legend, "
                          "'Regression Type', 'Std. Curve') below it: the sheet looks cut; "
                          "export it again", path=path, where=f"sheet {sheet!r}")
    curve, curve_notes = _curve(footer, sheet, path)
    return wells, curve, info, notes + curve_notes


def _one_analyte(wells: pd.DataFrame, sheet: str, head: int, path: Path) -> None:
    """A table holds one analyte: its footer's curve and its standards belong to it."""
    names = list(dict.fromkeys(wells["analyte"]))
    if len(names) > 1:
        raise FormatError(f"one table (header at row {head + 1}) holds {len(names)} analytes "
                          f"({quoted(names, limit=4)}) under a single header and footer: the "
                          "footer's curve belongs to no one analyte; export one table per "
                          "analyte (one sheet each, or stacked with their own headers)",
                          path=path, where=f"sheet {sheet!r}")


def _control_notes(zero: list[str], path: Path) -> list[str]:
    """The note for controls whose ``Exp Conc`` 0 was read as no nominal concentration."""
    if not zero:
        return []
    return [f"{path.name}: control(s) {quoted(sorted(set(zero)), limit=8)} have Exp Conc 0, "
            "which Bio-Plex Manager writes for a control without a nominal concentration: "
            "read as no nominal concentration (not judged on recovery)"]


def _table_end(df: pd.DataFrame, head: int, col: dict[str, int], sheet: str,
               path: Path) -> int:
    """Index of the first row below the table: the first with neither Type nor Well.

    A row that has a Type or a Well but no Analyte (merged or cleared cells) is an error,
    not the end of the table: the rows below it would be lost without a word.
    """
    end = head + 1
    while end < len(df) and (_norm(df.iat[end, col["Type"]]) or _norm(df.iat[end, col["Well"]])):
        if not _norm(df.iat[end, col["Analyte"]]):
            raise FormatError("expected an Analyte in every row of the table, found an empty "
                              "cell (merged or cleared cells?)", path=path,
                              where=f"sheet {sheet!r}, row {end + 1}, column 'Analyte'")
        end += 1
    return end


def _check_descriptions(df: pd.DataFrame, lines: range, col: dict[str, int], sheet: str,
                        path: Path) -> None:
    """Unknown (X) rows must all carry a Description, and one Description one sample.

    A sheet with no Descriptions at all keeps the Type codes (X1, X2 …) as sample IDs.
    Replicate wells of one sample share a Type code; two Type codes with the same
    Description and the same Dilution are a relabelled or mislabelled sample.
    """
    if "Description" not in col:
        return
    seen: dict[tuple[str, str], tuple[str, int]] = {}
    blank = []
    for i in lines:
        code = _norm(df.iat[i, col["Type"]])
        if not code.upper().startswith("X"):
            continue
        desc = cell_text(df.iat[i, col["Description"]])
        if not desc:
            blank.append(i + 1)
            continue
        dil = cell_text(df.iat[i, col["Dilution"]]) if "Dilution" in col else ""
        first = seen.setdefault((desc, dil), (code, i + 1))
        if first[0] != code:
            raise FormatError(f"sample {desc!r} (dilution {dil or 'not given'}) is on two "
                              f"rows with different Types: row {first[1]} ({first[0]}) and "
                              f"row {i + 1} ({code}); a mislabelled sample?", path=path,
                              where=f"sheet {sheet!r}, column 'Description'")
    if blank and seen:
        raise FormatError(f"expected a Description on every sample (X) row, found none on "
                          f"row(s) {', '.join(map(str, blank))}", path=path,
                          where=f"sheet {sheet!r}, column 'Description'")


def _kind(code: str, sheet: str, line: int, path: Path) -> tuple[str, str]:
    m = _TYPE.match(code.strip())
    if not m:
        raise FormatError(f"expected a Type like 'B', 'S1', 'C1' or 'X1', found {code!r}",
                          path=path, where=f"sheet {sheet!r}, row {line}")
    kind = _KINDS[m.group(1).upper()]
    level = f"{m.group(1).upper()}{m.group(2)}" if kind in ("standard", "control") else ""
    return kind, level


def _row(cells: list, col: dict[str, int], sheet: str, line: int, plate: str,
         path: Path) -> dict[str, Any]:
    def get(name: str) -> object:
        return cells[col[name]] if name in col and col[name] < len(cells) else None

    where = f"sheet {sheet!r}, row {line}"
    kind, level = _kind(cell_text(get("Type")), sheet, line, path)
    wells = normalise_wells(cell_text(get("Well")), path=path, where=where)
    fi = parse_value(get("FI"))
    net = parse_value(get("FI - Bkgd"))
    try:
        obs = parse_value(get("Obs Conc"))
    except ValueError as exc:
        raise FormatError(str(exc), path=path, where=f"{where}, column 'Obs Conc'") from None
    in_range = cell_text(get("Conc in Range"))
    outlier = cell_text(get("Outlier")) == "1" or "---" in (fi.flag, net.flag, obs.flag)
    flags = [f for f in (obs.flag, net.flag if net.flag in ("---", "***") else "") if f]
    if in_range == "***" and "***" not in flags and kind == "sample":
        flags.append("not in range (***)")
    dilution = dilution_cell(get("Dilution"), path=path, where=where)
    return {
        "plate": plate, "analyte": cell_text(get("Analyte")), "well": wells,
        "sample": cell_text(get("Description")) or cell_text(get("Type")), "type": kind,
        "level": level,
        "expected": number(get("Exp Conc"), path=path, where=f"{where}, column 'Exp Conc'"),
        "dilution": dilution,
        "signal": net.value, "raw": fi.value, "replicates": wells.count(",") + 1,
        "count": number(get("Bead Count"), path=path, where=f"{where}, column 'Bead Count'"),
        "vendor_value": obs.value, "vendor_censoring": obs.censoring,
        "vendor_flag": " ".join(dict.fromkeys(flags)), "vendor_excluded": outlier,
        "source": f"{path.name} sheet {sheet!r} row {line}"}


def _standard_series(wells: pd.DataFrame, sheet: str, path: Path) -> list[str]:
    std = wells[wells["type"] == "standard"]
    if std.empty:
        return []
    by_level = std.groupby("level", sort=False)["expected"]
    if (by_level.nunique() > 1).any():
        lv = by_level.nunique().idxmax()
        raise FormatError(f"replicates of standard {lv} have different Exp Conc", path=path,
                          where=f"sheet {sheet!r}")
    first = by_level.first()
    order = sorted(first.index, key=lambda lv: int(lv[1:] or 0))
    fixed, notes = check_series(order, [first[lv] for lv in order], what=f"sheet {sheet!r}",
                                path=path)
    repaired = dict(zip(order, fixed, strict=True))
    wells.loc[wells["type"] == "standard", "expected"] = \
        wells.loc[wells["type"] == "standard", "level"].map(repaired)
    return repair_note(path, notes)


def _curve(footer: list[str], sheet: str, path: Path) -> tuple[VendorCurve | None, list[str]]:
    regression = next((t.split(":", 1)[1].strip() for t in footer
                       if t.lower().startswith("regression type")), "")
    equation = next((t for t in footer if t.lower().startswith("std. curve")), "")
    fit = next((t for t in footer if t.lower().startswith("fitprob")), "")
    if not equation:
        return None, [f"{path.name} sheet {sheet!r}: no printed standard curve"] \
            if regression else []
    m = _EQUATION.search(equation)
    if not m:
        return VendorCurve("other", {}, "text", text=equation), [
            f"{path.name} sheet {sheet!r}: curve equation not recognised: {equation!r}"]
    a, b, sign, a2, c, d, e = m.groups()
    if not math.isclose(float(a), -float(a2) if sign == "+" else float(a2), rel_tol=1e-4,
                        abs_tol=1e-6):
        raise FormatError(f"curve equation is inconsistent (A = {a}, but B - A uses {sign}{a2})",
                          path=path, where=f"sheet {sheet!r}")
    params = {"A": float(a), "B": float(b), "C": float(c), "D": float(d)}
    if e is not None:
        params["E"] = float(e)
    model = "5pl" if e is not None else "4pl"
    extra = dict(re.findall(r"(FitProb|ResVar)\.?\s*=\s*" + _NUM, fit))
    text = f"{regression}: {equation.split(':', 1)[-1].strip()}" if regression else equation
    if extra:
        text += " (" + ", ".join(f"{k} {v}" for k, v in extra.items()) + ")"
    return VendorCurve(model, params, "logistic", text=text), []


register_reader(Reader(NAME, "Bio-Rad Bio-Plex Manager workbook (xls/xlsx): one sheet per "
                             "analyte with a table 'Analyte, Type, Well, … FI - Bkgd, Obs Conc'",
                       match, read))
