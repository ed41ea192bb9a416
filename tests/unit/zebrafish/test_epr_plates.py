"""EPR from MotionTab exports whose plates differ (stranger33 EPR1-EPR3).

A synthetic MotionTab: plate P1 has 100 frames, plate P2 101 (both a 50-s
recording, 2 and 2.02 frames per second), wells A01 (control) and A02 (1 uM).
Every frame holds the number of the second it belongs to at its own plate's
rate, so each one-second mean is that second's number when the rate is right:
background (seconds 21-29) 25, excitation (31-39) 35, refractory (41-48) 44.5.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from neurotox.assays.base import resolve_parameters
from neurotox.assays.zebrafish import analyse
from neurotox.assays.zebrafish.epr import interval_stats
from neurotox.errors import FormatError, InputError
from neurotox.io.zebrafish import read_export

FRAMES = {"P1": 100, "P2": 101}


def _motiontab(tmp_path, wells=("A01", "A02"), blank_plate_row=None, frames=None, rates=None):
    lines = ["Plate ID\tChemical ID\tDATE\tframes_num\t" + "\t".join(wells)]
    frames = frames or FRAMES
    for plate, n in frames.items():
        rate = (rates or {}).get(plate, n / 50)
        for f in range(1, n + 1):
            second = int(np.floor((f - 1) / rate)) + 1
            lines.append(f"{plate}\tX\t2019-05-10\t{f}\t" + "\t".join([str(second)] * len(wells)))
    if blank_plate_row is not None:
        lines[blank_plate_row] = "\t" + lines[blank_plate_row].split("\t", 1)[1]
    p = tmp_path / "MotionTab.xls"
    p.write_text("\n".join(lines) + "\n")
    return p


def _plate_map(wells=("A01", "A02")):
    rows = [{"plate": p, "well": w, "concentration": float(i), "calls": "", "dead": False,
             "malformed": False, "discard": False} for p in FRAMES for i, w in enumerate(wells)]
    return pd.DataFrame(rows)


def _run(path, plate_map, **over):
    _, params = resolve_parameters("zebrafish-epr", {"epr_scale": 1, **over})
    return analyse([read_export(path)], params, plate_map=plate_map)


def test_each_plate_has_its_own_frame_rate(tmp_path):
    r = _run(_motiontab(tmp_path), _plate_map())
    e = r.endpoints.set_index(["subject", "endpoint"])["value"]
    for plate in FRAMES:
        assert e[(f"{plate}-A01", "epr_background")] == 25.0
        assert e[(f"{plate}-A02", "epr_excitation")] == 35.0
        assert e[(f"{plate}-A01", "epr_refractory")] == 44.5
    assert ("EPR frames per second, per plate frames / epr_duration_s 50 s: P1 2 (100 frames), "
            "P2 2.02 (101 frames)") in r.notes
    stats = r.details["epr_stats"].set_index(["interval", "dose"])
    assert stats.loc[("R", 0.0), "mean"] == 44.5 and stats.loc[("R", 0.0), "n"] == 2 * 8


def test_plates_of_different_lengths_need_the_frame_rate(tmp_path):
    # P2 recorded 60 s at the same 2 frames per second (or P1 cut short: cannot be told)
    p = _motiontab(tmp_path, frames={"P1": 100, "P2": 120}, rates={"P2": 2})
    with pytest.raises(InputError, match=re.escape(
            "MotionTab.xls: the EPR plates differ in length (P1: 100 frames, P2: 120 frames): "
            "frames / epr_duration_s 50 s would give each plate another frame rate")):
        _run(p, _plate_map())
    r = _run(p, _plate_map(), frame_rate=2)
    e = r.endpoints.set_index(["subject", "endpoint"])["value"]
    assert e[("P1-A01", "epr_excitation")] == e[("P2-A01", "epr_excitation")] == 35.0
    assert any(n.startswith("warning: the EPR plates differ in length (P1: 100 frames, "
                            "P2: 120 frames); at frame_rate 2") for n in r.notes)
    # a plate cut short at 25 s: its larvae lack half of the seconds
    r = _run(_motiontab(tmp_path, frames={"P1": 100, "P2": 50}, rates={"P2": 2}), _plate_map(),
             frame_rate=2)
    reasons = r.details["larvae"].set_index("subject")["exclusion_reason"]
    assert reasons["P2-A01"] == "tracking error (50% of samples missing)"
    assert reasons["P1-A01"] == ""


def test_blank_plate_id_is_refused_naming_the_line(tmp_path):
    with pytest.raises(FormatError, match=re.escape(
            "line 3, column 'Plate ID': expected a plate ID in every row, found an empty "
            "cell (1 row(s))")):
        read_export(_motiontab(tmp_path, blank_plate_row=2))


def test_plate_map_larva_without_a_well_column_is_recorded(tmp_path):
    r = _run(_motiontab(tmp_path, wells=("A01",)), _plate_map())
    larvae = r.details["larvae"].set_index("subject")
    assert larvae.loc["P1-A02", "exclusion_reason"] == ("no data in the export (the plate "
                                                        "map lists it)")
    assert larvae.loc["P1-A01", "exclusion_reason"] == ""
    e = r.endpoints
    assert e.loc[e["subject"] == "P2-A02", "excluded"].all()
    assert any(n.startswith("warning: 2 larva(e) of the plate map have no data in the "
                            "MotionTab (no well column): P1-A02, P2-A02") for n in r.notes)



@pytest.mark.parametrize("extra", ["A13", "I01"])
def test_motiontab_well_column_not_in_the_plate_map_is_a_warning(tmp_path, extra):
    """stranger52 M7: an extra well column was ignored without a note."""
    r = _run(_motiontab(tmp_path, wells=("A01", "A02", extra)), _plate_map())
    assert sorted(r.details["larvae"]["subject"]) == ["P1-A01", "P1-A02", "P2-A01", "P2-A02"]
    assert (f"warning: 2 exported well(s) are not in the plate map: P1-{extra}, P2-{extra}; "
            "not analysed (no concentration)") in "\n".join(r.notes)

def test_larva_seconds_without_a_value_are_left_out_and_counted():
    seconds = pd.DataFrame({"dose": [0.0, 0.0, 0.0, 1.0, 1.0], "second": [21, 22, 23, 21, 22],
                            "activity": [1.0, 2.0, np.nan, np.nan, np.nan]})
    s = interval_stats(seconds, {"background": (21, 29)}).set_index("dose")
    assert s.loc[0.0, "mean"] == 1.5 and s.loc[0.0, "n"] == 2 and s.loc[0.0, "n_missing"] == 1
    assert s.loc[0.0, "note"] == "1 larva-second(s) without a value left out"
    assert np.isnan(s.loc[1.0, "mean"]) and s.loc[1.0, "n_missing"] == 2
    assert s.loc[1.0, "note"] == "no larva-second with a value in this group"
