"""Pathology-style tables of the neuropathology assay.

As a pathologist tabulates (and Provantis or PathData print) findings:

- incidence by tissue: per tissue the number examined in each group, the
  animals with no abnormality detected, then one row per finding with the
  number of animals affected (and its statistical flag);
- severity: per finding, the number of animals at each grade, written as
  minimal / mild / moderate / marked / severe;
- individual animal findings: every finding of every animal with its grade in
  words, "No abnormality detected" for animals without findings.

Columns are the groups (control included) within each sex. Counts come
straight from the EndpointTable rows of the ``neuropathology`` assay
(``np_<tissue>_<lesion>`` incidence 0/1 and ``..._severity`` grade 0-5); flags
come from the results.
"""

from __future__ import annotations

import math

import pandas as pd

from neurotox.report.context import Context
from neurotox.report.historical import CONTROL_MARK, MARK, footnote, range_text
from neurotox.report.labels import p_text
from neurotox.report.model import Cell, ColumnGroup, Row, Table, flag_text, natural_key
from neurotox.report.tables import (
    GRADE_WORDS,
    SEX_ORDER,
    SIDED,
    dose_text,
    label_of,
    sex_label,
    study_header,
)
from neurotox.timepoints import TimeOrder

ASSAY = "neuropathology"
ANY = "np_any_finding"
NAD = "No abnormality detected"
#: Label of the row under a finding with its dose-trend test.
TREND_ROW = "Trend test"


def _s(v: object) -> str:
    return "" if v is None or (isinstance(v, float) and math.isnan(v)) else str(v)


def tissue_and_finding(endpoint: str) -> tuple[str, str]:
    """``("Sciatic nerve", "Axonal degeneration")`` from the registry label."""
    label = label_of(endpoint).replace(" (severity)", "")
    tissue, _, finding = label.partition(": ")
    return (tissue, finding[:1].upper() + finding[1:]) if finding else ("", label)


