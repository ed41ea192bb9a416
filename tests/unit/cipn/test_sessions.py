"""One session however a sheet spells it: zero padding, unit words, reused columns.

Modelled on the simulated CIPN sensory table (``subject, day, test, trial,
value``; hargreaves latencies, protocol cipn-paclitaxel-rat, ``timepoint_prefix:
day``) and the wide von Frey lab sheet (one column per session).
"""

from __future__ import annotations

import io
import re

import pandas as pd
import pytest

from neurotox.errors import FormatError, InputError, ValidationError
from neurotox.stats import analyse
from neurotox.study import load_study

from .conftest import run, write

#: Hargreaves latencies (s): treated animals withdraw sooner at day 7.
LATENCY = {"C1": (10.0, 10.5, 11.0), "C2": (9.0, 9.5, 9.0), "C3": (11.0, 11.5, 10.0),
           "T1": (10.0, 5.0, 6.0), "T2": (9.5, 4.5, 5.5), "T3": (10.5, 5.5, 6.5)}
DAYS = ("day-1", "day7", "day21")


def _long(spell_control_day7: str = "day7") -> str:
    lines = ["subject,day,test,trial,value"]
    for s, values in LATENCY.items():
        for day, v in zip(DAYS, values, strict=True):
            label = spell_control_day7 if day == "day7" and s.startswith("C") else day
            lines.append(f"{s},{label},hargreaves,1,{v}")
    return "\n".join(lines) + "\n"


def _day7_p(folder, res) -> float:
    """The day-7 treated-vs-control p value of the hargreaves latency."""
    study = load_study(write(folder, {}))
    found = analyse(res.endpoints, study.spec.statistics, study.spec.groups).results
    row = found[(found["endpoint"] == "hargreaves_latency") & (found["timepoint"] == "day7")
                & (found["group"] == "T")]
    assert len(row) == 1
    return float(row["p_value"].iloc[0])


def test_consistent_spelling_has_a_day7_finding(folder):
    p = _day7_p(folder, run(folder, {"s.csv": _long()}))
    assert p < 0.01


@pytest.mark.parametrize("spelling", ["day07", "D07", "Day 07", "D7", "Day 7", "007"])
def test_zero_padded_day_is_the_same_session_and_keeps_the_finding(folder, spelling):
    same = run(folder, {"s.csv": _long()})
    res = run(folder, {"s.csv": _long(spelling)})
    assert set(res.endpoints["timepoint"]) == set(DAYS)
    cols = ["subject", "endpoint", "timepoint", "value"]
    pd.testing.assert_frame_equal(
        res.endpoints[cols].sort_values(cols[:3]).reset_index(drop=True),
        same.endpoints[cols].sort_values(cols[:3]).reset_index(drop=True))
    assert _day7_p(folder, res) == pytest.approx(_day7_p(folder, same), rel=1e-12)
    assert f"s.csv: sessions {spelling!r} as 'day7' (timepoint_prefix 'day')" in res.notes


def _xlsx(df: pd.DataFrame) -> bytes:
    buf = io.BytesIO()
    df.to_excel(buf, index=False)
    return buf.getvalue()


def _wide(columns: list[str]) -> pd.DataFrame:
    data = {"Animal": list(LATENCY), "Test": ["hargreaves"] * len(LATENCY)}
    for k, col in enumerate(columns):
        data[col] = [LATENCY[s][k % 3] for s in LATENCY]
    return pd.DataFrame(data)


def test_zero_padded_wide_columns_are_respelt(folder):
    res = run(folder, {"w.xlsx": _xlsx(_wide(["D-1", "Day 07", "day021"]))})
    assert set(res.endpoints["timepoint"]) == set(DAYS)
    assert "w.xlsx: sessions 'D-1' as 'day-1', 'day021' as 'day21', 'Day 07' as 'day7' " \
           "(timepoint_prefix 'day')" in res.notes
    assert _day7_p(folder, res) == pytest.approx(
        _day7_p(folder, run(folder, {"s.csv": _long()})), rel=1e-12)


@pytest.mark.parametrize(("first", "second"), [("Day 7", "day7"), ("day7", "D07"),
                                               ("day07", "day7")])
def test_one_session_in_two_wide_columns_names_both_headers(folder, first, second):
    with pytest.raises(InputError) as err:
        run(folder, {"w.xlsx": _xlsx(_wide(["day-1", first, second]))})
    assert err.value.where == f"row 1, columns {first!r} and {second!r}"
    assert str(err.value).endswith(f"columns {first!r} and {second!r} are one session "
                                   "('day7') written two ways: keep one column per session")


def test_one_session_in_two_wide_columns_without_a_prefix(folder):
    with pytest.raises(InputError, match=re.escape(
            "columns 'Day 7' and 'day07' are one session ('day07') written two ways")):
        run(folder, {"w.xlsx": _xlsx(_wide(["day-1", "Day 7", "day07"]))},
            timepoint_prefix="")


def test_repeated_wide_header_is_named_as_written(folder):
    sheet = _wide(["day-1", "day7", "day21"])
    sheet.columns = ["Animal", "Test", "day-1", "day7", "day7"]
    with pytest.raises(FormatError, match=re.escape(
            "column 'day7' appears twice in the header (columns 4 and 5)")):
        run(folder, {"w.xlsx": _xlsx(sheet)})


def test_padded_labels_of_one_endpoint_table_are_refused(folder):
    """No prefix: the reader keeps the labels, the EndpointTable refuses the pair."""
    with pytest.raises(ValidationError, match=re.escape(
            "timepoint 'day7' and 'day07' (from s.csv row 3) of assay 'cipn' differ only in "
            "letter case, spaces, punctuation or leading zeros")):
        run(folder, {"s.csv": _long("day07")}, timepoint_prefix="")


def test_one_animal_at_one_session_written_two_ways_names_both_rows(folder):
    text = _long().replace("C1,day-1,", "C1,day7,").replace("C1,day7,hargreaves,1,10.5",
                                                            "C1,Day 07,hargreaves,1,10.5")
    with pytest.raises(InputError) as err:
        run(folder, {"s.csv": text})
    assert err.value.where == "row 3, column 'day'"
    assert str(err.value).endswith(
        "hargreaves measurement of animal 'C1' at session 'day7', trial 1 appears twice: rows 2 "
        "and 3 (written 'day7' and 'Day 07')")


def test_an_animal_row_written_twice_in_a_wide_sheet_names_its_column(folder):
    sheet = _wide(["day-1", "day7", "day21"])
    sheet = pd.concat([sheet, sheet.iloc[[1]]], ignore_index=True)
    with pytest.raises(InputError) as err:
        run(folder, {"w.xlsx": _xlsx(sheet)})
    assert err.value.where == "row 8, column 'Animal'"
    assert str(err.value).endswith(
        "hargreaves measurement of animal 'C2' at session 'day-1' appears twice: rows 3 and 8")
