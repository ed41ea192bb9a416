"""Build report tables from statistics results, decisions and the EndpointTable.

Summary tables (continuous, count, proportion), incidence tables and severity
tables (ordinal) are grouped by OECD/EPA category, then endpoint, then sex.
Rows are the study's dose groups; columns are timepoints when an endpoint was
measured more than once, otherwise the endpoints of one assay side by side.
Individual listings hold every value of every subject, excluded ones included
with their reason.

Every number is read from the results; nothing is recomputed here, except
the counts per grade of severity tables and the raw values of listings, which
come straight from the EndpointTable.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from neurotox import endpoints as ep_registry
from neurotox.report.model import (
    Cell,
    ColumnGroup,
    Row,
    Table,
    decimals_for,
    flag_text,
    fmt,
    fmt_p,
    natural_key,
    slug,
)
from neurotox.study import Group, StatisticsPlan, StudySpec
from neurotox.vocab import Category, Sex

SUMMARY_TYPES = ("continuous", "count", "proportion")
SEX_ORDER = {"M": 0, "F": 1, "NA": 2}
CATEGORY_ORDER = {c.value: i for i, c in enumerate(Category)}
SIDED = {"two": "two-sided", "one": "one-sided in the adverse direction",
         "auto": "one-sided in the adverse direction"}


@dataclass(frozen=True)
class Block:
    """The results behind one table: an endpoint (or endpoints) × sex (× timepoint).

    Attributes
    ----------
    category, assay, sex
        What the table covers.
    endpoints
        Its endpoints, in column order.
    by
        What the data columns are: ``timepoint`` (one endpoint over time),
        ``endpoint`` (several single-timepoint endpoints) or ``pair`` (endpoint ×
        timepoint, grouped by endpoint; incidence tables).
    results, decisions
        The rows of the statistics output behind the table.

    """

    category: str
    assay: str
    sex: str
    endpoints: tuple[str, ...]
    by: str
    results: pd.DataFrame
    decisions: pd.DataFrame


# ------------------------------------------------------------------- helpers

def label_of(endpoint: str) -> str:
    """Display label of an endpoint (registry label, else the name)."""
    reg = ep_registry.registry().get(endpoint)
    return reg.display if reg else endpoint.replace("_", " ").capitalize()


def registry_decimals(endpoint: str) -> int | None:
    """Decimals the registry asks for, if any."""
    reg = ep_registry.registry().get(endpoint)
    return reg.decimals if reg else None


def dose_text(group: Group) -> str:
    """Dose of a group with its unit, e.g. ``"10 mg/kg/day"``."""
    return f"{group.dose:g} {group.dose_unit}"


def study_header(spec: StudySpec) -> dict[str, str]:
    """Study-level header fields shared by every table."""
    head = {"Study number": spec.study_id, "Test item": spec.test_item}
    if spec.cell_line:
        head["Cell line"] = spec.cell_line
    species = " ".join(s for s in (spec.species, spec.strain) if s)
    if species:
        head["Species/strain"] = species
    if spec.guideline:
        head["Guideline"] = spec.guideline
    head["GLP status"] = "GLP" if spec.glp else "Non-GLP"
    return head


def _num(value: object) -> float:
    try:
        out = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return math.nan
    return out


def _ordered_groups(spec: StudySpec) -> list[Group]:
    """Groups in study order (the row order of every table)."""
    return list(spec.groups)


def _sorted_unique(values: Iterable[str]) -> list[str]:
    return sorted(set(values), key=natural_key)


# ------------------------------------------------------------------ blocks

def blocks(results: pd.DataFrame, decisions: pd.DataFrame, data_types: tuple[str, ...], *,
           combine: bool = False) -> list[Block]:
    """Split results into table blocks, ordered by category, assay, endpoint and sex.

    An endpoint with several timepoints gets its own block (columns = timepoints);
    single-timepoint endpoints of one assay, sex and timepoint share one block
    (columns = endpoints). With ``combine`` (incidence tables), every endpoint of
    an assay and sex shares one block, columns grouped by endpoint then timepoint.
    """
    res = results[results["data_type"].isin(data_types) & (results["timepoint"] != "ALL")]
    out: list[Block] = []
    for (cat, assay, sex), part in res.groupby(["category", "assay", "sex"], sort=False):
        n_tp = part.groupby("endpoint")["timepoint"].nunique()
        multi = sorted(n_tp[n_tp > 1].index)
        if combine and multi:
            names = tuple(sorted(part["endpoint"].unique()))
            out.append(Block(cat, assay, sex, names, "pair", part,
                             _decisions_for(decisions, assay, list(names), sex)))
            continue
        for endpoint in multi:
            rows = part[part["endpoint"] == endpoint]
            out.append(Block(cat, assay, sex, (endpoint,), "timepoint", rows,
                             _decisions_for(decisions, assay, [endpoint], sex)))
        single = part[part["endpoint"].isin(n_tp[n_tp == 1].index)]
        for _tp, rows in single.groupby("timepoint", sort=False):
            names = tuple(sorted(rows["endpoint"].unique()))
            out.append(Block(cat, assay, sex, names, "endpoint", rows,
                             _decisions_for(decisions, assay, list(names), sex)))
    out.sort(key=lambda b: (CATEGORY_ORDER.get(b.category, 99), b.assay, b.endpoints[0],
                            str(b.results["timepoint"].iloc[0]), SEX_ORDER.get(b.sex, 3)))
    return out


def _decisions_for(decisions: pd.DataFrame, assay: str, endpoints: list[str],
                   sex: str) -> pd.DataFrame:
    if decisions is None or not len(decisions):
        return pd.DataFrame(columns=["endpoint", "timepoint"])
    m = ((decisions["assay"] == assay) & decisions["endpoint"].isin(endpoints)
         & (decisions["sex"] == sex))
    return decisions[m]


def _columns(block: Block) -> list[tuple[str, str]]:
    """Data columns of a block as (endpoint, timepoint) pairs, in display order."""
    pairs = {(e, t) for e, t in zip(block.results["endpoint"], block.results["timepoint"],
                                    strict=True)}
    order = {e: i for i, e in enumerate(block.endpoints)}
    return sorted(pairs, key=lambda et: (order[et[0]], natural_key(et[1])))


def _unit_of(block: Block, endpoint: str) -> str:
    return str(block.results.loc[block.results["endpoint"] == endpoint, "unit"].iloc[0])


def _column_label(block: Block, col: tuple[str, str]) -> str:
    if block.by == "endpoint":
        return f"{label_of(col[0])} ({_unit_of(block, col[0])})"
    return col[1]


def _column_groups(block: Block, cols: list[tuple[str, str]]) -> tuple[ColumnGroup, ...]:
    if block.by != "pair":
        return ()
    return tuple(ColumnGroup(label_of(e), sum(1 for x, _ in cols if x == e))
                 for e in dict.fromkeys(e for e, _ in cols))


def _cell_rows(block: Block, col: tuple[str, str]) -> pd.DataFrame:
    r = block.results
    return r[(r["endpoint"] == col[0]) & (r["timepoint"] == col[1])]


def _header(spec: StudySpec, block: Block) -> dict[str, str]:
    head = study_header(spec)
    head["Sex"] = Sex(block.sex).label if block.sex in {s.value for s in Sex} else block.sex
    timepoints = _sorted_unique(block.results["timepoint"])
    if block.by == "endpoint" and timepoints != ["NA"]:
        head["Phase/day"] = ", ".join(timepoints)
    units = _sorted_unique(block.results["unit"])
    if block.by != "endpoint":
        head["Unit"] = ", ".join(units)
    return head


def _title(block: Block, what: str) -> str:
    names = ", ".join(label_of(e) for e in block.endpoints)
    if len(block.endpoints) > 3:
        names = f"{block.assay.replace('_', ' ')} ({len(block.endpoints)} endpoints)"
    cat = Category(block.category).label if block.category in CATEGORY_ORDER else block.category
    sex = Sex(block.sex).label if block.sex in SEX_ORDER else block.sex
    title = f"{what}: {names} — {cat} — {sex}"
    tps = _sorted_unique(block.results["timepoint"])
    if block.by == "endpoint" and tps != ["NA"]:
        title += f" — {', '.join(tps)}"
    return title


def _key(prefix: str, block: Block) -> str:
    tp = "" if block.by != "endpoint" else "-" + slug(block.results["timepoint"].iloc[0])
    tp = "" if tp == "-na" else tp
    return f"{prefix}-{slug(block.assay)}-{slug(block.endpoints[0])}{tp}-{slug(block.sex)}"


# --------------------------------------------------------------- footnotes

def _transform_text(transform: object) -> str:
    t = "" if transform is None or (isinstance(transform, float) and math.isnan(transform)) \
        else str(transform)
    return "" if t in ("", "none", "nan") else f"; data {t}-transformed"


def test_footnotes(block: Block) -> list[str]:
    """Footnotes naming the tests actually used (from the decision rows).

    One footnote per distinct (path, pairwise test, trend test, transform),
    naming the columns it applies to.
    """
    dec = block.decisions
    if not len(dec):
        return []
    key = "timepoint" if block.by == "timepoint" else "endpoint"
    per_col = dec[dec["timepoint"] != "ALL"]
    if block.by == "pair":
        per_col = per_col.drop_duplicates(["endpoint", "path", "pairwise_test", "trend_test",
                                           "transform"])
    notes = []
    combos: dict[tuple[str, str, str, str], list[str]] = {}
    for row in per_col.itertuples(index=False):
        col = str(getattr(row, key))
        # notes say why a stratum was not tested, and what an ANCOVA adjusted (and not)
        combo = (str(row.path), _s(row.pairwise_test), _s(row.trend_test),
                 _transform_text(row.transform) if row.path != "insufficient_data"
                 else _trailing_note(row.note))
        if row.path == "ancova":
            combo = (*combo[:3], combo[3] + _trailing_note(row.note))
        combos.setdefault(combo, []).append(col if key == "timepoint" else label_of(col))
    for (path, pairwise, trend, transform), cols in combos.items():
        notes.append(_test_sentence(path, pairwise, trend, transform,
                                    _sorted_unique(cols) if key == "timepoint" else cols))
    for row in dec[dec["timepoint"] == "ALL"].itertuples(index=False):
        notes.append(f"{label_of(str(row.endpoint))}, all timepoints: {_s(row.overall_test)}"
                     f" (p = {fmt_p(_num(row.overall_p)) or '–'}){_trailing_note(row.note)}")
    return notes


def censoring_footnotes(block: Block) -> list[str]:
    """One footnote per censoring note of the decision rows (policy and test used)."""
    if "censoring" not in block.decisions:
        return []
    key = "timepoint" if block.by == "timepoint" else "endpoint"
    notes = []
    for row in block.decisions.itertuples(index=False):
        if _s(row.censoring):
            col = str(getattr(row, key))
            where = col if key == "timepoint" else label_of(col)
            notes.append(f"{where}: {row.censoring}." if where != "NA" else
                         f"{row.censoring}.")
    if notes:
        notes.insert(0, "< / > limit: value censored below / above the limit (n censored "
                     "shown after n; group statistics count censored values at the "
                     "value the policy gives them).")
    return notes


def _s(v: object) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return ""
    return str(v)


def _trailing_note(note: object) -> str:
    n = _s(note)
    return f"; {n}" if n else ""


def _test_sentence(path: str, pairwise: str, trend: str, transform: str,
                   cols: list[str]) -> str:
    where = ", ".join(c for c in cols if c != "NA")
    lead = f"{where}: " if where else ""
    if path == "insufficient_data" or not pairwise:
        return f"{lead}not tested ({path.replace('_', ' ')}{transform})"
    text = f"{lead}{pairwise} vs control ({path.replace('_', ' ')} path{transform})"
    return text + (f"; trend: {trend}" if trend else "")


def _plan_footnotes(plan: StatisticsPlan, kind: str) -> list[str]:
    notes = []
    if kind == "summary":
        notes.append("Values are mean ± SD (n)"
                     + ("; [%] = group mean as percent of control mean." if
                        plan.percent_of_control else "."))
    elif kind == "incidence":
        notes.append("Values are n affected / n examined (%).")
    notes.append(f"* p ≤ {plan.alpha:g}; ** p ≤ 0.01 vs control ({SIDED[plan.sided]}); "
                 "↑/↓ group value above/below control.")
    return notes


def _group_footnotes(block: Block, groups: list[Group]) -> list[str]:
    notes = []
    if "trend_test" in block.results and block.results["trend_test"].map(_s).any():
        notes.append("Trend test row: p-value of the dose-related trend test (at the highest "
                     "dose) with its flag.")
    present = set(block.results["group"])
    for g in groups:
        if g.id not in present:
            notes.append(f"Group {g.id} ({g.label}) excluded: no values for this table.")
    n_exc = pd.to_numeric(block.results.get("n_excluded", pd.Series(dtype=float)),
                          errors="coerce").fillna(0)
    if n_exc.sum() > 0:
        notes.append(f"n excludes {int(n_exc.sum())} value(s) excluded from statistics; "
                     "values and reasons are shown in the individual listings.")
    return notes


# -------------------------------------------------------------- summary cells

#: Sign shown before the limit of a censored value.
CENSOR_SIGN = {"left": "<", "right": ">"}


def summary_cell(r: pd.Series | None, decimals: int, percent: bool) -> Cell:
    """``mean ± SD (n)`` with flag, arrow and optional percent of control."""
    if r is None:
        return Cell("–", {"mean": math.nan, "sd": math.nan, "n": math.nan,
                          "percent_of_control": math.nan, "p_value": math.nan})
    mean, sd, n = _num(r["mean"]), _num(r["sd"]), _num(r["n"])
    pct, p = _num(r["percent_of_control"]), _num(r["p_value"])
    flag, direction = _s(r["flag"]), _s(r["direction"])
    n_text = "0" if not math.isfinite(n) else f"{int(n)}"
    text = f"{fmt(mean, decimals)} ± {fmt(sd, decimals)} ({n_text})"
    n_cens = _num(r.get("n_censored", 0))
    if n_cens > 0:  # "> 20.0 (8)" when all are censored, else "(8; 3 > 20.0)"
        side = _s(r["censoring"])
        limit = (f"{CENSOR_SIGN[side]} {fmt(_num(r['censored_bound']), decimals)}"
                 if side in CENSOR_SIGN else "censored")
        text = (f"{limit} ({n_text})" if n_cens == n and side in CENSOR_SIGN else
                f"{fmt(mean, decimals)} ± {fmt(sd, decimals)} ({n_text}; {int(n_cens)} {limit})")
    text += flag_text(flag, direction)
    if percent and not bool(r["is_control"]) and math.isfinite(pct):
        text += f" [{pct:.0f}%]"
    return Cell(text, {"mean": mean, "sd": sd, "n": n, "percent_of_control": pct,
                       "p_value": p}, flag=flag, direction=direction)


def incidence_cell(r: pd.Series | None) -> Cell:
    """``affected/examined (%)`` with flag and arrow."""
    if r is None:
        return Cell("–", {"n_affected": math.nan, "n_examined": math.nan,
                          "incidence_pct": math.nan, "p_value": math.nan})
    a, e = _num(r["n_affected"]), _num(r["n_examined"])
    pct, p = _num(r["incidence_pct"]), _num(r["p_value"])
    flag, direction = _s(r["flag"]), _s(r["direction"])
    text = f"{fmt(a, 0)}/{fmt(e, 0)} ({fmt(pct, 0)}%)" + flag_text(flag, direction)
    return Cell(text, {"n_affected": a, "n_examined": e, "incidence_pct": pct, "p_value": p},
                flag=flag, direction=direction)


def _by_group(rows: pd.DataFrame) -> dict[str, pd.Series]:
    return {str(r["group"]): r for _, r in rows.iterrows()}


def _grid(block: Block, groups: list[Group],
          make) -> tuple[list[tuple[str, str]], list[Row]]:
    cols = _columns(block)
    per_col = {c: _by_group(_cell_rows(block, c)) for c in cols}
    present = set(block.results["group"])
    rows = []
    for g in groups:
        if g.id not in present:
            continue
        cells = tuple(make(c, per_col[c].get(g.id)) for c in cols)
        rows.append(Row((f"{g.id} {g.label}", dose_text(g)), cells))
    trend = _trend_row(block, cols, groups)
    return cols, rows + ([trend] if trend else [])


def _trend_row(block: Block, cols: list[tuple[str, str]], groups: list[Group]) -> Row | None:
    """Row with the trend test p-value and flag per column (highest dose group's row).

    Returns None when no trend test was run for the block.
    """
    if "trend_test" not in block.results or not block.results["trend_test"].map(_s).any():
        return None
    rank = {g.id: i for i, g in enumerate(groups)}
    cells = []
    for c in cols:
        rows = _cell_rows(block, c)
        rows = rows[rows["trend_test"].map(_s) != ""]
        if not len(rows):
            cells.append(Cell("", {"p_value": math.nan}))
            continue
        r = rows.loc[rows["group"].map(rank).idxmax()]
        p, flag = _num(r["trend_p"]), _s(r["trend_flag"])
        text = f"p = {fmt_p(p)}{flag}" if math.isfinite(p) else "–"
        cells.append(Cell(text, {"p_value": p}, flag=flag))
    return Row(("Trend test", ""), tuple(cells))


def summary_table(block: Block, spec: StudySpec, number: int) -> Table:
    """Summary table of one block: rows = groups, cells = mean ± SD (n) with flags."""
    plan = spec.statistics
    groups = _ordered_groups(spec)
    dec_by_ep = {e: decimals_for(list(pd.to_numeric(
        block.results.loc[block.results["endpoint"] == e, "mean"], errors="coerce")),
        registry_decimals(e)) for e in block.endpoints}

    def make(col: tuple[str, str], r: pd.Series | None) -> Cell:
        return summary_cell(r, dec_by_ep[col[0]], plan.percent_of_control)

    cols, rows = _grid(block, groups, make)
    return Table(
        number=number, title=_title(block, "Summary"), kind="summary",
        key=_key("summary", block), header=_header(spec, block),
        row_header=("Group", "Dose"), columns=tuple(_column_label(block, c) for c in cols),
        rows=rows, number_fields=("mean", "sd", "n", "percent_of_control", "p_value"),
        footnotes=_plan_footnotes(plan, "summary") + test_footnotes(block)
        + _group_footnotes(block, groups) + censoring_footnotes(block),
        category=block.category)


def incidence_table(block: Block, spec: StudySpec, number: int) -> Table:
    """Incidence table of one block: n affected / n examined (%) with flags."""
    groups = _ordered_groups(spec)
    cols, rows = _grid(block, groups, lambda c, r: incidence_cell(r))
    return Table(
        number=number, title=_title(block, "Incidence"), kind="incidence",
        key=_key("incidence", block), header=_header(spec, block),
        row_header=("Group", "Dose"), columns=tuple(_column_label(block, c) for c in cols),
        column_groups=_column_groups(block, cols),
        rows=rows, number_fields=("n_affected", "n_examined", "incidence_pct", "p_value"),
        footnotes=_plan_footnotes(spec.statistics, "incidence") + test_footnotes(block)
        + _group_footnotes(block, groups),
        category=block.category)


# ---------------------------------------------------------------- severity

def severity_tables(results: pd.DataFrame, decisions: pd.DataFrame, table: pd.DataFrame,
                    spec: StudySpec, start: int) -> list[Table]:
    """Counts per grade for ordinal endpoints, one table per endpoint × sex.

    Columns are the grades observed (and the median, which carries the flag),
    grouped by timepoint when the endpoint was scored more than once.
    """
    out = []
    for block in blocks(results, decisions, ("ordinal",)):
        for endpoint in block.endpoints:
            res = block.results[block.results["endpoint"] == endpoint]
            sub = Block(block.category, block.assay, block.sex, (endpoint,), "timepoint", res,
                        block.decisions[block.decisions["endpoint"] == endpoint])
            out.append(_severity_table(sub, table, spec, start + len(out)))
    return out


def _grade_counts(block: Block, table: pd.DataFrame) -> pd.DataFrame:
    """Included values of the block's endpoint (and sex) from the EndpointTable."""
    m = ((table["assay"] == block.assay) & (table["endpoint"] == block.endpoints[0])
         & ~table["excluded"])
    if block.sex != "NA":
        m &= table["sex"] == block.sex
    return table[m]


def _severity_cells(vals: pd.DataFrame, r: pd.Series, grades: list[float]) -> list[Cell]:
    counts = vals["value"].value_counts()
    cells = [Cell(str(int(counts.get(k, 0))), {"value": float(counts.get(k, 0))})
             for k in grades]
    flag, direction = _s(r["flag"]), _s(r["direction"])
    cells.append(Cell(f"{fmt(_num(r['median']), 1)}{flag_text(flag, direction)}",
                      {"value": _num(r["median"])}, flag=flag, direction=direction))
    return cells


def _severity_table(block: Block, table: pd.DataFrame, spec: StudySpec,
                    number: int) -> Table:
    vals = _grade_counts(block, table)
    tps = _sorted_unique(block.results["timepoint"])
    grades = sorted(vals["value"].unique())
    res = {(str(r["group"]), str(r["timepoint"])): r for _, r in block.results.iterrows()}
    rows = []
    for g in _ordered_groups(spec):
        if not any((g.id, tp) in res for tp in tps):
            continue
        cells: list[Cell] = []
        for tp in tps:
            r = res.get((g.id, tp))
            if r is None:
                cells += [Cell("–", {"value": math.nan})] * (len(grades) + 1)
                continue
            part = vals[(vals["group"] == g.id) & (vals["timepoint"] == tp)]
            cells += _severity_cells(part, r, grades)
        rows.append(Row((f"{g.id} {g.label}", dose_text(g)), tuple(cells)))
    heads = tuple(f"Grade {fmt(k, 0)}" for k in grades) + ("Median",)
    groups = tuple(ColumnGroup("Subjects per grade" if tp == "NA" else tp, len(heads))
                   for tp in tps)
    return Table(
        number=number, title=_title(block, "Severity"), kind="severity",
        key=_key("severity", block), header=_header(spec, block), row_header=("Group", "Dose"),
        column_groups=groups, columns=heads * len(tps), rows=rows, number_fields=("value",),
        footnotes=["Values are numbers of subjects per grade; median grade with "
                   f"* p ≤ {spec.statistics.alpha:g}, ** p ≤ 0.01 vs control "
                   f"({SIDED[spec.statistics.sided]})."]
        + test_footnotes(block) + _group_footnotes(block, _ordered_groups(spec)),
        category=block.category)


# ---------------------------------------------------------------- listings

def listing_tables(table: pd.DataFrame, spec: StudySpec, start: int) -> list[Table]:
    """Individual listings, one table per assay: every value of every subject."""
    out = []
    for assay in sorted(table["assay"].unique()):
        out.append(_listing(table[table["assay"] == assay], assay, spec, start + len(out)))
    return out


def _listing(part: pd.DataFrame, assay: str, spec: StudySpec, number: int) -> Table:
    order = {g.id: i for i, g in enumerate(spec.groups)}
    pairs = sorted({(e, t) for e, t in zip(part["endpoint"], part["timepoint"], strict=True)},
                   key=lambda et: (et[0], natural_key(et[1])))
    endpoints = list(dict.fromkeys(e for e, _ in pairs))
    dec = {e: _listing_decimals(part.loc[part["endpoint"] == e, "value"], e)
           for e in endpoints}
    cells_by = {(r.subject, r.endpoint, r.timepoint): r for r in part.itertuples(index=False)}
    subjects = part.drop_duplicates("subject")[["subject", "group", "sex"]]
    subjects = sorted(subjects.itertuples(index=False),
                      key=lambda s: (order.get(s.group, len(order)), SEX_ORDER.get(s.sex, 3),
                                     natural_key(s.subject)))
    rows = []
    n_excluded = 0
    for s in subjects:
        cells = []
        for e, t in pairs:
            r = cells_by.get((s.subject, e, t))
            cells.append(_listing_cell(r, dec[e]))
            n_excluded += bool(r is not None and r.excluded)
        rows.append(Row((str(s.subject), str(s.group), str(s.sex)), tuple(cells)))
    multi = any(t != "NA" for _, t in pairs)
    groups = tuple(ColumnGroup(_unit_label(part, e), sum(1 for x, _ in pairs if x == e))
                   for e in endpoints) if multi else ()
    columns = tuple(t if multi else _unit_label(part, e) for e, t in pairs)
    notes = ["Every value recorded is listed; values in brackets were excluded from "
             "statistics, with the reason given."] if n_excluded else []
    return Table(number=number, title=f"Individual values: {assay.replace('_', ' ')}",
                 kind="listing", key=f"listing-{slug(assay)}",
                 header=study_header(spec), row_header=("Subject", "Group", "Sex"),
                 columns=columns, column_groups=groups, rows=rows,
                 number_fields=("value",), footnotes=notes)


def _listing_decimals(values: pd.Series, endpoint: str) -> int:
    preferred = registry_decimals(endpoint)
    finite = values[np.isfinite(values.to_numpy(dtype=float))]
    if preferred is None and len(finite) and (finite == finite.round()).all():
        return 0
    return decimals_for(list(finite), preferred)


def _unit_label(part: pd.DataFrame, endpoint: str) -> str:
    unit = part.loc[part["endpoint"] == endpoint, "unit"].iloc[0]
    return f"{label_of(endpoint)} ({unit})"


def _listing_cell(r: object | None, decimals: int) -> Cell:
    if r is None:
        return Cell("", {"value": math.nan})
    value = float(r.value)  # type: ignore[attr-defined]
    if r.excluded:  # type: ignore[attr-defined]
        reason = str(r.exclusion_reason)  # type: ignore[attr-defined]
        return Cell(f"[{fmt(value, decimals)}] excluded: {reason}", {"value": value},
                    note=reason)
    sign = CENSOR_SIGN.get(str(getattr(r, "censoring", "none")), "")
    return Cell(f"{sign} {fmt(value, decimals)}" if sign else fmt(value, decimals),
                {"value": value})


# ------------------------------------------------------------------ all tables

def build_tables(results: pd.DataFrame, decisions: pd.DataFrame, table: pd.DataFrame,
                 spec: StudySpec) -> list[Table]:
    """Every table of the report, numbered: summaries, incidence, severity, listings."""
    out: list[Table] = []
    for block in blocks(results, decisions, SUMMARY_TYPES):
        out.append(summary_table(block, spec, len(out) + 1))
    for block in blocks(results, decisions, ("incidence",), combine=True):
        out.append(incidence_table(block, spec, len(out) + 1))
    out += severity_tables(results, decisions, table, spec, len(out) + 1)
    out.sort(key=lambda t: CATEGORY_ORDER.get(t.category, 99))
    for i, t in enumerate(out, start=1):
        t.number = i
    out += listing_tables(table, spec, len(out) + 1)
    return out
