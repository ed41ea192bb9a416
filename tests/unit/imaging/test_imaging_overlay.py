"""Overlay and plate-heatmap PNGs decode and show what they should."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

from neurotox.imaging import analyse_field
from neurotox.imaging.overlay import overlay_png, overlay_rgb, plate_heatmap_png
from neurotox.imaging.synthetic import synthetic_field


def test_overlay_colours_skeleton_by_cell():
    f = synthetic_field(21, n_cells=6, touching_pairs=0)
    res = analyse_field(f.neurites, f.nuclei, pixel_size=f.pixel_size, keep_labels=True)
    rgb = overlay_rgb(f.neurites, res.labels)
    assert rgb.shape == (*f.neurites.shape, 3)
    owner = res.labels.skeleton_owner
    colours = {tuple(rgb[r, c]) for r, c in zip(*np.nonzero(owner > 0), strict=True)}
    assert len(colours) >= min(3, int(owner.max()))
    png = Image.open(io.BytesIO(overlay_png(f.neurites, res.labels)))
    assert png.size == (f.neurites.shape[1], f.neurites.shape[0])


def test_plate_heatmap_96_and_384():
    small = Image.open(io.BytesIO(plate_heatmap_png({"A01": 1.0, "H12": 2.0, "B03": np.nan})))
    big = Image.open(io.BytesIO(plate_heatmap_png({"A01": 1.0, "P24": 2.0})))
    assert big.size[0] > small.size[0]
    assert big.size[1] > small.size[1]


def test_plate_heatmap_colours_wells_by_value_with_a_colour_bar():
    """A01 at the minimum is the colour bar's bottom, H12 at the maximum its top; B03 grey."""
    img = np.asarray(Image.open(io.BytesIO(plate_heatmap_png(
        {"A01": 1.0, "H12": 2.0, "B03": np.nan}, title="Plate P1: x (µm)"))).convert("RGB"))
    top, left, cell = 40, 22, 28
    a01 = img[top + cell // 2, left + cell // 2]
    h12 = img[top + 7 * cell + cell // 2, left + 11 * cell + cell // 2]
    b03 = img[top + cell + cell // 2, left + 2 * cell + cell // 2]
    bar_x = left + 12 * cell + 14
    assert tuple(b03) == (200, 200, 200)
    assert np.abs(a01.astype(int) - img[top + 8 * cell - 2, bar_x]).max() <= 3   # viridis low
    assert np.abs(h12.astype(int) - img[top, bar_x]).max() <= 3                  # viridis high
    assert tuple(a01) != tuple(h12)


def test_no_cell_is_drawn_in_the_unattached_yellow_or_the_outline_blue():
    from matplotlib.colors import rgb_to_hsv

    from neurotox.imaging.overlay import _NUCLEUS, _UNATTACHED, _palette

    hues = rgb_to_hsv(_palette(200)[1:] / 255)[:, 0] * 360
    for reserved in (_UNATTACHED, _NUCLEUS):
        hue = rgb_to_hsv(reserved / 255)[0] * 360
        assert np.abs((hues - hue + 180) % 360 - 180).min() >= 30


def test_non_neuronal_somata_are_outlined_grey():
    # a co-culture field: 16 tumour cells taken as non-neuronal were not drawn at all,
    # so a reviewer could not see why a neurite stopped at them
    from neurotox.imaging.field import FieldLabels
    from neurotox.imaging.overlay import _NON_NEURONAL

    shape = (40, 40)
    rr, cc = np.mgrid[:40, :40]
    other = (rr - 20) ** 2 + (cc - 20) ** 2 <= 64
    zeros = np.zeros(shape, np.int32)
    labels = FieldLabels(zeros, zeros, zeros, np.zeros(shape, bool), other)
    rgb = overlay_rgb(np.zeros(shape, np.uint8) + (other * 100).astype(np.uint8), labels)
    grey = np.all(rgb == _NON_NEURONAL, axis=2)
    assert grey[other].sum() >= 20            # its outline
    assert not grey[~other].any()             # nothing outside it
    assert not grey[12:29, 16:25][4:-4].any()  # nor its inside
