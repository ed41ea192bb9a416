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


def _analysed(folder, names, protocol: str, pixel_size: float):
    """The protocol's parameters and each named field's result (skip when the files are absent)."""
    if not all((folder / n).is_file() for n in names):
        pytest.skip(f"{folder.name} fields not present")
    _, params = resolve_parameters(protocol)
    return params, [analyse_field(read_plane(folder / n), None, pixel_size=pixel_size,
                                  settings=params.settings()) for n in names]


def test_coculture_field_of_tumour_cells_without_neurites_is_kept(shared_data):
    folder = shared_data / "imaging" / "deepneurite_pc3_coculture" / "image"
    # 3-10: ~16 PC3 cells, no neurite (manual mask: 7 px); 3-11: neurites among the cells
    names = ("train_xonaopt3-PC3-3-10.tif", "train_xonaopt3-PC3-3-11.tif")
    params, results = _analysed(folder, names, "neurite-outgrowth-coculture", 1.0)
    rows = [{"plate": "P", "well": f"3-{k}", "field": 1, "timepoint": "NA", **res.metrics}
            for k, res in enumerate(results)]
    out = apply_qc(pd.DataFrame(rows), params)
    empty, full = out.iloc[0], out.iloc[1]
    assert empty["total_neurite_length_um"] == 0
    assert empty["non_neuronal_cells"] >= 10
    assert not empty["excluded"], empty["exclusion_reason"]
    assert full["total_neurite_length_um"] > 500 and not full["excluded"]


def test_map2_exports_with_sixteen_grey_levels_are_flagged_and_the_groups_warned(shared_data):
    """The `MAX_24h_DMSO_*_blue` MAP2 controls are 4-bit exports (levels 0, 17, ..., 255):
    faint dendrites 1-3 levels above the background are not traced, so a group saved at
    full depth reads longer (a stranger's trial, 2026-12-05: Trici 157 % of DMSO, p 0.046)."""
    from neurotox.assays.neurite.acquisition import acquisition_notes
    from neurotox.assays.neurite.layout import GroupInfo

    folder = shared_data / "imaging" / "map2_primary_neurons" / "images"
    names = {"MAX_24h_DMSO_FGF14_488_PanNav_568_MAP2_647_15_blue.tif": "DMSO",
             "MAX_24h_DMSO_FGF14_488_PanNav_568_MAP2_647_27_blue.tif": "DMSO",
             "C3-GRAY-DIV14_Trici24h_FGF14_PanNavRabb_MAP2_131.tif": "Trici",
             "C3-GRAY-DIV14_Trici24h_FGF14_PanNavRabb_MAP2_240.tif": "Trici"}
    params, results = _analysed(folder, names, "neurite-outgrowth-primary-neurons", 0.279)
    rows = [{"plate": "P", "well": name, "field": 1, "timepoint": "NA", "neurite_file": name,
             "nuclei_file": "", **res.metrics} for name, res in zip(names, results, strict=True)]
    out = apply_qc(pd.DataFrame(rows), params)
    assert list(out["grey_levels"]) == [16, 16, 256, 255]
    assert list(out["qc_flags"]) == ["grey_levels=16", "grey_levels=16", "", ""]
    assert not out["excluded"].any()         # a flag: the rule is not in exclude_on
    groups = {n: GroupInfo(g, 0.0 if g == "DMSO" else 1.0, "uM", g == "DMSO")
              for n, g in names.items()}
    assert acquisition_notes(out, groups, params) == [
        "warning: the groups' fields differ in grey depth (fields per group, control first: "
        "'DMSO': 2 fewer than 64 grey levels; 'Trici': 2 at least 64 grey levels): a "
        "difference from the control may come from the files, not the treatment"]


def test_coculture_fields_are_not_all_flagged_for_overlays(shared_data):
    """Every co-culture field has no cells (no neuron can be in view): no reason to draw it;
    a field failing a QC rule (3-10: debris 1.00) still is (stranger31: 89 of 89 drawn)."""
    from types import SimpleNamespace

    from neurotox.assays.neurite.fields import _flagged

    folder = shared_data / "imaging" / "deepneurite_pc3_coculture" / "image"
    names = ("train_xonaopt3-PC3-3-11.tif", "train_xonaopt3-PC3-3-10.tif")
    params, results = _analysed(folder, names, "neurite-outgrowth-coculture", 1.0)
    assert all("no_cells" in res.flags for res in results)
    assert [_flagged(SimpleNamespace(flags=res.flags, metrics=res.metrics), params)
            for res in results] == [False, True]
