"""Simulated neurochemistry study with planted concentrations and activities.

``neurotox simulate neurochem`` writes a 4-group × 2-sex study (5 rats per sex
per group) with

* serum cytokines on two Luminex xPONENT plates (``cytokines_plate1.csv``,
  ``cytokines_plate2.csv``): IL-6, IL-1β, GM-CSF, CCL11 (eotaxin), CXCL10 (IP-10)
  and NfL, 8 three-fold standards in duplicate, 2 blanks, 2 controls, samples in
  duplicate at 1:2 (every group on both plates), Net MFI from a known 5PL per
  analyte with 3 % multiplicative
and 1.5 MFI additive noise (IL-1β and GM-CSF mostly below the LLOQ: censoring);
* cortex GFAP by ELISA (``gfap_elisa.csv``, a plain plate table of
  blank-corrected OD from a known 4PL), homogenates with total protein in the
  sample sheet;
* cholinesterase by Ellman: kinetic reads of cortex homogenates and
  erythrocytes (``che_kinetic_brain.csv``, ``che_kinetic_rbc.csv``, one read per
  30 s for 5 min) with a plate map;
* ``samples.csv`` mapping every sample ID to subject, matrix, time point,
  protein and tissue weight.

Planted (high dose ``G4``; ``G3`` where stated): IL-6 ×4 (G3 ×2), CXCL10 ×2.5,
NfL ×2, GFAP per mg protein ×1.6, brain ChE −50 % (G3 −25 %), RBC AChE −40 %.
Everything else is drawn from the control distribution.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from neurotox.simulate.base import Simulator, register_simulator, write_study_yaml

GROUPS = [("G1", "Vehicle control", 0.0), ("G2", "Low dose", 3.0), ("G3", "Mid dose", 10.0),
          ("G4", "High dose", 30.0)]
N_PER_SEX = 5
TIMEPOINT = "day7"
SERUM_DILUTION = 2.0

#: Multiplex analytes: export name → (registry key, median control pg/mL, log SD,
#: top standard pg/mL, effect by group).
MULTIPLEX = {
    "IL6": ("il6", 12.0, 0.5, 10000.0, {"G3": 2.0, "G4": 4.0}),
    "IL1B": ("il1b", 0.8, 0.5, 10000.0, {}),
    "GMCSF": ("gm_csf", 0.6, 0.5, 10000.0, {}),
    "EOTAXIN": ("ccl11", 400.0, 0.35, 10000.0, {}),
    "IP10": ("cxcl10", 150.0, 0.4, 10000.0, {"G4": 2.5}),
    "NF-L": ("nfl", 60.0, 0.35, 10000.0, {"G4": 2.0}),
}
N_STANDARDS = 8
GFAP = {"median_pg_ml": 2400.0, "log_sd": 0.2, "effect": {"G4": 1.6}, "dilution": 10.0}
CHE = {"cortex": (12.0, 0.12, {"G3": 0.75, "G4": 0.5}), "rbc": (2.0, 0.12, {"G4": 0.6})}
CHE_VOLUMES = {"well_volume_ul": 200.0, "sample_volume_ul": 10.0, "path_length_cm": 0.6,
               "extinction_coefficient": 14150.0}
CHE_DILUTION = {"cortex": 20.0, "rbc": 50.0}


def subjects_table() -> pd.DataFrame:
    """Subjects ``G1M01`` …: group, sex."""
    return pd.DataFrame([{"subject": f"{g}{s}{k:02d}", "group": g, "sex": s}
                         for g, _, _ in GROUPS for s in ("M", "F")
                         for k in range(1, N_PER_SEX + 1)])


def _effect(groups: pd.Series, effect: dict[str, float]) -> np.ndarray:
    return groups.map(lambda g: effect.get(g, 1.0)).to_numpy(float)


# ------------------------------------------------------------------ multiplex

def _p5(x: np.ndarray, a: float, b: float, c: float, d: float, f: float) -> np.ndarray:
    with np.errstate(divide="ignore"):
        return a + (b - a) / (1.0 + np.exp(d * (np.log(x) - math.log(c)))) ** f


def _true_curve(k: int, top: float) -> tuple[float, float, float, float, float]:
    """Known 5PL of the k-th analyte: background, max MFI, mid-point, slope, asymmetry."""
    return (2.0 + k, 18000.0 + 1500 * k, top / (8 + 2 * k), -1.05 - 0.05 * k, 0.8 + 0.05 * k)


def _standards(top: float) -> list[float]:
    return [top / 3 ** i for i in range(N_STANDARDS)]


def _plate_layout(samples: list[str]) -> list[tuple[str, str, float]]:
    """(well, sample name, dilution) in xPONENT's column-wise acquisition order."""
    names = ([f"Standard{i + 1}" for i in range(N_STANDARDS) for _ in range(2)]
             + ["Background0"] * 2 + ["Control1", "Control1", "Control2", "Control2"]
             + [s for s in samples for _ in range(2)])
    wells = [f"{r}{c}" for c in range(1, 13) for r in "ABCDEFGH"]
    if len(names) > len(wells):
        raise ValueError(f"{len(names)} wells do not fit a 96-well plate")
    return [(w, n, SERUM_DILUTION if n.startswith("S") and "_" in n else 1.0)
            for w, n in zip(wells, names, strict=False)]


