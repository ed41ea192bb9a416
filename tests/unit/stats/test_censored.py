"""Censored values: weighted log-rank tests against R's survival::survdiff, routing, analyse.

The reference numbers were computed with R 4.2.2, survival 3.5-3 (``survdiff(Surv(t, e) ~ g,
rho = rho)``; vs-control z from the two-group fit, ``(O - E)[2] / sqrt(V[2, 2])``; trend z =
``sum(c * (O - E)) / sqrt(c' V c)`` with c = 0, 1, 2). Left-censored data were given to R
negated (``Surv(-x, 1 - censored)``). Our statistics are positive when the treated group (or
the trend) lies higher on the original scale, so for right-censored data they are R's with
the sign changed.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError

from neurotox import endpoints, stats
from neurotox.stats import censored
from neurotox.stats.tree import compare_to_control
from neurotox.study import CensoredPlan, Group, StatisticsPlan

LAT = np.array([5.1, 7.2, 9.0, 20, 20, 12.5, 6.3, 8.8, 11.0, 14.2, 20, 20, 20, 9.0, 15.5,
                16.1, 20, 20, 20, 20, 13.3, 18.0])
RIGHT = [LAT[:7], LAT[7:15], LAT[15:]]
RIGHT_CENS = [x >= 20 for x in RIGHT]

# R: survdiff; chisq, O-E, V, trend z, pair z (R's orientation)
R_RIGHT = {
    0.0: dict(chisq=3.1536666719, u=[2.2584449907, 0.3004286649, -2.5588736556],
              v=[[2.1126931842, -0.9881746573, -1.1245185269],
                 [-0.9881746573, 2.9517940253, -1.9636193680],
                 [-1.1245185269, -1.9636193680, 3.0881378949]],
              trend=-1.7649446142, pair=[-0.8876871600, -1.6644472791]),
    1.0: dict(chisq=5.0856472972, u=[2.2727272727, 0.0454545455, -2.3181818182],
              v=[[1.2611813320, -0.6233592611, -0.6378220710],
                 [-0.6233592611, 1.6878949927, -1.0645357316],
                 [-0.6378220710, -1.0645357316, 1.7023578026]],
              trend=-2.2297573098, pair=[-1.2608576749, -1.9964423334]),
}

LLOQ = np.array([1.0, 1.0, 1.4, 2.2, 3.1, 1.9, 1.0, 1.0, 1.0, 1.2, 1.6, 1.1,
                 1.0, 1.0, 1.0, 1.0, 1.3, 1.0])
LEFT_CENS_FLAT = np.array([1, 1, 0, 0, 0, 0, 1, 1, 1, 0, 0, 0, 1, 1, 1, 1, 0, 1], bool)
LEFT = [LLOQ[i:i + 6] for i in (0, 6, 12)]
LEFT_CENS = [LEFT_CENS_FLAT[i:i + 6] for i in (0, 6, 12)]


@pytest.mark.parametrize("rho", [0.0, 1.0])
def test_weighted_logrank_equals_survdiff(rho):
    ref = R_RIGHT[rho]
    u, v = censored.weighted_logrank(RIGHT, RIGHT_CENS, rho=rho)
    np.testing.assert_allclose(u, ref["u"], atol=1e-9)
    np.testing.assert_allclose(v, ref["v"], atol=1e-9)
    chi2, p, df = censored.k_sample(RIGHT, RIGHT_CENS, rho=rho)
    assert df == 2 and chi2 == pytest.approx(ref["chisq"], abs=1e-9)
    assert censored.trend(RIGHT, RIGHT_CENS, rho=rho).statistic == \
        pytest.approx(-ref["trend"], abs=1e-9)
    comp = censored.vs_control(RIGHT, RIGHT_CENS, rho=rho)
    np.testing.assert_allclose(comp.statistic, -np.array(ref["pair"]), atol=1e-9)
    assert comp.test == ("Peto-Prentice" if rho else "log-rank")


def test_left_censored_equals_survdiff_on_negated_values():
    chi2, _, _ = censored.k_sample(LEFT, LEFT_CENS, side="left")
    assert chi2 == pytest.approx(5.2376015635, abs=1e-9)
    tr = censored.trend(LEFT, LEFT_CENS, side="left", alternative="less")
    assert tr.statistic == pytest.approx(-2.2101334626, abs=1e-9)  # falls with dose
    assert tr.p_value == pytest.approx(0.5 * 0.027097, rel=1e-3)
    comp = censored.vs_control(LEFT, LEFT_CENS, side="left", alternative="less")
    np.testing.assert_allclose(comp.statistic, [-1.3474430737, -2.0083160442], atol=1e-9)
    raw = comp.extra["p_unadjusted"]
    np.testing.assert_allclose(comp.p_value, [max(raw) , 2 * min(raw)])  # Holm, 2 tests


@pytest.mark.parametrize("n_left, n_right, policy, expected", [
    (0, 0, "half", "none"),
    (0, 3, "half", "test"),
    (1, 3, "half", "test"),
    (2, 0, "half", "substitute"),       # 2/20 = 10 % <= 20 %
    (2, 0, "exclude", "exclude"),
    (2, 0, "rank", "test"),
    (5, 0, "half", "test"),             # 25 % > 20 %
    (4, 0, "sqrt2", "substitute"),      # exactly 20 % is not above
])
def test_stratum_mode(n_left, n_right, policy, expected):
    assert censored.stratum_mode(n_left, n_right, 20, policy, 0.2) == expected


@pytest.mark.parametrize("per_group, threshold, expected", [
    ([4, 0, 0, 0], 0.2, "test"),        # 4/20 = 20 % of the stratum, but 80 % of the control
    ([0, 0, 0, 2], 0.2, "test"),        # 40 % of one treated group
    ([1, 1, 1, 1], 0.2, "substitute"),  # 20 % of every group: none above
    ([3, 0, 0, 0], 0.9, "test"),        # more than half of a group, whatever the threshold
    ([2, 0, 0, 0], 0.9, "substitute"),  # 40 %: not above half nor 90 %
])
def test_stratum_mode_judges_each_group(per_group, threshold, expected):
    assert censored.stratum_mode(per_group, 0, [5] * 4, "half", threshold) == expected
    assert censored.stratum_mode(per_group, 0, [5] * 4, "exclude", threshold) == \
        ("exclude" if expected == "substitute" else expected)


# A control 4 of 5 < LLOQ (limits 60 and 120 pg/mL: two dilutions), treated groups quantified;
# modelled on the tester's cytokine case (stranger44 C1). 4/20 = 20 % of the stratum.
C1_VALUES = [np.array([60, 120, 60, 120, 91.58]),
             np.array([89.61, 205.03, 82.84, 215.45, 187.28]),
             np.array([117.86, 77.60, 90.53, 103.54, 202.09]),
             np.array([610.28, 190.80, 330.27, 189.16, 629.72])]
C1_CODES = [np.array(["left"] * 4 + ["none"]), *[np.full(5, "none")] * 3]
# R 4.2.2, survival: survdiff(Surv(-v, 1 - cens) ~ g, rho = 1); pair z = (O - E)[2] /
# sqrt(V[2, 2]) of the two-group fit (positive: treated higher); trend scores 0:3.
# On log(limit/2) Dunnett (multcomp glht) gave p 0.0084 / 0.0448 for G2 / G3, on log(limit)
# 0.217 / 0.701: the substitute made the call.
R_C1 = dict(chisq=15.7209301323, trend=3.1677287498,
            z=[1.9477120874, 1.7138107407, 2.8867513459],
            holm=[0.1028988459, 0.1028988459, 0.0116772514])


def test_a_mostly_censored_control_takes_the_rank_path():
    out = compare_to_control(C1_VALUES, censoring=C1_CODES, log_transform=True,
                             doses=[0, 3, 10, 30], names=["G1", "G2", "G3", "G4"])
    d = out.decision
    assert d["path"] == "censored" and d["pairwise_test"] == "Peto-Prentice"
    assert d["censoring"] == ("4 of 20 values left-censored: censoring-aware rank test (G1: 4 "
                              "of 5 values left-censored (80%, > 20% of a group; the "
                              "substitute would decide its mean))")
    assert d["overall_statistic"] == pytest.approx(R_C1["chisq"], abs=1e-9)
    np.testing.assert_allclose(out.statistic[1:], R_C1["z"], atol=1e-9)
    np.testing.assert_allclose(out.p_value[1:], R_C1["holm"], rtol=1e-7)
    assert d["trend_statistic"] == pytest.approx(R_C1["trend"], abs=1e-9)
    table = _table(C1_VALUES, C1_CODES, endpoint="cxcl10", assay="neurochem", unit="pg/mL",
                   category="neurochemical", groups=C1_GROUPS)
    a = stats.analyse(table, StatisticsPlan(log_transform=["cxcl10"]), C1_GROUPS)
    assert a.decisions.iloc[0]["path"] == "censored"
    np.testing.assert_allclose(a.results["statistic"][1:], R_C1["z"], atol=1e-9)
    assert "G1: 4 of 5 values left-censored" in a.decisions.iloc[0]["censoring"]


def test_gehan_mantel_equals_coin_gehan_breslow():
    # R coin 1.4-2: statistic(logrank_test(Surv(t, e) ~ g, type = "Gehan-Breslow")) on the
    # first two groups: -1.238584236 (coin orients it the other way round)
    two = RIGHT[:2]
    right = RIGHT_CENS[:2]
    left = [np.zeros(x.size, bool) for x in two]
    comp = censored.gehan_vs_control(two, left, right)
    assert comp.statistic[0] == pytest.approx(1.238584236, abs=1e-9)
    mirrored = censored.gehan_vs_control([-x for x in two], right, left)
    assert mirrored.statistic[0] == pytest.approx(-1.238584236, abs=1e-9)


def test_gehan_scores_count_definitely_lower_minus_higher():
    # 1 (<2: at most 2), 3, 5, 9 (>8: at least 8)
    v = np.array([2.0, 3.0, 5.0, 8.0])
    left, right = np.array([1, 0, 0, 0], bool), np.array([0, 0, 0, 1], bool)
    np.testing.assert_array_equal(censored.gehan_scores(v, left, right), [-3, -1, 1, 3])
    # "< 4" is not definitely below 3: that pair is tied
    v = np.array([4.0, 3.0, 5.0])
    np.testing.assert_array_equal(censored.gehan_scores(v, np.array([1, 0, 0], bool),
                                                        np.zeros(3, bool)), [-1, -1, 2])


def test_both_sides_in_one_stratum_use_gehan():
    groups = [np.array([0.5, 1.0, 1.4, 2.0, 6.0]), np.array([0.02, 0.02, 0.3, 0.6, 0.9])]
    codes = [np.array(["none"] * 4 + ["right"]), np.array(["left", "left"] + ["none"] * 3)]
    out = compare_to_control(groups, censoring=codes)
    assert out.decision["path"] == "censored" and out.decision["pairwise_test"] == "Gehan-Mantel"
    assert out.decision["censoring"].startswith("2 left- and 1 right-censored of 10 values")
    # hand count: scores of the treated values are all negative -> z < 0
    assert out.statistic[1] < 0


@pytest.mark.parametrize("policy, factor", [("bound", 1.0), ("half", 0.5),
                                            ("sqrt2", 2 ** -0.5)])
def test_substitution(policy, factor):
    out = censored.substituted(np.array([3.2, 5.0]), np.array([True, False]), policy)
    np.testing.assert_allclose(out, [3.2 * factor, 5.0])


def test_tree_routes_right_censoring_to_the_rank_path():
    codes = [np.where(c, "right", "none") for c in RIGHT_CENS]
    out = compare_to_control(RIGHT, censoring=codes, log_transform=True)
    d = out.decision
    assert d["path"] == "censored" and d["pairwise_test"] == "Peto-Prentice"
    assert d["transform"] == "none"  # ranks need no transform
    assert d["overall_statistic"] == pytest.approx(5.0856472972, abs=1e-9)
    assert d["trend_test"].startswith("Tarone trend")
    assert d["censoring"].startswith("9 of 22 values right-censored")
    np.testing.assert_allclose(out.statistic[1:], [1.2608576749, 1.9964423334], atol=1e-9)


def test_tree_substitutes_a_small_left_censored_share():
    rng = np.random.default_rng(3)
    groups = [rng.normal(10, 1, 10) for _ in range(3)]
    groups[1][0] = 2.0
    codes = [np.full(10, "none") for _ in range(3)]
    codes[1][0] = "left"
    plain = [g.copy() for g in groups]
    plain[1][0] = 1.0  # half of the limit 2.0
    out = compare_to_control(groups, censoring=codes)
    ref = compare_to_control(plain)
    np.testing.assert_allclose(out.p_value, ref.p_value)
    assert out.decision["path"] == ref.decision["path"]
    assert out.decision["censoring"] == ("1 of 30 values left-censored: set to limit/2 "
                                         "(policy half)")
    plan = StatisticsPlan(censored=CensoredPlan(policy="exclude"))
    dropped = compare_to_control(groups, censoring=codes, plan=plan)
    ref = compare_to_control([groups[0], groups[1][1:], groups[2]])
    np.testing.assert_allclose(dropped.p_value, ref.p_value)


def test_plan_keys_are_closed_and_bounded():
    assert StatisticsPlan().censored == CensoredPlan(policy="half", rank_test_above=0.2)
    with pytest.raises(ValidationError, match="policy"):
        StatisticsPlan(censored={"policy": "halve"})
    with pytest.raises(ValidationError, match="rank_test_above"):
        StatisticsPlan(censored={"rank_test_above": 1.5})
    with pytest.raises(ValidationError, match="extra"):
        StatisticsPlan(censored={"polcy": "half"})


GROUPS = [Group(id="G1", label="Control", dose=0, dose_unit="mg/kg", control=True),
          Group(id="G2", label="Low", dose=1, dose_unit="mg/kg"),
          Group(id="G3", label="High", dose=3, dose_unit="mg/kg")]


C1_GROUPS = [*GROUPS, Group(id="G4", label="Top", dose=30, dose_unit="mg/kg")]


def _table(values, codes, endpoint="grip_strength_forelimb", assay="fob", unit="g",
           category="neurobehavioral", groups=GROUPS):
    rows = []
    for gi, (vals, cds) in enumerate(zip(values, codes, strict=True)):
        for i, (v, c) in enumerate(zip(vals, cds, strict=True)):
            g = groups[gi]
            rows.append({"study_id": "S1", "assay": assay, "category": category,
                         "endpoint": endpoint, "unit": unit, "subject": f"{g.id}-{i}",
                         "group": g.id, "dose": g.dose, "dose_unit": "mg/kg", "sex": "M",
                         "timepoint": "NA", "value": float(v), "excluded": False,
                         "exclusion_reason": "", "batch": "NA", "source": "test",
                         "censoring": c})
    return endpoints.validate(pd.DataFrame(rows))


def test_analyse_right_censored_stratum():
    codes = [np.where(c, "right", "none") for c in RIGHT_CENS]
    a = stats.analyse(_table(RIGHT, codes), StatisticsPlan(), GROUPS)
    dec = a.decisions.iloc[0]
    assert dec["path"] == "censored" and "right-censored" in dec["censoring"]
    r = a.results.set_index("group")
    assert list(r["n_censored"]) == [2, 3, 4]
    assert list(r["censoring"]) == ["right"] * 3
    assert list(r["censored_bound"]) == [20.0] * 3
    assert r.loc["G1", "mean"] == pytest.approx(RIGHT[0].mean())  # at the limit
    np.testing.assert_allclose(r["statistic"][1:], [1.2608576749, 1.9964423334], atol=1e-9)


def test_analyse_left_censored_policies():
    values = [LLOQ[i:i + 6] + 10 * (LLOQ[i:i + 6] > 1) for i in (0, 6, 12)]
    codes = [np.where(c, "left", "none") for c in LEFT_CENS]
    table = _table(values, codes)
    few = [c.copy() for c in codes]
    few[2][:2] = "none"   # G3 3 of 6 censored, not more than half: substitution allowed
    a = stats.analyse(_table(values, few), StatisticsPlan(censored={"policy": "half",
                                                                    "rank_test_above": 0.9}),
                      GROUPS)
    r = a.results.set_index("group")
    expected = np.where(LEFT_CENS[0], 0.5, values[0]).mean()
    assert r.loc["G1", "mean"] == pytest.approx(expected)
    assert a.decisions.iloc[0]["path"] in ("parametric", "nonparametric")
    a = stats.analyse(table, StatisticsPlan(censored={"policy": "half",
                                                      "rank_test_above": 0.9}), GROUPS)
    assert a.decisions.iloc[0]["censoring"].endswith(   # G3 5 of 6: more than half
        "(G3: 5 of 6 values left-censored (83%, more than half of a group; the substitute "
        "would decide its mean))")
    a = stats.analyse(table, StatisticsPlan(), GROUPS)  # 10/18 censored > 20 %: rank test
    assert a.decisions.iloc[0]["path"] == "censored"
    assert a.decisions.iloc[0]["censoring"] == ("10 of 18 values left-censored: censoring-aware "
                                                "rank test (censored fraction 56% > 20%)")
    r = a.results.set_index("group")
    assert r.loc["G3", "censored_bound"] == 1.0
    # the rank test ranks the limits, the means count them at the policy's limit/2 (as in
    # the substituted stratum above): G1 (0.5 + 0.5 + 11.4 + 12.2 + 13.1 + 11.9) / 6
    assert r.loc["G1", "mean"] == pytest.approx(49.6 / 6)
    assert list(r["min"]) == [0.5, 0.5, 0.5]
    z = censored.vs_control(values, LEFT_CENS, side="left").statistic
    np.testing.assert_allclose(r["statistic"][1:], z, atol=1e-12)
    a = stats.analyse(_table(values, few), StatisticsPlan(censored={"policy": "exclude",
                                                                    "rank_test_above": 1}),
                      GROUPS)
    r = a.results.set_index("group")
    assert list(r["n_excluded"]) == [2, 3, 3] and list(r["n"]) == [4, 3, 3]
    # each dropped value is an exclusion record (rule, reason, limit), as in the manifest
    assert [(x["subject"], x["limit"]) for x in a.exclusions] == [
        ("G1-0", 1.0), ("G1-1", 1.0), ("G2-0", 1.0), ("G2-1", 1.0), ("G2-2", 1.0),
        ("G3-2", 1.0), ("G3-3", 1.0), ("G3-5", 1.0)]
    assert {x["rule"] for x in a.exclusions} == {"censoring policy"}
    from neurotox.pipeline import policy_lines
    assert policy_lines(a.exclusions)[0] == (
        "fob, subject G1-0 (group G1): 1 value(s) of grip_strength_forelimb excluded — below "
        "the limit (left-censored); censoring policy exclude")
    assert "excluded from the tests (policy exclude)" in a.decisions.iloc[0]["censoring"]


def test_analyse_both_sides_in_one_endpoint():
    codes = [np.array(["left"] + ["none"] * 6), np.array(["right"] + ["none"] * 7),
             np.full(7, "none")]
    a = stats.analyse(_table(RIGHT, codes), StatisticsPlan(), GROUPS)
    assert a.decisions.iloc[0]["pairwise_test"] == "Gehan-Mantel"
    r = a.results.set_index("group")
    assert list(r["censoring"]) == ["left", "right", ""]


def test_uncensored_tables_are_unchanged():
    rng = np.random.default_rng(1)
    values = [rng.normal(50, 5, 8) for _ in range(3)]
    codes = [np.full(8, "none")] * 3
    table = _table(values, codes)
    a = stats.analyse(table.drop(columns="censoring"), StatisticsPlan(), GROUPS)
    b = stats.analyse(table, StatisticsPlan(), GROUPS)
    pd.testing.assert_frame_equal(a.results, b.results)
    assert (b.results["n_censored"] == 0).all() and (b.decisions["censoring"] == "").all()


def test_optional_baseline_covariate_absent_means_no_ancova():
    # cipn thresholds name a covariate_only baseline twin; without it: no ANCOVA, no note
    rng = np.random.default_rng(2)
    values = [rng.normal(5.0, 0.5, 6) for _ in range(3)]
    table = _table(values, [np.full(6, "none")] * 3, endpoint="evf_threshold", assay="cipn")
    dec = stats.analyse(table, StatisticsPlan(), GROUPS).decisions.iloc[0]
    assert dec["path"] in ("parametric", "nonparametric") and "ANCOVA" not in dec["note"]
    twin = table[table["endpoint"] == "evf_threshold"].assign(
        endpoint="evf_threshold_baseline", value=rng.normal(5.0, 0.5, 18))
    both = pd.concat([table, twin], ignore_index=True)
    dec = stats.analyse(both, StatisticsPlan(), GROUPS).decisions
    assert dec.set_index("endpoint").loc["evf_threshold", "path"] == "ancova"
    assert "evf_threshold_baseline" not in set(dec["endpoint"])  # covariate only


def test_mixed_model_row_counts_censored_values_of_both_sides():
    rng = np.random.default_rng(4)
    parts = []
    for tp in ("bin1", "bin2"):
        values = [rng.normal(100, 10, 6) for _ in range(3)]
        codes = [np.full(6, "none", dtype=object) for _ in range(3)]
        codes[1][0] = "left" if tp == "bin1" else "right"
        t = _table(values, codes, endpoint="motor_activity_counts", assay="motor_activity",
                   unit="count")
        parts.append(t.assign(timepoint=tp))
    table = pd.concat(parts, ignore_index=True)
    dec = stats.analyse(table, StatisticsPlan(), GROUPS).decisions
    row = dec[dec["timepoint"] == "ALL"].iloc[0]
    assert row["censoring"] == (
        "1 left-censored value(s) entered the mixed model as in the summary statistics; "
        "1 right-censored value(s) entered the mixed model at their limit (a lower bound); "
        "the per-timepoint tests respect the censoring")
