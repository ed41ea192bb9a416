import math
import re

import numpy as np
import pandas as pd
import pytest

from neurotox import endpoints as ep
from neurotox.errors import ValidationError


def row(**kw):
    base = dict(study_id="S1", assay="nor", endpoint="nor_discrimination_index", subject="A1",
                group="G1", dose=0.0, dose_unit="mg/kg/day", sex="M", value=0.25,
                source="sheet.csv:row 2")
    base.update(kw)
    return base


def test_from_records_fills_registry_unit_category_and_defaults():
    t = ep.from_records([row(), row(subject="A2", value=0.1)])
    assert list(t.columns) == list(ep.COLUMNS)
    assert t["unit"].tolist() == ["ratio", "ratio"]
    assert t["category"].tolist() == ["neurobehavioral", "neurobehavioral"]
    assert t["timepoint"].tolist() == ["NA", "NA"]
    assert t["excluded"].tolist() == [False, False]
    assert t["value"].tolist() == [0.25, 0.1]


def test_empty_records_give_typed_empty_table():
    t = ep.from_records([])
    assert len(t) == 0 and list(t.columns) == list(ep.COLUMNS)


@pytest.mark.parametrize(("change", "match"), [
    ({"endpoint": "nor_magic"}, r"row 1, column 'endpoint': unknown endpoint 'nor_magic'"),
    ({"category": "mood"}, r"row 1, column 'category': unknown category 'mood'"),
    ({"category": "structural"}, r"category 'structural' is not allowed"),
    ({"unit": "s"}, r"column 'unit': unit 's' differs from the registry"),
    ({"sex": "X"}, r"column 'sex': sex 'X' is not M, F or NA"),
    ({"value": math.nan}, r"column 'value' \(endpoint 'nor_discrimination_index' from "
     r"sheet.csv:row 2\): value nan is not finite and the row is not excluded"),
    ({"value": math.nan, "excluded": True},
     r"column 'exclusion_reason': excluded row has no exclusion_reason"),
    ({"assay": "tmaze"}, r"endpoint is not registered for assay 'tmaze'"),
    ({"subject": ""}, r"column 'subject': subject is empty"),
    ({"dose": "high"}, r"row 1, column 'dose': expected a number, found 'high'"),
    ({"excluded": "maybe"}, r"column 'excluded': expected true/false, found 'maybe'"),
    ({"censoring": "below"}, r"column 'censoring': censoring 'below' is not 'none' or 'left' or "
                             r"'right'"),
])
def test_validation_rejects_with_row_and_column(change, match):
    with pytest.raises(ValidationError, match=match):
        ep.from_records([row(), row(**{"subject": "A2", **change})])


def test_excluded_nonfinite_with_reason_is_accepted():
    t = ep.from_records([row(value=np.nan, excluded=True, exclusion_reason="< 10 s exploration")])
    assert bool(t["excluded"].iloc[0]) and np.isnan(t["value"].iloc[0])


def test_duplicate_key_rejected():
    with pytest.raises(ValidationError, match=r"row 1, column 'subject': duplicate key .* 'A1'"):
        ep.from_records([row(), row(value=0.3)])


def test_same_subject_other_timepoint_is_fine():
    t = ep.from_records([row(timepoint="day1"), row(timepoint="day2")])
    assert len(t) == 2


def test_missing_columns_named_sorted():
    df = ep.from_records([row()]).drop(columns=["value", "batch"])
    with pytest.raises(ValidationError, match=r"missing EndpointTable columns 'batch', 'source', "
                                              r"'value'"):
        ep.validate(df.drop(columns=["source"], errors="ignore"))


def test_read_csv_reports_file_line_numbers(tmp_path):
    t = ep.from_records([row(), row(subject="A2")])
    p = tmp_path / "e.csv"
    bad = t.copy()
    bad.loc[1, "endpoint"] = "bogus"
    bad.to_csv(p, index=False)
    with pytest.raises(ValidationError, match=r"e\.csv, row 3, column 'endpoint'"):
        ep.read(p)


