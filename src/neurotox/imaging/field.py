"""Analysis of one field: nuclei, cell bodies, neurites, skeleton, metrics, QC.

:func:`analyse_field` is the unit of parallel work: it takes the channel
images of one field (arrays, no file access) and returns small tables. Label
images are kept only on request (for overlays).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from neurotox.imaging.neurites import neurite_mask
from neurotox.imaging.params import FieldSettings
from neurotox.imaging.preprocess import correct_background, estimate_noise
from neurotox.imaging.qc import focus_score, saturation_fraction
from neurotox.imaging.segment import (
    NucleiResult,
    segment_cell_bodies,
    segment_nuclei,
    somata_without_nuclei,
)
from neurotox.imaging.skeleton import (
    SkeletonPixels,
    attribute,
    build_skeleton,
    cell_metrics,
    drop_short_fragments,
    drop_short_trunks,
    fragments,
)

#: Field-level flags that need no threshold.
FLAG_NO_CELLS = "no_cells"
FLAG_NO_NEURITES = "no_neurites"
FLAG_NO_NUCLEAR_CHANNEL = "no_nuclear_channel"


@dataclass
class FieldLabels:
    """Label images of a field, for overlays."""

    nuclei: np.ndarray
    bodies: np.ndarray
    skeleton_owner: np.ndarray
    neurite: np.ndarray


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


def _nuclei(nuclei_image: np.ndarray | None, neurite_bc: np.ndarray, s: FieldSettings,
            px: float) -> tuple[NucleiResult, np.ndarray]:
    """Nuclear labels and cell bodies (bodies stand in for nuclei without a channel)."""
    diameter = _pixels(s.nucleus_diameter_um, px)
    width = _pixels(s.neurite_width_um, px)
    if nuclei_image is None:
        bodies = somata_without_nuclei(neurite_bc, min_diameter=diameter, neurite_width=width)
        return NucleiResult(labels=bodies), bodies
    typical = np.pi * diameter ** 2 / 4
    nuc_bc = correct_background(nuclei_image, radius=_pixels(s.background_radius_um, px))
    nuclei = segment_nuclei(nuc_bc, diameter=diameter,
                            min_area=s.min_nucleus_area_fraction * typical,
                            max_area=s.max_nucleus_area_fraction * typical,
                            threshold_factor=s.nucleus_threshold_factor)
    bodies = segment_cell_bodies(neurite_bc, nuclei.labels, neurite_width=width,
                                 margin=_pixels(s.cell_body_margin_um, px))
    return nuclei, bodies


def analyse_field(neurite_image: np.ndarray, nuclei_image: np.ndarray | None = None, *,
                  pixel_size: float, settings: FieldSettings | None = None,
                  keep_labels: bool = False) -> FieldResult:
    """Measure neurites, cells and QC of one field.

    Parameters
    ----------
    neurite_image
        Neurite (cytoplasm / tubulin) channel, 2-D (row, column).
    nuclei_image
        Nuclear channel, same shape; None for single-channel images (cell
        bodies are then the bright blobs wider than a nucleus).
    pixel_size
        µm per pixel.
    settings
        Physical settings; defaults of :class:`FieldSettings` when None.
    keep_labels
        Keep label images in the result (for overlays).

    Returns
    -------
    FieldResult
        Per-cell table, fragments, field metrics and flags; an empty field
        gives zero counts and the ``no_cells`` flag.

    """
    s = settings or FieldSettings()
    if nuclei_image is not None and np.shape(nuclei_image) != np.shape(neurite_image):
        raise ValueError(f"channel shapes differ: nuclei {np.shape(nuclei_image)}, "
                         f"neurites {np.shape(neurite_image)}")
    if pixel_size <= 0:
        raise ValueError(f"pixel_size must be > 0 µm, found {pixel_size}")
    neurite_bc = correct_background(neurite_image, radius=_pixels(s.background_radius_um,
                                                                  pixel_size))
    nuclei, bodies = _nuclei(nuclei_image, neurite_bc, s, pixel_size)
    mask, _ = neurite_mask(neurite_bc, width=_pixels(s.neurite_width_um, pixel_size),
                           high=s.ridge_high, low=s.ridge_low,
                           noise=estimate_noise(neurite_image), min_contrast=s.min_contrast)
    pixels = build_skeleton(mask, bodies, pixel_size=pixel_size, spur_length=s.spur_length_um)
    pixels = attribute(pixels, bodies)
    pixels, debris_length = drop_short_fragments(pixels, min_length=s.min_fragment_um)
    pixels = drop_short_trunks(pixels, min_length=s.spur_length_um)
    cells = cell_table(pixels, nuclei.labels, bodies, pixel_size=pixel_size, settings=s)
    frags = fragments(pixels)
    metrics = field_metrics(cells, frags, nuclei)
    metrics.update(_qc(neurite_image, nuclei_image, nuclei, s, debris_length, pixels))
    flags = _flags(metrics, nuclei_image is None)
    labels = None
    if keep_labels:
        labels = FieldLabels(nuclei.labels, bodies, pixels.owner_image(), mask)
    return FieldResult(cells, frags, metrics, flags, labels)


def cell_table(pixels: SkeletonPixels, nuclei: np.ndarray, bodies: np.ndarray, *,
               pixel_size: float, settings: FieldSettings) -> pd.DataFrame:
    """Per-cell table: skeleton metrics plus areas, centroid and neurite-bearing flag.

    Columns: ``cell``, ``row``, ``col`` (nucleus centroid, pixels),
    ``nucleus_area_um2``, ``body_area_um2``, ``neurite_length_um``,
    ``n_neurites``, ``n_branch_points``, ``n_end_points``,
    ``longest_neurite_um``, ``neurite_bearing``.
    """
    n = int(nuclei.max()) if nuclei.size else 0
    df = cell_metrics(pixels, bodies, n)
    area = pixel_size ** 2
    nuc_area = np.bincount(nuclei.ravel(), minlength=n + 1)[1:]
    body_area = np.bincount(bodies.ravel(), minlength=n + 1)[1:]
    rows, cols = np.indices(nuclei.shape, sparse=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        r = np.bincount(nuclei.ravel(), weights=np.broadcast_to(rows, nuclei.shape).ravel(),
                        minlength=n + 1)[1:] / np.maximum(nuc_area, 1)
        c = np.bincount(nuclei.ravel(), weights=np.broadcast_to(cols, nuclei.shape).ravel(),
                        minlength=n + 1)[1:] / np.maximum(nuc_area, 1)
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


def _qc(neurite_image: np.ndarray, nuclei_image: np.ndarray | None, nuclei: NucleiResult,
        s: FieldSettings, debris_length: float, pixels: SkeletonPixels) -> dict[str, float]:
    sat = saturation_fraction(neurite_image, level=s.saturation_level)
    if nuclei_image is not None:
        sat = max(sat, saturation_fraction(nuclei_image, level=s.saturation_level))
        total = nuclei.foreground_area
        debris = nuclei.rejected_area / total if total else 0.0
    else:
        total = debris_length + pixels.total_length
        debris = debris_length / total if total else 0.0
    return {"focus_score": focus_score(neurite_image), "saturation_fraction": sat,
            "debris_fraction": float(debris),
            "nuclei_rejected": float(nuclei.n_rejected_small + nuclei.n_rejected_large)}


def _flags(metrics: dict[str, float], single_channel: bool) -> list[str]:
    flags = []
    if single_channel:
        flags.append(FLAG_NO_NUCLEAR_CHANNEL)
    if metrics["cells_analysed"] == 0:
        flags.append(FLAG_NO_CELLS)
    if metrics["total_neurite_length_um"] == 0:
        flags.append(FLAG_NO_NEURITES)
    return flags
