"""Assay QC of one analyte on one plate: controls, standards passing, plate acceptance.

Acceptance (ICH M10 defaults, all protocol parameters): the curve converged;
a quantifiable range exists; at least ``min_standards_passing`` (75 %) of the
standard levels inside it and at least ``min_standard_levels`` (6) levels pass;
at least ``min_controls_passing`` (2/3) of the control results lie within their
range (the export's range, or ``control_recovery`` % of nominal when the export
gives none). A control with neither a nominal concentration (missing, or 0 as
Bio-Plex Manager writes it) nor a range is not judged: ``passes`` is empty and it
does not count. A failing plate excludes that analyte's sample values on that plate
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
        judged = math.isfinite(low) and math.isfinite(high)
        rows.append({"plate": cal.plate, "analyte": cal.analyte, "level": level,
                     "expected": expected, "low": low, "high": high, "range_source": source,
                     "n": int(sig.size), "measured": measured,
                     "recovery": 100 * measured / expected if _nominal(expected) else math.nan,
                     "passes": bool(low <= measured <= high) if judged else pd.NA})
    out = pd.DataFrame(rows, columns=list(CONTROL_COLUMNS))
    return out.astype({"passes": "boolean"})


#: ``range_source`` of a control that has neither a nominal concentration nor a range.
NOT_JUDGED = "no nominal concentration (not judged)"


def _nominal(value: float) -> bool:
    """A usable nominal concentration: finite and above 0.

    Bio-Plex Manager writes ``Exp Conc`` 0 for a control entered without one;
    a nominal of 0 has no recovery either.
    """
    return math.isfinite(value) and value > 0


def _range(part: pd.DataFrame, level: str, analyte: str, ranges: pd.DataFrame,
           params: ImmunoassayParameters) -> tuple[float, float, float, str]:
    hit = ranges[(ranges["analyte"] == analyte) & (ranges["level"] == level)]
    given = [float(v) for v in (*hit["expected"].iloc[:1], part["expected"].iloc[0])]
    expected = next((v for v in given if _nominal(v)), math.nan)
    if len(hit) and hit["low"].iloc[0] < hit["high"].iloc[0]:
        return expected, float(hit["low"].iloc[0]), float(hit["high"].iloc[0]), "export"
    if not _nominal(expected):
        return math.nan, math.nan, math.nan, NOT_JUDGED
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
    judged = controls["passes"].dropna() if len(controls) else controls
    if len(judged):
        ok = int(judged.sum())
        if ok < params.min_controls_passing * len(judged):
            reasons.append(f"{ok} of {len(judged)} controls within range (need "
                           f"{params.min_controls_passing:.0%})")
    return reasons


def unjudged_note(controls: list[pd.DataFrame], path_name: str) -> list[str]:
    """One note per export naming the control levels that could not be judged."""
    frames = [c[c["passes"].isna()] for c in controls if len(c)]
    hit = pd.concat(frames) if frames else pd.DataFrame()
    if hit.empty:
        return []
    levels = sorted(set(hit["level"].astype(str)))
    analytes = sorted(set(hit["analyte"].astype(str)))
    return [f"{path_name}: control level(s) {', '.join(levels)} have no nominal concentration "
            f"and no range in the export ({len(hit)} control result(s), analyte(s) "
            f"{', '.join(analytes[:6])}{' …' if len(analytes) > 6 else ''}): their recovery is "
            "not judged (neurochem_controls 'passes' empty) and plate acceptance rests on the "
            "standards and the judged controls"]
