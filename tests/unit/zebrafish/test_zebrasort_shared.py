"""The ZebraSort ZebraLab export with stimulus rows, read as exported (skipped without ../shared).

``zebrafish/zebrasort_zebralab``: a 96-well ZebraLab export whose regular 5-s
periods interleave with ``Chronolog start`` rows of 1-s top-light flashes and
vibrations (PROVENANCE.md). The authors' ZebraSort results are reproduced
exactly: per well (``distance_summary_End_of_period.xlsx``: inactive, small,
large and total distance) and per 5-s bin and well
(``time_distance_End_of_period.xlsx``, 4 608 rows).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from neurotox.assays.base import resolve_parameters
from neurotox.assays.zebrafish import analyse
from neurotox.io.zebrafish import read_export
from neurotox.study import read_layout

pytestmark = pytest.mark.shared_data

FOLDER = "zebrafish/zebrasort_zebralab"


@pytest.fixture(scope="module")
def zs(shared_data):
    folder = shared_data / FOLDER
    export = read_export(folder / "20250618-121409.xlsx")
    per_well = pd.read_excel(folder / "distance_summary_End_of_period.xlsx")
    per_bin = pd.read_excel(folder / "time_distance_End_of_period.xlsx")
    return export, per_well, per_bin


def test_regular_periods_are_bins_and_match_the_authors_per_bin(zs):
    export, _, per_bin = zs
    assert export.format == "zebralab-stimulus"
    bins = export.data
    assert len(bins) == 96 * 48 and bins["bin"].max() == 47
    got = bins.assign(time=bins["end_s"].round(3)).merge(per_bin, on=["well", "time"],
                                                         suffixes=("", "_authors"))
    assert len(got) == 4608
    for col in ("inadist", "smldist", "lardist"):
        np.testing.assert_array_equal(got[col], got[f"{col}_authors"])
    np.testing.assert_allclose(got["inadist"] + got["distance"], got["total_distance"],
                               atol=5e-12)


def test_per_well_totals_match_the_authors(zs):
    export, per_well, _ = zs
    sums = export.data.groupby("well")[["inadist", "smldist", "lardist"]].sum()
    want = per_well.set_index("well").loc[sums.index]
    for col in ("inadist", "smldist", "lardist"):
        np.testing.assert_allclose(sums[col], want[col], atol=5e-10)
    np.testing.assert_allclose(sums.sum(axis=1), want["total_distance"], atol=5e-10)
    a01 = sums.loc["A01"]
    assert round(a01["smldist"] + a01["lardist"], 3) == 500.273   # PROVENANCE.md
    assert round(sums.loc["H02"].sum(), 3) == 942.675


def test_stimulus_rows_are_events(zs):
    export, _, _ = zs
    ev = export.events
    assert len(ev) == 96 * 24
    a01 = ev[ev["well"] == "A01"]
    assert list(a01["stimulus"][:4]) == ["Top light", "Vibration", "Top light", "Vibration"]
    np.testing.assert_allclose(a01["start_s"][:3], [0.0, 10.067, 20.067])
    assert a01["distance"].iloc[1] == pytest.approx(1.404 + 1.598)
    notes = "\n".join(export.notes)
    assert "2304 row(s) between stimuli" in notes
    assert "plate ID '20250618-121409' taken from the file name (samplecode is empty)" in notes


def test_template_runs_with_the_authors_groups(zs, tmp_path):
    export, per_well, _ = zs
    conc = {"Control": 0, "FCC-0.01": 0.01, "FCC-1": 1, "RZ-1": 1, "RZ-5": 5, "RZ-10": 10}
    layout = per_well.assign(concentration=per_well["group"].map(conc),
                             group=per_well["group"].replace("Unknown", "blank"))
    layout[["well", "group", "concentration"]].to_csv(tmp_path / "layout.csv", index=False)
    _, params = resolve_parameters("zebrafish-light-vibration-zebralab",
                                   {"count_inactive_distance": True})
    result = analyse([export], params, layouts={"P": read_layout(tmp_path / "layout.csv")})
    e = result.endpoints
    total = e[e["endpoint"] == "total_distance"].set_index("subject")["value"]
    assert total["20250618-121409-A01"] == pytest.approx(673.220, abs=5e-10)
    resp = result.details["stimulus_responses"]
    assert resp.groupby("stimulus")["repeat"].max().to_dict() == {"light_flash": 12,
                                                                  "vibration": 12}
    a01 = resp[(resp["well"] == "A01") & (resp["stimulus"] == "vibration")]
    assert a01["distance"].iloc[0] == pytest.approx(1.404 + 1.598 + 0.828)  # + inactive
    calls = result.details["stimulus_hit_calls"]
    assert set(calls.loc[calls["n"] == 0, "call"]) == {"not tested"}
    assert set(calls.loc[calls["n"] == 0, "group"]) == {"FCC-0.01", "FCC-1", "RZ-5", "RZ-10"}
