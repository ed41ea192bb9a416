"""Each test against an independent truth: reductions to classical tests, brute force,
simulation of the null, other implementations, closed forms."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
import scikit_posthocs as sp
from scipy import stats as sps

from neurotox import stats
from neurotox.stats.control import _mw_scores, steel_moments


def test_steel_k1_is_exact_mann_whitney():
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=6), rng.normal(size=5) + 1
    for alt in ("two-sided", "greater", "less"):
        mine = stats.steel(x, y, alternative=alt, method="exact").p_value[0]
        ref = sps.mannwhitneyu(y, x, alternative=alt, method="exact").pvalue
        assert mine == pytest.approx(ref, rel=1e-12), alt


def _brute_steel(groups, alternative):
    """Enumerate every distinct relabelling with itertools (independent of the table DP)."""
    pooled = np.concatenate(groups)
    labels = np.repeat(np.arange(len(groups)), [g.size for g in groups])
    mom = steel_moments(groups)  # depends on the pooled sample only: the same for every relabelling

    def maxz(lab):
        u = np.array([_mw_scores(pooled[lab == 0], pooled[lab == i]).sum()
                      for i in range(1, len(groups))])
        z = (u - mom["mu"]) / mom["tau"]
        return {"greater": z, "less": -z, "two-sided": np.abs(z)}[alternative]

    obs = maxz(labels)
    null = np.array([maxz(np.array(p)).max() for p in set(itertools.permutations(labels))])
    return np.array([(null >= o - 1e-9).mean() for o in obs])


@pytest.mark.parametrize("alternative", ["two-sided", "greater", "less"])
def test_steel_exact_matches_brute_force_with_ties(alternative):
    groups = [np.array([1.0, 2.0, 2.0]), np.array([2.0, 3.0]), np.array([3.0, 3.0, 5.0])]
    mine = stats.steel(*groups, alternative=alternative, method="exact").p_value
    np.testing.assert_allclose(mine, _brute_steel(groups, alternative), rtol=1e-12)


@pytest.mark.parametrize("alternative", ["two-sided", "greater"])
def test_steel_exact_equal_sizes_matches_brute_force(alternative):
    groups = [np.array([1.0, 2.0, 4.0]), np.array([2.0, 3.0]), np.array([3.0, 6.0]),
              np.array([0.5, 2.0])]
    mine = stats.steel(*groups, alternative=alternative, method="exact").p_value
    np.testing.assert_allclose(mine, _brute_steel(groups, alternative), rtol=1e-12)


def test_steel_asymptotic_matches_simulated_null():
    """MVN with corr n/(2n+1) reproduces the simulated familywise null of max z."""
    from neurotox.stats._common import max_normal_sf

    rng = np.random.default_rng(5)
    n, k, nsim = 15, 3, 6000
    sims = rng.normal(size=(nsim, k + 1, n))
    u = np.array([[_mw_scores(s[0], s[i]).sum() for i in range(1, k + 1)] for s in sims])
    maxz = ((u - n * n / 2) / np.sqrt(n * n * (2 * n + 1) / 12)).max(axis=1)
    for c in (1.5, 2.0, 2.5):
        p_mc = (maxz >= c).mean()
        lam = np.full(k, np.sqrt(n / (2 * n + 1)))
        p = max_normal_sf(np.array(c), lam, two_sided=False)
        assert abs(p - p_mc) < 4 * np.sqrt(p_mc * (1 - p_mc) / nsim) + 0.004, c


def test_dunn_matches_scikit_posthocs_control_column():
    rng = np.random.default_rng(2)
    groups = [rng.normal(size=8), rng.normal(size=7) + 1, rng.normal(size=9) + 0.5]
    df = pd.DataFrame({"v": np.concatenate(groups),
                       "g": np.repeat([0, 1, 2], [g.size for g in groups])})
    ref = sp.posthoc_dunn(df, val_col="v", group_col="g", p_adjust=None)
    mine = stats.dunn(*groups, adjustment="none")
    np.testing.assert_allclose(mine.p_value, [ref.loc[1, 0], ref.loc[2, 0]], rtol=1e-10)
    holm = stats.dunn(*groups).p_value
    p = np.sort(mine.p_value)
    assert np.sort(holm)[0] == pytest.approx(2 * p[0])


def test_williams_one_dose_is_one_sided_t_test():
    rng = np.random.default_rng(3)
    c, d = rng.normal(size=7), rng.normal(size=6) + 0.8
    w = stats.williams([c, d], alternative="greater")
    t = sps.ttest_ind(d, c, alternative="greater")
    assert w.statistic == pytest.approx(t.statistic, rel=1e-12)
    assert w.p_value == pytest.approx(t.pvalue, abs=2e-4)


def test_williams_p_matches_plain_simulation():
    rng = np.random.default_rng(4)
    groups = [rng.normal(size=5), rng.normal(size=5), rng.normal(size=5) + 0.4,
              rng.normal(size=5) + 0.9]
    w = stats.williams(groups)
    # plain simulation of the whole design under H0
    sims = rng.normal(size=(40000, 4, 5))
    means = sims.mean(axis=2)
    s = np.sqrt(sims.var(axis=2, ddof=1).mean(axis=1))
    m = np.maximum.reduce([means[:, u:].mean(axis=1) for u in range(1, 4)])
    tbar = (m - means[:, 0]) / (s * np.sqrt(2 / 5))
    p_mc = (tbar >= w.statistic).mean()
    assert abs(w.p_value - p_mc) < 4 * np.sqrt(p_mc * (1 - p_mc) / 40000) + 1e-3


def test_williams_isotonic_amalgamation_and_step_down():
    # dose means 1, 3, 2 (non-monotone): top two amalgamate to 2.5
    groups = [np.array([0.0, 0.1, -0.1]), np.array([1.0, 1.1, 0.9]),
              np.array([3.0, 3.1, 2.9]), np.array([2.0, 2.1, 1.9])]
    w = stats.williams(groups)
    s = 0.1
    expected_top = (2.5 - 0.0) / (s * np.sqrt(2 / 3))
    assert w.per_dose_statistic[-1] == pytest.approx(expected_top)
    assert w.significant.all()
    down = stats.williams([g[::-1] * -1 for g in groups], alternative="less")
    assert down.per_dose_statistic[-1] == pytest.approx(expected_top)


def test_shirley_williams_detects_monotone_ranks():
    groups = [np.arange(6.0), np.arange(6.0) + 3, np.arange(6.0) + 8, np.arange(6.0) + 20]
    r = stats.shirley_williams(groups)
    assert r.significant.all() and r.p_value < 0.001
    flat = stats.shirley_williams([np.arange(6.0)] * 4)
    assert flat.p_value > 0.3 and not flat.significant.any()


@pytest.mark.parametrize("alternative", ["greater", "less", "two-sided"])
def test_jonckheere_exact_and_asymptotic_agree_for_large_n(alternative):
    rng = np.random.default_rng(6)
    groups = [rng.normal(size=50) + 0.08 * i for i in range(3)]
    ex = stats.jonckheere(groups, method="exact", alternative=alternative)
    asym = stats.jonckheere(groups, method="asymptotic", alternative=alternative)
    assert ex.p_value == pytest.approx(asym.p_value, abs=0.005)


def _brute_jt(groups):
    """Exact conditional null of J by enumerating every distinct relabelling."""
    pooled = np.concatenate([np.asarray(g, float) for g in groups])
    labels = np.repeat(np.arange(len(groups)), [len(g) for g in groups])

    def jstat(lab):
        parts = [pooled[lab == i] for i in range(len(groups))]
        return sum(_mw_scores(parts[a], parts[b]).sum()
                   for a in range(len(parts)) for b in range(a + 1, len(parts)))

    return jstat(labels), np.array([jstat(np.array(p))
                                    for p in set(itertools.permutations(labels))])


def test_jonckheere_ties_use_corrected_variance_and_exact_conditional_null():
    r = stats.jonckheere([[1, 1, 2, 2], [2, 2, 3, 3], [3, 3, 4, 4]], method="asymptotic")
    # ties count 1/2: hand count between consecutive groups
    assert r.statistic == pytest.approx(14 + 14 + 16)
    groups = [[1, 1, 2], [2, 3], [2, 3, 3]]
    obs, null = _brute_jt(groups)
    centre = null.mean()
    expected = {"greater": (null >= obs - 1e-9).mean(), "less": (null <= obs + 1e-9).mean(),
                "two-sided": (np.abs(null - centre) >= abs(obs - centre) - 1e-9).mean()}
    for alternative, p in expected.items():
        ex = stats.jonckheere(groups, method="exact", alternative=alternative)
        assert ex.method == "exact" and ex.p_value == pytest.approx(p, rel=1e-12), alternative
    assert stats.jonckheere(groups).method == "exact"  # auto: exact is cheap here


def test_jonckheere_exact_null_reused_for_the_same_tie_pattern():
    """The exact null is cached by margins: data with the same tie pattern but other
    values per group (another endpoint of the study) still get their own exact p."""
    first = [[1, 1, 2], [2, 3], [2, 3, 3]]
    second = [[3, 2, 3], [1, 2], [1, 2, 3]]  # class sizes 2, 3, 3; groups 3, 2, 3 again
    stats.jonckheere(first, method="exact", alternative="greater")
    obs, null = _brute_jt(second)
    again = stats.jonckheere(second, method="exact", alternative="greater")
    assert again.p_value == pytest.approx((null >= obs - 1e-9).mean(), rel=1e-12)
    assert again.p_value != pytest.approx(
        stats.jonckheere(first, method="exact", alternative="greater").p_value)


def test_cochran_armitage_exact_and_asymptotic_agree_for_large_n():
    x, n = [30, 36, 40, 45], [200] * 4
    ex = stats.cochran_armitage(x, n, [0, 1, 2, 3], method="exact")
    asym = stats.cochran_armitage(x, n, [0, 1, 2, 3])
    assert ex.p_value == pytest.approx(asym.p_value, abs=0.004)


def test_cochran_armitage_score_invariance_under_affine_map():
    x, n = [1, 2, 4, 7], [10, 10, 10, 10]
    a = stats.cochran_armitage(x, n, [0, 10, 30, 100], method="exact")
    b = stats.cochran_armitage(x, n, [5, 6, 8, 15], method="exact")
    assert a.p_value == pytest.approx(b.p_value, rel=1e-12)


def test_mixed_model_balanced_matches_anova_moments():
    """Balanced random-intercept design: REML = ANOVA (moment) estimates when positive."""
    rng = np.random.default_rng(8)
    rows = []
    for g in ("C", "T"):
        for s in range(10):
            b = rng.normal(0, 3)
            for t in ("t1", "t2", "t3"):
                rows.append({"group": g, "subject": f"{g}{s}", "timepoint": t,
                             "value": 10 + b + (2 if (g, t) == ("T", "t3") else 0)
                             + rng.normal(0, 1)})
    d = pd.DataFrame(rows)
    fit = stats.mixed_model(d, control="C")
    cell = d.groupby(["group", "timepoint"])["value"].mean()
    # time in sum-to-zero coding: the intercept is the control mean over timepoints
    assert fit.params["Intercept"] == pytest.approx(cell["C"].mean(), rel=1e-6)
    subj_mean = d.groupby("subject")["value"].transform("mean")
    cellm = d.groupby(["group", "timepoint"])["value"].transform("mean")
    grpm = d.groupby("group")["value"].transform("mean")
    resid = d["value"] - subj_mean - cellm + grpm
    ms_e = (resid**2).sum() / ((20 - 2) * (3 - 1))
    ms_s = 3 * ((d.groupby("subject")["value"].mean()
                 - d.groupby("subject")["group"].first().map(
                     d.groupby("group")["value"].mean())) ** 2).sum() / (20 - 2)
    assert fit.sd_resid**2 == pytest.approx(ms_e, rel=1e-4)
    assert fit.sd_random**2 == pytest.approx((ms_s - ms_e) / 3, rel=1e-3)
    assert fit.interaction["df"] == 2


def test_steel_asymptotic_with_ties_matches_permutation_null():
    """Tied ordinal scores, n=15: MVN p vs Monte Carlo of the exact permutation null."""
    rng = np.random.default_rng(9)
    groups = [rng.integers(0, 4, 15).astype(float), rng.integers(0, 4, 15) + 0.0,
              np.minimum(rng.integers(0, 4, 15) + 1, 4).astype(float)]
    pooled = np.concatenate(groups)
    asym = stats.steel(*groups, method="asymptotic")
    nperm = 4000
    null = np.empty(nperm)
    for b in range(nperm):
        perm = rng.permutation(pooled)
        c, t1, t2 = perm[:15], perm[15:30], perm[30:]
        z = [stats.steel(c, t1, t2, method="asymptotic").statistic]
        null[b] = np.abs(z).max()
    for z_obs, p in zip(np.abs(asym.statistic), asym.p_value, strict=True):
        p_mc = (null >= z_obs - 1e-12).mean()
        assert abs(p - p_mc) < 4 * np.sqrt(p_mc * (1 - p_mc) / nperm) + 0.01


@pytest.mark.parametrize("reml", [True, False])
def test_mixed_model_loglik_is_the_restricted_likelihood(reml):
    """llf equals Harville's REML (or the ML) log-likelihood computed by hand at the fit."""
    rng = np.random.default_rng(0)
    rows = []
    for rat in range(12):
        diet, b = 1 + rat // 4, rng.normal(0, 30)
        for t in (1, 8, 15, 22, 29, 36):
            rows.append({"Rat": str(rat), "Diet": str(diet), "Time": float(t),
                         "weight": 250 + 100 * (diet > 1) + b + 0.4 * t + rng.normal(0, 5)})
    d = pd.DataFrame(rows)
    fit = stats.mixed_model(d, "weight ~ Time * C(Diet)", subject="Rat", group="Diet",
                            reml=reml)
    x = np.column_stack([np.ones(len(d)), d["Diet"] == "2", d["Diet"] == "3", d["Time"],
                         d["Time"] * (d["Diet"] == "2"), d["Time"] * (d["Diet"] == "3")])
    y = d["weight"].to_numpy()
    z = (d["Rat"].to_numpy()[:, None] == d["Rat"].unique()).astype(float)
    v = fit.sd_resid**2 * np.eye(len(d)) + fit.sd_random**2 * z @ z.T
    vi = np.linalg.inv(v)
    xtvix = x.T @ vi @ x
    beta = np.linalg.solve(xtvix, x.T @ vi @ y)
    r = y - x @ beta
    n, p = x.shape
    ll = -0.5 * (np.linalg.slogdet(v)[1] + r @ vi @ r)
    ll += -0.5 * ((n - p) * np.log(2 * np.pi) + np.linalg.slogdet(xtvix)[1]) if reml \
        else -0.5 * n * np.log(2 * np.pi)
    assert fit.llf == pytest.approx(ll, abs=1e-6)
    names = ["Intercept", "C(Diet)[T.2]", "C(Diet)[T.3]", "Time", "Time:C(Diet)[T.2]",
             "Time:C(Diet)[T.3]"]
    np.testing.assert_allclose(fit.params[names].to_numpy(), beta, rtol=1e-8)


