"""Property-based fuzzing of every reader: only neurotox's own errors may escape.

Short runs here (a few dozen examples per reader); ``benchmarks/bench_fuzz.py`` runs
the same strategies for minutes per reader.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from neurotox.errors import NeurotoxError
from tests.robustness.fuzzing import TIFF_NAMES, file_bytes, targets, write_input

TARGETS = targets()
#: Readers fuzzed through workbooks are slow per example: ``make test-all`` and bench_fuzz.
SLOW = {"rodent:nor-scoring-sheet-xlsx", "battery:read_fob-xlsx",
        "rodent:maze-scoring-sheet-xlsx"}
PARAMS = [pytest.param(t, id=t.name, marks=[pytest.mark.slow] if t.name in SLOW else [])
          for t in TARGETS]
FAST = settings(max_examples=25, deadline=None, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow, HealthCheck.data_too_large])


@pytest.mark.parametrize("target", PARAMS)
@FAST
@given(data=st.data())
def test_reader_raises_only_neurotox_errors(tmp_path, target, data):
    raw = data.draw(file_bytes(target), label="file")
    name = data.draw(st.sampled_from(TIFF_NAMES)) if target.binary == "tiff" else None
    path = write_input(target, raw, tmp_path / "in", name)
    try:
        target.call(path)
    except NeurotoxError:
        pass
