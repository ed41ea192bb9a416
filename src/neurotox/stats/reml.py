"""REML fits of Gaussian linear models whose covariance is blocked by subject.

``y = X beta + e`` with ``Var(e) = V = blockdiag(V_i)`` over subjects (animals
for repeated measures, litters for litter models). ``V_i`` follows one of the
structures of :data:`STRUCTURES` over the subject's timepoints:

``compound_symmetry``
    Random intercept: ``V_i = s_b^2 J + s^2 I`` (nlme ``lme(random = ~1 | subject)``,
    SAS ``RANDOM intercept``); the correlation is non-negative.
``ar1``
    First-order autoregressive: ``V_i = s^2 phi^|t_j - t_k|`` (nlme
    ``gls(correlation = corAR1(form = ~ t | subject))``; SAS ``REPEATED / TYPE=AR(1)``).
    ``t`` is the timepoint's position in time order (:mod:`neurotox.timepoints`),
    or the time itself when the caller's time column is numeric (then, for
    non-integer distances, ``phi >= 0``: nlme ``corCAR1``). The EndpointTable's
    timepoints are labels, so ``neurotox stats`` and reports use positions.
``unstructured``
    ``V_i = Sigma[t_i, t_i]`` with Sigma a free T x T covariance matrix (nlme
    ``gls(correlation = corSymm(), weights = varIdent())``; SAS ``TYPE=UN``).

The residual scale is profiled out of the (restricted) likelihood and the
remaining parameters are found from several starting points (a grid over the
parameter space, then L-BFGS-B with the analytic gradient, bounded at the
boundary of the parameter space); the best likelihood wins, so an optimum on the
boundary (``s_b = 0``) is found and reported as such rather than approached.

At the optimum, :class:`RemlFit` carries the GLS covariance of the fixed effects
``Phi = (X' V^-1 X)^-1`` (what nlme and SAS PROC MIXED report) and the first and
second derivatives of ``V`` with respect to the variance parameters, from which
:mod:`neurotox.stats.ddf` derives Satterthwaite and Kenward-Roger degrees of
freedom.

References
----------
Harville DA (1977). Maximum likelihood approaches to variance component
estimation and to related problems. JASA 72:320-338.
Pinheiro JC, Bates DM (2000). Mixed-Effects Models in S and S-PLUS. Springer.

"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy import linalg, optimize

#: Residual covariance structures of :func:`fit_reml`.
STRUCTURES = ("compound_symmetry", "ar1", "unstructured")

#: A variance ratio below this is on the boundary (zero variance component).
BOUNDARY_TOL = 1e-9


@dataclass(frozen=True)
class Pattern:
    """The subjects observed at the same timepoints, stacked.

    Attributes
    ----------
    y
        Responses, shape (subjects, m).
    x
        Fixed-effect design, shape (subjects, m, p).
    level
        Index of each of the m timepoints among all time levels.
    time
        Time value of each of the m timepoints (distance scale of AR(1)).

    """

    y: np.ndarray
    x: np.ndarray
    level: np.ndarray
    time: np.ndarray

    @property
    def count(self) -> int:
        """Number of subjects with this pattern."""
        return self.y.shape[0]

    @functools.cached_property
    def _unique(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        flat = self.x.reshape(self.count, -1)
        _, first, inv, counts = np.unique(flat, axis=0, return_index=True, return_inverse=True,
                                          return_counts=True)
        return self.x[first], inv.ravel(), counts.astype(float)

    @property
    def xu(self) -> np.ndarray:
        """The distinct design blocks (u, m, p); subjects of one group share one."""
        return self._unique[0]

    @property
    def xidx(self) -> np.ndarray:
        """Index into :attr:`xu` of every subject."""
        return self._unique[1]

    @property
    def xcount(self) -> np.ndarray:
        """Number of subjects with each distinct block, shape (u, 1, 1) for broadcasting."""
        return self._unique[2][:, None, None]

    def per_block(self, values: np.ndarray, axis: int = 0) -> np.ndarray:
        """Sum a per-subject array (subjects on ``axis``) over the subjects of each block."""
        out = np.zeros(values.shape[:axis] + (len(self.xu),) + values.shape[axis + 1:])
        np.add.at(out, (slice(None),) * axis + (self.xidx,), values)
        return out

    @functools.cached_property
    def ysum(self) -> np.ndarray:
        """Responses summed over the subjects of each distinct block, (u, m)."""
        return self.per_block(self.y)

    def fitted(self, beta: np.ndarray) -> np.ndarray:
        """X_s beta for every subject, (s, m)."""
        return (self.xu @ beta)[self.xidx]

    @functools.cached_property
    def lag(self) -> np.ndarray:
        """|t_j - t_k| for every pair of the m timepoints."""
        return np.abs(self.time[:, None] - self.time[None, :])


@dataclass(frozen=True)
class Design:
    """Response and design matrix split into subject blocks (see :func:`make_design`)."""

    patterns: tuple[Pattern, ...]
    n_obs: int
    n_subjects: int
    n_levels: int
    p: int

    @functools.cached_property
    def integer_lags(self) -> bool:
        """True when every time distance is a whole number (AR(1) may then be negative)."""
        return all(np.allclose(pat.lag, np.round(pat.lag)) for pat in self.patterns)


def make_design(y: np.ndarray, x: np.ndarray, subject: Sequence, level: Sequence[int],
                time: Sequence[float] | None = None) -> Design:
    """Split y and X by subject and group subjects with the same timepoints.

    Parameters
    ----------
    y, x
        Response (n,) and fixed-effect design (n, p).
    subject
        Subject label of every row.
    level
        Time level index of every row (0..T-1); rows are ordered by it within a
        subject. A subject may not have two rows at one level.
    time
        Time value of every row (default: ``level``).

    Returns
    -------
    Design

    Raises
    ------
    ValueError
        A subject has two rows at the same time level.

    """
    y = np.asarray(y, float)
    x = np.asarray(x, float)
    level = np.asarray(level, int)
    time = level.astype(float) if time is None else np.asarray(time, float)
    subject = np.asarray(subject)
    codes = np.unique(subject, return_inverse=True)[1]
    order = np.lexsort((level, codes))
    by_key: dict[tuple[int, ...], list[np.ndarray]] = {}
    bounds = np.flatnonzero(np.diff(codes[order])) + 1
    for rows in np.split(order, bounds):
        key = tuple(level[rows])
        if len(set(key)) < len(key):
            dup = next(v for v in key if key.count(v) > 1)
            raise ValueError(f"subject {subject[rows[0]]!r} has more than one value at "
                             f"time level {dup}")
        by_key.setdefault(key, []).append(rows)
    patterns = []
    for key, blocks in sorted(by_key.items(), key=lambda kv: (len(kv[0]), kv[0])):
        idx = np.array(blocks)
        patterns.append(Pattern(y=y[idx], x=x[idx], level=np.array(key, int),
                                time=time[idx[0]]))
    return Design(tuple(patterns), n_obs=int(y.size), n_subjects=int(len(np.unique(codes))),
                  n_levels=int(level.max()) + 1 if level.size else 0, p=int(x.shape[1]))


# ---------------------------------------------------------------- structures


class _Structure:
    """A covariance structure ``V_i = s^2 H_i(psi)`` with ``s^2`` profiled out.

    Subclasses define ``H`` and its gradient in the optimisation parameters
    ``psi``, the natural parameters ``theta`` (variances, correlations) reported
    and used for degrees of freedom, and ``dV/dtheta`` (first and second).
    """

    name = ""

    def __init__(self, design: Design):
        self.design = design

    def bounds(self) -> list[tuple[float | None, float | None]]:
        raise NotImplementedError

    def starts(self) -> list[np.ndarray]:
        raise NotImplementedError

    def h(self, psi: np.ndarray, pat: Pattern) -> np.ndarray:
        raise NotImplementedError

    def dh(self, psi: np.ndarray, pat: Pattern) -> np.ndarray:
        raise NotImplementedError

    def grad(self, psi: np.ndarray, gmats: list[np.ndarray]) -> np.ndarray:
        """``sum_i tr(G_i dH_i/dpsi_a)`` from the per-pattern matrices G."""
        return sum(np.einsum("jk,ajk->a", g, self.dh(psi, pat))
                   for g, pat in zip(gmats, self.design.patterns, strict=True))

    def theta(self, psi: np.ndarray, s2: float) -> np.ndarray:
        raise NotImplementedError

    def labels(self) -> list[str]:
        raise NotImplementedError

    def dv(self, theta: np.ndarray, pat: Pattern) -> np.ndarray:
        raise NotImplementedError

    def d2v(self, theta: np.ndarray, pat: Pattern) -> np.ndarray | None:
        """Second derivatives (q, q, m, m), or None when V is linear in theta."""
        return None

    def boundary(self, psi: np.ndarray) -> np.ndarray:
        """Mask of theta components that sit on the boundary of the parameter space."""
        return np.zeros(len(self.labels()), dtype=bool)


class _CompoundSymmetry(_Structure):
    """``H = g J + I``; theta = (s_b^2, s^2)."""

    name = "compound_symmetry"

    def bounds(self):
        return [(0.0, 1e8)]

    def starts(self):
        return [np.array([g]) for g in (0.0, 0.05, 0.3, 1.0, 5.0, 50.0)]

    def h(self, psi, pat):
        m = pat.level.size
        return psi[0] * np.ones((m, m)) + np.eye(m)

    def dh(self, psi, pat):
        m = pat.level.size
        return np.ones((1, m, m))

    def theta(self, psi, s2):
        return np.array([psi[0] * s2, s2])

    def labels(self):
        return ["var_random", "var_residual"]

    def dv(self, theta, pat):
        m = pat.level.size
        return np.stack([np.ones((m, m)), np.eye(m)])

    def boundary(self, psi):
        return np.array([psi[0] <= BOUNDARY_TOL, False])


class _AR1(_Structure):
    """``H = phi^lag``; psi = (atanh phi,); theta = (s^2, phi)."""

    name = "ar1"

    def bounds(self):
        return [(-6.0 if self.design.integer_lags else 0.0, 9.0)]

    def starts(self):
        low = (-0.5,) if self.design.integer_lags else ()
        return [np.array([np.arctanh(r)]) for r in (*low, 0.0, 0.3, 0.6, 0.9, 0.98, 0.998)]

    @staticmethod
    def _power(phi: float, power: np.ndarray) -> np.ndarray:
        """phi**power elementwise (power 0 → 1; negative phi needs whole powers)."""
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(power == 0, 1.0,
                            np.sign(phi) ** np.round(power) * np.abs(phi) ** power)

    def _dcorr(self, phi: float, lag: np.ndarray, order: int) -> np.ndarray:
        """d^order phi^lag / d phi^order."""
        coef = lag if order == 1 else lag * (lag - 1)
        with np.errstate(invalid="ignore"):
            return np.where(coef == 0, 0.0, coef * self._power(phi, lag - order))

    def h(self, psi, pat):
        return self._power(np.tanh(psi[0]), pat.lag)

    def dh(self, psi, pat):
        phi = np.tanh(psi[0])
        return (self._dcorr(phi, pat.lag, 1) * (1 - phi**2))[None]

    def theta(self, psi, s2):
        return np.array([s2, np.tanh(psi[0])])

    def labels(self):
        return ["var_residual", "phi"]

    def dv(self, theta, pat):
        return np.stack([self._power(theta[1], pat.lag),
                         theta[0] * self._dcorr(theta[1], pat.lag, 1)])

    def d2v(self, theta, pat):
        m = pat.level.size
        out = np.zeros((2, 2, m, m))
        out[0, 1] = out[1, 0] = self._dcorr(theta[1], pat.lag, 1)
        out[1, 1] = theta[0] * self._dcorr(theta[1], pat.lag, 2)
        return out


class _Unstructured(_Structure):
    """``V_i = Sigma[t_i, t_i]``; theta = the upper triangle of Sigma (row-major).

    Fitted by Fisher scoring in theta (:func:`_fisher_scoring`), not via psi.
    """

    name = "unstructured"

    def __init__(self, design: Design):
        super().__init__(design)
        self.sigma_rows, self.sigma_cols = np.triu_indices(design.n_levels)

    def sigma(self, theta: np.ndarray) -> np.ndarray:
        """The full T x T covariance matrix."""
        t = self.design.n_levels
        out = np.zeros((t, t))
        out[self.sigma_rows, self.sigma_cols] = theta
        out[self.sigma_cols, self.sigma_rows] = theta
        return out

    def theta_starts(self) -> list[np.ndarray]:
        s = _moment_covariance(self.design)
        cs = np.full_like(s, np.mean(s[np.triu_indices_from(s, 1)]) if s.shape[0] > 1 else 0.0)
        cs[np.diag_indices_from(cs)] = np.mean(np.diag(s))
        return [m[self.sigma_rows, self.sigma_cols] for m in (s, cs)]

    def labels(self):
        return [f"cov[{a},{b}]" for a, b in zip(self.sigma_rows, self.sigma_cols, strict=True)]

    def dv(self, theta, pat):
        return _unit_matrices(self.design.n_levels, tuple(pat.level))


@functools.lru_cache(maxsize=64)
def _unit_matrices(t: int, level: tuple[int, ...]) -> np.ndarray:
    """dSigma/dsigma_ab restricted to the levels: E_ab + E_ba (E_aa on the diagonal)."""
    rows, cols = np.triu_indices(t)
    pos = {lv: i for i, lv in enumerate(level)}
    out = np.zeros((rows.size, len(level), len(level)))
    for i, (a, b) in enumerate(zip(rows, cols, strict=True)):
        if a in pos and b in pos:
            out[i, pos[a], pos[b]] = out[i, pos[b], pos[a]] = 1.0
    out.flags.writeable = False
    return out


def _moment_covariance(design: Design) -> np.ndarray:
    """Pairwise covariance of OLS residuals by time level (a starting value)."""
    t = design.n_levels
    x = np.concatenate([pat.x.reshape(-1, design.p) for pat in design.patterns])
    y = np.concatenate([pat.y.ravel() for pat in design.patterns])
    beta = np.linalg.lstsq(x, y, rcond=None)[0]
    total = np.zeros((t, t))
    count = np.zeros((t, t))
    for pat in design.patterns:
        r = pat.y - pat.x @ beta
        idx = np.ix_(pat.level, pat.level)
        total[idx] += r.T @ r
        count[idx] += pat.count
    cov = np.where(count > 0, total / np.maximum(count, 1), 0.0)
    diag = np.maximum(np.diag(cov), 1e-12 * max(np.max(np.diag(cov)), 1.0))
    cov[np.diag_indices(t)] = diag
    # shrink towards the diagonal until positive definite
    for w in (1.0, 0.9, 0.7, 0.5, 0.0):
        c = w * cov + (1 - w) * np.diag(diag)
        if np.all(np.linalg.eigvalsh(c) > 0):
            return c
    return np.diag(diag)


_STRUCTURES = {s.name: s for s in (_CompoundSymmetry, _AR1, _Unstructured)}


# ---------------------------------------------------------------- likelihood


def _gram(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """``sum_s x_s' y_s`` for stacked blocks x (s, m, p) and y (s, m, q)."""
    return x.reshape(-1, x.shape[2]).T @ y.reshape(-1, y.shape[2])


