"""Simulated developmental neurotoxicity study (OECD TG 426 / EPA OPPTS 870.6300).

``neurotox simulate oecd-426`` writes a 4-group study in rats in which the
litter is the experimental unit: 20 litters per group, with 2 or 3 pups per sex.
Pups 1 and 2 of each sex are followed to adulthood (developmental landmarks and
auditory startle on PND 22 and 60); pup 1 of each sex is the litter's motor
activity pup (PND 13, 17, 21 and 60; one pup per sex per litter as in TG 426);
pup 3 is necropsied on PND 22 (litters 1-10), and pup 1 of litters 1-10 on
PND 70 (brain weight, cortical thickness, neuropathology).

Values carry a litter random effect and a pup effect, so pups of a litter are
correlated and only litter means are independent; the study asks for litter
means (``statistics.litter_unit: means``).

Planted at the high dose: sexual maturation delayed by 3 days (vaginal
opening, preputial separation; body weight at attainment rises with the delay),
pre-weaning motor activity +50 % (PND 13, 17, 21; none on PND 60), startle
amplitude -40 % on PND 22 (none on PND 60) and brain weight -7 % at both
necropsies with body weight unchanged. Everything else is drawn from the
control distribution.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from neurotox.simulate.base import Simulator, register_simulator, write_study_yaml
from neurotox.simulate.battery import SHARED_ASSAYS

GROUPS = [("G1", "Vehicle control", 0.0), ("G2", "Low dose", 3.0), ("G3", "Mid dose", 10.0),
          ("G4", "High dose", 30.0)]
HIGH = "G4"
N_LITTERS = 20
N_NECROPSY_LITTERS = 10
MA_SESSIONS = {"PND13": 0.45, "PND17": 0.9, "PND21": 1.0, "PND60": 1.0}
MA_AFFECTED = ("PND13", "PND17", "PND21")
STARTLE_SESSIONS = {"PND22": 350.0, "PND60": 600.0}
N_INTERVALS = 6
N_BLOCKS, TRIALS_PER_BLOCK = 5, 6
NECROPSY = {"PND22": {"M": (52.0, 1.48, 1.62), "F": (49.0, 1.42, 1.58)},
            "PND70": {"M": (360.0, 2.05, 2.20), "F": (235.0, 1.90, 2.12)}}

#: Planted effects: endpoint → (timepoints affected, description).
PLANTED = {
    "dev_vaginal_opening_age": (["NA"], "+3 days"),
    "dev_preputial_separation_age": (["NA"], "+3 days"),
    "motor_activity_total": (list(MA_AFFECTED), "+50%"),
    "startle_amplitude_mean": (["PND22"], "-40%"),
    "brain_weight": (["PND22", "PND70"], "-7%; body weight unchanged"),
}

#: Endpoints that move with a planted one (with less power), neither planted nor null.
DERIVED = {
    "dev_vaginal_opening_body_weight": (["NA"], "heavier at the later age (5 g/day)"),
    "dev_preputial_separation_body_weight": (["NA"], "heavier at the later age (7 g/day)"),
    "motor_activity_counts": ([f"{s}_bin{k:02d}" for s in MA_AFFECTED
                               for k in range(1, N_INTERVALS + 1)], "+50% in every interval"),
    "motor_activity_habituation_pct": (list(MA_AFFECTED), "unchanged in expectation"),
    "startle_amplitude_block": ([f"PND22_block{b}" for b in range(1, N_BLOCKS + 1)], "-40%"),
    "brain_weight_relative": (["PND22", "PND70"], "-7% from brain weight"),
}


#: The assay entries each cohort of pups goes to (the subjects file's ``cohort``).
COHORTS = {
    "developmental": ["adult-necropsy", "motor-activity", "followed"],
    "motor_activity": ["adult-necropsy", "motor-activity"],
    "startle": ["adult-necropsy", "motor-activity", "followed"],
    "brain_weight": ["adult-necropsy", "weaning-necropsy"],
    "neuropathology": ["adult-necropsy"],
}


def _cohort(pup: int, litter_no: int) -> str:
    if pup == 3:
        return "weaning-necropsy"
    if pup == 2:
        return "followed"
    return "adult-necropsy" if litter_no <= N_NECROPSY_LITTERS else "motor-activity"


def subjects_table() -> pd.DataFrame:
    """Pups ``G1L01M1`` ...: 3 per sex in necropsy litters (1-10), 2 per sex in the others.

    Cohorts: pup 1 ``adult-necropsy`` (litters 1-10) or ``motor-activity``, pup 2
    ``followed``, pup 3 ``weaning-necropsy`` (see :data:`COHORTS`).
    """
    rows = []
    for g, _, _ in GROUPS:
        for li in range(1, N_LITTERS + 1):
            litter = f"{g}L{li:02d}"
            n = 3 if li <= N_NECROPSY_LITTERS else 2
            rows += [{"subject": f"{litter}{s}{k}", "group": g, "sex": s, "litter": litter,
                      "cohort": _cohort(k, li)}
                     for s in ("M", "F") for k in range(1, n + 1)]
    return pd.DataFrame(rows)


def _effects(rng: np.random.Generator, subjects: pd.DataFrame, sd_litter: float,
             sd_pup: float) -> np.ndarray:
    """Litter + pup random effects (one value per subject)."""
    litters = subjects["litter"].unique()
    by_litter = dict(zip(litters, rng.normal(0, sd_litter, len(litters)), strict=True))
    return subjects["litter"].map(by_litter).to_numpy() + rng.normal(0, sd_pup, len(subjects))


def _high(subjects: pd.DataFrame, effect: bool) -> np.ndarray:
    return (subjects["group"] == HIGH).to_numpy() & effect


def _followed(subjects: pd.DataFrame) -> pd.DataFrame:
    """Pups 1 and 2 of each sex (followed to adulthood)."""
    return subjects[subjects["subject"].str[-1].isin(["1", "2"])].reset_index(drop=True)


def landmarks(rng: np.random.Generator, subjects: pd.DataFrame, effect: bool) -> pd.DataFrame:
    """Age at vaginal opening / preputial separation with body weight on that day."""
    pups = _followed(subjects)
    male = (pups["sex"] == "M").to_numpy()
    delay = np.where(_high(pups, effect), 3.0, 0.0)
    age = np.where(male, 44.0, 33.0) + delay + _effects(rng, pups, 1.2, 1.0)
    age = np.round(age)
    base_w, per_day = np.where(male, 220.0, 105.0), np.where(male, 7.0, 5.0)
    weight = base_w + per_day * (age - np.where(male, 44.0, 33.0)) \
        + rng.normal(0, 1, len(pups)) * np.where(male, 12.0, 7.0)
    return pd.DataFrame({"subject": pups["subject"],
                         "landmark": np.where(male, "preputial_separation", "vaginal_opening"),
                         "age": age, "body_weight": np.round(weight, 1)})


def motor_activity(rng: np.random.Generator, subjects: pd.DataFrame,
                   effect: bool) -> pd.DataFrame:
    """Wide export: one row per pup × session (PND 13-60), 6 × 10-min intervals."""
    pups = subjects[subjects["subject"].str[-1] == "1"].reset_index(drop=True)
    k = np.arange(N_INTERVALS)
    curve = 420.0 * np.exp(-k / 1.5) + 70.0
    parts = []
    for session, scale in MA_SESSIONS.items():
        hit = _high(pups, effect) & (session in MA_AFFECTED)
        level = scale * np.exp(_effects(rng, pups, 0.12, 0.12)) * np.where(hit, 1.5, 1.0)
        mean = level[:, None] * curve[None, :]
        counts = rng.negative_binomial(30, 30 / (30 + mean))
        df = pd.DataFrame(counts, columns=[f"{10 * i}-{10 * (i + 1)} min" for i in k])
        df["Total"] = counts.sum(axis=1)
        df.insert(0, "session", session)
        df.insert(0, "subject", pups["subject"].to_numpy())
        parts.append(df)
    return pd.concat(parts, ignore_index=True)


def startle(rng: np.random.Generator, subjects: pd.DataFrame, effect: bool) -> pd.DataFrame:
    """Per-trial startle on PND 22 and 60: 5 blocks of 6 pulse-alone trials."""
    pups = _followed(subjects)
    n_trials = N_BLOCKS * TRIALS_PER_BLOCK
    block = np.repeat(np.arange(1, N_BLOCKS + 1), TRIALS_PER_BLOCK)
    parts = []
    for session, base in STARTLE_SESSIONS.items():
        hit = _high(pups, effect) & (session == "PND22")
        level = base * np.exp(_effects(rng, pups, 0.2, 0.2)) * np.where(hit, 0.6, 1.0)
        amp = level[:, None] * 0.85 ** (block[None, :] - 1) \
            * rng.lognormal(0, 0.3, (len(pups), n_trials))
        parts.append(pd.DataFrame({
            "subject": np.repeat(pups["subject"].to_numpy(), n_trials), "session": session,
            "block": np.tile(block, len(pups)), "trial": np.tile(np.arange(1, n_trials + 1),
                                                                 len(pups)),
            "trial_type": "pulse", "amplitude": np.round(amp.ravel(), 1)}))
    return pd.concat(parts, ignore_index=True)


def _necropsied(subjects: pd.DataFrame) -> dict[str, pd.DataFrame]:
    litter_no = subjects["litter"].str[-2:].astype(int)
    pup = subjects["subject"].str[-1]
    early = subjects[(litter_no <= N_NECROPSY_LITTERS) & (pup == "3")]
    adult = subjects[(litter_no <= N_NECROPSY_LITTERS) & (pup == "1")]
    return {"PND22": early.reset_index(drop=True), "PND70": adult.reset_index(drop=True)}


def brain_weights(rng: np.random.Generator, subjects: pd.DataFrame,
                  effect: bool) -> pd.DataFrame:
    """Necropsy sheet on PND 22 and 70: body, brain weight (slope 0.8 mg/g), cortex."""
    parts = []
    for tp, pups in _necropsied(subjects).items():
        male = (pups["sex"] == "M").to_numpy()
        ref = {k: np.where(male, NECROPSY[tp]["M"][k], NECROPSY[tp]["F"][k]) for k in range(3)}
        bw = ref[0] * np.exp(_effects(rng, pups, 0.05, 0.05))
        brain = (ref[1] + 0.0008 * (bw - ref[0]) + _effects(rng, pups, 0.03, 0.03)) \
            * np.where(_high(pups, effect), 0.93, 1.0)
        cortex = ref[2] * np.exp(_effects(rng, pups, 0.03, 0.03))
        parts.append(pd.DataFrame({"subject": pups["subject"], "timepoint": tp,
                                   "body_weight": np.round(bw, 1),
                                   "brain_weight": np.round(brain, 3),
                                   "cortex_thickness": np.round(cortex, 3)}))
    return pd.concat(parts, ignore_index=True)


def findings(rng: np.random.Generator, subjects: pd.DataFrame) -> pd.DataFrame:
    """Neuropathology of the PND 70 pups: background findings only."""
    rows = []
    for subject in _necropsied(subjects)["PND70"]["subject"]:
        if rng.random() < 0.1:
            rows.append((subject, "Cerebral cortex", "Vacuolation", "minimal"))
        else:
            rows.append((subject, "", "NAD", ""))
    return pd.DataFrame(rows, columns=["subject", "tissue", "lesion", "grade"])


def study_doc() -> dict[str, Any]:
    """The study.yaml content."""
    return {
        "study_id": "NTX-SIM-426",
        "title": "Simulated developmental neurotoxicity study in rats (OECD TG 426)",
        "test_item": "Simulated compound",
        "glp": False,
        "species": "rat",
        "strain": "Sprague-Dawley",
        "guideline": "oecd-426-dnt",
        "groups": [{"id": g, "label": lab, "dose": dose, "dose_unit": "mg/kg/day",
                    **({"control": True} if dose == 0 else {})} for g, lab, dose in GROUPS],
        "subjects": "subjects.csv",
        "assays": [{**entry, "cohorts": COHORTS[entry["assay"]]} for entry in (
            {"assay": "developmental", "protocol": "developmental-landmarks",
             "input": "landmarks.csv"},
            *SHARED_ASSAYS,
        )],
        # pups of a litter are not independent: litter means are the analysis units
        "statistics": {"alpha": 0.05, "sided": "two", "trend_test": True,
                       "litter_unit": "means", "log_transform": ["motor_activity_counts"]},
    }


def write_study(folder: Path, seed: int, *, effect: bool = True) -> dict[str, Any]:
    """Write the simulated DNT study into ``folder``; return the planted truth.

    Parameters
    ----------
    folder
        Existing folder.
    seed
        Random seed; the same seed writes identical files.
    effect
        Plant the high-dose effect; ``False`` gives a control-vs-control study.

    """
    rng = np.random.default_rng(seed)
    subjects = subjects_table()
    subjects.to_csv(folder / "subjects.csv", index=False)
    landmarks(rng, subjects, effect).to_csv(folder / "landmarks.csv", index=False)
    motor_activity(rng, subjects, effect).to_csv(folder / "motor_activity.csv", index=False)
    startle(rng, subjects, effect).to_csv(folder / "startle.csv", index=False)
    brain_weights(rng, subjects, effect).to_csv(folder / "brain_weights.csv", index=False)
    findings(rng, subjects).to_csv(folder / "neuropathology_findings.csv", index=False)
    write_study_yaml(folder, study_doc())

    def listed(effects: dict[str, tuple[list[str], str]]) -> list[dict[str, Any]]:
        return [{"endpoint": e, "group": HIGH, "timepoints": tps, "effect": what}
                for e, (tps, what) in effects.items()] if effect else []

    return {"kind": "oecd-426", "seed": seed, "effect_group": HIGH if effect else None,
            "experimental_unit": "litter", "litters_per_group": N_LITTERS,
            "planted": listed(PLANTED), "derived": listed(DERIVED),
            "note": "endpoints not listed under 'planted' or 'derived' have no effect in any "
                    "group"}


register_simulator(Simulator(
    "oecd-426", "OECD TG 426 developmental neurotoxicity: 4 groups x 20 litters, litter as "
    "the unit; landmarks, pup motor activity (PND 13-60), startle (PND 22, 60), brain weight "
    "(PND 22, 70), neuropathology; high-dose effect planted",
    lambda folder, seed: write_study(folder, seed)))
