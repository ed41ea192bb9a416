"""Which sheet of a scoring workbook is read (stranger29 F8, F9).

A hidden sheet (an old version the user cannot see) was read instead of the
visible one, a second visible copy of the table was ignored, and a workbook
whose zip held one sheet part twice was read without complaint.
"""

from __future__ import annotations

import warnings
import zipfile

import pytest
from openpyxl import Workbook

from neurotox.errors import FormatError, InputError
from neurotox.io.rodent import read_rodent
from neurotox.workbook import data_sheet

HEADER = ["subject", "phase", "left_s", "right_s", "novel_side"]
ROWS = [["a1", "training", 10.0, 12.0, "L"], ["a1", "test", 21.0, 11.0, "L"]]


def _book(path, sheets, *, hidden=()):
    wb = Workbook()
    wb.remove(wb.active)
    for name, rows in sheets:
        ws = wb.create_sheet(name)
        for row in rows:
            ws.append(row)
        if name in hidden:
            ws.sheet_state = "hidden"
    wb.active = next(i for i, (n, _) in enumerate(sheets) if n not in hidden)
    wb.save(path)
    return path


def _left_test(path):
    table = read_rodent(path).table
    row = table[(table["phase"] == "test") & (table["object"].str.lower() == "left")]
    return float(row["time_s"].iloc[0])


def test_a_hidden_sheet_is_not_read_in_place_of_the_visible_one(tmp_path):
    old = [HEADER, ROWS[0], ["a1", "test", 99.0, 11.0, "L"]]
    p = _book(tmp_path / "s.xlsx", [("Old", old), ("Scores", [HEADER, *ROWS])], hidden={"Old"})
    assert data_sheet(p) == "Scores"
    assert _left_test(p) == 21.0           # the value the user sees, not the hidden 99


def test_two_visible_versions_of_the_table_are_refused_naming_the_sheets(tmp_path):
    edited = [HEADER, ROWS[0], ["a1", "test", 25.0, 11.0, "L"]]
    p = _book(tmp_path / "s.xlsx", [("Scores", [HEADER, *ROWS]), ("Copy", edited)])
    with pytest.raises(InputError, match=r"s\.xlsx: sheets 'Scores' and 'Copy' both hold a "
                                         r"table with the same header, and this format is read "
                                         r"from one sheet: if they hold different animals"):
        read_rodent(p)


def test_versions_of_the_table_below_banner_rows_are_refused_too(tmp_path):
    """A scoring sheet's title rows above the header (a re-score on sheet 'Day2')."""
    banner = [["Y maze scoring"], ["Study 123"], []]
    p = _book(tmp_path / "s.xlsx", [("Sheet", [*banner, HEADER, *ROWS]),
                                   ("Day2", [*banner, HEADER, ROWS[0]])])
    with pytest.raises(InputError, match=r"sheets 'Sheet' and 'Day2' both hold a table"):
        data_sheet(p)
    # another banner above a different table is no second version
    q = _book(tmp_path / "t.xlsx", [("Sheet", [*banner, HEADER, *ROWS]),
                                   ("Summary", [*banner, ["group", "n", "mean"]])])
    assert data_sheet(q) == "Sheet"


def test_a_notes_sheet_beside_the_table_is_fine(tmp_path):
    notes = [["Scorer", "JD"], ["Room", "B12"]]
    p = _book(tmp_path / "s.xlsx", [("Scores", [HEADER, *ROWS]), ("Notes", notes)])
    assert data_sheet(p) == "Scores" and _left_test(p) == 21.0


def test_a_sheet_part_held_twice_in_the_zip_is_refused(tmp_path):
    p = _book(tmp_path / "s.xlsx", [("Scores", [HEADER, *ROWS])])
    with zipfile.ZipFile(p) as z:
        part = next(n for n in z.namelist() if n.startswith("xl/worksheets/sheet"))
        data = z.read(part).replace(b">21<", b">99<")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")      # zipfile warns about the duplicate name
        with zipfile.ZipFile(p, "a") as z:
            z.writestr(part, data)
    with pytest.raises(FormatError, match=rf"s\.xlsx: the xlsx zip holds the part '{part}' "
                                          r"twice \(a damaged or crafted workbook\)"):
        read_rodent(p)
