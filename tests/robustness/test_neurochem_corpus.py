"""Malformed neurochemistry inputs through ``neurotox neurochem``: one line, exit 2, no output."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.robustness.corpus import ENCRYPTED_XLSX, Case, run_case, run_ok

DATA = Path(__file__).resolve().parents[1] / "data" / "neurochem"
XP = (DATA / "xponent_small.csv").read_text(encoding="utf-8")
GEN5 = (DATA / "gen5_small.txt").read_text(encoding="utf-8")
KIN = (DATA / "gen5_kinetic_small.txt").read_text(encoding="utf-8")
TABLE = (DATA / "plate_table_small.csv").read_text(encoding="utf-8")
SAMPLES = (DATA / "samples_small.csv").read_text(encoding="utf-8")
STUDY = """\
study_id: NC-1
title: Neurochemistry robustness
test_item: X
groups:
  - {id: C, label: Control, dose: 0, dose_unit: mg/kg, control: true}
  - {id: H, label: High, dose: 5, dose_unit: mg/kg}
subjects: subjects.csv
"""
SUBJ = "subject,group,sex\nR01,C,M\nR02,C,M\nR03,H,M\n"
XP_SHEET = "sample,subject,matrix\nR01,R01,serum\nR02,R02,serum\nR03,R03,serum\n"
KIN_SHEET = ("sample,subject,matrix,tissue_mg,homogenate_ml\nSPL1,R01,cortex,100,1\n"
             "SPL2,R02,cortex,100,1\nSPL3,R03,cortex,100,1\n")
BASE = {"study.yaml": STUDY, "subjects.csv": SUBJ}


def args(*names: str, protocol: str = "multiplex-cytokines", extra: tuple = ()) -> tuple:
    return ("neurochem", *(f"{{dir}}/{n}" for n in names), "--study", "{dir}/study.yaml",
            "--protocol", protocol, *extra, "--no-figures", "-o", "{out}")


def xp(old: str, new: str) -> dict:
    assert old in XP, old
    return {**BASE, "xp.csv": XP.replace(old, new, 1), "samples.csv": XP_SHEET}


CASES = [
    # --- hostile inputs (attack24); a column named twice ran into a traceback
    Case("table-column-named-twice", {**BASE, "t.csv": TABLE.replace("dilution,od", "od,od"),
                                      "samples.csv": SAMPLES},
         args("t.csv", "samples.csv", protocol="elisa-4pl", extra=("--param", "analyte=gfap")),
         "line 1: column 'od' appears twice in the header (columns 5 and 6)", "t.csv"),
    Case("table-header-repeated", {**BASE, "t.csv": TABLE + TABLE.splitlines()[0] + "\n",
                                   "samples.csv": SAMPLES},
         args("t.csv", "samples.csv", protocol="elisa-4pl", extra=("--param", "analyte=gfap")),
         "this row repeats the header line", "t.csv"),
    Case("table-password-protected", {**BASE, "t.xlsx": ENCRYPTED_XLSX, "samples.csv": SAMPLES},
         args("t.xlsx", "samples.csv", protocol="elisa-4pl", extra=("--param", "analyte=gfap")),
         "the workbook is password-protected (encrypted)", "t.xlsx"),
    Case("xponent-truncated", {**BASE, "xp.csv": XP[: XP.index("DataType:,Net MFI")],
                               "samples.csv": XP_SHEET},
         args("xp.csv", "samples.csv"), "truncated xPONENT export", "xp.csv"),
    Case("xponent-bad-location", xp('"5(1,E1)"', '"5(1,Q99)"'), args("xp.csv", "samples.csv"),
         "expected a location like", "xp.csv"),
    Case("xponent-standards-unrepairable", xp("Standard3,62.5,125", "Standard3,6.2,125"),
         args("xp.csv", "samples.csv"), "not monotone and cannot be repaired", "xp.csv"),
    Case("xponent-text-in-net-mfi", xp('"13(1,E2)",R01,', '"13(1,E2)",R01,x'),
         args("xp.csv", "samples.csv"), "expected a number", "xp.csv"),
    Case("xponent-unknown-analyte", {**BASE, "xp.csv": XP.replace("IL6,IP10", "IL-66,IP10"),
                                     "samples.csv": XP_SHEET},
         args("xp.csv", "samples.csv"), "did you mean 'il6'", "xp.csv"),
    Case("sample-sheet-unknown-subject",
         {**BASE, "xp.csv": XP, "samples.csv": XP_SHEET.replace("R03,R03", "R03,R99")},
         args("xp.csv", "samples.csv"), "subject 'R99' is not in the study", "samples.csv"),
    Case("no-sample-maps", {**BASE, "xp.csv": XP},
         args("xp.csv", extra=("--param", "samples={pattern: 'X(?P<subject>.+)'}")),
         "no sample of the exports maps to a study subject; give a sample sheet (sample, "
         "subject, matrix …) or parameter 'samples.pattern'; the exports' sample IDs: 'R01', "
         "'R02', 'R03'", "xp.csv"),
    Case("gen5-no-layout", {**BASE, "g.txt": GEN5.replace("Well ID", "Name"),
                            "samples.csv": XP_SHEET},
         args("g.txt", "samples.csv", protocol="elisa-4pl", extra=("--param", "analyte=gfap")),
         "expected a 'Layout' grid", "g.txt"),
    Case("gen5-no-analyte", {**BASE, "g.txt": GEN5, "samples.csv": XP_SHEET},
         args("g.txt", "samples.csv", protocol="elisa-4pl"),
         "set the parameter 'analyte'", "g.txt"),
    Case("table-bad-well", {**BASE, "t.csv": TABLE.replace("G2,", "Q2,"),
                            "samples.csv": SAMPLES},
         args("t.csv", "samples.csv", protocol="elisa-4pl", extra=("--param", "analyte=gfap")),
         "expected a well like 'A1' or 'A01', found 'Q2'", "t.csv"),
    Case("table-tissue-without-normalisation", {**BASE, "t.csv": TABLE, "samples.csv": SAMPLES,
                                                "subjects.csv": SUBJ + "R04,H,M\n"},
         args("t.csv", "samples.csv", protocol="elisa-4pl",
              extra=("--param", "analyte=gfap", "--param", "normalisation=none")),
         "is a tissue homogenate", "t.csv"),
    Case("kinetic-two-reads", {**BASE, "k.txt": "\n".join(KIN.splitlines()[:-4]) + "\n",
                               "samples.csv": KIN_SHEET},
         args("k.txt", "samples.csv", protocol="cholinesterase-ellman"),
         "a rate needs at least 3", "k.txt"),
    Case("protocol-typo", {**BASE, "xp.csv": XP}, args("xp.csv", protocol="multiplex-cytokine"),
         "unknown protocol 'multiplex-cytokine'", "multiplex-cytokine"),
    Case("param-unknown-key", {**BASE, "xp.csv": XP},
         args("xp.csv", extra=("--param", "weigthing=1/y")),
         "key 'weigthing': unknown key (did you mean 'weighting'?)", "--param"),
    Case("previous-output-kept", xp("Standard3,62.5,125", "Standard3,6.2,125"),
         args("xp.csv", "samples.csv", extra=("--force",)), "cannot be repaired", "xp.csv",
         previous=True),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_malformed_neurochem_input(case, tmp_path):
    run_case(case, tmp_path)


def test_the_corpus_base_runs(tmp_path):
    manifest = run_ok({**BASE, "xp.csv": XP, "samples.csv": XP_SHEET},
                      args("xp.csv", "samples.csv",
                           extra=("--param", "min_standard_levels=5")), tmp_path)
    assert any("15625 → 15.625" in n for n in manifest["notes"])


def test_european_plate_table_reads_like_the_csv(tmp_path):
    """';' and decimal commas give the same concentrations as the plain table."""
    import pandas as pd

    extra = ("--param", "analyte=gfap")
    (tmp_path / "a").mkdir()
    run_ok({**BASE, "t.csv": TABLE, "samples.csv": SAMPLES},
           args("t.csv", "samples.csv", protocol="elisa-4pl", extra=extra), tmp_path / "a")
    manifest = run_ok({**BASE, "t.csv": TABLE.replace(",", ";").replace(".", ","),
                       "samples.csv": SAMPLES.replace(",", ";")},
                      args("t.csv", "samples.csv", protocol="elisa-4pl", extra=extra), tmp_path)
    assert any("decimal commas read as decimal points" in n for n in manifest["notes"])
    want = pd.read_csv(tmp_path / "a" / "out" / "endpoints.csv")
    got = pd.read_csv(tmp_path / "out" / "endpoints.csv")
    pd.testing.assert_series_equal(got["value"], want["value"])
