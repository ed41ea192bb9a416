"""Skeleton graph of the neurite mask, lengths in µm and attribution to cells.

The skeleton of neurites plus cell bodies is built with skimage, pruned of
short terminal spurs, and cut at the cell bodies. Each skeleton pixel carries
a length (half of each link it takes part in, corner-count weights: see
:func:`pixel_lengths`), so lengths can be summed over any set of pixels: per
cell, per neurite, per unattached fragment. Everything is vectorised NumPy /
SciPy work (no per-path loops, no JIT compilation); the graph rules (links,
lengths, branches, components) work on the list of skeleton pixels and their
neighbours (:class:`PixelGraph`), so their cost follows the skeleton's size,
not the image's. Pixels are attributed to the cell body they are
connected to by flooding along the skeleton from the bodies (nearest body
along the skeleton wins), as CellProfiler's MeasureObjectSkeleton does with
its seed objects. Skeleton pieces no body reaches are *unattached*.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import ndimage as ndi
from skimage.measure import label
from skimage.morphology import skeletonize

from neurotox.imaging.compiled import chessboard_distance_at, watershed
from neurotox.imaging.preprocess import box_extreme


@dataclass
class SkeletonPixels:
    """Skeleton pixels with their length and owning cell.

    Attributes
    ----------
    rows, cols
        Pixel coordinates (row, column).
    length
        Length (µm) carried by each pixel.
    owner
        Owning cell label, 0 = unattached.
    shape
        Shape of the image.

    """

    rows: np.ndarray
    cols: np.ndarray
    length: np.ndarray
    owner: np.ndarray
    shape: tuple[int, int]

    @property
    def total_length(self) -> float:
        """Total skeleton length (µm)."""
        return float(self.length.sum())

    def mask(self) -> np.ndarray:
        """Boolean skeleton image."""
        out = np.zeros(self.shape, bool)
        out[self.rows, self.cols] = True
        return out

    def owner_image(self) -> np.ndarray:
        """Label image of owners (-1 unattached, 0 no skeleton, k cell k)."""
        out = np.zeros(self.shape, np.int32)
        out[self.rows, self.cols] = np.where(self.owner > 0, self.owner, -1)
        return out


#: Link weights of the corner-count length estimator for 8-connected chains:
#: even (orthogonal) link, odd (diagonal) link, corner (change of direction).
EVEN_LINK, ODD_LINK, CORNER = 0.980, 1.406, -0.091

#: Neighbour offsets (row, column) of the four links counted once each.
_LINKS = ((0, 1), (1, 0), (1, 1), (1, -1))


def _shift(img: np.ndarray, dr: int, dc: int) -> np.ndarray:
    """``out[r, c] = img[r + dr, c + dc]`` (False outside the image)."""
    out = np.zeros_like(img)
    rows, cols = img.shape
    out[max(0, -dr):rows - max(0, dr), max(0, -dc):cols - max(0, dc)] = \
        img[max(0, dr):rows - max(0, -dr), max(0, dc):cols - max(0, -dc)]
    return out


def _links(skel: np.ndarray) -> list[tuple[int, int, np.ndarray]]:
    """Skeleton links (dr, dc, mask of link start pixels), each pair once.

    A diagonal link between two pixels that also share an orthogonal
    skeleton neighbour is redundant (the path goes round the corner through
    that neighbour) and is not counted, so junction triangles are not
    measured twice.
    """
    out = []
    for dr, dc in _LINKS:
        link = skel & _shift(skel, dr, dc)
        if dr and dc:
            link &= ~(_shift(skel, dr, 0) | _shift(skel, 0, dc))
        out.append((dr, dc, link))
    return out


#: The eight neighbour offsets (row, column).
_OFFSETS = tuple((dr, dc) for dr in (-1, 0, 1) for dc in (-1, 0, 1) if dr or dc)


class PixelGraph:
    """Skeleton pixels and the index of each one's eight neighbours (-1: none).

    The same links as :func:`_links` (each pair once, redundant diagonals
    left out), found on the pixel list, so the cost follows the skeleton's
    size rather than the image's.

    Parameters
    ----------
    rows, cols
        Pixel coordinates, any order, no duplicates.
    shape
        Shape of the image.

    """

    def __init__(self, rows: np.ndarray, cols: np.ndarray, shape: tuple[int, int]):
        self.n = len(rows)
        width = shape[1] + 2                  # a one-pixel margin: no neighbour wraps round
        flat = (np.asarray(rows, np.intp) + 1) * width + np.asarray(cols, np.intp) + 1
        find = _finder(flat, (shape[0] + 2) * width)
        self.neighbour = {off: find(flat + off[0] * width + off[1]) for off in _OFFSETS}
        self._links: list[tuple[int, int, np.ndarray, np.ndarray]] | None = None

    def links(self) -> list[tuple[int, int, np.ndarray, np.ndarray]]:
        """(dr, dc, start, end) of the non-redundant links; end pixel = start + (dr, dc)."""
        if self._links is None:
            self._links = []
            for dr, dc in _LINKS:
                end = self.neighbour[(dr, dc)]
                start = np.flatnonzero(end >= 0)
                if dr and dc:
                    start = start[(self.neighbour[(dr, 0)][start] < 0)
                                  & (self.neighbour[(0, dc)][start] < 0)]
                self._links.append((dr, dc, start, end[start]))
        return self._links

    def degree(self) -> np.ndarray:
        """Number of non-redundant links of each pixel (see :func:`neighbour_count`)."""
        degree = np.zeros(self.n, np.int8)
        for _, _, start, end in self.links():
            degree[start] += 1
            degree[end] += 1
        return degree

    def lengths(self) -> np.ndarray:
        """Length (pixels) carried by each pixel (see :func:`pixel_lengths`)."""
        out = np.zeros(self.n, np.float64)
        step_r = np.zeros(self.n, np.int8)
        step_c = np.zeros(self.n, np.int8)
        degree = np.zeros(self.n, np.int8)
        for dr, dc, start, end in self.links():
            half = 0.5 * (ODD_LINK if dr and dc else EVEN_LINK)
            out[start] += half
            out[end] += half
            step_r[start] += dr
            step_c[start] += dc
            step_r[end] -= dr
            step_c[end] -= dc
            degree[start] += 1
            degree[end] += 1
        out[(degree == 2) & ((step_r != 0) | (step_c != 0))] += CORNER
        return out

    def any_neighbour(self, flag: np.ndarray) -> np.ndarray:
        """Whether any of each pixel's eight neighbours has ``flag`` (boolean per pixel)."""
        flag = np.append(np.asarray(flag, bool), False)       # index -1: no neighbour
        out = np.zeros(self.n, bool)
        for nb in self.neighbour.values():
            out |= flag[nb]
        return out

    def components(self, select: np.ndarray, *, links_only: bool = False) -> np.ndarray:
        """Connected component (1..k, 0 for pixels not selected) of the selected pixels.

        Eight-connected (``links_only``: through non-redundant links only, so
        that two pixels touching diagonally across a removed junction stay apart).
        """
        from scipy.sparse import coo_matrix
        from scipy.sparse.csgraph import connected_components

        select = np.asarray(select, bool)
        pairs = [(a, b) for _, _, a, b in self.links()] if links_only else \
            [(np.flatnonzero(self.neighbour[off] >= 0), self.neighbour[off]
              [self.neighbour[off] >= 0]) for off in _LINKS]
        a = np.concatenate([p[0] for p in pairs])
        b = np.concatenate([p[1] for p in pairs])
        both = select[a] & select[b]
        graph = coo_matrix((np.ones(int(both.sum()), np.int8), (a[both], b[both])),
                           shape=(self.n, self.n))
        _, comp = connected_components(graph, directed=False)
        return _first_seen_order(comp, select)


