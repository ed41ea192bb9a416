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
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from neurotox import endpoints as ep_registry
from neurotox.guidelines import guideline_citation
from neurotox.report.context import Context
from neurotox.report.historical import add_to_table
from neurotox.report.labels import (
    assay_label,
    dose_label,
    p_text,
    sex_label,
    unit_symbol,
    with_unit,
)
from neurotox.report.model import (
    Cell,
    ColumnGroup,
    Row,
    Table,
    decimals_for,
    flag_text,
    fmt,
    limit_decimals,
    limit_text,
    natural_key,
    sig_decimals,
    slug,
)
from neurotox.stats.units import litter_units
from neurotox.study import Group, StudySpec
from neurotox.timepoints import TimeOrder
from neurotox.vocab import Category

SUMMARY_TYPES = ("continuous", "count", "proportion")
SEX_ORDER = {"M": 0, "F": 1, "NA": 2}
CATEGORY_ORDER = {c.value: i for i, c in enumerate(Category)}
SIDED = {"two": "two-sided", "one": "one-sided in the adverse direction",
         "auto": "one-sided in the adverse direction"}
#: Parts of decision notes that are messages of the software, not statistical decisions:
#: kept out of tables (they go to the log and the methods appendix).
SOFTWARE_MESSAGE = re.compile(r"warning|optimi[sz]ation failed|did not converge|hessian|"
                              r"singular", re.I)


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

    @cached_property
    def cells(self) -> dict[tuple[str, str], dict[str, dict[str, Any]]]:
        """Results records by (endpoint, timepoint), then by group."""
        out: dict[tuple[str, str], dict[str, dict[str, Any]]] = {}
        for rec in self.results.to_dict("records"):
            out.setdefault((rec["endpoint"], rec["timepoint"]), {})[str(rec["group"])] = rec
        return out

    @cached_property
    def decision(self) -> dict[tuple[str, str], dict[str, Any]]:
        """Decision record by (endpoint, timepoint) (``ALL`` rows included)."""
        if not len(self.decisions):
            return {}
        return {(r["endpoint"], r["timepoint"]): r for r in self.decisions.to_dict("records")}


# ------------------------------------------------------------------- helpers

def label_of(endpoint: str) -> str:
    """Display label of an endpoint (registry label, else the name)."""
    reg = ep_registry.registry().get(endpoint)
    return reg.display if reg else endpoint.replace("_", " ").capitalize()


def ratio_scale(endpoint: str) -> bool:
    """False where % of control means nothing (:attr:`Endpoint.relative_to_control`).

    A signed index or difference (registry ``scale: interval``) or a value already
    relative to the control (``percent_of_control: false``).
    """
    reg = ep_registry.registry().get(endpoint)
    return reg is None or reg.relative_to_control


def registry_decimals(endpoint: str) -> int | None:
    """Decimals the registry asks for, if any."""
    reg = ep_registry.registry().get(endpoint)
    return reg.decimals if reg else None


def summary_decimals(endpoint: str, means: list[float]) -> int:
    """Decimals of a summary column: its means, SDs and historical control range.

    One rule for every data type: the registry's ``decimals``, else about three
    significant digits (:func:`~neurotox.report.model.decimals_for`). The registry's
    ``decimals`` of a count or score give the resolution of one animal's value (a
    whole number); their means get at least the decimals of that rule, so that a
    mean of 0.6 does not print as "1" beside a range "1–1".
    """
    preferred = registry_decimals(endpoint)
    reg = ep_registry.registry().get(endpoint)
    if reg is not None and reg.data_type.value in ("count", "ordinal"):
        return max(preferred or 0, decimals_for(means))
    return decimals_for(means, preferred)


def dose_text(group: Group) -> str:
    """Dose of a group with its unit symbol, e.g. ``"10 mg/kg/day"``, ``"0.3 µM"``."""
    return dose_label(group.dose, group.dose_unit)


def group_text(group: Group) -> str:
    """Row label of a group: ID and label, e.g. ``"G2 Low dose"``.

    The label alone when it only repeats the ID (``"Control"``, not ``"Control Control"``).
    """
    label = group.label.replace('uM', 'µM')
    if group.id.casefold() == group.label.casefold():
        return label
    return f"{group.id} {label}"


def study_header(spec: StudySpec) -> dict[str, str]:
    """Study-level header fields shared by every table."""
    head = {"Study number": spec.study_id, "Test item": spec.test_item}
    if spec.cell_line:
        head["Cell line"] = spec.cell_line
    species = " ".join(s for s in (spec.species, spec.strain) if s)
    if species:
        head["Species/strain"] = species
    if spec.guideline:
        head["Guideline"] = guideline_citation(spec.guideline)
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


def _timepoints(results: pd.DataFrame) -> list[str]:
    """The timepoints of results rows in the statistics' time order (:meth:`TimeOrder.of`)."""
    return TimeOrder.of(results).order(results["timepoint"])


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
    times = TimeOrder.of(res)
    out.sort(key=lambda b: (CATEGORY_ORDER.get(b.category, 99), b.assay, b.endpoints[0],
                            times.key(b.results["timepoint"].iloc[0]), SEX_ORDER.get(b.sex, 3)))
    return out


