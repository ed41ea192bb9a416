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
    # stranger48 #11: Phenix 3-digit fields, ImageXpress names saved as PNG, one OME-TIFF
    # per field (with or without a plate in the name) were "give --pattern"
    (["r02c03f001p01-ch1sk1fk1fl1.tiff", "r02c03f012p001-ch2sk1fk1fl1.tiff"], "operetta",
     [(None, "B03", 1, "1"), (None, "B03", 12, "2")]),
    (["P1_B03_s2_w1.png", "P1_B03_s2_w2.PNG"], "imagexpress",
     [("P1", "B03", 2, "1"), ("P1", "B03", 2, "2")]),
    (["P1_B03_s2.ome.tif", "P1_B03_s10.ome.tif", "P1_B4_s1.OME.TIFF"], "ome-tiff",
     [("P1", "B03", 2, "1"), ("P1", "B03", 10, "1"), ("P1", "B04", 1, "1")]),
    (["B03_s1_w1.ome.tif", "B03_s1_w2.ome.tif"], "ome-tiff",
     [(None, "B03", 1, "1"), (None, "B03", 1, "2")]),
], ids=["imagexpress", "imagexpress-guid-thumb", "imagexpress-single-site", "operetta",
        "cellomics", "phenix-3-digit-fields", "imagexpress-png", "ome-per-field",
        "ome-per-field-and-channel"])
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


def test_imagexpress_unpadded_wells(tmp_path):
    """stranger26 F6: MetaXpress names with wells A1, H12 were skipped by the scheme."""
    _touch(tmp_path, ["PL1_A1_s1_w1.tif", "PL1_A1_s1_w2.tif", "PL1_H12_s2_w1.tif",
                      "PL1_P24_w2.tif"])
    idx = scan_plate(tmp_path)
    assert idx.scheme.name == "imagexpress" and idx.unmatched == []
    assert [(r.well, r.field, r.channel) for r in idx.files.itertuples()] == [
        ("A01", 1, "1"), ("A01", 1, "2"), ("H12", 2, "1"), ("P24", 1, "2")]


def test_plate_read_as_dot_is_named_after_its_folder(tmp_path, monkeypatch):
    """stranger26 F13: ``neurotox neurite .`` gave plate (and study) names ''."""
    (tmp_path / "plate7").mkdir()
    _touch(tmp_path / "plate7", ["a.tif"])
    monkeypatch.chdir(tmp_path / "plate7")
    for folder in (".", "./"):
        idx = scan_plate(folder, pattern="{*}.tif")
        assert list(idx.files["plate"]) == ["plate7"]


def test_earlier_neurotox_outputs_in_the_plate_folder_are_skipped(tmp_path):
    """stranger26 F10: an earlier run's overlay PNGs saved beside the images were measured."""
    from neurotox.io.output import OutputDir

    _touch(tmp_path, ["a.tif", "b.tif"])
    with OutputDir(tmp_path / "analysis" / "run1") as od:
        od.write_bytes("overlays/a.png", b"not read")
    (tmp_path / "own").mkdir()     # someone else's manifest.json: an ordinary folder
    (tmp_path / "own" / "manifest.json").write_text('{"files": []}')
    _touch(tmp_path / "own", ["c.tif"])
    idx = scan_plate(tmp_path, pattern="{*}")
    assert sorted(p.name for p in idx.files["path"]) == ["a.tif", "b.tif", "c.tif"]
    assert idx.outputs == [tmp_path / "analysis" / "run1"]


def test_channel_number_picks_a_plane_of_a_file_without_channel_names(tmp_path):
    """stranger26 F9: ``--neurite-channel 1`` on a 3-page TIFF named without a channel
    was 'give the channel number'; plane 2 worked."""
    stack = np.stack([np.full((6, 7), v, np.uint16) for v in (10, 20, 30)])
    tifffile.imwrite(tmp_path / "field.tif", stack, photometric="minisblack", metadata=None)
    tifffile.imwrite(tmp_path / "grey.tif", np.full((6, 7), 5, np.uint16))
    idx = scan_plate(tmp_path, pattern="{*}.tif")
    for channel, want in ((1, [10, 5]), (2, [20, None]), (3, [30, None])):
        fields = field_sources(idx, neurite_channel=channel, nuclei_channel=None)
        got = []
        for f in fields:
            try:
                got.append(int(read_plane(f.neurite).max()))
            except FormatError as exc:
                assert "requested, but the file holds a single plane" in str(exc)
                got.append(None)
        assert got == want


