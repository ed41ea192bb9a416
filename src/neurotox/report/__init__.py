"""GLP-style reports: a table model built from statistics results, and its renderers.

:func:`build_report` assembles a :class:`~neurotox.report.model.Report` from the
EndpointTable, the results and decisions of :func:`neurotox.stats.analyse` and
the study; :func:`write_report` renders it into an output folder in any of
:data:`FORMATS` (xlsx, docx, html, csv) plus the figures as PNG and SVG.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from pathlib import PurePosixPath
from typing import Any

import pandas as pd

from neurotox.errors import InputError, did_you_mean, quoted
from neurotox.io.output import OutputDir
from neurotox.parallel import TaskPool
from neurotox.report.bmd import (
    bmd_table,
    censored_in_means,
    collect_bmds,
    reliability,
    start_bmds,
    trend_bmds,
)
from neurotox.report.context import Context, litter_pups
from neurotox.report.figures import FigureQueue, plan_figures, render_figures
from neurotox.report.findings import conclusions_table, findings_tables
from neurotox.report.front import front_matter
from neurotox.report.historical import HistoricalRanges
from neurotox.report.labels import TimepointLabels
from neurotox.report.methods import design_paragraph, methods_section
from neurotox.report.model import (
    Cell,
    ColumnGroup,
    Figure,
    FrontMatter,
    MethodsBlock,
    Report,
    Row,
    RunStamp,
    Table,
)
from neurotox.report.one_sample import cross_reference, reference_tables
from neurotox.report.pathology import ASSAY as PATHOLOGY
from neurotox.report.pathology import pathology_listing, pathology_tables
from neurotox.report.potency import CONCENTRATION_UNITS, concentration_fits, potency_table
from neurotox.report.render import FORMATS, RENDERERS
from neurotox.report.tables import (
    by_category_order,
    group_tables,
    listing_tables,
    software_messages,
    study_header,
)
from neurotox.study import StudySpec

__all__ = ["FORMATS", "Cell", "ColumnGroup", "Figure", "FrontMatter", "MethodsBlock", "Report",
           "Row", "RunStamp", "Table", "build_report", "needs_figures", "needs_tables",
           "parse_formats", "prepare_worker", "render_figures", "write_report"]

log = logging.getLogger(__name__)

#: Formats whose files show the figures (figures are drawn only when one is written).
FIGURE_FORMATS = ("docx", "html", "pdf")


def build_report(spec: StudySpec, table: pd.DataFrame, results: pd.DataFrame,
                 decisions: pd.DataFrame, *, software: dict[str, str],
                 deviations: Iterable[str] = (), exclusions: Iterable[str] = (),
                 figures: bool = True, bmd: bool = True,
                 parameters: Mapping[str, Any] | None = None, stamp: RunStamp | None = None,
                 paper: str | None = None, workers: int | None = 1,
                 tables: bool = True, historical: HistoricalRanges | None = None,
                 materials: Iterable[MethodsBlock] = (),
                 pool: TaskPool | None = None,
                 figure_queue: FigureQueue | None = None,
                 details: Mapping[str, pd.DataFrame] | None = None) -> Report:
    """Assemble the report model.

    Parameters
    ----------
    spec
        The study (header fields, groups, statistical plan, front matter).
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
        Draw the figures now; otherwise they are planned and drawn by
        :func:`write_report` only for formats that show them.
    bmd
        Benchmark doses for single-timepoint in-vivo continuous and incidence
        endpoints with a flagged trend (pybmds, about 1 s each).
    parameters
        Effective assay parameters by assay entry key (bin lengths for timepoint labels).
    stamp
        Run identification printed on every page.
    paper
        ``a4`` or ``letter`` (default: the study file's ``report.paper``).
    workers
        Processes for benchmark-dose fits and figures.
    tables
        Build the tables, fits and figure plan (off when only csv files are written:
        the report then holds the machine-readable frames and the methods only).
    historical
        Historical control ranges to show beside the concurrent control.
    materials
        Materials and methods of the analysis: how the run made the values and
        from which files (:func:`neurotox.report.materials.materials_section`).
    pool
        Run the benchmark-dose fits here, while the tables are built (instead of
        in ``workers`` processes, waiting for them).
    figure_queue
        Start drawing the figures here as soon as they are known (the figures
        that do not show a benchmark dose while the fits run); the caller
        collects them with ``figure_queue.figures(report.figure_jobs)``.
    details
        The assays' detail tables by ``<entry key>/<name>`` (the T-maze trial-level
        model is shown beside its one-sample test).

    Returns
    -------
    Report
        Tables, figures (or their plan) and text, ready for any renderer.

    """
    deviations = list(deviations)
    assay_of = {a.key: a.assay for a in spec.assays}
    labels = TimepointLabels.from_parameters(parameters or {}, assay_of)
    ctx = Context(spec, table, labels, historical, litter_pups(details, assay_of))
    get_bmds = _bmd_fits(results, bmd and tables, workers, pool)
    fits = concentration_fits(results, table, decisions, alpha=spec.statistics.alpha) \
        if tables else {}
    if figure_queue is not None and tables:
        figure_queue.start(plan_figures(ctx, results, decisions, fits, {}))
    refs = reference_tables(ctx, parameters or {}, assay_of, details) if tables else ([], {})
    numbered = _numbered(ctx, results, decisions, fits, get_bmds, refs) if tables else []
    bmds = get_bmds()
    _log_bmds(bmds, [g.dose for g in spec.groups])
    head = study_header(spec)
    if spec.guideline is None and "Guideline" in head:
        del head["Guideline"]
    report = Report(
        study_id=spec.study_id, title=spec.title, header=head, tables=numbered, figures=[],
        methods=methods_section(decisions, spec.statistics, software, _design(ctx, results))
        + _fit_methods(fits) + _bmd_methods(bmds) + _historical_methods(historical),
        deviations=deviations, exclusions=list(exclusions),
        results=results, decisions=decisions, endpoints=table, software=dict(software),
        front=front_matter(spec, paper, stamp.date if stamp else "",
                           stamp.amendment if stamp else "", bool(deviations)),
        stamp=stamp,
        appendix=software_messages(decisions),
        figure_jobs=plan_figures(ctx, results, decisions, fits, bmds) if tables else [],
        materials=list(materials))
    if figures:
        report.figures = render_figures(report.figure_jobs, workers=workers)
    return report


def prepare_worker() -> None:
    """Load what figures and benchmark-dose fits need, in a process of a report's pool."""
    from neurotox.report.figures import _warm_up
    from neurotox.stats.bmd import _quiet_gsl

    _warm_up()  # matplotlib, fonts and text caches
    _quiet_gsl()  # pybmds


