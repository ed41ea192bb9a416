"""Colour planes of merged images as labs save them: colour names, burned-in annotations.

Labs often save fields as RGB(A) merges (nuclei blue, neurites green, an unused
red plane) in TIFF, PNG or JPEG, with a white scale bar and its label burned in.
Array helpers used by :mod:`neurotox.io.plates` when it reads a colour plane.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage as ndi

#: Colour names accepted as channels of RGB(A) images, and their sample index.
COLOURS = {"red": 0, "r": 0, "green": 1, "g": 1, "blue": 2, "b": 2, "alpha": 3, "a": 3}
#: Sample index → colour name, for messages.
COLOUR_NAMES = ("red", "green", "blue", "alpha")
#: Near-white in every colour plane (fraction of the dtype maximum): burned-in annotation.
ANNOTATION_LEVEL = 0.85
#: Grey (R ≈ G ≈ B) pixels at least this bright (fraction of the maximum) that touch
#: an annotation are its soft edge (JPEG blur, anti-aliasing): fluorescence in a
#: merge is coloured, so only an overlay fades through grey.
ANNOTATION_EDGE_LEVEL = 0.1
#: Coloured pixels at least this bright (fraction of the maximum) around a white spot make
#: it an overlap of dyes (fluorescence), not a burned-in annotation.
COLOURED_LEVEL = 0.25
#: How far the three planes may differ, relative to the brightest, and still be grey.
ANNOTATION_GREY_SPREAD = 0.25


def colour_index(name: str) -> int | None:
    """Sample index of a colour name (``"blue"`` → 2), None for anything else."""
    return COLOURS.get(str(name).strip().lower())


def annotation_mask(rgb: np.ndarray) -> np.ndarray:
    """Pixels of burned-in white annotations (scale bar, its label) in an RGB(A) merge.

    A pixel near the maximum grey value in the red, green and blue planes at
    once is white overlay, not fluorescence (a merge would need all three dyes
    saturated at the same pixel). The grey fringe such a bar fades through
    (JPEG blur, anti-aliased edges: R ≈ G ≈ B well above the background) is
    taken in with it, then the mask is widened by 2 pixels for JPEG ringing:
    a fringe left behind would be traced as a thin bright line beside the bar.
    """
    rgb = np.asarray(rgb)
    if rgb.ndim != 3 or rgb.shape[2] < 3:
        return np.zeros(rgb.shape[:2], bool)
    top = float(np.iinfo(rgb.dtype).max) if np.issubdtype(rgb.dtype, np.integer) else \
        float(rgb[..., :3].max())
    low = np.min(rgb[..., :3], axis=2).astype(np.float32)
    white = low >= ANNOTATION_LEVEL * top
    if not white.any():
        return white
    high = np.max(rgb[..., :3], axis=2).astype(np.float32)
    grey = (low >= ANNOTATION_EDGE_LEVEL * top) & (high - low <= ANNOTATION_GREY_SPREAD * high)
    white = _not_fluorescence(white, high, low, top)
    white = ndi.binary_propagation(white, structure=np.ones((3, 3), bool), mask=grey | white)
    return ndi.binary_dilation(white, iterations=2)


def _not_fluorescence(white: np.ndarray, high: np.ndarray, low: np.ndarray,
                      top: float) -> np.ndarray:
    """The white spots that are overlay: those not ringed by bright colour.

    Where two dyes of a merge overlap brightly (a magenta nucleus in bright
    green cytoplasm) the pixels are white too, but they fade into the colours
    of the dyes around them; a burned-in bar or label lies on background or
    fades through grey. A white spot whose ring (2 pixels around it) is
    mostly bright and coloured is fluorescence and is kept.
    """
    labels, n = ndi.label(white, structure=np.ones((3, 3), bool))
    if n == 0:
        return white
    grown = ndi.grey_dilation(labels, size=(5, 5))
    ring = (grown > 0) & ~white
    coloured = (high >= COLOURED_LEVEL * top) & (high - low > ANNOTATION_GREY_SPREAD * high)
    around = np.bincount(grown[ring], minlength=n + 1)
    hue = np.bincount(grown[ring], weights=coloured[ring], minlength=n + 1)
    dye = hue > 0.5 * np.maximum(around, 1)
    dye[0] = False
    return white & ~dye[labels]


def remove_annotations(plane: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """The plane with annotation pixels set to its median (background) grey value."""
    if not mask.any():
        return plane
    out = plane.copy()
    out[mask] = np.median(plane[~mask]) if (~mask).any() else 0
    return out
