"""The ``neurochem`` assay: multiplex-bead and ELISA exports to censored concentrations.

For every export (xPONENT, Bio-Plex Manager, Gen5, plain plate table) and every
analyte × plate: standard curve (refit or the vendor's), back-fit recovery,
LLOQ/ULOQ, LOD, hook effect, controls and plate acceptance
(:mod:`~neurotox.assays.neurochem.quantify`, :mod:`~neurotox.assays.neurochem.qc`);
then one value per subject × analyte × matrix/time point, in the registry's unit,
normalised per mg protein or per g tissue for homogenates, censored at
LLOQ × dilution (``left``) or ULOQ × dilution (``right``).

Detail tables: ``neurochem_curves`` (one row per plate × analyte, with the
acceptance verdict), ``neurochem_standards``, ``neurochem_controls``,
``neurochem_samples`` (per sample and dilution) and ``neurochem_wells`` (every
well with its back-calculated concentration next to the vendor's).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from neurotox.assays.base import AssayPlugin, AssayResult, register
from neurotox.assays.battery.common import Recorder
from neurotox.assays.neurochem import qc
from neurotox.assays.neurochem.analytes import (
    Analyte,
    check_named,
    endpoint_name,
    export_analytes,
)
from neurotox.assays.neurochem.concentrations import (
    choose_dilution,
    pool_same_dilution,
    replicate_cv_note,
    sample_values,
    series_warnings,
    well_values,
)
from neurotox.assays.neurochem.conventions import immunoassay_conventions
from neurotox.assays.neurochem.params import ImmunoassayParameters
from neurotox.assays.neurochem.quantify import MIN_LOD_BLANKS, Calibration, calibrate
from neurotox.assays.neurochem.subjects import (
    SampleMap,
    is_fluid,
    normaliser,
    split_inputs,
    with_time_order,
)
from neurotox.errors import InputError, quoted
from neurotox.files import keyed_note
from neurotox.io.neurochem import PlateExport, read_export
from neurotox.io.neurochem.base import name_dilution
from neurotox.io.neurochem.plate_ids import PlateIds
from neurotox.io.neurochem.plate_table import (
    apply_plate_map,
    is_plate_map,
    read_plate_map,
    unused_map_plates,
)
from neurotox.study import AssaySpec, Study

ASSAY = "neurochem"

#: Concentration units → factor to pg/mL (the registry's unit for body fluids).
UNITS = {"pg/ml": 1.0, "ng/l": 1.0, "fg/ml": 1e-3, "pg/l": 1e-3, "ng/ml": 1e3, "ug/l": 1e3,
         "µg/l": 1e3, "ug/ml": 1e6, "µg/ml": 1e6, "mg/l": 1e6,
         "pg/dl": 1e-2, "ng/dl": 10.0, "ug/dl": 1e4, "µg/dl": 1e4, "mg/dl": 1e7}


def unit_factor(unit: str | None, *, analyte: str, path: Path) -> float:
    """Factor from an export's concentration unit to pg/mL (1 when no unit is given)."""
    if not unit:
        return 1.0
    key = unit.strip().lower().replace("μ", "µ")
    if key not in UNITS:
        why = (" (a molar or activity unit cannot be converted to a mass concentration "
               "without the analyte's molar mass or specific activity: convert the table)"
               if "mol" in key or "iu" in key or key.startswith("u/") else "")
        raise InputError(f"analyte {analyte!r}: unknown concentration unit {unit!r}; expected "
                         f"one of {quoted(UNITS)}{why}", path=path)
    return UNITS[key]


@dataclass
class Collector:
    """Everything one run gathers over its exports."""

    curves: list[dict] = field(default_factory=list)
    standards: list[pd.DataFrame] = field(default_factory=list)
    controls: list[pd.DataFrame] = field(default_factory=list)
    samples: list[pd.DataFrame] = field(default_factory=list)
    wells: list[pd.DataFrame] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    ids: PlateIds = field(default_factory=lambda: PlateIds([]))
    plate_map: pd.DataFrame | None = None

    def details(self) -> dict[str, pd.DataFrame]:
        """The detail tables (only those with rows)."""
        out = {"neurochem_curves": pd.DataFrame(self.curves),
               "neurochem_standards": _cat(self.standards),
               "neurochem_controls": _cat(self.controls),
               "neurochem_samples": _cat(self.samples),
               "neurochem_wells": _cat(self.wells)}
        return {k: v for k, v in out.items() if len(v)}


