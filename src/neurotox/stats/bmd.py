"""Benchmark dose (BMD) modelling with the US EPA's ``pybmds`` (and as bmdrc does).

:func:`benchmark_dose` fits every model of the chosen family to summary data
per dose, keeps the full model table (BMD, BMDL, BMDU, AIC, goodness-of-fit p)
and recommends one model.

Defaults follow the EPA Benchmark Dose Technical Guidance (2012): continuous
data, BMR = 1 standard deviation from the control mean; dichotomous data, BMR =
10 % extra risk.

Model recommendation
--------------------
``epa``
    pybmds' own recommender (``pybmds.recommender.Recommender``, the BMDS
    decision logic) with its default rules, the goodness-of-fit threshold set to
    ``gof_p`` and "sufficiently close" BMDLs to ``bmdl_ratio``: a model is viable
    when none of its checks fails or questions it (BMD, a non-zero BMDL and AIC
    exist, goodness of fit, residual near the BMD, BMD/BMDL ratio, BMD(L) far
    below the lowest dose, degrees of freedom, variance model). If the viable
    BMDLs lie within ``bmdl_ratio`` (3-fold) the lowest AIC wins, otherwise the
    lowest BMDL; ties go to the model with fewest parameters.
``bmdrc``
    As bmdrc (PNNL): among viable models (converged, goodness-of-fit p ≥
    ``gof_p``, finite BMD and a BMDL > 0), those within ``aic_window`` (2) of the
    lowest AIC are equivalent and the one with the lowest BMDL wins. Applied to the
    pybmds fits this is bmdrc's rule, not its numbers: bmdrc fits its own models
    (AIC counts every parameter, its BMDL is a bisected profile likelihood).

bmdrc's numbers
---------------
``engine="bmdrc"`` (or :func:`bmdrc_dichotomous`) re-implements bmdrc 1.2.0's
dichotomous fitting with scipy: its eight models, starting values, bounds,
optimiser, AIC, goodness of fit, profile-likelihood BMDL and selection, so that
bmdrc's model choice, BMD and BMDL are reproduced (the method is summarised in
the comment above ``_MODELS``).

Notes
-----
Some pybmds builds abort the interpreter on a GSL domain error (seen with the
dichotomous Gamma model); the GSL error handler is switched off before fitting
so such a fit fails with a non-converged result instead. NumPy RuntimeWarnings
raised inside pybmds while it evaluates curves at its -9999 sentinel dose are
silenced for the duration of each fit only.

"""

from __future__ import annotations

import ctypes
import functools
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd
from scipy import optimize, special, stats

DICHOTOMOUS_MODELS = ("Logistic", "Gamma", "Weibull", "LogLogistic", "Probit", "LogProbit",
                      "Multistage", "QuantalLinear")
#: Models pybmds fits without a restricted variant (a restricted prior is an error).
_NEVER_RESTRICTED = ("Logistic", "Probit", "QuantalLinear", "Linear")
CONTINUOUS_MODELS = ("Linear", "Polynomial", "Power", "Hill", "ExponentialM3", "ExponentialM5")


@dataclass
class BmdResult:
    """Outcome of a benchmark-dose analysis.

    Attributes
    ----------
    kind
        ``continuous`` or ``dichotomous``.
    bmr
        Benchmark response used (SD units or extra risk).
    model
        Recommended model name, or None when no model is viable.
    bmd, bmdl, bmdu
        Values of the recommended model (NaN without one).
    models
        One row per fitted model: ``model``, ``bmd``, ``bmdl``, ``bmdu``, ``aic``,
        ``gof_p``, ``converged``, ``viable``, ``recommended``; with the ``epa``
        selection also ``notes`` (pybmds' reasons a model is not viable).
    reason
        Why that model was recommended (or why none was).
    settings
        Settings used (bmr, bmr_type, selection, thresholds, pybmds version).
    curve
        The recommended model's fitted response (mean, or probability of
        response) at ``dose`` on a grid from 0 and a tenth of the lowest
        non-zero dose to the highest dose, log-spaced; empty without a model.

    """

    kind: str
    bmr: float
    model: str | None
    bmd: float
    bmdl: float
    bmdu: float
    models: pd.DataFrame
    reason: str
    settings: dict = field(default_factory=dict)
    curve: pd.DataFrame = field(default_factory=lambda: BmdResult.empty_curve())

    @staticmethod
    def empty_curve() -> pd.DataFrame:
        """A curve table without points (no recommended model)."""
        return pd.DataFrame({"dose": [], "response": []}, dtype=float)


