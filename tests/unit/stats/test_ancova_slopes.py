"""ANCOVA on a baseline covariate: unequal slopes warned, the baseline session named.

Von Frey thresholds at day7 with each animal's day-1 threshold as covariate
(``vf_threshold_updown_baseline``), slopes 1.0, -0.6 and 0.5 in the three groups.
Reference: R 4.x lm(y ~ g + base) vs lm(y ~ g * base): homogeneity of slopes
F 100.263536217, p 3.24042457545e-08; multcomp Dunnett t -4.041729291114,
-3.604040472973 (adjusted p 0.002299191779, 0.005407780947).
"""

from __future__ import annotations

import pandas as pd
import pytest

from neurotox import endpoints, stats
from neurotox.stats.analysis import analysis_warnings
from neurotox.study import Group, StatisticsPlan

GROUPS = [Group(id="G1", label="Sham", dose=0, dose_unit="mg/kg", control=True),
          Group(id="G2", label="Low", dose=1, dose_unit="mg/kg"),
          Group(id="G3", label="High", dose=10, dose_unit="mg/kg")]

# subject: (day-1 threshold g, day7 threshold g)
ANIMALS = {
    "G1F0": (1.47, 1.689), "G1F1": (1.203, 1.455), "G1F2": (1.316, 1.48),
    "G1F3": (1.46, 1.68), "G1F4": (0.627, 0.758), "G1F5": (1.085, 1.398),
    "G2F0": (0.606, 1.138), "G2F1": (1.583, 0.372), "G2F2": (0.916, 0.862),
    "G2F3": (0.899, 0.886), "G2F4": (0.88, 0.787), "G2F5": (1.588, 0.535),
    "G3F0": (1.483, 1.011), "G3F1": (1.308, 0.883), "G3F2": (1.523, 0.968),
    "G3F3": (0.97, 0.701), "G3F4": (1.078, 0.791), "G3F5": (0.795, 0.742)}


def _table() -> pd.DataFrame:
    dose = {g.id: float(g.dose) for g in GROUPS}
    recs = []
    for subject, (base, day7) in ANIMALS.items():
        for endpoint, tp, v in (("vf_threshold_updown", "day-1", base),
                                ("vf_threshold_updown", "day7", day7),
                                ("vf_threshold_updown_baseline", "day7", base)):
            recs.append({"study_id": "S1", "assay": "cipn", "category": "neurobehavioral",
                         "endpoint": endpoint, "unit": "g", "subject": subject,
                         "group": subject[:2], "dose": dose[subject[:2]], "dose_unit": "mg/kg",
                         "sex": "F", "timepoint": tp, "value": v, "excluded": False,
                         "exclusion_reason": "", "batch": "NA", "source": "test"})
    return endpoints.validate(pd.DataFrame(recs))


@pytest.fixture(scope="module")
def analysis():
    return stats.analyse(_table(), StatisticsPlan(), GROUPS)


def _note(analysis, tp: str) -> str:
    dec = analysis.decisions
    return dec[(dec["endpoint"] == "vf_threshold_updown") & (dec["timepoint"] == tp)].iloc[0]


def test_unequal_slopes_are_a_warning_and_the_note_says_unreliable(analysis):
    row = _note(analysis, "day7")
    assert row["path"] == "ancova"
    assert ("homogeneity of slopes p = 3.24e-08 < 0.01: the common-slope ANCOVA is "
            "unreliable (the groups' slopes differ; the adjusted difference depends on the "
            "covariate value)") in row["note"]
    res = analysis.results
    t = res[(res["endpoint"] == "vf_threshold_updown") & (res["timepoint"] == "day7")]
    assert t["statistic"].iloc[1:].tolist() == pytest.approx(
        [-4.041729291114, -3.604040472973], rel=1e-8)
    assert analysis_warnings(analysis.decisions) == [
        "warning: endpoint 'vf_threshold_updown' (F day7): homogeneity of slopes rejected "
        "(p < 0.01): the ANCOVA's common slope does not fit, so its adjusted comparisons with "
        "control are unreliable; see the decision notes"]


def test_baseline_session_note_says_it_is_the_baseline(analysis):
    row = _note(analysis, "day-1")
    assert row["path"] != "ancova"
    assert row["note"].endswith(
        "ANCOVA (covariate: vf threshold updown baseline) not run: day-1 is the baseline "
        "session, whose values are the covariate itself; unadjusted comparisons")
    assert "fewer than 2 animals" not in row["note"]
