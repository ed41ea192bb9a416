"""Plate-assay readers on small fixtures modelled on the vendors' layouts."""

from __future__ import annotations

import csv
import io
import math
import re
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest

from neurotox.errors import FormatError, InputError
from neurotox.io.neurochem import parse_value, read_export
from neurotox.io.neurochem.base import check_series
from neurotox.io.neurochem.kinetic import is_kinetic_table, rates, read_kinetic
from neurotox.io.neurochem.plate_table import read_plate_map
from neurotox.io.neurochem.samples import is_sample_sheet, read_sample_sheet

DATA = Path(__file__).resolve().parents[2] / "data" / "neurochem"


@pytest.mark.parametrize("cell, value, censoring, flag", [
    ("12.5", 12.5, "none", ""), (3, 3.0, "none", ""), ("1,303.5", 1303.5, "none", ""),
    ("< 0.10528564453125", 0.10528564453125, "left", "< 0.10528564453125"),
    ("<22.500", 22.5, "left", "<22.500"), ("> 3450", 3450.0, "right", "> 3450"),
    ("OOR <", math.nan, "left", "OOR <"), ("OOR >", math.nan, "right", "OOR >"),
    ("*1.55", 1.55, "none", "*"), ("---", math.nan, "none", "---"),
    ("***", math.nan, "none", "***"), ("?????", math.nan, "none", "?????"),
    ("NaN", math.nan, "none", ""), ("", math.nan, "none", ""), ("N/A", math.nan, "none", "N/A"),
])
def test_vendor_cells(cell, value, censoring, flag):
    p = parse_value(cell)
    assert (p.value == pytest.approx(value)) if math.isfinite(value) else math.isnan(p.value)
    assert (p.censoring, p.flag) == (censoring, flag)


@pytest.mark.parametrize("cell", ["abc", "1.2.3", "<<5", "5 pg"])
def test_vendor_cells_that_are_not_values(cell):
    with pytest.raises(ValueError, match="expected a number or a vendor marker"):
        parse_value(cell)


# ------------------------------------------------------------------ series repair

def test_decimal_damage_in_a_two_fold_series_is_repaired_and_noted():
    levels = [f"Standard{i}" for i in range(1, 8)]
    values = [3450, 1725, 862.5, 431.25, 215625, 107.8125, 53.90625]
    fixed, notes = check_series(levels, values, what="FGF", path=Path("x.csv"))
    assert fixed == pytest.approx([3450 / 2 ** i for i in range(7)])
    assert notes == ["FGF Standard5 215625 → 215.625"]


def test_thousands_separator_read_as_decimal_is_repaired():
    fixed, notes = check_series(["S1", "S2", "S3", "S4"], [4000, 1000, 250, 0.0625],
                                what="IL6", path=Path("x.csv"))
    assert fixed[3] == pytest.approx(62.5)
    assert len(notes) == 1


def test_a_non_monotone_series_that_cannot_be_repaired_is_an_error():
    with pytest.raises(FormatError, match="not monotone and cannot be repaired"):
        check_series(["S1", "S2", "S3", "S4", "S5"], [1000, 500, 700, 125, 62.5],
                     what="IL6", path=Path("x.csv"))


def test_a_monotone_series_without_constant_fold_is_left_alone():
    fixed, notes = check_series(["S1", "S2", "S3"], [40, 35, 30], what="x", path=Path("x"))
    assert fixed == [40, 35, 30] and notes == []


# ------------------------------------------------------------------ xPONENT

def test_xponent_fixture():
    e = read_export(DATA / "xponent_small.csv")
    assert e.format == "xponent"
    assert e.analytes == ["IL6", "IP10"]
    w = e.wells
    assert len(w) == 18 * 2
    il6 = w[w["analyte"] == "IL6"].set_index("well")
    assert il6.loc["H01", "expected"] == pytest.approx(15.625)       # repaired 15625
    assert il6.loc["A01", "type"] == "blank"
    assert il6.loc["D02", ["type", "level", "dilution"]].tolist() == ["control", "Control1", 2]
    assert il6.loc["G02", ["vendor_censoring", "vendor_value"]].tolist() == ["left", 3.90625]
    assert il6.loc["A03", "vendor_flag"] == "Extrapolated"
    assert il6.loc["A03", "raw"] == pytest.approx(il6.loc["A03", "signal"] + 10)
    assert e.units == {"IL6": "pg/mL", "IP10": "pg/mL"}
    assert e.curves["IP10"].params == {"A": 2, "B": 15000, "C": 800, "D": -1.2, "F": 0.8}
    assert e.curves["IL6"].r2 == pytest.approx(0.999)
    ctl = e.controls.set_index("analyte")
    assert ctl.loc["IP10", ["expected", "low", "high"]].tolist() == [160, 128, 192]
    assert any("IL6 Standard4 15625 → 15.625" in n for n in e.notes)
    assert any("not multiplied by the dilution factor" in n for n in e.notes)


def _edit(tmp_path: Path, old: str, new: str, name: str = "x.csv") -> Path:
    text = (DATA / "xponent_small.csv").read_text()
    assert old in text
    p = tmp_path / name
    p.write_text(text.replace(old, new, 1))
    return p


@pytest.mark.parametrize("old, new, match", [
    ('"3(1,C1)"', '"3(1,Z1)"', re.escape("expected a location like '1(1,A1)'")),
    ("Standard3,62.5,125", "Standard3,625,125", "not monotone and cannot be repaired"),
    ('"2(1,B1)",Standard1,1000,1999.99999993', '"2(1,B1)",Standard1,1000,abc',
     "expected a number or a vendor marker, found 'abc'"),
    ("DataType:,Net MFI", "DataType:,Median", "block 'DataType:,Median' appears twice"),
    ("Standard5,3.90625,7.8125,,", "Standard9,3.90625,7.8125,,",
     re.escape("block 'Standard Expected Concentration': standard 'Standard5' of analyte "
               "'IL6' (also 'IP10') has no expected concentration (the block has no "
               "'Standard5' line)")),
])
def test_xponent_damage_is_one_clear_error(tmp_path, old, new, match):
    with pytest.raises(FormatError, match=match) as err:
        read_export(_edit(tmp_path, old, new))
    assert "x.csv" in str(err.value)


