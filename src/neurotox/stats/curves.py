"""Calibration (standard) curves of immunoassays and enzyme assays.

Models, in the form the plate-reader vendors print them:

``5pl``
    ``y = A + (B - A) / (1 + (x / C) ** D) ** F`` (Luminex xPONENT, Bio-Rad
    Bio-Plex Manager: ``F`` is their ``E``). ``A`` is the signal at zero
    concentration when ``D < 0`` (the vendors' convention for a rising curve),
    ``B`` the signal at infinite concentration.
``4pl``
    The same with ``F = 1``.
``linear``
    ``y = A + B * x``.
``log-linear``
    ``y = A + B * log10(x)`` (enzyme activity and narrow-range assays).

:func:`fit_curve` fits a model to standards by weighted least squares
(weights none, ``1/y``, ``1/y^2`` or ``1/variance`` of the replicate signals);
:class:`Curve` predicts signals and inverts signals to concentrations, giving
NaN where the signal lies beyond an asymptote ("not computable").
Everything here works on plain arrays: no assay, reader or unit knowledge.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np
from scipy import optimize


class Model(StrEnum):
    """Calibration model."""

    FOUR_PL = "4pl"
    FIVE_PL = "5pl"
    LINEAR = "linear"
    LOG_LINEAR = "log-linear"

    @property
    def label(self) -> str:
        """Display label used in methods text and tables."""
        return {"4pl": "four-parameter logistic", "5pl": "five-parameter logistic",
                "linear": "linear", "log-linear": "log-linear"}[self.value]

    @property
    def n_params(self) -> int:
        """Number of fitted parameters."""
        return {"4pl": 4, "5pl": 5, "linear": 2, "log-linear": 2}[self.value]


class Weighting(StrEnum):
    """Weights of the least-squares fit of a standard curve."""

    NONE = "none"
    INV_Y = "1/y"
    INV_Y2 = "1/y^2"
    INV_VARIANCE = "1/variance"

    @property
    def label(self) -> str:
        """Display label."""
        return {"none": "unweighted", "1/y": "1/y weighted", "1/y^2": "1/y² weighted",
                "1/variance": "weighted by 1/variance of replicates"}[self.value]


#: Status of an inverted signal.
OK = "ok"
BELOW = "below_curve"      # beyond the zero-concentration asymptote (or x <= 0 on a line)
ABOVE = "above_curve"      # beyond the infinite-concentration asymptote
NO_SIGNAL = "no_signal"    # signal missing


def logistic5(x: np.ndarray | float, a: float, b: float, c: float, d: float,
              f: float = 1.0) -> np.ndarray:
    """Five-parameter logistic ``a + (b - a) / (1 + (x / c) ** d) ** f``; ``x = 0`` allowed."""
    x = np.asarray(x, dtype=float)
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        z = np.exp(d * (np.log(x) - math.log(c)))
        return a + (b - a) / (1.0 + z) ** f


@dataclass(frozen=True)
class Curve:
    """A calibration curve with known parameters.

    Attributes
    ----------
    model
        Which formula (see the module docstring).
    params
        ``a, b, c, d, f`` for 4PL/5PL (``f = 1`` for 4PL); ``a, b`` (intercept,
        slope) for linear and log-linear.

    """

    model: Model
    params: tuple[float, ...]

    @classmethod
    def logistic(cls, a: float, b: float, c: float, d: float, f: float | None = None) -> Curve:
        """A 4PL (``f`` None) or 5PL curve in the vendors' form."""
        if f is None:
            return cls(Model.FOUR_PL, (float(a), float(b), float(c), float(d), 1.0))
        return cls(Model.FIVE_PL, (float(a), float(b), float(c), float(d), float(f)))

    @classmethod
    def gen5_4pl(cls, a: float, b: float, c: float, d: float) -> Curve:
        """Gen5's ``Y = (A - D) / (1 + (X / C) ** B) + D`` in this module's form."""
        return cls.logistic(d, a, c, b)

    @property
    def logistic_family(self) -> bool:
        """True for 4PL and 5PL."""
        return self.model in (Model.FOUR_PL, Model.FIVE_PL)

    def predict(self, x: np.ndarray | float) -> np.ndarray:
        """Signal at concentration ``x``."""
        x = np.asarray(x, dtype=float)
        if self.logistic_family:
            return logistic5(x, *self.params)
        a, b = self.params
        if self.model is Model.LINEAR:
            return a + b * x
        with np.errstate(divide="ignore", invalid="ignore"):
            return a + b * np.log10(np.where(x > 0, x, np.nan))

    def inverse(self, y: np.ndarray | float) -> np.ndarray:
        """Concentration at signal ``y``; NaN where not computable (see :meth:`status`)."""
        y = np.asarray(y, dtype=float)
        if self.logistic_family:
            a, b, c, d, f = self.params
            with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
                u = (y - a) / (b - a)
                inside = (u > 0) & (u < 1)
                x = c * (np.power(np.where(inside, u, 0.5), -1.0 / f) - 1.0) ** (1.0 / d)
            return np.where(inside, x, np.nan)
        a, b = self.params
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            x = (y - a) / b if self.model is Model.LINEAR else 10.0 ** ((y - a) / b)
        if self.model is Model.LINEAR:
            x = np.where(x > 0, x, np.nan)
        return np.where(np.isfinite(x), x, np.nan)

    def status(self, y: np.ndarray | float) -> np.ndarray:
        """Per signal: ``ok``, ``below_curve``, ``above_curve`` or ``no_signal``.

        In concentration terms: ``below_curve`` is lower than the lowest concentration
        the curve can return (beyond the zero-concentration asymptote).
        """
        y = np.asarray(y, dtype=float)
        out = np.full(y.shape, OK, dtype=object)
        if self.logistic_family:
            a, b = self.params[:2]
            with np.errstate(divide="ignore", invalid="ignore"):
                u = (y - a) / (b - a)
            low_conc_side = u <= 0 if self.params[3] < 0 else u >= 1
            high_conc_side = u >= 1 if self.params[3] < 0 else u <= 0
            out[low_conc_side] = BELOW
            out[high_conc_side] = ABOVE
        else:
            x = self.inverse(y)
            out[~np.isfinite(x)] = BELOW
        out[~np.isfinite(y)] = NO_SIGNAL
        return out

    @property
    def rising(self) -> bool:
        """True when the signal increases with concentration."""
        if self.logistic_family:
            a, b, _, d, _ = self.params
            return (b - a) * (-d) > 0
        return self.params[1] > 0

    def describe(self, digits: int = 6) -> str:
        """The fitted equation with its parameters, for tables and notes."""
        p = [f"{v:.{digits}g}" for v in self.params]
        if self.model is Model.FIVE_PL:
            return f"y = {p[0]} + ({p[1]} - {p[0]}) / (1 + (x/{p[2]})^{p[3]})^{p[4]}"
        if self.model is Model.FOUR_PL:
            return f"y = {p[0]} + ({p[1]} - {p[0]}) / (1 + (x/{p[2]})^{p[3]})"
        if self.model is Model.LINEAR:
            return f"y = {p[0]} + {p[1]}·x"
        return f"y = {p[0]} + {p[1]}·log10(x)"


