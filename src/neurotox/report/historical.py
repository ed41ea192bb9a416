"""Historical control ranges in summary and incidence tables.

With ``historical_controls`` in the study file, each summary or incidence table
whose endpoint × sex × timepoint has historical controls gets a *Historical
control* row right below the concurrent control group. Summary cells show the
range of the historical study means with the 5th–95th percentiles of the
individual animals in brackets and the numbers of studies/animals; incidence
cells show the range of historical study incidences. A treated group whose mean
(incidence) lies outside that range is marked :data:`MARK` -- a mark separate
from the significance flags --, a concurrent control outside it
:data:`CONTROL_MARK`, and a footnote names the database, the strata, the window,
the historical studies and the counts. A range of fewer than ``min_studies``
studies (one study gives a range of width zero) is shown but marks nothing.

The ranges themselves are computed elsewhere (:mod:`neurotox.hcd.ranges`); this
module only lays them out and compares.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping
from dataclasses import dataclass, replace

import pandas as pd

from neurotox.report.model import Cell, Row, Table, fmt
from neurotox.study import Group
from neurotox.timepoints import label_key

#: Mark of a treated-group value outside the historical control range.
MARK = "†"
#: Mark of the concurrent control's value outside the historical control range (then a
#: treated group's † may reflect the concurrent population rather than the treatment).
CONTROL_MARK = "‡"
ROW_LABEL = "Historical control"


@dataclass(frozen=True)
class HistoricalRanges:
    """Ranges to show (columns of :func:`neurotox.hcd.ranges.ranges`) and their source."""

    ranges: pd.DataFrame
    source: str
    min_studies: int = 3
    studies: tuple[str, ...] = ()

    def outside(self, rng: pd.Series | None, value: float, kind: str = "incidence") -> bool:
        """True when ``value`` lies outside the historical range of ``rng``.

        ``kind``: ``incidence`` (the range of study incidences, %) or ``summary``
        (the range of study means). Never for a range of fewer than
        ``min_studies`` studies, nor for a value that is not finite.
        """
        if rng is None or int(rng["n_studies"]) < self.min_studies or not math.isfinite(value):
            return False
        lo, hi = _bounds(rng, kind)
        return not lo <= value <= hi

    def lookup(self, endpoint: str, sex: str, timepoint: str) -> pd.Series | None:
        """The range row of one endpoint × sex × timepoint, or None.

        Timepoints match by what they say (:func:`~neurotox.timepoints.label_key`):
        a database's ``Day 07`` is this study's ``day7``.
        """
        r = self.ranges
        same_time = self._time_keys == label_key(timepoint)
        hit = r[(r["endpoint"] == endpoint) & (r["sex"] == sex) & same_time]
        return None if hit.empty else hit.iloc[0]

    @functools.cached_property
    def _time_keys(self) -> pd.Series:
        """The ranges' timepoints by what they say, worked out once."""
        return self.ranges["timepoint"].map(label_key) if len(self.ranges) else \
            pd.Series(dtype=object)


def _bounds(rng: pd.Series, kind: str) -> tuple[float, float]:
    if kind == "incidence":
        return float(rng["study_incidence_min"]), float(rng["study_incidence_max"])
    return float(rng["study_mean_min"]), float(rng["study_mean_max"])


def _hist_cell(rng: pd.Series | None, kind: str, decimals: int) -> Cell:
    if rng is None:
        return Cell("–", {"mean": math.nan, "sd": math.nan, "n": math.nan})
    lo, hi = _bounds(rng, kind)
    counts = f"({int(rng['n_studies'])}/{int(rng['n_animals'])}{_censored_text(rng)})"
    if kind == "incidence":
        return Cell(f"{fmt(lo, 0)}–{fmt(hi, 0)}% {counts}",
                    {"n_examined": float(rng["n_animals"]), "incidence_pct":
                     float(rng["incidence_pct"]), "hist_low": lo, "hist_high": hi})
    return Cell(f"{fmt(lo, decimals)}–{fmt(hi, decimals)} [{fmt(float(rng['p5']), decimals)}–"
                f"{fmt(float(rng['p95']), decimals)}] {counts}",
                {"mean": float(rng["mean"]), "sd": float(rng["sd"]),
                 "n": float(rng["n_animals"]), "hist_low": lo, "hist_high": hi})


def _n_censored(rng: pd.Series | None) -> int:
    n = rng.get("n_censored", math.nan) if rng is not None else math.nan
    return int(n) if n is not None and math.isfinite(float(n)) else 0