def test_xponent_semicolon_export_with_decimal_commas(tmp_path):
    rows = csv.reader(io.StringIO((DATA / "xponent_small.csv").read_text()))
    buf = io.StringIO()
    out = csv.writer(buf, delimiter=";", lineterminator="\n")
    for r in rows:
        out.writerow([c.replace(".", ",") if re.fullmatch(r"-?\d+\.\d+", c) else c for c in r])
    p = tmp_path / "eu.csv"
    p.write_text(buf.getvalue(), encoding="utf-8")
    e = read_export(p)
    ref = read_export(DATA / "xponent_small.csv")
    assert np.allclose(e.wells["signal"], ref.wells["signal"], equal_nan=True)
    assert any("decimal commas" in n for n in e.notes)


# ------------------------------------------------------------------ Bio-Plex

def _bioplex(tmp_path: Path, *, equation: str | None = None, header_ok: bool = True) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Project Template"
    ws.append(["Row #", "Field", "VALUE"])
    ws = wb.create_sheet("Hu IL-6 (19)")
    for line in ("File Name: Z:\\data\\plate 7.rbx", "Analyte: Hu IL-6 (19)",
                 "Acquisition Date: 11-Jan-2007", "Plate ID: ", ""):
        ws.append([line])
    head = ["Analyte", "Type", "Well", "Outlier", "Description", "FI", "FI - Bkgd", "Std Dev",
            "%CV", "Obs Conc", "Exp Conc", "(Obs/Exp) * 100", "Conc in Range", "Dilution"]
    ws.append(head if header_ok else head[:5])
    rows = [("B", "H3,H4", 0, None, 28.5, 28.5, None, None, 1),
            ("S1", "A1,A2", 1, None, "---", "---", None, 22154, 1),
            ("S2", "B1,B2", 0, None, 12052, 12023.5, 5816.28, 5538.5, 1),
            ("S3", "C1,C2", 0, None, 7703.3, 7674.8, 1315.28, 1384.63, 1),
            ("S4", "D1,D2", 0, None, 3454.3, 3425.8, 362.24, 346.16, 1),
            ("S5", "E1,E2", 0, None, 983.3, 954.8, 85.58, 86.54, 1),
            ("X1", "A3,A4", 0, "11027-01", 31.8, 3.3, "*1.55", None, 4),
            ("X2", "B3,B4", 0, "11027-02", 58.3, 29.8, 11.85, None, 4),
            ("X3", "C3,C4", 0, "11027-03", 20.1, -8.4, "OOR <", None, 4),
            ("X4", "D3,D4", 0, "11027-04", "***", "***", "***", None, 4)]
    for t, well, out, desc, fi, net, obs, exp, dil in rows:
        ws.append(["Hu IL-6 (19)", t, well, out, desc, fi, net, None, None, obs, exp, None,
                   "***" if t == "X1" else obs, dil])
    ws.append([])
    ws.append(["Regression Type: Logistic - 5PL"])
    ws.append([equation or "Std. Curve: FI = -0.269369 + (14533.9 + 0.269369) / ((1 + "
               "(Conc / 1030.4)^-0.963123))^1.09621"])
    ws.append(["FitProb. = 0.3444, ResVar. = 1.0660"])
    p = tmp_path / "bioplex.xlsx"
    wb.save(p)
    return p


def test_bioplex_fixture(tmp_path):
    e = read_export(_bioplex(tmp_path))
    assert e.format == "bioplex"
    w = e.wells.set_index("well")
    assert e.analytes == ["Hu IL-6 (19)"]
    assert w.loc["A01,A02", ["type", "vendor_excluded"]].tolist() == ["standard", True]
    assert w.loc["A03,A04", ["vendor_value", "vendor_flag", "dilution", "replicates"]].tolist() \
        == [1.55, "* not in range (***)", 4, 2]
    assert w.loc["C03,C04", ["vendor_censoring", "vendor_flag"]].tolist() == ["left", "OOR <"]
    assert math.isnan(w.loc["D03,D04", "signal"]) and w.loc["D03,D04", "vendor_flag"] == "***"
    assert w.loc["A03,A04", "plate"] == "plate 7"
    curve = e.curves["Hu IL-6 (19)"]
    assert curve.model == "5pl"
    assert curve.params == {"A": -0.269369, "B": 14533.9, "C": 1030.4, "D": -0.963123,
                            "E": 1.09621}
    assert "FitProb 0.3444" in curve.text
    assert any("'Project Template'" in n for n in e.notes)


def test_bioplex_4pl_equation_with_minus(tmp_path):
    eq = "Std. Curve: FI = 39.5352 + (27558.9 - 39.5352) / (1 + (Conc / 794.865)^-1.12724)"
    e = read_export(_bioplex(tmp_path, equation=eq))
    c = e.curves["Hu IL-6 (19)"]
    assert (c.model, c.params) == ("4pl", {"A": 39.5352, "B": 27558.9, "C": 794.865,
                                           "D": -1.12724})


def test_bioplex_inconsistent_equation_is_an_error(tmp_path):
    eq = "Std. Curve: FI = 39.5352 + (27558.9 - 12.0) / (1 + (Conc / 794.865)^-1.12724)"
    with pytest.raises(FormatError, match="curve equation is inconsistent"):
        read_export(_bioplex(tmp_path, equation=eq))


