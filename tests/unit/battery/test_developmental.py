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


def _context(res, details):
    from neurotox.report.context import Context, litter_pups
    from neurotox.study import load_study

    spec = load_study(res.inputs[0].parent / "study.yaml").spec
    return Context(spec, res.endpoints,
                   litter_pups=litter_pups(details, {"developmental": "developmental"}))


def test_litter_mean_rows_count_as_litters_and_their_pups_as_pups(tmp_path):
    """P1, P3 (L1) and P5 (L2) reach PS; P2, P4 (L1) reach VO, P6 (L2) does not."""
    res = run_one(write_study(tmp_path, assays=[DEV], subjects=PUPS,
                              files={"lm.csv": DATA / "landmarks.csv"}))
    pups = res.details["developmental_pups"]
    assert pups[["subject", "sex", "batch"]].drop_duplicates().values.tolist() == [
        ["P1", "M", "L1"], ["P2", "F", "L1"], ["P3", "M", "L1"], ["P4", "F", "L1"],
        ["P5", "M", "L2"], ["P6", "F", "L2"]]
    ctx = _context(res, {f"developmental/{k}": v for k, v in res.details.items()})
    t = res.endpoints
    ps = t[t["endpoint"].str.startswith("dev_preputial")]
    vo = t[t["endpoint"].str.startswith("dev_vaginal")]
    assert len(ps) == 4  # 2 litter means x 2 endpoints: rows, not pups
    assert ctx.pups_and_litters(ps) == (3, 2)
    assert ctx.pups_and_litters(vo) == (2, 1)  # L2's only female did not attain it
    assert ctx.pups_and_litters(t) == (5, 2)
    # a pup row beside them counts once, whichever way it came
    extra = t.iloc[[0]].assign(assay="motor_activity", subject="P1", endpoint="x")
    assert ctx.pups_and_litters(pd.concat([t, extra])) == (5, 2)
    # without the pup details the pups are unknown, never the number of rows
    assert _context(res, None).pups_and_litters(ps) == (None, 2)
    assert _context(res, {}).pups_and_litters(ps) == (None, 2)


@pytest.mark.parametrize("species, weight, params, message", [
    # a rat pup's weight at VO typed in kg (0.11 for 110 g): refused, not averaged
    ("rat", "0.11", {}, r"lm.csv, row 3, column 'body_weight': body weight 0.11 g is outside "
                        r"the plausible range 2-1500 g \(species 'rat'\); written in kg\? "
                        r"\(0.11 kg = 110 g\)$"),
    # ... and in mg (110000 for 110 g)
    ("rat", "110000", {}, r"body weight 110000 g is outside the plausible range 2-1500 g "
                          r"\(species 'rat'\); written in mg\? \(110000 mg = 110 g\)$"),
    # a rat-sized weight in a mouse study: P1's 210 g at PS (row 2) is the first
    ("Mus musculus", "12", {}, r"row 2, column 'body_weight': body weight 210 g is outside "
                               r"the plausible range 0.5-150 g \(species 'Mus musculus'\)$"),
    ("rat", "95", {"body_weight_range_g": [100, 400]},
     r"row 3, column 'body_weight': body weight 95 g is outside the plausible range "
     r"100-400 g \(parameter 'body_weight_range_g'\)"),
])
def test_landmark_body_weight_outside_the_plausible_range(tmp_path, species, weight, params,
                                                          message):
    text = (DATA / "landmarks.csv").read_text(encoding="utf-8").replace(
        "P2,vaginal opening,33,110", f"P2,vaginal opening,33,{weight}")
    with pytest.raises(InputError, match=message):
        run_one(write_study(tmp_path, assays=[{**DEV, "parameters": params}], subjects=PUPS,
                            files={"lm.csv": text}, species=species))


def test_landmark_body_weights_inside_the_range_are_kept_and_the_range_noted(tmp_path):
    res = run_one(write_study(tmp_path, assays=[DEV], subjects=PUPS, species="rat",
                              files={"lm.csv": DATA / "landmarks.csv"}))
    assert value(res.endpoints, "dev_vaginal_opening_body_weight", "L1_F")["value"] == 115
    assert res.notes[0].endswith("plausible body weights 2-1500 g (species 'rat')")


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