def test_grey_palette_png_is_one_plane(tmp_path):
    """stranger26 F4: a grey palette PNG was read as RGB ('plane 2 ... is blank')."""
    from PIL import Image

    grey = (np.arange(48, dtype=np.uint8).reshape(6, 8) * 5)
    img = Image.fromarray(grey, "L").convert("P")
    img.save(tmp_path / "grey.png")
    colour = Image.fromarray(grey, "P")
    colour.putpalette([v for i in range(256) for v in (i, 255 - i, 0)])
    colour.save(tmp_path / "fire.png")
    got = read_plane(tmp_path / "grey.png")
    assert got.ndim == 2 and np.array_equal(got, grey)
    with pytest.raises(FormatError, match="channel 2 requested, but the file holds a single"):
        read_plane(PlaneSource(tmp_path / "grey.png", 1))
    assert np.array_equal(read_plane(PlaneSource(tmp_path / "fire.png", 1)), 255 - grey)


@pytest.mark.parametrize("dtype", ["float64", "float16", "int8", "int16", "int32", "uint32",
                                   "int64"])
def test_other_pixel_types_read_as_float32_with_their_values(tmp_path, dtype):
    """stranger26 F19: these were refused; signed values keep their sign."""
    values = np.array([[-100, 0, 7], [100, 1000, 2047]])
    if np.dtype(dtype).kind == "u":
        values = values + 100
    if dtype == "int8":
        values = np.clip(values, -128, 127)
    tifffile.imwrite(tmp_path / "x.tif", values.astype(dtype))
    got = read_plane(tmp_path / "x.tif")
    assert got.dtype == np.float32
    assert np.array_equal(got, values.astype(np.float32))


def test_signed_min_is_white_is_inverted_back(tmp_path):
    """Signed pixels, read since F19, are inverted back like the other types."""
    values = np.array([[-300, 0, 7], [100, 1000, 2000]], np.int16)
    tifffile.imwrite(tmp_path / "x.tif", values, photometric="miniswhite")
    got = read_plane(tmp_path / "x.tif")
    assert np.array_equal(got, (2000 - 300 - values.astype(np.float32)))


def test_float64_beyond_float32_is_scaled_exactly(tmp_path):
    values = np.array([[1e300, 2e300], [0.0, 4e300]])
    tifffile.imwrite(tmp_path / "x.tif", values)
    got = read_plane(tmp_path / "x.tif")
    assert np.isfinite(got).all() and got[1, 0] == 0
    assert got[0, 1] / got[0, 0] == pytest.approx(2.0, rel=1e-7)
    assert got[1, 1] / got[0, 0] == pytest.approx(4.0, rel=1e-7)


def test_multi_series_ome_is_refused_and_a_preview_page_skipped(tmp_path):
    """stranger26 F17: the second OME image (position) was dropped silently;
    F18: a reduced-resolution preview page was read as a second channel."""
    planes = np.arange(2 * 8 * 9, dtype=np.uint16).reshape(2, 8, 9)
    with tifffile.TiffWriter(tmp_path / "p.ome.tif", ome=True) as w:
        for k in range(3):
            w.write(planes + k, metadata={"axes": "CYX"})
    with pytest.raises(FormatError, match=r"p\.ome\.tif: the file holds 3 OME images "
                                          r"\(series\), e\.g\. the positions"):
        read_plane(PlaneSource(tmp_path / "p.ome.tif", 0))
    with tifffile.TiffWriter(tmp_path / "prev.tif") as w:
        w.write(planes[1], photometric="minisblack")
        w.write(planes[1, ::2, ::2].astype(np.uint8), photometric="minisblack", subfiletype=1)
    assert np.array_equal(read_plane(tmp_path / "prev.tif"), planes[1])


