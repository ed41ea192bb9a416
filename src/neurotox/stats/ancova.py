"""Analysis of covariance vs control for endpoints with a covariate (organ weights).

Model (per endpoint × sex × timepoint): ``y = b0 + sum_g b_g [group = g] +
beta (x - mean x) + e`` with the control group as reference, fitted by ordinary
least squares (statsmodels). Adjusted group means are evaluated at the overall
mean of the covariate; each dose group is compared with control by the t-test
of its coefficient, adjusted for the k comparisons with control as Dunnett's
test is (single step): the k t statistics are jointly multivariate t with the
model's residual df and the correlations of the coefficient estimates, so that
p_i = P(max_j |T_j| >= |t_i|) (one-sided: max_j T_j >= t_i in the adverse
direction). This is the ANCOVA analogue of Dunnett's test (SAS ``LSMEANS /
ADJUST=DUNNETT``); with equal covariate means per group it reduces to
Dunnett's correlations. The group effect is the F-test of the model against the
covariate-only model; homogeneity of slopes is the F-test of the group ×
covariate interaction.

:func:`neurotox.stats.analyse` uses this path for the endpoints of
:func:`registry_covariates` (brain weight, with terminal body weight as covariate): the
vs-control tests and p-values of the results table are the ANCOVA's, the test
is named ``ANCOVA (covariate: terminal body weight)``, and the decision row
records the group F-test, the slope and the homogeneity-of-slopes test. The
descriptive columns (mean, SD) stay those of the unadjusted values; the trend
test, when requested, is the decision tree's on the unadjusted values.

References
----------
.. [1] Shirley EA (1977). The analysis of organ weight data. Toxicology 8:13-22.
.. [2] Sellers RS et al. (2007). Society of Toxicologic Pathology position paper:
   organ weight recommendations for toxicology studies. Toxicologic Pathology 35:751-755.
.. [3] Bailey SA, Zidell RH, Perry RW (2004). Relationships between organ weight
   and body/brain weight in the rat. Toxicologic Pathology 32:448-466.
.. [4] Hothorn T, Bretz F, Westfall P (2008). Simultaneous inference in general
   parametric models. Biometrical Journal 50:346-363.

"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats as sps
from statsmodels.regression.linear_model import OLS  # not statsmodels.api: twice as slow to import

from neurotox.endpoints import registry
from neurotox.stats._common import estimable_columns


def registry_covariates() -> dict[str, str]:
    """Endpoints analysed by ANCOVA → their covariate, from the registry's ``covariate``.

    The covariate is an endpoint of the same subject, sex and timepoint.
    """
    return {name: ep.covariate for name, ep in registry().items() if ep.covariate}

#: Homogeneity of slopes rejected below this p: the common-slope result is unreliable.
SLOPES_ALPHA = 0.01
#: Said in the decision note (and found there by :func:`unequal_slopes`); not "warning",
#: which the report takes for a software message and moves out of the footnotes.
UNEQUAL_SLOPES = "the common-slope ANCOVA is unreliable"


def unequal_slopes(decisions: pd.DataFrame) -> list[str]:
    """Run warnings for ANCOVAs fitted with a common slope the data reject, one per endpoint."""
    if decisions.empty:
        return []
    hit = decisions[decisions["note"].astype(str).str.contains(UNEQUAL_SLOPES, regex=False)]
    out = []
    for endpoint, part in hit.groupby("endpoint", sort=True):
        where = ", ".join(f"{s} {t}" if str(t) not in ("", "NA") else str(s)
                          for s, t in zip(part["sex"], part["timepoint"], strict=True))
        out.append(f"warning: endpoint {endpoint!r} ({where}): homogeneity of slopes rejected "
                   f"(p < {SLOPES_ALPHA:g}): the ANCOVA's common slope does not fit, so its "
                   "adjusted comparisons with control are unreliable; see the decision notes")
    return out

#: Columns of the table returned by :func:`ancova`.
COLUMNS = ["group", "n", "adjusted_mean", "difference", "se", "t", "p_value", "p_dunnett"]


def _design(groups: pd.Series, x: np.ndarray, levels: Sequence[str],
            interaction: bool) -> np.ndarray:
    dummies = [(groups == g).to_numpy(float) for g in levels[1:]]
    cols = [np.ones(len(x)), *dummies, x]
    if interaction:
        cols += [d * x for d in dummies]
    return np.column_stack(cols)


def singular(y: Sequence[float], covariate: Sequence[float],
             groups: Sequence[str] | None = None) -> str | None:
    """Why an ANCOVA of ``y`` on ``covariate`` cannot be fitted, or None.

    A covariate (or response) with one value in every animal leaves the design
    singular: no slope, no residual variance, F-tests dividing by zero. So does a
    covariate with one value per group (group mean weights typed for every
    animal): it is then a linear combination of the group terms, and the group
    effect cannot be told apart from the covariate's (the design is rank
    deficient; statsmodels would fit it by pseudo-inverse and report a group
    effect that is not identifiable).
    """
    for what, v in (("covariate", np.asarray(covariate, float)),
                    ("response", np.asarray(y, float))):
        if len(v) and np.ptp(v) == 0:
            return f"the {what} has the same value ({v[0]:g}) in every animal"
    if groups is None:
        return None
    x = pd.Series(np.asarray(covariate, float)).groupby(list(map(str, groups)), sort=True)
    if (x.nunique() == 1).all():
        values = ", ".join(f"{g} {v:g}" for g, v in x.first().items())
        return (f"the covariate has one value per group ({values}): the group effect cannot "
                "be separated from it (rank-deficient design)")
    return None


def ancova(y: Sequence[float], covariate: Sequence[float], groups: Sequence[str],
           levels: Sequence[str], *,
           alternative: str = "two-sided") -> tuple[pd.DataFrame, dict[str, float]]:
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
    alternative
        ``two-sided``, ``less`` or ``greater`` (treated minus control).

    Raises
    ------
    ValueError
        The design is singular (see :func:`singular`).

    Notes
    -----
    Homogeneity of slopes is tested on the groups whose covariate varies (the
    interaction column of a group with a constant covariate is aliased); NaN when
    no group has its own slope.

    Returns
    -------
    table : pandas.DataFrame
        One row per group (:data:`COLUMNS`); control has no test.
    info : dict
        ``slope``, ``p_slope``, ``F`` and ``p_group`` (F-test of group),
        ``p_parallel`` (homogeneity of slopes), ``df_resid``, ``p_normal``
        (Shapiro-Wilk on the model's residuals; NaN below 3 values or without spread).

    """
    g = pd.Series(list(groups), dtype=str)
    yv, xv = np.asarray(y, float), np.asarray(covariate, float)
    why = singular(yv, xv, g)
    if why:
        raise ValueError(f"ANCOVA cannot be fitted: {why}")
    levels = [lv for lv in levels if (g == lv).any()]
    xc = xv - xv.mean()
    full = OLS(yv, _design(g, xc, levels, False)).fit()
    k = len(levels)
    reduced = OLS(yv, np.column_stack([np.ones(len(xc)), xc])).fit()
    # a group whose covariate is constant has no slope of its own: its interaction
    # column is aliased and left out, so the slopes compared are the estimable ones
    xi = _design(g, xc, levels, True)
    inter = OLS(yv, xi[:, estimable_columns(xi)]).fit()
    f_group, p_group = (full.compare_f_test(reduced)[:2] if k > 1 else (np.nan, np.nan))
    p_parallel = float(inter.compare_f_test(full)[1]) \
        if k > 1 and inter.df_model > full.df_model else float("nan")
    rows = [{"group": levels[0], "n": int((g == levels[0]).sum()),
             "adjusted_mean": float(full.params[0])}]
    for j, lv in enumerate(levels[1:], start=1):
        t = float(full.tvalues[j])
        rows.append({"group": lv, "n": int((g == lv).sum()),
                     "adjusted_mean": float(full.params[0] + full.params[j]),
                     "difference": float(full.params[j]), "se": float(full.bse[j]),
                     "t": t, "p_value": _p(t, float(full.df_resid), alternative)})
    table = pd.DataFrame(rows).reindex(columns=COLUMNS)
    if k > 1:
        cov = np.asarray(full.cov_params())[1:k, 1:k]
        se = np.sqrt(np.diag(cov))
        table.loc[1:, "p_dunnett"] = dunnett_adjust(
            table["t"].iloc[1:].to_numpy(float), cov / np.outer(se, se),
            float(full.df_resid), alternative)
    resid = np.asarray(full.resid, float)
    spread = np.ptp(resid) > 1e-12 * max(1.0, float(np.abs(yv).max()))  # not an exact fit
    p_normal = float(sps.shapiro(resid).pvalue) if resid.size >= 3 and spread else math.nan
    info = {"slope": float(full.params[k]), "p_slope": float(full.pvalues[k]),
            "F": float(f_group), "p_group": float(p_group), "p_parallel": p_parallel,
            "df_resid": float(full.df_resid), "p_normal": p_normal}
    return table, info


