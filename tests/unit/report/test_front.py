import datetime as dt

import pytest

from neurotox.errors import InputError
from neurotox.pipeline import AmendedRun, load_amending_study
from neurotox.report.front import BLANK, front_matter, title_block
from neurotox.study import StudySpec, load_study

GROUPS = [{"id": "G1", "label": "Control", "dose": 0, "dose_unit": "mg/kg/day", "control": True},
          {"id": "G2", "label": "High", "dose": 100, "dose_unit": "mg/kg/day"}]


def _spec(**extra):
    return StudySpec.model_validate({"study_id": "S-1", "title": "T", "test_item": "X",
                                     "groups": GROUPS, **extra})


def test_title_block_from_the_study_file():
    spec = _spec(sponsor="Acme", test_facility="Lab B", study_director="Dr A",
                 test_item_batch="L-7", vehicle="water", route="oral gavage", species="rat",
                 strain="Wistar", dates={"experimental_start": "2026-01-12"})
    rows = dict(title_block(spec))
    assert rows["Test item"] == "X (batch L-7)"
    assert rows["Route of administration"] == "oral gavage"
    assert rows["Test system"] == "rat Wistar"
    assert rows["Dose levels"] == "0, 100 mg/kg/day"
    assert rows["Experimental start"] == "2026-01-12"
    assert "Study initiation" not in rows  # not a GLP study: nothing to complete


def test_glp_study_gets_lines_to_complete_not_invented_values():
    rows = dict(title_block(_spec(glp=True)))
    assert rows["Sponsor"] == rows["Study director"] == rows["Study initiation"] == BLANK
    front = front_matter(_spec(glp=True, report={"paper": "Letter"}))
    assert front.glp and front.paper == "letter"
    assert front.qa_inspections == [("", "", "")] * 4


def test_one_report_date_the_study_files_else_the_runs():
    """stranger37 6: the title page printed dates.report, the footers the run's date."""
    given = _spec(dates={"report": "2027-01-15"})
    assert dict(title_block(given, "2026-12-05"))["Report date"] == "2027-01-15"
    assert dict(title_block(_spec(), "2026-12-05"))["Report date"] == "2026-12-05"
    assert "Report date" not in dict(title_block(_spec()))   # no run (no stamp): no date


def test_qa_name_fills_the_qa_line_and_is_left_to_complete_until_given():
    """stranger37 12: no study-file key filled the QA name line."""
    from neurotox.study import left_to_complete

    assert front_matter(_spec(glp=True, report={"qa_name": "B. Auditor"})).qa_name == \
        "B. Auditor"
    assert "report.qa_name" in left_to_complete(_spec(glp=True))
    assert "report.qa_name" not in left_to_complete(
        _spec(glp=True, report={"qa_name": "B. Auditor"}))


def test_a_glp_study_with_keys_left_to_complete_cannot_be_signed():
    from neurotox.study import check_signable

    with pytest.raises(InputError, match=r"^study\.yaml: a signed GLP report is final, but the "
                                         r"study file leaves out sponsor, .*, loael; add them"):
        check_signable(_spec(glp=True), "study.yaml")
    check_signable(_spec(), "study.yaml")   # a non-GLP study has nothing to complete


@pytest.mark.parametrize(("extra", "message"), [
    ({"noael": {"dose": 50}}, r"noael dose 50 is not a tested dose \(tested: 0, 100\)"),
    ({"report": {"papr": "a4"}}, "papr"),
    ({"report": {"spread": "cv"}}, "spread"),
    ({"loael": [{"dose": 100, "sex": "X"}]}, "sex"),
])
def test_front_matter_keys_are_closed_and_checked(extra, message):
    with pytest.raises(ValueError, match=message):
        _spec(**extra)


def test_noael_one_entry_or_one_per_sex():
    spec = _spec(noael={"dose": 0, "basis": "effects at 100"},
                 loael=[{"dose": 100, "sex": "M"}, {"dose": None, "sex": "F"}])
    assert spec.noael[0].dose == 0 and spec.loael[1].dose is None


