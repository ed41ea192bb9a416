"""Tanguay-style hypo/hyperactivity call on the light- and dark-phase AUC.

For each concentration and phase (analysed light, analysed dark), the larvae's
AUCs are compared with the control group's by a two-sample Kolmogorov–Smirnov
test. A concentration is a hit when p < ``hit_p`` and the percent difference
of the mean AUC from the control mean is at least ``hit_percent`` in absolute
value: ``HYPER`` when above control, ``HYPO`` when below. Groups whose larvae
were excluded (e.g. failing viability) are reported with n = 0 and no call.

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


def tanguay_calls(ept: pd.DataFrame, params) -> pd.DataFrame:
    """Hit calls per concentration × phase from an EndpointTable's AUC rows."""
    rows = []
    for ep in ("auc_light", "auc_dark"):
        sub = ept[ept["endpoint"] == ep]
        if sub.empty:
            continue
        ctrl_dose = sub["dose"].min()
        ctrl = sub[(sub["dose"] == ctrl_dose) & ~sub["excluded"]]["value"].to_numpy()
        for (group, dose), g in sub.groupby(["group", "dose"], sort=True):
            rows.append(_call(ep, g["timepoint"].iloc[0], group, dose, g, ctrl,
                              dose == ctrl_dose, params))
    return pd.DataFrame(rows, columns=_COLUMNS).sort_values(["endpoint", "dose"],
                                                            ignore_index=True)


def _call(ep, tp, group, dose, g, ctrl, is_ctrl, params) -> dict:
    vals = g[~g["excluded"]]["value"].to_numpy()
    cm = float(np.mean(ctrl)) if len(ctrl) else np.nan
    row = {"endpoint": ep, "timepoint": tp, "group": group, "dose": dose, "n": len(vals),
           "mean_auc": float(np.mean(vals)) if len(vals) else np.nan, "control_mean_auc": cm,
           "percent_difference": np.nan, "ks_statistic": np.nan, "p_value": np.nan,
           "significant": False, "call": ""}
    if is_ctrl or len(vals) < 2 or len(ctrl) < 2:
        return row
    ks = stats.ks_2samp(vals, ctrl)
    pd_ = (row["mean_auc"] - cm) / cm * 100 if cm != 0 else np.nan
    sig = bool(ks.pvalue < params.hit_p and abs(pd_) >= params.hit_percent)
    row.update(percent_difference=pd_, ks_statistic=float(ks.statistic),
               p_value=float(ks.pvalue), significant=sig,
               call=("HYPER" if pd_ > 0 else "HYPO") if sig else "")
    return row
