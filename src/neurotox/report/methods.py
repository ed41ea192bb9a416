"""The statistical methods section, written from the decisions actually taken.

Each paragraph describes a path of the decision tree that was used for at least
one endpoint, naming the pre-tests, the tests and the endpoints concerned, so
that the text matches the analysis that produced the tables.
"""

from __future__ import annotations

import math

import pandas as pd

from neurotox.report.tables import SIDED, label_of, pups_text
from neurotox.study import StatisticsPlan

PATH_TEXT = {
    "parametric": "normally distributed data with homogeneous variances were compared "
                  "with the control by",
    "nonparametric": "data failing the normality or variance-homogeneity pre-test were "
                     "compared with the control by",
    "incidence": "incidence data (number of affected subjects) were compared with the "
                 "control by",
    "ordinal": "ordinal scores were compared with the control by",
    "censored": "censored data (values below a limit of quantification or above a cut-off, "
                "at their limit) were compared with the control by the weighted log-rank "
                "family (Holm-adjusted over the comparisons with control):",
    "repeated_measures": "repeated measurements of the same subject were analysed by",
    "ancova": "endpoints with a covariate were compared with the control by analysis of "
              "covariance (Dunnett-type single-step adjustment over the comparisons with "
              "control; the tables show the unadjusted means and spread and, beside them, "
              "the adjusted means, which carry the flags):",
}

#: Software named in the methods section: what the analysis and figures actually used.
SOFTWARE = ("neurotox", "python", "numpy", "scipy", "statsmodels", "scikit-posthocs",
            "pandas", "matplotlib")


def _s(v: object) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return ""
    return str(v)


def _unique(values: pd.Series) -> list[str]:
    return sorted({_s(v) for v in values} - {"", "none", "nan"})


def _endpoint_list(part: pd.DataFrame) -> str:
    return ", ".join(sorted({label_of(str(e)) for e in part["endpoint"]}))


def _pretest_paragraph(decisions: pd.DataFrame, plan: StatisticsPlan) -> list[str]:
    cont = decisions[decisions["path"].isin(["parametric", "nonparametric"])]
    if not len(cont):
        return []
    normality = " or ".join(_unique(cont["normality_test"])) or "no normality test"
    homogeneity = " or ".join(_unique(cont["homogeneity_test"])) or "no homogeneity test"
    if plan.force_path:
        return [f"Continuous endpoints were analysed on the {plan.force_path} path as set "
                "in the statistical plan, without pre-tests."]
    return [f"For continuous endpoints, normality was assessed with {normality} "
            f"(α = {plan.normality_alpha:g}) and homogeneity of variances with "
            f"{homogeneity} (α = {plan.homogeneity_alpha:g}); the outcome selected the "
            "parametric or the non-parametric path for each endpoint, sex and timepoint."]


def _path_paragraph(path: str, part: pd.DataFrame) -> str:
    n = len(part)
    if path == "insufficient_data":
        from neurotox.stats.tree import ONE_GROUP

        one = part["note"].map(_s).str.startswith(ONE_GROUP)
        texts = []
        if one.any():
            k = int(one.sum())
            texts.append(f"No comparison between groups was made for {k} "
                         f"{'analyses' if k != 1 else 'analysis'} with one group only "
                         f"({_endpoint_list(part[one])}); where the protocol sets a reference "
                         "value (chance, 0), each group was tested against it (one-sample "
                         "tables).")
        if (~one).any():
            k = int((~one).sum())
            texts.append(f"No test was performed for {k} {'analyses' if k != 1 else 'analysis'} "
                         f"({_endpoint_list(part[~one])}); the tables say \"not tested\" "
                         "and why.")
        return " ".join(texts)
    overall = _unique(part["overall_test"])
    pairwise = _unique(part["pairwise_test"])
    tests = []
    if overall:
        tests.append(" / ".join(overall))
    if pairwise:
        tests.append(("followed by " if overall else "") + " / ".join(pairwise) + " vs control")
    lead = PATH_TEXT.get(path, f"{path.replace('_', ' ')} data were analysed by")
    text = f"{lead[0].upper()}{lead[1:]} {' '.join(tests) or 'no test'}"
    return (f"{text} ({n} {'analyses' if n != 1 else 'analysis'}: {_endpoint_list(part)}).")


def _trend_paragraph(decisions: pd.DataFrame) -> list[str]:
    # a test that could not run (e.g. Cochran-Armitage with no affected animal) was not used
    trend = [t for t in _unique(decisions["trend_test"]) if not t.endswith("(not testable)")]
    if not trend:
        return []
    text = f"Dose-related trends were tested with {', '.join(trend)}."
    if any(t.startswith(("Williams", "Shirley-Williams")) for t in trend):
        text += (" Williams-type tests step down from the highest dose: the p-value of a "
                 "dose is step-down adjusted (the largest p of that dose and every higher "
                 "dose), so its flag is the step-down's decision.")
    return [text]


