"""stats.analyse: the results/decisions contract with the report renderer."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from neurotox import endpoints, stats
from neurotox.endpoints import Endpoint
from neurotox.errors import InputError
from neurotox.stats._common import flag
from neurotox.stats.analysis import dropped_transforms
from neurotox.study import Group, StatisticsPlan

GROUPS = [Group(id="G1", label="Control", dose=0, dose_unit="mg/kg/day", control=True),
          Group(id="G2", label="Low", dose=10, dose_unit="mg/kg/day"),
          Group(id="G3", label="Mid", dose=30, dose_unit="mg/kg/day"),
          Group(id="G4", label="High", dose=100, dose_unit="mg/kg/day")]

EXTRA = {
    "ataxia": Endpoint(name="ataxia", assays=("fob",), unit="score", data_type="incidence",
                       direction="increase", categories=("neurobehavioral",),
                       description="Ataxia present."),
    "gait_score": Endpoint(name="gait_score", assays=("fob",), unit="score",
                           data_type="ordinal", direction="increase",
                           categories=("neurobehavioral",), description="Gait score."),
}


def _registry():
    return {**endpoints.registry(), **EXTRA}


def _table(rows):
    base = {"study_id": "S1", "category": "neurobehavioral", "dose_unit": "mg/kg/day",
            "timepoint": "NA", "excluded": False, "exclusion_reason": "", "batch": "NA",
            "source": "test"}
    dose = {g.id: g.dose for g in GROUPS}
    return pd.DataFrame([{**base, "dose": dose[r["group"]], **r} for r in rows])


def _grip(values_by_group, sex="M", endpoint="grip_strength_forelimb", assay="fob", unit="g"):
    rows = []
    for g, vals in values_by_group.items():
        for i, v in enumerate(vals):
            rows.append({"assay": assay, "endpoint": endpoint, "unit": unit,
                         "subject": f"{sex}{g}{i}", "group": g, "sex": sex, "value": v})
    return rows


@pytest.fixture
def grip():
    rng = np.random.default_rng(7)
    vals = {g.id: 100 - 8 * k + rng.normal(0, 5, 10) for k, g in enumerate(GROUPS)}
    return endpoints.validate(_table(_grip(vals) + _grip(vals, sex="F")))


def test_columns_and_one_row_per_cell(grip):
    a = stats.analyse(grip, StatisticsPlan(), GROUPS)
    assert list(a.results.columns) == stats.RESULT_COLUMNS
    assert list(a.decisions.columns) == stats.DECISION_COLUMNS
    assert len(a.results) == 8 and len(a.decisions) == 2
    ctrl = a.results[a.results["is_control"]]
    assert (ctrl["test"] == "").all() and ctrl["p_value"].isna().all()
    assert (a.results["group"].tolist()[:4] == ["G1", "G2", "G3", "G4"])


def test_values_match_direct_calls(grip):
    a = stats.analyse(grip, StatisticsPlan(sided="one"), GROUPS)
    m = a.results[a.results["sex"] == "M"]
    samples = [grip[(grip.sex == "M") & (grip.group == g.id)]["value"].to_numpy()
               for g in GROUPS]
    d = stats.dunnett(samples[0], *samples[1:], alternative="less")
    assert a.decisions.iloc[0]["path"] == "parametric"
    np.testing.assert_allclose(m["statistic"].to_numpy()[1:], d.statistic)
    np.testing.assert_allclose(m["p_value"].to_numpy()[1:], d.p_value)
    assert m["mean"].iloc[1] == pytest.approx(samples[1].mean())
    assert m["sd"].iloc[1] == pytest.approx(samples[1].std(ddof=1))
    assert m["percent_of_control"].iloc[3] == pytest.approx(
        100 * samples[3].mean() / samples[0].mean())
    assert list(m["direction"]) == ["", "down", "down", "down"]
    assert m["flag"].iloc[3] == "**"
    assert a.decisions.iloc[0]["sided"] == "one"
    assert (m["trend_test"] == "Williams").all()
    w = stats.williams(samples, alternative="less")
    # step-down adjusted: each dose's p is the largest of it and the higher doses
    np.testing.assert_allclose(m["trend_p"].to_numpy()[1:],
                               np.maximum.accumulate(w.per_dose_p[::-1])[::-1])


WILLIAMS_STEP = [[11.6, 10.7, 9.0, 9.8, 9.7, 12.4, 9.1, 11.4],
                 [11.7, 12.6, 11.6, 12.0, 12.1, 11.7, 12.3, 11.9],
                 [12.6, 13.2, 11.3, 11.2, 11.8, 9.7, 11.7, 10.9]]


def test_williams_prints_the_step_down_p_its_flag_is_read_from():
    # low dose alone p 0.0049, top dose 0.0152: the 1 % step-down stops at the top,
    # so the low dose is "*" and its printed p is 0.0152, not 0.0049 with one star
    rows = _grip(dict(zip(["G1", "G2", "G3"], WILLIAMS_STEP, strict=True)))
    a = stats.analyse(_table(rows), StatisticsPlan(), GROUPS[:3])
    m = a.results
    w = stats.williams([np.array(v) for v in WILLIAMS_STEP], alternative="two-sided")
    np.testing.assert_allclose(w.per_dose_p, [0.00489773, 0.01522567], rtol=1e-5)
    np.testing.assert_allclose(m["trend_p"].to_numpy()[1:], [w.per_dose_p[1]] * 2)
    assert list(m["trend_flag"]) == ["", "*", "*"]
    assert a.decisions.iloc[0]["trend_p"] == pytest.approx(w.per_dose_p[1])


@pytest.mark.parametrize("seed", range(6))
def test_trend_flags_are_read_from_the_printed_p(seed):
    rng = np.random.default_rng(seed)
    vals = {g.id: 10 + 0.6 * k + rng.normal(0, 1, 8) for k, g in enumerate(GROUPS)}
    m = stats.analyse(_table(_grip(vals)), StatisticsPlan(), GROUPS).results.iloc[1:]
    assert list(m["trend_flag"]) == [flag(p, 0.05) for p in m["trend_p"]]
    assert np.all(np.diff(m["trend_p"].to_numpy()) <= 0)  # never below a higher dose's


def test_excluded_rows_never_enter(grip):
    t = grip.copy()
    i = t.index[(t.group == "G2") & (t.sex == "M")][0]
    t.loc[i, ["value", "excluded", "exclusion_reason"]] = [1e6, True, "outlier"]
    a = stats.analyse(t, StatisticsPlan(), GROUPS)
    row = a.results[(a.results.sex == "M") & (a.results.group == "G2")].iloc[0]
    assert row["n"] == 9 and row["n_excluded"] == 1 and row["max"] < 1000


def test_pool_sexes(grip):
    a = stats.analyse(grip, StatisticsPlan(pool_sexes=True), GROUPS)
    assert set(a.results["sex"]) == {"NA"} and (a.results["n"] == 20).all()


def test_insufficient_data_never_crashes():
    rows = _grip({"G1": [1.0], "G2": [2.0, 3.0], "G3": [4.0, 5.0]})
    rows += _grip({"G2": [2.0, 3.0], "G3": [4.0, 5.0]}, sex="F")
    a = stats.analyse(_table(rows), StatisticsPlan(), GROUPS)
    assert list(a.decisions["path"]) == ["insufficient_data"] * 2
    assert "control has n=1" in a.decisions.iloc[0]["note"]
    assert "no control" in a.decisions.iloc[1]["note"]
    assert a.results["p_value"].isna().all()


def test_treated_group_with_one_value_is_not_tested():
    rows = _grip({"G1": [1.0, 2.0, 3.0], "G2": [2.0, 3.0, 4.5], "G3": [9.0]})
    a = stats.analyse(_table(rows), StatisticsPlan(), GROUPS)
    r = a.results
    assert r.loc[r.group == "G3", "test"].item() == ""
    assert r.loc[r.group == "G2", "test"].item() == "Dunnett"
    assert "not tested" in a.decisions.iloc[0]["note"]


def test_incidence_path():
    inc = {"G1": [0] * 9 + [1], "G2": [0] * 8 + [1] * 2, "G3": [0] * 5 + [1] * 5,
           "G4": [0] * 2 + [1] * 8}
    rows = _grip(inc, endpoint="ataxia", unit="score")
    a = stats.analyse(_table(rows), StatisticsPlan(sided="one"), GROUPS, registry=_registry())
    r, d = a.results, a.decisions.iloc[0]
    assert d["path"] == "incidence" and d["pairwise_test"] == "Fisher exact"
    assert list(r["n_affected"]) == [1, 2, 5, 8] and list(r["incidence_pct"]) == [10, 20, 50, 80]
    f = stats.fisher_vs_control([1, 2, 5, 8], [10] * 4, alternative="greater")
    np.testing.assert_allclose(r["p_value"].to_numpy()[1:], f.p_value)
    ca = stats.cochran_armitage([1, 2, 5, 8], [10] * 4, [0, 10, 30, 100], method="exact")
    assert d["trend_p"] == pytest.approx(ca.p_value)
    assert r["trend_test"].iloc[0] == "Cochran-Armitage (exact)"
    assert list(r["direction"]) == ["", "up", "up", "up"]


def test_ordinal_path_uses_ranks():
    sc = {"G1": [0, 0, 1, 0, 1, 0], "G2": [0, 1, 1, 0, 1, 1], "G3": [1, 2, 1, 2, 1, 1],
          "G4": [2, 3, 2, 3, 2, 3]}
    rows = _grip(sc, endpoint="gait_score", unit="score")
    a = stats.analyse(_table(rows), StatisticsPlan(nonparametric="steel"), GROUPS,
                      registry=_registry())
    d = a.decisions.iloc[0]
    assert d["path"] == "ordinal" and d["pairwise_test"] == "Steel"
    assert d["overall_test"] == "Kruskal-Wallis" and d["trend_test"] == "Jonckheere-Terpstra"
    # tied scores, 4 groups of 6: both exact tie-table computations are cheap
    assert "Steel: exact joint null of the maximum" in d["note"]
    assert "Jonckheere-Terpstra: exact p" in d["note"]
    groups = [sc[g.id] for g in GROUPS]
    assert d["trend_p"] == pytest.approx(
        stats.jonckheere(groups, method="exact", alternative="two-sided").p_value)


def test_unknown_group_is_an_input_error(grip):
    t = grip.copy()
    t.loc[0, "group"] = "G9"
    with pytest.raises(InputError, match=r"group\(s\) 'G9' in the EndpointTable are not defined"):
        stats.analyse(t, StatisticsPlan(), GROUPS)


def test_repeated_measures_adds_all_row():
    rng = np.random.default_rng(3)
    rows = []
    for k, g in enumerate(GROUPS):
        for s in range(6):
            subj = rng.normal(0, 10)
            for t, tp in enumerate(["b1", "b2", "b3"]):
                rows.append({"assay": "motor_activity", "endpoint": "motor_activity_counts",
                             "unit": "count", "subject": f"{g.id}-{s}", "group": g.id,
                             "sex": "M", "timepoint": tp,
                             "value": 200 + subj - 10 * t - (15 * t * k) + rng.normal(0, 4)})
    rows += [{"assay": "fob", "endpoint": "grip_strength_forelimb", "unit": "g",
              "subject": f"{g.id}-g", "group": g.id, "sex": "M", "value": 1.0 + k}
             for k, g in enumerate(GROUPS)]
    a = stats.analyse(_table(rows), StatisticsPlan(), GROUPS)
    d = a.decisions
    assert list(d["timepoint"]) == ["b1", "b2", "b3", "ALL", "NA"]
    allrow = d.iloc[3]
    assert allrow["path"] == "repeated_measures"
    assert allrow["overall_p"] < 1e-6 and "per-timepoint comparisons apply" in allrow["note"]
    assert len(a.results) == 16


def test_log_transform_recorded(grip):
    a = stats.analyse(grip, StatisticsPlan(log_transform=("grip_strength_forelimb",)), GROUPS)
    assert (a.decisions["transform"] == "log").all()
    assert dropped_transforms(a.decisions) == []


def test_planned_log_transform_dropped_for_a_zero_is_a_warning(grip):
    table = grip.copy()
    table.loc[(table["sex"] == "F").to_numpy().nonzero()[0][0], "value"] = 0.0
    a = stats.analyse(table, StatisticsPlan(log_transform=("grip_strength_forelimb",)), GROUPS)
    assert a.decisions.set_index("sex")["transform"].to_dict() == {"M": "log", "F": "none"}
    assert dropped_transforms(a.decisions) == [
        "warning: endpoint 'grip_strength_forelimb' (F): the planned log transform was not "
        "applied (zero or negative values); analysed on the raw scale"]


def test_dropped_log_transform_warning_names_the_raw_repeated_measures_model():
    rng = np.random.default_rng(3)
    rows = [{"assay": "motor_activity", "endpoint": "motor_activity_counts", "unit": "count",
             "subject": f"{g.id}-{s}", "group": g.id, "sex": "M", "timepoint": tp,
             "value": 0.0 if (tp == "day15" and g.id == "G4")
             else float(round(200 + rng.normal(0, 20)))}
            for g in GROUPS for s in range(6) for tp in ("day1", "day8", "day15")]
    plan = StatisticsPlan(log_transform=("motor_activity_counts",))
    d = stats.analyse(_table(rows), plan, GROUPS).decisions.set_index("timepoint")
    assert d["transform"].to_dict() == {"day1": "log", "day8": "log", "day15": "none",
                                        "ALL": "none"}
    assert dropped_transforms(d.reset_index()) == [
        "warning: endpoint 'motor_activity_counts' (M day15): the planned log transform was "
        "not applied (zero or negative values); analysed on the raw scale, and so was the "
        "repeated-measures model over all timepoints (M)"]


def test_a_group_with_n_below_2_is_named_by_its_id(grip):
    table = grip[(grip["sex"] == "M") & ~((grip["group"] == "G3")
                                          & grip["subject"].str[-1].isin(list("123456789")))]
    assert (table["group"] == "G3").sum() == 1
    note = stats.analyse(table, StatisticsPlan(), GROUPS).decisions.iloc[0]["note"]
    assert note.startswith("group G3 has n < 2 and is not tested")


def _litter_table():
    rng = np.random.default_rng(12)
    rows = []
    for k, g in enumerate(GROUPS):
        for lit in range(5):
            effect = rng.normal(0, 6)
            for pup in range(4):
                rows.append({"assay": "fob", "endpoint": "grip_strength_forelimb", "unit": "g",
                             "subject": f"{g.id}-{lit}-{pup}", "group": g.id, "sex": "M",
                             "batch": f"L{g.id}{lit}",
                             "value": 100 - 3 * k + effect + rng.normal(0, 2)})
    return _table(rows)


def test_litter_means_are_the_units():
    t = _litter_table()
    a = stats.analyse(t, StatisticsPlan(litter_unit="means"), GROUPS)
    r = a.results
    assert (r["n"] == 5).all()
    ctrl = t[t.group == "G1"].groupby("batch")["value"].mean()
    assert r["mean"].iloc[0] == pytest.approx(ctrl.mean())
    assert r["sd"].iloc[0] == pytest.approx(ctrl.std(ddof=1))


def test_litter_random_effect_model():
    t = _litter_table()
    a = stats.analyse(t, StatisticsPlan(litter_unit="mixed"), GROUPS)
    d = a.decisions.iloc[0]
    assert d["pairwise_test"] == "Mixed model (litter)" and d["path"] == "parametric"
    assert "litter as random effect" in d["note"]
    samples = [t[t.group == g.id]["value"].to_numpy() for g in GROUPS]
    litters = [t[t.group == g.id]["batch"].to_numpy() for g in GROUPS]
    comp, overall = stats.litter_comparison(samples, litters)
    np.testing.assert_allclose(a.results["p_value"].to_numpy()[1:], comp.p_value)
    assert overall["sd_litter"] > 3
    # pups as units would overstate the evidence
    naive = stats.analyse(t, StatisticsPlan(), GROUPS).results["p_value"].to_numpy()[1:]
    assert comp.p_value[-1] > naive[-1]


def test_groups_inferred_from_table_when_not_given(grip):
    a = stats.analyse(grip, StatisticsPlan())
    b = stats.analyse(grip, StatisticsPlan(), GROUPS)
    pd.testing.assert_frame_equal(a.results, b.results)


def test_incidence_values_must_be_0_or_1():
    rows = _grip({"G1": [0, 1, 0], "G2": [2, 0, 1]}, endpoint="ataxia", unit="score")
    with pytest.raises(InputError, match=r"incidence endpoint 'ataxia' needs values 0 or 1, "
                                         r"found 2 \(subject 'MG20'\)"):
        stats.analyse(_table(rows), StatisticsPlan(), GROUPS, registry=_registry())


def test_second_control_group_is_not_compared(grip):
    groups = [*GROUPS, Group(id="G0", label="Untreated", dose=0, dose_unit="mg/kg/day",
                             control=True)]
    t = grip.copy()
    extra = t[t.group == "G1"].assign(group="G0", dose=0.0)
    extra["subject"] = extra["subject"] + "u"
    a = stats.analyse(pd.concat([t, extra], ignore_index=True), StatisticsPlan(), groups)
    m = a.results[a.results.sex == "M"]
    assert list(m["group"]) == ["G1", "G0", "G2", "G3", "G4"]
    assert list(m["test"]) == ["", "", "Dunnett", "Dunnett", "Dunnett"]
    b = stats.analyse(t, StatisticsPlan(), GROUPS).results
    np.testing.assert_allclose(m["p_value"].to_numpy()[2:],
                               b[b.sex == "M"]["p_value"].to_numpy()[1:])
    assert "further control group(s) G0 not compared" in a.decisions.iloc[0]["note"]


def test_bartlett_pre_test_from_the_plan(grip):
    from scipy import stats as sps

    lev = stats.analyse(grip, StatisticsPlan(), GROUPS).decisions.iloc[0]
    bart = stats.analyse(grip, StatisticsPlan(homogeneity_test="bartlett"), GROUPS)
    d = bart.decisions.iloc[0]
    assert lev["homogeneity_test"] == "Levene (median)"
    assert d["homogeneity_test"] == "Bartlett"
    males = grip[grip.sex == "M"]
    ref = sps.bartlett(*[males[males.group == g.id]["value"] for g in GROUPS])
    assert d["homogeneity_statistic"] == pytest.approx(ref.statistic, rel=1e-12)
    assert d["homogeneity_p"] == pytest.approx(ref.pvalue, rel=1e-12)
    assert f"Bartlett p={ref.pvalue:.3g}" in d["note"]


def test_bartlett_with_a_constant_group_is_not_done():
    vals = {"G1": [1.0, 1.0, 1.0], "G2": [2.0, 3.0, 4.0], "G3": [1.0, 5.0, 2.0],
            "G4": [3.0, 3.5, 6.0]}
    a = stats.analyse(_table(_grip(vals)), StatisticsPlan(homogeneity_test="bartlett"), GROUPS)
    d = a.decisions.iloc[0]
    assert d["homogeneity_test"] == "" and "Bartlett not done" in d["note"]


def test_no_affected_animals_trend_is_not_testable():
    rows = _grip({g.id: [0] * 8 for g in GROUPS}, endpoint="ataxia", unit="score")
    a = stats.analyse(_table(rows), StatisticsPlan(), GROUPS, registry=_registry())
    d = a.decisions.iloc[0]
    assert np.isnan(d["trend_p"]) and d["trend_test"] == "Cochran-Armitage (not testable)"
    assert "Cochran-Armitage not testable: no affected animals" in d["note"]
    assert (a.results["trend_flag"] == "").all()


def _rm_rows(effect=15.0, seed=3):
    rng = np.random.default_rng(seed)
    rows = []
    for k, g in enumerate(GROUPS):
        for s in range(6):
            subj, e = rng.normal(0, 10), 0.0
            for t, tp in enumerate(["b1", "b2", "b3", "b4"]):
                e = 0.7 * e + rng.normal(0, 4)
                rows.append({"assay": "motor_activity", "endpoint": "motor_activity_counts",
                             "unit": "count", "subject": f"{g.id}-{s}", "group": g.id,
                             "sex": "M", "timepoint": tp,
                             "value": 200 + subj - 10 * t - effect * t * k + e})
    return rows


@pytest.mark.parametrize("covariance,label", [("ar1", "AR(1) (statistical plan)"),
                                              ("aic", "(lowest AIC: compound symmetry")])
def test_repeated_measures_covariance_and_df_from_the_plan(covariance, label):
    plan = StatisticsPlan(repeated_covariance=covariance, mixed_ddf="kenward_roger")
    d = stats.analyse(_table(_rm_rows()), plan, GROUPS).decisions
    note = d[d.timepoint == "ALL"].iloc[0]["note"]
    assert label in note and "Kenward-Roger denominator df" in note
    data = pd.DataFrame(_rm_rows())[["value", "group", "timepoint", "subject"]]
    fit = stats.mixed_model(data, control="G1", covariance=covariance, ddf="kenward_roger")
    assert d[d.timepoint == "ALL"].iloc[0]["overall_p"] == pytest.approx(fit.interaction["p"])
    if covariance == "aic":
        assert set(fit.aic_by_structure) == {"compound_symmetry", "ar1", "unstructured"}


def test_litter_model_note_names_df_method_and_boundary():
    rng = np.random.default_rng(3)  # no litter effect: this seed's REML optimum is at 0
    rows = [{"assay": "fob", "endpoint": "grip_strength_forelimb", "unit": "g",
             "subject": f"{g.id}-{lit}-{p}", "group": g.id, "sex": "M", "batch": f"L{g.id}{lit}",
             "value": 100 + rng.normal(0, 2)}
            for g in GROUPS for lit in range(5) for p in range(3)]
    d = stats.analyse(_table(rows), StatisticsPlan(litter_unit="mixed",
                                                   mixed_ddf="satterthwaite"),
                      GROUPS).decisions.iloc[0]
    fit = stats.mixed_model(pd.DataFrame(rows).rename(columns={"batch": "litter"}),
                            "value ~ C(group)", subject="litter", group="group")
    assert fit.boundary == ("var_random",)
    assert "sd litter=0 (REML optimum on the boundary)" in d["note"]
    assert "Satterthwaite df" in d["note"]


def test_duplicate_wells_are_not_sent_nonparametric_by_a_degenerate_levene():
    """Two values per group: Levene's F runs to infinity for any data (p 1e-120 on a plate).

    Duplicate wells per concentration: the two values of a group lie equally far from
    their median, so no group has spread in Levene's deviations. The test is not done
    and the path is parametric. R 4 (aov, multcomp::glht Dunnett single-step) on the
    same values: F = 289.3 (6, 7 df), p = 5.05e-08; Dunnett p 0.815846 and 0.00674745
    for the two lowest doses (smaller p-values are below R's default precision).
    """
    from neurotox.stats.tree import compare_to_control

    groups = [[3000, 2800], [2900, 3100], [2500, 2300], [1800, 1700], [900, 1000],
              [300, 280], [100, 90]]
    out = compare_to_control(groups, doses=[0, 0.1, 0.3, 1, 3, 10, 30])
    d = out.decision
    assert d["path"] == "parametric" and d["homogeneity_test"] == ""
    assert "Levene not done: a group has fewer than 3 values" in d["note"]
    assert d["overall_statistic"] == pytest.approx(289.341, rel=1e-5)
    assert d["overall_p"] == pytest.approx(5.05e-08, rel=1e-2)
    assert out.p_value[1] == pytest.approx(0.815846, rel=1e-4)
    assert out.p_value[2] == pytest.approx(0.00674745, rel=1e-3)
    assert out.p_value[3] < 1e-3
    # three values per group: Levene is done as before
    three = compare_to_control([g + [g[0]] for g in groups], doses=[0, 0.1, 0.3, 1, 3, 10, 30])
    assert three.decision["homogeneity_test"] == "Levene (median)"


def test_tree_names_an_untested_group_by_name_or_dose():
    from neurotox.stats.tree import compare_to_control

    samples = [[10.1, 9.8, 10.4], [11.0, 10.7, 11.3], [12.0], [13.1, 12.8, 13.4], [14.0]]
    doses = [0, 1, 3, 10, 30]
    out = compare_to_control(samples, doses=doses, names=["C", "L", "M", "H", "X"])
    assert out.decision["note"].startswith("groups M, X have n < 2 and are not tested")
    out = compare_to_control(samples, doses=doses)
    assert out.decision["note"].startswith("groups at dose 3, at dose 30 have n < 2")


def test_timepoint_without_control_is_warned_naming_group_and_label(caplog):
    import logging
    vals = {"G1": [100, 104, 98, 101], "G2": [97, 99, 95, 100], "G3": [90, 92, 88, 91]}
    rows = [{**r, "timepoint": "day28" if r["group"] == "G3" else "week4"}
            for r in _grip(vals)]
    with caplog.at_level(logging.WARNING):
        a = stats.analyse(endpoints.validate(_table(rows)), StatisticsPlan(), GROUPS[:3])
    said = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert said == ["assay 'fob': timepoint(s) held by treated groups only, not compared with "
                    "control: 'day28': G3 (Mid); the control's timepoints are 'week4': is a "
                    "session labelled differently for these groups?"]
    dec = a.decisions.set_index("timepoint")
    assert dec.loc["day28", "note"] == "no control group in this stratum: no comparisons"
    caplog.clear()
    with caplog.at_level(logging.WARNING):   # one label: no warning, G3 compared
        a = stats.analyse(endpoints.validate(_table(_grip(vals))), StatisticsPlan(), GROUPS[:3])
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert a.results.set_index("group").loc["G3", "test"] == "Dunnett"
