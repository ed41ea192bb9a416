"""Readers: tiny synthetic files modelled on each export layout, known values."""

from __future__ import annotations

import re

import numpy as np
import openpyxl
import pandas as pd
import pytest

from neurotox.errors import FormatError
from neurotox.io.zebrafish import detect_format, read_export, read_plate_map

TRACK_HEADER = ["location", "animal", "an", "start", "end", "inact", "inadur", "inadist",
                "smlct", "smldur", "smldist", "larct", "lardur", "lardist", "emptyct",
                "emptydur"]


def _tracking_rows():
    rows = []
    for k, well in enumerate(["A01", "A02"]):
        for b in range(3):
            rows.append([f"c{k + 1:02d}", well, 1, 60 * b, 60 * (b + 1), 1, 50.0, 0.5,
                         2, 6.0, 1.5 + b, 1, 4.0, 10.0 * (k + 1), 0, 0.0])
    return rows


def test_zebralab_tracking_tab_text_named_xls(tmp_path):
    p = tmp_path / "plate1.xls"
    lines = ["\t".join(TRACK_HEADER)] + ["\t".join(map(str, r)) for r in _tracking_rows()]
    p.write_text("\r\n".join(lines), encoding="utf-8")
    ex = read_export(p)
    assert ex.format == "zebralab-tracking" and ex.kind == "bins"
    a02 = ex.data[ex.data["well"] == "A02"]
    # distance = smldist + lardist; inactive distance not counted
    np.testing.assert_allclose(a02["distance"], [21.5, 22.5, 23.5])
    np.testing.assert_allclose(a02["start_s"], [0, 60, 120])
    assert list(a02["bin"]) == [0, 1, 2]
    assert {"smldur", "lardur", "inadur", "emptydur"} <= set(ex.data.columns)
    assert any("delimiter tab" in n for n in ex.notes)


def test_zebralab_tracking_french_semicolon_decimal_comma(tmp_path):
    header = ["location", "animal", "user", "vtename", "period", "unit", "an", "datatype",
              "start", "end", "startreason", "endreason", "inact", "inadur", "inadist",
              "smlct", "smldur", "smldist", "larct", "lardur", "lardist", "emptyct",
              "emptydur"]
    lines = [";".join(header)]
    for an in (0, 1):
        for b in range(2):
            lines.append(";".join(["c1-001", "A01", "u", "proto.vte", "60", "mm", str(an),
                                   "trackerr", f"{60 * b},0", f"{60 * (b + 1)},0",
                                   "Fin de la tranche de temps", "Fin de la tranche de temps",
                                   "1", "10,5", "0,2", "3", "4,0", "2,25", "1", "1,0", "5,5",
                                   "0", "0,0"]))
    p = tmp_path / "plaque.txt"
    p.write_text("\n".join(lines), encoding="cp1252")
    ex = read_export(p)
    assert ex.format == "zebralab-tracking"
    assert len(ex.data) == 2  # an=0 location totals dropped
    np.testing.assert_allclose(ex.data["distance"], [7.75, 7.75])
    assert any("an=0" in n for n in ex.notes)


def test_zebralab_tracking_xlsx_and_quantization(tmp_path):
    p = tmp_path / "quant.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["location", "animal", "an", "start", "end", "frect", "fredur", "midct",
               "middur", "burct", "burdur"])
    ws.append(["c01", "z001", 1, 0, 60, 3, 40.0, 5, 15.0, 2, 5.0])
    ws.append(["c13", "z013", 1, 0, 60, 1, 50.0, 2, 8.0, 1, 2.0])
    wb.save(p)
    ex = read_export(p)
    assert ex.format == "zebralab-tracking"
    assert list(ex.data["well"]) == ["A01", "B01"]  # c13 = B01 on a 12-column plate
    assert ex.data["distance"].isna().all()
    np.testing.assert_allclose(ex.data["middur"], [15.0, 8.0])


