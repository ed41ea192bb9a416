"""Absurd magnitudes (1e308) in any raw input: one line naming file and cell, before parsing.

A finite number beyond :data:`neurotox.files.MAX_VALUE` overflows to infinity in a
sum of squares and used to crash the statistics ("array must not contain infs or
NaNs"). Every reader path meets the same guard: text tables
(:func:`neurotox.delimited.read_table`), texts handed to pandas/pyarrow
(:func:`neurotox.io.text.scan_text`, :func:`neurotox.files.check_text`), workbook
cells (both engines) and numeric arrays (HDF5, SAS transport).
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from neurotox import workbook as excel
from neurotox.delimited import read_table
from neurotox.errors import InputError
from neurotox.files import MAX_VALUE, check_array_magnitude, check_magnitudes
from neurotox.io.battery import read_organ_weights
from neurotox.io.text import scan_text

TOO_LARGE = "is too large to analyse (magnitude above 1e+100; a unit or export error?)"


@pytest.mark.parametrize(("text", "sep", "where", "found"), [
    ("a,b\nx,1e308\n", ",", "line 2, cell 2", "1e308"),
    ("a;b\nx;1,5e308\n", ";", "line 2, cell 2", "1,5e308"),
    ("a,b\nx,-2E+200\n", ",", "line 2, cell 2", "-2E+200"),
    ("a,b,c\nx,,1.5E+0101\n", ",", "line 2, cell 3", "1.5E+0101"),
    ('a,b\nx,"1e300"\n', ",", "line 2, cell 2", "1e300"),
    ("a,b\nx," + "9" * 101 + "\n", ",", "line 2, cell 2", "9" * 101),
    ("t\tv\n1\t 3e101 \n", "\t", "line 2, cell 2", "3e101"),
])
def test_text_with_a_huge_number_is_refused_naming_line_and_cell(text, sep, where, found):
    with pytest.raises(InputError) as err:
        check_magnitudes(text, "f.csv", sep=sep)
    assert str(err.value) == f"f.csv, {where}: value {found!r} {TOO_LARGE}"


@pytest.mark.parametrize("text", [
    "a,b\nx,1e100\n",          # the limit itself
    "a,b\nx,9.9e99\n",
    "a,b\nx,1e-300\n",         # tiny is harmless
    "id,v\nA1E300,2\n",        # inside a word: an ID, not a number
    "id,v\nS_1e200,2\n",
    "a,b\nx,12.5e200z\n",
    "a,b\nx,3.2e10\n",
    "a,b\nx,1.234E+02,5E-200\n",
    "a,b\nx,1000e98\n",       # 1e101, below overflow: left to the EndpointTable's guard
])
def test_ordinary_text_passes(text):
    check_magnitudes(text, "f.csv", sep=",")


def test_read_table_names_row_and_column(tmp_path):
    p = tmp_path / "brain_weights.csv"
    p.write_text("subject,body_weight,brain_weight\nG1M01,323.2,2.01\nG1M02,1e308,1.945\n")
    with pytest.raises(InputError) as err:
        read_table(p)
    assert str(err.value) == f"{p}, row 3, column 'body_weight': value '1e308' {TOO_LARGE}"


def test_organ_weight_reader_refuses_before_any_computation(tmp_path):
    p = tmp_path / "brain_weights.csv"
    p.write_text("subject,body_weight,brain_weight\nG1M01,323.2,2.01\nG1M02,352.3,-1e250\n")
    with pytest.raises(InputError, match=re.escape(
            "row 3, column 'brain_weight': value '-1e250' " + TOO_LARGE)):
        read_organ_weights(p)


def test_scan_text_finds_a_huge_number_across_chunk_boundaries(tmp_path):
    line = "S01,1.0,2.0\n"
    n = (1 << 20) // len(line) + 1          # the number straddles the first 1 MiB chunk
    p = tmp_path / "track.csv"
    p.write_text("id,x,y\n" + line * n + "S02,4.0,1e30" + "8" * 3 + "\n")
    with pytest.raises(InputError) as err:
        scan_text(p, "utf-8", sep=",")
    assert str(err.value) == f"{p}, line {n + 2}, cell 3: value '1e30888' {TOO_LARGE}"


@pytest.mark.parametrize("engine", ["auto", "openpyxl"])
@pytest.mark.parametrize(("value", "found"), [(1e308, "1e+308"), ("2e300", "'2e300'")])
def test_workbook_cells_are_checked_by_both_engines(tmp_path, monkeypatch, engine, value,
                                                    found):
    import openpyxl

    monkeypatch.setenv(excel.ENV_ENGINE, engine)
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["subject", "body_weight"])
    for i in range(3000):   # enough rows for the calamine (whole-sheet) path
        ws.append([f"S{i}", 300.0 + i % 7])
    ws["B2000"] = value
    p = tmp_path / "w.xlsx"
    wb.save(p)
    with pytest.raises(InputError) as err:
        excel.read_excel(p, dtype=str)
    assert str(err.value) == f"{p}, sheet 'Sheet', cell B2000: value {found} {TOO_LARGE}"


def test_arrays_name_row_and_column():
    values = np.array([[1.0, 2.0], [3.0, np.nan], [5.0, -1e200]])
    with pytest.raises(InputError) as err:
        check_array_magnitude(values, "p.h5", columns=["nose/x", "nose/y"])
    assert str(err.value) == f"p.h5, row 3, column 'nose/y': value -1e+200 {TOO_LARGE}"
    check_array_magnitude(np.array([MAX_VALUE, -MAX_VALUE, np.inf]), "p.h5")  # inf: elsewhere
    check_array_magnitude(pd.Series(["a", "b"]).to_numpy(), "p.h5")
