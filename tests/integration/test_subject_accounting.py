"""Every subject of the study accounted for: an animal with no data warns, is recorded, is listed.

Fixtures are simulated studies (``neurotox simulate``) with rows of one animal
removed, as a truncated export would lose them.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from neurotox.assays.base import run_study_assay
from neurotox.study import load_study

WARNING = ("1 of 30 subject(s) of the study have no value (no data in tmaze_entries.csv): "
           "G1M01; not analysed, listed under exclusions")
RECORD = {"rule": "no data", "subject": "G1M01", "group": "G1", "sex": "M",
          "reason": "no data in tmaze_entries.csv"}


@pytest.fixture(scope="module")
def truncated(tmp_path_factory):
    """The simulated T-maze study with every row of G1M01 removed from its entries file."""
    from click.testing import CliRunner

    from neurotox.cli.main import cli

    base = tmp_path_factory.mktemp("acc")
    res = CliRunner().invoke(cli, ["--quiet", "simulate", "tmaze", "-o", str(base / "sim")])
    assert res.exit_code == 0, res.output
    entries = base / "sim" / "tmaze_entries.csv"
    lines = entries.read_text().splitlines(keepends=True)
    kept = [line for line in lines if not line.startswith("G1M01,")]
    assert len(lines) - len(kept) > 5
    entries.write_text("".join(kept))
    return base / "sim"


def _manifest(out):
    return json.loads((out / "manifest.json").read_text())


def test_assay_command_warns_and_records_the_subject(truncated, tmp_path, invoke):
    out = tmp_path / "out"
    res = invoke("tmaze", "--study", truncated / "study.yaml", "-o", out)
    assert res.exit_code == 0, res.output
    assert f"WARNING: {WARNING}" in res.output
    assert "29 animals" in res.output and "1 subject(s) of the study without data" in res.output
    manifest = _manifest(out)
    assert f"warning: {WARNING}" in manifest["notes"]
    assert [e for e in manifest["exclusions"] if e.get("rule") == "no data"] == [RECORD]
    ep = pd.read_csv(out / "endpoints.csv")
    assert ep["subject"].nunique() == 29 and "G1M01" not in set(ep["subject"])


def test_warnings_as_errors_fails_the_truncated_run(truncated, tmp_path, invoke):
    out = tmp_path / "out"
    res = invoke("--warnings-as-errors", "tmaze", "--study", truncated / "study.yaml", "-o", out)
    assert res.exit_code == 2
    assert f"{WARNING} (a warning, an error under --warnings-as-errors)" in res.output
    assert not out.exists()


def test_report_lists_the_subject_under_exclusions(truncated, tmp_path, invoke):
    out = tmp_path / "rep"
    res = invoke("report", truncated / "study.yaml", "-o", out, "--format", "html,csv",
                 "--no-bmd", "--workers", "1")
    assert res.exit_code == 0, res.output
    assert f"WARNING: tmaze: {WARNING}" in res.output
    html = (out / "report.html").read_text()
    assert "tmaze, subject G1M01 (group G1, sex M): no value — no data in tmaze_entries.csv" \
        in html
    manifest = _manifest(out)
    assert f"warning: tmaze: {WARNING}" in manifest["notes"]
    assert [e for e in manifest["exclusions"] if e.get("rule") == "no data"] == \
        [{"rule": "no data", "assay": "tmaze", **{k: v for k, v in RECORD.items()
                                                 if k != "rule"}}]
    assert f"WARNING neurotox.notes: tmaze: {WARNING}" in (out / "run.log").read_text()


def test_an_endpoint_table_without_the_subject_warns_too(truncated, tmp_path, invoke):
    first = tmp_path / "first"
    assert invoke("--quiet", "tmaze", "--study", truncated / "study.yaml", "-o",
                  first).exit_code == 0
    out = tmp_path / "stats"
    res = invoke("stats", first / "endpoints.csv", "--study", truncated / "study.yaml", "-o", out)
    assert res.exit_code == 0, res.output
    text = ("tmaze: 1 of 30 subject(s) of the study have no value (no data in endpoints.csv): "
            "G1M01; not analysed, listed under exclusions")
    assert f"WARNING: {text}" in res.output
    assert f"warning: {text}" in _manifest(out)["notes"]


def test_a_complete_study_does_not_warn(tmp_path, invoke):
    assert invoke("--quiet", "simulate", "tmaze", "-o", tmp_path / "sim").exit_code == 0
    res = invoke("tmaze", "--study", tmp_path / "sim" / "study.yaml", "-o", tmp_path / "out")
    assert res.exit_code == 0 and "WARNING" not in res.output
    assert not [e for e in _manifest(tmp_path / "out")["exclusions"]
                if e.get("rule") == "no data"]


# ------------------------------------------------------------ battery: cohorts

@pytest.fixture(scope="module")
def tg424(tmp_path_factory):
    from neurotox.simulate import get_simulator

    folder = tmp_path_factory.mktemp("tg424")
    get_simulator("oecd-424").write(folder, 20260101)
    return folder


def _entry(study, key):
    return next(a for a in study.spec.assays if a.key == key)


def test_neuropathology_subset_named_by_cohort_does_not_warn(tg424):
    """5 of 10 rats per sex and group are perfused (cohort 'perfusion'); the other 40 have
    no findings row and are not expected."""
    study = load_study(tg424 / "study.yaml")
    entry = _entry(study, "neuropathology")
    assert entry.cohorts == ("perfusion",)
    result = run_study_assay(study, entry)
    assert result.missing == [] and not [n for n in result.notes if n.startswith("warning")]
    assert result.endpoints["subject"].nunique() == 40


def test_neuropathology_without_cohorts_names_the_unexamined_animals(tg424, tmp_path):
    text = (tg424 / "study.yaml").read_text()
    assert "  cohorts:\n  - perfusion\n" in text
    (tg424 / "no_cohorts.yaml").write_text(text.replace("  cohorts:\n  - perfusion\n", ""))
    study = load_study(tg424 / "no_cohorts.yaml")
    result = run_study_assay(study, _entry(study, "neuropathology"))
    assert len(result.missing) == 40
    assert {m["reason"] for m in result.missing} == {"no data in neuropathology_findings.csv"}
    assert result.notes[-1] == (
        "warning: 40 of 80 subject(s) of the study have no value (no data in "
        "neuropathology_findings.csv): G1F06, G1F07, G1F08, G1F09, G1F10 and 35 more; not "
        "analysed, listed under exclusions")


def _run_without(folder, file, prefix, key, study_file="study.yaml"):
    """Run entry ``key`` with the lines of ``file`` starting with ``prefix`` cut, then restored."""
    path = folder / file
    original = path.read_text()
    kept = [line for line in original.splitlines(keepends=True) if not line.startswith(prefix)]
    assert len(kept) < len(original.splitlines())
    try:
        path.write_text("".join(kept))
        study = load_study(folder / study_file)
        return run_study_assay(study, _entry(study, key))
    finally:
        path.write_text(original)


def test_brain_weight_row_removed_is_named(tg424):
    """The stranger's case: G1M01's row cut from the brain-weight sheet (n 10 -> 9)."""
    result = _run_without(tg424, "brain_weights.csv", "G1M01,", "brain_weight")
    assert result.missing == [{"subject": "G1M01", "group": "G1", "sex": "M",
                               "reason": "no data in brain_weights.csv"}]
    assert result.notes[-1] == (
        "warning: 1 of 80 subject(s) of the study have no value (no data in "
        "brain_weights.csv): G1M01; not analysed, listed under exclusions")


def test_a_perfused_animal_missing_from_the_findings_is_named(tg424):
    result = _run_without(tg424, "neuropathology_findings.csv", "G2F03,", "neuropathology")
    assert [m["subject"] for m in result.missing] == ["G2F03"]
    assert result.notes[-1] == (
        "warning: 1 of 40 subject(s) of cohort(s) perfusion have no value (no data in "
        "neuropathology_findings.csv): G2F03; not analysed, listed under exclusions")


# ------------------------------------------------------------ battery: a session missing

def test_an_animal_missing_one_session_is_named(tg424):
    """G2M03's week-4 motor activity cut (an export truncated, or the animal lost): one gap
    for the session (its six 10-min bins go with it), recorded and warned."""
    result = _run_without(tg424, "motor_activity.csv", "G2M03,week4,", "motor_activity")
    assert result.missing == [{"subject": "G2M03", "group": "G2", "sex": "M",
                               "timepoint": "week4",
                               "reason": "no data at week4 in motor_activity.csv"}]
    assert result.notes[-1] == (
        "warning: 1 session(s) of animals with data have no value where their group mates "
        "have one (no data in motor_activity.csv): G2M03 at week4; listed under exclusions")


def test_a_declared_session_gap_is_recorded_without_warning(tg424):
    (tg424 / "exclusions.csv").write_text(
        "subject,endpoint,timepoint,reason\nG2M03,,week4,monitor failed\n")
    (tg424 / "declared.yaml").write_text((tg424 / "study.yaml").read_text().replace(
        "subjects: subjects.csv\n", "subjects: subjects.csv\nexclusions: exclusions.csv\n"))
    result = _run_without(tg424, "motor_activity.csv", "G2M03,week4,", "motor_activity",
                          "declared.yaml")
    assert [m["reason"] for m in result.missing] == [
        "no data at week4 in motor_activity.csv; manual exclusion: monitor failed"]
    assert not [n for n in result.notes if n.startswith("warning")]


def test_an_animal_lost_before_week4_declared_once_passes_check(tg424, tmp_path, invoke):
    """G2M03 has no week-4 data in any battery file (startle is week 4 only): one exclusions
    row (no endpoint, timepoint week4) accounts for the sessions and the startle animal."""
    study = tmp_path / "s"
    study.mkdir()
    for path in tg424.glob("*.csv"):
        lines = path.read_text().splitlines(keepends=True)
        (study / path.name).write_text("".join(x for x in lines if not x.startswith("G2M03,week4")))
    (study / "exclusions.csv").write_text(
        "subject,endpoint,timepoint,reason\nG2M03,,week4,found dead on day 25\n")
    (study / "study.yaml").write_text((tg424 / "study.yaml").read_text().replace(
        "subjects: subjects.csv\n", "subjects: subjects.csv\nexclusions: exclusions.csv\n"))
    res = invoke("--warnings-as-errors", "check", study / "study.yaml")
    assert res.exit_code == 0, res.output
    out = tmp_path / "rep"
    res = invoke("report", study / "study.yaml", "-o", out, "--format", "csv", "--no-bmd",
                 "--workers", "1")
    assert res.exit_code == 0 and "WARNING" not in res.output, res.output
    gaps = {(e["assay"], e.get("timepoint")): e["reason"] for e in _manifest(out)["exclusions"]
            if e.get("rule") == "no data"}
    assert gaps == {
        ("fob", "week4"): "no data at week4 in fob.csv; manual exclusion: found dead on day 25",
        ("motor_activity", "week4"): "no data at week4 in motor_activity.csv; manual "
                                     "exclusion: found dead on day 25",
        ("startle", None): "no data in startle.csv; manual exclusion: found dead on day 25"}


def test_cohorts_measured_on_different_occasions_have_no_gaps():
    """Half the pups killed at PND 22, half at PND 70 (DNT brain weights); one animal tested a
    day late: no mate's sessions hold all of theirs, so nothing is missing."""
    from neurotox.assays.accounting import _session_gaps

    design = pd.DataFrame({"subject": ["A", "B", "C", "D", "E"], "group": "G1", "sex": "F",
                           "cohort": ""})
    rows = [("A", "PND22"), ("B", "PND22"), ("C", "PND70"), ("D", "day7"), ("D", "day14"),
            ("E", "day8"), ("E", "day14")]
    table = pd.DataFrame(rows, columns=["subject", "timepoint"]).assign(endpoint="w")
    assert _session_gaps(table, design, [], dict) == ([], "")
    # F attended day 7 (w) but has no v there, which D has: one endpoint without a value
    table = pd.concat([table, pd.DataFrame({
        "subject": ["D", "D", "F", "F", "F"], "endpoint": ["v", "v", "w", "w", "v"],
        "timepoint": ["day7", "day14", "day7", "day14", "day14"]})])
    design = pd.concat([design, pd.DataFrame({"subject": ["F"], "group": "G1", "sex": "F",
                                              "cohort": ""})])
    records, note = _session_gaps(table, design, [Path("x.csv")], dict)
    assert [(r["subject"], r["timepoint"], r["reason"]) for r in records] == [
        ("F", "day7", "1 endpoint(s) without a value at day7 in x.csv")]
    assert note.endswith("(no data in x.csv): F at day7; listed under exclusions")


