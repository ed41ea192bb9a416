"""Simulated paclitaxel neuropathy study in rats (kind ``cipn``) with planted effects.

Three groups of 10 male rats (vehicle, paclitaxel 1 and 2 mg/kg), tested at
baseline (day -1) and on days 7, 14 and 21; terminal nerve conduction and skin
biopsy on day 28. Files written, as labs keep them:

* ``von_frey.xlsx``: wide lab sheet, one row per rat, one column per day with the
  X/O series and its last filament in the cell (``oxooxx/5``). Each series is
  simulated by running the up-down procedure on the Chaplan rat set against the
  animal's normal tolerance distribution (σ = δ in log units), so thresholds
  below the weakest filament occur (censored).
* ``sensory.csv``: long table of Hargreaves latencies (2 trials, 20 s cut-off)
  and acetone scores (3 applications, 0-3).
* ``nerve_conduction.csv``: caudal (sensory) and sciatic (motor) recordings with
  limb temperature.
* ``ienfd.csv``: fibre counts and epidermis lengths of 3 sections per rat.

Planted truth: mechanical allodynia (log threshold falls by 0.25 / 0.5 log units
per step of dose from day 7 on) and NCV slowing (caudal and motor velocity 8 % /
16 % lower), IENFD 15 % / 30 % lower at the two doses. Nothing planted in the
Hargreaves latencies or acetone scores.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from neurotox.io.xlsx import write_frame
from neurotox.simulate.base import Simulator, register_simulator, write_study_yaml

GROUPS = [("G1", "Vehicle", 0.0), ("G2", "Paclitaxel low", 1.0), ("G3", "Paclitaxel high", 2.0)]
N_PER_GROUP = 10
DAYS = [-1, 7, 14, 21]
#: Chaplan rat set: log units (log10 of 10 000 × g); δ = 0.224.
RAT_LOGS = np.array([3.61, 3.84, 4.08, 4.31, 4.56, 4.74, 4.93, 5.18])
START = 3  # 2.0 g (0-based), as in Chaplan 1994
#: Planted log-unit fall of the threshold per dose step from day 7, NCV and IENFD factors.
ALLODYNIA = {"G1": 0.0, "G2": 0.25, "G3": 0.5}
NCV_FACTOR = {"G1": 1.0, "G2": 0.92, "G3": 0.84}
IENFD_FACTOR = {"G1": 1.0, "G2": 0.85, "G3": 0.70}


def subjects_table() -> pd.DataFrame:
    """Subject, group, sex of the 30 rats."""
    rows = [{"subject": f"{g}R{i:02d}", "group": g, "sex": "M"}
            for g, _, _ in GROUPS for i in range(1, N_PER_GROUP + 1)]
    return pd.DataFrame(rows)


def updown_series(rng: np.random.Generator, mu: float, sigma: float) -> tuple[str, int]:
    """Run Chaplan's up-down procedure on a simulated animal; return series, last filament.

    Responses follow P(X at level x) = Φ((x − μ)/σ). The series starts at filament
    4 (2 g), continues until the first change of response and then four more
    stimuli, and stops early past either end of the set.
    """
    from scipy.special import ndtr

    i, series, changed, after = START, "", False, 0
    while True:
        resp = "X" if rng.random() < ndtr((RAT_LOGS[i] - mu) / sigma) else "O"
        if series and resp != series[-1] and not changed:
            changed = True
        series += resp
        after += changed
        nxt = i - 1 if resp == "X" else i + 1
        if (changed and after >= 5) or not 0 <= nxt < len(RAT_LOGS):
            return series.lower(), i + 1
        i = nxt


def von_frey(rng: np.random.Generator, subjects: pd.DataFrame) -> pd.DataFrame:
    """Wide lab sheet of up-down series (one column per day)."""
    delta = (RAT_LOGS[-1] - RAT_LOGS[0]) / 7
    sheet = subjects[["subject"]].copy()
    sheet["test"] = "von_frey_updown"
    base = rng.normal(4.85, 0.12, len(subjects))  # about 7 g in naive rats
    for day in DAYS:
        drop = subjects["group"].map(ALLODYNIA).to_numpy() * (day > 0)
        cells = [f"{s}/{f}" for s, f in (updown_series(rng, m, delta) for m in base - drop)]
        sheet[f"day{day}"] = cells
    return sheet


def sensory(rng: np.random.Generator, subjects: pd.DataFrame) -> pd.DataFrame:
    """Hargreaves latencies (20 s cut-off) and acetone scores; no planted effect."""
    rows = []
    for s in subjects["subject"]:
        level = rng.normal(np.log(10.0), 0.25)
        for day in DAYS:
            for trial in (1, 2):
                lat = min(float(np.exp(level + rng.normal(0, 0.3))), 20.0)
                rows.append({"subject": s, "day": f"day{day}", "test": "hargreaves",
                             "trial": trial, "value": round(lat, 1)})
            for trial in (1, 2, 3):
                rows.append({"subject": s, "day": f"day{day}", "test": "acetone",
                             "trial": trial, "value": int(rng.choice(4, p=[.4, .3, .2, .1]))})
    return pd.DataFrame(rows)


def nerve_conduction(rng: np.random.Generator, subjects: pd.DataFrame) -> pd.DataFrame:
    """Caudal sensory and sciatic motor recordings on day 28 with limb temperature."""
    rows = []
    for s, g in zip(subjects["subject"], subjects["group"], strict=True):
        f = NCV_FACTOR[g]
        temp = round(float(rng.normal(35.5, 0.6)), 1)
        cool = 1.5 * (37 - temp)  # m/s lost to a cooler limb
        v_caudal = rng.normal(38.0, 2.0) * f - cool
        dist = round(float(rng.normal(50.0, 2.0)), 1)
        rows.append({"subject": s, "day": "day28", "test": "ncv_caudal", "distance_mm": dist,
                     "latency_ms": round(dist / v_caudal, 3), "amplitude": round(float(
                         rng.normal(40.0, 6.0)), 1), "temperature_c": temp})
        v_motor = rng.normal(55.0, 3.0) * f - cool
        d_motor = round(float(rng.normal(30.0, 1.5)), 1)
        distal = round(float(rng.normal(1.1, 0.1)), 3)
        rows.append({"subject": s, "day": "day28", "test": "ncv_motor", "distance_mm": d_motor,
                     "proximal_latency_ms": round(distal + d_motor / v_motor, 3),
                     "distal_latency_ms": distal,
                     "amplitude": round(float(rng.normal(12.0, 2.0)), 2),
                     "temperature_c": temp})
    return pd.DataFrame(rows)


def ienfd(rng: np.random.Generator, subjects: pd.DataFrame) -> pd.DataFrame:
    """Three skin sections per rat: fibres crossing the junction and epidermis length."""
    rows = []
    for s, g in zip(subjects["subject"], subjects["group"], strict=True):
        density = rng.normal(20.0, 2.5) * IENFD_FACTOR[g]
        for sec in (1, 2, 3):
            length = round(float(rng.uniform(1.5, 3.0)), 2)
            rows.append({"subject": s, "day": "day28", "test": "ienfd", "section": sec,
                         "fibres": int(rng.poisson(density * length)), "length_mm": length})
    return pd.DataFrame(rows)


def study_doc(seed: int) -> dict[str, Any]:
    """The study YAML document."""
    return {
        "study_id": f"NTX-SIM-CIPN-{seed}",
        "title": "Simulated paclitaxel-induced peripheral neuropathy in rats",
        "test_item": "Paclitaxel", "species": "Rat", "strain": "Sprague-Dawley",
        "groups": [{"id": g, "label": lab, "dose": d, "dose_unit": "mg/kg",
                    "control": d == 0} for g, lab, d in GROUPS],
        "subjects": "subjects.csv",
        "assays": [{"assay": "cipn", "protocol": "cipn-paclitaxel-rat",
                    "input": ["von_frey.xlsx", "sensory.csv", "nerve_conduction.csv",
                              "ienfd.csv"]}],
        "statistics": {"alpha": 0.05, "sided": "two", "trend_test": True,
                       "censored": {"policy": "rank"}},
    }


def write_study(folder: Path, seed: int) -> dict[str, Any]:
    """Write the simulated study into ``folder``; return the planted truth."""
    rng = np.random.default_rng(seed)
    subjects = subjects_table()
    subjects.to_csv(folder / "subjects.csv", index=False)
    write_frame(von_frey(rng, subjects), folder / "von_frey.xlsx")
    sensory(rng, subjects).to_csv(folder / "sensory.csv", index=False)
    nerve_conduction(rng, subjects).to_csv(folder / "nerve_conduction.csv", index=False)
    ienfd(rng, subjects).to_csv(folder / "ienfd.csv", index=False)
    write_study_yaml(folder, study_doc(seed))
    return {"kind": "cipn", "seed": seed,
            "planted": [
                {"endpoint": "vf_threshold_updown", "groups": ["G2", "G3"],
                 "timepoints": ["day7", "day14", "day21"],
                 "effect": "log10 threshold lower by 0.25 (G2) and 0.5 (G3)"},
                {"endpoint": "caudal_ncv", "groups": ["G2", "G3"], "timepoints": ["day28"],
                 "effect": "8 % and 16 % slower"},
                {"endpoint": "motor_ncv", "groups": ["G2", "G3"], "timepoints": ["day28"],
                 "effect": "8 % and 16 % slower"},
                {"endpoint": "ienfd", "groups": ["G2", "G3"], "timepoints": ["day28"],
                 "effect": "15 % and 30 % lower"}],
            "not_planted": ["hargreaves_latency", "acetone_score", "caudal_amplitude",
                            "cmap_amplitude"]}


register_simulator(Simulator(
    "cipn", "Paclitaxel neuropathy in rats: 3 groups x 10; von Frey up-down (wide lab sheet), "
    "Hargreaves, acetone, caudal/motor NCV, IENFD; allodynia and NCV slowing planted",
    write_study))
