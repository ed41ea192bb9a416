"""Rodent exports as labs save them: bins lost, impossible durations, values in ms.

Synthetic files modelled on the real layouts (the LIMS long table of a two-trial
Y-maze with 60-s bins; SimBA ``data_summary.csv`` with each video's length),
with hand-computed values.
"""

from __future__ import annotations

import numpy as np
import pytest

from neurotox.assays.rodent.novel_arm import gap_warning, novel_arm_table
from neurotox.assays.rodent.params import TmazeParameters
from neurotox.errors import FormatError, InputError
from neurotox.io.rodent import read_rodent

#: Per animal, (novel, familiar) arm time in test bins 1 and 2 (60-s bins, arena 60 s).
YMAZE = {"m/1": ((20.0, 14.4), (20.0, 14.4)), "m/2": ((10.0, 30.0), (30.0, 10.0))}
PARAMS = TmazeParameters(mode="novel_arm", bin_s=60)


def lims_rows(scale: float = 1.0) -> list[str]:
    rows = ["animal_name,sex,mean_experimental_age,parameter,data"]
    for animal, bins in YMAZE.items():
        for b, (novel, familiar) in enumerate(bins, start=1):
            for zone, t in (("Arena", 60.0), ("Novel arm", novel), ("Familiar arm", familiar)):
                rows += [f"{animal},Female,12.5,{zone} Duration/time:{b}/phase:Novel,{t * scale}",
                         f"{animal},Female,12.5,{zone} Frequency/time:{b}/phase:Novel,2"]
            rows.append(f"{animal},Female,12.5,Arena Duration/time:{b}/phase:Habituation,"
                        f"{60 * scale}")
    return rows


def write_lims(tmp_path, rows, name="ymaze.csv"):
    path = tmp_path / name
    path.write_text("\n".join(rows) + "\n")
    return path


def novel_row(rows, animal="m/1", b=2):
    return next(i for i, r in enumerate(rows)
                if r.startswith(f"{animal},") and f"Novel arm Duration/time:{b}/" in r)


def test_complete_bins_give_the_hand_computed_ratios(tmp_path):
    per = novel_arm_table(read_rodent(write_lims(tmp_path, lims_rows())).table, PARAMS)
    per = per.set_index("subject")
    assert per.loc["m/1", "time_ratio"] == pytest.approx(40 / 68.8)
    assert per.loc["m/2", "time_ratio"] == pytest.approx(0.5)
    assert not per["excluded"].any()


@pytest.mark.parametrize("how", ["missing", "blank"])
def test_a_lost_test_bin_excludes_the_animal_with_a_warning(tmp_path, how):
    rows = lims_rows()
    i = novel_row(rows)
    if how == "missing":
        del rows[i]
    else:
        rows[i] = rows[i].rsplit(",", 1)[0] + ","
    per = novel_arm_table(read_rodent(write_lims(tmp_path, rows)).table, PARAMS)
    per = per.set_index("subject")
    # bin 1 alone would give 20 / 48.8 = 0.41 instead of 40 / 68.8 = 0.58
    reason = ("test bins incomplete in ymaze.csv: bin 2 of 'novel arm' duration "
              "missing or blank")
    assert per.loc["m/1", "excluded"] and per.loc["m/1", "exclusion_reason"] == reason
    assert per.loc["m/1", ["time_ratio", "novel_time_s"]].isna().all()
    assert per.loc["m/2", "time_ratio"] == pytest.approx(0.5)   # the other animal is kept
    assert gap_warning(per.reset_index()) == [
        "warning: 1 animal session(s) excluded from the novel-arm ratios because a test bin "
        "is missing or blank (the other bins alone would give another ratio): m/1 at "
        f"age12.5wk: {reason}"]


def test_a_negative_bin_value_names_the_row(tmp_path):
    rows = lims_rows()
    i = novel_row(rows)
    rows[i] = rows[i].replace(",20.0", ",-20.0")
    with pytest.raises(FormatError, match=rf"ymaze.csv, row {i + 1}, column 'data': expected "
                                          r"a finite number >= 0, found '-20.0'"):
        read_rodent(write_lims(tmp_path, rows))