def _bmd_fits(results: pd.DataFrame, wanted: bool, workers: int | None,
              pool: TaskPool | None) -> Callable[[], dict]:
    """The benchmark doses, fitted now or started in ``pool``, as a function returning them."""
    if not wanted:
        return dict
    if pool is None:
        done = trend_bmds(results, workers=workers)
        return lambda: done
    started = start_bmds(results, pool)
    return lambda: collect_bmds(started)


def _log_bmds(bmds: dict, doses: list[float]) -> None:
    for (assay, endpoint, sex, tp), r in bmds.items():
        flag = reliability(r, doses)
        log.info("benchmark dose %s %s %s %s: %s, BMD %.4g, BMDL %.4g%s", assay, endpoint, sex,
                 tp, r.model or "no viable model", r.bmd, r.bmdl, f" ({flag})" if flag else "")


def _numbered(ctx: Context, results: pd.DataFrame, decisions: pd.DataFrame, fits: dict,
              get_bmds: Callable[[], dict],
              refs: tuple[list[Table], dict[str, str]] = ([], {})) -> list[Table]:
    """Every table in report order, numbered.

    Findings, conclusions, group tables by category (pathology with the
    structural ones; the tests against a reference value after the summaries of
    their category), fits, listings. ``get_bmds`` gives the benchmark doses when
    their table is reached (fits running elsewhere go on while the tables before
    it are built).
    """
    tables = findings_tables(ctx, results, decisions, 0)
    tables.append(conclusions_table(ctx, results, 0, decisions))
    tables += by_category_order(group_tables(results, decisions, ctx.table, ctx,
                                             skip_assays=[PATHOLOGY])
                                + pathology_tables(ctx, results) + refs[0])
    if fits:
        units = sorted({u for u in ctx.table["dose_unit"] if u in CONCENTRATION_UNITS})
        tables.append(potency_table(fits, ctx.spec, 0, ", ".join(units), ctx))
    bmds = get_bmds()
    if bmds:
        tables.append(bmd_table(bmds, ctx.spec, 0, ctx, censored=censored_in_means(results)))
    tables += listing_tables(ctx.table, ctx, 0, skip=[PATHOLOGY]) + pathology_listing(ctx)
    for i, t in enumerate(tables, start=1):
        t.number = i
    cross_reference(tables, refs[1])
    return tables