def test_zebralab_long_vd_layout(tmp_path):
    p = tmp_path / "LPR_raw_data.xls"
    lines = ["vd_samplecode\tvd_start\tvd_timebinid\tvd_aname\tvd_inadist\tvd_smldist\t"
             "vd_lardist\tvp_locationcode"]
    for start in (0, 6, 12):
        lines.append(f"000018103\t{start}\t1\tH02-1\t1.0\t2.5\t{start / 6}\tZEBRABOX1")
    p.write_text("\r\n".join(lines), encoding="utf-8")
    ex = read_export(p)
    assert ex.format == "zebralab-long"
    assert set(ex.data["plate"]) == {"18103"} and set(ex.data["well"]) == {"H02"}
    np.testing.assert_allclose(ex.data["distance"], [2.5, 3.5, 4.5])
    np.testing.assert_allclose(ex.data["end_s"], [6, 12, 18])


def test_motiontab_frames(tmp_path):
    p = tmp_path / "MotionTab.xls"
    lines = ["Plate ID\tChemical ID\tDATE\tframes_num\tA01\tA02"]
    lines += [f"000018103\tC1\t20190502\t{f}\t{0.01 * f}\t0" for f in (1, 2, 3)]
    p.write_text("\n".join(lines), encoding="utf-8")
    ex = read_export(p)
    assert ex.kind == "frames"
    a01 = ex.data[ex.data["well"] == "A01"]
    np.testing.assert_allclose(a01["activity"], [0.01, 0.02, 0.03])


def test_bmdrc_long_and_tanguay_wide(tmp_path):
    p = tmp_path / "lpr_long.csv"
    p.write_text("chemical.id,conc,plate.id,well,variable,value\n"
                 "2,0,20544,H01,t0,1.5\n2,0,20544,H01,t1,\n2,0,20544,H01,t2,3\n")
    ex = read_export(p)
    assert ex.format == "bmdrc-long"
    np.testing.assert_allclose(ex.data["distance"], [1.5, np.nan, 3.0])
    assert ex.wells["concentration"].tolist() == [0.0]
    q = tmp_path / "gui.csv"
    q.write_text('"chemical.id","conc","plate","well","t0","t1"\n'
                 '"3530",1,18103,"A1",2,NA\n')
    ex = read_export(q)
    assert ex.format == "tanguay-wide"
    assert ex.data["well"].tolist() == ["A01", "A01"]
    np.testing.assert_allclose(ex.data["start_s"], [0, 6])


@pytest.mark.parametrize(("cells", "message"), [
    ("2,2.16,20544,H01,t1,2", "larva 20544-H01 has more than one concentration in column "
                              "'conc' ('0.0' on 2 row(s), '2.16' on 1 row(s))"),
    ("3,0,20544,H01,t1,2", "larva 20544-H01 has more than one chemical in column "
                           "'chemical_id' ('2' on 2 row(s), '3' on 1 row(s))"),
])
def test_bmdrc_long_larva_with_two_concentrations_is_refused(tmp_path, cells, message):
    # stranger55: one bin row of a control larva at 2.16 put it in a 2.16-uM group silently
    p = tmp_path / "lpr_long.csv"
    p.write_text("chemical.id,conc,plate.id,well,variable,value\n"
                 f"2,0,20544,H01,t0,1.5\n{cells}\n2,0,20544,H01,t2,3\n"
                 "2,0,20544,H02,t0,1\n2,0,20544,H02,t1,1\n2,0,20544,H02,t2,1\n")
    with pytest.raises(FormatError, match=re.escape(f"lpr_long.csv: {message}; each row of a "
                                                    "larva gives the same")):
        read_export(p)


@pytest.mark.parametrize(("header", "found", "give"), [
    ("conc_nM", "'conc_nM'", " and give --param concentration_unit=nM"),
    ("Concentration (uM)", "'Concentration (uM)'", " and give --param concentration_unit=uM"),
    ("concentration", "'concentration'", ""),
])
def test_bmdrc_concentration_with_a_unit_is_refused_naming_it(tmp_path, header, found, give):
    """stranger52 L6: 'conc_nM' gave 'unknown zebrafish export layout' without a word of it."""
    p = tmp_path / "nm.csv"
    p.write_text(f"chemical.id,{header},plate.id,well,variable,value\n2,0,20544,H01,t0,1.5\n")
    with pytest.raises(FormatError, match=re.escape(
            f"nm.csv: expected a column 'conc' (numbers in the run's concentration_unit, uM "
            f"unless set), found {found}: rename it 'conc'{give}")):
        read_export(p)


