"""Simulated OECD TG 424 neurotoxicity screen with a planted high-dose effect.

``neurotox simulate oecd-424`` writes a 4-group × 2-sex study (10 rats per sex
per group): a FOB sheet at two occasions (pretest, week 4) with grip strength
and landing foot splay trials, a wide motor-activity export (6 × 10-min
intervals per session), per-trial auditory startle with prepulse trials, a
necropsy brain-weight sheet and a neuropathology findings list for the 5 rats
per sex per group that are perfused.

Planted at the high dose (week 4 or terminal): tremors (incidence), gait score
(ordinal), forelimb grip strength −30 % and landing foot splay +35 %
(continuous), motor activity −50 % in every interval (repeated measures),
brain weight −6 % (relative brain weight follows, with less power) and
sciatic-nerve axonal degeneration (incidence and severity). Everything else is
drawn from the control distribution, so other flags are false positives.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from neurotox.simulate.base import Simulator, register_simulator, write_study_yaml

GROUPS = [("G1", "Vehicle control", 0.0), ("G2", "Low dose", 10.0), ("G3", "Mid dose", 30.0),
          ("G4", "High dose", 100.0)]
HIGH = "G4"
N_PER_SEX = 10
N_PERFUSED = 5
OCCASIONS = ("pretest", "week4")
SESSIONS = ("pretest", "week4")
N_INTERVALS = 6

#: Planted effects: endpoint → (timepoints affected, description).
PLANTED = {
    "fob_tremors": (["week4"], "incidence 0.02 -> 0.8"),
    "fob_gait_score": (["week4"], "mostly 1 -> 2-3 in 90%"),
    "grip_strength_forelimb": (["week4"], "-30%"),
    "landing_foot_splay": (["week4"], "+35%"),
    "motor_activity_total": (["week4"], "-50%"),
    "motor_activity_counts": ([f"week4_bin{k:02d}" for k in range(1, N_INTERVALS + 1)], "-50%"),
    "brain_weight": (["NA"], "-6%"),
    "np_sciatic_nerve_axonal_degeneration": (["NA"], "incidence 0.1 -> 0.9"),
    "np_sciatic_nerve_axonal_degeneration_severity": (["NA"], "grades 1-3"),
}


#: Endpoints derived from a planted one: they move with it but with less power
#: (relative brain weight carries the body-weight noise), so they are neither
#: planted nor null.
DERIVED = {"brain_weight_relative": (["NA"], "-6% from brain weight; body weight unchanged")}


#: Assay entries (and file names) the TG 424 and TG 426 simulations share.
SHARED_ASSAYS = (
    {"assay": "motor_activity", "protocol": "motor-activity-standard",
     "input": "motor_activity.csv"},
    {"assay": "startle", "protocol": "startle-standard", "input": "startle.csv"},
    {"assay": "brain_weight", "protocol": "brain-weight-standard",
     "input": "brain_weights.csv"},
    {"assay": "neuropathology", "protocol": "neuropathology-standard",
     "input": "neuropathology_findings.csv"},
)

def subjects_table() -> pd.DataFrame:
    """Subjects: 10 per sex per group, IDs ``G1M01`` ...; the first 5 in cohort ``perfusion``."""
    rows = [{"subject": f"{g}{s}{k:02d}", "group": g, "sex": s,
             "cohort": "perfusion" if k <= N_PERFUSED else "main"}
            for g, _, _ in GROUPS for s in ("M", "F") for k in range(1, N_PER_SEX + 1)]
    return pd.DataFrame(rows)


def _affected(subjects: pd.DataFrame, effect: bool) -> np.ndarray:
    return (subjects["group"] == HIGH).to_numpy() & effect


def _choice(rng: np.random.Generator, values: list[Any], p: list[float], n: int) -> np.ndarray:
    return rng.choice(np.array(values, dtype=object), size=n, p=p)


def _ordinal_items(rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
    return {
        "palpebral_closure": _choice(rng, [1, 2], [0.95, 0.05], n),
        "ease_of_removal": _choice(rng, [1, 2, 3], [0.3, 0.6, 0.1], n),
        "ease_of_handling": _choice(rng, [1, 2, 3], [0.3, 0.6, 0.1], n),
        "muscle_tone": _choice(rng, [1, 2, 3], [0.03, 0.94, 0.03], n),
        "lacrimation": _choice(rng, [1, 2], [0.95, 0.05], n),
        "salivation": _choice(rng, [1, 2], [0.97, 0.03], n),
        "arousal": _choice(rng, [3, 4, 5], [0.15, 0.7, 0.15], n),
        "mobility_score": _choice(rng, [1, 2], [0.97, 0.03], n),
        "approach_response": _choice(rng, [1, 2, 3], [0.05, 0.85, 0.1], n),
        "touch_response": _choice(rng, [1, 2, 3], [0.05, 0.85, 0.1], n),
        "click_response": _choice(rng, [1, 2, 3], [0.05, 0.8, 0.15], n),
        "tail_pinch_response": _choice(rng, [1, 2, 3], [0.05, 0.85, 0.1], n),
        "righting_reflex": _choice(rng, [1, 2], [0.95, 0.05], n),
    }


def _presence(rng: np.random.Generator, p: float | np.ndarray, n: int) -> np.ndarray:
    return np.where(rng.random(n) < p, "present", "absent")


def fob_occasion(rng: np.random.Generator, subjects: pd.DataFrame, occasion: str,
                 effect: bool) -> pd.DataFrame:
    """FOB rows of one occasion (planted effects only at week 4)."""
    n = len(subjects)
    hit = _affected(subjects, effect) & (occasion == "week4")
    male = (subjects["sex"] == "M").to_numpy()
    df = pd.DataFrame({"subject": subjects["subject"], "occasion": occasion})
    df["posture"] = _choice(rng, ["normal", "sitting", "rearing", "asleep", "hunched"],
                            [0.4, 0.3, 0.15, 0.13, 0.02], n)
    df["convulsions"] = _presence(rng, 0.0, n)
    df["tremors"] = _presence(rng, np.where(hit, 0.8, 0.02), n)
    df["vocalizations"] = _presence(rng, 0.03, n)
    df["piloerection"] = _presence(rng, 0.03, n)
    df["exophthalmos"] = _presence(rng, 0.0, n)
    df["fur_appearance"] = _choice(rng, ["normal", "unkempt"], [0.97, 0.03], n)
    df["gait"] = _choice(rng, ["normal", "ataxic"], [0.98, 0.02], n)
    gait = _choice(rng, [1, 2], [0.95, 0.05], n)
    df["gait_score"] = np.where(hit, _choice(rng, [1, 2, 3], [0.1, 0.5, 0.4], n), gait)
    for k, v in _ordinal_items(rng, n).items():
        df[k] = v
    df["rearing"] = rng.poisson(12, n)
    df["urination"] = rng.poisson(1.0, n)
    df["defecation"] = rng.poisson(2.0, n)
    df["stereotypy"] = _presence(rng, 0.0, n)
    df["bizarre_behavior"] = _presence(rng, 0.0, n)
    df["pupil_response"] = _presence(rng, 0.99, n)
    _neuromuscular(rng, df, male, hit)
    df["body_temperature"] = np.round(rng.normal(37.6, 0.35, n), 1)
    weight = np.where(male, 340.0, 225.0) * (0.8 if occasion == "pretest" else 1.0)
    df["body_weight"] = np.round(weight * rng.normal(1, 0.07, n), 1)
    return df


def _neuromuscular(rng: np.random.Generator, df: pd.DataFrame, male: np.ndarray,
                   hit: np.ndarray) -> None:
    n = len(df)
    fore = np.where(male, 1100.0, 950.0) * rng.normal(1, 0.12, n) * np.where(hit, 0.7, 1.0)
    hind = np.where(male, 800.0, 700.0) * rng.normal(1, 0.12, n)
    splay = np.where(male, 80.0, 70.0) * rng.normal(1, 0.12, n) * np.where(hit, 1.35, 1.0)
    for t in (1, 2, 3):
        df[f"grip_fore_{t}"] = np.round(fore * rng.normal(1, 0.08, n))
        df[f"grip_hind_{t}"] = np.round(hind * rng.normal(1, 0.08, n))
    for t in (1, 2):
        df[f"foot_splay_{t}"] = np.round(splay * rng.normal(1, 0.08, n), 1)


def motor_activity(rng: np.random.Generator, subjects: pd.DataFrame,
                   effect: bool) -> pd.DataFrame:
    """Wide export: one row per animal × session, columns ``0-10 min`` ... ``50-60 min``."""
    n = len(subjects)
    k = np.arange(N_INTERVALS)
    curve = 420.0 * np.exp(-k / 1.5) + 70.0
    parts = []
    for session in SESSIONS:
        level = rng.lognormal(0, 0.15, n) * np.where(
            _affected(subjects, effect) & (session == "week4"), 0.5, 1.0)
        mean = level[:, None] * curve[None, :]
        counts = rng.negative_binomial(30, 30 / (30 + mean))
        df = pd.DataFrame(counts, columns=[f"{10 * i}-{10 * (i + 1)} min" for i in k])
        df.insert(0, "session", session)
        df.insert(0, "subject", subjects["subject"].to_numpy())
        parts.append(df)
    return pd.concat(parts, ignore_index=True)


def startle(rng: np.random.Generator, subjects: pd.DataFrame) -> pd.DataFrame:
    """Per-trial startle at week 4: 5 blocks of 8 pulse + 2 × 2 prepulse trials."""
    plan = [("pulse", np.nan)] * 8 + [("prepulse", 73.0), ("prepulse", 79.0)] * 2
    rows = []
    for subject, sex in zip(subjects["subject"], subjects["sex"], strict=True):
        level = (600.0 if sex == "M" else 450.0) * rng.lognormal(0, 0.25)
        trial = 0
        for block in range(1, 6):
            hab = 0.85 ** (block - 1)
            for ttype, db in plan:
                trial += 1
                inhib = 1.0 if ttype == "pulse" else (0.7 if db < 75 else 0.5)
                amp = level * hab * inhib * rng.lognormal(0, 0.3)
                rows.append((subject, "week4", block, trial, ttype, db, round(amp, 1),
                             round(rng.normal(22, 3), 1)))
    return pd.DataFrame(rows, columns=["subject", "session", "block", "trial", "trial_type",
                                       "prepulse_db", "amplitude", "latency"])


def brain_weights(rng: np.random.Generator, subjects: pd.DataFrame,
                  effect: bool) -> pd.DataFrame:
    """Necropsy sheet: terminal body weight and brain weight (slope 0.8 mg/g)."""
    male = (subjects["sex"] == "M").to_numpy()
    n = len(subjects)
    bw = np.where(male, 340.0, 225.0) * rng.normal(1, 0.07, n)
    brain = (np.where(male, 2.05, 1.90) + 0.0008 * (bw - np.where(male, 340.0, 225.0))
             + rng.normal(0, 0.06, n)) * np.where(_affected(subjects, effect), 0.94, 1.0)
    return pd.DataFrame({"subject": subjects["subject"], "body_weight": np.round(bw, 1),
                         "brain_weight": np.round(brain, 3)})


def findings(rng: np.random.Generator, subjects: pd.DataFrame, effect: bool) -> pd.DataFrame:
    """Findings list for the perfused animals (first 5 per sex per group)."""
    perfused = subjects[subjects["subject"].str[-2:].astype(int) <= N_PERFUSED]
    hit = _affected(perfused, effect)
    rows = []
    for subject, h in zip(perfused["subject"], hit, strict=True):
        found = False
        if rng.random() < (0.9 if h else 0.1):
            grade = int(rng.choice([1, 2, 3], p=[0.3, 0.5, 0.2])) if h else 1
            rows.append((subject, "Sciatic nerve", "Axonal degeneration",
                         ["", "minimal", "mild", "moderate"][grade]))
            found = True
        if rng.random() < 0.1:
            rows.append((subject, "Cerebral cortex", "Vacuolation", "minimal"))
            found = True
        if not found:
            rows.append((subject, "", "NAD", ""))
    return pd.DataFrame(rows, columns=["subject", "tissue", "lesion", "grade"])


def study_doc(seed: int) -> dict[str, Any]:
    """The study.yaml content."""
    return {
        "study_id": "NTX-SIM-424",
        "title": "Simulated 28-day oral neurotoxicity study in rats (OECD TG 424)",
        "test_item": "Simulated compound",
        "glp": False,
        "species": "rat",
        "strain": "Sprague-Dawley",
        "guideline": "oecd-424-screen",
        "groups": [{"id": g, "label": lab, "dose": dose, "dose_unit": "mg/kg/day",
                    **({"control": True} if dose == 0 else {})} for g, lab, dose in GROUPS],
        "subjects": "subjects.csv",
        "assays": [
            {"assay": "fob", "protocol": "fob-standard", "input": "fob.csv"},
            *SHARED_ASSAYS[:-1],
            # only the perfused animals are examined (the others have no findings row)
            {**SHARED_ASSAYS[-1], "cohorts": ["perfusion"]},
        ],
        # counts per interval scale with each animal's activity level, so they are
        # analysed on the log scale; in 200 control-vs-control seeds the mixed model's
        # group x time test rejected 12 % of repeated strata with raw counts and 8 %
        # with log counts (startle amplitude, raw: 8 %) -- see bench_battery_fpr.py
        "statistics": {"alpha": 0.05, "sided": "two", "trend_test": True,
                       "log_transform": ["motor_activity_counts"]},
    }


def write_study(folder: Path, seed: int, *, effect: bool = True) -> dict[str, Any]:
    """Write the simulated study into ``folder``; return the planted truth.

    Parameters
    ----------
    folder
        Existing folder.
    seed
        Random seed; the same seed writes identical files.
    effect
        Plant the high-dose effect; ``False`` gives a control-vs-control study
        (for false-positive rates).

    """
    rng = np.random.default_rng(seed)
    subjects = subjects_table()
    subjects.to_csv(folder / "subjects.csv", index=False)
    fob = pd.concat([fob_occasion(rng, subjects, o, effect) for o in OCCASIONS],
                    ignore_index=True)
    fob.to_csv(folder / "fob.csv", index=False)
    motor_activity(rng, subjects, effect).to_csv(folder / "motor_activity.csv", index=False)
    startle(rng, subjects).to_csv(folder / "startle.csv", index=False)
    brain_weights(rng, subjects, effect).to_csv(folder / "brain_weights.csv", index=False)
    findings(rng, subjects, effect).to_csv(folder / "neuropathology_findings.csv", index=False)
    write_study_yaml(folder, study_doc(seed))
    planted = ([{"endpoint": e, "group": HIGH, "timepoints": tps, "effect": what}
                for e, (tps, what) in PLANTED.items()] if effect else [])
    derived = ([{"endpoint": e, "group": HIGH, "timepoints": tps, "effect": what}
                for e, (tps, what) in DERIVED.items()] if effect else [])
    return {"kind": "oecd-424", "seed": seed, "effect_group": HIGH if effect else None,
            "planted": planted, "derived": derived,
            "note": "endpoints not listed under 'planted' or 'derived' have no effect in any "
                    "group"}


register_simulator(Simulator(
    "oecd-424", "OECD TG 424 screen: 4 groups x 2 sexes x 10 rats; FOB, grip strength, foot "
    "splay, motor activity, startle, brain weight, neuropathology; high-dose effect planted",
    lambda folder, seed: write_study(folder, seed)))
