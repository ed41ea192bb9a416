"""Malformed peripheral-neuropathy sheets through ``neurotox cipn``."""

from __future__ import annotations

import pytest

from tests.robustness.corpus import (
    ENCRYPTED_XLSX,
    Case,
    csv_rows,
    run_case,
    run_ok,
    xlsx_bytes,
)

SUBJECTS = ("C1", "C2", "T1", "T2")
STUDY = """\
study_id: CIPN-1
title: CIPN robustness
test_item: X
groups:
  - {id: C, label: Vehicle, dose: 0, dose_unit: mg/kg, control: true}
  - {id: T, label: Paclitaxel, dose: 2, dose_unit: mg/kg}
subjects: subjects.csv
"""
SUBJ = "subject,group,sex\n" + "".join(f"{s},{s[0]},M\n" for s in SUBJECTS)
BASE = {"study.yaml": STUDY, "subjects.csv": SUBJ}
VF = ("subject,day,series,filament\n"
      "C1,-1,oxooxx,5\nC2,-1,ooxoxo,4\nT1,-1,oxooxo,5\nT2,-1,xxxx,1\n")
HP = ("subject,day,trial,value\n"
      "C1,0,1,12.5\nC2,0,1,30\nT1,0,1,8.0\nT2,0,1,9.5\n")
NCV = ("subject,day,distance_mm,proximal_latency_ms,distal_latency_ms,amplitude\n"
       "C1,28,30,2.5,1.0,12\nC2,28,31,2.4,1.1,11\nT1,28,30,2.9,1.0,9\nT2,28,29,3.0,1.1,8\n")


def vf(old: str, new: str) -> dict:
    assert old in VF, old
    return {**BASE, "vf.csv": VF.replace(old, new, 1)}


def hp(old: str, new: str) -> dict:
    assert old in HP, old
    return {**BASE, "hp.csv": HP.replace(old, new, 1)}


def args(name: str, protocol: str, *extra: str) -> tuple[str, ...]:
    return ("--quiet", "cipn", f"{{dir}}/{name}", "--study", "{dir}/study.yaml", "--protocol",
            protocol,
            *extra, "-o", "{out}")


VF_ARGS = args("vf.csv", "von-frey-up-down")
HP_ARGS = args("hp.csv", "hot-plate")

