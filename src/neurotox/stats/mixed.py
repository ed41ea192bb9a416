"""Linear mixed models: repeated measures (per subject) and litters (random intercept).

The models are fitted by REML (:mod:`neurotox.stats.reml`); the fixed effects are
tested by Wald F and t tests on their GLS covariance ``(X' V^-1 X)^-1`` with the
denominator degrees of freedom of :mod:`neurotox.stats.ddf`.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats as sps

from neurotox.endpoints import Endpoint
from neurotox.stats import ddf as ddf_mod
from neurotox.stats import reml as reml_mod
from neurotox.stats._common import Comparison, estimable_columns, holm
from neurotox.study import StatisticsPlan
from neurotox.timepoints import TimeOrder

#: Covariance choices of :func:`mixed_model` (``aic``: the lowest AIC among the fitted).
COVARIANCES = (*reml_mod.STRUCTURES, "aic")

#: Display names of the covariance structures.
COVARIANCE_LABELS = {"compound_symmetry": "compound symmetry (random intercept)",
                     "ar1": "AR(1)", "unstructured": "unstructured"}

#: Largest number of timepoints for which an unstructured covariance is fitted.
UNSTRUCTURED_MAX_TIMES = 12


@dataclass(frozen=True)
class MixedModelResult:
    """A fitted linear mixed model.

    Attributes
    ----------
    params, bse
        Fixed-effect estimates and their GLS standard errors (patsy names).
    cov_params
        GLS covariance ``(X' V^-1 X)^-1`` of the fixed effects.
    llf
        Log-likelihood (REML or ML, as fitted; nlme's convention).
    sd_random, sd_resid
        Standard deviations of the random intercept and of the residual
        (compound symmetry; ``sd_resid`` also for AR(1); NaN where not defined).
    interaction
        Wald test of all interaction terms (names containing ``:``): ``F``,
        numerator ``df``, denominator ``ddf``, ``p``; ``chi2`` and its asymptotic
        ``p_chi2`` (NaN if there are no such terms).
    main_effect
        The same for the group main-effect terms.
    converged
        The optimiser reported convergence; ``warnings`` says otherwise.
    reml
        Fitted by REML (True) or ML.
    covariance
        Residual covariance structure used (:data:`COVARIANCES` without ``aic``).
    ddf_method
        Denominator degrees-of-freedom method (:data:`neurotox.stats.ddf.DDF_METHODS`).
    theta
        Variance parameters by name.
    boundary
        Names of variance parameters on the boundary of the parameter space
        (``var_random`` when the REML optimum has no between-subject variance).
    aic
        AIC of the fit; ``aic_by_structure`` lists every structure compared when
        the covariance was chosen by AIC.
    aliased
        Fixed-effect columns dropped because they are aliased with earlier ones
        (lme4's rule, :func:`~neurotox.stats._common.estimable_columns`);
        ``params`` has no entry for them.
    empty_cells
        Group x time combinations without data (default formula), the usual
        cause of aliased columns: a group terminated early, a timepoint held by
        one group only.
    time_levels
        The timepoints in the time order the fit used (:func:`_levels`; empty
        without a time column): AR(1) lags and unstructured covariances count
        in this order. ``time_unordered``: the labels whose time order cannot be
        read from the protocol or the labels (:func:`neurotox.timepoints.unordered`;
        among themselves they are in text order).

    Notes
    -----
    With the containment method, ``ddf`` is nlme's: subjects − groups for the
    between-subject group effect, observations − subjects − groups × (times − 1)
    for the within-subject interaction (the split-plot ANOVA's error df, so that
    for balanced data with a positive subject variance the F tests are the exact
    split-plot tests). When it cannot be derived (custom formula) ``p`` is the
    χ² p-value. With empty group x time cells the within-subject df counts the
    estimable columns only (observations − subjects − time and interaction
    columns kept), and both effects are tested on lmerTest's type III
    contrasts (the group effect is then a hypothesis on the cells present:
    "interpret type III hypotheses with care", as lmerTest says).

    """

    params: pd.Series
    bse: pd.Series
    llf: float
    sd_random: float
    sd_resid: float
    interaction: dict[str, float]
    main_effect: dict[str, float]
    converged: bool
    reml: bool
    warnings: list[str] = field(default_factory=list)
    covariance: str = "compound_symmetry"
    ddf_method: str = "containment"
    theta: dict[str, float] = field(default_factory=dict)
    boundary: tuple[str, ...] = ()
    aic: float = np.nan
    aic_by_structure: dict[str, float] = field(default_factory=dict)
    cov_params: pd.DataFrame | None = None
    aliased: tuple[str, ...] = ()
    empty_cells: tuple[tuple[object, object], ...] = ()
    time_levels: tuple[object, ...] = ()
    time_unordered: tuple[str, ...] = ()
    fit: reml_mod.RemlFit | None = field(default=None, repr=False, compare=False)


def _containment_ddf(data: pd.DataFrame, subject: str, group: str,
                     time: str | None, n_within: int | None = None) -> tuple[float, float]:
    """Denominator df (nlme's rule) of the between- and within-subject (interaction) tests.

    ``n_within``: number of within-subject fixed-effect columns (time and
    interaction) that are estimable; default groups x (timepoints - 1).
    """
    n_sub = data[subject].nunique()
    n_grp = data[group].nunique() if group in data else np.nan
    between = float(n_sub - n_grp)
    if time is None or time not in data:
        return between, np.nan
    if n_within is None:
        n_within = n_grp * (data[time].nunique() - 1)
    return between, float(len(data) - n_sub - n_within)


def _levels(data: pd.DataFrame, time: str) -> list[object]:
    """The time levels in time order: the protocol's (column ``time_order``), else the labels'.

    :class:`neurotox.timepoints.TimeOrder`; the order AR(1) lags count in.
    """
    return TimeOrder.of(data, time).order(data[time])


def _time_index(data: pd.DataFrame, subject: str, time: str | None,
                levels: list[object]) -> tuple[np.ndarray, np.ndarray]:
    """Time level index and time value of every row.

    ``levels`` are the time levels in time order (:func:`_levels`); the
    value is the time itself when the column is numeric, else the level index.
    Without a time column each subject's rows are numbered (litter models).
    """
    if time is None or time not in data:
        level = data.groupby(subject, sort=False).cumcount().to_numpy()
        return level, level.astype(float)
    level = data[time].map({v: i for i, v in enumerate(levels)}).to_numpy(int)
    if pd.api.types.is_numeric_dtype(data[time]):
        return level, data[time].to_numpy(float)
    return level, level.astype(float)


def empty_cells(data: pd.DataFrame, group: str, time: str,
                levels: list[object] | None = None) -> list[tuple[object, object]]:
    """The group x time combinations without any value (sorted, time in time order).

    ``levels``: the time levels in time order, when the caller has them (:func:`_levels`).
    """
    times = _levels(data, time) if levels is None else levels
    held = set(zip(data[group], data[time], strict=True))
    return [(g, t) for g in sorted(set(data[group]), key=str) for t in times
            if (g, t) not in held]


def _statsmodels_ratio(y: np.ndarray, x: np.ndarray, groups: np.ndarray, reml: bool) -> list:
    """Variance ratio of statsmodels MixedLM, s_b^2 / s^2 (a starting value); [] on failure.

    ``x`` is the design without aliased columns. Tried with BFGS, L-BFGS and
    Powell in turn; their warnings are not reported because the REML optimum is
    then checked from further starting points. A residual variance of 0 (no
    variation left) gives no starting value.
    """
    # deferred, and not statsmodels.formula.api (which imports every model family)
    from statsmodels.regression.mixed_linear_model import MixedLM

    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        model = MixedLM(y, x, groups=groups)
        for method in ("bfgs", "lbfgs", "powell"):
            try:
                fit = model.fit(reml=reml, method=method)
            except (np.linalg.LinAlgError, ValueError):
                continue
            scale = float(fit.scale)
            if not scale > 0:
                return []
            ratio = float(np.asarray(fit.cov_re)[0, 0]) / scale
            return [[max(ratio, 0.0)]] if np.isfinite(ratio) else []
    return []


def _unstructured_problem(design: reml_mod.Design) -> str:
    t = design.n_levels
    if t > UNSTRUCTURED_MAX_TIMES:
        return f"{t} timepoints (at most {UNSTRUCTURED_MAX_TIMES})"
    if design.n_subjects <= t + 1:
        return f"{design.n_subjects} subjects for {t} timepoints"
    return ""


def _fit_structures(design: reml_mod.Design, covariance: str, reml: bool,
                    sm_start: Any) -> tuple[reml_mod.RemlFit, dict[str, float], list[str]]:
    """Fit the requested structure, or every feasible one and keep the lowest AIC."""
    wanted = reml_mod.STRUCTURES if covariance == "aic" else (covariance,)
    fits, notes = {}, []
    for name in wanted:
        if name != "compound_symmetry" and design.n_levels < 2:
            problem = "fewer than 2 timepoints"
        elif name == "unstructured":
            problem = _unstructured_problem(design)
        else:
            problem = ""
        if problem:
            if covariance != "aic":
                raise ValueError(f"{COVARIANCE_LABELS[name]} covariance cannot be fitted: "
                                 f"{problem}")
            notes.append(f"{COVARIANCE_LABELS[name]} not fitted ({problem})")
            continue
        starts = sm_start() if name == "compound_symmetry" else []
        fits[name] = reml_mod.fit_reml(design, name, reml=reml, starts=starts)
    best = min(fits.values(), key=lambda f: f.aic)
    aics = {k: f.aic for k, f in fits.items()} if covariance == "aic" else {}
    return best, aics, notes


def mixed_model(data: pd.DataFrame, formula: str | None = None, *, subject: str = "subject",
                group: str = "group", time: str = "timepoint", control: str | None = None,
                reml: bool = True, covariance: str = "compound_symmetry",
                ddf: str = "containment") -> MixedModelResult:
    """Fit a linear mixed model for repeated measures (or litters) and test its effects.

    Parameters
    ----------
    data
        Long table, one row per subject x time.
    formula
        Patsy formula of the fixed effects; default
        ``value ~ C(group, Treatment(control)) * C(timepoint, Sum)``: with time in
        sum-to-zero coding the group coefficients are the differences from
        control averaged over timepoints, so the group main-effect test is the
        split-plot ANOVA's between-subject test.
    subject
        Column identifying the subjects (animal; litter for litter models).
    group, time
        Columns used by the default formula; ``time`` also orders the
        timepoints for AR(1) and unstructured covariances: the protocol's order
        when ``data`` has a ``time_order`` column (the EndpointTable's), else the
        labels' (:class:`neurotox.timepoints.TimeOrder`: ``day-1`` before
        ``day3``, ``pre`` before ``day1``, ``post`` after ``day21``). AR(1)
        lags are positions apart in that order (nlme ``corAR1``) for text labels,
        which is what the EndpointTable holds, also ``"-1"`` or ``"day3"``; only a
        numeric column (a library caller's) is used as distance in its own units
        (nlme ``corCAR1``).
    control
        Reference level of the group factor (default: first level).
    reml
        Fit by REML (default) or ML.
    covariance
        ``compound_symmetry`` (random intercept per subject), ``ar1``,
        ``unstructured`` or ``aic`` (every structure that can be fitted, the lowest
        AIC kept); see :mod:`neurotox.stats.reml`.
    ddf
        Denominator df: ``containment``, ``satterthwaite`` or ``kenward_roger``
        (:mod:`neurotox.stats.ddf`).

    Returns
    -------
    MixedModelResult
        Estimates with GLS standard errors, likelihood, variance parameters and
        Wald F tests of the interaction and of the group main effect.

    Raises
    ------
    ValueError
        Unknown covariance or ddf method, a structure that cannot be fitted to
        these data, or a subject with two values at one timepoint.
    numpy.linalg.LinAlgError
        The model cannot be fitted.

    Notes
    -----
    Aliased fixed-effect columns (a group without data at a timepoint, a
    timepoint held by one group) are dropped as lme4 does
    (:func:`~neurotox.stats._common.estimable_columns`) and listed in ``aliased``
    and the warnings; the model is then fitted to the estimable columns, as ``lmer`` is. nlme's
    ``lme`` and ``gls`` stop instead ("Singularity in backsolve").

    References
    ----------
    Pinheiro JC, Bates DM (2000). Mixed-Effects Models in S and S-PLUS. Springer.
    Littell RC, Pendergast J, Natarajan R (2000). Modelling covariance structure
    in the analysis of repeated measures data. Statistics in Medicine 19:1793-1819.

    """
    import patsy  # deferred: only needed here

    if covariance not in COVARIANCES:
        raise ValueError(f"covariance must be one of {COVARIANCES}, found {covariance!r}")
    if ddf not in ddf_mod.DDF_METHODS:
        raise ValueError(f"ddf must be one of {ddf_mod.DDF_METHODS}, found {ddf!r}")
    default = formula is None
    if formula is None:
        # time in sum-to-zero coding: the group terms are then group differences
        # averaged over time (the split-plot main effect), not at the first time
        ref = f", Treatment({control!r})" if control is not None else ""
        formula = f"value ~ C({group}{ref}) * C({time}, Sum)"
    data = data.reset_index(drop=True)
    y, x = patsy.dmatrices(formula, data, return_type="dataframe", NA_action="raise")
    keep = estimable_columns(x.to_numpy())
    aliased = tuple(c for i, c in enumerate(x.columns) if i not in keep)
    x = x.iloc[:, keep]
    names = list(x.columns)
    within_cols = sum(f"C({time}" in n for n in names) if default else None
    between_ddf, within_ddf = _containment_ddf(data, subject, group,
                                               time if default else None, within_cols)
    # the one time order of this fit (:func:`_levels`), and the labels it cannot place
    order = TimeOrder.of(data, time) if time in data else None
    levels = order.order(data[time]) if order is not None else []
    unordered = tuple(order.unordered(data[time])) if order is not None else ()
    level, tvalue = _time_index(data, subject, time, levels)
    design = reml_mod.make_design(y.to_numpy().ravel(), x.to_numpy(), data[subject].to_numpy(),
                                  level, tvalue)
    fit, aics, notes = _fit_structures(
        design, covariance, reml,
        lambda: _statsmodels_ratio(y.to_numpy().ravel(), x.to_numpy(),
                                   data[subject].to_numpy(), reml))
    cells = tuple(empty_cells(data, group, time, levels)) if default else ()
    if aliased:
        notes.append(_aliased_note(aliased, cells))
    inter = [i for i, n in enumerate(names) if ":" in n]
    main = [i for i, n in enumerate(names)
            if ":" not in n and n.startswith((f"C({group}", group))]
    rows = {"inter": np.eye(len(names))[inter], "main": np.eye(len(names))[main]}
    if ddf == "satterthwaite" or (aliased and default):
        rows.update(_lmertest_rows(data, x.to_numpy(), group, time, levels, control, main,
                                   default))
    theta = dict(zip(fit.labels, map(float, fit.theta), strict=True))
    return MixedModelResult(
        params=pd.Series(fit.beta, index=names),
        bse=pd.Series(np.sqrt(np.diag(fit.cov_beta)), index=names),
        cov_params=pd.DataFrame(fit.cov_beta, index=names, columns=names),
        llf=float(fit.llf),
        sd_random=float(np.sqrt(theta["var_random"])) if "var_random" in theta else np.nan,
        sd_resid=float(np.sqrt(theta["var_residual"])) if "var_residual" in theta else np.nan,
        interaction=ddf_mod.wald_test(fit, rows["inter"], method=ddf, containment_ddf=within_ddf),
        main_effect=ddf_mod.wald_test(fit, rows["main"], method=ddf,
                                      containment_ddf=between_ddf if group in data else np.nan),
        converged=fit.converged, reml=reml,
        warnings=notes + ([] if fit.converged else ["optimiser did not report convergence"]),
        covariance=fit.structure, ddf_method=ddf, theta=theta,
        boundary=tuple(lab for lab, b in zip(fit.labels, fit.on_boundary, strict=True) if b),
        aic=float(fit.aic), aic_by_structure=aics, aliased=aliased, empty_cells=cells,
        time_levels=tuple(levels), time_unordered=unordered, fit=fit)


def _aliased_note(aliased: tuple[str, ...], cells: tuple[tuple[object, object], ...]) -> str:
    """Fit warning for dropped columns: how many, and the empty cells behind them."""
    text = (f"{len(aliased)} aliased fixed-effect column(s) dropped (as lme4); "
            "type III tests on the estimable cells")
    if cells:
        shown = ", ".join(f"{g} x {t}" for g, t in cells[:6])
        more = f" and {len(cells) - 6} more" if len(cells) > 6 else ""
        text = f"no data in group x time cell(s) {shown}{more}: " + text
    return text


def _lmertest_rows(data: pd.DataFrame, x: np.ndarray, group: str, time: str,
                   times: list[object], control: str | None, main: list[int],
                   default: bool) -> dict[str, np.ndarray]:
    """Contrast bases of lmerTest's anova (they set the Satterthwaite df of multi-df tests).

    ``times``: the time levels in time order (:func:`_levels`).
    """
    if default:
        levels = [control, *sorted(set(data[group]) - {control})] if control is not None \
            else sorted(set(data[group]))
        g = data[group].map({v: i for i, v in enumerate(levels)}).to_numpy(int)
        t = data[time].map({v: i for i, v in enumerate(times)}).to_numpy(int)
        basis = ddf_mod.type3_contrasts(g, t, x)
        return {"main": basis["group"], "inter": basis["group:time"]}
    if main and len(main) == x.shape[1] - 1:  # one term besides the intercept
        return {"main": ddf_mod.sequential_contrasts(x, main)}
    return {}


# ---------------------------------------------------------------- repeated measures


def repeated_measures_decision(df: pd.DataFrame, registry: Mapping, plan: StatisticsPlan,
                               order: Mapping[str, tuple]) -> list[dict[str, object]]:
    """Decision rows (``timepoint="ALL"``) of the mixed model for repeated-measures endpoints.

    Parameters
    ----------
    df
        Prepared EndpointTable (``excluded`` covers non-finite values).
    registry
        Endpoint definitions; those with ``repeated_measures`` are modelled.
    plan
        Statistical plan (alpha, ``repeated_covariance``, ``mixed_ddf``).
    order
        Group id → (rank, dose, dose_unit, is_control).

    Returns
    -------
    list of dict
        One decision row per endpoint x sex with at least two timepoints.

    """
    return [repeated_measures_row(t) for t in repeated_measures_tasks(df, registry, plan, order)]


def repeated_measures_tasks(df: pd.DataFrame, registry: Mapping, plan: StatisticsPlan,
                            order: Mapping[str, tuple]) -> list[tuple]:
    """The models of :func:`repeated_measures_decision`, one picklable task each, in row order."""
    rm = [e for e in df["endpoint"].unique() if registry[e].repeated_measures]
    if not rm:
        return []
    controls = [g for g, o in order.items() if o[3]]  # ranked: the first is the primary one
    control, further = (controls[0] if controls else None), set(controls[1:])
    inc = df[~df["excluded"] & df["endpoint"].isin(rm)]
    tasks = []
    for key, sub in inc.groupby(["study_id", "assay", "endpoint", "sex"], sort=False):
        # further controls are not compared: they stay out of the model that gates the comparisons
        present = set(sub["group"])
        left_out = tuple(g for g in controls[1:] if g in present)
        sub = sub[~sub["group"].isin(further)]
        if sub["timepoint"].nunique() >= 2:
            tasks.append((key, sub, registry[key[2]], plan, control, left_out))
    return tasks


def repeated_measures_row(task: tuple) -> dict[str, object]:
    """The decision row of one task of :func:`repeated_measures_tasks`."""
    return _rm_row(*task)


def _rm_base(key: tuple, ep: Endpoint, plan: StatisticsPlan) -> dict[str, object]:
    row: dict[str, object] = {
        "study_id": key[0], "assay": key[1], "endpoint": key[2], "sex": key[3],
        "timepoint": "ALL", "data_type": ep.data_type.value, "path": "repeated_measures",
        "transform": "log" if ep.name in plan.log_transform else "none", "sided": "two",
        "alpha": plan.alpha, "pairwise_test": "", "trend_test": "",
        "trend_statistic": np.nan, "trend_p": np.nan,
        "overall_test": "MixedLM group x time interaction (Wald F)"}
    for c in ("normality", "homogeneity"):
        row.update({f"{c}_test": "", f"{c}_statistic": np.nan, f"{c}_p": np.nan})
    return row


def _fit_description(fit: MixedModelResult) -> str:
    """How the model was fitted: covariance (and why), df method, boundary estimates."""
    label = COVARIANCE_LABELS[fit.covariance]
    if fit.aic_by_structure:
        aics = ", ".join(f"{COVARIANCE_LABELS[k]} {v:.1f}"
                         for k, v in fit.aic_by_structure.items())
        text = f"covariance {label} (lowest AIC: {aics})"
    else:
        text = f"covariance {label} (statistical plan)"
    text += f"; {ddf_mod.DDF_LABELS[fit.ddf_method]} denominator df"
    if fit.boundary:
        text += "; " + ", ".join(f"{b.replace('var_', '')} variance on the boundary (0)"
                                 for b in fit.boundary)
    return text


def _rm_row(key: tuple, sub: pd.DataFrame, ep: Endpoint, plan: StatisticsPlan,
            control: str | None, left_out: tuple[str, ...] = ()) -> dict[str, object]:
    row = _rm_fit(sub, _rm_base(key, ep, plan), ep, plan, control)
    if left_out:  # taken out of ``sub`` by repeated_measures_tasks
        row["note"] = "; ".join(x for x in (
            row["note"], f"further control group(s) {', '.join(left_out)} not compared: "
            "left out of the model") if x)
    return row


def _rm_fit(sub: pd.DataFrame, row: dict[str, object], ep: Endpoint, plan: StatisticsPlan,
            control: str | None) -> dict[str, object]:
    data = sub[["value", "group", "timepoint", "subject",
                *(["time_order"] if "time_order" in sub else [])]].copy()
    log_note = ""
    if row["transform"] == "log":
        if (data["value"] > 0).all():
            data["value"] = np.log(data["value"])
        else:
            row["transform"] = "none"
            log_note = "log transform not applied: values <= 0 present; "
    if np.ptp(data["value"].to_numpy(float)) == 0:
        row.update(path="insufficient_data", overall_statistic=np.nan, overall_p=np.nan,
                   note=f"{log_note}all values are identical: not tested")
        return row
    enough = data.groupby("group")["subject"].nunique()
    if data["group"].nunique() < 2 or (enough < 2).any() or control not in set(data["group"]):
        row.update(path="insufficient_data", overall_statistic=np.nan, overall_p=np.nan,
                   note="mixed model needs a control and >= 2 subjects per group")
        return row
    try:
        fit = mixed_model(data, control=control, covariance=plan.repeated_covariance,
                          ddf=plan.mixed_ddf)
    except (np.linalg.LinAlgError, ValueError) as exc:
        row.update(path="insufficient_data", overall_statistic=np.nan, overall_p=np.nan,
                   note=f"mixed model failed: {exc}")
        return row
    inter, main = fit.interaction, fit.main_effect
    sig = inter["p"] <= plan.alpha
    order = ""
    if fit.covariance == "ar1":  # the one structure whose fit depends on the order
        order = ("; AR(1) lag = positions apart in time order "
                 + " < ".join(map(str, fit.time_levels)))
        if bad := fit.time_unordered:
            order += (f" (WARNING: the labels {', '.join(map(repr, bad))} give no time order; "
                      "they are in text order)")
    note = (f"{log_note}REML, {_fit_description(fit)}{order}; interaction F={inter['F']:.3g} "
            f"(df={inter['df']:g}, {inter['ddf']:.4g}) p={inter['p']:.3g} "
            + ("<= alpha: per-timepoint comparisons apply" if sig else
               "> alpha: per-timepoint comparisons are supplementary")
            + f"; group main effect F={main['F']:.3g} (df={main['df']:g}, {main['ddf']:.4g}) "
              f"p={main['p']:.3g}")
    if fit.warnings:
        note += "; " + "; ".join(fit.warnings)
    row.update(overall_statistic=inter["F"], overall_p=inter["p"], note=note)
    return row


# ---------------------------------------------------------------- litters


def _t_p(t: np.ndarray, df: np.ndarray, alternative: str) -> np.ndarray:
    df = np.where(np.isfinite(df) & (df > 0), df, np.inf)
    if alternative == "greater":
        return sps.t.sf(t, df)
    if alternative == "less":
        return sps.t.cdf(t, df)
    return 2 * sps.t.sf(np.abs(t), df)


def litter_comparison(samples: Sequence[np.ndarray], litters: Sequence[np.ndarray], *,
                      alternative: str = "two-sided",
                      ddf: str = "containment") -> tuple[Comparison, dict[str, Any]]:
    """Compare treated groups with control using litter as a random effect.

    Fits ``value ~ group`` (treatment coding, control = first group) with a random
    intercept per litter by REML and tests each group coefficient with a t test
    on its GLS standard error, Holm-adjusted over the k comparisons with control.

    Parameters
    ----------
    samples
        Values per group, control first.
    litters
        Litter label of every value, same shapes as ``samples``.
    alternative
        ``"two-sided"``, ``"greater"`` or ``"less"``.
    ddf
        Denominator df: ``containment`` (litters − groups, as nlme),
        ``satterthwaite`` or ``kenward_roger`` (per coefficient; Kenward-Roger
        also adjusts the standard error).

    Returns
    -------
    tuple of (Comparison, dict)
        Per-group t and Holm-adjusted p (``extra``: estimate, se, ddf and raw p);
        the Wald F test of all group effects (``F``, ``df``, ``ddf``, ``p``,
        ``chi2``) plus ``sd_litter``, ``sd_resid``, ``boundary`` and ``ddf_method``.

    References
    ----------
    Haseman JK, Hogan MD (1975). Selection of the experimental unit in
    teratology studies. Teratology 12:165-171.

    """
    data = pd.DataFrame({
        "value": np.concatenate(samples),
        "group": np.repeat(np.arange(len(samples)), [len(s) for s in samples]),
        "litter": np.concatenate([np.asarray(x, dtype=str) for x in litters])})
    fit = mixed_model(data, "value ~ C(group)", subject="litter", group="group", ddf=ddf)
    names = [f"C(group)[T.{i}]" for i in range(1, len(samples))]
    cols = list(fit.params.index)
    present = [n for n in names if n in cols]
    rows = np.eye(len(cols))[[cols.index(n) for n in present]]
    tt = ddf_mod.t_tests(fit.fit, rows, method=ddf, containment_ddf=fit.main_effect["ddf"]) \
        if present else {"estimate": np.empty(0), "se": np.empty(0), "t": np.empty(0),
                         "ddf": np.empty(0)}
    t = np.full(len(names), np.nan)
    df = np.full(len(names), np.nan)
    for j, n in enumerate(present):
        t[names.index(n)], df[names.index(n)] = tt["t"][j], tt["ddf"][j]
    raw = _t_p(t, df, alternative)
    p = holm(np.nan_to_num(raw, nan=1.0))
    comp = Comparison("Mixed model (litter)", t, p, alternative, method="Wald t",
                      adjustment="holm", extra={"ddf": df, "p_raw": raw})
    return comp, {**fit.main_effect, "sd_litter": fit.sd_random, "sd_resid": fit.sd_resid,
                  "boundary": fit.boundary, "ddf_method": ddf}