def with_included_values(results: pd.DataFrame) -> pd.DataFrame:
    """Results of the endpoints (per assay and sex) with at least one included value.

    An endpoint whose every value is excluded (one its protocol cannot measure)
    gets no summary table, column or figure: empty "– ± – (0)" cells and axes.
    The summary of findings and the listings still show it, with the reason.
    """
    if not len(results) or "n" not in results:
        return results
    n = pd.to_numeric(results["n"], errors="coerce").fillna(0)
    best = n.groupby([results["assay"], results["endpoint"], results["sex"]]).transform("max")
    return results[best > 0]


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
    times = TimeOrder.of(block.results)
    return sorted(pairs, key=lambda et: (order[et[0]], times.key(et[1])))


def _unit_of(block: Block, endpoint: str) -> str:
    return str(block.results.loc[block.results["endpoint"] == endpoint, "unit"].iloc[0])


def _column_label(ctx: Context, block: Block, col: tuple[str, str]) -> str:
    if block.by == "endpoint":
        return with_unit(label_of(col[0]), _unit_of(block, col[0]))
    return ctx.tp(col[1], block.assay) or col[1]


def _column_groups(block: Block, cols: list[tuple[str, str]]) -> tuple[ColumnGroup, ...]:
    if block.by != "pair":
        return ()
    return tuple(ColumnGroup(label_of(e), sum(1 for x, _ in cols if x == e))
                 for e in dict.fromkeys(e for e, _ in cols))


def session_columns(ctx: Context, assay: str, labels: list[str],
                    codes: list[str]) -> tuple[list[str], tuple[ColumnGroup, ...]]:
    """Timepoint columns grouped by session (``Pre-test``: ``0–10 min`` ...).

    When the timepoints are not bins of sessions, the labels are returned
    unchanged with no groups.

    ``labels`` are the column labels (an ANCOVA column follows its own), ``codes``
    the timepoint code of each.
    """
    split = [ctx.timepoints.split(c, assay) for c in codes]
    if not any(inner and session for session, inner in split):
        return labels, ()
    out = [inner or session or lab for (session, inner), lab in zip(split, labels,
                                                                     strict=True)]
    groups: list[ColumnGroup] = []
    for session, inner in split:
        name = session if inner else ""
        if groups and groups[-1].label == name:
            groups[-1] = ColumnGroup(name, groups[-1].span + 1)
        else:
            groups.append(ColumnGroup(name, 1))
    return out, tuple(groups)


def _cell_records(block: Block, col: tuple[str, str]) -> list[dict[str, Any]]:
    return list(block.cells.get(col, {}).values())


def sex_and_timepoint(sex: str, timepoint: str, assay: str = "",
                      ctx: Context | None = None) -> str:
    """``Males, Week 4`` (``Males`` alone without a timepoint) for a row label.

    With ``ctx`` the timepoint is labelled as every table labels it
    (:meth:`Context.tp`) and a study without sexes names none; otherwise the
    code itself is shown.
    """
    sex_text = ctx.sex(sex) if ctx else sex_label(sex)
    tp_text = "" if timepoint == "NA" else ctx.tp(timepoint, assay) if ctx else timepoint
    return ", ".join(t for t in (sex_text, tp_text) if t) or "–"


def _header(ctx: Context, block: Block) -> dict[str, str]:
    head = study_header(ctx.spec)
    if ctx.sex(block.sex):
        head["Sex"] = ctx.sex(block.sex)
    timepoints = _timepoints(block.results)
    if block.by == "endpoint" and timepoints != ["NA"]:
        head["Phase/day"] = ", ".join(ctx.tp(t, block.assay) for t in timepoints)
    units = [unit_symbol(u) for u in _sorted_unique(block.results["unit"])]
    if block.by != "endpoint":
        head["Unit"] = ", ".join(units)
    if ctx.litters:
        head["Unit of analysis"] = "litter (litter means), OECD TG 426"
    elif ctx.litter_model:
        head["Unit of analysis"] = "pup, litter as random effect"
    return head


def _title(ctx: Context, block: Block, what: str) -> str:
    names = ", ".join(label_of(e) for e in block.endpoints)
    if len(block.endpoints) > 3:
        names = f"{assay_label(block.assay)} ({len(block.endpoints)} endpoints)"
    cat = Category(block.category).label if block.category in CATEGORY_ORDER else block.category
    title = " — ".join(t for t in (f"{what}: {names}", cat, ctx.sex(block.sex)) if t)
    tps = _timepoints(block.results)
    if block.by == "endpoint" and tps != ["NA"]:
        title += f" — {', '.join(ctx.tp(t, block.assay) for t in tps)}"
    return title


def _key(prefix: str, block: Block) -> str:
    tp = "" if block.by != "endpoint" else "-" + slug(block.results["timepoint"].iloc[0])
    tp = "" if tp == "-na" else tp
    return f"{prefix}-{slug(block.assay)}-{slug(block.endpoints[0])}{tp}-{slug(block.sex)}"


# --------------------------------------------------------------- footnotes

def _transform_text(transform: object) -> str:
    t = _s(transform)
    return "" if t in ("", "none", "nan") else f"; data {t}-transformed"


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
            text = _s(row.censoring)
            if _s(row.timepoint) == "ALL":  # the mixed model: its own row says if it ran
                if _s(row.path) != "repeated_measures":
                    text = ("censored values present; the mixed model was not fitted; the "
                            "per-timepoint tests respect the censoring")
            elif untested(row._asdict()):  # the test the policy chose never ran
                text = text.split(":")[0] + ": not tested"
            notes.append(f"{where}: {text}." if where != "NA" else f"{text}.")
    if notes:
        notes.insert(0, "< / > limit: value censored below / above the limit; after n the "
                     "number censored (\"(17; 5 > 18300)\": 5 of 17 values above 18300; "
                     "\"(17; 6 censored)\": 6 values below or above their limits). Group "
                     "statistics count censored values at the value the policy gives them; "
                     "values above a limit count at the limit, so a mean marked "
                     f"{LOWER_BOUND.strip()} is a lower bound. No % of control is given for a "
                     "group whose values are all censored, nor for any group when more than "
                     "half of the control's values are censored (its mean would rest on the "
                     "values the policy gives them, not on measurements).")
    return notes


