"""Locomotion metrics against hand-computed truth (constant-speed larvae, ramps)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from neurotox.assays.zebrafish import ZebrafishParameters, analyse
from neurotox.assays.zebrafish.metrics import (
    bin_masks,
    cycles,
    phase_windows,
    slope_per_min,
    transitions,
    trapezoid_auc,
)
from neurotox.io.zebrafish import Export, bin_track


def _track(speed: float, fps: float, seconds: float, well: str = "A01") -> pd.DataFrame:
    t = np.arange(0, seconds, 1 / fps)
    return pd.DataFrame({"plate": "P", "well": well, "animal": well, "time_s": t,
                         "x": speed * t, "y": np.zeros_like(t)})


def test_constant_speed_larva_distance_per_bin():
    binned = bin_track(_track(2.0, 25, 60), 6.0)
    # 2 mm/s for 6 s = 12 mm per bin; the first bin lacks the step into frame 0
    np.testing.assert_allclose(binned["distance"].to_numpy()[1:], 12.0, rtol=1e-9)
    np.testing.assert_allclose(binned["distance"].iloc[0], 12.0 - 2.0 / 25, rtol=1e-9)
    assert (binned["frames"] == 150).all()


@settings(max_examples=30, deadline=None)
@given(speed=st.floats(0.1, 20), fps=st.sampled_from([10.0, 25.0, 30.0]),
       bin_s=st.sampled_from([1.0, 6.0, 60.0]))
def test_total_distance_is_speed_times_time(speed, fps, bin_s):
    tr = pd.concat([_track(speed, fps, 120, "A01"), _track(speed / 2, fps, 120, "A02")])
    binned = bin_track(tr, bin_s)
    tot = binned.groupby("animal")["distance"].sum()
    dt = 1 / fps
    n = len(np.arange(0, 120, dt))
    assert tot["A01"] == pytest.approx(speed * dt * (n - 1), rel=1e-9)
    assert tot["A02"] == pytest.approx(speed / 2 * dt * (n - 1), rel=1e-9)


def test_missing_positions_and_jumps_are_not_counted():
    tr = _track(1.0, 10, 10)
    tr.loc[[20, 21], ["x", "y"]] = np.nan
    tr.loc[50:, "x"] += 100.0  # one tracking jump of 100 mm
    binned = bin_track(tr, 10.0, max_step_mm=5.0)
    # 99 steps of 0.1 mm, minus 3 touching missing samples, minus the jump
    assert binned["distance"].iloc[0] == pytest.approx(0.1 * 95)
    assert binned["missing"].iloc[0] == 2 and binned["jumps"].iloc[0] == 1


def test_a_tracking_gap_is_missing_not_a_larva_at_rest():
    # 1 mm/s at 10 fps for 60 s in 10-s bins; 25 s of frames (t 20-45 s) not exported, as
    # when a tracker drops a stretch: bins 2 and 3 hold no frame, bin 4 half of its 100
    tr = _track(1.0, 10, 60)
    tr = tr[(tr["time_s"] < 20 - 1e-9) | (tr["time_s"] > 45 - 1e-9)]
    binned = bin_track(tr, 10.0)
    assert binned["frames"].tolist() == [100] * 6          # what each bin should hold
    assert binned["missing"].tolist() == [0, 0, 100, 100, 50, 0]
    d = binned["distance"].to_numpy()
    assert np.isnan(d[2]) and np.isnan(d[3])                # no frame: no distance, not 0
    # half of bin 4 recorded: kept, its 49 steps; the 25-s step across the gap is not a step
    assert d[4] == pytest.approx(0.1 * 49, rel=1e-9)
    assert d[5] == pytest.approx(0.1 * 100, rel=1e-9)
    # the same stretch exported without coordinates ('-'): the same bins without distance
    dash = _track(1.0, 10, 60)
    dash.loc[(dash["time_s"] > 20 - 1e-9) & (dash["time_s"] < 45 - 1e-9), ["x", "y"]] = np.nan
    d2 = bin_track(dash, 10.0)
    assert d2["missing"].tolist() == [0, 0, 100, 100, 50, 0]
    assert np.isnan(d2["distance"].iloc[2]) and np.isnan(d2["distance"].iloc[3])


def test_a_track_that_ends_early_or_starts_late_is_missing_there():
    # two larvae of one 10-s recording at 10 fps: A01 lost after 4 s, A02 found at 6 s
    tr = pd.concat([_track(1.0, 10, 10, "A01"), _track(1.0, 10, 10, "A02")])
    tr = tr[((tr["well"] == "A01") & (tr["time_s"] < 4 - 1e-9))
            | ((tr["well"] == "A02") & (tr["time_s"] > 6 - 1e-9))]
    d = bin_track(tr, 2.0).pivot(index="animal", columns="bin", values="distance")
    assert d.loc["A01"].isna().tolist() == [False, False, True, True, True]
    assert d.loc["A02"].isna().tolist() == [True, True, True, False, False]
    assert d.loc["A01", 1] == pytest.approx(2.0)


def test_trapezoid_auc_and_phases():
    wins = phase_windows([("light1", True, 30.0), ("dark1", False, 30.0),
                          ("light2", True, 30.0)])
    starts = np.arange(0, 90, 6.0)
    masks = bin_masks(starts, starts + 6, wins)
    assert masks["dark1"].sum() == 5
    D = np.tile(np.arange(15, dtype=float), (2, 1))
    # trapezoid over bins 5..9 with values 5..9: 4 intervals, mean height 7
    np.testing.assert_allclose(trapezoid_auc(D, masks["dark1"]), [28.0, 28.0])
    assert [(a.name, b.name) for a, b in cycles(wins)] == [("light1", "dark1")]
    assert [(a.name, b.name) for a, b in transitions(wins, to_dark=False)] == [
        ("dark1", "light2")]


def test_habituation_slope_of_a_ramp():
    starts = np.arange(0, 600, 60.0)
    D = np.vstack([3.0 * starts / 60 + 1, np.full(10, 4.0)])
    mask = np.ones(10, bool)
    np.testing.assert_allclose(slope_per_min(D, starts, mask), [3.0, 0.0], atol=1e-12)


def _bins_export(values: dict[str, np.ndarray], bin_s: float = 6.0) -> Export:
    rows = []
    for well, v in values.items():
        b = np.arange(len(v))
        rows.append(pd.DataFrame({"plate": "P1", "well": well, "animal": well, "bin": b,
                                  "start_s": b * bin_s, "end_s": (b + 1) * bin_s,
                                  "distance": v}))
    return Export("test", "bins", pd.concat(rows, ignore_index=True), __import__(
        "pathlib").Path("test.xls"))


def test_endpoints_of_a_known_larva():
    # 2 phases of 5 bins each: light 1 mm/bin, dark 4 mm/bin, and a control larva
    v = np.r_[np.ones(5), np.full(5, 4.0)]
    ex = _bins_export({"A01": v, "A02": v * 2})
    lay = pd.DataFrame({"well": ["A01", "A02"], "concentration": [0.0, 1.0],
                        "blank": [False, False]})
    params = ZebrafishParameters(schedule=[{"name": "light1", "light": True, "duration_s": 30},
                                           {"name": "dark1", "light": False,
                                            "duration_s": 30}],
                                 transition_window_s=12.0)
    r = analyse([ex], params, study_id="S", layouts={"P1": lay})
    e = r.endpoints.set_index(["subject", "endpoint", "timepoint"])["value"]
    assert e[("P1-A01", "total_distance", "NA")] == 25.0
    assert e[("P1-A01", "distance_phase", "dark1")] == 20.0
    assert e[("P1-A01", "auc_light", "light1")] == 4.0
    assert e[("P1-A01", "auc_dark", "dark1")] == 16.0
    assert e[("P1-A01", "auc_dark_minus_light", "light1>dark1")] == 12.0
    assert e[("P1-A01", "transition_response", "light1>dark1")] == 3.0
    assert e[("P1-A01", "startle_response", "light1>dark1")] == 6.0
    assert e[("P1-A01", "mean_velocity", "dark1")] == pytest.approx(4 / 6)
    assert e[("P1-A02", "distance_per_bin", "bin009")] == 8.0
    assert not r.endpoints["excluded"].any()


def test_coarser_reported_bins():
    v = np.arange(10, dtype=float)
    ex = _bins_export({"A01": v})
    lay = pd.DataFrame({"well": ["A01"], "concentration": [0.0], "blank": [False]})
    params = ZebrafishParameters(endpoint_bin_s=30.0, viability_min=0, schedule=[
        {"name": "light1", "light": True, "duration_s": 60}])
    r = analyse([ex], params, layouts={"P1": lay})
    e = r.endpoints[r.endpoints["endpoint"] == "distance_per_bin"]
    assert e["value"].tolist() == [10.0, 35.0]  # 0+1+2+3+4, 5+...+9
    assert len(r.details["bins"]) == 10
    from neurotox.errors import InputError

    with pytest.raises(InputError, match="endpoint_bin_s 7 s is not a multiple of the "
                       "export's 6-s bins"):
        analyse([ex], params.model_copy(update={"endpoint_bin_s": 7.0}),
                layouts={"P1": lay})
