"""Report parts of the neurochemistry assays: standard-curve figures, the assay QC table.

Built from the detail tables the ``neurochem`` assay returns
(``neurochem_curves``, ``neurochem_standards``, ``neurochem_wells``), never from
raw files: every number drawn or tabulated was computed by the assay.
:func:`add_neurochem_sections` appends them (and a methods paragraph) to a
study report.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from neurotox.report.figures import FigureJob, _new_axes
from neurotox.report.model import Cell, Report, Row, Table, fmt, slug
from neurotox.report.tables import label_of, study_header
from neurotox.stats.curves import Curve, Model
from neurotox.study import StudySpec

CATEGORY = "neurochemical"


def curve_of(row: Mapping[str, object]) -> Curve:
    """The curve of a ``neurochem_curves`` row."""
    model = Model(str(row["model"]))
    keys = ("a", "b", "c", "d", "f") if model in (Model.FOUR_PL, Model.FIVE_PL) else ("a", "b")
    return Curve(model, tuple(float(row[k]) for k in keys))


def standard_curve_plot(row: Mapping[str, object], standards: pd.DataFrame,
                        wells: pd.DataFrame | None = None, *, ax: Any = None
                        ) -> tuple[Any, Any]:
    """Standards (level means and wells), the fitted curve, LLOQ and ULOQ of one analyte.

    Parameters
    ----------
    row
        The analyte's ``neurochem_curves`` row (plate, model, parameters, LLOQ/ULOQ).
    standards
        Its ``neurochem_standards`` rows (levels with mean signal and role).
    wells
        Its standard wells from ``neurochem_wells`` (drawn as small dots), optional.
    ax
        Axes to draw on; a new figure when None.

    """
    fig, ax = _new_axes(ax, (4.6, 3.4))
    pos = standards[standards["expected"] > 0]
    used = pos["used"].astype(bool)
    if wells is not None and len(wells):
        w = wells[(wells["expected"] > 0) & np.isfinite(wells["signal"])]
        ax.plot(w["expected"], w["signal"], ".", color="#9ecae1", ms=3, zorder=1,
                label="standard wells")
    ax.plot(pos.loc[used, "expected"], pos.loc[used, "mean_signal"], "o", color="#08519c",
            ms=4, zorder=3, label="standards (mean)")
    if (~used).any():
        ax.plot(pos.loc[~used, "expected"], pos.loc[~used, "mean_signal"], "o", mfc="none",
                color="#a50f15", ms=5, zorder=3, label="excluded")
    curve = curve_of(row)
    if pos["expected"].size and all(math.isfinite(p) for p in curve.params):
        x = np.geomspace(pos["expected"].min() / 2, pos["expected"].max() * 2, 200)
        ax.plot(x, curve.predict(x), "-", color="#08519c", lw=1.2, zorder=2,
                label=f"{row['model']} fit")
    for name in ("lloq", "uloq"):
        v = float(row[name])
        if math.isfinite(v):
            ax.axvline(v, ls="--", lw=0.8, color="#636363")
            ax.annotate(name.upper(), (v, 1.0), xycoords=("data", "axes fraction"),
                        ha="center", va="bottom", fontsize=7, color="#636363")
    ax.set_xscale("log")
    if (pos["mean_signal"] > 0).all() and len(pos):
        ax.set_yscale("log")
    ax.set_xlabel(f"Concentration ({row.get('unit') or 'pg/mL'})")
    ax.set_ylabel("Signal")
    ax.legend(fontsize=6, frameon=False, loc="upper left")
    return fig, ax


def curve_figures(details: Mapping[str, pd.DataFrame]) -> list[FigureJob]:
    """One standard-curve figure job per analyte and plate (numbered 0; renumbered later)."""
    curves = details.get("neurochem_curves")
    if curves is None or curves.empty:
        return []
    standards = details.get("neurochem_standards", pd.DataFrame())
    wells = details.get("neurochem_wells", pd.DataFrame())
    out = []
    for row in curves.to_dict("records"):
        sel = _select(standards, row)
        w = _select(wells, row)
        w = w[w["type"] == "standard"] if len(w) else w
        verdict = "accepted" if row["accepted"] else "rejected"
        title = (f"Standard curve of {analyte_text(row)}, plate {row['plate']}: "
                 f"{row['equation']} (R² {fmt(row['r2'], 4)}; {verdict})")
        out.append(FigureJob(0, title, f"standard-curve-{slug(str(row['plate']))}-"
                             f"{slug(str(row['analyte']))}", CATEGORY,
                             f"{__name__}:standard_curve_plot",
                             {"row": row, "standards": sel, "wells": w}))
    return out


def _select(df: pd.DataFrame, row: Mapping[str, object]) -> pd.DataFrame:
    if df is None or df.empty:
        return pd.DataFrame()
    return df[(df["plate"] == row["plate"]) & (df["analyte"] == row["analyte"])]


def _g(v: object, digits: int = 4) -> str:
    """``digits`` significant figures, never in exponent notation (10000, not 1e+04)."""
    v = float(v)  # type: ignore[arg-type]
    if not math.isfinite(v):
        return "—"
    if v == 0:
        return "0"
    text = fmt(v, max(0, digits - 1 - math.floor(math.log10(abs(v)))))
    return text.rstrip("0").rstrip(".") if "." in text else text


def analyte_text(row: Mapping[str, object]) -> str:
    """The analyte as the tables name it, with the export's name when that differs.

    ``IL-6 (IL6)``: the registry label (as in the summary tables) and the name in
    the instrument file, so the QC rows can be traced both ways.
    """
    export = str(row["analyte"])
    key = row.get("analyte_key")
    if not isinstance(key, str) or not key:
        return export
    label = label_of(key)
    return label if label == export else f"{label} ({export})"


def _lod_marks(r: Mapping[str, object]) -> str:
    """† LOD above the LLOQ, ‡ LOD from too few blank wells (flags of the curve row)."""
    return ("†" if r.get("lod_above_lloq") is True else "") + \
        ("‡" if r.get("lod_few_blanks") is True else "")


def _controls_cell(r: Mapping) -> str:
    """Controls within range / judged controls, and those not judged (no nominal value)."""
    text = f"{r['controls_passing']}/{r['controls']}" if r["controls"] else "—"
    unjudged = pd.to_numeric(r.get("controls_not_judged"), errors="coerce")
    if pd.isna(unjudged) or not unjudged:
        return text
    return f"{text} ({int(unjudged)} not judged)"


def qc_table(details: Mapping[str, pd.DataFrame], spec: StudySpec, number: int) -> Table | None:
    """Assay QC per analyte and plate: fit, range, LOD, standards, controls, verdict."""
    curves = details.get("neurochem_curves")
    if curves is None or curves.empty:
        return None
    rows = []
    for r in curves.to_dict("records"):
        verdict = "accepted" if r["accepted"] else f"rejected: {r['reasons']}"
        cells = (Cell(f"{r['model']}, {r['weighting']}"), Cell(_g(r["r2"], 5), {"r2": r["r2"]}),
                 Cell(_g(r["lloq"]), {"lloq": r["lloq"]}), Cell(_g(r["uloq"]), {"uloq": r["uloq"]}),
                 Cell(_g(r["lod"]) + _lod_marks(r), {"lod": r["lod"]}),
                 Cell(f"{r['standards_passing']}/{r['standards_in_range']}"),
                 Cell(_controls_cell(r)),
                 Cell("yes" if r["hook"] else "no"), Cell(verdict, note=r["reasons"]))
        rows.append(Row((str(r["plate"]), analyte_text(r), str(r.get("unit", ""))), cells))
    notes = ["LLOQ/ULOQ: lowest/highest standard with back-fit recovery within ±25 % and "
             "replicate CV within the protocol limit, at least 75 % of the standards between "
             "them within ±20 % (ICH M10). LOD = mean + k·SD of the blank signal, converted "
             "by the curve (— when it lies beyond the curve's asymptote). Standards: levels "
             "passing / levels in the range; controls: results within range / controls "
             "judged (a control with no nominal concentration is not judged). A "
             "rejected plate excludes that analyte's values on that plate."]
    if any(_lod_marks(r) for r in curves.to_dict("records")):
        notes.append("† LOD above the LLOQ: values below the LOD are reported as '< LOD × "
                     "dilution' (not quantified). ‡ LOD from fewer than 3 blank "
                     "wells: the SD of so few blanks is unreliable, and so is the LOD.")
    return Table(number=number, title="Neurochemistry assay QC: standard curves, quantifiable "
                 "range and acceptance per analyte and plate", kind="qc", key="neurochem-qc",
                 header=study_header(spec), row_header=("Plate", "Analyte", "Unit"),
                 columns=("Model, weighting", "R²", "LLOQ", "ULOQ", "LOD",
                          "Standards passing", "Controls passing", "Hook", "Verdict"),
                 rows=rows, number_fields=("r2", "lloq", "uloq", "lod"), footnotes=notes,
                 category=CATEGORY)


def methods_paragraph(details: Mapping[str, pd.DataFrame], censoring: str) -> list[str]:
    """Methods text for the neurochemistry assays (empty when there are none)."""
    curves = details.get("neurochem_curves")
    if curves is None or curves.empty:
        return []
    models = ", ".join(sorted({f"{r.model} ({r.weighting})" for r in curves.itertuples()}))
    return [f"Neurochemistry: standard curves ({models}) were fitted to the signal the "
            "reader software reports (Net MFI, FI − background or blank-corrected OD); "
            "concentrations are the inverse of the curve times the sample dilution. The "
            "quantifiable range (LLOQ–ULOQ) is bounded by the standards passing the back-fit "
            "recovery and replicate CV limits (ICH M10; the limits in effect are stated with "
            "the conventions of the assay under Materials and methods of the analysis). "
            "Values below the LLOQ are reported as "
            "'< LLOQ × dilution' (left-censored; where the LOD, mean + k·SD of the blanks, "
            "lies above the LLOQ, values below the LOD as '< LOD × dilution'), values above "
            "the ULOQ as '> ULOQ × "
            f"dilution'; {censoring}"]


def add_neurochem_sections(report: Report, details: Mapping[str, pd.DataFrame],
                           spec: StudySpec, censoring: str, *, figures: bool = True) -> None:
    """Append the QC table, the standard-curve figure jobs and methods text, renumbering.

    The figures are drawn with the others (:func:`neurotox.report.render_figures`
    on ``report.figure_jobs``) only for formats that show them.
    """
    parts: dict[str, list[pd.DataFrame]] = {}
    for k, v in details.items():
        name = k.split("/")[-1]
        if name.startswith("neurochem_") and len(v):
            parts.setdefault(name, []).append(v)
    if not parts:
        return
    found = {k: pd.concat(v, ignore_index=True) for k, v in parts.items()}
    table = qc_table(found, spec, 0)
    if table is not None:
        n_summary = sum(t.kind != "listing" for t in report.tables)
        report.tables.insert(n_summary, table)
        for i, t in enumerate(report.tables, start=1):
            t.number = i
    if figures:
        report.figure_jobs += curve_figures(found)
    for i, job in enumerate(report.figure_jobs, start=1):
        job.number = i
    report.methods += methods_paragraph(found, censoring)