def _finder(keys: np.ndarray, size: int):
    """Function giving the position of each query in ``keys`` (distinct ints < ``size``), or -1."""
    if len(keys) * 16 > size:            # dense: an index image is cheaper than a search
        index = np.full(size, -1, np.intp)
        index[keys] = np.arange(len(keys))
        return lambda queries: index[queries]
    order = np.argsort(keys, kind="stable")
    ordered = np.append(keys[order], -1)    # a sentinel no query equals
    position = np.append(order, -1)

    def find(queries: np.ndarray) -> np.ndarray:
        pos = np.searchsorted(ordered[:-1], queries)
        return np.where(ordered[pos] == queries, position[pos], -1)
    return find


def _first_seen_order(comp: np.ndarray, select: np.ndarray) -> np.ndarray:
    """Component ids renumbered 1..k in the order of their first selected pixel, 0 elsewhere."""
    out = np.zeros(len(comp), np.int64)
    if not select.any():
        return out
    _, first, inverse = np.unique(comp[select], return_index=True, return_inverse=True)
    rank = np.empty(len(first), np.int64)
    rank[np.argsort(first, kind="stable")] = np.arange(1, len(first) + 1)
    out[select] = rank[inverse]
    return out


def _graph_of(skel: np.ndarray) -> tuple[np.ndarray, np.ndarray, PixelGraph]:
    rows, cols = np.nonzero(skel)
    return rows, cols, PixelGraph(rows, cols, skel.shape)


