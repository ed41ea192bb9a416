"""``analyse``: an EndpointTable and a statistical plan → results and decisions tables.

The two output tables are the contract with the report renderer; their columns
are :data:`RESULT_COLUMNS` and :data:`DECISION_COLUMNS`, in that order.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from neurotox import endpoints
from neurotox.endpoints import Endpoint
from neurotox.errors import InputError, quoted
from neurotox.stats._common import flag
from neurotox.stats.mixed import repeated_measures_decision
from neurotox.stats.tree import StratumOutcome, compare_to_control
from neurotox.study import Group, StatisticsPlan
from neurotox.vocab import DataType, Direction

#: Columns of ``Analysis.results``, in order.
RESULT_COLUMNS = [
    "study_id", "assay", "category", "endpoint", "unit", "data_type", "sex", "timepoint",
    "group", "dose", "dose_unit", "is_control", "n", "n_excluded", "mean", "sd", "sem",
    "median", "min", "max", "percent_of_control", "n_affected", "n_examined", "incidence_pct",
    "test", "statistic", "p_value", "flag", "direction", "trend_test", "trend_statistic",
    "trend_p", "trend_flag",
]

#: Columns of ``Analysis.decisions``, in order.
DECISION_COLUMNS = [
    "study_id", "assay", "endpoint", "sex", "timepoint", "data_type", "path", "transform",
    "sided", "alpha", "normality_test", "normality_statistic", "normality_p",
    "homogeneity_test", "homogeneity_statistic", "homogeneity_p", "overall_test",
    "overall_statistic", "overall_p", "pairwise_test", "trend_test", "trend_statistic",
    "trend_p", "note",
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

    """

    results: pd.DataFrame
    decisions: pd.DataFrame


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
        mean, sd, sem, median, min, max`` (SD with n - 1; NaN when n < 2).

    """
    df = _prepare(table, pool_sexes)
    inc = df[~df["excluded"]]
    g = inc.groupby(_CELL, sort=False, observed=True)["value"]
    desc = g.agg(n="size", mean="mean", sd="std", median="median", min="min", max="max")
    desc["sem"] = desc["sd"] / np.sqrt(desc["n"])
    excl = df[df["excluded"]].groupby(_CELL, sort=False, observed=True).size()
    cells = df[_CELL].drop_duplicates().set_index(_CELL).index
    desc = desc.reindex(cells)
    desc["n"] = desc["n"].fillna(0).astype(int)
    desc["n_excluded"] = excl.reindex(cells).fillna(0).astype(int)
    cols = ["n", "n_excluded", "mean", "sd", "sem", "median", "min", "max"]
    return desc[cols].reset_index()


def _prepare(table: pd.DataFrame, pool_sexes: bool) -> pd.DataFrame:
    missing = [c for c in (*_CELL, "value", "excluded", "dose") if c not in table.columns]
    if missing:
        raise InputError(f"EndpointTable lacks column(s) {quoted(missing)}")
    df = table.copy()
    for c in _CELL:
        df[c] = df[c].astype(str)
    df["excluded"] = df["excluded"].astype(bool) | ~np.isfinite(df["value"].astype(float))
    if pool_sexes:
        df["sex"] = "NA"
    return df


def _litter_means(df: pd.DataFrame) -> pd.DataFrame:
    """Average included values per litter (``batch``); excluded rows kept for counting."""
    inc = df[~df["excluded"]]
    keys = [*_CELL, "batch"]
    first = inc.groupby(keys, sort=False).first().reset_index()
    means = inc.groupby(keys, sort=False)["value"].mean().reset_index()
    first["value"] = means["value"].to_numpy()
    first["subject"] = first["batch"]
    return pd.concat([first, df[df["excluded"]]], ignore_index=True)


def _alternative(ep: Endpoint, plan: StatisticsPlan) -> str:
    if plan.sided == "two" or ep.direction == Direction.EITHER:
        return "two-sided"
    return "greater" if ep.direction == Direction.INCREASE else "less"


def _group_order(groups: Sequence[Group]) -> dict[str, tuple[int, float, str, bool]]:
    ranked = sorted(enumerate(groups), key=lambda ig: (not ig[1].control, ig[1].dose, ig[0]))
    return {g.id: (rank, g.dose, g.dose_unit, g.control) for rank, (_, g) in enumerate(ranked)}


def _check_groups(df: pd.DataFrame, order: Mapping[str, tuple]) -> None:
    unknown = sorted(set(df["group"]) - set(order))
    if unknown:
        raise InputError(f"group(s) {quoted(unknown)} in the EndpointTable are not defined in "
                         f"the study (defined: {quoted(order)})", where="column 'group'")


def analyse(table: pd.DataFrame, plan: StatisticsPlan | None = None,
            groups: Sequence[Group] = (), *,
            registry: Mapping[str, Endpoint] | None = None) -> Analysis:
    """Analyse an EndpointTable following the statistical plan.

    Parameters
    ----------
    table
        A validated EndpointTable.
    plan
        The study's statistical plan (defaults when None).
    groups
        The study's groups (``study.spec.groups``): doses, units and the control.
    registry
        Endpoint definitions (default: :func:`neurotox.endpoints.registry`).

    Returns
    -------
    Analysis
        ``results`` and ``decisions`` tables (see :data:`RESULT_COLUMNS`,
        :data:`DECISION_COLUMNS`).

    Raises
    ------
    InputError
        The table names a group the study does not define, or an unknown endpoint.

    Notes
    -----
    Per endpoint x sex x timepoint the decision tree of
    :func:`~neurotox.stats.tree.compare_to_control` is applied on the included
    values. One-sided tests follow the endpoint's adverse direction when
    ``plan.sided`` is ``one``/``auto`` (two-sided for ``either``). Endpoints flagged
    ``repeated_measures`` also get a mixed model over all timepoints (a
    ``timepoint="ALL"`` decision row). With ``plan.litter_unit == "means"`` litter
    (``batch``) means are the analysis units.

    """
    plan = plan or StatisticsPlan()
    reg = registry if registry is not None else endpoints.registry()
    order = _group_order(groups)
    df = _prepare(table, plan.pool_sexes)
    _check_groups(df, order)
    unknown = sorted(set(df["endpoint"]) - set(reg))
    if unknown:
        raise InputError(f"unknown endpoint(s) {quoted(unknown)}", where="column 'endpoint'")
    if plan.litter_unit == "means" and (df["batch"].astype(str) != "NA").any():
        df = _litter_means(df)
    desc = describe(df)
    df["_rank"] = df["group"].map(lambda g: order[g][0])
    res_rows, dec_rows = [], []
    meta = df.groupby(STRATUM, sort=False).agg(category=("category", "first"),
                                               unit=("unit", "first"))
    inc = df[~df["excluded"]]
    values = inc["value"].to_numpy(float)
    idx_by_cell = inc.groupby(_CELL, sort=False).indices
    for key, cells in desc.groupby(STRATUM, sort=False):
        ep = reg[key[2]]
        rows, dec = _stratum(key, cells, ep, plan, order, values, idx_by_cell,
                             meta.loc[key])
        res_rows.append(rows)
        dec_rows.append(dec)
    dec_rows.extend(repeated_measures_decision(df, reg, plan, order))
    results = pd.concat(res_rows, ignore_index=True) if res_rows else _empty(RESULT_COLUMNS)
    decisions = pd.DataFrame(dec_rows, columns=DECISION_COLUMNS) if dec_rows \
        else _empty(DECISION_COLUMNS)
    return Analysis(results[RESULT_COLUMNS].reset_index(drop=True),
                    _sort_decisions(decisions))


def _sort_decisions(dec: pd.DataFrame) -> pd.DataFrame:
    return dec.reset_index(drop=True)


def _empty(columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})


def _stratum(key: tuple, cells: pd.DataFrame, ep: Endpoint, plan: StatisticsPlan,
             order: Mapping[str, tuple], values: np.ndarray, idx_by_cell: Mapping,
             meta: pd.Series) -> tuple[pd.DataFrame, dict]:
    cells = cells.assign(_rank=cells["group"].map(lambda g: order[g][0]))
    cells = cells.sort_values("_rank", kind="stable").reset_index(drop=True)
    samples = [values[idx_by_cell[(*key, g)]] if (*key, g) in idx_by_cell else np.empty(0)
               for g in cells["group"]]
    doses = np.array([order[g][1] for g in cells["group"]])
    is_control = np.array([order[g][3] for g in cells["group"]])
    alternative = _alternative(ep, plan)
    dt = ep.data_type.value
    if not is_control[0]:
        samples = [np.empty(0), *samples]  # no control in this stratum
        doses = np.concatenate([[0.0], doses])
    out = compare_to_control(samples, data_type=dt, alternative=alternative, plan=plan,
                             doses=doses, log_transform=ep.name in plan.log_transform)
    if not is_control[0]:
        out.decision["note"] = "no control group in this stratum: no comparisons"
        out = _drop_first(out)
    rows = _result_rows(cells, ep, plan, out, is_control, meta, order)
    decision = dict(zip(STRATUM, key, strict=True))
    decision.update(out.decision, data_type=dt)
    if alternative != "two-sided":
        decision["note"] = "; ".join(x for x in (
            decision["note"], f"one-sided ({alternative}): adverse direction "
            f"{ep.direction.value}") if x)
    return rows, decision


def _drop_first(out: StratumOutcome) -> StratumOutcome:
    out.test = out.test[1:]
    out.statistic, out.p_value = out.statistic[1:], out.p_value[1:]
    out.trend_statistic, out.trend_p = out.trend_statistic[1:], out.trend_p[1:]
    out.trend_flag = out.trend_flag[1:]
    return out


def _result_rows(cells: pd.DataFrame, ep: Endpoint, plan: StatisticsPlan,
                 out: StratumOutcome, is_control: np.ndarray, meta: pd.Series,
                 order: Mapping[str, tuple]) -> pd.DataFrame:
    r = cells.drop(columns="_rank").copy()
    r["category"], r["unit"] = meta["category"], meta["unit"]
    r["data_type"] = ep.data_type.value
    r["dose"] = [order[g][1] for g in r["group"]]
    r["dose_unit"] = [order[g][2] for g in r["group"]]
    r["is_control"] = is_control
    ctrl_mean = r["mean"].iloc[0] if is_control[0] else np.nan
    with np.errstate(divide="ignore", invalid="ignore"):
        r["percent_of_control"] = 100 * r["mean"] / ctrl_mean if ctrl_mean else np.nan
    _incidence_columns(r, ep)
    r["test"] = out.test
    r["statistic"] = out.statistic
    r["p_value"] = out.p_value
    r["flag"] = [flag(p, plan.alpha) for p in out.p_value]
    level = r["incidence_pct"] if ep.data_type == DataType.INCIDENCE else r["mean"]
    base = level.iloc[0] if is_control[0] else np.nan
    r["direction"] = [("up" if v > base else "down" if v < base else "")
                      if not c and np.isfinite(v) and np.isfinite(base) else ""
                      for v, c in zip(level, is_control, strict=True)]
    r["trend_test"] = out.decision["trend_test"]
    r["trend_statistic"] = out.trend_statistic
    r["trend_p"] = out.trend_p
    r["trend_flag"] = out.trend_flag
    return r


def _incidence_columns(r: pd.DataFrame, ep: Endpoint) -> None:
    if ep.data_type == DataType.INCIDENCE:
        r["n_affected"] = np.round(r["mean"] * r["n"]).astype("float")
        r["n_examined"] = r["n"].astype(float)
        with np.errstate(divide="ignore", invalid="ignore"):
            r["incidence_pct"] = 100 * r["n_affected"] / r["n_examined"]
    else:
        r["n_affected"] = np.nan
        r["n_examined"] = np.nan
        r["incidence_pct"] = np.nan