def _censored_text(rng: pd.Series) -> str:
    """``"; 4 censored"`` when animals of the range had results below/above a limit."""
    n = _n_censored(rng)
    return f"; {n} censored" if n else ""


def range_text(rng: pd.Series | None) -> Cell:
    """A cell with the range of historical study incidences (%), "–" without one."""
    return _hist_cell(rng, "incidence", 0)


def _decimals(cell: Cell) -> int:
    """Decimals of a summary cell's mean as displayed (``12.30 ± …`` → 2)."""
    head = cell.text.split(" ", 1)[0]
    return len(head.split(".", 1)[1]) if "." in head else 0


def _value(cell: Cell, kind: str) -> float:
    key = "incidence_pct" if kind == "incidence" else "mean"
    v = cell.numbers.get(key, math.nan)
    return float(v) if v is not None else math.nan


#: Most decimals added to a mean and its historical range to show a difference the
#: column's decimals hide (:func:`_separating`).
EXTRA_DECIMALS = 2


def _hides(value: float, bound: float, decimals: int) -> bool:
    """True when ``value`` differs from ``bound`` but prints equal to it at ``decimals``."""
    return (math.isfinite(value) and not math.isclose(value, bound, rel_tol=1e-9, abs_tol=0.0)
            and fmt(value, decimals) == fmt(bound, decimals))


def _hides_any(value: float, rng: pd.Series, decimals: int) -> bool:
    return any(_hides(value, b, decimals) for b in _bounds(rng, "summary"))


def _separating(table: Table, group_rows: list[int], k: int, rng: pd.Series | None,
                decimals: int, hist: HistoricalRanges) -> int:
    """Decimals of column ``k``'s historical range: the column's, or more to show a difference.

    A group mean that prints equal to a range limit it differs from (37.64 and 37.61
    both "37.6") could be inside or outside for a reader; the range then gets the
    fewest extra decimals (at most :data:`EXTRA_DECIMALS`) at which no group mean of
    the column prints equal to a limit it differs from. Ranges that mark nothing
    (fewer than ``min_studies`` studies) keep the column's decimals.
    """
    if rng is None or int(rng["n_studies"]) < hist.min_studies:
        return decimals
    means = [_value(table.rows[i].cells[k], "summary") for i in group_rows]
    for d in range(decimals, decimals + EXTRA_DECIMALS + 1):
        if not any(_hides_any(m, rng, d) for m in means):
            return d
    return decimals + EXTRA_DECIMALS


def _widened(cell: Cell, rng: pd.Series | None, decimals: int,
             hist: HistoricalRanges) -> Cell:
    """``cell`` with its mean ± spread at ``decimals`` when it prints equal to a range limit.

    Only a cell that hides a difference at its own decimals changes; a cell whose text
    does not begin with its mean ± spread (a fully censored cell) is kept as is.
    """
    shown = cell.decimals if cell.decimals is not None else _decimals(cell)
    mean = _value(cell, "summary")
    if (rng is None or int(rng["n_studies"]) < hist.min_studies or decimals <= shown
            or not _hides_any(mean, rng, shown)):
        return cell
    spread = next((cell.numbers[k] for k in ("sd", "sem") if k in cell.numbers), math.nan)
    old = f"{fmt(mean, shown)} ± {fmt(spread, shown)}"
    head = cell.text.removeprefix("≥ ")
    if not head.startswith(old):
        return cell
    new = f"{fmt(mean, decimals)} ± {fmt(spread, decimals)}"
    return replace(cell, text=cell.text.replace(old, new, 1), decimals=decimals)


def _mark(cell: Cell, outside: bool, mark: str = MARK) -> Cell:
    if not outside:
        return cell
    return replace(cell, text=f"{cell.text} {mark}",
                   numbers={**cell.numbers, "outside_historical": 1.0})


