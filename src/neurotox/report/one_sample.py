"""Tests of each group against a reference value, and the sex × group ANOVA beside them.

Some endpoints are read against a fixed value rather than (only) against the
control group: spontaneous alternation against the chance level of the maze,
a NOR discrimination index against 0, a novel-arm preference against 0.5. The
registry names that value (``reference``: a number, or ``chance`` for the
chance level the assay entry records in its parameters under ``references``).
For every such endpoint in the EndpointTable the report gets one table: per
timepoint × group, both sexes pooled and (when both were tested) each sex,
n, mean, SD, the test chosen (Shapiro-Wilk → one-sample t-test or Wilcoxon
signed-rank, :func:`neurotox.stats.one_sample.one_sample_test`), its statistic
and p. When both sexes were tested in at least two groups, a second table
gives the two-way ANOVA value ~ sex × group (type II sums of squares).

Where the assay also fitted a trial-level model against the same reference
(the T-maze rewarded alternation: a logistic GEE of the individual choices,
``tmaze_trial_model``), its table follows the one-sample table: per
timepoint × group, animals, trials, the model's probability of a correct
choice, log-odds above chance, SE, z and p. It is read from the assay's detail
table, so a report from an EndpointTable alone (``--endpoints``) has no trial
table to show it from.

The tables are computed from the EndpointTable alone, so a report from an
EndpointTable (``--endpoints``) shows them as a report that ran the assays.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import pandas as pd

from neurotox import endpoints as ep_registry
from neurotox.report.context import Context
from neurotox.report.model import Cell, Row, Table, fmt, fmt_p, fmt_sig
from neurotox.report.tables import (
    group_text,
    label_of,
    registry_decimals,
    sex_label,
    study_header,
)
from neurotox.stats.units import litter_units
from neurotox.timepoints import TimeOrder

#: Trial-level models of an endpoint's reference test: (assay, endpoint) -> detail table.
TRIAL_MODELS = {("tmaze", "tmaze_correct_pct"): "tmaze_trial_model"}

#: Why no reference is known for a ``chance`` endpoint when the entry did not record it.
NO_CHANCE = ("chance level not known: it depends on the arms seen in the raw sequences "
             "(n_arms: null); report from the raw data or give the protocol parameter "
             "'n_arms' or 'arms'")


def references(parameters: Mapping[str, Any], assay_of: Mapping[str, str]
               ) -> dict[tuple[str, str], set[float | None]]:
    """Reference values recorded by assay entries, by (assay, endpoint).

    ``parameters`` are the effective parameters by entry key (``prefix:key`` in a
    multi-study run); each may hold ``references`` (endpoint → value or None).
    """
    out: dict[tuple[str, str], set[float | None]] = {}
    for key, params in parameters.items():
        if not isinstance(params, Mapping):
            continue
        entry = key.split(":")[-1]
        assay = assay_of.get(entry, entry)
        for endpoint, value in (params.get("references") or {}).items():
            out.setdefault((assay, endpoint), set()).add(
                None if value is None else float(value))
    return out


def reference_of(assay: str, endpoint: str,
                 recorded: Mapping[tuple[str, str], set[float | None]]
                 ) -> tuple[float | None, str]:
    """(reference value, what it is) or (None, why it is not known)."""
    reg = ep_registry.registry()[endpoint]
    if reg.reference != "chance":
        return float(reg.reference), fmt_ref(float(reg.reference))
    values = recorded.get((assay, endpoint), set())
    known = sorted(v for v in values if v is not None)
    if len(known) > 1:
        return None, ("the study's entries of this assay have different chance levels ("
                      + ", ".join(fmt_ref(v) for v in known) + "); report them separately")
    if not known or None in values:
        return None, NO_CHANCE
    return known[0], f"chance ({fmt_ref(known[0])}{'%' if reg.unit == '%' else ''})"


def fmt_ref(value: float) -> str:
    """A reference value as written: ``0``, ``0.5``, ``22.2``."""
    return fmt_sig(value)


def _alpha_of(parameters: Mapping[str, Any], assay_of: Mapping[str, str], assay: str,
              default: float) -> float:
    """``normality_alpha`` of the assay's entries (the one the assay itself used)."""
    for key, params in parameters.items():
        entry = key.split(":")[-1]
        if assay_of.get(entry, entry) == assay and isinstance(params, Mapping) \
                and params.get("normality_alpha") is not None:
            return float(params["normality_alpha"])
    return default


def _flag(p: float, alpha: float) -> str:
    if not math.isfinite(p):
        return ""
    return "**" if p <= 0.01 else "*" if p <= alpha else ""