# ------------------------------------------------------------ NOR: a phase not recorded

def test_nor_animal_without_training_record_is_excluded_in_training(tmp_path, invoke):
    assert invoke("--quiet", "simulate", "nor", "-o", tmp_path / "sim").exit_code == 0
    sheet = tmp_path / "sim" / "nor_scores.xlsx"
    df = pd.read_excel(sheet)
    df = df[~((df["subject"] == "G1M01") & (df["phase"] == "training"))]
    df.to_excel(sheet, index=False)
    out = tmp_path / "out"
    res = invoke("nor", "--study", tmp_path / "sim" / "study.yaml", "-o", out)
    assert res.exit_code == 0, res.output
    assert "WARNING" not in res.output          # the animal has values: its test phase
    animals = pd.read_csv(out / "nor_animals.csv").set_index(["subject", "phase"])
    reason = "training-phase exploration time missing (no training record in the inputs)"
    assert animals.loc[("G1M01", "training"), "exclusion_reason"] == reason
    assert not animals.loc[("G1M01", "test"), "excluded"]
    excl = [e for e in _manifest(out)["exclusions"] if e["subject"] == "G1M01"]
    assert sorted(e["endpoint"] for e in excl) == ["nor_training_side_bias",
                                                    "nor_training_total_exploration"]
    assert {e["reason"] for e in excl} == {reason}