@pytest.mark.parametrize(("unit", "per_unit", "expected"), [
    ("nm", 1 / 650, 0.65), ("mm", 1 / 0.00065, 0.65), ("inch", 25400 / 0.65, 0.65),
    ("microns", 1 / 0.65, 0.65), ("\u03bcm", 1 / 0.65, 0.65), ("\u00b5m", 1 / 0.65, 0.65),
    ("Micrometer", 1 / 0.65, 0.65), (" um ", 1 / 0.65, 0.65), ("cm", 1 / 0.000065, 0.65),
    ("pixel", 1.0, None), ("furlong", 1.0, None),
])
def test_imagej_calibration_units(tmp_path, unit, per_unit, expected):
    """stranger26 F2: ImageJ nm/mm/inch/microns/Greek-mu calibrations were 'not found'."""
    from neurotox.io.calibration import calibration_problem

    path = tmp_path / "x.tif"
    tifffile.imwrite(path, np.zeros((4, 4), np.uint16), metadata=None,
                     description=f"ImageJ=1.54f\nunit={unit}\n".encode(),
                     resolution=(per_unit, per_unit))
    got = pixel_size_um(path)
    assert got == (pytest.approx(expected, rel=1e-6) if expected else None)
    problem = calibration_problem(path)
    if unit == "furlong":
        assert problem == ("its ImageJ calibration is in 'furlong', not a length unit "
                           "neurotox converts (nm, µm (um, micron), mm, cm, m, inch)")
    else:
        assert problem is None


def _ome_dataset_file(folder: Path, name: str, own: str, files: list[tuple[str, str]],
                      planes: np.ndarray) -> None:
    """One file of a multi-file OME dataset: its pixels, and XML describing every file."""
    images = "".join(
        f'<Image ID="Image:{i}"><Pixels ID="Pixels:{i}" DimensionOrder="XYCZT" Type="uint16" '
        f'SizeX="{planes.shape[2]}" SizeY="{planes.shape[1]}" SizeC="2" SizeZ="1" SizeT="1">'
        f'<Channel ID="Channel:{i}:0" SamplesPerPixel="1"/>'
        f'<Channel ID="Channel:{i}:1" SamplesPerPixel="1"/>'
        f'<TiffData FirstC="0" IFD="0" PlaneCount="2"><UUID FileName="{fn}">{u}</UUID>'
        f'</TiffData></Pixels></Image>' for i, (fn, u) in enumerate(files))
    xml = ('<?xml version="1.0" encoding="UTF-8"?><OME xmlns="http://www.openmicroscopy.org/'
           f'Schemas/OME/2016-06" UUID="{own}">{images}</OME>')
    tifffile.imwrite(folder / name, planes, photometric="minisblack", description=xml,
                     metadata=None)


def test_each_file_of_a_multi_file_ome_dataset_gives_its_own_pixels(tmp_path):
    """Every position's file describes all positions (Micro-Manager): each file gives its
    own pixels and is not refused as a multi-series file (F17's refusal counts only the
    images stored in the file itself)."""
    files = [("pos0.ome.tif", "urn:uuid:00000000-0000-4000-8000-000000000000"),
             ("pos1.ome.tif", "urn:uuid:00000000-0000-4000-8000-000000000001")]
    planes = np.arange(2 * 8 * 9, dtype=np.uint16).reshape(2, 8, 9)
    for k, (name, own) in enumerate(files):
        _ome_dataset_file(tmp_path, name, own, files, planes + 1000 * k)
    for k, (name, _) in enumerate(files):
        got = read_plane(PlaneSource(tmp_path / name, 1))
        assert np.array_equal(got, planes[1] + 1000 * k)