def _signal(rng: np.random.Generator, conc: np.ndarray, curve: tuple) -> np.ndarray:
    clean = _p5(conc, *curve)
    noisy = clean * rng.lognormal(0.0, 0.03, size=conc.shape) + rng.normal(0, 1.5, conc.shape)
    return np.round(noisy, 1)


def _xponent_lines(plate: str, layout: list[tuple[str, str, float]], conc: dict[str, np.ndarray],
                   signals: dict[str, np.ndarray], curves: dict[str, tuple]) -> list[str]:
    names = list(MULTIPLEX)
    head = ["Program,xPONENT,,MAGPIX", "Build,4.2.1324.0", "Date,01/03/2026,10:00",
            f"Batch,{plate}", "ProtocolName,Simulated cytokine panel",
            f"Samples,{len(layout)},Min Events,50,Per Bead", "", "Results", ""]
    loc = [f'"{i + 1}(1,{w})",{n}' for i, (w, n, _) in enumerate(layout)]
    out = head + ["DataType:,Median", "Location,Sample," + ",".join(names) + ",Total Events"]
    out += [f"{lc}," + ",".join(f"{signals[a][i] + 20:.1f}" for a in names) + ",600"
            for i, lc in enumerate(loc)]
    out += ["", "DataType:,Net MFI", "Location,Sample," + ",".join(names) + ",Total Events"]
    out += [f"{lc}," + ",".join(f"{signals[a][i]:.1f}" for a in names) + ",600"
            for i, lc in enumerate(loc)]
    out += ["", "DataType:,Count", "Location,Sample," + ",".join(names) + ",Total Events"]
    out += [f"{lc}," + ",".join("100" for _ in names) + ",600" for lc in loc]
    out += ["", "DataType:,Units", "Analyte:," + ",".join(names), "Units:,"
            + ",".join("pg/mL" for _ in names), ""]
    out += ["DataType:,Standard Expected Concentration", "Reagent," + ",".join(names)]
    for i in range(N_STANDARDS):
        out.append(f"Standard{i + 1}," + ",".join(f"{_standards(MULTIPLEX[a][3])[i]:.6g}"
                                                  for a in names))
    out += ["", "DataType:,Control Expected Concentration", "Reagent," + ",".join(names)]
    for level, frac in (("Control1", 0.1), ("Control2", 0.01)):
        out.append(f"{level}," + ",".join(f"{MULTIPLEX[a][3] * frac:.6g}" for a in names))
    out += ["", "DataType:,Dilution Factor", "Location,Sample,Dilution Factor"]
    out += [f"{lc},{d:g}" if d != 1 else f"{lc}," for lc, (_, _, d) in zip(loc, layout,
                                                                           strict=True)]
    out += ["", "DataType:,Analysis Types", "Analyte:," + ",".join(names),
            "AnalysisType," + ",".join("Logistic 5P" for _ in names), "",
            "DataType:,Analysis Coefficients", "Analyte:," + ",".join(names)]
    for j, letter in enumerate("ABCDF"):
        out.append(f"Coefficient {letter}," + ",".join(f"{curves[a][j]:.10g}" for a in names))
    out += ["", "-- CRC --", "CRC32: 00000000"]
    return out


