import pytest
from tests.unit.battery.conftest import DATA, run_one, value, write_study

from neurotox.endpoints import get
from neurotox.errors import InputError

MA = {"assay": "motor_activity", "protocol": "motor-activity-standard",
      "input": "motor_activity.csv"}


@pytest.fixture
def ma(tmp_path):
    return run_one(write_study(tmp_path, assays=[MA],
                               files={"motor_activity.csv": DATA / "motor_activity_6x10.csv"}))


def test_six_ten_minute_intervals_as_repeated_measures(ma):
    t = ma.endpoints
    counts = t[t["endpoint"] == "motor_activity_counts"]
    assert len(counts) == 4 * 6
    assert sorted(set(counts["timepoint"])) == [f"week4_bin{k:02d}" for k in range(1, 7)]
    assert get("motor_activity_counts").repeated_measures
    assert value(t, "motor_activity_counts", "B1", "week4_bin03")["value"] == 100
    assert "row 4, column '20-30_min'" in value(t, "motor_activity_counts", "B1",
                                                "week4_bin03")["source"]


@pytest.mark.parametrize("subject, total, habituation", [
    ("A1", 1218, 100 * (1 - 98 / 400)), ("A2", 1415, 100 * (1 - 105 / 500)),
    ("B1", 608, 100 * (1 - 48 / 200)), ("B2", 707, 100 * (1 - 57 / 250)),
])
def test_totals_and_habituation(ma, subject, total, habituation):
    assert value(ma.endpoints, "motor_activity_total", subject, "week4")["value"] == total
    assert value(ma.endpoints, "motor_activity_habituation_pct", subject,
                 "week4")["value"] == pytest.approx(habituation)


def test_interval_and_asymptote_notes(ma):
    assert any("intervals of 10 min (<= 10 min)" in n for n in ma.notes)
    # control last two intervals: (100 + 110) / 2 vs (98 + 105) / 2 → 3.5 / 450
    assert any("control activity reaches asymptote (last-interval change 0.8%" in n
               for n in ma.notes)


def test_long_format_gives_same_values(tmp_path, ma):
    import pandas as pd
    wide = pd.read_csv(DATA / "motor_activity_6x10.csv")
    long = wide.melt(id_vars=["Animal ID", "Session"], var_name="bin", value_name="counts")
    long["interval"] = long["bin"].str.split("-").str[0].astype(int) // 10 + 1
    long = long.rename(columns={"Animal ID": "subject", "Session": "session"})
    long["interval_min"] = 10
    study = write_study(tmp_path / "long", assays=[MA],
                        files={"motor_activity.csv": long.drop(columns="bin").to_csv(index=False)})
    t = run_one(study).endpoints
    cols = ["endpoint", "subject", "timepoint", "value"]
    key = ["endpoint", "subject", "timepoint"]
    a = t[cols].sort_values(key).reset_index(drop=True)
    b = ma.endpoints[cols].sort_values(key).reset_index(drop=True)
    pd.testing.assert_frame_equal(a, b)


def test_long_intervals_and_no_asymptote_are_deviations(tmp_path):
    text = ("subject,session,int1,int2,int3\nA1,s1,400,300,200\nA2,s1,400,300,100\n"
            "B1,s1,100,100,100\nB2,s1,100,100,100\n")
    study = write_study(tmp_path, assays=[{**MA, "parameters": {"interval_minutes": 20}}],
                        files={"motor_activity.csv": text})
    notes = run_one(study).notes
    assert any(n.startswith("DEVIATION") and "20 min exceed" in n for n in notes)
    assert any(n.startswith("DEVIATION") and "does not reach asymptote" in n for n in notes)


def test_incomplete_session_total_is_excluded(tmp_path):
    text = "subject,session,interval,counts\nA1,s1,1,10\nA1,s1,2,5\nA2,s1,1,9\n"
    t = run_one(write_study(tmp_path, assays=[MA], files={"motor_activity.csv": text})).endpoints
    row = value(t, "motor_activity_total", "A2", "s1")
    assert row["excluded"] and row["exclusion_reason"] == "session incomplete (1 of 2 intervals)"


