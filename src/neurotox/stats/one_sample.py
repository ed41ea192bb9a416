"""One-sample tests against a reference value (DI vs 0, alternation vs chance).

Decision tree, every step recorded in the result: Shapiro-Wilk normality test
(n >= 3) → one-sample Student t-test when normality is not rejected at
``normality_alpha``, else the Wilcoxon signed-rank test. Both p-values are
always reported so the reader can see what the other path would have given.

For discrete T-maze trials, :func:`trial_level_glmm` fits a logistic model of
trial correctness that allows for repeated trials of a subject: by default a
GEE with an exchangeable working correlation (population-averaged, robust
standard errors; what the T-maze assay uses), or a random subject intercept
fitted by variational Bayes (statsmodels ``BinomialBayesMixedGLM``); it tests
the intercept against chance.

This module never imports assays or io: it works on plain arrays and frames.
"""

from __future__ import annotations

import warnings
from dataclasses import asdict, dataclass
from typing import Literal

import numpy as np
import pandas as pd
from scipy import stats

RESULT_COLUMNS = ("n", "mean", "sd", "sem", "median", "reference", "normality_p", "test",
                  "statistic", "p_value", "p_ttest", "p_wilcoxon", "path")


@dataclass(frozen=True)
class OneSampleResult:
    """Result of :func:`one_sample_test` (NaN where not computable)."""

    n: int
    mean: float
    sd: float
    sem: float
    median: float
    reference: float
    normality_p: float
    test: str
    statistic: float
    p_value: float
    p_ttest: float
    p_wilcoxon: float
    path: str

    def as_dict(self) -> dict[str, object]:
        """Fields as a dict (one row of a results table)."""
        return asdict(self)


def _wilcoxon(d: np.ndarray, alternative: str) -> tuple[float, float]:
    if len(d) == 0 or np.all(d == 0):
        return np.nan, np.nan
    res = stats.wilcoxon(d, alternative=alternative, zero_method="wilcox")
    return float(res.statistic), float(res.pvalue)


def _nearly_constant(x: np.ndarray) -> bool:
    return bool(np.ptp(x) <= 1e-10 * max(1.0, float(np.max(np.abs(x)))))


def _shapiro(x: np.ndarray) -> float:
    if len(x) < 3 or _nearly_constant(x):
        return np.nan
    return float(stats.shapiro(x).pvalue)


def one_sample_test(values: np.ndarray | list[float], reference: float = 0.0, *,
                    normality_alpha: float = 0.05,
                    alternative: Literal["two-sided", "greater", "less"] = "two-sided",
                    force: Literal["parametric", "nonparametric"] | None = None
                    ) -> OneSampleResult:
    """Test whether the mean (or median) of ``values`` differs from ``reference``.

    Parameters
    ----------
    values
        One value per subject; NaN are dropped.
    reference
        Null value: 0 for a discrimination index, the chance level for alternation.
    normality_alpha
        Shapiro-Wilk level; normality rejected → Wilcoxon signed-rank.
    alternative
        Alternative hypothesis of both tests.
    force
        Skip the pre-test and use the t-test (``parametric``) or Wilcoxon.

    Returns
    -------
    OneSampleResult
        Descriptives, the normality p, the test chosen, its statistic and p,
        both tests' p-values and a sentence describing the path taken.

    Notes
    -----
    With n < 3 the normality test is not possible and the t-test is used (n >= 2);
    with n < 2 no test is done (p = NaN).

    """
    x = np.asarray(values, dtype=float)
    x = x[np.isfinite(x)]
    n = len(x)
    mean = float(np.mean(x)) if n else np.nan
    sd = float(np.std(x, ddof=1)) if n > 1 else np.nan
    if n < 2:
        return OneSampleResult(n, mean, sd, np.nan, float(np.median(x)) if n else np.nan,
                               reference, np.nan, "none", np.nan, np.nan, np.nan, np.nan,
                               f"n={n}: too few values for a test")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # constant data: t is nan/inf
        t = stats.ttest_1samp(x, reference, alternative=alternative)
    w_stat, w_p = _wilcoxon(x - reference, alternative)
    norm_p = _shapiro(x)
    if force is not None:
        parametric, why = force == "parametric", f"forced {force}"
    elif np.isnan(norm_p):
        parametric, why = True, "normality not testable (n<3 or constant); t-test"
    else:
        parametric = norm_p >= normality_alpha
        why = (f"Shapiro-Wilk p={norm_p:.3g} {'>=' if parametric else '<'} {normality_alpha}: "
               f"{'one-sample t-test' if parametric else 'Wilcoxon signed-rank'}")
    test, stat, p = (("t-test", float(t.statistic), float(t.pvalue)) if parametric
                     else ("wilcoxon", w_stat, w_p))
    return OneSampleResult(n, mean, sd, float(sd / np.sqrt(n)), float(np.median(x)), reference,
                           norm_p, test, stat, p, float(t.pvalue), w_p, why)


