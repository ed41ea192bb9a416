"""Responses to stimuli (vibration/tap, light or dark flash, sound): per presentation, per larva.

For every larva and presentation, the movement in the response window is
measured from the export's own stimulus rows (ZebraLab integrates each stimulus
period; used when ``response_window_s`` is not set) or from the bins whose
centre lies in ``[onset, onset + window)``. A larva *responded* when it moved
more than ``response_threshold_mm`` in the window. Per larva and stimulus:

``stimulus_response_rate``
    Percent of presentations with a response.
``stimulus_distance``, ``stimulus_activity``
    Mean distance (mm) and mean active time (s, small + large movement
    durations, where exported) in the window.
``stimulus_latency``
    Median over responses of the time from onset to the start of the bin in
    which the distance moved since onset first exceeded the threshold; only
    when the bins are at most ``latency_resolution_s`` wide (the latency's
    resolution is the bin width).
``stimulus_habituation_slope``, ``stimulus_habituation_ratio``
    Least-squares slope of the window distance over the presentation number
    (mm per presentation), and the mean distance of the last
    ``habituation_block`` presentations divided by that of the first.

References
----------
Best JD et al. (2008) Non-associative learning in larval zebrafish.
Neuropsychopharmacology 33:1206-1215 (acoustic/vibration startle habituation).
Wolman MA et al. (2011) Chemical modulation of memory formation in larval
zebrafish. PNAS 108:15468-15473.

"""

from __future__ import annotations

import numpy as np
import pandas as pd

from neurotox.assays.zebrafish.larvae import LarvaMatrix, endpoint_block
from neurotox.assays.zebrafish.stimuli import Stimulus, from_export_names, presentations
from neurotox.errors import InputError
from neurotox.io.zebrafish import Export

_ACTIVE = (("smldur", "lardur"), ("middur", "burdur"))
RESPONSE_COLUMNS = ["subject", "plate", "well", "group", "dose", "stimulus", "type", "repeat",
                    "onset_s", "window_start_s", "window_end_s", "distance", "activity_s",
                    "responded", "latency_s", "excluded"]


def export_events(exports: list[Export], params) -> pd.DataFrame | None:
    """Stimulus rows of every export (inactive distance added when the protocol counts it)."""
    parts = [e.events.assign(source=str(e.path)) for e in exports if e.events is not None]
    if not parts:
        return None
    ev = pd.concat(parts, ignore_index=True)
    if params.count_inactive_distance and "inadist" in ev.columns:
        ev["distance"] = ev["distance"] + ev["inadist"]
    return ev


def stimulus_analysis(exports: list[Export], larvae: pd.DataFrame, m: LarvaMatrix, params,
                      notes: list[str]) -> tuple[list[pd.DataFrame], dict[str, pd.DataFrame]]:
    """Endpoint blocks and detail tables of the protocol's stimuli (none without stimuli)."""
    events = export_events(exports, params)
    stimuli = params.stimuli
    if not stimuli and events is not None and params.stimulus_times != "protocol":
        stimuli = from_export_names(sorted(set(events["stimulus"].astype(str))))
        notes.append(f"stimuli taken from the export: {', '.join(s.name for s in stimuli)}")
    if not stimuli:
        return [], {}
    names = [s.name for s in stimuli]
    if len(set(names)) != len(names):
        twice = sorted({n for n in names if names.count(n) > 1})
        raise InputError(f"stimulus name(s) {twice} appear twice in the protocol's stimuli")
    source = _onset_source(params, events)
    pres = presentations(stimuli, events, source=source, notes=notes)
    resp = responses(pres, larvae, m, params, notes,
                     events=events if source == "export" else None, stimuli=stimuli,
                     rows_exported=events is not None)
    return endpoint_blocks(resp, larvae, m, params), {
        "stimulus_responses": resp, "stimulus_by_repeat": by_repeat(resp)}


def _onset_source(params, events: pd.DataFrame | None) -> str:
    if params.stimulus_times == "export" and events is None:
        raise InputError("stimulus_times is 'export' but no export has stimulus rows")
    if params.stimulus_times == "protocol" or events is None:
        return "protocol"
    return "export"


