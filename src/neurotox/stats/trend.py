"""Monotone dose-trend tests: Williams, Shirley-Williams and Jonckheere-Terpstra.

Groups are given in increasing dose order with the control first.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import numpy as np
from scipy import optimize, special
from scipy import stats as sps
from scipy.stats import qmc

from neurotox.stats import permutation
from neurotox.stats._common import Trend, as_samples, check_alternative, normal_p, tie_sum

#: Default number of simulated null draws for Williams p-values.
WILLIAMS_NSIM = 2**14

# ---------------------------------------------------------------- Williams


def _amalgamated_top_means(means: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """``M_i = max_{1<=u<=i} weighted mean(X_u..X_i)`` for every i (last axis = groups).

    This is the isotonic (amalgamated) estimate of the highest dose of the design
    restricted to treated groups 1..i; the control is *not* amalgamated.
    """
    c = np.cumsum(means * weights, axis=-1)
    w = np.cumsum(weights)
    k = means.shape[-1]
    out = np.empty_like(means)
    for i in range(k):
        num = c[..., i:i + 1] - np.concatenate(
            [np.zeros_like(c[..., :1]), c[..., :i]], axis=-1)
        den = w[i] - np.concatenate([[0.0], w[:i]])
        out[..., i] = np.max(num / den, axis=-1)
    return out


@functools.lru_cache(maxsize=64)
def _null_uniforms(k: int, nsim: int, seed: int) -> np.ndarray:
    """Scrambled Sobol points in (0, 1)^(k+1): k normal means plus the chi scale."""
    sobol = qmc.Sobol(d=k + 1, scramble=True, seed=seed)
    u = sobol.random(nsim)
    return np.clip(u, 1e-12, 1 - 1e-12)


@functools.lru_cache(maxsize=256)
def _williams_null_m(n_treated: tuple[float, ...], nsim: int, seed: int) -> np.ndarray:
    """Amalgamated means M_i (unit error variance) under H0 at quasi-random points."""
    n = np.asarray(n_treated, float)
    x = special.ndtri(_null_uniforms(n.size, nsim, seed)[:, :n.size]) / np.sqrt(n)
    return _amalgamated_top_means(x, n)


@functools.lru_cache(maxsize=256)
def _chi_scale(k: int, df: float, nsim: int, seed: int) -> np.ndarray:
    if not np.isfinite(df):
        return np.ones(nsim)
    u = _null_uniforms(k, nsim, seed)[:, k]
    return np.sqrt(sps.chi2.ppf(u, df) / df)


def _williams_sf(t: np.ndarray, n0: float, n: np.ndarray, df: float, *, nsim: int,
                 seed: int) -> np.ndarray:
    """P(T_i >= t_i) for each dose level i under H0 (conditional Monte Carlo).

    The control mean is integrated analytically:
    ``P(M_i - X0 >= t tau s) = E[Phi((M_i - t tau_i s) sqrt(n0))]``.
    """
    m = _williams_null_m(tuple(float(v) for v in n), nsim, seed)
    s = _chi_scale(len(n), float(df), nsim, seed)[:, None]
    tau = np.sqrt(1 / n + 1 / n0)
    return special.ndtr((m - np.asarray(t) * tau * s) * np.sqrt(n0)).mean(axis=0)


def williams_critical_values(k: int, df: float = np.inf, alpha: float = 0.05, *, w: float = 1.0,
                             nsim: int = 2**18, seed: int = 2024) -> np.ndarray:
    """Upper ``alpha`` points of Williams' t-bar for 1..k dose levels.

    Equal replication r of the dose groups and ``c = w r`` of the control; error
    degrees of freedom ``df`` (``inf`` for a known variance).

    Parameters
    ----------
    k
        Largest number of dose levels.
    df
        Error degrees of freedom.
    alpha
        One-sided level.
    w
        Control replication relative to the dose groups.
    nsim, seed
        Simulation size and seed.

    Returns
    -------
    numpy.ndarray
        Critical values for i = 1..k dose levels.

    Notes
    -----
    Computed by conditional Monte Carlo (the control mean is integrated
    analytically), not taken from tables. Williams (1972) summarised the effect of
    the control replication as ``t(w) = t(1) - 0.01 beta (1 - 1/w)``.

    References
    ----------
    Williams DA (1971). A test for differences between treatment means when several
    dose levels are compared with a zero dose control. Biometrics 27:103-117.
    Williams DA (1972). The comparison of several dose levels with a zero dose
    control. Biometrics 28:519-531.

    """
    n = np.ones(k)
    m = _williams_null_m(tuple(n), nsim, seed)
    scale = _chi_scale(k, float(df), nsim, seed)
    tau = np.sqrt(1 + 1 / w)
    out = np.empty(k)
    for i in range(k):
        def excess(t: float, i: int = i) -> float:
            return special.ndtr((m[:, i] - t * tau * scale) * np.sqrt(w)).mean() - alpha
        out[i] = optimize.brentq(excess, 0.0, 10.0, xtol=1e-7)
    return out


def _williams_one_direction(means: np.ndarray, n: np.ndarray, s: float, *, nsim: int,
                            seed: int, df: float) -> tuple[np.ndarray, np.ndarray]:
    m = _amalgamated_top_means(means[1:], n[1:])
    tau = np.sqrt(1 / n[1:] + 1 / n[0])
    t = (m - means[0]) / (s * tau) if s > 0 else np.where(m > means[0], np.inf, 0.0)
    return t, _williams_sf(t, n[0], n[1:], df, nsim=nsim, seed=seed)


def step_down_p(p: np.ndarray) -> np.ndarray:
    """Step-down adjusted p of doses in increasing order: max over this and higher doses.

    A dose is significant at alpha in the step-down from the highest dose exactly
    when its adjusted p is <= alpha; a missing p (NaN) stops the step-down, so it
    makes every lower dose's adjusted p NaN.
    """
    p = np.asarray(p, dtype=float)
    return np.maximum.accumulate(p[::-1])[::-1] if p.size else p


def _step_down(p: np.ndarray, alpha: float) -> np.ndarray:
    return step_down_p(p) <= alpha


def _williams_core(means: np.ndarray, n: np.ndarray, s: float, df: float, alternative: str,
                   alpha: float, nsim: int, seed: int, name: str, method: str) -> Trend:
    dirs = {"greater": [1.0], "less": [-1.0], "two-sided": [1.0, -1.0]}[alternative]
    best = None
    for sign in dirs:
        t, p = _williams_one_direction(sign * means, n, s, nsim=nsim, seed=seed, df=df)
        if best is None or t[-1] > best[0][-1]:
            best = (t, p, sign)
    t, p, sign = best
    if alternative == "two-sided":
        p = np.minimum(1.0, 2 * p)
    p = np.clip(p, 0, 1)
    level = alpha / 2 if alternative == "two-sided" else alpha
    cv = design_critical_values(float(n[0]), tuple(float(v) for v in n[1:]), df, level,
                                nsim=nsim, seed=seed)
    amalgamated = sign * _amalgamated_top_means(sign * means[1:], n[1:])
    return Trend(name, float(t[-1]), float(p[-1]), alternative, method=method,
                 per_dose_statistic=t, per_dose_p=p, critical_value=cv,
                 significant=_step_down(p, alpha),
                 extra={"direction": sign, "amalgamated_means": amalgamated,
                        "control_mean": float(means[0]), "s": float(s), "df": df})


@functools.lru_cache(maxsize=512)
def design_critical_values(n0: float, n_treated: tuple[float, ...], df: float, alpha: float, *,
                           nsim: int = WILLIAMS_NSIM, seed: int = 2024) -> np.ndarray:
    """Upper ``alpha`` points of t-bar_i, i = 1..k, for the actual group sizes and df.

    Solves ``P(T_i >= c_i) = alpha`` on the simulated null of :func:`williams`
    (unequal replication handled directly rather than through Williams' beta).
    """
    n = np.asarray(n_treated, float)
    out = np.empty(n.size)
    for i in range(n.size):
        def excess(c: float, i: int = i) -> float:
            return _williams_sf(np.full(n.size, c), n0, n, df, nsim=nsim, seed=seed)[i] - alpha
        out[i] = optimize.brentq(excess, 0.0, 20.0, xtol=1e-6)
    return out


def williams(samples: Sequence[Sequence[float]], *, alternative: str = "greater",
             alpha: float = 0.05, nsim: int = WILLIAMS_NSIM, seed: int = 2024) -> Trend:
    """Williams' test of a monotone dose response against a zero-dose control.

    Parameters
    ----------
    samples
        Control first, then dose groups in increasing dose order.
    alternative
        ``"greater"`` (means increase with dose), ``"less"``, or ``"two-sided"``
        (both directions, the larger highest-dose statistic kept, p doubled as in
        Williams 1972).
    alpha
        Level used for the step-down decisions in ``significant``.
    nsim, seed
        Size and seed of the null simulation giving p-values.

    Returns
    -------
    Trend
        ``per_dose_statistic`` = t-bar_i, ``per_dose_p``, ``critical_value`` (level
        alpha, alpha/2 per direction when two-sided) for this design, ``significant``
        after the step-down from the highest dose; ``statistic``/``p_value`` of the
        highest dose.

    Notes
    -----
    Isotonic-means convention: the dose-group means (control excluded) are
    amalgamated, and at dose level i the estimate is
    ``M_i = max_{1<=u<=i} mean(X_u..X_i)`` (weighted by n) computed from groups 1..i
    only, as in the design with i dose levels whose null distribution gives the
    critical value (Williams 1972). The control mean is the observed one;
    ``s^2`` is the pooled within-group variance of all groups.
    ``t-bar_i = (M_i - X0) / (s sqrt(1/n_i + 1/n_0))``. p-values are obtained by
    simulating that null distribution for the actual group sizes and degrees of
    freedom (unequal replication handled exactly, no tables, no beta
    extrapolation). The step-down stops at the first non-significant dose.

    References
    ----------
    Williams DA (1971). Biometrics 27:103-117.
    Williams DA (1972). Biometrics 28:519-531.

    """
    check_alternative(alternative)
    groups = as_samples(samples)
    n = np.array([g.size for g in groups], dtype=float)
    means = np.array([g.mean() for g in groups])
    df = float(n.sum() - n.size)
    ss = sum(float(((g - g.mean()) ** 2).sum()) for g in groups)
    s = np.sqrt(ss / df) if df > 0 else 0.0
    return _williams_core(means, n, s, df, alternative, alpha, nsim, seed, "Williams",
                          "simulation")


def shirley_williams(samples: Sequence[Sequence[float]], *, alternative: str = "greater",
                     alpha: float = 0.05, nsim: int = WILLIAMS_NSIM, seed: int = 2024) -> Trend:
    """Shirley's nonparametric version of Williams' test (rank-based step-down).

    At dose level i the control and dose groups 1..i are ranked jointly (higher
    doses removed and the data re-ranked, Shirley 1977), the mean ranks are
    amalgamated as in :func:`williams`, and
    ``T_i = (R_i - R_0) / sqrt(V (1/n_i + 1/n_0))`` with the tie-corrected rank
    variance ``V = N(N+1)/12 - sum(t^3 - t)/(12(N-1))``. p-values come from
    Williams' null distribution with infinite degrees of freedom (Shirley's
    asymptotic reference).

    Parameters
    ----------
    samples
        Control first, then dose groups in increasing dose order.
    alternative, alpha, nsim, seed
        As in :func:`williams`.

    Returns
    -------
    Trend
        Per-dose statistics, p-values and step-down decisions.

    References
    ----------
    Shirley E (1977). A non-parametric equivalent of Williams' test for contrasting
    increasing dose levels of a treatment. Biometrics 33:386-389.

    """
    check_alternative(alternative)
    groups = as_samples(samples)
    k = len(groups) - 1
    results = []
    dirs = {"greater": [1.0], "less": [-1.0], "two-sided": [1.0, -1.0]}[alternative]
    for sign in dirs:
        t = np.empty(k)
        p = np.empty(k)
        for i in range(1, k + 1):
            t[i - 1], p[i - 1] = _shirley_level(groups[:i + 1], sign, nsim, seed)
        results.append((t, p, sign))
    t, p, sign = max(results, key=lambda r: r[0][-1])
    if alternative == "two-sided":
        p = np.minimum(1.0, 2 * p)
    return Trend("Shirley-Williams", float(t[-1]), float(p[-1]), alternative,
                 method="asymptotic", per_dose_statistic=t, per_dose_p=np.clip(p, 0, 1),
                 significant=_step_down(p, alpha), extra={"direction": sign})


def _shirley_level(groups: list[np.ndarray], sign: float, nsim: int,
                   seed: int) -> tuple[float, float]:
    pooled = sign * np.concatenate(groups)
    n = np.array([g.size for g in groups], dtype=float)
    ranks = sps.rankdata(pooled)
    rbar = np.array([r.mean() for r in np.split(ranks, np.cumsum(n)[:-1].astype(int))])
    big_n = pooled.size
    v = big_n * (big_n + 1) / 12 - tie_sum(pooled) / (12 * (big_n - 1))
    m = _amalgamated_top_means(rbar[1:], n[1:])[-1]
    if v <= 0:
        return 0.0, 1.0
    t = (m - rbar[0]) / np.sqrt(v * (1 / n[-1] + 1 / n[0]))
    p = _williams_sf(np.full(n.size - 1, t), n[0], n[1:], np.inf, nsim=nsim, seed=seed)[-1]
    return float(t), float(p)


# ---------------------------------------------------------------- Jonckheere-Terpstra


def _mw_count(x: np.ndarray, y: np.ndarray) -> float:
    """#pairs with y > x plus half the ties."""
    xs = np.sort(x)
    lo = np.searchsorted(xs, y, side="left")
    hi = np.searchsorted(xs, y, side="right")
    return float(np.sum(lo + 0.5 * (hi - lo)))


