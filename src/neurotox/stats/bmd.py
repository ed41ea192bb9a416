"""Benchmark dose (BMD) modelling with the US EPA's ``pybmds``.

:func:`benchmark_dose` fits every model of the chosen family to summary data
per dose, keeps the full model table (BMD, BMDL, BMDU, AIC, goodness-of-fit p)
and recommends one model.

Defaults follow the EPA Benchmark Dose Technical Guidance (2012): continuous
data, BMR = 1 standard deviation from the control mean; dichotomous data, BMR =
10 % extra risk.

Model recommendation
--------------------
``epa``
    Models with goodness-of-fit p ≥ ``gof_p`` and a finite BMDL are viable; if
    their BMDLs lie within ``bmdl_ratio`` (3-fold) the lowest AIC wins, otherwise
    the lowest BMDL.
``bmdrc``
    As bmdrc (PNNL): among viable models, those within ``aic_window`` (2) of the
    lowest AIC are equivalent and the one with the lowest BMDL wins.

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
        ``gof_p``, ``converged``, ``viable``, ``recommended``.
    reason
        Why that model was recommended (or why none was).
    settings
        Settings used (bmr, bmr_type, selection, thresholds, pybmds version).

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
         variance: str = "constant") -> dict:
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
    gof = res.gof.p_value if kind == "dichotomous" else res.tests.p_values[3]
    return {"model": model.name(), "bmd": _f(res.bmd), "bmdl": _f(res.bmdl),
            "bmdu": _f(res.bmdu), "aic": _f(res.fit.aic), "gof_p": _f(gof),
            "converged": bool(res.has_completed)}


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
               aic_window: float) -> tuple[int | None, str]:
    ok = table["converged"] & (table["gof_p"] >= gof_p) & np.isfinite(table["bmdl"]) & \
        np.isfinite(table["bmd"])
    table["viable"] = ok
    if not ok.any():
        return None, f"no model converged with goodness-of-fit p >= {gof_p:g} and a BMDL"
    v = table[ok]
    if selection == "bmdrc":
        near = v[v["aic"] <= v["aic"].min() + aic_window]
        i = near["bmdl"].idxmin()
        return i, f"lowest BMDL among models within {aic_window:g} AIC of the best"
    if v["bmdl"].max() / v["bmdl"].min() > bmdl_ratio:
        return v["bmdl"].idxmin(), f"BMDLs differ more than {bmdl_ratio:g}-fold: lowest BMDL"
    return v["aic"].idxmin(), f"BMDLs within {bmdl_ratio:g}-fold: lowest AIC"


def benchmark_dose(doses: Sequence[float], n: Sequence[float], *,
                   kind: Literal["continuous", "dichotomous"],
                   incidence: Sequence[float] | None = None,
                   mean: Sequence[float] | None = None, sd: Sequence[float] | None = None,
                   bmr: float | None = None, models: Sequence[str] | None = None,
                   selection: Literal["epa", "bmdrc"] = "epa", gof_p: float = 0.1,
                   bmdl_ratio: float = 3.0, aic_window: float = 2.0,
                   restricted: bool = True,
                   variance: Literal["auto", "constant", "nonconstant"] = "auto") -> BmdResult:
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
    names = tuple(models or (DICHOTOMOUS_MODELS if kind == "dichotomous" else CONTINUOUS_MODELS))
    _quiet_gsl()
    ds = _dataset(kind, doses, n, incidence, mean, sd)
    if kind == "continuous" and variance == "auto":
        variance = _choose_variance(ds, bmr)
    table = pd.DataFrame([_fit(kind, m, ds, bmr, restricted, variance) for m in names])
    best, reason = _recommend(table, selection, gof_p, bmdl_ratio, aic_window)
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
    return BmdResult(kind, bmr, row["model"], row["bmd"], row["bmdl"], row["bmdu"], table,
                     reason, settings)
