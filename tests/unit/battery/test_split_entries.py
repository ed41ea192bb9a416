"""An assay split into entries (one file per session) is named one way in the exclusions."""

from tests.unit.battery.conftest import DATA, write_study

from neurotox.pipeline import collect_endpoints, exclusion_lines, missing_lines
from neurotox.study import load_study

MOTOR = {"assay": "motor_activity", "protocol": "motor-activity-standard"}


def test_no_value_lines_name_the_assay_as_the_value_lines_do(tmp_path):
    week4 = (DATA / "motor_activity_6x10.csv").read_text(encoding="utf-8")
    pre = week4.replace("week4", "pretest")
    without_b2 = "\n".join(line for line in week4.splitlines() if not line.startswith("B2,"))
    path = write_study(tmp_path, assays=[{**MOTOR, "input": "pre.csv", "id": "motor_pre"},
                                         {**MOTOR, "input": "wk4.csv", "id": "motor_wk4"}],
                       files={"pre.csv": pre, "wk4.csv": without_b2 + "\n"})
    collected = collect_endpoints(load_study(path))
    assert collected.missing == [{"assay": "motor_activity", "entry": "motor_wk4",
                                  "subject": "B2", "group": "G2", "sex": "F",
                                  "reason": "no data in wk4.csv"}]
    assert missing_lines(collected.missing) == [
        "motor_activity (entry motor_wk4), subject B2 (group G2, sex F): no value — no data "
        "in wk4.csv"]
    t = collected.table.copy()
    a1 = t["subject"] == "A1"
    t.loc[a1, ["excluded", "exclusion_reason"]] = [True, "manual exclusion: found dead"]
    assert exclusion_lines(t) == [
        f"motor_activity, subject A1 (group G1, sex M): {int(a1.sum())} value(s) of "
        "motor_activity_counts, motor_activity_habituation_pct, motor_activity_total "
        "excluded — manual exclusion: found dead"]
    assert int(a1.sum()) == 16  # 6 intervals, total, habituation at each of 2 sessions