def curve_grid(doses: Sequence[float], points: int = 120) -> np.ndarray:
    """Doses at which fitted curves are tabulated: 0, then log-spaced to the highest dose."""
    d = np.asarray(doses, float)
    positive = d[d > 0]
    if not len(positive):
        return np.zeros(1)
    return np.concatenate([[0.0], np.geomspace(positive.min() / 10, positive.max(), points)])


def _curve_frame(grid: np.ndarray, response: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame({"dose": grid, "response": np.asarray(response, float)})


@functools.cache
def _quiet_gsl() -> None:
    from pybmds import bmdscore

    try:
        ctypes.CDLL(bmdscore.__file__).gsl_set_error_handler_off()
    except (OSError, AttributeError):  # symbol not exported: nothing to switch off
        pass


def _dataset(kind, doses, n, incidence, mean, sd):
    import pybmds

    doses = [float(d) for d in doses]
    if kind == "dichotomous":
        if incidence is None:
            raise ValueError("dichotomous data need 'incidence' per dose")
        return pybmds.DichotomousDataset(doses=doses, ns=[float(x) for x in n],
                                         incidences=[float(x) for x in incidence])
    if mean is None or sd is None:
        raise ValueError("continuous data need 'mean' and 'sd' per dose")
    return pybmds.ContinuousDataset(doses=doses, ns=[float(x) for x in n],
                                    means=[float(x) for x in mean],
                                    stdevs=[float(x) for x in sd])


def _fit(kind: str, name: str, ds, bmr: float, restricted: bool,
         variance: str = "constant", grid: np.ndarray | None = None) -> dict:
    from pybmds.constants import DistType, PriorClass
    from pybmds.models import continuous, dichotomous

    prior = PriorClass.frequentist_restricted if restricted \
        else PriorClass.frequentist_unrestricted
    if kind == "dichotomous":
        from pybmds.types.dichotomous import DichotomousRiskType

        settings = {"bmr": bmr, "bmr_type": DichotomousRiskType.ExtraRisk}
        cls = getattr(dichotomous, name)
    else:
        from pybmds.types.continuous import ContinuousRiskType

        settings = {"bmr": bmr, "bmr_type": ContinuousRiskType.StandardDeviation,
                    "disttype": DistType.normal if variance == "constant"
                    else DistType.normal_ncv}
        cls = getattr(continuous, name)
    if name not in _NEVER_RESTRICTED:
        settings["priors"] = prior
    model = cls(ds, settings=settings)
    with warnings.catch_warnings():
        # pybmds evaluates its curves at a -9999 sentinel dose while summarising a
        # fit; the overflow/log warnings that raises say nothing about the fit.
        warnings.simplefilter("ignore", RuntimeWarning)
        res = model.execute()
        curve = (model.dr_curve(grid, res.parameters.values)
                 if grid is not None and res.has_completed else None)
    gof = res.gof.p_value if kind == "dichotomous" else res.tests.p_values[3]
    return {"model": model.name(), "bmd": _f(res.bmd), "bmdl": _f(res.bmdl),
            "bmdu": _f(res.bmdu), "aic": _f(res.fit.aic), "gof_p": _f(gof),
            "converged": bool(res.has_completed), "_curve": curve, "_fit": model}


def _choose_variance(ds, bmr: float) -> str:
    """EPA's rule: constant variance unless BMDS Test 2 (homogeneity) has p < 0.05."""
    from pybmds.constants import DistType
    from pybmds.models import continuous
    from pybmds.types.continuous import ContinuousRiskType

    model = continuous.Linear(ds, settings={"bmr": bmr, "disttype": DistType.normal,
                                            "bmr_type": ContinuousRiskType.StandardDeviation})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        res = model.execute()
    p_test2 = _f(res.tests.p_values[1])
    return "nonconstant" if np.isfinite(p_test2) and p_test2 < 0.05 else "constant"


def _f(x) -> float:
    try:
        v = float(x)
    except (TypeError, ValueError):
        return float("nan")
    return v if np.isfinite(v) and v > -9998 else float("nan")


def _recommend(table: pd.DataFrame, selection: str, gof_p: float, bmdl_ratio: float,
               aic_window: float, ds=None, fits: Sequence | None = None
               ) -> tuple[int | None, str]:
    if selection != "bmdrc" and fits is not None:
        return _recommend_pybmds(table, ds, list(fits), gof_p, bmdl_ratio)
    # a BMDL of 0 is no lower bound (pybmds: "BMDL does not exist")
    ok = table["converged"] & (table["gof_p"] >= gof_p) & (table["bmdl"] > 0) & \
        np.isfinite(table["bmdl"]) & np.isfinite(table["bmd"])
    table["viable"] = ok
    if not ok.any():
        return None, f"no model converged with goodness-of-fit p >= {gof_p:g} and a BMDL > 0"
    v = table[ok]
    if selection == "bmdrc":
        near = v[v["aic"] <= v["aic"].min() + aic_window]
        i = near["bmdl"].idxmin()
        return i, f"lowest BMDL among models within {aic_window:g} AIC of the best"
    if v["bmdl"].max() / v["bmdl"].min() > bmdl_ratio:
        return v["bmdl"].idxmin(), f"BMDLs differ more than {bmdl_ratio:g}-fold: lowest BMDL"
    return v["aic"].idxmin(), f"BMDLs within {bmdl_ratio:g}-fold: lowest AIC"


def _recommend_pybmds(table: pd.DataFrame, ds, fits: list, gof_p: float,
                      bmdl_ratio: float) -> tuple[int | None, str]:
    """Pybmds' recommender on the fitted models; ``viable`` and ``notes`` columns set."""
    from pybmds.constants import LogicBin
    from pybmds.recommender import Recommender, RecommenderSettings

    settings = RecommenderSettings.build_default()
    settings.sufficiently_close_bmdl = bmdl_ratio
    for rule in settings.rules:
        if rule.rule_class == "gof":
            rule.threshold = gof_p
    rec = Recommender(settings)
    rec.recommend(ds, fits)
    res = rec.results
    table["viable"] = [b == LogicBin.NO_CHANGE for b in res.bmds_model_bin]
    table["notes"] = ["; ".join(sorted((m for msgs in notes.values() for m in msgs),
                                       reverse=True)) for notes in res.bmds_model_notes]
    best = res.recommended_model_index
    if best is None:
        return None, (f"no model converged with goodness-of-fit p >= {gof_p:g}, a BMD, a "
                      "BMDL > 0 and no questionable check (pybmds recommender)")
    if res.recommended_model_variable == "aic":
        return best, f"BMDLs within {bmdl_ratio:g}-fold: lowest AIC"
    return best, f"BMDLs differ more than {bmdl_ratio:g}-fold: lowest BMDL"


def benchmark_dose(doses: Sequence[float], n: Sequence[float], *,
                   kind: Literal["continuous", "dichotomous"],
                   incidence: Sequence[float] | None = None,
                   mean: Sequence[float] | None = None, sd: Sequence[float] | None = None,
                   bmr: float | None = None, models: Sequence[str] | None = None,
                   selection: Literal["epa", "bmdrc"] = "epa", gof_p: float = 0.1,
                   bmdl_ratio: float = 3.0, aic_window: float = 2.0,
                   restricted: bool = True,
                   variance: Literal["auto", "constant", "nonconstant"] = "auto",
                   engine: Literal["pybmds", "bmdrc"] = "pybmds") -> BmdResult:
    """Fit benchmark-dose models to summary data and recommend one.

    Parameters
    ----------
    doses, n
        Dose (concentration) and number of subjects per dose group.
    kind
        ``dichotomous`` (needs ``incidence``) or ``continuous`` (needs ``mean``, ``sd``).
    incidence
        Affected subjects per dose (dichotomous).
    mean, sd
        Group mean and standard deviation per dose (continuous).
    bmr
        Benchmark response: extra risk (default 0.1) or SD units (default 1.0).
    models
        pybmds model class names; default :data:`DICHOTOMOUS_MODELS` or
        :data:`CONTINUOUS_MODELS`.
    selection, gof_p, bmdl_ratio, aic_window
        Model recommendation rule and thresholds (see the module docstring).
    restricted
        Restricted parameters (EPA default: slope/power ≥ 1 where the model has
        one); False fits the unrestricted models (as bmdrc does).
    variance
        Continuous models only: ``constant`` (normal, constant variance),
        ``nonconstant`` (variance a power of the mean) or ``auto`` (EPA practice:
        constant unless the likelihood-ratio test of homogeneous variance, BMDS
        "Test 2", rejects at p < 0.05 in the Linear constant-variance fit).
    engine
        ``pybmds`` (default): the EPA's BMDS models. ``bmdrc``: dichotomous data
        only, bmdrc 1.2.0's own fits, BMDL and model choice, reproduced with
        :func:`bmdrc_dichotomous` (``selection``, ``bmdl_ratio``, ``restricted``
        and ``variance`` do not apply).

    Returns
    -------
    BmdResult
        Recommended model and the full model table.

    References
    ----------
    US EPA (2012) Benchmark Dose Technical Guidance, EPA/100/R-12/001.

    """
    if kind not in ("continuous", "dichotomous"):
        raise ValueError(f"kind must be 'continuous' or 'dichotomous', not {kind!r}")
    if len(doses) != len(n):
        raise ValueError(f"{len(doses)} doses but {len(n)} group sizes")
    bmr = (0.1 if kind == "dichotomous" else 1.0) if bmr is None else float(bmr)
    if engine == "bmdrc":
        if kind != "dichotomous" or incidence is None:
            raise ValueError("engine='bmdrc' fits dichotomous data: give kind='dichotomous' "
                             "and 'incidence' per dose")
        return bmdrc_dichotomous(doses, n, incidence, bmr=bmr, models=models, gof_p=gof_p,
                                 aic_window=aic_window)
    if engine != "pybmds":
        raise ValueError(f"engine must be 'pybmds' or 'bmdrc', not {engine!r}")
    names = tuple(models or (DICHOTOMOUS_MODELS if kind == "dichotomous" else CONTINUOUS_MODELS))
    _quiet_gsl()
    ds = _dataset(kind, doses, n, incidence, mean, sd)
    if kind == "continuous" and variance == "auto":
        variance = _choose_variance(ds, bmr)
    grid = curve_grid(doses)
    table = pd.DataFrame([_fit(kind, m, ds, bmr, restricted, variance, grid) for m in names])
    curves = table.pop("_curve")
    fits = table.pop("_fit")
    best, reason = _recommend(table, selection, gof_p, bmdl_ratio, aic_window, ds, fits)
    table["recommended"] = table.index == best
    import pybmds

    settings = {"bmr": bmr, "bmr_type": "extra risk" if kind == "dichotomous" else "SD",
                "selection": selection, "gof_p": gof_p, "bmdl_ratio": bmdl_ratio,
                "aic_window": aic_window, "restricted": restricted,
                "variance": variance if kind == "continuous" else "binomial",
                "pybmds": pybmds.__version__}
    if best is None:
        return BmdResult(kind, bmr, None, np.nan, np.nan, np.nan, table, reason, settings)
    row = table.loc[best]
    curve = curves[best]
    return BmdResult(kind, bmr, row["model"], row["bmd"], row["bmdl"], row["bmdu"], table,
                     reason, settings,
                     _curve_frame(grid, curve) if curve is not None else BmdResult.empty_curve())


# --------------------------------------------------------------------------------------
# bmdrc-compatible dichotomous fitter (scipy only)
# --------------------------------------------------------------------------------------
#
# bmdrc 1.2.0 (PNNL) fits its eight quantal models by maximum likelihood with
# L-BFGS-B (through statsmodels' generic likelihood model), and computes the BMDL by
# bisection on a profile likelihood.  What follows re-implements that method from its
# definitions, so that its choices (which are not the EPA's) can be reproduced:
#
# * objective: the binomial log-likelihood sum(a log P + (n - a) log(1 - P)) divided
#   by the number of data rows, with a central finite-difference gradient (step
#   eps^(1/3) max(|x|, 0.1) / 2); L-BFGS-B with its defaults (m = 10, ftol = 1e7 eps,
#   gtol = 1e-5), at most 10000 iterations and 5000 evaluations;
# * fixed, data-derived starting values and box bounds per model (see ``_MODELS``);
#   the log-dose models evaluate the control at dose 1e-9;
# * AIC = -2 logL + 2 k, with k the number of parameters of the model, never reduced
#   for parameters on a bound; goodness of fit: Pearson chi-square with (rows - k)
#   degrees of freedom (p = 0 is reported as missing);
# * BMD at extra risk ``bmr``; BMDL: the model is reparametrised so that the BMD is a
#   parameter; with it held fixed the other parameters are refitted (from the MLE) and
#   the fixed value is bisected between BMD/10 and BMD until the profile logL is within
#   1e-4 of logL_max - chi2_{0.90,1}/2 (a one-sided 95 % bound). Without a crossing in
#   that interval (or after 100 steps) the BMDL is missing;
# * selection: models with p >= gof_p; of those, models within (strictly) ``aic_window``
#   of the lowest AIC; of those the lowest BMDL (lowest AIC when none has a BMDL).
#
# Models are fitted to the totals per dose; bmdrc recomputes the reported BMDL of the
# chosen model on the data rows as given (one row per plate x dose), which changes only
# the optimiser's scaling (the likelihood is the same).

_EPS = np.finfo(float).eps
_BMDRC_NAMES = {"Logistic": "Logistic", "Gamma": "Gamma", "Weibull": "Weibull",
                "LogLogistic": "Log Logistic", "Probit": "Probit", "LogProbit": "Log Probit",
                "Multistage": "Multistage2", "QuantalLinear": "Quantal Linear"}


def _logd(d: np.ndarray) -> np.ndarray:
    return np.log(np.where(d == 0, 1e-9, d))


# P(d) for each model; ``p`` is the parameter vector in bmdrc's order.
def _p_logistic(d, p):
    return 1 / (1 + np.exp(-p[0] - p[1] * d))


def _p_gamma(d, p):
    scale = 1 / p[2]
    ok = (p[1] > 0) & (scale > 0)
    return p[0] + (1 - p[0]) * (special.gammainc(p[1], d / scale) if ok else np.nan * d)


def _p_weibull(d, p):
    return p[0] + (1 - p[0]) * (1 - np.exp(-p[2] * d ** p[1]))


def _p_loglogistic(d, p):
    return p[0] + (1 - p[0]) / (1 + np.exp(-p[1] - p[2] * _logd(d)))


def _p_probit(d, p):
    return special.ndtr(p[0] + p[1] * d)


def _p_logprobit(d, p):
    return p[0] + (1 - p[0]) * special.ndtr(p[1] + p[2] * _logd(d))


def _p_multistage2(d, p):
    return p[0] + (1 - p[0]) * (1 - np.exp(-(p[1] * d) - (p[2] * d ** 2)))


def _p_quantal_linear(d, p):
    return p[0] + (1 - p[0]) * (1 - np.exp(-(p[1] * d)))


# Starting values from the totals per dose (d ascending, control first).
def _s_logistic(d, a, n):
    s = np.sqrt(3) * np.std(d) / np.pi
    return [-d.mean() / s, 1 / s]


def _s_gamma(d, a, n):
    beta = d.mean() / d.var()
    return [0.1, d.mean() * beta, beta]


def _s_weibull(d, a, n):
    x = np.column_stack([np.ones(len(d) - 1), np.log(d[1:])])
    b = np.linalg.inv(x.T @ x) @ x.T @ np.log(-np.log(1 - a[1:] / n[1:]))
    return [0.1, b[1], np.exp(b[0])]


def _s_loglogistic(d, a, n):
    ld = np.log(d[1:])
    s = np.sqrt(3) * np.std(ld) / np.pi
    return [0.1, -ld.mean() / s, 1 / s]


def _s_probit(d, a, n):
    alpha = special.ndtri(a[0] / n[0])
    return [alpha, (special.ndtri(a[-1] / n[-1]) - alpha) / d[-1]]


def _s_logprobit(d, a, n):
    # bmdrc's start: a line through (d1, z(1 - f1)) and (dmax, z(1 - fmax)) on the dose scale
    x = np.array([[1, d[1]], [1, d[-1]]])
    y = special.ndtri(1 - np.array([a[1] / n[1], a[-1] / n[-1]]))
    b = np.linalg.inv(x.T @ x) @ x.T @ y
    return [0.1, b[0], max(1e-5, b[1])]


def _s_multistage2(d, a, n):
    x = np.column_stack([d[1:], d[1:] ** 2])
    b = np.linalg.inv(x.T @ x) @ x.T @ -np.log(1 - a[1:] / n[1:])
    return [0.05, b[0], b[1]]


def _s_quantal_linear(d, a, n):
    return [0.1, 1 / d.mean() / np.log(2)]


# BMD at extra risk r.
def _b_logistic(p, r):
    return np.log((1 + np.exp(-p[0]) * r) / (1 - r)) / p[1]


def _b_gamma(p, r):
    return special.gammaincinv(p[1], r) * (1 / p[2]) if p[1] > 0 and p[2] > 0 else np.nan


def _b_weibull(p, r):
    return (-np.log(1 - r) / p[2]) ** (1 / p[1])


def _b_loglogistic(p, r):
    return np.exp((np.log(r / (1 - r)) - p[1]) / p[2])


def _b_probit(p, r):
    p0 = special.ndtr(p[0])
    return (special.ndtri(p0 + (1 - p0) * r) - p[0]) / p[1]


def _b_logprobit(p, r):
    return np.exp((special.ndtri(r) - p[1]) / p[2])


def _b_multistage2(p, r):
    return (-p[1] + np.sqrt(p[1] ** 2 - 4 * p[2] * np.log(1 - r))) / (2 * p[2])


def _b_quantal_linear(p, r):
    return -np.log(1 - r) / p[1]


# Profile reparametrisation: q = (free parameters..., bmd) -> model parameters.
def _r_logistic(q, r):
    p0 = 1 / (1 + np.exp(-q[0]))
    chi = (1 - p0) * r + p0
    return [q[0], -(q[0] + np.log((1 - chi) / chi)) / q[1]]


def _r_gamma(q, r):
    shape_ok = q[1] > 0
    return [q[0], q[1], (special.gammaincinv(q[1], r) if shape_ok else np.nan) / q[2]]


def _r_weibull(q, r):
    return [q[0], q[1], -np.log(1 - r) / q[2] ** q[1]]


def _r_loglogistic(q, r):
    return [q[0], np.log(r / (1 - r)) - q[1] * np.log(q[2]), q[1]]


def _r_probit(q, r):
    p0 = special.ndtr(q[0])
    return [q[0], (special.ndtri((1 - p0) * r + p0) - q[0]) / q[1]]


def _r_logprobit(q, r):
    # singular at bmd = 1 (log 1 = 0): bmdrc's bisection passes through it
    return [q[0], q[1], (special.ndtri(r) - q[1]) / np.log(q[2])]


def _r_multistage2(q, r):
    return [q[0], q[1], -(np.log(1 - r) + q[1] * q[2]) / q[2] ** 2]


def _r_quantal_linear(q, r):
    return [q[0], -np.log(1 - r) / q[1]]


@dataclass(frozen=True)
class _Quantal:
    prob: object
    start: object
    bmd: object
    reparam: object
    bounds: tuple
    # profile: indices of the MLE parameters that start the free parameters, and the
    # bounds of the free parameters (None: from the MLE, see _profile_bounds)
    free: tuple
    free_bounds: tuple


_G, _G9 = (1e-5, 0.99), (1e-9, 0.99)
_MODELS: dict[str, _Quantal] = {
    "Logistic": _Quantal(_p_logistic, _s_logistic, _b_logistic, _r_logistic,
                         ((None, None), (1e-5, None)), (0,), ((None, None),)),
    "Gamma": _Quantal(_p_gamma, _s_gamma, _b_gamma, _r_gamma,
                      (_G, (0.2, 18), (1e-5, None)), (0, 1), (_G, (0.2, 18))),
    "Weibull": _Quantal(_p_weibull, _s_weibull, _b_weibull, _r_weibull,
                        (_G, (1e-5, None), (1e-9, None)), (0, 1), (_G, (1e-5, None))),
    "Log Logistic": _Quantal(_p_loglogistic, _s_loglogistic, _b_loglogistic,
                             _r_loglogistic, (_G, (None, None), (None, None)), (0, 2),
                             (_G, None)),
    "Probit": _Quantal(_p_probit, _s_probit, _b_probit, _r_probit,
                       ((None, None), (1e-5, None)), (0,), ((None, None),)),
    "Log Probit": _Quantal(_p_logprobit, _s_logprobit, _b_logprobit, _r_logprobit,
                           (_G, (None, None), (1e-5, None)), (0, 1), (_G9, (None, None))),
    "Multistage2": _Quantal(_p_multistage2, _s_multistage2, _b_multistage2,
                            _r_multistage2, (_G9, (1e-9, None), (1e-9, None)), (0, 1),
                            (_G9, (1e-9, None))),
    "Quantal Linear": _Quantal(_p_quantal_linear, _s_quantal_linear, _b_quantal_linear,
                               _r_quantal_linear, (_G, (1e-5, None)), (0,), (_G,)),
}


def _one_blas_thread():
    """Single-threaded BLAS while fitting.

    L-BFGS-B calls BLAS on vectors of 2-3 elements thousands of times; a threaded
    BLAS makes each call about 20 times slower than doing it on one thread.
    """
    from threadpoolctl import threadpool_limits

    return threadpool_limits(1, user_api="blas")


def _loglik(prob, a, n):
    return float(np.sum(a * np.log(prob) + (n - a) * np.log(1 - prob)))


def _lbfgs(loglik, x0, bounds, nobs: int) -> tuple[np.ndarray, float]:
    """Maximise ``loglik`` as bmdrc does (see the section comment); (x, logL)."""
    def fun(x):
        return -loglik(x) / nobs

    def jac(x):
        h = _EPS ** (1 / 3) * np.maximum(np.abs(x), 0.1) / 2
        g = np.empty(len(x))
        for k in range(len(x)):
            e = np.zeros(len(x))
            e[k] = h[k]
            g[k] = (loglik(x + e) - loglik(x - e)) / (2 * h[k])
        return -g / nobs

    res = optimize.minimize(fun, np.asarray(x0, float), jac=jac, method="L-BFGS-B",
                            bounds=bounds, options={"maxcor": 10, "ftol": 1e7 * _EPS,
                                                    "gtol": 1e-5, "maxfun": 5000,
                                                    "maxiter": 10000, "maxls": 20})
    return res.x, loglik(res.x)


def _profile_bounds(m: _Quantal, params: np.ndarray) -> list:
    out = []
    for i, b in zip(m.free, m.free_bounds, strict=True):
        # Log Logistic: slope kept within a factor 2 of its MLE
        out.append(b if b is not None else (params[i] / 2, params[i] * 2))
    return out


def _bmdl(m: _Quantal, params, bmd: float, llf: float, d, a, n, bmr: float,
          max_steps: int = 100, tol: float = 1e-4) -> float:
    """BMDL as bmdrc: bisection of the profile likelihood between BMD/10 and BMD."""
    if not np.isfinite(bmd):
        return np.nan
    target = llf - stats.chi2.ppf(0.9, 1) / 2
    lo, hi = bmd / 10, bmd
    free_bounds = _profile_bounds(m, params)
    if any(b[0] is not None and b[1] is not None and b[0] > b[1] for b in free_bounds):
        return np.nan  # an impossible box: bmdrc's optimiser raises, BMDL missing
    start = [params[i] for i in m.free]

    def loglik(q):
        return _loglik(m.prob(d, m.reparam(q, bmr)), a, n)

    steps, gap, mid = 0, 1.0, np.nan
    while gap > tol and steps <= max_steps:
        steps += 1
        if steps == max_steps:
            return np.nan
        mid = (lo + hi) / 2
        try:
            _, ll = _lbfgs(loglik, [*start, mid], [*free_bounds, (mid, mid)], len(d))
        except ValueError:  # bmdrc: any failure of a profile fit -> BMDL missing
            return np.nan
        if ll - target > 0:
            hi = mid
        else:
            lo = mid
        gap = abs(ll - target)  # NaN ends the loop, as in bmdrc
    return mid


def _fit_bmdrc_model(name: str, d, a, n, bmr: float) -> dict:
    m = _MODELS[name]
    k = len(m.bounds)
    try:
        x0 = np.asarray(m.start(d, a, n), float)
    except np.linalg.LinAlgError:  # no starting values (bmdrc stops with an error)
        x0 = np.full(k, np.nan)
    params, llf = _lbfgs(lambda p: _loglik(m.prob(d, p), a, n), x0, m.bounds, len(d))
    fitted = m.prob(d, params)
    chi2 = float(np.sum(n / (fitted * (1 - fitted)) * (a / n - fitted) ** 2))
    p = float(stats.chi2.sf(chi2, len(d) - k))
    bmd = float(m.bmd(params, bmr))
    return {"model": name, "params": params, "llf": llf, "bmd": bmd,
            "bmd50": float(m.bmd(params, 0.5)),
            "bmdl": float(_bmdl(m, params, bmd, llf, d, a, n, bmr)), "bmdu": np.nan,
            "aic": -2 * llf + 2 * k, "gof_p": np.nan if p == 0 else p,
            "converged": bool(np.isfinite(llf))}


def _bmdrc_select(table: pd.DataFrame, gof_p: float, aic_window: float):
    ok = table["gof_p"].notna() & (table["gof_p"] >= gof_p)
    table["viable"] = ok
    if not ok.any():
        return None, f"no model with goodness-of-fit p >= {gof_p:g}"
    v = table[ok & table["aic"].notna()]
    near = v[(v["aic"] - v["aic"].min()).abs() < aic_window]
    if len(near) == 0:
        return None, f"no model with goodness-of-fit p >= {gof_p:g} and an AIC"
    if len(near) == 1:
        return near.index[0], "only model within the AIC window"
    with_bmdl = near[near["bmdl"].notna()]
    if len(with_bmdl) == 0:
        return v["aic"].idxmin(), "lowest AIC (no model in the AIC window has a BMDL)"
    return with_bmdl["bmdl"].idxmin(), \
        f"lowest BMDL among models within {aic_window:g} AIC of the best"


def bmdrc_dichotomous(doses: Sequence[float], n: Sequence[float],
                      incidence: Sequence[float], *, bmr: float = 0.1,
                      models: Sequence[str] | None = None, gof_p: float = 0.1,
                      aic_window: float = 2.0) -> BmdResult:
    """Dichotomous BMD fitted, with its BMDL and model choice, as bmdrc 1.2.0 does.

    A re-implementation with scipy of bmdrc's own maximum-likelihood fits, profile
    likelihood BMDL and "lowest BMDL" model selection (see the comment above
    ``_MODELS`` in this module). It differs from the EPA's BMDS on purpose: use it
    to reproduce bmdrc, and :func:`benchmark_dose` for EPA-style analyses.

    Parameters
    ----------
    doses, n, incidence
        Dose, number of subjects and number affected per data row. Rows may repeat
        a dose (e.g. one row per plate and dose, as bmdrc's plate groups): the
        models are fitted to the totals per dose and the reported BMDL of the chosen
        model is recomputed on the rows as given, as bmdrc does.
    bmr
        Extra risk (bmdrc: 0.1).
    models
        Model names (pybmds class names or bmdrc's); default all eight of bmdrc's.
    gof_p, aic_window
        Minimum goodness-of-fit p, and the AIC window within which the lowest BMDL
        wins (bmdrc: 0.1 and 2).

    Returns
    -------
    BmdResult
        Chosen model and a table of every model with bmdrc's names, ``bmd``,
        ``bmdl`` (on the totals per dose, which the choice compares; the recommended
        model's is the BMDL reported, recomputed on the rows as given), ``bmd50``,
        ``aic``, ``gof_p``, ``llf`` (maximum log-likelihood), ``params`` (bmdrc's parameter order),
        ``converged`` (finite log-likelihood), ``viable`` and ``recommended``.
        ``bmdu`` is always missing (bmdrc has none).

    References
    ----------
    Degnan DJ et al. (2024) bmdrc: Python package for quantifying phenotypes from
    chemical exposures with benchmark dose modeling. PLoS Comput Biol 20:e1011835.

    """
    if not len(doses) == len(n) == len(incidence):
        raise ValueError(f"{len(doses)} doses, {len(n)} group sizes and "
                         f"{len(incidence)} incidences: need one of each per row")
    rows = pd.DataFrame({"dose": np.asarray(doses, float), "n": np.asarray(n, float),
                         "a": np.asarray(incidence, float)})
    tot = rows.groupby("dose", sort=True)[["a", "n"]].sum().reset_index()
    if len(tot) < 3:
        raise ValueError(f"bmdrc's models need at least 3 doses, got {len(tot)}")
    d, a, nn = (tot[c].to_numpy(float) for c in ("dose", "a", "n"))
    names = [_BMDRC_NAMES.get(m, m) for m in (models or _BMDRC_NAMES)]
    unknown = sorted(set(names) - set(_MODELS))
    if unknown:
        raise ValueError(f"unknown bmdrc model(s) {unknown}; known: {list(_MODELS)}")
    with np.errstate(all="ignore"), warnings.catch_warnings(), _one_blas_thread():
        # failed fits (log of 0, 0 * inf) give NaN/inf as in bmdrc, not warnings
        warnings.simplefilter("ignore", RuntimeWarning)
        table = pd.DataFrame([_fit_bmdrc_model(m, d, a, nn, bmr) for m in names])
        best, reason = _bmdrc_select(table, gof_p, aic_window)
        table["recommended"] = table.index == best
        settings = {"bmr": bmr, "bmr_type": "extra risk", "selection": "bmdrc",
                    "engine": "bmdrc", "gof_p": gof_p, "aic_window": aic_window}
        if best is None:
            return BmdResult("dichotomous", bmr, None, np.nan, np.nan, np.nan, table,
                             reason, settings)
        row = table.loc[best]
        bmdl = row["bmdl"]
        if len(rows) != len(tot):
            bmdl = float(_bmdl(_MODELS[row["model"]], row["params"], row["bmd"], row["llf"],
                               *(rows[c].to_numpy(float) for c in ("dose", "a", "n")),
                               bmr))
            table.loc[best, "bmdl"] = bmdl      # the table shows the BMDL reported
        grid = curve_grid(d)
        curve = _curve_frame(grid, _MODELS[row["model"]].prob(grid, row["params"]))
    return BmdResult("dichotomous", bmr, row["model"], row["bmd"], bmdl, np.nan, table,
                     reason, settings, curve)
