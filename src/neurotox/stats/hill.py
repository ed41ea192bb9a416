"""Four-parameter log-logistic (Hill) concentration-response fits.

``f(c) = bottom + (top - bottom) / (1 + (c / EC50) ** slope)``

fitted by non-linear least squares (``scipy.optimize.curve_fit``) with the
EC50 on the log10 scale. Effect concentrations ECx are read off the fitted
curve as the concentration at which the response has moved x % of a
reference level (by default the fitted top, i.e. the control level) away from
it; their confidence intervals come from the delta method on log10(ECx).
Nothing here imports assays or io: inputs are plain arrays.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy import optimize, stats

#: Flags a fit may carry.
FLAG_TOO_FEW = "too_few_points"
FLAG_NOT_CONVERGED = "not_converged"
FLAG_NO_COVARIANCE = "covariance_not_estimated"
FLAG_EXTRAPOLATED = "extrapolated"
FLAG_NOT_REACHED = "not_reached"


@dataclass(frozen=True)
class HillFit:
    """Result of :func:`fit_hill`.

    Attributes
    ----------
    top, bottom, ec50, slope
        Fitted parameters (NaN when no fit was possible).
    ec50_ci
        Confidence interval of the EC50 (NaN when unavailable).
    ecx
        Effect concentrations by level (e.g. ``{50: ..., 20: ...}``); NaN when the
        fitted curve does not reach the level.
    ecx_ci
        Confidence intervals of the ECx.
    ecx_flags
        Per level: ``extrapolated`` (outside the tested range of positive
        concentrations) and/or ``not_reached``.
    flags
        Fit-level flags: ``too_few_points``, ``not_converged``,
        ``covariance_not_estimated``.
    n
        Number of finite observations used.
    tested_range
        Lowest positive and highest tested concentration.
    reference
        Level the ECx changes are relative to.
    confidence
        Confidence level of the intervals.

    """

    top: float
    bottom: float
    ec50: float
    slope: float
    ec50_ci: tuple[float, float]
    ecx: dict[float, float] = field(default_factory=dict)
    ecx_ci: dict[float, tuple[float, float]] = field(default_factory=dict)
    ecx_flags: dict[float, tuple[str, ...]] = field(default_factory=dict)
    flags: tuple[str, ...] = ()
    n: int = 0
    tested_range: tuple[float, float] = (math.nan, math.nan)
    reference: float = math.nan
    confidence: float = 0.95

    @property
    def converged(self) -> bool:
        """True when a fit was obtained."""
        return not ({FLAG_TOO_FEW, FLAG_NOT_CONVERGED} & set(self.flags))

    def predict(self, conc: np.ndarray | float) -> np.ndarray:
        """Fitted response at ``conc``."""
        return hill(np.asarray(conc, dtype=float), self.top, self.bottom,
                    math.log10(self.ec50) if self.ec50 > 0 else math.nan, self.slope)


def hill(conc: np.ndarray, top: float, bottom: float, log_ec50: float,
         slope: float) -> np.ndarray:
    """Four-parameter log-logistic curve; ``conc = 0`` gives ``top``."""
    conc = np.asarray(conc, dtype=float)
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        z = np.where(conc > 0, slope * (np.log10(np.where(conc > 0, conc, 1.0)) - log_ec50),
                     -np.inf)
        return bottom + (top - bottom) / (1.0 + np.exp(z * np.log(10.0)))


def _inverse(level: float, p: np.ndarray) -> float:
    top, bottom, log_ec50, slope = p
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = (top - level) / (level - bottom)
    if not np.isfinite(ratio) or ratio <= 0 or slope == 0:
        return math.nan
    return 10 ** (log_ec50 + math.log10(ratio) / slope)


def _start(conc: np.ndarray, resp: np.ndarray) -> tuple[np.ndarray, tuple, tuple]:
    pos = conc[conc > 0]
    lo, hi = math.log10(pos.min()), math.log10(pos.max())
    first = resp[conc <= np.min(conc)].mean()
    last = resp[conc >= np.max(conc)].mean()
    span = max(np.ptp(resp), 1e-9)
    p0 = np.array([first, last, 0.5 * (lo + hi), 1.0])
    lower = (-np.inf, -np.inf, lo - 3.0, 0.05)
    upper = (np.inf, np.inf, hi + 3.0, 20.0)
    if not np.isfinite(span):
        p0[:2] = 0.0
    return p0, lower, upper


def _fit(conc: np.ndarray, resp: np.ndarray) -> tuple[np.ndarray, np.ndarray, list[str]]:
    p0, lower, upper = _start(conc, resp)
    flags: list[str] = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", optimize.OptimizeWarning)
        try:
            popt, pcov = optimize.curve_fit(hill, conc, resp, p0=p0, bounds=(lower, upper),
                                            method="trf", maxfev=20000)
        except (RuntimeError, ValueError):
            return np.full(4, np.nan), np.full((4, 4), np.nan), [FLAG_NOT_CONVERGED]
    if any(issubclass(w.category, optimize.OptimizeWarning) for w in caught) or \
            not np.all(np.isfinite(pcov)):
        flags.append(FLAG_NO_COVARIANCE)
    return popt, pcov, flags


def _log_ci(fun, p: np.ndarray, pcov: np.ndarray, tq: float) -> tuple[float, float]:
    """Delta-method CI of a positive quantity computed by ``fun(p)``, on the log10 scale.

    Returns ``(nan, nan)`` when the quantity or its bounds are not finite floats.
    """
    try:
        return _log_ci_unguarded(fun, p, pcov, tq)
    except (OverflowError, ZeroDivisionError):
        return (math.nan, math.nan)


def _log_ci_unguarded(fun, p: np.ndarray, pcov: np.ndarray, tq: float) -> tuple[float, float]:
    value = fun(p)
    if not np.isfinite(value) or value <= 0 or not np.all(np.isfinite(pcov)):
        return (math.nan, math.nan)
    grad = np.zeros(len(p))
    for i in range(len(p)):
        h = 1e-6 * max(abs(p[i]), 1.0)
        up, dn = p.copy(), p.copy()
        up[i] += h
        dn[i] -= h
        fu, fd = fun(up), fun(dn)
        if not (np.isfinite(fu) and np.isfinite(fd) and fu > 0 and fd > 0):
            return (math.nan, math.nan)
        grad[i] = (math.log10(fu) - math.log10(fd)) / (2 * h)
    se = math.sqrt(max(float(grad @ pcov @ grad), 0.0))
    centre = math.log10(value)
    if not math.isfinite(se) or tq * se > 300:
        return (math.nan, math.nan)
    return (10 ** (centre - tq * se), 10 ** (centre + tq * se))


def fit_hill(conc: Sequence[float] | np.ndarray, response: Sequence[float] | np.ndarray, *,
             levels: Sequence[float] = (50.0, 20.0), reference: float | None = None,
             confidence: float = 0.95) -> HillFit:
    """Fit a four-parameter log-logistic curve and derive ECx with confidence intervals.

    Parameters
    ----------
    conc
        Concentrations (>= 0; 0 = vehicle control, fitted as the top plateau).
    response
        Responses, e.g. percent of the vehicle-control mean. Non-finite pairs are dropped.
    levels
        Effect levels x (percent change from ``reference``) for which ECx are derived.
    reference
        Level the changes are relative to; default the fitted top.
    confidence
        Confidence level of the intervals (delta method, t quantile with n - 4
        degrees of freedom).

    Returns
    -------
    HillFit
        Parameters, ECx, intervals and flags; never raises for data that cannot
        be fitted (the flags say why).

    Raises
    ------
    ValueError
        ``conc`` and ``response`` differ in length, or a concentration is negative.

    Notes
    -----
    The ECx interval is the delta method on log10(ECx) with the gradient over all
    four parameters; when ECx is relative to the fitted top, the target level
    (top minus x % of it) is a function of the top and differentiated with it, so
    the top's variance widens the interval. A given ``reference`` is a constant.

    ECx outside the tested range of positive concentrations is reported but
    flagged ``extrapolated``; a level the curve never reaches gives NaN and
    ``not_reached``. The EC50 parameter is the curve's midpoint between top and
    bottom, which equals EC50 relative to control only when bottom is 0 and top
    the control level.

    References
    ----------
    Ritz C. et al. (2015) Dose-response analysis using R. PLoS ONE 10:e0146021.

    """
    conc = np.asarray(conc, dtype=float)
    resp = np.asarray(response, dtype=float)
    if conc.shape != resp.shape:
        raise ValueError(f"conc and response differ in length: {conc.size} vs {resp.size}")
    ok = np.isfinite(conc) & np.isfinite(resp)
    conc, resp = conc[ok], resp[ok]
    if np.any(conc < 0):
        raise ValueError(f"concentrations must be >= 0, found {conc.min()}")
    pos = conc[conc > 0]
    tested = (float(pos.min()), float(pos.max())) if pos.size else (math.nan, math.nan)
    if conc.size < 5 or len(np.unique(pos)) < 3:
        return _empty_fit(levels, conc.size, tested, confidence, FLAG_TOO_FEW)
    popt, pcov, flags = _fit(conc, resp)
    if FLAG_NOT_CONVERGED in flags:
        return _empty_fit(levels, conc.size, tested, confidence, FLAG_NOT_CONVERGED)
    dof = max(conc.size - 4, 1)
    tq = float(stats.t.ppf(0.5 + confidence / 2, dof))
    ref = float(popt[0]) if reference is None else float(reference)
    direction = -1.0 if popt[1] < popt[0] else 1.0
    ecx, ecx_ci, ecx_flags = {}, {}, {}
    for x in levels:
        # relative to the fitted top, the target moves with it: the delta method's
        # gradient goes through the target too (a given reference is a constant)
        def fun(p, x=x):
            level = float(p[0]) if reference is None else ref
            return _inverse(level + direction * abs(level) * x / 100.0, p)

        ecx[x] = float(fun(popt))
        ecx_ci[x] = _log_ci(fun, popt, pcov, tq)
        ecx_flags[x] = _level_flags(ecx[x], tested)
    ec50 = 10 ** popt[2]
    ec50_ci = _log_ci(lambda p: 10 ** p[2], popt, pcov, tq)
    return HillFit(top=float(popt[0]), bottom=float(popt[1]), ec50=float(ec50),
                   slope=float(popt[3]), ec50_ci=ec50_ci, ecx=ecx, ecx_ci=ecx_ci,
                   ecx_flags=ecx_flags, flags=tuple(flags), n=int(conc.size),
                   tested_range=tested, reference=ref, confidence=confidence)


def _level_flags(value: float, tested: tuple[float, float]) -> tuple[str, ...]:
    if not np.isfinite(value):
        return (FLAG_NOT_REACHED,)
    if value < tested[0] or value > tested[1]:
        return (FLAG_EXTRAPOLATED,)
    return ()


def _empty_fit(levels: Sequence[float], n: int, tested: tuple[float, float],
               confidence: float, flag: str) -> HillFit:
    nan2 = (math.nan, math.nan)
    return HillFit(top=math.nan, bottom=math.nan, ec50=math.nan, slope=math.nan,
                   ec50_ci=nan2, ecx={x: math.nan for x in levels},
                   ecx_ci={x: nan2 for x in levels},
                   ecx_flags={x: (FLAG_NOT_REACHED,) for x in levels}, flags=(flag,), n=n,
                   tested_range=tested, confidence=confidence)


def versus_flat(conc: Sequence[float] | np.ndarray, response: Sequence[float] | np.ndarray,
                fit: HillFit) -> float:
    """p-value of the Hill fit against a constant response (extra sum-of-squares F-test).

    Parameters
    ----------
    conc, response
        The values the fit was made on (non-finite pairs are dropped).
    fit
        A converged :class:`HillFit` of them.

    Returns
    -------
    float
        ``P(F(3, n - 4) >= F)``; NaN when the fit did not converge or n < 5. A small
        value says the concentration explains more of the response than chance.

    References
    ----------
    Motulsky H, Christopoulos A (2004). Fitting models to biological data using
    linear and nonlinear regression, chapter 22 (comparing models by the extra
    sum-of-squares F test). Oxford University Press.

    """
    conc = np.asarray(conc, dtype=float)
    resp = np.asarray(response, dtype=float)
    ok = np.isfinite(conc) & np.isfinite(resp)
    conc, resp = conc[ok], resp[ok]
    if not fit.converged or conc.size < 5:
        return math.nan
    rss_flat = float(np.sum((resp - resp.mean()) ** 2))
    rss_hill = float(np.sum((resp - fit.predict(conc)) ** 2))
    df2 = conc.size - 4
    if rss_flat <= 0:
        return 1.0
    if rss_hill <= 1e-12 * rss_flat:
        return 0.0
    f = ((rss_flat - rss_hill) / 3.0) / (rss_hill / df2)
    return float(stats.f.sf(max(f, 0.0), 3, df2))


def reversal(conc: Sequence[float] | np.ndarray, response: Sequence[float] | np.ndarray, *,
             alpha: float = 0.05, fraction: float = 0.5, min_effect: float = 0.2) -> str:
    """Why the response is not monotone in concentration, or ``""`` when it is.

    The concentration whose mean departs most from the control (concentration 0)
    mean is the peak; it must itself differ from the control (Welch's t-test at
    ``alpha``; without replicates, by at least ``min_effect`` of the control
    mean). The response is non-monotone when a higher concentration comes back
    towards the control: its mean differs from the peak's towards the control by
    Welch's t-test at ``alpha`` (or, without replicates, by more than
    ``fraction`` of the peak effect).
    """
    conc = np.asarray(conc, dtype=float)
    resp = np.asarray(response, dtype=float)
    ok = np.isfinite(conc) & np.isfinite(resp)
    conc, resp = conc[ok], resp[ok]
    levels = np.unique(conc)
    if levels.size < 3 or levels[0] != 0:
        return ""
    means = np.array([resp[conc == c].mean() for c in levels])
    effect = means - means[0]
    peak = int(np.argmax(np.abs(effect[1:]))) + 1
    sign = np.sign(effect[peak])

    def differ(a: np.ndarray, b: np.ndarray, fallback: bool) -> bool:
        if a.size < 2 or b.size < 2:
            return fallback
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore", RuntimeWarning)  # identical values: p NaN
            return float(stats.ttest_ind(a, b, equal_var=False).pvalue) < alpha

    control, top = resp[conc == levels[0]], resp[conc == levels[peak]]
    if not differ(control, top, abs(effect[peak]) >= min_effect * abs(means[0])):
        return ""
    for k in range(peak + 1, levels.size):
        back = sign * (effect[peak] - effect[k])  # > 0: closer to control than the peak
        if back <= 0:
            continue
        returns = differ(top, resp[conc == levels[k]], back > fraction * abs(effect[peak]))
        if returns:
            return (f"the response at {levels[k]:g} returns towards control after the "
                    f"largest change at {levels[peak]:g}")
    return ""