def test_check_warns_and_fails_under_warnings_as_errors(truncated, invoke):
    res = invoke("check", truncated / "study.yaml")
    assert res.exit_code == 0 and f"WARNING: tmaze: {WARNING}" in res.output
    res = invoke("--warnings-as-errors", "check", truncated / "study.yaml")
    assert res.exit_code == 2
    assert f"tmaze: {WARNING} (a warning, an error under --warnings-as-errors)" in res.output


def test_an_animal_the_exclusions_file_excludes_whole_is_accounted_for(truncated, tmp_path,
                                                                         invoke):
    # G1M01 died before the test: a whole-subject row of the exclusions file says so; the
    # run neither warns nor refuses the row (it matches no value), and records both
    import shutil

    study = tmp_path / "study"
    shutil.copytree(truncated, study)
    (study / "exclusions.csv").write_text("subject,reason\nG1M01,found dead on day 3\n")
    with (study / "study.yaml").open("a") as f:
        f.write("exclusions: exclusions.csv\n")
    out = tmp_path / "rep"
    res = invoke("--warnings-as-errors", "report", study / "study.yaml", "-o", out,
                 "--format", "html,csv", "--no-bmd", "--workers", "1")
    assert res.exit_code == 0, res.output
    assert "WARNING" not in res.output
    manifest = _manifest(out)
    assert {"rule": "manual exclusions file", "subject": "G1M01", "endpoint": "all",
            "reason": "found dead on day 3", "values": 0} in manifest["exclusions"]
    assert [e for e in manifest["exclusions"] if e.get("rule") == "no data"] == [
        {"rule": "no data", "assay": "tmaze", "subject": "G1M01", "group": "G1", "sex": "M",
         "reason": "no data in tmaze_entries.csv; manual exclusion: found dead on day 3"}]
    assert ("tmaze, subject G1M01 (group G1, sex M): no value — no data in "
            "tmaze_entries.csv; manual exclusion: found dead on day 3") in \
        (out / "report.html").read_text()