def _s(v: object) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return ""
    return str(v)


def clean_note(note: object) -> str:
    """A decision note as a footnote: software messages dropped, ``p=0.7`` → ``p = 0.7``."""
    parts = [p.strip() for p in _s(note).split(";")]
    kept = [p for p in parts if p and not SOFTWARE_MESSAGE.search(p)]
    text = "; ".join(kept)
    text = re.sub(r"\bp=", "p = ", text)
    return text.replace(">=", "≥").replace("<=", "≤")


def _trailing_note(note: object) -> str:
    n = clean_note(note)
    return f"; {n}" if n else ""


def not_tested_reason(rows: Iterable[dict[str, Any]], note: object = "") -> str:
    """Why no comparison with control was made, from the group sizes and the decision note.

    ``rows`` are the results records of the stratum (one per group).
    """
    rows = list(rows)
    censored = _all_censored(rows)
    if censored:
        return censored
    treated = [_count(r["n"]) for r in rows if not bool(r.get("is_control"))]
    control = [_count(r["n"]) for r in rows if bool(r.get("is_control"))]
    if max(treated + control, default=1) == 0:
        return "no included values"
    if treated and max(treated) <= 1:
        if control and max(control) <= 1:
            if set(treated + control) == {1}:
                return "n = 1 per group"
            return f"{_sizes(control, 'control')}, {_sizes(treated, 'treated group')}"
        return _sizes(treated, "treated group")
    if control and max(control) < 2:
        return _sizes(control, "control")
    return clean_note(note) or "too few values"


def _all_censored(rows: list[dict[str, Any]]) -> str:
    """``all values below the limit (< 9.145)`` when no group has a measured value, else ``""``.

    Every value censored is the reason no test ran, whatever the test found
    (identical values, nothing to rank); the tables, footnotes and methods say it once.
    """
    if not rows or not all(_count(r["n"]) > 0 and _num(r.get("n_censored", 0)) == _count(r["n"])
                           for r in rows):
        return ""
    sides = {_s(r.get("censoring")) for r in rows}
    bounds = {_num(r.get("censored_bound", math.nan)) for r in rows}
    if len(sides) == 1 and sides <= set(CENSOR_SIGN) and len(bounds) == 1 \
            and all(math.isfinite(b) for b in bounds):
        side, bound = sides.pop(), bounds.pop()
        where = "below" if side == "left" else "above"
        limit = limit_text(CENSOR_SIGN[side], bound, 0)
        return f"all values {where} the limit ({limit}): nothing measured to compare"
    return "all values censored: nothing measured to compare"


def _count(n: object) -> int:
    v = _num(n)
    return int(v) if math.isfinite(v) else 0


def _sizes(ns: list[int], who: str) -> str:
    """Group sizes as a reason (``n = 1 per treated group``, ``n ≤ 1 per ... (n = 1, 0)``)."""
    empty = " (no values)" if set(ns) == {0} else ""
    if len(ns) == 1:
        return f"{who} n = {ns[0]}{empty}"
    if len(set(ns)) == 1:
        return f"n = {ns[0]} per {who}{empty}"
    return f"n ≤ {max(ns)} per {who} (n = {', '.join(map(str, ns))})"


def software_messages(decisions: pd.DataFrame) -> list[str]:
    """Messages of the software in decision notes (convergence and fit warnings), located."""
    out: list[str] = []
    if decisions is None or not len(decisions) or "note" not in decisions:
        return out
    hits = decisions[decisions["note"].map(_s).str.contains(SOFTWARE_MESSAGE)]
    for row in hits.to_dict("records"):
        for part in _s(row["note"]).split(";"):
            if SOFTWARE_MESSAGE.search(part):
                where = ", ".join(x for x in (label_of(str(row["endpoint"])), _s(row["sex"]),
                                              _s(row["timepoint"])) if x and x != "NA")
                out.append(f"{where}: {part.strip()}")
    return list(dict.fromkeys(out))


def untested(dec: dict[str, Any] | None) -> bool:
    """True when a decision record says no comparison with control was made."""
    return dec is not None and (_s(dec.get("path")) == "insufficient_data"
                                or not _s(dec.get("pairwise_test")))


def test_footnotes(ctx: Context, block: Block) -> list[str]:
    """Footnotes naming the tests actually used (from the decision rows).

    One footnote per distinct (path, pairwise test, trend test, transform),
    naming the columns it applies to; columns without a test say "not tested"
    and why.
    """
    if not block.decision:
        return []
    key = 1 if block.by == "timepoint" else 0  # columns are timepoints or endpoints
    combos: dict[tuple[str, str, str, str], list[str]] = {}
    seen = set()
    n_cols = 0
    for (endpoint, tp), row in block.decision.items():
        if tp == "ALL":
            continue
        n_cols += 1
        if untested(row):
            combo = ("not tested", "", "", not_tested_reason(
                block.cells.get((endpoint, tp), {}).values(), row["note"]))
        else:
            combo = (str(row["path"]), _s(row["pairwise_test"]), _s(row["trend_test"]),
                     _transform_text(row["transform"])
                     + (_trailing_note(row["note"]) if row["path"] == "ancova" else ""))
        if block.by == "pair" and (endpoint, combo) in seen:
            continue
        seen.add((endpoint, combo))
        col = (endpoint, tp)[key]
        label = ctx.tp(col, block.assay) if key else label_of(col)
        combos.setdefault(combo, []).append(label or col)
    every = len(combos) == 1 and key == 1 and n_cols > 3
    notes = [_test_sentence(*combo, ["All timepoints"] if every else cols)
             for combo, cols in combos.items()]
    for (endpoint, tp), row in block.decision.items():
        if tp == "ALL":
            p = p_text(_num(row["overall_p"])) or "p not available"
            notes.append(f"{label_of(str(endpoint))}, all timepoints: "
                         f"{_s(row['overall_test'])} ({p}){_trailing_note(row['note'])}")
    return notes


