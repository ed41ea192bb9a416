"""The protocol's baseline session, however a sheet spells it; a missing one is said.

cipn-paclitaxel-rat names its baseline ``day-1`` (covariate), hot-plate names it
``baseline`` (%MPE). Sheets write ``D-1``, ``Day -1``, ``BL``, ``Pre-dose``.
"""

from __future__ import annotations

import re

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


@pytest.mark.parametrize("spelling", ["BL", "Pre", "Baseline", "pre-dose", "Pre-treatment"])
def test_rat_baseline_named_by_a_baseline_spelling_is_day_minus_1(folder, spelling):
    """docs/assays.md "The baseline session": ``BL`` is the protocol's ``day-1``."""
    res = run(folder, {"w.csv": WIDE.format(base=spelling)})
    t = res.endpoints
    assert set(t["timepoint"]) == {"day-1", "day7"}
    assert value(t, "hargreaves_mpe", "C1", "day7")["value"] == pytest.approx(60.0)
    assert value(t, "hargreaves_latency_baseline", "T1", "day7")["value"] == 12.0
    assert f"w.csv: session '{spelling}' is the protocol's baseline session 'day-1' written " \
           "another way, labelled 'day-1'" in res.notes
    assert not any(n.startswith("warning:") for n in res.notes)
    long = "subject,day,test,value\n" + "".join(
        f"{s},{spelling if d == -1 else d},hargreaves,{v}\n"
        for s, d, v in [("C1", -1, 10.0), ("C1", 7, 16.0), ("C2", -1, 8.0), ("C2", 7, 5.0),
                        ("T1", -1, 12.0), ("T1", 7, 6.0)])
    res = run(folder, {"l.csv": long})
    assert value(res.endpoints, "hargreaves_mpe", "C1", "day7")["value"] == pytest.approx(60.0)
    assert f"l.csv: session '{spelling}' (row 2) is the protocol's baseline session 'day-1' " \
           "written another way, labelled 'day-1'" in res.notes


@pytest.mark.parametrize("spelling", ["BL", "Baseline", "pre-dose", "Pretest", "PRE"])
def test_hot_plate_baseline_spelt_another_way_gives_mpe(folder, spelling):
    text = WIDE.format(base=spelling).replace("hargreaves", "hot_plate")
    res = run(folder, {"w.csv": text}, "hot-plate")
    # 100 (5 - 8) / (30 - 8)
    assert value(res.endpoints, "hot_plate_mpe", "C2", "d7")["value"] == pytest.approx(
        -300 / 22)
    assert set(res.endpoints["timepoint"]) == {"baseline", "d7"}
    if spelling != "Baseline":
        assert f"w.csv: session '{spelling}' is the protocol's baseline session 'baseline' " \
               "written another way, labelled 'baseline'" in res.notes


def test_missing_baseline_is_a_warning_and_no_ancova_is_claimed(folder):
    res = run(folder, {"w.csv": WIDE.format(base="D0")})
    warn = [n for n in res.notes if n.startswith("warning:")]
    assert warn == ["warning: w.csv: the protocol's baseline session 'day-1' is none of the "
                    "hargreaves sessions (day0, day7): no %MPE; no baseline covariate (no "
                    "ANCOVA on baseline); name the sheet's baseline session in the protocol "
                    "parameter 'baseline', or give the file that holds it in the same run"]
    assert not any("ANCOVA on the animal's" in c or "%MPE" in c for c in res.conventions)
    assert "No baseline covariate: the baseline session 'day-1' is in none of the sheets " \
           "read (baseline_covariate, baseline)." in res.conventions
    assert not res.endpoints["endpoint"].str.endswith("_baseline").any()
    # named by the parameter, it is found
    t = run(folder, {"w.csv": WIDE.format(base="D0")}, baseline="day0").endpoints
    assert value(t, "hargreaves_latency_baseline", "C1", "day7")["value"] == 10.0


#: Up-down series (rat set) of six animals; the last filament is 5, 6 or 7.
SERIES = {"C1": "oxooox", "C2": "oxooxx", "C3": "ooxxoo", "T1": "xoxxo", "T2": "xxoxo",
          "T3": "xoxo"}
LONG_VF = "subject,day,test,series,filament\n"


def _vf_rows(days, animals=tuple(SERIES)):
    return "".join(f"{s},{d},von_frey_updown,{SERIES[s]},{5 + i % 3}\n" for d in days
                   for i, s in enumerate(animals))


