"""Kinetic read times written as clocks: Gen5's H:MM:SS and its M:SS.ss form."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from neurotox.errors import FormatError
from neurotox.io.neurochem.kinetic import rates, read_kinetic

DATA = Path(__file__).resolve().parents[2] / "data" / "neurochem"

# the spellings themselves: tests/unit/core/test_clock.py (neurotox.io.clock)


def _to_mmss(match: re.Match) -> str:
    h, m, s = (int(g) for g in match.groups())
    return f"{h * 60 + m}:{s:02d}.00"


def test_gen5_kinetic_table_in_mm_ss_gives_the_same_rates(tmp_path):
    text = (DATA / "gen5_kinetic_small.txt").read_text(encoding="utf-8")
    mmss = re.sub(r"(?m)^(\d+):(\d{2}):(\d{2})(?=\t)", _to_mmss, text)
    assert "0:30.00\t" in mmss and "\n0:00:30\t" not in mmss
    p = tmp_path / "kinetic_mmss.txt"
    p.write_text(mmss, encoding="utf-8")
    a, b = read_kinetic(DATA / "gen5_kinetic_small.txt"), read_kinetic(p)
    assert np.array_equal(a.reads["time_s"], b.reads["time_s"])
    assert sorted(set(b.reads["time_s"]))[:3] == [0.0, 30.0, 60.0]
    ra, rb = rates(a.reads), rates(b.reads)
    assert np.allclose(ra["rate_per_min"], rb["rate_per_min"]) and ra["rate_per_min"].notna().all()


def test_a_time_that_is_no_clock_still_ends_the_table_clearly(tmp_path):
    text = (DATA / "gen5_kinetic_small.txt").read_text(encoding="utf-8")
    bad = re.sub(r"(?m)^0:\d{2}:\d{2}(?=\t)", "2:30", text)
    p = tmp_path / "kinetic_bad.txt"
    p.write_text(bad, encoding="utf-8")
    with pytest.raises(FormatError, match="expected a kinetic table"):
        read_kinetic(p)