def test_roundtrip_csv_and_parquet(tmp_path):
    t = ep.from_records([row(), row(subject="A2", value=np.nan, excluded=True,
                                    exclusion_reason="tracking lost")])
    t.to_csv(tmp_path / "e.csv", index=False)
    t.to_parquet(tmp_path / "e.parquet", index=False)
    for name in ("e.csv", "e.parquet"):
        back = ep.read(tmp_path / name)
        pd.testing.assert_frame_equal(back, t, check_dtype=False)


def test_registry_covers_five_categories_and_is_consistent():
    cats = {c for e in ep.registry().values() for c in e.categories}
    assert {c.value for c in cats} <= {"structural", "neurophysiological", "neurochemical",
                                       "neurobehavioral", "neurodevelopmental"}
    for e in ep.registry().values():
        assert e.description and e.unit


def test_list_endpoints_filters():
    names = [e.name for e in ep.list_endpoints(category="neurobehavioral", assay="nor")]
    assert "nor_discrimination_index" in names
    assert all("nor" in e.assays for e in ep.list_endpoints(assay="nor"))


def test_censoring_defaults_to_none_and_is_normalised():
    t = ep.from_records([row(), row(subject="A2", censoring="Left"),
                         row(subject="A3", censoring="")])
    assert t["censoring"].tolist() == ["none", "left", "none"]


def test_table_without_censoring_column_reads_as_uncensored(tmp_path):
    t = ep.from_records([row(), row(subject="A2", censoring="right")])
    path = tmp_path / "old.csv"
    t.drop(columns="censoring").to_csv(path, index=False)
    back = ep.read(path)
    assert list(back.columns) == list(ep.COLUMNS)
    assert back["censoring"].tolist() == ["none", "none"]


@pytest.mark.parametrize("suffix", ["csv", "parquet"])
def test_unknown_column_is_refused_with_the_closest_name(tmp_path, suffix):
    """stranger29 F26: a misspelt 'censoring' header was dropped with all its censoring."""
    t = ep.from_records([row(), row(subject="A2", censoring="right")])
    path = tmp_path / f"typo.{suffix}"
    typo = t.rename(columns={"censoring": "censored"})
    typo.to_csv(path, index=False) if suffix == "csv" else typo.to_parquet(path, index=False)
    with pytest.raises(ValidationError, match=re.escape(
            f"{path}, column 'censored': unknown EndpointTable column 'censored' (did you "
            "mean 'censoring'?); expected the columns study_id, assay, category, endpoint, ")):
        ep.read(path)


def test_extra_columns_are_all_named():
    t = ep.from_records([row()]).assign(extra=1, Value2=2)
    with pytest.raises(ValidationError, match=r"^column 'extra': unknown EndpointTable column "
                                              r"'extra' \(and 'Value2'\); expected"):
        ep.validate(t)


def test_columns_are_read_by_name_in_any_order(tmp_path):
    t = ep.from_records([row(), row(subject="A2", value=0.5, censoring="left")])
    shuffled = t[list(reversed(t.columns))]
    shuffled.to_csv(tmp_path / "r.csv", index=False)
    back = ep.read(tmp_path / "r.csv")
    assert list(back.columns) == list(ep.COLUMNS)
    assert back["value"].tolist() == [0.25, 0.5] and back["censoring"].tolist() == ["none", "left"]


def test_a_subject_a_spreadsheet_would_run_is_refused_naming_its_source():
    """stranger29 F6: subject '=1+1' was printed as 2 by a spreadsheet opening the CSV."""
    t = ep.from_records([row(), row(subject="A2")])
    t.loc[1, "subject"] = "=1+1"
    with pytest.raises(ValidationError, match=re.escape(
            "row 1, column 'subject' (endpoint 'nor_discrimination_index' from sheet.csv:row "
            "2): subject '=1+1' starts with '=': a spreadsheet opening the CSV outputs would run "
            "it as a formula")):
        ep.validate(t)
    ok = ep.validate(t.assign(subject=["-1", "A-2"]))     # a number, an inner sign
    assert ok["subject"].tolist() == ["-1", "A-2"]


