"""NOR indices and exclusions on hand-computed exploration tables."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from neurotox.assays.rodent.common import one_sample_results
from neurotox.assays.rodent.nor import analyse, nor_animals, nor_endpoints
from neurotox.assays.rodent.params import NorParameters
from neurotox.errors import InputError


def explo(rows):
    return pd.DataFrame([{"subject": s, "phase": p, "object": o, "time_s": t, "bouts": np.nan,
                          "latency_s": lat, "source": "x.csv"} for s, p, o, t, lat in rows])


ROWS = [("a1", "training", "Left", 12.0, np.nan), ("a1", "training", "Right", 8.0, np.nan),
        ("a1", "test", "Left", 15.0, 4.0), ("a1", "test", "Right", 5.0, 1.0),
        ("a2", "test", "Left", 3.0, np.nan), ("a2", "test", "Right", 5.0, np.nan),
        ("a3", "test", "Left", 20.0, np.nan), ("a3", "test", "Right", 20.0, np.nan),
        ("a4", "test", "Left", 4.0, np.nan), ("a4", "test", "Right", 6.0, np.nan)]
KEY = pd.DataFrame({"subject": ["a1", "a2", "a3", "a4"], "novel": ["L", "R", "L", "R"],
                    "source": "k"})
FLAGS = pd.DataFrame({"subject": ["a3"], "phase": ["test"], "reason": ["Object toppled"],
                      "source": "f"})


def animals(**params):
    return nor_animals(explo(ROWS), KEY, FLAGS, NorParameters(**params)).set_index(
        ["subject", "phase"])


def test_indices_hand_computed():
    a = animals()
    row = a.loc[("a1", "test")]
    assert (row["time_a_s"], row["time_b_s"], row["total_s"]) == (15.0, 5.0, 20.0)
    assert row["index"] == pytest.approx(0.5)          # (15 - 5) / 20
    assert row["ratio"] == pytest.approx(0.75)         # 15 / 20
    assert row["latency_a_s"] == 4.0                   # latency of the novel (left) object
    assert a.loc[("a2", "test"), "index"] == pytest.approx((5 - 3) / 8)
    assert a.loc[("a1", "training"), "index"] == pytest.approx((12 - 8) / 20)


def test_exclusion_reasons():
    a = animals()
    assert not a.loc[("a1", "test"), "excluded"]
    assert a.loc[("a2", "test"), "exclusion_reason"] == "total test exploration 8.000 s < 10 s"
    assert a.loc[("a3", "test"), "exclusion_reason"] == "technical flag: Object toppled"
    assert not a.loc[("a4", "test"), "excluded"]  # exactly 10 s kept by default


def test_threshold_inclusive_and_training_bias():
    a = animals(threshold_inclusive=True, max_training_bias=0.1)
    # a4 has no training record: its side bias is unknown, so the rule cannot pass it
    assert a.loc[("a4", "test"), "exclusion_reason"] == (
        "total test exploration 10.000 s <= 10 s; training side bias unknown (no training "
        "exploration), max_training_bias cannot be checked")
    assert a.loc[("a1", "test"), "exclusion_reason"] == "training side bias |0.200| > 0.1"


def test_animal_without_training_record_is_excluded_in_that_phase():
    """An animal with a test trial and no familiarisation record (the inputs record
    training for others) gets an excluded training row; its test values stand."""
    a = animals()
    assert len(a) == 8                                  # 4 animals x 2 phases
    row = a.loc[("a2", "training")]
    assert row["excluded"] and np.isnan(row["total_s"]) and np.isnan(row["index"])
    assert row["exclusion_reason"] == ("training-phase exploration time missing (no training "
                                       "record in the inputs)")
    assert row["source"] == "no record in the inputs"
    assert not a.loc[("a4", "test"), "excluded"]        # exactly 10 s; test phase unaffected
    assert not a.loc[("a1", "training"), "excluded"]


def test_animal_without_test_record_is_excluded_in_the_test_phase():
    rows = ROWS + [("a5", "training", "Left", 10.0, np.nan),
                   ("a5", "training", "Right", 10.0, np.nan)]
    key = pd.concat([KEY, pd.DataFrame({"subject": ["a5"], "novel": ["L"], "source": "k"})])
    a = nor_animals(explo(rows), key, FLAGS, NorParameters()).set_index(["subject", "phase"])
    assert a.loc[("a5", "test"), "exclusion_reason"] == ("test-phase exploration time missing "
                                                         "(no test record in the inputs)")
    assert a.loc[("a5", "training"), "index"] == 0.0 and not a.loc[("a5", "training"),
                                                                    "excluded"]


def test_single_phase_inputs_get_no_missing_phase():
    rows = [r for r in ROWS if r[1] == "test"]
    a = nor_animals(explo(rows), KEY, FLAGS, NorParameters())
    assert set(a["phase"]) == {"test"} and len(a) == 4


def test_missing_key_is_an_error():
    with pytest.raises(InputError, match="no novel-object key for subject 'a1'"):
        nor_animals(explo(ROWS), KEY.iloc[1:], FLAGS, NorParameters())


def test_three_objects_is_an_error():
    rows = ROWS + [("a1", "test", "Middle", 1.0, np.nan)]
    with pytest.raises(InputError, match=r"subject 'a1', test: expected 2 objects"):
        nor_animals(explo(rows), KEY, FLAGS, NorParameters())


def test_endpoint_table_and_one_sample(make_study):
    study = make_study([("a1", "C", "M"), ("a2", "C", "F"), ("a3", "H", "M"), ("a4", "H", "F")])
    a = nor_animals(explo(ROWS), KEY, FLAGS, NorParameters())
    table = nor_endpoints(a, study, NorParameters())
    di = table[table["endpoint"] == "nor_discrimination_index"].set_index("subject")
    assert di.loc["a1", "value"] == pytest.approx(0.5)
    assert di.loc["a3", "excluded"] and di.loc["a3", "exclusion_reason"].startswith("technical")
    assert set(table["endpoint"]) >= {"nor_exploration_novel", "nor_recognition_index",
                                      "nor_latency_novel", "nor_training_side_bias"}
    assert di.loc["a4", "dose"] == 10 and di.loc["a4", "group"] == "H"
    res = one_sample_results(table, endpoint="nor_discrimination_index", reference=0.0,
                             normality_alpha=0.05)
    pooled = res[(res["group"] == "H") & (res["sex"] == "all")].iloc[0]
    assert pooled["n"] == 1 and pooled["mean"] == pytest.approx(0.2)  # a4 only: (6-4)/10


def test_novel_default_when_key_missing():
    a = nor_animals(explo(ROWS), KEY.iloc[1:], FLAGS, NorParameters(novel_default="R"))
    row = a[(a["subject"] == "a1") & (a["phase"] == "test")].iloc[0]
    assert row["object_a"] == "Right" and row["index"] == pytest.approx(-0.5)


@pytest.mark.parametrize("phase", ["training", "test"])
def test_an_animal_that_explored_nothing_has_no_index_and_no_crash(phase):
    """stranger29 F7: 0 s + 0 s raised ZeroDivisionError (a traceback from every command)."""
    rows = [r if (r[0], r[1]) != ("a1", phase) else (*r[:3], 0.0, r[4]) for r in ROWS]
    a = nor_animals(explo(rows), KEY, FLAGS, NorParameters()).set_index(["subject", "phase"])
    row = a.loc[("a1", phase)]
    assert row["total_s"] == 0.0 and np.isnan(row["index"]) and np.isnan(row["ratio"])
    if phase == "test":   # excluded by the exploration rule like any animal below 10 s
        assert row["exclusion_reason"] == "total test exploration 0.000 s < 10 s"
    else:                 # the test phase of the animal keeps its index
        assert a.loc[("a1", "test"), "index"] == pytest.approx(0.5)


# ANY-maze zones named by role: the names say which object is novel; the training side
# bias needs left/right, which such names do not carry (never a sign by name order)
ROLES = ("Test,Animal,Stage,Novel object : time,Familiar object : time\n"
         "1,a1,Training,12,8\n2,a1,Test,15,5\n3,a2,Training,6,14\n4,a2,Test,9,21\n")


@pytest.mark.parametrize(("header", "bias"), [
    ("Novel object : time,Familiar object : time", None),
    ("Left object : time,Right object : time", {"a1": 0.2, "a2": -0.4}),
])
def test_objects_named_by_role_have_no_side_bias(make_study, tmp_path, header, bias):
    study = make_study([("a1", "C", "M"), ("a2", "H", "M")])
    (tmp_path / "am.csv").write_text(ROLES.replace(ROLES.splitlines()[0].split(",", 3)[3],
                                                   header))
    (tmp_path / "key.csv").write_text("subject,novel_side\na1,left\na2,right\n")
    res = analyse(study, [tmp_path / "am.csv", tmp_path / "key.csv"],
                  NorParameters(max_training_bias=0.35))
    e = res.endpoints.set_index(["endpoint", "subject"])
    assert e.loc[("nor_training_total_exploration", "a2"), "value"] == 20.0
    if bias is None:     # roles from the names; the key (left/right) is not needed
        assert e.loc[("nor_discrimination_index", "a1"), "value"] == pytest.approx(0.5)
        assert e.loc[("nor_discrimination_index", "a2"), "value"] == pytest.approx(-0.4)
        assert "nor_training_side_bias" not in set(res.endpoints["endpoint"])
        notes = " ".join(res.notes)
        assert ("the object names say the roles ('Novel object' novel, 'Familiar object' "
                "familiar) for 2 subject(s): a1, a2") in notes
        assert ("nor_training_side_bias left out for 2 subject(s) (a1, a2): the training "
                "objects 'Familiar object'/'Novel object' do not say which is left") in notes
    else:                # (L - R)/(L + R) from the sides; key: a1 left, a2 right novel
        got = e.xs("nor_training_side_bias")["value"].to_dict()
        assert got == pytest.approx(bias)
        assert e.loc[("nor_discrimination_index", "a2"), "value"] == pytest.approx(0.4)
    # |bias| is known either way: a2's |(6 - 14)/20| = 0.4 > 0.35 excludes its test
    assert e.loc[("nor_discrimination_index", "a2"), "exclusion_reason"] == \
        "training side bias |0.400| > 0.35"
    assert not e.loc[("nor_discrimination_index", "a1"), "excluded"]


# stranger40 A2: two retention tests in one ANY-maze sheet (1 h and 24 h) could not be run
# in one analysis ("second test row"); phase_map now names both, each its own timepoint
TWO_TESTS = ("Animal,Stage,Left object : time,Right object : time\n"
             "a1,Habituation,0,0\na1,Training,10,10\na1,Test 1h,15,5\na1,Test 24h,12,8\n"
             "a2,Training,6,14\na2,Test 1h,9,21\na2,Test 24h,10,10\n"
             "a3,Training,9,11\na3,Test 1h,14,6\na3,Test 24h,3,2\n")


def test_two_retention_tests_in_one_sheet_are_two_timepoints(make_study, tmp_path):
    study = make_study([("a1", "C", "M"), ("a2", "C", "M"), ("a3", "C", "M")])
    (tmp_path / "am.csv").write_text(TWO_TESTS)
    (tmp_path / "key.csv").write_text("subject,novel_side\na1,left\na2,right\na3,left\n")
    # a technical exclusion of one test only, by its label
    (tmp_path / "flags.csv").write_text("subject,phase,reason\na3,Test 1h,light failed\n")
    params = NorParameters(max_training_bias=0.35, phase_map={
        "Habituation": "ignore", "Test 1h": "test", "Test  24h": "test"})
    res = analyse(study, [tmp_path / "am.csv", tmp_path / "key.csv", tmp_path / "flags.csv"],
                  params)
    e = res.endpoints.set_index(["endpoint", "subject", "timepoint"])
    di = e.xs("nor_discrimination_index")
    assert di["value"].to_dict() == pytest.approx({
        ("a1", "Test 1h"): 0.5, ("a1", "Test 24h"): 0.2,        # novel left: (L - R)/(L + R)
        ("a2", "Test 1h"): 0.4, ("a2", "Test 24h"): 0.0,        # novel right
        ("a3", "Test 1h"): 0.4, ("a3", "Test 24h"): 0.2})
    # a2's training side bias |(6 - 14)/20| = 0.4 > 0.35 excludes both of its tests
    assert di.loc[("a2", "Test 24h"), "exclusion_reason"] == "training side bias |0.400| > 0.35"
    assert di.loc[("a3", "Test 24h"), "exclusion_reason"] == \
        "total test exploration 5.000 s < 10 s"
    assert not di.loc[("a1", "Test 24h"), "excluded"]
    assert di.loc[("a3", "Test 1h"), "exclusion_reason"] == "technical flag: light failed"
    # the training trial once per animal, with the protocol's timepoint
    tr = res.endpoints[res.endpoints["endpoint"] == "nor_training_total_exploration"]
    assert sorted(zip(tr["subject"], tr["timepoint"], tr["value"], strict=True)) == [
        ("a1", "NA", 20.0), ("a2", "NA", 20.0), ("a3", "NA", 20.0)]
    a = res.details["nor_animals"]
    assert list(zip(a["phase"], a["timepoint"], a["subject"], strict=True))[:3] == [
        ("training", "NA", "a1"), ("training", "NA", "a2"), ("training", "NA", "a3")]
    assert len(a) == 9 and sorted(set(a["timepoint"])) == ["NA", "Test 1h", "Test 24h"]
    one = res.details["nor_one_sample"]
    one = one[one["sex"] == "all"].set_index("timepoint")
    assert one.loc["Test 1h", "n"] == 1 and one.loc["Test 1h", "mean"] == pytest.approx(0.5)
    assert one.loc["Test 24h", "n"] == 1 and one.loc["Test 24h", "mean"] == pytest.approx(0.2)
    assert res.notes[0] == (
        "NOR: 2 retention tests in the inputs ('Test 1h', 'Test 24h', phase_map): each is "
        "compared with the animal's training trial and reported as its own timepoint; the "
        "training endpoints once, timepoint 'NA'")
    left_out = [n for n in res.notes if "left out (phase_map: ignore)" in n]
    assert left_out == ["am.csv: 1 row(s) with Stage 'Habituation' left out (phase_map: "
                        "ignore), rows 2"]
    # a test label no input holds is an error, not a timepoint without data
    params = NorParameters(phase_map={"Test 1h": "test", "Test 24h": "test",
                                      "Test 7d": "test", "Habituation": "ignore"})
    with pytest.raises(InputError, match=re.escape(
            "phase_map maps 'Test 7d' to test, but no NOR input ('am.csv', 'key.csv') holds a "
            "test trial labelled so; the test labels in the inputs are 'Test 1h', 'Test 24h'")):
        analyse(study, [tmp_path / "am.csv", tmp_path / "key.csv"], params)


def test_same_file_name_in_two_folders_is_told_apart_in_source(make_study, tmp_path):
    # stranger53 D8: the scores split by group into a/ and b/, both named am.csv
    study = make_study([("a1", "C", "M"), ("a2", "H", "M")])
    for folder, rows in (("a", "a1,Training,10,10\na1,Test,15,5\n"),
                         ("b", "a2,Training,6,14\na2,Test,9,21\n")):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "am.csv").write_text(
            "Animal,Stage,Left object : time,Right object : time\n" + rows)
    (tmp_path / "key.csv").write_text("subject,novel_side\na1,left\na2,right\n")
    res = analyse(study, [tmp_path / "a" / "am.csv", tmp_path / "b" / "am.csv",
                          tmp_path / "key.csv"], NorParameters())
    di = res.endpoints[res.endpoints["endpoint"] == "nor_discrimination_index"]
    assert dict(zip(di["subject"], di["source"], strict=True)) == {
        "a1": "a/am.csv:row 3", "a2": "b/am.csv:row 3"}
    assert dict(zip(di["subject"], di["value"], strict=True)) == pytest.approx(
        {"a1": 0.5, "a2": 0.4})
