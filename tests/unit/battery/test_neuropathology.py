import math

import pytest
from tests.unit.battery.conftest import DATA, SUBJECTS, run_one, value, write_study

from neurotox.endpoints import get
from neurotox.errors import InputError

NP = {"assay": "neuropathology", "protocol": "neuropathology-standard",
      "input": "findings.csv"}


@pytest.fixture
def npr(tmp_path):
    return run_one(write_study(tmp_path, assays=[NP],
                               files={"findings.csv": DATA / "neuropath_findings.csv"}))


@pytest.mark.parametrize("endpoint, expected", [
    ("np_sciatic_nerve_axonal_degeneration", {"A1": 1, "A2": 0, "B1": 1, "B2": 1}),
    ("np_sciatic_nerve_axonal_degeneration_severity", {"A1": 1, "A2": 0, "B1": 3, "B2": 2}),
    ("np_cerebral_cortex_vacuolation", {"A1": 1, "A2": 0, "B1": 0, "B2": 0}),
    ("np_cerebral_cortex_vacuolation_severity", {"A1": 1, "A2": 0, "B1": 0, "B2": 0}),
    ("np_spinal_cord_lumbar_axonal_degeneration", {"A1": 0, "A2": 0, "B1": 1, "B2": 0}),
    ("np_any_finding", {"A1": 1, "A2": 0, "B1": 1, "B2": 1}),
])
def test_incidence_and_severity(npr, endpoint, expected):
    for subject, v in expected.items():
        assert value(npr.endpoints, endpoint, subject)["value"] == v


def test_types_and_category(npr):
    t = npr.endpoints
    assert set(t["category"]) == {"structural"}
    assert get("np_sciatic_nerve_axonal_degeneration").data_type.value == "incidence"
    assert get("np_sciatic_nerve_axonal_degeneration_severity").data_type.value == "ordinal"
    # 3 findings x (incidence + severity) x 4 examined animals + any-finding per animal
    assert len(t) == 3 * 2 * 4 + 4


def test_ungraded_lesion(npr):
    row = value(npr.endpoints, "np_spinal_cord_lumbar_axonal_degeneration_severity", "B1")
    assert row["excluded"] and math.isnan(row["value"])
    assert row["exclusion_reason"] == "lesion recorded without a grade"


def test_examined_all_adds_unlisted_animals(tmp_path):
    text = "subject,tissue,lesion,grade\nB1,sciatic nerve,axonal degeneration,2\n"
    listed = run_one(write_study(tmp_path / "a", assays=[NP], files={"findings.csv": text}))
    assert len(listed.endpoints) == 3
    every = run_one(write_study(tmp_path / "b", assays=[{**NP, "parameters": {"examined": "all"}}],
                                files={"findings.csv": text}))
    assert len(every.endpoints) == 12
    assert value(every.endpoints, "np_sciatic_nerve_axonal_degeneration", "A1")["value"] == 0


def test_examined_all_means_every_animal_of_the_entrys_cohorts(tmp_path):
    """A1 and B1 were perfused (cohort 'perfusion'), A2 and B2 not: with examined: all and
    cohorts [perfusion] the denominators are 2 animals, not the study's 4."""
    text = "subject,tissue,lesion,grade\nB1,sciatic nerve,axonal degeneration,2\n"
    subjects = SUBJECTS.assign(cohort=["perfusion", "main", "perfusion", "main"])
    entry = {**NP, "parameters": {"examined": "all"}, "cohorts": ["perfusion"]}
    result = run_one(write_study(tmp_path, assays=[entry], subjects=subjects,
                                 files={"findings.csv": text}))
    inc = result.endpoints[result.endpoints["endpoint"] == "np_sciatic_nerve_axonal_degeneration"]
    assert dict(zip(inc["subject"], inc["value"], strict=True)) == {"A1": 0.0, "B1": 1.0}
    assert result.missing == []


