"""``analyse``: an EndpointTable and a statistical plan → results and decisions tables.

The two output tables are the contract with the report renderer; their columns
are :data:`RESULT_COLUMNS` and :data:`DECISION_COLUMNS`, in that order.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from neurotox import endpoints
from neurotox.endpoints import Endpoint
from neurotox.errors import InputError, did_you_mean, quoted
from neurotox.stats import ancova
from neurotox.stats import censored as cens
from neurotox.stats.mixed import repeated_measures_row, repeated_measures_tasks
from neurotox.stats.tree import StratumOutcome, compare_to_control, replaced_comparisons
from neurotox.stats.units import litter_units
from neurotox.study import Group, StatisticsPlan, normalise_unit
from neurotox.timepoints import TimeOrder
from neurotox.vocab import Censoring, DataType, Direction

if TYPE_CHECKING:
    from neurotox.parallel import TaskPool

#: Columns of ``Analysis.results``, in order.
RESULT_COLUMNS = [
    "study_id", "assay", "category", "endpoint", "unit", "data_type", "sex", "timepoint",
    "group", "dose", "dose_unit", "is_control", "n", "n_excluded", "mean", "sd", "sem",
    "median", "min", "max", "percent_of_control", "n_affected", "n_examined", "incidence_pct",
    "test", "statistic", "p_value", "flag", "direction", "trend_test", "trend_statistic",
    "trend_p", "trend_flag", "n_censored", "censoring", "censored_bound", "time_order",
]

#: Columns of ``Analysis.decisions``, in order.
DECISION_COLUMNS = [
    "study_id", "assay", "endpoint", "sex", "timepoint", "data_type", "path", "transform",
    "sided", "alpha", "normality_test", "normality_statistic", "normality_p",
    "homogeneity_test", "homogeneity_statistic", "homogeneity_p", "overall_test",
    "overall_statistic", "overall_p", "pairwise_test", "trend_test", "trend_statistic",
    "trend_p", "note", "censoring",
]

STRATUM = ["study_id", "assay", "endpoint", "sex", "timepoint"]
_CELL = [*STRATUM, "group"]


@dataclass
class Analysis:
    """Output of :func:`analyse`.

    Attributes
    ----------
    results
        One row per endpoint x sex x timepoint x group (:data:`RESULT_COLUMNS`).
    decisions
        One row per endpoint x sex x timepoint, plus ``timepoint="ALL"`` rows for
        the repeated-measures mixed model (:data:`DECISION_COLUMNS`).
    exclusions
        Manifest records of the values the censoring policy ``exclude`` left out of
        the statistics (:func:`policy_exclusions`): one per value, with its rule,
        reason and limit, like an assay's own exclusions.
    left_out
        Exclusion records (manifest) of the values a test left out although they
        are in the summary statistics: per stratum, the animals an ANCOVA left out
        for want of a covariate value (``rule``, ``assay``, ``endpoint``, ``sex``,
        ``timepoint``, ``subjects``, ``values``, ``reason``).

    """

    results: pd.DataFrame
    decisions: pd.DataFrame
    exclusions: list[dict] = field(default_factory=list)
    left_out: list[dict] = field(default_factory=list)


def policy_exclusions(df: pd.DataFrame) -> list[dict]:
    """One manifest record per left-censored value the ``exclude`` policy dropped."""
    if "_policy_excluded" not in df.columns:
        return []
    part = df[df["_policy_excluded"].to_numpy(bool)]
    keys = ["assay", "endpoint", "subject", "group", "timepoint", "exclusion_reason", "_limit"]
    return [{"rule": "censoring policy", "assay": a, "endpoint": e, "subject": s, "group": g}
            | ({"timepoint": t} if str(t) not in ("", "NA", "nan") else {})
            | {"reason": why, "values": 1, "limit": float(lim)}
            for a, e, s, g, t, why, lim in part[keys].itertuples(index=False, name=None)]



def analysis_warnings(decisions: pd.DataFrame) -> list[str]:
    """Run warnings read from the decisions: dropped log transforms, unequal ANCOVA slopes."""
    return [*dropped_transforms(decisions), *ancova.unequal_slopes(decisions)]


def dropped_transforms(decisions: pd.DataFrame) -> list[str]:
    """Warnings for analyses whose planned log transform was not applied.

    The plan's ``log_transform`` endpoints are log-analysed only when every
    value is positive; otherwise the analysis runs on the raw scale and its
    decision row says so. That changes the test, so it is a warning (one per
    endpoint, naming the sexes and timepoints, and saying when the
    repeated-measures model over all timepoints was fitted raw too), not only a
    row of decisions.csv.
    """
    if decisions.empty:
        return []
    note = decisions["note"].astype(str)
    hit = decisions[note.str.contains("log transform skipped", regex=False)
                    | note.str.contains("log transform not applied", regex=False)]
    out = []
    for endpoint, part in hit.groupby("endpoint", sort=True):
        rm = part["timepoint"].astype(str) == "ALL"
        per_tp = part[~rm]
        where = ", ".join(sorted({s if str(t) in ("", "NA") else f"{s} {t}"
                                  for s, t in zip(per_tp["sex"], per_tp["timepoint"],
                                                  strict=True)}))
        text = (f"warning: endpoint {endpoint!r}{f' ({where})' if where else ''}: the planned "
                "log transform was not applied (zero or negative values); analysed on the "
                "raw scale")
        if rm.any():
            sexes = ", ".join(sorted(set(part.loc[rm, "sex"].astype(str))))
            text += (f"{', and so was' if where else ':'} the repeated-measures model over "
                     f"all timepoints ({sexes})")
        out.append(text)
    return out


def describe(table: pd.DataFrame, *, pool_sexes: bool = False) -> pd.DataFrame:
    """Descriptive statistics per endpoint x sex x timepoint x group.

    Parameters
    ----------
    table
        EndpointTable. Excluded rows never enter the statistics; they are counted
        in ``n_excluded``.
    pool_sexes
        Report sexes together as ``sex="NA"``.

    Returns
    -------
    pandas.DataFrame
        Columns ``study_id, assay, endpoint, sex, timepoint, group, n, n_excluded,
        mean, sd, sem, median, min, max, n_censored, censoring, censored_bound`` (SD
        with n - 1; NaN when n < 2). Censored values count at their limit (or the
        value :func:`analyse` substituted); ``n_censored`` says how many of the n are
        censored, ``censoring`` on which side (``left``/``right``/``both``, ``""`` if
        none) and
        ``censored_bound`` the limit a display can quote ("< limit" uses the largest
        left limit, "> limit" the smallest right one).

    """
    df = _prepare(table, pool_sexes)
    inc = df[~df["excluded"]]
    g = inc.groupby(_CELL, sort=False, observed=True)["value"]
    desc = g.agg(n="size", mean="mean", sd="std", median="median", min="min", max="max")
    desc["sem"] = desc["sd"] / np.sqrt(desc["n"])
    excl = df[df["excluded"]].groupby(_CELL, sort=False, observed=True).size()
    cells = df[_CELL].drop_duplicates().set_index(_CELL).index
    desc = desc.join(_censored_cells(inc)).reindex(cells)
    desc["n"] = desc["n"].fillna(0).astype(int)
    desc["n_excluded"] = excl.reindex(cells).fillna(0).astype(int)
    desc["n_censored"] = desc["n_censored"].fillna(0).astype(int)
    desc["censoring"] = desc["censoring"].fillna("")
    cols = ["n", "n_excluded", "mean", "sd", "sem", "median", "min", "max", "n_censored",
            "censoring", "censored_bound"]
    return desc[cols].reset_index()


def _censored_cells(inc: pd.DataFrame) -> pd.DataFrame:
    """Per cell: number of censored values, their side and the limit to quote."""
    cells = inc.groupby(_CELL, sort=False, observed=True).size().index
    out = pd.DataFrame({"n_censored": 0, "censoring": "", "censored_bound": np.nan},
                       index=cells)
    for side, agg in ((Censoring.LEFT.value, "max"), (Censoring.RIGHT.value, "min")):
        part = inc[inc["censoring"] == side]
        if part.empty:
            continue
        got = part.groupby(_CELL, sort=False, observed=True)["_limit"].agg(["size", agg])
        both = out.loc[got.index, "censoring"].to_numpy() != ""
        out.loc[got.index, "n_censored"] += got["size"].to_numpy()
        out.loc[got.index, "censoring"] = np.where(both, "both", side)
        out.loc[got.index, "censored_bound"] = np.where(both, np.nan, got[agg].to_numpy())
    return out


def _prepare(table: pd.DataFrame, pool_sexes: bool) -> pd.DataFrame:
    missing = [c for c in (*_CELL, "value", "excluded", "dose") if c not in table.columns]
    if missing:
        raise InputError(f"EndpointTable lacks column(s) {quoted(missing)}")
    df = table.copy()
    for c in _CELL:
        df[c] = df[c].astype(str)
    df["value"] = df["value"].astype(float)
    df["excluded"] = df["excluded"].astype(bool) | ~np.isfinite(df["value"])
    if "censoring" not in df.columns:
        df["censoring"] = Censoring.NONE.value
    df["censoring"] = (df["censoring"].fillna("").astype(str).str.strip().str.lower()
                       .replace("", Censoring.NONE.value))
    if "_limit" not in df.columns:
        df["_limit"] = df["value"]
    if pool_sexes:
        df["sex"] = "NA"
    return df


def _apply_censoring(df: pd.DataFrame, plan: StatisticsPlan) -> pd.DataFrame:
    """Substitute or exclude left-censored values by the plan's policy, per stratum.

    The stratum's mode is judged on its groups' censored counts
    (:func:`neurotox.stats.censored.stratum_mode`).

    ``_limit`` keeps the limit for the tests (which route the stratum themselves with
    the same rule, :func:`neurotox.stats.censored.stratum_mode`); ``value`` becomes
    what the descriptive statistics (and the repeated-measures model) use: the
    policy's value (limit, limit/2, limit/√2) for every left-censored value, also in a
    stratum that goes to the censoring-aware test because too many values are
    censored (the test then ranks the limits). Values the ``exclude`` policy drops are
    marked excluded (for the counts) and ``_policy_excluded`` (the tests still see
    them, to say so in their decision).
    """
    inc = ~df["excluded"].to_numpy()
    left = inc & (df["censoring"] == Censoring.LEFT.value).to_numpy()
    right = inc & (df["censoring"] == Censoring.RIGHT.value).to_numpy()
    if not (left.any() or right.any()):
        return df
    strata = df.groupby(STRATUM, sort=False).ngroup().to_numpy()
    cells = df.groupby([*STRATUM, "group"], sort=False).ngroup().to_numpy()
    count = [np.bincount(cells, weights=m, minlength=cells.max() + 1).astype(int)
             for m in (left, right, inc)]
    cell_stratum = np.empty(cells.max() + 1, dtype=int)
    cell_stratum[cells] = strata
    by = np.argsort(cell_stratum, kind="stable")
    cuts = np.flatnonzero(np.diff(cell_stratum[by])) + 1
    per_group = zip(*(np.split(c[by], cuts) for c in count), strict=True)
    modes = [cens.stratum_mode(n_l, n_r, n, plan.censored.policy, plan.censored.rank_test_above)
             for n_l, n_r, n in per_group]
    mode = np.asarray(modes)[strata]
    df = df.copy()
    sub = left & (mode != "exclude")     # the policy's value, whatever test follows
    df.loc[sub, "value"] = cens.substituted(df.loc[sub, "value"].to_numpy(), np.ones(sub.sum(),
                                            bool), plan.censored.policy)
    drop = left & (mode == "exclude")
    df.loc[drop, "excluded"] = True
    df["_policy_excluded"] = drop
    # only where the tests see the policy's value too (litter means: uncensored pups)
    df["_substituted"] = left & (mode == "substitute")
    df.loc[drop, "exclusion_reason"] = "below the limit (left-censored); censoring policy exclude"
    return df


def _litter_means(df: pd.DataFrame, reg: Mapping[str, Endpoint]) -> pd.DataFrame:
    """Litter rows (:func:`~neurotox.stats.units.litter_units`); excluded pups kept for counting.

    Pups whose left-censored value the policy substituted enter their litter mean
    at that value, uncensored; the other censored pups make their litter mean
    censored. Pups the policy excluded are left out of the tests as of the means.
    """
    inc = df[~df["excluded"]].copy()
    if "_substituted" in inc.columns:
        done = inc["_substituted"].to_numpy(bool)
        inc.loc[done, "_limit"] = inc.loc[done, "value"]
        inc.loc[done, "censoring"] = Censoring.NONE.value
    incidence = inc["endpoint"].map(lambda e: reg[e].data_type == DataType.INCIDENCE)
    out = pd.concat([litter_units(inc, _CELL, incidence=incidence.to_numpy(bool)),
                     df[df["excluded"]]], ignore_index=True)
    if "_policy_excluded" in out.columns:
        out["_policy_excluded"] = False
    return out


def _pup_censoring_notes(df: pd.DataFrame, plan: StatisticsPlan) -> dict[tuple, str]:
    """Per stratum: the pups whose censored value the policy replaced or dropped."""
    if "_substituted" not in df.columns:
        return {}
    handled = df["_substituted"].to_numpy(bool) | df["_policy_excluded"].to_numpy(bool)
    counted = ~df["excluded"].to_numpy(bool) | df["_policy_excluded"].to_numpy(bool)
    total = df[counted].groupby(STRATUM, sort=False).size()
    policy = plan.censored.policy
    return {key: f"{len(part)} of {total[key]} pup values left-censored: "
                 f"{cens.POLICY_TEXT[policy]} (policy {policy}) before the litter means"
            for key, part in df[handled].groupby(STRATUM, sort=False)}


def _alternative(ep: Endpoint, plan: StatisticsPlan) -> str:
    if plan.sided == "two" or ep.direction == Direction.EITHER:
        return "two-sided"
    return "greater" if ep.direction == Direction.INCREASE else "less"


def ranked_groups(groups: Sequence[Group]) -> list[Group]:
    """The groups in the order of the analysis: controls first, then by dose, then study order.

    The first control (lowest dose, then study order) is the primary one, which every
    group is compared with; further controls are shown, not compared.
    """
    return [g for _, g in sorted(enumerate(groups),
                                 key=lambda ig: (not ig[1].control, ig[1].dose, ig[0]))]


def further_controls(groups: Sequence[Group]) -> set[str]:
    """Control groups after the primary one (:func:`ranked_groups`): shown, not compared."""
    return {g.id for g in ranked_groups(groups)[1:] if g.control}


#: A control group whose share of censored values is above this has a mean resting
#: mostly on the censoring policy's substitutes: no percent of control is given.
MOSTLY_CENSORED = 0.5


def mostly_censored(n_censored: float, n: float) -> bool:
    """More than :data:`MOSTLY_CENSORED` of ``n`` values censored (False when ``n`` is 0)."""
    return n > 0 and n_censored / n > MOSTLY_CENSORED


def _group_order(groups: Sequence[Group]) -> dict[str, tuple[int, float, str, bool]]:
    return {g.id: (rank, g.dose, g.dose_unit, g.control)
            for rank, g in enumerate(ranked_groups(groups))}


def groups_from_table(table: pd.DataFrame, control: str | None = None, *,
                      path: str | None = None) -> list[Group]:
    """Groups of an EndpointTable analysed without a study, by increasing dose.

    The control is the group named ``control``, else the group with the lowest
    dose. Group names are kept as the table gives them (file names may hold
    spaces or commas), so they are not checked against the study ID rules.

    Raises
    ------
    InputError
        ``control`` is not a group of the table, a group holds two doses or the
        table two dose units (:func:`neurotox.endpoints.check_groups`).

    """
    endpoints.check_groups(table, path=path)
    first = table.groupby("group", sort=True)[["dose", "dose_unit"]].first()
    first = first.sort_values("dose", kind="stable")
    if control is not None and control not in first.index:
        raise InputError(f"control group {control!r}{did_you_mean(control, first.index)} is "
                         f"not in the EndpointTable "
                         f"(groups: {quoted(first.index)})", path=path, where="column 'group'")
    control = first.index[0] if control is None else control
    return [Group.model_construct(id=g, label=g, dose=float(row["dose"]),
                                  dose_unit=normalise_unit(str(row["dose_unit"])) or "NA",
                                  control=g == control, test_item=None)
            for g, row in first.iterrows()]


def _check_groups(df: pd.DataFrame, order: Mapping[str, tuple]) -> None:
    unknown = sorted(set(df["group"]) - set(order))
    if unknown:
        raise InputError(f"group(s) {quoted(unknown)} in the EndpointTable are not defined in "
                         f"the study (defined: {quoted(order)})", where="column 'group'")


def analyse(table: pd.DataFrame, plan: StatisticsPlan | None = None,
            groups: Sequence[Group] = (), *,
            registry: Mapping[str, Endpoint] | None = None,
            covariates: Mapping[str, str] | None = None,
            pool: TaskPool | None = None) -> Analysis:
    """Analyse an EndpointTable following the statistical plan.

    Parameters
    ----------
    table
        A validated EndpointTable.
    plan
        The study's statistical plan (defaults when None).
    groups
        The study's groups (``study.spec.groups``): doses, units and the control.
        When empty, groups are taken from the table and the lowest dose is the control.
    registry
        Endpoint definitions (default: :func:`neurotox.endpoints.registry`).
    covariates
        Endpoint → covariate endpoint analysed by ANCOVA instead of the decision
        tree's vs-control tests (default: :func:`neurotox.stats.ancova.registry_covariates`,
        brain weight on terminal body weight); ``{}`` turns the ANCOVA off.
    pool
        Run the tests of the strata and the mixed models in this
        :class:`~neurotox.parallel.TaskPool` (same results; default: here, one
        after another).

    Returns
    -------
    Analysis
        ``results`` and ``decisions`` tables (see :data:`RESULT_COLUMNS`,
        :data:`DECISION_COLUMNS`).

    Raises
    ------
    InputError
        The table names a group the study does not define, an unknown endpoint, or
        an incidence endpoint has values other than 0/1.

    Notes
    -----
    Per endpoint x sex x timepoint the decision tree of
    :func:`~neurotox.stats.tree.compare_to_control` is applied on the included
    values. One-sided tests follow the endpoint's adverse direction when
    ``plan.sided`` is ``one``/``auto`` (two-sided for ``either``). Endpoints flagged
    ``repeated_measures`` also get a mixed model over all timepoints (a
    ``timepoint="ALL"`` decision row). Endpoints marked ``covariate_only`` in the
    registry serve as covariates only (no rows of their own). With
    ``plan.litter_unit == "means"`` litter
    (``batch``) means are the analysis units of the descriptive statistics and of
    every test alike (:func:`~neurotox.stats.units.litter_units`; incidence: a
    litter is affected when any of its pups is). Endpoints with a covariate are
    compared with control by ANCOVA (:mod:`neurotox.stats.ancova`; decision path
    ``ancova``) unless litters enter as a random effect.

    """
    plan = plan or StatisticsPlan()
    reg = registry if registry is not None else endpoints.registry()
    df = _apply_censoring(_prepare(table, plan.pool_sexes), plan)  # per subject (pup)
    dropped = policy_exclusions(df)
    groups = groups or groups_from_table(df)
    order = _group_order(groups)
    _check_groups(df, order)
    unknown = sorted(set(df["endpoint"]) - set(reg))
    if unknown:
        raise InputError(f"unknown endpoint(s) {quoted(unknown)}", where="column 'endpoint'")
    endpoints.check_values(df, reg)   # a table built without validate, or another registry
    pup_notes: dict[tuple, str] = {}
    if plan.litter_unit == "means" and (df["batch"].astype(str) != "NA").any():
        pup_notes = _pup_censoring_notes(df, plan)
        df = _litter_means(df, reg)   # the units of the descriptives and of every test
    times = TimeOrder.of(df)
    warn_unordered(df, times)
    warn_contradicted(df, times)
    warn_without_control(df, groups)
    desc = _ordered_cells(describe(df), order, times)
    desc = desc[~desc["endpoint"].map(lambda e: reg[e].covariate_only)].reset_index(drop=True)
    if desc.empty:
        return Analysis(_empty(RESULT_COLUMNS), _empty(DECISION_COLUMNS), dropped)
    tested = ~df["excluded"]
    if "_policy_excluded" in df.columns:
        tested |= df["_policy_excluded"]
    inc = df[tested]
    values = inc["_limit"].to_numpy(float)
    codes = inc["censoring"].to_numpy(str)
    litters = inc["batch"].astype(str).to_numpy() if _litter_model(plan, inc) else None
    idx_by_cell = inc.groupby(_CELL, sort=False).indices
    covariates = ancova.registry_covariates() if covariates is None else covariates
    present = set(inc["endpoint"])  # an optional covariate (a baseline twin) not emitted
    covariates = {e: c for e, c in covariates.items()
                  if c in present or not (c in reg and reg[c].covariate_only)}
    cov_lookup = ancova.covariate_lookup(inc, covariates) if covariates else {}
    per_row = _PerRow(len(desc))
    dec_rows: list[dict] = []
    left_out: list[dict] = []
    bounds = np.flatnonzero(np.diff(desc["_stratum"].to_numpy())) + 1
    strata = [(start, stop, tuple(desc.iloc[start][STRATUM]))
              for start, stop in zip(np.r_[0, bounds], np.r_[bounds, len(desc)], strict=True)]
    rm_tasks = repeated_measures_tasks(df, reg, plan, order)
    if pool is None:
        outcomes: Iterable = (_stratum(key, desc.iloc[start:stop], reg[key[2]], plan, order,
                                       (values, codes), idx_by_cell, litters)
                              for start, stop, key in strata)
    else:  # the mixed models (the longest tasks) first
        rm_started = [pool.submit(repeated_measures_row, t) for t in rm_tasks]
        outcomes = _strata_in_pool(pool, strata, desc, reg, (plan, order, (values, codes),
                                                            litters), idx_by_cell)
    for (start, stop, key), (out, decision) in zip(strata, outcomes, strict=True):
        cells = desc.iloc[start:stop]
        if key[2] in covariates and decision["path"] == "censored":
            decision["note"] = "; ".join(x for x in (
                decision["note"], "ANCOVA not run: censored values need the rank test") if x)
        elif key[2] in covariates and litters is None:
            left_out += _apply_ancova(key, cells, out, decision, _AncovaInput(
                covariates[key[2]], values, inc["subject"].to_numpy(), idx_by_cell, cov_lookup,
                _alternative(reg[key[2]], plan)), order)
        elif key[2] in covariates:
            decision["note"] = "; ".join(x for x in (
                decision["note"], "ANCOVA not run: litters enter as a random effect") if x)
        if key in pup_notes:
            decision["censoring"] = "; ".join(x for x in (pup_notes[key],
                                                          decision["censoring"]) if x)
        per_row.put(slice(start, stop), out)
        dec_rows.append(decision)
    rm_rows = ([repeated_measures_row(t) for t in rm_tasks] if pool is None
               else [f.result() for f in rm_started])
    dec_rows.extend(_censoring_noted(rm_rows, df))
    results = _finish_results(desc, per_row, df, reg, plan, order)
    decisions = pd.DataFrame(dec_rows, columns=DECISION_COLUMNS) if dec_rows \
        else _empty(DECISION_COLUMNS)
    return Analysis(results, _order_decisions(decisions), dropped, left_out)


def _censoring_noted(rows: list[dict], df: pd.DataFrame) -> list[dict]:
    """Say on each mixed-model row how many censored values entered it, and how."""
    inc = df[~df["excluded"] & (df["censoring"] != Censoring.NONE.value)]
    counts = inc.groupby(["endpoint", "sex", "censoring"]).size()
    for row in rows:
        said = []
        for side, how in ((Censoring.LEFT.value, "as in the summary statistics"),
                          (Censoring.RIGHT.value, "at their limit (a lower bound)")):
            n = int(counts.get((row["endpoint"], row["sex"], side), 0))
            if n:
                said.append(f"{n} {side}-censored value(s) entered the mixed model {how}")
        row["censoring"] = ("; ".join(said) + "; the per-timepoint tests respect the "
                            "censoring") if said else ""
    return rows


def _order_decisions(dec: pd.DataFrame) -> pd.DataFrame:
    """Keep stratum order; put each mixed-model ``ALL`` row after its endpoint x sex."""
    key = ["study_id", "assay", "endpoint", "sex"]
    block = dec.groupby(key, sort=False).ngroup()
    order = np.lexsort(((dec["timepoint"] == "ALL").to_numpy(), block.to_numpy()))
    return dec.iloc[order].reset_index(drop=True)


def _ordered_cells(desc: pd.DataFrame, order: Mapping[str, tuple],
                   times: TimeOrder) -> pd.DataFrame:
    """Cells sorted by stratum, then control first, dose ascending.

    Strata keep the first appearance of their endpoint x sex; its timepoints are
    in time order (``times``: the protocol's, else the labels',
    :class:`neurotox.timepoints.TimeOrder`).
    """
    desc = desc.copy()
    block = desc.groupby(STRATUM[:-1], sort=False).ngroup()
    tps = times.order(desc["timepoint"])
    when = desc["timepoint"].map({t: i for i, t in enumerate(tps)})
    key = block.to_numpy() * (len(tps) + 1) + when.to_numpy(int)
    desc["time_order"] = when.astype(float)   # what tables and figures sort by
    desc["_stratum"] = np.unique(key, return_inverse=True)[1].ravel()
    desc["_rank"] = desc["group"].map(lambda g: order[g][0])
    return desc.sort_values(["_stratum", "_rank"], kind="stable").reset_index(drop=True)


def unordered_timepoints(df: pd.DataFrame, times: TimeOrder) -> dict[str, dict[str, list]]:
    """Assay → endpoint → timepoint labels that cannot be put in time order.

    Labels without the protocol's ``time_order`` whose order would come from
    comparing words (:func:`neurotox.timepoints.unordered`).
    """
    found: dict[str, dict[str, list]] = {}
    tps = df[["assay", "endpoint", "sex", "timepoint"]].drop_duplicates()
    for (assay, endpoint), sub in tps.groupby(["assay", "endpoint"], sort=True):
        bad = sorted({t for _, s in sub.groupby("sex") for t in times.unordered(s["timepoint"])})
        if bad:
            found.setdefault(str(assay), {})[str(endpoint)] = bad
    return found


def warn_unordered(df: pd.DataFrame, times: TimeOrder) -> None:
    """Warn, per assay, of timepoints whose time order the labels cannot give."""
    from neurotox.files import warn_or_refuse

    for assay, by_ep in unordered_timepoints(df, times).items():
        labels = sorted({t for tps in by_ep.values() for t in tps})
        warn_or_refuse(
            f"timepoints {quoted(labels)} of assay {assay!r} (endpoints {quoted(sorted(by_ep))}) "
            "cannot be put in time order from their labels: tables and AR(1) models order "
            "them by their text, not by time; give the EndpointTable column 'time_order' "
            "(each timepoint's place in the protocol) or number the sessions (day7, week4)")


def warn_contradicted(df: pd.DataFrame, times: TimeOrder) -> None:
    """Warn, per assay, of a ``time_order`` that reverses what the labels say.

    ``day7`` given a later place than ``day21`` orders every table, figure and AR(1)
    model against time; it is followed (the protocol's order decides), and said.
    """
    from neurotox.files import warn_or_refuse

    if not times.ranks:
        return
    for assay, part in df.groupby("assay", sort=True):
        pairs = times.contradicted(part["timepoint"])
        if not pairs:
            continue
        said = "; ".join(f"{b!r} (time_order {times.ranks[b]:g}) before {a!r} (time_order "
                         f"{times.ranks[a]:g})" for a, b in pairs[:4])
        more = f" and {len(pairs) - 4} more pair(s)" if len(pairs) > 4 else ""
        warn_or_refuse(
            f"the EndpointTable column 'time_order' puts timepoints of assay {assay!r} "
            f"against the order their labels say: {said}{more}; tables, figures and AR(1) "
            "models follow time_order: check it gives each timepoint its place in the "
            "protocol")


def warn_without_control(df: pd.DataFrame, groups: Sequence[Group]) -> None:
    """Warn, per assay, of timepoints that treated groups hold but no control group does.

    Their groups are not compared with control (the decisions say "no control
    group in this stratum"); most often one group's session was labelled
    differently (``day28`` for the others' ``week4``), which silently drops that
    group from the comparisons.
    """
    from neurotox.files import warn_or_refuse

    controls = {g.id for g in groups if g.control}
    labels = {g.id: g.label for g in groups}
    for assay, part in df[~df["excluded"]].groupby("assay", sort=True):
        held = part.groupby("timepoint", sort=True)["group"].agg(lambda g: set(map(str, g)))
        lone = {tp: gs for tp, gs in held.items() if not gs & controls}
        if not controls or not lone or len(lone) == len(held):
            continue
        said = "; ".join(f"{tp!r}: " + ", ".join(f"{g} ({labels.get(g, g)})" for g in sorted(gs))
                         for tp, gs in list(lone.items())[:4])
        more = f" and {len(lone) - 4} more" if len(lone) > 4 else ""
        ctl = sorted(tp for tp, gs in held.items() if gs & controls)
        warn_or_refuse(
            f"assay {assay!r}: timepoint(s) held by treated groups only, not compared with "
            f"control: {said}{more}; the control's timepoints are {quoted(ctl[:6])}"
            f"{' ...' if len(ctl) > 6 else ''}: is a session labelled differently for "
            "these groups?")


class _PerRow:
    """Per-result-row outputs of the stratum tests, filled stratum by stratum."""

    def __init__(self, n: int):
        self.test = np.full(n, "", dtype=object)
        self.trend_test = np.full(n, "", dtype=object)
        self.trend_flag = np.full(n, "", dtype=object)
        self.statistic = np.full(n, np.nan)
        self.p_value = np.full(n, np.nan)
        self.trend_statistic = np.full(n, np.nan)
        self.trend_p = np.full(n, np.nan)

    def put(self, rows: slice, out: StratumOutcome) -> None:
        self.test[rows] = out.test
        self.trend_test[rows] = out.decision["trend_test"]
        self.trend_flag[rows] = out.trend_flag
        self.statistic[rows] = out.statistic
        self.p_value[rows] = out.p_value
        self.trend_statistic[rows] = out.trend_statistic
        self.trend_p[rows] = out.trend_p


def _flags(p: np.ndarray, alpha: float) -> np.ndarray:
    return np.where(p <= min(alpha, 0.01), "**", np.where(p <= alpha, "*", ""))


def _finish_results(desc: pd.DataFrame, per_row: _PerRow, df: pd.DataFrame,
                    reg: Mapping[str, Endpoint], plan: StatisticsPlan,
                    order: Mapping[str, tuple]) -> pd.DataFrame:
    """Add the columns computed for whole table at once (no per-row Python)."""
    r = desc
    meta = df.groupby(STRATUM, sort=False)[["category", "unit"]].first()
    r = r.join(meta, on=STRATUM)
    r["data_type"] = r["endpoint"].map(lambda e: reg[e].data_type.value)
    r["dose"] = r["group"].map(lambda g: order[g][1]).astype(float)
    r["dose_unit"] = r["group"].map(lambda g: order[g][2])
    r["is_control"] = r["group"].map(lambda g: order[g][3]).astype(bool)
    incidence = (r["data_type"] == DataType.INCIDENCE.value).to_numpy()
    n = r["n"].to_numpy(float)
    affected = np.round(r["mean"].to_numpy() * n)
    r["n_affected"] = np.where(incidence, affected, np.nan)
    r["n_examined"] = np.where(incidence, n, np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        r["incidence_pct"] = np.where(incidence, 100 * affected / n, np.nan)
    ctrl = r["mean"].where(r["is_control"]).groupby(r["_stratum"]).transform("first")
    level = np.where(incidence, r["incidence_pct"], r["mean"])
    base = pd.Series(level).where(r["is_control"]).groupby(r["_stratum"]).transform("first")
    with np.errstate(divide="ignore", invalid="ignore"):
        r["percent_of_control"] = np.where(ctrl != 0, 100 * r["mean"] / ctrl, np.nan)
    # a signed index or difference (interval scale), or a value already relative to the
    # control: percent of control means nothing
    interval = r["endpoint"].map(lambda e: not reg[e].relative_to_control).to_numpy(bool)
    r.loc[interval | _censored_ratio(r), "percent_of_control"] = np.nan
    primary = next((g for g, o in order.items() if o[3]), None)  # further controls: not compared
    r.loc[r["is_control"] & (r["group"] != primary), "percent_of_control"] = np.nan
    treated = ~r["is_control"].to_numpy()
    r["direction"] = np.where(treated & (level > base), "up",
                              np.where(treated & (level < base), "down", ""))
    for col in ("test", "statistic", "p_value", "trend_test", "trend_statistic", "trend_p",
                "trend_flag"):
        r[col] = getattr(per_row, col)
    r["flag"] = _flags(r["p_value"].to_numpy(), plan.alpha)
    return r[RESULT_COLUMNS].reset_index(drop=True)


def _censored_ratio(r: pd.DataFrame) -> np.ndarray:
    """Rows whose percent of control would rest on censored values, not measurements.

    A group whose values are all censored has no measured mean; when more than half
    of the control's values are censored, its mean is mostly the policy's substitutes
    (limit/2 five times gives a "415 %" that limit would make 207 %), so no group of
    that stratum gets a percent of control.
    """
    share = r["n_censored"].astype(float) / r["n"].astype(float).where(r["n"] > 0)
    ctrl = share.where(r["is_control"]).groupby(r["_stratum"]).transform("first")
    return ((r["n"] > 0) & (share >= 1) | (ctrl > MOSTLY_CENSORED)).to_numpy(bool)


def _empty(columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})


def _strata_in_pool(pool: TaskPool, strata: list[tuple[int, int, tuple]], desc: pd.DataFrame,
                    reg: Mapping[str, Endpoint], shared: tuple, idx_by_cell: Mapping) -> list:
    """``_stratum`` of every stratum, computed in ``pool`` in interleaved chunks, in order."""
    n = min(len(strata), 4 * pool.workers)
    chunks = [range(i, len(strata), n) for i in range(n)]
    started = []
    for chunk in chunks:
        items = []
        for j in chunk:
            start, stop, key = strata[j]
            cells = desc.iloc[start:stop]
            cell_keys = [(*key, g) for g in cells["group"]]
            items.append((key, cells, reg[key[2]],
                          {k: idx_by_cell[k] for k in cell_keys if k in idx_by_cell}))
        started.append(pool.submit(_strata_task, (items, shared)))
    out: list = [None] * len(strata)
    for chunk, future in zip(chunks, started, strict=True):
        for j, outcome in zip(chunk, future.result(), strict=True):
            out[j] = outcome
    return out


def _strata_task(task: tuple) -> list[tuple[StratumOutcome, dict]]:
    items, (plan, order, data, litters) = task
    return [_stratum(key, cells, ep, plan, order, data, idx, litters)
            for key, cells, ep, idx in items]


def _litter_model(plan: StatisticsPlan, inc: pd.DataFrame) -> bool:
    return plan.litter_unit == "mixed" and bool((inc["batch"].astype(str) != "NA").any())


def _stratum(key: tuple, cells: pd.DataFrame, ep: Endpoint, plan: StatisticsPlan,
             order: Mapping[str, tuple], data: tuple[np.ndarray, np.ndarray],
             idx_by_cell: Mapping, litters: np.ndarray | None) -> tuple[StratumOutcome, dict]:
    values, codes = data
    groups = cells["group"].tolist()
    index = [idx_by_cell.get((*key, g), np.empty(0, dtype=int)) for g in groups]
    samples = [values[i] for i in index]
    censoring = [codes[i] for i in index]
    by_litter = None
    if litters is not None and ep.data_type not in (DataType.INCIDENCE, DataType.ORDINAL):
        by_litter = [litters[i] for i in index]
    doses = np.array([order[g][1] for g in groups])
    names = list(groups)
    has_control = order[groups[0]][3]
    alternative = _alternative(ep, plan)
    dt = ep.data_type.value
    if not has_control:
        samples = [np.empty(0), *samples]  # no control in this stratum
        censoring = [np.empty(0, dtype=str), *censoring]
        doses = np.concatenate([[0.0], doses])
        names = ["control", *names]
        by_litter = None
    use = [0] + [j for j in range(1, len(samples))
                 if not (has_control and order[groups[j]][3])]  # later controls: not tested
    out = compare_to_control([samples[j] for j in use], data_type=dt, alternative=alternative,
                             plan=plan, doses=doses[use],
                             log_transform=ep.name in plan.log_transform,
                             litters=None if by_litter is None else [by_litter[j] for j in use],
                             censoring=[censoring[j] for j in use],
                             names=[names[j] for j in use])
    if len(use) < len(samples):
        out = _spread(out, use, len(samples))
        extra = ", ".join(groups[j] for j in range(1, len(groups)) if j not in use)
        out.decision["note"] = "; ".join(x for x in (
            out.decision["note"], f"further control group(s) {extra} not compared") if x)
    if not has_control:
        out.decision["note"] = "no control group in this stratum: no comparisons"
        out = _drop_first(out)
    decision = dict(zip(STRATUM, key, strict=True))
    decision.update(out.decision, data_type=dt)
    if alternative != "two-sided":
        decision["note"] = "; ".join(x for x in (
            decision["note"], f"one-sided ({alternative}): adverse direction "
            f"{ep.direction.value}") if x)
    return out, decision


@dataclass(frozen=True)
class _AncovaInput:
    """What the ANCOVA of a stratum needs besides the stratum itself."""

    covariate: str
    values: np.ndarray
    subjects: np.ndarray
    idx_by_cell: Mapping
    lookup: Mapping
    alternative: str


def _apply_ancova(key: tuple, cells: pd.DataFrame, out: StratumOutcome, decision: dict,
                  a: _AncovaInput, order: Mapping[str, tuple]) -> list[dict]:
    """Replace the vs-control tests of a stratum by the ANCOVA's (in place).

    Returns the exclusion record of the animals left out for want of a covariate.
    """
    groups = cells["group"].tolist()
    if not order[groups[0]][3] or any(order[g][3] for g in groups[1:]):
        return []  # no control, or several: left to the decision tree
    index = [a.idx_by_cell.get((*key, g), np.empty(0, dtype=int)) for g in groups]
    res = ancova.stratum_ancova(key, groups, [a.subjects[i] for i in index],
                                [a.values[i] for i in index], a.covariate,
                                a.covariate.replace("_", " "), a.lookup,
                                alternative=a.alternative)
    if isinstance(res, str):
        decision["note"] = "; ".join(x for x in (decision["note"], res) if x)
        return []
    out.test, out.statistic, out.p_value = res.test, res.statistic, res.p_value
    note = "; ".join(x for x in (replaced_comparisons(decision["note"], "ANCOVA"),
                                 res.decision["note"],
                                 "trend test on unadjusted values" if decision["trend_test"]
                                 else "") if x)
    decision.update(res.decision, note=note)
    subjects = [x for xs in res.left_out.values() for x in xs]
    if not subjects:
        return []
    return [{"rule": "covariate", "assay": key[1], "endpoint": key[2], "sex": key[3],
             "timepoint": key[4], "subjects": subjects, "values": len(subjects),
             "reason": f"no {a.covariate.replace('_', ' ')} value: left out of the ANCOVA "
                       "(kept in the summary statistics)"}]


def _spread(out: StratumOutcome, use: list[int], n: int) -> StratumOutcome:
    """Place the outcome of the tested groups ``use`` among ``n`` rows (others blank)."""
    full = StratumOutcome(out.decision, [""] * n, np.full(n, np.nan), np.full(n, np.nan),
                          np.full(n, np.nan), np.full(n, np.nan), [""] * n)
    for pos, j in enumerate(use):
        full.test[j], full.trend_flag[j] = out.test[pos], out.trend_flag[pos]
        full.statistic[j], full.p_value[j] = out.statistic[pos], out.p_value[pos]
        full.trend_statistic[j], full.trend_p[j] = out.trend_statistic[pos], out.trend_p[pos]
    return full


def _drop_first(out: StratumOutcome) -> StratumOutcome:
    out.test = out.test[1:]
    out.statistic, out.p_value = out.statistic[1:], out.p_value[1:]
    out.trend_statistic, out.trend_p = out.trend_statistic[1:], out.trend_p[1:]
    out.trend_flag = out.trend_flag[1:]
    return out