@pytest.mark.parametrize("text", [
    "subject,session,interval,counts\nA1,s1,1,10\nA1,s1,2,5\nA1,s1,3,4\nA2,s1,1,9\n"
    "A2,s1,2,7\n",
    "subject,session,0-10 min,10-20 min,20-30 min\nA1,s1,10,5,4\nA2,s1,9,7,\n",  # wide
])
def test_incomplete_session_is_the_same_in_both_layouts(tmp_path, text):
    # the wide export of a monitor that stopped early has an empty last cell; it was
    # an error for the whole study ("expected a number >= 0, found ''")
    res = run_one(write_study(tmp_path, assays=[MA], files={"motor_activity.csv": text}))
    t = res.endpoints
    for endpoint, v in [("motor_activity_total", 16), ("motor_activity_habituation_pct",
                                                        100 * (1 - 7 / 9))]:
        row = value(t, endpoint, "A2", "s1")
        assert row["value"] == pytest.approx(v)
        assert row["excluded"]
        assert row["exclusion_reason"] == "session incomplete (2 of 3 intervals)"
    assert value(t, "motor_activity_total", "A1", "s1")["value"] == 19
    assert len(t[(t["subject"] == "A2") & (t["endpoint"] == "motor_activity_counts")]) == 2


@pytest.mark.parametrize("text, message", [
    ("subject,session,a,b\nA1,s1,1,2\n", "expected long columns 'interval', 'counts'"),
    ("subject,session,int1\nA1,s1,-3\n", r"row 2, column 'int1': expected a number >= 0"),
    ("subject,session,int1\nQ7,s1,3\n", "animal 'Q7' is not in the study's subjects file"),
])
def test_motor_activity_errors(tmp_path, text, message):
    study = write_study(tmp_path, assays=[MA], files={"motor_activity.csv": text})
    with pytest.raises(InputError, match=message):
        run_one(study)


def _with_total(total_a2: int) -> str:
    import pandas as pd
    wide = pd.read_csv(DATA / "motor_activity_6x10.csv")
    wide["Total"] = wide.iloc[:, 2:].sum(axis=1)
    wide.loc[wide["Animal ID"] == "A2", "Total"] = total_a2
    return wide.to_csv(index=False)


def test_total_column_matching_intervals_is_accepted(tmp_path):
    study = write_study(tmp_path, assays=[MA], files={"motor_activity.csv": _with_total(1415)})
    assert value(run_one(study).endpoints, "motor_activity_total", "A2", "week4")["value"] == 1415


def test_total_column_not_the_sum_names_file_and_row(tmp_path):
    study = write_study(tmp_path, assays=[MA], files={"motor_activity.csv": _with_total(1400)})
    with pytest.raises(InputError, match=r"motor_activity\.csv.*row 3, column 'total'.*"
                                         r"total '1400' of animal 'A2' session 'week4' is not "
                                         r"the sum of its intervals \(1415\)"):
        run_one(study)


def test_long_intervals_and_no_asymptote_are_guideline_deviations(tmp_path):
    from neurotox.guidelines import check_study
    from neurotox.study import load_study

    # 15-min intervals; control means of the last two intervals: 300 and 200, first 400
    rows = ["subject,session,0-15 min,15-30 min,30-45 min",
            "A1,week4,400,300,200", "A2,week4,400,300,200",
            "B1,week4,200,150,100", "B2,week4,200,150,100"]
    path = write_study(tmp_path, assays=[MA], files={"motor_activity.csv": "\n".join(rows)})
    result = run_one(path)
    notes = [f"motor_activity: {n}" for n in result.notes]
    deviations = check_study(load_study(path), result.endpoints, notes)
    assert deviations == [
        "motor_activity: motor activity motor_activity.csv: intervals of 15 min exceed the "
        "guideline maximum of 10 min",
        "motor_activity: motor activity motor_activity.csv session week4: control activity "
        "does not reach asymptote (last-interval change 25.0% of the first interval, "
        "tolerance 10%)"]
    assert check_study(load_study(path), result.endpoints) == []


# ---------------------------------------------------------------- interval headers
# The header of the first interval as labs and instruments write it; every
# spelling must give the six bins of the 6x10 fixture, A1 first bin 400, total 1218.

@pytest.mark.parametrize("first", [
    "0-10 min", "0–10 min", "0—10 min", "0 − 10 min", "0 - 10 min", "0-10 mins",
    "0-10 minutes", "0-10min", "0-10 Min", "0 to 10 min", "0 min - 10 min", "0-600 s",
    "0-600 sec", "00:00-10:00", "00:00:00-00:10:00", "(0-10 min)",
])
def test_every_interval_spelling_is_read(tmp_path, first):
    text = (DATA / "motor_activity_6x10.csv").read_text(encoding="utf-8")
    text = text.replace("0-10 min", first, 1)
    t = run_one(write_study(tmp_path, assays=[MA], files={"motor_activity.csv": text})).endpoints
    assert value(t, "motor_activity_counts", "A1", "week4_bin01")["value"] == 400
    assert value(t, "motor_activity_counts", "A1", "week4_bin02")["value"] == 300
    assert value(t, "motor_activity_total", "A1", "week4")["value"] == 1218
    assert (t["endpoint"] == "motor_activity_counts").sum() == 4 * 6