def _cat(frames: list[pd.DataFrame]) -> pd.DataFrame:
    frames = [f for f in frames if len(f)]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def analyse(study: Study, files: list[Path], params: ImmunoassayParameters) -> AssayResult:
    """Quantify every analyte of every export and build the EndpointTable.

    Parameters
    ----------
    study
        The study (subjects, groups).
    files
        Plate exports plus, optionally, one sample sheet (detected by its columns).
    params
        Effective protocol parameters.

    """
    rest, sheet = split_inputs(list(files))
    maps = [p for p in rest if is_plate_map(p)]
    exports = [p for p in rest if p not in maps]
    if not exports:
        raise InputError("expected at least one plate export among the inputs, found only "
                         f"{quoted(p.name for p in [*maps, *([sheet] if sheet else [])])}")
    plate_map = pd.concat([read_plate_map(p) for p in maps], ignore_index=True) if maps \
        else None
    smap = SampleMap(study, sheet, params)
    col = Collector(ids=PlateIds(exports), plate_map=plate_map)
    rows: list[dict] = []
    names: set[str] = set()
    plates: set[str] = set()
    for path in exports:
        export = read_export(path, format=params.format, analyte=params.analyte,
                             signal=params.signal)
        plates.update(export.wells["plate"])
        if plate_map is not None:
            export = apply_plate_map(export, plate_map)
        elif export.meta.get("needs_map"):
            raise InputError("the export has no layout (or no expected concentrations of its "
                             "standards): give a plate map (well, type, sample, expected, "
                             "dilution) among the inputs", path=path)
        col.notes += export.notes
        names.update(export.analytes)
        rows += _export_rows(export, smap, params, col)
    col.notes += unused_map_plates(plate_map, plates)
    check_named(params.ignore_analytes, names, "ignore_analytes")
    check_named(params.analytes, names, "analytes")
    if names and names <= set(params.ignore_analytes):
        raise InputError(f"every analyte of the exports ({quoted(names, limit=12)}) is left out "
                         "by the parameter 'ignore_analytes': nothing to analyse; ignore "
                         "fewer", where="parameter 'ignore_analytes'")
    col.notes += smap.notes()
    table = _endpoint_table(study, rows, params, col)
    if table.empty:
        raise InputError("no sample of the exports maps to a study subject; give a sample "
                         "sheet (sample, subject, matrix …) or parameter 'samples.pattern'"
                         + smap.unmapped_text(), path=exports[0])
    col.notes += _analyte_gaps(table)
    conventions = immunoassay_conventions(params)
    return AssayResult(endpoints=table, details=col.details(),
                       notes=col.notes + [f"convention: {c}" for c in conventions],
                       inputs=[*exports, *maps, *([sheet] if sheet else [])],
                       conventions=conventions)


def _analytes_of(export: PlateExport, params: ImmunoassayParameters) -> dict[str, Analyte]:
    if "" in export.analytes:
        raise InputError("the export names no analyte (a single-analyte plate); set the "
                         "parameter 'analyte' (e.g. gfap)", path=export.path)
    return export_analytes(export.analytes, mapping=params.analytes,
                           ignore=params.ignore_analytes,
                           where=None if export.path is None else f"{export.path}")


def _unit_overridden(export: PlateExport, params: ImmunoassayParameters) -> list[str]:
    """A warning when parameter 'unit' differs from units the export states (the export wins)."""
    if not params.unit:
        return []
    given = unit_factor(params.unit, analyte="parameter 'unit'", path=export.path)
    stated = {n: u for n, u in export.units.items() if u and n not in params.ignore_analytes
              and unit_factor(u, analyte=n, path=export.path) != given}
    if not stated:
        return []
    return [f"warning: {export.path.name}: parameter 'unit' {params.unit!r} ignored for "
            f"analyte(s) {quoted(stated, limit=6)}: the export states their unit "
            f"({quoted(stated.values())}), and the export's unit wins"]


def _export_rows(export: PlateExport, smap: SampleMap, params: ImmunoassayParameters,
                 col: Collector) -> list[dict]:
    rows = []
    first = len(col.controls)
    resolved = _analytes_of(export, params)
    col.notes += _unit_overridden(export, params)
    for name in export.analytes:
        if name not in resolved:
            col.notes.append(f"{export.path.name}: analyte {name!r} ignored (ignore_analytes)")
            continue
        analyte = resolved[name]
        unit = export.units.get(name) or params.unit
        factor = unit_factor(unit, analyte=name, path=export.path)
        if not unit:
            col.notes.append(f"{export.path.name}, {name}: the export names no concentration "
                             "unit; pg/mL assumed (set parameter 'unit')")
        wells = export.wells[export.wells["analyte"] == name]
        for plate, part in wells.groupby("plate", sort=False):
            new = col.ids.claim(str(plate), export.path, name)
            col.ids.check_map(str(plate), col.plate_map)
            plate = new
            part = _sheet_dilutions(part.assign(plate=plate), smap)
            rows += _plate_rows(part, export, analyte, factor, smap, params, col)
    col.notes += qc.unjudged_note(col.controls[first:], export.path.name)
    return rows


