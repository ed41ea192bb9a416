"""Assay QC of one analyte on one plate: controls, standards passing, plate acceptance.

Acceptance (ICH M10 defaults, all protocol parameters): the curve converged;
a quantifiable range exists; at least ``min_standards_passing`` (75 %) of the
standard levels inside it and at least ``min_standard_levels`` (6) levels pass;
at least ``min_controls_passing`` (2/3) of the control results lie within their
range (the export's range, or ``control_recovery`` % of nominal when the export
gives none). A failing plate excludes that analyte's sample values on that plate
(``reject_failed_plates``), with the reasons.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from neurotox.assays.neurochem.params import ImmunoassayParameters
from neurotox.assays.neurochem.quantify import Calibration

CONTROL_COLUMNS = ("plate", "analyte", "level", "expected", "low", "high", "range_source", "n",
                   "measured", "recovery", "passes")


def control_results(wells: pd.DataFrame, cal: Calibration, ranges: pd.DataFrame,
                    params: ImmunoassayParameters) -> pd.DataFrame:
    """Measured concentration and recovery of every control level.

    Parameters
    ----------
    wells
        The plate's wells of one analyte.
    cal
        Its calibration.
    ranges
        The export's control ranges (``analyte, level, expected, low, high``; may be
        empty).
    params
        ``control_recovery`` applies where the export gives no (or a zero-width) range.

    """
    ctl = wells[(wells["type"] == "control") & ~wells["vendor_excluded"]]
    rows = []
    for level, part in ctl.groupby("level", sort=True):
        sig = part["signal"].to_numpy(float)
        sig = sig[np.isfinite(sig)]
        measured = float(cal.curve.inverse(sig.mean()) * part["dilution"].iloc[0]) \
            if sig.size else math.nan
        expected, low, high, source = _range(part, level, cal.analyte, ranges, params)
        rows.append({"plate": cal.plate, "analyte": cal.analyte, "level": level,
                     "expected": expected, "low": low, "high": high, "range_source": source,
                     "n": int(sig.size), "measured": measured,
                     "recovery": 100 * measured / expected if expected else math.nan,
                     "passes": bool(low <= measured <= high)})
    return pd.DataFrame(rows, columns=list(CONTROL_COLUMNS))


def _range(part: pd.DataFrame, level: str, analyte: str, ranges: pd.DataFrame,
           params: ImmunoassayParameters) -> tuple[float, float, float, str]:
    hit = ranges[(ranges["analyte"] == analyte) & (ranges["level"] == level)]
    expected = float(hit["expected"].iloc[0]) if len(hit) else float(part["expected"].iloc[0])
    if len(hit) and hit["low"].iloc[0] < hit["high"].iloc[0]:
        return expected, float(hit["low"].iloc[0]), float(hit["high"].iloc[0]), "export"
    lo, hi = params.control_recovery
    return expected, expected * lo / 100, expected * hi / 100, f"protocol {lo:g}-{hi:g}%"


def acceptance(cal: Calibration, controls: pd.DataFrame,
               params: ImmunoassayParameters) -> list[str]:
    """Reasons the analyte fails on this plate (empty: accepted)."""
    reasons = []
    if cal.fit is not None and not cal.fit.converged:
        reasons.append(f"standard curve not fitted ({cal.fit.message})")
    elif not all(math.isfinite(p) for p in cal.curve.params):
        reasons.append("no usable vendor curve")
    if not math.isfinite(cal.lloq):
        reasons.append("no quantifiable range (no two standards within recovery and CV "
                       "limits)")
    passing, total = cal.passing
    if total and (passing < params.min_standards_passing * total
                  or passing < params.min_standard_levels):
        reasons.append(f"{passing} of {total} standard levels pass (need "
                       f"{params.min_standards_passing:.0%} and at least "
                       f"{params.min_standard_levels})")
    if len(controls):
        ok = int(controls["passes"].sum())
        if ok < params.min_controls_passing * len(controls):
            reasons.append(f"{ok} of {len(controls)} controls within range (need "
                           f"{params.min_controls_passing:.0%})")
    return reasons
