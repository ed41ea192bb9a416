"""Compiled twins of library image operations: the same values, less time.

:func:`gaussian` gives the values of :func:`scipy.ndimage.gaussian_filter`
(mode ``reflect``), :func:`watershed` those of
:func:`skimage.segmentation.watershed` (no compactness, no watershed lines),
:func:`euclidean_distance` those of :func:`scipy.ndimage.distance_transform_edt`,
:func:`chessboard_distance_at` those of
:func:`scipy.ndimage.distance_transform_cdt` (chessboard) at a few pixels,
:func:`plateau_maxima` those of a comparison with
:func:`scipy.ndimage.maximum_filter` and :func:`one_piece` that of counting
:func:`scipy.ndimage.label`'s pieces,
bit for bit (the unit tests compare them on random and real images), in a
fraction of the time on large fields:

* the Gaussian's first pass (along columns) walks along rows of the array,
  where SciPy's walks down each column (a cache miss per pixel); the sums are
  the same double-precision sums in the same order, rounded to ``float32``
  between the two passes as SciPy rounds them;
* the flooding reads the image and the markers where they are, without the
  ``float64`` copy and the padded arrays scikit-image builds around its heap,
  and keeps the same heap (value, then order of entry; markers in raster
  order), so that ties between equal values resolve in the same order;
* the distance is searched for only where it is needed.

numba compiles the kernels once per machine and caches the machine code
(``NUMBA_CACHE_DIR``, set by :mod:`neurotox.cachedirs`).
"""

from __future__ import annotations

import functools

import numba
import numpy as np
from scipy import ndimage as ndi


def gaussian(image: np.ndarray, sigma: float, *, truncate: float = 4.0) -> np.ndarray:
    """``scipy.ndimage.gaussian_filter(image, sigma, truncate=truncate)`` (mode ``reflect``).

    Two-dimensional ``float32`` images at least as large as the kernel's
    radius run compiled; anything else goes to SciPy.
    """
    img = np.asarray(image)
    radius = int(truncate * float(sigma) + 0.5)
    if img.ndim != 2 or img.dtype != np.float32 or float(sigma) <= 1e-15 or \
            min(img.shape) < max(radius, 1):
        return ndi.gaussian_filter(image, sigma, truncate=truncate)
    half = _half_kernel(sigma, radius)
    out = np.empty(img.shape, np.float32)
    _smooth_columns(np.ascontiguousarray(img), half, out)
    _smooth_rows(out, half)
    return out


@functools.lru_cache(maxsize=64)
def _half_kernel(sigma: float, radius: int) -> np.ndarray:
    """SciPy's kernel, exp(-x^2 / (2 sigma^2)) normalised over x = -radius..radius: x >= 0."""
    x = np.arange(-radius, radius + 1)
    phi = np.exp(-0.5 / (sigma * sigma) * x ** 2)
    phi = phi / phi.sum()
    half = np.ascontiguousarray(phi[radius:], dtype=np.float64)    # centre, then k = 1..radius
    half.flags.writeable = False
    return half


@numba.njit(cache=True, nogil=True)
def _smooth_columns(a, w, out):                   # pragma: no cover - compiled
    """Correlate each column with the symmetric kernel ``w`` (centre first); reflect borders."""
    n, m = a.shape
    r = w.shape[0] - 1
    acc = np.empty(m, np.float64)
    for i in range(n):
        for j in range(m):
            acc[j] = np.float64(a[i, j]) * w[0]
        for k in range(r, 0, -1):                 # SciPy's order: outermost pair first
            lo = i - k if i >= k else k - i - 1
            hi = i + k if i + k < n else 2 * n - i - k - 1
            wk = w[k]
            for j in range(m):
                acc[j] += (np.float64(a[lo, j]) + np.float64(a[hi, j])) * wk
        for j in range(m):
            out[i, j] = np.float32(acc[j])


@numba.njit(cache=True, nogil=True)
def _smooth_rows(a, w):                           # pragma: no cover - compiled
    """Correlate each row of ``a`` in place with the symmetric kernel ``w``; reflect borders."""
    n, m = a.shape
    r = w.shape[0] - 1
    # a float32 line (values exact in double) and a float64 sum: of different types,
    # the two are known not to overlap, which lets the compiler vectorise the inner loop
    line = np.empty(m + 2 * r, np.float32)
    acc = np.empty(m, np.float64)
    for i in range(n):
        line[r:r + m] = a[i]
        for k in range(1, r + 1):
            line[r - k] = a[i, k - 1]
            line[r + m - 1 + k] = a[i, m - k]
        for j in range(m):
            acc[j] = np.float64(line[r + j]) * w[0]
        for k in range(r, 0, -1):
            wk = w[k]
            before, after = line[r - k:r - k + m], line[r + k:r + k + m]
            for j in range(m):
                acc[j] += (np.float64(before[j]) + np.float64(after[j])) * wk
        for j in range(m):
            a[i, j] = np.float32(acc[j])