def test_williams_design_critical_values_match_tables_and_p():
    # equal replication r = 1, c = 1 at df = inf: Williams (1971) Table 1, k = 1..3
    cv = stats.trend.design_critical_values(1.0, (1.0, 1.0, 1.0), np.inf, 0.05,
                                            nsim=2**18)
    np.testing.assert_allclose(cv, [1.645, 1.716, 1.739], atol=0.003)
    rng = np.random.default_rng(10)
    groups = [rng.normal(size=8)] + [rng.normal(size=6) + d for d in (0.2, 0.6, 1.2)]
    w = stats.williams(groups)
    # t-bar >= critical value exactly when p <= alpha
    assert np.array_equal(w.per_dose_statistic >= w.critical_value, w.per_dose_p <= 0.05)


def test_intermediate_quantities_are_exposed():
    groups = [np.array([0.0, 0.1, -0.1]), np.array([1.0, 1.1, 0.9]),
              np.array([3.0, 3.1, 2.9]), np.array([2.0, 2.1, 1.9])]
    w = stats.williams(groups)
    np.testing.assert_allclose(w.extra["amalgamated_means"], [1.0, 3.0, 2.5])
    assert w.extra["s"] == pytest.approx(0.1) and w.extra["df"] == 8
    st = stats.steel(groups[0], groups[1], method="exact")
    # treated ranks 4, 5, 6 in the pooled pair: rank sum 15, U = 9
    assert st.extra["rank_sum"][0] == 15 and st.extra["U"][0] == 9
    d = stats.dunn(*groups)
    np.testing.assert_allclose(d.extra["mean_rank"], [2, 5, 11, 8])