def write_multiplex(folder: Path, rng: np.random.Generator, subjects: pd.DataFrame,
                    effect: bool) -> dict[str, Any]:
    """Two xPONENT plates of serum samples; returns the true concentrations by analyte."""
    true: dict[str, dict[str, float]] = {}
    for key, median, sd, _, eff in MULTIPLEX.values():
        factor = _effect(subjects["group"], eff) if effect else 1.0
        values = median * factor * rng.lognormal(0.0, sd, len(subjects))
        true[key] = dict(zip(subjects["subject"], values, strict=True))
    for p, chunk in enumerate((subjects.iloc[0::2], subjects.iloc[1::2]), start=1):
        samples = [f"S{r}_serum" for r in chunk["subject"]]
        layout = _plate_layout(samples)
        conc, signals, curves = {}, {}, {}
        for k, (a, (key, _, _, top, _)) in enumerate(MULTIPLEX.items()):
            curves[a] = _true_curve(k, top)
            c = []
            for _, name, dil in layout:
                if name.startswith("Standard"):
                    c.append(_standards(top)[int(name[8:]) - 1])
                elif name.startswith("Control"):
                    c.append(top * (0.1 if name == "Control1" else 0.01))
                elif name.startswith("Background"):
                    c.append(0.0)
                else:
                    c.append(true[key][name[1:].removesuffix("_serum")] / dil)
            conc[a] = np.array(c)
            signals[a] = _signal(rng, conc[a], curves[a])
        lines = _xponent_lines(f"plate{p}", layout, conc, signals, curves)
        (folder / f"cytokines_plate{p}.csv").write_text("\n".join(lines) + "\n",
                                                        encoding="utf-8")
    return true


# ------------------------------------------------------------------ ELISA

def write_gfap(folder: Path, rng: np.random.Generator, subjects: pd.DataFrame,
               effect: bool) -> tuple[dict[str, float], dict[str, float]]:
    """A GFAP ELISA plate (plain plate table) of cortex homogenates.

    Returns the true GFAP (pg/mg protein) and total protein (mg/mL) per subject.
    """
    a, b, c, d = 0.05, 1.1, 2000.0, 3.2           # Gen5-style 4PL: OD = d + (a - d)/(1+(x/c)^b)
    factor = _effect(subjects["group"], GFAP["effect"]) if effect else 1.0
    per_mg = GFAP["median_pg_ml"] * factor * rng.lognormal(0, GFAP["log_sd"], len(subjects))
    protein = rng.uniform(1.5, 3.0, len(subjects))
    rows = []
    wells = iter(f"{r}{col:02d}" for col in range(1, 13) for r in "ABCDEFGH")
    standards = [8000.0 / 2 ** i for i in range(7)]

    def od(x: float) -> float:
        clean = d + (a - d) / (1 + (x / c) ** b) if x > 0 else a
        return round(max(clean * rng.lognormal(0, 0.03) + rng.normal(0, 0.004), 0.0), 4)

    for i, x in enumerate(standards):
        for _ in range(2):
            rows.append({"well": next(wells), "type": "standard", "sample": f"STD{i + 1}",
                         "expected": x, "dilution": "", "od": od(x)})
    for _ in range(2):
        rows.append({"well": next(wells), "type": "blank", "sample": "BLK", "expected": "",
                     "dilution": "", "od": od(0.0)})
    true = {}
    for s, pg_mg, prot in zip(subjects["subject"], per_mg, protein, strict=True):
        true[s] = float(pg_mg)
        in_well = pg_mg * prot / GFAP["dilution"]
        for _ in range(2):
            rows.append({"well": next(wells), "type": "sample", "sample": f"S{s}_ctx",
                         "expected": "", "dilution": GFAP["dilution"], "od": od(in_well)})
    pd.DataFrame(rows).to_csv(folder / "gfap_elisa.csv", index=False)
    return true, dict(zip(subjects["subject"], protein, strict=True))