def pixel_lengths(skel: np.ndarray) -> np.ndarray:
    """Length (pixels) carried by each skeleton pixel: half of each of its links.

    Uses the corner-count estimator: an orthogonal link counts 0.980, a
    diagonal one 1.406, and each change of direction -0.091, which measures
    digital straight lines of any direction within about 1 % of their
    Euclidean length (raw steps of 1 and sqrt(2) read up to 8 % long).

    Parameters
    ----------
    skel
        Boolean skeleton image (8-connected, one pixel wide).

    Returns
    -------
    numpy.ndarray
        ``float64`` image, 0 outside the skeleton.

    References
    ----------
    Vossepoel A.M., Smeulders A.W.M. (1982) Vector code probability and
    metrication error in the representation of straight lines of finite
    length. Comput Graph Image Process 20:347-364.

    """
    skel = np.asarray(skel, dtype=bool)
    rows, cols, graph = _graph_of(skel)
    out = np.zeros(skel.shape, np.float64)
    out[rows, cols] = graph.lengths()
    return out


def neighbour_count(skel: np.ndarray) -> np.ndarray:
    """Number of skeleton neighbours of each skeleton pixel along non-redundant links.

    A diagonal neighbour also reached through a shared orthogonal neighbour
    does not count (see :func:`_links`), so the corner of a staircase is not
    a junction and a pixel sticking out of a line end is a 1-pixel spur.
    """
    skel = np.asarray(skel, dtype=bool)
    rows, cols, graph = _graph_of(skel)
    degree = np.zeros(skel.shape, np.int8)
    degree[rows, cols] = graph.degree()
    return degree


def _empty(shape: tuple[int, int]) -> SkeletonPixels:
    z = np.zeros(0, np.intp)
    return SkeletonPixels(z, z, np.zeros(0), np.zeros(0, np.int32), shape)


#: A terminal branch shorter than this many times the local half-width of the
#: mask at its junction is a spur (the fork a skeleton makes at a blunt tip or
#: a widening), whatever ``spur_length_um`` says.
SPUR_RADIUS_FACTOR = 2.5


