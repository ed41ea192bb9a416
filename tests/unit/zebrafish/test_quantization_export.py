"""ZebraLab quantization exports and exports longer than the schedule (stranger40 Z3, 2b).

A quantization export is written by the tests as ZebraLab writes one: ``datatype
quantization``, freezing / mid / burst classes (``frect fredur midct middur burct
burdur``), no distance column. 2 larvae x 4 periods of 60 s with known values.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from neurotox.assays.zebrafish import ZebrafishParameters, analyse
from neurotox.assays.zebrafish.larvae import NO_DISTANCE
from neurotox.io.zebrafish import read_export

HEAD = ("location\tanimal\tan\tdatatype\tstart\tend\tfrect\tfredur\tmidct\tmiddur\tburct\t"
        "burdur\temptyct\temptydur")
SCHEDULE = [{"name": "light1", "light": True, "duration_s": 120},
            {"name": "dark1", "light": False, "duration_s": 120}]
LAYOUT = pd.DataFrame({"well": ["A01", "A02"], "concentration": [0.0, 1.0], "blank": False})


def _quant(tmp_path, skip: tuple[str, int] | None = None):
    """Larva k (1, 2) in period b: fredur 50-b-k s, middur 6+b s, burdur 2k s; counts."""
    lines = [HEAD]
    for k, well in ((1, "A01"), (2, "A02")):
        for b in range(4):
            if skip == (well, b):
                continue
            lines.append("\t".join(map(str, [
                f"c{k:02d}", f"z{k:03d}", 1, "quantization", 60 * b, 60 * b + 60,
                3, 50 - b - k, 4 + b, 6 + b, k, 2 * k, 0, 0])))
    p = tmp_path / "quant.xls"
    p.write_text("\n".join(lines) + "\n")
    return p


def _values(result, endpoint, timepoint):
    e = result.endpoints
    rows = e[(e["endpoint"] == endpoint) & (e["timepoint"] == timepoint)]
    return rows.set_index("subject")[["value", "excluded", "exclusion_reason"]]


def test_quantization_export_gives_activity_endpoints(tmp_path):
    r = analyse([read_export(_quant(tmp_path))], ZebrafishParameters(
        schedule=SCHEDULE, bin_s=60, endpoint_bin_s=60, sarl_statistics=True),
        layouts={"quant": LAYOUT})
    assert set(r.details["larvae"]["exclusion_reason"]) == {""}
    act = _values(r, "activity_duration", "light1")            # middur + burdur, bins 0-1
    assert act.loc["quant-A01", "value"] == (6 + 2) + (7 + 2)
    assert act.loc["quant-A02", "value"] == (6 + 4) + (7 + 4)
    dark = _values(r, "inactivity_duration", "dark1")          # fredur, bins 2-3
    assert dark.loc["quant-A02", "value"] == (50 - 2 - 2) + (50 - 3 - 2)
    bouts = _values(r, "movement_bouts", "dark1")              # midct + burct
    assert bouts.loc["quant-A01", "value"] == (6 + 1) + (7 + 1)
    assert not act["excluded"].any()
    # what needs a distance is excluded with that reason, not as a tracking error
    for endpoint, tp in (("total_distance", "NA"), ("distance_phase", "light1"),
                         ("mean_velocity", "dark1"), ("distance_per_bin", "bin000")):
        rows = _values(r, endpoint, tp)
        assert rows["excluded"].all() and rows["value"].isna().all()
        assert set(rows["exclusion_reason"]) == {NO_DISTANCE}
    assert NO_DISTANCE == ("needs distance; the export has none (quantization mode: activity "
                           "durations and counts only)")
    note = next(n for n in r.notes if n.startswith("the export has no distance columns"))
    assert "computed from its activity columns: activity_duration, inactivity_duration, " \
           "movement_bouts" in note
    assert not any("missing for every larva" in n for n in r.notes)
    assert "sarl_lpr_stats" not in r.details and "sarl_lpr_stats not written: SARL's " \
        "statistics read distances, and the export has none" in r.notes
    assert list(r.details["larvae"]["missing_bins"]) == [0, 0]


def test_quantization_export_missing_bin_is_still_missing(tmp_path):
    ex = read_export(_quant(tmp_path, skip=("A02", 1)))
    r = analyse([ex], ZebrafishParameters(schedule=SCHEDULE, bin_s=60, endpoint_bin_s=60,
                                          max_missing_fraction=0.5), layouts={"quant": LAYOUT})
    act = _values(r, "activity_duration", "light1")
    assert act.loc["quant-A01", "value"] == 17.0
    assert act.loc["quant-A02", "exclusion_reason"] == "missing value in the export"
    assert _values(r, "activity_duration", "dark1").loc["quant-A02", "value"] == \
        (8 + 4) + (9 + 4)
    assert list(r.details["larvae"]["missing_bins"]) == [0, 1]
    r = analyse([ex], ZebrafishParameters(schedule=SCHEDULE, bin_s=60, endpoint_bin_s=60),
                layouts={"quant": LAYOUT})   # 1 of 4 bins > max_missing_fraction 0.2
    larvae = r.details["larvae"].set_index("subject")["exclusion_reason"]
    assert larvae.to_dict() == {"quant-A01": "",
                                "quant-A02": "tracking error (25% of samples missing)"}


def _tracking(tmp_path, n_bins: int):
    lines = ["location\tanimal\tstart\tend\tsmldist\tlardist"]
    lines += [f"c{k:02d}\t{w}\t{60 * b}\t{60 * b + 60}\t{b + k}\t1"
              for k, w in ((1, "A01"), (2, "A02")) for b in range(n_bins)]
    p = tmp_path / "long.xls"
    p.write_text("\n".join(lines) + "\n")
    return p


@pytest.mark.parametrize("n_bins, warned", [(4, False), (7, False), (8, True), (40, True)])
def test_export_longer_than_the_schedule_by_a_phase_is_warned(tmp_path, n_bins, warned):
    # 240-s schedule of two 120-s phases, 60-s bins: up to a phase + a bin past its end
    # is tolerated (trailing periods); a 40-min recording is another schedule
    r = analyse([read_export(_tracking(tmp_path, n_bins))], ZebrafishParameters(
        schedule=SCHEDULE, bin_s=60, endpoint_bin_s=60, transition_window_s=60),
        layouts={"long": LAYOUT})
    warnings = [n for n in r.notes if n.startswith("warning:")]
    assert bool(warnings) == warned
    if warned and n_bins == 40:
        assert warnings == [
            "warning: long.xls: the export runs to 2400 s, 2160 s past the end of the "
            "protocol's light schedule (240 s: light1 120 s, dark1 120 s); the phase "
            "endpoints cover only the schedule's 240 s. A recording that followed another "
            "schedule looks like this: give its protocol with --protocol (or --set "
            "schedule=...)"]
    light = _values(r, "distance_phase", "light1")
    assert light.loc["long-A01", "value"] == (0 + 1 + 1) + (1 + 1 + 1)
    assert np.isfinite(light["value"]).all()