def _mw_null_counts(m: int, n: int) -> np.ndarray:
    """Null frequencies of the Mann-Whitney count for sizes (m, n): Gaussian binomial."""
    # coefficients of prod_{i=1..n} (1 - q^{m+i}) / (1 - q^i)
    poly = np.zeros(m * n + 1)
    poly[0] = 1.0
    for i in range(1, n + 1):
        # multiply by (1 - q^{m+i})
        shifted = np.zeros_like(poly)
        shifted[m + i:] = poly[:poly.size - (m + i)]
        poly = poly - shifted
        # divide by (1 - q^i): running sum with stride i
        for r in range(i):
            poly[r::i] = np.cumsum(poly[r::i])
    return poly


def jonckheere_exact_distribution(sizes: Sequence[int]) -> np.ndarray:
    """Null probabilities of J = 0..max for groups of the given sizes (no ties)."""
    dist = np.array([1.0])
    total = 0
    for size in sizes:
        if total:
            dist = np.convolve(dist, _mw_null_counts(total, int(size)))
            dist /= dist.sum()
        total += int(size)
    return dist


def _jt_increment(placed: np.ndarray, comps: np.ndarray) -> np.ndarray:
    """2 J added by a tie class split as ``comps`` after ``placed`` smaller values.

    A value of group b in the class scores 1 for each smaller value of groups
    a < b and 1/2 for each tied one: ``2 J += c_b (2 P_<b + C_<b)``.
    """
    p_before = np.cumsum(placed, axis=1) - placed          # (S, G) sum_{a<b} p_a
    c_before = np.cumsum(comps, axis=1) - comps            # (M, G) sum_{a<b} c_a
    return np.einsum("mb,smb->sm", comps,
                     2 * p_before[:, None, :] + c_before[None, :, :])[..., None]


