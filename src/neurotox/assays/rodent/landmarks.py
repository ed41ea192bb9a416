"""Static landmarks tracked as keypoints (maze corners, objects): do they stay put.

A pose file may track points that do not move — the corners of a maze whose
zones are built from them (DLCAnalyzer zone files), objects. When the camera is
bumped (or the maze or an object is pushed) mid-video, these points jump and
stay moved, and every later frame is measured against the wrong place.

Rule (per landmark, positions in pixels): the video is cut into windows of
``window_s`` (2 s) seconds of video time; a window with at least half of its
frames above ``min_likelihood`` has a position, the median of those frames.
The landmark's *jitter* is the median distance of its frames to their window's
position (DeepLabCut places a corner to about a pixel). Its usual position is
the window position shared, within the threshold, by the most windows (the
earliest on ties). A window further than the threshold ``max(10 x jitter,
0.5 cm)`` from the usual position is moved; a move is a run of at least
:data:`MIN_WINDOWS` consecutive moved windows (windows without a position are
skipped), so that a few seconds of a landmark hidden by the animal and placed
wrongly are not a move.

A keypoint is taken as static, without being named as a landmark, when its
jitter is below a tenth of the body keypoint's (which moves with the animal).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from neurotox.assays.rodent.pose import clean_track, runs
from neurotox.io.rodent.base import Poses, RodentData

WINDOW_S = 2.0
#: Consecutive moved windows that make a move (6 s of video with 2-s windows).
MIN_WINDOWS = 3
#: The threshold in jitters, and its floor in cm.
JITTER_FACTOR = 10.0
MIN_SHIFT_CM = 0.5
#: A keypoint whose jitter is below this fraction of the body keypoint's is static.
STATIC_FRACTION = 0.1


@dataclass(frozen=True)
class Move:
    """A landmark that jumped by (``dx``, ``dy``) pixels, and maybe back.

    ``at_s``/``back_s``: (last frame before, first frame after) the jump, in s.
    """

    landmark: str
    at_s: tuple[float, float]
    back_s: tuple[float, float] | None
    dx: float
    dy: float
    threshold: float

    @property
    def shift(self) -> float:
        """Distance moved (pixels)."""
        return float(np.hypot(self.dx, self.dy))


@dataclass(frozen=True)
class _Windows:
    """A keypoint's positions (frames, 2; NaN when not tracked) and its windows."""

    xy: np.ndarray
    pos: np.ndarray      # (W, 2) window positions, NaN without enough tracked frames
    starts: np.ndarray   # (W,) window starts, s
    jitter: float        # median distance of the frames to their window's position
    window_s: float


def _windows(xy: np.ndarray, times: np.ndarray, window_s: float) -> _Windows:
    """Cut the track ``xy`` (frames, 2) into windows of ``window_s`` seconds."""
    if len(xy) == 0:
        return _Windows(xy, np.zeros((0, 2)), np.zeros(0), np.nan, window_s)
    w = np.floor((times - times[0]) / window_s).astype(np.int64)
    seen = np.isfinite(xy).all(axis=1)
    df = pd.DataFrame({"w": w, "x": xy[:, 0], "y": xy[:, 1], "seen": seen})
    size = df.groupby("w")["seen"].agg(["size", "sum"])
    med = df[seen].groupby("w")[["x", "y"]].median().reindex(size.index)
    ok = (size["sum"] >= np.maximum(size["size"] / 2, 3)).to_numpy()
    pos = np.where(ok[:, None], med.to_numpy(float), np.nan)
    own = pd.DataFrame(pos, index=size.index).reindex(w).to_numpy()
    dist = np.hypot(*(xy - own).T)
    dist = dist[np.isfinite(dist)]
    jitter = float(np.median(dist)) if len(dist) else np.nan
    return _Windows(xy, pos, size.index.to_numpy() * window_s + times[0], jitter,
                    window_s)


