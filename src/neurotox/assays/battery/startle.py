"""Auditory startle: block means, habituation across blocks and prepulse inhibition.

Only pulse-alone trials enter amplitude, latency and habituation. Prepulse
inhibition is computed per prepulse level when prepulse+pulse trials are
present: ``PPI % = 100 × (1 − mean amplitude(prepulse+pulse) / mean amplitude(pulse
alone))``. No-stimulus trials (background activity) enter no endpoint and are
not kept in the detail table.

References
----------
.. [1] US EPA (1998). OPPTS 870.6300, section (e)(3)(iii) (auditory startle,
   habituation).
.. [2] OECD (2007). Test No. 426, paragraph 33 (auditory startle).

"""

from __future__ import annotations

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from neurotox.assays.base import AssayPlugin, AssayResult, register, said
from neurotox.assays.battery.common import Recorder, one_input, subjects_of, timepoint
from neurotox.assays.battery.conventions import startle_conventions
from neurotox.io import battery as io
from neurotox.study import AssaySpec, Study

ASSAY = "startle"


class StartleParameters(BaseModel):
    """Parameters of the auditory startle assay.

    Attributes
    ----------
    min_trials_per_block
        Pulse-alone trials a block needs; blocks with fewer are excluded.
    sheet
        Worksheet of an xlsx export.
    ignore_columns
        Further columns of the export to skip (lower case, ``_`` for spaces); any
        other unknown column is an error.

    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    min_trials_per_block: int = Field(default=1, ge=1)
    sheet: str | None = None
    ignore_columns: tuple[str, ...] = ()


def _pp_label(db: float) -> str:
    return "pp" if not np.isfinite(db) else f"pp{db:g}"


class SessionStats:
    """Per animal × session aggregates of a trial table, computed in one pass each.

    Parameters
    ----------
    data
        Trials as returned by :func:`neurotox.io.battery.read_startle`.

    """

    KEY = ["subject", "session"]

    def __init__(self, data: pd.DataFrame):
        pulse = data[data["trial_type"] == "pulse"]
        self.rows = data.groupby(self.KEY, sort=True)["row"].agg(["min", "max"])
        self.blocks = pulse.groupby([*self.KEY, "block"], sort=True)["amplitude"].agg(
            ["mean", "size"])
        self.pulse = pulse.groupby(self.KEY)["amplitude"].agg(["mean", "size"])
        self.latency = pulse.groupby(self.KEY)["latency"].mean()
        self.has_latency = data["latency"].notna().groupby(
            [data["subject"], data["session"]]).any()
        pp = data[data["trial_type"] == "prepulse"]
        self.prepulse = pp.groupby([*self.KEY, pp["prepulse_db"].fillna(-np.inf)],
                                   sort=True)["amplitude"].mean()
        #: pulse-alone blocks of each session (over all animals): a complete session has all
        self.session_blocks = pulse.groupby("session")["block"].nunique()

    def blocks_of(self, key: tuple[str, str]) -> pd.DataFrame:
        """Pulse-alone block means and trial counts of one animal × session."""
        try:
            return self.blocks.xs(key, level=[0, 1])
        except KeyError:
            return self.blocks.iloc[:0].droplevel([0, 1])

    def prepulse_of(self, key: tuple[str, str]) -> pd.Series:
        """Mean prepulse+pulse amplitude per prepulse level of one animal × session."""
        try:
            return self.prepulse.xs(key, level=[0, 1])
        except KeyError:
            return pd.Series(dtype=float)


def emit_session(rec: Recorder, key: tuple[str, str], stats: SessionStats,
                 params: StartleParameters) -> dict[str, float]:
    """Add the rows of one animal × session; return its summary."""
    subject, session = key
    lo, hi = stats.rows.loc[key]
    rows = f"rows {lo}-{hi}"
    blocks = stats.blocks_of(key)
    for block, b in blocks.iterrows():
        short = b["size"] < params.min_trials_per_block
        rec.add(subject, "startle_amplitude_block", float(b["mean"]),
                timepoint=timepoint(session, f"block{block}"), where=rows,
                reason=f"only {int(b['size'])} pulse trials in block" if short else "")
    tp = timepoint(session)
    n_pulse = int(stats.pulse["size"].get(key, 0))
    pulse_mean = float(stats.pulse["mean"].get(key, np.nan))
    expected = int(stats.session_blocks.get(session, 0))
    cut = "" if len(blocks) >= expected else \
        f"session incomplete ({len(blocks)} of {expected} blocks)"
    none = "" if n_pulse else "no pulse-alone trials"
    rec.add(subject, "startle_amplitude_mean", pulse_mean, timepoint=tp, where=rows,
            reason=none or cut)
    if stats.has_latency.get(key, False):
        lat = float(stats.latency.get(key, np.nan))
        rec.add(subject, "startle_latency_mean", lat, timepoint=tp, where=rows,
                reason=cut or ("" if np.isfinite(lat) else "no latency recorded"))
    if len(blocks) >= 2:
        first, last = blocks["mean"].iloc[0], blocks["mean"].iloc[-1]
        hab = 100.0 * (1.0 - last / first) if first > 0 else np.nan
        rec.add(subject, "startle_habituation_pct", hab, timepoint=tp, where=rows,
                reason=cut or ("" if np.isfinite(hab) else "first block mean is not positive"))
    summary = {"subject": subject, "session": session, "pulse_trials": n_pulse,
               "amplitude_mean": pulse_mean}
    for db, amp in stats.prepulse_of(key).items():
        label = _pp_label(db)
        ppi = 100.0 * (1.0 - amp / pulse_mean) if pulse_mean > 0 else np.nan
        rec.add(subject, "prepulse_inhibition_pct", ppi, timepoint=timepoint(session, label),
                where=rows, reason="" if np.isfinite(ppi) else "pulse-alone mean is not positive")
        summary[f"ppi_{label}"] = ppi
    return summary


def run(study: Study, spec: AssaySpec, params: StartleParameters) -> AssayResult:
    """Read per-trial startle data and emit block, session, habituation and PPI rows."""
    path = one_input(study, spec)
    subjects = subjects_of(study, spec)
    data = io.read_startle(path, sheet=params.sheet, ignore_columns=params.ignore_columns)
    io.check_subjects(data, subjects.index)
    rec = Recorder(study, subjects, ASSAY, path.name)
    stats = SessionStats(data)
    summary = [emit_session(rec, key, stats, params) for key in stats.rows.index]
    n_pp = int((data["trial_type"] == "prepulse").sum())
    notes = [f"startle {path.name}: {data['subject'].nunique()} animals, "
             f"{data['block'].nunique()} blocks, "
             + (f"{n_pp} prepulse trials (PPI computed)" if n_pp else
                "no prepulse trials (PPI not computed)")]
    return said(AssayResult(endpoints=rec.table(),
                            details={"startle_sessions": pd.DataFrame(summary)},
                            notes=notes, inputs=[path]), startle_conventions(params))


register(AssayPlugin(ASSAY, StartleParameters, run,
                     "Auditory startle per-trial amplitude/latency: block means, habituation, "
                     "prepulse inhibition."))