def _strata(values: pd.DataFrame, litters: bool) -> list[tuple[str, pd.DataFrame]]:
    """Sexes pooled (``all``), then each sex when both were tested.

    With litters as the unit of analysis, each stratum holds litter means (pups of
    one litter are not independent).
    """
    sexes = [s for s in ("M", "F") if s in set(values["sex"])]
    out = [("all", values)]
    if len(sexes) > 1:
        out += [(s, values[values["sex"] == s]) for s in sexes]
    if litters:
        out = [(s, litter_units(part, ["timepoint", "group"])) for s, part in out]
    return out


def _litter_means(data: pd.DataFrame) -> pd.DataFrame:
    """Mean per litter × sex × group × timepoint (the unit of the sex × group ANOVA)."""
    return litter_units(data, ["timepoint", "group", "sex"])


def one_sample_table(ctx: Context, assay: str, endpoint: str, reference: float, what: str,
                     normality_alpha: float) -> Table:
    """Per timepoint × group (× sex): n, mean, SD, test, statistic and p against ``reference``."""
    from neurotox.stats.one_sample import one_sample_test

    recorded = ctx.values(assay, endpoint, "NA")
    data = recorded[~recorded["excluded"].astype(bool)]
    timepoints = TimeOrder.of(recorded).order(recorded["timepoint"])
    multi_tp = timepoints != ["NA"]
    dec = registry_decimals(endpoint) or 3
    alpha = ctx.spec.statistics.alpha
    rows = []
    for tp in timepoints:
        for g in ctx.spec.groups:
            part = data[(data["timepoint"] == tp) & (data["group"] == g.id)]
            if not len(part):  # every value excluded: said, not left out
                if ((recorded["timepoint"] == tp) & (recorded["group"] == g.id)).any():
                    rows.append(Row(((ctx.tp(tp, assay),) if multi_tp else ())
                                    + (group_text(g), "All"), _no_values()))
                continue
            for sex, values in _strata(part, ctx.litters):
                r = one_sample_test(values["value"].to_numpy(float), reference,
                                    normality_alpha=normality_alpha)
                p, flag = r.p_value, _flag(r.p_value, alpha)
                test = {"t-test": "t-test", "wilcoxon": "Wilcoxon"}.get(r.test, "not tested")
                labels = ((ctx.tp(tp, assay),) if multi_tp else ()) + (
                    group_text(g), "All" if sex == "all" else sex_label(sex))
                cells = (Cell(f"{r.n}", {"value": r.n}), Cell(fmt(r.mean, dec),
                         {"value": r.mean}, decimals=dec),
                         Cell(fmt(r.sd, dec), {"value": r.sd}, decimals=dec),
                         Cell(test, {"value": math.nan}),
                         Cell(fmt(r.statistic, 3) if r.test != "none" else "–",
                              {"value": r.statistic}, decimals=3),
                         Cell(fmt_p(p) + flag if math.isfinite(p) else "–", {"value": p},
                              flag=flag))
                rows.append(Row(labels, cells))
    reg = ep_registry.registry()[endpoint]
    unit = ", litter means (n = litters)" if ctx.litters else ""
    return Table(
        number=0, title=f"Test against {what}: {label_of(endpoint)}",
        kind="one_sample", key=f"one-sample-{assay}-{endpoint}".replace("_", "-"),
        header={**study_header(ctx.spec), "Reference": what},
        row_header=(("Timepoint",) if multi_tp else ()) + ("Group", "Sex"),
        columns=("n", "Mean", "SD", "Test", "Statistic", "p"),
        rows=rows, number_fields=("value",), category=reg.category.value,
        footnotes=[f"Each group tested on its own against {what} (two-sided), included values "
                   f"only{unit}: Shapiro-Wilk (α = {normality_alpha:g}) → one-sample t-test "
                   "(statistic t) when normality is not rejected, else Wilcoxon signed-rank "
                   "(statistic: the smaller signed-rank sum); with n < 3 the t-test.",
                   f"* p ≤ {alpha:g}; ** p ≤ 0.01 vs {what}."],
        sources=tuple((endpoint, str(tp)) for tp in timepoints))


def _no_values() -> tuple[Cell, ...]:
    """Cells of a group whose every value was excluded."""
    return (Cell("0", {"value": 0.0}), Cell("–", {"value": math.nan}),
            Cell("–", {"value": math.nan}),
            Cell("not tested (no included values)", {"value": math.nan}),
            Cell("–", {"value": math.nan}), Cell("–", {"value": math.nan}))


