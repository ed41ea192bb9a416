"""Wald tests of mixed-model fixed effects with denominator degrees of freedom.

For a fit from :func:`neurotox.stats.reml.fit_reml` and a contrast matrix ``L``
(rows = linear combinations of the fixed effects tested jointly):

``containment``
    ``F = b'L'(L Phi L')^-1 L b / q`` with ``Phi = (X'V^-1 X)^-1`` and the
    denominator df given by the caller (nlme's between/within-subject rule).
``satterthwaite``
    The same F; the df of each eigen-contrast of ``L Phi L'`` is
    ``2 d_m^2 / (g_m' C g_m)`` with ``g_m`` the gradient of its variance in the
    variance parameters and ``C`` the inverse of the observed (Hessian) REML
    information, combined as in Fai and Cornelius (1996); this is lmerTest's
    method (``ddf = "Satterthwaite"``). Variance parameters on the boundary
    are held fixed.
``kenward_roger``
    ``Phi`` is replaced by the bias-adjusted ``Phi_A`` and F is scaled and
    referred to F(q, m), Kenward and Roger (1997), with the expected information
    and the second derivatives of V (needed for AR(1)); this is pbkrtest's
    ``KRmodcomp`` / lmerTest's ``ddf = "Kenward-Roger"`` for random-intercept
    models.

References
----------
Kenward MG, Roger JH (1997). Small sample inference for fixed effects from
restricted maximum likelihood. Biometrics 53:983-997.
Fai AH-T, Cornelius PL (1996). Approximate F-tests of multiple degree of freedom
hypotheses in generalized least squares analyses of unbalanced split-plot
experiments. J Statist Comput Simul 54:363-378.
Kuznetsova A, Brockhoff PB, Christensen RHB (2017). lmerTest package: tests in
linear mixed effects models. J Stat Softw 82(13).
Halekoh U, Højsgaard S (2014). A Kenward-Roger approximation and parametric
bootstrap methods for tests in linear mixed models - the R package pbkrtest.
J Stat Softw 59(9).

"""

from __future__ import annotations

import numpy as np
from scipy import linalg
from scipy import stats as sps

from neurotox.stats.reml import Moments, RemlFit

#: Denominator degrees-of-freedom methods of :func:`wald_test`.
DDF_METHODS = ("containment", "satterthwaite", "kenward_roger")

#: Display names of the methods (decision notes, report).
DDF_LABELS = {"containment": "containment", "satterthwaite": "Satterthwaite",
              "kenward_roger": "Kenward-Roger"}


def _inverse_info(info: np.ndarray, free: np.ndarray) -> np.ndarray:
    """Covariance of the free variance parameters (zero rows/columns for fixed ones)."""
    q = info.shape[0]
    out = np.zeros((q, q))
    idx = np.flatnonzero(free)
    if idx.size:
        out[np.ix_(idx, idx)] = linalg.pinvh(info[np.ix_(idx, idx)])
    return out


def _satterthwaite_df(fit: RemlFit, rows: np.ndarray, variances: np.ndarray) -> np.ndarray:
    """Degrees of freedom ``2 v^2 / (g' C g)`` of each contrast row with variance v."""
    sens = fit.moments
    free = ~fit.on_boundary
    cov = _inverse_info(sens.observed_info, free)
    jac = sens.jacobian()
    grad = np.einsum("mp,apq,mq->ma", rows, jac, rows)
    denom = np.einsum("ma,ab,mb->m", grad, cov, grad)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(denom > 0, 2 * variances**2 / denom, np.inf)


def _combine_df(nu: np.ndarray) -> float:
    """Fai-Cornelius combination of eigen-contrast df (as lmerTest's get_Fstat_ddf)."""
    if nu.size == 1:
        return float(nu[0])
    if np.all(np.abs(np.diff(nu)) < 1e-8):
        return float(np.mean(nu))
    if np.any(nu <= 2):
        return 2.0
    e = np.sum(nu / (nu - 2))
    return float(2 * e / (e - nu.size))


def _kr_pieces(sens: Moments) -> tuple[np.ndarray, np.ndarray]:
    """Adjusted covariance Phi_A and the inverse expected information W (cached)."""
    if getattr(sens, "_kr", None) is None:
        sens._kr = _kr_compute(sens)
    return sens._kr


def _kr_compute(sens: Moments) -> tuple[np.ndarray, np.ndarray]:
    q = sens.theta.size
    weights = _inverse_info(sens.expected_info, np.ones(q, dtype=bool))
    q_sum, r_sum = sens.weighted_blocks(weights)
    phi = sens.phi
    pap = np.einsum("ab,apq,qr,brs->ps", weights, sens.a, phi, sens.a, optimize=True)
    lam = q_sum - pap - 0.25 * r_sum
    phi_a = phi + 2 * phi @ lam @ phi
    return (phi_a + phi_a.T) / 2, weights


