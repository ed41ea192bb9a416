"""Hand-scored maze sheets and ANY-maze per-sample zone files: small files with hand counts."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from neurotox.assays.rodent.common import lost_tracking
from neurotox.assays.rodent.nor import nor_animals
from neurotox.assays.rodent.nor_inputs import collect as nor_collect
from neurotox.assays.rodent.params import NorParameters, TmazeParameters
from neurotox.assays.rodent.tmaze import alternation_table, analyse, reentries
from neurotox.assays.rodent.tmaze_inputs import collect
from neurotox.errors import FormatError, InputError
from neurotox.io.rodent import read_rodent
from neurotox.io.rodent.scoring import parse_sequence

BANNER = "Spontaneous alternation (Y maze) scoring sheet,,,\nScorer: JB,,,\n,,,\n"
SHEET = BANNER + ("Animal ID,Group,Sex,Arm entries,Notes\n"
                  "R1,C,M,ABCACBBAC,\n"
                  "R2,H,F,a-b-c-a-b-a-c-c-b,unclear entry at 4 min\n"
                  ",,,,\n")


def _write(folder, name, text):
    (folder / name).write_text(text)
    return folder / name


@pytest.mark.parametrize("text, arms", [
    ("ABCACB", list("ABCACB")), ("abcacb", list("ABCACB")), ("A B C", list("ABC")),
    ("a-b-c", list("ABC")), ("A,B;C/A", list("ABCA")), ("ABC ACB", list("ABCACB")),
    ("A -> B -> C", list("ABC")), ("L R L", ["L", "R", "L"]),
    ("A \u2192 B \u2192 C", list("ABC")), ("A\u2192B\u2192C\u2192A", list("ABCA")),
    ("A \u21d2 B \u27f6 C", list("ABC")), ("A \u2014 B \u2013 C", list("ABC")),
    ("left, start, right", ["LEFT", "START", "RIGHT"]), ("123", ["1", "2", "3"]),
    ("", []), ("AB*C", None), ("A.B", None), ("AB+", None)])
def test_parse_sequence(text, arms):
    assert parse_sequence(text) == arms


@given(st.lists(st.sampled_from("ABC"), min_size=1, max_size=40),
       st.sampled_from(["", " ", "-", ", ", " -> "]), st.booleans())
@settings(max_examples=60, deadline=None)
def test_parse_sequence_round_trip(arms, sep, lower):
    text = sep.join(arms)
    assert parse_sequence(text.lower() if lower else text) == arms


def test_sheet_with_banner_rows_read(tmp_path):
    data = read_rodent(_write(tmp_path, "sheet.csv", SHEET))
    assert data.fmt == "maze-scoring-sheet" and data.kind == "entries"
    seq = data.table.groupby("subject")["arm"].apply("".join).to_dict()
    assert seq == {"R1": "ABCACBBAC", "R2": "ABCABACCB"}
    assert data.table["source"].iloc[0] == "sheet.csv:row 5, column 'Arm entries'"
    animals = data.meta["animals"].set_index("subject")
    assert animals.loc["R2", "notes"] == "unclear entry at 4 min"
    assert any("header in row 4 (3 banner row(s)" in n for n in data.notes)
    assert any("subject R2 (row 6) note: unclear entry" in n for n in data.notes)


@pytest.mark.parametrize(("note", "warned"), [
    ("EXCLUDE - animal fell", True), ("excluded: fell from the maze", True),
    ("Invalid trial", True), ("do not use", True), ("don't analyse", True),
    ("not valid - camera off", True), ("discarded", True),
    ("unclear entry at 4 min", False), ("lively animal", False), ("2 min late", False)])
def test_a_note_asking_for_exclusion_is_a_warning(tmp_path, note, warned):
    """stranger29 F23: 'EXCLUDE - animal fell' was an INFO line and the animal analysed."""
    data = read_rodent(_write(tmp_path, "sheet.csv", SHEET.replace("unclear entry at 4 min",
                                                                    note)))
    line = next(n for n in data.notes if "subject R2 (row 6)" in n)
    if warned:
        assert line == (f"warning: sheet.csv: subject R2 (row 6) note {note!r} reads like an "
                        "exclusion, but the animal is analysed: a note does not exclude it; "
                        "list it in the study's exclusions file to exclude it")
    else:
        assert line == f"sheet.csv: subject R2 (row 6) note: {note}"
    assert data.meta["animals"].set_index("subject").loc["R2", "notes"] == note


def test_sheet_hand_counted_doubles_and_alternations(tmp_path, make_study):
    # R1 ABCACBBAC: triplets ABC+ BCA+ CAC ACB+ CBB BBA BAC+ -> 4 of 7; one double (BB)
    # R2 ABCABACCB: ABC+ BCA+ CAB+ ABA BAC+ ACC CCB -> 4 of 7; one double (CC)
    study = make_study([("R1", "C", "M"), ("R2", "H", "F")])
    res = analyse(study, [_write(study.folder, "sheet.csv", SHEET)], TmazeParameters())
    per = res.details["tmaze_animals"].set_index("subject")
    assert per.loc["R1", ["entries", "alternations", "reentries"]].tolist() == [9, 4, 1]
    assert per.loc["R2", ["entries", "alternations", "reentries"]].tolist() == [9, 4, 1]
    assert per.loc["R1", "reentry_pct"] == pytest.approx(100 / 7)
    assert per.loc["R2", "notes"] == "unclear entry at 4 min"
    assert any("reentries: counted" in c for c in res.conventions)
    assert any(n.startswith("convention: Arm re-entries") for n in res.notes)


def test_sheet_group_or_sex_disagreeing_with_the_study_is_an_error(tmp_path, make_study):
    study = make_study([("R1", "C", "M"), ("R2", "C", "F")])
    path = _write(study.folder, "sheet.csv", SHEET)
    with pytest.raises(InputError, match=r"sheet.csv, row 6: subject 'R2': the sheet gives "
                                         r"group 'H', the subjects file says 'C' \(C\)"):
        analyse(study, [path], TmazeParameters())
    study = make_study([("R1", "C", "F"), ("R2", "H", "F")])
    with pytest.raises(InputError, match="row 5: subject 'R1': the sheet gives sex 'M', the "
                                         "subjects file says 'F'"):
        analyse(study, [path], TmazeParameters())


@pytest.mark.parametrize(("group", "sex", "message"), [
    ("H", "F", None), (" h ", "weiblich", None),     # ID any case, a sex code parse_sex reads
    ("3", "", None), ("", "?", None),                 # names no group / no sex: not checked
    ("C", "F", "sheet.csv, row 7: subject 'R2': the sheet gives group 'C', the subjects file "
               "says 'H' (H); correct the sheet or the subjects file"),
    ("H", "male", "sheet.csv, row 7: subject 'R2': the sheet gives sex 'male', the subjects "
                  "file says 'F'; correct the sheet or the subjects file"),
])
def test_one_check_of_written_groups_for_scoring_and_battery_sheets(make_study, group, sex,
                                                                   message):
    """fixAC 3: the rodent sheet and the battery sheets share one check (and one message)."""
    from neurotox.assays.accounting import check_written_groups
    from neurotox.assays.rodent.common import source_locator

    study = make_study([("R1", "C", "M"), ("R2", "H", "F")])
    animals = pd.DataFrame({"subject": ["R1", "R2"], "group": ["C", group], "sex": ["M", sex],
                            "source": ["sheet.csv:row 6, column 'Arm entries'",
                                       "sheet.csv:row 7, column 'Arm entries'"]})
    files = [study.folder / "sheet.csv"]
    if message is None:
        assert check_written_groups(animals, study, source_locator(animals, files)) == []
        return
    with pytest.raises(InputError) as info:
        check_written_groups(animals, study, source_locator(animals, files))
    assert str(info.value) == f"{study.folder / message}"


@pytest.mark.parametrize("old, new, message", [
    ("R1,C,M,ABCACBBAC", "R1,C,M,ABC?ACB", "row 5, column 'Arm entries': expected arm labels "
                                            "such as 'ABCACB'"),
    ("R1,C,M,ABCACBBAC", "R1,C,M,", "row 5, column 'Arm entries': no arm entries for "
                                    "subject 'R1'"),
    ("R1,C,M,ABCACBBAC", ",C,M,ABCACBBAC", "row 5, column 'Animal ID': subject is empty"),
    ("R2,H,F", "R1,H,F", "row 6, column 'Arm entries': subject 'R1' has more than one"),
    ("Animal ID,", "Animal name,", "expected a header row with a subject column")])
def test_sheet_errors_name_row_and_column(tmp_path, old, new, message):
    path = _write(tmp_path, "sheet.csv", SHEET.replace(old, new, 1))
    with pytest.raises(FormatError, match=message):
        read_rodent(path, fmt="maze-scoring-sheet")


def test_second_table_below_the_first_is_refused_naming_its_header_row(tmp_path):
    # stranger52 ri/r02: a retest scored below the first table under its own title and header
    text = SHEET.replace(",,,,\n", ",,,,\nDay 2 retest,,,,\nAnimal ID,Group,Sex,Arm entries,\n"
                                      "R1,C,M,BACBCACBA,\n", 1)
    path = _write(tmp_path, "sheet.csv", text)
    with pytest.raises(FormatError) as err:
        read_rodent(path)
    assert str(err.value) == (
        f"{path}, row 9: the header of row 4 again: a second table under the title "
        "'Day 2 retest' (row 8) below the first (a second session?); one table per sheet is "
        "read: give the second its own sheet or file, or one table with a condition column")


def test_sheet_xlsx_numeric_ids(tmp_path, make_study):
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    for row in (["Y maze scoring"], [], ["Subject #", "Arm entries", "Notes"],
                ["10.01", "ABCABCAB", None], [10.1, "ACBACBAC", "typed as a number"],
                [12, "abcabcab", None]):
        ws.append(row)
    wb.save(tmp_path / "sheet.xlsx")
    data = read_rodent(tmp_path / "sheet.xlsx")
    assert list(data.meta["animals"]["subject"]) == ["10.01", "10.1", "12"]
    assert data.meta["numeric_subjects"] == ["10.1", "12"]
    study = make_study([("10.01", "C", "M"), ("10.10", "C", "M"), ("12", "H", "M")])
    res = analyse(study, [tmp_path / "sheet.xlsx"], TmazeParameters())
    assert sorted(res.endpoints["subject"].unique()) == ["10.01", "10.10", "12"]


@pytest.mark.parametrize("seq, expected", [
    ("ABCA", (0, 0.0)), ("AABC", (1, 50.0)), ("AAAA", (3, 150.0)), ("AB", (0, np.nan))])
def test_reentries_hand_counted(seq, expected):
    got = reentries(list(seq))
    assert got["reentries"] == expected[0]
    np.testing.assert_equal(got["reentry_pct"], expected[1])


# ------------------------------------------------------------------ ANY-maze zone samples

def anymaze(zones: str, times: list[float] | None = None, extra: str = "") -> str:
    """A per-sample export; ``zones`` one letter per sample: T/L/R arm, X centre, 0 none."""
    cols = {"T": "1,0,0,0", "L": "0,1,0,0", "R": "0,0,1,0", "X": "0,0,0,1", "0": "0,0,0,0"}
    times = times or [0.25 * i for i in range(len(zones))]
    rows = [f"0:{int(t // 60):02d}:{t % 60:05.2f},{100 + i},{50},{cols[z]}{extra}"
            for i, (t, z) in enumerate(zip(times, zones, strict=True))]
    head = "Time,Centre posn X,Centre posn Y,In top,In left,In right,In centre"
    return "\n".join([head + (",Animal" if extra else "")] + rows) + "\n"


def test_anymaze_entries_hand_counted(tmp_path):
    # T T X L L 0 L X L X T 0 0 X R: runs T, L, L(after a gap), L, T, R
    path = _write(tmp_path, "m7.csv", anymaze("TTXLL0LXLXT00XR"))
    data = read_rodent(path)
    assert data.fmt == "anymaze-zone-samples"
    assert list(data.table.columns) == ["time_s", "center:top", "center:left", "center:right",
                                        "center:centre"]
    entries = {"exit": "TLLLTR", "continue": "TLLTR"}   # before the re-entry rule
    scored = {("exit", "counted"): "TLLLTR", ("continue", "counted"): "TLLTR",
              ("exit", "collapsed"): "TLTR", ("continue", "collapsed"): "TLTR"}
    for (gap, rule), expected in scored.items():
        params = TmazeParameters(no_zone_samples=gap, reentries=rule, min_entries=3,
                                 zone_arms={"top": "T", "left": "L", "right": "R"})
        e = collect([path], params)["entries"]
        assert "".join(e["arm"]) == entries[gap]
        assert e["subject"].unique().tolist() == ["m7"]
        assert alternation_table(e, params).iloc[0]["sequence"] == expected


def test_anymaze_entry_times_and_minimum_duration(tmp_path):
    # uneven samples: an entry lasts until the next sample outside it
    times = [0.0, 0.1, 0.9, 1.0, 1.05, 1.4, 2.0]
    path = _write(tmp_path, "m1.csv", anymaze("TTXLXRR", times))
    params = TmazeParameters(min_entries=3)
    e = collect([path], params)["entries"]
    assert list(e["arm"]) == ["top", "left", "right"]
    np.testing.assert_allclose(e["enter_s"], [0.0, 1.0, 1.4])
    np.testing.assert_allclose(e["exit_s"], [0.9, 1.05, 2.0 + 0.225])  # last: + median step
    short = collect([path], params.model_copy(update={"min_entry_s": 0.1}))["entries"]
    assert list(short["arm"]) == ["top", "right"]


def test_anymaze_lost_samples_are_a_tracking_loss(tmp_path):
    # 40 samples every 0.25 s; samples 10-19 with every zone cell '-' (the animal not found)
    # and a 5-s hole in time after sample 29 (19 samples' worth): 29 of 59 lost, 49 %
    zones = "TTXLLXRRXT" * 4
    times = [0.25 * i for i in range(30)] + [0.25 * i + 4.75 for i in range(30, 40)]
    lines = anymaze(zones, times).splitlines()
    for i in range(11, 21):
        cells = lines[i].split(",")
        lines[i] = ",".join(cells[:3] + ["-"] * 4)
    path = _write(tmp_path, "m3.csv", "\n".join(lines) + "\n")
    data = read_rodent(path)
    assert data.meta["missing_samples"] == {"center": 10}
    assert data.meta["gap_samples"] == 19 and data.meta["n_samples"] == 40
    # the sample before the hole lasts one step: the 5 s lost are no time in a zone
    assert data.meta["sample_durations"].max() == pytest.approx(0.25)
    params = TmazeParameters(min_entries=3)
    got = collect([path], params)
    assert any("m3.csv (subject m3): 29 of 59 samples (7.2 s) lost: 10 with the center point "
               "not found ('-'), 19 absent from the time column (gaps)" in n
               and n.startswith("warning: ") for n in got["notes"])      # over 0.2
    assert got["tracking"]["reason"].iloc[0].startswith("tracking error (49% of samples missing)")
    # uneven ANY-maze steps (0.1-0.16 s, an occasional 0.8 s) are no gap
    even = _write(tmp_path, "m4.csv", anymaze("TXLXR", [0.0, 0.1, 0.26, 1.06, 1.2]))
    assert read_rodent(even).meta["gap_samples"] == 0


def _in_ms(text: str, unit: str = "ms") -> str:
    """The export with times written as milliseconds under ``Time (<unit>)``."""
    head, *rows = text.splitlines()
    def ms(row):
        h, m, s = row.split(",", 1)[0].split(":")
        return f"{round((int(h) * 3600 + int(m) * 60 + float(s)) * 1000)},{row.split(',', 1)[1]}"
    return "\n".join([head.replace("Time,", f"Time ({unit}),"), *map(ms, rows)]) + "\n"


def test_anymaze_times_in_milliseconds_are_read_as_seconds(tmp_path):
    """stranger40 v12: an ANY-maze zone-sample export with a 'Time (ms)' column."""
    times = [0.0, 0.1, 0.9, 1.0, 1.05, 1.4, 2.0]
    text = _in_ms(anymaze("TTXLXRR", times))
    assert text.splitlines()[3].startswith("900,")
    path = _write(tmp_path, "m1.csv", text)
    data = read_rodent(path)
    assert data.fmt == "anymaze-zone-samples"
    np.testing.assert_allclose(data.table["time_s"], times)
    assert "m1.csv: times converted to s from the unit in the header of 'Time (ms)' (x 0.001)" \
        in data.notes
    e = collect([path], TmazeParameters(min_entries=3))["entries"]
    assert list(e["arm"]) == ["top", "left", "right"]
    np.testing.assert_allclose(e["enter_s"], [0.0, 1.0, 1.4])
    np.testing.assert_allclose(e["exit_s"], [0.9, 1.05, 2.0 + 0.225])


@pytest.mark.parametrize("header", ["Time [ms]", "Time_ms", "time_msec"])
def test_anymaze_time_unit_written_other_ways_in_the_header(tmp_path, header):
    # the header's unit is read by the shared io.header_units: 'Time_ms' (a unit after an
    # underscore) was no time column and the file was not recognised
    times = [0.0, 0.1, 0.9, 1.0, 1.05, 1.4, 2.0]
    text = _in_ms(anymaze("TTXLXRR", times)).replace("Time (ms),", f"{header},", 1)
    data = read_rodent(_write(tmp_path, "m1.csv", text))
    assert data.fmt == "anymaze-zone-samples"
    np.testing.assert_allclose(data.table["time_s"], times)
    assert (f"m1.csv: times converted to s from the unit in the header of {header!r} "
            "(x 0.001)") in data.notes


@pytest.mark.parametrize("unit, row, message", [
    ("frames", None, "m.csv, column 'Time \\(frames\\)': unknown time unit 'frames' in the "
                     "header \\(expected s, ms, min or h\\)"),
    ("ms", ("\n100,", "\n0:00:00.10,"), "m.csv, row 3, column 'Time \\(ms\\)': expected a number "
                                    "in the header's unit, found '0:00:00.10'"),
])
def test_anymaze_time_unit_errors(tmp_path, unit, row, message):
    text = _in_ms(anymaze("TTXLXRR", [0.0, 0.1, 0.9, 1.0, 1.05, 1.4, 2.0]), unit)
    if row:
        text = text.replace(*row, 1)
    with pytest.raises(FormatError, match=message):
        read_rodent(_write(tmp_path, "m.csv", text))


def test_anymaze_subject_column_and_override(tmp_path):
    path = _write(tmp_path, "trial 3.csv", anymaze("TXLXR", extra=",Mouse 12"))
    data = read_rodent(path)
    assert data.meta["subject"] == "Mouse 12"
    assert any("subject 'Mouse 12' read from the file" in n for n in data.notes)
    data = read_rodent(path, subject="M12")
    assert data.meta["subject"] == "M12"
    assert any("the file says 'Mouse 12'" in n for n in data.notes)


@pytest.mark.parametrize("text, message", [
    (anymaze("TXL").replace("0:00:00.25", "soon"), "row 3, column 'Time': expected a time like"),
    (anymaze("TXL").replace("0:00:00.25", "0:00:75"), "row 3, column 'Time': expected a time "
                                                      "like '0:01:02.50' or seconds, found "
                                                      "'0:00:75'"),
    (anymaze("TXL").replace("0:00:00.50", "0:00:00.10"), "row 4, column 'Time': time "
                                                           "'0:00:00.10' is earlier"),
    (anymaze("TXL").replace(",0,0,0,1\n", ",0,0,0,2\n"), "row 3, column 'In centre': expected "
                                                          "0 or 1"),
    (anymaze("TXL", extra=",M1").replace("M1\n0:00:00.50", "M2\n0:00:00.50"),
     "expected one value in column 'Animal' \\(one test per file\\)")])
def test_anymaze_errors(tmp_path, text, message):
    with pytest.raises(FormatError, match=message):
        read_rodent(_write(tmp_path, "bad.csv", text), fmt="anymaze-zone-samples")


def test_anymaze_zone_errors(tmp_path):
    path = _write(tmp_path, "m.csv", anymaze("TXL"))
    with pytest.raises(InputError, match="zone\\(s\\) 'middle' of zone_arms not in the file"):
        collect([path], TmazeParameters(zone_arms={"middle": "A", "top": "B"}))
    two = anymaze("TXL").replace("1,0,0,0\n", "1,1,0,0\n")
    with pytest.raises(InputError, match="sample at 0 s is in two arm zones"):
        collect([_write(tmp_path, "two.csv", two)], TmazeParameters())


@pytest.mark.parametrize("centre", ["Middle", "Centre zone"])
def test_anymaze_centre_zone_with_another_name_is_named(tmp_path, centre):
    # stranger40: the centre zone called 'Middle' was blamed on the arm 'top'
    path = _write(tmp_path, "m.csv", anymaze("TTXLLXRRXT").replace("In centre", f"In {centre}"))
    with pytest.raises(InputError, match=re.escape(
            f"m.csv: 4 zones do not match centre_zones '^(?:cent(?:er|re)|arena)$' "
            f"({', '.join(repr(z) for z in sorted([centre, 'left', 'right', 'top']))}) for a "
            f"3-arm maze (n_arms): zone '{centre}' looks like the centre. Name the centre with "
            f"the parameter centre_zones (--param \"centre_zones=^{centre}$\"), or the arms "
            "with zone_arms")):
        collect([path], TmazeParameters(min_entries=3))
    e = collect([path], TmazeParameters(min_entries=3, centre_zones=f"^{centre}$"))["entries"]
    assert list(e["arm"]) == ["top", "left", "right", "top"]


# ------------------------------------------------------------------ NOR from zone samples

def nor_samples(head_left: str, centre_left: str, head_right: str) -> str:
    """ANY-maze NOR export at 0.5 s per sample: head and centre in each object zone."""
    rows = ["Time,In object left,In object right,Head in object left,Head in object right"]
    for i, (hl, cl, hr) in enumerate(zip(head_left, centre_left, head_right, strict=True)):
        rows.append(f"{i * 0.5},{cl},0,{hl},{hr}")
    return "\n".join(rows) + "\n"


def test_nor_from_anymaze_head_zones_with_climbing_on_record(tmp_path):
    # left: head in 8 samples, 4 of them with the centre on the object -> 2 s kept, 2 s removed
    # right: head in 6 samples (3 s), no climbing
    train = nor_samples("0000000011111111", "0000000000001111", "1111110000000000")
    test = nor_samples("1111111111110000", "0000000011111111", "0000000000111111")
    paths = [_write(tmp_path, "t1.csv", train), _write(tmp_path, "t2.csv", test)]
    params = NorParameters(exploration_point="head", novel_default="L", max_climbing_s=1.5,
                           file_subjects={"t1.csv": "R1", "t2.csv": "R1"})
    data = nor_collect(paths, params)
    explo = data["exploration"].set_index(["phase", "object"])
    assert explo.loc[("training", "object left"), "time_s"] == pytest.approx(2.0)
    assert explo.loc[("training", "object left"), "climbing_s"] == pytest.approx(2.0)
    assert explo.loc[("training", "object right"), "time_s"] == pytest.approx(3.0)
    # test: head on the left object in samples 0-11, centre on it in 8-11 -> 8 kept (4 s)
    assert explo.loc[("test", "object left"), "time_s"] == pytest.approx(4.0)
    assert explo.loc[("test", "object left"), "climbing_s"] == pytest.approx(2.0)
    animals = nor_animals(data["exploration"], data["key"], data["flags"], params)
    animals = animals.set_index("phase")
    assert animals.loc["test", "climbing_s"] == pytest.approx(2.0)
    assert bool(animals.loc["test", "review"])
    assert animals.loc["test", "review_reason"].startswith(
        "2.0 s with the centre point on an object (climbing or sitting on it) removed")
    kept = nor_collect(paths, params.model_copy(update={"exclude_climbing": False}))
    k = kept["exploration"].set_index(["phase", "object"])
    assert k.loc[("test", "object left"), "time_s"] == pytest.approx(6.0)
    assert k.loc[("test", "object left"), "climbing_s"] == 0


def test_nor_review_flag_in_notes_and_conventions(tmp_path, make_study):
    from neurotox.assays.rodent.nor import analyse as nor_analyse

    train = nor_samples("1" * 30 + "0" * 30, "0" * 60, "0" * 30 + "1" * 30)
    test = nor_samples("1" * 40 + "0" * 20, "0" * 10 + "1" * 30 + "0" * 20, "0" * 40 + "1" * 20)
    study = make_study([("R1", "C", "M")], groups=("C",))
    paths = [_write(study.folder, "t1.csv", train), _write(study.folder, "t2.csv", test)]
    params = NorParameters(exploration_point="head", novel_default="L",
                           file_subjects={"t1.csv": "R1", "t2.csv": "R1"})
    res = nor_analyse(study, paths, params)
    animals = res.details["nor_animals"].set_index("phase")
    assert animals.loc["test", "climbing_s"] == pytest.approx(15.0)
    assert animals.loc["test", "time_a_s"] == pytest.approx(5.0)
    assert any(n.startswith("review: subject R1, test phase: 15.0 s with the centre point")
               for n in res.notes)
    assert any("exclude_climbing: true" in c and "max_climbing_s" in c for c in res.conventions)
    assert not animals.loc["training", "review"]


# ------------------------------------------------------------------ identity from the file

def ethovision(subject_row: str) -> str:
    """A small EthoVision XT text export (header block, names, units, 4 samples)."""
    header = ['"Experiment";"NOR"', '"Trial name";"Trial     7"', '"Start time";"10/3/2025 '
              '10:00:00.000"', *([subject_row] if subject_row else [])]
    names = ('"Trial time";"In zone(object left / Nose-point)";"In zone(object left / '
             'Center-point)";"In zone(object right / Nose-point)"')
    n = len(header) + 3
    rows = [f'"Number of header lines:";"{n}"', *header, names, '"s";"";"";""']
    rows += [f'"{t * 0.5:.3f}";"{a}";"0";"{b}"' for t, (a, b) in enumerate(
        [(1, 0), (1, 0), (0, 1), (0, 0)])]
    return "\n".join(rows) + "\n"


@pytest.mark.parametrize("row, given, subject, said", [
    ('"mouse ID";"ID7701"', None, "ID7701", "subject 'ID7701' read from the file"),
    ("", None, "trial7", "subject 'trial7' taken from the file name"),
    ('"mouse ID";"ID7701"', "M1", "M1", "subject 'M1' given by the protocol's file_subjects "
                                       "(the file says 'ID7701')")])
def test_ethovision_subject_from_header_then_name_then_override(tmp_path, row, given, subject,
                                                               said):
    path = _write(tmp_path, "trial7.txt", ethovision(row))
    data = read_rodent(path, **({"subject": given} if given else {}))
    assert data.fmt == "ethovision-raw"
    assert (data.meta["subject"], data.meta["trial"]) == (subject, "Trial 7")
    assert any(said in n for n in data.notes), data.notes
    assert data.table["nose:object left"].tolist() == [1, 1, 0, 0]


@pytest.mark.parametrize("name, model", [
    ("nor-standard", NorParameters), ("tmaze-spontaneous", TmazeParameters),
    ("tmaze-rewarded", TmazeParameters), ("ymaze-novel-arm", TmazeParameters)])
def test_protocol_defaults_are_the_same_from_a_template_or_from_scratch(name, model):
    """Every rule a rodent template sets equals the model's default, except the mode."""
    from neurotox.protocols import load_protocol

    scratch = model().model_dump()
    differ = {k: (v, scratch[k]) for k, v in load_protocol(name).parameters.items()
              if scratch[k] != v and k not in ("mode", "paradigm")}
    assert differ == {}