def test_channels_numbered_from_zero_in_the_names_are_1_based(tmp_path):
    # Leica-style _ch00/_ch01/_ch02: '--nuclei-channel 1' took the file labelled 01 (the
    # second channel) silently (stranger's trial F5); channel numbers are 1-based, a label
    # written as in the names ('00') still names its file
    _touch(tmp_path, [f"A01_s1_ch{c:02d}.tif" for c in range(3)])
    index = scan_plate(tmp_path, pattern="{well}_s{field}_ch{channel}.tif")
    assert index.channels_from_zero and index.channels == ["1", "2", "3"]
    (src,) = field_sources(index, neurite_channel="2", nuclei_channel="1")
    assert (src.nuclei.path.name, src.neurite.path.name) == ("A01_s1_ch00.tif",
                                                             "A01_s1_ch01.tif")
    for nuc, neu in (("00", "01"), ("0", "1")):    # written as the labels: '0' says so
        (src,) = field_sources(index, neurite_channel=neu, nuclei_channel=nuc)
        assert (src.nuclei.path.name, src.neurite.path.name) == ("A01_s1_ch00.tif",
                                                                 "A01_s1_ch01.tif")
    (tmp_path / "w").mkdir()
    _touch(tmp_path / "w", [f"P_A01_s1_w{c}.tif" for c in (1, 2)])   # from 1: unchanged
    assert not scan_plate(tmp_path / "w").channels_from_zero


def test_ome_channel_names_choose_the_planes(tmp_path):
    # an OME-TIFF from the microscope names its channels; '--nuclei-channel DAPI' was
    # refused as neither a number nor a colour (stranger's trial F3)
    planes = np.stack([np.full((8, 8), 10, np.uint16), np.full((8, 8), 20, np.uint16)])
    tifffile.imwrite(tmp_path / "f1.ome.tif", planes, ome=True,
                     metadata={"axes": "CYX", "Channel": {"Name": ["DAPI", "FITC"]}})
    index = scan_plate(tmp_path, pattern="f{field}.ome.tif")
    (src,) = field_sources(index, neurite_channel="fitc", nuclei_channel="DAPI")
    assert read_plane(src.nuclei).max() == 10 and read_plane(src.neurite).max() == 20
    with pytest.raises(InputError, match=r"--neurite-channel: channel 'ftic' \(did you mean "
                                         r"'FITC'\?\) is not a channel of f1\.ome\.tif \(its "
                                         r"channels: 'DAPI', 'FITC'"):
        field_sources(index, neurite_channel="FTIC", nuclei_channel="DAPI")


@pytest.mark.parametrize(("names", "neurite", "nuclei", "message"), [
    (["GFP", "DAPI"], 2, 1, "--nuclei-channel 1 is 'GFP' (a neurite marker), --neurite-channel "
     "2 is 'DAPI' (a nuclear stain); give the channels by name, e.g. --nuclei-channel DAPI "
     "--neurite-channel GFP"),
    (["beta-III tubulin", "Hoechst 33342"], 2, None, "--neurite-channel 2 is 'Hoechst 33342' "
     "(a nuclear stain); give the channels by name, e.g. --neurite-channel \"beta-III "
     "tubulin\""),
    (["FITC", "H2B-GFP"], 2, 1, "--nuclei-channel 1 is 'FITC' (no stain name), "
     "--neurite-channel 2 is 'H2B-GFP' (a nuclear stain); give the channels by name, e.g. "
     "--nuclei-channel H2B-GFP --neurite-channel FITC"),
], ids=["swapped", "neurite-on-hoechst", "fusion-is-nuclear"])
def test_channel_numbers_contradicting_the_ome_names_are_refused(tmp_path, names, neurite,
                                                                 nuclei, message):
    # stranger48 #10: GFP first, read with --nuclei-channel 1 --neurite-channel 2, measured the
    # nuclei as neurites (-99 % length) with only a "swapped?" warning
    planes = np.stack([np.full((8, 8), 10, np.uint16), np.full((8, 8), 20, np.uint16)])
    tifffile.imwrite(tmp_path / "f1.ome.tif", planes, ome=True,
                     metadata={"axes": "CYX", "Channel": {"Name": names}})
    index = scan_plate(tmp_path, pattern="f{field}.ome.tif")
    with pytest.raises(InputError) as caught:
        field_sources(index, neurite_channel=neurite, nuclei_channel=nuclei)
    assert str(caught.value) == (f"{tmp_path / 'f1.ome.tif'}: the file names its channels "
                                 f"{', '.join(map(repr, names))}, which contradict the channel "
                                 f"numbers given: {message}")
    (src,) = field_sources(index, neurite_channel=1, nuclei_channel=2)   # as the names say
    assert read_plane(src.nuclei).max() == 20 and read_plane(src.neurite).max() == 10


