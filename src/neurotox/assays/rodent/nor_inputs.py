"""NOR inputs: every file reduced to one exploration table (subject × phase × object).

Zone samples (EthoVision) and pose tracks (DeepLabCut/SLEAP, with object shapes
from the protocol or an object-layout file) are turned into exploration times here;
scoring sheets, SimBA and ANY-maze aggregates arrive as exploration tables from
:mod:`neurotox.io.rodent`.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from neurotox.assays.base import refuse_repeats
from neurotox.assays.rodent import landmarks
from neurotox.assays.rodent import pose as geo
from neurotox.assays.rodent.common import concat, empty_table, label_sources, tracking_note
from neurotox.assays.rodent.params import NorParameters, PoseSettings
from neurotox.assays.rodent.trial_order import number_order_warnings, start_keys
from neurotox.errors import InputError, quoted
from neurotox.io.rodent import RodentData, read_rodent_trials
from neurotox.io.rodent.base import EXPLORATION_COLUMNS, FLAG_COLUMNS, KEY_COLUMNS
from neurotox.io.rodent.pose import video_tracks
from neurotox.io.rodent.tables import one_key_per_subject, parse_video
from neurotox.sidetables import merge_repeats, unknown_names, unknown_note


def _dt(data: RodentData) -> float:
    step = data.meta.get("sample_interval_s", np.nan)
    if not np.isfinite(step) or step <= 0:
        raise InputError("cannot determine the sample interval", path=data.path)
    return float(step)


def _zone_rows(times: np.ndarray, flags: dict[str, np.ndarray], removed: dict[str, np.ndarray],
               durations: np.ndarray, min_frames: int) -> dict[str, dict[str, float]]:
    out = {}
    for obj, mask in flags.items():
        kept, n = geo.bouts(mask, min_frames=min_frames)
        first = np.flatnonzero(kept)
        out[obj] = {"time_s": float(durations[kept].sum()), "bouts": float(n),
                    "latency_s": float(times[first[0]] - times[0]) if len(first) else np.nan,
                    "climbing_s": float(durations[removed[obj]].sum())}
    return out


def sample_durations(data: RodentData) -> np.ndarray:
    """Seconds each sample stands for: the reader's (uneven ANY-maze samples) or the step."""
    given = data.meta.get("sample_durations")
    if given is not None:
        return np.asarray(given, float)
    return np.full(len(data.table), _dt(data))


def exploration_from_zone_samples(data: RodentData, params: NorParameters) -> pd.DataFrame:
    """Exploration per object from per-sample zone flags (EthoVision, ANY-maze; no phase).

    A sample counts for an object when the ``exploration_point`` (nose) is in the
    object zone and, with ``exclude_climbing``, the centre point is not (the animal
    on/over the object); the time so removed is ``climbing_s``. Zones whose name
    contains ``object_zone_pattern`` are objects. With the centre point as the
    exploration point (exports without head or nose zones) climbing cannot be
    told apart: nothing is removed and ``climbing_s`` is NaN.
    """
    t = data.table
    point = params.exploration_point.lower().replace("centre", "center")
    zones = sorted(c.split(":", 1)[1] for c in t.columns if c.startswith(f"{point}:")
                   and re.search(params.object_zone_pattern, c.split(":", 1)[1], re.I))
    if len(zones) != 2:
        raise InputError(f"expected 2 object zones for point {point!r} matching "
                         f"{params.object_zone_pattern!r}, found {quoted(zones) or 'none'}",
                         path=data.path)
    durations = sample_durations(data)
    flags, removed = {}, {}
    for z in zones:
        mask = t[f"{point}:{z}"].to_numpy() > 0
        on = t[f"center:{z}"].to_numpy() > 0 if f"center:{z}" in t and point != "center" \
            else np.zeros(len(t), bool)
        removed[z] = mask & on if params.exclude_climbing else np.zeros(len(t), bool)
        flags[z] = mask & ~removed[z]
    step = float(np.median(durations)) if len(durations) else np.nan
    per = _zone_rows(t["time_s"].to_numpy(float), flags, removed, durations,
                     int(round(params.min_bout_s / step)) if step > 0 else 1)
    if point == "center":   # the centre point itself explores: climbing cannot be told
        for v in per.values():
            v["climbing_s"] = np.nan
    subject = data.meta["subject"]
    return pd.DataFrame([{"subject": subject, "phase": "", "object": z, **v,
                          "source": f"{data.name}:{data.meta['trial']}"}
                         for z, v in per.items()], columns=list(EXPLORATION_COLUMNS))