def _test_sentence(path: str, pairwise: str, trend: str, extra: str,
                   cols: list[str]) -> str:
    where = ", ".join(c for c in cols if c not in ("NA", ""))
    lead = f"{where}: " if where else ""
    if path == "not tested":
        return f"{lead}not tested ({extra})"
    text = f"{lead}{pairwise} vs control ({path.replace('_', ' ')} path{extra})"
    return text + (f"; trend: {trend}" if trend else "")


def pups_text(pups: int | None, litters: int) -> str:
    """``160 pups from 80 litters``; ``80 litters`` when the pups are not known."""
    return f"{pups} pups from {litters} litters" if pups is not None else f"{litters} litters"


def _plan_footnotes(ctx: Context, kind: str, counts: tuple[int | None, int] | None = None, *,
                    percent: bool = True) -> list[str]:
    """The table's plan footnotes; ``percent``: some column shows a [%] of control."""
    plan = ctx.spec.statistics
    notes = []
    if kind == "summary":
        what = f"mean ± {ctx.spread_label}"
        if ctx.litters:
            what += " of litter means (n = number of litters"
            what += f"; {pups_text(*counts)})" if counts else ")"
        else:
            what += " (n)"
        notes.append(f"Values are {what}"
                     + ("; [%] = group mean as percent of control mean." if
                        plan.percent_of_control and percent else "."))
    elif kind == "incidence":
        notes.append("Values are n affected / n examined (%)."
                     + (" n = number of litters; a litter is affected when any of its pups "
                        "is." if ctx.litters else ""))
    notes.append(f"* p ≤ {plan.alpha:g}; ** p ≤ 0.01 vs control ({SIDED[plan.sided]}); "
                 "↑/↓ group value above/below control.")
    return notes


def _group_footnotes(block: Block, groups: list[Group]) -> list[str]:
    from neurotox.stats.analysis import further_controls

    notes = []
    if "trend_test" in block.results and block.results["trend_test"].map(_s).any():
        notes.append("Trend test row: p-value of the dose-related trend test (at the highest "
                     "dose) with its flag.")
    present = set(block.results["group"])
    further = further_controls(groups)
    for g in groups:
        name = g.id if g.id.casefold() == g.label.casefold() else f"{g.id} ({g.label})"
        if g.id not in present:
            notes.append(f"Group {name} excluded: no values for this table.")
        elif g.id in further:
            notes.append(f"Group {name}: a further control group, not compared (no test, "
                         "no % of control).")
    n_exc = pd.to_numeric(block.results.get("n_excluded", pd.Series(dtype=float)),
                          errors="coerce").fillna(0)
    if n_exc.sum() > 0:
        notes.append(f"n excludes {int(n_exc.sum())} value(s) excluded from statistics; "
                     "values and reasons are shown in the individual listings.")
    return notes


# -------------------------------------------------------------- summary cells

#: Sign shown before the limit of a censored value.
CENSOR_SIGN = {"left": "<", "right": ">"}
#: Before a mean that counts values above a limit at the limit: a lower bound.
LOWER_BOUND = "≥ "


def summary_cell(r: pd.Series | dict | None, decimals: int, percent: bool, spread: str = "sd",
                 *, flagged: bool = True) -> Cell:
    """``mean ± SD (n)`` (or ± SEM) with flag, arrow and optional percent of control.

    With ``flagged=False`` the flag is left to another cell (the ANCOVA-adjusted mean).
    """
    if r is None:
        return Cell("–", {"mean": math.nan, spread: math.nan, "n": math.nan,
                          "percent_of_control": math.nan, "p_value": math.nan})
    mean, sd, n = _num(r["mean"]), _num(r[spread]), _num(r["n"])
    pct, p = _num(r["percent_of_control"]), _num(r["p_value"]) if flagged else math.nan
    flag, direction = (_s(r["flag"]), _s(r["direction"])) if flagged else ("", "")
    n_text = "0" if not math.isfinite(n) else f"{int(n)}"
    text = f"{fmt(mean, decimals)} ± {fmt(sd, decimals)} ({n_text})"
    n_cens = _num(r.get("n_censored", 0))
    if n_cens > 0:  # "> 20.0 (8)" when all are censored, else "(8; 3 > 20.0)"
        side = _s(r["censoring"])
        limit = (limit_text(CENSOR_SIGN[side], _num(r["censored_bound"]), decimals)
                 if side in CENSOR_SIGN else "censored")
        bound = LOWER_BOUND if side == "right" else ""  # values above the limit, at it
        text = (f"{limit} ({n_text})" if n_cens == n and side in CENSOR_SIGN else
                f"{bound}{fmt(mean, decimals)} ± {fmt(sd, decimals)} "
                f"({n_text}; {int(n_cens)} {limit})")
    text += flag_text(flag, direction)
    if n_cens > 0 and n_cens == n:  # no measured value: nothing to express as % of control
        pct = math.nan
    if percent and not bool(r["is_control"]) and math.isfinite(pct):
        text += f" [{fmt(pct, 0)}%]"
    return Cell(text, {"mean": mean, spread: sd, "n": n, "percent_of_control": pct,
                       "p_value": p}, flag=flag, direction=direction, decimals=decimals)


