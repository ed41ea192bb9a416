"""A further control group (multiple_controls) is shown, not compared, and stays out of the gate.

The repeated-measures interaction decides whether the per-timepoint comparisons apply;
it is fitted on the groups that are compared (reference control + treated). Reference
values: R 4.x nlme::lme(value ~ group * timepoint, random = ~1 | subject, REML),
contr.sum, anova(type = "marginal") on the same rounded values.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from neurotox import endpoints, stats
from neurotox.stats.analysis import further_controls
from neurotox.study import Group, StatisticsPlan

GROUPS = [Group(id="C", label="Vehicle", dose=0, dose_unit="mg/kg", control=True),
          Group(id="SHAM", label="Sham-operated", dose=0, dose_unit="mg/kg", control=True),
          Group(id="T", label="Drug", dose=10, dose_unit="mg/kg")]


def _table() -> pd.DataFrame:
    rng = np.random.default_rng(45)
    rows = []
    for g, shift in (("C", 0.0), ("SHAM", 3.0), ("T", 0.6)):
        for s in range(6):
            subj = rng.normal(0, 2.0)
            for t, tp in enumerate(["d0", "d3", "d7", "d14"]):
                rows.append({"study_id": "S1", "assay": "motor_activity",
                             "category": "neurobehavioral", "endpoint": "motor_activity_counts",
                             "unit": "count", "subject": f"{g}{s}", "group": g,
                             "dose": 10.0 if g == "T" else 0.0, "dose_unit": "mg/kg",
                             "sex": "M", "timepoint": tp, "excluded": False,
                             "exclusion_reason": "", "batch": "NA", "source": "test",
                             "value": round(20 + subj - shift * t + rng.normal(0, 1.5), 1)})
    return endpoints.validate(pd.DataFrame(rows))


@pytest.fixture(scope="module")
def analysis():
    return stats.analyse(_table(), StatisticsPlan(), GROUPS)


def test_gate_is_fitted_without_the_further_control(analysis):
    row = analysis.decisions.query("timepoint == 'ALL'").iloc[0]
    # R without SHAM: group:timepoint F 1.48295746974 (3, 30) p 0.239088188025
    # (with SHAM it would be F 16.2076 (6, 45) p 7.9e-10: "comparisons apply")
    assert row["overall_statistic"] == pytest.approx(1.48295746974, rel=1e-5)
    assert row["overall_p"] == pytest.approx(0.239088188025, rel=1e-4)
    assert "(df=3, 30)" in row["note"]
    assert "per-timepoint comparisons are supplementary" in row["note"]
    assert row["note"].endswith("further control group(s) SHAM not compared: "
                                "left out of the model")


def test_further_control_gets_no_test_and_no_percent_of_control(analysis):
    res = analysis.results
    sham = res[res["group"] == "SHAM"]
    assert len(sham) == 4 and sham["is_control"].all()
    assert sham["percent_of_control"].isna().all()
    assert sham["p_value"].isna().all() and (sham["flag"] == "").all()
    ref = res[res["group"] == "C"]
    assert (ref["percent_of_control"] == 100).all()
    treated = res[(res["group"] == "T") & (res["timepoint"] == "d0")].iloc[0]
    control = ref[ref["timepoint"] == "d0"].iloc[0]
    assert treated["percent_of_control"] == pytest.approx(100 * treated["mean"] / control["mean"])


def test_further_controls_follow_the_statistics_order():
    assert further_controls(GROUPS) == {"SHAM"}
    late = [Group(id="A", label="Drug", dose=10, dose_unit="mg/kg"),
            Group(id="N", label="Naive", dose=0, dose_unit="mg/kg", control=True),
            Group(id="V", label="Vehicle", dose=0, dose_unit="mg/kg", control=True)]
    assert further_controls(late) == {"V"}
    assert further_controls(GROUPS[:1] + GROUPS[2:]) == set()


def test_tables_say_the_further_control_was_not_compared(analysis):
    from neurotox.report.tables import build_tables
    from neurotox.study import StudySpec

    spec = StudySpec.model_validate({
        "study_id": "S1", "title": "t", "test_item": "x", "multiple_controls": True,
        "groups": [g.model_dump() for g in GROUPS]})
    summary = build_tables(analysis.results, analysis.decisions, _table(), spec)[0]
    assert ("Group SHAM (Sham-operated): a further control group, not compared (no test, "
            "no % of control).") in summary.footnotes
    sham = next(r for r in summary.rows if r.labels[0].startswith("SHAM"))
    assert all("%" not in c.text and math.isnan(c.numbers["percent_of_control"])
               for c in sham.cells)