def one_sample_table(df: pd.DataFrame, *, by: list[str], value: str = "value",
                     reference: float | str = 0.0, **options: object) -> pd.DataFrame:
    """Run :func:`one_sample_test` per group of ``df``.

    Parameters
    ----------
    df
        Long table, one row per subject.
    by
        Grouping columns (e.g. endpoint, timepoint, group, sex).
    value
        Column of values.
    reference
        A number, or the name of a column holding each group's reference (e.g. chance).
    **options
        Passed to :func:`one_sample_test`.

    Returns
    -------
    pandas.DataFrame
        ``by`` columns followed by :data:`RESULT_COLUMNS`.

    """
    rows = []
    for key, part in df.groupby(by, sort=True, dropna=False):
        key = key if isinstance(key, tuple) else (key,)
        ref = float(part[reference].iloc[0]) if isinstance(reference, str) else reference
        res = one_sample_test(part[value].to_numpy(float), ref, **options)
        rows.append({**dict(zip(by, key, strict=True)), **res.as_dict()})
    return pd.DataFrame(rows, columns=[*by, *RESULT_COLUMNS])


def trial_level_glmm(trials: pd.DataFrame, *, chance: float = 0.5,
                     method: Literal["bayes", "gee"] = "gee") -> dict[str, float | str]:
    """Trial-level logistic model of correct choices vs chance, subject as cluster.

    Parameters
    ----------
    trials
        One row per trial with ``subject`` and ``correct`` (0/1).
    chance
        Chance probability; the model offset is its logit, so the intercept
        tests "above chance".
    method
        ``gee`` (default): GEE, binomial family, exchangeable correlation within
        subject (population-averaged; robust sandwich SE). ``bayes``: variational
        Bayes mixed GLM with a random subject intercept (``BinomialBayesMixedGLM``;
        approximate posterior, z from posterior mean/SD).

    Returns
    -------
    dict
        ``n_trials``, ``n_subjects``, ``method``, ``log_odds`` (vs chance), ``se``,
        ``z``, ``p_value``, ``p_correct`` (model estimate of the probability).

    """
    import statsmodels.api as sm
    from statsmodels.genmod.bayes_mixed_glm import BinomialBayesMixedGLM

    d = trials.dropna(subset=["correct"])
    y = d["correct"].astype(float).to_numpy()
    offset = np.full(len(d), np.log(chance / (1 - chance)))
    exog = np.ones((len(d), 1))
    if method == "gee":
        model = sm.GEE(y, exog, groups=pd.factorize(d["subject"])[0],
                       family=sm.families.Binomial(), offset=offset,
                       cov_struct=sm.cov_struct.Exchangeable())
        fit = model.fit()
        est, se = float(fit.params[0]), float(fit.bse[0])
    else:
        subj = pd.get_dummies(d["subject"]).to_numpy(float)
        model = BinomialBayesMixedGLM(y, exog, subj, np.zeros(subj.shape[1], int),
                                      vcp_p=1.0, fe_p=2.0)
        # BinomialBayesMixedGLM takes no offset: fit logit(p) and subtract logit(chance)
        fit = model.fit_vb()
        est = float(fit.fe_mean[0] - offset[0])
        se = float(fit.fe_sd[0])
    z = est / se if se > 0 else np.nan
    p = float(2 * stats.norm.sf(abs(z))) if np.isfinite(z) else np.nan
    p_hat = float(1 / (1 + np.exp(-(est + offset[0]))))
    return {"n_trials": len(d), "n_subjects": int(d["subject"].nunique()), "method": method,
            "log_odds": est, "se": se, "z": z, "p_value": p, "p_correct": p_hat}


def sex_by_group_anova(df: pd.DataFrame, *, value: str = "value") -> pd.DataFrame:
    """Two-way ANOVA ``value ~ sex * group`` (type II sums of squares).

    The companion test of the per-group one-sample tests when both sexes were
    tested (e.g. NOR discrimination index, Sex x Treatment).

    Parameters
    ----------
    df
        One row per subject with ``sex``, ``group`` and ``value``; NaN dropped.
    value
        Column of values.

    Returns
    -------
    pandas.DataFrame
        One row per term (``sex``, ``group``, ``sex:group``, ``residual``): ``df``,
        ``sum_sq``, ``F``, ``p_value``. Empty when there are fewer than 2 sexes or
        groups, or an empty sex x group cell.

    """
    from statsmodels.regression.linear_model import OLS
    from statsmodels.stats.anova import anova_lm

    d = df[["sex", "group", value]].dropna().rename(columns={value: "y"})
    cells = d.groupby(["sex", "group"]).size()
    empty = pd.DataFrame(columns=["term", "df", "sum_sq", "F", "p_value"])
    if d["sex"].nunique() < 2 or d["group"].nunique() < 2 or \
            len(cells) < d["sex"].nunique() * d["group"].nunique() or len(d) <= len(cells):
        return empty
    fit = OLS.from_formula("y ~ C(sex) * C(group)", data=d).fit()
    table = anova_lm(fit, typ=2)
    names = {"C(sex)": "sex", "C(group)": "group", "C(sex):C(group)": "sex:group",
             "Residual": "residual"}
    return pd.DataFrame({"term": [names[i] for i in table.index], "df": table["df"].to_numpy(),
                         "sum_sq": table["sum_sq"].to_numpy(), "F": table["F"].to_numpy(),
                         "p_value": table["PR(>F)"].to_numpy()})
