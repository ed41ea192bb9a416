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


def test_count_means_and_their_range_print_with_the_decimals_a_mean_needs():
    """Rearing counts (registry: 0 decimals per animal): group means 0.6, 1.8, 2.2 and study
    means 0.6-1.1 print as 0.60, 1.80, 2.20 and 0.60-1.10, not "1", "2", "1-1"."""
    from neurotox.report.tables import summary_cell, summary_decimals

    means = {"G1 Control": (0.6, 0.5477), "G2 Low": (1.8, 0.8367), "G3 High": (2.2, 0.4472)}
    dec = summary_decimals("fob_rearing", [m for m, _ in means.values()])
    assert dec == 2
    assert summary_decimals("fob_rearing", [12.5, 30.0]) == 1       # the same rule as weights
    assert summary_decimals("grip_strength_forelimb", [0.6]) == \
        summary_decimals("grip_strength_forelimb", [900.0])         # registry decimals kept
    rows = [Row((g, "x"), (summary_cell(pd.Series(
        {"mean": m, "sd": sd, "n": 5, "percent_of_control": 100.0, "p_value": float("nan"),
         "flag": "", "direction": "", "is_control": g == "G1 Control"}), dec, False),))
        for g, (m, sd) in means.items()]
    t = Table(number=1, title="t", kind="summary", key="k", header={},
              row_header=("Group", "Dose"), columns=("Rearing (count)",), rows=rows,
              sources=(("fob_rearing", "NA"),))
    rng = pd.DataFrame([{"endpoint": "fob_rearing", "sex": "M", "timepoint": "NA",
                         "n_studies": 3, "n_animals": 30, "mean": 0.85, "sd": 0.7,
                         "p5": 0.0, "p95": 2.0, "study_mean_min": 0.6,
                         "study_mean_max": 1.1}])
    assert add_to_table(t, list(t.sources), "M", GROUPS, HistoricalRanges(rng, "db"))
    assert marks(t) == {"G1 Control": "0.60 ± 0.55 (5)",
                        ROW_LABEL: "0.60–1.10 [0.00–2.00] (3/30)",
                        "G2 Low": f"1.80 ± 0.84 (5) {MARK}",
                        "G3 High": f"2.20 ± 0.45 (5) {MARK}"}


def _range(lo: float, hi: float, p5: float, p95: float) -> pd.DataFrame:
    return pd.DataFrame([{"endpoint": "body_temperature", "sex": "M", "timepoint": "week4",
                          "n_studies": 5, "n_animals": 50, "mean": (lo + hi) / 2, "sd": 0.4,
                          "p5": p5, "p95": p95, "study_mean_min": lo, "study_mean_max": hi}])


def _temps(means: list[float]) -> Table:
    rows = [Row((label, "x"), (Cell(f"{m:.1f} ± 0.3 (10)", {"mean": m, "sd": 0.3, "n": 10},
                                    decimals=1),))
            for label, m in zip(GROUPS, means, strict=True)]
    return Table(number=1, title="t", kind="summary", key="k", header={},
                 row_header=("Group", "Dose"), columns=("Body temperature (°C)",), rows=rows,
                 sources=(("body_temperature", "week4"),))


def test_a_marked_mean_printed_equal_to_a_range_limit_gets_the_decimals_that_show_it():
    """Study means 37.52-37.61 °C print "37.5-37.6"; G2 37.64 (outside, †) would print
    "37.6" too. G2 and the range get one more decimal; G1 and G3 keep theirs."""
    t = _temps([37.55, 37.64, 37.2])
    add_to_table(t, list(t.sources), "M", GROUPS,
                 HistoricalRanges(_range(37.52, 37.61, 36.91, 38.24), "db"))
    got = marks(t)
    assert got[ROW_LABEL] == "37.52–37.61 [36.91–38.24] (5/50)"
    assert got["G2 Low"] == f"37.64 ± 0.30 (10) {MARK}"
    assert t.rows[2].cells[0].decimals == 2
    assert got["G1 Control"] == "37.5 ± 0.3 (10)"         # 37.55 half up: not a limit's text
    assert got["G3 High"] == f"37.2 ± 0.3 (10) {MARK}"