def test_bioplex_missing_columns(tmp_path):
    with pytest.raises(FormatError, match=r"expected column\(s\) 'FI', 'FI - Bkgd', 'Obs Conc'"):
        read_export(_bioplex(tmp_path, header_ok=False))


def _edit_bioplex(tmp_path: Path, edit) -> Path:
    p = _bioplex(tmp_path)
    wb = openpyxl.load_workbook(p)
    edit(wb["Hu IL-6 (19)"])
    wb.save(p)
    return p


def _cut_after_x2(ws) -> None:
    ws.delete_rows(15, ws.max_row - 14)                 # X3, X4 and the footer gone


@pytest.mark.parametrize("edit, match", [
    (_cut_after_x2, r"sheet 'Hu IL-6 \(19\)': the table ends at the last row \(14\) with no "
                    r"footer .* the sheet looks cut"),
    (lambda ws: ws.merge_cells("A8:A11"),
     r"sheet 'Hu IL-6 \(19\)', row 9, column 'Analyte': expected an Analyte in every row"),
    (lambda ws: setattr(ws.cell(13, 5), "value", None),
     r"column 'Description': expected a Description on every sample \(X\) row, found none "
     r"on row\(s\) 13$"),
    (lambda ws: ws.merge_cells("E13:E14"),
     r"found none on row\(s\) 14$"),
    (lambda ws: ws.cell(13, 5, "11027-02"),
     r"sample '11027-02' \(dilution 4\) is on two rows with different Types: row 13 \(X1\) "
     r"and row 14 \(X2\)"),
])
def test_bioplex_rows_that_would_vanish_are_errors(tmp_path, edit, match):
    with pytest.raises(FormatError, match=match):
        read_export(_edit_bioplex(tmp_path, edit))


def test_bioplex_same_description_at_two_dilutions_and_no_descriptions_are_read(tmp_path):
    def series(ws):                                      # one sample, a dilution series
        ws.cell(14, 5, "11027-01")
        ws.cell(14, 14, 8)
    e = read_export(_edit_bioplex(tmp_path, series))
    x = e.wells[e.wells["type"] == "sample"].set_index("well")
    assert x.loc[["A03,A04", "B03,B04"], ["sample", "dilution"]].values.tolist() == \
        [["11027-01", 4], ["11027-01", 8]]

    def none(ws):                                        # no Descriptions: Type codes are IDs
        for r in range(13, 17):
            ws.cell(r, 5).value = None
    e = read_export(_edit_bioplex(tmp_path, none))
    assert sorted(e.wells.loc[e.wells["type"] == "sample", "sample"]) == ["X1", "X2", "X3",
                                                                           "X4"]


# ------------------------------------------------------------------ Gen5 and plain tables

def test_gen5_fixture():
    e = read_export(DATA / "gen5_small.txt", analyte="gfap")
    w = e.wells.set_index("well")
    assert e.format == "gen5"
    assert w.loc["A01", ["type", "level", "expected"]].tolist() == ["standard", "STD1", 1000]
    assert w.loc["A01", "signal"] == pytest.approx(2.512 - 0.051)    # blank-corrected read
    assert w.loc["A01", "raw"] == pytest.approx(2.512)
    assert w.loc["B03", ["sample", "dilution"]].tolist() == ["SPL2", 2.0]   # 0.5 → 1:2
    assert w.loc["A11", ["vendor_censoring", "vendor_value"]].tolist() == ["left", 3.906]
    assert w.loc["B07", ["vendor_censoring", "vendor_value"]].tolist() == ["right", 1000]
    assert w.loc["B05", ["type", "expected"]].tolist() == ["control", 100]
    assert "B11" not in w.index                                   # empty layout well
    c = e.curves["gfap"]
    assert (c.model, c.form, c.params["C"]) == ("4pl", "gen5", 420)
    assert any("curve signal = 'Blank 450'" in n for n in e.notes)


def test_gen5_other_signal_label_and_unknown_label():
    e = read_export(DATA / "gen5_small.txt", signal="450")
    assert e.wells.set_index("well").loc["A01", "signal"] == pytest.approx(2.512)
    with pytest.raises(FormatError, match="no data labelled 'OD'"):
        read_export(DATA / "gen5_small.txt", signal="OD")


def test_gen5_prefers_a_wavelength_corrected_read_without_blank_correction(tmp_path):
    text = (DATA / "gen5_small.txt").read_text().replace("\tBlank 450\n", "\tDelta OD\n")
    p = tmp_path / "d.txt"
    p.write_text(text)
    e = read_export(p)
    assert any("curve signal = 'Delta OD'" in n for n in e.notes)


_POINT = re.compile(r"^([+-]?\d+)\.(\d+)$")


def _commas(text: str, sep: str) -> str:
    """Every decimal point of a delimited text as a decimal comma (quoted when sep is ',')."""
    def cell(c: str) -> str:
        m = _POINT.match(c)
        return c if not m else (f'"{m[1]},{m[2]}"' if sep == "," else f"{m[1]},{m[2]}")
    return "\n".join(sep.join(cell(c) for c in line.split(sep))
                     for line in text.splitlines()) + "\n"


def _same_wells(a, b):
    cols = ["well", "type", "level", "expected", "dilution", "signal", "raw"]
    pd.testing.assert_frame_equal(a.wells[cols], b.wells[cols])


def test_gen5_with_decimal_commas_reads_as_with_points(tmp_path):
    # a European-locale Gen5 export ('666,67') was refused (stranger47 #7)
    p = tmp_path / "comma.txt"
    p.write_text(_commas((DATA / "gen5_small.txt").read_text(), "\t"))
    e = read_export(p, analyte="gfap")
    _same_wells(e, read_export(DATA / "gen5_small.txt", analyte="gfap"))
    assert "comma.txt: decimal commas (European locale) read as decimal points" in e.notes
    lines = p.read_text().splitlines()
    k = next(i for i, ln in enumerate(lines) if "2,512" in ln)
    lines[k] = lines[k].replace("2,512", "2.512")
    p.write_text("\n".join(lines) + "\n")
    with pytest.raises(FormatError, match=r"mixed decimal separators: '.+' has a decimal comma "
                       r"\(a European locale\) but '2\.512' \(line \d+\) a decimal point; "
                       "export the file again with one separator"):
        read_export(p, analyte="gfap")



