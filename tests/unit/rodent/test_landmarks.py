"""Static landmarks that jump mid-video (camera bumped): refused for maze zones, else a warning.

Fixtures are DeepLabCut CSVs like the real ETHZ EPM file (maze corners tracked as
bodyparts next to the animal's, each corner placed with ~0.5 px of jitter) and the
NOR track of test_pose with two object keypoints.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from neurotox.assays.rodent import landmarks
from neurotox.assays.rodent.nor_inputs import exploration_from_poses
from neurotox.assays.rodent.params import ArmSettings, TmazeParameters
from neurotox.assays.rodent.tmaze import analyse as tmaze_analyse
from neurotox.errors import InputError
from neurotox.io.rodent import read_rodent

from .test_dlc_checks import NAME, dlc_frame, write
from .test_pose import FPS, PX, params
from .test_tmaze_pose import CORNERS, ZONES, route_track
from .test_tmaze_pose import FPS as TFPS
from .test_tmaze_pose import PX as TPX

BUMP = 450                      # first frame after the bump: 15.00 s at 30 fps
SHIFT = np.array([20.0, 10.0])  # pixels: 22.4 px = 5.6 cm at 4 px/cm


def maze_frame(*, bump=None, back=None, hide=None, wrong=None, seed=0):
    """The T-maze route, then 12 s sitting in arm R: 721 frames of 30 fps (pixels).

    ``bump``: from this frame every point (landmarks and animal) is shifted by
    SHIFT; ``back``: from this frame it is not any more. ``hide``: (landmark,
    frames) placed 30 px off with likelihood 0.95 (the animal over it, tracked wrong);
    ``wrong`` the same with likelihood 0.1 (not tracked).
    """
    nose, body, tail = route_track()
    n_sit = 360
    nose, body, tail = (np.vstack([p, np.tile(p[-1], (n_sit, 1))]) for p in (nose, body, tail))
    n = len(body)
    rng = np.random.default_rng(seed)
    series = {"nose": nose * TPX, "body_centre": body * TPX, "tail_base": tail * TPX}
    series |= {k: np.tile(np.asarray(v, float) * TPX, (n, 1)) + rng.normal(0, 0.5, (n, 2))
               for k, v in CORNERS.items()}
    score = {k: np.full(n, 0.999) for k in series}
    moved = np.zeros(n, bool)
    if bump is not None:
        moved[bump:back] = True
    for xy in series.values():
        xy[moved] += SHIFT
    for spec, lik in ((hide, 0.95), (wrong, 0.1)):
        if spec:
            name, frames = spec
            series[name][frames] += [30.0, 0.0]
            score[name][frames] = lik
    cols, data = [], []
    for name, xy in series.items():
        for c in ("x", "y", "likelihood"):
            cols.append(("DLC_resnet50_maze", name, c))
            data.append(score[name] if c == "likelihood" else xy[:, "xy".index(c)])
    return pd.DataFrame(np.array(data).T, columns=pd.MultiIndex.from_tuples(
        cols, names=["scorer", "bodyparts", "coords"]))


def _maze_files(tmp_path, df):
    path = tmp_path / "m1DLC_resnet50_maze.csv"
    df.to_csv(path)
    zf = tmp_path / "tmaze_zoneinfo.csv"
    pd.DataFrame(ZONES).to_csv(zf, sep=";", index=False)
    return [path, zf]


def _arm_params():
    return TmazeParameters(min_entries=3, pose=ArmSettings(
        px_per_cm=TPX, fps=TFPS, keypoints=("nose", "body_centre", "tail_base"),
        min_fraction=0.6, arm_zones=("S", "L", "R")))


def _moves(df, tmp_path):
    poses = read_rodent(_maze_files(tmp_path, df)[0]).poses
    return landmarks.track_moves(poses, list(CORNERS), 0, fps=TFPS, px_per_cm=TPX,
                                 min_likelihood=0.6)


def test_corners_that_stay_put_give_the_known_entries(tmp_path, make_study):
    res = tmaze_analyse(make_study([("m1", "C", "M")]), _maze_files(tmp_path, maze_frame()),
                        _arm_params())
    assert res.details["tmaze_entries"]["arm"].tolist() == ["S", "L", "R", "S", "R"]
    assert not [n for n in res.notes if n.startswith("warning:")]


def test_bump_found_with_its_time_and_shift(tmp_path):
    moves = _moves(maze_frame(bump=BUMP), tmp_path)
    assert sorted(m.landmark for m in moves) == sorted(CORNERS)
    for m in moves:
        assert m.at_s == pytest.approx(((BUMP - 1) / TFPS, BUMP / TFPS))
        assert m.back_s is None
        assert (m.dx, m.dy) == pytest.approx(tuple(SHIFT), abs=0.3)
        assert 0.5 * TPX <= m.threshold < 10      # 10 x ~0.6 px of jitter, at least 0.5 cm


def test_bump_of_the_maze_zones_is_refused(tmp_path, make_study):
    files = _maze_files(tmp_path, maze_frame(bump=BUMP))
    with pytest.raises(InputError, match=(
            r"m1DLC_resnet50_maze\.csv: static landmark\(s\) jumped and stayed moved \(camera "
            r"bumped, or the maze or an object moved\?\) at 15\.00 s: 10 landmarks \('c1', "
            r"'c2', 'l1', 'l2', 'r1', 'r2', 's1', 's2', 's3', 's4'\) by 22\.2-22\.4 px = "
            r"5\.6-5\.6 cm \(median x \+20\.0, y \+10\.0\) \(a move is over 10 x the landmark's "
            r"jitter, at least 0\.5 cm: here 5\.8-6\.5 px, for at least 6 s\); the arm "
            r"zones 'L', 'R', 'S' are built from these landmarks' median positions")):
        tmaze_analyse(make_study([("m1", "C", "M")]), files, _arm_params())


def test_bump_and_back_says_both_times(tmp_path):
    moves = _moves(maze_frame(bump=BUMP, back=BUMP + 150), tmp_path)   # 5 s moved
    assert len(moves) == 10
    m = moves[0]
    assert m.at_s == pytest.approx(((BUMP - 1) / TFPS, BUMP / TFPS))
    assert m.back_s == pytest.approx(((BUMP + 149) / TFPS, (BUMP + 150) / TFPS))
    assert "at 15.00 s, back at 20.00 s: 10 landmarks" in landmarks.describe(moves, TPX)


@pytest.mark.parametrize("spec", [
    ("r1", np.arange(60, 147)),      # 2.9 s tracked 30 px off: one window, not a move
    ("r1", np.arange(400, 720)),     # wrongly placed but below min_likelihood: not seen
])
def test_landmark_hidden_by_the_animal_is_no_move(tmp_path, spec):
    kw = {"hide": spec} if spec[1][0] == 60 else {"wrong": spec}
    assert _moves(maze_frame(**kw), tmp_path) == []


def test_jump_while_untracked_is_given_as_an_interval(tmp_path):
    frames = np.arange(BUMP - 100, BUMP + 20)           # r1 not tracked around the bump
    moves = {m.landmark: m for m in _moves(maze_frame(bump=BUMP, wrong=("r1", frames)),
                                            tmp_path)}
    assert moves["s1"].at_s == pytest.approx(((BUMP - 1) / TFPS, BUMP / TFPS))
    assert moves["r1"].at_s == pytest.approx(((BUMP - 101) / TFPS, (BUMP + 20) / TFPS))
    text = landmarks.describe([moves["r1"]], TPX)
    assert text.startswith("static landmark(s) jumped and stayed moved (camera bumped, or the "
                           "maze or an object moved?) between 11.63 s and 15.67 s (not "
                           "tracked in between): 'r1' by 22.")


# ------------------------------------------------------------------ NOR: object keypoints

def _nor_with_objects(jump_at=None):
    """The NOR track of test_pose with keypoints on the two objects (pixels, 0.5 px jitter)."""
    df = dlc_frame()
    n = len(df)
    rng = np.random.default_rng(1)
    for name, centre in (("object_left", (30.0, 50.0)), ("object_right", (80.0, 50.0))):
        xy = np.tile(np.asarray(centre) * PX, (n, 1)) + rng.normal(0, 0.5, (n, 2))
        if jump_at is not None and name == "object_left":
            xy[jump_at:] += [30.0, 0.0]                 # pushed 3 cm to the right
        for k, c in enumerate(("x", "y", "likelihood")):
            df[("DLC_resnet50_test", name, c)] = xy[:, k] if c != "likelihood" else 0.99
    return df


def test_nor_object_keypoint_that_jumps_is_a_warning(tmp_path):
    data = read_rodent(write(tmp_path, _nor_with_objects(jump_at=200)))
    rows, _ = exploration_from_poses(data, params())
    warn = [n for n in data.notes if n.startswith("warning:")]
    assert warn == [f"warning: {NAME}: static landmark(s) jumped and stayed moved (camera "
                    "bumped, or the maze or an object moved?) at 8.00 s: 'object_left' by "
                    "30.0 px = 3.0 cm (x +30.0, y +0.1) (a move is over 10 x the landmark's "
                    "jitter, at least 0.5 cm: here 5.3-5.3 px, for at least 6 s)"]
    # the exploration itself is measured as before (objects from the protocol)
    assert rows.set_index("object").loc["object left", "time_s"] == pytest.approx(150 / FPS)


def test_nor_objects_that_stay_put_no_warning(tmp_path):
    data = read_rodent(write(tmp_path, _nor_with_objects()))
    exploration_from_poses(data, params())
    assert not [n for n in data.notes if n.startswith("warning:")]
    static = landmarks.static_keypoints(data.poses, 0, "body_centre", fps=FPS,
                                        min_likelihood=0.6, skip={"nose"})
    assert static == ["object_left", "object_right"]
