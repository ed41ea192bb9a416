"""Neurite outgrowth: plate images to per-cell, per-field, per-well metrics and EndpointTable.

Flow: :func:`neurotox.io.plates.scan_plate` indexes the plate folder →
:func:`run_fields` analyses every field with :func:`neurotox.imaging.analyse_field`
(in-process, in a process pool, or on a Dask cluster: same function, same
results) → :func:`apply_qc` flags and excludes fields by the protocol's rules →
:func:`well_table` aggregates included fields per well → wells are joined to
the plate layout, normalised to the vehicle-control wells of the same plate,
and fitted with Hill curves (:func:`concentration_response`) → EndpointTable.
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, field_validator

from neurotox import endpoints as ept
from neurotox.assays.base import AssayPlugin, AssayResult, register
from neurotox.errors import InputError, quoted
from neurotox.imaging import FieldSettings, analyse_field
from neurotox.imaging.overlay import overlay_png
from neurotox.io.plates import (
    FieldSource,
    field_sources,
    pixel_size_um,
    read_plane_masked,
    scan_plate,
)
from neurotox.stats.hill import HillFit, fit_hill
from neurotox.study import AssaySpec, Study

log = logging.getLogger(__name__)

ASSAY = "neurite_outgrowth"
#: Well-level metrics reported as endpoints (endpoint name → column of the well table).
WELL_ENDPOINTS = {
    "neurite_length_per_cell": "neurite_length_per_cell_um",
    "mean_neurite_length_per_cell": "mean_neurite_length_per_cell_um",
    "nuclei_count": "nuclei_count",
    "neurite_bearing_cells_pct": "neurite_bearing_cells_pct",
    "branch_points_per_cell": "branch_points_per_cell",
    "neurites_per_cell": "neurites_per_cell",
    "unattached_neurite_length": "unattached_neurite_length_um",
}
#: Concentration-response fits: endpoint label → normalised well column.
CR_ENDPOINTS = {"neurite_length_per_cell": "neurite_length_per_cell_pct",
                "nuclei_count": "nuclei_count_pct"}
QC_RULES = ("empty", "cell_count", "saturation", "focus", "debris")


class NeuriteParameters(BaseModel):
    """Parameters of the neurite-outgrowth assay (protocol template + overrides).

    Image-analysis settings are in µm; QC rules decide which field flags
    exclude a field (the others are reported only). ``workers`` is the number
    of local worker processes (None: one per core); it changes the speed,
    never the results.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    category: Literal["neurodevelopmental", "structural"] = "neurodevelopmental"
    nuclei_channel: str | None = "1"
    neurite_channel: str = "2"
    pattern: str | None = None
    pixel_size_um: float | None = Field(default=None, gt=0, le=50)
    nucleus_diameter_um: float = Field(default=10.0, gt=1, le=100)
    min_nucleus_area_fraction: float = Field(default=0.25, gt=0, lt=1)
    max_nucleus_area_fraction: float = Field(default=4.0, gt=1, le=50)
    nucleus_threshold_factor: float = Field(default=0.5, gt=0.05, lt=1)
    cell_body_margin_um: float = Field(default=5.0, ge=0, le=100)
    neurite_width_um: float = Field(default=1.5, gt=0.1, le=20)
    ridge_high: float = Field(default=8.0, gt=0, le=100)
    ridge_low: float = Field(default=3.0, gt=0, le=100)
    min_contrast: float = Field(default=0.0, ge=0, le=50)
    spur_length_um: float = Field(default=3.0, ge=0, le=100)
    min_fragment_um: float = Field(default=5.0, ge=0, le=1000)
    background_radius_um: float = Field(default=40.0, gt=1, le=2000)
    bearing_threshold_um: float | None = Field(default=None, ge=0)
    saturation_level: float | None = Field(default=None, gt=0)
    min_cells_per_field: int = Field(default=1, ge=0)
    max_cells_per_field: int = Field(default=5000, ge=1)
    max_saturation_fraction: float = Field(default=0.01, ge=0, le=1)
    min_relative_focus: float = Field(default=0.3, ge=0, le=1)
    max_debris_fraction: float = Field(default=0.5, ge=0, le=1)
    exclude_on: tuple[Literal["empty", "cell_count", "saturation", "focus", "debris"], ...] = (
        "empty", "cell_count", "saturation", "focus")
    control_group: str | None = None
    dose_unit: str = "uM"
    ec_levels: tuple[float, ...] = (50.0, 20.0)
    selectivity_level: float = Field(default=50.0, gt=0, lt=100)
    specific_hit_ratio: float = Field(default=4.0, ge=1)
    workers: int | None = Field(default=None, ge=1)

    @field_validator("nuclei_channel", "neurite_channel", mode="before")
    @classmethod
    def _channel_text(cls, v: Any) -> Any:
        return str(v) if isinstance(v, int) else v

    def settings(self) -> FieldSettings:
        """The image-analysis settings."""
        keys = FieldSettings.__dataclass_fields__
        return FieldSettings(**{k: getattr(self, k) for k in keys})


