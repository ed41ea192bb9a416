"""Larval photomotor response (LPR, light/dark): endpoints per larva, calls and BMD tables.

:func:`analyse_lpr` turns per-bin tracking exports plus a plate map into
EndpointTable rows per larva, with every exclusion documented, and the detail
tables (per-bin distances, per-larva exclusions, the Tanguay hypo/hyperactivity
call, optionally bmdrc's LPR dichotomisation, continuous BMDs and the SARL
statistics).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from neurotox import endpoints
from neurotox.assays.base import AssayResult
from neurotox.assays.zebrafish.calls import stimulus_calls, tanguay_calls
from neurotox.assays.zebrafish.design import (
    codes_as_locations,
    design,
    design_info,
    unmapped_notes,
)
from neurotox.assays.zebrafish.exclusions import larva_exclusions
from neurotox.assays.zebrafish.inputs import bins_of, file_wells
from neurotox.assays.zebrafish.larvae import (
    NO_DISTANCE,
    LarvaMatrix,
    bins_detail,
    endpoint_block,
    grid_hole_note,
    larva_matrix,
    larvae_detail,
    partial_larvae_note,
    record_absent,
    with_mapped_larvae,
)
from neurotox.assays.zebrafish.metrics import (
    PhaseWindow,
    bin_masks,
    cycles,
    phase_sum,
    slope_per_min,
    transitions,
    trapezoid_auc,
    window_sum,
)
from neurotox.assays.zebrafish.params import ASSAY, ZebrafishParameters
from neurotox.assays.zebrafish.stimulus import stimulus_analysis
from neurotox.errors import InputError, quoted
from neurotox.io.zebrafish import Export


def _no_dose_hint(layouts: dict[str, pd.DataFrame] | None) -> str:
    """What a layout without a ``concentration`` column holds instead (``dose``), for the error."""
    for df in (layouts or {}).values():
        if "concentration" in df.columns:
            continue
        cols = [str(c) for c in df.columns if c != "blank"]     # ``blank``: added on reading
        name = Path(df.attrs.get("path", "layout")).name
        dose = [c for c in cols if c.startswith(("dose", "conc"))]
        unread = f" ({dose[0]!r} is not read: rename it 'concentration')" if dose else ""
        return f"; layout {name!r} has columns {quoted(cols)}, none 'concentration'{unread}"
    return ""


def analyse_lpr(exports: list[Export], params: ZebrafishParameters, *, study_id: str,
                layouts: dict[str, pd.DataFrame] | None,
                groups: dict[str, dict[str, Any]] | None,
                plate_map: pd.DataFrame | None, notes: list[str]) -> AssayResult:
    """LPR endpoints per larva, exclusions and detail tables (see :func:`.plugin.analyse`)."""
    bins = bins_of(exports, params, notes, layouts)
    matrix = larva_matrix(bins)
    if holes := grid_hole_note(matrix):
        notes.append(holes)
    mapped, matrix, absent = with_mapped_larvae(matrix.larvae, matrix,
                                                None if layouts else plate_map)
    layouts = codes_as_locations(mapped, layouts)
    larvae = design(mapped, layouts=layouts, groups=groups,
                    file_info=design_info(exports, plate_map), params=params)
    notes += unmapped_notes(mapped, exports, plate_map, layouts)
    if "location" in mapped.columns and any("location" in df.columns
                                            for df in (layouts or {}).values()):
        notes.append("layout in ZebraLab location codes: joined on the exports' own location "
                     "column (not on wells derived from the codes)")
    if params.chemical is not None:
        larvae = select_chemical(larvae, file_wells(exports), params.chemical)
    blanks = larvae["blank"].to_numpy()
    if blanks.any():
        notes.append(f"{int(blanks.sum())} blank/unassigned well(s) not analysed")
    keep = ~blanks
    if not keep.any():
        raise InputError(f"no larva to analyse: all {len(blanks)} wells are blank or have no "
                         "dose (give the layout a concentration column, or run from a study "
                         f"whose groups have doses){_no_dose_hint(layouts)}")
    larvae, absent = larvae[keep].reset_index(drop=True), absent[keep]
    matrix = matrix.subset(keep)
    larvae["exclusion_reason"] = larva_exclusions(larvae, matrix, params, plate_map=plate_map,
                                                  file_info=file_wells(exports))
    if note := record_absent(larvae, absent, "export"):
        notes.append(note)
    if note := transition_window_note(matrix, params):
        notes.append(note)
    table = endpoint_rows(larvae, matrix, params)
    if not matrix.has_distance:
        notes.append(distance_free_note(table))
    stim_blocks, stim_details = stimulus_analysis(exports, larvae, matrix, params, notes)
    # the stimuli's places (order of first presentation) follow the phases' in the assay's
    # one scale: no endpoint has both, and no two timepoints of the assay share a place
    after = float(np.nanmax(table["time_order"])) + 1 if table["time_order"].notna().any() \
        else 0.0
    stim_blocks = [b.assign(time_order=b["time_order"] + after) for b in stim_blocks]
    table = pd.concat([table, *stim_blocks], ignore_index=True)
    ept = endpoints.from_records(table.to_dict("records"), study_id=study_id, assay=ASSAY)
    details = {"bins": bins_detail(larvae, matrix), "larvae": larvae_detail(larvae, matrix)}
    kept_bins = details["bins"][~details["bins"]["excluded"]].reset_index(drop=True)
    details["hit_calls"] = tanguay_calls(ept, params)
    if partial := partial_larvae_note(larvae, matrix):
        notes.append(partial)
    if stim_details:
        details.update(stim_details, stimulus_hit_calls=stimulus_calls(ept, params))
    details.update(_bmd_details(ept, kept_bins, params, notes))
    if params.sarl_statistics and (sarl := _sarl_table(
            larvae, kept_bins, details["hit_calls"], params, notes, matrix.has_distance)) \
            is not None:
        details["sarl_lpr_stats"] = sarl
    n_ex = int((larvae["exclusion_reason"] != "").sum())
    notes.append(f"{len(larvae)} larvae analysed, {n_ex} excluded")
    return AssayResult(endpoints=ept, details=details, notes=notes,
                       inputs=[e.path for e in exports])


def distance_free_note(table: pd.DataFrame) -> str:
    """Say which endpoints an export without distances gives, and which it cannot."""
    lost = table["exclusion_reason"].eq(NO_DISTANCE)
    kept = sorted(set(table.loc[~table["excluded"], "endpoint"]))
    return (f"the export has no distance columns: {int(lost.sum())} value(s) of the distance "
            f"endpoints ({', '.join(sorted(set(table.loc[lost, 'endpoint'])))}) are excluded "
            f"('{NO_DISTANCE}'); computed from its activity columns: {', '.join(kept) or 'none'}")


def _sarl_table(larvae, bins, hit_calls, params, notes, has_distance: bool
                ) -> pd.DataFrame | None:
    """SARL's LPR statistics of the included larvae's ``bins``; None (said) without them."""
    from neurotox.assays.zebrafish.sarl import SARL_BIN_S, sarl_lpr_statistics, sarl_notes

    if not has_distance:
        notes.append("sarl_lpr_stats not written: SARL's statistics read distances, and the "
                     "export has none")
        return None
    width = float(np.nanmedian(bins["end_s"] - bins["start_s"])) if len(bins) else np.nan
    if not abs(width - SARL_BIN_S) <= 0.05 * SARL_BIN_S:
        notes.append(f"warning: sarl_lpr_stats not written: SARL's AUC method numbers "
                     f"{SARL_BIN_S:g}-s bins (T61-T239), the export's bins are {width:g} s")
        return None

    kept = larvae.groupby("dose")["exclusion_reason"].apply(lambda r: (r == "").mean())
    table = sarl_lpr_statistics(bins, viability=kept, group_sizes=larvae.groupby("dose").size(),
                                hit_p=params.hit_p, hit_percent=params.hit_percent)
    notes += sarl_notes(table, bins, hit_calls)
    return table


def select_chemical(larvae: pd.DataFrame, info: pd.DataFrame | None,
                    chemical: str) -> pd.DataFrame:
    """Mark larvae of other chemicals blank; keep controls of the chemical's plates."""
    if info is None or "chemical" not in info.columns:
        raise InputError(f"parameter chemical={chemical!r} but the exports carry no "
                         "chemical names")
    chem = larvae[["plate", "well"]].merge(info.drop_duplicates(["plate", "well"]),
                                           how="left", on=["plate", "well"])["chemical"]
    chem = chem.fillna("").astype(str).str.strip().to_numpy()
    if chemical not in set(chem):
        raise InputError(f"chemical {chemical!r} is not in the exports; found "
                         f"{sorted(set(chem) - {''})[:20]}")
    plates = set(larvae.loc[chem == chemical, "plate"])
    keep = (chem == chemical) | ((larvae["dose"] == 0) & larvae["plate"].isin(plates))
    return larvae.assign(blank=larvae["blank"] | ~keep.to_numpy())


