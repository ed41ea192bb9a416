"""Intensity normalisation, background/illumination correction and noise estimates.

Array contract of :mod:`neurotox.imaging`: images are 2-D arrays indexed
(row, column); integer images keep their grey values, everything is computed in
``float32``; distances passed to these functions are in pixels unless the name
ends in ``_um``.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage as ndi

_MAD_TO_SIGMA = 1.4826


def as_float(image: np.ndarray) -> np.ndarray:
    """Return a 2-D ``float32`` copy of ``image`` (grey values unchanged).

    Raises
    ------
    ValueError
        The image is not 2-D.

    """
    image = np.asarray(image)
    if image.ndim != 2:
        raise ValueError(f"expected a 2-D image (row, column), found shape {image.shape}")
    return image.astype(np.float32, copy=True)


def robust_sigma(values: np.ndarray) -> float:
    """Standard deviation estimated from the median absolute deviation."""
    values = np.asarray(values, dtype=np.float32).ravel()
    if values.size > 1 << 18:
        values = values[:: values.size >> 18]
    if values.size == 0:
        return 0.0
    med = np.median(values)
    return float(_MAD_TO_SIGMA * np.median(np.abs(values - med)))


def estimate_noise(image: np.ndarray, *, step: int = 4) -> float:
    """Pixel noise sigma from neighbour differences (robust to sparse structure).

    Parameters
    ----------
    image
        2-D image.
    step
        Use every ``step``-th row, for speed on large fields.

    Notes
    -----
    Differences of horizontally adjacent pixels cancel smooth structure; their
    MAD-sigma divided by sqrt(2) estimates white noise. Correlated noise (JPEG,
    binned cameras) is underestimated. The estimate is never below the
    quantisation noise (step / sqrt(12)) of the grey levels present, so that
    clipped or rescaled images (a black background of zeros, 8-bit data
    stretched to 16 bit) do not report zero noise.

    """
    img = np.asarray(image, dtype=np.float32)[::step]
    if img.shape[1] < 2:
        return 0.0
    sigma = robust_sigma(np.diff(img, axis=1)) / np.sqrt(2.0)
    return max(sigma, grey_level_step(img) / np.sqrt(12.0))


def grey_level_step(image: np.ndarray) -> float:
    """Smallest difference between distinct grey levels of ``image`` (0 if constant)."""
    levels = np.unique(np.asarray(image)[::3, ::3])
    if len(levels) < 2:
        return 0.0
    return float(np.min(np.diff(levels)))


def estimate_background(image: np.ndarray, *, radius: float) -> np.ndarray:
    """Smooth background under objects smaller than ``radius`` pixels.

    A grey opening (minimum then maximum filter) on a block-averaged copy removes
    every object narrower than the structuring element; a mean filter smooths
    the result, which is interpolated back to full size.

    Parameters
    ----------
    image
        2-D image.
    radius
        Half-width (pixels) of the largest object that must not leak into the
        background; use more than a cell body's radius.

    Returns
    -------
    numpy.ndarray
        ``float32`` background of the same shape.

    """
    img = np.asarray(image, dtype=np.float32)
    factor = int(max(1, radius // 6))
    small = _block_mean(img, factor)
    r = max(1, int(round(radius / factor)))
    size = 2 * r + 1
    bg = ndi.grey_opening(small, size=(size, size), mode="reflect")
    bg = ndi.uniform_filter(bg, size=size, mode="reflect")
    if factor == 1:
        return bg
    return _upsample(bg, factor, img.shape)


def _upsample(small: np.ndarray, factor: int, shape: tuple[int, ...]) -> np.ndarray:
    """Bilinear upsampling of a block-mean image back onto the full pixel grid.

    Separable: columns are interpolated on the few coarse rows first, then rows.
    """
    r0, r1, fr = _axis_weights(shape[0], factor, small.shape[0])
    c0, c1, fc = _axis_weights(shape[1], factor, small.shape[1])
    by_col = small[:, c0] * (1 - fc)[None, :] + small[:, c1] * fc[None, :]
    return (by_col[r0] * (1 - fr)[:, None] + by_col[r1] * fr[:, None]).astype(np.float32)


def _axis_weights(n: int, factor: int, n_small: int) -> tuple[np.ndarray, np.ndarray,
                                                              np.ndarray]:
    pos = np.clip((np.arange(n, dtype=np.float32) - (factor - 1) / 2) / factor, 0, n_small - 1)
    lo = np.floor(pos).astype(np.intp)
    hi = np.minimum(lo + 1, n_small - 1)
    return lo, hi, (pos - lo).astype(np.float32)


def _block_mean(img: np.ndarray, factor: int) -> np.ndarray:
    if factor == 1:
        return img
    rows, cols = (img.shape[0] // factor) * factor, (img.shape[1] // factor) * factor
    if rows == 0 or cols == 0:
        return img
    view = img[:rows, :cols].reshape(rows // factor, factor, cols // factor, factor)
    return view.mean(axis=(1, 3), dtype=np.float32)


def correct_background(image: np.ndarray, *, radius: float) -> np.ndarray:
    """Subtract a smooth background (uneven illumination, offset) from an image.

    Parameters
    ----------
    image
        2-D image.
    radius
        See :func:`estimate_background`.

    Returns
    -------
    numpy.ndarray
        ``float32`` image whose background is close to 0.

    """
    img = as_float(image)
    return img - estimate_background(img, radius=radius)
