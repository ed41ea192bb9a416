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
                    "parameters": {"exclude_no_movement": True,
                                   "transition_window_s": 60}}]})
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
