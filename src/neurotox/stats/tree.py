"""The toxicology decision tree for one stratum (endpoint x sex x timepoint).

:func:`compare_to_control` takes the groups of one stratum (control first, then
treated groups in increasing dose order) and returns every step taken: pre-tests,
the overall test, the many-to-one test and the trend test, with a note saying why.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import stats as sps

from neurotox.stats import censored as cens
from neurotox.stats._common import Comparison, Trend, flag
from neurotox.stats.control import dunn, dunnett, steel
from neurotox.stats.ddf import DDF_LABELS
from neurotox.stats.incidence import cochran_armitage, fisher_vs_control
from neurotox.stats.mixed import litter_comparison
from neurotox.stats.trend import jonckheere, shirley_williams, step_down_p, williams
from neurotox.study import StatisticsPlan

#: Decision-tree paths recorded in the ``path`` column.
PATHS = ("parametric", "nonparametric", "incidence", "ordinal", "censored",
         "repeated_measures", "insufficient_data")

#: Decision note of a stratum with a single group (nothing to compare it with).
ONE_GROUP = "one group only: no between-group comparison"

#: Largest total N for which the exact Cochran-Armitage test is used.
CA_EXACT_MAX_N = 1000


@dataclass
class StratumOutcome:
    """Everything decided and computed for one stratum.

    Attributes
    ----------
    decision
        Values of the decision-table columns (path, transform, pre-tests, overall,
        pairwise and trend tests, note).
    test
        Per group (control first): name of the vs-control test ('' when not tested).
    statistic, p_value
        Per group vs-control statistic and p (NaN on the control and untested groups).
    trend_statistic, trend_p, trend_flag
        Per group trend result (Williams-type: per dose, NaN on the control; global
        trend tests: repeated on every group).

    """

    decision: dict[str, object]
    test: list[str]
    statistic: np.ndarray
    p_value: np.ndarray
    trend_statistic: np.ndarray
    trend_p: np.ndarray
    trend_flag: list[str] = field(default_factory=list)


def _blank(n_groups: int, decision: dict[str, object]) -> StratumOutcome:
    nan = np.full(n_groups, np.nan)
    return StratumOutcome(decision, [""] * n_groups, nan.copy(), nan.copy(), nan.copy(),
                          nan.copy(), [""] * n_groups)


def _base_decision(path: str, sided: str, alpha: float) -> dict[str, object]:
    return {"path": path, "transform": "none", "sided": sided, "alpha": alpha,
            "normality_test": "", "normality_statistic": np.nan, "normality_p": np.nan,
            "homogeneity_test": "", "homogeneity_statistic": np.nan, "homogeneity_p": np.nan,
            "overall_test": "", "overall_statistic": np.nan, "overall_p": np.nan,
            "pairwise_test": "", "trend_test": "", "trend_statistic": np.nan,
            "trend_p": np.nan, "note": "", "censoring": ""}


def _quiet(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Call a SciPy pre-test, silencing its expected small-sample/degenerate warnings."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        warnings.simplefilter("ignore", UserWarning)
        return func(*args, **kwargs)


#: Display names of the homogeneity pre-tests (plan key ``homogeneity_test``).
HOMOGENEITY_TESTS = {"levene": "Levene (median)", "bartlett": "Bartlett"}


def _pretests(groups: list[np.ndarray], decision: dict[str, object], homogeneity: str) -> None:
    resid = np.concatenate([g - g.mean() for g in groups])
    if resid.size >= 3 and np.ptp(resid) > 0:
        w, p = _quiet(sps.shapiro, resid)
        decision.update(normality_test="Shapiro-Wilk (residuals)", normality_statistic=float(w),
                        normality_p=float(p))
    if homogeneity == "bartlett":
        # Bartlett needs a positive variance in every group (log of each variance)
        if not all(np.ptp(g) > 0 for g in groups):
            return
        res = _quiet(sps.bartlett, *groups)
    elif min(len(g) for g in groups) < 3:
        # two values lie equally far from their median: the group adds no spread to
        # Levene's test, whose F then runs to infinity (p ~ 0 for any data)
        decision["note"] = "; ".join(x for x in (
            decision.get("note"), "Levene not done: a group has fewer than 3 values") if x)
        return
    elif all(np.ptp(g) > 0 for g in groups) or np.ptp(resid) > 0:
        res = _quiet(sps.levene, *groups, center="median")
    else:
        return
    decision.update(homogeneity_test=HOMOGENEITY_TESTS[homogeneity],
                    homogeneity_statistic=float(res.statistic), homogeneity_p=float(res.pvalue))


def _choose_path(decision: dict[str, object], plan: StatisticsPlan) -> tuple[str, str]:
    if plan.force_path is not None:
        return f"{plan.force_path}", f"path forced by the plan: {plan.force_path}"
    p_n, p_h = decision["normality_p"], decision["homogeneity_p"]
    homogeneity = HOMOGENEITY_TESTS[plan.homogeneity_test].split(" (")[0]
    if np.isfinite(p_n) and p_n < plan.normality_alpha:
        return "nonparametric", (f"Shapiro-Wilk p={p_n:.3g} < {plan.normality_alpha:g}: "
                                 "nonparametric")
    if np.isfinite(p_h) and p_h < plan.homogeneity_alpha:
        return "nonparametric", (f"{homogeneity} p={p_h:.3g} < {plan.homogeneity_alpha:g}: "
                                 "nonparametric")
    reasons = []
    reasons.append(f"Shapiro-Wilk p={p_n:.3g}" if np.isfinite(p_n) else "Shapiro-Wilk not done")
    reasons.append(f"{homogeneity} p={p_h:.3g}" if np.isfinite(p_h)
                   else f"{homogeneity} not done")
    return "parametric", ", ".join(reasons) + ": parametric"


def _trend_per_group(trend: Trend, n_groups: int, alpha: float) -> tuple:
    stat = np.full(n_groups, np.nan)
    pval = np.full(n_groups, np.nan)
    flags = [""] * n_groups
    if trend.per_dose_statistic.size:
        stat[1:] = trend.per_dose_statistic
        # step-down adjusted: the p of a dose is the largest p of it and every higher
        # dose, the smallest alpha at which the step-down from the top reaches it;
        # the flag read from this p is the step-down's decision (Williams 1972)
        pval[1:] = step_down_p(trend.per_dose_p)
        flags[1:] = [flag(p, alpha) for p in pval[1:]]
    else:
        stat[:] = trend.statistic
        pval[:] = trend.p_value
        flags = [flag(trend.p_value, alpha)] * n_groups
    return stat, pval, flags


def _fill(outcome: StratumOutcome, comp: Comparison, trend: Trend | None,
          alpha: float) -> StratumOutcome:
    k = comp.statistic.size
    outcome.test = [""] + [comp.test] * k
    outcome.statistic[1:] = comp.statistic
    outcome.p_value[1:] = comp.p_value
    outcome.decision["pairwise_test"] = comp.test
    if trend is not None:
        stat, pval, flags = _trend_per_group(trend, k + 1, alpha)
        outcome.trend_statistic, outcome.trend_p, outcome.trend_flag = stat, pval, flags
        outcome.decision.update(trend_test=trend.test, trend_statistic=trend.statistic,
                                trend_p=trend.p_value)
    return outcome


def _continuous(groups: list[np.ndarray], alternative: str, plan: StatisticsPlan,
                decision: dict[str, object], *, ordinal: bool) -> tuple[Comparison, Trend | None]:
    if ordinal:
        path, note = "ordinal", "ordinal scores: rank-based tests"
    else:
        if plan.force_path is None:
            _pretests(groups, decision, plan.homogeneity_test)
        path, note = _choose_path(decision, plan)
        if not any(np.ptp(g) > 0 for g in groups):
            path, note = "nonparametric", "no within-group variation: nonparametric"
    decision["path"] = path
    decision["note"] = "; ".join(x for x in (decision["note"], note) if x)
    if path == "parametric":
        res = _quiet(sps.f_oneway, *groups)
        decision.update(overall_test="ANOVA", overall_statistic=float(res.statistic),
                        overall_p=float(res.pvalue))
        comp = dunnett(groups[0], *groups[1:], alternative=alternative)
    else:
        res = _quiet(sps.kruskal, *groups)
        decision.update(overall_test="Kruskal-Wallis", overall_statistic=float(res.statistic),
                        overall_p=float(res.pvalue))
        rank_test = steel if plan.nonparametric == "steel" else dunn
        comp = rank_test(groups[0], *groups[1:], alternative=alternative)
        how = (f"Holm-adjusted over the {len(groups) - 1} comparisons with control"
               if comp.test == "Dunn" else f"{comp.method} joint null of the maximum")
        decision["note"] = f"{decision['note']}; {comp.test}: {how}"
    trend = _continuous_trend(groups, alternative, plan, path) if plan.trend_test else None
    if trend is not None and trend.test == "Jonckheere-Terpstra":
        decision["note"] = f"{decision['note']}; Jonckheere-Terpstra: {trend.method} p"
    return comp, trend


#: The vs-control part of a continuous stratum's note, as :func:`_continuous` writes it.
_COMPARISON_NOTE = re.compile(r"; (Dunn: Holm-adjusted over the \d+ comparisons with control"
                              r"|Steel: [^;]*joint null of the maximum)")


def replaced_comparisons(note: str, by: str) -> str:
    """The note of a stratum whose vs-control tests were replaced by the test ``by``.

    The tree's own comparison (Dunn, Steel) is dropped from the note, and a path
    chosen as nonparametric by the pre-tests (or the plan) is said to choose the
    trend test only, because ``by`` (the ANCOVA, a parametric model) ran instead.
    """
    note = _COMPARISON_NOTE.sub("", note)
    return re.sub(r": nonparametric(?=;|$)", f": nonparametric path not taken for the "
                  f"comparisons with control, {by} run regardless (parametric)", note, count=1)


def _continuous_trend(groups: list[np.ndarray], alternative: str, plan: StatisticsPlan,
                      path: str) -> Trend | None:
    if plan.trend_method == "jonckheere" or path == "ordinal":
        return jonckheere(groups, alternative=alternative) if len(groups) >= 2 else None
    if path == "parametric":
        return williams(groups, alternative=alternative, alpha=plan.alpha)
    return shirley_williams(groups, alternative=alternative, alpha=plan.alpha)


def _incidence(groups: list[np.ndarray], doses: np.ndarray, alternative: str,
               plan: StatisticsPlan, decision: dict[str, object]) -> tuple[Comparison, Trend]:
    affected = np.array([g.sum() for g in groups])
    examined = np.array([g.size for g in groups])
    decision["path"] = "incidence"
    decision["note"] = "; ".join(x for x in (decision["note"], "incidence (0/1) data") if x)
    comp = fisher_vs_control(affected, examined, alternative=alternative)
    trend = None
    if plan.trend_test:
        scores = doses if np.ptp(doses) > 0 else np.arange(doses.size, dtype=float)
        method = "exact" if examined.sum() <= CA_EXACT_MAX_N else "asymptotic"
        try:
            trend = cochran_armitage(affected, examined, scores, alternative=alternative,
                                     method=method)
        except ValueError:
            trend = cochran_armitage(affected, examined, scores, alternative=alternative)
        if trend.method == "not testable":
            decision["note"] += f"; Cochran-Armitage not testable: {trend.extra['reason']}"
        trend = Trend(f"Cochran-Armitage ({trend.method})", trend.statistic, trend.p_value,
                      trend.alternative, method=trend.method, extra=trend.extra)
    return comp, trend


def _litter_mixed(groups: list[np.ndarray], litters: list, alternative: str,
                  decision: dict[str, object], plan: StatisticsPlan) -> tuple[Comparison, None]:
    comp, overall = litter_comparison(groups, litters, alternative=alternative,
                                      ddf=plan.mixed_ddf)
    decision.update(path="parametric", overall_test="MixedLM group effect (Wald F)",
                    overall_statistic=overall["F"], overall_p=overall["p"])
    sd_litter = (f"{overall['sd_litter']:.3g}" if "var_random" not in overall["boundary"]
                 else "0 (REML optimum on the boundary)")
    df = comp.extra["ddf"]
    distinct = sorted({f"{v:.4g}" for v in df if np.isfinite(v)})
    df_text = distinct[0] if len(distinct) == 1 else ", ".join(f"{v:.4g}" for v in df)
    note = (f"litter as random effect (REML): sd litter={sd_litter}, "
            f"sd residual={overall['sd_resid']:.3g}; GLS standard errors; t vs control "
            f"({DDF_LABELS[plan.mixed_ddf]} df {df_text}), Holm; group F "
            f"(df={overall['df']:g}, {overall['ddf']:.4g}); no trend test with the litter model")
    decision["note"] = "; ".join(x for x in (decision["note"], note) if x)
    return comp, None


def _censored(groups: list[np.ndarray], routed: cens.Routed, keep: list[int],
              alternative: str, plan: StatisticsPlan,
              decision: dict[str, object]) -> tuple[Comparison, Trend | None]:
    """Censoring-aware path: weighted log-rank (one side) or Gehan-Mantel (both sides)."""
    left, right = [routed.left[i] for i in keep], [routed.right[i] for i in keep]
    if routed.side == "both":
        comp = cens.gehan_vs_control(groups, left, right, alternative=alternative)
        chi2, p, df = cens.gehan_k_sample(groups, left, right)
        how = "Gehan scores, Mantel's permutation variance"
        trend = (cens.gehan_trend(groups, left, right, alternative=alternative)
                 if plan.trend_test else None)
    else:
        flags = right if routed.side == "right" else left
        rho, side = plan.censored.rho, routed.side
        comp = cens.vs_control(groups, flags, side=side, alternative=alternative, rho=rho)
        chi2, p, df = cens.k_sample(groups, flags, side=side, rho=rho)
        how = f"weighted log-rank, {side}-censored values at their limit"
        trend = (cens.trend(groups, flags, side=side, alternative=alternative, rho=rho)
                 if plan.trend_test else None)
    decision.update(path="censored", overall_test=f"{comp.test} k-sample (chi-square, {df} df)",
                    overall_statistic=chi2, overall_p=p)
    note = (f"{comp.test} ({how}) vs control, Holm-adjusted over the {len(groups) - 1} "
            "comparisons")
    decision["note"] = "; ".join(x for x in (decision["note"], note) if x)
    return comp, trend


def _insufficient(groups: Sequence[np.ndarray]) -> str:
    n = [g.size for g in groups]
    if len(n) == 1:
        return ONE_GROUP
    if n[0] < 2:
        return f"control has n={n[0]} < 2: no comparisons"
    if sum(v >= 2 for v in n[1:]) == 0:
        return "no treated group has n >= 2: no comparisons"
    return ""


def _usable(groups: list[np.ndarray], names: Sequence[str]) -> tuple[list[int], str]:
    keep = [0] + [i for i, g in enumerate(groups) if i > 0 and g.size >= 2]
    dropped = [names[i] for i in range(1, len(groups)) if i not in keep]
    if not dropped:
        return keep, ""
    if len(dropped) == 1:
        return keep, f"group {dropped[0]} has n < 2 and is not tested"
    return keep, f"groups {', '.join(dropped)} have n < 2 and are not tested"


def _group_names(names: Sequence[str] | None, doses: np.ndarray | None, k: int) -> list[str]:
    """How notes name the groups: ``names``, else the dose, else the 1-based position."""
    if names is not None:
        if len(names) != k:
            raise ValueError(f"{len(names)} group names for {k} samples")
        return [str(x) for x in names]
    if doses is not None and len(doses) == k:
        return ["control" if i == 0 else f"at dose {d:g}" for i, d in enumerate(doses)]
    return ["control" if i == 0 else f"no. {i + 1} (control = no. 1)" for i in range(k)]


def _log(groups: list[np.ndarray], decision: dict[str, object]) -> list[np.ndarray]:
    if all(np.all(g > 0) for g in groups):
        decision["transform"] = "log"
        return [np.log(g) for g in groups]
    decision["note"] = "log transform skipped: non-positive values"
    return groups


def compare_to_control(samples: Sequence[Sequence[float]], *, data_type: str = "continuous",
                       alternative: str = "two-sided", plan: StatisticsPlan | None = None,
                       doses: Sequence[float] | None = None,
                       log_transform: bool = False,
                       litters: Sequence[Sequence[str]] | None = None,
                       censoring: Sequence[Sequence[str]] | None = None,
                       names: Sequence[str] | None = None) -> StratumOutcome:
    """Run the decision tree on one stratum.

    Parameters
    ----------
    samples
        Control first, then treated groups in increasing dose order. Groups with
        n < 2 are kept in the output but not tested.
    data_type
        ``continuous``/``count``/``proportion`` (decision tree), ``ordinal``
        (rank-based) or ``incidence`` (values 0/1).
    alternative
        ``"two-sided"``, ``"greater"`` or ``"less"`` (treated vs control, and the
        trend direction).
    plan
        Statistical plan (defaults of :class:`~neurotox.study.StatisticsPlan`).
    doses
        Doses of the groups (scores of the Cochran-Armitage test).
    log_transform
        Analyse log values (skipped with a note when a value is <= 0).
    litters
        Litter of every value (same shapes as ``samples``): continuous data are then
        compared with a mixed model with litter as random effect
        (:func:`~neurotox.stats.mixed.litter_comparison`).
    censoring
        Censoring of every value (``none``/``left``/``right``, same shapes as
        ``samples``; censored values hold their limit). Handled by the plan's
        ``censored`` settings (:func:`~neurotox.stats.censored.route`): left-censored
        values substituted or excluded, or the stratum goes to the censoring-aware
        path (weighted log-rank tests); the decision's ``censoring`` entry says which.
    names
        Group IDs (same order as ``samples``), used where the decision's note names a
        group (a group with n < 2 is not tested); default the dose ("at dose 30").

    Returns
    -------
    StratumOutcome
        Decision record and per-group results.

    Notes
    -----
    Continuous path: Shapiro-Wilk on the residuals from the group means and Levene's
    test (median-centred, Brown-Forsythe) at the plan's levels; both pass →
    one-way ANOVA + Dunnett; otherwise Kruskal-Wallis + Dunn (Holm over the k
    comparisons with control) or Steel. Trend: Williams (parametric path),
    Shirley-Williams (nonparametric path) or Jonckheere-Terpstra (plan or ordinal).
    Incidence: Fisher exact per group (unadjusted) and Cochran-Armitage with the
    doses as scores (exact when N <= :data:`CA_EXACT_MAX_N`).

    References
    ----------
    OECD (2014). Guidance Document 116 on the conduct and design of chronic
    toxicity and carcinogenicity studies, section 4 (statistical decision tree).

    """
    plan = plan or StatisticsPlan()
    unordered = ""
    dose_values = None if doses is None else np.asarray(doses, dtype=float)
    if plan.trend_test and dose_values is not None and len(dose_values) >= 2 and \
            not np.all(np.diff(dose_values) > 0):
        # a dose-trend test needs groups in increasing dose order (not: sham, model, drug)
        plan = plan.model_copy(update={"trend_test": False})
        unordered = ("no trend test: every group has the same dose (or none)"
                     if np.all(dose_values == dose_values[0]) else
                     "no trend test: the groups are not ordered by increasing dose")
    groups = [np.asarray(s, dtype=float).ravel() for s in samples]
    sided = "two" if alternative == "two-sided" else "one"
    decision = _base_decision("insufficient_data", sided, plan.alpha)
    outcome = _blank(len(groups), decision)
    routed = None
    if censoring is not None and data_type != "incidence":
        routed = cens.route(groups, censoring, policy=plan.censored.policy,
                            rank_test_above=plan.censored.rank_test_above,
                            names=_group_names(names, dose_values, len(groups)))
        groups = routed.groups
        decision["censoring"] = routed.note
    reason = _insufficient(groups)
    if reason:
        decision["note"] = reason
        return outcome
    keep, note = _usable(groups, _group_names(names, dose_values, len(groups)))
    decision["note"] = note
    used = [groups[i] for i in keep]
    if data_type == "incidence":
        dose_arr = np.asarray(doses if doses is not None else range(len(groups)), float)[keep]
        comp, trend = _incidence(used, dose_arr, alternative, plan, decision)
    else:
        ranked = routed is not None and routed.mode == "test"
        if log_transform and not ranked:
            used = _log(used, decision)
        if np.ptp(np.concatenate(used)) == 0:
            decision["note"] = "all values are identical: no comparisons"
            return outcome
        if ranked:
            if litters is not None:
                decision["note"] = "; ".join(x for x in (
                    decision["note"], "litter not modelled by the censoring-aware test") if x)
            comp, trend = _censored(used, routed, keep, alternative, plan, decision)
        elif litters is not None and data_type != "ordinal":
            comp, trend = _litter_mixed(used, [litters[i] for i in keep], alternative, decision,
                                        plan)
        else:
            comp, trend = _continuous(used, alternative, plan, decision,
                                      ordinal=data_type == "ordinal")
    if unordered:
        decision["note"] = "; ".join(x for x in (decision["note"], unordered) if x)
    sub = _fill(_blank(len(keep), decision), comp, trend, plan.alpha)
    return _expand(outcome, sub, keep)


def _expand(outcome: StratumOutcome, sub: StratumOutcome, keep: list[int]) -> StratumOutcome:
    for pos, i in enumerate(keep):
        outcome.test[i] = sub.test[pos]
        outcome.statistic[i] = sub.statistic[pos]
        outcome.p_value[i] = sub.p_value[pos]
        outcome.trend_statistic[i] = sub.trend_statistic[pos]
        outcome.trend_p[i] = sub.trend_p[pos]
        outcome.trend_flag[i] = sub.trend_flag[pos]
    global_trend = sub.trend_statistic.size and np.isfinite(sub.trend_statistic[0])
    if global_trend:  # a global trend test is repeated on every row, untested ones too
        outcome.trend_statistic[:] = sub.trend_statistic[0]
        outcome.trend_p[:] = sub.trend_p[0]
        outcome.trend_flag = [sub.trend_flag[0]] * len(outcome.trend_flag)
    outcome.decision = sub.decision
    return outcome
