"""Per-field image quality measures.

The functions here return raw measures; whether a value is acceptable is the
protocol's decision (see the neurite-outgrowth assay), except for facts that
need no threshold (no cells, no neurites), which the field analysis flags.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage as ndi

from neurotox.imaging.preprocess import estimate_noise

#: Focus is measured on the strongest structure: pixels in the top 2 % of the
#: coarse band that also stand this many noise sigmas above it.
FOCUS_QUANTILE = 0.98
FOCUS_MIN_SNR = 5.0
#: Gaussian scales (pixels) of the fine band (first two) and the coarse band (last two).
FOCUS_SCALES = (0.7, 1.5, 4.0)
#: Fewer structure pixels than this: focus not measurable (NaN, never a flag).
FOCUS_MIN_PIXELS = 200


def focus_score(image: np.ndarray) -> float:
    """Sharpness of the field's structure, independent of brightness and density.

    Ratio of fine-band (Gaussian 0.7 - 1.5 px) to coarse-band (1.5 - 4 px) contrast
    on the pixels of the strongest structure: a blurred field loses fine-band
    contrast first, while a brighter exposure or a field with few cells
    changes both bands alike. A blur of 2 px (Gaussian sigma) halves it.

    Returns
    -------
    float
        The ratio, or NaN when the field has too little structure to judge
        (fewer than :data:`FOCUS_MIN_PIXELS` pixels well above noise).

    Notes
    -----
    The previous measure (variance of the Laplacian over the mean
    intensity) read brighter exposures and sparse fields as blurred; this one
    is a band ratio (Subbarao's normalised high-pass / band-pass energy idea)
    restricted to structure pixels so that the empty background does not count.

    References
    ----------
    Subbarao M., Choi T., Nikzad A. (1993) Focusing techniques. Opt Eng
    32:2824-2836.

    """
    img = np.asarray(image, dtype=np.float32)
    if img.ndim != 2 or min(img.shape) < 16:
        return float("nan")
    fine_s, mid_s, coarse_s = (ndi.gaussian_filter(img, s) for s in FOCUS_SCALES)
    fine = np.abs(fine_s - mid_s)
    coarse = np.abs(mid_s - coarse_s)
    noise = estimate_noise(img)
    # white noise of sigma n leaves a standard deviation of about 0.15 n in the coarse band
    sel = (coarse >= np.quantile(coarse[::2, ::2], FOCUS_QUANTILE)) & \
        (coarse > FOCUS_MIN_SNR * 0.15 * max(noise, 1e-6))
    if int(sel.sum()) < FOCUS_MIN_PIXELS:
        return float("nan")
    return float(fine[sel].mean() / coarse[sel].mean())


def saturation_fraction(image: np.ndarray, *, level: float | None = None) -> float:
    """Fraction of pixels at or above the saturation ``level``.

    ``level=None`` uses the dtype maximum of integer images (float images: the
    image maximum only when more than 0.1 % of pixels share it).
    """
    img = np.asarray(image)
    if level is None:
        if np.issubdtype(img.dtype, np.integer):
            level = float(np.iinfo(img.dtype).max)
        else:
            level = float(img.max()) if img.size else 0.0
            frac = float(np.mean(img >= level)) if img.size else 0.0
            return frac if frac > 1e-3 else 0.0
    return float(np.mean(img >= level)) if img.size else 0.0
