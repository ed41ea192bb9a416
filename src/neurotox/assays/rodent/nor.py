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
  ``nor_training_side_bias`` (L − R)/(L + R), only when the object names say the
  sides (see :mod:`~neurotox.assays.rodent.nor_objects`).

Exclusions (values kept, ``excluded`` with a reason): technical flags for the
phase; a tracking error — pose trials with more than ``pose.max_missing_fraction``
(default 0.5) of their frames without the nose or head ("tracking: N of M frames
below min_likelihood"), zone samples (EthoVision) with more than
``max_missing_fraction`` (0.2) of the samples lost ("tracking error (…)") — in
place of the exploration rules; total test exploration below
``min_test_exploration_s`` (default 10 s; at the threshold too when
``threshold_inclusive``); |training side bias| above
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

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from neurotox import endpoints
from neurotox.assays.base import AssayPlugin, AssayResult, register
from neurotox.assays.rodent.common import check_subjects, one_sample_results, subject_info
from neurotox.assays.rodent.conventions import nor_conventions
from neurotox.assays.rodent.nor_inputs import collect
from neurotox.assays.rodent.nor_objects import (
    left_right,
    names_over_key,
    novel_object,
    role_notes,
    unsided_note,
)
from neurotox.assays.rodent.nor_retention import several_tests, sex_by_group, test_labels
from neurotox.assays.rodent.params import NorParameters
from neurotox.errors import InputError, quoted
from neurotox.sidetables import unknown_names, unknown_note
from neurotox.study import AssaySpec, Study

ASSAY = "nor"


# ------------------------------------------------------------ per-animal analysis

def _phase_row(part: pd.DataFrame, phase: str, novel: str | None,
               keyed: bool | str = False) -> dict[str, Any]:
    subject = part["subject"].iloc[0]
    objects = list(part["object"])
    if len(objects) != 2 or len(set(objects)) != 2:
        raise InputError(f"subject {subject!r}, {phase}: expected 2 objects, found "
                         f"{quoted(objects)}")
    t = dict(zip(part["object"], part["time_s"].astype(float), strict=True))
    lat = dict(zip(part["object"], part["latency_s"].astype(float), strict=True))
    if phase == "test":
        a = novel_object(objects, novel, subject, "; ".join(sorted(set(part["source"]))),
                         keyed)
        b, unsided = next(o for o in objects if o != a), False
    else:
        a, b, sided = left_right(objects)
        unsided = not sided
    total = t[a] + t[b]
    # no exploration at all (an animal that froze): no index; the exploration rules exclude it
    index = (t[a] - t[b]) / total if total > 0 else np.nan
    climbing = part["climbing_s"].astype(float).sum(min_count=1) \
        if "climbing_s" in part else np.nan
    return {"subject": subject, "phase": phase, "object_a": a, "object_b": b,
            "time_a_s": t[a], "time_b_s": t[b], "total_s": total, "index": index,
            "ratio": t[a] / total if total > 0 else np.nan, "latency_a_s": lat[a],
            "climbing_s": climbing, "unsided": unsided, **_tracking(part),
            "source": "; ".join(sorted(set(part["source"].str.split(",").str[0])))}


def _tracking(part: pd.DataFrame) -> dict[str, float]:
    """Frames of a pose trial and those without the nose or head (NaN for other inputs)."""
    if "frames" not in part or not part["frames"].notna().any():
        return {"frames": np.nan, "untracked_frames": np.nan, "untracked_fraction": np.nan}
    n, lost = float(part["frames"].max()), float(part["untracked_frames"].max())
    return {"frames": n, "untracked_frames": lost, "untracked_fraction": lost / n}


def _lost(row: pd.Series, tracking: dict[tuple[str, str], list[str]] | None) -> list[str]:
    """Tracking-error reasons of a trial (zone samples or poses; see ``tracking_flags``)."""
    return list((tracking or {}).get((row["subject"], row["phase"]), []))


def _reasons(row: pd.Series, flags: dict[tuple[str, str], list[str]],
             training: dict[str, pd.Series], params: NorParameters,
             tracking: dict[tuple[str, str], list[str]] | None = None) -> list[str]:
    key = (row["subject"], row["phase"])
    reasons = [f"technical flag: {r}" for r in flags.get(key, [])]
    lost = _lost(row, tracking)
    if lost:   # the exploration time is not the animal's: no exploration rule
        return [*reasons, *lost]
    if not np.isfinite(row["total_s"]):
        unrecorded = f" (no {row['phase']} record in the inputs)" \
            if row["source"] == NO_RECORD else ""
        reasons.append(f"{row['phase']}-phase exploration time missing{unrecorded}")
    if row["phase"] == "test":
        thr = params.min_test_exploration_s
        low = row["total_s"] <= thr if params.threshold_inclusive else row["total_s"] < thr
        if low:
            op = "<=" if params.threshold_inclusive else "<"
            reasons.append(f"total test exploration {row['total_s']:.3f} s {op} {thr:g} s")
        tr = training.get(row["subject"])
        if tr is not None and params.max_training_bias is not None:
            if _lost(tr, tracking):
                reasons.append("training side bias unknown (training excluded for tracking), "
                               "max_training_bias cannot be checked")
            elif not np.isfinite(tr["index"]):
                reasons.append("training side bias unknown (no training exploration), "
                               "max_training_bias cannot be checked")
            elif abs(tr["index"]) > params.max_training_bias:
                reasons.append(f"training side bias |{abs(tr['index']):.3f}| > "
                               f"{params.max_training_bias:g}")
    elif params.min_training_exploration_s is not None and \
            row["total_s"] < params.min_training_exploration_s:
        reasons.append(f"total training exploration {row['total_s']:.3f} s < "
                       f"{params.min_training_exploration_s:g} s")
    return reasons


def _review(row: pd.Series, params: NorParameters) -> str:
    """Why a trial needs a look at its video ('' when it does not)."""
    removed = float(row.get("climbing_s", np.nan))
    if params.max_climbing_s is None or not removed > params.max_climbing_s:
        return ""
    return (f"{removed:.1f} s with the centre point on an object (climbing or sitting on it) "
            f"removed from the exploration time (> {params.max_climbing_s:g} s, "
            "max_climbing_s): check the video")


#: ``source`` of a phase row standing for a trial the inputs hold no record of.
NO_RECORD = "no record in the inputs"


def _unrecorded_phases(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A row without values for each phase the inputs record for others, not for an animal.

    An animal with a test trial and no training (familiarisation) record, or the
    reverse, is not analysed as if the phase were not part of the design: the
    missing phase is a row whose exploration time is missing, excluded like any
    other missing phase.
    """
    phases = sorted({r["phase"] for r in rows})
    seen = {(r["subject"], r["phase"]) for r in rows}
    return [{"subject": subj, "phase": phase, "total_s": np.nan, "index": np.nan,
             "ratio": np.nan, "source": NO_RECORD}
            for subj in sorted({r["subject"] for r in rows}) for phase in phases
            if (subj, phase) not in seen]


def nor_animals(exploration: pd.DataFrame, key: pd.DataFrame, flags: pd.DataFrame,
                params: NorParameters, tracking: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per-animal, per-phase NOR table with indices and exclusion reasons.

    ``tracking``: trials the tracker lost too much of, zone samples and poses
    alike (``subject``, ``phase``, ``reason``;
    :func:`~neurotox.assays.rodent.nor_inputs.tracking_flags`, the one place
    that decides a tracking error); their reason replaces the exploration
    rules, which would blame the animal.

    Returns
    -------
    pandas.DataFrame
        One row per subject × phase: ``object_a`` (novel in the test, left in
        training), ``object_b``, their times, ``total_s``, ``index`` (DI in the
        test, side bias in training), ``ratio`` (recognition index / left share),
        ``latency_a_s``, ``climbing_s`` (time removed because the centre point was
        on an object; NaN when the input cannot tell), ``frames``,
        ``untracked_frames`` and ``untracked_fraction`` (pose inputs: frames without
        the nose or the head above ``min_likelihood``; NaN otherwise), ``excluded``,
        ``exclusion_reason``, ``review`` and ``review_reason`` (more than
        ``max_climbing_s`` removed: flagged, not excluded), ``unsided`` (a
        training pair whose names carry no left/right: ``index`` is
        (object_a − object_b)/total in name order, no side bias endpoint), ``source``.

    """
    novel = dict(zip(key["subject"], key["novel"], strict=True)) if len(key) else {}
    keyed = dict(zip(key["subject"], key["source"].astype(str), strict=True)) \
        if "source" in key and len(key) else {s: True for s in novel}
    rows = [_phase_row(part, phase, novel.get(subj, params.novel_default),
                       keyed.get(subj, False))
            for (subj, phase), part in exploration.groupby(["subject", "phase"], sort=True)]
    flagged: dict[tuple[str, str], list[str]] = {}
    for r in flags.itertuples(index=False):
        flagged.setdefault((r.subject, r.phase), []).append(r.reason)
    for subj, phase in sorted(set(flagged) - {(r["subject"], r["phase"]) for r in rows}):
        rows.append({"subject": subj, "phase": phase, "total_s": np.nan, "index": np.nan,
                     "ratio": np.nan, "source": "exclusion list"})
    rows += _unrecorded_phases(rows)
    animals = pd.DataFrame(rows)
    animals["unsided"] = animals["unsided"].eq(True)
    training = {r["subject"]: r for _, r in animals[animals["phase"] == "training"].iterrows()}
    lost: dict[tuple[str, str], list[str]] = {}
    for r in (tracking if tracking is not None else flags.iloc[:0]).itertuples(index=False):
        lost.setdefault((r.subject, r.phase), []).append(r.reason)
    reasons = [_reasons(r, flagged, training, params, lost) for _, r in animals.iterrows()]
    animals["excluded"] = [bool(x) for x in reasons]
    animals["exclusion_reason"] = ["; ".join(x) for x in reasons]
    animals["review_reason"] = [_review(r, params) for _, r in animals.iterrows()]
    animals["review"] = animals["review_reason"] != ""
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
        if name == "nor_training_side_bias" and row["unsided"]:
            continue  # objects without sides: the sign of L - R is unknown (nor_objects)
        excluded = bool(row["excluded"]) or not np.isfinite(value)
        reason = row["exclusion_reason"] or ("" if not excluded else
                                             "not computable (no exploration)")
        recs.append({"endpoint": name, "subject": row["subject"], "value": value,
                     "excluded": excluded, "exclusion_reason": reason if excluded else "",
                     "timepoint": timepoint, "source": row["source"], **info})
    return recs



def nor_endpoints(animals: pd.DataFrame, study: Study, params: NorParameters) -> pd.DataFrame:
    """EndpointTable of the NOR assay from :func:`nor_animals` output."""
    recs = []
    for _, row in animals.iterrows():
        recs += _records(row, subject_info(study, row["subject"]), params.timepoint)
    return endpoints.from_records(recs, study_id=study.study_id, assay=ASSAY)


def _side_table_subjects(data: dict[str, Any], study: Study, files: list[Path]) -> list[str]:
    """Refuse exclusions of unknown subjects; key rows of unknown subjects: typo or warning.

    An exclusion-list row naming no subject of the study would never be applied,
    so it is an error (as in the study's exclusions file). A novel-object key
    often covers more animals than one study (a lab's key of several cohorts):
    its unknown subjects are an error only when close to a study subject without
    a key entry of its own (a typo), otherwise a warning.
    """
    known = set(study.subjects["subject"].astype(str))
    among = f"the study's subjects file {study.spec.subjects!s}"
    unknown_names(data["flags"], "subject", known, what="technical exclusion", among=among,
                  strict=True, files=files)
    left = unknown_names(data["key"], "subject", known, what="novel-object key entry",
                         among=among, strict=False, files=files,
                         spare=known - set(data["key"]["subject"].astype(str)))
    return unknown_note(left, "novel-object key row(s) name subjects that are not in the "
                           "study's subjects file (not used; another study's animals?)")


# ------------------------------------------------------------ plug-in

def run(study: Study, spec: AssaySpec, params: NorParameters) -> AssayResult:
    """Run the NOR assay entry of a study."""
    return analyse(study, study.assay_inputs(spec), params)


def analyse(study: Study, files: list[Path], params: NorParameters) -> AssayResult:
    """Analyse NOR input files for the subjects of ``study``.

    Several labels mapped to ``test`` by ``phase_map`` (``Test 1h``, ``Test 24h``) are
    several retention tests, each its own timepoint (:mod:`.nor_retention`).
    """
    labels = test_labels(params)
    if len(labels) > 1:
        return several_tests(lambda p: _analyse(study, files, p), params, labels, files)
    return _analyse(study, files, params)


def _analyse(study: Study, files: list[Path], params: NorParameters) -> AssayResult:
    data = collect(files, params)
    if not len(data["exploration"]):
        names = quoted(p.name for p in files)
        raise InputError(f"no exploration data among the {len(files)} NOR input(s) ({names}): "
                         "give a scoring sheet, SimBA/ANY-maze/EthoVision export or pose files "
                         "(a key or exclusion list alone is not enough)",
                         path=files[0] if len(files) == 1 else study.path)
    check_subjects(data["exploration"], study, files, "NOR")
    data["notes"] += _side_table_subjects(data, study, files)
    animals = nor_animals(data["exploration"], data["key"], data["flags"], params,
                          data["tracking"])
    keyless = sorted(set(data["exploration"]["subject"]) - set(data["key"]["subject"]))
    if keyless and params.novel_default is not None:
        data["notes"].append(f"novel object {params.novel_default!r} (protocol 'novel_default') "
                             f"assumed for {len(keyless)} subject(s) without a key entry: "
                             f"{', '.join(keyless)}")
    data["notes"] += role_notes(animals) + names_over_key(animals, data["key"])
    data["notes"] += unsided_note(animals)
    data["notes"] += [f"review: subject {r.subject}, {r.phase} phase: {r.review_reason}"
                      for r in animals[animals["review"]].itertuples()]
    table = nor_endpoints(animals, study, params)
    results = one_sample_results(table, endpoint="nor_discrimination_index", reference=0.0,
                                 normality_alpha=params.normality_alpha)
    details = {"nor_animals": animals, "nor_exploration": data["exploration"],
               "nor_one_sample": results, "nor_sex_by_group": sex_by_group(table)}
    if len(data["frames"]):
        details["nor_frames"] = data["frames"]
    conventions = nor_conventions(
        params, zone_input=bool(data["exploration"]["climbing_s"].notna().any()),
        pose_input=bool(len(data["frames"])), tracked=data["tracked"])
    notes = data["notes"] + [f"convention: {c}" for c in conventions]
    return AssayResult(endpoints=table, details=details, notes=notes, inputs=files,
                       conventions=conventions)


register(AssayPlugin(ASSAY, NorParameters, run,
                     "Novel object recognition: exploration, DI, exclusions, one-sample tests"))
