"""Colour planes of merged images as labs save them: colour names, burned-in annotations.

Labs often save fields as RGB(A) merges (nuclei blue, neurites green, an unused
red plane) in TIFF, PNG or JPEG, with a white scale bar and its label burned in.
Array helpers used by :mod:`neurotox.io.plates` when it reads a colour plane.
"""

from __future__ import annotations

import re

import numpy as np
from scipy import ndimage as ndi

#: Colour names accepted as channels of RGB(A) images, and their sample index.
COLOURS = {"red": 0, "r": 0, "green": 1, "g": 1, "blue": 2, "b": 2, "alpha": 3, "a": 3}
#: Sample index → colour name, for messages.
COLOUR_NAMES = ("red", "green", "blue", "alpha")
#: Near-white in every colour plane (fraction of the dtype maximum): burned-in annotation.
ANNOTATION_LEVEL = 0.85
#: Grey (R ≈ G ≈ B) pixels at least this bright (fraction of the maximum) that touch
#: an annotation are its soft edge (JPEG blur, anti-aliasing): fluorescence in a
#: merge is coloured, so only an overlay fades through grey.
ANNOTATION_EDGE_LEVEL = 0.1
#: Coloured pixels at least this bright (fraction of the maximum) around a white spot make
#: it an overlap of dyes (fluorescence), not a burned-in annotation.
COLOURED_LEVEL = 0.25
#: How far the three planes may differ, relative to the brightest, and still be grey.
ANNOTATION_GREY_SPREAD = 0.25
#: Largest gap (pixels) between the glyphs of one burned-in label ("100 µm": 2 px).
GLYPH_GAP = 3


#: Channel-name fragments (lower case, letters and digits only) of nuclear stains; checked
#: first, so that a fusion such as ``H2B-GFP`` or ``NLS-GFP`` is nuclear.
NUCLEAR_STAINS = ("dapi", "hoechst", "h33342", "h33258", "draq5", "draq7", "nucblue",
                  "nucred", "nucspot", "sirdna", "topro", "nucle")
#: Nuclear tags that begin a word of the name (``H2B-GFP``; not "channels").
NUCLEAR_TAGS = ("h2b", "nls")
#: Channel-name fragments of neurite (cytoskeleton, whole-cell) markers.
NEURITE_MARKERS = ("gfp", "tubulin", "tuj1", "tubb3", "map2", "neurofilament", "nf200",
                   "smi31", "smi32", "gap43", "calcein", "cellmask", "neurite", "axon")


def stain_role(name: str) -> str | None:
    """``"nuclear"`` or ``"neurite"`` when a channel name says what it stains, else None.

    ``"DAPI"``, ``"Hoechst 33342"``, ``"H2B-GFP"`` are nuclear; ``"GFP"``,
    ``"beta-III tubulin"``, ``"MAP2"`` are neurite markers; filter names
    (``"FITC"``, ``"Cy5"``) say nothing.
    """
    words = re.split(r"[^a-z0-9]+", str(name).lower())
    key = "".join(words)
    if any(s in key for s in NUCLEAR_STAINS) or \
            any(w.startswith(NUCLEAR_TAGS) for w in words):
        return "nuclear"
    if any(m in key for m in NEURITE_MARKERS):
        return "neurite"
    return None


def colour_index(name: str) -> int | None:
    """Sample index of a colour name (``"blue"`` → 2), None for anything else."""
    return COLOURS.get(str(name).strip().lower())


def annotation_mask(rgb: np.ndarray) -> np.ndarray:
    """Pixels of burned-in white annotations (scale bar, its label) in an RGB(A) merge.

    A pixel near the maximum grey value in the red, green and blue planes at
    once is white overlay, not fluorescence (a merge would need all three dyes
    saturated at the same pixel). The grey fringe such a bar fades through
    (JPEG blur, anti-aliased edges: R ≈ G ≈ B well above the background) is
    taken in with it, then the mask is widened by 2 pixels for JPEG ringing:
    a fringe left behind would be traced as a thin bright line beside the bar.
    """
    rgb = np.asarray(rgb)
    if rgb.ndim != 3 or rgb.shape[2] < 3:
        return np.zeros(rgb.shape[:2], bool)
    top = full_scale(rgb[..., :3])
    low = np.min(rgb[..., :3], axis=2).astype(np.float32)
    white = low >= ANNOTATION_LEVEL * top
    if not white.any():
        return white
    high = np.max(rgb[..., :3], axis=2).astype(np.float32)
    grey = (low >= ANNOTATION_EDGE_LEVEL * top) & (high - low <= ANNOTATION_GREY_SPREAD * high)
    white = _with_label_glyphs(white, _not_fluorescence(white, high, low, top))
    white = ndi.binary_propagation(white, structure=np.ones((3, 3), bool), mask=grey | white)
    return ndi.binary_dilation(white, iterations=2)