def test_channel_names_that_name_no_stain_are_read_by_number(tmp_path):
    planes = np.stack([np.full((8, 8), 10, np.uint16), np.full((8, 8), 20, np.uint16)])
    tifffile.imwrite(tmp_path / "f1.ome.tif", planes, ome=True,
                     metadata={"axes": "CYX", "Channel": {"Name": ["Cy5", "FITC"]}})
    (src,) = field_sources(scan_plate(tmp_path, pattern="f{field}.ome.tif"),
                           neurite_channel=2, nuclei_channel=1)
    assert read_plane(src.nuclei).max() == 10 and read_plane(src.neurite).max() == 20


Z_FIX = ("not separate fields; neurotox measures one 2-D plane per field and channel: save a "
         "maximum-intensity projection of each field's planes (the imager's export with maximum "
         "projection, or Fiji: Image > Stacks > Z Project) and analyse those files")


@pytest.mark.parametrize(("names", "message"), [
    ([f"r01c01f01p{z:02d}-ch{c}sk1fk1fl1.tiff" for z in (1, 2, 3) for c in (1, 2)],
     "files 'r01c01f01p01-ch1sk1fk1fl1.tiff', 'r01c01f01p02-ch1sk1fk1fl1.tiff', "
     "'r01c01f01p03-ch1sk1fk1fl1.tiff' are z planes (p01, p02, p03) of one field (well A01, "
     f"field 1, channel 1), {Z_FIX}"),
    ([f"TimePoint_1/ZStep_{z}/PL_A01_s1_w{c}.TIF" for z in (2, 10) for c in (1, 2)],
     "files 'TimePoint_1/ZStep_10/PL_A01_s1_w1.TIF', 'TimePoint_1/ZStep_2/PL_A01_s1_w1.TIF' "
     f"are z planes (ZStep_2, ZStep_10) of one field (well A01, field 1, channel 1), {Z_FIX}"),
    (["TimePoint_1/PL_A01_s1_w1.TIF"]
     + [f"TimePoint_1/ZStep_{z}/PL_A01_s1_w1.TIF" for z in (1, 2)],
     "files 'TimePoint_1/ZStep_1/PL_A01_s1_w1.TIF', 'TimePoint_1/ZStep_2/PL_A01_s1_w1.TIF' are "
     f"z planes (ZStep_1, ZStep_2) of one field (well A01, field 1, channel 1), {Z_FIX}; "
     "'TimePoint_1/PL_A01_s1_w1.TIF' beside them may be their projection: move the z-plane "
     "files out of the plate folder"),
], ids=["phenix-p", "imagexpress-zstep", "imagexpress-zstep-and-projection"])
def test_z_planes_saved_as_files_are_named_as_z_planes(tmp_path, names, message):
    # stranger48 #7: "are the same field ... keep one" (and, for ZStep folders, a pattern
    # '{plate}/...' that made each z plane a plate)
    for name in names:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        _touch(tmp_path, [name])
    with pytest.raises(FormatError) as caught:
        scan_plate(tmp_path)
    assert str(caught.value) == f"{tmp_path}: {message}"


def test_the_same_field_twice_without_z_planes_is_still_keep_one(tmp_path):
    for sub in ("a", "b"):
        (tmp_path / sub).mkdir()
        _touch(tmp_path / sub, ["PL_A01_s1_w1.TIF"])
    with pytest.raises(FormatError, match=r"files 'a/PL_A01_s1_w1\.TIF', 'b/PL_A01_s1_w1\.TIF' "
                                          r"are the same field \(well A01, field 1, channel 1\); "
                                          r"keep one; they lie in different folders"):
        scan_plate(tmp_path)


