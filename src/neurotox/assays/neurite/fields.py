"""Neurite field tasks: one field read and analysed per task, run in parallel.

:func:`process_field` is the worker function; :func:`run_fields` runs a task
list through :func:`neurotox.parallel.run_tasks` (in-process, a local process
pool or a Dask cluster: same function, same results).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from neurotox.assays.neurite.params import NeuriteParameters, no_neuron_in_view
from neurotox.errors import InputError, quoted
from neurotox.imaging import FieldSettings, analyse_field
from neurotox.imaging.overlay import overlay_png
from neurotox.imaging.preprocess import fill_padding, unpadded_box
from neurotox.io.plates import (
    FieldSource,
    is_colour_merge,
    is_colour_plane,
    read_plane_checked,
)
from neurotox.parallel import run_tasks


@dataclass(frozen=True)
class FieldTask:
    """One field to analyse (picklable: sent to worker processes or a Dask cluster)."""

    source: FieldSource
    pixel_size: float
    settings: FieldSettings
    overlays: Literal["all", "flagged", "none"] = "flagged"
    params: NeuriteParameters | None = None
    #: Where ``pixel_size`` came from (:data:`.plate.PIXEL_SIZE_SOURCES`).
    pixel_size_source: str = ""
    #: Why the field has no nuclear plane while its plate's other fields have one.
    missing_nuclei: str = ""


@dataclass
class FieldOutput:
    """What a worker returns for one field: small tables, metrics, optional overlay."""

    source: FieldSource
    cells: pd.DataFrame
    metrics: dict[str, float]
    flags: list[str]
    overlay: bytes | None = None
    blank_neurite: str = ""
    blank_nuclei: str = ""
    pixel_size_um: float = float("nan")
    pixel_size_source: str = ""
    missing_nuclei: str = ""


def process_field(task: FieldTask) -> FieldOutput:
    """Read the planes of one field, analyse it, and drop the images (worker function)."""
    src = task.source
    neurite = nuclei = None
    masked = erased = 0
    if src.neurite is not None:
        neurite, masked, erased = read_plane_checked(src.neurite)
    if src.nuclei is not None:
        nuclei, masked_nuclei, erased_nuclei = read_plane_checked(src.nuclei)
        masked, erased = masked + masked_nuclei, erased + erased_nuclei
    if nuclei is not None and neurite is not None and nuclei.shape != neurite.shape:
        raise InputError(f"image size {neurite.shape} differs from {nuclei.shape} of "
                         f"{src.nuclei.path.name} in the same field", path=src.first.path)
    neurite, nuclei, padded = _without_padding(neurite, nuclei)
    blank = blank_planes(neurite, nuclei, src)
    keep = task.overlays != "none"
    res = analyse_field(neurite, nuclei, pixel_size=task.pixel_size, settings=task.settings,
                        keep_labels=keep)
    flags = res.flags + (["masked_pixels"] if masked else []) + (["padding"] if padded else []) \
        + (["scale_bar"] if erased else [])
    overlay = None
    if res.labels is not None and (task.overlays == "all" or _flagged(res, task.params)
                                   or masked or padded or erased):
        overlay = overlay_png(neurite if neurite is not None else nuclei, res.labels)
    return FieldOutput(src, res.cells, {**res.metrics, "masked_pixels": masked,
                                        "padding_pixels": padded, "scale_bar_pixels": erased},
                       flags, overlay, *blank,
                       task.pixel_size, task.pixel_size_source, task.missing_nuclei)


#: Field-table columns naming a plane not acquired beside one with signal (acquisition failure).
#: ``missing_nuclei``: no nuclear-channel file for a field of a plate whose other
#: fields have one (see :func:`missing_nuclei`).
BLANK_PLANE_COLUMNS = ("blank_neurite", "blank_nuclei", "missing_nuclei")


def missing_nuclei(sources: list[FieldSource], nuclei_channel: str | int | None
                   ) -> tuple[dict[str, str], list[str]]:
    """Fields without a nuclear plane in a plate whose other fields have one.

    Such a field (its nuclear file deleted, never copied, or a folder of that
    name) would be analysed with cell bodies found in the neurite channel alone,
    whose per-cell values are not comparable with those of its plate's other
    fields (stranger53 N10: +19 % neurite length per cell). It is excluded as an
    acquisition failure instead. Returns the reason per field key and a warning
    per plate naming how many fields and the first few.
    """
    if nuclei_channel is None:
        return {}, []
    plates: dict[str, list[FieldSource]] = {}
    for s in sources:
        plates.setdefault(s.plate, []).append(s)
    reasons, notes = {}, []
    for plate, group in plates.items():
        lacking = [s for s in group if s.nuclei is None]
        if not lacking or len(lacking) == len(group):
            continue
        for s in lacking:
            reasons[s.key] = (f"field {s.key} ({s.first.path.name}) has no nuclear channel "
                              f"{nuclei_channel!r} image; the plate's other fields have one")
        notes.append(f"warning: plate {plate}: {len(lacking)} of {len(group)} field(s) have no "
                     f"nuclear channel {nuclei_channel!r} image (file missing, or a folder of "
                     f"that name): excluded, their per-cell values would come from cell "
                     f"bodies of the neurite channel alone: "
                     f"{quoted((s.key for s in lacking), limit=5)}")
    return reasons, notes

#: Share of a plate's typical field length (:func:`typical_length`) under which a field
#: whose nuclear plane is blank reads as empty (a dead well with debris), not as a
#: nuclear-channel failure: dead wells' debris traced 18-48 um beside about 9000 um.
DEBRIS_SHARE = 0.05


def typical_length(fields: pd.DataFrame) -> dict[str, float]:
    """Per plate: the median total neurite length of fields with nuclei (NaN: none)."""
    live = fields[fields["nuclei_count"] > 0]
    return live.groupby("plate")["total_neurite_length_um"].median().to_dict()


def blank_plane_failures(row: pd.Series, typical: float) -> tuple[dict[str, str], list[str]]:
    """The field's blank-plane acquisition failures, and a flag when one is read as empty.

    A blank nuclear plane beside a neurite plane holding under :data:`DEBRIS_SHARE`
    of the plate's typical field length is no shutter failure: the cells died and
    the specks left are debris. The field is then measured (0 nuclei, an empty
    field), flagged ``blank_nuclei_debris`` with its share.
    """
    blank = {c: row.get(c, "") for c in BLANK_PLANE_COLUMNS if row.get(c, "")}
    length = float(row.get("total_neurite_length_um", 0.0) or 0.0)
    if "blank_nuclei" in blank and typical > 0 and length < DEBRIS_SHARE * typical:
        del blank["blank_nuclei"]
        return blank, [f"blank_nuclei_debris={length / typical:.1%}"]
    return blank, []


def blank_planes(neurite: np.ndarray | None, nuclei: np.ndarray | None,
                 src: FieldSource) -> tuple[str, str]:
    """Why one plane of a two-channel field holds no image while the other does: (neurite, nuclear).

    A constant plane (all black, one grey value, fully saturated) or one with no
    signal above its noise (:func:`~neurotox.imaging.channels.blank_reason`)
    beside a plane with signal: the cells were imaged in one channel and not in
    the other (shutter, lamp, a wrong channel). Measured, a blank neurite plane
    would read as no neurites at all (100 % inhibition), a blank nuclear plane
    as no nuclei at all (a dead well). Each is '' when its plane holds signal;
    both are '' for single-channel fields and when both planes are blank (the
    field is empty: the ``empty`` QC rule).
    """
    from neurotox.imaging.channels import blank_reason

    if neurite is None or nuclei is None:
        return "", ""
    neu = blank_reason(neurite, merge=is_colour_merge(src.neurite))
    nuc = blank_reason(nuclei, merge=is_colour_merge(src.nuclei))
    if bool(neu) == bool(nuc):
        return "", ""
    if neu:
        named = src.neurite.describe(colour=is_colour_plane(src.neurite))
        return f"neurite {named} is blank: {neu}", ""
    return "", f"nuclear {src.nuclei.describe(colour=is_colour_plane(src.nuclei))} is blank: {nuc}"


def _without_padding(*planes: np.ndarray | None) -> tuple[Any, ...]:
    """The planes without padding, and the number of pixels left out or filled.

    Bands are cropped off and other padding (the wedges of a rotation) filled.

    See :func:`~neurotox.imaging.preprocess.unpadded_box` and
    :func:`~neurotox.imaging.preprocess.fill_padding`.
    """
    present = [p for p in planes if p is not None]
    boxes = [unpadded_box(p) for p in present]
    rows = slice(max(b[0].start for b in boxes), min(b[0].stop for b in boxes))
    cols = slice(max(b[1].start for b in boxes), min(b[1].stop for b in boxes))
    size = present[0].size
    kept = (rows.stop - rows.start) * (cols.stop - cols.start)
    cropped = [None if p is None else p[rows, cols] for p in planes]
    filled = [(None, 0) if p is None else fill_padding(p) for p in cropped]
    return (*(f[0] for f in filled), size - kept + max(f[1] for f in filled))


def _flagged(res: Any, params: NeuriteParameters | None) -> bool:
    """Field-local QC problems (plate-relative focus: see :func:`.plate.late_overlay_tasks`).

    Facts every field of the protocol has are no problem: no nuclear or
    neurite channel, and no cells where no neuron can be in view (co-culture
    and axon fields), so ``--overlays flagged`` does not draw every such field.
    """
    inherent = {"no_nuclear_channel", "no_neurite_channel"}
    if params is not None and no_neuron_in_view(params):
        inherent.add("no_cells")
    if set(res.flags) - inherent:
        return True
    return params is not None and bool(qc_findings(res.metrics, True, 0.0, params))


def qc_findings(row: Mapping[str, Any], holds: bool, focus_ref: float,
                p: NeuriteParameters) -> list[tuple[str, str, str]]:
    """(rule, flag with its measured value, sentence) for each QC rule the field fails.

    ``row``: the field's metrics. ``holds``: the field holds nuclei, cells or
    neurites (``tables._holds_objects``). ``focus_ref``: the plate's median focus
    (0: focus not judged).
    """
    out = []
    if not holds:
        out.append(("empty", "empty", "empty field (no nuclei, no neurites)"))
    n = row["cells_analysed"]
    if n < p.min_cells_per_field or n > p.max_cells_per_field:
        out.append(("cell_count", f"cell_count={n:.0f}", f"cell count {n:.0f} outside "
                    f"[{p.min_cells_per_field}, {p.max_cells_per_field}]"))
    sat = row["saturation_fraction"]
    if sat > p.max_saturation_fraction:
        out.append(("saturation", f"saturation={sat:.2%}", f"saturated pixels {sat:.2%} of the "
                    f"analysed channel > {p.max_saturation_fraction:.2%}"))
    clipped = row.get("saturated_nuclei_pct", 0.0)
    if clipped > p.max_saturated_nuclei_pct:
        out.append(("nuclei_saturation", f"nuclei_saturation={clipped:.0f}%",
                    f"{clipped:.0f} % of nuclei hold saturated pixels of the nuclear channel > "
                    f"{p.max_saturated_nuclei_pct:g} % (their outlines and the count are "
                    "uncertain)"))
    focus = row["focus_score"]
    if focus_ref > 0 and pd.notna(focus) and focus < p.min_relative_focus * focus_ref:
        rel = focus / focus_ref
        out.append(("focus", f"focus={rel:.2f}x", f"focus score {focus:.3f} = {rel:.2f} x the "
                    f"plate median {focus_ref:.3f} < {p.min_relative_focus}"))
    fine = row.get("fine_structure_fraction", np.nan)
    if pd.notna(fine) and fine < p.min_fine_structure:
        out.append(("fine_structure", f"fine_structure={fine:.2%}",
                    f"fine structure {fine:.2%} < {p.min_fine_structure:.2%}: almost none "
                    "of the field's strongest ridges is as narrow as a 1.2 px Gaussian "
                    "profile (blurred: out of focus or smoothed)"))
    if row["debris_fraction"] > p.max_debris_fraction:
        out.append(("debris", f"debris={row['debris_fraction']:.2f}",
                    f"debris fraction {row['debris_fraction']:.2f} > {p.max_debris_fraction}"))
    levels = row.get("grey_levels", np.inf)
    if pd.notna(levels) and levels < p.min_grey_levels:
        out.append(("grey_levels", f"grey_levels={levels:.0f}",
                    f"the analysed channel holds {levels:.0f} grey levels < "
                    f"{p.min_grey_levels}: neurites a few levels above the background read "
                    "as specks and are not traced (lengths not comparable with fields saved "
                    "at full depth)"))
    return out


def _field_label(task: FieldTask) -> str:
    """``SIM01/B02/s1 (SIM01_B02_s1_w1.tif)``: the field and its (first) file, for an error."""
    return f"{task.source.key} ({task.source.first.path.name})"


def run_fields(tasks: list[FieldTask], *, workers: int | None = None, scheduler: Any = None,
               progress: bool = False,
               overlay_sink: Callable[[FieldOutput], None] | None = None) -> list[FieldOutput]:
    """Analyse fields in parallel; results sorted by field key (identical on any executor).

    Parameters
    ----------
    tasks
        Fields to analyse.
    workers, scheduler, progress
        See :func:`neurotox.parallel.run_tasks`.
    overlay_sink
        Called with each output that carries an overlay, as it arrives; the
        overlay bytes are then dropped, so a large plate never holds them all.

    Returns
    -------
    list of FieldOutput
        One per task, sorted by plate, well, field, timepoint.

    """
    out = []
    for item in run_tasks(process_field, tasks, workers=workers, scheduler=scheduler,
                          progress=progress, unit="field", desc="neurite fields",
                          label=_field_label):
        if overlay_sink is not None and item.overlay is not None:
            overlay_sink(item)
            item.overlay = None
        out.append(item)
    return sorted(out, key=lambda r: (r.source.plate, r.source.well, r.source.timepoint,
                                      r.source.field))
