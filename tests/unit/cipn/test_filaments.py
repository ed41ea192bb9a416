"""Filaments written by number or by marking: the whole column decides, never one cell.

Mouse set (von-frey-up-down): markings 0.008 0.02 0.07 0.16 0.4 1 2 6, so ``1``,
``2`` and ``6`` are both filament numbers and markings. Rat set
(cipn-paclitaxel-rat): evaluator sizes 3.61-5.18 with nominal grams 0.4 0.6 1 2 4
6 8 15, so ``1``, ``2``, ``4``, ``6`` and ``8`` are both.
"""

from __future__ import annotations

import numpy as np
import pytest

from neurotox.errors import InputError

from .conftest import run, value

#: The same four sessions, last filament by number and by marking (mouse set).
BY_NUMBER = "mouse,day,xo_series,last_filament\nC1,-1,oxooox,7\nC2,-1,oxooxx,5\n" \
            "T1,-1,xoxxo,2\nT2,-1,ooxxoo,6\n"
BY_MARKING = "mouse,day,xo_series,last_filament\nC1,-1,oxooox,2\nC2,-1,oxooxx,0.4\n" \
             "T1,-1,xoxxo,0.02\nT2,-1,ooxxoo,1\n"


def _thresholds(folder, text, **overrides):
    res = run(folder, {"vf.csv": text}, "von-frey-up-down", **overrides)
    return res, {s: value(res.endpoints, "vf_threshold_updown", s, "-1")["value"]
                 for s in ("C1", "C2", "T1", "T2")}


def test_markings_column_reads_like_the_numbers_column(folder):
    _, nums = _thresholds(folder, BY_NUMBER)
    res, marks = _thresholds(folder, BY_MARKING)
    assert marks == nums
    # C1: OXOOOX (k -1.25) ending on filament 7, the 2 g marking: 0.573 g, not 0.0064 g
    assert round(nums["C1"], 3) == 0.573
    assert any("read as markings: '0.4' (row 3, session -1) can only be a filament "
               "marking" in n for n in res.notes)
    detail = res.details["vf_updown_sessions"]
    assert set(detail["filament_read_as"]) == {"marking"}


def test_numbers_column_is_said_so(folder):
    res, _ = _thresholds(folder, BY_NUMBER)
    assert any("filaments in column 'last_filament' read as numbers: '7' (row 2, session -1)"
               in n for n in res.notes)


AMBIGUOUS = "mouse,day,xo_series,last_filament\nC1,-1,oxooox,2\nC2,-1,oxooxx,1\n" \
            "T1,-1,xoxxo,6\n"


def test_column_that_reads_both_ways_is_refused(folder):
    with pytest.raises(InputError, match=r"every filament in column 'last_filament' \(1, 2, 6\)"
                                         r" is both a filament number and a marking.*'2' \(row"
                                         r" 2, session -1\) is filament number 2 \(0.023 g\) or"
                                         r" the filament marked 2 \(2.041 g\); set the protocol"
                                         " parameter filament_labels") as err:
        run(folder, {"vf.csv": AMBIGUOUS}, "von-frey-up-down")
    assert err.value.path.endswith("vf.csv") and err.value.where == \
        "row 2, column 'last_filament'"


@pytest.mark.parametrize("labels, c1", [("number", 0.00643), ("marking", 0.573)])
def test_protocol_parameter_decides_an_ambiguous_column(folder, labels, c1):
    res = run(folder, {"vf.csv": AMBIGUOUS}, "von-frey-up-down", filament_labels=labels)
    got = value(res.endpoints, "vf_threshold_updown", "C1", "-1")["value"]
    assert round(got, 5 if c1 < 0.01 else 3) == c1
    assert any(f"read as {labels}s (filament_labels)" in n for n in res.notes)


def test_numbers_and_markings_in_one_column_is_an_error(folder):
    text = BY_NUMBER.replace("C2,-1,oxooxx,5", "C2,-1,oxooxx,0.4")
    with pytest.raises(InputError, match=r"names filaments by number \('7' \(row 2, session -1"
                                         r"\)\) and by marking \('0.4' \(row 3"):
        run(folder, {"vf.csv": text}, "von-frey-up-down")


def test_explicit_number_setting_refuses_a_marking(folder):
    with pytest.raises(InputError, match="filament '0.4' is not in the set as a filament "
                                         "number") as err:
        run(folder, {"vf.csv": BY_MARKING}, "von-frey-up-down", filament_labels="number")
    assert err.value.where == "row 3, column 'last_filament'"


def _rat_wide(cells):
    return "subject,test,day21\n" + "".join(
        f"{s},von_frey_updown,{c}\n" for s, c in zip(("C1", "C2", "C3", "T1"), cells,
                                                      strict=True))


def test_rat_sheet_in_nominal_grams(folder):
    # ending on the 1/2/4/6/8 g filaments only: numbers 1-8 too, so refused ...
    grams = ["oooxoxxo/4", "oxooox/8", "xoooxx/4", "ooxoxxo/2"]
    with pytest.raises(InputError, match=r"\(2, 4, 8\) is both a filament number and a "
                                         r"marking.*filament number 4 \(2.042 g\) or the "
                                         r"filament marked 4 \(3.631 g\)"):
        run(folder, {"vf.csv": _rat_wide(grams)})
    # ... and read as grams when the protocol says so, or when one cell can only be grams
    nums = ["oooxoxxo/5", "oxooox/7", "xoooxx/5", "ooxoxxo/4"]
    want = run(folder, {"vf.csv": _rat_wide(nums)}).endpoints
    by_param = run(folder, {"vf.csv": _rat_wide(grams)}, filament_labels="marking").endpoints
    with_unit = run(folder, {"vf.csv": _rat_wide([*grams[:3], "ooxoxxo/0.6 g"])}).endpoints
    for got in (by_param, with_unit.iloc[:3]):
        np.testing.assert_array_equal(got["value"], want["value"].iloc[:len(got)])
    # C2: OXOOOX (k -1.25) ending on the 8 g filament (4.93): 10^(4.93 - 1.25 x 0.224) g
    assert value(by_param, "vf_threshold_updown", "C2", "day21")["value"] == pytest.approx(
        10 ** (4.93 - 1.25 * (5.18 - 3.61) / 7) / 1e4, rel=1e-3)


def test_sudo_filaments_by_marking_read_like_numbers(folder):
    head = "subject,day,test,filament,response\n"
    nums = head + "C1,1,von_frey_sudo,5,X\nC2,1,von_frey_sudo,7,O\n"
    marks = head + "C1,1,von_frey_sudo,0.4,X\nC2,1,von_frey_sudo,2,O\n"
    want = run(folder, {"s.csv": nums}, "von-frey-up-down").endpoints
    got = run(folder, {"s.csv": marks}, "von-frey-up-down").endpoints
    assert list(got["value"]) == list(want["value"])
    # C2: the 2 g filament (filament 7) + 0.5 step: geometric mean of 2.041 and 5.495 g
    assert value(got, "vf_threshold_sudo", "C2", "1")["value"] == pytest.approx(
        (2.041 * 5.495) ** 0.5)
