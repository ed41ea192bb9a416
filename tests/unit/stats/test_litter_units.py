"""Litters as the unit (``litter_unit: means``): every test reads the litter rows the tables show.

Reference numbers from R 4 on the litter means of the table below
(``m <- aggregate(value ~ batch + group, data = pups, FUN = mean)``; incidence:
``FUN = max``): ``aov``, ``shapiro.test(residuals(fit))``, Levene (median) as
``anova(lm(abs(value - group median) ~ group))``, ``multcomp::glht(fit,
mcp(group = "Dunnett"))``, ``kruskal.test``, Dunn by hand with the tie correction,
``fisher.test`` and ``prop.trend.test`` (z = sqrt of its chi-square). Before the
fix the tests ran on the first pup of each litter (R on those: ANOVA F 3.0804744531,
ordinal KW 0.7448395490) while n, mean and SD were the litter means.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from neurotox import endpoints, stats
from neurotox.errors import InputError
from neurotox.stats.units import litter_units
from neurotox.study import Group, StatisticsPlan

GROUPS = [Group(id="G1", label="Control", dose=0, dose_unit="mg/kg/day", control=True),
          Group(id="G2", label="Low", dose=10, dose_unit="mg/kg/day"),
          Group(id="G3", label="Mid", dose=30, dose_unit="mg/kg/day"),
          Group(id="G4", label="High", dose=100, dose_unit="mg/kg/day")]

# Per group, pups in litter order: litter 1 pup 1, litter 1 pup 2, litter 2 pup 1, ...
PUPS = {
    "grip_strength_forelimb": {
        "G1": [104.9, 98.6, 103.9, 98.8, 93.2, 88.9, 81.1, 77.2, 104.4, 99.4],
        "G2": [82.8, 86.1, 101.0, 92.0, 89.0, 82.5, 76.8, 88.4, 88.3, 97.4],
        "G3": [78.5, 84.2, 99.0, 99.0, 70.2, 85.2, 84.6, 92.0, 79.2, 80.6],
        "G4": [107.2, 100.6, 92.6, 82.5, 88.6, 75.4, 95.3, 96.3, 100.4, 93.5]},
    "fob_arousal": {
        "G1": [4, 3, 4, 4, 3, 3, 1, 2, 3, 5], "G2": [3, 3, 3, 3, 3, 3, 3, 3, 5, 3],
        "G3": [2, 4, 5, 6, 2, 2, 4, 5, 2, 3], "G4": [5, 4, 3, 3, 3, 3, 3, 4, 3, 6]},
    "fob_tremors": {
        "G1": [0, 0, 0, 0, 0, 1, 0, 1, 1, 0], "G2": [0, 0, 0, 0, 0, 0, 0, 0, 1, 0],
        "G3": [0, 0, 0, 0, 1, 0, 1, 0, 1, 1], "G4": [1, 0, 0, 1, 1, 1, 1, 1, 1, 1]},
}
UNITS = {"grip_strength_forelimb": "g", "fob_arousal": "score", "fob_tremors": "incidence"}


def _pups() -> pd.DataFrame:
    rows = []
    for ep, by_group in PUPS.items():
        for g in GROUPS:
            for i, v in enumerate(by_group[g.id]):
                litter = f"L{g.id[1]}{i // 2 + 1}"
                rows.append({"study_id": "S1", "assay": "fob", "category": "neurobehavioral",
                             "endpoint": ep, "unit": UNITS[ep], "subject": f"{litter}P{i % 2 + 1}",
                             "group": g.id, "dose": g.dose, "dose_unit": "mg/kg/day", "sex": "M",
                             "timepoint": "PND21", "value": float(v), "excluded": False,
                             "exclusion_reason": "", "batch": litter, "source": "test"})
    return endpoints.validate(pd.DataFrame(rows))


@pytest.fixture(scope="module")
def analysis():
    return stats.analyse(_pups(), StatisticsPlan(litter_unit="means"), GROUPS)


def _part(a, endpoint):
    return (a.results[a.results["endpoint"] == endpoint].reset_index(drop=True),
            a.decisions[a.decisions["endpoint"] == endpoint].iloc[0])


def test_continuous_tests_run_on_the_litter_means(analysis):
    r, d = _part(analysis, "grip_strength_forelimb")
    assert r["n"].tolist() == [5, 5, 5, 5]
    assert r["mean"].tolist() == pytest.approx([95.04, 88.43, 85.25, 93.24], rel=1e-12)
    assert r["sd"].tolist() == pytest.approx([10.003899240, 5.951323382, 8.648699324,
                                              8.553756485], rel=1e-9)
    assert d["path"] == "parametric"
    assert d["normality_statistic"] == pytest.approx(0.9681191012, rel=1e-9)
    assert d["normality_p"] == pytest.approx(0.7147643506, rel=1e-7)
    assert d["homogeneity_statistic"] == pytest.approx(0.0959260150, rel=1e-8)
    assert d["overall_statistic"] == pytest.approx(1.4103239811, rel=1e-9)
    assert d["overall_p"] == pytest.approx(0.2762929045, rel=1e-8)
    assert r["statistic"][1:].tolist() == pytest.approx([-1.2415187130, -1.8388000303,
                                                         -0.3380837645], rel=1e-9)
    assert r["p_value"][1:].tolist() == pytest.approx([0.479215, 0.197489, 0.973706], abs=1e-3)


def test_dunnett_t_follows_from_the_tabulated_n_mean_sd(analysis):
    """The rows' own n, mean and SD give the test's t: tests and tables share their units."""
    r, _ = _part(analysis, "grip_strength_forelimb")
    n, m, sd = r["n"].to_numpy(float), r["mean"].to_numpy(), r["sd"].to_numpy()
    s = np.sqrt(((n - 1) * sd ** 2).sum() / (n.sum() - len(n)))
    t = (m[1:] - m[0]) / (s * np.sqrt(1 / n[1:] + 1 / n[0]))
    assert r["statistic"][1:].to_numpy() == pytest.approx(t, rel=1e-12)


def test_ordinal_scores_are_ranked_as_litter_means(analysis):
    r, d = _part(analysis, "fob_arousal")
    assert r["mean"].tolist() == pytest.approx([3.2, 3.2, 3.5, 3.7], rel=1e-12)
    assert d["overall_test"] == "Kruskal-Wallis"
    assert d["overall_statistic"] == pytest.approx(1.1274050121, rel=1e-9)
    assert d["overall_p"] == pytest.approx(0.7704628608, rel=1e-8)
    assert r["statistic"][1:].tolist() == pytest.approx([-0.33255095464, -0.02771257955,
                                                         0.69281448882], rel=1e-9)


def test_incidence_counts_litters_with_an_affected_pup(analysis):
    """Never a rounded sum of litter fractions (G2 was shown 0/5 with one affected pup)."""
    r, d = _part(analysis, "fob_tremors")
    assert r["n_affected"].tolist() == [3, 1, 3, 5]
    assert r["n_examined"].tolist() == [5, 5, 5, 5]
    assert r["incidence_pct"].tolist() == pytest.approx([60, 20, 60, 100])
    assert r["mean"].tolist() == pytest.approx([0.6, 0.2, 0.6, 1.0])
    assert d["path"] == "incidence"
    assert r["p_value"][1:].tolist() == pytest.approx([0.5238095238, 1.0, 0.4444444444],
                                                      rel=1e-9)
    assert r["trend_statistic"][0] == pytest.approx(2.103861, rel=1e-6)


def test_pups_without_litter_stay_units_of_their_own():
    rows = pd.DataFrame({"group": ["G1"] * 4, "batch": ["L1", "L1", "NA", "NA"],
                         "subject": ["a", "b", "c", "d"], "value": [1.0, 3.0, 5.0, 7.0]})
    out = litter_units(rows, ["group"])
    assert out["subject"].tolist() == ["L1", "c", "d"]
    assert out["value"].tolist() == [2.0, 5.0, 7.0]


def test_a_litter_with_a_censored_pup_is_censored_at_the_mean_bound():
    rows = pd.DataFrame({"group": ["G1"] * 4, "batch": ["L1", "L1", "L2", "L2"],
                         "subject": list("abcd"), "value": [2.0, 10.0, 6.0, 8.0],
                         "_limit": [2.0, 10.0, 6.0, 8.0],
                         "censoring": ["left", "none", "none", "none"]})
    out = litter_units(rows, ["group"])
    assert out["censoring"].tolist() == ["left", "none"]
    assert out["_limit"].tolist() == [6.0, 7.0]


def test_a_litter_censored_on_both_sides_is_refused():
    rows = pd.DataFrame({"endpoint": ["il6"] * 2, "group": ["G2"] * 2, "batch": ["L7"] * 2,
                         "subject": ["a", "b"], "value": [2.0, 90.0],
                         "censoring": ["left", "right"]})
    with pytest.raises(InputError, match=r"^column 'censoring': litter means: a litter holds "
                       r"left- and right-censored pups, so its mean has no bound \(endpoint "
                       r"'il6', group 'G2', batch 'L7'\); analyse pups with litter_unit: mixed$"):
        litter_units(rows, ["endpoint", "group"])


def test_left_censored_pups_are_substituted_before_the_litter_means():
    """Policy half per pup (2 of 40 pups < 90), then litter means; R: aov F 0.6787835297."""
    t = _pups()
    t = t[t["endpoint"] == "grip_strength_forelimb"].copy()
    t["censoring"] = "none"
    low = t["subject"].isin(["L11P1", "L21P2"])
    t.loc[low, ["value", "censoring"]] = [90.0, "left"]
    a = stats.analyse(t, StatisticsPlan(litter_unit="means", censored={"policy": "half"}),
                      GROUPS)
    d = a.decisions.iloc[0]
    assert a.results["mean"].tolist() == pytest.approx([89.05, 84.32, 85.25, 93.24], rel=1e-12)
    assert d["overall_statistic"] == pytest.approx(0.6787835297, rel=1e-9)
    assert d["censoring"] == ("2 of 40 pup values left-censored: set to limit/2 (policy half) "
                              "before the litter means")


def test_litters_over_the_rank_threshold_keep_their_censoring():
    """20 of 40 pups < 90 (left-censored at 90): the censoring-aware test on the litter means.

    R: litter bound = mean of the pups with the censored ones at 90, censored when any
    pup is; ``survdiff(Surv(-bound, !left) ~ g, rho = 1)`` chisq 4.23067273192. The
    means count each censored pup at 45 (policy half) before the litter mean.
    """
    t = _pups()
    t = t[t["endpoint"] == "grip_strength_forelimb"].copy()
    low = t["value"] < 90
    t["censoring"] = np.where(low, "left", "none")
    t.loc[low, "value"] = 90.0
    a = stats.analyse(t, StatisticsPlan(litter_unit="means", censored={"policy": "half"}),
                      GROUPS)
    d = a.decisions.iloc[0]
    assert d["path"] == "censored"
    assert d["overall_statistic"] == pytest.approx(4.23067273192, rel=1e-9)
    assert a.results["mean"].tolist() == pytest.approx([83.82, 60.54, 60.50, 82.09], rel=1e-12)
