"""Zebrafish entry point :func:`analyse` (LPR or EPR by mode) and the ``zebrafish_lpr`` plug-in."""

from __future__ import annotations

from typing import Any

import pandas as pd

from neurotox.assays.base import AssayPlugin, AssayResult, register, said
from neurotox.assays.zebrafish.conventions import conventions
from neurotox.assays.zebrafish.epr import analyse_epr
from neurotox.assays.zebrafish.inputs import load_exports
from neurotox.assays.zebrafish.lpr import analyse_lpr
from neurotox.assays.zebrafish.params import ASSAY, ZebrafishParameters
from neurotox.errors import InputError
from neurotox.io.zebrafish import Export
from neurotox.io.zebrafish.plate import check_layout_calls
from neurotox.study import AssaySpec, Study, check_study_doses, split_plates


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
        Validated EndpointTable plus ``bins``, ``larvae`` and call tables (and the
        ``stimulus_*`` tables when the protocol or the export has stimuli); its
        ``conventions`` say the result-changing rules in effect.

    """
    refuse_same_tracking(exports)
    notes = [n for e in exports for n in e.notes]
    run = analyse_epr if params.mode == "epr" else analyse_lpr
    result = run(exports, params, study_id=study_id, layouts=layouts, groups=groups,
                 plate_map=plate_map, notes=notes)
    return said(result, conventions(params, stimuli="stimulus_responses" in result.details))


def refuse_same_tracking(exports: list[Export]) -> None:
    """Raise InputError when two exports hold the same tracking data under two plate names.

    A plate is named after its file (or ``plate_ids``): a re-export or renamed copy
    of one plate would enter as a second plate, doubling every larva's group n.
    """
    import hashlib

    seen: dict[str, Export] = {}
    for e in exports:
        body = e.data.drop(columns=["plate"], errors="ignore")
        digest = hashlib.sha256(repr(list(body.columns)).encode())
        digest.update(pd.util.hash_pandas_object(body, index=False).to_numpy().tobytes())
        first = seen.setdefault(digest.hexdigest(), e)
        if first is not e:
            raise InputError(f"the exports {first.path} and {e.path} hold the same tracking "
                             "data (one plate exported or copied twice?); give each plate once",
                             path=e.path)


def _run(study: Study, spec: AssaySpec, params: ZebrafishParameters) -> AssayResult:
    exports = load_exports(study.assay_inputs(spec), params)
    chosen = study.layouts if spec.layout is None else {spec.layout: study.layouts[spec.layout]}
    layouts = {}   # a layout with a 'plate' column is one layout per plate, as from the CLI
    for key, layout in chosen.items():
        check_study_doses(layout, {g.id: (g.dose, g.dose_unit) for g in study.groups.values()})
        check_layout_calls(layout)
        parts = split_plates(layout)
        layouts.update({key: layout} if "*" in parts else parts)
    groups = {g.id: {"dose": g.dose, "dose_unit": g.dose_unit, "control": g.control}
              for g in study.groups.values()}
    return analyse(exports, params, study_id=study.study_id, layouts=layouts, groups=groups)


register(AssayPlugin(ASSAY, ZebrafishParameters, _run,
                     "Zebrafish larval light/dark locomotion (LPR) and embryonic EPR"))
