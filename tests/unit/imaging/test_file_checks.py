"""Damaged image files are named before any field is analysed (stranger48 #6).

A truncated last file ended a 24-field run after 25 of its 29 s, with a raw
message (``image has no pixels (shape (0,))``).
"""

from __future__ import annotations

import io
import re

import numpy as np
import pytest
import tifffile
from PIL import Image

from neurotox.assays.neurite.params import NeuriteParameters
from neurotox.assays.neurite.plate import plan_fields
from neurotox.errors import FormatError
from neurotox.io.plates import FileHeader, read_header

IMAGE = (np.arange(96 * 128, dtype=np.uint32).reshape(96, 128) % 4000).astype(np.uint16)


def _tiff(**kwargs) -> bytes:
    buf = io.BytesIO()
    tifffile.imwrite(buf, IMAGE, **kwargs)
    return buf.getvalue()


def _header_last() -> bytes:
    """A TIFF whose image header follows its pixels (as MetaMorph writes them)."""
    head = _tiff()
    with tifffile.TiffFile(io.BytesIO(head)) as tif:
        page = tif.pages.first
        start, count = page.dataoffsets[0], page.databytecounts[0]
    pixels = head[start:start + count]
    from struct import pack

    # header -> IFD after the pixels: the same file, the other order
    ifd_at = 8 + len(pixels)
    tags = [(256, 3, 1, 128), (257, 3, 1, 96), (258, 3, 1, 16), (259, 3, 1, 1),
            (262, 3, 1, 1), (273, 4, 1, 8), (277, 3, 1, 1), (278, 3, 1, 96),
            (279, 4, 1, len(pixels))]
    ifd = pack("<H", len(tags)) + b"".join(
        pack("<HHI", t, k, n) + (pack("<HH", v, 0) if k == 3 else pack("<I", v))
        for t, k, n, v in tags) + pack("<I", 0)
    return b"II*\x00" + pack("<I", ifd_at) + pixels + ifd


def _pil(fmt: str) -> bytes:
    buf = io.BytesIO()
    Image.fromarray((IMAGE // 16).astype(np.uint8)).save(buf, format=fmt)
    return buf.getvalue()


@pytest.mark.parametrize(("name", "data", "problem"), [
    ("a.tif", _tiff(), None),
    ("a.tif", _tiff()[:len(_tiff()) // 2],
     rf"truncated or corrupt TIFF: its image data end at byte {len(_tiff())}, past the end "
     rf"of the file \({len(_tiff()) // 2} bytes\)"),
    ("a.tif", _tiff(compression="zlib", rowsperstrip=16)[:-400],
     r"truncated or corrupt TIFF: its image data end at byte \d+, past the end of the file"),
    ("a.tif", _header_last(), None),
    ("a.tif", _header_last()[:-300],
     r"truncated or corrupt TIFF: no image header within the file \(\d+ bytes\)"),
    ("a.tif", b"", r"truncated or corrupt TIFF: the file is empty \(0 bytes\)"),
    ("a.tif", b"not an image\n", r"truncated or corrupt TIFF: not a TIFF file"),
    ("a.png", _pil("PNG"), None),
    ("a.png", _pil("PNG")[:len(_pil("PNG")) // 2],
     r"truncated or corrupt PNG: the file ends before its end chunk \(IEND\)"),
    ("a.jpg", _pil("JPEG"), None),
    ("a.jpg", _pil("JPEG")[:len(_pil("JPEG")) // 2],
     r"truncated or corrupt JPEG: the file ends before its end marker"),
], ids=["tif", "tif-half", "tif-zlib-cut", "header-last", "header-last-cut", "empty", "text",
        "png", "png-cut", "jpg", "jpg-cut"])
def test_damaged_files_are_found_from_their_header(tmp_path, name, data, problem):
    path = tmp_path / name
    path.write_bytes(data)
    header = read_header(path)
    if problem is None:
        assert header == FileHeader(None, (96, 128), lossy=name == "a.jpg")
    else:
        assert header.problem is not None and header.shape is None
        assert re.match(problem, header.problem), header.problem


@pytest.mark.parametrize(("compression", "lossy"), [("jpeg", True), ("zlib", False),
                                                     (None, False)])
def test_the_header_says_whether_a_tiff_is_lossy_jpeg(tmp_path, compression, lossy):
    tifffile.imwrite(tmp_path / "a.tif", (IMAGE // 16).astype(np.uint8), compression=compression)
    assert read_header(tmp_path / "a.tif") == FileHeader(None, (96, 128), lossy)


def test_a_truncated_last_file_stops_the_run_before_any_field_is_analysed(tmp_path):
    for well in ("A01", "A02", "A03"):
        for ch in (1, 2):
            tifffile.imwrite(tmp_path / f"P_{well}_s1_w{ch}.tif", IMAGE + 100 * ch,
                             imagej=True, resolution=(1 / 0.65, 1 / 0.65),
                             metadata={"unit": "um"})
    last = tmp_path / "P_A03_s1_w2.tif"
    whole = last.read_bytes()
    last.write_bytes(whole[:len(whole) - 5000])
    with pytest.raises(FormatError, match=r"P_A03_s1_w2\.tif: truncated or corrupt TIFF: its "
                                          r"image data end at byte \d+, past the end of the "
                                          r"file \(\d+ bytes\)"):
        plan_fields(tmp_path, NeuriteParameters())
