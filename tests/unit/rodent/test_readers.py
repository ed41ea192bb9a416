"""Readers: detection through the registry, tidy output, validation messages."""

from __future__ import annotations

import re

import h5py
import numpy as np
import openpyxl
import pandas as pd
import pytest

from neurotox.errors import FormatError, InputError
from neurotox.io.rodent import detect, read_rodent, side_of

SIMBA = """VIDEO,CLASSIFIER,MEASUREMENT,VALUE
Exp_NOR_P1_rat01,Left,Event count,3
Exp_NOR_P1_rat01,Left,Total event duration (s),12.5
Exp_NOR_P1_rat01,Right,Event count,2
Exp_NOR_P1_rat01,Right,Total event duration (s),7.5
Exp_NOR_P2_rat01,Left,Total event duration (s),4
Exp_NOR_P2_rat01,Right,Total event duration (s),16
Exp_OLT_P2_rat01,Left,Total event duration (s),1
Exp_OLT_P2_rat01,Right,Total event duration (s),1
"""


def write(tmp_path, name, text):
    p = tmp_path / name
    p.write_text(text)
    return p


def test_simba_aggregates_map_videos_to_subject_and_phase(tmp_path):
    d = read_rodent(write(tmp_path, "agg.csv", SIMBA), video_include="NOR")
    assert d.kind == "exploration" and d.fmt == "simba-aggregates"
    t = d.table.set_index(["phase", "object"])
    assert t.loc[("training", "Left"), "time_s"] == 12.5
    assert t.loc[("training", "Left"), "bouts"] == 3
    assert t.loc[("test", "Right"), "time_s"] == 16
    assert len(d.table) == 4
    assert "1 video(s) skipped" in d.notes[0]


def test_simba_bad_value_names_row(tmp_path):
    p = write(tmp_path, "agg.csv", SIMBA.replace("12.5", "twelve"))
    with pytest.raises(FormatError, match=r"row 3, column 'VALUE': expected a finite number >= 0, "
                                          r"found 'twelve'"):
        read_rodent(p)


def test_key_and_exclusion_list(tmp_path):
    key = read_rodent(write(tmp_path, "key.csv", "RatID,NovelSide,Sex\nrat01,R,M\n"))
    assert key.kind == "key" and key.table.iloc[0][["subject", "novel"]].tolist() == ["rat01", "R"]
    flags = read_rodent(write(tmp_path, "ex.csv", "VIDEO,REASON\nExp_NOR_P2_rat01,Object toppled\n"
                                                  "Exp_OpenField_rat02,late\n"))
    assert flags.table[["subject", "phase", "reason"]].values.tolist() == [
        ["rat01", "test", "Object toppled"]]


@pytest.mark.parametrize("suffix", ["csv", "xlsx"])
def test_scoring_sheet(tmp_path, suffix):
    df = pd.DataFrame({"animal": ["a1", "a1", "a2"], "phase": ["T1", "T2", "T2"],
                       "left (s)": ["10", "6", "3"], "right (s)": ["12", "14", "-"],
                       "novel_side": ["R", "R", "L"], "latency_novel": ["", "2.5", "9"],
                       "flag": ["", "", "light failure"]})
    p = tmp_path / f"sheet.{suffix}"
    df.to_csv(p, index=False) if suffix == "csv" else df.to_excel(p, index=False)
    d = read_rodent(p)
    assert d.fmt == "nor-scoring-sheet"
    t = d.table.set_index(["subject", "phase", "object"])
    assert t.loc[("a1", "test", "right"), "time_s"] == 14
    assert t.loc[("a1", "test", "right"), "latency_s"] == 2.5
    assert np.isnan(t.loc[("a1", "test", "left"), "latency_s"])
    assert np.isnan(t.loc[("a2", "test", "right"), "time_s"])
    assert d.meta["flags"]["reason"].tolist() == ["light failure"]
    assert d.meta["key"]["novel"].tolist() == ["R", "L"]


