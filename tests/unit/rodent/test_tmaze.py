"""T-maze alternation: hand-counted sequences, chance levels, discrete trials."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from neurotox.assays.rodent.params import TmazeParameters
from neurotox.assays.rodent.tmaze import (
    alternation_table,
    chance_level,
    discrete_table,
    score_sequence,
    tmaze_endpoints,
    trial_table,
)
from neurotox.errors import InputError

from .conftest import write_study


def test_hand_counted_sequence():
    # A B C A C B B A C: triplets ABC+ BCA+ CAC(alt. return) ACB+ CBB(same) BBA(alt.) BAC+
    s = score_sequence(list("ABCACBBAC"))
    assert s == {"entries": 9, "windows": 7, "alternations": 4, "same_arm_returns": 1,
                 "alternate_arm_returns": 2}


@pytest.mark.parametrize("k,w,rule,expected", [
    (3, 3, "counted", 2 / 9), (3, 3, "collapsed", 0.5), (4, 3, "counted", 3 / 4 * 2 / 4),
    (4, 3, "collapsed", 2 / 3), (2, 2, "counted", 0.5), (4, 4, "collapsed", 2 / 9)])
def test_chance_level(k, w, rule, expected):
    assert chance_level(k, w, reentries=rule) == pytest.approx(expected)


@pytest.mark.parametrize("rule", ["counted", "collapsed"])
def test_chance_level_matches_random_walk(rule):
    rng = np.random.default_rng(7)
    arms, seq = "ABC", ["A"]
    for _ in range(30000):
        options = arms if rule == "counted" else [a for a in arms if a != seq[-1]]
        seq.append(options[rng.integers(len(options))])
    s = score_sequence(seq)
    assert s["alternations"] / s["windows"] == pytest.approx(
        chance_level(3, 3, reentries=rule), abs=0.01)


def entries(subject, arms, condition="NA"):
    return pd.DataFrame({"subject": subject, "condition": condition,
                         "order": range(1, len(arms) + 1),
                         "arm": list(arms), "enter_s": np.nan, "exit_s": np.nan,
                         "source": "seq.csv:row"})


def test_alternation_table_and_exclusion():
    e = pd.concat([entries("m1", "ABCACBBAC"), entries("m2", "ABCAB")])
    t = alternation_table(e, TmazeParameters(min_entries=8)).set_index("subject")
    assert t.loc["m1", "alternation_pct"] == pytest.approx(400 / 7)
    assert t.loc["m1", "chance_pct"] == pytest.approx(200 / 9)
    assert t.loc["m2", "exclusion_reason"] == "5 entries < minimum 8"
    collapsed = alternation_table(e, TmazeParameters(reentries="collapsed")).set_index("subject")
    assert collapsed.loc["m1", "entries"] == 8  # BB merged
    assert collapsed.loc["m1", "chance_pct"] == 50


def test_one_typo_does_not_make_the_maze_four_armed():
    """F8: a foreign letter in one animal's sequence is an error, not a 4th arm for all."""
    e = pd.concat([entries("m1", "ABCACBCBABCACBCAB"), entries("m2", "ABCABCBACBA"),
                   entries("m3", "ABCACBCBABXACBCAB")])
    e.loc[e["subject"] == "m3", "source"] = "sheet.csv:row 6, column 'Arm entries'"
    with pytest.raises(InputError) as err:
        alternation_table(e, TmazeParameters())
    assert str(err.value) == (
        "sheet.csv, row 6, column 'Arm entries': subject 'm3', entry 11: arm 'X' is not one "
        "of the 3 arms of the maze (parameter 'n_arms'; the other labels seen: 'A', 'B', "
        "'C'); 1 entry(ies) of 1 animal(s) name it: correct the sequence, or give the maze's "
        "'arms' (or 'n_arms')")
    # a maze that has four arms says so; chance is then 3/4 x 2/4 = 37.5 %
    t = alternation_table(e, TmazeParameters(n_arms=4))
    assert t["chance_pct"].tolist() == pytest.approx([37.5] * 3)
    with pytest.raises(InputError, match=r"arm 'X' is not one of the maze arms 'A', 'B', "
                                         r"'C' \(parameter 'arms'\)"):
        alternation_table(e, TmazeParameters(arms=("A", "B", "C")))


