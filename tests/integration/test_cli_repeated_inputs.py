"""One animal's data in two input files, or one file listed twice: refused, naming both.

stranger29 F3/F4: a T-maze animal found in two files was merged into one
interleaved sequence (alternation 0 %); a study listing its input twice did the
same to every animal; NOR refused a copy with a message naming no file.
"""

from __future__ import annotations

import json
import shutil

import pandas as pd
import pytest


@pytest.fixture
def tmaze_study(tmp_path, invoke):
    assert invoke("simulate", "tmaze", "-o", tmp_path / "sim").exit_code == 0
    return tmp_path / "sim"


@pytest.fixture
def nor_sheet_study(tmp_path, invoke):
    """A simulated NOR study whose input is a CSV scoring sheet (training + test rows)."""
    assert invoke("simulate", "nor", "-o", tmp_path / "sim").exit_code == 0
    sim = tmp_path / "sim"
    subjects = pd.read_csv(sim / "subjects.csv")["subject"].tolist()[:6]
    rows = [(s, phase, 20.0, 20.0 + k) if phase == "training" else (s, phase, 12.0, 28.0 + k)
            for k, s in enumerate(subjects) for phase in ("training", "test")]
    sheet = pd.DataFrame(rows, columns=["subject", "phase", "left_s", "right_s"])
    sheet["novel_side"] = "R"
    return sim, sheet


def _resaved(src, dst):
    """The same table saved again with Windows line ends: other bytes, the same rows."""
    dst.write_bytes(src.read_bytes().replace(b"\n", b"\r\n"))
    return dst


def test_tmaze_same_animal_in_two_files_is_refused(tmaze_study, tmp_path, invoke):
    entries = tmaze_study / "tmaze_entries.csv"
    copy = _resaved(entries, tmp_path / "copy.csv")
    one = tmp_path / "g1f01.csv"
    df = pd.read_csv(entries)
    df[df["subject"] == "G1F01"].to_csv(one, index=False)
    for other, subject in ((copy, min(df["subject"])), (one, "G1F01")):
        r = invoke("tmaze", entries, other, "--study", tmaze_study / "study.yaml",
                   "-o", tmp_path / "o")
        assert r.exit_code == 2, r.output
        assert (f"Error: {other}: subject {subject!r}: arm entries found in two input files, "
                f"{entries} and {other}; give each animal's arm entries in one file, or tell "
                "its sessions apart by condition (a copy or re-export given as well?)") in r.output
        assert not (tmp_path / "o").exists()


def test_a_byte_copy_of_an_input_is_refused(tmaze_study, tmp_path, invoke):
    entries = tmaze_study / "tmaze_entries.csv"
    shutil.copy(entries, tmaze_study / "copy.csv")
    r = invoke("tmaze", entries, tmaze_study / "copy.csv", "--study", tmaze_study / "study.yaml",
               "-o", tmp_path / "o")
    assert r.exit_code == 2
    assert (f"the files '{entries}' and '{tmaze_study / 'copy.csv'}' hold the same bytes (a copy "
            "given as well?); give each input once") in r.output
    study = tmaze_study / "study.yaml"
    study.write_text(study.read_text().replace("  input: tmaze_entries.csv\n",
                                               "  input: [tmaze_entries.csv, copy.csv]\n"))
    r = invoke("check", study)
    assert r.exit_code == 2
    assert (f"{study}, key 'assays.tmaze.input[1]': the inputs 'tmaze_entries.csv' and "
            "'copy.csv' hold the same bytes (a copy listed as well?); list each input file "
            "once") in r.output


def test_cipn_same_measurement_in_two_files_names_both(tmp_path, invoke):
    assert invoke("simulate", "cipn", "-o", tmp_path / "sim").exit_code == 0
    sim = tmp_path / "sim"
    sensory = sim / "sensory.csv"
    copy = _resaved(sensory, tmp_path / "sensory_again.csv")
    r = invoke("cipn", sensory, copy, "--study", sim / "study.yaml", "-o", tmp_path / "o")
    assert r.exit_code == 2, r.output
    first = pd.read_csv(sensory, dtype=str).sort_values(["subject", "test", "day"]).iloc[0]
    assert (f"Error: {copy}: subject {first['subject']!r} (test {first['test']!r}, timepoint "
            f"{first['day']!r}): measurement found in two input files, {sensory} and "
            f"{copy}; give each animal's measurement in one file") in r.output
    r = invoke("cipn", sensory, sim / "ienfd.csv", "--study", sim / "study.yaml",
               "-o", tmp_path / "ok")
    assert r.exit_code == 0, r.output