def test_scoring_sheet_bad_phase(tmp_path):
    p = write(tmp_path, "s.csv", "subject,phase,left,right\na,day3,1,2\n")
    with pytest.raises(FormatError, match=r"row 2, column 'phase': phase 'day3' is not training"):
        read_rodent(p)


# hand-scored NOR sheets as labs head them (stranger40 S1, S2): 2 animals, known times
NOR_ROWS = ["1,Training,16.7,24.2", "1,Test,7.7,28.7", "2,Training,20.8,17.1",
            "2,Test,12.6,24.5"]


@pytest.mark.parametrize("header", [
    "subject,Phase,left,right", "subject,PHASE,left,right", "Animal ID,phase,left,right",
    "Rat,Session,left,right", "Subject #,Stage,Left object,Right object",
    "Subject,Trial,Left object (s),Right object (s)"])
def test_scoring_sheet_headers_as_labs_write_them(tmp_path, header):
    p = write(tmp_path, "s.csv", "\n".join([header, *NOR_ROWS]) + "\n")
    d = read_rodent(p)
    assert d.fmt == "nor-scoring-sheet"
    t = d.table.assign(object=d.table["object"].str.lower()).set_index(
        ["subject", "phase", "object"])["time_s"]     # objects keep the header's case
    assert t.to_dict() == {
        ("1", "training", "left"): 16.7, ("1", "training", "right"): 24.2,
        ("1", "test", "left"): 7.7, ("1", "test", "right"): 28.7,
        ("2", "training", "left"): 20.8, ("2", "training", "right"): 17.1,
        ("2", "test", "left"): 12.6, ("2", "test", "right"): 24.5}


def test_scoring_sheet_with_a_novel_side_column_is_not_a_key(tmp_path):
    p = write(tmp_path, "s.csv", "Subject,Stage,Left (s),Right (s),Novel side\n"
                                 "1,Training,16.7,24.2,R\n1,Test,7.7,28.7,R\n")
    d = read_rodent(p)
    assert d.fmt == "nor-scoring-sheet"
    assert d.meta["key"][["subject", "novel"]].values.tolist() == [["1", "R"]]
    assert read_rodent(write(tmp_path, "k.csv", "Subject,Novel side\n1,R\n")).fmt == \
        "novel-object-key"


def test_scoring_sheet_without_a_phase_or_subject_column_names_it(tmp_path):
    p = write(tmp_path, "s.csv", "Subject,Left,Right\n1,16.7,24.2\n")
    with pytest.raises(FormatError, match=re.escape(
            "s.csv: expected a column named one of 'phase', 'session', 'stage', 'trial', "
            "found 'Left', 'Right', 'Subject'")):
        read_rodent(p)
    p = write(tmp_path, "t.csv", "Bob,Phase,Left,Right\n1,Training,16.7,24.2\n")
    with pytest.raises(FormatError, match=r"t\.csv: expected a column named one of 'animal', "
                       r"'animal_id', .*'subject', 'subject_id', 'subject_no', found 'Bob', "
                       r"'Left', 'Phase', 'Right'"):
        read_rodent(p)
    p = write(tmp_path, "u.csv", "subject,Phase,left,right\n1,Day 3,1,2\n")
    with pytest.raises(FormatError, match=r"row 2, column 'Phase': phase 'Day 3' is not "
                       r"training or test .*map it with --param \"phase_map=\{Day 3: "):
        read_rodent(p)


def test_anymaze_results(tmp_path):
    p = write(tmp_path, "am.csv",
              "Test,Animal,Stage,Left object : time investigating,Left object : latency to first "
              "investigation,Right object : time investigating\n"
              "1,m1,Sample,5.5,3,6.5\n2,m1,Test,4,10,12\n")
    d = read_rodent(p)
    assert d.fmt == "anymaze-results"
    t = d.table.set_index(["phase", "object"])
    assert t.loc[("test", "Left object"), "latency_s"] == 10
    assert t.loc[("test", "Right object"), "time_s"] == 12


