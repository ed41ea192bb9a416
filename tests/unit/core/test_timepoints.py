"""neurotox.timepoints: the one time order of timepoint labels."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from neurotox.report.model import natural_key
from neurotox.timepoints import (
    contradicted,
    is_pre_dose,
    label_key,
    session_and_part,
    time_key,
    time_order,
    unordered,
)


@pytest.mark.parametrize("expected", [
    # a negative (pre-dose) day first: the AR(1) bug put day-1 after day21
    ["day-1", "day3", "day7", "day14", "day21"],
    ["Day −2", "day -1", "day0", "day1"],
    ["week-1", "week1", "week2", "week10"],
    # numbers as numbers, also written as text (timepoint_prefix: "")
    ["-1", "3", "7", "14", "21"],
    [-1, 3, 7, 14, 21],
    [-1.5, 0.25, 2],
    # sessions before dosing named so come first, with their bins
    ["pretest", "pretest_bin02", "pretest_bin10", "week4", "week4_bin01", "week13"],
    ["baseline", "day1", "day8"],
    ["pre-dose", "day1"],
    ["acclimation", "day1"],
    # the CIPN battery's own session words (stranger36 F1): before and after dosing
    ["Pre", "wk1", "wk2", "wk4"],
    ["BL", "day7", "day14", "day21"],
    ["pre", "day7", "day14", "post"],
    ["baseline", "day7", "day21", "terminal", "recovery"],
    ["pre dose", "day1", "post-dose", "final", "recovery"],
    ["acclimatisation", "day1"],
    ["pre_treatment", "day1"],
    ["pre-study", "day1"],
    # counts in days, weeks and hours compare on one scale
    ["hour6", "day1", "day21", "week4", "week13"],
    ["3", "day3", "week1"],
    ["6h", "24h", "3d"],
    ["30min", "2h", "24hpf", "48hpf", "5dpf"],
    # developmental prefixes and bins
    ["GD18", "PND4", "PND11", "PND21"],
    ["bin1", "bin2", "bin10"],
    ["bin001", "bin002", "bin010"],
    # missing labels and the all-timepoints row last
    ["day-1", "day3", "ALL", "NA"],
])
def test_labels_in_time_order(expected):
    shuffled = list(reversed(expected))
    assert sorted(shuffled, key=time_key) == expected
    assert time_order(shuffled + shuffled[:1]) == expected


def test_numbers_and_labels_of_one_kind_mix_without_error():
    # numpy numbers, text numbers and prefixed labels in one column
    labels = [np.int64(7), "day3", "-1", np.float64(14.0), "NA"]
    assert time_order(labels) == ["-1", "day3", np.int64(7), np.float64(14.0), "NA"]


def test_ties_are_broken_by_the_label():
    assert time_order(["day3", "Day3", "3"]) == ["3", "Day3", "day3"]


def test_report_tables_and_figures_use_the_same_key():
    labels = ["day21", "week4", "day-1", "pretest", "day3"]
    assert sorted(labels, key=natural_key) == time_order(labels) == \
        ["pretest", "day-1", "day3", "day21", "week4"]


@given(st.lists(st.integers(-30, 400), min_size=1, max_size=12, unique=True),
       st.sampled_from(["day", "Day ", "d", "PND", "bin", "week_", ""]))
def test_prefixed_counts_sort_as_signed_numbers(days, prefix):
    labels = [f"{prefix}{d}" for d in days]
    assert time_order(labels) == [f"{prefix}{d}" for d in sorted(days)]


@pytest.mark.parametrize(("labels", "same"), [
    (["pretest", "Pretest", "pre-test", "PRE_TEST", "pre test", "Pre–test"], True),
    (["day7", "Day7", "day 7", "DAY_7"], True),
    (["pretest_bin03", "Pretest_Bin03", "pre-test bin03"], True),
    (["day-1", "day1"], False),        # a minus sign is not punctuation
    (["day −1", "day-1"], True),       # Unicode minus
    (["week4", "week14"], False),
    (["bin3", "bin03"], True),         # leading zeros are padding
    (["day7", "day07", "DAY 007", "day_07"], True),
    (["day21", "day021"], True),
    (["day0", "day00"], True),
    (["day0", "day"], False),          # a lone zero is a count
    (["day1.05", "day1.5"], False),    # a zero after the decimal point counts
    (["day-01", "day-1"], True),
    (["day-1", "day1", "day01"], False),
    (["day1.5", "day15", "day1 5"], False),   # between digits, punctuation counts
    (["day -1", "day - 1", "Day-1"], True),
])
def test_label_key_ignores_case_spaces_punctuation_and_padding_only(labels, same):
    assert (len({label_key(x) for x in labels}) == 1) is same


@pytest.mark.parametrize(("labels", "named"), [
    # which of light1 and dark1 comes first is the protocol's (time_order), not the label's
    (["acclimation_light", "acclimation_dark", "light1", "dark1"],
     ["acclimation_dark", "acclimation_light", "dark1", "light1"]),
    (["week4", "PND21", "day3"], ["PND21", "day3", "week4"]),
    (["session_a", "day3", "day7"], ["day3", "day7", "session_a"]),
    (["light1>dark1", "light2>dark2"], []),
    (["pretest", "pretest_bin02", "week4", "week4_bin01"], []),
    (["Pre", "wk1", "wk4", "post", "terminal", "recovery", "NA"], []),
    (["bin000", "bin001", "bin010"], []),
])
def test_labels_that_cannot_be_put_in_time_order_are_named(labels, named):
    assert unordered(labels) == named


def test_the_protocols_order_wins_over_the_labels():
    ranks = {"acclimation_light": 0, "acclimation_dark": 2, "light1": 4, "dark1": 6}
    assert time_order(["dark1", "light1", "acclimation_dark", "acclimation_light"], ranks) \
        == ["acclimation_light", "acclimation_dark", "light1", "dark1"]
    assert unordered(ranks, ranks) == []


@pytest.mark.parametrize(("label", "pre"), [
    ("Pre", True), ("pre dose", True), ("BL", True), ("acclimatisation", True),
    ("pretest_bin03", True), ("Pre-Treatment", True), ("habituation", True),
    # a zebrafish light/dark phase: the larvae are exposed from fertilisation
    ("acclimation_dark", False), ("acclimation_light", False),
    ("post", False), ("day1", False), ("premature", False)])
def test_sessions_named_as_before_dosing(label, pre):
    assert is_pre_dose(label) is pre


@pytest.mark.parametrize(("label", "split"), [
    ("pretest_bin03", ("pretest", "bin03")), ("PND22_block1", ("PND22", "block1")),
    ("PND22_BLOCK1", ("PND22", "BLOCK1")), ("acclimation_trial2", ("acclimation", "trial2")),
    ("pretest bin01", ("pretest", "bin01")), ("week4_bin01_bin02", ("week4_bin01", "bin02")),
    ("week4", ("week4", "")), ("bin003", ("bin003", "")), (" day3 ", ("day3", "")),
    ("serum_day7", ("serum_day7", ""))])
def test_session_and_part(label, split):
    assert session_and_part(label) == split


@pytest.mark.parametrize(("ranks", "pairs"), [
    ({"day-1": 0, "day7": 1, "day21": 2}, []),
    ({"day-1": 0, "day7": 2, "day21": 1}, [("day7", "day21")]),
    ({"day21": 1, "week4": 0}, [("day21", "week4")]),      # 21 < 28 days
    ({"3": 1, "day3": 0}, []),                               # one time typed two ways
    ({"pretest": 1, "day1": 0}, []),                         # bands: the protocol's call
    ({"pretest_bin02": 0, "pretest_bin01": 1}, [("pretest_bin01", "pretest_bin02")]),
    ({"light1": 1, "dark1": 0}, []),                         # words
    ({"day7": 0, "NA": -1}, []),
])
def test_contradicted_names_pairs_whose_ranks_reverse_their_times(ranks, pairs):
    assert contradicted(ranks) == pairs


def test_contradicted_on_long_runs_checks_neighbours():
    ranks = {f"bin{k:03d}": float(k) for k in range(1, 601)}
    assert contradicted(ranks) == []
    ranks["bin300"], ranks["bin301"] = 301.0, 300.0
    assert contradicted(ranks) == [("bin300", "bin301")]
