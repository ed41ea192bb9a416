"""Malformed neurobehavioural-battery inputs through ``neurotox report``.

A tiny OECD TG 424-style study (2 groups x 3 males) with brain weights, motor
activity, startle, FOB and neuropathology files written by the tests; each case
damages one file.
"""

from __future__ import annotations

import codecs

import pytest

from tests.robustness.corpus import Case, run_case, run_ok

ANIMALS = ("C1", "C2", "C3", "H1", "H2", "H3")
STUDY = """\
study_id: B-1
title: Battery robustness
test_item: X
species: rat
groups:
  - {id: C, label: Control, dose: 0, dose_unit: mg/kg/day, control: true}
  - {id: H, label: High, dose: 100, dose_unit: mg/kg/day}
subjects: subjects.csv
assays:
  - {assay: brain_weight, protocol: brain-weight-standard, input: brain.csv}
  - {assay: motor_activity, protocol: motor-activity-standard, input: motor.csv}
  - {assay: startle, protocol: startle-standard, input: startle.csv}
  - {assay: fob, protocol: fob-standard, input: fob.csv}
  - {assay: neuropathology, protocol: neuropathology-standard, input: path.csv}
"""
SUBJ = "subject,group,sex\n" + "".join(f"{a},{a[0]},M\n" for a in ANIMALS)
BRAIN = "subject,body_weight,brain_weight\n" + "".join(
    f"{a},{330 + 5 * i:.1f},{2.0 + 0.02 * i:.3f}\n" for i, a in enumerate(ANIMALS))
MOTOR = "subject,session,0-10 min,10-20 min,20-30 min\n" + "".join(
    f"{a},week4,{400 + 10 * i},{250 + 5 * i},{150 + i}\n" for i, a in enumerate(ANIMALS))
STARTLE = "subject,session,block,trial,trial_type,prepulse_db,amplitude,latency\n" + "".join(
    f"{a},week4,1,{t + 1},{'pulse' if t % 2 == 0 else 'prepulse'},{'' if t % 2 == 0 else 75},"
    f"{500 + 10 * i - 100 * (t % 2)},{20 + t}\n" for i, a in enumerate(ANIMALS) for t in range(4))
FOB = "subject,occasion,posture,gait_score,grip_fore_1,body_temperature\n" + "".join(
    f"{a},week4,sitting,1,{900 + 10 * i},37.{i}\n" for i, a in enumerate(ANIMALS))
PATH = "subject,tissue,lesion,grade\n" + "".join(f"{a},,NAD,\n" for a in ANIMALS)
BASE = {"study.yaml": STUDY, "subjects.csv": SUBJ, "brain.csv": BRAIN, "motor.csv": MOTOR,
        "startle.csv": STARTLE, "fob.csv": FOB, "path.csv": PATH}
RP = ("--quiet", "report", "{dir}/study.yaml", "--format", "csv", "-o", "{out}")


def edit(name: str, old: str, new: str) -> dict:
    assert old in BASE[name], (name, old)
    return {**BASE, name: BASE[name].replace(old, new, 1)}


def put(name: str, data: str | bytes) -> dict:
    return {**BASE, name: data}