def sex_group_table(ctx: Context, assay: str, endpoint: str) -> Table | None:
    """Two-way ANOVA value ~ sex × group per timepoint; None unless both sexes in ≥ 2 groups."""
    from neurotox.stats.one_sample import sex_by_group_anova

    data = ctx.values(assay, endpoint, "NA")
    data = data[~data["excluded"].astype(bool)]
    if ctx.litters:
        data = _litter_means(data)
    rows = []
    names = {"sex": "Sex", "group": "Group", "sex:group": "Sex × group",
             "residual": "Residual"}
    timepoints = TimeOrder.of(data).order(data["timepoint"])
    for tp in timepoints:
        res = sex_by_group_anova(data[data["timepoint"] == tp])
        for t in res.itertuples(index=False):
            p = float(t.p_value)
            flag = _flag(p, ctx.spec.statistics.alpha)
            rows.append(Row(((ctx.tp(tp, assay),) if timepoints != ["NA"] else ())
                            + (names[t.term],),
                            (Cell(f"{t.df:g}", {"value": float(t.df)}),
                             Cell(fmt(float(t.sum_sq), 4), {"value": float(t.sum_sq)}),
                             Cell(fmt(float(t.F), 3), {"value": float(t.F)}),
                             Cell(fmt_p(p) + flag if math.isfinite(p) else "", {"value": p},
                                  flag=flag))))
    if not rows:
        return None
    reg = ep_registry.registry()[endpoint]
    return Table(
        number=0, title=f"Two-way ANOVA, sex × group: {label_of(endpoint)}",
        kind="anova", key=f"sex-group-{assay}-{endpoint}".replace("_", "-"),
        header=study_header(ctx.spec),
        row_header=(("Timepoint",) if timepoints != ["NA"] else ()) + ("Term",),
        columns=("df", "Sum of squares", "F", "p"), rows=rows, number_fields=("value",),
        category=reg.category.value,
        footnotes=["Linear model value ~ sex + group + sex × group on the included values"
                   + (" (means per litter and sex)" if ctx.litters else "")
                   + ", type II sums of squares (statsmodels anova_lm).",
                   f"* p ≤ {ctx.spec.statistics.alpha:g}; ** p ≤ 0.01."],
        sources=tuple((endpoint, str(tp)) for tp in timepoints))


def trial_models(details: Mapping[str, pd.DataFrame], assay_of: Mapping[str, str],
                 assay: str, name: str) -> pd.DataFrame:
    """The detail table ``name`` of every entry of ``assay`` (keys ``<entry>/<name>``)."""
    frames = [df for key, df in details.items()
              if key.rsplit("/", 1)[-1] == name and len(df)
              and assay_of.get(key.rsplit("/", 1)[0].split(":")[-1], "") == assay]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def trial_model_table(ctx: Context, assay: str, endpoint: str, model: pd.DataFrame,
                      what: str) -> Table:
    """Per timepoint × group: the trial-level logistic model of correct choices vs ``what``.

    ``model`` has one row per timepoint × group (:func:`~neurotox.assays.rodent.tmaze.
    trial_models`): n_subjects, n_trials, p_correct, log_odds, se, z, p_value. A
    group of the EndpointTable without a row was not modelled (fewer than two
    animals, or every choice alike) and is shown so.
    """
    data = ctx.values(assay, endpoint, "NA")
    data = data[~data["excluded"].astype(bool)]
    timepoints = sorted(set(data["timepoint"]) | set(model["timepoint"].astype(str)), key=str)
    multi_tp = timepoints != ["NA"]
    fits = {(str(r["timepoint"]), str(r["group"])): r for r in model.to_dict("records")}
    alpha = ctx.spec.statistics.alpha
    rows, missing = [], False
    for tp in timepoints:
        for g in ctx.spec.groups:
            r = fits.get((tp, g.id))
            if r is None and not ((data["timepoint"] == tp) & (data["group"] == g.id)).any():
                continue
            labels = ((ctx.tp(tp, assay),) if multi_tp else ()) + (group_text(g),)
            missing |= r is None
            rows.append(Row(labels, _model_cells(r, alpha)))
    notes = [f"Logistic GEE on the individual trials with a choice (correct = 1) of the "
             f"animals included in the per-animal test, sexes pooled: binomial family, "
             f"exchangeable correlation within animal, robust (sandwich) SE, the logit of "
             f"{what} as offset so that the log-odds are those above it (statsmodels GEE). "
             f"P(correct): the model's population-averaged probability of a correct choice.",
             f"* p ≤ {alpha:g}; ** p ≤ 0.01 vs {what} (two-sided Wald z)."]
    if missing:
        notes.append("not modelled: fewer than two animals, or every choice of the group "
                     "correct (or every one wrong).")
    reg = ep_registry.registry()[endpoint]
    return Table(
        number=0, title=f"Trial-level model against {what}: {label_of(endpoint)}",
        kind="trial_model", key=f"trial-model-{assay}-{endpoint}".replace("_", "-"),
        header={**study_header(ctx.spec), "Reference": what},
        row_header=(("Timepoint",) if multi_tp else ()) + ("Group",),
        columns=("Animals", "Trials", "P(correct)", "Log-odds vs reference", "SE", "z", "p"),
        rows=rows, number_fields=("value",), category=reg.category.value, footnotes=notes,
        sources=tuple((endpoint, str(tp)) for tp in timepoints))


