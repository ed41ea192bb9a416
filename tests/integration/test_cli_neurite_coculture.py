"""``neurotox neurite`` on real co-culture fields, as the stranger's trial ran it.

DeepNeurite PC3 fields (../shared/data/imaging; skipped when absent), groups
from the file names (series 2 and 3), the co-culture protocol. Fields 3-10 and
3-60 hold tumour cells and no neurite (their manual masks: 7 and 0 px).
"""

from __future__ import annotations

import pandas as pd
import pytest

pytestmark = pytest.mark.shared_data


@pytest.fixture(scope="module")
def run(shared_data, tmp_path_factory):
    from click.testing import CliRunner

    from neurotox.cli.main import cli

    folder = shared_data / "imaging" / "deepneurite_pc3_coculture" / "image"
    if not (folder / "train_xonaopt3-PC3-3-10.tif").is_file():
        pytest.skip("DeepNeurite fields not present")
    out = tmp_path_factory.mktemp("coculture") / "out"
    # fields 10, 20, ..., 60 of both series: {field} reads 1..6
    res = CliRunner().invoke(cli, ["--quiet", "neurite", str(folder), "--pattern",
                                   "train_xonaopt3-PC3-{group}-{field}0.tif", "--protocol",
                                   "neurite-outgrowth-coculture", "--pixel-size", "1",
                                   "--control", "3", "--workers", "1", "--overlays", "none",
                                   "-o", str(out)], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    return out


def test_fields_of_tumour_cells_without_neurite_are_measured_zeros(run):
    fields = pd.read_csv(run / "fields.csv", dtype={"well": str}).set_index("well")
    for well in ("3-1", "3-6"):                       # PC3-3-10, PC3-3-60
        assert fields.loc[well, "total_neurite_length_um"] == 0
        assert fields.loc[well, "non_neuronal_cells"] > 0
        assert not fields.loc[well, "excluded"]
    eps = pd.read_csv(run / "endpoints.csv", dtype={"subject": str, "group": str})
    total = eps[eps["endpoint"] == "total_neurite_length"]
    assert not total["excluded"].any()
    assert (total.loc[total["subject"] == "3-1", "value"] == 0).all()


def test_endpoints_no_neuron_gives_are_excluded_and_no_call_is_made(run):
    eps = pd.read_csv(run / "endpoints.csv", keep_default_na=False)
    assert "nuclei_count" not in set(eps["endpoint"])     # no nuclear channel: no nuclei
    for table in ("fields", "wells"):       # the tables name the count as the endpoint does
        columns = set(pd.read_csv(run / f"{table}.csv", nrows=1).columns)
        assert "cell_body_count" in columns and "nuclei_count" not in columns, table
    for name in ("cell_body_count", "neurite_length_per_cell", "unattached_neurite_length"):
        rows = eps[eps["endpoint"] == name]
        assert len(rows), name
        assert rows["excluded"].astype(str).eq("True").all(), name
        assert rows["exclusion_reason"].str.contains("no neuron in view").all(), name
    sel = pd.read_csv(run / "selectivity.csv")
    assert sel["call"].tolist() == ["not evaluable"]
    # series are groups without concentrations: nothing to fit (a dosed plate would fit
    # total length: tests/unit/neurite/test_neurite_assay.py)
    assert sel["reason"].iloc[0] == "the layout gives groups but no concentrations"
    assert pd.read_csv(run / "concentration_response.csv").empty