def ridge_response(smoothed: np.ndarray, *, scale: float, blob_penalty: float,
                   out: np.ndarray) -> None:
    """Raise ``out`` to the scale-normalised ridge response of ``smoothed`` where it is larger.

    Per pixel, the Hessian (central differences; border rows and columns
    repeat their neighbours, cheaper than derivative-of-Gaussian filters and,
    on an image smoothed at sigma >= 0.8 px, equal to them within a few
    percent) has eigenvalues ``l1 <= l2``; the response is
    ``scale^2 (-l1 - blob_penalty max(-l2, 0))``. One pass in ``float32``
    (see :func:`neurotox.imaging.neurites.ridge_filter`).
    """
    _ridge(np.ascontiguousarray(smoothed, dtype=np.float32), np.float32(scale * scale),
           np.float32(blob_penalty), out)


@numba.njit(cache=True, nogil=True)
def _ridge(g, scale2, penalty, out):              # pragma: no cover - compiled
    n, m = g.shape
    for i in range(n):
        up, down = max(i - 1, 0), min(i + 1, n - 1)
        # inner columns without border tests (a loop the compiler can vectorise)
        for j in range(1, m - 1):
            _ridge_at(g, i, j, up, down, j - 1, j + 1, scale2, penalty, out)
        for j in {0, m - 1}:
            _ridge_at(g, i, j, up, down, max(j - 1, 0), min(j + 1, m - 1), scale2, penalty,
                      out)


@numba.njit(cache=True, nogil=True, inline="always")
def _ridge_at(g, i, j, up, down, left, right, scale2, penalty, out):   # pragma: no cover
    two, half, quarter, zero = np.float32(2), np.float32(0.5), np.float32(0.25), np.float32(0)
    two_centre = two * g[i, j]
    hrr = (g[down, j] + g[up, j]) - two_centre
    hcc = (g[i, right] + g[i, left]) - two_centre
    hrc = (((g[down, right] - g[down, left]) - g[up, right]) + g[up, left]) * quarter
    half_trace = (hrr + hcc) * half
    diff = hrr - hcc
    root = np.sqrt(diff * diff * quarter + hrc * hrc)
    l1 = half_trace - root                        # most negative on a bright ridge
    l2 = -(half_trace + root)
    l2 = (l2 if l2 >= zero else zero) * penalty
    resp = (-l1 - l2) * scale2
    if not out[i, j] >= resp:
        out[i, j] = resp


@numba.njit(cache=True, nogil=True)
def _count(flat, counts):                         # pragma: no cover - compiled
    for v in flat:
        counts[v] += 1


def block_mean(image: np.ndarray, factor: int) -> np.ndarray:
    """``image.reshape(r, factor, c, factor).mean(axis=(1, 3), dtype=np.float32)``, ``factor`` < 8.

    NumPy's sums in NumPy's order (along each block row, then over the rows),
    without its slow reduction over two short axes.
    """
    rows, cols = image.shape[0] // factor, image.shape[1] // factor
    out = np.empty((rows, cols), np.float32)
    _block_sums(np.ascontiguousarray(image, dtype=np.float32), factor, out)
    out /= np.float32(factor * factor)
    return out


@numba.njit(cache=True, nogil=True)
def _block_sums(a, f, out):                       # pragma: no cover - compiled
    rows, cols = out.shape
    for r in range(rows):
        for c in range(cols):
            total = np.float32(0)
            for i in range(f):
                row_sum = a[r * f + i, c * f]
                for j in range(1, f):
                    row_sum += a[r * f + i, c * f + j]
                total = row_sum if i == 0 else total + row_sum
            out[r, c] = total


