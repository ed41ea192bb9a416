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
#: Below this many grey levels the MAD of whole-number differences is read between the
#: levels (:func:`estimate_noise`).
FEW_LEVELS = 3


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
    MAD-sigma divided by sqrt(2) estimates white noise. The differences of
    integer images are whole numbers of grey levels, so their MAD is too:
    where it is under :data:`FEW_LEVELS` levels that rounding is systematic
    (any spread from about 0.7 to 1.5 levels reads 1, so a 16-bit field saved
    as 8 bit read a quarter less noise and half again as much neurite), and
    the MAD is read between the levels instead (:func:`grouped_mad_sigma`);
    above it the rounding is a random error of at most half a level, as
    before. Correlated noise (JPEG, binned cameras) is underestimated. The
    estimate is never below one grey level of the data as saved (the spacing
    of the levels the image uses, :func:`level_spacing`), so that clipped or
    rescaled images (a black background of zeros, 8-bit data
    stretched to 16 bit) do not report zero noise, and the rounding and
    compression artefacts of 8-bit exports (JPEG specks of one to three grey
    levels on a clipped background) are not read as structure.

    """
    raw = np.asarray(image)[::step]
    img = raw.astype(np.float32, copy=False)
    if img.shape[1] < 2:
        return 0.0
    level = grey_level_step(raw)
    diffs = np.diff(img, axis=1)
    sigma = robust_sigma(diffs)
    if level > 0 and sigma < FEW_LEVELS * _MAD_TO_SIGMA * level:
        sigma = grouped_mad_sigma(diffs, level)
    return max(sigma / np.sqrt(2.0), level_spacing(raw, level))


def level_spacing(image: np.ndarray, step: float) -> float:
    """The spacing of the grey levels the bulk of the image uses (1st to 99th percentile).

    One grey level of the data as saved: ``step`` for an image using every
    level, more for one stretched from fewer levels (8-bit data saved as 16 bit
    and stretched again: 193 levels over 255 are 1.33 levels apart). The noise
    estimate is never below it (:func:`estimate_noise`).
    """
    if step <= 0:
        return 0.0
    if image.dtype in (np.uint8, np.uint16):     # a histogram instead of a sort
        from neurotox.imaging.compiled import bincount

        counts = bincount(image)
        cum = np.cumsum(counts)
        lo, hi = (_sorted_value(cum, q) for q in (0.01, 0.99))
        levels = np.flatnonzero(counts)
        used = levels[(levels >= lo) & (levels <= hi)]
    else:
        lo, hi = np.percentile(image, [1, 99])
        used = np.unique(image[(image >= lo) & (image <= hi)])
    if len(used) < 2:
        return float(step)
    return max(float(step), float(used[-1] - used[0]) / (len(used) - 1))


def _sorted_value(cum: np.ndarray, q: float) -> float:
    """``np.percentile(values, 100 q)`` (linear) from the cumulative counts of integer values."""
    n = int(cum[-1])
    rank = (n - 1) * q
    k = int(np.floor(rank))
    below = float(np.searchsorted(cum, k, side="right"))
    above = float(np.searchsorted(cum, min(k + 1, n - 1), side="right"))
    return below + (rank - k) * (above - below)


def grouped_mad_sigma(values: np.ndarray, step: float) -> float:
    """MAD-sigma of values that are whole multiples of ``step``, read between the levels.

    Each level stands for the values that round to it, spread evenly over
    one step (the grouped-data median), so that the MAD of rounded data is
    not itself rounded to a level. Values off the grid (``step`` 0, float
    data) get the plain MAD (:func:`robust_sigma`).
    """
    v = np.asarray(values, dtype=np.float32).ravel()
    if v.size > 1 << 18:
        v = v[:: v.size >> 18]
    if v.size == 0 or step <= 0:
        return robust_sigma(v)
    dev = np.abs(v / step - np.rint(np.median(v) / step))
    k = np.rint(dev)
    if np.abs(dev - k).max() > 1e-3:
        return robust_sigma(v)
    cdf = np.cumsum(np.bincount(k.astype(np.int64))) / k.size
    # level 0 holds |x| < step/2, level j the band (j - 1/2, j + 1/2) steps
    edges = np.concatenate([[0.0], np.arange(len(cdf)) + 0.5]) * step
    return float(_MAD_TO_SIGMA * np.interp(0.5, np.concatenate([[0.0], cdf]), edges))


def grey_level_step(image: np.ndarray) -> float:
    """Smallest difference between distinct grey levels of ``image`` (0 if constant)."""
    sample = np.asarray(image)[::3, ::3]
    if sample.dtype in (np.uint8, np.uint16):
        from neurotox.imaging.compiled import bincount

        levels = np.flatnonzero(bincount(sample))     # sorted, no sort needed
    else:
        levels = np.unique(sample)
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
    small = block_mean(img, factor)
    r = max(1, int(round(radius / factor)))
    size = 2 * r + 1
    small = small.astype(np.float64)
    plane = _plane(ndi.grey_opening(small, size=(size, size), mode="reflect"), r)
    bg = ndi.grey_opening(small - plane, size=(size, size), mode="reflect")
    bg = (ndi.uniform_filter(bg, size=size, mode="reflect") + plane).astype(np.float32)
    if factor == 1:
        return bg
    return upsample_blocks(bg, factor, img.shape)


def _plane(opened: np.ndarray, border: int) -> np.ndarray:
    """Least-squares plane through an opened image, fitted away from its border.

    Openings and mirror-padded filters bend a sloping background near the
    image border (the opening falls short by the slope times the radius);
    removing this plane first and adding it back afterwards keeps a linear
    gradient exact up to the border.
    """
    rows, cols = np.indices(opened.shape, dtype=np.float64)
    inner = (slice(border, -border),) * 2 if min(opened.shape) > 4 * border else \
        (slice(None),) * 2
    design = np.stack([np.ones_like(rows[inner]), rows[inner], cols[inner]], axis=-1)
    coef, *_ = np.linalg.lstsq(design.reshape(-1, 3), opened[inner].ravel(), rcond=None)
    return coef[0] + coef[1] * rows + coef[2] * cols


def upsample_blocks(small: np.ndarray, factor: int, shape: tuple[int, ...]) -> np.ndarray:
    """Bilinear upsampling of a block-mean image back onto the full pixel grid.

    Separable: columns are interpolated on the few coarse rows first, then rows.
    """
    r0, r1, fr = _axis_weights(shape[0], factor, small.shape[0])
    c0, c1, fc = _axis_weights(shape[1], factor, small.shape[1])
    # a + f (b - a): exact where neighbouring blocks are equal (flat background); the
    # differences b - a are taken on the coarse grid (r1 = r0 + 1 or r0) and gathered
    by_col = _step(small, c0, c1, axis=1)
    by_col *= fc[None, :]
    by_col += np.take(small, c0, axis=1)
    if by_col.dtype == np.float32:
        from neurotox.imaging.compiled import interpolate_rows

        return interpolate_rows(by_col, r0, r1, fr)
    out = _step(by_col, r0, r1, axis=0)
    out *= fr[:, None]
    out += np.take(by_col, r0, axis=0)
    return out.astype(np.float32, copy=False)


def _step(a: np.ndarray, lo: np.ndarray, hi: np.ndarray, *, axis: int) -> np.ndarray:
    """``a[hi] - a[lo]`` along ``axis`` (``hi``: ``lo`` or ``lo + 1``), from coarse differences."""
    diff = np.diff(a, axis=axis, append=np.take(a, [-1], axis=axis))  # last: a - a = 0
    out = np.take(diff, lo, axis=axis)
    if not np.array_equal(hi, lo + 1):
        out[(slice(None),) * axis + (hi == lo,)] = 0
    return out


def _axis_weights(n: int, factor: int, n_small: int) -> tuple[np.ndarray, np.ndarray,
                                                              np.ndarray]:
    pos = (np.arange(n, dtype=np.float32) - (factor - 1) / 2) / factor
    if n_small < 2:
        zero = np.zeros(n, np.intp)
        return zero, zero, np.zeros(n, np.float32)
    # beyond the outermost block centres: linear extrapolation of the last two blocks
    lo = np.clip(np.floor(pos), 0, n_small - 2).astype(np.intp)
    return lo, lo + 1, (pos - lo).astype(np.float32)


def block_mean(img: np.ndarray, factor: int) -> np.ndarray:
    """Mean of ``factor`` x ``factor`` blocks.

    Trailing rows/columns that do not fill a block are dropped;
    :func:`upsample_blocks` extrapolates over them.
    """
    if factor == 1:
        return img
    rows, cols = (img.shape[0] // factor) * factor, (img.shape[1] // factor) * factor
    if rows == 0 or cols == 0:
        return img
    if factor < 8:
        from neurotox.imaging import compiled

        return compiled.block_mean(img[:rows, :cols], factor)
    view = img[:rows, :cols].reshape(rows // factor, factor, cols // factor, factor)
    return view.mean(axis=(1, 3), dtype=np.float32)


def box_extreme(image: np.ndarray, size: int | tuple[int, int], op) -> np.ndarray:
    """Minimum (``op=np.minimum``) or maximum (``np.maximum``) over a centred box of odd ``size``.

    The values of ``ndi.minimum_filter`` / ``ndi.maximum_filter`` with mode
    ``reflect``, computed per axis by doubling windows (a window of ``2 w``
    is the extreme of two of ``w``; any size is the extreme of two
    overlapping power-of-two windows): a few whole-array operations instead
    of a pass per pixel and window element.
    """
    sizes = (size,) * image.ndim if np.isscalar(size) else tuple(size)
    out = np.asarray(image)
    for axis, n in enumerate(sizes):
        if n <= 1:
            continue
        if n % 2 == 0 or n // 2 >= out.shape[axis]:
            filt = ndi.minimum_filter1d if op is np.minimum else ndi.maximum_filter1d
            out = filt(out, n, axis=axis, mode="reflect")
        elif out.dtype == bool and out.ndim == 2:
            out = _bool_window(out, n, axis, op)
        else:
            out = _window_extreme(out, n, axis, op)
    return out


def _bool_window(mask: np.ndarray, size: int, axis: int, op) -> np.ndarray:
    """Boolean maximum (any) or minimum (all: not any of the complement) along one axis."""
    from neurotox.imaging.compiled import box_any

    if op is np.maximum:
        return box_any(mask, size, axis)
    return ~box_any(~mask, size, axis)


def _window_extreme(a: np.ndarray, size: int, axis: int, op) -> np.ndarray:
    half = size // 2
    pad = [(0, 0)] * a.ndim
    pad[axis] = (half, half)
    cur = np.pad(a, pad, mode="symmetric")          # = ndimage's "reflect"

    def part(x: np.ndarray, start: int, length: int) -> np.ndarray:
        index = [slice(None)] * x.ndim
        index[axis] = slice(start, start + length)
        return x[tuple(index)]

    width = 1                                        # cur[i] = extreme of padded[i:i + width]
    while 2 * width <= size:
        length = cur.shape[axis] - width
        cur = op(part(cur, 0, length), part(cur, width, length))
        width *= 2
    n = a.shape[axis]
    return op(part(cur, 0, n), part(cur, size - width, n))


def fill_holes(mask: np.ndarray) -> np.ndarray:
    """Boolean mask with its holes filled (same result as ``ndi.binary_fill_holes``).

    A hole is background that no 4-connected path of background joins to the
    image border. One labelling of the background instead of the iterated
    dilation scipy uses (several times faster on large, sparse fields).
    """
    mask = np.asarray(mask, bool)
    if mask.ndim != 2 or min(mask.shape) == 0:
        return ndi.binary_fill_holes(mask)
    background, n = ndi.label(~mask)
    if n == 0:
        return mask.copy()
    outside = np.zeros(n + 1, bool)
    for edge in (background[0], background[-1], background[:, 0], background[:, -1]):
        outside[edge] = True
    outside[0] = False
    from neurotox.imaging.compiled import lookup

    return lookup(~outside, background)


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


def unpadded_box(image: np.ndarray, *, min_width: int = 2) -> tuple[slice, slice]:
    """The rectangle of ``image`` inside constant padding bands at its edges.

    Stitching, registration and drift correction pad a field with whole rows
    or columns of one value (0, or the type's minimum) that no pixel of the
    image itself takes. Analysed as they are, the step from the band to the
    camera's background is a bright edge along the whole field (a column of
    false nuclei). A band is a run of whole edge rows (columns), at least
    ``min_width`` wide, holding only the image's lowest value, when that value
    occurs nowhere else. Without bands: the whole image.
    """
    img = np.asarray(image)
    whole = (slice(0, img.shape[0]), slice(0, img.shape[1])) if img.ndim == 2 else ()
    if img.ndim != 2 or img.size == 0:
        return whole
    low = img.min()
    if not any((edge == low).all() for edge in (img[0], img[-1], img[:, 0], img[:, -1])):
        return whole                                    # the common case, at once
    edges = []
    for axis in (0, 1):
        full = np.all(img == low, axis=1 - axis)        # whole rows (axis 0) or columns
        if full.all():
            return whole
        widths = [int(np.argmin(run)) for run in (full, full[::-1])]
        edges.append([w if w >= min_width else 0 for w in widths])
    box = tuple(slice(a, n - b) for (a, b), n in zip(edges, img.shape, strict=True))
    if box == whole or np.any(img[box] == low):
        return whole
    return box


def fill_padding(image: np.ndarray, *, min_pixels: int = 64) -> tuple[np.ndarray, int]:
    """Padding of no-data pixels that is not a whole band, set to the image's lowest value.

    A field rotated or registered onto a reference has wedges of one value (0)
    in its corners that no other pixel takes: regions of the image's lowest
    value, touching the border, at least ``min_pixels`` together. They are
    set to the lowest value of the rest of the image, as NaN pixels are
    (:func:`neurotox.io.plates.read_plane_masked`), so the step from them to
    the camera's background is no brighter than its noise. Whole bands are
    better cropped (:func:`unpadded_box`).

    Returns
    -------
    image : numpy.ndarray
        ``image`` unchanged, or a copy with the padding filled.
    n_pixels : int
        Pixels filled.

    """
    img = np.asarray(image)
    if img.ndim != 2 or img.size == 0:
        return img, 0
    low = img.min()
    if not any((edge == low).any() for edge in (img[0], img[-1], img[:, 0], img[:, -1])):
        return img, 0
    at_low = img == low
    labels, _ = ndi.label(at_low)
    border = np.unique(np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]]))
    pad = np.isin(labels, border[border > 0])
    n = int(pad.sum())
    if n < min_pixels or n == img.size or (at_low & ~pad).any():
        return img, 0
    return np.where(pad, img[~pad].min(), img).astype(img.dtype), n
