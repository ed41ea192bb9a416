"""Whether a channel plane holds an image at all (blank, constant, empty colour plane).

Array-only check used before a plate is analysed (:mod:`neurotox.assays.neurite.plate`):
an unused colour plane of a merge or a constant image would otherwise be
analysed as nuclei or neurites without a word.
"""

from __future__ import annotations

import numpy as np

#: In an 8-bit colour merge, a plane whose signal spans less than this fraction of
#: the grey range is empty (an unused colour: JPEG colour leakage at most).
MERGE_EMPTY_FRACTION = 0.10


def blank_reason(plane: np.ndarray, *, merge: bool = False) -> str | None:
    """Why a plane holds no image (constant, or nothing above its own noise), else None.

    Blank: all pixels equal; or the 99.9th percentile is within 2 grey steps
    (and 4 noise sigmas: pure noise reaches 3.1) of the median, i.e. fewer
    than 0.1 % of the pixels carry any signal (an unused plane, with at most a
    burned-in scale bar).
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


def binary_values(plane: np.ndarray) -> tuple[float, float] | None:
    """The two grey values of a plane that holds only two (a mask, a thresholded image), else None.

    Fluorescence has noise: no camera image holds exactly two grey values.
    Large planes are judged on every second pixel of every second row.
    """
    img = np.asarray(plane)
    sample = img[::2, ::2] if img.size > 1 << 20 else img
    lo, hi = sample.min(), sample.max()
    if lo == hi or np.count_nonzero((sample != lo) & (sample != hi)):
        return None
    return float(lo), float(hi)


def thinness(plane: np.ndarray) -> float:
    """Skeleton pixels per foreground pixel: about 1/width of what the plane shows.

    Foreground: smoothed (sigma 1) more than 6 noise sigmas above the median.
    Nuclei (compact discs 15-30 px across) give about 0.01-0.05; neurites
    (lines a few px wide) 0.07-0.2. 0 when nothing stands out.
    """
    from scipy import ndimage as ndi
    from skimage.morphology import skeletonize

    from neurotox.imaging.preprocess import estimate_noise

    img = np.asarray(plane, np.float32)
    smoothed = ndi.gaussian_filter(img, 1.0)
    fg = smoothed > float(np.median(smoothed)) + 6 * max(estimate_noise(img), 1e-6)
    area = int(fg.sum())
    return float(skeletonize(fg).sum()) / area if area else 0.0


def swapped_channels(nuclei: np.ndarray, neurites: np.ndarray) -> bool:
    """Whether the nuclear plane shows thinner structures than the neurite plane.

    In correctly assigned fields the neurite plane is 2-10x "thinner" (real
    SH-SY5Y merges, N1E-115 time-lapse, synthetic fields), so equal or reversed
    thinness means the two channels are most likely swapped.
    """
    tn, tr = thinness(nuclei), thinness(neurites)
    return tn > 0 and tr > 0 and tn >= tr