def test_one_ome_tiff_per_field_is_detected_and_its_named_channels_chosen(tmp_path):
    for site, level in ((1, 10), (2, 30)):
        planes = np.stack([np.full((8, 8), level, np.uint16),
                           np.full((8, 8), level + 1, np.uint16)])
        tifffile.imwrite(tmp_path / f"Plate_A01_s{site}.ome.tif", planes, ome=True,
                         metadata={"axes": "CYX", "Channel": {"Name": ["GFP", "DAPI"]},
                                   "PhysicalSizeX": 0.65, "PhysicalSizeY": 0.65})
    index = scan_plate(tmp_path)
    assert index.scheme.name == "ome-tiff"
    fields = field_sources(index, neurite_channel="GFP", nuclei_channel="DAPI")
    assert [(f.plate, f.well, f.field) for f in fields] == [("Plate", "A01", 1),
                                                            ("Plate", "A01", 2)]
    assert [(read_plane(f.nuclei).max(), read_plane(f.neurite).max()) for f in fields] == \
        [(11, 10), (31, 30)]
    assert pixel_size_um(fields[0].neurite.path) == 0.65


def test_a_pattern_may_name_the_folders_channel_per_folder_exports(tmp_path):
    # Incucyte and ZEN/Harmony export one folder per channel (Green/, Red/) with the same
    # file names: a pattern with '/' reads the path inside the plate folder (stranger's
    # re-trial F15); without it, the duplicate message names the folders
    for ch in ("Green", "Red"):
        (tmp_path / ch).mkdir()
        _touch(tmp_path / ch, ["VID42_A1_1_00d00h00m.tif", "VID42_B2_1_00d00h00m.tif"])
    index = scan_plate(tmp_path, pattern="{channel}/{plate}_{well}_{field}_{timepoint}.tif")
    assert sorted(index.channels) == ["green", "red"] and index.wells == ["A01", "B02"]
    sources = field_sources(index, neurite_channel="Green", nuclei_channel="Red")
    assert [(s.neurite.path.parent.name, s.nuclei.path.parent.name) for s in sources] == \
        [("Green", "Red")] * 2
    with pytest.raises(FormatError, match=r"files 'Green/VID42_A1_1_00d00h00m\.tif', "
                                          r"'Red/VID42_A1_1_00d00h00m\.tif' are the same field.*"
                                          r"they lie in different folders, which a pattern may "
                                          r"name: '\{channel\}/\.\.\.'"):
        scan_plate(tmp_path, pattern="{plate}_{well}_{field}_{timepoint}.tif")


def test_non_square_pixels_are_warned_about(tmp_path):
    # ImageJ x 1.28 um, y 1.40 um: lengths along the columns read 9 % short without a word
    # (stranger's re-trial F10); square or nearly square calibrations say nothing
    from neurotox.io.calibration import pixel_aspect

    img = np.zeros((8, 8), np.uint16)
    tifffile.imwrite(tmp_path / "a.tif", img, imagej=True, resolution=(1 / 1.28, 1 / 1.40),
                     metadata={"unit": "um"})
    tifffile.imwrite(tmp_path / "b.tif", img, imagej=True, resolution=(1 / 1.28, 1 / 1.285),
                     metadata={"unit": "um"})
    assert pixel_aspect(tmp_path / "a.tif") == pytest.approx(1.40 / 1.28)
    assert pixel_aspect(tmp_path / "b.tif") is None
    # OME sizes in their own units: 1280 nm wide, 1.28 um tall is square
    tifffile.imwrite(tmp_path / "c.ome.tif", img, ome=True,
                     metadata={"PhysicalSizeX": 1280, "PhysicalSizeXUnit": "nm",
                               "PhysicalSizeY": 1.28, "PhysicalSizeYUnit": "µm"})
    assert pixel_aspect(tmp_path / "c.ome.tif") is None