def box_any(mask: np.ndarray, size: int, axis: int) -> np.ndarray:
    """Whether any pixel of a centred window of odd ``size`` along ``axis`` is set.

    The maximum filter of a boolean image along one axis; at the borders the
    window is cut to the image, which for a window shorter than the image is
    what ndimage's ``reflect`` mode gives (the mirrored pixels lie in it already).
    """
    mask = np.ascontiguousarray(mask, dtype=bool)
    out = np.empty(mask.shape, bool)
    (_window_any_down if axis == 0 else _window_any_along)(mask, size // 2, out)
    return out


@numba.njit(cache=True, nogil=True)
def _window_any_along(mask, half, out):          # pragma: no cover - compiled
    """Per row: whether a pixel in columns [j - half, j + half] is set (a running count)."""
    n, m = mask.shape
    for i in range(n):
        count = 0
        for j in range(min(half, m)):
            count += mask[i, j]
        for j in range(m):
            if j + half < m:
                count += mask[i, j + half]
            if j > half:
                count -= mask[i, j - half - 1]
            out[i, j] = count > 0


@numba.njit(cache=True, nogil=True)
def _window_any_down(mask, half, out):           # pragma: no cover - compiled
    """Per column: whether a pixel in rows [i - half, i + half] is set (running counts)."""
    n, m = mask.shape
    count = np.zeros(m, np.int64)
    for i in range(min(half, n)):
        for j in range(m):
            count[j] += mask[i, j]
    for i in range(n):
        if i + half < n:
            for j in range(m):
                count[j] += mask[i + half, j]
        if i > half:
            for j in range(m):
                count[j] -= mask[i - half - 1, j]
        for j in range(m):
            out[i, j] = count[j] > 0


def grow_labels(labels: np.ndarray) -> np.ndarray:
    """Background pixels (0) take the largest label of their 8 neighbours (``int32`` result)."""
    labels = np.ascontiguousarray(labels, dtype=np.int32)
    out = labels.copy()
    _grow(labels, out)
    return out


@numba.njit(cache=True, nogil=True)
def _grow(labels, out):                           # pragma: no cover - compiled
    """Maximum over 3 columns (cut at the borders), then over 3 rows where ``labels`` is 0."""
    n, m = labels.shape
    across = np.empty((n, m), np.int32)
    for i in range(n):
        for j in range(m):
            across[i, j] = max(labels[i, max(j - 1, 0)], labels[i, j],
                               labels[i, min(j + 1, m - 1)])
    for i in range(n):
        up, down = max(i - 1, 0), min(i + 1, n - 1)
        for j in range(m):
            if labels[i, j] == 0:
                out[i, j] = max(across[up, j], across[i, j], across[down, j])


def grow_above(image: np.ndarray, low: np.floating, high: np.floating) -> np.ndarray:
    """Pixels above ``low`` 4-connected to a pixel above ``high`` (``high`` >= ``low``)."""
    image = np.ascontiguousarray(image, dtype=np.float32)
    out = np.zeros(image.shape, bool)
    _grow_above(image, low, high, out)
    return out


@numba.njit(cache=True, nogil=True)
def _grow_above(image, low, high, out):          # pragma: no cover - compiled
    """Flood from each pixel above ``high`` through the pixels above ``low`` (4 neighbours)."""
    n, m = image.shape
    flat = image.ravel()
    done = out.ravel()
    stack = np.empty(64, np.int64)
    for start in range(n * m):
        if done[start] or not flat[start] > high:
            continue
        done[start] = True
        stack[0], top = start, 1
        while top > 0:
            top -= 1
            p = stack[top]
            r, c = p // m, p % m
            for q, ok in ((p - m, r > 0), (p + m, r < n - 1), (p - 1, c > 0), (p + 1, c < m - 1)):
                if ok and not done[q] and flat[q] > low:
                    done[q] = True
                    if top == stack.shape[0]:
                        stack = np.concatenate((stack, np.empty_like(stack)))
                    stack[top] = q
                    top += 1


def interpolate_rows(coarse: np.ndarray, lo: np.ndarray, hi: np.ndarray,
                     weight: np.ndarray) -> np.ndarray:
    """Rows ``coarse[lo] + weight (coarse[hi] - coarse[lo])``, in float32, in one pass.

    The second step of :func:`neurotox.imaging.preprocess.upsample_blocks`
    (``hi`` is ``lo`` or ``lo + 1``), with its operations in its order.
    """
    out = np.empty((len(lo), coarse.shape[1]), np.float32)
    _interpolate_rows(coarse, lo, hi, np.asarray(weight, np.float32), out)
    return out


@numba.njit(cache=True, nogil=True)
def _interpolate_rows(coarse, lo, hi, weight, out):   # pragma: no cover - compiled
    n, m = out.shape
    for i in range(n):
        a, w = lo[i], weight[i]
        if hi[i] == a:
            for j in range(m):
                out[i, j] = np.float32(0) * w + coarse[a, j]
        else:
            for j in range(m):
                out[i, j] = (coarse[a + 1, j] - coarse[a, j]) * w + coarse[a, j]


def above_own_level(image: np.ndarray, labels: np.ndarray, levels: np.ndarray) -> np.ndarray:
    """``image > levels[labels]`` in one pass (``levels[0]`` = +inf: background stays False)."""
    out = np.empty(image.shape, bool)
    _above_own_level(np.ascontiguousarray(image, dtype=np.float32),
                     np.ascontiguousarray(labels), np.asarray(levels, np.float32), out)
    return out


@numba.njit(cache=True, nogil=True)
def _above_own_level(image, labels, levels, out):  # pragma: no cover - compiled
    n, m = image.shape
    for i in range(n):
        for j in range(m):
            out[i, j] = image[i, j] > levels[labels[i, j]]


def chessboard_distance_at(mask: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """``scipy.ndimage.distance_transform_cdt(mask, metric="chessboard")[rows, cols]``.

    Chessboard distance (``int32``) from each given pixel to the nearest
    background pixel of the image (0 on background, -1 when the image has
    none), found by searching square rings outwards from the few pixels
    asked for rather than by transforming the whole image.
    """
    mask = np.ascontiguousarray(mask, dtype=bool)
    return _ring_search(mask, np.asarray(rows, np.int64), np.asarray(cols, np.int64))


@numba.njit(cache=True, nogil=True)
def _ring_search(mask, rows, cols):              # pragma: no cover - compiled
    n, m = mask.shape
    out = np.full(rows.shape[0], -1, np.int32)
    for t in range(rows.shape[0]):
        r, c = rows[t], cols[t]
        if not mask[r, c]:
            out[t] = 0
            continue
        for k in range(1, max(n, m)):
            if _ring_has_background(mask, r, c, k):
                out[t] = k
                break
    return out


@numba.njit(cache=True, nogil=True)
def _ring_has_background(mask, r, c, k):         # pragma: no cover - compiled
    """Whether a pixel of the square ring at chessboard distance ``k`` from (r, c) is 0."""
    n, m = mask.shape
    c0, c1 = max(c - k, 0), min(c + k, m - 1)
    r0, r1 = max(r - k + 1, 0), min(r + k - 1, n - 1)
    for rr in (r - k, r + k):
        if 0 <= rr < n:
            for cc in range(c0, c1 + 1):
                if not mask[rr, cc]:
                    return True
    for cc in (c - k, c + k):
        if 0 <= cc < m:
            for rr in range(r0, r1 + 1):
                if not mask[rr, cc]:
                    return True
    return False


def euclidean_distance(mask: np.ndarray) -> np.ndarray:
    """``scipy.ndimage.distance_transform_edt(mask)`` of a 2-D mask (unit sampling).

    The exact squared distance to the nearest zero pixel by the lower envelope
    of parabolas (Felzenszwalb and Huttenlocher, *Theory of Computing* 8, 2012):
    one pass down the columns, one along the rows. Squared distances are whole
    numbers, exact in double precision, and their square roots are correctly
    rounded, as SciPy's are. A mask without zero pixels goes to SciPy.
    """
    m = np.asarray(mask)
    if m.ndim != 2 or m.size == 0 or m.all():
        return ndi.distance_transform_edt(mask)
    out = np.empty(m.shape, np.float64)
    _squared_distance(np.ascontiguousarray(m != 0), out)
    return np.sqrt(out, out=out)


@numba.njit(cache=True, nogil=True)
def _squared_distance(inside, out):              # pragma: no cover - compiled
    rows, cols = inside.shape
    far = float(rows + cols) ** 2                # more than any squared distance
    _column_distance(inside, out, far)
    f = np.empty(cols, np.float64)
    v = np.empty(cols, np.int64)
    z = np.empty(cols + 1, np.float64)
    for i in range(rows):
        f[:] = out[i]
        _row_envelope(f, v, z, far, out[i])


@numba.njit(cache=True, nogil=True)
def _column_distance(inside, out, far):          # pragma: no cover - compiled
    """Squared distance to the nearest zero in the same column (walked along rows)."""
    rows, cols = inside.shape
    for j in range(cols):
        out[0, j] = far if inside[0, j] else 0.0
    for i in range(1, rows):
        for j in range(cols):
            out[i, j] = out[i - 1, j] + 1.0 if inside[i, j] else 0.0
    for i in range(rows - 2, -1, -1):
        for j in range(cols):
            out[i, j] = min(out[i, j], out[i + 1, j] + 1.0)
    for i in range(rows):
        for j in range(cols):
            d = out[i, j]
            out[i, j] = d * d if d < far else far


@numba.njit(cache=True, nogil=True)
def _row_envelope(f, v, z, far, out):            # pragma: no cover - compiled
    """The lower envelope of the parabolas (x - q)^2 + f[q]: its value at every x."""
    k = -1
    for q in range(f.size):
        if f[q] >= far:
            continue                             # no zero in this column
        s = -np.inf
        while k >= 0:
            s = ((f[q] + q * q) - (f[v[k]] + v[k] * v[k])) / (2.0 * (q - v[k]))
            if s > z[k]:
                break
            k -= 1
            s = -np.inf
        k += 1
        v[k] = q
        z[k] = s
        z[k + 1] = np.inf
    if k < 0:
        return                                   # no zero in the image (handled by SciPy)
    k = 0
    for x in range(f.size):
        while z[k + 1] < x:
            k += 1
        d = x - v[k]
        out[x] = d * d + f[v[k]]


def watershed(image: np.ndarray | None, markers: np.ndarray, *,
              mask: np.ndarray | None = None, connectivity: int = 1) -> np.ndarray:
    """``skimage.segmentation.watershed(image, markers, mask=mask, connectivity=connectivity)``.

    Parameters
    ----------
    image
        2-D image to flood (lowest first); None floods a flat image (each
        pixel goes to the marker nearest along the mask, ties as scikit-image
        breaks them).
    markers
        2-D integer labels (0 = not a marker); markers outside ``mask`` are ignored.
    mask
        Pixels that may be flooded (default: all).
    connectivity
        1 (4 neighbours) or 2 (8 neighbours).

    Returns
    -------
    numpy.ndarray
        Labels with the dtype of ``markers``, 0 where no marker reaches.

    """
    markers = np.asarray(markers)
    shape = markers.shape
    region = np.ones(shape, bool) if mask is None else np.asarray(mask, bool)
    out = np.ascontiguousarray(np.where(region, markers, 0).astype(markers.dtype, copy=False))
    if markers.ndim != 2 or connectivity not in (1, 2) or not out.any():
        return out
    values = np.zeros((1, 1), np.float32) if image is None else np.asarray(image)
    if values.dtype not in (np.float32, np.float64):
        values = values.astype(np.float64)
    _flood(np.ascontiguousarray(values), np.ascontiguousarray(region),
           out.reshape(-1), connectivity == 2, shape[1], image is None)
    return out


@numba.njit(cache=True, nogil=True)
def _flood(values, mask, out, diagonal, width, uniform):   # pragma: no cover - compiled
    """Flood ``out`` (raveled labels, markers set) over ``mask``, lowest ``values`` first.

    scikit-image's heap: items ordered by (value, age); markers enter in raster
    order with age 0, each newly reached pixel with the next age and is
    labelled when it enters; sifting moves an item only past strictly smaller
    ones. As there, the heap holds references to the items (swaps move two
    integers). ``uniform``: every value is 0 (``values`` is not read).
    """
    flat = values.ravel()
    inside = mask.ravel()
    size = out.shape[0]
    height = size // width
    # neighbour steps in scikit-image's order: by distance, then by raveled offset
    dr = np.array([-1, 0, 0, 1, -1, -1, 1, 1])
    dc = np.array([0, -1, 1, 0, -1, 1, -1, 1])
    n_nb = 8 if diagonal else 4
    capacity = 0                                # markers + pixels to flood: each enters once
    for p in range(size):
        if out[p] != 0 or inside[p]:
            capacity += 1
    # items by order of entry (small arrays filled in sequence, not image-sized ones)
    value = np.empty(capacity, np.float64)
    age = np.empty(capacity, np.int64)
    pixel = np.empty(capacity, np.int64)
    heap = np.empty(capacity, np.int64)
    items = n_items = 0
    for p in range(size):
        if out[p] != 0:
            value[n_items] = 0.0 if uniform else flat[p]
            age[n_items], pixel[n_items] = 0, p
            items = _push(heap, value, age, items, n_items)
            n_items += 1
    count = 1
    while items > 0:
        item = heap[0]
        items = _pop(heap, value, age, items)
        p = pixel[item]
        r, c = p // width, p % width
        for k in range(n_nb):
            rr, cc = r + dr[k], c + dc[k]
            if rr < 0 or rr >= height or cc < 0 or cc >= width:
                continue
            q = rr * width + cc
            if not inside[q] or out[q] != 0:
                continue
            count += 1
            out[q] = out[p]
            value[n_items] = value[item] if uniform else max(np.float64(flat[q]), value[item])
            age[n_items], pixel[n_items] = count, q
            items = _push(heap, value, age, items, n_items)
            n_items += 1


@numba.njit(cache=True, nogil=True, inline="always")
def _smaller(value, age, a, b):                   # pragma: no cover - compiled
    if value[a] != value[b]:
        return value[a] < value[b]
    return age[a] < age[b]


@numba.njit(cache=True, nogil=True)
def _push(heap, value, age, items, item):         # pragma: no cover - compiled
    child = items
    heap[child] = item
    while child > 0:
        parent = (child + 1) // 2 - 1
        if not _smaller(value, age, heap[child], heap[parent]):
            break
        heap[parent], heap[child] = heap[child], heap[parent]
        child = parent
    return items + 1


@numba.njit(cache=True, nogil=True)
def _pop(heap, value, age, items):                # pragma: no cover - compiled
    """Remove the root (read it first); the last item moves up and sifts down."""
    items -= 1
    if items == 0:
        return items
    heap[0], heap[items] = heap[items], heap[0]
    i = 0
    while True:
        left, right = 2 * i + 1, 2 * i + 2
        if left >= items:
            break
        smallest = i
        if _smaller(value, age, heap[left], heap[i]):
            smallest = left
        if right < items and _smaller(value, age, heap[right], heap[smallest]):
            smallest = right
        if smallest == i:
            break
        heap[i], heap[smallest] = heap[smallest], heap[i]
        i = smallest
    return items


def plateau_maxima(values: np.ndarray, size: int, *, above: float) -> np.ndarray:
    """``(values == ndi.maximum_filter(values, size, mode="nearest")) & (values > above)``.

    The maximum over a ``size`` x ``size`` box (odd ``size``) clipped at the
    image edge, which is what mode ``nearest`` gives for a maximum; a pixel
    equal to it is a (plateau) maximum. One compiled pass per axis, for the
    small boxes around each nucleus, where SciPy's per-call cost dominates.
    """
    v = np.ascontiguousarray(values)
    if v.ndim != 2 or v.size == 0 or size % 2 == 0:
        return (v == ndi.maximum_filter(v, size=size, mode="nearest")) & (v > above)
    out = np.empty(v.shape, bool)
    _plateau_maxima(v, size // 2, v.dtype.type(above), out)
    return out


@numba.njit(cache=True, nogil=True)
def _plateau_maxima(v, half, above, out):         # pragma: no cover - compiled
    n, m = v.shape
    along = np.empty_like(v)
    for i in range(n):
        for j in range(m):
            best = v[i, j]
            for jj in range(max(0, j - half), min(m, j + half + 1)):
                if v[i, jj] > best:
                    best = v[i, jj]
            along[i, j] = best
    for i in range(n):
        for j in range(m):
            best = along[i, j]
            for ii in range(max(0, i - half), min(n, i + half + 1)):
                if along[ii, j] > best:
                    best = along[ii, j]
            out[i, j] = v[i, j] == best and v[i, j] > above


def one_piece(mask: np.ndarray) -> bool:
    """True if the pixels of ``mask`` form one 4-connected piece (``ndi.label(mask)[1] == 1``)."""
    m = np.ascontiguousarray(mask, dtype=bool)
    if m.ndim != 2:
        return ndi.label(m)[1] == 1
    return bool(_one_piece(m))


@numba.njit(cache=True, nogil=True)
def _one_piece(mask):                             # pragma: no cover - compiled
    n, m = mask.shape
    total = 0
    start = -1
    for i in range(n):
        for j in range(m):
            if mask[i, j]:
                if start < 0:
                    start = i * m + j
                total += 1
    if total == 0:
        return False
    seen = np.zeros(n * m, np.bool_)
    stack = np.empty(total, np.int64)
    stack[0] = start
    seen[start] = True
    top, reached = 1, 1
    while top > 0:
        top -= 1
        p = stack[top]
        i, j = p // m, p % m
        for di, dj in ((-1, 0), (1, 0), (0, -1), (0, 1)):
            a, b = i + di, j + dj
            if 0 <= a < n and 0 <= b < m and mask[a, b] and not seen[a * m + b]:
                seen[a * m + b] = True
                stack[top] = a * m + b
                top += 1
                reached += 1
    return reached == total


def bincount(values: np.ndarray, minlength: int = 0) -> np.ndarray:
    """``np.bincount(values.ravel(), minlength=minlength)`` of non-negative integer values.

    Labels, or the grey values of an 8- or 16-bit image, counted where they
    are, without the 64-bit copy of the whole array NumPy makes first.
    """
    flat = np.ascontiguousarray(values).ravel()
    if flat.dtype.kind not in "iu" or (flat.dtype.kind == "i" and flat.size and flat.min() < 0):
        return np.bincount(flat, minlength=minlength)
    top = int(flat.max()) + 1 if flat.size else 0
    counts = np.zeros(max(top, minlength), np.int64)
    _count(flat, counts)
    return counts


def label_moments(labels: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pixel count, sum of rows and sum of columns of labels 1..``n`` (index = label).

    The values of ``np.bincount`` over the labelled pixels (weights: their row
    and column numbers, in ``float64``, summed in raster order); labels above
    ``n`` or below 1 are not counted.
    """
    lab = np.ascontiguousarray(labels)
    counts = np.zeros(n + 1, np.int64)
    rows = np.zeros(n + 1, np.float64)
    cols = np.zeros(n + 1, np.float64)
    if lab.ndim == 2 and n > 0:
        _moments(lab, counts, rows, cols)
    return counts, rows, cols


@numba.njit(cache=True, nogil=True)
def _moments(labels, counts, rows, cols):         # pragma: no cover - compiled
    n = counts.size - 1
    for i in range(labels.shape[0]):
        for j in range(labels.shape[1]):
            k = labels[i, j]
            if 0 < k <= n:
                counts[k] += 1
                rows[k] += i
                cols[k] += j


def lookup(table: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """``table[labels]`` for non-negative integer labels below ``len(table)``, in one pass."""
    lab = np.ascontiguousarray(labels)
    tab = np.ascontiguousarray(table)
    if lab.dtype.kind not in "iu" or tab.ndim != 1 or not lab.size:
        return tab[lab]
    out = np.empty(lab.shape, tab.dtype)
    if not _lookup(tab, lab.ravel(), out.ravel()):
        return tab[lab]                          # NumPy's wrap-around or its error
    return out


def keep_labels(labels: np.ndarray, keep: np.ndarray) -> np.ndarray:
    """The objects marked in ``keep`` (index = old label), renumbered 1..k in order; 0 elsewhere.

    ``int32``; ``keep[0]`` (the background) is ignored. The labels of
    ``skimage.segmentation.relabel_sequential`` after the dropped objects are
    set to 0, in one pass.
    """
    kept = np.asarray(keep, bool).copy()
    kept[:1] = False
    return lookup((np.cumsum(kept) * kept).astype(np.int32), labels)


@numba.njit(cache=True, nogil=True)
def _lookup(table, flat, out):                    # pragma: no cover - compiled
    n = table.size
    for i in range(flat.size):
        k = flat[i]
        if k < 0 or k >= n:
            return False
        out[i] = table[k]
    return True


def object_distance_maxima(labels: np.ndarray, k: int, *, sigma: float,
                           size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Smoothed distance map of object ``k`` in a box of labels, and its plateau maxima.

    The values of ``dist = gaussian(euclidean_distance(labels > 0).astype(np.float32),
    sigma)`` set to 0 outside the object (``own = labels == k``) and of
    ``plateau_maxima(dist, size, above=0.5)``, in one compiled call per
    object (the per-call costs of the separate steps dominate in the small
    boxes around nuclei). Returns ``dist``, ``own`` and the maxima.
    """
    lab = np.ascontiguousarray(labels)
    radius = int(4.0 * float(sigma) + 0.5)
    if lab.ndim == 2 and lab.dtype.kind in "iu" and float(sigma) > 1e-15 and \
            min(lab.shape) >= max(radius, 1) and size % 2 == 1:
        dist = np.empty(lab.shape, np.float32)
        own = np.empty(lab.shape, bool)
        top = np.empty(lab.shape, bool)
        if _object_maxima(lab, k, _half_kernel(sigma, radius), size // 2, dist, own, top):
            return dist, own, top
    dist = gaussian(euclidean_distance(lab > 0).astype(np.float32), sigma)
    own = lab == k
    dist[~own] = 0
    return dist, own, plateau_maxima(dist, size, above=0.5)


@numba.njit(cache=True, nogil=True)
def _object_maxima(labels, k, half, box_half, dist, own, top):   # pragma: no cover - compiled
    n, m = labels.shape
    inside = np.empty((n, m), np.bool_)
    any_zero = False
    for i in range(n):
        for j in range(m):
            v = labels[i, j]
            inside[i, j] = v > 0
            own[i, j] = v == k
            if v <= 0:
                any_zero = True
    if not any_zero:
        return False                             # no background: the library path
    squared = np.empty((n, m), np.float64)
    _squared_distance(inside, squared)
    plain = np.empty((n, m), np.float32)
    for i in range(n):
        for j in range(m):
            plain[i, j] = np.float32(np.sqrt(squared[i, j]))
    _smooth_columns(plain, half, dist)
    _smooth_rows(dist, half)
    for i in range(n):
        for j in range(m):
            if not own[i, j]:
                dist[i, j] = 0.0
    _plateau_maxima(dist, box_half, np.float32(0.5), top)
    return True


def cross_extreme(image: np.ndarray, *, minimum: bool) -> np.ndarray:
    """Minimum (or maximum) over each pixel's 3 x 3 cross, borders reflected.

    The values of ``op(op(op(p[1:-1, 1:-1], p[:-2, 1:-1]), op(p[2:, 1:-1], p[1:-1, :-2])),
    p[1:-1, 2:])`` with ``p = np.pad(image, 1, mode="symmetric")`` and ``op`` =
    ``np.minimum`` (``np.maximum``), in one pass instead of a padded copy and
    four whole-image operations.
    """
    img = np.ascontiguousarray(image)
    out = np.empty(img.shape, img.dtype)
    if img.ndim != 2 or img.size == 0 or img.dtype.kind != "f":
        p = np.pad(img, 1, mode="symmetric")
        op = np.minimum if minimum else np.maximum
        return op(op(op(p[1:-1, 1:-1], p[:-2, 1:-1]), op(p[2:, 1:-1], p[1:-1, :-2])),
                  p[1:-1, 2:])
    _cross(img, minimum, out)
    return out


@numba.njit(cache=True, nogil=True)
def _cross(a, minimum, out):                      # pragma: no cover - compiled
    n, m = a.shape
    for i in range(n):
        up = i - 1 if i > 0 else 0
        down = i + 1 if i < n - 1 else n - 1
        for j in range(m):
            left = j - 1 if j > 0 else 0
            right = j + 1 if j < m - 1 else m - 1
            if minimum:
                out[i, j] = np.minimum(np.minimum(np.minimum(a[i, j], a[up, j]),
                                                  np.minimum(a[down, j], a[i, left])),
                                       a[i, right])
            else:
                out[i, j] = np.maximum(np.maximum(np.maximum(a[i, j], a[up, j]),
                                                  np.maximum(a[down, j], a[i, left])),
                                       a[i, right])


def labelled_values(labels: np.ndarray, image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The labels and the image's values at the labelled pixels, in raster order.

    ``labels.ravel()[i]`` and ``image.ravel()[i]`` for ``i = np.flatnonzero(labels)``,
    in two compiled passes (count, then gather) instead of an index array of
    the whole field and two gathers through it.
    """
    lab = np.ascontiguousarray(labels)
    img = np.ascontiguousarray(image)
    if lab.shape != img.shape or lab.dtype.kind not in "iu":
        inside = np.flatnonzero(lab)
        return lab.ravel()[inside], img.ravel()[inside]
    flat_lab, flat_img = lab.ravel(), img.ravel()
    n = _count_nonzero(flat_lab)
    out_lab = np.empty(n, lab.dtype)
    out_val = np.empty(n, img.dtype)
    _gather_labelled(flat_lab, flat_img, out_lab, out_val)
    return out_lab, out_val


@numba.njit(cache=True, nogil=True)
def _count_nonzero(flat):                         # pragma: no cover - compiled
    n = 0
    for v in flat:
        if v != 0:
            n += 1
    return n


@numba.njit(cache=True, nogil=True)
def _gather_labelled(flat_lab, flat_img, out_lab, out_val):   # pragma: no cover - compiled
    k = 0
    for i in range(flat_lab.size):
        if flat_lab[i] != 0:
            out_lab[k] = flat_lab[i]
            out_val[k] = flat_img[i]
            k += 1
