"""``neurotox report`` end to end on a small hand-made study, with the real statistics."""

import io
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from docx import Document
from openpyxl import load_workbook
from tests.stamps import same_report_files

from neurotox.io.output import verify

STUDY = """\
study_id: NTX-R-001
title: Report test study
test_item: Compound R
glp: true
species: Rat
strain: Wistar
groups:
  - {id: G1, label: Control, dose: 0, dose_unit: mg/kg/day, control: true}
  - {id: G2, label: Low, dose: 10, dose_unit: mg/kg/day}
  - {id: G3, label: High, dose: 100, dose_unit: mg/kg/day}
subjects: subjects.csv
exclusions: exclusions.csv
statistics: {alpha: 0.05, sided: two}
"""


def _endpoint_table() -> pd.DataFrame:
    rng = np.random.default_rng(7)
    rows = []
    for g, dose, shift in (("G1", 0.0, 0.0), ("G2", 10.0, -20.0), ("G3", 100.0, -250.0)):
        for sex in ("M", "F"):
            for i in range(8):
                subj = f"{g}{sex}{i + 1:02d}"
                common = {"study_id": "NTX-R-001", "assay": "fob", "category": "neurobehavioral",
                          "subject": subj, "group": g, "dose": dose, "dose_unit": "mg/kg/day",
                          "sex": sex, "timepoint": "NA", "excluded": False,
                          "exclusion_reason": "", "batch": "NA", "source": "hand"}
                rows.append({**common, "endpoint": "grip_strength_forelimb", "unit": "g",
                             "value": round(1000 + shift + rng.normal(0, 60), 1)})
                for k, b in enumerate(("bin1", "bin2", "bin3")):
                    rows.append({**common, "assay": "motor_activity",
                                 "endpoint": "motor_activity_counts", "unit": "count",
                                 "timepoint": b,
                                 "value": round(300 - 60 * k + (shift / 3 if k else 0)
                                                + rng.normal(0, 25))})
    return pd.DataFrame(rows)


def _write_study(d):
    d.mkdir()
    (d / "study.yaml").write_text(STUDY)
    table = _endpoint_table()
    subjects = table.drop_duplicates("subject")[["subject", "group", "sex"]]
    subjects.to_csv(d / "subjects.csv", index=False)
    (d / "exclusions.csv").write_text("subject,reason,endpoint\n"
                                      "G2M03,dosing error,grip_strength_forelimb\n")
    table.to_csv(d / "endpoints.csv", index=False)
    return d


@pytest.fixture
def study_dir(tmp_path):
    return _write_study(tmp_path / "study")


@pytest.fixture(scope="module")
def report_dir(tmp_path_factory):
    """One report run shared by the read-only tests of this module."""
    from click.testing import CliRunner

    from neurotox.cli.main import cli

    base = tmp_path_factory.mktemp("report")
    study = _write_study(base / "study")
    out = base / "out"
    r = CliRunner().invoke(cli, ["--quiet", "report", "--endpoints", str(study / "endpoints.csv"),
                                 "--study", str(study / "study.yaml"), "-o", str(out)],
                           catch_exceptions=False)
    assert r.exit_code == 0, r.output
    assert "tables" in r.output
    return out


def test_report_writes_all_formats_and_verifies(report_dir):
    for rel in ("report.xlsx", "report.docx", "report.html", "csv/results.csv",
                "csv/decisions.csv", "csv/endpoints.csv", "manifest.json", "run.json",
                "run.log"):
        assert (report_dir / rel).is_file(), rel
    # grip strength per sex: group means + BMD dose-response; motor activity: time course
    assert len(list((report_dir / "figures").glob("*.png"))) == 6
    assert len(list((report_dir / "figures").glob("*.svg"))) == 6
    assert any(ws.endswith(" bmd") for ws in load_workbook(report_dir / "report.xlsx").sheetnames)
    assert verify(report_dir) == []


