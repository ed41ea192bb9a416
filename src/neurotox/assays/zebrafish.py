"""Zebrafish locomotion: larval photomotor response (LPR, light/dark) and embryonic EPR.

:func:`analyse` turns tracking exports (any format of :mod:`neurotox.io.zebrafish`)
plus a plate map into EndpointTable rows per larva, with every exclusion
documented, and the assay-specific detail tables (per-bin distances, per-larva
exclusions, the Tanguay hypo/hyperactivity call, optionally bmdrc's LPR
dichotomisation). The plug-in ``zebrafish_lpr`` runs it from a study file.

References
----------
Reif DM et al. (2016) High-throughput characterization of chemical-associated
embryonic behavioral changes predicts teratogenic outcomes. Arch Toxicol 90:1459.
Truong L et al. (2022) J Hazard Mater 431:128615 (Tanguay LPR/EPR analysis).
Padilla S et al. (2011) Neurotoxicol Teratol 33:624 (EPA larval light/dark test).

"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from neurotox import endpoints
from neurotox.assays.base import AssayPlugin, AssayResult, register
from neurotox.assays.zebrafish_calls import tanguay_calls
from neurotox.assays.zebrafish_exclusions import larva_exclusions
from neurotox.assays.zebrafish_metrics import (
    bin_masks,
    cycles,
    phase_sum,
    phase_windows,
    slope_per_min,
    transitions,
    trapezoid_auc,
    window_sum,
)
from neurotox.errors import InputError, quoted
from neurotox.io.zebrafish import Export, bin_track, read_export
from neurotox.study import AssaySpec, Study

ASSAY = "zebrafish_lpr"


class Phase(BaseModel):
    """One phase of the light schedule."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[A-Za-z][A-Za-z0-9_]*$")
    light: bool
    duration_s: float = Field(gt=0, allow_inf_nan=False)


def _tanguay_schedule() -> tuple[Phase, ...]:
    return tuple(Phase(name=f"{'light' if i % 2 == 0 else 'dark'}{i // 2 + 1}",
                       light=i % 2 == 0, duration_s=180.0) for i in range(8))


