"""Simulated zebrafish LPR study (``neurotox simulate zebrafish-lpr``) with known truth.

One 48-well plate (rows A–D used), ZebraLab tracking export (TAB text with an
``.xls`` name, as ZebraBox writes it), 60-s bins (kept coarse so the demo is fast) over the
Tanguay schedule (4 × 3 min light / 3 min dark). Planted: hypoactivity at 10 µM (dark-phase
activity × 0.4) and hyperactivity at 100 µM (light-phase activity × 3); two dead
larvae and one malformed larva in the plate map; one empty well.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from neurotox.simulate.base import Simulator, register_simulator, write_study_yaml

GROUPS = [("G1", "Vehicle control", 0.0, True), ("G2", "Low", 1.0, False),
          ("G3", "Mid", 10.0, False), ("G4", "High", 100.0, False)]
LIGHT_FACTOR = {0.0: 1.0, 1.0: 1.0, 10.0: 1.0, 100.0: 3.0}
DARK_FACTOR = {0.0: 1.0, 1.0: 1.0, 10.0: 0.4, 100.0: 1.0}
BIN_S, N_BINS, PHASE_BINS = 60.0, 24, 3


def _wells() -> list[str]:
    return [f"{r}{c:02d}" for r in "ABCD" for c in range(1, 13)]


def _layout() -> pd.DataFrame:
    wells = _wells()
    group = [GROUPS[(int(w[1:]) - 1) // 3][0] for w in wells]
    conc = [next(g[2] for g in GROUPS if g[0] == gid) for gid in group]
    lay = pd.DataFrame({"well": wells, "group": group, "concentration": conc,
                        "mortality": "", "morphology": ""})
    lay.loc[lay["well"].isin(["B02", "C08"]), "mortality"] = "dead"
    lay.loc[lay["well"] == "D11", "morphology"] = "pericardial edema"
    return lay


def _distance(rng: np.random.Generator, conc: float) -> np.ndarray:
    light = (np.arange(N_BINS) // PHASE_BINS) % 2 == 0
    mean = np.where(light, 15.0 * LIGHT_FACTOR[conc], 80.0 * DARK_FACTOR[conc])
    onset = np.r_[False, light[:-1] & ~light[1:]]
    mean = np.where(onset, mean * 1.5, mean)
    larva = rng.gamma(12.0, 1 / 12.0)
    return rng.gamma(20.0, mean * larva / 20.0)


def _export(rng: np.random.Generator, lay: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for i, r in lay.iterrows():
        d = _distance(rng, r["concentration"])
        empty = r["well"] == "A12"
        if empty:
            d = np.zeros(N_BINS)
        sml, lar = 0.4 * d, 0.6 * d
        smldur, lardur = np.minimum(sml / 4, 30.0), np.minimum(lar / 15, 20.0)
        start = np.arange(N_BINS) * BIN_S
        rows.append(pd.DataFrame({
            "location": f"c{i + 1:02d}", "animal": r["well"], "an": 1, "start": start,
            "end": start + BIN_S, "inact": 1, "inadur": BIN_S - smldur - lardur,
            "inadist": np.round(0.05 * d, 3), "smlct": np.ceil(sml / 2),
            "smldur": np.round(smldur, 3), "smldist": np.round(sml, 3),
            "larct": np.ceil(lar / 5), "lardur": np.round(lardur, 3),
            "lardist": np.round(lar, 3), "emptyct": int(empty),
            "emptydur": BIN_S if empty else 0.0}))
    return pd.concat(rows, ignore_index=True)


def write(folder: Path, seed: int) -> dict[str, Any]:
    """Write the study into ``folder``; return the planted truth."""
    rng = np.random.default_rng(seed)
    lay = _layout()
    lay.to_csv(folder / "plate_layout.csv", index=False)
    export = _export(rng, lay)
    export.to_csv(folder / "zebralab_P1.xls", sep="\t", index=False, lineterminator="\r\n")
    write_study_yaml(folder, {
        "study_id": "SIM-ZF-001", "title": "Simulated larval photomotor response screen",
        "test_item": "Compound Z", "glp": False, "species": "Danio rerio",
        "groups": [{"id": g, "label": lab, "dose": d, "dose_unit": "uM", "control": c}
                   for g, lab, d, c in GROUPS],
        "plate_layouts": {"P1": "plate_layout.csv"},
        "assays": [{"assay": "zebrafish_lpr", "protocol": "zebrafish-lpr-tanguay",
                    "input": "zebralab_P1.xls", "layout": "P1",
                    # 60-s bins: the transition window is one bin, and SARL's
                    # statistics (6-s bins) do not apply
                    "parameters": {"exclude_no_movement": True,
                                   "transition_window_s": 60, "sarl_statistics": False}}]})
    return {"hypoactive_dark_uM": 10.0, "dark_factor": 0.4, "hyperactive_light_uM": 100.0,
            "light_factor": 3.0, "excluded_wells": {"B02": "dead", "C08": "dead",
                                                    "D11": "malformed", "A12": "empty"},
            "expected_calls": {"auc_dark@10": "HYPO", "auc_light@100": "HYPER"}}


register_simulator(Simulator("zebrafish-lpr", "Zebrafish LPR plate: ZebraLab export, "
                             "plate map with mortality/morphology, planted hypo/hyper", write))


# ------------------------------------------------------------ stimulus (startle) protocol

#: Group → (response probability, latency s, habituation factor per presentation).
STARTLE_GROUPS = [("G1", "Vehicle control", 0.0, True, 0.9, 0.2, 0.93),
                  ("G2", "Low", 1.0, False, 0.9, 0.2, 1.0),
                  ("G3", "High", 10.0, False, 0.4, 0.5, 0.93),
                  ("G4", "Top", 100.0, False, 0.9, 0.2, 0.93)]
STARTLE_BIN_S, STARTLE_N, STARTLE_EVERY_S, STARTLE_AMP_MM = 0.1, 8, 10.0, 6.0
#: (protocol name, ZebraLab stimuli_name, device in endreason, first onset s)
STARTLE_STIMULI = (("vibration", "Vibration", "SOUND", 5.0),
                   ("light_flash", "Top light", "TOP_LIGHT", 10.0))
STARTLE_TOTAL_S = STARTLE_EVERY_S * STARTLE_N + 5.0


def _startle_layout() -> pd.DataFrame:
    wells = [f"{r}{c:02d}" for r in "ABCD" for c in range(1, 9)]
    group = [STARTLE_GROUPS[i // 8] for i in range(len(wells))]
    lay = pd.DataFrame({"well": wells, "group": [g[0] for g in group],
                        "concentration": [g[2] for g in group], "mortality": ""})
    lay.loc[lay["group"] == "G4", "mortality"] = "dead"   # a group without larvae
    return lay


def _startle_onsets() -> list[tuple[str, str, int, float]]:
    return sorted(((name, label, k, first + STARTLE_EVERY_S * k)
                   for name, label, _, first in STARTLE_STIMULI for k in range(STARTLE_N)),
                  key=lambda r: r[3])


def _startle_larva(rng: np.random.Generator, p: float, lat: float, hab: float,
                   n_bins: int) -> tuple[np.ndarray, dict]:
    """Distance per 0.1-s bin: background outside the windows, planted responses inside."""
    t = np.arange(n_bins) * STARTLE_BIN_S
    d = np.where(rng.random(n_bins) < 0.3, np.round(rng.uniform(0.01, 0.05, n_bins), 3), 0.0)
    onsets = _startle_onsets()
    for _, _, _, t0 in onsets:
        d[(t >= t0 - 1e-9) & (t < t0 + 1.0 - 1e-9)] = 0.0
    truth = {}
    for name, _, k, t0 in onsets:
        hit = bool(rng.random() < p)
        j = int(round((t0 + lat) / STARTLE_BIN_S)) if hit else \
            int(round((t0 + rng.integers(0, 10) * STARTLE_BIN_S) / STARTLE_BIN_S))
        amp = round(STARTLE_AMP_MM * hab ** k, 3) if hit else \
            (0.5 if rng.random() < 0.5 else 0.0)   # a twitch below the 1-mm threshold
        d[j] = amp
        truth[(name, k + 1)] = (hit, amp, lat if hit else None)
    return d, truth


def _startle_export(rng: np.random.Generator, lay: pd.DataFrame) -> tuple[pd.DataFrame, dict]:
    n_bins = int(round(STARTLE_TOTAL_S / STARTLE_BIN_S))
    start = np.round(np.arange(n_bins) * STARTLE_BIN_S, 3)
    rows, truth = [], {}
    for i, r in lay.iterrows():
        g = next(x for x in STARTLE_GROUPS if x[0] == r["group"])
        d, planted = _startle_larva(rng, *g[4:], n_bins)
        truth[r["well"]] = planted
        base = {"location": f"LocA{i + 1:02d}", "aname": f"{r['well']}_Name"}
        rows.append(pd.DataFrame({**base, "start": start, "end": np.round(start + 0.1, 3),
                                  "startreason": "Beginning of period",
                                  "endreason": "End of period", "stimuli_name": "",
                                  "stimuli_start": np.nan, "smldist": 0.0, "lardist": d,
                                  "smldur": 0.0, "lardur": np.where(d > 0, 0.1, 0.0),
                                  "inadist": 0.0, "emptydur": 0.0}))
        rows.append(_startle_rows(base, start, d))
    return pd.concat(rows, ignore_index=True), truth


DEVICE = {label: device for _, label, device, _ in STARTLE_STIMULI}


def _startle_rows(base: dict, start: np.ndarray, d: np.ndarray) -> pd.DataFrame:
    """ZebraLab chronology rows: each 1-s stimulus period, then the interval to the next."""
    out = []
    onsets = _startle_onsets()
    for j, (_, label, _, t0) in enumerate(onsets):
        t1 = onsets[j + 1][3] if j + 1 < len(onsets) else float(start[-1] + 0.1)
        for a, b, name, on in ((t0, t0 + 1.0, label, 100.0), (t0 + 1.0, t1, "Null", 0.0)):
            m = (start >= a - 1e-9) & (start < b - 1e-9)
            out.append({**base, "start": a, "end": b, "startreason": "Chronolog start",
                        "endreason": DEVICE[label],
                        "stimuli_name": name, "stimuli_start": on, "smldist": 0.0,
                        "lardist": round(float(d[m].sum()), 3), "smldur": 0.0,
                        "lardur": round(0.1 * float((d[m] > 0).sum()), 3), "inadist": 0.0,
                        "emptydur": 0.0})
    return pd.DataFrame(out)


def write_startle(folder: Path, seed: int) -> dict[str, Any]:
    """Write a vibration/light-flash startle study into ``folder``; return the planted truth."""
    rng = np.random.default_rng(seed)
    lay = _startle_layout()
    lay.to_csv(folder / "plate_layout.csv", index=False)
    export, planted = _startle_export(rng, lay)
    export.to_csv(folder / "zebralab_stimulus_P1.xls", sep="\t", index=False,
                  lineterminator="\r\n")
    total = STARTLE_TOTAL_S
    write_study_yaml(folder, {
        "study_id": "SIM-ZF-002", "title": "Simulated larval vibration and light-flash startle",
        "test_item": "Compound Z", "glp": False, "species": "Danio rerio",
        "groups": [{"id": g[0], "label": g[1], "dose": g[2], "dose_unit": "uM", "control": g[3]}
                   for g in STARTLE_GROUPS],
        "plate_layouts": {"P1": "plate_layout.csv"},
        "assays": [{"assay": "zebrafish_lpr", "protocol": "zebrafish-vibration-habituation",
                    "input": "zebralab_stimulus_P1.xls", "layout": "P1",
                    "parameters": {
                        "schedule": [{"name": "stimulation", "light": False,
                                      "duration_s": total}],
                        "endpoint_bin_s": 10,
                        "stimuli": [{"name": n, "type": n, "duration_s": 1.0, "start_s": s,
                                     "every_s": STARTLE_EVERY_S, "count": STARTLE_N}
                                    for n, _, _, s in STARTLE_STIMULI]}}]})
    return {"groups": {g[0]: {"dose": g[2], "response_probability": g[4], "latency_s": g[5],
                              "habituation_factor": g[6]} for g in STARTLE_GROUPS},
            "not_tested_group": "G4", "response_threshold_mm": 1.0,
            "presentations": {w: {f"{n}#{k}": list(v) for (n, k), v in p.items()}
                              for w, p in planted.items()}}


register_simulator(Simulator("zebrafish-startle", "Zebrafish vibration and light-flash "
                             "startle: ZebraLab export with stimulus rows, planted response "
                             "probability, latency and habituation", write_startle))


# ------------------------------------------------------------ whole screen (EPA / Tanguay)
# Two 96-well plates (= experimental groups), three chemicals (IDs that look like
# numbers included), four concentrations, vehicle in row H shared by both chemicals of
# a plate. The same larvae are written as an EPA lmr0 table (csv.gz), as an EPA
# light/dark table (csv) and as a Tanguay morphology table in which each shared
# vehicle well is listed once under every chemical of its plate.

SCREEN_PLATES = {"P1": ("725", "1021"), "P2": ("725", "C3")}
SCREEN_CONCS = (0.1, 1.0, 10.0, 100.0)
SCREEN_INTERVALS = (10, 20, 20)          # acclimation (dark), light, dark; 2-min bins
SCREEN_DARK_FACTOR = {("725", 10.0): 0.3, ("725", 100.0): 0.3}
#: wllq = 0 wells: P1 1021 @ 100 loses 2 of 6 (< 75 %), P2's vehicle 3 of 12 (< 85 %).
SCREEN_WLLQ0 = {("P1", "D07"), ("P1", "D08"), ("P1", "B02"), ("P2", "H01"), ("P2", "H05"),
                ("P2", "H09")}
#: planted morphology calls (plate, well) → calls scored 1.
SCREEN_CALLS = {("P1", "D07"): ("MO24",), ("P1", "D08"): ("PE__", "YSE_"),
                ("P1", "D09"): ("PE__",), ("P1", "D10"): ("PE__", "AXIS"),
                ("P1", "D11"): ("PE__",), ("P1", "C08"): ("YSE_",), ("P1", "C09"): ("YSE_",),
                ("P1", "H03"): ("MORT",), ("P2", "D01"): ("AXIS",)}
SCREEN_DNC = {("P1", "A01")}
SCREEN_CALL_COLUMNS = ("MO24", "DP24", "SM24", "NC24", "MORT", "YSE_", "AXIS", "PE__",
                       "TR__", "DNC_")


def _screen_wells() -> pd.DataFrame:
    rows = []
    for plate, (left, right) in SCREEN_PLATES.items():
        for r, conc in zip("ABCD", SCREEN_CONCS, strict=True):
            rows += [(plate, f"{r}{c:02d}", left if c <= 6 else right, conc, "t")
                     for c in range(1, 13)]
        rows += [(plate, f"H{c:02d}", "DMSO", 0.0, "v") for c in range(1, 13)]
    return pd.DataFrame(rows, columns=["plate", "well", "chemical", "conc", "wllt"])


def _screen_distances(rng: np.random.Generator, wells: pd.DataFrame) -> np.ndarray:
    acc, light, dark = SCREEN_INTERVALS
    phase = np.r_[np.full(acc, 0.6), np.full(light, 0.4), np.full(dark, 1.6)]
    out = np.empty((len(wells), len(phase)))
    for i, w in enumerate(wells.itertuples()):
        factor = np.r_[np.ones(acc + light),
                       np.full(dark, SCREEN_DARK_FACTOR.get((w.chemical, w.conc), 1.0))]
        out[i] = np.round(rng.gamma(8.0, phase * factor * rng.gamma(15, 1 / 15) / 8.0), 6)
    return out


def _lmr0(wells: pd.DataFrame, vt: np.ndarray, quality: np.ndarray) -> pd.DataFrame:
    df = pd.DataFrame({"srcf": "simulated_screen.xlsx", "acid": "ZFlmrALD-20-40-40",
                       "cpid": wells["chemical"], "apid": wells["plate"],
                       "rowi": wells["well"].str[0].map(lambda r: ord(r) - 64),
                       "coli": wells["well"].str[1:].astype(int), "wllt": wells["wllt"],
                       "wllq": quality, "conc": wells["conc"]})
    vals = pd.DataFrame(vt, columns=[f"vt{k + 1}" for k in range(vt.shape[1])])
    vals[quality == 0] = np.nan
    return pd.concat([df, vals], axis=1)


def _lightdark(wells: pd.DataFrame, vt: np.ndarray, quality: np.ndarray) -> pd.DataFrame:
    labels = [f"{2 * k}-{2 * k + 2}" for k in range(vt.shape[1])]
    df = pd.DataFrame({"Removed due to developmental issues": "",
                       "Removed due to tracking issues/errors": np.where(quality == 0, "X", ""),
                       "Plate #": wells["plate"], "Link plates tested together": "A",
                       "Well": wells["well"], "Chemical": wells["chemical"],
                       "Concentration (μM)": wells["conc"]})
    vals = pd.DataFrame(vt, columns=labels)
    vals[quality == 0] = np.nan
    return pd.concat([df, vals], axis=1)


def _morphology(wells: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for w in wells.itertuples():
        calls = SCREEN_CALLS.get((w.plate, w.well), ())
        scored = {c: int(c in calls) for c in SCREEN_CALL_COLUMNS}
        scored["DNC_"] = int((w.plate, w.well) in SCREEN_DNC)
        if "MO24" in calls:  # dead at 24 hpf: not scored later (blank)
            scored.update({c: "" for c in SCREEN_CALL_COLUMNS if c not in ("MO24", "DNC_")})
        owners = SCREEN_PLATES[w.plate] if w.wllt == "v" else (w.chemical,)
        rows += [{"chemical.id": chem, "bottle.id": f"B{chem}", "conc": w.conc,
                  "plate.id": w.plate, "well": w.well, **scored} for chem in owners]
    return pd.DataFrame(rows)


def _screen_truth(wells: pd.DataFrame) -> dict[str, Any]:
    """Planted truth, counted from the planted lists (not by the analysis code)."""
    inc: dict[str, dict[str, list[int]]] = {}
    for chem in ("725", "1021", "C3"):
        plates = [p for p, cs in SCREEN_PLATES.items() if chem in cs]
        for code in ("PE__", "YSE_", "AXIS", "MORT", "MO24"):
            counts = []
            for conc in (0.0, *SCREEN_CONCS):
                sel = wells[wells["plate"].isin(plates) & (wells["conc"] == conc)
                            & ((wells["chemical"] == chem) | (conc == 0.0))]
                keys = [(p, w) for p, w in zip(sel["plate"], sel["well"], strict=True)
                        if (p, w) not in SCREEN_DNC]
                dead24 = [k for k in keys if "MO24" in SCREEN_CALLS.get(k, ())]
                examined = keys if code == "MO24" else [k for k in keys if k not in dead24]
                hits = sum(code in SCREEN_CALLS.get(k, ()) for k in examined)
                counts.append([len(examined), hits])
            inc[f"{chem}/{code}"] = counts
    return {"incidence_n_affected_by_conc": inc,
            "concentrations": [0.0, *SCREEN_CONCS],
            "excluded_treatment_groups": [["1021", 100.0, "P1"]],
            "excluded_experimental_groups": ["P2"],
            "wllq0_wells": sorted(f"{p}-{w}" for p, w in SCREEN_WLLQ0),
            "hypoactive_dark": [["725", 10.0], ["725", 100.0]],
            "dark_factor": 0.3,
            "shared_vehicle_wells": 24, "larvae": len(wells)}


def write_screen(folder: Path, seed: int) -> dict[str, Any]:
    """Write the simulated screen into ``folder``; return the planted truth."""
    rng = np.random.default_rng(seed)
    wells = _screen_wells()
    vt = _screen_distances(rng, wells)
    quality = np.array([0 if (p, w) in SCREEN_WLLQ0 else 1
                        for p, w in zip(wells["plate"], wells["well"], strict=True)])
    _lmr0(wells, vt, quality).to_csv(folder / "screen_lmr0.csv.gz", index=False,
                                     compression={"method": "gzip", "mtime": 0})
    _lightdark(wells, vt, quality).to_csv(folder / "screen_lightdark.csv", index=False)
    _morphology(wells).to_csv(folder / "morphology.csv", index=False)
    write_study_yaml(folder, {
        "study_id": "SIM-ZF-SCREEN", "title": "Simulated zebrafish screen of three chemicals",
        "test_item": "Chemicals 725, 1021, C3", "glp": False, "species": "Danio rerio",
        "groups": [{"id": "vehicle", "label": "Vehicle (DMSO)", "dose": 0, "dose_unit": "uM",
                    "control": True}] + [
            {"id": f"{chem}_{conc:g}", "label": f"{chem} {conc:g} uM", "dose": conc,
             "dose_unit": "uM", "test_item": chem}
            for chem in ("1021", "725", "C3") for conc in SCREEN_CONCS],
        "assays": [{"assay": "zebrafish_screen", "protocol": "zebrafish-screen-epa",
                    "input": ["screen_lmr0.csv.gz", "morphology.csv"]}]})
    return _screen_truth(wells)


register_simulator(Simulator("zebrafish-screen", "Zebrafish screen: 3 chemicals on 2 plates "
                             "as EPA lmr0 and light/dark tables plus a Tanguay morphology "
                             "table with shared vehicle wells; planted wllq = 0 wells, "
                             "group-rule failures, hypoactivity and malformations",
                             write_screen))