def _bmd_details(ept, bins, params, notes) -> dict[str, pd.DataFrame]:
    """Continuous BMDs of the endpoints, and bmdrc's of the included larvae's ``bins``."""
    from neurotox.assays.zebrafish.bmd import bmdrc_bmds, continuous_bmds

    out = {}
    if params.bmd_endpoints:
        out["bmd"] = continuous_bmds(ept, params.bmd_endpoints, notes)
    if params.bmdrc:
        from neurotox.assays.zebrafish.bmdrc import bmdrc_dichotomise, dose_table

        dich = bmdrc_dichotomise(bins, params)
        out["bmdrc_dichotomized"] = dich
        out["bmdrc_dose_table"] = dose_table(dich)
        out["bmdrc_bmd"] = bmdrc_bmds(dich, notes)
    return out


def endpoint_rows(larvae: pd.DataFrame, m: LarvaMatrix,
                  params: ZebrafishParameters) -> pd.DataFrame:
    """All endpoint rows (long) for the larvae: one block per endpoint × timepoint."""
    wins = params.phase_windows()
    masks = bin_masks(m.starts, m.ends, wins)
    blocks = [endpoint_block("distance_per_bin", f"bin{j:03d}", v, larvae, m)
              for j, v in enumerate(coarse_bins(m, params.endpoint_bin_s))]
    blocks.append(endpoint_block("total_distance", "NA", m.D.sum(axis=1), larvae, m))
    dur = m.ends - m.starts
    for w in wins:
        mk = masks[w.name]
        if not mk.any():
            continue
        dist = phase_sum(m.D, mk)
        blocks += [endpoint_block("distance_phase", w.name, dist, larvae, m),
                   endpoint_block("mean_velocity", w.name, dist / dur[mk].sum(), larvae, m),
                   endpoint_block("habituation_slope", w.name, slope_per_min(m.D, m.starts, mk),
                          larvae, m)]
        blocks += _activity_blocks(w.name, mk, larvae, m)
    blocks += _cycle_blocks(wins, masks, larvae, m, params)
    blocks += _transition_blocks(wins, masks, larvae, m, params)
    rows = pd.concat(blocks, ignore_index=True)
    return rows.assign(time_order=rows["timepoint"].map(run_order(wins)))