def test_anymaze_results_time_unit_in_the_header(tmp_path):
    # ANY-maze writes the unit it was set to: ms and min are converted (and noted)
    p = write(tmp_path, "am.csv",
              "Test,Animal,Stage,Left object : time (ms),Right object : time [min],"
              "Left object : latency (ms)\n1,m1,Sample,5500,0.1,3000\n2,m1,Test,4000,0.2,250\n")
    d = read_rodent(p)
    t = d.table.set_index(["phase", "object"])
    assert t.loc[("training", "Left object"), "time_s"] == pytest.approx(5.5)
    assert t.loc[("test", "Right object"), "time_s"] == pytest.approx(12.0)
    assert t.loc[("test", "Left object"), "latency_s"] == pytest.approx(0.25)
    assert "times converted to s" in d.notes[0] and "(min)" in d.notes[0]


@pytest.mark.parametrize(("header", "row", "message"), [
    # ms without a unit in the header: 16900 "s" of exploration in one trial
    ("Left object : time,Right object : time", "1,m1,Test,15500,16900",
     "row 2, column 'Left object : time': 15500 s of exploration of one object"),
    ("Left object : time (frames),Right object : time", "1,m1,Test,155,169",
     "column 'Left object : time (frames)': unknown time unit 'frames'"),
])
def test_anymaze_results_time_units_refused(tmp_path, header, row, message):
    p = write(tmp_path, "am.csv", f"Test,Animal,Stage,{header}\n{row}\n")
    with pytest.raises(FormatError, match=re.escape(message)):
        read_rodent(p)


def test_anymaze_results_one_row_per_animal_and_phase(tmp_path):
    # 'Habituation' is a training alias: beside a Training row it is a second training row
    p = write(tmp_path, "am.csv", "Test,Animal,Stage,Left object : time,Right object : time\n"
                                  "0,m1,Habituation,50,50\n1,m1,Training,15.5,16.9\n"
                                  "2,m1,Test,19.3,16.9\n")
    with pytest.raises(FormatError, match=re.escape(
            "row 3, column 'Stage': animal 'm1' has a second training row (Stage 'Training'; "
            "the first is row 2, 'Habituation'): leave one stage out with --param "
            "\"phase_map={Habituation: ignore}\"")):
        read_rodent(p)


# An ANY-maze NOR experiment as labs export it: Habituation (no objects), Training, Test,
# times as h:mm:ss.s clocks (Excel time cells arrive as 00:00:16.700000)
HABIT = ("Test,Animal,Stage,Left object : time,Right object : time\n"
         "1,m1,Habituation,,\n2,m1,Training,0:00:16.7,0:00:24.2\n3,m1,Test,0:00:07.7,00:00:28.700000\n"
         "4,m2,Habituation,,\n5,m2,Training,20.8,0:00:17.1\n6,m2,Test,0:01:02.5,24.5\n")


def test_anymaze_results_clock_times_and_an_ignored_stage(tmp_path):
    d = read_rodent(write(tmp_path, "am.csv", HABIT), phase_map={"habituation": "ignore"})
    t = d.table.set_index(["subject", "phase", "object"])["time_s"]
    assert len(t) == 8      # habituation rows left out
    assert t[("m1", "training", "Left object")] == pytest.approx(16.7)
    assert t[("m1", "test", "Right object")] == pytest.approx(28.7)
    assert t[("m2", "test", "Left object")] == pytest.approx(62.5)    # 0:01:02.5
    assert t[("m2", "training", "Left object")] == pytest.approx(20.8)  # plain seconds beside
    assert "2 row(s) with Stage 'Habituation' left out (phase_map: ignore), rows 2, 5" \
        in " ".join(d.notes)
    assert any("times written as clocks" in n for n in d.notes)


