"""The report model: tables, figures and text, independent of any file format.

Builders (:mod:`neurotox.report.tables`, :mod:`neurotox.report.methods`) turn the
statistics results into these objects; renderers (xlsx, docx, html, csv) only
lay them out. Nothing here computes a statistic: every number in a cell was
read from the results or the EndpointTable.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Context, Decimal
from typing import Any

from neurotox.timepoints import time_key
from neurotox.vocab import Category

#: Arrow shown after a significance flag, by the ``direction`` column of the results.
ARROWS = {"up": "↑", "down": "↓"}


@dataclass(frozen=True)
class Cell:
    """One table cell.

    Attributes
    ----------
    text
        Display text, e.g. ``"12.3 ± 1.4 (10)**↓"``.
    numbers
        The numbers behind the text, keyed by the table's ``number_fields``
        (NaN when not applicable); written as numbers to spreadsheets.
    flag
        ``""``, ``"*"`` or ``"**"``.
    direction
        ``"up"``, ``"down"`` or ``""``.
    note
        Extra text shown with the cell (e.g. an exclusion reason).
    decimals
        Decimals of the numbers as displayed (spreadsheet number formats); None
        when not set.

    """

    text: str
    numbers: dict[str, float] = field(default_factory=dict)
    flag: str = ""
    direction: str = ""
    note: str = ""
    decimals: int | None = None


@dataclass(frozen=True)
class Row:
    """A table row: its label cells (group, dose or subject) and its data cells.

    ``optional`` rows ("Trend test", "Comparison with control") are shown only
    where they say something: a part of a table split by columns leaves one out
    when all its cells in that part are empty.
    """

    labels: tuple[str, ...]
    cells: tuple[Cell, ...]
    optional: bool = False


@dataclass(frozen=True)
class ColumnGroup:
    """A heading spanning ``span`` consecutive data columns."""

    label: str
    span: int


@dataclass
class Table:
    """A numbered report table.

    Attributes
    ----------
    number
        Table number within the report (1-based).
    title
        Table title, without the number.
    kind
        ``summary``, ``incidence``, ``severity`` or ``listing``.
    key
        Short identifier, unique in the report (sheet names, anchors, file names).
    header
        Header fields, in display order (study number, test item, sex ...).
    row_header
        Headings of the label columns.
    column_groups
        Headings spanning data columns (empty for a single header row).
    columns
        Headings of the data columns.
    number_fields
        Keys of :attr:`Cell.numbers`, in spreadsheet order.
    rows
        The rows.
    footnotes
        Footnotes, in display order.
    category
        OECD/EPA category of the table's endpoints (``""`` for listings).
    sources
        The (endpoint, timepoint) behind each data column, ``None`` for a derived
        column (e.g. ANCOVA-adjusted means); empty when not a group table.

    """

    number: int
    title: str
    kind: str
    key: str
    header: dict[str, str]
    row_header: tuple[str, ...]
    columns: tuple[str, ...]
    rows: list[Row]
    number_fields: tuple[str, ...] = ()
    column_groups: tuple[ColumnGroup, ...] = ()
    footnotes: list[str] = field(default_factory=list)
    category: str = ""
    sources: tuple[tuple[str, str] | None, ...] = ()

    @property
    def caption(self) -> str:
        """``Table N. Title``."""
        return f"Table {self.number}. {self.title}"

    def to_dict(self) -> dict[str, Any]:
        """Plain-data view (display texts, flags, footnotes) for JSON and golden tests."""
        return {"caption": self.caption, "kind": self.kind, "key": self.key,
                "header": dict(self.header), "row_header": list(self.row_header),
                "column_groups": [[g.label, g.span] for g in self.column_groups],
                "columns": list(self.columns),
                "rows": [{"labels": list(r.labels), "cells": [c.text for c in r.cells],
                          "flags": [c.flag for c in r.cells]} for r in self.rows],
                "footnotes": list(self.footnotes), "category": self.category}


@dataclass
class Figure:
    """A rendered figure.

    Attributes
    ----------
    number
        Figure number within the report.
    title
        Caption without the number.
    key
        File stem (``figures/<key>.png`` / ``.svg``) and anchor.
    png, svg
        The image, rendered reproducibly (no timestamps).
    category
        OECD/EPA category of the endpoint shown.

    """

    number: int
    title: str
    key: str
    png: bytes
    svg: bytes
    category: str = ""

    @property
    def caption(self) -> str:
        """``Figure N. Title``."""
        return f"Figure {self.number}. {self.title}"


@dataclass(frozen=True)
class RunStamp:
    """What identifies the run that produced a report, printed on every page.

    Attributes
    ----------
    run_id
        Unique identifier of the run (also in ``run.json``, the log and the manifest).
    date
        Date of the run (UTC, ``YYYY-MM-DD``) and ``time`` (``HH:MM:SS UTC``).
    report_date
        The report's date as the study file gives it (``dates.report``), or ""
        (then the run's date is the report date): see :attr:`report_day`.
    key_id
        ID of the key that signs the folder's ``manifest.json`` (``--sign-key`` or
        ``NEUROTOX_SIGN_KEY_FILE``), or "" when the run is not signed.
    amendment
        "Amendment N to the report of run X: reason" when the study file's
        ``report.amends`` names the report this run amends, else "".
    command
        The command line.
    software
        ``neurotox <version>``.
    record
        File name of the run record (``run.json``) and its SHA-256; the folder's
        ``manifest.json`` lists the same hash, so ``neurotox verify`` links the
        printed report to the files.
    inputs
        (file, SHA-256) of every input, as ``run.json`` lists them.

    """

    run_id: str
    date: str
    time: str
    command: str
    software: str
    record: str = "run.json"
    record_sha256: str = ""
    inputs: tuple[tuple[str, str], ...] = ()
    report_date: str = ""
    key_id: str = ""
    amendment: str = ""

    @property
    def report_day(self) -> str:
        """The one report date printed: the study file's ``dates.report``, else the run's date."""
        return self.report_date or self.date


@dataclass
class FrontMatter:
    """Title page and statements of a report that a study director signs.

    Attributes
    ----------
    title_block
        Label → value rows of the title page (sponsor, test facility, test item...).
    glp
        GLP study: the compliance and QA statement pages are added.
    study_director
        Name on the compliance statement (blank line when not given).
    qa_inspections
        (phase, date inspected, date reported) rows of the QA statement.
    qa_name
        Name on the QA statement (blank line when not given).
    paper
        ``a4`` or ``letter``.
    compliance
        Paragraphs of the statement of compliance above the signature (the
        statement, the exceptions to GLP, the archive); empty: the OECD
        statement with lines to complete.
    qa_text
        Text of the QA statement (empty: the standard one,
        :data:`neurotox.report.front.QA_TEXT`).

    """

    title_block: list[tuple[str, str]]
    glp: bool = False
    study_director: str = ""
    qa_inspections: list[tuple[str, str, str]] = field(default_factory=list)
    qa_name: str = ""
    paper: str = "a4"
    compliance: list[str] = field(default_factory=list)
    qa_text: str = ""


@dataclass
class MethodsBlock:
    """One part of the materials and methods of the analysis (an assay entry, the study files).

    Attributes
    ----------
    heading
        Sub-heading.
    paragraphs
        Text, in reading order.
    files
        (file, SHA-256) rows listed after the text.

    """

    heading: str
    paragraphs: list[str] = field(default_factory=list)
    files: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class Report:
    """Everything a study report needs, ready to render.

    Attributes
    ----------
    study_id, title
        Study number and title.
    header
        Study-level header fields (test item, species, GLP status ...).
    tables
        Summary, incidence and severity tables, then listings, numbered.
    figures
        Figures, numbered.
    methods
        Statistical methods section, one paragraph per item.
    deviations
        Guideline deviations found for the study.
    exclusions
        One line per excluded value or subject, with its reason.
    results, decisions, endpoints
        The machine-readable frames the tables were built from (written as csv).
    software
        Software versions, for the methods section and the title page.
    front
        Title page and GLP statements.
    stamp
        Run identification printed on every page (None: not stamped, e.g. tests).
    appendix
        Messages of the software (convergence and fit warnings), located, for the
        methods appendix; never shown inside tables.
    links
        (label, relative path) of further outputs the report points to (QC
        overlays, plate heatmaps).
    figure_jobs
        The figures planned (:class:`neurotox.report.figures.FigureJob`), drawn
        into :attr:`figures` when a format needs them.
    materials
        Materials and methods of the analysis: how the values were made (protocols,
        changed parameters, conventions, notes) and from which files.

    """

    study_id: str
    title: str
    header: dict[str, str]
    tables: list[Table]
    figures: list[Figure]
    methods: list[str]
    deviations: list[str] = field(default_factory=list)
    exclusions: list[str] = field(default_factory=list)
    results: Any = None
    decisions: Any = None
    endpoints: Any = None
    software: dict[str, str] = field(default_factory=dict)
    front: FrontMatter | None = None
    stamp: RunStamp | None = None
    appendix: list[str] = field(default_factory=list)
    links: list[tuple[str, str]] = field(default_factory=list)
    figure_jobs: list[Any] = field(default_factory=list)
    materials: list[MethodsBlock] = field(default_factory=list)

    @property
    def draft(self) -> bool:
        """A GLP report not signed (no signing key, or no run stamp): marked DRAFT.

        Only a signed run is final (see :func:`neurotox.study.check_signable`); its
        pages carry no DRAFT mark.
        """
        return bool(self.front and self.front.glp
                    and (self.stamp is None or not self.stamp.key_id))


def by_category(items: list[Any]) -> list[tuple[str, list[Any]]]:
    """Consecutive runs of tables or figures with the same category, with its label.

    Items without a category (potency tables) form a run labelled ``""``.
    """
    runs: list[tuple[str, list[Any]]] = []
    for item in items:
        cat = getattr(item, "category", "")
        label = Category(cat).label if cat in {c.value for c in Category} else ""
        if runs and runs[-1][0] == label:
            runs[-1][1].append(item)
        else:
            runs.append((label, [item]))
    return runs


# ----------------------------------------------------------------- formatting

def decimals_for(values: list[float], preferred: int | None = None) -> int:
    """Decimals to show for values of this magnitude.

    Parameters
    ----------
    values
        Means (or other values) that will share one column format.
    preferred
        The registry's ``decimals`` for the endpoint; used as is when given.

    Returns
    -------
    int
        ``preferred``, else 0 for magnitudes ≥ 100, 1 for ≥ 10, 2 for ≥ 1, 3 below,
        so that about three significant digits are shown.

    """
    if preferred is not None:
        return preferred
    finite = [abs(v) for v in values if v is not None and math.isfinite(v)]
    if not finite:
        return 2
    top = max(finite)
    for limit, dec in ((100, 0), (10, 1), (1, 2)):
        if top >= limit:
            return dec
    return 3


#: Significant digits a value is read to before it is rounded for display (Excel's).
READ_DIGITS = 15
#: Enough digits for any float at any number of decimals shown.
_WIDE = Context(prec=400)


def rounded(value: float, decimals: int) -> Decimal:
    """``value`` rounded to ``decimals`` the one way every output rounds it.

    The value is read to :data:`READ_DIGITS` significant digits, then rounded half
    away from zero: the mean 37.55 (stored in binary as 37.549999…) prints 37.6, as a
    hand calculation and Excel's number format ``0.0`` give it, not 37.5.

    Notes
    -----
    Spreadsheet cells keep the full value with a number format; Excel displays it by
    this same rule, so the workbook and the Word/PDF/HTML report agree.

    """
    exact = Decimal(f"{value:.{READ_DIGITS - 1}e}")
    return exact.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP,
                          context=_WIDE)


def fmt(value: float | None, decimals: int) -> str:
    """Format a number with fixed decimals (:func:`rounded`); ``"–"`` for missing values."""
    if value is None or not math.isfinite(value):
        return "–"
    text = f"{rounded(value, decimals):.{decimals}f}"
    return "0" + text[2:] if text.startswith("-0") and float(text) == 0 else text


def fmt_sig(value: float, sig: int = 3) -> str:
    """``value`` to ``sig`` significant figures (as ``f"{value:.3g}"``), rounded as :func:`fmt`."""
    if not math.isfinite(value) or value == 0:
        return f"{value:.{sig}g}"
    exact = Decimal(f"{value:.{READ_DIGITS - 1}e}")
    q = exact.quantize(Decimal(1).scaleb(exact.adjusted() - sig + 1), rounding=ROUND_HALF_UP)
    return f"{float(q):.{sig}g}"


#: Most significant figures a censoring limit is printed with (rounded outward beyond).
LIMIT_SIG = 4


def limit_decimals(value: float, decimals: int) -> int:
    """Decimals that print a censoring limit exactly, at least ``decimals``.

    ``0.0045`` needs 4 where the column has 3; a limit with more significant
    figures than :data:`LIMIT_SIG` keeps the decimals of that many (the caller
    rounds it outward, :func:`limit_text`).
    """
    if not math.isfinite(value) or value == 0:
        return decimals
    cap = max(decimals, LIMIT_SIG - 1 - math.floor(math.log10(abs(value))))
    for d in range(decimals, cap + 1):
        if math.isclose(float(f"{value:.{d}f}"), value, rel_tol=1e-9, abs_tol=0.0):
            return d
    return cap


def limit_text(sign: str, value: float, decimals: int) -> str:
    """A censoring limit as printed (``< 0.0045``, ``> 20.0``): rounding never moves it.

    The limit gets the decimals it needs (:func:`limit_decimals`); one that still
    does not print exactly is rounded outward, up after ``<`` and down after ``>``,
    so the statement stays true (``< 4.063`` for a limit of 4.06225).

    Parameters
    ----------
    sign
        ``<`` (value below the limit) or ``>`` (above).
    value
        The limit.
    decimals
        Decimals of the column the limit is printed in (the fewest used).

    """
    d = limit_decimals(value, decimals)
    if not math.isfinite(value):
        return f"{sign} {fmt(value, d)}"
    scaled = value * 10 ** d
    if not math.isclose(scaled, round(scaled), rel_tol=1e-9, abs_tol=0.0):
        scaled = math.ceil(scaled) if sign == "<" else math.floor(scaled)
        value = scaled / 10 ** d
    return f"{sign} {fmt(value, d)}"


def sig_decimals(value: float, decimals: int, *, sig: int = 3) -> int:
    """Decimals for one listed value: ``decimals``, or ``sig`` significant figures when small.

    A value that ``decimals`` would print with fewer than two significant figures
    (0.009235 at 3 decimals: "0.009") gets ``sig`` of them ("0.00924"); zero and
    values of 1 or more keep ``decimals``.
    """
    if not math.isfinite(value) or value == 0 or abs(value) >= 1:
        return decimals
    first = -math.floor(math.log10(abs(value)))  # decimal of the first significant digit
    if decimals >= first + 1:  # two significant figures or more already
        return decimals
    return max(decimals, first + sig - 1)


def fmt_p(p: float | None) -> str:
    """Format a p-value for a column headed "p" (``< 0.001`` below 0.001)."""
    if p is None or not math.isfinite(p):
        return ""
    return "< 0.001" if p < 0.001 else fmt(p, 3)


def flag_text(flag: str, direction: str) -> str:
    """Significance flag with its direction arrow, e.g. ``"**↓"``."""
    return f"{flag}{ARROWS.get(direction, '')}" if flag else ""


def natural_key(text: str) -> tuple[Any, ...]:
    """Sort key of a label read as a time: :func:`neurotox.timepoints.time_key`.

    ``pretest`` before ``day-1`` before ``day3``; ``PND4`` before ``PND21``; ``bin2``
    before ``bin10``. Timepoints of an analysis are sorted by
    :meth:`neurotox.timepoints.TimeOrder.of` (the order the statistics used, which
    knows the protocol's order).
    """
    return time_key(text)


def slug(text: str) -> str:
    """Lower-case identifier from text (for keys and file names)."""
    return re.sub(r"[^a-z0-9]+", "-", str(text).lower()).strip("-") or "x"