def test_manual_exclusion_applied_and_recorded(report_dir):
    manifest = json.loads((report_dir / "manifest.json").read_text())
    assert manifest["exclusions"] == [{"rule": "manual exclusions file", "subject": "G2M03",
                                       "endpoint": "grip_strength_forelimb",
                                       "reason": "dosing error", "values": 1}]
    eps = pd.read_csv(report_dir / "csv/endpoints.csv", keep_default_na=False)
    row = eps[(eps["subject"] == "G2M03") & (eps["endpoint"] == "grip_strength_forelimb")]
    assert row["excluded"].tolist() == [True]
    assert row["exclusion_reason"].tolist() == ["manual exclusion: dosing error"]
    res = pd.read_csv(report_dir / "csv/results.csv", keep_default_na=False)
    g2m = res[(res["endpoint"] == "grip_strength_forelimb") & (res["group"] == "G2")
              & (res["sex"] == "M")]
    assert g2m["n"].tolist() == [7]
    html = (report_dir / "report.html").read_text()
    assert "excluded: manual exclusion: dosing error" in html


def test_values_from_an_endpoint_table_are_said_to_come_from_it(report_dir):
    import hashlib

    record = json.loads((report_dir / "run.json").read_text())
    table = next(i for i in record["inputs"] if i["path"].endswith("endpoints.csv"))
    source = Path(table["path"])
    assert table["sha256"] == hashlib.sha256(source.read_bytes()).hexdigest()
    html = (report_dir / "report.html").read_text()
    start = html.index('<h2 id="materials">')
    section = html[start:html.index('<h2 id="methods">')]
    assert ("<h3>Endpoint values</h3><p>The endpoint values were read from an EndpointTable "
            "made elsewhere; no assay was run by this analysis") in section
    assert f"<tr><td>endpoints.csv</td><td><code>{table['sha256']}</code></td></tr>" in section
    assert "<h3>Study files</h3>" in section and "<td>exclusions.csv</td>" in section
    assert "Protocol " not in section   # no assay ran: no protocol is claimed


def _expected_flag(p: float, alpha: float) -> str:
    if not math.isfinite(p):
        return ""
    return "**" if p <= 0.01 else "*" if p <= alpha else ""


def test_xlsx_flags_agree_with_csv_p_values(report_dir):
    res = pd.read_csv(report_dir / "csv/results.csv", keep_default_na=False,
                      na_values=[""])
    wb = load_workbook(report_dir / "report.xlsx")
    ws = wb["T03 summary"]  # grip strength, males (T01 findings, T02 NOAEL/LOAEL)
    rows = list(ws.iter_rows(values_only=True))
    head = next(i for i, r in enumerate(rows) if r[0] == "Group")
    grip = res[(res["endpoint"] == "grip_strength_forelimb") & (res["sex"] == "M")]
    grip = grip.set_index("group")
    n_flagged = 0
    for r in rows[head + 1: head + 4]:
        gid = r[0].split()[0]
        p = grip.loc[gid, "p_value"]
        p = float(p) if p == p else math.nan
        text, flag = r[2], r[8] or ""
        expected = _expected_flag(p, 0.05)
        assert flag.rstrip("↑↓") == expected == (grip.loc[gid, "flag"]
                                                 if grip.loc[gid, "flag"] == grip.loc[gid, "flag"]
                                                 else "")
        assert (expected in text) if expected else ("*" not in text)
        n_flagged += bool(expected)
    assert n_flagged >= 1  # the high dose is 25 % lower: planted effect is found
    trend = rows[head + 4]
    assert trend[0] == "Trend test"
    assert trend[7] == pytest.approx(float(grip.loc["G3", "trend_p"]))
    assert (trend[8] or "") == _expected_flag(float(grip.loc["G3", "trend_p"]), 0.05)


def test_footnote_names_decision_test(report_dir):
    dec = pd.read_csv(report_dir / "csv/decisions.csv", keep_default_na=False)
    doc = Document(io.BytesIO((report_dir / "report.docx").read_bytes()))
    texts = [p.text for p in doc.paragraphs]
    start = next(i for i, p in enumerate(doc.paragraphs) if p.style.name == "Heading 3"
                 and p.text.startswith("Table 3. Summary: Forelimb"))   # not its contents entry
    notes = texts[start + 2: start + 8]
    d = dec[(dec["endpoint"] == "grip_strength_forelimb") & (dec["sex"] == "M")].iloc[0]
    assert any(f"{d['pairwise_test']} vs control ({d['path'].replace('_', ' ')} path"
               in n for n in notes), notes
    grip = next(t for t in doc.tables if t.rows[0].cells[0].text == "Group")
    assert grip.rows[0].cells[2].text == "Forelimb grip strength (g)"