def dunnett_adjust(t: np.ndarray, corr: np.ndarray, df: float,
                   alternative: str = "two-sided", seed: int = 0) -> np.ndarray:
    """Single-step many-to-one adjusted p-values of correlated t statistics.

    Parameters
    ----------
    t
        The k t statistics (treated vs control).
    corr
        Their k × k correlation matrix (of the estimates).
    df
        Residual degrees of freedom.
    alternative
        ``two-sided``, ``greater`` or ``less``.
    seed
        Seed of the quasi-Monte Carlo integration of the multivariate t
        (scipy's ``multivariate_t.cdf``; absolute error about 1e-4), so that
        results are reproducible.

    Returns
    -------
    numpy.ndarray
        ``p_i = 1 - P(T_j < |t_i| for all j)`` (with ``|T_j|`` when two-sided;
        ``-T_j`` and ``-t_i`` for ``less``), in [0, 1].

    """
    t = np.asarray(t, float)
    if len(t) == 1:
        return np.array([_p(float(t[0]), df, alternative)])
    mvt = sps.multivariate_t(shape=np.asarray(corr, float), df=df)
    rng = np.random.default_rng(seed)
    out = np.empty(len(t))
    for i, ti in enumerate(t):
        if not np.isfinite(ti):
            out[i] = np.nan
            continue
        if alternative == "two-sided":
            a = np.full(len(t), abs(ti))
            cdf = mvt.cdf(a, lower_limit=-a, random_state=rng)
        else:  # -T has the same distribution: 'less' is 'greater' of -t
            cdf = mvt.cdf(np.full(len(t), ti if alternative == "greater" else -ti),
                          random_state=rng)
        out[i] = min(1.0, max(0.0, 1.0 - float(cdf)))
    return out


