"""Range statistics and strata on hand-made rows with hand-computed answers."""

from __future__ import annotations

import datetime as dt
import math

import pandas as pd
import pytest

from neurotox.errors import InputError
from neurotox.hcd.ranges import (
    Query,
    Unrecorded,
    query_from_options,
    ranges,
    rows_hash,
    select_rows,
    unrecorded,
    why_none,
)
from neurotox.hcd.store import FETCH_COLUMNS


def rows(values: list[tuple]) -> pd.DataFrame:
    """(study, strain, start, sex, age_days, endpoint, data_type, value) → fetch-like rows."""
    recs = []
    for k, (st, strain, start, sex, age, ep, dtype, value) in enumerate(values):
        recs.append({c: "" for c in FETCH_COLUMNS} | {
            "study_pk": st, "study_id": f"S{st}", "source_hash": f"h{st}", "strain": strain,
            "start_date": start, "sex": sex, "age_days": age, "subject": f"A{k}",
            "endpoint": ep, "data_type": dtype, "timepoint": "NA", "value": value,
            "unit": "g", "animal_included": True, "included": True, "censoring": ""})
    return pd.DataFrame(recs, columns=list(FETCH_COLUMNS))


DATA = rows([
    (1, "Sprague-Dawley", "2024-03-01", "M", 56, "bw", "continuous", 2.0),
    (1, "Sprague-Dawley", "2024-03-01", "M", 56, "bw", "continuous", 2.2),
    (2, "SPRAGUE DAWLEY", "2025-06-01", "M", 63, "bw", "continuous", 1.9),
    (2, "SPRAGUE DAWLEY", "2025-06-01", "M", 63, "bw", "continuous", 2.1),
    (2, "SPRAGUE DAWLEY", "2025-06-01", "M", 63, "bw", "continuous", 2.3),
    (3, "Wistar", "2015-01-01", "M", 56, "bw", "continuous", 1.5),
    (1, "Sprague-Dawley", "2024-03-01", "F", 56, "tremor", "incidence", 1.0),
    (1, "Sprague-Dawley", "2024-03-01", "F", 56, "tremor", "incidence", 0.0),
    (2, "SPRAGUE DAWLEY", "2025-06-01", "F", 63, "tremor", "incidence", 0.0),
    (2, "SPRAGUE DAWLEY", "2025-06-01", "F", 63, "tremor", "incidence", 0.0),
])


def test_continuous_range_by_hand():
    sel = select_rows(DATA, Query(strain="sprague-dawley"))
    r = ranges(sel).set_index(["endpoint", "sex"]).loc[("bw", "M")]
    vals = [2.0, 2.2, 1.9, 2.1, 2.3]
    assert (r["n_studies"], r["n_animals"]) == (2, 5)
    assert r["mean"] == pytest.approx(2.1, abs=1e-12)
    assert r["sd"] == pytest.approx(math.sqrt(0.1 / 4), abs=1e-12)    # sum of squares 0.10
    assert (r["min"], r["max"]) == (1.9, 2.3)
    # linear interpolation: 5th percentile at rank 0.2 between 1.9 and 2.0
    assert r["p5"] == pytest.approx(1.92, abs=1e-12) and r["p95"] == pytest.approx(2.28, abs=1e-12)
    assert r["study_mean_min"] == pytest.approx(2.1) and r["study_mean_max"] == pytest.approx(2.1)
    assert sorted(vals) == sorted(sel.loc[sel["endpoint"] == "bw", "value"])


def test_incidence_range_by_hand():
    r = ranges(select_rows(DATA, Query())).set_index("endpoint").loc["tremor"]
    assert (r["n_studies"], r["n_animals"], r["n_affected"]) == (2, 4, 1)
    assert r["incidence_pct"] == 25.0
    assert (r["study_incidence_min"], r["study_incidence_max"]) == (0.0, 50.0)
    assert math.isnan(r["mean"])