def test_plate_export_decimal_commas_with_thousands_dots_read_as_the_number(tmp_path):
    # one rule with the delimited tables: '1.000,0' is 1000 (the plate readers' own
    # copy of the check did not know the thousands dot and refused the cell)
    text = _commas((DATA / "gen5_small.txt").read_text(), "\t")
    p = tmp_path / "comma.txt"
    p.write_text(text.replace("\t1000\t1000\t", "\t1.000,0\t1.000,0\t", 1))
    e = read_export(p, analyte="gfap")
    _same_wells(e, read_export(DATA / "gen5_small.txt", analyte="gfap"))
    assert e.wells.loc[e.wells["well"] == "A01", "expected"].tolist() == [1000.0]


def test_xponent_semicolon_export_mixing_separators_is_refused(tmp_path):
    # the ';' export had an older check of its own that read '862,5' and '862.5' side by
    # side; now refused naming both cells, as the ',' and tab exports are
    rows = csv.reader(io.StringIO((DATA / "xponent_small.csv").read_text()))
    buf = io.StringIO()
    out = csv.writer(buf, delimiter=";", lineterminator="\n")
    points = 0
    for r in rows:
        cells = []
        for c in r:
            if re.fullmatch(r"-?\d+\.\d+", c):
                points += 1
                c = c if points == 20 else c.replace(".", ",")
            cells.append(c)
        out.writerow(cells)
    p = tmp_path / "eu.csv"
    p.write_text(buf.getvalue(), encoding="utf-8")
    with pytest.raises(FormatError, match=r"eu.csv, line \d+: mixed decimal separators: "
                       r"'-?\d+,\d+' has a decimal comma \(a European locale\) but "
                       r"'-?\d+\.\d+' \(line \d+\) a decimal point"):
        read_export(p)

@pytest.mark.parametrize("sep, encoding", [(",", "utf-8"), ("\t", "utf-16")])
def test_xponent_with_quoted_decimal_commas_or_utf16_tabs_reads_as_the_plain(tmp_path, sep,
                                                                             encoding):
    # '"862,5"' in a comma export and Excel's UTF-16 'Unicode text' were refused (#7, #12)
    rows = list(csv.reader(io.StringIO((DATA / "xponent_small.csv").read_text())))
    text = "\n".join("\t".join(r) if sep == "\t" else ",".join(
        f'"{c}"' if "," in c else c for c in r) for r in rows) + "\n"
    p = tmp_path / "x.csv"
    p.write_text(_commas(text, sep) if sep == "," else text, encoding=encoding)
    _same_wells(read_export(p), read_export(DATA / "xponent_small.csv"))


def test_gen5_real_shape_damage(tmp_path):
    text = (DATA / "gen5_small.txt").read_text().replace("\t0.64\t0.652\t450", "\t0.64\t450")
    p = tmp_path / "g.txt"
    p.write_text(text)
    with pytest.raises(FormatError, match="expected 12 wells and a label"):
        read_export(p)


def test_plain_table_fixture():
    e = read_export(DATA / "plate_table_small.csv", analyte="gfap")
    w = e.wells.set_index("well")
    assert e.format == "plate-table"
    assert w.loc["F01", ["sample", "dilution", "signal", "analyte"]].tolist() == \
        ["R01-CTX", 10, 0.80, "gfap"]
    assert (e.wells["type"] == "standard").sum() == 8


@pytest.mark.parametrize("text, match", [
    ("well,od\nA1,0.5\nZ9,0.2\n", "expected a well like 'A1' or 'A01', found 'Z9'"),
    ("well,od,type\nA1,0.5,calib\n", "expected a well type among"),
    ("well,od,type,expected\nA1,0.5,standard,\n", "standard well A01 has no expected conc"),
    ("well,od\nA1,0.5\nA1,0.6\n", "each well once per analyte"),
    ("well,od,Absorbance\nA1,0.5,1\n", "all mean 'signal'"),
    ("well,od,dilution\nA1,0.5,0\n", "expected a dilution factor > 0"),
])
def test_plain_table_errors(tmp_path, text, match):
    p = tmp_path / "t.csv"
    p.write_text(text)
    with pytest.raises(InputError, match=match):
        read_export(p)


@pytest.mark.parametrize("header, unit_cells, unit", [
    ("well,type,expected,od,unit", ",ng/mL", "ng/mL"),
    ("well,type,expected (ng/mL),od", "", "ng/mL"),
    ("well,type,Expected Conc [µg/L],od", "", "µg/L"),
    ("well,type,expected_ng_ml,od", "", "ng/ml"),
    ("well,type,expected,od", "", None),
])
def test_plain_table_concentration_unit_from_a_column_or_the_header(tmp_path, header,
                                                                    unit_cells, unit):
    """A plate table that states its unit is read in that unit, not taken as pg/mL."""
    p = tmp_path / "t.csv"
    p.write_text(f"{header}\nA1,standard,8,2.5{unit_cells}\nA2,sample,,1.2{unit_cells}\n",
                 encoding="utf-8")
    e = read_export(p, analyte="gfap")
    assert e.units == ({} if unit is None else {"gfap": unit})
    assert e.wells["expected"].iloc[0] == 8.0


@pytest.mark.parametrize("signal", ["OD450", "450 nm", "Abs 450", "A450", "OD 450-570"])
def test_plain_table_signal_named_by_its_wavelength(tmp_path, signal):
    p = tmp_path / "t.csv"
    p.write_text(f"well,type,expected,{signal}\nA1,standard,8,2.5\nA2,sample,,1.25\n")
    e = read_export(p)
    assert e.format == "plate-table" and e.wells["signal"].tolist() == [2.5, 1.25]


