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
