"""Values derived by arithmetic are tested at the precision they are written with.

Grip strength as the mean of two trials: (5.8 + 6.1) / 2 is 5.949999999999999 in
floating point, (5.9 + 6.0) / 2 is 5.95. The table prints both as 5.95; the rank
tests must treat them as the tie they are. Reference: R 4 on the decimal values,
``kruskal.test(x ~ g)`` and Dunn's z with the tie-corrected variance, Holm over the
three comparisons with control (script in the comment of each number).
"""

import io

import numpy as np
import pandas as pd
import pytest

from neurotox import endpoints, stats
from neurotox.study import Group, StatisticsPlan

GROUPS = [Group(id="G1", label="Control", dose=0, dose_unit="mg/kg/day", control=True),
          Group(id="G2", label="Low", dose=10, dose_unit="mg/kg/day"),
          Group(id="G3", label="Mid", dose=30, dose_unit="mg/kg/day"),
          Group(id="G4", label="High", dose=100, dose_unit="mg/kg/day")]
TRIALS = {"G1": [(5.8, 6.1), (5.9, 6.0), (5.7, 6.2), (6.3, 5.6), (6.4, 6.8), (7.1, 6.9)],
          "G2": [(5.9, 6.0), (5.6, 6.3), (6.8, 6.4), (6.6, 6.6), (7.3, 7.5), (6.0, 5.9)],
          "G3": [(6.6, 6.6), (6.8, 6.4), (7.0, 7.6), (7.5, 7.3), (8.1, 7.7), (6.7, 6.5)],
          "G4": [(7.5, 7.3), (7.7, 8.1), (8.4, 8.2), (7.0, 7.6), (8.9, 8.5), (7.4, 7.4)]}
DOSE = {g.id: g.dose for g in GROUPS}


def _raw() -> pd.DataFrame:
    rows = [{"study_id": "S1", "assay": "fob", "category": "neurobehavioral",
             "endpoint": "grip_strength_forelimb", "unit": "g", "subject": f"{g}-{i}",
             "group": g, "dose": DOSE[g], "dose_unit": "mg/kg/day", "sex": "M",
             "timepoint": "NA", "value": (a + b) / 2, "excluded": False,
             "exclusion_reason": "", "batch": "NA", "source": "test"}
            for g, pairs in TRIALS.items() for i, (a, b) in enumerate(pairs)]
    return pd.DataFrame(rows)


def test_mean_of_two_trials_carries_float_noise():
    raw = _raw()["value"]
    assert (raw == 5.95).sum() == 4 and np.isclose(raw, 5.95).sum() == 7


def test_validated_values_are_the_written_ones():
    t = endpoints.validate(_raw())
    assert (t["value"] == 5.95).sum() == 7
    assert t["value"].tolist() == endpoints.validate(t)["value"].tolist()   # idempotent
    back = pd.read_csv(io.StringIO(t.to_csv(index=False,
                                            float_format=f"%.{endpoints.VALUE_DIGITS}g")))
    assert back["value"].tolist() == t["value"].tolist()


def test_rank_tests_see_the_ties_as_r_does():
    plan = StatisticsPlan(force_path="nonparametric", trend_test=False)
    a = stats.analyse(endpoints.validate(_raw()), plan, GROUPS)
    d = a.decisions.iloc[0]
    assert d["overall_statistic"] == pytest.approx(13.9671521772, rel=1e-9)   # kruskal.test
    assert d["overall_p"] == pytest.approx(0.00295020694201, rel=1e-8)
    r = a.results.set_index("group")
    assert r.loc[["G2", "G3", "G4"], "statistic"].tolist() == pytest.approx(
        [0.459479298679, 1.942344308050, 3.362553049420], rel=1e-9)      # Dunn z
    assert r.loc[["G2", "G3", "G4"], "p_value"].tolist() == pytest.approx(
        [0.6458900145457, 0.1041908649547, 0.0023167585902], rel=1e-8)   # Holm
