"""ANCOVA path of ``stats.analyse``: brain weight adjusted for terminal body weight."""

import numpy as np
import pandas as pd
import pytest

from neurotox import endpoints, stats
from neurotox.stats.ancova import ancova
from neurotox.study import Group, StatisticsPlan

GROUPS = [Group(id="G1", label="C", dose=0, dose_unit="mg/kg/day", control=True),
          Group(id="G2", label="H", dose=100, dose_unit="mg/kg/day")]


def organ_table(shift: float) -> pd.DataFrame:
    """Brain weight = 1.5 + 0.002 x body weight (+ shift in G2); G2 is 50 g heavier.

    The residual pattern (+ - - +) is orthogonal to intercept and slope within each
    group, so the least-squares slope is exactly 0.002 and the group difference
    exactly ``shift``.
    """
    bw = np.r_[np.linspace(250, 300, 8), np.linspace(300, 350, 8)]
    brain = 1.5 + 0.002 * bw + 0.004 * np.tile([1, -1, -1, 1], 4) + np.r_[np.zeros(8),
                                                                          np.full(8, shift)]
    recs = []
    for i, (b, w) in enumerate(zip(brain, bw, strict=True)):
        g = "G1" if i < 8 else "G2"
        for endpoint, v in (("brain_weight", b), ("terminal_body_weight", w)):
            recs.append({"assay": "brain_weight", "endpoint": endpoint, "subject": f"S{i:02d}",
                         "group": g, "dose": 0.0 if g == "G1" else 100.0,
                         "dose_unit": "mg/kg/day", "sex": "M", "value": v, "source": "test"})
    return endpoints.from_records(recs, study_id="T")


def brain_rows(analysis):
    r = analysis.results
    d = analysis.decisions
    return (r[r["endpoint"] == "brain_weight"].set_index("group"),
            d[d["endpoint"] == "brain_weight"].iloc[0])


def test_heavier_group_is_not_flagged_by_ancova_but_by_the_unadjusted_test():
    table = organ_table(shift=0.0)
    res, dec = brain_rows(stats.analyse(table, StatisticsPlan(), GROUPS))
    assert res.loc["G2", "test"] == "ANCOVA (covariate: terminal body weight)"
    assert res.loc["G2", "p_value"] > 0.5 and res.loc["G2", "flag"] == ""
    assert res.loc["G2", "mean"] == pytest.approx(1.5 + 0.002 * 325, abs=1e-9)  # unadjusted
    assert dec["path"] == "ancova"
    assert dec["pairwise_test"] == "ANCOVA (covariate: terminal body weight)"
    assert "slope 0.002 per unit of covariate" in dec["note"]
    raw, _ = brain_rows(stats.analyse(table, StatisticsPlan(), GROUPS, covariates={}))
    assert raw.loc["G2", "flag"] == "**"  # brain weight follows body weight only


def test_planted_shift_is_flagged_with_the_ols_t_statistic():
    table = organ_table(shift=-0.05)
    res, dec = brain_rows(stats.analyse(table, StatisticsPlan(), GROUPS))
    b = table[table["endpoint"] == "brain_weight"]["value"].to_numpy()
    x = table[table["endpoint"] == "terminal_body_weight"]["value"].to_numpy()
    g = (np.arange(16) >= 8).astype(float)
    design = np.column_stack([np.ones(16), g, x - x.mean()])
    coef, rss, *_ = np.linalg.lstsq(design, b, rcond=None)
    se = np.sqrt(rss[0] / 13 * np.linalg.inv(design.T @ design)[1, 1])
    # exactly -0.05 but for the table holding values to 10 significant digits (257.1428571)
    assert coef[1] == pytest.approx(-0.05, abs=1e-9)
    assert res.loc["G2", "statistic"] == pytest.approx(coef[1] / se, rel=1e-9)
    assert res.loc["G2", "flag"] == "**"
    assert dec["overall_test"] == "ANCOVA (covariate: terminal body weight) group F"


def test_missing_covariate_falls_back_to_the_decision_tree_with_a_note():
    table = organ_table(shift=0.0)
    table = table[table["endpoint"] == "brain_weight"]
    res, dec = brain_rows(stats.analyse(table, StatisticsPlan(), GROUPS))
    assert dec["path"] != "ancova"
    assert "ANCOVA (covariate: terminal body weight) not run" in dec["note"]
    assert res.loc["G2", "test"] != "ANCOVA (covariate: terminal body weight)"


def test_one_sided_p_is_half_the_two_sided_in_the_adverse_direction():
    rng = np.random.default_rng(0)
    x = rng.normal(300, 20, 20)
    groups = np.repeat(["G1", "G2"], 10)
    y = 2 + 0.001 * x - np.where(groups == "G2", 0.03, 0) + rng.normal(0, 0.03, 20)
    two, _ = ancova(y, x, groups, ["G1", "G2"])
    less, _ = ancova(y, x, groups, ["G1", "G2"], alternative="less")
    assert less["p_value"].iloc[1] == pytest.approx(two["p_value"].iloc[1] / 2)


