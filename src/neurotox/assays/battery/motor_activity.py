"""Motor activity: per-interval counts, session totals and within-session habituation.

Counts per interval are emitted as a repeated-measures endpoint
(``motor_activity_counts``, timepoint ``<session>_binNN``), which the statistics
engine analyses with a mixed model (group × time, subject random), where every
``<session>_binNN`` label is one level of time: with several sessions, one model
covers all their intervals. The
session total and the habituation index (decline from the first to the last
interval) are per-session endpoints.

Two guideline checks are reported as notes (they are deviations, not errors):
intervals must be at most 10 minutes, and activity of the control group must
approach an asymptote by the end of the session.

References
----------
.. [1] OECD (1997). Test No. 424, paragraph 30 (motor activity).
.. [2] US EPA (1998). OPPTS 870.6200, section (e)(6) and 870.6300 (e)(3)(ii).

"""

from __future__ import annotations

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from neurotox.assays.base import AssayPlugin, AssayResult, register, said
from neurotox.assays.battery.common import Recorder, one_input, subjects_of, timepoint
from neurotox.assays.battery.conventions import motor_activity_conventions
from neurotox.io import battery as io
from neurotox.study import AssaySpec, Study

ASSAY = "motor_activity"


class MotorActivityParameters(BaseModel):
    """Parameters of the motor-activity assay.

    Attributes
    ----------
    interval_minutes
        Interval length when the export does not state it.
    max_interval_minutes
        Longest interval the guideline accepts (10 min in TG 424 / 870.6200).
    asymptote_tolerance
        The session reaches asymptote when the control mean of the last two
        intervals differs by at most this fraction of the first interval's mean.
    sheet
        Worksheet of an xlsx export.
    ignore_columns
        Further columns of the export that hold no counts (lower case, ``_`` for
        spaces); any other column that is not an interval is an error.

    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    interval_minutes: float | None = Field(default=None, gt=0, le=120)
    max_interval_minutes: float = Field(default=10.0, gt=0)
    asymptote_tolerance: float = Field(default=0.10, gt=0, lt=1)
    sheet: str | None = None
    ignore_columns: tuple[str, ...] = ()


def habituation_pct(counts: np.ndarray) -> float:
    """100 × (1 − last / first interval); NaN when the first interval is zero."""
    if len(counts) < 2 or counts[0] <= 0:
        return float("nan")
    return float(100.0 * (1.0 - counts[-1] / counts[0]))


def interval_notes(data: pd.DataFrame, params: MotorActivityParameters, name: str) -> list[str]:
    """Guideline check of the interval length."""
    minutes = data["minutes"].dropna().unique()
    if len(minutes) == 0:
        return [f"motor activity {name}: interval length not stated in the file or the "
                "protocol; the <= 10 min interval requirement was not checked"]
    longest = float(np.max(minutes))
    unequal = []
    start = data["start"].min() if "start" in data.columns else 0.0
    if start > 0:
        unequal.append(f"warning: motor activity {name}: the first interval starts at "
                       f"{start:g} min, not 0 (is the first interval's column missing?)")
    if not np.allclose(minutes, longest, rtol=0, atol=1e-6):
        unequal.append(f"warning: motor activity {name}: intervals of unequal length "
                       f"({', '.join(f'{m:g}' for m in sorted(minutes))} min); the counts "
                       "of the intervals are compared as they are, not per minute")
    if longest > params.max_interval_minutes:
        return unequal + [f"DEVIATION motor activity {name}: intervals of {longest:g} min "
                          f"exceed the guideline maximum of {params.max_interval_minutes:g} min"]
    return unequal + [f"motor activity {name}: intervals of {longest:g} min (<= "
                      f"{params.max_interval_minutes:g} min)"]


def asymptote_notes(data: pd.DataFrame, control_ids: set[str],
                    params: MotorActivityParameters, name: str) -> list[str]:
    """Check per session that control activity levels off by the last intervals."""
    notes = []
    ctrl = data[data["subject"].isin(control_ids)]
    for session, d in ctrl.groupby("session", sort=True):
        means = d.groupby("interval")["counts"].mean().sort_index().to_numpy()
        if len(means) < 3 or means[0] <= 0:
            notes.append(f"motor activity {name} session {session}: asymptote not assessable "
                         f"({len(means)} intervals)")
            continue
        change = abs(means[-1] - means[-2]) / means[0]
        ok = change <= params.asymptote_tolerance
        notes.append(f"{'' if ok else 'DEVIATION '}motor activity {name} session {session}: "
                     f"control activity {'reaches' if ok else 'does not reach'} asymptote "
                     f"(last-interval change {100 * change:.1f}% of the first interval, "
                     f"tolerance {100 * params.asymptote_tolerance:.0f}%)")
    return notes


def _labels(sessions: pd.Series, suffixes: pd.Series | None = None) -> list[str]:
    if suffixes is None:
        return [timepoint(s) for s in sessions]
    return [timepoint(s, x) for s, x in zip(sessions, suffixes, strict=True)]


def emit(rec: Recorder, data: pd.DataFrame) -> pd.DataFrame:
    """Add interval, total and habituation rows; return per-session summaries.

    Rows are added per animal × session (intervals, then total, then habituation),
    animals and sessions sorted, computed column-wise.
    """
    d = data.sort_values(["subject", "session", "interval"], kind="stable")
    counts = pd.DataFrame({
        "subject": d["subject"], "session": d["session"], "_k": 0, "_i": d["interval"],
        "endpoint": "motor_activity_counts", "value": d["counts"].astype(float),
        "timepoint": _labels(d["session"], "bin" + d["interval"].map("{:02d}".format)),
        "where": "row " + d["row"].astype(str) + ", column " + d["column"].map(repr),
        "reason": ""})
    g = d.groupby(["subject", "session"], sort=True)
    per = g.agg(intervals=("counts", "size"), total=("counts", "sum"),
                first=("counts", "first"), last=("counts", "last"),
                row_min=("row", "min"), row_max=("row", "max")).reset_index()
    n_int = data.groupby("session")["interval"].max()
    expected = per["session"].map(n_int)
    reason = np.where(per["intervals"] == expected, "",
                      "session incomplete (" + per["intervals"].astype(str) + " of "
                      + expected.astype(str) + " intervals)")
    with np.errstate(divide="ignore", invalid="ignore"):
        hab = np.where((per["intervals"] >= 2) & (per["first"] > 0),
                       100.0 * (1.0 - per["last"] / per["first"]), np.nan)
    hab_reason = np.where(reason != "", reason,
                          np.where(np.isfinite(hab), "", "no activity in the first interval"))
    tps = _labels(per["session"])
    where = ("rows " + per["row_min"].astype(str) + "-" + per["row_max"].astype(str)).to_numpy()
    base = {"subject": per["subject"], "session": per["session"], "_i": 0, "timepoint": tps,
            "where": where}
    totals = pd.DataFrame({**base, "_k": 1, "endpoint": "motor_activity_total",
                           "value": per["total"].astype(float), "reason": reason})
    habs = pd.DataFrame({**base, "_k": 2, "endpoint": "motor_activity_habituation_pct",
                         "value": hab, "reason": hab_reason})
    rows = pd.concat([counts, totals, habs], ignore_index=True).sort_values(
        ["subject", "session", "_k", "_i"], kind="stable")
    rec.add_frame(rows.drop(columns=["session", "_k", "_i"]))
    return pd.DataFrame({"subject": per["subject"], "session": per["session"],
                         "intervals": per["intervals"], "total": per["total"],
                         "habituation_pct": hab})


def run(study: Study, spec: AssaySpec, params: MotorActivityParameters) -> AssayResult:
    """Read a motor-activity export and emit interval counts, totals and habituation."""
    path = one_input(study, spec)
    subjects = subjects_of(study, spec)
    data = io.read_motor_activity(path, interval_minutes=params.interval_minutes,
                                  sheet=params.sheet, ignore_columns=params.ignore_columns)
    io.check_subjects(data, subjects.index)
    rec = Recorder(study, subjects, ASSAY, path.name)
    summary = emit(rec, data)
    control = set(subjects.index[subjects["group"] == study.control.id])
    notes = interval_notes(data, params, path.name) + asymptote_notes(data, control, params,
                                                                       path.name)
    return said(AssayResult(endpoints=rec.table(), details={"motor_activity_sessions": summary},
                            notes=notes, inputs=[path]), motor_activity_conventions(params))


register(AssayPlugin(ASSAY, MotorActivityParameters, run,
                     "Photobeam / tracking motor activity counts per interval per session "
                     "(long or wide export)."))
