"""One-sample decision tree against scipy, and the trial-level model."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from neurotox.stats.one_sample import one_sample_table, one_sample_test, trial_level_glmm


def test_normal_data_take_t_test():
    x = [0.1, 0.3, -0.2, 0.5, 0.2, 0.05]
    r = one_sample_test(x, 0.0)
    assert r.test == "t-test"
    assert r.p_value == pytest.approx(stats.ttest_1samp(x, 0).pvalue)
    assert r.p_wilcoxon == pytest.approx(stats.wilcoxon(x).pvalue)
    assert r.path.startswith("Shapiro-Wilk p=")


def test_skewed_data_take_wilcoxon():
    x = [1, 1.1, 1.2, 1.3, 1.25, 1.15, 9, 12, 30]
    r = one_sample_test(x, 1.0)
    assert r.test == "wilcoxon"
    assert r.p_value == pytest.approx(stats.wilcoxon(np.subtract(x, 1.0)).pvalue)


def test_small_n():
    assert one_sample_test([0.3], 0).test == "none"
    r = one_sample_test([0.3, 0.5], 0)
    assert r.test == "t-test" and np.isnan(r.normality_p)


def test_table_by_group():
    df = pd.DataFrame({"group": list("aaabbb"), "value": [50, 60, 70, 20, 25, 30.0]})
    t = one_sample_table(df, by=["group"], reference=50.0).set_index("group")
    assert t.loc["a", "mean"] == 60 and t.loc["b", "n"] == 3


@settings(max_examples=30, deadline=None)
@given(st.lists(st.floats(-1, 1), min_size=3, max_size=12))
def test_p_values_are_probabilities(values):
    r = one_sample_test(values, 0.0)
    for p in (r.p_value, r.p_ttest, r.p_wilcoxon):
        assert np.isnan(p) or 0 <= p <= 1


@pytest.mark.parametrize("method", ["gee", "bayes"])
def test_trial_level_model(method):
    rng = np.random.default_rng(3)
    d = pd.DataFrame({"subject": np.repeat([f"s{i}" for i in range(8)], 40),
                      "correct": (rng.random(320) < 0.8).astype(int)})
    r = trial_level_glmm(d, method=method)
    assert r["p_correct"] == pytest.approx(d["correct"].mean(), abs=0.03)
    assert r["p_value"] < 0.001 and r["n_subjects"] == 8


def test_sex_by_group_anova_balanced_hand_computed():
    from neurotox.stats.one_sample import sex_by_group_anova

    rng = np.random.default_rng(5)
    rows = [{"sex": s, "group": g, "value": rng.normal(0.3 * (g == "H") + 0.1 * (s == "F"), 0.1)}
            for s in "MF" for g in "CH" for _ in range(6)]
    df = pd.DataFrame(rows)
    res = sex_by_group_anova(df).set_index("term")
    grand = df["value"].mean()
    ss_group = 12 * ((df.groupby("group")["value"].mean() - grand) ** 2).sum()
    cell = df.groupby(["sex", "group"])["value"].transform("mean")
    ss_res = ((df["value"] - cell) ** 2).sum()
    assert res.loc["group", "sum_sq"] == pytest.approx(ss_group)
    assert res.loc["residual", "df"] == 20
    assert res.loc["group", "F"] == pytest.approx(ss_group / (ss_res / 20))
    assert sex_by_group_anova(df[df["sex"] == "M"]).empty