def incidence_cell(r: pd.Series | dict | None) -> Cell:
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


def _group_rows(block: Block, groups: list[Group], columns: list) -> list[Row]:
    """One row per group present: label, dose, then ``make(group_id)`` of each column."""
    present = set(block.results["group"])
    return [Row((group_text(g), dose_text(g)), tuple(make(g.id) for make in columns))
            for g in groups if g.id in present]


def _test_rows(block: Block, cols: list[tuple[str, str]], groups: list[Group],
               extra: dict[int, int] | None = None) -> list[Row]:
    """The trend-test row and the "not tested (reason)" row, where they apply.

    The trend row holds the p-value and flag per column; the other row says why
    no comparison with control was made.

    ``extra`` maps a column index to the number of further columns shown for it
    (the ANCOVA-adjusted mean), which get empty cells in these rows.
    """
    rank = {g.id: i for i, g in enumerate(groups)}
    trend_cells, untested_cells = [], []
    for c in cols:
        recs = _cell_records(block, c)
        dec = block.decision.get(c)
        reason = not_tested_reason(recs, dec["note"]) if untested(dec) else ""
        untested_cells.append(Cell(f"not tested ({reason})" if reason else "",
                                   {"p_value": math.nan}))
        with_trend = [r for r in recs if _s(r.get("trend_test"))]
        if not with_trend:
            trend_cells.append(Cell("", {"p_value": math.nan}))
            continue
        r = max(with_trend, key=lambda x: rank.get(str(x["group"]), -1))
        p, flag = _num(r["trend_p"]), _s(r["trend_flag"])
        trend_cells.append(Cell(f"{p_text(p)}{flag}" if math.isfinite(p) else "–",
                                {"p_value": p}, flag=flag))
    out = []
    for label, cells in (("Trend test", trend_cells), ("Comparison with control",
                                                         untested_cells)):
        if any(c.text for c in cells):
            out.append(Row((label, ""), _widen(cells, extra or {}), optional=True))
    return out


def _widen(cells: list[Cell], extra: dict[int, int]) -> tuple[Cell, ...]:
    out: list[Cell] = []
    for i, c in enumerate(cells):
        out.append(c)
        out += [Cell("", {"p_value": math.nan})] * extra.get(i, 0)
    return tuple(out)


def _ancova_columns(block: Block) -> set[tuple[str, str]]:
    dec = block.decisions
    if not len(dec):
        return set()
    hit = dec[dec["path"] == "ancova"]
    return set(zip(hit["endpoint"], hit["timepoint"], strict=True))


def adjusted_means(ctx: Context, block: Block,
                   col: tuple[str, str]) -> dict[str, tuple[float, int]]:
    """ANCOVA-adjusted group means and ANCOVA n of a column, by group (empty when not computable).

    The n counts the animals with a covariate value (those the ANCOVA used).

    The same model as the statistics (:func:`neurotox.stats.ancova.ancova`): the
    included values with their covariate of the same subject, sex and timepoint,
    litter means first when litters are the unit.
    """
    from neurotox.stats.ancova import ancova

    endpoint, tp = col
    reg = ep_registry.registry().get(endpoint)
    if reg is None or not reg.covariate:
        return {}
    y = _unit_values(ctx, ctx.values(block.assay, endpoint, block.sex, tp))
    x = _unit_values(ctx, ctx.table[(ctx.table["endpoint"] == reg.covariate)
                                    & (ctx.table["timepoint"] == tp)
                                    & ((ctx.table["sex"] == block.sex) if block.sex != "NA"
                                       else True)])
    both = y.merge(x, on=["subject", "group"], suffixes=("", "_cov"))
    present = set(both["group"])
    levels = [g for g in block.cells.get(col, {}) if g in present]
    if len(levels) < 2:
        return {}
    try:
        table, _ = ancova(both["value"].to_numpy(float), both["value_cov"].to_numpy(float),
                          both["group"].to_numpy(object), levels)
    except (ValueError, np.linalg.LinAlgError):
        return {}
    return {g: (float(m), int(k)) for g, m, k in
            zip(table["group"], table["adjusted_mean"], table["n"], strict=True)}


def _unit_values(ctx: Context, rows: pd.DataFrame) -> pd.DataFrame:
    """Included values per analysis unit: subjects, or litter means when litters are the unit."""
    inc = rows[~rows["excluded"].astype(bool)][["subject", "group", "batch", "value"]]
    if ctx.litters:
        inc = litter_units(inc, ["group"])
    return inc[["subject", "group", "value"]]


def _mostly_censored(r: pd.Series | dict | None) -> bool:
    """The group's results: values mostly censored, as the statistics judge it (no % of it)."""
    from neurotox.stats.analysis import mostly_censored

    return r is not None and mostly_censored(_num(r.get("n_censored", 0)),
                                             _num(r.get("n", math.nan)))


