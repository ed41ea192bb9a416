"""Geometry on pose tracks: cleaning, object exploration, zone occupancy, bouts.

Array contract: positions are arrays (frames, 2) of x, y in **cm** after
calibration (x = image column, y = image row, as in DeepLabCut/SLEAP). Frame
masks are boolean arrays (frames,). Times are ``frame / fps`` seconds.

Exploration of an object (a geometric rule, not a classifier): in a frame the
animal explores object *o* when

* the nose is within ``distance_cm`` of the object's edge (or inside it),
* the head points at the object: the angle between the head direction
  (head reference → nose) and the nose → object-centre vector is at most
  ``max_angle_deg``,
* the body centre is **not** inside the object (climbing / sitting on it),

and the frame belongs to a run of such frames lasting at least ``min_bout_s``.

References
----------
Ennaceur A, Delacour J (1988). A new one-trial test for neurobiological studies of
memory in rats. Behav Brain Res 31:47-59 (exploration = directing the nose to the
object at <= 2 cm; sitting on the object is not exploration).
Leger M et al. (2013). Object recognition test in mice. Nat Protoc 8:2531-2537.

"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, model_validator

from neurotox.errors import InputError


class Shape(BaseModel):
    """An object or arm zone in cm: a circle (``center``, ``radius``) or a polygon."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1)
    kind: Literal["circle", "polygon"] = "circle"
    center: tuple[float, float] | None = None
    radius: float | None = Field(default=None, gt=0)
    vertices: tuple[tuple[float, float], ...] | None = None

    @model_validator(mode="after")
    def _complete(self) -> Shape:
        if self.kind == "circle" and (self.center is None or self.radius is None):
            raise ValueError(f"circle {self.name!r} needs 'center' and 'radius'")
        if self.kind == "polygon" and (self.vertices is None or len(self.vertices) < 3):
            raise ValueError(f"polygon {self.name!r} needs at least 3 'vertices'")
        return self

    @property
    def centroid(self) -> np.ndarray:
        """Centre of the circle, mean of the polygon's vertices."""
        if self.kind == "circle":
            return np.asarray(self.center, float)
        return np.asarray(self.vertices, float).mean(axis=0)


def edge_distance(points: np.ndarray, shape: Shape) -> np.ndarray:
    """Signed distance (frames,) from each point to the shape's edge: < 0 inside, NaN if NaN."""
    p = np.asarray(points, float)
    if shape.kind == "circle":
        return np.hypot(*(p - np.asarray(shape.center)).T) - shape.radius
    v = np.asarray(shape.vertices, float)
    a, b = v, np.roll(v, -1, axis=0)
    ab = b - a
    t = np.clip(np.einsum("nsk,sk->ns", p[:, None, :] - a[None], ab) /
                np.einsum("sk,sk->s", ab, ab), 0, 1)
    nearest = a[None] + t[..., None] * ab[None]
    d = np.hypot(*(p[:, None, :] - nearest).transpose(2, 0, 1)).min(axis=1)
    return np.where(inside_polygon(p, v), -d, d)


def inside_polygon(points: np.ndarray, vertices: np.ndarray) -> np.ndarray:
    """Even-odd rule: True for points (n, 2) inside the polygon ``vertices`` (m, 2)."""
    x, y = points[:, 0:1], points[:, 1:2]
    x1, y1 = vertices[:, 0], vertices[:, 1]
    x2, y2 = np.roll(x1, -1), np.roll(y1, -1)
    with np.errstate(divide="ignore", invalid="ignore"):
        cross = ((y1 > y) != (y2 > y)) & (x < (x2 - x1) * (y - y1) / (y2 - y1) + x1)
    return (cross.sum(axis=1) % 2 == 1) & np.isfinite(points).all(axis=1)