# ------------------------------------------------------------------ Ellman

def write_che(folder: Path, rng: np.random.Generator, subjects: pd.DataFrame,
              effect: bool) -> dict[str, dict[str, float]]:
    """Kinetic Ellman reads (brain, RBC) and their plate map; true activity per matrix."""
    v = CHE_VOLUMES
    true: dict[str, dict[str, float]] = {}
    plate_map = []
    for matrix, (median, sd, eff) in CHE.items():
        factor = _effect(subjects["group"], eff) if effect else 1.0
        act = median * factor * rng.lognormal(0, sd, len(subjects))
        true[matrix] = dict(zip(subjects["subject"], act, strict=True))
        dil = CHE_DILUTION[matrix]
        # ΔA/min = U/mL / dil / 1000 · ε · l · V_sample / V_well
        rate = act / dil / 1000 * v["extinction_coefficient"] * v["path_length_cm"] \
            * v["sample_volume_ul"] / v["well_volume_ul"]
        wells = [f"{r}{c:02d}" for c in range(1, 13) for r in "ABCDEFGH"]
        layout = [(wells[0], "blank", "BLK", 1.0), (wells[1], "blank", "BLK", 1.0)]
        k = 2
        rates = [0.002, 0.002]
        for s, r in zip(subjects["subject"], rate, strict=True):
            for _ in range(2):
                layout.append((wells[k], "sample", f"S{s}_{matrix}", dil))
                rates.append(0.002 + r)
                k += 1
        times = np.arange(0, 301, 30.0)
        reads = {w: 0.08 + np.array(rt) * rng.lognormal(0, 0.02) * times / 60
                 + rng.normal(0, 0.002, times.size) for (w, *_), rt in zip(layout, rates,
                                                                          strict=True)}
        table = pd.DataFrame({"time_s": times, **{w: np.round(x, 4) for w, x in reads.items()}})
        table.to_csv(folder / f"che_kinetic_{matrix}.csv", index=False)
        plate_map += [{"plate": f"che_kinetic_{matrix}", "well": w, "type": t, "sample": s,
                       "dilution": d} for w, t, s, d in layout]
    pd.DataFrame(plate_map).to_csv(folder / "che_platemap.csv", index=False)
    return true


# ------------------------------------------------------------------ study

