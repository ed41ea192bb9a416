"""T-maze arm entries from synthetic pose tracks with a known route."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from neurotox.assays.rodent import pose as geo
from neurotox.assays.rodent.params import ArmSettings, TmazeParameters
from neurotox.assays.rodent.tmaze import analyse
from neurotox.errors import InputError

PX, FPS = 4.0, 30.0
#: T-maze in cm: stem S below the centre square, goal arms L and R to its sides.
CORNERS = {"s1": (45, 50), "s2": (55, 50), "s3": (55, 100), "s4": (45, 100),
           "c1": (45, 40), "c2": (55, 40), "l1": (0, 40), "l2": (0, 50),
           "r1": (100, 40), "r2": (100, 50)}
ZONES = {"S": ["s1", "s2", "s3", "s4"], "L": ["l1", "c1", "s1", "l2"],
         "R": ["c2", "r1", "r2", "s2"]}
ROUTE = [(50, 95), (50, 45), (5, 45), (50, 45), (95, 45), (50, 45), (50, 90), (50, 45),
         (90, 45)]  # S -> L -> R -> S -> R


def route_track():
    pts = [np.asarray(ROUTE[0], float)]
    for a, b in zip(ROUTE[:-1], ROUTE[1:], strict=True):
        a, b = np.asarray(a, float), np.asarray(b, float)
        n = int(np.hypot(*(b - a)))  # 1 cm per frame
        pts += [a + (b - a) * k / n for k in range(1, n + 1)]
    body = np.array(pts)
    step = np.gradient(body, axis=0)
    unit = step / np.maximum(np.linalg.norm(step, axis=1, keepdims=True), 1e-9)
    return body + 1.5 * unit, body, body - 2.5 * unit


def write_dlc(path, with_landmarks):
    nose, body, tail = route_track()
    series = {"nose": nose, "body_centre": body, "tail_base": tail}
    if with_landmarks:
        series.update({k: np.tile(v, (len(body), 1)).astype(float) for k, v in CORNERS.items()})
    cols, data = [], []
    for name, xy in series.items():
        for c in ("x", "y", "likelihood"):
            cols.append(("DLC", name, c))
            data.append(np.ones(len(xy)) if c == "likelihood" else xy[:, "xy".index(c)] * PX)
    pd.DataFrame(np.array(data).T, columns=pd.MultiIndex.from_tuples(
        cols, names=["scorer", "bodyparts", "coords"])).to_csv(path)
    return path


def shapes():
    return tuple(geo.Shape(name=z, kind="polygon", vertices=tuple(CORNERS[p] for p in pts))
                 for z, pts in ZONES.items())


def settings(**kw):
    return ArmSettings(px_per_cm=PX, fps=FPS, keypoints=("nose", "body_centre", "tail_base"),
                       min_fraction=0.6, **kw)


@pytest.mark.parametrize("landmarks", [False, True])
def test_entries_from_route(tmp_path, make_study, landmarks):
    study = make_study([("m1", "C", "M")])
    files = [write_dlc(tmp_path / "m1DLC_resnet.csv", landmarks)]
    if landmarks:
        zf = tmp_path / "tmaze_zoneinfo.csv"
        pd.DataFrame(ZONES).to_csv(zf, sep=";", index=False)
        files.append(zf)
        arm = settings(arm_zones=("S", "L", "R"))
    else:
        arm = settings(arms=shapes())
    res = analyse(study, files, TmazeParameters(pose=arm, min_entries=3))
    entries = res.details["tmaze_entries"]
    assert entries["arm"].tolist() == ["S", "L", "R", "S", "R"]
    animal = res.details["tmaze_animals"].iloc[0]
    # triplets S L R and L R S alternate; R S R returns to the arm two entries back
    assert (animal["entries"], animal["alternations"]) == (5, 2)
    assert animal["alternate_arm_returns"] == 1
    # the body centre leaves S for the centre square at y = 50: frame 45 of the route
    assert entries["exit_s"].iloc[0] == pytest.approx(46 / FPS, abs=1 / FPS)


def test_arm_zones_without_zone_file(tmp_path, make_study):
    study = make_study([("m1", "C", "M")])
    f = write_dlc(tmp_path / "m1DLC_resnet.csv", True)
    with pytest.raises(InputError, match="'arm_zones' set but no zone file"):
        analyse(study, [f], TmazeParameters(pose=settings(arm_zones=("S", "L"))))


def test_arm_settings_need_two_arms():
    with pytest.raises(ValueError, match="give at least 2 'arms'"):
        settings()


def test_file_subjects_names_the_animal_of_a_pose_file(tmp_path, make_study):
    # a pose file named without the subject (bumped.csv): the parameter file_subjects names it
    study = make_study([("m1", "C", "M")])
    f = write_dlc(tmp_path / "take2.csv", False)
    res = analyse(study, [f], TmazeParameters(pose=settings(arms=shapes()), min_entries=3,
                                              file_subjects={"take2.csv": "m1"}))
    entries = res.details["tmaze_entries"]
    assert entries["subject"].unique().tolist() == ["m1"]
    assert entries["arm"].tolist() == ["S", "L", "R", "S", "R"]
