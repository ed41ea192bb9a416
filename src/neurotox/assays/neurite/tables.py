"""Neurite tables: fields, cells and wells from the field outputs, field QC, EndpointTable rows."""

from __future__ import annotations

import math

import pandas as pd

from neurotox import endpoints as ept
from neurotox.assays.neurite.fields import FieldOutput
from neurotox.assays.neurite.params import ASSAY, WELL_ENDPOINTS, NeuriteParameters


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