# ----------------------------------------------------------------- field tasks


@dataclass(frozen=True)
class FieldTask:
    """One field to analyse (picklable: sent to worker processes or a Dask cluster)."""

    source: FieldSource
    pixel_size: float
    settings: FieldSettings
    overlays: Literal["all", "flagged", "none"] = "flagged"
    params: NeuriteParameters | None = None


@dataclass
class FieldOutput:
    """What a worker returns for one field: small tables, metrics, optional overlay."""

    source: FieldSource
    cells: pd.DataFrame
    metrics: dict[str, float]
    flags: list[str]
    overlay: bytes | None = None


def process_field(task: FieldTask) -> FieldOutput:
    """Read the planes of one field, analyse it, and drop the images (worker function)."""
    src = task.source
    neurite, masked = read_plane_masked(src.neurite)
    nuclei = None
    if src.nuclei is not None:
        nuclei, masked_nuclei = read_plane_masked(src.nuclei)
        masked += masked_nuclei
    if nuclei is not None and nuclei.shape != neurite.shape:
        raise InputError(f"image size {neurite.shape} differs from {nuclei.shape} of "
                         f"{src.nuclei.path.name} in the same field", path=src.neurite.path)
    keep = task.overlays != "none"
    res = analyse_field(neurite, nuclei, pixel_size=task.pixel_size, settings=task.settings,
                        keep_labels=keep)
    flags = res.flags + (["masked_pixels"] if masked else [])
    overlay = None
    if res.labels is not None and (task.overlays == "all" or _flagged(res, task.params)
                                   or masked):
        overlay = overlay_png(neurite, res.labels)
    return FieldOutput(src, res.cells, {**res.metrics, "masked_pixels": masked}, flags, overlay)


def _flagged(res: Any, params: NeuriteParameters | None) -> bool:
    """Field-local QC problems (plate-relative focus: see :func:`late_overlay_tasks`)."""
    if set(res.flags) - {"no_nuclear_channel"}:
        return True
    if params is None:
        return False
    m = res.metrics
    return bool(m["cells_analysed"] < params.min_cells_per_field
                or m["cells_analysed"] > params.max_cells_per_field
                or m["saturation_fraction"] > params.max_saturation_fraction
                or m["debris_fraction"] > params.max_debris_fraction)


def _bounded(submit: Callable[[FieldTask], Any], done_of: Callable[[set], tuple[set, set]],
             result_of: Callable[[Any], FieldOutput], tasks: Iterable[FieldTask],
             in_flight: int) -> Iterator[FieldOutput]:
    """Keep at most ``in_flight`` tasks submitted; yield results as they finish."""
    pending: set = set()
    for task in tasks:
        pending.add(submit(task))
        if len(pending) >= in_flight:
            done, pending = done_of(pending)
            yield from (result_of(f) for f in done)
    while pending:
        done, pending = done_of(pending)
        yield from (result_of(f) for f in done)


def _pool_results(tasks: list[FieldTask], workers: int) -> Iterator[FieldOutput]:
    with ProcessPoolExecutor(max_workers=workers) as pool:
        yield from _bounded(lambda t: pool.submit(process_field, t),
                            lambda p: wait(p, return_when=FIRST_COMPLETED),
                            lambda f: f.result(), tasks, 2 * workers)


def _dask_results(tasks: list[FieldTask], scheduler: Any) -> Iterator[FieldOutput]:
    try:
        from distributed import Client
        from distributed import wait as dwait
    except ImportError:  # pragma: no cover - optional dependency
        raise InputError("--scheduler needs dask.distributed; install neurotox[distributed]"
                         ) from None
    own = isinstance(scheduler, str)
    client = Client(scheduler) if own else scheduler
    try:
        n = max(1, len(client.scheduler_info().get("workers", {})))
        yield from _bounded(lambda t: client.submit(process_field, t, pure=False),
                            lambda p: _split(dwait(p, return_when="FIRST_COMPLETED")),
                            lambda f: f.result(), tasks, 2 * n)
    finally:
        if own:
            client.close()


def _split(result: Any) -> tuple[set, set]:
    return set(result.done), set(result.not_done)


def run_fields(tasks: list[FieldTask], *, workers: int | None = None, scheduler: Any = None,
               progress: bool = False,
               overlay_sink: Callable[[FieldOutput], None] | None = None) -> list[FieldOutput]:
    """Analyse fields in parallel; results sorted by field key (identical on any executor).

    Parameters
    ----------
    tasks
        Fields to analyse.
    workers
        Local processes (default: number of cores); 1 runs in this process.
    scheduler
        Dask scheduler address (``tcp://host:port``) or a ``distributed.Client``;
        overrides ``workers``.
    progress
        Show a tqdm progress bar.
    overlay_sink
        Called with each output that carries an overlay, as it arrives; the
        overlay bytes are then dropped, so a large plate never holds them all.

    Returns
    -------
    list of FieldOutput
        One per task, sorted by plate, well, field, timepoint.

    """
    from tqdm import tqdm

    workers = workers or os.cpu_count() or 1
    if scheduler is not None:
        stream = _dask_results(tasks, scheduler)
    elif workers <= 1 or len(tasks) <= 1:
        stream = map(process_field, tasks)
    else:
        stream = _pool_results(tasks, workers)
    out = []
    for item in tqdm(stream, total=len(tasks), disable=not progress, unit="field",
                     desc="neurite fields"):
        if overlay_sink is not None and item.overlay is not None:
            overlay_sink(item)
            item.overlay = None
        out.append(item)
    return sorted(out, key=lambda r: (r.source.plate, r.source.well, r.source.timepoint,
                                      r.source.field))