def run_order(wins: list[PhaseWindow]) -> dict[str, float]:
    """Place in the run of each phase and transition: the EndpointTable's ``time_order``.

    Phases in schedule order (0, 2, 4 ...), a transition between its two phases
    (``light1>dark1`` is 1): the acclimation cycle first, ``light1`` before
    ``dark1``, whatever the names. Their labels cannot say so
    (:mod:`neurotox.timepoints`).
    """
    order = {w.name: 2.0 * i for i, w in enumerate(wins)}
    pairs = zip(wins, wins[1:], strict=False)
    order |= {f"{a.name}>{b.name}": 2.0 * i + 1 for i, (a, b) in enumerate(pairs)}
    return order


def coarse_bins(m: LarvaMatrix, width_s: float | None) -> list[np.ndarray]:
    """Distance per reported bin: export bins, or sums over ``width_s`` windows."""
    if width_s is None:
        return [m.D[:, j] for j in range(m.D.shape[1])]
    native = float(np.nanmedian(m.ends - m.starts))
    k = width_s / native
    if abs(k - round(k)) > 1e-6 or round(k) < 1:
        raise InputError(f"endpoint_bin_s {width_s:g} s is not a multiple of the export's "
                         f"{native:g}-s bins", path=", ".join(sorted(set(m.sources))))
    k = int(round(k))
    return [m.D[:, j:j + k].sum(axis=1) for j in range(0, m.D.shape[1], k)]