def _transform_paragraph(decisions: pd.DataFrame) -> list[str]:
    out = []
    for t in _unique(decisions["transform"]):
        part = decisions[decisions["transform"].map(_s) == t]
        out.append(f"Values of {_endpoint_list(part)} were {t}-transformed before analysis.")
    return out


def _multiplicity_paragraph(decisions: pd.DataFrame, plan: StatisticsPlan) -> list[str]:
    """What the p-values are adjusted for, and what they are not adjusted for."""
    tested = decisions[(decisions["timepoint"].astype(str) != "ALL")
                       & (decisions["path"].map(_s) != "insufficient_data")]
    if len(tested) < 2:
        return []
    return [f"P-values are adjusted for the comparisons of the dose groups with control within "
            f"each endpoint, sex and timepoint (as stated for each test), not across endpoints, "
            f"sexes or timepoints, as is usual in toxicology: among the {len(tested)} analyses "
            f"of this report some p ≤ {plan.alpha:g} are expected by chance alone, so a single "
            "finding is judged with its dose-response and its consistency across sexes, "
            "timepoints and related endpoints."]


def design_paragraph(plan: StatisticsPlan, sexes: set[str], *, spread: str = "sd",
                     litters: tuple[int | None, int] | None = None,
                     litter_model: bool = False) -> str:
    """How sexes and litters entered the analysis, and which spread the tables show.

    Parameters
    ----------
    plan
        The statistical plan.
    sexes
        Sexes present in the results (``{"NA"}`` for cell cultures, larvae, pooled data).
    spread
        ``sd`` or ``sem``.
    litters
        (pups, litters) when litter means were the unit of analysis (pups None
        when not known).
    litter_model
        Litter entered as a random effect.

    """
    if plan.pool_sexes:
        sex = "Sexes were pooled."
    elif sexes >= {"M", "F"}:
        sex = "Sexes were analysed separately."
    elif sexes & {"M", "F"}:
        sex = f"Only {'males' if 'M' in sexes else 'females'} were tested."
    else:
        sex = ""  # cell cultures, larvae: sex is not a factor of the design
    parts = [sex] if sex else []
    if litters is not None:
        parts.append(f"The litter was the unit of analysis (OECD TG 426): the values of the "
                     f"pups of a litter were averaged and the litter means compared, so n is "
                     f"the number of litters ({pups_text(*litters)}).")
    elif litter_model:
        parts.append("Pups were analysed with the litter as a random effect (OECD TG 426).")
    word = {"sd": "standard deviation (SD)", "sem": "standard error of the mean (SEM)"}[spread]
    parts.append(f"Tables and figures show group means ± {word}.")
    return " ".join(parts)


def methods_section(decisions: pd.DataFrame, plan: StatisticsPlan,
                    software: dict[str, str], design: str = "") -> list[str]:
    """Paragraphs of the statistical methods section.

    Parameters
    ----------
    decisions
        Decision records of :func:`neurotox.stats.analyse` (one per endpoint × sex ×
        timepoint, plus ``ALL`` rows for mixed models).
    plan
        The study's statistical plan (α, sidedness, pooling).
    software
        Software versions (from the run manifest).
    design
        Sentences on sexes, litters and spread (:func:`design_paragraph`).

    Returns
    -------
    list of str
        Paragraphs, in reading order.

    """
    paras = [f"Group comparisons with the concurrent control used α = {plan.alpha:g}, "
             f"{SIDED[plan.sided]}." + (f" {design}" if design else "")]
    if decisions is not None and len(decisions):
        paras += _pretest_paragraph(decisions, plan)
        present = set(decisions["path"].map(_s)) - {""}
        others = sorted(present - set(PATH_TEXT) - {"insufficient_data"})
        for path in (*PATH_TEXT, *others, "insufficient_data"):  # every path that was used
            part = decisions[decisions["path"] == path]
            if len(part):
                paras.append(_path_paragraph(path, part))
        paras += _trend_paragraph(decisions)
        paras += _transform_paragraph(decisions)
        paras += _multiplicity_paragraph(decisions, plan)
    paras.append(f"In the tables, * marks p ≤ {plan.alpha:g} and ** p ≤ 0.01; arrows give "
                 "the direction of the difference from control.")
    versions = ", ".join(f"{k} {software[k]}" for k in SOFTWARE
                         if software.get(k) not in (None, "not installed"))
    paras.append(f"Software: {versions}.")
    return paras

