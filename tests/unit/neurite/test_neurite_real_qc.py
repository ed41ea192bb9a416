"""Field QC on real co-culture and axon fields (../shared/data/imaging; skipped when absent).

A stranger's trial (2026-12-04) found the `empty` rule excluding co-culture
fields full of tumour cells whose neurite length is truly zero: a measured
zero must stay in the group mean.
"""

from __future__ import annotations

import pandas as pd
import pytest

from neurotox.assays.base import resolve_parameters
from neurotox.assays.neurite.tables import apply_qc
from neurotox.imaging import analyse_field
from neurotox.io.plates import read_plane

pytestmark = pytest.mark.shared_data


def test_coculture_field_of_tumour_cells_without_neurites_is_kept(shared_data):
    folder = shared_data / "imaging" / "deepneurite_pc3_coculture"
    # 3-10: ~16 PC3 cells, no neurite (manual mask: 7 px); 3-11: neurites among the cells
    names = ("train_xonaopt3-PC3-3-10.tif", "train_xonaopt3-PC3-3-11.tif")
    if not all((folder / "image" / n).is_file() for n in names):
        pytest.skip("DeepNeurite fields not present")
    _, params = resolve_parameters("neurite-outgrowth-coculture")
    rows = []
    for k, name in enumerate(names):
        res = analyse_field(read_plane(folder / "image" / name), None, pixel_size=1.0,
                            settings=params.settings())
        rows.append({"plate": "P", "well": f"3-{k}", "field": 1, "timepoint": "NA",
                     **res.metrics})
    out = apply_qc(pd.DataFrame(rows), params)
    empty, full = out.iloc[0], out.iloc[1]
    assert empty["total_neurite_length_um"] == 0
    assert empty["non_neuronal_cells"] >= 10
    assert not empty["excluded"], empty["exclusion_reason"]
    assert full["total_neurite_length_um"] > 500 and not full["excluded"]