def _kr_adjust(sens: Moments, lmat: np.ndarray, weights: np.ndarray) -> tuple[float, float]:
    """Kenward-Roger F scaling and denominator df m for the hypothesis L b = 0."""
    phi = sens.phi
    q = float(np.linalg.matrix_rank(lmat))
    theta_m = lmat.T @ linalg.solve(lmat @ phi @ lmat.T, lmat)
    u = [theta_m @ phi @ (-pa) @ phi for pa in sens.a]
    tr_u = np.array([np.trace(x) for x in u])
    a1 = float(tr_u @ weights @ tr_u)
    a2 = float(sum(weights[i, j] * np.sum(u[i] * u[j].T)
                   for i in range(len(u)) for j in range(len(u))))
    b = (a1 + 6 * a2) / (2 * q)
    g = ((q + 1) * a1 - (q + 4) * a2) / ((q + 2) * a2)
    den = 3 * q + 2 * (1 - g)
    c1, c2, c3 = g / den, (q - g) / den, (q + 2 - g) / den
    v0, v1, v2 = 1 + c1 * b, 1 - c2 * b, 1 - c3 * b
    v0 = 0.0 if abs(v0) < 1e-10 else v0
    ratio = (1 - a2 / q) / v1 if not (abs(1 - a2 / q) < 1e-14 and abs(v1) < 1e-14) else 0.0
    rho = ratio**2 * v0 / v2 / q
    m = 4 + (q + 2) / (q * rho - 1)
    scale = 1.0 if abs(m - 4) < 1e-2 else m * (1 - a2 / q) / (m - 2)
    return float(scale), float(m)


def _p_f(f: float, df: float, ddf: float) -> float:
    if not np.isfinite(f):
        return np.nan
    if np.isfinite(ddf) and ddf > 0:
        return float(sps.f.sf(f, df, ddf))
    return float(sps.chi2.sf(f * df, df))


def wald_test(fit: RemlFit, lmat: np.ndarray, *, method: str = "containment",
              containment_ddf: float = np.nan) -> dict[str, float]:
    """Joint Wald F test of ``L b = 0``.

    Parameters
    ----------
    fit
        REML fit.
    lmat
        Contrast matrix (q, p) of full row rank.
    method
        One of :data:`DDF_METHODS`.
    containment_ddf
        Denominator df of the containment method (NaN: χ² reference).

    Returns
    -------
    dict
        ``F``, ``df`` (numerator), ``ddf``, ``p``; ``chi2`` and ``p_chi2`` (the
        unadjusted Wald χ² and its asymptotic p).

    """
    lmat = np.atleast_2d(np.asarray(lmat, float))
    if lmat.shape[0] == 0:
        return {"chi2": np.nan, "df": 0.0, "p": np.nan, "p_chi2": np.nan, "F": np.nan,
                "ddf": np.nan}
    b = lmat @ fit.beta
    cov = lmat @ fit.cov_beta @ lmat.T
    chi2 = float(b @ linalg.pinvh(cov) @ b)
    df = float(np.linalg.matrix_rank(cov))
    out = {"chi2": chi2, "df": df, "p_chi2": float(sps.chi2.sf(chi2, df))}
    if method == "containment":
        ddf, f = float(containment_ddf), chi2 / df
    elif method == "satterthwaite":
        values, vectors = np.linalg.eigh(cov)
        keep = values > max(1e-12 * values.max(), 0)
        rows = (vectors[:, keep].T @ lmat)
        ddf, f = _combine_df(_satterthwaite_df(fit, rows, values[keep])), chi2 / df
    elif method == "kenward_roger":
        phi_a, weights = _kr_pieces(fit.moments)
        scale, ddf = _kr_adjust(fit.moments, lmat, weights)
        f = scale * float(b @ linalg.solve(lmat @ phi_a @ lmat.T, b)) / df
    else:
        raise ValueError(f"ddf method must be one of {DDF_METHODS}, found {method!r}")
    out.update(F=float(f), ddf=float(ddf), p=_p_f(f, df, ddf))
    return out


