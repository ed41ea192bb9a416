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
from skimage.segmentation import relabel_sequential
from skimage.segmentation import watershed as skimage_watershed

from neurotox.imaging.compiled import (
    bincount,
    block_mean,
    chessboard_distance_at,
    cross_extreme,
    euclidean_distance,
    gaussian,
    grow_labels,
    keep_labels,
    label_moments,
    labelled_values,
    lookup,
    object_distance_maxima,
    one_piece,
    plateau_maxima,
    ridge_response,
    watershed,
)
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


@pytest.mark.parametrize("shape", [(40, 60), (7, 3), (1, 9), (9, 1), (120, 97)])
@pytest.mark.parametrize("fill", [0.3, 0.9, 0.99, 0.999, 1.0])
def test_euclidean_distance_equals_scipy(shape, fill):
    mask = RNG.random(shape) < fill
    mask = ndi.binary_closing(mask, iterations=2) if min(shape) > 4 else mask
    np.testing.assert_array_equal(euclidean_distance(mask),
                                  ndi.distance_transform_edt(mask))


def test_euclidean_distance_equals_scipy_on_a_field(field):
    for mask in (field.neurites > np.percentile(field.neurites, 60), field.nuclei == 0):
        np.testing.assert_array_equal(euclidean_distance(mask),
                                      ndi.distance_transform_edt(mask))


@pytest.mark.parametrize("shape", [(40, 60), (7, 3), (1, 9), (9, 1), (33, 31)])
@pytest.mark.parametrize("size", [1, 3, 5, 15])
def test_plateau_maxima_equal_scipy_s(shape, size):
    # smoothed distances of a mask: plateaus and many equal values, as around nuclei
    mask = ndi.binary_closing(RNG.random(shape) < 0.8, iterations=2) if min(shape) > 4 else \
        RNG.random(shape) < 0.8
    dist = ndi.gaussian_filter(ndi.distance_transform_edt(mask).astype(np.float32), 0.8)
    dist[~mask] = 0
    for values in (dist, np.round(dist), RNG.integers(0, 3, shape).astype(np.float32)):
        want = (values == ndi.maximum_filter(values, size=size, mode="nearest")) & (values > 0.5)
        np.testing.assert_array_equal(plateau_maxima(values, size, above=0.5), want)


def test_plateau_maxima_of_a_field_s_nuclei(field):
    dist = ndi.gaussian_filter(ndi.distance_transform_edt(field.nuclei > 300).astype(np.float32), 1)
    want = (dist == ndi.maximum_filter(dist, size=13, mode="nearest")) & (dist > 0.5)
    assert want.sum() > 5
    np.testing.assert_array_equal(plateau_maxima(dist, 13, above=0.5), want)


@pytest.mark.parametrize("sigma", [0.5, 5 / 6, 1.2])
@pytest.mark.parametrize("size", [5, 15])
def test_object_distance_maxima_are_those_of_the_separate_steps(sigma, size):
    for _ in range(30):
        shape = tuple(RNG.integers(3, 60, 2))
        labels = ndi.label(ndi.binary_opening(RNG.random(shape) < 0.7))[0].astype(np.int32)
        if labels.max() == 0:
            continue
        k = int(RNG.integers(1, labels.max() + 1))
        dist, own, top = object_distance_maxima(labels, k, sigma=sigma, size=size)
        want = ndi.gaussian_filter(ndi.distance_transform_edt(labels > 0).astype(np.float32),
                                   sigma)
        want[labels != k] = 0
        np.testing.assert_array_equal(own, labels == k)
        np.testing.assert_array_equal(dist, want)
        np.testing.assert_array_equal(
            top, (want == ndi.maximum_filter(want, size=size, mode="nearest")) & (want > 0.5))
    full = np.ones((9, 9), np.int32)                   # no background: the library path
    dist, own, top = object_distance_maxima(full, 1, sigma=1.0, size=5)
    assert own.all() and top.sum() >= 1