def add_to_table(table: Table, columns: list[tuple[str, str] | None], sex: str,
                 groups: Mapping[str, Group], hist: HistoricalRanges) -> bool:
    """Add the historical row and the marks to a summary or incidence table, in place.

    Parameters
    ----------
    table
        A summary or incidence table whose rows are ``"<id> <label>"`` group rows
        (and possibly a trend-test row).
    columns
        The table's data columns as (endpoint, timepoint) pairs, in order; ``None``
        for a derived column (no historical range, no mark).
    sex
        The table's sex.
    groups
        The study's groups by their row label, in table order.
    hist
        The ranges and their source.

    Returns
    -------
    bool
        False (table unchanged) when no column has historical controls.

    """
    kind = "incidence" if table.kind == "incidence" else "summary"
    found = [None if c is None else hist.lookup(c[0], sex, c[1]) for c in columns]
    if all(r is None for r in found):
        return False
    by_label = groups
    control_at = max((i for i, row in enumerate(table.rows)
                      if by_label.get(row.labels[0]) and by_label[row.labels[0]].control),
                     default=-1)
    decimals = [_decimals(table.rows[control_at].cells[k]) if control_at >= 0 else 2
                for k in range(len(columns))]
    group_rows = [i for i, row in enumerate(table.rows) if row.labels[0] in by_label]
    if kind == "summary":
        decimals = [_separating(table, group_rows, k, r, d, hist)
                    for k, (r, d) in enumerate(zip(found, decimals, strict=True))]
    rows = []
    for row in table.rows:
        g = by_label.get(row.labels[0])
        if g is not None:
            mark = CONTROL_MARK if g.control else MARK
            cells = row.cells
            if kind == "summary":
                cells = tuple(_widened(c, r, d, hist)
                              for c, r, d in zip(cells, found, decimals, strict=True))
            row = Row(row.labels, tuple(_mark(c, hist.outside(r, _value(c, kind), kind), mark)
                                        for c, r in zip(cells, found, strict=True)))
        rows.append(row)
    hist_row = Row((ROW_LABEL, "range"), tuple(_hist_cell(r, kind, d)
                                               for r, d in zip(found, decimals, strict=True)))
    rows.insert(control_at + 1, hist_row)
    table.rows = rows
    table.footnotes.append(footnote(kind, hist, censored=any(_n_censored(r) for r in found),
                                    used=[r for r in found if r is not None], sex=sex))
    return True


#: How a table's sex is named in the footnote.
SEX_WORDS = {"M": "males", "F": "females"}


def studies_used(used: list[pd.Series], hist: HistoricalRanges, sex: str = "") -> str:
    """``Ranges for females rest on 3 of the 4 historical studies: A (10 animals), …``.

    Said only when the table's ranges (``used``, with their column ``studies``)
    rest on fewer studies than the footnote's database sentence names; a study's
    animals are the most any one range of the table holds of it.
    """
    animals: dict[str, int] = {}
    for rng in used:
        for sid, n in rng.get("studies", ()) or ():
            animals[sid] = max(n, animals.get(sid, 0))
    if not animals or len(animals) >= len(hist.studies):
        return ""
    who = f" for {SEX_WORDS.get(sex, 'sex ' + sex)}" if sex else ""
    names = ", ".join(f"{sid} ({n} animal{'s' if n != 1 else ''})" for sid, n in animals.items())
    return (f" Ranges{who} rest on {len(animals)} of the {len(hist.studies)} historical "
            f"studies: {names}; the others hold no such animals or values.")


def footnote(kind: str, hist: HistoricalRanges, *, censored: bool = False,
             used: list[pd.Series] | None = None, sex: str = "") -> str:
    """The footnote explaining the historical row and the mark.

    ``censored``: some range counts animals whose results were censored (below or
    above a limit); the footnote says they are not in the range. ``used``: the
    ranges of the table (of ``sex``); when they rest on only some of the
    historical studies, the footnote names those (:func:`studies_used`).
    """
    if kind == "incidence":
        what = ("Historical control row: range of the incidences of the historical studies "
                f"(studies/animals); {MARK} treated-group incidence outside that range")
    else:
        what = ("Historical control row: range of the historical study means [5th–95th "
                f"percentile of the animals] (studies/animals); {MARK} treated-group mean "
                "outside the range of study means")
    control = "incidence" if kind == "incidence" else "mean"
    return (f"{what}; {CONTROL_MARK} concurrent control {control} outside that range (a "
            f"treated group's {MARK} may then reflect the concurrent animals rather than the "
            f"treatment) (not a statistical test). A range of fewer than {hist.min_studies} "
            f"studies is shown but marks no group ({MARK}/{CONTROL_MARK}). "
            + ("\"(1/5; 4 censored)\": 4 of the 5 animals had results below or above a "
               "limit; they are counted but not in the range or percentiles, which rest on "
               "the quantified animals only and lean away from the limit. " if censored
               else "")
            + f"Historical controls: {hist.source}."
            + studies_used(used or [], hist, sex))