def test_clock_and_second_ranges_give_interval_length(tmp_path):
    rows = ["subject,session,00:00-05:00,05:00-10:00,10:00-15:00",
            "A1,s1,50,40,30", "A2,s1,60,50,40", "B1,s1,30,20,10", "B2,s1,30,20,20"]
    res = run_one(write_study(tmp_path, assays=[MA], files={"motor_activity.csv":
                                                            "\n".join(rows)}))
    assert any("intervals of 5 min (<= 10 min)" in n for n in res.notes)
    assert value(res.endpoints, "motor_activity_counts", "B2", "s1_bin03")["value"] == 20


@pytest.mark.parametrize("first, where, message", [
    # a column that is not an interval is never dropped (it used to be: total 818)
    ("nots", "row 1, column 'nots'",
     r"unknown motor activity column 'nots' \(did you mean 'notes'\?\); expected 'session', "
     r"'subject', 'total'"),
    ("0-10", "row 1, column '0-10'", "the range has no unit: write '0-10 min'"),
    ("0-10 sec", "row 1, column '10-20 min'",
     r"column '10-20 min' leaves a gap after the interval '0-10 sec'"),
    ("5-15 min", "row 1, column '10-20 min'",
     r"column '10-20 min' overlaps the interval '5-15 min'"),
    ("Bin 1", "row 1, column 'Bin 1'", "mixes interval ranges"),
    ("10-0 min", "row 1, column '10-0 min'", "the range ends before it starts"),
    ("00:00-10:70", "row 1, column '00:00-10:70'", "is not a clock time"),
])
def test_unreadable_interval_headers_are_errors(tmp_path, first, where, message):
    text = (DATA / "motor_activity_6x10.csv").read_text(encoding="utf-8")
    study = write_study(tmp_path, assays=[MA],
                        files={"motor_activity.csv": text.replace("0-10 min", first, 1)})
    with pytest.raises(InputError, match=message) as err:
        run_one(study)
    assert err.value.path.endswith("motor_activity.csv")
    assert err.value.where == where


@pytest.mark.parametrize("header, message", [
    ("subject,session,int1,int3", "column 'int3' skips from interval number 1 of column "
                                  "'int1' to 3"),
    ("subject,session,int1,bin_1", "column 'bin_1' repeats interval number 1 of column 'int1'"),
])
def test_numbered_intervals_must_follow_each_other(tmp_path, header, message):
    study = write_study(tmp_path, assays=[MA],
                        files={"motor_activity.csv": header + "\nA1,s1,5,6\n"})
    with pytest.raises(InputError, match=message):
        run_one(study)


def test_note_and_ignored_columns_are_allowed(tmp_path):
    rows = ["subject,session,chamber,notes,int1,int2", "A1,s1,C4,lively,5,6",
            "A2,s1,C5,,7,8"]
    files = {"motor_activity.csv": "\n".join(rows)}
    with pytest.raises(InputError, match="unknown motor activity column 'chamber'"):
        run_one(write_study(tmp_path / "a", assays=[MA], files=files))
    spec = {**MA, "parameters": {"ignore_columns": ["chamber"]}}
    t = run_one(write_study(tmp_path / "b", assays=[spec], files=files)).endpoints
    assert value(t, "motor_activity_total", "A2", "s1")["value"] == 15


def test_long_layout_refuses_unknown_columns(tmp_path):
    text = "subject,session,interval,counts,interval_mins\nA1,s1,1,10,10\n"
    with pytest.raises(InputError, match=r"row 1, column 'interval_mins': unknown motor "
                                         r"activity column 'interval_mins' \(did you mean "
                                         r"'interval_min'\?\)"):
        run_one(write_study(tmp_path, assays=[MA], files={"motor_activity.csv": text}))


def test_unequal_intervals_and_late_start_are_warnings(tmp_path):
    rows = ["subject,session,10-20 min,20-30 min,30-40 min,40-60 min",
            "A1,s1,300,200,100,95", "A2,s1,300,200,100,95",
            "B1,s1,300,200,100,95", "B2,s1,300,200,100,95"]
    res = run_one(write_study(tmp_path, assays=[MA],
                              files={"motor_activity.csv": "\n".join(rows)}))
    warnings = [n for n in res.notes if n.startswith("warning: ")]
    assert warnings == [
        "warning: motor activity motor_activity.csv: the first interval starts at 10 min, "
        "not 0 (is the first interval's column missing?)",
        "warning: motor activity motor_activity.csv: intervals of unequal length (10, 20 min); "
        "the counts of the intervals are compared as they are, not per minute"]
    assert value(res.endpoints, "motor_activity_counts", "A1", "s1_bin04")["value"] == 95