def test_noael_sex_is_read_as_the_subjects_file_reads_it():
    """stranger30 L3: 'female' was refused here while subjects.csv accepts it."""
    spec = _spec(noael=[{"dose": 0, "sex": "female"}, {"dose": 0, "sex": "Males"}])
    assert [c.sex.value for c in spec.noael] == ["F", "M"]
    with pytest.raises(ValueError, match="Input should be 'M', 'F' or 'NA'"):
        _spec(noael={"dose": 0, "sex": "x"})


def test_sex_codes_are_mapped_and_noted(tmp_path):
    (tmp_path / "subjects.csv").write_text("subject,group,sex\nA1,G1,Male\nA2,G1,f\n"
                                           "A3,G2,weiblich\nA4,G2,M\n")
    (tmp_path / "study.yaml").write_text(
        "study_id: S-1\ntitle: T\ntest_item: X\nsubjects: subjects.csv\ngroups:\n"
        "  - {id: G1, label: C, dose: 0, dose_unit: mg/kg/day, control: true}\n"
        "  - {id: G2, label: H, dose: 100, dose_unit: mg/kg/day}\n")
    study = load_study(tmp_path / "study.yaml")
    assert study.subjects["sex"].tolist() == ["M", "F", "F", "M"]
    assert study.notes == ["subjects.csv: sex codes mapped: 'Male' -> M, 'f' -> F, "
                           "'weiblich' -> F"]
    (tmp_path / "subjects.csv").write_text("subject,group,sex\nA1,G1,x\n")
    with pytest.raises(InputError, match=r"row 2, column 'sex': sex 'x' is not M, F or NA"):
        load_study(tmp_path / "study.yaml")


def test_compliance_statement_is_completed_from_the_study_file():
    from neurotox.report.front import ARCHIVE, COMPLIANCE, compliance_statement

    assert compliance_statement(_spec(glp=True)) == [*COMPLIANCE, ARCHIVE + BLANK * 2]
    spec = _spec(glp=True, report={"glp_exceptions": "none", "archive": "Archive room 2"})
    # "none": the statement says so itself, not "the exceptions listed below" over "none"
    assert compliance_statement(spec) == [
        COMPLIANCE[0].replace("with the exceptions listed below", "without exception"),
        ARCHIVE + "Archive room 2"]
    assert "without exception." in compliance_statement(spec)[0]
    spec = _spec(glp=True, report={"glp_exceptions": "Day 3 temperature missing."})
    assert compliance_statement(spec)[:2] == [COMPLIANCE[0],
                                              "Exceptions: Day 3 temperature missing."]
    spec = _spec(glp=True, report={"glp_exceptions": ["No analysis of dose formulations.",
                                                      "Day 3 temperature missing."],
                                   "compliance_statement": "Conducted under 21 CFR Part 58."})
    assert compliance_statement(spec)[:4] == [
        "Conducted under 21 CFR Part 58.", "Exceptions:",
        "1. No analysis of dose formulations.", "2. Day 3 temperature missing."]
    assert front_matter(spec).compliance == compliance_statement(spec)
    assert front_matter(_spec()).compliance == []  # not a GLP study: no statement


@pytest.mark.parametrize(("report", "message"), [
    ({"glp_exceptions": ""}, r"key 'report\.glp_exceptions\[0\]': String should have at least "
                             r"1 character \(found ''\)"),
    ({"glp_exception": "none"}, r"key 'report\.glp_exception': unknown key \(did you mean "
                                r"'glp_exceptions'\?\)"),
    ({"compliance_statement": "   "}, r"key 'report\.compliance_statement': String should "
                                     r"have at least 1 character"),
    ({"qa_inspections": [{"phase": " "}]}, r"key 'report\.qa_inspections\[0\]\.phase': "
                                           r"String should have at least 1 character"),
])
def test_finalising_keys_are_checked(report, message, tmp_path):
    (tmp_path / "study.yaml").write_text(
        "study_id: S-1\ntitle: T\ntest_item: X\nglp: true\n"
        f"report: {report!r}\n".replace("'", '"') +
        "groups:\n  - {id: G1, label: C, dose: 0, dose_unit: mg/kg/day, control: true}\n")
    with pytest.raises(InputError, match=message):
        load_study(tmp_path / "study.yaml")