CASES = [
    Case("vf-other-letters", vf("T1,-1,oxooxo", "T1,-1,oxoyxo"), VF_ARGS,
         "row 4, column 'series': response series 'oxoyxo': character 'Y' at position 4",
         "vf.csv"),
    Case("vf-filament-not-in-set", vf("C2,-1,ooxoxo,4", "C2,-1,ooxoxo,0.5"), VF_ARGS,
         "row 3, column 'filament': filament '0.5' is not in the set as a filament number "
         "(numbers 1-8 or markings", "vf.csv"),
    Case("vf-filament-number-too-high", vf("C2,-1,ooxoxo,4", "C2,-1,ooxoxo,9"), VF_ARGS,
         "filament '9' is not in the set", "vf.csv"),
    Case("vf-no-filament-column", {**BASE, "vf.csv": VF.replace(",filament", ",last")},
         VF_ARGS, "expected von_frey_updown column(s) 'filament'", "vf.csv"),
    Case("vf-unknown-test", {**BASE, "vf.csv": VF.replace("series,", "test,series,").replace(
        ",oxooxx", ",von frei,oxooxx").replace(",ooxoxo", ",,ooxoxo").replace(
        ",oxooxo", ",,oxooxo").replace(",xxxx", ",,xxxx")}, VF_ARGS,
         "row 2, column 'test': unknown test 'von_frei'", "vf.csv"),
    Case("vf-unknown-animal", vf("T2,-1", "X9,-1"), VF_ARGS,
         "animal 'X9' is not in the study's subjects file", "vf.csv"),
    Case("vf-empty-day", vf("T2,-1", "T2,"), VF_ARGS, "row 5, column 'day': timepoint is "
         "empty", "vf.csv"),
    Case("vf-session-twice", vf("T2,-1,xxxx,1", "T2,-1,xxxx,1\nT2,-1,oxoo,6"), VF_ARGS,
         "row 6, column 'day': von_frey_updown measurement of animal 'T2' at session '-1' "
         "appears twice: rows 5 and 6",
         "vf.csv"),
    Case("vf-empty-file", {**BASE, "vf.csv": ""}, VF_ARGS, "file is empty", "vf.csv"),
    Case("vf-wide-garbled-cell", {**BASE, "vf.csv": "subject,D7\nC1,oxooxx\n"},
         VF_ARGS, "expected a response series with its last filament ('oxooxx/5') or a column "
         "'d7_filament', found 'oxooxx'", "vf.csv"),
    Case("hp-negative-latency", hp("T1,0,1,8.0", "T1,0,1,-8.0"), HP_ARGS,
         "row 4, column 'value': hot_plate: a negative latency; latencies lie in [0, 30] s (the "
         "cut-off means: no response), found '-8'", "hp.csv"),
    Case("hp-latency-above-cutoff", hp("T1,0,1,8.0", "T1,0,1,31"), HP_ARGS,
         "hot_plate: a latency above the hot_plate cut-off of 30 s; latencies lie in [0, 30] s "
         "(the cut-off means: no response), found '31'", "hp.csv"),
    Case("hp-text-latency", hp("T1,0,1,8.0", "T1,0,1,fast"), HP_ARGS,
         "row 4, column 'value': expected a number, found 'fast'", "hp.csv"),
    Case("hp-bad-cutoff-param", {**BASE, "hp.csv": HP},
         args("hp.csv", "hot-plate", "--param", "cutoff_s={hot_plate: -5}"),
         "--param, key 'cutoff_s': cut-off of hot_plate must be > 0 s", "--param"),
    Case("hp-misspelt-param", {**BASE, "hp.csv": HP},
         args("hp.csv", "hot-plate", "--param", "cutof_s=20"),
         "key 'cutof_s': unknown key (did you mean 'cutoff_s'?)", "--param"),
    Case("protocol-typo", {**BASE, "vf.csv": VF}, args("vf.csv", "von-frey-updown"),
         "unknown protocol 'von-frey-updown' (did you mean 'von-frey-up-down'?)",
         "von-frey-updown"),
    # --- hostile inputs (attack24)
    Case("hp-column-named-twice", hp("trial,value", "value,value"), HP_ARGS,
         "line 1: column 'value' appears twice in the header (columns 3 and 4)", "hp.csv"),
    Case("hp-header-repeated", hp("T1,0,1,8.0", "subject,day,trial,value\nT1,0,1,8.0"),
         HP_ARGS, "row 4: this row repeats the header line", "hp.csv"),
    Case("hp-password-protected", {**BASE, "hp.xlsx": ENCRYPTED_XLSX},
         args("hp.xlsx", "hot-plate"), "the workbook is password-protected", "hp.xlsx"),
    Case("hp-every-sheet-empty", {**BASE, "hp.xlsx": xlsx_bytes(("Notes", []), ("Data", []))},
         args("hp.xlsx", "hot-plate"), "every sheet is empty ('Data', 'Notes')", "hp.xlsx"),
    Case("ncv-proximal-before-distal", {**BASE, "ncv.csv": NCV.replace("2.9,1.0", "0.9,1.0")},
         args("ncv.csv", "nerve-conduction", "--param", "test=ncv_motor"),
         "row 4, column 'proximal_latency_ms': proximal latency must exceed the distal",
         "ncv.csv"),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_malformed_cipn_input(tmp_path, case):
    run_case(case, tmp_path)


def test_valid_sheets_run(tmp_path):
    manifest = run_ok({**BASE, "vf.csv": VF}, VF_ARGS, tmp_path)
    assert any("1 up-down series out of range" in n for n in manifest["notes"])


def _latencies(folder) -> dict:
    import pandas as pd

    t = pd.read_csv(folder / "out" / "endpoints.csv")
    t = t[t["endpoint"] == "hot_plate_latency"]
    return dict(zip(t["subject"], t["value"], strict=True))


@pytest.mark.parametrize("name, data", [
    ("hp.csv", HP.replace(",", ";").replace(".", ",").encode("cp1252")),
    ("hp.csv", xlsx_bytes(("Sheet1", csv_rows(HP)))),
    ("hp.xlsx", xlsx_bytes(("Notes", []), ("Hot plate", csv_rows(HP)))),
    ("hp.xls", HP.replace(",", "\t").encode("utf-16")),
], ids=["semicolon-decimal-comma-cp1252", "workbook-named-csv", "first-sheet-empty",
        "unicode-text-named-xls"])
def test_hot_plate_sheets_as_labs_save_them(tmp_path, name, data):
    """Each gives the latencies of the plain CSV (refused before: 'file is not UTF-8
    text', 'unknown sheet format .xls', 'sheet has no data rows')."""
    run_ok({**BASE, name: data}, args(name, "hot-plate"), tmp_path)
    assert _latencies(tmp_path) == {"C1": 12.5, "C2": 30.0, "T1": 8.0, "T2": 9.5}


def _titled_sheet(bad: str | None = None) -> bytes:
    """The hot-plate sheet under a merged title row and an empty row (header on row 3)."""
    import io

    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["Hot plate, study CIPN-1"])
    ws.merge_cells("A1:D1")
    ws.append([])
    for row in csv_rows(HP):
        ws.append(row)
    if bad:
        ws["D5"] = bad   # C2's latency
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def test_title_rows_above_the_header(tmp_path):
    """A merged title row above the table: the header is found on row 3, the latencies
    are right, and the notes say so (before: 'expected subject column(s)')."""
    manifest = run_ok({**BASE, "hp.xlsx": _titled_sheet()}, args("hp.xlsx", "hot-plate"),
                      tmp_path)
    assert "hp.xlsx: header on row 3, below 2 title row(s)" in manifest["notes"]
    assert _latencies(tmp_path) == {"C1": 12.5, "C2": 30.0, "T1": 8.0, "T2": 9.5}


def test_title_rows_keep_spreadsheet_row_numbers(tmp_path):
    run_case(Case("hp-title-rows-bad-cell", {**BASE, "hp.xlsx": _titled_sheet("slow")},
                  args("hp.xlsx", "hot-plate"),
                  "row 5, column 'value': expected a number, found 'slow'", "hp.xlsx"),
             tmp_path)
