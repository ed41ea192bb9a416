"""T-maze inputs: every file read into entries, trials and zone-bin tables.

Pose tracks and per-sample zone flags (ANY-maze, EthoVision) become arm entries
here; hand-scored sheets and entry tables arrive as entries from
:mod:`neurotox.io.rodent`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from neurotox.assays.base import refuse_repeats
from neurotox.assays.rodent import landmarks
from neurotox.assays.rodent import pose as geo
from neurotox.assays.rodent.common import (
    concat,
    label_sources,
    source_file,
    tracking_note,
)
from neurotox.assays.rodent.params import ArmSettings, TmazeParameters
from neurotox.errors import InputError, quoted
from neurotox.io.rodent import RodentData, read_rodent_trials
from neurotox.io.rodent.base import ENTRY_COLUMNS, TRIAL_COLUMNS
from neurotox.io.rodent.pose import video_tracks
from neurotox.io.rodent.scoring import SHEET_COLUMNS
from neurotox.io.rodent.tables import ZONE_BIN_COLUMNS


def maze_arms(entries: pd.DataFrame, params: TmazeParameters, files: Iterable[Path] = ()
              ) -> tuple[list[str], int]:
    """The maze's arm labels and its number of arms (which set the chance level).

    ``arms`` fixes the labels; else ``n_arms`` fixes the count and the labels are
    those seen in the data; ``n_arms: null`` takes the arms seen. A label beyond
    the maze's arms (a typo in a hand-scored sequence) is an error naming its
    file, row, subject and entry, and so are fewer labels than arms in the
    whole run (sequences of the goal arms only need ``n_arms: 2``): either would
    change the chance level of every animal. ``files``: the run's inputs, so that
    the message names the file by its path.
    """
    files = list(files)
    seen = sorted(set(entries["arm"].astype(str)))
    if params.arms:
        arms = list(params.arms)
        extra = [a for a in seen if a not in arms]
        if extra:
            raise _foreign_arm(entries, extra[0], f"the maze arms {quoted(arms)} (parameter "
                               "'arms')", files)
        return arms, len(arms)
    if params.n_arms is None or len(seen) == params.n_arms:
        return seen, len(seen)
    if len(seen) < params.n_arms:
        raise InputError(f"the arm entries name {len(seen)} arm(s) ({quoted(seen)}) in a "
                         f"{params.n_arms}-arm maze (parameter 'n_arms'), which sets the chance "
                         "level; if the sequences record fewer arms (only the goal arms of a "
                         f"T-maze), set n_arms: {len(seen)} (and window), else give 'arms'",
                         path=source_file(str(entries["source"].iloc[0]).partition(":")[0],
                                          files) or None)
    # the label too many is the rarest: used by the fewest animals, then entries
    use = entries.groupby("arm")["subject"].agg(["nunique", "size"]).sort_values(
        ["nunique", "size"], kind="stable")
    rare = str(use.index[0])
    others = quoted(a for a in seen if a != rare)
    raise _foreign_arm(entries, rare, f"the {params.n_arms} arms of the maze (parameter "
                       f"'n_arms'; the other labels seen: {others})", files)


def _foreign_arm(entries: pd.DataFrame, arm: str, maze: str, files: list[Path]) -> InputError:
    hits = entries[entries["arm"].astype(str) == arm]
    first = hits.iloc[0]
    file, _, where = str(first["source"]).partition(":")
    return InputError(f"subject {first['subject']!r}, entry {int(first['order'])}: arm {arm!r} "
                      f"is not one of {maze}; {len(hits)} entry(ies) of "
                      f"{hits['subject'].nunique()} animal(s) name it: correct the sequence, or "
                      "give the maze's 'arms' (or 'n_arms')", path=source_file(file, files) or None,
                      where=where or None)


def _median_landmark(data: RodentData, point: str, zone: str, settings: ArmSettings,
                     k: int) -> tuple[float, float]:
    """Median position (cm) of a maze landmark over the frames above min_likelihood."""
    xy = data.poses.point(point, k).copy()
    score = data.poses.score(point, k)
    xy[~(score >= settings.min_likelihood) & np.isfinite(score)] = np.nan
    seen = np.isfinite(xy).all(axis=1)
    if not seen.any():
        raise InputError(f"zone {zone!r} needs landmark {point!r}, which has no frame above "
                         f"min_likelihood {settings.min_likelihood:g} (of {len(xy)} frames)",
                         path=data.path)
    return tuple(np.median(xy[seen], axis=0) / settings.px_per_cm)


def landmark_arms(data: RodentData, zones: dict[str, list[str]],
                  settings: ArmSettings, k: int = 0) -> list[geo.Shape]:
    """Arm polygons (cm) from zones defined over tracked maze landmarks (median position).

    A landmark never tracked above ``min_likelihood`` is an error naming it, the
    zone it defines and the file.
    """
    missing = sorted(set(settings.arm_zones) - set(zones))
    if missing:
        raise InputError(f"arm zone(s) {quoted(missing)} not in the zone file; it defines "
                         f"{quoted(zones)}")
    _refuse_moved(data, zones, settings, k)
    return [geo.Shape(name=name, kind="polygon", vertices=tuple(
        _median_landmark(data, point, name, settings, k) for point in zones[name]))
        for name in settings.arm_zones]


def _refuse_moved(data: RodentData, zones: dict[str, list[str]], settings: ArmSettings,
                  k: int) -> None:
    """InputError when a landmark of the arm zones jumped mid-video (camera bumped).

    The zones are built from the landmarks' median positions: after a jump they
    are wrong for part of the video (:mod:`neurotox.assays.rodent.landmarks`).
    """
    points = sorted({p for name in settings.arm_zones for p in zones[name]})
    moves = landmarks.track_moves(data.poses, points, k, fps=settings.fps,
                                  px_per_cm=settings.px_per_cm,
                                  min_likelihood=settings.min_likelihood)
    if moves:
        moved = {m.landmark for m in moves}
        hit = [z for z in settings.arm_zones if moved & set(zones[z])]
        raise InputError(f"{landmarks.describe(moves, settings.px_per_cm)}; the arm zones "
                         f"{quoted(hit)} are built from these landmarks' median positions and "
                         "would be wrong for part of the video: cut the video at the jump and "
                         "analyse the parts, or track it again", path=data.path)


def entries_from_poses(data: RodentData, subject: str, settings: ArmSettings,
                       zones: dict[str, list[str]] | None = None) -> pd.DataFrame:
    """Arm entries from pose tracks: body centre and ``min_fraction`` of keypoints in an arm.

    Times come from the video frame numbers (dropped frames keep their place).
    The body-centre keypoint never tracked above ``min_likelihood`` is an error.
    """
    k, notes = video_tracks(data, settings.individual)
    # landmarks of the arm zones are checked (and refused) by landmark_arms
    skip = {*settings.keypoints, *(p for z in settings.arm_zones for p in (zones or {}).get(z, []))}
    data.notes += notes + landmarks.moved_static_note(
        data, k, body=settings.body, skip=skip, fps=settings.fps,
        px_per_cm=settings.px_per_cm, min_likelihood=settings.min_likelihood)
    arms = list(settings.arms)
    if settings.arm_zones:
        if zones is None:
            raise InputError("'arm_zones' set but no zone file among the inputs", path=data.path)
        arms += landmark_arms(data, zones, settings, k)
    points = {}
    for name in {*settings.keypoints, settings.body}:
        xy = data.poses.point(name, k) / settings.px_per_cm
        points[name] = geo.clean_track(xy, data.poses.score(name, k),
                                       min_score=settings.min_likelihood,
                                       max_gap=settings.max_gap_frames, frames=data.poses.frames)
    if not np.isfinite(points[settings.body]).all(axis=1).any():
        raise InputError(f"body-centre keypoint {settings.body!r} has no frame above "
                         f"min_likelihood {settings.min_likelihood:g} (of "
                         f"{len(points[settings.body])} frames): no arm entry can be found",
                         path=data.path)
    inside = {arm.name: geo.arm_membership(points, arm, centre=settings.body,
                                           min_fraction=settings.min_fraction)
              for arm in arms}
    seq = geo.zone_sequence(inside, min_frames=max(int(round(settings.min_entry_s *
                                                             settings.fps)), 1))
    times = data.poses.times(settings.fps)
    ends = np.r_[times, times[-1] + 1 / settings.fps] if len(times) else np.zeros(1)
    return pd.DataFrame({"subject": subject, "condition": "NA", "order": np.arange(len(seq)) + 1,
                         "arm": seq["arm"], "enter_s": ends[seq["enter_frame"].to_numpy(int)],
                         "exit_s": ends[seq["exit_frame"].to_numpy(int)],
                         "source": f"{data.path.name}:frames"}, columns=list(ENTRY_COLUMNS))


def _zone(column: str) -> str:
    return column.split(":", 1)[1]


def _arm_columns(data: RodentData, params: TmazeParameters) -> dict[str, str]:
    """``{zone column: arm label}`` of the zone flags of ``params.zone_point``."""
    point = params.zone_point.lower().replace("centre", "center")
    zones = {c.split(":", 1)[1]: c for c in data.table.columns if c.startswith(f"{point}:")}
    if params.zone_arms:
        missing = sorted(set(params.zone_arms) - set(zones))
        if missing:
            raise InputError(f"zone(s) {quoted(missing)} of zone_arms not in the file; zones of "
                             f"point {point!r}: {quoted(zones)}", path=data.path)
        arms = {zones[z]: label for z, label in params.zone_arms.items()}
    else:
        arms = {c: z for z, c in zones.items()
                if not re.search(params.centre_zones, z, re.IGNORECASE)}
    if len(arms) < 2:
        raise InputError(f"expected at least 2 arm zones of point {point!r}, found "
                         f"{quoted(arms.values())} (zones: {quoted(zones)}; "
                         "set zone_arms or centre_zones)", path=data.path)
    if not params.zone_arms and not params.arms and params.n_arms \
            and len(arms) == params.n_arms + 1:
        raise _centre_as_arm(data, params, list(arms.values()))
    return arms


#: Zone names that read like a maze's centre (in an error message only: not a default).
_CENTRE_LIKE = re.compile(r"mid|cent|hub|junction|choice|neutral",
                          re.IGNORECASE)


def _centre_as_arm(data: RodentData, params: TmazeParameters, arms: list[str]) -> InputError:
    """The error of a zone export with one arm zone more than the maze: its centre, likely."""
    like = [z for z in arms if _CENTRE_LIKE.search(z)]
    which = (f"zone {like[0]!r} looks like the centre" if len(like) == 1 else
             "one of them is the centre, most likely")
    example = re.sub(r"([.^$*+?{}\[\]\\|()])", r"\\\1", like[0]) if len(like) == 1 \
        else "Middle"   # the zone's name as a pattern (spaces kept readable)
    return InputError(
        f"{len(arms)} zones do not match centre_zones {params.centre_zones!r} "
        f"({quoted(arms)}) for a {params.n_arms}-arm maze (n_arms): {which}. Name the "
        f"centre with the parameter centre_zones (--param \"centre_zones=^{example}$\"), or "
        "the arms with zone_arms", path=data.path)


def entries_from_zone_samples(data: RodentData, params: TmazeParameters
                              ) -> tuple[pd.DataFrame, str]:
    """Arm entries from per-sample zone flags; returns (entries, a note on the rule).

    A run of samples in one arm zone is one entry; samples in another zone of the
    point (the centre) end it. Samples in no zone at all (a boundary between
    zones, a lost sample) end it too (``no_zone_samples: exit``) or continue the
    zone before them (``continue``). Entries shorter than ``min_entry_s``
    are dropped. Consecutive entries into the same arm (out to the centre and
    back) stay separate entries here; ``reentries`` decides how they are scored.
    """
    arms = _arm_columns(data, params)
    t = data.table
    point = params.zone_point.lower().replace("centre", "center")
    in_arm = np.stack([t[c].to_numpy() > 0 for c in arms])
    both = np.flatnonzero(in_arm.sum(axis=0) > 1)
    if len(both):
        raise InputError(f"sample at {t['time_s'].iloc[both[0]]:g} s is in two arm zones "
                         f"({quoted(a for c, a in arms.items() if t[c].iloc[both[0]] > 0)})",
                         path=data.path)
    others = [c for c in t.columns if c.startswith(f"{point}:") and c not in arms]
    elsewhere = np.any(np.stack([t[c].to_numpy() > 0 for c in others]), axis=0) \
        if others else np.zeros(len(t), bool)
    state = pd.Series(np.where(in_arm.any(axis=0), in_arm.argmax(axis=0), -1).astype(float))
    if params.no_zone_samples == "continue":   # a boundary or lost sample: the zone before
        state[~in_arm.any(axis=0) & ~elsewhere] = np.nan
    state = state.ffill().fillna(-1).to_numpy(int)
    labels = list(arms.values())
    seq = geo.zone_sequence({labels[k]: state == k for k in range(len(labels))})
    times = t["time_s"].to_numpy(float)
    durations = data.meta.get("sample_durations")
    if durations is None:
        durations = np.full(len(t), data.meta.get("sample_interval_s", np.nan))
    ends = np.r_[0.0, np.cumsum(durations)]
    length = ends[seq["exit_frame"]] - ends[seq["enter_frame"]]
    seq = seq[length >= params.min_entry_s] if params.min_entry_s else seq
    out = pd.DataFrame({"subject": data.meta["subject"], "condition": "NA",
                        "order": np.arange(len(seq)) + 1, "arm": seq["arm"].to_numpy(),
                        "enter_s": times[seq["enter_frame"]],
                        "exit_s": times[seq["enter_frame"]] + length[seq.index],
                        "source": f"{data.name}:samples"}, columns=list(ENTRY_COLUMNS))
    named = ", ".join(f"{_zone(c)}={a}" for c, a in arms.items())
    rest = ", ".join(_zone(c) for c in others) or "none"
    note = (f"{data.name}: {len(out)} arm entries from zone samples of point {point!r} "
            f"(arms: {named}; other zones, no arm: {rest}; samples in no zone: "
            f"{params.no_zone_samples})")
    return out, note


def cut_short(data: RodentData, trial_s: float | None) -> tuple[str, str] | None:
    """(warning, exclusion reason) when a zone-sample recording ends before ``trial_s``.

    The end is the last sample's time plus its duration; a recording shorter
    than the protocol's trial by more than 1 % (and 1 s) was cut or stopped
    early: fewer entries, another alternation %.
    """
    t = data.table["time_s"].to_numpy(float)
    if trial_s is None or not len(t):
        return None
    durations = data.meta.get("sample_durations")
    last = durations[-1] if durations is not None and len(durations) else \
        data.meta.get("sample_interval_s", 0.0)
    end = float(t[-1] + (last if np.isfinite(last) else 0.0))
    if end >= trial_s - max(1.0, 0.01 * trial_s):
        return None
    reason = f"recording ends at {end:g} s, before the {trial_s:g}-s trial (trial_s)"
    return f"warning: {data.name}: {reason}; subject {data.meta['subject']} excluded", reason


def _pose_subject(path: Path) -> str:
    return re.split(r"DLC_|DeepCut_|\.analysis", path.stem)[0]


def _take(data: RodentData, params: TmazeParameters, got: dict[str, list]) -> None:
    """Put what one input (or one trial of it) holds into ``got``, by kind."""
    if data.kind == "entries":
        got["entries"].append((data.path, data.table))
        if "animals" in data.meta:
            got["sheets"].append(data.meta["animals"])
            got["numeric"] += data.meta["numeric_subjects"]
    elif data.kind == "zone_samples":
        table, note = entries_from_zone_samples(data, params)
        got["entries"].append((data.where, table))
        got["notes"].append(note)
        said = tracking_note(data, params.zone_point, params.max_missing_fraction,
                             f"subject {data.meta['subject']}")
        said = cut_short(data, params.trial_s) or said
        if said:
            got["notes"].append(said[0])
            got["tracking"] += [{"subject": data.meta["subject"], "condition": "NA",
                                 "reason": said[1]}] if said[1] else []
    elif data.kind in ("trials", "zone_bins"):
        got[data.kind].append((data.path, data.table))
    elif data.kind == "zones":
        got["zones"].append(data.meta["zones"])
    elif data.kind == "poses":
        got["poses"].append(data)
    else:
        raise InputError(f"a {data.kind} file ({data.fmt}) is not a T-maze input",
                         path=data.path)


def collect(files: list[Path], params: TmazeParameters) -> dict[str, Any]:
    """Read every input into entries and trials tables (zone files apply to pose inputs).

    An animal's entries, trials or zone bins found in two files are refused
    (:func:`~neurotox.assays.base.refuse_repeats`): merged, two copies
    of a sequence would interleave into one with no alternation.
    """
    got: dict[str, list] = {k: [] for k in ("entries", "trials", "poses", "notes", "zone_bins",
                                            "sheets", "numeric", "zones", "tracking")}
    from_zones = False
    for path in files:
        given = params.file_subjects.get(path.name)
        for data in read_rodent_trials(path, **({"subject": given} if given is not None else {})):
            got["notes"] += data.notes
            from_zones |= data.kind == "zone_samples"
            _take(data, params, got)
    entries, trials, poses, notes, zone_bins, sheets, numeric = (
        got[k] for k in ("entries", "trials", "poses", "notes", "zone_bins", "sheets", "numeric"))
    zones, tracking = (got["zones"][-1] if got["zones"] else None), got["tracking"]
    for data in poses:
        if params.pose is None:
            raise InputError("pose input given but the protocol has no 'pose' settings "
                             "(arms, px_per_cm, fps)", path=data.path)
        before = len(data.notes)
        subject = params.file_subjects.get(data.path.name) or _pose_subject(data.path)
        entries.append((data.path, entries_from_poses(data, subject, params.pose, zones)))
        notes += data.notes[before:]
    refuse_repeats(entries, ["subject", "condition"], "arm entries")
    refuse_repeats(trials, ["subject", "condition", "session", "trial"], "trial")
    refuse_repeats(zone_bins, ["subject", "timepoint", "phase"], "zone time bins")
    entries, trials, zone_bins = (label_sources(t, files) for t in (entries, trials, zone_bins))
    return {"entries": concat([t for _, t in entries], ENTRY_COLUMNS),
            "trials": concat([t for _, t in trials], TRIAL_COLUMNS),
            "zone_bins": concat([t for _, t in zone_bins], ZONE_BIN_COLUMNS), "notes": notes,
            "sheets": concat(sheets, SHEET_COLUMNS), "numeric_subjects": numeric,
            "from_zones": from_zones,
            "tracking": pd.DataFrame(tracking, columns=["subject", "condition", "reason"])}
