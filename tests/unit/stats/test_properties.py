"""Hypothesis property tests: p in [0, 1]; invariance to row order, location and scale."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import stats as sps

from neurotox import endpoints, stats
from neurotox.study import Group, StatisticsPlan

GROUPS = [Group(id="C", label="Control", dose=0, dose_unit="mg/kg/day", control=True),
          Group(id="L", label="Low", dose=3, dose_unit="mg/kg/day"),
          Group(id="H", label="High", dose=30, dose_unit="mg/kg/day")]

#: Shifted designs take grip strength below zero, outside its domain: these tests are
#: about the statistics, so the endpoint is given without its lower bound.
REG = {**endpoints.registry(), "grip_strength_forelimb":
       endpoints.get("grip_strength_forelimb").model_copy(update={"minimum": None})}

SETTINGS = settings(max_examples=25, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])

values = st.integers(min_value=-50, max_value=50).map(float)
group_values = st.lists(values, min_size=2, max_size=7)
designs = st.tuples(group_values, group_values, group_values)


def _table(design, *, shift=0.0, scale=1.0):
    rows = []
    for g, vals in zip(("C", "L", "H"), design, strict=True):
        for i, v in enumerate(vals):
            rows.append({"study_id": "S", "assay": "fob", "category": "neurobehavioral",
                         "endpoint": "grip_strength_forelimb", "unit": "g",
                         "subject": f"{g}{i}", "group": g,
                         "dose": {"C": 0.0, "L": 3.0, "H": 30.0}[g], "dose_unit": "mg/kg/day",
                         "sex": "M", "timepoint": "NA", "value": shift + scale * v,
                         "excluded": False, "exclusion_reason": "", "batch": "NA",
                         "source": "t"})
    return pd.DataFrame(rows)


PLANS = st.sampled_from([StatisticsPlan(), StatisticsPlan(nonparametric="steel"),
                         StatisticsPlan(sided="one", trend_method="jonckheere"),
                         StatisticsPlan(force_path="nonparametric")])

TESTED = ["statistic", "p_value", "trend_statistic", "trend_p"]


def _numbers(a):
    return a.results[TESTED].to_numpy(float)


@SETTINGS
@given(designs, PLANS)
def test_p_values_in_unit_interval(design, plan):
    a = stats.analyse(_table(design), plan, GROUPS, registry=REG)
    for col in ("p_value", "trend_p"):
        p = a.results[col].to_numpy(float)
        p = p[np.isfinite(p)]
        assert np.all((p >= 0) & (p <= 1))
    for col in ("normality_p", "homogeneity_p", "overall_p", "trend_p"):
        p = a.decisions[col].to_numpy(float)
        p = p[np.isfinite(p)]
        assert np.all((p >= 0) & (p <= 1))


@SETTINGS
@given(designs, PLANS, st.randoms(use_true_random=False))
def test_invariant_to_row_and_group_order(design, plan, rnd):
    t = _table(design)
    order = list(range(len(t)))
    rnd.shuffle(order)
    a = stats.analyse(t, plan, GROUPS, registry=REG)
    b = stats.analyse(t.iloc[order].reset_index(drop=True), plan, GROUPS[::-1], registry=REG)
    assert list(a.decisions["path"]) == list(b.decisions["path"])
    np.testing.assert_allclose(_numbers(a), _numbers(b), rtol=1e-7, atol=1e-12)


@SETTINGS
@given(designs, PLANS, st.sampled_from([-1000.0, 0.5, 37.0, 1e4]),
       st.sampled_from([0.25, 2.0, 8.0, 1000.0]))
def test_invariant_to_location_and_scale(design, plan, shift, scale):
    a = stats.analyse(_table(design), plan, GROUPS, registry=REG)
    b = stats.analyse(_table(design, shift=shift, scale=scale), plan, GROUPS, registry=REG)
    assert list(a.decisions["path"]) == list(b.decisions["path"])
    np.testing.assert_allclose(_numbers(a), _numbers(b), rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(b.results["mean"], shift + scale * a.results["mean"], rtol=1e-9)


@SETTINGS
@given(st.lists(st.tuples(st.integers(0, 20), st.integers(20, 40)), min_size=2, max_size=5))
def test_incidence_p_values_in_unit_interval(counts):
    x = [c[0] for c in counts]
    n = [c[1] for c in counts]
    for alt in ("two-sided", "greater", "less"):
        f = stats.fisher_vs_control(x, n, alternative=alt)
        assert np.all((f.p_value >= 0) & (f.p_value <= 1))
        for method in ("exact", "asymptotic"):
            res = stats.cochran_armitage(x, n, alternative=alt, method=method)
            if sum(x) in (0, sum(n)):  # nothing to trend: not testable, not p = 0.5
                assert res.method == "not testable" and np.isnan(res.p_value)
            else:
                assert 0 <= res.p_value <= 1


@settings(max_examples=15, deadline=None)
@given(st.integers(0, 2**32 - 1), st.sampled_from(["greater", "less", "two-sided"]))
def test_jonckheere_exact_and_asymptotic_agree_for_large_n(seed, alternative):
    rng = np.random.default_rng(seed)
    groups = [rng.normal(size=50) + 0.1 * rng.normal() * i for i in range(3)]
    ex = stats.jonckheere(groups, method="exact", alternative=alternative)
    asym = stats.jonckheere(groups, method="asymptotic", alternative=alternative)
    assert abs(ex.p_value - asym.p_value) < 0.006


@settings(max_examples=15, deadline=None)
@given(st.lists(st.integers(20, 80), min_size=3, max_size=4))
def test_cochran_armitage_exact_and_asymptotic_agree_for_large_n(affected):
    """Exact upper tail vs the normal tail with a half-step continuity correction.

    T = sum(s_i x_i) lives on the integers (scores 0, 1, ...), so the exact tail
    includes P(T = t); the continuity-corrected normal tail matches it for large n.
    """
    x, n = np.array(affected, float), np.full(len(affected), 300.0)
    s = np.arange(x.size, dtype=float)
    ex = stats.cochran_armitage(x, n, method="exact")
    asym = stats.cochran_armitage(x, n)
    pbar = x.sum() / n.sum()
    sd = np.sqrt(pbar * (1 - pbar) * (np.sum(n * s**2) - np.sum(n * s) ** 2 / n.sum()))
    z_cc = asym.statistic - 0.5 / sd
    assert abs(ex.p_value - sps.norm.sf(z_cc)) < 0.006


def _fuzz_registry():
    from neurotox.endpoints import Endpoint

    return {f"ep_{dt}_{d}": Endpoint(name=f"ep_{dt}_{d}", assays=("fob",), unit="u",
                                     data_type=dt, direction=d,
                                     categories=("neurobehavioral",), description="fuzz")
            for dt in ("continuous", "count", "proportion", "ordinal", "incidence")
            for d in ("increase", "decrease", "either")}


FUZZ_REG = _fuzz_registry()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(sorted(FUZZ_REG)),
       st.lists(st.lists(st.integers(0, 3).map(float), min_size=0, max_size=6),
                min_size=3, max_size=3),
       st.lists(st.booleans(), min_size=18, max_size=18),
       st.sampled_from([StatisticsPlan(), StatisticsPlan(sided="one", nonparametric="steel"),
                        StatisticsPlan(trend_test=False, pool_sexes=True),
                        StatisticsPlan(force_path="parametric", trend_method="jonckheere")]))
def test_analyse_never_crashes_and_keeps_the_contract(endpoint, design, excluded, plan):
    rows, k = [], 0
    for g, vals in zip(("C", "L", "H"), design, strict=True):
        for i, v in enumerate(vals):
            v = min(v, 1.0) if "incidence" in endpoint else v
            rows.append({"study_id": "S", "assay": "fob", "category": "neurobehavioral",
                         "endpoint": endpoint, "unit": "u", "subject": f"{g}{i}", "group": g,
                         "dose": {"C": 0.0, "L": 3.0, "H": 30.0}[g], "dose_unit": "mg",
                         "sex": "MF"[i % 2], "timepoint": "NA", "value": v,
                         "excluded": excluded[k], "exclusion_reason": "x" if excluded[k] else "",
                         "batch": "NA", "source": "t"})
            k += 1
    table = pd.DataFrame(rows, columns=list(endpoints.COLUMNS))
    a = stats.analyse(table, plan, GROUPS, registry=FUZZ_REG)
    assert list(a.results.columns) == stats.RESULT_COLUMNS
    assert list(a.decisions.columns) == stats.DECISION_COLUMNS
    assert set(a.decisions["path"]) <= {"parametric", "nonparametric", "incidence", "ordinal",
                                        "insufficient_data"}
    p = a.results["p_value"].to_numpy(float)
    assert np.all((p[np.isfinite(p)] >= 0) & (p[np.isfinite(p)] <= 1))
    assert (a.results.loc[a.results["is_control"], "test"] == "").all()
