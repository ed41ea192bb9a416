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
