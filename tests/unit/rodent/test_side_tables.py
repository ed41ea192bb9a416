"""Side tables: a key given twice, rows naming a subject or video that matches nothing.

Synthetic files modelled on the real layouts (SimBA ``data_summary.csv``, a
``RatID,NovelSide`` key, ``VIDEO,REASON`` exclusion lists, a LIMS long table,
a ``video,object,x,y,radius`` layout), with hand-computed values.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from neurotox.assays.rodent.nor import analyse as nor_analyse
from neurotox.assays.rodent.nor_inputs import collect
from neurotox.assays.rodent.params import NorParameters, PoseSettings, TmazeParameters
from neurotox.assays.rodent.tmaze import novel_arm_table
from neurotox.errors import InputError, closest
from neurotox.io.rodent import read_rodent
from neurotox.sidetables import merge_repeats, unknown_names

RATS = [("rat01", "C", "M"), ("rat02", "C", "M"), ("rat03", "H", "F"), ("rat12", "H", "F")]

#: SimBA aggregates of 4 rats: training 10 s + 10 s, test left/right as below.
TEST_TIMES = {"rat01": (15.0, 5.0), "rat02": (13.708, 27.167), "rat03": (6.0, 6.0),
              "rat12": (12.0, 4.0)}


def simba_summary() -> str:
    rows = ["VIDEO,CLASSIFIER,MEASUREMENT,VALUE"]
    for rat, (left, right) in TEST_TIMES.items():
        for phase, times in (("P1", (10.0, 10.0)), ("P2", (left, right))):
            for clf, t in zip(("Left", "Right"), times, strict=True):
                rows += [f"Lab_NOR_{phase}_{rat},{clf},Total event duration (s),{t}",
                         f"Lab_NOR_{phase}_{rat},{clf},Event count,3"]
    return "\n".join(rows) + "\n"


KEY = "RatID,NovelSide,Sex\nrat01,L,M\nrat02,L,M\nrat03,R,F\nrat12,L,F\n"
EXCLUDE = "VIDEO,REASON\nLab_NOR_P2_rat03,Object toppled\nLab_OpenField_rat01,late\n"


def write(folder, name, text):
    path = folder / name
    path.write_text(text)
    return path


def nor_files(folder, summary=None, key=KEY, exclude=EXCLUDE):
    return [write(folder, "data_summary.csv", summary or simba_summary()),
            write(folder, "ratID_key.csv", key), write(folder, "videos_to_exclude.csv", exclude)]


def test_cases_read_as_planted(tmp_path, make_study):
    result = nor_analyse(make_study(RATS), nor_files(tmp_path), NorParameters())
    di = result.details["nor_animals"].query("phase == 'test'").set_index("subject")
    assert di.loc["rat02", "index"] == pytest.approx((13.708 - 27.167) / 40.875)
    assert di.loc["rat01", "index"] == pytest.approx(0.5)
    assert di.loc["rat03", "exclusion_reason"] == "technical flag: Object toppled"
    assert not [n for n in result.notes if n.startswith("warning: ")]


# ------------------------------------------------------------ the same key twice

def test_simba_measure_appended_with_another_value_is_refused(tmp_path, make_study):
    """A SimBA re-run appending rat02's test Left duration: neither row can be taken."""
    text = simba_summary() + "Lab_NOR_P2_rat02,Left,Total event duration (s),2.5\n"
    with pytest.raises(InputError, match=(
            r"data_summary.csv, row 34: video 'Lab_NOR_P2_rat02', classifier 'Left', "
            r"measurement 'Total event duration \(s\)': SimBA measurement given twice with "
            r"different values \(value 13.708 vs 2.5; the first at row 14\)")):
        nor_analyse(make_study(RATS), nor_files(tmp_path, text), NorParameters())


def test_simba_summary_appended_whole_is_merged_with_a_note(tmp_path, make_study):
    body = simba_summary()
    text = body + "".join(body.splitlines(keepends=True)[1:])
    result = nor_analyse(make_study(RATS), nor_files(tmp_path, text), NorParameters())
    di = result.details["nor_animals"].query("phase == 'test'").set_index("subject")
    assert di.loc["rat02", ["time_a_s", "time_b_s"]].tolist() == [13.708, 27.167]
    assert ("data_summary.csv: 32 SimBA measurement row(s) repeating an earlier row with the "
            "same values merged (first: row 34 repeats row 2;") in " ".join(result.notes)


