"""The n an ANCOVA used is visible, and the animals it left out are named and recorded.

Brain weight with two terminal body weights missing (G2M1, G3M4): the summary keeps
n 6, 6, 6; the ANCOVA runs on 6, 5, 5. Reference: R 4.x lm(brain ~ g + bw) on the
complete cases, multcomp glht(mcp(g = "Dunnett")): t -1.2559880538 (G2),
-1.8083749028 (G3), adjusted p 0.3459613821, 0.1501214837; group F 1.63625861443.
"""

from __future__ import annotations

import pandas as pd
import pytest

from neurotox import endpoints, stats
from neurotox.study import Group, StatisticsPlan

GROUPS = [Group(id="G1", label="Control", dose=0, dose_unit="mg/kg/day", control=True),
          Group(id="G2", label="Low", dose=10, dose_unit="mg/kg/day"),
          Group(id="G3", label="High", dose=100, dose_unit="mg/kg/day")]

# subject: (brain weight g, terminal body weight g or None)
ANIMALS = {
    "G1M0": (1.9809, 388.9), "G1M1": (1.9671, 366.5), "G1M2": (1.9704, 376.5),
    "G1M3": (1.8742, 352.4), "G1M4": (1.9196, 367.5), "G1M5": (1.9593, 376.5),
    "G2M0": (1.8382, 330.1), "G2M1": (1.8937, None), "G2M2": (1.8365, 329.3),
    "G2M3": (1.8989, 352.1), "G2M4": (1.8616, 359.4), "G2M5": (1.8582, 335.0),
    "G3M0": (1.7553, 296.0), "G3M1": (1.7537, 313.2), "G3M2": (1.8559, 358.9),
    "G3M3": (1.7964, 324.0), "G3M4": (1.7774, None), "G3M5": (1.8741, 335.0)}


def _table() -> pd.DataFrame:
    dose = {g.id: float(g.dose) for g in GROUPS}
    recs = []
    for subject, values in ANIMALS.items():
        for endpoint, v in zip(("brain_weight", "terminal_body_weight"), values, strict=True):
            if v is not None:
                recs.append({"study_id": "S1", "assay": "brain_weight", "category": "structural",
                             "endpoint": endpoint, "unit": "g", "subject": subject,
                             "group": subject[:2], "dose": dose[subject[:2]],
                             "dose_unit": "mg/kg/day", "sex": "M", "timepoint": "terminal",
                             "value": v, "excluded": False, "exclusion_reason": "",
                             "batch": "NA", "source": "test"})
    return endpoints.validate(pd.DataFrame(recs))


@pytest.fixture(scope="module")
def analysis():
    return stats.analyse(_table(), StatisticsPlan(), GROUPS)


def test_ancova_matches_r_on_the_complete_cases(analysis):
    res = analysis.results.query("endpoint == 'brain_weight'").set_index("group")
    assert res["n"].tolist() == [6, 6, 6]          # the summary keeps every brain weight
    assert res.loc[["G2", "G3"], "statistic"].tolist() == pytest.approx(
        [-1.2559880538, -1.8083749028], rel=1e-8)
    assert res.loc[["G2", "G3"], "p_value"].tolist() == pytest.approx(
        [0.3459613821, 0.1501214837], abs=1e-3)   # quasi-Monte Carlo integration
    dec = analysis.decisions.query("endpoint == 'brain_weight'").iloc[0]
    assert dec["overall_statistic"] == pytest.approx(1.63625861443, rel=1e-8)


def test_decision_note_names_the_n_used_and_the_animals_left_out(analysis):
    note = analysis.decisions.query("endpoint == 'brain_weight'").iloc[0]["note"]
    assert ("ANCOVA n G1 6, G2 5, G3 5 (2 animal(s) left out for want of a terminal body "
            "weight value: G2: G2M1; G3: G3M4; they stay in the mean, SD and n of the "
            "summary)") in note


def test_left_out_animals_get_an_exclusion_record(analysis):
    assert analysis.left_out == [{
        "rule": "covariate", "assay": "brain_weight", "endpoint": "brain_weight", "sex": "M",
        "timepoint": "terminal", "subjects": ["G2M1", "G3M4"], "values": 2,
        "reason": "no terminal body weight value: left out of the ANCOVA (kept in the "
                  "summary statistics)"}]


def test_summary_table_prints_the_ancova_n(analysis):
    from neurotox.report.tables import build_tables
    from neurotox.study import StudySpec

    spec = StudySpec.model_validate({"study_id": "S1", "title": "t", "test_item": "x",
                                     "groups": [g.model_dump() for g in GROUPS]})
    table = _table()
    summary = build_tables(analysis.results, analysis.decisions, table, spec)[0]
    assert summary.columns[1] == "Brain weight (g): ANCOVA-adjusted mean"
    adjusted = [r.cells[1] for r in summary.rows[:3]]
    assert [c.numbers["n"] for c in adjusted] == [6, 5, 5]
    assert "(" not in adjusted[0].text and adjusted[1].text.split()[1] == "(5)"
    assert any(f.startswith("(n) after an adjusted mean: the animals the ANCOVA used")
               for f in summary.footnotes)
