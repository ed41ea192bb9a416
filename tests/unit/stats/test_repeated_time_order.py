"""Repeated measures with a pre-dose day: AR(1) needs the true time order (R nlme values).

A small synthetic study modelled on a von Frey time course: 3 groups x 5
animals, a baseline the day before dosing (``day-1``) and days 3, 7 and 14;
one animal misses day 14. Sorted as text, ``day-1`` came after ``day14``, so
the AR(1) model (whose correlation is phi^lag with lag = positions apart)
paired the wrong sessions: F = 2.542 (p 0.038) instead of 2.289 (p 0.057).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from neurotox import endpoints, stats
from neurotox.endpoints import Endpoint
from neurotox.study import Group, StatisticsPlan

TIMEPOINTS = ("day-1", "day3", "day7", "day14")
DAYS = (-1, 3, 7, 14)
SERIES = {  # subject: (group, values at TIMEPOINTS; None = not measured)
    "G0-1": ("G0", (1.92, 1.86, 2.0, 1.74)), "G0-2": ("G0", (1.29, 1.69, 1.5, 2.1)),
    "G0-3": ("G0", (2.43, 2.32, 2.09, 2.4)), "G0-4": ("G0", (2.81, 1.83, 1.6, 2.12)),
    "G0-5": ("G0", (2.53, 2.46, 2.67, 2.39)), "G1-1": ("G1", (1.39, 1.22, 1.62, 1.49)),
    "G1-2": ("G1", (1.77, 1.2, 0.43, 0.06)), "G1-3": ("G1", (2.36, 1.26, 1.62, None)),
    "G1-4": ("G1", (1.93, 2.14, 0.9, 1.32)), "G1-5": ("G1", (2.06, 1.15, 0.95, 0.61)),
    "G2-1": ("G2", (2.19, 1.04, 1.4, 0.58)), "G2-2": ("G2", (2.12, 1.56, 1.18, 1.24)),
    "G2-3": ("G2", (3.29, 1.12, 0.32, -0.21)), "G2-4": ("G2", (1.83, 1.4, 1.2, 0.65)),
    "G2-5": ("G2", (2.17, 1.66, 1.81, 1.72)),
}

# R 4.2.2, nlme 3.1-162, REML; fixed effects coded as patsy codes them:
#   d$tp <- factor(d$timepoint, levels = c("day-1", "day14", "day3", "day7"))
#   contrasts(d$tp) <- contr.sum(4)
#   m <- gls(value ~ group * tp, d, correlation = corAR1(form = ~ pos | subject))
#   anova(m, type = "marginal"); logLik(m); AIC(m)
# pos = position in time order (day-1 = 0); "text order" is pos with day-1 last
# (day3, day7, day14, day-1), the order the software used before; "days" is
# corCAR1(form = ~ day | subject) with day = -1, 3, 7, 14. The p of the
# interaction is pf(F, 6, 35) with the containment df (59 - 15 - 3 x 3), of the
# group effect pf(F, 2, 12).
NLME = {
    "time order": {"llf": -43.7338893985886, "phi": 0.464610053807559,
                   "aic": 115.467778797177, "F_inter": 2.28917673896439,
                   "p_inter": 0.0572639892241261, "F_group": 6.9123943140873,
                   "p_group": 0.0100662293883862},
    "text order": {"llf": -46.240916705844, "phi": 0.237244115761291,
                   "aic": 120.481833411688, "F_inter": 2.54228259165781,
                   "p_inter": 0.0378107651712104, "F_group": 9.86802747900053,
                   "p_group": 0.00292260308931549},
    "days": {"llf": -45.0622242385125, "phi": 0.83969944750583,
             "aic": 118.124448477025, "F_inter": 2.19501553164399,
             "p_inter": 0.066846180247099, "F_group": 6.9853516031533,
             "p_group": 0.00973162177415719},
}
# AIC(lme(value ~ group * tp, random = ~ 1 | subject)) and of
# gls(..., correlation = corSymm(form = ~ I(pos + 1) | subject), weights = varIdent(~ 1 | tp))
AIC_OTHERS = {"compound_symmetry": 120.531691350827, "unstructured": 119.483852206234}


def _frame(labels=TIMEPOINTS, seed=None):
    rows = [{"group": g, "subject": s, "timepoint": labels[k], "day": DAYS[k], "value": v}
            for s, (g, values) in SERIES.items() for k, v in enumerate(values)
            if v is not None]
    d = pd.DataFrame(rows)
    return d if seed is None else d.sample(frac=1, random_state=seed).reset_index(drop=True)


def _check(fit, ref):
    assert fit.llf == pytest.approx(ref["llf"], abs=1e-6)
    assert fit.theta["phi"] == pytest.approx(ref["phi"], abs=1e-6)
    assert fit.aic == pytest.approx(ref["aic"], abs=1e-5)
    assert fit.interaction["F"] == pytest.approx(ref["F_inter"], rel=1e-6)
    assert fit.interaction["ddf"] == 35
    assert fit.interaction["p"] == pytest.approx(ref["p_inter"], abs=1e-7)
    assert fit.main_effect["F"] == pytest.approx(ref["F_group"], rel=1e-6)
    assert fit.main_effect["p"] == pytest.approx(ref["p_group"], abs=1e-7)


@pytest.mark.parametrize("seed", [None, 1, 2])
def test_ar1_puts_the_pre_dose_day_first(seed):
    fit = stats.mixed_model(_frame(seed=seed), control="G0", covariance="ar1")
    _check(fit, NLME["time order"])
    assert fit.interaction["F"] != pytest.approx(NLME["text order"]["F_inter"], rel=1e-3)
    assert fit.time_levels == TIMEPOINTS     # the order the fit used, kept with it
    assert fit.time_unordered == ()


def test_labels_without_a_time_order_are_named_with_the_fit():
    # light1/dark1: which came first is the protocol's choice; without time_order
    # the fit is in text order and says which labels it could not place
    fit = stats.mixed_model(_frame(labels=("pre", "dark1", "light1", "post"), seed=7),
                            control="G0", covariance="ar1")
    assert fit.time_levels == ("pre", "dark1", "light1", "post")
    assert fit.time_unordered == ("dark1", "light1")


def test_numbers_written_as_text_are_positions_too():
    # timepoint_prefix "" gives "-1", "3" ...: labels like any other, in numeric order
    fit = stats.mixed_model(_frame(labels=("-1", "3", "7", "14"), seed=3), control="G0",
                            covariance="ar1")
    _check(fit, NLME["time order"])


def test_a_numeric_time_column_is_a_distance():
    # only a library caller can pass one (EndpointTable timepoints are text): corCAR1
    fit = stats.mixed_model(_frame(seed=4), control="G0", covariance="ar1", time="day")
    _check(fit, NLME["days"])


def test_aic_sees_the_ar1_fit_of_the_true_order():
    fit = stats.mixed_model(_frame(seed=5), control="G0", covariance="aic")
    assert fit.aic_by_structure == pytest.approx(
        {**AIC_OTHERS, "ar1": NLME["time order"]["aic"]}, abs=1e-5)
    assert fit.covariance == "ar1"  # in text order unstructured (119.48) won


SCORE = Endpoint(name="rm_score", assays=("cipn",), unit="g", data_type="continuous",
                 direction="decrease", categories=("neurophysiological",),
                 description="A repeated score.", repeated_measures=True, scale="interval")
GROUPS = [Group(id="G0", label="Control", dose=0, dose_unit="mg/kg", control=True),
          Group(id="G1", label="Low", dose=1, dose_unit="mg/kg"),
          Group(id="G2", label="High", dose=10, dose_unit="mg/kg")]


def test_analyse_orders_strata_and_fits_ar1_in_time_order():
    d = _frame(seed=6)
    table = d.drop(columns="day").assign(
        study_id="S1", assay="cipn", category="neurophysiological", endpoint="rm_score",
        unit="g", sex="F", dose=d["group"].map({g.id: g.dose for g in GROUPS}),
        dose_unit="mg/kg", source="synthetic", excluded=False, exclusion_reason="",
        batch="NA")
    registry = {**endpoints.registry(), "rm_score": SCORE}
    a = stats.analyse(table, StatisticsPlan(repeated_covariance="ar1"), GROUPS,
                      registry=registry)
    dec = a.decisions
    assert list(dec["timepoint"]) == [*TIMEPOINTS, "ALL"]
    assert list(dict.fromkeys(a.results["timepoint"])) == list(TIMEPOINTS)
    row = dec[dec["timepoint"] == "ALL"].iloc[0]
    ref = NLME["time order"]
    assert row["overall_statistic"] == pytest.approx(ref["F_inter"], rel=1e-6)
    assert row["overall_p"] == pytest.approx(ref["p_inter"], abs=1e-7)
    assert "time order day-1 < day3 < day7 < day14" in row["note"]
    assert "> alpha: per-timepoint comparisons are supplementary" in row["note"]
    assert np.isfinite(a.results["p_value"]).any()