def _spur_pixels(graph: PixelGraph, lengths: np.ndarray, *, spur: float,
                 radius: np.ndarray | None) -> np.ndarray:
    """Pixels (boolean per pixel of ``graph``) of the terminal branches that are spurs.

    Branches are the pieces left when junction pixels (3 or more
    non-redundant links) are taken out; two pixels touching only diagonally
    across a junction are in different branches. A branch holding a free end
    and touching a junction is a spur when it is shorter than ``spur``
    (pixels; ``lengths`` per pixel) or than :data:`SPUR_RADIUS_FACTOR` times
    the mask's half-width ``radius`` (per pixel; only junction pixels are read) at that
    junction. Isolated pieces (no junction) are left for the fragment rules.

    References
    ----------
    Shaked D., Bruckstein A.M. (1998) Pruning medial axes. Comput Vis Image
    Underst 69:156-169.

    """
    none = np.zeros(graph.n, bool)
    degree = graph.degree()
    junction = degree >= 3
    if not junction.any():
        return none
    branches = graph.components(~junction, links_only=True)
    n = int(branches.max())
    if n == 0:
        return none
    size = n + 1
    length = np.bincount(branches, weights=lengths, minlength=size)
    ends = np.bincount(branches[degree == 1], minlength=size)
    in_branch = branches > 0
    touches = np.bincount(branches[graph.any_neighbour(junction) & in_branch],
                          minlength=size) > 0
    limit = np.full(size, float(spur))
    if radius is not None:
        at_junction = np.append(np.where(junction, radius, 0).astype(np.float32), 0)
        r = np.zeros(graph.n, np.float32)
        for nb in graph.neighbour.values():
            np.maximum(r, at_junction[nb], out=r)
        hit = (r > 0) & in_branch
        local = np.zeros(size)
        np.maximum.at(local, branches[hit], r[hit])
        limit = np.maximum(limit, SPUR_RADIUS_FACTOR * local)
    # + the link into the junction, which the branch pixels do not carry
    spurs = (ends > 0) & touches & (length + EVEN_LINK < limit)
    spurs[0] = False
    return spurs[branches]


#: :func:`thin` works component by component when a field has at most one
#: 8-connected component per this many pixels (else the per-call cost of many
#: small components would outweigh the saving).
THIN_PIXELS_PER_COMPONENT = 4096


