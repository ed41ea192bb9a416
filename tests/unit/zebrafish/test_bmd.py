"""Benchmark dose wrapper: defaults, model table, recommendation rules, input errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from neurotox.assays.zebrafish.bmd import continuous_bmds
from neurotox.stats.bmd import benchmark_dose

DOSES, NS, INC = [0, 10, 50, 150], [20, 20, 20, 20], [0, 2, 8, 15]


def test_dichotomous_defaults_and_model_table():
    r = benchmark_dose(DOSES, NS, kind="dichotomous", incidence=INC,
                       models=["Weibull", "Logistic", "QuantalLinear"])
    assert r.bmr == 0.1 and r.settings["bmr_type"] == "extra risk"
    assert list(r.models["model"]) == ["Weibull", "Logistic", "Quantal Linear"]
    w = r.models.set_index("model").loc["Weibull"]
    # Weibull/Quantal Linear collapse to the same one-hit fit on these data
    assert w["bmd"] == pytest.approx(10.898, rel=1e-3)
    assert w["bmdl"] == pytest.approx(7.8196, rel=1e-3)
    assert r.models["recommended"].sum() == 1
    assert r.model in ("Weibull", "Quantal Linear")  # lowest AIC; Logistic fails GOF
    assert not r.models.set_index("model").loc["Logistic", "viable"]


def test_continuous_defaults_one_sd():
    r = benchmark_dose(DOSES, NS, kind="continuous", mean=[10, 11, 14, 20], sd=[3] * 4,
                       models=["Linear", "Power"])
    assert r.bmr == 1.0 and r.settings["bmr_type"] == "SD"
    # linear trend 0.0667/unit; 1 SD = 3 -> BMD about 45
    assert r.bmd == pytest.approx(44.8, rel=0.01)
    assert r.bmdl < r.bmd < r.bmdu


def test_bmdrc_selection_takes_lowest_bmdl_within_aic_window():
    r = benchmark_dose(DOSES, NS, kind="dichotomous", incidence=INC,
                       models=["Weibull", "LogProbit"], selection="bmdrc")
    t = r.models.set_index("model")
    assert r.model == t["bmdl"].idxmin()
    assert r.reason == "lowest BMDL among models within 2 AIC of the best"


@pytest.mark.parametrize("kwargs, message", [
    ({"kind": "dichotomous"}, "dichotomous data need 'incidence' per dose"),
    ({"kind": "continuous", "mean": [1, 2, 3, 4]}, "continuous data need 'mean' and 'sd'"),
    ({"kind": "quantal", "incidence": INC}, "kind must be 'continuous' or 'dichotomous'"),
])
def test_input_errors(kwargs, message):
    with pytest.raises(ValueError, match=message):
        benchmark_dose(DOSES, NS, **kwargs)


def test_no_viable_model_gives_no_recommendation():
    r = benchmark_dose(DOSES, NS, kind="dichotomous", incidence=[0, 20, 0, 20],
                       models=["Weibull"])
    assert r.model is None and np.isnan(r.bmd)
    assert r.reason.startswith("no model converged with goodness-of-fit p >= 0.1")


def test_continuous_bmds_needs_three_concentrations():
    rows = [{"endpoint": "auc_light", "timepoint": "light1", "dose": d, "value": v,
             "excluded": False} for d in (0.0, 1.0) for v in (1.0, 2.0, 3.0)]
    notes: list[str] = []
    out = continuous_bmds(pd.DataFrame(rows), ("auc_light",), notes)
    assert out.empty
    assert notes == ["BMD of auc_light light1: fewer than 3 concentrations with n >= 2; "
                     "skipped"]


# 1/5, 0/5, 0/5, 5/5 at 0/10/30/100: pybmds 25.2 fits Weibull with BMD 75.08 and a BMDL of 0
# (no value at all on some CPUs);
# its Session.recommend() on the same eight fits picks LogLogistic (BMD 48.57, BMDL 24.00)
# because a zero BMDL "does not exist"; the other BMDLs (9.9-24) are within 3-fold.
ZERO_BMDL = ([0, 10, 30, 100], [5, 5, 5, 5], [1, 0, 0, 5])


def test_epa_choice_is_pybmds_recommender_and_never_a_zero_bmdl():
    doses, ns, inc = ZERO_BMDL
    r = benchmark_dose(doses, ns, kind="dichotomous", incidence=inc)
    t = r.models.set_index("model")
    assert t.loc["Weibull", "bmd"] == pytest.approx(75.08, rel=1e-3)
    # pybmds' BMDL search ends at 0 here, or on some CPUs at its -9999 "no value" (NaN):
    # either way the bound does not exist and the model is not viable
    assert not t.loc["Weibull", "bmdl"] > 0 and not t.loc["Weibull", "viable"]
    assert "BMDL does not exist" in t.loc["Weibull", "notes"]
    assert r.model == "LogLogistic"
    assert (r.bmd, r.bmdl) == (pytest.approx(48.571, rel=1e-4), pytest.approx(23.997, rel=1e-4))
    assert r.reason == "BMDLs within 3-fold: lowest AIC"


def test_bmdrc_selection_skips_a_zero_bmdl():
    doses, ns, inc = ZERO_BMDL
    r = benchmark_dose(doses, ns, kind="dichotomous", incidence=inc, selection="bmdrc")
    # within 2 AIC of the best (11.348): Gamma 11.463 (BMDL 22.34), LogLogistic, LogProbit
    assert r.model == "Gamma" and r.bmdl == pytest.approx(22.343, rel=1e-4)
    assert not r.models.set_index("model").loc["Weibull", "viable"]
