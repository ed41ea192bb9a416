"""Malformed NOR and T-maze inputs through ``neurotox nor`` and ``neurotox tmaze``."""

from __future__ import annotations

import codecs

import pytest

from tests.robustness.corpus import (
    ENCRYPTED_XLSX,
    OLD_XLS,
    Case,
    csv_rows,
    run_case,
    run_ok,
    xlsx_bytes,
)

SUBJECTS = ("C1", "C2", "C3", "H1", "H2", "H3")
STUDY = """\
study_id: R-1
title: Rodent robustness
test_item: X
groups:
  - {id: C, label: Control, dose: 0, dose_unit: mg/kg, control: true}
  - {id: H, label: High, dose: 5, dose_unit: mg/kg}
subjects: subjects.csv
"""
SUBJ = "subject,group,sex\n" + "".join(f"{s},{s[0]},M\n" for s in SUBJECTS)
NOR_HEAD = "subject,phase,left_s,right_s,novel_side"
NOR = NOR_HEAD + "\n" + "".join(
    f"{s},training,{15 + i},{14 + i},L\n{s},test,{20 + i},{11 + i},L\n"
    for i, s in enumerate(SUBJECTS))
ARMS = "ABCACBABCBAC"
ENTRIES = "subject,order,arm,enter_s,exit_s\n" + "".join(
    f"{s},{k + 1},{a},{10.0 * k + i:.1f},{10.0 * k + i + 3:.1f}\n"
    for i, s in enumerate(SUBJECTS) for k, a in enumerate(ARMS))
TRIALS = "subject,trial,sample,choice\n" + "".join(
    f"{s},{k + 1},{'L' if k % 2 else 'R'},{'R' if (k + i) % 3 else 'L'}\n"
    for i, s in enumerate(SUBJECTS) for k in range(6))
BASE = {"study.yaml": STUDY, "subjects.csv": SUBJ}
NOR_ROW = "C2,test,21,12,L"
ENTRY_ROW = "C2,2,B,11.0,14.0"


def nor_args(name: str = "nor.csv", *extra: str) -> tuple[str, ...]:
    return ("nor", f"{{dir}}/{name}", "--study", "{dir}/study.yaml", *extra, "-o", "{out}")


def tm_args(name: str = "entries.csv", *extra: str) -> tuple[str, ...]:
    return ("tmaze", f"{{dir}}/{name}", "--study", "{dir}/study.yaml", *extra, "-o", "{out}")


def nor(old: str, new: str) -> dict:
    assert old in NOR, old
    return {**BASE, "nor.csv": NOR.replace(old, new, 1)}


def nor_file(data: str | bytes, name: str = "nor.csv") -> dict:
    return {**BASE, name: data}


def edited(template: str, name: str, old: str, new: str) -> dict:
    """The case files: BASE plus ``template`` with its first ``old`` replaced, as ``name``."""
    assert old in template, old
    return {**BASE, name: template.replace(old, new, 1)}


def ent(old: str, new: str) -> dict:
    return edited(ENTRIES, "entries.csv", old, new)


def tri(old: str, new: str) -> dict:
    return edited(TRIALS, "trials.csv", old, new)


