"""A print resolution in the TIFF tags is no calibration; calibrations far apart are warned about.

stranger48 #2: files re-saved by an image editor carry 600 dpi, read as 42.3 µm
per pixel (0 neurite, up to 1 468 "cells" a field) with only an INFO line.
"""

from __future__ import annotations

import numpy as np
import pytest
import tifffile

from neurotox.assays.neurite.params import NeuriteParameters
from neurotox.assays.neurite.plate import plan_fields
from neurotox.errors import InputError
from neurotox.imaging.synthetic import synthetic_field
from neurotox.io.calibration import calibration_problem, pixel_size_um

MICRONS = {"imagej": True, "metadata": {"unit": "um"}}


def _tags(calibration):
    """tifffile keywords: ("um", size), ("INCH"/"CENTIMETER", px per unit), ("ij-inch", dpi)."""
    kind, value = calibration
    if kind == "um":
        return {**MICRONS, "resolution": (1 / value, 1 / value)}
    if kind == "ij-inch":
        return {"imagej": True, "metadata": {"unit": "inch"}, "resolution": (value, value)}
    return {"resolution": (value, value), "resolutionunit": kind}


@pytest.mark.parametrize(("calibration", "size", "dpi"), [
    (("INCH", 600), None, 600), (("INCH", 1200), None, 1200), (("INCH", 96), None, 96),
    (("CENTIMETER", 600 / 2.54), None, 600), (("CENTIMETER", 118.11), None, 300),
    (("ij-inch", 300), None, 300),
    (("INCH", 25400 / 0.325), 0.325, None), (("CENTIMETER", 10000 / 1.28), 1.28, None),
    (("um", 42.0), 42.0, None),       # a calibration in µm is a measurement at any value
], ids=["600dpi", "1200dpi", "96dpi", "600dpi-cm", "300dpi-cm", "imagej-inch-300",
        "0.325um-inch", "1.28um-cm", "imagej-um-42"])
def test_print_resolutions_are_not_calibrations(tmp_path, calibration, size, dpi):
    path = tmp_path / "x.tif"
    tifffile.imwrite(path, np.zeros((4, 4), np.uint16), **_tags(calibration))
    assert pixel_size_um(path) == (None if size is None else pytest.approx(size, rel=1e-4))
    problem = calibration_problem(path)
    if dpi is None:
        assert problem is None
    else:
        assert problem == (f"its resolution {dpi} dpi ({25400 / dpi:.4g} µm per pixel) is a "
                           "print setting, not a microscope calibration")


def _plate(root, calibrations):
    (root / "img").mkdir()
    for i, (well, calibration) in enumerate(calibrations.items()):
        f = synthetic_field(i, shape=(128, 128))
        for ch, image in ((1, f.nuclei), (2, f.neurites)):
            tifffile.imwrite(root / "img" / f"P_{well}_s1_w{ch}.tif", image,
                             **_tags(calibration))
    return root / "img"


def test_a_field_stamped_600_dpi_takes_the_plates_calibration_with_a_warning(tmp_path):
    img = _plate(tmp_path, {"A01": ("um", 0.65), "A02": ("INCH", 600)})
    tasks, notes = plan_fields(img, NeuriteParameters())
    assert [t.pixel_size for t in tasks] == pytest.approx([0.65, 0.65])
    assert ("warning: 1 field(s) without a usable pixel-size calibration ('P_A02_s1_w2.tif') "
            "taken as 0.65 µm like P_A01_s1_w2.tif; give --pixel-size if that is wrong "
            "(P_A02_s1_w2.tif: its resolution 600 dpi (42.33 µm per pixel) is a print "
            "setting, not a microscope calibration)") in notes


def test_a_plate_stamped_600_dpi_is_uncalibrated(tmp_path):
    img = _plate(tmp_path, {"A01": ("INCH", 600), "A02": ("INCH", 600)})
    with pytest.raises(InputError, match=r"no usable pixel size: its resolution 600 dpi "
                                         r"\(42.33 µm per pixel\) is a print setting, not a "
                                         r"microscope calibration; give --pixel-size"):
        plan_fields(img, NeuriteParameters())


@pytest.mark.parametrize(("fine", "warned"), [(0.325, False), (0.2, True)])
def test_calibrations_more_than_2x_apart_are_warned_about_naming_the_fields(tmp_path, fine,
                                                                             warned):
    img = _plate(tmp_path, {"A01": ("um", 0.65), "A02": ("um", fine), "A03": ("um", 0.65)})
    _, notes = plan_fields(img, NeuriteParameters())
    note = next(n for n in notes if "different pixel sizes" in n)
    if warned:
        assert note == ("warning: fields calibrated at different pixel sizes, each measured "
                        "at its own: 0.2 µm (1 field(s): 'P/A02/s1'), 0.65 µm (2 field(s): "
                        "'P/A01/s1', 'P/A03/s1'); sizes more than 2x apart: check the "
                        "calibrations or give --pixel-size")
    else:
        assert note == ("fields calibrated at different pixel sizes, each measured at its "
                        "own: 0.325 µm (1 field(s)), 0.65 µm (2 field(s))")