@pytest.mark.parametrize(("second", "expected"), [
    ("rat02,R,M\n", r"ratID_key.csv, row 6: subject 'rat02': novel-object key given twice "
                    r"with different values \(novel 'L' vs 'R'; the first at row 3\)"),
    ("rat02,left,M\n", None),   # the same side: merged
])
def test_key_listing_an_animal_twice(tmp_path, make_study, second, expected):
    files = nor_files(tmp_path, key=KEY + second)
    if expected:
        with pytest.raises(InputError, match=expected):
            nor_analyse(make_study(RATS), files, NorParameters())
        return
    result = nor_analyse(make_study(RATS), files, NorParameters())
    di = result.details["nor_animals"].query("phase == 'test'").set_index("subject")
    assert di.loc["rat02", "object_a"] == "Left"    # DI keeps its sign
    assert di.loc["rat02", "index"] == pytest.approx(-0.329272, abs=1e-6)
    assert any("1 novel-object key row(s) repeating" in n for n in result.notes)


def test_key_in_a_scoring_sheet_and_a_key_file_that_disagree(tmp_path):
    sheet = write(tmp_path, "sheet.csv", "subject,phase,left,right,novel_side\n"
                                         "rat01,training,10,10,\nrat01,test,15,5,L\n")
    key = write(tmp_path, "key.csv", "subject,novel_side\nrat01,R\n")
    with pytest.raises(InputError, match=r"key.csv, row 2: subject 'rat01': novel-object key "
                                         r"given twice .*the first at sheet.csv, row 3\)"):
        collect([sheet, key], NorParameters())


def test_exclusion_row_repeated_is_one_exclusion(tmp_path, make_study):
    files = nor_files(tmp_path, exclude=EXCLUDE + "Lab_NOR_P2_rat03,Object toppled\n")
    result = nor_analyse(make_study(RATS), files, NorParameters())
    row = result.details["nor_animals"].query("phase == 'test' and subject == 'rat03'").iloc[0]
    assert row["exclusion_reason"] == "technical flag: Object toppled"


def lims(rows: list[tuple[str, str, float]]) -> str:
    lines = ["animal_name,sex,mean_experimental_age,parameter,data"]
    lines += [f"{a},Female,12.5,{p},{v}" for a, p, v in rows]
    return "\n".join(lines) + "\n"


#: Novel arm 20 + 20 s and familiar 14.4 + 14.4 s in the 2 test bins: ratio 40 / 68.8.
LIMS_ROWS = [("m/1", f"{zone} Duration/time:{b}/phase:Novel", t)
             for b in (1, 2) for zone, t in (("Novel arm", 20.0), ("Familiar arm", 14.4))]


def test_lims_export_appended_twice_is_not_summed(tmp_path):
    once = lims(LIMS_ROWS)
    path = write(tmp_path, "ymaze.csv", once + "".join(once.splitlines(keepends=True)[1:]))
    data = read_rodent(path)
    per = novel_arm_table(data.table, TmazeParameters(mode="novel_arm")).iloc[0]
    assert (per["novel_time_s"], per["familiar_time_s"]) == (40.0, 28.8)  # not 80, 57.6
    assert per["time_ratio"] == pytest.approx(40 / 68.8)
    assert ("ymaze.csv: 4 zone statistic row(s) repeating an earlier row with the same values "
            "merged (first: row 6 repeats row 2; subject 'm/1', timepoint 'age12.5wk', phase "
            "'novel', bin 1, zone 'novel arm', measure 'duration')") in data.notes


def test_lims_row_repeated_with_another_value_is_refused(tmp_path):
    path = write(tmp_path, "ymaze.csv",
                 lims([*LIMS_ROWS, ("m/1", "Novel arm Duration/time:1/phase:Novel", 5)]))
    with pytest.raises(InputError, match=(
            r"ymaze.csv, row 6: subject 'm/1', timepoint 'age12.5wk', phase 'novel', bin 1, "
            r"zone 'novel arm', measure 'duration': zone statistic given twice with different "
            r"values \(value 20 vs 5; the first at row 2\)")):
        read_rodent(path)