@pytest.mark.parametrize("alternative", ["two-sided", "greater", "less"])
def test_dunnett_p_matches_one_factor_integral(alternative):
    """scipy.stats.dunnett p vs a deterministic 2-D integral of the multivariate t."""
    from scipy import integrate

    from neurotox.stats._common import max_normal_sf

    rng = np.random.default_rng(21)
    ctrl = rng.normal(size=9)
    treated = [rng.normal(size=n) + d for n, d in ((7, 0.3), (8, -0.9), (6, 1.1))]
    res = stats.dunnett(ctrl, *treated, alternative=alternative)
    n0, n = 9, np.array([7, 8, 6])
    lam = np.sqrt(n / (n + n0))
    df = n0 + n.sum() - 4
    t = {"two-sided": np.abs, "greater": lambda x: x, "less": lambda x: -x}[alternative](
        res.statistic)
    def sf(c):
        def f(u):
            return max_normal_sf(np.array(c * u), lam, two_sided=alternative == "two-sided") \
                * sps.chi.pdf(u * np.sqrt(df), df) * np.sqrt(df)
        return integrate.quad(f, 0, np.inf, limit=200)[0]

    for ti, p in zip(t, res.p_value, strict=True):
        assert p == pytest.approx(sf(ti), abs=5e-4)


def test_no_dose_trend_test_when_the_groups_are_not_ordered_by_dose():
    """Sham, model and drug at dose 0 (a CIPN design): comparisons with control, no trend."""
    rng = np.random.default_rng(1)
    samples = [rng.normal(10, 1, 8), rng.normal(12, 1, 8), rng.normal(11, 1, 8)]
    flat = stats.compare_to_control(samples, doses=[0, 0, 0])
    ordered = stats.compare_to_control(samples, doses=[0, 1, 2])
    assert flat.decision["trend_test"] == "" and np.isnan(flat.trend_p).all()
    assert "no trend test: every group has the same dose (or none)" in flat.decision["note"]
    shuffled = stats.compare_to_control(samples, doses=[0, 2, 1])
    assert "not ordered by increasing dose" in shuffled.decision["note"]
    assert np.isnan(shuffled.trend_p).all()
    two = stats.compare_to_control(samples[:2], doses=[0, 0])     # two undosed groups
    assert two.decision["trend_test"] == "" and "same dose" in two.decision["note"]
    assert ordered.decision["trend_test"] == "Williams"
    np.testing.assert_array_equal(flat.p_value, ordered.p_value)  # same Dunnett tests