def test_chance_comes_from_the_maze_not_from_the_labels_seen():
    # only two labels in a whole run of a 3-arm maze: an error, never a 2-arm chance level
    with pytest.raises(InputError, match=r"name 2 arm\(s\) \('L', 'R'\) in a 3-arm maze"):
        alternation_table(entries("m1", "LRLRLLRL"), TmazeParameters(window=2))
    t = alternation_table(entries("m1", "LRLRLLRL"), TmazeParameters(n_arms=2, window=2))
    assert t["chance_pct"].item() == pytest.approx(50.0)
    assert t["alternation_pct"].item() == pytest.approx(100 * 6 / 7)
    # n_arms: null keeps the labels seen (the former rule)
    t = alternation_table(entries("m1", "ABCACBCBABXACBCAB"), TmazeParameters(n_arms=None))
    assert t["chance_pct"].item() == pytest.approx(37.5)


def trials():
    rows = [("m1", "S", "L", "R", 3.0), ("m1", "S", "R", "L", 5.0), ("m1", "S", "L", "L", 4.0),
            ("m1", "S", "R", "NA", np.nan), ("m1", "S", "L", "R", 70.0),
            ("m2", "S", "L", "R", 2.0)]
    return pd.DataFrame([{"subject": s, "condition": c, "session": "1", "trial": str(i),
                          "sample": a, "choice": b, "latency_s": lat, "source": "t.csv:row"}
                         for i, (s, c, a, b, lat) in enumerate(rows)])


def test_discrete_percent_correct_and_time_limit():
    p = TmazeParameters(mode="discrete", max_choice_latency_s=60, min_trials=2)
    per = discrete_table(trial_table(trials(), p), p).set_index("subject")
    m1 = per.loc["m1"]
    assert (m1["trials"], m1["no_choice_trials"], m1["correct"]) == (3, 2, 2)
    assert m1["correct_pct"] == pytest.approx(200 / 3)
    assert m1["choice_latency_s"] == 4.0
    assert m1["side_bias_pct"] == pytest.approx(100 / 3)  # R, L, L
    assert per.loc["m2", "exclusion_reason"] == "1 trials with a choice < minimum 2"


def test_tmaze_endpoints_timepoint_is_condition(make_study):
    study = make_study([("m1", "C", "M"), ("m2", "H", "F")])
    p = TmazeParameters(mode="discrete")
    per = discrete_table(trial_table(trials(), p), p)
    from neurotox.assays.rodent.tmaze import _DISC
    table = tmaze_endpoints(per, study, p, _DISC)
    row = table[(table["endpoint"] == "tmaze_correct_pct") & (table["subject"] == "m1")]
    assert row["timepoint"].item() == "S"
    assert row["value"].item() == pytest.approx(75.0)  # 3 correct of 4 choices


def test_litter_of_a_pup_is_the_unit_of_litter_means(tmp_path):
    # A DNT T-maze: the subjects file gives each pup's litter, statistics.litter_unit:
    # means. The litter must reach the EndpointTable (it was `batch`, NA: pups were units).
    from neurotox.stats.analysis import analyse
    from neurotox.study import StatisticsPlan, load_study
    write_study(tmp_path, [])
    (tmp_path / "subjects.csv").write_text(
        "subject,group,sex,litter\na,C,M,L1\nb,C,M,L1\nc,C,M,L2\n"
        "d,H,M,L3\ne,H,M,L3\nf,H,M,L4\n")
    study = load_study(tmp_path / "study.yaml")
    arms = {"a": "ABCABCABC", "b": "ABABABABA", "c": "ABCACBBAC",   # 100, 0, 400/7 %
            "d": "ABCABCABC", "e": "ABCABCABC", "f": "ABABABABA"}   # 100, 100, 0 %
    p = TmazeParameters()
    per = alternation_table(pd.concat([entries(s, a) for s, a in arms.items()]), p)
    table = tmaze_endpoints(per, study, p, {"tmaze_alternation_pct": "alternation_pct"})
    assert dict(zip(table["subject"], table["batch"], strict=True)) == {
        "a": "L1", "b": "L1", "c": "L2", "d": "L3", "e": "L3", "f": "L4"}
    res = analyse(table, StatisticsPlan(litter_unit="means"), study.spec.groups).results
    res = res.set_index("group")
    assert res.loc["C", "n"] == 2 and res.loc["H", "n"] == 2   # litters, not 3 pups
    assert res.loc["C", "mean"] == pytest.approx((50 + 400 / 7) / 2)
    assert res.loc["H", "mean"] == pytest.approx(50.0)


