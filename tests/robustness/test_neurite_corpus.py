"""Malformed plate images and layouts through ``neurotox neurite``.

Plates are 4 wells x 1 field of 96 x 96 px synthetic two-channel images (ImageXpress
names, ImageJ pixel size), written by the tests.
"""

from __future__ import annotations

import io
import json
import warnings
from functools import cache

import numpy as np
import pandas as pd
import pytest
import tifffile

from tests.robustness.corpus import Case, invoke, materialise, run_case

WELLS = ("A01", "A02", "A03", "A04")
LAYOUT = "well,group,concentration\nA01,C,0\nA02,C,0\nA03,H,3\nA04,H,10\n"
SHAPE = (96, 96)


def tif(data: np.ndarray, *, pixel_size: float | None = 0.65, **kw) -> bytes:
    """TIFF bytes (ImageJ calibration when ``pixel_size``)."""
    buf = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")   # zero-size arrays are written on purpose
        if pixel_size is None:
            kw.setdefault("photometric", "minisblack")
            tifffile.imwrite(buf, data, **kw)
        else:
            kw.setdefault("metadata", {"unit": "um"})
            tifffile.imwrite(buf, data, imagej=True,
                             resolution=(1 / pixel_size, 1 / pixel_size), **kw)
    return buf.getvalue()


@cache
def _field(seed: int) -> tuple[bytes, bytes]:
    from neurotox.imaging.synthetic import synthetic_field

    f = synthetic_field(seed, shape=SHAPE, n_cells=3, touching_pairs=0, n_debris=0)
    return tif(f.nuclei), tif(f.neurites)


STUDY = """study_id: S1
title: Neurite layout against the study's doses
test_item: X
groups:
- {id: C, label: Vehicle, dose: 0, dose_unit: uM, control: true}
- {id: H, label: Low, dose: 3, dose_unit: uM}
- {id: K, label: High, dose: 10, dose_unit: uM}
"""


def plate(**replace: bytes | None) -> dict:
    """Plate files; ``replace`` maps file name → new bytes (None drops the file)."""
    files: dict = {"layout.csv": LAYOUT}
    for i, w in enumerate(WELLS):
        nuc, neu = _field(i)
        files[f"img/P1_{w}_s1_w1.tif"] = nuc
        files[f"img/P1_{w}_s1_w2.tif"] = neu
    for name, data in replace.items():
        key = name if name == "layout.csv" else f"img/{name}"
        if data is None:
            files.pop(key)
        else:
            files[key] = data
    return files


def _ome_plate(names: list[str], *, swap: bool = False) -> dict:
    """The plate as one OME-TIFF per field, channels nuclei then neurites (``swap``: reversed)."""
    files: dict = {"layout.csv": LAYOUT}
    for i, w in enumerate(WELLS):
        nuc, neu = (tifffile.imread(io.BytesIO(b)) for b in _field(i))
        buf = io.BytesIO()
        tifffile.imwrite(buf, np.stack([neu, nuc] if swap else [nuc, neu]), ome=True,
                         metadata={"axes": "CYX", "Channel": {"Name": names},
                                   "PhysicalSizeX": 0.65, "PhysicalSizeY": 0.65})
        files[f"img/P1_{w}_s1.ome.tif"] = buf.getvalue()
    return files


def nt(*extra: str) -> tuple[str, ...]:
    """The base command; no overlays unless ``extra`` asks (an option is given once)."""
    overlays = () if "--overlays" in extra else ("--overlays", "none")
    return ("--quiet", "neurite", "{dir}/img", "--layout", "{dir}/layout.csv", "--workers",
            "1", *overlays, *extra, "-o", "{out}")


def _pages(*planes: np.ndarray) -> bytes:
    """A TIFF of one page (image series) per plane, as some exporters save channels."""
    buf = io.BytesIO()
    with tifffile.TiffWriter(buf) as w:
        for p in planes:
            w.write(p, photometric="minisblack")
    return buf.getvalue()


def _planar_rgb(stack: np.ndarray) -> bytes:
    """A (3, rows, columns) stack as an RGB TIFF of separate sample planes, no axes metadata."""
    buf = io.BytesIO()
    tifffile.imwrite(buf, stack, photometric="rgb", planarconfig="separate", metadata=None)
    return buf.getvalue()


def _two_ome_positions() -> bytes:
    """One OME-TIFF holding two fields as two OME images (a multi-position acquisition)."""
    buf = io.BytesIO()
    with tifffile.TiffWriter(buf, ome=True) as w:
        for i in (0, 1):
            planes = np.stack([tifffile.imread(io.BytesIO(b)) for b in _field(i)])
            w.write(planes, metadata={"axes": "CYX", "PhysicalSizeX": 0.65,
                                      "PhysicalSizeY": 0.65})
    return buf.getvalue()


def _declared_tiff(width: int, height: int) -> bytes:
    """A 1 kB uncompressed 8-bit TIFF whose header declares ``width`` x ``height`` pixels."""
    import struct

    tags = [(256, 4, width), (257, 4, height), (258, 3, 8), (259, 3, 1), (262, 3, 1),
            (273, 4, 200), (277, 3, 1), (278, 4, height), (279, 4, width * height)]
    ifd = b"".join(struct.pack("<HHII", t, typ, 1, v) for t, typ, v in tags)
    head = b"II*\x00" + struct.pack("<IH", 8, len(tags)) + ifd + b"\x00" * 4
    return head + b"\x00" * (1024 - len(head))


def _xlsx(csv_text: str, *, extra_sheet: bool = False) -> bytes:
    import openpyxl

    wb = openpyxl.Workbook()
    for line in csv_text.strip().split("\n"):
        wb.active.append(line.split(","))
    if extra_sheet:
        wb.create_sheet("notes").append(["plate map drawn by hand"])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


NUC = "P1_A02_s1_w1.tif"
NEU = "P1_A02_s1_w2.tif"
_u16 = np.full(SHAPE, 100, np.uint16)