def test_what_a_glp_report_leaves_to_complete():
    from neurotox.study import left_to_complete

    assert left_to_complete(_spec()) == []   # not a GLP study: nothing to sign
    assert left_to_complete(_spec(glp=True, sponsor="Acme", report={"archive": "Room 2"})) == [
        "test_facility", "study_director", "dates.initiation", "dates.experimental_start",
        "dates.experimental_end", "report.qa_inspections", "report.qa_name",
        "report.glp_exceptions", "noael", "loael"]
    ready = _spec(glp=True, sponsor="Acme", test_facility="Lab", study_director="Dr A",
                  dates={"initiation": "2026-01-05", "experimental_start": "2026-01-12",
                         "experimental_end": "2026-02-09"},
                  report={"archive": "Room 2", "glp_exceptions": "none", "qa_name": "QA B",
                          "qa_inspections": [{"phase": "report", "inspected": "2026-03-02"}]},
                  noael={"dose": 0}, loael={"dose": 100})
    assert left_to_complete(ready) == []


READY = {"glp": True, "sponsor": "Acme", "test_facility": "Lab", "study_director": "Dr A",
         "dates": {"initiation": "2026-01-05", "experimental_start": "2026-01-12",
                   "experimental_end": "2026-02-09", "report": "2026-04-01"},
         "report": {"archive": "Room 2", "glp_exceptions": "none", "qa_name": "QA B",
                    "qa_inspections": [{"phase": "report", "inspected": "2026-03-02"}]},
         "noael": {"dose": 0}, "loael": {"dose": 100}}


@pytest.mark.parametrize("blank", ["", "   ", "\t "])
@pytest.mark.parametrize("key", ["sponsor", "test_facility", "study_director",
                                 "report.qa_name", "report.archive"])
def test_blank_statement_text_is_left_to_complete(key, blank, tmp_path):
    """stranger39 E1: a key set to '' or spaces counted as filled, and a signed report
    printed the line to complete (or a blank QA signatory)."""
    import copy

    from neurotox.study import check_signable, left_to_complete

    data = copy.deepcopy(READY)
    where, _, name = key.rpartition(".")
    (data[where] if where else data)[name] = blank
    spec = _spec(**data)
    assert left_to_complete(spec) == [key]
    with pytest.raises(InputError) as info:
        check_signable(spec, tmp_path / "study.yaml")
    assert str(info.value) == (
        f"{tmp_path / 'study.yaml'}: a signed GLP report is final, but the study file leaves "
        f"out {key}; add it, or write an unsigned draft (without --sign-key and "
        "NEUROTOX_SIGN_KEY_FILE)")
    del (data[where] if where else data)[name]
    assert spec == _spec(**data)      # a draft shows the line to complete, as for a missing key
    if not where:
        label = {"sponsor": "Sponsor", "test_facility": "Test facility",
                 "study_director": "Study director"}[key]
        assert dict(title_block(spec))[label] == BLANK


def test_a_complete_statement_is_ready():
    from neurotox.study import left_to_complete

    assert left_to_complete(_spec(**READY)) == []
    assert _spec(sponsor=" Acme ").sponsor == " Acme "   # text kept as written


