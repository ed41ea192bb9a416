"""One analyte on one plate: standard curve, quantifiable range and LOD.

:func:`calibrate` fits (or takes the vendor's) standard curve, evaluates the
back-fit recovery and replicate CV of every standard level, derives the LLOQ
and ULOQ, the LOD from the blanks and the hook-effect flag. Concentrations of
wells and samples: :mod:`.concentrations`.

Concentrations here are in the export's unit; the assay converts to the
registry's unit.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from neurotox.assays.neurochem.params import ImmunoassayParameters, StandardExclusion
from neurotox.io.neurochem import VendorCurve
from neurotox.stats.curves import Curve, CurveFit, Model, fit_curve

STANDARD_COLUMNS = ("plate", "analyte", "level", "expected", "n", "mean_signal", "cv",
                    "fitted_signal", "residual", "back_calculated", "recovery", "used",
                    "exclusion_reason", "passes", "role")


@dataclass
class Calibration:
    """The standard curve of one analyte on one plate and what follows from it.

    Attributes
    ----------
    plate, analyte
        Plate and analyte (as the export spells it).
    curve
        Curve used to back-calculate (fitted or the vendor's).
    fit
        The refit (None when the vendor's curve was used).
    standards
        One row per standard level (:data:`STANDARD_COLUMNS`).
    lloq, uloq
        Lowest/highest standard concentration of the quantifiable range (NaN when
        none); in the export's unit, before dilution.
    lod, lod_signal
        Limit of detection (concentration and signal); NaN when not computable.
    lod_blanks
        Blank wells the LOD rests on.
    hook
        Signal falls at the highest standards (hook/prozone effect).
    rising
        Signal increases with concentration.
    passing
        Standard levels inside the range that pass, and levels inside the range.
    notes
        What happened (excluded standards, hook, LOD not computable …).

    """

    plate: str
    analyte: str
    curve: Curve
    fit: CurveFit | None
    standards: pd.DataFrame
    lloq: float = math.nan
    uloq: float = math.nan
    lod: float = math.nan
    lod_signal: float = math.nan
    lod_blanks: int = 0
    hook: bool = False
    rising: bool = True
    passing: tuple[int, int] = (0, 0)
    notes: list[str] = field(default_factory=list)

    @property
    def reporting_limit(self) -> float:
        """Lowest quantified concentration: the LLOQ, or the LOD when it lies above it.

        A value below the LOD cannot be told from a blank, whatever the
        standards' recovery says.
        """
        if math.isfinite(self.lod) and self.lod > self.lloq:
            return self.lod
        return self.lloq

    @property
    def source(self) -> str:
        """``refit`` or ``vendor``."""
        return "vendor" if self.fit is None else "refit"


def vendor_curve(vc: VendorCurve) -> Curve | None:
    """The vendor's curve as a :class:`~neurotox.stats.curves.Curve` (None if unusable)."""
    p = vc.params
    try:
        if vc.form == "logistic" and vc.model in ("4pl", "5pl"):
            f = p.get("F", p.get("E")) if vc.model == "5pl" else None
            return Curve.logistic(p["A"], p["B"], p["C"], p["D"], f)
        if vc.form == "gen5" and vc.model == "4pl":
            return Curve.gen5_4pl(p["A"], p["B"], p["C"], p["D"])
        if vc.form == "linear-ax+b":
            return Curve(Model.LINEAR, (p["B"], p["A"]))
    except KeyError:
        return None
    return None


def _excluded(exclusions: tuple[StandardExclusion, ...], plate: str, names: set[str],
              level: str, well: str) -> str:
    for e in exclusions:
        if (e.analyte == "*" or e.analyte in names) and (e.plate is None or e.plate == plate) \
                and e.level.lower() in (level.lower(), well.lower()):
            return e.reason
    return ""


def standard_table(wells: pd.DataFrame, params: ImmunoassayParameters, names: set[str]
                   ) -> pd.DataFrame:
    """Standard wells with the protocol's exclusions and vendor outliers marked."""
    std = wells[wells["type"] == "standard"].copy()
    reasons = [_excluded(params.exclude_standards, r.plate, names, r.level, r.well)
               for r in std.itertuples(index=False)]
    std["exclusion_reason"] = reasons
    vendor = std["vendor_excluded"] & (std["exclusion_reason"] == "")
    std.loc[vendor, "exclusion_reason"] = "designated an outlier by the vendor software (---)"
    missing = ~np.isfinite(std["signal"]) & (std["exclusion_reason"] == "")
    std.loc[missing, "exclusion_reason"] = "no signal"
    return std


def _levels(std: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for level, part in std.groupby("level", sort=False):
        use = part[part["exclusion_reason"] == ""]
        sig = use["signal"].to_numpy(float)
        mean = float(sig.mean()) if sig.size else math.nan
        sd = float(sig.std(ddof=1)) if sig.size > 1 else math.nan
        reasons = sorted(set(part["exclusion_reason"]) - {""})
        rows.append({"level": level, "expected": float(part["expected"].iloc[0]),
                     "n": int(sig.size), "mean_signal": mean,
                     "cv": 100 * sd / abs(mean) if sig.size > 1 and mean else math.nan,
                     "used": bool(sig.size),
                     "exclusion_reason": "; ".join(reasons) if not sig.size else ""})
    return pd.DataFrame(rows).sort_values("expected", kind="stable").reset_index(drop=True)


#: Relative fall of the top standard's signal below the peak that counts as a hook.
HOOK_DROP = 0.05


def _hook(levels: pd.DataFrame) -> tuple[bool, bool, list[str]]:
    """(rising, hook, levels to drop) of a standard series.

    A hook: the top standard's signal more than :data:`HOOK_DROP` below the
    highest one; the levels above the peak are dropped.
    """
    use = levels[levels["used"] & (levels["expected"] > 0)]
    if len(use) < 4:
        return True, False, []
    sig = use["mean_signal"].to_numpy()
    low = max(3, len(sig) * 2 // 3)
    if np.ptp(sig[:low]) == 0:   # flat signal (e.g. a reference wavelength): no direction
        return True, False, []
    rising = bool(np.corrcoef(np.log(use["expected"].to_numpy()[:low]), sig[:low])[0, 1] >= 0)
    if not rising:
        return rising, False, []
    peak = int(np.argmax(sig))
    if peak == len(sig) - 1 or sig[-1] >= (1 - HOOK_DROP) * sig[peak]:
        return rising, False, []
    drop = list(use["level"].iloc[peak + 1:])
    return rising, True, drop


def calibrate(wells: pd.DataFrame, params: ImmunoassayParameters, *, names: set[str],
              vendor: VendorCurve | None = None) -> Calibration:
    """Fit the standard curve of one analyte on one plate and evaluate its standards.

    Parameters
    ----------
    wells
        The plate's wells of one analyte (reader contract).
    params
        Protocol parameters (model, weighting, limits, exclusions).
    names
        Names the analyte goes by (export name and registry key), for exclusions.
    vendor
        The vendor's curve, used when ``params.curve_source`` is ``vendor``.

    Notes
    -----
    The quantifiable range is the pair of standard levels (LLOQ ≤ ULOQ) whose
    back-fit recovery is within ±``recovery_limit_at_limits`` % and replicate CV
    within ``cv_limit`` %, such that at least ``min_standards_passing`` of the
    levels between them (inclusive) pass (inner levels at ±``recovery_limit``
    %); among such pairs the one with the most passing levels, then the widest.
    Levels outside it act as anchor points: they stay in the fit but are not
    evaluated. When the signal falls over the highest standards (hook), those
    standards are left out of the fit (``exclude_hook_standards``).

    """
    plate, analyte = str(wells["plate"].iloc[0]), str(wells["analyte"].iloc[0])
    std = standard_table(wells, params, names)
    levels = _levels(std)
    notes = []
    rising, hook, drop = _hook(levels)
    if hook:
        notes.append(f"plate {plate}, {analyte}: signal falls at the highest standard(s) "
                     f"{', '.join(drop)} (hook effect)")
        if params.exclude_hook_standards:
            hit = levels["level"].isin(drop)
            levels.loc[hit, "used"] = False
            levels.loc[hit, "exclusion_reason"] = "hook effect: signal falls at the highest " \
                                                  "standards"
    out = std[std["exclusion_reason"] != ""]
    for reason, part in out.groupby("exclusion_reason", sort=True):
        notes.append(f"plate {plate}, {analyte}: {len(part)} standard well(s) left out of the "
                     f"fit ({', '.join(part['well'])}): {reason}")
    curve, fit = _curve(std, levels, params, vendor)
    cal = Calibration(plate=plate, analyte=analyte, curve=curve, fit=fit, standards=levels,
                      hook=hook, rising=rising, notes=notes)
    _evaluate(cal, params)
    _lod(cal, wells, params)
    cal.standards = cal.standards.assign(plate=plate, analyte=analyte)[list(STANDARD_COLUMNS)]
    return cal


def _curve(std: pd.DataFrame, levels: pd.DataFrame, params: ImmunoassayParameters,
           vendor: VendorCurve | None) -> tuple[Curve, CurveFit | None]:
    if params.curve_source == "vendor":
        curve = vendor_curve(vendor) if vendor is not None else None
        if curve is None:
            nan = (math.nan,) * 5
            return Curve(Model(params.model), nan), None
        return curve, None
    unused = set(levels.loc[~levels["used"], "level"])
    use = (std["exclusion_reason"] == "") & ~std["level"].isin(unused)
    fit = fit_curve(std["expected"], std["signal"], model=params.model,
                    weighting=params.weighting, groups=std["level"].tolist(), use=use)
    return fit.curve, fit


def _evaluate(cal: Calibration, params: ImmunoassayParameters) -> None:
    lv = cal.standards
    with np.errstate(all="ignore"):
        back = cal.curve.inverse(lv["mean_signal"].to_numpy(float))
        lv["fitted_signal"] = cal.curve.predict(lv["expected"].to_numpy(float))
        lv["residual"] = lv["mean_signal"] - lv["fitted_signal"]
        lv["back_calculated"] = back
        lv["recovery"] = np.where(lv["expected"] > 0, 100 * back / lv["expected"], np.nan)
    dev = (lv["recovery"] - 100).abs()
    cv_ok = ~(lv["cv"] > params.cv_limit)
    eligible = lv["used"] & (lv["expected"] > 0) & np.isfinite(lv["recovery"])
    at_limit = (eligible & (dev <= params.recovery_limit_at_limits) & cv_ok).to_numpy()
    inner = (eligible & (dev <= params.recovery_limit) & cv_ok).to_numpy()
    best = _best_range(at_limit, inner, eligible.to_numpy(), params.min_standards_passing)
    lv["passes"] = inner
    lv["role"] = np.where(~lv["used"], "excluded", "anchor (outside range)")
    if best is None:
        cal.passing = (int(inner.sum()), int(eligible.sum()))
        lv.loc[eligible & ~lv["passes"], "role"] = "fails"
        return
    i, j = best
    span = np.zeros(len(lv), bool)
    span[i:j + 1] = True
    span &= eligible.to_numpy()
    lv.loc[span, "role"] = "in range"
    lv.loc[[i, j], "passes"] = True
    lv.loc[i, "role"], lv.loc[j, "role"] = "LLOQ", "ULOQ"
    lv.loc[span & ~lv["passes"].to_numpy(), "role"] = "fails (in range)"
    cal.lloq, cal.uloq = float(lv["expected"].iloc[i]), float(lv["expected"].iloc[j])
    cal.passing = (int((lv["passes"] & span).sum()), int(span.sum()))


def _best_range(at_limit: np.ndarray, inner: np.ndarray, eligible: np.ndarray,
                fraction: float) -> tuple[int, int] | None:
    best, key = None, None
    idx = np.flatnonzero(at_limit)
    for a in idx:
        for b in idx[idx > a]:
            inside = np.flatnonzero(eligible[a:b + 1]) + a
            passing = sum(1 for k in inside if k in (a, b) or inner[k])
            if passing < fraction * len(inside):
                continue
            cand = (passing, b - a)
            if key is None or cand > key:
                best, key = (int(a), int(b)), cand
    return best


#: Fewest blank wells for an LOD whose SD means something (flagged below it).
MIN_LOD_BLANKS = 3


def _lod(cal: Calibration, wells: pd.DataFrame, params: ImmunoassayParameters) -> None:
    blank = wells.loc[(wells["type"] == "blank") & ~wells["vendor_excluded"], "signal"]
    blank = blank[np.isfinite(blank)].to_numpy(float)
    cal.lod_blanks = int(blank.size)
    if blank.size < 2:
        cal.notes.append(f"plate {cal.plate}, {cal.analyte}: LOD not computed (fewer than two "
                         "blank wells)")
        return
    sign = 1.0 if cal.rising else -1.0
    cal.lod_signal = float(blank.mean() + sign * params.lod_k * blank.std(ddof=1))
    cal.lod = float(cal.curve.inverse(cal.lod_signal))
    if not math.isfinite(cal.lod):
        cal.notes.append(f"plate {cal.plate}, {cal.analyte}: LOD signal {cal.lod_signal:.4g} "
                         "lies beyond the curve's lower asymptote; LOD not computable")
        return
    if blank.size < MIN_LOD_BLANKS:
        cal.notes.append(f"plate {cal.plate}, {cal.analyte}: LOD {cal.lod:.4g} rests on "
                         f"{blank.size} blank wells (an SD of fewer than {MIN_LOD_BLANKS} "
                         "values is unreliable)")
    if cal.lod > cal.lloq:
        cal.notes.append(f"plate {cal.plate}, {cal.analyte}: LOD {cal.lod:.4g} lies above the "
                         f"LLOQ {cal.lloq:.4g}; values below the LOD are reported as "
                         "'< LOD' (not quantified)")
