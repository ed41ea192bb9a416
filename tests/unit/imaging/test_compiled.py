"""The compiled Gaussian and watershed give the library functions' values, bit for bit.

:mod:`neurotox.imaging.compiled` replaces ``scipy.ndimage.gaussian_filter``
and ``skimage.segmentation.watershed`` in the field analysis; every output of
the analysis rests on them being equal, so they are compared to the last bit
on random images, on images with many equal values (ties in the flooding
order) and on a synthetic field.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage as ndi
from skimage.segmentation import watershed as skimage_watershed

from neurotox.imaging.compiled import chessboard_distance_at, gaussian, watershed
from neurotox.imaging.synthetic import synthetic_field

RNG = np.random.default_rng(11)


@pytest.fixture(scope="module")
def field():
    return synthetic_field(3, pixel_size=0.5, n_cells=10, touching_pairs=2)


@pytest.mark.parametrize("shape", [(64, 50), (9, 300), (300, 9), (3, 3), (1, 40)])
@pytest.mark.parametrize("sigma", [0.5, 0.7, 5 / 6, 1.2, 1.5, 2.0, 4.0])
def test_gaussian_equals_scipy(shape, sigma):
    img = (RNG.random(shape) * 1000 - 200).astype(np.float32)
    np.testing.assert_array_equal(gaussian(img, sigma), ndi.gaussian_filter(img, sigma))


def test_gaussian_equals_scipy_on_a_field(field):
    img = field.neurites.astype(np.float32)
    for sigma in (1.2, 5 / 3, 3.0):
        np.testing.assert_array_equal(gaussian(img, sigma), ndi.gaussian_filter(img, sigma))


@pytest.mark.parametrize("dtype", [np.uint16, np.float64, bool])
def test_gaussian_of_other_types_is_scipy_s(dtype):
    img = (RNG.random((20, 30)) * 100).astype(dtype)
    np.testing.assert_array_equal(gaussian(img, 1.5), ndi.gaussian_filter(img, 1.5))


def _case(shape, n_markers, levels):
    markers = np.zeros(shape, np.int32)
    where = RNG.choice(markers.size, n_markers, replace=False)
    markers.flat[where] = RNG.integers(1, 5, n_markers)
    image = RNG.integers(0, levels, shape).astype(np.float32) if levels else \
        RNG.normal(size=shape).astype(np.float32)
    return image, markers, RNG.random(shape) > 0.25


@pytest.mark.parametrize("connectivity", [1, 2])
@pytest.mark.parametrize("levels", [0, 3, 1])          # continuous, few ties, flat
def test_watershed_equals_skimage(connectivity, levels):
    for _ in range(25):
        shape = tuple(RNG.integers(2, 60, 2))
        image, markers, mask = _case(shape, int(RNG.integers(1, 12)), levels)
        want = skimage_watershed(image, markers, mask=mask, connectivity=connectivity)
        got = watershed(image, markers, mask=mask, connectivity=connectivity)
        assert got.dtype == want.dtype
        np.testing.assert_array_equal(got, want)
        flat = skimage_watershed(np.zeros(shape, np.uint8), markers, mask=mask,
                                 connectivity=connectivity)
        np.testing.assert_array_equal(watershed(None, markers, mask=mask,
                                                connectivity=connectivity), flat)


def test_watershed_equals_skimage_on_a_field(field):
    """Cell bodies from nuclei on the smoothed neurite channel (many markers, long plateaus)."""
    smoothed = ndi.gaussian_filter(field.neurites.astype(np.float32), 1.5)
    markers, _ = ndi.label(field.nuclei > np.percentile(field.nuclei, 90))
    mask = smoothed > np.percentile(smoothed, 40)
    np.testing.assert_array_equal(watershed(-smoothed, markers, mask=mask),
                                  skimage_watershed(-smoothed, markers, mask=mask))
    np.testing.assert_array_equal(watershed(None, markers, mask=mask, connectivity=2),
                                  skimage_watershed(np.zeros(mask.shape), markers, mask=mask,
                                                    connectivity=2))


def test_watershed_without_markers_or_mask():
    image = RNG.random((10, 12)).astype(np.float32)
    none = np.zeros((10, 12), np.int32)
    np.testing.assert_array_equal(watershed(image, none), none)
    markers = none.copy()
    markers[2, 3], markers[8, 9] = 1, 2
    np.testing.assert_array_equal(watershed(image, markers),
                                  skimage_watershed(image, markers))


@pytest.mark.parametrize("shape", [(40, 60), (7, 3), (1, 9)])
@pytest.mark.parametrize("fill", [0.5, 0.9, 0.99, 1.0])
def test_chessboard_distance_equals_scipy(shape, fill):
    mask = RNG.random(shape) < fill
    mask = ndi.binary_closing(mask, iterations=2) if min(shape) > 4 else mask
    rows, cols = np.nonzero(np.ones(shape, bool))
    want = ndi.distance_transform_cdt(mask, metric="chessboard")[rows, cols]
    np.testing.assert_array_equal(chessboard_distance_at(mask, rows, cols), want)