def study_doc(seed: int) -> dict[str, Any]:
    """The study file."""
    return {
        "study_id": f"NTX-SIM-NC-{seed}",
        "title": "Simulated 7-day neurotoxicity study: serum cytokines and NfL, cortex GFAP, "
                 "brain and RBC cholinesterase",
        "test_item": "Simulated compound NC-1", "glp": False, "species": "rat",
        "strain": "Sprague-Dawley",
        "groups": [{"id": g, "label": lbl, "dose": d, "dose_unit": "mg/kg/day",
                    **({"control": True} if g == "G1" else {})} for g, lbl, d in GROUPS],
        "subjects": "subjects.csv",
        "assays": [
            {"assay": "neurochem", "id": "cytokines", "protocol": "multiplex-cytokines",
             "input": ["cytokines_plate1.csv", "cytokines_plate2.csv", "samples.csv"]},
            {"assay": "neurochem", "id": "gfap", "protocol": "elisa-4pl",
             "input": ["gfap_elisa.csv", "samples.csv"],
             "parameters": {"analyte": "gfap", "normalisation": "protein"}},
            {"assay": "cholinesterase", "id": "cholinesterase",
             "protocol": "cholinesterase-ellman",
             "input": ["che_kinetic_cortex.csv", "che_kinetic_rbc.csv", "che_platemap.csv",
                       "samples.csv"],
             "parameters": {"path_length_cm": CHE_VOLUMES["path_length_cm"],
                            "well_volume_ul": CHE_VOLUMES["well_volume_ul"],
                            "sample_volume_ul": CHE_VOLUMES["sample_volume_ul"]}},
        ],
        "statistics": {"alpha": 0.05, "sided": "two", "trend_test": True,
                       "censored": {"policy": "half", "rank_test_above": 0.2},
                       "log_transform": ["il6", "il1b", "gm_csf", "ccl11", "cxcl10", "nfl",
                                         "gfap_per_protein"]},
    }


def write_study(folder: Path, seed: int, *, effect: bool = True) -> dict[str, Any]:
    """Write the simulated study into ``folder``; return the planted truth."""
    rng = np.random.default_rng(seed)
    subjects = subjects_table()
    subjects.to_csv(folder / "subjects.csv", index=False)
    cytokines = write_multiplex(folder, rng, subjects, effect)
    gfap, protein = write_gfap(folder, rng, subjects, effect)
    che = write_che(folder, rng, subjects, effect)
    samples = []
    for s in subjects["subject"]:
        samples += [{"sample": f"S{s}_serum", "subject": s, "matrix": "serum",
                     "timepoint": TIMEPOINT},
                    {"sample": f"S{s}_ctx", "subject": s, "matrix": "cortex",
                     "timepoint": TIMEPOINT, "protein_mg_ml": round(protein[s], 4)},
                    {"sample": f"S{s}_cortex", "subject": s, "matrix": "cortex",
                     "timepoint": TIMEPOINT, "tissue_mg": 100.0, "homogenate_ml": 1.0},
                    {"sample": f"S{s}_rbc", "subject": s, "matrix": "rbc",
                     "timepoint": TIMEPOINT}]
    pd.DataFrame(samples).to_csv(folder / "samples.csv", index=False)
    write_study_yaml(folder, study_doc(seed))
    planted = []
    if effect:
        for _, (key, _, _, _, eff) in MULTIPLEX.items():
            for g, f in eff.items():
                planted.append({"endpoint": key, "timepoint": f"serum_{TIMEPOINT}", "group": g,
                                "ratio": f})
        planted += [{"endpoint": "gfap_per_protein", "timepoint": f"cortex_{TIMEPOINT}",
                     "group": g, "ratio": f} for g, f in GFAP["effect"].items()]
        for matrix, ep in (("cortex", "brain_che_activity"), ("rbc", "rbc_che_activity")):
            planted += [{"endpoint": ep, "timepoint": f"{matrix}_{TIMEPOINT}", "group": g,
                         "ratio": f} for g, f in CHE[matrix][2].items()]
    return {"kind": "neurochem", "seed": seed, "planted": planted,
            "true_values": {"cytokines_pg_ml": cytokines, "gfap_pg_per_mg_protein": gfap,
                            "che_u": {"brain_u_per_g": {s: v * 10.0 for s, v in
                                                        che["cortex"].items()},
                                      "rbc_u_per_ml": che["rbc"]}},
            "note": "ratios are group median / control median as planted; endpoints and "
                    "groups not listed have no effect"}


register_simulator(Simulator(
    "neurochem", "Neurochemistry: 4 groups x 2 sexes x 5 rats; serum cytokines and NfL on two "
    "xPONENT plates, cortex GFAP ELISA, brain and RBC cholinesterase (Ellman); effects planted",
    lambda folder, seed: write_study(folder, seed)))
