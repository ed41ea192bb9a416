"""The ``cholinesterase`` assay: Ellman kinetic reads to activity and % of concurrent control.

Each well's rate (ΔA/min, least squares over ``window_s``) minus the mean rate
of the plate's blank wells (reagents without sample) gives the enzymatic rate;
replicate wells of a sample are averaged. Activity of the sample as taken
(µmol substrate hydrolysed per min per mL = U/mL)::

    U/mL = ΔA/min / (ε · l) · (V_well / V_sample) · dilution · 1000

with ε the molar absorptivity of TNB (M⁻¹ cm⁻¹) and l the path length (cm).
Tissue homogenates (brain regions) are expressed per g wet tissue
(× homogenate mL / tissue g) or per mg protein; erythrocytes, plasma and whole
blood per mL. The matrix decides the endpoint: ``rbc``/``erythrocytes`` →
``rbc_che_activity``, ``plasma``/``serum`` → ``plasma_che_activity``,
``blood``/``whole_blood`` → ``blood_che_activity``, any other (a brain region) →
``brain_che_activity``. With ``percent_of_control`` each value is also given as
% of the concurrent control mean of the same endpoint, sex and time point.

Inputs: kinetic reads (Gen5 export with its layout, or a kinetic table with a
plate map), or a plain plate table of rates (``type``, ``sample``, ``rate``),
plus an optional sample sheet.

References
----------
Ellman G.L., Courtney K.D., Andres V., Featherstone R.M. (1961) A new and rapid
colorimetric determination of acetylcholinesterase activity. Biochem.
Pharmacol. 7:88-95. Eyer P. et al. (2003) Molar absorption coefficients for
the reduced Ellman reagent. Anal. Biochem. 312:224-227.

"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd

from neurotox.assays.base import AssayPlugin, AssayResult, register
from neurotox.assays.battery.common import Recorder
from neurotox.assays.neurochem.params import CholinesteraseParameters
from neurotox.assays.neurochem.subjects import (
    SampleInfo,
    SampleMap,
    normaliser,
    split_inputs,
    with_time_order,
)
from neurotox.errors import InputError, quoted
from neurotox.io.neurochem import read_export
from neurotox.io.neurochem.base import resolve_dilutions
from neurotox.io.neurochem.kinetic import is_kinetic_table, layout_frame, rates, read_kinetic
from neurotox.io.neurochem.plate_ids import PlateIds
from neurotox.io.neurochem.plate_table import is_plate_map, read_plate_map, unused_map_plates
from neurotox.study import AssaySpec, Study

ASSAY = "cholinesterase"
_MATRIX_ENDPOINT = {"rbc": "rbc", "erythrocytes": "rbc", "erythrocyte": "rbc", "plasma": "plasma",
                    "serum": "plasma", "blood": "blood", "whole_blood": "blood"}


def activity_u_per_ml(rate_per_min: np.ndarray | float, params: CholinesteraseParameters,
                      dilution: np.ndarray | float = 1.0) -> np.ndarray:
    """Activity (U/mL of the sample as taken) from a blank-corrected ΔA/min."""
    molar_per_min = np.asarray(rate_per_min, dtype=float) / (
        params.extinction_coefficient * params.path_length_cm)
    return molar_per_min * (params.well_volume_ul / params.sample_volume_ul) * dilution * 1000.0


def endpoint_for(matrix: str, normalisation: str) -> str:
    """Registry endpoint of an activity measured in ``matrix``."""
    kind = _MATRIX_ENDPOINT.get(matrix)
    if kind is not None:
        return f"{kind}_che_activity"
    if normalisation == "protein":
        return "brain_che_activity_per_protein"
    return "brain_che_activity"


def _classify(paths: list[Path]) -> tuple[list[Path], list[Path], list[Path], Path | None]:
    """(kinetic files, rate tables, plate maps, sample sheet)."""
    rest, sheet = split_inputs(paths)
    kinetic = [p for p in rest if is_kinetic_table(p)]
    other = [p for p in rest if p not in kinetic]
    maps = [p for p in other if is_plate_map(p)]
    return kinetic, [p for p in other if p not in maps], maps, sheet


def well_rates(kinetic: list[Path], tables: list[Path], maps: list[Path],
               params: CholinesteraseParameters, notes: list[str]) -> pd.DataFrame:
    """Per well: plate, well, type, sample, dilution, rate_per_min, r2, source."""
    frames = []
    plate_map = pd.concat([read_plate_map(p) for p in maps], ignore_index=True) if maps \
        else None
    plates: set[str] = set()
    ids = PlateIds([*kinetic, *tables])
    for path in kinetic:
        k = read_kinetic(path)
        notes += k.notes + _lost_reads(k.reads, path)
        r = rates(k.reads, params.window_s)
        plates.update(r["plate"])
        rename = _claim(ids, r["plate"], path, plate_map)
        r["plate"] = r["plate"].map(rename)
        if k.layout:
            layout = layout_frame(k.layout)
            layout["plate"] = layout["plate"].map(rename)
        else:
            layout = _from_map(plate_map, r, path)
        layout = layout.assign(source=ids.label(path))
        layout["dilution"], more = resolve_dilutions(layout, path)
        notes += more + _unmapped(r, layout, path)
        merged = r.merge(layout, on=["plate", "well"], how="inner")
        frames.append(merged.assign(source=ids.label(path)))
    for path in tables:
        e = read_export(path, format="plate-table")
        notes += e.notes
        w = e.wells.drop_duplicates(["plate", "well"])
        plates.update(w["plate"])
        w = w.assign(plate=w["plate"].map(_claim(ids, w["plate"], path, plate_map)))
        frames.append(w.rename(columns={"signal": "rate_per_min"})
                      .assign(r2=np.nan, n=np.nan, source=ids.label(path))
                      [["plate", "well", "rate_per_min", "r2", "n", "type", "sample",
                        "dilution", "source"]])
    notes += unused_map_plates(plate_map, plates)
    if not frames:
        raise InputError("expected kinetic reads (Gen5 export or a table with a time column) "
                         "or a plate table of rates among the inputs")
    return pd.concat(frames, ignore_index=True)


def _claim(ids: PlateIds, plates: pd.Series, path: Path,
           plate_map: pd.DataFrame | None) -> dict[str, str]:
    """Original → run-wide plate ID of the file's plates (see :class:`PlateIds`)."""
    rename = {p: ids.claim(p, path) for p in dict.fromkeys(plates)}
    for p in rename:
        ids.check_map(p, plate_map)
    return rename


