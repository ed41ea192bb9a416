"""Motor activity: per-interval counts, session totals and within-session habituation.

Counts per interval are emitted as a repeated-measures endpoint
(``motor_activity_counts``, timepoint ``<session>_binNN``), which the statistics
engine analyses with a mixed model (group × interval, subject random). The
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

from neurotox.assays.base import AssayPlugin, AssayResult, register
from neurotox.assays.battery.common import Recorder, one_input, subjects_of, timepoint
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

    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    interval_minutes: float | None = Field(default=None, gt=0, le=120)
    max_interval_minutes: float = Field(default=10.0, gt=0)
    asymptote_tolerance: float = Field(default=0.10, gt=0, lt=1)
    sheet: str | None = None


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
    if longest > params.max_interval_minutes:
        return [f"DEVIATION motor activity {name}: intervals of {longest:g} min exceed the "
                f"guideline maximum of {params.max_interval_minutes:g} min"]
    return [f"motor activity {name}: intervals of {longest:g} min (<= "
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


def emit(rec: Recorder, data: pd.DataFrame) -> pd.DataFrame:
    """Add interval, total and habituation rows; return per-session summaries."""
    n_int = data.groupby("session")["interval"].max()
    summary = []
    for (subject, session), d in data.groupby(["subject", "session"], sort=True):
        d = d.sort_values("interval")
        for r in d.itertuples(index=False):
            rec.add(subject, "motor_activity_counts", r.counts,
                    timepoint=timepoint(session, f"bin{r.interval:02d}"),
                    where=f"row {r.row}, column {r.column!r}")
        complete = len(d) == n_int[session]
        reason = "" if complete else f"session incomplete ({len(d)} of {n_int[session]} intervals)"
        counts = d["counts"].to_numpy()
        rows = f"rows {d['row'].min()}-{d['row'].max()}"
        rec.add(subject, "motor_activity_total", float(counts.sum()),
                timepoint=timepoint(session), where=rows, reason=reason)
        hab = habituation_pct(counts)
        rec.add(subject, "motor_activity_habituation_pct", hab, timepoint=timepoint(session),
                where=rows, reason=reason or ("" if np.isfinite(hab) else
                                              "no activity in the first interval"))
        summary.append({"subject": subject, "session": session, "intervals": len(d),
                        "total": counts.sum(), "habituation_pct": hab})
    return pd.DataFrame(summary)


def run(study: Study, spec: AssaySpec, params: MotorActivityParameters) -> AssayResult:
    """Read a motor-activity export and emit interval counts, totals and habituation."""
    path = one_input(study, spec)
    subjects = subjects_of(study, spec)
    data = io.read_motor_activity(path, interval_minutes=params.interval_minutes,
                                  sheet=params.sheet)
    io.check_subjects(data, subjects.index)
    rec = Recorder(study, subjects, ASSAY, path.name)
    summary = emit(rec, data)
    control = set(subjects.index[subjects["group"] == study.control.id])
    notes = interval_notes(data, params, path.name) + asymptote_notes(data, control, params,
                                                                       path.name)
    return AssayResult(endpoints=rec.table(), details={"motor_activity_sessions": summary},
                       notes=notes, inputs=[path])


register(AssayPlugin(ASSAY, MotorActivityParameters, run,
                     "Photobeam / tracking motor activity counts per interval per session "
                     "(long or wide export)."))
