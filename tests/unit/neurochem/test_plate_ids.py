"""Plate IDs kept apart across the files of one neurochemistry run."""

from __future__ import annotations

from pathlib import Path

from neurotox.io.neurochem.plate_ids import PlateIds, file_labels


def test_labels_are_the_shortest_distinguishing_paths(tmp_path):
    paths = [tmp_path / "run1" / "a" / "plate.csv", tmp_path / "run2" / "a" / "plate.csv",
             tmp_path / "b" / "plate.csv", tmp_path / "other.csv"]
    assert list(file_labels(paths).values()) == [
        "run1/a/plate.csv", "run2/a/plate.csv", "b/plate.csv", "other.csv"]


def test_a_repeated_plate_id_takes_its_files_label():
    a, b, c = Path("x/a/gfap.csv"), Path("x/b/gfap.csv"), Path("x/cytokines_plate2.csv")
    ids = PlateIds([a, b, c])
    assert ids.claim("gfap", a) == "gfap"
    assert ids.claim("gfap", b) == "b/gfap"          # the ID was the file name
    assert ids.claim("plate1", a, "IL6") == "plate1"
    assert ids.claim("plate1", c, "IL6") == "cytokines_plate2:plate1"
    assert ids.claim("plate1", c, "TNF") == "plate1"  # per analyte, as before
    assert ids.claim("gfap", a) == "gfap"            # the same file keeps its ID


def test_a_plate_map_is_refused_only_for_an_id_two_files_give_for_one_analyte():
    import pandas as pd
    import pytest

    from neurotox.errors import InputError

    plate_map = pd.DataFrame({"plate": ["P1"], "well": ["A01"], "source": ["map.csv row 2"]})
    a, b = Path("x/gfap.csv"), Path("x/nfl.csv")
    ids = PlateIds([a, b])
    ids.claim("P1", a, "GFAP")
    ids.claim("P1", b, "NfL")           # one plate exported per analyte: the map is for both
    ids.check_map("P1", plate_map)
    ids.claim("P1", b, "GFAP")
    with pytest.raises(InputError, match=r"nfl\.csv: plate 'P1' is given by 2 files, 'gfap\.csv', "
                                         r"'nfl\.csv', and the plate map names it \(map\.csv row "
                                         r"2\)"):
        ids.check_map("P1", plate_map)