@pytest.mark.parametrize(("args", "message"), [
    (["report", "-o", "{out}"], "missing the study file"),
    (["report", "{study}", "--format", "xlsx,pfd", "-o", "{out}"],
     "unknown report format(s) 'pfd' (did you mean 'pdf'?)"),
])
def test_report_user_errors(invoke, study_dir, tmp_path, args, message):
    args = [a.format(out=tmp_path / "o", study=study_dir / "study.yaml") for a in args]
    r = invoke(*args)
    assert r.exit_code == 2
    assert message in r.output
    assert not (tmp_path / "o").exists()


def test_report_refuses_existing_output(invoke, study_dir, report_dir):
    r = invoke("report", "--study", study_dir / "study.yaml", "--endpoints",
               study_dir / "endpoints.csv", "-o", report_dir)
    assert r.exit_code == 2 and "use --force" in r.output


def test_unknown_subject_in_exclusions_is_an_error(invoke, study_dir, tmp_path):
    (study_dir / "exclusions.csv").write_text("subject,reason\nZ99,typo\n")
    r = invoke("report", "--study", study_dir / "study.yaml", "--endpoints",
               study_dir / "endpoints.csv", "-o", tmp_path / "o")
    assert r.exit_code == 2
    # checked when the study is loaded, against its subjects file
    assert ("exclusions.csv, row 2, column 'subject': subject 'Z99' is not in the study's "
            "subjects file") in r.output


def test_report_is_reproducible(invoke, study_dir, report_dir, tmp_path):
    # in one process: the same files as the run in a pool (one process per core)
    out2 = tmp_path / "out2"
    r = invoke("--quiet", "report", "--endpoints", study_dir / "endpoints.csv",
               "--study", study_dir / "study.yaml", "-o", out2, "--format", "xlsx,docx,html",
               "--workers", "1")
    assert r.exit_code == 0, r.output
    figures = sorted(p.relative_to(out2).as_posix() for p in (out2 / "figures").iterdir())
    assert len(figures) == 12
    rels = ["report.xlsx", "report.docx", "report.html", *figures]
    assert same_report_files(out2, report_dir, rels) == []
    # the stamps themselves differ: each run has its own ID
    run1, run2 = (json.loads((d / "run.json").read_text()) for d in (report_dir, out2))
    assert run1["run_id"] != run2["run_id"]


def test_guideline_deviations_listed_in_report_and_manifest(invoke, study_dir, tmp_path):
    text = (study_dir / "study.yaml").read_text()
    (study_dir / "study.yaml").write_text(text.replace("glp: true\n",
                                                       "glp: true\nguideline: oecd-424-screen\n"))
    out = tmp_path / "o"
    r = invoke("--quiet", "report", "--study", study_dir / "study.yaml", "--endpoints",
               study_dir / "endpoints.csv", "-o", out, "--format", "html", "--no-bmd")
    assert r.exit_code == 0, r.output
    manifest = json.loads((out / "manifest.json").read_text())
    devs = manifest["deviations"]
    assert any("2 treated group(s), at least 3 dose groups" in d for d in devs), devs
    assert all(d.startswith("NTX-R-001: ") for d in devs)
    html = (out / "report.html").read_text()
    assert "2 treated group(s), at least 3 dose groups" in html
    assert sorted(p.name for p in out.iterdir()) == ["figures", "manifest.json", "report.html",
                                                     "run.json", "run.log"]
    assert not list((out / "figures").glob("bmd-*"))
    assert manifest["parameters"]["bmd"] is False


def test_endpoints_of_another_study_are_refused(invoke, study_dir, tmp_path):
    eps = pd.read_csv(study_dir / "endpoints.csv", keep_default_na=False)
    eps.assign(study_id="OTHER-1").to_csv(study_dir / "other.csv", index=False)
    r = invoke("report", "--study", study_dir / "study.yaml", "--endpoints",
               study_dir / "other.csv", "-o", tmp_path / "o")
    assert r.exit_code == 2
    assert "other.csv, row 2, column 'study_id': expected study 'NTX-R-001', found 'OTHER-1'" \
        in r.output
    # the usual cause: `neurotox neurite` run without --study stamps the folder name
    assert "(run the assay command with --study STUDY_FILE, or --study-id, to write the " \
        "study number)" in r.output


