"""Neurite tables: fields, cells and wells from the field outputs, field QC, EndpointTable rows."""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

import pandas as pd

from neurotox import endpoints as ept
from neurotox.assays.neurite.fields import (
    BLANK_PLANE_COLUMNS,
    FieldOutput,
    blank_plane_failures,
    qc_findings,
    typical_length,
)
from neurotox.assays.neurite.params import (
    ASSAY,
    WELL_ENDPOINTS,
    NeuriteParameters,
    count_endpoint,
    no_neuron_in_view,
)
from neurotox.errors import quoted


def field_table(outputs: list[FieldOutput], folder: Path | None = None) -> pd.DataFrame:
    """One row per field: identifiers, files, metrics, QC measures and intrinsic flags.

    The files are named by their path inside the plate ``folder`` (fields of
    ``TimePoint_1/`` and ``TimePoint_2/`` share file names), else by name.
    """
    def where(plane: Any) -> str:
        if plane is None:
            return ""
        path = Path(os.path.abspath(plane.path))
        if folder is not None and path.is_relative_to(os.path.abspath(folder)):
            return path.relative_to(os.path.abspath(folder)).as_posix()
        return path.name

    rows = []
    for o in outputs:
        s = o.source
        rows.append({"plate": s.plate, "well": s.well, "field": s.field,
                     "timepoint": s.timepoint, "neurite_file": where(s.neurite),
                     "nuclei_file": where(s.nuclei), "pixel_size_um": round(o.pixel_size_um, 6),
                     "pixel_size_source": o.pixel_size_source, **o.metrics,
                     "flags": ";".join(o.flags),
                     "blank_neurite": o.blank_neurite, "blank_nuclei": o.blank_nuclei,
                     "missing_nuclei": o.missing_nuclei})
    return pd.DataFrame(rows)


def cell_table(outputs: list[FieldOutput]) -> pd.DataFrame:
    """All cells of all fields, with plate, well, field and timepoint."""
    parts = []
    for o in outputs:
        if len(o.cells):
            s = o.source
            parts.append(o.cells.assign(plate=s.plate, well=s.well, field=s.field,
                                        timepoint=s.timepoint,
                                        pixel_size_um=round(o.pixel_size_um, 6)))
    if not parts:
        return pd.DataFrame(columns=["plate", "well", "field", "timepoint", "cell"])
    df = pd.concat(parts, ignore_index=True)
    front = ["plate", "well", "field", "timepoint", "cell"]
    return df[front + [c for c in df.columns if c not in front]]


def _holds_objects(fields: pd.DataFrame) -> pd.Series:
    """Per field: whether it holds nuclei, cells of any kind or neurites (else it is empty).

    Non-neuronal cells count: a co-culture field of tumour cells without a
    neurite is a measured zero length, not an empty field.
    """
    others = fields["non_neuronal_cells"] if "non_neuronal_cells" in fields else 0.0
    return ((fields["nuclei_count"] > 0) | (others > 0)
            | (fields["total_neurite_length_um"].fillna(0.0) > 0))


def focus_references(fields: pd.DataFrame, params: NeuriteParameters) -> dict[str, float]:
    """Median focus score per plate over fields where it was measurable.

    Only fields holding something (:func:`_holds_objects`) count; in axon and
    co-culture fields no cell is analysed, but their neurites are.
    Plates with fewer than ``min_fields_for_focus`` such fields get no
    reference (0): a few fields do not tell a blurred field from a sparse one.
    """
    ok = fields[fields["focus_score"].notna() & _holds_objects(fields)]
    counts = ok.groupby("plate")["focus_score"].count()
    medians = ok.groupby("plate")["focus_score"].median()
    return {plate: float(medians[plate]) if counts[plate] >= params.min_fields_for_focus else 0.0
            for plate in medians.index}