@dataclass(frozen=True)
class CurveFit:
    """Result of :func:`fit_curve`.

    Attributes
    ----------
    curve
        Fitted curve (parameters NaN when no fit was possible).
    weighting
        Weights used.
    x, y
        Standards given (all of them, used or not).
    used
        Which standards entered the fit.
    weights
        Least-squares weights of the used standards (NaN for the others).
    ss
        Weighted residual sum of squares ``sum(w * (y - f(x))**2)`` over the used
        standards.
    r2
        Coefficient of determination of the used standards (unweighted,
        ``1 - SS_res / SS_tot``).
    recovery
        Back-fit recovery of every standard: ``100 * inverse(y) / x`` (NaN where not
        computable or ``x = 0``).
    converged
        False when the optimiser failed or there were too few standards.
    message
        Why it did not converge (empty otherwise).

    """

    curve: Curve
    weighting: Weighting
    x: np.ndarray
    y: np.ndarray
    used: np.ndarray
    weights: np.ndarray
    ss: float
    r2: float
    recovery: np.ndarray
    converged: bool = True
    message: str = ""
    extra: dict[str, float] = field(default_factory=dict)

    @property
    def residuals(self) -> np.ndarray:
        """Observed minus fitted signal of every standard."""
        return self.y - self.curve.predict(self.x)

    @property
    def n_used(self) -> int:
        """Number of standards in the fit."""
        return int(self.used.sum())


