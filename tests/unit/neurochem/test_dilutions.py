"""One dilution and standard-level rule for every neurochem reader (synthetic fixtures)."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from neurotox.errors import FormatError
from neurotox.io.neurochem import read_export
from neurotox.io.neurochem.base import name_dilution, resolve_dilutions
from neurotox.io.neurochem.plate_table import apply_plate_map, read_plate_map

DATA = Path(__file__).resolve().parents[2] / "data" / "neurochem"
XP = (DATA / "xponent_small.csv").read_text()
# lines of xponent_small.csv: the 'Dilution Factor' block starts on line 141; well E2 (R01,
# dilution 2) is on line 155; 'Standard3' of the expected concentrations is on line 125.
XP_DIL_HEAD = "DataType:,Dilution Factor"
XP_E2 = '"13(1,E2)",R01,2'


def _xp(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "x.csv"
    p.write_text(text)
    return p


def _table(tmp_path: Path, rows: list[str]) -> Path:
    p = tmp_path / "t.csv"
    p.write_text("well,type,sample,expected,dilution,od\n" + "\n".join(rows) + "\n")
    return p


STANDARDS = ["A1,standard,STD1,1000,,2.4", "B1,standard,STD2,250,,1.1",
             "C1,standard,STD3,62.5,,0.4", "D1,blank,,,,0.05"]


# ------------------------------------------------------------------ xPONENT

def test_xponent_fixture_dilutions_are_the_exported_factors():
    w = read_export(DATA / "xponent_small.csv").wells
    smp = w[(w["type"] == "sample") & (w["analyte"] == "IL6")].set_index("well")
    assert smp["dilution"].to_dict() == {"E02": 2.0, "F02": 2.0, "G02": 2.0, "H02": 2.0,
                                         "A03": 1.0}
    assert set(w.loc[w["type"] == "standard", "dilution"]) == {1.0}


@pytest.mark.parametrize("cut_at", [XP_E2, "DataType:,Analysis Types", "-- CRC --"])
def test_xponent_cut_before_its_trailer_is_truncated(tmp_path, cut_at):
    p = _xp(tmp_path, XP[: XP.index(cut_at)])
    with pytest.raises(FormatError, match=r"x\.csv: truncated xPONENT export: expected the "
                       r"'-- CRC --' trailer"):
        read_export(p)


@pytest.mark.parametrize("cell, found", [("", "an empty cell"), ("NaN", "'NaN'")])
def test_xponent_sample_without_dilution_cell_names_line_and_well(tmp_path, cell, found):
    p = _xp(tmp_path, XP.replace(XP_E2, f'"13(1,E2)",R01,{cell}', 1))
    with pytest.raises(FormatError) as err:
        read_export(p)
    assert str(err.value) == (f"{p}, line 155: block 'Dilution Factor': expected a dilution "
                              f"factor for sample well E02, found {found}")


def test_xponent_without_dilution_block_is_one_to_one_with_a_warning(tmp_path):
    start = XP.index(XP_DIL_HEAD)
    end = XP.index("DataType:", start + 1)
    e = read_export(_xp(tmp_path, XP[:start] + XP[end:]))
    smp = e.wells[e.wells["type"] == "sample"]
    assert set(smp["dilution"]) == {1.0}              # the fixture's truth is 2 (R01, R02)
    warn = [n for n in e.notes if n.startswith("warning: ")]
    # the fixture's IL6 Standard4 (15625 for 15.625) is repaired: a warning of its own
    assert warn == ["warning: DEVIATION x.csv: raw values changed: 1 expected "
                    "concentration(s) of standards whose decimal point or thousands separator "
                    "was lost, repaired from the constant-fold dilution series: IL6 Standard4 "
                    "15625 → 15.625",
                    "warning: x.csv: no dilution factor given for any sample; every sample "
                    "taken as undiluted (1:1) unless the sample sheet gives a dilution; the "
                    "export has no 'DataType:,Dilution Factor' block"]
    assert "dilution_warning" not in e.meta


@pytest.mark.parametrize("value", ["0", "-2"])
def test_xponent_dilution_not_positive_is_a_plain_number_on_its_own_line(tmp_path, value):
    p = _xp(tmp_path, XP.replace(XP_E2, f'"13(1,E2)",R01,{value}', 1))
    with pytest.raises(FormatError) as err:
        read_export(p)
    msg = str(err.value)
    assert msg == (f"{p}, line 155 (block 'Dilution Factor', well E02), column 'dilution': "
                   f"expected a dilution factor > 0, found {value}")
    assert msg.count("x.csv") == 1 and "np.float64" not in msg


def test_xponent_standard_listed_twice_with_two_concentrations(tmp_path):
    p = _xp(tmp_path, XP.replace("Standard5,3.90625,7.8125,,",
                                 "Standard5,3.90625,7.8125,,\nStandard3,70,125,,", 1))
    with pytest.raises(FormatError, match=re.escape(
            "block 'Standard Expected Concentration': 'Standard3' is listed twice with "
            "different values (lines 125 and 128)")):
        read_export(p)


def test_xponent_blank_expected_concentration_names_line_and_analyte(tmp_path):
    p = _xp(tmp_path, XP.replace("Standard5,3.90625,7.8125,,", "Standard5,,7.8125,,", 1))
    with pytest.raises(FormatError) as err:
        read_export(p)
    assert str(err.value) == (f"{p}, line 127: block 'Standard Expected Concentration': "
                              "standard 'Standard5' of analyte 'IL6' has no expected "
                              "concentration")


def test_xponent_standard_listed_twice_identically_is_read(tmp_path):
    p = _xp(tmp_path, XP.replace("Standard5,3.90625,7.8125,,",
                                 "Standard5,3.90625,7.8125,,\nStandard3,62.5,125,,", 1))
    w = read_export(p).wells
    assert set(w.loc[(w["level"] == "Standard3") & (w["analyte"] == "IL6"), "expected"]) \
        == {62.5}


# ------------------------------------------------------------------ plate table (ELISA)

def test_plate_table_blank_dilution_among_filled_is_an_error(tmp_path):
    p = _table(tmp_path, [*STANDARDS, "E1,sample,R01,,10,0.8", "F1,sample,R02,,,0.7"])
    with pytest.raises(FormatError) as err:
        read_export(p, analyte="gfap")
    assert str(err.value) == (f"{p}, row 7, column 'dilution': sample 'R02' (well F01) has no "
                              "dilution factor while 1 other sample well(s) have one; fill it "
                              "(1 for an undiluted sample)")


def test_plate_table_fraction_is_read_as_one_to_n_like_gen5(tmp_path):
    p = _table(tmp_path, [*STANDARDS, "E1,sample,R01,,0.1,0.8", "F1,sample,R02,,10,0.7",
                          "G1,sample,R03,,0.25,0.6"])
    e = read_export(p, analyte="gfap")
    w = e.wells.set_index("well")
    assert w.loc[["E01", "F01", "G01"], "dilution"].tolist() == [10.0, 10.0, 4.0]
    assert "t.csv: dilution values below 1 read as the fraction of sample in the well " \
           "(0.25 = 1:4), wells E01, G01" in e.notes


def test_plate_table_without_dilutions_is_one_to_one_and_noted(tmp_path):
    p = _table(tmp_path, [*STANDARDS, "E1,sample,R01,,,0.8"])
    e = read_export(p, analyte="gfap")
    assert e.wells["dilution"].tolist() == [1.0] * 5
    assert any(n.startswith("t.csv: no dilution factor given for any sample") for n in e.notes)
    assert not any(n.startswith("warning: ") for n in e.notes)


@pytest.mark.parametrize("sample, expected", [
    ("SG1M01_ctx 1:10", ("SG1M01_ctx", 10.0)), ("S1_1/10", ("S1", 10.0)),
    ("S1 (x10)", ("S1", 10.0)), ("S1 10x", ("S1", 10.0)), ("S1(1:2.5)", ("S1", 2.5)),
    ("S1x10", None), ("S1_10", None), ("Std 1", None), ("B_sid_13_CSP", None)])
def test_a_dilution_at_the_end_of_a_sample_id(sample, expected):
    assert name_dilution(sample) == expected


def test_names_with_and_without_a_dilution_are_a_warning(tmp_path):
    p = _table(tmp_path, [*STANDARDS, "E1,sample,R01 1:10,,,0.8", "F1,sample,R02,,,0.7"])
    e = read_export(p, analyte="gfap")
    w = e.wells.set_index("well")
    assert w.loc[["E01", "F01"], "dilution"].tolist() == [10.0, 1.0]
    assert ("warning: t.csv: no dilution column or value; the dilution written in 1 sample "
            "ID(s) is read: 'R01 1:10' 1:10 (a sample-sheet dilution overrides); 1 other "
            "sample(s) carry none and are taken as undiluted (1:1): 'R02'") in e.notes


def test_plate_table_dilution_zero_message(tmp_path):
    p = _table(tmp_path, [*STANDARDS, "E1,sample,R01,,0,0.8"])
    with pytest.raises(FormatError) as err:
        read_export(p, analyte="gfap")
    assert str(err.value) == (f"{p}, row 6, column 'dilution': expected a dilution factor > 0, "
                              "found 0")


def test_plate_table_one_level_two_concentrations(tmp_path):
    p = _table(tmp_path, [*STANDARDS, "E1,standard,STD3,90,,0.45", "F1,sample,R01,,,0.8"])
    with pytest.raises(FormatError) as err:
        read_export(p, analyte="gfap")
    assert str(err.value) == (f"{p}: standard level 'STD3' of analyte 'gfap' has two expected "
                              "concentrations: 62.5 (row 4) and 90 (row 6)")


# ------------------------------------------------------------------ Gen5 and Ellman layouts

def _gen5(tmp_path: Path, old: str, new: str) -> Path:
    text = (DATA / "gen5_small.txt").read_text()
    assert old in text
    p = tmp_path / "g.txt"
    p.write_text(text.replace(old, new, 1))
    return p


def test_gen5_blank_sample_dilution_among_filled_is_an_error(tmp_path):
    p = _gen5(tmp_path, "\t1\t1\t0.5\t0.5\t100", "\t\t1\t0.5\t0.5\t100")
    with pytest.raises(FormatError, match=re.escape(
            "g.txt, plate 'Plate 1', Layout, well B01, 'Conc/Dil', column 'dilution': sample "
            "'SPL2' (well B01) has no dilution factor while 7 other sample well(s) have one")):
        read_export(p, analyte="gfap")


def test_gen5_dilution_zero_names_the_layout_cell(tmp_path):
    p = _gen5(tmp_path, "\t1\t1\t0.5\t0.5\t100", "\t0\t1\t0.5\t0.5\t100")
    with pytest.raises(FormatError, match=re.escape(
            "plate 'Plate 1', Layout, well B01, 'Conc/Dil', column 'dilution': expected a "
            "dilution factor > 0, found 0")):
        read_export(p, analyte="gfap")


def test_shared_rule_on_a_kinetic_layout():
    layout = pd.DataFrame({"plate": "P1", "well": ["A01", "A02", "A03", "A04"],
                           "type": ["blank", "sample", "sample", "sample"],
                           "sample": ["", "S1", "S2", "S3"],
                           "dilution": [np.nan, 50, 0.02, 1], "source": "k.txt"})
    d, notes = resolve_dilutions(layout, Path("k.txt"))
    assert d.tolist() == [1.0, 50.0, 50.0, 1.0]
    assert notes == ["k.txt: dilution values below 1 read as the fraction of sample in the "
                     "well (0.25 = 1:4), wells A03"]
    with pytest.raises(FormatError, match=re.escape(
            "k.txt, well A04, column 'dilution': sample 'S3' (well A04) has no dilution")):
        resolve_dilutions(layout.assign(dilution=[np.nan, 50, 2, np.nan]), Path("k.txt"))


# ------------------------------------------------------------------ plate maps (Ellman, grids)

def test_plate_map_blank_dilution_among_filled_names_the_map_row(tmp_path):
    p = tmp_path / "map.csv"
    p.write_text("well,type,sample,dilution\nA1,blank,,\nC1,sample,S1,20\nD1,sample,S2,\n")
    with pytest.raises(FormatError) as err:
        read_plate_map(p)
    assert str(err.value) == (f"{p}, row 4, column 'dilution': sample 'S2' (well D01) has no "
                              "dilution factor while 1 other sample well(s) have one; fill it "
                              "(1 for an undiluted sample)")


def test_plate_map_dilution_zero_names_the_map_row(tmp_path):
    p = tmp_path / "map.csv"
    p.write_text("well,type,sample,dilution\nC1,sample,S1,20\nD1,sample,S2,0\n")
    with pytest.raises(FormatError, match=re.escape(
            "map.csv, row 3, column 'dilution': expected a dilution factor > 0, found 0")):
        read_plate_map(p)


def test_empty_map_dilutions_keep_the_exports(tmp_path):
    e = read_export(DATA / "gen5_small.txt", analyte="gfap")
    p = tmp_path / "map.csv"
    p.write_text("well,type,sample,dilution\nB03,sample,SPL2,\nB04,sample,SPL2,\n")
    w = apply_plate_map(e, read_plate_map(p)).wells.set_index("well")
    assert w.loc[["B03", "B04"], "dilution"].tolist() == [2.0, 2.0]     # Gen5 0.5 = 1:2