def test_epa_xlsx_banner_removals_and_cm_to_mm(tmp_path):
    p = tmp_path / "epa.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "ALL DEV DATA"
    ws.append([None, None, "Data shown is distance moved (cm) in 2 minute intervals"])
    ws.append(["Removed due to developmental issues", "Removed due to tracking issues/errors",
               "Plate #", "Link plates tested together", "Well", "Chemical",
               "Concentration (μM)", "20-22", "22-24"])
    ws.append([None, None, "OP-1", "A", "A01", "Chem", 10, 0.5, 1.25])
    ws.append(["X", None, "OP-1", "A", "A02", "Chem", 0, None, None])
    wb.save(p)
    ex = read_export(p)
    assert ex.format == "epa-lightdark"
    a01 = ex.data[ex.data["well"] == "A01"]
    np.testing.assert_allclose(a01["distance"], [5.0, 12.5])
    np.testing.assert_allclose(a01["start_s"], [1200, 1320])
    reasons = dict(zip(ex.wells["well"], ex.wells["exclusion_reason"], strict=True))
    assert reasons == {"A01": "", "A02": "Removed due to developmental issues"}


@pytest.mark.parametrize("cell, match", [
    ("n/d", "row 5, column '22-24': expected a number, found 'n/d'"),
    (-0.5, "row 5, column '22-24': expected a finite number >= 0, found -0.5"),
])
def test_epa_bad_distance_cell_is_named(tmp_path, cell, match):
    # text in a distance cell used to become a missing bin silently; the banner row
    # above the header and a row without a well before the bad one keep the row number
    p = tmp_path / "epa.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append([None, None, "Data shown is distance moved (cm) in 2 minute intervals"])
    ws.append(["Removed due to developmental issues", "Removed due to tracking issues/errors",
               "Plate #", "Well", "Concentration (μM)", "20-22", "22-24"])
    ws.append([None, None, "OP-1", "A01", 10, 0.5, 1.25])
    ws.append([None, None, "OP-1", None, None, None, None])
    ws.append([None, None, "OP-1", "A02", 0, 0.5, cell])
    wb.save(p)
    with pytest.raises(FormatError, match=match):
        read_export(p)


def _ethovision_lines(sep: str, values: list[tuple[str, str, str]]) -> list[str]:
    q = '"{}"'.format
    head = [[q("Number of header lines:"), q("6")], [q("Arena name"), q("C07")],
            [q("Trial name"), q("Trial 1")], [q("Video file"), q("x.mpg")],
            [q(c) for c in ("Trial time", "X center", "Y center")],
            [q(c) for c in ("s", "mm", "mm")]]
    rows = [[q(a), q(b), q(c)] for a, b, c in values]
    return [sep.join(r) for r in head + rows]


def test_ethovision_utf16_semicolon_decimal_comma_missing(tmp_path):
    p = tmp_path / "Raw data-Exp-Trial 1-Arena 7-Subject 1.txt"
    vals = [("0,00", "0,0", "0,0"), ("1,00", "3,0", "4,0"), ("2,00", "-", "-"),
            ("3,00", "6,0", "8,0")]
    p.write_text("\r\n".join(_ethovision_lines(";", vals)), encoding="utf-16")
    ex = read_export(p)
    assert ex.format == "ethovision-raw" and ex.kind == "track"
    assert set(ex.data["well"]) == {"C07"}
    np.testing.assert_allclose(ex.data["x"], [0, 3, np.nan, 6])
    assert any("utf-16" in n for n in ex.notes)


def test_ethovision_xlsx_one_sheet_per_track(tmp_path):
    p = tmp_path / "raw.xlsx"
    wb = openpyxl.Workbook()
    for k, well in enumerate(["A01", "A02"]):
        ws = wb.active if k == 0 else wb.create_sheet()
        ws.title = f"Track-Arena {k + 1}-Subject 1"
        ws.append(["Number of header lines:", 5])
        ws.append(["Arena name", well])
        ws.append(["Trial name", "Trial 1"])
        ws.append(["Trial time", "X center", "Y center"])
        ws.append(["s", "cm", "cm"])
        ws.append([0.0, 0.0, 0.0])
        ws.append([1.0, 0.3, 0.4])
    wb.save(p)
    ex = read_export(p)
    assert ex.format == "ethovision-raw"
    assert sorted(set(ex.data["well"])) == ["A01", "A02"]
    np.testing.assert_allclose(ex.data["x"].to_numpy()[:2], [0.0, 3.0])  # cm -> mm