def thin(region: np.ndarray) -> np.ndarray:
    """``skimage.morphology.skeletonize(region)``, one 8-connected component at a time.

    The same skeleton (thinning decides each pixel from its 8 neighbours,
    which lie in its own component), but each component is thinned in its
    bounding box for as many passes as its own thickness needs, where one
    call on the whole field passes over every pixel as often as the thickest
    body needs (on a 2048 x 2048 field about half the work).
    """
    labels, n = ndi.label(region, structure=np.ones((3, 3), bool))
    if n > max(16, region.size // THIN_PIXELS_PER_COMPONENT):
        return skeletonize(region)
    out = np.zeros(region.shape, bool)
    for k, box in enumerate(ndi.find_objects(labels), start=1):
        out[box] |= skeletonize(labels[box] == k)
    return out


def pruned_skeleton(mask: np.ndarray, bodies: np.ndarray, *, pixel_size: float,
                    spur_length: float) -> np.ndarray:
    """Skeleton of neurites + bodies (one pixel wide), pruned of spurs, bodies included.

    See :func:`build_skeleton`; this is the skeleton before the body pixels are dropped.
    """
    region = mask | (np.asarray(bodies) != 0)
    skel = thin(region)
    if skel.sum() < 2 or spur_length <= 0:
        return skel
    rows, cols, graph = _graph_of(skel)
    # half-widths at the junctions, the only ones the spur rule reads (chessboard
    # distance: a few % off Euclidean, much cheaper)
    junction = graph.degree() >= 3
    radius = np.zeros(graph.n, np.float32)
    radius[junction] = chessboard_distance_at(region, rows[junction], cols[junction])
    spurs = _spur_pixels(graph, graph.lengths(), spur=spur_length / pixel_size, radius=radius)
    skel[rows[spurs], cols[spurs]] = False
    return skel


def build_skeleton(mask: np.ndarray, bodies: np.ndarray, *, pixel_size: float,
                   spur_length: float, skeleton: np.ndarray | None = None) -> SkeletonPixels:
    """Skeletonise neurites + bodies, prune spurs, cut at bodies, measure pixels.

    Parameters
    ----------
    mask
        Boolean neurite mask.
    bodies
        Cell-body labels (0 = none, negative = non-neuronal); the skeleton runs
        through them (so neurites stay connected to them) and their pixels are
        then dropped.
    pixel_size
        µm per pixel.
    spur_length
        Terminal branches shorter than this (µm) are removed.
    skeleton
        The :func:`pruned_skeleton` of the same input when already computed.

    Returns
    -------
    SkeletonPixels
        Skeleton pixels outside the bodies, lengths in µm, owner not yet set (0).

    """
    shape = mask.shape
    skel = pruned_skeleton(mask, bodies, pixel_size=pixel_size, spur_length=spur_length) \
        if skeleton is None else skeleton
    if skel.sum() < 2:
        return _empty(shape)
    skel = skel & (np.asarray(bodies) == 0)
    return _measured(skel, pixel_size, np.zeros(int(skel.sum()), np.int32))


def _measured(skel: np.ndarray, pixel_size: float, owner: np.ndarray) -> SkeletonPixels:
    rows, cols, graph = _graph_of(skel)
    return SkeletonPixels(rows, cols, graph.lengths() * pixel_size, owner, skel.shape)


def add_crossings(pixels: SkeletonPixels, inner: np.ndarray, *, pixel_size: float,
                  min_piece: float = 0.0, strength: np.ndarray | None = None,
                  min_strength: float = np.inf) -> tuple[SkeletonPixels, float]:
    """Add the skeleton inside cells that joins kept neurite pieces on two sides.

    A neurite running over a (non-neuronal) cell is cut by the cell's zone;
    the cell's own skeleton (``inner``: the pruned skeleton through it) is
    kept where it lies on a path between two points at which kept skeleton
    leaves the cell, i.e. terminal branches of ``inner`` are pruned until
    every remaining end touches kept skeleton. Added pixels are unattached
    (owner 0); all lengths are recomputed on the joined skeleton. Only kept
    pieces of at least ``min_piece`` µm, or whose length-weighted mean
    ``strength`` (an image) is at least ``min_strength``, count.

    Returns
    -------
    pixels : SkeletonPixels
        Kept pixels plus the crossings.
    added_length : float
        Length (µm) of the crossings.

    """
    kept = pixels.mask()
    inner = np.asarray(inner, bool) & ~kept
    if min_piece > 0 and kept.any():
        comp = _components(pixels, np.ones(len(pixels.rows), bool))
        long = np.bincount(comp, weights=pixels.length) >= min_piece
        if strength is not None:
            every = np.ones(len(pixels.rows), bool)
            long |= _component_mean(pixels, every, comp, strength) >= min_strength
        kept = np.zeros(inner.shape, bool)
        sel = long[comp]
        kept[pixels.rows[sel], pixels.cols[sel]] = True
    if not inner.any() or not kept.any():
        return pixels, 0.0
    from scipy.sparse import coo_matrix

    n = int(inner.sum())
    index = np.full(inner.shape, -1, np.int64)
    index[inner] = np.arange(n)
    joined = inner | kept
    src, dst, to_kept = [], [], np.zeros(n)
    for dr, dc, link in _links(joined):
        start, end = link, _shift(link, -dr, -dc)       # end = start + (dr, dc)
        both = start & inner & _shift(inner, dr, dc)
        src.append(index[both])
        dst.append(_shift(index, dr, dc)[both])
        to_kept += np.bincount(index[start & inner & _shift(kept, dr, dc)], minlength=n)
        to_kept += np.bincount(index[end & inner & _shift(kept, -dr, -dc)], minlength=n)
    a, b = np.concatenate(src), np.concatenate(dst)
    adj = coo_matrix((np.ones(2 * len(a)), (np.concatenate([a, b]), np.concatenate([b, a]))),
                     shape=(n, n)).tocsr()
    alive = np.ones(n, bool)
    while True:
        leaves = alive & (adj @ alive.astype(np.float64) + to_kept <= 1)
        if not leaves.any():
            break
        alive &= ~leaves
    if not alive.any():
        return pixels, 0.0
    cross = np.zeros(inner.shape, bool)
    cross[inner] = alive
    owner_img = np.zeros(inner.shape, np.int32)
    owner_img[pixels.rows, pixels.cols] = pixels.owner
    out = _measured(pixels.mask() | cross, pixel_size, np.zeros(0, np.int32))
    out.owner = owner_img[out.rows, out.cols]
    return out, float(out.length[cross[out.rows, out.cols]].sum())


def attribute(pixels: SkeletonPixels, bodies: np.ndarray) -> SkeletonPixels:
    """Set each skeleton pixel's owner by flooding along the skeleton from the bodies.

    Parameters
    ----------
    pixels
        Skeleton pixels outside the bodies.
    bodies
        Cell-body labels.

    Returns
    -------
    SkeletonPixels
        The same pixels with ``owner`` set (0 = no body reached).

    """
    if len(pixels.rows) == 0 or bodies.max() == 0:
        pixels.owner = np.zeros(len(pixels.rows), np.int32)
        return pixels
    region = pixels.mask() | (bodies > 0)
    flooded = watershed(None, bodies, mask=region, connectivity=2)
    pixels.owner = flooded[pixels.rows, pixels.cols].astype(np.int32)
    return pixels


def drop_short_fragments(pixels: SkeletonPixels, *, min_length: float) -> tuple[SkeletonPixels,
                                                                                 float]:
    """Remove unattached skeleton pieces shorter than ``min_length`` µm (debris).

    Returns
    -------
    pixels : SkeletonPixels
        Remaining pixels.
    removed_length : float
        Length (µm) discarded.

    """
    free = pixels.owner == 0
    if not free.any():
        return pixels, 0.0
    comp = _components(pixels, free)
    sums = np.bincount(comp, weights=pixels.length[free])
    return _drop_components(pixels, free, comp, sums < min_length)


def drop_faint_fragments(pixels: SkeletonPixels, strength: np.ndarray, *, min_mean: float,
                         max_length: float = np.inf) -> tuple[SkeletonPixels, float]:
    """Remove unattached pieces shorter than ``max_length`` µm whose ``strength`` is low.

    ``strength`` is an image, averaged along each piece weighted by the
    length each pixel carries. Returns the remaining pixels and the length
    (µm) removed.
    """
    free = pixels.owner == 0
    if min_mean <= 0 or not free.any():
        return pixels, 0.0
    comp = _components(pixels, free)
    short = np.bincount(comp, weights=pixels.length[free]) < max_length
    return _drop_components(pixels, free, comp,
                            short & (_component_mean(pixels, free, comp, strength) < min_mean))


def _component_mean(pixels: SkeletonPixels, select: np.ndarray, comp: np.ndarray,
                    image: np.ndarray) -> np.ndarray:
    """Length-weighted mean of ``image`` over each component (id ``comp``) of ``select``."""
    weight = pixels.length[select]
    value = image[pixels.rows[select], pixels.cols[select]]
    return np.bincount(comp, weights=weight * value) / np.maximum(
        np.bincount(comp, weights=weight), 1e-12)


def _drop_components(pixels: SkeletonPixels, select: np.ndarray, comp: np.ndarray,
                     drop_comp: np.ndarray) -> tuple[SkeletonPixels, float]:
    """Remove the selected pixels whose component (id ``comp``) is marked; length removed."""
    drop_comp = drop_comp.copy()
    drop_comp[0] = False
    drop = np.zeros(len(pixels.rows), bool)
    drop[np.flatnonzero(select)] = drop_comp[comp]
    kept = SkeletonPixels(pixels.rows[~drop], pixels.cols[~drop], pixels.length[~drop],
                          pixels.owner[~drop], pixels.shape)
    return kept, float(pixels.length[drop].sum())


def _touching(pixels: SkeletonPixels, select: np.ndarray, where: np.ndarray
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Components of the selected pixels: id per pixel, length and whether they touch ``where``."""
    comp = _components(pixels, select)
    n = int(comp.max()) + 1 if comp.size else 1
    length = np.bincount(comp, weights=pixels.length[select], minlength=n)
    hit = where[pixels.rows[select], pixels.cols[select]]
    touches = np.bincount(comp, weights=hit, minlength=n) > 0
    return comp, length, touches


def drop_processes(pixels: SkeletonPixels, others: np.ndarray, *, max_length: float,
                   strength: np.ndarray | None = None,
                   max_strength: float = np.inf) -> tuple[SkeletonPixels, float]:
    """Remove processes of non-neuronal cells: unattached pieces touching them.

    A piece of unattached skeleton that touches one non-neuronal cell
    (``others``, its outline margin included), does not reach the image border
    and is shorter than ``max_length`` µm is that cell's process. A piece that
    leaves the field is kept (its length is unknown), so is a piece joining
    two or more separate cells (a process belongs to one cell; a neurite runs
    from cell to cell) and any piece attached to a neuron. With ``strength``
    (an image), a piece whose length-weighted mean strength is at least
    ``max_strength`` is kept too (brighter than the cells' own processes).

    Returns
    -------
    pixels : SkeletonPixels
        Remaining pixels.
    removed_length : float
        Length (µm) removed.

    """
    free = pixels.owner == 0
    if max_length <= 0 or not free.any() or not others.any():
        return pixels, 0.0
    near = box_extreme(np.asarray(others, bool), 5, np.maximum)     # 3 x 3 dilation, twice
    border = np.zeros(pixels.shape, bool)
    border[:2, :] = border[-2:, :] = border[:, :2] = border[:, -2:] = True
    comp, length, touches = _touching(pixels, free, near)
    _, _, at_border = _touching(pixels, free, border)
    bridges = _cells_touched(pixels, free, comp, label(near, connectivity=2)) >= 2
    faint = True if strength is None else \
        _component_mean(pixels, free, comp, strength) < max_strength
    return _drop_components(pixels, free, comp,
                            touches & ~at_border & ~bridges & (length < max_length) & faint)


def _cells_touched(pixels: SkeletonPixels, select: np.ndarray, comp: np.ndarray,
                   cells: np.ndarray) -> np.ndarray:
    """Number of distinct labelled cells each component (id ``comp``) touches."""
    n = int(comp.max()) + 1 if comp.size else 1
    hit = cells[pixels.rows[select], pixels.cols[select]]
    pairs = np.unique(np.stack([comp[hit > 0], hit[hit > 0]]), axis=1)
    return np.bincount(pairs[0], minlength=n)


def limit_reach(pixels: SkeletonPixels, bodies: np.ndarray, *, reach: float) -> SkeletonPixels:
    """Unattribute skeleton farther than ``reach`` pixels along the skeleton from its body.

    Geodesic distances are minimum-cost paths through the skeleton (8-connected
    steps of 1 and sqrt(2)) from the body outlines.
    """
    attached = pixels.owner > 0
    if not attached.any():
        return pixels
    from skimage.graph import MCP_Geometric

    region = pixels.mask() | (bodies > 0)
    costs = np.where(region, 1.0, np.inf)
    starts = np.argwhere(bodies > 0)
    dist, _ = MCP_Geometric(costs).find_costs(starts)
    far = dist[pixels.rows, pixels.cols] > reach
    pixels.owner = np.where(far, 0, pixels.owner).astype(np.int32)
    return pixels


def drop_short_trunks(pixels: SkeletonPixels, *, min_length: float) -> SkeletonPixels:
    """Remove attached skeleton trees shorter than ``min_length`` µm.

    Stubs where the soma edge meets the ridge filter's rim response, or a
    noise bump next to a body, would otherwise count as neurites.
    """
    attached = pixels.owner > 0
    if not attached.any() or min_length <= 0:
        return pixels
    comp = _components(pixels, attached)
    key = comp.astype(np.int64) * (int(pixels.owner.max()) + 1) + pixels.owner[attached]
    _, inverse = np.unique(key, return_inverse=True)
    sums = np.bincount(inverse, weights=pixels.length[attached])
    drop = np.zeros(len(pixels.rows), bool)
    drop[np.flatnonzero(attached)] = sums[inverse] < min_length
    return SkeletonPixels(pixels.rows[~drop], pixels.cols[~drop], pixels.length[~drop],
                          pixels.owner[~drop], pixels.shape)


def _components(pixels: SkeletonPixels, select: np.ndarray) -> np.ndarray:
    """8-connected component id (1..n) of each selected skeleton pixel."""
    rows, cols = pixels.rows[select], pixels.cols[select]
    order = np.lexsort((cols, rows))            # numbered in raster order, as label() does
    comp = PixelGraph(rows[order], cols[order], pixels.shape).components(
        np.ones(len(order), bool))
    out = np.empty(len(order), np.int64)
    out[order] = comp
    return out


def _near(labels: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """Whether the pixel or one of its 8 neighbours is labelled (> 0): a 3 x 3 dilation, sampled."""
    out = np.zeros(len(rows), bool)
    n_rows, n_cols = labels.shape
    for dr in (-1, 0, 1):
        for dc in (-1, 0, 1):
            r, c = rows + dr, cols + dc
            inside = (r >= 0) & (r < n_rows) & (c >= 0) & (c < n_cols)
            out[inside] |= labels[r[inside], c[inside]] > 0
    return out


def _degrees(pixels: SkeletonPixels) -> np.ndarray:
    return PixelGraph(pixels.rows, pixels.cols, pixels.shape).degree()


def fragments(pixels: SkeletonPixels) -> pd.DataFrame:
    """Unattached skeleton pieces: one row per 8-connected fragment, length in µm."""
    free = pixels.owner == 0
    if not free.any():
        return pd.DataFrame({"fragment": pd.Series(dtype=int),
                             "length_um": pd.Series(dtype=float)})
    comp = _components(pixels, free)
    sums = np.bincount(comp, weights=pixels.length[free])[1:]
    return pd.DataFrame({"fragment": np.arange(1, len(sums) + 1), "length_um": sums})


def cell_metrics(pixels: SkeletonPixels, bodies: np.ndarray, n_cells: int) -> pd.DataFrame:
    """Per-cell skeleton metrics.

    Parameters
    ----------
    pixels
        Attributed skeleton pixels.
    bodies
        Cell-body labels (1..n_cells).
    n_cells
        Number of cells (rows of the result).

    Returns
    -------
    pandas.DataFrame
        One row per cell ``cell`` (1..n): ``neurite_length_um``, ``n_neurites``
        (trunks leaving the body), ``n_branch_points``, ``n_end_points``,
        ``longest_neurite_um`` (longest tree attached through one trunk or more).

    """
    cells = np.arange(1, n_cells + 1)
    out = pd.DataFrame({"cell": cells})
    zeros = np.zeros(n_cells + 1)
    if len(pixels.rows) == 0 or n_cells == 0:
        for col in ("neurite_length_um", "n_neurites", "n_branch_points", "n_end_points",
                    "longest_neurite_um"):
            out[col] = zeros[1:]
        return _as_types(out)
    own = pixels.owner
    out["neurite_length_um"] = np.bincount(own, weights=pixels.length,
                                           minlength=n_cells + 1)[1:]
    degree = _degrees(pixels)
    near_body = _near(bodies, pixels.rows, pixels.cols)
    ends = (degree == 1) & ~near_body & (own > 0)
    out["n_end_points"] = np.bincount(own[ends], minlength=n_cells + 1)[1:]
    out["n_branch_points"] = _count_clusters(pixels, (degree >= 3) & (own > 0), n_cells)
    out["n_neurites"] = _count_clusters(pixels, near_body & (own > 0), n_cells)
    out["longest_neurite_um"] = _longest(pixels, n_cells)
    return _as_types(out)


def _count_clusters(pixels: SkeletonPixels, select: np.ndarray, n_cells: int) -> np.ndarray:
    if not select.any():
        return np.zeros(n_cells, int)
    comp = _components(pixels, select)
    owners = pixels.owner[select]
    pairs = np.unique(np.stack([comp, owners]), axis=1)
    return np.bincount(pairs[1], minlength=n_cells + 1)[1:]


def _longest(pixels: SkeletonPixels, n_cells: int) -> np.ndarray:
    attached = pixels.owner > 0
    if not attached.any():
        return np.zeros(n_cells)
    comp = _components(pixels, attached)
    df = pd.DataFrame({"comp": comp, "owner": pixels.owner[attached],
                       "length": pixels.length[attached]})
    trees = df.groupby(["owner", "comp"])["length"].sum().groupby(level=0).max()
    return trees.reindex(np.arange(1, n_cells + 1), fill_value=0.0).to_numpy()


def _as_types(df: pd.DataFrame) -> pd.DataFrame:
    for col in ("n_neurites", "n_branch_points", "n_end_points"):
        df[col] = df[col].astype(int)
    for col in ("neurite_length_um", "longest_neurite_um"):
        df[col] = df[col].astype(float)
    return df