def _activity_blocks(phase: str, mk: np.ndarray, larvae: pd.DataFrame,
                     m: LarvaMatrix) -> list[pd.DataFrame]:
    out = []
    pairs = {"activity_duration": (("smldur", "lardur"), ("middur", "burdur")),
             "inactivity_duration": (("inadur",), ("fredur",)),
             "movement_bouts": (("smlct", "larct"), ("midct", "burct"))}
    for name, options in pairs.items():
        cols = next((o for o in options if all(c in m.extra for c in o)), None)
        if cols:
            total = sum(m.extra[c][:, mk].sum(axis=1) for c in cols)
            out.append(endpoint_block(name, phase, total, larvae, m, needs_distance=False))
    return out


def _cycle_blocks(wins, masks, larvae, m, params) -> list[pd.DataFrame]:
    cyc = [(a, b) for a, b in cycles(wins) if masks[a.name].any() and masks[b.name].any()]
    if not cyc:
        return []
    k = (params.analysed_cycle or len(cyc)) - 1
    if k >= len(cyc):
        raise InputError(f"analysed_cycle {k + 1} but the schedule has {len(cyc)} light/dark "
                         "cycle(s) in the data")
    light, dark = cyc[k]
    auc_l = trapezoid_auc(m.D, masks[light.name])
    auc_d = trapezoid_auc(m.D, masks[dark.name])
    return [endpoint_block("auc_light", light.name, auc_l, larvae, m),
            endpoint_block("auc_dark", dark.name, auc_d, larvae, m),
            # named by its two phases, as auc_light/auc_dark and the transitions are: a
            # cycle number would count an acclimation pair the phase names do not
            endpoint_block("auc_dark_minus_light", f"{light.name}>{dark.name}", auc_d - auc_l,
                           larvae, m)]


#: Transition endpoints left out when the export's bins cannot make the window.
TRANSITION_ENDPOINTS = ("transition_response", "startle_response", "freeze_response")


def bin_width(m: LarvaMatrix) -> float:
    """The export's bin width (s): the median of the bins' end - start."""
    return float(np.nanmedian(m.ends - m.starts))


def window_in_bins(m: LarvaMatrix, window_s: float) -> bool:
    """True when ``window_s`` is a whole number (>= 1) of the export's bins (0.5 % slack)."""
    k = window_s / bin_width(m)
    return round(k) >= 1 and abs(k - round(k)) <= 0.005 * max(k, 1.0)


def transition_window_note(m: LarvaMatrix, params: ZebrafishParameters) -> str:
    """The warning for transition endpoints left out: bins that cannot make the window."""
    wins = params.phase_windows()
    if window_in_bins(m, params.transition_window_s) or not (
            transitions(wins, to_dark=True) or transitions(wins, to_dark=False)):
        return ""
    return (f"warning: {', '.join(TRANSITION_ENDPOINTS)} not computed: the export's "
            f"{bin_width(m):g}-s bins do not make the protocol's transition_window_s "
            f"{params.transition_window_s:g} s (a whole number of bins); give an export "
            "with finer bins, or set transition_window_s to a multiple of the bin width")


def _transition_blocks(wins, masks, larvae, m, params) -> list[pd.DataFrame]:
    out = []
    if not window_in_bins(m, params.transition_window_s):
        return out
    w = params.transition_window_s
    for a, b in transitions(wins, to_dark=True):
        la, db = np.flatnonzero(masks[a.name]), np.flatnonzero(masks[b.name])
        if not len(la) or not len(db):
            continue
        tp = f"{a.name}>{b.name}"
        out.append(endpoint_block("transition_response", tp, m.D[:, db[0]] - m.D[:, la[-1]],
                                  larvae, m))
        out.append(endpoint_block("startle_response", tp, _around(m, b.start, w), larvae, m))
    for a, b in transitions(wins, to_dark=False):
        if masks[a.name].any() and masks[b.name].any():
            out.append(endpoint_block("freeze_response", f"{a.name}>{b.name}",
                                      _around(m, b.start, w), larvae, m))
    return out


def _around(m: LarvaMatrix, t: float, w: float) -> np.ndarray:
    return window_sum(m.D, m.starts, m.ends, t, t + w) - window_sum(m.D, m.starts, m.ends,
                                                                    t - w, t)