def test_ethovision_xlsx_trial_control_sheet_is_not_a_track(tmp_path):
    # EthoVision adds a 'Trial Control-Arena N' event sheet with the same header block
    p = tmp_path / "raw.xlsx"
    wb = openpyxl.Workbook()
    for k, (title, names, first) in enumerate([
            ("Track-Arena 1-Subject 1", ["Trial time", "X center", "Y center"], [1.0, 0.3, 0.4]),
            ("Trial Control-Arena 1", ["Trial time", "Recording time", "Event", "Rule"],
             [0.0, 0.0, "becomes active", "Start-stop trial"])]):
        ws = wb.active if k == 0 else wb.create_sheet()
        ws.title = title
        for row in (["Number of header lines:", 5], ["Arena name", "A01"],
                    ["Trial name", "Trial 1"], names, ["s", "cm", "cm", ""][:len(names)],
                    first):
            ws.append(row)
    wb.save(p)
    ex = read_export(p)
    assert list(ex.data["x"]) == [3.0] and set(ex.data["well"]) == {"A01"}
    assert "sheet 'Trial Control-Arena 1' skipped (Trial Control events, not a track)" in ex.notes


def test_plain_trajectory_csv(tmp_path):
    p = tmp_path / "traj.csv"
    p.write_text("Trial.time,X.center,Y.center\n0,1,1\n0.5,-,-\n1,4,5\n")
    ex = read_export(p)
    assert ex.format == "trajectory"
    np.testing.assert_allclose(ex.data["x"], [1, np.nan, 4])


def test_unknown_layout_names_expected_and_found(tmp_path):
    p = tmp_path / "mystery.csv"
    p.write_text("subject,score\nS1,3\n")
    with pytest.raises(FormatError, match=r"unknown zebrafish export layout\. Expected one "
                       r"of: .*zebralab-tracking .*Found: text, first row: 'score', 'subject'"):
        detect_format(p)
    p.write_text("")
    with pytest.raises(FormatError, match=r"mystery.csv: the file is empty \(0 bytes\); "
                       r"expected a zebrafish tracking export$"):
        detect_format(p)


def test_given_format_that_does_not_match(tmp_path):
    p = tmp_path / "traj.csv"
    p.write_text("time,x,y\n0,0,0\n")
    with pytest.raises(FormatError, match=r"not in the zebralab-long layout .*found: text, "
                       r"first row: 'time', 'x', 'y'"):
        read_export(p, format="zebralab-long")


def test_bad_number_is_named(tmp_path):
    p = tmp_path / "t.xls"
    rows = _tracking_rows()
    rows[1][10] = "lots"
    p.write_text("\n".join(["\t".join(TRACK_HEADER)] + ["\t".join(map(str, r))
                                                          for r in rows]))
    with pytest.raises(FormatError, match=r"line 3, column 'smldist': expected a number, "
                       r"found 'lots'"):
        read_export(p)


def test_plate_map_calls(tmp_path):
    p = tmp_path / "single_tab.xls"
    p.write_text("plate_id\tchemical_id\trow_id\tcol_id\tvalue\tunits\tDNC_\tMO24\tMORT\tYSE_\n"
                 "000018103\t3530\tA\t1\t1\tuM\t0\t1\t\t\n"
                 "000018103\t3530\tA\t2\t1\tuM\t0\t0\t0\t1\n"
                 "000018103\t\tH\t1\t\t\t0\t0\t0\t0\n")
    pm = read_plate_map(p)
    assert pm["well"].tolist() == ["A01", "A02", "H01"]
    assert pm["dead"].tolist() == [True, False, False]
    assert pm["malformed"].tolist() == [False, True, False]
    assert pm["concentration"].tolist() == [1.0, 1.0, 0.0]  # media-only well = control
    assert pm["calls"].tolist() == ["MO24", "YSE", ""]


