"""Simulated neurite-outgrowth plate (``neurotox simulate neurite-plate``) with known truth."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from neurotox.assays.neurite.params import ASSAY
from neurotox.simulate.base import Simulator, register_simulator, write_study_yaml

#: Simulated plate: well → concentration (µM); B02/B03 are vehicle controls.
SIM_WELLS = {"B02": 0.0, "B03": 0.0, "B04": 0.1, "B05": 0.3, "B06": 1.0, "B07": 3.0,
             "B08": 10.0, "B09": 30.0}
SIM_PIXEL_SIZE = 0.65
SIM_NEURITE_EC50 = 1.0
SIM_VIABILITY_EC50 = 100.0


def _sim_effects(conc: float) -> tuple[float, int]:
    """Neurite length scale and number of cells at ``conc`` (Hill slope 1.5 and 2)."""
    scale = 1.0 / (1.0 + (conc / SIM_NEURITE_EC50) ** 1.5) if conc > 0 else 1.0
    alive = 1.0 / (1.0 + (conc / SIM_VIABILITY_EC50) ** 2) if conc > 0 else 1.0
    return scale, int(round(14 * alive))


def _write_tiff(path: Path, data: np.ndarray, pixel_size: float) -> None:
    import tifffile

    tifffile.imwrite(path, data, imagej=True, resolution=(1 / pixel_size, 1 / pixel_size),
                     metadata={"unit": "um"})


def write_simulated_plate(folder: Path, seed: int) -> dict[str, Any]:
    """Write a small simulated neurite plate study (8 wells x 1 field, 512 x 512 px).

    ImageXpress naming (``SIM01_B02_s1_w1.tif`` nuclei, ``_w2`` neurites), ImageJ
    pixel-size calibration, a layout with concentrations, and a study file.
    Returns the truth: per field nuclei count and total neurite length (µm).
    """
    from neurotox.imaging.synthetic import synthetic_field

    images = folder / "images"
    images.mkdir(parents=True, exist_ok=True)
    truth = {}
    for k, (well, conc) in enumerate(SIM_WELLS.items()):
        scale, n_cells = _sim_effects(conc)
        f = synthetic_field(seed * 100 + k, pixel_size=SIM_PIXEL_SIZE, n_cells=n_cells,
                            touching_pairs=min(2, n_cells // 4), neurite_scale=scale)
        _write_tiff(images / f"SIM01_{well}_s1_w1.tif", f.nuclei, SIM_PIXEL_SIZE)
        _write_tiff(images / f"SIM01_{well}_s1_w2.tif", f.neurites, SIM_PIXEL_SIZE)
        truth[f"{well}/s1"] = {"concentration_uM": conc,
                               "nuclei_count": f.truth["nuclei_count"],
                               "total_neurite_length_um": f.truth["total_neurite_length_um"]}
    groups = {c: f"G{i + 1}" for i, c in enumerate(sorted(set(SIM_WELLS.values())))}
    pd.DataFrame({"well": list(SIM_WELLS), "group": [groups[c] for c in SIM_WELLS.values()],
                  "concentration": list(SIM_WELLS.values())}).to_csv(
        folder / "layout.csv", index=False, lineterminator="\n")
    write_study_yaml(folder, {
        "study_id": "SIM-NEURITE-001",
        "title": "Simulated neurite outgrowth plate (SH-SY5Y-like)",
        "test_item": "Simulated inhibitor",
        "cell_line": "SH-SY5Y (simulated)",
        "groups": [{"id": g, "label": "Vehicle control" if c == 0 else f"{c:g} uM",
                    "dose": c, "dose_unit": "uM", "control": c == 0}
                   for c, g in groups.items()],
        "plate_layouts": {"SIM01": "layout.csv"},
        "assays": [{"assay": ASSAY, "protocol": "neurite-outgrowth-shsy5y", "input": "images",
                    "layout": "SIM01"}],
    })
    return {"pixel_size_um": SIM_PIXEL_SIZE, "neurite_ec50_uM": SIM_NEURITE_EC50,
            "viability_ec50_uM": SIM_VIABILITY_EC50, "fields": truth}



register_simulator(Simulator(
    "neurite-plate", "Neurite outgrowth plate: 8 wells of two-channel TIFFs with known "
    "neurite lengths and nuclei, concentration series with a specific inhibitor",
    write_simulated_plate))