def _p(t: float, df: float, alternative: str) -> float:
    if alternative == "less":
        return float(sps.t.cdf(t, df))
    if alternative == "greater":
        return float(sps.t.sf(t, df))
    return float(2 * sps.t.sf(abs(t), df))


@dataclass(frozen=True)
class StratumAncova:
    """ANCOVA of one stratum, laid out per group of the stratum (control first).

    Attributes
    ----------
    test
        Test name per group ('' for the control and untested groups).
    statistic, p_value
        t statistic and Dunnett-adjusted p per group (NaN for the control).
    decision
        Values for the decision-table columns (path, overall test, pairwise test, note).
    n
        Animals per group that entered the ANCOVA (those with a covariate value).
    left_out
        Subjects per group left out for want of a covariate value (groups without
        any left out are absent).

    """

    test: list[str]
    statistic: np.ndarray
    p_value: np.ndarray
    decision: dict[str, object]
    n: np.ndarray
    left_out: dict[str, list[str]]


def covariate_lookup(included: pd.DataFrame,
                     covariates: Mapping[str, str]) -> dict[tuple[str, ...], float]:
    """Included covariate values keyed (study_id, endpoint, sex, timepoint, subject)."""
    cov = included[included["endpoint"].isin(set(covariates.values()))]
    keys = zip(cov["study_id"], cov["endpoint"], cov["sex"], cov["timepoint"], cov["subject"],
               strict=True)
    return dict(zip(keys, cov["value"].astype(float), strict=True))


