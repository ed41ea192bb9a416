"""Cell bodies found in the neurite (or soma) channel by size and shape; which are not neurons.

A soma is a wide bright structure (see :func:`neurotox.imaging.neurites.detect_neurites`:
its full width at half maximum exceeds the protocol's ``soma_min_width_um``) with
at least the protocol's soma area. Narrower or smaller wide spots (varicosities,
crossings of neurite bundles, debris) are not somata. Used when a field has no
nuclear channel (MAP2 / beta-III-tubulin images) and to mark non-neuronal cells
whose outlines and processes are not neurite. Somata that touch are cut apart
where two soma-sized cores meet along a neck (:func:`split_somata`).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import numpy as np
from scipy import ndimage as ndi
from skimage.measure import label

from neurotox.imaging.compiled import bincount, euclidean_distance, gaussian, keep_labels, watershed
from neurotox.imaging.preprocess import fill_holes


class NonNeuronal(StrEnum):
    """Which somata of the neurite channel are non-neuronal cells.

    ``none``: every soma is a neuron. ``all``: every soma is a non-neuronal cell
    (co-cultures where the neurons' somata lie elsewhere, e.g. a microfluidic
    axon compartment, or axon fields of explants). ``larger``: somata larger than
    ``non_neuronal_min_area_um2`` are non-neuronal (flat glia or tumour cells
    among small neurons). ``channel``: a separate marker channel of the
    non-neuronal cells (e.g. GFAP) decides.
    """

    NONE = "none"
    ALL = "all"
    LARGER = "larger"
    CHANNEL = "channel"


#: Two cores are told apart only when the neck lies at least this many pixels (in
#: radius) below the smaller one, whatever the pixel size: shallower dips of the
#: distance transform are the pixel steps of the outline.
MIN_SPLIT_DEPTH_PX = 2.0


@dataclass(frozen=True)
class SomaSplit:
    """How touching somata are cut apart (pixels; see :func:`split_somata`).

    Attributes
    ----------
    min_core
        Smallest core of a soma that is cut off: the diameter of the widest
        disk inside it.
    depth
        How far (in radius) the neck between two cores lies below the
        smaller core's peak at least.
    min_neck
        Narrowest contact (width) along which two somata are cut apart.
    min_area
        Smallest part cut off (area): a smaller one stays with its neighbour.

    """

    min_core: float
    depth: float
    min_neck: float
    min_area: float = 0.0


def find_somata(wide: np.ndarray, *, min_area: float,
                min_core: float | None = None, split: SomaSplit | None = None,
                fill: bool = True) -> np.ndarray:
    """Label the wide structures of at least ``min_area`` pixels as somata.

    Parameters
    ----------
    wide
        Boolean mask of wide bright structures.
    min_area
        Smallest soma area in pixels.
    min_core
        Smallest core width in pixels: the diameter of the widest disk that
        fits inside the structure, holes filled (twice its largest distance
        to the outside).
        A soma is round; the wide halo along a bright thick dendrite is a
        strip, however long. None: area alone decides.
    split
        Split touching somata (see :func:`split_somata`); None: no split.
    fill
        Fill the somata's holes (False: same somata and count, holes left
        open, for callers that only count them).

    Returns
    -------
    numpy.ndarray
        ``int32`` labels 1..n of the somata (holes filled when ``fill``).

    """
    lab, n = label(wide, connectivity=2, return_num=True)
    if n == 0:
        return np.zeros(wide.shape, np.int32)
    areas = bincount(lab, minlength=n + 1)
    areas[0] = 0
    big = areas >= min_area
    big[0] = False
    if min_core is not None:
        # measured with holes filled: a dark nucleus is inside its soma
        whole = fill_holes(wide)
        whole_lab, m = label(whole, connectivity=2, return_num=True)
        depth = euclidean_distance(whole)
        whole_core = 2.0 * np.asarray(ndi.maximum(depth, whole_lab, np.arange(m + 1)))
        core = np.asarray(ndi.maximum(whole_core[whole_lab], lab, np.arange(n + 1)))
        big &= core >= min_core
    somata = keep_labels(lab, big)
    if fill or split is not None:
        somata = _fill_labels(somata, fill_holes(somata > 0))
    if split is not None:
        somata = split_somata(somata, split)
        if not fill:
            somata = np.where(wide, somata, 0)
    return somata


def split_somata(somata: np.ndarray, split: SomaSplit) -> np.ndarray:
    """Split somata that touch: one soma per core, cut along the neck between them.

    The shape declumping of nuclei segmentation (CellProfiler's "shape"
    method, the distance-transform watershed of scikit-image's gallery)
    applied to each soma: its distance to the outside is flooded from its
    cores, the domes of the distance (h-maxima: peaks at least ``split.depth``
    above the saddle towards any higher peak) whose peak holds a disk
    ``split.min_core`` across. A part stays a soma of its own when it has at
    least ``split.min_area`` pixels and meets a neighbour along a neck at least
    ``split.min_neck`` wide; any other part joins the neighbour it meets most
    broadly (a wide piece that hangs on the body by a link thinner than a
    dendrite, such as a crossing of thick dendrites, is not a soma touching
    it). A body with one core is left as it is (an elongated soma, with the
    dendrite stumps that reach it).

    Parameters
    ----------
    somata
        Soma labels, holes filled.
    split
        Sizes in pixels.

    Returns
    -------
    numpy.ndarray
        ``int32`` labels 1..n; somata cut in several parts get new labels.

    References
    ----------
    Soille, P. (2003). Morphological Image Analysis, 2nd ed., Springer
    (h-maxima, 6.3.4). Carpenter, A. E. et al. (2006). CellProfiler: image
    analysis software for identifying and quantifying cell phenotypes.
    Genome Biology 7, R100 (declumping by shape).

    """
    out = np.zeros(somata.shape, np.int32)
    n = 0
    for i, box in enumerate(ndi.find_objects(somata), 1):
        if box is None:
            continue
        own = somata[box] == i
        parts = _split_one(own, _inner_distance(own, box, somata.shape), split)
        out[box][own] = parts[own] + n
        n += int(parts.max())
    return out


def _split_one(own: np.ndarray, dist: np.ndarray, split: SomaSplit) -> np.ndarray:
    """Labels 1..k of the parts of one soma (see :func:`split_somata`)."""
    from skimage.morphology import local_maxima, reconstruction

    deep = dist >= split.min_core / 2
    if np.count_nonzero(deep) < 2:
        return own.astype(np.int32)
    depth = max(split.depth, MIN_SPLIT_DEPTH_PX)
    domes = reconstruction(np.maximum(dist - depth, 0), dist)
    cores = label(local_maxima(domes, connectivity=2) & deep, connectivity=2)
    if cores.max() < 2:
        return own.astype(np.int32)
    parts = watershed(-dist.astype(np.float32), cores, mask=own, connectivity=2)
    k = int(parts.max())
    whole = np.bincount(parts.ravel(), minlength=k + 1) >= split.min_area
    return _join_parts(parts, _contacts(parts, dist), whole, split.min_neck / 2)


def _contacts(parts: np.ndarray, dist: np.ndarray) -> np.ndarray:
    """Width of the contact of each pair of parts, as depth: largest ``dist`` along it."""
    k = int(parts.max())
    depth = np.zeros((k + 1, k + 1))
    for a, b, da, db in _neighbour_pairs(parts, dist):
        sel = (a != b) & (a > 0) & (b > 0)
        np.maximum.at(depth, (a[sel], b[sel]), np.minimum(da, db)[sel])
    return np.maximum(depth, depth.T)


def _join_parts(parts: np.ndarray, contact: np.ndarray, whole: np.ndarray,
                min_depth: float) -> np.ndarray:
    """Each part that is not a soma of its own joins the neighbour it meets most broadly.

    A part is a soma of its own when ``whole`` (at least the soma area) and
    when it meets some neighbour along a contact at least ``min_depth`` deep.
    Labels renumbered 1..k.
    """
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    k = len(whole) - 1
    widest = contact.max(axis=1)
    joins = [(j, int(np.argmax(contact[j]))) for j in range(1, k + 1)
             if widest[j] > 0 and not (whole[j] and widest[j] >= min_depth)]
    graph = np.zeros((k, k), bool)
    for j, to in joins:
        graph[j - 1, to - 1] = True
    _, group = connected_components(coo_matrix(graph), directed=False)
    return np.concatenate([[0], group + 1]).astype(np.int32)[parts]


def _neighbour_pairs(labels: np.ndarray, values: np.ndarray):
    """(label, label, value, value) of the pixel pairs next to each other (8 neighbours)."""
    rows, cols = labels.shape
    for dr, dc in ((0, 1), (1, 0), (1, 1), (1, -1)):
        here = (slice(0, rows - dr), slice(max(-dc, 0), cols - max(dc, 0)))
        there = (slice(dr, rows), slice(max(dc, 0), cols - max(-dc, 0)))
        yield labels[here], labels[there], values[here], values[there]


def _fill_labels(labels: np.ndarray, filled: np.ndarray) -> np.ndarray:
    """Give filled holes the label of the object around them."""
    holes = filled & (labels == 0)
    if not holes.any():
        return labels
    return watershed(None, labels, mask=filled).astype(np.int32)


def non_neuronal_somata(somata: np.ndarray, rule: NonNeuronal | str, *,
                        max_neuron_area: float | None = None,
                        marker: np.ndarray | None = None) -> np.ndarray:
    """Which somata are non-neuronal: boolean per label (index 0 unused, False).

    Parameters
    ----------
    somata
        Soma labels.
    rule
        See :class:`NonNeuronal`.
    max_neuron_area
        ``larger`` rule: somata with more pixels than this are non-neuronal.
    marker
        ``channel`` rule: boolean mask of the non-neuronal marker; somata
        with at least half their area inside it are non-neuronal.

    Raises
    ------
    ValueError
        ``larger`` without ``max_neuron_area`` or ``channel`` without ``marker``.

    """
    rule = NonNeuronal(rule)
    n = int(somata.max()) if somata.size else 0
    out = np.zeros(n + 1, bool)
    if n == 0 or rule is NonNeuronal.NONE:
        return out
    if rule is NonNeuronal.ALL:
        out[1:] = True
        return out
    areas = np.bincount(somata.ravel(), minlength=n + 1)
    if rule is NonNeuronal.LARGER:
        if max_neuron_area is None:
            raise ValueError("the 'larger' non-neuronal rule needs non_neuronal_min_area_um2")
        out[1:] = areas[1:] > max_neuron_area
        return out
    if marker is None:
        raise ValueError("the 'channel' non-neuronal rule needs the marker channel")
    inside = np.bincount(somata.ravel(), weights=np.asarray(marker, bool).ravel(),
                         minlength=n + 1)
    out[1:] = inside[1:] >= 0.5 * np.maximum(areas[1:], 1)
    return out


def marker_mask(image_bc: np.ndarray, *, noise: float, min_contrast: float = 3.0,
                sigma: float = 2.0) -> np.ndarray:
    """Foreground of a background-corrected marker channel (non-neuronal cells)."""
    smoothed = gaussian(np.asarray(image_bc, np.float32), sigma)
    return smoothed > min_contrast * noise


def _inner_distance(own: np.ndarray, box: tuple[slice, slice],
                    shape: tuple[int, int]) -> np.ndarray:
    """Distance to the outside of a cropped object, the image border not counted as outside."""
    pad = [(int(sl.start > 0), int(sl.stop < size)) for sl, size in zip(box, shape, strict=True)]
    dist = euclidean_distance(np.pad(own, pad))
    return dist[pad[0][0]:dist.shape[0] - pad[0][1], pad[1][0]:dist.shape[1] - pad[1][1]]
