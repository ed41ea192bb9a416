"""Bio-Plex Manager reports as labs save them: stacked tables, no Dilution, controls at 0.

Fixtures are small workbooks modelled on the Bio-Plex Manager report layout (header
block, ``Analyte, Type, Well …`` table, legend and curve footer).
"""

from __future__ import annotations

import math
from pathlib import Path

import openpyxl
import pytest

from neurotox.errors import FormatError
from neurotox.io.neurochem import read_export

HEAD = ["Analyte", "Type", "Well", "Outlier", "Description", "FI", "FI - Bkgd", "Std Dev",
        "%CV", "Obs Conc", "Exp Conc", "(Obs/Exp) * 100", "Conc in Range", "Dilution"]
#: Type, Well, Description, FI - Bkgd, Exp Conc, Dilution
ROWS = [("B", "H3,H4", None, 28.5, None, None),
        ("S1", "A1,A2", None, 12023.5, 5000, None),
        ("S2", "B1,B2", None, 7674.8, 1250, None),
        ("S3", "C1,C2", None, 3425.8, 312.5, None),
        ("S4", "D1,D2", None, 954.8, 78.125, None),
        ("C1", "E1,E2", "QC low", 501.0, 0, None),
        ("X1", "A3,A4", "11027-01", 29.8, None, 4),
        ("X2", "B3,B4", "11027-02", 61.2, None, 4)]
CURVE = {"IL-6": "Std. Curve: FI = -0.269369 + (14533.9 + 0.269369) / ((1 + "
                 "(Conc / 1030.4)^-0.963123))^1.09621",
         "IL-8": "Std. Curve: FI = 39.5352 + (27558.9 - 39.5352) / (1 + "
                 "(Conc / 794.865)^-1.12724)"}


def _table(ws, analyte: str, *, dilution: bool = True, footer: bool = True,
           rows=ROWS, per_well: bool = False) -> None:
    for line in ("File Name: Z:\\data\\plate 7.rbx", f"Analyte: {analyte}",
                 "Acquisition Date: 11-Jan-2007", "Plate ID: plate 7", ""):
        ws.append([line])
    _rows(ws, analyte, dilution=dilution, rows=rows)
    if per_well:                                  # the same wells again, one row each
        ws.append([])
        ws.append([])
        _rows(ws, analyte, dilution=dilution, rows=rows, split=True)
    if footer:
        ws.append([])
        ws.append(["*Value extrapolated beyond standard range"])
        ws.append(["Regression Type: Logistic - 5PL"])
        ws.append([CURVE[analyte]])
        ws.append(["FitProb. = 0.3444, ResVar. = 1.0660"])


def _rows(ws, analyte: str, *, dilution: bool, rows, split: bool = False) -> None:
    ws.append(HEAD if dilution else HEAD[:-1])
    for t, wells, desc, net, exp, dil in rows:
        for well in wells.split(",") if split else [wells]:
            cells = [analyte, t, well, 0, desc, net, net, None, None, None, exp, None, None]
            ws.append(cells + [dil] if dilution else cells)


def _book(tmp_path: Path, build) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Report"
    build(ws)
    p = tmp_path / "bioplex.xlsx"
    wb.save(p)
    return p


def test_tables_stacked_on_one_sheet_are_all_read(tmp_path):
    def build(ws):
        _table(ws, "IL-6")
        ws.append([])
        ws.append([])
        _table(ws, "IL-8")
    e = read_export(_book(tmp_path, build))
    assert e.analytes == ["IL-6", "IL-8"]
    assert e.wells.groupby("analyte").size().to_dict() == {"IL-6": 8, "IL-8": 8}
    assert e.curves["IL-6"].params["E"] == 1.09621
    assert e.curves["IL-8"].params == {"A": 39.5352, "B": 27558.9, "C": 794.865,
                                       "D": -1.12724}
    x = e.wells[(e.wells["analyte"] == "IL-8") & (e.wells["well"] == "B03,B04")].iloc[0]
    assert (x["sample"], x["signal"], x["dilution"], x["plate"]) == ("11027-02", 61.2, 4,
                                                                      "plate 7")
    assert any("'Report' holds 2 analyte tables" in n for n in e.notes)