@settings(max_examples=50, deadline=None)
@given(st.lists(st.sampled_from("ABC"), min_size=0, max_size=40))
def test_sequence_counts_partition_the_windows(arms):
    s = score_sequence(arms)
    assert s["windows"] == max(len(arms) - 2, 0)
    assert s["alternations"] + s["same_arm_returns"] + s["alternate_arm_returns"] == s["windows"]
    assert min(s.values()) >= 0


def test_entry_side_bias_counts_goal_arms_only():
    t = alternation_table(entries("m1", "SLSRSRSL"), TmazeParameters(min_entries=3)).iloc[0]
    assert t["side_bias_pct"] == pytest.approx(50.0)  # 2 L and 2 R entries; S ignored
    t = alternation_table(entries("m1", "ABCAB"), TmazeParameters(min_entries=3)).iloc[0]
    assert np.isnan(t["side_bias_pct"])


def lims_file(tmp_path):
    rows = ["animal_name,sex,mean_experimental_age,parameter,data"]
    for animal, novel, familiar in (("a/1", (20, 10, 5), (10, 10, 50)), ("a/2", (0, 0, 0),
                                                                          (0, 0, 0))):
        for b in range(3):
            rows += [f"{animal},Male,12.5,Novel arm Duration/time:{b + 1}/phase:Novel,{novel[b]}",
                     f"{animal},Male,12.5,Familiar Arm Duration/time:{b + 1}/phase:Novel,"
                     f"{familiar[b]}",
                     f"{animal},Male,12.5,Novel arm Frequency/time:{b + 1}/phase:Novel,2",
                     f"{animal},Male,12.5,Familiar arm Frequency/time:{b + 1}/phase:Novel,1",
                     f"{animal},Male,12.5,Novel arm Duration/time:{b + 1}/phase:Habituation,0",
                     f"{animal},Male,12.5,Distance moved total/time:{b + 1}/phase:Novel,300"]
    p = tmp_path / "ymaze.csv"
    p.write_text("\n".join(rows) + "\n")
    return p


def test_novel_arm_ratios_first_two_bins(tmp_path):
    from neurotox.assays.rodent.tmaze import novel_arm_table
    from neurotox.io.rodent import read_rodent

    d = read_rodent(lims_file(tmp_path))
    assert d.kind == "zone_bins" and set(d.table["zone"]) == {
        "novel arm", "familiar arm", "distance moved total"}
    per = novel_arm_table(d.table, TmazeParameters(mode="novel_arm")).set_index("subject")
    a = per.loc["a/1"]
    assert (a["novel_time_s"], a["familiar_time_s"]) == (30, 20)   # bins 1-2 only
    assert a["time_ratio"] == pytest.approx(0.6)
    assert a["entry_ratio"] == pytest.approx(4 / 6)
    assert a["condition"] == "age12.5wk"
    assert per.loc["a/2", "exclusion_reason"] == (
        "no time in the novel or familiar arm during the test")
    all_bins = novel_arm_table(d.table, TmazeParameters(mode="novel_arm", test_bins=None))
    assert all_bins.set_index("subject").loc["a/1", "time_ratio"] == pytest.approx(35 / 105)


def test_novel_arm_bad_parameter_string(tmp_path):
    from neurotox.errors import FormatError
    from neurotox.io.rodent import read_rodent

    p = tmp_path / "y.csv"
    p.write_text("animal_name,parameter,data\na,Novel arm Duration,3\n")
    with pytest.raises(FormatError, match=r"row 2, column 'parameter': expected a parameter"):
        read_rodent(p)


@pytest.mark.parametrize(("update", "expected"), [
    ({"arms": ("A", "B", "C")}, {"tmaze_alternation_pct": 100 * 2 / 9}),
    ({"arms": ("A", "B", "C"), "reentries": "collapsed"}, {"tmaze_alternation_pct": 50.0}),
    ({"arms": ("A", "B", "C", "D"), "window": None}, {"tmaze_alternation_pct": 100 * 6 / 64}),
    ({}, {"tmaze_alternation_pct": 100 * 2 / 9}),   # n_arms: 3 by default
    ({"n_arms": None}, {"tmaze_alternation_pct": None}),   # arms seen: known after a run
    ({"mode": "discrete", "chance_pct": 50.0}, {"tmaze_correct_pct": 50.0}),
])
def test_reference_values_from_the_parameters_alone(update, expected):
    from neurotox.assays.rodent.tmaze import references

    got = references(TmazeParameters(**update))["references"]
    assert got.keys() == expected.keys()
    for k, v in expected.items():
        assert got[k] == (pytest.approx(v) if v is not None else None)
    assert references(TmazeParameters(mode="novel_arm")) == {}


