import pandas as pd
import pytest
from tests.unit.battery.conftest import DATA, run_one, value, write_study

from neurotox.errors import InputError

DEV = {"assay": "developmental", "protocol": "developmental-landmarks", "input": "lm.csv"}
PUPS = pd.DataFrame({"subject": ["P1", "P2", "P3", "P4", "P5", "P6"],
                     "group": ["G1", "G1", "G1", "G1", "G2", "G2"],
                     "sex": ["M", "F", "M", "F", "M", "F"],
                     "litter": ["L1", "L1", "L1", "L1", "L2", "L2"]})


def test_litter_means(tmp_path):
    res = run_one(write_study(tmp_path, assays=[DEV], subjects=PUPS,
                              files={"lm.csv": DATA / "landmarks.csv"}))
    t = res.endpoints
    assert value(t, "dev_preputial_separation_age", "L1_M")["value"] == 43
    assert value(t, "dev_preputial_separation_body_weight", "L1_M")["value"] == 215
    assert value(t, "dev_vaginal_opening_age", "L1_F")["value"] == 34
    row = value(t, "dev_vaginal_opening_age", "L2_F")
    assert row["excluded"] and row["exclusion_reason"] == (
        "no pup of the litter attained it by the end of observation (0 of 1 pups)")
    assert res.missing == []
    assert set(t["batch"]) == {"L1", "L2"}
    assert set(t["category"]) == {"neurodevelopmental"}


def test_pup_unit_keeps_litter_in_batch(tmp_path):
    res = run_one(write_study(tmp_path, assays=[{**DEV, "parameters": {"unit": "pup"}}],
                              subjects=PUPS, files={"lm.csv": DATA / "landmarks.csv"}))
    row = value(res.endpoints, "dev_preputial_separation_age", "P3")
    assert row["value"] == 44 and row["batch"] == "L1"


@pytest.mark.parametrize("text, message", [
    ("subject,landmark,age\nP2,preputial separation,40\n",
     "landmark 'preputial_separation' recorded for a pup of sex 'F'"),
    ("subject,landmark,age\nP2,tooth fairy,40\n", "unknown landmark 'tooth_fairy'"),
])
def test_landmark_errors(tmp_path, text, message):
    with pytest.raises(InputError, match=message):
        run_one(write_study(tmp_path, assays=[DEV], subjects=PUPS, files={"lm.csv": text}))


def test_litter_required(tmp_path):
    with pytest.raises(InputError, match="need the litter of every pup"):
        run_one(write_study(tmp_path, assays=[DEV], subjects=PUPS.drop(columns="litter"),
                            files={"lm.csv": DATA / "landmarks.csv"}))


@pytest.mark.parametrize("weight, message", [
    ("0", r"row 2, column 'body_weight': expected a number > 0, found '0'"),
    ('"1,150"', r"row 2, column 'body_weight': expected a number > 0, found '1,150' \(a comma"),
])
def test_landmark_body_weight_must_be_a_positive_number(tmp_path, weight, message):
    text = (DATA / "landmarks.csv").read_text(encoding="utf-8").replace(
        "P1,preputial separation,42,210", f"P1,preputial separation,42,{weight}")
    with pytest.raises(InputError, match=message):
        run_one(write_study(tmp_path, assays=[DEV], subjects=PUPS, files={"lm.csv": text}))


def _one_not_attained(tmp_path, **parameters):
    text = (DATA / "landmarks.csv").read_text(encoding="utf-8").replace("P4,VO,35,120", "P4,VO,,")
    return run_one(write_study(tmp_path, assays=[{**DEV, "parameters": parameters}],
                               subjects=PUPS, files={"lm.csv": text}))


def test_pup_not_attaining_is_recorded_as_left_out(tmp_path):
    res = _one_not_attained(tmp_path)
    row = value(res.endpoints, "dev_vaginal_opening_age", "L1_F")
    assert row["value"] == 33 and not row["excluded"]      # P2 alone
    assert row["source"].startswith("mean of 1 of 2 pups")
    assert [(m["subject"], m["reason"]) for m in res.missing] == [
        ("P4", "landmark not attained by the end of observation: left out of the litter mean "
               "L1_F (1 of 2 pups) of dev_vaginal_opening_age, dev_vaginal_opening_body_weight")]
    assert ("warning: vaginal_opening: 2 of 3 pups not attained by the end of observation are "
            "left out of their litter means (a litter with none attaining is excluded); give "
            "the last day observed in the protocol parameter observed_until "
            "({vaginal_opening: <PND>}) to right-censor them") in res.notes


@pytest.mark.parametrize("unit", ["litter", "pup"])
def test_not_attained_is_right_censored_at_the_last_day_observed(tmp_path, unit):
    res = _one_not_attained(tmp_path, unit=unit, observed_until={"VO": 40})
    t = res.endpoints
    # the age is censored, but no day of attainment means no body weight at it
    assert [(m["subject"], m["endpoint"]) for m in res.missing] == (
        [] if unit == "pup" else [("P4", "dev_vaginal_opening_body_weight")])
    if unit == "pup":
        row = value(t, "dev_vaginal_opening_age", "P4")
        assert (row["value"], row["censoring"], row["excluded"]) == (40, "right", False)
        assert value(t, "dev_vaginal_opening_body_weight", "P4")["excluded"]
        return
    l1 = value(t, "dev_vaginal_opening_age", "L1_F")   # P2 33, P4 > 40
    assert (l1["value"], l1["censoring"], l1["excluded"]) == (36.5, "right", False)
    l2 = value(t, "dev_vaginal_opening_age", "L2_F")   # P6 > 40
    assert (l2["value"], l2["censoring"], l2["excluded"]) == (40, "right", False)
    assert value(t, "dev_vaginal_opening_body_weight", "L1_F")["value"] == 110   # P2's
    assert value(t, "dev_vaginal_opening_body_weight", "L2_F")["excluded"]
    assert value(t, "dev_preputial_separation_age", "L1_M")["censoring"] == "none"
    assert ("vaginal_opening: 2 of 3 pups not attained by the end of observation, "
            "right-censored at PND 40 (observed_until)") in res.notes


@pytest.mark.parametrize("until, message", [
    ({"vaginal_opening": 30}, r"lm.csv, row 5, column 'age': observed_until 30 for "
                              r"'vaginal_opening' is before the day a pup attained it \(33\)"),
    ({"tooth_fairy": 30}, r"unknown landmark\(s\) 'tooth_fairy'"),
])
def test_observed_until_errors(tmp_path, until, message):
    with pytest.raises(InputError, match=message):
        _one_not_attained(tmp_path, observed_until=until)