def test_reader_output_is_tidy(tmp_path):
    p = tmp_path / "plate1.xls"
    lines = ["\t".join(TRACK_HEADER)] + ["\t".join(map(str, r)) for r in _tracking_rows()]
    p.write_text("\n".join(lines))
    data = read_export(p).data
    assert list(data.columns[:7]) == ["plate", "well", "animal", "bin", "start_s", "end_s",
                                      "distance"]
    assert not data.duplicated(["plate", "animal", "bin"]).any()
    assert isinstance(data, pd.DataFrame)


def test_ethovision_arena_number_maps_to_well(tmp_path):
    lines = _ethovision_lines(",", [("0.0", "0.0", "0.0"), ("1.0", "3.0", "4.0")])
    lines[1] = '"Arena name","Arena 13"'
    p = tmp_path / "raw.txt"
    p.write_text("\n".join(lines), encoding="utf-8")
    ex = read_export(p)
    assert set(ex.data["well"]) == {"B01"}


@pytest.mark.parametrize(("name", "well", "note"), [
    ("larva_B07.csv", "B07", "no well column: one larva, well B07 taken from the file name "
     "('B07' in 'larva_B07.csv'; read as a well name, not a ZebraLab location code); add a "
     "well column if that is not its well"),
    # stranger52: 'c01' is well C01 here (ZebraLab's location c01 would be A01): said
    ("larva_c01.csv", "C01", "no well column: one larva, well C01 taken from the file name "
     "('c01' in 'larva_c01.csv'"),
    ("cadmium.csv", "A01", "no well column: one larva, assigned to well A01 (no well name "
     "such as 'B07' in the file name)"),
])
def test_single_larva_trajectory_well_from_file_name(tmp_path, name, well, note):
    p = tmp_path / name
    p.write_text("time,x,y\n0,0,0\n1,3,4\n")
    ex = read_export(p)
    assert set(ex.data["well"]) == {well}
    assert [n for n in ex.notes if n.startswith(note)]
    assert ex.data["x"].tolist() == [0.0, 3.0]


def _stimulus_export() -> str:
    """ZebraLab stimulus-row layout: per larva a light flash, a Null interval, a vibration,
    a Null interval (Chronolog rows), then two regular 10-s periods."""
    lines = ["location,aname,start,end,startreason,endreason,stimuli_name,stimuli_start,"
             "smldist,lardist"]
    for i, well in enumerate(["A01", "A02"]):
        for a, b, name, on in ((0, 1, "Top light", 100), (1, 10, "Null", 0),
                               (10, 11, "Vibration", 100), (11, 20, "Null", 0)):
            lines.append(f"LocA{i + 1:02d},{well}_x,{a},{b},Chronolog start,TOP_LIGHT,{name},"
                         f"{on},{i + 0.5},{1.5 if on else 3}")
        lines += [f"LocA{i + 1:02d},{well}_x,{10 * k},{10 * k + 10},Beginning of period,"
                  f"End of period,,,{k + 1},{i + 2}" for k in range(2)]
    return "\n".join(lines) + "\n"


def test_stimulus_rows_keep_their_file_lines_and_the_file_is_read_once(tmp_path, monkeypatch):
    p = tmp_path / "stim.csv"
    p.write_text(_stimulus_export())
    calls = []
    read_bytes = type(p).read_bytes
    monkeypatch.setattr(type(p), "read_bytes", lambda self: calls.append(self) or
                        read_bytes(self))
    ex = read_export(p)
    assert calls == [p]      # the table and the row labels of the events: one read
    assert ex.format == "zebralab-stimulus"
    ev = ex.events
    assert list(ev["row"]) == ["line 2", "line 4", "line 8", "line 10"]
    assert list(ev["stimulus"]) == ["Top light", "Vibration"] * 2
    np.testing.assert_allclose(ev["distance"], [2.0, 2.0, 3.0, 3.0])
    np.testing.assert_allclose(ex.data["distance"], [3.0, 4.0, 4.0, 5.0])


def test_sheet_cells_as_text():
    from neurotox.io.zebrafish.base import cell_rows

    assert cell_rows([(None, float("nan"), " Start ", 3, 2.5), ()]) == [
        ["", "", "Start", "3", "2.5"], []]
