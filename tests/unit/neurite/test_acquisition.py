"""Acquisition confounds: grey depth is compared over fields that hold cells.

stranger41 F0 / stranger43: a top dose that killed every cell leaves wells of
background only (a few grey levels); counted as empty fields, they set off the
"groups' fields differ in grey depth … may come from the files" warning,
blaming the files for the treatment's effect.
"""

from __future__ import annotations

import pandas as pd

from neurotox.assays.neurite.acquisition import acquisition_notes, without_cells
from neurotox.assays.neurite.layout import GroupInfo
from neurotox.assays.neurite.params import NeuriteParameters

GROUPS = {"B02": GroupInfo("DMSO", 0.0, "uM", True), "B03": GroupInfo("DMSO", 0.0, "uM", True),
          "C02": GroupInfo("Cpd_1", 1.0, "uM", False), "C03": GroupInfo("Cpd_1", 1.0, "uM", False),
          "F02": GroupInfo("Cpd_30", 30.0, "uM", False),
          "F03": GroupInfo("Cpd_30", 30.0, "uM", False)}


def _fields(levels: dict[str, int], dead: set[str]) -> pd.DataFrame:
    """One PNG field per well; ``dead`` wells hold no nuclei (excluded, still counted)."""
    return pd.DataFrame([
        {"plate": "P", "well": w, "field": 1, "neurite_file": f"{w}_1.png", "nuclei_file": "",
         "grey_levels": n, "nuclei_count": 0 if w in dead else 40,
         "cells_analysed": 0 if w in dead else 40, "excluded": w in dead, "counted": w in dead}
        for w, n in levels.items()])


def test_dead_wells_of_few_grey_levels_do_not_set_off_the_grey_depth_warning():
    levels = {"B02": 256, "B03": 256, "C02": 256, "C03": 255, "F02": 3, "F03": 3}
    fields = _fields(levels, dead={"F02", "F03"})
    assert list(without_cells(fields)) == [False, False, False, False, True, True]
    assert acquisition_notes(fields, GROUPS, NeuriteParameters()) == []


def test_fields_with_no_cells_are_left_out_even_when_not_excluded():
    fields = _fields({"B02": 256, "B03": 256, "C02": 256, "C03": 255, "F02": 3, "F03": 3},
                     dead=set())
    fields.loc[fields["well"].isin(["F02", "F03"]), ["nuclei_count", "cells_analysed"]] = 0
    assert acquisition_notes(fields, GROUPS, NeuriteParameters()) == []


def test_coarse_fields_with_cells_are_still_warned_about_and_the_dead_ones_named():
    levels = {"B02": 256, "B03": 256, "C02": 16, "C03": 16, "F02": 3, "F03": 3}
    assert acquisition_notes(_fields(levels, dead={"F02", "F03"}), GROUPS,
                             NeuriteParameters()) == [
        "warning: the groups' fields differ in grey depth (fields per group, control first: "
        "'DMSO': 2 at least 64 grey levels; 'Cpd_1': 2 fewer than 64 grey levels): a "
        "difference from the control may come from the files, not the treatment (2 field(s) "
        "without cells left out of this comparison: their grey levels are the background's)"]


def test_file_format_still_counts_every_field():
    fields = _fields({"B02": 256, "B03": 256, "C02": 256, "C03": 255, "F02": 3, "F03": 3},
                     dead={"F02", "F03"})
    fields.loc[fields["well"].isin(["F02", "F03"]), "neurite_file"] = ["F02_1.jpg", "F03_1.jpg"]
    assert acquisition_notes(fields, GROUPS, NeuriteParameters()) == [
        "warning: the groups' fields differ in file format (fields per group, control first: "
        "'DMSO': 2 PNG; 'Cpd_1': 2 PNG; 'Cpd_30': 2 JPG): a difference from the control may "
        "come from the files, not the treatment"]