def test_free_text_is_escaped_in_csv_and_read_back_as_it_was(tmp_path):
    """Free text (reasons, sources) starting like a formula: ' in the CSV, not in Parquet."""
    from neurotox.io.output import OutputDir, RunRecord

    t = ep.from_records([row(), row(subject="A2", value=np.nan, excluded=True,
                                    exclusion_reason="-fell; =HYPERLINK(\"x\")",
                                    source="@sheet.csv:row 3")])
    with OutputDir(tmp_path / "out", record=RunRecord(command=["t"])) as od:
        od.write_table(t, "endpoints")
    text = (tmp_path / "out" / "endpoints.csv").read_text()
    assert ',"\'-fell; =HYPERLINK(""x"")",' in text and ",'@sheet.csv:row 3," in text
    assert ",-fell" not in text and ",@sheet" not in text
    for name in ("endpoints.csv", "endpoints.parquet"):
        back = ep.read(tmp_path / "out" / name)
        pd.testing.assert_frame_equal(back, t, check_dtype=False)


#: Values outside an endpoint's domain (registry minimum / maximum / integer), each
#: refused naming the file's CSV line, column 'value', the endpoint and its range.
OUT_OF_DOMAIN = [
    ("fob", "fob_gait_score", "score", 7.0,
     "ordinal endpoint 'fob_gait_score' needs whole numbers from 1 to 4, found 7"),
    ("fob", "fob_gait_score", "score", 2.5,
     "ordinal endpoint 'fob_gait_score' needs whole numbers from 1 to 4, found 2.5"),
    ("fob", "fob_arousal", "score", 0.0,
     "ordinal endpoint 'fob_arousal' needs whole numbers from 1 to 6, found 0"),
    ("neuropathology", "np_cerebral_cortex_vacuolation_severity", "grade", 9.0,
     "ordinal endpoint 'np_cerebral_cortex_vacuolation_severity' needs whole numbers from 0 "
     "to 5, found 9"),
    ("fob", "fob_tremors", "incidence", 2.0,
     "incidence endpoint 'fob_tremors' needs values 0 or 1, found 2"),
    ("fob", "fob_tremors", "incidence", 0.5,
     "incidence endpoint 'fob_tremors' needs values 0 or 1, found 0.5"),
    ("tmaze", "tmaze_entries", "count", -5.0,
     "count endpoint 'tmaze_entries' needs whole numbers of 0 or more, found -5"),
    ("tmaze", "tmaze_entries", "count", 2.5,
     "count endpoint 'tmaze_entries' needs whole numbers of 0 or more, found 2.5"),
    ("tmaze", "tmaze_alternation_pct", "%", 150.0,
     r"continuous endpoint 'tmaze_alternation_pct' needs values from 0 to 100 \(%\), found 150"),
    ("tmaze", "tmaze_alternation_pct", "%", -90.0,
     r"continuous endpoint 'tmaze_alternation_pct' needs values from 0 to 100 \(%\), found -90"),
    ("nor", "nor_discrimination_index", "ratio", 1.5,
     r"continuous endpoint 'nor_discrimination_index' needs values from -1 to 1 \(ratio\), "
     "found 1.5"),
    ("nor", "nor_total_exploration", "s", -3.0,
     r"continuous endpoint 'nor_total_exploration' needs values of 0 or more \(s\), found -3"),
    ("neurochem", "il6", "pg/mL", -5.0,
     r"continuous endpoint 'il6' needs values of 0 or more \(pg/mL\), found -5"),
]


def _file_with(tmp_path, assay, endpoint, unit, value):
    category = ep.get(endpoint).category.value
    good = {"fob_gait_score": 2.0, "fob_arousal": 4.0, "fob_tremors": 1.0,
            "np_cerebral_cortex_vacuolation_severity": 0.0, "tmaze_entries": 24.0,
            "tmaze_alternation_pct": 62.5, "nor_discrimination_index": -0.2,
            "nor_total_exploration": 31.5, "il6": 17.2}[endpoint]
    rows = [{**ep.DEFAULTS, **row(assay=assay, endpoint=endpoint, category=category, unit=unit,
                                  subject=s, value=v)} for s, v in (("A1", good), ("A2", value))]
    p = tmp_path / "outside.csv"
    pd.DataFrame(rows).to_csv(p, index=False)
    return p


@pytest.mark.parametrize(("assay", "endpoint", "unit", "value", "message"),
                         OUT_OF_DOMAIN)