# ----------------------------------------------------------------- tables and QC


def field_table(outputs: list[FieldOutput]) -> pd.DataFrame:
    """One row per field: identifiers, metrics, QC measures and intrinsic flags."""
    rows = []
    for o in outputs:
        s = o.source
        rows.append({"plate": s.plate, "well": s.well, "field": s.field,
                     "timepoint": s.timepoint, "neurite_file": s.neurite.path.name,
                     **o.metrics, "flags": ";".join(o.flags)})
    return pd.DataFrame(rows)


def cell_table(outputs: list[FieldOutput]) -> pd.DataFrame:
    """All cells of all fields, with plate, well, field and timepoint."""
    parts = []
    for o in outputs:
        if len(o.cells):
            s = o.source
            parts.append(o.cells.assign(plate=s.plate, well=s.well, field=s.field,
                                        timepoint=s.timepoint))
    if not parts:
        return pd.DataFrame(columns=["plate", "well", "field", "timepoint", "cell"])
    df = pd.concat(parts, ignore_index=True)
    front = ["plate", "well", "field", "timepoint", "cell"]
    return df[front + [c for c in df.columns if c not in front]]


def _qc_reasons(row: pd.Series, focus_ref: float,
                p: NeuriteParameters) -> list[tuple[str, str]]:
    reasons = []
    if row["nuclei_count"] == 0 and row["total_neurite_length_um"] == 0:
        reasons.append(("empty", "empty field (no nuclei, no neurites)"))
    n = row["cells_analysed"]
    if n < p.min_cells_per_field or n > p.max_cells_per_field:
        reasons.append(("cell_count", f"cell count {n:.0f} outside "
                        f"[{p.min_cells_per_field}, {p.max_cells_per_field}]"))
    if row["saturation_fraction"] > p.max_saturation_fraction:
        reasons.append(("saturation", f"saturated pixels {row['saturation_fraction']:.2%} > "
                        f"{p.max_saturation_fraction:.2%}"))
    if focus_ref > 0 and row["focus_score"] < p.min_relative_focus * focus_ref:
        reasons.append(("focus", f"focus score {row['focus_score'] / focus_ref:.2f} x plate "
                        f"median < {p.min_relative_focus}"))
    if row["debris_fraction"] > p.max_debris_fraction:
        reasons.append(("debris", f"debris fraction {row['debris_fraction']:.2f} > "
                        f"{p.max_debris_fraction}"))
    return reasons


def apply_qc(fields: pd.DataFrame, params: NeuriteParameters) -> pd.DataFrame:
    """Add QC flags, ``excluded`` and ``exclusion_reason`` columns to the field table.

    Focus is judged relative to the median focus score of the plate's
    non-empty fields; the protocol's ``exclude_on`` lists the rules that
    exclude a field (the others only flag it).
    """
    fields = fields.copy()
    if fields.empty:
        return fields.assign(qc_flags="", excluded=False, exclusion_reason="")
    nonempty = fields[fields["nuclei_count"] > 0]
    focus_ref = nonempty.groupby("plate")["focus_score"].median()
    qc_flags, excluded, reasons = [], [], []
    for _, row in fields.iterrows():
        found = _qc_reasons(row, float(focus_ref.get(row["plate"], 0.0)), params)
        qc_flags.append(";".join(k for k, _ in found))
        hits = [text for k, text in found if k in params.exclude_on]
        excluded.append(bool(hits))
        reasons.append("; ".join(hits))
    return fields.assign(qc_flags=qc_flags, excluded=excluded, exclusion_reason=reasons)