@pytest.mark.parametrize("p, expected", [
    ([0.01, 0.04, 0.03], [0.03, 0.06, 0.06]),
    ([0.5, 0.001], [0.5, 0.002]),
    ([0.6, 0.7], [1.0, 1.0]),
])
def test_holm_by_hand(p, expected):
    from neurotox.stats._common import holm
    assert holm(np.array(p)) == pytest.approx(expected)


@pytest.mark.parametrize("alternative", ["two-sided", "greater", "less"])
def test_dunnett_adjust_matches_scipy_dunnett(alternative):
    """With Dunnett's correlations and df, the adjustment is scipy.stats.dunnett's p."""
    from scipy.stats import dunnett

    from neurotox.stats.ancova import dunnett_adjust

    rng = np.random.default_rng(3)
    n = [10, 6, 8, 12]  # control first; unequal sizes
    data = [rng.normal(m, 1.0, k) for m, k in zip([0, 0.4, -0.9, 1.1], n, strict=True)]
    ref = dunnett(*data[1:], control=data[0], alternative=alternative, rng=1).pvalue
    means = np.array([d.mean() for d in data])
    df = sum(n) - len(n)
    s = np.sqrt(sum(((d - d.mean()) ** 2).sum() for d in data) / df)
    t = (means[1:] - means[0]) / (s * np.sqrt(1 / np.array(n[1:]) + 1 / n[0]))
    ni = np.array(n[1:], float)
    corr = np.sqrt(np.outer(ni / (ni + n[0]), ni / (ni + n[0])))
    np.fill_diagonal(corr, 1.0)
    got = dunnett_adjust(t, corr, df, alternative)
    assert got == pytest.approx(ref, abs=2e-3)
    assert np.all(got >= 0) and np.all(got <= 1)


def test_ancova_dunnett_uses_the_coefficient_correlations():
    """Covariate with the same values in each group: Dunnett's correlations exactly."""
    from neurotox.stats.ancova import dunnett_adjust

    rng = np.random.default_rng(5)
    sizes = {"G1": 8, "G2": 4, "G3": 6}
    x = np.concatenate([np.linspace(250, 300, k) - np.linspace(250, 300, k).mean() + 275
                        for k in sizes.values()])
    groups = np.repeat(list(sizes), list(sizes.values()))
    y = 1.5 + 0.002 * x + rng.normal(0, 0.02, len(x)) + np.where(groups == "G3", 0.03, 0)
    table, info = ancova(y, x, groups, list(sizes))
    ni = np.array([4.0, 6.0])
    corr = np.sqrt(np.outer(ni / (ni + 8), ni / (ni + 8)))
    np.fill_diagonal(corr, 1.0)
    expected = dunnett_adjust(table["t"].iloc[1:].to_numpy(float), corr, info["df_resid"])
    assert info["df_resid"] == len(x) - 4
    assert table["p_dunnett"].iloc[1:].to_numpy(float) == pytest.approx(expected, abs=1e-9)
    # adjusted p lies between the unadjusted and the Bonferroni p
    raw = table["p_value"].iloc[1:].to_numpy(float)
    assert np.all(table["p_dunnett"].iloc[1:] >= raw)
    assert np.all(table["p_dunnett"].iloc[1:] <= np.minimum(2 * raw, 1) + 1e-4)


def test_single_dose_group_is_the_plain_t_test():
    from scipy import stats as sps

    from neurotox.stats.ancova import dunnett_adjust

    assert dunnett_adjust(np.array([2.1]), np.eye(1), 17)[0] == \
        pytest.approx(2 * sps.t.sf(2.1, 17))


def test_litter_random_effect_keeps_the_litter_comparison_with_a_note():
    table = organ_table(shift=0.0)
    table["batch"] = [f"L{int(s[1:]) // 2}" for s in table["subject"]]
    res, dec = brain_rows(stats.analyse(table, StatisticsPlan(litter_unit="mixed"), GROUPS))
    assert dec["path"] != "ancova"
    assert "ANCOVA not run: litters enter as a random effect" in dec["note"]


# Right-skewed brain weights (3 groups x 8 rats) with terminal body weight.
# R 4.2.2: shapiro.test(brain - ave(brain, group))$p.value = 0.00081784506120135 (the
# tree's pre-test: nonparametric); m <- lm(brain ~ group + bw):
# shapiro.test(residuals(m)) W = 0.90706612411709, p = 0.0304765412178428;
# t G2, G3 = -2.03443537665504, -2.24188326696007; multcomp glht Dunnett p =
# 0.0921617082326101, 0.0616866472614427; slope 0.00243899162042459.
SKEWED_BW = [300.5, 320.4, 318.4, 292.3, 295.5, 292.1, 308.5, 299.2, 302.4, 287.0, 287.7,
             300.3, 276.9, 267.3, 295.9, 279.9, 268.8, 285.8, 290.8, 275.5, 288.2, 295.6,
             276.9, 267.8]
