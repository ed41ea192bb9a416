"""Channel files stored as colour (palettes, pseudo-colour) are named in the run notes.

stranger50 (LOW): a plate of pseudo-coloured channel files (one channel saved
as "RGB Color" through a red or green colour table) was read as grey with no
note at all; palette images neither. The reading is right (the grey values
the channel holds), but it is a conversion, and conversions are noted.
"""

from __future__ import annotations

import numpy as np
import pytest
import tifffile
from PIL import Image

from neurotox.assays.neurite.params import NeuriteParameters
from neurotox.assays.neurite.plate import plan_fields
from neurotox.errors import InputError
from neurotox.files import reset_limits, set_limits
from neurotox.imaging.synthetic import synthetic_field
from neurotox.io.plates import PlaneSource, colour_reading, read_plane

GREY = (np.add.outer(np.arange(24), np.arange(32)) * 4).astype(np.uint8)
PSEUDO = ("a pseudo-coloured channel (one channel saved through a colour table as colour): "
          "read as its brightest colour plane at each pixel, the channel's own values")


def _fire() -> np.ndarray:
    """ImageJ's 'Fire'-like LUT, colours by plane (3 x 256), 16-bit as TIFF stores it."""
    i = np.arange(256)
    fire = np.stack([np.clip(i * 3, 0, 255), np.clip(i * 2 - 255, 0, 255),
                     np.clip(np.where(i < 85, i * 3, 510 - i * 3), 0, 255)])
    return (fire * 257).astype(np.uint16)


def _write(path, kind):
    if kind == "grey":
        Image.fromarray(GREY).save(path)
    elif kind == "grey palette":
        Image.fromarray(GREY, "L").convert("P").save(path)
    elif kind == "fire":
        tifffile.imwrite(path, GREY, photometric="palette", colormap=_fire())
    elif kind == "categories":                   # colours that are no LUT: a merge
        image = Image.fromarray(GREY, "P")
        image.putpalette([v for i in range(256) for v in (i, 255 - i, 0)])
        image.save(path)
    elif kind in ("red", "magenta", "grey rgb"):
        planes = {"red": (1, 0, 0), "magenta": (1, 0, 1), "grey rgb": (1, 1, 1)}[kind]
        Image.fromarray(np.stack([GREY * k for k in planes], axis=-1)).save(path)


@pytest.mark.parametrize(("kind", "name", "said"), [
    ("grey", "g.png", None),
    ("grey rgb", "g.png", None),                 # equal planes: grey, no conversion
    ("grey palette", "g.png", "a palette image of greys: read as the palette's grey values"),
    ("fire", "f.tif", "a palette image whose colours are a display look-up table (as ImageJ "
                      "saves an image shown in 'Fire' or 'Green'): read as its palette "
                      "indices, the data"),
    ("categories", "c.png", "a palette image of colours: read as the red, green and blue "
                            "of its palette"),
    ("red", "r.png", PSEUDO),
    ("magenta", "m.png", PSEUDO),
])
def test_how_a_colour_stored_channel_is_read_is_said(tmp_path, kind, name, said):
    _write(tmp_path / name, kind)
    source = PlaneSource(tmp_path / name)
    assert colour_reading(source) == said
    want = np.maximum(GREY, 255 - GREY) if kind == "categories" else GREY   # else its own
    assert np.array_equal(read_plane(source), want)
    assert colour_reading(PlaneSource(tmp_path / name, 0, "red")) is None   # a colour named


def test_a_plate_of_pseudo_coloured_channel_files_gets_a_note_per_file(tmp_path):
    (tmp_path / "img").mkdir()
    for well, seed in (("A01", 1), ("A02", 2)):
        f = synthetic_field(seed, shape=(128, 128))
        for ch, plane, colour in ((1, f.nuclei, 2), (2, f.neurites, 1)):    # blue, green
            grey = np.clip(plane / plane.max() * 255, 0, 255).astype(np.uint8)
            rgb = np.zeros((*grey.shape, 3), np.uint8)
            rgb[..., colour] = grey
            Image.fromarray(rgb).save(tmp_path / "img" / f"P_{well}_s1_w{ch}.png")
    params = NeuriteParameters(pixel_size_um=0.65)
    _, notes = plan_fields(tmp_path / "img", params, overlays="none")
    said = [n for n in notes if "pseudo-coloured" in n]
    assert said == [f"the neurite file P_A01_s1_w2.png of the first field is {PSEUDO}",
                    f"the nuclear file P_A01_s1_w1.png of the first field is {PSEUDO}"]
    assert not [n for n in notes if n.startswith("warning:") and "colour" in n]


def test_a_palette_of_one_colour_table_is_said_as_both(tmp_path):
    # red shades in falling order: no display LUT, so read through the palette as colour,
    # which is one channel's red colour table
    image = Image.fromarray(GREY, "P")
    image.putpalette([v for i in range(256) for v in (255 - i, 0, 0)])
    image.save(tmp_path / "r.png")
    assert colour_reading(PlaneSource(tmp_path / "r.png")) == (
        "a palette image of colours: read as the red, green and blue of its palette; " + PSEUDO)
    assert np.array_equal(read_plane(PlaneSource(tmp_path / "r.png")), 255 - GREY)


@pytest.mark.parametrize(("kind", "name", "size"), [
    ("fire", "f.tif", "more than"),             # 768 bytes of indices
    ("categories", "c.png", "2.2 KiB, more than"),     # PIL's count: 3 bytes a pixel
])
def test_the_palette_file_is_read_for_its_note_within_the_unpacked_size_limit(
        tmp_path, kind, name, size):
    _write(tmp_path / name, kind)
    token = set_limits(max_unpacked_bytes=GREY.size - 1)    # the 24 x 32 indices do not fit
    try:
        with pytest.raises(InputError, match=rf"{name}: the image unpacks to {size} the limit of "
                                             r"767 bytes \(raise it with"):
            colour_reading(PlaneSource(tmp_path / name))
    finally:
        reset_limits(token)