def t_tests(fit: RemlFit, rows: np.ndarray, *, method: str = "containment",
            containment_ddf: float = np.nan) -> dict[str, np.ndarray]:
    """Single-contrast t statistics ``l'b / se`` with their df.

    Returns ``estimate``, ``se`` and ``t`` per row, and ``ddf`` (containment:
    the given value; Satterthwaite: per row; Kenward-Roger: per row, with the
    adjusted standard error, as lmerTest's summary).
    """
    rows = np.atleast_2d(np.asarray(rows, float))
    est = rows @ fit.beta
    var = np.einsum("mp,pq,mq->m", rows, fit.cov_beta, rows)
    if method == "containment":
        ddf = np.full(est.size, float(containment_ddf))
    elif method == "satterthwaite":
        ddf = _satterthwaite_df(fit, rows, var)
    elif method == "kenward_roger":
        phi_a, weights = _kr_pieces(fit.moments)
        var = np.einsum("mp,pq,mq->m", rows, phi_a, rows)
        ddf = np.array([_kr_adjust(fit.moments, r[None, :], weights)[1] for r in rows])
    else:
        raise ValueError(f"ddf method must be one of {DDF_METHODS}, found {method!r}")
    se = np.sqrt(var)
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.where(se > 0, est / se, np.nan)
    return {"estimate": est, "se": se, "t": t, "ddf": ddf}


# ---------------------------------------------------------------- lmerTest's contrast bases
#
# The F statistic does not depend on the basis of the rows of L, but the
# Satterthwaite (Fai-Cornelius) df of a multi-df test does. To give lmerTest's
# numbers, its anova bases are used: type I (Doolittle) for one-term models and
# type III for the two-factor repeated-measures model.


def zapsmall(x: np.ndarray, digits: int = 7) -> np.ndarray:
    """R's ``zapsmall``: round to ``digits`` significant digits of the largest entry."""
    x = np.asarray(x, float)
    mx = np.max(np.abs(x)) if x.size else 0.0
    if not mx > 0:
        return x
    return np.round(x, max(0, digits - int(np.ceil(np.log10(mx)))))


def sequential_contrasts(x: np.ndarray, columns: list[int]) -> np.ndarray:
    """Type I rows for ``columns``: the unit upper-triangular factor of X'X (lmerTest).

    ``X'X = L U`` without pivoting (Doolittle); the rows of ``L'`` test each term
    adjusted for the terms before it. Entries below 1e-6 are set to 0, as lmerTest does.
    """
    xtx = x.T @ x
    chol = np.linalg.cholesky(xtx)
    lower = chol / np.diag(chol)           # unit lower factor: X'X = L D L'
    lower[np.abs(lower) < 1e-6] = 0.0
    return lower.T[columns]


def type3_contrasts(group: np.ndarray, time: np.ndarray,
                    x: np.ndarray) -> dict[str, np.ndarray]:
    """Type III rows of lmerTest for ``group``, ``time`` and ``group:time``, in X's coordinates.

    Parameters
    ----------
    group, time
        Level index (0 = reference) of every row.
    x
        The model's design matrix (any coding of the two factors and their
        interaction, intercept included).

    Notes
    -----
    As lmerTest's ``get_contrasts_type3``: contrasts are built on the
    treatment-coded design, with the over-parameterised cell design giving
    the hypothesis of each term; the columns of terms contained in the
    interaction are orthogonalised against it; the rows are mapped to X's
    coefficients by ``ginv(X_treatment) X``.

    """
    n = group.size
    gi = np.eye(group.max() + 1)[group]
    ti = np.eye(time.max() + 1)[time]
    n_g, n_t = gi.shape[1], ti.shape[1]
    inter = [(g, t) for t in range(1, n_t) for g in range(1, n_g)]  # R: first factor fastest
    x_tr = np.column_stack([np.ones(n), gi[:, 1:], ti[:, 1:],
                            *[gi[:, g] * ti[:, t] for g, t in inter]])
    cells = [(g, t) for t in range(n_t) for g in range(n_g)]
    rdx = np.column_stack([np.ones(n), gi, ti, *[gi[:, g] * ti[:, t] for g, t in cells]])
    lmat = zapsmall(np.linalg.pinv(x_tr) @ rdx).T             # rdX columns x X_tr columns
    cols = {"group": list(range(1, n_g)), "time": list(range(n_g, n_g + n_t - 1)),
            "group:time": list(range(n_g + n_t - 1, x_tr.shape[1]))}
    hi = lmat[:, cols["group:time"]]
    for term in ("group", "time"):
        coef = np.linalg.lstsq(hi, lmat[:, cols[term]], rcond=None)[0]
        lmat[:, cols[term]] = zapsmall(lmat[:, cols[term]] - hi @ coef)
    rows = [0, *[1 + g for g in range(1, n_g)], *[1 + n_g + t for t in range(1, n_t)],
            *[1 + n_g + n_t + cells.index(c) for c in inter]]
    lmat = lmat[rows]
    to_x = zapsmall(np.linalg.pinv(x_tr) @ x)
    out = {}
    for term, c in cols.items():
        rows_t = lmat[:, c].T
        rows_t = rows_t[np.abs(rows_t).sum(axis=1) > 1e-8]
        out[term] = rows_t @ to_x
    return out
