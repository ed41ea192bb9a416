"""Report plate maps: drawn for what was measured, not for endpoints a protocol cannot give."""

from __future__ import annotations

import pandas as pd

from neurotox.report.context import Context
from neurotox.report.figures import heatmap_jobs

from .conftest import make_spec


def _rows(endpoint: str, unit: str, values: list[float], excluded: bool) -> list[dict]:
    return [{"endpoint": endpoint, "unit": unit, "subject": f"B{k + 2:02d}", "batch": "P1",
             "timepoint": "NA", "value": v, "excluded": excluded, "category": "structural"}
            for k, v in enumerate(values)]


def test_plate_maps_skip_endpoints_without_an_included_value():
    # a co-culture plate: nuclei count and per-cell length are never measured (excluded
    # rows), total length is; the report drew three grey maps and none of total length
    table = pd.DataFrame(_rows("nuclei_count", "count", [float("nan")] * 3, True)
                         + _rows("neurite_length_per_cell", "um", [float("nan")] * 3, True)
                         + _rows("total_neurite_length", "um", [3000.0, 1500.0, 20.0], False))
    jobs = heatmap_jobs(Context(make_spec(), table))
    assert [j.key for j in jobs] == ["plate-p1-total-neurite-length"]
    assert jobs[0].kwargs["values"] == {"B02": 3000.0, "B03": 1500.0, "B04": 20.0}
