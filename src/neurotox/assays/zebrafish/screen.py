"""Whole zebrafish screens in one run: many chemicals, each against its own vehicle.

:func:`analyse_screen` reads the design from the inputs themselves (EPA ``lmr0``
tables, EPA light/dark tables, Tanguay morphology tables: chemical, concentration,
plate, well, vehicle, experimental group), computes per-larva locomotion endpoints
(as :mod:`~neurotox.assays.zebrafish.lpr`) and per-larva morphology incidence
endpoints (:mod:`~neurotox.assays.zebrafish.morphology`), applies the larva-level
exclusions and the EPA group rules (:mod:`~neurotox.assays.zebrafish.screen_design`),
and runs each chemical's statistics and BMDs
(:mod:`~neurotox.assays.zebrafish.screen_stats`) in parallel over chemicals with
the shared scheduler (:func:`neurotox.parallel.run_tasks`). The plug-in
``zebrafish_screen`` runs it from a study file.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from neurotox import endpoints
from neurotox.assays.base import AssayPlugin, AssayResult, register, said
from neurotox.assays.zebrafish.conventions import screen_conventions
from neurotox.assays.zebrafish.exclusions import (
    _join,
    file_removals,
    plate_map_calls,
    tracking_reasons,
)
from neurotox.assays.zebrafish.inputs import bins_of, file_wells
from neurotox.assays.zebrafish.larvae import larva_matrix
from neurotox.assays.zebrafish.morphology import behaviour_calls, morphology_rows
from neurotox.assays.zebrafish.params import ASSAY
from neurotox.assays.zebrafish.screen_design import (
    group_rules,
    screen_design,
    select_chemicals,
)
from neurotox.assays.zebrafish.screen_params import SCREEN_ASSAY, ScreenParameters
from neurotox.assays.zebrafish.screen_stats import ChemicalTask, chemical_statistics
from neurotox.errors import FormatError, InputError
from neurotox.io.zebrafish import Export, read_export
from neurotox.io.zebrafish.morphology import MorphologyTable, merge_shared_wells, read_morphology
from neurotox.study import AssaySpec, Study

LARVA_COLUMNS = ["subject", "plate", "well", "chemical", "chemicals", "concentration",
                 "vehicle", "experimental_group", "group", "larva_reason", "group_reason",
                 "exclusion_reason", "excluded"]


def load_inputs(paths: list[Path], params: ScreenParameters
                ) -> tuple[list[Export], list[MorphologyTable]]:
    """Read every file: a tracking export when a reader matches, else a morphology table."""
    exports, tables = [], []
    for p in paths:
        try:
            exports.append(read_export(p, format=params.format))
        except FormatError as exc:
            if "unknown zebrafish export layout" not in str(exc):
                raise
            try:
                tables.append(read_morphology(p))
            except FormatError as mexc:
                if _layout_error(mexc):   # not a morphology table either
                    raise FormatError(f"{exc.detail}; nor is it a morphology table "
                                      f"({mexc.detail})", path=p) from None
                raise
    return exports, tables


def _layout_error(exc: FormatError) -> bool:
    return exc.detail.startswith(("expected morphology", "expected columns 'plate_id'",
                                  "expected columns 'chemical.id'", "cannot parse",
                                  "expected data rows"))


def _one_morphology(tables: list[MorphologyTable]) -> MorphologyTable | None:
    if not tables:
        return None
    if len(tables) == 1:
        return tables[0]
    calls = list(dict.fromkeys(c for t in tables for c in t.call_columns))
    frame = pd.concat([t.calls.assign(source_row=t.calls["source_row"] + 10**9 * k)
                       for k, t in enumerate(tables)], ignore_index=True)
    merged, notes = merge_shared_wells(frame.drop(columns="chemicals"),
                                       ["concentration", *calls], tables[0].path)
    merged["source_row"] = merged["source_row"] % 10**9
    return MorphologyTable(merged, calls, tables[0].path,
                           [n for t in tables for n in t.notes] + notes)


def _wells_info(exports: list[Export], morph: MorphologyTable | None) -> pd.DataFrame:
    info = file_wells(exports)
    if morph is not None:
        m = morph.calls[["plate", "well", "chemical", "chemicals", "concentration"]]
        info = m if info is None else info.merge(
            m[["plate", "well", "chemicals"]], how="left", on=["plate", "well"])
    files = ", ".join(str(p) for p in [*(e.path for e in exports),
                                       *([morph.path] if morph is not None else [])])
    if info is None or "chemical" not in info.columns or not info["chemical"].fillna("") \
            .astype(str).str.strip().ne("").any():
        raise InputError("a screen needs a chemical per well; the inputs carry none (give an "
                         "lmr0/EPA table or a morphology table with a chemical column)",
                         path=files)
    return info


def analyse_screen(exports: list[Export], params: ScreenParameters, *,
                   morphology: list[MorphologyTable] | None = None, study_id: str = "NA",
                   workers: int | None = 1, scheduler=None) -> AssayResult:
    """Endpoints, exclusions, per-chemical statistics and BMDs of a whole screen.

    Parameters
    ----------
    exports
        Locomotion exports that carry the design per well (lmr0, EPA light/dark,
        Tanguay tables); may be empty for a morphology-only screen.
    params
        Effective screen parameters.
    morphology
        Morphology tables (calls per well; shared vehicle wells merged).
    study_id
        Study number for the EndpointTable.
    workers, scheduler
        Parallelism over chemicals (:func:`neurotox.parallel.run_tasks`).

    Returns
    -------
    AssayResult
        EndpointTable (locomotion rows under assay ``zebrafish_lpr``, morphology rows
        under ``zebrafish_morphology``) and the tables ``larvae``, ``group_rules``,
        ``exclusions_by_rule``, ``incidence``, ``morphology_bmd``,
        ``activity_statistics``, ``activity_bmd``.

    """
    notes = [n for e in exports for n in e.notes]
    morph = _one_morphology(list(morphology or []))
    if morph is not None:
        notes += morph.notes
    if not exports and morph is None:
        raise InputError("a screen needs locomotion exports and/or morphology tables")
    chosen = params.chemicals + ((params.chemical,) if params.chemical else ())
    design = select_chemicals(screen_design(_wells_info(exports, morph), params, notes), chosen)
    parts, details = [], {}
    if exports:
        rows, larvae, rules = _activity(exports, design, morph, params, notes)
        parts.append(rows)
    else:
        larvae, rules = _morphology_larvae(design, morph, params)
    if morph is not None:
        parts.append(morphology_rows(morph, design, params, notes))
    ept = endpoints.from_records(pd.concat(parts, ignore_index=True).to_dict("records"),
                                 study_id=study_id)
    details["larvae"] = larvae
    details["group_rules"] = rules
    details["exclusions_by_rule"] = exclusions_by_rule(larvae)
    details.update(_per_chemical(ept, design, params, notes, workers, scheduler))
    n_ex = int(larvae["excluded"].sum())
    notes.append(f"{len(larvae)} larvae of {design.loc[~design['vehicle'], 'chemical'].nunique()}"
                 f" chemical(s) analysed, {n_ex} excluded from locomotion")
    inputs = [e.path for e in exports] + ([Path(morph.path)] if morph is not None else [])
    return said(AssayResult(endpoints=ept, details=details, notes=notes, inputs=inputs),
                screen_conventions(params, locomotion=bool(exports),
                                   morphology=morph is not None))


def _activity(exports, design, morph, params, notes):
    from neurotox.assays.zebrafish.lpr import endpoint_rows

    m = larva_matrix(bins_of(exports, params, notes))
    key = pd.MultiIndex.from_frame(design[["plate", "well"]].astype(str))
    pos = key.get_indexer(pd.MultiIndex.from_frame(m.larvae[["plate", "well"]].astype(str)))
    if (pos < 0).any():
        notes.append(f"{int((pos < 0).sum())} tracked well(s) outside the analysed design "
                     "(blank or other chemicals) not analysed")
    m = m.subset(pos >= 0)
    d = design.iloc[pos[pos >= 0]].reset_index(drop=True)
    larvae = pd.concat([m.larvae[["animal"]], d], axis=1)
    removed = file_removals(larvae, file_wells(exports))
    track = pd.Series(tracking_reasons(m, params), index=larvae.index, dtype=object)
    # a larva the lab removed has no data: not a second, tracking exclusion
    reason = _join(removed, track.where(removed.eq(""), ""))
    if morph is not None and params.morphology_excludes_behaviour:
        reason = _join(reason, plate_map_calls(larvae, behaviour_calls(morph, params),
                                               params.morphology_calls))
    group_reason, rules = group_rules(d, reason.eq(""), params)
    larvae["larva_reason"], larvae["group_reason"] = reason, group_reason
    larvae["exclusion_reason"] = _join(reason, group_reason)
    rows = endpoint_rows(larvae, m, params).assign(assay=ASSAY)
    larvae["excluded"] = larvae["exclusion_reason"].ne("")
    return rows, larvae[LARVA_COLUMNS], rules


def _morphology_larvae(design, morph, params):
    """Larva table of a morphology-only screen: 'usable' = healthy (no call)."""
    calls = morph.calls.set_index(["plate", "well"])
    raw = [c for c in morph.call_columns if c not in params.do_not_count]
    hit = calls[raw].fillna(0).eq(1).any(axis=1)
    key = list(zip(design["plate"].astype(str), design["well"].astype(str), strict=True))
    affected = hit.reindex(key).fillna(False).to_numpy()
    reason = pd.Series(np.where(affected, "dead or malformed", ""), index=design.index,
                       dtype=object)
    group_reason, rules = group_rules(design, ~affected, params)
    larvae = design.assign(larva_reason=reason, group_reason=group_reason,
                           exclusion_reason=_join(reason, group_reason))
    larvae["excluded"] = larvae["exclusion_reason"].ne("")
    return larvae[LARVA_COLUMNS], rules.assign(rule=rules["rule"].str.replace(
        "treatment group", "healthy larvae (behaviour analysable)"))


_PARENS = re.compile(r"\s*\([^)]*\)")


def _rule_of(piece: str) -> str:
    if piece.startswith("experimental group "):
        return "experimental group vehicle below the required usable fraction"
    if " in experimental group " in piece:
        return "treatment group below the required usable fraction"
    return _PARENS.sub("", piece).strip()


def exclusions_by_rule(larvae: pd.DataFrame) -> pd.DataFrame:
    """Larvae excluded per rule and chemical (a larva counts under every rule that hit it)."""
    rows = []
    for r in larvae[larvae["excluded"]].itertuples():
        chem = "vehicle" if r.vehicle else r.chemical
        for piece in dict.fromkeys(p for p in r.exclusion_reason.split("; ") if p):
            rows.append({"rule": _rule_of(piece), "chemical": chem})
    if not rows:
        return pd.DataFrame(columns=["rule", "chemical", "n_larvae"])
    t = pd.DataFrame(rows)
    return t.groupby(["rule", "chemical"]).size().rename("n_larvae").reset_index()


def _chemical_label(task: ChemicalTask) -> str:
    return repr(task.chemical)


def _per_chemical(ept, design, params, notes, workers, scheduler) -> dict[str, pd.DataFrame]:
    from neurotox.parallel import run_tasks

    wanted = set(params.screen_endpoints) | set(params.bmd_endpoints)
    use = ept[(ept["assay"] != ASSAY) | ept["endpoint"].isin(wanted)]
    by_subject = use.groupby("subject").indices
    tasks = []
    for chem in sorted(set(design.loc[~design["vehicle"], "chemical"])):
        treated = ~design["vehicle"] & (design["chemical"] == chem)
        groups = set(design.loc[treated, "experimental_group"])
        d = design[treated | (design["vehicle"] & design["experimental_group"].isin(groups))]
        idx = [i for s in d["subject"] for i in by_subject.get(s, [])]
        tasks.append(ChemicalTask(chem, d.reset_index(drop=True),
                                  use.iloc[np.sort(idx)].reset_index(drop=True), params))
    results = sorted(run_tasks(chemical_statistics, tasks, workers=workers,
                               scheduler=scheduler, unit="chemical", label=_chemical_label),
                     key=lambda r: r.chemical)
    out: dict[str, pd.DataFrame] = {}
    for name in ("incidence", "morphology_bmd", "activity_statistics", "activity_bmd"):
        frames = [r.tables[name] for r in results if len(r.tables[name])]
        if frames:
            out[name] = pd.concat(frames, ignore_index=True)
    for r in results:
        notes.extend(r.notes)
    return out


def _run(study: Study, spec: AssaySpec, params: ScreenParameters) -> AssayResult:
    exports, tables = load_inputs(study.assay_inputs(spec), params)
    return analyse_screen(exports, params, morphology=tables, study_id=study.study_id)


register(AssayPlugin(SCREEN_ASSAY, ScreenParameters, _run,
                     "Zebrafish screens: many chemicals vs own vehicle, locomotion and "
                     "developmental morphology"))