SKEWED_BRAIN = [2.0643, 2.0455, 2.1805, 2.0118, 2.0502, 2.0104, 2.0375, 2.0461, 1.9892,
                1.9673, 1.9742, 1.9897, 1.9405, 1.9457, 2.0454, 1.9636, 1.9401, 1.97, 2.0316,
                1.9193, 1.9519, 1.9642, 1.9191, 1.9296]
GROUPS3 = [*GROUPS[:1], Group(id="G2", label="L", dose=30, dose_unit="mg/kg/day"),
           Group(id="G3", label="H", dose=100, dose_unit="mg/kg/day")]


def test_a_failed_pre_test_does_not_name_the_rank_test_the_ancova_replaced():
    recs = []
    for i, (w, b) in enumerate(zip(SKEWED_BW, SKEWED_BRAIN, strict=True)):
        g = GROUPS3[i // 8]
        recs += [{"assay": "brain_weight", "endpoint": e, "subject": f"S{i:02d}",
                  "group": g.id, "dose": g.dose, "dose_unit": "mg/kg/day", "sex": "M",
                  "value": v, "source": "test"}
                 for e, v in (("brain_weight", b), ("terminal_body_weight", w))]
    res, dec = brain_rows(stats.analyse(endpoints.from_records(recs, study_id="T"),
                                        StatisticsPlan(), GROUPS3))
    assert dec["normality_p"] == pytest.approx(0.00081784506120135, rel=1e-6)
    assert dec["path"] == "ancova" and dec["trend_test"] == "Shirley-Williams"
    np.testing.assert_allclose(res["statistic"].to_numpy()[1:],
                               [-2.03443537665504, -2.24188326696007], rtol=1e-9)
    np.testing.assert_allclose(res["p_value"].to_numpy()[1:],
                               [0.0921617082326101, 0.0616866472614427], atol=5e-4)
    note = dec["note"]
    assert "Dunn" not in note.replace("Dunnett", "")  # the rank test that did not run
    assert note.startswith("Shapiro-Wilk p=0.000818 < 0.01: nonparametric path not taken "
                           "for the comparisons with control, ANCOVA run regardless "
                           "(parametric); ANCOVA (covariate: terminal body weight): slope "
                           "0.002439 per unit of covariate")
    assert "Shapiro-Wilk on the ANCOVA residuals p = 0.0305" in note
    table, info = ancova(np.array(SKEWED_BRAIN), np.array(SKEWED_BW),
                         np.repeat(["G1", "G2", "G3"], 8), ["G1", "G2", "G3"])
    assert info["p_normal"] == pytest.approx(0.0304765412178428, rel=1e-6)


def test_covariate_with_one_value_per_group_falls_back_to_unadjusted_tests():
    # group mean body weights typed for every animal: the group effect is not identifiable
    table = organ_table(shift=0.0)
    tbw = table["endpoint"] == "terminal_body_weight"
    table.loc[tbw, "value"] = np.where(table.loc[tbw, "group"] == "G1", 275.0, 325.0)
    res, dec = brain_rows(stats.analyse(table, StatisticsPlan(), GROUPS))
    assert dec["path"] != "ancova"
    assert ("ANCOVA (covariate: terminal body weight) not run: the covariate has one value "
            "per group (G1 275, G2 325): the group effect cannot be separated from it "
            "(rank-deficient design); unadjusted comparisons") in dec["note"]
    assert res.loc["G2", "test"] != "ANCOVA (covariate: terminal body weight)"
    with pytest.raises(ValueError, match="one value per group"):
        ancova([1.0, 1.1, 1.2, 1.3], [300, 300, 310, 310], ["A", "A", "B", "B"], ["A", "B"])


# One group (G2) with a constant covariate: its slope is not estimable. R 4.2.2:
# d$xc <- d$x - mean(d$x); f <- lm(y ~ g + xc, d); anova(lm(y ~ xc, d), f) (group F);
# summary(f) (t); anova(f, lm(y ~ g * xc, d)) (gG2:xc is NA: 1 df, homogeneity of slopes).
ANCOVA_X = [300.0, 304.5, 295.9, 286.6, 293.2, 285.1, 310.0, 310.0, 310.0, 310.0, 310.0, 310.0,
            301.6, 286.0, 299.6, 310.4, 279.8, 293.1]
ANCOVA_Y = [1.724, 1.757, 1.718, 1.764, 1.736, 1.781, 1.826, 1.813, 1.719, 1.798, 1.818, 1.825,
            1.742, 1.753, 1.76, 1.788, 1.802, 1.754]


def test_group_with_a_constant_covariate_matches_r_lm():
    g = np.repeat(["G1", "G2", "G3"], 6)
    table, info = ancova(ANCOVA_Y, ANCOVA_X, g, ["G1", "G2", "G3"])
    np.testing.assert_allclose(table["t"].iloc[1:], [2.747815280206681, 1.147655972721406],
                               rtol=1e-9)
    assert info["F"] == pytest.approx(3.77623, abs=1e-5)
    assert info["p_group"] == pytest.approx(0.0488, abs=1e-4)
    assert info["p_parallel"] == pytest.approx(0.55665, abs=1e-5)
    assert info["slope"] == pytest.approx(-0.000845221679611672, rel=1e-9)