@pytest.mark.parametrize(("dates", "later", "earlier"), [
    ({"experimental_start": "2026-01-12", "experimental_end": "2025-01-01"},
     "experimental_end (2025-01-01)", "experimental_start (2026-01-12)"),
    ({"initiation": "2026-02-01", "experimental_start": "2026-01-12"},
     "experimental_start (2026-01-12)", "initiation (2026-02-01)"),
    ({"experimental_end": "2026-02-09", "report": "2026-02-08"},
     "report (2026-02-08)", "experimental_end (2026-02-09)"),
    ({"initiation": "2026-01-05", "report": "2026-01-04"},
     "report (2026-01-04)", "initiation (2026-01-05)"),
    ({"initiation": "2026-01-05", "experimental_start": "2026-01-12",   # stranger39's case
      "experimental_end": "2025-01-01"},
     "experimental_end (2025-01-01)", "experimental_start (2026-01-12)"),
])
def test_study_dates_out_of_order_are_refused(dates, later, earlier, tmp_path):
    """stranger39 E1: experimental_end before experimental_start was signed without a check."""
    (tmp_path / "study.yaml").write_text(
        "study_id: S-1\ntitle: T\ntest_item: X\n"
        f"dates: {dates!r}\n".replace("'", "") +
        "groups:\n  - {id: G1, label: C, dose: 0, dose_unit: mg/kg/day, control: true}\n")
    with pytest.raises(InputError) as info:
        load_study(tmp_path / "study.yaml")
    assert str(info.value) == (
        f"{tmp_path / 'study.yaml'}, key 'dates': dates.{later} is before dates.{earlier}; "
        "the dates are initiation, experimental start, experimental end, report, in that "
        "order")


def test_study_dates_on_one_day_are_in_order():
    spec = _spec(dates={"initiation": "2026-01-12", "experimental_start": "2026-01-12",
                        "experimental_end": "2026-01-12", "report": "2026-01-12"})
    assert spec.dates.experimental_end == spec.dates.experimental_start


def test_study_dates_in_the_future_are_warnings():
    """stranger53 V6: a study 'started' in 2099 was accepted without a word. The rule of
    the historical control database (after tomorrow, UTC), as a warning: a planned study."""
    from neurotox.study import date_warnings, future_date

    today = dt.date(2026, 12, 5)
    spec = _spec(dates={"initiation": "2026-12-06", "experimental_start": "2026-12-07",
                        "experimental_end": "2099-02-01"})
    assert date_warnings(spec, today) == [
        "key 'dates.experimental_start': 2026-12-07 lies in the future (today is 2026-12-05, "
        "UTC): a study still planned, or a typo?",
        "key 'dates.experimental_end': 2099-02-01 lies in the future (today is 2026-12-05, "
        "UTC): a study still planned, or a typo?"]
    assert future_date("2026-12-06", "x", today) is None          # tomorrow: east of UTC
    assert future_date("2026-13-01", "x", today) is None          # no date: said elsewhere
    assert date_warnings(_spec(), today) == []


def test_check_warns_of_future_study_dates(tmp_path):
    from click.testing import CliRunner

    from neurotox.cli.main import cli

    (tmp_path / "study.yaml").write_text(
        "study_id: S-1\ntitle: T\ntest_item: X\n"
        "dates: {initiation: 2026-01-05, experimental_start: 2099-01-01}\n"
        "groups:\n  - {id: G1, label: C, dose: 0, dose_unit: mg/kg/day, control: true}\n")
    today = dt.datetime.now(dt.UTC).date()
    line = (f"study.yaml, key 'dates.experimental_start': 2099-01-01 lies in the future (today "
            f"is {today}, UTC): a study still planned, or a typo?")
    r = CliRunner().invoke(cli, ["check", str(tmp_path / "study.yaml")])
    assert r.exit_code == 0, r.output
    assert f"WARNING: {line}" in r.output and "study is valid" in r.output
    r = CliRunner().invoke(cli, ["--warnings-as-errors", "check", str(tmp_path / "study.yaml")])
    assert r.exit_code == 2
    assert f"Error: {line} (a warning, an error under --warnings-as-errors)" in r.output


def _report_folder(folder, study_id: str, run_id: str, amends: dict | None = None,
                   key=None):
    """A report folder as neurotox leaves it: run.json listed in manifest.json with its hash."""
    import json

    from neurotox.io.output import RunRecord, build_manifest

    folder.mkdir()
    record = json.dumps({"run_id": run_id, "study_id": study_id,
                         "parameters": {"amends": amends} if amends else {}}).encode()
    (folder / "run.json").write_bytes(record)
    manifest = build_manifest(RunRecord(), folder, key=key)
    (folder / "manifest.json").write_text(json.dumps(manifest))