class _Data:
    """The neuropathology rows of the EndpointTable, split into what the tables need."""

    def __init__(self, ctx: Context, results: pd.DataFrame):
        t = ctx.table
        rows = t[(t["assay"] == ASSAY) & ~t["excluded"].astype(bool)]
        self.ctx = ctx
        self.all_rows = t[t["assay"] == ASSAY]
        self.incidence = rows[~rows["endpoint"].str.endswith("_severity")
                              & (rows["endpoint"] != ANY)]
        self.severity = self.all_rows[self.all_rows["endpoint"].str.endswith("_severity")]
        self.any = rows[rows["endpoint"] == ANY]
        self.results = results[results["assay"] == ASSAY]
        self.sexes = sorted(set(self.all_rows["sex"]), key=lambda s: SEX_ORDER.get(s, 3))
        self.groups = list(ctx.spec.groups)
        self.columns = [(sex, g) for sex in self.sexes for g in self.groups]
        self.findings = sorted(set(self.incidence["endpoint"]),
                               key=lambda e: (tissue_and_finding(e), e))
        self.tissues = list(dict.fromkeys(tissue_and_finding(e)[0] for e in self.findings))

    def count_cells(self, rows: pd.DataFrame, what: str) -> tuple[Cell, ...]:
        """Per column: number of subjects (``examined``) or with value 1 (``affected``)."""
        part = rows if what == "examined" else rows[rows["value"] == 1]
        counts = part.groupby(["sex", "group"])["subject"].nunique().to_dict()
        return tuple(Cell(str(n), {"value": float(n)}) for n in
                     (int(counts.get((sex, g.id), 0)) for sex, g in self.columns))

    def flagged_cells(self, endpoint: str, rows: pd.DataFrame) -> tuple[Cell, ...]:
        """Affected counts with the flag of the results for that endpoint."""
        res = self.results[self.results["endpoint"] == endpoint]
        flags = {(r["sex"], r["group"]): (_s(r["flag"]), _s(r["direction"]),
                                          float(r["p_value"]))
                 for r in res.to_dict("records")}
        out = []
        examined = self.count_cells(rows, "examined")
        for cell, n, (sex, g) in zip(self.count_cells(rows, "affected"), examined,
                                     self.columns, strict=True):
            flag, direction, p = flags.get((sex, g.id), ("", "", math.nan))
            numbers = {"value": cell.numbers["value"], "p_value": p}
            text = cell.text + flag_text(flag, direction)
            pct = 100 * cell.numbers["value"] / n.numbers["value"] if n.numbers["value"] else None
            hist = self.ctx.historical
            if pct is not None and hist is not None and hist.outside(
                    self.historical(endpoint, sex), pct):
                mark = CONTROL_MARK if g.control else MARK
                text, numbers["outside_historical"] = f"{text} {mark}", 1.0
            out.append(Cell(text, numbers, flag=flag, direction=direction))
        return tuple(out) + self.historical_cells(endpoint)

    def trend_cells(self, endpoint: str) -> tuple[Cell, ...] | None:
        """The dose-trend p and flag per sex, in the column of its highest dose (None: no test).

        Where the summary tables put it: the trend test is about all doses, and
        step-down trend tests decide at the top dose first.
        """
        res = self.results[(self.results["endpoint"] == endpoint)
                           & self.results["trend_test"].map(_s).astype(bool)]
        p_of = {sex: float(part["trend_p"].iloc[0]) for sex, part in res.groupby("sex")}
        flag_of = {sex: _s(part["trend_flag"].iloc[0]) for sex, part in res.groupby("sex")}
        if not any(math.isfinite(p) for p in p_of.values()):
            return None
        top = max((g for g in self.groups if not g.control), key=lambda g: g.dose,
                  default=None)
        out = []
        for sex, g in self.columns:
            p = p_of.get(sex, math.nan)
            shown = top is not None and g.id == top.id and math.isfinite(p)
            out.append(Cell(f"{p_text(p)}{flag_of.get(sex, '')}" if shown else "",
                            {"value": math.nan, "p_value": p if shown else math.nan},
                            flag=flag_of.get(sex, "") if shown else ""))
        return tuple(out) + self.historical_cells(None)

    def trend_tests(self) -> list[str]:
        """Names of the trend tests of the findings (``Cochran-Armitage (exact)``)."""
        res = self.results[self.results["endpoint"].isin(self.findings)]
        return sorted({_s(t) for t in res["trend_test"] if _s(t)})

    def historical(self, endpoint: str, sex: str) -> pd.Series | None:
        """The historical control range of one finding and sex (None without one)."""
        if self.ctx.historical is None:
            return None
        rows = self.all_rows[self.all_rows["endpoint"] == endpoint]
        tps = TimeOrder.of(rows).order(rows["timepoint"])
        return next((r for tp in tps if (r := self.ctx.historical.lookup(
            endpoint, sex, tp)) is not None), None)

    def historical_cells(self, endpoint: str | None) -> tuple[Cell, ...]:
        """One cell per sex with the finding's historical range (none without a database)."""
        if self.ctx.historical is None:
            return ()
        return tuple(Cell("") if endpoint is None else range_text(self.historical(endpoint, s))
                     for s in self.sexes)

    def nad_cells(self, rows: pd.DataFrame) -> tuple[Cell, ...]:
        """Examined minus affected by any of the rows' findings, per column."""
        examined = self.count_cells(rows, "examined")
        affected = self.count_cells(rows, "affected")
        return tuple(Cell(str(int(e.numbers["value"] - a.numbers["value"])),
                          {"value": e.numbers["value"] - a.numbers["value"]})
                     for e, a in zip(examined, affected, strict=True))

    def column_heads(self) -> tuple[tuple[str, ...], tuple[ColumnGroup, ...]]:
        heads = tuple(f"{g.id} {dose_text(g)}" for _, g in self.columns)
        groups = tuple(ColumnGroup(sex_label(s), len(self.groups)) for s in self.sexes)
        if self.ctx.historical is not None:
            heads += tuple(sex_label(s) for s in self.sexes)
            groups += (ColumnGroup("Historical control incidence (%)", len(self.sexes)),)
        return heads, groups


def _incidence_rows(d: _Data) -> list[Row]:
    blank = d.historical_cells(None)
    rows = [Row(("All tissues", "Number examined"), d.count_cells(d.any, "examined") + blank),
            Row(("", NAD), d.nad_cells(d.any) + blank)]
    if len(d.any):
        rows.append(Row(("", "Animals with any finding"), d.flagged_cells(ANY, d.any)))
    for tissue in d.tissues:
        eps = [e for e in d.findings if tissue_and_finding(e)[0] == tissue]
        part = d.incidence[d.incidence["endpoint"].isin(eps)]
        # an animal is examined for the tissue when it has a row for any of its findings;
        # affected by the tissue when any of them is 1
        per_animal = part.groupby(["subject", "sex", "group"], as_index=False)["value"].max()
        rows.append(Row((tissue, "Number examined"),
                        d.count_cells(per_animal, "examined") + blank))
        rows.append(Row(("", NAD), d.nad_cells(per_animal) + blank))
        for e in eps:
            rows.append(Row(("", tissue_and_finding(e)[1]),
                            d.flagged_cells(e, part[part["endpoint"] == e])))
            trend = d.trend_cells(e)
            if trend is not None:
                rows.append(Row(("", TREND_ROW), trend))
    return rows