def _lost_reads(reads: pd.DataFrame, path: Path) -> list[str]:
    """A note per well with reads that are not numbers (NaN, ``***``): left out of its rate."""
    bad = reads[~np.isfinite(reads["value"])]
    return [f"{path.name}, plate {plate}, well {well}: {len(part)} of "
            f"{int(((reads['plate'] == plate) & (reads['well'] == well)).sum())} read(s) not a "
            f"number (NaN, ***) at {', '.join(f'{t:g}' for t in part['time_s'])} s; left out "
            "of the well's rate" for (plate, well), part in bad.groupby(["plate", "well"])]


def _unmapped(r: pd.DataFrame, layout: pd.DataFrame, path: Path) -> list[str]:
    """A note per plate listing read wells that the layout or plate map does not describe."""
    known = set(zip(layout["plate"], layout["well"], strict=True))
    out = []
    for plate, part in r.groupby("plate", sort=False):
        missing = [w for w in part["well"] if (plate, w) not in known]
        if missing:
            out.append(f"{path.name}, plate {plate}: {len(missing)} read well(s) not in the "
                       f"layout or plate map, left out: {quoted(missing, limit=12)}")
    return out


def _from_map(plate_map: pd.DataFrame | None, r: pd.DataFrame, path: Path) -> pd.DataFrame:
    if plate_map is None:
        raise InputError("kinetic table without a layout: give a plate map (well, type, sample,"
                         " dilution) among the inputs", path=path)
    plates = r["plate"].unique()
    generic = plate_map[plate_map["plate"] == ""]
    own = plate_map[plate_map["plate"].isin(plates)]
    layout = own if len(own) else pd.concat([generic.assign(plate=p) for p in plates])
    if layout.empty:
        raise InputError(f"the plate map describes no well of plate(s) {quoted(plates)}",
                         path=path)
    return layout[["plate", "well", "type", "sample", "dilution"]]


