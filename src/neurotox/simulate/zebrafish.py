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
