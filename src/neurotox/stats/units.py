"""The units of analysis when litters are the unit (``litter_unit: means``, OECD TG 426).

One function, :func:`litter_units`, turns pup rows into litter rows. The
descriptive statistics, every test of the decision tree, the repeated-measures
model, the ANCOVA and the report's own tests (adjusted means, one-sample tests)
read the rows it returns, so a table's n, mean and SD and the tests beside them
are computed on the same units.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from neurotox.errors import InputError
from neurotox.vocab import Censoring


def litter_units(rows: pd.DataFrame, by: Sequence[str], *,
                 incidence: np.ndarray | pd.Series | None = None) -> pd.DataFrame:
    """One row per litter (``batch``) within each ``by`` cell, from included pup rows.

    Parameters
    ----------
    rows
        Included rows (no excluded ones) with columns ``by``, ``batch`` and
        ``value``; ``censoring`` (``none``/``left``/``right``) and ``_limit`` are
        carried when present. Rows whose ``batch`` is ``NA`` have no litter and
        stay as they are (one unit each).
    by
        The cell a litter is averaged within (e.g. endpoint × sex × timepoint ×
        group).
    incidence
        Per row, True for 0/1 incidence values: their litter's value is 1 when
        any of its pups is affected, else 0 (never a fraction).

    Returns
    -------
    pandas.DataFrame
        The same columns; a litter row takes the other columns from the litter's
        first pup, ``subject`` is the litter and ``value`` the mean of its pups
        (incidence: the maximum). A litter with a censored pup is censored on that
        side, at the mean of its pups' values with the censored ones at their limit
        (a bound on the litter mean).

    Raises
    ------
    InputError
        A litter holds both left- and right-censored pups (its mean has no bound).

    """
    has_litter = (rows["batch"].astype(str) != "NA").to_numpy()
    pups = rows[has_litter].copy()
    if pups.empty:
        return rows.copy()
    keys = [*by, "batch"]
    flag = (np.zeros(len(rows), bool) if incidence is None
            else np.asarray(incidence, bool))[has_litter]
    pups["_any"] = flag
    grouped = pups.groupby(keys, sort=False)
    units = grouped.first().reset_index()
    any_of = grouped["_any"].any().to_numpy()
    units["value"] = np.where(any_of, grouped["value"].max().to_numpy(),
                              grouped["value"].mean().to_numpy())
    if "_limit" in pups.columns:
        units["_limit"] = np.where(any_of, units["value"], grouped["_limit"].mean().to_numpy())
    if "censoring" in pups.columns:
        units["censoring"] = _litter_censoring(pups, units, keys)
    units["subject"] = units["batch"].astype(str)
    out = pd.concat([units.drop(columns="_any")[rows.columns], rows[~has_litter]],
                    ignore_index=True)
    return out


def _litter_censoring(pups: pd.DataFrame, units: pd.DataFrame, keys: list[str]) -> np.ndarray:
    """Side on which each litter mean is censored (``none`` when no pup is)."""
    left = (pups["censoring"] == Censoring.LEFT.value).groupby(
        [pups[k] for k in keys], sort=False).any().to_numpy()
    right = (pups["censoring"] == Censoring.RIGHT.value).groupby(
        [pups[k] for k in keys], sort=False).any().to_numpy()
    both = left & right
    if both.any():
        u = units[both].iloc[0]
        where = ", ".join(f"{k} {u[k]!r}" for k in keys if k in ("endpoint", "sex", "timepoint",
                                                                   "group", "batch"))
        raise InputError(f"litter means: a litter holds left- and right-censored pups, so its "
                         f"mean has no bound ({where}); analyse pups with litter_unit: mixed",
                         where="column 'censoring'")
    return np.where(left, Censoring.LEFT.value,
                    np.where(right, Censoring.RIGHT.value, Censoring.NONE.value))