def fit_weights(y: np.ndarray, weighting: Weighting | str,
                groups: Sequence[object] | None = None) -> np.ndarray:
    """Least-squares weights of standards with signals ``y``.

    Parameters
    ----------
    y
        Signals of the standards entering the fit.
    weighting
        ``none``, ``1/y``, ``1/y^2`` or ``1/variance``.
    groups
        Replicate group (standard level) of each signal; needed for ``1/variance``.

    Notes
    -----
    A zero signal gets weight 1 under ``1/y`` and ``1/y^2`` (xPONENT does the
    same; a negative net signal is weighted by its absolute value).
    ``1/variance`` uses the sample variance of each level's replicates; levels
    with one replicate or zero variance take the variance predicted by a
    power-of-the-mean model (log variance linear in log mean) fitted to the
    other levels.

    """
    y = np.asarray(y, dtype=float)
    weighting = Weighting(weighting)
    if weighting is Weighting.NONE:
        return np.ones_like(y)
    if weighting in (Weighting.INV_Y, Weighting.INV_Y2):
        scale = np.where(y != 0, np.abs(y), 1.0)
        return 1.0 / scale ** (1 if weighting is Weighting.INV_Y else 2)
    if groups is None or len(groups) != len(y):
        raise ValueError("1/variance weighting needs the replicate group of every standard")
    return 1.0 / _replicate_variance(y, np.asarray(groups, dtype=object))


def _replicate_variance(y: np.ndarray, groups: np.ndarray) -> np.ndarray:
    keys = list(dict.fromkeys(groups.tolist()))
    means, variances = [], []
    for k in keys:
        v = y[groups == k]
        means.append(abs(v.mean()))
        variances.append(v.var(ddof=1) if v.size > 1 else math.nan)
    means, variances = np.array(means), np.array(variances)
    good = np.isfinite(variances) & (variances > 0) & (means > 0)
    if good.sum() < 2:
        raise ValueError("1/variance weighting needs at least two standard levels with "
                         "replicates that differ")
    slope, intercept = np.polyfit(np.log(means[good]), np.log(variances[good]), 1)
    predicted = np.exp(intercept + slope * np.log(np.maximum(means, 1e-12)))
    level_var = np.where(good, variances, predicted)
    return np.array([level_var[keys.index(k)] for k in groups.tolist()])


def _r2(y: np.ndarray, fitted: np.ndarray) -> float:
    ss_tot = float(np.sum((y - y.mean()) ** 2))
    return 1.0 - float(np.sum((y - fitted) ** 2)) / ss_tot if ss_tot > 0 else math.nan


