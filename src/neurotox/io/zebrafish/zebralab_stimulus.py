"""ZebraLab exports with stimulus rows (newer ZebraBox/ZebraLab versions).

Layout ``zebralab-stimulus``
----------------------------
The tracking columns of ``zebralab-tracking`` (``location, start, end, smldist,
lardist, inadist …``) plus ``startreason``/``endreason`` and ``stimuli_*``
columns (exports without ``stimuli_*`` columns are ``zebralab-tracking``). Two
kinds of rows interleave for every well:

* regular integration periods (``Beginning of period`` → ``End of period``):
  these become the bins of :attr:`Export.data`;
* rows started by the stimulus chronology (``Chronolog start``), each ending
  when a device changes state (``TOP_LIGHT``, ``SOUND`` …). A row whose
  ``stimuli_name`` names a stimulus (``Top light``, ``Vibration``) with a
  non-zero intensity (``stimuli_start``) is a stimulus presentation and becomes
  an event of :attr:`Export.events`; the rows between stimuli (``Null`` or
  intensity 0) repeat time the regular bins already cover and are not used
  (counted in the notes).

Stimulus and regular rows overlap in time, so the regular bins alone hold each
moment once. Wells come from ``aname`` (``A01_Name``) where it names a well,
otherwise from the location number, row-major. The plate ID is the export's
``samplecode`` when filled in; otherwise the file name, said in the notes (it
can be overridden with ``--plate-id`` or the study's ``plate_ids``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from neurotox.errors import FormatError
from neurotox.io.zebrafish._tables import (
    bins_from_starts,
    numeric,
    rows_where,
    wells,
)
from neurotox.io.zebrafish.base import (
    EVENT_COLUMNS,
    Export,
    Reader,
    Source,
    norm,
    register_reader,
)
from neurotox.io.zebrafish.viewpoint import (
    _any_header,
    _finish,
    _tracking_wells,
    check_periods,
    distances_to_mm,
    load_zebralab,
    movement_distance,
    plate_ids,
    zebralab_header,
)

FORMAT = "zebralab-stimulus"
#: Start/end reasons of the regular integration periods (English and French exports).
REGULAR_REASONS = {"beginning_of_period", "end_of_period", "end_of_session",
                   "debut_de_la_tranche_de_temps", "d_but_de_la_tranche_de_temps",
                   "fin_de_la_tranche_de_temps"}
#: Stimulus names that mean "no stimulus" (the interval between two presentations).
NO_STIMULUS = {"", "null", "none", "nan", "off"}
_WELL_NAME = r"^\s*([A-Pa-p]\d{1,2})(?:[_\-\s].*)?$"


def _header(cols: set[str]) -> bool:
    return zebralab_header(cols, stimulus=True)


def _match(src: Source) -> bool:
    return _any_header(src, _header)


def _read(src: Source) -> Export:
    df, measures = load_zebralab(src, _header, ["endreason"])
    notes: list[str] = []
    regular = _regular_rows(df)
    if not regular.any():
        raise FormatError("expected regular integration rows (endreason 'End of period'), "
                          f"found only {_reasons(df)}", path=src.path, where="column 'endreason'")
    check_periods(df, src, regular)
    distances_to_mm(df, src, notes)
    df = df.assign(well=_wells(df, src, notes), plate=plate_ids(df, src, notes))
    bins = _bins(df[regular], src, notes, measures)
    events = _events(df[~regular].copy(), src, notes, measures)
    if events is not None:
        notes.append(f"{len(events)} stimulus row(s) read as stimulus events "
                     f"({_counts(events)}); regular {_width(bins)}-s periods are the bins")
    return Export(FORMAT, "bins", _finish(bins), src.path, notes, events=events)


def _regular_rows(df: pd.DataFrame) -> np.ndarray:
    end = df["endreason"].map(norm)
    start = df["startreason"].map(norm) if "startreason" in df.columns else end
    return (end.isin(REGULAR_REASONS) | start.isin(REGULAR_REASONS)).to_numpy()


def _reasons(df: pd.DataFrame) -> str:
    return ", ".join(repr(v) for v in sorted(df["endreason"].astype(str).unique())[:8])


def _wells(df: pd.DataFrame, src: Source, notes: list[str]) -> pd.Series:
    if "aname" in df.columns:
        names = df["aname"].astype(str).str.extract(_WELL_NAME, expand=False)
        if names.notna().all():
            notes.append("wells from the animal names (column aname)")
            return wells(names, src, "aname")
    return _tracking_wells(df, src, notes)


def _bins(df: pd.DataFrame, src: Source, notes: list[str], measures: list[str]) -> pd.DataFrame:
    bin_index, _ = bins_from_starts(df["start"])
    out = pd.DataFrame({"plate": df["plate"], "well": df["well"], "animal": df["well"],
                        "bin": bin_index, "start_s": df["start"], "end_s": df["end"],
                        "distance": movement_distance(df)})
    notes.append("distance per bin = smldist + lardist (inactive distance not counted)"
                 if out["distance"].notna().any() else
                 "quantization-mode export: no distance; activity durations only")
    for c in measures:
        out[c] = df[c].to_numpy()
    return out


def _stimulus_names(df: pd.DataFrame, src: Source) -> pd.Series:
    if "stimuli_name" not in df.columns:
        raise FormatError("expected column 'stimuli_name' to tell stimulus rows from the "
                          "intervals between them, found none", path=src.path)
    name = df["stimuli_name"].astype("string").fillna("").str.strip()
    if "stimuli_start" in df.columns:
        numeric(df, ["stimuli_start"], src)
        name = name.where(df["stimuli_start"].fillna(1.0).ne(0.0), "")
    return name.where(~name.str.lower().isin(NO_STIMULUS), "")


def _events(df: pd.DataFrame, src: Source, notes: list[str],
            measures: list[str]) -> pd.DataFrame | None:
    if df.empty:
        notes.append("no stimulus rows in the export")
        return None
    name = _stimulus_names(df, src)
    keep = name.ne("").to_numpy()
    if (~keep).any():
        notes.append(f"{int((~keep).sum())} row(s) between stimuli (stimuli_name Null or "
                     "intensity 0) not used: the regular bins cover that time")
    if not keep.any():
        return None
    ev = df[keep]
    out = pd.DataFrame({"plate": ev["plate"], "well": ev["well"], "animal": ev["well"],
                        "stimulus": name[keep].to_numpy(), "start_s": ev["start"],
                        "end_s": ev["end"], "distance": movement_distance(ev)})
    for c in measures:
        out[c] = ev[c].to_numpy()
    out["row"] = rows_where(ev, src)     # where the row is in the file, for messages
    out = out.sort_values(["plate", "animal", "start_s"], kind="stable")
    out.insert(3, "event", out.groupby(["plate", "animal"]).cumcount())
    _check_events(out, src)
    return out[[*EVENT_COLUMNS, *(c for c in out.columns if c not in EVENT_COLUMNS)]] \
        .reset_index(drop=True)


def _check_events(ev: pd.DataFrame, src: Source) -> None:
    for col, bad, what in (("start_s", ev["start_s"].isna(), "a start time"),
                           ("end_s", ~(ev["end_s"] >= ev["start_s"]), "end >= start"),
                           ("start_s", ~np.isfinite(ev["start_s"]) | (ev["start_s"] < 0),
                            "a finite time >= 0"),
                           ("distance", ev["distance"] < 0, "a distance >= 0"),
                           ("distance", np.isinf(ev["distance"]), "a finite distance")):
        if bad.any():
            r = ev[bad.to_numpy()].iloc[0]
            raise FormatError(f"expected {what}, found {r[col]:g}", path=src.path,
                              where=f"stimulus row of larva {r['animal']} at "
                                    f"{r['start_s']:g} s, column {col!r}")


def _counts(events: pd.DataFrame) -> str:
    per = events.groupby("stimulus")["event"].size()
    return ", ".join(f"{n} {s}" for s, n in per.items())


def _width(bins: pd.DataFrame) -> str:
    return f"{float(np.median(bins['end_s'] - bins['start_s'])):g}"


register_reader(Reader(
    FORMAT,
    "ZebraLab export with stimulus rows: columns location, start, end, endreason, "
    "stimuli_name and smldist/lardist",
    _match, _read))