def tracking_flags(phased: list[tuple[RodentData, pd.DataFrame]], params: NorParameters,
                   notes: list[str], posed: list[tuple[RodentData, pd.DataFrame]] = ()
                   ) -> pd.DataFrame:
    """Trials whose tracker lost more than the protocol allows: the one tracking-error rule.

    One row per trial (``subject``, ``phase``, ``reason``, ``source``). Zone
    samples (``phased``): more than ``max_missing_fraction`` of the samples lost;
    every loss is said in the notes, one above the limit as a warning. Pose trials
    (``posed``: exploration rows of :func:`exploration_from_poses`): more than
    ``pose.max_missing_fraction`` of the frames without the nose or the head (the
    loss of every pose trial is in its notes).
    """
    rows = [r for data, table in posed if (r := _pose_loss(data, table, params))]
    for data, table in phased:
        subject, phase = data.meta["subject"], table["phase"].iloc[0]
        said = tracking_note(data, params.exploration_point, params.max_missing_fraction,
                             f"subject {subject}, {phase}")
        if said is None:
            continue
        notes.append(said[0])
        if said[1]:
            rows.append({"subject": subject, "phase": phase, "reason": said[1],
                         "source": f"{data.name}:{data.meta['trial']}"})
    return pd.DataFrame(rows, columns=list(FLAG_COLUMNS))


def _pose_loss(data: RodentData, table: pd.DataFrame, params: NorParameters
               ) -> dict[str, str] | None:
    """The tracking-error row of a pose trial above ``pose.max_missing_fraction``, else None."""
    n, lost = float(table["frames"].max()), float(table["untracked_frames"].max())
    limit = params.pose.max_missing_fraction if params.pose is not None else np.inf
    if not n > 0 or not lost / n > limit:
        return None
    return {"subject": table["subject"].iloc[0], "phase": table["phase"].iloc[0],
            "reason": f"tracking: {int(lost)} of {int(n)} frames below min_likelihood "
                      f"({lost / n:.1%} > max_missing_fraction {limit:g})",
            "source": data.name}


def assign_phases(parts: list[tuple[RodentData, pd.DataFrame]], notes: list[str]
                  ) -> pd.DataFrame:
    """Give per-trial exploration tables of a subject the phases training, test by start time."""
    out = [table for _, table in _phased(parts, notes)]
    return pd.concat(out, ignore_index=True) if out else empty_table(EXPLORATION_COLUMNS)


def _phased(parts: list[tuple[RodentData, pd.DataFrame]], notes: list[str]
            ) -> list[tuple[RodentData, pd.DataFrame]]:
    """Per-trial tables with their phase, each with the trial it came from.

    A subject's trials are ordered by start time, every start time of the run
    read with one date convention (:mod:`~neurotox.assays.rodent.trial_order`).
    Two files holding the same subject's trial with the same start (a copy, a
    re-export) are refused: ordered by start time, one would become the test.
    """
    keys = start_keys([d.meta for d, _ in parts], [d.path for d, _ in parts], notes)
    by_subject: dict[str, list] = {}
    for key, (data, table) in zip(keys, parts, strict=True):
        by_subject.setdefault(data.meta["subject"], []).append((key, data, table))
    out = []
    for subject, trials in sorted(by_subject.items()):
        trials.sort(key=lambda x: x[0])
        if len(trials) > 2:
            raise InputError(f"subject {subject!r} has {len(trials)} trials, in "
                             f"{_trial_list([d for _, d, _ in trials])}; expected a training "
                             "and a test trial (a retest? analyse each session's files in "
                             "its own run)", path=trials[-1][1].path)
        if len(trials) == 2 and trials[0][0] == trials[1][0] and trials[0][0] != (1, 0):
            raise InputError(f"subject {subject!r}: the same trial (start "
                             f"{trials[0][1].meta.get('start_time') or trials[0][1].meta['trial']}"
                             f") found in two inputs, {trials[0][1].where} and "
                             f"{trials[1][1].where}; give each trial in one file (a copy or "
                             "re-export given as well?)", path=trials[1][1].path)
        notes += number_order_warnings(subject, [d.meta for _, d, _ in trials],
                                       [d.path for _, d, _ in trials])
        phases = ("training", "test") if len(trials) == 2 else ("test",)
        by = "start time" if all(k[0] == 0 for k, _, _ in trials) else \
            "the trial number in the file or its name (no start time)"
        for phase, (_, data, table) in zip(phases, trials, strict=True):
            out.append((data, table.assign(phase=phase)))
            notes.append(f"{data.name}: subject {subject} trial {data.meta['trial']} taken "
                         f"as the {phase} phase (order of {by})")
    return out


def _trial_list(trials: list[RodentData]) -> str:
    """``A.xlsx (start 10:23:37), B.xlsx (…)`` in start order, for a message."""
    return ", ".join(f"{d.where} (start {d.meta.get('start_time') or d.meta.get('trial')})"
                     for d in trials)


def _video_stem(path: Path) -> str:
    return re.split(r"DLC_|DeepCut_|\.analysis", path.stem)[0]


