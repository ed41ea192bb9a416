"""Neurite plate run: plan one task per field, run them, and build every table of the plate."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from neurotox.assays.neurite.acquisition import acquisition_notes, jpeg_note
from neurotox.assays.neurite.checks import (
    check_files_open,
    check_folder_starts,
    check_plate_start,
    reading_notes,
)
from neurotox.assays.neurite.fields import FieldOutput, FieldTask, missing_nuclei, run_fields
from neurotox.assays.neurite.layout import (
    MEASURE_GROUP,
    GroupInfo,
    join_layout,
    layout_from_names,
    normalise_to_control,
    well_groups,
    with_groups,
)
from neurotox.assays.neurite.measured import layout_unit, measure_only_tasks, unmeasured_emptied
from neurotox.assays.neurite.params import NeuriteParameters
from neurotox.assays.neurite.response import concentration_response
from neurotox.assays.neurite.tables import (
    acquisition_failed,
    apply_qc,
    cell_table,
    counted_as,
    endpoint_rows,
    field_count_note,
    field_table,
    masked_note,
    qc_flag_note,
    well_table,
)
from neurotox.cachedirs import numba_cache_empty
from neurotox.errors import InputError, quoted
from neurotox.io.plates import (
    PIXEL_SIZE_RANGE,
    FieldSource,
    PlateIndex,
    calibration_problem,
    field_sources,
    pixel_aspect,
    pixel_size_um,
    scan_plate,
)
from neurotox.study import WELL_NAME

log = logging.getLogger(__name__)


@dataclass
class NeuriteRun:
    """Everything one plate run produced."""

    endpoints: pd.DataFrame
    details: dict[str, pd.DataFrame]
    notes: list[str] = field(default_factory=list)
    exclusions: list[dict[str, Any]] = field(default_factory=list)
    overlays: dict[str, bytes] = field(default_factory=dict)
    inputs: list[Path] = field(default_factory=list)
    #: Image files in the folder that matched no naming pattern (not analysed).
    unmatched: int = 0


#: Where a field's pixel size came from (fields table, column ``pixel_size_source``):
#: its own files' calibration, another field's (its files carry none), or the
#: parameter ``pixel_size_um`` given by ``--pixel-size``/``--param`` (``option``), the
#: study's assay entry (``study``), the protocol (``protocol``) or from Python
#: (``parameters``).
PIXEL_SIZE_SOURCES = ("metadata", "fallback", "option", "study", "protocol", "parameters")


def _pixel_sizes(sources: list[FieldSource], params: NeuriteParameters, notes: list[str],
                 given_by: str = "parameters") -> list[tuple[float, str]]:
    """The pixel size of each field and its source (:data:`PIXEL_SIZE_SOURCES`).

    ``pixel_size_um`` of the parameters (``given_by`` names who set it), else
    the field's own calibration.

    A pixel size given that differs by more than 1 % from a calibration the
    files carry is used, with a warning naming the file and both sizes.

    Fields whose files carry no usable calibration get the first calibrated
    file's value (a warning names them). Fields calibrated differently (images
    taken at two magnifications) are each measured at their own pixel size, as
    every read-out is in µm; a note lists the sizes.

    Raises
    ------
    InputError
        No file has a calibration, or the two channels of one field disagree.

    """
    if params.pixel_size_um is not None:
        given = params.pixel_size_um
        saved = next(((p.path, v) for s in sources[:20] for p in s.planes
                      if (v := pixel_size_um(p.path)) is not None), None)
        if saved is not None and not np.isclose(saved[1], given, rtol=0.01):
            notes.append(f"warning: the pixel size given ({given:g} µm) differs from the "
                         f"calibration saved in {saved[0].name} ({saved[1]:.4g} µm); every "
                         "length, area and count is measured at the size given")
        return [(given, given_by)] * len(sources)
    own: list[float | None] = []
    for s in sources:
        values = {p.path: pixel_size_um(p.path) for p in s.planes}
        found = [v for v in values.values() if v is not None]
        if found and not np.allclose(found, found[0], rtol=1e-3):
            raise InputError(f"pixel sizes {' and '.join(f'{v:.4g}' for v in found)} µm "
                             f"differ between the channels of field {s.key}; give "
                             "--pixel-size", path=s.first.path)
        own.append(found[0] if found else None)
    known = [(s, v) for s, v in zip(sources, own, strict=True) if v is not None]
    if not known:
        low, high = PIXEL_SIZE_RANGE
        why = next(((p.path, w) for s in sources[:20] for p in s.planes
                    if (w := calibration_problem(p.path))), None)
        if why:     # a calibration is there, in a unit (or at a size) that cannot be used
            raise InputError(f"no usable pixel size: {why[1]}; give --pixel-size (µm per "
                             "pixel)", path=why[0])
        raise InputError("pixel size not found in the image metadata; give --pixel-size "
                         f"(µm per pixel; metadata values outside {low:g}-{high:g} µm are "
                         "ignored)", path=sources[0].first.path)
    ref, px = known[0][0].first.path, known[0][1]
    sizes = sorted({round(v, 4) for _, v in known})
    if len(sizes) == 1:
        notes.append(f"pixel size {px:.4g} µm taken from the metadata of {ref.name}")
    else:
        count = {v: [s.key for s, w in known if round(w, 4) == v] for v in sizes}
        wide = sizes[-1] > 2 * sizes[0]     # not two objectives' worth: a wrong calibration?
        notes.append(("warning: " if wide else "") + "fields calibrated at different pixel "
                     "sizes, each measured at its own: " + ", ".join(
                         f"{v:g} µm ({len(k)} field(s)" + (f": {quoted(k, limit=5)})" if wide
                                                           else ")") for v, k in count.items())
                     + ("; sizes more than 2x apart: check the calibrations or give "
                        "--pixel-size" if wide else ""))
    aspect = next(((s.first.path, a) for s in sources[:20]
                   if (a := pixel_aspect(s.first.path)) is not None), None)
    if aspect is not None:
        notes.append(f"warning: {aspect[0].name} has non-square pixels (height {aspect[1]:.3g} "
                     "x width): lengths are measured with the width, so those along the "
                     "columns read short; resample the images to square pixels")
    missing = [s.first.path.name for s, v in zip(sources, own, strict=True) if v is None]
    if missing:
        why = next((f" ({s.first.path.name}: {w})" for s, v in zip(sources, own, strict=True)
                    if v is None and (w := calibration_problem(s.first.path))), "")
        notes.append(f"warning: {len(missing)} field(s) without a usable pixel-size "
                     f"calibration ({quoted(missing, limit=5)}) taken as {px:.4g} µm like "
                     f"{ref.name}; give --pixel-size if that is wrong{why}")
    return [(px, "fallback") if v is None else (v, "metadata") for v in own]


def plan_fields(plate_dir: str | Path, params: NeuriteParameters, *,
                overlays: Literal["all", "flagged", "none"] = "flagged",
                pixel_size_given_by: str = "parameters"
                ) -> tuple[list[FieldTask], list[str]]:
    """Index a plate folder and build one task per field (nothing is read yet)."""
    tasks, notes, _ = _plan(plate_dir, params, overlays, pixel_size_given_by)
    return tasks, notes


def _index_notes(index: PlateIndex) -> list[str]:
    """Run notes on how the plate folder was read: scheme, files skipped, channel labels."""
    notes = [f"naming scheme: {index.scheme.description}"]
    if index.thumbnails:
        notes.append(f"skipped {len(index.thumbnails)} thumbnail file(s)")
    if index.hidden:
        notes.append(f"skipped {len(index.hidden)} hidden file(s) (macOS '._' resource forks, "
                     f"hidden or __MACOSX folders): "
                     f"{quoted((str(p.relative_to(index.folder)) for p in index.hidden), limit=5)}")
    if index.outputs:
        outputs = quoted((str(p.relative_to(index.folder)) for p in index.outputs), limit=5)
        notes.append(f"skipped {len(index.outputs)} earlier neurotox output folder(s) inside "
                     f"the plate folder (they hold a neurotox manifest.json): {outputs}")
    if index.channels_from_zero:
        notes.append("the file names number the channels from 0: channel 1 is the file "
                     "labelled 0, channel 2 the one labelled 1 (channel numbers are 1-based)")
    if index.folders:
        notes.append(f"{len(index.folders)} folder(s) named like images, searched but not read "
                     f"as images: {quoted((p.name for p in index.folders), limit=5)}")
    if index.unmatched:
        notes.append(f"warning: {len(index.unmatched)} image file(s) did not match the naming "
                     "scheme and are not analysed: "
                     f"{quoted((p.name for p in index.unmatched), limit=5)}")
    return notes


def _plan(plate_dir: str | Path, params: NeuriteParameters,
          overlays: Literal["all", "flagged", "none"], given_by: str = "parameters"
          ) -> tuple[list[FieldTask], list[str], int]:
    """Tasks, notes and the number of image files that matched no naming pattern."""
    index = scan_plate(plate_dir, pattern=params.pattern)
    notes = _index_notes(index)
    sources = field_sources(index, neurite_channel=params.neurite_channel,
                            nuclei_channel=params.nuclei_channel)
    if not sources:
        raise InputError(f"no field has the neurite channel {params.neurite_channel!r}",
                         path=plate_dir)
    kind = "plane" if sources[0].first.plane is not None else "channel"
    notes.append("channel roles: neurites = "
                 + (f"{kind} {params.neurite_channel!r}" if params.neurite_channel is not None
                    else "none (nuclei-only fields: nuclei counts, no neurite measures)")
                 + ", nuclei = "
                 + (f"{kind} {params.nuclei_channel!r}"
                    if params.nuclei_channel is not None else "none (neurite channel only)"))
    lacking, more = missing_nuclei(sources, params.nuclei_channel)
    notes += more
    if any(s.nuclei is None and s.key not in lacking for s in sources):
        notes.append("some fields have no nuclear channel: cell bodies detected from the "
                     "neurite channel alone")
    headers = check_files_open(sources)
    first = [p for p in (s.neurite or s.nuclei for s in sources) if headers[p.path].lossy]
    lossy = jpeg_note([p.path for p in first if p.plane is not None], colour=True) or \
        jpeg_note([p.path for p in first if p.plane is None], colour=False)
    notes += [lossy] if lossy else []
    plates: dict[str, list[FieldSource]] = {}
    for source in sources:
        plates.setdefault(source.plate, []).append(source)
    for warning in filter(None, map(check_plate_start, plates.values())):
        notes.append("warning: " + warning)
    notes += [n for group in plates.values() for n in reading_notes(group[0])]
    check_folder_starts(sources)
    if params.non_neuronal == "channel":
        raise InputError("non_neuronal 'channel' needs a third image channel, which plate runs "
                         "do not read yet; use 'all' or 'larger', or analyse_field("
                         "non_neuronal_image=...) from Python")
    sizes = _pixel_sizes(sources, params, notes, given_by)
    settings = params.settings()
    return ([FieldTask(s, px, settings, overlays, params, origin, lacking.get(s.key, ""))
             for s, (px, origin) in zip(sources, sizes, strict=True)], notes,
            len(index.unmatched))


def analyse_plate(plate_dir: str | Path, layout: pd.DataFrame | None, params: NeuriteParameters, *,
                  study_id: str, groups: dict[str, GroupInfo] | None = None,
                  workers: int | None = None, scheduler: Any = None,
                  overlays: Literal["all", "flagged", "none"] = "flagged",
                  progress: bool = False,
                  overlay_writer: Callable[[str, bytes], Any] | None = None,
                  pixel_size_given_by: str = "parameters") -> NeuriteRun:
    """Analyse a plate folder end to end.

    Parameters
    ----------
    plate_dir
        Folder of images.
    layout
        Plate layout (:func:`neurotox.study.read_layout`); None when the file
        names give the groups (``{group}`` in the pattern: each image without a
        well in its name is then one replicate of its group).
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
    pixel_size_given_by
        Who set ``params.pixel_size_um`` when it is set (``option``, ``study``,
        ``protocol``): the fields table's ``pixel_size_source``.

    Returns
    -------
    NeuriteRun
        EndpointTable, detail tables (cells, fields, wells, concentration_response,
        selectivity), notes, exclusions and overlays.

    """
    tasks, notes, unmatched = _plan(plate_dir, params, overlays, pixel_size_given_by)
    if layout is not None and params.names_give("group"):
        raise InputError("the groups would come both from the file names ({group} in the "
                         "pattern) and from the plate layout; give one of them",
                         path=layout.attrs.get("path"))
    params = layout_unit(layout, params, groups, notes)
    measure_only = layout is None and groups is None and not params.names_give("group")
    if measure_only:
        tasks = measure_only_tasks(tasks, params)
        notes.append(f"warning: no --layout, no {{group}} in --pattern and no --study: each "
                     f"image is measured as one replicate of group {MEASURE_GROUP!r}; no group "
                     "comparison or concentration-response (give --layout, or {group} in "
                     "--pattern, for those)")
    if layout is None:
        layout = layout_from_names([t.source for t in tasks], groups)
        per_image = not (params.names_give("well") or params.names_give("row"))
        if not measure_only:
            notes.append(f"groups from the file names: {quoted(sorted(set(layout['group'])))}"
                         + ("; no well in the names: each image is one replicate" if per_image
                            else ""))
    # layout errors (wells, groups, control group) before any field is analysed
    info, layout_notes = well_groups({t.source.well for t in tasks}, layout, groups, params)
    workers = workers or params.workers
    if numba_cache_empty("imaging", "compiled"):
        log.info("first run on this machine: compiling the image filters (once, about 10-20 s "
                 "before the first field)")
    written: set[str] = set()

    def sink(o: FieldOutput) -> None:
        written.add(overlay_name(o.source))
        if overlay_writer is not None:
            overlay_writer(overlay_name(o.source), o.overlay)
    outputs = run_fields(tasks, workers=workers, scheduler=scheduler, progress=progress,
                         overlay_sink=sink if overlay_writer is not None else None)
    written.update(overlay_name(o.source) for o in outputs if o.overlay is not None)
    fields = apply_qc(field_table(outputs, Path(plate_dir)), params)
    notes += masked_note(fields) + qc_flag_note(fields) + acquisition_notes(fields, info, params)
    if overlays == "flagged":
        late = late_overlay_tasks(tasks, fields, written)
        if late:
            extra = run_fields(late, workers=workers, scheduler=scheduler,
                               overlay_sink=sink if overlay_writer is not None else None)
            outputs = _with_overlays(outputs, extra)
    cells = cell_table(outputs)
    wells = well_table(cells, fields)
    cells, wells = unmeasured_emptied(cells, wells, params)
    notes += field_count_note(wells)
    wells, norm_notes = normalise_to_control(join_layout(wells, info))
    fields, cells = with_groups(fields, info), with_groups(cells, info)
    if measure_only:
        norm_notes = []         # no control to normalise to, as the warning above says
    fits, sel = concentration_response(wells, params)
    plate_dirs = {t.source.plate: str(plate_dir) for t in tasks}
    table = endpoint_rows(wells, study_id=study_id, params=params, plate_dirs=plate_dirs)
    failed = acquisition_failed(fields)
    exclusions = [{"what": f"field {r.plate}/{r.well}/s{r.field}", "timepoint": r.timepoint,
                   "reason": r.exclusion_reason,
                   "rule": "acquisition failure" if fail else "protocol QC"}
                  for r, fail in zip(fields.itertuples(), failed, strict=True) if r.excluded]
    overlay_files = {overlay_name(o.source): o.overlay for o in outputs
                     if o.overlay is not None}
    inputs = sorted({p for t in tasks for p in _paths(t.source)})
    fields, wells = counted_as(fields, params), counted_as(wells, params)
    return NeuriteRun(table, {"cells": cells, "fields": fields, "wells": wells,
                              "concentration_response": fits, "selectivity": sel},
                      notes + layout_notes + norm_notes, exclusions, overlay_files, inputs,
                      unmatched)


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
    """Relative output path of a field's overlay PNG.

    ``<plate>_<well>_s<field>[_t<tp>]``; an image that is no plate position
    (each image one replicate) is named after its file instead:
    ``<plate>_<image name>_s<field>[_t<tp>]``.
    """
    tp = "" if src.timepoint == "NA" else f"_t{src.timepoint}"
    where = src.well if WELL_NAME.match(src.well) else src.first.path.stem
    return f"overlays/{src.plate}_{where}_s{src.field}{tp}.png"


def _paths(src: FieldSource) -> list[Path]:
    return [p.path for p in src.planes]
