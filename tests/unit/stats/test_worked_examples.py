"""Every example in ../shared/data/stats/worked_examples.json, within its tolerance."""

from __future__ import annotations

import json

import numpy as np
import pytest
from scipy import stats as sps

from neurotox import stats

pytestmark = pytest.mark.shared_data


@pytest.fixture(scope="module")
def examples(shared_data):
    doc = json.loads((shared_data / "stats" / "worked_examples.json").read_text())
    return {e["name"]: e for e in doc["examples"]}


def test_dunnett_1955_blood_counts(examples):
    ex = examples["dunnett_1955_blood_counts"]
    d, exp = ex["data"], ex["expected"]
    two = stats.dunnett(d["control"], d["drug_A"], d["drug_B"])
    np.testing.assert_allclose(two.statistic, exp["t_statistics"], atol=1e-5)
    np.testing.assert_allclose(two.p_value, exp["p_two_sided"], atol=5e-4)
    one = stats.dunnett(d["control"], d["drug_A"], d["drug_B"], alternative="greater")
    np.testing.assert_allclose(one.p_value, exp["p_one_sided_greater"], atol=5e-4)
    means = [np.mean(d[k]) for k in ("control", "drug_A", "drug_B")]
    np.testing.assert_allclose(means, exp["group_means"], atol=1e-9)


def _dunnett_critical(k, df, alpha, two_sided):
    """Equal-n Dunnett critical value from the one-factor MVN/t integral (rho = 0.5)."""
    from scipy import integrate, optimize

    from neurotox.stats._common import max_normal_sf

    lam = np.full(k, np.sqrt(0.5))

    def sf(c):
        f = lambda s: max_normal_sf(np.array(c * s), lam, two_sided=two_sided) * \
            sps.chi.pdf(s * np.sqrt(df), df) * np.sqrt(df)  # noqa: E731
        return integrate.quad(f, 0, np.inf, limit=200)[0]
    return optimize.brentq(lambda c: sf(c) - alpha, 0.5, 10)


def test_dunnett_critical_value_tables(examples):
    """The many-to-one MVN integral used by Steel reproduces Dunnett's tables."""
    ex = examples["dunnett_critical_value_tables"]
    for row in ex["expected"]:
        if row["two_sided"] and row["k"] >= 3:
            continue  # 1955 two-sided k>=3 entries are approximate (see tolerance)
        c = _dunnett_critical(row["k"], row["df"], row["alpha"], row["two_sided"])
        assert abs(c - row["table"]) <= 0.006, row


def test_williams_1971_critical_values(examples):
    exp = examples["williams_1971_critical_values"]["expected"]
    inf = stats.williams_critical_values(10)
    for k, v in exp["df_inf_k1..k10"].items():
        assert abs(inf[int(k) - 1] - v) <= 0.003, k
    df10 = stats.williams_critical_values(10, df=10)
    for k, v in exp["df10"].items():
        assert abs(df10[int(k) - 1] - v) <= 0.006, k


def test_williams_1972_beta_extrapolation(examples):
    """beta = 100 (t(1) - t(w)) / (1 - 1/w) lies near the tabulated integer (w = 2..4)."""
    exp = examples["williams_1971_critical_values"]["expected"]["beta_alpha0.05_df_inf"]
    t1 = stats.williams_critical_values(6)
    t3 = stats.williams_critical_values(6, w=3.0)
    beta = 100 * (t1 - t3) / (1 - 1 / 3)
    for k, v in exp.items():
        assert abs(beta[int(k) - 1] - v) <= 1.5, (k, beta)


def test_jonckheere_sachs1997(examples):
    ex = examples["jonckheere_sachs1997"]
    groups, exp = ex["data"]["groups_in_dose_order"], ex["expected"]
    exact = stats.jonckheere(groups, method="exact")
    assert exact.statistic == exp["J"]
    assert exact.extra["E_J"] == exp["E_J"]
    assert exact.extra["sd_J"] == pytest.approx(exp["sd_J"], rel=1e-9)
    assert exact.p_value == pytest.approx(exp["p_upper_exact"], rel=1e-6)
    asym = stats.jonckheere(groups, method="asymptotic")
    assert asym.p_value == pytest.approx(exp["p_upper_asymptotic"], rel=1e-4)


def test_cochran_armitage_sas_pain(examples):
    ex = examples["cochran_armitage_sas_pain"]
    d, exp = ex["data"], ex["expected"]
    asym = stats.cochran_armitage(d["adverse_yes"], d["n"], d["dose_scores"])
    # SAS reports -Z when the event is the first response column
    assert -asym.statistic == pytest.approx(exp["Z_sas_sign_convention"], abs=5e-5)
    assert asym.extra["chi2"] == pytest.approx(exp["chisq_R_prop.trend.test"], rel=1e-9)
    assert asym.p_value < 1e-4
    exact = stats.cochran_armitage(d["adverse_yes"], d["n"], d["dose_scores"], method="exact")
    assert exact.p_value == pytest.approx(exp["p_exact_one_sided"], rel=1e-4)