def _amending_study(tmp_path, run: str, number: int = 1):
    (tmp_path / "study").mkdir(exist_ok=True)
    (tmp_path / "study" / "study.yaml").write_text(
        "study_id: S-1\ntitle: T\ntest_item: X\nglp: true\n"
        f"report: {{amends: {{run: '{run}', number: {number}, reason: 'Table 3 corrected: "
        "G2M4 belongs to G1'}}\n"
        "groups:\n  - {id: G1, label: C, dose: 0, dose_unit: mg/kg/day, control: true}\n")
    return tmp_path / "study" / "study.yaml"


def test_an_amendment_names_the_run_it_amends_read_from_its_folder(tmp_path):
    """stranger45 1: a corrected re-run read as a second, independent final report."""
    from neurotox.report.front import amendment_text

    _report_folder(tmp_path / "final", "S-1", "20261205T164753Z-1a2b3c4d")
    study, amended = load_amending_study(_amending_study(tmp_path, "../final"))
    assert amended == AmendedRun("20261205T164753Z-1a2b3c4d", tmp_path / "study" / "../final",
                                 signed=False)
    text = amendment_text(study.spec, amended.run_id)
    assert text == ("Amendment 1 to the report of run 20261205T164753Z-1a2b3c4d: Table 3 "
                    "corrected: G2M4 belongs to G1")
    rows = title_block(study.spec, "2026-12-05", text)
    assert rows[:3] == [("Study number", "S-1"), ("Study title", "T"), ("Amendment", text)]
    # a run ID is taken as written
    study, amended = load_amending_study(_amending_study(tmp_path, "20261205T164753Z-00ff00ff", 2))
    assert amended == AmendedRun("20261205T164753Z-00ff00ff")
    assert dict(title_block(study.spec))["Amendment"] == (
        "Amendment 2 to the report of run 20261205T164753Z-00ff00ff: Table 3 corrected: "
        "G2M4 belongs to G1")


def test_the_amendment_is_recorded_in_the_run_parameters_only_when_there_is_one(tmp_path):
    from neurotox.io.output import RunRecord
    from neurotox.pipeline import record_amendment

    study, amended = load_amending_study(_amending_study(tmp_path, "20261205T164753Z-00ff00ff", 2))
    record = RunRecord()
    assert record_amendment(study, amended, record) == (
        "Amendment 2 to the report of run 20261205T164753Z-00ff00ff: Table 3 corrected: "
        "G2M4 belongs to G1")
    assert record.parameters["amends"] == {
        "study_id": "S-1", "run_id": "20261205T164753Z-00ff00ff", "folder": None, "number": 2,
        "reason": "Table 3 corrected: G2M4 belongs to G1"}
    (tmp_path / "plain").mkdir()
    (tmp_path / "plain" / "study.yaml").write_text(
        "study_id: S-1\ntitle: T\ntest_item: X\nglp: true\ngroups:\n"
        "  - {id: G1, label: C, dose: 0, dose_unit: mg/kg/day, control: true}\n")
    study, amended = load_amending_study(tmp_path / "plain" / "study.yaml")
    record = RunRecord()
    assert amended is None
    assert record_amendment(study, amended, record) == ""
    assert "amends" not in record.parameters


def test_traceability_block_prints_the_amendment():
    from neurotox.report.front import traceability
    from neurotox.report.model import RunStamp

    stamp = RunStamp(run_id="20261206T090000Z-0badc0de", date="2026-12-06",
                     time="09:00:00 UTC", command="neurotox report", software="neurotox 1",
                     amendment="Amendment 1 to the report of run 20261205T164753Z-1a2b3c4d: "
                               "typo in Table 3")
    rows = traceability(stamp)
    assert rows[:2] == [("Run ID", "20261206T090000Z-0badc0de"),
                        ("Amendment", "Amendment 1 to the report of run "
                                      "20261205T164753Z-1a2b3c4d: typo in Table 3")]
    assert "Amendment" not in dict(traceability(RunStamp(
        run_id="r", date="d", time="t", command="c", software="s")))