def test_tmaze_animals_split_over_two_files_are_analysed_as_one(tmaze_study, tmp_path, invoke):
    df = pd.read_csv(tmaze_study / "tmaze_entries.csv")
    males = df["subject"].str.contains("M")
    df[males].to_csv(tmp_path / "males.csv", index=False)
    df[~males].to_csv(tmp_path / "females.csv", index=False)
    r = invoke("tmaze", tmp_path / "males.csv", tmp_path / "females.csv",
               "--study", tmaze_study / "study.yaml", "-o", tmp_path / "o")
    assert r.exit_code == 0, r.output
    truth = json.loads((tmaze_study / "truth.json").read_text())["alternation_pct"]
    ep = pd.read_csv(tmp_path / "o" / "endpoints.csv")
    alt = ep[ep["endpoint"] == "tmaze_alternation_pct"].set_index("subject")["value"]
    assert len(alt) == len(truth)
    for subject, value in truth.items():
        assert alt[subject] == pytest.approx(value, abs=1e-5)


@pytest.mark.parametrize("inputs, second", [
    ("[tmaze_entries.csv, tmaze_entries.csv]", "tmaze_entries.csv"),
    ("[tmaze_entries.csv, ./tmaze_entries.csv]", "./tmaze_entries.csv"),
    ("[tmaze_entries.csv, '*.csv']", "*.csv"),
])
def test_study_listing_an_input_twice_is_refused(tmaze_study, tmp_path, invoke, inputs, second):
    study = tmaze_study / "study.yaml"
    text = study.read_text()
    assert "  input: tmaze_entries.csv\n" in text
    study.write_text(text.replace("  input: tmaze_entries.csv\n", f"  input: {inputs}\n"))
    if second == "*.csv":
        (tmaze_study / "subjects.csv").rename(tmaze_study / "subjects.tsv")
        study.write_text(study.read_text().replace("subjects.csv", "subjects.tsv"))
    message = (f"{study}, key 'assays.tmaze.input[1]': input {second!r} names the file "
               "'tmaze_entries.csv' a second time (input[0] is 'tmaze_entries.csv'); list each "
               "input file once")
    for args in (("check", study), ("tmaze", "--study", study, "-o", tmp_path / "o"),
                 ("report", study, "--format", "csv", "-o", tmp_path / "r")):
        r = invoke(*args)
        assert r.exit_code == 2 and message in r.output, r.output


def test_nor_copy_of_the_input_is_refused_naming_both_files(nor_sheet_study, tmp_path, invoke):
    sim, sheet = nor_sheet_study
    sheet.to_csv(tmp_path / "nor.csv", index=False)
    _resaved(tmp_path / "nor.csv", tmp_path / "copy.csv")
    first = min(sheet["subject"])
    r = invoke("nor", tmp_path / "nor.csv", tmp_path / "copy.csv", "--study", sim / "study.yaml",
               "-o", tmp_path / "o")
    assert r.exit_code == 2, r.output
    assert (f"Error: {tmp_path / 'copy.csv'}: subject {first!r} (phase 'test'): exploration "
            f"found in two input files, {tmp_path / 'nor.csv'} and {tmp_path / 'copy.csv'}; "
            "give each animal's exploration in one file") in r.output


def test_nor_training_and_test_in_separate_files_pass(nor_sheet_study, tmp_path, invoke):
    sim, sheet = nor_sheet_study
    sheet[sheet["phase"] == "training"].to_csv(tmp_path / "training.csv", index=False)
    sheet[sheet["phase"] == "test"].to_csv(tmp_path / "test.csv", index=False)
    r = invoke("nor", tmp_path / "training.csv", tmp_path / "test.csv",
               "--study", sim / "study.yaml", "-o", tmp_path / "o")
    assert r.exit_code == 0, r.output
    ep = pd.read_csv(tmp_path / "o" / "endpoints.csv")
    di = ep[ep["endpoint"] == "nor_discrimination_index"].set_index("subject")["value"]
    # novel right: (R - L) / (R + L) with L = 12 s, R = 28 + k s
    for k, subject in enumerate(sheet["subject"].unique()):
        assert di[subject] == pytest.approx((16 + k) / (40 + k))
