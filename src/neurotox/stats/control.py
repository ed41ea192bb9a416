"""Many-to-one comparisons with a control: Dunnett, Dunn and Steel.

Each function takes ``control`` and the treated ``samples`` and returns a
:class:`~neurotox.stats._common.Comparison` with one statistic and one
familywise-adjusted p-value per treated group.
"""

from __future__ import annotations

import inspect
import warnings
from collections.abc import Sequence

import numpy as np
from scipy import stats as sps

from neurotox.stats import permutation
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


def _side(z: np.ndarray, alternative: str) -> np.ndarray:
    if alternative == "greater":
        return z
    if alternative == "less":
        return -z
    return np.abs(z)


def steel_moments(groups: Sequence[np.ndarray]) -> dict[str, np.ndarray]:
    """Null moments of the Mann-Whitney counts U_i given the pooled sample's ties.

    Under random assignment of all N pooled values (Steel 1959), with
    ``d`` the tie-group sizes of the pooled sample,
    ``U_i - mu_i = n_i sigma0 Z0 + sigma_i Z_i`` in the limit, where
    ``sigma0^2 = n0/12 (1 - sum d(d-1)(d-2) / (N(N-1)(N-2)))`` and
    ``sigma_i^2 = n0 n_i/12 (n0 + 1 - 3 sum d(d-1) / (N(N-1)) - (n0 - 2) sum
    d(d-1)(d-2) / (N(N-1)(N-2)))``; ``tau_i^2 = n_i^2 sigma0^2 + sigma_i^2`` is the
    exact permutation variance of U_i. These are kSamples' ``Steel.test`` moments.
    """
    ctrl, treated = groups[0], groups[1:]
    n0 = float(ctrl.size)
    n = np.array([t.size for t in treated], dtype=float)
    pooled = np.concatenate(groups)
    big = float(pooled.size)
    _, d = np.unique(pooled, return_counts=True)
    d = d.astype(float)
    d2 = np.sum(d * (d - 1)) / (big * (big - 1))
    d3 = np.sum(d * (d - 1) * (d - 2)) / (big * (big - 1) * (big - 2)) if big > 2 else 0.0
    sig0 = np.sqrt(max(n0 / 12 * (1 - d3), 0.0))
    sig = np.sqrt(np.maximum(n0 * n / 12 * (n0 + 1 - 3 * d2 - (n0 - 2) * d3), 0.0))
    return {"mu": n0 * n / 2, "sigma0": np.array(sig0), "sigma": sig,
            "tau": np.sqrt(n**2 * sig0**2 + sig**2), "n": n}


def _steel_asymptotic(u: np.ndarray, mom: dict[str, np.ndarray], alternative: str,
                      continuity: bool) -> np.ndarray:
    """Familywise p of each group from the one-factor multivariate normal (kSamples)."""
    tau = mom["tau"]
    with np.errstate(divide="ignore", invalid="ignore"):
        lam = np.where(tau > 0, mom["n"] * mom["sigma0"] / tau, 0.0)
        stat = np.where(tau > 0, (_side(u - mom["mu"], alternative)
                                  - (0.5 if continuity else 0.0)) / tau, -np.inf)
    lam = np.clip(lam, 0.0, 0.999999)
    p = max_normal_sf(stat, lam, two_sided=alternative == "two-sided")
    # The correction 0.5/tau_i differs between groups: keep p monotone in the
    # uncorrected statistic, so that the most extreme group's p is the familywise p
    # (kSamples reports that group's) and no less extreme group gets a smaller one.
    with np.errstate(divide="ignore", invalid="ignore"):
        z = _side(np.where(tau > 0, (u - mom["mu"]) / tau, 0.0), alternative)
    order = np.argsort(-z, kind="stable")
    p[order] = np.maximum.accumulate(p[order])
    return p


def _steel_increment(placed: np.ndarray, comps: np.ndarray) -> np.ndarray:
    """2 U_i added by a tie class split as ``comps`` after ``placed`` smaller values."""
    return comps[None, :, 1:] * (2 * placed[:, None, :1] + comps[None, :, :1])


def _steel_range(placed: np.ndarray) -> np.ndarray:
    """Number of possible (2 U_1, ..., 2 U_k) after placing these counts."""
    return np.prod(2.0 * placed[:, :1] * placed[:, 1:] + 1, axis=1)


def _steel_tail(null_z: np.ndarray, weights: np.ndarray, obs: np.ndarray) -> np.ndarray:
    """P(max side(z) >= obs_i) for each group i under the given null sample."""
    order = np.argsort(null_z)
    cum = np.concatenate([[0.0], np.cumsum(weights[order])])
    idx = np.searchsorted(null_z[order], obs - 1e-9 * np.maximum(1.0, np.abs(obs)),
                          side="left")
    return cum[-1] - cum[idx]