@pytest.mark.parametrize("exclusions, warned", [
    # A1 found dead in week 4, never listed: counted examined without findings, so named
    ("A1,,week4,found dead on day 20\nA2,,week4,found dead on day 21\n",
     ["warning: neuropathology findings.csv: 1 animal(s) of cohort(s) perfusion that the "
      "exclusions file names have no row in the findings file and are counted examined, "
      "without findings (examined: all): A1 (found dead on day 20); give an animal that was "
      "examined a row (NAD), or use examined: listed"]),
    # excluded whole (or at timepoint NA): its neuropathology values are excluded by that row
    ("A1,,,died on day 2\n", []), ("A1,,NA,not perfused\n", []),
    # named, but listed in the findings file: examined
    ("B1,,week4,found dead on day 20\n", []),
])
def test_examined_all_names_unlisted_animals_of_the_exclusions_file(tmp_path, exclusions,
                                                                    warned):
    """A2 is not of the entry's cohort; A1 has no row in the findings file."""
    text = "subject,tissue,lesion,grade\nB1,,NAD,\nB2,sciatic nerve,axonal degeneration,2\n"
    subjects = SUBJECTS.assign(cohort=["perfusion", "main", "perfusion", "perfusion"])
    entry = {**NP, "parameters": {"examined": "all"}, "cohorts": ["perfusion"]}
    result = run_one(write_study(
        tmp_path, assays=[entry], subjects=subjects, exclusions="exclusions.csv",
        files={"findings.csv": text,
               "exclusions.csv": "subject,endpoint,timepoint,reason\n" + exclusions}))
    assert [n for n in result.notes if n.startswith("warning:")] == warned
    assert value(result.endpoints, "np_any_finding", "A1")["value"] == 0
    assert ("convention: Neuropathology: incidence denominators: every animal of the entry's "
            "cohort(s) perfusion was examined, for every tissue, an animal without a row in the "
            "findings file counting as examined without findings (examined: all); ") in \
        " ".join(result.notes)


@pytest.mark.parametrize("line, where, message", [
    ("A1,liver,necrosis,1", "row 2, column 'tissue'", "unknown tissue 'liver'"),
    ("A1,sciatic nerve,gliosis,1", "row 2, column 'lesion'",
     "unknown lesion 'gliosis' for tissue 'sciatic_nerve'"),
    ("A1,sciatic nerve,axonal degeneration,9", "row 2, column 'grade'",
     "severity grade '9' is not 1-5"),
    ("Z1,sciatic nerve,axonal degeneration,1", "row 2, column 'subject'", "animal 'Z1'"),
])
def test_findings_errors(tmp_path, line, where, message):
    study = write_study(tmp_path, assays=[NP],
                        files={"findings.csv": "subject,tissue,lesion,grade\n" + line + "\n"})
    with pytest.raises(InputError, match=message) as err:
        run_one(study)
    assert err.value.where == where


def test_synonym_parameter(tmp_path):
    text = "subject,tissue,lesion,grade\nA1,N. ischiadicus,axonal degeneration,mild\n"
    study = write_study(tmp_path, assays=[{**NP, "parameters": {
        "synonyms": {"n_ischiadicus": "sciatic_nerve"}}}], files={"findings.csv": text})
    t = run_one(study).endpoints
    assert value(t, "np_sciatic_nerve_axonal_degeneration_severity", "A1")["value"] == 2


def test_no_findings_still_reports_examined_animals(tmp_path):
    text = "subject,tissue,lesion,grade\nA1,,NAD,\nB1,all tissues,NAD,\n"
    t = run_one(write_study(tmp_path, assays=[NP], files={"findings.csv": text})).endpoints
    assert set(t["endpoint"]) == {"np_any_finding"}
    assert t["value"].tolist() == [0.0, 0.0]


PER_TISSUE = ("subject,tissue,lesion,grade\n"
              "A1,sciatic nerve,axonal degeneration,2\n"
              "A1,cerebral cortex,NAD,\n"
              "A2,cerebral cortex,vacuolation,1\n"  # A2: cortex examined, sciatic nerve not
              "B1,,NAD,\n"                          # B1: every tissue examined, no finding
              "B2,sciatic nerve,NAD,\n")            # B2: sciatic nerve only


@pytest.mark.parametrize("mode, endpoint, expected", [
    ("per_tissue", "np_sciatic_nerve_axonal_degeneration", {"A1": 1, "B1": 0, "B2": 0}),
    ("per_tissue", "np_sciatic_nerve_axonal_degeneration_severity", {"A1": 2, "B1": 0, "B2": 0}),
    ("per_tissue", "np_cerebral_cortex_vacuolation", {"A1": 0, "A2": 1, "B1": 0}),
    ("per_tissue", "np_any_finding", {"A1": 1, "A2": 1, "B1": 0, "B2": 0}),
    ("listed", "np_sciatic_nerve_axonal_degeneration", {"A1": 1, "A2": 0, "B1": 0, "B2": 0}),
    ("listed", "np_cerebral_cortex_vacuolation", {"A1": 0, "A2": 1, "B1": 0, "B2": 0}),
])
def test_per_tissue_examined_sets(tmp_path, mode, endpoint, expected):
    study = write_study(tmp_path, assays=[{**NP, "parameters": {"examined": mode}}],
                        files={"findings.csv": PER_TISSUE})
    t = run_one(study).endpoints
    rows = t[t["endpoint"] == endpoint]
    assert dict(zip(rows["subject"], rows["value"], strict=True)) == expected