def test_plain_table_below_a_block_of_reader_metadata(tmp_path):
    """Lines a reader writes above the table are skipped and noted; rows keep their line."""
    p = tmp_path / "t.csv"
    p.write_text("Plate reader,Synergy H1\nRead date,2026-03-02\n\nSample,Assay,Well,"
                 "Concentration,Signal\nS001,GFAP,A01,8000,2.5\nR1,GFAP,A02,,1.2\n"
                 "R2,GFAP,A03,,x\n")
    with pytest.raises(FormatError, match=r"t.csv, row 7, column .Signal."):
        read_export(p)
    p.write_text(p.read_text().replace(",x\n", ",0.9\n"))
    e = read_export(p)
    assert e.wells[["well", "type", "analyte", "expected"]].iloc[0].tolist() == \
        ["A01", "standard", "GFAP", 8000.0]
    assert "t.csv: 3 line(s) above the table's header skipped: 'Plate reader Synergy H1', " \
        "'Read date 2026-03-02'" in e.notes


@pytest.mark.parametrize("text, match", [
    ("well,type,expected,od,unit\nA1,standard,8,2.5,ng/mL\nA2,sample,,1.2,pg/mL\n",
     r"analyte 'gfap' is given in two concentration units: 'ng/mL' \(row 2\) and "
     r"'pg/mL' \(row 3\)"),
    # rows named as the file's rows below reader metadata and past an empty row
    ("Plate reader,Synergy H1\n\nwell,type,expected,od,unit\nA1,standard,8,2.5,ng/mL\n"
     ",,,,\nA2,sample,,1.2,pg/mL\n",
     r"analyte 'gfap' is given in two concentration units: 'ng/mL' \(row 4\) and "
     r"'pg/mL' \(row 6\)"),
    ("well,type,expected (ng/mL),od,result (pg/mL)\nA1,standard,8,2.5,8000\n",
     r"columns 'expected \(ng/mL\)', 'result \(pg/mL\)' state different concentration"),
])
def test_plain_table_two_units_for_one_analyte_are_an_error(tmp_path, text, match):
    p = tmp_path / "t.csv"
    p.write_text(text, encoding="utf-8")
    with pytest.raises(FormatError, match=match):
        read_export(p, analyte="gfap")


def test_plain_table_unit_column_naming_the_signal_is_noted_not_used(tmp_path):
    p = tmp_path / "t.csv"
    p.write_text("well,type,expected,od,unit\nA1,standard,8,2.5,OD\nA2,sample,,1.2,OD\n")
    e = read_export(p, analyte="gfap")
    assert e.units == {}
    assert "t.csv: column 'unit' says 'OD', not a concentration (the signal's unit?): " \
        "not used as the concentration unit" in e.notes


@pytest.mark.parametrize("unit", ["ng/dL", "pmol/L", "IU/mL"])
def test_plain_table_any_per_volume_unit_is_the_stated_unit(tmp_path, unit):
    """stranger50: 'ng/dL' was called no mass concentration and pmol/L, IU/mL were dropped:
    all three then read as pg/mL. They are the table's unit, which the assay converts
    (ng/dL) or refuses by name (molar, activity)."""
    p = tmp_path / "t.csv"
    p.write_text(f"well,type,expected,od,unit\nA1,standard,8,2.5,{unit}\nA2,sample,,1.2,{unit}\n")
    assert read_export(p, analyte="gfap").units == {"gfap": unit}


def test_concentration_units_convert_or_are_refused_by_name(tmp_path):
    from neurotox.assays.neurochem.immunoassay import unit_factor

    assert unit_factor("ng/dL", analyte="gfap", path=tmp_path) == 10.0    # 1 ng/dL = 10 pg/mL
    assert unit_factor("µg/dL", analyte="gfap", path=tmp_path) == 1e4
    with pytest.raises(InputError, match=r"analyte 'gfap': unknown concentration unit "
                                         r"'pmol/L'; .*\(a molar or activity unit cannot be "
                                         r"converted"):
        unit_factor("pmol/L", analyte="gfap", path=tmp_path)


def test_plain_table_types_inferred_from_ids_and_decimal_commas(tmp_path):
    p = tmp_path / "t.csv"
    p.write_text("Well;Sample ID;Expected;OD\nA1;STD1;100;1,5\nA2;Blank;;0,05\nA3;R9;;0,7\n")
    e = read_export(p)
    assert e.wells["type"].tolist() == ["standard", "blank", "sample"]
    assert e.wells["signal"].tolist() == [1.5, 0.05, 0.7]
    assert any("inferred" in n for n in e.notes) and any("decimal commas" in n for n in e.notes)


def test_samples_named_like_standards_without_a_type_column_say_so(tmp_path):
    """stranger39 G2: animal samples S1.. read as standards; the error said only the well."""
    p = tmp_path / "t.csv"
    p.write_text("well,sample,expected,od\nA01,STD1,8000,2.66\nA02,STD2,4000,1.9\n"
                 "A03,S1,,0.71\n")
    with pytest.raises(FormatError) as err:
        read_export(p)
    assert str(err.value) == (
        f"{p}, row 4: standard well A03 has no expected concentration (the table has no "
        "'type' column: sample ID 'S1' was read as a standard, as STDn/Sn/CALn are; add a "
        "'type' column (standard, blank, control, sample) naming each well's type)")
    p.write_text("well,type,sample,expected,od\nA01,standard,STD1,8000,2.66\n"
                 "A02,standard,STD2,4000,1.9\nA03,sample,S1,,0.71\n")
    assert read_export(p).wells["type"].tolist() == ["standard", "standard", "sample"]
    p.write_text("well,type,sample,expected,od\nA01,standard,STD1,8000,2.66\n"
                 "A03,standard,S1,,0.71\n")
    with pytest.raises(FormatError, match=r"row 3: standard well A03 has no expected "
                                          r"concentration$"):
        read_export(p)