def angle_between(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Angle in degrees (frames,) between vectors u and v (frames, 2); NaN if undefined."""
    dot = np.einsum("ij,ij->i", u, v)
    norm = np.linalg.norm(u, axis=1) * np.linalg.norm(v, axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.degrees(np.arccos(np.clip(dot / norm, -1, 1)))


def clean_track(xy: np.ndarray, score: np.ndarray | None, *, min_score: float,
                max_gap: int, frames: np.ndarray | None = None) -> np.ndarray:
    """Drop points below ``min_score`` and linearly fill NaN gaps of at most ``max_gap`` frames.

    Gaps longer than ``max_gap`` and gaps at the ends stay NaN. ``frames`` (video
    frame number of each row; default the row number) places the rows in time
    for the interpolation when frames were dropped.
    """
    xy = np.array(xy, float)
    if score is not None:
        low = ~(np.asarray(score, float) >= min_score) & np.isfinite(score)
        xy[low] = np.nan
    missing = ~np.isfinite(xy).all(axis=1)
    xy[missing] = np.nan
    fill = missing & (_run_lengths(missing) <= max_gap)
    frames = np.arange(len(xy)) if frames is None else np.asarray(frames, float)
    good = ~missing
    if good.sum() >= 2 and fill.any():
        for k in range(2):
            xy[fill, k] = np.interp(frames[fill], frames[good], xy[good, k])
        left, right = frames[good][0], frames[good][-1]
        ends = fill & ((frames < left) | (frames > right))
        xy[ends] = np.nan
    return xy


def _run_lengths(mask: np.ndarray) -> np.ndarray:
    """Length of the run of equal values each element belongs to."""
    mask = np.asarray(mask, bool)
    if len(mask) == 0:
        return np.zeros(0, int)
    change = np.flatnonzero(np.diff(mask.astype(int))) + 1
    starts = np.r_[0, change]
    lengths = np.diff(np.r_[starts, len(mask)])
    return np.repeat(lengths, lengths)


def runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """(start, stop) of the True runs of ``mask`` in order; ``stop`` is exclusive."""
    edges = np.diff(np.r_[0, np.asarray(mask, bool).astype(int), 0])
    return [(int(a), int(b)) for a, b in
            zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1), strict=True)]


def bouts(mask: np.ndarray, *, min_frames: int = 1) -> tuple[np.ndarray, int]:
    """Keep only True runs of at least ``min_frames``; return (mask, number of bouts)."""
    mask = np.asarray(mask, bool)
    kept = mask & (_run_lengths(mask) >= max(min_frames, 1))
    n = int(np.sum(np.diff(np.r_[0, kept.astype(int)]) == 1))
    return kept, n


def exploration_frames(nose: np.ndarray, head: np.ndarray, body: np.ndarray, shape: Shape, *,
                       distance_cm: float = 2.0, max_angle_deg: float = 45.0,
                       min_bout_frames: int = 1) -> pd.DataFrame:
    """Per-frame exploration flags of one object (all inputs in cm).

    Parameters
    ----------
    nose, head, body
        Positions (frames, 2) of the nose, the head reference (e.g. the midpoint
        of the ears) and the body centre; NaN = not tracked (frame not counted).
    shape
        The object.
    distance_cm, max_angle_deg, min_bout_frames
        Proximity, orientation and minimum-bout criteria.

    Returns
    -------
    pandas.DataFrame
        One row per frame: ``distance_cm`` (nose to edge), ``angle_deg``,
        ``near``, ``oriented``, ``climbing``, ``tracked``, ``exploring``
        (after the minimum-bout filter).

    """
    dist = edge_distance(nose, shape)
    angle = angle_between(nose - head, shape.centroid[None] - nose)
    angle = np.where(dist <= 0, 0.0, angle)  # nose inside the object: pointing at it
    climbing = edge_distance(body, shape) <= 0
    tracked = np.isfinite(nose).all(axis=1) & np.isfinite(head).all(axis=1)
    near = dist <= distance_cm
    oriented = angle <= max_angle_deg
    raw = near & oriented & ~climbing & tracked
    exploring, _ = bouts(raw, min_frames=min_bout_frames)
    return pd.DataFrame({"distance_cm": dist, "angle_deg": angle, "near": near,
                         "oriented": oriented, "climbing": climbing, "tracked": tracked,
                         "exploring": exploring})


def zone_sequence(inside: dict[str, np.ndarray], *, min_frames: int = 1) -> pd.DataFrame:
    """Entries into mutually exclusive zones from per-frame membership masks.

    Parameters
    ----------
    inside
        Zone name → boolean mask (frames,) of "the animal is in this zone".
    min_frames
        A visit shorter than this is not an entry.

    Returns
    -------
    pandas.DataFrame
        One row per entry in time order: ``arm``, ``enter_frame``, ``exit_frame``
        (exclusive).

    """
    rows = []
    for name, mask in inside.items():
        kept, _ = bouts(mask, min_frames=min_frames)
        rows += [{"arm": name, "enter_frame": s, "exit_frame": e} for s, e in runs(kept)]
    out = pd.DataFrame(rows, columns=["arm", "enter_frame", "exit_frame"])
    return out.sort_values("enter_frame", kind="stable").reset_index(drop=True)


def arm_membership(points: dict[str, np.ndarray], arm: Shape, *, centre: str,
                   min_fraction: float) -> np.ndarray:
    """Frames where the body centre and at least ``min_fraction`` of the points are in ``arm``."""
    if centre not in points:
        raise InputError(f"body-centre keypoint {centre!r} not among {sorted(points)}")
    inside = {k: edge_distance(v, arm) <= 0 for k, v in points.items()}
    frac = np.mean(np.stack(list(inside.values())), axis=0)
    return inside[centre] & (frac >= min_fraction)
