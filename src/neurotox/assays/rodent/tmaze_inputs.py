"""T-maze inputs: every file read into entries, trials and zone-bin tables (poses → entries)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from neurotox.assays.rodent import pose as geo
from neurotox.assays.rodent.common import concat
from neurotox.assays.rodent.params import ArmSettings, TmazeParameters
from neurotox.errors import InputError, quoted
from neurotox.io.rodent import RodentData, read_rodent
from neurotox.io.rodent.base import ENTRY_COLUMNS, TRIAL_COLUMNS
from neurotox.io.rodent.tables import ZONE_BIN_COLUMNS


def landmark_arms(data: RodentData, zones: dict[str, list[str]],
                  settings: ArmSettings) -> list[geo.Shape]:
    """Arm polygons (cm) from zones defined over tracked maze landmarks (median position)."""
    missing = sorted(set(settings.arm_zones) - set(zones))
    if missing:
        raise InputError(f"arm zone(s) {quoted(missing)} not in the zone file; it defines "
                         f"{quoted(zones)}")
    shapes = []
    for name in settings.arm_zones:
        corners = []
        for point in zones[name]:
            xy = data.poses.point(point).copy()
            xy[~(data.poses.score(point) >= settings.min_likelihood)
               & np.isfinite(data.poses.score(point))] = np.nan
            corners.append(tuple(np.nanmedian(xy, axis=0) / settings.px_per_cm))
        shapes.append(geo.Shape(name=name, kind="polygon", vertices=tuple(corners)))
    return shapes


def entries_from_poses(data: RodentData, subject: str, settings: ArmSettings,
                       zones: dict[str, list[str]] | None = None) -> pd.DataFrame:
    """Arm entries from pose tracks: body centre and ``min_fraction`` of keypoints in an arm."""
    arms = list(settings.arms)
    if settings.arm_zones:
        if zones is None:
            raise InputError("'arm_zones' set but no zone file among the inputs", path=data.path)
        arms += landmark_arms(data, zones, settings)
    points = {}
    for name in {*settings.keypoints, settings.body}:
        xy = data.poses.point(name) / settings.px_per_cm
        points[name] = geo.clean_track(xy, data.poses.score(name),
                                       min_score=settings.min_likelihood,
                                       max_gap=settings.max_gap_frames)
    inside = {arm.name: geo.arm_membership(points, arm, centre=settings.body,
                                           min_fraction=settings.min_fraction)
              for arm in arms}
    seq = geo.zone_sequence(inside, min_frames=max(int(round(settings.min_entry_s *
                                                             settings.fps)), 1))
    return pd.DataFrame({"subject": subject, "condition": "NA", "order": np.arange(len(seq)) + 1,
                         "arm": seq["arm"], "enter_s": seq["enter_frame"] / settings.fps,
                         "exit_s": seq["exit_frame"] / settings.fps,
                         "source": f"{data.path.name}:frames"}, columns=list(ENTRY_COLUMNS))


def _pose_subject(path: Path) -> str:
    import re

    return re.split(r"DLC_|DeepCut_|\.analysis", path.stem)[0]


def collect(files: list[Path], params: TmazeParameters) -> dict[str, Any]:
    """Read every input into entries and trials tables (zone files apply to pose inputs)."""
    entries, trials, poses, notes, zone_bins = [], [], [], [], []
    zones = None
    for path in files:
        data = read_rodent(path)
        notes += data.notes
        if data.kind == "entries":
            entries.append(data.table)
        elif data.kind == "trials":
            trials.append(data.table)
        elif data.kind == "zones":
            zones = data.meta["zones"]
        elif data.kind == "zone_bins":
            zone_bins.append(data.table)
        elif data.kind == "poses":
            poses.append(data)
        else:
            raise InputError(f"a {data.kind} file ({data.fmt}) is not a T-maze input", path=path)
    for data in poses:
        if params.pose is None:
            raise InputError("pose input given but the protocol has no 'pose' settings "
                             "(arms, px_per_cm, fps)", path=data.path)
        entries.append(entries_from_poses(data, _pose_subject(data.path), params.pose, zones))
    return {"entries": concat(entries, ENTRY_COLUMNS), "trials": concat(trials, TRIAL_COLUMNS),
            "zone_bins": concat(zone_bins, ZONE_BIN_COLUMNS), "notes": notes}