#: Bit depths a camera or an export saves integer data at; the full scale of integer
#: pixels is the top of the smallest of these holding them (:func:`full_scale`).
SAVED_BITS = (8, 10, 12, 14, 16, 32)


def full_scale(image: np.ndarray) -> float:
    """The white of ``image``: the largest value of the smallest bit depth holding its pixels.

    8-bit data kept in a 16-bit file without rescaling (0–255 in uint16) has
    its white at 255, as in the 8-bit file, not at 65 535: a scale bar burned
    into it is as white as in the 8-bit file. Float images: their maximum.
    """
    image = np.asarray(image)
    high = float(image.max()) if image.size else 0.0
    if not np.issubdtype(image.dtype, np.integer):
        return high
    limit = float(np.iinfo(image.dtype).max)
    return min(limit, next((2.0 ** b - 1 for b in SAVED_BITS if high <= 2.0 ** b - 1), limit))


def _not_fluorescence(white: np.ndarray, high: np.ndarray, low: np.ndarray,
                      top: float) -> np.ndarray:
    """The white spots that are overlay: those not ringed by bright colour.

    Where two dyes of a merge overlap brightly (a magenta nucleus in bright
    green cytoplasm) the pixels are white too, but they fade into the colours
    of the dyes around them; a burned-in bar or label lies on background or
    fades through grey. A white spot whose ring (2 pixels around it) is
    mostly bright and coloured is fluorescence and is kept.
    """
    labels, n = ndi.label(white, structure=np.ones((3, 3), bool))
    if n == 0:
        return white
    grown = ndi.grey_dilation(labels, size=(5, 5))
    ring = (grown > 0) & ~white
    coloured = (high >= COLOURED_LEVEL * top) & (high - low > ANNOTATION_GREY_SPREAD * high)
    around = np.bincount(grown[ring], minlength=n + 1)
    hue = np.bincount(grown[ring], weights=coloured[ring], minlength=n + 1)
    dye = hue > 0.5 * np.maximum(around, 1)
    dye[0] = False
    return white & ~dye[labels]


def _with_label_glyphs(white: np.ndarray, overlay: np.ndarray) -> np.ndarray:
    """``overlay`` with the white spots lying within :data:`GLYPH_GAP` of it, repeatedly.

    A label is written glyph by glyph a few pixels apart; a glyph lying on a
    bright nucleus is ringed by colour and would be taken for dyes that
    overlap (:func:`_not_fluorescence`), and kept as a bright spot on the
    nucleus. Next to the other glyphs of its label it is overlay too.
    """
    labels, n = ndi.label(white, structure=np.ones((3, 3), bool))
    if n == 0 or not overlay.any():
        return overlay
    for _ in range(n):
        near = ndi.binary_dilation(overlay, iterations=GLYPH_GAP + 1)
        grown = np.isin(labels, np.unique(labels[near & white]))
        grown &= labels > 0
        if np.array_equal(grown | overlay, overlay):
            break
        overlay = grown | overlay
    return overlay


#: A burned-in scale bar in a grey channel: a filled, axis-aligned rectangle of saturated
#: pixels at least this long (pixels) and this many times longer than wide.
BAR_MIN_LENGTH = 20
BAR_MIN_ELONGATION = 4
#: Largest gap (pixels) between a scale bar and its label's glyphs, or between glyphs.
LABEL_GAP = 12


