import pandas as pd
import pytest

from neurotox.errors import InputError
from neurotox.pipeline import apply_exclusions, exclusion_lines, missing_lines


@pytest.fixture
def valid(table):
    """The hand-made table restricted to registry endpoints (gait_score is not one)."""
    return table[table["endpoint"] != "gait_score"].reset_index(drop=True)


def _exclusions(rows):
    return pd.DataFrame(rows, columns=["subject", "reason", "endpoint"])


def test_exclusion_of_one_endpoint(valid):
    out, records = apply_exclusions(valid, _exclusions([("G1M1", "injury",
                                                         "grip_strength_forelimb")]))
    hit = out[out["subject"] == "G1M1"].set_index("endpoint")
    assert bool(hit.loc["grip_strength_forelimb", "excluded"])
    assert hit.loc["grip_strength_forelimb", "exclusion_reason"] == "manual exclusion: injury"
    assert not hit.loc["motor_activity_counts", "excluded"].any()
    assert records == [{"rule": "manual exclusions file", "subject": "G1M1",
                        "endpoint": "grip_strength_forelimb", "reason": "injury", "values": 1}]


def test_exclusion_of_every_value_of_a_subject_keeps_earlier_reason(valid):
    out, records = apply_exclusions(valid, _exclusions([("G2M4", "found dead", "")]))
    hit = out[out["subject"] == "G2M4"]
    assert hit["excluded"].all() and len(hit) == 4
    reasons = set(hit["exclusion_reason"])
    assert reasons == {"animal moribund; manual exclusion: found dead",
                       "manual exclusion: found dead"}
    assert records[0]["endpoint"] == "all" and records[0]["values"] == 4


@pytest.mark.parametrize(("row", "message"), [
    (("NOPE", "typo", ""), "x.csv, row 2: subject 'NOPE' matches no value"),
    (("G1M1", "typo", "tremor"),
     "x.csv, row 2: subject 'G1M1', endpoint 'tremor' matches no value"),
])
def test_exclusion_matching_nothing_is_an_error(valid, row, message):
    with pytest.raises(InputError, match=message):
        apply_exclusions(valid, _exclusions([row]), path="x.csv")


def test_exclusion_lines(table):
    assert exclusion_lines(table) == [
        "fob, subject G2M4 (group G2, sex M): 1 value(s) of grip_strength_forelimb excluded"
        " — animal moribund"]


def test_exclusion_of_the_same_endpoints_in_every_subject_is_one_line(table):
    # a co-culture run: no per-cell value in any of its 89 wells; the report listed
    # every well on its own line (4 pages) and buried the real exclusions
    t = table.copy()
    fob = t["assay"] == "fob"
    gait = fob & (t["endpoint"] == "gait_score")
    t.loc[gait, ["excluded", "exclusion_reason"]] = [True, "not measured: no scorer"]
    n = t.loc[fob, "subject"].nunique()
    assert exclusion_lines(t) == [
        f"fob, all {n} subjects: {gait.sum()} value(s) of gait_score excluded"
        " — not measured: no scorer",
        "fob, subject G2M4 (group G2, sex M): 1 value(s) of grip_strength_forelimb excluded"
        " — animal moribund"]


def test_missing_lines_name_assay_subject_group_sex_and_files():
    assert missing_lines([{"assay": "brain_weight", "subject": "G1M01", "group": "G1",
                           "sex": "M", "reason": "no data in brain_weights.csv"}]) == [
        "brain_weight, subject G1M01 (group G1, sex M): no value — no data in brain_weights.csv"]


def test_excluding_a_brain_weight_excludes_the_relative_brain_weight_computed_from_it():
    """A derived endpoint does not survive its parent's exclusion (n 10 against 9 before)."""
    from neurotox import endpoints

    rows = [{"subject": s, "group": "G1", "sex": "F", "assay": "brain_weight",
             "endpoint": e, "value": v, "timepoint": "termination", "study_id": "S",
             "dose": 0.0, "dose_unit": "mg/kg", "source": "bw.csv"}
            for s in ("G1F01", "G1F02")
            for e, v in (("brain_weight", 1.9), ("terminal_body_weight", 250.0),
                         ("brain_weight_relative", 0.76))]
    table = endpoints.from_records(rows)
    out, records = apply_exclusions(table, _exclusions([("G1F02", "brain damaged at necropsy",
                                                         "brain_weight")]))
    hit = out[out["excluded"]].set_index("endpoint")["exclusion_reason"]
    assert hit.to_dict() == {
        "brain_weight": "manual exclusion: brain damaged at necropsy",
        "brain_weight_relative": "manual exclusion: brain damaged at necropsy (computed from "
                                 "brain_weight)"}
    assert set(out.loc[out["excluded"], "subject"]) == {"G1F02"}
    assert records[1] == {"rule": "manual exclusions file", "subject": "G1F02",
                          "endpoint": "brain_weight_relative",
                          "reason": "brain damaged at necropsy (computed from brain_weight)",
                          "values": 1}
    assert endpoints.derived_endpoints("terminal_body_weight") == {"brain_weight_relative"}
