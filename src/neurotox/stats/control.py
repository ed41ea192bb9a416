"""Many-to-one comparisons with a control: Dunnett, Dunn and Steel.

Each function takes ``control`` and the treated ``samples`` and returns a
:class:`~neurotox.stats._common.Comparison` with one statistic and one
familywise-adjusted p-value per treated group.
"""

from __future__ import annotations

import inspect
import itertools
import math
import warnings
from collections.abc import Sequence

import numpy as np
from scipy import stats as sps

from neurotox.stats._common import (
    Comparison,
    as_samples,
    check_alternative,
    holm,
    max_normal_sf,
    normal_p,
    tie_sum,
)

# SciPy >= 1.15 calls the seed ``rng``; older releases ``random_state``.
_DUNNETT_SEED = "rng" if "rng" in inspect.signature(sps.dunnett).parameters else "random_state"

#: Largest number of label arrangements enumerated by the exact Steel test.
STEEL_EXACT_LIMIT = 400_000


def dunnett(control: Sequence[float], *samples: Sequence[float],
            alternative: str = "two-sided", seed: int = 12345) -> Comparison:
    """Dunnett's many-to-one t test (one-way ANOVA pooled variance).

    Parameters
    ----------
    control
        Control observations.
    *samples
        Treated groups.
    alternative
        ``"two-sided"``, ``"greater"`` (treated > control) or ``"less"``.
    seed
        Seed of the quasi-Monte-Carlo integration of the multivariate t, so that
        repeated runs give identical p-values.

    Returns
    -------
    Comparison
        t statistics and Dunnett-adjusted p-values.

    Notes
    -----
    Computed with :func:`scipy.stats.dunnett`; p-values carry a numerical
    integration error of the order of 1e-4.

    References
    ----------
    Dunnett CW (1955). A multiple comparison procedure for comparing several
    treatments with a control. JASA 50:1096-1121.

    """
    check_alternative(alternative)
    ctrl, *treated = as_samples([control, *samples])
    with warnings.catch_warnings():
        # a group of identical values has variance exactly 0; SciPy warns anyway
        warnings.filterwarnings("ignore", "Precision loss occurred", RuntimeWarning)
        res = sps.dunnett(*treated, control=ctrl, alternative=alternative,
                          **{_DUNNETT_SEED: seed})
    return Comparison("Dunnett", np.asarray(res.statistic, float),
                      np.clip(np.asarray(res.pvalue, float), 0, 1), alternative,
                      method="multivariate t (QMC)", adjustment="dunnett")


def _midranks(pooled: np.ndarray) -> np.ndarray:
    return sps.rankdata(pooled)


def dunn(control: Sequence[float], *samples: Sequence[float], alternative: str = "two-sided",
         adjustment: str = "holm") -> Comparison:
    """Dunn's many-to-one rank test (joint ranking, Kruskal-Wallis variance).

    Parameters
    ----------
    control
        Control observations.
    *samples
        Treated groups.
    alternative
        ``"two-sided"``, ``"greater"`` or ``"less"``.
    adjustment
        ``"holm"`` (default), ``"bonferroni"`` or ``"none"``, over the k comparisons
        with control (not all pairs).

    Returns
    -------
    Comparison
        z statistics (treated minus control mean rank) and adjusted p-values.

    Notes
    -----
    ``z_i = (Rbar_i - Rbar_0) / sqrt(S2 (1/n_i + 1/n_0))`` with
    ``S2 = N(N+1)/12 - sum(t^3 - t) / (12 (N - 1))`` (tie correction).

    References
    ----------
    Dunn OJ (1964). Multiple comparisons using rank sums. Technometrics 6:241-252.

    """
    check_alternative(alternative)
    groups = as_samples([control, *samples])
    pooled = np.concatenate(groups)
    n = np.array([g.size for g in groups], dtype=float)
    ranks = _midranks(pooled)
    rbar = np.array([r.mean() for r in np.split(ranks, np.cumsum(n)[:-1].astype(int))])
    big_n = pooled.size
    s2 = big_n * (big_n + 1) / 12 - tie_sum(pooled) / (12 * (big_n - 1))
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (rbar[1:] - rbar[0]) / np.sqrt(s2 * (1 / n[1:] + 1 / n[0]))
    z = np.where(np.isfinite(z), z, 0.0)
    p = normal_p(z, alternative)
    if adjustment == "holm":
        p = holm(p)
    elif adjustment == "bonferroni":
        p = np.minimum(1.0, p * p.size)
    elif adjustment != "none":
        raise ValueError(f"adjustment must be 'holm', 'bonferroni' or 'none', found {adjustment!r}")
    return Comparison("Dunn", z, p, alternative, method="asymptotic", adjustment=adjustment,
                      extra={"mean_rank": rbar, "S2": np.array(s2)})


