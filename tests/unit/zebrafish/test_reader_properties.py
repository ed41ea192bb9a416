"""Property-based round trips: any dialect of a ZebraLab export reads back the same values."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from neurotox.io.zebrafish import read_export

HEADER = ["location", "animal", "an", "start", "end", "inadur", "inadist", "smldur",
          "smldist", "lardur", "lardist", "emptydur"]


def _fmt(v: float, comma: bool) -> str:
    s = f"{v:.3f}"
    return s.replace(".", ",") if comma else s


@settings(max_examples=25, deadline=None)
@given(values=st.lists(st.tuples(st.floats(0, 500), st.floats(0, 500)), min_size=1,
                       max_size=12),
       sep=st.sampled_from(["\t", ";"]), comma=st.booleans(),
       encoding=st.sampled_from(["utf-8", "utf-16", "cp1252"]),
       newline=st.sampled_from(["\n", "\r\n"]))
def test_zebralab_dialects_round_trip(values, sep, comma, encoding, newline):
    comma = comma and sep != ","
    lines = [sep.join(HEADER)]
    for b, (sml, lar) in enumerate(values):
        row = ["c01", "A01", "1", _fmt(60 * b, comma), _fmt(60 * b + 60, comma), "1",
               "0", "2", _fmt(sml, comma), "1", _fmt(lar, comma), "0"]
        lines.append(sep.join(row))
    with tempfile.TemporaryDirectory() as tmp:
        p = Path(tmp) / "export.xls"
        p.write_bytes(newline.join(lines).encode(encoding))
        ex = read_export(p)
    expected = [round(s, 3) + round(lar, 3) for s, lar in values]
    np.testing.assert_allclose(ex.data["distance"], expected, atol=2e-3)
    assert ex.data["bin"].tolist() == list(range(len(values)))