def fit_curve(x: Sequence[float] | np.ndarray, y: Sequence[float] | np.ndarray, *,
              model: Model | str = Model.FIVE_PL,
              weighting: Weighting | str = Weighting.NONE,
              groups: Sequence[object] | None = None,
              use: Sequence[bool] | np.ndarray | None = None) -> CurveFit:
    """Fit a calibration curve to standards.

    Parameters
    ----------
    x
        Expected concentrations of the standards (>= 0; 0 = zero calibrator).
    y
        Their signals (Net MFI, FI - background, blank-corrected OD, ΔOD/min).
    model
        ``4pl``, ``5pl``, ``linear`` or ``log-linear``.
    weighting
        ``none``, ``1/y``, ``1/y^2`` or ``1/variance`` (see :func:`fit_weights`).
    groups
        Standard level of each signal (replicates share a level); for ``1/variance``.
    use
        Which standards enter the fit (default: all with finite x and y).

    Returns
    -------
    CurveFit
        Never raises for data that cannot be fitted: ``converged`` is False and the
        message says why.

    Raises
    ------
    ValueError
        ``x`` and ``y`` differ in length.

    Notes
    -----
    4PL/5PL are fitted by least squares on ``(A, B, log C, D, F)`` from several
    starting points (slopes -0.5, -1, -2; for 5PL, asymmetries 0.5, 1 and 2
    from the 4PL optimum) with the Levenberg-Marquardt algorithm and an
    analytic Jacobian (scipy, MINPACK), polishing the lowest weighted sum of
    squares to full precision. ``F`` is kept within [0.05, 20] by a logistic
    transform.

    References
    ----------
    Gottschalk P.G., Dunn J.R. (2005) The five-parameter logistic: a
    characterization and comparison with the four-parameter logistic.
    Anal. Biochem. 343:54-65.

    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    if x.shape != y.shape:
        raise ValueError(f"x and y differ in length: {x.size} vs {y.size}")
    model, weighting = Model(model), Weighting(weighting)
    used = np.isfinite(x) & np.isfinite(y) & (x >= 0)
    if use is not None:
        used &= np.asarray(use, dtype=bool)
    if model is Model.LOG_LINEAR:
        used &= x > 0
    g = None if groups is None else np.asarray(groups, dtype=object)[used]
    try:
        w = fit_weights(y[used], weighting, g)
    except ValueError as exc:
        return _failed(model, weighting, x, y, used, str(exc))
    n_levels = len(np.unique(x[used]))
    if n_levels < model.n_params:
        return _failed(model, weighting, x, y, used,
                       f"{n_levels} standard levels, {model.label} needs at least "
                       f"{model.n_params}")
    least = model.n_params - (model.n_params == 2)
    if used.sum() <= least:
        return _failed(model, weighting, x, y, used,
                       f"{int(used.sum())} standard points ({n_levels} levels), {model.label} "
                       f"needs more than {least} points (its {model.n_params} parameters)")
    if model.n_params == 2:
        curve = _fit_line(model, x[used], y[used], w)
    else:
        curve = _fit_logistic(model, x[used], y[used], w)
        if curve is None:
            return _failed(model, weighting, x, y, used, "the optimiser did not converge")
    return _result(curve, weighting, x, y, used, w)


def _result(curve: Curve, weighting: Weighting, x: np.ndarray, y: np.ndarray,
            used: np.ndarray, w: np.ndarray) -> CurveFit:
    fitted = curve.predict(x[used])
    weights = np.full(x.shape, np.nan)
    weights[used] = w
    with np.errstate(divide="ignore", invalid="ignore"):
        recovery = np.where(x > 0, 100.0 * curve.inverse(y) / x, np.nan)
    return CurveFit(curve=curve, weighting=weighting, x=x, y=y, used=used, weights=weights,
                    ss=float(np.sum(w * (y[used] - fitted) ** 2)), r2=_r2(y[used], fitted),
                    recovery=recovery)


def _failed(model: Model, weighting: Weighting, x: np.ndarray, y: np.ndarray,
            used: np.ndarray, message: str) -> CurveFit:
    nan = (math.nan,) * (5 if model in (Model.FOUR_PL, Model.FIVE_PL) else 2)
    return CurveFit(curve=Curve(model, nan), weighting=weighting, x=x, y=y, used=used,
                    weights=np.full(x.shape, np.nan), ss=math.nan, r2=math.nan,
                    recovery=np.full(x.shape, np.nan), converged=False, message=message)


def _fit_line(model: Model, x: np.ndarray, y: np.ndarray, w: np.ndarray) -> Curve:
    t = x if model is Model.LINEAR else np.log10(x)
    design = np.column_stack([np.ones_like(t), t])
    sw = np.sqrt(w)
    coef, *_ = np.linalg.lstsq(design * sw[:, None], y * sw, rcond=None)
    return Curve(model, (float(coef[0]), float(coef[1])))


_F_RANGE = (math.log(0.05), math.log(20.0))


def _f_of(t: float) -> float:
    """Asymmetry ``F`` from its unbounded transform (a logistic onto [0.05, 20])."""
    lo, hi = _F_RANGE
    return math.exp(lo + (hi - lo) / (1.0 + math.exp(-min(max(t, -700.0), 700.0))))


def _t_of(f: float) -> float:
    lo, hi = _F_RANGE
    u = min(max((math.log(f) - lo) / (hi - lo), 1e-9), 1 - 1e-9)
    return math.log(u / (1 - u))


def _unpack(q: np.ndarray) -> tuple[float, float, float, float, float]:
    """``(A, B, log C, D[, t])`` → ``(a, b, c, d, f)`` with ``f`` from :func:`_f_of`."""
    c = math.exp(min(max(q[2], -700.0), 700.0))
    return q[0], q[1], c, q[3], _f_of(q[4]) if len(q) == 5 else 1.0


def _fit_logistic(model: Model, x: np.ndarray, y: np.ndarray, w: np.ndarray, *,
                  polish: bool = True) -> Curve | None:
    five = model is Model.FIVE_PL
    sw = np.sqrt(w)

    def residuals(q: np.ndarray) -> np.ndarray:
        r = sw * (y - logistic5(x, *_unpack(q)))
        return np.where(np.isfinite(r), r, 1e150)

    def jacobian(q: np.ndarray) -> np.ndarray:
        return -sw[:, None] * _logistic_gradient(x, q)

    starts = _starts(x, y)
    if five:        # from the 4PL optimum with three asymmetries
        four = _fit_logistic(Model.FOUR_PL, x, y, w, polish=False)
        base = starts[0] if four is None else np.array(
            [four.params[0], four.params[1], math.log(four.params[2]), four.params[3]])
        starts = [np.array([*base, _t_of(f)]) for f in (0.5, 1.0, 2.0)]
    fits = [q for q in (_least_squares(residuals, jacobian, q0, 1e-8) for q0 in starts)
            if q is not None]
    if not fits:
        return None
    best = min(fits, key=lambda q: q[1])
    if polish:
        best = _least_squares(residuals, jacobian, best[0], 1e-15)
    if best is None:
        return None
    return Curve(model, tuple(float(v) for v in _unpack(best[0])))


def _logistic_gradient(x: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Derivatives of the logistic in ``x`` by ``(A, B, log C, D[, t])``."""
    a, b, c, d, f = _unpack(q)
    with np.errstate(all="ignore"):
        logx = np.log(x) - math.log(c)
        z = np.exp(d * logx)
        g = (1.0 + z) ** -f
        dg_dz = -f * (1.0 + z) ** (-f - 1.0)
        cols = [1.0 - g, g, (b - a) * dg_dz * (-d * z), (b - a) * dg_dz * z * logx]
        if len(q) == 5:
            lo, hi = _F_RANGE
            s = (math.log(f) - lo) / (hi - lo)
            cols.append((b - a) * (-np.log1p(z) * g) * f * (hi - lo) * s * (1 - s))
        jac = np.column_stack(cols)
    return np.where(np.isfinite(jac), jac, 0.0)


def _starts(x: np.ndarray, y: np.ndarray) -> list[np.ndarray]:
    """4PL starting points ``(A, B, log C, D)``.

    Asymptotes beyond the extreme standards, C at the geometric middle of the
    positive concentrations, slopes -1, -0.5, -2.
    """
    pos = x[x > 0]
    order = np.argsort(x)
    low, high = y[order[0]], y[order[-1]]
    span = max(abs(high - low), 1e-9) * np.sign(high - low or 1.0)
    c0 = math.log(float(np.sqrt(pos.min() * pos.max()))) if pos.size else 0.0
    return [np.array([low - 0.05 * span, high + 0.2 * span, c0, d0]) for d0 in (-1.0, -0.5, -2.0)]


def _least_squares(residuals, jacobian, q0: np.ndarray,
                   tol: float) -> tuple[np.ndarray, float] | None:
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        try:
            r = optimize.least_squares(residuals, q0, jac=jacobian, method="lm",
                                       x_scale="jac", xtol=tol, ftol=tol, gtol=tol,
                                       max_nfev=4000)
        except (ValueError, np.linalg.LinAlgError):
            return None
    cost = float(2 * r.cost)
    return (r.x, cost) if np.isfinite(cost) and cost < 1e290 else None
