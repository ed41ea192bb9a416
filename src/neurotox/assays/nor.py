"""Novel object recognition (NOR): exploration times, indices, exclusions and one-sample tests.

Inputs (any mix, detected by :mod:`neurotox.io.rodent`): scoring sheets, SimBA
aggregates, ANY-maze results, EthoVision XT raw data, DeepLabCut/SLEAP poses
(with object shapes from the protocol), plus a novel-object key and technical
exclusion lists. Every input is reduced to one exploration table (subject ×
phase × object); the analysis below works on that table only.

Endpoints (timepoint = the protocol's ``timepoint``, e.g. the retention delay):

* test phase: ``nor_exploration_novel``, ``nor_exploration_familiar``,
  ``nor_total_exploration``, ``nor_discrimination_index`` DI = (N − F)/(N + F),
  ``nor_recognition_index`` N/(N + F), ``nor_latency_novel`` (when the input has
  times);
* training phase: ``nor_training_total_exploration`` and
  ``nor_training_side_bias`` (L − R)/(L + R).

Exclusions (values kept, ``excluded`` with a reason): technical flags for the
phase; total test exploration below ``min_test_exploration_s`` (default 10 s;
at the threshold too when ``threshold_inclusive``); |training side bias| above
``max_training_bias``; training exploration below ``min_training_exploration_s``.

The novel object of each subject comes from a key (side ``L``/``R`` or object
label), from ``novel``/``familiar`` columns of a scoring sheet, or, for files that
do not record it (EthoVision exports), from the protocol's ``novel_default``; its
use is written to the run notes.

References
----------
Ennaceur A, Delacour J (1988). Behav Brain Res 31:47-59.
Antunes M, Biala G (2012). The novel object recognition memory: neurobiology, test
procedure, and its modifications. Cogn Process 13:93-110.

"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from neurotox import endpoints
from neurotox.assays import pose as geo
from neurotox.assays.base import AssayPlugin, AssayResult, register
from neurotox.errors import InputError, quoted
from neurotox.io.rodent import RodentData, read_rodent, side_of
from neurotox.io.rodent.base import EXPLORATION_COLUMNS, FLAG_COLUMNS, KEY_COLUMNS
from neurotox.io.rodent.tables import parse_video
from neurotox.stats.one_sample import one_sample_table, sex_by_group_anova
from neurotox.study import AssaySpec, Study

ASSAY = "nor"


class PoseSettings(BaseModel):
    """How exploration is derived from pose tracks (DeepLabCut/SLEAP).

    ``objects`` (cm) apply to every video; a per-video object-layout file among the
    inputs (pixels) overrides them for the videos it names.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    px_per_cm: float = Field(gt=0)
    fps: float = Field(gt=0)
    objects: tuple[geo.Shape, ...] = Field(default=(), max_length=2)
    nose: str = "nose"
    head: tuple[str, ...] = Field(default=("left_ear", "right_ear"), min_length=1)
    body: str = "body_centre"
    individual: int = Field(default=0, ge=0)
    distance_cm: float = Field(default=2.0, gt=0)
    max_angle_deg: float = Field(default=45.0, gt=0, le=180)
    min_likelihood: float = Field(default=0.6, ge=0, le=1)
    max_gap_frames: int = Field(default=5, ge=0)