def test_values_outside_the_endpoint_domain_name_file_row_and_range(tmp_path, assay, endpoint,
                                                                    unit, value, message):
    p = _file_with(tmp_path, assay, endpoint, unit, value)
    where = rf"^{re.escape(str(p))}, row 3, column 'value': "
    with pytest.raises(ValidationError, match=rf"{where}{message} \(subject 'A2'\)$"):
        ep.read(p)


@pytest.mark.parametrize(("endpoint", "unit", "assay", "value"), [
    ("fob_gait_score", "score", "fob", 4.0), ("fob_arousal", "score", "fob", 1.0),
    ("np_cerebral_cortex_vacuolation_severity", "grade", "neuropathology", 5.0),
    ("fob_tremors", "incidence", "fob", 0.0), ("tmaze_entries", "count", "tmaze", 0.0),
    ("tmaze_alternation_pct", "%", "tmaze", 100.0),
    ("nor_discrimination_index", "ratio", "nor", -1.0),
    ("nor_total_exploration", "s", "nor", 0.0)])
def test_values_at_the_ends_of_the_domain_pass(tmp_path, endpoint, unit, assay, value):
    t = ep.read(_file_with(tmp_path, assay, endpoint, unit, value))
    assert t["value"].tolist()[1] == value


def test_excluded_value_outside_the_domain_is_not_checked():
    t = ep.from_records([row(value=3.0, excluded=True, exclusion_reason="scoring error")])
    assert t["value"].tolist() == [3.0]


def test_domain_comes_from_data_type_unit_and_registry_entry():
    def dom(name):
        e = ep.get(name)
        return e.minimum, e.maximum, e.integer
    assert dom("fob_tremors") == (0, 1, True)                # incidence
    assert dom("np_hippocampus_neuronal_necrosis_severity") == (0, 5, True)   # grade
    assert dom("tmaze_entries") == (0, None, True)           # count
    assert dom("nuclei_count") == (0, None, False)           # a mean per field
    assert dom("stimulus_response_rate") == (0, 100, False)  # proportion in %
    assert dom("brain_weight") == (0, None, False)           # a weight
    assert dom("transition_response") == (None, None, False)  # a difference (interval)
    assert dom("habituation_slope") == (None, None, False)   # a slope
    assert dom("prepulse_inhibition_pct") == (None, 100, False)
    assert dom("fob_gait_score") == (1, 4, True)             # its scale's ends
    assert dom("il6") == (0, None, False)                    # a concentration (pg/mL)
    assert dom("il6_per_protein") == (0, None, False)        # pg/mg protein
    assert dom("brain_che_activity") == (None, None, False)  # blank-corrected activity


@pytest.mark.parametrize(("found", "registry", "same"), [
    ("pg/ml", "pg/mL", True), ("pg/mL", "pg/mL", True), ("\u00b5m", "um", True),
    ("\u03bcm", "um", True), ("U/ml", "U/mL", True), ("uM", "um", False), ("Mg", "mg", False),
    ("Ms", "ms", False), ("ng/mL", "pg/mL", False), ("cells/well", "cells/weLL", False)])
def test_unit_spellings_of_one_unit_share_a_key(found, registry, same):
    assert (ep.unit_key(found) == ep.unit_key(registry)) is same


def _il6_file(tmp_path, unit, censoring=None):
    rows = [{**ep.DEFAULTS, **row(assay="neurochem", endpoint="il6",
                                  category="neurochemical", unit=unit, subject=s, value=v)}
            for s, v in (("A1", 17.2), ("A2", 9.14))]
    t = pd.DataFrame(rows)
    if censoring is None:
        t = t.drop(columns="censoring")
    else:
        t["censoring"] = censoring
    p = tmp_path / "il6.csv"
    t.to_csv(p, index=False)
    return p


def test_litre_symbol_in_either_case_is_read_as_the_registry_unit_and_noted(tmp_path):
    t = ep.read(_il6_file(tmp_path, "pg/ml", censoring=["none", "left"]))
    assert t["unit"].tolist() == ["pg/mL", "pg/mL"]
    assert t.attrs["notes"] == ["il6.csv: unit 'pg/ml' read as the registry's 'pg/mL' "
                                "(the same unit)"]