def test_misspelt_override_suggests_the_parameter():
    from neurotox.assays.base import resolve_parameters

    with pytest.raises(InputError, match=r"key 'parameters.rentries': unknown key \(did you "
                                         r"mean 'reentries'\?\)"):
        resolve_parameters("tmaze-spontaneous", {"rentries": "collapsed"}, source="--param")


def test_text_ids_with_float_noise_are_matched_by_value(tmp_path, make_study):
    path = _write(tmp_path, "s.csv", "Subject,Arm entries\n10.119999999999999,ABCABCAB\n"
                                     "10.01,ACBACBAC\n")
    data = read_rodent(path)
    assert data.meta["numeric_subjects"] == ["10.119999999999999"]
    study = make_study([("10.12", "C", "M"), ("10.01", "C", "M")])
    res = analyse(study, [path], TmazeParameters())
    assert sorted(res.endpoints["subject"].unique()) == ["10.01", "10.12"]


def test_nor_from_centre_zones_only_cannot_tell_climbing(tmp_path):
    train = nor_samples("0000000011111111", "0000000000001111", "1111110000000000")
    path = _write(tmp_path, "t1.csv", train)
    params = NorParameters(exploration_point="centre", file_subjects={"t1.csv": "R1"})
    explo = nor_collect([path], params)["exploration"].set_index("object")
    # 'In object left' (centre) in samples 12-15: 2 s, none removed, climbing unknown
    assert explo.loc["object left", "time_s"] == pytest.approx(2.0)
    assert np.isnan(explo.loc["object left", "climbing_s"])


