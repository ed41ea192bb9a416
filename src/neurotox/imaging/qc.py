"""Per-field image quality measures.

The functions here return raw measures; whether a value is acceptable is the
protocol's decision (see the neurite-outgrowth assay), except for facts that
need no threshold (no cells, no neurites), which the field analysis flags.
"""

from __future__ import annotations

import numpy as np

from neurotox.imaging.compiled import bincount, gaussian, ridge_response
from neurotox.imaging.preprocess import block_mean, estimate_noise

#: Focus is measured on the strongest structure: pixels in the top 2 % of the
#: coarse band that also stand this many noise sigmas above it.
FOCUS_QUANTILE = 0.98
FOCUS_MIN_SNR = 5.0
#: Gaussian scales (pixels) of the fine band (first two) and the coarse band (last two).
FOCUS_SCALES = (0.7, 1.5, 4.0)
#: Fewer structure pixels than this: focus not measurable (NaN, never a flag).
FOCUS_MIN_PIXELS = 200
#: Fields of more pixels than :data:`FOCUS_MAX_PIXELS` are judged on tiles of
#: :data:`FOCUS_TILE` pixels, those holding the most strong structure, adding up
#: to :data:`FOCUS_SAMPLE_PIXELS` (a 2048 x 2048 field: a quarter of it, about 3 times
#: faster; on synthetic 2048 x 2048 fields, sharp, blurred and sparse, the score was
#: within 5 % of the whole field's).
FOCUS_MAX_PIXELS = 1 << 21
FOCUS_SAMPLE_PIXELS = 1 << 20
FOCUS_TILE = 256


