"""A report says how its values were made and from which files, and is finalised at source.

A simulated T-maze study with one parameter changed from its template and the
GLP keys a study director fills before signing: the report's "Materials and
methods of the analysis" names the protocol with the SHA-256 of its template
file, the changed parameter with the template's value, the assay's
conventions and every input file with the SHA-256 of its bytes; the statement
of compliance prints the exceptions and the archive; the folder verifies.
"""

from __future__ import annotations

import hashlib
import io
import json

import pytest
import yaml
from docx import Document
from openpyxl import load_workbook

from neurotox.protocols import protocol_dir
from neurotox.report.materials import TITLE


def _sha(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def finalised(tmp_path_factory):
    from click.testing import CliRunner

    from neurotox.cli.main import cli

    folder = tmp_path_factory.mktemp("tmaze")
    runner = CliRunner()
    assert runner.invoke(cli, ["simulate", "tmaze", "-o", str(folder / "study")]).exit_code == 0
    study = folder / "study" / "study.yaml"
    spec = yaml.safe_load(study.read_text(encoding="utf-8"))
    spec["glp"] = True
    spec["assays"][0]["parameters"] = {"min_entries": 6}
    spec["report"] = {"glp_exceptions": ["Dose formulations were not analysed.",
                                         "Room temperature was not recorded on day 3."],
                      "archive": "Example Lab archive, room B12"}
    study.write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")
    out = folder / "rep"
    res = runner.invoke(cli, ["report", str(study), "-o", str(out), "--no-bmd",
                              "--format", "docx,html,xlsx"])
    assert res.exit_code == 0, res.output
    return folder / "study", out


def test_methods_name_the_protocol_the_changed_parameter_and_the_conventions(finalised):
    _, out = finalised
    html = (out / "report.html").read_text(encoding="utf-8")
    start, stats = html.index(f'<h2 id="materials">{TITLE}</h2>'), html.index('id="methods"')
    section = html[start:stats]
    template = protocol_dir() / "tmaze-spontaneous.yaml"
    assert ("<h3>Assay tmaze</h3><p>Protocol tmaze-spontaneous (Continuous spontaneous "
            "alternation (T- or Y-maze, 3 arms)): the template shipped with neurotox ") in section
    assert (f", file tmaze-spontaneous.yaml, SHA-256 {_sha(template)}. Guidelines named by the "
            "protocol: OECD TG 426.</p>") in section
    assert ("<p>Parameters that differ from the template tmaze-spontaneous: min_entries = 6 "
            "(template: 8; set in the study file). run.json records the effective value of "
            "every parameter.</p>") in section
    # the conventions are said once, here, not among the statistical methods
    assert "Conventions of assay tmaze: Arm re-entries: every entry counts" in section
    assert html.count("Conventions of assay tmaze") == 1
    assert '<li><a href="#materials">' in html


def test_every_input_is_listed_with_the_sha256_of_its_bytes(finalised):
    study, out = finalised
    record = json.loads((out / "run.json").read_text())
    html = (out / "report.html").read_text(encoding="utf-8")
    files = {p.name: p for p in study.iterdir()}
    listed = {}
    for entry in record["inputs"]:
        name = entry["path"].rsplit("/", 1)[-1]
        assert entry["sha256"] == _sha(files[name])
        # named relative to the study's folder: the same text wherever the study is kept
        assert f"<tr><td>{name}</td><td><code>{entry['sha256']}</code></td></tr>" in html
        listed[name] = entry["sha256"]
    assert set(listed) == {"study.yaml", "subjects.csv", "tmaze_entries.csv"}
    sheet = load_workbook(out / "report.xlsx")["Materials and methods"]
    rows = [r for r in sheet.iter_rows(values_only=True) if r[0]]
    assert rows[0][0] == TITLE
    assert {r[0]: r[1] for r in rows if r[1] and r[0] != "File"} == listed


def test_docx_has_the_section_and_the_completed_compliance_statement(finalised):
    _, out = finalised
    doc = Document(io.BytesIO((out / "report.docx").read_bytes()))
    heads = [(p.style.name, p.text) for p in doc.paragraphs if p.style.name.startswith("Heading")]
    i = heads.index(("Heading 1", TITLE))
    assert heads[i + 1] == ("Heading 2", "Assay tmaze")
    assert heads[i + 2] == ("Heading 2", "Study files")
    assert heads[i + 3] == ("Heading 1", "Statistical methods")
    texts = [p.text for p in doc.paragraphs]
    j = texts.index("Exceptions:")
    assert texts[j + 1:j + 4] == [
        "1. Dose formulations were not analysed.",
        "2. Room temperature was not recorded on day 3.",
        "Archive (location of the study plan, samples of the test item, specimens, raw data "
        "and the final report): Example Lab archive, room B12"]
    assert not any(t.startswith("Exceptions (if none") for t in texts)
    # a document system shows the time of the run, not a constant
    run_time = json.loads((out / "run.json").read_text())["date_utc"]
    run_date = run_time[:10]
    assert doc.core_properties.created.strftime("%Y-%m-%dT%H:%M:%SZ") == run_time
    assert doc.core_properties.modified == doc.core_properties.created
    assert doc.core_properties.subject == json.loads((out / "run.json").read_text())["study_id"]
    assert load_workbook(out / "report.xlsx").properties.created.date().isoformat() == run_date


def test_the_finalised_report_verifies_and_says_what_is_left_to_complete(finalised):
    from click.testing import CliRunner

    from neurotox.cli.main import cli

    study, out = finalised
    res = CliRunner().invoke(cli, ["verify", str(out)])
    assert res.exit_code == 0, res.output
    assert "intact" in res.output
    left = ("sponsor, test_facility, study_director, dates.initiation, "
            "dates.experimental_start, dates.experimental_end, report.qa_inspections, "
            "report.qa_name, noael, loael")
    manifest = json.loads((out / "manifest.json").read_text())
    assert ("GLP report: left to complete before signing (study-file keys): " + left
            in manifest["notes"])
    res = CliRunner().invoke(cli, ["check", str(study / "study.yaml"), "--no-assays"])
    assert res.exit_code == 0, res.output
    assert f"  GLP report: left to complete before signing: {left} (a signed report" in res.output


def _key(folder):
    import os

    key = folder / "lab.key"
    key.write_bytes(os.urandom(32))
    key.chmod(0o600)
    return key


@pytest.mark.parametrize("how", ["option", "environment"])
def test_signing_a_glp_report_with_keys_left_to_complete_is_refused(finalised, tmp_path,
                                                                    monkeypatch, how):
    """stranger37 1: a GLP report with every GLP key missing was signed (final), exit 0."""
    from click.testing import CliRunner

    from neurotox.cli.main import cli

    study, _ = finalised
    key = _key(tmp_path)
    args = ["report", str(study / "study.yaml"), "-o", str(tmp_path / "final"), "--no-bmd",
            "--format", "csv"]
    if how == "option":
        args += ["--sign-key", str(key)]
    else:
        monkeypatch.setenv("NEUROTOX_SIGN_KEY_FILE", str(key))
    res = CliRunner().invoke(cli, args)
    assert res.exit_code == 2, res.output
    assert res.output.strip().splitlines() == [
        f"Error: {study / 'study.yaml'}: a signed GLP report is final, but the study file "
        "leaves out sponsor, test_facility, study_director, dates.initiation, "
        "dates.experimental_start, dates.experimental_end, report.qa_inspections, "
        "report.qa_name, noael, loael; add them, or write an unsigned draft (without "
        "--sign-key and NEUROTOX_SIGN_KEY_FILE)"]
    assert not (tmp_path / "final").exists()


def test_a_complete_glp_report_is_signed_and_says_so(finalised, tmp_path):
    """stranger37 1, 6, 12, 15: complete keys sign; one report date; QA named; key ID printed."""
    from click.testing import CliRunner

    from neurotox.cli.main import cli
    from neurotox.io.output import load_key

    study, _ = finalised
    spec = yaml.safe_load((study / "study.yaml").read_text(encoding="utf-8"))
    spec.update({"sponsor": "Example Pharma AG", "test_facility": "Example Lab",
                 "study_director": "Dr. A. Director",
                 "dates": {"initiation": "2026-01-05", "experimental_start": "2026-01-12",
                           "experimental_end": "2026-02-09", "report": "2026-03-16"},
                 "noael": {"dose": None, "basis": "not established"},
                 "loael": {"dose": None, "basis": "not established"}})
    spec["report"].update({"qa_name": "B. Auditor", "qa_inspections": [
        {"phase": "Report", "inspected": "2026-03-01", "reported": "2026-03-02"}]})
    complete = tmp_path / "study"
    complete.mkdir()
    for f in study.iterdir():
        (complete / f.name).write_bytes(f.read_bytes())
    (complete / "study.yaml").write_text(yaml.safe_dump(spec, sort_keys=False),
                                         encoding="utf-8")
    key = _key(tmp_path)
    out = tmp_path / "final"
    res = CliRunner().invoke(cli, ["report", str(complete / "study.yaml"), "-o", str(out),
                                   "--no-bmd", "--format", "docx,html", "--sign-key",
                                   str(key)])
    assert res.exit_code == 0, res.output
    key_id = load_key(key).key_id
    res = CliRunner().invoke(cli, ["verify", str(out), "--key", str(key)])
    assert res.output.strip() == f"{out}: intact; signature valid (key {key_id})"
    record = json.loads((out / "run.json").read_text())
    assert record["signing_key_id"] == key_id and record["report_date"] == "2026-03-16"
    data = (out / "report.docx").read_bytes()
    doc = Document(io.BytesIO(data))
    rows = {r.cells[0].text: r.cells[1].text for t in doc.tables[:2] for r in t.rows}
    assert rows["Report date"] == "2026-03-16"
    assert rows["Integrity seal"].startswith(
        "sealed: manifest.json, which lists every file of the report folder with its SHA-256, "
        f"carries an HMAC-SHA256 made with the key of key ID {key_id}. A keyed integrity seal "
        "of the folder, not a personal or electronic signature")
    texts = [p.text for p in doc.paragraphs]
    assert "Quality Assurance: B. Auditor" in texts
    assert "Study director: Dr. A. Director" in texts
    # nothing left to complete but the hand signatures and their dates
    blanks = [t for t in texts if "____" in t]
    assert set(blanks) == {"Signature: ________________________        Date: ______________"}
    cells = [c.text for t in doc.tables for r in t.rows for c in r.cells]
    assert not any("____" in c or "to be entered" in c for c in cells)
    for section in doc.sections:   # one report date: the footers print the title page's
        footer = "".join(p.text for p in section.footer.paragraphs)
        assert "Report date 2026-03-16" in footer
    html = (out / "report.html").read_text(encoding="utf-8")
    assert f"key ID {key_id}" in html and "report date 2026-03-16" in html


def test_blank_statements_are_not_signed_but_a_draft_is_written(finalised, tmp_path):
    """stranger39 E1: ``sponsor: ''`` and ``qa_name: '   '`` were signed as a final report."""
    from click.testing import CliRunner

    from neurotox.cli.main import cli

    study, _ = finalised
    spec = yaml.safe_load((study / "study.yaml").read_text(encoding="utf-8"))
    spec.update({"sponsor": "", "test_facility": "Example Lab", "study_director": "  ",
                 "dates": {"initiation": "2026-01-05", "experimental_start": "2026-01-12",
                           "experimental_end": "2026-02-09", "report": "2026-03-16"},
                 "noael": {"dose": None, "basis": "not established"},
                 "loael": {"dose": None, "basis": "not established"}})
    spec["report"].update({"qa_name": "   ", "qa_inspections": [
        {"phase": "Report", "inspected": "2026-03-01", "reported": "2026-03-02"}]})
    blank = tmp_path / "study"
    blank.mkdir()
    for f in study.iterdir():
        (blank / f.name).write_bytes(f.read_bytes())
    (blank / "study.yaml").write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")
    args = ["report", str(blank / "study.yaml"), "--no-bmd", "--format", "html"]
    res = CliRunner().invoke(cli, [*args, "-o", str(tmp_path / "final"), "--sign-key",
                                   str(_key(tmp_path))])
    assert res.exit_code == 2, res.output
    assert res.output.strip().splitlines() == [
        f"Error: {blank / 'study.yaml'}: a signed GLP report is final, but the study file "
        "leaves out sponsor, study_director, report.qa_name; add them, or write an unsigned "
        "draft (without --sign-key and NEUROTOX_SIGN_KEY_FILE)"]
    assert not (tmp_path / "final").exists()
    res = CliRunner().invoke(cli, ["--quiet", *args, "-o", str(tmp_path / "draft")])
    assert res.exit_code == 0, res.output
    notes = json.loads((tmp_path / "draft" / "manifest.json").read_text())["notes"]
    assert ("GLP report: left to complete before signing (study-file keys): sponsor, "
            "study_director, report.qa_name" in notes)


def test_an_amendment_says_which_report_it_amends_in_every_format(finalised, tmp_path):
    """stranger45 1: a corrected re-run looked like a second, independent final report."""
    from click.testing import CliRunner

    from neurotox.cli.main import cli

    study, first = finalised
    amended = tmp_path / "study"
    amended.mkdir()
    for f in study.iterdir():
        (amended / f.name).write_bytes(f.read_bytes())
    spec = yaml.safe_load((study / "study.yaml").read_text(encoding="utf-8"))
    spec["report"]["amends"] = {"run": str(first), "number": 1,
                                "reason": "Table 2 corrected: animal T03 excluded"}
    (amended / "study.yaml").write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")
    out = tmp_path / "amendment"
    res = CliRunner().invoke(cli, ["report", str(amended / "study.yaml"), "-o", str(out),
                                   "--no-bmd", "--format", "docx,html,xlsx"])
    assert res.exit_code == 0, res.output
    # the fixture's report was never signed (stranger50: an amendment of a draft passed)
    assert (f"WARNING: study.yaml, key 'report.amends.run': the report in {str(first)!r} was "
            "not signed (a draft, not a final report); an amendment amends a signed final "
            "report, a draft is simply run again") in res.output
    run_id = json.loads((first / "run.json").read_text())["run_id"]
    line = f"Amendment 1 to the report of run {run_id}: Table 2 corrected: animal T03 excluded"
    doc = Document(out / "report.docx")
    title, trace = ({r.cells[0].text: r.cells[1].text for r in t.rows} for t in doc.tables[:2])
    assert title["Amendment"] == trace["Amendment"] == line
    html = (out / "report.html").read_text(encoding="utf-8")
    assert html.count(f"<dt>Amendment</dt><dd>{line}</dd>") == 2
    contents = [r for r in load_workbook(out / "report.xlsx")["Contents"].iter_rows(
        values_only=True) if r[0] == "Amendment"]
    assert [r[1] for r in contents] == [line, line]
    for record in ("run.json", "manifest.json"):
        assert json.loads((out / record).read_text())["parameters"]["amends"] == {
            "study_id": spec["study_id"], "run_id": run_id, "folder": str(first.resolve()),
            "number": 1, "reason": "Table 2 corrected: animal T03 excluded"}