def _sheet_dilutions(wells: pd.DataFrame, smap: SampleMap) -> pd.DataFrame:
    """Dilutions from the sample sheet win over the export's."""
    if smap.table is None:
        return wells
    smp = wells["type"] == "sample"
    plate = str(wells["plate"].iloc[0])
    override = {s: info.dilution for s in wells.loc[smp, "sample"].unique()
                if (info := smap.lookup(plate, s)) is not None and math.isfinite(info.dilution)}
    if not override:
        return wells
    new = wells["sample"].map(override)
    return wells.assign(dilution=wells["dilution"].where(~smp | new.isna(), new))


def _plate_rows(wells: pd.DataFrame, export: PlateExport, analyte: Analyte, factor: float,
                smap: SampleMap, params: ImmunoassayParameters, col: Collector) -> list[dict]:
    name = str(wells["analyte"].iloc[0])
    cal = calibrate(wells, params, names={name, analyte.key},
                    vendor=export.curves.get(name))
    controls = qc.control_results(wells, cal, export.controls, params)
    reasons = qc.acceptance(cal, controls, params)
    samples = sample_values(wells, cal, params)
    if reasons and params.reject_failed_plates:
        reject = f"plate {cal.plate} rejected for {name}: " + "; ".join(reasons)
        samples.loc[samples["reason"] == "", "reason"] = reject
    col.notes += (cal.notes + series_warnings(samples, params.cv_limit)
                  + replicate_cv_note(samples, params))
    if reasons:
        col.notes.append(f"plate {cal.plate}, {name}: fails acceptance — " + "; ".join(reasons))
    col.curves.append(_curve_row(cal, export, analyte, reasons, controls, params,
                                 label=col.ids.label(export.path)))
    col.standards.append(cal.standards.assign(analyte_key=analyte.key))
    col.controls.append(controls.assign(analyte_key=analyte.key))
    col.wells.append(well_values(wells, cal.curve).assign(analyte_key=analyte.key))
    out, detail = [], []
    for r in samples.to_dict("records"):
        info = smap.lookup(cal.plate, r["sample"])
        if info is not None:
            out.append(_record(r, info, analyte, factor, export.path, params,
                               label=col.ids.label(export.path)))
        detail.append({**r, "subject": info.subject if info else "",
                       "timepoint": info.label if info else "", "analyte_key": analyte.key})
    col.samples.append(pd.DataFrame(detail))
    return out


def _curve_row(cal: Calibration, export: PlateExport, analyte: Analyte, reasons: list[str],
               controls: pd.DataFrame, params: ImmunoassayParameters, *,
               label: str) -> dict:
    vendor = export.curves.get(cal.analyte)
    fit = cal.fit
    p = list(cal.curve.params) + [math.nan] * (5 - len(cal.curve.params))
    return {
        "plate": cal.plate, "analyte": cal.analyte, "analyte_key": analyte.key,
        "file": label, "format": export.format, "source": cal.source,
        "model": cal.curve.model.value, "weighting": fit.weighting.value if fit else "vendor",
        "a": p[0], "b": p[1], "c": p[2], "d": p[3], "f": p[4],
        "equation": cal.curve.describe(),
        "r2": fit.r2 if fit else (vendor.r2 if vendor else math.nan),
        "weighted_ss": fit.ss if fit else math.nan,
        "standards_used": fit.n_used if fit else int(cal.standards["used"].sum()),
        "lloq": cal.lloq, "uloq": cal.uloq, "lod": cal.lod, "lod_signal": cal.lod_signal,
        "lod_blanks": cal.lod_blanks, "reporting_limit": cal.reporting_limit,
        "lod_above_lloq": bool(cal.lod > cal.lloq),
        "lod_few_blanks": bool(math.isfinite(cal.lod) and cal.lod_blanks < MIN_LOD_BLANKS),
        "standards_passing": cal.passing[0], "standards_in_range": cal.passing[1],
        "controls_passing": int(controls["passes"].sum()) if len(controls) else 0,
        "controls": int(controls["passes"].notna().sum()) if len(controls) else 0,
        "controls_not_judged": int(controls["passes"].isna().sum()) if len(controls) else 0,
        "hook": cal.hook, "accepted": not reasons,
        "reasons": "; ".join(reasons),
        "vendor_curve": vendor.text if vendor else "",
        "vendor_r2": vendor.r2 if vendor else math.nan,
        "unit": export.units.get(cal.analyte) or params.unit or "pg/mL"}