def _entry_table(folder, rows):
    """An arm-entry table (subject, order, arm, enter_s, exit_s) in ``folder``."""
    folder.mkdir(exist_ok=True)
    path = folder / "tmaze_entries.csv"
    path.write_text("subject,order,arm,enter_s,exit_s\n" + "".join(
        f"m1,{i + 1},{arm},{t0},{t1}\n" for i, (arm, t0, t1) in enumerate(rows)))
    return path


def test_overlapping_arm_entries_are_refused_naming_both_rows(tmp_path):
    from neurotox.io.rodent import read_rodent

    # the C entry starts at 14.0 s while the A entry lasts to 15.11 s: in two arms at once
    path = _entry_table(tmp_path / "day1", [("A", 12.11, 15.11), ("C", 14.0, 36.41),
                                            ("B", 51.72, 54.72)])
    with pytest.raises(InputError) as err:
        read_rodent(path)
    assert str(err.value) == (
        f"{path}, row 3: subject 'm1' enters arm 'C' at 14 s, before leaving arm 'A' (row 2, "
        "exit 15.11 s): arm entries overlap in time")
    # touching intervals (the next entry at the previous exit) are one animal's path
    path = _entry_table(tmp_path / "day2", [("A", 12.11, 15.11), ("C", 15.11, 36.41),
                                            ("B", 51.72, 54.72)])
    assert read_rodent(path).table["arm"].tolist() == ["A", "C", "B"]


def test_arm_label_error_names_the_file_by_its_path(tmp_path, make_study):
    from neurotox.assays.rodent.tmaze import analyse

    study = make_study([("m1", "C", "M")])
    path = _entry_table(tmp_path / "maze", [(a, 10.0 * i, 10.0 * i + 5)
                                            for i, a in enumerate("ABCDABCAB")])
    with pytest.raises(InputError) as err:
        analyse(study, [path], TmazeParameters())
    assert str(err.value).startswith(f"{path}, row 5: subject 'm1', entry 4: arm 'D' is not "
                                     "one of the 3 arms of the maze")


@pytest.mark.parametrize("typed,meant", [("M1", "m1"), ("rat1", "rat01")])
def test_subject_in_another_case_or_padding_suggests_the_study_id(tmp_path, make_study,
                                                                  typed, meant):
    from neurotox.assays.rodent.tmaze import analyse

    study = make_study([(meant, "C", "M"), ("other", "C", "M")])
    path = tmp_path / "trials.csv"
    path.write_text(f"subject,trial,sample,choice\n{typed},1,L,R\n{typed},2,R,L\n")
    with pytest.raises(InputError) as err:
        analyse(study, [path], TmazeParameters(mode="discrete"))
    assert str(err.value) == (
        f"{path}, row 2: subject(s) '{typed}' in the T-maze data are not in the study's "
        f"subjects file subjects.csv (did you mean '{meant}'?)")


def test_same_trial_table_name_in_two_folders_is_told_apart_in_source(tmp_path, make_study):
    from neurotox.assays.rodent.tmaze import analyse

    study = make_study([("m1", "C", "M"), ("m2", "H", "M")])
    paths = []
    for folder, subject in (("day1", "m1"), ("day2", "m2")):
        (tmp_path / folder).mkdir()
        paths.append(tmp_path / folder / "trials.csv")
        paths[-1].write_text("subject,trial,sample,choice\n" + "".join(
            f"{subject},{k},L,{'R' if k % 4 else 'L'}\n" for k in range(1, 9)))
    res = analyse(study, paths, TmazeParameters(mode="discrete"))
    pct = res.endpoints[res.endpoints["endpoint"] == "tmaze_correct_pct"]
    assert dict(zip(pct["subject"], pct["source"], strict=True)) == {
        "m1": "day1/trials.csv", "m2": "day2/trials.csv"}
    assert pct["value"].tolist() == pytest.approx([75.0, 75.0])