def _adjusted_cell(r: pd.Series | None, adj: tuple[float, int] | None, control: float,
                   decimals: int) -> Cell:
    """The adjusted mean; ``(n)`` after it when the ANCOVA used fewer animals than the group."""
    if r is None or adj is None or not math.isfinite(adj[0]):
        return Cell("–", {"mean": math.nan, "n": math.nan, "p_value": math.nan})
    (mean, n), flag, direction = adj, _s(r["flag"]), _s(r["direction"])
    pct = 100 * mean / control if math.isfinite(control) and control else math.nan
    text = fmt(mean, decimals) + (f" ({n})" if n < _num(r["n"]) else "")
    text += flag_text(flag, direction)
    if not bool(r["is_control"]) and math.isfinite(pct):
        text += f" [{fmt(pct, 0)}%]"
    return Cell(text, {"mean": mean, "n": n, "percent_of_control": pct,
                       "p_value": _num(r["p_value"])}, flag=flag, direction=direction,
                decimals=decimals)


def summary_table(block: Block, spec: StudySpec | Context, number: int) -> Table:
    """Summary table of one block: rows = groups, cells = mean ± SD (n) with flags.

    Columns analysed by ANCOVA are followed by a column of the adjusted means,
    which carries the ANCOVA's flags (the unadjusted cell then has none).
    """
    ctx = spec if isinstance(spec, Context) else Context(spec, pd.DataFrame())
    plan = ctx.spec.statistics
    groups = _ordered_groups(ctx.spec)
    cols = _columns(block)
    ancova_cols = _ancova_columns(block) if len(ctx.table) else set()
    labels, makers, extra, sources = [], [], {}, []
    short = False  # an ANCOVA used fewer animals than a group has
    for i, col in enumerate(cols):
        per_group = block.cells.get(col, {})
        dec = summary_decimals(col[0], [_num(r["mean"]) for r in per_group.values()])
        ctrl_row = next((r for r in per_group.values() if r.get("is_control")), None)
        control = math.nan if ctrl_row is None else _num(ctrl_row["mean"])
        # percent of a control mean at or below zero, of a signed index, or of a control
        # mean resting mostly on censored values, means nothing: not shown
        pct = (plan.percent_of_control and control > 0 and ratio_scale(col[0])
               and not _mostly_censored(ctrl_row))
        adjusted = adjusted_means(ctx, block, col) if col in ancova_cols else {}
        labels.append(_column_label(ctx, block, col))
        sources.append(col)
        makers.append(lambda g, pg=per_group, d=dec, a=bool(adjusted), pc=pct: summary_cell(
            pg.get(g), d, pc, ctx.spread, flagged=not a))
        if adjusted:
            short |= any(k < _num(per_group[g]["n"]) for g, (_, k) in adjusted.items()
                         if g in per_group)
            ctrl = next((adjusted[g.id][0] for g in groups if g.control and g.id in adjusted),
                        math.nan)
            labels.append(f"{_column_label(ctx, block, col)}: ANCOVA-adjusted mean")
            sources.append(None)
            makers.append(lambda g, pg=per_group, d=dec, a=adjusted, c=ctrl, pc=pct:
                          _adjusted_cell(pg.get(g), a.get(g), c if pc else math.nan,
                                         d))
            extra[i] = 1
    rows = _group_rows(block, groups, makers) + _test_rows(block, cols, groups, extra)
    column_groups: tuple[ColumnGroup, ...] = ()
    if block.by == "timepoint":
        codes = [c[1] for i, c in enumerate(cols) for _ in range(1 + extra.get(i, 0))]
        labels, column_groups = session_columns(ctx, block.assay, labels, codes)
    shown = list(dict.fromkeys(c[0] for c in cols))
    signed = [label_of(e) for e in shown if not ratio_scale(e)]
    notes = _plan_footnotes(ctx, "summary", _counts(ctx, block),
                            percent=len(signed) < len(shown)) + test_footnotes(ctx, block)
    if plan.percent_of_control and signed:
        notes.append(f"No [%] for {', '.join(signed)}: a signed index or difference, whose "
                     "zero is no effect, has no meaningful percent of control.")
    if extra:
        notes.append("ANCOVA-adjusted mean: group mean at the overall mean of the covariate; "
                     "flags and % of control of ANCOVA columns refer to the adjusted means.")
        if short:
            notes.append("(n) after an adjusted mean: the animals the ANCOVA used, fewer than "
                         "the group's n (the others have no covariate value; the exclusions "
                         "name them).")
    return Table(
        number=number, title=_title(ctx, block, "Summary"), kind="summary",
        key=_key("summary", block), header=_header(ctx, block),
        row_header=("Group", "Dose"), columns=tuple(labels), column_groups=column_groups,
        rows=rows, number_fields=("mean", ctx.spread, "n", "percent_of_control", "p_value"),
        footnotes=notes + _group_footnotes(block, groups) + censoring_footnotes(block),
        category=block.category,
        sources=tuple(sources))


def _counts(ctx: Context, block: Block) -> tuple[int | None, int] | None:
    if not ctx.litters:
        return None
    rows = ctx.table[(ctx.table["assay"] == block.assay)
                     & ctx.table["endpoint"].isin(block.endpoints)]
    if block.sex != "NA":
        rows = rows[rows["sex"] == block.sex]
    return ctx.pups_and_litters(rows)


def _incidence_maker(per_group: dict[str, dict[str, Any]]):
    return lambda g: incidence_cell(per_group.get(g))