def _book(path, sheets):
    import openpyxl

    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for name, rows in sheets:
        ws = wb.create_sheet(name)
        for row in rows:
            ws.append(row)
    wb.save(path)
    return path


# A sheet per group, as the RICAP Y-maze sheet kept by group: the same banner and header
# on each sheet (the second one without the banner), no group column
_HEAD = ["Subject #", "Date of Behavior", "Arm entries", "Initials", "Notes"]
_CONTROL = [["Y maze scoring"], ["Scoring: SK"], [], _HEAD,
            ["R1", "2023-01-04", "A \u2192 B \u2192 C \u2192 A \u2192 C \u2192 B \u2192 "
             "B \u2192 A \u2192 C", "SK", None]]
_TREATED = [_HEAD, ["R2", "2023-01-04", "A\u2192B\u2192C\u2192A\u2192B\u2192A\u2192C"
                    "\u2192C\u2192B", "SK", None], ["R3", "2023-01-05", "ABCABCABC", "SK", None]]


@pytest.mark.parametrize(("groups", "said"), [
    (("Control", "Treated"), None),
    (("G1", "G2"), "sheet name(s) 'Control', 'Treated' are not group IDs or labels of the "
                   "study: the groups come from the subjects file"),
])
def test_a_sheet_per_group_is_read_whole(tmp_path, make_study, groups, said):
    """stranger40: the advice given then (rename a header) read the Control sheet only."""
    path = _book(tmp_path / "ym.xlsx", [("Control", _CONTROL), ("Treated", _TREATED)])
    data = read_rodent(path)
    animals = data.meta["animals"].set_index("subject")
    assert animals["group"].to_dict() == {"R1": "Control", "R2": "Treated", "R3": "Treated"}
    assert animals.loc["R2", "source"] == "ym.xlsx:sheet 'Treated' row 2, column 'Arm entries'"
    assert ("ym.xlsx: sheets 'Control', 'Treated' each hold a subject and an arm-sequence "
            "column, all read; each animal's group is its sheet's name (no group column)") \
        in data.notes
    study = make_study([("R1", groups[0], "M"), ("R2", groups[1], "M"), ("R3", groups[1], "M")],
                       groups=groups)
    res = analyse(study, [path], TmazeParameters())
    per = res.details["tmaze_animals"].set_index("subject")
    # R1 ABCACBBAC: 4 of 7, one double; R2 ABCABACCB: 4 of 7, one double; R3: 7 of 7
    assert per[["entries", "alternations", "reentries"]].to_dict("index") == {
        "R1": {"entries": 9, "alternations": 4, "reentries": 1},
        "R2": {"entries": 9, "alternations": 4, "reentries": 1},
        "R3": {"entries": 9, "alternations": 7, "reentries": 0}}
    assert (said in res.notes) if said else not any("sheet name(s)" in n for n in res.notes)