def _pose_subject(data: RodentData, params: NorParameters) -> tuple[str, str]:
    stem = _video_stem(data.path)
    hit = parse_video(stem, video_regex=params.video_regex, phase_map=params.phase_map)
    if hit is None:
        raise InputError(f"cannot read subject and phase from the file name {stem!r} with "
                         f"pattern {params.video_regex or 'default'!r}", path=data.path)
    return hit


def _tracks(data: RodentData, names: tuple[str, ...], ps: PoseSettings, k: int, max_gap: int
            ) -> np.ndarray:
    """Cleaned positions (cm) of one keypoint, or the mean of several where any is tracked."""
    tracks = np.stack([geo.clean_track(data.poses.point(name, k) / ps.px_per_cm,
                                       data.poses.score(name, k), min_score=ps.min_likelihood,
                                       max_gap=max_gap, frames=data.poses.frames)
                       for name in names])
    seen = np.isfinite(tracks)
    with np.errstate(invalid="ignore", divide="ignore"):   # no point tracked: NaN
        return np.where(seen, tracks, 0).sum(axis=0) / seen.sum(axis=0)


def _tracking(data: RodentData, ps: PoseSettings, k: int) -> tuple[int, int]:
    """(frames without the nose or the head, frames): below min_likelihood or empty."""
    lost = ~np.isfinite(_tracks(data, (ps.nose,), ps, k, 0)).all(axis=1) \
        | ~np.isfinite(_tracks(data, ps.head, ps, k, 0)).all(axis=1)
    return int(lost.sum()), len(lost)


def video_objects(layout: pd.DataFrame, video: str, ps: PoseSettings
                  ) -> tuple[tuple[geo.Shape, ...], float]:
    """Objects (cm) and px/cm of one video from a layout table, else the protocol's."""
    rows = layout[layout["video"] == video] if len(layout) else layout
    if not len(rows):
        return ps.objects, ps.px_per_cm
    cal = rows["px_per_cm"].dropna()
    px = float(cal.iloc[0]) if len(cal) else ps.px_per_cm
    shapes = tuple(
        geo.Shape(name=r.object, kind="polygon", vertices=tuple(
            (x / px, y / px) for x, y in r.vertices)) if r.kind == "polygon" else
        geo.Shape(name=r.object, center=(r.x / px, r.y / px), radius=r.radius / px)
        for r in rows.itertuples(index=False))
    return shapes, px


