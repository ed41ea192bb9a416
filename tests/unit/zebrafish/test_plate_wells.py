"""Larvae an export numbers (ZebraLab locations, EthoVision arenas) and other labs' exports.

stranger40: a ZebraLab export naming its animals column-major while the lab's
layout is in location codes (Z1); bins wider than the transition window (Z2);
48-well plates; a trailing period past the schedule; two animals in one well.
Tiny ZebraLab tracking exports written by the tests with known distances.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from neurotox.assays.zebrafish import ZebrafishParameters, analyse
from neurotox.assays.zebrafish.plate_wells import plate_format
from neurotox.errors import InputError
from neurotox.io.zebrafish import read_export
from neurotox.io.zebrafish.plate import read_plate_layouts
from neurotox.study import number_to_well

HEAD = "location\tanimal\tan\tstart\tend\tsmldist\tlardist"
LIGHT = [{"name": "light1", "light": True, "duration_s": 120}]
LIGHT_DARK = [{"name": "light1", "light": True, "duration_s": 120},
              {"name": "dark1", "light": False, "duration_s": 120}]


def _row_major(n: int, cols: int) -> str:
    return f"{chr(65 + (n - 1) // cols)}{(n - 1) % cols + 1:02d}"


def _col_major(n: int) -> str:       # c01 -> A01, c02 -> B01 ... on a 96-well plate
    return f"{chr(65 + (n - 1) % 8)}{(n - 1) // 8 + 1:02d}"


def _export(tmp_path, n_loc, animal=None, starts=(0, 60), width=60.0, extra=(), an=None):
    """Location c<n> moves n mm (smldist) + 1 mm (lardist) in every period."""
    lines = [HEAD]
    for s in [*starts, *extra]:
        end = s + (width if s in starts else 0.2)
        for n in range(1, n_loc + 1):
            name = animal(n) if animal else ""
            lines.append(f"c{n:02d}\t{name}\t{an or 1}\t{s:g}\t{end:g}\t{n}\t1")
    p = tmp_path / "plate.xls"
    p.write_text("\n".join(lines) + "\n")
    return read_export(p)


def _layout(tmp_path, wells, groups):
    rows = "".join(f"{w},{g},{0 if g == 'C' else 1}\n" for w, g in zip(wells, groups,
                                                                      strict=True))
    (tmp_path / "lay.csv").write_text("well,group,concentration\n" + rows, encoding="utf-8")
    return read_plate_layouts(tmp_path / "lay.csv")


def _total(result):
    e = result.endpoints
    t = e[e["endpoint"] == "total_distance"].copy()
    t["well"] = t["subject"].str.split("-").str[-1]
    return t.set_index("well")


def test_code_layout_joins_on_the_exports_locations_not_on_its_animal_names(tmp_path):
    # Z1: animal = well names column-major; the layout in location codes c01 ... c96
    ex = _export(tmp_path, 96, animal=_col_major)
    groups = ["C" if n % 3 else "T" for n in range(1, 97)]     # c03, c06 ... treated
    lay = _layout(tmp_path, [f"c{n:02d}" for n in range(1, 97)], groups)
    r = analyse([ex], ZebrafishParameters(schedule=LIGHT), layouts=lay)
    assert "layout in ZebraLab location codes: joined on the exports' own location column " \
        "(not on wells derived from the codes)" in r.notes
    t = _total(r)
    assert t.loc["B01", "group"] == "C" and t.loc["C01", "group"] == "T"     # c02, c03
    assert t.loc["B01", "value"] == 2 * (2 + 1)          # location c02: 2 periods x 3 mm
    assert t.loc["H12", "value"] == 2 * (96 + 1)         # c96 is H12 in both orders
    assert (t["group"] == ["C" if n % 3 else "T" for n in
                           t.index.map(lambda w: (int(w[1:]) - 1) * 8 + ord(w[0]) - 64)]).all()


def test_well_layout_with_names_and_locations_that_disagree_is_refused(tmp_path):
    ex = _export(tmp_path, 96, animal=_col_major)
    lay = _layout(tmp_path, [_row_major(n, 12) for n in range(1, 97)], ["C"] * 96)
    with pytest.raises(InputError, match=re.escape(
            "the export names larva 'A02' at location c09, which is well 'A09' row-major on a "
            "96-well plate (94 of 96 larvae disagree): the layout's well names could mean either")):
        analyse([ex], ZebrafishParameters(schedule=LIGHT), layouts=lay)
    # names that agree with the locations (row-major) are joined on the names as before
    ex = _export(tmp_path, 96, animal=lambda n: _row_major(n, 12))
    t = _total(analyse([ex], ZebrafishParameters(schedule=LIGHT), layouts=lay))
    assert t.loc["B01", "value"] == 2 * (13 + 1)


def test_48_well_plate_locations_are_placed_six_by_eight(tmp_path):
    ex = _export(tmp_path, 48)                       # no animal names: c01 ... c48
    wells = [_row_major(n, 8) for n in range(1, 49)]
    lay = _layout(tmp_path, wells, ["C" if n <= 24 else "T" for n in range(1, 49)])
    r = analyse([ex], ZebrafishParameters(schedule=LIGHT), layouts=lay)
    t = _total(r)
    assert t.loc["B01", "value"] == 2 * (9 + 1) and t.loc["F08", "value"] == 2 * (48 + 1)
    assert t.loc["C08", "group"] == "C" and t.loc["D01", "group"] == "T"     # c24, c25
    assert any("48-well plate (6 x 8, row-major: 1 = A01, 9 = B01), the layout lists the 48 "
               "wells of a whole plate" in n for n in r.notes)
    # the same export with a layout in location codes: joined on the locations; without
    # plate_format the wells are named on 96 wells (c09 = A09) and the notes say why
    lay = _layout(tmp_path, [f"c{n:02d}" for n in range(1, 49)],
                  ["C" if n <= 24 else "T" for n in range(1, 49)])
    r = analyse([ex], ZebrafishParameters(schedule=LIGHT), layouts=lay)
    t = _total(r)
    assert t.loc["A09", "value"] == 20 and t.loc["B12", "group"] == "C"     # c09, c24
    assert t.loc["B01", "group"] == "C" and t.loc["C01", "group"] == "T"     # c13, c25
    assert any("the export numbers 1 to 48 as a whole 48-well plate would: set plate_format "
               "48 if it is one" in n for n in r.notes)
    t = _total(analyse([ex], ZebrafishParameters(schedule=LIGHT, plate_format=48),
                       layouts=lay))
    assert t.loc["B01", "value"] == 20 and t.loc["D01", "group"] == "T"


def _export_24(tmp_path, named: bool):
    """A 24-well ZebraLab export as the daphnia plate's: locations ``c1-001`` …, ``an`` 0 and 1.

    Location n (row-major, 6 columns) moves n mm + 1 mm in each of two 60-s periods;
    ``animal`` names its well row-major (c1-007 = B01) or is empty.
    """
    lines = [HEAD]
    for s in (0, 60):
        for n in range(1, 25):
            name = _row_major(n, 6) if named else ""
            lines += [f"c1-{n:03d}\t{name}\t{an}\t{s}\t{s + 60}\t{n}\t1" for an in (0, 1)]
    (tmp_path / "plate24.xls").write_text("\n".join(lines) + "\n")
    return read_export(tmp_path / "plate24.xls")


@pytest.mark.parametrize("named", [True, False])
def test_24_well_layout_in_location_codes_c01_to_c24_joins_on_the_locations(tmp_path, named):
    # c01 ... c24 are also the wells C01 ... C24 (they were read so, and the run refused:
    # 'well(s) 'A01', ... are in the export but not in the layout'); the export numbers its
    # larvae and only the locations fit, so the layout is joined on them
    ex = _export_24(tmp_path, named)
    groups = ["C" if n % 3 else "T" for n in range(1, 25)]          # c03, c06 ... treated
    lay = _layout(tmp_path, [f"c{n:02d}" for n in range(1, 25)], groups)
    r = analyse([ex], ZebrafishParameters(schedule=LIGHT, plate_format=24), layouts=lay)
    assert "layout in ZebraLab location codes: joined on the exports' own location column " \
        "(not on wells derived from the codes)" in r.notes
    t = _total(r)
    assert len(t) == 24 and sorted(t.index) == sorted(_row_major(n, 6) for n in range(1, 25))
    assert t.loc["B01", "value"] == 2 * (7 + 1) and t.loc["B01", "group"] == "C"     # c07
    assert t.loc["C03", "value"] == 2 * (15 + 1) and t.loc["C03", "group"] == "T"    # c15
    assert t.loc["D06", "value"] == 2 * (24 + 1) and t.loc["D06", "group"] == "T"    # c24
    assert (t["group"] == ["C" if n % 3 else "T" for n in
                           t.index.map(lambda w: (ord(w[0]) - 65) * 6 + int(w[1:]))]).all()
    if not named:   # without plate_format the larvae are named on 96 wells (c07 = A07)
        t = _total(analyse([ex], ZebrafishParameters(schedule=LIGHT), layouts=lay))
        assert t.loc["A07", "value"] == 16 and t.loc["A07", "group"] == "C"
        assert t.loc["B12", "value"] == 50 and t.loc["B12", "group"] == "T"


def test_codes_c01_to_c12_that_are_the_exports_wells_stay_wells(tmp_path):
    # row C of a 96-well plate (locations c25 ... c36, named C01 ... C12), the layout
    # written c01 ... c12: as wells it fits, so it is read as wells
    lines = [HEAD] + [f"c{n + 24:02d}\t{_row_major(n + 24, 12)}\t1\t{s}\t{s + 60}\t{n}\t1"
                      for s in (0, 60) for n in range(1, 13)]
    (tmp_path / "rowc.xls").write_text("\n".join(lines) + "\n")
    ex = read_export(tmp_path / "rowc.xls")
    lay = _layout(tmp_path, [f"c{n:02d}" for n in range(1, 13)], ["C"] * 6 + ["T"] * 6)
    r = analyse([ex], ZebrafishParameters(schedule=LIGHT), layouts=lay)
    assert not any("joined on the exports' own location" in n for n in r.notes)
    t = _total(r)
    assert t.loc["C01", "value"] == 2 * (1 + 1) and t.loc["C07", "group"] == "T"


def test_location_code_layout_for_an_export_naming_wells_uses_the_plates_rows(tmp_path):
    # a 48-well export whose locations are saved as well names (A01 ... F08): the layout's
    # codes c01 ... c48 are placed row-major on plate_format's 8 columns (c09 = B01)
    lines = [HEAD] + [f"{_row_major(n, 8)}\t\t1\t{s}\t{s + 60}\t{n}\t1"
                      for s in (0, 60) for n in range(1, 49)]
    (tmp_path / "named48.xls").write_text("\n".join(lines) + "\n")
    ex = read_export(tmp_path / "named48.xls")
    lay = _layout(tmp_path, [f"c{n:02d}" for n in range(1, 49)],
                  ["C" if n <= 12 else "T" for n in range(1, 49)])
    t = _total(analyse([ex], ZebrafishParameters(schedule=LIGHT, plate_format=48),
                       layouts=lay))
    assert t.loc["B01", "value"] == 2 * (9 + 1) and t.loc["B04", "group"] == "C"      # c12
    assert t.loc["B05", "group"] == "T" and t.loc["F08", "value"] == 2 * (48 + 1)    # c13
    with pytest.raises(InputError, match=re.escape(
            "well(s) 'E01', 'E02', 'E03', 'E04', 'E05', 'E06', 'E07', 'E08', 'F01', 'F02', "
            "'F03', 'F04', 'F05', 'F06', 'F07', 'F08' of plate 'named48' are in the export but "
            "not in the layout (list empty wells with group 'blank'); the layout's location "
            "codes are placed row-major on a 96-well plate: set the protocol's plate_format")):
        analyse([ex], ZebrafishParameters(schedule=LIGHT), layouts=lay)


def _grid(rows: int, cols: int) -> set[str]:
    return {_row_major(n, cols) for n in range(1, rows * cols + 1)}


@pytest.mark.parametrize(("numbers", "wells", "given", "expected"), [
    (range(1, 49), None, None, 96),          # 1 ... 48: half a 96-well plate just as well
    ((1, 2, 9, 10), None, None, 96),         # a partial plate, no layout: 96 as before
    ((1, 2, 9, 10), {"A01", "A02", "B01", "B02"}, None, 96),   # a partial layout neither
    ((1, 2, 9, 10), {"A01", "A02", "B01", "B02"}, 48, 48),     # the parameter says
    ((1, 2, 9, 10), _grid(6, 8), None, 48),  # the layout lists a whole 48-well plate
    (range(1, 41), _grid(8, 12), None, 96),
    (range(1, 13), _grid(4, 6), None, 24),   # 12 numbers, a whole 24-well layout
])
def test_plate_format(numbers, wells, given, expected):
    assert plate_format(np.array(numbers), wells, given)[0] == expected


def test_number_to_well_24_well_plate():
    assert list(number_to_well(np.array([1, 6, 7, 24]), 6)) == ["A01", "A06", "B01", "D06"]


def test_bins_wider_than_the_transition_window_leave_transitions_out(tmp_path):
    # Z2: 60-s bins, transition_window_s 6: no 6-s window can be made of them
    ex = _export(tmp_path, 2, animal=lambda n: _row_major(n, 12), starts=(0, 60, 120, 180))
    lay = {"*": pd.DataFrame({"well": ["A01", "A02"], "concentration": [0.0, 1.0],
                              "blank": False})}
    r = analyse([ex], ZebrafishParameters(schedule=LIGHT_DARK, sarl_statistics=True),
                layouts=lay)
    names = set(r.endpoints["endpoint"])
    assert not names & {"transition_response", "startle_response", "freeze_response"}
    assert ("warning: transition_response, startle_response, freeze_response not computed: "
            "the export's 60-s bins do not make the protocol's transition_window_s 6 s") \
        in " ".join(r.notes)
    assert "sarl_lpr_stats" not in r.details
    assert any(n.startswith("warning: sarl_lpr_stats not written") for n in r.notes)
    # a window of whole bins: the transition is the first dark minus the last light bin
    r = analyse([ex], ZebrafishParameters(schedule=LIGHT_DARK, transition_window_s=60),
                layouts=lay)
    e = r.endpoints[r.endpoints["subject"] == "plate-A02"].set_index("endpoint")
    assert e.loc["transition_response", "value"] == 0.0
    assert e.loc["startle_response", "value"] == 0.0


def test_trailing_period_after_the_schedule_is_left_out(tmp_path):
    ex = _export(tmp_path, 2, animal=lambda n: _row_major(n, 12), extra=(120,))
    lay = {"*": pd.DataFrame({"well": ["A01", "A02"], "concentration": [0.0, 1.0],
                              "blank": False})}
    r = analyse([ex], ZebrafishParameters(schedule=LIGHT), layouts=lay)
    assert _total(r).loc["A02", "value"] == 2 * (2 + 1)      # not 3 periods
    assert "plate.xls: 2 row(s) of a closing fragment at 120-120.2 s (under half a 60-s " \
        "bin), past the light schedule's end at 120 s, left out" in r.notes
    # whole bins after the schedule are part of the recording: kept
    ex = _export(tmp_path, 2, animal=lambda n: _row_major(n, 12), starts=(0, 60, 120))
    assert _total(analyse([ex], ZebrafishParameters(schedule=LIGHT), layouts=lay)).loc[
        "A02", "value"] == 3 * (2 + 1)
    # the fragment after whole bins past the schedule: both places are named
    ex = _export(tmp_path, 2, animal=lambda n: _row_major(n, 12), starts=(0, 60, 120, 180),
                 extra=(240,))
    r = analyse([ex], ZebrafishParameters(schedule=LIGHT), layouts=lay)
    assert _total(r).loc["A02", "value"] == 4 * (2 + 1)
    assert "plate.xls: 2 row(s) of a closing fragment at 240-240.2 s (under half a 60-s " \
        "bin), past the light schedule's end at 120 s, left out" in r.notes


def test_two_animals_in_one_well_are_warned_about(tmp_path):
    p = tmp_path / "d.xls"
    lines = [HEAD] + [f"c01\tA01\t{an}\t{s}\t{s + 60}\t{an}\t0" for an in (1, 2)
                      for s in (0, 60)]
    p.write_text("\n".join(lines) + "\n")
    ex = read_export(p)
    assert sorted(set(ex.data["animal"])) == ["A01-1", "A01-2"]
    assert any(n.startswith("warning: 1 well(s) hold more than one animal (column 'an'): "
                            "A01;") for n in ex.notes)


def test_larva_beyond_plate_format_names_the_export_row_and_column(tmp_path):
    ex = _export(tmp_path, 48)                    # c48 first on line 49 (header on line 1)
    with pytest.raises(InputError, match=re.escape(
            "plate.xls, line 49, column 'location': the export numbers a larva 48, beyond "
            "plate_format 24: set plate_format to the plate the export is from")):
        analyse([ex], ZebrafishParameters(schedule=LIGHT, plate_format=24))


def test_numbered_larvae_notes_agree_on_the_plate(tmp_path):
    ex = _export(tmp_path, 24)                    # no animal names: c01 ... c24
    assert "wells from ZebraLab locations, row-major (c01 = A01), on a 96-well plate unless " \
        "a note below places them on another" in ex.notes
    lay = _layout(tmp_path, [_row_major(n, 6) for n in range(1, 25)], ["C"] * 24)
    r = analyse([ex], ZebrafishParameters(schedule=LIGHT), layouts=lay)
    assert any("larvae numbered by the export placed on a 24-well plate (4 x 6" in n
               for n in r.notes)
    assert not any("12-column" in n for n in [*ex.notes, *r.notes])