def _jt_range(placed: np.ndarray) -> np.ndarray:
    """Number of possible 2 J values after placing these counts."""
    below = np.cumsum(placed, axis=1) - placed
    return 2.0 * np.sum(placed * below, axis=1) + 1


def _jt_twice(tables: np.ndarray) -> np.ndarray:
    """2 J of count tables (..., classes, groups)."""
    low = permutation.below(tables)
    p_before = np.cumsum(low, axis=-1) - low
    c_before = np.cumsum(tables, axis=-1) - tables
    return np.sum(tables * (2 * p_before + c_before), axis=(-2, -1))


def _tail_p(stat2: np.ndarray, prob: np.ndarray, obs2: int, centre2: float,
            alternative: str) -> float:
    """P of the integer statistic (2 J) being as or more extreme than observed."""
    if alternative == "greater":
        return float(prob[stat2 >= obs2].sum())
    if alternative == "less":
        return float(prob[stat2 <= obs2].sum())
    return float(prob[np.abs(2 * stat2 - 2 * centre2)
                      >= np.abs(2 * obs2 - 2 * centre2) - 1e-9].sum())


def jt_method(groups: Sequence[np.ndarray], method: str = "auto") -> tuple[str, float]:
    """The method ``auto`` resolves to, and the estimated work of the exact computation.

    Without ties the exact distribution is a product of Gaussian binomial
    coefficients (cheap for any size up to N = :data:`JT_EXACT_MAX_N`). With ties
    ``exact`` when :func:`~neurotox.stats.permutation.exact_cost` is at most
    :data:`~neurotox.stats.permutation.EXACT_WORK_LIMIT`, otherwise
    ``monte_carlo`` when a group has fewer than 10 values, otherwise ``asymptotic``.
    """
    _, table = permutation.tie_table(list(groups))
    ties = bool((table.sum(axis=1) > 1).any())
    big = int(table.sum())
    if method not in ("auto", "exact"):
        return method, np.nan
    cost = permutation.exact_cost(table, _jt_range) if ties else 0.0
    if method == "exact":
        return method, cost
    if (not ties and big <= JT_EXACT_MAX_N) or (ties and cost <= permutation.EXACT_WORK_LIMIT):
        return "exact", cost
    return ("monte_carlo" if min(len(g) for g in groups) < 10 else "asymptotic"), cost


