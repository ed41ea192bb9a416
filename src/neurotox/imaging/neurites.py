"""Neurite enhancement scaled to the neurite width, and hysteresis thresholding.

Neurites are thin bright ridges a known width across (a protocol parameter in
µm). Everything markedly wider is something else: a soma, a non-neuronal
cell, a clump of debris. The detection therefore works in two steps:

1. **Thin structure only.** A grey opening with an octagon about
   ``wide_width`` pixels across keeps the structures into which the octagon
   fits (cell bodies, flat cells, debris clumps) and removes the thin ones;
   subtracting it (a white top-hat) leaves neurites, including those running
   over a cell, and removes the bodies *with their outlines*: an outline is
   not a ridge in the top-hat, so it is not traced.
2. **Ridge filter at the neurite scale.** The Hessian ridge response of the
   top-hat at one scale matched to the neurite width, thresholded with
   hysteresis in units of the response that white pixel noise of the field's
   noise level gives (so an empty field stays empty however bright its cells).

The wide structures are returned too: where a body is at least half as bright
as the smoothed image at the same place (its full width at half maximum is
wider than the octagon), it is a candidate soma (:mod:`neurotox.imaging.somata`).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import ndimage as ndi

from neurotox.imaging.compiled import cross_extreme, gaussian, grow_above, ridge_response
from neurotox.imaging.preprocess import block_mean, box_extreme, estimate_noise, upsample_blocks

#: A wide structure must be brighter than the background by this many pixel-noise sigmas.
WIDE_CONTRAST = 3.0
#: ... and keep at least this fraction of the smoothed brightness after the opening
#: (its full width at half maximum is wider than the octagon).
WIDE_FRACTION = 0.5
#: The opening runs on a block-averaged copy when the octagon is wider than this (pixels).
OPENING_MAX_PX = 12


def ridge_filter(image: np.ndarray, *, sigmas: Sequence[float],
                 blob_penalty: float = 0.5) -> np.ndarray:
    """Scale-normalised bright-ridge response, maximum over ``sigmas``.

    Parameters
    ----------
    image
        2-D image (``float32``), bright neurites on a dark background.
    sigmas
        Gaussian scales in pixels (about half the neurite widths to detect).
    blob_penalty
        Weight of the second eigenvalue subtracted from the first; 0 gives
        a plain largest-curvature filter, 1 suppresses round blobs fully
        (and weakens crossings).

    Returns
    -------
    numpy.ndarray
        ``float32`` response >= 0.

    References
    ----------
    Sato Y. et al. (1998) Three-dimensional multi-scale line filter for
    segmentation and visualization of curvilinear structures in medical
    images. Med Image Anal 2:143-168.

    """
    img = np.asarray(image, dtype=np.float32)
    out = np.zeros(img.shape, np.float32)
    for s in sigmas:
        ridge_response(gaussian(img, s), scale=s, blob_penalty=blob_penalty, out=out)
    return out


def neurite_scale(width: float) -> float:
    """Gaussian scale (pixels) of the ridge filter for neurites ``width`` pixels wide."""
    return max(0.8, width / 2.5)


def _presmooth(width: float) -> float:
    """Noise-suppressing Gaussian (pixels) applied before the opening."""
    return max(0.7, width / 2.5)


def neurite_scales(width: float, max_width: float | None = None) -> tuple[float, ...]:
    """Ridge-filter scales (pixels): the neurite width, and the widest neurites when wider."""
    scales = (neurite_scale(width),)
    if max_width is not None and max_width > width * 1.2:
        scales += (neurite_scale(max_width),)
    return scales


@functools.cache
def _white_noise_ridge(presmooth: float, sigmas: tuple[float, ...],
                       blob_penalty: float) -> tuple[float, float]:
    """Median and standard deviation of the ridge response to unit white noise."""
    noise = np.random.default_rng(0).normal(size=(256, 256)).astype(np.float32)
    resp = ridge_filter(gaussian(noise, presmooth), sigmas=sigmas,
                        blob_penalty=blob_penalty)[16:-16, 16:-16]
    return float(np.median(resp)), float(np.std(resp))


def ridge_thresholds(noise: float, *, width: float, high: float, low: float,
                     blob_penalty: float = 0.5,
                     max_width: float | None = None) -> tuple[float, float]:
    """Hysteresis thresholds (low, high): median + k sigma of the white-noise ridge response.

    ``noise`` is the pixel noise sigma of the image; ``high`` and ``low`` are
    in standard deviations of the ridge response that such noise alone gives
    (with the same scales, :func:`neurite_scales`).
    """
    m0, s0 = _white_noise_ridge(_presmooth(width), neurite_scales(width, max_width),
                                blob_penalty)
    return noise * (m0 + low * s0), noise * (m0 + high * s0)


def grey_opening_octagon(image: np.ndarray, *, width: float) -> np.ndarray:
    """Grey opening with an octagon about ``width`` pixels across.

    Wide octagons run on a block-averaged copy (at most
    :data:`OPENING_MAX_PX` across there) and are interpolated back: the
    opening only has to tell bodies from neurites, not trace their edges to
    the pixel.
    """
    from skimage.morphology import octagon

    img = np.asarray(image, dtype=np.float32)
    factor = max(1, int(np.ceil(width / OPENING_MAX_PX)))
    small = block_mean(img, factor) if factor > 1 else img
    w = max(1.0, width / factor)
    # octagon(m, n): sides m (odd, for the fast decomposition), diagonal steps n,
    # width m + 2 n
    n = max(0, int(round(w / 3.4)))
    m = max(1, 2 * int(round((w - 2 * n - 1) / 2)) + 1)
    footprints = octagon(m, n, decomposition="sequence")
    opened = _grey(_grey(small, footprints, np.minimum), footprints, np.maximum)
    if factor == 1:
        return opened
    return np.minimum(upsample_blocks(opened, factor, img.shape), img)


def ridge_sigmas(response: np.ndarray, noise: float, *, width: float,
                 blob_penalty: float = 0.5, max_width: float | None = None) -> np.ndarray:
    """Ridge response in the units of :func:`ridge_thresholds` (sigmas of the noise response)."""
    m0, s0 = _white_noise_ridge(_presmooth(width), neurite_scales(width, max_width),
                                blob_penalty)
    return (np.asarray(response, np.float32) / max(noise, 1e-12) - m0) / s0


@dataclass
class NeuriteDetection:
    """Neurite mask and what it was made from.

    Attributes
    ----------
    mask
        Boolean neurite mask (thin bright ridges).
    wide
        Boolean mask of wide bright structures (candidate somata, flat cells,
        debris clumps); their outlines are not in ``mask``.
    response
        Ridge response of the thin part (for overlays).

    """

    mask: np.ndarray
    wide: np.ndarray
    response: np.ndarray


def detect_neurites(image: np.ndarray, *, width: float, wide_width: float,
                    high: float = 8.0, low: float = 3.0, noise: float | None = None,
                    min_contrast: float = 0.0, blob_penalty: float = 0.5,
                    max_width: float | None = None) -> NeuriteDetection:
    """Neurite mask of a background-corrected neurite channel.

    Parameters
    ----------
    image
        Background-corrected neurite channel.
    width
        Typical neurite width in pixels (sets the ridge scale).
    max_width
        Widest neurites (pixels, e.g. proximal dendrites); a second ridge
        scale is added when markedly wider than ``width``. None: one scale.
    wide_width
        Structures at least this wide (pixels, full width at half maximum)
        are bodies, not neurites.
    high, low
        Hysteresis thresholds in standard deviations of the ridge response
        to the field's white pixel noise (:func:`ridge_thresholds`).
    noise
        Pixel noise sigma of the raw image (:func:`estimate_noise` of the
        image before background correction, which keeps its grey-level step);
        estimated from ``image`` when None.
    min_contrast
        Neurite pixels must also be brighter than the background by this many
        ``noise`` sigmas (after smoothing); 0 turns the test off. Use 2-3 for
        dense, hazy fields (axon bundles, beaded degenerating axons).
    blob_penalty
        See :func:`ridge_filter`.

    Returns
    -------
    NeuriteDetection
        Mask, wide structures and ridge response.

    """
    img = np.asarray(image, dtype=np.float32)
    if noise is None:
        noise = estimate_noise(img)
    smoothed = gaussian(img, _presmooth(width))
    opened = grey_opening_octagon(smoothed, width=wide_width)
    wide = (opened > WIDE_CONTRAST * noise) & (opened >= WIDE_FRACTION * smoothed)
    response = ridge_filter(smoothed - opened, sigmas=neurite_scales(width, max_width),
                            blob_penalty=blob_penalty)
    t_low, t_high = ridge_thresholds(noise, width=width, high=high, low=low,
                                     blob_penalty=blob_penalty, max_width=max_width)
    mask = hysteresis(response, t_low, t_high)
    if min_contrast > 0:
        mask &= smoothed > min_contrast * noise
    return NeuriteDetection(mask, wide, response)


def hysteresis(image: np.ndarray, low: float, high: float) -> np.ndarray:
    """Pixels above ``low`` (at most ``high``) connected to one above ``high``.

    The result of scikit-image's ``apply_hysteresis_threshold`` (4-connected
    pieces above ``low``), grown from the pixels above ``high`` instead of
    labelling every piece of the image; 2-D ``float32`` images run compiled.
    """
    img = np.asarray(image)
    low = min(low, high)
    if img.ndim == 2 and img.dtype == np.float32:
        # compared in the type NumPy would use (a Python float against float32: float32)
        kind = np.result_type(img, low, high).type
        return grow_above(img, kind(low), kind(high))
    labels, n = ndi.label(img > low)
    connected = np.zeros(n + 1, bool)
    connected[labels[img > high]] = True
    return connected[labels]


_CROSS = np.array([[0, 1, 0], [1, 1, 1], [0, 1, 0]], bool)


def _grey(image: np.ndarray, footprints, op) -> np.ndarray:
    """Grey erosion (``op`` = np.minimum) or dilation (np.maximum) by a footprint sequence.

    The values of scikit-image's ``erosion`` / ``dilation`` (mode ``reflect``)
    with the same decomposed footprint, faster: erosions commute, so the
    sequence's rectangles are merged into one separable filter, and 3 x 3
    crosses are minima (maxima) of shifted copies.
    """
    size = np.ones(2, int)
    crosses, other = 0, []
    for fp, reps in footprints:
        fp = np.asarray(fp, bool)
        if fp.all():
            size += (np.array(fp.shape) - 1) * reps
        elif np.array_equal(fp, _CROSS):
            crosses += reps
        else:
            other.append((fp, reps))
    erode = op is np.minimum
    out = box_extreme(image, tuple(size), op)
    for _ in range(crosses):                          # borders reflected, as ndimage's
        out = cross_extreme(out, minimum=erode)
    for fp, reps in other:
        for _ in range(reps):
            out = (ndi.grey_erosion if erode else ndi.grey_dilation)(out, footprint=fp,
                                                                      mode="reflect")
    return out