def test_a_duration_longer_than_its_bin_names_the_row(tmp_path):
    rows = lims_rows()
    i = novel_row(rows)
    rows[i] = rows[i].replace(",20.0", ",200.0")   # a typo x10
    bins = read_rodent(write_lims(tmp_path, rows)).table
    with pytest.raises(InputError, match=(
            rf"^ymaze.csv, row {i + 1}, column 'data': novel arm duration 200 s in bin 2 of "
            r"phase 'novel' of 'm/1' is longer than the 60-s bin \(bin_s\)$")):
        novel_arm_table(bins, PARAMS)
    assert len(novel_arm_table(bins, TmazeParameters(mode="novel_arm", bin_s=None))) == 2


def test_arm_durations_adding_up_to_more_than_the_bin_are_refused(tmp_path):
    # stranger56: each arm fit the 60-s bin but novel + familiar + start held ~75 s
    rows = lims_rows()
    i = novel_row(rows, "m/2", 1)             # m/2 bin 1: novel 10, familiar 30
    rows.insert(i, "m/2,Female,12.5,Start Arm Duration/time:1/phase:Novel,35.5")
    rows.append("m/1,Female,12.5,Center-point / Moving Duration/time:1/phase:Novel,60")
    bins = read_rodent(write_lims(tmp_path, rows)).table
    with pytest.raises(InputError) as err:
        novel_arm_table(bins, PARAMS)
    assert str(err.value) == (
        f"ymaze.csv, row {i + 1}, column 'data': the arm durations of bin 1 of phase 'novel' "
        "of 'm/2' add up to 75.5 s, longer than the 60-s bin (bin_s): familiar arm 30 s "
        f"(row {i + 4}), novel arm 10 s (row {i + 2}), start arm 35.5 s (row {i + 1}); an "
        "animal is in one arm at a time")
    # arms that fit the bin, with the arena and a centre-point zone overlapping them: no error
    rows[i] = rows[i].replace(",35.5", ",20")    # 10 + 30 + 20 = 60 s
    per = novel_arm_table(read_rodent(write_lims(tmp_path, rows)).table, PARAMS)
    assert per.set_index("subject").loc["m/2", "time_ratio"] == pytest.approx(0.5)
    assert len(novel_arm_table(bins, TmazeParameters(mode="novel_arm", bin_s=None))) == 2


def test_durations_in_ms_are_refused_with_the_unit_hint(tmp_path):
    bins = read_rodent(write_lims(tmp_path, lims_rows(scale=1000))).table
    with pytest.raises(InputError, match=(
            r"row 2, column 'data': arena duration 60000 s in bin 1 .* longer than the 60-s "
            r"bin \(bin_s\); 16 of 16 durations are longer and all fit the bin divided by "
            r"1000: is the table in ms\?")):
        novel_arm_table(bins, PARAMS)


# ------------------------------------------------------------ SimBA aggregates

#: Per rat, test-video (Left, Right) event durations in s; every video is 624.958 s long.
SIMBA = {"rat01": (13.25, 20.292), "rat02": (17.958, 36.25)}


def simba_rows(scale: float = 1.0, length: bool = True) -> list[str]:
    rows = ["VIDEO,CLASSIFIER,MEASUREMENT,VALUE"]
    for rat, times in SIMBA.items():
        for clf, t in zip(("Left", "Right"), times, strict=True):
            rows += [f"Lab_NOR_P2_{rat},{clf},Event count,8",
                     f"Lab_NOR_P2_{rat},{clf},Total event duration (s),{t * scale:g}"]
            rows += [f"Lab_NOR_P2_{rat},{clf},Video length (s),624.958"] if length else []
    return rows


def write_simba(tmp_path, rows):
    path = tmp_path / "data_summary.csv"
    path.write_text("\n".join(rows) + "\n")
    return path


def test_simba_durations_read_as_written(tmp_path):
    t = read_rodent(write_simba(tmp_path, simba_rows())).table.set_index(["subject", "object"])
    assert t.loc[("rat02", "Right"), "time_s"] == 36.25
    assert t.loc[("rat01", "Left"), "bouts"] == 8


@pytest.mark.parametrize(("line", "value", "expected"), [
    (6, "700", r"row 6, column 'VALUE': video 'Lab_NOR_P2_rat01', classifier 'Right': event "
               r"duration 700 s is longer than the video's 624.958 s \(its 'Video length \(s\)' "
               r"row\)$"),
    (6, "-20.292", r"row 6, column 'VALUE': expected a finite number >= 0, found '-20.292'$"),
    (5, "-3", r"row 5, column 'VALUE': expected a finite number >= 0, found '-3'$"),
])
def test_simba_impossible_value_names_the_file_row(tmp_path, line, value, expected):
    rows = simba_rows()
    rows[line - 1] = rows[line - 1].rsplit(",", 1)[0] + f",{value}"
    with pytest.raises(FormatError, match=rf"data_summary.csv, {expected}"):
        read_rodent(write_simba(tmp_path, rows))


