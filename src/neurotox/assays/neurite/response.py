"""Neurite concentration-response: Hill fits per endpoint and the specific-hit call."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

from neurotox.assays.neurite.layout import MEASURE_GROUP
from neurotox.assays.neurite.params import (
    CR_ENDPOINTS,
    NeuriteParameters,
    count_endpoint,
    no_neuron_in_view,
)
from neurotox.stats.hill import HillFit, fit_hill


def _fit_row(name: str, fit: HillFit, levels: Iterable[float]) -> dict[str, Any]:
    row: dict[str, Any] = {"endpoint": name, "n": fit.n, "top": fit.top, "bottom": fit.bottom,
                           "ec50_parameter": fit.ec50, "slope": fit.slope,
                           "fit_flags": ";".join(fit.flags)}
    for x in levels:
        key = f"ec{x:g}"
        row[key] = fit.ecx.get(x, math.nan)
        row[f"{key}_ci_low"], row[f"{key}_ci_high"] = fit.ecx_ci.get(x, (math.nan, math.nan))
        row[f"{key}_flags"] = ";".join(fit.ecx_flags.get(x, ()))
    return row


def concentration_response(wells: pd.DataFrame, params: NeuriteParameters
                           ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Hill fits of neurite length per cell and nuclei count (percent of control).

    Nuclei-only fields (no neurite channel) fit the nuclei count alone; where no
    neuron can be in view (no nuclear channel, ``non_neuronal: all``: co-culture
    and axon fields) total neurite length per field is fitted instead. Neither
    makes a selectivity call (``not evaluable``, with the reason).

    Returns
    -------
    fits : pandas.DataFrame
        One row per endpoint and timepoint: parameters, ECx with CIs and flags.
    selectivity : pandas.DataFrame
        One row per timepoint: neurite and viability EC at the selectivity
        level, their ratio and the call (``specific``, ``cytotoxic``, ``inactive``,
        or ``not evaluable`` with the reason when there are no concentrations or no
        usable vehicle control: then nothing is fitted).

    """
    levels = tuple(dict.fromkeys((*params.ec_levels, params.selectivity_level)))
    fit_rows, sel_rows = [], []
    no_neuron = no_neuron_in_view(params)
    counts_only = params.neurite_channel is None
    # what is fitted: per-cell length and nuclei count; the nuclei count alone for
    # nuclei-only fields; total length per field where no neuron can be in view
    endpoints = ({"total_neurite_length": "total_neurite_length_pct"} if no_neuron else
                 {"nuclei_count": "nuclei_count_pct"} if counts_only else CR_ENDPOINTS)
    no_call = NO_NEURON if no_neuron else NUCLEI_ONLY if counts_only else ""
    basis = ("total_neurite_length_um" if no_neuron else "nuclei_count" if counts_only
             else "neurite_length_per_cell_um")        # the controls must have this
    for tp, grp in wells.groupby("timepoint", sort=True):
        reason = not_evaluable(grp, basis)
        if reason or no_call:
            sel_rows.append({"timepoint": tp, "level": params.selectivity_level,
                             "call": NOT_EVALUABLE, "reason": reason or no_call})
        if reason:
            continue
        fits = {}
        for name, col in endpoints.items():
            ok = grp[np.isfinite(grp[col].to_numpy(dtype=float))]
            fits[name] = fit_hill(ok["dose"], ok[col], levels=levels, reference=100.0)
            label = count_endpoint(params) if name == "nuclei_count" else name
            fit_rows.append({"timepoint": tp, **_fit_row(label, fits[name], levels)})
        if not no_call:
            sel_rows.append({"timepoint": tp, **selectivity(fits["neurite_length_per_cell"],
                                                            fits["nuclei_count"], params)})
    # with nothing fitted the table still has its header (an empty csv says what is missing)
    fit_table = pd.DataFrame(fit_rows) if fit_rows else \
        pd.DataFrame(columns=_fit_columns(levels))
    return fit_table, pd.DataFrame(sel_rows)


def _fit_columns(levels: Iterable[float]) -> list[str]:
    """The columns :func:`_fit_row` writes (after ``timepoint``), for an empty table."""
    ecx = [f"ec{x:g}{part}" for x in levels for part in ("", "_ci_low", "_ci_high", "_flags")]
    return ["timepoint", "endpoint", "n", "top", "bottom", "ec50_parameter", "slope",
            "fit_flags", *ecx]


#: Selectivity call when no call can be made.
NOT_EVALUABLE = "not evaluable"


#: Selectivity reason when no neuron can be in view (no nuclear channel, non_neuronal: all).
NO_NEURON = ("no neuron in view (non_neuronal: all, no nuclear channel): neurite length per "
             "cell and nuclei count are not measured; total neurite length per field is "
             "fitted instead, and no call is made without a viability count")

#: Selectivity reason of nuclei-only fields (nuclei counts are fitted, no call is made).
NUCLEI_ONLY = "no neurite channel (nuclei-only fields): nuclei counts only"


def not_evaluable(wells: pd.DataFrame, column: str = "neurite_length_per_cell_um") -> str:
    """Why a concentration-response of ``column`` cannot be evaluated ('' when it can)."""
    doses = wells["dose"].to_numpy(dtype=float)
    if set(wells["group"]) == {MEASURE_GROUP}:
        return "measured only: the run has no groups (no layout, no {group} in the pattern)"
    if not np.isfinite(doses).any():
        return "the layout gives groups but no concentrations"
    control = wells["control"].to_numpy(dtype=bool)
    usable = np.isfinite(wells.loc[control, column].to_numpy(dtype=float))
    if not usable.any():
        return "no usable vehicle-control wells (none in the layout, or all excluded)"
    if len(set(doses[np.isfinite(doses) & ~control])) < 2:
        return "fewer than two treated concentrations"
    return ""


def selectivity(neurite: HillFit, viability: HillFit, params: NeuriteParameters
                ) -> dict[str, Any]:
    """Specific-hit call from neurite and viability ECs at the selectivity level.

    A compound is a specific neurite-outgrowth hit when the neurite EC is
    reached within the tested range and the viability EC is at least
    ``specific_hit_ratio`` times higher (a viability EC that is not reached
    counts as above the highest tested concentration).
    """
    x = params.selectivity_level
    ec_n = neurite.ecx.get(x, math.nan)
    ec_v = viability.ecx.get(x, math.nan)
    top = neurite.tested_range[1]
    n_ok = math.isfinite(ec_n) and "extrapolated" not in neurite.ecx_flags.get(x, ())
    v_eff = ec_v if math.isfinite(ec_v) else top
    ratio = v_eff / ec_n if n_ok and math.isfinite(v_eff) else math.nan
    if not n_ok:
        call = "cytotoxic" if math.isfinite(ec_v) else "inactive"
    elif ratio >= params.specific_hit_ratio:
        call = "specific"
    else:
        call = "cytotoxic"
    return {"level": x, "neurite_ec": ec_n, "viability_ec": ec_v,
            "viability_ec_reached": math.isfinite(ec_v),
            "ratio": ratio, "ratio_is_lower_bound": n_ok and not math.isfinite(ec_v),
            "threshold": params.specific_hit_ratio, "call": call}
