"""The Tanguay lab (OSU SARL) LPR "AUC method" statistics, reproduced for comparison.

Method (SARL R pipeline, 2019; re-implemented from its documented behaviour and
checked against the lab's own output tables)
-----------------------------------------------------------------------------
Input: 6-s bins numbered t0, t1 …; light bins T61–89, T120–149, T180–209, dark
bins T90–119, T150–179, T210–239 (the three cycles after acclimation; the first
light bin T60 is not used); the transition bin is T90.

Per concentration, two numbers of larvae are reported, as SARL's table has them:

* ``count`` = the most larvae with a value in any analysed bin (T61–T239):
  SARL's ``count``, which includes larvae with a single missing bin;
* ``n_auc`` = the larvae with a value in **every** bin of the recording
  (*complete cases*, in plate-then-well order): only these enter ``AUC``,
  ``Pval`` and ``trans_dist`` (SARL's R code drops the other rows with
  ``complete.cases`` before the AUC);
* ``org_ss`` = all larvae of the concentration, excluded ones included
  (when ``group_sizes`` is given).

For every bin the trapezoid rule is applied **across the larvae** (x = larva
index), giving one number per bin;

Notes
-----
Because the trapezoid runs across larvae, the AUC grows with the number of
larvae and depends on their order: it is a group total, not a per-larva mean.
With unequal groups ``PercDiff`` mostly measures the ratio of group sizes, so
SARL's HYPER/HYPO call can disagree with the per-larva call of
:mod:`neurotox.assays.zebrafish.calls` (``hit_calls``);
:func:`disagreement_notes` names every such disagreement in the run notes.
The module reproduces the SARL table for comparison with SARL reports; the
per-larva AUC endpoints of :mod:`neurotox.assays.zebrafish.lpr` are the ones
to analyse.

"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from neurotox.assays.zebrafish.larvae import MAX_NAMED

#: SARL's bins are 6 s wide (T0 … T239 over a 24-min recording).
SARL_BIN_S = 6.0
LIGHT_BINS = [*range(61, 90), *range(120, 150), *range(180, 210)]
DARK_BINS = [*range(90, 120), *range(150, 180), *range(210, 240)]
TRANSITION_BIN = 90
_COLUMNS = ["dose", "interval", "count", "n_auc", "org_ss", "AUC", "PercDiff", "Pval", "viable",
            "activity", "trans_dist", "trans_PercDiff", "trans_p"]


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
                        group_sizes: pd.Series | None = None, hit_p: float = 0.01,
                        hit_percent: float = 50.0) -> pd.DataFrame:
    """SARL AUC-method table per concentration × interval (see the module docstring).

    Parameters
    ----------
    bins
        Per-bin rows of the larvae to use (``dose``, ``plate``, ``well``, ``bin``,
        ``distance``); excluded larvae must already be left out.
    viability
        Fraction of larvae kept per dose (for the 70 % rule); None = all pass.
    group_sizes
        All larvae per dose, excluded ones included (column ``org_ss``); None =
        the larvae in ``bins``.
    hit_p, hit_percent
        Significance level and percent-difference cutoff of the call.

    """
    if bins.empty or bins["bin"].max() < max(DARK_BINS):   # every larva excluded, or short
        return pd.DataFrame()
    wide = _wide(bins)
    complete = wide[wide.notna().all(axis=1)]
    doses = sorted(wide.index.get_level_values("dose").unique())
    ctrl = doses[0]
    analysed = wide.reindex(columns=LIGHT_BINS + DARK_BINS).notna()
    counts = analysed.groupby(level="dose").sum().max(axis=1)
    sizes = wide.notna().any(axis=1).groupby(level="dose").sum() if group_sizes is None \
        else group_sizes   # (pivot_table with dropna=False adds empty dose × well rows)
    per_bin = {d: {"Light": np.trapezoid(complete.loc[d][LIGHT_BINS].to_numpy(), axis=0),
                   "Dark": np.trapezoid(complete.loc[d][DARK_BINS].to_numpy(), axis=0)}
               for d in doses if d in complete.index.get_level_values("dose")}
    trans = _transition(wide, complete, doses)
    rows = []
    for d in doses:
        for interval in ("Dark", "Light"):
            rows.append({**_row(d, interval, per_bin, ctrl, complete, trans, viability, hit_p,
                                hit_percent), "count": int(counts.get(d, 0)),
                         "org_ss": int(sizes.get(d, 0))})
    return pd.DataFrame(rows, columns=_COLUMNS)


def _row(d, interval, per_bin, ctrl, complete, trans, viability, hit_p, hit_percent) -> dict:
    ok = viability is None or viability.get(d, 1.0) >= 0.7
    n = len(complete.loc[d]) if d in per_bin else 0
    row = {"dose": d, "interval": interval, "n_auc": n, "AUC": np.nan, "PercDiff": np.nan,
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


def sarl_notes(table: pd.DataFrame, bins: pd.DataFrame, hit_calls: pd.DataFrame) -> list[str]:
    """Run notes that explain how ``sarl_lpr_stats`` differs from the other tables.

    Names the larvae counted in ``count`` but left out of the AUC (a bin
    without a value), and every concentration × interval where SARL's call and
    the per-larva call of ``hit_calls`` disagree.
    """
    if table.empty:
        return []
    notes = []
    wide = _wide(bins)
    partial = wide[wide.notna().any(axis=1) & wide.isna().any(axis=1)]
    if len(partial):
        names = ", ".join(f"{p}-{w}" for _, p, w in partial.index[:MAX_NAMED]) + (
            f" and {len(partial) - MAX_NAMED} more" if len(partial) > MAX_NAMED else "")
        notes.append(f"sarl_lpr_stats: 'count' is SARL's (the most larvae with a value in any "
                     f"analysed bin) and includes {len(partial)} larva(e) with a bin without a "
                     f"value ({names}); 'AUC', 'Pval' and 'trans_dist' use only the larvae "
                     "with a value in every bin ('n_auc'), as SARL's code does")
    notes += [_disagreement(r, hit_calls) for r in table.itertuples()
              if r.dose != table["dose"].min()]
    return [n for n in notes if n]


def _disagreement(r, hit_calls: pd.DataFrame) -> str:
    ep = "auc_dark" if r.interval == "Dark" else "auc_light"
    hc = hit_calls[(hit_calls["endpoint"] == ep) & (hit_calls["dose"] == r.dose)]
    if hc.empty or hc["call"].iloc[0] == r.activity:
        return ""
    h = hc.iloc[0]
    ctrl_n = hit_calls.loc[(hit_calls["endpoint"] == ep)
                           & (hit_calls["dose"] == hit_calls["dose"].min()), "n"]
    sarl = (f"AUC {r.PercDiff:+.1f} % vs control, a group total over {r.n_auc} larvae; "
            f"p {r.Pval:.2g}" if np.isfinite(r.PercDiff) else f"{r.n_auc} complete larvae")
    larva = (f"mean {h['percent_difference']:+.1f} %, KS p {h['p_value']:.2g}, "
             if np.isfinite(h["percent_difference"]) else "")
    n_c = int(ctrl_n.iloc[0]) if len(ctrl_n) else 0
    return (f"hit_calls and sarl_lpr_stats disagree for dose {r.dose:g} {r.interval}: SARL's "
            f"across-larvae AUC gives {r.activity or 'no call'} ({sarl}); the per-larva call "
            f"gives {h['call'] or 'no call'} ({ep} {h['timepoint']}: {larva}n {h['n']} vs "
            f"{n_c}). hit_calls is the per-larva result; SARL's AUC grows with the number of "
            "larvae (see the hit-call convention)")


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