CASES = [
    # --- brain weights
    Case("bw-empty", put("brain.csv", ""), RP, "file is empty", "brain.csv"),
    Case("bw-header-only", put("brain.csv", "subject,body_weight,brain_weight\n"), RP,
         "sheet has no data rows", "brain.csv"),
    Case("bw-missing-column", edit("brain.csv", ",brain_weight", ",brain"), RP,
         "expected organ weight column(s) 'brain_weight', found 'body_weight', '", "brain.csv"),
    Case("bw-text", edit("brain.csv", "C2,335.0,2.020", "C2,335.0,heavy"), RP,
         "row 3, column 'brain_weight': expected a number > 0, found 'heavy'", "brain.csv"),
    Case("bw-negative", edit("brain.csv", "C2,335.0,2.020", "C2,335.0,-2.02"), RP,
         "row 3, column 'brain_weight': expected a number > 0, found '-2.02'", "brain.csv"),
    Case("bw-na", edit("brain.csv", "C2,335.0,2.020", "C2,335.0,#N/A"), RP,
         "row 3, column 'brain_weight': expected a number > 0, found '#N/A'", "brain.csv"),
    Case("bw-duplicate-animal",
         edit("brain.csv", "C2,335.0,2.020\n", "C2,335.0,2.020\nC2,335.0,2.020\n"), RP,
         "row 4, column 'timepoint': animal × timepoint subject='C2', timepoint=", "brain.csv"),
    Case("bw-unknown-animal", edit("brain.csv", "C2,", "X9,"), RP,
         "row 3, column 'subject': animal 'X9' is not in the study's subjects fi", "brain.csv"),
    Case("bw-short-row", edit("brain.csv", "C2,335.0,2.020", "C2,335.0"), RP,
         "line 3: expected 3 cells like the header, found 2 (truncated file or d", "brain.csv"),
    Case("bw-long-row", edit("brain.csv", "C2,335.0,2.020", "C2,335.0,2.020,1,2"), RP,
         "cannot read as a table: Error tokenizing data. C error: Expected 3 fields", "brain.csv"),
    Case("bw-binary", put("brain.csv", bytes(range(256)) * 3), RP,
         "cannot decode as cp1252 text (byte 129)", "brain.csv"),
    Case("bw-extra-header-line", put("brain.csv", "Necropsy export 2026\n" + BRAIN), RP,
         "expected organ weight column(s) 'body_weight', 'brain_weight', 'subjec", "brain.csv"),
    Case("bw-huge-header-block", put("brain.csv", "# LIMS export\n" * 3000 + BRAIN), RP,
         "cannot read as a table: Error tokenizing data. C error: Expected 1 fields", "brain.csv"),
    Case("bw-truncated", put("brain.csv", BRAIN[:-9]), RP,
         "line 7: expected 3 cells like the header, found 2 (truncated file or d", "brain.csv"),
    # --- motor activity
    Case("ma-negative-count", edit("motor.csv", "C2,week4,410", "C2,week4,-410"), RP,
         "row 3, column '0-10_min': expected a number >= 0, found '-410'", "motor.csv"),
    Case("ma-text-count", edit("motor.csv", "C2,week4,410", "C2,week4,many"), RP,
         "row 3, column '0-10_min': expected a number >= 0, found 'many'", "motor.csv"),
    Case("ma-dash-count", edit("motor.csv", "C2,week4,410", "C2,week4,-"), RP,
         "row 3, column '0-10_min': expected a number >= 0, found '-'", "motor.csv"),
    Case("ma-no-intervals", put("motor.csv", "subject,session,total\nC1,week4,3\n"), RP,
         "expected long columns 'interval', 'counts' or wide interval columns li", "motor.csv"),
    Case("ma-duplicate-animal", edit("motor.csv", "C2,week4", "C1,week4"), RP,
         "row 3, column 'interval': animal × session × interval subject='C1', se", "motor.csv"),
    Case("ma-unknown-animal", edit("motor.csv", "C2,week4", "Q2,week4"), RP,
         "row 3, column 'subject': animal 'Q2' is not in the study's subjects fi", "motor.csv"),
    Case("ma-empty", put("motor.csv", ""), RP, "file is empty", "motor.csv"),
    # --- startle
    Case("st-unknown-trial-type", edit("startle.csv", ",prepulse,", ",loud,"), RP,
         "row 3, column 'trial_type': unknown trial type 'loud'; expected one of", "startle.csv"),
    Case("st-text-amplitude",
         edit("startle.csv", "C2,week4,1,1,pulse,,510", "C2,week4,1,1,pulse,,big"), RP,
         "row 6, column 'amplitude': expected a number, found 'big'", "startle.csv"),
    Case("st-negative-latency",
         edit("startle.csv", "C2,week4,1,1,pulse,,510,20", "C2,week4,1,1,pulse,,510,-20"), RP,
         "row 6, column 'latency': expected a number >= 0, found '-20'", "startle.csv"),
    Case("st-duplicate-trial", edit("startle.csv", "C2,week4,1,2,", "C2,week4,1,1,"), RP,
         "row 7, column 'trial': animal × session × trial subject='C2', session=", "startle.csv"),
    Case("st-missing-amplitude-col", edit("startle.csv", ",amplitude,", ",amp,"), RP,
         "expected startle column(s) 'amplitude', found 'amp', 'block', 'latency", "startle.csv"),
    Case("st-text-trial", edit("startle.csv", "C2,week4,1,2,", "C2,week4,1,two,"), RP,
         "row 7, column 'trial': expected a number >= 1, found 'two'", "startle.csv"),
    # --- FOB
    Case("fob-duplicate-animal", edit("fob.csv", "C2,week4", "C1,week4"), RP,
         "row 3, column 'occasion': animal × occasion subject='C1', occasion='we", "fob.csv"),
    Case("fob-unknown-animal", edit("fob.csv", "C2,week4", "Z2,week4"), RP,
         "row 3, column 'subject': animal 'Z2' is not in the study's subjects fi", "fob.csv"),
    Case("fob-bad-score", edit("fob.csv", "C2,week4,sitting,1", "C2,week4,sitting,9"), RP,
         "row 3, column 'gait_score': score '9' is outside the scale 1-4 of item", "fob.csv"),
    Case("fob-text-grip", edit("fob.csv", "C2,week4,sitting,1,910", "C2,week4,sitting,1,firm"), RP,
         "row 3, column 'grip_fore_1': expected a number for item 'grip_fore', f", "fob.csv"),
    Case("fob-no-subject-col", edit("fob.csv", "subject,occasion", "animal_code,occasion"), RP,
         "expected FOB column(s) 'subject', found 'animal_code', 'body_temperatu", "fob.csv"),
    # --- neuropathology
    Case("np-bad-grade", put("path.csv", PATH.replace("C2,,NAD,", "C2,hippocampus,gliosis,9")), RP,
         "row 3, column 'grade': severity grade '9' is not 1-5 or one of 'marked", "path.csv"),
    Case("np-unknown-animal", put("path.csv", PATH.replace("C2,", "Y2,")), RP,
         "row 3, column 'subject': animal 'Y2' is not in the study's subjects fi", "path.csv"),
    Case("np-text-grade", put("path.csv", PATH.replace("C2,,NAD,", "C2,hippocampus,gliosis,bad")),
         RP, "row 3, column 'grade': severity grade 'bad' is not 1-5 or one of 'mark", "path.csv"),
    # --- study-level
    Case("study-input-missing", {k: v for k, v in BASE.items() if k != "motor.csv"}, RP,
         "key 'assays.motor_activity.input[0]': input 'motor.csv' not found", "study.yaml"),
    # --- hostile inputs (attack24): a quoted '1,400' in a comma file was read as 1.4
    Case("ma-quoted-thousands", edit("motor.csv", "C2,week4,410,", 'C2,week4,"1,410",'), RP,
         "row 3, column '0-10_min': expected a number >= 0, found '1,410'", "motor.csv"),
    Case("bw-column-named-twice", put("brain.csv", BRAIN.replace("body_weight,", "brain_weight,")),
         RP, "column 'brain_weight' appears twice in the header", "brain.csv"),
    Case("bw-force-keeps-previous", edit("brain.csv", "C2,335.0,2.020", "C2,335.0,heavy"),
         (*RP[:-1], "{out}", "--force"),
         "row 3, column 'brain_weight': expected a number > 0, found 'heavy'", "brain.csv",
         previous=True),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_report_case(case, tmp_path):
    run_case(case, tmp_path)


ACCEPTED = [
    ("utf8-bom", codecs.BOM_UTF8 + BRAIN.encode(), "encoding utf-8-sig"),
    ("semicolon-decimal-comma", BRAIN.replace(",", ";").replace(".", ",").encode(),
     "delimiter ';'"),
    ("utf16", BRAIN.encode("utf-16"), "encoding utf-16"),
]


@pytest.mark.parametrize("name, data, note", ACCEPTED, ids=[a[0] for a in ACCEPTED])
def test_battery_dialects_parse_and_guess_is_recorded(tmp_path, name, data, note):
    """Encodings and delimiters a sheet may have parse; the guess reaches the manifest."""
    manifest = run_ok(put("brain.csv", data), RP, tmp_path)
    assert any("brain.csv" in n and note in n for n in manifest["notes"]), manifest["notes"]


def test_constant_body_weight_skips_the_ancova_with_a_reason(tmp_path):
    """One body weight for every animal: no ANCOVA (the design is singular; before, it ran
    with rank warnings and a division by zero), and the notes say why."""
    brain = "subject,body_weight,brain_weight\n" + "".join(
        f"{a},330.0,{2.0 + 0.02 * i:.3f}\n" for i, a in enumerate(ANIMALS))
    manifest = run_ok(put("brain.csv", brain), RP, tmp_path)
    assert any("brain weight ANCOVA, sex M: not run: the covariate has the same value (330)"
               in n for n in manifest["notes"]), manifest["notes"]