def _model_cells(r: Mapping[str, Any] | None, alpha: float) -> tuple[Cell, ...]:
    if r is None:
        return (Cell("not modelled", {"value": math.nan}),
                *(Cell("–", {"value": math.nan}) for _ in range(6)))
    p = float(r["p_value"])
    flag = _flag(p, alpha)
    return (Cell(f"{int(r['n_subjects'])}", {"value": float(r["n_subjects"])}),
            Cell(f"{int(r['n_trials'])}", {"value": float(r["n_trials"])}),
            Cell(fmt(float(r["p_correct"]), 3), {"value": float(r["p_correct"])}, decimals=3),
            Cell(fmt(float(r["log_odds"]), 3), {"value": float(r["log_odds"])}, decimals=3),
            Cell(fmt(float(r["se"]), 3), {"value": float(r["se"])}, decimals=3),
            Cell(fmt(float(r["z"]), 3), {"value": float(r["z"])}, decimals=3),
            Cell(fmt_p(p) + flag if math.isfinite(p) else "–", {"value": p}, flag=flag))


def reference_tables(ctx: Context, parameters: Mapping[str, Any],
                     assay_of: Mapping[str, str],
                     details: Mapping[str, pd.DataFrame] | None = None
                     ) -> tuple[list[Table], dict[str, str]]:
    """The one-sample (sex × group, trial-level model) tables, and why one was not tested.

    ``details`` are the assays' detail tables by ``<entry>/<name>`` (the trial-level
    models, :data:`TRIAL_MODELS`).

    Returns
    -------
    tables, untested
        Tables in endpoint order; ``untested`` maps an endpoint to the reason no
        reference value is known (said in its summary table's footnotes).

    """
    reg = ep_registry.registry()
    recorded = references(parameters, assay_of)
    tables, untested = [], {}
    pairs = ctx.table[["assay", "endpoint"]].drop_duplicates()
    for assay, endpoint in sorted(pairs.itertuples(index=False, name=None)):
        entry = reg.get(endpoint)
        if entry is None or entry.reference is None:
            continue
        value, what = reference_of(assay, endpoint, recorded)
        if value is None:
            untested[endpoint] = what
            continue
        alpha = _alpha_of(parameters, assay_of, assay, ctx.spec.statistics.normality_alpha)
        tables.append(one_sample_table(ctx, assay, endpoint, value, what, alpha))
        model = trial_models(details or {}, assay_of, assay,
                             TRIAL_MODELS.get((assay, endpoint), ""))
        if len(model):
            tables.append(trial_model_table(ctx, assay, endpoint, model, what))
        anova = sex_group_table(ctx, assay, endpoint)
        if anova is not None:
            tables.append(anova)
    return tables, untested


def cross_reference(tables: list[Table], untested: Mapping[str, str]) -> None:
    """Footnote each summary table of such an endpoint with where its reference test is.

    The footnote gives the table number, or why the endpoint was not tested.
    """
    where, models = {}, {}
    for t in tables:
        if t.kind == "one_sample" and t.sources:
            where[t.sources[0][0]] = t
        if t.kind == "trial_model" and t.sources:
            models[t.sources[0][0]] = t
    for t in tables:
        if t.kind != "summary":
            continue
        for endpoint in dict.fromkeys(s[0] for s in t.sources if s is not None):
            ref = where.get(endpoint)
            model = models.get(endpoint)
            if ref is not None:
                t.footnotes.append(f"{label_of(endpoint)}: each group tested against "
                                   f"{ref.header['Reference']} in Table {ref.number}"
                                   + (f", its individual trials in Table {model.number}"
                                      if model is not None else "") + ".")
            elif endpoint in untested:
                t.footnotes.append(f"{label_of(endpoint)}: not tested against chance "
                                   f"({untested[endpoint]}).")