def apply_qc(fields: pd.DataFrame, params: NeuriteParameters) -> pd.DataFrame:
    """Add QC flags, ``excluded`` and ``exclusion_reason`` columns to the field table.

    Every failed rule is flagged with its measured value (``qc_flags``, e.g.
    ``saturation=7.31%;focus=0.42x``); only the rules in the protocol's
    ``exclude_on`` exclude the field, with the full sentence as the reason.
    Focus is judged relative to the plate's median (see :func:`focus_references`).
    A blank neurite plane beside nuclei (``blank_neurite``) or a blank nuclear
    plane beside neurites (``blank_nuclei``) is an acquisition failure: it
    excludes the field whatever ``exclude_on`` says, and is the only reason
    given (its zero length or zero nuclei were never measured, so the rules
    they fail say nothing more).

    ``counted``: the field still counts in the well's counts and totals
    (:data:`COUNTED_WHEN_EXCLUDED`): a field excluded only for holding no cells
    (``empty``, or fewer than ``min_cells_per_field``) was imaged and measured,
    and its zero is what a dose that killed the cells does. Only the per-cell
    endpoints leave it out.
    """
    fields = fields.copy()
    if fields.empty:
        return fields.assign(qc_flags="", excluded=False, exclusion_reason="")
    refs = focus_references(fields, params)
    typical = typical_length(fields)
    qc_flags, excluded, reasons, counted = [], [], [], []
    for (i, row), holds in zip(fields.iterrows(), _holds_objects(fields), strict=True):
        found = qc_findings(row, holds, refs.get(row["plate"], 0.0), params)
        blank, debris = blank_plane_failures(row, typical.get(row["plate"], math.nan))
        if debris:     # read as a dead field: no acquisition failure to report
            fields.loc[i, "blank_nuclei"] = ""
        qc_flags.append(";".join([*blank, *debris, *(f for _, f, _ in found)]))
        rules = [rule for rule, _, _ in found if rule in params.exclude_on]
        hits = [f"{text} (acquisition failure, not measured)" for text in blank.values()] or \
            [text for rule, _, text in found if rule in params.exclude_on]
        excluded.append(bool(hits))
        reasons.append("; ".join(hits))
        too_many = row["cells_analysed"] > params.max_cells_per_field
        counted.append(not blank and not too_many
                       and set(rules) <= COUNTED_WHEN_EXCLUDED)
    return fields.assign(qc_flags=qc_flags, excluded=excluded, exclusion_reason=reasons,
                         counted=counted)


#: QC rules whose exclusion leaves a field in its well's counts and totals: the field
#: holds no cells (or too few for per-cell values), which a dose that killed them does.
COUNTED_WHEN_EXCLUDED = frozenset({"empty", "cell_count"})




def acquisition_failed(fields: pd.DataFrame) -> pd.Series:
    """Per field: whether a plane is blank beside one with signal (see :func:`apply_qc`)."""
    failed = pd.Series(False, index=fields.index)
    for column in BLANK_PLANE_COLUMNS:
        if column in fields:
            failed |= fields[column].fillna("").ne("")
    return failed


def _well_row(cells: pd.DataFrame, fields: pd.DataFrame) -> dict[str, float]:
    ok = fields[~fields["excluded"]]
    seen = fields[fields["counted"]] if "counted" in fields else ok

    def mean(column: str) -> float:
        return float(seen[column].mean()) if len(seen) else math.nan

    n_cells = float(ok["cells_analysed"].sum())
    row = {"fields_total": len(fields), "fields_analysed": len(ok), "fields_counted": len(seen),
           "cells_analysed": n_cells, "nuclei_count": mean("nuclei_count"),
           "unattached_neurite_length_um": mean("unattached_neurite_length_um"),
           "total_neurite_length_um": mean("total_neurite_length_um"),
           "fragments_per_field": mean("n_fragments"),
           "mean_fragment_length_um": _ratio(seen, "unattached_neurite_length_um",
                                             "n_fragments")}
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
    row["well_note"] = "" if len(ok) and n_cells else \
        ("no cells analysed" if len(ok) else "all fields excluded: " + reason)
    if len(seen) and not len(ok):
        row["well_note"] += " (counted as imaged: no or too few cells)"
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
        rows.append({"plate": plate, "well": well, "timepoint": tp, **_well_row(sel, grp),
                     # one image per well (images as replicates): the value's raw file
                     "image": (grp["neurite_file"].iloc[0] or grp["nuclei_file"].iloc[0])
                     if len(grp) == 1 else "", **_well_pixel_size(grp)})
    return pd.DataFrame(rows)


