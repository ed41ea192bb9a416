"""Channel planes of merged colour images: colour names, blank planes, burned-in annotations.

Labs often save fields as RGB(A) merges (nuclei blue, neurites green, an unused
red plane) in TIFF, PNG or JPEG, with a white scale bar and its label burned in.
These helpers work on arrays only; file access is in :mod:`neurotox.io.plates`.
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


def colour_index(name: str) -> int | None:
    """Sample index of a colour name (``"blue"`` → 2), None for anything else."""
    return COLOURS.get(str(name).strip().lower())


def annotation_mask(rgb: np.ndarray) -> np.ndarray:
    """Pixels of burned-in white annotations (scale bar, its label) in an RGB(A) merge.

    A pixel near the maximum grey value in the red, green and blue planes at
    once is white overlay, not fluorescence (a merge would need all three dyes
    saturated at the same pixel). The mask is widened by 2 pixels to take in
    JPEG ringing around the bar.
    """
    rgb = np.asarray(rgb)
    if rgb.ndim != 3 or rgb.shape[2] < 3:
        return np.zeros(rgb.shape[:2], bool)
    top = float(np.iinfo(rgb.dtype).max) if np.issubdtype(rgb.dtype, np.integer) else \
        float(rgb[..., :3].max())
    white = np.min(rgb[..., :3], axis=2) >= ANNOTATION_LEVEL * top
    if not white.any():
        return white
    return ndi.binary_dilation(white, iterations=2)


def remove_annotations(plane: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """The plane with annotation pixels set to its median (background) grey value."""
    if not mask.any():
        return plane
    out = plane.copy()
    out[mask] = np.median(plane[~mask]) if (~mask).any() else 0
    return out


#: In an 8-bit colour merge, a plane whose signal spans less than this fraction of
#: the grey range is empty (an unused colour: JPEG colour leakage at most).
MERGE_EMPTY_FRACTION = 0.10


def blank_reason(plane: np.ndarray, *, merge: bool = False) -> str | None:
    """Why a plane holds no image (constant, or nothing above its own noise), else None.

    Blank: all pixels equal; or the 99.9th percentile is within 2 grey steps
    (and 4 noise sigmas: pure noise reaches 3.1) of the median, i.e. fewer than 0.1 % of the pixels
    carry any signal (an unused plane, with at most a burned-in scale bar).
    In a colour merge (``merge``: display-scaled 8-bit planes) a plane whose
    99.9th percentile is less than :data:`MERGE_EMPTY_FRACTION` of the grey
    range above its median is empty too: what it holds is JPEG colour leakage
    from the other planes.
    """
    from neurotox.imaging.preprocess import estimate_noise, grey_level_step

    img = np.asarray(plane)
    sample = img[::2, ::2] if img.size > 1 << 20 else img
    lo, hi = float(sample.min()), float(sample.max())
    if hi == lo:
        return f"constant (every pixel {lo:g})"
    med, top = np.percentile(sample, [50, 99.9])
    step = grey_level_step(sample) or 1.0
    if top - med <= max(2 * step, 4 * estimate_noise(sample)):
        return (f"no signal (99.9 % of pixels within {top - med:g} grey levels of the "
                f"median {med:g})")
    if merge and np.issubdtype(img.dtype, np.integer):
        span = float(np.iinfo(img.dtype).max)
        if top - med < MERGE_EMPTY_FRACTION * span:
            return (f"empty colour plane (99.9 % of pixels within {top - med:g} of "
                    f"{span:g} grey levels of the median)")
    return None