#: Largest N for the exact Jonckheere-Terpstra distribution without ties under ``auto``.
JT_EXACT_MAX_N = 200

#: Methods of :func:`jonckheere`.
JT_METHODS = ("auto", "exact", "monte_carlo", "asymptotic")


def jonckheere(samples: Sequence[Sequence[float]], *, alternative: str = "greater",
               method: str = "auto", resamples: int = permutation.MC_RESAMPLES,
               seed: int = permutation.MC_SEED) -> Trend:
    """Jonckheere-Terpstra test for ordered alternatives.

    Parameters
    ----------
    samples
        Groups in increasing dose order (control first).
    alternative
        ``"greater"`` (values increase with dose), ``"less"`` or ``"two-sided"``.
    method
        ``"exact"``: permutation distribution conditional on the pooled values
        (ties included); ``"monte_carlo"``: ``resamples`` random permutations with
        a fixed ``seed``; ``"asymptotic"``: normal with the tie-corrected variance;
        ``"auto"``: see :func:`jt_method`.
    resamples, seed
        Monte Carlo size and seed.

    Returns
    -------
    Trend
        ``statistic`` = J (ties counted 1/2); ``extra`` holds ``E_J``, ``sd_J``, ``z``;
        ``method`` says how p was obtained.

    Raises
    ------
    ValueError
        ``method="exact"`` on tied data whose exact computation exceeds the limit
        (raised before computing).

    Notes
    -----
    ``J = sum_{i<j} #{(x in group i, y in group j): y > x} + 1/2 #ties``. Without
    ties the exact null is the distribution of inversions of a multiset
    permutation (a product of Gaussian binomial coefficients); with ties it is the
    permutation distribution given the tie pattern, computed over tie tables
    (:mod:`neurotox.stats.permutation`), as kSamples' ``jt.test(method =
    "exact")``. One-sided p-values count ``J >= j`` (``<=``); two-sided exact and
    Monte Carlo p-values count ``|J - E J| >= |j - E J|`` (as StatXact), which
    without ties equals twice the smaller tail. The normal approximation uses the
    tie-corrected variance of Hollander and Wolfe (no continuity correction).

    References
    ----------
    Jonckheere AR (1954). A distribution-free k-sample test against ordered
    alternatives. Biometrika 41:133-145.
    Hollander M, Wolfe DA (1999). Nonparametric Statistical Methods, 2nd ed., s. 6.2.

    """
    check_alternative(alternative)
    if method not in JT_METHODS:
        raise ValueError(f"method must be one of {JT_METHODS}, found {method!r}")
    groups = as_samples(samples)
    j = sum(_mw_count(groups[a], groups[b])
            for a in range(len(groups)) for b in range(a + 1, len(groups)))
    n = np.array([g.size for g in groups], dtype=float)
    pooled = np.concatenate(groups)
    ties = tie_sum(pooled) > 0
    mean = (pooled.size**2 - np.sum(n**2)) / 4
    var = _jt_variance(n, pooled)
    z = (j - mean) / np.sqrt(var) if var > 0 else 0.0
    method, cost = jt_method(groups, method)
    label = method
    if method == "exact" and not ties:
        p = _jt_exact_p(j, [int(v) for v in n], alternative)
    elif method == "exact":
        if cost > permutation.EXACT_WORK_LIMIT:
            raise ValueError(
                f"exact Jonckheere-Terpstra test for group sizes {[g.size for g in groups]} "
                f"with ties would exceed {permutation.EXACT_WORK_LIMIT:.2g} table steps "
                "(estimated before running); use method='monte_carlo' or 'asymptotic'")
        _, table = permutation.tie_table(groups)
        stat2, prob = permutation.exact_distribution(
            table, _jt_increment, 1, [2 * int(np.sum(np.triu(np.outer(n, n), 1)))])
        p = _tail_p(stat2[:, 0], prob, int(round(2 * j)), 2 * mean, alternative)
    elif method == "monte_carlo":
        codes, _ = permutation.tie_table(groups)
        stat2 = np.concatenate([_jt_twice(t) for t in permutation.random_tables(
            codes, [g.size for g in groups], resamples, seed)])
        p = _tail_p(stat2, np.full(stat2.size, 1.0 / stat2.size), int(round(2 * j)),
                    2 * mean, alternative)
        label = f"Monte Carlo ({resamples} permutations, seed {seed})"
    else:
        p = float(normal_p(np.array(z), alternative))
    return Trend("Jonckheere-Terpstra", float(j), float(np.clip(p, 0, 1)), alternative,
                 method=label, extra={"E_J": float(mean), "sd_J": float(np.sqrt(var)),
                                      "z": float(z)})


def _jt_variance(n: np.ndarray, pooled: np.ndarray) -> float:
    big = float(pooled.size)
    _, t = np.unique(pooled, return_counts=True)
    t = t.astype(float)
    v = (big * (big - 1) * (2 * big + 5) - np.sum(n * (n - 1) * (2 * n + 5))
         - np.sum(t * (t - 1) * (2 * t + 5))) / 72
    if big > 2:
        v += (np.sum(n * (n - 1) * (n - 2)) * np.sum(t * (t - 1) * (t - 2))
              / (36 * big * (big - 1) * (big - 2)))
    v += np.sum(n * (n - 1)) * np.sum(t * (t - 1)) / (8 * big * (big - 1))
    return float(v)


def _jt_exact_p(j: float, sizes: list[int], alternative: str) -> float:
    dist = jonckheere_exact_distribution(sizes)
    ji = int(round(j))
    upper = float(dist[ji:].sum())
    lower = float(dist[:ji + 1].sum())
    if alternative == "greater":
        return upper
    if alternative == "less":
        return lower
    return min(1.0, 2 * min(upper, lower))