def responses(pres: pd.DataFrame, larvae: pd.DataFrame, m: LarvaMatrix, params,
              notes: list[str], *, events: pd.DataFrame | None,
              stimuli: tuple[Stimulus, ...] = (), rows_exported: bool = False) -> pd.DataFrame:
    """One row per larva × presentation: window, distance, activity, response, latency.

    ``events`` are the export's stimulus rows to measure from (None: the bins);
    ``rows_exported`` says whether the export had any (for the error message).
    """
    use_rows = events is not None and params.response_window_s is None
    if use_rows:
        dist, act, lo, hi = _from_rows(pres, larvae, events, stimuli)
        lat = np.full_like(dist, np.nan)
        notes.append("stimulus response windows = the export's stimulus rows (the periods "
                     "the instrument integrated); latency needs finer bins: not reported")
    else:
        dist, act, lo, hi, lat = _from_bins(pres, m, params, notes,
                                            rows=rows_exported or events is not None)
    n, k = len(larvae), len(pres)
    responded = dist > params.response_threshold_mm
    out = pd.DataFrame({c: np.repeat(larvae[c].to_numpy(), k)
                        for c in ("subject", "plate", "well", "group", "dose")})
    for c in ("stimulus", "type", "repeat", "onset_s"):
        out[c] = np.tile(pres[c].to_numpy(), n)
    out["window_start_s"], out["window_end_s"] = lo.reshape(-1), hi.reshape(-1)
    out["distance"], out["activity_s"] = dist.reshape(-1), act.reshape(-1)
    out["responded"] = np.where(np.isfinite(dist), responded, np.nan).reshape(-1)
    out["latency_s"] = np.where(responded, lat, np.nan).reshape(-1)
    out["excluded"] = np.repeat(larvae["exclusion_reason"].ne("").to_numpy(), k)
    return out[RESPONSE_COLUMNS]


def _from_rows(pres: pd.DataFrame, larvae: pd.DataFrame, events: pd.DataFrame,
               stimuli: tuple[Stimulus, ...]):
    """Larva × presentation arrays from the export's stimulus rows."""
    n, k = len(larvae), len(pres)
    dist, act = np.full((n, k), np.nan), np.full((n, k), np.nan)
    lo, hi = np.full((n, k), np.nan), np.full((n, k), np.nan)
    row_of = {key: i for i, key in enumerate(zip(larvae["plate"].astype(str),
                                                  larvae["animal"].astype(str), strict=True))}
    active = next((c for c in _ACTIVE if all(x in events.columns for x in c)), None)
    for stim in stimuli:
        own = events[events["stimulus"].astype(str).map(stim.matches).to_numpy()] \
            .sort_values(["plate", "animal", "start_s"], kind="stable")
        cols = np.flatnonzero(pres["stimulus"].to_numpy() == stim.name)
        rank = own.groupby(["plate", "animal"]).cumcount().to_numpy()
        rows = np.asarray([row_of.get((str(p), str(a)), -1)
                           for p, a in zip(own["plate"], own["animal"], strict=True)], dtype=int)
        ok = (rows >= 0) & (rank < len(cols))
        r, c = rows[ok], cols[rank[ok]]
        dist[r, c] = own["distance"].to_numpy(float)[ok]
        lo[r, c], hi[r, c] = own["start_s"].to_numpy(float)[ok], own["end_s"].to_numpy(float)[ok]
        if active is not None:
            act[r, c] = own[list(active)].sum(axis=1).to_numpy(float)[ok]
    return dist, act, lo, hi


def _from_bins(pres: pd.DataFrame, m: LarvaMatrix, params, notes: list[str], *,
               rows: bool = False):
    """Larva × presentation arrays from the bins (centre inside the window)."""
    width = float(np.nanmedian(m.ends - m.starts))
    onsets = pres["onset_s"].to_numpy(float)
    window = np.full(len(pres), params.response_window_s) if params.response_window_s \
        else pres["duration_s"].to_numpy(float)
    if width > window.min() + 1e-9:
        fix = ("use the export's stimulus rows (leave response_window_s unset), a longer "
               "window or finer bins") if rows else \
            ("the export has no stimulus rows: export finer integration periods or give a "
             "longer response_window_s")
        raise InputError(f"the response window ({window.min():g} s) is shorter than the "
                         f"export's {width:g}-s bins: {fix}",
                         path=", ".join(sorted(set(map(str, m.sources)))))
    centre = (m.starts + m.ends) / 2
    masks = (centre[None, :] >= onsets[:, None]) & (centre[None, :] < (onsets + window)[:, None])
    dist = np.stack([m.D[:, mk].sum(axis=1) if mk.any() else np.full(len(m.D), np.nan)
                     for mk in masks], axis=1)
    active = next((c for c in _ACTIVE if all(x in m.extra for x in c)), None)
    act = np.full_like(dist, np.nan) if active is None else np.stack(
        [sum(m.extra[x][:, mk].sum(axis=1) for x in active) for mk in masks], axis=1)
    lat = _latency(m, masks, onsets, params, width, notes)
    lo = np.broadcast_to(onsets, dist.shape).copy()
    return dist, act, lo, lo + window, lat


