"""Report tables of a zebrafish screen (assay ``zebrafish_screen``).

Built from the screen's own detail tables (the study-level statistics pool all
chemicals; a screen compares each chemical with its own vehicle):

* per chemical, the morphology incidence table: rows = vehicle and concentrations
  with the number of larvae examined, columns = endpoints, cells = affected/n (%)
  flagged by Fisher's exact test vs vehicle, the Cochran-Armitage trend in a footnote;
* the exclusions by rule (larvae per rule and chemical) and the group rules that
  excluded a group;
* the benchmark concentrations (recommended model per chemical and endpoint).
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import pandas as pd

from neurotox.report.model import Cell, Report, Row, Table, fmt, fmt_sig, natural_key
from neurotox.report.tables import study_header

#: Endpoints shown in the per-chemical incidence tables (others stay in details/).
INCIDENCE_ENDPOINTS = ("zf_mo24", "zf_mort", "zf_tot_mort", "zf_any24", "zf_any_malformation",
                       "zf_any120", "zf_any_effect")


#: Detail tables only a zebrafish screen writes (they mark its assay entries).
SCREEN_MARKERS = ("group_rules", "exclusions_by_rule")


def _screen_details(details: Mapping[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """Details of the assay entries that are zebrafish screens (``<entry>/<table>`` keys)."""
    prefixes = {k.rsplit("/", 1)[0] for k in details if k.rsplit("/", 1)[-1] in SCREEN_MARKERS}
    return {k: v for k, v in details.items() if "/" in k and k.rsplit("/", 1)[0] in prefixes}


def _detail(details: Mapping[str, pd.DataFrame], name: str) -> pd.DataFrame | None:
    frames = [df for key, df in details.items() if key.split("/")[-1] == name and len(df)]
    return pd.concat(frames, ignore_index=True) if frames else None


def add_screen_tables(report: Report, details: Mapping[str, pd.DataFrame], spec) -> None:
    """Insert the screen tables before the listings and renumber every table."""
    extra = screen_tables(details, spec)
    if not extra:
        return
    n_summary = sum(t.kind != "listing" for t in report.tables)
    report.tables[n_summary:n_summary] = extra
    for i, t in enumerate(report.tables, start=1):
        t.number = i


def screen_tables(details: Mapping[str, pd.DataFrame], spec) -> list[Table]:
    """Screen tables (numbered 0; the caller numbers them) from the assay details."""
    details = _screen_details(details)
    out = []
    inc = _detail(details, "incidence")
    if inc is not None:
        out += [_incidence(chem, g, spec) for chem, g in inc.groupby("chemical", sort=True)]
    ex = _detail(details, "exclusions_by_rule")
    if ex is not None:
        out.append(_exclusions(ex, _detail(details, "group_rules"), spec))
    bmd = [b for b in (_detail(details, "morphology_bmd"), _detail(details, "activity_bmd"))
           if b is not None]
    if bmd:
        out.append(_bmds(pd.concat(bmd, ignore_index=True), spec))
    return out


def _incidence(chem: str, g: pd.DataFrame, spec) -> Table:
    eps = [e for e in INCIDENCE_ENDPOINTS if e in set(g["endpoint"])]
    g = g[g["endpoint"].isin(eps)]
    labels = dict(zip(g["endpoint"], g["label"], strict=False))
    rows = []
    for conc, r in g.groupby("concentration", sort=True):
        by = r.set_index("endpoint")
        n = int(by["n_examined"].max())
        cells = tuple(_inc_cell(by.loc[e]) if e in by.index else Cell("–") for e in eps)
        rows.append(Row(("vehicle" if conc == 0 else f"{conc:g}", str(n)), cells))
    trend = g[g["concentration"] == 0].set_index("endpoint")["trend_p"]
    notes = ["Cells: larvae affected / larvae examined (%). Larvae flagged do-not-count are "
             "not examined; a larva dead at 24 hpf is not examined for later calls.",
             "* p < 0.05, ** p < 0.01: Fisher's exact test (one-sided, increase) against the "
             "vehicle larvae of the chemical's own plates/experimental groups.",
             "Cochran-Armitage trend p: " + "; ".join(
                 f"{labels[e]} {_p(trend.get(e))}" for e in eps)]
    return Table(number=0, title=f"Developmental morphology incidence, chemical {chem}",
                 kind="incidence", key=f"screen_incidence_{chem}"[:40],
                 header={**study_header(spec), "Chemical": str(chem)},
                 row_header=("Concentration", "n examined"),
                 columns=tuple(labels[e] for e in eps), rows=rows,
                 number_fields=("n_affected", "n_examined", "incidence_pct"), footnotes=notes,
                 category="neurodevelopmental")


def _inc_cell(r: pd.Series) -> Cell:
    n, a = int(r["n_examined"]), int(r["n_affected"])
    pct = 100.0 * a / n if n else math.nan
    text = f"{a}/{n} ({fmt(pct, 0)}%)" if n else "–"
    return Cell(text + (r["flag"] or ""), {"n_affected": a, "n_examined": n,
                                           "incidence_pct": pct}, flag=r["flag"] or "",
                direction="up" if r["flag"] else "", decimals=0)


def _p(p: object) -> str:
    return "not testable" if p is None or pd.isna(p) else fmt_sig(float(p))


def _exclusions(ex: pd.DataFrame, rules: pd.DataFrame | None, spec) -> Table:
    rows = [Row((r.rule, str(r.chemical)), (Cell(str(int(r.n_larvae)),
                                                 {"value": float(r.n_larvae)}),))
            for r in ex.sort_values(["rule", "chemical"]).itertuples()]
    notes = ["A larva is counted under every rule that excluded it."]
    if rules is not None:
        for r in rules[rules["excluded"]].itertuples():
            what = (f"experimental group {r.experimental_group} (vehicle)"
                    if r.rule.startswith("experimental") else
                    f"{r.chemical} {r.concentration:g} in {r.experimental_group}")
            notes.append(f"Group rule: {what}: {r.n_usable}/{r.n_larvae} usable "
                         f"({r.fraction_usable:.0%}), required {r.required:.0%}.")
    return Table(number=0, title="Zebrafish screen: larvae excluded, by rule", kind="listing",
                 key="screen_exclusions", header=study_header(spec),
                 row_header=("Rule", "Chemical"), columns=("Larvae",), rows=rows,
                 number_fields=("value",), footnotes=notes)


def _bmds(b: pd.DataFrame, spec) -> Table:
    rec = b[b["recommended"].astype(bool)].sort_values(
        ["chemical", "endpoint", "timepoint"], kind="stable",
        key=lambda col: col.map(natural_key) if col.name == "timepoint" else col)
    rows = []
    for r in rec.itertuples():
        cells = [(f"{r.bmr:g} SD" if r.kind == "continuous" else f"{r.bmr:.0%} extra risk",
                  math.nan), (r.model, math.nan), (_g(r.bmd), r.bmd), (_g(r.bmdl), r.bmdl),
                 (r.reason, math.nan)]
        rows.append(Row((str(r.chemical), r.endpoint, "" if r.timepoint == "NA" else
                         r.timepoint), tuple(Cell(t, {"value": v}) for t, v in cells)))
    return Table(number=0, title="Zebrafish screen: benchmark concentrations per chemical",
                 kind="bmd", key="screen_bmd", header=study_header(spec),
                 row_header=("Chemical", "Endpoint", "Timepoint"),
                 columns=("BMR", "Model", "BMD", "BMDL", "Selection"), rows=rows,
                 number_fields=("value",),
                 footnotes=["Incidence endpoints: bmdrc's model set and selection (lowest BMDL "
                            "within 2 AIC) fitted to the plate x concentration counts; "
                            "continuous endpoints: US EPA pybmds, BMR 1 control SD."])


def _g(v: float) -> str:
    return "–" if v is None or not math.isfinite(v) else fmt_sig(v)
