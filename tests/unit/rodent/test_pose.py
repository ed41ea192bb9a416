"""Exploration from synthetic pose tracks of known truth."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from neurotox.assays.rodent import pose as geo
from neurotox.assays.rodent.nor_inputs import exploration_from_poses
from neurotox.assays.rodent.params import NorParameters, PoseSettings
from neurotox.errors import FormatError, InputError
from neurotox.io.rodent import read_rodent

FPS, PX = 25.0, 10.0
A = geo.Shape(name="object left", center=(30.0, 50.0), radius=3.0)
B = geo.Shape(name="object right", center=(80.0, 50.0), radius=3.0)


def circling(n, r_nose, heading="in"):
    """Nose on a circle of radius r_nose around A, head 1 cm behind it."""
    th = np.linspace(0, 2 * np.pi, n, endpoint=False)
    radial = np.c_[np.cos(th), np.sin(th)]
    nose = np.asarray(A.center) + r_nose * radial
    if heading == "in":
        head = nose + radial                       # head further out: nose points at centre
    else:
        head = nose - np.c_[-np.sin(th), np.cos(th)]  # tangential heading: 90 degrees
    body = nose + 4 * radial if heading == "in" else head + 3 * radial
    return nose, head, body


def synthetic_track():
    """Frames 0-99 explore A, 100-149 tangential, 150-199 too far, 200-249 explore A,
    250-349 sit on B (body centre inside B)."""
    parts = [circling(100, A.radius + 1.5), circling(50, A.radius + 1.5, "tangent"),
             circling(50, A.radius + 3.0), circling(50, A.radius + 1.5)]
    nose, head, body = (np.vstack([p[i] for p in parts]) for i in range(3))
    sit_body = np.tile(B.center, (100, 1))
    sit_nose = sit_body + [2.5, 0]
    sit_head = sit_body + [1.5, 0]  # nose pointing away from the centre but inside the object
    return (np.vstack([nose, sit_nose]), np.vstack([head, sit_head]),
            np.vstack([body, sit_body]))


def write_dlc(path, nose, head, body, nose_score):
    cols, data = [], []
    for name, xy, score in (("nose", nose, nose_score), ("left_ear", head, None),
                            ("right_ear", head, None), ("body_centre", body, None)):
        for k, c in enumerate(("x", "y", "likelihood")):
            cols.append(("DLC_test", name, c))
            data.append(xy[:, k] * PX if c != "likelihood" else
                        (score if score is not None else np.ones(len(xy))))
    df = pd.DataFrame(np.array(data).T, columns=pd.MultiIndex.from_tuples(
        cols, names=["scorer", "bodyparts", "coords"]))
    df.to_csv(path)
    return path


def params(**kw):
    return NorParameters(pose=PoseSettings(px_per_cm=PX, fps=FPS, objects=(A, B), **kw.pop(
        "pose", {})), **kw)


def run(tmp_path, nose_score=None, **kw):
    nose, head, body = synthetic_track()
    score = np.ones(len(nose)) if nose_score is None else nose_score
    path = write_dlc(tmp_path / "Exp_NOR_P2_rat01DLC_test.csv", nose, head, body, score)
    rows, frames = exploration_from_poses(read_rodent(path), params(**kw))
    return rows.set_index("object"), frames


def test_circling_and_sitting_known_times(tmp_path):
    rows, frames = run(tmp_path)
    assert rows.loc["object left", "time_s"] == pytest.approx(150 / FPS, abs=1 / FPS)
    assert rows.loc["object left", "bouts"] == 2
    assert rows.loc["object left", "latency_s"] == 0
    assert rows.loc["object right", "time_s"] == 0
    assert rows["subject"].unique().tolist() == ["rat01"]
    assert rows["phase"].unique().tolist() == ["test"]
    b = frames[frames["object"] == "object right"]
    assert b["climbing"].sum() == 100 and b["near"].sum() == 100


def test_low_likelihood_short_gap_filled_long_gap_dropped(tmp_path):
    score = np.ones(350)
    score[20:23] = 0.1      # 3 frames <= max_gap 5: interpolated, still exploring
    score[210:230] = 0.1    # 20 frames: dropped
    rows, frames = run(tmp_path, nose_score=score)
    a = frames[frames["object"] == "object left"]
    assert a["exploring"].iloc[20:23].all()
    assert not a["tracked"].iloc[210:230].any()
    assert rows.loc["object left", "time_s"] == pytest.approx(130 / FPS, abs=1 / FPS)
    assert rows.loc["object left", "bouts"] == 3


def test_minimum_bout(tmp_path):
    score = np.ones(350)
    score[210:230] = 0.1    # leaves a 10-frame bout 200-209 (0.4 s)
    rows, _ = run(tmp_path, nose_score=score, min_bout_s=0.5)
    assert rows.loc["object left", "time_s"] == pytest.approx(120 / FPS, abs=1 / FPS)
    assert rows.loc["object left", "bouts"] == 2


def test_stricter_distance_removes_exploration(tmp_path):
    rows, _ = run(tmp_path, pose={"distance_cm": 1.0})
    assert rows.loc["object left", "time_s"] == 0


def test_polygon_edge_distance():
    sq = geo.Shape(name="sq", kind="polygon", vertices=((0, 0), (4, 0), (4, 4), (0, 4)))
    d = geo.edge_distance(np.array([[2.0, 2.0], [5.0, 2.0], [7.0, 8.0]]), sq)
    np.testing.assert_allclose(d, [-2.0, 1.0, 5.0])


@pytest.mark.parametrize(("mask", "expected"), [
    ([], []),
    ([0, 0, 0], []),
    ([1, 1, 1], [(0, 3)]),                       # a run to the end: stop is the length
    ([0, 1, 1, 0, 1, 0, 0, 1], [(1, 3), (4, 5), (7, 8)]),
])
def test_runs_are_start_and_exclusive_stop(mask, expected):
    assert geo.runs(np.array(mask, bool)) == expected


def test_zone_sequence_and_arm_membership():
    arm = geo.Shape(name="L", kind="polygon", vertices=((0, 0), (10, 0), (10, 2), (0, 2)))
    pts = {"body": np.array([[5, 1], [5, 1], [5, 5], [5, 1.0]]),
           "nose": np.array([[6, 1], [12, 1], [6, 5], [6, 1.0]])}
    inside = geo.arm_membership(pts, arm, centre="body", min_fraction=1.0)
    assert inside.tolist() == [True, False, False, True]
    seq = geo.zone_sequence({"L": inside, "R": ~inside})
    assert seq["arm"].tolist() == ["L", "R", "L"]
    assert seq["enter_frame"].tolist() == [0, 1, 3]
    assert seq["exit_frame"].tolist() == [1, 3, 4]


def test_per_video_object_layout_overrides_protocol(tmp_path):
    nose, head, body = synthetic_track()
    path = write_dlc(tmp_path / "Exp_NOR_P2_rat01DLC_test.csv", nose, head, body, np.ones(350))
    layout = tmp_path / "objects.csv"
    layout.write_text("video,object,x,y,radius,px_per_cm\n"
                      f"Exp_NOR_P2_rat01,object left,300,500,30,{PX}\n"
                      f"Exp_NOR_P2_rat01,object right,800,500,30,{PX}\n")
    table = read_rodent(layout).table
    assert table["kind"].tolist() == ["circle", "circle"]
    p = NorParameters(pose=PoseSettings(px_per_cm=1.0, fps=FPS))  # no objects, wrong scale
    rows, _ = exploration_from_poses(read_rodent(path), p, table)
    rows = rows.set_index("object")
    assert rows.loc["object left", "time_s"] == pytest.approx(150 / FPS, abs=1 / FPS)
    assert rows.loc["object right", "time_s"] == 0


def test_pose_without_objects_is_an_error(tmp_path):
    nose, head, body = synthetic_track()
    path = write_dlc(tmp_path / "Exp_NOR_P2_rat01DLC_test.csv", nose, head, body, np.ones(350))
    p = NorParameters(pose=PoseSettings(px_per_cm=PX, fps=FPS))
    with pytest.raises(InputError, match="expected 2 objects for this video, found 0"):
        exploration_from_poses(read_rodent(path), p)


def test_object_layout_bad_vertices(tmp_path):
    f = tmp_path / "objects.csv"
    f.write_text("video,object,vertices\nv1,box,1 2; 3 4\n")
    with pytest.raises(FormatError, match=r"row 2, column 'vertices': expected vertices"):
        read_rodent(f)
