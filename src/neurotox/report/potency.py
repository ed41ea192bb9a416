"""Concentration-response fits for in-vitro endpoints, shown only where they are honest.

For every summary endpoint × sex × timepoint whose doses are concentrations,
:func:`concentration_fits` fits the four-parameter Hill curve of
:func:`neurotox.stats.hill.fit_hill` to the included individual values, once,
and decides whether the data support a concentration–response at all:

- the Hill curve must explain the data better than a constant response
  (extra sum-of-squares F-test, p < 0.05; :func:`neurotox.stats.hill.versus_flat`);
- the fitted response must change by at least :data:`MIN_EFFECT_PCT` % of the
  control level within the tested concentrations;
- the response must not come back towards control at higher concentrations
  (:func:`neurotox.stats.hill.reversal`): a U-shaped or bell-shaped response
  gets no monotone curve.

Otherwise the table and the figure say "no concentration–response" and why,
and show no curve and no EC50. An ECx outside the tested concentrations is
shown as "> highest" or "< lowest" and flagged.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, replace

import pandas as pd

from neurotox.files import run_note
from neurotox.report.context import Context
from neurotox.report.labels import assay_label, unit_symbol
from neurotox.report.model import Cell, Row, Table, fmt, fmt_sig
from neurotox.report.tables import SUMMARY_TYPES, label_of, sex_and_timepoint, study_header
from neurotox.stats.hill import HillFit, fit_hill, reversal, versus_flat
from neurotox.study import StudySpec
from neurotox.timepoints import TimeOrder

log = logging.getLogger(__name__)

#: Dose units treated as in-vitro concentrations.
CONCENTRATION_UNITS = {"nM", "uM", "µM", "mM", "M", "ug/mL", "µg/mL", "mg/L", "ng/mL"}
#: Smallest fitted change (percent of the control level) within the tested range that
#: counts as a concentration–response.
MIN_EFFECT_PCT = 20.0
#: Significance level of the test of the Hill curve against a constant response.
FLAT_ALPHA = 0.05

FitKey = tuple[str, str, str, str]  # assay, endpoint, sex, timepoint


@dataclass(frozen=True)
class Potency:
    """A Hill fit and whether it may be shown.

    Attributes
    ----------
    fit
        The fit (parameters, ECx, flags).
    verdict
        ``""`` when the curve and ECx are shown; otherwise the sentence shown
        instead, e.g. ``"no concentration–response (flat: F-test p = 0.41)"``.
    flat_p
        p-value of the Hill curve against a constant response.

    """

    fit: HillFit
    verdict: str = ""
    flat_p: float = math.nan

    @property
    def shown(self) -> bool:
        """True when the curve and its ECx are reported."""
        return self.fit.converged and not self.verdict


def is_concentration(rows: pd.DataFrame) -> bool:
    """True when every dose unit of the rows is an in-vitro concentration."""
    return bool(len(rows)) and set(rows["dose_unit"]) <= CONCENTRATION_UNITS


#: Fewest tested concentrations above the control for a concentration-response curve.
MIN_CONCENTRATIONS = 3


def curve_design(rows: pd.DataFrame) -> bool:
    """True for concentrations with at least :data:`MIN_CONCENTRATIONS` tested above 0.

    A four-parameter curve through the control and one or two concentrations
    describes nothing the group comparisons do not: such endpoints get no fit,
    no potency row and no concentration-response figure.
    """
    if not is_concentration(rows):
        return False
    tested = rows[(rows["dose"].astype(float) > 0) & (rows["n"].fillna(0).astype(float) > 0)] \
        if "n" in rows else rows[rows["dose"].astype(float) > 0]
    return tested["dose"].nunique() >= MIN_CONCENTRATIONS


def values_for(table: pd.DataFrame, key: FitKey) -> pd.DataFrame:
    """EndpointTable rows of one assay × endpoint × sex × timepoint."""
    assay, endpoint, sex, tp = key
    m = (table["assay"] == assay) & (table["endpoint"] == endpoint) & \
        (table["timepoint"] == tp)
    if sex != "NA":
        m &= table["sex"] == sex
    return table[m]


def concentration_fits(results: pd.DataFrame, table: pd.DataFrame,
                       decisions: pd.DataFrame | None = None, *,
                       alpha: float = FLAT_ALPHA) -> dict[FitKey, Potency]:
    """Hill fits of every concentration-response summary endpoint, keyed by stratum.

    With ``decisions``, strata whose overall and trend tests both have p ≥ ``alpha``
    are not fitted (no concentration effect to describe). Strata tested at fewer
    than :data:`MIN_CONCENTRATIONS` concentrations are left out (:func:`curve_design`).
    """
    res = results[results["data_type"].isin(SUMMARY_TYPES) & (results["timepoint"] != "ALL")]
    tests = _tests(decisions)
    fits: dict[FitKey, Potency] = {}
    for key, rows in res.groupby(["assay", "endpoint", "sex", "timepoint"], sort=True):
        if not curve_design(rows):
            continue
        kept = values_for(table, key)
        kept = kept[~kept["excluded"]]
        conc = kept["dose"].to_numpy(dtype=float)
        resp = kept["value"].to_numpy(dtype=float)
        overall, trend = tests.get(key, (math.nan, math.nan))
        if not (overall < alpha or trend < alpha) and not (math.isnan(overall)
                                                              and math.isnan(trend)):
            fits[key] = Potency(_unfitted(len(conc)), "no concentration–response (no "
                                f"concentration effect: overall test {_p(overall)}, trend "
                                f"test {_p(trend)})")
        else:
            fits[key] = assess(conc, resp, _fit(conc, resp))
        if fits[key].verdict:
            log.info("%s, %s: %s", label_of(key[1]), key[3], fits[key].verdict)
    # assay, endpoint, sex, then timepoints in time order (groupby sorted them as text)
    times = TimeOrder.of(res)
    return dict(sorted(fits.items(), key=lambda kv: (*kv[0][:3], times.key(kv[0][3]))))


def _p(p: float) -> str:
    return "not run" if not math.isfinite(p) else "p < 0.001" if p < 0.001 else f"p = {fmt(p, 2)}"


def _tests(decisions: pd.DataFrame | None) -> dict[FitKey, tuple[float, float]]:
    """(overall p, trend p) of each tested stratum of the decisions."""
    if decisions is None or not len(decisions):
        return {}
    d = decisions[(decisions["timepoint"] != "ALL") & (decisions["path"] != "insufficient_data")]
    num = {c: pd.to_numeric(d[c], errors="coerce") for c in ("overall_p", "trend_p")}
    return {k: (float(o), float(t)) for k, o, t in zip(
        zip(d["assay"], d["endpoint"], d["sex"], d["timepoint"], strict=True),
        num["overall_p"], num["trend_p"], strict=True)}


def _unfitted(n: int) -> HillFit:
    return HillFit(math.nan, math.nan, math.nan, math.nan, (math.nan, math.nan),
                   flags=("not fitted",), n=n)


def assess(conc, resp, fit: HillFit) -> Potency:
    """Decide whether a fit shows a concentration–response (see the module notes)."""
    if not fit.converged or not math.isfinite(fit.ec50):
        return Potency(fit, "no concentration–response fitted (" + ", ".join(
            f.replace("_", " ") for f in fit.flags) + ")")
    back = reversal(conc, resp)
    p = versus_flat(conc, resp, fit)
    if back:
        return Potency(fit, f"no monotone concentration–response ({back})", p)
    if not p < FLAT_ALPHA:
        return Potency(fit, f"no concentration–response (flat: F-test p = {fmt(p, 2)})", p)
    top_conc = fit.tested_range[1]
    change = abs(float(fit.predict(top_conc)) - fit.top)
    if not change >= MIN_EFFECT_PCT / 100 * abs(fit.top):
        return Potency(fit, "no concentration–response (fitted change "
                       f"{fmt(100 * change / abs(fit.top), 0)}% < {MIN_EFFECT_PCT:g}% of control "
                       "within the tested range)", p)
    if fit.bottom < 0 <= min(resp):
        # a lower plateau below zero for values that cannot be negative: the curve is
        # an extrapolation there (a decline still steep at the top concentration)
        fit = replace(fit, flags=(*fit.flags, "lower_plateau_below_0"))
    return Potency(fit, "", p)


def _fit(conc, response) -> HillFit:
    """fit_hill, with a numerical failure shown as a flagged empty fit instead of a crash."""
    try:
        return fit_hill(conc, response)
    except (OverflowError, FloatingPointError, ValueError) as exc:
        run_note(f"warning: Hill fit failed ({exc}); reported as not fitted")
        return HillFit(math.nan, math.nan, math.nan, math.nan, (math.nan, math.nan),
                       flags=(f"fit failed: {exc}",), n=len(conc))


def ec_text(value: float, tested: tuple[float, float]) -> tuple[str, str]:
    """An ECx as shown, with its flag: ``("> 30", "above the highest concentration")``.

    A level the fitted curve never reaches is beyond the highest concentration too.
    """
    lo, hi = tested
    if not math.isfinite(value):
        return (f"> {hi:g}", "not reached") if math.isfinite(hi) else ("–", "not reached")
    if math.isfinite(hi) and value > hi:
        return f"> {hi:g}", "above the highest concentration"
    if math.isfinite(lo) and value < lo:
        return f"< {lo:g}", "below the lowest concentration"
    return fmt_sig(value), ""


def _ci(ci: tuple[float, float], decimals: int = 3) -> str:
    lo, hi = ci
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return "–"
    return f"{lo:.{decimals}g}–{hi:.{decimals}g}"


def _g(v: float) -> str:
    return fmt(v, 0) if not math.isfinite(v) else fmt_sig(v)


def _fit_cells(p: Potency) -> tuple[Cell, ...]:
    fit = p.fit
    if not p.shown:
        blank = [Cell("–", {"value": math.nan}) for _ in range(7)]
        return (Cell(p.verdict, {"value": math.nan}), *blank,
                Cell(str(fit.n), {"value": float(fit.n)}), Cell("", {"value": math.nan}))
    ec50_value = fit.ecx.get(50.0, math.nan)
    ec50, flag50 = ec_text(ec50_value, fit.tested_range)
    ec20, flag20 = ec_text(fit.ecx.get(20.0, math.nan), fit.tested_range)
    flags = sorted({f"EC50 {flag50}" if flag50 else "", f"EC20 {flag20}" if flag20 else "",
                    *(f.replace("_", " ") for f in fit.flags)} - {""})
    pairs = [("concentration–response", math.nan), (ec50, ec50_value),
             (_ci(fit.ecx_ci.get(50.0, (math.nan, math.nan))) if not flag50 else "–",
              math.nan),
             (ec20, fit.ecx.get(20.0, math.nan)), (_g(fit.slope), fit.slope),
             (_g(fit.top), fit.top), (_g(fit.bottom), fit.bottom),
             (_g(fit.ec50), fit.ec50), (str(fit.n), float(fit.n)),
             ("; ".join(flags), math.nan)]
    return tuple(Cell(text, {"value": value}, flag="!" if text.startswith(("<", ">")) else "")
                 for text, value in pairs)


def potency_table(fits: dict[FitKey, Potency], spec: StudySpec, number: int,
                  unit: str, ctx: Context | None = None) -> Table:
    """One row per endpoint × sex × timepoint: verdict, EC50 (CI), EC20, curve parameters.

    With ``ctx`` timepoints and sexes are labelled as the other tables label them.
    """
    rows = []
    for (assay, endpoint, sex, tpc), p in fits.items():
        where = sex_and_timepoint(sex, tpc, assay, ctx)
        rows.append(Row((label_of(endpoint), assay_label(assay), where), _fit_cells(p)))
    conf = next(iter(fits.values())).fit.confidence if fits else 0.95
    sym = unit_symbol(unit)
    return Table(
        number=number, title="Concentration–response: four-parameter Hill fits",
        kind="potency", key="potency-hill", header={**study_header(spec), "Unit": sym},
        row_header=("Endpoint", "Assay", "Sex/timepoint"),
        columns=("Concentration–response", f"EC50 ({sym})", f"EC50 {conf:.0%} CI",
                 f"EC20 ({sym})", "Hill slope", "Top", "Bottom", f"Midpoint ({sym})", "n",
                 "Flags"),
        rows=rows, number_fields=("value",),
        footnotes=["Curves fitted to individual values (vehicle control at concentration 0 "
                   "as the top plateau) by non-linear least squares; EC50 and EC20: "
                   "concentrations changing the response by 50% and 20% of the fitted top "
                   "(control level); midpoint: the curve's inflection between top and bottom; "
                   "confidence intervals by the delta method on log10(EC).",
                   "A curve is reported only when it fits better than a constant response "
                   f"(extra sum-of-squares F-test, p < {FLAT_ALPHA:g}), changes by at least "
                   f"{MIN_EFFECT_PCT:g}% of control within the tested range and the response "
                   "does not return towards control at higher concentrations; otherwise "
                   "'no concentration–response' is given with the reason and no EC value.",
                   "> / <: EC outside the tested concentrations (flagged; the value is an "
                   "extrapolation and not reported)."])
