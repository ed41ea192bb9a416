"""Spread cells: the wide marker-positive area of a flat cell is cell body, not neurite.

Flat, substrate-adherent cells (undifferentiated-looking SH-SY5Y, PC12 before
NGF, fibroblast-like cells) spread their cytoplasm over a wide area around the
nucleus. The neurite marker fills that area dimly, with bright cytoskeletal
fibres in it; the ridge filter traces the fibres as a honeycomb of "neurite",
and the skeleton attributes it to the cell. A neurite is a thin process
*leaving* the cell. The rule here: where the neurite channel is marker-positive
over a region at least ``min_width`` across (a disc that wide fits inside),
the region is cell body. Neurites (a few µm wide) and bundles narrower than
``min_width`` never hold such a disc; a mesh of neurites has dark gaps that
break it.

The cell bodies found from the nuclei (:func:`neurotox.imaging.segment.segment_cell_bodies`)
stay small around the nucleus because the dim spread cytoplasm falls below the
field's foreground threshold; :func:`join_spread` grows them over the spread
areas they touch. Spread areas that no body reaches (the nucleus of a flat
cell is often too dim in the nuclear stain to be found) are still not
neurite: they are returned as a mask for the caller to exclude.
"""

from __future__ import annotations

import numpy as np

from neurotox.imaging.compiled import euclidean_distance, gaussian
from neurotox.imaging.preprocess import fill_holes

#: The neurite channel is marker-positive where its lightly smoothed value exceeds
#: the background by this many pixel-noise sigmas (as the wide structures of
#: :func:`neurotox.imaging.neurites.detect_neurites`).
SPREAD_CONTRAST = 3.0


def spread_areas(image: np.ndarray, *, noise: float, min_width: float, sigma: float,
                 margin: float, nuclei: np.ndarray | None = None,
                 contrast: float = SPREAD_CONTRAST) -> np.ndarray:
    """Marker-positive regions at least ``min_width`` pixels across, with an outline margin.

    Parameters
    ----------
    image
        Background-corrected neurite channel.
    noise
        Pixel noise sigma of the channel.
    min_width
        Diameter (pixels) of the disc that must fit inside the marker-positive
        region for it to count as spread cell area.
    sigma
        Gaussian smoothing (pixels) before thresholding (about the neurite
        detection's pre-smoothing: fills the pixel noise of dim cytoplasm, not
        the gaps between neurites).
    margin
        The area is grown by this many pixels (the outline, where the ridge
        filter answers to the cell's edge and its edge fibres).
    nuclei
        Nuclear labels: nuclei (grown by ``margin``) count as marker-positive.
        A cytoplasmic marker leaves the nucleus dark, and a flat cell's
        nucleus must not break its spread area in two.
    contrast
        Marker-positive threshold in noise sigmas.

    Returns
    -------
    numpy.ndarray
        Boolean mask: union of the discs that fit, grown by ``margin``, holes filled.

    Notes
    -----
    A binary opening with a disc, by two Euclidean distance transforms: the
    disc centres are the positive pixels at least ``min_width / 2`` from the
    nearest negative one; the opening is every pixel within that radius of a
    centre.

    """
    smoothed = gaussian(np.asarray(image, np.float32), sigma)
    positive = smoothed > contrast * noise
    if nuclei is not None and nuclei.any():
        positive |= euclidean_distance(nuclei == 0) <= margin
    radius = min_width / 2
    if not positive.any():
        return positive
    # a disc may touch the image border: the field continues beyond it
    centres = euclidean_distance(np.pad(positive, 1, mode="edge"))[1:-1, 1:-1] >= radius
    if not centres.any():
        return centres
    return fill_holes(euclidean_distance(~centres) <= radius + margin)


def join_spread(bodies: np.ndarray, spread: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Cell bodies grown over the spread areas they touch; spread areas no body reaches.

    Parameters
    ----------
    bodies
        Cell-body labels (0 = none).
    spread
        Boolean spread areas (:func:`spread_areas`).

    Returns
    -------
    bodies : numpy.ndarray
        ``int32`` labels: each body plus the spread area it reaches first
        (flooded outward from all bodies at once, so touching cells split it).
    orphan : numpy.ndarray
        Boolean mask of the spread areas that touch no body.

    """
    from skimage.segmentation import watershed

    if not spread.any():
        return bodies, spread
    region = spread | (bodies > 0)
    grown = watershed(np.zeros(bodies.shape, np.uint8), markers=bodies, mask=region,
                      connectivity=2).astype(np.int32)
    return grown, spread & (grown == 0)