class NorParameters(BaseModel):
    """Closed parameter model of the NOR assay (protocol ``nor-standard``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    min_test_exploration_s: float = Field(default=10.0, ge=0)
    threshold_inclusive: bool = False
    min_training_exploration_s: float | None = Field(default=None, ge=0)
    max_training_bias: float | None = Field(default=None, gt=0, le=1)
    min_bout_s: float = Field(default=0.0, ge=0)
    exclude_climbing: bool = True
    exploration_point: str = "nose"
    object_zone_pattern: str = "object"
    video_regex: str | None = None
    video_include: str | None = None
    phase_map: dict[str, Literal["training", "test"]] = Field(default_factory=dict)
    novel_default: str | None = None
    timepoint: str = "NA"
    normality_alpha: float = Field(default=0.05, gt=0, lt=0.5)
    pose: PoseSettings | None = None


# ------------------------------------------------------------ zone samples / poses

def _dt(data: RodentData) -> float:
    step = data.meta.get("sample_interval_s", np.nan)
    if not np.isfinite(step) or step <= 0:
        raise InputError("cannot determine the sample interval", path=data.path)
    return float(step)


def _zone_rows(times: np.ndarray, flags: dict[str, np.ndarray], step: float,
               min_frames: int) -> dict[str, dict[str, float]]:
    out = {}
    for obj, mask in flags.items():
        kept, n = geo.bouts(mask, min_frames=min_frames)
        first = np.flatnonzero(kept)
        out[obj] = {"time_s": float(kept.sum() * step), "bouts": float(n),
                    "latency_s": float(times[first[0]] - times[0]) if len(first) else np.nan}
    return out


def exploration_from_zone_samples(data: RodentData, params: NorParameters) -> pd.DataFrame:
    """Exploration per object from EthoVision per-sample zone flags (phase left empty).

    A sample counts for an object when the ``exploration_point`` (nose) is in the
    object zone and, with ``exclude_climbing``, the centre point is not (the animal
    on/over the object). Zones whose name contains ``object_zone_pattern`` are objects.
    """
    t = data.table
    point = params.exploration_point.lower()
    zones = sorted(c.split(":", 1)[1] for c in t.columns if c.startswith(f"{point}:")
                   and re.search(params.object_zone_pattern, c.split(":", 1)[1], re.I))
    if len(zones) != 2:
        raise InputError(f"expected 2 object zones for point {point!r} matching "
                         f"{params.object_zone_pattern!r}, found {quoted(zones) or 'none'}",
                         path=data.path)
    step = _dt(data)
    flags = {}
    for z in zones:
        mask = t[f"{point}:{z}"].to_numpy() > 0
        if params.exclude_climbing and f"center:{z}" in t:
            mask &= ~(t[f"center:{z}"].to_numpy() > 0)
        flags[z] = mask
    per = _zone_rows(t["time_s"].to_numpy(float), flags, step,
                     int(round(params.min_bout_s / step)))
    subject = data.meta["subject"]
    return pd.DataFrame([{"subject": subject, "phase": "", "object": z, **v,
                          "source": f"{data.path.name}:{data.meta['trial']}"}
                         for z, v in per.items()], columns=list(EXPLORATION_COLUMNS))


def _start(meta: dict[str, Any]) -> tuple[Any, ...]:
    text = meta.get("start_time", "")
    for fmt in ("%m/%d/%Y %H:%M:%S.%f", "%d/%m/%Y %H:%M:%S.%f", "%Y-%m-%d %H:%M:%S.%f"):
        try:
            return (0, dt.datetime.strptime(text, fmt))
        except ValueError:
            continue
    num = re.findall(r"\d+", meta.get("trial", ""))
    return (1, int(num[-1]) if num else 0)


def assign_phases(parts: list[tuple[RodentData, pd.DataFrame]], notes: list[str]
                  ) -> pd.DataFrame:
    """Give per-trial exploration tables of a subject the phases training, test by start time."""
    by_subject: dict[str, list] = {}
    for data, table in parts:
        by_subject.setdefault(data.meta["subject"], []).append((_start(data.meta), data, table))
    out = []
    for subject, trials in sorted(by_subject.items()):
        if len(trials) > 2:
            raise InputError(f"subject {subject!r} has {len(trials)} trials; expected a "
                             "training and a test trial", path=trials[0][1].path)
        trials.sort(key=lambda x: x[0])
        phases = ("training", "test") if len(trials) == 2 else ("test",)
        for phase, (_, data, table) in zip(phases, trials, strict=True):
            out.append(table.assign(phase=phase))
            notes.append(f"{data.path.name}: subject {subject} trial {data.meta['trial']} taken "
                         f"as the {phase} phase (order of start time)")
    return pd.concat(out, ignore_index=True) if out else _empty(EXPLORATION_COLUMNS)


def _video_stem(path: Path) -> str:
    return re.split(r"DLC_|DeepCut_|\.analysis", path.stem)[0]


def _pose_subject(data: RodentData, params: NorParameters) -> tuple[str, str]:
    stem = _video_stem(data.path)
    hit = parse_video(stem, video_regex=params.video_regex, phase_map=params.phase_map)
    if hit is None:
        raise InputError(f"cannot read subject and phase from the file name {stem!r} with "
                         f"pattern {params.video_regex or 'default'!r}", path=data.path)
    return hit


def _pose_point(data: RodentData, names: tuple[str, ...], ps: PoseSettings) -> np.ndarray:
    tracks = []
    for name in names:
        xy = data.poses.point(name, ps.individual) / ps.px_per_cm
        tracks.append(geo.clean_track(xy, data.poses.score(name, ps.individual),
                                      min_score=ps.min_likelihood, max_gap=ps.max_gap_frames))
    return np.nanmean(np.stack(tracks), axis=0) if len(tracks) > 1 else tracks[0]


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
    subject, phase = _pose_subject(data, params)
    objects, px = video_objects(layout if layout is not None else pd.DataFrame(),
                                _video_stem(data.path), params.pose)
    if len(objects) != 2:
        raise InputError(f"expected 2 objects for this video, found {len(objects)} (give "
                         "pose.objects in the protocol or an object-layout file)",
                         path=data.path)
    ps = params.pose.model_copy(update={"objects": objects, "px_per_cm": px})
    nose = _pose_point(data, (ps.nose,), ps)
    head = _pose_point(data, ps.head, ps)
    body = _pose_point(data, (ps.body,), ps)
    min_frames = int(round(params.min_bout_s * ps.fps))
    rows, frames = [], []
    for shape in ps.objects:
        f = geo.exploration_frames(nose, head, body, shape, distance_cm=ps.distance_cm,
                                   max_angle_deg=ps.max_angle_deg, min_bout_frames=min_frames)
        first = np.flatnonzero(f["exploring"].to_numpy())
        _, n = geo.bouts(f["exploring"].to_numpy())
        rows.append({"subject": subject, "phase": phase, "object": shape.name,
                     "time_s": f["exploring"].sum() / ps.fps, "bouts": float(n),
                     "latency_s": first[0] / ps.fps if len(first) else np.nan,
                     "source": f"{data.path.name}:{shape.name}"})
        frames.append(f.assign(subject=subject, phase=phase, object=shape.name,
                               frame=np.arange(len(f)), time_s=np.arange(len(f)) / ps.fps))
    return pd.DataFrame(rows, columns=list(EXPLORATION_COLUMNS)), pd.concat(frames)


# ------------------------------------------------------------ collect inputs

def _empty(columns: tuple[str, ...]) -> pd.DataFrame:
    return pd.DataFrame(columns=list(columns))


def concat(tables: list[pd.DataFrame], columns: tuple[str, ...]) -> pd.DataFrame:
    """Concatenate the non-empty tables; an empty frame with ``columns`` if none."""
    tables = [t for t in tables if len(t)]
    return pd.concat(tables, ignore_index=True) if tables else _empty(columns)


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
            "phase_map": dict(params.phase_map)}


def collect(files: list[Path], params: NorParameters) -> dict[str, Any]:
    """Read every input and reduce it to exploration, key, flags and per-frame tables."""
    opts = _reader_options(params)
    explo, keys, flags, trials, frames, notes, poses = [], [], [], [], [], [], []
    layout = None
    for path in files:
        data = read_rodent(path, **opts)
        notes += data.notes
        if data.kind == "exploration":
            explo.append(data.table)
            keys.append(data.meta.get("key", _empty(KEY_COLUMNS)))
            flags.append(data.meta.get("flags", _empty(FLAG_COLUMNS)))
        elif data.kind == "key":
            keys.append(data.table)
        elif data.kind == "flags":
            flags.append(data.table)
        elif data.kind == "zone_samples":
            trials.append((data, exploration_from_zone_samples(data, params)))
        elif data.kind == "poses":
            poses.append(data)
        elif data.kind == "objects":
            layout = data.table
        else:
            raise InputError(f"a {data.kind} file ({data.fmt}) is not an NOR input", path=path)
    for data in poses:
        rows, fr = exploration_from_poses(data, params, layout)
        explo.append(rows)
        frames.append(fr)
    if trials:
        explo.append(assign_phases(trials, notes))
    explo = [_object_zones(t, params, notes) for t in explo]
    return {"exploration": concat(explo, EXPLORATION_COLUMNS), "key": concat(keys, KEY_COLUMNS),
            "flags": concat(flags, FLAG_COLUMNS), "frames": concat(frames, ()), "notes": notes}


# ------------------------------------------------------------ per-animal analysis

def _novel_object(objects: list[str], novel: str | None, subject: str) -> str:
    lower = {o.lower(): o for o in objects}
    if "novel" in lower and "familiar" in lower:
        return lower["novel"]
    if novel is None:
        raise InputError(f"no novel-object key for subject {subject!r} (give a key file with "
                         "subject and novel_side/novel_object)")
    side = side_of(novel)
    hits = [o for o in objects if (side and side_of(o) == side) or o.lower() == novel.lower()]
    if len(hits) != 1:
        raise InputError(f"subject {subject!r}: novel object {novel!r} matches "
                         f"{len(hits)} of the objects {quoted(objects)}")
    return hits[0]


def _left_right(objects: list[str]) -> tuple[str, str]:
    sides = {side_of(o): o for o in objects}
    if "L" in sides and "R" in sides:
        return sides["L"], sides["R"]
    a, b = sorted(objects)
    return a, b


def _phase_row(part: pd.DataFrame, phase: str, novel: str | None) -> dict[str, Any]:
    subject = part["subject"].iloc[0]
    objects = list(part["object"])
    if len(objects) != 2 or len(set(objects)) != 2:
        raise InputError(f"subject {subject!r}, {phase}: expected 2 objects, found "
                         f"{quoted(objects)}")
    t = dict(zip(part["object"], part["time_s"].astype(float), strict=True))
    lat = dict(zip(part["object"], part["latency_s"].astype(float), strict=True))
    if phase == "test":
        a = _novel_object(objects, novel, subject)
        b = next(o for o in objects if o != a)
    else:
        a, b = _left_right(objects)
    total = t[a] + t[b]
    with np.errstate(invalid="ignore", divide="ignore"):
        index = (t[a] - t[b]) / total
    return {"subject": subject, "phase": phase, "object_a": a, "object_b": b,
            "time_a_s": t[a], "time_b_s": t[b], "total_s": total, "index": index,
            "ratio": t[a] / total if total > 0 else np.nan, "latency_a_s": lat[a],
            "source": "; ".join(sorted(set(part["source"].str.split(",").str[0])))}


def _reasons(row: pd.Series, flags: dict[tuple[str, str], list[str]],
             training: dict[str, pd.Series], params: NorParameters) -> list[str]:
    reasons = [f"technical flag: {r}" for r in flags.get((row["subject"], row["phase"]), [])]
    if not np.isfinite(row["total_s"]):
        reasons.append(f"{row['phase']}-phase exploration time missing")
    if row["phase"] == "test":
        thr = params.min_test_exploration_s
        low = row["total_s"] <= thr if params.threshold_inclusive else row["total_s"] < thr
        if low:
            op = "<=" if params.threshold_inclusive else "<"
            reasons.append(f"total test exploration {row['total_s']:.3f} s {op} {thr:g} s")
        tr = training.get(row["subject"])
        if tr is not None and params.max_training_bias is not None and \
                abs(tr["index"]) > params.max_training_bias:
            reasons.append(f"training side bias |{tr['index']:.3f}| > "
                           f"{params.max_training_bias:g}")
    elif params.min_training_exploration_s is not None and \
            row["total_s"] < params.min_training_exploration_s:
        reasons.append(f"total training exploration {row['total_s']:.3f} s < "
                       f"{params.min_training_exploration_s:g} s")
    return reasons


def nor_animals(exploration: pd.DataFrame, key: pd.DataFrame, flags: pd.DataFrame,
                params: NorParameters) -> pd.DataFrame:
    """Per-animal, per-phase NOR table with indices and exclusion reasons.

    Returns
    -------
    pandas.DataFrame
        One row per subject × phase: ``object_a`` (novel in the test, left in
        training), ``object_b``, their times, ``total_s``, ``index`` (DI in the
        test, side bias in training), ``ratio`` (recognition index / left share),
        ``latency_a_s``, ``excluded``, ``exclusion_reason``, ``source``.

    """
    novel = dict(zip(key["subject"], key["novel"], strict=True)) if len(key) else {}
    rows = [_phase_row(part, phase, novel.get(subj, params.novel_default))
            for (subj, phase), part in exploration.groupby(["subject", "phase"], sort=True)]
    flagged: dict[tuple[str, str], list[str]] = {}
    for r in flags.itertuples(index=False):
        flagged.setdefault((r.subject, r.phase), []).append(r.reason)
    for subj, phase in sorted(set(flagged) - {(r["subject"], r["phase"]) for r in rows}):
        rows.append({"subject": subj, "phase": phase, "total_s": np.nan, "index": np.nan,
                     "ratio": np.nan, "source": "exclusion list"})
    animals = pd.DataFrame(rows)
    training = {r["subject"]: r for _, r in animals[animals["phase"] == "training"].iterrows()}
    reasons = [_reasons(r, flagged, training, params) for _, r in animals.iterrows()]
    animals["excluded"] = [bool(x) for x in reasons]
    animals["exclusion_reason"] = ["; ".join(x) for x in reasons]
    return animals.sort_values(["phase", "subject"], ascending=[False, True],
                               ignore_index=True)


# ------------------------------------------------------------ EndpointTable

_TEST_ENDPOINTS = {"nor_exploration_novel": "time_a_s", "nor_exploration_familiar": "time_b_s",
                   "nor_total_exploration": "total_s", "nor_discrimination_index": "index",
                   "nor_recognition_index": "ratio", "nor_latency_novel": "latency_a_s"}
_TRAINING_ENDPOINTS = {"nor_training_total_exploration": "total_s",
                       "nor_training_side_bias": "index"}


def _records(row: pd.Series, info: dict[str, Any], timepoint: str) -> list[dict[str, Any]]:
    mapping = _TEST_ENDPOINTS if row["phase"] == "test" else _TRAINING_ENDPOINTS
    recs = []
    for name, col in mapping.items():
        value = float(row.get(col, np.nan))
        if name == "nor_latency_novel" and not np.isfinite(value):
            continue  # input has no times (aggregates/sheets without latency)
        excluded = bool(row["excluded"]) or not np.isfinite(value)
        reason = row["exclusion_reason"] or ("" if not excluded else
                                             "not computable (no exploration)")
        recs.append({"endpoint": name, "subject": row["subject"], "value": value,
                     "excluded": excluded, "exclusion_reason": reason if excluded else "",
                     "timepoint": timepoint, "source": row["source"], **info})
    return recs


def check_subjects(table: pd.DataFrame, study: Study, files: list[Path], what: str) -> None:
    """Raise InputError naming the data file and row of the first subject not in the study.

    ``table`` has ``subject`` and ``source`` (``file:row N …``) columns.
    """
    known = set(study.subjects["subject"]) if len(study.subjects) else set()
    bad = ~table["subject"].astype(str).isin(known)
    if not bad.any():
        return
    first = table[bad.to_numpy()].iloc[0]
    name, _, where = str(first["source"]).partition(":")
    path = next((p for p in files if p.name == name), name or study.path)
    raise InputError(f"subject(s) {quoted(table.loc[bad, 'subject'])} in the {what} data are "
                     f"not in the study's subjects file {study.spec.subjects!s}", path=path,
                     where=where.split(",")[0] or None)


def subject_info(study: Study, subject: str) -> dict[str, Any]:
    """Group, dose, sex and batch of a subject, as EndpointTable columns."""
    info = study.subject_info(subject)
    group = study.groups[info["group"]]
    return {"group": group.id, "dose": group.dose, "dose_unit": group.dose_unit,
            "sex": info["sex"], "batch": info.get("batch", "NA") or "NA"}


def nor_endpoints(animals: pd.DataFrame, study: Study, params: NorParameters) -> pd.DataFrame:
    """EndpointTable of the NOR assay from :func:`nor_animals` output."""
    recs = []
    for _, row in animals.iterrows():
        recs += _records(row, subject_info(study, row["subject"]), params.timepoint)
    return endpoints.from_records(recs, study_id=study.study_id, assay=ASSAY)


def one_sample_results(table: pd.DataFrame, *, endpoint: str, reference: float | str,
                       normality_alpha: float) -> pd.DataFrame:
    """One-sample tests of ``endpoint`` per timepoint × group, sexes pooled and per sex."""
    data = table[(table["endpoint"] == endpoint) & ~table["excluded"]]
    if isinstance(reference, str):
        data = data.assign(reference=data[reference])
    pooled = data.assign(sex="all")
    both = pd.concat([pooled, data], ignore_index=True) if data["sex"].nunique() > 1 else pooled
    ref = "reference" if isinstance(reference, str) else reference
    out = one_sample_table(both, by=["endpoint", "timepoint", "group", "sex"], reference=ref,
                           normality_alpha=normality_alpha)
    return out


def sex_by_group(table: pd.DataFrame) -> pd.DataFrame:
    """Two-way ANOVA sex x group of the test-phase DI per timepoint (both sexes only)."""
    di = table[(table["endpoint"] == "nor_discrimination_index") & ~table["excluded"]]
    out = [sex_by_group_anova(part).assign(endpoint="nor_discrimination_index", timepoint=tp)
           for tp, part in di.groupby("timepoint")]
    out = [o for o in out if len(o)]
    return pd.concat(out, ignore_index=True) if out else pd.DataFrame(
        columns=["term", "df", "sum_sq", "F", "p_value", "endpoint", "timepoint"])


# ------------------------------------------------------------ plug-in

def run(study: Study, spec: AssaySpec, params: NorParameters) -> AssayResult:
    """Run the NOR assay entry of a study."""
    return analyse(study, study.assay_inputs(spec), params)


def analyse(study: Study, files: list[Path], params: NorParameters) -> AssayResult:
    """Analyse NOR input files for the subjects of ``study``."""
    data = collect(files, params)
    if not len(data["exploration"]):
        names = quoted(p.name for p in files)
        raise InputError(f"no exploration data among the {len(files)} NOR input(s) ({names}): "
                         "give a scoring sheet, SimBA/ANY-maze/EthoVision export or pose files "
                         "(a key or exclusion list alone is not enough)",
                         path=files[0] if len(files) == 1 else study.path)
    check_subjects(data["exploration"], study, files, "NOR")
    known = set(study.subjects["subject"])
    data["flags"] = data["flags"][data["flags"]["subject"].isin(known)]
    animals = nor_animals(data["exploration"], data["key"], data["flags"], params)
    keyless = sorted(set(data["exploration"]["subject"]) - set(data["key"]["subject"]))
    if keyless and params.novel_default is not None:
        data["notes"].append(f"novel object {params.novel_default!r} (protocol 'novel_default') "
                             f"assumed for {len(keyless)} subject(s) without a key entry: "
                             f"{', '.join(keyless)}")
    table = nor_endpoints(animals, study, params)
    results = one_sample_results(table, endpoint="nor_discrimination_index", reference=0.0,
                                 normality_alpha=params.normality_alpha)
    details = {"nor_animals": animals, "nor_exploration": data["exploration"],
               "nor_one_sample": results, "nor_sex_by_group": sex_by_group(table)}
    if len(data["frames"]):
        details["nor_frames"] = data["frames"]
    return AssayResult(endpoints=table, details=details, notes=data["notes"], inputs=files)


register(AssayPlugin(ASSAY, NorParameters, run,
                     "Novel object recognition: exploration, DI, exclusions, one-sample tests"))


# ------------------------------------------------------------ simulator

SIM_GROUPS = (("G1", "Vehicle control", 0.0), ("G2", "Low dose", 10.0),
              ("G3", "High dose", 100.0))
#: Planted mean test DI per group: memory deficit (DI ~ 0) at the high dose.
SIM_DI = {"G1": 0.35, "G2": 0.30, "G3": 0.0}


def _sim_subjects() -> pd.DataFrame:
    return pd.DataFrame([{"subject": f"{g}{s}{k:02d}", "group": g, "sex": s}
                         for g, _, _ in SIM_GROUPS for s in ("M", "F") for k in range(1, 6)])


def _sim_sheet(subjects: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    rows = []
    for i, r in enumerate(subjects.itertuples(index=False)):
        side = "L" if i % 2 == 0 else "R"
        total_train = rng.uniform(20, 40)
        left = total_train * rng.uniform(0.4, 0.6)
        total = 4.0 if i == 3 else rng.uniform(18, 45)  # one animal explores < 10 s
        di = float(np.clip(rng.normal(SIM_DI[r.group], 0.12), -0.95, 0.95))
        novel, familiar = total * (1 + di) / 2, total * (1 - di) / 2
        nl, nr = (novel, familiar) if side == "L" else (familiar, novel)
        flag = "object toppled" if i == 7 else ""
        rows += [{"subject": r.subject, "phase": "training", "left_s": round(left, 2),
                  "right_s": round(total_train - left, 2), "novel_side": side,
                  "latency_novel": "", "flag": ""},
                 {"subject": r.subject, "phase": "test", "left_s": round(nl, 2),
                  "right_s": round(nr, 2), "novel_side": side,
                  "latency_novel": round(rng.uniform(2, 30), 1), "flag": flag}]
    return pd.DataFrame(rows)


def _sim_truth(sheet: pd.DataFrame, subjects: pd.DataFrame) -> dict[str, Any]:
    test = sheet[sheet["phase"] == "test"].set_index("subject")
    novel = np.where(test["novel_side"] == "L", test["left_s"], test["right_s"])
    familiar = np.where(test["novel_side"] == "L", test["right_s"], test["left_s"])
    di = pd.Series((novel - familiar) / (novel + familiar), index=test.index)
    excluded = {s: ("total test exploration < 10 s" if (n + f) < 10 else "technical flag")
                for s, n, f, fl in zip(test.index, novel, familiar, test["flag"], strict=True)
                if (n + f) < 10 or fl}
    groups = subjects.set_index("subject")["group"]
    kept = di.drop(list(excluded))
    return {"planted_mean_di": SIM_DI, "di": di.round(6).to_dict(), "excluded": excluded,
            "group_mean_di": kept.groupby(groups.loc[kept.index]).mean().round(6).to_dict(),
            "deficit_group": "G3"}


def simulate_study(folder: Path, seed: int) -> dict[str, Any]:
    """Write a simulated NOR study (3 groups × 5 M + 5 F, scoring sheet xlsx)."""
    rng = np.random.default_rng(seed)
    subjects = _sim_subjects()
    subjects.to_csv(folder / "subjects.csv", index=False)
    sheet = _sim_sheet(subjects, rng)
    sheet.to_excel(folder / "nor_scores.xlsx", index=False)
    from neurotox.simulate import write_study_yaml

    write_study_yaml(folder, {
        "study_id": "SIM-NOR-001", "title": "Simulated novel object recognition study",
        "test_item": "Compound X", "species": "rat",
        "groups": [{"id": g, "label": lab, "dose": d, "dose_unit": "mg/kg/day",
                    **({"control": True} if d == 0 else {})} for g, lab, d in SIM_GROUPS],
        "subjects": "subjects.csv",
        "assays": [{"assay": "nor", "protocol": "nor-standard", "input": "nor_scores.xlsx"}]})
    return _sim_truth(sheet, subjects)


def _register_simulator() -> None:
    from neurotox.simulate import Simulator, register_simulator

    register_simulator(Simulator("nor", "Novel object recognition: 3 groups, both sexes, "
                                 "scoring sheet; memory deficit (DI ~ 0) at the high dose",
                                 simulate_study))


_register_simulator()
