"""Analysis of one field: nuclei, cell bodies, neurites, skeleton, metrics, QC.

:func:`analyse_field` is the unit of parallel work: it takes the channel
images of one field (arrays, no file access) and returns small tables. Label
images are kept only on request (for overlays).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import ndimage as ndi

from neurotox.imaging import compiled
from neurotox.imaging.neurites import NeuriteDetection, detect_neurites, ridge_sigmas
from neurotox.imaging.params import FieldSettings
from neurotox.imaging.preprocess import correct_background, estimate_noise
from neurotox.imaging.qc import (
    FINE_SAMPLE_PIXELS,
    fine_structure_fraction,
    focus_score,
    grey_levels,
    rank_tiles,
    saturated_objects_pct,
    saturation_fraction,
    saturation_level,
)
from neurotox.imaging.segment import NucleiResult, segment_cell_bodies, segment_nuclei
from neurotox.imaging.skeleton import (
    SkeletonPixels,
    add_crossings,
    attribute,
    build_skeleton,
    cell_metrics,
    drop_faint_fragments,
    drop_processes,
    drop_short_fragments,
    drop_short_trunks,
    fragments,
    limit_reach,
    pruned_skeleton,
)
from neurotox.imaging.somata import SomaSplit, find_somata, marker_mask, non_neuronal_somata

#: Field-level flags that need no threshold.
FLAG_NO_CELLS = "no_cells"
FLAG_NO_NEURITES = "no_neurites"
FLAG_NO_NUCLEAR_CHANNEL = "no_nuclear_channel"
FLAG_NO_NEURITE_CHANNEL = "no_neurite_channel"
#: Field metrics that need a neurite channel (NaN in nuclei-only fields).
NEURITE_METRICS = ("total_neurite_length_um", "attached_neurite_length_um",
                   "unattached_neurite_length_um", "neurite_length_per_cell_um",
                   "mean_neurite_length_per_cell_um", "neurite_bearing_cells_pct",
                   "branch_points_per_cell", "neurites_per_cell", "n_fragments",
                   "mean_fragment_length_um")


@dataclass
class FieldLabels:
    """Label images of a field, for overlays."""

    nuclei: np.ndarray
    bodies: np.ndarray
    skeleton_owner: np.ndarray
    neurite: np.ndarray
    non_neuronal: np.ndarray


@dataclass
class FieldResult:
    """Result of :func:`analyse_field`.

    Attributes
    ----------
    cells
        One row per cell (see :func:`cell_table`).
    fragments
        One row per unattached skeleton fragment (``length_um``).
    metrics
        Field-level metrics and QC measures (see :func:`field_metrics`).
    flags
        Field-level flags (``no_cells``, ``no_neurites``, ``no_nuclear_channel``).
    labels
        Label images when requested, else None.

    """

    cells: pd.DataFrame
    fragments: pd.DataFrame
    metrics: dict[str, float]
    flags: list[str] = field(default_factory=list)
    labels: FieldLabels | None = None


def _pixels(value_um: float, pixel_size: float) -> float:
    return value_um / pixel_size


@dataclass
class _Cells:
    """Neuronal cells and non-neuronal somata of a field (pixel labels)."""

    nuclei: NucleiResult
    bodies: np.ndarray          # neuronal cell bodies, labels = cell numbers
    other: np.ndarray           # boolean mask of non-neuronal somata
    n_other: int
    orphan: np.ndarray | None = None    # spread cell areas no body reaches (not neurite)


def _cells(nuclei_image: np.ndarray | None, neurite_bc: np.ndarray | None,
           somata: np.ndarray, non_neuronal: np.ndarray, s: FieldSettings,
           px: float) -> _Cells:
    """Nuclei and cell bodies; somata of the neurite channel stand in for nuclei without one."""
    other = non_neuronal[somata]
    n_other = int(non_neuronal.sum())
    if nuclei_image is None:
        bodies = compiled.keep_labels(somata, ~non_neuronal)
        return _Cells(NucleiResult(labels=bodies), bodies, other, n_other)
    diameter = _pixels(s.nucleus_diameter_um, px)
    typical = np.pi * diameter ** 2 / 4
    nuc_bc = correct_background(nuclei_image, radius=_pixels(s.background_radius_um, px))
    nuclei = segment_nuclei(nuc_bc, diameter=diameter,
                            min_area=s.min_nucleus_area_fraction * typical,
                            max_area=s.max_nucleus_area_fraction * typical,
                            threshold_factor=s.nucleus_threshold_factor)
    if neurite_bc is None:
        return _Cells(nuclei, nuclei.labels, other, n_other)
    bodies = segment_cell_bodies(neurite_bc, nuclei.labels,
                                 neurite_width=_pixels(s.neurite_width_um, px),
                                 margin=_pixels(s.cell_body_margin_um, px))
    return _Cells(nuclei, bodies, other & (bodies == 0), n_other)


def _with_spread(cells: _Cells, neurite_bc: np.ndarray, noise: float, s: FieldSettings,
                 px: float) -> _Cells:
    """Cell bodies grown over the spread cell areas they touch (:mod:`.spread`)."""
    from neurotox.imaging.neurites import neurite_scale
    from neurotox.imaging.spread import join_spread, spread_areas

    width = _pixels(s.neurite_width_um, px)
    spread = spread_areas(neurite_bc, noise=noise, min_width=_pixels(s.spread_min_width_um, px),
                          sigma=neurite_scale(width), margin=width, nuclei=cells.nuclei.labels)
    bodies, orphan = join_spread(cells.bodies, spread)
    return _Cells(cells.nuclei, bodies, cells.other & (bodies == 0), cells.n_other, orphan)


#: Without a nuclear channel, a soma dimmer than this fraction of the median
#: neurite brightness is not a cell the neurite marker labels (an unlabelled or
#: out-of-focus cell in a sparsely labelled culture): it is treated as non-neuronal.
SOMA_MIN_RELATIVE = 0.5


def dim_somata(somata: np.ndarray, image: np.ndarray, neurites: np.ndarray) -> np.ndarray:
    """Somata (boolean per label, index 0 False) dimmer than half the typical neurite."""
    n = int(somata.max()) if somata.size else 0
    out = np.zeros(n + 1, bool)
    if n == 0 or neurites.sum() < 50:
        return out
    typical = float(np.median(image[neurites]))
    if typical <= 0:
        return out
    area = np.bincount(somata.ravel(), minlength=n + 1)
    total = np.bincount(somata.ravel(), weights=np.asarray(image, np.float64).ravel(),
                        minlength=n + 1)
    mean = total / np.maximum(area, 1)
    out[1:] = mean[1:] < SOMA_MIN_RELATIVE * typical
    return out


def _non_neuronal(somata: np.ndarray, s: FieldSettings, px: float,
                  marker: np.ndarray | None) -> np.ndarray:
    limit = None if s.non_neuronal_min_area_um2 is None else \
        s.non_neuronal_min_area_um2 / px ** 2
    return non_neuronal_somata(somata, s.non_neuronal, max_neuron_area=limit, marker=marker)


def _soma_split(s: FieldSettings, px: float) -> SomaSplit | None:
    """Pixel sizes of the touching-somata split, None when the protocol has none."""
    if s.soma_split_depth_um is None:
        return None
    neck = s.neurite_width_um if s.neurite_max_width_um is None else s.neurite_max_width_um
    return SomaSplit(min_core=_pixels(s.soma_min_width_um, px),
                     depth=_pixels(s.soma_split_depth_um, px), min_neck=_pixels(neck, px),
                     min_area=s.soma_min_area_um2 / px ** 2)


def analyse_field(neurite_image: np.ndarray | None, nuclei_image: np.ndarray | None = None, *,
                  pixel_size: float, settings: FieldSettings | None = None,
                  keep_labels: bool = False,
                  non_neuronal_image: np.ndarray | None = None) -> FieldResult:
    """Measure neurites, cells and QC of one field.

    Parameters
    ----------
    neurite_image
        Neurite (cytoplasm / tubulin / MAP2) channel, 2-D (row, column); None
        for nuclei-only fields (counts only, neurite metrics NaN).
    nuclei_image
        Nuclear channel, same shape; None for single-channel images (cell
        bodies are then the somata found in the neurite channel by size and
        shape, see :mod:`neurotox.imaging.somata`).
    pixel_size
        µm per pixel.
    settings
        Physical settings; defaults of :class:`FieldSettings` when None.
    keep_labels
        Keep label images in the result (for overlays).
    non_neuronal_image
        Marker channel of non-neuronal cells (``non_neuronal="channel"``).

    Returns
    -------
    FieldResult
        Per-cell table, fragments, field metrics and flags; an empty field
        gives zero counts and the ``no_cells`` flag.

    """
    s = settings or FieldSettings()
    _check_inputs(neurite_image, nuclei_image, non_neuronal_image, pixel_size)
    if neurite_image is None:
        return _nuclei_only(nuclei_image, s, pixel_size, keep_labels)
    px = pixel_size
    neurite_bc = correct_background(neurite_image, radius=_pixels(s.background_radius_um, px))
    noise = estimate_noise(neurite_image)
    det = detect_neurites(neurite_bc, width=_pixels(s.neurite_width_um, px),
                          wide_width=_pixels(s.soma_min_width_um, px), high=s.ridge_high,
                          low=s.ridge_low, noise=noise, min_contrast=s.min_contrast,
                          max_width=None if s.neurite_max_width_um is None else
                          _pixels(s.neurite_max_width_um, px))
    # with a nuclear channel and every soma a neuron, the somata are only counted
    somata = find_somata(det.wide, min_area=s.soma_min_area_um2 / px ** 2,
                         min_core=None if s.soma_min_core_um is None else
                         _pixels(s.soma_min_core_um, px), split=_soma_split(s, px),
                         fill=nuclei_image is None or s.non_neuronal != "none")
    marker = None
    if non_neuronal_image is not None:
        marker = marker_mask(correct_background(
            non_neuronal_image, radius=_pixels(s.background_radius_um, px)),
            noise=estimate_noise(non_neuronal_image))
    other = _non_neuronal(somata, s, px, marker)
    if nuclei_image is None:
        other |= dim_somata(somata, neurite_bc, det.mask)
    cells = _cells(nuclei_image, neurite_bc, somata, other, s, px)
    if s.spread_min_width_um is not None and nuclei_image is not None:
        cells = _with_spread(cells, neurite_bc, noise, s, px)
    strength = None
    if s.min_piece_ridge > 0 or s.bright_neurite_ridge is not None:
        strength = ridge_sigmas(det.response, noise, width=_pixels(s.neurite_width_um, px),
                                max_width=None if s.neurite_max_width_um is None else
                                _pixels(s.neurite_max_width_um, px))
    pixels, outline, removed = _skeleton(det.mask, cells, s, px, strength)
    cell_df = cell_table(pixels, cells.nuclei.labels, cells.bodies, pixel_size=px, settings=s,
                         outline=outline)
    frags = fragments(pixels)
    metrics = field_metrics(cell_df, frags, cells.nuclei)
    metrics.update(non_neuronal_cells=float(cells.n_other),
                   somata_in_neurite_channel=float(somata.max()),
                   non_neuronal_process_length_um=removed["process"])
    metrics.update(_qc(neurite_image, nuclei_image, cells.nuclei, s, removed["debris"], pixels,
                       det, noise=noise))
    flags = _flags(metrics, nuclei_image is None)
    labels = None
    if keep_labels:
        labels = FieldLabels(cells.nuclei.labels, cells.bodies, pixels.owner_image(), det.mask,
                             cells.other)
    return FieldResult(cell_df, frags, metrics, flags, labels)


def _check_inputs(neurite: np.ndarray | None, nuclei: np.ndarray | None,
                  other: np.ndarray | None, pixel_size: float) -> None:
    if neurite is None and nuclei is None:
        raise ValueError("a field needs a neurite or a nuclear channel")
    ref = neurite if neurite is not None else nuclei
    for name, img in (("nuclei", nuclei), ("non-neuronal marker", other)):
        if img is not None and np.shape(img) != np.shape(ref):
            raise ValueError(f"channel shapes differ: {name} {np.shape(img)}, "
                             f"neurites {np.shape(ref)}")
    if pixel_size <= 0:
        raise ValueError(f"pixel_size must be > 0 µm, found {pixel_size}")


def grow_labels(labels: np.ndarray) -> np.ndarray:
    """Labels grown by one pixel (8-neighbourhood) into the background."""
    if not labels.any():
        return labels
    return compiled.grow_labels(labels)


def _skeleton(mask: np.ndarray, cells: _Cells, s: FieldSettings, px: float,
              strength: np.ndarray | None = None
              ) -> tuple[SkeletonPixels, np.ndarray, dict[str, float]]:
    """Skeleton outside all cell bodies and their outlines, attributed and cleaned.

    Returns the pixels, the neuronal bodies with their outline margin (the
    zone a neurite leaves from) and the lengths removed as debris and as
    processes of non-neuronal cells. ``strength`` is the ridge response in
    noise sigmas, for the ``min_piece_ridge`` rule.
    """
    neurons = cells.bodies
    others = np.zeros(mask.shape, bool)
    zone = neurons
    if cells.n_other:
        margin = max(1, int(round(_pixels(s.neurite_width_um, px))))
        others = ndi.binary_dilation(cells.other, iterations=margin)
    if cells.orphan is not None:
        others = others | cells.orphan
    if cells.n_other or cells.orphan is not None:
        zone = np.where(others & (neurons == 0), -1, neurons)
    skel = pruned_skeleton(mask, zone, pixel_size=px, spur_length=s.spur_length_um)
    pixels = build_skeleton(mask, zone, pixel_size=px, spur_length=s.spur_length_um,
                            skeleton=skel)
    neurons = grow_labels(neurons)
    pixels = attribute(pixels, neurons)
    bright = {} if s.bright_neurite_ridge is None or strength is None else \
        {"strength": strength, "max_strength": s.bright_neurite_ridge}
    pixels, process = drop_processes(pixels, others, max_length=s.non_neuronal_process_um,
                                     **bright)
    if cells.n_other and s.non_neuronal != "none":
        # only pieces longer than any process of theirs are certainly neurites
        bright = {} if not bright else \
            {"strength": strength, "min_strength": s.bright_neurite_ridge}
        pixels, _ = add_crossings(pixels, skel & (zone < 0), pixel_size=px,
                                  min_piece=s.non_neuronal_process_um, **bright)
    if s.neurite_reach_um is not None:
        pixels = limit_reach(pixels, neurons, reach=s.neurite_reach_um / px)
    pixels, debris = drop_short_fragments(pixels, min_length=s.min_fragment_um)
    if strength is not None and s.min_piece_ridge > 0:
        pixels, faint = drop_faint_fragments(
            pixels, strength, min_mean=s.min_piece_ridge,
            max_length=np.inf if s.faint_piece_max_um is None else s.faint_piece_max_um)
        debris += faint
    pixels = drop_short_trunks(pixels, min_length=s.spur_length_um)
    return pixels, neurons, {"debris": debris, "process": process}


def _nuclei_only(nuclei_image: np.ndarray, s: FieldSettings, px: float,
                 keep_labels: bool) -> FieldResult:
    """Nuclei count (and QC) of a field without a neurite channel; neurite metrics NaN."""
    cells = _cells(nuclei_image, None, np.zeros(nuclei_image.shape, np.int32),
                   np.zeros(1, bool), s, px)
    pixels = SkeletonPixels(np.zeros(0, np.intp), np.zeros(0, np.intp), np.zeros(0),
                            np.zeros(0, np.int32), nuclei_image.shape)
    cell_df = cell_table(pixels, cells.nuclei.labels, cells.bodies, pixel_size=px, settings=s)
    metrics = field_metrics(cell_df, fragments(pixels), cells.nuclei)
    for key in NEURITE_METRICS:
        metrics[key] = float("nan")
    for col in ("neurite_length_um", "longest_neurite_um"):
        cell_df[col] = np.nan
    cell_df["neurite_bearing"] = False
    metrics.update(non_neuronal_cells=0.0, somata_in_neurite_channel=0.0,
                   non_neuronal_process_length_um=float("nan"))
    metrics.update(_qc(None, nuclei_image, cells.nuclei, s, 0.0, pixels, None))
    flags = [FLAG_NO_NEURITE_CHANNEL] + ([FLAG_NO_CELLS] if cells.nuclei.count == 0 else [])
    labels = None
    if keep_labels:
        empty = np.zeros(nuclei_image.shape, bool)
        labels = FieldLabels(cells.nuclei.labels, cells.bodies, pixels.owner_image(), empty,
                             empty)
    return FieldResult(cell_df, fragments(pixels), metrics, flags, labels)


def cell_table(pixels: SkeletonPixels, nuclei: np.ndarray, bodies: np.ndarray, *,
               pixel_size: float, settings: FieldSettings,
               outline: np.ndarray | None = None) -> pd.DataFrame:
    """Per-cell table: skeleton metrics plus areas, centroid and neurite-bearing flag.

    ``outline`` is the body with the margin neurites leave from (default: ``bodies``).

    Columns: ``cell``, ``row``, ``col`` (nucleus centroid, pixels),
    ``nucleus_area_um2``, ``body_area_um2``, ``neurite_length_um``,
    ``n_neurites``, ``n_branch_points``, ``n_end_points``,
    ``longest_neurite_um``, ``neurite_bearing``.
    """
    n = int(nuclei.max()) if nuclei.size else 0
    df = cell_metrics(pixels, bodies if outline is None else outline, n)
    area = pixel_size ** 2
    # areas and sums of row and column numbers over the labelled pixels, in one pass
    counts, rows, cols = compiled.label_moments(nuclei, n)
    nuc_area = counts[1:]
    body_area = compiled.bincount(bodies, minlength=n + 1)[1:]
    with np.errstate(invalid="ignore", divide="ignore"):
        r = rows[1:] / np.maximum(nuc_area, 1)
        c = cols[1:] / np.maximum(nuc_area, 1)
    df.insert(1, "row", r)
    df.insert(2, "col", c)
    df.insert(3, "nucleus_area_um2", nuc_area * area)
    df.insert(4, "body_area_um2", body_area * area)
    df["neurite_bearing"] = df["longest_neurite_um"] >= settings.bearing_threshold
    return df


def field_metrics(cells: pd.DataFrame, frags: pd.DataFrame,
                  nuclei: NucleiResult) -> dict[str, float]:
    """Field-level neurite metrics from the cell and fragment tables.

    Both the ratio of totals (``neurite_length_per_cell_um``) and the mean of
    per-cell lengths (``mean_neurite_length_per_cell_um``) are given; they
    differ when some cells are excluded or when weighting by field matters.
    """
    n = len(cells)
    attached = float(cells["neurite_length_um"].sum())
    unattached = float(frags["length_um"].sum())
    per_cell = attached / n if n else 0.0
    return {
        "nuclei_count": float(nuclei.count),
        "cells_analysed": float(n),
        "total_neurite_length_um": attached + unattached,
        "attached_neurite_length_um": attached,
        "unattached_neurite_length_um": unattached,
        "neurite_length_per_cell_um": per_cell,
        "mean_neurite_length_per_cell_um": float(cells["neurite_length_um"].mean()) if n else 0.0,
        "neurite_bearing_cells_pct": 100.0 * float(cells["neurite_bearing"].mean()) if n else 0.0,
        "branch_points_per_cell": float(cells["n_branch_points"].sum()) / n if n else 0.0,
        "neurites_per_cell": float(cells["n_neurites"].sum()) / n if n else 0.0,
        "n_fragments": float(len(frags)),
        "mean_fragment_length_um": float(frags["length_um"].mean()) if len(frags) else 0.0,
    }


def _qc(neurite_image: np.ndarray | None, nuclei_image: np.ndarray | None,
        nuclei: NucleiResult, s: FieldSettings, debris_length: float, pixels: SkeletonPixels,
        det: NeuriteDetection | None, *, noise: float | None = None) -> dict[str, float]:
    """QC measures: focus, fine structure and saturation of the analysed channel, debris.

    ``noise``: the analysed channel's pixel noise when already known.
    """
    analysed = neurite_image if neurite_image is not None else nuclei_image
    # each channel's ceiling found once (inf: never saturated) for all its measures
    nuclei_level = None
    if nuclei_image is not None:
        found = saturation_level(nuclei_image, level=s.saturation_level)
        nuclei_level = np.inf if found is None else found
    # the measures below read the analysed channel in float32: converted once for all
    analysed32 = np.asarray(analysed, dtype=np.float32)
    # the tiles large fields are judged on, ranked once for both measures
    ranking = rank_tiles(analysed32) if analysed.size > FINE_SAMPLE_PIXELS else None
    out = {"focus_score": focus_score(analysed32, noise=noise, ranking=ranking),
           # line structure: read on the neurite channel only (nuclei are blobs, not ridges)
           "fine_structure_fraction": fine_structure_fraction(
               analysed32, noise=noise, ranking=ranking)
           if neurite_image is not None else float("nan"),
           "grey_levels": grey_levels(analysed),
           "saturation_fraction": saturation_fraction(
               analysed, level=s.saturation_level if analysed is not nuclei_image
               else nuclei_level),
           "nuclei_rejected": float(nuclei.n_rejected_small + nuclei.n_rejected_large)}
    if nuclei_image is not None and neurite_image is not None:
        # a second channel's saturation; a field without one has no such measure (not NaN)
        out["nuclei_saturation_fraction"] = saturation_fraction(nuclei_image,
                                                                level=nuclei_level)
    if nuclei_image is not None:
        out["saturated_nuclei_pct"] = saturated_objects_pct(nuclei.labels, nuclei_image,
                                                            level=nuclei_level)
        total = nuclei.foreground_area
        out["debris_fraction"] = float(nuclei.rejected_area / total) if total else 0.0
    else:
        total = debris_length + pixels.total_length
        out["debris_fraction"] = float(debris_length / total) if total else 0.0
    return out


def _flags(metrics: dict[str, float], single_channel: bool) -> list[str]:
    flags = []
    if single_channel:
        flags.append(FLAG_NO_NUCLEAR_CHANNEL)
    if metrics["cells_analysed"] == 0:
        flags.append(FLAG_NO_CELLS)
    if metrics["total_neurite_length_um"] == 0:
        flags.append(FLAG_NO_NEURITES)
    return flags