def _well_row(cells: pd.DataFrame, fields: pd.DataFrame) -> dict[str, float]:
    ok = fields[~fields["excluded"]]
    n_cells = float(ok["cells_analysed"].sum())
    row = {"fields_total": len(fields), "fields_analysed": len(ok),
           "cells_analysed": n_cells,
           "nuclei_count": float(ok["nuclei_count"].mean()) if len(ok) else math.nan,
           "unattached_neurite_length_um": float(ok["unattached_neurite_length_um"].mean())
           if len(ok) else math.nan,
           "fragments_per_field": float(ok["n_fragments"].mean()) if len(ok) else math.nan,
           "mean_fragment_length_um": _ratio(ok, "unattached_neurite_length_um", "n_fragments")}
    keep = cells.merge(ok[["field", "timepoint"]], on=["field", "timepoint"]) \
        if len(cells) else cells
    if n_cells > 0:
        row["neurite_length_per_cell_um"] = float(ok["attached_neurite_length_um"].sum()) / n_cells
        row["mean_neurite_length_per_cell_um"] = float(keep["neurite_length_um"].mean())
        row["neurite_bearing_cells_pct"] = 100.0 * float(keep["neurite_bearing"].mean())
        row["branch_points_per_cell"] = float(keep["n_branch_points"].sum()) / n_cells
        row["neurites_per_cell"] = float(keep["n_neurites"].sum()) / n_cells
    else:
        for col in ("neurite_length_per_cell_um", "mean_neurite_length_per_cell_um",
                    "neurite_bearing_cells_pct", "branch_points_per_cell", "neurites_per_cell"):
            row[col] = math.nan
    reason = "; ".join(sorted(set(r for r in fields["exclusion_reason"] if r)))
    row["well_note"] = ("all fields excluded: " + reason) if not len(ok) else \
        ("no cells analysed" if n_cells == 0 else "")
    return row


def _ratio(df: pd.DataFrame, num: str, den: str) -> float:
    total = float(df[den].sum()) if len(df) else 0.0
    return float(df[num].sum()) / total if total > 0 else math.nan


def well_table(cells: pd.DataFrame, fields: pd.DataFrame) -> pd.DataFrame:
    """Per-well metrics from the included fields (ratio of totals and mean of cells)."""
    rows = []
    for (plate, well, tp), grp in fields.groupby(["plate", "well", "timepoint"], sort=True):
        sel = cells[(cells["plate"] == plate) & (cells["well"] == well) &
                    (cells["timepoint"] == tp)] if len(cells) else cells
        rows.append({"plate": plate, "well": well, "timepoint": tp, **_well_row(sel, grp)})
    return pd.DataFrame(rows)


# ----------------------------------------------------------------- layout, normalisation


@dataclass
class GroupInfo:
    """Dose group of a well."""

    group: str
    dose: float
    dose_unit: str
    control: bool


def _group_of(row: pd.Series, groups: dict[str, GroupInfo] | None,
              params: NeuriteParameters) -> GroupInfo | None:
    group = str(row.get("group", "") or "")
    conc = row.get("concentration", math.nan)
    conc = float(conc) if conc is not None and not pd.isna(conc) else math.nan
    if groups is not None and group in groups:
        g = groups[group]
        dose = conc if math.isfinite(conc) else g.dose
        return GroupInfo(g.group, dose, g.dose_unit, g.control)
    if not math.isfinite(conc):
        return None
    name = group or f"C{conc:g}"
    control = (group == params.control_group) if params.control_group else conc == 0
    return GroupInfo(name, conc, params.dose_unit, control)


def join_layout(wells: pd.DataFrame, layout: pd.DataFrame,
                groups: dict[str, GroupInfo] | None,
                params: NeuriteParameters) -> tuple[pd.DataFrame, list[str]]:
    """Attach group, dose and control status to wells; report mismatches.

    Returns
    -------
    wells : pandas.DataFrame
        Wells that are in the layout and not blank, with ``group``, ``dose``,
        ``dose_unit``, ``control``.
    notes : list of str
        Wells with images but no layout entry, and layout wells without images.

    """
    notes: list[str] = []
    lay = layout[~layout["blank"]].set_index("well")
    check_layout_wells(set(wells["well"]), layout)
    info = {w: _group_of(lay.loc[w], groups, params) for w in lay.index}
    bad = sorted(w for w, g in info.items() if g is None)
    if bad:
        raise InputError(f"wells {quoted(bad)} have neither a study group nor a concentration "
                         "in the layout")
    out = wells[wells["well"].isin(lay.index)].copy()
    for col in ("group", "dose", "dose_unit", "control"):
        out[col] = [getattr(info[w], col) for w in out["well"]]
    return out.reset_index(drop=True), notes