def test_a_cohort_tested_again_later_leaves_the_other_cohort_without_gaps():
    """Main cohort tested on day 7 only, a recovery cohort on days 7 and 70 (one entry, no
    `cohorts:`): the main animals do not miss day 70; a recovery animal without it does."""
    from neurotox.assays.accounting import _session_gaps

    design = pd.DataFrame({"subject": ["M1", "M2", "R1", "R2"], "group": "G1", "sex": "F",
                           "cohort": ["main", "main", "recovery", "recovery"]})
    rows = [("M1", "day7"), ("M2", "day7"), ("R1", "day7"), ("R1", "day70"), ("R2", "day7")]
    table = pd.DataFrame(rows, columns=["subject", "timepoint"]).assign(endpoint="w")
    records, _ = _session_gaps(table, design, [Path("x.csv")], dict)
    assert [(r["subject"], r["timepoint"]) for r in records] == [("R2", "day70")]


def test_values_of_an_animal_of_another_cohort_are_excluded_with_the_reason(tg424, tmp_path):
    """A satellite (TK) animal's FOB rows in the main animals' sheet (the entry measures
    cohorts main and perfusion): its values are excluded, named, never analysed."""
    import shutil

    folder = tmp_path / "sat"
    shutil.copytree(tg424, folder)
    subjects = (folder / "subjects.csv").read_text()
    # G4M32's cohort cell left blank: not of the entry's cohorts either (stranger50)
    (folder / "subjects.csv").write_text(subjects + "G4M31,G4,M,satellite\nG4M32,G4,M,\n")
    fob = (folder / "fob.csv").read_text().splitlines(keepends=True)
    copied = [line.replace("G4M01,", f"G4M{k},", 1) for k in (31, 32) for line in fob
              if line.startswith("G4M01,")]
    (folder / "fob.csv").write_text("".join(fob + copied))
    text = (folder / "study.yaml").read_text()
    assert "  input: fob.csv\n" in text
    (folder / "study.yaml").write_text(text.replace(
        "  input: fob.csv\n", "  input: fob.csv\n  cohorts: [main, perfusion]\n"))
    study = load_study(folder / "study.yaml")
    result = run_study_assay(study, _entry(study, "fob"))
    ep = result.endpoints
    theirs = ep[ep["subject"] == "G4M31"]
    assert len(theirs) == len(ep[ep["subject"] == "G4M01"]) and theirs["excluded"].all()
    assert set(theirs["exclusion_reason"]) == {
        "cohort 'satellite': not measured by this entry (cohorts: main, perfusion)"}
    blank = ep[ep["subject"] == "G4M32"]
    assert len(blank) == len(theirs) and blank["excluded"].all()
    assert set(blank["exclusion_reason"]) == {
        "no cohort in the subjects file: not measured by this entry (cohorts: main, perfusion)"}
    others = ~ep["subject"].isin(["G4M31", "G4M32"])
    assert not ep.loc[others, "exclusion_reason"].str.contains("cohort").any()
    assert f"warning: 2 animal(s) of cohort(s) none, 'satellite' (G4M31, G4M32) have " \
        f"{2 * len(theirs)} value(s) in this entry's input, which measures cohort(s) main, " \
        "perfusion only: excluded" in result.notes
    assert result.missing == []


@pytest.mark.parametrize(("items", "kwargs", "expected"), [
    (["A1", "A2", "A3", "A4", "A5"], {}, "A1, A2, A3, A4, A5"),
    (["A1", "A2", "A3", "A4", "A5", "A6", "A7"], {}, "A1, A2, A3, A4, A5 and 2 more"),
    (["A1", "A2", "A3"], {"limit": 2}, "A1, A2 and 1 more"),
    (["a.csv", "b.csv", "c.csv", "d.csv"], {"limit": 3, "what": "file(s)"},
     "a.csv, b.csv, c.csv and 1 more file(s)"),
    ([], {}, ""),
])
def test_listed_names_the_first_ids_and_counts_the_rest(items, kwargs, expected):
    from neurotox.assays.accounting import listed

    assert listed(items, **kwargs) == expected
