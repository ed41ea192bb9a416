"""bmdrc-compatible dichotomous BMD (``engine="bmdrc"``) against bmdrc 1.2.0's outputs.

The reference run (``zebrafish/bmdrc/reference_outputs_1.2.0``) fitted bmdrc's
LPR example; its plate groups (affected / non-missing larvae per plate × dose)
are the input here, so these tests check the fitter alone. The whole pipeline
(from the raw LPR table) is checked in ``test_acceptance_shared.py``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from neurotox.stats.bmd import benchmark_dose, bmdrc_dichotomous

REF = "zebrafish/bmdrc/reference_outputs_1.2.0"
ENDPOINTS = ["ANY_AUC", "ANY_MOV", "AUC1", "AUC2", "AUC3", "AUC4", "MOV1", "MOV2", "MOV3",
             "MOV4"]
DOSES, NS, INC = [0, 10, 50, 150], [20, 20, 20, 20], [0, 2, 8, 15]


@pytest.fixture(scope="module")
def reference(shared_data):
    ref = shared_data / REF
    read = {name: pd.read_csv(ref / f"{name}.csv") for name in
            ("plate_groups", "bmds", "aic", "p_values")}
    for name in ("bmds", "aic", "p_values"):
        read[name] = read[name].set_index("bmdrc.Endpoint.ID")
    return read


@pytest.fixture(scope="module")
def fits(reference):
    pg = reference["plate_groups"]
    out = {}
    for ep in ENDPOINTS:
        rows = pg[pg["endpoint"] == ep]  # one row per plate x dose, as bmdrc has them
        out[ep] = bmdrc_dichotomous(rows["conc"], rows["bmdrc.num.nonna"],
                                    rows["bmdrc.num.affected"])
    return out


@pytest.mark.shared_data
def test_selected_model_bmd_and_bmdl_match_bmdrc(reference, fits):
    """Acceptance: same model for all ten LPR endpoints; BMD10, BMDL, BMD50 to 1e-5."""
    bmds = reference["bmds"]
    for ep in ENDPOINTS:
        ref, res = bmds.loc[f"2 {ep}"], fits[ep]
        assert res.model == ref["Model"], ep
        assert res.bmd == pytest.approx(ref["BMD10"], rel=1e-5), ep
        if np.isnan(ref["BMDL"]):  # no profile-likelihood crossing above BMD/10
            assert np.isnan(res.bmdl), ep
        else:
            assert res.bmdl == pytest.approx(ref["BMDL"], rel=1e-5), ep
        bmd50 = res.models.set_index("model").loc[res.model, "bmd50"]
        assert bmd50 == pytest.approx(ref["BMD50"], rel=1e-5), ep
        # the models table (bmdrc_bmd.csv) shows the BMDL reported, not the one on the
        # dose totals (AUC2, Log Probit: 4.4003 reported, 4.5249 on the totals)
        shown = res.models.loc[res.models["recommended"], "bmdl"].iloc[0]
        assert shown == pytest.approx(res.bmdl, nan_ok=True), ep


@pytest.mark.shared_data
def test_every_model_aic_and_gof_p_match_bmdrc(reference, fits):
    """All eight models: AIC (3 parameters for Gamma etc.) and chi-square p; NaN/inf too."""
    for ep in ENDPOINTS:
        t = fits[ep].models.set_index("model")
        for column, table in (("aic", "aic"), ("gof_p", "p_values")):
            ref = reference[table].loc[f"2 {ep}"].drop("bmdrc.Endpoint.ID", errors="ignore")
            for model, want in ref.items():
                got = t.loc[model, column]
                if np.isfinite(want):
                    assert got == pytest.approx(want, rel=1e-5), (ep, model, column)
                else:  # Probit with no control response, Weibull on MOV3
                    assert got == want or (np.isnan(got) and np.isnan(want)), \
                        (ep, model, column)


def test_pinned_small_example_and_selection_rule():
    r = bmdrc_dichotomous(DOSES, NS, INC)
    t = r.models.set_index("model")
    assert list(t.index) == ["Logistic", "Gamma", "Weibull", "Log Logistic", "Probit",
                             "Log Probit", "Multistage2", "Quantal Linear"]
    # AIC counts every parameter: 3 for Gamma even with its shape on no bound
    assert t.loc["Gamma", "aic"] == pytest.approx(-2 * t.loc["Gamma", "llf"] + 6)
    assert r.model == "Gamma"
    assert r.bmd == pytest.approx(9.5545178, rel=1e-6)
    assert r.bmdl == pytest.approx(1.7025691, rel=1e-6)
    # control with no response: Probit cannot start (as in bmdrc)
    assert np.isnan(t.loc["Probit", "aic"]) and not t.loc["Probit", "viable"]
    # Logistic fails the fit test; of the rest, lowest BMDL within 2 AIC of the best
    assert not t.loc["Logistic", "viable"]
    near = t[t["viable"] & (t["aic"] < t.loc[t["viable"], "aic"].min() + 2)]
    assert r.model == near["bmdl"].idxmin()
    assert r.reason == "lowest BMDL among models within 2 AIC of the best"


def test_rows_per_plate_give_the_same_fit():
    plates = bmdrc_dichotomous(np.repeat(DOSES, 2), np.repeat(NS, 2) / 2,
                               np.repeat(INC, 2) / 2)
    totals = bmdrc_dichotomous(DOSES, NS, INC)
    pd.testing.assert_frame_equal(plates.models.drop(columns="params"),
                                  totals.models.drop(columns="params"))
    assert plates.bmd == totals.bmd
    assert plates.bmdl == pytest.approx(totals.bmdl, rel=0.05)


def test_benchmark_dose_engine_option_and_default():
    via = benchmark_dose(DOSES, NS, kind="dichotomous", incidence=INC, engine="bmdrc")
    assert via.settings["engine"] == "bmdrc" and via.model == "Gamma"
    epa = benchmark_dose(DOSES, NS, kind="dichotomous", incidence=INC,
                         models=["Weibull", "Logistic", "QuantalLinear"])
    assert "engine" not in epa.settings and "pybmds" in epa.settings


@pytest.mark.parametrize("kwargs, message", [
    ({"kind": "continuous", "mean": [1, 2, 3, 4], "sd": [1] * 4, "engine": "bmdrc"},
     "engine='bmdrc' fits dichotomous data"),
    ({"kind": "dichotomous", "incidence": INC, "engine": "bmds"},
     "engine must be 'pybmds' or 'bmdrc'"),
])
def test_engine_errors(kwargs, message):
    with pytest.raises(ValueError, match=message):
        benchmark_dose(DOSES, NS, **kwargs)


def test_bmdrc_input_errors():
    with pytest.raises(ValueError, match="at least 3 doses"):
        bmdrc_dichotomous([0, 1], [10, 10], [0, 5])
    with pytest.raises(ValueError, match="unknown bmdrc model"):
        bmdrc_dichotomous(DOSES, NS, INC, models=["Hill"])
    with pytest.raises(ValueError, match="need one of each per row"):
        bmdrc_dichotomous(DOSES, NS, INC[:3])
