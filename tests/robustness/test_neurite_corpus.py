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
            tifffile.imwrite(buf, data, photometric="minisblack", **kw)
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


def nt(*extra: str) -> tuple[str, ...]:
    return ("--quiet", "neurite", "{dir}/img", "--layout", "{dir}/layout.csv", "--workers",
            "1", "--overlays", "none", *extra, "-o", "{out}")


NUC = "P1_A02_s1_w1.tif"
NEU = "P1_A02_s1_w2.tif"
_u16 = np.full(SHAPE, 100, np.uint16)

CASES = [
    Case("img-truncated-tiff", plate(**{NEU: _field(1)[1][:300]}), nt(),
         "cannot read image: failed to read 18432 bytes, got 0", f"img/{NEU}"),
    Case("img-corrupt-tiff", plate(**{NEU: b"II*\x00" + b"\x07" * 400}), nt(),
         "image has no pixels (shape (0,))", f"img/{NEU}"),
    Case("img-not-a-tiff", plate(**{NEU: b"GIF89a" + b"\x00" * 100}), nt(),
         "cannot read image: not a TIFF file: header=b'GIF8'", f"img/{NEU}"),
    Case("img-empty-file", plate(**{NEU: b""}), nt(),
         "cannot read image: not a TIFF file: header=b''", f"img/{NEU}"),
    Case("img-zero-size-image", plate(**{NEU: tif(np.zeros((0, 96), np.uint16))}), nt(),
         "image has no pixels (shape (0, 0))", f"img/{NEU}"),
    Case("img-float-bit-depth", plate(**{NEU: tif(np.ones(SHAPE, np.float64), pixel_size=None)}),
         nt(), "expected an 8- or 16-bit unsigned integer (or 32-bit float) image, fou",
         f"img/{NEU}"),
    Case("img-bool-bit-depth", plate(**{NEU: tif(np.ones(SHAPE, bool), pixel_size=None)}), nt(),
         "expected an 8- or 16-bit unsigned integer (or 32-bit float) image, fou", f"img/{NEU}"),
    Case("img-int32-bit-depth", plate(**{NEU: tif(np.ones(SHAPE, np.int32), pixel_size=None)}),
         nt(), "expected an 8- or 16-bit unsigned integer (or 32-bit float) image, fou",
         f"img/{NEU}"),
    Case("img-size-mismatch-in-field", plate(**{NEU: tif(np.ones((64, 80), np.uint16))}), nt(),
         "image size (64, 80) differs from (96, 96) of P1_A02_s1_w1.tif in the s", f"img/{NEU}"),
    Case("img-missing-channel", plate(**{NEU: None}), nt(),
         "field A02 s1 has no neurite channel '2' file (found: 'P1_A02_s1_w1.tif", "img"),
    Case("img-single-channel-only", {k: v for k, v in plate().items() if "_w2" not in k}, nt(),
         "/P1_A01_s1_w1.tif: channel 2 requested, but the file holds a single pl", "img"),
    Case("img-3d-stack", plate(**{NEU: tif(np.ones((3, 96, 96), np.uint16))}), nt(),
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
         "cannot parse as CSV: No columns to parse from file", "layout.csv"),
    Case("opt-bad-channel", plate(), nt("--neurite-channel", "7"),
         "channel '7' not found; channels in the plate: '1', '2'", "img"),
    Case("opt-bad-pixel-size", plate(), nt("--pixel-size", "-1"),
         "Invalid value for '--pixel-size': expected a number above 0.02 and at most 50, "
         "found '-1'", "pixel"),
    Case("opt-bad-pattern", plate(), nt("--pattern", "{well}_{nope}.tif"),
         "unknown placeholder '{nope}' in --pattern; expected one of '{*}', '{ch", "pattern"),
    Case("img-force-keeps-previous", plate(**{NEU: b"II*\x00" + b"\x07" * 400}), nt("--force"),
         "image has no pixels (shape (0,))", f"img/{NEU}", previous=True),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_neurite_case(case, tmp_path):
    run_case(case, tmp_path)


@pytest.mark.parametrize("value, flag", [(0, "empty"), (65535, "saturation")],
                         ids=["all-black", "saturated"])
def test_blank_and_saturated_fields_give_zeros_and_qc_flag(tmp_path, value, flag):
    """An all-black or saturated field is analysed, not an error: zeros, a QC flag, and
    the exclusion (what, why, rule) in the manifest."""
    import pandas as pd

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