def _keypoint(poses: Poses, name: str, k: int, times: np.ndarray, *,
              min_likelihood: float) -> _Windows:
    """Windows of keypoint ``name`` of individual ``k``, frames below ``min_likelihood`` NaN."""
    xy = clean_track(poses.point(name, k), poses.score(name, k), min_score=min_likelihood,
                     max_gap=0)
    return _windows(xy, times, WINDOW_S)


def _moves(win: _Windows, times: np.ndarray, name: str, *, floor: float) -> list[Move]:
    """Moves of one landmark from its windows.

    ``floor`` is the smallest threshold in the units of ``xy`` (0.5 cm in pixels).
    """
    xy, jitter, window_s = win.xy, win.jitter, win.window_s
    valid = np.isfinite(win.pos).all(axis=1)
    if valid.sum() < MIN_WINDOWS or not np.isfinite(jitter):
        return []
    thr = max(JITTER_FACTOR * jitter, floor)
    p, t = win.pos[valid], win.starts[valid]
    usual = _usual(p, thr)
    moved = np.hypot(*(p - usual).T) > thr
    out = []
    for a, b in runs(moved):
        if b - a < MIN_WINDOWS:
            continue
        there = np.median(p[a:b], axis=0)
        if a == 0:       # away from the start: the jump is to the usual position
            old, new, after, before, back = there, usual, t[b - 1] + window_s, t[b], None
        else:
            old, new, after, before = usual, there, t[a - 1] + window_s, t[a]
            back = None if b == len(p) else _jump(xy, times, there, usual,
                                                  t[b - 1] + window_s, t[b], window_s)
        dx, dy = new - old
        out.append(Move(name, _jump(xy, times, old, new, after, before, window_s), back,
                        float(dx), float(dy), thr))
    return out