CASES = [
    # --- NOR scoring sheet
    Case("nor-empty-file", nor_file(""), nor_args(), "the file is empty (0 bytes)", "nor.csv"),
    Case("nor-header-only", nor_file(NOR_HEAD + "\n"), nor_args(),
         "nor-scoring-sheet: expected data rows below the header, found none", "nor.csv"),
    Case("nor-binary", nor_file(bytes(range(256)) * 4), nor_args(),
         'not a recognised rodent-cognition file; expected one of "ANY-maze resu', "nor.csv"),
    Case("nor-corrupt-xlsx", nor_file(b"PK\x03\x04" + b"\x00" * 64, "nor.xlsx"),
         nor_args("nor.xlsx"), "cannot open as an xlsx workbook: File is not a zip file",
         "nor.xlsx"),
    # found by bench_fuzz: two header cells equal but for case (AttributeError before)
    Case("nor-columns-differ-by-case",
         {**BASE, "nor.csv": NOR.replace(NOR_HEAD, NOR_HEAD + ",Left_S", 1).replace(
             "\n", ",1\n").replace(NOR_HEAD + ",Left_S,1", NOR_HEAD + ",Left_S", 1)},
         nor_args(), "columns 'left_s', 'Left_S' all mean 'left_s'; keep one of them",
         "nor.csv"),
    Case("nor-missing-subject-col", nor("subject,phase", "animal_code,phase"), nor_args(),
         "nor.csv: expected a column named one of 'animal', 'animal_id', 'animal_no', 'id', "
         "'mouse', 'mouse_id', 'mouseid', 'rat', 'rat_id', 'ratid', 'subject', 'subject_id', "
         "'subject_no', found 'animal_code', 'left_s', 'novel_side', 'phase', 'right_s'",
         "nor.csv"),
    Case("nor-missing-phase-col", nor("subject,phase,", "subject,period,"), nor_args(),
         "nor.csv: expected a column named one of 'phase', 'session', 'stage', 'trial', found "
         "'left_s', 'novel_side', 'period', 'right_s', 'subject'", "nor.csv"),
    Case("nor-one-time-column", {**BASE, "nor.csv": "subject,phase,left_s\nC1,test,3\n"},
         nor_args(), 'not a recognised rodent-cognition file; expected one of "ANY-maze resu',
         "nor.csv"),
    Case("nor-text-in-time", nor(NOR_ROW, "C2,test,lots,12,L"), nor_args(),
         "row 5, column 'left_s': expected a finite number >= 0, found 'lots'", "nor.csv"),
    Case("nor-decimal-comma-in-comma-file", nor(NOR_ROW, 'C2,test,"21,5",12,L'), nor_args(),
         "row 5, column 'left_s': expected a finite number >= 0, found '21,5'", "nor.csv"),
    Case("nor-na-time", nor(NOR_ROW, "C2,test,#N/A,12,L"), nor_args(),
         "row 5, column 'left_s': expected a finite number >= 0, found '#N/A'", "nor.csv"),
    Case("nor-negative-time", nor(NOR_ROW, "C2,test,-21,12,L"), nor_args(),
         "row 5, column 'left_s': expected a finite number >= 0, found '-21'", "nor.csv"),
    Case("nor-inf-time", nor(NOR_ROW, "C2,test,inf,12,L"), nor_args(),
         "row 5, column 'left_s': expected a finite number >= 0, found 'inf'", "nor.csv"),
    Case("nor-bad-phase", nor(NOR_ROW, "C2,day3,21,12,L"), nor_args(),
         "row 5, column 'phase': phase 'day3' is not training or test (or an ali", "nor.csv"),
    Case("nor-duplicate-animal", nor(NOR_ROW, NOR_ROW + "\n" + NOR_ROW), nor_args(),
         "row 6, column 'subject': subject 'C2' has a second test row (phase 'test'; the "
         "first is row 5, 'test'): keep one row per animal and phase", "nor.csv"),
    Case("nor-unknown-animal", nor(NOR_ROW, NOR_ROW + "\nX9,test,3,4,L"), nor_args(),
         "row 6: subject(s) 'X9' in the NOR data are not in the study's subjects", "nor.csv"),
    Case("nor-empty-subject", nor(NOR_ROW, ",test,21,12,L"), nor_args(),
         "row 5, column 'subject': subject is empty", "nor.csv"),
    Case("nor-bad-novel-side", nor(NOR_ROW, "C2,test,21,12,middle"), nor_args(),
         "row 5, column 'novel_side': expected the novel object as L/R or one of", "nor.csv"),
    Case("nor-short-row", nor(NOR_ROW, "C2,test,21"), nor_args(),
         "line 5: expected 5 cells like the header, found 3 (truncated file or d", "nor.csv"),
    Case("nor-long-row", nor(NOR_ROW, NOR_ROW + ",x,y"), nor_args(),
         "line 5: expected 5 cells like the header, found 7", "nor.csv"),
    Case("nor-extra-header-line", nor_file("NOR scoring, rater JB\n" + NOR), nor_args(),
         'not a recognised rodent-cognition file; expected one of "ANY-maze resu', "nor.csv"),
    Case("nor-huge-header-block", nor_file("# scored by hand\n" * 3000 + NOR), nor_args(),
         'not a recognised rodent-cognition file; expected one of "ANY-maze resu', "nor.csv"),
    Case("nor-truncated", nor_file(NOR[: len(NOR) - 7]), nor_args(),
         "line 13: expected 5 cells like the header, found 3 (truncated file or", "nor.csv"),
    # a bad --param names the option, not the study file it was never in
    Case("nor-param-unknown", nor_file(NOR), nor_args("nor.csv", "--param", "colour=red"),
         "--param, key 'colour': unknown key", "--param"),
    Case("nor-param-misspelt", nor_file(NOR),
         nor_args("nor.csv", "--param", "min_test_exploraton_s=5"),
         "--param, key 'min_test_exploraton_s': unknown key (did you mean "
         "'min_test_exploration_s'?)", "--param"),
    Case("nor-param-out-of-range", nor_file(NOR),
         nor_args("nor.csv", "--param", "min_test_exploration_s=-1"),
         "--param, key 'min_test_exploration_s': Input should be greater than", "--param"),
    Case("nor-study-parameter-misspelt", {**nor_file(NOR), "study.yaml": STUDY + (
        "assays:\n  - {assay: nor, protocol: nor-standard, "
        "input: nor.csv, "
        "parameters: {min_test_exploraton_s: 5}}\n")}, nor_args("nor.csv"),
         "key 'assays.nor.parameters.min_test_exploraton_s': unknown key (did you mean "
         "'min_test_exploration_s'?)", "study.yaml"),
    Case("nor-subjects-missing-animal",{**nor_file(NOR), "subjects.csv": SUBJ.replace(
        "H3,H,M\n", "")},
         nor_args(), "row 12: subject(s) 'H3' in the NOR data are not in the study's subject",
         "nor.csv"),
    # --- T-maze arm entries
    Case("tm-empty-file", {**BASE, "entries.csv": ""}, tm_args(), "the file is empty (0 bytes)",
         "entries.csv"),
    # stranger53 T6: a 200 MB one-line file took 70 s and 2.2 GB before "column 'x' appears
    # twice"; a first line longer than 1 MiB is refused before it is split into cells
    Case("tm-header-longer-than-a-mib",
         {**BASE, "entries.csv": ENTRIES.splitlines()[0] + ",x" * 600_000 + "\n"
          + "".join(ENTRIES.splitlines(keepends=True)[1:])}, tm_args(),
         "line 1: the first line (the header) is longer than 1.0 MiB (no line break in the "
         "first 1.0 MiB); a table export's header names its columns: is this a table?",
         "entries.csv"),
    Case("tm-one-line-file", {**BASE, "entries.csv": ENTRIES.splitlines()[0] + ",x" * 600_000},
         tm_args(),
         "line 1: the first line (the header) is longer than 1.0 MiB", "entries.csv"),
    Case("tm-header-only", {**BASE, "entries.csv": ENTRIES.splitlines()[0] + "\n"}, tm_args(),
         "arm-entry-sequence: expected data rows below the header, found none", "entries.csv"),
    Case("tm-text-in-enter", ent(ENTRY_ROW, "C2,2,B,soon,14.0"), tm_args(),
         "row 15, column 'enter_s': expected a finite number >= 0, found 'soon'", "entries.csv"),
    Case("tm-text-in-order", ent(ENTRY_ROW, "C2,two,B,11.0,14.0"), tm_args(),
         "row 15, column 'order': expected a number, found 'two'", "entries.csv"),
    Case("tm-empty-arm", ent(ENTRY_ROW, "C2,2,,11.0,14.0"), tm_args(), "row 15: arm is empty",
         "entries.csv"),
    Case("tm-negative-time", ent(ENTRY_ROW, "C2,2,B,-11.0,14.0"), tm_args(),
         "row 15, column 'enter_s': expected a finite number >= 0, found '-11.0'", "entries.csv"),
    Case("tm-exit-before-enter", ent(ENTRY_ROW, "C2,2,B,11.0,4.0"), tm_args(),
         "row 15: exit time before entry time", "entries.csv"),
    Case("tm-non-monotonic-time", ent(ENTRY_ROW, "C2,2,B,0.5,3.5"), tm_args(),
         "row 15: entry time earlier than the previous entry of this subject", "entries.csv"),
    Case("tm-duplicate-order", ent(ENTRY_ROW, "C2,1,B,11.0,14.0"), tm_args(),
         "row 15: entry order number repeats for this subject", "entries.csv"),
    Case("tm-unknown-animal", ent(ENTRY_ROW, ENTRY_ROW + "\nZZ9,1,A,1.0,2.0"), tm_args(),
         "row 16: subject(s) 'ZZ9' in the T-maze data are not in the study's sub", "entries.csv"),
    Case("tm-na-time", ent(ENTRY_ROW, "C2,2,B,#N/A,14.0"), tm_args(),
         "row 15, column 'enter_s': expected a finite number >= 0, found '#N/A'", "entries.csv"),
    Case("tm-missing-arm-col", {**BASE, "entries.csv": ENTRIES.replace(",arm,", ",zone,", 1)},
         tm_args(), 'not a recognised rodent-cognition file; expected one of "ANY-maze resu',
         "entries.csv"),
    Case("tm-short-row", ent(ENTRY_ROW, "C2,2"), tm_args(),
         "line 15: expected 5 cells like the header, found 2 (truncated file or", "entries.csv"),
    Case("tm-binary", {**BASE, "entries.csv": b"\x00\x01\x02" * 100}, tm_args(),
         'not a recognised rodent-cognition file; expected one of "ANY-maze resu', "entries.csv"),
    # --- T-maze discrete trials
    Case("tt-missing-choice-col", {**BASE, "trials.csv": TRIALS.replace(",choice", ",pick")},
         tm_args("trials.csv", "--protocol", "tmaze-rewarded"),
         "not a recognised rodent-cognition file: a T-maze trial table needs a choice column "
         "named one of 'choice', 'choice_arm'; found ", "trials.csv"),
    Case("tt-empty-subject", tri("C2,2,", ",2,"),
         tm_args("trials.csv", "--protocol", "tmaze-rewarded"),
         "row 9, column 'subject': subject is empty", "trials.csv"),
    Case("tt-duplicate-trial", tri("C2,2,", "C2,1,"),
         tm_args("trials.csv", "--protocol", "tmaze-rewarded"),
         "row 9, column 'trial': trial '1' of subject 'C2' appears more than onc", "trials.csv"),
    Case("tt-unknown-animal", tri("C2,2,", "Q7,2,"),
         tm_args("trials.csv", "--protocol", "tmaze-rewarded"),
         "row 9: subject(s) 'Q7' in the T-maze data are not in the study's subje", "trials.csv"),
    Case("tt-text-latency",{**BASE, "trials.csv": TRIALS.replace(
        "sample,choice\n", "sample,choice,latency\n").replace("\n", ",1.5\n").replace(
        "choice,latency,1.5\n", "choice,latency\n").replace("C2,2,L,R,1.5", "C2,2,L,R,slow")},
         tm_args("trials.csv", "--protocol", "tmaze-rewarded"),
         "row 9, column 'latency': expected a finite number >= 0, found 'slow'", "trials.csv"),
    # --- hostile inputs (attack24)
    Case("nor-column-named-twice", nor(NOR_HEAD, NOR_HEAD.replace("right_s", "left_s")),
         nor_args(), "line 1: column 'left_s' appears twice in the header (columns 3 and 4)",
         "nor.csv"),
    Case("nor-header-repeated-mid-file", nor("H1,training", NOR_HEAD + "\nH1,training"),
         nor_args(), "row 8: this row repeats the header line (two exports joined", "nor.csv"),
    Case("nor-absurdly-large-time", nor(NOR_ROW, "C2,test,1e308,12,L"), nor_args(),
         "line 5, cell 3: value '1e308' is too large to analyse",
         "nor.csv"),
    Case("nor-param-true-for-a-number", nor_file(NOR),
         nor_args("nor.csv", "--param", "min_test_exploration_s=true"),
         "--param, key 'min_test_exploration_s': expected a number, not a true/false value",
         "--param"),
    Case("nor-study-parameter-true", {**nor_file(NOR), "study.yaml": STUDY + (
        "assays:\n  - {assay: nor, protocol: nor-standard, input: nor.csv, "
        "parameters: {min_test_exploration_s: true}}\n")}, nor_args("nor.csv"),
         "key 'assays.nor.parameters.min_test_exploration_s': expected a number, not a "
         "true/false",
         "study.yaml"),
    Case("nor-same-file-twice", nor_file(NOR),
         ("nor", "{dir}/nor.csv", "{dir}/./nor.csv", "--study", "{dir}/study.yaml", "-o",
          "{out}"), "nor.csv' is given twice", "nor.csv"),
    Case("nor-two-exports-joined-with-their-boms",
         nor_file(codecs.BOM_UTF8 + NOR.encode() + codecs.BOM_UTF8 + NOR.encode()), nor_args(),
         "row 14: this row repeats the header line", "nor.csv"),
    Case("nor-password-protected-xlsx", nor_file(ENCRYPTED_XLSX, "nor.xlsx"),
         nor_args("nor.xlsx"), "the workbook is password-protected (encrypted)", "nor.xlsx"),
    Case("nor-old-xls-workbook", nor_file(OLD_XLS, "nor.xls"), nor_args("nor.xls"),
         "an old-format Excel workbook (.xls, BIFF); save it as .xlsx or CSV", "nor.xls"),
    # --- previous output kept
    Case("nor-force-keeps-previous", nor(NOR_ROW, "C2,test,lots,12,L"),
         nor_args("nor.csv", "--force"),
         "row 5, column 'left_s': expected a finite number >= 0, found 'lots'", "nor.csv",
         previous=True),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_rodent_case(case, tmp_path):
    run_case(case, tmp_path)


ACCEPTED = [
    ("utf8-bom", codecs.BOM_UTF8 + NOR.encode(), "encoding utf-8-sig, delimiter ','"),
    ("utf16", NOR.encode("utf-16"), "encoding utf-16, delimiter ','"),
    ("semicolon", NOR.replace(",", ";").encode(), "encoding utf-8, delimiter ';'"),
    ("tab", NOR.replace(",", "\t").encode(), "delimiter tab"),
    ("cp1252", NOR.replace("C1,", "Cé1,").encode("cp1252"), "encoding cp1252"),
    ("utf16-tab-crlf", NOR.replace(",", "\t").replace("\n", "\r\n").encode("utf-16"),
     "encoding utf-16, delimiter tab"),
    ("trailing-empty-columns", "".join(f"{line},,,\n" for line in NOR.splitlines()).encode(),
     "delimiter ','"),
    # a whole Excel row formatted: 16 383 empty columns (minutes in pandas before)
    ("excel-row-wide-empty-tail", "".join(f"{line}{',' * 16383}\n"
                                          for line in NOR.splitlines()).encode(),
     "delimiter ','"),
]


@pytest.mark.parametrize("name, data, note", ACCEPTED, ids=[a[0] for a in ACCEPTED])
def test_nor_dialects_parse_and_guess_is_recorded(tmp_path, name, data, note):
    """Encodings and delimiters the scoring sheet allows parse; the guess is in the notes."""
    subj = SUBJ.replace("C1,", "Cé1,") if name == "cp1252" else SUBJ
    manifest = run_ok({**BASE, "subjects.csv": subj, "nor.csv": data}, nor_args(), tmp_path)
    notes = manifest["notes"]
    assert any("format nor-scoring-sheet (detected)" in n and note in n for n in notes), notes


def test_tmaze_guess_is_recorded(tmp_path):
    """Arm-entry sequences: detected format and text dialect reach the manifest."""
    manifest = run_ok({**BASE, "entries.csv": ENTRIES.encode("utf-16")}, tm_args(), tmp_path)
    assert any("format arm-entry-sequence (detected); read as text: encoding utf-16" in n
               for n in manifest["notes"]), manifest["notes"]


def test_nor_exclusions_reach_manifest(tmp_path):
    """A technical flag in the sheet excludes the animal; the manifest says what and why."""
    sheet = NOR.replace(NOR_HEAD, NOR_HEAD + ",flag").replace(",L\n", ",L,\n")
    sheet = sheet.replace("C2,test,21,12,L,", "C2,test,21,12,L,object moved")
    manifest = run_ok({**BASE, "nor.csv": sheet}, nor_args(), tmp_path)
    hits = [e for e in manifest["exclusions"] if e["subject"] == "C2"]
    assert hits and all("object moved" in e["reason"] for e in hits), manifest["exclusions"]


# --- hand-scored maze sheets (banner rows above the header) and ANY-maze zone samples

SHEET_HEAD = "Subject #,Group,Sex,Arm entries,Notes"
SHEET = ("Y maze scoring sheet,,,,\nScorer: JB,,,,\n,,,,\n" + SHEET_HEAD + "\n" + "".join(
    f"{s},{s[0]},M,{ARMS[i:] + ARMS[:i]},\n" for i, s in enumerate(SUBJECTS)))
SHEET_ROW = "C2,C,M," + ARMS[1:] + ARMS[:1]
ZONES = "Time,Centre posn X,Centre posn Y,In top,In left,In right,In center\n" + "".join(
    f"0:00:{0.5 * k:05.2f},{100 + k},50,{z}\n" for k, z in enumerate(
        ["1,0,0,0", "0,0,0,1", "0,1,0,0", "0,0,0,1", "0,0,1,0", "0,0,0,1"] * 3))
ZONE_ROW = "0:00:01.00,102,50,0,1,0,0"


def sheet(old: str, new: str) -> dict:
    return edited(SHEET, "sheet.csv", old, new)


def zones(old: str, new: str) -> dict:
    return edited(ZONES, "C1.csv", old, new)


def with_animal(last: str) -> str:
    """The zone file with an Animal column: C1 on every sample but the last."""
    lines = ZONES.splitlines()
    body = [f"{line},C1" for line in lines[1:-1]] + [f"{lines[-1]},{last}"]
    return "\n".join([lines[0] + ",Animal", *body]) + "\n"


def zm_args(*extra: str) -> tuple[str, ...]:
    return tm_args("C1.csv", "--param", "min_entries=3", *extra)


MAZE_CASES = [
    Case("sheet-bad-character", sheet(SHEET_ROW, "C2,C,M,ABX?C"), tm_args("sheet.csv"),
         "row 6, column 'Arm entries': expected arm labels such as 'ABCACB' or 'A B C'",
         "sheet.csv"),
    Case("sheet-empty-sequence", sheet(SHEET_ROW, "C2,C,M,"), tm_args("sheet.csv"),
         "row 6, column 'Arm entries': no arm entries for subject 'C2' (score the anim",
         "sheet.csv"),
    Case("sheet-empty-subject", sheet(SHEET_ROW, ",C,M,ABCAB"), tm_args("sheet.csv"),
         "row 6, column 'Subject #': subject is empty", "sheet.csv"),
    Case("sheet-duplicate-animal", sheet(SHEET_ROW, SHEET_ROW + "\n" + SHEET_ROW),
         tm_args("sheet.csv"), "row 7, column 'Arm entries': subject 'C2' has more than one "
         "sequence", "sheet.csv"),
    Case("sheet-unknown-animal", sheet(SHEET_ROW, "Q9,C,M,ABCABC"), tm_args("sheet.csv"),
         "row 6: subject(s) 'Q9' in the T-maze data are not in the study's subjects",
         "sheet.csv"),
    Case("sheet-group-disagrees", sheet(SHEET_ROW, "C2,H,M,ABCABC"), tm_args("sheet.csv"),
         "row 6: subject 'C2': the sheet gives group 'H', the subjects file says 'C' (Control)",
         "sheet.csv"),
    Case("sheet-header-only", {**BASE, "sheet.csv": SHEET.split(SHEET_HEAD)[0] + SHEET_HEAD},
         tm_args("sheet.csv"), "maze-scoring-sheet: expected data rows below the header, "
         "found none", "sheet.csv"),
    Case("sheet-header-too-low", {**BASE, "sheet.csv": ",,,,\n" * 40 + SHEET}, tm_args(
        "sheet.csv"), 'not a recognised rodent-cognition file; expected one of "ANY-maze resu',
         "sheet.csv"),
    Case("sheet-nul", sheet(SHEET_ROW, "C2,C,M,AB\x00C"), tm_args("sheet.csv"),
         "line 6, cell 4: NUL character in a text file", "sheet.csv"),
    Case("sheet-corrupt-xlsx", {**BASE, "sheet.xlsx": b"PK\x03\x04" + b"\x01" * 80},
         tm_args("sheet.xlsx"), "cannot open as an xlsx workbook", "sheet.xlsx"),
    Case("zones-bad-time", zones(ZONE_ROW, "1 min,102,50,0,1,0,0"), zm_args(),
         "row 4, column 'Time': expected a time like '0:01:02.50' or seconds, found '1 min'",
         "C1.csv"),
    Case("zones-time-backwards", zones(ZONE_ROW, "0:00:00.10,102,50,0,1,0,0"), zm_args(),
         "row 4, column 'Time': time '0:00:00.10' is earlier than the sample before it",
         "C1.csv"),
    Case("zones-not-zero-one", zones(ZONE_ROW, "0:00:01.00,102,50,0,yes,0,0"), zm_args(),
         "row 4, column 'In left': expected a number, found 'yes'", "C1.csv"),
    Case("zones-two", zones(ZONE_ROW, "0:00:01.00,102,50,0,2,0,0"), zm_args(),
         "row 4, column 'In left': expected 0 or 1 (zone membership), found '2'", "C1.csv"),
    Case("zones-two-arms-at-once", zones(ZONE_ROW, "0:00:01.00,102,50,1,1,0,0"), zm_args(),
         "sample at 1 s is in two arm zones ('left', 'top')", "C1.csv"),
    Case("zones-unknown-zone-arm", {**BASE, "C1.csv": ZONES},
         zm_args("--param", "zone_arms={top: A, middle: B}"),
         "zone(s) 'middle' of zone_arms not in the file; zones of point 'center':", "C1.csv"),
    Case("zones-one-arm", {**BASE, "C1.csv": ZONES}, zm_args("--param", "centre_zones=.*"),
         "expected at least 2 arm zones of point 'center', found nothing (zones: 'center', "
         "'left', 'right', 'top'; set zone_arms or centre_zones)", "C1.csv"),
    Case("zones-header-only", {**BASE, "C1.csv": ZONES.splitlines()[0] + "\n"}, zm_args(),
         "anymaze-zone-samples: expected data rows below the header, found none", "C1.csv"),
    Case("zones-subject-from-name-unknown", {**BASE, "Z7.csv": ZONES},
         tm_args("Z7.csv", "--param", "min_entries=3"),
         "subject(s) 'Z7' in the T-maze data are not in the study's subjects file", "Z7.csv"),
    Case("zones-two-animals", {**BASE, "C1.csv": with_animal("C3")}, zm_args(),
         "expected one value in column 'Animal' (one test per file), found 'C1', 'C3'",
         "C1.csv"),
]


@pytest.mark.parametrize("case", MAZE_CASES, ids=[c.id for c in MAZE_CASES])
def test_maze_case(case, tmp_path):
    run_case(case, tmp_path)


def test_maze_sheet_and_zone_runs_record_conventions(tmp_path):
    """Both formats run; the re-entry rule and the zone rule reach the manifest."""
    manifest = run_ok({**BASE, "sheet.csv": SHEET}, tm_args("sheet.csv"), tmp_path / "a")
    assert any("reentries: counted" in c for c in manifest["parameters"]["conventions"])
    manifest = run_ok({**BASE, "C1.csv": ZONES}, zm_args("--param", "reentries=collapsed"),
                      tmp_path / "b")
    conv = " ".join(manifest["parameters"]["conventions"])
    assert "reentries: collapsed" in conv and "no_zone_samples: exit" in conv
    assert any("subject 'C1' taken from the file name" in n for n in manifest["notes"])


def _exploration(manifest_folder) -> dict:
    import pandas as pd

    t = pd.read_csv(manifest_folder / "out" / "endpoints.csv")
    rows = t[t["endpoint"] == "nor_total_exploration"]
    return dict(zip(rows["subject"], rows["value"], strict=True))


@pytest.mark.parametrize("sheet", [
    NOR.replace(",", ";").replace("C2;test;21;12", "C2;test;21,5;12"),
    NOR.replace(",", "\t").replace("C2\ttest\t21\t12", "C2\ttest\t21,5\t12"),
    NOR.replace(",", ";").replace("C2;test;21;12", "C2;test;1.021,5;12"),
], ids=["semicolon", "tab", "thousands-dot"])
def test_nor_decimal_commas_give_the_numbers(tmp_path, sheet):
    """European ';'/tab sheets with decimal commas load with the right values (21,5 s is
    21.5 s; 1.021,5 s is 1021.5 s) and say so; before, the cell was an error."""
    manifest = run_ok({**BASE, "nor.csv": sheet}, nor_args(), tmp_path)
    assert any("decimal commas read as decimal points" in n for n in manifest["notes"])
    expected = 1021.5 + 12 if "1.021,5" in sheet else 21.5 + 12
    assert _exploration(tmp_path)["C2"] == pytest.approx(expected)
    assert _exploration(tmp_path)["C1"] == pytest.approx(20 + 11)


@pytest.mark.parametrize("name", ["nor.csv", "nor.xlsx"])
def test_nor_workbook_read_by_content_whatever_its_name(tmp_path, name):
    """An xlsx saved as 'nor.csv' is read as the workbook it is (openpyxl refused the name);
    a CSV saved as 'nor.xlsx' is read as text."""
    data = xlsx_bytes(("Scores", csv_rows(NOR))) if name == "nor.csv" else NOR
    run_ok({**BASE, name: data}, nor_args(name), tmp_path)
    assert _exploration(tmp_path)["C2"] == pytest.approx(21 + 12)
