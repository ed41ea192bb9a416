"""What each row of the neurite field, cell and well tables says about how it was measured.

stranger41 F4/F7: one run can measure fields at different pixel sizes (two
magnifications, files without a calibration), and a lab filtering fields.csv
or cells.csv by group had to join them on the layout.
"""

from __future__ import annotations

import pandas as pd
import pytest

from neurotox.assays.neurite.params import NeuriteParameters
from neurotox.assays.neurite.plate import analyse_plate
from neurotox.imaging.synthetic import synthetic_field
from neurotox.study import read_layout


def _write(path, image, pixel_size):
    import tifffile

    meta = {} if pixel_size is None else {
        "imagej": True, "resolution": (1 / pixel_size, 1 / pixel_size),
        "metadata": {"unit": "um"}}
    tifffile.imwrite(path, image, **meta)


@pytest.fixture(scope="module")
def mixed_plate(tmp_path_factory):
    """A01 at 0.65 µm, A02 (another field) at 0.325 µm, A03 = A01's images uncalibrated."""
    root = tmp_path_factory.mktemp("mixed")
    (root / "img").mkdir()
    coarse, fine = synthetic_field(1, pixel_size=0.65), synthetic_field(2, pixel_size=0.325)
    for well, f, px in (("A01", coarse, 0.65), ("A02", fine, 0.325), ("A03", coarse, None)):
        _write(root / "img" / f"P_{well}_s1_w1.tif", f.nuclei, px)
        _write(root / "img" / f"P_{well}_s1_w2.tif", f.neurites, px)
    pd.DataFrame({"well": ["A01", "A02", "A03"], "group": ["DMSO", "X", "X"],
                  "concentration": [0, 3, 3]}).to_csv(root / "layout.csv", index=False)
    run = analyse_plate(root / "img", read_layout(root / "layout.csv"), NeuriteParameters(),
                        study_id="S", workers=1, overlays="none")
    return root, run, {"A01": coarse, "A02": fine, "A03": coarse}


def test_each_field_says_the_pixel_size_it_was_measured_at_and_where_it_came_from(mixed_plate):
    _, run, truth = mixed_plate
    fields = run.details["fields"].set_index("well")
    assert fields["pixel_size_um"].to_dict() == {"A01": 0.65, "A02": 0.325, "A03": 0.65}
    assert fields["pixel_size_source"].to_dict() == {"A01": "metadata", "A02": "metadata",
                                                     "A03": "fallback"}
    # each field measured in µm at its own size: the fine field's length is its truth
    for well in ("A01", "A02"):
        got = fields.loc[well, "total_neurite_length_um"]
        assert got == pytest.approx(truth[well].truth["total_neurite_length_um"], rel=0.1)
    assert fields.loc["A03", "total_neurite_length_um"] == \
        fields.loc["A01", "total_neurite_length_um"]
    cells = run.details["cells"]
    assert cells.groupby("well")["pixel_size_um"].unique().map(list).to_dict() == \
        {"A01": [0.65], "A02": [0.325], "A03": [0.65]}
    wells = run.details["wells"].set_index("well")
    assert wells["pixel_size_um"].to_dict() == {"A01": 0.65, "A02": 0.325, "A03": 0.65}
    assert wells["pixel_size_source"].to_dict() == {"A01": "metadata", "A02": "metadata",
                                                    "A03": "fallback"}


def test_a_pixel_size_given_is_recorded_with_who_gave_it(mixed_plate):
    root, _, _ = mixed_plate
    run = analyse_plate(root / "img", read_layout(root / "layout.csv"),
                        NeuriteParameters(pixel_size_um=0.5), study_id="S", workers=1,
                        overlays="none", pixel_size_given_by="option")
    fields = run.details["fields"]
    pairs = zip(fields["pixel_size_um"], fields["pixel_size_source"], strict=True)
    assert set(pairs) == {(0.5, "option")}


def test_field_and_cell_rows_carry_their_wells_group_and_dose(mixed_plate):
    _, run, _ = mixed_plate
    fields, cells = run.details["fields"], run.details["cells"]
    assert list(fields.columns[:7]) == ["plate", "well", "field", "timepoint", "group", "dose",
                                        "dose_unit"]
    assert fields[["well", "group", "dose", "dose_unit"]].values.tolist() == [
        ["A01", "DMSO", 0.0, "uM"], ["A02", "X", 3.0, "uM"], ["A03", "X", 3.0, "uM"]]
    assert list(cells.columns[:8]) == ["plate", "well", "field", "timepoint", "group", "dose",
                                       "dose_unit", "cell"]
    assert cells.groupby("well")["group"].unique().map(list).to_dict() == \
        {"A01": ["DMSO"], "A02": ["X"], "A03": ["X"]}
    assert (cells.groupby("group").size() == fields.groupby("group")["cells_analysed"].sum()
            ).all()


@pytest.mark.parametrize(("channel", "plane", "colour", "expected"), [
    ("1", 0, True, "channel '1' (plane 1, red) of x.png"),
    ("2", 1, True, "channel '2' (plane 2, green) of x.png"),
    ("blue", 2, True, "channel 'blue' (plane 3) of x.png"),     # the colour was given
    ("1", 0, False, "channel '1' (plane 1) of x.png"),          # a channel stack
])
def test_a_plane_of_an_rgb_file_is_named_by_its_colour(channel, plane, colour, expected):
    from pathlib import Path

    from neurotox.io.plates import PlaneSource

    assert PlaneSource(Path("x.png"), plane, channel).describe(colour=colour) == expected


def test_without_a_nuclear_channel_the_tables_name_the_count_cell_bodies(mixed_plate):
    # wells.csv said nuclei_count where the EndpointTable says cell_body_count (stranger41 F7)
    root, _, truth = mixed_plate
    params = NeuriteParameters(nuclei_channel=None, neurite_channel="2")
    run = analyse_plate(root / "img", read_layout(root / "layout.csv"), params, study_id="S",
                        workers=1, overlays="none")
    fields, wells = run.details["fields"], run.details["wells"].set_index("well")
    for table in (fields, wells):
        assert "cell_body_count" in table and "nuclei_count" not in table
    assert "cell_body_count_pct" in wells and "nuclei_count_pct" not in wells
    counts = run.endpoints[run.endpoints["endpoint"] == "cell_body_count"].set_index("subject")
    assert wells["cell_body_count"].to_dict() == counts["value"].to_dict()
    for well in ("A01", "A02"):      # somata drawn in the neurite channel, one per cell
        assert wells.loc[well, "cell_body_count"] == pytest.approx(
            truth[well].truth["nuclei_count"], abs=2)
    assert wells.loc["A01", "cell_body_count_pct"] == 100.0