def test_another_unit_is_refused_saying_what_to_write(tmp_path):
    p = _il6_file(tmp_path, "ng/mL", censoring=["none", "none"])
    with pytest.raises(ValidationError, match=rf"^{re.escape(str(p))}, row 2, column 'unit': "
                       r"unit 'ng/mL' differs from the registry's unit 'pg/mL' for this "
                       r"endpoint; write 'pg/mL' \(convert the values"):
        ep.read(p)


@pytest.mark.parametrize("censoring", [None, ["", ""]])
def test_blank_censoring_of_neurochemical_values_is_noted(tmp_path, censoring):
    t = ep.read(_il6_file(tmp_path, "pg/mL", censoring=censoring))
    assert t["censoring"].tolist() == ["none", "none"]
    assert t.attrs["notes"] == [
        "il6.csv: column 'censoring' is absent or blank in every row: every value is analysed "
        "as measured (censoring 'none'); a value at a limit of quantification (LLOQ x dilution) "
        "must be marked 'left' to be analysed as censored"]
    assert ep.read(_il6_file(tmp_path, "pg/mL", ["left", ""])).attrs["notes"] == []


@pytest.mark.parametrize(("first", "second"), [
    ("pretest", "Pretest"), ("day7", "Day 7"), ("pretest", "pre-test"), ("week4", "Week4"),
    ("day7", "day07"), ("day21", "day021"), ("day-1", "Day -01"), ("PND4", "PND04")])
def test_timepoints_differing_only_in_case_or_punctuation_are_refused(tmp_path, first, second):
    t = ep.from_records([row(subject="A1", timepoint=first), row(subject="A2", timepoint=first),
                         row(subject="A3", timepoint=first)])
    t.loc[2, "timepoint"] = second
    p = tmp_path / "e.csv"
    t.to_csv(p, index=False)
    with pytest.raises(ValidationError) as err:
        ep.read(p)
    assert str(err.value) == (
        f"{p}, row 4, column 'timepoint': timepoint {second!r} and {first!r} (row 2) of assay "
        "'nor' differ only in letter case, spaces, punctuation or leading zeros; write one "
        "session's label the same way throughout")


def test_timepoint_clash_in_an_assay_table_names_both_source_rows():
    recs = [row(subject="A1", timepoint="pretest", source="fob.csv row 2"),
            row(subject="A2", timepoint="Pretest", source="fob.csv row 3")]
    with pytest.raises(ValidationError, match=re.escape(
            "row 1, column 'timepoint' (endpoint 'nor_discrimination_index' from fob.csv row "
            "3): timepoint 'Pretest' and 'pretest' (from fob.csv row 2) of assay 'nor'")):
        ep.from_records(recs)


def test_same_label_in_other_assays_and_distinct_days_are_fine():
    recs = [row(subject="A1", timepoint="day-1"), row(subject="A1", timepoint="day1"),
            row(subject="A1", timepoint="Day1", assay="tmaze", endpoint="tmaze_alternation_pct",
                value=50.0)]
    assert len(ep.from_records(recs)) == 3


def test_exclusion_records_give_an_unmeasured_endpoint_one_record_with_its_count():
    """Every value of one endpoint excluded for one reason (an endpoint the protocol cannot
    measure) is one record with the number of values; other exclusions stay one per value."""
    nan = dict(value=np.nan, excluded=True)
    t = ep.from_records(
        [row(subject=f"A{i}", endpoint="nor_training_side_bias", **nan,
             exclusion_reason="not measured") for i in range(1, 4)]
        + [row(subject="A1", **nan, exclusion_reason="< 10 s exploration"),
           row(subject="A2"), row(subject="A3", **nan, exclusion_reason="manual exclusion: x")])
    assert ep.exclusion_records(t) == [
        {"rule": "assay", "assay": "nor", "endpoint": "nor_training_side_bias",
         "subject": "all", "values": 3, "reason": "not measured"},
        {"rule": "assay", "assay": "nor", "endpoint": "nor_discrimination_index",
         "subject": "A1", "timepoint": "NA", "reason": "< 10 s exploration"}]
    # one animal with the endpoint excluded is its own record, not "all"
    assert ep.exclusion_records(t.iloc[[0, 3, 4]])[0]["subject"] == "A1"
    assert ep.exclusion_records(t.iloc[[4]]) == []