def test_window_and_age_band():
    q = Query(window_years=2, until=dt.date(2025, 12, 31))
    assert set(select_rows(DATA, q)["study_pk"]) == {1, 2}
    assert set(select_rows(DATA, Query(window_years=1, until=dt.date(2025, 12, 31)))
               ["study_pk"]) == {2}
    assert set(select_rows(DATA, Query(age_weeks=(8, 8.5)))["study_pk"]) == {1, 3}
    assert "studies started 2023-12-31 to 2025-12-31" in q.describe()


def test_excluded_rows_never_enter():
    data = DATA.copy()
    data.loc[0, "animal_included"] = False
    data.loc[1, "included"] = False
    sel = select_rows(data, Query(strain="Sprague-Dawley"))
    assert sorted(sel.loc[sel["endpoint"] == "bw", "value"]) == [1.9, 2.1, 2.3]


def test_censored_values_are_counted_not_summarised():
    data = DATA.copy()
    data.loc[0, "censoring"] = "left"
    r = ranges(select_rows(data, Query(strain="Sprague-Dawley"))).set_index("endpoint").loc["bw"]
    assert r["n_censored"] == 1 and r["mean"] == pytest.approx((2.2 + 1.9 + 2.1 + 2.3) / 4)


def test_rows_hash_depends_on_values_only_not_order():
    h = rows_hash(DATA)
    assert h == rows_hash(DATA.iloc[::-1])
    changed = DATA.copy()
    changed.loc[0, "value"] = 2.0000001
    assert rows_hash(changed) != h


@pytest.mark.parametrize(("options", "match"), [
    ({"age_weeks": (12, 8)}, "age_weeks must be"),
    ({"window_years": -1}, "window_years"),
    ({"window_years": float("nan")}, "options: window_years: Input should be a finite number"),
    ({"age_weeks": (8, float("inf"))}, r"options: age_weeks: age_weeks \[8.0, inf\]: expected "
                                       r"an age in weeks from 0 to 1000, found inf"),
    ({"age_weeks": (float("nan"), 8)}, r"age_weeks \[nan, 8.0\]: expected an age in weeks, "
                                       r"found nan \(not a number\)"),
    ({"strian": "x"}, "strian"),
    ({"until": "2026-13-01"}, r"options: until: expected a date YYYY-MM-DD, found "
                              r"'2026-13-01' \(month value is outside expected range of 1-12\)"),
])
def test_bad_query_options(options, match):
    with pytest.raises(InputError, match=match):
        query_from_options(options)


def test_the_window_ends_on_the_utc_date_whatever_the_time_zone(monkeypatch):
    # stranger34 F12: at the same instant two hosts counted 1 and 2 studies
    import time

    try:
        for zone in ("Etc/GMT+12", "Etc/GMT-14"):
            monkeypatch.setenv("TZ", zone)
            time.tzset()
            assert Query(window_years=1).window()[1] == dt.datetime.now(dt.UTC).date()
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()


def test_timepoints_come_in_time_order_not_text_order():
    # stranger42: day-3, day-4, day-6, day1, day10, ..., day19, day2, day20 (text order)
    labels = ["day10", "day2", "day-3", "day1", "day-6", "day20", "day19", "pretest"]
    data = pd.concat([DATA.iloc[[0]].assign(timepoint=t, value=float(k), subject=f"A{k}")
                      for k, t in enumerate(labels)], ignore_index=True)
    out = ranges(data)
    assert out["timepoint"].tolist() == ["pretest", "day-6", "day-3", "day1", "day2", "day10",
                                         "day19", "day20"]
    assert out.set_index("timepoint").loc["day2", "mean"] == 1.0     # values follow their label


