"""Censored values: substitution policies and censoring-aware rank tests.

An EndpointTable row may be censored (``censoring`` column, :class:`neurotox.vocab.Censoring`):
``left`` when the true value is at most ``value`` (below a limit of quantification),
``right`` when it is at least ``value`` (a latency stopped at the cut-off). This
module decides, per stratum, how such values enter the decision tree and provides
the censoring-aware tests used when they cannot simply be replaced by a number.

* Left-censored values follow the plan's ``censored.policy``: ``bound``, ``half``
  (bound/2) or ``sqrt2`` (bound/√2) replace the value and the ordinary decision tree
  runs; ``exclude`` drops it (counted as an exclusion); ``rank`` always uses the
  censoring-aware test. When more than ``censored.rank_test_above`` of a stratum, or
  of any one group (or more than half of a group), is censored the censoring-aware
  test is used whatever the policy.
* Right-censored values always go to the censoring-aware test.
* A stratum censored on both sides (up-down thresholds below the weakest and above
  the strongest filament) uses Gehan's scores with Mantel's permutation variance.

The censoring-aware tests are the weighted log-rank family of Harrington and Fleming
(1982): ``rho = 1`` is the Peto-Prentice generalised Wilcoxon test (weights: the
pooled Kaplan-Meier survival just before each observed value), ``rho = 0`` the
log-rank test. Left-censored data are analysed as right-censored data on the negated
scale (Helsel 2012, ch. 9); statistics are reported on the original scale, positive
when the treated group (or the trend) lies higher.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats as sps

from neurotox.stats._common import Comparison, Trend, check_alternative, holm, normal_p
from neurotox.vocab import Censoring

#: Left-censoring policies that replace the value by a multiple of the bound.
FACTORS = {"bound": 1.0, "half": 0.5, "sqrt2": 1 / np.sqrt(2.0)}

#: Display text of each left-censoring policy.
POLICY_TEXT = {"bound": "set to the limit", "half": "set to limit/2",
               "sqrt2": "set to limit/√2", "exclude": "excluded",
               "rank": "censoring-aware rank test"}

#: Display names of the weighted log-rank tests by ``rho``.
TEST_NAMES = {1.0: "Peto-Prentice", 0.0: "log-rank"}

#: Modes of a stratum: how its censored values enter the decision tree.
MODES = ("none", "substitute", "exclude", "test")


def stratum_mode(n_left: Sequence[int] | int, n_right: Sequence[int] | int,
                 n_total: Sequence[int] | int, policy: str, rank_test_above: float) -> str:
    """How a stratum's censored values are handled (one of :data:`MODES`).

    Parameters
    ----------
    n_left, n_right
        Numbers of left- and right-censored values, per group (or one number for
        the whole stratum).
    n_total
        Number of values (censored or not), per group like ``n_left``.
    policy
        The plan's left-censoring policy (``bound``, ``half``, ``sqrt2``, ``exclude``,
        ``rank``).
    rank_test_above
        Censored fraction above which the censoring-aware test is used.

    Notes
    -----
    Any right-censored value (alone or with left-censored ones) sends the stratum
    to the censoring-aware test. Left-censored values do so when more than
    ``rank_test_above`` of the stratum, or of any one group (or more than half of a
    group, whatever ``rank_test_above``), is censored (:func:`crowded_group`): a
    control of 4 values < LLOQ in 5 is 20 % of a 20-value stratum, but the
    substitute then decides its mean and the comparisons with it.

    """
    if np.sum(n_right):
        return "test"
    if not np.sum(n_left):
        return "none"
    if policy == "rank" or crowded_group(n_left, n_total, rank_test_above) is not None:
        return "test"
    return "exclude" if policy == "exclude" else "substitute"


def crowded_group(n_left: Sequence[int] | int, n_total: Sequence[int] | int,
                  rank_test_above: float) -> int | None:
    """Index of the first group censored enough to send the stratum to the rank test.

    A group qualifies when more than ``rank_test_above`` of its values, or more than
    half of them, are censored (``None`` when none does). A stratum more than
    ``rank_test_above`` censored always has such a group.
    """
    left = np.atleast_1d(np.asarray(n_left, dtype=float))
    total = np.atleast_1d(np.asarray(n_total, dtype=float))
    frac = np.divide(left, total, out=np.zeros_like(left), where=total > 0)
    over = np.flatnonzero(frac > min(rank_test_above, 0.5))
    return int(over[0]) if over.size else None


def substituted(values: np.ndarray, left: np.ndarray, policy: str) -> np.ndarray:
    """Values with left-censored bounds replaced under ``policy`` (others unchanged).

    ``exclude`` and ``rank`` leave the bound in place (the caller drops or ranks it).
    """
    out = np.asarray(values, dtype=float).copy()
    out[left] *= FACTORS.get(policy, 1.0)
    return out


# ------------------------------------------------------------- weighted log-rank

def _orient(samples: Sequence[np.ndarray], side: str) -> list[np.ndarray]:
    if side not in ("left", "right"):
        raise ValueError(f"side must be 'left' or 'right', found {side!r}")
    return [np.asarray(s, dtype=float) * (-1.0 if side == "left" else 1.0) for s in samples]


def weighted_logrank(samples: Sequence[Sequence[float]], censored: Sequence[Sequence[bool]],
                     *, rho: float = 1.0, side: str = "right") -> tuple[np.ndarray, np.ndarray]:
    """Observed-minus-expected scores and their covariance, k-sample G-rho family.

    Parameters
    ----------
    samples
        Values per group (censored values hold their bound).
    censored
        Per value: True when censored (on ``side``).
    rho
        Weight exponent: 1 = Peto-Prentice generalised Wilcoxon, 0 = log-rank.
    side
        ``right`` (value is a lower bound) or ``left`` (value is an upper bound;
        analysed on the negated scale).

    Returns
    -------
    u : numpy.ndarray
        Per group, sum over distinct observed values t of w(t)·(O − E), where an
        "event" is an uncensored value; a group with fewer low values than expected
        has u < 0 (on the negated scale for ``side="left"``).
    v : numpy.ndarray
        k × k covariance matrix of ``u`` (hypergeometric, ties handled as in
        R's ``survival::survdiff``).

    References
    ----------
    Harrington DP, Fleming TR (1982). A class of rank test procedures for censored
    survival data. Biometrika 69:553-566. Peto R, Peto J (1972). Asymptotically
    efficient rank invariant test procedures. J R Stat Soc A 135:185-207.
    Prentice RL (1978). Linear rank tests with right censored data. Biometrika 65:167-179.

    """
    xs = _orient(samples, side)
    ev = [~np.asarray(c, dtype=bool) for c in censored]
    times = np.unique(np.concatenate([x[e] for x, e in zip(xs, ev, strict=True)]))
    at_risk = np.array([x.size - np.searchsorted(np.sort(x), times, side="left") for x in xs],
                       dtype=float)
    deaths = np.array([np.searchsorted(np.sort(x[e]), times, side="right")
                       - np.searchsorted(np.sort(x[e]), times, side="left")
                       for x, e in zip(xs, ev, strict=True)], dtype=float)
    n, d = at_risk.sum(axis=0), deaths.sum(axis=0)
    km = np.concatenate([[1.0], np.cumprod(1 - d / n)[:-1]])
    w = km**rho
    u = (w * (deaths - d * at_risk / n)).sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        scale = np.where(n > 1, w**2 * d * (n - d) / (n - 1), 0.0) / n
    frac = at_risk / n
    v = (np.diag((scale * at_risk).sum(axis=1))
         - (scale[None, None, :] * at_risk[:, None, :] * frac[None, :, :]).sum(axis=2))
    return u, v


def _oriented_z(u: float, var: float, side: str) -> float:
    """Return z, positive when the group lies higher on the original scale."""
    if not var > 0:
        return np.nan
    z = -u / np.sqrt(var)
    return -z if side == "left" else z


def vs_control(samples: Sequence[Sequence[float]], censored: Sequence[Sequence[bool]], *,
               side: str = "right", alternative: str = "two-sided",
               rho: float = 1.0) -> Comparison:
    """Each treated group against the control (``samples[0]``), Holm-adjusted.

    Two-sample weighted log-rank z per treated group (control and that group only);
    z > 0 when the treated group lies higher. p from the standard normal, adjusted by
    Holm over the k comparisons.

    Parameters
    ----------
    samples, censored, side, rho
        As in :func:`weighted_logrank`.
    alternative
        ``two-sided``, ``greater`` (treated higher) or ``less``.

    Returns
    -------
    Comparison
        ``test`` is ``"Peto-Prentice"`` (rho 1) or ``"log-rank"`` (rho 0).

    """
    check_alternative(alternative)
    z = np.array([_oriented_z(*_pair(samples, censored, i, rho, side), side)
                  for i in range(1, len(samples))])
    raw = normal_p(z, alternative)
    p = raw.copy()
    ok = np.isfinite(raw)
    p[ok] = holm(raw[ok])
    return Comparison(TEST_NAMES.get(float(rho), f"G-rho ({rho:g})"), z, p, alternative,
                      method="asymptotic", adjustment="holm", extra={"p_unadjusted": raw})


def _pair(samples: Sequence, censored: Sequence, i: int, rho: float,
          side: str) -> tuple[float, float]:
    u, v = weighted_logrank([samples[0], samples[i]], [censored[0], censored[i]], rho=rho,
                            side=side)
    return float(u[1]), float(v[1, 1])


def k_sample(samples: Sequence[Sequence[float]], censored: Sequence[Sequence[bool]], *,
             side: str = "right", rho: float = 1.0) -> tuple[float, float, int]:
    """Overall k-sample test: chi-square, p and degrees of freedom (as ``survdiff``)."""
    u, v = weighted_logrank(samples, censored, rho=rho, side=side)
    df = int(np.linalg.matrix_rank(v[1:, 1:])) if v.shape[0] > 1 else 0
    if df == 0:
        return np.nan, np.nan, 0
    chi2 = float(u[1:] @ np.linalg.pinv(v[1:, 1:]) @ u[1:])
    return chi2, float(sps.chi2.sf(chi2, df)), df


def trend(samples: Sequence[Sequence[float]], censored: Sequence[Sequence[bool]], *,
          scores: Sequence[float] | None = None, side: str = "right",
          alternative: str = "two-sided", rho: float = 1.0) -> Trend:
    """Trend test across ordered groups (Tarone 1975) with weighted log-rank scores.

    z = −c'u / √(c'Vc) with group scores c (default 0, 1, ..., k); z > 0 when values
    increase with the score. Asymptotic normal p.

    References
    ----------
    Tarone RE (1975). Tests for trend in life table analysis. Biometrika 62:679-682.

    """
    check_alternative(alternative)
    u, v = weighted_logrank(samples, censored, rho=rho, side=side)
    c = np.arange(len(u), dtype=float) if scores is None else np.asarray(scores, float)
    z = _oriented_z(float(c @ u), float(c @ v @ c), side)
    name = f"Tarone trend ({TEST_NAMES.get(float(rho), f'G-rho {rho:g}')} weights)"
    return Trend(name, z, float(normal_p(np.array(z), alternative)), alternative,
                 method="asymptotic")


# ------------------------------------------------- Gehan scores (both sides)

def gehan_scores(values: np.ndarray, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Gehan's scores for values censored on either side: #definitely lower − #definitely higher.

    A value is the interval [v, v] (observed), (−∞, v] (left-censored) or [v, ∞)
    (right-censored); i is definitely higher than j when i's interval lies above
    j's (Gehan 1965, extended to both sides).
    """
    v = np.asarray(values, dtype=float)
    lo = np.where(left, -np.inf, v)
    hi = np.where(right, np.inf, v)
    above = lo[:, None] > hi[None, :]
    return above.sum(axis=1).astype(float) - above.sum(axis=0).astype(float)