def test_fisher_exact_tea_tasting(examples):
    ex = examples["fisher_exact_tea_tasting"]
    (a, b), (c, d) = ex["data"]
    # control row = second row; treated = first row
    one = stats.fisher_vs_control([c, a], [c + d, a + b], alternative="greater")
    two = stats.fisher_vs_control([c, a], [c + d, a + b])
    assert one.p_value[0] == pytest.approx(ex["expected"]["p_one_sided"], rel=1e-12)
    assert two.p_value[0] == pytest.approx(ex["expected"]["p_two_sided"], rel=1e-12)


def test_shapiro_wilk_1965(examples):
    """The decision tree's normality pre-test (Shapiro-Wilk) on the 1965 example."""
    ex = examples["shapiro_wilk_1965_example"]
    x = np.array(ex["data"], float)
    # one group: residuals from the group mean; W is location invariant
    out = stats.compare_to_control([x, x + 1.0])
    w_r, p_r = ex["expected"]["R_shapiro.test"]
    w, p = sps.shapiro(x)
    assert w == pytest.approx(ex["expected"]["W"], abs=0.005)
    assert w == pytest.approx(w_r, rel=1e-6) and p == pytest.approx(p_r, rel=1e-6)
    assert out.decision["normality_test"] == "Shapiro-Wilk (residuals)"


def test_insectsprays_levene_kruskal(examples):
    ex = examples["insectsprays_bartlett_levene_kw"]
    counts = np.array(ex["data"]["count"], float)
    spray = np.array(ex["data"]["spray"])
    groups = [counts[spray == s] for s in "ABCDEF"]
    exp = ex["expected"]
    out = stats.compare_to_control(groups)
    d = out.decision
    assert d["homogeneity_statistic"] == pytest.approx(exp["levene_median(Brown-Forsythe)"][0],
                                                       rel=1e-9)
    assert d["homogeneity_p"] == pytest.approx(exp["levene_median(Brown-Forsythe)"][1], rel=1e-9)
    assert d["path"] == "nonparametric"
    assert d["overall_statistic"] == pytest.approx(exp["kruskal"][0], rel=1e-9)
    assert d["overall_p"] == pytest.approx(exp["kruskal"][1], rel=1e-9)
    bart = sps.bartlett(*groups)
    assert bart.statistic == pytest.approx(exp["bartlett"][0], rel=1e-9)
    assert sps.levene(*groups, center="mean").statistic == pytest.approx(exp["levene_mean_F"],
                                                                          rel=1e-9)


def _tuple(x):
    return tuple(float(v) for v in x)


#: pybmds display names of the model classes named in the worked example.
_PYBMDS_NAMES = {"ExponentialM3": "Exponential 3", "ExponentialM5": "Exponential 5",
                 "Polynomial": "Polynomial 2", "QuantalLinear": "Quantal Linear"}


def _check_models(result, expected, *, bmd_tol, aic_tol):
    table = result.models.set_index("model")
    checked = 0
    for name, (bmd, bmdl, bmdu, aic) in expected.items():
        name = _PYBMDS_NAMES.get(name, name)
        if name not in table.index:
            continue  # DichotomousHill is not among the default dichotomous models
        row = table.loc[name]
        for col, value in (("bmd", bmd), ("bmdl", bmdl), ("bmdu", bmdu)):
            assert row[col] == pytest.approx(value, **bmd_tol), (name, col)
        assert row["aic"] == pytest.approx(aic, **aic_tol), name
        checked += 1
    assert checked >= 5


@pytest.mark.slow
def test_pybmds_dichotomous_regression_values(examples):
    """stats.benchmark_dose (bmd.py) against pybmds' dichotomous regression values."""
    ex = examples["pybmds_regression_values_ddataset2_cdataset2"]
    dd = ex["data"]["ddataset2"]
    res = stats.benchmark_dose(_tuple(dd["doses"]), _tuple(dd["ns"]), kind="dichotomous",
                               incidence=_tuple(dd["incidences"]))
    _check_models(res, ex["expected"]["dichotomous_[bmd,bmdl,bmdu]_aic"],
                  bmd_tol={"abs": 0.5}, aic_tol={"abs": 3})


def test_pybmds_continuous_regression_values(examples):
    # The reference values are pybmds' constant-variance (DistType.normal) fits; the
    # EPA "auto" rule would choose non-constant variance for this data set.
    ex = examples["pybmds_regression_values_ddataset2_cdataset2"]
    cd = ex["data"]["cdataset2"]
    res = stats.benchmark_dose(_tuple(cd["doses"]), _tuple(cd["ns"]), kind="continuous",
                               mean=_tuple(cd["means"]), sd=_tuple(cd["stdevs"]),
                               variance="constant")
    _check_models(res, ex["expected"]["continuous_normal_[bmd,bmdl,bmdu]_aic"],
                  bmd_tol={"rel": 0.05}, aic_tol={"rel": 0.01})