def stratum_ancova(key: Sequence[str], groups: Sequence[str], subjects: Sequence[np.ndarray],
                   values: Sequence[np.ndarray], covariate: str, covariate_label: str,
                   lookup: Mapping[tuple[str, ...], float], *,
                   alternative: str = "two-sided") -> StratumAncova | str:
    """ANCOVA vs control for one stratum, or the reason it cannot be run.

    Parameters
    ----------
    key
        Stratum ``(study_id, assay, endpoint, sex, timepoint)``.
    groups
        Groups of the stratum, control first.
    subjects, values
        Per group: subject IDs and their included values.
    covariate
        Covariate endpoint; its value is taken for the same subject, sex and timepoint.
    covariate_label
        Covariate wording in test names (``terminal body weight``).
    lookup
        Output of :func:`covariate_lookup`.
    alternative
        Direction of the vs-control tests.

    Returns
    -------
    StratumAncova or str
        The result, or a sentence saying why the ANCOVA was not run (fewer than
        2 animals with both values in a group, or too few residual df).

    """
    study_id, _, _, sex, tp = key
    ys, xs, gs, left_out = [], [], [], {}
    for g, subj, val in zip(groups, subjects, values, strict=True):
        x = np.array([lookup.get((study_id, covariate, sex, tp, s), np.nan) for s in subj])
        ok = np.isfinite(x)
        ys.append(val[ok])
        xs.append(x[ok])
        gs.append(np.full(int(ok.sum()), g, dtype=object))
        if not ok.all():
            left_out[g] = sorted(map(str, np.asarray(subj)[~ok]))
    n = np.array([len(v) for v in ys])
    if n.sum() == 0 and _covariate_session(key, subjects, values, covariate, lookup):
        return (f"ANCOVA (covariate: {covariate_label}) not run: {tp} is the baseline "
                "session, whose values are the covariate itself; unadjusted comparisons")
    if len(groups) < 2 or n.min() < 2 or n.sum() <= 2 * len(groups) + 1:
        return (f"ANCOVA (covariate: {covariate_label}) not run: fewer than 2 animals with "
                f"both values in a group (n: {', '.join(map(str, n))})")
    y_all, x_all = np.concatenate(ys), np.concatenate(xs)
    why = singular(y_all, x_all, np.concatenate(gs))
    if why:
        return (f"ANCOVA (covariate: {covariate_label}) not run: {why}; unadjusted "
                "comparisons")
    table, info = ancova(y_all, x_all, np.concatenate(gs), list(groups),
                         alternative=alternative)
    name = f"ANCOVA (covariate: {covariate_label})"
    parallel = (f"homogeneity of slopes p = {info['p_parallel']:.3g}"
                if np.isfinite(info["p_parallel"]) else
                "homogeneity of slopes not testable (covariate constant within groups)")
    if info["p_parallel"] < SLOPES_ALPHA:
        parallel += (f" < {SLOPES_ALPHA:g}: {UNEQUAL_SLOPES} (the groups' slopes differ; "
                     "the adjusted difference depends on the covariate value)")
    note = (f"{name}: slope {info['slope']:.4g} per unit of covariate (p = "
            f"{info['p_slope']:.3g}); {parallel}; "
            + (f"Shapiro-Wilk on the ANCOVA residuals p = {info['p_normal']:.3g}; "
               if np.isfinite(info["p_normal"]) else "")
            + "Dunnett-adjusted t-tests vs control; mean and SD are unadjusted"
            + (f"; {left_out_text(groups, n, left_out, covariate_label)}" if left_out else ""))
    decision = {"path": "ancova", "overall_test": f"{name} group F",
                "overall_statistic": info["F"], "overall_p": info["p_group"],
                "pairwise_test": name, "note": note}
    return StratumAncova(["", *[name] * (len(groups) - 1)],
                         np.r_[np.nan, table["t"].iloc[1:].to_numpy(float)],
                         np.r_[np.nan, table["p_dunnett"].iloc[1:].to_numpy(float)], decision,
                         n, left_out)


def _covariate_session(key: Sequence[str], subjects: Sequence[np.ndarray],
                       values: Sequence[np.ndarray], covariate: str,
                       lookup: Mapping[tuple[str, ...], float]) -> bool:
    """True when the stratum's values are the covariate given at other timepoints.

    A baseline covariate (``<endpoint>_baseline``) is the animal's value at the
    baseline session, repeated at every later one: at the baseline session itself
    there is none, and every animal's value equals its covariate elsewhere.
    """
    study_id, _, _, sex = key[:4]
    elsewhere: dict[str, float] = {}
    for (st, ep, sx, _, subj), x in lookup.items():
        if st == study_id and ep == covariate and sx == sex:
            elsewhere.setdefault(subj, x)
    pairs = [(v, elsewhere[s]) for subj, val in zip(subjects, values, strict=True)
             for s, v in zip(subj, val, strict=True) if s in elsewhere]
    return bool(pairs) and all(np.isclose(v, x, rtol=1e-9, atol=0) for v, x in pairs)


def left_out_text(groups: Sequence[str], n: np.ndarray, left_out: Mapping[str, list[str]],
                  covariate_label: str) -> str:
    """``ANCOVA n G1 5, G2 3 (2 left out for want of a ...: G2 M0203, M0204)``."""
    total = sum(map(len, left_out.values()))
    who = "; ".join(f"{g}: {', '.join(s)}" for g, s in left_out.items())
    return (f"ANCOVA n {', '.join(f'{g} {k}' for g, k in zip(groups, n, strict=True))} "
            f"({total} animal(s) left out for want of a {covariate_label} value: {who}; "
            "they stay in the mean, SD and n of the summary)")
