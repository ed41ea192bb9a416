"""Overview table: every statistically significant difference from control at a glance.

Rows are the endpoints (× timepoint) with at least one flagged group; columns
are the treated groups, grouped by sex; cells show the flag and direction
exactly as the summary tables do. Built from the results' ``flag`` and
``direction`` columns only.
"""

from __future__ import annotations

import math

import pandas as pd

from neurotox.report.model import Cell, ColumnGroup, Row, Table, flag_text, natural_key
from neurotox.report.tables import (
    CATEGORY_ORDER,
    SEX_ORDER,
    SIDED,
    dose_text,
    label_of,
    study_header,
)
from neurotox.study import StudySpec
from neurotox.vocab import Sex


def _flagged_keys(res: pd.DataFrame) -> list[tuple[str, str, str, str]]:
    hits = res[(res["flag"].fillna("") != "") & ~res["is_control"].astype(bool)]
    keys = {(str(r.category), str(r.assay), str(r.endpoint), str(r.timepoint))
            for r in hits.itertuples(index=False)}
    return sorted(keys, key=lambda k: (CATEGORY_ORDER.get(k[0], 99), k[1], k[2],
                                       natural_key(k[3])))


def overview_table(results: pd.DataFrame, spec: StudySpec, number: int) -> Table:
    """Significant differences from control: rows endpoints, columns sex × treated group."""
    res = results[results["timepoint"] != "ALL"]
    sexes = sorted(set(res["sex"]), key=lambda s: SEX_ORDER.get(s, 3))
    treated = [g for g in spec.groups if not g.control]
    cols = [(s, g) for s in sexes for g in treated]
    index = {(r.assay, r.endpoint, r.timepoint, r.sex, r.group): r
             for r in res.itertuples(index=False)}
    rows = []
    for _cat, assay, endpoint, tp in _flagged_keys(res):
        cells = []
        for sex, g in cols:
            r = index.get((assay, endpoint, tp, sex, g.id))
            flag = "" if r is None or not isinstance(r.flag, str) else r.flag
            direction = "" if r is None or not isinstance(r.direction, str) else r.direction
            p = math.nan if r is None else float(r.p_value)
            cells.append(Cell(flag_text(flag, direction), {"p_value": p}, flag=flag,
                              direction=direction))
        rows.append(Row((label_of(endpoint), "" if tp == "NA" else tp), tuple(cells)))
    groups = tuple(ColumnGroup(Sex(s).label if s in SEX_ORDER else s, len(treated))
                   for s in sexes)
    plan = spec.statistics
    notes = [f"* p ≤ {plan.alpha:g}; ** p ≤ 0.01 vs control ({SIDED[plan.sided]}); ↑/↓ group "
             "value above/below control. Tests and values: see the summary, incidence and "
             "severity tables."]
    if not rows:
        notes.insert(0, "No statistically significant difference from control.")
    return Table(number=number, title="Overview of statistically significant differences "
                 "from control", kind="overview", key="overview", header=study_header(spec),
                 row_header=("Endpoint", "Timepoint"),
                 columns=tuple(f"{g.id} {dose_text(g)}" for _, g in cols),
                 column_groups=groups, rows=rows, number_fields=("p_value",),
                 footnotes=notes)
