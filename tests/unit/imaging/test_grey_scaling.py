"""A field's numbers do not depend on the grey scaling its pixels were saved with.

An 8-bit merge is saved by labs as it is, as 16-bit RGB (each value x257: a
depth conversion or an RGB48 export) or as 16-bit holding the 8-bit values;
with a burned-in scale bar the x257 file read 2-5x the neurite length (the
bar's filled-in pixels broke the grey-level grid the noise floor is read from).
"""

from __future__ import annotations

import numpy as np
import pytest
import tifffile

from neurotox.imaging import analyse_field
from neurotox.imaging.synthetic import synthetic_field
from neurotox.io.channels import full_scale, grey_grid, remove_annotations
from neurotox.io.plates import PlaneSource, read_plane


def _display_8bit(channel: np.ndarray, low: float, high: float) -> np.ndarray:
    """A channel as a display merge shows it: black below ``low``, white at ``high``."""
    return np.clip((channel.astype(np.float64) - low) / (high - low) * 255, 0, 255) \
        .round().astype(np.uint8)


def _barred_merge(seed: int = 3) -> tuple[np.ndarray, float, dict]:
    """8-bit merge of a synthetic field (nuclei blue, neurites green) on a clipped black
    background, a white bar across a cell (as a bar lies across whatever is there) + label."""
    f = synthetic_field(seed, shape=(384, 384))
    rgb = np.zeros((*f.neurites.shape, 3), np.uint8)
    rgb[..., 1] = _display_8bit(f.neurites, 800, 1500)
    rgb[..., 2] = _display_8bit(f.nuclei, 260, 2600)
    cell = f.truth["cells"][0]
    row, col = int(cell["row"]), int(np.clip(cell["col"] - 60, 0, 384 - 120))
    rgb[row:row + 6, col:col + 120] = 255             # the bar
    for c in (col + 20, col + 40, col + 60):          # its label, glyph by glyph
        rgb[max(row - 16, 0):max(row - 6, 10), c:c + 6] = 255
    return rgb, f.pixel_size, f.truth


def _measure(path, px):
    neurite = read_plane(PlaneSource(path, 1, "green"))
    nuclei = read_plane(PlaneSource(path, 2, "blue"))
    r = analyse_field(neurite, nuclei, pixel_size=px)
    return r.metrics["total_neurite_length_um"], r.metrics["nuclei_count"]


def test_a_barred_merge_reads_the_same_at_8_bit_x257_and_unscaled_16_bit(tmp_path):
    rgb, px, truth = _barred_merge()
    files = {"8-bit": rgb, "x257": rgb.astype(np.uint16) * 257,
             "unscaled": rgb.astype(np.uint16)}
    got = {}
    for name, data in files.items():
        path = tmp_path / f"{name}.tif"
        tifffile.imwrite(path, data, photometric="rgb")
        got[name] = _measure(path, px)
    length8, nuclei8 = got["8-bit"]
    assert nuclei8 == truth["nuclei_count"] == 12
    # dim neurite below the display black level (800) is lost: 735 of 863 µm drawn
    assert 0.8 * truth["total_neurite_length_um"] < length8 < truth["total_neurite_length_um"]
    for name in ("x257", "unscaled"):
        length, nuclei = got[name]
        assert length == pytest.approx(length8, rel=0.01), name
        assert nuclei == pytest.approx(nuclei8, rel=0.01), name


def test_filled_annotation_pixels_stay_on_the_grey_levels_of_the_image():
    plane = (np.arange(64, dtype=np.uint16).reshape(8, 8) % 7) * 257 + 257
    mask = np.zeros(plane.shape, bool)
    mask[3:5, 2:6] = True
    filled = remove_annotations(plane, mask)
    assert grey_grid(plane[~mask]) == (0.0, 257.0)
    assert set(np.unique(filled[mask] % 257)) == {0}
    assert filled[~mask].tolist() == plane[~mask].tolist()


@pytest.mark.parametrize(("top", "dtype", "white"), [
    (255, np.uint8, 255), (255, np.uint16, 255), (65535, np.uint16, 65535),
    (4000, np.uint16, 4095), (1000, np.uint16, 1023)])
def test_full_scale_is_the_top_of_the_bit_depth_holding_the_pixels(top, dtype, white):
    assert full_scale(np.array([[0, top]], dtype)) == white


def _burn_scale_bar(image: np.ndarray) -> np.ndarray:
    """ImageJ's Scale Bar burned into a grey channel: a 78 x 6 bar, its label's glyphs below."""
    out = image.copy()
    white = np.iinfo(out.dtype).max
    out[330:336, 280:358] = white
    for c in (300, 310, 320):
        out[340:350, c:c + 6] = white
    return out


def test_a_scale_bar_burned_into_grey_channels_is_filled_and_counted(tmp_path):
    from neurotox.io.plates import read_plane_checked

    f = synthetic_field(5, shape=(384, 384))
    got = {}
    for name, burn in (("plain", False), ("barred", True)):
        planes, erased = [], 0
        for ch, image in (("w1", f.nuclei), ("w2", f.neurites)):
            path = tmp_path / f"{name}_{ch}.tif"
            tifffile.imwrite(path, _burn_scale_bar(image) if burn else image)
            plane, _, n = read_plane_checked(PlaneSource(path))
            planes.append(plane)
            erased += n
        r = analyse_field(planes[1], planes[0], pixel_size=f.pixel_size)
        got[name] = (r.metrics["nuclei_count"], r.metrics["total_neurite_length_um"], erased)
    assert got["plain"][0] == f.truth["nuclei_count"] == 12
    assert got["plain"][2] == 0
    # bar 78 x 6 and three 6 x 10 glyphs, widened by a pixel (not at the corners), in each
    # of the two channels
    assert got["barred"][2] == 2 * ((6 + 2) * (78 + 2) - 4 + 3 * ((10 + 2) * (6 + 2) - 4))
    assert got["barred"][0] == got["plain"][0]
    assert got["barred"][1] == pytest.approx(got["plain"][1], rel=0.01)


@pytest.mark.parametrize("what", ["saturated nucleus", "edge band", "short square"])
def test_saturated_objects_that_are_no_scale_bar_are_kept(what):
    from neurotox.io.channels import grey_annotation_mask

    plane = np.full((120, 160), 300, np.uint16)
    rows, cols = np.mgrid[:120, :160]
    if what == "saturated nucleus":
        plane[np.hypot(rows - 60, cols - 80) < 12] = 65535
    elif what == "edge band":
        plane[:, 150:] = 65535
    else:
        plane[50:62, 50:62] = 65535
    assert not grey_annotation_mask(plane).any()