def test_simba_durations_in_ms_under_the_s_label(tmp_path):
    with pytest.raises(FormatError, match=(
            r"row 3, column 'VALUE': .* event duration 13250 s is longer than the video's "
            r"624.958 s .*; 4 of 4 durations are longer than their video and all fit it divided "
            r"by 1000: durations in ms under the '\(s\)' label\?$")):
        read_rodent(write_simba(tmp_path, simba_rows(scale=1000)))


def test_simba_without_video_length_caps_at_an_hour(tmp_path):
    rows = simba_rows(length=False)
    rows[2] = rows[2].rsplit(",", 1)[0] + ",4000"
    with pytest.raises(FormatError, match=r"row 3, column 'VALUE': .* event duration 4000 s is "
                                          r"longer than 3600 s of exploration in one trial$"):
        read_rodent(write_simba(tmp_path, rows))


# ------------------------------------------------------------ long tables as labs save them

def xlsx(path, rows, title=()):
    """A workbook as Excel saves a csv: numbers as numbers, a title block above."""
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    for line in title:
        ws.append([line])
    for r in rows:
        ws.append([float(c) if c.replace(".", "").lstrip("-").isdigit() else c
                   for c in r.split(",")])
    if title:
        ws.merge_cells("A1:D1")
    wb.save(path)
    return path


def test_simba_workbook_with_a_title_block_reads_the_same(tmp_path):
    csv_t = read_rodent(write_simba(tmp_path, simba_rows())).table
    data = read_rodent(xlsx(tmp_path / "summary.xlsx", simba_rows(),
                            title=("SimBA aggregates", "")))
    assert data.fmt == "simba-aggregates"
    assert data.table.drop(columns="source").equals(csv_t.drop(columns="source"))
    assert "summary.xlsx: header in row 3 (2 title row(s) above it skipped)" in data.notes


def test_simba_columns_reordered_read_the_same(tmp_path):
    rows = [",".join(np.array(r.split(","))[[1, 0, 3, 2]]) for r in simba_rows()]
    got = read_rodent(write_simba(tmp_path, rows)).table
    assert got.set_index(["subject", "object"]).loc[("rat02", "Right"), "time_s"] == 36.25


def test_a_title_block_keeps_file_row_numbers_in_messages(tmp_path):
    rows = ["SimBA aggregates,,,", ",,,"] + simba_rows()
    rows[7] = rows[7].rsplit(",", 1)[0] + ",-20.292"   # line 8 of the file
    with pytest.raises(FormatError, match=r"row 8, column 'VALUE': expected a finite number"):
        read_rodent(write_simba(tmp_path, rows))


def test_ymaze_bins_workbook_gives_the_csv_ratios(tmp_path):
    bins = read_rodent(xlsx(tmp_path / "ymaze.xlsx", lims_rows(), title=("LIMS export",)))
    assert bins.fmt == "lims-zone-bins"
    per = novel_arm_table(bins.table, PARAMS).set_index("subject")
    assert per.loc["m/1", "time_ratio"] == pytest.approx(40 / 68.8)
    assert bins.table["source"].iloc[0] == "ymaze.xlsx:row 3"


def test_a_second_session_in_one_simba_file_names_both_videos(tmp_path):
    rows = simba_rows()
    rows += [r.replace("Lab_NOR_P2_", "Lab_NOR24h_P2_") for r in simba_rows()[1:]]
    path = write_simba(tmp_path, rows)
    with pytest.raises(FormatError, match=(
            r"data_summary.csv, row 14, column 'VIDEO': videos 'Lab_NOR_P2_rat01' and "
            r"'Lab_NOR24h_P2_rat01' both give subject 'rat01', test \(two sessions in one file\?\)"
            r": keep one with --param video_include=<pattern>")):
        read_rodent(path)
    kept = read_rodent(path, video_include="NOR_P").table
    assert len(kept) == 4 and set(kept["source"].str.split(":").str[1]) == {"Lab_NOR_P2_rat01",
                                                                          "Lab_NOR_P2_rat02"}