def grey_annotation_mask(plane: np.ndarray) -> np.ndarray:
    """Pixels of a burned-in scale bar and its label in a grey (single-channel) plane.

    ImageJ's Analyze > Tools > Scale Bar burned into a channel draws a
    rectangle and its label at the image's white (the top of its bit depth,
    :func:`full_scale`). A saturated object that fills its bounding box
    exactly, axis-aligned and elongated (:data:`BAR_MIN_LENGTH`,
    :data:`BAR_MIN_ELONGATION`), not touching the edge (padding), is such a
    bar: fluorescence saturates in blobs, not in perfect rectangles. The saturated spots within
    :data:`LABEL_GAP` of it (its label, glyph by glyph) go with it; the mask is
    widened by 1 pixel for anti-aliased edges. Float planes: none.
    """
    plane = np.asarray(plane)
    none = np.zeros(plane.shape, bool)
    if plane.ndim != 2 or not np.issubdtype(plane.dtype, np.integer) or not plane.size:
        return none
    white = plane >= full_scale(plane)
    if not white.any():
        return none
    labels, n = ndi.label(white, structure=np.ones((3, 3), bool))
    bar = np.zeros(n + 1, bool)
    for i, box in enumerate(ndi.find_objects(labels), start=1):
        rows, cols = box[0].stop - box[0].start, box[1].stop - box[1].start
        long, short = max(rows, cols), min(rows, cols)
        inside = box[0].start > 0 and box[1].start > 0 and box[0].stop < plane.shape[0] \
            and box[1].stop < plane.shape[1]      # a band at the edge is padding, not a bar
        bar[i] = inside and long >= BAR_MIN_LENGTH and long >= BAR_MIN_ELONGATION * short \
            and bool((labels[box] == i).all())
    if not bar.any():
        return none
    found = bar[labels]
    for _ in range(n):
        near = ndi.binary_dilation(found, iterations=LABEL_GAP)
        grown = white & np.isin(labels, np.unique(labels[near & white]))
        if np.array_equal(grown | found, found):
            break
        found |= grown
    return ndi.binary_dilation(found, iterations=1)


def remove_annotations(plane: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """The plane with annotation pixels filled from the pixels around them.

    The masked pixels take the harmonic (Laplace) interpolation of the
    unmasked pixels bordering them: each is the mean of its four neighbours,
    so a nucleus or a neurite that the scale bar crosses is joined across it,
    as it was imaged, instead of being cut in two by a band of background
    (which split one nucleus under a bar into three cells), and the bar's
    area holds no edge to trace.

    Notes
    -----
    A sparse linear system with one unknown per masked pixel (a few thousand
    for a scale bar and its label), solved directly.

    """
    if not mask.any():
        return plane
    if mask.all():
        return np.zeros_like(plane)
    filled = harmonic_fill(plane.astype(np.float64), mask)
    if np.issubdtype(plane.dtype, np.integer):
        offset, step = grey_grid(plane[~mask])
        filled = offset + step * np.rint((filled - offset) / step)
        info = np.iinfo(plane.dtype)
        filled = np.clip(filled, info.min, info.max)
    return filled.astype(plane.dtype)


def grey_grid(values: np.ndarray) -> tuple[float, float]:
    """Offset and spacing of the grey levels integer ``values`` lie on (``(0, 1)`` if any).

    8-bit data saved as 16 bit (each value x257) uses every 257th level. The
    pixels filled in under an annotation are put on the same levels: off them,
    they would be the image's finest grey step (1 instead of 257) and the noise
    floor read from it (:func:`neurotox.imaging.preprocess.grey_level_step`)
    would fall 257-fold, tracing a honeycomb over the black background.
    """
    levels = np.unique(np.asarray(values))
    if levels.size < 2:
        return 0.0, 1.0
    step = int(np.gcd.reduce(np.diff(levels.astype(np.int64))))
    return float(int(levels[0]) % step), float(step)


def harmonic_fill(image: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """``image`` with its ``mask`` pixels solving Laplace's equation, the others as given.

    Every connected part of ``mask`` must touch a pixel outside it.
    """
    from scipy.sparse import coo_matrix
    from scipy.sparse.linalg import spsolve

    rows, cols = np.nonzero(mask)
    n = rows.size
    index = np.full(mask.shape, -1, np.int64)
    index[rows, cols] = np.arange(n)
    diag = np.zeros(n)
    rhs = np.zeros(n)
    a_rows, a_cols = [], []
    for dr, dc in ((-1, 0), (1, 0), (0, -1), (0, 1)):
        r, c = rows + dr, cols + dc
        inside = (r >= 0) & (r < mask.shape[0]) & (c >= 0) & (c < mask.shape[1])
        diag += inside
        me, r, c = np.nonzero(inside)[0], r[inside], c[inside]
        other = index[r, c]
        known = other < 0
        np.add.at(rhs, me[known], image[r[known], c[known]])
        a_rows.append(me[~known])
        a_cols.append(other[~known])
    a_rows.append(np.arange(n))
    a_cols.append(np.arange(n))
    values = np.concatenate([-np.ones(sum(len(x) for x in a_rows[:-1])), diag])
    matrix = coo_matrix((values, (np.concatenate(a_rows), np.concatenate(a_cols))),
                        shape=(n, n)).tocsr()
    out = image.copy()
    out[rows, cols] = spsolve(matrix, rhs)
    return out