def _left(a: np.ndarray, x: np.ndarray) -> np.ndarray:
    """``a @ x_s`` for every block of x (s, m, p), as one matrix product."""
    s_, m, p = x.shape
    return (a @ x.transpose(1, 0, 2).reshape(m, s_ * p)).reshape(-1, s_, p).transpose(1, 0, 2)


def _right(x: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``x_s @ b`` for every block of x (s, m, p), as one matrix product."""
    return (x.reshape(-1, x.shape[2]) @ b).reshape(x.shape[0], x.shape[1], -1)


def _outer_sum(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """``sum_s u_s v_s'`` for stacked blocks u, v (s, m, p): an (m, m) matrix."""
    return np.tensordot(u, v, axes=([0, 2], [0, 2]))


@dataclass
class _Profile:
    """Profiled (restricted) likelihood at one psi."""

    llf: float
    beta: np.ndarray
    s2: float
    xthx: np.ndarray
    hinv: list[np.ndarray]
    resid: list[np.ndarray]
    grad: np.ndarray = field(default_factory=lambda: np.empty(0))


def _profile(structure: _Structure, psi: np.ndarray, *, reml: bool,
             gradient: bool = False) -> _Profile | None:
    """Profiled log-likelihood of psi (None when H is not positive definite).

    ``l = -1/2 [n log(2 pi s2) + n + log|H| + log|X'H^-1 X|]`` with
    ``s2 = r'H^-1 r / n`` and ``n = N - p`` (REML) or ``N`` (ML; no ``log|X'H^-1 X|``).
    """
    d = structure.design
    xthx = np.zeros((d.p, d.p))
    xthy = np.zeros(d.p)
    logdet = 0.0
    hinv, hx = [], []
    for pat in d.patterns:
        try:
            factor = linalg.cho_factor(structure.h(psi, pat), lower=True)
        except linalg.LinAlgError:
            return None
        logdet += pat.count * 2 * np.log(np.diag(factor[0])).sum()
        inv = linalg.cho_solve(factor, np.eye(pat.level.size))
        hxp = _left(inv, pat.xu)
        xthx += _gram(pat.xu * pat.xcount, hxp)
        xthy += _gram(hxp, pat.ysum[:, :, None])[:, 0]
        hinv.append(inv)
        hx.append(hxp)
    try:
        cf = linalg.cho_factor(xthx, lower=True)
    except linalg.LinAlgError:
        return None
    beta = linalg.cho_solve(cf, xthy)
    resid = [pat.y - pat.fitted(beta) for pat in d.patterns]
    rss = sum(float(np.einsum("sj,jk,sk->", r, inv, r)) for r, inv in zip(resid, hinv,
                                                                          strict=True))
    n = d.n_obs - d.p if reml else d.n_obs
    if n <= 0 or not rss > 0:
        return None
    s2 = rss / n
    llf = -0.5 * (n * np.log(2 * np.pi * s2) + n + logdet)
    if reml:
        llf -= np.log(np.diag(cf[0])).sum()
    out = _Profile(float(llf), beta, s2, xthx, hinv, resid)
    if gradient:
        phi_h = linalg.cho_solve(cf, np.eye(d.p))
        gmats = []
        for pat, inv, hxp, r in zip(d.patterns, hinv, hx, resid, strict=True):
            q = r @ inv
            g = np.einsum("sj,sk->jk", q, q) / s2 - pat.count * inv
            if reml:
                g += _outer_sum(_right(hxp, phi_h) * pat.xcount, hxp)
            gmats.append(0.5 * g)
        out.grad = structure.grad(psi, gmats)
    return out


def _negative(structure: _Structure, reml: bool):
    def fun(psi: np.ndarray) -> tuple[float, np.ndarray]:
        prof = _profile(structure, psi, reml=reml, gradient=True)
        if prof is None:
            return 1e300, np.zeros(len(psi))
        return -prof.llf, -prof.grad
    return fun


def _optimise(structure: _Structure, reml: bool,
              extra_starts: Sequence[np.ndarray] = ()) -> tuple[np.ndarray, bool]:
    """Best psi over the starting points; returns (psi, converged)."""
    fun = _negative(structure, reml)
    starts = [*extra_starts, *structure.starts()]
    scored = sorted(((fun(s)[0], i) for i, s in enumerate(starts)), key=lambda t: t[0])
    best, best_val, converged = None, np.inf, False
    for _, i in scored[:4]:
        res = optimize.minimize(fun, starts[i], jac=True, method="L-BFGS-B",
                                bounds=structure.bounds(),
                                options={"maxiter": 2000, "ftol": 1e-14, "gtol": 1e-9})
        if res.fun < best_val - 1e-12:
            best, best_val, converged = res.x, res.fun, bool(res.success)
    if best is None:
        raise np.linalg.LinAlgError("no starting value gives a positive-definite covariance")
    return _snap_boundary(structure, best, reml), converged


def _snap_boundary(structure: _Structure, psi: np.ndarray, reml: bool) -> np.ndarray:
    """Put a variance ratio that is numerically zero exactly on the boundary."""
    if structure.name != "compound_symmetry" or psi[0] == 0.0:
        return psi
    at_zero = psi.copy()
    at_zero[0] = 0.0
    here = _profile(structure, psi, reml=reml)
    there = _profile(structure, at_zero, reml=reml)
    if there is not None and (here is None or there.llf >= here.llf - 1e-10):
        return at_zero
    return psi


def _v_from_theta(structure: _Structure, theta: np.ndarray, pat: Pattern) -> np.ndarray:
    """V of a pattern from the natural parameters."""
    if isinstance(structure, _Unstructured):
        return structure.sigma(theta)[np.ix_(pat.level, pat.level)]
    d = structure.dv(theta, pat)
    if structure.name == "ar1":
        return theta[0] * d[0]
    return np.einsum("a,ajk->jk", theta, d)


class Moments:
    """GLS fit and derivatives of the (restricted) likelihood at given variance parameters.

    Parameters
    ----------
    structure
        Covariance structure bound to the data.
    theta
        Natural variance parameters.
    reml
        Restricted (default) or full likelihood.

    Raises
    ------
    numpy.linalg.LinAlgError
        V or X'V^-1 X is not positive definite.

    Notes
    -----
    With ``W = V^-1``, ``D_a = dV/dtheta_a`` and ``P = W - W X Phi X' W`` (REML;
    ``P = W`` for ML): ``A_a = X'W D_a W X`` (so ``dPhi/dtheta_a = Phi A_a Phi``),
    score ``(e'D_a e - tr(P D_a)) / 2`` with ``e = P y``, expected information
    ``tr(P D_a P D_b) / 2`` and observed information ``-d2 l / dtheta_a dtheta_b``.
    Every sum runs over subject blocks.

    """

    def __init__(self, structure: _Structure, theta: np.ndarray, *, reml: bool = True):
        self.structure, self.theta, self.reml = structure, np.asarray(theta, float), reml
        d = structure.design
        xtwx = np.zeros((d.p, d.p))
        xtwy = np.zeros(d.p)
        logdet = 0.0
        blocks = []
        for pat in d.patterns:
            factor = linalg.cho_factor(_v_from_theta(structure, self.theta, pat), lower=True)
            logdet += pat.count * 2 * np.log(np.diag(factor[0])).sum()
            w = linalg.cho_solve(factor, np.eye(pat.level.size))
            w = (w + w.T) / 2
            wx = _left(w, pat.xu)  # per distinct design block
            xtwx += _gram(pat.xu * pat.xcount, wx)
            xtwy += _gram(wx, pat.ysum[:, :, None])[:, 0]
            blocks.append((pat, w, wx))
        cf = linalg.cho_factor(xtwx, lower=True)
        self.phi = linalg.cho_solve(cf, np.eye(d.p))
        self.phi = (self.phi + self.phi.T) / 2
        self.beta = linalg.cho_solve(cf, xtwy)
        self.resid = [pat.y - pat.fitted(self.beta) for pat in d.patterns]
        self._blocks = [(pat, w, wx, structure.dv(self.theta, pat),
                         structure.d2v(self.theta, pat), r @ w)
                        for (pat, w, wx), r in zip(blocks, self.resid, strict=True)]
        quad = sum(float(np.sum(r * e)) for r, (*_, e) in zip(self.resid, self._blocks,
                                                              strict=True))
        n = d.n_obs - d.p if reml else d.n_obs
        self.llf = -0.5 * (n * np.log(2 * np.pi) + logdet + quad)
        if reml:
            self.llf -= np.log(np.diag(cf[0])).sum()

    @functools.cached_property
    def a(self) -> np.ndarray:
        """``A_a = X'W D_a W X``, shape (q, p, p)."""
        return sum(np.stack([_gram(wx * pat.xcount, _left(da, wx)) for da in d])
                   for pat, _, wx, d, _, _ in self._blocks)

    def _k(self, pat: Pattern, wx: np.ndarray) -> np.ndarray:
        """``sum_s W X_s Phi X_s' W`` of one pattern (zero for ML)."""
        if not self.reml:
            return np.zeros((wx.shape[1], wx.shape[1]))
        return _outer_sum(_right(wx, self.phi) * pat.xcount, wx)

    @functools.cached_property
    def score(self) -> np.ndarray:
        """``dl/dtheta_a = (e'D_a e - tr(P D_a)) / 2``."""
        out = np.zeros(self.theta.size)
        for pat, w, wx, d, _, e in self._blocks:
            out += np.einsum("sj,ajk,sk->a", e, d, e, optimize=True)
            out -= np.einsum("jk,akj->a", pat.count * w - self._k(pat, wx), d)
        return out / 2

    @functools.cached_property
    def expected_info(self) -> np.ndarray:
        """``tr(P D_a P D_b) / 2``, shape (q, q)."""
        q = self.theta.size
        tr = np.zeros((q, q))
        for pat, w, wx, d, _, _ in self._blocks:
            wd = w @ d                                   # (q, m, m): W D_a
            wdt = np.swapaxes(wd, 1, 2).reshape(q, -1)
            tr += pat.count * wd.reshape(q, -1) @ wdt.T  # tr(W D_a W D_b)
            if self.reml:
                dk = (wd @ self._k(pat, wx)).reshape(q, -1)    # W D_b K
                tr -= 2 * np.swapaxes(d, 1, 2).reshape(q, -1) @ dk.T  # tr(D_a W D_b K)
        if self.reml:
            phi_a = np.einsum("pq,aqr->apr", self.phi, self.a)
            tr += phi_a.reshape(q, -1) @ np.swapaxes(phi_a, 1, 2).reshape(q, -1).T
        return (tr + tr.T) / 4

    @functools.cached_property
    def _second(self) -> tuple[np.ndarray, np.ndarray]:
        """``tr(P D_ab)`` and ``e' D_ab e`` (zero when V is linear in theta)."""
        q = self.theta.size
        tr = np.zeros((q, q))
        quad = np.zeros((q, q))
        for pat, w, wx, _, d2, e in self._blocks:
            if d2 is not None:
                tr += np.einsum("jk,abkj->ab", pat.count * w - self._k(pat, wx), d2)
                quad += np.einsum("sj,abjk,sk->ab", e, d2, e, optimize=True)
        return tr, quad

    @functools.cached_property
    def observed_info(self) -> np.ndarray:
        """``-d2 l / dtheta_a dtheta_b``, shape (q, q)."""
        q = self.theta.size
        uwu = np.zeros((q, q))
        c = np.zeros((q, self.structure.design.p))
        for pat, w, wx, d, _, e in self._blocks:
            u = np.einsum("ajk,sk->asj", d, e)
            uwu += np.einsum("asj,jk,bsk->ab", u, w, u, optimize=True)
            usum = pat.per_block(u, axis=1)
            c += usum.reshape(usum.shape[0], -1) @ wx.reshape(-1, wx.shape[2])
        if self.reml:
            uwu -= c @ self.phi @ c.T
        tr_pd2, quad = self._second
        out = -self.expected_info + 0.5 * tr_pd2 + uwu - 0.5 * quad
        return (out + out.T) / 2

    def jacobian(self) -> np.ndarray:
        """``dPhi/dtheta_a = Phi A_a Phi``, shape (q, p, p)."""
        return np.einsum("pq,aqr,rs->aps", self.phi, self.a, self.phi, optimize=True)

    def weighted_blocks(self, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``sum_ab w_ab X'W D_a W D_b W X`` and ``sum_ab w_ab X'W D_ab W X``."""
        p = self.structure.design.p
        q_sum = np.zeros((p, p))
        r_sum = np.zeros((p, p))
        for pat, w, wx, d, d2, _ in self._blocks:
            s = np.einsum("ab,ajk,kl,blm->jm", weights, d, w, d, optimize=True)
            q_sum += _gram(wx * pat.xcount, _left(s, wx))
            if d2 is not None:
                r_sum += _gram(wx * pat.xcount,
                               _left(np.einsum("ab,abjk->jk", weights, d2), wx))
        return q_sum, r_sum


def _moments_or_none(structure: _Structure, theta: np.ndarray, reml: bool) -> Moments | None:
    try:
        return Moments(structure, theta, reml=reml)
    except (linalg.LinAlgError, np.linalg.LinAlgError):
        return None


def _fisher_scoring(structure: _Structure, theta: np.ndarray, reml: bool,
                    max_iter: int = 200) -> tuple[Moments | None, bool]:
    """Maximise the likelihood over theta by Fisher scoring with step halving."""
    cur = _moments_or_none(structure, theta, reml)
    if cur is None:
        return None, False
    for _ in range(max_iter):
        info = cur.observed_info
        if np.any(np.linalg.eigvalsh(info) <= 0):
            info = cur.expected_info  # Fisher scoring until Newton's matrix is definite
        step = linalg.lstsq(info, cur.score)[0]
        size = 1.0
        while size > 1e-6:
            new = _moments_or_none(structure, cur.theta + size * step, reml)
            if new is not None and new.llf >= cur.llf - 1e-12:
                break
            size /= 2
        else:
            return cur, False
        moved = np.max(np.abs(size * step)) / (1.0 + np.max(np.abs(cur.theta)))
        gain = new.llf - cur.llf
        cur = new
        if gain < 1e-10 and moved < 1e-8:
            return cur, True
    return cur, False


@dataclass(frozen=True)
class RemlFit:
    """A fitted model (see :func:`fit_reml`).

    Attributes
    ----------
    structure
        Name of the covariance structure.
    reml
        Restricted (True) or full maximum likelihood.
    llf
        Log-likelihood at the optimum (nlme's convention).
    beta, cov_beta
        Fixed effects and their GLS covariance ``(X' V^-1 X)^-1``.
    theta, labels
        Variance parameters and their names (``var_random``, ``var_residual``,
        ``phi``; ``cov[a,b]`` for unstructured).
    on_boundary
        Mask of ``theta`` components on the boundary of the parameter space.
    converged
        The optimiser reported convergence.
    design
        The data, split by subject.

    """

    structure: str
    reml: bool
    llf: float
    beta: np.ndarray
    cov_beta: np.ndarray
    theta: np.ndarray
    labels: tuple[str, ...]
    on_boundary: np.ndarray
    converged: bool
    design: Design

    @property
    def n_params(self) -> int:
        """Number of covariance parameters."""
        return int(self.theta.size)

    @property
    def aic(self) -> float:
        """AIC over the covariance and fixed-effect parameters (nlme's convention)."""
        return -2 * self.llf + 2 * (self.n_params + self.design.p)

    @functools.cached_property
    def moments(self) -> Moments:
        """Derivatives at the estimate (for :mod:`neurotox.stats.ddf`)."""
        return Moments(_STRUCTURES[self.structure](self.design), self.theta, reml=self.reml)


def fit_reml(design: Design, structure: str = "compound_symmetry", *, reml: bool = True,
             starts: Sequence[Sequence[float]] = ()) -> RemlFit:
    """Fit the model by REML (or ML), checking several starting points.

    Parameters
    ----------
    design
        Data from :func:`make_design`.
    structure
        One of :data:`STRUCTURES`.
    reml
        Restricted (default) or full maximum likelihood.
    starts
        Further starting values, e.g. another program's estimate (compound
        symmetry: the variance ratio ``s_b^2 / s^2``; AR(1): ``atanh(phi)``).

    Returns
    -------
    RemlFit

    Raises
    ------
    ValueError
        Unknown structure.
    numpy.linalg.LinAlgError
        No parameter value gives a positive-definite covariance.

    Notes
    -----
    Compound symmetry and AR(1): the residual variance is profiled out and the
    remaining parameter is optimised by L-BFGS-B from the best points of a grid
    and the given starts; a random-intercept variance that is numerically zero is
    set to 0 when that does not lower the likelihood. Unstructured: Fisher
    scoring from the residual moment matrix and from a compound-symmetry matrix.

    """
    if structure not in _STRUCTURES:
        raise ValueError(f"covariance structure must be one of {STRUCTURES}, found "
                         f"{structure!r}")
    obj = _STRUCTURES[structure](design)
    if isinstance(obj, _Unstructured):
        fits = [_fisher_scoring(obj, s, reml) for s in obj.theta_starts()]
        fits = [(m, ok) for m, ok in fits if m is not None]
        if not fits:
            raise np.linalg.LinAlgError("no starting value gives a positive-definite covariance")
        mom, converged = max(fits, key=lambda f: f[0].llf)
        boundary = np.zeros(mom.theta.size, dtype=bool)
    else:
        psi, converged = _optimise(obj, reml, [np.asarray(s, float) for s in starts])
        prof = _profile(obj, psi, reml=reml)
        if prof is None:  # every start failed: X'V^-1 X singular or no residual variation
            raise np.linalg.LinAlgError("the fixed effects are not estimable or the data "
                                        "have no residual variation")
        mom = Moments(obj, obj.theta(psi, prof.s2), reml=reml)
        boundary = obj.boundary(psi)
    return RemlFit(structure=structure, reml=reml, llf=float(mom.llf), beta=mom.beta,
                   cov_beta=mom.phi, theta=mom.theta, labels=tuple(obj.labels()),
                   on_boundary=boundary, converged=converged, design=design)


def profile_llf(design: Design, structure: str, psi: Sequence[float], *,
                reml: bool = True) -> float:
    """Profiled log-likelihood at given optimisation parameters (NaN if not PD)."""
    prof = _profile(_STRUCTURES[structure](design), np.asarray(psi, float), reml=reml)
    return np.nan if prof is None else prof.llf
