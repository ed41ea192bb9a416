"""Thermal and cold tests: latencies censored at the cut-off, %MPE, acetone scores.

A latency test (hot plate, tail flick, Hargreaves, cold plate) stops at the
protocol's cut-off; an animal that has not responded by then has a latency of
*at least* the cut-off: the value is right-censored. Trials are averaged per
animal and session; the mean of trials is right-censored when any trial is
(the true mean is at least the recorded one).

%MPE (maximum possible effect) = 100 × (latency − baseline) / (cut-off − baseline)
per animal against its own baseline session; an animal at the cut-off has
%MPE = 100, the largest possible value (right-censored there too).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from neurotox.errors import InputError
from neurotox.io.battery import header_of, where
from neurotox.io.cipn import fail_first


def check_latencies(df: pd.DataFrame, cutoff: float, test: str) -> None:
    """Raise InputError at the first latency that is negative, missing or above the cut-off."""
    v = df["value"].to_numpy(float)
    for bad, what in ((~np.isfinite(v), "no latency"),
                      (v < 0, "a negative latency"),
                      (v > cutoff, f"a latency above the {test} cut-off of {cutoff:g} s")):
        fail_first(df, bad, "value", f"{test}: {what}; latencies lie in [0, {cutoff:g}] s "
                   "(the cut-off means: no response)")


def cutoff_marks(df: pd.DataFrame, cutoff: float | None,
                 test: str) -> tuple[pd.DataFrame, str]:
    """Latencies written as at the cut-off (``>20``, ``20+``, ``20*``, ``cut-off``) as it.

    Parameters
    ----------
    df
        Rows of one test, with the reader's ``cutoff_mark`` column when a cell was so written.
    cutoff
        The protocol's cut-off in s; ``None`` when the test is scored as counts.
    test
        Test name, for messages.

    Returns
    -------
    tuple
        The rows with those latencies set to the cut-off (right-censored by
        :func:`session_latencies`, as a latency written ``20`` is), and a note ('' if none).

    Raises
    ------
    InputError
        A marker in a count, or a number in the marker other than the cut-off
        (``>15`` with a 20 s cut-off).

    """
    marks = df["cutoff_mark"].fillna("") if "cutoff_mark" in df.columns else None
    if marks is None or not (marks != "").any():
        return df, ""
    marked = (marks != "").to_numpy()
    v = df["value"].to_numpy(float)
    bad = marked if cutoff is None else marked & np.isfinite(v) & (v != cutoff)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        what = ("a cut-off marker in a count (cold_plate_measure: count)" if cutoff is None
                else f"a latency marked at a cut-off other than the protocol's {cutoff:g} s "
                     "(parameter 'cutoff_s')")
        raise InputError(f"{test}: {what}, found {marks.iloc[i]!r}",
                         path=df.attrs.get("path"), where=where(df, i, header_of(df, "value")))
    out = df.assign(value=np.where(marked, cutoff, v))
    shown = ", ".join(repr(m) for m in sorted(set(marks[marked])))
    return out, (f"{test}: {int(marked.sum())} latencies written as at the cut-off ({shown}) "
                 f"read as the cut-off, {cutoff:g} s (right-censored)")


def session_latencies(df: pd.DataFrame, cutoff: float) -> pd.DataFrame:
    """Mean latency per subject × timepoint, censored when any trial reached the cut-off.

    Returns
    -------
    pandas.DataFrame
        ``subject, timepoint, value, censoring, n_trials, n_censored, rows``.

    """
    d = df.assign(_cens=df["value"] >= cutoff)
    g = d.groupby(["subject", "timepoint"], sort=False)
    out = g.agg(value=("value", "mean"), n_trials=("value", "size"),
                n_censored=("_cens", "sum"), first=("row", "min"), last=("row", "max"))
    out["censoring"] = np.where(out["n_censored"] > 0, "right", "none")
    out["rows"] = _rows(out["first"], out["last"])
    return out.drop(columns=["first", "last"]).reset_index()


def _rows(first: pd.Series, last: pd.Series) -> pd.Series:
    f, la = first.astype(int).astype(str), last.astype(int).astype(str)
    return ("row " + f).where(first == last, "rows " + f + "-" + la)


def percent_mpe(sessions: pd.DataFrame, baseline: str, cutoff: float) -> pd.DataFrame:
    """%MPE of every post-baseline session against the animal's baseline.

    Returns
    -------
    pandas.DataFrame
        ``subject, timepoint, value, censoring, reason, rows`` (reason non-empty: the
        baseline is missing or at the cut-off, so %MPE is undefined).

    """
    base = sessions[sessions["timepoint"] == baseline].set_index("subject")
    post = sessions[sessions["timepoint"] != baseline].copy()
    b = post["subject"].map(base["value"])
    b_cens = post["subject"].map(base["censoring"]).eq("right")
    with np.errstate(divide="ignore", invalid="ignore"):
        post["value"] = 100.0 * (post["value"] - b) / (cutoff - b)
    post["reason"] = np.where(b.isna(), f"no baseline ({baseline}) latency",
                              np.where(b_cens, "baseline latency at the cut-off: %MPE "
                                       "undefined", ""))
    post.loc[post["reason"] != "", "value"] = np.nan
    post["censoring"] = np.where((post["censoring"] == "right") & (post["reason"] == ""),
                                 "right", "none")
    return post[["subject", "timepoint", "value", "censoring", "reason", "rows"]]


def acetone_scores(df: pd.DataFrame, aggregate: str) -> pd.DataFrame:
    """Acetone test: per animal × session sum (or mean) of the 0-3 application scores.

    Raises
    ------
    InputError
        A score that is not 0, 1, 2 or 3.

    """
    fail_first(df, ~np.isin(df["value"].to_numpy(float), [0.0, 1.0, 2.0, 3.0]), "value",
               "acetone score must be 0, 1, 2 or 3")
    g = df.groupby(["subject", "timepoint"], sort=False)
    out = g.agg(value=("value", aggregate), n_trials=("value", "size"),
                first=("row", "min"), last=("row", "max"))
    out["rows"] = _rows(out["first"], out["last"])
    return out.drop(columns=["first", "last"]).reset_index()


def trial_means(df: pd.DataFrame, trim: str) -> pd.DataFrame:
    """Mean of trials per animal × session (electronic von Frey, counts, NCV inputs).

    ``trim="minmax"`` drops the lowest and the highest trial of sessions with at
    least four trials before averaging (the trimmed trials are counted).
    """
    d = df.copy()
    if trim == "minmax":
        g = d.groupby(["subject", "timepoint"], sort=False)["value"]
        n = g.transform("size")
        lo = d.index.isin(g.idxmin()) & (n >= 4)
        hi = d.index.isin(g.idxmax()) & (n >= 4)
        d = d.assign(_keep=~(lo | hi))
    else:
        d = d.assign(_keep=True)
    g = d.groupby(["subject", "timepoint"], sort=False)
    out = g.agg(first=("row", "min"), last=("row", "max"), n_trials=("value", "size"))
    out["value"] = d[d["_keep"]].groupby(["subject", "timepoint"], sort=False)["value"].mean()
    out["n_trimmed"] = out["n_trials"] - d.groupby(["subject", "timepoint"],
                                                   sort=False)["_keep"].sum()
    out["rows"] = _rows(out["first"], out["last"])
    return out.drop(columns=["first", "last"]).reset_index()


def usual_trials(sessions: pd.DataFrame) -> int:
    """The number of trials most sessions of a test have (ties: the larger).

    The protocol's trial or application count, as the sheet shows it: a session
    with fewer lost a trial (an empty wide-sheet cell, a deleted row).
    """
    counts = sessions["n_trials"].value_counts()
    return int(counts[counts == counts.max()].index.max())


def short_sessions(sessions: pd.DataFrame, test: str, what: str = "trials") -> str:
    """A note naming the sessions with fewer trials than the usual count ('' if none)."""
    usual = usual_trials(sessions)
    short = sessions[sessions["n_trials"] < usual]
    if short.empty:
        return ""
    listed = "; ".join(f"{r.subject} {r.timepoint} ({r.n_trials}, {r.rows})"
                       for r in short.head(10).itertuples())
    more = f"; and {len(short) - 10} more" if len(short) > 10 else ""
    return (f"{test}: {len(short)} session(s) with fewer {what} than the other sessions' "
            f"{usual} (a trial missing from the sheet), averaged over those present: "
            f"{listed}{more}")


def incomplete_sums(scores: pd.DataFrame) -> tuple[pd.DataFrame, str]:
    """Acetone sums over fewer applications than the usual count: excluded, with a warning.

    A sum over 2 of 3 applications is on another scale than the other animals'
    (a missing score of 2 would read as 0): the value is not computed and the
    session excluded with the reason and the partial sum.
    """
    usual = usual_trials(scores)
    short = scores["n_trials"] < usual
    out = scores.assign(reason="")
    if not short.any():
        return out, ""
    out.loc[short, "reason"] = [
        f"{n} of {usual} acetone applications scored (sum of those {v:g}): a sum over "
        "fewer applications is not comparable" for n, v in
        zip(out.loc[short, "n_trials"], out.loc[short, "value"], strict=True)]
    out.loc[short, "value"] = np.nan
    listed = "; ".join(f"{r.subject} {r.timepoint} ({r.n_trials} of {usual}, {r.rows})"
                       for r in out[short].head(10).itertuples())
    return out, (f"warning: acetone: {int(short.sum())} session(s) with fewer applications "
                 f"than the other sessions' {usual}: sum not computed, excluded: {listed}")
