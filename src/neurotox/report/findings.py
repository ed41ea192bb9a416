"""Summary of findings per endpoint category, and the NOAEL/LOAEL table.

The summary-of-findings tables say, for every endpoint of a category, which
treated groups differ statistically from control, by sex, in which direction
and at which timepoints — or that no test could be run, and why. They are
read from the results' ``flag`` and ``direction`` columns and the decision
paths; nothing is recomputed.

The NOAEL/LOAEL table shows the study director's conclusions from the study
file (``noael``, ``loael``) beside what the statistics alone suggest: the
lowest dose with a statistically significant change in an endpoint's adverse
direction. The software proposes; the study director decides.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import replace

import numpy as np
import pandas as pd

from neurotox import endpoints as ep_registry
from neurotox.report.context import Context
from neurotox.report.labels import assay_label, dose_label, is_pre_dose
from neurotox.report.model import ARROWS, Cell, ColumnGroup, Row, Table, slug
from neurotox.report.tables import (
    CATEGORY_ORDER,
    SEX_ORDER,
    SIDED,
    dose_text,
    label_of,
    not_tested_reason,
    study_header,
)
from neurotox.study import DoseConclusion, Group
from neurotox.timepoints import TimeOrder
from neurotox.vocab import Category, Direction

#: Most timepoints named in one findings cell; more are counted instead.
MAX_NAMED = 3

#: Mark of a cell whose per-timepoint comparisons are supplementary only.
SUPPLEMENTARY = "§"


def _s(v: object) -> str:
    return "" if v is None or (isinstance(v, float) and math.isnan(v)) else str(v)


def _untested(decisions: pd.DataFrame) -> dict[tuple[str, str, str, str], str]:
    """(assay, endpoint, sex, timepoint) strata without a comparison with control → note."""
    if decisions is None or not len(decisions):
        return {}
    d = decisions[decisions["timepoint"] != "ALL"]
    m = (d["path"] == "insufficient_data") | (d["pairwise_test"].map(_s) == "")
    return {(r["assay"], r["endpoint"], r["sex"], r["timepoint"]): _s(r["note"])
            for r in d[m].to_dict("records")}


def _supplementary(decisions: pd.DataFrame) -> set[tuple[str, str, str]]:
    """(assay, endpoint, sex) whose per-timepoint comparisons are supplementary only.

    A repeated-measures analysis (path ``repeated_measures``, timepoint ``ALL``) whose
    group × time interaction is not significant (``overall_p`` > its ``alpha``): the
    per-timepoint tests that follow it are then supplementary, not findings on their
    own (the analysis' own note says so, :mod:`neurotox.stats.mixed`).
    """
    if decisions is None or not len(decisions) or "overall_p" not in decisions:
        return set()
    d = decisions[(decisions["timepoint"] == "ALL")
                  & (decisions["path"] == "repeated_measures")]
    p = pd.to_numeric(d["overall_p"], errors="coerce")
    alpha = pd.to_numeric(d["alpha"], errors="coerce") if "alpha" in d else 0.05
    d = d[p.notna() & (p > alpha)]
    return {(r["assay"], r["endpoint"], r["sex"]) for r in d.to_dict("records")}


def _finding_cell(ctx: Context, recs: list[dict], untested: dict, stratum: list[dict],
                  times: TimeOrder, supplementary: bool = False) -> Cell:
    """Flags of one endpoint × sex × group over its timepoints (results records).

    ``stratum`` holds the records of every group (for the reason no test was run);
    ``times`` is the results' time order (:meth:`TimeOrder.of`).
    Differences in sessions before dosing (:meth:`Context.pre_dose`) are shown in
    square brackets after the findings and are not counted among them.
    ``supplementary``: the per-timepoint comparisons are supplementary only
    (:func:`_supplementary`); the findings are marked :data:`SUPPLEMENTARY`.
    """
    if not recs:
        return Cell("", {"p_value": math.nan})
    before = [r for r in recs if ctx.pre_dose(r["timepoint"], r["assay"])]
    after = [r for r in recs if not ctx.pre_dose(r["timepoint"], r["assay"])]
    cell = _dosed_cell(ctx, after, untested, stratum, times) if after else \
        Cell("–", {"p_value": math.nan})
    if supplementary and cell.flag:
        cell = replace(cell, text=f"{cell.text} {SUPPLEMENTARY}")
    shown = [f"{ctx.tp(r['timepoint'], r['assay'])} {_marks(hits)}"
             for r, hits in _by_timepoint(before, untested, times) if hits]
    if not shown:
        return cell
    return replace(cell, text=f"{cell.text} [{', '.join(shown)}]")


def _tested(recs: list[dict], untested: dict) -> list[dict]:
    return [r for r in recs
            if (r["assay"], r["endpoint"], r["sex"], r["timepoint"]) not in untested]


def _by_timepoint(recs: list[dict], untested: dict,
                  times: TimeOrder) -> list[tuple[dict, list[dict]]]:
    """(first record, flagged tested records) per timepoint, in time order."""
    tps = sorted({str(r["timepoint"]) for r in recs}, key=times.key)
    tested = _tested(recs, untested)
    return [(next(r for r in recs if str(r["timepoint"]) == t),
             [r for r in tested if str(r["timepoint"]) == t and _s(r["flag"])]) for t in tps]


def _marks(hits: list[dict]) -> str:
    """``↓**``, ``↑*`` or ``↓*/↑*`` of flagged records (the strongest flag per direction)."""
    marks = []
    for direction in ("down", "up"):
        part = [r for r in hits if r["direction"] == direction]
        if part:
            flag = "**" if any(r["flag"] == "**" for r in part) else "*"
            marks.append(f"{ARROWS[direction]}{flag}")
    return "/".join(marks)


def _dosed_cell(ctx: Context, recs: list[dict], untested: dict, stratum: list[dict],
                times: TimeOrder) -> Cell:
    """The findings of the sessions after the start of dosing."""
    first = recs[0]
    tested = _tested(recs, untested)
    if not tested:
        key = (first["assay"], first["endpoint"], first["sex"], first["timepoint"])
        same_tp = [r for r in stratum if r["timepoint"] == first["timepoint"]]
        return Cell("n.t.", {"p_value": math.nan},
                    note=not_tested_reason(same_tp, untested.get(key, "")))
    hits = [r for r in tested if _s(r["flag"])]
    if not hits:
        ps = [float(r["p_value"]) for r in tested if math.isfinite(float(r["p_value"]))]
        return Cell("–", {"p_value": min(ps, default=math.nan)})
    text = _per_timepoint(ctx, first["assay"], hits, len({r["timepoint"] for r in tested}),
                          times)
    strongest = "**" if any(r["flag"] == "**" for r in hits) else "*"
    one_way = len({r["direction"] for r in hits}) == 1
    return Cell(text, {"p_value": min(float(r["p_value"]) for r in hits)}, flag=strongest,
                direction=hits[0]["direction"] if one_way else "")


def _per_timepoint(ctx: Context, assay: str, hits: list[dict], total: int,
                   times: TimeOrder) -> str:
    """Each timepoint with its own flag, timepoints of the same flag together.

    ``↓* (Day 7, Day 14), ↓** (Day 21)``; flags in order of their first timepoint.
    More than :data:`MAX_NAMED` timepoints are counted: ``↓** (4 of 6 timepoints)``.
    A single untimed result (timepoint ``NA``) is its flag alone.
    """
    tps = sorted({str(r["timepoint"]) for r in hits}, key=times.key)
    if tps == ["NA"]:
        return _marks(hits)
    by_mark: dict[str, list[str]] = {}
    for t in tps:
        mark = _marks([r for r in hits if str(r["timepoint"]) == t])
        by_mark.setdefault(mark, []).append(ctx.tp(t, assay) or t)
    if len(tps) > MAX_NAMED:
        return ", ".join(f"{m} ({len(n)} of {total} timepoints)" for m, n in by_mark.items())
    return ", ".join(f"{m} ({', '.join(n)})" for m, n in by_mark.items())


def findings_tables(ctx: Context, results: pd.DataFrame, decisions: pd.DataFrame,
                    start: int) -> list[Table]:
    """One summary-of-findings table per endpoint category present in the results."""
    res = results[results["timepoint"] != "ALL"]
    if not len(res):
        return []
    untested = _untested(decisions)
    supplementary = _supplementary(decisions)
    sexes = sorted(set(res["sex"]), key=lambda s: SEX_ORDER.get(s, 3))
    treated = [g for g in ctx.spec.groups if not g.control]
    by_stratum: dict[tuple[str, str], list[dict]] = {}
    for rec in res.to_dict("records"):
        by_stratum.setdefault((rec["assay"], rec["endpoint"], rec["sex"]), []).append(rec)
    out = []
    for cat in sorted(set(res["category"]), key=lambda c: CATEGORY_ORDER.get(c, 99)):
        part = res[res["category"] == cat]
        keys = sorted(set(zip(part["assay"], part["endpoint"], strict=True)),
                      key=lambda ae: (ae[0], label_of(ae[1])))
        out.append(_findings_table(ctx, cat, keys, by_stratum, sexes, treated,
                                   (untested, supplementary), TimeOrder.of(part),
                                   start + len(out)))
    return out


def _findings_table(ctx: Context, cat: str, keys: list[tuple[str, str]], by_stratum: dict,
                    sexes: list[str], treated: list[Group],
                    skipped: tuple[dict, set], times: TimeOrder, number: int) -> Table:
    """The findings table of one category; ``times``: the time order of its results."""
    untested, supplementary = skipped
    rows = []
    for assay, endpoint in keys:
        cells = []
        for sex in sexes:
            recs = by_stratum.get((assay, endpoint, sex), [])
            for g in treated:
                mine = [r for r in recs if r["group"] == g.id]
                cells.append(_finding_cell(ctx, mine, untested, recs, times,
                                           (assay, endpoint, sex) in supplementary))
        rows.append(Row((label_of(endpoint), assay_label(assay)), tuple(cells)))
    label = Category(cat).label if cat in CATEGORY_ORDER else cat
    return Table(
        number=number, title=f"Summary of findings: {label}", kind="findings",
        key=f"findings-{slug(cat)}", header=study_header(ctx.spec),
        row_header=("Endpoint", "Assay"),
        columns=tuple(_column(g, ctx.spec.groups) for _ in sexes for g in treated),
        column_groups=tuple(ColumnGroup(ctx.sex(s), len(treated)) for s in sexes
                            if ctx.sex(s)),
        rows=rows, number_fields=("p_value",), category="",
        footnotes=_findings_notes(ctx, rows))


def _findings_notes(ctx: Context, rows: list[Row]) -> list[str]:
    plan = ctx.spec.statistics
    notes = [f"↑/↓ statistically significant increase/decrease vs control, * p ≤ {plan.alpha:g},"
             f" ** p ≤ 0.01 ({SIDED[plan.sided]}), at the timepoints given in brackets after "
             "each flag; – no "
             "statistically significant difference; n.t. not tested. Tests and values: see "
             "the summary, incidence and severity tables."]
    used = sorted({c.note for r in rows for c in r.cells if c.text == "n.t." and c.note})
    if used:
        notes.append("n.t.: " + "; ".join(used) + ".")
    if any(f" {SUPPLEMENTARY}" in c.text for r in rows for c in r.cells):
        notes.append(f"{SUPPLEMENTARY} supplementary: the group × time interaction of the "
                     f"repeated-measures analysis was not statistically significant "
                     f"(p > {plan.alpha:g}), so the per-timepoint comparisons are "
                     "supplementary and not findings on their own.")
    if any(c.text.endswith("]") for r in rows for c in r.cells):
        notes.append("[ ]: statistically significant differences in sessions before dosing "
                     "(baseline, pre-test), shown but not counted as findings: they reflect "
                     "the allocation of animals to groups, not the treatment.")
    notes.append("A statistically significant difference is not by itself an adverse "
                 "effect; see the study director's conclusions (NOAEL/LOAEL).")
    return notes


# ------------------------------------------------------------------ NOAEL / LOAEL

def _adverse(direction: str, endpoint: str) -> bool:
    reg = ep_registry.registry().get(endpoint)
    if reg is None or reg.direction == Direction.EITHER:
        return direction in ("up", "down")
    return direction == ("up" if reg.direction == Direction.INCREASE else "down")


def proposed_loael(results: pd.DataFrame, groups: list[Group], sex: str,
                   pre_dose: Callable[[object, str], bool] | None = None,
                   supplementary: set[tuple[str, str, str]] = frozenset()
                   ) -> tuple[Group | None, list[str]]:
    """Lowest dose group with a significant change in an endpoint's adverse direction.

    Differences in sessions before dosing (pre-test, baseline, negative days:
    ``pre_dose(timepoint, assay)``, by default :func:`is_pre_dose`) are not
    treatment effects and do not count; nor do the per-timepoint comparisons of
    an (assay, endpoint, sex) in ``supplementary`` (:func:`_supplementary`: the
    group x time interaction was not significant, so they are no findings on
    their own).

    Returns
    -------
    group, endpoints
        The group (None when there is none) and the labels of its endpoints so changed.

    """
    before = pre_dose or (lambda tp, assay: is_pre_dose(tp))
    assays = results["assay"] if "assay" in results else pd.Series("", index=results.index)
    pre = np.array([before(t, a) for t, a in zip(results["timepoint"], assays, strict=True)],
                   dtype=bool)
    extra = np.array([(a, e, sex) in supplementary
                      for a, e in zip(assays, results["endpoint"], strict=True)], dtype=bool)
    res = results[(results["timepoint"] != "ALL") & (results["sex"] == sex)
                  & (results["flag"].map(_s) != "") & ~results["is_control"].astype(bool)
                  & ~pre & ~extra]
    adverse = [_adverse(d, e) for d, e in zip(res["direction"], res["endpoint"], strict=True)]
    hits = res.loc[np.array(adverse, dtype=bool)]
    for g in sorted((g for g in groups if not g.control), key=lambda g: g.dose):
        at = hits[hits["group"] == g.id]
        if len(at):
            return g, sorted({label_of(e) for e in at["endpoint"]})
    return None, []


def _director(entries: tuple[DoseConclusion, ...], sex: str, unit: str) -> str:
    chosen = [c for c in entries if c.sex.value in (sex, "NA")]
    if not chosen:
        return "to be entered by the study director"
    c = chosen[0]
    dose = "not established" if c.dose is None else dose_label(c.dose, unit)
    return f"{dose} ({c.basis})" if c.basis else dose


def doses_ordered(groups: Iterable[Group]) -> bool:
    """True when every treated group has its own dose above the control's.

    Not so in designs whose groups differ otherwise (sham, nerve injury, injury +
    drug, all at dose 0): there a dose is no label and there is no lowest effect dose.
    """
    groups = list(groups)
    control = [g.dose for g in groups if g.control]
    treated = [g.dose for g in groups if not g.control]
    return len(set(treated)) == len(treated) and all(d > max(control, default=0.0)
                                                     for d in treated)


def _column(group: Group, groups: Iterable[Group]) -> str:
    """A treated group's column heading: its dose, or its label without dose order."""
    return dose_text(group) if doses_ordered(groups) else group.label


def conclusions_table(ctx: Context, results: pd.DataFrame, number: int,
                      decisions: pd.DataFrame | None = None) -> Table:
    """NOAEL and LOAEL per sex: the study director's, beside the statistical proposal."""
    supplementary = _supplementary(decisions)
    groups = list(ctx.spec.groups)
    unit = groups[0].dose_unit
    sexes = sorted(set(results["sex"]) if len(results) else {"NA"},
                   key=lambda s: SEX_ORDER.get(s, 3))
    ordered = doses_ordered(groups)
    rows = []
    for sex in sexes:
        group, endpoints = proposed_loael(results, groups, sex, ctx.pre_dose, supplementary)
        if not any(not g.control for g in groups):
            proposal, below, endpoints = "not applicable: no treated group", "–", []
        elif not ordered:
            proposal, below, endpoints = \
                "not applicable: the groups are not ordered by dose", "–", []
        elif group is None:
            top = max(groups, key=lambda g: g.dose)
            proposal = f"none up to {dose_text(top)}"
            below = dose_text(top)
        else:
            proposal = dose_text(group)
            lower = [g for g in groups if not g.control and g.dose < group.dose]
            below = dose_text(max(lower, key=lambda g: g.dose)) if lower else \
                "below the lowest dose tested"
        cells = (Cell(_director(ctx.spec.noael, sex, unit)),
                 Cell(_director(ctx.spec.loael, sex, unit)),
                 Cell(proposal), Cell(below), Cell(", ".join(endpoints) or "–"))
        rows.append(Row((ctx.sex(sex) or "All",), cells))
    return Table(
        number=number, title="NOAEL and LOAEL: study director's conclusions and the "
        "statistical findings", kind="conclusions", key="noael-loael",
        header=study_header(ctx.spec), row_header=("Sex",),
        columns=("NOAEL (study director)", "LOAEL (study director)",
                 "Lowest dose with a significant adverse-direction change",
                 "Highest dose below it", "Endpoints changed at that dose"),
        rows=rows, number_fields=(),
        footnotes=["The study director's NOAEL and LOAEL are taken from the study file "
                   "(keys 'noael' and 'loael'); the software does not decide them.",
                   "The last three columns are proposals from the statistics alone: the "
                   "lowest dose at which any endpoint differed from control in its adverse "
                   "direction (registry), sessions before dosing (pre-test, baseline, "
                   "negative days) not counted, nor per-timepoint comparisons that are "
                   "supplementary only (group × time interaction not significant), and the "
                   "next lower dose. Biological relevance, "
                   "historical control data and dose-response are for the study director "
                   "to judge."])
