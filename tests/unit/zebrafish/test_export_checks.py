"""Exports that do not cover what the analysis assumes (stranger33 Z1-Z3, D1).

A tiny ZebraLab tracking export written by the tests: 2 larvae x 60-s periods,
distance per period = smldist + lardist with known values.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from neurotox.assays.zebrafish import ZebrafishParameters, analyse
from neurotox.errors import FormatError, InputError
from neurotox.io.zebrafish import read_export

HEAD = "location\tanimal\tstart\tend\tsmldist\tlardist\tsmldur\tunit"
SCHEDULE = [{"name": "light1", "light": True, "duration_s": 120},
            {"name": "dark1", "light": False, "duration_s": 120}]
LAYOUT = pd.DataFrame({"well": ["A01", "A02"], "concentration": [0.0, 1.0], "blank": False})


def _export(tmp_path, bins=(0, 1, 2, 3), unit="mm", name="plate.xls"):
    """Larva A01 moves 1+2k mm (sml) + 1 mm (lar) in period k; A02 twice that."""
    lines = [HEAD]
    for k, well in enumerate(["A01", "A02"]):
        for b in bins:
            sml = (1 + 2 * b) * (k + 1)
            lines.append(f"c{k + 1:02d}\t{well}\t{60 * b}\t{60 * b + 60}\t{sml}\t{k + 1}\t"
                         f"10\t{unit}")
    p = tmp_path / name
    p.write_text("\n".join(lines) + "\n")
    return p


def _values(result, endpoint, timepoint):
    e = result.endpoints
    rows = e[(e["endpoint"] == endpoint) & (e["timepoint"] == timepoint)]
    return rows.set_index("subject")[["value", "exclusion_reason"]]


def test_complete_export_values(tmp_path):
    r = analyse([read_export(_export(tmp_path))], ZebrafishParameters(schedule=SCHEDULE),
                layouts={"plate": LAYOUT})
    light = _values(r, "distance_phase", "light1")
    assert light.loc["plate-A01", "value"] == (1 + 1) + (3 + 1)
    assert _values(r, "distance_phase", "dark1").loc["plate-A02", "value"] == 2 * (5 + 7) + 4


def test_export_shorter_than_the_schedule_is_refused(tmp_path):
    ex = read_export(_export(tmp_path, bins=(0, 1, 2)))   # ends at 180 s of 240
    with pytest.raises(InputError, match=r"plate\.xls: the export ends at 180 s, before the "
                       r"end of the protocol's light schedule at 240 s; phase\(s\) dark1 would "
                       "be partial or missing"):
        analyse([ex], ZebrafishParameters(schedule=SCHEDULE), layouts={"plate": LAYOUT})


def test_schedule_end_and_phases_are_the_windows_the_endpoints_use(tmp_path):
    # schedule_start_s 60: light1 60-120 s, dark1 120-240 s; the coverage check and the
    # phase endpoints read the same windows (ZebrafishParameters.phase_windows)
    params = ZebrafishParameters(schedule=[{**SCHEDULE[0], "duration_s": 60}, SCHEDULE[1]],
                                 schedule_start_s=60)
    assert [(w.name, w.light, w.start, w.end) for w in params.phase_windows()] == [
        ("light1", True, 60.0, 120.0), ("dark1", False, 120.0, 240.0)]
    with pytest.raises(InputError, match=r"ends at 180 s, before the end of the protocol's "
                       r"light schedule at 240 s; phase\(s\) dark1 would be partial"):
        analyse([read_export(_export(tmp_path, bins=(0, 1, 2)))], params,
                layouts={"plate": LAYOUT})
    r = analyse([read_export(_export(tmp_path))], params, layouts={"plate": LAYOUT})
    assert _values(r, "distance_phase", "light1").loc["plate-A01", "value"] == 3 + 1
    assert _values(r, "distance_phase", "dark1").loc["plate-A01", "value"] == (5 + 1) + (7 + 1)


def test_export_far_longer_than_the_schedule_is_warned_about(tmp_path):
    # a time column in frames or ms read as seconds (stranger33 T2): 40 periods of 60 s
    # against a 240-s schedule, 10 times over
    r = analyse([read_export(_export(tmp_path, bins=range(41)))],
                ZebrafishParameters(schedule=SCHEDULE), layouts={"plate": LAYOUT})
    assert ("warning: plate.xls: the export runs to 2460 s, 10 times the protocol's light "
            "schedule (240 s); only the schedule's part is analysed. A time column in frames "
            "or ms read as seconds looks like this: check the export's time unit") in r.notes
    assert _values(r, "distance_phase", "light1").loc["plate-A01", "value"] == 6
    r = analyse([read_export(_export(tmp_path, bins=range(12)))],     # 3 times: another
                ZebrafishParameters(schedule=SCHEDULE, transition_window_s=60),  # schedule
                layouts={"plate": LAYOUT})
    warned = [n for n in r.notes if n.startswith("warning:")]
    assert len(warned) == 1 and warned[0].startswith(
        "warning: plate.xls: the export runs to 720 s, 480 s past the end of the protocol's "
        "light schedule (240 s: light1 120 s, dark1 120 s)")


def test_bin_missing_for_every_larva_is_a_missing_value(tmp_path):
    ex = read_export(_export(tmp_path, bins=(0, 2, 3)))   # 60-120 s missing for all
    assert sorted(ex.data["bin"].unique()) == [0, 2, 3]   # the hole keeps its index
    r = analyse([ex], ZebrafishParameters(schedule=SCHEDULE), layouts={"plate": LAYOUT})
    # 1 of 4 bins missing > max_missing_fraction 0.2: as for a hole in one larva's data
    assert set(r.details["larvae"]["exclusion_reason"]) == {
        "tracking error (25% of samples missing)"}
    r = analyse([ex], ZebrafishParameters(schedule=SCHEDULE, max_missing_fraction=0.5),
                layouts={"plate": LAYOUT})
    light = _values(r, "distance_phase", "light1")
    assert light["exclusion_reason"].eq("missing value in the export").all()
    assert light["value"].isna().all()
    dark = _values(r, "distance_phase", "dark1")
    assert dark.loc["plate-A01", "value"] == (5 + 1) + (7 + 1)
    assert dark.loc["plate-A01", "exclusion_reason"] == ""
    assert any("1 bin(s) missing for every larva (a hole in the export's time grid): "
               "60-120 s" in n for n in r.notes)
    bins = r.details["bins"]
    assert bins.loc[bins["bin"] == 1, "start_s"].eq(60.0).all()


@pytest.mark.parametrize("line, column, found", [
    ("c01\tA01\t60\t60\t3\t1\t10\tmm", "end", "expected end > start (60 s), found 60"),
    # stranger53 Z5: a 'nan' end time was read as missing and the bin kept
    ("c01\tA01\t60\tnan\t3\t1\t10\tmm", "end", "expected the period's end time in s, "
     "found no number (an empty cell, '-', 'NA' or 'nan')"),
    ("c01\tA01\t\t120\t3\t1\t10\tmm", "start", "expected the period's start time in s, "
     "found no number"),
    ("c01\tA01\t60\t120\t3\t1\t61.5\tmm", "smldur",
     "expected a duration <= the period's 60 s (end - start), found 61.5"),
    ("c01\tA01\t60\t120\t3\t1\t10\tpixel", "unit",
     "expected a distance unit mm, cm, m, um, \u00b5m, found 'pixel'"),
])
def test_impossible_periods_and_units_are_refused(tmp_path, line, column, found):
    p = _export(tmp_path)
    lines = p.read_text().splitlines()
    lines[2] = line                                  # file line 3
    p.write_text("\n".join(lines) + "\n")
    with pytest.raises(FormatError, match=re.escape(f"line 3, column '{column}': {found}")):
        read_export(p)


def test_duration_within_frame_rounding_is_accepted(tmp_path):
    p = _export(tmp_path)
    p.write_text(p.read_text().replace("\t60\t120\t3\t1\t10\t", "\t60\t120\t3\t1\t60.5\t", 1))
    assert read_export(p).data["smldur"].max() == 60.5


def test_distances_in_cm_are_converted_to_mm(tmp_path):
    mm = read_export(_export(tmp_path, name="mm.xls"))
    cm = read_export(_export(tmp_path, unit="cm", name="cm.xls"))
    assert list(cm.data["distance"]) == [10 * v for v in mm.data["distance"]]
    assert cm.data["distance"].iloc[0] == 20.0          # (1 + 1) cm
    assert "distances in cm (column 'unit'): converted to mm (x10)" in cm.notes
    assert "distances in mm (column 'unit'): kept" in mm.notes
    blank = read_export(_export(tmp_path, unit="", name="blank.xls"))
    assert list(blank.data["distance"]) == list(mm.data["distance"])
    assert any("column 'unit' is empty: distances taken as mm" in n for n in blank.notes)


# ------------------------------------------------------------ workbooks (stranger33 D2, D3)

def _workbook(tmp_path, sheets: dict[str, list[list]], name="plate.xlsx"):
    import openpyxl

    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for title, rows in sheets.items():
        ws = wb.create_sheet(title)
        for r in rows:
            ws.append(r)
    p = tmp_path / name
    wb.save(p)
    return p


def _rows(tmp_path):
    """Header + data rows of the text export, numbers as numbers."""
    lines = _export(tmp_path, name="rows.xls").read_text().splitlines()
    rows = [lines[0].split("\t")]
    for line in lines[1:]:
        rows.append([c if c[:1].isalpha() else float(c) for c in line.split("\t")])
    return rows


def test_export_split_over_sheets_is_read_as_one(tmp_path):
    rows = _rows(tmp_path)
    whole = read_export(_workbook(tmp_path, {"Data": rows}, "whole.xlsx"))
    split = read_export(_workbook(tmp_path, {"Notes": [["exported by ZebraLab"]],
                                             "Data": rows[:4], "Data (2)": [rows[0], *rows[4:]]},
                                  "split.xlsx"))
    cols = ["well", "bin", "start_s", "distance"]
    assert split.data[cols].equals(whole.data[cols])
    assert split.data["distance"].sum() == (2 + 4 + 6 + 8) + (4 + 8 + 12 + 16)
    assert "split.xlsx: sheet(s) 'Notes' not read: their first row is not the export's " \
           "header" in split.notes
    assert "split.xlsx: read sheets 'Data' (3 rows), 'Data (2)' (5 rows) as one table (the " \
           "same header)" in split.notes


def test_sheets_repeating_rows_or_with_another_header_are_refused(tmp_path):
    rows = _rows(tmp_path)
    twice = _workbook(tmp_path, {"Data": rows, "Copy": rows}, "twice.xlsx")
    with pytest.raises(FormatError, match="twice.xlsx, sheet 'Copy': location 'c01' period 0 s "
                       "is in sheet 'Data' row 2 and again in sheet 'Copy' row 2"):
        read_export(twice)
    other = _workbook(tmp_path, {"Data": rows, "More": [[*rows[0], "inadist"]]}, "other.xlsx")
    with pytest.raises(FormatError, match="sheets 'Data' and 'More' both hold this export with "
                       "different headers"):
        read_export(other)
    bad = [r[:] for r in rows]
    bad[6][4] = -1.0                                   # second sheet, its row 3
    neg = _workbook(tmp_path, {"Data": bad[:4], "Data (2)": [bad[0], *bad[4:]]}, "neg.xlsx")
    with pytest.raises(FormatError, match=re.escape(
            "sheet 'Data (2)' row 4, column 'smldist': expected a finite number >= 0")):
        read_export(neg)


def test_one_plate_per_sheet_names_both_sheets(tmp_path):
    # stranger40: two plates on two sheets, no samplecode; the message named no sheet
    rows = _rows(tmp_path)
    p = _workbook(tmp_path, {"Plate 1": rows, "Plate 2": rows}, "plates.xlsx")
    with pytest.raises(FormatError, match=re.escape(
            "plates.xlsx, sheet 'Plate 2': location 'c01' period 0 s is in sheet 'Plate 1' "
            "row 2 and again in sheet 'Plate 2' row 2: the sheets repeat the same locations "
            "and times, as a workbook with one plate per sheet (or a copied sheet) does. Sheets "
            "are read as one "
            "export continued; give each plate as its own file (or a samplecode column naming "
            "the plate in every row)")):
        read_export(p)


def test_unknown_workbook_names_every_sheet_tried(tmp_path):
    p = _workbook(tmp_path, {"Notes": [["comment"]], "Data": [["a", "b"], [1, 2]]}, "x.xlsx")
    with pytest.raises(FormatError, match="an xlsx workbook, sheet 'Notes' first row: "
                       "'comment'; sheet 'Data' first row: 'a', 'b'"):
        read_export(p)


# ------------------------------------------------------------ messages (stranger33 Z4, Z5)

def test_layout_naming_another_plate_is_refused(tmp_path):
    from neurotox.io.zebrafish import read_plate_layouts

    lay = tmp_path / "layout.csv"
    lay.write_text("plate,well,concentration\nP2,A01,0\nP2,A02,1\n")
    ex = read_export(_export(tmp_path))
    with pytest.raises(InputError, match=re.escape(
            "layout.csv: no plate layout for plate(s) 'plate'; the layout's plate column "
            "names 'P2'")):
        analyse([ex], ZebrafishParameters(schedule=SCHEDULE), layouts=read_plate_layouts(lay))
    lay.write_text("plate,well,concentration\nplate,A01,0\nplate,A02,1\n")
    r = analyse([ex], ZebrafishParameters(schedule=SCHEDULE), layouts=read_plate_layouts(lay))
    assert _values(r, "distance_phase", "light1").loc["plate-A02", "value"] == 4 + 2 * 4


def test_endpoint_bin_not_a_multiple_names_the_file(tmp_path):
    ex = read_export(_export(tmp_path))
    with pytest.raises(InputError, match=r"^plate\.xls: endpoint_bin_s 45 s is not a multiple "
                       "of the export's 60-s bins"):
        analyse([ex], ZebrafishParameters(schedule=SCHEDULE, endpoint_bin_s=45),
                layouts={"plate": LAYOUT})


def test_plate_map_larva_missing_from_the_export_is_recorded(tmp_path):
    ex = read_export(_export(tmp_path))
    pm = pd.DataFrame({"plate": "plate", "well": ["A01", "A02", "A03"],
                       "concentration": [0.0, 1.0, 1.0], "calls": "", "dead": False,
                       "malformed": False, "discard": False})
    r = analyse([ex], ZebrafishParameters(schedule=SCHEDULE, viability_min=0), plate_map=pm)
    larvae = r.details["larvae"].set_index("subject")
    assert larvae.loc["plate-A03", "exclusion_reason"] == ("no data in the export (the plate "
                                                           "map lists it)")
    assert larvae.loc["plate-A02", "exclusion_reason"] == ""
    light = _values(r, "distance_phase", "light1")
    assert light.loc["plate-A02", "value"] == 12.0 and np.isnan(light.loc["plate-A03", "value"])
    assert "warning: 1 larva(e) of the plate map have no data in the export: plate-A03; " \
           "excluded (no data in the export (the plate map lists it))" in r.notes



def test_exported_well_missing_from_the_plate_map_is_a_warning(tmp_path):
    """stranger52 M1: the larva was dropped with an INFO 'blank/unassigned' line only."""
    pm = pd.DataFrame({"plate": "plate", "well": ["A01"], "concentration": [0.0], "calls": "",
                       "dead": False, "malformed": False, "discard": False})
    r = analyse([read_export(_export(tmp_path))],
                ZebrafishParameters(schedule=SCHEDULE, viability_min=0), plate_map=pm)
    assert r.details["larvae"]["subject"].tolist() == ["plate-A01"]
    assert ("warning: 1 exported well(s) are not in the plate map: plate-A02; not analysed "
            "(no concentration)") in "\n".join(r.notes)

def test_time_grid_hole_in_any_format_is_a_missing_value():
    # a reader numbering its bins in order (EPA, Tanguay tables): 0, 1, 2 for 0, 120, 180 s
    from pathlib import Path

    from neurotox.io.zebrafish import Export

    rows = [pd.DataFrame({"plate": "P", "well": w, "animal": w, "bin": [0, 1, 2],
                          "start_s": [0.0, 120.0, 180.0], "end_s": [60.0, 180.0, 240.0],
                          "distance": [1.0, 3.0, 4.0]}) for w in ("A01", "A02")]
    ex = Export("t", "bins", pd.concat(rows, ignore_index=True), Path("t.csv"))
    r = analyse([ex], ZebrafishParameters(schedule=SCHEDULE, max_missing_fraction=0.5),
                layouts={"P": LAYOUT})
    assert _values(r, "distance_phase", "dark1").loc["P-A01", "value"] == 7.0
    light = _values(r, "distance_phase", "light1")
    assert light.loc["P-A01", "exclusion_reason"] == "missing value in the export"
    assert any("60-120 s" in n and "missing for every larva" in n for n in r.notes)