def test_a_sheet_named_for_another_group_is_an_error(tmp_path, make_study):
    path = _book(tmp_path / "ym.xlsx", [("Control", _CONTROL), ("Treated", _TREATED)])
    study = make_study([("R1", "Control", "M"), ("R2", "Control", "M"), ("R3", "Treated", "M")],
                       groups=("Control", "Treated"))
    with pytest.raises(InputError, match=re.escape(
            "ym.xlsx, sheet 'Treated' row 2: subject 'R2': the sheet gives group 'Treated', "
            "the subjects file says 'Control' (Control)")):
        analyse(study, [path], TmazeParameters())


def test_sheets_per_group_with_other_columns_and_a_summary_sheet(tmp_path):
    """One sheet with a Group column the other lacks; a summary and a hidden sheet left alone."""
    import openpyxl

    treated = [[*_TREATED[0], "Group"]] + [[*r, "T"] for r in _TREATED[1:]]
    path = _book(tmp_path / "ym.xlsx", [("Control", _CONTROL), ("Treated", treated),
                                       ("Summary", [["group", "n", "mean"], ["C", 1, 50]]),
                                       ("Old", [_HEAD, ["R9", "x", "ABC", "SK", None]])])
    wb = openpyxl.load_workbook(path)
    wb["Old"].sheet_state = "hidden"
    wb.save(path)
    animals = read_rodent(path).meta["animals"].set_index("subject")
    assert animals["group"].to_dict() == {"R1": "Control", "R2": "T", "R3": "T"}
    seq = read_rodent(path).table.groupby("subject")["arm"].apply("".join).to_dict()
    assert seq == {"R1": "ABCACBBAC", "R2": "ABCABACCB", "R3": "ABCABCABC"}


