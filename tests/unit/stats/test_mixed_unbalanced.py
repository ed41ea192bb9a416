"""Repeated measures with empty group x time cells, against R's numbers.

A high-dose group terminated before the last session leaves a group x time cell
without data; an animal tested a day late adds a timepoint held by one group.
Either makes the fixed-effect design rank deficient. lme4 drops the aliased
columns and lmerTest tests type III hypotheses on the cells present; nlme's
``lme``/``gls`` stop ("Singularity in backsolve"), but fit the design with the
aliased columns dropped, which gives nlme's containment df.

Reference values: R 4.2.2, lme4 1.1-31, lmerTest 3.1-3, nlme 3.1-162, on the
data below (a seeded simulation rounded to two decimals), with
``contrasts(d$timepoint) <- contr.sum(nlevels(d$timepoint))``:

* ``m <- lmer(value ~ group * timepoint + (1 | subject), d)`` ("dropping 1
  column"); ``logLik(m)``, ``fixef(m)``, ``sqrt(diag(vcov(m)))``;
  ``anova(m, ddf = "Satterthwaite")`` and ``ddf = "Kenward-Roger"`` (type III;
  "Missing cells for: groupG2:timepointT3").
* containment: ``X <- lme4:::chkRank.drop.cols(model.matrix(~ group * timepoint,
  d), kind = "silent.drop.cols", tol = 1e-7)``; ``lme`` of value on X's columns,
  ``m$fixDF$X`` (between 12, within 32).
* ``gls`` on X's columns with ``corAR1(form = ~ tidx | subject)`` and with
  ``corSymm(form = ~ tidx | subject), weights = varIdent(form = ~ 1 | timepoint)``.
"""

import numpy as np
import pandas as pd
import pytest

from neurotox import stats
from neurotox.endpoints import registry
from neurotox.stats._common import estimable_columns
from neurotox.stats.mixed import _rm_row
from neurotox.study import StatisticsPlan

# group -> values of 5 subjects at T0..T3; G2 terminated before T3
VALUES = {
    "G0": [[10.71, 11.28, 11.05, 10.6], [9.56, 9.22, 10.58, 9.66], [10.85, 10.9, 11.86, 11.57],
           [9.22, 10.04, 11.34, 12.4], [10.32, 11.0, 10.69, 11.89]],
    "G1": [[9.04, 10.22, 10.53, 10.47], [9.54, 9.32, 10.33, 11.03], [10.08, 12.02, 12.16, 11.95],
           [10.88, 9.23, 11.87, 11.32], [9.66, 10.6, 11.13, 11.49]],
    "G2": [[9.98, 11.66, 11.69], [8.8, 9.85, 11.08], [11.12, 11.78, 10.98],
           [7.79, 9.65, 10.28], [11.23, 10.98, 12.06]],
}


def _frame(late=False):
    rows = [{"group": g, "subject": f"{g}S{s}", "timepoint": f"T{t}", "value": v}
            for g, subjects in VALUES.items() for s, values in enumerate(subjects)
            for t, v in enumerate(values)]
    d = pd.DataFrame(rows)
    if late:  # G0S1 tested a day late at the third session: a timepoint of its own
        d.loc[(d.subject == "G0S1") & (d.timepoint == "T2"), "timepoint"] = "T4"
    return d


# [group, group:timepoint] of lmerTest's anova; containment df from nlme on the kept columns
R_REF = {
    False: {"llf": -64.3126987288798,
            "beta": [10.737, -0.0935, 0.114, -0.605, -0.249, 0.367, -0.1985, -0.462, -0.1165,
                     0.182, 0.1935],
            "se": [0.324829976464360, 0.459378958181232, 0.581222516002599, 0.251784219013740,
                   0.251784219013740, 0.251784219013740, 0.356076657320749, 0.581470746501130,
                   0.356076657320749, 0.581470746501130, 0.356076657320749],
            "F": [0.04347, 0.41254],
            "containment_ddf": [12, 32],
            "satterthwaite": {"ddf": [11.93253803588, 31.67778789819], "p": [0.95761, 0.83645]},
            "kenward_roger": {"ddf": [12.25978639427, 32.01088323591], "p": [0.95761, 0.83649]},
            "aliased": 1, "cells": [("G2", "T3")]},
    True: {"llf": -62.3066705735929,
           "F": [0.04140, 0.44132],
           "containment_ddf": [12, 31],
           "satterthwaite": {"ddf": [11.75648207179, 30.59648783106], "p": [0.95958, 0.81611]},
           "kenward_roger": {"ddf": [12.26229834470, 31.11279020519], "p": [0.95958, 0.81635],
                             "F": [0.04140, 0.44107]},
           "aliased": 3, "cells": [("G1", "T4"), ("G2", "T3"), ("G2", "T4")]},
}