def normalise_to_control(wells: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """Percent of the mean of the vehicle-control wells of the same plate and timepoint."""
    wells = wells.copy()
    notes = []
    for src, dst in (("neurite_length_per_cell_um", "neurite_length_per_cell_pct"),
                     ("nuclei_count", "nuclei_count_pct")):
        ref = wells[wells["control"]].groupby(["plate", "timepoint"])[src].mean()
        keys = list(zip(wells["plate"], wells["timepoint"], strict=True))
        denom = np.array([ref.get(k, math.nan) for k in keys], dtype=float)
        with np.errstate(invalid="ignore", divide="ignore"):
            wells[dst] = 100.0 * wells[src].to_numpy(dtype=float) / denom
        lacking = sorted({f"{k[0]}" for k, d in zip(keys, denom, strict=True)
                          if not np.isfinite(d) or d == 0})
        if lacking:
            notes.append(f"no usable vehicle-control wells for {src} on plate(s) "
                         f"{quoted(lacking)}; percent of control not computed")
    return wells, notes


# ----------------------------------------------------------------- concentration-response


def _fit_row(name: str, fit: HillFit, levels: Iterable[float]) -> dict[str, Any]:
    row: dict[str, Any] = {"endpoint": name, "n": fit.n, "top": fit.top, "bottom": fit.bottom,
                           "ec50_parameter": fit.ec50, "slope": fit.slope,
                           "fit_flags": ";".join(fit.flags)}
    for x in levels:
        key = f"ec{x:g}"
        row[key] = fit.ecx.get(x, math.nan)
        row[f"{key}_ci_low"], row[f"{key}_ci_high"] = fit.ecx_ci.get(x, (math.nan, math.nan))
        row[f"{key}_flags"] = ";".join(fit.ecx_flags.get(x, ()))
    return row


def concentration_response(wells: pd.DataFrame, params: NeuriteParameters
                           ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Hill fits of neurite length per cell and nuclei count (percent of control).

    Returns
    -------
    fits : pandas.DataFrame
        One row per endpoint and timepoint: parameters, ECx with CIs and flags.
    selectivity : pandas.DataFrame
        One row per timepoint: neurite and viability EC at the selectivity
        level, their ratio and the call (``specific``, ``cytotoxic``, ``inactive``).

    """
    levels = tuple(dict.fromkeys((*params.ec_levels, params.selectivity_level)))
    fit_rows, sel_rows = [], []
    for tp, grp in wells.groupby("timepoint", sort=True):
        fits = {}
        for name, col in CR_ENDPOINTS.items():
            ok = grp[np.isfinite(grp[col].to_numpy(dtype=float))]
            fits[name] = fit_hill(ok["dose"], ok[col], levels=levels, reference=100.0)
            fit_rows.append({"timepoint": tp, **_fit_row(name, fits[name], levels)})
        sel_rows.append({"timepoint": tp, **selectivity(fits["neurite_length_per_cell"],
                                                        fits["nuclei_count"], params)})
    return pd.DataFrame(fit_rows), pd.DataFrame(sel_rows)


def selectivity(neurite: HillFit, viability: HillFit, params: NeuriteParameters
                ) -> dict[str, Any]:
    """Specific-hit call from neurite and viability ECs at the selectivity level.

    A compound is a specific neurite-outgrowth hit when the neurite EC is
    reached within the tested range and the viability EC is at least
    ``specific_hit_ratio`` times higher (a viability EC that is not reached
    counts as above the highest tested concentration).
    """
    x = params.selectivity_level
    ec_n = neurite.ecx.get(x, math.nan)
    ec_v = viability.ecx.get(x, math.nan)
    top = neurite.tested_range[1]
    n_ok = math.isfinite(ec_n) and "extrapolated" not in neurite.ecx_flags.get(x, ())
    v_eff = ec_v if math.isfinite(ec_v) else top
    ratio = v_eff / ec_n if n_ok and math.isfinite(v_eff) else math.nan
    if not n_ok:
        call = "cytotoxic" if math.isfinite(ec_v) else "inactive"
    elif ratio >= params.specific_hit_ratio:
        call = "specific"
    else:
        call = "cytotoxic"
    return {"level": x, "neurite_ec": ec_n, "viability_ec": ec_v,
            "viability_ec_reached": math.isfinite(ec_v),
            "ratio": ratio, "ratio_is_lower_bound": n_ok and not math.isfinite(ec_v),
            "threshold": params.specific_hit_ratio, "call": call}


# ----------------------------------------------------------------- EndpointTable


def endpoint_rows(wells: pd.DataFrame, *, study_id: str, params: NeuriteParameters,
                  plate_dirs: dict[str, str]) -> pd.DataFrame:
    """EndpointTable rows: one per well and endpoint; wells without data are excluded."""
    multi_plate = wells["plate"].nunique() > 1
    records = []
    for _, w in wells.iterrows():
        subject = f"{w['plate']}:{w['well']}" if multi_plate else w["well"]
        base = {"subject": subject, "group": w["group"], "dose": float(w["dose"]),
                "dose_unit": w["dose_unit"], "timepoint": w["timepoint"], "batch": w["plate"],
                "source": f"{plate_dirs.get(w['plate'], w['plate'])}/{w['well']} "
                          f"({w['fields_analysed']}/{w['fields_total']} fields)"}
        for name, col in WELL_ENDPOINTS.items():
            value = float(w[col]) if col in w and pd.notna(w[col]) else math.nan
            rec = {**base, "endpoint": name, "value": value}
            if not math.isfinite(value):
                rec["excluded"] = True
                rec["exclusion_reason"] = w["well_note"] or "no value (no vehicle control)"
            records.append(rec)
    return ept.from_records(records, study_id=study_id, assay=ASSAY, category=params.category,
                            sex="NA")


# ----------------------------------------------------------------- plate run


@dataclass
class NeuriteRun:
    """Everything one plate run produced."""

    endpoints: pd.DataFrame
    details: dict[str, pd.DataFrame]
    notes: list[str] = field(default_factory=list)
    exclusions: list[dict[str, Any]] = field(default_factory=list)
    overlays: dict[str, bytes] = field(default_factory=dict)
    inputs: list[Path] = field(default_factory=list)


def _pixel_size(sources: list[FieldSource], params: NeuriteParameters,
                notes: list[str]) -> float:
    if params.pixel_size_um is not None:
        return params.pixel_size_um
    first = sources[0].neurite.path
    value = pixel_size_um(first)
    if value is None:
        raise InputError("pixel size not found in the image metadata; give --pixel-size "
                         "(µm per pixel)", path=first)
    notes.append(f"pixel size {value:.4g} µm taken from the metadata of {first.name}")
    return value


def check_layout_wells(imaged: set[str], layout: pd.DataFrame) -> None:
    """InputError when imaged wells are missing from the layout or layout wells lack images."""
    path = layout.attrs.get("path")
    missing_layout = sorted(imaged - set(layout["well"]))
    if missing_layout:
        raise InputError(f"wells {quoted(missing_layout)} have images but are not in the "
                         "layout (list unused wells with group 'blank')", path=path,
                         where="column 'well'")
    no_images = sorted(set(layout.loc[~layout["blank"], "well"]) - imaged)
    if no_images:
        raise InputError(f"wells {quoted(no_images)} are in the layout but have no images",
                         path=path, where="column 'well'")


def _check_same_calibration(sources: list[FieldSource], px: float,
                            params: NeuriteParameters, notes: list[str]) -> None:
    """InputError when a file's metadata pixel size disagrees with the one used.

    Files without a usable calibration get ``px`` too; they are named in the notes.
    """
    if params.pixel_size_um is not None:
        return
    missing = []
    for s in sources:
        for plane in (s.neurite, s.nuclei):
            if plane is None:
                continue
            value = pixel_size_um(plane.path)
            if value is None:
                missing.append(plane.path.name)
            elif not np.isclose(value, px, rtol=1e-3):
                raise InputError(f"pixel size {value:.4g} µm differs from {px:.4g} µm of the "
                                 "first file; give --pixel-size", path=plane.path)
    if missing:
        notes.append(f"{len(missing)} file(s) without a usable pixel-size calibration "
                     f"({quoted(missing[:5])}) taken as {px:.4g} µm")


def plan_fields(plate_dir: str | Path, params: NeuriteParameters, *,
                overlays: Literal["all", "flagged", "none"] = "flagged"
                ) -> tuple[list[FieldTask], list[str]]:
    """Index a plate folder and build one task per field (nothing is read yet)."""
    index = scan_plate(plate_dir, pattern=params.pattern)
    notes = [f"naming scheme: {index.scheme.description}"]
    if index.thumbnails:
        notes.append(f"skipped {len(index.thumbnails)} thumbnail file(s)")
    if index.unmatched:
        notes.append(f"{len(index.unmatched)} image file(s) did not match the naming scheme: "
                     f"{quoted(p.name for p in index.unmatched[:5])}")
    sources = field_sources(index, neurite_channel=params.neurite_channel,
                            nuclei_channel=params.nuclei_channel)
    if not sources:
        raise InputError(f"no field has the neurite channel {params.neurite_channel!r}",
                         path=plate_dir)
    stack = sources[0].neurite.plane is not None
    notes.append(f"channel roles: neurites = {'plane' if stack else 'channel'} "
                 f"{params.neurite_channel!r}, nuclei = "
                 + (f"{'plane' if stack else 'channel'} {params.nuclei_channel!r}"
                    if params.nuclei_channel is not None else "none (neurite channel only)"))
    if any(s.nuclei is None for s in sources):
        notes.append("some fields have no nuclear channel: cell bodies detected from the "
                     "neurite channel alone")
    px = _pixel_size(sources, params, notes)
    _check_same_calibration(sources, px, params, notes)
    settings = params.settings()
    return [FieldTask(s, px, settings, overlays, params) for s in sources], notes


def analyse_plate(plate_dir: str | Path, layout: pd.DataFrame, params: NeuriteParameters, *,
                  study_id: str, groups: dict[str, GroupInfo] | None = None,
                  workers: int | None = None, scheduler: Any = None,
                  overlays: Literal["all", "flagged", "none"] = "flagged",
                  progress: bool = False,
                  overlay_writer: Callable[[str, bytes], Any] | None = None) -> NeuriteRun:
    """Analyse a plate folder end to end.

    Parameters
    ----------
    plate_dir
        Folder of images.
    layout
        Plate layout (:func:`neurotox.study.read_layout`).
    params
        Assay parameters.
    study_id
        Study number for the EndpointTable.
    groups
        Study groups by ID (dose, unit, control); None when the layout's
        ``concentration`` column defines the groups (control = concentration 0
        or ``params.control_group``).
    workers, scheduler, progress
        See :func:`run_fields`.
    overlays
        Which fields get an overlay PNG.
    overlay_writer
        ``writer(relative_path, png_bytes)`` called as overlays arrive; when None
        they are returned in :attr:`NeuriteRun.overlays`.

    Returns
    -------
    NeuriteRun
        EndpointTable, detail tables (cells, fields, wells, concentration_response,
        selectivity), notes, exclusions and overlays.

    """
    tasks, notes = plan_fields(plate_dir, params, overlays=overlays)
    check_layout_wells({t.source.well for t in tasks}, layout)
    workers = workers or params.workers
    written: set[str] = set()

    def sink(o: FieldOutput) -> None:
        written.add(overlay_name(o.source))
        if overlay_writer is not None:
            overlay_writer(overlay_name(o.source), o.overlay)
    outputs = run_fields(tasks, workers=workers, scheduler=scheduler, progress=progress,
                         overlay_sink=sink if overlay_writer is not None else None)
    written.update(overlay_name(o.source) for o in outputs if o.overlay is not None)
    fields = apply_qc(field_table(outputs), params)
    notes += _masked_note(fields)
    if overlays == "flagged":
        late = late_overlay_tasks(tasks, fields, written)
        if late:
            extra = run_fields(late, workers=workers, scheduler=scheduler,
                               overlay_sink=sink if overlay_writer is not None else None)
            outputs = _with_overlays(outputs, extra)
    cells = cell_table(outputs)
    wells, more = join_layout(well_table(cells, fields), layout, groups, params)
    wells, norm_notes = normalise_to_control(wells)
    fits, sel = concentration_response(wells, params)
    plate_dirs = {t.source.plate: str(plate_dir) for t in tasks}
    table = endpoint_rows(wells, study_id=study_id, params=params, plate_dirs=plate_dirs)
    exclusions = [{"what": f"field {r.plate}/{r.well}/s{r.field}", "timepoint": r.timepoint,
                   "reason": r.exclusion_reason, "rule": "protocol QC"}
                  for r in fields[fields["excluded"]].itertuples()]
    overlay_files = {overlay_name(o.source): o.overlay for o in outputs
                     if o.overlay is not None}
    inputs = sorted({p for t in tasks for p in _paths(t.source)})
    return NeuriteRun(table, {"cells": cells, "fields": fields, "wells": wells,
                              "concentration_response": fits, "selectivity": sel},
                      notes + more + norm_notes, exclusions, overlay_files, inputs)


def _masked_note(fields: pd.DataFrame) -> list[str]:
    """Run note on NaN/infinite pixels masked in float images (none: no note)."""
    if "masked_pixels" not in fields.columns or not fields["masked_pixels"].any():
        return []
    hit = fields[fields["masked_pixels"] > 0]
    return [f"{len(hit)} field(s) held NaN or infinite pixels ({int(hit['masked_pixels'].sum())}"
            " in all): masked as background (set to the plane's lowest finite value); "
            "see the fields table, column masked_pixels"]


def late_overlay_tasks(tasks: list[FieldTask], fields: pd.DataFrame,
                       written: set[str]) -> list[FieldTask]:
    """Tasks that re-analyse fields flagged by plate-relative QC, to draw their overlay.

    A worker only knows its own field, so a field flagged against the plate
    (focus below the plate median) gets no overlay on the first pass. Those
    fields are read and analysed again (deterministic: same labels) with
    ``overlays="all"``; nothing is held in memory between the passes.
    """
    flagged = fields[fields["qc_flags"].astype(str) != ""]
    keys = {(r.plate, r.well, r.field, r.timepoint) for r in flagged.itertuples()}
    return [replace(t, overlays="all") for t in tasks
            if (t.source.plate, t.source.well, t.source.field, t.source.timepoint) in keys
            and overlay_name(t.source) not in written]


def _with_overlays(outputs: list[FieldOutput], extra: list[FieldOutput]) -> list[FieldOutput]:
    """First-pass outputs with the overlays of the second pass attached."""
    late = {overlay_name(o.source): o.overlay for o in extra if o.overlay is not None}
    for o in outputs:
        o.overlay = late.get(overlay_name(o.source), o.overlay)
    return outputs


def overlay_name(src: FieldSource) -> str:
    """Relative output path of a field's overlay PNG."""
    tp = "" if src.timepoint == "NA" else f"_t{src.timepoint}"
    return f"overlays/{src.plate}_{src.well}_s{src.field}{tp}.png"


def _paths(src: FieldSource) -> list[Path]:
    return [src.neurite.path] + ([src.nuclei.path] if src.nuclei is not None else [])


# ----------------------------------------------------------------- study plug-in


def _study_groups(study: Study) -> dict[str, GroupInfo]:
    return {g.id: GroupInfo(g.id, g.dose, g.dose_unit, g.control) for g in study.spec.groups}


def _study_layout(study: Study, spec: AssaySpec) -> pd.DataFrame:
    if spec.layout:
        if spec.layout not in study.layouts:
            raise InputError(f"layout {spec.layout!r} is not among the study's plate_layouts "
                             f"({quoted(study.layouts)})", path=study.path,
                             where=f"key 'assays.{spec.key}.layout'")
        return study.layouts[spec.layout]
    if len(study.layouts) != 1:
        raise InputError(f"give 'layout' for assay {spec.key!r}: the study has "
                         f"{len(study.layouts)} plate layouts", path=study.path)
    return next(iter(study.layouts.values()))


def _run(study: Study, spec: AssaySpec, params: BaseModel) -> AssayResult:
    assert isinstance(params, NeuriteParameters)
    plate_dir = study.assay_inputs(spec)[0]
    run = analyse_plate(plate_dir, _study_layout(study, spec), params, study_id=study.study_id,
                        groups=_study_groups(study), workers=params.workers)
    notes = run.notes + [f"excluded {e['what']}: {e['reason']}" for e in run.exclusions]
    return AssayResult(endpoints=run.endpoints, details=run.details, notes=notes,
                       inputs=run.inputs)


register(AssayPlugin(ASSAY, NeuriteParameters, _run,
                     "Neurite outgrowth of neuronal cultures from plate images"))


# ----------------------------------------------------------------- simulator

#: Simulated plate: well → concentration (µM); B02/B03 are vehicle controls.
SIM_WELLS = {"B02": 0.0, "B03": 0.0, "B04": 0.1, "B05": 0.3, "B06": 1.0, "B07": 3.0,
             "B08": 10.0, "B09": 30.0}
SIM_PIXEL_SIZE = 0.65
SIM_NEURITE_EC50 = 1.0
SIM_VIABILITY_EC50 = 100.0


def _sim_effects(conc: float) -> tuple[float, int]:
    """Neurite length scale and number of cells at ``conc`` (Hill slope 1.5 and 2)."""
    scale = 1.0 / (1.0 + (conc / SIM_NEURITE_EC50) ** 1.5) if conc > 0 else 1.0
    alive = 1.0 / (1.0 + (conc / SIM_VIABILITY_EC50) ** 2) if conc > 0 else 1.0
    return scale, int(round(14 * alive))


def _write_tiff(path: Path, data: np.ndarray, pixel_size: float) -> None:
    import tifffile

    tifffile.imwrite(path, data, imagej=True, resolution=(1 / pixel_size, 1 / pixel_size),
                     metadata={"unit": "um"})


def write_simulated_plate(folder: Path, seed: int) -> dict[str, Any]:
    """Write a small simulated neurite plate study (8 wells x 1 field, 512 x 512 px).

    ImageXpress naming (``SIM01_B02_s1_w1.tif`` nuclei, ``_w2`` neurites), ImageJ
    pixel-size calibration, a layout with concentrations, and a study file.
    Returns the truth: per field nuclei count and total neurite length (µm).
    """
    from neurotox.imaging.synthetic import synthetic_field
    from neurotox.simulate import write_study_yaml

    images = folder / "images"
    images.mkdir(parents=True, exist_ok=True)
    truth = {}
    for k, (well, conc) in enumerate(SIM_WELLS.items()):
        scale, n_cells = _sim_effects(conc)
        f = synthetic_field(seed * 100 + k, pixel_size=SIM_PIXEL_SIZE, n_cells=n_cells,
                            touching_pairs=min(2, n_cells // 4), neurite_scale=scale)
        _write_tiff(images / f"SIM01_{well}_s1_w1.tif", f.nuclei, SIM_PIXEL_SIZE)
        _write_tiff(images / f"SIM01_{well}_s1_w2.tif", f.neurites, SIM_PIXEL_SIZE)
        truth[f"{well}/s1"] = {"concentration_uM": conc,
                               "nuclei_count": f.truth["nuclei_count"],
                               "total_neurite_length_um": f.truth["total_neurite_length_um"]}
    groups = {c: f"G{i + 1}" for i, c in enumerate(sorted(set(SIM_WELLS.values())))}
    pd.DataFrame({"well": list(SIM_WELLS), "group": [groups[c] for c in SIM_WELLS.values()],
                  "concentration": list(SIM_WELLS.values())}).to_csv(
        folder / "layout.csv", index=False, lineterminator="\n")
    write_study_yaml(folder, {
        "study_id": "SIM-NEURITE-001",
        "title": "Simulated neurite outgrowth plate (SH-SY5Y-like)",
        "test_item": "Simulated inhibitor",
        "cell_line": "SH-SY5Y (simulated)",
        "groups": [{"id": g, "label": "Vehicle control" if c == 0 else f"{c:g} uM",
                    "dose": c, "dose_unit": "uM", "control": c == 0}
                   for c, g in groups.items()],
        "plate_layouts": {"SIM01": "layout.csv"},
        "assays": [{"assay": ASSAY, "protocol": "neurite-outgrowth-shsy5y", "input": "images",
                    "layout": "SIM01"}],
    })
    return {"pixel_size_um": SIM_PIXEL_SIZE, "neurite_ec50_uM": SIM_NEURITE_EC50,
            "viability_ec50_uM": SIM_VIABILITY_EC50, "fields": truth}


def _register_simulator() -> None:
    from neurotox.simulate import Simulator, register_simulator

    register_simulator(Simulator(
        "neurite-plate", "Neurite outgrowth plate: 8 wells of two-channel TIFFs with known "
        "neurite lengths and nuclei, concentration series with a specific inhibitor",
        write_simulated_plate))


_register_simulator()
