"""The one clock parser (neurotox.io.clock) on the spellings each reader meets."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from neurotox.io.clock import clock_seconds


@pytest.mark.parametrize(("text", "seconds"), [
    # Gen5 kinetic tables: H:MM:SS, and M:SS.ss for some readers (Synergy Neo)
    ("0:00:00", 0.0), ("0:02:30", 150.0), ("1:00:05.5", 3605.5),
    ("2:30.00", 150.0), ("0:00.210", 0.21), ("12:01.050", 721.05), ("75:30.00", 4530.0),
    # ANY-maze time column
    ("0:00:00.25", 0.25), ("0:01:02.50", 62.5), ("01:02.50", 62.5), (" 0:00:01.00 ", 1.0),
    # EthoVision header durations, a European export's decimal comma
    ("+ 00:03:04.665", 184.665), ("+00:03:04,665", 184.665), ("00:10:00", 600.0),
    # interval headers (hh:mm:ss)
    ("00:00:00", 0.0), ("01:00:00", 3600.0),
])
def test_clocks_every_reader_meets(text, seconds):
    assert clock_seconds(text) == pytest.approx(seconds)
    assert clock_seconds(text, mm_ss=True) == pytest.approx(seconds)


@pytest.mark.parametrize(("text", "seconds"), [
    ("2:30", 150.0), ("00:00", 0.0), ("10:00", 600.0), ("90:00", 5400.0), ("1:2", 62.0)])
def test_two_parts_without_a_fraction_only_as_minutes_and_seconds(text, seconds):
    # an interval header 00:00-10:00, an ANY-maze time: elapsed mm:ss; elsewhere
    # (a Gen5 time) 2:30 could be hours and minutes
    assert clock_seconds(text) is None
    assert clock_seconds(text, mm_ss=True) == pytest.approx(seconds)


@pytest.mark.parametrize("text", [
    "", "abc", "12.5", "150", "1:2:3:4", "0:60.5x", "-0:00:01", "0:00:-1",
    "0:00:60", "0:60:00", "0:60.00", "0:75.5", "1:123:45", "0:00:01.", "soon", "nan"])
def test_not_clocks(text):
    assert clock_seconds(text) is None
    assert clock_seconds(text, mm_ss=True) is None


@given(h=st.integers(0, 99), m=st.integers(0, 59), s=st.integers(0, 59),
       cs=st.integers(0, 99))
def test_written_clock_reads_back(h, m, s, cs):
    total = h * 3600 + m * 60 + s + cs / 100
    assert clock_seconds(f"{h}:{m:02d}:{s:02d}.{cs:02d}") == pytest.approx(total)
    assert clock_seconds(f"{h * 60 + m}:{s:02d}.{cs:02d}") == pytest.approx(total)
