"""The neurite-outgrowth study plug-in: runs a study's ``neurite_outgrowth`` entry."""

from __future__ import annotations

import pandas as pd
from pydantic import BaseModel

from neurotox.assays.base import AssayPlugin, AssayResult, register, said
from neurotox.assays.neurite.conventions import neurite_conventions
from neurotox.assays.neurite.layout import GroupInfo
from neurotox.assays.neurite.params import ASSAY, NeuriteParameters
from neurotox.assays.neurite.plate import analyse_plate
from neurotox.errors import InputError, quoted
from neurotox.study import AssaySpec, Study


def _study_groups(study: Study) -> dict[str, GroupInfo]:
    return {g.id: GroupInfo(g.id, g.dose, g.dose_unit, g.control) for g in study.spec.groups}


def study_layout(study: Study, spec: AssaySpec, params: NeuriteParameters
                 ) -> pd.DataFrame | None:
    """The plate layout of a neurite entry: the one it names, else the study's only one."""
    if not spec.layout and not study.layouts and params.names_give("group"):
        return None                                   # groups from the file names
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
    layout = study_layout(study, spec, params)
    run = analyse_plate(plate_dir, layout, params, study_id=study.study_id,
                        groups=_study_groups(study), workers=params.workers,
                        pixel_size_given_by="study" if "pixel_size_um" in spec.parameters
                        else "protocol")
    notes = run.notes + [f"excluded {e['what']}: {e['reason']}" for e in run.exclusions]
    return said(AssayResult(endpoints=run.endpoints, details=run.details, notes=notes,
                            inputs=run.inputs), neurite_conventions(params))


register(AssayPlugin(ASSAY, NeuriteParameters, _run,
                     "Neurite outgrowth of neuronal cultures from plate images"))