@pytest.mark.parametrize(("text", "phase_map", "message"), [
    (HABIT.replace("Test\n", "Test 24h\n").replace(",Test,", ",Test 24h,"),
     {"Habituation": "ignore"},
     "row 4, column 'Stage': Stage 'Test 24h' is not training or test; map it with --param "
     "\"phase_map={Test 24h: test}\" (or training; ignore leaves the stage out)"),
    (HABIT.replace("Habituation", "Test 1h"), {"test 1h": "test"},
     "row 4, column 'Stage': animal 'm1' has a second test row (Stage 'Test'; the first is row "
     "2, 'Test 1h'): leave one stage out with --param \"phase_map={Test 1h: ignore}\"; two "
     "tests (e.g. two delays) are analysed together, each its own timepoint, when phase_map "
     "names both: --param \"phase_map={Test 1h: test, Test: test}\""),
])
def test_anymaze_results_stage_messages_name_phase_map(tmp_path, text, phase_map, message):
    with pytest.raises(FormatError, match=re.escape(message)):
        read_rodent(write(tmp_path, "am.csv", text), phase_map=phase_map)


def test_two_tests_one_run_each(tmp_path):
    text = HABIT.replace("Habituation,,", "Test 1h,10,30")
    p = write(tmp_path, "am.csv", text)
    one = read_rodent(p, phase_map={"Test 1h": "test", "Test": "ignore"}).table
    day = read_rodent(p, phase_map={"Test 1h": "ignore"}).table
    assert one[one["phase"] == "test"]["time_s"].tolist() == [10, 30, 10, 30]
    assert day[day["phase"] == "test"]["time_s"].tolist() == pytest.approx([7.7, 28.7, 62.5, 24.5])


def test_trials_table_conditions(tmp_path):
    p = write(tmp_path, "t.csv", "mouse,date,injection,block,trialNo,sample,choice\n"
                                 "m1,d1,nan,1,1,L,R\nm1,d2,CNO,1,1,R,-\n")
    d = read_rodent(p)
    assert d.kind == "trials"
    assert d.table["condition"].tolist() == ["NA", "CNO"]
    assert d.table["choice"].tolist() == ["R", "NA"]
    assert d.table["session"].tolist() == ["d1/1", "d2/1"]


TRIAL_ROWS = "m1,d1,Saline,1,1,L,R\nm1,d1,Saline,1,2,R,R\nm2,d1,CNO,1,1,L,-\n"


@pytest.mark.parametrize("head,first_row", [
    ("mouse,date,injection,block,trialNo,sample,choice\n", 2),
    # renamed headers, as another lab writes them
    ("Animal,date,Condition,block,Trial,Sample arm,Choice arm\n", 2),
    # a title block above the header
    ("T-maze rewarded alternation,,,,,,\nScorer: KA,,,,,,\n,,,,,,\n"
     "mouse,date,injection,block,trialNo,sample,choice\n", 5),
])
def test_trial_table_with_renamed_headers_or_title_rows(tmp_path, head, first_row):
    d = read_rodent(write(tmp_path, "t.csv", head + TRIAL_ROWS))
    assert d.fmt == "tmaze-trials"
    assert d.table[["subject", "condition", "trial", "sample", "choice"]].values.tolist() == [
        ["m1", "Saline", "1", "L", "R"], ["m1", "Saline", "2", "R", "R"],
        ["m2", "CNO", "1", "L", "NA"]]
    assert d.table["source"].tolist() == [f"t.csv:row {first_row + k}" for k in range(3)]


def test_trial_table_without_a_choice_column_names_what_it_lacks(tmp_path):
    p = write(tmp_path, "t.csv", "mouse,trial,Sample arm,Chosen\n" + "m1,1,L,R\n")
    with pytest.raises(FormatError) as err:
        detect(p)
    assert str(err.value) == (
        f"{p}: not a recognised rodent-cognition file: a T-maze trial table needs a choice "
        "column named one of 'choice', 'choice_arm'; found 'Chosen', 'Sample arm', 'mouse', "
        "'trial'")