@pytest.mark.parametrize("late", [False, True])
def test_empty_cells_are_dropped_as_lme4_and_tested_as_lmertest(late):
    ref = R_REF[late]
    d = _frame(late)
    fit = stats.mixed_model(d, control="G0")
    assert fit.llf == pytest.approx(ref["llf"], abs=1e-6)
    if "beta" in ref:
        np.testing.assert_allclose(fit.params, ref["beta"], rtol=1e-5, atol=1e-7)
        np.testing.assert_allclose(fit.bse, ref["se"], rtol=1e-5)
    assert len(fit.aliased) == ref["aliased"]
    assert list(fit.empty_cells) == ref["cells"]
    assert "aliased fixed-effect column(s) dropped" in fit.warnings[0]
    tests = (fit.main_effect, fit.interaction)
    np.testing.assert_allclose([t["F"] for t in tests], ref["F"], atol=6e-6)
    assert [t["ddf"] for t in tests] == ref["containment_ddf"]
    assert [t["df"] for t in tests] == [2, 5]
    for method in ("satterthwaite", "kenward_roger"):
        f = stats.mixed_model(d, control="G0", ddf=method)
        tests = (f.main_effect, f.interaction)
        np.testing.assert_allclose([t["ddf"] for t in tests], ref[method]["ddf"], rtol=1e-6)
        np.testing.assert_allclose([t["p"] for t in tests], ref[method]["p"], atol=6e-6)
        np.testing.assert_allclose([t["F"] for t in tests], ref[method].get("F", ref["F"]),
                                   atol=6e-6)


@pytest.mark.parametrize("covariance,llf,extra", [
    ("ar1", -65.1797949639231, {"phi": 0.509706782720485}),
    ("unstructured", -61.4619134610493, {}),
])
def test_empty_cell_with_ar1_and_unstructured_matches_gls(covariance, llf, extra):
    fit = stats.mixed_model(_frame(), control="G0", covariance=covariance)
    assert fit.llf == pytest.approx(llf, abs=1e-6)
    np.testing.assert_allclose(fit.params, R_REF[False]["beta"], rtol=1e-5, atol=1e-7)
    for k, v in extra.items():
        assert fit.theta[k] == pytest.approx(v, abs=1e-5)


def test_estimable_columns_keep_the_first_of_aliased_columns():
    x = np.array([[1, 0, 1, 0], [1, 1, 2, 0], [1, 0, 1, 0], [1, 1, 2, 0]], float)
    assert estimable_columns(x) == [0, 1]   # column 2 = 0 + 1; column 3 is empty


def _decision(d, **plan):
    ep = registry()["motor_activity_counts"]
    return _rm_row(("S1", "motor_activity", "motor_activity_counts", "M"), d, ep,
                   StatisticsPlan(**plan), "G0")


def test_decision_row_of_an_early_terminated_group_names_the_empty_cell():
    row = _decision(_frame())
    assert row["path"] == "repeated_measures"
    assert row["overall_statistic"] == pytest.approx(0.41254, abs=6e-6)
    assert "no data in group x time cell(s) G2 x T3" in row["note"]


@pytest.mark.parametrize("value", [0.0, 5.0])
@pytest.mark.parametrize("log", [False, True])
def test_identical_values_are_not_tested(value, log):
    d = _frame()
    d["value"] = value
    plan = {"log_transform": ("motor_activity_counts",)} if log else {}
    row = _decision(d, **plan)
    assert row["path"] == "insufficient_data"
    assert np.isnan(row["overall_p"])
    assert row["note"].endswith("all values are identical: not tested")