def exploration_from_poses(data: RodentData, params: NorParameters,
                           layout: pd.DataFrame | None = None
                           ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Exploration per object from a pose file; returns (exploration rows, per-frame flags)."""
    if params.pose is None:
        raise InputError("pose input given but the protocol has no 'pose' settings (objects, "
                         "px_per_cm, fps)", path=data.path)
    k, notes = video_tracks(data, params.pose.individual)   # labelled data refused first
    subject, phase = _pose_subject(data, params)
    objects, px = video_objects(layout if layout is not None else pd.DataFrame(),
                                _video_stem(data.path), params.pose)
    if len(objects) != 2:
        raise InputError(f"expected 2 objects for this video, found {len(objects)} (give "
                         "pose.objects in the protocol or an object-layout file)",
                         path=data.path)
    ps = params.pose.model_copy(update={"objects": objects, "px_per_cm": px})
    nose, head, body = (_tracks(data, names, ps, k, ps.max_gap_frames)
                        for names in ((ps.nose,), ps.head, (ps.body,)))
    lost, n = _tracking(data, ps, k)
    notes += landmarks.moved_static_note(data, k, body=ps.body, skip={ps.nose, *ps.head},
                                         fps=ps.fps, px_per_cm=px,
                                         min_likelihood=ps.min_likelihood)
    data.notes += notes + [
        f"{data.path.name}: subject {subject} {phase}: {lost} of {n} frames "
        f"({lost / n:.1%}) without the nose or the head above min_likelihood "
        f"{ps.min_likelihood:g} (max_missing_fraction {ps.max_missing_fraction:g})"]
    times = data.poses.times(ps.fps)
    min_frames = int(round(params.min_bout_s * ps.fps))
    rows, frames = [], []
    for shape in ps.objects:
        f = geo.exploration_frames(nose, head, body, shape, distance_cm=ps.distance_cm,
                                   max_angle_deg=ps.max_angle_deg, min_bout_frames=min_frames)
        first = np.flatnonzero(f["exploring"].to_numpy())
        _, nb = geo.bouts(f["exploring"].to_numpy())
        on = (f["near"] & f["oriented"] & f["climbing"] & f["tracked"]).sum()
        rows.append({"subject": subject, "phase": phase, "object": shape.name,
                     "time_s": f["exploring"].sum() / ps.fps, "bouts": float(nb),
                     "latency_s": times[first[0]] - times[0] if len(first) else np.nan,
                     "climbing_s": float(on) / ps.fps,
                     "source": f"{data.path.name}:{shape.name}",
                     "frames": n, "untracked_frames": lost})
        frames.append(f.assign(subject=subject, phase=phase, object=shape.name,
                               frame=data.poses.frames, time_s=times))
    return pd.DataFrame(rows, columns=[*EXPLORATION_COLUMNS, "frames", "untracked_frames"]), \
        pd.concat(frames)


def _object_zones(table: pd.DataFrame, params: NorParameters, notes: list[str]
                  ) -> pd.DataFrame:
    """Keep only object zones when an input reports more than two zones per phase."""
    if not len(table) or table.groupby(["subject", "phase"])["object"].nunique().max() <= 2:
        return table
    keep = table["object"].str.contains(params.object_zone_pattern, case=False, regex=True)
    dropped = sorted(set(table.loc[~keep, "object"]))
    notes.append(f"zones {', '.join(dropped)} ignored: names do not match the object pattern "
                 f"{params.object_zone_pattern!r}")
    return table[keep]


def _reader_options(params: NorParameters) -> dict[str, Any]:
    return {"video_regex": params.video_regex, "video_include": params.video_include,
            "phase_map": dict(params.phase_map), "body_part": params.exploration_point}


def collect(files: list[Path], params: NorParameters) -> dict[str, Any]:
    """Read every input and reduce it to exploration, key, flags and per-frame tables."""
    opts = _reader_options(params)
    got: dict[str, list] = {k: [] for k in ("exploration", "key", "flags", "trials", "poses",
                                            "objects")}
    frames, notes, posed = [], [], []
    for path in files:
        given = params.file_subjects.get(path.name)
        for data in read_rodent_trials(path, **opts,
                                       **({"subject": given} if given is not None else {})):
            notes += data.notes
            _take(data, params, got)
    explo, keys, flags, trials, poses, layouts = (got[k] for k in got)
    layout = _layout(layouts, poses, files, notes)
    for data in poses:
        before = len(data.notes)
        rows, fr = exploration_from_poses(data, params, layout)
        notes += data.notes[before:]
        explo.append((data.path, rows))
        posed.append((data, rows))
        frames.append(fr)
    phased = _phased(trials, notes)
    tracking = tracking_flags(phased, params, notes, posed)
    explo += [(d.path, t) for d, t in phased]
    refuse_repeats(explo, ["subject", "phase"], "exploration")
    explo = [_object_zones(t, params, notes) for _, t in label_sources(explo, files)]
    key, merged = one_key_per_subject(concat(keys, KEY_COLUMNS), files=files)
    flags, repeated = merge_repeats(concat(flags, FLAG_COLUMNS), ["subject", "phase", "reason"],
                                    what="technical exclusion", files=files)
    return {"exploration": concat(explo, EXPLORATION_COLUMNS), "key": key, "flags": flags,
            "tracking": tracking, "tracked": any("missing_samples" in d.meta for d, _ in trials),
            "frames": concat(frames, ()), "notes": notes + merged + repeated}


def _take(data: RodentData, params: NorParameters, got: dict[str, list]) -> None:
    """Put what one input (or one trial of it) holds into ``got``, by kind."""
    if data.kind == "exploration":
        got["exploration"].append((data.path, data.table))
        got["key"].append(data.meta.get("key", empty_table(KEY_COLUMNS)))
        got["flags"].append(data.meta.get("flags", empty_table(FLAG_COLUMNS)))
    elif data.kind in ("key", "flags", "objects"):
        got[data.kind].append(data.table)
    elif data.kind == "zone_samples":
        got["trials"].append((data, exploration_from_zone_samples(data, params)))
    elif data.kind == "poses":
        got["poses"].append(data)
    else:
        raise InputError(f"a {data.kind} file ({data.fmt}) is not an NOR input", path=data.path)


def _layout(layouts: list[pd.DataFrame], poses: list[RodentData], files: list[Path],
            notes: list[str]) -> pd.DataFrame | None:
    """All object-layout rows, each video's object once, checked against the pose inputs.

    A layout row for a video that is not among the pose inputs is an error when it
    is a likely typo of a video left to the protocol's ``pose.objects``; otherwise
    (a layout of every video of a lab, run on some) a warning names it.
    """
    if not layouts:
        return None
    layout, merged = merge_repeats(concat(layouts, ()), ["video", "object"],
                                   what="object layout", files=files)
    videos = {_video_stem(d.path) for d in poses}
    left = unknown_names(layout, "video", videos, what="object layout",
                         among="the pose inputs", strict=False,
                         spare=videos - set(layout["video"]), files=files)
    notes += merged + unknown_note(left, "object-layout row(s) name videos that are not "
                                      "among the pose inputs (not used)")
    return layout


