"""The Tanguay lab (OSU SARL) LPR "AUC method" statistics, reproduced for comparison.

Method (SARL R pipeline, 2019; re-implemented from its documented behaviour and
checked against the lab's own output tables)
-----------------------------------------------------------------------------
Input: 6-s bins numbered t0, t1 …; light bins T61–89, T120–149, T180–209, dark
bins T90–119, T150–179, T210–239 (the three cycles after acclimation; the first
light bin T60 is not used); the transition bin is T90.

Per concentration, only larvae with a value in every bin are used (*complete
cases*: affected larvae, set missing, drop out, and so do larvae with a single
missing bin), in plate-then-well order. For every bin the trapezoid rule is
applied **across the larvae** (x = larva index), giving one number per bin;

* ``AUC`` = sum of those numbers over the light (dark) bins;
* ``PercDiff`` = (AUC − control AUC) / control AUC × 100;
* ``Pval`` = two-sample Kolmogorov–Smirnov test between the per-bin numbers of
  the concentration and of the control (p-value as R 3.x computes it);
* ``activity`` = HYPER (HYPO) when Pval ≤ 0.01, the concentration kept ≥ 70 %
  of its larvae and PercDiff > 50 (< −50);
* ``trans_dist`` = mean distance in bin T90; ``trans_PercDiff`` relative to the
  control; ``trans_p`` = Tukey HSD p against the control (one-way ANOVA of T90
  over all larvae with a T90 value).

Notes
-----
Because the trapezoid runs across larvae, the AUC grows with the number of
larvae and depends on their order: it is a group total, not a per-larva mean.
The module reproduces it for comparison with SARL reports; the per-larva AUC
endpoints of :mod:`neurotox.assays.zebrafish.lpr` are the ones to analyse.

"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

LIGHT_BINS = [*range(61, 90), *range(120, 150), *range(180, 210)]
DARK_BINS = [*range(90, 120), *range(150, 180), *range(210, 240)]
TRANSITION_BIN = 90


def ks_pvalue(x, y) -> float:
    """Two-sample KS p-value as R 3.x ``ks.test`` computes it.

    Exact when ``len(x) * len(y) < 10000`` and there are no ties; otherwise the
    asymptotic Kolmogorov distribution (R falls back to it with ties).
    """
    x, y = np.asarray(x, float), np.asarray(y, float)
    d = stats.ks_2samp(x, y).statistic
    pooled = np.concatenate([x, y])
    if len(x) * len(y) < 10000 and len(np.unique(pooled)) == len(pooled):
        return float(stats.ks_2samp(x, y, method="exact").pvalue)
    return float(min(1.0, stats.kstwobign.sf(np.sqrt(len(x) * len(y) / (len(x) + len(y)))
                                             * d)))


def _wide(bins: pd.DataFrame) -> pd.DataFrame:
    wide = bins.pivot_table(index=["dose", "plate", "well"], columns="bin",
                            values="distance", dropna=False, aggfunc="first")
    return wide.sort_index()


def sarl_lpr_statistics(bins: pd.DataFrame, *, viability: pd.Series | None = None,
                        hit_p: float = 0.01, hit_percent: float = 50.0) -> pd.DataFrame:
    """SARL AUC-method table per concentration × interval (see the module docstring).

    Parameters
    ----------
    bins
        Per-bin rows of the larvae to use (``dose``, ``plate``, ``well``, ``bin``,
        ``distance``); excluded larvae must already be left out.
    viability
        Fraction of larvae kept per dose (for the 70 % rule); None = all pass.
    hit_p, hit_percent
        Significance level and percent-difference cutoff of the call.

    """
    if bins.empty or bins["bin"].max() < max(DARK_BINS):   # every larva excluded, or short
        return pd.DataFrame()
    wide = _wide(bins)
    complete = wide[wide.notna().all(axis=1)]
    doses = sorted(wide.index.get_level_values("dose").unique())
    ctrl = doses[0]
    per_bin = {d: {"Light": np.trapezoid(complete.loc[d][LIGHT_BINS].to_numpy(), axis=0),
                   "Dark": np.trapezoid(complete.loc[d][DARK_BINS].to_numpy(), axis=0)}
               for d in doses if d in complete.index.get_level_values("dose")}
    trans = _transition(wide, complete, doses)
    rows = []
    for d in doses:
        for interval in ("Dark", "Light"):
            rows.append(_row(d, interval, per_bin, ctrl, complete, trans, viability, hit_p,
                             hit_percent))
    return pd.DataFrame(rows)


def _row(d, interval, per_bin, ctrl, complete, trans, viability, hit_p, hit_percent) -> dict:
    ok = viability is None or viability.get(d, 1.0) >= 0.7
    n = len(complete.loc[d]) if d in per_bin else 0
    row = {"dose": d, "interval": interval, "count": n, "AUC": np.nan, "PercDiff": np.nan,
           "Pval": np.nan, "viable": ok, "activity": "", **trans.get(d, {})}
    if d not in per_bin or n < 2 or ctrl not in per_bin:
        return row
    auc, auc_c = per_bin[d][interval].sum(), per_bin[ctrl][interval].sum()
    row.update(AUC=auc, PercDiff=(auc - auc_c) / auc_c * 100)
    row["Pval"] = 1.0 if d == ctrl else ks_pvalue(per_bin[ctrl][interval],
                                                  per_bin[d][interval])
    if d != ctrl and ok and row["Pval"] <= hit_p:
        row["activity"] = "HYPER" if row["PercDiff"] > hit_percent else \
            "HYPO" if row["PercDiff"] < -hit_percent else ""
    return row


def _transition(wide: pd.DataFrame, complete: pd.DataFrame, doses: list) -> dict:
    if TRANSITION_BIN not in wide.columns:
        return {}
    t = wide[TRANSITION_BIN]
    groups = [t.loc[d].dropna().to_numpy() for d in doses]
    pvals = np.ones(len(doses))
    if len(doses) > 1 and all(len(g) > 1 for g in groups):
        pvals = stats.tukey_hsd(*groups).pvalue[0]
    c_mean = complete.loc[doses[0]][TRANSITION_BIN].mean()
    out = {}
    for k, d in enumerate(doses):
        m = complete.loc[d][TRANSITION_BIN].mean() if d in complete.index else np.nan
        out[d] = {"trans_dist": m, "trans_PercDiff": (m - c_mean) / c_mean * 100,
                  "trans_p": 0.0 if k == 0 else float(pvals[k])}
    return out


def sarl_lsr_statistics(bins: pd.DataFrame, *, n_bins: int = 10) -> pd.DataFrame:
    """SARL larval startle response (LSR) AUC and peak statistics.

    Uses the first ``n_bins`` 1-s bins after the stimulus (SARL: t0–t9 of the
    ``STR`` export). Per concentration and complete-case larvae: the trapezoid
    across larvae per bin; ``AUC`` = mean of those numbers, ``PercDiff`` against
    the control, ``AUC_p`` = KS test of the per-bin numbers against the
    control's. The peak bin is the bin of the highest control mean;
    ``peak_dist`` = mean distance there, ``peak_p`` = KS test of the larvae's
    values there against the control larvae's, ``PeakDiff`` in percent.
    """
    wide = _wide(bins[bins["bin"] < n_bins])
    complete = wide[wide.notna().all(axis=1)]
    doses = sorted(complete.index.get_level_values("dose").unique())
    ctrl = complete.loc[doses[0]]
    c_auc = np.trapezoid(ctrl.to_numpy(), axis=0)
    peak = int(ctrl.mean(axis=0).to_numpy().argmax())
    rows = []
    for d in doses:
        g = complete.loc[d]
        auc = np.trapezoid(g.to_numpy(), axis=0)
        p_auc = ks_pvalue(c_auc, auc) if d != doses[0] else 1.0
        p_peak = ks_pvalue(ctrl.iloc[:, peak], g.iloc[:, peak]) if d != doses[0] else 1.0
        rows.append({"dose": d, "count": len(g), "AUC": auc.mean(),
                     "PercDiff": (auc.mean() - c_auc.mean()) / c_auc.mean() * 100,
                     "AUC_p": float(p_auc), "peak_bin": peak + 1,
                     "peak_dist": g.iloc[:, peak].mean(), "peak_p": float(p_peak),
                     "PeakDiff": (g.iloc[:, peak].mean() - ctrl.iloc[:, peak].mean())
                     / ctrl.iloc[:, peak].mean() * 100})
    return pd.DataFrame(rows)