def sample_activity(wells: pd.DataFrame, params: CholinesteraseParameters,
                    notes: list[str]) -> pd.DataFrame:
    """Blank-corrected rates averaged per sample, activity in U/mL of the sample as taken."""
    out = []
    for plate, part in wells.groupby("plate", sort=False):
        blank = part.loc[part["type"] == "blank", "rate_per_min"].dropna()
        if blank.empty:
            notes.append(f"plate {plate}: no blank wells; rates not blank-corrected")
        b = float(blank.mean()) if len(blank) else 0.0
        smp = part[part["type"] == "sample"]
        smp = smp.assign(corrected=smp["rate_per_min"] - b)
        low_r2 = smp[smp["r2"] < params.min_r2]
        for r in low_r2.itertuples(index=False):
            notes.append(f"plate {plate}, well {r.well} (sample {r.sample}): rate R² "
                         f"{r.r2:.3f} < {params.min_r2:g} (non-linear kinetics)")
        g = smp.groupby(["sample", "dilution"], sort=False)
        agg = g.agg(wells=("well", ",".join), n=("corrected", "count"),
                    rate=("corrected", "mean"), sd=("corrected", "std"),
                    min_r2=("r2", "min"), source=("source", "first")).reset_index()
        out.append(agg.assign(plate=plate, blank_rate=b))
    df = pd.concat(out, ignore_index=True) if out else pd.DataFrame()
    if df.empty:
        raise InputError("no sample wells in the plate layout(s)")
    with np.errstate(all="ignore"):
        df["cv"] = np.where((df["n"] > 1) & (df["rate"] != 0),
                            100 * df["sd"] / df["rate"].abs(), np.nan)
    df["activity_u_per_ml"] = activity_u_per_ml(df["rate"], params, df["dilution"])
    return df


def _record(r: dict, info: SampleInfo, params: CholinesteraseParameters) -> dict:
    fluid = info.matrix in _MATRIX_ENDPOINT
    norm = "none" if fluid else params.normalisation
    if not info.matrix:
        raise InputError(f"sample {r['sample']!r} has no matrix (rbc, plasma, blood or a brain "
                         "region); give it in the sample sheet or 'samples.matrix'")
    if not fluid and norm == "none":
        raise InputError(f"matrix {info.matrix!r} is a tissue: set 'normalisation' to 'tissue' "
                         "or 'protein'")
    scale, why = normaliser(info, norm)
    reason = why
    if not math.isfinite(r["activity_u_per_ml"]):
        reason = reason or "no rate (every replicate missing)"
    return {"subject": info.subject, "endpoint": endpoint_for(info.matrix, norm),
            "value": r["activity_u_per_ml"] * scale if not reason else math.nan,
            "timepoint": info.label, "reason": reason, "censoring": "none", "sample": r["sample"],
            "matrix": info.matrix, "time_part": info.timepoint,
            "where": f"{r['source']} plate {r['plate']} sample {r['sample']} wells {r['wells']}"}


def percent_of_control(table: pd.DataFrame, study: Study) -> pd.DataFrame:
    """Rows of % of the concurrent control mean (same endpoint, sex, time point)."""
    controls = {g.id for g in study.spec.groups if g.control}
    rows = []
    for (ep, _, tp), part in table.groupby(["endpoint", "sex", "timepoint"], sort=False):
        ctl = part[part["group"].isin(controls) & ~part["excluded"]]["value"]
        mean = float(ctl.mean()) if len(ctl) else math.nan
        for r in part.itertuples(index=False):
            ok = math.isfinite(mean) and mean > 0 and not r.excluded
            rows.append({"subject": r.subject, "endpoint": ep.replace("_activity",
                                                                        "_percent_control"),
                         "value": 100 * r.value / mean if ok else math.nan, "timepoint": tp,
                         "censoring": "none", "where": f"{r.source}; control mean {mean:.4g}",
                         "reason": "" if ok else (r.exclusion_reason or
                                                  "no concurrent control values")})
    return pd.DataFrame(rows)


