"""GLP-style reports: a table model built from statistics results, and its renderers.

:func:`build_report` assembles a :class:`~neurotox.report.model.Report` from the
EndpointTable, the results and decisions of :func:`neurotox.stats.analyse` and
the study; :func:`write_report` renders it into an output folder in any of
:data:`FORMATS` (xlsx, docx, html, csv) plus the figures as PNG and SVG.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import PurePosixPath

import pandas as pd

from neurotox.errors import InputError, quoted
from neurotox.io.output import OutputDir
from neurotox.report.bmd import bmd_table, trend_bmds
from neurotox.report.figures import build_figures
from neurotox.report.historical import HistoricalRanges
from neurotox.report.methods import methods_section
from neurotox.report.model import Cell, ColumnGroup, Figure, Report, Row, Table
from neurotox.report.overview import overview_table
from neurotox.report.potency import CONCENTRATION_UNITS, concentration_fits, potency_table
from neurotox.report.render import FORMATS, RENDERERS
from neurotox.report.tables import build_tables, study_header
from neurotox.study import StudySpec

__all__ = ["FORMATS", "Cell", "ColumnGroup", "Figure", "Report", "Row", "Table",
           "build_report", "parse_formats", "write_report"]


def build_report(spec: StudySpec, table: pd.DataFrame, results: pd.DataFrame,
                 decisions: pd.DataFrame, *, software: dict[str, str],
                 deviations: Iterable[str] = (), exclusions: Iterable[str] = (),
                 figures: bool = True, bmd: bool = True,
                 historical: HistoricalRanges | None = None) -> Report:
    """Assemble the report model.

    Parameters
    ----------
    spec
        The study (header fields, groups, statistical plan).
    table
        The EndpointTable analysed, excluded values included.
    results, decisions
        Output of :func:`neurotox.stats.analyse`.
    software
        Software versions, quoted in the methods section.
    deviations
        Guideline deviations to list.
    exclusions
        One line per exclusion (what and why).
    figures
        Draw the figures (the slowest part; off for table-only checks).
    bmd
        Benchmark doses for single-timepoint in-vivo continuous and incidence
        endpoints with a flagged trend (pybmds, about 2 s each).
    historical
        Historical control ranges to show beside the concurrent control.

    Returns
    -------
    Report
        Tables, figures and text, ready for any renderer.

    """
    head = study_header(spec)
    fits = concentration_fits(results, table)
    tables = [overview_table(results, spec, 0),
              *build_tables(results, decisions, table, spec, historical)]
    n_summary = sum(t.kind != "listing" for t in tables)
    if fits:
        units = sorted({u for u in table["dose_unit"] if u in CONCENTRATION_UNITS})
        tables.insert(n_summary, potency_table(fits, spec, 0, ", ".join(units)))
    bmds = trend_bmds(results) if bmd else {}
    if bmds:
        tables.insert(n_summary + bool(fits), bmd_table(bmds, spec, 0))
    for i, t in enumerate(tables, start=1):
        t.number = i
    if spec.guideline is None and "Guideline" in head:
        del head["Guideline"]
    return Report(
        study_id=spec.study_id, title=spec.title, header=head,
        tables=tables,
        figures=build_figures(results, decisions, table, spec, fits, bmds) if figures else [],
        methods=methods_section(decisions, spec.statistics, software) + _fit_methods(fits)
        + _bmd_methods(bmds) + ([f"Historical control ranges were shown beside the "
                                 f"concurrent controls; {historical.source}."]
                                if historical is not None else []),
        deviations=list(deviations), exclusions=list(exclusions),
        results=results, decisions=decisions, endpoints=table, software=dict(software))


def _fit_methods(fits: dict) -> list[str]:
    if not fits:
        return []
    return [f"Concentration-response relationships ({len(fits)}) were described by a "
            "four-parameter log-logistic (Hill) model fitted to the individual values by "
            "non-linear least squares (scipy); EC50 and EC20 are given with delta-method "
            "confidence intervals."]


def _bmd_methods(bmds: dict) -> list[str]:
    if not bmds:
        return []
    kinds = [r.kind for r in bmds.values()]
    parts = []
    if "continuous" in kinds:
        parts.append(f"{kinds.count('continuous')} continuous endpoint(s) fitted to group n, "
                     "mean and SD (BMR = 1 SD of the control mean; constant variance unless "
                     "the BMDS homogeneity test rejected it at p < 0.05)")
    if "dichotomous" in kinds:
        parts.append(f"{kinds.count('dichotomous')} incidence endpoint(s) fitted to the "
                     "number affected of the number examined (BMR = 10% extra risk)")
    return ["Benchmark doses were derived for endpoints measured once with a significant "
            "dose-related trend, with the US EPA pybmds models: " + "; ".join(parts)
            + ". Among models with goodness-of-fit p >= 0.1 and a BMDL, the lowest AIC was "
            "recommended when the BMDLs were within 3-fold, otherwise the lowest BMDL "
            "(EPA Benchmark Dose Technical Guidance, 2012)."]


def parse_formats(text: str | Iterable[str]) -> list[str]:
    """Parse ``"xlsx,docx"`` (or a list) into known format names, in canonical order."""
    items = text.split(",") if isinstance(text, str) else list(text)
    names = {i.strip().lower() for i in items if i.strip()}
    unknown = names - set(FORMATS)
    if unknown or not names:
        raise InputError(f"unknown report format(s) {quoted(unknown) if unknown else 'none'}; "
                         f"expected some of {quoted(FORMATS)}", where="option '--format'")
    return [f for f in FORMATS if f in names]


def rendered_files(report: Report, formats: Iterable[str]) -> dict[str, bytes]:
    """Every file of the report, relative path → bytes (figures always included)."""
    out: dict[str, bytes] = {}
    for fmt in formats:
        out.update(RENDERERS[fmt](report))
    for f in report.figures:
        out[f"figures/{f.key}.png"] = f.png
        out[f"figures/{f.key}.svg"] = f.svg
    return out


def write_report(od: OutputDir, report: Report, formats: Iterable[str], *,
                 prefix: str = "") -> list[str]:
    """Render ``report`` into the OutputDir ``od`` under ``prefix``; return the paths."""
    written = []
    for rel, data in rendered_files(report, formats).items():
        path = str(PurePosixPath(prefix) / rel) if prefix else rel
        od.write_bytes(path, data)
        written.append(path)
    return written
