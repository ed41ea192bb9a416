"""Historical control row and marks in a summary table, on hand-made numbers."""

from __future__ import annotations

import pandas as pd

from neurotox.report.historical import CONTROL_MARK, MARK, ROW_LABEL, HistoricalRanges, add_to_table
from neurotox.report.model import Cell, Row, Table
from neurotox.study import Group

GROUPS = {"G1 Control": Group(id="G1", label="Control", dose=0, dose_unit="mg/kg", control=True),
          "G2 Low": Group(id="G2", label="Low", dose=10, dose_unit="mg/kg"),
          "G3 High": Group(id="G3", label="High", dose=100, dose_unit="mg/kg")}
# historical study means 398.8-408.1 g (terminal body weight of two SEND studies, males)
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
    assert add_to_table(t, list(t.sources), "M", GROUPS, HistoricalRanges(RANGES, "db"))
    got = marks(t)
    assert got["G1 Control"].endswith(CONTROL_MARK) and MARK not in got["G1 Control"]
    assert got["G2 Low"].endswith(MARK) and CONTROL_MARK not in got["G2 Low"]
    assert not got["G3 High"].endswith((MARK, CONTROL_MARK))          # 400.0 is inside
    assert got[ROW_LABEL] == "398.8–408.2 [337.9–477.4] (2/43)"   # control decimals, 408.15 half up
    assert [r.labels[0] for r in t.rows] == ["G1 Control", ROW_LABEL, "G2 Low", "G3 High"]
    assert f"{CONTROL_MARK} concurrent control mean outside that range" in t.footnotes[-1]


def test_a_control_inside_the_range_carries_no_mark():
    t = table([402.0, 380.0, 420.0])
    add_to_table(t, list(t.sources), "M", GROUPS, HistoricalRanges(RANGES, "db"))
    got = marks(t)
    assert got["G1 Control"] == "402.0 ± 20.0 (10)"
    assert got["G2 Low"].endswith(MARK) and got["G3 High"].endswith(MARK)
