"""The fast forms of the imaging operations give the values of the plain ones.

Each fast operation (box extremes by doubling windows, hole filling by one
labelling, the octagon opening with merged rectangles, the block upsampling,
the skeleton rules on the pixel list, touching nuclei split object by object)
is checked against the scipy / scikit-image operation it replaces, on random
and structured inputs, to the last bit. Large-field focus, which is measured
on a subsample, is checked against the whole-field measure.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage as ndi

from neurotox.imaging import qc
from neurotox.imaging.preprocess import box_extreme, fill_holes, upsample_blocks
from neurotox.imaging.segment import split_all
from neurotox.imaging.skeleton import (
    CORNER,
    EVEN_LINK,
    ODD_LINK,
    _links,
    _shift,
    neighbour_count,
    pixel_lengths,
)

RNG = np.random.default_rng(7)


@pytest.mark.parametrize("dtype", [np.float32, np.uint8, np.int32, bool])
@pytest.mark.parametrize("shape", [(64, 50), (7, 9), (1, 5), (3, 40)])
def test_box_extreme_equals_ndimage_filters(dtype, shape):
    img = (RNG.random(shape) * 100).astype(dtype)
    for size in (1, 2, 3, 5, 9, 21, (3, 5), (9, 1)):
        for op, filt in ((np.minimum, ndi.minimum_filter), (np.maximum, ndi.maximum_filter)):
            want = filt(img, size=size, mode="reflect")
            got = box_extreme(img, size, op)
            assert got.dtype == want.dtype
            np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("sigma,level", [(0, 0.5), (1, 0.5), (3, 0.52), (1, 0.3)])
def test_fill_holes_equals_binary_fill_holes(sigma, level):
    noise = RNG.random((120, 90))
    mask = (ndi.gaussian_filter(noise, sigma) if sigma else noise) > level
    np.testing.assert_array_equal(fill_holes(mask), ndi.binary_fill_holes(mask))
    np.testing.assert_array_equal(fill_holes(np.ones((4, 4), bool)), np.ones((4, 4), bool))


@pytest.mark.parametrize("m,n", [(1, 0), (3, 1), (5, 2), (9, 3), (1, 1), (1, 2)])
def test_octagon_opening_equals_scikit_image(m, n):
    from skimage.morphology import octagon, opening

    from neurotox.imaging.neurites import _grey

    img = ndi.gaussian_filter(RNG.random((70, 61)).astype(np.float32), 1.0)
    fps = octagon(m, n, decomposition="sequence")
    np.testing.assert_array_equal(_grey(_grey(img, fps, np.minimum), fps, np.maximum),
                                  opening(img, fps))


def _bilinear_reference(small, factor, shape):
    """Bilinear upsampling written out directly (gathers at full resolution)."""
    from neurotox.imaging.preprocess import _axis_weights

    r0, r1, fr = _axis_weights(shape[0], factor, small.shape[0])
    c0, c1, fc = _axis_weights(shape[1], factor, small.shape[1])
    by_col = small[:, c0] + fc[None, :] * (small[:, c1] - small[:, c0])
    return (by_col[r0] + fr[:, None] * (by_col[r1] - by_col[r0])).astype(np.float32)


@pytest.mark.parametrize("shape,factor", [((64, 64), 2), ((100, 37), 3), ((10, 10), 11),
                                          ((9, 4), 4)])
def test_block_upsampling_equals_direct_bilinear(shape, factor):
    small = RNG.random((max(1, shape[0] // factor), max(1, shape[1] // factor)))
    small = small.astype(np.float32)
    np.testing.assert_array_equal(upsample_blocks(small, factor, shape),
                                  _bilinear_reference(small, factor, shape))


def _reference_lengths(skel):
    """Corner-count pixel lengths on whole-image masks (the rule of pixel_lengths)."""
    out = np.zeros(skel.shape)
    step_r = np.zeros(skel.shape, int)
    step_c = np.zeros(skel.shape, int)
    degree = np.zeros(skel.shape, int)
    for dr, dc, link in _links(skel):
        end = _shift(link, -dr, -dc)
        half = 0.5 * (ODD_LINK if dr and dc else EVEN_LINK)
        out[link] += half
        out[end] += half
        step_r[link] += dr
        step_c[link] += dc
        step_r[end] -= dr
        step_c[end] -= dc
        degree[link] += 1
        degree[end] += 1
    out[skel & (degree == 2) & ((step_r != 0) | (step_c != 0))] += CORNER
    return out, degree


def test_skeleton_rules_on_the_pixel_list_equal_whole_image_rules():
    from skimage.morphology import skeletonize

    mask = ndi.gaussian_filter(RNG.random((150, 170)), 2) > 0.52
    skel = skeletonize(mask)
    skel[0, :40] = True                          # lines along the image border
    skel[-1, -30:] = True
    skel[:, 0] = True
    lengths, degree = _reference_lengths(skel)
    np.testing.assert_array_equal(pixel_lengths(skel), lengths)
    np.testing.assert_array_equal(neighbour_count(skel), degree * skel)


def test_touching_nuclei_split_and_numbered_by_height():
    rows, cols = np.ogrid[:80, :120]
    pieces = np.zeros((80, 120), np.int32)
    pieces[np.hypot(rows - 40, cols - 30) < 10] = 1     # two touching discs, one object
    pieces[np.hypot(rows - 40, cols - 47) < 12] = 1
    pieces[np.hypot(rows - 20, cols - 95) < 6] = 2      # a lone, smaller nucleus
    labels = split_all(pieces, diameter=20)
    assert labels.max() == 3
    # the larger disc of the pair has the highest distance maximum: number 1
    assert labels[40, 47] == 1 and labels[40, 30] == 2 and labels[20, 95] == 3
    assert ((labels > 0) == (pieces > 0)).all()


def _big_field():
    from neurotox.imaging.synthetic import synthetic_field

    tiles = [synthetic_field(seed, pixel_size=0.5, n_cells=14).neurites for seed in range(4)]
    return np.block([[tiles[0], tiles[1], tiles[0], tiles[2]],
                     [tiles[3], tiles[2], tiles[1], tiles[0]],
                     [tiles[1], tiles[3], tiles[2], tiles[3]],
                     [tiles[2], tiles[0], tiles[3], tiles[1]]])


def test_focus_of_a_large_field_on_tiles_reads_as_the_whole_field(monkeypatch):
    big = _big_field()                                   # 2048 x 2048
    blurred = ndi.gaussian_filter(big.astype(np.float32), 2)
    tiles = qc.focus_score(big), qc.focus_score(blurred)
    assert len(qc._focus_tiles(big.astype(np.float32))) == 16
    monkeypatch.setattr(qc, "FOCUS_MAX_PIXELS", big.size)
    whole = qc.focus_score(big), qc.focus_score(blurred)
    assert tiles[0] == pytest.approx(whole[0], rel=0.05)
    assert tiles[1] == pytest.approx(whole[1], rel=0.05)
    assert tiles[1] < 0.6 * tiles[0]                     # a 2 px blur still reads as blur


def test_fine_structure_of_a_large_field_on_4_tiles_reads_as_the_whole_field(monkeypatch):
    big = _big_field()                                   # 2048 x 2048
    blurred = ndi.gaussian_filter(big.astype(np.float32), 2)
    tiles = qc.fine_structure_fraction(big), qc.fine_structure_fraction(blurred)
    monkeypatch.setattr(qc, "FINE_SAMPLE_PIXELS", big.size)
    whole = qc.fine_structure_fraction(big), qc.fine_structure_fraction(blurred)
    # 4 tiles of 256 x 256 (a 16th of the field) holding the strongest structure: 0.323
    # against 0.361 for the whole field, both > 100 x the threshold; blurred: none left
    assert tiles[0] == pytest.approx(whole[0], rel=0.15)
    assert tiles == (pytest.approx(0.323, abs=0.005), 0.0) and whole[1] == 0.0


@pytest.mark.parametrize("shape,n_tiles", [((512, 512), 1), ((600, 700), 1),
                                           ((1196, 1196), 4), ((2048, 2048), 4)])
def test_fine_structure_pixel_budget(shape, n_tiles):
    img = np.random.default_rng(0).normal(100, 5, shape).astype(np.float32)
    boxes = qc._focus_tiles(img, 25, max_pixels=qc.FINE_SAMPLE_PIXELS,
                            sample_pixels=qc.FINE_SAMPLE_PIXELS)
    assert len(boxes) == n_tiles
    # measured: 256 x 256 each (a field of at most 4 whole tiles: all of it)
    inner = [img[box][part].shape for box, part in boxes]
    assert inner == ([shape] if n_tiles == 1 else [(256, 256)] * 4)


@pytest.mark.parametrize("threshold_type", [float, np.float64, np.float32])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("low,high", [(0.9, 0.99), (0.5, 0.999), (0.99, 0.9)])
def test_hysteresis_equals_scikit_image(low, high, dtype, threshold_type):
    from skimage.filters import apply_hysteresis_threshold

    from neurotox.imaging.neurites import hysteresis

    img = ndi.gaussian_filter(RNG.normal(size=(150, 130)), 1.5).astype(dtype)
    lo, hi = (threshold_type(q) for q in np.quantile(img.astype(np.float64), [low, high]))
    np.testing.assert_array_equal(hysteresis(img, lo, hi), apply_hysteresis_threshold(img, lo, hi))


@pytest.mark.parametrize("seed", range(4))
def test_thin_by_component_equals_skeletonize(seed):
    from skimage.morphology import skeletonize

    from neurotox.imaging.skeleton import thin

    rng = np.random.default_rng(seed)
    region = ndi.gaussian_filter(rng.random((300, 260)), 6) > 0.495    # blobs and bridges
    region[100:140, 50:120] = True                                      # one thick body
    assert 1 < ndi.label(region, structure=np.ones((3, 3)))[1] <= 16    # thinned one by one
    np.testing.assert_array_equal(thin(region), skeletonize(region))
    speckled = rng.random((64, 64)) > 0.7                               # many components
    np.testing.assert_array_equal(thin(speckled), skeletonize(speckled))


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
def test_level_spacing_from_a_histogram_equals_the_sorting_definition(dtype):
    # the spacing of the levels between the 1st and 99th percentiles, computed from a
    # histogram for integer images: the same as np.percentile + np.unique on the values
    from neurotox.imaging.preprocess import level_spacing

    rng = np.random.default_rng(7)
    top = np.iinfo(dtype).max
    for k in range(60):
        values = (rng.random(rng.integers(2, 4000)) ** rng.uniform(0.3, 3) * top).astype(dtype)
        if k % 3 == 0:
            values = (values // 17 * 17).astype(dtype)     # a 4-bit export: 16 levels
        lo, hi = np.percentile(values, [1, 99])
        used = np.unique(values[(values >= lo) & (values <= hi)])
        want = 1.0 if len(used) < 2 else max(1.0, (used[-1] - used[0]) / (len(used) - 1))
        assert level_spacing(values.reshape(1, -1), 1.0) == pytest.approx(want, abs=1e-9)
