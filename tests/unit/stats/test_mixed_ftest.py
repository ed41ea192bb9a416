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