def _values(table):
    return table.set_index(["endpoint", "subject", "timepoint"])["value"].sort_index()


def test_baseline_in_another_file_of_the_run_is_the_animals_baseline(folder):
    """stranger39 B3: day-1/day7 in one file, day14/day21 in the next (same animals)."""
    one = run(folder, {"all.csv": LONG_VF + _vf_rows([-1, 7, 14, 21])})
    two = run(folder, {"a.csv": LONG_VF + _vf_rows([-1, 7]),
                       "b.csv": LONG_VF + _vf_rows([14, 21])})
    assert len(one.endpoints) == len(two.endpoints) == 42    # 24 thresholds + 18 covariates
    assert _values(two.endpoints).equals(_values(one.endpoints))
    # C1: OXOOOX (Dixon's k -1.25, the ML estimate within 1e-3) ending on filament 5
    # (4.56): 10^(4.56 - 1.25 x 0.224286) / 10^4 g, the day-1 threshold of one sheet
    base = value(two.endpoints, "vf_threshold_updown_baseline", "C1", "day21")
    assert base["value"] == pytest.approx(10 ** (4.56 - 1.25 * 0.224286) / 1e4, rel=1e-3)
    assert base["value"] == value(one.endpoints, "vf_threshold_updown", "C1", "day-1")["value"]
    assert base["source"] == "b.csv baseline day-1 (a.csv row 2)"
    assert value(two.endpoints, "vf_threshold_updown_baseline", "C1", "day7")["source"] == \
        "a.csv baseline day-1"
    assert not any(n.startswith("warning:") for n in two.notes)
    assert "b.csv: the protocol's baseline session 'day-1' is none of the von_frey_updown " \
           "sessions (day14, day21): each animal's baseline is taken from a.csv (the same " \
           "animal IDs; the baseline belongs to the animal, not the sheet)" in two.notes
    assert any("ANCOVA on the animal's baseline value" in c for c in two.conventions)


def test_latency_baseline_in_another_file_gives_mpe(folder):
    res = run(folder, {"a.csv": "subject,test,D-1\nC1,hargreaves,10.0\nC2,hargreaves,8.0\n"
                                "T1,hargreaves,12.0\n",
                       "b.csv": "subject,test,D7\nC1,hargreaves,16.0\nC2,hargreaves,5.0\n"
                                "T1,hargreaves,6.0\n"})
    t = res.endpoints
    # MPE = 100 (16 - 10) / (20 - 10) and 100 (6 - 12) / (20 - 12), as in one sheet
    assert value(t, "hargreaves_mpe", "C1", "day7")["value"] == pytest.approx(60.0)
    assert value(t, "hargreaves_mpe", "T1", "day7")["value"] == pytest.approx(-75.0)
    assert value(t, "hargreaves_latency_baseline", "T1", "day7")["value"] == 12.0
    assert not any(n.startswith("warning:") for n in res.notes)


def test_animals_without_a_baseline_in_any_file_are_named(folder):
    res = run(folder, {"a.csv": LONG_VF + _vf_rows([-1], ("C1", "C2", "C3", "T1", "T2")),
                       "b.csv": LONG_VF + _vf_rows([14])})
    assert [n for n in res.notes if n.startswith("warning:")] == [
        "warning: b.csv: the protocol's baseline session 'day-1' is none of the "
        "von_frey_updown sessions (day14): 1 of 6 animal(s) have no baseline session in any "
        "file of the run (T3): no baseline covariate (no ANCOVA on baseline) for them"]
    covariates = res.endpoints[res.endpoints["endpoint"] == "vf_threshold_updown_baseline"]
    assert sorted(covariates["subject"]) == ["C1", "C2", "C3", "T1", "T2"]


@pytest.mark.parametrize(("protocol", "first", "second"), [
    ("hot-plate", "BL", "pre"), ("cipn-paclitaxel-rat", "BL", "Pre"),
    ("cipn-paclitaxel-rat", "BL", "day-1"), ("cipn-paclitaxel-rat", "pre-dose", "D-1")])
def test_two_baseline_sessions_in_one_wide_sheet_are_an_error(folder, protocol, first, second):
    text = f"subject,test,{first},{second},D7\nC1,hot_plate,10,11,12\n"
    base = "baseline" if protocol == "hot-plate" else "day-1"
    with pytest.raises(InputError) as err:
        run(folder, {"w.csv": text}, protocol)
    assert err.value.where == f"row 1, columns '{first}', '{second}'"
    assert str(err.value).endswith(
        f"sessions '{first}' and '{second}' are each the protocol's baseline session "
        f"{base!r} (a baseline spelling, or {base!r} written another way): keep one, or name "
        "another session in the protocol parameter 'baseline'")