def test_summary_and_per_well_tables_of_one_analyte_read_once(tmp_path):
    e = read_export(_book(tmp_path, lambda ws: _table(ws, "IL-6", per_well=True)))
    assert len(e.wells) == 8 and e.wells["replicates"].tolist()[1] == 2
    assert e.curves["IL-6"].model == "5pl"
    assert any("the table at row 17 repeats the wells of the table at row 6" in n
               for n in e.notes)


def test_one_table_holding_several_analytes_is_refused_naming_them(tmp_path):
    def build(ws):
        _table(ws, "IL-6", footer=False)
        for r in list(ws.iter_rows(min_row=7, max_row=ws.max_row, values_only=True)):
            ws.append(["IL-8", *r[1:]])
        ws.append(["Regression Type: Logistic - 5PL"])
    with pytest.raises(FormatError, match=r"sheet 'Report': one table \(header at row 6\) "
                                          r"holds 2 analytes \('IL-6', 'IL-8'\) under a "
                                          r"single header and footer"):
        read_export(_book(tmp_path, build))


def test_a_table_without_footer_before_another_analyte_is_refused(tmp_path):
    def build(ws):
        _table(ws, "IL-6", footer=False)
        ws.append([])
        _rows(ws, "IL-8", dilution=True, rows=ROWS)
        ws.append(["Regression Type: Logistic - 5PL"])
    with pytest.raises(FormatError, match=r"table at row 6 has no footer .* before the next "
                                          r"table at row 16, which names another analyte"):
        read_export(_book(tmp_path, build))


def test_no_dilution_column_is_a_warning_as_for_xponent(tmp_path):
    e = read_export(_book(tmp_path, lambda ws: _table(ws, "IL-6", dilution=False)))
    assert e.wells.loc[e.wells["type"] == "sample", "dilution"].tolist() == [1.0, 1.0]
    warn = [n for n in e.notes if n.startswith("warning:")]
    assert len(warn) == 1 and "no dilution factor given for any sample" in warn[0] \
        and "the Bio-Plex table has no 'Dilution' column" in warn[0]


def test_dilution_column_present_gives_no_warning(tmp_path):
    e = read_export(_book(tmp_path, lambda ws: _table(ws, "IL-6")))
    assert e.wells.loc[e.wells["type"] == "sample", "dilution"].tolist() == [4.0, 4.0]
    assert not [n for n in e.notes if n.startswith("warning:")]


def test_control_exp_conc_zero_is_no_nominal_concentration(tmp_path):
    e = read_export(_book(tmp_path, lambda ws: _table(ws, "IL-6")))
    ctl = e.wells[e.wells["type"] == "control"].iloc[0]
    assert ctl["level"] == "C1" and math.isnan(ctl["expected"]) and ctl["signal"] == 501.0
    std = e.wells[e.wells["type"] == "standard"].set_index("level")["expected"]
    assert std.to_dict() == {"S1": 5000, "S2": 1250, "S3": 312.5, "S4": 78.125}
    assert any("control(s) 'C1' have Exp Conc 0" in n and "no nominal concentration" in n
               for n in e.notes)


def test_control_with_a_nominal_concentration_keeps_it(tmp_path):
    rows = [r if r[0] != "C1" else ("C1", "E1,E2", "QC low", 501.0, 80, None) for r in ROWS]
    e = read_export(_book(tmp_path, lambda ws: _table(ws, "IL-6", rows=rows)))
    assert e.wells.loc[e.wells["type"] == "control", "expected"].tolist() == [80.0]
    assert not any("Exp Conc 0" in n for n in e.notes)
