"""A subject's trials ordered by start time, one date convention per run."""

from __future__ import annotations

from pathlib import Path

import pytest

from neurotox.assays.rodent.trial_order import number_order_warnings, start_keys
from neurotox.errors import InputError


def order(starts: list[tuple[str, str, str]], notes: list[str] | None = None) -> list[str]:
    """File names in the order of the keys; ``starts``: (subject, trial, start time)."""
    metas = [{"subject": s, "trial": t, "start_time": when} for s, t, when in starts]
    paths = [Path(f"{s}_{t.split()[-1]}.csv") for s, t, _ in starts]
    keys = start_keys(metas, paths, notes if notes is not None else [])
    return [paths[i].name for i in sorted(range(len(keys)), key=lambda i: keys[i])]


def test_day_first_when_only_day_first_reads_every_date():
    # a European PC across a month end: 30/09 cannot be month-first, so 01/10 is 1 October
    got = order([("M1", "Trial 1", "30/09/2025 10:13:23.369"),
                 ("M1", "Trial 2", "01/10/2025 10:23:37.780")])
    assert got == ["M1_1.csv", "M1_2.csv"]


def test_month_first_when_only_month_first_reads_every_date():
    got = order([("M1", "Trial 2", "10/13/2025 09:00:00.000"),
                 ("M1", "Trial 1", "10/12/2025 09:00:00.000")])
    assert got == ["M1_1.csv", "M1_2.csv"]


def test_both_readable_and_agreeing_needs_no_word():
    notes: list[str] = []
    got = order([("M1", "Trial 2", "10/03/2025 10:23:37.780"),
                 ("M1", "Trial 1", "10/03/2025 10:13:23.369"),
                 ("M2", "Trial 3", "10/03/2025 10:33:00.000")], notes)
    assert got == ["M1_1.csv", "M1_2.csv", "M2_3.csv"] and notes == []


def test_both_readable_but_disagreeing_follow_the_trial_numbers_with_a_warning():
    # trial 1 exported month-first (3 October), trial 2 re-exported day-first (3 October)
    notes: list[str] = []
    got = order([("M1", "Trial 1", "10/03/2025 10:13:23.369"),
                 ("M1", "Trial 2", "03/10/2025 10:23:37.780")], notes)
    assert got == ["M1_1.csv", "M1_2.csv"]
    assert notes == ["warning: start dates such as '10/03/2025 10:13:23.369' read month-first "
                     "and day-first give different trial orders for subject(s) M1; the "
                     "day-first reading follows the trial numbers and is used for every file"]


def test_two_conventions_in_one_run_are_refused():
    with pytest.raises(InputError, match=r"start times written in two date conventions \("
                       r"'10/13/2025 09:00:00.000' in M1_1.csv reads only month-first; "
                       r"'30/09/2025 10:00:00.000' in M2_3.csv reads only day-first\)"):
        order([("M1", "Trial 1", "10/13/2025 09:00:00.000"),
               ("M2", "Trial 3", "30/09/2025 10:00:00.000")])


def test_no_start_time_orders_by_trial_number():
    assert order([("M1", "Trial 12", ""), ("M1", "Trial 11", "")]) == ["M1_11.csv", "M1_12.csv"]


def test_start_order_against_trial_numbers_is_a_warning():
    metas = [{"trial": "Trial 4"}, {"trial": "Trial 3"}]
    assert number_order_warnings("M1", metas, [Path("b.csv"), Path("a.csv")]) == [
        "warning: subject M1: by start time b.csv (Trial 4) comes before a.csv (Trial 3), "
        "against the trial numbers; the start times decide the phases"]
    assert number_order_warnings("M1", metas[::-1], [Path("a.csv"), Path("b.csv")]) == []