def test_two_baseline_sessions_in_one_long_table_name_their_rows(folder):
    text = ("subject,day,test,value\nC1,BL,hargreaves,10\nC1,7,hargreaves,12\n"
            "C2,-1,hargreaves,9\nC2,7,hargreaves,11\n")
    with pytest.raises(InputError, match=re.escape(
            "column 'day': sessions 'BL' (row 2) and 'day-1' (row 4) are each the protocol's "
            "baseline session 'day-1'")):
        run(folder, {"l.csv": text})


def test_one_list_of_baseline_spellings():
    assert BASELINE_NAMES == ("baseline", "bl", "pre", "pretest", "predose", "pretreatment",
                              "preexposure")
    assert {session_key(s) for s in ("BL", "Pre-Dose", "pre_test", "Baseline")} == {"baseline"}
    assert session_key("D-1") == session_key("Day -1") == "day-1" != session_key("baseline")
    assert session_key("day1") != session_key("day-1")
    assert is_pre_dose("BL") and is_pre_dose("Acclimation")
    assert not is_pre_dose("day-1")  # before dosing by its number, not by its name


def _workbook(sheets: dict[str, str]) -> bytes:
    """An xlsx workbook with one worksheet per CSV text."""
    import csv
    import io

    from openpyxl import Workbook

    wb = Workbook()
    wb.remove(wb.active)
    for name, text in sheets.items():
        ws = wb.create_sheet(name)
        for row in csv.reader(io.StringIO(text)):
            ws.append([float(c) if c.replace(".", "", 1).lstrip("-").isdigit() else c
                       for c in row])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def test_sessions_on_two_worksheets_of_one_workbook_are_one_run(folder):
    """stranger39 B3 as a lab saves it: week 1 and week 2 on two sheets of one workbook;
    the second sheet was silently not read (90 of 210 values), now as one sheet."""
    one = run(folder, {"all.csv": LONG_VF + _vf_rows([-1, 7, 14, 21])})
    book = _workbook({"week1": LONG_VF + _vf_rows([-1, 7]),
                      "week2": LONG_VF + _vf_rows([14, 21]),
                      "Notes": "operator,comment\nAB,filaments checked\n"})
    two = run(folder, {"vf.xlsx": book})
    assert _values(two.endpoints).equals(_values(one.endpoints))
    assert value(two.endpoints, "vf_threshold_updown_baseline", "T3", "day14")["source"] == \
        "vf.xlsx, sheet 'week2' baseline day-1 (vf.xlsx, sheet 'week1' row 7)"
    assert "vf.xlsx: sheet 'Notes' not read (no CIPN table: expected subject column(s) " \
           "'subject', found 'comment', 'operator')" in two.notes
    assert not any(n.startswith("warning:") for n in two.notes)
    named = run(folder, {"vf.xlsx": book}, sheet="week2")     # the sheet parameter: that one
    assert set(named.endpoints["timepoint"]) == {"day14", "day21"}


def test_a_censored_baseline_is_the_covariate_at_its_bound_and_named(folder):
    """stranger44 C3: an all-O baseline (a naive animal above the strongest filament) wrote no
    covariate row, so the ANCOVA left the animal out at every later session, unnamed."""
    series = {**SERIES, "C3": "ooooo"}
    rows = "".join(f"{s},{d},von_frey_updown,{series[s] if d == -1 else SERIES[s]},{5 + i % 3}\n"
                   for d in (-1, 7) for i, s in enumerate(series))
    res = run(folder, {"all.csv": LONG_VF + rows})
    t = res.endpoints
    base = value(t, "vf_threshold_updown", "C3", "day-1")
    assert base["censoring"] == "right"
    cov = value(t, "vf_threshold_updown_baseline", "C3", "day7")
    assert cov["value"] == base["value"] and not cov["excluded"]
    assert cov["source"] == "all.csv baseline day-1; censored, its bound used"
    assert (t["endpoint"] == "vf_threshold_updown_baseline").sum() == 6
    assert f"1 baseline value(s) at day-1 are censored (beyond the test's range: C3 " \
        f"vf_threshold_updown {base['value']:g}); as the baseline covariate each is taken at " \
        "its bound" in res.notes