def test_unrecognised_file_names_its_first_row(tmp_path):
    p = write(tmp_path, "x.csv", "weight,length\n1,2\n")
    with pytest.raises(FormatError, match=r"expected one of .*; found a first row of "
                                          r"'length', 'weight'$"):
        detect(p)


def test_simba_entry_sequence(tmp_path):
    p = write(tmp_path, "mouse7.csv", ",ARM_ENTRY_SEQUENCE,ENTRY FRAME,EXIT FRAME,ENTER TIME (s),"
                                      "EXIT TIME (s)\n0,B,5,20,0.1,0.6\n1,C,30,40,1.0,1.3\n")
    d = read_rodent(p)
    assert d.kind == "entries"
    assert d.table[["subject", "arm", "order"]].values.tolist() == [["mouse7", "B", 1],
                                                                   ["mouse7", "C", 2]]
    assert d.table["enter_s"].tolist() == [0.1, 1.0]


def test_zoneinfo(tmp_path):
    p = write(tmp_path, "maze_zoneinfo.csv", "arm.a;arm.b\nc1;c4\nc2;c5\nc3;c6\n")
    d = read_rodent(p)
    assert d.meta["zones"] == {"arm.a": ["c1", "c2", "c3"], "arm.b": ["c4", "c5", "c6"]}


def _ethovision_rows():
    head = [("Number of header lines:", "9"), ("Experiment", "E"), ("Trial name", "Trial     2"),
            ("Start time", "10/03/2025 10:23:37.780"), ("User-defined Independent Variable",),
            ("mouse ID", "M1"), (" ",)]
    cols = ("Trial time", "X center", "In zone(obj left / Center-point)",
            "In zone(obj left / Nose-point)", "In zone(obj right / Nose-point)")
    units = ("s", "cm", "", "", "")
    data = [(0.5 + 0.1 * i, "-" if i == 3 else 1.0, int(i in (6, 7)), int(2 <= i <= 7),
             int(i == 9)) for i in range(10)]
    return head + [cols, units] + data


