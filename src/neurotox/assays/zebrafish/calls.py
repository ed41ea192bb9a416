"""Tanguay-style hypo/hyperactivity call on the light- and dark-phase AUC.

For each concentration and phase (analysed light, analysed dark), the larvae's
AUCs are compared with the control group's by a two-sample Kolmogorov–Smirnov
test. A concentration is a hit when p < ``hit_p`` and the percent difference
of the mean AUC from the control mean is at least ``hit_percent`` in absolute
value: ``HYPER`` when above control, ``HYPO`` when below. Groups whose larvae
were excluded (e.g. failing viability), or with fewer than two larvae left, are
reported with their n and the call ``not tested``.

Notes
-----
This is a per-larva call with the Tanguay lab's thresholds, and deliberately
not the SARL lab's own call (:mod:`neurotox.assays.zebrafish.sarl`), whose AUC
is a trapezoid across larvae summed over three cycles: a group total that grows
with the number of larvae, so with unequal groups it can call HYPER or HYPO
where the larvae do not differ. The run notes name every disagreement.

References
----------
Reif DM et al. (2016) Arch Toxicol 90:1459; Truong L et al. (2022) J Hazard
Mater 431:128615 (SARL LPR analysis: KS test per light/dark interval).

"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

_COLUMNS = ["endpoint", "timepoint", "group", "dose", "n", "mean_auc", "control_mean_auc",
            "percent_difference", "ks_statistic", "p_value", "significant", "call"]


def tanguay_calls(ept: pd.DataFrame, params,
                  endpoints: tuple[str, ...] = ("auc_light", "auc_dark")) -> pd.DataFrame:
    """Hit calls per concentration × endpoint × timepoint from an EndpointTable.

    A group (or a control) without at least two larvae left is called ``not tested``.
    """
    rows = []
    for ep in endpoints:
        for tp, sub in ept[ept["endpoint"] == ep].groupby("timepoint", sort=True):
            ctrl_dose = sub["dose"].min()
            ctrl = sub[(sub["dose"] == ctrl_dose) & ~sub["excluded"]]["value"].to_numpy()
            for (group, dose), g in sub.groupby(["group", "dose"], sort=True):
                rows.append(_call(ep, tp, group, dose, g, ctrl, dose == ctrl_dose, params))
    return pd.DataFrame(rows, columns=_COLUMNS).sort_values(["endpoint", "timepoint", "dose"],
                                                            ignore_index=True)


def stimulus_calls(ept: pd.DataFrame, params) -> pd.DataFrame:
    """The same call on each stimulus's response rate and window distance.

    ``HYPER``/``HYPO`` here mean more/less responsive than control.
    """
    out = tanguay_calls(ept, params, ("stimulus_response_rate", "stimulus_distance"))
    return out.rename(columns={"mean_auc": "mean", "control_mean_auc": "control_mean"})


def _call(ep, tp, group, dose, g, ctrl, is_ctrl, params) -> dict:
    vals = g[~g["excluded"]]["value"].to_numpy()
    cm = float(np.mean(ctrl)) if len(ctrl) else np.nan
    row = {"endpoint": ep, "timepoint": tp, "group": group, "dose": dose, "n": len(vals),
           "mean_auc": float(np.mean(vals)) if len(vals) else np.nan, "control_mean_auc": cm,
           "percent_difference": np.nan, "ks_statistic": np.nan, "p_value": np.nan,
           "significant": False, "call": ""}
    if is_ctrl:
        return row
    if len(vals) < 2 or len(ctrl) < 2:
        return {**row, "call": "not tested"}
    ks = stats.ks_2samp(vals, ctrl)
    pd_ = (row["mean_auc"] - cm) / cm * 100 if cm != 0 else np.nan
    sig = bool(ks.pvalue < params.hit_p and abs(pd_) >= params.hit_percent)
    row.update(percent_difference=pd_, ks_statistic=float(ks.statistic),
               p_value=float(ks.pvalue), significant=sig,
               call=("HYPER" if pd_ > 0 else "HYPO") if sig else "")
    return row
