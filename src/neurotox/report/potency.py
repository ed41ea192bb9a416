"""Concentration-response fits for in-vitro endpoints and their potency table.

For every summary endpoint × sex × timepoint whose doses are concentrations,
:func:`concentration_fits` fits the four-parameter Hill curve of
:func:`neurotox.stats.hill.fit_hill` to the included individual values, once;
the figures draw the curve and the potency table lists EC50 and EC20 with
their confidence intervals.
"""

from __future__ import annotations

import logging
import math

import pandas as pd

from neurotox.report.model import Cell, Row, Table, fmt
from neurotox.report.tables import SUMMARY_TYPES, label_of, study_header
from neurotox.stats.hill import HillFit, fit_hill
from neurotox.study import StudySpec
from neurotox.vocab import Sex

log = logging.getLogger(__name__)

#: Dose units treated as in-vitro concentrations.
CONCENTRATION_UNITS = {"nM", "uM", "µM", "mM", "M", "ug/mL", "µg/mL", "mg/L", "ng/mL"}

FitKey = tuple[str, str, str, str]  # assay, endpoint, sex, timepoint


def is_concentration(rows: pd.DataFrame) -> bool:
    """True when every dose unit of the rows is an in-vitro concentration."""
    return bool(len(rows)) and set(rows["dose_unit"]) <= CONCENTRATION_UNITS


def values_for(table: pd.DataFrame, key: FitKey) -> pd.DataFrame:
    """EndpointTable rows of one assay × endpoint × sex × timepoint."""
    assay, endpoint, sex, tp = key
    m = (table["assay"] == assay) & (table["endpoint"] == endpoint) & \
        (table["timepoint"] == tp)
    if sex != "NA":
        m &= table["sex"] == sex
    return table[m]


def concentration_fits(results: pd.DataFrame, table: pd.DataFrame) -> dict[FitKey, HillFit]:
    """Hill fits of every concentration-response summary endpoint, keyed by stratum."""
    res = results[results["data_type"].isin(SUMMARY_TYPES) & (results["timepoint"] != "ALL")]
    fits: dict[FitKey, HillFit] = {}
    for key, rows in res.groupby(["assay", "endpoint", "sex", "timepoint"], sort=True):
        if not is_concentration(rows):
            continue
        kept = values_for(table, key)
        kept = kept[~kept["excluded"]]
        fits[key] = _fit(kept["dose"].to_numpy(dtype=float), kept["value"].to_numpy(dtype=float))
    return fits


def _fit(conc, response) -> HillFit:
    """fit_hill, with a numerical failure shown as a flagged empty fit instead of a crash."""
    try:
        return fit_hill(conc, response)
    except (OverflowError, FloatingPointError, ValueError) as exc:
        log.warning("Hill fit failed (%s); reported as not fitted", exc)
        return HillFit(math.nan, math.nan, math.nan, math.nan, (math.nan, math.nan),
                       flags=(f"fit failed: {exc}",), n=len(conc))


def _ci(ci: tuple[float, float], decimals: int = 3) -> str:
    lo, hi = ci
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return "–"
    return f"{lo:.{decimals}g}–{hi:.{decimals}g}"


def _g(v: float) -> str:
    return fmt(v, 0) if not math.isfinite(v) else f"{v:.3g}"


def _fit_cells(fit: HillFit) -> tuple[Cell, ...]:
    ec20 = fit.ecx.get(20.0, math.nan)
    flags = sorted(set(fit.flags) | {f for fl in fit.ecx_flags.values() for f in fl})
    pairs = [(_g(fit.ec50), fit.ec50), (_ci(fit.ec50_ci), math.nan), (_g(ec20), ec20),
             (_g(fit.slope), fit.slope), (_g(fit.top), fit.top), (_g(fit.bottom), fit.bottom),
             (str(fit.n), float(fit.n)),
             (", ".join(f.replace("_", " ") for f in flags), math.nan)]
    return tuple(Cell(text, {"value": value}) for text, value in pairs)


def potency_table(fits: dict[FitKey, HillFit], spec: StudySpec, number: int,
                  unit: str) -> Table:
    """One row per fitted endpoint × sex × timepoint: EC50 (CI), EC20, curve parameters."""
    rows = []
    for (assay, endpoint, sex, tp), fit in fits.items():
        where = Sex(sex).label if sex in {s.value for s in Sex} else sex
        where += "" if tp == "NA" else f", {tp}"
        rows.append(Row((label_of(endpoint), assay.replace("_", " "), where), _fit_cells(fit)))
    conf = next(iter(fits.values())).confidence if fits else 0.95
    return Table(
        number=number, title="Concentration-response: four-parameter Hill fits",
        kind="potency", key="potency-hill", header={**study_header(spec), "Unit": unit},
        row_header=("Endpoint", "Assay", "Sex/timepoint"),
        columns=(f"EC50 ({unit})", f"EC50 {conf:.0%} CI", f"EC20 ({unit})", "Hill slope",
                 "Top", "Bottom", "n", "Flags"),
        rows=rows, number_fields=("value",),
        footnotes=["Curves fitted to individual values (vehicle control at concentration 0 "
                   "as the top plateau) by non-linear least squares; ECx relative to the "
                   "fitted top, confidence intervals by the delta method on log10(ECx).",
                   "Flags: extrapolated = outside the tested concentrations; not reached = "
                   "the curve does not reach that level."])
