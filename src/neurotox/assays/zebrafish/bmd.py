"""Benchmark concentrations for zebrafish endpoints (continuous and bmdrc-dichotomous).

Both need at least three concentrations including the control; with fewer the
table is empty and a note says why.
"""

from __future__ import annotations

import pandas as pd

from neurotox.assays.zebrafish.bmdrc import bmdrc_bmd, dose_table
from neurotox.stats.bmd import benchmark_dose

_COLUMNS = ["endpoint", "timepoint", "kind", "bmr", "model", "bmd", "bmdl", "bmdu", "aic",
            "gof_p", "recommended", "reason"]


def _rows(endpoint: str, timepoint: str, res) -> list[dict]:
    return [{"endpoint": endpoint, "timepoint": timepoint, "kind": res.kind, "bmr": res.bmr,
             "model": m.model, "bmd": m.bmd, "bmdl": m.bmdl, "bmdu": m.bmdu, "aic": m.aic,
             "gof_p": m.gof_p, "recommended": bool(m.recommended), "reason": res.reason}
            for m in res.models.itertuples()]


def continuous_bmds(ept: pd.DataFrame, endpoints: tuple[str, ...],
                    notes: list[str]) -> pd.DataFrame:
    """Continuous BMD (BMR 1 SD) per endpoint × timepoint from non-excluded larvae."""
    rows = []
    used = ept[~ept["excluded"] & ept["endpoint"].isin(endpoints)]
    for (ep, tp), g in used.groupby(["endpoint", "timepoint"]):
        s = g.groupby("dose")["value"].agg(["size", "mean", "std"]).reset_index()
        s = s[s["size"] >= 2]
        if len(s) < 3:
            notes.append(f"BMD of {ep} {tp}: fewer than 3 concentrations with n >= 2; skipped")
            continue
        res = benchmark_dose(s["dose"].tolist(), s["size"].tolist(), kind="continuous",
                             mean=s["mean"].tolist(), sd=s["std"].tolist())
        rows += _rows(ep, tp, res)
    return pd.DataFrame(rows, columns=_COLUMNS)


def bmdrc_bmds(dich: pd.DataFrame, notes: list[str]) -> pd.DataFrame:
    """bmdrc-style dichotomous BMD10 for every AUC_k / MOV_k / ANY_* endpoint."""
    table = dose_table(dich, by_plate=True)
    if table["dose"].nunique() < 3:
        notes.append("bmdrc BMD: fewer than 3 concentrations; skipped")
        return pd.DataFrame(columns=_COLUMNS)
    rows = []
    for ep in sorted(table["endpoint"].unique()):
        rows += _rows(ep, "NA", bmdrc_bmd(table, ep))
    return pd.DataFrame(rows, columns=_COLUMNS)


#: Columns of every BMD table of the zebrafish assays, and its row builder (public names).
BMD_COLUMNS = _COLUMNS
bmd_rows = _rows
