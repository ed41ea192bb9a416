"""RGB(A) merges as labs save them: colour channels, empty planes, burned-in scale bars."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile
from PIL import Image

from neurotox.errors import InputError
from neurotox.imaging.channels import blank_reason
from neurotox.io.channels import annotation_mask, colour_index
from neurotox.io.plates import (
    PlaneSource,
    field_sources,
    is_colour_merge,
    read_plane,
    scan_plate,
)


def blank_plane(source: PlaneSource) -> str | None:
    return blank_reason(read_plane(source), merge=is_colour_merge(source))


def _merge(seed: int = 0, *, red: bool = False, bar: bool = True) -> np.ndarray:
    """256 x 256 8-bit merge: blue nuclei (discs), green lines, red empty; white scale bar."""
    rng = np.random.default_rng(seed)
    rows, cols = np.mgrid[:256, :256]
    rgb = np.zeros((256, 256, 3), np.uint8)
    blue = np.zeros((256, 256))
    for r, c in rng.integers(30, 226, size=(8, 2)):
        blue = np.maximum(blue, 200.0 * (np.hypot(rows - r, cols - c) < 7))
    rgb[..., 2] = np.clip(blue + rng.normal(3, 1, blue.shape), 0, 255).astype(np.uint8)
    green = 150.0 * (np.abs(rows - 0.5 * cols - 40) < 1.5)
    rgb[..., 1] = np.clip(green + rng.normal(3, 1, blue.shape), 0, 255).astype(np.uint8)
    if red:
        rgb[..., 0] = rgb[..., 2]
    if bar:
        rgb[240:244, 150:240] = 255
    return rgb


@pytest.mark.parametrize(("name", "index"), [("red", 0), ("Green", 1), (" blue ", 2), ("b", 2),
                                              ("alpha", 3), ("2", None), ("cyan", None)])
def test_colour_names(name, index):
    assert colour_index(name) == index


def test_scale_bar_is_masked_and_set_to_background(tmp_path):
    rgb = _merge()
    path = tmp_path / "field.png"
    Image.fromarray(rgb).save(path)
    assert annotation_mask(rgb)[242, 200]
    assert not annotation_mask(rgb)[120, 120]
    blue = read_plane(PlaneSource(path, 2, "blue"))
    assert blue[240:244, 150:240].max() <= 10       # the bar is gone from the nuclei plane
    assert blue.max() >= 200                         # the nuclei are not


@pytest.mark.parametrize("suffix", [".png", ".jpg"])
def test_soft_grey_edge_of_a_scale_bar_goes_with_it(tmp_path, suffix):
    # Saved as JPEG, a thin white bar fades through grey rows (R = G = B of 70-130)
    # that are not near-white; left behind, they were traced as a neurite.
    rgb = _merge(bar=False)
    rgb[242, 150:240] = 255
    rgb[241, 150:240], rgb[240, 150:240], rgb[239, 150:240] = 130, 100, 74
    path = tmp_path / f"field{suffix}"
    Image.fromarray(rgb).save(path, **({"quality": 90} if suffix == ".jpg" else {}))
    green = read_plane(PlaneSource(path, 1, "green"))
    assert green[236:247, 152:238].max() <= 12
    assert green.max() >= 120                        # the green line is kept


@pytest.mark.parametrize("suffix", [".png", ".jpg", ".tif"])
def test_empty_red_plane_is_named_blank(tmp_path, suffix):
    path = tmp_path / f"field{suffix}"
    rgb = _merge()
    if suffix == ".tif":
        tifffile.imwrite(path, rgb, photometric="rgb")
    else:
        Image.fromarray(rgb).save(path, quality=95, subsampling=0) if suffix == ".jpg" else \
            Image.fromarray(rgb).save(path)
    assert blank_plane(PlaneSource(path, 0, "red")) is not None
    assert blank_plane(PlaneSource(path, 2, "blue")) is None
    assert blank_plane(PlaneSource(path, 1, "green")) is None


@pytest.mark.parametrize(("plane", "reason"), [
    (np.zeros((64, 64), np.uint16), r"constant \(every pixel 0\)"),
    (np.full((64, 64), 700, np.uint16), r"constant \(every pixel 700\)"),
    (np.random.default_rng(0).normal(300, 5, (200, 200)).astype(np.uint16), r"no signal"),
])
def test_blank_reasons(plane, reason):
    import re

    assert re.search(reason, blank_reason(plane))


def test_dim_16_bit_nuclei_are_not_blank():
    # N1E-115-like: background ~206, nuclei ~230-320 counts on a 16-bit camera
    rng = np.random.default_rng(1)
    img = rng.normal(206, 3, (200, 200))
    rows, cols = np.mgrid[:200, :200]
    for r, c in rng.integers(20, 180, size=(10, 2)):
        img += 60 * (np.hypot(rows - r, cols - c) < 6)
    assert blank_reason(img.astype(np.uint16)) is None


def test_colour_channels_select_planes_of_one_file_fields(tmp_path):
    Image.fromarray(_merge()).save(tmp_path / "ctrl 1, 0.1 uM.png")
    index = scan_plate(tmp_path, pattern="{*}.png")
    src = field_sources(index, neurite_channel="green", nuclei_channel="blue")[0]
    assert (src.neurite.plane, src.nuclei.plane) == (1, 2)
    assert src.nuclei.describe() == "channel 'blue' (plane 3) of ctrl 1, 0.1 uM.png"


def test_unknown_channel_name_is_an_error(tmp_path):
    Image.fromarray(_merge()).save(tmp_path / "a.png")
    index = scan_plate(tmp_path, pattern="{*}.png")
    with pytest.raises(InputError, match=r"channel 'cyan' must be a plane number .* or a "
                                         r"colour \(red, green, blue\)"):
        field_sources(index, neurite_channel="cyan", nuclei_channel=None)


def test_misspelt_channel_colour_names_the_option_and_the_colour(tmp_path):
    Image.fromarray(_merge()).save(tmp_path / "a.png")
    index = scan_plate(tmp_path, pattern="{*}.png")
    with pytest.raises(InputError, match=r"--neurite-channel: channel 'gren' \(did you mean "
                                         r"'green'\?\)"):
        field_sources(index, neurite_channel="gren", nuclei_channel="blue")
    with pytest.raises(InputError, match=r"--nuclei-channel: channel 'bleu' \(did you mean "
                                         r"'blue'\?\)"):
        field_sources(index, neurite_channel="green", nuclei_channel="bleu")


def test_misspelt_pattern_placeholder_gets_a_suggestion(tmp_path):
    Image.fromarray(_merge()).save(tmp_path / "A01_s1.png")
    with pytest.raises(InputError, match=r"unknown placeholder '\{feild\}' \(did you mean "
                                         r"'\{field\}'\?\)"):
        scan_plate(tmp_path, pattern="{well}_s{feild}.png")


def test_white_where_dyes_overlap_in_a_magenta_green_merge_is_kept():
    # colour-blind-safe merges: nuclei magenta (red + blue), neurites/cytoplasm green; a
    # bright nucleus in bright cytoplasm is white and was erased as a burned-in label
    # (its cell lost; stranger's trial F16). The scale bar on background still goes.
    rows, cols = np.mgrid[:128, :128]
    rgb = np.zeros((128, 128, 3), np.uint8)
    cyto = np.hypot(rows - 60, cols - 60) < 22
    nucleus = np.hypot(rows - 60, cols - 60) < 9
    rgb[cyto, 1] = 240
    rgb[nucleus, 0] = rgb[nucleus, 2] = 240
    rgb[110:113, 20:90] = 255                            # the bar, on black
    mask = annotation_mask(rgb)
    assert not mask[60, 60] and not mask[cyto].any()
    assert mask[111, 20:90].all()


def test_an_rgb_tiff_stored_plane_by_plane_is_the_same_merge(tmp_path):
    # photometric RGB with planarconfig 'separate' (3 x rows x cols) kept its scale bar,
    # measured as neurite and nuclei (stranger's trial F8)
    rgb = _merge()
    tifffile.imwrite(tmp_path / "chunky.tif", rgb, photometric="rgb")
    tifffile.imwrite(tmp_path / "planar.tif", np.moveaxis(rgb, -1, 0), photometric="rgb",
                     planarconfig="separate")
    for colour, k in (("green", 1), ("blue", 2)):
        chunky, planar = (read_plane(PlaneSource(tmp_path / name, k, colour))
                          for name in ("chunky.tif", "planar.tif"))
        assert np.array_equal(chunky, planar)
        assert planar[240:244, 150:240].max() <= 10        # the bar is gone


def test_an_imagej_fire_lut_is_read_as_its_indices(tmp_path):
    # ImageJ saves an 8-bit image shown with a colour LUT as a palette TIFF: the indices
    # are the data. Read through the 'Fire' colours, a MAP2 field gave 7 cells instead of 3
    # (stranger's trial F14); a palette whose colours are categories is still read as colour
    index = np.arange(256)
    fire = np.stack([np.clip(index * 3, 0, 255), np.clip(index * 2 - 255, 0, 255),
                     np.clip(np.where(index < 85, index * 3, 510 - index * 3), 0, 255)])
    img = (np.add.outer(np.arange(32), np.arange(32)) * 4).astype(np.uint8)
    tifffile.imwrite(tmp_path / "fire.tif", img, photometric="palette",
                     colormap=(fire * 257).astype(np.uint16))
    assert np.array_equal(read_plane(PlaneSource(tmp_path / "fire.tif")), img)
    from neurotox.io.plates import display_lut
    assert display_lut(fire.T)
    assert not display_lut(np.array([[0, 0, 0], [255, 255, 255], [0, 0, 255], [255, 0, 0]]))


def test_a_nucleus_under_the_scale_bar_is_filled_across_it_not_cut(tmp_path):
    # the bar was set to the background, cutting the nucleus under it in pieces: one
    # nucleus read as 3 cells in SH_dif_HU_0,1_1.jpg (stranger41 F5). Masked pixels are now
    # filled from the pixels around them
    from scipy import ndimage as ndi

    rgb = _merge(bar=False)
    rows, cols = np.mgrid[:256, :256]
    disc = np.hypot(rows - 242, cols - 200) < 9
    rgb[disc, 2] = 200
    rgb[240:244, 150:240] = 255                          # the bar across the nucleus
    path = tmp_path / "field.png"
    Image.fromarray(rgb).save(path)
    blue = read_plane(PlaneSource(path, 2, "blue"))
    under = blue[240:244, 196:205]                       # bar pixels inside the nucleus
    assert under.min() >= 150                            # filled from the nucleus around
    labels, n = ndi.label(blue[225:256, 185:216] > 100)
    assert n == 1                        # one object (set to background: two halves)
    assert (labels > 0).sum() == pytest.approx(disc.sum(), rel=0.05)   # 241 of 249 px
    assert blue[240:244, 150:185].max() <= 10            # on background the bar is gone


def test_harmonic_fill_restores_a_linear_ramp_exactly():
    from neurotox.io.channels import harmonic_fill

    ramp = np.add.outer(np.arange(40.0), 2.0 * np.arange(30.0))   # harmonic: Laplacian 0
    mask = np.zeros(ramp.shape, bool)
    mask[10:14, 5:25] = True
    holed = np.where(mask, 0.0, ramp)
    np.testing.assert_allclose(harmonic_fill(holed, mask), ramp, atol=1e-9)
    mask[0:3, 0:4] = True             # at the image corner: within the values around it
    corner = harmonic_fill(np.where(mask, 0.0, ramp), mask)[0:3, 0:4]
    assert corner.min() >= ramp[0:4, 0:5][~mask[0:4, 0:5]].min()
    assert corner.max() <= ramp[0:4, 0:5][~mask[0:4, 0:5]].max()


def test_a_label_glyph_on_a_nucleus_goes_with_the_rest_of_its_label(tmp_path):
    # the "m" of "100 µm" lying on a bright nucleus is ringed by colour and was kept as
    # overlapping dyes, a white spot on the nucleus (stranger41 F5); next to the other
    # glyphs of its label it is overlay, filled from the nucleus around it
    rgb = _merge(bar=False)
    rows, cols = np.mgrid[:256, :256]
    disc = np.hypot(rows - 250, cols - 222) < 9
    rgb[disc, 2] = 200
    rgb[236:239, 150:240] = 255                          # the bar, on background
    for c in (200, 207, 214, 221):                       # glyphs 3 px apart, the last on
        rgb[246:253, c:c + 4] = 255                      # the nucleus
    mask = annotation_mask(rgb)
    assert mask[246:253, 221:225].all()
    assert not mask[disc & (rows > 254)].any()           # the nucleus itself is kept
    path = tmp_path / "field.png"
    Image.fromarray(rgb).save(path)
    blue = read_plane(PlaneSource(path, 2, "blue"))
    assert 150 <= blue[246:253, 221:225].min() and blue[246:253, 221:225].max() <= 210