def _design(ctx: Context, results: pd.DataFrame) -> str:
    litters = ctx.pups_and_litters(ctx.table) if ctx.litters else None
    return design_paragraph(ctx.spec.statistics, set(results["sex"]) if len(results) else set(),
                            spread=ctx.spread, litters=litters, litter_model=ctx.litter_model)


def _historical_methods(historical: HistoricalRanges | None) -> list[str]:
    if historical is None:
        return []
    studies = ("Historical control studies: " + "; ".join(historical.studies) + "."
               if historical.studies else "No historical control study fell within the strata.")
    return [f"Historical control ranges were shown beside the concurrent controls; "
            f"{historical.source}.", studies,
            f"A group outside a range is marked († treated group, ‡ concurrent control) only "
            f"when the range holds at least {historical.min_studies} studies; ranges of fewer "
            f"studies are shown for information."]


def _fit_methods(fits: dict) -> list[str]:
    if not fits:
        return []
    shown = sum(p.shown for p in fits.values())
    return [f"Concentration-response relationships ({len(fits)}) were described by a "
            "four-parameter log-logistic (Hill) model fitted to the individual values by "
            "non-linear least squares (scipy); EC50 and EC20 are given with delta-method "
            "confidence intervals. No curve was fitted where neither the overall test of the "
            "groups nor the trend test showed a concentration effect; a fit was reported only "
            "when it described the data better than a constant response (extra "
            "sum-of-squares F-test, p < 0.05), changed by at least 20% of control within the "
            "tested range and the response did not return towards control at higher "
            f"concentrations ({shown} of {len(fits)} reported); EC values outside the tested "
            "concentrations are given as '> highest' or '< lowest'."]


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
            "dose-related trend (for the neuropathology, per lesion: the any-finding "
            "summary pools lesions of different tissues and was not modelled), with the "
            "US EPA pybmds models: " + "; ".join(parts)
            + ". Among models with goodness-of-fit p >= 0.1 and a BMDL, the lowest AIC was "
            "recommended when the BMDLs were within 3-fold, otherwise the lowest BMDL "
            "(EPA Benchmark Dose Technical Guidance, 2012)."]


def parse_formats(text: str | Iterable[str]) -> list[str]:
    """Parse ``"xlsx,docx"`` (or a list) into known format names, in canonical order."""
    items = text.split(",") if isinstance(text, str) else list(text)
    names = {i.strip().lower() for i in items if i.strip()}
    unknown = sorted(names - set(FORMATS))
    if unknown:
        raise InputError(f"unknown report format(s) {quoted(unknown)}"
                         f"{did_you_mean(unknown[0], FORMATS)}; expected some of "
                         f"{quoted(FORMATS)}", where="option '--format'")
    if not names:
        raise InputError(f"no report format given; expected some of {quoted(FORMATS)}",
                         where="option '--format'")
    return [f for f in FORMATS if f in names]


def needs_tables(formats: Iterable[str]) -> bool:
    """True when one of the formats shows tables (every format but csv)."""
    return any(f != "csv" for f in formats)


def needs_figures(formats: Iterable[str]) -> bool:
    """True when one of the formats shows figures (docx, html, pdf)."""
    return any(f in FIGURE_FORMATS for f in formats)


def rendered_files(report: Report, formats: Iterable[str], *,
                   workers: int | None = 1) -> dict[str, bytes]:
    """Every file of the report, relative path → bytes.

    Figures are drawn (in ``workers`` processes) and written as PNG and SVG only
    when a format shows them.
    """
    formats = list(formats)
    if needs_figures(formats) and report.figure_jobs and not report.figures:
        report.figures = render_figures(report.figure_jobs, workers=workers)
    out: dict[str, bytes] = {}
    for fmt in formats:
        if fmt == "pdf":
            from neurotox.report.render.pdf import docx_to_pdf

            out["report.pdf"] = docx_to_pdf(out.get("report.docx")
                                            or RENDERERS["docx"](report)["report.docx"])
        else:
            out.update(RENDERERS[fmt](report))
    if needs_figures(formats):
        for f in report.figures:
            out[f"figures/{f.key}.png"] = f.png
            out[f"figures/{f.key}.svg"] = f.svg
    return out


def write_report(od: OutputDir, report: Report, formats: Iterable[str], *,
                 prefix: str = "", workers: int | None = 1) -> list[str]:
    """Render ``report`` into the OutputDir ``od`` under ``prefix``; return the paths."""
    written = []
    for rel, data in rendered_files(report, formats, workers=workers).items():
        path = str(PurePosixPath(prefix) / rel) if prefix else rel
        od.write_bytes(path, data)
        written.append(path)
    return written