def test_ethovision_xlsx(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Track-Arena 1-Subject 1"
    for r in _ethovision_rows():
        ws.append(list(r))
    p = tmp_path / "Raw data-E-Trial     2.xlsx"
    wb.save(p)
    d = read_rodent(p)
    assert d.fmt == "ethovision-raw"
    assert d.meta["subject"] == "M1" and d.meta["trial"] == "Trial 2"
    assert d.meta["sample_interval_s"] == pytest.approx(0.1)
    assert d.table["nose:obj left"].sum() == 6
    assert d.table["center:obj left"].sum() == 2


def test_ethovision_bad_header_count(tmp_path):
    p = write(tmp_path, "ev.txt", '"Number of header lines:","x"\n')
    with pytest.raises(FormatError, match="followed by an integer"):
        read_rodent(p)


def _dlc_frame(multi: bool) -> pd.DataFrame:
    rng = np.random.default_rng(1)
    levels = [("DLC_s", "mouse1", bp, c) if multi else ("DLC_s", bp, c)
              for bp in ("nose", "tail") for c in ("x", "y", "likelihood")]
    names = ["scorer", "individuals", "bodyparts", "coords"] if multi else \
        ["scorer", "bodyparts", "coords"]
    values = rng.random((5, 6)) * 100
    values[:, [2, 5]] /= 100          # likelihoods in [0, 1]
    return pd.DataFrame(values, columns=pd.MultiIndex.from_tuples(levels, names=names))


@pytest.mark.parametrize("multi", [False, True])
def test_dlc_csv_and_h5_identical(tmp_path, multi):
    df = _dlc_frame(multi)
    df.to_csv(tmp_path / "v1DLC_x.csv")
    df.to_hdf(tmp_path / "v1DLC_x.h5", key="df_with_missing", mode="w")
    a, b = read_rodent(tmp_path / "v1DLC_x.csv"), read_rodent(tmp_path / "v1DLC_x.h5")
    assert (a.fmt, b.fmt) == ("deeplabcut-csv", "deeplabcut-h5")
    np.testing.assert_array_equal(a.poses.position, b.poses.position)
    np.testing.assert_array_equal(a.poses.confidence, b.poses.confidence)
    assert a.poses.keypoints == ["nose", "tail"]
    assert a.poses.individuals == (["mouse1"] if multi else ["single"])
    np.testing.assert_allclose(a.poses.point("tail")[:, 0], df.iloc[:, 3])


def test_sleap_analysis_h5(tmp_path):
    tracks = np.arange(2 * 2 * 3 * 4, dtype=float).reshape(2, 2, 3, 4)  # tracks,xy,nodes,frames
    with h5py.File(tmp_path / "v.analysis.h5", "w") as f:
        f["tracks"] = tracks
        f["node_names"] = [b"nose", b"ear", b"tail"]
        f["track_names"] = [b"a", b"b"]
        f["point_scores"] = np.ones((2, 3, 4))
    d = read_rodent(tmp_path / "v.analysis.h5")
    assert d.fmt == "sleap-analysis"
    assert d.poses.position.shape == (4, 2, 3, 2)
    assert d.poses.position[2, 1, 0, 1] == tracks[1, 1, 0, 2]
    assert d.poses.individuals == ["a", "b"]


def test_unknown_file_lists_expected_layouts(tmp_path):
    p = write(tmp_path, "x.csv", "a,b\n1,2\n")
    with pytest.raises(FormatError, match=r"not a recognised rodent-cognition file; expected one "
                                          r"of .*'DeepLabCut csv"):
        detect(p)


def test_missing_file():
    with pytest.raises(InputError, match="file not found"):
        detect("/nonexistent/x.csv")


@pytest.mark.parametrize("label,side", [("Left", "L"), ("round object right", "R"), ("R", "R"),
                                        ("object_left", "L"), ("leftover", None),
                                        ("object A", None)])
def test_side_of(label, side):
    assert side_of(label) == side


def test_ethovision_text_export(tmp_path):
    lines = [";".join(f'"{c}"' for c in r) for r in _ethovision_rows()]
    p = write(tmp_path, "Track-Trial 2.txt", "\n".join(lines) + "\n")
    d = read_rodent(p)
    assert d.fmt == "ethovision-raw" and d.meta["subject"] == "M1"
    assert d.table["nose:obj left"].sum() == 6
    assert d.table["nose:obj right"].tolist()[-1] == 1


SIMBA_ROI = """VIDEO,ANIMAL,BODY-PART,SHAPE,SHAPE TYPE,MEASUREMENT,VALUE
NOR_T2_m1,Animal_1,Nose,object_left,circle,FIRST ROI ENTRY TIME (S),12.5
NOR_T2_m1,Animal_1,Nose,object_left,circle,ROI ENTRIES (COUNTS),4.0
NOR_T2_m1,Animal_1,Nose,object_left,circle,TOTAL ROI TIME (S),9.25
NOR_T2_m1,Animal_1,Nose,object_right,circle,FIRST ROI ENTRY TIME (S),None
NOR_T2_m1,Animal_1,Nose,object_right,circle,ROI ENTRIES (COUNTS),0.0
NOR_T2_m1,Animal_1,Nose,object_right,circle,TOTAL ROI TIME (S),0.0
NOR_T2_m1,Animal_1,Nose,arena_centre,rectangle,TOTAL ROI TIME (S),100.0
"""


def test_simba_roi_aggregates(tmp_path):
    d = read_rodent(write(tmp_path, "ROI_descriptive statistics.csv", SIMBA_ROI))
    assert d.fmt == "simba-roi-aggregates"
    t = d.table.set_index("object")
    assert (t.loc["object_left", "time_s"], t.loc["object_left", "bouts"],
            t.loc["object_left", "latency_s"]) == (9.25, 4.0, 12.5)
    assert np.isnan(t.loc["object_right", "latency_s"])
    assert set(d.table["phase"]) == {"test"} and set(d.table["subject"]) == {"m1"}


def test_simba_roi_of_several_body_parts_reads_the_exploration_point(tmp_path):
    # SimBA writes one block per body part: the last one read used to win silently
    tail = "".join(line.replace(",Nose,", ",Tail_base,").replace("9.25", "31.0") + "\n"
                   for line in SIMBA_ROI.splitlines()[1:])
    path = write(tmp_path, "roi.csv", SIMBA_ROI + tail)
    d = read_rodent(path, body_part="nose")
    assert d.table.set_index("object").loc["object_left", "time_s"] == 9.25
    assert "ROI times of body part 'Nose' (exploration_point; the file also holds " \
           "'Tail_base')" in d.notes[0]
    assert read_rodent(path, body_part="tail_base").table.set_index("object").loc[
        "object_left", "time_s"] == 31.0
    with pytest.raises(FormatError, match=re.escape(
            "column 'BODY-PART': the ROI aggregates hold 2 body parts ('Nose', 'Tail_base') "
            "and none is the exploration point 'center'")):
        read_rodent(path, body_part="center")


def test_simba_roi_in_nor_keeps_object_zones(tmp_path):
    from neurotox.assays.rodent.nor import nor_animals
    from neurotox.assays.rodent.nor_inputs import collect
    from neurotox.assays.rodent.params import NorParameters

    roi = write(tmp_path, "roi.csv", SIMBA_ROI)
    key = write(tmp_path, "key.csv", "subject,novel_side\nm1,L\n")
    data = collect([roi, key], NorParameters())
    assert "arena_centre" in data["notes"][-1]
    a = nor_animals(data["exploration"], data["key"], data["flags"], NorParameters()).iloc[0]
    assert (a["time_a_s"], a["latency_a_s"], a["index"]) == (9.25, 12.5, 1.0)
    assert a["exclusion_reason"] == "total test exploration 9.250 s < 10 s"


def test_scoring_sheet_stage_left_out_by_phase_map(tmp_path):
    text = ("subject,phase,left,right\nm1,Habituation,3,4\nm1,Training,12,8\n"
            "m1,Test,15,5\n")
    p = write(tmp_path, "s.csv", text)
    with pytest.raises(FormatError, match=re.escape(
            "row 3, column 'subject': subject 'm1' has a second training row (phase "
            "'Training'; the first is row 2, 'Habituation'): leave one stage out with --param "
            "\"phase_map={Habituation: ignore}\"")):
        read_rodent(p)
    d = read_rodent(p, phase_map={"Habituation": "ignore"})
    t = d.table.set_index(["phase", "object"])["time_s"]
    assert t.to_dict() == {("training", "left"): 12, ("training", "right"): 8,
                           ("test", "left"): 15, ("test", "right"): 5}
    assert d.notes[0] == ("s.csv: 1 row(s) with phase 'Habituation' left out (phase_map: "
                          "ignore), rows 2")


@pytest.mark.parametrize(("label", "key"), [
    ("Test 24h", "Test 24h"), ("Sample (1)", "Sample (1)"), ("1", "'1'"), ("yes", "'yes'"),
    ("Day: 3", "'Day: 3'"), ("Rat's test", "'Rat''s test'")])
def test_phase_map_hint_keys_read_back_as_the_label(label, key):
    import yaml

    from neurotox.io.rodent.base import yaml_key

    assert yaml_key(label) == key
    assert yaml.safe_load(f"{{{key}: test}}") == {label: "test"}