def _well_pixel_size(fields: pd.DataFrame) -> dict[str, Any]:
    """The pixel size a well's fields were measured at, and where it came from.

    Empty (NaN) when the fields were measured at different sizes (each field's
    own is in the fields table); the sources are listed, ``;``-separated.
    """
    if "pixel_size_um" not in fields:
        return {}
    sizes = set(fields["pixel_size_um"])
    return {"pixel_size_um": sizes.pop() if len(sizes) == 1 else math.nan,
            "pixel_size_source": ";".join(sorted(set(fields["pixel_size_source"])))}



# ----------------------------------------------------------------- EndpointTable


def endpoint_rows(wells: pd.DataFrame, *, study_id: str, params: NeuriteParameters,
                  plate_dirs: dict[str, str]) -> pd.DataFrame:
    """EndpointTable rows: one per well and endpoint; wells without data are excluded."""
    multi_plate = wells["plate"].nunique() > 1
    unmeasured = unmeasured_endpoints(params)
    counted = count_endpoint(params)
    records = []
    for _, w in wells.iterrows():
        subject = f"{w['plate']}:{w['well']}" if multi_plate else w["well"]
        dose = float(w["dose"])
        # groups without a concentration: dose 0 with unit 'none' (the EndpointTable
        # needs a finite dose; the unit says there is none)
        base = {"subject": subject, "group": w["group"],
                "dose": dose if math.isfinite(dose) else 0.0, "dose_unit": w["dose_unit"],
                "timepoint": w["timepoint"], "batch": w["plate"],
                "source": f"{plate_dirs.get(w['plate'], w['plate'])}/"
                          f"{w.get('image') or w['well']} "
                          f"({w['fields_analysed']}/{w['fields_total']} fields)"}
        for name, col in WELL_ENDPOINTS.items():
            if params.neurite_channel is None and name != "nuclei_count":
                continue            # nuclei-only fields: nothing else was measured
            value = float(w[col]) if col in w and pd.notna(w[col]) else math.nan
            rec = {**base, "value": value,
                   "endpoint": counted if name == "nuclei_count" else name}
            if name in unmeasured:
                rec["value"] = math.nan if name in NO_NEURON_UNMEASURED else value
                rec["excluded"] = True
                rec["exclusion_reason"] = unmeasured[name]
            elif not math.isfinite(value):
                rec["excluded"] = True
                rec["exclusion_reason"] = _missing_reason(w, col)
            records.append(rec)
    return ept.from_records(records, study_id=study_id, assay=ASSAY, category=params.category,
                            sex="NA")


#: Endpoints that a protocol with no neuron in view (:func:`no_neuron_in_view`) cannot
#: measure: their rows are excluded and empty.
NO_NEURON_UNMEASURED = ("neurite_length_per_cell", "mean_neurite_length_per_cell",
                        "nuclei_count", "neurite_bearing_cells_pct", "branch_points_per_cell",
                        "neurites_per_cell")


def unmeasured_endpoints(params: NeuriteParameters) -> dict[str, str]:
    """Endpoints a protocol cannot measure, with the reason their rows are excluded.

    With no neuron in view (:func:`no_neuron_in_view`) no neuron is ever
    found: the nuclei count would read 0 and the per-cell endpoints are
    undefined (:data:`NO_NEURON_UNMEASURED`); all neurite is unattached, so
    unattached length repeats total length (value kept, excluded from
    statistics: the two have opposite adverse directions). Without
    ``fragments_are_degeneration`` the fragment count is kept but excluded
    (it measures neurite amount, with the opposite adverse direction).
    """
    out = {}
    if not params.fragments_are_degeneration:
        out["neurite_fragments"] = ("not a degeneration read-out with this protocol "
                                    "(fragments_are_degeneration: false): the pieces are "
                                    "neurites broken where they cross other cells, their "
                                    "count grows with neurite amount")
    if not no_neuron_in_view(params):
        return out
    why = "no neuron in view (non_neuronal: all, no nuclear channel)"
    out.update({name: f"not measured: {why}" for name in NO_NEURON_UNMEASURED})
    out["unattached_neurite_length"] = (f"same values as total_neurite_length: {why}, "
                                        "all neurite is unattached")
    return out


def _missing_reason(well: pd.Series, column: str) -> str:
    """Why a well has no value for an endpoint column (its exclusion reason)."""
    if well.get("fields_counted", well["fields_analysed"]) and \
            column == "mean_fragment_length_um":
        return ("no unattached neurite fragment in the analysed fields: mean fragment length "
                "undefined")
    return well["well_note"] or "no value: not measured in these fields"


