"""Incidence data (0/1 per subject): Fisher exact vs control, Cochran-Armitage trend."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import stats as sps

from neurotox.stats._common import Comparison, Trend, check_alternative, normal_p

#: Largest (affected x score-sum) grid of the exact Cochran-Armitage computation.
EXACT_GRID_LIMIT = 1_000_000


def _counts(affected: Sequence[float], examined: Sequence[float]) -> tuple[np.ndarray, np.ndarray]:
    x = np.asarray(affected, dtype=float)
    n = np.asarray(examined, dtype=float)
    if x.shape != n.shape or x.ndim != 1:
        raise ValueError("affected and examined must be 1-D and of equal length")
    if np.any(x < 0) or np.any(x > n) or np.any(x != np.round(x)) or np.any(n != np.round(n)):
        raise ValueError("expected whole counts with 0 <= affected <= examined")
    return x.astype(int), n.astype(int)


def fisher_vs_control(affected: Sequence[float], examined: Sequence[float], *,
                      alternative: str = "two-sided") -> Comparison:
    """Fisher's exact test of each treated group against the control (index 0).

    Parameters
    ----------
    affected, examined
        Subjects with the finding and subjects examined, control first.
    alternative
        ``"greater"`` tests a higher incidence in the treated group.

    Returns
    -------
    Comparison
        Odds ratios (treated vs control) and unadjusted p-values, as customary for
        pairwise incidence comparisons in toxicology reports.

    References
    ----------
    Fisher RA (1935). The Design of Experiments. Oliver and Boyd.

    """
    check_alternative(alternative)
    x, n = _counts(affected, examined)
    stat, p = [], []
    for xi, ni in zip(x[1:], n[1:], strict=True):
        table = [[xi, ni - xi], [x[0], n[0] - x[0]]]
        res = sps.fisher_exact(table, alternative=alternative)
        stat.append(float(res.statistic))
        p.append(float(res.pvalue))
    return Comparison("Fisher exact", np.array(stat), np.clip(np.array(p), 0, 1), alternative,
                      method="exact", adjustment="none")


#: Two-sided exact rules of :func:`cochran_armitage`.
TWO_SIDED_RULES = ("as_extreme", "doubling")


def cochran_armitage(affected: Sequence[float], examined: Sequence[float],
                     scores: Sequence[float] | None = None, *, alternative: str = "greater",
                     method: str = "asymptotic", two_sided: str = "as_extreme") -> Trend:
    """Cochran-Armitage test for a trend in proportions.

    Parameters
    ----------
    affected, examined
        Counts per group in dose order.
    scores
        Dose scores (default 0, 1, 2, ...); the plan's doses are a common choice.
    alternative
        ``"greater"``: incidence increases with score.
    method
        ``"asymptotic"`` (normal) or ``"exact"`` (conditional on the total number
        affected, permutation distribution of ``T = sum(s_i x_i)`` under the product
        of hypergeometric terms).
    two_sided
        Two-sided exact p: ``"as_extreme"`` (default) sums the outcomes with
        ``|T - E T| >= |t - E T|``, as StatXact and coin; ``"doubling"`` doubles
        the smaller one-sided p (capped at 1).

    Returns
    -------
    Trend
        ``statistic`` = Z (positive when incidence increases with score; SAS prints
        the opposite sign when the event is the first response column).
        ``extra["chi2"] = Z**2``. When no animal (or every animal) is affected, or
        all scores are equal, the test is not testable: ``method="not testable"``,
        statistic and p NaN, ``extra["reason"]`` says why.

    Notes
    -----
    ``Z = sum s_i (x_i - n_i p) / sqrt(p (1 - p) (sum n_i s_i^2 - (sum n_i s_i)^2 / N))``.

    References
    ----------
    Cochran WG (1954). Some methods for strengthening the common chi-square tests.
    Biometrics 10:417-451. Armitage P (1955). Tests for linear trends in proportions
    and frequencies. Biometrics 11:375-386.
    Cytel (2010). StatXact 9 User Manual, two-sided exact p-values.

    """
    check_alternative(alternative)
    if method not in ("asymptotic", "exact"):
        raise ValueError(f"method must be 'exact' or 'asymptotic', found {method!r}")
    if two_sided not in TWO_SIDED_RULES:
        raise ValueError(f"two_sided must be one of {TWO_SIDED_RULES}, found {two_sided!r}")
    x, n = _counts(affected, examined)
    s = np.arange(x.size, dtype=float) if scores is None else np.asarray(scores, dtype=float)
    big, tot = n.sum(), x.sum()
    reason = ("no affected animals" if tot == 0 else "every animal affected" if tot == big
              else "all dose scores equal" if np.ptp(s[n > 0]) == 0 else "")
    if reason:
        return Trend("Cochran-Armitage", np.nan, np.nan, alternative, method="not testable",
                     extra={"chi2": np.nan, "reason": reason})
    pbar = tot / big
    sbar = np.sum(n * s) / big
    var = pbar * (1 - pbar) * (np.sum(n * s**2) - big * sbar**2)
    z = np.sum(s * (x - n * pbar)) / np.sqrt(var)
    if method == "asymptotic":
        p = float(normal_p(np.array(z), alternative))
    else:
        p = _ca_exact_p(x, n, s, alternative, two_sided)
    return Trend("Cochran-Armitage", float(z), float(np.clip(p, 0, 1)), alternative,
                 method=method, extra={"chi2": float(z**2)})


def _integer_scores(s: np.ndarray) -> np.ndarray | None:
    """Scores as small non-negative integers (shifted, scaled), or None if not possible."""
    shifted = s - s.min()
    for scale in (1, 10, 100, 1000):
        v = shifted * scale
        if np.allclose(v, np.round(v), atol=1e-9):
            v = np.round(v).astype(np.int64)
            g = np.gcd.reduce(v[v > 0]) if np.any(v > 0) else 1
            return v // max(int(g), 1)
    return None


def _ca_exact_p(x: np.ndarray, n: np.ndarray, s: np.ndarray, alternative: str,
                two_sided: str) -> float:
    """Exact conditional p of T = sum(s_i x_i) given sum(x_i).

    Dynamic programming over groups on a (number affected, T) grid; the scores are
    mapped to integers by an order-preserving affine map (which leaves p unchanged).
    """
    si = _integer_scores(s)
    if si is None:
        raise ValueError("exact Cochran-Armitage needs scores that are multiples of 0.001")
    tot = int(x.sum())
    tmax = int(np.sum(si * n))
    if (tot + 1) * (tmax + 1) > EXACT_GRID_LIMIT:
        raise ValueError(f"exact Cochran-Armitage would need a {tot + 1} x {tmax + 1} grid; "
                         "use method='asymptotic'")
    grid = np.zeros((tot + 1, tmax + 1))
    grid[0, 0] = 1.0
    for score, size in zip(si, n, strict=True):
        w = sps.binom.pmf(np.arange(size + 1), size, 0.5)
        new = np.zeros_like(grid)
        for xi in range(0, min(int(size), tot) + 1):
            shift = int(score) * xi
            new[xi:, shift:] += w[xi] * grid[:tot + 1 - xi, :tmax + 1 - shift]
        grid = new
    prob = grid[tot] / grid[tot].sum()
    t_obs = int(np.sum(si * x))
    upper = float(prob[t_obs:].sum())
    lower = float(prob[:t_obs + 1].sum())
    if alternative == "greater":
        return upper
    if alternative == "less":
        return lower
    if two_sided == "doubling":
        return min(1.0, 2 * min(upper, lower))
    # as or more extreme in either direction: |T - E T| >= |t - E T| (E T = tot sum n s / N)
    centre = tot * float(np.sum(n * si)) / float(n.sum())
    dist = np.abs(np.arange(prob.size) - centre)
    return float(prob[dist >= abs(t_obs - centre) - 1e-7].sum())
