"""Calibration curves: known parameters recovered, inverses, weights, failure modes."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from neurotox.stats.curves import (
    ABOVE,
    BELOW,
    NO_SIGNAL,
    OK,
    Curve,
    Model,
    fit_curve,
    fit_weights,
    logistic5,
)

TRUE5 = (2.0, 20000.0, 800.0, -1.2, 0.7)
X = np.array([10000 / 3 ** i for i in range(8)] * 2)


def test_logistic5_limits_and_vendor_form():
    a, b, c, d, f = TRUE5
    assert logistic5(0.0, *TRUE5) == pytest.approx(a)
    assert logistic5(1e12, *TRUE5) == pytest.approx(b, rel=1e-6)
    # xPONENT: y = A + (B - A) / (1 + (x/C)^D)^F, by hand at x = C: A + (B - A) / 2^F
    assert logistic5(c, *TRUE5) == pytest.approx(a + (b - a) / 2 ** f)


@pytest.mark.parametrize("model, params", [
    (Model.FIVE_PL, TRUE5),
    (Model.FOUR_PL, (2.0, 20000.0, 800.0, -1.2, 1.0)),
])
@pytest.mark.parametrize("weighting", ["none", "1/y", "1/y^2"])
def test_noise_free_standards_give_back_the_parameters(model, params, weighting):
    y = logistic5(X, *params)
    fit = fit_curve(X, y, model=model, weighting=weighting)
    assert fit.converged
    assert fit.curve.params == pytest.approx(params, rel=1e-5)
    assert fit.ss == pytest.approx(0.0, abs=1e-12 * np.sum(y ** 2))
    assert fit.r2 == pytest.approx(1.0)
    assert np.allclose(fit.recovery, 100.0, rtol=1e-6)


def test_inverse_round_trip_and_status_beyond_asymptotes():
    curve = Curve.logistic(*TRUE5)
    x = np.geomspace(0.5, 50000, 40)
    assert curve.inverse(curve.predict(x)) == pytest.approx(x, rel=1e-9)
    status = curve.status(np.array([1.0, 2.0, 500.0, 20000.0, 25000.0, np.nan]))
    assert list(status) == [BELOW, BELOW, OK, ABOVE, ABOVE, NO_SIGNAL]
    assert np.isnan(curve.inverse(np.array([1.0, 20001.0]))).all()
    assert curve.rising


def test_gen5_4pl_form_is_the_same_curve():
    # Gen5 prints Y = (A - D)/(1 + (X/C)^B) + D; A = 0.05, B = 1.1, C = 2000, D = 3.2
    gen5 = Curve.gen5_4pl(0.05, 1.1, 2000.0, 3.2)
    x = np.array([10.0, 2000.0, 9000.0])
    expected = (0.05 - 3.2) / (1 + (x / 2000.0) ** 1.1) + 3.2
    assert gen5.predict(x) == pytest.approx(expected)
    assert gen5.rising


@pytest.mark.parametrize("model", [Model.LINEAR, Model.LOG_LINEAR])
def test_lines_recover_slope_and_intercept(model):
    x = np.array([0.5, 1, 2, 4, 8, 16.0])
    t = x if model is Model.LINEAR else np.log10(x)
    fit = fit_curve(x, 0.02 + 0.15 * t, model=model)
    assert fit.curve.params == pytest.approx((0.02, 0.15))
    assert fit.curve.inverse(0.02 + 0.15 * t) == pytest.approx(x)


def test_weights_by_hand():
    y = np.array([2.0, -4.0, 0.0, 10.0])
    assert fit_weights(y, "1/y") == pytest.approx([0.5, 0.25, 1.0, 0.1])
    assert fit_weights(y, "1/y^2") == pytest.approx([0.25, 0.0625, 1.0, 0.01])
    assert fit_weights(y, "none") == pytest.approx([1, 1, 1, 1])


def test_variance_weights_use_replicates_and_a_power_model_for_the_rest():
    y = np.array([10.0, 12.0, 100.0, 110.0, 1000.0, 1000.0])
    groups = ["L", "L", "M", "M", "H", "H"]
    w = fit_weights(y, "1/variance", groups)
    assert w[0] == pytest.approx(1 / np.var([10, 12], ddof=1))
    assert w[2] == pytest.approx(1 / np.var([100, 110], ddof=1))
    # H has zero variance: predicted from log var = a + b log mean through L and M
    b = (math.log(50) - math.log(2)) / (math.log(105) - math.log(11))
    a = math.log(2) - b * math.log(11)
    assert w[4] == pytest.approx(1 / math.exp(a + b * math.log(1000)))


def test_variance_weights_need_replicates():
    fit = fit_curve(X[:8], logistic5(X[:8], *TRUE5), weighting="1/variance",
                    groups=list(range(8)))
    assert not fit.converged
    assert "replicates" in fit.message


def test_too_few_levels_is_reported_not_raised():
    fit = fit_curve([1, 10, 100, 1, 10], [1, 5, 9, 1, 5], model="5pl")
    assert not fit.converged
    assert "3 standard levels" in fit.message
    assert np.isnan(fit.curve.params).all()


def test_excluded_standards_are_not_fitted_but_recovered():
    y = logistic5(X, *TRUE5)
    y_bad = y.copy()
    y_bad[0] = y[0] * 0.5          # a damaged top standard
    use = np.ones(len(X), bool)
    use[0] = False
    fit = fit_curve(X, y_bad, weighting="1/y^2", use=use)
    assert fit.curve.params == pytest.approx(TRUE5, rel=1e-5)
    assert not fit.used[0]
    assert fit.recovery[0] < 50


@settings(max_examples=30, deadline=None)
@given(st.floats(0.3, 3.0), st.floats(0.4, 2.5), st.floats(50, 5000))
def test_inverse_is_the_inverse(slope, asym, mid):
    curve = Curve.logistic(1.0, 30000.0, mid, -slope, asym)
    x = np.geomspace(mid / 100, mid * 100, 9)
    y = curve.predict(x)
    ok = (y > 1.0 + 1e-6) & (y < 30000.0 * (1 - 1e-9))
    assert curve.inverse(y[ok]) == pytest.approx(x[ok], rel=1e-6)


def test_too_few_standards_say_what_is_missing():
    # stranger47 #18: "5 standard levels, five-parameter logistic needs more than 4"
    x = np.array([1000.0, 250.0, 62.5, 15.625, 3.90625])
    y = logistic5(x, *TRUE5)
    fit = fit_curve(x, y, model="5pl")
    assert not fit.converged
    assert fit.message == ("5 standard points (5 levels), five-parameter logistic needs more "
                           "than 5 points (its 5 parameters)")
    fit = fit_curve(x[:4], y[:4], model="5pl")
    assert fit.message == "4 standard levels, five-parameter logistic needs at least 5"