def test_8_bit_treated_fields_beside_16_bit_controls_are_warned_about():
    # stranger48 #3: treated wells decoded from a grey JPEG and re-saved as 8-bit TIFF beside
    # 16-bit controls read +40..+45 % neurite length; same extension, >= 64 levels both
    levels = {"B02": 4113, "B03": 3987, "C02": 256, "C03": 251, "F02": 4050, "F03": 4002}
    fields = _fields(levels, dead=set())
    fields["neurite_file"] = [f"{w}_1.tif" for w in levels]
    assert acquisition_notes(fields, GROUPS, NeuriteParameters()) == [
        "warning: the groups' fields differ in bit depth (fields per group, control first: "
        "'DMSO': 2 more than 256 grey levels (deeper than 8-bit); 'Cpd_1': 2 at most 256 grey "
        "levels (8-bit); 'Cpd_30': 2 more than 256 grey levels (deeper than 8-bit)): a "
        "difference from the control may come from the files, not the treatment"]


def test_a_plate_of_grey_jpegs_is_warned_about_as_lossy():
    from pathlib import Path

    from neurotox.assays.neurite.acquisition import jpeg_note

    paths = [Path(f"P_A0{i}_s1_w2.jpg") for i in (1, 2, 3, 4)]
    assert jpeg_note(paths, colour=False) == (
        "warning: 4 field(s) are JPEG files ('P_A01_s1_w2.jpg', 'P_A02_s1_w2.jpg', "
        "'P_A03_s1_w2.jpg' and 1 more): their lossy compression artefacts can be traced as "
        "faint neurite where the background is flat, so neurite lengths may read high (grey "
        "JPEGs at quality 95 read +40..+45 % neurite length against their 16-bit source); "
        "analyse the original images, exported as TIFF or PNG (lossless), if there are any")
    assert jpeg_note([], colour=False) is None


def test_a_plate_of_grey_jpegs_written_by_pillow_gets_one_warning(tmp_path):
    # stranger48 #3: grey JPEG channel files (quality 95) read +40..+45 % neurite length
    # against their 16-bit source; a JPEG-compressed TIFF is the same lossy data. One
    # warning per run, counting the fields; lossless PNG and TIFF get none
    import numpy as np
    import tifffile
    from PIL import Image

    from neurotox.assays.neurite.plate import plan_fields
    from neurotox.imaging.synthetic import synthetic_field

    def plate(folder, save):
        folder.mkdir()
        for well, seed in (("A01", 1), ("A02", 2), ("A03", 3)):
            f = synthetic_field(seed, shape=(128, 128))
            for ch, plane in ((1, f.nuclei), (2, f.neurites)):
                save(folder / f"P_{well}_s1_w{ch}", (plane / plane.max() * 255).astype(np.uint8))
        params = NeuriteParameters(pixel_size_um=0.65, pattern="P_{well}_s{field}_w{channel}{*}",
                                   nuclei_channel="1", neurite_channel="2")
        _, notes = plan_fields(folder, params, overlays="none")
        return [n for n in notes if "JPEG" in n]

    jpeg = plate(tmp_path / "jpg", lambda p, g: Image.fromarray(g).save(
        p.with_suffix(".jpg"), quality=95))
    assert jpeg == [
        "warning: 3 field(s) are JPEG files ('P_A01_s1_w2.jpg', 'P_A02_s1_w2.jpg', "
        "'P_A03_s1_w2.jpg'): their lossy compression artefacts can be traced as faint neurite "
        "where the background is flat, so neurite lengths may read high (grey JPEGs at "
        "quality 95 read +40..+45 % neurite length against their 16-bit source); analyse the "
        "original images, exported as TIFF or PNG (lossless), if there are any"]
    in_tiff = plate(tmp_path / "jtif", lambda p, g: tifffile.imwrite(
        p.with_suffix(".tif"), g, compression="jpeg"))
    assert len(in_tiff) == 1 and in_tiff[0].startswith(
        "warning: 3 field(s) are lossy JPEG (JPEG files or JPEG-compressed TIFFs) "
        "('P_A01_s1_w2.tif', ")
    assert plate(tmp_path / "png", lambda p, g: Image.fromarray(g).save(
        p.with_suffix(".png"))) == []
    assert plate(tmp_path / "tif", lambda p, g: tifffile.imwrite(
        p.with_suffix(".tif"), g, compression="zlib")) == []
