"""Shared helpers of the per-sample readers: time units, gaps in time, lost samples."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from neurotox.errors import FormatError
from neurotox.io.rodent.samples import (
    gap_steps,
    header_seconds_per,
    lost_per_point,
    samples_in_gaps,
    seconds_per,
)


@pytest.mark.parametrize("unit, scale", [("s", 1.0), ("", 1.0), (" Sec ", 1.0), ("ms", 1e-3),
                                         ("milliseconds", 1e-3), ("min", 60.0), ("h", 3600.0),
                                         ("frames", None)])
def test_seconds_per_unit(unit, scale):
    assert seconds_per(unit) == scale


@pytest.mark.parametrize("header, scale", [
    ("Time", 1.0), ("Time (s)", 1.0), ("Time (ms)", 1e-3), ("Time (MS)", 1e-3),
    ("Object 1 : time [min]", 60.0), ("Left object : latency (h)", 3600.0),
    # the shared header-unit reader (io.header_units): a time unit after an underscore
    ("Time_ms", 1e-3), ("time_min", 60.0),
    # ... but a word after an underscore that is no time unit is no unit
    ("trial_time", 1.0), ("Test_time", 1.0)])
def test_seconds_per_unit_of_a_header(header, scale):
    assert header_seconds_per(header, Path("m.csv")) == scale


@pytest.mark.parametrize("header, unit", [("Time (frames)", "frames"), ("Time ()", ""),
                                          ("Object 1 : time [samples]", "samples")])
def test_an_unknown_time_unit_in_brackets_is_refused(header, unit):
    with pytest.raises(FormatError) as err:
        header_seconds_per(header, Path("m.csv"))
    assert str(err.value) == (f"m.csv, column {header!r}: unknown time unit {unit!r} in the "
                              "header (expected s, ms, min or h)")


def test_gap_of_ten_missing_samples_at_30_hz():
    # 0.033-s steps with one step of 11 intervals: 10 samples absent
    steps = np.r_[np.full(50, 0.033), 11 * 0.033, np.full(50, 0.033)]
    gaps = gap_steps(steps, 0.033, factor=1.5)
    assert np.flatnonzero(gaps).tolist() == [50]
    assert samples_in_gaps(steps, gaps, 0.033) == 10
    # ANY-maze's rule: over 4 steps AND over 1 s -- 0.363 s is no gap there
    assert not gap_steps(steps, 0.033, factor=4.0, min_s=1.0).any()
    assert not gap_steps(steps, np.nan, factor=1.5).any()


def test_lost_per_point_any_or_every_zone_column():
    left = np.array([1, 1, 0, 0], bool)
    right = np.array([1, 0, 1, 0], bool)
    center = np.array([0, 0, 0, 1], bool)
    masks = [("nose", left), ("nose", right), ("center", center)]
    assert lost_per_point(masks, every=False) == {"nose": 3, "center": 1}
    assert lost_per_point(masks, every=True) == {"nose": 1, "center": 1}
    assert left.tolist() == [True, True, False, False]      # inputs not modified