def test_folders_a_pattern_names_are_no_plates(tmp_path):
    # stranger41 F1: a folder level in --pattern without {plate} ('{group}/...',
    # '{channel}/...') made each folder its own plate, so the control group's folder was
    # one plate and the treated groups' others (no percent of control); the plate is the
    # folder given, unless the pattern names {plate}
    root = tmp_path / "exp"
    for group, names in (("DMSO vehicle", ["a_1.tif", "b_2.tif"]),
                         ("GSK 1 µM", ["a_1.tif", "c_7.tif"])):
        (root / group).mkdir(parents=True)
        _touch(root / group, names)
    index = scan_plate(root, pattern="{group}/{*}_{field}.tif")
    got = [(r.plate, r.group, r.well, r.field) for r in index.files.itertuples()]
    assert got == [("exp", "DMSO vehicle", "DMSO vehicle-1", 1),
                   ("exp", "DMSO vehicle", "DMSO vehicle-2", 2),
                   ("exp", "GSK 1 µM", "GSK 1 µM-1", 1), ("exp", "GSK 1 µM", "GSK 1 µM-7", 7)]
    # {*} names the field when the pattern gives no {field} or {well}: 1, 2 ... per group
    index = scan_plate(root, pattern="{group}/{*}.tif")
    got = [(r.plate, r.well, r.field, Path(r.path).name) for r in index.files.itertuples()]
    assert got == [("exp", "DMSO vehicle-1", 1, "a_1.tif"), ("exp", "DMSO vehicle-2", 2, "b_2.tif"),
                   ("exp", "GSK 1 µM-1", 1, "a_1.tif"), ("exp", "GSK 1 µM-2", 2, "c_7.tif")]
    # a pattern that names the plate folder keeps it
    index = scan_plate(root, pattern="{plate}/{*}_{field}.tif")
    assert sorted(set(index.files["plate"])) == ["DMSO vehicle", "GSK 1 µM"]


def test_channel_folders_without_plate_in_the_pattern_are_one_plate(tmp_path):
    # stranger41 F1: 'no neurite channel 'green' file' although it was there, in the other
    # channel folder read as another plate
    for ch in ("Green", "Red"):
        (tmp_path / "incu" / ch).mkdir(parents=True)
        _touch(tmp_path / "incu" / ch, ["exp_A01_1_01.tif", "exp_A01_1_10.tif"])
    index = scan_plate(tmp_path / "incu", pattern="{channel}/{*}_{well}_{field}_{timepoint}.tif")
    assert set(index.files["plate"]) == {"incu"}
    sources = field_sources(index, neurite_channel="Green", nuclei_channel="Red")
    assert [(s.key, s.neurite.path.parent.name, s.nuclei.path.parent.name)
            for s in sources] == [("incu/A01/s1/t01", "Green", "Red"),
                                  ("incu/A01/s1/t10", "Green", "Red")]


def test_subfolders_a_pattern_does_not_name_are_no_plates_either(tmp_path):
    # a pattern without '/' matches file names anywhere below the folder; files of two
    # subfolders claiming one field are an error naming the folders, not two plates
    for sub in ("run1", "run2"):
        (tmp_path / sub).mkdir()
        _touch(tmp_path / sub, ["B03_f1.tif"])
    with pytest.raises(FormatError, match=r"files 'run1/B03_f1\.tif', 'run2/B03_f1\.tif' are "
                                          r"the same field .*they lie in different folders, "
                                          r"which a pattern may name: '\{channel\}/\.\.\.', "
                                          r"'\{group\}/\.\.\.' or '\{plate\}/\.\.\.'"):
        scan_plate(tmp_path, pattern="{well}_f{field}.tif")
    assert sorted(set(scan_plate(tmp_path, pattern="{plate}/{well}_f{field}.tif")
                      .files["plate"])) == ["run1", "run2"]


@pytest.mark.parametrize(("name", "role"), [
    ("DAPI", "nuclear"), ("Hoechst 33342", "nuclear"), ("H33342", "nuclear"),
    ("H2B-GFP", "nuclear"), ("NLS-mCherry", "nuclear"), ("Nuclei", "nuclear"),
    ("EGFP", "neurite"), ("beta-III Tubulin", "neurite"), ("\u03b2III-tubulin", "neurite"),
    ("MAP2 (Cy3)", "neurite"), ("Calcein AM", "neurite"), ("FITC", None), ("Cy5", None),
    ("Alexa 488", None), ("Channels", None), ("channel 1", None),
])
def test_stain_role_of_channel_names(name, role):
    from neurotox.io.channels import stain_role

    assert stain_role(name) == role
