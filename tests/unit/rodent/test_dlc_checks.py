"""DeepLabCut pose files as labs get them: frame index, tracking loss, cut files, several animals.

Fixtures are written like DeepLabCut writes them (header rows scorer / [individuals] /
bodyparts / coords, first column the frame index) from synthetic tracks of known truth.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from neurotox.assays.rodent.nor import analyse as nor_analyse
from neurotox.assays.rodent.nor_inputs import exploration_from_poses
from neurotox.assays.rodent.params import ArmSettings, TmazeParameters
from neurotox.assays.rodent.tmaze import analyse as tmaze_analyse
from neurotox.errors import FormatError, InputError
from neurotox.io.rodent import read_rodent

from .test_pose import FPS, PX, params, synthetic_track
from .test_tmaze_pose import FPS as TFPS
from .test_tmaze_pose import PX as TPX
from .test_tmaze_pose import ZONES
from .test_tmaze_pose import write_dlc as write_maze

NAME = "Exp_NOR_P2_rat01DLC_resnet50_test.csv"


def dlc_frame(*, score=None, index=None, individuals=None, shift=(0.0, 0.0)):
    """The NOR track of test_pose as a DeepLabCut table (pixels); ``individuals`` = names."""
    nose, head, body = synthetic_track()
    n = len(nose)
    score = np.ones(n) if score is None else score
    cols, data = [], []
    for k, ind in enumerate(individuals or [None]):
        for name, xy, s in (("nose", nose, score), ("left_ear", head, score),
                            ("right_ear", head, score), ("body_centre", body, np.ones(n))):
            for c in ("x", "y", "likelihood"):
                cols.append(("DLC_resnet50_test", *([ind] if ind else []), name, c))
                data.append(s if c == "likelihood" else   # empty cells: x, y empty too
                            (xy[:, "xy".index(c)] + k * shift["xy".index(c)]) * PX + 0 * s)
    names = ["scorer", *(["individuals"] if individuals else []), "bodyparts", "coords"]
    return pd.DataFrame(np.array(data).T, columns=pd.MultiIndex.from_tuples(cols, names=names),
                        index=np.arange(n) if index is None else index)


def write(tmp_path, df, name=NAME):
    path = tmp_path / name
    df.to_csv(path)
    return path


# ------------------------------------------------------------------ frame index (P1)

@pytest.mark.parametrize("index,message", [
    (np.r_[0, 1, 2, 2, np.arange(3, 349)], r"line 7: frame 2 repeated"),
    (np.r_[np.arange(0, 200), np.arange(100, 250)], r"line 204: frame 100 after frame 199"),
])
def test_frame_index_repeated_or_going_back_is_an_error(tmp_path, index, message):
    path = write(tmp_path, dlc_frame(index=index))
    with pytest.raises(FormatError, match=rf"{NAME}, {message}: the frame index must increase"):
        read_rodent(path)


def test_h5_frame_index_repeated_names_the_row(tmp_path):
    df = dlc_frame()
    df = pd.concat([df, df]).sort_index(kind="stable")   # every frame twice: 0, 0, 1, 1 ...
    path = tmp_path / NAME.replace(".csv", ".h5")
    df.to_hdf(path, key="df_with_missing", mode="w")
    with pytest.raises(FormatError, match=r"row 2 of the table: frame 0 repeated"):
        read_rodent(path)


def test_h5_block_written_twice_with_new_index_is_noted(tmp_path):
    one = dlc_frame()
    xy = one.columns.get_level_values("coords") != "likelihood"
    one.loc[:, xy] += np.random.default_rng(0).random((350, int(xy.sum())))  # real decimals
    assert read_rodent(write(tmp_path, one)).notes[0].endswith("(detected); read as text: "
                                                               "encoding utf-8, delimiter ','")
    df = pd.concat([one, one], ignore_index=True)   # 700 rows, index 0..699
    path = tmp_path / NAME.replace(".csv", ".h5")
    df.to_hdf(path, key="df_with_missing", mode="w")
    notes = read_rodent(path).notes
    assert any("350 of 700 rows repeat an earlier row in every value (the first, row 351 of "
               "the table, repeats row 1 of the table)" in n for n in notes)


def test_dropped_frames_noted_and_times_from_the_index(tmp_path):
    # frames 50-149 of the video dropped: 100 frames missing, every later frame keeps its time
    keep = np.r_[np.arange(0, 50), np.arange(150, 350)]
    df = dlc_frame().iloc[keep]
    df.index = keep
    path = write(tmp_path, df)
    data = read_rodent(path)
    assert data.poses.frames[49:51].tolist() == [49, 150]
    assert any(f"{NAME}: 100 frame(s) missing from the frame index (1 hole(s), the largest "
               "100 frames after frame 49)" in n for n in data.notes)
    rows, frames = exploration_from_poses(data, params())
    rows = rows.set_index("object")
    # exploring frames: 0-49 and 200-249 of the video (150-199 tangential/too far)
    assert rows.loc["object left", "time_s"] == pytest.approx(100 / FPS)
    b = frames[frames["object"] == "object right"]
    assert b["time_s"].iloc[50] == pytest.approx(150 / FPS)    # not row 50 / fps
    assert b["frame"].iloc[-1] == 349


# ------------------------------------------------------------------ cut file, likelihood (P3)

def test_cut_last_line_is_an_error(tmp_path):
    path = write(tmp_path, dlc_frame())
    lines = path.read_text().splitlines()
    path.write_text("\n".join(lines[:-1] + [",".join(lines[-1].split(",")[:5])]))
    with pytest.raises(FormatError, match=r"line 353: expected 13 cells like the header, "
                                          r"found 5 \(truncated file"):
        read_rodent(path)


def test_likelihood_above_one_is_an_error(tmp_path):
    score = np.ones(350)
    score[7] = 1.7
    path = write(tmp_path, dlc_frame(score=score))
    with pytest.raises(FormatError, match=r"line 11, column 'DLC_resnet50_test/nose/likelihood'"
                                          r": expected a likelihood between 0 and 1, found 1.7"):
        read_rodent(path)


# ------------------------------------------------------------------ tracking loss (P2, P4)

def _nor_files(tmp_path, test_score):
    training = write(tmp_path, dlc_frame(), NAME.replace("_P2_", "_P1_"))
    return [training, write(tmp_path, dlc_frame(score=test_score))]


def _animals(tmp_path, make_study, test_score, **kw):
    study = make_study([("rat01", "C", "M")], groups=("C",))
    res = nor_analyse(study, _nor_files(tmp_path, test_score), params(novel_default="left", **kw))
    return res.details["nor_animals"].set_index("phase"), res.notes


def test_tracking_lost_excludes_for_tracking_not_exploration(tmp_path, make_study):
    animals, notes = _animals(tmp_path, make_study, np.full(350, 0.01))
    test = animals.loc["test"]
    assert (test["frames"], test["untracked_frames"], test["untracked_fraction"]) == (350, 350, 1)
    assert test["exclusion_reason"] == ("tracking: 350 of 350 frames below min_likelihood "
                                        "(100.0% > max_missing_fraction 0.5)")
    assert animals.loc["training", "untracked_fraction"] == 0
    assert not animals.loc["training", "excluded"]
    assert any("subject rat01 test: 350 of 350 frames (100.0%) without the nose or the head "
               "above min_likelihood 0.6" in n for n in notes)


def test_untracked_run_recorded_and_limit_is_a_parameter(tmp_path, make_study):
    score = np.ones(350)
    score[100:200] = np.nan          # 100 empty frames (DeepLabCut writes NaN or nothing)
    animals, _ = _animals(tmp_path, make_study, score, pose={"max_missing_fraction": 0.2})
    assert animals.loc["test", "untracked_frames"] == 100
    assert animals.loc["test", "exclusion_reason"].startswith(
        "tracking: 100 of 350 frames below min_likelihood (28.6% > max_missing_fraction 0.2)")
    animals, _ = _animals(tmp_path, make_study, score)    # the default, 0.5
    # 0-99 and 200-249 explored: 150 frames, below 10 s: the exploration rule applies
    assert animals.loc["test", "exclusion_reason"] == "total test exploration 6.000 s < 10 s"


def test_training_lost_bias_rule_cannot_be_checked(tmp_path, make_study):
    study = make_study([("rat01", "C", "M")], groups=("C",))
    training = write(tmp_path, dlc_frame(score=np.zeros(350)), NAME.replace("_P2_", "_P1_"))
    res = nor_analyse(study, [training, write(tmp_path, dlc_frame())],
                      params(novel_default="left", max_training_bias=0.5))
    animals = res.details["nor_animals"].set_index("phase")
    assert animals.loc["training", "exclusion_reason"].startswith("tracking: 350 of 350 frames")
    assert animals.loc["test", "exclusion_reason"] == (
        "total test exploration 6.000 s < 10 s; training side bias unknown (training excluded "
        "for tracking), max_training_bias cannot be checked")


def test_both_ears_lost_no_runtime_warning(tmp_path):
    score = np.ones(350)
    score[30:60] = 0.0               # nose and both ears lost for 30 frames (> max_gap 5)
    rows, frames = exploration_from_poses(read_rodent(write(tmp_path, dlc_frame(score=score))),
                                          params())      # warnings are errors here
    a = frames[frames["object"] == "object left"]
    assert not a["tracked"].iloc[30:60].any() and a["tracked"].iloc[:30].all()
    assert rows.set_index("object").loc["object left", "time_s"] == pytest.approx(120 / FPS)


# ------------------------------------------------------------ several animals, labels (P5, P6)

def test_multi_animal_file_needs_the_individual(tmp_path):
    df = dlc_frame(individuals=["mouse1", "mouse2"], shift=(0.0, 20.0))
    path = write(tmp_path, df)
    with pytest.raises(InputError, match=rf"{NAME}: multi-animal pose file with 2 individuals "
                                         r"\('mouse1', 'mouse2'\): name the one"):
        exploration_from_poses(read_rodent(path), params())
    data = read_rodent(path)
    rows, _ = exploration_from_poses(data, params(pose={"individual": "mouse2"}))
    # mouse2 is 20 cm lower: far from both objects
    assert rows["time_s"].tolist() == [0.0, 0.0]
    assert any("individual 'mouse2' of 2 ('mouse1', 'mouse2') analysed" in n for n in data.notes)
    rows, _ = exploration_from_poses(read_rodent(path), params(pose={"individual": 0}))
    assert rows.set_index("object").loc["object left", "time_s"] == pytest.approx(150 / FPS,
                                                                                 abs=1 / FPS)
    with pytest.raises(InputError, match=r"individual 'mouse3' \(pose setting 'individual'\) "
                                         r"not in the file; individuals: 'mouse1', 'mouse2'"):
        exploration_from_poses(read_rodent(path), params(pose={"individual": "mouse3"}))


def test_labelled_data_file_refused_as_such(tmp_path):
    df = dlc_frame().iloc[:5].drop(columns="likelihood", level="coords")
    df.index = [f"labeled-data/rat01/img{i:04d}.png" for i in range(5)]
    path = write(tmp_path, df)
    data = read_rodent(path)
    assert data.poses.frames is None
    with pytest.raises(InputError, match=rf"{NAME}: a DeepLabCut labelled-data file \(image "
                                         r"paths as the index, no likelihood\)"):
        exploration_from_poses(data, params())


def test_labelled_data_with_three_index_columns_refused_as_such(tmp_path):
    # DeepLabCut >= 2.2 writes the image path as labeled-data, video, image columns
    df = dlc_frame().iloc[:5].drop(columns="likelihood", level="coords")
    df.index = pd.MultiIndex.from_tuples([("labeled-data", "rat01", f"img{i:04d}.png")
                                          for i in range(5)])
    path = write(tmp_path, df)
    assert path.read_text().splitlines()[0].startswith("scorer,,,DLC_resnet50_test,")
    data = read_rodent(path)
    assert data.poses.frames is None and data.poses.position.shape == (5, 1, 4, 2)
    with pytest.raises(InputError, match=rf"{NAME}: a DeepLabCut labelled-data file"):
        exploration_from_poses(data, params())


def test_no_likelihood_read_as_tracked_with_a_warning(tmp_path):
    # x, y only with the frame index (another tool's export, or columns dropped)
    score = np.ones(350)
    score[100:110] = np.nan                # empty cells stay untracked
    df = dlc_frame(score=score).drop(columns="likelihood", level="coords")
    data = read_rodent(write(tmp_path, df))
    assert np.isnan(data.poses.confidence).all()
    assert (f"warning: {NAME}: no 'likelihood' coordinate in the header (x, y only: labelled "
            "frames or another tool's export): every point with coordinates is taken as "
            "tracked (pose setting min_likelihood not applied)") in data.notes
    rows, frames = exploration_from_poses(data, params())
    # frames 0-99 and 200-249 explore the left object; 100-109 have no nose
    assert rows.set_index("object").loc["object left", "time_s"] == pytest.approx(150 / FPS)
    assert rows["untracked_frames"].tolist() == [10, 10]


def test_likelihood_for_some_bodyparts_only_is_an_error(tmp_path):
    df = dlc_frame().drop(columns=("DLC_resnet50_test", "nose", "likelihood"))
    with pytest.raises(FormatError, match=rf"{NAME}: bodypart\(s\) 'nose' have no 'likelihood' "
                                         r"column while 3 other\(s\) have one"):
        read_rodent(write(tmp_path, df))


# ------------------------------------------------ spreadsheet re-saves: ';', tab, decimal commas

def _real_decimals():
    df = dlc_frame()
    xy = df.columns.get_level_values("coords") != "likelihood"
    df.loc[:, xy] += np.random.default_rng(1).random((350, int(xy.sum())))
    df.loc[:, ~xy] = np.random.default_rng(2).uniform(0.9, 1.0, (350, int((~xy).sum())))
    return df


@pytest.mark.parametrize("sep,decimal,dialect", [
    (";", ",", "delimiter ';', decimal commas read as decimal points"),
    ("\t", ",", "delimiter tab, decimal commas read as decimal points"),
    (";", ".", "delimiter ';'"),
])
def test_european_copy_reads_the_same_values(tmp_path, sep, decimal, dialect):
    df = _real_decimals()
    plain = read_rodent(write(tmp_path, df, "plain_" + NAME))
    path = tmp_path / NAME
    df.to_csv(path, sep=sep, decimal=decimal)
    if decimal == ",":
        assert "0,9" in path.read_text()
    copy = read_rodent(path)
    assert np.array_equal(copy.poses.position, plain.poses.position)
    assert np.array_equal(copy.poses.confidence, plain.poses.confidence)
    assert copy.notes[-1].endswith(f"read as text: encoding utf-8, {dialect}")
    rows, _ = exploration_from_poses(copy, params())
    assert rows.set_index("object").loc["object left", "time_s"] == pytest.approx(150 / FPS)


def test_decimal_point_among_decimal_commas_is_an_error(tmp_path):
    path = tmp_path / NAME
    _real_decimals().to_csv(path, sep=";", decimal=",")
    lines = path.read_text().splitlines()
    cells = lines[9].split(";")
    cells[2] = cells[2].replace(",", ".")   # one cell typed by hand with a point
    lines[9] = ";".join(cells)
    path.write_text("\n".join(lines) + "\n")
    # the column is left as written: its first decimal comma is named
    with pytest.raises(FormatError, match=rf"{NAME}, line 4, column "
                                         r"'DLC_resnet50_test/nose/y': expected a number, found "
                                         r"'\d+,\d+' \(decimal commas and decimal points in one "
                                         r"column: which is meant\?\)"):
        read_rodent(path)


def test_unknown_keypoint_names_the_file(tmp_path):
    path = write(tmp_path, dlc_frame())
    with pytest.raises(InputError, match=rf"{NAME}: keypoint 'snout' not tracked; tracked: "
                                         "'body_centre', 'left_ear', 'nose', 'right_ear'"):
        exploration_from_poses(read_rodent(path), params(pose={"nose": "snout"}))


# ------------------------------------------------------------------ maze landmarks (M1, M2)

def _maze(tmp_path, lost=None):
    path = write_maze(tmp_path / "m1DLC_resnet.csv", True)
    if lost:
        df = pd.read_csv(path, header=[0, 1, 2], index_col=0)
        df.loc[:, ("DLC", lost, "likelihood")] = 0.01
        df.to_csv(path)
    zf = tmp_path / "tmaze_zoneinfo.csv"
    pd.DataFrame(ZONES).to_csv(zf, sep=";", index=False)
    return [path, zf]


def _arm_params():
    return TmazeParameters(min_entries=3, pose=ArmSettings(
        px_per_cm=TPX, fps=TFPS, keypoints=("nose", "body_centre", "tail_base"),
        min_fraction=0.6, arm_zones=("S", "L", "R")))


@pytest.mark.parametrize("lost,message", [
    ("l1", r"zone 'L' needs landmark 'l1', which has no frame above min_likelihood 0.6 "
           r"\(of 361 frames\)"),
    ("body_centre", r"body-centre keypoint 'body_centre' has no frame above min_likelihood "
                    r"0.6 \(of 361 frames\): no arm entry can be found"),
])
def test_maze_point_never_tracked_names_it(tmp_path, make_study, lost, message):
    study = make_study([("m1", "C", "M")])
    with pytest.raises(InputError, match=rf"m1DLC_resnet.csv: {message}"):
        tmaze_analyse(study, _maze(tmp_path, lost), _arm_params())


def test_maze_entry_times_from_the_frame_index(tmp_path, make_study):
    study = make_study([("m1", "C", "M")])
    files = _maze(tmp_path)
    df = pd.read_csv(files[0], header=[0, 1, 2], index_col=0)
    df.index = df.index + np.where(df.index >= 20, 30, 0)   # 30 frames dropped after frame 19
    df.to_csv(files[0])
    entries = tmaze_analyse(study, files, _arm_params()).details["tmaze_entries"]
    assert entries["arm"].tolist() == ["S", "L", "R", "S", "R"]
    # the body leaves S at route frame 45: video frame 75
    assert entries["exit_s"].iloc[0] == pytest.approx(76 / TFPS, abs=1 / TFPS)