def incidence_table(block: Block, spec: StudySpec | Context, number: int) -> Table:
    """Incidence table of one block: n affected / n examined (%) with flags."""
    ctx = spec if isinstance(spec, Context) else Context(spec, pd.DataFrame())
    groups = _ordered_groups(ctx.spec)
    cols = _columns(block)
    makers = [_incidence_maker(block.cells.get(c, {})) for c in cols]
    rows = _group_rows(block, groups, makers) + _test_rows(block, cols, groups)
    return Table(
        number=number, title=_title(ctx, block, "Incidence"), kind="incidence",
        key=_key("incidence", block), header=_header(ctx, block),
        row_header=("Group", "Dose"),
        columns=tuple(_column_label(ctx, block, c) for c in cols),
        column_groups=_column_groups(block, cols),
        rows=rows, number_fields=("n_affected", "n_examined", "incidence_pct", "p_value"),
        footnotes=_plan_footnotes(ctx, "incidence") + test_footnotes(ctx, block)
        + _group_footnotes(block, groups),
        category=block.category, sources=tuple(cols))


# ---------------------------------------------------------------- severity

#: Words of histopathology severity grades (INHAND / STP convention).
GRADE_WORDS = {0: "Not present", 1: "Minimal", 2: "Mild", 3: "Moderate", 4: "Marked",
               5: "Severe"}


def grade_heading(grade: float, unit: str) -> str:
    """Column heading of a grade: a word for pathology grades, ``Score k`` otherwise."""
    if unit == "grade" and grade in GRADE_WORDS:
        return GRADE_WORDS[int(grade)]
    return f"Score {fmt(grade, 0)}"


def severity_tables(results: pd.DataFrame, decisions: pd.DataFrame, table: pd.DataFrame,
                    spec: StudySpec | Context, start: int) -> list[Table]:
    """Counts per grade for ordinal endpoints, one table per endpoint × sex.

    Columns are the grades observed (and the median, which carries the flag),
    grouped by timepoint when the endpoint was scored more than once.
    """
    ctx = spec if isinstance(spec, Context) else Context(spec, table)
    out = []
    for block in blocks(results, decisions, ("ordinal",)):
        for endpoint in block.endpoints:
            res = block.results[block.results["endpoint"] == endpoint]
            sub = Block(block.category, block.assay, block.sex, (endpoint,), "timepoint", res,
                        block.decisions[block.decisions["endpoint"] == endpoint])
            out.append(_severity_table(sub, table, ctx, start + len(out)))
    return out


def _grade_counts(block: Block, table: pd.DataFrame) -> pd.DataFrame:
    """Included values of the block's endpoint (and sex) from the EndpointTable."""
    m = ((table["assay"] == block.assay) & (table["endpoint"] == block.endpoints[0])
         & ~table["excluded"])
    if block.sex != "NA":
        m &= table["sex"] == block.sex
    return table[m]


def _severity_cells(counts: dict[float, int], r: dict[str, Any],
                    grades: list[float]) -> list[Cell]:
    cells = [Cell(str(int(counts.get(k, 0))), {"value": float(counts.get(k, 0))})
             for k in grades]
    flag, direction = _s(r["flag"]), _s(r["direction"])
    cells.append(Cell(f"{fmt(_num(r['median']), 1)}{flag_text(flag, direction)}",
                      {"value": _num(r["median"])}, flag=flag, direction=direction))
    return cells


def _severity_table(block: Block, table: pd.DataFrame, ctx: Context, number: int) -> Table:
    vals = _grade_counts(block, table)
    tps = _timepoints(block.results)
    grades = sorted(vals["value"].unique())
    res = {(g, tp): r for (_, tp), by_group in block.cells.items() for g, r in by_group.items()}
    counts: dict[tuple[str, str], dict[float, int]] = {}
    for (g, tp, v), n in vals.groupby(["group", "timepoint", "value"]).size().items():
        counts.setdefault((str(g), str(tp)), {})[float(v)] = int(n)
    rows = []
    for g in _ordered_groups(ctx.spec):
        if not any((g.id, tp) in res for tp in tps):
            continue
        cells: list[Cell] = []
        for tp in tps:
            r = res.get((g.id, tp))
            if r is None:
                cells += [Cell("–", {"value": math.nan})] * (len(grades) + 1)
                continue
            cells += _severity_cells(counts.get((g.id, tp), {}), r, grades)
        rows.append(Row((group_text(g), dose_text(g)), tuple(cells)))
    unit = _unit_of(block, block.endpoints[0])
    heads = tuple(grade_heading(k, unit) for k in grades) + ("Median",)
    groups = tuple(ColumnGroup("Subjects per grade" if tp == "NA"
                               else ctx.tp(tp, block.assay), len(heads)) for tp in tps)
    plan = ctx.spec.statistics
    return Table(
        number=number, title=_title(ctx, block, "Severity"), kind="severity",
        key=_key("severity", block), header=_header(ctx, block), row_header=("Group", "Dose"),
        column_groups=groups, columns=heads * len(tps), rows=rows, number_fields=("value",),
        footnotes=["Values are numbers of subjects per grade; median grade with "
                   f"* p ≤ {plan.alpha:g}, ** p ≤ 0.01 vs control ({SIDED[plan.sided]})."]
        + test_footnotes(ctx, block) + _group_footnotes(block, _ordered_groups(ctx.spec)),
        category=block.category)


# ---------------------------------------------------------------- listings