@pytest.mark.parametrize("shape", [(1, 1), (1, 5), (5, 1), (2, 2), (37, 41)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_cross_extreme_equals_numpy_s_shifted_copies(shape, dtype):
    img = (RNG.random(shape) * 100).astype(dtype)
    img[img > 95] = np.nan                            # NaN spreads as with np.minimum
    p = np.pad(img, 1, mode="symmetric")
    for minimum, op in ((True, np.minimum), (False, np.maximum)):
        want = op(op(op(p[1:-1, 1:-1], p[:-2, 1:-1]), op(p[2:, 1:-1], p[1:-1, :-2])),
                  p[1:-1, 2:])
        got = cross_extreme(img, minimum=minimum)
        assert got.dtype == want.dtype
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("fill", [0.2, 0.5, 0.7, 0.95])
def test_one_piece_is_one_4_connected_label(fill):
    for shape in [(1, 1), (1, 7), (6, 1), (5, 5), (12, 9), (30, 40)]:
        for _ in range(40):
            mask = RNG.random(shape) < fill
            assert one_piece(mask) == (ndi.label(mask)[1] == 1)
    diagonal = np.eye(4, dtype=bool)                 # 8- but not 4-connected
    assert not one_piece(diagonal) and one_piece(np.ones((3, 4), bool))


@pytest.mark.parametrize("dtype", [np.int32, np.int64, np.uint16])
def test_label_counts_moments_and_lookup_equal_numpy_s(dtype):
    labels = ndi.label(RNG.random((70, 90)) < 0.4)[0].astype(dtype)
    n = int(labels.max())
    assert n > 20
    np.testing.assert_array_equal(bincount(labels), np.bincount(labels.ravel()))
    np.testing.assert_array_equal(bincount(labels, minlength=n + 5),
                                  np.bincount(labels.ravel(), minlength=n + 5))
    inside = np.flatnonzero(labels)
    lab = labels.ravel()[inside]
    rows, cols = np.divmod(inside, labels.shape[1])
    counts, row_sums, col_sums = label_moments(labels, n)
    np.testing.assert_array_equal(counts, np.bincount(lab, minlength=n + 1))
    np.testing.assert_array_equal(row_sums, np.bincount(lab, rows.astype(float), n + 1))
    np.testing.assert_array_equal(col_sums, np.bincount(lab, cols.astype(float), n + 1))
    table = RNG.integers(0, 1000, n + 1).astype(np.int32)
    got = lookup(table, labels)
    assert got.dtype == np.int32
    np.testing.assert_array_equal(got, table[labels])


@pytest.mark.parametrize("shape", [(1, 1), (3, 7), (120, 90)])
def test_labelled_values_are_those_at_flatnonzero(shape):
    labels = ndi.label(RNG.random(shape) < 0.3)[0].astype(np.int32)
    image = RNG.random(shape).astype(np.float32)
    inside = np.flatnonzero(labels)
    lab, val = labelled_values(labels, image)
    assert lab.dtype == labels.dtype and val.dtype == image.dtype
    np.testing.assert_array_equal(lab, labels.ravel()[inside])
    np.testing.assert_array_equal(val, image.ravel()[inside])


def test_lookup_outside_the_table_is_numpy_s():
    labels = np.array([[0, 1], [2, -1]])
    np.testing.assert_array_equal(lookup(np.array([5, 6, 7]), labels), [[5, 6], [7, 7]])
    with pytest.raises(IndexError):
        lookup(np.array([5, 6]), labels)


@pytest.mark.parametrize("factor", [2, 3, 4, 7])
def test_block_mean_equals_numpy(factor):
    img = (RNG.random((101, 67)) * 1000).astype(np.float32)
    rows, cols = (101 // factor) * factor, (67 // factor) * factor
    want = img[:rows, :cols].reshape(rows // factor, factor, cols // factor, factor).mean(
        axis=(1, 3), dtype=np.float32)
    np.testing.assert_array_equal(block_mean(img[:rows, :cols], factor), want)


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
def test_bincount_of_grey_images_equals_numpy_s(dtype):
    top = np.iinfo(dtype).max
    img = RNG.integers(0, top // 3, (97, 61)).astype(dtype)
    img[5, 7] = top                                    # the full range, and gaps below it
    got = bincount(img)
    assert got.dtype == np.int64 and len(got) == top + 1 and got[top] == 1
    np.testing.assert_array_equal(got, np.bincount(img.ravel()))
    np.testing.assert_array_equal(bincount(img[::3, ::2]), np.bincount(img[::3, ::2].ravel()))
    np.testing.assert_array_equal(bincount(img[:0]), np.bincount(img[:0].ravel()))


def test_bincount_leaves_what_it_cannot_count_to_numpy():
    np.testing.assert_array_equal(bincount(np.array([[0, 3], [3, 1]], np.int8)), [1, 1, 0, 2])
    with pytest.raises(ValueError):
        bincount(np.array([1, -1]))
    with pytest.raises(TypeError):
        bincount(np.array([0.5, 1.0]))


def test_keep_labels_are_relabel_sequential_s_of_the_kept_objects():
    labels = ndi.label(RNG.random((80, 70)) < 0.4)[0].astype(np.int32)
    n = int(labels.max())
    keep = RNG.random(n + 1) < 0.5
    keep[0] = True                                     # the background stays 0 all the same
    got = keep_labels(labels, keep)
    want, _, _ = relabel_sequential(np.where(keep[labels] & (labels > 0), labels, 0))
    assert got.dtype == np.int32 and int(got.max()) == int(keep[1:].sum())
    np.testing.assert_array_equal(got, want)
    assert keep[0]                                     # the caller's array is not changed


def test_ridge_response_is_the_hessian_eigenvalue_rule():
    """s^2 (-l1 - b max(-l2, 0)) from the eigenvalues of the central-difference Hessian."""
    g = ndi.gaussian_filter(RNG.random((40, 50)), 1.5).astype(np.float32)
    p = np.pad(g.astype(np.float64), 1, mode="edge")
    hrr = p[2:, 1:-1] + p[:-2, 1:-1] - 2 * p[1:-1, 1:-1]
    hcc = p[1:-1, 2:] + p[1:-1, :-2] - 2 * p[1:-1, 1:-1]
    hrc = 0.25 * (p[2:, 2:] - p[2:, :-2] - p[:-2, 2:] + p[:-2, :-2])
    eig = np.linalg.eigvalsh(np.stack([np.stack([hrr, hrc], -1), np.stack([hrc, hcc], -1)], -1))
    want = 4.0 * (-eig[..., 0] - 0.5 * np.maximum(-eig[..., 1], 0))
    out = np.full(g.shape, -np.inf, np.float32)
    ridge_response(g, scale=2.0, blob_penalty=0.5, out=out)
    np.testing.assert_allclose(out, want, rtol=1e-4, atol=1e-6 * np.abs(want).max())
    floor = np.full(g.shape, 0.01, np.float32)
    ridge_response(g, scale=2.0, blob_penalty=0.5, out=floor)
    np.testing.assert_array_equal(floor, np.maximum(out, np.float32(0.01)))


@pytest.mark.parametrize("shape", [(30, 41), (1, 7), (5, 1)])
def test_grow_labels_is_a_3x3_maximum_into_the_background(shape):
    labels = RNG.integers(-1, 6, shape).astype(np.int32) * (RNG.random(shape) < 0.3)
    want = np.where(labels == 0, np.maximum(ndi.maximum_filter(labels, 3, mode="reflect"), 0),
                    labels)
    np.testing.assert_array_equal(grow_labels(labels), want)