def focus_score(image: np.ndarray, *, noise: float | None = None,
                ranking: np.ndarray | None = None) -> float:
    """Sharpness of the field's structure, independent of brightness and density.

    Ratio of fine-band (Gaussian 0.7 - 1.5 px) to coarse-band (1.5 - 4 px) contrast
    on the pixels of the strongest structure: a blurred field loses fine-band
    contrast first, while a brighter exposure or a field with few cells
    changes both bands alike. A blur of 2 px (Gaussian sigma) halves it.

    Parameters
    ----------
    image
        2-D image.
    noise
        Its pixel noise (:func:`~neurotox.imaging.preprocess.estimate_noise`)
        when already known.
    ranking
        :func:`rank_tiles` of ``image`` when already known.

    Returns
    -------
    float
        The ratio, or NaN when the field has too little structure to judge
        (fewer than :data:`FOCUS_MIN_PIXELS` pixels well above noise).
        Fields larger than :data:`FOCUS_MAX_PIXELS` (about 1450 x 1450) are
        judged on the tiles holding their strongest structure (see
        :func:`_focus_tiles`).

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
    bands = [_bands(img[box], inner) for box, inner in _focus_tiles(img, ranking=ranking)]
    fine = np.concatenate([b[0].ravel() for b in bands])
    coarse = np.concatenate([b[1].ravel() for b in bands])
    sample = np.concatenate([b[1][::2, ::2].ravel() for b in bands])
    if noise is None:
        noise = estimate_noise(img)
    # white noise of sigma n leaves a standard deviation of about 0.15 n in the coarse band
    sel = (coarse >= np.quantile(sample, FOCUS_QUANTILE)) & \
        (coarse > FOCUS_MIN_SNR * 0.15 * max(noise, 1e-6))
    if int(sel.sum()) < FOCUS_MIN_PIXELS:
        return float("nan")
    return float(fine[sel].mean() / coarse[sel].mean())


#: Ridge scales (Gaussian sigma, pixels) of :func:`fine_structure_fraction`: each
#: pixel's best scale is the sigma of the narrowest bright line profile it sits on.
FINE_SCALES = tuple(float(s) for s in np.geomspace(0.7, 6.0, 13))
#: A ridge whose best scale is at most this (pixels) is fine structure: a line this thin
#: survives no Gaussian blur of sigma 1.5 px or more (its width adds in quadrature).
FINE_SCALE_MAX = 1.2
#: The strongest ridge pixels: top 2 % of the field's best responses that also reach
#: this many pixel-noise sigmas (white noise alone: under 1.3 in 99.99 % of pixels).
FINE_MIN_RESPONSE = 2.0
#: The coarser smoothed copies are made from the previous one when the Gaussian to add
#: is at least this wide (pixels): narrower ones are too coarsely sampled to add exactly.
CASCADE_MIN_STEP = 0.9
#: Pixel budget of :func:`fine_structure_fraction`: a field larger than this (a 512 x 512
#: field stays whole) is measured on the 4 :data:`FOCUS_TILE` tiles holding its most
#: strong structure (the focus tiles' choice): 4 times faster on a 1196 x 1196 field,
#: 3.6 times on a 2048 x 2048 one, the same flags on every real set (docs/assays.md).
FINE_SAMPLE_PIXELS = 4 * FOCUS_TILE ** 2


def fine_structure_fraction(image: np.ndarray, *, noise: float | None = None,
                            ranking: np.ndarray | None = None) -> float:
    """Share of the field's strongest ridge pixels whose ridge is at most 1.2 px across.

    Each pixel gets the scale (Gaussian sigma, :data:`FINE_SCALES`) at which its
    bright-ridge response, the Hessian's most negative eigenvalue normalised by
    ``sigma ** 1.5``, is largest: for a line of Gaussian profile that is the
    profile's own sigma, whatever its brightness. A blur of sigma ``b`` widens every
    profile to ``sqrt(w ** 2 + b ** 2)``, so after a blur of 1.5 px no ridge
    of the field is narrower than :data:`FINE_SCALE_MAX`. Independent of
    brightness (scales, not amplitudes, are compared) and of how much
    structure the field holds (a share of its strongest ridges).

    Parameters
    ----------
    image
        2-D image.
    noise
        Its pixel noise (:func:`~neurotox.imaging.preprocess.estimate_noise`)
        when already known.
    ranking
        :func:`rank_tiles` of ``image`` when already known.

    Returns
    -------
    float
        The share (0-1), or NaN when fewer than :data:`FOCUS_MIN_PIXELS`
        ridge pixels stand :data:`FINE_MIN_RESPONSE` noise sigmas out. Fields
        larger than :data:`FINE_SAMPLE_PIXELS` (512 x 512) are measured on the
        4 tiles of 256 x 256 :func:`_focus_tiles` chooses.

    Notes
    -----
    On the real sets (0.22-1.28 µm/px; DeepNeurite co-cultures, neuriteScan
    SH-SY5Y, MAP2 primary neurons, N1E-115, DRG axons, Ewers primary neurons)
    sharp fields gave 0.0037-0.58, Gaussian-blurred copies (sigma 1.5 and 2 px,
    with and without the camera's noise added back) at most 0.0015 (on the
    pixel budget; larger fields' tiles, rich in cell bodies, read lower than
    the whole field: 0.0048 against 0.058 on one Ewers field). It
    measures the pixel scale of the finest structure: a field sampled so
    finely that its sharpest lines are wider than 1.2 px (well under
    0.1 µm/px) reads as blurred.

    References
    ----------
    Lindeberg T. (1998) Edge detection and ridge detection with automatic
    scale selection. Int J Comput Vis 30:117-156.

    """
    img = np.asarray(image, dtype=np.float32)
    if img.ndim != 2 or min(img.shape) < 16:
        return float("nan")
    if noise is None:
        noise = estimate_noise(img)
    # the 6 px Gaussian's radius and the Hessian's pixel: the cascade of
    # :func:`_best_ridge_scale` reaches further, with weights under 1e-4 there
    margin = int(4.0 * max(FINE_SCALES) + 0.5) + 1
    tiles = _focus_tiles(img, margin, max_pixels=FINE_SAMPLE_PIXELS,
                         sample_pixels=FINE_SAMPLE_PIXELS, ranking=ranking)
    parts = [_best_ridge_scale(img[box], inner) for box, inner in tiles]
    best = np.concatenate([p[0].ravel() for p in parts])
    scale = np.concatenate([p[1].ravel() for p in parts])
    strong = (best >= np.quantile(best, FOCUS_QUANTILE)) & \
        (best >= FINE_MIN_RESPONSE * max(noise, 1e-6))
    if int(strong.sum()) < FOCUS_MIN_PIXELS:
        return float("nan")
    return float(np.mean(scale[strong] <= FINE_SCALE_MAX))


def _best_ridge_scale(img: np.ndarray,
                      inner: tuple[slice, slice]) -> tuple[np.ndarray, np.ndarray]:
    """Per pixel of ``img[inner]``: the largest sigma^1.5-normalised ridge response, its scale.

    From 1.7 px on, each smoothed copy is made from the one before with the
    Gaussian that adds the missing variance (shorter kernels than smoothing the
    image anew); the finer ones, whose added Gaussians would be too narrow to
    sample, are made from the image.
    """
    best = np.zeros(img[inner].shape, np.float32)
    scale = np.zeros(best.shape, np.float32)
    resp = np.empty(img.shape, np.float32)
    smoothed, done = img, 0.0
    for s in FINE_SCALES:
        step = float(np.sqrt(s * s - done * done))
        smoothed = gaussian(smoothed, step) if step >= CASCADE_MIN_STEP else gaussian(img, s)
        done = s
        resp.fill(0.0)
        ridge_response(smoothed, scale=s, blob_penalty=0.0, out=resp)
        part = resp[inner]
        np.divide(part, np.float32(np.sqrt(s)), out=part)   # s^2 (ridge_response) -> s^1.5
        np.copyto(scale, np.float32(s), where=part > best)
        np.maximum(best, part, out=best)
    return best, scale


def _bands(img: np.ndarray, inner: tuple[slice, slice]) -> tuple[np.ndarray, np.ndarray]:
    """Fine and coarse band (absolute differences of Gaussians) of ``img``, cut to ``inner``."""
    fine_s, mid_s, coarse_s = (gaussian(img, s)[inner] for s in FOCUS_SCALES)
    return np.abs(fine_s - mid_s), np.abs(mid_s - coarse_s)


Boxes = list[tuple[tuple[slice, slice], tuple[slice, slice]]]


def rank_tiles(image: np.ndarray) -> np.ndarray:
    """The field's :data:`FOCUS_TILE` tiles, most strong structure first (flat indices).

    Strong structure: the top 2 % of the coarse band of a 4 x 4 block-mean copy.
    Ties keep reading order. Found once per field for :func:`focus_score` and
    :func:`fine_structure_fraction`, which measure the first tiles of the ranking.
    """
    img = np.asarray(image, dtype=np.float32)
    rows, cols = img.shape[0] // FOCUS_TILE, img.shape[1] // FOCUS_TILE
    if rows * cols == 0:
        return np.zeros(0, dtype=np.intp)
    step = 4
    side = FOCUS_TILE // step
    small = block_mean(img[:rows * FOCUS_TILE, :cols * FOCUS_TILE], step)
    proxy = np.abs(gaussian(small, FOCUS_SCALES[1] / step)
                   - gaussian(small, FOCUS_SCALES[2] / step))
    strong = proxy >= np.quantile(proxy, FOCUS_QUANTILE)
    contrast = strong.reshape(rows, side, cols, side).sum(axis=(1, 3)).ravel()
    return np.argsort(-contrast, kind="stable")


def _focus_tiles(img: np.ndarray, margin: int | None = None, *,
                 max_pixels: int = FOCUS_MAX_PIXELS,
                 sample_pixels: int = FOCUS_SAMPLE_PIXELS,
                 ranking: np.ndarray | None = None) -> Boxes:
    """Boxes to filter and, inside each, the part measured: the whole field when small.

    A field of more than ``max_pixels``: the first tiles of :func:`rank_tiles`
    (``ranking`` when already known), adding up to ``sample_pixels``, each
    filtered with a margin as wide as the widest filter reads (``margin``; by
    default that of the focus bands), so their values are those of the whole
    field's filters (the image border is treated as the whole field's filters
    treat it).
    """
    everything = (slice(None), slice(None))
    rows, cols = img.shape[0] // FOCUS_TILE, img.shape[1] // FOCUS_TILE
    n_keep = sample_pixels // FOCUS_TILE ** 2
    if img.size <= max_pixels or rows * cols <= n_keep:
        return [(everything, everything)]
    if ranking is None:
        ranking = rank_tiles(img)
    keep = np.sort(ranking[:n_keep])
    if margin is None:
        margin = int(4.0 * max(FOCUS_SCALES) + 0.5)      # gaussian_filter's kernel radius
    out = []
    for k in keep:
        r, c = divmod(int(k), cols)
        r0, c0 = r * FOCUS_TILE, c * FOCUS_TILE
        box = (slice(max(r0 - margin, 0), r0 + FOCUS_TILE + margin),
               slice(max(c0 - margin, 0), c0 + FOCUS_TILE + margin))
        top, left = r0 - box[0].start, c0 - box[1].start
        out.append((box, (slice(top, top + FOCUS_TILE), slice(left, left + FOCUS_TILE))))
    return out


#: Grey-value ceilings of 10-, 12- and 14-bit cameras, whose images are saved in 16 bits.
CAMERA_CEILINGS = (2**10 - 1, 2**12 - 1, 2**14 - 1)


#: A clipped image: its top grey value holds at least CLIP_MIN_PIXELS pixels and
#: CLIP_SPIKE times the mean count of the three grey levels present below it, in an
#: image of at least CLIP_MIN_LEVELS grey levels (a histogram that runs up to a wall;
#: an unclipped image thins out towards its maximum, one or a few pixels at the top).
CLIP_MIN_PIXELS = 10
CLIP_SPIKE = 4.0
CLIP_MIN_LEVELS = 16


def saturation_level(image: np.ndarray, *, level: float | None = None) -> float | None:
    """Grey value at which ``image`` is saturated, or None when nothing reaches one.

    ``level`` given: that value. Integer images: the dtype maximum, or the
    camera's ceiling when a 10-, 12- or 14-bit image is saved in 16 bits and
    reaches it (a maximum of exactly 1023, 4095 or 16383), or else the image's
    maximum when the histogram ends in a spike there (:data:`CLIP_SPIKE`: an
    export clipped below the type's range, e.g. an auto-contrast copy). Float
    images: the image maximum when more than 0.1 % of pixels share it.
    """
    img = np.asarray(image)
    if level is not None:
        return float(level)
    if not img.size:
        return None
    top = img.max()
    if not np.issubdtype(img.dtype, np.integer):
        return float(top) if float(np.mean(img >= top)) > 1e-3 else None
    if int(top) == np.iinfo(img.dtype).max or (img.dtype.itemsize > 1
                                               and int(top) in CAMERA_CEILINGS):
        return float(top)
    return float(top) if _clipped_top(img, int(top)) else None


def _clipped_top(img: np.ndarray, top: int) -> bool:
    """Whether the histogram of an integer image ends in a spike at ``top``."""
    low = int(img.min())
    if img.dtype in (np.uint8, np.uint16):
        counts = bincount(img)
        values = np.flatnonzero(counts)
        counts = counts[values]
    elif top - low > 1 << 20:           # 32-bit data spread wide: the grey values present
        values, counts = np.unique(img, return_counts=True)
    else:
        counts = np.bincount((img.ravel() - low).astype(np.int64, copy=False))
        values = np.flatnonzero(counts)
        counts = counts[values]
    if len(counts) < CLIP_MIN_LEVELS or counts[-1] < CLIP_MIN_PIXELS:
        return False
    return bool(counts[-1] >= CLIP_SPIKE * counts[-4:-1].mean())


def saturation_fraction(image: np.ndarray, *, level: float | None = None) -> float:
    """Fraction of pixels at or above the saturation level (:func:`saturation_level`)."""
    img = np.asarray(image)
    ceiling = saturation_level(img, level=level)
    return float(np.mean(img >= ceiling)) if ceiling is not None else 0.0


def saturated_objects_pct(labels: np.ndarray, image: np.ndarray, *,
                          level: float | None = None) -> float:
    """Percentage of the labelled objects holding a saturated pixel of ``image`` (0: none).

    Objects that reach the ceiling have an unknown peak: a nucleus drawn at a
    fraction of its own peak is drawn too wide, and a clipped brightest nucleus
    no longer sets what "typical" is.
    """
    n = int(labels.max()) if labels.size else 0
    ceiling = saturation_level(image, level=level)
    if n == 0 or ceiling is None:
        return 0.0
    hit = np.unique(labels[(np.asarray(image) >= ceiling) & (labels > 0)])
    return 100.0 * len(hit) / n


def grey_levels(image: np.ndarray) -> float:
    """Number of distinct grey values a channel holds (every second row and column).

    A channel saved with few levels (16 in a 4-bit export stretched to 0-255)
    cannot show a neurite one or two levels above the background as anything
    but a speck: such fields trace less of the faint neurites than fields of
    the same culture saved at full depth.
    """
    sample = np.asarray(image)[::2, ::2]
    if sample.dtype in (np.uint8, np.uint16):
        return float(np.count_nonzero(bincount(sample)))
    return float(len(np.unique(sample)))