def test_zone_samples_ending_before_trial_s_are_excluded_with_a_warning(tmp_path):
    # 15 samples of 0.25 s: the recording ends at 3.75 s
    path = _write(tmp_path, "m7.csv", anymaze("TTXLLXRRXTTXLLX"))
    arms = {"top": "T", "left": "L", "right": "R"}
    full = collect([path], TmazeParameters(min_entries=3, zone_arms=arms, trial_s=3.75))
    assert full["tracking"].empty and not any("trial_s" in n for n in full["notes"])
    cut = collect([path], TmazeParameters(min_entries=3, zone_arms=arms, trial_s=10))
    reason = "recording ends at 3.75 s, before the 10-s trial (trial_s)"
    assert f"warning: m7.csv: {reason}; subject m7 excluded" in cut["notes"]
    assert cut["tracking"].to_dict("records") == [
        {"subject": "m7", "condition": "NA", "reason": reason}]
    per = lost_tracking(alternation_table(cut["entries"], TmazeParameters(min_entries=3)),
                        cut["tracking"]).iloc[0]
    assert per["excluded"] and per["exclusion_reason"] == reason


@pytest.mark.parametrize("column", ["Animal", "Test"])
def test_anymaze_second_animal_or_test_in_one_file_names_its_first_row(tmp_path, column):
    # stranger52 am/y01, y03: two trials exported into one file, the clock starting again
    first = anymaze("TTXLL", extra=",1").splitlines()
    second = anymaze("RRXTT", extra=",2").splitlines()[1:]
    text = "\n".join([first[0].replace(",Animal", f",{column}"), *first[1:], *second]) + "\n"
    path = _write(tmp_path, "two.csv", text)
    what = column.lower()
    with pytest.raises(FormatError) as err:
        read_rodent(path)
    assert str(err.value) == (
        f"{path}, row 7, column '{column}': a second {what} ('2', after '1') starts here; "
        f"expected one value in column '{column}' (one test per file), found '1', '2': split "
        f"the file by {what}")