def _steel_null(groups: list[np.ndarray], mom: dict[str, np.ndarray], alternative: str,
                method: str, resamples: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Null maxima of the standardised statistics with their weights (exact or simulated)."""
    codes, table = permutation.tie_table(groups)
    if method == "exact":
        u2, prob = permutation.exact_distribution(table, _steel_increment, len(groups) - 1,
                                                  2 * table[:, :1].sum() * table[:, 1:].sum(0))
    else:
        parts = []
        for tabs in permutation.random_tables(codes, [g.size for g in groups], resamples,
                                              seed):
            low = permutation.below(tabs)
            parts.append(np.einsum("bjg,bj->bg", tabs[:, :, 1:],
                                   2 * low[:, :, 0] + tabs[:, :, 0]))
        u2 = np.concatenate(parts)
        prob = np.full(u2.shape[0], 1.0 / u2.shape[0])
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (u2 / 2 - mom["mu"]) / mom["tau"]
    return _side(np.nan_to_num(z), alternative).max(axis=1), prob


def steel_method(groups: Sequence[np.ndarray], method: str = "auto") -> tuple[str, float]:
    """The method ``auto`` resolves to, and the estimated work of the exact computation.

    ``exact`` when :func:`~neurotox.stats.permutation.exact_cost` is at most
    :data:`~neurotox.stats.permutation.EXACT_WORK_LIMIT` (estimated before
    running), otherwise ``monte_carlo`` when a group has fewer than
    :data:`STEEL_MC_BELOW` values (where the normal approximation is poor),
    otherwise ``asymptotic``.
    """
    _, table = permutation.tie_table(list(groups))
    size = permutation.exact_cost(table, _steel_range) if method in ("auto", "exact") \
        else np.nan
    if method != "auto":
        return method, size
    if size <= permutation.EXACT_WORK_LIMIT:
        return "exact", size
    return ("monte_carlo" if min(len(g) for g in groups) < STEEL_MC_BELOW
            else "asymptotic"), size


#: Below this group size ``method="auto"`` prefers Monte Carlo to the normal approximation.
STEEL_MC_BELOW = 10

#: Methods of :func:`steel`.
STEEL_METHODS = ("auto", "exact", "monte_carlo", "asymptotic")


def steel(control: Sequence[float], *samples: Sequence[float], alternative: str = "two-sided",
          method: str = "auto", continuity: bool = True,
          resamples: int = permutation.MC_RESAMPLES,
          seed: int = permutation.MC_SEED) -> Comparison:
    """Steel's many-one rank test: familywise comparisons of each group with control.

    Each treated group is ranked with the control only (pairwise rankings); the
    statistic is the Mann-Whitney count ``U_i`` (control-treated pairs with the
    treated value larger, ties counting 1/2), standardised by its permutation
    mean and standard deviation given the pooled sample (:func:`steel_moments`).
    The p-value of group i is the probability under H0 that the *maximum*
    standardised statistic over all k groups reaches group i's (single-step,
    like Dunnett); the smallest is the familywise p of kSamples' ``Steel.test``.

    Parameters
    ----------
    control
        Control observations.
    *samples
        Treated groups.
    alternative
        ``"two-sided"`` (maximum of ``|z|``), ``"greater"`` or ``"less"``.
    method
        ``"exact"``: the permutation distribution conditional on the pooled
        values (ties included), by enumeration of tie tables
        (:mod:`neurotox.stats.permutation`); ``"monte_carlo"``: ``resamples``
        random permutations with a fixed ``seed``; ``"asymptotic"``: one-factor
        multivariate normal; ``"auto"``: see :func:`steel_method`.
    continuity
        Continuity correction of 1/2 on U in the asymptotic test (kSamples' default).
    resamples, seed
        Monte Carlo size and seed (repeated runs give identical p-values).

    Returns
    -------
    Comparison
        ``z = (U - mu) / tau`` and familywise p-values; ``method`` says how p was
        obtained (``exact``, ``Monte Carlo (20000 permutations, seed ...)``,
        ``asymptotic``).

    Raises
    ------
    ValueError
        ``method="exact"`` on a design whose enumeration exceeds the limit (raised
        before enumerating).

    Notes
    -----
    The variance is corrected for ties from the pooled sample, as in Steel (1959)
    and kSamples, not pair by pair; the exact and Monte Carlo p-values count
    permutations whose maximum standardised statistic is at least the observed one
    (``>=``, ties included), Monte Carlo as a proportion of the resamples (as kSamples).

    References
    ----------
    Steel RGD (1959). A multiple comparison rank sum test: treatments versus
    control. Biometrics 15:560-572.
    Scholz F, Zhu A (2019). kSamples: K-Sample Rank Tests and their Combinations.
    R package version 1.2-9.

    """
    check_alternative(alternative)
    if method not in STEEL_METHODS:
        raise ValueError(f"method must be one of {STEEL_METHODS}, found {method!r}")
    groups = as_samples([control, *samples])
    ctrl, treated = groups[0], groups[1:]
    u = np.array([_mw_scores(ctrl, t).sum() for t in treated])
    mom = steel_moments(groups)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(mom["tau"] > 0, (u - mom["mu"]) / mom["tau"], 0.0)
    method, size = steel_method(groups, method)
    if method == "asymptotic":
        p = _steel_asymptotic(u, mom, alternative, continuity)
        label = "asymptotic" + (" (continuity-corrected)" if continuity else "")
    else:
        if method == "exact" and size > permutation.EXACT_WORK_LIMIT:
            raise ValueError(
                f"exact Steel test for group sizes {[g.size for g in groups]} would exceed "
                f"{permutation.EXACT_WORK_LIMIT:.2g} table steps (estimated before running); "
                "use method='monte_carlo' or 'asymptotic'")
        null_max, prob = _steel_null(groups, mom, alternative, method, resamples, seed)
        p = _steel_tail(null_max, prob, _side(z, alternative))
        label = "exact" if method == "exact" else \
            f"Monte Carlo ({resamples} permutations, seed {seed})"
    return Comparison("Steel", z, np.clip(p, 0, 1), alternative, method=label,
                      extra={"U": u, "rank_sum": u + mom["n"] * (mom["n"] + 1) / 2,
                             "tau": mom["tau"]},
                      adjustment="single-step max")
