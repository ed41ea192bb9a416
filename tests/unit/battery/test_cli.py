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
