"""The study file's historical_controls key: database path, missing database, recorded query."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from tests.send_files import write_study

from neurotox.errors import InputError
from neurotox.hcd import db, schema, store
from neurotox.hcd.compare import database_url, for_study
from neurotox.hcd.ranges import Unrecorded
from neurotox.hcd.send import send_batch
from neurotox.io.send import read_send
from neurotox.study import HistoricalControls


def test_relative_database_is_beside_the_study_file(tmp_path):
    spec = HistoricalControls(database="../hcd.sqlite")
    assert database_url(spec, tmp_path / "study" / "study.yaml") == \
        f"sqlite:///{tmp_path / 'hcd.sqlite'}"
    url = "postgresql+psycopg://u:pw@h/d"
    assert database_url(HistoricalControls(database=url), tmp_path / "s.yaml") == url


def test_missing_database_names_the_study_key(tmp_path):
    spec = HistoricalControls(database="nowhere.sqlite")
    with pytest.raises(InputError, match=r"study.yaml, key 'historical_controls.database': no "
                                         r"historical control database here yet"):
        for_study(spec, tmp_path / "study.yaml", ["brain_weight"])


def test_ranges_counts_and_recorded_query(tmp_path):
    engine = db.connect(str(tmp_path / "hcd.sqlite"))
    store.add(engine, send_batch(read_send(write_study(tmp_path / "syn"))))
    engine.dispose()
    spec = HistoricalControls(database="hcd.sqlite", strata={"strain": "Sprague Dawley"},
                              window_years=10)
    hist = for_study(spec, tmp_path / "study.yaml", ["brain_weight"])
    r = hist.ranges.set_index("sex")
    assert r.loc["F", "mean"] == pytest.approx(1.9) and r.loc["M", "n_animals"] == 2
    assert (hist.n_studies, hist.n_animals, hist.n_values) == (1, 5, 5)
    rec = hist.manifest()
    assert rec["query"]["strain"] == "Sprague Dawley" and rec["query"]["window_years"] == 10
    assert rec["query"]["until"] == dt.datetime.now(dt.UTC).date().isoformat()   # window used
    assert len(rec["rows_sha256"]) == 64
    assert "1 study (SYN-1; started 2020-01-02), 5 control animal(s)" in hist.describe()


def _two_studies(tmp_path):
    """SYN-1 (brain weight F 1.8/1.9/2.0, M 2.0/2.2) and SYN-2 (every brain 0.5 g heavier)."""
    from tests.send_files import BRAIN

    engine = db.connect(str(tmp_path / "hcd.sqlite"))
    store.add(engine, send_batch(read_send(write_study(tmp_path / "syn1"))))
    heavier = [BRAIN[i] + 0.5 for i in BRAIN] + [12.5]
    store.add(engine, send_batch(read_send(write_study(
        tmp_path / "syn2", {"om": {"OMSTRESN": heavier}}, study_id="SYN-2"))))
    engine.dispose()
    return HistoricalControls(database="hcd.sqlite")


def test_the_reported_study_is_left_out_of_its_own_range(tmp_path):
    spec = _two_studies(tmp_path)
    both = for_study(spec, tmp_path / "study.yaml", ["brain_weight"]).ranges.set_index("sex")
    assert both.loc["F", "study_mean_min"] == pytest.approx(1.9)
    assert both.loc["F", "study_mean_max"] == pytest.approx(2.4)
    hist = for_study(spec, tmp_path / "study.yaml", ["brain_weight"], study_id="SYN-1")
    r = hist.ranges.set_index("sex")
    assert r.loc["F", "study_mean_min"] == r.loc["F", "study_mean_max"] == pytest.approx(2.4)
    assert r.loc["M", "mean"] == pytest.approx(2.6) and r.loc["M", "n_animals"] == 2
    assert (hist.n_studies, hist.n_animals, hist.n_values) == (1, 5, 5)
    assert hist.describe().endswith(
        "1 study (SYN-2; started 2020-01-02), 5 control animal(s), 5 value(s); left out as the "
        "study being reported (same study number, data files or control animals): 1 study, "
        "5 control animal(s) (database id 1)")
    left = hist.manifest()["left_out"]
    assert (left["n_studies"], left["n_animals"]) == (1, 5)
    assert [(e["id"], e["study_id"], e["why"]) for e in left["entries"]] == \
        [(1, "SYN-1", ["same study number"])]


def test_the_reported_study_is_recognised_by_its_data_files(tmp_path):
    from neurotox.hcd.identity import file_hashes

    spec = _two_studies(tmp_path)
    # renumbered, but read from SYN-2's files
    hist = for_study(spec, tmp_path / "study.yaml", ["brain_weight"], study_id="NEW-9",
                     inputs=file_hashes([tmp_path / "syn2"]))
    r = hist.ranges.set_index("sex")
    assert r.loc["F", "mean"] == pytest.approx(1.9) and hist.n_studies == 1
    assert "left out as the study being reported (same study number, data files or control " \
        "animals): 1 study, 5 control animal(s) (database id 2)" in hist.describe()
    assert hist.manifest()["left_out"]["entries"][0]["why"] == [
        "same data files: bw.xpt, dm.xpt, lb.xpt and 3 more"]
    # a study that is not in the database leaves nothing out and says nothing
    other = for_study(spec, tmp_path / "study.yaml", ["brain_weight"], study_id="NEW-9")
    assert other.n_studies == 2 and "left out" not in other.describe()
    assert "left_out" not in other.manifest()


OWN = {"species": "rat", "strain": "Sprague-Dawley", "route": "oral gavage",
       "vehicle": "0.5% methylcellulose", "guideline": "", "facility": ""}


def _other_vehicle_study(tmp_path):
    """SYN-1 (vehicle Water, started 2020-01-02) and SYN-3 (Saline, 2021-03-04)."""
    engine = db.connect(str(tmp_path / "hcd.sqlite"))
    store.add(engine, send_batch(read_send(write_study(tmp_path / "syn1"))))
    ts = ["Synthetic study 3", "RAT", "SPRAGUE-DAWLEY", "Saline", "ORAL GAVAGE", "2021-03-04",
          "Test Lab", "Supplier"]
    store.add(engine, send_batch(read_send(write_study(
        tmp_path / "syn3", {"ts": {"STUDYID": ["SYN-3"] * 8, "TSVAL": ts}}, study_id="SYN-3"))))
    engine.dispose()


def test_the_historical_studies_are_named_and_no_strata_is_a_warning(tmp_path):
    _other_vehicle_study(tmp_path)
    hist = for_study(HistoricalControls(database="hcd.sqlite"), tmp_path / "study.yaml",
                     ["brain_weight"], own=OWN)
    assert hist.describe() == (
        "database hcd.sqlite; no strata (not matched: species, "
        "strain, route, vehicle, guideline, facility, age); 2 studies (SYN-1, SYN-3; started "
        "2020-01-02 to 2021-03-04), 10 control animal(s), 10 value(s)")
    assert hist.unmatched == (
        "warning: historical controls: the ranges pool 2 studies not matched on species, "
        "strain, route, vehicle, guideline, facility, age; they differ in vehicle "
        "'0.5% methylcellulose' here, 'Saline' (SYN-3), 'Water' (SYN-1) in the historical "
        "studies; historical_controls.strata is empty: set strata (e.g. strain, vehicle, "
        "route, age_weeks) so that the ranges come from comparable studies")
    rec = hist.manifest()
    assert rec["min_studies"] == 3 and rec["not_matched"][-1] == "age"
    # the report names the file; the manifest keeps where it was
    assert str(tmp_path) not in hist.describe()
    assert rec["database"] == f"sqlite:///{tmp_path / 'hcd.sqlite'}"
    assert rec["database_name"] == "hcd.sqlite"
    assert [(s["id"], s["study_id"], s["vehicle"], s["start_date"], s["facility"],
             s["n_animals"]) for s in rec["studies"]] == [
        (1, "SYN-1", "Water", "2020-01-02", "Test Lab", 5),
        (2, "SYN-3", "Saline", "2021-03-04", "Test Lab", 5)]
    assert hist.studies[1].describe() == (
        "SYN-3 (database id 2; Synthetic study 3; Test Lab; 2021-03-04 to end not recorded; "
        "strain SPRAGUE-DAWLEY, route oral gavage, vehicle Saline; 5 control animal(s))")


def test_strata_that_leave_characteristics_free_give_a_note_not_a_warning(tmp_path):
    _other_vehicle_study(tmp_path)
    spec = HistoricalControls(database="hcd.sqlite", strata={"vehicle": "saline"},
                              min_studies=2)
    hist = for_study(spec, tmp_path / "study.yaml", ["brain_weight"], own=OWN)
    assert [s.study_id for s in hist.studies] == ["SYN-3"] and hist.min_studies == 2
    assert hist.unmatched == ("historical controls: the ranges pool 1 study not matched on "
                              "species, strain, route, guideline, facility, age")
    assert "vehicle saline (not matched: species, strain, route, guideline, facility, age); " \
        "1 study (SYN-3; started 2021-03-04)" in hist.describe()


def test_a_re_run_under_an_amended_number_is_left_out_with_a_warning(tmp_path):
    # stranger42 F-self: the same control animals (IDs and values), another study number
    spec = _two_studies(tmp_path)
    again = send_batch(read_send(tmp_path / "syn2"))
    hist = for_study(spec, tmp_path / "study.yaml", ["brain_weight"], study_id="SYN-2A",
                     controls=again.control_values())
    r = hist.ranges.set_index("sex")
    assert r.loc["F", "mean"] == pytest.approx(1.9) and (hist.n_studies, hist.n_animals) == (1, 5)
    [warning] = hist.warnings()
    assert warning.startswith("historical controls: database id 2 (study 'SYN-2', added ")
    assert warning.endswith(
        "; same control animals: 5 of 5 with the same subject IDs and values) is this study "
        "under another study number; left out of its historical controls (a study is never "
        "part of its own historical controls)")
    # the same study number is the ordinary case: left out, said in the footnote, no warning
    same = for_study(spec, tmp_path / "study.yaml", ["brain_weight"], study_id="SYN-2",
                     controls=again.control_values())
    assert same.n_studies == 1 and same.warnings() == []


def test_no_matching_value_and_undated_studies_are_warnings(tmp_path):
    _two_studies(tmp_path)
    spec = HistoricalControls(database="hcd.sqlite", strata={"strain": "Wistar"})
    hist = for_study(spec, tmp_path / "study.yaml", ["brain_weight"])
    assert hist.n_studies == 0 and hist.warnings() == [
        "historical controls: no stored control value matches (strain Wistar): strain "
        "'Wistar' matches no stored study (the database holds 'SPRAGUE-DAWLEY'); the report "
        "has no historical control rows"]
    engine = db.connect(str(tmp_path / "hcd.sqlite"))
    with engine.begin() as conn:
        conn.execute(schema.study.update().where(schema.study.c.id == 2).values(start_date=""))
    engine.dispose()
    spec = HistoricalControls(database="hcd.sqlite", window_years=100)
    hist = for_study(spec, tmp_path / "study.yaml", ["brain_weight"])
    assert hist.n_studies == 1 and hist.unrecorded == (Unrecorded("window_years", ("SYN-2",),
                                                                   1, 5),)
    assert hist.warnings() == [
        "historical controls: window_years leaves out 1 study (SYN-2), 5 control animal(s) "
        "within the other strata for want of a start date (the study file's "
        "'dates.experimental_start', SEND STSTDTC, or 'hcd add --start-date')"]
    assert hist.describe().endswith("; left out by window_years for want of a start date: "
                                    "1 study (SYN-2), 5 control animal(s)")
    assert hist.manifest()["left_out_for_want_of_a_field"] == [
        {"stratum": "window_years", "study_ids": ["SYN-2"], "n_studies": 1, "n_animals": 5}]


def test_a_range_held_in_another_unit_is_converted_or_named(tmp_path):
    # stranger42: a study's brain weights in mg were silently missing from the g range
    from tests.send_files import BRAIN

    engine = db.connect(str(tmp_path / "hcd.sqlite"))
    store.add(engine, send_batch(read_send(write_study(tmp_path / "syn1"))))
    in_mg = [(BRAIN[i] + 0.5) * 1000 for i in BRAIN] + [12500.0]
    store.add(engine, send_batch(read_send(write_study(
        tmp_path / "syn2", {"om": {"OMSTRESN": in_mg, "OMSTRESU": ["mg"] * 12},
                            "lb": {"LBSTRESU": ["mmol/L"] * 7}}, study_id="SYN-2"))))
    engine.dispose()
    spec = HistoricalControls(database="hcd.sqlite")
    hist = for_study(spec, tmp_path / "study.yaml", ["brain_weight", "lb_gluc_serum"],
                     units={"brain_weight": "g", "lb_gluc_serum": "mg/dL"})
    r = hist.ranges.set_index(["endpoint", "sex"])
    assert r.loc[("brain_weight", "F"), "study_mean_min"] == pytest.approx(1.9)
    assert r.loc[("brain_weight", "F"), "study_mean_max"] == pytest.approx(2.4)
    assert r.loc[("brain_weight", "F"), "unit"] == "g"
    assert r.loc[("lb_gluc_serum", "M"), "n_studies"] == 1
    assert hist.unit_notes == (
        "historical controls: brain_weight in 'mg' (SYN-2; 5 value(s)) converted to 'g', the "
        "unit of this study",
        "warning: historical controls: lb_gluc_serum in 'mmol/L' (SYN-2; 4 value(s)) left out: "
        "this study gives lb_gluc_serum in 'mg/dL' and no exact conversion is known")


def test_values_in_another_unit_are_converted_when_the_conversion_is_exact():
    # fixF converted mg to g; a unit written with the Greek mu or extra spaces is the same
    # unit (vocab.normalise_unit), not one "without an exact conversion"
    from neurotox.hcd.compare import in_units

    rows = pd.DataFrame({"endpoint": ["brain_weight"] * 4 + ["lb_alt"],
                         "unit": ["g", "mg", "\u03bcg", " g ", "U/L"],
                         "value": [2.0, 2000.0, 2e6, 2.1, 40.0],
                         "study_id": ["A", "B", "C", "D", "A"]})
    out, notes = in_units(rows, {"brain_weight": "g", "lb_alt": "IU/L"})
    assert out["value"].tolist() == pytest.approx([2.0, 2.0, 2.0, 2.1])
    assert notes == [
        "historical controls: brain_weight in 'mg' (B; 1 value(s)) converted to 'g', the unit "
        "of this study",
        "historical controls: brain_weight in '\u03bcg' (C; 1 value(s)) converted to 'g', the "
        "unit of this study",
        "warning: historical controls: lb_alt in 'U/L' (A; 1 value(s)) left out: this study "
        "gives lb_alt in 'IU/L' and no exact conversion is known"]


def test_a_range_names_the_studies_it_rests_on(tmp_path):
    """SYN-2's females have no sex in dm (left out): female ranges rest on SYN-1 alone."""
    from tests.send_files import tables

    from neurotox.report.historical import HistoricalRanges, footnote

    engine = db.connect(str(tmp_path / "hcd.sqlite"))
    store.add(engine, send_batch(read_send(write_study(tmp_path / "syn1"))))
    no_sex = ["U" if s == "F" else s for s in tables()["dm"]["SEX"]]
    store.add(engine, send_batch(read_send(write_study(
        tmp_path / "syn2", {"dm": {"SEX": no_sex}}, study_id="SYN-2"))))
    engine.dispose()
    hist = for_study(HistoricalControls(database="hcd.sqlite"), tmp_path / "study.yaml",
                     ["brain_weight"])
    r = hist.ranges.set_index("sex")
    assert r.loc["F", "studies"] == (("SYN-1", 3),)
    assert r.loc["M", "studies"] == (("SYN-1", 2), ("SYN-2", 2))
    shown = HistoricalRanges(hist.ranges, hist.describe(),
                             studies=tuple(s.describe() for s in hist.studies))
    assert footnote("summary", shown, used=[r.loc["F"]], sex="F").endswith(
        "7 value(s). Ranges for females rest on 1 of the 2 historical studies: SYN-1 (3 "
        "animals); the others hold no such animals or values.")
    assert footnote("summary", shown, used=[r.loc["M"]], sex="M").endswith("7 value(s).")