def test_report_runs_the_study_assays_and_records_inputs(invoke, tmp_path):
    from neurotox.simulate import list_simulators

    if "tmaze" not in {s.kind for s in list_simulators()}:
        pytest.skip("no tmaze simulator registered")
    assert invoke("--quiet", "simulate", "tmaze", "-o", tmp_path / "sim").exit_code == 0
    out = tmp_path / "rep"
    r = invoke("--quiet", "report", tmp_path / "sim" / "study.yaml", "-o", out,
               "--format", "csv,xlsx", "--no-bmd")
    assert r.exit_code == 0, r.output
    manifest = json.loads((out / "manifest.json").read_text())
    inputs = {Path(i["path"]).name for i in manifest["inputs"]}
    assert {"study.yaml", "subjects.csv"} <= inputs
    assert "tmaze" in manifest["parameters"]["assays"]
    assert manifest["parameters"]["assays"]["tmaze"]["protocol"]
    res = pd.read_csv(out / "csv/results.csv", keep_default_na=False)
    assert set(res["assay"]) == {"tmaze"}
    # xlsx and csv show no figures: none are drawn
    assert sorted(p.name for p in out.iterdir()) == ["csv", "details", "manifest.json",
                                                     "report.xlsx", "run.json", "run.log"]
    run = json.loads((out / "run.json").read_text())
    assert {Path(i["path"]).name for i in run["inputs"]} >= {"study.yaml", "subjects.csv"}
    assert run["run_id"] in (out / "run.log").read_text()
    assert list((out / "details" / "tmaze").glob("*.csv"))  # assay detail tables
    assert verify(out) == []


def test_pdf_without_libreoffice_is_a_clear_error(invoke, study_dir, tmp_path, monkeypatch):
    import neurotox.report.render.pdf as pdf

    monkeypatch.setattr(pdf, "available", lambda: False)
    r = invoke("report", "--study", study_dir / "study.yaml", "--endpoints",
               study_dir / "endpoints.csv", "-o", tmp_path / "o", "--format", "docx,pdf")
    assert r.exit_code == 2
    assert "'pdf' needs LibreOffice (soffice) on the PATH" in r.output
    assert not (tmp_path / "o").exists()


def test_progress_lines_per_stage_and_quiet(invoke, study_dir, tmp_path):
    args = ("report", "--study", study_dir / "study.yaml", "--endpoints",
            study_dir / "endpoints.csv", "--format", "csv,xlsx", "--no-bmd")
    r = invoke(*args, "-o", tmp_path / "loud")
    assert r.exit_code == 0, r.output
    for stage in ("assays", "statistics", "tables and fits", "writing"):
        assert f"INFO: report NTX-R-001: {stage}" in r.output, r.output
    quiet = invoke("-q", *args, "-o", tmp_path / "quiet")
    assert quiet.exit_code == 0 and "INFO" not in quiet.output
    assert "report NTX-R-001: statistics" in (tmp_path / "quiet" / "run.log").read_text()


def test_a_report_folder_inside_an_output_verifies_on_its_own(study_dir, tmp_path):
    """As in neurotox demo: reports/<kind>/ has its own manifest, run.json and run.log."""
    from neurotox.io.output import OutputDir, RunRecord
    from neurotox.pipeline import report_folder

    out = tmp_path / "demo"
    with OutputDir(out, record=RunRecord(command=["neurotox", "demo"])) as od:
        report_folder(od, study_dir / "study.yaml", "reports/r", formats=["csv", "html"],
                      endpoints_file=study_dir / "endpoints.csv", bmd=False)
    inner = out / "reports" / "r"
    assert verify(out) == [] and verify(inner) == []
    manifest = json.loads((inner / "manifest.json").read_text())
    assert {o["path"] for o in manifest["outputs"]} >= {"report.html", "run.json", "run.log",
                                                         "csv/results.csv"}
    outer = json.loads((out / "manifest.json").read_text())
    assert outer["exclusions"] == manifest["exclusions"] != []
    (inner / "report.html").write_text("edited")
    assert verify(inner) == ["report.html: changed (SHA-256 differs)"]


def test_csv_alone_builds_no_tables_fits_or_figures(invoke, study_dir, tmp_path):
    out = tmp_path / "o"
    r = invoke("report", "--study", study_dir / "study.yaml", "--endpoints",
               study_dir / "endpoints.csv", "--format", "csv", "-o", out)
    assert r.exit_code == 0, r.output
    assert "tables and fits" not in r.output and "benchmark dose" not in r.output
    assert sorted(p.name for p in out.iterdir()) == ["csv", "manifest.json", "run.json",
                                                     "run.log"]
    assert verify(out) == []
