"""Historical control row and marks in a summary table, on hand-made numbers."""

from __future__ import annotations

import pandas as pd

from neurotox.report.historical import (
    CONTROL_MARK,
    MARK,
    ROW_LABEL,
    HistoricalRanges,
    add_to_table,
)
from neurotox.report.model import Cell, Row, Table
from neurotox.study import Group

GROUPS = {"G1 Control": Group(id="G1", label="Control", dose=0, dose_unit="mg/kg", control=True),
          "G2 Low": Group(id="G2", label="Low", dose=10, dose_unit="mg/kg"),
          "G3 High": Group(id="G3", label="High", dose=100, dose_unit="mg/kg")}
# historical study means 398.75-408.15 g (terminal body weight of two SEND studies, males)
RANGES = pd.DataFrame([{"endpoint": "terminal_body_weight", "sex": "M", "timepoint": "NA",
                        "n_studies": 2, "n_animals": 43, "mean": 401.8, "sd": 40.5,
                        "p5": 337.9, "p95": 477.4, "study_mean_min": 398.75,
                        "study_mean_max": 408.15}])


def table(means: list[float]) -> Table:
    rows = [Row((label, "x"), (Cell(f"{m:.1f} ± 20.0 (10)", {"mean": m, "sd": 20.0, "n": 10}),))
            for label, m in zip(GROUPS, means, strict=True)]
    return Table(number=1, title="t", kind="summary", key="k", header={},
                 row_header=("Group", "Dose"), columns=("Terminal body weight (g)",), rows=rows,
                 sources=(("terminal_body_weight", "NA"),))


def marks(t: Table) -> dict[str, str]:
    return {r.labels[0]: r.cells[0].text for r in t.rows}


def test_a_concurrent_control_outside_the_range_is_marked_too():
    """Control 341.6 g below 398.75-408.15: ‡ on it, † on the treated groups outside."""
    t = table([341.6, 342.2, 400.0])
    two = HistoricalRanges(RANGES, "db", min_studies=2)
    assert add_to_table(t, list(t.sources), "M", GROUPS, two)
    got = marks(t)
    assert got["G1 Control"].endswith(CONTROL_MARK) and MARK not in got["G1 Control"]
    assert got["G2 Low"].endswith(MARK) and CONTROL_MARK not in got["G2 Low"]
    assert not got["G3 High"].endswith((MARK, CONTROL_MARK))          # 400.0 is inside
    assert got[ROW_LABEL] == "398.8–408.2 [337.9–477.4] (2/43)"   # control decimals, 408.15 half up
    assert [r.labels[0] for r in t.rows] == ["G1 Control", ROW_LABEL, "G2 Low", "G3 High"]
    assert f"{CONTROL_MARK} concurrent control mean outside that range" in t.footnotes[-1]


def test_a_control_inside_the_range_carries_no_mark():
    t = table([402.0, 380.0, 420.0])
    add_to_table(t, list(t.sources), "M", GROUPS, HistoricalRanges(RANGES, "db", min_studies=2))
    got = marks(t)
    assert got["G1 Control"] == "402.0 ± 20.0 (10)"
    assert got["G2 Low"].endswith(MARK) and got["G3 High"].endswith(MARK)


def test_a_range_of_fewer_studies_than_the_minimum_is_shown_but_marks_nothing():
    """The same two-study range under the default minimum of 3 studies: no † and no ‡."""
    t = table([341.6, 342.2, 400.0])
    assert add_to_table(t, list(t.sources), "M", GROUPS, HistoricalRanges(RANGES, "db"))
    got = marks(t)
    assert got["G1 Control"] == "341.6 ± 20.0 (10)" and got["G2 Low"] == "342.2 ± 20.0 (10)"
    assert got[ROW_LABEL] == "398.8–408.2 [337.9–477.4] (2/43)"
    assert "A range of fewer than 3 studies is shown but marks no group (†/‡)." in t.footnotes[-1]
    assert not any(c.numbers.get("outside_historical") for r in t.rows for c in r.cells)


def test_a_one_study_range_of_width_zero_marks_no_group():
    """One historical study: 'range' 0.561-0.561; a group at 100 % of control is not outside."""
    one = pd.DataFrame([{"endpoint": "terminal_body_weight", "sex": "M", "timepoint": "NA",
                         "n_studies": 1, "n_animals": 9, "mean": 0.561, "sd": 0.06,
                         "p5": 0.479, "p95": 0.680, "study_mean_min": 0.561,
                         "study_mean_max": 0.561}])
    rows = [Row((label, "x"), (Cell(f"{m:.3f} ± 0.030 (10)", {"mean": m, "sd": 0.03, "n": 10}),))
            for label, m in zip(GROUPS, [0.590, 0.590, 0.569], strict=True)]
    t = Table(number=1, title="t", kind="summary", key="k", header={},
              row_header=("Group", "Dose"), columns=("Brain weight relative (%)",), rows=rows,
              sources=(("terminal_body_weight", "NA"),))
    add_to_table(t, list(t.sources), "M", GROUPS, HistoricalRanges(one, "db"))
    got = marks(t)
    assert got[ROW_LABEL] == "0.561–0.561 [0.479–0.680] (1/9)"
    assert [got[g] for g in GROUPS] == ["0.590 ± 0.030 (10)", "0.590 ± 0.030 (10)",
                                        "0.569 ± 0.030 (10)"]


def test_incidence_outside_a_range_needs_the_minimum_number_of_studies():
    rng = pd.Series({"n_studies": 2, "study_incidence_min": 0.0, "study_incidence_max": 20.0})
    two, three = (HistoricalRanges(pd.DataFrame(), "db", min_studies=k) for k in (2, 3))
    assert two.outside(rng, 50.0)
    assert not three.outside(rng, 50.0)
    assert not two.outside(rng, 10.0)
    assert not two.outside(rng, float("nan"))


def test_a_range_stored_under_another_spelling_of_the_timepoint_is_found():
    # fixC left it: ranges matched the report's timepoint by exact label, so a database's
    # 'Day 07' never met the study's 'day7' (nor 'day7' the study's 'Day 7')
    ranges = RANGES.assign(timepoint="Day 07")
    hist = HistoricalRanges(ranges, "db", min_studies=2)
    assert hist.lookup("terminal_body_weight", "M", "day7")["study_mean_min"] == 398.75
    assert hist.lookup("terminal_body_weight", "M", "day70") is None