# ---------------------------------------------------------------- Steel


def _mw_scores(control: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Per-observation Mann-Whitney score: #controls below x plus half the ties."""
    c = np.sort(control)
    return np.searchsorted(c, x, side="left") + 0.5 * (
        np.searchsorted(c, x, side="right") - np.searchsorted(c, x, side="left"))


def _steel_standardise(u: np.ndarray, n0: int, n: np.ndarray) -> np.ndarray:
    mean = n0 * n / 2
    sd = np.sqrt(n0 * n * (n0 + n + 1) / 12)
    return (u - mean) / sd


def _side(z: np.ndarray, alternative: str) -> np.ndarray:
    if alternative == "greater":
        return z
    if alternative == "less":
        return -z
    return np.abs(z)


def _equal(sizes: Sequence[int]) -> bool:
    return len(set(sizes)) == 1


def _partitions(sizes: Sequence[int]) -> np.ndarray:
    """All assignments of ``sum(sizes)`` positions to labels 0..k-1 with given sizes.

    With equal sizes the labels are exchangeable for any symmetric statistic (the
    maximum over groups), so only one labelling per unordered partition is listed
    (the lowest free position always opens the next block): k! times fewer rows,
    each standing for the same number of labelled arrangements.
    """
    m = int(sum(sizes))
    symmetric = _equal(sizes)
    labels = np.zeros((1, m), dtype=np.int8)
    free = [np.arange(m)]
    for lab, size in enumerate(sizes[:-1]):
        new_labels, new_free = [], []
        for row, fr in zip(labels, free, strict=True):
            combos = ((0, *c) for c in itertools.combinations(range(1, fr.size), size - 1)) \
                if symmetric else itertools.combinations(range(fr.size), size)
            for comb in combos:
                r = row.copy()
                r[fr[list(comb)]] = lab
                new_labels.append(r)
                new_free.append(np.delete(fr, comb))
        labels, free = np.array(new_labels), new_free
    last = len(sizes) - 1
    for row, fr in zip(labels, free, strict=True):
        row[fr] = last
    return labels


def steel_arrangements(sizes: Sequence[int]) -> int:
    """Number of label arrangements the exact Steel test enumerates (control first).

    Distinct arrangements of the pooled values over the groups, divided by k! when
    the k treated groups have equal sizes (see :func:`_partitions`).
    """
    sizes = [int(s) for s in sizes]
    out = math.factorial(sum(sizes))
    for s in sizes:
        out //= math.factorial(s)
    if _equal(sizes[1:]):
        out //= math.factorial(len(sizes) - 1)
    return out


def _steel_exact_null(pooled: np.ndarray, n0: int, n: np.ndarray) -> np.ndarray:
    """Standardised Steel statistics over every arrangement of the pooled values.

    Returns an array (arrangements, k). Ties are handled exactly: the null is the
    permutation distribution conditional on the observed values. With equal treated
    sizes only one labelling per partition is listed, which leaves the distribution
    of the maximum over groups unchanged.
    """
    big_n = pooled.size
    treated_labels = _partitions([int(v) for v in n])          # (P, m)
    onehot = (treated_labels[:, :, None] == np.arange(n.size)).astype(float)  # (P, m, k)
    blocks = []
    for ctrl in itertools.combinations(range(big_n), n0):
        rest = np.delete(np.arange(big_n), ctrl)
        scores = _mw_scores(pooled[list(ctrl)], pooled[rest])  # (m,)
        blocks.append(np.einsum("pmk,m->pk", onehot, scores))
    u = np.concatenate(blocks, axis=0)
    return _steel_standardise(u, n0, n)


def _steel_asymptotic(u: np.ndarray, groups: list[np.ndarray],
                      alternative: str) -> tuple[np.ndarray, np.ndarray]:
    """Steel z from tie-corrected pairwise variances; familywise p from the one-factor MVN.

    ``Cov(U_i, U_j) = n0 n_i n_j tau / 12`` with ``tau = 1 - sum(t^3 - t) / (N^3 - N)``
    over the pooled sample, so ``corr = lam_i lam_j`` with
    ``lam_i = n_i sqrt(n0 tau / (12 Var U_i))``.
    """
    ctrl, treated = groups[0], groups[1:]
    n0 = ctrl.size
    n = np.array([t.size for t in treated], dtype=float)
    pooled = np.concatenate(groups)
    big_n = float(pooled.size)
    tau = 1 - tie_sum(pooled) / (big_n**3 - big_n)
    var = np.empty(n.size)
    for i, t in enumerate(treated):
        both = np.concatenate([ctrl, t])
        big = both.size
        var[i] = n0 * n[i] / 12 * ((big + 1) - tie_sum(both) / (big * (big - 1)))
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(var > 0, (u - n0 * n / 2) / np.sqrt(var), 0.0)
        lam = np.where(var > 0, n * np.sqrt(n0 * tau / (12 * var)), 0.0)
    lam = np.clip(lam, 0.0, 0.999)
    return z, max_normal_sf(_side(z, alternative), lam, two_sided=alternative == "two-sided")


def steel(control: Sequence[float], *samples: Sequence[float], alternative: str = "two-sided",
          method: str = "auto") -> Comparison:
    """Steel's many-one rank test: familywise comparisons of each group with control.

    Each treated group is ranked with the control only (pairwise rankings); the
    statistic is the Mann-Whitney count ``U_i`` (control-treated pairs with the
    treated value larger, ties counting 1/2), standardised to ``z_i``. The p-value of
    group i is the probability under H0 that the *maximum* standardised statistic
    over all k groups reaches ``z_i`` (single-step, like Dunnett).

    Parameters
    ----------
    control
        Control observations.
    *samples
        Treated groups.
    alternative
        ``"two-sided"``, ``"greater"`` or ``"less"``.
    method
        ``"exact"``: permutation distribution of the k statistics jointly, enumerating
        every arrangement of the pooled values (exact with ties, conditional on the
        observed values); ``"asymptotic"``: multivariate normal; ``"auto"``: exact
        when at most :data:`STEEL_EXACT_LIMIT` arrangements.

    Returns
    -------
    Comparison
        ``z`` statistics and familywise p-values.

    Notes
    -----
    Without ties ``Var(U_i) = n0 n_i (n0 + n_i + 1) / 12`` and
    ``Cov(U_i, U_j) = n0 n_i n_j / 12``, so the standardised statistics are
    one-factor correlated with ``corr = lam_i lam_j``, ``lam_i = sqrt(n_i / (n0 + n_i + 1))``
    (equicorrelation ``n / (2n + 1)`` for equal sizes, not 0.5). The asymptotic
    method standardises each ``U_i`` with its tie-corrected pairwise variance; the
    covariance ``n0 n_i n_j / 12`` is multiplied by the pooled-sample tie factor
    ``1 - sum(t^3 - t) / (N^3 - N)``, which keeps the one-factor structure; the
    exact method uses the no-tie standardisation for
    every arrangement (a monotone relabelling, so the test is exact).

    References
    ----------
    Steel RGD (1959). A multiple comparison rank sum test: treatments versus
    control. Biometrics 15:560-572.
    Scholz F (2023). On Steel's test with ties. arXiv:2308.05873.

    """
    check_alternative(alternative)
    groups = as_samples([control, *samples])
    ctrl, treated = groups[0], groups[1:]
    n0 = ctrl.size
    n = np.array([t.size for t in treated], dtype=float)
    u = np.array([_mw_scores(ctrl, t).sum() for t in treated])
    sizes = [n0, *[int(v) for v in n]]
    if method == "auto":
        method = "exact" if steel_arrangements(sizes) <= STEEL_EXACT_LIMIT else "asymptotic"
    if method == "exact":
        z = _steel_standardise(u, n0, n)
        null_max = _side(_steel_exact_null(np.concatenate(groups), n0, n), alternative).max(1)
        null_max = np.sort(null_max)
        obs = _side(z, alternative)
        ge = null_max.size - np.searchsorted(null_max, obs - 1e-9, side="left")
        p = ge / null_max.size
    elif method == "asymptotic":
        z, p = _steel_asymptotic(u, groups, alternative)
    else:
        raise ValueError(f"method must be 'auto', 'exact' or 'asymptotic', found {method!r}")
    return Comparison("Steel", z, np.clip(p, 0, 1), alternative, method=method,
                      extra={"U": u, "rank_sum": u + n * (n + 1) / 2},
                      adjustment="single-step max")
