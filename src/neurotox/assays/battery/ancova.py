"""Analysis of covariance of an organ weight with body weight as covariate.

Model (per sex): ``y = b0 + sum_g b_g [group = g] + beta (x - mean x) + e`` with
the control group as reference, fitted by ordinary least squares (statsmodels).
Adjusted group means are evaluated at the overall mean body weight; each dose
group is compared with control by the t-test of its coefficient, with Holm's
adjustment across dose groups. Homogeneity of slopes is tested by the F-test
of the group × covariate interaction.

References
----------
.. [1] Shirley EA (1985). The analysis of organ weight data. Toxicology 8:13-22.
.. [2] Sellers RS et al. (2007). Society of Toxicologic Pathology position paper:
   organ weight recommendations for toxicology studies. Toxicologic Pathology 35:751-755.

"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import statsmodels.api as sm
from statsmodels.stats.multitest import multipletests

#: Columns of the table returned by :func:`ancova`.
COLUMNS = ["group", "n", "adjusted_mean", "difference", "se", "t", "p_value", "p_holm"]


def _design(groups: pd.Series, x: np.ndarray, levels: Sequence[str],
            interaction: bool) -> np.ndarray:
    dummies = [(groups == g).to_numpy(float) for g in levels[1:]]
    cols = [np.ones(len(x)), *dummies, x]
    if interaction:
        cols += [d * x for d in dummies]
    return np.column_stack(cols)


def ancova(y: Sequence[float], covariate: Sequence[float], groups: Sequence[str],
           levels: Sequence[str]) -> tuple[pd.DataFrame, dict[str, float]]:
    """Fit the ANCOVA and compare each group with the first level (control).

    Parameters
    ----------
    y
        Response (e.g. brain weight).
    covariate
        Covariate (e.g. terminal body weight).
    groups
        Group of each value.
    levels
        Groups in order, control first; levels without data are skipped.

    Returns
    -------
    table : pandas.DataFrame
        One row per group (:data:`COLUMNS`); control has no test.
    info : dict
        ``slope``, ``p_slope``, ``p_group`` (F-test of group), ``p_parallel``
        (homogeneity of slopes), ``df_resid``.

    """
    g = pd.Series(list(groups), dtype=str)
    yv, xv = np.asarray(y, float), np.asarray(covariate, float)
    levels = [lv for lv in levels if (g == lv).any()]
    xc = xv - xv.mean()
    full = sm.OLS(yv, _design(g, xc, levels, False)).fit()
    k = len(levels)
    reduced = sm.OLS(yv, np.column_stack([np.ones(len(xc)), xc])).fit()
    inter = sm.OLS(yv, _design(g, xc, levels, True)).fit()
    p_group = float(full.compare_f_test(reduced)[1]) if k > 1 else float("nan")
    p_parallel = float(inter.compare_f_test(full)[1]) if k > 1 else float("nan")
    rows = [{"group": levels[0], "n": int((g == levels[0]).sum()),
             "adjusted_mean": float(full.params[0])}]
    for j, lv in enumerate(levels[1:], start=1):
        rows.append({"group": lv, "n": int((g == lv).sum()),
                     "adjusted_mean": float(full.params[0] + full.params[j]),
                     "difference": float(full.params[j]), "se": float(full.bse[j]),
                     "t": float(full.tvalues[j]), "p_value": float(full.pvalues[j])})
    table = pd.DataFrame(rows).reindex(columns=COLUMNS)
    if k > 1:
        table.loc[1:, "p_holm"] = multipletests(table["p_value"].iloc[1:], method="holm")[1]
    info = {"slope": float(full.params[k]), "p_slope": float(full.pvalues[k]),
            "p_group": p_group, "p_parallel": p_parallel, "df_resid": float(full.df_resid)}
    return table, info