# ------------------------------------------------------------ names that match nothing

@pytest.mark.parametrize(("exclude", "expected"), [
    ("VIDEO,REASON\nLab_NOR_P2_rat2,Object toppled\n",
     r"videos_to_exclude.csv, row 2: technical exclusion for subject 'rat2': 'rat2' is not "
     r"in the study's subjects file subjects.csv \(did you mean 'rat02'\?\)"),
    ("subject,phase,reason\nrat01,test,ok\nrta03,test,Object toppled\n",
     r"videos_to_exclude.csv, row 3: technical exclusion for subject 'rta03': .* \(did you "
     r"mean 'rat03'\?\)"),
])
def test_exclusion_of_an_unknown_subject_is_refused(tmp_path, make_study, exclude, expected):
    with pytest.raises(InputError, match=expected):
        nor_analyse(make_study(RATS), nor_files(tmp_path, exclude=exclude), NorParameters())


def test_key_row_typo_of_an_unkeyed_animal_is_refused(tmp_path, make_study):
    key = KEY.replace("rat12,L,F", "rat21,L,F")
    with pytest.raises(InputError, match=r"ratID_key.csv, row 5: novel-object key entry for "
                                         r"subject 'rat21': .*\(did you mean 'rat12'\?\)"):
        nor_analyse(make_study(RATS), nor_files(tmp_path, key=key),
                    NorParameters(novel_default="left"))


def test_key_rows_of_another_cohort_are_a_note(tmp_path, make_study):
    """A lab's key of two cohorts (as the Dory key: rat01 ... and rat01F ...)."""
    files = nor_files(tmp_path, key=KEY + "rat01F,R,F\nrat02M,L,M\n")
    result = nor_analyse(make_study(RATS), files, NorParameters())
    assert ("2 novel-object key row(s) name subjects that are not in the study's "
            "subjects file (not used; another study's animals?): 'rat01F' (ratID_key.csv, "
            "row 6), 'rat02M' (ratID_key.csv, row 7)") in result.notes
    di = result.details["nor_animals"].query("phase == 'test'").set_index("subject")["index"]
    assert di["rat01"] == pytest.approx(0.5) and di["rat12"] == pytest.approx(0.5)


# ------------------------------------------------------------ object layouts

FPS, PX = 25.0, 10.0


def write_dlc(path, frames=50):
    """A mouse at rest sniffing a 3-cm object centred at (30, 50) cm from 1.5 cm away."""
    track = {"nose": (34.5, 50.0), "left_ear": (35.5, 50.0), "right_ear": (35.5, 50.0),
             "body_centre": (38.5, 50.0)}
    cols, data = [], []
    for name, (x, y) in track.items():
        for coord, value in (("x", x * PX), ("y", y * PX), ("likelihood", 1.0)):
            cols.append(("DLC_test", name, coord))
            data.append(np.full(frames, value))
    pd.DataFrame(np.array(data).T, columns=pd.MultiIndex.from_tuples(
        cols, names=["scorer", "bodyparts", "coords"])).to_csv(path)
    return path


def pose_params():
    far = ({"name": "left", "center": (80.0, 80.0), "radius": 3.0},
           {"name": "right", "center": (10.0, 10.0), "radius": 3.0})
    return NorParameters(pose=PoseSettings(px_per_cm=PX, fps=FPS, nose="nose",
                                           head=("left_ear", "right_ear"), body="body_centre",
                                           objects=far))


def layout(tmp_path, *videos):
    rows = ["video,object,x,y,radius"]
    for v in videos:
        rows += [f"{v},left,300,500,30", f"{v},right,800,500,30"]
    return write(tmp_path, "objects.csv", "\n".join(rows) + "\n")


def test_layout_applies_to_its_video(tmp_path):
    pose = write_dlc(tmp_path / "Lab_NOR_P2_m4673DLC_resnet50.csv")
    data = collect([pose, layout(tmp_path, "Lab_NOR_P2_m4673")], pose_params())
    times = data["exploration"].set_index("object")["time_s"]
    assert (times["left"], times["right"]) == (2.0, 0.0)   # 50 frames at 25 fps
    assert not [n for n in data["notes"] if n.startswith("warning: ")]


