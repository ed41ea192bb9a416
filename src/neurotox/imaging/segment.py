"""Nuclei and cell-body segmentation.

Nuclei: objects above a noise floor of the smoothed, background-corrected
nuclear channel, each outlined at half of its own peak (dim and bright nuclei
alike), touching nuclei split by a watershed on the distance transform, then a
size filter. Cell bodies: the thick bright part of
the neurite channel (thin neurites removed by an opening), split between
nuclei by a seeded watershed and kept within a margin of each nucleus.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage as ndi
from skimage.feature import peak_local_max
from skimage.filters import threshold_otsu
from skimage.measure import label
from skimage.segmentation import relabel_sequential

from neurotox.imaging.compiled import (
    above_own_level,
    bincount,
    gaussian,
    keep_labels,
    labelled_values,
    lookup,
    object_distance_maxima,
    one_piece,
    watershed,
)
from neurotox.imaging.preprocess import box_extreme, fill_holes, robust_sigma

#: Minimum threshold, in robust noise sigmas of the smoothed image.
NOISE_FLOOR = 6.0


@dataclass
class NucleiResult:
    """Labelled nuclei and what the size filter rejected.

    Attributes
    ----------
    labels
        ``int32`` label image, 0 = background, 1..n nuclei.
    n_rejected_small, n_rejected_large
        Objects removed as too small (debris) or too large (clumps, aggregates).
    rejected_area
        Pixel area of the rejected objects.
    foreground_area
        Pixel area above threshold before the size filter.
    threshold
        Threshold used on the smoothed image.

    """

    labels: np.ndarray
    n_rejected_small: int = 0
    n_rejected_large: int = 0
    rejected_area: int = 0
    foreground_area: int = 0
    threshold: float = float("nan")

    @property
    def count(self) -> int:
        """Number of accepted nuclei."""
        return int(self.labels.max()) if self.labels.size else 0


def foreground_threshold(smoothed: np.ndarray, *, factor: float = 1.0,
                         floor: float | None = None) -> float:
    """Otsu threshold times ``factor``, never below the noise floor.

    The noise floor is the median plus :data:`NOISE_FLOOR` robust sigmas of the
    image (:func:`noise_floor`; pass ``floor`` when already known), which keeps
    empty fields empty instead of splitting noise in two.
    """
    sample = smoothed[::4, ::4]
    if floor is None:
        floor = noise_floor(sample)[1]
    if np.ptp(sample) <= 0:
        return floor
    thr = factor * float(threshold_otsu(sample))
    return max(thr, floor)


def noise_floor(sample: np.ndarray) -> tuple[float, float]:
    """Median and noise floor (median + :data:`NOISE_FLOOR` robust sigmas) of a sample."""
    med = float(np.median(sample))
    return med, med + NOISE_FLOOR * max(robust_sigma(sample), 1e-6)


#: Touching nuclei are split on a grid where a typical nucleus is at least this many
#: pixels across: objects imaged with coarser pixels are resampled first (below this
#: size a distance-transform watershed misses the neck between two nuclei).
DECLUMP_DIAMETER = 12.0


def segment_nuclei(image: np.ndarray, *, diameter: float, min_area: float, max_area: float,
                   threshold_factor: float = 0.5) -> NucleiResult:
    """Segment nuclei (each at its own half maximum) and split touching ones.

    Parameters
    ----------
    image
        Background-corrected nuclear channel (``float32``).
    diameter
        Typical nuclear diameter in pixels.
    min_area, max_area
        Accepted nuclear area in pixels.
    threshold_factor
        Fraction of each object's peak height above background at which its
        outline is drawn (0.5 = half maximum).

    Returns
    -------
    NucleiResult
        Labels and size-filter statistics.

    Notes
    -----
    Objects are first found above a noise floor (median + :data:`NOISE_FLOOR`
    robust sigmas); each is then cut at ``threshold_factor`` of its own peak
    (95th percentile). Unlike one global (Otsu) threshold, dim nuclei next to
    bright ones keep their true size, and blur halos do not merge neighbours.
    Touching nuclei are split with a geometry that scales with ``diameter``
    (all at once, :func:`split_all`; object by object on a finer grid when
    nuclei are less than :data:`DECLUMP_DIAMETER` pixels across,
    :func:`split_object`), so the same nuclei are split alike at 0.3 and at
    1.3 µm per pixel.

    """
    sigma = max(0.6, diameter / 12.0)
    smoothed = gaussian(np.asarray(image, dtype=np.float32), sigma)
    med, floor = noise_floor(smoothed[::4, ::4])
    objects = label(smoothed > floor)
    values = _ObjectValues(objects, smoothed)
    objects, n_dim = _drop_dim(objects, smoothed, med=med, floor=floor, min_area=min_area,
                               values=values)
    n_objects = int(objects.max())
    cuts = _object_cuts(smoothed, objects, n_objects, floor=floor, med=med,
                        factor=threshold_factor, values=values)
    cut_mask = fill_holes(above_own_level(smoothed, objects, cuts))     # cuts[0] = +inf
    pieces, n_pieces = label(cut_mask, return_num=True)
    sizes = bincount(pieces, minlength=n_pieces + 1)
    tiny = sizes <= 3
    tiny[0] = True
    if tiny[1:].any():
        pieces = lookup(np.where(tiny, 0, np.arange(len(tiny))).astype(pieces.dtype), pieces)
    if int(np.ceil(DECLUMP_DIAMETER / diameter)) > 1:
        labels = _split_each(smoothed, objects, pieces, cuts, diameter=diameter)
    else:
        labels = split_all(pieces, diameter=diameter)
    result = filter_by_area(labels, min_area=min_area, max_area=max_area)
    result.n_rejected_small += n_dim
    result.foreground_area = int(sizes[~tiny].sum())
    result.threshold = floor
    return result


#: Objects whose peak is below this fraction of the median peak of nucleus-sized
#: objects are not nuclei (faint debris, JPEG artefacts, out-of-focus speckle):
#: the DNA stain of a nucleus varies about two-fold, not three-fold. (At a fifth,
#: faint objects near the noise floor of a dim live-cell nuclear marker came and
#: went between frames of one N1E-115 field: counts 18-23; at 0.3, 16-17.)
DIM_FRACTION = 0.3


class _ObjectValues:
    """Grey values of each labelled object, sorted within the object (one sort for all rules).

    ``values[starts[k]:starts[k] + counts[k]]`` are object ``k``'s values in
    ascending order.
    """

    def __init__(self, objects: np.ndarray, smoothed: np.ndarray):
        lab, val = labelled_values(objects, smoothed)
        self.values = _sorted_by_object(lab, np.asarray(val, np.float32))
        self.counts = bincount(objects)          # the background's count set to 0
        self.counts[0] = 0
        self.starts = np.concatenate([[0], np.cumsum(self.counts)[:-1]])

    def keep(self, keep: np.ndarray) -> None:
        """Keep the objects marked in ``keep`` (index = old label), renumbered in order."""
        take = np.repeat(keep, self.counts)
        self.values = self.values[take]
        self.counts = np.concatenate([[0], self.counts[keep]])
        self.starts = np.concatenate([[0], np.cumsum(self.counts)[:-1]])


def _sorted_by_object(labels: np.ndarray, values: np.ndarray) -> np.ndarray:
    """``values`` (``float32``) sorted by label, then by value: one sort of 64-bit keys.

    The key holds the label in its high half and the value's bits, mapped so
    that unsigned order is numeric order, in its low half (faster than a
    two-key ``lexsort``; equal values need no stable order).
    """
    bits = values.view(np.uint32)
    key = np.where(bits >> 31, ~bits, bits | np.uint32(1 << 31)).astype(np.uint64)
    key |= labels.astype(np.uint64) << np.uint64(32)
    key.sort()
    low = key.astype(np.uint32)                         # the low half
    return np.where(low >> 31, low & np.uint32((1 << 31) - 1), ~low).view(np.float32)


def _drop_dim(objects: np.ndarray, smoothed: np.ndarray, *, med: float,
              floor: float | None = None, min_area: float,
              values: _ObjectValues | None = None) -> tuple[np.ndarray, int]:
    """Remove objects much dimmer than the typical nucleus; return labels and the count removed.

    The typical nucleus is the median peak of the nucleus-sized objects above
    the field's Otsu threshold (:func:`foreground_threshold`). ``values``
    (the objects' sorted values) is updated to the kept objects.
    """
    n = int(objects.max())
    if n == 0:
        return objects, 0
    values = values or _ObjectValues(objects, smoothed)
    area = values.counts[1:]
    peak = values.values[values.starts[1:] + area - 1] - med
    # typical nuclei: nucleus-sized objects that a global (Otsu) threshold would find
    bright = peak + med >= foreground_threshold(smoothed, floor=floor)
    sized = peak[(area >= min_area) & bright]
    if len(sized) < 3:
        return objects, 0
    dim = peak < DIM_FRACTION * float(np.median(sized))
    if not dim.any():
        return objects, 0
    keep = np.concatenate([[False], ~dim])
    values.keep(keep)
    out = keep_labels(objects, keep)
    return out, int(dim.sum())


def _object_cuts(smoothed: np.ndarray, objects: np.ndarray, n: int, *, floor: float,
                 med: float, factor: float, values: _ObjectValues | None = None) -> np.ndarray:
    """Per object (index = label): ``factor`` of its 95th-percentile height above ``med``.

    Never below ``floor``; index 0 (background) is +inf.
    """
    cuts = np.full(n + 1, np.inf, np.float32)
    if n == 0:
        return cuts
    values = values or _ObjectValues(objects, smoothed)
    counts, starts = values.counts, values.starts
    present = counts > 0
    present[0] = False
    # the 95th percentile (nearest rank) of each object's values
    pos = starts[present] + np.floor(0.95 * (counts[present] - 1)).astype(np.int64)
    p95 = values.values[pos]
    cuts[present] = np.maximum(floor, med + factor * (p95 - med))
    cuts[0] = np.inf
    return cuts


def split_all(pieces: np.ndarray, *, diameter: float) -> np.ndarray:
    """Split every labelled object into touching nuclei (distance-transform watershed).

    Same geometry as :func:`split_object` (markers: maxima of the smoothed
    distance transform at least 0.35 diameters apart, above 0.5 px), object by
    object in a box around each (a whole-image distance transform costs more
    than all the boxes on a field of sparse nuclei). The distance transform
    is smoothed exactly as on the whole image (each box reaches far enough
    for every value the smoothing reads); a maximum of one object never
    suppresses one of another. Nuclei are numbered as one search over the
    image numbers its maxima: by height, then raster order; objects without a
    maximum keep their outline and come last.
    """
    shape = pieces.shape
    if not pieces.any():
        return np.zeros(shape, np.int32)
    sigma = max(0.5, diameter / 24)
    reach = int(4.0 * sigma + 0.5)                   # gaussian_filter's kernel radius
    # a pixel within ``reach`` of an object has background within reach * sqrt(2)
    margin = reach + int(np.ceil(reach * np.sqrt(2))) + 1
    min_distance = max(2, int(round(0.35 * diameter)))
    # the distance transform of the original ran on the mask padded by two pixels:
    # boxes reach up to two pixels past the image edge, which is background
    width = shape[1]
    found = []          # (object's pixels as flat indices, watershed ids there)
    peak_obj, peak_local, peak_val, peak_flat = [], [], [], []
    for k, box in enumerate(ndi.find_objects(pieces), start=1):
        if box is None:
            continue
        (r0, r1), (c0, c1) = ((max(b.start - margin, -2), min(b.stop + margin, n + 2))
                              for b, n in zip(box, shape, strict=True))
        dist, own, top = object_distance_maxima(_window(pieces, r0, r1, c0, c1), k,
                                                sigma=sigma, size=2 * min_distance + 1)
        ids, peaks = _split_one(dist, own, top, min_distance)
        rows, cols = np.nonzero(own)
        found.append(((rows + r0) * width + cols + c0, ids[rows, cols]))
        if len(peaks):
            pr, pc = peaks[:, 0], peaks[:, 1]
            peak_obj.append(np.full(len(peaks), len(found) - 1))
            peak_local.append(np.arange(1, len(peaks) + 1))
            peak_val.append(dist[pr, pc])
            peak_flat.append((pr + r0) * width + pc + c0)
    n_peaks = 0
    number = {}
    if peak_val:
        obj, local = np.concatenate(peak_obj), np.concatenate(peak_local)
        order = np.lexsort((np.concatenate(peak_flat), -np.concatenate(peak_val)))
        n_peaks = len(order)
        for rank, i in enumerate(order, start=1):
            number[(int(obj[i]), int(local[i]))] = rank
    out = np.zeros(pieces.size, np.int32)
    extra = n_peaks
    for j, (flat, ids) in enumerate(found):
        lut = np.zeros(int(ids.max()) + 1, np.int32)
        for local_id in range(1, len(lut)):
            lut[local_id] = number[(j, local_id)]
        if (ids == 0).any():                # an object without a maximum keeps its outline
            extra += 1
            lut[0] = extra
        out[flat] = lut[ids]
    return out.reshape(shape)


def _window(image: np.ndarray, r0: int, r1: int, c0: int, c1: int) -> np.ndarray:
    """``image[r0:r1, c0:c1]`` where rows and columns outside the image read 0."""
    n, m = image.shape
    if r0 >= 0 and c0 >= 0 and r1 <= n and c1 <= m:
        return image[r0:r1, c0:c1]
    out = np.zeros((r1 - r0, c1 - c0), image.dtype)
    out[max(-r0, 0):min(n, r1) - r0, max(-c0, 0):min(m, c1) - c0] = \
        image[max(r0, 0):min(n, r1), max(c0, 0):min(m, c1)]
    return out


def _split_one(dist: np.ndarray, own: np.ndarray, top: np.ndarray,
               min_distance: int) -> tuple[np.ndarray, np.ndarray]:
    """Watershed ids (1..m, 0 unreached) of one object and its maxima (row, col), highest first.

    The maxima are those of ``peak_local_max`` (threshold 0.5 px, ``min_distance``);
    ``top``: the plateau maxima of ``dist`` over its box of ``2 min_distance + 1``.
    """
    n_top = int(top.sum())
    if n_top == 0:
        return np.zeros(dist.shape, np.int32), np.zeros((0, 2), np.intp)
    if n_top == 1:
        peaks = np.argwhere(top)
        if one_piece(own):                  # one 4-connected piece: the watershed floods it all
            return own.astype(np.int32), peaks
    else:
        peaks = peak_local_max(dist, min_distance=min_distance, threshold_abs=0.5,
                               exclude_border=False)
    markers = np.zeros(dist.shape, np.int32)
    markers[tuple(peaks.T)] = np.arange(1, len(peaks) + 1, dtype=np.int32)
    return watershed(-dist, markers, mask=own).astype(np.int32), peaks


def _split_each(smoothed: np.ndarray, objects: np.ndarray, pieces: np.ndarray,
                cuts: np.ndarray, *, diameter: float) -> np.ndarray:
    """Split object by object (coarse pixels: each is resampled, see :func:`split_object`)."""
    labels = np.zeros(pieces.shape, np.int32)
    n = 0
    for k, box in enumerate(ndi.find_objects(pieces), start=1):
        if box is None:
            continue
        box = tuple(slice(max(b.start - 2, 0), b.stop + 2) for b in box)
        piece = pieces[box] == k
        cut = float(cuts[int(np.max(objects[box][piece]))])
        split = split_object(smoothed[box], piece, cut=cut, diameter=diameter)
        inside = split > 0
        labels[box][inside] = split[inside] + n
        n += int(split.max())
    return labels


def split_object(smoothed: np.ndarray, mask: np.ndarray, *, cut: float,
                 diameter: float) -> np.ndarray:
    """Split one object into touching nuclei (distance-transform watershed).

    Parameters
    ----------
    smoothed
        Smoothed nuclear image around the object.
    mask
        Boolean mask of the object (same shape).
    cut
        Grey level at which the object was outlined.
    diameter
        Typical nuclear diameter in pixels.

    Returns
    -------
    numpy.ndarray
        ``int32`` labels 1..m inside ``mask`` (m = 1 when nothing is split).

    Notes
    -----
    Markers are maxima of the smoothed distance transform at least 0.35
    nuclear diameters apart (distance smoothing: 1/24 diameter). When nuclei
    are less than :data:`DECLUMP_DIAMETER` pixels across, the object is first
    resampled (bilinear) by an integer factor so that they are not, and
    re-outlined at ``cut``: the neck between two touching nuclei a few pixels
    wide is then resolved as it would be at a finer pixel size. Labels are
    sampled back at the original pixel centres.

    """
    k = max(1, int(np.ceil(DECLUMP_DIAMETER / diameter)))
    fine = _resampled_mask(smoothed, mask, cut, k) if k > 1 else mask
    d = diameter * k
    dist = ndi.distance_transform_edt(np.pad(fine, 2)).astype(np.float32)
    dist = gaussian(dist, max(0.5, d / 24))[2:-2, 2:-2]
    dist[~fine] = 0
    peaks = peak_local_max(dist, min_distance=max(2, int(round(0.35 * d))),
                           labels=fine.astype(np.int32), exclude_border=False)
    if len(peaks) <= 1:
        return mask.astype(np.int32)
    markers = np.zeros(fine.shape, np.int32)
    markers[tuple(peaks.T)] = np.arange(1, len(peaks) + 1, dtype=np.int32)
    split = watershed(-dist, markers, mask=fine)
    if k > 1:
        seeds = np.where(mask, split[k // 2::k, k // 2::k][:mask.shape[0], :mask.shape[1]], 0)
        if not seeds.any():
            return mask.astype(np.int32)
        split = watershed(None, seeds, mask=mask)
        split, _, _ = relabel_sequential(split)
    return split.astype(np.int32)


def _resampled_mask(smoothed: np.ndarray, mask: np.ndarray, cut: float, k: int) -> np.ndarray:
    """Object outlined at ``cut`` on a ``k`` times finer grid (pixel centres aligned)."""
    up = ndi.zoom(smoothed, k, order=1, grid_mode=True, mode="nearest")
    near = ndi.zoom(mask.astype(np.uint8), k, order=0, grid_mode=True, mode="nearest") > 0
    near = ndi.binary_dilation(near, iterations=k)
    return ndi.binary_fill_holes((up > cut) & near)


def open_mask(mask: np.ndarray, radius: int) -> np.ndarray:
    """Binary opening with a square of side ``2 * radius + 1`` (separable, fast)."""
    size = 2 * radius + 1
    m = np.asarray(mask, bool)
    return box_extreme(box_extreme(m, size, np.minimum), size, np.maximum)


def near_objects(labels: np.ndarray, margin: float) -> np.ndarray:
    """Pixels within ``margin`` (chessboard distance, pixels) of a labelled object."""
    size = 2 * int(round(margin)) + 1
    return box_extreme(labels > 0, size, np.maximum)


def filter_by_area(labels: np.ndarray, *, min_area: float, max_area: float) -> NucleiResult:
    """Remove labelled objects outside ``[min_area, max_area]`` and relabel."""
    areas = bincount(labels)
    areas[0] = 0
    small = (areas > 0) & (areas < min_area)
    large = areas > max_area
    drop = small | large
    kept = (areas > 0) & ~drop
    keep = keep_labels(labels, kept)
    return NucleiResult(labels=keep, n_rejected_small=int(small.sum()),
                        n_rejected_large=int(large.sum()), rejected_area=int(areas[drop].sum()))


def segment_cell_bodies(image: np.ndarray, nuclei: np.ndarray, *, neurite_width: float,
                        margin: float) -> np.ndarray:
    """Cell bodies in the neurite channel, seeded by nuclei.

    Parameters
    ----------
    image
        Background-corrected neurite (cytoplasm) channel.
    nuclei
        Nuclear labels; cell ``k`` grows from nucleus ``k``.
    neurite_width
        Typical neurite width (pixels); an opening twice as wide removes neurites.
    margin
        Maximum distance (pixels, chessboard) of a cell-body pixel from its nucleus.

    Returns
    -------
    numpy.ndarray
        ``int32`` labels with the nuclear label numbers; each body contains its nucleus.

    """
    if nuclei.max() == 0:
        return np.zeros(nuclei.shape, np.int32)
    smoothed = gaussian(image, max(1.0, neurite_width / 2))
    fg = smoothed > foreground_threshold(smoothed)
    radius = max(1, int(round(neurite_width * 1.5)))
    fg = open_mask(fg, radius)
    fg = (fg & near_objects(nuclei, margin)) | (nuclei > 0)
    bodies = watershed(-smoothed, nuclei, mask=fg)
    return bodies.astype(np.int32, copy=False)


def somata_without_nuclei(image: np.ndarray, *, min_diameter: float,
                          neurite_width: float) -> np.ndarray:
    """Cell bodies of a single-channel image: bright blobs wider than neurites.

    Used when there is no nuclear channel; the bodies then stand in for nuclei.

    Parameters
    ----------
    image
        Background-corrected neurite channel.
    min_diameter
        Minimum body diameter (pixels); thinner structures are removed by an
        opening of this size.
    neurite_width
        Typical neurite width (pixels), for smoothing.

    Returns
    -------
    numpy.ndarray
        ``int32`` labels.

    """
    smoothed = gaussian(image, max(1.0, neurite_width / 2))
    fg = smoothed > foreground_threshold(smoothed)
    radius = max(1, int(round(min_diameter / 2)))
    fg = open_mask(fg, radius)
    fg = fill_holes(fg)
    labels = label(fg).astype(np.int32)
    return labels