def _usual(p: np.ndarray, thr: float, *, candidates: int = 200) -> np.ndarray:
    """The position (2,) most window positions ``p`` share within ``thr`` (median of those).

    At most ``candidates`` evenly spaced windows are tried as the centre (a
    10-hour video has 18 000 windows), each against every window; the earliest
    wins a tie.
    """
    centres = p[::max(1, -(-len(p) // candidates))]
    near = np.hypot(*(centres[:, None, :] - p[None, :, :]).transpose(2, 0, 1)) <= thr
    return np.median(p[near[int(np.argmax(near.sum(axis=1)))]], axis=0)


def _jump(xy: np.ndarray, times: np.ndarray, old: np.ndarray, new: np.ndarray,
          after: float, before: float, window_s: float) -> tuple[float, float]:
    """When the landmark went from ``old`` to ``new``: (last frame at old, first at new).

    The change lies between the end of the last window at ``old`` (``after``)
    less a window and the end of the first window at ``new`` (``before`` plus a
    window). Among the tracked frames there, the split that leaves the fewest
    frames on the wrong side (nearer ``new`` before it, nearer ``old`` after it)
    is taken; a frame placed wrongly (the animal over the landmark) does not move it.
    """
    span = (times >= after - window_s) & (times < before + window_s) & \
        np.isfinite(xy).all(axis=1)
    idx = np.flatnonzero(span)
    if not len(idx):
        return after, before
    is_new = np.hypot(*(xy[idx] - new).T) < np.hypot(*(xy[idx] - old).T)
    wrong = np.r_[0, np.cumsum(is_new)] + np.r_[np.cumsum((~is_new)[::-1])[::-1], 0]
    i = int(np.argmin(wrong))
    first = float(times[idx[i]]) if i < len(idx) else before
    last = float(times[idx[i - 1]]) if i > 0 else after
    return last, first


def track_moves(poses: Poses, names: list[str], k: int, *, fps: float, px_per_cm: float,
                min_likelihood: float) -> list[Move]:
    """Moves (pixels) of the keypoints ``names`` of individual ``k``."""
    times = poses.times(fps)
    wins = {n: _keypoint(poses, n, k, times, min_likelihood=min_likelihood) for n in names}
    return _all_moves(wins, times, px_per_cm)


def _all_moves(wins: dict[str, _Windows], times: np.ndarray, px_per_cm: float) -> list[Move]:
    """Moves of every keypoint of ``wins`` (name to its windows)."""
    return [m for n, win in wins.items()
            for m in _moves(win, times, n, floor=MIN_SHIFT_CM * px_per_cm)]


def static_keypoints(poses: Poses, k: int, body: str, *, fps: float,
                     min_likelihood: float, skip: set[str]) -> list[str]:
    """Keypoints (not in ``skip``) whose jitter is below a tenth of the body keypoint's."""
    return list(_static(poses, k, body, poses.times(fps), min_likelihood=min_likelihood,
                        skip=skip))


def _static(poses: Poses, k: int, body: str, times: np.ndarray, *, min_likelihood: float,
            skip: set[str]) -> dict[str, _Windows]:
    """The static keypoints (:func:`static_keypoints`) with their windows."""
    ref = _keypoint(poses, body, k, times, min_likelihood=min_likelihood).jitter
    if not np.isfinite(ref) or ref == 0:
        return {}
    out = {}
    for n in poses.keypoints:
        if n not in skip and n != body:
            win = _keypoint(poses, n, k, times, min_likelihood=min_likelihood)
            if win.jitter < STATIC_FRACTION * ref:    # only the static ones are kept
                out[n] = win
    return out


def _when(span: tuple[float, float]) -> str:
    last, first = span
    return f"at {first:.2f} s" if first - last <= 0.1 else \
        f"between {last:.2f} s and {first:.2f} s (not tracked in between)"


def _shifts(ms: list[Move], px_per_cm: float) -> str:
    """Each landmark's shift; several moved together (a camera bump) in one phrase."""
    if len(ms) <= 3:
        return ", ".join(f"{m.landmark!r} by {m.shift:.1f} px = {m.shift / px_per_cm:.1f} cm "
                         f"(x {m.dx:+.1f}, y {m.dy:+.1f})" for m in ms)
    d = [m.shift for m in ms]
    dx, dy = (float(np.median([getattr(m, a) for m in ms])) for a in ("dx", "dy"))
    return (f"{len(ms)} landmarks ({', '.join(repr(m.landmark) for m in ms)}) by "
            f"{min(d):.1f}-{max(d):.1f} px = {min(d) / px_per_cm:.1f}-{max(d) / px_per_cm:.1f} "
            f"cm (median x {dx:+.1f}, y {dy:+.1f})")


def describe(moves: list[Move], px_per_cm: float) -> str:
    """One sentence naming each landmark, its shift and when (grouped by time)."""
    groups: dict[tuple, list[Move]] = {}
    for m in moves:
        groups.setdefault((m.at_s, m.back_s), []).append(m)
    parts = []
    for (at, back), ms in sorted(groups.items(), key=lambda g: g[0][0]):
        when = _when(at) + ("" if back is None else f", back {_when(back)}")
        parts.append(f"{when}: {_shifts(ms, px_per_cm)}")
    lo, hi = min(m.threshold for m in moves), max(m.threshold for m in moves)
    return (f"static landmark(s) jumped and stayed moved (camera bumped, or the "
            f"maze or an object moved?) {'; '.join(parts)} (a move is over 10 x the "
            f"landmark's jitter, at least 0.5 cm: here {lo:.1f}-{hi:.1f} px, for at least "
            f"{MIN_WINDOWS * WINDOW_S:g} s)")


def moved_static_note(data: RodentData, k: int, *, body: str, skip: set[str], fps: float,
                      px_per_cm: float, min_likelihood: float) -> list[str]:
    """A warning when a keypoint that stays put (:func:`static_keypoints`) jumped."""
    times = data.poses.times(fps)
    static = _static(data.poses, k, body, times, min_likelihood=min_likelihood, skip=skip)
    moves = _all_moves(static, times, px_per_cm)
    return [f"warning: {data.path.name}: {describe(moves, px_per_cm)}"] if moves else []