@pytest.mark.parametrize(("make", "run", "number", "message"), [
    (None, "../final", 1, r"key 'report\.amends\.run': '\.\./final' is neither a run ID \(such "
                          r"as 20261205T164753Z-1a2b3c4d\) nor a report folder$"),
    (("S-2", None), "../final", 1,
     r"key 'report\.amends\.run': folder '\.\./final' holds the report of study S-2, not of "
     r"study S-1; an amendment amends a report of its own study$"),
    (("S-1", {"number": 1}), "../final", 1,
     r"key 'report\.amends\.number': amendment 1 does not follow the report it amends, which "
     r"is amendment 1; number it 2 or higher$"),
    (("S-1", None), "../final", 0, r"key 'report\.amends\.number': Input should be greater "
                                   r"than or equal to 1"),
    ("tampered", "../final", 1, r"key 'report\.amends\.run': run\.json of folder '\.\./final' "
                                r"is not the one its manifest\.json lists"),
    ("empty", "../final", 1, r"key 'report\.amends\.run': folder '\.\./final' is not a "
                             r"neurotox report folder \(no run\.json and manifest\.json\)$"),
    ("foreign", "../final", 1, r"key 'report\.amends\.run': folder '\.\./final': manifest\.json "
                               r"is not a neurotox manifest \(key 'format': expected "
                               r"'neurotox-manifest/2'\)$"),
])
def test_the_amended_report_is_checked(make, run, number, message, tmp_path):
    if make == "empty":
        (tmp_path / "final").mkdir()
    elif make == "foreign":   # a manifest.json some other tool wrote
        (tmp_path / "final").mkdir()
        (tmp_path / "final" / "run.json").write_text('{"run_id": "x", "study_id": "S-1"}')
        (tmp_path / "final" / "manifest.json").write_text('{"outputs": []}')
    elif make == "tampered":
        _report_folder(tmp_path / "final", "S-1", "20261205T164753Z-1a2b3c4d")
        (tmp_path / "final" / "run.json").write_text(
            '{"run_id": "20261205T164753Z-1a2b3c4d", "study_id": "S-1"}')
    elif make is not None:
        _report_folder(tmp_path / "final", make[0], "20261205T164753Z-1a2b3c4d", make[1])
    with pytest.raises(InputError, match=message):
        load_amending_study(_amending_study(tmp_path, run, number))


def test_an_amended_draft_is_warned_about_and_a_signed_report_is_not(tmp_path):
    from neurotox.io.output import SigningKey

    draft = "warning: study.yaml, key 'report.amends.run': the report in '../final' was not " \
            "signed (a draft, not a final report); an amendment amends a signed final " \
            "report, a draft is simply run again"
    _report_folder(tmp_path / "final", "S-1", "20261205T164753Z-1a2b3c4d")
    study, amended = load_amending_study(_amending_study(tmp_path, "../final"))
    assert draft in study.notes
    signed = tmp_path / "signed"
    signed.mkdir()
    _report_folder(signed / "final", "S-1", "20261205T164753Z-1a2b3c4d",
                   key=SigningKey(b"0123456789abcdef0123"))
    study, amended = load_amending_study(_amending_study(signed, "../final"))
    assert amended.signed is True
    assert not [n for n in study.notes if "report.amends" in n]
    # the study layer itself does not open the other run's folder
    assert not [n for n in load_study(_amending_study(tmp_path, "../final")).notes
                if "report.amends" in n]


QA_DATES = {"glp": True, "dates": {"initiation": "2026-01-01", "report": "2026-12-20"},
            "report": {"qa_inspections": [
                {"phase": "in-life", "inspected": "2026-01-20", "reported": "2025-01-19"},
                {"phase": "final report", "inspected": "2030-01-01"}]}}