def counted_as(table: pd.DataFrame, params: NeuriteParameters) -> pd.DataFrame:
    """A field or well table whose count columns are named after what was counted.

    Without a nuclear channel the cells counted are cell bodies
    (:func:`~neurotox.assays.neurite.params.count_endpoint`): ``nuclei_count``
    and ``nuclei_count_pct`` become ``cell_body_count`` and
    ``cell_body_count_pct``, as the EndpointTable names the endpoint.
    """
    name = count_endpoint(params)
    if name == "nuclei_count":
        return table
    return table.rename(columns={"nuclei_count": name, "nuclei_count_pct": f"{name}_pct"})


def masked_note(fields: pd.DataFrame) -> list[str]:
    """Run notes on pixels left out: NaN/infinite, padding, scale bars (none: no note)."""
    notes = []
    for column, text in (
            ("masked_pixels", "held NaN or infinite pixels ({n} in all): masked as background "
                              "(set to the plane's lowest finite value)"),
            ("padding_pixels", "had padding at their edges, as stitching, registration or "
                               "rotation leave ({n} pixels in all): whole bands cropped off, "
                               "other padding set to the image's lowest value, the rest "
                               "analysed"),
            ("scale_bar_pixels", "held a scale bar burned into a grey channel ({n} pixels in "
                                 "all, bar and label): filled from the pixels around it")):
        if column not in fields.columns or not fields[column].any():
            continue
        hit = fields[fields[column] > 0]
        notes.append(f"{len(hit)} field(s) {text.format(n=int(hit[column].sum()))}; see the "
                     f"fields table, column {column}")
    return notes


def qc_flag_note(fields: pd.DataFrame) -> list[str]:
    """Run notes: fields excluded (blank plane) or counted as empty; fields flagged only."""
    notes = []
    for column, plane, other in (("blank_neurite", "neurite", "nuclear"),
                                 ("blank_nuclei", "nuclear", "neurite")):
        blank = fields[column].fillna("").ne("") if column in fields else pd.Series(False)
        if blank.any():
            where = quoted((f"{r.well}/s{r.field}" for r in fields[blank].itertuples()), limit=6)
            notes.append(f"warning: {int(blank.sum())} field(s) excluded: the {plane} plane is "
                         f"blank beside a {other} plane with signal (acquisition failure, not "
                         f"measured): {where}; see the fields table, column {column}")
    zeros = fields[fields["excluded"] & fields["counted"]] if "counted" in fields else fields[:0]
    if len(zeros):
        where = quoted(sorted({r.well for r in zeros.itertuples()}), limit=6)
        notes.append(f"{len(zeros)} excluded field(s) hold no cells or too few: left out of the "
                     f"per-cell endpoints, counted as measured zeros in their wells' nuclei "
                     f"count and total length (wells {where}); see the wells table, column "
                     "fields_counted")
    kept = fields.loc[~fields["excluded"], "qc_flags"] if len(fields) else pd.Series(dtype=str)
    rules = kept[kept != ""].str.split(";").explode().str.split("=").str[0]
    if rules.empty:
        return notes
    counts = ", ".join(f"{rule} {n}" for rule, n in rules.value_counts().sort_index().items())
    return notes + [f"field(s) flagged by QC rules that do not exclude (analysed as they are): "
                    f"{counts}; see the fields table, column qc_flags"]


def field_count_note(wells: pd.DataFrame) -> list[str]:
    """A note naming the wells with fewer image fields than the plate's other wells.

    A well whose imaging stopped early (a field not acquired, an interrupted
    copy) has fewer fields; its mean rests on fewer, which the record says.
    """
    notes = []
    for (plate, tp), grp in wells.groupby(["plate", "timepoint"], sort=True):
        most = int(grp["fields_total"].max())
        short = grp[grp["fields_total"] < most]
        if len(short) and not short["well"].str.startswith("all-").all():
            where = f"plate {plate}" + ("" if tp == "NA" else f", time point {tp}")
            listed = ", ".join(f"{w} ({n})" for w, n in zip(short["well"], short["fields_total"],
                                                             strict=True))
            notes.append(f"{where}: wells with fewer image fields than the others ({most}): "
                         f"{listed}")
    return notes