def _severity_rows(d: _Data) -> list[Row]:
    rows = []
    for e in d.findings:
        sev = d.severity[d.severity["endpoint"] == f"{e}_severity"]
        tissue, finding = tissue_and_finding(e)
        rows.append(Row((tissue, finding), tuple(Cell("", {"value": math.nan})
                                                 for _ in d.columns)))
        for grade in range(1, 6):
            graded = sev[~sev["excluded"].astype(bool)].assign(value=lambda x, k=grade: (
                x["value"] == k).astype(float))
            rows.append(Row(("", GRADE_WORDS[grade]), d.count_cells(graded, "affected")))
        ungraded = sev[sev["excluded"].astype(bool)].assign(value=1.0)
        if len(ungraded):
            rows.append(Row(("", "Present, not graded"), d.count_cells(ungraded, "affected")))
        if len(d.results[d.results["endpoint"] == f"{e}_severity"]):
            flagged = d.flagged_cells(f"{e}_severity", sev.iloc[:0])[:len(d.columns)]
            rows.append(Row(("", "Severity vs control"), tuple(
                Cell(flag_text(c.flag, c.direction) or "–", {"value": math.nan,
                                                             "p_value": c.numbers["p_value"]},
                     flag=c.flag, direction=c.direction) for c in flagged)))
    return rows


def pathology_tables(ctx: Context, results: pd.DataFrame) -> list[Table]:
    """Incidence-by-tissue and severity tables (empty without neuropathology data)."""
    d = _Data(ctx, results)
    if not len(d.all_rows):
        return []
    heads, groups = d.column_heads()
    plan = ctx.spec.statistics
    flags = (f"* p ≤ {plan.alpha:g}; ** p ≤ 0.01 vs control ({SIDED[plan.sided]}); ↑ more "
             "animals affected than in the control.")
    common = {"header": study_header(ctx.spec), "row_header": ("Tissue", "Finding"),
              "columns": heads[:len(d.columns)],
              "column_groups": groups[:len(d.sexes)], "category": "structural"}
    notes = ["Values are numbers of animals. Number examined: animals whose tissue was "
             "examined; no abnormality detected: examined animals without a finding in that "
             "tissue.",
             f"{flags} Findings: Fisher's exact test vs control."]
    incidence = _incidence_rows(d)
    if any(r.labels[1] == TREND_ROW for r in incidence):
        notes.append(f"Trend test: {' / '.join(d.trend_tests())} across all dose groups, "
                     "p in the column of the highest dose (row under each finding).")
    if ctx.historical is not None:
        notes.append(footnote("incidence", ctx.historical))
    out = [Table(number=0, title="Neuropathology: incidence of findings by tissue",
                 kind="pathology", key="pathology-incidence", rows=incidence,
                 number_fields=("value", "p_value", "hist_low", "hist_high"),
                 footnotes=notes, **{**common, "columns": heads, "column_groups": groups})]
    if d.findings:
        out.append(Table(number=0, title="Neuropathology: severity of findings", kind="pathology",
                         key="pathology-severity", rows=_severity_rows(d),
                         number_fields=("value", "p_value"),
                         footnotes=["Values are numbers of animals with the finding at each "
                                    "grade (minimal, mild, moderate, marked, severe).",
                                    f"Severity vs control: rank-based comparison of the grades "
                                    f"(absent = 0); {flags}"], **common))
    return out


def pathology_listing(ctx: Context) -> list[Table]:
    """Individual animal findings: every finding with its grade in words."""
    t = ctx.table
    rows_all = t[t["assay"] == ASSAY]
    if not len(rows_all):
        return []
    order = {g.id: i for i, g in enumerate(ctx.spec.groups)}
    found = rows_all[(rows_all["endpoint"] != ANY) & ~rows_all["endpoint"].str.endswith(
        "_severity") & (rows_all["value"] == 1)]
    grades = {(r.subject, r.endpoint[: -len("_severity")]): r
              for r in rows_all[rows_all["endpoint"].str.endswith("_severity")]
              .itertuples(index=False)}
    animals = rows_all.drop_duplicates("subject")[["subject", "group", "sex"]]
    animals = sorted(animals.itertuples(index=False), key=lambda a: (
        order.get(a.group, len(order)), SEX_ORDER.get(a.sex, 3), natural_key(a.subject)))
    rows = []
    for a in animals:
        mine = found[found["subject"] == a.subject]
        if not len(mine):
            rows.append(Row((str(a.subject), str(a.group), str(a.sex), "All tissues"),
                            (Cell(NAD), Cell(""))))
            continue
        for e in sorted(mine["endpoint"], key=tissue_and_finding):
            tissue, finding = tissue_and_finding(e)
            rows.append(Row((str(a.subject), str(a.group), str(a.sex), tissue),
                            (Cell(finding), Cell(_grade_word(grades.get((a.subject, e)))))))
    return [Table(number=0, title="Individual animal findings: neuropathology",
                  kind="listing", key="listing-neuropathology", header=study_header(ctx.spec),
                  row_header=("Animal", "Group", "Sex", "Tissue"), columns=("Finding", "Grade"),
                  rows=rows, number_fields=(), footnotes=[
                      "Grades: minimal, mild, moderate, marked, severe. Animals without any "
                      "finding are listed as no abnormality detected."])]


def _grade_word(row: object | None) -> str:
    if row is None:
        return ""
    if bool(row.excluded):  # type: ignore[attr-defined]
        return "present, not graded"
    value = float(row.value)  # type: ignore[attr-defined]
    return GRADE_WORDS.get(int(value), f"{value:g}").lower() if math.isfinite(value) else ""