_PLAIN_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")


def _workbook(text: str, sep: str, path: Path, *, extra_sheet: bool = False) -> Path:
    """A text export opened in Excel and saved as xlsx: one row per line, numbers as numbers."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Plate 1"
    for r in csv.reader(io.StringIO(text), delimiter=sep):
        ws.append([(int(float(c)) if float(c).is_integer() and "." not in c else float(c))
                   if _PLAIN_NUMBER.match(c) else (c or None) for c in r])
    if extra_sheet:
        wb.create_sheet("Plate 2").append(["Software Version", "3.12"])
    wb.save(path)
    return path


@pytest.mark.parametrize("fixture, sep, options", [
    ("gen5_small.txt", "\t", {"analyte": "gfap"}), ("xponent_small.csv", ",", {})])
def test_a_text_export_saved_as_a_workbook_reads_as_the_text(tmp_path, fixture, sep, options):
    # Gen5 "Export to Excel" and an xPONENT CSV re-saved as xlsx were refused as an
    # unknown layout (stranger47 #8): the first sheet holds the text's cells, one row per line
    text = (DATA / fixture).read_text()
    book = read_export(_workbook(text, sep, tmp_path / "export.xlsx"), **options)
    plain = read_export(DATA / fixture, **options)
    assert book.format == plain.format
    cols = ["plate", "analyte", "well", "type", "level", "sample", "expected", "dilution",
            "signal", "raw", "vendor_value", "vendor_censoring", "vendor_flag"]
    pd.testing.assert_frame_equal(book.wells[cols], plain.wells[cols])
    assert {k: c.params for k, c in book.curves.items()} == \
        {k: c.params for k, c in plain.curves.items()}
    assert book.notes[:2] == [f"export.xlsx: format {plain.format} (detected)",
                              "export.xlsx: sheet 'Plate 1' read as the lines of the "
                              f"{plain.format} text export it holds (cells joined by tabs)"]
    # given by name too
    assert len(read_export(tmp_path / "export.xlsx", format=plain.format, **options).wells) \
        == len(plain.wells)


def test_a_workbook_export_with_more_sheets_warns_that_only_the_first_is_read(tmp_path):
    text = (DATA / "gen5_small.txt").read_text()
    e = read_export(_workbook(text, "\t", tmp_path / "two.xlsx", extra_sheet=True))
    assert e.notes[1] == ("warning: two.xlsx: sheet 'Plate 1' read as the lines of the gen5 "
                          "text export it holds (cells joined by tabs); sheet(s) 'Plate 2' not "
                          "read: give each as its own file (the text export, or one sheet per "
                          "workbook)")


def test_a_workbook_holding_no_known_text_export_is_still_unknown(tmp_path):
    p = _workbook("subject,weight\nA,1\n", ",", tmp_path / "u.xlsx")
    with pytest.raises(FormatError, match="unknown plate-assay export layout"):
        read_export(p)


def test_unknown_layout_lists_the_formats(tmp_path):
    p = tmp_path / "u.csv"
    p.write_text("subject,weight\nA,1\n")
    with pytest.raises(FormatError, match="unknown plate-assay export layout.*bioplex.*gen5"
                                          ".*plate-table.*xponent"):
        read_export(p)


# ------------------------------------------------------------------ kinetic, maps, samples

def test_gen5_kinetic_rates_by_hand():
    k = read_kinetic(DATA / "gen5_kinetic_small.txt")
    r = rates(k.reads).set_index("well")
    assert r.loc["A03", "rate_per_min"] == pytest.approx(0.050, abs=2e-4)    # 4-decimal reads
    assert r.loc["A01", "rate_per_min"] == pytest.approx(0.002, abs=2e-4)
    assert k.layout["Plate 1"]["A07"]["dilution"] == 50


def test_wide_kinetic_table_in_minutes(tmp_path):
    p = tmp_path / "k.csv"
    p.write_text("Time (min),A1,A2\n0,0.1,0.2\n1,0.2,0.2\n2,0.3,0.2\n3,0.4,0.2\n")
    k = read_kinetic(p)
    assert k.reads["time_s"].max() == 180
    r = rates(k.reads, (0, 120)).set_index("well")
    assert r.loc["A01", "rate_per_min"] == pytest.approx(0.1)
    assert r.loc["A01", "n"] == 3


def test_kinetic_table_needs_three_reads(tmp_path):
    p = tmp_path / "k.csv"
    p.write_text("time,A1\n0,0.1\n30,0.2\n")
    with pytest.raises(FormatError, match="has 2 read\\(s\\); a rate needs at least 3"):
        read_kinetic(p)


def test_plate_map_and_sample_sheet():
    m = read_plate_map(DATA / "plate_table_small.csv")
    assert list(m.columns) == ["plate", "well", "type", "sample", "level", "expected",
                               "dilution", "source"]
    assert is_sample_sheet(DATA / "samples_small.csv")
    assert not is_sample_sheet(DATA / "plate_table_small.csv")
    s = read_sample_sheet(DATA / "samples_small.csv").set_index("sample")
    assert s.loc["R02-CTX", ["subject", "matrix", "protein_mg_ml", "tissue_mg"]].tolist() == \
        ["R02", "cortex", 2.5, 120]


def test_sample_sheet_free_text_columns_are_not_read(tmp_path):
    p = tmp_path / "s.csv"
    p.write_text("Sample ID,Animal,Tissue,Comment,notes\nS1,A,Cortex,re-assayed,x\n")
    assert read_sample_sheet(p)[["sample", "subject", "matrix"]].values.tolist() == \
        [["S1", "A", "cortex"]]


@pytest.mark.parametrize("text, match", [
    ("sample,animal\nS1,\n", "subject is empty"),
    ("sample,subject\nS1,A\nS1,B\n", "sample 'S1' is listed twice"),
    ("sample,subject,protein\nS1,A,-2\n", "expected a positive number"),
    ("id,weight\nS1,2\n", "expected column\\(s\\) 'subject'"),
    # an open table let a misspelt column change matrix, units and time points silently
    ("sample,subject,matirx\nS1,A,cortex\n",
     r"column 'matirx': sample sheet: unknown column 'matirx' \(did you mean 'matrix'\?\)"),
    ("sample,subject,tissue_type\nS1,A,cortex\n", r"'tissue_type' \(did you mean 'matrix'\?\)"),
    ("sample,subject,Protien mg/ml\nS1,A,2\n",
     r"'Protien mg/ml' \(did you mean 'protein_mg_ml'\?\)"),
    ("sample,subject,timpoint\nS1,A,day1\n", r"'timpoint' \(did you mean 'timepoint'\?\)"),
    ("sample,subject,group\nS1,A,C\n",
     r"unknown column 'group' \(the study's subjects file gives each subject's group\)"),
    ("sample,subject,matrix,tissue\nS1,A,serum,cortex\n",
     "columns 'matrix' and 'tissue' both give the matrix; keep one"),
])
def test_sample_sheet_errors(tmp_path, text, match):
    p = tmp_path / "s.csv"
    p.write_text(text)
    with pytest.raises(FormatError, match=match):
        read_sample_sheet(p)


# ------------------------------------------------------------------ plate grids and maps

def test_plate_grid_with_layout_grid():
    e = read_export(DATA / "plate_grid_small.txt", analyte="gfap")
    assert e.format == "plate-grid"
    w = e.wells.set_index("well")
    assert w.loc["A01", ["type", "sample", "level", "signal"]].tolist()[:3] == \
        ["standard", "STD1", "STD1"]
    assert w.loc["H01", "type"] == "blank" and w.loc["A03", "sample"] == "R01"
    assert e.meta["needs_map"] and e.meta["layout"]        # standards lack concentrations
    assert any("signal = '450 nm', layout = 'Layout'" in n for n in e.notes)


def test_plate_grid_with_two_reads_warns_which_it_took(tmp_path):
    """A reference-wavelength grid exported before the measured one (stranger35): the
    measured one (the widest span; equal spans: the shorter wavelength) is the signal,
    with a warning naming both; one blank-corrected grid is chosen quietly."""
    text = (DATA / "plate_grid_small.txt").read_text()
    reads = text[text.index("450 nm"):]
    p = tmp_path / "two.txt"
    p.write_text(text.replace(reads, reads.replace("450 nm", "630 nm") + "\n" + reads))
    e = read_export(p, analyte="gfap")
    warning = [n for n in e.notes if n.startswith("warning:")]
    assert warning == ["warning: two.txt: 2 grids, none blank-corrected, could each be the "
                       "signal ('450 nm', '630 nm'); '450 nm' (line 27) is used, its values span "
                       "the widest range ('450 nm' (line 27) 0.049 to 2.681; '630 nm' (line 16) "
                       "0.049 to 2.681: a reference wavelength reads flat): give --param "
                       "signal=NAME to choose"]
    assert e.wells.set_index("well").loc["A01", "signal"] == 2.655
    chosen = read_export(p, analyte="gfap", signal="630 nm")
    assert not any(n.startswith("warning:") for n in chosen.notes)
    p.write_text(text.replace(reads, reads.replace("450 nm", "630 nm") + "\n"
                              + reads.replace("450 nm", "Blank 450 nm")))
    e = read_export(p, analyte="gfap")
    assert not any(n.startswith("warning:") for n in e.notes)
    assert e.wells.set_index("well").loc["A01", "signal"] == 2.655


def _grids(tmp_path: Path, grids: dict[str, list[list[str]]]) -> Path:
    """A CSV of named grids of 12 columns (Tecan-style: name line, header, rows A, B …)."""
    lines = []
    for name, rows in grids.items():
        lines += [name, ",".join(["<>", *map(str, range(1, 13))])]
        lines += [",".join([r, *cells]) for r, cells in zip("ABCDEFGH", rows, strict=False)]
        lines.append("")
    p = tmp_path / "grids.csv"
    p.write_text("\n".join(lines))
    return p


def _layout(sample_a4: str = "SPL1") -> list[list[str]]:
    rows = []
    for r in range(8):
        std = "BLK" if r == 7 else f"STD{r + 1}"
        rows.append([std] * 3 + [sample_a4 if (r, c) == (0, 3) else f"SPL{c // 3}"
                                 for c in range(3, 12)])
    return rows


def test_plate_grid_two_blank_grids_take_the_measured_wavelength(tmp_path):
    """'Blank 570nm' (a reference wavelength, flat) before 'Blank 450nm': 450 is the signal."""
    od = [[f"{(8 - r) * 0.4 + c * 0.001:.3f}" for c in range(12)] for r in range(8)]
    flat = [["0.000"] * 12 for _ in range(8)]
    p = _grids(tmp_path, {"Layout": _layout(), "Blank 570nm": flat, "Blank 450nm": od})
    e = read_export(p, analyte="gfap")
    assert e.wells.set_index("well").loc["B02", "signal"] == pytest.approx(2.801)
    assert [n for n in e.notes if n.startswith("warning:")] == [
        "warning: grids.csv: 2 blank-corrected grids could each be the signal ('Blank 450nm', "
        "'Blank 570nm'); 'Blank 450nm' (line 24) is used, its values span the widest range "
        "('Blank 450nm' (line 24) 0.4 to 3.211; 'Blank 570nm' (line 13) 0 to 0: a reference "
        "wavelength reads flat): give --param signal=NAME to choose"]


def test_plate_grid_two_layouts_that_disagree_are_named(tmp_path):
    od = [[f"{(8 - r) * 0.4 + c * 0.001:.3f}" for c in range(12)] for r in range(8)]
    p = _grids(tmp_path, {"Layout": _layout(), "Layout 2": _layout("SPL9"), "450nm": od})
    e = read_export(p, analyte="gfap")
    assert e.wells.set_index("well").loc["A04", "sample"] == "SPL1"
    assert "warning: grids.csv: layout grids 'Layout' and 'Layout 2' disagree in 1 well(s) " \
           "(well A04: 'SPL1' vs 'SPL9'); 'Layout' is used: remove the other from the export " \
           "or give a plate map" in e.notes
    same = _grids(tmp_path, {"Layout": _layout(), "Layout 2": _layout(), "450nm": od})
    assert not any("layout grids" in n for n in read_export(same, analyte="gfap").notes)


def test_plate_map_supplies_expected_concentrations():
    from neurotox.io.neurochem.plate_table import apply_plate_map, is_plate_map

    assert is_plate_map(DATA / "plate_map_expected.csv")
    assert not is_plate_map(DATA / "plate_table_small.csv")
    e = apply_plate_map(read_export(DATA / "plate_grid_small.txt"),
                        read_plate_map(DATA / "plate_map_expected.csv"))
    w = e.wells.set_index("well")
    assert w.loc["A02", ["type", "expected"]].tolist() == ["standard", 8000]
    assert w.loc["G01", "expected"] == 125 and w.loc["A03", "sample"] == "R01"
    assert len(e.wells) == 96


def test_plate_grid_without_layout_needs_every_well_in_the_map(tmp_path):
    from neurotox.io.neurochem.plate_table import apply_plate_map

    head = ",".join(["", *map(str, range(1, 13))])
    rows = [",".join([r, *[f"{0.1 * (i + 1):.2f}" for i in range(12)]]) for r in "ABCDEFGH"]
    p = tmp_path / "grid.csv"
    p.write_text("Plate 1 OD\n" + "\n".join([head, *rows]) + "\n")
    e = read_export(p)
    assert e.format == "plate-grid" and not e.meta["layout"]
    assert e.wells.set_index("well").loc["B03", ["sample", "signal"]].tolist() == ["B03", 0.3]
    m = tmp_path / "map.csv"
    m.write_text("well,type,sample,expected\nA1,standard,S1,100\nA2,standard,S2,50\n"
                 "B3,sample,R01,\n")
    mapped = apply_plate_map(e, read_plate_map(m))
    assert mapped.wells["well"].tolist() == ["A01", "A02", "B03"]
    assert any("93 well(s) not in the map left out" in n for n in mapped.notes)


def test_plate_grid_in_a_workbook(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["Magellan export"])
    ws.append(["Raw data"])
    ws.append(["<>", *range(1, 13)])
    for r in "ABCDEFGH":
        ws.append([r, *[0.5] * 12])
    p = tmp_path / "g.xlsx"
    wb.save(p)
    e = read_export(p)
    assert e.format == "plate-grid" and len(e.wells) == 96
    assert any("signal = 'Raw data'" in n for n in e.notes)


@pytest.mark.parametrize("text, match", [
    ("time_s,A1,A2\n0,0.1,0.2\n30,0.2,0.2\n60,0.3", r"k.csv, line 4: expected 3 cells like the "
                                                     r"header, found 2 \(truncated file"),
    ("time_s,A1,A2,A1\n0,0.1,0.2,0.1\n30,0.2,0.2,0.2\n60,0.3,0.2,0.3\n",
     r"k.csv, line 1: column 'A1' appears twice in the header"),
])
def test_damaged_kinetic_table_is_still_kinetic_and_says_what_is_wrong(tmp_path, text, match):
    p = tmp_path / "k.csv"
    p.write_text(text)
    assert is_kinetic_table(p)
    with pytest.raises(FormatError, match=match):
        read_kinetic(p)


@pytest.mark.parametrize("value, unit", [("ng/ml", "ng/ml"), (None, "")])
def test_bioplex_template_unit_is_read_from_its_value_column(tmp_path, value, unit):
    p = _bioplex(tmp_path)
    wb = openpyxl.load_workbook(p)
    wb["Project Template"].append([10, "Units of Concentration", value, 5])   # 5: a Length
    wb.save(p)
    assert read_export(p).units == ({"Hu IL-6 (19)": unit} if unit else {})


def test_plate_grid_missing_a_row_is_refused_and_an_empty_sample_read_warned(tmp_path):
    od = [[f"{(8 - r) * 0.4 + c * 0.001:.3f}" for c in range(12)] for r in range(8)]
    p = _grids(tmp_path, {"Layout": _layout(), "450nm": od[:7]})
    with pytest.raises(FormatError, match=r"grids.csv, line 13: grid '450nm' has 7 row\(s\) "
                                          r"\(A-G\) where the export's other grids have 8: the "
                                          r"grid looks damaged or cut"):
        read_export(p, analyte="gfap")
    od[0][3] = ""
    conc = [[f"{2000 / 3 ** r:.4g}" if c < 3 and r < 7 else "" for c in range(12)]
            for r in range(8)]
    e = read_export(_grids(tmp_path, {"Layout": _layout(), "Conc": conc, "450nm": od}),
                    analyte="gfap")
    assert not e.meta["needs_map"]
    w = e.wells.set_index("well")
    assert math.isnan(w.loc["A04", "signal"]) and w.loc["A05", "signal"] == pytest.approx(3.204)
    assert "warning: grids.csv: sample well(s) A04 of the layout have an empty cell in grid " \
           "'450nm' (line 24): no signal, left out of their sample's mean (recorded in " \
           "neurochem_wells)" in e.notes
