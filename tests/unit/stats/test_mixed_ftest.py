"""The mixed model's group x time F test equals the split-plot ANOVA F test (balanced data)."""

import numpy as np
import pandas as pd
import pytest

from neurotox import stats


@pytest.fixture
def split_plot():
    rng = np.random.default_rng(11)
    rows = []
    for g in range(3):
        for j in range(6):
            subj = rng.normal(0, 2.0)
            for t in range(4):
                rows.append({"group": f"G{g}", "subject": f"G{g}S{j}", "timepoint": f"T{t}",
                             "value": 10 + subj + 0.5 * t + 0.4 * g * t + rng.normal(0, 1.0)})
    return pd.DataFrame(rows)


def test_interaction_f_matches_split_plot_anova(split_plot):
    y = (split_plot.sort_values(["group", "subject", "timepoint"])["value"]
         .to_numpy().reshape(3, 6, 4))
    gt = y.mean(axis=1)                      # group x time means
    g = y.mean(axis=(1, 2))                  # group means
    t = y.mean(axis=(0, 1))                  # time means
    gs = y.mean(axis=2)                      # subject means
    ss_gt = 6 * ((gt - g[:, None] - t[None, :] + y.mean()) ** 2).sum()
    ss_err = ((y - gs[:, :, None] - gt[:, None, :] + g[:, None, None]) ** 2).sum()
    df_num = (3 - 1) * (4 - 1)
    df_den = (18 - 3) * (4 - 1)
    f_anova = (ss_gt / df_num) / (ss_err / df_den)
    fit = stats.mixed_model(split_plot, control="G0")
    assert fit.interaction["df"] == df_num
    assert fit.interaction["ddf"] == df_den
    assert fit.interaction["F"] == pytest.approx(f_anova, rel=1e-4)
    from scipy import stats as sps
    assert fit.interaction["p"] == pytest.approx(sps.f.sf(f_anova, df_num, df_den), rel=1e-3)
    assert fit.interaction["p"] > fit.interaction["p_chi2"]  # chi2 is anti-conservative


def test_group_main_effect_uses_between_subject_df(split_plot):
    fit = stats.mixed_model(split_plot, control="G0")
    assert fit.main_effect["ddf"] == 18 - 3
    assert fit.main_effect["F"] == pytest.approx(fit.main_effect["chi2"] / 2)


def test_group_main_effect_matches_split_plot_anova_when_groups_differ_late():
    """Groups equal at the first time and apart later: the main effect is over all times."""
    rng = np.random.default_rng(4)
    rows = []
    for g in range(3):
        for j in range(8):
            subj = rng.normal(0, 1.0)
            for t in range(4):
                rows.append({"group": f"G{g}", "subject": f"G{g}S{j}", "timepoint": f"T{t}",
                             "value": 10 + subj + 1.5 * g * (t > 0) + rng.normal(0, 1.0)})
    data = pd.DataFrame(rows)
    y = data.sort_values(["group", "subject", "timepoint"])["value"].to_numpy().reshape(3, 8, 4)
    subj_means = y.mean(axis=2)
    ss_g = 8 * 4 * ((y.mean(axis=(1, 2)) - y.mean()) ** 2).sum()
    ss_s = 4 * ((subj_means - subj_means.mean(axis=1, keepdims=True)) ** 2).sum()
    f_anova = (ss_g / 2) / (ss_s / (24 - 3))
    fit = stats.mixed_model(data, control="G0")
    assert fit.main_effect["df"] == 2 and fit.main_effect["ddf"] == 21
    assert fit.main_effect["F"] == pytest.approx(f_anova, rel=1e-3)
    assert fit.main_effect["p"] < 1e-4


def _counts_table(zero: bool):
    from neurotox import endpoints

    rng = np.random.default_rng(2)
    recs = []
    for g, dose in (("G1", 0.0), ("G2", 10.0)):
        for j in range(6):
            for t in range(3):
                v = float(rng.poisson(50))
                recs.append({"assay": "motor_activity", "endpoint": "motor_activity_counts",
                             "subject": f"{g}S{j}", "group": g, "dose": dose,
                             "dose_unit": "mg/kg/day", "sex": "M", "timepoint": f"bin{t}",
                             "value": 0.0 if zero and (g, j, t) == ("G2", 0, 2) else v,
                             "source": "test"})
    return endpoints.from_records(recs, study_id="T")


@pytest.mark.parametrize("zero", [False, True])
def test_log_transform_of_repeated_measures_is_reported_as_applied(zero):
    from neurotox.study import Group, StatisticsPlan

    groups = [Group(id="G1", label="C", dose=0, dose_unit="mg/kg/day", control=True),
              Group(id="G2", label="T", dose=10, dose_unit="mg/kg/day")]
    plan = StatisticsPlan(log_transform=("motor_activity_counts",))
    dec = stats.analyse(_counts_table(zero), plan, groups).decisions
    row = dec[dec["timepoint"] == "ALL"].iloc[0]
    assert row["transform"] == ("none" if zero else "log")
    assert ("log transform not applied: values <= 0" in row["note"]) == zero