def test_qa_inspection_dates_that_cannot_be_so_are_warnings():
    """stranger45 7: reported before inspected, before initiation, after the report date
    and in the future: 'study is valid' without a word."""
    from neurotox.study import qa_warnings

    assert qa_warnings(_spec(**QA_DATES), dt.date(2026, 12, 5)) == [
        "key 'report.qa_inspections[0].reported': reported (2025-01-19) before the inspection "
        "(2026-01-20)",
        "key 'report.qa_inspections[0].reported': 2025-01-19 is before the study's initiation "
        "(dates.initiation 2026-01-01)",
        "key 'report.qa_inspections[1].inspected': 2030-01-01 is after the report date "
        "(dates.report 2026-12-20)",
        "key 'report.qa_inspections[1].inspected': 2030-01-01 is in the future (today is "
        "2026-12-05)"]
    fine = {"phase": "draft report", "inspected": "2026-03-02", "reported": "2026-03-03"}
    assert qa_warnings(_spec(glp=True, dates=QA_DATES["dates"],
                             report={"qa_inspections": [fine]}), dt.date(2026, 12, 5)) == []


def test_qa_statement_says_the_report_was_inspected_only_when_listed(tmp_path):
    """stranger45 7: one in-life inspection, and the statement said the report was inspected."""
    from neurotox.report.front import QA_TEXT, qa_statement
    from neurotox.study import qa_warnings

    in_life = _spec(glp=True, report={"qa_inspections": [
        {"phase": "in-life", "inspected": "2026-01-20", "reported": "2026-01-21"}]})
    assert qa_statement(in_life) == (
        "The conduct of this study was inspected by the Quality Assurance Unit of the test "
        "facility. The dates of inspection and of reporting the findings to the study director "
        "and test facility management are listed below. No inspection of this report is listed.")
    assert front_matter(in_life).qa_text == qa_statement(in_life)
    assert qa_warnings(in_life, dt.date(2026, 12, 5)) == [
        "key 'report.qa_inspections': no inspection of the report is listed (no phase naming "
        "'report'); the QA statement does not say the report was inspected"]
    assert qa_statement(_spec(**QA_DATES)) == QA_TEXT     # "final report" is listed
    assert qa_statement(_spec(glp=True)) == QA_TEXT       # rows for QA to complete
    # the warnings reach the run notes (and 'neurotox check') naming the file
    (tmp_path / "study.yaml").write_text(
        "study_id: S-1\ntitle: T\ntest_item: X\nglp: true\n"
        "report: {qa_inspections: [{phase: in-life, inspected: 2026-01-20, "
        "reported: 2026-01-19}]}\n"
        "groups:\n  - {id: G1, label: C, dose: 0, dose_unit: mg/kg/day, control: true}\n")
    assert load_study(tmp_path / "study.yaml").notes == [
        "warning: study.yaml, key 'report.qa_inspections[0].reported': reported (2026-01-19) "
        "before the inspection (2026-01-20)",
        "warning: study.yaml, key 'report.qa_inspections': no inspection of the report is "
        "listed (no phase naming 'report'); the QA statement does not say the report was "
        "inspected"]


def test_no_exceptions_beside_a_deviation_says_with_the_deviations_listed(table, analysis):
    """stranger45 11: 'without exception' was printed beside a recorded DEVIATION."""
    from neurotox.report import build_report
    from neurotox.report.front import COMPLIANCE, compliance_statement

    from .conftest import make_spec

    spec = make_spec().model_copy(update={"report": _spec(report={
        "glp_exceptions": "none", "archive": "Room 2"}).report})
    expected = COMPLIANCE[0].replace("with the exceptions listed below",
                                     "with the deviations listed under Guideline deviations")
    assert compliance_statement(spec, deviations=True)[0] == expected
    assert "at the test facility, with the deviations listed under Guideline deviations. " \
        "This report" in expected
    results, decisions = analysis
    report = build_report(spec, table, results, decisions, software={"neurotox": "t"},
                          deviations=(d for d in ["raw values changed: 30 expected "
                                                  "concentration(s) repaired"]),
                          figures=False, bmd=False)
    assert report.front.compliance[0] == expected
    assert report.deviations == ["raw values changed: 30 expected concentration(s) repaired"]
    report = build_report(spec, table, results, decisions, software={"neurotox": "t"},
                          figures=False, bmd=False)
    assert "without exception." in report.front.compliance[0]   # no deviation listed