def test_an_unmarked_mean_printed_equal_to_a_range_limit_shows_it_is_inside():
    """Range 37.52-37.74 ("37.5-37.7"), G2 37.66 inside prints "37.7": shown as 37.66
    beside 37.52-37.74. A lower limit hidden the same way (G3 81.38 vs 81.43) too."""
    t = _temps([37.6, 37.66, 37.6])
    add_to_table(t, list(t.sources), "M", GROUPS,
                 HistoricalRanges(_range(37.52, 37.74, 36.9, 38.3), "db"))
    got = marks(t)
    assert got[ROW_LABEL] == "37.52–37.74 [36.90–38.30] (5/50)"
    assert got["G2 Low"] == "37.66 ± 0.30 (10)"
    assert got["G1 Control"] == got["G3 High"] == "37.6 ± 0.3 (10)"
    t = _temps([82.0, 82.5, 81.38])
    add_to_table(t, list(t.sources), "M", GROUPS,
                 HistoricalRanges(_range(81.43, 83.4, 80.1, 84.9), "db"))
    assert marks(t)["G3 High"] == f"81.38 ± 0.30 (10) {MARK}"
    assert marks(t)[ROW_LABEL] == "81.43–83.40 [80.10–84.90] (5/50)"


def test_at_most_two_decimals_are_added_and_equal_values_or_unmarking_ranges_add_none():
    """37.6004 vs 37.6 needs 4 more decimals: 2 are added and the † alone tells. A mean
    equal to a limit, and a 2-study range under the default minimum of 3, change nothing."""
    t = _temps([37.5, 37.6004, 37.6])
    add_to_table(t, list(t.sources), "M", GROUPS,
                 HistoricalRanges(_range(37.5, 37.6, 37.0, 38.0), "db"))
    got = marks(t)
    assert got[ROW_LABEL] == "37.500–37.600 [37.000–38.000] (5/50)"
    assert got["G2 Low"] == f"37.600 ± 0.300 (10) {MARK}"
    assert got["G3 High"] == "37.6 ± 0.3 (10)"                 # equal to the limit: inside
    t = _temps([37.55, 37.64, 37.2])
    add_to_table(t, list(t.sources), "M", GROUPS,
                 HistoricalRanges(_range(37.52, 37.61, 36.9, 38.2).assign(n_studies=2), "db"))
    assert marks(t)[ROW_LABEL] == "37.5–37.6 [36.9–38.2] (2/50)"
    assert marks(t)["G2 Low"] == "37.6 ± 0.3 (10)"


def test_a_range_of_partly_censored_results_says_how_many_were_censored():
    """SEND GGT: 4 of 5 control females 'LO' (stored censored), 1 quantified at 0.4 U/L.

    The range rests on the one quantified animal (stranger44 #8: "0.4–0.4 (1/5)" read as
    five animals); the row now says 4 were censored and the footnote what that means.
    """
    from neurotox.hcd.ranges import ranges

    rows = pd.DataFrame({"endpoint": "terminal_body_weight", "sex": "F", "timepoint": "NA",
                         "unit": "U/L", "data_type": "continuous", "study_pk": 1,
                         "value": [0.4, 0.3, 0.3, 0.3, 0.3],
                         "censoring": ["", "left", "left", "left", "left"]})
    rng = ranges(rows)
    assert rng[["n_animals", "n_censored", "mean", "study_mean_min"]].iloc[0].tolist() == \
        [5, 4, 0.4, 0.4]
    t = table([0.45, 0.5, 0.6])
    add_to_table(t, list(t.sources), "F", GROUPS, HistoricalRanges(rng, "db"))
    assert marks(t)[ROW_LABEL] == "0.4–0.4 [0.4–0.4] (1/5; 4 censored)"
    assert ('"(1/5; 4 censored)": 4 of the 5 animals had results below or above a limit; '
            "they are counted but not in the range or percentiles") in t.footnotes[-1]
    t = table([341.6, 342.2, 400.0])      # no censored animal: no such footnote
    add_to_table(t, list(t.sources), "M", GROUPS, HistoricalRanges(RANGES, "db"))
    assert "censored" not in t.footnotes[-1]