def _gehan_sums(samples: Sequence[np.ndarray], left: Sequence[np.ndarray],
                right: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Per-group score sums and their permutation covariance (Mantel 1967)."""
    sizes = np.array([np.size(x) for x in samples])
    scores = gehan_scores(np.concatenate(samples), np.concatenate(left), np.concatenate(right))
    t = np.array([part.sum() for part in np.split(scores, np.cumsum(sizes)[:-1])])
    n = sizes.sum()
    scale = float(scores @ scores) / (n * (n - 1)) if n > 1 else 0.0
    return t, scale * (n * np.diag(sizes) - np.outer(sizes, sizes))


def gehan_vs_control(samples: Sequence[Sequence[float]], left: Sequence[Sequence[bool]],
                     right: Sequence[Sequence[bool]], *,
                     alternative: str = "two-sided") -> Comparison:
    """Gehan-Mantel test of each treated group against control, Holm-adjusted.

    For values censored on both sides (an up-down threshold below the weakest or
    above the strongest filament). z = score sum of the treated group over its
    permutation SD (control and that group only), > 0 when the treated group lies
    higher.

    References
    ----------
    Gehan EA (1965). A generalized Wilcoxon test for comparing arbitrarily
    singly-censored samples. Biometrika 52:203-223. Mantel N (1967). Ranking
    procedures for arbitrarily restricted observation. Biometrics 23:65-78.

    """
    check_alternative(alternative)
    z = []
    for i in range(1, len(samples)):
        t, v = _gehan_sums([np.asarray(samples[0], float), np.asarray(samples[i], float)],
                           [np.asarray(left[0]), np.asarray(left[i])],
                           [np.asarray(right[0]), np.asarray(right[i])])
        z.append(t[1] / np.sqrt(v[1, 1]) if v[1, 1] > 0 else np.nan)
    z_arr = np.asarray(z, dtype=float)
    raw = normal_p(z_arr, alternative)
    p = raw.copy()
    ok = np.isfinite(raw)
    p[ok] = holm(raw[ok])
    return Comparison("Gehan-Mantel", z_arr, p, alternative, method="asymptotic",
                      adjustment="holm", extra={"p_unadjusted": raw})


def gehan_k_sample(samples: Sequence, left: Sequence, right: Sequence) -> tuple[float, float,
                                                                                 int]:
    """Overall Gehan-Mantel test: chi-square, p and degrees of freedom."""
    t, v = _gehan_sums(samples, left, right)
    df = int(np.linalg.matrix_rank(v[1:, 1:])) if v.shape[0] > 1 else 0
    if df == 0:
        return np.nan, np.nan, 0
    chi2 = float(t[1:] @ np.linalg.pinv(v[1:, 1:]) @ t[1:])
    return chi2, float(sps.chi2.sf(chi2, df)), df


def gehan_trend(samples: Sequence, left: Sequence, right: Sequence, *,
                scores: Sequence[float] | None = None,
                alternative: str = "two-sided") -> Trend:
    """Trend across ordered groups on Gehan scores: z = c'T / √(c'Vc), > 0 increasing."""
    check_alternative(alternative)
    t, v = _gehan_sums(samples, left, right)
    c = np.arange(len(t), dtype=float) if scores is None else np.asarray(scores, float)
    var = float(c @ v @ c)
    z = float(c @ t) / np.sqrt(var) if var > 0 else np.nan
    return Trend("Gehan-Mantel trend", z, float(normal_p(np.array(z), alternative)),
                 alternative, method="asymptotic")


# ------------------------------------------------------------------ routing

@dataclass(frozen=True)
class Routed:
    """A stratum after its censored values were handled.

    Attributes
    ----------
    groups
        Values per group for the tests (substituted, or with excluded values dropped).
    left, right
        Per value of ``groups``: True when left- / right-censored (all False unless
        ``mode == "test"``).
    mode
        One of :data:`MODES`.
    side
        ``left``, ``right``, ``both`` or ``""`` when nothing is censored.
    note
        Text for the decision table's ``censoring`` column ("" when uncensored).

    """

    groups: list[np.ndarray]
    left: list[np.ndarray]
    right: list[np.ndarray]
    mode: str
    side: str
    note: str


def _none(groups: list[np.ndarray]) -> list[np.ndarray]:
    return [np.zeros(g.size, bool) for g in groups]


def route(samples: Sequence[np.ndarray], codes: Sequence[Sequence[str]], *,
          policy: str = "half", rank_test_above: float = 0.2,
          names: Sequence[str] | None = None) -> Routed:
    """Apply the censoring plan to one stratum (values of censored rows hold the bound).

    Parameters
    ----------
    samples
        Values per group.
    codes
        Per value: ``none``, ``left`` or ``right`` (:class:`~neurotox.vocab.Censoring`).
    policy, rank_test_above
        The plan's ``censored`` settings.
    names
        How the note names the groups (default: ``control``, ``group 2``, ...).

    Returns
    -------
    Routed
        Groups for the tests and a note saying what was done and why.

    """
    groups = [np.asarray(s, dtype=float).ravel() for s in samples]
    cds = [np.asarray(c, dtype=str).ravel() for c in codes]
    left = [c == Censoring.LEFT.value for c in cds]
    right = [c == Censoring.RIGHT.value for c in cds]
    per_left, sizes = [int(m.sum()) for m in left], [g.size for g in groups]
    n_left, n_right = sum(per_left), int(sum(m.sum() for m in right))
    n_total = sum(sizes)
    mode = stratum_mode(per_left, n_right, sizes, policy, rank_test_above)
    if mode == "none":
        return Routed(groups, _none(groups), _none(groups), mode, "", "")
    side = "both" if n_left and n_right else "right" if n_right else "left"
    share = {"both": f"{n_left} left- and {n_right} right-censored of {n_total} values",
             "right": f"{n_right} of {n_total} values right-censored",
             "left": f"{n_left} of {n_total} values left-censored"}[side]
    if mode == "substitute":
        subst = [substituted(g, m, policy) for g, m in zip(groups, left, strict=True)]
        return Routed(subst, _none(groups), _none(groups), mode, side,
                      f"{share}: {POLICY_TEXT[policy]} (policy {policy})")
    if mode == "exclude":
        kept = [g[~m] for g, m in zip(groups, left, strict=True)]
        return Routed(kept, _none(kept), _none(kept), mode, side,
                      f"{share}: excluded from the tests (policy exclude)")
    why = ("values censored on both sides: Gehan scores" if side == "both" else
           "right-censored values need a censoring-aware test" if n_right else
           f"policy {policy}" if policy == "rank" else
           f"censored fraction {n_left / n_total:.0%} > {rank_test_above:.0%}"
           if n_left / n_total > rank_test_above else
           _crowded_text(per_left, sizes, rank_test_above, names))
    return Routed(groups, left, right, mode, side,
                  f"{share}: censoring-aware rank test ({why})")


def _crowded_text(per_left: list[int], sizes: list[int], rank_test_above: float,
                  names: Sequence[str] | None) -> str:
    """Why a stratum below ``rank_test_above`` overall still goes to the rank test."""
    i = crowded_group(per_left, sizes, rank_test_above)
    name = (names[i] if names is not None else "control" if i == 0 else f"group {i + 1}")
    limit = (f"> {rank_test_above:.0%}" if rank_test_above <= 0.5 else "more than half")
    return (f"{name}: {per_left[i]} of {sizes[i]} values left-censored "
            f"({per_left[i] / sizes[i]:.0%}, {limit} of a group; the substitute would "
            "decide its mean)")