CASES = [
    Case("img-truncated-tiff", plate(**{NEU: _field(1)[1][:300]}), nt(),
         "truncated or corrupt TIFF: its image data end at byte 18768, past the end of the "
         "file (300 bytes)", f"img/{NEU}"),
    Case("img-corrupt-tiff", plate(**{NEU: b"II*\x00" + b"\x07" * 400}), nt(),
         "truncated or corrupt TIFF: no image header within the file (404 bytes)", f"img/{NEU}"),
    Case("img-not-a-tiff", plate(**{NEU: b"GIF89a" + b"\x00" * 100}), nt(),
         "truncated or corrupt TIFF: not a TIFF file: header=b'GIF8'", f"img/{NEU}"),
    Case("img-empty-file", plate(**{NEU: b""}), nt(),
         "truncated or corrupt TIFF: the file is empty (0 bytes)", f"img/{NEU}"),
    Case("img-zero-size-image", plate(**{NEU: tif(np.zeros((0, 96), np.uint16))}), nt(),
         "image has no pixels (shape (0, 0))", f"img/{NEU}"),
    Case("img-bool-bit-depth", plate(**{NEU: tif(np.ones(SHAPE, bool), pixel_size=None)}), nt(),
         "expected integer or floating-point intensities, found 1-bit (black and white: a "
         "mask?)", f"img/{NEU}"),
    Case("img-complex-pixels", plate(**{NEU: tif(np.ones(SHAPE, np.complex64),
                                                 pixel_size=None)}), nt(),
         "expected integer or floating-point intensities, found complex64", f"img/{NEU}"),
    # stranger26 F17: the second position was dropped silently (the first analysed)
    Case("img-multi-series-ome", {"layout.csv": "well,group,concentration\nA01,C,0\n",
                                  "img/plate.ome.tif": _two_ome_positions()},
         nt("--pattern", "{*}.ome.tif", "--nuclei-channel", "1", "--neurite-channel", "2"),
         "the file holds 2 OME images (series), e.g. the positions of a multi-position "
         "acquisition; neurotox reads one field per file", "img/plate.ome.tif"),
    # stranger26 F2: a calibration in a unit neurotox does not know is named as such
    Case("img-calibration-unknown-unit",
         {**plate(), **{f"img/P1_{w}_s1_w{c + 1}.tif": tif(
             tifffile.imread(io.BytesIO(_field(i)[c])), pixel_size=2.0,
             metadata={"unit": "furlong"}) for i, w in enumerate(WELLS) for c in (0, 1)}}, nt(),
         "no usable pixel size: its ImageJ calibration is in 'furlong', not a length unit "
         "neurotox converts (nm, µm (um, micron), mm, cm, m, inch); give --pixel-size",
         "img/P1_A01_s1_w2.tif"),
    Case("img-size-mismatch-in-field", plate(**{NEU: tif(np.ones((64, 80), np.uint16))}), nt(),
         "image size (64, 80) differs from (96, 96) of P1_A02_s1_w1.tif in the s", f"img/{NEU}"),
    Case("img-missing-channel", plate(**{NEU: None}), nt(),
         "field A02 s1 has no neurite channel '2' file (found: 'P1_A02_s1_w1.tif", "img"),
    Case("img-single-channel-only", {k: v for k, v in plate().items() if "_w2" not in k}, nt(),
         "/P1_A01_s1_w1.tif: channel 2 requested, but the file holds a single pl", "img"),
    Case("img-3d-stack", plate(**{NEU: tif(np.ones((3, 96, 96), np.uint16))}), nt(),
         "file holds 3 channel planes; give the channel number", f"img/{NEU}"),
    # stranger29 F14: a (3, rows, columns) 16-bit array written by tifffile's default
    # (planar RGB, no axes metadata) was read as the mean of its three planes
    Case("img-16bit-rgb-stack", plate(**{NEU: _planar_rgb(np.stack(
        [np.zeros(SHAPE, np.uint16), _u16, _u16 // 2]))}), nt(),
         "file holds 3 channel planes; give the channel number", f"img/{NEU}"),
    Case("img-z-stack", plate(**{NEU: tif(np.ones((3, 96, 96), np.uint16),
                                          metadata={"unit": "um", "axes": "ZYX"})}), nt(),
         "the file holds a z-stack of 3 planes (axes ZYX), not a 2-D field or channels; save "
         "a maximum-intensity projection", f"img/{NEU}"),
    Case("img-same-image-both-channels", plate(**{"P1_A01_s1_w1.tif": _field(0)[1]}), nt(),
         "the nuclear channel (P1_A01_s1_w1.tif) and the neurite channel (P1_A01_s1_w2.tif) "
         "hold the same image", "img/P1_A01_s1_w2.tif"),
    Case("img-pixel-size-differs", plate(**{NEU: tif(_u16, pixel_size=0.325)}), nt(),
         "pixel sizes 0.325 and 0.65 µm differ between the channels of field P1/A02/s1; "
         "give --pixel-size", f"img/{NEU}"),
    # stranger29 F27/F18: with --study a layout concentration is the study group's dose,
    # and a study group is one concentration (the run refuses before any image is read)
    Case("lay-concentration-not-the-study-dose",
         plate(**{"layout.csv": LAYOUT.replace("A03,H,3", "A03,H,30").replace("A04,H", "A04,K")})
         | {"study.yaml": STUDY}, nt("--study", "{dir}/study.yaml"),
         "row 4, column 'concentration': group 'H' has dose 3 uM in the study, found "
         "concentration 30", "layout.csv"),
    Case("lay-study-group-two-concentrations", plate() | {"study.yaml": STUDY},
         nt("--study", "{dir}/study.yaml"),
         "row 5, column 'concentration': group 'H' has concentrations 3 and 10; a group is one "
         "concentration", "layout.csv"),
    # stranger29 F13: the first field's neurite plane blank beside nuclei with signal is
    # no empty well (the next fields are not tried): an error naming the file
    Case("img-first-neurite-plane-black", plate(**{"P1_A01_s1_w2.tif": tif(
        np.zeros(SHAPE, np.uint16))}), nt(), "neurite P1_A01_s1_w2.tif is blank: constant "
         "(every pixel 0), while the nuclear plane shows cells: an acquisition failure",
         "img/P1_A01_s1_w2.tif"),
    Case("img-no-images", {"layout.csv": LAYOUT, "img/readme.txt": "nothing"}, nt(),
         "no image files (.tif, .tiff, .png, .jpg, .jpeg) in the plate folder", "img"),
    Case("img-unparsable-names", {"layout.csv": LAYOUT, "img/foo.tif": _field(0)[0]}, nt(),
         "no file name matches the known naming schemes ('cellomics', 'imagexpre", "img"),
    Case("img-duplicate-field", {**plate(), "img/P1_A02_s1_w2.TIFF": _field(1)[1]}, nt(),
         "files 'P1_A02_s1_w2.TIFF', 'P1_A02_s1_w2.tif' are the same field (well", "img"),
    Case("lay-well-not-in-images", plate(**{"layout.csv": LAYOUT + "B01,H,10\n"}), nt(),
         "column 'well': wells 'B01' are in the layout but have no images", "layout.csv"),
    Case("lay-image-well-not-in-layout",
         plate(**{"layout.csv": LAYOUT.replace( "A04,H,10\n", "")}), nt(),
         "column 'well': wells 'A04' have images but are not in the layout (list", "layout.csv"),
    Case("lay-duplicate-well", plate(**{"layout.csv": LAYOUT + "A01,H,3\n"}), nt(),
         "row 6, column 'well': well 'A01' appears twice", "layout.csv"),
    Case("lay-plate-column", plate(**{"layout.csv": "plate,well,group,concentration\n"
                                                   "P1,A01,C,0\nP2,A01,H,3\n"}), nt(),
         "well 'A01' appears twice; a layout describes one plate (its 'plate' column is "
         "not read)", "layout.csv"),
    Case("lay-text-concentration",
         plate(**{"layout.csv": LAYOUT.replace("A03,H,3", "A03,H,three")}), nt(),
         "row 4, column 'concentration': expected a number, found 'three'", "layout.csv"),
    Case("lay-empty", plate(**{"layout.csv": ""}), nt(),
         "file is empty (no header line)", "layout.csv"),
    Case("opt-bad-channel", plate(), nt("--neurite-channel", "7"),
         "channel '7' not found; channels in the plate: '1', '2'", "img"),
    Case("opt-bad-pixel-size", plate(), nt("--pixel-size", "-1"),
         "Invalid value for '--pixel-size': expected a number above 0.02 and at most 50, "
         "found '-1'", "pixel"),
    Case("opt-bad-pattern", plate(), nt("--pattern", "{well}_{nope}.tif"),
         "unknown placeholder '{nope}' in --pattern; expected one of '{*}', '{ch", "pattern"),
    Case("img-cmyk-tiff", plate(**{NEU: tif(np.zeros((*SHAPE, 4), np.uint8), pixel_size=None,
                                            photometric="separated")}), nt(),
         "CMYK (print colour) TIFF: save the image as RGB or greyscale", f"img/{NEU}"),
    Case("img-pages-of-different-sizes", plate(**{NEU: _pages(_u16, _u16[:64, :80])}), nt(),
         "the file holds 2 images of different sizes (96 x 96, 64 x 80)", f"img/{NEU}"),
    # a 512 MB 16000 x 16000 8-bit field passes the unpacked-size limit as bytes, but its
    # analysis would take tens of GB: refused before any pixel is read
    Case("img-field-too-large-to-analyse", plate(**{NEU: _declared_tiff(16000, 16000)}), nt(),
         "the 16000 x 16000 pixel field (analysed at 8 bytes per pixel) unpacks to 1.9 GiB, "
         "more than the limit of", f"img/{NEU}"),
    Case("img-huge-field-number", {"layout.csv": LAYOUT,
                                   "img/P1_A01_s99999999999999999999999_w1.tif": _field(0)[0]},
         nt(), "field number 99999999999999999999999 in the file name is above 2147483647",
         "img/P1_A01_s99999999999999999999999_w1.tif"),
    Case("lay-column-twice", plate(**{"layout.csv": "well,group,concentration,Concentration\n"
                                                   "A01,C,0,0\nA02,C,0,0\nA03,H,3,3\n"
                                                   "A04,H,10,10\n"}), nt(),
         "columns 'concentration', 'Concentration' all mean 'concentration'", "layout.csv"),
    Case("lay-dosed-group-well-without-concentration",
         plate(**{"layout.csv": LAYOUT.replace("A03,H,3", "A03,H,")}), nt(),
         "row 4, column 'concentration': empty, while other wells of group 'H' give a "
         "concentration", "layout.csv"),
    Case("lay-undosed-group-on-dosed-plate",
         plate(**{"layout.csv": LAYOUT.replace("A03,H,3", "A03,X,")}), nt(),
         "well A03, column 'concentration': group 'X' has no concentration while the layout "
         "gives concentrations", "layout.csv"),
    Case("lay-old-excel", plate(**{"layout.csv": b"\xd0\xcf\x11\xe0" + b"\x00" * 600}), nt(),
         "this is an old-format Excel workbook (xls); save it as xlsx or CSV", "layout.csv"),
    Case("lay-xlsx-two-sheets", plate(**{"layout.csv": None})
         | {"layout.xlsx": _xlsx(LAYOUT, extra_sheet=True)},
         nt()[:4] + ("{dir}/layout.xlsx",) + nt()[5:],
         "the workbook has values on sheets ['Sheet', 'notes']; keep the table on one sheet",
         "layout.xlsx"),
    Case("opt-tiny-pixel-size", plate(), nt("--pixel-size", "0.0000001"),   # never ended
         "expected a number above 0.02 and at most 50, found '0.0000001'", "pixel"),
    Case("opt-tiny-pixel-size-param", plate(), nt("--param", "pixel_size_um=1e-7"),
         "Input should be greater than or equal to 0.02", "pixel_size_um"),
    Case("opt-ec-level-above-100", plate(), nt("--param", "ec_levels=[150]"),
         "Input should be less than 100 (found 150)", "ec_levels[0]"),
    Case("opt-pattern-glob-star", plate(), nt("--pattern", "*_{well}_s{field}_w{channel}.tif"),
         "(in --pattern, 'anything' is written {*}, not *)", "img"),
    # stranger48 #10: GFP first, read by number as nuclei 1 / neurites 2: -99 % length, warned
    Case("img-channel-numbers-against-ome-names", _ome_plate(["GFP", "DAPI"], swap=True),
         nt("--pattern", "P1_{well}_s{field}.ome.tif", "--nuclei-channel", "1",
            "--neurite-channel", "2"),
         "P1_A01_s1.ome.tif: the file names its channels 'GFP', 'DAPI', which contradict the "
         "channel numbers given: --nuclei-channel 1 is 'GFP' (a neurite marker), "
         "--neurite-channel 2 is 'DAPI' (a nuclear stain); give the channels by name, e.g. "
         "--nuclei-channel DAPI --neurite-channel GFP", "img/P1_A01_s1.ome.tif"),
    # stranger48 #7: z planes saved as files were "the same field ... keep one"
    Case("img-z-planes-as-files", {"layout.csv": LAYOUT, **{
        f"img/r01c0{c}f01p0{z}-ch{ch}sk1fk1fl1.tiff": _field(c)[ch - 1]
        for c in range(1, 5) for z in (1, 2) for ch in (1, 2)}}, nt(),
         "files 'r01c01f01p01-ch1sk1fk1fl1.tiff', 'r01c01f01p02-ch1sk1fk1fl1.tiff' are z "
         "planes (p01, p02) of one field (well A01, field 1, channel 1), not separate fields; "
         "neurotox measures one 2-D plane per field and channel: save a maximum-intensity "
         "projection", "img"),
    Case("img-force-keeps-previous", plate(**{NEU: b"II*\x00" + b"\x07" * 400}), nt("--force"),
         "truncated or corrupt TIFF: no image header within the file (404 bytes)", f"img/{NEU}",
         previous=True),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_neurite_case(case, tmp_path):
    run_case(case, tmp_path)


@pytest.mark.parametrize("value, flag", [(0, "empty"), (65535, "saturation")],
                         ids=["all-black", "saturated"])
def test_blank_and_saturated_fields_give_zeros_and_qc_flag(tmp_path, value, flag):
    """An all-black or saturated field is analysed, not an error: zeros, a QC flag, and
    the exclusion (what, why, rule) in the manifest."""
    flat = tif(np.full(SHAPE, value, np.uint16))
    materialise(plate(**{NUC: flat, NEU: flat}), tmp_path)
    res = invoke(nt(), tmp_path)
    assert res.exit_code == 0, res.output
    fields = pd.read_csv(tmp_path / "out" / "fields.csv", keep_default_na=False)
    row = fields[fields["well"] == "A02"].iloc[0]
    assert row["nuclei_count"] == 0 and row["total_neurite_length_um"] == 0
    # flags carry the measured value: "empty", "saturation=100.00%"
    assert flag in [f.split("=")[0] for f in row["qc_flags"].split(";")]
    assert bool(row["excluded"])            # an all-black/saturated field is empty too
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    hit = [e for e in manifest["exclusions"] if e.get("what") == "field P1/A02/s1"]
    assert hit and hit[0]["rule"] == "protocol QC" and hit[0]["reason"]
    # the well's EndpointTable rows without a value are listed too, each with its reason
    rows = [e for e in manifest["exclusions"] if e.get("subject") == "A02"]
    assert rows and all(e["rule"] == "assay" and "all fields excluded" in e["reason"]
                        for e in rows)
    assert not fields[fields["well"] != "A02"]["excluded"].astype(bool).any()


def test_uncalibrated_files_are_named_in_the_notes(tmp_path):
    """Files whose pixel-size metadata is absent or absurd get the plate's value: noted."""
    odd = tif(_u16, pixel_size=1e6)
    materialise(plate(**{NEU: odd, NUC: odd}), tmp_path)
    res = invoke(nt(), tmp_path)
    assert res.exit_code == 0, res.output
    notes = json.loads((tmp_path / "out" / "manifest.json").read_text())["notes"]
    assert any("without a usable pixel-size calibration" in n and NEU in n for n in notes)
    assert any("pixel size 0.65 µm taken from the metadata of P1_A01_s1_w2.tif" in n
               for n in notes)
    assert any("channel roles: neurites = channel '2', nuclei = channel '1'" in n
               for n in notes)


@pytest.mark.parametrize(("given", "warned"), [("0.3", True), ("0.652", False)])
def test_a_pixel_size_given_against_the_files_calibration_is_warned(tmp_path, given, warned):
    """--pixel-size wins, but not in silence when the files say otherwise (> 1 % apart)."""
    materialise(plate(), tmp_path)
    res = invoke(nt("--pixel-size", given), tmp_path)
    assert res.exit_code == 0, res.output
    notes = json.loads((tmp_path / "out" / "manifest.json").read_text())["notes"]
    text = (f"warning: the pixel size given ({given} µm) differs from the calibration saved "
            "in P1_A01_s1_w2.tif (0.65 µm); every length, area and count is measured at the "
            "size given")
    assert (text in notes) is warned, notes


def test_parallel_and_serial_runs_are_identical(tmp_path):
    """``--workers 1`` and ``--workers 2`` give byte-identical tables and overlays."""
    from tests.robustness.test_reproducibility import assert_same_outputs

    materialise(plate(), tmp_path)
    for workers, out in (("1", "a"), ("2", "b")):
        args = nt("--overlays", "all")
        args = tuple(a.replace("{out}", f"{{dir}}/{out}") for a in args)
        args = tuple(workers if a == "1" and args[i - 1] == "--workers" else a
                     for i, a in enumerate(args))
        res = invoke(args, tmp_path)
        assert res.exit_code == 0, res.output
    assert_same_outputs(tmp_path / "a", tmp_path / "b", ignore_parameters=("workers",))


# --- unusual but valid inputs: the same intensities stored another way give the same result

def _png(img) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def _grey8(seed: int, channel: int) -> np.ndarray:
    """The field's plane scaled to 8 bits (PNG variants compare with plain 8-bit grey)."""
    plane = tifffile.imread(io.BytesIO(_field(seed)[channel]))
    return (plane.astype(np.float64) * (255 / plane.max())).astype(np.uint8)


def _inverted_palette(grey: np.ndarray) -> bytes:
    """Palette PNG whose index i is grey 255 - i (indices are not the intensities)."""
    from PIL import Image

    img = Image.fromarray(255 - grey, "P")
    img.putpalette([v for i in range(256) for v in (255 - i,) * 3])
    return _png(img)


def _grey_alpha(grey: np.ndarray) -> bytes:
    from PIL import Image

    return _png(Image.fromarray(np.stack([grey, np.full_like(grey, 255)], axis=2), "LA"))


def _png_plate(encode) -> dict:
    from PIL import Image

    files: dict = {"layout.csv": LAYOUT}
    for i, w in enumerate(WELLS):
        for ch in (1, 2):
            grey = _grey8(i, ch - 1)
            files[f"img/P1_{w}_s1_w{ch}.png"] = encode(grey) if encode else \
                _png(Image.fromarray(grey))
    return files


def _tiff_plate(encode) -> dict:
    files: dict = {"layout.csv": LAYOUT}
    for i, w in enumerate(WELLS):
        for ch in (1, 2):
            files[f"img/P1_{w}_s1_w{ch}.tif"] = encode(
                tifffile.imread(io.BytesIO(_field(i)[ch - 1])))
    return files


def _palette_tiff(plane: np.ndarray) -> bytes:
    cmap = np.repeat((65535 - np.arange(65536)).astype(np.uint16)[None], 3, axis=0)
    return tif((65535 - plane).astype(np.uint16), pixel_size=None, photometric="palette",
               colormap=cmap)


def _ome(plane: np.ndarray, size: float, unit: str) -> bytes:
    buf = io.BytesIO()
    tifffile.imwrite(buf, plane, ome=True, metadata={
        "axes": "YX", "PhysicalSizeX": size, "PhysicalSizeXUnit": unit,
        "PhysicalSizeY": size, "PhysicalSizeYUnit": unit})
    return buf.getvalue()


def _imagej_unit(plane: np.ndarray, size: float, unit: str) -> bytes:
    """An ImageJ TIFF calibrated ``size`` ``unit`` per pixel (the description as UTF-8)."""
    buf = io.BytesIO()
    tifffile.imwrite(buf, plane, description=f"ImageJ=1.54f\nunit={unit}\n".encode(),
                     metadata=None, resolution=(1 / size, 1 / size))
    return buf.getvalue()


def _in_cm(plane: np.ndarray) -> bytes:
    """A plain TIFF calibrated 0.65 µm per pixel by its resolution tags (pixels per cm)."""
    return tif(plane, pixel_size=None, resolution=(1e4 / 0.65, 1e4 / 0.65),
               resolutionunit="CENTIMETER")


def _with_preview(plane: np.ndarray) -> bytes:
    """The plane, then a quarter-size page flagged as a reduced-resolution image (preview)."""
    buf = io.BytesIO()
    with tifffile.TiffWriter(buf) as w:
        w.write(plane, photometric="minisblack")
        w.write((plane[::4, ::4] >> 8).astype(np.uint8), photometric="minisblack",
                subfiletype=1)          # an 8-bit preview: tifffile makes it its own series
    return buf.getvalue()


def _one_file_per_field(encode) -> dict:
    files: dict = {"layout.csv": LAYOUT}
    for i, w in enumerate(WELLS):
        nuc, neu = (tifffile.imread(io.BytesIO(b)) for b in _field(i))
        files[f"img/P1_{w}_s1.tif"] = encode(nuc, neu)
    return files


PNG = ("--pattern", "P1_{well}_s{field}_w{channel}.png", "--pixel-size", "0.65")
STACK = ("--pattern", "P1_{well}_s{field}.tif", "--pixel-size", "0.65")
#: variant id → (files, extra CLI args, reference files, reference args): same fields expected.
VARIANTS = {
    # palette indices were read as intensities (inverted palette: no cell found)
    "png-palette": (lambda: _png_plate(_inverted_palette), PNG, lambda: _png_plate(None), PNG),
    # grey + alpha PNG was refused as "file holds 2 channel planes"
    "png-grey-alpha": (lambda: _png_plate(_grey_alpha), PNG, lambda: _png_plate(None), PNG),
    "tiff-palette": (lambda: _tiff_plate(_palette_tiff), ("--pixel-size", "0.65"), plate, ()),
    # min-is-white TIFF was read inverted
    "tiff-min-is-white": (lambda: _tiff_plate(lambda p: tif(
        (65535 - p).astype(np.uint16), pixel_size=None, photometric="miniswhite")),
        ("--pixel-size", "0.65"), plate, ()),
    "tiff-grey-alpha": (lambda: _tiff_plate(lambda p: tif(
        np.stack([p, np.full_like(p, 65535)], axis=2), pixel_size=None,
        planarconfig="contig", extrasamples=["unassalpha"])), ("--pixel-size", "0.65"),
        plate, ()),
    # float pixels near the float32 limits overflowed (1e30: no neurites, warnings printed)
    # or underflowed (1e-35: no nuclei)
    "float-1e30": (lambda: _tiff_plate(lambda p: tif(p.astype(np.float32) * 1e30)), (),
                   plate, ()),
    "float-1e-35": (lambda: _tiff_plate(lambda p: tif(p.astype(np.float32) * 1e-35)), (),
                    plate, ()),
    # channels saved one page each were "a single plane"
    "tiff-page-per-channel": (lambda: _one_file_per_field(_pages), STACK, plate, ()),
    # OME PhysicalSizeXUnit was ignored (650 nm read as 650 µm: refused; 20 nm as 20 µm)
    "ome-size-in-nm": (lambda: _tiff_plate(lambda p: _ome(p, 650, "nm")), (), plate, ()),
    # stranger26 F2: ImageJ calibrations in these units were "pixel size not found"
    **{f"imagej-unit-{name}": (lambda size=size, unit=unit: _tiff_plate(
        lambda p: _imagej_unit(p, size, unit)), (), plate, ())
       for name, size, unit in [("nm", 650.0, "nm"), ("mm", 0.00065, "mm"),
                                ("inch", 0.65 / 25400, "inch"), ("microns", 0.65, "microns"),
                                ("greek-mu", 0.65, "\u03bcm"), ("micrometre", 0.65, "Micrometre")]},
    # stranger26 F19: other pixel types were refused; read as float32 with the same values
    **{f"pixels-{dtype}": (lambda dtype=dtype: _tiff_plate(lambda p: _in_cm(p.astype(dtype))),
                           (), plate, ())
       for dtype in ("float64", "int32", "uint32", "int64", "int16")},
    # signed pixels keep their values, negative ones included (a background-subtracted image)
    "pixels-int16-negative": (lambda: _tiff_plate(lambda p: _in_cm(
        (p.astype(np.int32) - 30000).astype(np.int16))), (), plate, ()),
    "pixels-float64-huge": (lambda: _tiff_plate(lambda p: _in_cm(p * 1e300)), (), plate, ()),
    # stranger26 F18: a reduced-resolution preview page was "2 images of different sizes"
    "tiff-preview-page": (lambda: _tiff_plate(_with_preview), ("--pixel-size", "0.65"),
                          plate, ()),
    # stranger48 #11: one OME-TIFF per field was "give --pattern"
    "ome-tiff-per-field": (lambda: _ome_plate(["DAPI", "GFP"]),
                           ("--nuclei-channel", "DAPI", "--neurite-channel", "GFP"), plate, ()),
    # stranger48 #11: Phenix 3-digit fields were "give --pattern" (no plate in the names:
    # the folder, as for the variant's reference the layout has none either)
    "phenix-3-digit-fields": (lambda: {("layout.csv" if k == "layout.csv" else
                                        f"img/r01c0{k[9]}f001p01-ch{k[-5]}sk1fk1fl1.tiff"): v
                                       for k, v in plate().items()}, (), plate, ()),
    # stranger26 F6: MetaXpress names with unpadded wells were skipped
    "imagexpress-unpadded-wells": (lambda: {k.replace("_A0", "_A"): v
                                            for k, v in plate().items()}, (), plate, ()),
}


def _fields(files: dict, extra: tuple[str, ...], folder) -> pd.DataFrame:
    materialise(files, folder)
    res = invoke(nt(*extra), folder)
    assert res.exit_code == 0, res.output
    return pd.read_csv(folder / "out" / "fields.csv")[
        ["well", "nuclei_count", "total_neurite_length_um", "qc_flags"]]


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_encodings_of_the_same_pixels_give_the_same_fields(variant, tmp_path):
    files, extra, ref_files, ref_extra = VARIANTS[variant]
    want = _fields(ref_files(), ref_extra, tmp_path / "ref")
    assert want["nuclei_count"].sum() > 0 and want["total_neurite_length_um"].sum() > 0
    got = _fields(files(), extra, tmp_path / "variant")
    pd.testing.assert_frame_equal(got, want)


def test_hidden_resource_forks_are_skipped_and_noted(tmp_path):
    """macOS '._NAME' forks (and __MACOSX/) made a plate '._P1' whose field lacked a channel."""
    fork = b"\x00\x05\x16\x07\x00\x02\x00\x00Mac OS X        " + b"\x00" * 64
    files = {**plate(), "img/._P1_A01_s1_w1.tif": fork, "img/__MACOSX/._P1_A01_s1_w2.tif": fork,
             "img/.DS_Store": b"\x00\x00\x00\x01Bud1"}
    materialise(files, tmp_path)
    res = invoke(nt(), tmp_path)
    assert res.exit_code == 0, res.output
    notes = json.loads((tmp_path / "out" / "manifest.json").read_text())["notes"]
    assert any("skipped 2 hidden file(s)" in n and "'__MACOSX/._P1_A01_s1_w2.tif'" in n
               for n in notes), notes


def test_group_at_several_concentrations_is_one_group_per_concentration(tmp_path):
    """Layout group H at 3 and 10 µM: statistics pooled both as group 'H' at dose 3."""
    layout = "well;Group;Concentration\nA01;DMSO;\nA02;DMSO;\nA03;H;0,3\nA04;H;10\n"
    materialise(plate(**{"layout.csv": layout}), tmp_path)
    res = invoke(nt(), tmp_path)
    assert res.exit_code == 0, res.output
    table = pd.read_csv(tmp_path / "out" / "endpoints.csv")
    groups = table.drop_duplicates("subject").set_index("subject")[["group", "dose", "dose_unit"]]
    assert groups.to_dict("index") == {
        "A01": {"group": "DMSO", "dose": 0.0, "dose_unit": "uM"},   # vehicle: dose 0, plate unit
        "A02": {"group": "DMSO", "dose": 0.0, "dose_unit": "uM"},
        "A03": {"group": "H_0.3", "dose": 0.3, "dose_unit": "uM"},
        "A04": {"group": "H_10", "dose": 10.0, "dose_unit": "uM"}}
    notes = json.loads((tmp_path / "out" / "manifest.json").read_text())["notes"]
    assert "one group per concentration: group 'H' at 0.3, 10 became 'H_0.3', 'H_10'" in notes


@pytest.mark.parametrize("encoding, sep", [(e, s) for e in ("utf-8-sig", "utf-16", "cp1252")
                                           for s in (",", ";", "\t")])
def test_layouts_as_spreadsheets_save_them(tmp_path, encoding, sep):
    """Semicolons, tabs, decimal commas, BOM, UTF-16, Windows-1252, capitalised headers
    and trailing empty rows all read as the plain CSV."""
    from neurotox.study import read_layout

    rows = [["Well", "Group", "Concentration"], ["A01", "Contrôle", "0"], ["a2", "H", "0.5"],
            ["A03", "H", "10"], ["", "", ""]]
    path = tmp_path / "layout.csv"
    decimal = "," if sep != "," else "."
    text = "\n".join(sep.join(c.replace(".", decimal) for c in r) for r in rows) + "\n"
    path.write_bytes(text.encode(encoding))
    lay = read_layout(path)
    assert lay[["well", "group", "concentration"]].to_dict("list") == {
        "well": ["A01", "A02", "A03"], "group": ["Contrôle", "H", "H"],
        "concentration": [0.0, 0.5, 10.0]}


@pytest.mark.parametrize("dot", [".", "./"])
def test_plate_folder_given_as_dot_names_the_study(tmp_path, monkeypatch, dot):
    """stranger26 F13: ``neurotox neurite .`` failed after the analysis with
    "row 0, column 'study_id': study_id is empty"."""
    materialise(plate(), tmp_path)
    monkeypatch.chdir(tmp_path / "img")
    res = invoke(("--quiet", "neurite", dot, "--layout", "../layout.csv", "--workers", "1",
                  "--overlays", "none", "-o", "{out}"), tmp_path)
    assert res.exit_code == 0, res.output
    table = pd.read_csv(tmp_path / "out" / "endpoints.csv")
    assert set(table["study_id"]) == {"img"}
    wells = pd.read_csv(tmp_path / "out" / "wells.csv")
    assert list(wells["plate"]) == ["P1"] * 4 and len(table)


def test_an_earlier_output_inside_the_plate_folder_is_not_read(tmp_path):
    """stranger26 F10: an earlier run saved inside the image folder had its overlay PNGs
    measured as fields; now skipped, and the note names the folder."""
    materialise(plate(), tmp_path / "a")
    res = invoke(("--quiet", "neurite", "{dir}/img", "--pattern", "{*}", "--nuclei-channel",
                  "none", "--neurite-channel", "1", "--workers", "1", "--overlays", "all",
                  "-o", "{dir}/img-results"), tmp_path, inputs=tmp_path / "a")
    assert res.exit_code == 0, res.output
    import shutil

    first = pd.read_csv(tmp_path / "a" / "img-results" / "fields.csv")
    assert len(first) == 8 and list((tmp_path / "a" / "img-results" / "overlays").glob("*.png"))
    shutil.move(tmp_path / "a" / "img-results", tmp_path / "a" / "img" / "analysis 1")
    res = invoke(("--quiet", "neurite", "{dir}/img", "--pattern", "{*}", "--nuclei-channel",
                  "none", "--neurite-channel", "1", "--workers", "1", "--overlays", "none",
                  "-o", "{out}"), tmp_path, inputs=tmp_path / "a")
    assert res.exit_code == 0, res.output
    again = pd.read_csv(tmp_path / "out" / "fields.csv")
    cols = ["neurite_file", "cell_body_count", "total_neurite_length_um"]   # no nuclei imaged
    pd.testing.assert_frame_equal(again[cols], first[cols])
    notes = json.loads((tmp_path / "out" / "manifest.json").read_text())["notes"]
    assert "skipped 1 earlier neurotox output folder(s) inside the plate folder (they hold " \
           "a neurotox manifest.json): 'analysis 1'" in notes


def _noise(seed: int) -> np.ndarray:
    return np.random.default_rng(seed).normal(300, 5, SHAPE).round().astype(np.uint16)


@pytest.mark.parametrize(("plane", "reason", "extra"), [
    (np.zeros(SHAPE, np.uint16), "constant (every pixel 0)", ()),
    (np.full(SHAPE, 1000, np.uint16), "constant (every pixel 1000)", ()),
    (np.full(SHAPE, 65535, np.uint16), "constant (every pixel 65535)", ()),
    (_noise(3), "no signal", ()),
    # whatever the protocol's QC rules: the zero was never measured
    (np.zeros(SHAPE, np.uint16), "constant (every pixel 0)", ("--set", "exclude_on=[]")),
], ids=["black", "constant", "saturated", "noise-only", "no-qc-rules"])
def test_blank_neurite_plane_beside_nuclei_is_excluded_not_zero(tmp_path, plane, reason,
                                                                extra):
    """stranger29 F13: a later field whose neurite plane is blank while its nuclear plane
    holds cells was measured as 0 µm (100 % inhibition); it is excluded, with the reason."""
    materialise(plate(**{NEU: tif(plane)}), tmp_path)
    res = invoke(nt(*extra), tmp_path)
    assert res.exit_code == 0, res.output
    fields = pd.read_csv(tmp_path / "out" / "fields.csv", keep_default_na=False)
    row = fields.set_index("well").loc["A02"]
    assert row["nuclei_count"] > 0 and bool(row["excluded"])
    assert row["blank_neurite"].startswith(f"neurite {NEU} is blank: {reason}")
    assert row["qc_flags"].split(";")[0] == "blank_neurite"
    assert not fields[fields["well"] != "A02"]["excluded"].astype(bool).any()
    eps = pd.read_csv(tmp_path / "out" / "endpoints.csv", keep_default_na=False)
    length = eps[(eps["subject"] == "A02") & (eps["endpoint"] == "neurite_length_per_cell")]
    assert length["excluded"].astype(str).eq("True").all() and length["value"].eq("").all()
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    hit = [e for e in manifest["exclusions"] if e.get("what") == "field P1/A02/s1"]
    assert hit[0]["rule"] == "acquisition failure" and reason in hit[0]["reason"]
    assert any(n.startswith("warning: 1 field(s) excluded: the neurite plane is blank")
               for n in manifest["notes"])


@pytest.mark.parametrize(("plane", "reason", "extra"), [
    (np.zeros(SHAPE, np.uint16), "constant (every pixel 0)", ()),
    (np.full(SHAPE, 1000, np.uint16), "constant (every pixel 1000)", ()),
    (_noise(4), "no signal", ()),
    # whatever the protocol's QC rules: the zero nuclei were never counted
    (np.zeros(SHAPE, np.uint16), "constant (every pixel 0)", ("--set", "exclude_on=[]")),
], ids=["black", "constant", "noise-only", "no-qc-rules"])
def test_blank_nuclear_plane_beside_neurites_is_excluded_not_a_dead_well(tmp_path, plane,
                                                                         reason, extra):
    """stranger41 F2: a later field whose nuclear plane is blank (a nuclear shutter
    failure) beside a neurite plane with signal read 0 nuclei, a dead well (or was excluded
    as 'cell count 0'); it is an acquisition failure, the mirror of the blank-neurite rule."""
    materialise(plate(**{NUC: tif(plane)}), tmp_path)
    res = invoke(nt(*extra), tmp_path)
    assert res.exit_code == 0, res.output
    fields = pd.read_csv(tmp_path / "out" / "fields.csv", keep_default_na=False)
    row = fields.set_index("well").loc["A02"]
    assert row["total_neurite_length_um"] > 0 and bool(row["excluded"])
    blank = f"nuclear {NUC} is blank: {reason}"
    assert row["blank_nuclei"].startswith(blank) and row["blank_neurite"] == ""
    assert row["qc_flags"].split(";")[0] == "blank_nuclei"
    # the only reason: 'cell count 0' would read as cells that died
    assert row["exclusion_reason"] == f"{row['blank_nuclei']} (acquisition failure, not measured)"
    assert not fields[fields["well"] != "A02"]["excluded"].astype(bool).any()
    eps = pd.read_csv(tmp_path / "out" / "endpoints.csv", keep_default_na=False)
    nuclei = eps[(eps["subject"] == "A02") & (eps["endpoint"] == "nuclei_count")]
    assert nuclei["excluded"].astype(str).eq("True").all() and nuclei["value"].eq("").all()
    assert nuclei["exclusion_reason"].str.contains(blank, regex=False).all()
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    hit = [e for e in manifest["exclusions"] if e.get("what") == "field P1/A02/s1"]
    assert hit[0]["rule"] == "acquisition failure" and reason in hit[0]["reason"]
    assert "warning: 1 field(s) excluded: the nuclear plane is blank beside a neurite plane " \
           "with signal (acquisition failure, not measured): 'A02/s1'; see the fields " \
           "table, column blank_nuclei" in manifest["notes"]
    assert "WARNING: 1 field(s) excluded: the nuclear plane is blank" in res.output


def test_blank_planes_of_both_channels_are_an_empty_field_not_a_failure(tmp_path):
    """A field blank in both channels is an empty well (rule 'empty'), never an
    acquisition failure: a dose that killed every cell still reads as such."""
    zeros = tif(np.zeros(SHAPE, np.uint16))
    materialise(plate(**{NUC: zeros, NEU: zeros}), tmp_path)
    res = invoke(nt(), tmp_path)
    assert res.exit_code == 0, res.output
    row = pd.read_csv(tmp_path / "out" / "fields.csv",
                      keep_default_na=False).set_index("well").loc["A02"]
    assert (row["blank_nuclei"], row["blank_neurite"]) == ("", "")
    assert row["nuclei_count"] == 0 and "empty" in row["qc_flags"].split(";")


def test_colour_channel_files_read_as_grey_are_noted(tmp_path):
    """stranger29 F14: a one-file-per-channel field whose neurite file is an RGB image:
    identical colours (a grey image saved as colour, 8 or 16 bits) read as that grey
    silently; stranger48 #4: a pseudo-coloured channel (green or magenta colour table) reads
    as its channel's own values, silently (its mean read +41..+47 % length against the grey
    file); a merge of several channels read whole is warned about."""
    grey = _field(1)[1]
    plane = tifffile.imread(io.BytesIO(grey))
    same16 = _planar_rgb(np.stack([plane] * 3))
    green8 = (plane.astype(float) / plane.max() * 255).astype(np.uint8)
    buf = io.BytesIO()
    tifffile.imwrite(buf, green8)
    zero = np.zeros_like(green8)
    variants = {"grey": grey, "same16": same16, "grey8": buf.getvalue(),
                "pseudo": _planar_rgb(np.stack([zero, green8, zero])),
                "magenta": _planar_rgb(np.stack([green8, zero, green8])),
                "merge": _planar_rgb(np.stack([green8[::-1], green8, zero]))}
    lengths = {}
    for name, data in variants.items():
        folder = tmp_path / name
        materialise(plate(**{"P1_A01_s1_w2.tif": data}), folder)
        res = invoke(nt(), folder)
        assert res.exit_code == 0, res.output
        manifest = json.loads((folder / "out" / "manifest.json").read_text())
        noted = [n for n in manifest["notes"] if "merge of several channels" in n]
        assert len(noted) == (name == "merge"), noted
        fields = pd.read_csv(folder / "out" / "fields.csv").set_index("well")
        lengths[name] = fields.loc["A01", "total_neurite_length_um"]
    assert noted[0] == ("warning: the neurite file P1_A01_s1_w2.tif of the first field is a "
                        "colour image whose red, green and blue planes differ as in a merge of "
                        "several channels, not as a single channel's colour table: read as "
                        "grey (the brightest plane at each pixel) the channels are mixed; "
                        "name the colour, e.g. --neurite-channel green")
    assert lengths["same16"] == lengths["grey"] > 0
    assert lengths["pseudo"] == lengths["magenta"] == lengths["grey8"] > 0
