"""A finished run folder (manifest + csv/endpoints.csv + study file) → a batch."""

from __future__ import annotations

import pytest

from neurotox.errors import InputError
from neurotox.hcd.run import run_batch
from neurotox.io.output import OutputDir, RunRecord

STUDY = """\
study_id: R-1
title: Run import
test_item: X
species: rat
strain: Wistar
groups:
  - {id: C, label: Vehicle, dose: 0, dose_unit: mg/kg, control: true}
  - {id: H, label: High, dose: 5, dose_unit: mg/kg}
"""
HEAD = ("study_id,assay,category,endpoint,unit,subject,group,dose,dose_unit,sex,timepoint,"
        "value,excluded,exclusion_reason,batch,source,censoring\n")
ROWS = [
    "R-1,brain_weight,structural,brain_weight,g,C1,C,0,mg/kg,M,NA,2.0,False,,NA,f:1,none",
    "R-1,brain_weight,structural,brain_weight,g,C2,C,0,mg/kg,M,NA,2.2,True,bubble,NA,f:2,none",
    "R-1,startle,neurobehavioral,startle_latency_mean,ms,C1,C,0,mg/kg,M,week4,150,False,,NA,f:3,"
    "right",
    "R-1,brain_weight,structural,brain_weight,g,H1,H,5,mg/kg,M,NA,1.8,False,,NA,f:4,none",
]


def make(tmp_path, rows=ROWS, csv=True):
    (tmp_path / "study.yaml").write_text(STUDY)
    rec = RunRecord(parameters={"study": str(tmp_path / "study.yaml")})
    rec.add_inputs([tmp_path / "study.yaml"])
    with OutputDir(tmp_path / "run", record=rec) as od:
        od.write_text("csv/endpoints.csv" if csv else "other.txt", HEAD + "\n".join(rows) + "\n")
    return tmp_path / "run"


def test_controls_exclusions_and_censoring(tmp_path):
    b = run_batch(make(tmp_path), age_weeks=8, study={"vehicle": "saline"})
    assert b.animals["subject"].tolist() == ["C1", "C2"]        # treated H1 not stored
    assert b.animals["age_days"].tolist() == [56.0, 56.0]
    r = b.results.set_index(["subject", "endpoint"])
    assert not r.loc[("C2", "brain_weight"), "included"]
    assert r.loc[("C2", "brain_weight"), "exclusion_reason"] == "bubble"
    assert r.loc[("C1", "startle_latency_mean"), "censoring"] == "right"
    assert r.loc[("C1", "brain_weight"), "censoring"] == ""
    assert r.loc[("C1", "brain_weight"), "data_type"] == "continuous"
    assert b.study["strain"] == "Wistar" and b.study["vehicle"] == "saline"
    assert b.software_version.startswith("neurotox ")
    assert "1 value(s) stored but not included — excluded in the run" in b.excluded


def test_all_groups(tmp_path):
    b = run_batch(make(tmp_path), all_groups=True)
    h1 = b.animals.set_index("subject").loc["H1"]
    assert not h1["included"] and h1["exclusion_reason"] == "treated group H (5 mg/kg)"


def test_changed_study_file_is_refused(tmp_path):
    run = make(tmp_path)
    (tmp_path / "study.yaml").write_text(STUDY.replace("Wistar", "Lewis"))
    with pytest.raises(InputError, match="study file changed after the run"):
        run_batch(run)


def test_run_without_endpoints_csv(tmp_path):
    with pytest.raises(InputError, match=r"no csv/endpoints.csv in this run folder"):
        run_batch(make(tmp_path, csv=False))


def test_not_a_run_folder(tmp_path):
    with pytest.raises(InputError, match="no manifest.json in this folder"):
        run_batch(tmp_path)


def test_facility_and_dates_come_from_the_study_file(tmp_path):
    # stranger42: test_facility and dates.experimental_start were ignored
    run = make(tmp_path)
    study = STUDY.replace("strain: Wistar\n", "strain: Wistar\ntest_facility: Lab A, Basel\n"
                          "dates: {experimental_start: 2025-06-10, experimental_end: "
                          "2025-07-08}\n")
    (tmp_path / "study.yaml").write_text(study)
    rec = RunRecord(parameters={"study": str(tmp_path / "study.yaml")})
    rec.add_inputs([tmp_path / "study.yaml"])
    with OutputDir(tmp_path / "run2", record=rec) as od:
        od.write_text("csv/endpoints.csv", (run / "csv/endpoints.csv").read_text())
    b = run_batch(tmp_path / "run2")
    assert (b.study["facility"], b.study["start_date"], b.study["end_date"]) == (
        "Lab A, Basel", "2025-06-10", "2025-07-08")
    # an option given wins over the study file
    b = run_batch(tmp_path / "run2", study={"start_date": "2025-06-11", "facility": ""})
    assert (b.study["facility"], b.study["start_date"]) == ("Lab A, Basel", "2025-06-11")