def test_layout_row_typo_of_a_video_is_refused(tmp_path):
    pose = write_dlc(tmp_path / "Lab_NOR_P2_m4673DLC_resnet50.csv")
    with pytest.raises(InputError, match=(
            r"objects.csv, row 2: object layout for video 'Lab_NOR_P2_m4637': "
            r"'Lab_NOR_P2_m4637' is not in the pose inputs \(did you mean "
            r"'Lab_NOR_P2_m4673'\?\)")):
        collect([pose, layout(tmp_path, "Lab_NOR_P2_m4637")], pose_params())


def test_layout_rows_of_other_videos_are_a_warning(tmp_path):
    pose = write_dlc(tmp_path / "Lab_NOR_P2_m4673DLC_resnet50.csv")
    data = collect([pose, layout(tmp_path, "Lab_NOR_P2_m4673", "Other_T1_x9")], pose_params())
    assert data["exploration"].set_index("object").loc["left", "time_s"] == 2.0
    assert ("2 object-layout row(s) name videos that are not among the pose inputs "
            "(not used): 'Other_T1_x9' (objects.csv, row 4), 'Other_T1_x9' (objects.csv, "
            "row 5)") in data["notes"]


def test_layout_object_given_twice_with_other_coordinates(tmp_path):
    path = layout(tmp_path, "v1")
    path.write_text(path.read_text() + "v1,left,310,500,30\n")
    with pytest.raises(InputError, match=r"objects.csv, row 4: video 'v1', object 'left': "
                                         r"object layout given twice with different values "
                                         r"\(x 300 vs 310; the first at row 2\)"):
        read_rodent(path)


# ------------------------------------------------------------ the helpers

def test_merge_repeats_keeps_first_and_refuses_conflicts():
    t = pd.DataFrame({"k": ["a", "b", "a"], "v": [1.0, 2.0, 1.0],
                      "source": ["f.csv:row 2", "f.csv:row 3", "f.csv:row 4"]})
    kept, notes = merge_repeats(t, ["k"], what="entry")
    assert kept["source"].tolist() == ["f.csv:row 2", "f.csv:row 3"]
    assert notes == ["f.csv: 1 entry row(s) repeating an earlier row with the same values "
                     "merged (first: row 4 repeats row 2; k 'a')"]
    t.loc[2, "v"] = 3.0
    with pytest.raises(InputError, match=r"^f.csv, row 4: k 'a': entry given twice with "
                                         r"different values \(v 1 vs 3; the first at row 2\)"):
        merge_repeats(t, ["k"], what="entry")


def test_unknown_names_strict_and_typo_rules():
    t = pd.DataFrame({"s": ["rat01", "ratX"], "source": ["f.csv:row 2", "f.csv:row 3"]})
    assert unknown_names(t, "s", {"rat01", "rat02"}, what="row", among="the study",
                         strict=False) == ["'ratX' (f.csv, row 3)"]
    with pytest.raises(InputError, match=r"f.csv, row 3: row for s 'ratX'"):
        unknown_names(t, "s", {"rat01"}, what="row", among="the study", strict=True)


def test_closest_reads_numbers_without_their_padding():
    assert closest("rat2", ["rat02", "rat32", "rat12"]) == "rat02"
    assert closest("rat2", ["rat32", "rat12"]) in {"rat32", "rat12"}   # spelling only


def test_lims_row_of_an_animal_not_in_the_study_names_file_and_row(tmp_path, make_study):
    from neurotox.assays.rodent.tmaze import analyse as tmaze_analyse

    rows = [*LIMS_ROWS, *[("m/9", p, v) for _, p, v in LIMS_ROWS]]
    path = write(tmp_path, "ymaze.csv", lims(rows))
    with pytest.raises(InputError, match=r"ymaze.csv, row 6: subject\(s\) 'm/9' in the T-maze "
                                         r"data are not in the study's subjects file"):
        tmaze_analyse(make_study([("m/1", "C", "F")]), [path],
                      TmazeParameters(mode="novel_arm"))
