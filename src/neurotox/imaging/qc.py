"""Per-field image quality measures.

The functions here return raw measures; whether a value is acceptable is the
protocol's decision (see the neurite-outgrowth assay), except for facts that
need no threshold (no cells, no neurites), which the field analysis flags.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage as ndi


def focus_score(image: np.ndarray) -> float:
    """Normalised variance of the Laplacian (higher = sharper).

    The Laplacian of the lightly smoothed image is divided by the mean
    intensity so that scores of fields with different brightness compare;
    compare a field with the median of its plate, not with a fixed value.

    References
    ----------
    Pech-Pacheco J.L. et al. (2000) Diatom autofocusing in brightfield
    microscopy: a comparative study. Proc. ICPR 3:314-317.

    """
    img = np.asarray(image, dtype=np.float32)
    lap = ndi.laplace(ndi.gaussian_filter(img, 1.0))
    mean = float(np.mean(np.abs(img)))
    if mean <= 0:
        return 0.0
    return float(np.var(lap) / mean ** 2)


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