class ZebrafishParameters(BaseModel):
    """Parameters of the zebrafish locomotion analysis (closed: typos are errors).

    Attributes
    ----------
    mode
        ``lpr`` (larval light/dark locomotion) or ``epr`` (embryonic photomotor
        response from frame-level motion indices).
    format
        Export format name; None to auto-detect each file.
    bin_s
        Bin width (s) for trajectories and for tables with bin numbers only.
    schedule, schedule_start_s
        Consecutive light/dark phases and the time the first one starts.
    analysed_cycle
        Light→dark cycle (1-based) for AUC endpoints and the hit call; None = last.
    transition_window_s
        Window after (and before) a transition for startle and freeze responses.
    count_inactive_distance
        Add ZebraLab's inactive-class distance (``inadist``) to the distance.
    exclude_no_movement
        Exclude larvae that never moved (dead or not tracked).
    max_empty_fraction
        Exclude a larva when the tracker reports the well empty for more than this
        fraction of the recording (``emptydur``).
    max_missing_fraction
        Exclude a larva when more than this fraction of bins (or frames) is missing.
    max_step_mm
        Trajectory steps longer than this are tracking jumps and are not counted.
    mm_per_unit
        Scale of trajectory coordinates (mm per exported unit, e.g. per pixel).
    viability_min
        Minimum fraction of viable (not dead, not malformed) larvae per group; a
        group below it is excluded (Tanguay 70 %; EPA 75 % / 85 % for controls).
    viability_min_control
        Same for the control group (None = ``viability_min``).
    hit_p, hit_percent
        Tanguay call: significant at p < ``hit_p`` and |percent difference| ≥
        ``hit_percent``.
    epr_duration_s, epr_windows, frame_rate, epr_scale
        EPR recording length, window (first, last second) per response, frames
        per second (None = frames / duration), and the factor applied to the mean
        motion index per second (5000 reproduces the Tanguay SARL HMAT tables).
    morphology_calls
        Which plate-map calls exclude a larva: ``all`` or ``24hpf`` (only calls
        scored at 24 hpf, e.g. ``MO24``; for the EPR).
    bmdrc, bmdrc_cycle_length, bmdrc_cycle_cooldown, bmdrc_starting_cycle
        Also run bmdrc's LPR dichotomisation (per-cycle AUC_k and MOV_k, abnormal
        outside the control IQR fences of the plate).
    concentration_unit
        Unit of the plate-map concentrations.

    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    mode: Literal["lpr", "epr"] = "lpr"
    format: str | None = None
    bin_s: float = Field(default=6.0, gt=0)
    schedule: tuple[Phase, ...] = Field(default_factory=_tanguay_schedule, min_length=1)
    schedule_start_s: float = Field(default=0.0, ge=0)
    analysed_cycle: int | None = Field(default=None, ge=1)
    transition_window_s: float = Field(default=6.0, gt=0)
    count_inactive_distance: bool = False
    exclude_no_movement: bool = True
    max_empty_fraction: float = Field(default=0.5, gt=0, le=1)
    max_missing_fraction: float = Field(default=0.2, ge=0, le=1)
    max_step_mm: float | None = Field(default=None, gt=0)
    mm_per_unit: float = Field(default=1.0, gt=0)
    viability_min: float = Field(default=0.7, ge=0, le=1)
    viability_min_control: float | None = Field(default=None, ge=0, le=1)
    hit_p: float = Field(default=0.01, gt=0, lt=1)
    hit_percent: float = Field(default=50.0, ge=0)
    epr_duration_s: float = Field(default=50.0, gt=0)
    epr_windows: dict[str, tuple[float, float]] = Field(default_factory=lambda: {
        "background": (21, 29), "excitation": (31, 39), "refractory": (41, 48)})
    frame_rate: float | None = Field(default=None, gt=0)
    epr_scale: float = Field(default=1.0, gt=0)
    morphology_calls: Literal["all", "24hpf"] = "all"
    bmdrc: bool = False
    bmdrc_cycle_length: int = Field(default=20, ge=1)
    bmdrc_cycle_cooldown: int = Field(default=10, ge=0)
    bmdrc_starting_cycle: Literal["light", "dark"] = "light"
    concentration_unit: str = "uM"
    chemical: str | None = None
    bmd_endpoints: tuple[str, ...] = ()
    endpoint_bin_s: float | None = Field(default=None, gt=0)
    sarl_statistics: bool = False


# ------------------------------------------------------------------ inputs


def load_exports(paths: list[Path], params: ZebrafishParameters) -> list[Export]:
    """Read every export with the configured (or detected) format."""
    return [read_export(p, format=params.format) for p in paths]


def bins_of(exports: list[Export], params: ZebrafishParameters) -> pd.DataFrame:
    """All per-bin rows of the exports (trajectories binned at ``bin_s``)."""
    parts = []
    for ex in exports:
        if ex.kind == "bins":
            df = ex.data
        elif ex.kind == "track":
            track = ex.data
            if params.mm_per_unit != 1.0:
                track = track.assign(x=track["x"] * params.mm_per_unit,
                                     y=track["y"] * params.mm_per_unit)
            df = bin_track(track, params.bin_s, t0=0.0, max_step_mm=params.max_step_mm)
            ex.notes.append(f"{ex.path.name}: binned at {params.bin_s:g} s, "
                            f"{params.mm_per_unit:g} mm per coordinate unit")
        else:
            raise InputError(f"{ex.format} holds EPR frames; use mode 'epr' "
                             "(protocol zebrafish-epr)", path=ex.path)
        if params.count_inactive_distance and "inadist" in df.columns:
            df = df.assign(distance=df["distance"] + df["inadist"])
        parts.append(df.assign(source=ex.path.name))
    out = pd.concat(parts, ignore_index=True)
    dup = out.duplicated(["plate", "animal", "bin"])
    if dup.any():
        r = out[dup].iloc[0]
        raise InputError(f"larva {r['plate']}-{r['animal']} bin {r['bin']} appears in more "
                         "than one export row; give each plate once")
    return out


def file_wells(exports: list[Export]) -> pd.DataFrame | None:
    """Per-well information carried by the exports themselves (concentration, removals)."""
    parts = [e.wells for e in exports if e.wells is not None]
    return pd.concat(parts, ignore_index=True) if parts else None


# ------------------------------------------------------------------ design


def design_info(exports: list[Export], plate_map: pd.DataFrame | None) -> pd.DataFrame | None:
    """Concentrations per well from the exports, else from the plate map."""
    info = file_wells(exports)
    if info is None and plate_map is not None:
        info = plate_map[["plate", "well", "concentration"]]
    return info


def design(larvae: pd.DataFrame, *, layouts: dict[str, pd.DataFrame] | None,
           groups: dict[str, dict[str, Any]] | None, file_info: pd.DataFrame | None,
           params: ZebrafishParameters) -> pd.DataFrame:
    """Attach group, dose and blank flag to each larva (plate, well).

    The plate layout wins; without one, concentrations carried by the export
    (EPA, bmdrc, Tanguay tables) are used. Group IDs default to the
    concentration (``C0``, ``C2.16`` …) when the layout has none.
    """
    lay = _layout_rows(larvae, layouts)
    if lay is None and file_info is not None:
        lay = larvae[["plate", "well"]].merge(
            file_info.drop_duplicates(["plate", "well"]), how="left", on=["plate", "well"])
        lay["blank"] = lay["concentration"].isna()
    if lay is None:
        raise InputError("no plate layout: give --layout (well, group and/or concentration) "
                         "or an export that carries concentrations")
    out = larvae.copy()
    conc = pd.to_numeric(lay.get("concentration"), errors="coerce") \
        if "concentration" in lay.columns else pd.Series(np.nan, index=lay.index)
    has_group = "group" in lay.columns and lay["group"].fillna("").astype(str).str.strip() \
        .ne("").any()
    group = lay["group"].fillna("").astype(str) if has_group \
        else conc.map(lambda c: "" if pd.isna(c) else f"C{c:g}")
    out["group"] = group.to_numpy()
    out["blank"] = lay["blank"].fillna(True).astype(bool).to_numpy()
    if groups:
        out["dose"] = [groups[g]["dose"] if g in groups else np.nan for g in out["group"]]
        out["dose_unit"] = [groups[g]["dose_unit"] if g in groups else "" for g in out["group"]]
        out["control"] = [bool(groups.get(g, {}).get("control")) for g in out["group"]]
    else:
        out["dose"] = conc.to_numpy()
        out["dose_unit"] = params.concentration_unit
        out["control"] = out["dose"] == 0
    out["blank"] |= out["group"].eq("") | out["dose"].isna()
    keep = [c for c in lay.columns if c not in ("plate", "well", "group", "concentration",
                                                "blank")]
    for c in keep:
        out[f"layout_{c}"] = lay[c].to_numpy()
    return out


def _layout_rows(larvae: pd.DataFrame, layouts: dict[str, pd.DataFrame] | None
                 ) -> pd.DataFrame | None:
    if not layouts:
        return None
    plates = larvae["plate"].unique()
    if all(p in layouts for p in plates):
        table = pd.concat([df.assign(plate=p) for p, df in layouts.items()], ignore_index=True)
    elif len(layouts) == 1:
        only = next(iter(layouts.values()))
        table = pd.concat([only.assign(plate=p) for p in plates], ignore_index=True)
    else:
        missing = sorted(set(plates) - set(layouts))
        raise InputError(f"no plate layout for plate(s) {missing}; layouts are given for "
                         f"{sorted(layouts)}")
    table = table.drop(columns=[c for c in ("source",) if c in table.columns])
    path = next((df.attrs.get("path") for df in layouts.values()), None)
    _check_layout_wells(larvae, table, path)
    return larvae[["plate", "well"]].merge(table, how="left", on=["plate", "well"])


def _check_layout_wells(larvae: pd.DataFrame, table: pd.DataFrame, path: str | None) -> None:
    """Every tracked well is in the layout and every non-blank layout well was tracked."""
    data = set(zip(larvae["plate"].astype(str), larvae["well"].astype(str), strict=True))
    used = table[~table["blank"].fillna(False).astype(bool)] if "blank" in table.columns \
        else table
    lay = set(zip(table["plate"].astype(str), table["well"].astype(str), strict=True))
    wanted = set(zip(used["plate"].astype(str), used["well"].astype(str), strict=True))
    for missing, what in ((data - lay, "are in the export but not in the layout (list empty "
                                       "wells with group 'blank')"),
                          (wanted - data, "are in the layout but in no export")):
        if missing:
            plate = sorted(missing)[0][0]
            wells = [w for p, w in missing if p == plate]
            raise InputError(f"well(s) {quoted(wells)} of plate {plate!r} {what}", path=path,
                             where="column 'well'")


# ------------------------------------------------------------------ analysis


def analyse(exports: list[Export], params: ZebrafishParameters, *, study_id: str = "NA",
            layouts: dict[str, pd.DataFrame] | None = None,
            groups: dict[str, dict[str, Any]] | None = None,
            plate_map: pd.DataFrame | None = None) -> AssayResult:
    """Endpoints per larva, exclusions and detail tables from tracking exports.

    Parameters
    ----------
    exports
        Read exports (:func:`neurotox.io.zebrafish.read_export`).
    params
        Effective parameters (protocol + overrides).
    study_id
        Study number for the EndpointTable.
    layouts
        Plate layouts by plate (``well``, ``group``/``concentration``, ``blank``
        and optional mortality/morphology columns); one layout applies to every plate.
    groups
        Study groups by ID (``dose``, ``dose_unit``, ``control``); None to use the
        layout concentrations as doses.
    plate_map
        Morphology/mortality calls per well (:func:`neurotox.io.zebrafish.read_plate_map`).

    Returns
    -------
    AssayResult
        Validated EndpointTable plus ``bins``, ``larvae`` and call tables.

    """
    notes = [n for e in exports for n in e.notes]
    if params.mode == "epr":
        from neurotox.assays.zebrafish_epr import analyse_epr

        return analyse_epr(exports, params, study_id=study_id, layouts=layouts, groups=groups,
                           plate_map=plate_map, notes=notes)
    bins = bins_of(exports, params)
    matrix = larva_matrix(bins)
    larvae = design(matrix.larvae, layouts=layouts, groups=groups,
                    file_info=design_info(exports, plate_map), params=params)
    if params.chemical is not None:
        larvae = select_chemical(larvae, file_wells(exports), params.chemical)
    blanks = larvae["blank"].to_numpy()
    if blanks.any():
        notes.append(f"{int(blanks.sum())} blank/unassigned well(s) not analysed")
    keep = ~blanks
    larvae = larvae[keep].reset_index(drop=True)
    matrix = matrix.subset(keep)
    larvae["exclusion_reason"] = larva_exclusions(larvae, matrix, params, plate_map=plate_map,
                                                  file_info=file_wells(exports))
    table = endpoint_rows(larvae, matrix, params)
    ept = endpoints.from_records(table.to_dict("records"), study_id=study_id, assay=ASSAY)
    details = {"bins": bins_detail(larvae, matrix), "larvae": larvae_detail(larvae)}
    details["hit_calls"] = tanguay_calls(ept, params)
    details.update(_bmd_details(ept, larvae, matrix, params, notes))
    if params.sarl_statistics:
        from neurotox.assays.zebrafish_sarl import sarl_lpr_statistics

        kept = larvae.groupby("dose")["exclusion_reason"].apply(lambda r: (r == "").mean())
        details["sarl_lpr_stats"] = sarl_lpr_statistics(
            bins_detail(larvae, matrix, include_excluded=False), viability=kept,
            hit_p=params.hit_p, hit_percent=params.hit_percent)
    n_ex = int((larvae["exclusion_reason"] != "").sum())
    notes.append(f"{len(larvae)} larvae analysed, {n_ex} excluded")
    return AssayResult(endpoints=ept, details=details, notes=notes,
                       inputs=[e.path for e in exports])


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


def _bmd_details(ept, larvae, matrix, params, notes) -> dict[str, pd.DataFrame]:
    from neurotox.assays.zebrafish_bmd import bmdrc_bmds, continuous_bmds

    out = {}
    if params.bmd_endpoints:
        out["bmd"] = continuous_bmds(ept, params.bmd_endpoints, notes)
    if params.bmdrc:
        from neurotox.assays.zebrafish_bmdrc import bmdrc_dichotomise, dose_table

        dich = bmdrc_dichotomise(bins_detail(larvae, matrix, include_excluded=False), params)
        out["bmdrc_dichotomized"] = dich
        out["bmdrc_dose_table"] = dose_table(dich)
        out["bmdrc_bmd"] = bmdrc_bmds(dich, notes)
    return out


class LarvaMatrix:
    """Distances as a larva × bin matrix, with bin times and extra per-bin measures."""

    def __init__(self, larvae: pd.DataFrame, D: np.ndarray, starts: np.ndarray,
                 ends: np.ndarray, extra: dict[str, np.ndarray], sources: np.ndarray):
        self.larvae, self.D, self.starts, self.ends = larvae, D, starts, ends
        self.extra, self.sources = extra, sources

    def subset(self, mask: np.ndarray) -> LarvaMatrix:
        """Rows of ``mask`` only."""
        return LarvaMatrix(self.larvae[mask].reset_index(drop=True), self.D[mask], self.starts,
                           self.ends, {k: v[mask] for k, v in self.extra.items()},
                           self.sources[mask])


_EXTRA = ("inadur", "smldur", "lardur", "smlct", "larct", "emptydur", "frect", "fredur",
          "midct", "middur", "burct", "burdur", "frames", "missing", "jumps")


def larva_matrix(bins: pd.DataFrame) -> LarvaMatrix:
    """Pivot per-bin rows into a :class:`LarvaMatrix` (bins missing for a larva → NaN)."""
    keys = bins[["plate", "animal"]].drop_duplicates().reset_index(drop=True)
    codes = pd.MultiIndex.from_frame(keys).get_indexer(pd.MultiIndex.from_frame(
        bins[["plate", "animal"]]))
    nbin = int(bins["bin"].max()) + 1
    D = np.full((len(keys), nbin), np.nan)
    b = bins["bin"].to_numpy(int)
    D[codes, b] = bins["distance"].to_numpy(float)
    times = bins.groupby("bin")[["start_s", "end_s"]].median().reindex(range(nbin))
    extra = {}
    for col in (c for c in _EXTRA if c in bins.columns):
        M = np.full_like(D, np.nan)
        M[codes, b] = bins[col].to_numpy(float)
        extra[col] = M
    first = bins.groupby(codes).first()
    larvae = keys.assign(well=first["well"].to_numpy())
    larvae["subject"] = larvae["plate"].astype(str) + "-" + larvae["animal"].astype(str)
    return LarvaMatrix(larvae, D, times["start_s"].to_numpy(float),
                       times["end_s"].to_numpy(float), extra, first["source"].to_numpy())


# ------------------------------------------------------------------ endpoint rows


def _windows(params: ZebrafishParameters):
    return phase_windows([(p.name, p.light, p.duration_s) for p in params.schedule],
                         params.schedule_start_s)


def endpoint_rows(larvae: pd.DataFrame, m: LarvaMatrix,
                  params: ZebrafishParameters) -> pd.DataFrame:
    """All endpoint rows (long) for the larvae: one block per endpoint × timepoint."""
    wins = _windows(params)
    masks = bin_masks(m.starts, m.ends, wins)
    blocks = [_block("distance_per_bin", f"bin{j:03d}", v, larvae, m)
              for j, v in enumerate(coarse_bins(m, params.endpoint_bin_s))]
    blocks.append(_block("total_distance", "NA", m.D.sum(axis=1), larvae, m))
    dur = m.ends - m.starts
    for w in wins:
        mk = masks[w.name]
        if not mk.any():
            continue
        dist = phase_sum(m.D, mk)
        blocks += [_block("distance_phase", w.name, dist, larvae, m),
                   _block("mean_velocity", w.name, dist / dur[mk].sum(), larvae, m),
                   _block("habituation_slope", w.name, slope_per_min(m.D, m.starts, mk),
                          larvae, m)]
        blocks += _activity_blocks(w.name, mk, larvae, m)
    blocks += _cycle_blocks(wins, masks, larvae, m, params)
    blocks += _transition_blocks(wins, masks, larvae, m, params)
    return pd.concat(blocks, ignore_index=True)


def coarse_bins(m: LarvaMatrix, width_s: float | None) -> list[np.ndarray]:
    """Distance per reported bin: export bins, or sums over ``width_s`` windows."""
    if width_s is None:
        return [m.D[:, j] for j in range(m.D.shape[1])]
    native = float(np.nanmedian(m.ends - m.starts))
    k = width_s / native
    if abs(k - round(k)) > 1e-6 or round(k) < 1:
        raise InputError(f"endpoint_bin_s {width_s:g} s is not a multiple of the export's "
                         f"{native:g}-s bins")
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
            out.append(_block(name, phase, total, larvae, m))
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
    return [_block("auc_light", light.name, auc_l, larvae, m),
            _block("auc_dark", dark.name, auc_d, larvae, m),
            _block("auc_dark_minus_light", f"cycle{k + 1}", auc_d - auc_l, larvae, m)]


def _transition_blocks(wins, masks, larvae, m, params) -> list[pd.DataFrame]:
    out = []
    w = params.transition_window_s
    for a, b in transitions(wins, to_dark=True):
        la, db = np.flatnonzero(masks[a.name]), np.flatnonzero(masks[b.name])
        if not len(la) or not len(db):
            continue
        tp = f"{a.name}>{b.name}"
        out.append(_block("transition_response", tp, m.D[:, db[0]] - m.D[:, la[-1]], larvae, m))
        out.append(_block("startle_response", tp, _around(m, b.start, w), larvae, m))
    for a, b in transitions(wins, to_dark=False):
        if masks[a.name].any() and masks[b.name].any():
            out.append(_block("freeze_response", f"{a.name}>{b.name}", _around(m, b.start, w),
                              larvae, m))
    return out


def _around(m: LarvaMatrix, t: float, w: float) -> np.ndarray:
    return window_sum(m.D, m.starts, m.ends, t, t + w) - window_sum(m.D, m.starts, m.ends,
                                                                    t - w, t)


def _block(endpoint: str, timepoint: str, values: np.ndarray, larvae: pd.DataFrame,
           m: LarvaMatrix) -> pd.DataFrame:
    values = np.asarray(values, dtype=float)
    reason = larvae["exclusion_reason"].to_numpy(object).copy()
    missing = ~np.isfinite(values) & (reason == "")
    reason[missing] = "missing value in the export"
    return pd.DataFrame({
        "endpoint": endpoint, "timepoint": timepoint, "subject": larvae["subject"].to_numpy(),
        "group": larvae["group"].to_numpy(), "dose": larvae["dose"].to_numpy(float),
        "dose_unit": larvae["dose_unit"].to_numpy(), "value": values,
        "excluded": reason != "", "exclusion_reason": reason,
        "batch": larvae["plate"].astype(str).to_numpy(),
        "source": [f"{s}: plate {p}, animal {a}" for s, p, a in
                   zip(m.sources, larvae["plate"], larvae["animal"], strict=True)]})


# ------------------------------------------------------------------ detail tables


def bins_detail(larvae: pd.DataFrame, m: LarvaMatrix, *,
                include_excluded: bool = True) -> pd.DataFrame:
    """Long per-bin table: plate, well, subject, group, dose, bin, start_s, distance."""
    n, k = m.D.shape
    out = pd.DataFrame({
        "plate": np.repeat(larvae["plate"].to_numpy(), k),
        "well": np.repeat(larvae["well"].to_numpy(), k),
        "subject": np.repeat(larvae["subject"].to_numpy(), k),
        "group": np.repeat(larvae["group"].to_numpy(), k),
        "dose": np.repeat(larvae["dose"].to_numpy(float), k),
        "bin": np.tile(np.arange(k), n), "start_s": np.tile(m.starts, n),
        "end_s": np.tile(m.ends, n), "distance": m.D.reshape(-1),
        "excluded": np.repeat(larvae["exclusion_reason"].ne("").to_numpy(), k)})
    return out if include_excluded else out[~out["excluded"]].reset_index(drop=True)


def larvae_detail(larvae: pd.DataFrame) -> pd.DataFrame:
    """One row per larva: design and exclusion."""
    cols = ["subject", "plate", "well", "animal", "group", "dose", "dose_unit",
            "exclusion_reason"]
    return larvae[cols].assign(excluded=larvae["exclusion_reason"] != "")


# ------------------------------------------------------------------ plug-in


def _run(study: Study, spec: AssaySpec, params: ZebrafishParameters) -> AssayResult:
    exports = load_exports(study.assay_inputs(spec), params)
    layouts = study.layouts if spec.layout is None else {spec.layout: study.layouts[spec.layout]}
    groups = {g.id: {"dose": g.dose, "dose_unit": g.dose_unit, "control": g.control}
              for g in study.groups.values()}
    return analyse(exports, params, study_id=study.study_id, layouts=layouts, groups=groups)


register(AssayPlugin(ASSAY, ZebrafishParameters, _run,
                     "Zebrafish larval light/dark locomotion (LPR) and embryonic EPR"))

import neurotox.assays.zebrafish_sim  # noqa: E402, F401  (registers the zebrafish-lpr simulator)
