"""Shared pieces of the statistics engine: result types, sidedness, flags, MVN maxima.

Conventions used throughout :mod:`neurotox.stats`:

* ``samples`` is a sequence of 1-D arrays; ``samples[0]`` is the control unless a
  function says otherwise; treated groups follow in increasing dose order.
* ``alternative`` follows SciPy: ``"two-sided"``, ``"greater"`` (treated > control,
  or increasing with dose) or ``"less"``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from scipy import special

Alternative = Literal["two-sided", "greater", "less"]
ALTERNATIVES = ("two-sided", "greater", "less")

# Gauss-Hermite nodes for E[f(W)], W ~ N(0, 1) (probabilists' weight).
_GH_X, _GH_W = np.polynomial.hermite_e.hermegauss(96)
_GH_W = _GH_W / np.sqrt(2 * np.pi)


@dataclass(frozen=True)
class Comparison:
    """Many-to-one comparison of treated groups with a control.

    Attributes
    ----------
    test
        Display name of the test (``"Dunnett"``, ``"Dunn"``, ``"Steel"`` ...).
    statistic
        One statistic per treated group, in the order given.
    p_value
        One p-value per treated group, adjusted for the k comparisons with control
        unless ``adjustment`` says ``"none"``.
    alternative
        ``"two-sided"``, ``"greater"`` or ``"less"`` (treated vs control).
    method
        How p was obtained (``"exact"``, ``"asymptotic"``, ``"holm"`` ...).
    adjustment
        Multiplicity adjustment over the k comparisons.
    extra
        Intermediate quantities (rank sums, mean ranks ...), by name.

    """

    test: str
    statistic: np.ndarray
    p_value: np.ndarray
    alternative: str
    method: str = ""
    adjustment: str = ""
    extra: dict[str, np.ndarray] = field(default_factory=dict)


@dataclass(frozen=True)
class Trend:
    """Result of a monotone trend test.

    Attributes
    ----------
    test
        Display name (``"Jonckheere-Terpstra"``, ``"Cochran-Armitage"``, ``"Williams"``).
    statistic, p_value
        The overall statistic and p-value (for Williams: those of the highest dose).
    alternative
        Direction tested.
    method
        ``"exact"``, ``"asymptotic"`` or ``"simulation"``.
    per_dose_statistic, per_dose_p, critical_value, significant
        Williams-type step-down results, one entry per treated group (dose order);
        empty for global trend tests.
    extra
        Further named quantities (expected value, variance ...).

    """

    test: str
    statistic: float
    p_value: float
    alternative: str
    method: str = ""
    per_dose_statistic: np.ndarray = field(default_factory=lambda: np.empty(0))
    per_dose_p: np.ndarray = field(default_factory=lambda: np.empty(0))
    critical_value: np.ndarray = field(default_factory=lambda: np.empty(0))
    significant: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=bool))
    extra: dict[str, object] = field(default_factory=dict)


def check_alternative(alternative: str) -> str:
    """Return ``alternative`` or raise ValueError naming the allowed values."""
    if alternative not in ALTERNATIVES:
        raise ValueError(f"alternative must be one of {ALTERNATIVES}, found {alternative!r}")
    return alternative


def as_samples(samples: object, *, min_groups: int = 2) -> list[np.ndarray]:
    """Return samples as a list of finite float arrays; raise ValueError if unusable."""
    out = [np.asarray(s, dtype=float).ravel() for s in samples]  # type: ignore[attr-defined]
    if len(out) < min_groups:
        raise ValueError(f"expected at least {min_groups} groups, found {len(out)}")
    for i, s in enumerate(out):
        if s.size == 0:
            raise ValueError(f"group {i} is empty")
        if not np.all(np.isfinite(s)):
            raise ValueError(f"group {i} contains non-finite values")
    return out


def normal_p(z: np.ndarray, alternative: str) -> np.ndarray:
    """P-value of standard normal statistics ``z`` for the given alternative."""
    z = np.asarray(z, dtype=float)
    if alternative == "greater":
        return special.ndtr(-z)
    if alternative == "less":
        return special.ndtr(z)
    return np.minimum(1.0, 2 * special.ndtr(-np.abs(z)))


def max_normal_sf(c: np.ndarray, lam: np.ndarray, *, two_sided: bool) -> np.ndarray:
    """P(max_i Z_i >= c) (or max |Z_i|) for one-factor correlated standard normals.

    ``Z_i = lam_i W + sqrt(1 - lam_i^2) e_i`` with independent standard normals, so
    ``corr(Z_i, Z_j) = lam_i lam_j``. The probability is a one-dimensional integral
    over W, evaluated by 96-point Gauss-Hermite quadrature.

    Parameters
    ----------
    c
        Thresholds (any shape).
    lam
        Factor loadings, one per statistic, each in [0, 1).
    two_sided
        Use ``max |Z_i|``.

    Returns
    -------
    numpy.ndarray
        Upper-tail probabilities, shape of ``c``.

    References
    ----------
    Dunnett CW, Sobel M (1955). Approximations to the probability integral and
    certain percentage points of a multivariate analogue of Student's t-distribution.
    Biometrika 42:258-260 (the one-factor product representation).

    """
    c = np.asarray(c, dtype=float)
    lam = np.asarray(lam, dtype=float)
    s = np.sqrt(1 - lam**2)
    w = _GH_X[:, None, None]
    cc = c.reshape(1, -1, 1)
    inside = special.ndtr((cc - lam * w) / s)
    if two_sided:
        inside = inside - special.ndtr((-cc - lam * w) / s)
    prob = _GH_W @ np.prod(inside, axis=2)
    return np.clip(1 - prob, 0.0, 1.0).reshape(c.shape)


def holm(p: np.ndarray) -> np.ndarray:
    """Holm step-down adjustment of p-values (monotone, capped at 1).

    References
    ----------
    Holm S (1979). A simple sequentially rejective multiple test procedure.
    Scand J Statist 6:65-70.

    """
    p = np.asarray(p, dtype=float)
    order = np.argsort(p)
    m = p.size
    adj = np.maximum.accumulate((m - np.arange(m)) * p[order])
    out = np.empty_like(p)
    out[order] = np.minimum(adj, 1.0)
    return out


def flag(p: float, alpha: float) -> str:
    """Significance flag: ``"**"`` if p <= 0.01 (and <= alpha), ``"*"`` if p <= alpha."""
    if not np.isfinite(p):
        return ""
    if p <= min(alpha, 0.01):
        return "**"
    return "*" if p <= alpha else ""


def tie_sum(values: np.ndarray, power: int = 3) -> float:
    """Sum over tie groups of ``t**power - t`` (0 without ties)."""
    _, t = np.unique(values, return_counts=True)
    t = t.astype(float)
    return float(np.sum(t**power - t))


def estimable_columns(x: np.ndarray, tol: float = 1e-7) -> list[int]:
    """Columns of ``x`` kept when aliased ones are dropped, in their order (lme4's rule).

    A column is dropped when its part orthogonal to the kept columns before it is
    shorter than ``tol`` times its length: R's pivoted QR (LINPACK ``dqrdc2``, as
    ``lm`` and lme4's ``chkRank.drop.cols``), which keeps the first of aliased
    columns. An all-zero column is dropped.
    """
    basis = np.empty((x.shape[0], 0))
    keep = []
    for j in range(x.shape[1]):
        col = x[:, j]
        norm = np.linalg.norm(col)
        rest = col - basis @ (basis.T @ col)
        rest -= basis @ (basis.T @ rest)  # second pass: Gram-Schmidt loses orthogonality
        size = np.linalg.norm(rest)
        if norm > 0 and size > tol * norm:
            keep.append(j)
            basis = np.column_stack([basis, rest / size])
    return keep