def test_a_window_counts_the_studies_it_leaves_out_for_want_of_a_start_date():
    data = DATA.copy()
    data.loc[data["study_pk"] == 2, "start_date"] = ""
    q = Query(window_years=2, until=dt.date(2025, 12, 31))
    assert set(select_rows(data, q)["study_pk"]) == {1}
    assert unrecorded(data, q) == [Unrecorded("window_years", ("S2",), 1, 5)]   # study 2
    assert unrecorded(data, Query(strain="Wistar", window_years=2)) == []   # not in the strata
    assert unrecorded(data, Query()) == []                                  # no window
    assert unrecorded(data, q)[0].describe("--window-years") == (
        "--window-years leaves out 1 study (S2), 5 control animal(s) within the other strata "
        "for want of a start date (the study file's 'dates.experimental_start', SEND STSTDTC, "
        "or 'hcd add --start-date')")


def test_strata_count_the_studies_and_animals_they_leave_out_for_want_of_the_field():
    # stranger43: a study without an age or a strain silently missing from the range
    data = DATA.copy()
    data.loc[data["study_pk"] == 2, "age_days"] = math.nan
    data.loc[data["study_pk"] == 3, "strain"] = ""
    q = Query(age_weeks=(7, 10))
    assert set(select_rows(data, q)["study_pk"]) == {1, 3}
    assert unrecorded(data, q) == [Unrecorded("age_weeks", ("S2",), 1, 5)]
    q = Query(strain="Sprague-Dawley", age_weeks=(7, 10))
    assert unrecorded(data, q) == [Unrecorded("age_weeks", ("S2",), 1, 5),
                                   Unrecorded("strain", ("S3",), 1, 1)]
    assert unrecorded(data, q)[1].describe("--strain") == (
        "--strain leaves out 1 study (S3), 1 control animal(s) within the other strata for "
        "want of a recorded strain ('hcd list' shows the study's fields)")
    # a study out for another stratum is not counted: S3 is no Sprague-Dawley study's age
    data.loc[data["study_pk"] == 3, "age_days"] = math.nan
    assert unrecorded(data, Query(strain="Wistar", age_weeks=(7, 10))) == []


def test_why_nothing_matches_names_what_the_database_holds():
    assert why_none(DATA, Query(strain="Long-Evans")) == (
        "strain 'Long-Evans' matches no stored study (the database holds 'SPRAGUE DAWLEY', "
        "'Sprague-Dawley', 'Wistar')")
    assert why_none(DATA, Query(age_weeks=(10, 12))) == (
        "age 10–12 weeks matches no stored animal (the database holds 8–9 weeks)")
    undated_only = DATA.assign(start_date="")
    assert why_none(undated_only, Query(window_years=5, until=dt.date(2026, 12, 5))) == (
        "no stored study started 2021-12-05 to 2026-12-05 (start dates held: none; 3 studies "
        "without one)")
    # each stratum matches some study, not all together
    assert why_none(DATA, Query(strain="Wistar", age_weeks=(9, 9))) == (
        "no stored study matches these strata together")


def test_a_bad_age_band_reads_without_pydantics_prefix():
    with pytest.raises(InputError) as err:
        query_from_options({"age_weeks": (10, 7)}, cli=True)
    assert str(err.value) == ("option '--age-weeks': age_weeks must be [low, high] with "
                              "0 <= low <= high, found [10.0, 7.0]")


@pytest.mark.parametrize(("want", "studies"), [
    ("1.0% methylcellulose", {1, 2}),        # 1.0 % = 1 %, never 10 %
    ("1 % Methyl-Cellulose", {1, 2}),
    ("10% methylcellulose", {3}),
    ("0.5% methylcellulose", {4}),
    (".50 % methylcellulose", {4}),
    ("5% methylcellulose", {5}),
    ("15% methylcellulose", set()),
])
def test_vehicle_stratum_keeps_the_decimal_point(want, studies):
    vehicles = {1: "1.0% methylcellulose", 2: "1% Methylcellulose", 3: "10% methylcellulose",
                4: "0.5% methylcellulose", 5: "5 % methylcellulose"}
    data = pd.concat([DATA[DATA["study_pk"] == 1].assign(study_pk=k, vehicle=v)
                      for k, v in vehicles.items()], ignore_index=True)
    assert set(select_rows(data, Query(vehicle=want))["study_pk"]) == studies
