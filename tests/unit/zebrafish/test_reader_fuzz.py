"""Malformed input never escapes as anything but a one-line NeurotoxError."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from neurotox.errors import NeurotoxError
from neurotox.io.zebrafish import read_export

HEADERS = [
    "location\tanimal\tan\tstart\tend\tsmldist\tlardist",
    "vd_samplecode\tvd_start\tvd_timebinid\tvd_aname\tvd_inadist\tvd_smldist\tvd_lardist",
    "chemical.id,conc,plate.id,well,variable,value",
    '"Number of header lines:";"5"',
    "time,x,y,well",
    "Plate ID\tChemical ID\tDATE\tframes_num\tA01",
    '"chemical.id","conc","plate","well","t0","t1"',
]
cell = st.one_of(st.sampled_from(["", "-", "A01", "H13", "c01", "1,5", "nan", "x", "Z9"]),
                 st.floats(allow_nan=False, allow_infinity=False).map(str),
                 st.text(max_size=6))


@settings(max_examples=120, deadline=None)
@given(header=st.sampled_from(HEADERS),
       rows=st.lists(st.lists(cell, min_size=0, max_size=8), max_size=6),
       sep=st.sampled_from(["\t", ",", ";"]))
def test_malformed_exports_raise_neurotox_errors(header, rows, sep):
    text = header + "\n" + "\n".join(sep.join(r) for r in rows)
    with tempfile.TemporaryDirectory() as tmp:
        p = Path(tmp) / "export.txt"
        p.write_text(text, encoding="utf-8")
        try:
            read_export(p)
        except NeurotoxError as exc:
            assert "\n" not in str(exc).strip()


@settings(max_examples=40, deadline=None)
@given(data=st.binary(max_size=400))
def test_random_bytes(data):
    with tempfile.TemporaryDirectory() as tmp:
        p = Path(tmp) / "export.xls"
        p.write_bytes(data)
        try:
            read_export(p)
        except NeurotoxError:
            pass