def _record(r: dict, info, analyte: Analyte, factor: float, path: Path,
            params: ImmunoassayParameters, *, label: str) -> dict:
    fluid = is_fluid(info.matrix, params) or not info.matrix
    norm = "none" if fluid else params.normalisation
    if not fluid and norm == "none":
        raise InputError(f"sample {r['sample']!r} is a tissue homogenate (matrix "
                         f"{info.matrix!r}); set parameter 'normalisation' to 'protein' or "
                         "'tissue', or list the matrix in 'fluid_matrices'", path=path)
    scale, why = normaliser(info, norm)
    reason = r["reason"] or why
    value = r["value"] * factor * scale if not reason else math.nan
    return {"subject": info.subject, "sample": r["sample"],
            "endpoint": endpoint_name(analyte, norm),
            "value": value, "timepoint": info.label, "reason": reason,
            "matrix": info.matrix, "time_part": info.timepoint,
            "censoring": r["censoring"] if not reason else "none",
            "dilution": r["dilution"], "plate": r["plate"], "flags": r["flags"],
            "where": f"{label} plate {r['plate']} sample {r['sample']} wells {r['wells']}"
                     f" (1:{r['dilution']:g})"}


def smap_path(part: pd.DataFrame) -> str:
    """The export named in a duplicate-sample error."""
    return str(part["where"].iloc[0]).split(" plate ")[0]


def _endpoint_table(study: Study, rows: list[dict], params: ImmunoassayParameters,
                    col: Collector) -> pd.DataFrame:
    if not rows:
        return pd.DataFrame()
    df = pd.DataFrame(rows)
    key = ["endpoint", "subject", "timepoint"]
    repeated = df.duplicated(key, keep=False)
    chosen = [df[~repeated]]
    for (_, subject, tp), part in df[repeated].groupby(key, sort=False):
        if part["sample"].map(lambda s: (name_dilution(s) or (s,))[0]).nunique() > 1:
            raise InputError(f"samples {quoted(part['sample'])} all map to subject {subject!r}, "
                             f"time point {tp!r}; give them their matrix or time point (sample "
                             "sheet, or samples.pattern groups 'matrix'/'timepoint')",
                             path=smap_path(part))
        pooled, notes = pool_same_dilution(part.assign(reason=part["reason"].fillna("")),
                                           params.cv_limit)
        pick, hook = choose_dilution(pooled, params.hook_dilution_ratio)
        what = f"subject {subject}, {pick['endpoint']} ({tp})"
        col.notes += [keyed_note(what, n) for n in notes + [hook] if n]
        if len(pooled) > 1 and not hook:
            col.notes.append(f"{what}: measured {len(part)} times; reported {pick['where']}")
        chosen.append(pick.to_frame().T)
    out = pd.concat(chosen, ignore_index=True)
    subjects = study.subjects.set_index("subject", drop=False)
    rec = Recorder(study, subjects, ASSAY, "")
    rec.add_frame(out[["subject", "endpoint", "value", "timepoint", "where", "reason",
                       "censoring"]].reset_index(drop=True))
    return with_time_order(rec.table(), df)


def _analyte_gaps(table: pd.DataFrame) -> list[str]:
    """A warning per endpoint and time point that some measured subjects lack.

    An animal with values for other analytes at the same time point but none for
    this one lost it somewhere (a cut sheet, a sample row without an ID): named, as
    the subjects with no value at all are.
    """
    out = []
    for tp, part in table.groupby("timepoint", sort=True):
        seen = set(part["subject"])
        for endpoint, rows in part.groupby("endpoint", sort=True):
            lacking = sorted(seen - set(rows["subject"]))
            if lacking:
                out.append(f"warning: {endpoint} ({tp}): {len(lacking)} subject(s) with other "
                           f"analytes at {tp} have no {endpoint} value: "
                           f"{quoted(lacking, limit=6)}")
    return out


def run(study: Study, spec: AssaySpec, params: ImmunoassayParameters) -> AssayResult:
    """Study runner: the entry's inputs are plate exports and an optional sample sheet."""
    return analyse(study, study.assay_inputs(spec), params)


register(AssayPlugin(ASSAY, ImmunoassayParameters, run,
                     "Multiplex bead (xPONENT, Bio-Plex) and ELISA (Gen5, plain plate table) "
                     "exports: 4PL/5PL curves, LLOQ/ULOQ, assay QC, censored concentrations."))
