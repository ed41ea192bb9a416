import dataclasses

import pytest

from neurotox import endpoints
from neurotox.errors import InputError
from neurotox.guidelines import check_study, find_guideline, templates
from neurotox.pipeline import collect_endpoints
from neurotox.simulate.battery import write_study as simulate_424
from neurotox.study import load_study


@pytest.fixture(scope="module")
def sim(tmp_path_factory):
    folder = tmp_path_factory.mktemp("sim424")
    simulate_424(folder, 7)
    study = load_study(folder / "study.yaml")
    return study, collect_endpoints(study).table


def _with_guideline(study, text):
    return dataclasses.replace(study, spec=study.spec.model_copy(update={"guideline": text}))


def test_simulated_study_meets_tg424(sim):
    study, table = sim
    assert check_study(study, table) == []


@pytest.mark.parametrize("text", ["oecd-424-screen", "OECD TG 424", "oecd 424", "TG424"])
def test_guideline_spellings(text):
    assert find_guideline(text)[0] == "oecd-424-screen"


def test_all_templates_load_and_name_registered_endpoints():
    names = set(templates())
    assert names == {"oecd-424-screen", "epa-870-6200-screen", "oecd-426-dnt",
                     "epa-870-6300-dnt", "oecd-gd377-dnt-ivb"}
    reg = endpoints.registry()
    for params in templates().values():
        for req in params.requirements:
            assert set(req.endpoints) <= set(reg), (params.guideline, req.id)


def test_too_few_animals_for_behaviour(sim):
    study, table = sim
    drop = table["subject"].isin(["G2F01", "G2F02"]) & table["endpoint"].str.startswith("fob_")
    dev = check_study(study, table[~drop])
    assert dev == ["OECD TG 424 functional observational battery (neurobehavioral): fewer than "
                   "10 animals per sex per group (group/sex n: G2/F 8)"]


def test_too_few_perfused_and_missing_timepoint(sim):
    study, table = sim
    drop = (table["subject"] == "G3M01") & table["endpoint"].str.startswith("np_")
    drop |= (table["endpoint"] == "motor_activity_total") & (table["timepoint"] == "pretest")
    dev = check_study(study, table[~drop])
    assert ("OECD TG 424 neuropathology of perfused animals (structural): fewer than 5 animals "
            "per sex per group (group/sex n: G3/M 4)") in dev
    assert ("OECD TG 424 motor activity (neurobehavioral): 1 time point(s) (week4), at least 2 "
            "expected") in dev
    assert len(dev) == 2


def test_missing_and_recommended_elements(sim):
    study, table = sim
    keep = ~table["endpoint"].str.startswith("np_") & ~table["endpoint"].eq("brain_weight")
    dev = check_study(study, table[keep])
    assert any("neuropathology of perfused animals (structural): not reported (required" in d
               for d in dev)
    assert any("brain weight (structural): not reported (recommended" in d for d in dev)


def test_epa_template_and_unknown_guideline(sim):
    study, table = sim
    assert check_study(_with_guideline(study, "EPA 870.6200"), table) == []
    dev = check_study(_with_guideline(study, "ICH S7A"), table)
    assert len(dev) == 1 and dev[0].startswith("guideline 'ICH S7A' has no template")
    assert check_study(_with_guideline(study, None), table) == []


def test_dnt_litter_deviations(sim):
    study, table = sim
    dev = check_study(_with_guideline(study, "OECD TG 426"), table)
    assert ("OECD TG 426: subjects have no litter IDs; the litter must be the experimental "
            "unit") in dev
    assert any("statistics.litter_unit is 'none'" in d for d in dev)
    assert any("sexual maturation landmarks (neurodevelopmental): not reported" in d for d in dev)
    assert any("offspring motor activity (neurobehavioral): expected time point(s) PND13, PND17, "
               "PND21 not found" in d for d in dev)


@pytest.mark.parametrize("mutate, message", [
    (lambda t: t.assign(excluded=True, exclusion_reason="x"), "no analysable values"),
    (lambda t: t[t["group"] != "G1"], "control group 'G1' has no analysable values"),
])
def test_unanalysable_data_raise(sim, mutate, message):
    study, table = sim
    with pytest.raises(InputError, match=message):
        check_study(study, mutate(table))


def test_protocols_show_guideline(invoke):
    res = invoke("protocols", "show", "oecd-426-dnt")
    assert res.exit_code == 0
    assert "litter_unit: true" in res.output and "min_batches_per_group: 20" in res.output


def test_guideline_is_not_runnable(tmp_path):
    from tests.unit.battery.conftest import run_one, write_study
    study = write_study(tmp_path, assays=[{"assay": "guideline", "protocol": "oecd-424-screen",
                                           "input": "x.csv"}], files={"x.csv": "a\n1\n"})
    with pytest.raises(InputError, match="is a guideline template, not an assay"):
        run_one(study)


def test_animals_are_counted_per_time_point(sim):
    """A death before week 4 and a missed session fall short there, not everywhere."""
    study, table = sim
    fob = table["endpoint"].str.startswith("fob_")
    motor = table["endpoint"] == "motor_activity_total"
    dead = (table["subject"] == "G3M02") & (table["timepoint"] == "week4")
    missed = (table["subject"] == "G3F07") & motor & (table["timepoint"] == "week4")
    assert set(table.loc[fob | motor, "timepoint"]) == {"pretest", "week4"}
    dev = check_study(study, table[~((dead & (fob | motor)) | missed)])
    assert dev == [
        "OECD TG 424 functional observational battery (neurobehavioral): fewer than 10 "
        "animals per sex per group (group/sex n: G3/M 9 at week4)",
        "OECD TG 424 motor activity (neurobehavioral): fewer than 10 animals per sex per "
        "group (group/sex n: G3/M 9 at week4, G3/F 9 at week4)"]
    # short at both time points by different numbers: each is said
    gone = (table["subject"].isin(["G2F01", "G2F02"]) & fob
            & (table["timepoint"] == "week4")) | ((table["subject"] == "G2F03") & fob)
    dev = check_study(study, table[~gone])
    assert dev == ["OECD TG 424 functional observational battery (neurobehavioral): fewer "
                   "than 10 animals per sex per group (group/sex n: G2/F 9 at pretest, "
                   "G2/F 7 at week4)"]
