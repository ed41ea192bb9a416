import pytest

from neurotox.simulate.battery import write_study


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    folder = tmp_path_factory.mktemp("sim")
    write_study(folder, 2)
    return folder / "study.yaml"


def test_guidelines_list(invoke):
    res = invoke("guidelines", "list")
    assert res.exit_code == 0
    assert "oecd-424-screen          OECD TG 424            5 requirements" in res.output


def test_check_without_deviations(invoke, study):
    res = invoke("--quiet", "guidelines", "check", study)
    assert res.exit_code == 0
    assert res.output.strip() == "no deviations from OECD TG 424"


def test_check_strict_exits_1_with_deviations(invoke, study):
    res = invoke("--quiet", "guidelines", "check", study, "--guideline", "epa-870-6300-dnt",
                 "--strict")
    assert res.exit_code == 1
    assert ("DEVIATION: EPA OPPTS 870.6300: subjects have no litter IDs; the litter must be the "
            "experimental unit") in res.output


def test_unknown_guideline_is_a_usage_error(invoke, study):
    res = invoke("guidelines", "check", study, "--guideline", "ICH S7A")
    assert res.exit_code == 2
    assert "'ICH S7A' is not a guideline template" in res.output


def test_long_motor_intervals_reach_check_report_and_manifest(invoke, tmp_path):
    import json

    from tests.unit.battery.conftest import write_study as write_fixture

    rows = ["subject,session,0-15 min,15-30 min,30-45 min",
            "A1,week4,400,300,200", "A2,week4,400,300,200",
            "B1,week4,200,150,100", "B2,week4,200,150,100"]
    path = write_fixture(tmp_path / "s", assays=[{"assay": "motor_activity",
                                                  "protocol": "motor-activity-standard",
                                                  "input": "ma.csv"}],
                         files={"ma.csv": "\n".join(rows)})
    expected = ("motor_activity: motor activity ma.csv: intervals of 15 min exceed the "
                "guideline maximum of 10 min")
    res = invoke("--quiet", "guidelines", "check", path, "--guideline", "oecd-424-screen")
    assert res.exit_code == 0, res.output
    assert f"DEVIATION: {expected}" in res.output
    res = invoke("--quiet", "report", path, "-o", tmp_path / "rep", "--no-bmd")
    assert res.exit_code == 0, res.output
    manifest = json.loads((tmp_path / "rep" / "manifest.json").read_text())
    assert f"T-1: {expected}" in manifest["deviations"]
    assert any("does not reach asymptote" in d for d in manifest["deviations"])
    assert "intervals of 15 min exceed" in (tmp_path / "rep" / "report.html").read_text()