def analyse(study: Study, files: list[Path], params: CholinesteraseParameters) -> AssayResult:
    """Kinetic reads (or rates) + layout + sample sheet → activity endpoints."""
    kinetic, tables, maps, sheet = _classify(list(files))
    notes: list[str] = [f"ε = {params.extinction_coefficient:g} M⁻¹cm⁻¹, path length "
                        f"{params.path_length_cm:g} cm, {params.sample_volume_ul:g} µL sample in "
                        f"{params.well_volume_ul:g} µL"]
    wells = well_rates(kinetic, tables, maps, params, notes)
    samples = sample_activity(wells, params, notes)
    smap = SampleMap(study, sheet, params)
    records, detail = [], []
    for r in samples.to_dict("records"):
        info = smap.lookup(r["plate"], r["sample"])
        if info is not None:
            records.append(_record(r, info, params))
        detail.append({**r, "subject": info.subject if info else "",
                       "matrix": info.matrix if info else ""})
    high = samples[samples["cv"] > params.cv_limit]
    notes += [f"plate {r.plate}, sample {r.sample}: replicate CV {r.cv:.0f}% > "
              f"{params.cv_limit:g}%" for r in high.itertuples(index=False)]
    zero = samples[(samples["n"] > 1) & (samples["rate"] == 0) & (samples["sd"] > 0)]
    notes += [f"plate {r.plate}, sample {r.sample}: replicate CV undefined (mean rate 0, SD "
              f"{r.sd:.3g})" for r in zero.itertuples(index=False)]
    notes += smap.notes()
    if not records:
        raise InputError("no sample maps to a study subject; give a sample sheet (sample, "
                         "subject, matrix …) or parameter 'samples.pattern'"
                         + smap.unmapped_text())
    frame = pd.DataFrame(records)
    _one_sample_each(frame, sheet)
    subjects = study.subjects.set_index("subject", drop=False)
    rec = Recorder(study, subjects, ASSAY, "")
    rec.add_frame(frame[["subject", "endpoint", "value", "timepoint", "where", "reason",
                         "censoring"]])
    table = rec.table()
    if params.percent_of_control:
        pct = percent_of_control(table, study)
        rec.add_frame(pct[["subject", "endpoint", "value", "timepoint", "where", "reason",
                           "censoring"]])
        table = rec.table()
    table = with_time_order(table, frame)
    details = {"cholinesterase_wells": wells, "cholinesterase_samples": pd.DataFrame(detail)}
    return AssayResult(endpoints=table, details=details, notes=notes,
                       inputs=[*kinetic, *tables, *maps, *([sheet] if sheet else [])])


def _one_sample_each(records: pd.DataFrame, sheet: Path | None) -> None:
    """InputError when samples map to one subject, matrix and time point.

    A re-assay or a typo in the sample sheet: which one to report is the
    user's call, not ours.
    """
    key = ["subject", "endpoint", "timepoint"]
    repeated = records[records.duplicated(key, keep=False)]
    if repeated.empty:
        return
    first = repeated[repeated[key].apply(tuple, axis=1) == tuple(repeated[key].iloc[0])]
    subject, endpoint, tp = first[key].iloc[0]
    raise InputError(f"samples {quoted(first['sample'])} all map to subject {subject!r} "
                     f"({endpoint}, time point {tp!r}); give each subject one sample per "
                     "matrix and time point (a re-assayed sample: keep one in the sample sheet)",
                     path=sheet)


def run(study: Study, spec: AssaySpec, params: CholinesteraseParameters) -> AssayResult:
    """Study runner."""
    return analyse(study, study.assay_inputs(spec), params)


register(AssayPlugin(ASSAY, CholinesteraseParameters, run,
                     "Cholinesterase activity (Ellman) from kinetic plate reads: brain per g "
                     "tissue or mg protein, RBC/plasma/blood per mL, % of concurrent control."))
