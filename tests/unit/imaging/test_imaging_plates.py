"""Plate-folder ingestion: naming schemes, thumbnails, patterns, planes, pixel size."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import tifffile
from hypothesis import given, settings
from hypothesis import strategies as st

from neurotox.errors import FormatError, InputError
from neurotox.io.plates import (
    PlaneSource,
    field_sources,
    pattern_scheme,
    pixel_size_um,
    read_plane,
    scan_plate,
)

GUID = "A1B2C3D4-1111-2222-3333-444455556666"


def _touch(folder: Path, names: list[str], shape=(8, 8)) -> None:
    for n in names:
        tifffile.imwrite(folder / n, np.zeros(shape, np.uint16))


@pytest.mark.parametrize(("names", "scheme", "expected"), [
    (["P1_B03_s2_w1.tif", "P1_B03_s2_w2.tif"], "imagexpress",
     [("P1", "B03", 2, "1"), ("P1", "B03", 2, "2")]),
    ([f"P1_B03_s1_w1{GUID}.tif", f"P1_B03_s1_w2{GUID}.tif", "P1_B03_s1_w1_thumbXYZ.tif"],
     "imagexpress", [("P1", "B03", 1, "1"), ("P1", "B03", 1, "2")]),
    (["P1_C11_w1.TIF", "P1_C11_w2.TIF"], "imagexpress",
     [("P1", "C11", 1, "1"), ("P1", "C11", 1, "2")]),
    (["r02c03f01p01-ch1sk1fk1fl1.tiff", "r02c03f01p01-ch2sk1fk1fl1.tiff"], "operetta",
     [(None, "B03", 1, "1"), (None, "B03", 1, "2")]),
    (["PL_B03f00d0.TIF", "PL_B03f00d1.TIF"], "cellomics",
     [("PL", "B03", 0, "1"), ("PL", "B03", 0, "2")]),
], ids=["imagexpress", "imagexpress-guid-thumb", "imagexpress-single-site", "operetta",
        "cellomics"])
def test_naming_schemes(tmp_path, names, scheme, expected):
    _touch(tmp_path, names)
    idx = scan_plate(tmp_path)
    assert idx.scheme.name == scheme
    got = [(r.plate, r.well, r.field, r.channel) for r in idx.files.itertuples()]
    want = [(p or tmp_path.name, w, f, c) for p, w, f, c in expected]
    assert got == want
    assert len(idx.thumbnails) == sum("thumb" in n for n in names)


def test_imagexpress_timepoint_folders(tmp_path):
    for t in (1, 2):
        (tmp_path / "PL7" / f"TimePoint_{t}").mkdir(parents=True)
        _touch(tmp_path / "PL7" / f"TimePoint_{t}", ["PL7_A01_s1_w1.tif", "PL7_A01_s1_w2.tif"])
    idx = scan_plate(tmp_path)
    assert sorted(set(idx.files["timepoint"])) == ["1", "2"]
    fields = field_sources(idx, neurite_channel=2, nuclei_channel=1)
    assert [f.key for f in fields] == ["PL7/A01/s1/t1", "PL7/A01/s1/t2"]


def test_user_pattern(tmp_path):
    _touch(tmp_path, ["a1_f1_c1.tif", "a1_f1_c2.tif", "c12_f3_c2.tif", "notes.tif"])
    idx = scan_plate(tmp_path, pattern="{well}_f{field}_c{channel}.tif")
    assert list(idx.files["well"]) == ["A01", "A01", "C12"]
    assert [p.name for p in idx.unmatched] == ["notes.tif"]
    fields = field_sources(idx, neurite_channel=2, nuclei_channel=1)
    assert [(f.well, f.field, f.nuclei is None) for f in fields] == [("A01", 1, False),
                                                                   ("C12", 3, True)]


@pytest.mark.parametrize(("pattern", "message"), [
    ("{well}_{site}.tif", r"unknown placeholder '\{site\}' in --pattern"),
    ("{well}_{well}_{channel}.tif", r"placeholder '\{well\}' appears twice"),
])
def test_bad_patterns(pattern, message):
    with pytest.raises(InputError, match=message):
        pattern_scheme(pattern)


def test_single_channel_pattern(tmp_path):
    _touch(tmp_path, ["007a.png", "007g.png"])
    idx = scan_plate(tmp_path, pattern="{field}{timepoint}.png")
    assert list(idx.files["channel"]) == ["1", "1"]
    assert list(idx.files["timepoint"]) == ["a", "g"]
    fields = field_sources(idx, neurite_channel=1, nuclei_channel=None)
    assert [(f.well, f.field, f.timepoint) for f in fields] == [("A01", 7, "a"), ("A01", 7, "g")]


def test_no_scheme_matches(tmp_path):
    _touch(tmp_path, ["image_one.tif"])
    with pytest.raises(FormatError, match=r"no file name matches the known naming schemes "
                                          r".*give --pattern; first files: 'image_one.tif'"):
        scan_plate(tmp_path)


def test_missing_channel_is_reported(tmp_path):
    _touch(tmp_path, ["P1_B03_s1_w1.tif", "P1_B03_s1_w2.tif"])
    idx = scan_plate(tmp_path)
    with pytest.raises(InputError, match=r"channel '3' not found; channels in the plate: "
                                         r"'1', '2'"):
        field_sources(idx, neurite_channel=3, nuclei_channel=1)


def test_empty_folder(tmp_path):
    with pytest.raises(InputError, match="no image files"):
        scan_plate(tmp_path)


def test_multichannel_stack(tmp_path):
    stack = np.stack([np.full((6, 7), 1, np.uint16), np.full((6, 7), 2, np.uint16)])
    tifffile.imwrite(tmp_path / "P1_B03_s1_w1.tif", stack)
    idx = scan_plate(tmp_path)
    (src,) = field_sources(idx, neurite_channel=2, nuclei_channel=1)
    assert read_plane(src.neurite).max() == 2
    assert read_plane(src.nuclei).max() == 1
    with pytest.raises(FormatError, match="channel 3 requested, file holds 2"):
        read_plane(PlaneSource(src.neurite.path, 2))


@pytest.mark.parametrize(("kwargs", "expected"), [
    ({"imagej": True, "resolution": (1 / 0.65, 1 / 0.65), "metadata": {"unit": "um"}}, 0.65),
    ({"resolution": (25400 / 0.325, 25400 / 0.325), "resolutionunit": "INCH"}, 0.325),
    ({"resolution": (72, 72), "resolutionunit": "INCH"}, None),
    ({"ome": True, "metadata": {"PhysicalSizeX": 0.5, "PhysicalSizeY": 0.5}}, 0.5),
    ({}, None),
], ids=["imagej", "inch", "default-72dpi", "ome", "none"])
def test_pixel_size_from_metadata(tmp_path, kwargs, expected):
    path = tmp_path / "x.tif"
    tifffile.imwrite(path, np.zeros((4, 4), np.uint16), **kwargs)
    got = pixel_size_um(path)
    assert got == (pytest.approx(expected, rel=1e-4) if expected else None)


@settings(max_examples=30, deadline=None)
@given(row=st.integers(1, 16), col=st.integers(1, 24), site=st.integers(1, 99),
       channel=st.integers(1, 5))
def test_imagexpress_names_round_trip(row, col, site, channel):
    name = f"PLATE-7_{chr(64 + row)}{col:02d}_s{site}_w{channel}.tif"
    from neurotox.io.plates import SCHEMES, _record

    m = SCHEMES["imagexpress"].regex.match(name)
    rec = _record(m, SCHEMES["imagexpress"], Path(name))
    assert (rec["plate"], rec["well"], rec["field"], rec["channel"]) == (
        "PLATE-7", f"{chr(64 + row)}{col:02d}", site, str(channel))


def test_several_patterns_each_file_read_by_the_first_that_matches(tmp_path):
    _touch(tmp_path, ["C3-DIV14_DMSO24h_MAP2_160.tif", "C3-DIV14_Trici24h_MAP2_7.tif",
                      "MAX_24h_DMSO_FGF14_568_MAP2_647_01_blue.tif", "notes.tif"])
    idx = scan_plate(tmp_path, pattern=["{*}DIV14_{group}24h_{*}_{field}.tif",
                                        "MAX_24h_{group}_FGF14{*}_{field}_blue.tif"])
    got = sorted(zip(idx.files["group"], idx.files["field"], idx.files["well"], strict=True))
    assert got == [("DMSO", 1, "DMSO-1"), ("DMSO", 160, "DMSO-160"), ("Trici", 7, "Trici-7")]
    assert [p.name for p in idx.unmatched] == ["notes.tif"]
    assert idx.scheme.description.startswith("user patterns '{*}DIV14")
    with pytest.raises(InputError, match=r"unknown placeholder '\{grup\}' \(did you mean "
                                         r"'\{group\}'\?\)"):
        pattern_scheme(["{group}_{field}.tif", "{grup}_{field}.png"])


def test_unmatched_brace_in_a_pattern_is_named():
    with pytest.raises(InputError, match=r"unmatched brace in --pattern 'SH_\{group\}_\{\*'"):
        pattern_scheme("SH_{group}_{*")