def listing_tables(table: pd.DataFrame, spec: StudySpec | Context, start: int, *,
                   skip: Iterable[str] = ()) -> list[Table]:
    """Individual listings, one table per assay: every value of every subject."""
    ctx = spec if isinstance(spec, Context) else Context(spec, table)
    out = []
    reg = ep_registry.registry()
    table = table[~table["endpoint"].map(lambda e: e in reg and reg[e].covariate_only)]
    for assay in sorted(set(table["assay"].unique()) - set(skip)):
        out.append(_listing(ctx, table[table["assay"] == assay], assay, start + len(out)))
    return out


def _listing(ctx: Context, part: pd.DataFrame, assay: str, number: int) -> Table:
    order = {g.id: i for i, g in enumerate(ctx.spec.groups)}
    times = TimeOrder.of(part)
    pairs = sorted({(e, t) for e, t in zip(part["endpoint"], part["timepoint"], strict=True)},
                   key=lambda et: (et[0], times.key(et[1])))
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
    columns = tuple((ctx.tp(t, assay) or "–") if multi else _unit_label(part, e)
                    for e, t in pairs)
    notes = ["Every value recorded is listed; values in brackets were excluded from "
             "statistics, with the reason given."] if n_excluded else []
    if ctx.litters and (part["batch"].astype(str) != "NA").any():
        counts = pups_text(*ctx.pups_and_litters(part))
        if ep_registry.is_litter_mean(part).all():
            notes.append(f"Litter means are listed, one row per litter and sex ({counts}); "
                         "statistics used litter means (n = number of litters).")
        else:
            notes.append(f"Individual pups are listed ({counts}); statistics used litter "
                         "means (n = number of litters).")
    return Table(number=number, title=f"Individual values: {assay_label(assay)}",
                 kind="listing", key=f"listing-{slug(assay)}",
                 header=study_header(ctx.spec), row_header=("Subject", "Group", "Sex"),
                 columns=columns, column_groups=groups, rows=rows,
                 number_fields=("value",), footnotes=notes)


def _listing_decimals(values: pd.Series, endpoint: str) -> int:
    """Decimals of one endpoint's column in a listing: one animal's value as it was recorded.

    A whole-number endpoint (registry ``integer``: scores, counts) lists whole
    numbers ("2", not "2.0"): the registry's ``decimals`` are those of its means.
    """
    reg = ep_registry.registry().get(endpoint)
    if reg is not None and reg.integer:
        return 0
    preferred = registry_decimals(endpoint)
    finite = values[np.isfinite(values.to_numpy(dtype=float))]
    if preferred is None and len(finite) and (finite == finite.round()).all():
        return 0
    return decimals_for(list(finite), preferred)


def _unit_label(part: pd.DataFrame, endpoint: str) -> str:
    unit = part.loc[part["endpoint"] == endpoint, "unit"].iloc[0]
    return with_unit(label_of(endpoint), unit)


def _listing_cell(r: object | None, decimals: int) -> Cell:
    if r is None:
        return Cell("", {"value": math.nan})
    value = float(r.value)  # type: ignore[attr-defined]
    # a censored value holds its bound: "< 0.0045" below a limit, "> 20.0" above a cut-off,
    # printed so that rounding never moves it; small values keep 3 significant figures
    sign = CENSOR_SIGN.get(_s(getattr(r, "censoring", "")), "")
    dec: int | None
    if sign:
        dec = limit_decimals(value, decimals)
        shown = limit_text(sign, value, dec)
        if shown != f"{sign} {fmt(value, dec)}":  # rounded outward: the number in full
            dec = None
    else:
        dec = sig_decimals(value, decimals)
        shown = fmt(value, dec)
    if r.excluded:  # type: ignore[attr-defined]
        reason = str(r.exclusion_reason)  # type: ignore[attr-defined]
        return Cell(f"[{shown}] excluded: {reason}", {"value": value}, note=reason,
                    decimals=dec)
    return Cell(shown, {"value": value}, decimals=dec)


# ------------------------------------------------------------------ all tables

def group_tables(results: pd.DataFrame, decisions: pd.DataFrame, table: pd.DataFrame,
                 ctx: Context, *, skip_assays: Iterable[str] = ()) -> list[Table]:
    """Summary, incidence and severity tables (not numbered), skipping some assays."""
    res = results[~results["assay"].isin(set(skip_assays))]
    out = [_with_historical(summary_table(b, ctx, 0), b, ctx)
           for b in blocks(with_included_values(res), decisions, SUMMARY_TYPES)]
    out += [_with_historical(incidence_table(b, ctx, 0), b, ctx)
            for b in blocks(res, decisions, ("incidence",), combine=True)]
    return out + severity_tables(res, decisions, table, ctx, 0)


def _with_historical(t: Table, block: Block, ctx: Context) -> Table:
    """``t`` with the historical control row and marks when the study has ranges."""
    if ctx.historical is not None:
        add_to_table(t, list(t.sources), block.sex,
                     {group_text(g): g for g in _ordered_groups(ctx.spec)}, ctx.historical)
    return t


def by_category_order(tables: list[Table]) -> list[Table]:
    """Tables sorted by OECD/EPA category, keeping their order within a category."""
    return sorted(tables, key=lambda t: CATEGORY_ORDER.get(t.category, 99))


def build_tables(results: pd.DataFrame, decisions: pd.DataFrame, table: pd.DataFrame,
                 spec: StudySpec | Context) -> list[Table]:
    """Every group and listing table, numbered.

    Summaries, incidence and severity tables (by category), then listings.
    """
    ctx = spec if isinstance(spec, Context) else Context(spec, table)
    out = by_category_order(group_tables(results, decisions, table, ctx))
    out += listing_tables(table, ctx, 0)
    for i, t in enumerate(out, start=1):
        t.number = i
    return out