def test_per_tissue_summary_and_note(tmp_path):
    study = write_study(tmp_path, assays=[{**NP, "parameters": {"examined": "per_tissue"}}],
                        files={"findings.csv": PER_TISSUE})
    result = run_one(study)
    summary = result.details["neuropathology_summary"].set_index("tissue")
    assert summary["examined"].to_dict() == {"cerebral_cortex": 3, "sciatic_nerve": 3}
    assert summary["animals_affected"].to_dict() == {"cerebral_cortex": 1, "sciatic_nerve": 1}
    assert ("neuropathology findings.csv: examined per tissue: cerebral_cortex 3, "
            "sciatic_nerve 3") in result.notes


@pytest.mark.parametrize("extra, where, message", [
    # NAD for every tissue and a finding for the same animal
    ("A2,Sciatic nerve,Axonal degeneration,mild", "row 4",
     r"animal 'A2' is recorded with no abnormality \(NAD\) in every tissue and with the "
     r"finding 'axonal_degeneration' in 'sciatic_nerve' \(row 8\); keep one"),
    # NAD for one tissue and a finding in that tissue
    ("B1,Sciatic nerve,NAD,", "row 8",
     r"animal 'B1' is recorded with no abnormality \(NAD\) in tissue 'sciatic_nerve' and "
     r"with the finding 'axonal_degeneration' in 'sciatic_nerve' \(row 5\)"),
    # NAD carrying a grade
    ("A2,Sciatic nerve,NAD,mild", "row 8, column 'grade'",
     r"'NAD' \(no abnormality detected\) with grade 'mild': a row with no finding has no "
     r"grade"),
])
def test_contradictory_nad_rows_are_errors(tmp_path, extra, where, message):
    text = (DATA / "neuropath_findings.csv").read_text(encoding="utf-8").rstrip("\n")
    study = write_study(tmp_path, assays=[NP], files={"findings.csv": f"{text}\n{extra}\n"})
    with pytest.raises(InputError, match=message) as err:
        run_one(study)
    assert err.value.path.endswith("findings.csv")
    assert err.value.where == where


def test_nad_in_another_tissue_than_the_finding_is_accepted(tmp_path):
    text = (DATA / "neuropath_findings.csv").read_text(encoding="utf-8").rstrip("\n")
    study = write_study(tmp_path, assays=[{**NP, "parameters": {"examined": "per_tissue"}}],
                        files={"findings.csv": f"{text}\nB2,Cerebral cortex,NAD,0\n"})
    t = run_one(study).endpoints
    assert value(t, "np_cerebral_cortex_vacuolation", "B2")["value"] == 0
    assert value(t, "np_sciatic_nerve_axonal_degeneration", "B2")["value"] == 1


@pytest.mark.parametrize("grades, slight, severity, note", [
    (("slight", "moderate"), None, 1,
     "neuropathology findings.csv: severity word 'slight' (1 finding(s)) read as grade 1 "
     "(minimal; parameter slight)"),
    (("slight", "moderate"), "mild", 2,
     "neuropathology findings.csv: severity word 'slight' (1 finding(s)) read as grade 2 "
     "(mild; parameter slight)"),
    (("slight", "minimal"), None, 1,    # a Minimal / Slight / Moderate ... scale
     "warning: neuropathology findings.csv: severity word 'slight' (1 finding(s)) read as "
     "grade 1 (minimal; parameter slight), but the sheet also grades 'minimal': if its scale "
     "is Minimal / Slight / Moderate / Marked / Severe, set slight: mild"),
    (("mild", "moderate"), None, 2, None),
])
def test_the_grade_of_slight_is_a_parameter_and_said(tmp_path, grades, slight, severity,
                                                     note):
    text = ("subject,tissue,lesion,grade\n"
            f"B1,sciatic nerve,axonal degeneration,{grades[0]}\n"
            f"B2,sciatic nerve,axonal degeneration,{grades[1]}\nA1,,NAD,\n")
    spec = {**NP, "parameters": {"slight": slight}} if slight else NP
    res = run_one(write_study(tmp_path, assays=[spec], files={"findings.csv": text}))
    sev = value(res.endpoints, "np_sciatic_nerve_axonal_degeneration_severity", "B1")
    assert sev["value"] == severity
    said = [n for n in res.notes if "'slight'" in n]
    assert said == ([note] if note else [])