def _latency(m: LarvaMatrix, masks: np.ndarray, onsets: np.ndarray, params, width: float,
             notes: list[str]) -> np.ndarray:
    lat = np.full((len(m.D), len(onsets)), np.nan)
    if width > params.latency_resolution_s + 1e-9:
        notes.append(f"stimulus latency not reported: the {width:g}-s bins are wider than "
                     f"latency_resolution_s ({params.latency_resolution_s:g} s)")
        return lat
    notes.append(f"stimulus latency resolution: {width:g} s (bin width)")
    for j, mk in enumerate(masks):
        idx = np.flatnonzero(mk)
        cum = np.nancumsum(m.D[:, idx], axis=1)
        over = cum > params.response_threshold_mm
        first = np.argmax(over, axis=1)
        hit = over.any(axis=1)
        lat[hit, j] = np.maximum(m.starts[idx[first[hit]]] - onsets[j], 0.0)
    return lat


# ------------------------------------------------------------------ endpoints


def endpoint_blocks(resp: pd.DataFrame, larvae: pd.DataFrame, m: LarvaMatrix,
                    params) -> list[pd.DataFrame]:
    """Per larva and stimulus: response rate, window distance/activity, latency, habituation.

    The stimulus is the endpoint's timepoint; its ``time_order`` is the order of
    the stimuli's first presentations in the run (a name says nothing of it).
    """
    blocks = []
    k = params.habituation_block
    first = resp.groupby("stimulus", sort=False)["onset_s"].min()
    order = {str(n): float(i) for i, n in enumerate(first.sort_values(kind="stable").index)}
    for name in resp["stimulus"].unique():
        sub = resp[resp["stimulus"] == name]
        n_rep = int(sub["repeat"].max())

        def wide(col: str, sub=sub, n_rep=n_rep) -> np.ndarray:
            return sub[col].to_numpy(float).reshape(len(larvae), n_rep)

        dist, responded, lat = wide("distance"), wide("responded"), wide("latency_s")
        blocks.append(_block("stimulus_response_rate", name, 100 * _mean(responded),
                             larvae, m, "no presentation measured"))
        blocks.append(_block("stimulus_distance", name, _mean(dist), larvae, m,
                             "no presentation measured"))
        if np.isfinite(wide("activity_s")).any():
            blocks.append(_block("stimulus_activity", name, _mean(wide("activity_s")), larvae,
                                 m, "no presentation measured"))
        if np.isfinite(lat).any():   # measurable (fine bins) and at least one response
            blocks.append(_block("stimulus_latency", name, _median(lat), larvae, m,
                                 "no response to any presentation: no latency"))
        if n_rep >= 3:
            blocks.append(_block("stimulus_habituation_slope", name, _slope(dist), larvae, m,
                                 "missing presentations"))
        if n_rep >= 2 * k:
            blocks.append(_block("stimulus_habituation_ratio", name, _ratio(dist, k), larvae,
                                 m, f"no movement in the first {k} presentation(s): ratio "
                                    "undefined"))
    return [b.assign(time_order=b["timepoint"].map(order)) for b in blocks]


def _block(endpoint: str, tp: str, values: np.ndarray, larvae: pd.DataFrame, m: LarvaMatrix,
           why: str) -> pd.DataFrame:
    block = endpoint_block(endpoint, tp, values, larvae, m)
    undefined = ~np.isfinite(np.asarray(values, float)) & larvae["exclusion_reason"].eq("") \
        .to_numpy()
    block.loc[undefined, "exclusion_reason"] = why
    return block


def _mean(a: np.ndarray) -> np.ndarray:
    ok = np.isfinite(a).sum(axis=1)
    return np.where(ok > 0, np.nansum(a, axis=1) / np.maximum(ok, 1), np.nan)


def _median(a: np.ndarray) -> np.ndarray:
    out = np.full(len(a), np.nan)
    for i, row in enumerate(a):
        row = row[np.isfinite(row)]
        if len(row):
            out[i] = float(np.median(row))
    return out


def _slope(dist: np.ndarray) -> np.ndarray:
    """Least-squares slope of distance over presentation number (NaN if any is missing)."""
    x = np.arange(1, dist.shape[1] + 1, dtype=float)
    xc = x - x.mean()
    slope = (dist - dist.mean(axis=1, keepdims=True)) @ xc / (xc @ xc)
    return np.where(np.isfinite(dist).all(axis=1), slope, np.nan)


def _ratio(dist: np.ndarray, k: int) -> np.ndarray:
    first, last = dist[:, :k].mean(axis=1), dist[:, -k:].mean(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(first > 0, last / first, np.nan)


def by_repeat(resp: pd.DataFrame) -> pd.DataFrame:
    """Group × stimulus × presentation: larvae, percent responding, mean distance, latency."""
    kept = resp[~resp["excluded"].astype(bool)]
    g = kept.groupby(["group", "dose", "stimulus", "repeat"], sort=True)
    out = g.agg(onset_s=("onset_s", "first"), n=("subject", "nunique"),
                responding_percent=("responded", "mean"), mean_distance=("distance", "mean"),
                median_latency_s=("latency_s", "median")).reset_index()
    out["responding_percent"] *= 100
    return out
