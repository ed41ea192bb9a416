"""The protocol's baseline session, however a sheet spells it; a missing one is said.

cipn-paclitaxel-rat names its baseline ``day-1`` (covariate), hot-plate names it
``baseline`` (%MPE). Sheets write ``D-1``, ``Day -1``, ``BL``, ``Pre-dose``.
"""

from __future__ import annotations

import pytest

from neurotox.errors import InputError
from neurotox.timepoints import BASELINE_NAMES, is_pre_dose, session_key

from .conftest import run, value

#: Hargreaves latencies (s), wide sheet: baseline then day 7 (cut-off 20 s).
WIDE = "subject,test,{base},D7\nC1,hargreaves,10.0,16.0\nC2,hargreaves,8.0,5.0\n" \
       "T1,hargreaves,12.0,6.0\n"


@pytest.mark.parametrize("spelling", ["D-1", "Day -1", "day_-1", "-1", "day-1"])
def test_rat_baseline_written_other_ways_is_the_covariate(folder, spelling):
    res = run(folder, {"w.csv": WIDE.format(base=spelling)})
    t = res.endpoints
    assert set(t["timepoint"]) == {"day-1", "day7"}
    # MPE = 100 (16 - 10) / (20 - 10); the covariate twin carries the day-1 latency
    assert value(t, "hargreaves_mpe", "C1", "day7")["value"] == pytest.approx(60.0)
    twin = value(t, "hargreaves_latency_baseline", "T1", "day7")
    assert twin["value"] == 12.0 and not twin["excluded"]
    assert any("ANCOVA on the animal's baseline value" in c for c in res.conventions)
    assert not any(n.startswith("warning:") for n in res.notes)


@pytest.mark.parametrize("spelling", ["BL", "Baseline", "pre-dose", "Pretest", "PRE"])
def test_hot_plate_baseline_spelt_another_way_gives_mpe(folder, spelling):
    text = WIDE.format(base=spelling).replace("hargreaves", "hot_plate")
    res = run(folder, {"w.csv": text}, "hot-plate")
    # 100 (5 - 8) / (30 - 8)
    assert value(res.endpoints, "hot_plate_mpe", "C2", "d7")["value"] == pytest.approx(
        -300 / 22)
    assert set(res.endpoints["timepoint"]) == {"baseline", "d7"}
    if spelling != "Baseline":
        assert any(f"session '{spelling.lower()}' is the protocol's baseline session "
                   "'baseline' written another way" in n for n in res.notes)


def test_missing_baseline_is_a_warning_and_no_ancova_is_claimed(folder):
    res = run(folder, {"w.csv": WIDE.format(base="D0")})
    warn = [n for n in res.notes if n.startswith("warning:")]
    assert warn == ["warning: w.csv: the protocol's baseline session 'day-1' is none of the "
                    "hargreaves sessions (day0, day7): no %MPE; no baseline covariate (no "
                    "ANCOVA on baseline); name the sheet's baseline session in the protocol "
                    "parameter 'baseline'"]
    assert not any("ANCOVA on the animal's" in c or "%MPE" in c for c in res.conventions)
    assert "No baseline covariate: the baseline session 'day-1' is in none of the sheets " \
           "read (baseline_covariate, baseline)." in res.conventions
    assert not res.endpoints["endpoint"].str.endswith("_baseline").any()
    # named by the parameter, it is found
    t = run(folder, {"w.csv": WIDE.format(base="D0")}, baseline="day0").endpoints
    assert value(t, "hargreaves_latency_baseline", "C1", "day7")["value"] == 10.0


def test_two_baseline_spellings_in_one_sheet_are_an_error(folder):
    text = "subject,test,BL,pre,D7\nC1,hot_plate,10,11,12\n"
    with pytest.raises(InputError, match=r"sessions 'bl', 'pre' are each the protocol's "
                                         "baseline session 'baseline' written another way"
                       ) as err:
        run(folder, {"w.csv": text}, "hot-plate")
    assert err.value.where == "row 1 (session columns)"


def test_one_list_of_baseline_spellings():
    assert BASELINE_NAMES == ("baseline", "bl", "pre", "pretest", "predose", "pretreatment",
                              "preexposure")
    assert {session_key(s) for s in ("BL", "Pre-Dose", "pre_test", "Baseline")} == {"baseline"}
    assert session_key("D-1") == session_key("Day -1") == "day-1" != session_key("baseline")
    assert session_key("day1") != session_key("day-1")
    assert is_pre_dose("BL") and is_pre_dose("Acclimation")
    assert not is_pre_dose("day-1")  # before dosing by its number, not by its name
